// Benchmark of lib/index + lib/disclosure on a real tree (scripts/bench_index.sh copies the
// machine's Python standard library). Measures: raw tree-sitter parse of the same .py files and
// cold builds (interleaved round by round, CPU ratio per round), lib/ast's skeleton build alone,
// warm restart, in-process search latency vs `rg -l -i`, ctx.get latency per mode,
// skeleton vs raw bytes, RSS. Speed is measured, never asserted.
//
// Usage: bench_index <corpus-dir> [--phase all|rss-warm|rss-cold] [--threads N] [--rounds N]
//                    [--ast-sqlite on|off]
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_stats.hpp"
#include "lang/python/extractor.hpp"
#include "ast/skeleton_cache.hpp"
#include "disclosure/disclosure.hpp"
#include "index/segment_index.hpp"
#include "util/clock.hpp"
#include "workspace/file_list.hpp"
#include "workspace/file_reader.hpp"

extern char** environ;

using namespace trifecta::core;
using namespace trifecta::bench;
namespace fs = std::filesystem;

namespace {

long status_kb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::strlen(key)));
  }
  return -1;
}

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double run_rg(const std::string& word, const fs::path& dir) {
  std::vector<std::string> args = {"rg", "-l", "-i", "--", word, dir.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  Stopwatch sw;
  pid_t pid;
  if (posix_spawnp(&pid, "rg", &fa, nullptr, argv.data(), environ) != 0) return -1;
  int st = 0;
  waitpid(pid, &st, 0);
  posix_spawn_file_actions_destroy(&fa);
  return sw.elapsed_ms();
}

const std::vector<std::string> kQueries = {"json decode", "HTTPConnection", "parse_args", "thread pool executor",
                                           "tempfile", "utf8 encoding error", "socket timeout", "dataclass field",
                                           "regex compile", "subprocess Popen"};

bool g_persist_skeletons = true;

std::unique_ptr<index::SegmentIndex> open_seg(const fs::path& corpus, unsigned threads) {
  index::SegmentOptions so;
  so.persist_skeletons = g_persist_skeletons;
  so.threads = threads;
  so.use_git = false;
  auto s = index::SegmentIndex::open(corpus, so);
  if (!s) {
    std::fprintf(stderr, "open: %s\n", s.error().message.c_str());
    std::exit(1);
  }
  return std::move(*s);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_index <corpus> [--phase all|rss-warm|rss-cold] [--threads N] [--rounds N]\n");
    return 2;
  }
  const fs::path corpus = fs::canonical(argv[1]);
  std::string phase = "all";
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  int rounds = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--phase") phase = argv[i + 1];
    else if (k == "--threads") threads = static_cast<unsigned>(std::stoul(argv[i + 1]));
    else if (k == "--rounds") rounds = std::stoi(argv[i + 1]);
    else if (k == "--ast-sqlite") g_persist_skeletons = std::string(argv[i + 1]) != "off";
  }
  const fs::path cache = corpus / "_ctx" / "cache";

  if (phase == "rss-cold" || phase == "rss-warm") {
    if (phase == "rss-cold") fs::remove_all(cache);
    auto seg = open_seg(corpus, threads);
    auto b = seg->build();
    for (const auto& q : kQueries) {
      index::SearchOptions o;
      o.query = q;
      (void)seg->search(o);
    }
    std::printf("%s warm=%d rss_kb=%ld hwm_kb=%ld index_heap_bytes=%zu\n", phase.c_str(), b->warm ? 1 : 0,
                status_kb("VmRSS:"), status_kb("VmHWM:"), seg->status().memory_bytes);
    return 0;
  }

  // Corpus facts.
  workspace::FileReader reader(corpus);
  auto listing = workspace::list_files(corpus, workspace::PathFilter{}, workspace::ListOptions{false});
  std::size_t py_files = 0, py_bytes = 0, all_bytes = 0;
  std::vector<std::string> py_texts;
  for (const auto& f : listing->files) {
    auto c = reader.read(f, workspace::ReadPurpose::kIndex, nullptr);
    if (!c) continue;
    all_bytes += c->raw_bytes;
    if (f.size() > 3 && f.compare(f.size() - 3, 3, ".py") == 0) {
      ++py_files;
      py_bytes += c->raw_bytes;
      py_texts.push_back(std::move(c->text));
    }
  }
  std::printf("corpus: %zu files listed, %zu bytes; %zu .py files, %zu bytes; threads %u\n", listing->files.size(),
              all_bytes, py_files, py_bytes, threads);

  // Raw tree-sitter parse of the same .py files, same thread count (contents already in memory),
  // and cold builds (no index.bin, no ast.sqlite), interleaved round by round: on a shared machine
  // the CPU time of the same work drifts by tens of percent with the neighbours' load, and a parse
  // round next to a build round sees about the same conditions. The per-round ratio is reported
  // next to the ratio of the medians.
  std::vector<double> raw_ms, raw_cpu;
  std::vector<double> cold_ms, cold_cpu, cold_persist_ms, round_ratio;
  index::BuildReport cold{};
  for (int r = 0; r < rounds; ++r) {
    {
      const double c0 = cpu_ms();
      Stopwatch sw;
      std::atomic<std::size_t> next{0};
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
          for (std::size_t i; (i = next.fetch_add(1)) < py_texts.size();) (void)ast::raw_parse(py_texts[i]);
        });
      }
      for (auto& t : pool) t.join();
      raw_ms.push_back(sw.elapsed_ms());
      raw_cpu.push_back(cpu_ms() - c0);
    }
    {
      fs::remove_all(cache);
      const double c0 = cpu_ms();
      Stopwatch sw;
      auto seg = open_seg(corpus, threads);
      auto b = seg->build();
      cold_ms.push_back(sw.elapsed_ms());
      cold_cpu.push_back(cpu_ms() - c0);
      cold_persist_ms.push_back(b->persist_ms);
      cold = *b;
    }
    round_ratio.push_back(cold_cpu.back() / raw_cpu.back());
  }
  // Skeleton extraction alone (lib/ast's parallel builder, memory-only cache): the AST layer's
  // share of a cold build, reading the files itself.
  std::vector<double> skel_ms, skel_cpu;
  {
    std::vector<ast::BuildItem> items;
    for (const auto& f : listing->files) {
      if (f.size() > 3 && f.compare(f.size() - 3, 3, ".py") == 0) items.push_back({corpus / f, f});
    }
    for (int r = 0; r < rounds; ++r) {
      ast::CacheOptions co;
      co.emit_events = false;
      ast::SkeletonCache mem({}, telemetry::Channel{}, co);
      const double c0 = cpu_ms();
      Stopwatch sw;
      (void)ast::build_skeletons(mem, items, threads);
      skel_ms.push_back(sw.elapsed_ms());
      skel_cpu.push_back(cpu_ms() - c0);
    }
  }
  py_texts.clear();
  py_texts.shrink_to_fit();

  // Warm restarts.
  std::vector<double> warm_ms, warm_load_ms;
  index::BuildReport warm{};
  for (int r = 0; r < rounds + 2; ++r) {
    Stopwatch sw;
    auto seg = open_seg(corpus, threads);
    auto b = seg->build();
    warm_ms.push_back(sw.elapsed_ms());
    warm_load_ms.push_back(b->load_ms);
    warm = *b;
  }
  const double raw = median(raw_ms), coldm = median(cold_ms), warmm = median(warm_ms);
  std::printf("raw tree-sitter parse (.py only, in memory): median %.1f ms wall, %.1f ms CPU\n", raw, median(raw_cpu));
  std::printf("lib/ast skeleton build alone (.py only, reads files): median %.1f ms wall, %.1f ms CPU -> %.2f x raw parse (CPU)\n",
              median(skel_ms), median(skel_cpu), median(skel_cpu) / median(raw_cpu));
  std::printf("cold build: median %.1f ms wall (of which persist %.1f ms), %.1f ms CPU -> %.2f x raw parse wall, %.2f x CPU; files %zu indexed %zu skipped %zu chunks %zu\n",
              coldm, median(cold_persist_ms), median(cold_cpu), coldm / raw, median(cold_cpu) / median(raw_cpu),
              cold.files_listed, cold.files_indexed, cold.files_skipped, cold.chunks);
  std::printf("cold build / raw parse CPU, per interleaved round: median %.2f x (min %.2f, max %.2f)\n",
              median(round_ratio), *std::min_element(round_ratio.begin(), round_ratio.end()),
              *std::max_element(round_ratio.begin(), round_ratio.end()));
  std::printf("warm restart: median %.1f ms (load %.1f ms, list %.1f ms), files read %zu reused %zu -> %.1f %% of cold\n", warmm,
              median(warm_load_ms), warm.list_ms, warm.files_read, warm.files_reused, 100.0 * warmm / coldm);
  std::printf("index.bin: %ju bytes\n", static_cast<std::uintmax_t>(fs::file_size(cache / "index.bin")));

  auto seg = open_seg(corpus, threads);
  (void)seg->build();
  // Search vs rg.
  std::printf("\n| query | hits | top hit | search median ms | rg -l -i median ms | ratio |\n|---|---|---|---|---|---|\n");
  std::vector<double> all_search;
  std::vector<std::string> get_ids;
  for (const auto& q : kQueries) {
    index::SearchOptions o;
    o.query = q;
    o.limit = 10;
    std::vector<double> s, g;
    index::SearchResult last;
    for (int i = 0; i < 21; ++i) {
      Stopwatch sw;
      auto r = seg->search(o);
      s.push_back(sw.elapsed_ms());
      last = std::move(*r);
    }
    for (int i = 0; i < 5; ++i) g.push_back(run_rg(q, corpus));
    for (std::size_t i = 0; i < last.hits.size() && i < 5; ++i) get_ids.push_back(last.hits[i].chunk.id);
    const double sm = median(s), gm = median(g);
    all_search.push_back(sm);
    std::printf("| %s | %zu | %s | %.3f | %.1f | %.0fx |\n", q.c_str(), last.matched,
                last.hits.empty() ? "-" : last.hits[0].chunk.id.c_str(), sm, gm, gm / sm);
  }
  std::printf("search median over all queries: %.3f ms\n", median(all_search));

  // ctx.get per mode on the same chunks (top 5 hits of each query), one chunk per call.
  std::printf("\n| mode | get median ms (1 chunk) | total bytes returned (%zu chunks) |\n|---|---|---|\n", get_ids.size());
  std::size_t bytes_by_mode[3] = {0, 0, 0};
  for (auto m : {disclosure::Mode::kSkeleton, disclosure::Mode::kExcerpt, disclosure::Mode::kRaw}) {
    std::vector<double> lat;
    std::size_t bytes = 0;
    for (const auto& id : get_ids) {
      disclosure::GetRequest req;
      req.targets = {disclosure::Target::chunk(id)};
      req.mode = m;
      req.budget = disclosure::kMaxBudget;
      req.query = m == disclosure::Mode::kExcerpt ? "decode" : "";
      Stopwatch sw;
      auto r = disclosure::get(*seg, req);
      lat.push_back(sw.elapsed_ms());
      for (const auto& p : r->chunks) bytes += p.text.size();
    }
    bytes_by_mode[static_cast<int>(m)] = bytes;
    std::printf("| %s | %.3f | %zu |\n", std::string(disclosure::mode_name(m)).c_str(), median(lat), bytes);
  }
  std::printf("skeleton / raw bytes (search-hit chunks above): %.1f %%\n",
              100.0 * static_cast<double>(bytes_by_mode[0]) / static_cast<double>(bytes_by_mode[2]));
  // The same ratio over every chunk of every 10th .py file (a corpus-wide view).
  {
    std::size_t sk = 0, raw_b = 0, n = 0, files = 0;
    std::size_t k = 0;
    for (const auto& f : listing->files) {
      if (f.size() < 3 || f.compare(f.size() - 3, 3, ".py") != 0 || (k++ % 10) != 0) continue;
      ++files;
      for (const auto& c : seg->chunks_of(f)) {
        for (auto m : {disclosure::Mode::kSkeleton, disclosure::Mode::kRaw}) {
          disclosure::GetRequest req;
          req.targets = {disclosure::Target::chunk(c.id)};
          req.mode = m;
          req.budget = disclosure::kMaxBudget;
          auto r = disclosure::get(*seg, req);
          for (const auto& p : r->chunks) (m == disclosure::Mode::kSkeleton ? sk : raw_b) += p.text.size();
        }
        ++n;
      }
    }
    std::printf("skeleton / raw bytes (all %zu chunks of %zu .py files, every 10th): %zu / %zu = %.1f %%\n", n, files, sk,
                raw_b, 100.0 * static_cast<double>(sk) / static_cast<double>(raw_b));
  }
  std::printf("process after all phases: rss_kb=%ld hwm_kb=%ld\n", status_kb("VmRSS:"), status_kb("VmHWM:"));
  return 0;
}
