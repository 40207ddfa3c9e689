// Benchmark: request latency inside the daemon, for several trifectad builds in one interleaved run.
//
//   bench_rpc <segment-dir> <rounds> <requests> LABEL=<trifectad> [LABEL=<trifectad> ...]
//
// Used to show that a refactor of the daemon costs no speed: the same requests, on the same
// tree, against each build in turn, round after round (A B A B ...), so machine noise falls on
// every build alike. Each round starts the build's daemon with `--no-lsp` (definition and hover
// then come from the AST fallback, which is deterministic) on a private socket, waits for the
// index (`ctx.build`), and sends on one connection, back to back, `requests` times each:
//   ping · ctx.search (8 queries in turn) · ctx.get (one chunk, excerpt) · lsp.definition and
//   lsp.hover (fallback) at json/decoder.py:337:30 · ast.skeleton of json/decoder.py.
// Latency is send → reply line on the client side (no process start-up: the CLI's start-up is
// measured by bench_startup). Prints one JSON object per build and method: median and p90 over
// all rounds, and each round's median.
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <map>

#include "../support/process.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

struct Build {
  std::string label;
  std::string daemon;
  std::map<std::string, std::vector<double>> ms;              // all samples per method
  std::map<std::string, std::vector<double>> round_medians;  // one per round per method
};

class Conn {
 public:
  explicit Conn(const fs::path& sock) : c_(sock) {
    if (!c_.connected()) throw std::runtime_error("cannot connect to " + sock.string());
  }
  // One request; returns the reply's result (throws on an error reply or a timeout).
  json::value call(std::string_view method, json::object params, double* ms = nullptr) {
    const std::string line =
        json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", ++id_}, {"method", method}, {"params", params}}) + "\n";
    const auto t0 = Clock::now();
    if (!c_.send(line)) throw std::runtime_error("send failed");
    for (;;) {
      auto l = c_.line(600s);
      if (!l) throw std::runtime_error("no reply to " + std::string(method));
      json::value v = json::parse(*l);
      if (!v.as_object().contains("id")) continue;  // progress notification
      if (ms) *ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
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

void run_round(Build& b, const std::string& seg, int requests) {
  TempDir tmp;
  const fs::path sock = tmp.path() / "run" / "d.sock";
  const auto env = make_env({{"XDG_STATE_HOME", (tmp.path() / "state").string()},
                             {"XDG_RUNTIME_DIR", (tmp.path() / "xdg").string()},
                             {"TRIFECTA_TELEMETRY_DIR", (tmp.path() / "tel").string()}});
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t pid = spawn({b.daemon, "--foreground", "--socket", sock.string(), "--no-lsp", "--log-level", "warn"},
                          env, devnull, devnull);
  ::close(devnull);
  if (!wait_for_socket(sock, 10s)) throw std::runtime_error(b.label + ": daemon did not come up");
  {
    Conn c(sock);
    c.call("hello", {{"protocol", "1.0"}, {"client_name", "bench_rpc"}});
    c.call("ctx.build", {{"segment", seg}});
    const json::value hits = c.call("ctx.search", {{"segment", seg}, {"query", "json decode error"}});
    const std::string chunk(hits.at("hits").as_array().at(0).at("id").as_string());
    const std::vector<std::string> queries = {"json decode error", "tempfile",          "http cookie parser",
                                              "thread pool executor", "utf8 codec",     "subprocess pipe",
                                              "shutil copytree",   "asyncio event loop"};
    const json::object pos{{"segment", seg}, {"path", "json/decoder.py"}, {"line", 337}, {"column", 30}};
    auto measure = [&](const std::string& name, auto&& one) {
      std::vector<double> v;
      for (int i = 0; i < requests; ++i) {
        double ms = 0;
        one(i, &ms);
        v.push_back(ms);
      }
      b.round_medians[name].push_back(pct(v, 0.5));
      auto& all = b.ms[name];
      all.insert(all.end(), v.begin(), v.end());
    };
    measure("ping", [&](int, double* ms) { c.call("ping", {}, ms); });
    measure("ctx.search", [&](int i, double* ms) {
      c.call("ctx.search", {{"segment", seg}, {"query", queries[static_cast<std::size_t>(i) % queries.size()]}}, ms);
    });
    measure("ctx.get", [&](int, double* ms) {
      c.call("ctx.get", {{"segment", seg}, {"ids", json::array{json::string(chunk)}}, {"mode", "excerpt"}}, ms);
    });
    measure("lsp.definition (fallback)", [&](int, double* ms) { c.call("lsp.definition", pos, ms); });
    measure("lsp.hover (fallback)", [&](int, double* ms) { c.call("lsp.hover", pos, ms); });
    measure("ast.skeleton", [&](int, double* ms) {
      c.call("ast.skeleton", {{"segment", seg}, {"path", "json/decoder.py"}, {"format", "text"}}, ms);
    });
    c.call("shutdown", {});
  }
  if (!wait_exit(pid, 20s)) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: bench_rpc <segment-dir> <rounds> <requests> LABEL=<trifectad> [...]\n");
    return 2;
  }
  const std::string seg = fs::canonical(argv[1]).string();
  const int rounds = std::atoi(argv[2]);
  const int requests = std::atoi(argv[3]);
  std::vector<Build> builds;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "bench_rpc: expected LABEL=<trifectad>, got %s\n", a.c_str());
      return 2;
    }
    builds.push_back({a.substr(0, eq), a.substr(eq + 1), {}, {}});
  }
  try {
    for (int r = 0; r < rounds; ++r) {
      for (auto& b : builds) run_round(b, seg, requests);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_rpc: %s\n", e.what());
    return 1;
  }
  for (const auto& b : builds) {
    for (const auto& [method, v] : b.ms) {
      json::array per_round;
      for (double m : b.round_medians.at(method)) per_round.push_back(m);
      json::object o{{"bench", "rpc_latency"}, {"build", b.label}, {"method", method}, {"samples", v.size()},
                     {"median_ms", pct(v, 0.5)}, {"p90_ms", pct(v, 0.9)}, {"round_medians_ms", per_round}};
      if (&b != &builds.front()) {
        o["median_ratio_to_" + builds.front().label] = pct(v, 0.5) / pct(builds.front().ms.at(method), 0.5);
      }
      std::printf("%s\n", json::serialize(o).c_str());
    }
  }
  return 0;
}
