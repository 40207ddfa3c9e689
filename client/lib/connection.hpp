// client/lib/connection.hpp — a client's side of the socket: connect (or auto-start trifectad), send
// requests, read replies. Blocking I/O with poll() deadlines; no Asio (the client must start fast).
//
// Auto-start: when nothing answers on the socket and spawning is allowed, run `trifectad --socket
// <path>`; it daemonizes and exits 0 once it serves (or 3 when another daemon won a start race),
// then connect again, retrying for up to `spawn_wait`. Several clients racing end with one daemon:
// the daemon's lock file decides, the losers' daemons exit, every client connects to the winner.
//
// Thread rules: single-threaded use. Failure: typed ClientError values, never exceptions.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "trifecta/proto/protocol.hpp"

namespace trifecta::client {

namespace fs = std::filesystem;
namespace json = boost::json;

enum class ClientErrc {
  kUnavailable,  // nothing listens, or the daemon closed the connection
  kTimeout,      // a deadline passed
  kProtocol,     // a reply that is not JSON-RPC, or a malformed result
  kIo,           // the socket failed
  kRemote,       // the daemon answered with an error reply (see `rpc`)
};

struct ClientError {
  ClientError() = default;
  ClientError(ClientErrc c, std::string m, std::string h = {}) : code(c), message(std::move(m)), hint(std::move(h)) {}

  ClientErrc code = ClientErrc::kIo;
  std::string message;
  std::string hint;
  std::optional<proto::RpcError> rpc;  // kRemote: the daemon's error
  std::string reply_line;              // kRemote, or a result that did not decode: the raw line
};

fs::path default_socket_path();
// The trifectad binary to auto-start: $TRIFECTA_DAEMON, next to this executable, the build tree's
// ../daemon/trifectad, then `trifectad` on PATH.
std::string daemon_binary();

class Connection {
 public:
  Connection() = default;
  ~Connection();
  Connection(Connection&& o) noexcept : fd_(o.fd_), buf_(std::move(o.buf_)) { o.fd_ = -1; }
  Connection& operator=(Connection&&) = delete;

  // Connect once. ClientErrc::kUnavailable when nothing listens.
  static std::optional<Connection> try_connect(const fs::path& socket, ClientError* err);

  bool send_line(std::string_view line, ClientError* err);
  // Read one reply line (without '\n') before the deadline.
  std::optional<std::string> read_line(std::chrono::steady_clock::time_point deadline, ClientError* err);

  // The socket, for a frontend that must interrupt a blocked read from another thread
  // (::shutdown(fd, SHUT_RDWR): the read then fails). -1 when closed.
  int native_handle() const { return fd_; }

 private:
  int fd_ = -1;
  std::string buf_;
};

struct ConnectOptions {
  fs::path socket;
  bool spawn = true;
  std::chrono::milliseconds spawn_wait{10000};
};

// Connect, auto-starting the daemon if allowed. `spawned` tells whether this call started it.
std::optional<Connection> connect_or_spawn(const ConnectOptions& opts, ClientError* err, bool* spawned = nullptr);

// Start trifectad on `socket` and wait for it to serve. Ok when it serves (started by us or not).
bool spawn_daemon(const fs::path& socket, std::chrono::milliseconds wait, ClientError* err);

}  // namespace trifecta::client
