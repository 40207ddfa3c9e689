// util/clock.hpp — time for measurements and for timestamps, kept apart.
//
// Durations always come from std::chrono::steady_clock (monotonic; never the wall clock).
// Timestamps for humans/logs come from system_clock, formatted as UTC ISO-8601 with an explicit
// "+00:00" offset and microseconds. There is no injectable clock object: code whose timing tests
// drive takes the time point as an argument (lsp::StateMachine and lsp::RestartBackoff take `now`,
// so tests/unit/lsp_test.cpp steps a fake time); everything else (telemetry sink, SegmentIndex,
// timers in lib/lsp/client.cpp and the daemon) reads these clocks directly.
//
// Thread rules: Stopwatch is a plain value; the functions are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace trifecta::core {

using SteadyClock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

class Stopwatch {
 public:
  Stopwatch() : start_(SteadyClock::now()) {}
  void reset() { start_ = SteadyClock::now(); }
  std::int64_t elapsed_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start_).count();
  }
  // Milliseconds with sub-millisecond precision (microsecond resolution).
  double elapsed_ms() const { return static_cast<double>(elapsed_ns() / 1000) / 1000.0; }

 private:
  SteadyClock::time_point start_;
};

// "2026-11-25T16:53:59.123456+00:00"
std::string iso8601_utc(WallClock::time_point t);
inline std::string iso8601_utc_now() { return iso8601_utc(WallClock::now()); }

}  // namespace trifecta::core
