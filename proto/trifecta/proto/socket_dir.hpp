// proto/socket_dir.hpp — what may be done to the socket's directory (docs/protocol.md,
// "Transport and framing"), shared by trifectad (which creates and checks it) and `trifecta
// doctor` (which reports on it).
//
// The directory must be owned by the daemon's user with no group or other access. trifectad
// creates it 0700 when it is missing. An existing one of ours that is too open is tightened to
// 0700 only when it is trifecta's own: `daemon_only_dir` — no sticky bit, and nothing in it but
// a daemon's files (the socket, `trifectad.lock`, `trifectad.pid`, and the `.tmp` names the
// socket and the pid file are written under first). A
// shared directory (`/tmp`, a home directory) is never chmod-ed: `--socket /tmp/x.sock` run as
// root once made /tmp 0700 for every user. The daemon refuses such a directory instead.
//
// Thread rules: pure functions over the filesystem. Failure: an unreadable directory is not
// trifecta's own (false).
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace trifecta::proto {

inline constexpr const char* kDaemonLockFile = "trifectad.lock";
inline constexpr const char* kDaemonPidFile = "trifectad.pid";

// Whether the directory of `socket_path` is trifecta's own: not sticky, and holding nothing but
// what a daemon on `socket_path` puts there.
inline bool daemon_only_dir(const std::filesystem::path& socket_path) {
  const std::filesystem::path dir = socket_path.parent_path();
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_mode & S_ISVTX) != 0) return false;
  const std::string sock = socket_path.filename().string();
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool ours = name == sock || name == sock + ".tmp" || name == kDaemonLockFile ||
                      name == kDaemonPidFile || name == std::string(kDaemonPidFile) + ".tmp";
    if (!ours) return false;
  }
  return !ec;
}

}  // namespace trifecta::proto
