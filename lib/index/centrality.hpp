// index/centrality.hpp — a query-independent prior per file: PageRank over the Python import
// graph (as Aider's repo map ranks files), computed when the index is built or updated.
//
// Graph. Nodes are the indexed Python source files (`.py`). Each file's imports (from its
// ast::Skeleton) are kept as references (`import_refs`): `import a.b` → "a.b"; `from a.b import
// c` → "a.b:c" (the module a.b.c when it is one, else a.b), `from a.b import c as d` → "a.b:c as
// d", `from a.b import *` → "a.b:*" (the module a.b); relative imports are made absolute
// from the file's own module (`from . import x` in pkg/m.py → "pkg:x"). A reference resolves to a
// file by the one module ↔ file rule (lang/python/modules.hpp `candidate_files`: the first
// candidate that is a node). Edges go importer → imported, one per distinct pair, no self-loops;
// references to modules outside the tree are dropped.
//
// Rank. PageRank with damping kCentralityDamping; a file without outgoing edges spreads its rank
// evenly over all files. Iterated until the L1 change is below 1e-12 or 200 rounds. Scores are
// scaled so that their mean is 1.0 (a file as central as the average scores 1; the sum is the
// node count). Deterministic: nodes in path order, edges sorted, fixed summation order.
//
// Thread rules: pure functions over values.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trifecta::core::ast {
struct Skeleton;
}

namespace trifecta::core::index {

inline constexpr double kCentralityDamping = 0.85;

// The import references of one file, sorted and distinct (see above).
std::vector<std::string> import_refs(std::string_view rel_path, const ast::Skeleton& skeleton);

struct ImportGraph {
  std::vector<std::string> nodes;             // sorted paths
  std::vector<std::vector<std::size_t>> out;  // out[i]: sorted distinct targets
};

// `imports`: every indexed file with its references (non-Python files are ignored).
// `package_prefix`: in a package-root tree (lang/python/layout.hpp: the root holds __init__.py)
// the dotted package the root is ("django"); a reference to `django.db.models` then resolves
// as `db.models` would (rank-5: before, such a tree's absolute imports resolved to nothing and
// its graph was nearly empty). Relative imports resolve either way.
ImportGraph build_import_graph(const std::map<std::string, std::vector<std::string>>& imports,
                               std::string_view package_prefix = {});

// PageRank of every node, mean 1.0 (see above); empty for an empty graph.
std::vector<double> pagerank(const ImportGraph& graph);

// Re-exports: the names each file gives a package's interface (files without any left out). A
// package's `__init__.py` exports its own public names ("*": `json.dumps`, defined in
// json/__init__.py) and every public name it imports from a module below its own folder (`from
// .api import get, post` in requests/__init__.py; `from django.db.models.query import QuerySet`
// in db/models/__init__.py) from that module; "*" stands for every public name there too (`from
// .fields import *`). An import bound to a private name (`as _x`) or of a submodule exports
// nothing. A module that itself imports an exported name, under that name, from below its own
// folder passes it on to where it is defined (sqlalchemy/__init__.py → sql/__init__.py →
// sql/expression.py → sql/selectable.py), and a `*` import below its folder passes on every
// name. The names are as imported: whether the module defines them is for the caller to check
// (ctx.map: disclosure/repo_map.hpp).
//
// How much of an interface: a package that most of the tree's other files import (a `util`
// package re-exporting its helpers) is the tree's own toolkit, which centrality already ranks;
// one that nothing else in the tree imports (requests/__init__.py's `get`) is there for its users
// alone. `interface` = 1 − the share of the Python files outside the package's folder that import
// a file inside it, the largest over the packages exporting from the file (the root package of a
// package-root tree: 1).
struct PackageExports {
  std::vector<std::string> names;  // sorted; "*" = every public name
  double interface = 0.0;          // in [0, 1]
  bool operator==(const PackageExports&) const = default;
};
std::map<std::string, PackageExports> package_exports(
    const std::map<std::string, std::vector<std::string>>& imports,
    std::string_view package_prefix = {});

// Both steps: path → score, for the graph's nodes only.
std::map<std::string, double> import_centrality(
    const std::map<std::string, std::vector<std::string>>& imports,
    std::string_view package_prefix = {});

}  // namespace trifecta::core::index
