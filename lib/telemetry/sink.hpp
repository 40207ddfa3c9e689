// telemetry/sink.hpp — lossless single-writer telemetry.
//
// One `Sink` per process owns one writer thread. Producers (any thread) call `Channel::event`,
// which checks reserved keys, wraps the event into a heap message and pushes it into a bounded
// lock-free queue: it never blocks and never does I/O. The writer thread is the only code that
// touches telemetry files: it drains the queue in batches, sanitises args, serialises each event to
// one JSON line and appends a batch of whole lines to `<dir>/events.jsonl` with one write(2) per
// batch per file (O_APPEND). Counters and latencies are aggregated by the writer, which rewrites
// `<dir>/last_run.json` atomically (temp + rename) every `flush_interval` when something changed,
// on `flush()`, and at `stop()`.
//
// A channel is one telemetry directory: `<segment>/_ctx/telemetry/` for a segment (or
// `$TRIFECTA_TELEMETRY_DIR/<segment_id>/` when redirected), or an explicit directory for
// daemon-level events. Opening the same directory twice returns the same channel.
//
// Guarantees and failure behaviour:
//  * Every event accepted into the queue is written exactly once, as one whole line, in the order
//    it was enqueued by its producer.
//  * If the queue is full the event is dropped and counted (`dropped`, per channel and per sink);
//    of what producers offer (`attempted`: events and counter updates), `attempted - dropped`
//    reach the disk (lines in events.jsonl, counters in last_run.json). Nothing is lost silently.
//  * A write failure (read-only directory, disk full) never reaches the caller: it is counted in
//    `write_errors` (one per line or summary that did not reach the disk), logged once per channel,
//    shown as `last_error` until that channel writes again, and the writer keeps going (retrying
//    to open the directory at most once a second).
//  * A file that vanishes is recreated, not written into the void: before every batch the writer
//    compares <dir>/events.jsonl's device and inode with those of its open descriptor; when the
//    file was unlinked (e.g. `rm -rf _ctx`) or replaced, it closes the descriptor, recreates the
//    directory and the file, and writes the batch there (counted in `recreated`). So every event
//    lands in the file that is at the path when its batch is written, or is counted in
//    `write_errors`. last_run.json is rewritten by rename, so it always reappears.
//  * A torn last line (a crash or a short write cut it) is ended with a newline when the file is
//    opened, so the next event is a line of its own; the reader skips the torn one.
//  * Creating a directory under `<segment>/_ctx/` also writes `_ctx/.gitignore` (util/paths.hpp:
//    ensure_ctx_gitignore) so generated files stay out of `git status`.
//  * `TRIFECTA_NO_TELEMETRY=1` disables the sink: channels accept and discard events (reserved-key
//    checks still apply so bugs surface in every configuration).
//
// Thread rules: Sink and Channel are thread-safe. `Channel` is a cheap handle (two pointers);
// copies share the same state. A Channel may outlive its Sink; events after `stop()` are dropped
// and counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "telemetry/event.hpp"
#include "util/result.hpp"

namespace trifecta::core::telemetry {

namespace fs = std::filesystem;

struct SinkOptions {
  bool enabled = true;
  fs::path dir_override;  // TRIFECTA_TELEMETRY_DIR; empty = write into the segment
  std::size_t queue_capacity = std::size_t{1} << 18;  // messages (rounded up to a power of two)
  std::chrono::milliseconds flush_interval{1000};  // last_run.json rewrite period when dirty

  // Defaults, then TRIFECTA_NO_TELEMETRY and TRIFECTA_TELEMETRY_DIR from the environment.
  static SinkOptions from_env();
};

struct SinkStats {
  std::uint64_t attempted = 0;     // events + counter updates offered by producers
  std::uint64_t dropped = 0;       // refused because the queue was full (or after stop)
  std::uint64_t lines_written = 0; // event lines appended to events.jsonl files
  std::uint64_t write_errors = 0;  // lines or summaries that failed to reach the disk
  std::size_t channels = 0;
  std::uint64_t recreated = 0;     // events.jsonl files found unlinked/replaced and recreated
  std::string last_error;          // "segment <id>: <what failed>" while that channel's events
                                   // cannot be written; "" once it writes again (or never failed)
};

namespace detail {
struct Core;
struct ChannelState;
}  // namespace detail

class Channel {
 public:
  Channel() = default;  // a disabled channel: accepts and discards

  // One event. Fails only on a reserved-key collision in `extra` (Errc::kInvalidArgument naming
  // every colliding key); queue overflow is counted, not reported, so callers never branch on it.
  Result<void> event(std::string_view cmd, json::object args, json::object result, double timing_ms,
                     std::vector<std::string> warnings = {}, json::object extra = {});
  Result<void> emit(Event e);

  void incr(std::string_view counter, std::int64_t delta = 1);  // run counter (metrics_delta)
  void observe(std::string_view cmd, double ms);                  // latency sample without an event
  void set_pack_state(json::object pack_state);                   // last_run.json pack_state

  bool enabled() const { return core_ != nullptr; }
  const std::string& segment_id() const;
  fs::path directory() const;
  // Telemetry-safe path for `target` relative to this channel's segment root.
  std::string relpath(const fs::path& target) const;

  struct Stats {
    std::uint64_t attempted = 0, dropped = 0, lines_written = 0, write_errors = 0, recreated = 0;
  };
  Stats stats() const;

 private:
  friend class Sink;
  Channel(std::shared_ptr<detail::Core> core, detail::ChannelState* state)
      : core_(std::move(core)), state_(state) {}
  bool push(void* msg);

  std::shared_ptr<detail::Core> core_;
  detail::ChannelState* state_ = nullptr;
};

class Sink {
 public:
  explicit Sink(SinkOptions options = SinkOptions::from_env());
  ~Sink();  // stop()
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // Channel for a segment: `<root>/_ctx/telemetry/` (or the override). `canonical_root` must be
  // canonical; it is hashed into segment_id and used to relativise paths; it is never written out.
  Channel open_segment(const fs::path& canonical_root);
  // Channel for an explicit directory (daemon-level events). `id` fills segment_id.
  Channel open_directory(const fs::path& dir, std::string id);

  // Block until everything enqueued before the call is on disk and last_run.json files are
  // rewritten. Returns immediately when disabled or stopped.
  void flush();
  // Drain, write the final summaries, join the writer. Idempotent.
  void stop();

  bool enabled() const { return core_ != nullptr; }
  const std::string& run_id() const { return run_id_; }
  SinkStats stats() const;

 private:
  std::shared_ptr<detail::Core> core_;
  std::string run_id_;
};

}  // namespace trifecta::core::telemetry
