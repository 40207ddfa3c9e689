// Integration spec of ast.skeleton / ast.symbols / sym.resolve through a real trifectad and CLI:
// the persisted skeleton cache survives a daemon restart, edits are seen, a corrupt cache file is
// rebuilt, and paths never leave the segment.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "util/hash.hpp"

#include "../support/cli_json.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

struct Tree {
  TempDir tmp;
  fs::path root;
  Tree() {
    root = fs::canonical(tmp.path());
    fs::create_directories(root / "pkg");
    write("pkg/__init__.py", "");
    write("pkg/mod.py",
          "\"\"\"Demo module.\"\"\"\nimport os\n\nLIMIT = 10\n\nclass Greeter(object):\n    \"\"\"Says hello.\"\"\"\n\n"
          "    def greet(self, name: str = \"x\") -> str:\n        return 'hi ' + name\n\n"
          "async def fetch(url):\n    return url\n");
    write("pkg/dup.py", "def f():\n    return 1\n\ndef f():\n    return 2\n");
  }
  void write(const std::string& rel, const std::string& text) const {
    write_text(root / rel, text);
  }
};

}  // namespace

TEST_CASE("ast skeleton and symbols of a file, by path and by sym:// module", "[ast][daemon]") {
  DaemonProcess d;
  Tree t;
  const std::string seg = t.root.string();
  auto text = d.cli({"ast", "skeleton", "-s", seg, "pkg/mod.py"});
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("class Greeter(object):"));
  CHECK_THAT(text.out, Catch::Contains("def greet(self, name: str = \"x\") -> str: ..."));
  CHECK_THAT(text.out, Catch::Contains("async def fetch(url): ..."));

  auto js = result_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "sym://python/pkg.mod"}));
  CHECK(js.at("file").as_string() == "pkg/mod.py");
  CHECK(js.at("status").as_string() == "ok");
  CHECK(js.at("skeleton").at("definitions").as_array().size() == 2);
  CHECK(js.at("reduction_ratio").as_double() > 0.0);

  auto syms = result_of(d.cli({"--json", "ast", "symbols", "-s", seg, "pkg/mod.py"}));
  CHECK(syms.at("count").as_int64() == 3);
  const auto& first = syms.at("symbols").as_array()[1].as_object();
  CHECK(first.at("qualname").as_string() == "Greeter.greet");
  CHECK(first.at("line").as_int64() == 9);
  CHECK(first.at("end_line").as_int64() == 10);
}

TEST_CASE("sym resolve: symbols, ambiguity with every candidate, suggestions", "[sym][daemon]") {
  DaemonProcess d;
  Tree t;
  const std::string seg = t.root.string();
  auto ok = result_of(d.cli({"--json", "sym", "-s", seg, "sym://python/pkg.mod/Greeter.greet"}));
  CHECK(ok.at("file").as_string() == "pkg/mod.py");
  CHECK(ok.at("kind").as_string() == "method");
  CHECK(ok.at("line").as_int64() == 9);

  auto amb = d.cli({"--json", "sym", "-s", seg, "sym://python/pkg.dup/f"});
  CHECK(error_name_of(amb) == "AMBIGUOUS_SYMBOL");
  CHECK(json::parse(amb.out).at("error").at("data").at("candidates").as_array().size() == 2);
  auto amb_text = d.cli({"sym", "-s", seg, "sym://python/pkg.dup/f"});
  CHECK_THAT(amb_text.err, Catch::Contains("pkg/dup.py:1-2"));
  CHECK_THAT(amb_text.err, Catch::Contains("pkg/dup.py:4-5"));

  auto missing = d.cli({"--json", "sym", "-s", seg, "sym://python/pkg.mod/Greeter.gret"});
  CHECK(error_name_of(missing) == "SYMBOL_NOT_FOUND");
  CHECK_THAT(missing.out, Catch::Contains("sym://python/pkg.mod/Greeter.greet"));
  CHECK(error_name_of(d.cli({"--json", "sym", "-s", seg, "sym://python/pkg.nope"})) == "FILE_NOT_FOUND");
  CHECK(error_name_of(d.cli({"--json", "sym", "-s", seg, "sym:/broken"})) == "INVALID_URI");
}

TEST_CASE("paths are resolved inside the segment only", "[ast][daemon][security]") {
  DaemonProcess d;
  Tree t;
  const std::string seg = (t.root / "pkg").string();
  fs::create_symlink("/etc", t.root / "pkg" / "etc_link");
  CHECK(error_name_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "/etc/passwd"})) == "PATH_ESCAPE");
  CHECK(error_name_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "../pkg/../../x.py"})) == "PATH_ESCAPE");
  CHECK(error_name_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "etc_link/passwd"})) == "PATH_ESCAPE");
  CHECK(error_name_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "nope.py"})) == "NOT_FOUND");
}

TEST_CASE("the skeleton cache hits after a daemon restart and misses once after an edit", "[ast][daemon][cache]") {
  DaemonProcess d;
  Tree t;
  const std::string seg = t.root.string();
  CHECK_FALSE(result_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/mod.py"})).at("cache_hit").as_bool());
  CHECK(result_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/mod.py"})).at("cache_hit").as_bool());
  REQUIRE(d.stop() == 0);
  CHECK(fs::exists(t.root / "_ctx" / "cache" / "ast.sqlite"));
  d.start();  // a new process: only the persisted cache can answer
  CHECK(result_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/mod.py"})).at("cache_hit").as_bool());
  // Opening the segment started the index's warm build in the background; wait for it, or it
  // could be the one that parses the edited file (a miss) just before our request (then a hit).
  REQUIRE(d.cli({"--json", "ctx", "build", "-s", seg}).exit_code == 0);
  t.write("pkg/mod.py", "def only():\n    pass\n");
  auto edited = result_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/mod.py"}));
  CHECK(edited.at("skeleton").at("definitions").as_array().size() == 1);
  // The index applies the edit too (the daemon's background apply, 10 ms after the write, or a
  // request's sync): wait for it, so that the edited text has been looked up twice.
  const fs::path last_run = d.telemetry_dir() / trifecta::core::segment_id_of(seg) / "last_run.json";
  const auto read_last_run = [&] {
    std::ifstream in(last_run);
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str()).as_object();
  };
  const auto applied = [&] { return last_run_metric(last_run, "index_sync_changes") >= 1; };
  for (int i = 0; i < 200 && !applied(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(applied());
  // Telemetry saw parses, hits and misses (relative paths only): the restart's hit, and the
  // edited text new to the cache — parsed once, a miss, by whichever of this request and the
  // index came first; the other hit what it cached.
  REQUIRE(d.stop() == 0);
  const auto lr = read_last_run();
  INFO(json::serialize(lr.at("ast")));
  CHECK(lr.at("ast").at("ast_cache_hit_count").as_int64() == 2);
  CHECK(lr.at("ast").at("ast_cache_miss_count").as_int64() == 1);
}

TEST_CASE("a corrupt cache file is rebuilt and never crashes the daemon", "[ast][daemon][cache]") {
  Tree t;
  const std::string seg = t.root.string();
  fs::create_directories(t.root / "_ctx" / "cache");
  std::ofstream(t.root / "_ctx" / "cache" / "ast.sqlite", std::ios::binary) << std::string(4096, '\x5a') << "garbage";
  DaemonProcess d;
  auto r = result_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/mod.py"}));
  CHECK(r.at("status").as_string() == "ok");
  CHECK(result_of(d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/mod.py"})).at("cache_hit").as_bool());
  bool moved_aside = false;
  for (const auto& e : fs::directory_iterator(t.root / "_ctx" / "cache")) {
    moved_aside |= e.path().filename().string().rfind("ast.sqlite.corrupt-", 0) == 0;
  }
  CHECK(moved_aside);
  CHECK(d.cli({"ping"}).exit_code == 0);
}

TEST_CASE("ast methods without a segment or with bad params are typed errors", "[ast][daemon]") {
  DaemonProcess d;
  RawClient c(d.socket());
  c.send(R"({"jsonrpc":"2.0","id":1,"method":"ast.skeleton","params":{"path":"x.py"}})" "\n");
  auto r = json::parse(*c.line()).as_object();
  CHECK(r.at("error").at("data").at("name").as_string() == "INVALID_PARAMS");
  CHECK_THAT(std::string(r.at("error").at("message").as_string()), Catch::Contains("params.segment"));
  Tree t;
  c.send(json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "ast.skeleton"},
                                      {"params", {{"segment", t.root.string()}, {"path", 5}}}}) + "\n");
  r = json::parse(*c.line()).as_object();
  CHECK(r.at("error").at("message").as_string() == "params.path: expected a string");
}

TEST_CASE("a declared Latin-1 file shows é in ast skeleton and in ctx get alike", "[ast][daemon][encoding]") {
  // One decoding (util/utf8.hpp) behind both: no U+FFFD on either side.
  DaemonProcess d({"--no-lsp"});
  Tree t;
  t.write("pkg/latin.py", "# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9t\xe9'\n");
  const std::string seg = t.root.string();
  auto sk = d.cli({"ast", "skeleton", "-s", seg, "pkg/latin.py"});
  REQUIRE(sk.exit_code == 0);
  CHECK_THAT(sk.out, Catch::Contains("def caf\xc3\xa9():"));
  CHECK_THAT(sk.out, !Catch::Contains("\xEF\xBF\xBD"));
  (void)result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  auto raw = result_of(d.cli({"--json", "ctx", "get", "-s", seg, "pkg/latin.py#caf\xc3\xa9", "-m", "raw"}));
  REQUIRE(raw.at("chunks").as_array().size() == 1);
  const std::string text(raw.at("chunks").as_array()[0].at("text").as_string());
  CHECK_THAT(text, Catch::Contains("def caf\xc3\xa9():"));
  CHECK_THAT(text, Catch::Contains("'\xc3\xa9t\xc3\xa9'"));
  CHECK_THAT(text, !Catch::Contains("\xEF\xBF\xBD"));
}
