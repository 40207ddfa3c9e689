// disclosure/repo_map.hpp — ctx.map: a ranked overview of a tree or a folder within a token
// budget, what an agent reads at the start of a task (as Aider's repo map).
//
// What it gives. The indexed Python files at or under `path`, most central first (import-graph
// PageRank: SegmentIndex::central_files, index/centrality.hpp), each rendered as a skeleton
// outline of its top symbols:
//
//   # json/decoder.py  (centrality 2.41)
//   """Implementation of JSONDecoder"""
//   class JSONDecoder(object):  # L254-356
//     """Simple JSON <https://json.org> decoder"""
//     def decode(self, s, _w=WHITESPACE.match): ...  # L332-343
//
// Top symbols: the module docstring, the public top-level functions and classes (names not
// starting with `_`), and the public methods of those classes (dunder methods such as
// `__init__` count as public); no imports, constants, nested functions or deeper levels. Every
// definition carries its `# L<a>-<b>` marker for a ranged follow-up (ctx.get sym:// or chunk ids).
//
// Budget (tokens, ceil(bytes / 4)). Files are added in rank order. A file's full outline is
// used when it fits in what is left; else its reduced outline (top-level definitions only,
// without docstrings); else the map stops there (`truncated`). `used` is the size of `text`,
// always ≤ `budget`. A file the skeleton cache cannot read (deleted meanwhile, too large) is
// skipped and counted in `skipped`.
//
// Failure behaviour: kInvalidArgument for a budget below kMinMapBudget or above kMaxMapBudget,
// or a path that is absolute or leaves the segment; kNotFound for a path that names no indexed
// file or folder. A tree without Python files gives an empty map (no error).
//
// Thread rules: `repo_map` is safe to call concurrently (SegmentIndex and the skeleton cache are
// thread-safe).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace trifecta::core::index {
class SegmentIndex;
}

namespace trifecta::core::disclosure {

inline constexpr std::size_t kDefaultMapBudget = 1024;
inline constexpr std::size_t kMinMapBudget = 64;
inline constexpr std::size_t kMaxMapBudget = 100'000;

struct MapRequest {
  std::string path;  // segment-relative folder or file; "" or "." = the whole segment
  std::size_t budget = kDefaultMapBudget;
};

struct MapSymbol {
  std::string name;  // qualified: "JSONDecoder.decode"
  std::string kind;  // "class" | "function" | "method"
  int line = 0, end_line = 0;
};

struct MapFile {
  std::string path;
  double centrality = 0.0;
  bool reduced = false;            // top-level definitions only (the full outline did not fit)
  std::vector<MapSymbol> symbols;  // what `text` shows, in source order
  std::string text;                // this file's part of the map
};

struct MapReply {
  std::string path;  // as asked, normalised ("" = whole segment)
  std::size_t budget = 0, used = 0;
  std::size_t candidates = 0;  // Python files at or under `path`
  std::size_t skipped = 0;     // unreadable by the skeleton cache
  bool truncated = false;      // files remained when the budget ran out
  std::vector<MapFile> files;  // most central first
  std::string text;            // the concatenated map
};

Result<MapReply> repo_map(index::SegmentIndex& segment, const MapRequest& request);

}  // namespace trifecta::core::disclosure
