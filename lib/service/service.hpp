// service/service.hpp — the product without its transport (clangd's ClangdServer is the model):
// the segment registry, and each segment's build lifecycle and freshness.
//
// Build lifecycle: a segment's first index build starts when it opens (ensure_built from the open
// hook). ensure_built(seg, then) starts the build if none ran yet (or the last one failed), joins
// it when one is running, and runs `then` once the build finished (ready or failed): never twice,
// never while the build lock is held. Builds run on ServiceOptions::build_executor (the daemon's
// build pool), and `then` is posted back to the executor; requests that do not wait for the
// build answer from the last published index meanwhile (SegmentIndex::sync does not wait for a
// build). Progress goes to the segment's progress listeners. The file watcher starts *before*
// the build walks the tree, and the build ends with a sync, so changes made while it ran are
// applied, not lost (issue 16 item 5); if the watcher cannot start, the reason is kept in the segment's
// BuildInfo::watcher_error (shown by `ctx.status`) and emitted as a `segment.watcher_failed`
// telemetry event. sync(seg) applies the watcher's queued changes to the index, the symbol table
// and Pyright's open documents: call it before answering anything about files ("sync before
// answer"). With the daemon's event loop (ServiceOptions::when_readable) changes are also applied
// in the background soon after they happen (watch_changes), so a later request finds nothing
// left to apply.
//
// The service has no Asio and no sockets: work runs on the Executor it is given (the daemon's
// worker pool, or an inline/manual executor in tests). Pyright is attached by the caller's open
// hook (ServiceOptions::on_open) because the LSP client needs the daemon's io_context; the
// background apply waits through the caller's when_readable / schedule_after for the same reason.
//
// Typed methods (one per RPC method that works on a segment): each takes the segment, the
// method's params struct (proto/) and a Callback<Result> (service/answer.hpp) that is called
// exactly once, with the result struct or the wire error, and optionally what the request's
// telemetry event records. Methods that read the index sync first; those that may wait for the
// first build (ctx.search/ctx.get with wait=true, ctx.build, ctx.validate) park the callback
// until the build finished and answer from the executor thread that finished it; the lsp.*
// position methods ask Pyright when it is READY (or becomes READY within wait_ready_ms) and
// otherwise answer from the AST fallback (backend "ast", `fallback_reason`). Parameter errors
// are answered at once (INVALID_PARAMS naming the field).
//
// Thread rules: every member function is thread-safe. `then` callbacks of ensure_built run on the
// executor thread that finished the build, or inline when the segment is already built.
// Failure behaviour: open/close as in service/registry.hpp; a failed build leaves BuildState
// kFailed with its message (the next ensure_built tries again); rebuild() returns the error.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "service/answer.hpp"
#include "service/executor.hpp"
#include "service/registry.hpp"
#include "service/segment.hpp"
#include "trifecta/proto/protocol.hpp"

namespace trifecta::core::service {

struct ServiceOptions {
  std::size_t max_segments = SegmentRegistry::kDefaultMaxSegments;
  // Per-segment services to attach when a segment opens (Pyright), before its build starts. Runs
  // outside the registry lock, on the opening thread.
  std::function<void(Segment&)> on_open;
  bool build_on_open = true;  // start the first index build as soon as a segment opens
  // Starts the segment's file watcher after a successful build; empty =
  // SegmentIndex::start_watching (a seam for tests: a real watcher fails only when inotify
  // instances run out).
  std::function<Result<void>(Segment&)> start_watcher;
  bool lsp_enabled = true;  // reported by lsp.status (false: trifectad --no-lsp)
  // Where index builds, rebuilds and validate's repairs run; null = the executor. The daemon
  // gives builds their own bounded pool, so a long build never holds a request worker.
  Executor* build_executor = nullptr;
  // The caller's event loop, for applying a segment's changes without waiting for a request (the
  // background apply, Service::watch_changes). Both set, or the changes are applied only by the
  // syncs of requests (tests, one-shot tools). when_readable(fd, fn) takes `fd` over and, once
  // it is readable, closes it and calls `fn` (any thread); it returns a function (callable from
  // any thread, any number of times) that cancels the wait and closes `fd`. schedule_after(d, fn)
  // calls `fn` after `d` (any thread).
  std::function<std::function<void()>(int fd, std::function<void()> fn)> when_readable;
  std::function<void(std::chrono::milliseconds, std::function<void()>)> schedule_after;
};

using SegmentPtr = std::shared_ptr<Segment>;

class Service {
 public:
  Service(telemetry::Sink& sink, Executor& executor, ServiceOptions options = {});
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  SegmentRegistry& segments() { return registry_; }
  Executor& executor() { return executor_; }
  // Where builds run (ServiceOptions::build_executor, else the executor).
  Executor& build_executor() {
    return options_.build_executor ? *options_.build_executor : executor_;
  }

  Result<std::shared_ptr<Segment>> open(const std::string& path) { return registry_.open(path); }
  Result<CloseResult> close(std::string_view path_or_id) { return registry_.close(path_or_id); }

  // Start (or join) the segment's index build; `then` (may be empty) runs once it finished.
  void ensure_built(Segment& seg, std::function<void()> then);
  // `wait`: run `fn` once built (ensure_built); otherwise run it now on whatever is indexed.
  void when_ready(Segment& seg, bool wait, std::function<void()> fn);
  // Apply the watcher's queued changes everywhere (index, symbol table, Pyright documents).
  // Returns the bytes read to do so. When something was applied, the index is settled again
  // (SegmentIndex::settle) and its pack_state published to telemetry on the build executor:
  // posted at once, or — when `settle_due` is given — left to the caller, which is told so
  // (`*settle_due` set true) and calls settle_later once its reply is sent. ctx.search and
  // ctx.get do that: on two cores the settle (0.1-0.5 s of one core) would otherwise run beside
  // the search or the reading that the request's edit is applied for.
  std::uint64_t sync(Segment& seg, bool* settle_due = nullptr);
  // Post SegmentIndex::settle, then publish_pack_state, for `seg` to the build executor (keeps
  // the segment alive).
  void settle_later(Segment& seg);
  // The background apply (with ServiceOptions::when_readable and schedule_after; else a no-op):
  // from a segment's first successful build on, when its watcher has changes queued, they are
  // applied kWatchQuiet later (an editor's save, a checkout: a burst of events) on the build
  // executor, as a request's sync would apply them, and the index settled after — so a request
  // that comes later finds them applied and the index steady (docs/benchmarks.md, "Changes
  // applied in the background"). The next round waits at least kWatchGap (a file rewritten
  // without pause is applied about twice a second, not at every write). A request's own sync
  // still applies whatever is queued when it comes. Stops when the segment closes (its pending
  // wait is cancelled) or at stop_watching_changes(). Called by run_build; idempotent.
  void watch_changes(const SegmentPtr& seg);
  static constexpr std::chrono::milliseconds kWatchQuiet{10};
  static constexpr std::chrono::milliseconds kWatchGap{500};
  // No background apply from now on (the daemon's shutdown): pending waits are cancelled, a
  // round under way ends without waiting again.
  void stop_watching_changes();
  // Post SegmentIndex::keep_parse for the first kKeepParseFiles distinct `paths` to the build
  // executor (keeps the segment alive): the files a ctx.get showed are often the next ones edited,
  // and a kept parse makes their first edit parse incrementally.
  static constexpr std::size_t kKeepParseFiles = 4;
  void keep_parses_later(Segment& seg, std::vector<std::string> paths);
  // Rebuild the index from scratch now, on the calling thread (progress to the listeners), and
  // record the report as the segment's last build.
  Result<index::BuildReport> rebuild(Segment& seg);

  // ---- typed methods (service_ast.cpp, service_ctx.cpp, service_lsp.cpp) ----
  // ast.skeleton / ast.symbols: `path` is a file of the segment (relative, or absolute inside
  // it: PATH_ESCAPE otherwise) or a sym:// URI (selector errors keep their names and data).
  void skeleton(SegmentPtr seg, proto::AstSkeletonParams p, Callback<proto::AstSkeletonResult> done);
  void symbols(SegmentPtr seg, proto::AstSymbolsParams p, Callback<proto::AstSymbolsResult> done);
  // sym.resolve: the selector; failures carry tried / suggestions / candidates.
  void resolve(SegmentPtr seg, proto::SymResolveParams p, Callback<proto::SymResolveResult> done);
  // sym.search (service_nav.cpp): definitions by name, ranked (lang/python/symbol_search.hpp),
  // from the skeleton index after a sync; when Pyright is READY its workspace/symbol matches
  // that the index lacks follow (source "lsp", backend "lsp+ast"; `done` then runs on the
  // executor). INVALID_PARAMS for a bad mode, kind or limit.
  void search_symbols(SegmentPtr seg, proto::SymSearchParams p, Callback<proto::SymSearchResult> done);
  // lsp.calls (service_nav.cpp): the call hierarchy at a position: Pyright's callHierarchy when
  // READY (backend "lsp"; `done` runs on the executor), the AST's (lang/python/calls.hpp,
  // backend "ast" with fallback_reason) when Pyright is not READY, fails or finds no calls.
  // INVALID_PARAMS for a bad direction or depth; position errors as the other lsp.* methods.
  void calls(SegmentPtr seg, proto::LspCallsParams p, Callback<proto::LspCallsResult> done);

  // ctx.build: waits for the segment's build (starting it if needed; `rebuild` rebuilds from
  // scratch afterwards, on the executor). `progress` (may be empty) gets (done, total) meanwhile.
  void build(SegmentPtr seg, proto::CtxBuildParams p, Segment::ProgressFn progress,
             Callback<proto::CtxBuildResult> done);
  // ctx.search / ctx.get: wait=true answers after the first build, wait=false at once from what
  // is indexed; both sync first and record their own telemetry.
  void search(SegmentPtr seg, proto::CtxSearchParams p, Callback<proto::CtxSearchResult> done);
  void get(SegmentPtr seg, proto::CtxGetParams p, Callback<proto::CtxGetResult> done);
  // ctx.status: answers at once (syncs when the index is ready).
  void index_status(SegmentPtr seg, proto::CtxStatusParams p, Callback<proto::CtxStatusResult> done);
  // ctx.validate: after the build, sync, then compare the index with the disk. Drift found is
  // repaired: the files named are re-checked on the build executor (`repair: "scheduled"`).
  void validate(SegmentPtr seg, proto::CtxValidateParams p, Callback<proto::CtxValidateResult> done);
  // ctx.map: after the build (wait=true) or at once, sync, then the ranked skeleton overview of
  // `path` (relative, or absolute inside the segment: PATH_ESCAPE otherwise) within the budget
  // (disclosure/repo_map.hpp).
  void map(SegmentPtr seg, proto::CtxMapParams p, Callback<proto::CtxMapResult> done);

  // lsp.status, and the position methods (Pyright or the AST fallback).
  void lsp_status(SegmentPtr seg, proto::LspStatusParams p, Callback<proto::LspStatusResult> done);
  // lsp.restart: kill the segment's server (if running) and spawn it now, the backoff reset;
  // answers with the status as of the request (UNAVAILABLE error when there is no client).
  void lsp_restart(SegmentPtr seg, proto::LspRestartParams p, Callback<proto::LspRestartResult> done);
  void definition(SegmentPtr seg, proto::LspDefinitionParams p, Callback<proto::LspDefinitionResult> done);
  void hover(SegmentPtr seg, proto::LspHoverParams p, Callback<proto::LspHoverResult> done);
  void references(SegmentPtr seg, proto::LspReferencesParams p, Callback<proto::LspReferencesResult> done);
  void diagnostics(SegmentPtr seg, proto::LspDiagnosticsParams p, Callback<proto::LspDiagnosticsResult> done);

  // The per-segment part of `status`.
  static proto::SegmentStatus segment_status(const Segment& seg);

  // The total memory cap on the language servers (issue 16 item 9): when the open segments'
  // running servers together hold more than `cap_bytes` resident (from /proc), the least recently
  // used are shed (lsp::Client::shed: → COLD, the next request warms them again) until the total
  // fits; the most recently used one always stays. Returns one line per server shed (for the
  // log). Thread-safe; reads /proc, so call it on a worker.
  std::vector<std::string> enforce_lsp_memory(std::uint64_t cap_bytes);

 private:
  void run_build(const std::shared_ptr<Segment>& seg);
  void arm_watch(const SegmentPtr& seg);
  void background_sync(const SegmentPtr& seg);
  std::atomic<bool> watch_stopped_{false};
  template <class R>
  void position(SegmentPtr seg, const proto::LspPositionParams& p, const char* method, Callback<R> done);

  Executor& executor_;
  ServiceOptions options_;
  SegmentRegistry registry_;
};

}  // namespace trifecta::core::service
