#include "dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <utility>

#include "util/json_text.hpp"

namespace trifecta::daemon {

using proto::ErrorCode;
using proto::RpcError;

namespace {

// What to ask instead when a method's reply is over --max-reply-bytes (docs/reliability.md "Reply
// size cap"): the smaller request that method offers. Every method that can produce a long reply
// has a row; the others get the generic advice.
std::string_view too_large_hint(std::string_view method) {
  static const std::map<std::string_view, std::string_view> hints{
      {"ast.skeleton",
       "ask for format \"text\" or \"json\" instead of \"both\", or read the file in parts with ctx.get "
       "(params.budget, then params.cursor)"},
      {"ast.symbols", "find the symbols you need with sym.search (params.limit) or read ast.skeleton with format \"text\""},
      {"ctx.get", "lower params.budget or params.max_chunks, or name fewer targets; continue with params.cursor (the reply's next)"},
      {"ctx.search", "lower params.limit, or narrow it with params.path or params.kind"},
      {"ctx.map", "lower params.budget, or narrow it with params.path"},
      {"ctx.validate", "the drift lists are too long to send: rebuild the segment (ctx.build with rebuild) and validate again"},
      {"sym.search", "lower params.limit"},
      {"sym.resolve", "name the symbol more precisely (a longer qualname in the URI)"},
      {"lsp.references", "ask with params.confirmed_only, or about a less common symbol"},
      {"lsp.calls", "lower params.depth"},
      {"lsp.diagnostics", "ask about a smaller file"},
  };
  auto it = hints.find(method);
  return it == hints.end() ? std::string_view("ask for less") : it->second;
}

}  // namespace

struct Reply::State {
  SendFn send;
  json::value id;
  bool notification = false;
  std::string method;
  core::Stopwatch clock;
  std::shared_ptr<Segment> segment;
  std::mutex telemetry_mu;         // the deadline may finish on the I/O thread while the handler runs
  json::object telemetry_args;
  json::object telemetry_result;  // merged over {status, error}
  json::object telemetry_x;       // merged over {bytes_in, bytes_out}
  std::size_t bytes_in = 0;
  std::size_t max_reply_bytes = 0;  // 0 = no cap
  std::atomic<bool> done{false};
  std::atomic<bool> expired{false};  // answered TIMEOUT by the deadline; the handler's answer is dropped
  bool in_dispatch = false;  // the handler is running synchronously inside dispatch()

  // The request deadline: answer TIMEOUT unless the handler has answered.
  void expire(std::chrono::milliseconds after) {
    if (done.load()) return;
    expired.store(true);
    RpcError e{ErrorCode::kTimeout,
               "request not answered within " + std::to_string(after.count() / 1000) +
                   " s (the daemon's --request-timeout); its work may still finish in the background",
               {}};
    finish(nullptr, &e);
  }

  void finish(const json::value* result, const RpcError* error) {
    if (done.exchange(true)) {
      assert(expired.load() && "a request was answered twice");
      return;
    }
    std::string line;
    RpcError too_large;
    if (!notification) line = result ? proto::encode_result(id, *result) : proto::encode_error(id, *error);
    if (max_reply_bytes > 0 && line.size() > max_reply_bytes) {
      const std::string_view hint = too_large_hint(method);
      too_large = RpcError{ErrorCode::kTooLarge,
                           "reply of " + std::to_string(line.size()) + " bytes exceeds the " +
                               std::to_string(max_reply_bytes) +
                               "-byte reply cap (the daemon's --max-reply-bytes); " + std::string(hint),
                           {{"reply_bytes", line.size()},
                            {"max_reply_bytes", max_reply_bytes},
                            {"hint", hint}}};
      error = &too_large;
      result = nullptr;
      line = proto::encode_error(id, too_large);
    }
    const double ms = clock.elapsed_ms();
    // The reply first: the log line and the telemetry event (which may wake the telemetry
    // writer) come after it is handed to the connection.
    const std::size_t bytes_out = line.size();
    SendFn fn = std::move(send);
    fn(std::move(line));
    const std::string id_text = id.is_null() ? std::string("-") : core::to_json_text(id);
    if (error) {
      spdlog::info("{} id={} {:.3f}ms error {} ({})", method.empty() ? "?" : method, id_text, ms,
                   proto::error_name(error->code), error->message);
    } else {
      spdlog::info("{} id={} {:.3f}ms ok", method, id_text, ms);
    }
    if (segment) {
      std::lock_guard lk(telemetry_mu);
      segment->requests.fetch_add(1, std::memory_order_relaxed);
      json::object res{{"status", error ? "error" : "ok"}};
      if (error) res["error"] = proto::error_name(error->code);
      for (auto& kv : telemetry_result) res[kv.key()] = std::move(kv.value());
      json::object x{{"bytes_in", bytes_in}, {"bytes_out", bytes_out}};
      for (auto& kv : telemetry_x) x[kv.key()] = std::move(kv.value());
      (void)segment->telemetry.event(method, std::move(telemetry_args), std::move(res), ms, {}, std::move(x));
    }
  }
};

Reply::~Reply() {
  if (s_ && !s_->done.load()) {
    // An exception unwinding out of a handler inside dispatch(): dispatch() answers with its message.
    if (std::uncaught_exceptions() > 0 && s_->in_dispatch) return;
    assert(std::uncaught_exceptions() > 0 && "handler dropped its Reply without answering");
    RpcError e{ErrorCode::kInternalError, "handler for '" + s_->method + "' finished without replying", {}};
    s_->finish(nullptr, &e);
  }
}

void Reply::ok(json::value result) { s_->finish(&result, nullptr); }
void Reply::fail(RpcError error) { s_->finish(nullptr, &error); }
bool Reply::answered() const { return s_->done.load(); }

void Reply::telemetry(json::object args, json::object result, json::object x) {
  std::lock_guard lk(s_->telemetry_mu);
  s_->telemetry_args = std::move(args);
  s_->telemetry_result = std::move(result);
  s_->telemetry_x = std::move(x);
}

struct Dispatcher::Deadlines {
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds period{0};
  std::function<void(std::chrono::milliseconds, std::function<void()>)> schedule;
  std::mutex mu;
  // In the order dispatch() registered them: deadlines ascending but for the few microseconds
  // between two workers' clocks (a deadline behind a later one is answered one sweep late).
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::weak_ptr<Reply::State>>> due;
  bool armed = false;  // a sweep is scheduled

  // Whether an entry's request needs no deadline any more (answered, or its state gone).
  static bool answered(const std::weak_ptr<Reply::State>& w) {
    const auto s = w.lock();
    return !s || s->done.load();
  }

  static void sweep(const std::shared_ptr<Deadlines>& d) {
    std::vector<std::shared_ptr<Reply::State>> late;
    bool again = false;
    {
      const auto now = std::chrono::steady_clock::now();
      std::lock_guard lk(d->mu);
      while (!d->due.empty()) {
        auto& [at, weak] = d->due.front();
        auto s = weak.lock();
        if (s && !s->done.load()) {
          if (at > now) break;
          late.push_back(std::move(s));
        }
        d->due.pop_front();
      }
      // Answered requests behind a long one still in flight: dropped in bulk once they pile up.
      if (d->due.size() > 4096) {
        std::erase_if(d->due, [](const auto& e) { return answered(e.second); });
      }
      again = !d->due.empty();
      d->armed = again;
    }
    for (const auto& s : late) s->expire(d->timeout);
    if (again) d->schedule(d->period, [d] { sweep(d); });
  }
};

void Dispatcher::set_limits(Limits limits) {
  limits_ = std::move(limits);
  deadlines_.reset();
  if (limits_.request_timeout.count() > 0 && limits_.schedule) {
    deadlines_ = std::make_shared<Deadlines>();
    deadlines_->timeout = limits_.request_timeout;
    deadlines_->period = deadline_period();
    deadlines_->schedule = limits_.schedule;
  }
}

std::chrono::milliseconds Dispatcher::deadline_period() const {
  using std::chrono::milliseconds;
  return std::clamp(limits_.request_timeout / 10, milliseconds(10), milliseconds(1000));
}

void Dispatcher::watch_deadline(const std::shared_ptr<Reply::State>& state) const {
  Deadlines& d = *deadlines_;
  bool arm = false;
  {
    std::lock_guard lk(d.mu);
    // Answered requests at the front go now, not at the next sweep: an entry's weak_ptr keeps
    // its request's memory block (make_shared) allocated until the entry is dropped.
    while (!d.due.empty() && Deadlines::answered(d.due.front().second)) d.due.pop_front();
    d.due.emplace_back(std::chrono::steady_clock::now() + d.timeout, state);
    arm = !std::exchange(d.armed, true);
  }
  if (arm) d.schedule(d.period, [dl = deadlines_] { Deadlines::sweep(dl); });
}

bool require_segment(const Context& ctx, Reply& reply) {
  if (ctx.segment) return true;
  reply.fail(RpcError{ErrorCode::kInvalidParams, "params.segment: missing required field (the segment root directory)", {}});
  return false;
}

void Dispatcher::bind(std::string name, Handler handler, SegmentParam segment) {
  table_[std::move(name)] = Method{std::move(handler), segment};
}

std::vector<std::string> Dispatcher::methods() const {
  std::vector<std::string> out;
  for (const auto& [k, _] : table_) out.push_back(k);
  return out;
}

void Dispatcher::dispatch(std::string_view line, Peer peer, SendFn send) const {
  dispatch(proto::parse_request(line), line.size(), std::move(peer), std::move(send));
}

void Dispatcher::dispatch(proto::ParsedRequest parsed, std::size_t line_bytes, Peer peer, SendFn send) const {
  auto state = std::make_shared<Reply::State>();
  state->send = std::move(send);
  state->bytes_in = line_bytes;
  state->max_reply_bytes = limits_.max_reply_bytes;
  if (!parsed.request) {
    state->id = parsed.id;
    Reply(state).fail(parsed.error);
    return;
  }
  proto::Request& req = *parsed.request;
  state->id = req.id;
  state->notification = req.notification;
  state->method = req.method;
  Reply reply(state);
  if (deadlines_ && !req.notification) watch_deadline(state);

  auto it = table_.find(req.method);
  if (it == table_.end()) {
    reply.fail(RpcError{ErrorCode::kMethodNotFound, "unknown method '" + req.method + "'", {}});
    return;
  }

  Context ctx;
  ctx.method = req.method;
  ctx.id = req.id;
  ctx.peer = peer;
  if (auto* seg = req.params.if_contains("segment");
      seg && !seg->is_null() && it->second.segment == SegmentParam::kOpen) {
    if (!seg->is_string()) {
      reply.fail(RpcError{ErrorCode::kInvalidParams, "params.segment: expected a string", {}});
      return;
    }
    auto opened = segments_.open(std::string(seg->get_string()));
    if (!opened) {
      RpcError e = to_rpc_error(opened.error());
      // A bad path is the caller's parameter; a full registry (TOO_LARGE) is not, and keeps its
      // code (docs/protocol.md "Segments").
      if (opened.error().code != core::Errc::kTooLarge) e.code = ErrorCode::kInvalidParams;
      e.message = "params.segment: " + e.message;
      reply.fail(std::move(e));
      return;
    }
    ctx.segment = *opened;
    state->segment = *opened;
    json::object args = req.params;
    args.erase("segment");
    std::lock_guard lk(state->telemetry_mu);
    state->telemetry_args = std::move(args);
  }
  ctx.params = std::move(req.params);

  state->in_dispatch = true;
  try {
    it->second.handler(ctx, std::move(reply));
  } catch (const std::exception& ex) {
    spdlog::error("{}: handler threw: {}", ctx.method, ex.what());
    if (!state->done.load()) {
      RpcError e{ErrorCode::kInternalError, std::string("internal error: ") + ex.what(), {}};
      state->finish(nullptr, &e);
    }
  } catch (...) {
    spdlog::error("{}: handler threw a non-standard exception", ctx.method);
    if (!state->done.load()) {
      RpcError e{ErrorCode::kInternalError, "internal error: unknown exception", {}};
      state->finish(nullptr, &e);
    }
  }
  state->in_dispatch = false;
}

Dispatcher::Route Dispatcher::route(std::string_view line) const {
  Route r;
  if (line.size() > kQuickLineBytes) return r;  // parsed by dispatch(), on the worker
  r.parsed = proto::parse_request(line);
  if (!r.parsed->request) return r;  // dispatch() answers the parse error
  const proto::Request& req = *r.parsed->request;
  const std::string_view method = req.method;
  if (!table_.count(method)) return r;
  const json::value* seg = req.params.if_contains("segment");
  const bool names_segment = seg && !seg->is_null();
  if (!names_segment && (method == "ping" || method == "hello")) {
    r.lane = Lane::kInline;
  } else if (!names_segment && method == "status") {
    r.lane = Lane::kQuick;
  } else if (names_segment && seg->is_string()) {
    const json::value* wait = req.params.if_contains("wait");
    const bool no_wait = wait && wait->is_bool() && !wait->get_bool();
    // Only a segment already open: opening one (loading its index) is work for a worker.
    if ((method == "ctx.status" || no_wait) && segments_.find(std::string_view(seg->get_string()))) {
      r.lane = Lane::kQuick;
    }
  }
  return r;
}

void Dispatcher::reject_busy(std::string_view line, std::size_t limit, SendFn send) const {
  auto state = std::make_shared<Reply::State>();
  state->send = std::move(send);
  proto::ParsedRequest parsed = proto::parse_request(line);
  if (parsed.request) {
    state->id = parsed.request->id;
    state->notification = parsed.request->notification;
    state->method = parsed.request->method;
  } else {
    state->id = parsed.id;
  }
  Reply(state).fail(RpcError{ErrorCode::kServerBusy,
                             "too many requests in flight on this connection (limit " +
                                 std::to_string(limit) + "); wait for replies before sending more",
                             {}});
}

}  // namespace trifecta::daemon
