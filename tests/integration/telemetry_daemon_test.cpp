// Integration spec of telemetry through a real trifectad (language server: the scripted fake,
// through TRIFECTA_PYRIGHT): counters and fields are right (issue 14), an events file that
// vanishes is recreated, a full disk is counted and shown by `trifecta daemon status`, and the
// tree stays clean in `git status`. DaemonProcess validates every event against the schema.
#include <stdlib.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "../support/cli_json.hpp"
#include "telemetry/reader.hpp"
#include "util/hash.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

struct Project {
  TempDir tmp;
  fs::path root;
  Project() {
    fs::copy(TRIFECTA_FIXTURES_DIR "/pyproject_small", tmp.path() / "proj",
             fs::copy_options::recursive);
    root = fs::canonical(tmp.path() / "proj");
  }
};

// The daemon's language server is the fake one for the lifetime of this object.
struct FakeServer {
  FakeServer() { ::setenv("TRIFECTA_PYRIGHT", TRIFECTA_FAKE_LSP_SERVER, 1); }
  ~FakeServer() { ::unsetenv("TRIFECTA_PYRIGHT"); }
};

std::vector<json::object> events_of(const DaemonProcess& d, const std::string& seg) {
  auto r = trifecta::core::telemetry::read_events(
      d.telemetry_dir() / trifecta::core::segment_id_of(seg) / "events.jsonl");
  REQUIRE(r.ok());
  return r->events;
}

std::vector<json::object> with_cmd(const std::vector<json::object>& all, std::string_view cmd) {
  std::vector<json::object> out;
  for (const auto& e : all) {
    if (e.at("cmd").as_string() == cmd) out.push_back(e);
  }
  return out;
}

json::object last_run_of(const DaemonProcess& d, const std::string& seg) {
  return json::parse(
             read_text(d.telemetry_dir() / trifecta::core::segment_id_of(seg) / "last_run.json"))
      .as_object();
}

int sh(const std::string& cmd) {
  return ::system(cmd.c_str());
}

}  // namespace

TEST_CASE(
    "daemon telemetry: lsp counts not doubled, seed fields, time to READY, ast.parse, "
    "stale_detected",
    "[telemetry][daemon]") {
  FakeServer fake;
  DaemonProcess d;
  Project p;
  const std::string seg = p.root.string();
  constexpr int kDefs = 3;
  for (int i = 0; i < kDefs; ++i) {
    auto def =
        result_of(d.cli({"--json", "def", "-s", seg, "--wait", "10000", "pkg/service.py:8:12"}));
    // Pyright answered (when the fake finds nothing the AST's answer is added, issue 13):
    // lsp or lsp+ast, never the fallback.
    CHECK(std::string(def.at("backend").as_string()).rfind("lsp", 0) == 0);
  }
  REQUIRE(d.cli({"--json", "ctx", "build", "-s", seg}).exit_code == 0);
  REQUIRE(d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/models.py"}).exit_code == 0);
  auto search = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "make_user"}));
  REQUIRE(!search.at("hits").as_array().empty());
  const std::string id(search.at("hits").as_array()[0].at("id").as_string());
  REQUIRE(d.cli({"--json", "ctx", "get", "-s", seg, id, "-m", "raw"}).exit_code == 0);
  auto validate = result_of(d.cli({"--json", "ctx", "validate", "-s", seg}));
  REQUIRE(d.stop() == 0);

  const auto all = events_of(d, seg);
  const auto lr = last_run_of(d, seg);

  // One sample per request under "lsp.definition" (the request event), one per round trip under
  // "lsp.request" (the client): before the fix the client also sampled "lsp.definition" (2x).
  CHECK(lr.at("latencies").at("lsp.definition").at("count").as_int64() == kDefs);
  const auto requests = with_cmd(all, "lsp.request");
  CHECK(static_cast<int>(requests.size()) == kDefs);
  CHECK(lr.at("latencies").at("lsp.request").at("count").as_int64() == kDefs);
  CHECK(lr.at("lsp").at("lsp_spawn_count").as_int64() == 1);
  CHECK(lr.at("lsp").at("lsp_ready_count").as_int64() == 1);
  CHECK(lr.at("lsp").at("lsp_request_count").as_int64() == kDefs);
  CHECK(lr.at("lsp").at("lsp_fallback_count").as_int64() == 0);
  CHECK(lr.at("lsp").at("lsp_fallback_request_rate").to_number<double>() == 0.0);

  // lsp.request: the seed's short method and `fallback`.
  for (const auto& e : requests) {
    CHECK(e.at("args").at("method").as_string() == "definition");
    CHECK(e.at("result").at("fallback") == false);
  }
  // The per-method request event says which backend answered and whether it was a fallback.
  for (const auto& e : with_cmd(all, "lsp.definition")) {
    CHECK(std::string(e.at("result").at("backend").as_string()).rfind("lsp", 0) == 0);
    CHECK(e.at("result").at("fallback") == false);
  }

  // lsp.spawn: the binary in args, the state in x.
  const auto spawns = with_cmd(all, "lsp.spawn");
  REQUIRE(spawns.size() == 1);
  CHECK(spawns[0].at("args").at("pyright_binary").as_string() == "fake_lsp_server");
  CHECK(spawns[0].at("x").at("lsp_state").as_string() == "WARMING");
  CHECK_FALSE(spawns[0].at("result").as_object().contains("pyright_binary"));

  // Time to READY: the WARMING -> READY event carries the time spent warming.
  bool saw_ready = false;
  for (const auto& e : with_cmd(all, "lsp.state_change")) {
    if (e.at("result").at("to_state").as_string() != "READY") continue;
    saw_ready = true;
    CHECK(e.at("result").at("from_state").as_string() == "WARMING");
    CHECK(e.at("timing_ms").to_number<double>() > 0.0);
  }
  CHECK(saw_ready);

  // ast.parse: the daemon's skeleton cache writes the events a request causes.
  const auto parses = with_cmd(all, "ast.parse");
  REQUIRE_FALSE(parses.empty());
  bool models = false;
  for (const auto& e : parses) models |= e.at("args").at("file").as_string() == "pkg/models.py";
  CHECK(models);
  CHECK(lr.at("ast").at("ast_parse_count").as_int64() >= static_cast<std::int64_t>(parses.size()));

  // file.read: result.status.
  const auto reads = with_cmd(all, "file.read");
  REQUIRE_FALSE(reads.empty());
  for (const auto& e : reads) CHECK(e.at("result").at("status").as_string() == "ok");

  // pack_state.stale_detected after ctx validate.
  CHECK(lr.at("pack_state").at("stale_detected") == !validate.at("ok").as_bool());
}

TEST_CASE("daemon telemetry: an events file removed under the daemon is recreated, nothing is lost",
          "[telemetry][daemon][vanish]") {
  DaemonProcess d({"--no-lsp"});
  Project p;
  const std::string seg = p.root.string();
  const fs::path dir = d.telemetry_dir() / trifecta::core::segment_id_of(seg);
  REQUIRE(d.cli({"--json", "ctx", "search", "-s", seg, "make_user"}).exit_code == 0);
  // The writer is asynchronous: wait until the first request's event is on disk.
  auto written = [&] {
    return fs::exists(dir / "events.jsonl") &&
           read_text(dir / "events.jsonl").find("\"cmd\":\"ctx.search\"") != std::string::npos;
  };
  for (int i = 0; i < 200 && !written(); ++i) std::this_thread::sleep_for(50ms);
  REQUIRE(written());
  fs::remove_all(dir);  // what `rm -rf _ctx` does to a segment's telemetry

  constexpr int kAfter = 5;
  for (int i = 0; i < kAfter; ++i)
    REQUIRE(d.cli({"--json", "ctx", "search", "-s", seg, "User"}).exit_code == 0);
  auto status = result_of(d.cli({"--json", "daemon", "status"}));
  REQUIRE(d.stop() == 0);

  const auto all = events_of(d, seg);
  CHECK(static_cast<int>(with_cmd(all, "ctx.search").size()) == kAfter);  // every later request
  CHECK(status.at("telemetry").at("recreated").as_int64() >= 1);
  CHECK(status.at("telemetry").at("write_errors").as_int64() == 0);
  CHECK(fs::exists(dir / "last_run.json"));
}

TEST_CASE(
    "daemon telemetry: a full disk is counted and shown by daemon status, requests are served",
    "[telemetry][daemon][failure]") {
  if (!fs::exists("/dev/full")) {
    WARN("skipped: no /dev/full on this machine");
    return;
  }
  DaemonProcess d({"--no-lsp"});
  Project p;
  const std::string seg = p.root.string();
  const fs::path dir = d.telemetry_dir() / trifecta::core::segment_id_of(seg);
  fs::create_directories(dir);
  fs::create_symlink("/dev/full", dir / "events.jsonl");  // every write: ENOSPC

  for (int i = 0; i < 3; ++i) {
    auto r = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "make_user"}));
    CHECK_FALSE(r.at("hits").as_array().empty());  // served all the same
  }
  // The writer is asynchronous: wait until the failures are counted.
  json::object t;
  for (int i = 0; i < 100; ++i) {
    t = result_of(d.cli({"--json", "daemon", "status"})).at("telemetry").as_object();
    if (t.at("write_errors").as_int64() >= 3) break;
    std::this_thread::sleep_for(50ms);
  }
  CHECK(t.at("write_errors").as_int64() >= 3);
  CHECK_THAT(std::string(t.at("last_error").as_string()),
             Catch::Contains("No space left on device"));
  auto text = d.cli({"daemon", "status"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("NOT WRITING"));
  CHECK_THAT(text.out, Catch::Contains("No space left on device"));
  REQUIRE(d.stop() == 0);
  fs::remove(dir / "events.jsonl");  // so the schema check at teardown does not read /dev/full
}

TEST_CASE("daemon telemetry: _ctx/ ignores itself, git status stays clean after a build",
          "[telemetry][daemon][git]") {
  if (sh("git --version > /dev/null 2>&1") != 0) {
    WARN("skipped: git is not installed");
    return;
  }
  DaemonProcess d({"--no-lsp"});
  Project p;
  const std::string q = "'" + p.root.string() + "'";
  REQUIRE(sh("cd " + q +
             " && git init -q . && git add -A && git -c user.email=t@t -c user.name=t commit -qm "
             "init") == 0);
  REQUIRE(d.cli({"--json", "ctx", "build", "-s", p.root.string()}).exit_code == 0);
  REQUIRE(d.cli({"--json", "ast", "skeleton", "-s", p.root.string(), "pkg/models.py"}).exit_code ==
          0);
  REQUIRE(d.stop() == 0);
  REQUIRE(fs::exists(p.root / "_ctx"));  // the index cache is there
  CHECK(fs::exists(p.root / "_ctx" / ".gitignore"));
  const fs::path out = p.tmp.path() / "git-status.txt";
  REQUIRE(sh("cd " + q + " && git status --porcelain --untracked-files=all > '" + out.string() +
             "'") == 0);
  CHECK(read_text(out).empty());
}

TEST_CASE(
    "daemon telemetry: sym.search and lsp.calls from a raw client that leaves out the optional "
    "params write events with the arguments in effect",
    "[telemetry][daemon]") {
  // A client may send only what the protocol requires (mode, kinds, limit, direction and depth
  // have defaults); the events must still carry every argument the schema names, with the value
  // used, and the file as the segment-relative path even when the caller gave it absolute.
  // DaemonProcess checks every event against docs/telemetry/events.schema.json at teardown.
  DaemonProcess d({"--no-lsp"});
  Project p;
  const std::string seg = p.root.string();
  RawClient c(d.socket());
  REQUIRE(c.connected());
  const auto call = [&](int id, const char* method, json::object params) {
    params["segment"] = seg;
    json::object req{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
    REQUIRE(c.send(json::serialize(req) + "\n"));
    auto line = c.line(30s);
    REQUIRE(line);
    auto reply = json::parse(*line).as_object();
    INFO(*line);
    REQUIRE(reply.contains("result"));
  };
  call(1, "sym.search", {{"query", "make_user"}});
  call(2, "lsp.calls",
       {{"path", (p.root / "pkg/service.py").string()}, {"line", 8}, {"column", 12}});
  REQUIRE(d.stop() == 0);
  const auto all = events_of(d, seg);
  const auto sym = with_cmd(all, "sym.search");
  REQUIRE(sym.size() == 1);
  const auto& sa = sym[0].at("args").as_object();
  CHECK(sa.at("mode").as_string() == "fuzzy");
  CHECK(sa.at("kinds").as_array().empty());
  CHECK(sa.at("limit").as_int64() == 20);
  const auto calls = with_cmd(all, "lsp.calls");
  REQUIRE(calls.size() == 1);
  const auto& ca = calls[0].at("args").as_object();
  CHECK(ca.at("path").as_string() == "pkg/service.py");
  CHECK(ca.at("direction").as_string() == "both");
  CHECK(ca.at("depth").as_int64() == 1);
}
