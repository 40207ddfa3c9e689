// sym.search and lsp.calls (issue 13). sym.search: definitions by name from the segment's
// skeleton index (lang/python/symbol_search.hpp), merged with Pyright's workspace/symbol when it
// is READY. lsp.calls: Pyright's callHierarchy when READY (edges labelled lsp), else — or when it
// fails or finds nothing — the AST's (lang/python/calls.hpp, labelled ast, fallback_reason says
// why). Both answer without Pyright.
//
// Thread rules: lsp::Client callbacks arrive on its I/O thread; the answers that use them are
// built on the executor.
#include <algorithm>
#include <boost/json.hpp>
#include <deque>
#include <set>

#include "index/segment_index.hpp"
#include "lang/python/calls.hpp"
#include "lang/python/modules.hpp"
#include "lang/python/symbol_search.hpp"
#include "lsp/client.hpp"
#include "selector/resolver.hpp"
#include "selector/sym_uri.hpp"
#include "service/position.hpp"
#include "service/proto_convert.hpp"
#include "service/service.hpp"

namespace trifecta::core::service {

namespace nav = core::navigation;
namespace json = boost::json;
using proto::ErrorCode;
using proto::RpcError;

namespace {

// LSP SymbolKind → the skeleton's kinds ("" for kinds the skeleton index has no name for).
std::string skeleton_kind(int k) {
  switch (k) {
    case 5:
      return "class";
    case 6:
      return "method";
    case 12:
      return "function";
    case 14:
      return "constant";
    case 7:
    case 8:
      return "attribute";
    default:
      return "variable";
  }
}

void merge_workspace_symbols(Segment& seg, nav::SearchMode mode, const proto::SymSearchParams& p,
                             const std::vector<lsp::WorkspaceSymbol>& syms,
                             proto::SymSearchResult& out) {
  std::set<std::pair<std::string, std::int64_t>> have;
  for (const auto& m : out.matches) have.emplace(m.file, m.line);
  const auto layout = seg.resolver_options();  // module names as sym.resolve reads them
  struct Extra {
    proto::SymSearchMatch m;
    int score;
  };
  std::vector<Extra> extra;
  for (const auto& s : syms) {
    if (s.location.external) continue;
    if (!have.emplace(s.location.path, s.location.line).second) continue;
    // Pyright's own matching is looser than the query's mode: apply the same rule.
    const auto match = nav::match_name(p.query, s.name, mode);
    if (!match) continue;
    const std::string kind = skeleton_kind(s.kind);
    if (!p.kinds.empty() && std::find(p.kinds.begin(), p.kinds.end(), kind) == p.kinds.end())
      continue;
    proto::SymSearchMatch m;
    m.file = s.location.path;
    m.module = lang::python::module_of(m.file, layout.source_roots, layout.package_prefix);
    m.kind = kind;
    m.name = s.name;
    m.qualname = s.container.empty() ? s.name : s.container + "." + s.name;
    m.line = s.location.line;
    m.end_line = s.location.end_line;
    m.column = s.location.column;
    m.end_column = s.location.end_column;
    m.match = std::string(nav::name_match_kind_name(match->kind));
    m.score = match->score;
    m.source = "lsp";
    extra.push_back({std::move(m), match->score});
  }
  (void)seg;
  out.backends.push_back("lsp");
  if (extra.empty()) return;
  std::stable_sort(extra.begin(), extra.end(),
                   [](const Extra& a, const Extra& b) { return a.score > b.score; });
  out.backend = "lsp+ast";
  out.total += static_cast<std::int64_t>(extra.size());
  for (auto& e : extra) {
    if (out.matches.size() >= static_cast<std::size_t>(p.limit)) break;
    out.matches.push_back(std::move(e.m));
  }
  out.truncated = out.total > static_cast<std::int64_t>(out.matches.size());
}

}  // namespace

void Service::search_symbols(SegmentPtr seg, proto::SymSearchParams p,
                             Callback<proto::SymSearchResult> done) {
  if (p.limit < 1 || p.limit > 1000)
    return done(RpcError{ErrorCode::kInvalidParams, "params.limit: expected 1..1000", {}});
  const auto mode = nav::parse_search_mode(p.mode);
  if (!mode)
    return done(RpcError{
        ErrorCode::kInvalidParams, "params.mode: expected \"exact\", \"prefix\" or \"fuzzy\"", {}});
  for (const auto& k : p.kinds) {
    static constexpr std::string_view kKinds[] = {"class", "function", "method", "constant",
                                                  "attribute"};
    if (std::find(std::begin(kKinds), std::end(kKinds), k) == std::end(kKinds))
      return done(RpcError{
          ErrorCode::kInvalidParams,
          "params.kinds: \"" + k + "\" is not one of class, function, method, constant, attribute",
          {}});
  }
  (void)sync(*seg);  // the table follows every change made so far
  // The event names the arguments in effect (defaults included), as events.schema.json requires.
  json::array kinds;
  for (const auto& k : p.kinds) kinds.emplace_back(k);
  const RequestTelemetry t{json::object{{"query", p.query.substr(0, 200)},
                                        {"mode", p.mode},
                                        {"kinds", std::move(kinds)},
                                        {"limit", p.limit}},
                           {},
                           {}};
  done = [t, done = std::move(done)](Outcome<proto::SymSearchResult> r) {
    if (!r.ok()) return done(std::move(r));
    done(Outcome<proto::SymSearchResult>(std::move(r.value()), t));
  };
  nav::SymbolSearchOptions o;
  o.mode = *mode;
  o.limit = static_cast<std::size_t>(p.limit);
  o.kinds = p.kinds;
  const auto layout = seg->resolver_options();  // module names as sym.resolve reads them
  o.source_roots = layout.source_roots;
  o.package_prefix = layout.package_prefix;
  const auto r = nav::search_symbols(seg->symbol_index(), p.query, o);
  proto::SymSearchResult out;
  out.query = p.query;
  out.mode = p.mode;
  out.total = static_cast<std::int64_t>(r.total);
  out.truncated = r.total > r.hits.size();
  out.backend = "ast";
  out.backends = {"ast"};
  out.lsp_state =
      seg->lsp ? std::string(lsp::state_name(seg->lsp->state())) : std::string("UNAVAILABLE");
  out.generation = seg->index ? static_cast<std::int64_t>(seg->index->generation()) : 0;
  for (const auto& h : r.hits) {
    proto::SymSearchMatch m;
    const auto& d = h.definition;
    m.file = d.file;
    m.module = h.module;
    m.kind = d.kind;
    m.qualname = d.qualname;
    m.line = d.line;
    m.end_line = d.end_line;
    m.signature = d.signature;
    m.docstring = d.docstring;
    m.name = d.name;
    m.uri = h.uri;
    m.column = d.name_column;
    m.end_column = d.name_end_column;
    m.match = std::string(nav::name_match_kind_name(h.match.kind));
    m.score = h.match.score;
    m.source = "ast";
    out.matches.push_back(std::move(m));
  }
  if (!seg->lsp || seg->lsp->state() != lsp::State::kReady) {
    out.lsp_reason =
        seg->lsp ? "lsp_not_ready: " + *out.lsp_state : "lsp_unavailable: " + seg->lsp_unavailable;
    return done(std::move(out));
  }
  // Pyright's workspace/symbol, merged on the executor: a hit the skeleton index also has (same
  // file and line) is kept once, in the skeleton's rank; Pyright-only hits that match the query
  // by the same rules follow (source "lsp").
  seg->lsp->workspace_symbol(p.query,
                             [seg, ex = &executor_, mode = *mode, p, out = std::move(out),
                              done](Result<std::vector<lsp::WorkspaceSymbol>> got) mutable {
                               ex->post([seg, mode, p = std::move(p), out = std::move(out),
                                         done = std::move(done), got = std::move(got)]() mutable {
                                 if (!got) {
                                   out.lsp_reason = "lsp_error: " + got.error().message;
                                   return done(std::move(out));
                                 }
                                 merge_workspace_symbols(*seg, mode, p, *got, out);
                                 done(std::move(out));
                               });
                             });
}

namespace {

proto::CallItem to_proto(const nav::CallItem& i, const nav::NavOptions& layout) {
  proto::CallItem o;
  o.name = i.name;
  o.qualname = i.qualname;
  o.kind = i.kind;
  o.file = i.file;
  o.line = i.line;
  o.end_line = i.end_line;
  o.column = i.column;
  o.end_column = i.end_column;
  o.signature = i.signature;
  if (i.qualname.find("<locals>") == std::string::npos)
    o.uri = selector::make_sym_uri(
        lang::python::module_of(i.file, layout.source_roots, layout.package_prefix), i.qualname);
  return o;
}

}  // namespace

namespace {

// The AST's call hierarchy (lang/python/calls.hpp), labelled `ast`; `reason` says why Pyright's
// was not used (lsp_unavailable, lsp_not_ready, lsp_error, lsp_empty).
void calls_from_ast(Segment& seg, const PosRequest& r, const proto::LspCallsParams& p,
                    const std::string& reason, const Callback<proto::LspCallsResult>& done) {
  selector::FsSegmentSource source(seg.root, seg.index->skeletons());
  nav::CallsOptions o;
  o.incoming = p.direction != "outgoing";
  o.outgoing = p.direction != "incoming";
  o.depth = static_cast<int>(p.depth);
  // The segment's layout (a package root's own imports, declared source roots), and only the
  // files whose index tokens include the name (as lsp.references).
  o.nav = nav_options(seg);
  auto got =
      nav::call_hierarchy(source, seg.symbol_index(), r.rel, r.text, {r.pos.line, r.pos.column}, o);
  if (!got) return done(to_rpc_error(got.error()));
  proto::LspCallsResult out;
  out.backend = "ast";
  out.lsp_state =
      seg.lsp ? std::string(lsp::state_name(seg.lsp->state())) : std::string("UNAVAILABLE");
  out.fallback_reason = reason;
  out.generation = seg.index ? static_cast<std::int64_t>(seg.index->generation()) : 0;
  out.file = r.rel;
  out.line = r.pos.line;
  out.column = r.pos.column;
  if (got->root) out.root = to_proto(*got->root, o.nav);
  for (auto* side : {&got->incoming, &got->outgoing}) {
    auto& dst = side == &got->incoming ? out.incoming : out.outgoing;
    for (const auto& e : *side) {
      proto::CallEdge pe;
      pe.item = to_proto(e.item, o.nav);
      pe.sites = service::to_proto(e.sites);
      pe.depth = e.depth;
      pe.parent = e.parent;
      pe.rule = e.rule;
      pe.source = "ast";
      dst.push_back(std::move(pe));
    }
  }
  out.unresolved = static_cast<std::int64_t>(got->unresolved);
  out.truncated = got->truncated;
  if (!got->reason.empty()) out.reason = got->reason;
  done(std::move(out));
}

std::string item_key(const lsp::CallHierarchyItem& i) {
  return i.selection.path + ":" + std::to_string(i.selection.line);
}

// A Pyright item as a CallItem: the skeleton's definition at the same file and line gives its
// qualname, kind and signature (Pyright names only the function).
proto::CallItem lsp_item_to_proto(const lsp::CallHierarchyItem& i, const nav::SymbolIndex& index,
                                  const nav::NavOptions& layout) {
  proto::CallItem o;
  o.name = i.name;
  o.qualname = i.name;
  o.kind = i.kind == 5 ? "class" : i.kind == 6 ? "method" : i.kind == 2 ? "module" : "function";
  o.file = i.selection.path;
  o.line = i.selection.line;
  o.end_line = i.range.end_line;
  o.column = i.selection.column;
  o.end_column = i.selection.end_column;
  if (i.selection.external) {
    o.external = true;
    return o;
  }
  const std::string module =
      lang::python::module_of(o.file, layout.source_roots, layout.package_prefix);
  if (o.kind == "module") {
    o.name = module;
    o.qualname.clear();
    o.line = 1;
  } else {
    for (const auto& d : index.definitions_named(i.name)) {
      if (d.file != o.file || d.line != o.line) continue;
      o.qualname = d.qualname;
      o.kind = d.kind;
      o.signature = d.signature;
      o.end_line = d.end_line;
      break;
    }
  }
  if (o.qualname.find("<locals>") == std::string::npos)
    o.uri = selector::make_sym_uri(module, o.qualname);
  return o;
}

// Pyright's call hierarchy, breadth first, one request at a time (as the AST path: depth ≤ 5,
// each function expanded once, ≤ 200 edges). Requests complete on the client's I/O thread; the
// answer (and any fallback to the AST) is built on the executor.
struct LspCallsRun : std::enable_shared_from_this<LspCallsRun> {
  static constexpr std::size_t kMaxEdges = 200;
  struct Job {
    lsp::CallHierarchyItem item;
    bool incoming = true;
    int depth = 1;  // of the edges it yields
    bool has_parent = false;
  };
  struct Edge {
    lsp::CallHierarchyCall call;
    int depth = 1;
    std::optional<lsp::CallHierarchyItem> parent;
  };
  SegmentPtr seg;
  Executor* ex = nullptr;
  PosRequest req;
  proto::LspCallsParams params;
  Callback<proto::LspCallsResult> done;
  lsp::CallHierarchyItem root;
  std::deque<Job> queue;
  std::set<std::string> seen[2];  // [incoming], [outgoing]
  std::vector<Edge> edges[2];
  std::size_t edge_count = 0;
  bool truncated = false;

  void fallback(std::string reason) {
    ex->post([self = shared_from_this(), reason = std::move(reason)] {
      calls_from_ast(*self->seg, self->req, self->params, reason, self->done);
    });
  }

  void begin() {
    seg->lsp->prepare_call_hierarchy(
        req.abs, req.pos,
        [self = shared_from_this()](Result<std::vector<lsp::CallHierarchyItem>> items) {
          if (!items) return self->fallback("lsp_error: " + items.error().message);
          self->start(std::move(*items));
        });
  }

  void start(std::vector<lsp::CallHierarchyItem> items) {
    if (items.empty()) return fallback("lsp_empty: no call hierarchy item at the position");
    root = std::move(items.front());
    const int d = 1;
    for (bool incoming : {true, false}) {
      if (incoming ? params.direction == "outgoing" : params.direction == "incoming") continue;
      seen[incoming ? 0 : 1].insert(item_key(root));
      queue.push_back(Job{root, incoming, d, false});
    }
    next();
  }

  void next() {
    if (queue.empty()) {
      if (edge_count == 0) return fallback("lsp_empty: Pyright found no calls");
      return ex->post([self = shared_from_this()] { self->finish(); });
    }
    Job job = std::move(queue.front());
    queue.pop_front();
    auto got = [self = shared_from_this(),
                job](Result<std::vector<lsp::CallHierarchyCall>> r) mutable {
      if (!r) return self->fallback("lsp_error: " + r.error().message);
      const int side = job.incoming ? 0 : 1;
      for (auto& c : *r) {
        if (self->edge_count >= kMaxEdges) {
          self->truncated = true;
          self->queue.clear();
          break;
        }
        ++self->edge_count;
        if (job.depth < static_cast<int>(self->params.depth) && !c.item.selection.external &&
            self->seen[side].insert(item_key(c.item)).second)
          self->queue.push_back(Job{c.item, job.incoming, job.depth + 1, true});
        Edge e{std::move(c), job.depth, std::nullopt};
        if (job.has_parent) e.parent = job.item;
        self->edges[side].push_back(std::move(e));
      }
      self->next();
    };
    if (job.incoming)
      seg->lsp->incoming_calls(job.item, std::move(got));
    else
      seg->lsp->outgoing_calls(job.item, std::move(got));
  }

  void finish() {
    const auto& index = seg->symbol_index();
    const nav::NavOptions layout = nav_options(*seg);
    proto::LspCallsResult out;
    out.backend = "lsp";
    out.lsp_state = "READY";
    out.generation = seg->index ? static_cast<std::int64_t>(seg->index->generation()) : 0;
    out.file = req.rel;
    out.line = req.pos.line;
    out.column = req.pos.column;
    out.root = lsp_item_to_proto(root, index, layout);
    for (int side : {0, 1}) {
      auto& dst = side == 0 ? out.incoming : out.outgoing;
      for (const auto& e : edges[side]) {
        proto::CallEdge pe;
        pe.item = lsp_item_to_proto(e.call.item, index, layout);
        pe.sites = service::to_proto(e.call.sites);
        for (auto& s : pe.sites) s.source = "lsp";
        pe.depth = e.depth;
        if (e.parent) {
          const auto p = lsp_item_to_proto(*e.parent, index, layout);
          pe.parent = p.file + ":" + p.qualname;
        }
        pe.rule = "callHierarchy";
        pe.source = "lsp";
        dst.push_back(std::move(pe));
      }
    }
    out.truncated = truncated;
    done(std::move(out));
  }
};

}  // namespace

void Service::calls(SegmentPtr seg, proto::LspCallsParams p, Callback<proto::LspCallsResult> done) {
  if (p.direction != "both" && p.direction != "incoming" && p.direction != "outgoing")
    return done(RpcError{ErrorCode::kInvalidParams,
                         "params.direction: expected \"incoming\", \"outgoing\" or \"both\"",
                         {}});
  if (p.depth < 1 || p.depth > 5)
    return done(RpcError{ErrorCode::kInvalidParams, "params.depth: expected 1..5", {}});
  (void)sync(*seg);
  auto req = parse_position(*seg, p, "calls", true);
  if (auto* e = std::get_if<RpcError>(&req)) return done(std::move(*e));
  PosRequest& r = std::get<PosRequest>(req);
  // The event names the arguments in effect: the segment-relative file (never the caller's
  // spelling of it), the position asked about, direction and depth (events.schema.json).
  const RequestTelemetry t{json::object{{"path", r.rel},
                                        {"uri", p.uri},
                                        {"line", r.pos.line},
                                        {"column", r.pos.column},
                                        {"direction", p.direction},
                                        {"depth", p.depth}},
                           {},
                           {}};
  done = [t, done = std::move(done)](Outcome<proto::LspCallsResult> res) {
    if (!res.ok()) return done(std::move(res));
    done(Outcome<proto::LspCallsResult>(std::move(res.value()), t));
  };
  if (!seg->lsp)
    return calls_from_ast(*seg, r, p, "lsp_unavailable: " + seg->lsp_unavailable, done);
  const lsp::State st = seg->lsp->state();
  if (st != lsp::State::kReady && p.wait_ready_ms <= 0) {
    // A server stopped for idleness warms again on its next request (this one is answered from
    // the AST).
    if (st == lsp::State::kCold)
      seg->lsp->when_ready(std::chrono::milliseconds(0), [](lsp::State) {});
    return calls_from_ast(*seg, r, p, "lsp_not_ready: " + std::string(lsp::state_name(st)), done);
  }
  auto run = std::make_shared<LspCallsRun>();
  run->seg = seg;
  run->ex = &executor_;
  run->req = std::move(r);
  run->params = std::move(p);
  run->done = std::move(done);
  if (st == lsp::State::kReady) return run->begin();
  seg->lsp->when_ready(std::chrono::milliseconds(run->params.wait_ready_ms), [run](lsp::State s) {
    if (s == lsp::State::kReady) return run->begin();
    run->fallback("lsp_not_ready: " + std::string(lsp::state_name(s)) + " after wait");
  });
}

}  // namespace trifecta::core::service
