// Integration spec of freshness and starvation (issue 16, items 5, 6, 7, 13 and 14) through a
// real trifectad and CLI: a big first build does not hold ping, status or wait:false requests,
// edits made while it runs are all in the index after it, a segment root deleted and re-created
// is watched again, and the lesser faults get typed errors. Also (issue 12): after an edit the
// index settles in the background, with the same answers; a .gitignore edit applies without a
// rebuild, and a directory the ignore rules exclude is not watched. docs/reliability.md lists
// the promises these tests hold.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../support/cli_json.hpp"
#include "../support/timing.hpp"
#include "util/hash.hpp"

using namespace trifecta::test;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// One JSON-RPC request on a raw connection, answered (the reply's object), with its latency.
struct Rpc {
  RawClient client;
  std::int64_t next_id = 1;
  explicit Rpc(const fs::path& socket) : client(socket) { REQUIRE(client.connected()); }
  json::object call(const std::string& method, json::object params,
                    std::int64_t* latency_ms = nullptr) {
    json::object req{
        {"jsonrpc", "2.0"}, {"id", next_id++}, {"method", method}, {"params", std::move(params)}};
    const auto t0 = Clock::now();
    REQUIRE(client.send(json::serialize(req) + "\n"));
    auto line = client.line(std::chrono::seconds(120));
    if (latency_ms) *latency_ms = ms_since(t0);
    REQUIRE(line.has_value());
    return json::parse(*line).as_object();
  }
};

std::string state_of(Rpc& rpc, const std::string& seg) {
  auto r = rpc.call("ctx.status", {{"segment", seg}});
  return std::string(r.at("result").at("index").at("state").as_string());
}

// A tree whose first build takes a while: `n` small Python files in 100 packages.
fs::path big_tree(const TempDir& tmp, int n) {
  const fs::path root = fs::canonical(tmp.path());
  for (int i = 0; i < n; ++i) {
    const std::string pkg = "pkg" + std::to_string(i % 100);
    std::string text = "\"\"\"module " + std::to_string(i) + "\"\"\"\n\n";
    for (int f = 0; f < 4; ++f) {
      text += "def func_" + std::to_string(i) + "_" + std::to_string(f) +
              "(a, b):\n    \"\"\"Add.\"\"\"\n    return a + b\n\n";
    }
    write_text(root / pkg / ("m" + std::to_string(i) + ".py"), text);
  }
  return root;
}

std::string error_name(const json::object& reply) {
  return std::string(reply.at("error").at("data").at("name").as_string());
}

}  // namespace

TEST_CASE(
    "during a big first build ping, status and wait:false answer at once, and every edit "
    "made meanwhile is in the index after it",
    "[freshness][daemon][starvation]") {
  // Two workers, as in the report: the build used to hold one and a wait:false search (waiting
  // for the build lock in its sync) the other, so ping waited for the whole build.
  DaemonProcess d({"--no-lsp", "--workers", "2"});
  TempDir tmp;
  const int n = 12000;
  const fs::path root = big_tree(tmp, n);
  const std::string seg = root.string();
  Rpc rpc(d.socket());
  Rpc other(d.socket());
  REQUIRE(state_of(rpc, seg) == "building");  // opening the segment started the build

  // Edits while it builds: changed files, new files, deleted files.
  for (int i = 0; i < 40; ++i) {
    write_text(root / ("pkg" + std::to_string(i % 100)) / ("m" + std::to_string(i) + ".py"),
               "def edited_during_build_" + std::to_string(i) + "():\n    return 1\n");
    write_text(root / "fresh" / ("new" + std::to_string(i) + ".py"),
               "def created_during_build_" + std::to_string(i) + "():\n    return 2\n");
    fs::remove(root / ("pkg" + std::to_string((i + 50) % 100)) /
               ("m" + std::to_string(i + 50) + ".py"));
  }

  std::int64_t worst_ping = 0, worst_status = 0, worst_search = 0;
  int samples = 0;
  while (samples < 30) {
    std::int64_t ms = 0;
    auto s =
        other.call("ctx.search", {{"segment", seg}, {"query", "func_1_1"}, {"wait", false}}, &ms);
    REQUIRE(s.contains("result"));
    worst_search = std::max(worst_search, ms);
    const bool building = s.at("result").at("index").at("state").as_string() == "building";
    auto p = rpc.call("ping", {}, &ms);
    REQUIRE(p.at("result").at("pong").as_bool());
    worst_ping = std::max(worst_ping, ms);
    auto st = rpc.call("status", {}, &ms);
    REQUIRE(st.contains("result"));
    worst_status = std::max(worst_status, ms);
    if (!building) break;
    ++samples;
  }
  INFO("samples while building: " << samples << ", worst ping " << worst_ping << " ms, status "
                                  << worst_status << " ms, search " << worst_search << " ms");
  if (samples == 0) WARN("the build finished before the first sample: latency not exercised");
  // Generous bounds for a loaded CI machine; before the fix each was the whole build (seconds).
  // kLatencyScale is 1 except in the instrumented builds (tests/support/timing.hpp).
  CHECK(worst_ping < 1500 * kLatencyScale);
  CHECK(worst_status < 1500 * kLatencyScale);
  CHECK(worst_search < 1500 * kLatencyScale);

  // After the build: every edit is there (nothing lost between the walk and the watch).
  auto built = result_of(
      d.cli({"--json", "ctx", "build", "--timeout", "290", "-s", seg}, std::chrono::seconds(300)));
  (void)built;
  auto v = result_of(d.cli({"--json", "ctx", "validate", "-s", seg}, std::chrono::seconds(300)));
  INFO(json::serialize(v));
  CHECK(v.at("ok").as_bool());
  CHECK_FALSE(v.contains("repair"));
  // Queries split into tokens (`edited`, `during`, …) that many files share: the file holding
  // the whole identifier ranks first, and a deleted file is not among the hits at all.
  auto paths_of = [&](const std::string& query) {
    auto r = result_of(d.cli({"--json", "ctx", "search", "-s", seg, query}));
    std::vector<std::string> paths;
    for (const auto& h : r.at("hits").as_array()) paths.emplace_back(h.at("path").as_string());
    return paths;
  };
  for (int i : {0, 17, 39}) {
    const std::string k = std::to_string(i);
    const auto edited = paths_of("edited_during_build_" + k);
    REQUIRE_FALSE(edited.empty());
    CHECK(edited[0] == "pkg" + std::to_string(i % 100) + "/m" + k + ".py");
    const auto created = paths_of("created_during_build_" + k);
    REQUIRE_FALSE(created.empty());
    CHECK(created[0] == "fresh/new" + k + ".py");
    const std::string gone =
        "pkg" + std::to_string((i + 50) % 100) + "/m" + std::to_string(i + 50) + ".py";
    const auto deleted = paths_of("func_" + std::to_string(i + 50) + "_0");
    CHECK(std::find(deleted.begin(), deleted.end(), gone) == deleted.end());
  }
  CHECK(d.stop() == 0);
}

// An edit is answered at once (the request's sync applies it), and the index then settles on the
// build executor (SegmentIndex::settle: back to the steady state where long queries prune); the
// pages are the same before and after, and the settle is counted in telemetry (last_run.json).
TEST_CASE("after an edit the index settles in the background: same pages, counted in last_run.json",
          "[freshness][daemon][settle]") {
  DaemonProcess d({"--no-lsp"});
  TempDir tmp;
  const fs::path root = big_tree(tmp, 300);
  const std::string seg = root.string();
  REQUIRE(d.cli({"--json", "ctx", "build", "-s", seg}).exit_code == 0);
  const auto page = [&](const std::string& query) {
    auto r = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "--limit", "20", query}));
    std::string out;
    for (const auto& h : r.at("hits").as_array()) {
      out += std::string(h.at("id").as_string()) + " " + json::serialize(h.at("score")) + "\n";
    }
    return out;
  };
  write_text(root / "pkg3" / "m3.py",
             "def settle_probe_word(a, b):\n    \"\"\"Add the values.\"\"\"\n    return a + b\n");
  const std::string query = "add the values of a and b settle_probe_word";
  const std::string first = page(query);  // applies the edit, then a settle is posted
  CHECK_THAT(first, Catch::StartsWith("pkg3/m3.py"));
  const std::string second = page("func_42_1 add values");  // before or while it settles
  const fs::path last_run =
      d.telemetry_dir() / trifecta::core::segment_id_of(seg) / "last_run.json";
  const auto settles = [&] { return last_run_metric(last_run, "index_settle_count"); };
  // last_run.json is rewritten once a second while something changed.
  for (int i = 0; i < 300 && settles() < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(settles() >= 1);
  CHECK(page(query) == first);
  CHECK(page("func_42_1 add values") == second);
  REQUIRE(d.stop() == 0);
  const auto v = json::parse(read_text(last_run)).as_object();
  CHECK(v.at("latencies").at("index.settle").at("count").as_int64() >= 1);
}

// The daemon's inotify instances (each watcher's descriptor, and the copy the background apply
// waits on), from /proc.
static int inotify_fds(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path("/proc") / std::to_string(pid) / "fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (fs::read_symlink(it->path(), e2).string() == "anon_inode:inotify") ++n;
  }
  return n;
}

// Changes are applied without waiting for a request (Service::watch_changes): a file written
// while no request comes is in the index, and the index settled, before the next request — which
// then finds it. Closing the segment ends the wait: no inotify instance of it is left.
TEST_CASE("a file written while no request comes is applied and settled in the background",
          "[freshness][daemon][settle][background]") {
  DaemonProcess d({"--no-lsp"});
  TempDir tmp;
  const fs::path root = big_tree(tmp, 50);
  const std::string seg = root.string();
  REQUIRE(d.cli({"--json", "ctx", "build", "-s", seg}).exit_code == 0);
  const fs::path last_run =
      d.telemetry_dir() / trifecta::core::segment_id_of(seg) / "last_run.json";
  const auto counter = [&](const char* name) { return last_run_metric(last_run, name); };
  CHECK(counter("index_sync_changes") == 0);
  // The watcher and the copy of its descriptor the daemon waits on.
  for (int i = 0; i < 100 && inotify_fds(d.pid()) < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(inotify_fds(d.pid()) == 2);

  write_text(root / "pkg7" / "m7.py",
             "def background_probe_word(a, b):\n    \"\"\"Multiply.\"\"\"\n    return a * b\n");
  // No request meanwhile: only the background apply can count the change, and its settle.
  for (int i = 0;
       i < 300 && (counter("index_sync_changes") < 1 || counter("index_settle_count") < 1); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(counter("index_sync_changes") == 1);
  CHECK(counter("index_settle_count") >= 1);
  auto r = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "background_probe_word"}));
  REQUIRE_FALSE(r.at("hits").as_array().empty());
  CHECK_THAT(std::string(r.at("hits").at(0).at("id").as_string()), Catch::StartsWith("pkg7/m7.py"));
  CHECK(counter("index_sync_changes") == 1);  // the search found nothing left to apply

  REQUIRE(d.cli({"--json", "segment", "close", "-s", seg}).exit_code == 0);
  for (int i = 0; i < 100 && inotify_fds(d.pid()) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(inotify_fds(d.pid()) == 0);
  CHECK(d.stop() == 0);
}

// The watches of the daemon's inotify instance(s): the most any one descriptor shows (the
// background apply's copy shares its watcher's instance), from /proc/PID/fdinfo.
static int inotify_watches(pid_t pid) {
  int most = 0;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path("/proc") / std::to_string(pid) / "fdinfo", ec), end;
       !ec && it != end; it.increment(ec)) {
    std::ifstream in(it->path());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) n += line.rfind("inotify wd:", 0) == 0 ? 1 : 0;
    most = std::max(most, n);
  }
  return most;
}

// A .gitignore edit applies without a rebuild (the next sync re-lists the tree), and a tool
// writing into a directory the ignore rules exclude adds no watches (issue 12).
TEST_CASE("a .gitignore edit is applied without a rebuild, and an ignored directory is not watched",
          "[freshness][daemon][gitignore]") {
  const bool git = std::system("git --version >/dev/null 2>&1") == 0;
  if (!git) WARN("git not installed: the tree is walked (its .gitignore files apply the same way)");
  DaemonProcess d({"--no-lsp"});
  TempDir tmp;
  const fs::path root = fs::canonical(tmp.path()) / "seg";
  write_text(root / ".gitignore", "out/\n");
  write_text(root / "app.py", "def application_entry():\n    return 1\n");
  write_text(root / "out" / "old.py", "def generated_probe_word():\n    return 2\n");
  if (git) REQUIRE(std::system(("git -C '" + root.string() + "' init -q").c_str()) == 0);
  const std::string seg = root.string();
  REQUIRE(d.cli({"--json", "ctx", "build", "-s", seg}).exit_code == 0);
  const auto out_hits = [&] {
    auto r = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "generated_probe_word"}));
    int n = 0;
    for (const auto& h : r.at("hits").as_array())
      n += std::string(h.at("path").as_string()).rfind("out/", 0) == 0 ? 1 : 0;
    return n;
  };
  CHECK(out_hits() == 0);
  const int watched = inotify_watches(d.pid());
  CHECK(watched == 1);  // the root; out/ is ignored
  // A build writing into out/: new directories, no new watches.
  for (int i = 0; i < 20; ++i)
    write_text(root / "out" / ("gen" + std::to_string(i)) / "m.py",
               "def generated_probe_word():\n    pass\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(inotify_watches(d.pid()) == watched);
  CHECK(out_hits() == 0);

  // out/ no longer ignored: the next request re-lists, out/'s 21 files come in and are watched.
  write_text(root / ".gitignore", "# nothing ignored\n");
  CHECK(out_hits() == 10);  // a page of them
  auto st = result_of(d.cli({"--json", "ctx", "status", "-s", seg}));
  CHECK(st.at("status").at("files_indexed").as_int64() == 23);  // app.py, .gitignore, out/'s 21
  CHECK(inotify_watches(d.pid()) == watched + 21);
  CHECK(st.at("status").at("watched_dirs").as_int64() == watched + 21);  // what ctx status says
  CHECK_THAT(d.cli({"ctx", "status", "-s", seg}).out,
             Catch::Contains("watching yes (22 directories)"));

  // Ignored again: they leave the index though still on disk, and out/ is not watched.
  write_text(root / ".gitignore", "out/\n");
  CHECK(out_hits() == 0);
  st = result_of(d.cli({"--json", "ctx", "status", "-s", seg}));
  CHECK(st.at("status").at("files_indexed").as_int64() == 2);
  CHECK(inotify_watches(d.pid()) == watched);
  CHECK(st.at("status").at("watched_dirs").as_int64() == watched);
  CHECK(d.stop() == 0);
}

// git's ignore files outside the tree — the repository's .git/info/exclude and the user's
// core.excludesFile — are not watched (.git never is; the other lies elsewhere): the next request
// sees an edit to either by their stamps and re-lists the tree, as for a .gitignore (issue 12).
TEST_CASE("an edit to .git/info/exclude or core.excludesFile is applied without a rebuild",
          "[freshness][daemon][gitignore]") {
  if (std::system("git --version >/dev/null 2>&1") != 0) {
    WARN("git not installed: a walked tree has no .git/info/exclude, nothing to test");
    return;
  }
  DaemonProcess d({"--no-lsp"});
  TempDir tmp;
  const fs::path root = fs::canonical(tmp.path()) / "seg";
  const fs::path user_ignore = fs::canonical(tmp.path()) / "user-ignore";  // absent at the build
  write_text(root / "app.py", "def application_entry():\n    return 1\n");
  write_text(root / "local" / "scratch.py", "def scratch_probe_word():\n    return 2\n");
  write_text(root / "notes.py", "def notes_probe_word():\n    return 3\n");
  const std::string seg = root.string();
  const std::string git = "git -C '" + seg + "' ";
  REQUIRE(std::system((git + "init -q").c_str()) == 0);
  REQUIRE(std::system((git + "config core.excludesFile '" + user_ignore.string() + "'").c_str()) ==
          0);
  REQUIRE(d.cli({"--json", "ctx", "build", "-s", seg}).exit_code == 0);
  // The hits in `path` of a search for its function's name (the others share words with it).
  const auto hits = [&](const std::string& word, const std::string& path) {
    const auto r = result_of(d.cli({"--json", "ctx", "search", "-s", seg, word}));
    int n = 0;
    for (const auto& h : r.at("hits").as_array()) n += h.at("path").as_string() == path ? 1 : 0;
    return n;
  };
  const auto indexed = [&] {
    return result_of(d.cli({"--json", "ctx", "status", "-s", seg}))
        .at("status")
        .at("files_indexed")
        .as_int64();
  };
  CHECK(hits("scratch_probe_word", "local/scratch.py") > 0);
  CHECK(indexed() == 3);

  // The repository's exclude file: local/ leaves the index, though still on disk, and returns.
  std::ofstream(root / ".git" / "info" / "exclude", std::ios::app) << "local/\n";
  CHECK(hits("scratch_probe_word", "local/scratch.py") == 0);
  CHECK(indexed() == 2);
  write_text(root / ".git" / "info" / "exclude", "# nothing\n");
  CHECK(hits("scratch_probe_word", "local/scratch.py") > 0);

  // The user's excludes file, created after the build.
  write_text(user_ignore, "notes.py\n");
  CHECK(hits("notes_probe_word", "notes.py") == 0);
  CHECK(indexed() == 2);
  fs::remove(user_ignore);
  CHECK(hits("notes_probe_word", "notes.py") > 0);
  CHECK(indexed() == 3);
  CHECK(d.stop() == 0);
}

TEST_CASE("a segment root deleted and re-created is watched again, and --rebuild sees its files",
          "[freshness][daemon]") {
  DaemonProcess d({"--no-lsp"});
  TempDir tmp;
  const fs::path root = fs::canonical(tmp.path()) / "seg";
  write_text(root / "a.py", "def before_removal():\n    return 1\n");
  const std::string seg = root.string();
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}, std::chrono::seconds(120)));

  fs::remove_all(root);
  write_text(root / "b.py", "def after_recreation():\n    return 2\n");
  // Before: the index stayed on the old, vanished tree, `watching: true`.
  auto found = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "after_recreation"}));
  CHECK(found.at("hits").as_array().size() == 1);
  auto st = result_of(d.cli({"--json", "ctx", "status", "-s", seg}));
  CHECK(st.at("status").at("watching").as_bool());
  CHECK_THAT(json::serialize(st.at("status").at("warnings")), Catch::Contains("re-created"));
  // Still watched: a file written now is seen.
  write_text(root / "c.py", "def later_still():\n    return 3\n");
  auto later = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "later_still"}));
  CHECK(later.at("hits").as_array().size() == 1);
  auto rebuilt = result_of(
      d.cli({"--json", "ctx", "build", "--rebuild", "-s", seg}, std::chrono::seconds(120)));
  CHECK(rebuilt.at("build").at("files_indexed").as_int64() == 2);
  CHECK(d.stop() == 0);
}

TEST_CASE("lesser faults get typed errors: line over 2^31, NUL in params.segment, a full registry",
          "[faults][daemon]") {
  DaemonProcess d({"--no-lsp", "--max-segments", "1"});
  TempDir tmp;
  const fs::path root = fs::canonical(tmp.path()) / "small";
  std::string text;
  for (int i = 0; i < 400; ++i) text += "x" + std::to_string(i) + " = " + std::to_string(i) + "\n";
  write_text(root / "m.py", text);
  const std::string seg = root.string();
  Rpc rpc(d.socket());

  // 2^32 + 337 used to be answered as line 337.
  auto huge = rpc.call(
      "lsp.definition",
      {{"segment", seg}, {"path", "m.py"}, {"line", (std::int64_t{1} << 32) + 337}, {"column", 1}});
  REQUIRE(huge.contains("error"));
  CHECK(error_name(huge) == "INVALID_PARAMS");
  CHECK_THAT(std::string(huge.at("error").at("message").as_string()),
             Catch::Contains("params.line"));

  // A NUL used to cut the path short: "<seg>\0/elsewhere" opened <seg>.
  auto nul = rpc.call("ctx.status", {{"segment", seg + std::string("\0/elsewhere", 11)}});
  REQUIRE(nul.contains("error"));
  CHECK(error_name(nul) == "INVALID_PARAMS");
  CHECK_THAT(std::string(nul.at("error").at("message").as_string()), Catch::Contains("NUL"));

  // The registry is full and its one segment is busy (a build of a big tree): TOO_LARGE, as
  // documented, not INVALID_PARAMS.
  TempDir big_dir;
  const fs::path big = big_tree(big_dir, 6000);
  REQUIRE(state_of(rpc, big.string()) == "building");
  auto full = rpc.call("ctx.status", {{"segment", seg}});
  if (full.contains("error")) {
    CHECK(error_name(full) == "TOO_LARGE");
  } else {
    WARN("the big build finished before the second open: TOO_LARGE not exercised");
  }

  // lsp.restart without a language server: a typed error, not a crash.
  auto restart = d.cli({"--json", "lsp", "restart", "-s", big.string()});
  CHECK(error_name_of(restart) == "UNAVAILABLE");
  // Let the build end before stopping (a stop waits for a build under way).
  result_of(d.cli({"--json", "ctx", "build", "--timeout", "290", "-s", big.string()},
                  std::chrono::seconds(300)));
  CHECK(d.stop() == 0);
}
