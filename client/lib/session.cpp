#include "session.hpp"

namespace trifecta::client {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

Session::Session(SessionOptions opts) : opts_(std::move(opts)) {
  if (opts_.socket.empty()) opts_.socket = default_socket_path();
}

bool Session::open(ClientError* err) {
  ConnectOptions o;
  o.socket = opts_.socket;
  o.spawn = opts_.spawn;
  o.spawn_wait = opts_.spawn_wait;
  auto c = connect_or_spawn(o, err, &spawned_);
  if (!c) return false;
  conn_.emplace(std::move(*c));
  proto::HelloParams hello;
  hello.client_name = opts_.client_name;
  hello.client_version = proto::kVersion;
  hello.protocol = proto::protocol_version();
  auto r = call(proto::spec::kHello, hello, err);
  if (!r) {
    // A hello that does not decode is not a reply to the caller's request: no line to forward.
    if (err->code == ClientErrc::kProtocol) err->reply_line.clear();
    conn_.reset();
    return false;
  }
  daemon_pid_ = r->pid;
  return true;
}

std::optional<Reply> Session::call(std::string_view method, const json::object& params,
                                   ClientError* err) {
  if (!conn_) {
    *err = {ClientErrc::kIo, "not connected to trifectad"};
    return std::nullopt;
  }
  const std::int64_t id = next_id_++;
  const auto deadline = Clock::now() + opts_.timeout;
  auto remote = [&](std::string line, const proto::RpcError& e) {
    *err = ClientError(ClientErrc::kRemote, e.message);
    err->rpc = e;
    err->reply_line = std::move(line);
    return std::nullopt;
  };
  if (!conn_->send_line(proto::encode_request(id, method, params), err)) {
    // The daemon may have refused the connection (another uid, too many connections) and closed
    // it before our request went out: its error line is still readable, and says why.
    ClientError ignored;
    if (auto line = conn_->read_line(Clock::now() + std::chrono::milliseconds(500), &ignored)) {
      if (auto resp = proto::parse_response(*line); resp && resp->error)
        return remote(std::move(*line), *resp->error);
    }
    return std::nullopt;
  }
  for (;;) {
    auto line = conn_->read_line(deadline, err);
    if (!line) return std::nullopt;
    // Notifications (progress) carry a method and no id.
    boost::system::error_code jec;
    const json::value jv = json::parse(*line, jec);
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
    auto resp = proto::parse_response(*line, &why);
    if (!resp) {
      *err = {ClientErrc::kProtocol, "malformed reply from trifectad: " + why};
      return std::nullopt;
    }
    // An error with a null id is about the connection itself (refused peer, oversized line).
    const bool ours = resp->id.is_int64() && resp->id.get_int64() == id;
    if (resp->error && (ours || resp->id.is_null())) return remote(std::move(*line), *resp->error);
    if (!ours) continue;
    if (!resp->result) {
      *err = {ClientErrc::kProtocol, "malformed reply from trifectad: neither result nor error"};
      return std::nullopt;
    }
    return Reply{std::move(*resp->result), std::move(*line)};
  }
}

}  // namespace trifecta::client
