#include "lsp/state.hpp"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>

namespace trifecta::core::lsp {

namespace json = boost::json;

std::string_view state_name(State s) noexcept {
  switch (s) {
    case State::kCold: return "COLD";
    case State::kWarming: return "WARMING";
    case State::kReady: return "READY";
    case State::kFailed: return "FAILED";
  }
  return "COLD";
}

bool StateMachine::move_to(State to, std::string reason, SteadyClock::time_point now) {
  Transition t{state_, to, std::move(reason), now, since_};
  state_ = to;
  since_ = now;
  if (listener_) listener_(t);
  return true;
}

bool StateMachine::spawned(std::string first_uri, std::string reason, SteadyClock::time_point now) {
  if (state_ != State::kCold && state_ != State::kFailed) return false;
  first_uri_ = std::move(first_uri);
  initialized_ = opened_ = diagnosed_ = false;
  return move_to(State::kWarming, std::move(reason), now);
}

bool StateMachine::maybe_ready(SteadyClock::time_point now) {
  if (state_ != State::kWarming || !initialized_) return false;
  if (first_uri_.empty()) return move_to(State::kReady, "initialized (no Python file to open)", now);
  if (!opened_ || !diagnosed_) return false;
  return move_to(State::kReady, "initialized, first document opened and diagnosed", now);
}

bool StateMachine::initialized(SteadyClock::time_point now) {
  if (state_ != State::kWarming || initialized_) return false;
  initialized_ = true;
  maybe_ready(now);
  return true;
}

bool StateMachine::first_document_opened(SteadyClock::time_point now) {
  if (state_ != State::kWarming || opened_ || first_uri_.empty()) return false;
  opened_ = true;
  maybe_ready(now);
  return true;
}

bool StateMachine::diagnostics_published(std::string_view uri, SteadyClock::time_point now) {
  // Diagnostics that arrive before our didOpen was sent belong to workspace analysis, not to the
  // warm-up probe: only count them once the document is open.
  if (state_ != State::kWarming || !opened_ || diagnosed_ || uri != first_uri_) return false;
  diagnosed_ = true;
  maybe_ready(now);
  return true;
}

bool StateMachine::failed(std::string reason, SteadyClock::time_point now) {
  if (state_ == State::kFailed) return false;
  return move_to(State::kFailed, std::move(reason), now);
}

bool StateMachine::stopped(std::string reason, SteadyClock::time_point now) {
  if (state_ == State::kCold) return false;
  return move_to(State::kCold, std::move(reason), now);
}

double time_in_from_state_ms(const Transition& t) noexcept {
  if (t.from_since == SteadyClock::time_point{} || t.at <= t.from_since) return 0.0;
  return std::chrono::duration<double, std::milli>(t.at - t.from_since).count();
}

void record_transition(telemetry::Channel& channel, const Transition& t) {
  json::object result{{"from_state", state_name(t.from)},
                      {"to_state", state_name(t.to)},
                      {"reason", t.reason}};
  (void)channel.event("lsp.state_change", {}, std::move(result), time_in_from_state_ms(t));
  switch (t.to) {
    case State::kWarming: channel.incr("lsp_warming_count"); break;
    case State::kReady: channel.incr("lsp_ready_count"); break;
    case State::kFailed: channel.incr("lsp_failed_count"); break;
    case State::kCold: break;
  }
}

void record_fallback(telemetry::Channel& channel, std::string_view method, std::string_view reason,
                     State state, std::string_view fallback_to) {
  json::object result{{"method", method},
                      {"reason", reason},
                      {"fallback_to", fallback_to},
                      {"lsp_state", state_name(state)}};
  (void)channel.event("lsp.fallback", {}, std::move(result), 0.0);
  channel.incr("lsp_fallback_count");
}

void RestartBackoff::expire(SteadyClock::time_point now) {
  while (!recent_.empty() && now - recent_.front() >= policy_.window) recent_.pop_front();
}

int RestartBackoff::recent(SteadyClock::time_point now) {
  expire(now);
  return static_cast<int>(recent_.size());
}

std::chrono::milliseconds RestartBackoff::exhausted_delay(SteadyClock::time_point now) {
  expire(now);
  auto d = recent_.empty() ? policy_.max_delay
                           : std::chrono::duration_cast<std::chrono::milliseconds>(
                                 recent_.front() + policy_.window - now);
  return std::clamp(d, policy_.max_delay, std::max(policy_.max_delay, policy_.exhausted_retry_cap));
}

std::optional<std::chrono::milliseconds> RestartBackoff::next_delay(SteadyClock::time_point now) {
  expire(now);
  if (static_cast<int>(recent_.size()) >= policy_.max_restarts) return std::nullopt;
  const double factor = std::pow(policy_.multiplier, static_cast<double>(recent_.size()));
  const double ms = std::min(static_cast<double>(policy_.initial_delay.count()) * factor,
                             static_cast<double>(policy_.max_delay.count()));
  recent_.push_back(now);
  ++total_;
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

}  // namespace trifecta::core::lsp
