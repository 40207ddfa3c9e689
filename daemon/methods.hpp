// daemon/methods.hpp — binds the service's typed methods (lib/service) to the wire, one line per
// method (daemon/methods.cpp).
//
// `bind(d, service, proto::spec::kX, &Service::x)` registers method X: the dispatcher parses its
// params struct (naming a bad field), the catalog row's `needs_segment` makes params.segment
// required (INVALID_PARAMS otherwise), then the service method runs with the segment, the params
// and a callback that turns its Outcome into the reply: reply.ok(value_from(result)) or
// reply.fail(error), recording the telemetry the method asked for (Reply::telemetry). The
// product logic — waiting for the build, sync before answer, Pyright or the AST fallback — is
// the service's; nothing here decides anything.
//
// Thread rules: bind before serving starts (Dispatcher::bind). The callback may run on any thread
// (a worker, the thread that finished a build, or a worker after Pyright answered); Reply is
// thread-safe to complete once.
#pragma once

#include <memory>
#include <utility>

#include "dispatcher.hpp"
#include "service/service.hpp"

namespace trifecta::daemon {

using core::service::Service;

// The callback that completes `reply` with a service method's Outcome.
template <class R>
core::service::Callback<R> answer_into(Reply reply) {
  auto held = std::make_shared<Reply>(std::move(reply));
  return [held](core::service::Outcome<R> out) {
    if (const auto& t = out.telemetry()) held->telemetry(t->args, t->result, t->x);
    if (out.ok()) {
      // The reply is encoded before ok() returns (dispatcher.hpp), so its JSON tree is built in
      // one arena: a search hit alone is a dozen keys and strings, each a malloc otherwise.
      json::monotonic_resource arena;
      held->ok(json::value_from(out.value(), json::storage_ptr(&arena)));
    } else {
      held->fail(out.error());
    }
  };
}

// ctx.progress notifications {segment_id, done, total} on the request's connection (empty when
// the connection cannot be notified).
Segment::ProgressFn progress_notifier(const Context& ctx);

// True when the catalog row for `name` says the method works on a segment.
bool needs_segment(std::string_view name);

// A typed service method: (segment, params, callback).
template <class P, class R>
void bind(Dispatcher& d, Service& service, const proto::MethodSpec<P, R>& spec,
          void (Service::*method)(core::service::SegmentPtr, P, core::service::Callback<R>)) {
  const bool segment = needs_segment(spec.name);
  d.bind_typed(spec, [&service, method, segment](Context& ctx, P p, Reply reply) {
    if (segment && !require_segment(ctx, reply)) return;
    (service.*method)(ctx.segment, std::move(p), answer_into<R>(std::move(reply)));
  });
}

// A typed service method that reports progress: (segment, params, progress, callback); progress
// goes to the requesting connection as `ctx.progress` notifications.
template <class P, class R>
void bind(Dispatcher& d, Service& service, const proto::MethodSpec<P, R>& spec,
          void (Service::*method)(core::service::SegmentPtr, P, Segment::ProgressFn,
                                  core::service::Callback<R>)) {
  const bool segment = needs_segment(spec.name);
  d.bind_typed(spec, [&service, method, segment](Context& ctx, P p, Reply reply) {
    if (segment && !require_segment(ctx, reply)) return;
    (service.*method)(ctx.segment, std::move(p), progress_notifier(ctx),
                      answer_into<R>(std::move(reply)));
  });
}

// Every segment method of the catalog, bound to `service`.
void bind_service_methods(Dispatcher& d, Service& service);

}  // namespace trifecta::daemon
