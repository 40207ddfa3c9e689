// lsp/process.hpp — owning a child process the way ninja does (src/subprocess-posix.cc).
//
// `spawn_child` starts `argv` with posix_spawn in a NEW process group (POSIX_SPAWN_SETPGROUP, pgid
// = its pid), with the signal mask and SIGPIPE/SIGINT/SIGTERM/SIGCHLD dispositions reset to
// defaults, fresh pipes on its stdin/stdout/stderr and every other descriptor closed (closefrom(3)
// as a spawn file action, on top of the O_CLOEXEC our own pipe ends carry). The parent's ends are
// O_CLOEXEC and O_NONBLOCK, ready for an event loop. Signals go to the whole group so helpers the
// server starts die with it.
//
// Failure behaviour: spawn errors (missing binary, exec failure, pipe exhaustion) are returned as
// Errc::kUnavailable with errno's text; no descriptor leaks on any path.
//
// Thread rules: functions are thread-safe; a ChildProcess value is owned by one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace trifecta::core::lsp {

struct ChildProcess {
  pid_t pid = -1;      // also the process-group id
  int stdin_fd = -1;   // parent's write end
  int stdout_fd = -1;  // parent's read end
  int stderr_fd = -1;  // parent's read end
};

// `argv[0]` must be a path (no PATH search). `cwd` empty = inherit.
Result<ChildProcess> spawn_child(const std::vector<std::string>& argv, const std::filesystem::path& cwd);

// kill(-pgid, sig); false when the group no longer exists.
bool signal_group(pid_t pgid, int sig);

// Non-blocking reap: the wait status when `pid` has exited (and is now reaped), else nullopt.
std::optional<int> try_reap(pid_t pid);

// Blocking, bounded termination for destructors and tests: SIGTERM to the group, poll for up to
// `grace`, then SIGKILL and reap. Returns the wait status (or -1 if the pid was not our child).
int terminate_group(pid_t pgid, std::chrono::milliseconds grace);

// "exit status 3", "killed by signal 9 (Killed)".
std::string describe_wait_status(int status);

// write(2) to a pipe that never raises SIGPIPE, whatever the process's disposition: SIGPIPE is
// blocked in the calling thread for the call, and one it raised is taken back (sigtimedwait) unless
// it was already pending. A reader that went away is -1 with errno EPIPE. Same return as write(2).
ssize_t write_without_sigpipe(int fd, const void* data, std::size_t size);

// Resident set size of `pid` in bytes from /proc/<pid>/statm; nullopt if unreadable.
std::optional<std::uint64_t> read_rss_bytes(pid_t pid);

}  // namespace trifecta::core::lsp
