// client/cli/telemetry_cmd.hpp — `trifecta telemetry report|chart|export|health`: local commands
// over the telemetry files (lib/telemetry/report.hpp does the work). They read
// `<segment>/_ctx/telemetry/{events.jsonl,last_run.json}` (or `$TRIFECTA_TELEMETRY_DIR/<id>/`),
// the files given with --from, or, with --all, those of every segment open in trifectad (the
// only time they talk to the daemon: its `status` lists the segments; see commands.cpp).
//
// Output: tables and charts on stdout, coloured only when stdout is a terminal and NO_COLOR is
// unset or empty; charts fit the terminal width (TIOCGWINSZ on stdout, else $COLUMNS, else 80,
// or --width). Exit codes: 0 ok · 1 no events file / unreadable / `health` found a failure ·
// 2 usage (a bad --since, --format, --p95).
//
// Thread rules: single-threaded, like every row's run(). Failure: reported on stderr, returned
// as the exit code; never throws.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace trifecta::cli {

struct TelemetryOpts {
  bool all = false;
  std::vector<std::string> from;  // telemetry dirs or events files
  std::string since, html, format = "csv", output;
  int width = 0;  // 0: the terminal's
  // health thresholds (negative: the documented default)
  double max_drop_rate = -1, max_lsp_failure_rate = -1, max_error_rate = -1, max_p95_ms = -1;
  std::int64_t max_write_errors = -1, min_events = -1;
  std::vector<std::string> p95;  // CMD=MS
};

enum class TelemetryAction { kReport, kChart, kExport, kHealth };

// Options of each action (the source options are added by every one).
void setup_telemetry(CLI::App* c, TelemetryOpts& t, TelemetryAction action);

// Run an action over `dirs` (telemetry directories resolved by the caller: --from, --all or the
// segment) with `json_out` (the global --json).
int run_telemetry(const TelemetryOpts& t, TelemetryAction action, bool json_out,
                  const std::vector<std::string>& dirs);

// The telemetry directory of a segment root: $TRIFECTA_TELEMETRY_DIR/<segment_id>/ when that is
// set (as trifectad does), else <root>/_ctx/telemetry.
std::string telemetry_dir_of(const std::string& segment_root);

}  // namespace trifecta::cli
