#include "segments.hpp"

#include "util/hash.hpp"
#include "util/paths.hpp"

namespace trifecta::daemon {

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
  seg->skeletons = std::make_unique<core::ast::SkeletonCache>(core::ast::SkeletonCache::default_file(*canon),
                                                              seg->telemetry);
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
