// daemon/dispatcher.hpp — the method table, typed parameters, exactly-once replies.
//
// `dispatch()` takes one raw request line (already size-capped by the session) — or the parse
// route() made of it on the I/O thread, so that a line is parsed once — parses it, resolves
// `params.segment` through the registry (lib/service) when present (unless the method was bound
// with SegmentParam::kRaw), finds the handler and calls it with a
// move-only `Reply`. A handler must call `reply.ok(...)` or `reply.fail(...)` exactly once, now or
// later from any thread; a Reply destroyed unanswered sends InternalError (and asserts in debug
// builds). A reply over the reply cap becomes TOO_LARGE; a request past its deadline is answered
// TIMEOUT once, and the handler's own answer is then dropped (Dispatcher::Limits). Every finished
// request writes one log line (method, id, latency, outcome) and, when it named a segment, one
// telemetry event in that segment (cmd = method, timing_ms, x.bytes_in/out), both right after
// its reply is handed to the connection (so neither delays the reply).
//
// This is the only place with a catch-all: an exception escaping a handler becomes InternalError.
// lib/ errors (core::Error) map to wire codes in `to_rpc_error` (service/answer.hpp), the one
// mapping function.
//
// Thread rules: bind() only before serving starts; dispatch() is called concurrently from worker
// threads; `SendFn` must be thread-safe (the session posts the line to its I/O thread).
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "service/answer.hpp"
#include "service/registry.hpp"
#include "service/segment.hpp"
#include "trifecta/proto/jsonrpc.hpp"
#include "trifecta/proto/protocol.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

namespace trifecta::daemon {

namespace json = boost::json;

// The segment state lives in lib/service; the daemon names it as before.
using core::service::BuildState;
using core::service::build_state_name;
using core::service::Segment;
using core::service::SegmentRegistry;

// Called exactly once per dispatched line: with the reply line, or with "" for a notification.
using SendFn = std::function<void(std::string line)>;

struct Peer {
  std::uint64_t connection = 0;
  std::int64_t uid = -1;
  std::int64_t pid = -1;
  // Writes one extra line (a JSON-RPC notification, e.g. progress) to this connection, ahead of
  // the reply. Thread-safe; a no-op once the connection is gone. May be empty (tests).
  std::function<void(std::string line)> notify;
};

// lib/ errors → wire errors: the service's one mapping (service/answer.hpp).
using core::service::to_rpc_error;

class Reply {
 public:
  struct State;
  explicit Reply(std::shared_ptr<State> s) : s_(std::move(s)) {}
  Reply(Reply&&) noexcept = default;
  Reply& operator=(Reply&&) = delete;
  Reply(const Reply&) = delete;
  ~Reply();

  // Encodes the reply line before returning: `result` (and the memory resource it may live in)
  // is not used after the call.
  void ok(json::value result);
  void fail(proto::RpcError error);
  void fail(const core::Error& error) { fail(to_rpc_error(error)); }
  template <class T>
  void from(core::Result<T> r) {
    if (r.ok()) ok(json::value_from(std::move(r).value()));
    else fail(r.error());
  }
  bool answered() const;
  // Replace what the request's telemetry event records (default: args = params without
  // `segment`, result = {status}, x = {bytes_in, bytes_out}). `result` and `x` are merged over
  // the defaults; `args` replaces them. Call before ok()/fail().
  void telemetry(json::object args, json::object result, json::object x);

 private:
  std::shared_ptr<State> s_;
};

struct Context {
  std::string method;
  json::value id;
  json::object params;
  std::shared_ptr<Segment> segment;  // set when params.segment named one
  Peer peer;

  // Send a notification `{"jsonrpc":"2.0","method":m,"params":p}` on the request's connection.
  void notify(std::string_view notification, const json::object& payload) const {
    if (peer.notify) peer.notify(proto::encode_request(nullptr, notification, payload));
  }
};

using Handler = std::function<void(Context& ctx, Reply reply)>;

// For methods that work on a segment: true when the request named one; otherwise answers
// INVALID_PARAMS naming params.segment and returns false.
bool require_segment(const Context& ctx, Reply& reply);

class Dispatcher {
 public:
  explicit Dispatcher(SegmentRegistry& segments) : segments_(segments) {}

  // How a method treats params.segment: kOpen resolves it through the registry (opening the
  // segment; ctx.segment is set), kRaw leaves it in params untouched (segment.close must not open
  // what it is asked to close).
  enum class SegmentParam { kOpen, kRaw };
  // One line registers a method.
  void bind(std::string name, Handler handler, SegmentParam segment = SegmentParam::kOpen);

  // Typed binding: `P` is parsed with `proto::parse(params, P&)` (which names the bad field;
  // proto/codec.hpp).
  template <class P, class F>
  void bind_typed(std::string name, F f, SegmentParam segment = SegmentParam::kOpen) {
    bind(std::move(name), [f = std::move(f)](Context& ctx, Reply reply) {
      P p{};
      if (auto err = parse(ctx.params, p)) {
        reply.fail(proto::RpcError{proto::ErrorCode::kInvalidParams, *err, {}});
        return;
      }
      f(ctx, std::move(p), std::move(reply));
    }, segment);
  }

  // Typed binding by catalog row: the method's name and params type come from `spec`; the
  // handler replies with `reply.ok(json::value_from(Spec::Result{...}))`.
  template <class P, class R, class F>
  void bind_typed(const proto::MethodSpec<P, R>& spec, F f, SegmentParam segment = SegmentParam::kOpen) {
    bind_typed<P>(std::string(spec.name), std::move(f), segment);
  }

  // Limits every request is held to (issue 16 items 8 and 9; docs/reliability.md "Limits"):
  // a reply line longer than `max_reply_bytes` is replaced by TOO_LARGE (0 = no cap); a request
  // not answered within `request_timeout` is answered TIMEOUT, and the handler's later answer is
  // dropped (0 = no deadline). Deadlines are checked by one sweep, run through `schedule` (which
  // runs its function after the delay on any thread) every deadline_period() while any request
  // is in flight: dispatch() only appends to a list, so a request does not wake the I/O thread
  // to arm a timer of its own; a TIMEOUT comes between request_timeout and request_timeout +
  // deadline_period() after the request. Set before serving starts.
  struct Limits {
    std::size_t max_reply_bytes = 0;
    std::chrono::milliseconds request_timeout{0};
    std::function<void(std::chrono::milliseconds, std::function<void()>)> schedule;
  };
  void set_limits(Limits limits);
  // request_timeout / 10, within [10 ms, 1 s].
  std::chrono::milliseconds deadline_period() const;

  // Where a request line runs (issue 16 item 7; docs/reliability.md "Quick lane"), decided on the
  // I/O thread from a cheap parse of lines up to kQuickLineBytes (longer lines are kWork):
  //  - kInline: `ping` and `hello` without params.segment: answered on the I/O thread itself, so
  //    they answer even when every worker and the quick lane are busy;
  //  - kQuick: `status`, and `ctx.status` or any request with `params.wait: false` naming a segment
  //    that is already open: run on the quick lane (Server's reserved pool), never queued behind
  //    a request worker stuck in a handler;
  //  - kWork: everything else, on the request workers.
  // Thread-safe (reads the registry under its lock; no I/O).
  enum class Lane { kInline, kQuick, kWork };
  static constexpr std::size_t kQuickLineBytes = 4096;
  // The lane, and the parse it was decided from (lines up to kQuickLineBytes), for dispatch() to
  // use instead of parsing the line again.
  struct Route {
    Lane lane = Lane::kWork;
    std::optional<proto::ParsedRequest> parsed;
  };
  Route route(std::string_view line) const;
  Lane lane(std::string_view line) const { return route(line).lane; }

  void dispatch(std::string_view line, Peer peer, SendFn send) const;
  // The same, for a line route() has parsed (`line_bytes`: its size, for telemetry).
  void dispatch(proto::ParsedRequest parsed, std::size_t line_bytes, Peer peer, SendFn send) const;
  // Answer without executing: ServerBusy (too many requests in flight on that connection).
  void reject_busy(std::string_view line, std::size_t limit, SendFn send) const;

  std::vector<std::string> methods() const;

 private:
  SegmentRegistry& segments_;
  Limits limits_;
  struct Deadlines;  // the requests in flight with their deadlines, and whether a sweep is due
  std::shared_ptr<Deadlines> deadlines_;
  void watch_deadline(const std::shared_ptr<Reply::State>& state) const;
  struct Method {
    Handler handler;
    SegmentParam segment = SegmentParam::kOpen;
  };
  std::map<std::string, Method, std::less<>> table_;
};

}  // namespace trifecta::daemon
