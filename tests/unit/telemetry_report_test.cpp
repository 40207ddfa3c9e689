// Tests of lib/telemetry/report.hpp: the aggregation behind `trifecta telemetry report` on the
// committed sample (a real daemon session, tests/fixtures/telemetry), the latency sketch's error
// bound, the time axis, health thresholds, the CSV/JSONL export and the HTML escaping.
//
// The expected numbers for the sample were computed independently, by plain Python over the same
// file: `python3 tests/fixtures/telemetry/oracle.py tests/fixtures/telemetry` (nearest-rank
// percentiles over every sample, the definitions of report.hpp); re-run it after regenerating the
// sample and paste its figures here.
#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "../support/temp_dir.hpp"
#include "telemetry/report.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace trifecta::core::telemetry;

namespace {

const fs::path kSample = fs::path(TRIFECTA_FIXTURES_DIR) / "telemetry";

const CommandStats* find_cmd(const Report& r, std::string_view cmd) {
  for (const auto& c : r.commands)
    if (c.cmd == cmd) return &c;
  return nullptr;
}

std::string event_line(std::string_view ts, std::string_view cmd, double ms,
                       std::string_view result = "{}", std::string_view args = "{}",
                       std::string_view x = "{}", std::string_view seg = "abcd1234") {
  char buf[2048];
  std::snprintf(
      buf, sizeof buf,
      R"({"ts":"%.*s","run_id":"run_1","segment_id":"%.*s","cmd":"%.*s","args":%.*s,)"
      R"("result":%.*s,"timing_ms":%.6f,"tokens":{"in":1,"out":1},"warnings":[],"x":%.*s})",
      static_cast<int>(ts.size()), ts.data(), static_cast<int>(seg.size()), seg.data(),
      static_cast<int>(cmd.size()), cmd.data(), static_cast<int>(args.size()), args.data(),
      static_cast<int>(result.size()), result.data(), ms, static_cast<int>(x.size()), x.data());
  return buf;
}

}  // namespace

TEST_CASE("report on the committed sample matches the independent Python figures",
          "[telemetry][report]") {
  auto rep = build_report({kSample});
  REQUIRE(rep);
  const Report& r = *rep;
  CHECK(r.events == 66);
  CHECK(r.invalid_lines == 0);
  CHECK(r.torn_tails == 0);
  REQUIRE(r.commands.size() == 20);
  struct Row {
    const char* cmd;
    std::uint64_t count, errors;
    double p50, p95, max;
  };
  // oracle.py's "cmd" lines, in its order (count descending, then name), which is the report's.
  const Row rows[] = {
      {"ast.parse", 13, 0, 0.12, 20.085, 20.085},
      {"selector.resolve", 7, 0, 0.462, 0.784, 0.784},
      {"ctx.get", 6, 0, 0.831, 1.07, 1.07},
      {"ctx.search", 6, 0, 0.288, 0.654, 0.654},
      {"file.read", 6, 0, 0.044, 0.157, 0.157},
      {"lsp.request", 5, 0, 499.109, 1719.976, 1719.976},
      {"ast.skeleton", 3, 0, 0.304, 0.441, 0.441},
      {"lsp.definition", 3, 0, 2329.418, 10927.925, 10927.925},
      {"lsp.state_change", 3, 0, 3742.426, 26261.471, 26261.471},
      {"lsp.fallback", 2, 0, 0.0, 0.0, 0.0},
      {"lsp.hover", 2, 0, 3.974, 499.537, 499.537},
      {"sym.resolve", 2, 1, 0.582, 0.937, 0.937},
      {"ctx.build", 1, 0, 11059.801, 11059.801, 11059.801},
      {"ctx.status", 1, 0, 1.988, 1.988, 1.988},
      {"ctx.validate", 1, 0, 242.659, 242.659, 242.659},
      {"index.build", 1, 0, 10983.26, 10983.26, 10983.26},
      {"lsp.diagnostics", 1, 0, 1720.536, 1720.536, 1720.536},
      {"lsp.references", 1, 0, 581.101, 581.101, 581.101},
      {"lsp.spawn", 1, 0, 0.0, 0.0, 0.0},
      {"lsp.stop", 1, 0, 125.206, 125.206, 125.206},
  };
  for (std::size_t i = 0; i < std::size(rows); ++i) {
    INFO(rows[i].cmd);
    const auto& c = r.commands[i];
    CHECK(c.cmd == rows[i].cmd);
    CHECK(c.count == rows[i].count);
    CHECK(c.errors == rows[i].errors);
    CHECK(c.exact);
    CHECK(c.p50_ms == Approx(rows[i].p50).margin(1e-9));
    CHECK(c.p95_ms == Approx(rows[i].p95).margin(1e-9));
    CHECK(c.max_ms == Approx(rows[i].max).margin(1e-9));
  }
  // lsp spawns=1 ready=1 failed=0 position=7 fallbacks=2; time_to_ready_ms=26261.471
  CHECK(r.lsp.spawns == 1);
  CHECK(r.lsp.restarts == 0);
  CHECK(r.lsp.ready == 1);
  CHECK(r.lsp.failed == 0);
  CHECK(r.lsp.ready_rate == 1.0);
  CHECK(r.lsp.requests == 7);
  CHECK(r.lsp.fallbacks == 2);
  CHECK(r.lsp.lsp_answers == 5);
  CHECK(r.lsp.fallback_rate == Approx(2.0 / 7.0));
  CHECK(r.lsp.merges == 0);
  REQUIRE(r.lsp.starts.size() == 1);
  CHECK(r.lsp.starts[0].outcome == "READY");
  CHECK(r.lsp.starts[0].ready_ms == Approx(26261.471).margin(1e-6));
  CHECK(r.lsp.timeline.size() == 3);
  // ast parses=13 hits=13
  CHECK(r.ast.parses == 13);
  CHECK(r.ast.hits == 13);
  // run ast parses=1949 hits=989 (last_run.json: index builds included)
  CHECK(r.ast.run_parses == 1949);
  CHECK(r.ast.run_hits == 989);
  CHECK(r.ast.run_hit_rate == Approx(989.0 / 1949.0));
  // mode skeleton answers=2 files=2 bytes=28503 served=376 raw=7127 saved=6751 (and the others)
  const struct {
    const char* mode;
    std::uint64_t answers, files, bytes, served, raw;
    std::int64_t saved;
  } modes[] = {{"skeleton", 2, 2, 28503, 376, 7127, 6751},
               {"excerpt", 2, 2, 32955, 448, 8240, 7792},
               {"raw", 2, 2, 28553, 2215, 7139, 4924}};
  for (const auto& m : modes) {
    INFO(m.mode);
    const ModeStats& s = r.modes.at(m.mode);
    CHECK(s.answers == m.answers);
    CHECK(s.files_read == m.files);
    CHECK(s.bytes_read == m.bytes);
    CHECK(s.tokens_served == m.served);
    CHECK(s.raw_tokens == m.raw);
    CHECK(s.saved() == m.saved);
  }
  // drops attempted=3987 dropped=0 write_errors=0
  CHECK(r.telemetry.last_run_files == 1);
  CHECK(r.telemetry.attempted == 3987);
  CHECK(r.telemetry.dropped == 0);
  CHECK(r.telemetry.write_errors == 0);

  // The JSON carries the same figures.
  const json::object j = report_to_json(r);
  CHECK(j.at("source").at("events").as_uint64() == 66);
  CHECK(j.at("commands").as_array()[0].at("cmd").as_string() == "ast.parse");
  CHECK(j.at("disclosure").at("raw").at("saved_tokens").as_int64() == 4924);
  CHECK(j.at("lsp").at("fallbacks").as_uint64() == 2);
}

TEST_CASE("latency sketch: exact up to its sample bound, then within 0.55 percent",
          "[telemetry][report]") {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(1.0, 1.5);
  LatencySketch s;
  std::vector<double> all;
  for (int i = 0; i < 200000; ++i) {
    const double v = dist(rng);
    s.add(v);
    all.push_back(v);
    if (i + 1 == static_cast<int>(LatencySketch::kExactSamples)) {
      // Still exact: nearest rank over every sample.
      std::vector<double> v2 = all;
      std::sort(v2.begin(), v2.end());
      CHECK(s.exact());
      CHECK(s.percentile(50) == v2[static_cast<std::size_t>(std::ceil(0.5 * v2.size())) - 1]);
      CHECK(s.percentile(95) == v2[static_cast<std::size_t>(std::ceil(0.95 * v2.size())) - 1]);
    }
  }
  CHECK_FALSE(s.exact());
  std::sort(all.begin(), all.end());
  CHECK(s.count() == all.size());
  CHECK(s.max() == all.back());
  for (double p : {1.0, 10.0, 50.0, 90.0, 95.0, 99.0, 99.9}) {
    INFO("p" << p);
    const double exact = all[static_cast<std::size_t>(std::ceil(p / 100 * all.size())) - 1];
    CHECK(std::abs(s.percentile(p) - exact) / exact <= 0.0055);
  }
  // Zero and sub-resolution timings are one bucket, reported as 0.
  LatencySketch z;
  for (std::size_t i = 0; i < LatencySketch::kExactSamples + 10; ++i) z.add(0.0);
  CHECK(z.percentile(50) == 0.0);
}

TEST_CASE("report streaming: torn tails, invalid lines, since, restarts, AST hits",
          "[telemetry][report]") {
  trifecta::test::TempDir tmp;
  const fs::path f = tmp.path() / "events.jsonl";
  {
    std::ofstream o(f, std::ios::binary);
    o << event_line("2026-01-01T00:00:00.000000+00:00", "lsp.spawn", 0) << "\n";
    o << event_line("2026-01-01T00:00:00.100000+00:00", "lsp.state_change", 0,
                    R"({"from_state":"COLD","to_state":"WARMING","reason":"start"})")
      << "\n";
    o << "not json\n";
    o << R"({"ts":"yesterday","cmd":"x"})"
      << "\n";
    o << event_line("2026-01-01T00:00:01+00:00", "lsp.state_change", 0,
                    R"({"from_state":"WARMING","to_state":"FAILED","reason":"crash"})")
      << "\n";
    o << event_line("2026-01-01T00:00:02Z", "lsp.spawn", 0) << "\n";  // a restart
    o << event_line("2026-01-01T00:00:02.5Z", "lsp.state_change", 0,
                    R"({"from_state":"COLD","to_state":"WARMING","reason":"restart"})")
      << "\n";
    o << event_line("2026-01-01T00:00:04.5Z", "lsp.state_change", 1750.25,
                    R"({"from_state":"WARMING","to_state":"READY","reason":"ok"})")
      << "\n";
    o << event_line("2026-01-01T00:10:00Z", "ast.parse", 1, R"({"status":"ok"})", R"({})",
                    R"({"cache_hit":true})")
      << "\n";
    o << event_line("2026-01-01T00:10:01Z", "ast.parse", 3, R"({"status":"ok"})", R"({})",
                    R"({"cache_hit":false})")
      << "\n";
    o << event_line("2026-01-01T00:10:02Z", "ast.parse", 2, R"({"status":"ok"})", R"({})",
                    R"({"cache_hit":true})")
      << "\n";
    o << R"({"ts":"2026-01-01T00:11:00Z","cmd":"ping")";  // torn: no newline
  }
  auto rep = build_report({f});
  REQUIRE(rep);
  CHECK(rep->lines == 11);
  CHECK(rep->invalid_lines == 2);
  CHECK(rep->torn_tails == 1);
  CHECK(rep->events == 9);
  CHECK(rep->problems.size() == 3);
  CHECK(rep->lsp.spawns == 2);
  CHECK(rep->lsp.restarts == 1);
  CHECK(rep->lsp.failed == 1);
  CHECK(rep->lsp.ready == 1);
  CHECK(rep->lsp.ready_rate == 0.5);
  REQUIRE(rep->lsp.starts.size() == 2);
  CHECK(rep->lsp.starts[0].outcome == "FAILED");
  CHECK(rep->lsp.starts[0].ready_ms == -1);
  CHECK(rep->lsp.starts[1].ready_ms == 1750.25);  // timing_ms (time in WARMING) wins
  CHECK(rep->ast.parses == 3);
  CHECK(rep->ast.hits == 2);
  CHECK(rep->ast.hit_rate == Approx(2.0 / 3.0));
  const CommandStats* ap = find_cmd(*rep, "ast.parse");
  REQUIRE(ap);
  CHECK(ap->p50_ms == 2);
  CHECK(ap->max_ms == 3);
  // The time axis grew from 1 s bins to cover ten minutes, in 60 bins.
  CHECK(rep->bin_width_us >= 16'000'000);
  std::uint64_t binned = 0;
  for (const auto& c : rep->commands)
    for (const auto& b : c.over_time) binned += b.count;
  CHECK(binned == rep->events);

  // --since: only events at or after the instant.
  ReportOptions since;
  since.since_us = *parse_ts_us("2026-01-01T00:05:00Z");
  auto late = build_report({f}, since);
  REQUIRE(late);
  CHECK(late->events == 3);
  CHECK(late->before_since == 6);

  // A missing file is a typed error.
  auto missing = build_report({tmp.path() / "nope.jsonl"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == trifecta::core::Errc::kNotFound);
}

TEST_CASE("the time axis takes events out of order", "[telemetry][report]") {
  Aggregator a;
  a.add_line(event_line("2026-01-01T12:00:00Z", "ping", 1));
  a.add_line(event_line("2026-01-01T11:00:00Z", "ping", 2));  // an hour earlier
  a.add_line(event_line("2026-01-01T13:30:00Z", "ping", 3));
  const Report r = a.finish();
  REQUIRE(r.commands.size() == 1);
  const auto& bins = r.commands[0].over_time;
  std::uint64_t n = 0;
  for (const auto& b : bins) n += b.count;
  CHECK(n == 3);
  CHECK(r.bin_start_us <= *parse_ts_us("2026-01-01T11:00:00Z"));
  CHECK(r.bin_start_us + static_cast<std::int64_t>(Report::kTimeBins) * r.bin_width_us >
        *parse_ts_us("2026-01-01T13:30:00Z"));
}

TEST_CASE("timestamps and durations", "[telemetry][report]") {
  CHECK(parse_ts_us("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_ts_us("2026-11-25T17:17:23.028379+00:00") == 1795627043028379LL);
  CHECK(parse_ts_us("2026-11-25T18:17:23.028379+01:00") == 1795627043028379LL);
  CHECK(parse_ts_us("2026-11-25T17:17:23.5Z") == 1795627043500000LL);
  CHECK_FALSE(parse_ts_us("2026-11-25"));
  CHECK_FALSE(parse_ts_us("2026-13-25T17:17:23Z"));
  CHECK_FALSE(parse_ts_us("2026-11-25T17:17:23"));  // no offset
  CHECK(format_ts_us(1795627043028379LL) == "2026-11-25T17:17:23Z");
  CHECK(parse_duration_s("90s") == 90);
  CHECK(parse_duration_s("15m") == 900);
  CHECK(parse_duration_s("1h30m") == 5400);
  CHECK(parse_duration_s("7d") == 7 * 86400);
  CHECK_FALSE(parse_duration_s("15"));
  CHECK_FALSE(parse_duration_s("0s"));
  CHECK_FALSE(parse_duration_s("-5m"));
  CHECK_FALSE(parse_duration_s("5x"));
}

TEST_CASE("health: each threshold fails with its reason, flags override", "[telemetry][report]") {
  auto rep = build_report({kSample});
  REQUIRE(rep);
  HealthThresholds t;
  // Under the defaults the sample fails one check: the definition that waited (--wait) for
  // Pyright to be READY took 10.9 s, above the 10 s default ceiling.
  auto f = check_health(*rep, t);
  REQUIRE(f.size() == 1);
  CHECK(f[0].check == "p95:lsp.definition");
  CHECK(f[0].reason == "lsp.definition p95 10927.925 ms > 10000.000 ms (3 events)");
  t.p95_ms["lsp.definition"] = 15000;  // a command's own ceiling overrides the default
  CHECK(check_health(*rep, t).empty());

  t.max_error_rate = 0.01;  // 1 error in 66 events = 0.0152
  t.p95_ms["ctx.search"] = 0.5;
  f = check_health(*rep, t);
  REQUIRE(f.size() == 2);
  CHECK(f[0].check == "error_rate");
  CHECK(f[0].reason == "error rate 0.0152 (1 of 66 events) > 0.0100");
  CHECK(f[1].check == "p95:ctx.search");
  CHECK(f[1].reason == "ctx.search p95 0.654 ms > 0.500 ms (6 events)");

  Report r = *rep;
  r.telemetry.attempted = 1000;
  r.telemetry.dropped = 30;
  r.telemetry.drop_rate = 0.03;
  r.telemetry.write_errors = 2;
  r.lsp.failed = 1;
  HealthThresholds d;
  d.p95_ms["lsp.definition"] = 15000;
  d.max_lsp_failure_rate = 0.5;
  f = check_health(r, d);
  REQUIRE(f.size() == 3);
  CHECK(f[0].check == "drop_rate");
  CHECK(f[1].check == "write_errors");
  CHECK(f[2].check == "lsp_failure_rate");  // 1 FAILED of 1 spawn
  d.max_drop_rate = 0.05;
  d.max_write_errors = 5;
  d.max_lsp_failure_rate = 1.0;
  CHECK(check_health(r, d).empty());

  Report empty;
  f = check_health(empty, HealthThresholds{});
  REQUIRE(f.size() == 1);
  CHECK(f[0].check == "events");
}

TEST_CASE("export: RFC 4180 quoting and one row per event", "[telemetry][report]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");

  trifecta::test::TempDir tmp;
  const fs::path out = tmp.path() / "out.jsonl";
  std::FILE* f = std::fopen(out.c_str(), "wb");
  REQUIRE(f);
  auto rows = export_events({kSample / "events.jsonl"}, ExportFormat::kJsonl, 0, f);
  std::fclose(f);
  REQUIRE(rows);
  CHECK(*rows == 66);
  std::ifstream in(out);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    const json::object o = json::parse(line).as_object();
    CHECK(o.size() == std::size(kExportColumns));
    ++n;
  }
  CHECK(n == 66);
}

TEST_CASE("HTML report: self-contained, data escaped", "[telemetry][report]") {
  CHECK(html_escape(R"(<script>alert("x") & 'y'</script>)") ==
        "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;");
  Aggregator a;
  a.add_line(event_line("2026-01-01T12:00:00Z", "<img src=x onerror=alert(1)>", 1));
  a.add_line(event_line("2026-01-01T12:00:01Z", "lsp.state_change", 0,
                        R"({"from_state":"COLD","to_state":"WARMING","reason":"<b>"})", "{}", "{}",
                        "<seg>"));
  const std::string html = render_report_html(a.finish());
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
  CHECK(html.find("<seg>") == std::string::npos);
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  for (const char* id : {"chart-latency", "chart-lsp-timeline", "chart-disclosure", "chart-cache"})
    CHECK(html.find(std::string("id=\"") + id + "\"") != std::string::npos);
}
