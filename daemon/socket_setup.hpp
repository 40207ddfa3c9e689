// daemon/socket_setup.hpp — claiming the daemon's socket safely (plain POSIX, no Asio).
//
// Order matters and is the whole point of this module:
//  1. the socket directory exists, is owned by us and is mode 0700: created so when missing; an
//     existing one owned by someone else is refused; one of ours with group/other access is
//     tightened to 0700 only when it is trifecta's own (nothing in it but a daemon's socket,
//     lock and pid files, and no sticky bit), else refused unchanged — a shared directory such
//     as /tmp or a home directory is never chmod-ed;
//  2. `<dir>/trifectad.lock` is locked with flock(LOCK_EX|LOCK_NB) and kept for the daemon's life;
//     failure means another daemon owns the socket: a clean, typed refusal;
//  3. only then is a stale socket (left by a killed daemon) unlinked, the new one bound, chmod 0600,
//     and listened on; `<dir>/trifectad.pid` records our pid.
// With systemd socket activation the listening fd is inherited instead (sd_listen_fds) and the
// socket file belongs to systemd: it is neither unlinked nor removed at exit.
//
// Thread rules: called from main() before any thread exists.
// Failure: every function returns Result with a message fit for the user.
#pragma once

#include <filesystem>
#include <string>

#include "util/result.hpp"

namespace trifecta::daemon {

namespace fs = std::filesystem;

struct ClaimedSocket {
  int listen_fd = -1;
  int lock_fd = -1;
  bool activated = false;  // inherited from systemd
  fs::path socket_path;
  fs::path pid_path;
};

// Create/check the 0700 directory for `socket_path`.
core::Result<void> prepare_socket_dir(const fs::path& socket_path);

// Take the lock, recover a stale socket, bind and listen under `socket_path` + ".tmp" and rename
// it into place, so the socket file exists only once connects to it succeed. Errc::kUnavailable
// when another daemon holds the lock (the message names its pid when known).
core::Result<ClaimedSocket> claim_socket(const fs::path& socket_path, int backlog = 128);

// If systemd passed exactly one listening Unix socket, adopt it (and still take the lock file next
// to `socket_path` so a hand-started daemon cannot steal the path). Returns listen_fd -1 otherwise.
core::Result<ClaimedSocket> adopt_systemd_socket(const fs::path& socket_path);

// Write our pid into the pid file (after a fork, call again from the child).
void write_pid_file(const ClaimedSocket& s);

// Remove socket (unless activated) and pid file; the lock goes with the process.
void release_socket(const ClaimedSocket& s);

}  // namespace trifecta::daemon
