#include "dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cassert>
#include <exception>

#include "util/json_text.hpp"

namespace trifecta::daemon {

using proto::ErrorCode;
using proto::RpcError;

struct Reply::State {
  SendFn send;
  json::value id;
  bool notification = false;
  std::string method;
  core::Stopwatch clock;
  std::shared_ptr<Segment> segment;
  json::object telemetry_args;
  json::object telemetry_result;  // merged over {status, error}
  json::object telemetry_x;       // merged over {bytes_in, bytes_out}
  std::size_t bytes_in = 0;
  std::atomic<bool> done{false};
  bool in_dispatch = false;  // the handler is running synchronously inside dispatch()

  void finish(const json::value* result, const RpcError* error) {
    if (done.exchange(true)) {
      assert(!"a request was answered twice");
      return;
    }
    std::string line;
    if (!notification) line = result ? proto::encode_result(id, *result) : proto::encode_error(id, *error);
    const double ms = clock.elapsed_ms();
    const std::string id_text = id.is_null() ? std::string("-") : core::to_json_text(id);
    if (error) {
      spdlog::info("{} id={} {:.3f}ms error {} ({})", method.empty() ? "?" : method, id_text, ms,
                   proto::error_name(error->code), error->message);
    } else {
      spdlog::info("{} id={} {:.3f}ms ok", method, id_text, ms);
    }
    if (segment) {
      segment->requests.fetch_add(1, std::memory_order_relaxed);
      json::object res{{"status", error ? "error" : "ok"}};
      if (error) res["error"] = proto::error_name(error->code);
      for (auto& kv : telemetry_result) res[kv.key()] = std::move(kv.value());
      json::object x{{"bytes_in", bytes_in}, {"bytes_out", line.size()}};
      for (auto& kv : telemetry_x) x[kv.key()] = std::move(kv.value());
      (void)segment->telemetry.event(method, std::move(telemetry_args), std::move(res), ms, {}, std::move(x));
    }
    SendFn fn = std::move(send);
    fn(std::move(line));
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
  s_->telemetry_args = std::move(args);
  s_->telemetry_result = std::move(result);
  s_->telemetry_x = std::move(x);
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
  auto state = std::make_shared<Reply::State>();
  state->send = std::move(send);
  state->bytes_in = line.size();
  proto::ParsedRequest parsed = proto::parse_request(line);
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
