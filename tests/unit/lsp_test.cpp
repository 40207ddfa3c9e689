// Spec of lib/lsp's pure parts: Content-Length framing, UTF-16 columns and file URIs, the
// lifecycle state machine, restart backoff, server discovery and the child-process owner.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

#include "../support/temp_dir.hpp"
#include "lang/python/pyright.hpp"
#include "lsp/framing.hpp"
#include "lsp/process.hpp"
#include "lsp/server.hpp"
#include "lsp/state.hpp"
#include "telemetry/reader.hpp"
#include "text/text.hpp"

using namespace trifecta::core;
using namespace trifecta::core::text;
using namespace trifecta::core::lsp;
using namespace trifecta::core::lang::python;  // Pyright discovery (lib/lang/python/pyright.hpp)
using namespace std::chrono_literals;

namespace {

std::vector<std::string> drain(FrameDecoder& d) {
  std::vector<std::string> out;
  while (true) {
    auto r = d.next();
    REQUIRE(r.ok());
    if (!*r) break;
    out.push_back(**r);
  }
  return out;
}

void write_file(const fs::path& p, const std::string& text, bool executable = false) {
  trifecta::test::write_text(p, text);
  if (executable) fs::permissions(p, fs::perms::owner_all, fs::perm_options::add);
}

}  // namespace

// ---- framing ---------------------------------------------------------------------------------

TEST_CASE("encode_frame prefixes the body with its byte length", "[framing]") {
  CHECK(encode_frame("{}") == "Content-Length: 2\r\n\r\n{}");
  CHECK(encode_frame("\"é\"") == "Content-Length: 4\r\n\r\n\"é\"");  // bytes, not characters
}

TEST_CASE("the decoder returns a message only when its whole body has arrived", "[framing]") {
  FrameDecoder d;
  const std::string frame = encode_frame(R"({"jsonrpc":"2.0","method":"x"})");
  for (std::size_t i = 0; i + 1 < frame.size(); ++i) {
    d.feed(frame.substr(i, 1));
    auto r = d.next();
    REQUIRE(r.ok());
    CHECK_FALSE(r->has_value());
  }
  d.feed(frame.substr(frame.size() - 1));
  auto r = d.next();
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK(**r == R"({"jsonrpc":"2.0","method":"x"})");
  CHECK(d.buffered() == 0);
}

TEST_CASE("several messages in one chunk and a message split across chunks all come out in order",
          "[framing]") {
  FrameDecoder d;
  const std::string stream = encode_frame("one") + encode_frame("") + encode_frame("three") + encode_frame("four");
  d.feed(stream.substr(0, stream.size() - 3));
  CHECK(drain(d) == std::vector<std::string>{"one", "", "three"});
  d.feed(stream.substr(stream.size() - 3));
  CHECK(drain(d) == std::vector<std::string>{"four"});
}

TEST_CASE("other headers are ignored and header names are case-insensitive", "[framing]") {
  FrameDecoder d;
  d.feed("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length:  3 \r\n\r\nabc");
  CHECK(drain(d) == std::vector<std::string>{"abc"});
}

TEST_CASE("malformed headers are typed errors and the decoder stays failed", "[framing]") {
  auto first_error = [](const std::string& input, std::size_t max = kDefaultMaxBodyBytes) {
    FrameDecoder d(max);
    d.feed(input);
    auto r = d.next();
    REQUIRE_FALSE(r.ok());
    auto again = d.next();  // sticky: the stream cannot be re-synchronised
    REQUIRE_FALSE(again.ok());
    CHECK(d.failed());
    return r.error();
  };
  CHECK(first_error("Content-Type: x\r\n\r\n{}").code == Errc::kParse);
  CHECK(first_error("Content-Length: 1x\r\n\r\n{}").code == Errc::kParse);
  CHECK(first_error("Content-Length: \r\n\r\n{}").code == Errc::kParse);
  CHECK(first_error("no colon here\r\n\r\n{}").code == Errc::kParse);
  CHECK(first_error("Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}").code == Errc::kParse);
  CHECK(first_error("Content-Length: 99999999999999999999999\r\n\r\n").code == Errc::kTooLarge);
  auto big = first_error("Content-Length: 1025\r\n\r\n", 1024);
  CHECK(big.code == Errc::kTooLarge);
  CHECK_THAT(big.message, Catch::Contains("1025"));
  // A header that never ends is refused once it outgrows the header limit.
  CHECK(first_error(std::string(kMaxHeaderBytes + 1, 'x')).code == Errc::kTooLarge);
}

TEST_CASE("a body of exactly the size limit is accepted", "[framing]") {
  FrameDecoder d(8);
  d.feed(encode_frame("12345678"));
  CHECK(drain(d) == std::vector<std::string>{"12345678"});
}

// ---- UTF-16 columns and URIs -------------------------------------------------------------------

TEST_CASE("ASCII columns map one to one", "[text]") {
  CHECK(utf16_from_column("hello", 1) == 0);
  CHECK(utf16_from_column("hello", 3) == 2);
  CHECK(column_from_utf16("hello", 4) == 5);
  CHECK(byte_from_utf16("hello", 2) == 2);
}

TEST_CASE("non-ASCII characters: 2-byte and 3-byte are one UTF-16 unit, 4-byte are two", "[text]") {
  const std::string line = "é中😀x";  // bytes: 2 + 3 + 4 + 1; units: 1 + 1 + 2 + 1
  CHECK(utf16_from_column(line, 1) == 0);
  CHECK(utf16_from_column(line, 2) == 1);
  CHECK(utf16_from_column(line, 3) == 2);
  CHECK(utf16_from_column(line, 4) == 4);  // after the emoji's surrogate pair
  CHECK(utf16_from_column(line, 5) == 5);
  CHECK(column_from_utf16(line, 0) == 1);
  CHECK(column_from_utf16(line, 2) == 3);
  CHECK(column_from_utf16(line, 4) == 4);
  CHECK(column_from_utf16(line, 3) == 3);  // inside the surrogate pair → start of the emoji
  CHECK(byte_from_utf16(line, 4) == 9);
  CHECK(byte_from_utf16(line, 3) == 5);
  CHECK(utf16_from_byte(line, 9) == 4);
  CHECK(utf16_from_byte(line, 7) == 2);  // inside the emoji → its start
}

TEST_CASE("columns past the end of a line clamp to the end", "[text]") {
  CHECK(utf16_from_column("ab😀", 99) == 4);
  CHECK(column_from_utf16("ab😀", 99) == 4);
  CHECK(column_from_utf16("", 5) == 1);
  CHECK(utf16_from_column("abc", 0) == 0);
  CHECK(column_from_utf16("abc", -3) == 1);
}

TEST_CASE("malformed UTF-8 counts one unit per invalid byte", "[text]") {
  const std::string line = std::string("a\xff\xc3") + "b";  // stray byte, truncated sequence
  CHECK(utf16_from_column(line, 4) == 3);
  CHECK(column_from_utf16(line, 3) == 4);
  CHECK(utf16_from_column("\xed\xa0\x80z", 4) == 3);  // an encoded surrogate is 3 invalid bytes
}

TEST_CASE("line_text finds 1-based lines with LF or CRLF endings", "[text]") {
  const std::string text = "first\r\nsecond\nthird\n";
  CHECK(line_text(text, 1) == std::optional<std::string_view>("first"));
  CHECK(line_text(text, 2) == std::optional<std::string_view>("second"));
  CHECK(line_text(text, 3) == std::optional<std::string_view>("third"));
  CHECK(line_text(text, 4) == std::optional<std::string_view>(""));
  CHECK_FALSE(line_text(text, 5).has_value());
  CHECK_FALSE(line_text(text, 0).has_value());
}

TEST_CASE("file URIs percent-encode and decode paths", "[text]") {
  CHECK(path_to_uri("/tmp/a b/ü.py") == "file:///tmp/a%20b/%C3%BC.py");
  CHECK(path_to_uri("/x/50%.py") == "file:///x/50%25.py");
  for (const char* p : {"/tmp/a b/ü.py", "/x/50%.py", "/plain/path_-.~x.py", "/we#ird?/c:d"}) {
    auto back = uri_to_path(path_to_uri(p));
    REQUIRE(back.ok());
    CHECK(back->string() == p);
  }
  CHECK(uri_to_path("file:///tmp/%41b").value().string() == "/tmp/Ab");
  CHECK(uri_to_path("file://localhost/tmp/x").value().string() == "/tmp/x");
  CHECK(uri_to_path("http://x/y").error().code == Errc::kInvalidArgument);
  CHECK(uri_to_path("file:///tmp/%4").error().code == Errc::kInvalidArgument);
  CHECK(uri_to_path("file:///tmp/%zz").error().code == Errc::kInvalidArgument);
  CHECK(uri_to_path("file://relative").error().code == Errc::kInvalidArgument);
}

// ---- state machine -----------------------------------------------------------------------------

namespace {
struct Recorder {
  std::vector<Transition> seen;
  StateMachine sm{[this](const Transition& t) { seen.push_back(t); }};
  std::string path() const {
    std::string s;
    for (const auto& t : seen) s += std::string(state_name(t.from)) + ">" + std::string(state_name(t.to)) + " ";
    return s;
  }
};
const auto t0 = SteadyClock::time_point{} + std::chrono::hours(1);
}  // namespace

TEST_CASE("READY needs the initialize result, didOpen of the first file and ITS diagnostics", "[state]") {
  Recorder r;
  CHECK(r.sm.state() == State::kCold);
  CHECK(r.sm.spawned("file:///seg/a.py", "start", t0));
  CHECK(r.sm.state() == State::kWarming);
  CHECK_FALSE(r.sm.diagnostics_published("file:///seg/a.py", t0));  // before didOpen: workspace noise
  CHECK(r.sm.initialized(t0));
  CHECK(r.sm.state() == State::kWarming);
  CHECK(r.sm.first_document_opened(t0));
  CHECK_FALSE(r.sm.diagnostics_published("file:///seg/other.py", t0));
  CHECK(r.sm.state() == State::kWarming);
  CHECK(r.sm.diagnostics_published("file:///seg/a.py", t0 + 5ms));
  CHECK(r.sm.state() == State::kReady);
  CHECK(r.sm.since() == t0 + 5ms);
  CHECK(r.path() == "COLD>WARMING WARMING>READY ");
  CHECK(r.seen.front().reason == "start");
}

TEST_CASE("a segment without a Python file is READY on the initialize result", "[state]") {
  Recorder r;
  r.sm.spawned("", "start", t0);
  CHECK_FALSE(r.sm.first_document_opened(t0));
  r.sm.initialized(t0);
  CHECK(r.sm.state() == State::kReady);
}

TEST_CASE("FAILED from every running state, restart back to WARMING, stop to COLD", "[state]") {
  Recorder r;
  CHECK(r.sm.failed("spawn error: ENOENT", t0));  // COLD > FAILED (spawn error)
  CHECK_FALSE(r.sm.failed("again", t0));          // no self-transition
  CHECK(r.sm.spawned("u", "restart 1", t0));
  CHECK(r.sm.failed("initialize failed", t0));    // WARMING > FAILED
  CHECK(r.sm.spawned("u", "restart 2", t0));
  r.sm.initialized(t0);
  r.sm.first_document_opened(t0);
  r.sm.diagnostics_published("u", t0);
  CHECK(r.sm.failed("server crashed", t0));       // READY > FAILED
  CHECK(r.sm.stopped("stopped", t0));             // FAILED > COLD
  CHECK_FALSE(r.sm.stopped("again", t0));
  CHECK(r.sm.spawned("u", "on demand", t0));
  CHECK(r.sm.stopped("idle", t0));                // WARMING > COLD
  CHECK(r.path() ==
        "COLD>FAILED FAILED>WARMING WARMING>FAILED FAILED>WARMING WARMING>READY READY>FAILED FAILED>COLD "
        "COLD>WARMING WARMING>COLD ");
}

TEST_CASE("events that do not fit the state are ignored (late messages of an old server)", "[state]") {
  Recorder r;
  CHECK_FALSE(r.sm.initialized(t0));
  CHECK_FALSE(r.sm.diagnostics_published("u", t0));
  r.sm.spawned("u", "start", t0);
  CHECK_FALSE(r.sm.spawned("u", "twice", t0));
  r.sm.initialized(t0);
  CHECK_FALSE(r.sm.initialized(t0));
  r.sm.failed("crash", t0);
  CHECK_FALSE(r.sm.first_document_opened(t0));
  CHECK_FALSE(r.sm.diagnostics_published("u", t0));
  CHECK(r.sm.state() == State::kFailed);
  // A restart resets the READY conditions: the old initialize does not count.
  r.sm.spawned("u", "restart", t0);
  r.sm.first_document_opened(t0);
  r.sm.diagnostics_published("u", t0);
  CHECK(r.sm.state() == State::kWarming);
}

TEST_CASE("restart backoff doubles per restart in the window, caps, and runs out", "[state]") {
  RestartPolicy p;
  p.initial_delay = 100ms;
  p.max_delay = 350ms;
  p.multiplier = 2.0;
  p.max_restarts = 4;
  p.window = 10s;
  RestartBackoff b(p);
  CHECK(b.next_delay(t0) == 100ms);
  CHECK(b.next_delay(t0 + 1s) == 200ms);
  CHECK(b.next_delay(t0 + 2s) == 350ms);  // 400 capped
  CHECK(b.next_delay(t0 + 3s) == 350ms);
  CHECK_FALSE(b.next_delay(t0 + 4s).has_value());  // 4 restarts within 10 s: give up
  CHECK(b.recent(t0 + 4s) == 4);
  // The window slides: after the first restart ages out, one more is allowed (at the 4th step).
  CHECK(b.next_delay(t0 + 10s) == 350ms);
  CHECK(b.total() == 5);
  // Much later the budget is whole again and the delay starts over.
  CHECK(b.next_delay(t0 + 60s) == 100ms);
}

TEST_CASE("restart backoff: a spent budget is retried after the window slides, capped, never given up", "[state]") {
  RestartPolicy p;
  p.initial_delay = 100ms;
  p.max_delay = 1s;
  p.max_restarts = 2;
  p.window = 60s;
  p.exhausted_retry_cap = 20s;
  RestartBackoff b(p);
  REQUIRE(b.next_delay(t0).has_value());
  REQUIRE(b.next_delay(t0 + 1s).has_value());
  REQUIRE_FALSE(b.next_delay(t0 + 2s).has_value());  // spent
  // The oldest restart leaves the window in 58 s: capped at 20 s.
  CHECK(b.exhausted_delay(t0 + 2s) == 20s);
  // Close to the slide, the retry waits only for it, but never less than max_delay.
  CHECK(b.exhausted_delay(t0 + 50s) == 10s);
  CHECK(b.exhausted_delay(t0 + 59'900ms) == 1s);
  // An explicit restart resets the budget: the backoff starts over.
  b.reset();
  CHECK(b.next_delay(t0 + 3s) == 100ms);
}

TEST_CASE("record_transition and record_fallback write their events and the lsp counters", "[state][telemetry]") {
  trifecta::test::TempDir tmp;
  telemetry::SinkOptions so;
  so.dir_override = tmp.path() / "telemetry";
  telemetry::Sink sink(so);
  fs::create_directories(tmp.path() / "seg");
  auto ch = sink.open_segment(fs::canonical(tmp.path() / "seg"));
  record_transition(ch, Transition{State::kCold, State::kWarming, "start", t0});
  record_transition(ch, Transition{State::kWarming, State::kReady, "ready", t0});
  record_transition(ch, Transition{State::kReady, State::kFailed, "server crashed", t0});
  record_fallback(ch, "lsp.definition", "lsp not ready: FAILED", State::kFailed);
  sink.flush();
  std::ifstream in(ch.directory() / "events.jsonl");
  std::string line, all;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    all += line + "\n";
  }
  CHECK(n == 4);
  CHECK_THAT(all, Catch::Contains(R"("cmd":"lsp.state_change")"));
  CHECK_THAT(all, Catch::Contains(
                      R"("method":"lsp.definition","reason":"lsp not ready: FAILED","fallback_to":"ast","lsp_state":"FAILED")"));
  CHECK_THAT(all, Catch::Contains(R"("from_state":"READY","to_state":"FAILED","reason":"server crashed")"));
  std::ifstream lr(ch.directory() / "last_run.json");
  std::ostringstream ss;
  ss << lr.rdbuf();
  const std::string summary = ss.str();
  CHECK_THAT(summary, Catch::Contains(R"("lsp_warming_count":1)"));
  CHECK_THAT(summary, Catch::Contains(R"("lsp_ready_count":1)"));
  CHECK_THAT(summary, Catch::Contains(R"("lsp_failed_count":1)"));
  CHECK_THAT(summary, Catch::Contains(R"("lsp_fallback_count":1)"));
}

TEST_CASE("lsp.state_change carries the time spent in the state it leaves (time to READY)", "[state][telemetry]") {
  trifecta::test::TempDir tmp;
  telemetry::SinkOptions so;
  so.dir_override = tmp.path() / "telemetry";
  telemetry::Sink sink(so);
  fs::create_directories(tmp.path() / "seg");
  auto ch = sink.open_segment(fs::canonical(tmp.path() / "seg"));
  StateMachine sm([&](const Transition& t) { record_transition(ch, t); });
  REQUIRE(sm.spawned("file:///seg/main.py", "start", t0 + 10s));
  REQUIRE(sm.initialized(t0 + 11s));
  REQUIRE(sm.first_document_opened(t0 + 11s));
  REQUIRE(sm.diagnostics_published("file:///seg/main.py", t0 + 11500ms));
  REQUIRE(sm.state() == State::kReady);
  REQUIRE(sm.failed("server crashed", t0 + 20s));
  sink.flush();
  auto events = telemetry::read_events(ch.directory() / "events.jsonl");
  REQUIRE(events.ok());
  REQUIRE(events->events.size() == 3);
  // COLD was never entered at a known time: 0. WARMING lasted 1.5 s, READY 8.5 s.
  CHECK(events->events[0].at("timing_ms").to_number<double>() == 0.0);
  CHECK(events->events[1].at("result").at("to_state").as_string() == "READY");
  CHECK(events->events[1].at("timing_ms").to_number<double>() == 1500.0);
  CHECK(events->events[2].at("timing_ms").to_number<double>() == 8500.0);
  const std::string summary = trifecta::test::read_text(ch.directory() / "last_run.json");
  CHECK_THAT(summary, Catch::Contains(R"("lsp.state_change":{"count":2)"));
}

// ---- discovery -----------------------------------------------------------------------------------

TEST_CASE("discovery order: TRIFECTA_PYRIGHT, config, project prefix, PATH", "[discovery]") {
  trifecta::test::TempDir tmp;
  const fs::path env_bin = tmp.path() / "env/pyright-langserver";
  const fs::path cfg_bin = tmp.path() / "cfg/pyright-langserver";
  const fs::path proj_pkg = tmp.path() / "proj/node_modules/pyright";
  const fs::path proj_bin = tmp.path() / "proj/node_modules/.bin/pyright-langserver";
  const fs::path path_dir = tmp.path() / "bin";
  write_file(env_bin, "#!/bin/sh\n", true);
  write_file(cfg_bin, "#!/bin/sh\n", true);
  write_file(proj_pkg / "langserver.index.js", "#!/usr/bin/env node\n", true);
  write_file(proj_pkg / "package.json", R"({"name":"pyright","version":"1.2.3"})");
  fs::create_directories(proj_bin.parent_path());
  fs::create_symlink("../pyright/langserver.index.js", proj_bin);
  write_file(path_dir / "basedpyright-langserver", "#!/bin/sh\n", true);

  DiscoveryInputs in;
  in.env_path = env_bin.string();
  in.config_path = cfg_bin;
  in.project_server = proj_bin;
  in.path_env = "/nonexistent:" + path_dir.string();

  auto b = discover_server(in);
  REQUIRE(b.ok());
  CHECK(b->source == "env");
  CHECK(b->path == env_bin);
  CHECK(b->version == "unknown");

  in.env_path.reset();
  CHECK(discover_server(in)->source == "config");

  in.config_path.clear();
  b = discover_server(in);
  REQUIRE(b.ok());
  CHECK(b->source == "project");
  CHECK(b->name == "pyright-langserver");
  CHECK(b->version == "1.2.3");  // package.json next to the symlink's target
  CHECK(b->flavor == ServerFlavor::kPyright);

  in.project_server = tmp.path() / "missing/pyright-langserver";
  b = discover_server(in);
  REQUIRE(b.ok());
  CHECK(b->source == "path");
  CHECK(b->name == "basedpyright-langserver");
  CHECK(b->flavor == ServerFlavor::kBasedPyright);

  write_file(path_dir / "pyright-langserver", "#!/bin/sh\n", true);
  CHECK(discover_server(in)->name == "pyright-langserver");  // pyright before basedpyright

  in.path_env = "/nonexistent";
  auto none = discover_server(in);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == Errc::kUnavailable);
  CHECK_THAT(none.error().message, Catch::Contains("missing/pyright-langserver"));
  CHECK_THAT(none.error().message, Catch::Contains("basedpyright-langserver on PATH"));
}

TEST_CASE("an explicit server path that is not executable is an error, not a silent fallback",
          "[discovery]") {
  trifecta::test::TempDir tmp;
  write_file(tmp.path() / "not-exec", "x");
  DiscoveryInputs in;
  in.project_server.clear();
  in.env_path = (tmp.path() / "not-exec").string();
  CHECK(discover_server(in).error().code == Errc::kNotFound);
  in.env_path.reset();
  in.config_path = tmp.path() / "absent";
  CHECK(discover_server(in).error().code == Errc::kNotFound);
}

TEST_CASE("LSP_ENABLED=false and the daemon flag disable the server", "[discovery]") {
  for (const char* off : {"false", "FALSE", "0", "no", "Off"}) CHECK_FALSE(parse_enabled(off));
  for (const char* on : {"true", "1", "yes", ""}) CHECK(parse_enabled(on));
  DiscoveryInputs in;
  in.lsp_enabled_env = "false";
  auto r = discover_server(in);
  CHECK(r.error().code == Errc::kUnavailable);
  CHECK_THAT(r.error().message, Catch::Contains("LSP_ENABLED=false"));
  in.lsp_enabled_env.reset();
  in.enabled = false;
  CHECK_THAT(discover_server(in).error().message, Catch::Contains("disabled"));
}

TEST_CASE("the compiled-in project server is the set-up script's prefix", "[discovery]") {
  CHECK_THAT(std::string(kDefaultProjectServer), Catch::EndsWith("pyright/node_modules/.bin/pyright-langserver"));
}

TEST_CASE("Pyright's default settings: basedpyright gets typeCheckingMode standard", "[discovery]") {
  ServerBinary b;
  b.flavor = ServerFlavor::kPyright;
  CHECK(default_settings(b).empty());
  b.flavor = ServerFlavor::kBasedPyright;
  const auto s = default_settings(b);
  REQUIRE(s.contains("basedpyright.analysis"));
  CHECK(s.at("basedpyright.analysis").as_object().at("typeCheckingMode") == "standard");
}

// ---- process -------------------------------------------------------------------------------------

namespace {
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EAGAIN) {
      std::this_thread::sleep_for(5ms);
    } else {
      break;
    }
  }
  return out;
}
}  // namespace

TEST_CASE("a spawned child leads its own process group and inherits only stdin/stdout/stderr",
          "[process]") {
  // A descriptor without O_CLOEXEC at a high number: closefrom(3) must keep it from the child.
  const int leaked = ::dup2(::open("/dev/null", O_RDONLY), 57);
  REQUIRE(leaked == 57);
  // No pipeline in the shell: while it runs one, the shell itself briefly holds the pipe's fds.
  auto c = spawn_child({"/bin/sh", "-c", "ps -o pgid= -p $$; ls /proc/$$/fd"}, "/");
  ::close(57);
  REQUIRE(c.ok());
  ::close(c->stdin_fd);
  const std::string out = read_all(c->stdout_fd);
  const int status = terminate_group(c->pid, 2s);
  CHECK(describe_wait_status(status) == "exit status 0");
  ::close(c->stdout_fd);
  ::close(c->stderr_fd);
  const auto nl = out.find('\n');
  REQUIRE(nl != std::string::npos);
  CHECK(std::stoi(out.substr(0, nl)) == c->pid);  // pgid == pid
  CHECK(out.substr(nl + 1) == "0\n1\n2\n");        // the shell's own fds, nothing else
}

TEST_CASE("spawning a missing binary is a typed error and leaks no descriptor", "[process]") {
  const int before = ::open("/dev/null", O_RDONLY);
  ::close(before);
  auto c = spawn_child({"/nonexistent/pyright-langserver", "--stdio"}, {});
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == Errc::kUnavailable);
  CHECK_THAT(c.error().message, Catch::Contains("No such file"));
  const int after = ::open("/dev/null", O_RDONLY);
  ::close(after);
  CHECK(after == before);
}

TEST_CASE("terminate_group escalates to SIGKILL for a child that ignores SIGTERM", "[process]") {
  auto c = spawn_child({"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"}, {});
  REQUIRE(c.ok());
  std::string got;
  char buf[16];
  while (got.find("ready") == std::string::npos) {
    const ssize_t n = ::read(c->stdout_fd, buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    else std::this_thread::sleep_for(5ms);
  }
  const int status = terminate_group(c->pid, 100ms);
  CHECK(describe_wait_status(status) == "killed by signal 9 (Killed)");
  CHECK(::kill(c->pid, 0) != 0);  // reaped: the pid is gone
  for (int fd : {c->stdin_fd, c->stdout_fd, c->stderr_fd}) ::close(fd);
}

TEST_CASE("write_without_sigpipe: a closed pipe is EPIPE and no signal, even at the default disposition",
          "[process]") {
  struct sigaction dfl {}, saved {};
  dfl.sa_handler = SIG_DFL;
  REQUIRE(::sigaction(SIGPIPE, &dfl, &saved) == 0);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  errno = 0;
  CHECK(write_without_sigpipe(fds[1], "x", 1) == -1);
  CHECK(errno == EPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  CHECK(sigismember(&pending, SIGPIPE) == 0);  // taken back, not left to fire later

  int open_fds[2];
  REQUIRE(::pipe(open_fds) == 0);
  CHECK(write_without_sigpipe(open_fds[1], "ok", 2) == 2);
  char buf[2];
  CHECK(::read(open_fds[0], buf, 2) == 2);
  for (int fd : {fds[1], open_fds[0], open_fds[1]}) ::close(fd);
  ::sigaction(SIGPIPE, &saved, nullptr);
}

TEST_CASE("read_rss_bytes reads /proc/<pid>/statm", "[process]") {
  auto rss = read_rss_bytes(::getpid());
  REQUIRE(rss.has_value());
  CHECK(*rss > 1024 * 1024);
  CHECK_FALSE(read_rss_bytes(-1).has_value());
}

TEST_CASE("setup-pyright's install in the user data dir comes after explicit paths, before the project's",
          "[discovery]") {
  trifecta::test::TempDir tmp;
  const fs::path user_bin = tmp.path() / "data/trifecta/pyright/node_modules/.bin/pyright-langserver";
  const fs::path proj_bin = tmp.path() / "proj/pyright-langserver";
  const fs::path cfg_bin = tmp.path() / "cfg/pyright-langserver";
  write_file(user_bin, "#!/bin/sh\n", true);
  write_file(proj_bin, "#!/bin/sh\n", true);
  write_file(cfg_bin, "#!/bin/sh\n", true);

  DiscoveryInputs in;
  in.user_server = user_bin;
  in.project_server = proj_bin;
  in.path_env = "/nonexistent";
  auto b = discover_server(in);
  REQUIRE(b.ok());
  CHECK(b->source == "user");
  CHECK(b->path == user_bin);

  in.config_path = cfg_bin;  // a configured path still wins
  CHECK(discover_server(in)->source == "config");
  in.config_path.clear();

  fs::remove(user_bin);  // not installed: the project's, and the error lists the user path
  CHECK(discover_server(in)->source == "project");
  in.project_server.clear();
  auto none = discover_server(in);
  REQUIRE_FALSE(none.ok());
  CHECK_THAT(none.error().message, Catch::Contains(user_bin.string() + " (trifecta setup-pyright)"));
}

TEST_CASE("the user's Pyright prefix follows XDG_DATA_HOME, else HOME", "[discovery]") {
  const char* old_data = std::getenv("XDG_DATA_HOME");
  const char* old_home = std::getenv("HOME");
  const std::string saved_data = old_data ? old_data : "", saved_home = old_home ? old_home : "";
  ::setenv("XDG_DATA_HOME", "/data", 1);
  ::setenv("HOME", "/home/u", 1);
  CHECK(user_pyright_prefix() == "/data/trifecta/pyright");
  CHECK(user_server_path() == "/data/trifecta/pyright/node_modules/.bin/pyright-langserver");
  ::setenv("XDG_DATA_HOME", "relative", 1);  // not absolute: ignored (XDG base directory spec)
  CHECK(user_pyright_prefix() == "/home/u/.local/share/trifecta/pyright");
  ::unsetenv("XDG_DATA_HOME");
  CHECK(user_pyright_prefix() == "/home/u/.local/share/trifecta/pyright");
  CHECK(DiscoveryInputs::from_env().user_server == user_server_path());
  ::unsetenv("HOME");
  CHECK(user_pyright_prefix().empty());
  CHECK(user_server_path().empty());
  if (old_data) ::setenv("XDG_DATA_HOME", saved_data.c_str(), 1);
  if (old_home) ::setenv("HOME", saved_home.c_str(), 1);
}

TEST_CASE("from_env keeps the project-local server for a binary running from its build tree",
          "[discovery]") {
  // This test binary lives in the build tree; an installed trifectad does not (check_install.sh
  // shows it then finds no project server).
  CHECK(DiscoveryInputs::from_env().project_server == fs::path(kDefaultProjectServer));
}
