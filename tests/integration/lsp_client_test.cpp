// Spec of lsp::Client against the scripted fake server (tests/tools/fake_lsp_server.cpp): the
// lifecycle and every state transition, READY gating, Pyright's log-before-reply habit,
// server→client requests, deadlines and $/cancelRequest, crash/kill/wedge/memory-guard restarts
// with backoff, idle shutdown, graceful stop, document sync, conversions and telemetry.
#include <catch2/catch.hpp>

#include <signal.h>

#include <boost/json.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "../support/lsp_harness.hpp"
#include "lang/python/pyright.hpp"
#include "telemetry/sink.hpp"

using namespace trifecta;
using namespace trifecta::core;
using namespace trifecta::core::lsp;
using namespace std::chrono_literals;
using test::LspHarness;

namespace {

// line 3 has two emoji (4-byte UTF-8, 2 UTF-16 units each) before `greet`.
const char* kMain =
    "def greet(name):\n"
    "    return name\n"
    "s = \"😀😀\"; t = greet(s)\n";

struct Fake : LspHarness {
  fs::path transcript = tmp.path() / "transcript.txt";
  fs::path main_py = root / "main.py";

  Fake() { test::write_text(main_py, kMain); }

  ClientOptions options(std::vector<std::string> args) {
    ClientOptions o;
    o.segment_root = root;
    o.server.path = TRIFECTA_FAKE_LSP_SERVER;
    o.server.name = "fake_lsp_server";
    o.language_id = "python";
    o.server.version = "test";
    o.server_args = std::move(args);
    o.server_args.insert(o.server_args.end(), {"--transcript", transcript.string()});
    o.request_timeout = 2000ms;
    o.ready_timeout = 5000ms;
    o.shutdown_grace = 300ms;
    o.restart.initial_delay = 20ms;
    o.restart.max_delay = 1000ms;
    o.restart.max_restarts = 3;
    o.restart.window = 60s;
    o.on_state_change = recorder();
    return o;
  }
  std::string log() const { return test::read_text(transcript); }
  bool ready(const Client& c) { return run_until([&] { return c.state() == State::kReady; }); }
  // `c` started on main.py with `util_py` open as pkg/util.py, READY; the call hierarchy items at
  // main.py's `greet` (line 1).
  std::vector<CallHierarchyItem> greet_items(Client& c, const std::string& util_py) {
    test::write_text(root / "pkg/util.py", util_py);
    c.start("main.py");
    REQUIRE(ready(c));
    c.did_open("pkg/util.py");
    std::optional<Result<std::vector<CallHierarchyItem>>> items;
    c.prepare_call_hierarchy("main.py", {1, 6}, [&](auto r) { items.emplace(std::move(r)); });
    REQUIRE(run_until([&] { return items.has_value(); }));
    REQUIRE(items->ok());
    return std::move(**items);
  }
};

}  // namespace

TEST_CASE("warm-up: COLD > WARMING > READY only after initialize, didOpen and that file's diagnostics",
          "[lifecycle]") {
  Fake f;
  Client c(f.io, f.options({"--log-before-init", "5"}));
  CHECK(c.state() == State::kCold);
  c.start("main.py");
  REQUIRE(f.ready(c));
  CHECK(f.path() == "COLD>WARMING WARMING>READY ");
  CHECK(f.transitions[1].reason == "initialized, first document opened and diagnosed");
  // Five logMessages came before the initialize result and were not mistaken for it.
  CHECK(c.status().log_messages >= 5);
  // READY came after the didOpen of the first file (the transcript is written before replying).
  const std::string log = f.log();
  CHECK(log.find("initialize\ninitialized\n") != std::string::npos);
  CHECK(log.find("textDocument/didOpen") != std::string::npos);
  const Status s = c.status();
  CHECK(s.pid > 0);
  CHECK(s.binary_name == "fake_lsp_server");
  CHECK(s.open_documents == 1);
}

TEST_CASE("didOpen carries ClientOptions::language_id and an empty one is refused", "[documents]") {
  Fake f;
  auto o = f.options({});
  o.language_id = "python-under-test";
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.ready(c));
  CHECK_THAT(f.log(), Catch::Contains("languageId python-under-test"));
  CHECK_THAT(f.log(), !Catch::Contains("languageId python\n"));

  auto none = f.options({});
  none.language_id.clear();
  CHECK_THROWS_AS(Client(f.io, std::move(none)), std::invalid_argument);
}

TEST_CASE("the client adds no server-specific settings of its own", "[server-requests]") {
  Fake f;
  auto o = f.options({});
  o.server.flavor = ServerFlavor::kBasedPyright;  // once the client's own basedpyright default
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.ready(c));
  REQUIRE(f.run_until([&] { return f.log().find("response 1000") != std::string::npos; }, 5000ms));
  CHECK_THAT(f.log(), Catch::Contains("response 1000 [{},{}]"));
  CHECK_THAT(f.log(), !Catch::Contains("typeCheckingMode"));
}

TEST_CASE("every server→client request is answered: configuration one object per item, others null",
          "[server-requests]") {
  Fake f;
  auto o = f.options({});
  o.settings = json::object{{"python", json::object{{"analysis", json::object{{"typeCheckingMode", "basic"}}}}}};
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.ready(c));  // the fake withholds diagnostics until configuration is answered correctly
  // READY can come before the fake has logged the two later answers; wait for its transcript.
  REQUIRE(f.run_until([&] { return f.log().find("response 1002") != std::string::npos; }, 5000ms));
  const std::string log = f.log();
  CHECK_THAT(log, Catch::Contains(R"(response 1000 [{"analysis":{"typeCheckingMode":"basic"}},{"typeCheckingMode":"basic"}])"));
  CHECK_THAT(log, Catch::Contains("response 1001 null"));
  CHECK_THAT(log, Catch::Contains("response 1002 null"));
  CHECK(c.status().server_requests_answered == 3);
}

TEST_CASE("requests are gated on READY: before it they fail at once with kUnavailable", "[gating]") {
  Fake f;
  Client c(f.io, f.options({"--delay", "initialize=400"}));
  auto cold = f.definition(c, "main.py", 3, 15);
  REQUIRE_FALSE(cold.ok());
  CHECK(cold.error().code == Errc::kUnavailable);
  CHECK_THAT(cold.error().message, Catch::Contains("COLD"));
  c.start("main.py");
  REQUIRE(f.run_until([&] { return c.state() == State::kWarming; }));
  auto warming = f.hover(c, "main.py", 3, 15);
  REQUIRE_FALSE(warming.ok());
  CHECK(warming.error().code == Errc::kUnavailable);
  CHECK_THAT(warming.error().message, Catch::Contains("WARMING"));
  REQUIRE(f.ready(c));
  CHECK(f.definition(c, "main.py", 3, 15).ok());
}

TEST_CASE("when_ready completes on READY, or with the current state when the wait runs out", "[gating]") {
  Fake f;
  Client c(f.io, f.options({"--delay", "initialize=300"}));
  std::optional<State> short_wait, long_wait;
  c.start("main.py");
  c.when_ready(50ms, [&](State s) { short_wait = s; });
  c.when_ready(10s, [&](State s) { long_wait = s; });
  REQUIRE(f.run_until([&] { return short_wait && long_wait; }));
  CHECK(*short_wait == State::kWarming);
  CHECK(*long_wait == State::kReady);
}

TEST_CASE("definition, hover and references convert UTF-16 columns and return relative paths",
          "[requests]") {
  Fake f;
  test::write_text(f.root / "pkg/util.py", "def helper():\n    return greet('x')\n");
  Client c(f.io, f.options({}));
  c.start("main.py");
  REQUIRE(f.ready(c));
  c.did_open("pkg/util.py");

  // `greet` on line 3 is character 15 (two emoji before it are 4 UTF-16 units).
  auto def = f.definition(c, "main.py", 3, 15);
  REQUIRE(def.ok());
  REQUIRE(def->size() == 1);
  CHECK(def->at(0).path == "main.py");
  CHECK_FALSE(def->at(0).external);
  CHECK(def->at(0).line == 1);
  CHECK(def->at(0).column == 5);
  CHECK(def->at(0).end_column == 10);

  auto hov = f.hover(c, f.main_py, 3, 17);  // absolute paths inside the segment work too
  REQUIRE(hov.ok());
  REQUIRE(hov->has_value());
  CHECK((*hov)->kind == "markdown");
  CHECK_THAT((*hov)->contents, Catch::Contains("greet"));
  CHECK_THAT((*hov)->contents, Catch::Contains("at 2:18"));  // what went over the wire: UTF-16

  auto refs = f.references(c, "pkg/util.py", 2, 12);
  REQUIRE(refs.ok());
  std::vector<std::string> got;
  for (const auto& l : *refs) got.push_back(l.path + ":" + std::to_string(l.line) + ":" + std::to_string(l.column));
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{"main.py:1:5", "main.py:3:15", "pkg/util.py:2:12"});

  // Nothing at the position: resolved to nothing, not an error.
  auto none = f.definition(c, "main.py", 3, 2);
  REQUIRE(none.ok());
  CHECK(none->empty());
  auto no_hover = f.hover(c, "main.py", 3, 2);
  REQUIRE(no_hover.ok());
  CHECK_FALSE(no_hover->has_value());
}

TEST_CASE("positions and paths are validated before anything reaches the server", "[requests]") {
  Fake f;
  Client c(f.io, f.options({}));
  c.start("main.py");
  REQUIRE(f.ready(c));
  CHECK(f.definition(c, "main.py", 99, 1).error().code == Errc::kInvalidArgument);
  CHECK(f.definition(c, "../outside.py", 1, 1).error().code == Errc::kPathEscape);
  CHECK(f.definition(c, "missing.py", 1, 1).error().code == Errc::kNotFound);
}

TEST_CASE("a request without a reply times out with kTimeout and $/cancelRequest is sent", "[deadlines]") {
  Fake f;
  auto o = f.options({"--never-answer", "textDocument/hover"});
  o.request_timeout = 200ms;
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.ready(c));
  Stopwatch sw;
  auto r = f.hover(c, "main.py", 3, 15);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::kTimeout);
  CHECK(sw.elapsed_ms() >= 190);
  REQUIRE(f.run_until([&] { return f.log().find("$/cancelRequest") != std::string::npos; }));
  // The cancel names the hover's id (the transcript logs the request, then the cancel).
  CHECK(c.status().timeouts == 1);
  CHECK(c.state() == State::kReady);  // one timeout is not a dead server
  CHECK(f.definition(c, "main.py", 3, 15).ok());
}

TEST_CASE("consecutive timeouts mean a wedged server: FAILED, restart, READY again", "[deadlines][restart]") {
  Fake f;
  auto o = f.options({"--never-answer", "textDocument/hover"});
  o.request_timeout = 100ms;
  o.max_consecutive_timeouts = 2;
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.ready(c));
  CHECK(f.hover(c, "main.py", 3, 15).error().code == Errc::kTimeout);
  CHECK(f.hover(c, "main.py", 3, 15).error().code == Errc::kTimeout);
  REQUIRE(f.run_until([&] { return f.count_to(State::kReady) == 2; }));
  CHECK(f.path() == "COLD>WARMING WARMING>READY READY>FAILED FAILED>WARMING WARMING>READY ");
  CHECK_THAT(f.transitions[2].reason, Catch::Contains("unresponsive"));
}

TEST_CASE("the in-flight table is bounded: overflow fails at once", "[deadlines]") {
  Fake f;
  auto o = f.options({"--never-answer", "textDocument/hover"});
  o.max_pending = 2;
  o.request_timeout = 3000ms;
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.ready(c));
  std::vector<Result<std::optional<HoverInfo>>> results;
  for (int i = 0; i < 3; ++i)
    c.hover("main.py", {3, 15}, [&](Result<std::optional<HoverInfo>> r) { results.push_back(std::move(r)); });
  REQUIRE(f.run_until([&] { return !results.empty(); }, 1000ms));
  CHECK(results.size() == 1);
  CHECK(results[0].error().code == Errc::kUnavailable);
  CHECK_THAT(results[0].error().message, Catch::Contains("too many"));
  CHECK(c.status().pending == 2);
}

TEST_CASE("a crash mid-session fails in-flight requests, then the server restarts back to READY",
          "[crash][restart]") {
  Fake f;
  const fs::path once = f.tmp.path() / "crashed-once";
  Client c(f.io, f.options({"--crash-on", "textDocument/hover", "--crash-once", once.string(),
                            "--never-answer", "textDocument/references"}));
  c.start("main.py");
  REQUIRE(f.ready(c));
  const pid_t first_pid = c.status().pid;
  std::optional<Result<std::vector<Location>>> refs;
  c.references("main.py", {3, 15}, true, [&](auto r) { refs.emplace(std::move(r)); });
  f.run_for(50ms);
  CHECK_FALSE(refs.has_value());  // in flight: the fake never answers references
  auto hov = f.hover(c, "main.py", 3, 15);  // the fake exits with status 3 on hover
  REQUIRE_FALSE(hov.ok());
  CHECK(hov.error().code == Errc::kUnavailable);
  REQUIRE(refs.has_value());
  REQUIRE_FALSE(refs->ok());
  CHECK(refs->error().code == Errc::kUnavailable);
  CHECK_THAT(refs->error().message, Catch::Contains("exit status 3"));

  REQUIRE(f.run_until([&] { return f.count_to(State::kReady) == 2; }));
  CHECK(f.path() == "COLD>WARMING WARMING>READY READY>FAILED FAILED>WARMING WARMING>READY ");
  CHECK(f.transitions[2].reason == "server crashed: exit status 3");
  CHECK_THAT(f.transitions[3].reason, Catch::Contains("restart 1 after backoff of 20 ms"));
  CHECK(c.status().restarts == 1);
  CHECK(c.status().pid != first_pid);
  CHECK(::kill(first_pid, 0) != 0);  // the crashed server was reaped
  // The restarted server got the documents again and answers.
  auto def = f.definition(c, "main.py", 3, 15);
  REQUIRE(def.ok());
  CHECK(def->size() == 1);
}

TEST_CASE("kill -9 of the server: FAILED with the signal, restarted, READY again", "[crash][restart]") {
  Fake f;
  Client c(f.io, f.options({}));
  c.start("main.py");
  REQUIRE(f.ready(c));
  REQUIRE(::kill(c.status().pid, SIGKILL) == 0);
  REQUIRE(f.run_until([&] { return f.count_to(State::kReady) == 2; }));
  CHECK(f.transitions[2].reason == "server crashed: killed by signal 9 (Killed)");
  CHECK(f.hover(c, "main.py", 3, 15).ok());
}

TEST_CASE("restarts back off exponentially and stop when the budget per window is spent", "[restart]") {
  Fake f;
  Client c(f.io, f.options({"--exit-at-start"}));
  c.start("main.py");
  // 1 start + 3 restarts, each dying before initialize.
  REQUIRE(f.run_until([&] { return f.count_to(State::kWarming) == 4 && c.state() == State::kFailed; }));
  f.run_for(300ms);  // no fifth spawn comes
  CHECK(f.count_to(State::kWarming) == 4);
  CHECK(c.state() == State::kFailed);
  CHECK_THAT(c.status().reason, Catch::Contains("restart budget exhausted"));
  // Gaps between FAILED and the next WARMING are at least 20, 40, 80 ms.
  std::vector<double> gaps;
  for (std::size_t i = 1; i < f.transitions.size(); ++i) {
    if (f.transitions[i].to == State::kWarming && f.transitions[i - 1].to == State::kFailed)
      gaps.push_back(std::chrono::duration<double, std::milli>(f.transitions[i].at - f.transitions[i - 1].at).count());
  }
  REQUIRE(gaps.size() == 3);
  CHECK(gaps[0] >= 20);
  CHECK(gaps[1] >= 40);
  CHECK(gaps[2] >= 80);
  // An explicit restart is always possible.
  c.restart("operator asked");
  REQUIRE(f.run_until([&] { return f.count_to(State::kWarming) == 5; }));
}

TEST_CASE("an initialize error is FAILED with the server's message", "[lifecycle]") {
  Fake f;
  auto o = f.options({"--refuse-initialize"});
  o.restart.max_restarts = 0;
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.run_until([&] { return c.state() == State::kFailed; }));
  CHECK(f.path() == "COLD>WARMING WARMING>FAILED ");
  CHECK_THAT(f.transitions[1].reason, Catch::Contains("initialize failed"));
  CHECK_THAT(f.transitions[1].reason, Catch::Contains("initialize refused by script"));
  f.run_for(100ms);
  CHECK(c.status().pid == -1);
}

TEST_CASE("a server that never diagnoses the first file fails the warm-up bound", "[lifecycle]") {
  Fake f;
  auto o = f.options({"--no-diagnostics"});
  o.ready_timeout = 300ms;
  o.restart.max_restarts = 1;
  Client c(f.io, std::move(o));
  Stopwatch sw;
  c.start("main.py");
  REQUIRE(f.run_until([&] { return f.count_to(State::kFailed) == 2; }));
  CHECK(sw.elapsed_ms() >= 600);
  CHECK(f.path() == "COLD>WARMING WARMING>FAILED FAILED>WARMING WARMING>FAILED ");
  CHECK(f.transitions[1].reason == "warm-up exceeded 300 ms");
}

TEST_CASE("a spawn error is FAILED and reported through lsp.spawn", "[lifecycle][telemetry]") {
  Fake f;
  telemetry::SinkOptions so;
  so.dir_override = f.tmp.path() / "telemetry";
  telemetry::Sink sink(so);
  auto o = f.options({});
  o.server.path = f.tmp.path() / "no-such-server";
  o.server.name = "no-such-server";
  o.restart.max_restarts = 0;
  o.telemetry = sink.open_segment(f.root);
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.run_until([&] { return c.state() == State::kFailed; }));
  CHECK(f.path() == "COLD>FAILED ");
  CHECK_THAT(f.transitions[0].reason, Catch::StartsWith("spawn error: posix_spawn"));
  sink.flush();
  const std::string events = test::read_text(sink.open_segment(f.root).directory() / "events.jsonl");
  CHECK_THAT(events, Catch::Contains(R"("args":{"pyright_binary":"no-such-server"})"));
  CHECK_THAT(events, Catch::Contains(R"("result":{"subprocess_pid":-1,"status":"error","error":)"));
  CHECK_THAT(events, Catch::Contains(R"("x":{"lsp_state":"FAILED"})"));
  CHECK(events.find(f.tmp.path().string()) == std::string::npos);  // no absolute path leaks
}

TEST_CASE("the memory guard restarts a server whose RSS exceeds the limit", "[memory]") {
  Fake f;
  auto o = f.options({"--grow-mb", "96"});
  o.rss_limit_bytes = std::uint64_t{48} << 20;
  o.rss_check_interval = 50ms;
  o.restart.max_restarts = 1;
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.run_until([&] { return f.count_to(State::kFailed) >= 1; }));
  const auto& failed = *std::find_if(f.transitions.begin(), f.transitions.end(),
                                     [](const Transition& t) { return t.to == State::kFailed; });
  CHECK_THAT(failed.reason, Catch::StartsWith("memory guard: rss "));
  CHECK_THAT(failed.reason, Catch::Contains("over the limit of 48 MiB"));
  REQUIRE(f.run_until([&] { return f.count_to(State::kWarming) == 2; }));  // restarted
}

TEST_CASE("an idle server is shut down to COLD and warmed again on demand", "[idle]") {
  Fake f;
  auto o = f.options({});
  o.idle_timeout = 300ms;
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.ready(c));
  const pid_t pid = c.status().pid;
  REQUIRE(f.run_until([&] { return c.state() == State::kCold; }, 3000ms));
  CHECK_THAT(f.transitions.back().reason, Catch::StartsWith("idle for "));
  CHECK_THAT(f.log(), Catch::Contains("shutdown\nexit\n"));
  CHECK(::kill(pid, 0) != 0);
  CHECK(c.status().pid == -1);
  // The next request fails fast (the caller falls back) and triggers a warm-up.
  auto r = f.definition(c, "main.py", 3, 15);
  CHECK(r.error().code == Errc::kUnavailable);
  REQUIRE(f.ready(c));
  CHECK(f.transitions[f.transitions.size() - 2].reason == "on demand");
  CHECK(f.definition(c, "main.py", 3, 15).ok());
}

TEST_CASE("stop: shutdown + exit, then SIGTERM and SIGKILL for a server that ignores both", "[stop]") {
  Fake f;
  Client c(f.io, f.options({"--ignore-exit", "--ignore-term"}));
  c.start("main.py");
  REQUIRE(f.ready(c));
  const pid_t pid = c.status().pid;
  bool stopped = false;
  Stopwatch sw;
  c.stop([&] { stopped = true; });
  REQUIRE(f.run_until([&] { return stopped; }, 5000ms));
  CHECK(sw.elapsed_ms() >= 600);  // waited out exit and SIGTERM (300 ms each) before SIGKILL
  CHECK(c.state() == State::kCold);
  CHECK(::kill(pid, 0) != 0);
  CHECK_THAT(f.log(), Catch::Contains("shutdown\nexit\n"));
}

TEST_CASE("diagnostics come from publishDiagnostics and follow didChange", "[documents]") {
  Fake f;
  Client c(f.io, f.options({}));
  c.start("main.py");
  REQUIRE(f.ready(c));
  auto clean = f.diagnostics(c, "main.py", 2000ms);
  REQUIRE(clean.ok());
  CHECK(clean->empty());

  c.did_change("main.py", std::string("x = 1\ny = \"😀\" + ERROR\n"));
  auto dirty = f.diagnostics(c, "main.py", 2000ms);
  REQUIRE(dirty.ok());
  REQUIRE(dirty->size() == 1);
  CHECK(dirty->at(0).line == 2);
  CHECK(dirty->at(0).column == 11);  // character column, though the server said UTF-16 12
  CHECK(dirty->at(0).end_column == 16);
  CHECK(dirty->at(0).severity == "error");
  CHECK(dirty->at(0).code == "fakeError");
  CHECK(dirty->at(0).message == "fake error on line 2");

  // A file not yet open is opened and its first publication awaited.
  test::write_text(f.root / "other.py", "ERROR\n");
  auto other = f.diagnostics(c, "other.py", 2000ms);
  REQUIRE(other.ok());
  CHECK(other->size() == 1);
  CHECK(c.status().open_documents == 2);
  c.did_close("other.py");
  f.run_for(20ms);
  CHECK(c.status().open_documents == 1);
  CHECK_THAT(f.log(), Catch::Contains("textDocument/didChange"));
  CHECK_THAT(f.log(), Catch::Contains("textDocument/didClose"));
}

TEST_CASE("diagnostics wait a bounded time, then time out", "[documents][deadlines]") {
  Fake f;
  Client c(f.io, f.options({"--no-diagnostics"}));
  c.start("");  // no first file: READY on the initialize result
  REQUIRE(f.ready(c));
  auto r = f.diagnostics(c, "main.py", 150ms);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::kTimeout);
}

TEST_CASE("telemetry: lsp.spawn, lsp.state_change, lsp.request and the lsp counters", "[telemetry]") {
  Fake f;
  telemetry::SinkOptions so;
  so.dir_override = f.tmp.path() / "telemetry";
  telemetry::Sink sink(so);
  auto o = f.options({});
  o.telemetry = sink.open_segment(f.root);
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.ready(c));
  REQUIRE(f.definition(c, "main.py", 3, 15).ok());
  sink.flush();
  const fs::path dir = sink.open_segment(f.root).directory();
  const std::string events = test::read_text(dir / "events.jsonl");
  CHECK_THAT(events, Catch::Contains(R"("cmd":"lsp.spawn")"));
  // The seed's shapes: the binary in args, the state in x, the short method, `fallback`.
  CHECK_THAT(events, Catch::Contains(R"("args":{"pyright_binary":"fake_lsp_server"})"));
  CHECK_THAT(events, Catch::Contains(R"("x":{"lsp_state":"WARMING"})"));
  CHECK_THAT(events, Catch::Contains(R"("from_state":"WARMING","to_state":"READY")"));
  CHECK_THAT(events, Catch::Contains(
                         R"("args":{"method":"definition","file":"main.py","line":3,"col":15})"));
  CHECK_THAT(events, Catch::Contains(
                         R"("resolved":true,"fallback":false,"target_file":"main.py","target_line":1)"));
  const std::string summary = test::read_text(dir / "last_run.json");
  CHECK_THAT(summary, Catch::Contains(R"("lsp_spawn_count":1)"));
  CHECK_THAT(summary, Catch::Contains(R"("lsp_warming_count":1)"));
  CHECK_THAT(summary, Catch::Contains(R"("lsp_ready_count":1)"));
  // One request, one latency sample, under the seed's "lsp.request" (no "lsp.definition" from
  // the client: the daemon's request event owns that name).
  CHECK_THAT(summary, Catch::Contains(R"("lsp.request":{"count":1,)"));
  CHECK(summary.find(R"("lsp.definition")") == std::string::npos);
}

TEST_CASE("destroying the client kills and reaps the server group", "[stop]") {
  Fake f;
  pid_t pid = -1;
  {
    Client c(f.io, f.options({"--ignore-term"}));
    c.start("main.py");
    REQUIRE(f.ready(c));
    pid = c.status().pid;
  }
  CHECK(::kill(pid, 0) != 0);
}

TEST_CASE("the API is callable from any thread, callbacks run on the io thread, once each", "[threads]") {
  Fake f;
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  const auto io_id = io_thread.get_id();
  {
    Client c(io, f.options({}));
    c.start("main.py");
    std::promise<State> ready;
    c.when_ready(20s, [&](State s) { ready.set_value(s); });
    REQUIRE(ready.get_future().get() == State::kReady);

    constexpr int kThreads = 4, kPerThread = 25;
    std::atomic<int> ok{0}, on_io{0}, calls{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < kThreads; ++t) {
      callers.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) {
          std::promise<void> done;
          c.definition("main.py", {3, 15}, [&](Result<std::vector<Location>> r) {
            ++calls;
            if (std::this_thread::get_id() == io_id) ++on_io;
            if (r.ok() && r->size() == 1 && r->at(0).line == 1) ++ok;
            done.set_value();  // a second call would throw std::future_error
          });
          done.get_future().get();
          (void)c.status();  // status() from a foreign thread while the io thread works
        }
      });
    }
    for (auto& t : callers) t.join();
    CHECK(calls == kThreads * kPerThread);
    CHECK(ok == kThreads * kPerThread);
    CHECK(on_io == kThreads * kPerThread);
    std::promise<void> stopped;
    c.stop([&] { stopped.set_value(); });
    stopped.get_future().get();
  }
  guard.reset();
  io_thread.join();
}

// lang::python::probe_server (what `trifectad --self-check` and `trifecta doctor` report as
// "starts") against the scripted server.
TEST_CASE("probe_server: a server that answers initialize starts, one that fails is named",
          "[lsp][probe]") {
  namespace python = core::lang::python;
  ServerBinary fake;
  fake.path = TRIFECTA_FAKE_LSP_SERVER;
  fake.name = "fake_lsp_server";
  auto ok = python::probe_server(fake, 5000ms);  // logMessage notifications come first
  REQUIRE(ok.ok());
  CHECK_FALSE(ok->empty());

  auto refused = python::probe_server(fake, 5000ms, {"--refuse-initialize"});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == Errc::kUnavailable);
  CHECK_THAT(refused.error().message, Catch::StartsWith("initialize failed"));

  // A server that exits before it reads its stdin: our write meets a closed pipe on most runs.
  // With SIGPIPE at its default (a program that never set it, like `trifectad --self-check`) that
  // must cost an EPIPE, never the process.
  struct sigaction dfl {}, saved {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, &saved);
  for (int i = 0; i < 10; ++i) {
    auto exited = python::probe_server(fake, 5000ms, {"--exit-at-start"});
    REQUIRE_FALSE(exited.ok());
    CHECK(exited.error().code == Errc::kUnavailable);
    CHECK_THAT(exited.error().message, Catch::Contains("exited before answering initialize"));
  }
  ::sigaction(SIGPIPE, &saved, nullptr);

  auto silent = python::probe_server(fake, 300ms, {"--never-answer", "initialize"});
  REQUIRE_FALSE(silent.ok());
  CHECK(silent.error().code == Errc::kTimeout);

  ServerBinary missing;
  missing.path = "/nonexistent/pyright-langserver";
  CHECK_FALSE(python::probe_server(missing, 1000ms).ok());
}

TEST_CASE("a spent restart budget is not the end: the server is retried after a capped delay, "
          "and status says when",
          "[restart]") {
  Fake f;
  auto o = f.options({"--exit-at-start"});
  o.restart.max_restarts = 1;
  o.restart.max_delay = 100ms;
  o.restart.exhausted_retry_cap = 400ms;  // the window (60 s) would be much later
  Client c(f.io, std::move(o));
  c.start("main.py");
  // 1 start + 1 restart, both dying: the budget is spent.
  REQUIRE(f.run_until([&] { return f.count_to(State::kFailed) == 2; }));
  const auto st = c.status();
  CHECK_THAT(st.reason, Catch::Contains("restart budget exhausted; retrying in"));
  REQUIRE(st.next_retry_ms >= 0);
  CHECK(st.next_retry_ms <= 400);
  // The slow retry comes (before: FAILED for the client's lifetime), and again after it.
  REQUIRE(f.run_until([&] { return f.count_to(State::kWarming) >= 4; }));
  CHECK(c.status().restarts >= 3);
}

TEST_CASE("lsp status: time to READY stays fixed while READY, and READY-but-indexing is reported",
          "[status][progress]") {
  Fake f;
  auto o = f.options({"--progress-until", "textDocument/hover"});
  o.workspace_scanned = [](std::string_view m) -> std::optional<std::int64_t> {
    if (m == "Found 3 source files") return 3;
    return std::nullopt;
  };
  Client c(f.io, std::move(o));
  c.start("main.py");
  REQUIRE(f.ready(c));
  // The server's $/progress begin/report arrived around READY: still indexing.
  REQUIRE(f.run_until([&] { return c.status().progress_notifications >= 2; }));
  Status s = c.status();
  CHECK(s.state == State::kReady);
  CHECK(s.indexing);
  CHECK(s.indexing_title == "Analyzing: 3 files to analyze");
  CHECK(s.workspace_files == -1);
  CHECK(s.analysis_done_ms == 0);
  CHECK(s.time_to_ready_ms > 0);
  CHECK(s.time_to_ready_ms <= s.uptime_ms);
  const double ready_after = s.time_to_ready_ms;
  f.run_for(50ms);
  // The scan log line and $/progress end come with the first hover: indexing is over.
  auto h = f.hover(c, "main.py", 1, 6);
  REQUIRE(h.ok());
  s = c.status();
  CHECK_FALSE(s.indexing);
  CHECK(s.indexing_title.empty());
  CHECK(s.workspace_files == 3);
  CHECK(s.analysis_done_ms >= ready_after);
  // Time to READY did not move; time in state did.
  CHECK(s.time_to_ready_ms == ready_after);
  CHECK(s.state_ms >= 50);
}

TEST_CASE("lsp status: without a scan recogniser and without $/progress nothing is indexing", "[status][progress]") {
  Fake f;
  Client c(f.io, f.options({}));
  c.start("main.py");
  REQUIRE(f.ready(c));
  const Status s = c.status();
  CHECK_FALSE(s.indexing);
  CHECK(s.workspace_files == -1);
  CHECK(s.time_to_ready_ms > 0);
}

TEST_CASE("call hierarchy and workspace/symbol: items, callers with their call sites, symbols",
          "[requests][calls]") {
  Fake f;
  Client c(f.io, f.options({}));
  const auto items = f.greet_items(c, "def helper():\n    return greet('x')\n");
  REQUIRE(items.size() == 1);
  const CallHierarchyItem root = items.front();
  CHECK(root.name == "greet");
  CHECK(root.kind == 12);
  CHECK(root.selection.path == "main.py");
  CHECK(root.selection.line == 1);
  CHECK(root.selection.column == 5);

  std::optional<Result<std::vector<CallHierarchyCall>>> in, out;
  c.incoming_calls(root, [&](auto r) { in.emplace(std::move(r)); });
  c.outgoing_calls(root, [&](auto r) { out.emplace(std::move(r)); });
  REQUIRE(f.run_until([&] { return in.has_value() && out.has_value(); }));
  REQUIRE(in->ok());
  std::vector<std::string> got;
  for (const auto& call : **in)
    for (const auto& s : call.sites)
      got.push_back(call.item.name + "@" + call.item.selection.path + ":" +
                    std::to_string(call.item.selection.line) + " site " + s.path + ":" +
                    std::to_string(s.line) + ":" + std::to_string(s.column));
  std::sort(got.begin(), got.end());
  // Sites are converted from UTF-16 like every location (the emoji before `greet` on line 3).
  CHECK(got == std::vector<std::string>{"greet@main.py:1 site main.py:3:15",
                                        "helper@pkg/util.py:1 site pkg/util.py:2:12"});
  REQUIRE(out->ok());
  CHECK((*out)->empty());
  CHECK_THAT(f.log(), Catch::Contains("callHierarchy/incomingCalls"));

  std::optional<Result<std::vector<WorkspaceSymbol>>> syms;
  c.workspace_symbol("help", [&](auto r) { syms.emplace(std::move(r)); });
  REQUIRE(f.run_until([&] { return syms.has_value(); }));
  REQUIRE(syms->ok());
  REQUIRE((*syms)->size() == 1);
  CHECK((*syms)->front().name == "helper");
  CHECK((*syms)->front().kind == 12);
  CHECK((*syms)->front().location.path == "pkg/util.py");
  CHECK((*syms)->front().location.line == 1);
}

TEST_CASE("call hierarchy: a caller the server repeats is one caller with each site once", "[requests][calls]") {
  Fake f;
  Client c(f.io, f.options({"--repeat-calls"}));
  const auto items = f.greet_items(c, "def helper():\n    greet('x')\n    return greet('y')\n");
  REQUIRE(items.size() == 1);
  std::optional<Result<std::vector<CallHierarchyCall>>> in;
  c.incoming_calls(items.front(), [&](auto r) { in.emplace(std::move(r)); });
  REQUIRE(f.run_until([&] { return in.has_value(); }));
  REQUIRE(in->ok());
  std::vector<std::string> got;
  for (const auto& call : **in) {
    std::string sites;
    for (const auto& s : call.sites) sites += " " + std::to_string(s.line) + ":" + std::to_string(s.column);
    got.push_back(call.item.name + "@" + call.item.selection.path + sites);
  }
  std::sort(got.begin(), got.end());
  // The fake sends each caller twice with every range twice: one caller, its sites in order, once.
  CHECK(got == std::vector<std::string>{"greet@main.py 3:15", "helper@pkg/util.py 2:5 3:12"});
}

TEST_CASE("call hierarchy requests are gated on READY like the others", "[gating][calls]") {
  Fake f;
  Client c(f.io, f.options({}));
  std::optional<Result<std::vector<CallHierarchyItem>>> items;
  std::optional<Result<std::vector<WorkspaceSymbol>>> syms;
  c.prepare_call_hierarchy("main.py", {1, 6}, [&](auto r) { items.emplace(std::move(r)); });
  c.workspace_symbol("greet", [&](auto r) { syms.emplace(std::move(r)); });
  REQUIRE(f.run_until([&] { return items.has_value() && syms.has_value(); }));
  REQUIRE_FALSE(items->ok());
  CHECK(items->error().code == Errc::kUnavailable);
  REQUIRE_FALSE(syms->ok());
  CHECK(syms->error().code == Errc::kUnavailable);
}
