// Instructions a search executes, per query, on a real tree: a deterministic figure to compare
// two builds of lib/index where wall and CPU time are too noisy (a shared 2-core VM without
// hardware counters). Run under callgrind by scripts/bench_search_cg.sh: the index is loaded
// (or built) outside the measurement, then each query runs once to warm the scratch tables and
// REPEAT times measured, with the counts dumped per query (CALLGRIND_DUMP_STATS_AT). Outside
// valgrind it prints each query's hits, matched and scored counts and the median wall time of
// its REPEAT searches (in process: no socket, no reply encoding).
//
// Usage: bench_search_cg <tree> <repeat> <query>...
// BENCH_EVICT_MB=N: before each timed search, write N MiB of another buffer, so the search starts
// with caches holding little of the index — as in the daemon, where a CLI process runs between
// two searches (the wall time then counts the misses; not meant for callgrind runs).
// BENCH_EDIT=FILE (a path in the tree): after the build, one line is appended to FILE (removed
// again at exit) and the change applied (`apply_changes`), and the queries run in the state an
// edit leaves until SegmentIndex::settle (not called here): a tail and dead chunks.
#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "index/segment_index.hpp"

using namespace trifecta::core;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_search_cg <tree> <repeat> <query>...\n");
    return 2;
  }
  const int repeat = std::atoi(argv[2]);
  const char* evict_env = std::getenv("BENCH_EVICT_MB");
  std::vector<unsigned char> evict(evict_env ? static_cast<std::size_t>(std::atoi(evict_env)) << 20
                                             : 0);
  index::SegmentOptions so;
  so.threads = 2;
  auto seg = index::SegmentIndex::open(argv[1], so);
  if (!seg) {
    std::fprintf(stderr, "bench_search_cg: %s\n", seg.error().message.c_str());
    return 1;
  }
  auto built = (*seg)->build();
  if (!built) {
    std::fprintf(stderr, "bench_search_cg: %s\n", built.error().message.c_str());
    return 1;
  }
  // BENCH_EDIT: the file's text before the edit, written back at exit.
  struct Restore {
    std::filesystem::path path;
    std::string text;
    ~Restore() {
      if (path.empty()) return;
      std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    }
  } restore;
  if (const char* edit = std::getenv("BENCH_EDIT"); edit && *edit) {
    restore.path = std::filesystem::path(argv[1]) / edit;
    std::ifstream in(restore.path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "bench_search_cg: cannot read %s\n", restore.path.c_str());
      restore.path.clear();
      return 1;
    }
    restore.text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::ofstream(restore.path, std::ios::binary | std::ios::app) << "\n# bench_search_cg edit\n";
    const auto report = (*seg)->apply_changes({edit});
    std::fprintf(stderr,
                 "bench_search_cg: %s edited and applied (%zu files changed); not settled\n", edit,
                 report.changed_files());
  }
  for (int q = 3; q < argc; ++q) {
    index::SearchOptions o;
    o.query = argv[q];
    auto warm = (*seg)->search(o);
    if (!warm) {
      std::fprintf(stderr, "bench_search_cg: %s\n", warm.error().message.c_str());
      return 1;
    }
    std::vector<double> ms;
    CALLGRIND_ZERO_STATS;
    for (int i = 0; i < repeat; ++i) {
      for (std::size_t b = 0; b < evict.size(); b += 64)
        evict[b] = static_cast<unsigned char>(evict[b] + i + 1);
      const auto t0 = std::chrono::steady_clock::now();
      (void)(*seg)->search(o);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    CALLGRIND_DUMP_STATS_AT(argv[q]);
    std::sort(ms.begin(), ms.end());
    std::printf("%s\t%zu hits, %zu matched, %zu scored, median %.3f ms\n", argv[q],
                warm->hits.size(), warm->matched, warm->scored,
                ms.empty() ? 0.0 : ms[ms.size() / 2]);
  }
  return 0;
}
