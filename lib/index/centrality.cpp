#include "index/centrality.hpp"

#include <algorithm>
#include <cmath>

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
        if (n.name.empty() || n.name == "*") continue;
        out.push_back(module + ":" + n.name);
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

ImportGraph build_import_graph(const std::map<std::string, std::vector<std::string>>& imports,
                               std::string_view package_prefix) {
  ImportGraph g;
  std::map<std::string, std::size_t> id;
  for (const auto& [path, refs] : imports) {
    if (!is_python_source(path)) continue;
    id.emplace(path, g.nodes.size());
    g.nodes.push_back(path);
  }
  g.out.resize(g.nodes.size());
  auto resolve_as = [&id](const std::string& module) -> long {
    for (const auto& f : py::candidate_files(module)) {
      if (auto it = id.find(f.path); it != id.end()) return static_cast<long>(it->second);
    }
    return -1;
  };
  // In a package-root tree the tree's own modules are imported by their full names
  // (`django.db.models` for db/models/__init__.py): the package prefix is taken off first.
  const std::string prefix(package_prefix);
  auto resolve = [&](const std::string& module) -> long {
    if (!prefix.empty()) {
      if (module == prefix) {  // the root's own __init__.py
        const auto it = id.find("__init__.py");
        return it == id.end() ? -1 : static_cast<long>(it->second);
      }
      if (module.size() > prefix.size() && module.compare(0, prefix.size(), prefix) == 0 &&
          module[prefix.size()] == '.') {
        return resolve_as(module.substr(prefix.size() + 1));
      }
    }
    return resolve_as(module);
  };
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    auto& targets = g.out[i];
    for (const auto& ref : imports.at(g.nodes[i])) {
      const auto colon = ref.find(':');
      long t = -1;
      if (colon == std::string::npos) {
        t = resolve(ref);
      } else {
        const std::string module = ref.substr(0, colon);
        const std::string name = ref.substr(colon + 1);
        t = resolve(module.empty() ? name : module + "." + name);  // a submodule, else the module
        if (t < 0 && !module.empty()) t = resolve(module);
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
