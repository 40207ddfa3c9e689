// Benchmark: trifectad request latency and the whole-process cost of the CLI.
//
//   bench_daemon <trifectad> <trifecta> [requests_per_conn=2000] [process_runs=300]
//
// Starts a real trifectad (daemonized, default log level: one log line per request, as in
// production) on a private socket, then measures:
//  1. in-process `ping` round-trip latency (send line → reply line) with 1, 8 and 32 concurrent
//     connections, each sending requests back to back: p50/p99 and requests/s;
//  2. whole-process wall time of `trifecta ping` and `trifecta status` (spawn → exit) against the
//     warm daemon, next to `/bin/true` (the process-start floor): medians.
// Prints one JSON object per measurement.
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "../support/process.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

double pct(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

std::vector<double> time_process(const std::vector<std::string>& argv, const std::vector<std::string>& env, int runs) {
  std::vector<double> ms;
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    const pid_t pid = spawn(argv, env, devnull, devnull);
    int st = 0;
    ::waitpid(pid, &st, 0);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      std::fprintf(stderr, "%s failed\n", argv[0].c_str());
      std::exit(1);
    }
  }
  ::close(devnull);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_daemon <trifectad> <trifecta> [requests_per_conn] [process_runs]\n");
    return 2;
  }
  const std::string daemon = argv[1], cli = argv[2];
  const int per_conn = argc > 3 ? std::atoi(argv[3]) : 2000;
  const int runs = argc > 4 ? std::atoi(argv[4]) : 300;
  TempDir tmp;
  const fs::path sock = tmp.path() / "run" / "d.sock";
  const auto env = make_env({{"XDG_STATE_HOME", (tmp.path() / "state").string()},
                             {"TRIFECTA_SOCKET", sock.string()},
                             {"TRIFECTA_TELEMETRY_DIR", (tmp.path() / "tel").string()}});
  {
    const pid_t p = spawn({daemon, "--socket", sock.string()}, env);
    int st = 0;
    ::waitpid(p, &st, 0);  // returns once the daemon serves
    if (!wait_for_socket(sock, 5s)) return 1;
  }
  const std::string ping = R"({"jsonrpc":"2.0","id":1,"method":"ping"})" "\n";

  for (int conns : {1, 8, 32}) {
    std::vector<std::vector<double>> lat(static_cast<std::size_t>(conns));
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < conns; ++c) {
      threads.emplace_back([&, c] {
        RawClient client(sock);
        auto& l = lat[static_cast<std::size_t>(c)];
        l.reserve(static_cast<std::size_t>(per_conn));
        for (int i = 0; i < per_conn + 50; ++i) {
          const auto s = Clock::now();
          client.send(ping);
          if (!client.line(10s)) std::exit(1);
          if (i >= 50) l.push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());  // 50 warm-up
        }
      });
    }
    for (auto& t : threads) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> all;
    for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
    std::printf("%s\n", json::serialize(json::object{{"bench", "in_process_ping"},
                                                     {"connections", conns},
                                                     {"requests", all.size()},
                                                     {"p50_us", pct(all, 0.5)},
                                                     {"p99_us", pct(all, 0.99)},
                                                     {"requests_per_s", static_cast<double>(all.size()) / secs}})
                            .c_str());
  }

  const auto truth = time_process({"/bin/true"}, env, runs);
  const auto cping = time_process({cli, "--no-spawn", "ping"}, env, runs);
  const auto cstatus = time_process({cli, "--no-spawn", "status"}, env, runs);
  std::printf("%s\n", json::serialize(json::object{{"bench", "whole_process"},
                                                   {"runs", runs},
                                                   {"bin_true_median_ms", pct(truth, 0.5)},
                                                   {"trifecta_ping_median_ms", pct(cping, 0.5)},
                                                   {"trifecta_status_median_ms", pct(cstatus, 0.5)},
                                                   {"ping_minus_true_ms", pct(cping, 0.5) - pct(truth, 0.5)},
                                                   {"status_minus_true_ms", pct(cstatus, 0.5) - pct(truth, 0.5)}})
                          .c_str());
  time_process({cli, "--no-spawn", "daemon", "stop"}, env, 1);
  return 0;
}
