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
// The build lifecycle (ensure_built, when_ready, sync) is lib/service's (service/service.hpp).
//
// Thread rules: handlers run on worker threads; SegmentIndex is thread-safe; a Segment's build
// fields are read through Segment::build_info().
#pragma once

#include <functional>

#include "dispatcher.hpp"
#include "service/service.hpp"

namespace trifecta::daemon {

struct CtxDeps {
  core::service::Service& service;  // build lifecycle, sync, the worker pool (its executor)
};

void bind_ctx_handlers(Dispatcher& d, CtxDeps deps);

}  // namespace trifecta::daemon
