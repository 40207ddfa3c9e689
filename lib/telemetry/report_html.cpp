// telemetry/report_html.cpp — `telemetry report --html FILE`: the report as one self-contained
// HTML page. Charts are inline SVG drawn here (no script draws anything); a Content-Security-
// Policy forbids every network fetch; the only script is an inline error trap that writes any
// error into the page (#js-errors), so a browser test can see it. Every string that comes from
// the data (command names, reasons, segment ids, file names) goes through html_escape.
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "telemetry/report.hpp"
#include "telemetry/report_format.hpp"

namespace trifecta::core::telemetry {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

using report_format::fmt;
using report_format::ms;
using report_format::pct;
using report_format::u;
const char* kPalette[] = {"#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c",
                          "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"};
const char* state_color(std::string_view s) {
  if (s == "READY") return "#16a34a";
  if (s == "WARMING") return "#f59e0b";
  if (s == "FAILED") return "#dc2626";
  if (s == "COLD") return "#9ca3af";
  return "#6b7280";
}

// Latency over time: one row per command (at most 12), a bar per time bin (mean ms, scaled to
// the row's own top), the max to the right.
std::string latency_chart(const Report& r) {
  const std::size_t rows = std::min<std::size_t>(r.commands.size(), 12);
  const int W = 900, label = 170, right = 110, rowh = 34;
  const int H = static_cast<int>(rows) * rowh + 30;
  const std::int64_t w = std::max<std::int64_t>(r.bin_width_us, 1);
  const auto first =
      static_cast<std::size_t>(std::max<std::int64_t>(0, (r.first_us - r.bin_start_us) / w));
  const auto last = std::min<std::size_t>(
      Report::kTimeBins - 1,
      static_cast<std::size_t>(std::max<std::int64_t>(0, (r.last_us - r.bin_start_us) / w)));
  const std::size_t span = last >= first ? last - first + 1 : 1;
  const double bw = static_cast<double>(W - label - right) / static_cast<double>(span);
  std::string s = fmt(
      R"(<svg id="chart-latency" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="latency over time per command">)",
      W, H, W, H);
  for (std::size_t i = 0; i < rows; ++i) {
    const auto& c = r.commands[i];
    const int y0 = static_cast<int>(i) * rowh + 4;
    double top = 0;
    for (std::size_t b = first; b <= last; ++b)
      if (c.over_time[b].count)
        top = std::max(top, c.over_time[b].sum_ms / static_cast<double>(c.over_time[b].count));
    s += fmt(R"(<g class="series" data-cmd="%s"><text x="0" y="%d" class="lbl">%s</text>)",
             html_escape(c.cmd).c_str(), y0 + rowh / 2 + 4, html_escape(c.cmd).c_str());
    s += fmt(R"(<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>)", label, y0 + rowh - 6,
             W - right, y0 + rowh - 6);
    for (std::size_t b = first; b <= last; ++b) {
      const auto& bin = c.over_time[b];
      if (!bin.count) continue;
      const double mean = bin.sum_ms / static_cast<double>(bin.count);
      const double h = std::max(1.5, top > 0 ? mean / top * (rowh - 10) : 1.5);
      s += fmt(
          R"(<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %llu events, mean %s ms, max %s ms</title></rect>)",
          label + static_cast<double>(b - first) * bw, y0 + rowh - 6 - h, std::max(1.0, bw - 1), h,
          kPalette[i % 10], format_ts_us(r.bin_start_us + static_cast<std::int64_t>(b) * w).c_str(),
          static_cast<unsigned long long>(bin.count), ms(mean).c_str(), ms(bin.max_ms).c_str());
    }
    s += fmt(R"(<text x="%d" y="%d" class="val">top %s ms</text></g>)", W - right + 8,
             y0 + rowh / 2 + 4, ms(top).c_str());
  }
  s += fmt(
      R"(<text x="%d" y="%d" class="val">%s</text><text x="%d" y="%d" class="val" text-anchor="end">%s</text>)",
      label, H - 6, format_ts_us(r.first_us).c_str(), W - right, H - 6,
      format_ts_us(r.last_us).c_str());
  return s + "</svg>";
}

// The LSP state timeline: one band per segment, coloured by state between transitions.
std::string lsp_chart(const Report& r) {
  std::vector<std::string> segs;
  for (const auto& t : r.lsp.timeline)
    if (std::find(segs.begin(), segs.end(), t.segment_id) == segs.end())
      segs.push_back(t.segment_id);
  const int W = 900, label = 170, right = 20, rowh = 30;
  const int H = std::max<int>(1, static_cast<int>(segs.size())) * rowh + 50;
  const double t0 = static_cast<double>(r.first_us),
               t1 = static_cast<double>(std::max(r.last_us, r.first_us + 1));
  auto X = [&](std::int64_t us) {
    return label + (static_cast<double>(us) - t0) / (t1 - t0) * (W - label - right);
  };
  std::string s = fmt(
      R"(<svg id="chart-lsp-timeline" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="LSP state timeline">)",
      W, H, W, H);
  if (segs.empty())
    s += fmt(R"(<text x="%d" y="20" class="val">no LSP state changes</text>)", label);
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const int y = static_cast<int>(i) * rowh + 6;
    s += fmt(R"(<text x="0" y="%d" class="lbl">segment %s</text>)", y + 18,
             html_escape(segs[i]).c_str());
    const LspTransition* prev = nullptr;
    auto band = [&](std::int64_t from, std::int64_t to, const std::string& state) {
      s += fmt(
          R"(<rect class="state" data-state="%s" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s from %s</title></rect>)",
          html_escape(state).c_str(), X(from), y, std::max(1.0, X(to) - X(from)), rowh - 8,
          state_color(state), html_escape(state).c_str(), format_ts_us(from).c_str());
    };
    for (const auto& t : r.lsp.timeline) {
      if (t.segment_id != segs[i]) continue;
      if (prev) band(prev->ts_us, t.ts_us, prev->to);
      prev = &t;
    }
    if (prev) band(prev->ts_us, r.last_us, prev->to);
  }
  int x = label;
  for (const char* st : {"COLD", "WARMING", "READY", "FAILED"}) {
    s += fmt(
        R"(<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" class="val">%s</text>)",
        x, H - 22, state_color(st), x + 16, H - 12, st);
    x += 110;
  }
  return s + "</svg>";
}

// Bytes read and tokens per disclosure mode: grouped horizontal bars.
std::string disclosure_chart(const Report& r) {
  const int W = 900, label = 170, right = 150, rowh = 22;
  const char* modes[] = {"skeleton", "excerpt", "raw"};
  double top_bytes = 1, top_tokens = 1;
  for (const char* m : modes) {
    auto it = r.modes.find(m);
    if (it == r.modes.end()) continue;
    top_bytes = std::max(top_bytes, static_cast<double>(it->second.bytes_read));
    top_tokens = std::max({top_tokens, static_cast<double>(it->second.raw_tokens),
                           static_cast<double>(it->second.tokens_served)});
  }
  const int H = 3 * (3 * rowh + 12) + 10;
  std::string s = fmt(
      R"(<svg id="chart-disclosure" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="bytes and tokens per disclosure mode">)",
      W, H, W, H);
  int y = 4;
  for (const char* m : modes) {
    auto it = r.modes.find(m);
    const ModeStats st = it != r.modes.end() ? it->second : ModeStats{};
    s += fmt(R"(<text x="0" y="%d" class="lbl">%s</text>)", y + rowh, m);
    struct Bar {
      const char* what;
      double v, top;
      const char* color;
    } bars[] = {{"bytes read", static_cast<double>(st.bytes_read), top_bytes, "#2563eb"},
                {"raw tokens", static_cast<double>(st.raw_tokens), top_tokens, "#9ca3af"},
                {"tokens served", static_cast<double>(st.tokens_served), top_tokens, "#16a34a"}};
    for (const auto& b : bars) {
      const double w = std::max(1.0, b.v / b.top * (W - label - right));
      s += fmt(
          R"(<rect class="bar" data-mode="%s" x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %.0f</title></rect><text x="%.1f" y="%d" class="val">%s %.0f</text>)",
          m, label, y, w, rowh - 4, b.color, m, b.what, b.v, label + w + 6, y + rowh - 8, b.what,
          b.v);
      y += rowh;
    }
    y += 12;
  }
  return s + "</svg>";
}

// The AST cache: one stacked bar, hits and misses.
std::string cache_chart(const Report& r) {
  const int W = 900, H = 60, label = 170, right = 20;
  const double total = static_cast<double>(std::max<std::uint64_t>(r.ast.parses, 1));
  const double wh = (W - label - right) * static_cast<double>(r.ast.hits) / total;
  const double wm = (W - label - right) * static_cast<double>(r.ast.misses) / total;
  std::string s = fmt(
      R"(<svg id="chart-cache" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="AST cache hit rate">)",
      W, H, W, H);
  s += fmt(R"(<text x="0" y="24" class="lbl">hit rate %s</text>)",
           r.ast.parses ? pct(r.ast.hit_rate).c_str() : "n/a");
  s += fmt(
      R"(<rect x="%d" y="8" width="%.1f" height="24" fill="#16a34a" class="hits"><title>hits %llu</title></rect>)",
      label, wh, static_cast<unsigned long long>(r.ast.hits));
  s += fmt(
      R"(<rect x="%.1f" y="8" width="%.1f" height="24" fill="#dc2626" class="misses"><title>misses %llu</title></rect>)",
      label + wh, wm, static_cast<unsigned long long>(r.ast.misses));
  if (!r.ast.parses)
    s += fmt(R"(<rect x="%d" y="8" width="%d" height="24" fill="#e5e7eb" class="empty"/>)", label,
             W - label - right);
  s += fmt(
      R"(<text x="%d" y="50" class="val">requests: %llu hits, %llu misses of %llu parses; whole run with builds: %llu of %llu hits</text>)",
      label, static_cast<unsigned long long>(r.ast.hits),
      static_cast<unsigned long long>(r.ast.misses), static_cast<unsigned long long>(r.ast.parses),
      static_cast<unsigned long long>(r.ast.run_hits),
      static_cast<unsigned long long>(r.ast.run_parses));
  return s + "</svg>";
}

}  // namespace

std::string render_report_html(const Report& r) {
  std::string h;
  h += R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trifecta telemetry report</title>
<script>window.onerror=function(m,s,l){var e=document.getElementById('js-errors');if(e){e.textContent+=m+' (line '+l+')\n';e.hidden=false;}};</script>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#111827;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
table{border-collapse:collapse;margin:6px 0}th,td{padding:3px 10px;text-align:right;border-bottom:1px solid #f3f4f6}
th:first-child,td:first-child{text-align:left}th{background:#f9fafb}
.err{color:#dc2626;font-weight:600}.muted{color:#6b7280}.chart{display:block;max-width:100%;height:auto;margin:8px 0}
.lbl{font:12px monospace;fill:#111827}.val{font:11px monospace;fill:#4b5563}.axis{stroke:#d1d5db;stroke-width:1}
#js-errors{color:#dc2626;white-space:pre}
</style></head><body>
<pre id="js-errors" hidden></pre>
)";
  h += "<h1>Trifecta telemetry report</h1>\n<p class=\"muted\" id=\"summary\">";
  h += fmt("%llu events from %zu file(s)", static_cast<unsigned long long>(r.events),
           r.files.size());
  if (r.first_us) h += ", " + format_ts_us(r.first_us) + " → " + format_ts_us(r.last_us);
  h += fmt(", %zu run(s)", r.runs.size());
  if (r.since_us) h += ", since " + format_ts_us(r.since_us);
  if (r.invalid_lines || r.torn_tails)
    h += fmt(", <span class=\"err\">%llu invalid line(s), %llu torn tail(s)</span>",
             static_cast<unsigned long long>(r.invalid_lines),
             static_cast<unsigned long long>(r.torn_tails));
  h += "</p>\n";

  h += "<h2>Commands</h2>\n<table "
       "id=\"commands\"><thead><tr><th>command</th><th>count</th><th>errors</th>"
       "<th>p50 ms</th><th>p95 ms</th><th>max ms</th></tr></thead><tbody>\n";
  for (const auto& c : r.commands) {
    h += "<tr><td>" + html_escape(c.cmd) + "</td><td>" + u(c.count) + "</td><td" +
         (c.errors ? " class=\"err\"" : "") + ">" + u(c.errors) + "</td><td>" + ms(c.p50_ms) +
         (c.exact ? "" : "~") + "</td><td>" + ms(c.p95_ms) + (c.exact ? "" : "~") + "</td><td>" +
         ms(c.max_ms) + "</td></tr>\n";
  }
  h += "</tbody></table>\n<h2>Latency over time</h2>\n<p class=\"muted\">Mean latency per time "
       "bin, each row scaled to its own top.</p>\n";
  h += latency_chart(r) + "\n";

  const auto& l = r.lsp;
  h += "<h2>LSP</h2>\n<table id=\"lsp\"><tbody>\n";
  h += "<tr><td>spawns</td><td>" + u(l.spawns) + "</td></tr><tr><td>restarts</td><td>" +
       u(l.restarts) + "</td></tr><tr><td>READY / FAILED</td><td>" + u(l.ready) + " / " +
       u(l.failed) + "</td></tr><tr><td>ready rate</td><td>" +
       (l.spawns ? pct(l.ready_rate) : "n/a") + "</td></tr><tr><td>position requests</td><td>" +
       u(l.requests) + "</td></tr><tr><td>AST fallback rate</td><td>" +
       (l.requests ? pct(l.fallback_rate) : "n/a") + "</td></tr><tr><td>merge rate</td><td>" +
       (l.requests ? pct(l.merge_rate) : "n/a") + "</td></tr>\n";
  h += "</tbody></table>\n";
  if (!l.starts.empty()) {
    h += "<table id=\"lsp-starts\"><thead><tr><th>start</th><th>segment</th><th>time to "
         "READY</th><th>outcome</th></tr></thead><tbody>\n";
    for (const auto& s : l.starts)
      h += "<tr><td>" + format_ts_us(s.ts_us) + "</td><td>" + html_escape(s.segment_id) +
           "</td><td>" + (s.ready_ms >= 0 ? ms(s.ready_ms) + " ms" : std::string("—")) +
           "</td><td>" + html_escape(s.outcome) + "</td></tr>\n";
    h += "</tbody></table>\n";
  }
  h += lsp_chart(r) + "\n";

  h += "<h2>AST cache</h2>\n" + cache_chart(r) + "\n";

  h += "<h2>Disclosure</h2>\n<table "
       "id=\"disclosure\"><thead><tr><th>mode</th><th>answers</th><th>files read</th>"
       "<th>bytes read</th><th>tokens served</th><th>raw "
       "tokens</th><th>saved</th></tr></thead><tbody>\n";
  for (const char* m : {"skeleton", "excerpt", "raw"}) {
    auto it = r.modes.find(m);
    const ModeStats st = it != r.modes.end() ? it->second : ModeStats{};
    h += std::string("<tr><td>") + m + "</td><td>" + u(st.answers) + "</td><td>" +
         u(st.files_read) + "</td><td>" + u(st.bytes_read) + "</td><td>" + u(st.tokens_served) +
         "</td><td>" + u(st.raw_tokens) + "</td><td>" + std::to_string(st.saved()) + "</td></tr>\n";
  }
  h += "</tbody></table>\n" + disclosure_chart(r) + "\n";

  const auto& t = r.telemetry;
  h += "<h2>Telemetry</h2>\n<table id=\"telemetry\"><tbody>";
  h += "<tr><td>attempted</td><td>" + u(t.attempted) + "</td></tr><tr><td>dropped</td><td" +
       (t.dropped ? " class=\"err\"" : "") + ">" + u(t.dropped) +
       "</td></tr><tr><td>drop rate</td><td>" + fmt("%.4f", t.drop_rate) +
       "</td></tr><tr><td>write errors</td><td" + (t.write_errors ? " class=\"err\"" : "") + ">" +
       u(t.write_errors) + "</td></tr><tr><td>invalid lines</td><td>" + u(r.invalid_lines) +
       "</td></tr>";
  h += "</tbody></table>\n";
  if (!r.problems.empty()) {
    h += "<ul id=\"problems\">";
    for (const auto& p : r.problems) h += "<li>" + html_escape(p) + "</li>";
    h += "</ul>\n";
  }
  h += "<p class=\"muted\">Generated by <code>trifecta telemetry report --html</code>. "
       "Definitions: docs/telemetry.md.</p>\n";
  h += "</body></html>\n";
  return h;
}

}  // namespace trifecta::core::telemetry
