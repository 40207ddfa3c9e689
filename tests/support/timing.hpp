// tests/support/timing.hpp — the scale of latency bounds asserted by integration tests.
//
// The bounds (ping under 100 ms, status under 1.5 s during a build, …) are the promises of the
// optimised build (RelWithDebInfo/Release) and hold there unscaled. The instrumented builds run
// the daemon several times slower on the same machine, and `make sanitize` runs two suites at once
// on two cores: the coverage build (TRIFECTA_COVERAGE: -O0 plus atomic gcov counters on every
// branch) multiplies the bounds by 10, the sanitizer build (TRIFECTA_SANITIZE: ASan/UBSan checks on
// every access) by 3 (one ping there took 113 ms under that load). The tests still check that
// nothing waits behind a build or a stuck worker (seconds) without failing on the
// instrumentation's constant overhead.
#pragma once

namespace trifecta::test {

#if defined(TRIFECTA_COVERAGE_BUILD)
inline constexpr long kLatencyScale = 10;
#elif defined(TRIFECTA_SANITIZE_BUILD)
inline constexpr long kLatencyScale = 3;
#else
inline constexpr long kLatencyScale = 1;
#endif

}  // namespace trifecta::test
