#include "segments.hpp"

#include "util/hash.hpp"
#include "util/paths.hpp"
#include "trifecta/proto/protocol.hpp"

namespace trifecta::daemon {

namespace json = boost::json;
using core::Errc;
using core::make_error;

core::Result<std::shared_ptr<Segment>> SegmentRegistry::open(const std::string& path) {
  if (path.empty()) return make_error(Errc::kInvalidArgument, "segment path is empty");
  if (!fs::path(path).is_absolute()) {
    return make_error(Errc::kInvalidArgument, "segment must be an absolute path: " + path);
  }
  auto canon = core::canonical_path(path);
  if (!canon) return std::move(canon).error();
  std::error_code ec;
  if (!fs::is_directory(*canon, ec)) return make_error(Errc::kInvalidArgument, "segment is not a directory: " + path);

  std::lock_guard lk(mu_);
  if (auto it = segments_.find(*canon); it != segments_.end()) return it->second;
  if (segments_.size() >= max_) {
    return make_error(Errc::kTooLarge, "too many open segments (" + std::to_string(max_) + ")");
  }
  auto seg = std::make_shared<Segment>();
  seg->root = *canon;
  seg->id = core::segment_id_of(canon->string());
  seg->telemetry = sink_.open_segment(*canon);
  seg->self = seg;
  core::index::SegmentOptions options;
  options.channel = seg->telemetry;
  auto index = core::index::SegmentIndex::open(*canon, options);
  if (!index) return std::move(index).error();
  seg->index = std::move(*index);
  segments_.emplace(*canon, seg);
  if (hook_) hook_(*seg);
  return seg;
}

std::vector<std::shared_ptr<Segment>> SegmentRegistry::list() const {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<Segment>> out;
  for (const auto& [_, s] : segments_) out.push_back(s);
  return out;
}

}  // namespace trifecta::daemon

namespace trifecta::daemon {

void SegmentRegistry::close_all() {
  std::lock_guard lk(mu_);
  for (auto& [_, s] : segments_) s->lsp.reset();  // kills and reaps each server's process group
}

}  // namespace trifecta::daemon

namespace trifecta::daemon {

std::string_view build_state_name(BuildState s) {
  switch (s) {
    case BuildState::kIdle: return "idle";
    case BuildState::kBuilding: return "building";
    case BuildState::kReady: return "ready";
    case BuildState::kFailed: return "failed";
  }
  return "idle";
}

std::uint64_t Segment::add_progress_listener(std::function<void(std::string)> notify) {
  if (!notify) return 0;
  std::lock_guard lk(progress_mu_);
  const std::uint64_t token = next_listener_++;
  progress_listeners_.emplace(token, std::move(notify));
  return token;
}

void Segment::remove_progress_listener(std::uint64_t token) {
  std::lock_guard lk(progress_mu_);
  progress_listeners_.erase(token);
}

void Segment::broadcast_progress(std::size_t done, std::size_t total) {
  std::lock_guard lk(progress_mu_);
  if (progress_listeners_.empty()) return;
  // At most ~10 notifications a second, plus the last one.
  const auto now = core::SteadyClock::now();
  if (done < total && now - last_progress_ < std::chrono::milliseconds(100)) return;
  last_progress_ = now;
  const std::string line = proto::encode_request(
      nullptr, "ctx.progress", json::object{{"segment_id", id}, {"done", done}, {"total", total}});
  for (auto& [_, fn] : progress_listeners_) fn(line);
}

}  // namespace trifecta::daemon

namespace trifecta::daemon {

core::navigation::SkeletonSymbolIndex& Segment::symbol_index() {
  std::lock_guard lk(symbols_mu_);
  if (!symbols_) {
    std::vector<std::string> py;
    if (auto listing = core::workspace::list_files(root, index->filter())) {
      for (auto& f : listing->files) {
        if (is_python_path(f)) py.push_back(std::move(f));
      }
    }
    symbols_ = std::make_unique<core::navigation::SkeletonSymbolIndex>(root, skeletons(), std::move(py));
  }
  return *symbols_;
}

void Segment::apply_changes(const core::index::ApplyReport& changes) {
  std::lock_guard lk(symbols_mu_);  // symbols_ not built yet: it will read the current files
  for (const auto& p : changes.changed_paths) {
    if (!is_python_path(p)) continue;
    if (lsp) lsp->did_change(root / p);  // the client opens the document if needed
    if (symbols_) (void)symbols_->update(p);
  }
  for (const auto& p : changes.removed_paths) {
    if (!is_python_path(p)) continue;
    if (lsp) lsp->did_close(root / p);
    if (symbols_) symbols_->remove(p);
  }
}

}  // namespace trifecta::daemon
