// service/service.hpp — the product without its transport (clangd's ClangdServer is the model):
// the segment registry, and each segment's build lifecycle and freshness.
//
// Build lifecycle: a segment's first index build starts when it opens (ensure_built from the open
// hook). ensure_built(seg, then) starts the build if none ran yet (or the last one failed), joins
// it when one is running, and runs `then` once the build finished (ready or failed): never twice,
// never while the build lock is held. Progress goes to the segment's progress listeners. After a
// successful build the file watcher starts; if it cannot, the reason is kept in the segment's
// BuildInfo::watcher_error (shown by `ctx.status`) and emitted as a `segment.watcher_failed`
// telemetry event. sync(seg) applies the watcher's queued changes to the index, the symbol table
// and Pyright's open documents: call it before answering anything about files ("sync before
// answer").
//
// The service has no Asio and no sockets: work runs on the Executor it is given (the daemon's
// worker pool, or an inline/manual executor in tests). Pyright is attached by the caller's open
// hook (ServiceOptions::on_open) because the LSP client needs the daemon's io_context.
//
// Thread rules: every member function is thread-safe. `then` callbacks of ensure_built run on the
// executor thread that finished the build, or inline when the segment is already built.
// Failure behaviour: open/close as in service/registry.hpp; a failed build leaves BuildState
// kFailed with its message (the next ensure_built tries again); rebuild() returns the error.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "service/executor.hpp"
#include "service/registry.hpp"
#include "service/segment.hpp"

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
};

class Service {
 public:
  Service(telemetry::Sink& sink, Executor& executor, ServiceOptions options = {});
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  SegmentRegistry& segments() { return registry_; }
  Executor& executor() { return executor_; }

  Result<std::shared_ptr<Segment>> open(const std::string& path) { return registry_.open(path); }
  Result<CloseResult> close(std::string_view path_or_id) { return registry_.close(path_or_id); }

  // Start (or join) the segment's index build; `then` (may be empty) runs once it finished.
  void ensure_built(Segment& seg, std::function<void()> then);
  // `wait`: run `fn` once built (ensure_built); otherwise run it now on whatever is indexed.
  void when_ready(Segment& seg, bool wait, std::function<void()> fn);
  // Apply the watcher's queued changes everywhere (index, symbol table, Pyright documents).
  // Returns the bytes read to do so.
  std::uint64_t sync(Segment& seg);
  // Rebuild the index from scratch now, on the calling thread (progress to the listeners), and
  // record the report as the segment's last build.
  Result<index::BuildReport> rebuild(Segment& seg);

 private:
  void run_build(const std::shared_ptr<Segment>& seg);

  Executor& executor_;
  ServiceOptions options_;
  SegmentRegistry registry_;
};

}  // namespace trifecta::core::service
