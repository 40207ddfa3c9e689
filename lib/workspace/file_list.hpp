// workspace/file_list.hpp — which files of a segment are considered, and the per-segment config.
//
// Inside a git work tree the listing is git's own view: `git -C <root> ls-files -z --cached
// --others --exclude-standard` (tracked + untracked-not-ignored), spawned directly (no shell).
// Elsewhere — or when git is missing, fails or runs past kGitTimeout, or when the work tree ignores
// the root itself (a segment in a `.venv/` or `build/` of an enclosing repository: git lists
// nothing there; a warning says so) — the tree is walked and every `.gitignore` on the way is
// honoured (see glob.hpp for the rules). Symlinks are never followed by the walker.
// That walker is the only one (the daemon's "first Python file" for Pyright's warm-up uses it
// too, through `first_file_with_suffix`), so every walk excludes the same directories.
// Then the default excludes apply (any path segment equal to one of kDefaultExcludedDirs, any
// directory holding a `pyvenv.cfg`, `*.egg-info` directories), then the config's globs.
//
// Per-segment config `<segment>/_ctx/trifecta.json` (optional; see docs/index.md):
//   { "include": ["build/gen/**"],        // re-admit paths the DEFAULT excludes would drop
//     "exclude": ["**/*.min.js", "data/**"], // drop matching paths
//     "max_file_bytes": 1048576 }           // larger files are recorded as skipped (too_large)
// `include` cannot re-admit what .gitignore/git ignores; `exclude` wins over `include`.
//
// Failure behaviour: `load_config` returns kParse for malformed JSON or wrong field types (the
// caller may fall back to defaults and warn); a missing file is the default config. `list_files`
// fails only when the root is not a readable directory; unreadable subdirectories are skipped and
// reported in `warnings`.
//
// Thread rules: pure functions (they spawn `git` and read the filesystem); safe from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace trifecta::core::workspace {

namespace fs = std::filesystem;

inline constexpr std::size_t kDefaultMaxFileBytes = std::size_t{1} << 20;

// Directory names never indexed (nor watched) unless the config includes them.
inline constexpr std::string_view kDefaultExcludedDirs[] = {
    ".git", ".hg", ".svn", "node_modules", "__pycache__", "venv", ".venv", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "_ctx", ".eggs"};

struct SegmentConfig {
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::size_t max_file_bytes = kDefaultMaxFileBytes;
};

// `<root>/_ctx/trifecta.json`
fs::path config_file(const fs::path& root);
// Missing file → defaults. Errors: kParse (bad JSON or field types), kIo.
Result<SegmentConfig> load_config(const fs::path& root);

// True when a directory named `name` is in the default exclude list (or is `*.egg-info`).
bool is_default_excluded_dir_name(std::string_view name);

// Decision for one relative path (files: the whole path; dirs: the directory path), applying
// default excludes and config globs. `has_pyvenv` marks a directory that holds a pyvenv.cfg.
class PathFilter {
 public:
  PathFilter() = default;
  explicit PathFilter(SegmentConfig config) : config_(std::move(config)) {}
  // Should this file be considered (before ignore files)? `rel` is `/`-separated.
  bool accept_file(std::string_view rel) const;
  // Should the walker / watcher descend into this directory?
  bool accept_dir(std::string_view rel, bool has_pyvenv = false) const;
  // Does an `include` glob of the config match this file? (The index admits never-code files —
  // translation catalogs, minified assets, images — only then: index/ranking.hpp.)
  bool includes(std::string_view rel) const { return included(rel); }
  const SegmentConfig& config() const { return config_; }

 private:
  bool included(std::string_view rel) const;
  bool could_include_below(std::string_view dir_rel) const;
  SegmentConfig config_;
};

enum class ListingSource { kGit, kWalk };
std::string_view listing_source_name(ListingSource s) noexcept;  // "git" | "walk"

struct FileListing {
  std::vector<std::string> files;  // relative, `/`-separated, sorted, regular files only
  ListingSource source = ListingSource::kWalk;
  std::size_t excluded = 0;        // dropped by default excludes / config
  std::vector<std::string> warnings;
  // Entries (relative; files or directories) whose absolute path is PATH_MAX bytes or longer:
  // they cannot be opened or stat'ed by path, so nothing below them is listed (the index records
  // each as skipped, `path_too_long`). Sorted.
  std::vector<std::string> too_long;
  // Directories the ignore rules exclude whole (relative, sorted): for git, what `git ls-files
  // --others --ignored --exclude-standard --directory` names as a directory (untracked, ignored,
  // holding no tracked file); for the walk, those a `.gitignore` on the way excludes. Nothing
  // below them is listed, so the watcher need not watch them (Watcher::skip_dirs). Empty when
  // that git call fails: then every admitted directory is watched, as before.
  std::vector<std::string> ignored_dirs;
};

// How long `git ls-files` / `git check-ignore` may run. git opens every `.gitignore` blocking, so
// one that is a FIFO would hang it: past this it is killed and the tree is walked instead (the
// walker never opens a FIFO), with a warning in FileListing::warnings.
inline constexpr std::chrono::milliseconds kGitTimeout{10000};

struct ListOptions {
  bool use_git = true;  // false: always walk (tests; trees where git is slow)
  std::chrono::milliseconds git_timeout = kGitTimeout;
};

// Errors: kNotFound / kIo when `root` is not a readable directory.
Result<FileListing> list_files(const fs::path& root, const PathFilter& filter,
                               const ListOptions& options = {});

// The files outside the tree whose rules a git listing also applies (gitignore(5)): the
// repository's `info/exclude` (`git rev-parse --git-path info/exclude`: for a linked work tree,
// the main repository's) and the user's `core.excludesFile` (`git config --path --get core.excludesFile`, else
// $XDG_CONFIG_HOME/git/ignore or ~/.config/git/ignore) — absolute, whether present or not. The
// watcher sees neither (`.git` is never watched; the other lies outside the tree): the index
// stamps them instead (index/segment_index.hpp, sync). Runs git twice; never fails: what git
// cannot say is left out (nothing when git cannot be run or `root` is not in a work tree).
std::vector<fs::path> git_ignore_sources(const fs::path& root,
                                         std::chrono::milliseconds timeout = kGitTimeout);

// The first file (segment-relative, `/`-separated) whose name ends with `suffix`, in the walk
// list_files does outside git (`.gitignore`s honoured, symlinks not followed, `filter`'s excludes;
// per directory, names sorted and files before subdirectories), or "" when there is none among
// the first `max_entries` directory entries (0 = no bound). Never fails: unreadable directories
// are skipped.
std::string first_file_with_suffix(const fs::path& root, const PathFilter& filter, std::string_view suffix,
                                   std::size_t max_entries = 50'000);

// The subset of `paths` (relative) that git / the .gitignore files do NOT ignore — for files
// that appear after the listing (watcher events). `source` says which rules apply: kGit asks
// `git check-ignore` (no shell), kWalk evaluates the .gitignore files on each path's way.
// Never fails: if git cannot be run, every path is kept.
std::vector<std::string> drop_ignored(const fs::path& root, ListingSource source, std::vector<std::string> paths);

// The subset of `dirs` (relative directories that exist) the ignore rules exclude — for
// directories made after the listing, which the watcher then does not watch. kWalk: the
// .gitignore files on the way. kGit: those that the segment's .gitignore files exclude and
// `git check-ignore` confirms (so a directory nothing in the segment ignores costs no process;
// one only .git/info/exclude or core.excludesFile ignores is not named). Never fails: if git
// cannot be run, none is named.
std::vector<std::string> ignored_among_dirs(const fs::path& root, ListingSource source, std::vector<std::string> dirs);

}  // namespace trifecta::core::workspace
