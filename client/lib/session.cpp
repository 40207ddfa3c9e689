#include "session.hpp"

#include <utility>

namespace trifecta::client {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

json::object hello_params(const SessionOptions& o) {
  proto::HelloParams hello;
  hello.client_name = o.client_name;
  hello.client_version = proto::kVersion;
  hello.protocol = proto::protocol_version();
  return json::value_from(hello).as_object();
}

}  // namespace

Session::Session(SessionOptions opts) : opts_(std::move(opts)) {
  if (opts_.socket.empty()) opts_.socket = default_socket_path();
}

bool Session::connect(ClientError* err) {
  ConnectOptions o;
  o.socket = opts_.socket;
  o.spawn = opts_.spawn;
  o.spawn_wait = opts_.spawn_wait;
  auto c = connect_or_spawn(o, err, &spawned_);
  if (!c) return false;
  conn_.emplace(std::move(*c));
  pending_hello_ = 0;
  hello_line_.clear();
  return true;
}

bool Session::open(ClientError* err) {
  if (!connect(err)) return false;
  auto r = call(proto::spec::kHello.name, hello_params(opts_), err);
  if (!r) {
    // A hello that does not decode is not a reply to the caller's request: no line to forward.
    if (err->code == ClientErrc::kProtocol) err->reply_line.clear();
    conn_.reset();
    return false;
  }
  return accept_hello(&r->result, err);
}

bool Session::open_pipelined(ClientError* err) {
  if (!connect(err)) return false;
  // The hello goes out with the next call()'s request, in the same write; that call reads its
  // reply. A connection the daemon refused is reported by that call, as open() would report it.
  const std::int64_t id = next_id_++;
  hello_line_ = proto::encode_request(id, proto::spec::kHello.name, hello_params(opts_));
  pending_hello_ = id;
  return true;
}

bool Session::accept_hello(const json::value* result, ClientError* err) {
  // `result`: the hello's success reply's result (nullptr when the reply had none).
  std::optional<proto::HelloResult> h;
  if (result) h = decode_result<proto::HelloResult>(*result, err);
  else *err = {ClientErrc::kProtocol, "malformed reply from trifectad: neither result nor error"};
  if (!h) {
    err->reply_line.clear();  // not a reply to the caller's request: no line to forward
    conn_.reset();
    return false;
  }
  daemon_pid_ = h->pid;
  return true;
}

bool Session::send(std::int64_t id, std::string_view method, const json::object& params, ClientError* err) {
  std::string out = proto::encode_request(id, method, params);
  if (!hello_line_.empty()) out = std::exchange(hello_line_, {}) + out;  // a pipelined hello first
  if (conn_->send_line(out, err)) return true;
  // The daemon may have refused the connection (another uid, too many connections) and closed
  // it before our request went out: its error line is still readable, and says why.
  ClientError ignored;
  if (auto line = conn_->read_line(Clock::now() + std::chrono::milliseconds(500), &ignored)) {
    if (auto resp = proto::parse_response(*line); resp && resp->error) {
      *err = ClientError(ClientErrc::kRemote, resp->error->message);
      err->rpc = *resp->error;
      err->reply_line = std::move(*line);
    }
  }
  return false;
}

std::optional<Reply> Session::call(std::string_view method, const json::object& params,
                                   ClientError* err) {
  if (!conn_) {
    *err = {ClientErrc::kIo, "not connected to trifectad"};
    return std::nullopt;
  }
  const std::int64_t id = next_id_++;
  const auto deadline = Clock::now() + opts_.timeout;
  // Any failure while a pipelined hello is unanswered ends the session, as a failed open() does.
  const auto fail = [&]() -> std::optional<Reply> {
    if (pending_hello_ != 0) {
      if (err->code == ClientErrc::kProtocol) err->reply_line.clear();
      conn_.reset();
      pending_hello_ = 0;
    }
    return std::nullopt;
  };
  const auto remote = [&](std::string line, const proto::RpcError& e) {
    *err = ClientError(ClientErrc::kRemote, e.message);
    err->rpc = e;
    err->reply_line = std::move(line);
    return fail();
  };
  if (!send(id, method, params, err)) return fail();
  // The reply to this request, kept while a pipelined hello's reply is still to come (the
  // daemon may answer them in either order; the hello's verdict comes first).
  std::optional<std::pair<proto::Response, std::string>> mine;
  const auto finish = [&](proto::Response resp, std::string line) -> std::optional<Reply> {
    if (resp.error) return remote(std::move(line), *resp.error);
    if (!resp.result) {
      *err = {ClientErrc::kProtocol, "malformed reply from trifectad: neither result nor error"};
      return std::nullopt;
    }
    return Reply{std::move(*resp.result), std::move(line)};
  };
  for (;;) {
    if (mine && pending_hello_ == 0) return finish(std::move(mine->first), std::move(mine->second));
    auto line = conn_->read_line(deadline, err);
    if (!line) return fail();
    // Notifications (progress) carry a method and no id. The line is parsed once, here.
    boost::system::error_code jec;
    json::value jv = json::parse(*line, jec);
    if (!jec && jv.is_object()) {
      const auto& o = jv.get_object();
      const auto* m = o.if_contains("method");
      if (m && m->is_string() && !o.contains("id")) {
        if (on_notification_) {
          const auto* p = o.if_contains("params");
          on_notification_(std::string(m->get_string()),
                           p && p->is_object() ? p->get_object() : json::object{});
        }
        continue;
      }
    }
    std::string why;
    auto resp = jec ? proto::parse_response(*line, &why) : proto::parse_response_value(std::move(jv), &why);
    if (!resp) {
      *err = {ClientErrc::kProtocol, "malformed reply from trifectad: " + why};
      return fail();
    }
    const auto is = [&](std::int64_t want) { return resp->id.is_int64() && resp->id.get_int64() == want; };
    // An error with a null id is about the connection itself (refused peer, oversized line).
    if (resp->error && resp->id.is_null()) return remote(std::move(*line), *resp->error);
    if (pending_hello_ != 0 && is(pending_hello_)) {
      if (resp->error) return remote(std::move(*line), *resp->error);
      pending_hello_ = 0;
      if (!accept_hello(resp->result ? &*resp->result : nullptr, err)) return std::nullopt;
      continue;
    }
    if (!is(id)) continue;
    if (pending_hello_ != 0) {
      mine.emplace(std::move(*resp), std::move(*line));
      continue;
    }
    return finish(std::move(*resp), std::move(*line));
  }
}

}  // namespace trifecta::client
