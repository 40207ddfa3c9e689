// util/parallel.hpp — THE bounded parallel loop of lib/: every build that spreads files over
// cores (the index build and its incremental apply, the skeleton cache's cold build) runs
// through `parallel_for`, so there is one rule for how many threads a build may start.
//
//   parallel_for(files.size(), threads, [&](std::size_t i) { results[i] = process(files[i]); });
//
// Workers: `threads` (0 = std::thread::hardware_concurrency()), capped at kMaxParallelThreads
// and at the number of items. The calling thread is worker 0; the others are std::jthreads
// started for this call and joined before it returns — nothing is detached and nothing outlives
// the call. Items are handed out one at a time in index order (an atomic counter), so a slow
// item does not hold up a fixed share of the others; callers that want big items first order
// their indices.
//
// Failure behaviour: if `fn` throws, no further items are started, the workers finish the item
// they are on, all threads are joined, and the first exception is rethrown to the caller. Errors
// that are values (Result) are the caller's to record per item.
//
// Thread rules: `fn` runs concurrently on several threads for distinct `i`; it must make its own
// shared state safe. parallel_for itself keeps no state between calls and may be called from any
// thread (a nested call starts its own workers: avoid it).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace trifecta::core {

inline constexpr unsigned kMaxParallelThreads = 64;

// The worker count parallel_for uses for `requested` threads and `items` items (≥ 1).
inline unsigned parallel_threads(unsigned requested, std::size_t items) {
  unsigned t = requested ? requested : std::max(1u, std::thread::hardware_concurrency());
  t = std::min(t, kMaxParallelThreads);
  if (items < t) t = static_cast<unsigned>(std::max<std::size_t>(items, 1));
  return t;
}

// Run fn(i) for every i in [0, n). Returns the number of workers used (0 when n == 0).
template <class Fn>
unsigned parallel_for(std::size_t n, unsigned threads, Fn&& fn) {
  if (n == 0) return 0;
  const unsigned workers = parallel_threads(threads, n);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mu;
  auto work = [&] {
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(error_mu);
        if (!first_error) first_error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
        return;
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    pool.reserve(workers - 1);
    for (unsigned t = 1; t < workers; ++t) pool.emplace_back(work);
    work();  // the calling thread is worker 0
  }  // joined here
  if (first_error) std::rethrow_exception(first_error);
  return workers;
}

}  // namespace trifecta::core
