// Benchmark: whole-process CLI latency against a warm daemon on a real tree (issues 5 and 6).
//
//   bench_cli <trifectad> <trifecta> <segment-dir> [runs=30]
//
// Measures, in one session on the same machine:
//  * ctx build cold (fresh _ctx) and warm (daemon restarted, persisted index), daemon RSS after it;
//  * per query: median wall time of `trifecta ctx search` vs `rg -l -i -e w1 -e w2 …` over the tree;
//  * `trifecta ctx get` per disclosure mode, and bytes of skeleton vs raw for the same chunks;
//  * `trifecta def` / `trifecta hover` with Pyright READY, and with the AST fallback (--no-lsp);
//  * /bin/true as the process-start floor.
// Prints one JSON object per measurement.
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>

#include "../support/process.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double time_once(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const auto t0 = Clock::now();
  const pid_t pid = spawn(argv, env, devnull, devnull);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ::close(devnull);
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double time_median(const std::vector<std::string>& argv, const std::vector<std::string>& env, int runs) {
  std::vector<double> v;
  for (int i = 0; i < runs; ++i) v.push_back(time_once(argv, env));
  return median(v);
}

json::object result(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  auto r = run(argv, env, 600s);
  if (r.exit_code != 0) {
    std::fprintf(stderr, "failed: %s\n%s%s\n", argv[1].c_str(), r.out.c_str(), r.err.c_str());
    std::exit(1);
  }
  return json::parse(r.out).at("result").as_object();
}

void emit(json::object o) { std::printf("%s\n", json::serialize(o).c_str()); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_cli <trifectad> <trifecta> <segment-dir> [runs]\n");
    return 2;
  }
  const std::string daemon = argv[1], cli = argv[2];
  const std::string seg = fs::canonical(argv[3]).string();
  const int runs = argc > 4 ? std::atoi(argv[4]) : 30;
  TempDir tmp;
  const fs::path sock = tmp.path() / "run" / "d.sock";
  const std::map<std::string, std::string> envm{{"XDG_STATE_HOME", (tmp.path() / "state").string()},
                                                {"TRIFECTA_SOCKET", sock.string()},
                                                {"TRIFECTA_TELEMETRY_DIR", (tmp.path() / "tel").string()},
                                                {"TRIFECTA_DAEMON", daemon}};
  const auto env = make_env(envm);
  auto T = [&](std::vector<std::string> a) {
    a.insert(a.begin(), cli);
    return a;
  };
  std::error_code ec;
  fs::remove_all(fs::path(seg) / "_ctx", ec);  // a truly cold build

  std::uint64_t corpus = 0;
  for (auto it = fs::recursive_directory_iterator(seg, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().string().find("/_ctx/") == std::string::npos) corpus += it->file_size(ec);
  }

  auto cold = result(T({"--json", "ctx", "build", "-s", seg}), envm);
  auto st = result(T({"--json", "status"}), envm);
  emit({{"bench", "ctx_build_cold"}, {"elapsed_ms", cold.at("build").at("elapsed_ms")},
        {"files", cold.at("build").at("files_indexed")}, {"chunks", cold.at("build").at("chunks")},
        {"corpus_bytes", corpus}, {"daemon_rss_bytes", st.at("rss_bytes")},
        {"rss_over_corpus", st.at("rss_bytes").to_number<double>() / static_cast<double>(corpus)}});
  (void)run(T({"daemon", "stop"}), envm, 60s);
  auto warm = result(T({"--json", "ctx", "build", "-s", seg}), envm);
  emit({{"bench", "ctx_build_warm_restart"}, {"elapsed_ms", warm.at("build").at("elapsed_ms")},
        {"warm", warm.at("build").at("warm")}, {"files_read", warm.at("build").at("files_read")},
        {"ratio_to_cold", warm.at("build").at("elapsed_ms").to_number<double>() /
                              cold.at("build").at("elapsed_ms").to_number<double>()}});

  const double floor_ms = time_median({"/bin/true"}, env, runs);
  emit({{"bench", "process_floor"}, {"bin_true_median_ms", floor_ms}});

  const std::vector<std::vector<std::string>> queries = {
      {"json", "decode", "error"}, {"tempfile"},          {"http", "cookie", "parser"}, {"thread", "pool", "executor"},
      {"utf8", "codec"},           {"subprocess", "pipe"}, {"shutil", "copytree"},      {"asyncio", "event", "loop"}};
  std::vector<double> ratios;
  for (const auto& q : queries) {
    std::vector<std::string> search = T({"ctx", "search", "-s", seg, "--no-spawn"});
    search.insert(search.end(), q.begin(), q.end());
    std::vector<std::string> rg{"rg", "-l", "-i"};
    for (const auto& w : q) rg.insert(rg.end(), {"-e", w});
    rg.push_back(seg);
    const double ours = time_median(search, env, runs);
    const double theirs = time_median(rg, env, runs);
    ratios.push_back(ours / theirs);
    std::string qs;
    for (const auto& w : q) qs += (qs.empty() ? "" : " ") + w;
    emit({{"bench", "ctx_search_whole_process"}, {"query", qs}, {"trifecta_median_ms", ours}, {"rg_median_ms", theirs},
          {"ratio", ours / theirs}});
  }

  const json::object found = result(T({"--json", "ctx", "search", "-s", seg, "-n", "20", "json", "decode", "error"}), envm);
  const json::array& hits = found.at("hits").as_array();
  std::vector<std::string> ids;
  for (const auto& h : hits) ids.emplace_back(h.at("id").as_string());
  std::map<std::string, double> bytes;
  for (const char* mode : {"skeleton", "excerpt", "raw"}) {
    std::vector<std::string> get = T({"ctx", "get", "-s", seg, "-m", mode, "-b", "100000", "--max-chunks", "100"});
    get.insert(get.end(), ids.begin(), ids.end());
    const double ms = time_median(get, env, runs);
    std::vector<std::string> jget = get;
    jget.insert(jget.begin() + 1, "--json");
    double text_bytes = 0;
    const json::object got = result(jget, envm);
    for (const auto& c : got.at("chunks").as_array()) text_bytes += static_cast<double>(c.at("text").as_string().size());
    bytes[mode] = text_bytes;
    emit({{"bench", "ctx_get_whole_process"}, {"mode", mode}, {"chunks", ids.size()}, {"median_ms", ms},
          {"returned_bytes", text_bytes}});
  }
  emit({{"bench", "skeleton_vs_raw"}, {"skeleton_bytes", bytes["skeleton"]}, {"raw_bytes", bytes["raw"]},
        {"ratio", bytes["skeleton"] / bytes["raw"]}});

  // Pyright READY: wait once, then time.
  const std::string pos = "json/decoder.py:337:30";
  auto ready = result(T({"--json", "def", "-s", seg, "--wait", "60000", pos}), envm);
  const double def_ms = time_median(T({"def", "-s", seg, pos}), env, runs);
  const double hover_ms = time_median(T({"hover", "-s", seg, pos}), env, runs);
  emit({{"bench", "lsp_whole_process"}, {"backend", ready.at("backend")}, {"def_median_ms", def_ms},
        {"hover_median_ms", hover_ms}, {"def_minus_floor_ms", def_ms - floor_ms}});
  (void)run(T({"daemon", "stop"}), envm, 60s);

  // AST fallback: a daemon without Pyright.
  const pid_t p = spawn({daemon, "--socket", sock.string(), "--no-lsp"}, env);
  ::waitpid(p, nullptr, 0);
  auto fb = result(T({"--json", "def", "-s", seg, pos}), envm);
  const double fdef = time_median(T({"def", "-s", seg, pos}), env, runs);
  const double fhover = time_median(T({"hover", "-s", seg, pos}), env, runs);
  emit({{"bench", "fallback_whole_process"}, {"backend", fb.at("backend")}, {"def_median_ms", fdef},
        {"hover_median_ms", fhover}, {"def_minus_floor_ms", fdef - floor_ms}});
  (void)run(T({"daemon", "stop"}), envm, 60s);
  return 0;
}
