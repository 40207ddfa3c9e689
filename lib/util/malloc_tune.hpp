// util/malloc_tune.hpp — glibc malloc settings for a process that lives for days and builds
// indexes of tens of megabytes: what trifectad sets first thing in main(), and what benchmarks
// that model the daemon's memory behaviour (bench_search_cg's settle race) set too.
//
// By default glibc adapts its mmap threshold: freeing an mmapped block raises the threshold to
// that block's size (up to 32 MiB) and the trim threshold to twice it (64 MiB). A cold build frees
// blocks of 20–35 MB (the posting tail, the grouping vector), so from then on every block below
// ~32 MiB comes from a thread's arena, and no arena gives memory back to the system until 64 MiB
// at its top are free; malloc_trim does not trim a thread arena's top either. Each `ctx build
// --rebuild` (or a config change, or a big sync) then left its transient memory resident: three
// rebuilds of the stdlib demo tree took the daemon from 64 to 125 MB of anonymous memory with the
// same 55 MB in use. Fixed thresholds (which also turn the adaptation off) keep blocks of 1 MiB
// and more in their own mappings, returned when freed, and trim an arena once 1 MiB at its top is
// free: the same three rebuilds end at 72 MB (docs/benchmarks.md, "Daemon memory over rebuilds").
// The price: such a block is fresh pages, faulted in as it is first written (a settle's tables;
// docs/benchmarks.md, "An edit during the previous edit's settle: no wait").
//
// Thread rules: call once, before other threads allocate. Failure behaviour: none (a setting
// glibc refuses is left at its default); a no-op without glibc.
#pragma once

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace trifecta::core::util {

inline void tune_malloc() {
#ifdef __GLIBC__
  constexpr int kThreshold = 1 << 20;
  (void)::mallopt(M_MMAP_THRESHOLD, kThreshold);
  (void)::mallopt(M_TRIM_THRESHOLD, kThreshold);
#endif
}

}  // namespace trifecta::core::util
