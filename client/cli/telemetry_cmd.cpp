// client/cli/telemetry_cmd.cpp — the `trifecta telemetry …` actions (see telemetry_cmd.hpp).
#include "telemetry_cmd.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "commands.hpp"
#include "telemetry/report.hpp"
#include "util/hash.hpp"
#include "util/json_text.hpp"

namespace trifecta::cli {

namespace fs = std::filesystem;
namespace tel = trifecta::core::telemetry;
namespace json = boost::json;

namespace {

bool color_wanted() {
  const char* nc = std::getenv("NO_COLOR");
  return ::isatty(1) && !(nc && *nc);
}

int terminal_width(int flag) {
  if (flag > 0) return flag;
  winsize ws{};
  if (::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS"); c && *c) {
    const int v = std::atoi(c);
    if (v > 0) return v;
  }
  return 80;
}

void put(const std::string& s, std::FILE* f = stdout) {
  if (!s.empty()) std::fwrite(s.data(), 1, s.size(), f);
}

// --since → microseconds since the epoch (0: none). False on a malformed duration.
bool since_us(const std::string& text, std::int64_t& out) {
  out = 0;
  if (text.empty()) return true;
  const auto d = tel::parse_duration_s(text);
  if (!d) return false;
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  out = now - static_cast<std::int64_t>(*d * 1e6);
  return true;
}

// The events files of the sources: a directory's events.jsonl, a file as is.
std::vector<fs::path> events_files(const std::vector<std::string>& dirs) {
  std::vector<fs::path> out;
  for (const auto& d : dirs) {
    std::error_code ec;
    out.push_back(fs::is_directory(d, ec) ? fs::path(d) / "events.jsonl" : fs::path(d));
  }
  return out;
}

}  // namespace

std::string telemetry_dir_of(const std::string& segment_root) {
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(segment_root, ec);
  if (ec) canon = fs::absolute(segment_root);
  if (const char* o = std::getenv("TRIFECTA_TELEMETRY_DIR"); o && *o)
    return (fs::path(o) / trifecta::core::segment_id_of(canon.string())).string();
  return (canon / "_ctx" / "telemetry").string();
}

void setup_telemetry(CLI::App* c, TelemetryOpts& t, TelemetryAction action) {
  c->add_flag("--all", t.all, "Every segment open in trifectad (asks the daemon's status)");
  c->add_option("--from", t.from,
                "Read these telemetry directories or events.jsonl files instead of a segment's");
  c->add_option("--since", t.since, "Only events of the last DURATION (90s, 15m, 2h, 7d, 1h30m)");
  switch (action) {
    case TelemetryAction::kReport:
      c->add_option("--html", t.html,
                    "Also write the report as one self-contained HTML file with charts");
      break;
    case TelemetryAction::kChart:
      c->add_option("--width", t.width, "Columns to fit (default: the terminal's, else $COLUMNS)");
      break;
    case TelemetryAction::kExport:
      c->add_option("--format", t.format, "csv | jsonl")
          ->check(CLI::IsMember({"csv", "jsonl"}))
          ->capture_default_str();
      c->add_option("-o,--output", t.output, "Write to this file (default: stdout)");
      break;
    case TelemetryAction::kHealth:
      c->add_option("--max-drop-rate", t.max_drop_rate, "Fail above this drop rate (default 0.02)");
      c->add_option("--max-write-errors", t.max_write_errors,
                    "Fail above this many write errors (default 0)");
      c->add_option("--max-lsp-failure-rate", t.max_lsp_failure_rate,
                    "Fail above this share of Pyright starts that FAILED (default 0.5)");
      c->add_option("--max-error-rate", t.max_error_rate,
                    "Fail above this share of events with an error (default 0.05)");
      c->add_option("--max-p95-ms", t.max_p95_ms,
                    "Fail when a command's p95 is above this (default 10000 ms; ctx.build and "
                    "index.build: 600000)");
      c->add_option("--p95", t.p95, "A command's own p95 ceiling, CMD=MS (repeatable)");
      c->add_option("--min-events", t.min_events, "Fail with fewer events (default 1)");
      break;
  }
}

int run_telemetry(const TelemetryOpts& t, TelemetryAction action, bool json_out,
                  const std::vector<std::string>& dirs) {
  std::int64_t since = 0;
  if (!since_us(t.since, since)) {
    std::fprintf(
        stderr, "trifecta: --since: expected a duration like 90s, 15m, 2h, 7d or 1h30m, got '%s'\n",
        t.since.c_str());
    return kExitUsage;
  }
  if (dirs.empty()) {
    std::fprintf(
        stderr,
        "trifecta: no telemetry to read: no segment open in trifectad has written events yet\n");
    return kExitFailed;
  }
  const auto files = events_files(dirs);

  if (action == TelemetryAction::kExport) {
    std::FILE* out = stdout;
    if (!t.output.empty()) {
      out = std::fopen(t.output.c_str(), "wb");
      if (!out) {
        std::fprintf(stderr, "trifecta: cannot write %s\n", t.output.c_str());
        return kExitFailed;
      }
    }
    const auto rows = tel::export_events(
        files, t.format == "jsonl" ? tel::ExportFormat::kJsonl : tel::ExportFormat::kCsv, since,
        out);
    if (out != stdout) std::fclose(out);
    if (!rows) {
      std::fprintf(stderr, "trifecta: %s\n", rows.error().message.c_str());
      return kExitFailed;
    }
    return kExitOk;
  }

  tel::HealthThresholds th;
  if (action == TelemetryAction::kHealth) {
    if (t.max_drop_rate >= 0) th.max_drop_rate = t.max_drop_rate;
    if (t.max_write_errors >= 0)
      th.max_write_errors = static_cast<std::uint64_t>(t.max_write_errors);
    if (t.max_lsp_failure_rate >= 0) th.max_lsp_failure_rate = t.max_lsp_failure_rate;
    if (t.max_error_rate >= 0) th.max_error_rate = t.max_error_rate;
    if (t.max_p95_ms >= 0) th.max_p95_ms = t.max_p95_ms;
    if (t.min_events >= 0) th.min_events = static_cast<std::uint64_t>(t.min_events);
    for (const auto& spec : t.p95) {
      const auto eq = spec.rfind('=');
      char* end = nullptr;
      const double v = eq == std::string::npos ? -1 : std::strtod(spec.c_str() + eq + 1, &end);
      if (eq == std::string::npos || eq == 0 || v < 0 || !end || *end) {
        std::fprintf(stderr, "trifecta: --p95: expected CMD=MS (e.g. ctx.search=200), got '%s'\n",
                     spec.c_str());
        return kExitUsage;
      }
      th.p95_ms[spec.substr(0, eq)] = v;
    }
  }

  tel::ReportOptions ro;
  ro.since_us = since;
  std::vector<fs::path> sources;
  for (const auto& d : dirs) sources.emplace_back(d);
  auto report = tel::build_report(sources, ro);
  if (!report) {
    std::fprintf(stderr, "trifecta: %s\n", report.error().message.c_str());
    if (report.error().code == core::Errc::kNotFound)
      std::fprintf(
          stderr,
          "hint: trifectad writes telemetry under <segment>/_ctx/telemetry/ once it serves "
          "a request for the segment; pass -s, --all or --from\n");
    return kExitFailed;
  }

  switch (action) {
    case TelemetryAction::kReport: {
      if (!t.html.empty()) {
        const std::string html = tel::render_report_html(*report);
        std::FILE* f = std::fopen(t.html.c_str(), "wb");
        const bool ok = f && std::fwrite(html.data(), 1, html.size(), f) == html.size();
        if (f && std::fclose(f) != 0) {
          std::fprintf(stderr, "trifecta: cannot write %s\n", t.html.c_str());
          return kExitFailed;
        }
        if (!ok) {
          std::fprintf(stderr, "trifecta: cannot write %s\n", t.html.c_str());
          return kExitFailed;
        }
      }
      if (json_out)
        put(core::to_json_text(tel::report_to_json(*report)) + "\n");
      else
        put(tel::render_report_text(*report, color_wanted()));
      if (!t.html.empty() && !json_out) std::fprintf(stderr, "wrote %s\n", t.html.c_str());
      return kExitOk;
    }
    case TelemetryAction::kChart:
      put(tel::render_chart_text(*report, terminal_width(t.width), color_wanted()));
      return kExitOk;
    case TelemetryAction::kHealth: {
      const auto failures = tel::check_health(*report, th);
      if (json_out) {
        json::array arr;
        for (const auto& f : failures)
          arr.push_back(json::object{{"check", f.check}, {"reason", f.reason}});
        put(core::to_json_text(json::object{{"healthy", failures.empty()},
                                            {"events", report->events},
                                            {"failures", std::move(arr)}}) +
            "\n");
      } else if (failures.empty()) {
        std::printf("healthy: %llu events, every check within its threshold\n",
                    static_cast<unsigned long long>(report->events));
      } else {
        for (const auto& f : failures)
          std::printf("FAIL %s: %s\n", f.check.c_str(), f.reason.c_str());
      }
      return failures.empty() ? kExitOk : kExitFailed;
    }
    case TelemetryAction::kExport:
      break;
  }
  return kExitOk;
}

}  // namespace trifecta::cli
