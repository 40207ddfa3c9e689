#include "telemetry/summary.hpp"

#include <algorithm>
#include <cmath>

namespace trifecta::core::telemetry {

double round_to(double v, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0.0;
  const auto n = samples.size();
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank - 1), samples.end());
  return samples[rank - 1];
}

LatencySummary summarize_latencies(const std::vector<double>& samples, std::uint64_t exact_count,
                                   double exact_max) {
  LatencySummary s;
  s.count = exact_count;
  s.p50_ms = round_to(percentile(samples, 50), 3);
  s.p95_ms = round_to(percentile(samples, 95), 3);
  s.max_ms = round_to(exact_max, 3);
  return s;
}

void RunStats::incr(std::string_view counter, std::int64_t delta) {
  auto it = counters_.find(counter);
  if (it == counters_.end()) it = counters_.emplace(std::string(counter), 0).first;
  it->second += delta;
}

void RunStats::observe(std::string_view cmd, double ms) {
  auto it = latencies_.find(cmd);
  if (it == latencies_.end()) it = latencies_.emplace(std::string(cmd), Samples{}).first;
  Samples& s = it->second;
  ++s.count;
  s.max = std::max(s.max, ms);
  if (s.kept.size() < kMaxSamplesPerCmd) {
    s.kept.push_back(ms);
  } else {
    // Reservoir sampling (Algorithm R): each sample survives with probability k / count.
    std::uniform_int_distribution<std::uint64_t> pick(0, s.count - 1);
    const std::uint64_t j = pick(rng_);
    if (j < kMaxSamplesPerCmd) s.kept[j] = ms;
  }
}

void RunStats::add_tokens(std::int64_t in, std::int64_t out) {
  tokens_in_ += in;
  tokens_out_ += out;
  ++token_events_;
}

void RunStats::add_warning(std::string_view warning) {
  if (warnings_.size() < kMaxWarnings) warnings_.emplace_back(warning);
}

std::int64_t RunStats::counter(std::string_view name) const {
  auto it = counters_.find(name);
  return it == counters_.end() ? 0 : it->second;
}

LatencySummary RunStats::latency(std::string_view cmd) const {
  auto it = latencies_.find(cmd);
  if (it == latencies_.end()) return {};
  return summarize_latencies(it->second.kept, it->second.count, it->second.max);
}

json::object RunStats::build_last_run(std::string_view run_id, std::string_view ts,
                                      const Drops& drops) const {
  auto c = [this](std::string_view k) { return counter(k); };
  auto rate = [](std::int64_t num, std::int64_t den) {
    return round_to(static_cast<double>(num) / static_cast<double>(std::max<std::int64_t>(den, 1)), 3);
  };

  json::object metrics;
  for (const auto& [k, v] : counters_) metrics[k] = v;

  json::object latencies;
  for (const auto& [cmd, s] : latencies_) {
    const LatencySummary l = summarize_latencies(s.kept, s.count, s.max);
    latencies[cmd] = json::object{{"count", l.count}, {"p50_ms", l.p50_ms}, {"p95_ms", l.p95_ms},
                                  {"max_ms", l.max_ms}};
  }

  json::object tokens{{"in_total", tokens_in_},
                      {"out_total", tokens_out_},
                      {"total", tokens_in_ + tokens_out_},
                      {"events", token_events_}};

  json::object ast{{"ast_parse_count", c("ast_parse_count")},
                   {"ast_cache_hit_count", c("ast_cache_hit_count")},
                   {"ast_cache_miss_count", c("ast_cache_miss_count")},
                   {"ast_cache_hit_rate", rate(c("ast_cache_hit_count"), c("ast_parse_count"))}};

  json::object lsp{{"lsp_spawn_count", c("lsp_spawn_count")},
                   {"lsp_warming_count", c("lsp_warming_count")},
                   {"lsp_ready_count", c("lsp_ready_count")},
                   {"lsp_failed_count", c("lsp_failed_count")},
                   {"lsp_fallback_count", c("lsp_fallback_count")},
                   {"lsp_ready_rate", rate(c("lsp_ready_count"), c("lsp_spawn_count"))},
                   {"lsp_fallback_rate", rate(c("lsp_fallback_count"), c("lsp_spawn_count"))},
                   // Not in the seed: fallbacks per position request (the seed's rate is per
                   // spawn, so 1 fallback after 1 spawn reads 1.0 whatever the request count).
                   {"lsp_request_count", c("lsp_request_count")},
                   {"lsp_fallback_request_rate", rate(c("lsp_fallback_count"), c("lsp_request_count"))}};

  const std::int64_t sk = c("file_read_skeleton_bytes_total");
  const std::int64_t ex = c("file_read_excerpt_bytes_total");
  const std::int64_t raw = c("file_read_raw_bytes_total");
  json::object file_read{{"skeleton_bytes", sk}, {"excerpt_bytes", ex}, {"raw_bytes", raw},
                         {"total_bytes", sk + ex + raw}};

  json::object drops_obj{
      {"lock_skipped", drops.dropped},
      {"dropped", drops.dropped},
      {"attempted", drops.attempted},
      {"drop_rate", round_to(static_cast<double>(drops.dropped) /
                                 static_cast<double>(std::max<std::uint64_t>(drops.attempted, 1)),
                             4)},
      {"write_errors", drops.write_errors}};

  json::array warnings;
  for (const auto& w : warnings_) warnings.emplace_back(w);

  json::object pack = pack_state_;
  if (!pack.contains("pack_sha")) pack["pack_sha"] = nullptr;
  if (!pack.contains("pack_mtime")) pack["pack_mtime"] = nullptr;

  json::object doc;
  doc["run_id"] = run_id;
  doc["ts"] = ts;
  doc["metrics_delta"] = std::move(metrics);
  doc["latencies"] = std::move(latencies);
  doc["tokens"] = std::move(tokens);
  doc["ast"] = std::move(ast);
  doc["lsp"] = std::move(lsp);
  doc["file_read"] = std::move(file_read);
  doc["telemetry_drops"] = std::move(drops_obj);
  doc["top_warnings"] = std::move(warnings);
  doc["pack_state"] = std::move(pack);
  return doc;
}

}  // namespace trifecta::core::telemetry
