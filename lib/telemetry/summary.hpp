// telemetry/summary.hpp — per-run aggregation and the `last_run.json` document.
//
// A run is one lifetime of the process that owns the telemetry Sink (for trifectad: one daemon
// lifetime). `RunStats` accumulates counters, per-command latency samples, token totals and the
// first warnings of a run; `build_last_run` turns it into the document written to
// `_ctx/telemetry/last_run.json`, using the seed plan's formulas exactly:
//   ast.ast_cache_hit_rate = round(hit / max(parse_count, 1), 3)
//   lsp.lsp_ready_rate     = round(ready / max(spawn, 1), 3)
//   lsp.lsp_fallback_rate  = round(fallback / max(spawn, 1), 3)
//   lsp.lsp_fallback_request_rate = round(fallback / max(lsp_request_count, 1), 3)  (ours, not the seed's)
//   file_read.total_bytes  = skeleton + excerpt + raw
//   telemetry_drops.drop_rate = round(dropped / max(attempted, 1), 4)
// Percentiles are nearest-rank over the samples kept (all of them up to 100,000 per command, then a
// uniform reservoir of that size); `count` and `max_ms` are always exact.
//
// Thread rules: RunStats is not synchronised; the telemetry writer thread is its only user.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace trifecta::core::telemetry {

namespace json = boost::json;

struct LatencySummary {
  std::uint64_t count = 0;
  double p50_ms = 0, p95_ms = 0, max_ms = 0;
};

// Nearest-rank percentile (p in [0, 100]) of unsorted samples; 0 for no samples.
double percentile(std::vector<double> samples, double p);
LatencySummary summarize_latencies(const std::vector<double>& samples, std::uint64_t exact_count,
                                   double exact_max);

double round_to(double v, int decimals);

class RunStats {
 public:
  static constexpr std::size_t kMaxSamplesPerCmd = 100'000;
  static constexpr std::size_t kMaxWarnings = 5;

  void incr(std::string_view counter, std::int64_t delta);
  void observe(std::string_view cmd, double ms);
  void add_tokens(std::int64_t in, std::int64_t out);
  void add_warning(std::string_view warning);
  void set_pack_state(json::object pack_state) { pack_state_ = std::move(pack_state); }

  std::int64_t counter(std::string_view name) const;
  const std::map<std::string, std::int64_t, std::less<>>& counters() const { return counters_; }
  LatencySummary latency(std::string_view cmd) const;

  struct Drops {
    std::uint64_t attempted = 0, dropped = 0, write_errors = 0;
  };
  // The last_run.json document.
  json::object build_last_run(std::string_view run_id, std::string_view ts, const Drops& drops) const;

 private:
  struct Samples {
    std::vector<double> kept;
    std::uint64_t count = 0;
    double max = 0;
  };
  std::map<std::string, std::int64_t, std::less<>> counters_;
  std::map<std::string, Samples, std::less<>> latencies_;
  std::int64_t tokens_in_ = 0, tokens_out_ = 0, token_events_ = 0;
  std::vector<std::string> warnings_;
  json::object pack_state_;
  std::minstd_rand rng_{20260101};
};

}  // namespace trifecta::core::telemetry
