// client/lib/segment.hpp — which segment (project root) a request is about, and how file and
// position arguments are turned into request params.
//
// The rule every frontend shares (the CLI, the MCP server, the Neovim and Emacs plugins): an
// explicit segment (-s/--segment) wins, made absolute against `cwd`; else the nearest enclosing
// directory of `cwd` with a `.git` entry (a work tree, a worktree's .git file included); else the
// nearest with a `_ctx` directory (a segment trifectad has opened: its index cache and telemetry
// live there, so a tree that is not under git is found again from any folder in it, by every
// client; a segment once opened below a work tree's root does not take the root's place); else
// `cwd` itself.
//
// The last fallback never makes the filesystem root or the home directory a segment (trifectad
// would index everything under it): from there, without -s, a work tree or `_ctx`, there is no
// segment (SegmentSource::kNone); the CLI and the MCP server say so and ask for -s. A work tree
// at the home directory (a dotfiles repository) and an explicit -s are taken as they are.
//
// Failure behaviour: total; filesystem errors count as "not there".
// Thread rules: pure functions over the filesystem; safe from any thread.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "trifecta/proto/lsp.hpp"

namespace trifecta::client {

// Which rule chose a segment root.
enum class SegmentSource {
  kFlag,      // -s/--segment
  kWorkTree,  // the enclosing git work tree
  kOpened,    // the nearest enclosing directory with `_ctx`
  kCwd,       // none of those: the current directory
  kNone,      // none of those, and the current directory is / or the home directory: no segment
};
struct SegmentChoice {
  std::string root;
  SegmentSource source = SegmentSource::kCwd;
};
// The segment for an explicit `flag` (may be empty) seen from `cwd`, and the rule that chose it
// (kNone: `root` is the cwd, which is not a segment).
SegmentChoice choose_segment(const std::string& flag, const std::filesystem::path& cwd);

// Whether `dir` is the filesystem root or the home directory ($HOME, compared canonically).
bool too_broad_for_segment(const std::filesystem::path& dir);

// Why there is no segment at `cwd` (for SegmentSource::kNone), with what to do.
std::string no_segment_message(const std::filesystem::path& cwd);

// The segment root for an explicit `flag` (may be empty) seen from `cwd` (the cwd itself for
// kNone: callers that must not use it ask choose_segment).
std::string resolve_segment(const std::string& flag, const std::filesystem::path& cwd);
// Same, from the process's current directory.
std::string resolve_segment(const std::string& flag);

// Thrown by callers that need a segment where there is none (kNone): what() is
// no_segment_message.
struct NoSegment : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The segment for `flag` from the process's current directory; NoSegment for kNone.
std::string require_segment(const std::string& flag);

// A file argument: a sym:// URI as is; a relative path that exists from the cwd made absolute
// (the daemon checks it lies inside the segment); anything else as is (segment-relative).
std::string resolve_path_arg(const std::string& arg);

// A pytest node id (`tests/test_x.py::TestA::test_b[param]`: a path ending in ".py", then
// `::`): its path part through resolve_path_arg, the rest as is. Anything else: nullopt.
std::optional<std::string> node_id_arg(const std::string& arg);

// "file:line:col" → params {path, line, column}; a sym:// URI or a pytest node id → {uri}.
// False when `arg` is none of these (params untouched then).
bool position_params(const std::string& arg, proto::LspPositionParams& params);

}  // namespace trifecta::client
