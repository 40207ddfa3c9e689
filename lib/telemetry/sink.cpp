#include "telemetry/sink.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "telemetry/bounded_queue.hpp"
#include "telemetry/summary.hpp"
#include "util/clock.hpp"
#include "util/hash.hpp"
#include "util/json_text.hpp"
#include "util/paths.hpp"

namespace trifecta::core::telemetry {

SinkOptions SinkOptions::from_env() {
  SinkOptions o;
  if (const char* v = std::getenv("TRIFECTA_NO_TELEMETRY"); v && *v && std::string_view(v) != "0") {
    o.enabled = false;
  }
  if (const char* v = std::getenv("TRIFECTA_TELEMETRY_DIR"); v && *v) o.dir_override = v;
  return o;
}

namespace detail {

struct ChannelState {
  // Immutable after creation.
  fs::path dir;
  fs::path root;  // for relpath; empty for daemon-level channels
  std::string segment_id;

  std::atomic<std::uint64_t> attempted{0}, dropped{0}, lines_written{0}, write_errors{0};
  std::atomic<std::uint64_t> recreated{0};

  // Writer-thread only.
  RunStats stats;
  std::string pending;        // whole lines not yet written
  std::size_t pending_lines = 0;
  int fd = -1;
  dev_t dev = 0;              // identity of the file `fd` has open (to notice unlink / replace)
  ino_t ino = 0;
  bool summary_dirty = false;
  bool failure_logged = false;
  bool failing = false;       // the last write of this channel failed
  SteadyClock::time_point next_open_attempt{};
  std::string open_error;     // why the file is not open (kept while the reopen back-off runs)

  ~ChannelState() {
    if (fd >= 0) ::close(fd);
  }
};

struct Message {
  enum class Kind { kEvent, kCounter, kObserve, kPack };
  Kind kind = Kind::kEvent;
  ChannelState* ch = nullptr;
  WallClock::time_point ts{};
  Event event;           // kEvent
  std::string name;      // kCounter / kObserve
  std::int64_t delta = 0;
  double ms = 0;
  json::object pack;     // kPack
};

struct Core {
  explicit Core(const SinkOptions& o, std::string run) : opts(o), run_id(std::move(run)), queue(o.queue_capacity) {}

  SinkOptions opts;
  std::string run_id;
  BoundedQueue<Message> queue;

  std::atomic<bool> stopping{false};
  std::atomic<bool> writer_sleeping{false};
  std::atomic<std::uint64_t> attempted{0}, dropped{0}, lines_written{0}, write_errors{0};
  std::atomic<std::uint64_t> recreated{0};

  std::mutex mu;  // guards channels map, cv waits, flush generations, last_error
  std::condition_variable wake;
  std::condition_variable flushed;
  std::uint64_t flush_requested = 0;
  std::uint64_t flush_done = 0;
  std::map<fs::path, std::unique_ptr<ChannelState>> channels;
  std::string last_error;  // "segment <id>: <what>" while that channel's writes fail, else ""
  std::thread writer;

  bool push(Message* m) {
    attempted.fetch_add(1, std::memory_order_relaxed);
    m->ch->attempted.fetch_add(1, std::memory_order_relaxed);
    if (stopping.load(std::memory_order_acquire) || !queue.try_push(m)) {
      dropped.fetch_add(1, std::memory_order_relaxed);
      m->ch->dropped.fetch_add(1, std::memory_order_relaxed);
      delete m;
      return false;
    }
    if (writer_sleeping.load(std::memory_order_acquire)) {
      // Taking the mutex orders this notify after the writer's empty-check, so no wake-up is lost.
      std::lock_guard lk(mu);
      wake.notify_one();
    }
    return true;
  }

  std::string scratch;  // writer-only; reused so measuring allocates nothing once warm

  // Bytes `o` serialises to (for token estimates).
  std::size_t serialized_size(const json::object& o) {
    scratch.clear();
    append_json(scratch, o);
    return scratch.size();
  }

  void run();
  void process(Message& m, std::unordered_set<ChannelState*>& touched);
  void write_pending(ChannelState& ch);
  void write_summary(ChannelState& ch);
  void fail(ChannelState& ch, std::uint64_t lost, const std::string& what);
  bool ensure_open(ChannelState& ch);
  void check_identity(ChannelState& ch);
};

void Core::fail(ChannelState& ch, std::uint64_t lost, const std::string& what) {
  ch.write_errors.fetch_add(lost, std::memory_order_relaxed);
  write_errors.fetch_add(lost, std::memory_order_relaxed);
  ch.failing = true;
  {
    std::lock_guard lk(mu);
    last_error = "segment " + ch.segment_id + ": " + what;
  }
  if (!ch.failure_logged) {
    ch.failure_logged = true;
    // The segment id, never the path, goes to the log.
    spdlog::warn("telemetry for segment {} cannot be written ({}); requests are unaffected, "
                 "further failures are only counted", ch.segment_id, what);
  }
}

bool Core::ensure_open(ChannelState& ch) {
  if (ch.fd >= 0) return true;
  const auto now = SteadyClock::now();
  if (now < ch.next_open_attempt) return false;
  ch.next_open_attempt = now + std::chrono::seconds(1);
  std::error_code ec;
  fs::create_directories(ch.dir, ec);
  if (!ec) ensure_ctx_gitignore(ch.dir);
  const fs::path file = ch.dir / "events.jsonl";
  // Read access too: the last byte is checked below.
  ch.fd = ::open(file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (ch.fd < 0) {
    ch.open_error = std::string("cannot open events.jsonl: ") + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(ch.fd, &st) == 0) {
    ch.dev = st.st_dev;
    ch.ino = st.st_ino;
    // A crash (or a short write) may have left a torn last line. End it, so the next event starts
    // a line of its own instead of being glued onto it (the reader skips the torn line).
    char last = '\n';
    if (st.st_size > 0 && ::pread(ch.fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
      (void)!::write(ch.fd, "\n", 1);
    }
  }
  return true;
}

// Before each batch: is `fd` still the file at <dir>/events.jsonl? After `rm -rf _ctx` (what `git
// clean -fdx` does) or a rotation by rename, appending to the old descriptor would write into a
// file nobody can read: close it so ensure_open recreates the directory and the file now.
void Core::check_identity(ChannelState& ch) {
  if (ch.fd < 0) return;
  struct stat st {};
  const fs::path file = ch.dir / "events.jsonl";
  if (::stat(file.c_str(), &st) == 0 && st.st_dev == ch.dev && st.st_ino == ch.ino) return;
  ::close(ch.fd);
  ch.fd = -1;
  ch.next_open_attempt = {};  // reopen at once, not after the failure back-off
  ch.recreated.fetch_add(1, std::memory_order_relaxed);
  recreated.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("telemetry for segment {}: events.jsonl was removed or replaced; recreating it",
               ch.segment_id);
}

void Core::write_pending(ChannelState& ch) {
  if (ch.pending.empty()) return;
  const std::uint64_t lines = ch.pending_lines;
  // Two attempts at most: the second one only when the file was unlinked while the batch was
  // being written (the batch went into a file nobody can read, so it is written again, into the
  // recreated file).
  for (int attempt = 0; attempt < 2; ++attempt) {
    check_identity(ch);
    if (!ensure_open(ch)) {
      fail(ch, lines, ch.open_error);
      break;
    }
    const char* p = ch.pending.data();
    std::size_t left = ch.pending.size();
    while (left > 0) {
      const ssize_t n = ::write(ch.fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // Every line ends in '\n', so the lines not fully on disk are the newlines not written
        // (a line cut by a short write is torn on disk; the reader skips it).
        std::uint64_t lost = 0;
        for (std::size_t i = 0; i < left; ++i) lost += (p[i] == '\n');
        ch.open_error = std::string("write failed: ") + std::strerror(n < 0 ? errno : EIO);
        fail(ch, lost, ch.open_error);
        ch.lines_written.fetch_add(lines - lost, std::memory_order_relaxed);
        lines_written.fetch_add(lines - lost, std::memory_order_relaxed);
        ::close(ch.fd);
        ch.fd = -1;
        break;
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    if (left != 0) break;
    struct stat st {};
    if (::fstat(ch.fd, &st) == 0 && st.st_nlink == 0) {  // unlinked meanwhile
      if (attempt == 0) continue;
      fail(ch, lines, "events.jsonl was removed again while being written");
      break;
    }
    ch.lines_written.fetch_add(lines, std::memory_order_relaxed);
    lines_written.fetch_add(lines, std::memory_order_relaxed);
    if (ch.failing) {  // writing again: the failure this channel reported is over
      ch.failing = false;
      std::lock_guard lk(mu);
      if (last_error.rfind("segment " + ch.segment_id + ":", 0) == 0) last_error.clear();
    }
    break;
  }
  ch.pending.clear();
  ch.pending_lines = 0;
}

void Core::write_summary(ChannelState& ch) {
  RunStats::Drops drops{ch.attempted.load(), ch.dropped.load(), ch.write_errors.load()};
  const std::string doc = to_json_text(ch.stats.build_last_run(run_id, iso8601_utc_now(), drops));
  std::error_code ec;
  fs::create_directories(ch.dir, ec);
  if (!ec) ensure_ctx_gitignore(ch.dir);
  const fs::path tmp = ch.dir / ("last_run.json.tmp." + std::to_string(::getpid()));
  const fs::path dst = ch.dir / "last_run.json";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  if (ok) {
    const char* p = doc.data();
    std::size_t left = doc.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) { ok = false; break; }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    if (ok && ::write(fd, "\n", 1) != 1) ok = false;
    ::close(fd);
  }
  if (ok && ::rename(tmp.c_str(), dst.c_str()) != 0) ok = false;
  if (!ok) {
    ::unlink(tmp.c_str());
    fail(ch, 1, std::string("cannot write last_run.json: ") + std::strerror(errno));
  }
  ch.summary_dirty = false;
}

void Core::process(Message& m, std::unordered_set<ChannelState*>& touched) {
  ChannelState& ch = *m.ch;
  touched.insert(&ch);
  ch.summary_dirty = true;
  switch (m.kind) {
    case Message::Kind::kCounter: ch.stats.incr(m.name, m.delta); return;
    case Message::Kind::kObserve: ch.stats.observe(m.name, m.ms); return;
    case Message::Kind::kPack: ch.stats.set_pack_state(std::move(m.pack)); return;
    case Message::Kind::kEvent: break;
  }
  Event& e = m.event;
  json::object args = ch.root.empty() ? std::move(e.args) : sanitize_args(e.args, ch.root);
  const std::int64_t tin = e.tokens_in >= 0 ? e.tokens_in : estimate_tokens(serialized_size(args));
  const std::int64_t tout = e.tokens_out >= 0 ? e.tokens_out : estimate_tokens(serialized_size(e.result));
  json::array warnings;
  for (auto& w : e.warnings) {
    ch.stats.add_warning(w);
    warnings.emplace_back(std::move(w));
  }
  json::object line;
  line.reserve(10);
  line["ts"] = iso8601_utc(m.ts);
  line["run_id"] = run_id;
  line["segment_id"] = ch.segment_id;
  line["cmd"] = e.cmd;
  line["args"] = std::move(args);
  line["result"] = std::move(e.result);
  line["timing_ms"] = round_to(e.timing_ms, 3);
  line["tokens"] = json::object{{"in", tin}, {"out", tout}};
  line["warnings"] = std::move(warnings);
  line["x"] = std::move(e.x);
  append_json(ch.pending, line);
  ch.pending += '\n';
  ++ch.pending_lines;
  if (e.timing_ms > 0) ch.stats.observe(e.cmd, e.timing_ms);
  ch.stats.add_tokens(tin, tout);
}

void Core::run() {
  pthread_setname_np(pthread_self(), "trifecta-telem");
  constexpr std::size_t kBatch = 4096;
  std::unordered_set<ChannelState*> touched;
  auto last_summary = SteadyClock::now();
  for (;;) {
    std::size_t n = 0;
    while (n < kBatch) {
      Message* m = queue.try_pop();
      if (!m) break;
      process(*m, touched);
      delete m;
      ++n;
    }
    for (ChannelState* ch : touched) write_pending(*ch);
    touched.clear();
    if (n == kBatch) continue;  // more may be waiting: keep draining before anything else

    // Queue observed empty. Serve flush requests, periodic summaries, stop.
    std::uint64_t want_flush;
    {
      std::lock_guard lk(mu);
      want_flush = flush_requested;
    }
    if (want_flush > flush_done) {
      // Everything enqueued before the flush request is visible now (the request was read under
      // the mutex the requester released after its pushes): drain it before writing summaries.
      while (Message* m = queue.try_pop()) {
        process(*m, touched);
        delete m;
      }
      for (ChannelState* ch : touched) write_pending(*ch);
      touched.clear();
    }
    const bool stop_now = stopping.load(std::memory_order_acquire) && queue.empty_approx();
    const auto now = SteadyClock::now();
    if (want_flush > flush_done || stop_now || now - last_summary >= opts.flush_interval) {
      std::vector<ChannelState*> all;
      {
        std::lock_guard lk(mu);
        for (auto& [_, ch] : channels) all.push_back(ch.get());
      }
      for (ChannelState* ch : all) {
        if (ch->summary_dirty || want_flush > flush_done || stop_now) write_summary(*ch);
      }
      last_summary = now;
      if (want_flush > flush_done) {
        std::lock_guard lk(mu);
        flush_done = want_flush;
        flushed.notify_all();
      }
    }
    if (stop_now) {
      std::lock_guard lk(mu);
      flush_done = flush_requested;
      flushed.notify_all();
      return;
    }

    std::unique_lock lk(mu);
    writer_sleeping.store(true, std::memory_order_release);
    if (queue.empty_approx() && flush_requested == flush_done && !stopping.load()) {
      wake.wait_for(lk, std::min<std::chrono::milliseconds>(opts.flush_interval, std::chrono::milliseconds(250)));
    }
    writer_sleeping.store(false, std::memory_order_release);
  }
}

}  // namespace detail

// ---- Channel ------------------------------------------------------------------------------

namespace {
const std::string kEmpty;
}

bool Channel::push(void* msg) { return core_->push(static_cast<detail::Message*>(msg)); }

Result<void> Channel::event(std::string_view cmd, json::object args, json::object result,
                            double timing_ms, std::vector<std::string> warnings, json::object extra) {
  Event e;
  e.cmd = std::string(cmd);
  e.args = std::move(args);
  e.result = std::move(result);
  e.timing_ms = timing_ms;
  e.warnings = std::move(warnings);
  e.x = std::move(extra);
  return emit(std::move(e));
}

Result<void> Channel::emit(Event e) {
  if (auto ok = check_extra_fields(e.x); !ok) return ok;
  if (!core_) return {};
  auto* m = new detail::Message;
  m->kind = detail::Message::Kind::kEvent;
  m->ch = state_;
  m->ts = WallClock::now();
  m->event = std::move(e);
  push(m);
  return {};
}

void Channel::incr(std::string_view counter, std::int64_t delta) {
  if (!core_) return;
  auto* m = new detail::Message;
  m->kind = detail::Message::Kind::kCounter;
  m->ch = state_;
  m->name = std::string(counter);
  m->delta = delta;
  push(m);
}

void Channel::observe(std::string_view cmd, double ms) {
  if (!core_) return;
  auto* m = new detail::Message;
  m->kind = detail::Message::Kind::kObserve;
  m->ch = state_;
  m->name = std::string(cmd);
  m->ms = ms;
  push(m);
}

void Channel::set_pack_state(json::object pack_state) {
  if (!core_) return;
  auto* m = new detail::Message;
  m->kind = detail::Message::Kind::kPack;
  m->ch = state_;
  m->pack = std::move(pack_state);
  push(m);
}

const std::string& Channel::segment_id() const { return state_ ? state_->segment_id : kEmpty; }
fs::path Channel::directory() const { return state_ ? state_->dir : fs::path(); }

std::string Channel::relpath(const fs::path& target) const {
  if (!state_ || state_->root.empty()) {
    return "external/" + sha256_prefix(target.string(), 8) + "-" + target.filename().string();
  }
  return core::relpath(state_->root, target);
}

Channel::Stats Channel::stats() const {
  if (!state_) return {};
  return {state_->attempted.load(), state_->dropped.load(), state_->lines_written.load(),
          state_->write_errors.load(), state_->recreated.load()};
}

// ---- Sink ---------------------------------------------------------------------------------

Sink::Sink(SinkOptions options) {
  // run_id: time-ordered and unique enough to join events of one daemon lifetime.
  run_id_ = "run_" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                        WallClock::now().time_since_epoch()).count()) +
            "_" + sha256_prefix(std::to_string(::getpid()) + iso8601_utc_now(), 8);
  if (!options.enabled) return;
  core_ = std::make_shared<detail::Core>(options, run_id_);
  core_->writer = std::thread([c = core_.get()] { c->run(); });
}

Sink::~Sink() { stop(); }

Channel Sink::open_directory(const fs::path& dir, std::string id) {
  if (!core_) return Channel{};
  std::lock_guard lk(core_->mu);
  auto& slot = core_->channels[dir];
  if (!slot) {
    slot = std::make_unique<detail::ChannelState>();
    slot->dir = dir;
    slot->segment_id = std::move(id);
  }
  return Channel(core_, slot.get());
}

Channel Sink::open_segment(const fs::path& canonical_root) {
  if (!core_) return Channel{};
  const std::string id = segment_id_of(canonical_root.string());
  const fs::path dir = !core_->opts.dir_override.empty() ? core_->opts.dir_override / id
                                                : canonical_root / "_ctx" / "telemetry";
  Channel ch = open_directory(dir, id);
  {
    std::lock_guard lk(core_->mu);
    if (ch.state_->root.empty()) ch.state_->root = canonical_root;
  }
  return ch;
}

void Sink::flush() {
  if (!core_ || !core_->writer.joinable()) return;
  std::unique_lock lk(core_->mu);
  const std::uint64_t gen = ++core_->flush_requested;
  core_->wake.notify_one();
  core_->flushed.wait(lk, [&] { return core_->flush_done >= gen; });
}

void Sink::stop() {
  if (!core_ || !core_->writer.joinable()) return;
  {
    std::lock_guard lk(core_->mu);
    core_->stopping.store(true, std::memory_order_release);
    core_->wake.notify_one();
  }
  core_->writer.join();
  // A producer that raced with stop() may have slipped a message in after the final drain:
  // count it as dropped rather than losing it silently.
  while (detail::Message* m = core_->queue.try_pop()) {
    core_->dropped.fetch_add(1, std::memory_order_relaxed);
    m->ch->dropped.fetch_add(1, std::memory_order_relaxed);
    delete m;
  }
}

SinkStats Sink::stats() const {
  if (!core_) return {};
  SinkStats s{core_->attempted.load(), core_->dropped.load(), core_->lines_written.load(),
              core_->write_errors.load(), 0, core_->recreated.load(), {}};
  std::lock_guard lk(core_->mu);
  s.channels = core_->channels.size();
  s.last_error = core_->last_error;
  return s;
}

}  // namespace trifecta::core::telemetry
