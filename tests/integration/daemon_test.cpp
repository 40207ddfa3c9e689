// Integration spec of trifectad + trifecta: a real daemon on a temp socket per test, driven by the
// real CLI and by raw socket writes.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <boost/json.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "../support/process.hpp"
#include "telemetry/reader.hpp"
#include "util/hash.hpp"

using namespace trifecta::test;
namespace json = boost::json;

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
  REQUIRE(reply.contains("error"));
  return std::string(reply.at("error").at("data").at("name").as_string());
}

// A well-behaved client that must keep getting correct answers while others misbehave.
bool healthy(const fs::path& socket) {
  RawClient c(socket);
  if (!c.connected() || !c.send(req(7, "ping"))) return false;
  auto l = c.line(5s);
  if (!l) return false;
  auto o = json::parse(*l).as_object();
  return o.at("id").as_int64() == 7 && o.at("result").at("pong").as_bool();
}

using trifecta::test::read_text;

int count_daemons_on(const fs::path& socket) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = read_text(e.path() / "cmdline");
    std::string stat = read_text(e.path() / "stat");
    const auto rp = stat.rfind(')');
    if (rp != std::string::npos && rp + 2 < stat.size() && stat[rp + 2] == 'Z') continue;
    if (cmd.find("trifectad") != std::string::npos && cmd.find(socket.string()) != std::string::npos) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("hello, ping, status and shutdown answer over the socket", "[daemon]") {
  DaemonProcess d;
  RawClient c(d.socket());
  REQUIRE(c.connected());
  c.send(req(1, "hello", {{"protocol", "1.0"}, {"client_name", "test"}}));
  auto hello = parse_obj(c.line());
  CHECK(hello.at("id").as_int64() == 1);
  CHECK(hello.at("result").at("protocol").as_string() == "1.8");
  CHECK(hello.at("result").at("pid").as_int64() == d.pid());
  const auto& caps = hello.at("result").at("capabilities").as_array();
  CHECK(std::find(caps.begin(), caps.end(), json::value("status")) != caps.end());

  c.send(req(2, "status"));
  auto st = parse_obj(c.line()).at("result").as_object();
  CHECK(st.at("pid").as_int64() == d.pid());
  CHECK(st.at("connections").as_int64() == 1);
  CHECK(st.at("rss_bytes").as_int64() > 0);
  CHECK(st.at("socket").as_string() == d.socket().string());

  c.send(req(3, "shutdown"));
  CHECK(parse_obj(c.line()).at("result").at("stopping").as_bool());
  CHECK(d.wait(10s) == 0);
  CHECK_FALSE(fs::exists(d.socket()));
}

TEST_CASE("a different protocol major is refused with a restart hint", "[daemon][version]") {
  DaemonProcess d;
  RawClient c(d.socket());
  c.send(req(1, "hello", {{"protocol", "2.0"}}));
  auto r = parse_obj(c.line());
  CHECK(error_name(r) == "VERSION_MISMATCH");
  CHECK_THAT(std::string(r.at("error").at("message").as_string()), Catch::Contains("trifecta daemon restart"));
  c.send(req(2, "hello", {{"protocol", "1.9"}}));  // a newer minor is fine
  CHECK(parse_obj(c.line()).contains("result"));
  c.send(req(3, "hello", {{"protocol", "one"}}));
  CHECK(error_name(parse_obj(c.line())) == "INVALID_PARAMS");
}

TEST_CASE("bad input gets the right typed error and others are unaffected", "[daemon][bad-input]") {
  DaemonProcess d;
  struct Row {
    std::string name, line, error;
  };
  const std::vector<Row> rows = {
      {"malformed JSON", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":", "PARSE_ERROR"},
      {"not an object", "[1,2,3]", "INVALID_REQUEST"},
      {"a bare string", "\"ping\"", "INVALID_REQUEST"},
      {"missing jsonrpc", R"({"id":1,"method":"ping"})", "INVALID_REQUEST"},
      {"wrong jsonrpc", R"({"jsonrpc":"1.0","id":1,"method":"ping"})", "INVALID_REQUEST"},
      {"missing method", R"({"jsonrpc":"2.0","id":1})", "INVALID_REQUEST"},
      {"method not a string", R"({"jsonrpc":"2.0","id":1,"method":5})", "INVALID_REQUEST"},
      {"bad id type", R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})", "INVALID_REQUEST"},
      {"unknown method", R"({"jsonrpc":"2.0","id":1,"method":"no.such"})", "METHOD_NOT_FOUND"},
      {"params not an object", R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})", "INVALID_PARAMS"},
      {"wrong param type", R"({"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":1}})", "INVALID_PARAMS"},
      {"missing param", R"({"jsonrpc":"2.0","id":1,"method":"hello","params":{}})", "INVALID_PARAMS"},
      {"segment not a string", R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"segment":3}})", "INVALID_PARAMS"},
      {"segment missing", R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"segment":"/no/such/dir"}})", "INVALID_PARAMS"},
      {"segment relative", R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"segment":"rel/dir"}})", "INVALID_PARAMS"},
      {"binary garbage", std::string("\x00\xff\xfe\x01garbage\x80", 12), "PARSE_ERROR"},
  };
  RawClient bad(d.socket());
  for (const Row& row : rows) {
    INFO(row.name);
    REQUIRE(bad.send(row.line + "\n"));
    auto reply = parse_obj(bad.line());
    CHECK(error_name(reply) == row.error);
    CHECK_FALSE(std::string(reply.at("error").at("message").as_string()).empty());
    CHECK(healthy(d.socket()));
  }
  // The wrong-type error names the field.
  bad.send(R"({"jsonrpc":"2.0","id":9,"method":"hello","params":{"protocol":1}})" "\n");
  CHECK_THAT(std::string(parse_obj(bad.line()).at("error").at("message").as_string()), Catch::Contains("params.protocol"));
  // A notification (no id) gets no reply; the next request still does.
  bad.send(R"({"jsonrpc":"2.0","method":"ping"})" "\n");
  bad.send(req(10, "ping"));
  CHECK(parse_obj(bad.line()).at("id").as_int64() == 10);
  // String ids are echoed.
  bad.send(R"({"jsonrpc":"2.0","id":"abc","method":"ping"})" "\n");
  CHECK(parse_obj(bad.line()).at("id").as_string() == "abc");
  // Blank lines are ignored.
  bad.send("\n\r\n  \n");
  bad.send(req(11, "ping"));
  CHECK(parse_obj(bad.line()).at("id").as_int64() == 11);
}

TEST_CASE("an oversized line is refused and the connection closed", "[daemon][limits]") {
  DaemonProcess d({"--max-line-bytes", "4096"});
  RawClient c(d.socket());
  c.send(std::string(5000, 'x'));
  auto r = parse_obj(c.line());
  CHECK(error_name(r) == "REQUEST_TOO_LARGE");
  CHECK(c.closed_by_peer());
  CHECK(healthy(d.socket()));
  // Just under the limit is served.
  RawClient ok(d.socket());
  json::object params{{"pad", std::string(3900, 'p')}};
  ok.send(req(1, "ping", params));
  CHECK(parse_obj(ok.line()).contains("result"));
}

TEST_CASE("the default 16 MiB line limit holds", "[daemon][limits]") {
  DaemonProcess d;
  RawClient c(d.socket());
  std::string big = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":")" + std::string((16u << 20) + 16, 'a') + "\"}}\n";
  c.send(big);
  CHECK(error_name(parse_obj(c.line(30s))) == "REQUEST_TOO_LARGE");
  CHECK(healthy(d.socket()));
}

TEST_CASE("half a line then disconnect, and silent connections, are cleaned up", "[daemon][bad-input]") {
  DaemonProcess d({"--conn-idle-timeout", "1"});
  {
    RawClient half(d.socket());
    half.send(R"({"jsonrpc":"2.0","id":1,"meth)");
  }  // disconnect mid-request
  RawClient silent(d.socket());
  REQUIRE(silent.connected());
  CHECK(healthy(d.socket()));
  // The silent connection is closed by the daemon after the idle timeout.
  CHECK(silent.closed_by_peer(5s));
  RawClient probe(d.socket());
  probe.send(req(1, "status"));
  CHECK(parse_obj(probe.line()).at("result").at("connections").as_int64() == 1);
}

TEST_CASE("32 concurrent clients x 500 requests: every reply correct and matched by id", "[daemon][concurrency]") {
  DaemonProcess d({"--log-level", "off"});
  constexpr int kClients = 32, kRequests = 500, kWindow = 16;
  std::atomic<int> good{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      RawClient c(d.socket());
      if (!c.connected()) { bad += kRequests; return; }
      std::set<std::int64_t> outstanding;
      int sent = 0, received = 0;
      while (received < kRequests) {
        while (sent < kRequests && static_cast<int>(outstanding.size()) < kWindow) {
          const std::int64_t id = t * 100000 + sent;
          c.send(req(id, sent % 7 == 0 ? "status" : "ping"));
          outstanding.insert(id);
          ++sent;
        }
        auto l = c.line(20s);
        if (!l) { bad += kRequests - received; return; }
        auto o = json::parse(*l).as_object();
        const auto id = o.at("id").as_int64();
        const bool matched = outstanding.erase(id) == 1;
        const bool is_status = (id % 100000) % 7 == 0;
        const bool correct = o.contains("result") &&
                             (is_status ? o.at("result").as_object().contains("uptime_s")
                                        : o.at("result").at("pong").as_bool());
        (matched && correct ? good : bad)++;
        ++received;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(bad == 0);
  CHECK(good == kClients * kRequests);
  CHECK(healthy(d.socket()));
}

// Replies several times the socket's buffer, pipelined with pings to a client that reads only
// later, must each arrive whole, as one line (the session's write queue: writes are sequential
// per connection, and a client that does not read is not read from until its replies drain).
TEST_CASE("replies larger than the socket buffer, to a client that reads late, arrive whole between pings",
          "[daemon][write]") {
  DaemonProcess d({"--no-lsp", "--log-level", "off"});
  TempDir t;
  const fs::path root = fs::canonical(t.path());
  std::string body;
  for (int j = 0; j < 2500; ++j)
    body += "def f" + std::to_string(j) + "():\n    return '" + std::string(30, 'x') + "'\n";
  json::array files;
  for (int i = 0; i < 6; ++i) {
    write_text(root / "pkg" / ("big" + std::to_string(i) + ".py"), body);
    files.emplace_back("pkg/big" + std::to_string(i) + ".py");
  }
  const std::string seg = root.string();
  RawClient c(d.socket());
  REQUIRE(c.send(req(1, "ctx.build", {{"segment", seg}})));
  while (!parse_obj(c.line(60s)).contains("id")) {  // progress notifications first
  }
  for (int k = 0; k < 3; ++k) {
    REQUIRE(c.send(req(10 + k, "ctx.get",
                       {{"segment", seg}, {"ids", files}, {"mode", "raw"}, {"budget", 1000000}, {"max_chunks", 1000}})));
    REQUIRE(c.send(req(20 + k, "ping")));
  }
  std::this_thread::sleep_for(300ms);  // the socket fills: the replies are written in parts
  std::set<std::int64_t> ids;
  for (int n = 0; n < 6; ++n) {
    auto o = parse_obj(c.line(60s));
    const std::int64_t id = o.at("id").as_int64();
    ids.insert(id);
    if (id >= 20) {
      CHECK(o.at("result").at("pong").as_bool());
      continue;
    }
    std::size_t text = 0;
    for (const auto& ch : o.at("result").at("chunks").as_array()) text += ch.at("text").as_string().size();
    CHECK(text == 6 * body.size());  // every file whole: 6 × 102 KB in one line
  }
  CHECK(ids == std::set<std::int64_t>{10, 11, 12, 20, 21, 22});
  CHECK(healthy(d.socket()));
}

TEST_CASE("a second daemon on the same socket refuses, after kill -9 a new one recovers", "[daemon][lifecycle]") {
  DaemonProcess d;
  auto second = run(d.argv(), d.env(), 10s);
  CHECK(second.exit_code == 3);
  CHECK_THAT(second.err, Catch::Contains("already running"));
  CHECK(healthy(d.socket()));

  d.kill9();
  CHECK(fs::exists(d.socket()));  // stale socket left behind
  CHECK_FALSE(healthy(d.socket()));
  d.start();
  CHECK(healthy(d.socket()));
}

TEST_CASE("the socket file appears only once connects succeed, and a staging socket left behind is cleared",
          "[daemon][lifecycle]") {
  DaemonProcess d({}, /*start_now=*/false);
  const fs::path staging = d.socket().string() + ".tmp";
  fs::create_directories(d.socket().parent_path());
  fs::permissions(d.socket().parent_path(), fs::perms::owner_all);
  {  // what a daemon killed between bind and rename leaves: a socket file nobody listens on
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, staging.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    ::close(fd);
  }
  REQUIRE(fs::exists(staging));
  // Start the daemon several times and connect the moment the file shows up (what an editor that
  // waits for the socket file does): never refused. Before the staging rename this lost the race
  // to the bind → listen window now and then.
  for (int round = 0; round < 8; ++round) {
    const pid_t pid = spawn(d.argv(), make_env(d.env()));
    const auto deadline = Clock::now() + 10s;
    struct stat st {};
    while (::lstat(d.socket().c_str(), &st) != 0 && Clock::now() < deadline) {
    }
    REQUIRE(::lstat(d.socket().c_str(), &st) == 0);
    CHECK(RawClient(d.socket()).connected());
    CHECK_FALSE(fs::exists(staging));
    CHECK(healthy(d.socket()));
    ::kill(pid, SIGTERM);
    CHECK(wait_exit(pid, 15s) == 0);
    CHECK_FALSE(fs::exists(d.socket()));
  }
}

TEST_CASE("socket dir is 0700 and owned by us, the socket is 0600", "[daemon][security]") {
  DaemonProcess d;
  struct stat st {};
  REQUIRE(::stat(d.socket().parent_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(st.st_uid == ::geteuid());
  REQUIRE(::stat(d.socket().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("a socket path that is too long is a clear start-up error", "[daemon][security]") {
  TempDir tmp;
  const std::string long_path = (tmp.path() / std::string(120, 'x') / "d.sock").string();
  auto r = run({TRIFECTAD_BIN, "--foreground", "--socket", long_path}, {}, 10s);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("socket path is"));
}

TEST_CASE("a socket directory owned by another user is refused", "[daemon][security]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to create a directory owned by another uid");
    return;
  }
  TempDir tmp;
  const fs::path dir = tmp.path() / "theirs";
  fs::create_directory(dir);
  REQUIRE(::chown(dir.c_str(), 65534, 65534) == 0);
  ::chmod(dir.c_str(), 0700);
  auto r = run({TRIFECTAD_BIN, "--foreground", "--socket", (dir / "d.sock").string()}, {}, 10s);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("owned by uid 65534"));
}

TEST_CASE("a shared socket directory is refused and keeps its mode but one of its own is tightened",
          "[daemon][security]") {
  TempDir tmp;
  const auto mode_of = [](const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  const std::map<std::string, std::string> env{{"XDG_STATE_HOME", (tmp.path() / "state").string()}};
  // A directory holding other files (a home directory), and a sticky one (/tmp): `--socket` there
  // once chmod-ed them 0700 (as root, /tmp itself), cutting every other user off.
  const fs::path shared = tmp.path() / "shared";
  fs::create_directory(shared);
  ::chmod(shared.c_str(), 0755);
  write_text(shared / "notes.txt", "mine\n");
  const fs::path sticky = tmp.path() / "sticky";
  fs::create_directory(sticky);
  ::chmod(sticky.c_str(), 01777);
  for (const auto& [dir, mode] : {std::pair{shared, 0755u}, std::pair{sticky, 01777u}}) {
    INFO(dir);
    auto r = run({TRIFECTAD_BIN, "--foreground", "--no-lsp", "--socket", (dir / "d.sock").string()}, env, 10s);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("directory of its own"));
    CHECK(mode_of(dir) == mode);
    CHECK_FALSE(fs::exists(dir / "trifectad.lock"));
    CHECK_FALSE(fs::exists(dir / "d.sock"));
  }
  // A directory of its own, made by hand too open (empty, or holding a daemon's files only: here
  // the pid file's staging name, left by a daemon killed mid-write): tightened, and served (the
  // daemon exits after a second without clients).
  const fs::path own = tmp.path() / "own";
  fs::create_directory(own);
  ::chmod(own.c_str(), 0755);
  write_text(own / "trifectad.pid.tmp", "1\n");
  auto r = run({TRIFECTAD_BIN, "--foreground", "--no-lsp", "--idle-timeout", "1", "--socket", (own / "d.sock").string()},
               env, 20s);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(mode_of(own) == 0700);
}

TEST_CASE("another uid is refused by the peer-credential check", "[daemon][security]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to run a client as another user");
    return;
  }
  if (::access("/usr/bin/setpriv", X_OK) != 0) {
    WARN("skipped: setpriv (util-linux) is not installed");
    return;
  }
  DaemonProcess d;
  // Open the directory and socket on purpose so only SO_PEERCRED stands in the way.
  ::chmod(d.socket().parent_path().c_str(), 0777);
  ::chmod(d.socket().c_str(), 0777);
  ::chmod(d.dir().c_str(), 0777);
  auto r = run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TRIFECTA_BIN, "--json",
                "--no-spawn", "--socket", d.socket().string(), "ping"},
               {}, 10s);
  CHECK(r.exit_code != 0);
  CHECK_THAT(r.out + r.err, Catch::Contains("PERMISSION_DENIED"));
  CHECK(healthy(d.socket()));
  // Daemon-level telemetry records the refusal (no paths).
  d.stop();
  auto ev = trifecta::core::telemetry::read_events(d.state_dir() / "telemetry" / "events.jsonl");
  REQUIRE(ev.ok());
  bool refused = false;
  for (const auto& e : ev->events) refused |= e.at("cmd").as_string() == "daemon.refused";
  CHECK(refused);
}

TEST_CASE("auto-start race: 8 clients at once with no daemon end with one daemon and 8 answers", "[daemon][autostart]") {
  DaemonProcess d({}, /*start_now=*/false);
  std::vector<RunResult> results(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { results[i] = d.cli({"--json", "ping"}); });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> pids;
  for (const auto& r : results) {
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    pids.insert(json::parse(r.out).at("result").at("pid").as_int64());
  }
  CHECK(pids.size() == 1);
  CHECK(count_daemons_on(d.socket()) == 1);
  CHECK(d.cli({"daemon", "stop"}).exit_code == 0);
  CHECK(count_daemons_on(d.socket()) == 0);
}

TEST_CASE("the CLI's exit codes and outputs", "[cli]") {
  DaemonProcess d({}, /*start_now=*/false);
  auto unavailable = d.cli({"--no-spawn", "ping"});
  CHECK(unavailable.exit_code == 3);
  CHECK_THAT(unavailable.err, Catch::Contains("hint:"));
  CHECK(d.cli({"daemon", "status"}).exit_code == 3);  // never starts it
  CHECK(d.cli({"no-such-command"}).exit_code == 2);
  CHECK(d.cli({}).exit_code == 2);
  CHECK(d.cli({"--version"}).exit_code == 0);

  auto start = d.cli({"daemon", "start"});
  CHECK(start.exit_code == 0);
  CHECK_THAT(start.out, Catch::Contains("started"));
  CHECK_THAT(d.cli({"daemon", "start"}).out, Catch::Contains("already running"));
  auto ping = d.cli({"ping"});
  CHECK(ping.exit_code == 0);
  CHECK_THAT(ping.out, Catch::StartsWith("pong from trifectad pid"));
  auto status = d.cli({"status"});
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.out, Catch::Contains("segments"));
  auto js = d.cli({"--json", "status"});
  CHECK(json::parse(js.out).at("result").at("protocol").as_string() == "1.8");
  auto restart = d.cli({"daemon", "restart"});
  CHECK(restart.exit_code == 0);
  CHECK_THAT(restart.out, Catch::Contains("stopped"));
  CHECK_THAT(restart.out, Catch::Contains("started"));
  auto stop = d.cli({"daemon", "stop"});
  CHECK(stop.exit_code == 0);
  CHECK(d.cli({"daemon", "stop"}).exit_code == 0);  // idempotent
  CHECK(d.cli({"--no-spawn", "ping"}).exit_code == 3);
}

TEST_CASE("socket activation through systemd-socket-activate", "[daemon][systemd]") {
  const char* tool = "/usr/bin/systemd-socket-activate";
  if (::access(tool, X_OK) != 0) {
    WARN("skipped: systemd-socket-activate is not installed (package systemd)");
    return;
  }
  TempDir tmp;
  const fs::path dir = tmp.path() / "run";
  fs::create_directory(dir);
  ::chmod(dir.c_str(), 0700);
  const fs::path sock = dir / "d.sock";
  std::map<std::string, std::string> env{{"XDG_STATE_HOME", (tmp.path() / "state").string()},
                                         {"TRIFECTA_TELEMETRY_DIR", (tmp.path() / "tel").string()}};
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t pid = spawn({tool, "-l", sock.string(), TRIFECTAD_BIN, "--foreground", "--socket", sock.string(),
                           "--log-level", "warn"},
                          make_env(env), devnull, devnull);
  ::close(devnull);
  REQUIRE(wait_for_socket(sock, 10s));
  // The first connection makes systemd-socket-activate exec trifectad with the listening fd.
  RawClient c(sock);
  c.send(req(1, "status"));
  auto st = parse_obj(c.line(10s)).at("result").as_object();
  CHECK(st.at("socket_activated").as_bool());
  CHECK(st.at("pid").as_int64() == pid);  // exec'd in place
  c.send(req(2, "shutdown"));
  CHECK(parse_obj(c.line()).contains("result"));
  CHECK(wait_exit(pid, 10s) == 0);
  CHECK(fs::exists(sock));  // the socket belongs to systemd: not removed
}

TEST_CASE("graceful SIGTERM with requests in flight: all answered, telemetry flushed", "[daemon][lifecycle]") {
  DaemonProcess d;
  TempDir seg;
  const std::string root = fs::canonical(seg.path()).string();
  RawClient c(d.socket());
  constexpr int kN = 20;
  for (int i = 0; i < kN; ++i) c.send(req(i, "debug.sleep", {{"ms", 400}, {"segment", root}}));
  c.send(req(100, "ping", {{"segment", root}}));
  CHECK(parse_obj(c.line()).at("id").as_int64() == 100);  // all 21 are in flight or done
  const pid_t pid = d.pid();
  ::kill(pid, SIGTERM);
  std::set<std::int64_t> ids;
  for (int i = 0; i < kN; ++i) {
    auto r = parse_obj(c.line(10s));
    CHECK(r.at("result").at("slept_ms").as_int64() == 400);
    ids.insert(r.at("id").as_int64());
  }
  CHECK(ids.size() == kN);
  CHECK(d.wait(10s) == 0);
  // Every request that named the segment left one event; last_run.json was written at stop.
  const fs::path tdir = d.telemetry_dir() / trifecta::core::segment_id_of(root);
  auto ev = trifecta::core::telemetry::read_events(tdir / "events.jsonl");
  REQUIRE(ev.ok());
  CHECK_FALSE(ev->torn_tail);
  std::vector<json::object> requests;  // opening the segment also logs its index build
  for (const auto& e : ev->events) {
    if (e.at("cmd").as_string() == "debug.sleep" || e.at("cmd").as_string() == "ping") requests.push_back(e);
  }
  CHECK(requests.size() == kN + 1);
  for (const auto& e : requests) {
    CHECK(e.at("x").as_object().at("bytes_in").as_int64() > 0);
    CHECK(e.at("x").as_object().at("bytes_out").as_int64() > 0);
  }
  const auto last_run = json::parse(read_text(tdir / "last_run.json")).as_object();
  CHECK(last_run.at("latencies").at("debug.sleep").at("count").as_int64() == kN);
  // Telemetry never carries the absolute segment path.
  CHECK(read_text(tdir / "events.jsonl").find(root) == std::string::npos);
  // Daemon-level events went to the state dir.
  auto dev = trifecta::core::telemetry::read_events(d.state_dir() / "telemetry" / "events.jsonl");
  REQUIRE(dev.ok());
  REQUIRE(dev->events.size() >= 2);
  CHECK(dev->events.front().at("cmd").as_string() == "daemon.start");
  CHECK(dev->events.back().at("cmd").as_string() == "daemon.stop");
  CHECK(dev->events.back().at("result").at("reason").as_string() == "SIGTERM");
}

TEST_CASE("limits: in-flight per connection and max connections give clear errors", "[daemon][limits]") {
  DaemonProcess d({"--max-inflight", "2", "--max-connections", "2"});
  RawClient c(d.socket());
  c.send(req(1, "debug.sleep", {{"ms", 3000}}));
  c.send(req(2, "debug.sleep", {{"ms", 3000}}));
  c.send(req(3, "ping"));
  auto busy = parse_obj(c.line());
  CHECK(busy.at("id").as_int64() == 3);
  CHECK(error_name(busy) == "SERVER_BUSY");

  // Both connections have work in flight, so none can be closed to make room (an idle one would
  // be: bounds_test "a full connection table closes the connection idle the longest…").
  RawClient second(d.socket());
  REQUIRE(second.connected());
  second.send(req(1, "debug.sleep", {{"ms", 3000}}));
  second.send(req(2, "debug.sleep", {{"ms", 3000}}));
  second.send(req(3, "ping"));  // its SERVER_BUSY shows both sleeps are in flight
  CHECK(error_name(parse_obj(second.line())) == "SERVER_BUSY");
  RawClient third(d.socket());
  auto refused = parse_obj(third.line());
  CHECK(error_name(refused) == "SERVER_BUSY");
  CHECK(third.closed_by_peer());
  CHECK(parse_obj(c.line()).contains("result"));
  CHECK(parse_obj(c.line()).contains("result"));
  CHECK(parse_obj(second.line()).contains("result"));
  CHECK(parse_obj(second.line()).contains("result"));
}

TEST_CASE("idle exit after the configured time without clients", "[daemon][lifecycle]") {
  DaemonProcess d({"--idle-timeout", "1"});
  CHECK(healthy(d.socket()));
  CHECK(d.wait(8s) == 0);
  CHECK_FALSE(fs::exists(d.socket()));
}

TEST_CASE("a slow segment open does not stall requests on another segment, segment.close forgets it",
          "[daemon][segments]") {
  // Every segment open sleeps 3 s in the open hook (outside the registry lock).
  DaemonProcess d({"--debug-open-delay-ms", "3000", "--no-lsp", "--workers", "3"});
  TempDir trees;
  const fs::path a = fs::canonical(trees.path()), b = a / "b";
  write_text(a / "a" / "x.py", "def ax():\n    pass\n");
  write_text(b / "y.py", "def by():\n    pass\n");
  const std::string sa = (a / "a").string(), sb = b.string();

  RawClient ca(d.socket()), cb(d.socket());
  REQUIRE(ca.connected());
  REQUIRE(cb.connected());
  ca.send(req(1, "ctx.status", {{"segment", sa}}));  // opens A (slow, nothing else open)
  REQUIRE(parse_obj(ca.line(15s)).contains("result"));

  cb.send(req(2, "ctx.status", {{"segment", sb}}));  // B starts opening: 3 s in its hook
  std::this_thread::sleep_for(200ms);
  const auto t0 = std::chrono::steady_clock::now();
  ca.send(req(3, "ctx.status", {{"segment", sa}}));
  auto ra = parse_obj(ca.line(15s));
  const auto a_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  CHECK(ra.contains("result"));
  CHECK(a_ms < 2000ms);  // answered while B was still opening
  auto rb = parse_obj(cb.line(15s));
  CHECK(rb.contains("result"));
  CHECK(std::chrono::steady_clock::now() - t0 >= 2000ms);  // B really was slow

  ca.send(req(4, "status"));
  auto st = parse_obj(ca.line(10s)).at("result").as_object();
  const auto& segs = st.at("segments").as_array();
  REQUIRE(segs.size() == 2);
  for (const auto& s : segs) CHECK(s.at("memory_bytes").as_int64() > 0);

  ca.send(req(5, "segment.close", {{"segment", sb}}));
  auto closed = parse_obj(ca.line(10s)).at("result").as_object();
  CHECK(closed.at("closed").as_bool());
  CHECK(closed.at("segment_id").as_string() == trifecta::core::segment_id_of(sb));
  ca.send(req(6, "segment.close", {{"segment", sb}}));  // not open (and not reopened by the call)
  CHECK_FALSE(parse_obj(ca.line(10s)).at("result").at("closed").as_bool());
  ca.send(req(7, "status"));
  CHECK(parse_obj(ca.line(10s)).at("result").at("segments").as_array().size() == 1);
}
