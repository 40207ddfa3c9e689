#include "connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

extern char** environ;

namespace trifecta::client {

using Clock = std::chrono::steady_clock;

fs::path default_socket_path() {
  if (const char* s = std::getenv("TRIFECTA_SOCKET"); s && *s) return s;
  if (const char* r = std::getenv("XDG_RUNTIME_DIR"); r && *r) return fs::path(r) / "trifecta" / "trifectad.sock";
  return fs::path("/tmp") / ("trifecta-" + std::to_string(::geteuid())) / "trifectad.sock";
}

std::string daemon_binary() {
  if (const char* d = std::getenv("TRIFECTA_DAEMON"); d && *d) return d;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& candidate : {self.parent_path() / "trifectad", self.parent_path().parent_path() / "daemon" / "trifectad"}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
  }
  return "trifectad";
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<Connection> Connection::try_connect(const fs::path& socket, ClientError* err) {
  const std::string path = socket.string();
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    *err = {ClientErrc::kIo, "socket path too long (" + std::to_string(path.size()) + " bytes): " + path,
            "use --socket or TRIFECTA_SOCKET with a shorter path"};
    return std::nullopt;
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = {ClientErrc::kIo, std::string("socket(): ") + std::strerror(errno), ""};
    return std::nullopt;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd);
    const bool absent = e == ENOENT || e == ECONNREFUSED;
    *err = {absent ? ClientErrc::kUnavailable : ClientErrc::kIo,
            "cannot connect to trifectad at " + path + ": " + std::strerror(e),
            absent ? "start it with `trifecta daemon start` (or drop --no-spawn)" : "check the socket's permissions"};
    return std::nullopt;
  }
  Connection c;
  c.fd_ = fd;
  return c;
}

bool Connection::send_line(std::string_view line, ClientError* err) {
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::send(fd_, p, left, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *err = {ClientErrc::kIo, std::string("sending to trifectad failed: ") + std::strerror(errno), ""};
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<std::string> Connection::read_line(Clock::time_point deadline, ClientError* err) {
  for (;;) {
    if (const auto nl = buf_.find('\n'); nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      *err = {ClientErrc::kTimeout, "trifectad did not answer in time", "retry with a larger --timeout"};
      return std::nullopt;
    }
    pollfd pfd{fd_, POLLIN, 0};
    const int pr = ::poll(&pfd, 1, static_cast<int>(left));
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) continue;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *err = {ClientErrc::kUnavailable, "trifectad closed the connection", "see the daemon log ($XDG_STATE_HOME/trifecta/trifectad.log)"};
      return std::nullopt;
    }
    buf_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool spawn_daemon(const fs::path& socket, std::chrono::milliseconds wait, ClientError* err) {
  const std::string bin = daemon_binary();
  const std::string sock = socket.string();
  const char* argv[] = {bin.c_str(), "--socket", sock.c_str(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, bin.c_str(), &fa, &attr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    *err = {ClientErrc::kUnavailable, "cannot start " + bin + ": " + std::strerror(rc),
            "install trifectad or set TRIFECTA_DAEMON to its path"};
    return false;
  }
  // trifectad's foreground process exits once the daemon serves (0), or when another daemon holds
  // the socket (3: fine, that one serves). Anything else is a start failure.
  const auto deadline = Clock::now() + wait;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (Clock::now() >= deadline) {
      *err = {ClientErrc::kTimeout, "trifectad did not become ready within " + std::to_string(wait.count()) + " ms",
              "see the daemon log ($XDG_STATE_HOME/trifecta/trifectad.log)"};
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3)) return true;
  *err = {ClientErrc::kUnavailable, "trifectad failed to start (exit status " +
                                        std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")",
          "run `trifectad --foreground` to see why"};
  return false;
}

std::optional<Connection> connect_or_spawn(const ConnectOptions& opts, ClientError* err, bool* spawned) {
  if (spawned) *spawned = false;
  if (auto c = Connection::try_connect(opts.socket, err)) return c;
  if (!opts.spawn || err->code != ClientErrc::kUnavailable) return std::nullopt;
  if (!spawn_daemon(opts.socket, opts.spawn_wait, err)) return std::nullopt;
  if (spawned) *spawned = true;
  // The winner of a start race may still be between lock and listen: retry briefly.
  const auto deadline = Clock::now() + opts.spawn_wait;
  for (;;) {
    if (auto c = Connection::try_connect(opts.socket, err)) return c;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace trifecta::client
