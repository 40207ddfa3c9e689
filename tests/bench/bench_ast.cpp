// bench_ast — skeleton build cost on a tree of Python files (scripts/bench_ast.sh runs it on a
// copy of the machine's stdlib).
//
//   bench_ast <dir> [runs=5] [threads=hardware threads]
//
// Measures, each `runs` times, reporting the median:
//   raw      read + tree-sitter full parse of every file, one thread, trees discarded (baseline)
//   raw/N    the same on `threads` threads (what parallelism alone costs here; CPU compared too)
//   cold     build_skeletons on all cores into an empty cache (read, hash, parse, extract, measure
//            the rendering, encode binary rows, persist to SQLite, flush)
//   warm     the same again on the same SkeletonCache (every file a memory hit; files still read
//            and hashed: the key is the content)
//   restart  a new SkeletonCache on the persisted file (open + quick_check), then the same build
//            (every file a disk hit)
// and prints a Markdown table plus the targets.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "bench_stats.hpp"
#include "lang/python/extractor.hpp"
#include "ast/skeleton_cache.hpp"
#include "util/clock.hpp"

namespace fs = std::filesystem;
using namespace trifecta::core;
using namespace trifecta::bench;

namespace {

// CPU time (user + system) of the whole process so far, in ms: on a shared machine wall time
// depends on what else runs, CPU time does not.
double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

void remove_db(const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_ast <dir> [runs] [threads]\n";
    return 2;
  }
  const fs::path root = fs::canonical(argv[1]);
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  if (auto rt = ast::check_runtime(); !rt) {
    std::cerr << rt.error().message << "\n";
    return 1;
  }
  std::vector<ast::BuildItem> items;
  std::uint64_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() != ".py") continue;
    if (e.path().string().find("/_ctx/") != std::string::npos) continue;
    items.push_back({e.path(), e.path().lexically_relative(root).generic_string()});
    bytes += e.file_size();
  }
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.rel < b.rel; });
  const unsigned cores = argc > 3 ? static_cast<unsigned>(std::max(1, std::atoi(argv[3])))
                                  : std::max(1u, std::thread::hardware_concurrency());
  const fs::path db = ast::SkeletonCache::default_file(root);
  ast::CacheOptions opts;
  opts.max_file_bytes = std::size_t{64} << 20;
  const workspace::FileReader reader("/", opts.max_file_bytes);
  const auto read_file = [&reader](const fs::path& abs) -> Result<std::string> {
    auto got = reader.read_bytes(abs.string(), workspace::ReadPurpose::kSkeleton, nullptr);
    if (!got) return got.error();
    return std::move(got->text);
  };

  std::vector<double> raw, cold, warm, restart, raw_cpu, cold_cpu, rawn, rawn_cpu;
  // The cold / raw CPU ratio of each run: raw and cold of one run are seconds apart, so on a
  // machine whose speed drifts (other tenants) their ratio is steadier than a ratio of medians.
  std::vector<double> cpu_ratio, wall_ratio;
  std::size_t failures = 0;
  for (int r = 0; r < runs; ++r) {
    {
      const double c0 = cpu_ms();
      Stopwatch sw;
      for (const auto& it : items) {
        auto content = read_file(it.abs);
        if (!content || !ast::raw_parse(*content)) ++failures;
      }
      raw.push_back(sw.elapsed_ms());
      raw_cpu.push_back(cpu_ms() - c0);
    }
    if (cores > 1) {
      // The same raw parse on `cores` threads: what parallelism alone costs on this machine
      // (shared caches and memory bandwidth, other tenants), before any skeleton work.
      const double c0 = cpu_ms();
      Stopwatch sw;
      std::atomic<std::size_t> next{0}, bad{0};
      auto work = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < items.size();) {
          auto content = read_file(items[i].abs);
          if (!content || !ast::raw_parse(*content)) ++bad;
        }
      };
      {
        std::vector<std::jthread> pool;
        for (unsigned t = 1; t < cores; ++t) pool.emplace_back(work);
        work();
      }
      failures += bad;
      rawn.push_back(sw.elapsed_ms());
      rawn_cpu.push_back(cpu_ms() - c0);
    }
    remove_db(db);
    {
      const double c0 = cpu_ms();
      Stopwatch sw;
      ast::SkeletonCache cache(db, {}, opts);
      auto rep = ast::build_skeletons(cache, items, cores);
      cold.push_back(sw.elapsed_ms());
      cold_cpu.push_back(cpu_ms() - c0);
      cpu_ratio.push_back(cold_cpu.back() / raw_cpu.back());
      wall_ratio.push_back(cold.back() / (raw.back() / cores));
      failures += rep.failed;
      Stopwatch sw2;
      auto rep2 = ast::build_skeletons(cache, items, cores);
      warm.push_back(sw2.elapsed_ms());
      if (rep2.hits != items.size()) std::cerr << "warm run had " << rep2.parsed << " parses\n";
    }
    {
      Stopwatch sw;
      ast::SkeletonCache cache(db, {}, opts);
      auto rep = ast::build_skeletons(cache, items, cores);
      restart.push_back(sw.elapsed_ms());
      if (rep.hits != items.size()) std::cerr << "restart run had " << rep.parsed << " parses\n";
    }
  }
  const double m_raw = median(raw), m_cold = median(cold), m_warm = median(warm), m_restart = median(restart);
  const double ideal = m_raw / cores;
  double load[3] = {0, 0, 0};
  (void)getloadavg(load, 3);
  std::printf("files: %zu, bytes: %llu, threads: %u, runs: %d, failures: %zu, load average at end: %.2f\n\n",
              items.size(), static_cast<unsigned long long>(bytes), cores, runs, failures, load[0]);
  std::printf("| measurement | median ms | ratio |\n|---|---:|---|\n");
  std::printf("| raw tree-sitter parse, 1 thread | %.1f | baseline |\n", m_raw);
  std::printf("| cold skeleton build, %u threads (empty cache) | %.1f | %.2f x (raw / %u cores); aim <= 1.2 |\n",
              cores, m_cold, m_cold / ideal, cores);
  std::printf("| CPU time: raw parse / cold build | %.1f / %.1f | cold = %.2f x raw CPU |\n", median(raw_cpu),
              median(cold_cpu), median(cold_cpu) / median(raw_cpu));
  if (!rawn.empty()) {
    std::printf("| raw parse on %u threads (parallelism alone) | %.1f | %.2f x (raw / %u cores); CPU %.1f = %.2f x raw CPU |\n",
                cores, median(rawn), median(rawn) / ideal, cores, median(rawn_cpu), median(rawn_cpu) / median(raw_cpu));
    std::printf("| cold build CPU / raw parse CPU on %u threads | %.1f / %.1f | %.2f x |\n", cores, median(cold_cpu),
                median(rawn_cpu), median(cold_cpu) / median(rawn_cpu));
  }
  auto listed = [](const std::vector<double>& v) {
    std::string t;
    for (double x : v) t += (t.empty() ? "" : " ") + std::to_string(x).substr(0, 4);
    return t;
  };
  std::printf("| per-run ratios, median: cold wall / (raw / %u cores) | | %.2f x (runs: %s) |\n", cores,
              median(wall_ratio), listed(wall_ratio).c_str());
  std::printf("| per-run ratios, median: cold CPU / raw CPU | | %.2f x (runs: %s) |\n", median(cpu_ratio),
              listed(cpu_ratio).c_str());
  std::printf("| warm rebuild (all memory hits) | %.1f | %.1f %% of cold; aim <= 10 %% |\n", m_warm,
              100.0 * m_warm / m_cold);
  std::printf("| restart with persisted cache (all disk hits) | %.1f | %.1f %% of cold; aim <= 10 %% |\n",
              m_restart, 100.0 * m_restart / m_cold);
  remove_db(db);
  return failures ? 1 : 0;
}
