// disclosure/repo_map.hpp — ctx.map: a ranked overview of a tree or a folder within a token
// budget, what an agent reads at the start of a task (as Aider's repo map).
//
// What it gives. The indexed Python files at or under `path`, most central first (import-graph
// PageRank: SegmentIndex::central_files, index/centrality.hpp; tests, generated and vendored
// files demoted as search demotes them: file_weight), each as a skeleton outline of its top
// symbols:
//
//   # json/decoder.py  (centrality 2.41)
//   """Implementation of JSONDecoder"""
//   class JSONDecoder(object):  # L254-356
//     def decode(self, s, _w=WHITESPACE.match): ...  # L332-343
//
// Symbols: the public top-level functions and classes (names not starting with `_`) and the
// public members of those classes (dunder methods such as `__init__` count as public); no
// imports, constants, nested functions or deeper levels. A name defined twice in one scope (a
// conditional `def` in both branches of an `if`, a property's getter and `@x.setter`) is one
// symbol, shown by its first definition. Every definition carries its `# L<a>-<b>` marker for
// a ranged follow-up (ctx.get sym:// or chunk ids); the file's header line carries its module
// docstring's first line.
//
// Ranking (as Aider's repo map ranks definitions). Each symbol scores √file_weight of its file ×
// `symbol_weight`, which grows with `refs`: how many other indexed Python files use the symbol's
// name as an identifier in their code, exact case, strings and comments not counted
// (SegmentIndex::name_reach, from each file's identifier table; by name, as Aider counts
// references: a file naming another class of the same name counts too). The square root keeps
// a hub file's unused helpers from crowding out the most used definitions of the files below
// it. A member weighs half as much and counts at most its class's refs (`get` is named
// everywhere; `Model.get` is used where `Model` is); a member overriding a method of an ancestor
// class in the files read weighs a quarter of that (kMapOverrideWeight). A top-level definition
// a package re-exports weighs more (kMapExportWeight: the package's interface, which users
// outside the tree call and its own files may not). A file without public definitions is one
// item, weighted as an unused symbol.
//
// Budget (tokens, ceil(bytes / 4)). Breadth first: the longest prefix of the ranked symbols
// whose compact outline fits — one line a symbol: no decorators or docstrings, long parameter
// lists cut (`compact_signature`); a member brings its class line along; files in rank order,
// symbols in source order. Then depth: each shown file, in rank order, gets its full outline
// (every public symbol with its decorators, whole signature and first docstring line) when that
// still fits, so a small folder reads as before and a large tree shows many files rather than
// the first one whole. While other files' symbols wait, no file's compact outline in the breadth
// pass takes more than kMapFileShare of the budget: the file over it keeps its best symbols that
// fit that share, and its others rank after every other file's (a module of forty exception
// classes that every file imports no longer fills a small map). A file shown with less than its
// full outline is `reduced`; `truncated` says a larger budget would show more (a file left out or
// reduced). `used` is the size of `text`, always ≤ `budget`. Only the best-weighted files are read:
// as many as the budget could show with a header and three symbol lines each (about 30 of a whole
// tree at the default budget; reading skeletons is most of the map's cost). When the map then comes
// out more than two lines under its budget with files left unread (files with fewer public
// definitions than three, such as a folder of empty `__init__.py` files, cost less than that), it
// reads on by what is left, counting those files exactly, and is composed again (at most 8 times).
// A file the skeleton cache cannot read (deleted meanwhile, too large) is skipped and counted in
// `skipped`.
//
// Failure behaviour: kInvalidArgument for a budget below kMinMapBudget or above kMaxMapBudget,
// or a path that is absolute or leaves the segment; kNotFound for a path that names no indexed
// file or folder. A tree without Python files gives an empty map (no error).
//
// Thread rules: `repo_map` is safe to call concurrently (SegmentIndex and the skeleton cache are
// thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace trifecta::core::index {
class SegmentIndex;
struct CentralFile;
}  // namespace trifecta::core::index

namespace trifecta::core::disclosure {

inline constexpr std::size_t kDefaultMapBudget = 1024;
inline constexpr std::size_t kMinMapBudget = 64;
inline constexpr std::size_t kMaxMapBudget = 100'000;
// The most of the budget one file's compact outline takes while other files' symbols wait
// (measured: docs/benchmarks.md, section "Node ids, a map's share, a file reference's extension").
inline constexpr double kMapFileShare = 0.25;

struct MapRequest {
  std::string path;  // segment-relative folder or file; "" or "." = the whole segment
  std::size_t budget = kDefaultMapBudget;
};

struct MapSymbol {
  std::string name;  // qualified: "JSONDecoder.decode"
  std::string kind;  // "class" | "function" | "method"
  int line = 0, end_line = 0;
  // Other indexed Python files using its name in code (exact case); a member's at most its
  // class's; dunders 0.
  std::uint32_t refs = 0;
};

struct MapFile {
  std::string path;
  double centrality = 0.0;         // import-graph PageRank (not demoted by path classes)
  bool reduced = false;            // less than its full outline (symbols or docstrings left out)
  std::vector<MapSymbol> symbols;  // what `text` shows, in source order
  std::string text;                // this file's part of the map
};

struct MapReply {
  std::string path;  // as asked, normalised ("" = whole segment)
  std::size_t budget = 0, used = 0;
  std::size_t candidates = 0;  // Python files at or under `path`
  std::size_t skipped = 0;     // unreadable by the skeleton cache
  bool truncated = false;      // a larger budget would show more (a file left out or reduced)
  std::vector<MapFile> files;  // in rank order (file_weight: centrality, path classes)
  std::string text;            // the concatenated map
};

Result<MapReply> repo_map(index::SegmentIndex& segment, const MapRequest& request);

// A signature as the map's compact outline shows it: a parameter list longer than
// kMapSignatureBytes is cut after the last parameter that ends within it, and "...)" closes it;
// what follows the list (`-> T`) stays. "(obj, fp, *, skipkeys=False, ensure_ascii=True, …)"
// becomes "(obj, fp, *, skipkeys=False, ensure_ascii=True, ...)".
inline constexpr std::size_t kMapSignatureBytes = 48;
std::string compact_signature(std::string_view sig);

// `__name__` (at least one character between the underscores).
bool is_dunder(const std::string& name);
// A file's weight in the map's ranking: its centrality, × the export factor when a package
// re-exports from it (kMapExportFileWeight, below), else × kMapPrivateWeight for a private
// module (below), × the search's factor for each class of its
// path below `dir` (index/ranking.hpp path_class, path_factor: tests × 0.35, generated × 0.5,
// vendored × 0.6, a language's folder below `locale/` × 0) — a map of a tree leads with its own
// code, not its tests or another project's code shipped inside it; a map of `tests/` or
// `_vendor/rich` itself does not demote its files for those classes.
double file_weight(const index::CentralFile& file, std::string_view dir);
// A symbol's weight in the map's ranking (multiplied by the square root of its file's
// file_weight). `reach_weight(refs, files)` = kMapUnusedWeight + ln(1 + refs) × (1 − refs/files):
// it grows with the other files naming the symbol, but a name most files use (`name`, `value`,
// `get`) tells little of this definition, so the weight falls again as the share nears 1. A
// top-level definition weighs reach_weight(refs); a member 0.5 × reach_weight(min(refs,
// class_refs)); `__init__` and `__call__` 0.5 × reach_weight(class_refs); other dunders
// (members or module-level) 0.25 × kMapUnusedWeight. repo_map multiplies an override's weight
// by kMapOverrideWeight.
inline constexpr double kMapUnusedWeight = 0.1;
// A member that overrides a method of an ancestor class among the files the map reads
// (`CharField.to_python` under `Field.to_python`) scores this share of its weight: the
// ancestor's line already tells the reader the name (measured: tests/relevance/map_docs.py).
inline constexpr double kMapOverrideWeight = 0.25;
// A top-level definition a package re-exports (CentralFile::exports: `from .api import get` in
// requests/__init__.py) is the package's interface. With `i` = CentralFile::interface (1 for a
// package nothing else in the tree imports, 0 for one every other file imports: a `util` package
// re-exporting its helpers), its weight is × (1 + (kMapExportWeight − 1) × i), and file_weight of
// a file exporting any name × (1 + (kMapExportFileWeight − 1) × i) — kept by repo_map only when
// the file defines one of them (a package's own names count: `json.dumps`). requests/api.py (`get`,
// `post`), which nothing in the tree imports, was in no map of requests + urllib3 up to 4,000
// tokens (measured: docs/benchmarks.md, section "`ctx map`: a package's re-exports").
// A private module — PEP 8's leading underscore on the file (`_weakrefset.py`, `_py_abc.py`) or
// on a folder of its path below the map's own path (`pip/_internal/…`), not a dunder — is its
// package's internals: file_weight × kMapPrivateWeight, unless a package re-exports names from
// it (then it is where the interface is defined: `sqlalchemy/sql/_elements_constructors.py`).
// The whole stdlib's map at 4,000 tokens showed `_py_abc.py`, `_weakrefset.py` and
// `_collections_abc.py` among its first files (measured: docs/benchmarks.md, section "`ctx map`:
// private modules").
inline constexpr double kMapPrivateWeight = 0.5;
bool private_module(std::string_view rel);  // `rel`: the path below the map's own path
inline constexpr double kMapExportWeight = 2.0;
inline constexpr double kMapExportFileWeight = 2.0;
double reach_weight(std::uint32_t refs, std::size_t files);
double symbol_weight(bool member, const std::string& name, std::uint32_t refs,
                     std::uint32_t class_refs, std::size_t files);

}  // namespace trifecta::core::disclosure
