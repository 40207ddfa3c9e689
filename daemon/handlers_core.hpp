// daemon/handlers_core.hpp — the daemon's own methods: hello, ping, status, segment.close, shutdown.
//
// Thread rules: handlers run on worker threads; everything they read is thread-safe (atomics,
// the registry's mutex, the sink's stats). `shutdown` only posts a stop request to the server.
#pragma once

#include <functional>
#include <string>

#include "config.hpp"
#include "dispatcher.hpp"
#include "server.hpp"
#include "telemetry/sink.hpp"

namespace trifecta::daemon {

struct CoreDeps {
  const Config& config;
  SegmentRegistry& segments;
  core::telemetry::Sink& sink;
  std::function<const ServerCounters&()> counters;
  std::function<unsigned()> workers;
  std::function<void(std::string)> request_stop;
  std::function<void(std::chrono::milliseconds, std::function<void()>)> schedule_after;
  bool socket_activated = false;
  bool debug_methods = false;  // register debug.* (test-only helpers such as debug.sleep)
  core::SteadyClock::time_point started = core::SteadyClock::now();
};

void bind_core_handlers(Dispatcher& d, CoreDeps deps);

std::int64_t current_rss_bytes();

}  // namespace trifecta::daemon
