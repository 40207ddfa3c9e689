#include "workspace/file_list.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include "util/regular_file.hpp"
#include "workspace/glob.hpp"

extern char** environ;

namespace trifecta::core::workspace {
namespace json = boost::json;

namespace {
// `_ctx/trifecta.json` and `.gitignore`s are read whole; larger ones are not read at all.
constexpr std::size_t kMaxConfigBytes = std::size_t{1} << 20;
}  // namespace

fs::path config_file(const fs::path& root) { return root / "_ctx" / "trifecta.json"; }

Result<SegmentConfig> load_config(const fs::path& root) {
  SegmentConfig cfg;
  const fs::path file = config_file(root);
  std::error_code ec;
  if (!fs::exists(file, ec)) return cfg;
  // Through THE open of segment files (util/regular_file.hpp): a FIFO here is refused, not waited on.
  auto text = read_regular_file(file, "_ctx/trifecta.json", kMaxConfigBytes);
  if (!text) return make_error(Errc::kIo, "cannot read _ctx/trifecta.json: " + text.error().message);
  boost::system::error_code jec;
  json::value v = json::parse(*text, jec);
  if (jec) return make_error(Errc::kParse, "_ctx/trifecta.json: " + jec.message());
  if (!v.is_object()) return make_error(Errc::kParse, "_ctx/trifecta.json: expected an object");
  const auto& o = v.as_object();
  auto read_list = [&](const char* key, std::vector<std::string>& out) -> Result<void> {
    const auto* f = o.if_contains(key);
    if (!f) return {};
    if (!f->is_array()) return make_error(Errc::kParse, std::string("_ctx/trifecta.json: \"") + key + "\" must be an array of strings");
    for (const auto& e : f->as_array()) {
      if (!e.is_string()) return make_error(Errc::kParse, std::string("_ctx/trifecta.json: \"") + key + "\" must be an array of strings");
      out.emplace_back(e.as_string());
    }
    return {};
  };
  if (auto r = read_list("include", cfg.include); !r) return r.error();
  if (auto r = read_list("exclude", cfg.exclude); !r) return r.error();
  if (const auto* m = o.if_contains("max_file_bytes")) {
    if (!m->is_int64() || m->as_int64() <= 0) {
      return make_error(Errc::kParse, "_ctx/trifecta.json: \"max_file_bytes\" must be a positive integer");
    }
    cfg.max_file_bytes = static_cast<std::size_t>(m->as_int64());
  }
  return cfg;
}

bool is_default_excluded_dir_name(std::string_view name) {
  for (auto d : kDefaultExcludedDirs) {
    if (name == d) return true;
  }
  return name.size() > 9 && name.substr(name.size() - 9) == ".egg-info";
}

bool PathFilter::included(std::string_view rel) const {
  for (const auto& g : config_.include) {
    if (glob_match(g, rel)) return true;
  }
  return false;
}

bool PathFilter::could_include_below(std::string_view dir_rel) const {
  for (const auto& g : config_.include) {
    if (g.rfind("**", 0) == 0) return true;
    if (g.size() > dir_rel.size() && g.compare(0, dir_rel.size(), dir_rel) == 0 && g[dir_rel.size()] == '/') {
      return true;
    }
  }
  return false;
}

bool PathFilter::accept_file(std::string_view rel) const {
  for (const auto& g : config_.exclude) {
    if (glob_match(g, rel)) return false;
  }
  // Default excludes: any directory segment in the list.
  std::size_t start = 0;
  bool default_excluded = false;
  while (true) {
    const auto slash = rel.find('/', start);
    if (slash == std::string_view::npos) break;
    if (is_default_excluded_dir_name(rel.substr(start, slash - start))) {
      default_excluded = true;
      break;
    }
    start = slash + 1;
  }
  if (default_excluded) return included(rel);
  return true;
}

bool PathFilter::accept_dir(std::string_view rel, bool has_pyvenv) const {
  for (const auto& g : config_.exclude) {
    if (glob_match(g, rel)) return false;
  }
  const auto slash = rel.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
  if (name == ".git" || name == "_ctx") return false;  // never, whatever the config says
  if (is_default_excluded_dir_name(name) || has_pyvenv) return could_include_below(rel);
  return true;
}

std::string_view listing_source_name(ListingSource s) noexcept {
  return s == ListingSource::kGit ? "git" : "walk";
}

namespace {

// run_git's result when git ran longer than its timeout (and was killed).
constexpr int kGitTimedOut = -2;

// Run git without a shell; stdout collected, stderr discarded. Returns the exit status, -1 if
// git could not be spawned (or no pipe could be made), or kGitTimedOut if it ran longer than
// `timeout` (then it is killed: git opens every `.gitignore` blocking, so one that is a FIFO
// would hang it, and the caller, for good).
int run_git(const fs::path& root, std::vector<std::string> tail, std::string& out,
            std::chrono::milliseconds timeout = kGitTimeout) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const std::string root_s = root.string();
  std::vector<std::string> args = {"git", "-C", root_s};
  for (auto& t : tail) args.push_back(std::move(t));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "git", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    return -1;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  char buf[65536];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{pipefd[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    if (ready == 0) continue;
    const ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  ::close(pipefd[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return kGitTimedOut;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// run_git's result for the listing: 0 when `out` is git's view.
int run_git_ls_files(const fs::path& root, std::string& out, std::chrono::milliseconds timeout) {
  return run_git(root, {"ls-files", "-z", "--cached", "--others", "--exclude-standard"}, out, timeout);
}

// The directories git ignores whole (FileListing::ignored_dirs): `--directory` names an ignored
// directory with no tracked file inside as `dir/` and does not descend into it; ignored files
// elsewhere are named one by one and skipped here. Empty when git fails.
std::vector<std::string> git_ignored_dirs(const fs::path& root, std::chrono::milliseconds timeout) {
  std::string out;
  std::vector<std::string> dirs;
  if (run_git(root, {"ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"}, out, timeout) !=
      0) {
    return dirs;
  }
  std::size_t pos = 0;
  while (pos < out.size()) {
    auto end = out.find('\0', pos);
    if (end == std::string::npos) end = out.size();
    if (end > pos + 1 && out[end - 1] == '/') dirs.push_back(out.substr(pos, end - 1 - pos));
    pos = end + 1;
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// Whether the enclosing work tree ignores `root` itself (`git check-ignore -q .` exits 0): then
// git's view of it is empty, whatever it holds.
bool root_ignored_by_git(const fs::path& root, std::chrono::milliseconds timeout) {
  std::string out;
  return run_git(root, {"check-ignore", "-q", "."}, out, timeout) == 0;
}

}  // namespace

std::vector<fs::path> git_ignore_sources(const fs::path& root, std::chrono::milliseconds timeout) {
  std::vector<fs::path> files;
  const auto line_of = [](std::string out) {
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  };
  const auto absolute = [&root](const fs::path& p) { return p.is_absolute() ? p : root / p; };
  std::string out;
  if (run_git(root, {"rev-parse", "--git-path", "info/exclude"}, out, timeout) != 0) return files;
  if (const std::string p = line_of(out); !p.empty()) files.push_back(absolute(p).lexically_normal());
  out.clear();
  const int rc = run_git(root, {"config", "--path", "--get", "core.excludesFile"}, out, timeout);
  if (rc == 0) {
    if (const std::string p = line_of(out); !p.empty()) files.push_back(absolute(p).lexically_normal());
  } else if (rc == 1) {  // not set: git's default
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    const char* home = std::getenv("HOME");
    if (xdg && *xdg) {
      files.push_back(fs::path(xdg) / "git" / "ignore");
    } else if (home && *home) {
      files.push_back(fs::path(home) / ".config" / "git" / "ignore");
    }
  }
  return files;
}

namespace {

// A small segment file (`.gitignore`, `.git/info/exclude`), through THE open of segment files: ""
// when it is missing, unreadable, not a regular file (a FIFO is never waited on) or above 1 MiB.
std::string read_small(const fs::path& p) {
  auto text = read_regular_file(p, p.filename().string(), kMaxConfigBytes);
  return text ? std::move(*text) : std::string();
}

// THE directory walker (list_files outside git, first_file_with_suffix): `.gitignore`s on the way
// honoured, symlinks never followed, `filter`'s excludes applied; per directory, names sorted and
// its files visited before its subdirectories. `visit(rel)` returns false to stop the walk;
// `max_entries` bounds the directory entries looked at (0 = no bound).
struct Walker {
  Walker(const PathFilter& f, FileListing& l, std::function<bool(const std::string&)> v, std::size_t max = 0)
      : filter(f), listing(l), visit(std::move(v)), max_entries(max) {}

  const PathFilter& filter;
  FileListing& listing;
  std::function<bool(const std::string&)> visit;
  std::size_t max_entries = 0;
  std::size_t seen = 0;
  bool stopped = false;
  std::vector<std::unique_ptr<IgnoreRules>> owned;
  std::vector<const IgnoreRules*> stack;

  // One directory being walked: its sorted entries and how far the walk has got in them. Its
  // path is not stored: while a frame is the top of the stack, `abs_buf` / `rel_buf` hold its
  // absolute and relative path, and each frame keeps only their lengths. So the memory per level
  // is its entries' names, not its whole path (a std::filesystem::path per level kept one
  // component object per ancestor: 2,000 levels peaked at 97 MiB; issue 16 item 9).
  struct Frame {
    std::size_t abs_len = 0;
    std::size_t rel_len = 0;
    bool pushed_rules = false;  // its .gitignore is on `stack`
    std::vector<std::pair<bool, std::string>> entries;  // (is_dir, name): files sort first
    std::size_t next = 0;
  };
  std::string abs_buf;  // the top frame's directory, absolute
  std::string rel_buf;  // the same, relative to the walk's root

  // Reads `dir`'s .gitignore (onto `stack`) and its entries, sorted.
  Frame open_dir(const fs::path& dir, const std::string& rel_dir) {
    Frame f{dir.native().size(), rel_dir.size(), false, {}, 0};
    if (auto text = read_regular_file(dir / ".gitignore", ".gitignore", kMaxConfigBytes)) {
      owned.push_back(std::make_unique<IgnoreRules>(rel_dir, *text));
      stack.push_back(owned.back().get());
      f.pushed_rules = true;
    }
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      listing.warnings.push_back("cannot read directory " + (rel_dir.empty() ? std::string(".") : rel_dir) +
                                 ": " + ec.message());
      return f;
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (max_entries && ++seen > max_entries) {
        stopped = true;
        break;
      }
      const auto st = it->symlink_status(ec);
      if (ec) {
        // An entry whose absolute path is too long to stat: say so, never drop it silently.
        if (ec == std::errc::filename_too_long) {
          const std::string name = it->path().filename().string();
          listing.too_long.push_back(rel_dir.empty() ? name : rel_dir + "/" + name);
        }
        ec.clear();
        continue;
      }
      if (fs::is_symlink(st)) continue;  // never followed; a link out of the tree is never read
      const bool is_dir = fs::is_directory(st);
      if (!is_dir && !fs::is_regular_file(st)) continue;
      f.entries.emplace_back(is_dir, it->path().filename().string());
    }
    std::sort(f.entries.begin(), f.entries.end());
    return f;
  }

  // Depth-first, with an explicit stack of open directories: no recursion over the tree's depth
  // (a segment may nest directories as deep as PATH_MAX allows; issue 16).
  void walk(const fs::path& root_dir, const std::string& root_rel) {
    if (stopped) return;
    if (root_dir.native().size() >= PATH_MAX) {  // cannot be opened by path: say so, never silently
      listing.too_long.push_back(root_rel);
      return;
    }
    abs_buf = root_dir.native();
    rel_buf = root_rel;
    std::vector<Frame> frames;
    frames.push_back(open_dir(root_dir, root_rel));
    while (!frames.empty()) {
      Frame& f = frames.back();
      abs_buf.resize(f.abs_len);  // back to this frame's directory after a child was popped
      rel_buf.resize(f.rel_len);
      bool descended = false;
      while (f.next < f.entries.size()) {
        const auto& [is_dir, name] = f.entries[f.next++];
        if (stopped && is_dir) {
          f.next = f.entries.size();
          break;
        }
        const std::string rel = rel_buf.empty() ? name : rel_buf + "/" + name;
        if (is_ignored(stack, rel, is_dir)) {
          if (is_dir) listing.ignored_dirs.push_back(rel);
          continue;
        }
        if (is_dir) {
          const std::string child_abs = abs_buf + "/" + name;
          std::error_code e2;
          const bool venv = fs::exists(fs::path(child_abs + "/pyvenv.cfg"), e2);
          if (!filter.accept_dir(rel, venv)) {
            ++listing.excluded;
            continue;
          }
          if (child_abs.size() >= PATH_MAX) {  // cannot be opened by path: say so
            listing.too_long.push_back(rel);
            continue;
          }
          abs_buf = child_abs;
          rel_buf = rel;
          Frame child = open_dir(fs::path(abs_buf), rel_buf);  // `f` may dangle after the push below
          frames.push_back(std::move(child));
          descended = true;
          break;
        }
        if (filter.accept_file(rel)) {
          if (!visit(rel)) {
            stopped = true;
            f.next = f.entries.size();
            break;
          }
        } else {
          ++listing.excluded;
        }
      }
      if (descended) continue;
      if (frames.back().pushed_rules) stack.pop_back();
      frames.pop_back();
      if (stopped) {
        // Unwind: the parents visit nothing more (the recursive walk broke out of each level).
        for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
          if (it->pushed_rules) stack.pop_back();
        }
        frames.clear();
      }
    }
  }
};

}  // namespace

Result<FileListing> list_files(const fs::path& root, const PathFilter& filter, const ListOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return make_error(Errc::kNotFound, "segment root is not a directory");
  FileListing listing;
  std::string out;
  const int git_rc = options.use_git ? run_git_ls_files(root, out, options.git_timeout) : -1;
  bool use_git_listing = git_rc == 0;
  // git lists nothing for a root its work tree ignores: walk that tree like one outside git.
  const bool ignored_root = use_git_listing && out.empty() && root_ignored_by_git(root, options.git_timeout);
  if (ignored_root) use_git_listing = false;
  if (use_git_listing) {
    listing.source = ListingSource::kGit;
    // Directories holding a pyvenv.cfg are virtualenvs: drop everything below them.
    std::vector<std::string> venvs;
    std::vector<std::string> all;
    std::size_t pos = 0;
    while (pos < out.size()) {
      auto end = out.find('\0', pos);
      if (end == std::string::npos) end = out.size();
      std::string rel = out.substr(pos, end - pos);
      pos = end + 1;
      if (rel.empty()) continue;
      if (rel == "pyvenv.cfg" || (rel.size() > 11 && rel.compare(rel.size() - 11, 11, "/pyvenv.cfg") == 0)) {
        venvs.push_back(rel.size() == 10 ? std::string() : rel.substr(0, rel.size() - 10));
      }
      all.push_back(std::move(rel));
    }
    std::set<std::string> seen;
    for (auto& rel : all) {
      bool in_venv = false;
      for (const auto& v : venvs) {
        if (rel.compare(0, v.size(), v) == 0) in_venv = true;
      }
      bool dir_ok = true;
      if (!in_venv) {
        // Config excludes on parent directories (accept_dir) — default names are in accept_file.
        std::size_t start = 0;
        while (true) {
          const auto slash = rel.find('/', start);
          if (slash == std::string::npos) break;
          const std::string_view dir(rel.data(), slash);
          const std::string_view name(rel.data() + start, slash - start);
          if (name == ".git" || name == "_ctx") dir_ok = false;
          for (const auto& g : filter.config().exclude) {
            if (glob_match(g, dir)) dir_ok = false;
          }
          start = slash + 1;
        }
      }
      if (in_venv || !dir_ok || !filter.accept_file(rel)) {
        ++listing.excluded;
        continue;
      }
      // --cached lists tracked files deleted from the work tree, and submodules: regular files only.
      struct stat st {};
      if (::lstat((root / rel).c_str(), &st) != 0) {
        // Too long to stat by path: listed, so the index records it as skipped (path_too_long).
        if (errno != ENAMETOOLONG) continue;
      } else if (!S_ISREG(st.st_mode)) {
        continue;
      }
      if (seen.insert(rel).second) listing.files.push_back(std::move(rel));
    }
    listing.ignored_dirs = git_ignored_dirs(root, options.git_timeout);
  } else {
    listing.source = ListingSource::kWalk;
    if (ignored_root) {
      listing.warnings.push_back(
          "the segment is inside a folder its git work tree ignores: walked the tree instead "
          "(its own .gitignore files apply)");
    } else if (git_rc == kGitTimedOut) {
      listing.warnings.push_back("git ls-files did not finish within " +
                                 std::to_string(options.git_timeout.count()) +
                                 " ms (a .gitignore that is a FIFO?): walked the tree instead");
    }
    Walker w(filter, listing, [&listing](const std::string& rel) {
      listing.files.push_back(rel);
      return true;
    });
    w.walk(root, "");
  }
  std::sort(listing.files.begin(), listing.files.end());
  std::sort(listing.too_long.begin(), listing.too_long.end());
  std::sort(listing.ignored_dirs.begin(), listing.ignored_dirs.end());
  return listing;
}

namespace {

// Which of `paths` the ignore rules exclude (`dirs`: they are directories, which dir-only
// patterns like `out/` match); nullopt when git cannot be run.
std::optional<std::set<std::string>> ignored_of(const fs::path& root, ListingSource source,
                                                const std::vector<std::string>& paths, bool dirs) {
  std::set<std::string> ignored;
  if (source == ListingSource::kGit) {
    constexpr std::size_t kBatch = 500;
    for (std::size_t i = 0; i < paths.size(); i += kBatch) {
      // One path per output line (`-z` needs --stdin, which would need a second pipe); paths
      // with newlines are not expected from inotify names worth indexing. git looks at the disk
      // for whether a path is a directory.
      std::vector<std::string> args = {"-c", "core.quotePath=false", "check-ignore", "--"};
      for (std::size_t k = i; k < std::min(paths.size(), i + kBatch); ++k) args.push_back(paths[k]);
      std::string out;
      const int rc = run_git(root, std::move(args), out);
      if (rc != 0 && rc != 1) return std::nullopt;  // git unusable
      std::size_t pos = 0;
      while (pos < out.size()) {
        auto end = out.find('\n', pos);
        if (end == std::string::npos) end = out.size();
        if (end > pos) ignored.insert(out.substr(pos, end - pos));
        pos = end + 1;
      }
    }
    return ignored;
  }
  std::map<std::string, std::unique_ptr<IgnoreRules>> cache;  // dir → rules (null: none)
  auto rules_of = [&](const std::string& dir) -> const IgnoreRules* {
    auto it = cache.find(dir);
    if (it == cache.end()) {
      const std::string text = read_small((dir.empty() ? root : root / dir) / ".gitignore");
      it = cache.emplace(dir, text.empty() ? nullptr : std::make_unique<IgnoreRules>(dir, text)).first;
    }
    return it->second.get();
  };
  for (const auto& rel : paths) {
    std::vector<const IgnoreRules*> stack;
    if (auto* r = rules_of("")) stack.push_back(r);
    bool out = false;
    std::size_t start = 0;
    while (!out) {
      const auto slash = rel.find('/', start);
      if (slash == std::string::npos) break;
      const std::string dir = rel.substr(0, slash);
      if (is_ignored(stack, dir, true)) out = true;
      if (auto* r = rules_of(dir)) stack.push_back(r);
      start = slash + 1;
    }
    if (out || is_ignored(stack, rel, dirs)) ignored.insert(rel);
  }
  return ignored;
}

}  // namespace

std::vector<std::string> drop_ignored(const fs::path& root, ListingSource source, std::vector<std::string> paths) {
  if (paths.empty()) return paths;
  const auto ignored = ignored_of(root, source, paths, /*dirs=*/false);
  if (!ignored) return paths;  // git unusable: keep everything
  std::vector<std::string> kept;
  for (auto& p : paths) {
    if (!ignored->count(p)) kept.push_back(std::move(p));
  }
  return kept;
}

std::vector<std::string> ignored_among_dirs(const fs::path& root, ListingSource source, std::vector<std::string> dirs) {
  std::vector<std::string> out;
  // The segment's own .gitignore files first (no process): git is asked only about the
  // directories they exclude, so a new package directory costs no `git check-ignore` (3-4 ms).
  // A directory only git's other sources exclude (.git/info/exclude, core.excludesFile, a
  // .gitignore above the segment) is watched, as before skip_dirs existed.
  if (source == ListingSource::kGit) {
    const auto by_files = ignored_of(root, ListingSource::kWalk, dirs, /*dirs=*/true);
    std::erase_if(dirs, [&](const std::string& d) { return !by_files->count(d); });
  }
  if (dirs.empty()) return out;
  const auto ignored = ignored_of(root, source, dirs, /*dirs=*/true);
  if (!ignored) return out;
  for (auto& d : dirs) {
    if (ignored->count(d)) out.push_back(std::move(d));
  }
  return out;
}

std::string first_file_with_suffix(const fs::path& root, const PathFilter& filter, std::string_view suffix,
                                  std::size_t max_entries) {
  FileListing scratch;
  std::string found;
  Walker w(
      filter, scratch,
      [&](const std::string& rel) {
        if (rel.size() < suffix.size() || rel.compare(rel.size() - suffix.size(), suffix.size(), suffix) != 0) {
          return true;
        }
        found = rel;
        return false;
      },
      max_entries);
  w.walk(root, "");
  return found;
}

}  // namespace trifecta::core::workspace
