// lsp/state.hpp — the language-server lifecycle as a pure state machine, and the restart policy.
//
//   COLD ──spawned + initialize sent──▶ WARMING ──ready conditions──▶ READY
//     ▲                                    │                            │
//     └──── stopped (idle / shutdown) ─────┴──────── failed ──▶ FAILED ◀┘
//                                                       └──(restart: spawned)──▶ WARMING
//
// READY means, all three: the `initialize` result has arrived, `didOpen` was sent for the first
// Python file of the segment, and `publishDiagnostics` for THAT URI has arrived. (A segment with no
// Python file has nothing to open; it is READY on the initialize result alone.) FAILED is entered
// on a spawn error, a crash, an initialize error, a warm-up that exceeds its bound, a protocol
// error, an unresponsive server or the memory guard; the owner decides about restarts with
// `RestartBackoff`. Events that do not apply to the current state are ignored and return false, so
// late notifications from a previous server instance cannot move the machine.
//
// Every transition is handed to the `on_transition` callback (synchronously, in the caller's
// thread); `record_transition` turns one into the telemetry event `lsp.state_change
// {from_state, to_state, reason}` whose timing_ms is the time spent in `from_state` (so the
// WARMING → READY event carries the time to READY), plus the counters lsp_warming_count /
// lsp_ready_count / lsp_failed_count.
//
// Time is passed in explicitly (`now`) so tests are deterministic.
//
// Thread rules: not synchronised; owned by one thread (the client's io_context thread).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "telemetry/sink.hpp"
#include "util/clock.hpp"

namespace trifecta::core::lsp {

enum class State { kCold, kWarming, kReady, kFailed };

std::string_view state_name(State s) noexcept;  // "COLD", "WARMING", "READY", "FAILED"

struct Transition {
  State from = State::kCold;
  State to = State::kCold;
  std::string reason;
  SteadyClock::time_point at{};
  // When `from` was entered; a default (zero) time point means "never" (the first COLD).
  SteadyClock::time_point from_since{};
};

// Milliseconds spent in `t.from` (0 when `from_since` is unset or later than `at`).
double time_in_from_state_ms(const Transition& t) noexcept;

class StateMachine {
 public:
  using Listener = std::function<void(const Transition&)>;
  explicit StateMachine(Listener on_transition = {}) : listener_(std::move(on_transition)) {}

  State state() const { return state_; }
  // When the current state was entered.
  SteadyClock::time_point since() const { return since_; }

  // COLD|FAILED → WARMING: the process is spawned and `initialize` was sent. Resets the READY
  // conditions. `first_uri` is the document whose diagnostics will complete warm-up ("" = none).
  bool spawned(std::string first_uri, std::string reason, SteadyClock::time_point now);
  // WARMING: the initialize result arrived.
  bool initialized(SteadyClock::time_point now);
  // WARMING: didOpen was sent for the first document.
  bool first_document_opened(SteadyClock::time_point now);
  // WARMING: publishDiagnostics arrived for `uri` (any URI may be passed; only the first counts).
  bool diagnostics_published(std::string_view uri, SteadyClock::time_point now);
  // WARMING|READY|COLD → FAILED.
  bool failed(std::string reason, SteadyClock::time_point now);
  // WARMING|READY|FAILED → COLD (idle shutdown, explicit stop).
  bool stopped(std::string reason, SteadyClock::time_point now);

  const std::string& first_uri() const { return first_uri_; }

 private:
  bool move_to(State to, std::string reason, SteadyClock::time_point now);
  bool maybe_ready(SteadyClock::time_point now);

  Listener listener_;
  State state_ = State::kCold;
  SteadyClock::time_point since_{};
  std::string first_uri_;
  bool initialized_ = false;
  bool opened_ = false;
  bool diagnosed_ = false;
};

// Emit `lsp.state_change` (timing_ms = time_in_from_state_ms) and bump the counter of the state entered (lsp_warming_count,
// lsp_ready_count, lsp_failed_count). Never fails the caller (telemetry problems are counted by
// the sink).
void record_transition(telemetry::Channel& channel, const Transition& t);

// For the daemon, when it answers a request without the server: the event `lsp.fallback {method,
// reason, fallback_to, lsp_state}` and the counter lsp_fallback_count (one place, so every handler
// reports fallbacks the same way).
void record_fallback(telemetry::Channel& channel, std::string_view method, std::string_view reason,
                     State state, std::string_view fallback_to = "ast");

struct RestartPolicy {
  std::chrono::milliseconds initial_delay{500};
  std::chrono::milliseconds max_delay{30'000};
  double multiplier = 2.0;
  int max_restarts = 5;                        // within `window`; then the slow retry below
  std::chrono::milliseconds window{300'000};
  // Once `max_restarts` are spent, the server is still retried (never off for good): after the
  // oldest restart leaves the window, but at most this long and at least `max_delay` after it
  // failed.
  std::chrono::milliseconds exhausted_retry_cap{300'000};
};

// Exponential backoff over a sliding window: the k-th restart within the window waits
// initial_delay * multiplier^(k-1), capped at max_delay. When `max_restarts` restarts already
// happened within the window, `next_delay` returns nullopt; the owner then retries after
// `exhausted_delay` (the capped slow retry: a crash loop costs at most one spawn per cap), or
// earlier on an explicit restart.
class RestartBackoff {
 public:
  explicit RestartBackoff(RestartPolicy policy = {}) : policy_(policy) {}
  // Reserve one restart at `now`; nullopt when the budget is exhausted.
  std::optional<std::chrono::milliseconds> next_delay(SteadyClock::time_point now);
  // Restarts counted within the window ending at `now`.
  int recent(SteadyClock::time_point now);
  int total() const { return total_; }
  const RestartPolicy& policy() const { return policy_; }
  // The budget is spent: how long until the retry (until the oldest restart leaves the window,
  // clamped to [max_delay, exhausted_retry_cap]).
  std::chrono::milliseconds exhausted_delay(SteadyClock::time_point now);
  // Forget the restarts counted so far (an explicit restart: the backoff starts afresh).
  void reset() { recent_.clear(); }

 private:
  void expire(SteadyClock::time_point now);
  RestartPolicy policy_;
  std::deque<SteadyClock::time_point> recent_;
  int total_ = 0;
};

}  // namespace trifecta::core::lsp
