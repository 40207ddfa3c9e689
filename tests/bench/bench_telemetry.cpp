// Benchmark: the telemetry sink's enqueue cost and throughput.
//
// For P producer threads x N events each (defaults: P in {1, 4, 16}, N = 10,000), measures:
//  * the wall time from the first event to all events on disk (sink.flush()),
//  * events/s = P*N / that time,
//  * the per-call cost of Channel::event() (median and p99 over every call, steady clock),
//  * drops (must be 0 at the default queue size).
// Output: one JSON object per configuration on stdout (scripts/bench.sh formats them).
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "../support/temp_dir.hpp"
#include "telemetry/sink.hpp"
#include "util/clock.hpp"

namespace json = boost::json;
using namespace trifecta::core;
using namespace trifecta::core::telemetry;

int main(int argc, char** argv) {
  const int events = argc > 1 ? std::atoi(argv[1]) : 10000;
  std::vector<int> producer_counts{1, 4, 16};
  for (int producers : producer_counts) {
    trifecta::test::TempDir tmp;
    std::filesystem::create_directories(tmp.path() / "seg");
    SinkOptions opts;  // default queue size and flush interval
    opts.enabled = true;
    opts.dir_override = tmp.path() / "tel";
    Sink sink(opts);
    Channel ch = sink.open_segment(std::filesystem::canonical(tmp.path() / "seg"));
    std::vector<std::vector<double>> costs(static_cast<std::size_t>(producers));
    Stopwatch wall;
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        auto& c = costs[static_cast<std::size_t>(p)];
        c.reserve(static_cast<std::size_t>(events));
        for (int i = 0; i < events; ++i) {
          json::object args{{"query", "json decode"}, {"limit", 10}};
          json::object result{{"hits", 3}};
          json::object x{{"bytes_read", 4096}, {"producer", p}};
          const auto t0 = SteadyClock::now();
          (void)ch.event("ctx.search", std::move(args), std::move(result), 0.42, {}, std::move(x));
          const auto t1 = SteadyClock::now();
          c.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
        }
      });
    }
    for (auto& t : threads) t.join();
    const double enqueue_s = wall.elapsed_ms() / 1000.0;
    sink.flush();
    const double total_s = wall.elapsed_ms() / 1000.0;
    std::vector<double> all;
    for (auto& c : costs) all.insert(all.end(), c.begin(), c.end());
    std::sort(all.begin(), all.end());
    const auto at = [&](double q) { return all[static_cast<std::size_t>(q * static_cast<double>(all.size() - 1))]; };
    const auto s = ch.stats();
    json::object out{{"producers", producers},
                     {"events", producers * events},
                     {"enqueue_median_ns", at(0.5)},
                     {"enqueue_p99_ns", at(0.99)},
                     {"enqueue_phase_s", enqueue_s},
                     {"to_disk_s", total_s},
                     {"events_per_s", static_cast<double>(producers * events) / total_s},
                     {"written", s.lines_written},
                     {"dropped", s.dropped}};
    std::printf("%s\n", json::serialize(out).c_str());
  }
  return 0;
}
