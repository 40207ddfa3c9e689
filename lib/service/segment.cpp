#include "service/segment.hpp"

#include <utility>

#include "workspace/file_list.hpp"

namespace trifecta::core::service {

std::string_view build_state_name(BuildState s) {
  switch (s) {
    case BuildState::kIdle:
      return "idle";
    case BuildState::kBuilding:
      return "building";
    case BuildState::kReady:
      return "ready";
    case BuildState::kFailed:
      return "failed";
  }
  return "idle";
}

Segment::~Segment() {
  if (auto cancel = exchange_watch_cancel({})) cancel();
}

std::function<void()> Segment::exchange_watch_cancel(std::function<void()> next) {
  std::lock_guard lk(watch_mu_);
  return std::exchange(cancel_watch_, std::move(next));
}

BuildInfo Segment::build_info() const {
  std::lock_guard lk(build_mu_);
  return build_;
}

BuildState Segment::build_state_snapshot() const {
  std::lock_guard lk(build_mu_);
  return build_.state;
}

std::uint64_t Segment::add_progress_listener(ProgressFn notify) {
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
  const auto now = SteadyClock::now();
  if (done < total && now - last_progress_ < std::chrono::milliseconds(100)) return;
  last_progress_ = now;
  for (auto& [_, fn] : progress_listeners_) fn(done, total);
}

navigation::SkeletonSymbolIndex& Segment::symbol_index() {
  std::lock_guard lk(symbols_mu_);
  if (!symbols_) {
    std::vector<std::string> py;
    if (auto listing = workspace::list_files(root, index->filter())) {
      for (auto& f : listing->files) {
        if (is_python_path(f)) py.push_back(std::move(f));
      }
    }
    symbols_ = std::make_unique<navigation::SkeletonSymbolIndex>(root, skeletons(), std::move(py));
  }
  return *symbols_;
}

void Segment::apply_changes(const index::ApplyReport& changes) {
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

SegmentMemory Segment::memory() const {
  SegmentMemory m;
  if (index) {
    m.index = index->memory_bytes();
    const auto cache = index->skeletons().stats();
    m.skeletons = cache.memory_entries * kSkeletonEntryEstimate +
                  cache.parse_memo_bytes * (1 + ast::kParseTreeBytesPerTextByte);
  }
  {
    std::lock_guard lk(symbols_mu_);
    if (symbols_) m.symbols = symbols_->definition_count() * kSymbolEntryEstimate;
  }
  if (lsp) m.lsp_rss = lsp->status().rss_bytes;
  return m;
}

selector::ResolverOptions Segment::resolver_options() const {
  selector::ResolverOptions o;
  o.package_prefix = layout.package;
  for (const auto& r : layout.source_roots) o.source_roots.push_back(r);
  return o;
}

}  // namespace trifecta::core::service
