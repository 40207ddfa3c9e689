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
// BENCH_REST_MS=N: sleep N ms before each timed search (after any eviction) — what a search
// after an agent's pause meets: state the host's other work erodes meanwhile, more than cold
// data caches (docs/benchmarks.md, "What a rest costs: time, not idleness").
// BENCH_REST_SPIN=1: spend the rest in a busy loop instead of asleep (the vCPU never idles), and
// BENCH_REST_WARM=QUERY: search QUERY, untimed, after the rest and before the timed search — the
// two controls of docs/benchmarks.md, "What a rest costs: time, not idleness".
// BENCH_EDIT=FILE (a path in the tree): after the build, one line is appended to FILE (removed
// again at exit) and the change applied (`apply_changes`), and the queries run in the state an
// edit leaves until SegmentIndex::settle (not called here): a tail and dead chunks. FILE may be a
// comma-separated list (many files changed at once, as by a branch switch; not with the two
// modes below).
// BENCH_EDIT_ROUNDS=N with BENCH_EDIT=FILE: instead, per query, N + 1 edits as the daemon sees
// them: the watcher on, a comment line written into the middle of FILE (indented as the line
// after it; the run's time and the round's number in it, a text no earlier run left in the
// skeleton cache), `sync(publish = false)` then the search, `settle()` after it, as Service does
// in the background. The first round warms up (the file's first edit, parsed whole; the first
// query's is printed last), the other N are measured — sync and search together, one callgrind
// dump per round named "edit: QUERY" (instrumentation is switched on for those only: run it with
// --instr-atstart=no, or every settle runs instrumented too) — and their median wall time printed
// with the sync's alone. With BENCH_SETTLE_CG=1 each round's settle is measured too, in a dump of
// its own named "settle: QUERY".
// BENCH_SETTLE_RACE=N with BENCH_EDIT=FILE: instead, N edits' syncs timed while the previous
// edit's settle prepares on another thread, beside N with nothing running, and the settle's own
// time (settle_race below; with the daemon's allocator settings).
#include <valgrind/callgrind.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ast/skeleton_cache.hpp"
#include "bench_stats.hpp"
#include "index/segment_index.hpp"
#include "util/malloc_tune.hpp"

using namespace trifecta::core;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// BENCH_SETTLE_RACE=N with BENCH_EDIT: instead, N edits that each land while the previous edit's
// settle prepares — `settle()` started on a thread (then publish_pack_state(), as the daemon
// does), the next edit's sync 0–95 % of a settle's time later — printing
// the median and maximum of those syncs (a writer waits until the preparing settle sees it
// waiting and stops) beside those of syncs with no settle running (`seg` watching), and the
// median time of a whole settle after one edit.
int settle_race(index::SegmentIndex& seg, const std::filesystem::path& file,
                const std::string& text, int rounds) {
  const auto run = std::chrono::system_clock::now().time_since_epoch().count();
  const auto edit = [&](int i) {
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        << text << "\n# bench_search_cg settle race w" << run << "x" << i << "\n";  // a new word
  };
  std::vector<double> racing, alone, settles;
  for (int i = 0; i < rounds; ++i) {
    edit(3 * i);
    (void)seg.sync(/*publish=*/false);
    auto t0 = std::chrono::steady_clock::now();
    (void)seg.settle();  // settled: the next sync runs alone
    settles.push_back(ms_since(t0));
    edit(3 * i + 1);
    t0 = std::chrono::steady_clock::now();
    (void)seg.sync(/*publish=*/false);
    alone.push_back(ms_since(t0));
    std::thread settler([&seg] {  // as the daemon does (Service::settle_later)
      (void)seg.settle();
      seg.publish_pack_state();
    });
    // Spread over the whole settle: 0-95 % of the last one's time into it.
    std::this_thread::sleep_for(
        std::chrono::duration<double, std::milli>(settles.back() * ((i * 7) % 20) / 20.0));
    edit(3 * i + 2);
    t0 = std::chrono::steady_clock::now();
    (void)seg.sync(/*publish=*/false);
    racing.push_back(ms_since(t0));
    settler.join();
  }
  std::sort(racing.begin(), racing.end());
  std::sort(alone.begin(), alone.end());
  std::sort(settles.begin(), settles.end());
  std::printf(
      "sync beside a preparing settle: median %.3f ms, max %.3f; alone: median %.3f, max %.3f (%d "
      "rounds); a settle after one edit: median %.3f ms\n",
      racing[racing.size() / 2], racing.back(), alone[alone.size() / 2], alone.back(), rounds,
      settles[settles.size() / 2]);
  return 0;
}

// BENCH_EDIT_ROUNDS: edit `file` (whose text was `text`) and search, round after round (`seg`
// watching).
int edit_loop(index::SegmentIndex& seg, const std::filesystem::path& file, const std::string& text,
              int rounds, int argc, char** argv) {
  std::size_t middle = 0;  // the start of the line in the middle of the file
  for (std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) / 2;
       lines > 0 && middle < text.size(); --lines)
    middle = text.find('\n', middle) + 1;
  // Indented as the line it goes before (a comment at column 0 inside a block is an ERROR to
  // tree-sitter-python's scanner, and the extraction's salvage then parses the file again).
  const std::string indent = text.substr(middle, text.find_first_not_of(" \t", middle) - middle);
  // Each run's edits are new texts: the skeleton cache's disk tier keeps those of earlier runs.
  const auto run = std::chrono::system_clock::now().time_since_epoch().count();
  int round = 0;
  double first_edit_ms = 0.0;  // the first round of the first query: the index's first edit
  const char* settle_env = std::getenv("BENCH_SETTLE_CG");
  const bool settle_cg = settle_env && std::string_view(settle_env) == "1";
  for (int q = 3; q < argc; ++q) {
    index::SearchOptions o;
    o.query = argv[q];
    const std::string label = std::string("edit: ") + argv[q];
    const std::string settle_label = std::string("settle: ") + argv[q];
    std::vector<double> both, sync_only;
    for (int i = 0; i <= rounds; ++i, ++round) {
      std::ofstream(file, std::ios::binary | std::ios::trunc)
          << text.substr(0, middle) << indent << "# bench_search_cg edit " << run << "-" << round
          << "\n"
          << text.substr(middle);
      if (i > 0) {
        CALLGRIND_START_INSTRUMENTATION;  // a run under --instr-atstart=no measures only this
        CALLGRIND_ZERO_STATS;
      }
      const auto t0 = std::chrono::steady_clock::now();
      const auto report = seg.sync(/*publish=*/false);
      const double synced = ms_since(t0);
      auto result = seg.search(o);
      const double total = ms_since(t0);
      if (i > 0) {
        CALLGRIND_DUMP_STATS_AT(label.c_str());
        CALLGRIND_STOP_INSTRUMENTATION;  // the settle runs natively fast, unmeasured
      }
      if (!result || report.reindexed != 1) {
        std::fprintf(stderr, "bench_search_cg: round %d: %s\n", round,
                     result ? "the edit was not applied" : result.error().message.c_str());
        return 1;
      }
      if (i > 0 && settle_cg) {
        CALLGRIND_START_INSTRUMENTATION;
        CALLGRIND_ZERO_STATS;
      }
      (void)seg.settle();
      if (i > 0 && settle_cg) {
        CALLGRIND_DUMP_STATS_AT(settle_label.c_str());
        CALLGRIND_STOP_INSTRUMENTATION;
      }
      if (i == 0) {
        if (q == 3) first_edit_ms = total;
        continue;
      }
      both.push_back(total);
      sync_only.push_back(synced);
    }
    std::sort(both.begin(), both.end());
    std::sort(sync_only.begin(), sync_only.end());
    std::printf(
        "%s\tedit + search median %.3f ms, sync %.3f ms (%d rounds; %llu incremental parses so "
        "far)\n",
        argv[q], both[both.size() / 2], sync_only[sync_only.size() / 2], rounds,
        static_cast<unsigned long long>(seg.skeletons().stats().incremental_parses));
  }
  std::printf("first edit + search %.3f ms\n", first_edit_ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_search_cg <tree> <repeat> <query>...\n");
    return 2;
  }
  // The settle race runs with the daemon's allocator settings (util/malloc_tune.hpp): every
  // block of 1 MiB or more mapped on its own, so a settle's large tables are fresh pages, faulted
  // in as they are first written — as in trifectad, where this costs the most.
  if (const char* race = std::getenv("BENCH_SETTLE_RACE"); race && std::atoi(race) > 0)
    util::tune_malloc();
  const int repeat = std::atoi(argv[2]);
  const char* evict_env = std::getenv("BENCH_EVICT_MB");
  std::vector<unsigned char> evict(evict_env ? static_cast<std::size_t>(std::atoi(evict_env)) << 20
                                             : 0);
  const char* rest_env = std::getenv("BENCH_REST_MS");
  const int rest_ms = rest_env ? std::atoi(rest_env) : 0;
  const bool rest_busy = std::getenv("BENCH_REST_SPIN") != nullptr;
  const char* rest_warm = std::getenv("BENCH_REST_WARM");  // a query searched after the rest
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
  std::vector<Restore> more;  // BENCH_EDIT's other files'
  more.reserve(4096);
  const char* edit_rounds_env = std::getenv("BENCH_EDIT_ROUNDS");
  const int edit_rounds = edit_rounds_env ? std::atoi(edit_rounds_env) : 0;
  if (const char* edit_env = std::getenv("BENCH_EDIT"); edit_env && *edit_env) {
    std::vector<std::string> edits;
    for (std::string_view rest = edit_env; !rest.empty();) {
      const std::size_t comma = rest.find(',');
      if (comma != 0) edits.emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    const std::string& edit = edits.at(0);
    restore.path = std::filesystem::path(argv[1]) / edit;
    std::ifstream in(restore.path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "bench_search_cg: cannot read %s\n", restore.path.c_str());
      restore.path.clear();
      return 1;
    }
    restore.text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    const char* race = std::getenv("BENCH_SETTLE_RACE");
    const int race_rounds = race ? std::atoi(race) : 0;
    if ((race_rounds > 0 || edit_rounds > 0) && edits.size() > 1) {
      std::fprintf(stderr,
                   "bench_search_cg: BENCH_EDIT_ROUNDS and BENCH_SETTLE_RACE edit one file\n");
      return 2;
    }
    if (race_rounds > 0 || edit_rounds > 0) {  // edits as the daemon sees them: the watcher's
      if (auto w = (*seg)->start_watching(); !w) {
        std::fprintf(stderr, "bench_search_cg: %s\n", w.error().message.c_str());
        return 1;
      }
      return race_rounds > 0
                 ? settle_race(**seg, restore.path, restore.text, race_rounds)
                 : edit_loop(**seg, restore.path, restore.text, edit_rounds, argc, argv);
    }
    for (std::size_t i = 1; i < edits.size(); ++i) {
      Restore& r = more.emplace_back();
      std::ifstream other(std::filesystem::path(argv[1]) / edits[i], std::ios::binary);
      if (!other) {
        std::fprintf(stderr, "bench_search_cg: cannot read %s\n", edits[i].c_str());
        more.pop_back();
        return 1;
      }
      r.text.assign(std::istreambuf_iterator<char>(other), std::istreambuf_iterator<char>());
      r.path = std::filesystem::path(argv[1]) / edits[i];
    }
    std::ofstream(restore.path, std::ios::binary | std::ios::app) << "\n# bench_search_cg edit\n";
    for (const Restore& r : more)
      std::ofstream(r.path, std::ios::binary | std::ios::app) << "\n# bench_search_cg edit\n";
    const auto t0 = std::chrono::steady_clock::now();
    const auto report = (*seg)->apply_changes(edits);
    std::fprintf(stderr,
                 "bench_search_cg: %s edited and applied (%zu files changed) in %.2f ms; not "
                 "settled\n",
                 edit_env, report.changed_files(), ms_since(t0));
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
      trifecta::bench::rest(rest_ms, rest_busy);
      if (rest_warm) {
        index::SearchOptions wo;
        wo.query = rest_warm;
        (void)(*seg)->search(wo);
      }
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
