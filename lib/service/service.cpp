#include "service/service.hpp"

#include <algorithm>
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

std::vector<std::string> Service::enforce_lsp_memory(std::uint64_t cap_bytes) {
  struct Running {
    std::shared_ptr<Segment> seg;
    std::uint64_t rss = 0;
    double idle_ms = 0;
  };
  std::vector<Running> running;
  std::uint64_t total = 0;
  for (auto& seg : registry_.list()) {
    if (!seg->lsp) continue;
    const lsp::Status st = seg->lsp->status();
    if (st.pid <= 0 || st.rss_bytes == 0) continue;
    total += st.rss_bytes;
    running.push_back({seg, st.rss_bytes, st.idle_ms});
  }
  std::vector<std::string> shed;
  if (cap_bytes == 0 || total <= cap_bytes) return shed;
  std::sort(running.begin(), running.end(),
            [](const Running& a, const Running& b) { return a.idle_ms > b.idle_ms; });
  for (std::size_t i = 0; i + 1 < running.size() && total > cap_bytes; ++i) {
    const auto& r = running[i];
    const std::string why = "language servers hold " + std::to_string(total >> 20) +
                            " MiB, over the total cap of " + std::to_string(cap_bytes >> 20) +
                            " MiB; this one was the least recently used (" +
                            std::to_string(r.rss >> 20) + " MiB)";
    r.seg->lsp->shed(why);
    shed.push_back(r.seg->root.string() + ": " + why);
    total -= r.rss;
  }
  return shed;
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
    watch_changes(s);  // from now on changes are applied in the background too
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

std::uint64_t Service::sync(Segment& seg, bool* settle_due) {
  // The pack_state is published with the settle, not here: the request that applies an edit
  // (an agent's edit-then-search) does not wait for it (SegmentIndex::sync).
  const index::ApplyReport r = seg.index->sync(/*publish=*/false);
  seg.apply_changes(r);
  if (r.changed_files() > 0 || r.rescanned) {
    if (settle_due) *settle_due = true;
    else settle_later(seg);
  }
  return r.bytes_read;
}

void Service::watch_changes(const SegmentPtr& seg) {
  if (!options_.when_readable || !options_.schedule_after || watch_stopped_.load()) return;
  if (seg->watching_changes_.exchange(true)) return;  // its chain runs already
  arm_watch(seg);
}

void Service::arm_watch(const SegmentPtr& seg) {
  if (watch_stopped_.load()) return;
  const int fd = seg->index->dup_watch_fd();
  if (fd < 0) {  // no watcher (its start failed): nothing to wait on; a later build tries again
    seg->watching_changes_.store(false);
    return;
  }
  std::weak_ptr<Segment> weak = seg;
  auto cancel = options_.when_readable(fd, [this, weak] {
    // Changes are queued: give the burst (an editor's save, a checkout) kWatchQuiet to land, then
    // apply what is queued by then on the build executor.
    options_.schedule_after(kWatchQuiet, [this, weak] {
      auto s = weak.lock();
      if (!s || watch_stopped_.load()) return;
      build_executor().post([this, s] { background_sync(s); });
    });
  });
  // The last round's wait, which completed already: cancelling it again is a no-op.
  if (auto old = seg->exchange_watch_cancel(std::move(cancel))) old();
}

void Service::background_sync(const SegmentPtr& seg) {
  if (!watch_stopped_.load()) (void)sync(*seg);
  // Waiting again at once would make a file written without pause cost a sync and a settle at
  // every write, and a running build (the sync is `deferred` then) a round every kWatchQuiet.
  std::weak_ptr<Segment> weak = seg;
  options_.schedule_after(kWatchGap, [this, weak] {
    if (auto s = weak.lock()) arm_watch(s);
  });
}

void Service::stop_watching_changes() {
  watch_stopped_.store(true);
  for (const auto& seg : registry_.list()) {
    if (auto cancel = seg->exchange_watch_cancel({})) cancel();
  }
}

void Service::settle_later(Segment& seg) {
  // On the build executor: a settle reads the whole index (0.1-0.5 s of one core) and must not
  // hold a request worker; searches meanwhile are answered as before, from the unsettled index.
  // The pack_state goes to telemetry after it (its live-term count is cheaper in the steady
  // state; last_run.json is rewritten once a second anyway).
  auto keep = seg.self.lock();
  if (!keep) return;
  build_executor().post([keep] {
    (void)keep->index->settle();
    keep->index->publish_pack_state();
  });
}

void Service::keep_parses_later(Segment& seg, std::vector<std::string> paths) {
  std::vector<std::string> distinct;
  for (auto& p : paths) {
    if (distinct.size() == kKeepParseFiles) break;
    if (std::find(distinct.begin(), distinct.end(), p) == distinct.end()) distinct.push_back(std::move(p));
  }
  auto keep = seg.self.lock();
  if (!keep || distinct.empty()) return;
  build_executor().post([keep, distinct = std::move(distinct)] {
    for (const auto& p : distinct) (void)keep->index->keep_parse(p);
  });
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
