#include "lang/python/layout.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

namespace trifecta::core::lang::python {

namespace fs = std::filesystem;

namespace {

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::string unquote(std::string s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

bool read_lines(const fs::path& p, std::vector<std::string>& out) {
  std::ifstream in(p);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return true;
}

// A relative directory name we accept from a config file: no absolute path, no "..".
bool plain_relative(const std::string& d) {
  return !d.empty() && d.front() != '/' && d.find("..") == std::string::npos;
}

// setup.cfg: `[options]` `package_dir =` with an entry whose key is empty (`= src` / `=src`).
std::string setup_cfg_package_dir(const std::vector<std::string>& lines) {
  bool in_options = false, in_value = false;
  for (const auto& raw : lines) {
    const std::string t = trim(raw);
    if (!t.empty() && t.front() == '[') {
      in_options = t == "[options]";
      in_value = false;
      continue;
    }
    if (!in_options || t.empty() || t.front() == '#' || t.front() == ';') continue;
    const bool continuation = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    if (!continuation) {
      in_value = false;
      const auto eq = t.find('=');
      if (eq == std::string::npos || trim(t.substr(0, eq)) != "package_dir") continue;
      in_value = true;
      const std::string rest = trim(t.substr(eq + 1));
      if (!rest.empty() && rest.front() == '=') return trim(rest.substr(1));
      continue;
    }
    if (in_value && t.front() == '=') return trim(t.substr(1));
  }
  return {};
}

// pyproject.toml: `[tool.setuptools.package-dir]` `"" = "src"`, or poetry's `from = "src"`.
std::string pyproject_package_dir(const std::vector<std::string>& lines, bool& has_pyright) {
  std::string table;
  std::string found;
  for (const auto& raw : lines) {
    const std::string t = trim(raw);
    if (!t.empty() && t.front() == '[' && t.find("[[") != 0) {
      table = t;
      if (t == "[tool.pyright]" || t.rfind("[tool.pyright.", 0) == 0) has_pyright = true;
      continue;
    }
    if (t.empty() || t.front() == '#') continue;
    if (table == "[tool.setuptools.package-dir]" && found.empty()) {
      const auto eq = t.find('=');
      if (eq != std::string::npos && unquote(t.substr(0, eq)).empty())
        found = unquote(t.substr(eq + 1));
    } else if (table == "[tool.poetry]" && found.empty()) {
      const auto at = t.find("from");
      if (at != std::string::npos && t.find("packages") != std::string::npos) {
        const auto q1 = t.find('"', at);
        const auto q2 = q1 == std::string::npos ? q1 : t.find('"', q1 + 1);
        if (q2 != std::string::npos) found = t.substr(q1 + 1, q2 - q1 - 1);
      }
    }
  }
  return found;
}

bool holds_python(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() == ".py" && is_file(p)) return true;
    if (is_file(p / "__init__.py")) return true;
  }
  return false;
}

}  // namespace

std::string_view layout_kind_name(LayoutKind k) noexcept {
  switch (k) {
    case LayoutKind::kPlain:
      return "plain";
    case LayoutKind::kPackageRoot:
      return "package_root";
    case LayoutKind::kSrc:
      return "src";
    case LayoutKind::kDeclared:
      return "declared";
  }
  return "plain";
}

bool is_python_identifier(std::string_view s) noexcept {
  if (s.empty() || (s.front() >= '0' && s.front() <= '9')) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Layout detect_layout(const fs::path& root) {
  Layout out;
  bool has_pyright_table = false;
  std::string declared_dir;
  if (is_file(root / "pyrightconfig.json")) {
    out.config_files.push_back("pyrightconfig.json");
    out.config_governs = true;
  }
  if (is_file(root / "pyproject.toml")) {
    out.config_files.push_back("pyproject.toml");
    std::vector<std::string> lines;
    if (read_lines(root / "pyproject.toml", lines)) {
      declared_dir = pyproject_package_dir(lines, has_pyright_table);
      if (has_pyright_table) out.config_governs = true;
    } else {
      out.notes.push_back("pyproject.toml could not be read; ignored");
    }
  }
  if (is_file(root / "setup.cfg")) {
    out.config_files.push_back("setup.cfg");
    std::vector<std::string> lines;
    if (read_lines(root / "setup.cfg", lines)) {
      if (declared_dir.empty()) declared_dir = setup_cfg_package_dir(lines);
    } else {
      out.notes.push_back("setup.cfg could not be read; ignored");
    }
  }
  const std::string governs_file =
      has_pyright_table && out.config_files.front() != "pyrightconfig.json"
          ? "pyproject.toml [tool.pyright]"
          : "pyrightconfig.json";

  if (is_file(root / "__init__.py")) {
    out.kind = LayoutKind::kPackageRoot;
    // Walk up while the parent is a package too: `-s django/db` is the package django.db.
    std::vector<std::string> names;
    fs::path top = root;
    bool named = true;
    while (true) {
      const std::string name = top.filename().string();
      if (!is_python_identifier(name)) {
        named = false;
        out.unresolved =
            "the segment root is a package (it holds __init__.py) but the folder '" + name +
            "' is not a Python identifier, so `import` cannot name it: imports of the "
            "tree's own modules cannot resolve; open a folder whose name is the package's";
        break;
      }
      names.insert(names.begin(), name);
      const fs::path parent = top.parent_path();
      if (parent == top || !is_file(parent / "__init__.py")) {
        top = parent;
        break;
      }
      top = parent;
    }
    if (named) {
      for (std::size_t i = 0; i < names.size(); ++i) out.package += (i ? "." : "") + names[i];
      if (out.config_governs) {
        out.unresolved = "the segment root is the package '" + out.package +
                         "' (it holds __init__.py) and " + governs_file +
                         " governs Pyright, which then ignores our extraPaths: `import " +
                         out.package + ".…` resolves only if that file lists " + top.string() +
                         " (extraPaths); otherwise open " + top.string() + " instead";
      } else {
        out.extra_paths.push_back(top.string());
        out.notes.push_back("package root: the segment is the package '" + out.package +
                            "'; Pyright resolves `" + out.package + ".…` through extraPaths " +
                            top.string() + "; sym:// modules are named " + out.package +
                            ".<module>");
      }
    }
    return out;
  }

  if (!declared_dir.empty() && plain_relative(declared_dir) && declared_dir != "." &&
      is_dir(root / declared_dir)) {
    out.kind = declared_dir == "src" ? LayoutKind::kSrc : LayoutKind::kDeclared;
    if (declared_dir != "src") out.source_roots.push_back(declared_dir);
    if (!out.config_governs) out.extra_paths.push_back((root / declared_dir).string());
    out.notes.push_back(
        "package dir '" + declared_dir + "' declared in " +
        (out.config_files.empty() ? std::string("config") : out.config_files.back()) +
        (out.config_governs ? "; " + governs_file + " governs Pyright (nothing added)"
                            : "; given to Pyright as extraPaths"));
    return out;
  }

  if (is_dir(root / "src") && !is_file(root / "src" / "__init__.py") &&
      holds_python(root / "src")) {
    out.kind = LayoutKind::kSrc;
    if (!out.config_governs) out.extra_paths.push_back((root / "src").string());
    out.notes.push_back(std::string("src layout: modules under src/ are named without 'src.'") +
                        (out.config_governs
                             ? "; " + governs_file + " governs Pyright (nothing added)"
                             : "; src/ given to Pyright as extraPaths"));
    return out;
  }
  if (out.config_governs)
    out.notes.push_back(governs_file + " governs Pyright's import resolution");
  return out;
}

}  // namespace trifecta::core::lang::python
