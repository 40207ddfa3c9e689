// util/paths.hpp — canonical paths, the safe join that keeps reads inside a segment, and the
// telemetry-safe relative path.
//
// `safe_join` is the single gate for turning a client-supplied path into a filesystem path: it
// refuses empty paths, NUL bytes, absolute paths, `..` that climbs above the root, and paths whose
// existing prefix resolves (through symlinks) outside the root. It returns `Errc::kPathEscape` or
// `Errc::kInvalidArgument` with a message naming the offending path; it never throws.
//
// Thread rules: pure functions over the filesystem; safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace trifecta::core {

namespace fs = std::filesystem;

// Canonical absolute path of an existing file or directory (symlinks resolved).
// Errors: kNotFound if it does not exist, kIo for other failures.
Result<fs::path> canonical_path(const fs::path& p);

// True when `p` equals `root` or lies lexically under it (both should be canonical).
bool is_within(const fs::path& root, const fs::path& p);

// Join a client-supplied relative path onto a canonical `root`. The target need not exist; if it
// (or a parent) exists, symlinks are resolved and the result must still be inside `root`.
// On success the result is absolute and lexically normal (symlinks inside the tree are kept
// resolved only when they exist).
Result<fs::path> safe_join(const fs::path& root, std::string_view relative);

// Like safe_join, but also accepts an absolute path when it already lies inside `root`
// (what a CLI running in the tree naturally sends).
Result<fs::path> resolve_in_root(const fs::path& root, std::string_view path);

// Telemetry-safe path: `target` relative to `root` ("src/app.py"), or, for anything outside
// `root`, "external/<hash8>-<filename>" where hash8 = sha256(full target path)[:8].
// Never returns an absolute path.
std::string relpath(const fs::path& root, const fs::path& target);

// The text of `<segment>/_ctx/.gitignore`: everything under _ctx/ is generated (telemetry,
// caches) except the segment's own config, `_ctx/trifecta.json`, which a project may commit.
inline constexpr std::string_view kCtxGitignore =
    "# Written by trifecta: _ctx/ holds generated telemetry and caches.\n*\n!trifecta.json\n";

// Called after creating a directory: when `dir` is, or lies at most three levels under, a
// directory named `_ctx`, make sure `_ctx/.gitignore` exists (kCtxGitignore). An existing file is
// never changed (a project may have its own). Best effort: failures are ignored (the caller's own
// writes report the real problem).
void ensure_ctx_gitignore(const fs::path& dir);

}  // namespace trifecta::core
