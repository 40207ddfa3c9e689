// util/regular_file.hpp — THE open of a file trifecta reads from a segment (sources through
// workspace::FileReader, `_ctx/trifecta.json`, `.gitignore`s, `_ctx/cache/index.bin`).
//
// A segment is a directory anyone may have written to: a path that should name a file may name a
// FIFO, a socket, a device or a dangling symlink. A plain blocking open() of a FIFO waits for a
// writer for ever (issue 16: both workers stuck, ping unanswered, SIGTERM ignored). So every open
//  1. is O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC: a FIFO opens at once, a
//     symlink as the final component is refused (ELOOP). Callers resolve in-tree symlinks first
//     (util/paths.hpp `safe_join` returns the resolved path), so only a link swapped in between
//     the resolution and the open is refused;
//  2. fstat()s the descriptor and refuses anything that is not a regular file (kInvalidArgument,
//     "not a regular file");
//  3. clears O_NONBLOCK again, so reads of the regular file behave as usual.
//
// Errors (typed, never a hang): kNotFound (ENOENT/ENOTDIR), kPermission (EACCES/EPERM),
// kInvalidArgument (not a regular file, or a symlink where the file should be), kTooLarge (above
// `max_bytes`, checked with fstat before reading), kIo (anything else). `shown` names the file in
// messages (a segment-relative path, never an absolute one).
//
// Thread rules: free functions, no shared state; safe from any thread.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace trifecta::core {

// An open descriptor of a regular file and its fstat. Closes on destruction; movable.
class RegularFile {
 public:
  RegularFile() = default;
  RegularFile(int fd, const struct stat& st) : fd_(fd), st_(st) {}
  RegularFile(RegularFile&& o) noexcept : fd_(o.fd_), st_(o.st_) { o.fd_ = -1; }
  RegularFile& operator=(RegularFile&& o) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();

  int fd() const { return fd_; }
  const struct stat& stat() const { return st_; }
  std::size_t size() const { return static_cast<std::size_t>(st_.st_size); }
  std::int64_t mtime_ns() const {
    return static_cast<std::int64_t>(st_.st_mtim.tv_sec) * 1000000000 + st_.st_mtim.tv_nsec;
  }

 private:
  int fd_ = -1;
  struct stat st_ {};
};

// Steps 1-3 above.
Result<RegularFile> open_regular_file(const std::filesystem::path& path, std::string_view shown);

// open_regular_file, then the whole content (at most `max_bytes`, else kTooLarge). A file that
// shrinks while being read gives what was there.
Result<std::string> read_regular_file(const std::filesystem::path& path, std::string_view shown,
                                      std::size_t max_bytes);

}  // namespace trifecta::core
