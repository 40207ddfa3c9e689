#include "service/registry.hpp"

#include <exception>

#include "util/hash.hpp"
#include "util/paths.hpp"

namespace trifecta::core::service {

namespace json = boost::json;

namespace {

// Only the registry holds it, and no build is running: it may be evicted.
bool idle(const std::shared_ptr<Segment>& seg) {
  return seg.use_count() == 1 && seg->build_state_snapshot() != BuildState::kBuilding;
}

}  // namespace

Result<std::shared_ptr<Segment>> SegmentRegistry::open(const std::string& path) {
  if (path.empty()) return make_error(Errc::kInvalidArgument, "segment path is empty");
  // A NUL would end the path at the syscall: "/a\0/b" must not quietly open "/a".
  if (path.find('\0') != std::string::npos) {
    return make_error(Errc::kInvalidArgument, "segment path contains a NUL byte");
  }
  if (!fs::path(path).is_absolute()) {
    return make_error(Errc::kInvalidArgument, "segment must be an absolute path: " + path);
  }
  auto canon = canonical_path(path);
  if (!canon) return std::move(canon).error();
  std::error_code ec;
  if (!fs::is_directory(*canon, ec))
    return make_error(Errc::kInvalidArgument, "segment is not a directory: " + path);

  std::shared_future<Opened> pending;
  std::shared_ptr<Segment> victim;
  std::promise<Opened> promise;
  {
    std::lock_guard lk(mu_);
    if (auto it = segments_.find(*canon); it != segments_.end()) {
      if (it->second.segment) {
        it->second.segment->touch();
        return it->second.segment;
      }
      pending = it->second.opening;
    } else {
      if (segments_.size() >= max_) {
        auto lru = segments_.end();
        for (auto i = segments_.begin(); i != segments_.end(); ++i) {
          const auto& s = i->second.segment;
          if (!s || !idle(s)) continue;
          if (lru == segments_.end() || s->last_used_ns() < lru->second.segment->last_used_ns())
            lru = i;
        }
        if (lru == segments_.end()) {
          return make_error(Errc::kTooLarge,
                            "too many open segments (" + std::to_string(max_) +
                                "), and none is idle to make room; close one with segment.close");
        }
        victim = std::move(lru->second.segment);
        segments_.erase(lru);
        ++evictions_;
      }
      segments_.emplace(*canon, Entry{nullptr, promise.get_future().share()});
    }
  }
  if (pending.valid()) return pending.get();  // another thread is opening it: wait outside the lock
  if (victim) retire(victim, "evicted");

  Opened result = make_error(Errc::kInternal, "segment open did not complete");
  try {
    result = open_new(*canon);
  } catch (const std::exception& ex) {
    result = make_error(Errc::kInternal, std::string("segment open failed: ") + ex.what());
    {
      std::lock_guard lk(mu_);
      segments_.erase(*canon);
    }
    promise.set_value(result);
    throw;
  }
  {
    std::lock_guard lk(mu_);
    auto it = segments_.find(*canon);
    if (result && it != segments_.end()) {
      it->second.segment = *result;
      it->second.opening = {};
    } else if (it != segments_.end()) {
      segments_.erase(it);
    }
  }
  promise.set_value(result);
  return result;
}

SegmentRegistry::Opened SegmentRegistry::open_new(const fs::path& canon) {
  auto seg = std::make_shared<Segment>();
  seg->root = canon;
  seg->id = segment_id_of(canon.string());
  seg->telemetry = sink_.open_segment(canon);
  seg->self = seg;
  seg->touch();
  index::SegmentOptions options;
  options.channel = seg->telemetry;
  auto index = index::SegmentIndex::open(canon, options);
  if (!index) return std::move(index).error();
  seg->index = std::move(*index);
  seg->layout = lang::python::detect_layout(canon);
  if (hook_) hook_(*seg);
  return seg;
}

std::map<fs::path, SegmentRegistry::Entry>::const_iterator SegmentRegistry::find_locked(
    std::string_view path_or_id) const {
  if (!path_or_id.empty() && path_or_id.front() == '/') {
    if (auto it = segments_.find(fs::path(path_or_id)); it != segments_.end()) return it;
    if (auto canon = canonical_path(std::string(path_or_id))) return segments_.find(*canon);
    return segments_.end();
  }
  for (auto it = segments_.begin(); it != segments_.end(); ++it) {
    if (it->second.segment && it->second.segment->id == path_or_id) return it;
  }
  return segments_.end();
}

std::shared_ptr<Segment> SegmentRegistry::find(std::string_view path_or_id) const {
  std::lock_guard lk(mu_);
  auto it = find_locked(path_or_id);
  return it == segments_.end() ? nullptr : it->second.segment;
}

std::vector<std::shared_ptr<Segment>> SegmentRegistry::list() const {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<Segment>> out;
  for (const auto& [_, e] : segments_) {
    if (e.segment) out.push_back(e.segment);
  }
  return out;
}

Result<CloseResult> SegmentRegistry::close(std::string_view path_or_id) {
  if (path_or_id.empty()) return make_error(Errc::kInvalidArgument, "segment is empty");
  CloseResult r;
  std::shared_ptr<Segment> seg;
  std::shared_future<Opened> pending;
  {
    std::lock_guard lk(mu_);
    auto it = find_locked(path_or_id);
    if (it != segments_.end() && !it->second.segment) {
      pending = it->second.opening;
    } else if (it != segments_.end()) {
      seg = it->second.segment;
      segments_.erase(it);
    }
  }
  if (pending.valid()) {
    (void)pending.wait();  // closing a segment that is opening: let the open finish first
    return close(path_or_id);
  }
  if (seg) {
    r.closed = true;
    r.segment_id = seg->id;
    retire(seg, "closed");
  } else if (path_or_id.front() == '/') {
    auto canon = canonical_path(std::string(path_or_id));
    r.segment_id = segment_id_of(canon ? canon->string() : std::string(path_or_id));
  } else {
    r.segment_id = std::string(path_or_id);
  }
  return r;
}

void SegmentRegistry::retire(const std::shared_ptr<Segment>& seg, std::string_view reason) {
  if (seg->lsp) seg->lsp->stop();  // graceful; in-flight LSP requests fail over to the AST
  if (seg->index) seg->index->persist_if_dirty();
  (void)seg->telemetry.event("segment.close", {},
                             json::object{{"reason", reason},
                                          {"requests", seg->requests.load()},
                                          {"memory_bytes", seg->memory_bytes()}},
                             0);
}

void SegmentRegistry::close_all() {
  std::map<fs::path, Entry> all;
  {
    std::lock_guard lk(mu_);
    for (auto it = segments_.begin(); it != segments_.end();) {
      if (it->second.segment) {
        all.insert(segments_.extract(it++));
      } else {
        ++it;
      }
    }
  }
  for (auto& [_, e] : all) e.segment->lsp.reset();  // kills and reaps each server's process group
}

std::uint64_t SegmentRegistry::evictions() const {
  std::lock_guard lk(mu_);
  return evictions_;
}

}  // namespace trifecta::core::service
