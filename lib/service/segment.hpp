// service/segment.hpp — one open segment: its index, Pyright client, AST symbol table, build state,
// progress listeners and memory estimate.
//
// A segment is a directory tree named by a request (`params.segment`). It is opened by the
// SegmentRegistry (service/registry.hpp) and lives as long as someone holds its shared_ptr: the
// registry while it is open, plus every in-flight request and build. Closing or evicting it only
// drops the registry's reference and stops its Pyright; requests already running finish normally.
// Keyed by canonical path; `id` = sha256(canonical path)[:8].
//
// Thread rules: `root`, `id`, `telemetry`, `index`, `lsp`, `lsp_server`, `lsp_unavailable` are set
// before the segment becomes visible (by the registry and its open hook) and are read-only after.
// The build fields are guarded by `build_mu` (use the accessors). SegmentIndex, lsp::Client and
// the symbol table are thread-safe. Progress listeners have their own mutex.
// Failure behaviour: nothing here throws; a failed build or a failed watcher start is recorded in
// the build state (see BuildInfo) and reported by `ctx status` / `status`.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ast/skeleton_cache.hpp"
#include "index/segment_index.hpp"
#include "lang/language.hpp"
#include "lang/python/layout.hpp"
#include "lsp/client.hpp"
#include "lang/python/symbol_index.hpp"
#include "selector/resolver.hpp"
#include "telemetry/sink.hpp"
#include "util/clock.hpp"

namespace trifecta::core::service {

namespace fs = std::filesystem;

// True for a path the Python language claims (lang/language.hpp: the files Pyright and the AST
// fallback care about).
inline bool is_python_path(std::string_view p) { return lang::language_for_path(p) == &lang::python_language(); }

enum class BuildState { kIdle, kBuilding, kReady, kFailed };
std::string_view build_state_name(BuildState s);  // "idle" | "building" | "ready" | "failed"

// A consistent copy of a segment's build fields.
struct BuildInfo {
  BuildState state = BuildState::kIdle;
  std::string error;  // why the last build failed ("" otherwise)
  std::string
      watcher_error;  // why the file watcher could not start ("" when watching or not tried)
  std::optional<index::BuildReport> last_build;
};

// What an open segment costs, in bytes (estimates except `lsp_rss`).
struct SegmentMemory {
  std::uint64_t index = 0;      // SegmentIndex::Status::memory_bytes
  std::uint64_t skeletons = 0;  // skeleton cache memory tier: entries × kSkeletonEntryEstimate,
                                // and its kept parses: text × (1 + ast::kParseTreeBytesPerTextByte)
  std::uint64_t symbols =
      0;  // AST symbol table: definitions × kSymbolEntryEstimate (0 before first use)
  std::uint64_t lsp_rss = 0;  // the Pyright process group's resident memory (0 when not running)
  std::uint64_t total() const { return index + skeletons + symbols + lsp_rss; }
};
inline constexpr std::uint64_t kSkeletonEntryEstimate = 2048;
inline constexpr std::uint64_t kSymbolEntryEstimate = 192;

class Segment {
 public:
  Segment() = default;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  fs::path root;  // canonical
  std::string id;
  telemetry::Channel telemetry;
  SteadyClock::time_point opened_at = SteadyClock::now();
  std::atomic<std::int64_t> requests{0};
  std::weak_ptr<Segment> self;  // for work that must keep the segment alive

  // The context index: files, chunks, watcher, persistence; it owns the segment's SkeletonCache
  // (<root>/_ctx/cache/ast.sqlite). Thread-safe.
  std::unique_ptr<index::SegmentIndex> index;
  ast::SkeletonCache& skeletons() { return index->skeletons(); }

  // The segment's Pyright (thread-safe; callbacks on the I/O thread). Null when the server is
  // disabled or not installed: `lsp_unavailable` says why. Set once by the open hook. It shuts
  // itself down after its own idle time (lsp::ClientOptions::idle_timeout → COLD) and warms up
  // again on the next request.
  std::unique_ptr<lsp::Client> lsp;
  lsp::ServerBinary lsp_server;
  std::string lsp_unavailable;

  // How the segment's Python code is laid out (package root, src/, declared package dirs),
  // detected once when the segment opens (lang/python/layout.hpp). It feeds Pyright's extraPaths
  // (the open hook), sym:// module names (resolver_options) and the `layout` facts and warning of
  // lsp.status and every lsp.* answer. Immutable after open.
  lang::python::Layout layout;
  // The selector's options for this segment: the layout's package prefix and source roots.
  selector::ResolverOptions resolver_options() const;

  // The AST fallback's segment-wide symbol table, built on first use from the segment's Python
  // files and kept current by apply_changes(). Thread-safe.
  navigation::SkeletonSymbolIndex& symbol_index();
  // Propagate index changes (from a watcher sync) to Pyright's documents and the symbol table.
  void apply_changes(const index::ApplyReport& changes);

  // Build state (see service/build.hpp for the lifecycle that drives it).
  BuildInfo build_info() const;
  BuildState build_state_snapshot() const;

  // Progress listeners: called with (done, total) while a build runs, at most ~10 times a second
  // plus the last call. Listeners run on the building thread; they must be quick.
  using ProgressFn = std::function<void(std::size_t done, std::size_t total)>;
  std::uint64_t add_progress_listener(ProgressFn notify);  // 0 (and nothing added) for an empty fn
  void remove_progress_listener(std::uint64_t token);
  void broadcast_progress(std::size_t done, std::size_t total);

  SegmentMemory memory() const;
  std::uint64_t memory_bytes() const { return memory().total(); }

  // LRU bookkeeping (the registry's): steady-clock nanoseconds of the last open() that returned it.
  void touch() {
    last_used_ns_.store(SteadyClock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }
  std::int64_t last_used_ns() const { return last_used_ns_.load(std::memory_order_relaxed); }

 private:
  friend class Service;  // drives the build fields (service/service.hpp)
  mutable std::mutex build_mu_;
  BuildInfo build_;
  std::vector<std::function<void()>> build_waiters_;

  std::mutex progress_mu_;
  std::map<std::uint64_t, ProgressFn> progress_listeners_;
  std::uint64_t next_listener_ = 1;
  SteadyClock::time_point last_progress_{};

  mutable std::mutex symbols_mu_;  // guards creating symbols_ against apply_changes
  std::unique_ptr<navigation::SkeletonSymbolIndex> symbols_;

  // The background apply (Service::watch_changes): whether its chain of waits runs, and how to
  // cancel the wait pending on a copy of the watcher's descriptor (the destructor does, so no
  // inotify instance outlives the segment).
  std::atomic<bool> watching_changes_{false};
  std::mutex watch_mu_;
  std::function<void()> cancel_watch_;
  // Installs `next` as the pending wait's cancel; returns the one it replaces (under watch_mu_).
  std::function<void()> exchange_watch_cancel(std::function<void()> next);

  std::atomic<std::int64_t> last_used_ns_{0};
};

}  // namespace trifecta::core::service
