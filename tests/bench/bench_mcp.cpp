// Benchmark: what the MCP frontend (`trifecta mcp`) costs, in time and in memory.
//
//   bench_mcp latency <segment-dir> <rounds> <requests>
//   bench_mcp memory  <segment-dir> <rounds> <sessions,...>
//
// latency — one private `trifectad --no-lsp` (definition then comes from the AST fallback, which
// is deterministic) on <segment-dir>, index built first. The same question asked three ways,
// interleaved request by request (socket, MCP, socket, MCP, ..., and every 10th turn the CLI), so
// machine noise falls on all three alike (and ctx.status alone on the socket, which the MCP tools
// ask besides their method for the index generation):
//   socket  one persistent connection, the daemon's own method (ctx.search, lsp.definition,
//           ast.skeleton) — the floor;
//   mcp     one persistent `trifecta mcp -s <segment-dir>` session over pipes, `tools/call` of
//           search / definition / outline — the agent's path;
//   cli     `trifecta --json ctx search|def|ast skeleton` as a whole process — today's path.
// Latency is write → reply line on the client side. Prints per path and tool: median, p90,
// samples, each round's median, and the MCP − socket difference of the medians.
//
// memory — per round, a fresh `trifectad` (Pyright on) on <segment-dir>; then MCP sessions are
// added one by one up to the largest of <sessions,...>; each new session asks definition (waiting
// for Pyright READY), hover, search and outline, so every process has done its work. At each
// listed count, VmRSS from /proc: the servers, the daemon, and the daemon's descendants (Pyright).
// Prints per count: medians over rounds of each part and of the total, the growth per extra
// session over N = 1, and the one-server-per-session design computed from the same round's
// figures: N × (daemon with its index + Pyright) + N × one server.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "../support/process.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// One JSON-RPC connection to the daemon (as bench_rpc's).
class Conn {
 public:
  explicit Conn(const fs::path& sock) : c_(sock) {
    if (!c_.connected()) throw std::runtime_error("cannot connect to " + sock.string());
  }
  json::value call(std::string_view method, json::object params) {
    const std::string line =
        json::serialize(json::object{
            {"jsonrpc", "2.0"}, {"id", ++id_}, {"method", method}, {"params", params}}) +
        "\n";
    if (!c_.send(line)) throw std::runtime_error("send failed");
    for (;;) {
      auto l = c_.line(600s);
      if (!l) throw std::runtime_error("no reply to " + std::string(method));
      json::value v = json::parse(*l);
      if (!v.as_object().contains("id")) continue;  // progress notification
      if (const auto* e = v.as_object().if_contains("error")) {
        throw std::runtime_error(std::string(method) + ": " + json::serialize(*e));
      }
      return v.at("result");
    }
  }

 private:
  RawClient c_;
  std::int64_t id_ = 0;
};

// One `trifecta mcp` server over pipes: newline-delimited JSON-RPC, as an MCP client speaks it.
class McpSession {
 public:
  McpSession(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe");
    std::vector<char*> a, e;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
    e.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawnp(&pid_, a[0], &fa, nullptr, a.data(), e.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) throw std::runtime_error("spawn " + argv[0] + ": " + std::strerror(rc));
    to_ = in[1];
    from_ = out[0];
    const json::value init =
        call("initialize", {{"protocolVersion", "2025-11-25"},
                            {"capabilities", json::object{}},
                            {"clientInfo", {{"name", "bench_mcp"}, {"version", "1"}}}});
    if (!init.as_object().contains("protocolVersion"))
      throw std::runtime_error("bad initialize result");
    notify("notifications/initialized");
  }
  ~McpSession() {
    if (to_ >= 0) ::close(to_);  // stdin closed: the server exits
    if (pid_ > 0 && !wait_exit(pid_, 5s)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (from_ >= 0) ::close(from_);
  }
  McpSession(const McpSession&) = delete;
  McpSession& operator=(const McpSession&) = delete;

  pid_t pid() const { return pid_; }

  json::value call(std::string_view method, json::object params) {
    const std::int64_t id = ++id_;
    write_line(json::serialize(
        json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}));
    for (;;) {
      json::value v = json::parse(read_line());
      const auto& o = v.as_object();
      if (!o.contains("id") || o.contains("method")) continue;  // notifications, server requests
      if (o.at("id") != json::value(id)) continue;
      if (const auto* e = o.if_contains("error"))
        throw std::runtime_error(std::string(method) + ": " + json::serialize(*e));
      return o.at("result");
    }
  }
  // tools/call; throws when the tool reports isError.
  json::value tool(std::string_view name, json::object arguments) {
    json::value r = call("tools/call", {{"name", name}, {"arguments", std::move(arguments)}});
    if (const auto* e = r.as_object().if_contains("isError"); e && e->is_bool() && e->as_bool()) {
      throw std::runtime_error("tool " + std::string(name) + ": " + json::serialize(r));
    }
    return r;
  }

 private:
  void notify(std::string_view method) {
    write_line(json::serialize(json::object{{"jsonrpc", "2.0"}, {"method", method}}));
  }
  void write_line(std::string s) {
    s += '\n';
    std::string_view rest = s;
    while (!rest.empty()) {
      const ssize_t n = ::write(to_, rest.data(), rest.size());
      if (n <= 0) throw std::runtime_error("trifecta mcp: stdin closed");
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  std::string read_line() {
    const auto deadline = Clock::now() + 300s;
    for (;;) {
      if (const auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) throw std::runtime_error("trifecta mcp: no reply");
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char b[65536];
      const ssize_t n = ::read(from_, b, sizeof b);
      if (n <= 0) throw std::runtime_error("trifecta mcp: stdout closed");
      buf_.append(b, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::int64_t id_ = 0;
  std::string buf_;
};

// A private trifectad in the foreground; SIGTERM at scope exit.
class Daemon {
 public:
  Daemon(const TempDir& tmp, bool lsp) {
    socket_ = tmp.path() / "run" / "d.sock";
    env_ = {{"XDG_STATE_HOME", (tmp.path() / "state").string()},
            {"XDG_RUNTIME_DIR", (tmp.path() / "xdg").string()},
            {"TRIFECTA_SOCKET", socket_.string()},
            {"TRIFECTA_TELEMETRY_DIR", (tmp.path() / "tel").string()},
            {"TRIFECTA_DAEMON", TRIFECTAD_BIN}};
    std::vector<std::string> argv{TRIFECTAD_BIN,    "--foreground", "--socket",
                                  socket_.string(), "--log-level",  "warn"};
    if (!lsp) argv.emplace_back("--no-lsp");
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_ = spawn(argv, make_env(env_), devnull, devnull);
    ::close(devnull);
    if (!wait_for_socket(socket_, 10s)) throw std::runtime_error("trifectad did not come up");
  }
  ~Daemon() {
    ::kill(pid_, SIGTERM);
    if (!wait_exit(pid_, 20s)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  pid_t pid() const { return pid_; }
  const fs::path& socket() const { return socket_; }
  std::vector<std::string> env() const { return make_env(env_); }
  const std::map<std::string, std::string>& env_overrides() const { return env_; }

 private:
  fs::path socket_;
  std::map<std::string, std::string> env_;
  pid_t pid_ = -1;
};

// ---- /proc ----

std::int64_t rss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return 0;
}

std::vector<pid_t> descendants(pid_t root) {
  std::multimap<pid_t, pid_t> kids;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(e.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    kids.emplace(ppid, static_cast<pid_t>(std::stol(name)));
  }
  std::vector<pid_t> out, stack{root};
  while (!stack.empty()) {
    const pid_t p = stack.back();
    stack.pop_back();
    for (auto [it, end] = kids.equal_range(p); it != end; ++it) {
      out.push_back(it->second);
      stack.push_back(it->second);
    }
  }
  return out;
}

// ---- latency ----

int latency(const std::string& seg, int rounds, int requests) {
  const std::vector<std::string> queries = {
      "json decode error", "tempfile",        "http cookie parser", "thread pool executor",
      "utf8 codec",        "subprocess pipe", "shutil copytree",    "asyncio event loop"};
  // path → tool → samples; and per-round medians
  std::map<std::string, std::map<std::string, std::vector<double>>> all, round_medians;
  for (int r = 0; r < rounds; ++r) {
    TempDir tmp;
    Daemon d(tmp, /*lsp=*/false);
    Conn sock(d.socket());
    sock.call("hello", {{"protocol", "1.1"}, {"client_name", "bench_mcp"}});
    sock.call("ctx.build", {{"segment", seg}});
    McpSession mcp({TRIFECTA_BIN, "mcp", "-s", seg}, d.env());
    const auto cli_env = d.env_overrides();

    struct Tool {
      std::string name;
      std::function<json::object(int)> mcp_args;
      std::string method;
      std::function<json::object(int)> wire_params;
      std::function<std::vector<std::string>(int)> cli_argv;
    };
    const std::vector<Tool> tools = {
        {"search",
         [&](int i) {
           return json::object{{"query", queries[static_cast<std::size_t>(i) % queries.size()]}};
         },
         "ctx.search",
         [&](int i) {
           return json::object{{"segment", seg},
                               {"query", queries[static_cast<std::size_t>(i) % queries.size()]}};
         },
         [&](int i) {
           return std::vector<std::string>{TRIFECTA_BIN,
                                           "--json",
                                           "ctx",
                                           "search",
                                           "-s",
                                           seg,
                                           queries[static_cast<std::size_t>(i) % queries.size()]};
         }},
        {"definition",
         [&](int) {
           return json::object{{"path", "json/decoder.py"}, {"line", 337}, {"column", 30}};
         },
         "lsp.definition",
         [&](int) {
           return json::object{
               {"segment", seg}, {"path", "json/decoder.py"}, {"line", 337}, {"column", 30}};
         },
         [&](int) {
           return std::vector<std::string>{TRIFECTA_BIN, "--json", "def",
                                           "-s",         seg,      "json/decoder.py:337:30"};
         }},
        {"outline",
         [&](int) {
           return json::object{{"path", "json/decoder.py"}};
         },
         "ast.skeleton",
         [&](int) {
           return json::object{{"segment", seg}, {"path", "json/decoder.py"}};
         },
         [&](int) {
           return std::vector<std::string>{TRIFECTA_BIN, "--json",         "ast", "skeleton", "-s",
                                           seg,          "json/decoder.py"};
         }},
    };
    // Warm-up: every path once per tool (page cache, the daemon's caches, the server's schemas).
    for (const auto& t : tools) {
      sock.call(t.method, t.wire_params(0));
      mcp.tool(t.name, t.mcp_args(0));
      if (run(t.cli_argv(0), cli_env).exit_code != 0)
        throw std::runtime_error("CLI failed for " + t.name);
    }
    for (const auto& t : tools) {
      std::map<std::string, std::vector<double>> v;
      for (int i = 0; i < requests; ++i) {
        auto t0 = Clock::now();
        sock.call(t.method, t.wire_params(i));
        v["socket"].push_back(ms_since(t0));
        t0 = Clock::now();
        mcp.tool(t.name, t.mcp_args(i));
        v["mcp"].push_back(ms_since(t0));
        if (i % 10 == 0) {
          t0 = Clock::now();
          const auto rr = run(t.cli_argv(i), cli_env);
          v["cli"].push_back(ms_since(t0));
          if (rr.exit_code != 0) throw std::runtime_error("CLI failed: " + rr.out + rr.err);
        }
      }
      for (auto& [path, s] : v) {
        round_medians[path][t.name].push_back(pct(s, 0.5));
        auto& a = all[path][t.name];
        a.insert(a.end(), s.begin(), s.end());
      }
    }
    // What the MCP tools ask besides their own method: ctx.status (the index generation every
    // answer carries), measured alone on the socket.
    std::vector<double> st;
    for (int i = 0; i < requests; ++i) {
      const auto t0 = Clock::now();
      sock.call("ctx.status", {{"segment", seg}});
      st.push_back(ms_since(t0));
    }
    round_medians["socket"]["ctx.status"].push_back(pct(st, 0.5));
    all["socket"]["ctx.status"].insert(all["socket"]["ctx.status"].end(), st.begin(), st.end());
  }
  for (const auto& [path, by_tool] : all) {
    for (const auto& [tool, v] : by_tool) {
      json::array per_round;
      for (double m : round_medians.at(path).at(tool)) per_round.push_back(m);
      json::object o{{"bench", "mcp_latency"},
                     {"path", path},
                     {"tool", tool},
                     {"samples", v.size()},
                     {"median_ms", pct(v, 0.5)},
                     {"p90_ms", pct(v, 0.9)},
                     {"round_medians_ms", per_round}};
      if (path != "socket" && all.at("socket").count(tool)) {
        o["median_minus_socket_ms"] = pct(v, 0.5) - pct(all.at("socket").at(tool), 0.5);
      }
      std::printf("%s\n", json::serialize(o).c_str());
    }
  }
  return 0;
}

// ---- memory ----

int memory(const std::string& seg, int rounds, const std::vector<int>& counts) {
  const int max_n = *std::max_element(counts.begin(), counts.end());
  // count → part → one figure per round
  std::map<int, std::map<std::string, std::vector<double>>> fig;
  const double mib = 1024.0 * 1024.0;
  for (int r = 0; r < rounds; ++r) {
    TempDir tmp;
    Daemon d(tmp, /*lsp=*/true);
    {
      Conn c(d.socket());
      c.call("ctx.build", {{"segment", seg}});
    }
    std::vector<std::unique_ptr<McpSession>> sessions;
    for (int n = 1; n <= max_n; ++n) {
      sessions.push_back(std::make_unique<McpSession>(
          std::vector<std::string>{TRIFECTA_BIN, "mcp", "-s", seg}, d.env()));
      auto& s = *sessions.back();
      const json::object pos{{"path", "json/decoder.py"}, {"line", 337}, {"column", 30}};
      json::object wait = pos;
      wait["wait_ready_ms"] = 60000;
      const json::value def = s.tool("definition", wait);
      const auto* sc = def.as_object().if_contains("structuredContent");
      const std::string backend = sc ? std::string(sc->at("backend").as_string()) : "?";
      if (backend != "lsp")
        throw std::runtime_error("Pyright did not answer (backend " + backend + ")");
      s.tool("hover", pos);
      s.tool("search", {{"query", "json decode error"}});
      s.tool("outline", {{"path", "json/decoder.py"}});
      if (std::find(counts.begin(), counts.end(), n) == counts.end()) continue;
      std::this_thread::sleep_for(1s);  // let Pyright settle after the requests
      double servers = 0;
      for (const auto& x : sessions) servers += static_cast<double>(rss_bytes(x->pid()));
      const double daemon = static_cast<double>(rss_bytes(d.pid()));
      double pyright = 0;
      for (pid_t p : descendants(d.pid())) pyright += static_cast<double>(rss_bytes(p));
      auto& f = fig[n];
      f["servers_mib"].push_back(servers / mib);
      f["server_each_mib"].push_back(servers / mib / n);
      f["daemon_mib"].push_back(daemon / mib);
      f["pyright_mib"].push_back(pyright / mib);
      f["total_mib"].push_back((servers + daemon + pyright) / mib);
      // One server per session: each session its own index (a daemon's RSS) and its own Pyright,
      // plus its frontend — all from this round's N = 1 figures.
      const auto& one = fig.at(counts.front());
      f["per_session_design_mib"].push_back(n * (one.at("daemon_mib").back() +
                                                 one.at("pyright_mib").back() +
                                                 one.at("server_each_mib").back()));
    }
  }
  const int first = counts.front();
  for (const auto& [n, parts] : fig) {
    json::object o{{"bench", "mcp_memory"}, {"sessions", n}, {"rounds", rounds}};
    for (const auto& [part, v] : parts) o[part + "_median"] = pct(v, 0.5);
    if (n != first) {
      std::vector<double> growth;
      for (std::size_t i = 0; i < parts.at("total_mib").size(); ++i) {
        growth.push_back((parts.at("total_mib")[i] - fig.at(first).at("total_mib")[i]) /
                         (n - first));
      }
      o["growth_per_extra_session_mib_median"] = pct(growth, 0.5);
      json::array per_round;
      for (double g : growth) per_round.push_back(g);
      o["growth_per_extra_session_mib_rounds"] = per_round;
    }
    std::printf("%s\n", json::serialize(o).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a server that died: a write error, not a silent exit
  if (argc != 5 || (std::string(argv[1]) != "latency" && std::string(argv[1]) != "memory")) {
    std::fprintf(stderr,
                 "usage: bench_mcp latency <segment-dir> <rounds> <requests>\n"
                 "       bench_mcp memory  <segment-dir> <rounds> <sessions,...>  (ascending, e.g. "
                 "1,2,4)\n");
    return 2;
  }
  try {
    const std::string seg = fs::canonical(argv[2]).string();
    const int rounds = std::atoi(argv[3]);
    if (std::string(argv[1]) == "latency") return latency(seg, rounds, std::atoi(argv[4]));
    std::vector<int> counts;
    std::stringstream ss(argv[4]);
    for (std::string x; std::getline(ss, x, ',');) counts.push_back(std::stoi(x));
    if (counts.empty() || !std::is_sorted(counts.begin(), counts.end()) || counts.front() < 1) {
      std::fprintf(stderr, "bench_mcp: sessions must be ascending counts >= 1, e.g. 1,2,4\n");
      return 2;
    }
    return memory(seg, rounds, counts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mcp: %s\n", e.what());
    return 1;
  }
}
