// Service's ctx.* methods: the context index (lib/index, lib/disclosure, lib/workspace). Every
// answer carries `index {state, generation, error?, watcher_error?}`.
#include "disclosure/disclosure.hpp"
#include "disclosure/repo_map.hpp"
#include "index/segment_index.hpp"
#include "selector/resolver.hpp"
#include "service/proto_convert.hpp"
#include "service/service.hpp"
#include "util/hash.hpp"
#include "util/paths.hpp"

namespace trifecta::core::service {

using proto::ErrorCode;
using proto::RpcError;
namespace json = boost::json;
namespace idx = index;
namespace dis = disclosure;
namespace ws = workspace;

namespace {

// The settle a request's sync left due (Service::sync's `settle_due`), posted when the handler
// returns — after its reply, on every way out.
class SettleAfterReply {
 public:
  SettleAfterReply(Service& service, Segment& seg) : service_(service), seg_(seg) {}
  ~SettleAfterReply() {
    if (due) service_.settle_later(seg_);
  }
  SettleAfterReply(const SettleAfterReply&) = delete;
  SettleAfterReply& operator=(const SettleAfterReply&) = delete;
  bool due = false;

 private:
  Service& service_;
  Segment& seg_;
};

proto::IndexState index_state(const Segment& seg) {
  const BuildInfo b = seg.build_info();
  proto::IndexState o;
  o.state = std::string(build_state_name(b.state));
  o.generation = seg.index ? static_cast<std::int64_t>(seg.index->generation()) : 0;
  if (!b.error.empty()) o.error = b.error;
  if (!b.watcher_error.empty()) o.watcher_error = b.watcher_error;
  return o;
}

// An unknown chunk id `path#name` of an indexed file — an id from a search before the code
// changed, or a name mistyped — and up to three of that file's chunk ids nearest by name: within
// edit distance max(2, ⌈len/3⌉), or with the same last dotted part (`Decoder.decode` for
// `decode`); nearest first, then by id. Empty when the file is not indexed.
std::vector<std::string> near_chunk_ids(const idx::SegmentIndex& index, std::string_view id) {
  const std::size_t hash = id.find('#');
  if (hash == std::string_view::npos) return {};
  const std::string_view want = id.substr(hash + 1);
  const auto last = [](std::string_view n) {
    const std::size_t dot = n.rfind('.');
    return dot == std::string_view::npos ? n : n.substr(dot + 1);
  };
  const std::size_t limit = std::max<std::size_t>(2, (want.size() + 2) / 3);
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& c : index.chunks_of(id.substr(0, hash))) {
    const std::size_t at = c.id.find('#');
    if (at == std::string::npos) continue;
    const std::string_view name = std::string_view(c.id).substr(at + 1);
    std::size_t d = selector::edit_distance(name, want);
    if (last(name) == last(want)) d = std::min<std::size_t>(d, 1);
    if (d <= limit) scored.emplace_back(d, c.id);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (std::size_t k = 0; k < scored.size() && k < 3; ++k) out.push_back(scored[k].second);
  return out;
}

// A target error has no list of its own: near names go at the end of its message.
void name_near(std::string& message, const std::vector<std::string>& near) {
  for (std::size_t k = 0; k < near.size() && k < 3; ++k)
    message += (k == 0 ? "; did you mean " : ", ") + near[k];
}

}  // namespace

void Service::build(SegmentPtr seg, proto::CtxBuildParams p, Segment::ProgressFn progress,
                    Callback<proto::CtxBuildResult> done) {
  const std::uint64_t listener = seg->add_progress_listener(std::move(progress));
  auto finish = [this, seg, done = std::move(done), listener, do_rebuild = p.rebuild] {
    seg->remove_progress_listener(listener);
    if (do_rebuild) {
      auto r = rebuild(*seg);
      if (!r) return done(r.error());
    }
    const BuildInfo b = seg->build_info();
    if (b.state == BuildState::kFailed) {
      return done(RpcError{ErrorCode::kIoError, "index build failed: " + b.error, {}});
    }
    proto::CtxBuildResult out;
    if (b.last_build) out.build = to_proto(*b.last_build);
    out.status = to_proto(seg->index->status());
    out.index = index_state(*seg);
    done(std::move(out));
  };
  // A rebuild runs on the executor, never inside the waiter list of the build that just ended.
  if (p.rebuild)
    ensure_built(*seg, [this, finish = std::move(finish)] { build_executor().post(finish); });
  else
    ensure_built(*seg, std::move(finish));
}

void Service::search(SegmentPtr seg, proto::CtxSearchParams p,
                     Callback<proto::CtxSearchResult> done) {
  idx::SearchOptions o;
  o.query = p.query;
  o.path_glob = p.path;
  o.explain = p.explain;
  if (p.limit < 1 || p.limit > 1000)
    return done(RpcError{ErrorCode::kInvalidParams, "params.limit: expected 1..1000", {}});
  o.limit = static_cast<std::size_t>(p.limit);
  if (!p.kind.empty()) {
    idx::ChunkKind k;
    if (!idx::parse_chunk_kind(p.kind, k)) {
      return done(RpcError{
          ErrorCode::kInvalidParams, "params.kind: expected \"code\", \"doc\" or \"other\"", {}});
    }
    o.kind = k;
  }
  when_ready(*seg, p.wait, [this, seg, done = std::move(done), o] {
    SettleAfterReply settle(*this, *seg);
    const std::uint64_t bytes = sync(*seg, &settle.due);
    auto r = seg->index->search(o);
    if (!r) return done(r.error());
    json::array ids;
    for (const auto& h : r->hits) ids.emplace_back(h.chunk.id);
    proto::CtxSearchResult out = to_proto(*r);
    out.query = o.query;
    out.index = index_state(*seg);
    json::object filters;
    if (!o.path_glob.empty()) filters["path"] = o.path_glob;
    if (o.kind) filters["kind"] = idx::chunk_kind_name(*o.kind);
    json::object result{{"hits", r->hits.size()}, {"returned_ids", std::move(ids)}};
    // The typo correction's words, as the reply names them: misspellings as users make them.
    if (out.corrected) result["corrected"] = json::value_from(*out.corrected);
    RequestTelemetry t{json::object{{"query", o.query.substr(0, 200)},
                                    {"query_sha256", sha256_hex(o.query)},
                                    {"limit", o.limit},
                                    {"filters", std::move(filters)}},
                       std::move(result),
                       json::object{{"bytes_read", bytes}, {"generation", r->generation}}};
    done(Outcome<proto::CtxSearchResult>(std::move(out), std::move(t)));
    idx::InvertedIndex::tidy_scratch();  // the search's tables, cleared once its reply is sent
  });
}

void Service::get(SegmentPtr seg, proto::CtxGetParams p, Callback<proto::CtxGetResult> done) {
  dis::GetRequest req;
  req.query = p.query;
  req.cursor = p.cursor;
  if (!dis::parse_mode(p.mode, req.mode)) {
    return done(RpcError{ErrorCode::kInvalidParams,
                         "params.mode: expected \"skeleton\", \"excerpt\" or \"raw\"",
                         {}});
  }
  if (p.budget < 0 || p.max_chunks < 0) {
    return done(RpcError{
        ErrorCode::kInvalidParams, "params.budget and params.max_chunks must not be negative", {}});
  }
  // The target cap holds before any work: ids and URIs count alike, resolvable or not (a URI that
  // does not resolve costs a resolution too).
  if (p.ids.size() + p.uris.size() > dis::kMaxTargets) {
    return done(RpcError{ErrorCode::kInvalidArgument,
                         "too many targets (" + std::to_string(p.ids.size()) + " ids + " +
                             std::to_string(p.uris.size()) + " uris > " +
                             std::to_string(dis::kMaxTargets) + ")",
                         {{"limit", dis::kMaxTargets}}});
  }
  req.budget = static_cast<std::size_t>(p.budget);
  req.max_chunks = static_cast<std::size_t>(p.max_chunks);
  when_ready(
      *seg, p.wait,
      [this, seg, done = std::move(done), req, ids = std::move(p.ids),
       uris = std::move(p.uris)]() mutable {
        SettleAfterReply settle(*this, *seg);
        const std::uint64_t synced = sync(*seg, &settle.due);
        // Targets that fail before disclosure (a path leaving the segment, a URI that does not
        // resolve), listed after disclosure's own errors.
        std::vector<proto::TargetError> early_errors;
        for (auto& id : ids) {
          // A pytest node id (`tests/test_x.py::TestA::test_b`) is a symbol: the resolver's.
          if (selector::parse_node_id(id)) {
            uris.push_back(std::move(id));
            continue;
          }
          // An id without '#' may be a file (the whole file: disclosure.hpp), given relative to
          // the segment or absolute inside it, as other methods take paths.
          if (id.find('#') == std::string::npos) {
            auto abs = resolve_in_root(seg->root, id);
            if (abs) {
              req.targets.push_back(dis::Target::chunk(relpath(seg->root, *abs)));
              continue;
            }
            if (abs.error().code == Errc::kPathEscape) {
              early_errors.push_back(proto::TargetError{
                  id, std::string(errc_name(abs.error().code)), abs.error().message});
              continue;
            }
          }
          req.targets.push_back(dis::Target::chunk(id));
        }
        if (!uris.empty()) {
          selector::FsSegmentSource source(seg->root, seg->index->skeletons());
          selector::Resolver resolver(source, seg->telemetry, seg->resolver_options());
          for (const auto& u : uris) {
            auto r = resolver.resolve(u);
            if (!r) {
              std::string message = r.error().message;
              name_near(message, r.error().suggestions);
              early_errors.push_back(
                  proto::TargetError{u, std::string(selector::selector_errc_name(r.error().code)),
                                     std::move(message)});
              continue;
            }
            const auto& m = r->match;
            // The disclosed text starts at the first decorator (the match's line is the
            // `def`/`class` line since protocol 1.3).
            const int start = m.decorated_line > 0 ? std::min(m.decorated_line, m.line) : m.line;
            // Labelled as resolved: a node id's path segment-relative, a URI as given.
            req.targets.push_back(dis::Target::range(m.file, std::max(1, start),
                                                     std::max(m.line, m.end_line), r->uri.raw));
          }
        }
        if (req.targets.empty() && early_errors.empty()) {
          return done(RpcError{ErrorCode::kInvalidParams,
                               "params.ids or params.uris: at least one target is required",
                               {}});
        }
        ws::ReadStats stats;
        dis::GetReply r;
        if (!req.targets.empty()) {
          auto got = dis::get(*seg->index, req, &stats);
          if (!got) return done(got.error());
          r = std::move(*got);
        } else {
          // No target resolved (every one a URI error): the request's own checks still hold, and
          // the reply states the budget and index generation dis::get would have, not zeros.
          if (auto checked = dis::check_request(req); !checked) return done(checked.error());
          r.mode = req.mode;
          r.budget = std::min(req.budget, dis::kMaxBudget);
          r.generation = seg->index->generation();
        }
        proto::CtxGetResult out = to_proto(r);
        for (auto& e : out.errors)
          if (e.code == errc_name(Errc::kNotFound))
            name_near(e.message, near_chunk_ids(*seg->index, e.target));
        for (auto& e : early_errors) out.errors.push_back(std::move(e));
        out.index = index_state(*seg);
        json::array targets;
        for (const auto& t : req.targets) targets.emplace_back(t.id.empty() ? t.label : t.id);
        RequestTelemetry t{json::object{{"ids", std::move(targets)},
                                        {"mode", dis::mode_name(req.mode)},
                                        {"budget", req.budget}},
                           json::object{{"chunks", r.chunks.size()},
                                        {"used", r.used},
                                        {"stop_reason", dis::stop_reason_name(r.stop_reason)}},
                           json::object{{"bytes_read", r.bytes_read + synced},
                                        {"disclosure_mode", dis::mode_name(req.mode)}}};
        done(Outcome<proto::CtxGetResult>(std::move(out), std::move(t)));
        // After the reply: the files shown are often the next ones edited (keep_parses_later).
        std::vector<std::string> shown;
        for (const auto& c : r.chunks) shown.push_back(c.path);
        keep_parses_later(*seg, std::move(shown));
      });
}

void Service::index_status(SegmentPtr seg, proto::CtxStatusParams,
                           Callback<proto::CtxStatusResult> done) {
  if (seg->build_state_snapshot() == BuildState::kReady) (void)sync(*seg);
  proto::CtxStatusResult out;
  out.status = to_proto(seg->index->status());
  out.index = index_state(*seg);
  const BuildInfo b = seg->build_info();
  if (b.last_build) out.build = to_proto(*b.last_build);
  done(std::move(out));
}

void Service::validate(SegmentPtr seg, proto::CtxValidateParams,
                       Callback<proto::CtxValidateResult> done) {
  ensure_built(*seg, [this, seg, done = std::move(done)] {
    (void)sync(*seg);
    ws::ReadStats stats;
    auto r = seg->index->validate(&stats);
    if (!r) return done(r.error());
    proto::CtxValidateResult out = to_proto(*r);
    out.index = index_state(*seg);
    if (!r->ok()) {
      // Drift (a change the watcher never reported, or no watcher): re-check exactly the files
      // named, in the background; the next validate shows the result.
      std::vector<std::string> paths;
      for (const auto* v : {&r->stale, &r->missing, &r->added})
        paths.insert(paths.end(), v->begin(), v->end());
      build_executor().post([seg, paths = std::move(paths)] {
        const idx::ApplyReport applied = seg->index->apply_changes(paths);
        seg->apply_changes(applied);
        (void)seg->index->settle();  // already on the build executor
      });
      out.repair = "scheduled";
    }
    RequestTelemetry t{
        {}, json::object{{"ok", r->ok()}}, json::object{{"bytes_read", stats.total_bytes()}}};
    done(Outcome<proto::CtxValidateResult>(std::move(out), std::move(t)));
  });
}

void Service::map(SegmentPtr seg, proto::CtxMapParams p, Callback<proto::CtxMapResult> done) {
  if (p.budget < static_cast<std::int64_t>(dis::kMinMapBudget) ||
      p.budget > static_cast<std::int64_t>(dis::kMaxMapBudget)) {
    return done(RpcError{ErrorCode::kInvalidParams,
                         "params.budget: expected " + std::to_string(dis::kMinMapBudget) + ".." +
                             std::to_string(dis::kMaxMapBudget),
                         {}});
  }
  std::string rel;
  if (!p.path.empty()) {
    auto abs = resolve_in_root(seg->root, p.path);
    if (!abs) return done(to_rpc_error(abs.error()));
    rel = relpath(seg->root, *abs);
  }
  when_ready(*seg, p.wait, [this, seg, done = std::move(done), rel, budget = p.budget] {
    const std::uint64_t synced = sync(*seg);
    dis::MapRequest req;
    req.path = rel;
    req.budget = static_cast<std::size_t>(budget);
    auto r = dis::repo_map(*seg->index, req);
    if (!r) return done(r.error());
    proto::CtxMapResult out = to_proto(*r);
    out.generation = static_cast<std::int64_t>(seg->index->generation());
    out.index = index_state(*seg);
    RequestTelemetry t{json::object{{"path", rel}, {"budget", budget}},
                       json::object{{"files", r->files.size()},
                                    {"candidates", r->candidates},
                                    {"used", r->used},
                                    {"truncated", r->truncated}},
                       json::object{{"bytes_read", synced}}};
    done(Outcome<proto::CtxMapResult>(std::move(out), std::move(t)));
  });
}

proto::SegmentStatus Service::segment_status(const Segment& s) {
  proto::SegmentStatus st;
  st.segment_id = s.id;
  st.root = s.root.string();
  st.state = std::string(build_state_name(s.build_state_snapshot()));
  st.lsp_state = s.lsp ? std::string(lsp::state_name(s.lsp->state())) : std::string("UNAVAILABLE");
  st.opened_s_ago = std::chrono::duration<double>(SteadyClock::now() - s.opened_at).count();
  st.requests = s.requests.load();
  st.memory_bytes = static_cast<std::int64_t>(s.memory_bytes());
  return st;
}

}  // namespace trifecta::core::service
