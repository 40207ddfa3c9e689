// service/registry.hpp — the open segments: open (outside the lock), lookup, close, LRU eviction.
//
// `open(path)` canonicalises the path, then under the registry mutex either returns the open
// segment, joins an open already under way for the same path (waiting on its shared future
// outside the lock), or inserts an "opening" entry and releases the mutex. The segment is then
// opened outside the lock (SegmentIndex::open, which checks the SQLite caches, and the open hook,
// which attaches Pyright and starts the build), so a slow open of one tree never stalls requests
// for other segments. Only when the open finished is the segment visible to list()/find().
//
// Bound: at most `max_segments` entries (open + opening). Opening one more evicts the least
// recently used *idle* segment (idle = nothing but the registry holds it and it is not building);
// when every segment is busy the open fails with kTooLarge. Evicted and closed segments stop
// their Pyright (graceful `stop`), flush their index, and leave the registry; requests still
// holding the shared_ptr finish on it, and it is destroyed when the last one lets go.
//
// Thread rules: every member function is thread-safe. The mutex is held for map access only,
// never across I/O or hooks. Hooks run on the thread that called open()/close().
// Failure behaviour: open() returns kInvalidArgument (empty, holds a NUL byte, relative, not a
// directory),
// kNotFound, kTooLarge (full and nothing idle to evict), or the error of SegmentIndex::open;
// a failed open leaves no entry behind (the next open tries again). An exception from the open
// hook is turned into kInternal for every waiter and rethrown to the opener.
#pragma once

#include <cstddef>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "service/segment.hpp"
#include "telemetry/sink.hpp"
#include "util/result.hpp"

namespace trifecta::core::service {

struct CloseResult {
  bool closed = false;     // false: no such segment was open
  std::string segment_id;  // of the named segment (computed from the path when it was not open)
};

class SegmentRegistry {
 public:
  static constexpr std::size_t kDefaultMaxSegments = 16;

  SegmentRegistry(telemetry::Sink& sink, std::size_t max_segments = kDefaultMaxSegments)
      : sink_(sink), max_(max_segments == 0 ? 1 : max_segments) {}
  SegmentRegistry(const SegmentRegistry&) = delete;
  SegmentRegistry& operator=(const SegmentRegistry&) = delete;

  Result<std::shared_ptr<Segment>> open(const std::string& path);
  // The open segment named by an absolute path or a segment id; null when none is open (an
  // opening segment is not found until its open finished). Does not count as a use for the LRU.
  std::shared_ptr<Segment> find(std::string_view path_or_id) const;
  // Open segments (not the ones still opening), ordered by canonical path.
  std::vector<std::shared_ptr<Segment>> list() const;
  // Close the open segment named by an absolute path or an id (waits for an open under way).
  Result<CloseResult> close(std::string_view path_or_id);
  // Drop every segment: stops their Pyright (destroys the clients, killing the process groups).
  // Call before the I/O loop the clients live on goes away.
  void close_all();

  // Runs once per segment, outside the registry lock, after its index opened and before any
  // other request sees it: attaches per-segment services (Pyright, the index build). Should start
  // asynchronous work rather than wait for it (concurrent opens of the same path wait for it).
  // Set before serving starts.
  using OpenHook = std::function<void(Segment&)>;
  void set_open_hook(OpenHook hook) { hook_ = std::move(hook); }

  std::size_t max_segments() const { return max_; }
  std::uint64_t evictions() const;

 private:
  using Opened = Result<std::shared_ptr<Segment>>;
  struct Entry {
    std::shared_ptr<Segment> segment;    // set once open
    std::shared_future<Opened> opening;  // valid while opening
  };
  Opened open_new(const fs::path& canon);
  std::map<fs::path, Entry>::const_iterator find_locked(std::string_view path_or_id) const;
  // Stop a segment that just left the map (outside the lock).
  void retire(const std::shared_ptr<Segment>& seg, std::string_view reason);

  telemetry::Sink& sink_;
  std::size_t max_;
  mutable std::mutex mu_;
  std::map<fs::path, Entry> segments_;
  std::uint64_t evictions_ = 0;
  OpenHook hook_;
};

}  // namespace trifecta::core::service
