// Integration spec of the daemon's limits (issue 16, items 8-11) through a real trifectad: the
// ctx.get target cap on every path, the request deadline, the reply size cap, the global budget
// for buffered request bytes, EMFILE back-off, and idle-connection eviction under pressure.
// docs/reliability.md "Limits" lists the promises these tests hold.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "../support/cli_json.hpp"
#include "../support/timing.hpp"
#include "lang/python/pyright.hpp"

using namespace trifecta::test;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string req(std::int64_t id, std::string_view method, json::object params = {}) {
  json::object o{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
  return json::serialize(o) + "\n";
}

json::object parse_obj(const std::optional<std::string>& line) {
  REQUIRE(line.has_value());
  return json::parse(*line).as_object();
}

std::string error_name(const json::object& reply) {
  INFO(json::serialize(reply));
  REQUIRE(reply.contains("error"));
  return std::string(reply.at("error").at("data").at("name").as_string());
}

std::string error_message(const json::object& reply) {
  return std::string(reply.at("error").at("message").as_string());
}

bool healthy(const fs::path& socket) {
  RawClient c(socket);
  if (!c.connected() || !c.send(req(7, "ping"))) return false;
  auto l = c.line(5s);
  if (!l) return false;
  auto o = json::parse(*l).as_object();
  return o.at("id").as_int64() == 7 && o.at("result").at("pong").as_bool();
}

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

struct Tree {
  TempDir tmp;
  fs::path root;
  Tree() {
    root = fs::canonical(tmp.path());
    fs::create_directories(root / "pkg");
    write_text(root / "pkg/__init__.py", "");
    write_text(root / "pkg/small.py", "def one():\n    return 1\n");
  }
};

std::size_t count_lines_containing(const fs::path& file, std::string_view needle) {
  std::ifstream in(file);
  std::size_t n = 0;
  for (std::string l; std::getline(in, l);) n += l.find(needle) != std::string::npos;
  return n;
}

std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e :
       fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

std::optional<std::string> pyright_missing() {
  auto s = trifecta::core::lang::python::discover_server(
      trifecta::core::lang::python::DiscoveryInputs::from_env());
  if (!s) return s.error().message;
  if (::system("node --version > /dev/null 2>&1") != 0) return std::string("node is not installed");
  return std::nullopt;
}

}  // namespace

TEST_CASE(
    "ctx.get refuses more than 1,000 targets before resolving any, unresolvable URIs included",
    "[bounds][daemon][ctx]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  RawClient c(d.socket());
  // The index is built first (ctx.build may send progress notifications before its reply).
  c.send(req(1, "ctx.build", {{"segment", seg}}));
  for (;;) {
    auto o = parse_obj(c.line(60s));
    if (o.contains("id")) {
      INFO(json::serialize(o));
      REQUIRE(o.contains("result"));
      break;
    }
  }

  // 200,000 sym:// URIs that resolve to nothing: before the fix every one was resolved (26.6 s,
  // a 35 MB reply) because only resolved targets were counted against the cap.
  json::array uris;
  for (int i = 0; i < 200000; ++i)
    uris.emplace_back("sym://python/pkg.small/missing_" + std::to_string(i));
  const auto t0 = Clock::now();
  c.send(req(2, "ctx.get", {{"segment", seg}, {"uris", uris}}));
  auto r = parse_obj(c.line(60s));
  INFO("answered in " << ms_since(t0) << " ms");
  CHECK(error_name(r) == "INVALID_ARGUMENT");
  CHECK(error_message(r).find("too many targets") != std::string::npos);
  CHECK(error_message(r).find("200000 uris") != std::string::npos);

  // Ids and URIs count together.
  json::array ids;
  for (int i = 0; i < 600; ++i) ids.emplace_back("pkg/small.py#one");
  json::array some;
  for (int i = 0; i < 401; ++i)
    some.emplace_back("sym://python/pkg.small/missing_" + std::to_string(i));
  c.send(req(3, "ctx.get", {{"segment", seg}, {"ids", ids}, {"uris", some}}));
  CHECK(error_name(parse_obj(c.line(60s))) == "INVALID_ARGUMENT");

  // At the cap the request is served: every unresolvable URI is reported in errors.
  json::array thousand;
  for (int i = 0; i < 1000; ++i)
    thousand.emplace_back("sym://python/pkg.small/missing_" + std::to_string(i));
  c.send(req(4, "ctx.get", {{"segment", seg}, {"uris", thousand}}));
  auto ok = parse_obj(c.line(60s));
  INFO(json::serialize(ok).substr(0, 400));
  REQUIRE(ok.contains("result"));
  CHECK(ok.at("result").at("errors").as_array().size() == 1000);
  // With no target resolved the reply still states the budget and generation a resolved one
  // would (they were 0 and 0), and the request's own checks still apply.
  CHECK(ok.at("result").at("budget").as_int64() == 2000);
  CHECK(ok.at("result").at("generation").as_int64() >= 1);
  CHECK(ok.at("result").at("generation") == ok.at("result").at("index").at("generation"));
  const json::array one_missing{json::string("sym://python/pkg.small/missing")};
  c.send(req(5, "ctx.get", {{"segment", seg}, {"uris", one_missing}, {"budget", 5}}));
  auto small = parse_obj(c.line(60s));
  CHECK(error_name(small) == "INVALID_ARGUMENT");
  CHECK(error_message(small).find("budget must be at least") != std::string::npos);
  c.send(req(6, "ctx.get", {{"segment", seg}, {"uris", one_missing}, {"budget", 5000000}}));
  auto big = parse_obj(c.line(60s));
  INFO(json::serialize(big).substr(0, 400));
  REQUIRE(big.contains("result"));
  CHECK(big.at("result").at("budget").as_int64() == 1000000);  // clamped, like a resolved request
  CHECK(healthy(d.socket()));
}

TEST_CASE("a request not answered within --request-timeout is answered TIMEOUT exactly once",
          "[bounds][daemon][deadline]") {
  DaemonProcess d({"--no-lsp", "--request-timeout", "1"});
  RawClient c(d.socket());
  // debug.sleep holds its reply for 3 s: longer than the 1 s deadline.
  const auto t0 = Clock::now();
  c.send(req(1, "debug.sleep", {{"ms", 3000}}));
  auto r = parse_obj(c.line(10s));
  const auto took = ms_since(t0);
  CHECK(r.at("id").as_int64() == 1);
  CHECK(error_name(r) == "TIMEOUT");
  CHECK(error_message(r).find("--request-timeout") != std::string::npos);
  CHECK(took < 2900);  // the deadline answered, not the handler
  // The connection stays usable, and the handler's own late answer is dropped: the next line is
  // the ping's reply, and nothing follows it.
  c.send(req(2, "ping"));
  auto p = parse_obj(c.line(5s));
  CHECK(p.at("id").as_int64() == 2);
  std::this_thread::sleep_for(3s);
  c.send(req(3, "ping"));
  CHECK(parse_obj(c.line(5s)).at("id").as_int64() == 3);
  // A request answered in time is untouched.
  c.send(req(4, "debug.sleep", {{"ms", 100}}));
  CHECK(parse_obj(c.line(5s)).contains("result"));
  // One sweep checks every deadline (each 100 ms while a request is in flight, none while the
  // daemon is idle): after the idle seconds above and 50 answered requests, two long requests
  // half a second apart are each answered TIMEOUT about a second after they were sent.
  for (int i = 0; i < 50; ++i) {
    c.send(req(10 + i, "ping"));
    CHECK(parse_obj(c.line(5s)).at("id").as_int64() == 10 + i);
  }
  const auto t1 = Clock::now();
  c.send(req(100, "debug.sleep", {{"ms", 3000}}));
  std::this_thread::sleep_for(500ms);
  c.send(req(101, "debug.sleep", {{"ms", 3000}}));
  auto a = parse_obj(c.line(10s));
  const auto ta = ms_since(t1);
  auto b = parse_obj(c.line(10s));
  const auto tb = ms_since(t1);
  CHECK(a.at("id").as_int64() == 100);
  CHECK(error_name(a) == "TIMEOUT");
  CHECK(ta >= 1000);
  CHECK(ta < 2400);
  CHECK(b.at("id").as_int64() == 101);
  CHECK(error_name(b) == "TIMEOUT");
  CHECK(tb >= 1500);
  CHECK(tb < 2900);
}

TEST_CASE("a reply over --max-reply-bytes is answered TOO_LARGE", "[bounds][daemon][ast]") {
  DaemonProcess d({"--no-lsp", "--max-reply-bytes", "4096"});
  Tree t;
  std::string big;
  for (int i = 0; i < 300; ++i)
    big += "def function_number_" + std::to_string(i) + "(a, b, c):\n    return a\n";
  write_text(t.root / "pkg/big.py", big);
  RawClient c(d.socket());
  c.send(req(1, "ast.skeleton", {{"segment", t.root.string()}, {"path", "pkg/big.py"}}));
  auto r = parse_obj(c.line(30s));
  CHECK(error_name(r) == "TOO_LARGE");
  CHECK(error_message(r).find("reply cap") != std::string::npos);
  CHECK(r.at("error").at("data").at("max_reply_bytes").as_int64() == 4096);
  CHECK(r.at("error").at("data").at("reply_bytes").as_int64() > 4096);
  // A small reply on the same connection is served.
  c.send(req(2, "ast.skeleton", {{"segment", t.root.string()}, {"path", "pkg/small.py"}}));
  CHECK(parse_obj(c.line(30s)).contains("result"));
}

TEST_CASE("unterminated request bytes across connections are held to one budget",
          "[bounds][daemon][memory]") {
  // 1 MiB lines, 4 MiB for all connections together: eight connections each holding 900 KiB
  // without a newline cannot all be kept (before the fix every one was, up to 256 × 16 MiB).
  DaemonProcess d({"--no-lsp", "--max-line-bytes", "1048576", "--max-buffered-bytes", "4194304"});
  std::vector<std::unique_ptr<RawClient>> clients;
  const std::string partial =
      std::string(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":")") +
      std::string(900 * 1024, 'p');
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<RawClient>(d.socket()));
    REQUIRE(clients.back()->connected());
    (void)clients.back()->send(partial);  // may fail when this connection is the one refused
  }
  int refused = 0;
  for (auto& c : clients) {
    auto l = c->line(2s);
    if (!l) continue;
    auto o = json::parse(*l).as_object();
    CHECK(error_name(o) == "SERVER_BUSY");
    CHECK(error_message(o).find("request buffer budget") != std::string::npos);
    ++refused;
  }
  CHECK(refused >= 4);
  CHECK(refused < 8);
  CHECK(healthy(d.socket()));
  // The connections kept are served once their line ends.
  int served = 0;
  for (auto& c : clients) {
    if (!c->send(R"("}})"
                 "\n"))
      continue;
    auto l = c->line(5s);
    if (l && json::parse(*l).as_object().contains("result")) ++served;
  }
  CHECK(served == 8 - refused);
}

TEST_CASE("a full connection table closes the connection idle the longest instead of refusing",
          "[bounds][daemon][connections]") {
  DaemonProcess d({"--no-lsp", "--max-connections", "8"});
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<RawClient>(d.socket()));
    REQUIRE(clients.back()->send(req(i, "ping")));
    REQUIRE(parse_obj(clients.back()->line(5s)).contains("result"));
    std::this_thread::sleep_for(20ms);
  }
  // Before the fix the ninth client (here the CLI) was refused SERVER_BUSY until one timed out.
  auto r = d.cli({"--json", "ping"}, 10s);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(clients.front()->closed_by_peer(5s));  // the oldest idle one made room
  // The others are still served.
  REQUIRE(clients.back()->send(req(100, "ping")));
  CHECK(parse_obj(clients.back()->line(5s)).at("id").as_int64() == 100);
}

TEST_CASE("a full connection table with every connection busy refuses SERVER_BUSY",
          "[bounds][daemon][connections]") {
  DaemonProcess d({"--no-lsp", "--max-connections", "4", "--max-inflight", "1"});
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<RawClient>(d.socket()));
    REQUIRE(clients.back()->send(req(i, "debug.sleep", {{"ms", 4000}})));
    // The SERVER_BUSY for a second request shows the sleep is in flight.
    REQUIRE(clients.back()->send(req(100 + i, "ping")));
    CHECK(error_name(parse_obj(clients.back()->line(5s))) == "SERVER_BUSY");
  }
  RawClient extra(d.socket());
  auto r = parse_obj(extra.line(5s));
  CHECK(error_name(r) == "SERVER_BUSY");
  CHECK(error_message(r).find("none idle") != std::string::npos);
  for (auto& c : clients) CHECK(parse_obj(c->line(10s)).contains("result"));
}

TEST_CASE("idle connections are closed sooner while the connection table is 3/4 full",
          "[bounds][daemon][connections]") {
  DaemonProcess d({"--no-lsp", "--max-connections", "8", "--conn-idle-timeout-pressure", "1"});
  // Two idle connections: no pressure, they stay (the normal idle timeout is 300 s).
  std::vector<std::unique_ptr<RawClient>> few;
  for (int i = 0; i < 2; ++i) few.push_back(std::make_unique<RawClient>(d.socket()));
  std::this_thread::sleep_for(2500ms);
  for (auto& c : few) CHECK_FALSE(c->closed_by_peer(100ms));
  // Seven of eight: every connection idle for 1 s is closed within the next sweep.
  std::vector<std::unique_ptr<RawClient>> many;
  for (int i = 0; i < 5; ++i) many.push_back(std::make_unique<RawClient>(d.socket()));
  for (auto& c : few) CHECK(c->closed_by_peer(5s));
  for (auto& c : many) CHECK(c->closed_by_peer(5s));
  CHECK(healthy(d.socket()));
}

TEST_CASE("out of file descriptors, accept backs off, refuses with a reply and logs once",
          "[bounds][daemon][emfile]") {
  DaemonProcess d({"--no-lsp"});
  REQUIRE(healthy(d.socket()));
  // Leave the daemon four descriptors beyond what it holds now.
  const auto starved_at = Clock::now();
  const std::size_t base = open_fds(d.pid());
  const rlimit low{static_cast<rlim_t>(base + 4), static_cast<rlim_t>(base + 4)};
  REQUIRE(::prlimit(d.pid(), RLIMIT_NOFILE, &low, nullptr) == 0);

  // Thirty clients that each hold a request in flight: none can be closed to make room.
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 30; ++i) {
    clients.push_back(std::make_unique<RawClient>(d.socket()));
    (void)clients.back()->send(req(i, "debug.sleep", {{"ms", 3000}}));
  }
  // Every client gets an answer or a clean close: served, or SERVER_BUSY "out of file descriptors".
  int served = 0, busy = 0, unanswered = 0;
  const auto t0 = Clock::now();
  for (auto& c : clients) {
    const auto left = std::max<std::int64_t>(100, 15000 - ms_since(t0));
    auto l = c->line(std::chrono::milliseconds(left));
    if (!l) {
      ++unanswered;
      continue;
    }
    auto o = json::parse(*l).as_object();
    if (o.contains("result")) {
      ++served;
    } else {
      CHECK(error_name(o) == "SERVER_BUSY");
      ++busy;
    }
  }
  INFO("served " << served << ", busy " << busy << ", unanswered " << unanswered);
  CHECK(served >= 1);
  CHECK(busy >= 1);
  // Before the fix: 3.26 million "accept failed" lines in 7 s. Now at most one per 10 s (the
  // promise is a rate: a loaded machine that stretches this test over 20 s may see a fourth line).
  const fs::path log = d.dir() / "daemon.stderr";
  const auto starved_s =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - starved_at).count();
  INFO("starved for " << starved_s << " s");
  CHECK(count_lines_containing(log, "accept failed") <=
        static_cast<std::size_t>(3 + starved_s / 10));
  clients.clear();
  // With descriptors back the daemon serves new clients again (after at most 1 s of back-off).
  bool ok = false;
  for (int i = 0; i < 40 && !ok; ++i) {
    ok = healthy(d.socket());
    if (!ok) std::this_thread::sleep_for(250ms);
  }
  CHECK(ok);
}

TEST_CASE(
    "real Pyright: a definition or hover reached through an in-tree symlink to an outside file is "
    "external",
    "[bounds][daemon][pyright][boundary]") {
  if (auto why = pyright_missing()) {
    WARN("skipped: no language server on this machine: " << *why);
    return;
  }
  TempDir outside_dir;
  const fs::path outside = fs::canonical(outside_dir.path());
  write_text(outside / "secret.py",
             "def leaked():\n    \"\"\"Outside the segment.\"\"\"\n    return 42\n");
  Tree t;
  fs::create_symlink(outside / "secret.py", t.root / "pkg/link.py");
  write_text(t.root / "main.py",
             "from pkg.link import leaked\nfrom pkg.small import one\nleaked()\none()\n");
  DaemonProcess d;
  const std::string seg = t.root.string();
  // ast.* refuses the path: it leaves the segment through a symlink.
  auto skel = d.cli({"--json", "ast", "skeleton", "-s", seg, "pkg/link.py"});
  CHECK(error_name_of(skel) == "PATH_ESCAPE");
  // Pyright follows the import into the symlink. Before the fix the definition said
  // `pkg/link.py`, `external: false`; the boundary is now decided on the resolved path.
  auto def = result_of(d.cli({"--json", "def", "-s", seg, "--wait", "60000", "main.py:3:1"}, 90s));
  INFO(json::serialize(def));
  REQUIRE(def.at("backend").as_string() == "lsp");
  REQUIRE(def.at("locations").as_array().size() == 1);
  const auto& loc = def.at("locations").as_array()[0].as_object();
  CHECK(loc.at("external").as_bool());
  CHECK(loc.at("path").as_string() == (outside / "secret.py").string());
  // hover applies the same rule: before the fix it showed the outside file's docstring with no
  // label. Now the answer says the symbol is defined outside, by its real path.
  auto hover =
      result_of(d.cli({"--json", "hover", "-s", seg, "--wait", "60000", "main.py:3:1"}, 90s));
  INFO(json::serialize(hover));
  REQUIRE(hover.at("backend").as_string() == "lsp");
  REQUIRE(hover.contains("external"));
  CHECK(hover.at("external").as_bool());
  CHECK(hover.at("definition_path").as_string() == (outside / "secret.py").string());
  // A symbol defined inside the segment carries no label.
  auto inside =
      result_of(d.cli({"--json", "hover", "-s", seg, "--wait", "60000", "main.py:4:1"}, 90s));
  INFO(json::serialize(inside));
  CHECK(inside.at("backend").as_string() == "lsp");
  CHECK_FALSE(inside.contains("external"));
  CHECK_FALSE(inside.contains("definition_path"));
}

TEST_CASE(
    "real Pyright: over the total language-server memory cap the least recently used is stopped",
    "[bounds][daemon][pyright][memory]") {
  if (auto why = pyright_missing()) {
    WARN("skipped: no language server on this machine: " << *why);
    return;
  }
  // A 1 MiB total: any two running servers are over it, so only the most recent one may stay.
  DaemonProcess d({"--lsp-total-rss-mb", "1", "--lsp-memory-check-ms", "200"});
  Tree a, b;
  const std::string sa = a.root.string(), sb = b.root.string();
  auto state_of = [&](const std::string& seg) {
    return std::string(
        result_of(d.cli({"--json", "lsp", "status", "-s", seg})).at("state").as_string());
  };
  auto def_a = result_of(
      d.cli({"--json", "def", "-s", sa, "--wait", "60000", "--timeout", "170", "pkg/small.py:1:5"},
            180s));
  REQUIRE(def_a.at("backend").as_string() == "lsp");
  auto def_b = result_of(
      d.cli({"--json", "def", "-s", sb, "--wait", "60000", "--timeout", "170", "pkg/small.py:1:5"},
            180s));
  REQUIRE(def_b.at("backend").as_string() == "lsp");
  // Before the fix both stayed up (8 small segments used 1.1 GiB). Now `a` (used first) is shed.
  bool a_cold = false;
  for (int i = 0; i < 60 && !a_cold; ++i) {
    a_cold = state_of(sa) == "COLD";
    if (!a_cold) std::this_thread::sleep_for(250ms);
  }
  CHECK(a_cold);
  CHECK(state_of(sb) == "READY");  // the most recently used one always stays
  CHECK(count_lines_containing(d.dir() / "daemon.stderr", "over the total cap") >= 1);
  // The next request to `a` warms it again (and then `b` is the one over the cap).
  auto again = result_of(
      d.cli({"--json", "def", "-s", sa, "--wait", "60000", "--timeout", "170", "pkg/small.py:1:5"},
            180s));
  CHECK(again.at("backend").as_string() == "lsp");
  bool b_cold = false;
  for (int i = 0; i < 60 && !b_cold; ++i) {
    b_cold = state_of(sb) == "COLD";
    if (!b_cold) std::this_thread::sleep_for(250ms);
  }
  CHECK(b_cold);
}

TEST_CASE("ping, status and wait:false requests answer while every request worker is stuck",
          "[bounds][daemon][lanes]") {
  // Two request workers, both held by a handler that never returns in time (debug.sleep with
  // occupy_worker sleeps on the worker, as a handler blocked on a hung backend would). Before the
  // quick lane every request queued behind them: ping answered only when a worker came free.
  DaemonProcess d({"--no-lsp", "--workers", "2"});
  Tree t;
  const std::string seg = t.root.string();
  // The segment is opened and built first: the quick lane serves segments already open.
  auto built = d.cli({"--json", "ctx", "build", "-s", seg});
  REQUIRE(built.exit_code == 0);

  RawClient holder(d.socket());
  REQUIRE(holder.connected());
  for (int i = 1; i <= 2; ++i)
    REQUIRE(holder.send(req(i, "debug.sleep", {{"ms", 8000}, {"occupy_worker", true}})));
  std::this_thread::sleep_for(300ms);  // both are on their workers now

  RawClient c(d.socket());
  REQUIRE(c.connected());
  const auto held_until = Clock::now() + 7s;  // the workers are busy at least until then
  auto timed = [&](std::int64_t id, std::string_view method, json::object params) {
    const auto t0 = Clock::now();
    REQUIRE(c.send(req(id, method, std::move(params))));
    auto o = parse_obj(c.line(10s));
    const auto ms = ms_since(t0);
    INFO(method << ": " << json::serialize(o) << " in " << ms << " ms");
    REQUIRE(o.at("id").as_int64() == id);
    REQUIRE(o.contains("result"));
    return ms;
  };
  for (int i = 0; i < 20; ++i) {
    const auto ms = timed(100 + i, "ping", {});
    CHECK(ms < 100 * kLatencyScale);  // kLatencyScale: 1 except in the instrumented builds
    std::this_thread::sleep_for(25ms);
  }
  // On a loaded 2-core machine the quick lane answers in milliseconds; the bound here only shows
  // that nothing waited for a request worker (held for 8 s).
  CHECK(timed(200, "hello", {{"protocol", "1.0"}}) < 1000);
  CHECK(timed(201, "status", {}) < 1000);
  CHECK(timed(202, "ctx.status", {{"segment", seg}}) < 1000);
  CHECK(timed(203, "ctx.search", {{"segment", seg}, {"query", "one"}, {"wait", false}}) < 1000);
  CHECK(timed(204, "ctx.get",
              {{"segment", seg}, {"ids", json::array{"pkg/small.py#one"}}, {"wait", false}}) <
        1000);
  CHECK(timed(205, "ctx.map", {{"segment", seg}, {"wait", false}}) < 1000);
  CHECK(Clock::now() < held_until);  // all of it while both workers were still held
  // A request that needs a worker still waits for one (it is not refused).
  REQUIRE(c.send(req(300, "ctx.search", {{"segment", seg}, {"query", "one"}})));
  auto waited = parse_obj(c.line(20s));
  CHECK(waited.contains("result"));
  CHECK(Clock::now() >= held_until);
  for (int i = 0; i < 2; ++i) CHECK(parse_obj(holder.line(20s)).contains("result"));
}

TEST_CASE("TOO_LARGE over --max-reply-bytes says which smaller request to make, per method family",
          "[bounds][daemon][reply]") {
  DaemonProcess d({"--no-lsp", "--max-reply-bytes", "4096"});
  Tree t;
  std::string big;
  for (int i = 0; i < 300; ++i)
    big +=
        "def function_number_" + std::to_string(i) + "(a, b, c):\n    return function_number_0\n";
  write_text(t.root / "pkg/big.py", big);
  const std::string seg = t.root.string();
  RawClient c(d.socket());
  std::int64_t id = 0;
  auto call = [&](std::string_view method, json::object params) {
    params["segment"] = seg;
    REQUIRE(c.send(req(++id, method, std::move(params))));
    for (;;) {  // skip progress notifications
      auto o = parse_obj(c.line(60s));
      if (o.contains("id")) return o;
    }
  };
  // Each family's reply is over the cap; the message and data.hint name the smaller request.
  auto too_large = [&](std::string_view method, json::object params, std::string_view names) {
    auto r = call(method, std::move(params));
    INFO(method << ": " << json::serialize(r));
    REQUIRE(error_name(r) == "TOO_LARGE");
    CHECK(error_message(r).find("--max-reply-bytes") != std::string::npos);
    CHECK(error_message(r).find(names) != std::string::npos);
    CHECK(std::string(r.at("error").at("data").at("hint").as_string()).find(names) !=
          std::string::npos);
  };
  too_large("ast.skeleton", {{"path", "pkg/big.py"}}, "format");
  too_large("ast.symbols", {{"path", "pkg/big.py"}}, "sym.search");
  too_large("ctx.search", {{"query", "function_number"}, {"limit", 200}}, "params.limit");
  json::array ids;
  for (int i = 0; i < 100; ++i) ids.emplace_back("pkg/big.py#function_number_" + std::to_string(i));
  too_large("ctx.get", {{"ids", ids}, {"mode", "raw"}, {"budget", 100000}, {"max_chunks", 100}},
            "params.budget");
  // mode and kinds are sent as the CLI sends them: the sym.search telemetry event's schema wants
  // them in args, and the handler records params as given.
  too_large(
      "sym.search",
      {{"query", "function_number"}, {"mode", "fuzzy"}, {"kinds", json::array{}}, {"limit", 300}},
      "params.limit");
  too_large("lsp.references", {{"path", "pkg/big.py"}, {"line", 1}, {"column", 5}},
            "confirmed_only");
  // Following the advice is served.
  CHECK(call("ctx.search", {{"query", "function_number"}, {"limit", 2}}).contains("result"));
  CHECK(
      call(
          "sym.search",
          {{"query", "function_number"}, {"mode", "fuzzy"}, {"kinds", json::array{}}, {"limit", 2}})
          .contains("result"));
  auto part = call("ctx.get", {{"ids", ids}, {"mode", "raw"}, {"budget", 200}, {"max_chunks", 5}});
  INFO(json::serialize(part));
  REQUIRE(part.contains("result"));
  CHECK(part.at("result").as_object().contains("next"));  // the cursor continues it
}
