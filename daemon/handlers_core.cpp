#include "handlers_core.hpp"

#include <unistd.h>

#include <charconv>
#include <fstream>

#include "service/service.hpp"

namespace trifecta::daemon {

using proto::ErrorCode;
using proto::RpcError;

std::int64_t current_rss_bytes() {
  std::ifstream in("/proc/self/statm");
  long long size = 0, resident = 0;
  in >> size >> resident;
  return static_cast<std::int64_t>(resident) * ::sysconf(_SC_PAGESIZE);
}

namespace {

// "1.4" -> 1; nullopt when malformed.
std::optional<int> major_of(const std::string& v) {
  int major = 0;
  const auto* end = v.data() + v.size();
  auto [p, ec] = std::from_chars(v.data(), end, major);
  if (ec != std::errc() || p == v.data() || (p != end && *p != '.')) return std::nullopt;
  return major;
}

}  // namespace

void bind_core_handlers(Dispatcher& d, CoreDeps deps) {
  auto shared = std::make_shared<CoreDeps>(std::move(deps));
  const Dispatcher* table = &d;

  d.bind_typed(proto::spec::kHello, [shared, table](Context&, proto::HelloParams p, Reply reply) {
    const auto major = major_of(p.protocol);
    if (!major) {
      reply.fail(RpcError{ErrorCode::kInvalidParams, "params.protocol: expected \"major.minor\", got \"" + p.protocol + "\"", {}});
      return;
    }
    if (*major != proto::kProtocolMajor) {
      reply.fail(RpcError{ErrorCode::kVersionMismatch,
                          "client speaks protocol " + p.protocol + " but trifectad " + proto::kVersion + " (pid " +
                              std::to_string(::getpid()) + ") speaks " + proto::protocol_version() +
                              "; restart the daemon with `trifecta daemon restart`",
                          json::object{{"daemon_protocol", proto::protocol_version()},
                                       {"daemon_version", proto::kVersion}}});
      return;
    }
    proto::HelloResult r;
    r.daemon_version = proto::kVersion;
    r.protocol = proto::protocol_version();
    r.pid = ::getpid();
    r.capabilities = table->methods();
    reply.ok(json::value_from(r));
  });

  d.bind_typed(proto::spec::kPing, [](Context&, proto::PingParams, Reply reply) {
    reply.ok(json::value_from(proto::PingResult{true, ::getpid()}));
  });

  d.bind_typed(proto::spec::kStatus, [shared](Context&, proto::StatusParams, Reply reply) {
    const CoreDeps& c = *shared;
    proto::StatusResult r;
    r.daemon_version = proto::kVersion;
    r.protocol = proto::protocol_version();
    r.pid = ::getpid();
    r.uptime_s = std::chrono::duration<double>(core::SteadyClock::now() - c.started).count();
    r.rss_bytes = current_rss_bytes();
    const ServerCounters& k = c.counters();
    r.connections = k.connections.load();
    r.in_flight = k.in_flight.load();
    r.requests_total = k.requests_total.load();
    r.workers = c.workers();
    r.socket = c.config.socket_path.string();
    r.socket_activated = c.socket_activated;
    r.idle_timeout_s = static_cast<double>(c.config.idle_timeout.count());
    for (const auto& s : c.segments.list()) {
      r.segments.push_back(core::service::Service::segment_status(*s));
    }
    const auto t = c.sink.stats();
    r.telemetry.enabled = c.sink.enabled();
    r.telemetry.run_id = c.sink.run_id();
    r.telemetry.attempted = static_cast<std::int64_t>(t.attempted);
    r.telemetry.dropped = static_cast<std::int64_t>(t.dropped);
    r.telemetry.lines_written = static_cast<std::int64_t>(t.lines_written);
    r.telemetry.write_errors = static_cast<std::int64_t>(t.write_errors);
    r.telemetry.recreated = static_cast<std::int64_t>(t.recreated);
    r.telemetry.last_error = t.last_error;
    reply.ok(json::value_from(r));
  });

  if (shared->debug_methods) {
    // debug.sleep {ms}: answers after `ms` (<= 60000) without occupying a worker. Lets tests keep
    // requests in flight deterministically (graceful stop, in-flight limits).
    d.bind_typed(proto::spec::kDebugSleep, [shared](Context&, proto::DebugSleepParams p, Reply reply) {
      const std::int64_t ms = p.ms;
      if (ms < 0 || ms > 60000) {
        reply.fail(RpcError{ErrorCode::kInvalidParams, "params.ms: expected 0..60000", {}});
        return;
      }
      // If the daemon stops before the timer fires, the request is still answered (ShuttingDown).
      struct Pending {
        explicit Pending(Reply r) : reply(std::move(r)) {}
        Pending(const Pending&) = delete;
        Reply reply;
        ~Pending() {
          if (!reply.answered()) reply.fail(RpcError{ErrorCode::kShuttingDown, "daemon stopped before the timer fired", {}});
        }
      };
      auto held = std::make_shared<Pending>(std::move(reply));
      shared->schedule_after(std::chrono::milliseconds(ms), [held, ms] { held->reply.ok(json::value_from(proto::DebugSleepResult{ms})); });
    });
  }

  // segment.close {segment}: stop the segment's Pyright, flush its index and forget it (the next
  // request naming it opens it again). params.segment is not opened by the dispatcher.
  d.bind_typed(
      proto::spec::kSegmentClose,
      [shared](Context&, proto::SegmentCloseParams p, Reply reply) {
        auto r = shared->segments.close(p.segment);
        if (!r) return reply.fail(r.error());
        reply.ok(json::value_from(proto::SegmentCloseResult{r->closed, r->segment_id}));
      },
      Dispatcher::SegmentParam::kRaw);

  d.bind_typed(proto::spec::kShutdown, [shared](Context&, proto::ShutdownParams, Reply reply) {
    reply.ok(json::value_from(proto::ShutdownResult{true}));
    shared->request_stop("shutdown request");
  });
}

}  // namespace trifecta::daemon
