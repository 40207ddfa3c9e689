#include "socket_setup.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "config.hpp"
#include "trifecta/proto/socket_dir.hpp"

namespace trifecta::daemon {

using core::Errc;
using core::make_error;

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string read_pid(const fs::path& p) {
  std::ifstream in(p);
  std::string pid;
  in >> pid;
  return pid;
}

core::Result<int> take_lock(const fs::path& dir) {
  const fs::path lock = dir / proto::kDaemonLockFile;
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(Errc::kIo, "cannot open lock file " + lock.string() + ": " + errno_text());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      const std::string pid = read_pid(dir / proto::kDaemonPidFile);
      return make_error(Errc::kUnavailable, "another trifectad is already running on this socket" +
                                                (pid.empty() ? std::string() : " (pid " + pid + ")"));
    }
    return make_error(Errc::kIo, "cannot lock " + lock.string() + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace

core::Result<void> prepare_socket_dir(const fs::path& socket_path) {
  if (socket_path.string().size() > kMaxSocketPathBytes) {
    return make_error(Errc::kInvalidArgument,
                      "socket path is " + std::to_string(socket_path.string().size()) +
                          " bytes; the limit is " + std::to_string(kMaxSocketPathBytes) +
                          " (use --socket or TRIFECTA_SOCKET with a shorter path)");
  }
  const fs::path dir = socket_path.parent_path();
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return make_error(Errc::kIo, "cannot create socket directory " + dir.string() + ": " + errno_text());
    }
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return make_error(Errc::kIo, "cannot stat " + dir.string() + ": " + errno_text());
  if (!S_ISDIR(st.st_mode)) return make_error(Errc::kInvalidArgument, dir.string() + " is not a directory");
  if (st.st_uid != ::geteuid()) {
    return make_error(Errc::kPermission, "socket directory " + dir.string() + " is owned by uid " +
                                             std::to_string(st.st_uid) + ", not by us; refusing to use it");
  }
  if ((st.st_mode & 077) != 0) {
    // Ours but too open: tightened when it is trifecta's own (created by hand, empty or holding
    // only a daemon's files); a shared one is never changed (proto/socket_dir.hpp).
    if (!proto::daemon_only_dir(socket_path)) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      return make_error(Errc::kPermission,
                        "socket directory " + dir.string() + " (mode " + mode +
                            ") is open to others and shared (sticky, or holding other files); "
                            "trifectad does not change a shared directory's mode: put the socket in "
                            "a directory of its own, "
                            "e.g. --socket " + (dir / "trifecta" / socket_path.filename()).string());
    }
    if (::chmod(dir.c_str(), 0700) != 0) {
      return make_error(Errc::kPermission, "socket directory " + dir.string() + " is accessible by others "
                                           "and cannot be made 0700: " + errno_text());
    }
  }
  return {};
}

core::Result<ClaimedSocket> claim_socket(const fs::path& socket_path, int backlog) {
  if (auto ok = prepare_socket_dir(socket_path); !ok) return ok.error();
  auto lock = take_lock(socket_path.parent_path());
  if (!lock) return std::move(lock).error();

  ClaimedSocket s;
  s.lock_fd = *lock;
  s.socket_path = socket_path;
  s.pid_path = socket_path.parent_path() / proto::kDaemonPidFile;

  // We hold the lock, so anything at the path is a stale socket from a dead daemon.
  struct stat st {};
  if (::lstat(socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      ::close(s.lock_fd);
      return make_error(Errc::kInvalidArgument, socket_path.string() + " exists and is not a socket; refusing to remove it");
    }
    ::unlink(socket_path.c_str());
  }

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::close(s.lock_fd);
    return make_error(Errc::kIo, std::string("socket(): ") + errno_text());
  }
  // Bound and listening under a staging name first, then renamed into place: the socket file
  // appears only once a connect to it succeeds (a client that waits for the file, as editors do,
  // never meets the window between bind and listen, where a connect is refused). The staging name
  // is the path plus ".tmp" (≤ 107 bytes, within sun_path); one left by a daemon killed between
  // bind and rename is ours to remove, since we hold the lock.
  const std::string staging = socket_path.string() + ".tmp";
  if (::lstat(staging.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(staging.c_str());
  sockaddr_un addr{};
  static_assert(kMaxSocketPathBytes + 4 < sizeof addr.sun_path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, staging.c_str(), staging.size() + 1);
  // Create the socket file 0600 from the start (no window where it is wider).
  const mode_t old = ::umask(0177);
  const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0 || ::chmod(staging.c_str(), 0600) != 0 || ::listen(fd, backlog) != 0 ||
      ::rename(staging.c_str(), socket_path.c_str()) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    if (rc == 0) ::unlink(staging.c_str());
    ::close(s.lock_fd);
    return make_error(Errc::kIo, "cannot listen on " + socket_path.string() + ": " + why);
  }
  s.listen_fd = fd;
  write_pid_file(s);
  return s;
}

core::Result<ClaimedSocket> adopt_systemd_socket(const fs::path& socket_path) {
  ClaimedSocket s;
  const int n = sd_listen_fds(1);  // 1: unset LISTEN_* so children do not inherit them
  if (n <= 0) return s;
  if (n > 1) return make_error(Errc::kInvalidArgument, "systemd passed " + std::to_string(n) + " sockets; expected 1");
  const int fd = SD_LISTEN_FDS_START;
  if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0) {
    return make_error(Errc::kInvalidArgument, "the socket passed by systemd is not a listening Unix stream socket");
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  s.listen_fd = fd;
  s.activated = true;
  s.socket_path = socket_path;
  s.pid_path = socket_path.parent_path() / proto::kDaemonPidFile;
  std::error_code ec;
  if (fs::is_directory(socket_path.parent_path(), ec)) {
    auto lock = take_lock(socket_path.parent_path());
    if (!lock) return std::move(lock).error();
    s.lock_fd = *lock;
    write_pid_file(s);
  }
  return s;
}

void write_pid_file(const ClaimedSocket& s) {
  if (s.pid_path.empty() || s.lock_fd < 0) return;
  const fs::path tmp = s.pid_path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << ::getpid() << '\n';
  }
  std::error_code ec;
  fs::rename(tmp, s.pid_path, ec);
}

void release_socket(const ClaimedSocket& s) {
  if (!s.activated && !s.socket_path.empty()) ::unlink(s.socket_path.c_str());
  if (s.lock_fd >= 0 && !s.pid_path.empty()) ::unlink(s.pid_path.c_str());
}

}  // namespace trifecta::daemon
