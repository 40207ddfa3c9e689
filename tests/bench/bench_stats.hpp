// Shared by the benchmarks: order statistics over samples, a rest before a timed run, and waiting
// on this thread for a callback-style lib/lsp call (as a daemon worker waits for its reply).
// Header-only, test code.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <future>
#include <thread>
#include <vector>

#include "util/result.hpp"

namespace trifecta::bench {

// Median (mean of the two middle samples for an even count); 0 for no samples.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// The sample at rank floor(p% of n) (p in 0..100, clamped to the last); 0 for no samples.
inline double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())))];
}

// A rest of `ms` milliseconds: asleep, or with `busy` in a loop reading the clock (the CPU never
// idles) — the two rests of docs/benchmarks.md, "What a rest costs: time, not idleness".
inline void rest(int ms, bool busy) {
  if (ms <= 0) return;
  if (!busy) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return;
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
  }
}

// Runs `fn(callback)` and blocks until the callback has delivered its Result<T>.
template <class T, class Fn>
core::Result<T> blocking(Fn fn) {
  std::promise<core::Result<T>> p;
  auto f = p.get_future();
  fn([&p](core::Result<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace trifecta::bench
