#include "index/centrality.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "ast/skeleton.hpp"
#include "lang/python/modules.hpp"

namespace trifecta::core::index {

namespace py = lang::python;

namespace {

bool is_python_source(std::string_view p) {
  return p.size() > 3 && p.substr(p.size() - 3) == ".py";
}

}  // namespace

std::vector<std::string> import_refs(std::string_view rel_path, const ast::Skeleton& skeleton) {
  std::vector<std::string> out;
  const std::string self = py::module_of(rel_path);
  const bool package = py::is_package_init(rel_path);
  for (const auto& imp : skeleton.imports) {
    std::string module = imp.module;
    if (imp.level > 0) {
      // The package the dots count from: a module's package is its parent, a package is itself.
      std::string base = self;
      auto pop = [&base] {
        const auto dot = base.rfind('.');
        base = dot == std::string::npos ? std::string() : base.substr(0, dot);
      };
      if (!package) pop();
      for (int i = 1; i < imp.level; ++i) pop();
      module = base.empty() ? imp.module : (imp.module.empty() ? base : base + "." + imp.module);
    }
    if (imp.is_from) {
      bool any = false;
      for (const auto& n : imp.names) {
        if (n.name.empty()) continue;
        if (n.name == "*") {
          if (module.empty()) continue;
          out.push_back(module + ":*");
        } else if (n.alias.empty() || n.alias == n.name) {
          out.push_back(module + ":" + n.name);
        } else {
          out.push_back(module + ":" + n.name + " as " + n.alias);
        }
        any = true;
      }
      if (!any && !module.empty()) out.push_back(module);
    } else if (!module.empty()) {
      out.push_back(module);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// Resolves a dotted module to a node of the graph (an index into `nodes`, -1 for none): the first
// of its candidate files that is a node; in a package-root tree the tree's own modules are
// imported by their full names (`django.db.models` for db/models/__init__.py), so the package
// prefix is taken off first.
class ModuleResolver {
 public:
  ModuleResolver(const std::vector<std::string>& nodes, std::string_view package_prefix)
      : prefix_(package_prefix) {
    for (std::size_t i = 0; i < nodes.size(); ++i) id_.emplace(nodes[i], i);
  }

  long operator()(const std::string& module) const {
    if (!prefix_.empty()) {
      if (module == prefix_) {  // the root's own __init__.py
        const auto it = id_.find("__init__.py");
        return it == id_.end() ? -1 : static_cast<long>(it->second);
      }
      if (module.size() > prefix_.size() && module.compare(0, prefix_.size(), prefix_) == 0 &&
          module[prefix_.size()] == '.') {
        return resolve_as(module.substr(prefix_.size() + 1));
      }
    }
    return resolve_as(module);
  }

 private:
  long resolve_as(const std::string& module) const {
    for (const auto& f : py::candidate_files(module)) {
      if (auto it = id_.find(f.path); it != id_.end()) return static_cast<long>(it->second);
    }
    return -1;
  }

  std::string prefix_;
  std::map<std::string, std::size_t> id_;
};

// A `from` reference "module:name[ as alias]" taken apart (`module` empty for `from . import x`
// in the root: ":x"); `from` false and the rest empty for other references (`import a.b`).
struct FromRef {
  bool from = false;
  std::string module, name, alias;
  const std::string& bound() const { return alias.empty() ? name : alias; }  // the name bound
};
FromRef split_ref(const std::string& ref) {
  FromRef r;
  const auto colon = ref.find(':');
  if (colon == std::string::npos) return r;
  r.from = true;
  r.module = ref.substr(0, colon);
  r.name = ref.substr(colon + 1);
  if (const auto as = r.name.find(" as "); as != std::string::npos) {
    r.alias = r.name.substr(as + 4);
    r.name.resize(as);
  }
  return r;
}

std::vector<std::string> python_nodes(
    const std::map<std::string, std::vector<std::string>>& imports) {
  std::vector<std::string> nodes;
  for (const auto& [path, refs] : imports) {
    if (is_python_source(path)) nodes.push_back(path);
  }
  return nodes;
}

}  // namespace

ImportGraph build_import_graph(const std::map<std::string, std::vector<std::string>>& imports,
                               std::string_view package_prefix) {
  ImportGraph g;
  g.nodes = python_nodes(imports);
  g.out.resize(g.nodes.size());
  const ModuleResolver resolve(g.nodes, package_prefix);
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    auto& targets = g.out[i];
    for (const auto& ref : imports.at(g.nodes[i])) {
      const FromRef from = split_ref(ref);
      long t = -1;
      if (!from.from) {
        t = resolve(ref);
      } else {
        // a submodule, else the module (`from . import x` in the root: ":x")
        t = resolve(from.module.empty() ? from.name : from.module + "." + from.name);
        if (t < 0 && !from.module.empty()) t = resolve(from.module);
      }
      if (t >= 0 && static_cast<std::size_t>(t) != i)
        targets.push_back(static_cast<std::size_t>(t));
    }
    std::sort(targets.begin(), targets.end());
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  }
  return g;
}

std::vector<double> pagerank(const ImportGraph& g) {
  const std::size_t n = g.nodes.size();
  if (n == 0) return {};
  const double nd = static_cast<double>(n);
  std::vector<double> r(n, 1.0 / nd), next(n);
  for (int round = 0; round < 200; ++round) {
    double dangling = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (g.out[i].empty()) dangling += r[i];
    }
    const double base = (1.0 - kCentralityDamping) / nd + kCentralityDamping * dangling / nd;
    std::fill(next.begin(), next.end(), base);
    for (std::size_t i = 0; i < n; ++i) {
      if (g.out[i].empty()) continue;
      const double share = kCentralityDamping * r[i] / static_cast<double>(g.out[i].size());
      for (const std::size_t t : g.out[i]) next[t] += share;
    }
    double delta = 0.0;
    for (std::size_t i = 0; i < n; ++i) delta += std::fabs(next[i] - r[i]);
    r.swap(next);
    if (delta < 1e-12) break;
  }
  for (auto& x : r) x *= nd;
  return r;
}

std::map<std::string, PackageExports> package_exports(
    const std::map<std::string, std::vector<std::string>>& imports,
    std::string_view package_prefix) {
  const ImportGraph g = build_import_graph(imports, package_prefix);
  const std::vector<std::string>& nodes = g.nodes;
  const ModuleResolver resolve(nodes, package_prefix);
  const auto dir_of = [](const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
  };
  const auto below = [](const std::string& path, const std::string& dir) {
    return dir.empty() || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           path[dir.size()] == '/');
  };
  // Each package's share of interface: 1 − the share of the files outside its folder that import
  // a file inside it (the root package: 1, nothing is outside it).
  std::map<std::string, std::set<std::size_t>> users;  // package folder → importers outside it
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (py::is_package_init(nodes[i]) && !dir_of(nodes[i]).empty()) users[dir_of(nodes[i])];
  for (std::size_t u = 0; u < nodes.size(); ++u) {
    for (const std::size_t v : g.out[u]) {
      for (std::string d = dir_of(nodes[v]); !d.empty(); d = dir_of(d)) {
        if (below(nodes[u], d)) break;  // and below every folder above d
        if (const auto it = users.find(d); it != users.end()) it->second.insert(u);
      }
    }
  }
  const auto interface_of = [&](const std::string& dir) {
    if (dir.empty()) return 1.0;
    // The paths below dir are those from "dir/" up to "dir0" ('0' follows '/'): one range of the
    // sorted nodes.
    const auto first = std::lower_bound(nodes.begin(), nodes.end(), dir + "/");
    const auto last = std::lower_bound(first, nodes.end(), dir + "0");
    const auto inside = static_cast<std::size_t>(last - first);
    const std::size_t outside = nodes.size() - inside;
    const auto it = users.find(dir);
    if (outside == 0 || it == users.end()) return 1.0;
    return 1.0 - static_cast<double>(it->second.size()) / static_cast<double>(outside);
  };
  // (file, name) → the largest interface share it was exported with; pairs to follow.
  std::map<std::pair<std::size_t, std::string>, double> found;
  std::vector<std::pair<std::size_t, std::string>> todo;
  // File `target` exports `name` with `share`: a new pair, or a larger share, is followed (again).
  const auto exports = [&](std::size_t target, const std::string& name, double share) {
    const auto [it, fresh] = found.emplace(std::pair{target, name}, share);
    if (!fresh && it->second >= share) return;
    it->second = share;
    todo.emplace_back(target, name);
  };
  // `ref` of node `from` brings `name` ("*": every public name) from a file below `dir`: that
  // file exports it too.
  const auto add = [&](std::size_t from, const FromRef& ref, const std::string& name,
                       const std::string& dir, double share) {
    if (ref.module.empty()) return;  // `import a.b`, or `from . import x` in the root
    if (ref.name != "*" && resolve(ref.module + "." + ref.name) >= 0) return;  // a submodule
    const long t = resolve(ref.module);
    if (t < 0 || static_cast<std::size_t>(t) == from) return;
    const auto target = static_cast<std::size_t>(t);
    if (below(nodes[target], dir)) exports(target, name, share);
  };
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (!py::is_package_init(nodes[i])) continue;
    const std::string dir = dir_of(nodes[i]);
    const double share = interface_of(dir);
    // Its own public names (a parent's `*` may have reached them first); following them passes
    // its `*` imports on (below).
    exports(i, "*", share);
    for (const auto& r : imports.at(nodes[i])) {
      const FromRef ref = split_ref(r);
      if (ref.name == "*" || ref.bound().empty() || ref.bound()[0] == '_') continue;  // private
      add(i, ref, ref.name, dir, share);
    }
  }
  // Follow each exported name to where it is defined: a module re-exporting `name` (imported
  // under that name) or importing `*` from below its own package passes it on, with its share;
  // `*` passes on through `*` imports only.
  while (!todo.empty()) {
    const auto [file, name] = todo.back();
    todo.pop_back();
    const double share = found.at({file, name});
    const std::string dir = dir_of(nodes[file]);
    for (const auto& r : imports.at(nodes[file])) {
      const FromRef ref = split_ref(r);
      if (ref.name == "*") {
        add(file, ref, name, dir, share);
      } else if (name != "*" && ref.bound() == name) {
        add(file, ref, ref.name, dir, share);
      }
    }
  }
  std::map<std::string, PackageExports> out;
  for (const auto& [key, share] : found) {  // sorted by file, then name
    PackageExports& e = out[nodes[key.first]];
    e.names.push_back(key.second);
    e.interface = std::max(e.interface, share);
  }
  return out;
}

std::map<std::string, double> import_centrality(
    const std::map<std::string, std::vector<std::string>>& imports,
    std::string_view package_prefix) {
  const ImportGraph g = build_import_graph(imports, package_prefix);
  const std::vector<double> r = pagerank(g);
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) out.emplace(g.nodes[i], r[i]);
  return out;
}

}  // namespace trifecta::core::index
