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
//
//   bench_ast --edits <dir> [runs=5]
//
// An edited file's skeleton, parsed from scratch against parsed from the file's last parse
// (ParseMemo, what the index does for a file edited again): for every .py file the cache would
// keep a parse of (≤ ast::kParseMemoBytes), two edits — a line appended at the end, and the
// middle line of the file duplicated under itself — each extracted fresh and incrementally
// `runs` times (medians per file, one thread). Prints the totals, the per-file ratio's median and
// p90, and the largest files' figures.
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

// The --edits mode (see the header).
int bench_edits(const fs::path& root, int runs) {
  const workspace::FileReader reader("/", ast::kParseMemoBytes);
  struct Row {
    std::string rel;
    std::size_t bytes = 0;
    double fresh_ms = 0, incremental_ms = 0;
  };
  std::vector<Row> rows;
  std::size_t mismatches = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() != ".py") continue;
    if (e.path().string().find("/_ctx/") != std::string::npos) continue;
    if (e.file_size() == 0 || e.file_size() > ast::kParseMemoBytes) continue;
    auto got = reader.read_bytes(e.path().string(), workspace::ReadPurpose::kSkeleton, nullptr);
    if (!got) continue;
    const std::string& text = got->text;
    std::size_t mid = text.size() / 2;
    mid = text.rfind('\n', mid);
    mid = mid == std::string::npos ? 0 : mid + 1;
    const std::size_t mid_end = text.find('\n', mid);
    const std::string line = text.substr(mid, mid_end == std::string::npos ? std::string::npos : mid_end + 1 - mid);
    const std::string edits[] = {text + "edited_by_bench = 1\n", text.substr(0, mid) + line + text.substr(mid)};
    for (const std::string& edited : edits) {
      std::vector<double> fresh, inc;
      for (int r = 0; r < runs; ++r) {
        Stopwatch a;
        auto f = ast::extract_skeleton(edited);
        fresh.push_back(a.elapsed_ms());
        ast::ParseMemo memo;
        (void)ast::extract_skeleton(text, memo);  // the file's last parse (not timed)
        Stopwatch b;
        auto i = ast::extract_skeleton(edited, memo);
        inc.push_back(b.elapsed_ms());
        if (static_cast<bool>(f) != static_cast<bool>(i) || (f && ast::to_json(*f) != ast::to_json(*i))) ++mismatches;
      }
      rows.push_back({e.path().lexically_relative(root).generic_string(), edited.size(), median(fresh), median(inc)});
    }
  }
  if (rows.empty()) {
    std::cerr << "no .py files under " << root << "\n";
    return 1;
  }
  double fresh_total = 0, inc_total = 0;
  std::vector<double> ratios;
  for (const auto& r : rows) {
    fresh_total += r.fresh_ms;
    inc_total += r.incremental_ms;
    if (r.fresh_ms > 0) ratios.push_back(r.incremental_ms / r.fresh_ms);
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("| edits | files ≤ %zu KiB | fresh ms (sum of medians) | incremental ms | total ratio | per-edit ratio median | p90 |\n",
              ast::kParseMemoBytes / 1024);
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %zu | %zu | %.1f | %.1f | %.3f | %.3f | %.3f |\n", rows.size(), rows.size() / 2, fresh_total, inc_total,
              inc_total / fresh_total, ratios[ratios.size() / 2], ratios[std::min(ratios.size() - 1, ratios.size() * 9 / 10)]);
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.bytes > b.bytes; });
  std::printf("\n| largest files' edits | bytes | fresh ms | incremental ms | ratio |\n|---|---:|---:|---:|---:|\n");
  for (std::size_t i = 0; i < std::min<std::size_t>(6, rows.size()); ++i) {
    std::printf("| %s | %zu | %.2f | %.2f | %.3f |\n", rows[i].rel.c_str(), rows[i].bytes, rows[i].fresh_ms,
                rows[i].incremental_ms, rows[i].incremental_ms / rows[i].fresh_ms);
  }
  if (mismatches) {
    std::fprintf(stderr, "%zu incremental skeletons differ from the fresh ones\n", mismatches);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--edits") {
    if (auto rt = ast::check_runtime(); !rt) {
      std::cerr << rt.error().message << "\n";
      return 1;
    }
    return bench_edits(fs::canonical(argv[2]), argc > 3 ? std::max(1, std::atoi(argv[3])) : 5);
  }
  if (argc < 2) {
    std::cerr << "usage: bench_ast <dir> [runs] [threads] | bench_ast --edits <dir> [runs]\n";
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
