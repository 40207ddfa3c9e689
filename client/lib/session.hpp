// client/lib/session.hpp — one conversation with trifectad: connect (or auto-start it), say
// hello, then call methods, each with a deadline.
//
// A frontend (the CLI, the MCP server, an editor bridge) builds a Session from SessionOptions,
// calls open() once (or open_pipelined(): the first call() then reads hello's reply too) and
// then call() per request. Notifications that arrive while a call waits
// (e.g. `ctx.progress` during ctx.build) go to the callback set with on_notification(); replies
// to other ids are skipped.
//
// The typed call takes a catalog row (`proto::spec::kCtxSearch`) and its Params struct, and
// returns its Result struct, decoded with proto::decode: a reply that does not match the
// contract is a kProtocol error naming the field ("malformed reply from trifectad:
// result.hits[0].path: missing required field"), never an exception. The raw call is for
// frontends that forward JSON as is.
//
// Failure behaviour: errors are values. open() and call() return nullopt and fill a ClientError:
// kUnavailable (no daemon / it closed the connection), kTimeout (the deadline passed), kIo,
// kProtocol (a reply line that is not JSON-RPC, or a result that does not decode: then
// `reply_line` holds the line), kRemote (the daemon answered with an error: `rpc` holds it,
// `reply_line` the raw line for --json output).
//
// Thread rules: single-threaded use (but see native_handle()); the notification callback runs
// on the caller's thread, inside call().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "trifecta/proto/catalog.hpp"
#include "trifecta/proto/protocol.hpp"

namespace trifecta::client {

struct SessionOptions {
  fs::path socket;                             // empty: default_socket_path()
  bool spawn = true;                           // auto-start trifectad when nothing answers
  std::chrono::milliseconds timeout{30000};    // deadline of every call (hello included)
  std::chrono::milliseconds spawn_wait{10000};  // how long an auto-start may take
  std::string client_name = "trifecta-cli";    // sent in hello
};

// A successful reply: the result and the raw line it came in (printed as is by --json).
struct Reply {
  boost::json::value result;
  std::string line;
};

// Extras of a typed call: the segment it is about (sent as `params.segment` unless empty), and
// where to put the raw reply line (for --json output; filled on success and on a decode failure).
struct CallOptions {
  std::string segment;
  std::string* reply_line = nullptr;
};

// Decode a method's `result`; nullopt + kProtocol ClientError naming the field on a mismatch.
template <class R>
std::optional<R> decode_result(const boost::json::value& result, ClientError* err) {
  R out{};
  if (auto bad = proto::decode(result, out, "result")) {
    *err = ClientError(ClientErrc::kProtocol, "malformed reply from trifectad: " + *bad);
    return std::nullopt;
  }
  return out;
}

using NotificationFn =
    std::function<void(const std::string& method, const boost::json::object& params)>;

class Session {
 public:
  explicit Session(SessionOptions opts);

  // Connect (auto-starting when allowed) and say hello. On failure fills `err`.
  bool open(ClientError* err);
  // Connect and queue hello without waiting for its reply: the next call() writes it and its own
  // request in one write and then reads both replies (one round trip instead of two, one write
  // instead of two; the CLI's start-up).
  // The hello's failure — a refused protocol, a reply that does not decode — is then reported by
  // that call() exactly as open() would have reported it (same ClientError, the request's reply
  // is not used), and the session is closed. For requests without side effects only: the daemon
  // answers the request even when it refuses the hello. daemon_pid() is known after that call().
  bool open_pipelined(ClientError* err);
  bool is_open() const { return conn_.has_value(); }

  // Send one request and wait for its reply until the deadline. nullopt + `err` on failure,
  // including an error reply (ClientErrc::kRemote).
  std::optional<Reply> call(std::string_view method, const boost::json::object& params,
                            ClientError* err);

  // The typed call: params encoded from P (plus `segment`), the result decoded into R.
  template <class P, class R>
  std::optional<R> call(const proto::MethodSpec<P, R>& method, const P& params, ClientError* err,
                        const CallOptions& opts = {}) {
    boost::json::value pv = boost::json::value_from(params);
    boost::json::object& po = pv.as_object();  // described structs encode as objects
    if (!opts.segment.empty()) po["segment"] = opts.segment;
    auto reply = call(method.name, po, err);
    if (!reply) return std::nullopt;
    auto out = decode_result<R>(reply->result, err);
    if (opts.reply_line) *opts.reply_line = reply->line;
    if (!out) err->reply_line = std::move(reply->line);
    return out;
  }

  void on_notification(NotificationFn fn) { on_notification_ = std::move(fn); }

  const fs::path& socket_path() const { return opts_.socket; }
  // The connection's socket (-1 when not open): another thread may ::shutdown() it to make a
  // waiting call() fail at once (the MCP server cancels a request so). Nothing else may be done
  // with it.
  int native_handle() const { return conn_ ? conn_->native_handle() : -1; }
  // From the hello reply; -1 when the daemon did not say.
  std::int64_t daemon_pid() const { return daemon_pid_; }
  // Whether open() started the daemon.
  bool spawned() const { return spawned_; }

 private:
  SessionOptions opts_;
  std::optional<Connection> conn_;
  std::int64_t next_id_ = 1;
  std::int64_t daemon_pid_ = -1;
  bool spawned_ = false;
  std::int64_t pending_hello_ = 0;  // open_pipelined: the id of the hello whose reply is unread
  std::string hello_line_;          // open_pipelined: the hello, written with the next request
  NotificationFn on_notification_;
  bool connect(ClientError* err);
  // Write one request; on failure read the refusal the daemon may have sent before closing.
  bool send(std::int64_t id, std::string_view method, const boost::json::object& params, ClientError* err);
  // The hello's success reply's `result` (nullptr: the reply had none): true when it decodes
  // (daemon_pid_ set); otherwise `err` says why and the session is closed.
  bool accept_hello(const boost::json::value* result, ClientError* err);
};

}  // namespace trifecta::client
