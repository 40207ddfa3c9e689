#include "disclosure/repo_map.hpp"

#include <cstdio>
#include <filesystem>

#include "ast/skeleton.hpp"
#include "ast/skeleton_cache.hpp"
#include "index/segment_index.hpp"

namespace trifecta::core::disclosure {

namespace fs = std::filesystem;

namespace {

bool is_public(const std::string& name) {
  if (name.empty() || name[0] != '_') return true;
  return name.size() > 4 && name.rfind("__", 0) == 0 && name.compare(name.size() - 2, 2, "__") == 0;
}

// The outline's definitions: public top-level functions and classes; with `methods`, the
// public function/class members of those classes (one level, no deeper).
std::vector<ast::Definition> top_symbols(const ast::Skeleton& sk, bool methods, bool docstrings) {
  std::vector<ast::Definition> out;
  for (const auto& d : sk.definitions) {
    if (!is_public(d.name)) continue;
    ast::Definition t = d;
    t.attributes.clear();
    t.children.clear();
    if (!docstrings) t.docstring.clear();
    if (methods && d.kind == ast::DefKind::kClass) {
      for (const auto& m : d.children) {
        if (!is_public(m.name)) continue;
        ast::Definition c = m;
        c.children.clear();
        c.attributes.clear();
        if (!docstrings) c.docstring.clear();
        t.children.push_back(std::move(c));
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::string kind_of(const ast::Definition& d, bool member) {
  if (d.kind == ast::DefKind::kClass) return "class";
  return member ? "method" : "function";
}

MapFile render_file(const std::string& path, double centrality, const ast::Skeleton& sk,
                    bool full) {
  MapFile f;
  f.path = path;
  f.centrality = centrality;
  f.reduced = !full;
  ast::Skeleton sub;
  sub.status = sk.status;
  if (full) sub.docstring = sk.docstring;
  sub.definitions = top_symbols(sk, full, full);
  for (const auto& d : sub.definitions) {
    f.symbols.push_back(
        {d.qualname.empty() ? d.name : d.qualname, kind_of(d, false), d.line, d.end_line});
    for (const auto& m : d.children) {
      f.symbols.push_back(
          {m.qualname.empty() ? m.name : m.qualname, kind_of(m, true), m.line, m.end_line});
    }
  }
  ast::RenderOptions ro;
  ro.line_numbers = true;
  ro.imports = false;
  ro.constants = false;
  ro.nested_functions = false;
  char head[64];
  std::snprintf(head, sizeof head, "  (centrality %.2f)", centrality);
  f.text = "# " + path + head + "\n" + ast::render(sub, ro) + "\n";
  return f;
}

std::size_t tokens_of(std::size_t bytes) {
  return (bytes + 3) / 4;
}

}  // namespace

Result<MapReply> repo_map(index::SegmentIndex& seg, const MapRequest& req) {
  if (req.budget < kMinMapBudget || req.budget > kMaxMapBudget) {
    return make_error(Errc::kInvalidArgument, "budget: expected " + std::to_string(kMinMapBudget) +
                                                  ".." + std::to_string(kMaxMapBudget) + " tokens");
  }
  std::string dir = fs::path(req.path).lexically_normal().generic_string();
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  if (dir == ".") dir.clear();
  if (fs::path(req.path).is_absolute() || dir == ".." || dir.rfind("../", 0) == 0) {
    return make_error(Errc::kInvalidArgument, "path: expected a folder or file inside the segment");
  }
  MapReply r;
  r.path = dir;
  r.budget = req.budget;
  const auto central = seg.central_files(dir);
  r.candidates = central.size();
  if (central.empty() && !dir.empty() && !seg.file(dir)) {
    // Neither a Python file nor a folder holding one: say whether the path exists at all.
    std::error_code ec;
    if (!fs::exists(seg.root() / dir, ec))
      return make_error(Errc::kNotFound, "path: no such file or folder in the segment: " + dir);
  }
  for (std::size_t i = 0; i < central.size(); ++i) {
    const auto& c = central[i];
    auto sk =
        seg.skeletons().get(seg.root() / c.path, c.path, nullptr, ast::ParseEvents::kCountOnly);
    if (!sk) {
      ++r.skipped;
      continue;
    }
    MapFile f = render_file(c.path, c.centrality, *sk->skeleton, true);
    if (tokens_of(r.text.size() + f.text.size()) > req.budget) {
      f = render_file(c.path, c.centrality, *sk->skeleton, false);
    }
    const std::size_t next = tokens_of(r.text.size() + f.text.size());
    if (next > req.budget) {
      r.truncated = true;
      break;
    }
    r.text += f.text;
    r.files.push_back(std::move(f));
  }
  r.used = tokens_of(r.text.size());
  return r;
}

}  // namespace trifecta::core::disclosure
