// What a rest costs the memory a process touches, with nothing of Trifecta in it: the control
// for the searches timed after a rest (scripts/bench_search_scale.sh IDLE=S, bench_search_cg
// BENCH_REST_MS). A buffer of N MiB is touched one byte per 4 KiB page, back to back and again
// after REST ms of sleep, in ROUNDS rounds; once in ordinary pages and once advised into
// transparent huge pages (MADV_HUGEPAGE, 2 MiB-aligned). A rest costs such a walk the cache and
// TLB entries other work took meanwhile, and on a VM whose host takes an idle guest's memory
// mappings away also a host fault per page; busy waiting instead of sleeping (BENCH_REST_SPIN)
// tells the two apart — docs/benchmarks.md, "What a rest costs: time, not idleness".
//
// Usage: bench_rest_pages [REST_MS] [ROUNDS] [MIB]...   (defaults 1000, 10, 4 16 64)
// BENCH_REST_SPIN=1: spend the rest in a busy loop instead of asleep (the vCPU never idles).
// Prints one JSON line per size and page kind: medians of the back-to-back and the rested walks,
// and the huge pages the buffer got (AnonHugePages of its mapping; 0 when THP is off).
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "bench_stats.hpp"

namespace {

constexpr std::size_t kPage = 4096;
constexpr std::size_t kHuge = std::size_t{2} << 20;

// One read per 4 KiB page; the sum keeps the loads.
double walk(const unsigned char* p, std::size_t bytes, std::uint64_t& sink) {
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < bytes; i += kPage) sum += p[i];
  sink += sum;
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// AnonHugePages of the mappings within [start, start + bytes), in KiB (/proc/self/smaps).
long huge_kib(const void* start, std::size_t bytes) {
  const auto lo = reinterpret_cast<std::uintptr_t>(start);
  const std::uintptr_t hi = lo + bytes;
  std::ifstream smaps("/proc/self/smaps");
  bool in = false;
  long kib = 0;
  for (std::string line; std::getline(smaps, line);) {
    unsigned long a = 0, b = 0;
    char dash = 0;
    if (std::sscanf(line.c_str(), "%lx%c%lx ", &a, &dash, &b) == 3 && dash == '-') {
      in = a < hi && b > lo;
      continue;
    }
    if (in && line.rfind("AnonHugePages:", 0) == 0) kib += std::atol(line.c_str() + 14);
  }
  return kib;
}

volatile std::uint64_t g_sink;  // keeps the walks' loads

}  // namespace

int main(int argc, char** argv) {
  const int rest_ms = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 10;
  std::vector<std::size_t> sizes;
  for (int i = 3; i < argc; ++i) sizes.push_back(static_cast<std::size_t>(std::atol(argv[i])));
  if (sizes.empty()) sizes = {4, 16, 64};
  const bool spin = std::getenv("BENCH_REST_SPIN") != nullptr;
  std::uint64_t sink = 0;
  for (const std::size_t mib : sizes) {
    for (const bool huge : {false, true}) {
      const std::size_t bytes = mib << 20;
      // 2 MiB-aligned, so that advised memory can be backed by whole huge pages.
      void* raw = ::mmap(nullptr, bytes + kHuge, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (raw == MAP_FAILED) {
        std::perror("bench_rest_pages: mmap");
        return 1;
      }
      auto* p = reinterpret_cast<unsigned char*>(
          (reinterpret_cast<std::uintptr_t>(raw) + kHuge - 1) & ~(kHuge - 1));
      if (huge) (void)::madvise(p, bytes, MADV_HUGEPAGE);
      for (std::size_t i = 0; i < bytes; i += kPage) p[i] = 1;
      std::vector<double> hot, rested;
      for (int r = 0; r < rounds; ++r) {
        (void)walk(p, bytes, sink);
        hot.push_back(walk(p, bytes, sink));
        trifecta::bench::rest(rest_ms, spin);
        rested.push_back(walk(p, bytes, sink));
      }
      std::printf(
          "{\"mib\": %zu, \"pages\": \"%s\", \"rest\": \"%s\", \"rest_ms\": %d, \"rounds\": %d, "
          "\"hot_ms\": %.3f, \"rested_ms\": %.3f, \"anon_huge_kib\": %ld}\n",
          mib, huge ? "huge-advised" : "4k", spin ? "spin" : "sleep", rest_ms, rounds,
          trifecta::bench::median(hot), trifecta::bench::median(rested), huge_kib(p, bytes));
      std::fflush(stdout);
      ::munmap(raw, bytes + kHuge);
    }
  }
  g_sink = sink;
  return 0;
}
