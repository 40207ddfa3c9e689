// lang/python/modules.hpp — the one module <-> file rule for Python.
//
// A module `a.b` lives in `a/b.py` or, as a package, in `a/b/__init__.py`, under one of the
// segment's source roots ("" = the segment root, then "src"; relative, '/'-separated). Both
// directions are here and nowhere else: the selector resolver (sym://python/a.b → file), the AST
// fallback (imports → file, file → module name) and the daemon's fallback routing use them.
// Stubs (`.pyi`) and namespace packages (a directory without `__init__.py`) are not modules here.
//
// The lexical index's `name` field is deliberately NOT this rule: it is the path stem of any file,
// Python or not (index/ranking.cpp, `name_field_text`, which says why).
//
// Thread rules: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace trifecta::core::lang::python {

inline constexpr std::string_view kSourceSuffix = ".py";
inline constexpr std::string_view kPackageInit = "__init__.py";

// The source roots tried by default, in order.
const std::vector<std::string>& default_source_roots();

// True for "__init__.py" and "…/__init__.py".
bool is_package_init(std::string_view relpath);

// The dotted module of a segment-relative file: "a/b.py" → "a.b", "a/b/__init__.py" → "a.b",
// "__init__.py" → "". Then the first non-empty source root that prefixes what is left is
// removed ("src/a/b.py" → "a.b"; "src/__init__.py" is the package "src"). A path without the ".py"
// suffix keeps its last component whole
// ("a/b.pyi" → "a.b.pyi"): callers ask only about Python sources. In a package-root segment
// (layout.hpp: the root holds __init__.py) `package_prefix` is the package's name and goes in
// front, so the answer is Python's name for the module ("db/models.py" → "django.db.models", the
// root's "__init__.py" → "django").
std::string module_of(std::string_view relpath,
                      const std::vector<std::string>& source_roots = default_source_roots());
std::string module_of(std::string_view relpath, const std::vector<std::string>& source_roots,
                      std::string_view package_prefix);

struct ModuleFile {
  std::string path;      // segment-relative
  bool package = false;  // an __init__.py
};

// The files that can hold the module whose '/'-joined path below a root is `base` ("a/b" for
// a.b): `base.py`, then `base/__init__.py`. An empty base is the root package: "__init__.py" only.
std::vector<ModuleFile> files_for(std::string_view base);

// Every file that can hold dotted `module`, root by root, module file before package:
// for roots {"", "src"} and "a.b": a/b.py, a/b/__init__.py, src/a/b.py, src/a/b/__init__.py.
// An empty module gives no candidates.
std::vector<ModuleFile> candidate_files(
    std::string_view module, const std::vector<std::string>& source_roots = default_source_roots());

}  // namespace trifecta::core::lang::python
