// Test support: real processes and raw sockets for integration tests and benchmarks.
//  * run(): run a command, capture stdout/stderr/exit code (with a timeout);
//  * DaemonProcess: a real trifectad on a private socket in a temp dir, stopped at scope exit;
//  * RawClient: a Unix-socket client that can send anything (garbage included) and read lines.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#ifdef TRIFECTA_DOCS_DIR
#include "telemetry_schema.hpp"
#endif

extern char** environ;

namespace trifecta::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  std::string out, err;
};

// Environment = ours, with `overrides` set ("" value = unset).
inline std::vector<std::string> make_env(const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : overrides) {
    if (v.empty()) env.erase(k);
    else env[k] = v;
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

inline pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, int out_fd = -1,
                   int err_fd = -1) {
  std::vector<char*> a, e;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
  e.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, a[0], &fa, nullptr, a.data(), e.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("spawn " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// Wait for `pid` up to `timeout`; returns the exit code, or nullopt on timeout. -1 = signalled.
inline std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int st = 0;
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (r < 0) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(2ms);
  }
}

inline RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                     std::chrono::milliseconds timeout = 30s) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  const pid_t pid = spawn(argv, make_env(env), out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  RunResult r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  const auto deadline = Clock::now() + timeout;
  while (open_fds > 0 && Clock::now() < deadline) {
    if (::poll(fds, 2, 50) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[8192];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  for (auto& f : fds) if (f.fd >= 0) ::close(f.fd);
  auto code = wait_exit(pid, std::max<std::chrono::milliseconds>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()), 100ms));
  if (!code) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    r.exit_code = -1;
  } else {
    r.exit_code = *code;
  }
  return r;
}

class RawClient {
 public:
  explicit RawClient(const fs::path& socket) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, socket.c_str(), sizeof a.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  bool connected() const { return fd_ >= 0; }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // One line without '\n'; nullopt on timeout or when the peer closed.
  std::optional<std::string> line(std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return l;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char b[65536];
      const ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n <= 0) {
        closed_ = true;
        return std::nullopt;
      }
      buf_.append(b, static_cast<std::size_t>(n));
    }
  }
  // True when the daemon closed the connection within `timeout` (after any pending lines).
  bool closed_by_peer(std::chrono::milliseconds timeout = 10s) {
    while (!closed_) {
      if (!line(timeout) && !closed_) return false;
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string buf_;
  bool closed_ = false;
};

inline bool wait_for_socket(const fs::path& socket, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    RawClient c(socket);
    if (c.connected()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// A real trifectad in the foreground on a private socket; its state and telemetry go to the temp
// dir. Stopped with SIGTERM (then SIGKILL) at scope exit.
class DaemonProcess {
 public:
  explicit DaemonProcess(std::vector<std::string> extra_args = {}, bool start_now = true)
      : extra_(std::move(extra_args)) {
    socket_ = tmp_.path() / "run" / "d.sock";
    if (start_now) start();
  }
  ~DaemonProcess() {
    stop();
#ifdef TRIFECTA_DOCS_DIR
    // Every event and summary this daemon wrote (segment and daemon-level files, redirected into
    // this temp dir) must match docs/telemetry/*.schema.json.
    check_telemetry_tree(tmp_.path());
#endif
  }

  std::map<std::string, std::string> env() const {
    return {{"XDG_STATE_HOME", (tmp_.path() / "state").string()},
            {"XDG_RUNTIME_DIR", (tmp_.path() / "xdg").string()},
            {"TRIFECTA_SOCKET", socket_.string()},
            {"TRIFECTA_TELEMETRY_DIR", (tmp_.path() / "telemetry").string()},
            {"TRIFECTA_DAEMON", TRIFECTAD_BIN}};
  }
  std::vector<std::string> argv() const {
    std::vector<std::string> a{TRIFECTAD_BIN, "--foreground", "--socket", socket_.string(), "--enable-debug-methods"};
    if (std::find(extra_.begin(), extra_.end(), "--log-level") == extra_.end()) {
      a.insert(a.end(), {"--log-level", "warn"});
    }
    a.insert(a.end(), extra_.begin(), extra_.end());
    return a;
  }
  void start() {
    const fs::path log = tmp_.path() / "daemon.stderr";
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_ = spawn(argv(), make_env(env()), fd, fd);
    ::close(fd);
    if (!wait_for_socket(socket_, 10s)) throw std::runtime_error("trifectad did not come up on " + socket_.string());
  }
  // SIGTERM and wait; returns the exit code (nullopt: had to SIGKILL).
  std::optional<int> stop(std::chrono::milliseconds timeout = 15s) {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, SIGTERM);
    exit_code_ = wait_exit(pid_, timeout);
    if (!exit_code_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
    return exit_code_;
  }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return exit_code_;
    auto c = wait_exit(pid_, timeout);
    if (c) {
      exit_code_ = c;
      pid_ = -1;
    }
    return c;
  }
  pid_t pid() const { return pid_; }
  const fs::path& socket() const { return socket_; }
  const fs::path& dir() const { return tmp_.path(); }
  fs::path telemetry_dir() const { return tmp_.path() / "telemetry"; }
  fs::path state_dir() const { return tmp_.path() / "state" / "trifecta"; }
  RunResult cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) const {
    args.insert(args.begin(), TRIFECTA_BIN);
    return run(args, env(), timeout);
  }

 private:
  TempDir tmp_;
  std::vector<std::string> extra_;
  fs::path socket_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace trifecta::test
