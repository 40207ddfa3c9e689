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
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ast/skeleton_cache.hpp"
#include "lsp/client.hpp"
#include "telemetry/sink.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace trifecta::daemon {

namespace fs = std::filesystem;

struct Segment {
  fs::path root;  // canonical
  std::string id;
  core::telemetry::Channel telemetry;
  core::SteadyClock::time_point opened_at = core::SteadyClock::now();
  std::atomic<std::int64_t> requests{0};
  // Python skeletons, persisted at <root>/_ctx/cache/ast.sqlite (thread-safe).
  std::unique_ptr<core::ast::SkeletonCache> skeletons;
  // The segment's Pyright (thread-safe; callbacks on the I/O thread). Null when the server is
  // disabled or not installed: `lsp_unavailable` says why. Set once by the open hook.
  std::unique_ptr<core::lsp::Client> lsp;
  core::lsp::ServerBinary lsp_server;
  std::string lsp_unavailable;
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
