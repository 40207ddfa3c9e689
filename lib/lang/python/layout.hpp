// lang/python/layout.hpp — how a segment's Python code is laid out, so imports of its own code
// resolve (in Pyright and in sym:// names) or the user is told plainly why they cannot.
//
// Layouts recognised, first match wins:
//  * package root — the segment root itself holds `__init__.py` (`-s …/dist-packages/django`).
//    Python knows its files as `django.db.models`, never `db.models`, so `import django.x` can
//    only resolve from the folder above. The package is the dotted path from the first ancestor
//    without `__init__.py` (`-s django/db` is the package `django.db`); that ancestor becomes
//    Pyright's `python.analysis.extraPaths` entry and `package` prefixes every sym:// module name
//    (selector::ResolverOptions::package_prefix). A root folder whose name is not a Python
//    identifier (`django-3.2/` holding `__init__.py`) cannot be imported at all: `unresolved`
//    says so and what to open instead.
//  * src layout — `src/` is a directory that is not itself a package and holds Python code
//    (`src/pkg/__init__.py` or `src/mod.py`); `<root>/src` becomes an extraPaths entry (Pyright
//    adds `src` on its own only when nothing else is configured; this makes it explicit).
//  * declared package dirs — `setup.cfg` `[options] package_dir = =lib`, pyproject.toml
//    `[tool.setuptools.package-dir] "" = "lib"` or a poetry `packages = [{… from = "lib"}]`
//    add `<root>/lib` to extraPaths (and `lib` to the sym:// source roots).
//  * plain — none of these; Pyright's defaults apply.
// A `pyrightconfig.json`, or a `[tool.pyright]` table in pyproject.toml, is Pyright's own
// configuration: Pyright then ignores the client's `python.analysis` settings, so nothing is
// added (`config_governs`) and a package root that needs an extra path is reported `unresolved`
// unless that file names one itself (we cannot tell; the note says to check it).
//
// Failure behaviour: total. Unreadable config files are ignored (noted in `notes`).
// Thread rules: pure functions over the filesystem; safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace trifecta::core::lang::python {

enum class LayoutKind { kPlain, kPackageRoot, kSrc, kDeclared };
std::string_view layout_kind_name(LayoutKind k) noexcept;  // plain | package_root | src | declared

struct Layout {
  LayoutKind kind = LayoutKind::kPlain;
  // package root: the dotted package the root is ("django", "django.db"); "" otherwise.
  std::string package;
  // Absolute directories for Pyright's python.analysis.extraPaths (empty: none needed).
  std::vector<std::string> extra_paths;
  // Extra sym:// source roots, segment-relative ("lib" from a declared package dir; "src" is a
  // default root already).
  std::vector<std::string> source_roots;
  // Config files seen at the root: "pyrightconfig.json", "pyproject.toml", "setup.cfg".
  std::vector<std::string> config_files;
  bool config_governs = false;  // Pyright reads its own config; nothing is added to its settings
  // Non-empty: imports of the segment's own package cannot resolve, and why (one sentence that
  // `lsp status` and every navigation answer repeat).
  std::string unresolved;
  std::vector<std::string> notes;  // what was detected and done, one plain sentence each
};

// Inspect `root` (canonical, a directory).
Layout detect_layout(const std::filesystem::path& root);

// True for a Python identifier (ASCII letters, digits, '_', not starting with a digit).
bool is_python_identifier(std::string_view s) noexcept;

}  // namespace trifecta::core::lang::python
