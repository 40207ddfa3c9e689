// tests/support/timing.hpp — the scale of latency bounds asserted by integration tests.
//
// The bounds (ping under 100 ms, status under 1.5 s during a build, …) are the promises of the
// optimised build (RelWithDebInfo/Release) and hold there unscaled. The coverage build
// (TRIFECTA_COVERAGE: -O0 plus atomic gcov counters on every branch) runs the daemon several
// times slower on the same machine; only there are the bounds multiplied by kLatencyScale, so
// the tests still check that nothing waits behind a build or a stuck worker (seconds) without
// failing on the instrumentation's constant overhead.
#pragma once

namespace trifecta::test {

#ifdef TRIFECTA_COVERAGE_BUILD
inline constexpr long kLatencyScale = 10;
#else
inline constexpr long kLatencyScale = 1;
#endif

}  // namespace trifecta::test
