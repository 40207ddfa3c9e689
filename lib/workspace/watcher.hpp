// workspace/watcher.hpp — recursive inotify watching of a segment.
//
// One inotify instance per segment; every directory the PathFilter accepts gets a watch
// (IN_CREATE, IN_CLOSE_WRITE, IN_MODIFY, IN_ATTRIB, IN_MOVED_FROM/TO, IN_DELETE, IN_DELETE_SELF);
// excluded directories (.git, node_modules, _ctx, virtualenvs, …) are not watched. A directory
// that appears (created or moved in) is watched as soon as its event is drained, and the files
// already inside it are reported as created (closing the race between mkdir and the watch).
//
// Freshness contract: the kernel queues an inotify event synchronously inside the syscall that
// changed the file, so calling `drain()` at the start of a request sees every change that
// completed before the request arrived. drain() never blocks.
//
// Overflow: if the kernel queue overflowed (IN_Q_OVERFLOW), or a watch could not be added
// (ENOSPC: fs.inotify.max_user_watches), `rescan_needed` is set in the next drain(): the caller
// must rescan the whole tree — never a silent gap. After a rescan call `rewatch()`.
//
// The root: every drain() stats the root directory. When it is gone (deleted or moved away:
// IN_DELETE_SELF / IN_MOVE_SELF) `root_missing` is set and its watches are dropped; when a
// directory is at its path again (re-created, or another one moved there: a new inode)
// `root_replaced` and `rescan_needed` are set, and the caller's rescan + rewatch() watch it.
//
// Ignored directories: skip_dirs() names the directories the ignore rules exclude whole (the
// listing's FileListing::ignored_dirs): their watches are removed and they are not watched again
// when they are re-created. With its `check`, a directory made later is asked about too (the new
// directories of one drain in one call, before they are watched): one the rules exclude is
// skipped. So a build or tool writing into an in-tree ignored directory (`out/`, `htmlcov/`, a
// cache) queues no events past the directory's own creation. The set lasts until rewatch(),
// which watches every admitted directory again (the caller's rescan then lists, and names the
// set, anew); the check stays.
//
// Depth: watching a tree is iterative (no recursion, no directory held open while descending);
// the memory per watched directory is one watch and its relative path. Entries whose absolute
// path is PATH_MAX bytes or longer are not watched, counted, and named in a warning.
//
// Failure behaviour: `Watcher::open` fails (kUnavailable) only when inotify itself is unusable;
// per-directory watch failures are reported in `Changes::warnings` and set `rescan_needed`.
//
// Thread rules: not thread-safe; one owner calls drain()/rewatch() (the segment serialises them).
// The fd is close-on-exec.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "util/result.hpp"
#include "workspace/file_list.hpp"

namespace trifecta::core::workspace {

struct Changes {
  std::vector<std::string> changed;       // files written/attributes changed (relative, sorted)
  std::vector<std::string> created;       // files created or moved in
  std::vector<std::string> deleted;       // files deleted or moved out
  std::vector<std::string> deleted_dirs;  // directories deleted or moved out (all below gone)
  bool rescan_needed = false;
  bool root_missing = false;   // the segment root is gone: nothing is watched until it reappears
  bool root_replaced = false;  // the root reappeared (another inode at its path): rescan_needed
  std::vector<std::string> warnings;
  std::size_t events = 0;                 // raw inotify events consumed
  bool empty() const {
    return changed.empty() && created.empty() && deleted.empty() && deleted_dirs.empty() && !rescan_needed &&
           !root_missing;
  }
};

class Watcher {
 public:
  // Watch `root` (canonical) recursively, skipping directories `filter` rejects.
  // Errors: kUnavailable when inotify_init1 fails.
  static Result<std::unique_ptr<Watcher>> open(const fs::path& root, PathFilter filter);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Consume every queued event without blocking; paths are deduplicated and classified by the
  // last event seen for them.
  Changes drain();
  // Drop all watches and watch the tree again (after a rescan), forgetting skip_dirs()'s set;
  // with `filter`, under these rules from now on (a config reload). The descriptor stays the same.
  void rewatch();
  void rewatch(PathFilter filter);
  // Stop watching `dirs` (relative; each with everything below it) and do not watch them again
  // when they reappear, until rewatch(). A directory not watched now is only remembered. `check`
  // (kept until the next skip_dirs with one) returns which of the directories made since are
  // ignored; it runs inside drain().
  using IgnoredCheck = std::function<std::vector<std::string>(std::vector<std::string> dirs)>;
  void skip_dirs(std::vector<std::string> dirs, IgnoredCheck check = {});

  // Directories watched now, and entries skipped since open()/rewatch() because their absolute
  // path is PATH_MAX bytes or longer (each reported once in a drain()'s warnings).
  std::size_t watches() const;
  std::size_t unwatched_too_long() const;

  int fd() const { return fd_; }  // readable when events are pending (for an event loop)

 private:
  struct Impl;
  Watcher(int fd, fs::path root, PathFilter filter);
  int fd_ = -1;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trifecta::core::workspace
