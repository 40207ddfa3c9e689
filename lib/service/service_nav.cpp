// sym.search and lsp.calls (issue 13): definitions by name from the segment's skeleton index
// (lang/python/symbol_search.hpp) and the call hierarchy from the AST (lang/python/calls.hpp).
// Both are always available: they need no Pyright.
#include <algorithm>

#include "index/segment_index.hpp"
#include "lang/python/calls.hpp"
#include "lang/python/modules.hpp"
#include "lang/python/symbol_search.hpp"
#include "selector/resolver.hpp"
#include "selector/sym_uri.hpp"
#include "service/position.hpp"
#include "service/proto_convert.hpp"
#include "service/service.hpp"

namespace trifecta::core::service {

namespace nav = core::navigation;
using proto::ErrorCode;
using proto::RpcError;

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
  nav::SymbolSearchOptions o;
  o.mode = *mode;
  o.limit = static_cast<std::size_t>(p.limit);
  o.kinds = p.kinds;
  const auto r = nav::search_symbols(seg->symbol_index(), p.query, o);
  proto::SymSearchResult out;
  out.query = p.query;
  out.mode = p.mode;
  out.total = static_cast<std::int64_t>(r.total);
  out.truncated = r.total > r.hits.size();
  out.backend = "ast";
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
  done(std::move(out));
}

namespace {

proto::CallItem to_proto(const nav::CallItem& i, const std::vector<std::string>& roots) {
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
    o.uri = selector::make_sym_uri(lang::python::module_of(i.file, roots), i.qualname);
  return o;
}

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
  const PosRequest& r = std::get<PosRequest>(req);
  selector::FsSegmentSource source(seg->root, seg->index->skeletons());
  nav::CallsOptions o;
  o.incoming = p.direction != "outgoing";
  o.outgoing = p.direction != "incoming";
  o.depth = static_cast<int>(p.depth);
  // References read only the files whose index tokens include the name (as lsp.references).
  o.nav.candidate_files = [&seg](std::string_view name) {
    return seg->index->files_with_word(name);
  };
  auto got = nav::call_hierarchy(source, seg->symbol_index(), r.rel, r.text,
                                 {r.pos.line, r.pos.column}, o);
  if (!got) return done(to_rpc_error(got.error()));
  proto::LspCallsResult out;
  out.backend = "ast";
  out.lsp_state =
      seg->lsp ? std::string(lsp::state_name(seg->lsp->state())) : std::string("UNAVAILABLE");
  out.generation = seg->index ? static_cast<std::int64_t>(seg->index->generation()) : 0;
  out.file = r.rel;
  out.line = r.pos.line;
  out.column = r.pos.column;
  if (got->root) out.root = to_proto(*got->root, o.nav.source_roots);
  for (auto* side : {&got->incoming, &got->outgoing}) {
    auto& dst = side == &got->incoming ? out.incoming : out.outgoing;
    for (const auto& e : *side) {
      proto::CallEdge pe;
      pe.item = to_proto(e.item, o.nav.source_roots);
      pe.sites = to_proto(e.sites);
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

}  // namespace trifecta::core::service
