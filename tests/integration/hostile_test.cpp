// Integration spec of hostile input (issue 16, items 1-4) through a real trifectad and CLI: files
// that crashed or hung the daemon (70,000 unclosed parentheses, 66,000 comment lines, 12,000
// chained calls, FIFOs where files are expected) and names that are not UTF-8. After each, the
// daemon is alive, every reply parses, `ping` answers and SIGTERM stops it within its bound.
// docs/reliability.md lists the promises these tests hold.
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "../support/cli_json.hpp"
#include "telemetry/reader.hpp"
#include "util/hash.hpp"
#include "util/utf8.hpp"

using namespace trifecta::test;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Tree {
  TempDir tmp;
  fs::path root;
  Tree() {
    root = fs::canonical(tmp.path());
    fs::create_directories(root / "pkg");
    write("pkg/__init__.py", "");
    write("pkg/fine.py", "def well_formed_function():\n    return 1\n");
  }
  void write(const std::string& rel, const std::string& text) const {
    write_text(root / rel, text);
  }
};

// The daemon process is still running (not exited, not a zombie we could reap).
bool alive(DaemonProcess& d) {
  return d.pid() > 0 && !d.wait(std::chrono::milliseconds(0));
}

bool pings(DaemonProcess& d) {
  auto r = d.cli({"--json", "ping"}, std::chrono::seconds(5));
  if (r.exit_code != 0) return false;
  return json::parse(r.out).at("result").at("pong").as_bool();
}

// `trifecta --json …` answered (success or a typed error) with a reply that parses.
json::object answered(const RunResult& r) {
  INFO(r.out << r.err);
  REQUIRE((r.exit_code == 0 || r.exit_code == 1));
  return json::parse(r.out).as_object();
}

std::string message_of(const RunResult& r) {
  return std::string(json::parse(r.out).at("error").at("message").as_string());
}

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

}  // namespace

TEST_CASE("70,000 unclosed parentheses and 66,000 comment lines do not take the daemon down",
          "[hostile][daemon][ast]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  // tree-sitter 0.20.7 corrupted its heap on both (tree-sitter#2134): SIGABRT on the first parse.
  t.write("pkg/parens.py", "y = " + std::string(70000, '(') + "\n");
  std::string comments;
  for (int i = 0; i < 66000; ++i) comments += "#\n";
  t.write("pkg/comments.py", comments + "def after_the_comments():\n    return 2\n");
  const std::string seg = t.root.string();

  auto build = result_of(d.cli({"--json", "ctx", "build", "-s", seg}, std::chrono::seconds(120)));
  CHECK(build.at("build").at("files_indexed").as_int64() >= 4);
  REQUIRE(alive(d));

  auto search = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "well_formed_function"}));
  CHECK_FALSE(search.at("hits").as_array().empty());
  // The comment file parses (the runtime no longer has the 2^16 bug): its definition is there.
  auto after = result_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/comments.py"}));
  REQUIRE(after.at("skeleton").at("definitions").as_array().size() == 1);
  CHECK(after.at("skeleton").at("definitions").as_array()[0].at("name").as_string() ==
        "after_the_comments");

  // The parenthesis file is refused before tree-sitter sees it, with a reason that says why.
  auto deep = d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/parens.py"});
  CHECK(error_name_of(deep) == "TOO_LARGE");
  CHECK_THAT(message_of(deep), Catch::Contains("nested"));
  // ctx.get still serves it as text (it is indexed as text windows, not dropped).
  answered(d.cli({"--json", "ctx", "get", "-s", seg, "pkg/parens.py#L1-1", "-m", "raw"}));

  CHECK(pings(d));
  CHECK(alive(d));
  CHECK(d.stop() == 0);
}

TEST_CASE("12,000 chained calls: def, hover, refs and skeleton answer in bounded time",
          "[hostile][daemon][fallback]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  std::string chain = "def f():\n    return f\n\nx = f";
  for (int i = 0; i < 12000; ++i) chain += "()";
  chain += "\n";
  t.write("pkg/chain.py", chain);
  const std::string seg = t.root.string();
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}, std::chrono::seconds(120)));

  // Navigation used to recurse once per call level (SIGSEGV) and cost O(depth^2) to find the node.
  for (const char* method : {"def", "hover", "refs"}) {
    INFO(method);
    const auto t0 = Clock::now();
    auto r = d.cli({"--json", method, "-s", seg, "pkg/chain.py:4:5"}, std::chrono::seconds(60));
    CHECK(r.exit_code != -1);
    answered(r);
    CHECK(ms_since(t0) < 30000);  // a correctness bound (was a crash), not a speed claim
    REQUIRE(alive(d));
  }
  auto def = result_of(d.cli({"--json", "def", "-s", seg, "pkg/chain.py:4:5"}));
  CHECK(def.at("locations").as_array().size() == 1);
  answered(d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/chain.py"}));
  CHECK(pings(d));
  CHECK(d.stop() == 0);
}

TEST_CASE("a FIFO where a .py, .gitignore, the config or index.bin should be never blocks",
          "[hostile][daemon][fifo]") {
  Tree t;
  const std::string seg = t.root.string();
  {
    DaemonProcess d({"--no-lsp"});
    result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
    // Swap a .py for a FIFO in a watched tree, and add FIFOs the walk and the config load meet.
    fs::remove(t.root / "pkg" / "fine.py");
    REQUIRE(::mkfifo((t.root / "pkg" / "fine.py").c_str(), 0600) == 0);
    REQUIRE(::mkfifo((t.root / "pkg" / "other.py").c_str(), 0600) == 0);
    auto build = answered(
        d.cli({"--json", "ctx", "build", "-s", seg, "--rebuild"}, std::chrono::seconds(20)));
    CHECK(build.contains("result"));
    answered(d.cli({"--json", "ctx", "search", "-s", seg, "well_formed_function"},
                   std::chrono::seconds(20)));
    auto skel =
        d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/fine.py"}, std::chrono::seconds(20));
    // Not listed by the walk (only regular files are), so not a file of the segment: a typed error.
    CHECK(error_name_of(skel) == "NOT_FOUND");
    answered(
        d.cli({"--json", "ctx", "get", "-s", seg, "pkg/other.py#L1-2"}, std::chrono::seconds(20)));
    answered(d.cli({"--json", "def", "-s", seg, "pkg/fine.py:1:5"}, std::chrono::seconds(20)));
    CHECK(pings(d));
    const auto t0 = Clock::now();
    CHECK(d.stop(std::chrono::seconds(15)) == 0);
    CHECK(ms_since(t0) < 15000);
  }
  {
    // A persisted index that is a FIFO, a .gitignore that is one (the tree is not a git work
    // tree, so the walker reads it) and a config file that is one.
    fs::remove(t.root / "_ctx" / "cache" / "index.bin");
    REQUIRE(::mkfifo((t.root / "_ctx" / "cache" / "index.bin").c_str(), 0600) == 0);
    REQUIRE(::mkfifo((t.root / "pkg" / ".gitignore").c_str(), 0600) == 0);
    DaemonProcess d({"--no-lsp"});
    auto build = answered(d.cli({"--json", "ctx", "build", "-s", seg}, std::chrono::seconds(20)));
    CHECK(build.contains("result"));
    answered(d.cli({"--json", "ctx", "search", "-s", seg, "well_formed_function"},
                   std::chrono::seconds(20)));
    CHECK(pings(d));
    CHECK(d.stop(std::chrono::seconds(15)) == 0);
  }
  {
    REQUIRE(::mkfifo((t.root / "_ctx" / "trifecta.json").c_str(), 0600) == 0);
    DaemonProcess d({"--no-lsp"});
    auto r = d.cli({"--json", "ctx", "build", "-s", seg}, std::chrono::seconds(20));
    // Refused, not waited on: the segment opens with the default configuration and says why.
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("_ctx/trifecta.json: not a regular file"));
    CHECK(pings(d));
    CHECK(d.stop(std::chrono::seconds(15)) == 0);
  }
}

TEST_CASE("names that are not UTF-8 come back escaped, parse, print and resolve",
          "[hostile][daemon][names]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string bad_file = std::string("caf\xe9") + "%.py";  // Latin-1 é, and a literal %
  const std::string bad_dir = std::string("d\xff");
  t.write("pkg/" + bad_file, "def latin_named_function():\n    return 3\n");
  fs::create_directories(t.root / bad_dir);
  t.write(bad_dir + "/mod.py", "def in_a_bad_dir():\n    return 4\n");
  const std::string seg = t.root.string();
  const std::string want_file = "pkg/caf%E9%25.py";
  const std::string want_dir_file = "d%FF/mod.py";

  auto build = result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  CHECK(build.at("build").at("files_indexed").as_int64() >= 4);

  for (const auto& [query, want] :
       {std::pair{"latin_named_function", want_file}, {"in_a_bad_dir", want_dir_file}}) {
    INFO(query);
    auto r = d.cli({"--json", "ctx", "search", "-s", seg, query});
    REQUIRE(trifecta::core::utf8::is_valid(r.out));
    auto search = result_of(r);
    REQUIRE_FALSE(search.at("hits").as_array().empty());
    const auto& hit = search.at("hits").as_array()[0].as_object();
    CHECK(hit.at("path").as_string() == want);
    // The id the reply gave resolves back to the file.
    const std::string id(hit.at("id").as_string());
    auto got = result_of(d.cli({"--json", "ctx", "get", "-s", seg, id, "-m", "raw"}));
    CHECK_THAT(json::serialize(got), Catch::Contains(query));
    // So does the path, for ast.skeleton and ctx.get.
    auto skel = result_of(d.cli({"--json", "ast", "skeleton", "-s", seg, want}));
    CHECK(skel.at("file").as_string() == want);
    CHECK(skel.at("skeleton").at("definitions").as_array().size() == 1);
    // The text output prints the escaped name.
    auto text = d.cli({"ctx", "search", "-s", seg, query});
    CHECK(text.exit_code == 0);
    CHECK(trifecta::core::utf8::is_valid(text.out));
    CHECK_THAT(text.out, Catch::Contains(want));
  }
  // A literal name with a `%` in it is not decoded: it is valid UTF-8 and printed as is.
  t.write("pkg/100%sure.py", "def percent_named():\n    return 5\n");
  auto lit = result_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/100%sure.py"}));
  CHECK(lit.at("file").as_string() == "pkg/100%sure.py");

  CHECK(pings(d));
  REQUIRE(d.stop() == 0);
  // Telemetry never holds invalid UTF-8 either.
  const fs::path events = d.telemetry_dir() / trifecta::core::segment_id_of(seg) / "events.jsonl";
  std::ifstream in(events, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK_FALSE(ss.str().empty());
  CHECK(trifecta::core::utf8::is_valid(ss.str()));
  auto ev = trifecta::core::telemetry::read_events(events);
  REQUIRE(ev.ok());
  CHECK(ev->invalid_lines == 0);
}

TEST_CASE("SIGTERM stops the daemon within its bound even with a stuck worker",
          "[hostile][daemon][stop]") {
  DaemonProcess d;
  RawClient c(d.socket());
  REQUIRE(c.connected());
  // A worker held for 60 s, as a handler stuck in a call that never returns would hold it.
  REQUIRE(c.send(
      R"({"jsonrpc":"2.0","id":1,"method":"debug.sleep","params":{"ms":60000,"occupy_worker":true}})"
      "\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(pings(d));  // the other worker still answers
  const auto t0 = Clock::now();
  // drain_timeout (10 s) + kStopJoinGrace (3 s), then the watchdog ends the process.
  const auto code = d.stop(std::chrono::seconds(20));
  REQUIRE(code.has_value());
  CHECK(*code == 70);
  CHECK(ms_since(t0) < 16000);
}
