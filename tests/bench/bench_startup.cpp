// Benchmark: whole-process start-up of the CLI against /bin/true, in one run (issue 9).
//
//   bench_startup <trifectad> <runs> <label>=<trifecta binary> [<label>=<binary> ...]
//
// Starts one private trifectad (so `ping` has a warm daemon to answer), then for `runs` rounds
// runs, interleaved so that machine noise hits every command alike: /bin/true, and for every
// given binary `--version` and `ping`. Prints one JSON object per command: median, p10, p90 (ms),
// the median's difference to /bin/true's median and the ratio to it, and the median count of
// minor page faults (wait4's rusage: load-independent, and on a paravirtualised machine each costs
// ~10 µs). Several binaries (e.g. a build before and after a change) are measured in the same run
// for a fair comparison.
#include <sys/resource.h>

#include <boost/json.hpp>
#include <cstdio>

#include "../support/process.hpp"
#include "bench_stats.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

double time_once(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                 int* rc, long* minor_faults = nullptr) {
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const auto t0 = Clock::now();
  const pid_t pid = spawn(argv, env, devnull, devnull);
  int st = 0;
  rusage ru{};
  ::wait4(pid, &st, 0, &ru);
  if (minor_faults) *minor_faults = ru.ru_minflt;
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  ::close(devnull);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return ms;
}

struct Cmd {
  std::string label;
  std::vector<std::string> argv;
  std::vector<double> samples;
  std::vector<double> faults;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_startup <trifectad> <runs> <label>=<trifecta> [...]\n");
    return 2;
  }
  const std::string daemon = argv[1];
  const int runs = std::max(1, std::atoi(argv[2]));
  TempDir tmp;
  const fs::path sock = tmp.path() / "run" / "d.sock";
  const auto env = make_env({{"XDG_STATE_HOME", (tmp.path() / "state").string()},
                             {"TRIFECTA_SOCKET", sock.string()},
                             {"TRIFECTA_TELEMETRY_DIR", (tmp.path() / "tel").string()},
                             {"TRIFECTA_DAEMON", daemon}});
  const int log = ::open((tmp.path() / "daemon.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  const pid_t dpid = spawn(
      {daemon, "--foreground", "--socket", sock.string(), "--log-level", "warn"}, env, log, log);
  ::close(log);
  if (!wait_for_socket(sock, 10s)) {
    std::fprintf(stderr, "trifectad did not come up\n");
    return 1;
  }

  std::vector<Cmd> cmds{{"/bin/true", {"/bin/true"}, {}, {}}};
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    const std::string label = eq == std::string::npos ? a : a.substr(0, eq);
    const std::string bin = eq == std::string::npos ? a : a.substr(eq + 1);
    cmds.push_back({label + " --version", {bin, "--version"}, {}, {}});
    cmds.push_back({label + " ping", {bin, "ping"}, {}, {}});
  }
  // One untimed round first (page cache, the daemon's first connection).
  int rc = 0;
  for (auto& c : cmds) time_once(c.argv, env, &rc);
  for (int r = 0; r < runs; ++r) {
    for (auto& c : cmds) {
      long faults = 0;
      c.samples.push_back(time_once(c.argv, env, &rc, &faults));
      c.faults.push_back(static_cast<double>(faults));
      if (rc != 0) {
        std::fprintf(stderr, "%s exited %d\n", c.label.c_str(), rc);
        return 1;
      }
    }
  }
  ::kill(dpid, SIGTERM);
  wait_exit(dpid, 15s);

  const double floor = trifecta::bench::median(cmds[0].samples);
  for (const auto& c : cmds) {
    const double m = trifecta::bench::median(c.samples);
    json::object o{{"bench", "cli_startup"},
                   {"command", c.label},
                   {"runs", runs},
                   {"median_ms", m},
                   {"p10_ms", trifecta::bench::pct(c.samples, 10)},
                   {"p90_ms", trifecta::bench::pct(c.samples, 90)},
                   {"over_true_ms", m - floor},
                   {"ratio_to_true", floor > 0 ? m / floor : 0.0},
                   {"minor_faults", trifecta::bench::median(c.faults)}};
    std::printf("%s\n", json::serialize(o).c_str());
  }
  return 0;
}
