#include "workspace/watcher.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

namespace trifecta::core::workspace {

namespace {
constexpr std::uint32_t kMask = IN_CREATE | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM |
                                IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
                                IN_EXCL_UNLINK;
enum class Kind { kChanged, kCreated, kDeleted, kDirDeleted };
}  // namespace

struct Watcher::Impl {
  fs::path root;
  PathFilter filter;
  std::unordered_map<int, std::string> wd_to_rel;  // "" = root
  std::map<std::string, int> rel_to_wd;
  std::set<std::string> skipped;  // skip_dirs(): never watched until rewatch()
  Watcher::IgnoredCheck check_new;  // skip_dirs()'s: which new directories are ignored
  bool pending_rescan = false;
  std::vector<std::string> pending_warnings;
  std::size_t unwatched_too_long = 0;  // entries add_tree skipped for path length (cumulative)
  // The root directory as watched: a root deleted, moved away or replaced by another directory
  // (another inode at the same path) is noticed by drain().
  bool root_watched = false;
  dev_t root_dev = 0;
  ino_t root_ino = 0;

  std::string join(const std::string& dir, std::string_view name) const {
    return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
  }

  // Add a watch on `rel` and on every accepted directory below it. When `report` is set the
  // regular files found are appended (they may predate the watch).
  //
  // No recursion and no directory held open while descending (issue 16 item 9: "depth costs
  // linear memory"): a work list of relative paths, each directory read to the end and closed
  // before its subdirectories are visited. The cost per directory is one watch and its relative
  // path (at most PATH_MAX bytes) in the two maps. A directory or entry whose absolute path is
  // PATH_MAX bytes or longer cannot be watched or stat'ed by path: it is counted, and one warning
  // says how many (the walker records each as skipped, `path_too_long`, in the index).
  void add_tree(int fd, const std::string& top, std::vector<std::string>* report) {
    std::vector<std::string> todo{top};
    std::size_t too_long = 0;
    const std::size_t root_len = root.native().size();
    auto abs_len = [&](const std::string& rel) { return rel.empty() ? root_len : root_len + 1 + rel.size(); };
    while (!todo.empty()) {
      const std::string rel = std::move(todo.back());
      todo.pop_back();
      if (abs_len(rel) >= PATH_MAX) {
        ++too_long;
        continue;
      }
      const fs::path abs = rel.empty() ? root : root / rel;
      const int wd = inotify_add_watch(fd, abs.c_str(), kMask);
      if (wd < 0) {
        if (errno == ENOSPC) {
          pending_rescan = true;
          pending_warnings.push_back("inotify watch limit reached (fs.inotify.max_user_watches)");
          return;
        }
        if (errno == ENAMETOOLONG) ++too_long;
        else if (errno != ENOENT && errno != ENOTDIR)
          pending_warnings.push_back("cannot watch " + (rel.empty() ? std::string(".") : rel) + ": " +
                                     std::strerror(errno));
        continue;
      }
      wd_to_rel[wd] = rel;
      rel_to_wd[rel] = wd;
      if (rel.empty()) {
        struct stat st {};
        root_watched = ::stat(abs.c_str(), &st) == 0;
        root_dev = st.st_dev;
        root_ino = st.st_ino;
      }
      std::error_code ec;
      fs::directory_iterator it(abs, fs::directory_options::skip_permission_denied, ec);
      if (ec) continue;
      std::vector<std::string> subdirs;
      for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const std::string child = join(rel, it->path().filename().string());
        if (abs_len(child) >= PATH_MAX) {  // lstat by path would fail (ENAMETOOLONG)
          ++too_long;
          continue;
        }
        const auto st = it->symlink_status(ec);
        if (ec || fs::is_symlink(st)) continue;
        if (fs::is_directory(st)) {
          std::error_code e2;
          const bool venv = fs::exists(it->path() / "pyvenv.cfg", e2);
          if (filter.accept_dir(child, venv) && !skipped.count(child)) subdirs.push_back(child);
        } else if (report && fs::is_regular_file(st) && filter.accept_file(child)) {
          report->push_back(child);
        }
      }
      // Visit in directory order (the work list is a stack).
      for (auto c = subdirs.rbegin(); c != subdirs.rend(); ++c) todo.push_back(std::move(*c));
    }
    if (too_long > 0) {
      pending_warnings.push_back(std::to_string(too_long) + " entr" + (too_long == 1 ? "y" : "ies") +
                                 " not watched: absolute path of PATH_MAX (" + std::to_string(PATH_MAX) +
                                 ") bytes or more (recorded as skipped, path_too_long)");
    }
    unwatched_too_long += too_long;
  }

  // The watches of `rel` and of every directory below it, removed (skip_dirs). The kernel's
  // IN_IGNORED for them finds no mapping and is passed over.
  void unwatch_below(int fd, const std::string& rel) {
    auto it = rel_to_wd.lower_bound(rel);
    while (it != rel_to_wd.end() && it->first.compare(0, rel.size(), rel) == 0) {
      if (it->first.size() == rel.size() || it->first[rel.size()] == '/') {
        inotify_rm_watch(fd, it->second);
        wd_to_rel.erase(it->second);
        it = rel_to_wd.erase(it);
      } else {
        ++it;
      }
    }
  }

  void forget_below(const std::string& rel) {
    auto it = rel_to_wd.lower_bound(rel);
    while (it != rel_to_wd.end() && it->first.compare(0, rel.size(), rel) == 0) {
      if (it->first.size() == rel.size() || it->first[rel.size()] == '/') {
        wd_to_rel.erase(it->second);
        it = rel_to_wd.erase(it);
      } else {
        ++it;
      }
    }
  }
};

Watcher::Watcher(int fd, fs::path root, PathFilter filter) : fd_(fd), impl_(std::make_unique<Impl>()) {
  impl_->root = std::move(root);
  impl_->filter = std::move(filter);
}

Watcher::~Watcher() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<Watcher>> Watcher::open(const fs::path& root, PathFilter filter) {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return make_error(Errc::kUnavailable, std::string("inotify_init1: ") + std::strerror(errno));
  std::unique_ptr<Watcher> w(new Watcher(fd, root, std::move(filter)));
  w->impl_->add_tree(fd, "", nullptr);
  return w;
}

void Watcher::rewatch(PathFilter filter) {
  impl_->filter = std::move(filter);
  rewatch();
}

void Watcher::skip_dirs(std::vector<std::string> dirs, IgnoredCheck check) {
  if (check) impl_->check_new = std::move(check);
  for (auto& d : dirs) {
    if (d.empty()) continue;  // the root itself is never skipped
    impl_->unwatch_below(fd_, d);
    impl_->skipped.insert(std::move(d));
  }
}

void Watcher::rewatch() {
  for (const auto& [wd, rel] : impl_->wd_to_rel) inotify_rm_watch(fd_, wd);
  impl_->wd_to_rel.clear();
  impl_->rel_to_wd.clear();
  impl_->skipped.clear();
  impl_->root_watched = false;
  impl_->unwatched_too_long = 0;
  // Discard what is queued: the caller has just rescanned.
  alignas(inotify_event) char buf[65536];
  while (::read(fd_, buf, sizeof buf) > 0) {
  }
  impl_->add_tree(fd_, "", nullptr);
}

std::size_t Watcher::watches() const { return impl_->wd_to_rel.size(); }
std::size_t Watcher::unwatched_too_long() const { return impl_->unwatched_too_long; }

Changes Watcher::drain() {
  Changes out;
  std::map<std::string, Kind> last;  // path → last classification
  auto note = [&](const std::string& rel, Kind k) {
    auto [it, inserted] = last.emplace(rel, k);
    if (inserted) return;
    // created then modified stays created; deleted then created → changed (content replaced).
    if (it->second == Kind::kCreated && k == Kind::kChanged) return;
    if (it->second == Kind::kDeleted && k == Kind::kCreated) {
      it->second = Kind::kChanged;
      return;
    }
    if (it->second == Kind::kCreated && k == Kind::kDeleted) {
      it->second = Kind::kDeleted;  // caller drops what it never had
      return;
    }
    it->second = k;
  };
  // Directories made (or moved in) during this drain, watched after the events are read: then
  // the ignore check asks about all of them at once. The files already inside each are reported
  // by add_tree, so none made meanwhile is missed.
  std::vector<std::string> new_dirs;
  alignas(inotify_event) char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: queue empty
    }
    if (n == 0) break;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      ++out.events;
      if (ev->mask & IN_Q_OVERFLOW) {
        out.rescan_needed = true;
        continue;
      }
      if (ev->mask & IN_IGNORED) {
        auto it = impl_->wd_to_rel.find(ev->wd);
        if (it != impl_->wd_to_rel.end()) {
          impl_->rel_to_wd.erase(it->second);
          impl_->wd_to_rel.erase(it);
        }
        continue;
      }
      auto it = impl_->wd_to_rel.find(ev->wd);
      if (it == impl_->wd_to_rel.end()) continue;
      const std::string dir = it->second;
      if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) continue;  // reported by the parent (the root: below)
      if (ev->len == 0) continue;
      const std::string rel = impl_->join(dir, ev->name);
      const bool is_dir = ev->mask & IN_ISDIR;
      if (is_dir) {
        if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
          std::error_code ec;
          const bool venv = fs::exists(impl_->root / rel / "pyvenv.cfg", ec);
          if (impl_->filter.accept_dir(rel, venv) && !impl_->skipped.count(rel)) new_dirs.push_back(rel);
        } else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
          impl_->forget_below(rel);
          note(rel, Kind::kDirDeleted);
        }
        continue;
      }
      if (!impl_->filter.accept_file(rel)) continue;
      if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
        note(rel, Kind::kDeleted);
      } else if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
        note(rel, Kind::kCreated);
      } else {
        note(rel, Kind::kChanged);
      }
    }
  }
  if (!new_dirs.empty()) {
    std::sort(new_dirs.begin(), new_dirs.end());
    new_dirs.erase(std::unique(new_dirs.begin(), new_dirs.end()), new_dirs.end());
    if (impl_->check_new) {
      for (auto& d : impl_->check_new(new_dirs)) impl_->skipped.insert(std::move(d));
    }
    for (const auto& d : new_dirs) {
      // Skipped (ignored), or watched already: not watched again. (A directory below a skipped
      // one has no event here: its parent has no watch, and a removed watch's events are dropped.)
      if (impl_->skipped.count(d) || impl_->rel_to_wd.count(d)) continue;
      std::vector<std::string> found;
      impl_->add_tree(fd_, d, &found);
      for (auto& f : found) note(f, Kind::kCreated);
    }
  }
  for (const auto& [rel, k] : last) {
    switch (k) {
      case Kind::kChanged: out.changed.push_back(rel); break;
      case Kind::kCreated: out.created.push_back(rel); break;
      case Kind::kDeleted: out.deleted.push_back(rel); break;
      case Kind::kDirDeleted: out.deleted_dirs.push_back(rel); break;
    }
  }
  // The root itself: gone, or another directory at its path (deleted and re-created, or a
  // directory moved over it). One stat per drain; the watches on the old tree are worthless.
  {
    struct stat st {};
    const bool exists = ::stat(impl_->root.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (!exists) {
      if (impl_->root_watched || !impl_->wd_to_rel.empty()) {
        for (const auto& [wd, rel] : impl_->wd_to_rel) inotify_rm_watch(fd_, wd);
        impl_->wd_to_rel.clear();
        impl_->rel_to_wd.clear();
        impl_->root_watched = false;
      }
      out.root_missing = true;
    } else if (!impl_->root_watched || st.st_dev != impl_->root_dev || st.st_ino != impl_->root_ino) {
      out.root_replaced = true;
      out.rescan_needed = true;  // the caller rescans, then rewatch() watches the new tree
    }
  }
  if (impl_->pending_rescan) {
    out.rescan_needed = true;
    impl_->pending_rescan = false;
  }
  out.warnings = std::move(impl_->pending_warnings);
  impl_->pending_warnings.clear();
  return out;
}

}  // namespace trifecta::core::workspace
