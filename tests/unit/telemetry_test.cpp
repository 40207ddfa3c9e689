// Spec of lib/telemetry: the event contract, redaction, summaries, the single writer and the reader.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "../support/temp_dir.hpp"
#include "telemetry/bounded_queue.hpp"
#include "telemetry/event.hpp"
#include "telemetry/reader.hpp"
#include "telemetry/sink.hpp"
#include "telemetry/summary.hpp"
#include "util/clock.hpp"
#include "util/hash.hpp"
#include "util/paths.hpp"

using namespace trifecta::core;
using namespace trifecta::core::telemetry;
namespace json = boost::json;

namespace {

SinkOptions test_options(const fs::path& dir) {
  SinkOptions o;
  o.enabled = true;
  o.dir_override = dir;
  o.flush_interval = std::chrono::milliseconds(50);
  return o;
}

using trifecta::test::read_text;

json::object last_run(const fs::path& dir) { return json::parse(read_text(dir / "last_run.json")).as_object(); }

struct Fixture {
  trifecta::test::TempDir tmp;
  fs::path root = tmp.path() / "repo";
  fs::path out = tmp.path() / "telemetry";
  Fixture() { fs::create_directories(root); root = fs::canonical(root); }
  fs::path dir() const { return out / segment_id_of(root.string()); }
};

}  // namespace

TEST_CASE("an extra field named like a core key is refused, naming the key", "[reserved]") {
  Fixture f;
  Sink sink(test_options(f.out));
  Channel ch = sink.open_segment(f.root);
  auto r = ch.event("test.cmd", {}, {}, 100, {}, json::object{{"ts", "2026-01-01T00:00:00Z"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::kInvalidArgument);
  CHECK_THAT(r.error().message, Catch::Contains("reserved keys: ts"));
}

TEST_CASE("several colliding keys are all named in the error", "[reserved]") {
  auto r = check_extra_fields(json::object{{"ts", 1}, {"run_id", "x"}, {"fine", 2}, {"x", 3}});
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("ts, run_id, x"));
  CHECK_THAT(r.error().message, !Catch::Contains("fine,"));
  for (auto k : kReservedKeys) CHECK(is_reserved_key(k));
  CHECK_FALSE(is_reserved_key("bytes_read"));
}

TEST_CASE("a refused event is not written, reserved checks apply even when disabled", "[reserved]") {
  Fixture f;
  SinkOptions off = test_options(f.out);
  off.enabled = false;
  Sink disabled(off);
  Channel dch = disabled.open_segment(f.root);
  CHECK_FALSE(dch.enabled());
  CHECK_FALSE(dch.event("c", {}, {}, 1, {}, json::object{{"cmd", "forged"}}).ok());
  CHECK(dch.event("c", {}, {}, 1).ok());
  disabled.flush();
  CHECK_FALSE(fs::exists(f.out));
}

TEST_CASE("safe extra fields land under x with every JSON type", "[event]") {
  Fixture f;
  {
    Sink sink(test_options(f.out));
    Channel ch = sink.open_segment(f.root);
    json::object x{{"int_field", 42},          {"float_field", 3.14},
                   {"bool_field", true},       {"str_field", "hello"},
                   {"list_field", {1, 2, 3}},  {"dict_field", {{"key", "value"}}},
                   {"null_field", nullptr},    {"bytes_read", 2048}};
    REQUIRE(ch.event("test.cmd", {}, {}, 100, {}, x).ok());
    // Callers passing only the four core arguments keep working.
    REQUIRE(ch.event("test.plain", {{"k", 1}}, {{"status", "ok"}}, 5).ok());
  }
  auto report = read_events(f.dir() / "events.jsonl");
  REQUIRE(report.ok());
  REQUIRE(report->events.size() == 2);
  const json::object& e = report->events[0];
  const json::object& x = e.at("x").as_object();
  CHECK(x.at("int_field").as_int64() == 42);
  CHECK(x.at("float_field").as_double() == Approx(3.14));
  CHECK(x.at("bool_field").as_bool());
  CHECK(x.at("str_field").as_string() == "hello");
  CHECK(x.at("list_field") == json::value({1, 2, 3}));
  CHECK(x.at("dict_field").as_object().at("key").as_string() == "value");
  CHECK(x.at("null_field").is_null());
  // Exactly the documented keys, in order.
  std::vector<std::string> keys;
  for (const auto& kv : e) keys.emplace_back(kv.key());
  CHECK(keys == std::vector<std::string>{"ts", "run_id", "segment_id", "cmd", "args", "result",
                                         "timing_ms", "tokens", "warnings", "x"});
  CHECK(e.at("segment_id").as_string() == segment_id_of(f.root.string()));
  CHECK(e.at("ts").as_string().ends_with("+00:00"));
  CHECK(report->events[1].at("x").as_object().empty());
  CHECK(report->events[1].at("tokens").as_object().at("out").as_int64() ==
        estimate_tokens(json::serialize(json::object{{"status", "ok"}}).size()));
}

TEST_CASE("args are sanitised: no absolute paths, contents or secrets reach the file", "[redaction]") {
  Fixture f;
  {
    Sink sink(test_options(f.out));
    Channel ch = sink.open_segment(f.root);
    json::object args{{"file", (f.root / "src/app.py").string()},
                      {"other", "/usr/lib/python3.11/typing.py"},
                      {"uri", "file://" + (f.root / "a.py").string()},
                      {"content", "def secret_impl(): pass"},
                      {"api_key", "sk-123"},
                      {"nested", {{"path", (f.root / "x/y.py").string()}}},
                      {"query", std::string(500, 'q')}};
    REQUIRE(ch.event("ctx.get", args, {}, 1.5).ok());
  }
  const std::string text = read_text(f.dir() / "events.jsonl");
  CHECK(text.find(f.root.string()) == std::string::npos);
  CHECK(text.find("/usr/lib") == std::string::npos);
  CHECK(text.find("secret_impl") == std::string::npos);
  CHECK(text.find("sk-123") == std::string::npos);
  const auto e = json::parse(text).as_object();
  const auto& a = e.at("args").as_object();
  CHECK(a.at("file").as_string() == "src/app.py");
  CHECK(a.at("other").as_string().starts_with("external/"));
  CHECK(a.at("uri").as_string() == "a.py");
  CHECK(a.at("content").as_object().at("sha256").as_string() == sha256_hex("def secret_impl(): pass"));
  CHECK(a.at("content").as_object().at("bytes").as_int64() == 23);
  CHECK(a.at("api_key").as_string() == "[redacted]");
  CHECK(a.at("nested").as_object().at("path").as_string() == "x/y.py");
  CHECK(a.at("query").as_string().size() < 220);
}

TEST_CASE("ast summary uses the seed's formula", "[summary]") {
  RunStats s;
  s.incr("ast_parse_count", 100);
  s.incr("ast_cache_hit_count", 86);
  s.incr("ast_cache_miss_count", 14);
  const auto doc = s.build_last_run("r", "t", {});
  const auto& ast = doc.at("ast").as_object();
  CHECK(ast.at("ast_parse_count").as_int64() == 100);
  CHECK(ast.at("ast_cache_hit_count").as_int64() == 86);
  CHECK(ast.at("ast_cache_miss_count").as_int64() == 14);
  CHECK(ast.at("ast_cache_hit_rate").as_double() == Approx(0.86));
  // No parses: the denominator is max(0, 1), never a division by zero.
  CHECK(RunStats{}.build_last_run("r", "t", {}).at("ast").as_object().at("ast_cache_hit_rate").as_double() == 0.0);
}

TEST_CASE("lsp summary uses the seed's formula", "[summary]") {
  RunStats s;
  s.incr("lsp_spawn_count", 5);
  s.incr("lsp_ready_count", 5);
  s.incr("lsp_fallback_count", 1);
  s.incr("lsp_failed_count", 0);
  const auto doc = s.build_last_run("r", "t", {});
  const auto& lsp = doc.at("lsp").as_object();
  CHECK(lsp.at("lsp_spawn_count").as_int64() == 5);
  CHECK(lsp.at("lsp_ready_count").as_int64() == 5);
  CHECK(lsp.at("lsp_ready_rate").as_double() == 1.0);
  CHECK(lsp.at("lsp_fallback_rate").as_double() == Approx(0.2));
  CHECK(lsp.at("lsp_warming_count").as_int64() == 0);
  RunStats t;
  t.incr("lsp_spawn_count", 3);
  t.incr("lsp_fallback_count", 2);
  CHECK(t.build_last_run("r", "t", {}).at("lsp").as_object().at("lsp_fallback_rate").as_double() == 0.667);
}

TEST_CASE("lsp_fallback_request_rate is fallbacks per position request, not per spawn", "[summary]") {
  RunStats s;
  s.incr("lsp_spawn_count", 1);
  s.incr("lsp_fallback_count", 1);
  s.incr("lsp_request_count", 90);
  const auto lsp = s.build_last_run("r", "t", {}).at("lsp").as_object();
  CHECK(lsp.at("lsp_fallback_rate").as_double() == 1.0);  // the seed's per-spawn formula
  CHECK(lsp.at("lsp_request_count").as_int64() == 90);
  CHECK(lsp.at("lsp_fallback_request_rate").as_double() == 0.011);
}

TEST_CASE("file_read summary adds the three modes", "[summary]") {
  RunStats s;
  s.incr("file_read_skeleton_bytes_total", 1024);
  s.incr("file_read_excerpt_bytes_total", 5120);
  s.incr("file_read_raw_bytes_total", 10240);
  const auto doc = s.build_last_run("r", "t", {3, 1, 0});
  const auto& fr = doc.at("file_read").as_object();
  CHECK(fr.at("skeleton_bytes").as_int64() == 1024);
  CHECK(fr.at("excerpt_bytes").as_int64() == 5120);
  CHECK(fr.at("raw_bytes").as_int64() == 10240);
  CHECK(fr.at("total_bytes").as_int64() == 16384);
  const auto& drops = doc.at("telemetry_drops").as_object();
  CHECK(drops.at("lock_skipped").to_number<std::uint64_t>() == 1);
  CHECK(drops.at("attempted").to_number<std::uint64_t>() == 3);
  CHECK(drops.at("drop_rate").as_double() == Approx(0.3333));
  for (auto k : {"run_id", "ts", "metrics_delta", "latencies", "tokens", "ast", "lsp", "file_read",
                 "telemetry_drops", "top_warnings", "pack_state"}) {
    CHECK(doc.contains(k));
  }
}

TEST_CASE("latency percentiles are nearest-rank with exact count and max", "[summary]") {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  CHECK(percentile(v, 50) == 50);
  CHECK(percentile(v, 95) == 95);
  CHECK(percentile(v, 100) == 100);
  CHECK(percentile({}, 50) == 0);
  CHECK(percentile({7}, 95) == 7);
  RunStats s;
  for (int i = 1; i <= 20; ++i) s.observe("ctx.search", i);
  const auto l = s.latency("ctx.search");
  CHECK(l.count == 20);
  CHECK(l.p50_ms == 10);
  CHECK(l.p95_ms == 19);
  CHECK(l.max_ms == 20);
}

TEST_CASE("event timings come from the monotonic clock", "[timing]") {
  Fixture f;
  {
    Sink sink(test_options(f.out));
    Channel ch = sink.open_segment(f.root);
    Stopwatch sw;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(ch.event("test.cmd", {}, {}, sw.elapsed_ms()).ok());
  }
  auto report = read_events(f.dir() / "events.jsonl");
  REQUIRE(report.ok());
  REQUIRE(report->events.size() == 1);
  const double ms = report->events[0].at("timing_ms").to_number<double>();
  CHECK(ms >= 9.5);
  CHECK(ms < 1000);
  const auto lr = last_run(f.dir());
  CHECK(lr.at("latencies").as_object().at("test.cmd").as_object().at("count").as_int64() == 1);
}

TEST_CASE("N threads x M events produce exactly N*M valid lines (single writer)", "[concurrency]") {
  Fixture f;
  constexpr int kThreads = 8, kEvents = 2000;
  SinkStats stats;
  {
    Sink sink(test_options(f.out));
    Channel ch = sink.open_segment(f.root);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEvents; ++i) {
          REQUIRE(ch.event("thread_" + std::to_string(t), {{"iteration", i}}, {{"status", "ok"}}, 0.5,
                           {}, {{"t", t}, {"i", i}})
                      .ok());
          ch.incr("events_sent");
        }
      });
    }
    for (auto& th : threads) th.join();
    sink.flush();
    stats = sink.stats();
    const auto lr = last_run(f.dir());
    CHECK(lr.at("metrics_delta").as_object().at("events_sent").as_int64() == kThreads * kEvents);
    CHECK(lr.at("telemetry_drops").as_object().at("lock_skipped").to_number<std::uint64_t>() == 0);
  }
  CHECK(stats.dropped == 0);
  CHECK(stats.lines_written == kThreads * kEvents);
  auto report = read_events(f.dir() / "events.jsonl");
  REQUIRE(report.ok());
  CHECK(report->invalid_lines == 0);
  CHECK_FALSE(report->torn_tail);
  REQUIRE(report->events.size() == static_cast<std::size_t>(kThreads * kEvents));
  // Per producer, events appear in the order they were emitted.
  std::vector<int> next(kThreads, 0);
  for (const auto& e : report->events) {
    const auto& x = e.at("x").as_object();
    const auto t = static_cast<int>(x.at("t").as_int64());
    CHECK(x.at("i").as_int64() == next[t]++);
  }
}

TEST_CASE("a full queue drops and counts, attempted = written + dropped", "[concurrency]") {
  BoundedQueue<int> q(4);
  int a[5];
  for (int i = 0; i < 4; ++i) CHECK(q.try_push(&a[i]));
  CHECK_FALSE(q.try_push(&a[4]));
  CHECK(q.try_pop() == &a[0]);
  CHECK(q.try_push(&a[4]));
  for (int i = 1; i <= 4; ++i) CHECK(q.try_pop() == &a[i]);  // FIFO; empty before it is destroyed
  CHECK(q.try_pop() == nullptr);

  Fixture f;
  SinkOptions o = test_options(f.out);
  o.queue_capacity = 2;
  Sink sink(o);
  Channel ch = sink.open_segment(f.root);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) (void)ch.event("burst", {}, {}, 0.1);
    });
  }
  for (auto& th : threads) th.join();
  sink.flush();
  const auto s = ch.stats();
  CHECK(s.attempted == 20000);
  CHECK(s.lines_written + s.dropped == s.attempted);
  auto report = read_events(f.dir() / "events.jsonl");
  REQUIRE(report.ok());
  CHECK(report->events.size() == s.lines_written);
  CHECK(last_run(f.dir()).at("telemetry_drops").as_object().at("dropped").to_number<std::uint64_t>() == s.dropped);
}

TEST_CASE("a telemetry write failure never reaches the caller and is counted", "[failure]") {
  Fixture f;
  std::ofstream(f.tmp.path() / "blocker") << "a file where a directory should be";
  SinkOptions o = test_options(f.tmp.path() / "blocker");
  Sink sink(o);
  Channel ch = sink.open_segment(f.root);
  for (int i = 0; i < 10; ++i) CHECK(ch.event("ctx.search", {}, {}, 1.0).ok());
  sink.flush();
  const auto s = ch.stats();
  CHECK(s.lines_written == 0);
  CHECK(s.write_errors >= 10);
  CHECK(sink.stats().write_errors >= 10);
}

TEST_CASE("last_run.json is rewritten on flush and carries counters and warnings", "[summary]") {
  Fixture f;
  Sink sink(test_options(f.out));
  Channel ch = sink.open_segment(f.root);
  ch.incr("ast_parse_count", 2);
  ch.incr("ast_cache_hit_count", 1);
  REQUIRE(ch.event("ast.parse", {}, {}, 2.0, {"w1", "w2"}).ok());
  ch.set_pack_state({{"pack_sha", "abc"}, {"pack_mtime", 12}});
  sink.flush();
  auto lr = last_run(f.dir());
  CHECK(lr.at("run_id").as_string() == sink.run_id());
  CHECK(lr.at("ast").as_object().at("ast_cache_hit_rate").as_double() == 0.5);
  CHECK(lr.at("top_warnings").as_array().size() == 2);
  CHECK(lr.at("pack_state").as_object().at("pack_sha").as_string() == "abc");
  ch.incr("ast_parse_count", 2);
  sink.flush();
  lr = last_run(f.dir());
  CHECK(lr.at("ast").as_object().at("ast_parse_count").as_int64() == 4);
  // No temp files are left behind.
  for (const auto& entry : fs::directory_iterator(f.dir())) {
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
  }
}

TEST_CASE("opening the same segment twice shares one channel, the default dir is _ctx/telemetry", "[sink]") {
  Fixture f;
  SinkOptions o = test_options(f.out);
  o.dir_override.clear();
  {
    Sink sink(o);
    Channel a = sink.open_segment(f.root);
    Channel b = sink.open_segment(f.root);
    CHECK(a.directory() == f.root / "_ctx" / "telemetry");
    REQUIRE(a.event("one", {}, {}, 1).ok());
    REQUIRE(b.event("two", {}, {}, 1).ok());
    CHECK(sink.stats().channels == 1);
  }
  auto report = read_events(f.root / "_ctx" / "telemetry" / "events.jsonl");
  REQUIRE(report.ok());
  CHECK(report->events.size() == 2);
}

TEST_CASE("after rm -rf _ctx the writer recreates _ctx/telemetry and every later event lands there", "[vanish]") {
  Fixture f;
  SinkOptions o = test_options(f.out);
  o.dir_override.clear();  // the segment's own _ctx/telemetry
  Sink sink(o);
  Channel ch = sink.open_segment(f.root);
  const fs::path file = f.root / "_ctx" / "telemetry" / "events.jsonl";
  for (int i = 0; i < 5; ++i) REQUIRE(ch.event("before", {}, {}, 1).ok());
  sink.flush();
  REQUIRE(read_events(file)->events.size() == 5);

  fs::remove_all(f.root / "_ctx");  // what `git clean -fdx` does under a running daemon
  for (int i = 0; i < 7; ++i) REQUIRE(ch.event("after", {}, {}, 1).ok());
  sink.flush();
  auto report = read_events(file);
  REQUIRE(report.ok());
  CHECK(report->events.size() == 7);  // all of them, in the new file
  for (const auto& e : report->events) CHECK(e.at("cmd").as_string() == "after");
  CHECK(fs::exists(f.root / "_ctx" / "telemetry" / "last_run.json"));
  CHECK(read_text(f.root / "_ctx" / ".gitignore").find("*\n") != std::string::npos);
  const auto s = ch.stats();
  CHECK(s.recreated == 1);
  CHECK(s.write_errors == 0);
  CHECK(s.lines_written == 12);
  CHECK(sink.stats().recreated == 1);
  CHECK(sink.stats().last_error.empty());
}

TEST_CASE("a file replaced under the writer (rotation) is reopened, the rotated file keeps its lines", "[vanish]") {
  Fixture f;
  Sink sink(test_options(f.out));
  Channel ch = sink.open_segment(f.root);
  REQUIRE(ch.event("one", {}, {}, 1).ok());
  sink.flush();
  fs::rename(f.dir() / "events.jsonl", f.dir() / "events.1.jsonl");
  trifecta::test::write_text(f.dir() / "events.jsonl", "");  // a new, empty file at the path
  REQUIRE(ch.event("two", {}, {}, 1).ok());
  sink.flush();
  auto old_file = read_events(f.dir() / "events.1.jsonl");
  auto new_file = read_events(f.dir() / "events.jsonl");
  REQUIRE(old_file.ok());
  REQUIRE(new_file.ok());
  REQUIRE(old_file->events.size() == 1);
  REQUIRE(new_file->events.size() == 1);
  CHECK(new_file->events[0].at("cmd").as_string() == "two");
  CHECK(ch.stats().recreated == 1);
}

TEST_CASE("a full disk is counted in write_errors, named in last_error, and the writer goes on", "[failure]") {
  // /dev/full accepts open(2) and fails every write(2) with ENOSPC: a full disk, without root or
  // a mount. The events file is a symlink to it.
  if (!fs::exists("/dev/full")) {
    WARN("skipped: no /dev/full on this machine");
    return;
  }
  Fixture f;
  Sink sink(test_options(f.out));
  Channel ch = sink.open_segment(f.root);
  fs::create_directories(f.dir());
  fs::create_symlink("/dev/full", f.dir() / "events.jsonl");
  for (int i = 0; i < 10; ++i) CHECK(ch.event("ctx.search", {}, {}, 1.0).ok());
  sink.flush();
  auto s = ch.stats();
  CHECK(s.lines_written == 0);
  CHECK(s.write_errors == 10);
  CHECK(s.recreated == 0);  // the path still names the same (full) file
  const auto st = sink.stats();
  CHECK_THAT(st.last_error, Catch::Contains("segment " + ch.segment_id() + ": write failed"));
  CHECK_THAT(st.last_error, Catch::Contains("No space left on device"));
  CHECK(st.last_error.find(f.root.string()) == std::string::npos);  // never a path

  // Space again (the link replaced by a real file): the next events are written.
  fs::remove(f.dir() / "events.jsonl");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the reopen back-off
  for (int i = 0; i < 3; ++i) CHECK(ch.event("ctx.get", {}, {}, 1.0).ok());
  sink.flush();
  s = ch.stats();
  CHECK(s.lines_written == 3);
  CHECK(s.write_errors == 10);
  CHECK(read_events(f.dir() / "events.jsonl")->events.size() == 3);
  CHECK(last_run(f.dir()).at("telemetry_drops").at("write_errors").to_number<std::int64_t>() == 10);
  CHECK(sink.stats().last_error.empty());  // writing again
}

TEST_CASE("_ctx/.gitignore ignores everything but the segment config and is never overwritten", "[sink]") {
  Fixture f;
  SinkOptions o = test_options(f.out);
  o.dir_override.clear();
  {
    Sink sink(o);
    REQUIRE(sink.open_segment(f.root).event("one", {}, {}, 1).ok());
  }
  const std::string text = read_text(f.root / "_ctx" / ".gitignore");
  CHECK_THAT(text, Catch::Contains("\n*\n"));
  CHECK_THAT(text, Catch::Contains("!trifecta.json"));
  trifecta::test::write_text(f.root / "_ctx" / ".gitignore", "mine\n");
  ensure_ctx_gitignore(f.root / "_ctx" / "telemetry");
  CHECK(read_text(f.root / "_ctx" / ".gitignore") == "mine\n");
  // Outside any _ctx directory nothing is written.
  fs::create_directories(f.root / "other" / "deep");
  ensure_ctx_gitignore(f.root / "other" / "deep");
  CHECK_FALSE(fs::exists(f.root / "other" / ".gitignore"));
}

TEST_CASE("the reader skips a torn last line cut at any byte and loses only that line", "[reader]") {
  Fixture f;
  {
    Sink sink(test_options(f.out));
    Channel ch = sink.open_segment(f.root);
    for (int i = 0; i < 3; ++i) REQUIRE(ch.event("cmd", {{"i", i}}, {}, 1).ok());
  }
  const std::string full = read_text(f.dir() / "events.jsonl");
  const std::size_t last_start = full.rfind('\n', full.size() - 2) + 1;
  for (std::size_t cut = last_start; cut < full.size(); ++cut) {
    INFO("cut at byte " << cut);
    const EventsReport r = parse_events(std::string_view(full).substr(0, cut));
    CHECK(r.events.size() == 2);
    CHECK(r.invalid_lines == 0);
    CHECK(r.torn_tail == (cut > last_start));
  }
  CHECK(parse_events(full).events.size() == 3);
}

TEST_CASE("the reader reports invalid lines and keeps going", "[reader]") {
  const std::string text =
      "{\"not\":\"an event\"}\n"
      "garbage\n"
      "[1,2]\n"
      "{\"ts\":\"t\",\"run_id\":\"r\",\"segment_id\":\"s\",\"cmd\":\"c\",\"args\":{},\"result\":{},"
      "\"timing_ms\":1,\"tokens\":{},\"warnings\":[],\"x\":{}}\n";
  const EventsReport r = parse_events(text);
  CHECK(r.lines == 4);
  CHECK(r.invalid_lines == 3);
  CHECK(r.events.size() == 1);
  CHECK(r.problems.size() == 3);
  CHECK_FALSE(read_events("/nonexistent/events.jsonl").ok());
}

TEST_CASE("the first event after a torn last line starts a line of its own", "[failure]") {
  Fixture f;
  fs::create_directories(f.dir());
  // A crash mid-write left a line without its newline.
  trifecta::test::write_text(f.dir() / "events.jsonl", "{\"v\":1,\"cmd\":\"whole\"}\n{\"v\":1,\"cmd\":\"tor");
  Sink sink(test_options(f.out));
  Channel ch = sink.open_segment(f.root);
  REQUIRE(ch.event("after_the_tear", {}, {}, 1).ok());
  sink.flush();
  const std::string text = read_text(f.dir() / "events.jsonl");
  // The torn line stays (it is not ours to repair), ended by a newline; the new event is a
  // complete line after it, not glued onto it.
  CHECK(text.find("\"cmd\":\"tor\n{") != std::string::npos);
  auto report = read_events(f.dir() / "events.jsonl");
  REQUIRE(report.ok());
  REQUIRE_FALSE(report->events.empty());
  CHECK(report->events.back().at("cmd").as_string() == "after_the_tear");
}
