// Spec of util/parallel.hpp: the one bounded parallel loop of lib/.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "util/parallel.hpp"

using namespace trifecta::core;

TEST_CASE("parallel_for runs every index exactly once", "[parallel]") {
  for (unsigned threads : {0u, 1u, 2u, 4u, 7u}) {
    std::vector<std::atomic<int>> hits(1000);
    const unsigned used = parallel_for(hits.size(), threads, [&](std::size_t i) { hits[i].fetch_add(1); });
    INFO("threads " << threads);
    CHECK(used == parallel_threads(threads, hits.size()));
    for (const auto& h : hits) REQUIRE(h.load() == 1);
  }
  CHECK(parallel_for(0, 4, [](std::size_t) { FAIL("no item to run"); }) == 0);
}

TEST_CASE("parallel_threads: 0 is the hardware, capped, never more than the items", "[parallel]") {
  CHECK(parallel_threads(0, 1000) == std::min(std::max(1u, std::thread::hardware_concurrency()), kMaxParallelThreads));
  CHECK(parallel_threads(1000, 1000) == kMaxParallelThreads);
  CHECK(parallel_threads(8, 3) == 3);
  CHECK(parallel_threads(8, 0) == 1);
}

TEST_CASE("parallel_for uses the calling thread and at most N distinct threads, all joined", "[parallel]") {
  std::mutex mu;
  std::set<std::thread::id> ids;
  const auto caller = std::this_thread::get_id();
  parallel_for(64, 3, [&](std::size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::lock_guard lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  CHECK(ids.size() <= 3);
  CHECK(ids.count(caller) == 1);
  // After return no worker is still running: a counter touched by every item is final.
  std::atomic<int> done{0};
  parallel_for(200, 4, [&](std::size_t) { done.fetch_add(1); });
  CHECK(done.load() == 200);
}

TEST_CASE("an exception in one item stops new items and reaches the caller after the join", "[parallel]") {
  std::atomic<int> started{0};
  std::atomic<int> running{0};
  CHECK_THROWS_WITH(parallel_for(10'000, 4,
                                 [&](std::size_t i) {
                                   running.fetch_add(1);
                                   started.fetch_add(1);
                                   if (i == 5) {
                                     running.fetch_sub(1);
                                     throw std::runtime_error("item 5 failed");
                                   }
                                   std::this_thread::sleep_for(std::chrono::microseconds(50));
                                   running.fetch_sub(1);
                                 }),
                    "item 5 failed");
  CHECK(running.load() == 0);     // every worker had finished when the exception arrived
  CHECK(started.load() < 10'000);  // the rest was not started
}
