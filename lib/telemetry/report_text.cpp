// telemetry/report_text.cpp — the terminal renderings of a Report: the tables of
// `telemetry report` and the sparklines and histogram bars of `telemetry chart`.
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "telemetry/report.hpp"
#include "telemetry/report_format.hpp"

namespace trifecta::core::telemetry {

namespace {

struct Style {
  bool color;
  std::string bold(std::string_view s) const { return wrap("\033[1m", s); }
  std::string dim(std::string_view s) const { return wrap("\033[2m", s); }
  std::string red(std::string_view s) const { return wrap("\033[31m", s); }
  std::string green(std::string_view s) const { return wrap("\033[32m", s); }
  std::string yellow(std::string_view s) const { return wrap("\033[33m", s); }
  std::string cyan(std::string_view s) const { return wrap("\033[36m", s); }
  std::string wrap(const char* on, std::string_view s) const {
    return color ? std::string(on) + std::string(s) + "\033[0m" : std::string(s);
  }
};

using report_format::fmt;
using report_format::ms;
using report_format::pct;
using report_format::u;
// Left- or right-pad `s` to `w` columns (`s` is plain ASCII or counted by code points).
std::size_t columns(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
std::string pad(std::string_view s, std::size_t w, bool right = false) {
  const std::size_t n = columns(s);
  std::string sp(n < w ? w - n : 0, ' ');
  return right ? sp + std::string(s) : std::string(s) + sp;
}

// A table: header and rows of plain cells; column 0 left-aligned, the rest right-aligned.
// `paint(row, col, text)` may colour a cell after padding.
template <class Paint>
std::string table(const std::vector<std::string>& head,
                  const std::vector<std::vector<std::string>>& rows, const Style& st, Paint paint) {
  std::vector<std::size_t> w(head.size(), 0);
  for (std::size_t c = 0; c < head.size(); ++c) w[c] = columns(head[c]);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size() && c < w.size(); ++c) w[c] = std::max(w[c], columns(r[c]));
  std::string out = "  ";
  for (std::size_t c = 0; c < head.size(); ++c)
    out += (c ? "  " : "") + st.bold(pad(head[c], w[c], c > 0));
  out += "\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out += "  ";
    for (std::size_t c = 0; c < rows[i].size() && c < w.size(); ++c)
      out += (c ? "  " : "") + paint(i, c, pad(rows[i][c], w[c], c > 0));
    out += "\n";
  }
  return out;
}

std::string rate_colored(const Style& st, double rate, bool high_is_good, const std::string& text) {
  const bool good = high_is_good ? rate >= 0.9 : rate <= 0.1;
  const bool bad = high_is_good ? rate < 0.5 : rate > 0.5;
  return good ? st.green(text) : bad ? st.red(text) : st.yellow(text);
}

}  // namespace

std::string render_report_text(const Report& r, bool color) {
  const Style st{color};
  std::string out;
  out += st.bold("Telemetry report") + fmt(" — %zu file%s, %llu events", r.files.size(),
                                           r.files.size() == 1 ? "" : "s",
                                           static_cast<unsigned long long>(r.events));
  if (r.first_us) out += ", " + format_ts_us(r.first_us) + " → " + format_ts_us(r.last_us);
  out += fmt(", %zu run%s\n", r.runs.size(), r.runs.size() == 1 ? "" : "s");
  if (r.since_us)
    out += "  since " + format_ts_us(r.since_us) + " (" + u(r.before_since) +
           " earlier events skipped)\n";
  if (r.invalid_lines || r.torn_tails)
    out += "  " +
           st.yellow(fmt("%llu invalid line(s), %llu torn tail(s)",
                         static_cast<unsigned long long>(r.invalid_lines),
                         static_cast<unsigned long long>(r.torn_tails))) +
           "\n";

  out += "\n" + st.bold(st.cyan("Commands")) + "\n";
  std::vector<std::vector<std::string>> rows;
  bool approx = false;
  for (const auto& c : r.commands) {
    rows.push_back({c.cmd, u(c.count), u(c.errors), ms(c.p50_ms) + (c.exact ? "" : "~"),
                    ms(c.p95_ms) + (c.exact ? "" : "~"), ms(c.max_ms)});
    approx |= !c.exact;
  }
  if (rows.empty()) {
    out += "  (no events)\n";
  } else {
    out += table({"command", "count", "errors", "p50 ms", "p95 ms", "max ms"}, rows, st,
                 [&](std::size_t i, std::size_t c, std::string cell) {
                   if (c == 2 && r.commands[i].errors) return st.red(cell);
                   return cell;
                 });
    if (approx)
      out += st.dim("  ~ percentile from the log-bucket histogram (within ±0.55 %)") + "\n";
  }

  const auto& l = r.lsp;
  out += "\n" + st.bold(st.cyan("LSP")) + "\n";
  out += fmt("  spawns %llu, restarts %llu, READY %llu, FAILED %llu, ready rate ",
             static_cast<unsigned long long>(l.spawns), static_cast<unsigned long long>(l.restarts),
             static_cast<unsigned long long>(l.ready), static_cast<unsigned long long>(l.failed));
  out += (l.spawns ? rate_colored(st, l.ready_rate, true, pct(l.ready_rate)) : std::string("n/a")) +
         "\n";
  out += fmt("  position requests %llu: answered by Pyright %llu, AST fallback %llu (",
             static_cast<unsigned long long>(l.requests),
             static_cast<unsigned long long>(l.lsp_answers),
             static_cast<unsigned long long>(l.fallbacks));
  out += (l.requests ? rate_colored(st, l.fallback_rate, false, pct(l.fallback_rate))
                     : std::string("n/a")) +
         fmt("), merged %llu (%s)\n", static_cast<unsigned long long>(l.merges),
             l.requests ? pct(l.merge_rate).c_str() : "n/a");
  if (l.lsp_empty + l.lsp_external + l.lsp_unknown > 0) {
    out +=
        fmt("  Pyright READY but no answer in the segment: empty %llu, outside only %llu, "
            "Unknown hover %llu (the AST was asked)\n",
            static_cast<unsigned long long>(l.lsp_empty),
            static_cast<unsigned long long>(l.lsp_external),
            static_cast<unsigned long long>(l.lsp_unknown));
  }
  if (!l.starts.empty()) {
    out += "  time to READY per start:\n";
    for (const auto& s : l.starts) {
      out += "    " + format_ts_us(s.ts_us) + "  segment " + s.segment_id + "  ";
      out += s.ready_ms >= 0 ? st.green("READY after " + ms(s.ready_ms) + " ms")
                             : (s.outcome == "FAILED" ? st.red(s.outcome) : st.yellow(s.outcome));
      out += "\n";
    }
  }
  if (!l.timeline.empty()) {
    out += "  state timeline:\n";
    for (const auto& t : l.timeline) {
      out += "    " + format_ts_us(t.ts_us) + "  " + pad(t.from, 7) + " → " + pad(t.to, 7) + "  " +
             st.dim(fmt("after %s ms", ms(t.timing_ms).c_str())) + "  " + t.reason + "\n";
    }
    if (l.transitions > l.timeline.size())
      out += fmt("    … %llu more\n",
                 static_cast<unsigned long long>(l.transitions - l.timeline.size()));
  }

  out += "\n" + st.bold(st.cyan("AST cache")) + "\n";
  out += fmt("  requests (ast.parse events): parses %llu, hits %llu, misses %llu, hit rate ",
             static_cast<unsigned long long>(r.ast.parses),
             static_cast<unsigned long long>(r.ast.hits),
             static_cast<unsigned long long>(r.ast.misses));
  out += (r.ast.parses ? rate_colored(st, r.ast.hit_rate, true, pct(r.ast.hit_rate))
                       : std::string("n/a")) +
         "\n";

  if (r.ast.run_parses)
    out += fmt("  whole run (last_run.json, builds included): parses %llu, hits %llu, hit rate ",
               static_cast<unsigned long long>(r.ast.run_parses),
               static_cast<unsigned long long>(r.ast.run_hits)) +
           rate_colored(st, r.ast.run_hit_rate, true, pct(r.ast.run_hit_rate)) + "\n";

  out += "\n" + st.bold(st.cyan("Disclosure")) + " (tokens = ceil(bytes / 4))\n";
  rows.clear();
  std::vector<std::int64_t> saved;
  for (const char* mode : {"skeleton", "excerpt", "raw"}) {
    auto it = r.modes.find(mode);
    const ModeStats m = it != r.modes.end() ? it->second : ModeStats{};
    rows.push_back({mode, u(m.answers), u(m.files_read), u(m.bytes_read), u(m.tokens_served),
                    u(m.raw_tokens), std::to_string(m.saved())});
    saved.push_back(m.saved());
  }
  out +=
      table({"mode", "answers", "files read", "bytes read", "tokens served", "raw tokens", "saved"},
            rows, st, [&](std::size_t i, std::size_t c, std::string cell) {
              if (c == 6 && saved[i] > 0) return st.green(cell);
              if (c == 6 && saved[i] < 0) return st.yellow(cell);
              return cell;
            });

  const auto& t = r.telemetry;
  out += "\n" + st.bold(st.cyan("Telemetry")) + "\n";
  std::string drops =
      fmt("  attempted %llu, dropped %llu (drop rate %.4f), write errors %llu",
          static_cast<unsigned long long>(t.attempted), static_cast<unsigned long long>(t.dropped),
          t.drop_rate, static_cast<unsigned long long>(t.write_errors));
  out += (t.dropped || t.write_errors ? st.red(drops) : drops);
  out += t.last_run_files ? "\n" : st.dim("  (no last_run.json read)") + "\n";
  for (const auto& p : r.problems) out += "  " + st.yellow(p) + "\n";
  return out;
}

std::string render_chart_text(const Report& r, int width_in, bool color) {
  const Style st{color};
  const int width = std::max(width_in, 40);
  std::string out;
  if (r.commands.empty()) return "no events\n";
  // The time axis: the bins between the first and the last event.
  const std::int64_t w = std::max<std::int64_t>(r.bin_width_us, 1);
  const auto first_bin =
      static_cast<std::size_t>(std::max<std::int64_t>(0, (r.first_us - r.bin_start_us) / w));
  const auto last_bin = std::min<std::size_t>(
      Report::kTimeBins - 1,
      static_cast<std::size_t>(std::max<std::int64_t>(0, (r.last_us - r.bin_start_us) / w)));
  const std::size_t span = last_bin - first_bin + 1;
  static const char* kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  out += st.bold("Latency over time") + "\n";
  out += st.dim(fmt("  mean ms per %s bin, %s → %s",
                    w >= 60000000 && w % 60000000 == 0
                        ? fmt("%lldm", static_cast<long long>(w / 60000000)).c_str()
                        : fmt("%llds", static_cast<long long>(w / 1000000)).c_str(),
                    format_ts_us(r.first_us).c_str(), format_ts_us(r.last_us).c_str())) +
         "\n";
  std::size_t name_w = 8;
  for (const auto& c : r.commands)
    name_w = std::max(name_w, std::min<std::size_t>(c.cmd.size(), 24));
  // "  name  <spark>  max 123.4 ms": the spark gets what is left.
  const int tail = 16;
  const int spark_w = std::max(8, width - static_cast<int>(name_w) - 4 - tail);
  // Merge neighbouring bins when there are more than columns.
  const std::size_t per =
      (span + static_cast<std::size_t>(spark_w) - 1) / static_cast<std::size_t>(spark_w);
  for (const auto& c : r.commands) {
    std::vector<double> mean;
    std::vector<bool> has;
    double top = 0;
    for (std::size_t b = first_bin; b <= last_bin; b += per) {
      std::uint64_t n = 0;
      double sum = 0;
      for (std::size_t k = b; k < b + per && k <= last_bin; ++k) {
        n += c.over_time[k].count;
        sum += c.over_time[k].sum_ms;
      }
      mean.push_back(n ? sum / static_cast<double>(n) : 0);
      has.push_back(n > 0);
      top = std::max(top, mean.back());
    }
    std::string line;
    for (std::size_t i = 0; i < mean.size(); ++i) {
      if (!has[i]) {
        line += " ";
        continue;
      }
      const int lvl = top > 0 ? std::min(7, static_cast<int>(mean[i] / top * 7.999)) : 0;
      line += kBlocks[lvl];
    }
    std::string name = c.cmd.size() > name_w ? c.cmd.substr(0, name_w - 1) + "…" : c.cmd;
    out += "  " + pad(name, name_w) + "  " + st.cyan(line) +
           std::string(static_cast<std::size_t>(spark_w) - mean.size() + 2, ' ') +
           st.dim(pad("top " + ms(top), static_cast<std::size_t>(tail - 2))) + "\n";
  }

  // Histograms: up to 8 rows per command (the report's bins, grouped).
  out += "\n" + st.bold("Latency histograms") + "\n";
  for (const auto& c : r.commands) {
    out +=
        "  " + st.bold(c.cmd) +
        fmt("  n=%llu  p50 %s ms  p95 %s ms  max %s ms\n", static_cast<unsigned long long>(c.count),
            ms(c.p50_ms).c_str(), ms(c.p95_ms).c_str(), ms(c.max_ms).c_str());
    const std::size_t rows = 8, group = Report::kHistBins / rows;
    std::vector<std::uint64_t> h(rows, 0);
    for (std::size_t i = 0; i < c.hist.size(); ++i) h[std::min(rows - 1, i / group)] += c.hist[i];
    const std::uint64_t top = *std::max_element(h.begin(), h.end());
    std::vector<std::string> labels;
    std::size_t label_w = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      const double lo = c.hist_hi_ms * static_cast<double>(i) / rows;
      const double hi = c.hist_hi_ms * static_cast<double>(i + 1) / rows;
      labels.push_back(i + 1 == rows ? "≥ " + ms(lo) : ms(lo) + "–" + ms(hi));
      label_w = std::max(label_w, columns(labels.back()));
    }
    const int count_w = static_cast<int>(std::to_string(top).size());
    const int bar_w = std::max(4, width - 4 - static_cast<int>(label_w) - 4 - count_w - 1);
    for (std::size_t i = 0; i < rows; ++i) {
      const double frac = top ? static_cast<double>(h[i]) / static_cast<double>(top) : 0;
      const int eighths = static_cast<int>(std::lround(frac * bar_w * 8));
      std::string bar;
      for (int k = 0; k < eighths / 8; ++k) bar += "█";
      static const char* kPart[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
      bar += kPart[eighths % 8];
      if (h[i] && bar.empty()) bar = "▏";
      out += "    " + pad(labels[i], label_w, true) + " ms " + st.green(bar) + " " +
             std::to_string(h[i]) + "\n";
    }
  }
  return out;
}

}  // namespace trifecta::core::telemetry
