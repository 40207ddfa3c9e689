// telemetry/report.hpp — what `trifecta telemetry report|chart|export|health` compute: a
// streaming aggregation of events.jsonl (plus last_run.json for the sink's drop counters) into a
// `Report`, and the checks of `health`.
//
// Streaming and bounded: events are read one line at a time (a 1 MiB read buffer; a line is
// parsed, folded into the aggregate and dropped), so memory does not grow with the file. What
// is kept per command is bounded:
//   - latency percentiles: the first kExactSamples (4,096) timings are kept as is, and while a
//     command has no more than that, p50/p95 are exact (nearest rank). Past that, a fixed
//     log-bucket histogram answers: 64 buckets per power of two from 0.001 ms to ~4.3e6 ms, each
//     reported by its geometric midpoint, so a percentile is within ±0.55 % (relative) of the
//     exact nearest-rank value; timings under 0.001 ms are one bucket reported as 0. `count`,
//     `errors` and `max_ms` are always exact.
//   - latency over time: kTimeBins (60) bins over the data's time span; the span grows by
//     doubling the bin width (neighbouring bins merge), so a bin holds count, sum and max.
//   - distinct commands: at most kMaxCommands (512); further names are folded into "(other)".
//   - the LSP state timeline: the first kMaxTransitions (2,000) transitions are kept for the
//     timeline; the counts behind every rate are exact.
// Definitions (docs/telemetry.md, "What the report counts", says the same):
//   - errors: events whose result.status is "error" or "failed", or whose result has "error".
//   - LSP: spawns = `lsp.spawn` events; restarts = spawns after the first of the same
//     (run_id, segment_id); ready rate = transitions into READY / spawns; time to READY = the
//     READY transition's timing_ms (time spent in WARMING), or the wall-clock gap since the
//     segment entered WARMING when timing_ms is 0; position requests = events of
//     lsp.definition|hover|references|diagnostics; fallback rate = those answered with
//     result.backend "ast" / all of them; merge rate = those whose backend is neither "lsp" nor
//     "ast" (lsp+ast: Pyright's answer with the AST's added) / all of them; Pyright empty /
//     external / Unknown = READY answers whose result.lsp_outcome says so.
//   - AST cache: `ast.parse` events, hit when x.cache_hit is true; and, for the whole run with
//     index builds, last_run.json's ast.ast_parse_count / ast_cache_hit_count.
//   - disclosure, per mode (skeleton|excerpt|raw): answers = `ctx.get` events in that mode;
//     tokens served = ceil(x.bytes_out / 4) of those answers (the reply the agent received);
//     bytes read = result.bytes of the `file.read` events in that mode; raw tokens =
//     ceil(bytes / 4) per file read (what handing over the whole files would have cost);
//     saved = raw tokens − tokens served.
//   - telemetry: attempted/dropped/write_errors summed over the last_run.json files read;
//     drop rate = dropped / max(attempted, 1); plus invalid and torn lines of events.jsonl.
//
// Failure behaviour: a missing events file is Errc::kNotFound, an unreadable one kIo; bad lines
// are counted (and the first few described), never fatal. A last_run.json that is missing is
// not an error (its counters stay 0); one that does not parse is described in `problems`.
// Thread rules: an Aggregator is single-threaded; Report is a plain value.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace trifecta::core::telemetry {

// "2026-11-25T17:17:23.028379+00:00" → microseconds since the epoch (UTC). Accepts `Z` or a
// ±hh:mm offset and 0–9 fraction digits. nullopt when the text is not such a timestamp.
std::optional<std::int64_t> parse_ts_us(std::string_view ts);
// Microseconds since the epoch → "2026-11-25T17:17:23Z" (seconds precision).
std::string format_ts_us(std::int64_t us);
// "90s", "15m", "2h", "7d", "1h30m" → seconds. nullopt for anything else (no unit, 0, negative).
std::optional<double> parse_duration_s(std::string_view text);

// Stream the complete ('\n'-terminated) lines of a file, 1 MiB reads at a time. Returns true when
// the file ends inside a line (a torn tail, not passed to `fn`). Errors: kNotFound, kIo.
Result<bool> for_each_line(const std::filesystem::path& file,
                           const std::function<void(std::string_view)>& fn);

// Bounded latency sketch (exact below kExactSamples, then a log-bucket histogram).
class LatencySketch {
 public:
  static constexpr std::size_t kExactSamples = 4096;
  static constexpr int kBucketsPerOctave = 64;
  static constexpr double kMinMs = 0.001;
  static constexpr int kOctaves = 32;
  static constexpr int kBuckets = kBucketsPerOctave * kOctaves + 1;  // [0]: under kMinMs

  void add(double ms);
  std::uint64_t count() const { return count_; }
  double max() const { return max_; }
  double sum() const { return sum_; }
  bool exact() const { return count_ <= kExactSamples; }
  // Nearest-rank percentile, p in (0, 100]; 0 without samples.
  double percentile(double p) const;
  // Counts in `bins` equal-width bins over [0, hi] (the last bin takes everything above).
  std::vector<std::uint64_t> histogram(std::size_t bins, double hi) const;

 private:
  static int bucket_of(double ms);
  static double bucket_value(int b);
  std::uint64_t count_ = 0;
  double max_ = 0, sum_ = 0;
  std::vector<double> exact_;
  std::vector<std::uint32_t> buckets_;  // allocated when exact_ overflows
};

struct TimeBin {
  std::uint64_t count = 0;
  double sum_ms = 0, max_ms = 0;
};

struct CommandStats {
  std::string cmd;
  std::uint64_t count = 0, errors = 0;
  double p50_ms = 0, p95_ms = 0, max_ms = 0, mean_ms = 0;
  bool exact = true;                // percentiles are exact (see LatencySketch)
  std::vector<std::uint64_t> hist;  // kHistBins bins over [0, hist_hi_ms]
  double hist_hi_ms = 0;
  std::vector<TimeBin> over_time;  // kTimeBins bins from Report::bin_start_us, bin_width_us each
};

struct LspTransition {
  std::int64_t ts_us = 0;
  std::string segment_id, from, to, reason;
  double timing_ms = 0;
};
struct LspStart {
  std::int64_t ts_us = 0;  // when the segment entered WARMING
  std::string segment_id;
  double ready_ms = -1;  // time to READY; -1: never became READY
  std::string outcome;   // READY | FAILED | (still) WARMING | COLD (stopped first)
};

struct ModeStats {
  std::uint64_t answers = 0, files_read = 0, bytes_read = 0;
  std::uint64_t tokens_served = 0, raw_tokens = 0;
  std::int64_t saved() const {
    return static_cast<std::int64_t>(raw_tokens) - static_cast<std::int64_t>(tokens_served);
  }
};

struct Report {
  static constexpr std::size_t kTimeBins = 60;
  static constexpr std::size_t kHistBins = 40;
  static constexpr std::size_t kMaxCommands = 512;
  static constexpr std::size_t kMaxTransitions = 2000;

  // Sources.
  std::vector<std::string> files;  // as given (events files read)
  std::uint64_t lines = 0, invalid_lines = 0, torn_tails = 0, before_since = 0, events = 0;
  std::vector<std::string> problems;                     // first 20
  std::int64_t first_us = 0, last_us = 0, since_us = 0;  // 0: none
  std::int64_t bin_start_us = 0, bin_width_us = 0;       // the over_time axis
  std::vector<std::string> runs;                         // distinct run_ids (first 100)

  std::vector<CommandStats> commands;  // by count, descending, then name

  struct Lsp {
    std::uint64_t spawns = 0, restarts = 0, ready = 0, failed = 0, transitions = 0;
    std::uint64_t requests = 0, fallbacks = 0, merges = 0, lsp_answers = 0;
    // READY answers by Pyright's own outcome (result.lsp_outcome): nothing, only outside the
    // segment, a hover typed Unknown. Each of them had the AST asked too.
    std::uint64_t lsp_empty = 0, lsp_external = 0, lsp_unknown = 0;
    double ready_rate = 0, fallback_rate = 0, merge_rate = 0;
    std::vector<LspStart> starts;         // bounded like the transitions
    std::vector<LspTransition> timeline;  // first kMaxTransitions
  } lsp;

  struct Ast {
    std::uint64_t parses = 0, hits = 0, misses = 0;  // ast.parse events (requests)
    double hit_rate = 0;
    // last_run.json's `ast` counters, summed: every parse of the run, index builds included
    // (builds count parses but write no event per file).
    std::uint64_t run_parses = 0, run_hits = 0;
    double run_hit_rate = 0;
  } ast;

  std::map<std::string, ModeStats> modes;  // skeleton, excerpt, raw (always present)

  struct Drops {
    std::uint64_t attempted = 0, dropped = 0, write_errors = 0, last_run_files = 0;
    double drop_rate = 0;
  } telemetry;
};

struct ReportOptions {
  std::int64_t since_us = 0;  // skip events before this (0: keep all)
};

// Streaming aggregation: feed lines (or whole files), then finish().
class Aggregator {
 public:
  explicit Aggregator(ReportOptions options = {});
  ~Aggregator();
  Aggregator(const Aggregator&) = delete;
  Aggregator& operator=(const Aggregator&) = delete;

  // One complete line (without its newline).
  void add_line(std::string_view line);
  // Stream a whole events.jsonl (a last line without '\n' is counted as torn, not parsed).
  // Errors: kNotFound, kIo.
  Result<void> add_events_file(const std::filesystem::path& file);
  // Fold in a last_run.json document's telemetry_drops. Missing file: ok, nothing added.
  void add_last_run_file(const std::filesystem::path& file);
  void add_last_run(const boost::json::object& doc);

  Report finish() const;

 private:
  struct Impl;
  Impl* impl_;
};

// A telemetry directory (events.jsonl [+ last_run.json]) or an events file: aggregate it.
Result<Report> build_report(const std::vector<std::filesystem::path>& sources,
                            ReportOptions options = {});

boost::json::object report_to_json(const Report& r);

// Terminal renderings. `color`: ANSI colours; `width`: terminal columns (>= 40 used).
std::string render_report_text(const Report& r, bool color);
std::string render_chart_text(const Report& r, int width, bool color);
// One self-contained HTML document (inline SVG and CSS; no scripts beyond an inline error
// trap, no network). Everything from the data is HTML-escaped.
std::string render_report_html(const Report& r);
std::string html_escape(std::string_view s);

// `telemetry health`: thresholds and their checks.
struct HealthThresholds {
  double max_drop_rate = 0.02;  // the seed's "< 2 %"
  std::uint64_t max_write_errors = 0;
  double max_lsp_failure_rate = 0.5;  // FAILED transitions / spawns
  double max_error_rate = 0.05;       // errors / events, over all commands with a status
  double max_p95_ms = 10000;          // every command's p95 ...
  // ... unless it has its own ceiling here. Index builds take as long as the tree needs: their
  // default ceiling is 10 minutes. lsp.state_change (time spent in a state) and lsp.stop are
  // durations, not request latencies: only checked when given here.
  std::map<std::string, double> p95_ms = {{"ctx.build", 600000}, {"index.build", 600000}};
  std::uint64_t min_events = 1;  // an empty file is not healthy
};
struct HealthFailure {
  std::string check;   // drop_rate, write_errors, lsp_failure_rate, error_rate, p95:<cmd>, events
  std::string reason;  // one line
};
std::vector<HealthFailure> check_health(const Report& r, const HealthThresholds& t);

// `telemetry export`: flat rows, streamed. Columns: kExportColumns (docs/telemetry.md).
inline constexpr std::string_view kExportColumns[] = {
    "ts",        "run_id",     "segment_id", "cmd",        "timing_ms",  "status", "error",
    "tokens_in", "tokens_out", "bytes_in",   "bytes_out",  "bytes_read", "mode",   "file",
    "backend",   "lsp_state",  "cache_hit",  "from_state", "to_state",   "reason", "warnings"};
enum class ExportFormat { kCsv, kJsonl };
// Writes the header (CSV) and one row per valid event with ts >= since_us. Returns rows written.
Result<std::uint64_t> export_events(const std::vector<std::filesystem::path>& events_files,
                                    ExportFormat format, std::int64_t since_us, std::FILE* out);
std::string csv_field(std::string_view s);  // RFC 4180 quoting

}  // namespace trifecta::core::telemetry
