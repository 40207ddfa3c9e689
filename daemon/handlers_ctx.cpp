#include "handlers_ctx.hpp"

#include "disclosure/disclosure.hpp"
#include "index/segment_index.hpp"
#include "selector/resolver.hpp"
#include "proto_convert.hpp"
#include "util/clock.hpp"
#include "util/hash.hpp"

namespace trifecta::daemon {

using proto::ErrorCode;
using proto::RpcError;
namespace idx = core::index;
namespace dis = core::disclosure;
namespace ws = core::workspace;

namespace {

proto::IndexState index_state(const Segment& seg) {
  const core::service::BuildInfo b = seg.build_info();
  proto::IndexState o;
  o.state = std::string(build_state_name(b.state));
  o.generation = seg.index ? static_cast<std::int64_t>(seg.index->generation()) : 0;
  if (!b.error.empty()) o.error = b.error;
  if (!b.watcher_error.empty()) o.watcher_error = b.watcher_error;
  return o;
}

// ctx.progress notifications for one connection (nothing when it cannot be notified).
Segment::ProgressFn progress_notifier(const Peer& peer, const std::string& segment_id) {
  if (!peer.notify) return {};
  return [notify = peer.notify, segment_id](std::size_t done, std::size_t total) {
    notify(proto::encode_request(nullptr, "ctx.progress",
                                 json::object{{"segment_id", segment_id}, {"done", done}, {"total", total}}));
  };
}

}  // namespace

void bind_ctx_handlers(Dispatcher& d, CtxDeps deps) {
  auto shared = std::make_shared<CtxDeps>(std::move(deps));

  d.bind_typed(proto::spec::kCtxBuild, [shared](Context& ctx, proto::CtxBuildParams p, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    const bool rebuild = p.rebuild;
    auto seg = ctx.segment;
    const std::uint64_t listener = seg->add_progress_listener(progress_notifier(ctx.peer, seg->id));
    auto held = std::make_shared<Reply>(std::move(reply));
    auto finish = [seg, held, listener, rebuild, shared] {
      seg->remove_progress_listener(listener);
      if (rebuild) {
        auto r = shared->service.rebuild(*seg);
        if (!r) return held->fail(r.error());
      }
      const core::service::BuildInfo b = seg->build_info();
      const std::optional<idx::BuildReport>& last = b.last_build;
      if (b.state == BuildState::kFailed) {
        return held->fail(RpcError{ErrorCode::kIoError, "index build failed: " + b.error, {}});
      }
      proto::CtxBuildResult out;
      if (last) out.build = to_proto(*last);
      out.status = to_proto(seg->index->status());
      out.index = index_state(*seg);
      held->ok(json::value_from(out));
    };
    if (rebuild) shared->service.ensure_built(*seg, [shared, finish] { shared->service.executor().post(finish); });
    else shared->service.ensure_built(*seg, finish);
  });

  d.bind_typed(proto::spec::kCtxSearch, [shared](Context& ctx, proto::CtxSearchParams p, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    idx::SearchOptions o;
    o.query = p.query;
    o.path_glob = p.path;
    o.explain = p.explain;
    const std::int64_t limit = p.limit;
    const std::string& kind = p.kind;
    const bool wait = p.wait;
    if (limit < 1 || limit > 1000) return reply.fail(RpcError{ErrorCode::kInvalidParams, "params.limit: expected 1..1000", {}});
    o.limit = static_cast<std::size_t>(limit);
    if (!kind.empty()) {
      idx::ChunkKind k;
      if (!idx::parse_chunk_kind(kind, k)) {
        return reply.fail(RpcError{ErrorCode::kInvalidParams, "params.kind: expected \"code\", \"doc\" or \"other\"", {}});
      }
      o.kind = k;
    }
    auto seg = ctx.segment;
    auto held = std::make_shared<Reply>(std::move(reply));
    shared->service.when_ready(*seg, wait, [shared, seg, held, o] {
      const std::uint64_t bytes = shared->service.sync(*seg);
      auto r = seg->index->search(o);
      if (!r) return held->fail(r.error());
      json::array ids;
      for (const auto& h : r->hits) ids.emplace_back(h.chunk.id);
      proto::CtxSearchResult out = to_proto(*r);
      out.query = o.query;
      out.index = index_state(*seg);
      json::object filters;
      if (!o.path_glob.empty()) filters["path"] = o.path_glob;
      if (o.kind) filters["kind"] = idx::chunk_kind_name(*o.kind);
      held->telemetry(json::object{{"query", o.query.substr(0, 200)},
                                   {"query_sha256", core::sha256_hex(o.query)},
                                   {"limit", o.limit},
                                   {"filters", std::move(filters)}},
                      json::object{{"hits", r->hits.size()}, {"returned_ids", std::move(ids)}},
                      json::object{{"bytes_read", bytes}, {"generation", r->generation}});
      held->ok(json::value_from(out));
    });
  });

  d.bind_typed(proto::spec::kCtxGet, [shared](Context& ctx, proto::CtxGetParams p, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    std::vector<std::string> ids = std::move(p.ids), uris = std::move(p.uris);
    const std::int64_t budget = p.budget, max_chunks = p.max_chunks;
    dis::GetRequest req;
    req.query = p.query;
    req.cursor = p.cursor;
    const bool wait = p.wait;
    if (!dis::parse_mode(p.mode, req.mode)) {
      return reply.fail(RpcError{ErrorCode::kInvalidParams, "params.mode: expected \"skeleton\", \"excerpt\" or \"raw\"", {}});
    }
    if (budget < 0 || max_chunks < 0) {
      return reply.fail(RpcError{ErrorCode::kInvalidParams, "params.budget and params.max_chunks must not be negative", {}});
    }
    req.budget = static_cast<std::size_t>(budget);
    req.max_chunks = static_cast<std::size_t>(max_chunks);
    auto seg = ctx.segment;
    auto held = std::make_shared<Reply>(std::move(reply));
    shared->service.when_ready(*seg, wait, [shared, seg, held, req, ids, uris]() mutable {
      std::uint64_t synced = shared->service.sync(*seg);
      std::vector<proto::TargetError> uri_errors;
      for (const auto& id : ids) req.targets.push_back(dis::Target::chunk(id));
      if (!uris.empty()) {
        core::selector::FsSegmentSource source(seg->root, seg->index->skeletons());
        core::selector::Resolver resolver(source, seg->telemetry);
        for (const auto& u : uris) {
          auto r = resolver.resolve(u);
          if (!r) {
            uri_errors.push_back(proto::TargetError{
                u, std::string(core::selector::selector_errc_name(r.error().code)), r.error().message});
            continue;
          }
          const auto& m = r->match;
          req.targets.push_back(dis::Target::range(m.file, std::max(1, m.line), std::max(m.line, m.end_line), u));
        }
      }
      if (req.targets.empty() && uri_errors.empty()) {
        return held->fail(RpcError{ErrorCode::kInvalidParams, "params.ids or params.uris: at least one target is required", {}});
      }
      ws::ReadStats stats;
      dis::GetReply r;
      r.mode = req.mode;
      if (!req.targets.empty()) {
        auto got = dis::get(*seg->index, req, &stats);
        if (!got) return held->fail(got.error());
        r = std::move(*got);
      }
      proto::CtxGetResult out = to_proto(r);
      for (auto& e : uri_errors) out.errors.push_back(std::move(e));
      out.index = index_state(*seg);
      json::array targets;
      for (const auto& t : req.targets) targets.emplace_back(t.id.empty() ? t.label : t.id);
      held->telemetry(json::object{{"ids", std::move(targets)}, {"mode", dis::mode_name(req.mode)}, {"budget", req.budget}},
                      json::object{{"chunks", r.chunks.size()}, {"used", r.used},
                                   {"stop_reason", dis::stop_reason_name(r.stop_reason)}},
                      json::object{{"bytes_read", r.bytes_read + synced}, {"disclosure_mode", dis::mode_name(req.mode)}});
      held->ok(json::value_from(out));
    });
  });

  d.bind_typed(proto::spec::kCtxStatus, [shared](Context& ctx, proto::CtxStatusParams, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    auto& seg = *ctx.segment;
    if (seg.build_state_snapshot() == BuildState::kReady) (void)shared->service.sync(seg);
    proto::CtxStatusResult out;
    out.status = to_proto(seg.index->status());
    out.index = index_state(seg);
    const core::service::BuildInfo b = seg.build_info();
    if (b.last_build) out.build = to_proto(*b.last_build);
    reply.ok(json::value_from(out));
  });

  d.bind_typed(proto::spec::kCtxValidate, [shared](Context& ctx, proto::CtxValidateParams, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    auto seg = ctx.segment;
    auto held = std::make_shared<Reply>(std::move(reply));
    shared->service.ensure_built(*seg, [shared, seg, held] {
      (void)shared->service.sync(*seg);
      ws::ReadStats stats;
      auto r = seg->index->validate(&stats);
      if (!r) return held->fail(r.error());
      held->telemetry({}, json::object{{"ok", r->ok()}}, json::object{{"bytes_read", stats.total_bytes()}});
      proto::CtxValidateResult out = to_proto(*r);
      out.index = index_state(*seg);
      held->ok(json::value_from(out));
    });
  });
}

}  // namespace trifecta::daemon
