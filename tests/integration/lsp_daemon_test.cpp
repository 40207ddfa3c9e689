// Integration spec of lsp.* through a real trifectad and CLI: the AST fallback when Pyright is not
// READY (or absent), the real Pyright when it is, diagnostics following edits on disk, and
// recovery after the server is killed.
#include <catch2/catch.hpp>

#include <signal.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "../support/cli_json.hpp"
#include "lang/python/pyright.hpp"
#include "telemetry/reader.hpp"
#include "util/hash.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

struct Project {
  TempDir tmp;
  fs::path root;
  Project() {
    fs::copy(TRIFECTA_FIXTURES_DIR "/pyproject_small", tmp.path() / "proj", fs::copy_options::recursive);
    root = fs::canonical(tmp.path() / "proj");
  }
  void write(const std::string& rel, const std::string& text) const {
    write_text(root / rel, text);
  }
};

std::optional<std::string> pyright_missing() {
  auto s = trifecta::core::lang::python::discover_server(trifecta::core::lang::python::DiscoveryInputs::from_env());
  if (!s) return s.error().message;
  if (::system("node --version > /dev/null 2>&1") != 0) return std::string("node is not installed");
  return std::nullopt;
}

}  // namespace

TEST_CASE("without Pyright every lsp method answers from the AST and says so", "[lsp][daemon][fallback]") {
  DaemonProcess d({"--no-lsp"});
  Project p;
  const std::string seg = p.root.string();
  auto def = result_of(d.cli({"--json", "def", "-s", seg, "pkg/service.py:8:12"}));
  CHECK(def.at("backend").as_string() == "ast");
  CHECK(def.at("lsp_state").as_string() == "UNAVAILABLE");
  REQUIRE(def.at("locations").as_array().size() >= 1);
  CHECK(def.at("locations").as_array()[0].at("path").as_string() == "pkg/models.py");
  CHECK(def.at("locations").as_array()[0].at("line").as_int64() == 17);

  auto hover = result_of(d.cli({"--json", "hover", "-s", seg, "pkg/service.py:8:12"}));
  CHECK(hover.at("backend").as_string() == "ast");
  CHECK_THAT(std::string(hover.at("contents").as_string()), Catch::Contains("def make_user(name: str, age: int = 0) -> User"));

  auto refs = result_of(d.cli({"--json", "refs", "-s", seg, "pkg/models.py:17:5"}));
  CHECK(refs.at("locations").as_array().size() >= 3);  // definition, import, call

  // Once the lexical index is built, only the files whose tokens include the name are read, and
  // the index follows the disk: a file written just now is found.
  REQUIRE(d.cli({"--json", "ctx", "build", "-s", seg}).exit_code == 0);
  p.write("pkg/extra.py", "from pkg.models import make_user\n\nmake_user('x')\n");
  auto narrowed = result_of(d.cli({"--json", "refs", "-s", seg, "pkg/models.py:17:5"}));
  CHECK(narrowed.at("locations").as_array().size() == refs.at("locations").as_array().size() + 2);
  int in_extra = 0;
  for (const auto& l : narrowed.at("locations").as_array()) in_extra += l.at("path").as_string() == "pkg/extra.py";
  CHECK(in_extra == 2);
  CHECK(narrowed.at("files_read").as_int64() == 3);  // models.py (asked), service.py, extra.py — not main.py, __init__.py

  auto by_uri = result_of(d.cli({"--json", "def", "-s", seg, "sym://python/pkg.models/User.greeting"}));
  CHECK(by_uri.at("locations").as_array()[0].at("line").as_int64() == 12);

  p.write("pkg/broken.py", "def oops(:\n    pass\n");
  auto diag = result_of(d.cli({"--json", "diag", "-s", seg, "pkg/broken.py"}));
  CHECK(diag.at("backend").as_string() == "ast");
  REQUIRE(diag.at("diagnostics").as_array().size() >= 1);
  CHECK(diag.at("diagnostics").as_array()[0].at("severity").as_string() == "error");

  auto text = d.cli({"def", "-s", seg, "pkg/service.py:8:12"});
  CHECK_THAT(text.out, Catch::Contains("pkg/models.py:17:5"));
  CHECK(d.cli({"def", "-s", seg, "pkg/service.py"}).exit_code == 2);  // no line:col
  CHECK(d.cli({"--json", "def", "-s", seg, "../outside.py:1:1"}).exit_code == 1);

  REQUIRE(d.stop() == 0);
  auto ev = trifecta::core::telemetry::read_events(d.telemetry_dir() / trifecta::core::segment_id_of(seg) / "events.jsonl");
  REQUIRE(ev.ok());
  int fallbacks = 0;
  for (const auto& e : ev->events) fallbacks += e.at("cmd").as_string() == "lsp.fallback";
  CHECK(fallbacks >= 5);
}

TEST_CASE("real Pyright: READY, answers, edits, kill -9 and back", "[lsp][daemon][pyright]") {
  if (auto why = pyright_missing()) {
    WARN("skipped: no language server on this machine: " << *why);
    return;
  }
  DaemonProcess d;
  Project p;
  const std::string seg = p.root.string();
  auto def = result_of(d.cli({"--json", "def", "-s", seg, "--wait", "60000", "pkg/service.py:8:12"}));
  CHECK(def.at("backend").as_string() == "lsp");
  CHECK(def.at("lsp_state").as_string() == "READY");
  REQUIRE(def.at("locations").as_array().size() == 1);
  CHECK(def.at("locations").as_array()[0].at("path").as_string() == "pkg/models.py");
  CHECK(def.at("locations").as_array()[0].at("line").as_int64() == 17);

  auto hover = result_of(d.cli({"--json", "hover", "-s", seg, "pkg/service.py:8:12"}));
  CHECK(hover.at("backend").as_string() == "lsp");
  CHECK_THAT(std::string(hover.at("contents").as_string()), Catch::Contains("make_user"));
  auto refs = result_of(d.cli({"--json", "refs", "-s", seg, "pkg/models.py:17:5"}));
  CHECK(refs.at("backend").as_string() == "lsp");
  CHECK(refs.at("locations").as_array().size() >= 3);

  // An edit on disk reaches Pyright through the watcher: a type error appears, then goes away.
  p.write("pkg/service.py", "def welcome(name: str) -> str:\n    return 1\n");
  bool saw_error = false;
  for (int i = 0; i < 40 && !saw_error; ++i) {
    auto diag = result_of(d.cli({"--json", "diag", "-s", seg, "pkg/service.py"}));
    for (const auto& x : diag.at("diagnostics").as_array()) saw_error |= x.at("severity").as_string() == "error";
    if (!saw_error) std::this_thread::sleep_for(250ms);
  }
  CHECK(saw_error);

  auto status = result_of(d.cli({"--json", "lsp", "status", "-s", seg}));
  REQUIRE(status.at("state").as_string() == "READY");
  const auto pid = status.at("pid").as_int64();
  REQUIRE(pid > 0);
  ::kill(static_cast<pid_t>(pid), SIGKILL);
  // Right after the crash the daemon answers from the AST; then Pyright is back.
  bool fell_back = false, back_to_lsp = false;
  for (int i = 0; i < 240 && !back_to_lsp; ++i) {
    auto r = result_of(d.cli({"--json", "def", "-s", seg, "main.py:1:25"}));
    if (r.at("backend").as_string() == "ast") fell_back = true;
    else if (fell_back) back_to_lsp = true;
    if (!back_to_lsp) std::this_thread::sleep_for(250ms);
  }
  CHECK(fell_back);
  CHECK(back_to_lsp);
  auto after = result_of(d.cli({"--json", "lsp", "status", "-s", seg}));
  CHECK(after.at("restarts").as_int64() >= 1);
  const auto new_pid = static_cast<pid_t>(after.at("pid").as_int64());
  CHECK(new_pid != pid);

  // Stopping the daemon stops Pyright gracefully: it leaves by itself after shutdown + exit.
  REQUIRE(d.stop() == 0);
  CHECK(::kill(new_pid, 0) != 0);  // gone (and reaped by the daemon, which has exited)
  const auto events = trifecta::core::telemetry::read_events(
      d.telemetry_dir() / trifecta::core::segment_id_of(seg) / "events.jsonl");
  REQUIRE(events);
  std::vector<std::string> hows;
  for (const auto& e : events->events) {
    if (e.at("cmd").as_string() == "lsp.stop") hows.emplace_back(e.at("result").at("how").as_string());
  }
  REQUIRE(hows.size() == 1);
  CHECK(hows[0] == "exit");
}
