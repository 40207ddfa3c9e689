// daemon/segments.hpp — the registry of open segments.
//
// A segment is opened the first time a request names it (params.segment, any directory) and stays
// open for the daemon's life. Each segment owns its telemetry channel; later modules (index,
// skeleton cache, Pyright supervisor) hang off `Segment` too. Segments are keyed by canonical path;
// `segment_id` = sha256(canonical path)[:8].
//
// Thread rules: SegmentRegistry is thread-safe (one mutex, held only for map access); Segment's
// mutable fields are atomics. Segments are shared_ptr so handlers can keep one while others open.
// Failure: open() returns kNotFound / kInvalidArgument (not a directory) / kTooLarge (registry full).
#pragma once

#include <atomic>
#include <functional>
#include <filesystem>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ast/skeleton_cache.hpp"
#include "index/segment_index.hpp"
#include "lsp/client.hpp"
#include "navigation/symbol_index.hpp"
#include "telemetry/sink.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace trifecta::daemon {

namespace fs = std::filesystem;

// True for a `.py` path (the files Pyright and the AST fallback care about).
inline bool is_python_path(std::string_view p) { return p.size() > 3 && p.substr(p.size() - 3) == ".py"; }

enum class BuildState { kIdle, kBuilding, kReady, kFailed };
std::string_view build_state_name(BuildState s);  // "idle" | "building" | "ready" | "failed"

struct Segment {
  fs::path root;  // canonical
  std::string id;
  core::telemetry::Channel telemetry;
  core::SteadyClock::time_point opened_at = core::SteadyClock::now();
  std::atomic<std::int64_t> requests{0};
  std::weak_ptr<Segment> self;  // for work that must keep the segment alive

  // The context index: files, chunks, watcher, persistence; it owns the segment's SkeletonCache
  // (<root>/_ctx/cache/ast.sqlite). Thread-safe.
  std::unique_ptr<core::index::SegmentIndex> index;
  core::ast::SkeletonCache& skeletons() { return index->skeletons(); }

  // Build state (guarded by build_mu).
  mutable std::mutex build_mu;
  BuildState build_state = BuildState::kIdle;
  std::string build_error;
  std::optional<core::index::BuildReport> last_build;
  std::vector<std::string> build_warnings;
  std::vector<std::function<void()>> build_waiters;
  BuildState build_state_snapshot() const {
    std::lock_guard lk(build_mu);
    return build_state;
  }

  // Progress listeners: connections that asked for `ctx.progress` notifications while a build runs.
  std::uint64_t add_progress_listener(std::function<void(std::string)> notify);
  void remove_progress_listener(std::uint64_t token);
  void broadcast_progress(std::size_t done, std::size_t total);

  // The segment's Pyright (thread-safe; callbacks on the I/O thread). Null when the server is
  // disabled or not installed: `lsp_unavailable` says why. Set once by the open hook.
  std::unique_ptr<core::lsp::Client> lsp;
  core::lsp::ServerBinary lsp_server;
  std::string lsp_unavailable;
  // The AST fallback's segment-wide symbol table, built on first use from the segment's Python
  // files and kept current by apply_changes(). Thread-safe.
  core::navigation::SkeletonSymbolIndex& symbol_index();
  // Propagate index changes (from a watcher sync) to Pyright's documents and the symbol table.
  void apply_changes(const core::index::ApplyReport& changes);

 private:
  std::mutex progress_mu_;
  std::map<std::uint64_t, std::function<void(std::string)>> progress_listeners_;
  std::mutex symbols_mu_;  // guards creating symbols_ against apply_changes
  std::unique_ptr<core::navigation::SkeletonSymbolIndex> symbols_;
  std::uint64_t next_listener_ = 1;
  core::SteadyClock::time_point last_progress_{};
};
class SegmentRegistry {
 public:
  SegmentRegistry(core::telemetry::Sink& sink, std::size_t max_segments)
      : sink_(sink), max_(max_segments) {}

  core::Result<std::shared_ptr<Segment>> open(const std::string& path);
  std::vector<std::shared_ptr<Segment>> list() const;

  // Called once per segment, under the registry lock, right after it is created (before any
  // request sees it): attaches per-segment services (Pyright, the index build). Must be quick —
  // start asynchronous work, never wait for it. Set before serving starts.
  using OpenHook = std::function<void(Segment&)>;
  void set_open_hook(OpenHook hook) { hook_ = std::move(hook); }
  // Tear down per-segment services (stops the Pyright processes) before the I/O loop goes away.
  void close_all();

 private:
  core::telemetry::Sink& sink_;
  std::size_t max_;
  mutable std::mutex mu_;
  std::map<fs::path, std::shared_ptr<Segment>> segments_;
  OpenHook hook_;
};

}  // namespace trifecta::daemon
