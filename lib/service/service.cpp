#include "service/service.hpp"

#include <boost/json.hpp>

namespace trifecta::core::service {

namespace json = boost::json;

Service::Service(telemetry::Sink& sink, Executor& executor, ServiceOptions options)
    : executor_(executor), options_(std::move(options)), registry_(sink, options_.max_segments) {
  registry_.set_open_hook([this](Segment& seg) {
    if (options_.on_open) options_.on_open(seg);
    if (options_.build_on_open) ensure_built(seg, {});
  });
}

void Service::ensure_built(Segment& seg, std::function<void()> then) {
  std::unique_lock lk(seg.build_mu_);
  if (seg.build_.state == BuildState::kReady) {
    lk.unlock();
    if (then) then();
    return;
  }
  if (then) seg.build_waiters_.push_back(std::move(then));
  if (seg.build_.state == BuildState::kBuilding) return;
  seg.build_.state = BuildState::kBuilding;
  seg.build_.error.clear();
  lk.unlock();
  auto keep = seg.self.lock();  // the build keeps its segment alive
  build_executor().post([this, keep] { run_build(keep); });
}

void Service::run_build(const std::shared_ptr<Segment>& s) {
  auto progress = [s](std::size_t done, std::size_t total) { s->broadcast_progress(done, total); };
  // The watcher is armed before the build walks the tree: a change made while the build runs is
  // queued and applied by the next sync (issue 16 item 5), never lost between walk and watch.
  std::string watcher_error;
  auto watching = options_.start_watcher ? options_.start_watcher(*s) : s->index->start_watching();
  if (!watching) {
    watcher_error = watching.error().message;
    (void)s->telemetry.event(
        "segment.watcher_failed", {}, json::object{{"error", errc_name(watching.error().code)}},
        0, {"watcher unavailable: changes on disk are not seen until `ctx build --rebuild`"});
  }
  auto report = s->index->build(progress);
  if (report) {
    // What changed during the build is applied now, before anyone waiting is answered.
    (void)sync(*s);
    s->index->publish_pack_state();
  }
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard g(s->build_mu_);
    if (report) {
      s->build_.state = BuildState::kReady;
      s->build_.last_build = *report;
      s->build_.watcher_error = std::move(watcher_error);
    } else {
      s->build_.state = BuildState::kFailed;
      s->build_.error = report.error().message;
    }
    waiters.swap(s->build_waiters_);
  }
  // On a build pool of its own, the waiters (requests) go back to the request executor.
  for (auto& w : waiters) {
    if (options_.build_executor && options_.build_executor != &executor_) executor_.post(std::move(w));
    else w();
  }
}

void Service::when_ready(Segment& seg, bool wait, std::function<void()> fn) {
  if (!wait) {
    fn();
    return;
  }
  ensure_built(seg, std::move(fn));
}

std::uint64_t Service::sync(Segment& seg) {
  const index::ApplyReport r = seg.index->sync();
  seg.apply_changes(r);
  return r.bytes_read;
}

Result<index::BuildReport> Service::rebuild(Segment& seg) {
  auto r =
      seg.index->rebuild([&seg](std::size_t a, std::size_t b) { seg.broadcast_progress(a, b); });
  if (r) {
    std::lock_guard g(seg.build_mu_);
    seg.build_.last_build = *r;
  }
  return r;
}

}  // namespace trifecta::core::service
