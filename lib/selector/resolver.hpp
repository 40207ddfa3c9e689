// selector/resolver.hpp — resolving sym:// URIs to files and definitions of a segment.
//
// Module → file: for each source root (default: the segment root, then `src/`), the module
// `a.b.c` may be `a/b/c.py` or the package `a/b/c/__init__.py`. Every existing candidate over
// every root is collected; more than one is AMBIGUOUS_SYMBOL listing them all (e.g. both `pkg.py`
// and `pkg/__init__.py`), none is FILE_NOT_FOUND listing every path tried plus near module
// names. Symbol → definition: the module's skeleton is searched for the qualified name
// (definitions at any depth, class attributes, module constants; `f.helper` also finds
// `f.<locals>.helper`). Several definitions with the name — duplicates, or conditional
// alternatives — are AMBIGUOUS_SYMBOL with every candidate, except the two patterns Python itself
// treats as one symbol: `@overload` stubs plus one implementation, and a `@property` with its
// `@x.setter`/`@x.deleter`; those resolve to the implementation/getter and list the rest in
// `related`. SYMBOL_NOT_FOUND comes with near names (edit distance, same last component) and,
// when the name is imported into the module, the URI where it is defined.
//
// pytest node ids. `resolve` also takes a test's node id as pytest prints it,
// `tests/test_x.py::TestA::test_b[param]`: the segment-relative file, then the `::`-separated
// names (a trailing `[…]` parametrization dropped) as the qualified name in that file —
// `TestA.test_b` — with the same matching, ambiguity and suggestions as a sym:// URI's symbol
// (suggestions are sym:// URIs). The path may be absolute inside the segment (what a CLI in a
// subfolder sends); one that leaves the segment is INVALID_URI; a file not in it, FILE_NOT_FOUND.
//
// The resolver sees the segment only through `SegmentSource`, so the daemon can plug in its file
// layer and skeleton cache; `FsSegmentSource` is the plain filesystem + SkeletonCache version.
//
// Thread rules: a Resolver holds no mutable state; `resolve` is thread-safe when its
// SegmentSource is (FsSegmentSource is).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ast/skeleton.hpp"
#include "ast/skeleton_cache.hpp"
#include "selector/sym_uri.hpp"
#include "telemetry/sink.hpp"
#include "util/result.hpp"

namespace trifecta::core::selector {

namespace fs = std::filesystem;

// What the resolver needs from a segment. Paths are segment-relative with '/' separators.
class SegmentSource {
 public:
  virtual ~SegmentSource() = default;
  virtual bool is_file(std::string_view rel) = 0;
  virtual bool is_dir(std::string_view rel) = 0;
  // Entry names (not paths) of a directory; empty when it does not exist.
  virtual std::vector<std::string> list_dir(std::string_view rel) = 0;
  // The file's skeleton. Errors as the implementation reports them (kNotFound, kIo, ...).
  virtual Result<std::shared_ptr<const ast::Skeleton>> skeleton(std::string_view rel) = 0;
  // An absolute path inside the segment as a segment-relative one; nullopt when it is outside
  // (or the source cannot tell).
  virtual std::optional<std::string> relative(std::string_view /*absolute*/) { return std::nullopt; }
};

// The filesystem under a canonical `root` (every path goes through safe_join: nothing outside
// the root is read), with skeletons from `cache`.
class FsSegmentSource final : public SegmentSource {
 public:
  FsSegmentSource(fs::path canonical_root, ast::SkeletonCache& cache)
      : root_(std::move(canonical_root)), cache_(cache) {}
  bool is_file(std::string_view rel) override;
  bool is_dir(std::string_view rel) override;
  std::vector<std::string> list_dir(std::string_view rel) override;
  Result<std::shared_ptr<const ast::Skeleton>> skeleton(std::string_view rel) override;
  std::optional<std::string> relative(std::string_view absolute) override;

 private:
  fs::path root_;
  ast::SkeletonCache& cache_;
};

struct ResolverOptions {
  std::vector<std::string> source_roots{"", "src"};  // relative; "" is the segment root
  std::size_t max_suggestions = 5;
  // The package a package-root segment IS (its root holds `__init__.py`; lang/python/layout.hpp):
  // "django" for `-s …/dist-packages/django`. Then module names carry it, as Python and Pyright
  // name them: `django.db.models` is `db/models/__init__.py` and `django` the root's
  // `__init__.py`; every reported module and suggestion is prefixed, and a name without the
  // prefix ("db.models") still resolves to the same file (reported prefixed). "" = none.
  std::string package_prefix;
};

struct ModuleFile {
  std::string module;  // dotted
  std::string file;    // segment-relative
  bool package = false;  // an __init__.py
};

struct Resolution {
  SymUri uri;
  Match match;
  std::vector<Match> related;  // overload stubs / property accessors folded into `match`
};

void tag_invoke(json::value_from_tag, json::value& v, const Resolution& r);

// A pytest node id, split: `file` (as written, '/' separators) and the dotted `qualname`.
struct NodeId {
  std::string file;
  std::string qualname;
};
// `text` as a node id: not a sym:// URI; a path ending in ".py", then one or more `::NAME`
// (Python identifiers), the last one optionally followed by `[…]`. Anything else: nullopt.
std::optional<NodeId> parse_node_id(std::string_view text);

class Resolver {
 public:
  // `channel`: where `selector.resolve` events go (a default Channel discards them).
  Resolver(SegmentSource& source, telemetry::Channel channel = {}, ResolverOptions options = {});

  // Parse and resolve a sym:// URI or a pytest node id; emits one `selector.resolve` event
  // {symbol_query, resolved, matches, ambiguous} whatever the outcome (a node id's absolute path
  // is not recorded: symbol_query keeps only what follows it).
  SelectorResult<Resolution> resolve(std::string_view uri);
  SelectorResult<Resolution> resolve(const SymUri& uri);

  // Module name → its one file. FILE_NOT_FOUND / AMBIGUOUS_SYMBOL as described above.
  SelectorResult<ModuleFile> resolve_module(std::string_view dotted);

 private:
  SelectorResult<Resolution> resolve_uri(const SymUri& uri);
  SelectorResult<Resolution> resolve_node_id(std::string_view text, const NodeId& id);
  std::vector<ModuleFile> module_candidates(const std::vector<std::string>& parts,
                                            std::vector<std::string>* tried);
  SelectorResult<Resolution> resolve_symbol(const SymUri& uri, const ModuleFile& mf, std::string_view qualname);
  std::vector<std::string> module_suggestions(const std::vector<std::string>& parts);

  SegmentSource& source_;
  telemetry::Channel channel_;
  ResolverOptions options_;
};

// Levenshtein distance (bytes), for suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace trifecta::core::selector
