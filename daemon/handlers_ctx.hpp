// daemon/handlers_ctx.hpp — the context index over the socket: ctx.build, ctx.search, ctx.get,
// ctx.status, ctx.validate (lib/index, lib/disclosure, lib/workspace).
//
// A segment's index is built when the segment opens (in the worker pool, in parallel with the
// Pyright warm-up); requests that need it wait for the first build without occupying a worker
// (their Reply is parked and completed when the build finishes), unless they pass `wait: false`,
// in which case they are answered at once from whatever is indexed. Before answering, every
// request applies the watcher's queued changes (`sync`), so answers reflect every change made on
// disk before the request. Every reply carries `index {state, generation, files}`.
//
// Thread rules: handlers run on worker threads; SegmentIndex is thread-safe; the build-state
// fields of Segment are guarded by Segment::build_mu.
#pragma once

#include <functional>

#include "dispatcher.hpp"

namespace trifecta::daemon {

struct CtxDeps {
  std::function<void(std::function<void()>)> post_work;  // run on the worker pool
};

// Start (or join) the segment's first index build; `then` runs once it is built (on the thread
// that finishes the build, or inline when it is already built).
void ensure_built(Segment& seg, const CtxDeps& deps, std::function<void()> then);

void bind_ctx_handlers(Dispatcher& d, CtxDeps deps);

// Apply the watcher's queued changes to the index, the AST fallback's symbol table and Pyright's
// open documents. Returns the bytes read to do so. Call before answering any request about files.
std::uint64_t sync_segment(Segment& seg);

}  // namespace trifecta::daemon
