// Spec of lib/lang/python/layout: which layout a segment has (package root, nested package
// root, src/, declared package dirs, Pyright's own config) and what Pyright is given for it; and
// the sym:// line of a symbol against Python's own `ast` on a sample of the stdlib (the `def`
// line, never the decorator's).
#include "lang/python/layout.hpp"

#include <stdio.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <optional>

#include "../support/temp_dir.hpp"
#include "ast/skeleton_cache.hpp"
#include "lang/python/pyright.hpp"
#include "selector/resolver.hpp"

using namespace trifecta::core;
using namespace trifecta::core::lang::python;
using trifecta::test::TempDir;
using trifecta::test::write_text;
namespace json = boost::json;

namespace {

// stdout of a real process (python3), or nullopt when it could not run or failed.
std::optional<std::string> run_capture(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return std::nullopt;
  std::string out;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (::pclose(p) != 0) return std::nullopt;
  return out;
}

fs::path canon(const fs::path& p) {
  fs::create_directories(p);
  return fs::canonical(p);
}

}  // namespace

TEST_CASE("layout: a folder of plain modules needs nothing", "[layout]") {
  TempDir t;
  const fs::path root = canon(t.path() / "proj");
  write_text(root / "app.py", "import util\n");
  write_text(root / "util.py", "X = 1\n");
  const Layout l = detect_layout(root);
  CHECK(l.kind == LayoutKind::kPlain);
  CHECK(l.package.empty());
  CHECK(l.extra_paths.empty());
  CHECK(l.unresolved.empty());
  json::object settings;
  add_layout_settings(l, settings);
  CHECK(settings.empty());
}

TEST_CASE("layout: a package root resolves through its parent, nested roots name the whole package",
          "[layout]") {
  TempDir t;
  const fs::path dist = canon(t.path() / "dist-packages");
  write_text(dist / "django" / "__init__.py", "");
  write_text(dist / "django" / "db" / "__init__.py", "");
  write_text(dist / "django" / "db" / "models.py", "class Model: pass\n");

  const Layout top = detect_layout(dist / "django");
  CHECK(top.kind == LayoutKind::kPackageRoot);
  CHECK(layout_kind_name(top.kind) == "package_root");
  CHECK(top.package == "django");
  CHECK(top.extra_paths == std::vector<std::string>{dist.string()});
  CHECK(top.unresolved.empty());
  REQUIRE_FALSE(top.notes.empty());

  const Layout nested = detect_layout(dist / "django" / "db");
  CHECK(nested.package == "django.db");
  CHECK(nested.extra_paths == std::vector<std::string>{dist.string()});

  // What Pyright gets: python.analysis.extraPaths, flat and nested, appended to what is there.
  json::object settings{{"python.analysis", json::object{{"extraPaths", json::array{"/already"}}}}};
  add_layout_settings(top, settings);
  CHECK(settings.at("python.analysis").at("extraPaths") ==
        json::array{"/already", dist.string().c_str()});
  CHECK(settings.at("python").at("analysis").at("extraPaths") ==
        json::array{dist.string().c_str()});
  CHECK(settings.at("basedpyright.analysis").at("extraPaths") ==
        json::array{dist.string().c_str()});
}

TEST_CASE("layout: a package root that cannot be imported says why", "[layout]") {
  TempDir t;
  const fs::path root = canon(t.path() / "django-3.2");
  write_text(root / "__init__.py", "");
  const Layout l = detect_layout(root);
  CHECK(l.kind == LayoutKind::kPackageRoot);
  CHECK(l.package.empty());
  CHECK(l.extra_paths.empty());
  CHECK_THAT(l.unresolved, Catch::Contains("'django-3.2' is not a Python identifier"));

  // Pyright's own config governs: we add nothing and say the imports depend on it.
  const fs::path gov = canon(t.path() / "site" / "mypkg");
  write_text(gov / "__init__.py", "");
  write_text(gov / "pyrightconfig.json", "{}\n");
  const Layout g = detect_layout(gov);
  CHECK(g.config_governs);
  CHECK(g.package == "mypkg");
  CHECK(g.extra_paths.empty());
  CHECK_THAT(g.unresolved, Catch::Contains("pyrightconfig.json governs Pyright"));
}

TEST_CASE("layout: src/, setup.cfg and pyproject.toml package dirs", "[layout]") {
  TempDir t;
  const fs::path src = canon(t.path() / "a");
  write_text(src / "src" / "pkg" / "__init__.py", "");
  const Layout s = detect_layout(src);
  CHECK(s.kind == LayoutKind::kSrc);
  CHECK(s.extra_paths == std::vector<std::string>{(src / "src").string()});

  // src/ that is itself a package is not a src layout.
  const fs::path srcpkg = canon(t.path() / "b");
  write_text(srcpkg / "src" / "__init__.py", "");
  CHECK(detect_layout(srcpkg).kind == LayoutKind::kPlain);

  const fs::path cfg = canon(t.path() / "c");
  write_text(cfg / "lib" / "pkg" / "__init__.py", "");
  write_text(cfg / "setup.cfg",
             "[metadata]\nname = x\n\n[options]\npackage_dir =\n    = lib\npackages = find:\n");
  const Layout c = detect_layout(cfg);
  CHECK(c.kind == LayoutKind::kDeclared);
  CHECK(c.source_roots == std::vector<std::string>{"lib"});
  CHECK(c.extra_paths == std::vector<std::string>{(cfg / "lib").string()});

  const fs::path toml = canon(t.path() / "d");
  write_text(toml / "code" / "pkg" / "__init__.py", "");
  write_text(toml / "pyproject.toml",
             "[project]\nname = \"x\"\n\n[tool.setuptools.package-dir]\n\"\" = \"code\"\n");
  const Layout p = detect_layout(toml);
  CHECK(p.kind == LayoutKind::kDeclared);
  CHECK(p.source_roots == std::vector<std::string>{"code"});
  CHECK(p.config_files == std::vector<std::string>{"pyproject.toml"});

  // [tool.pyright] makes Pyright read its own settings: nothing added.
  write_text(
      toml / "pyproject.toml",
      "[tool.setuptools.package-dir]\n\"\" = \"code\"\n[tool.pyright]\nextraPaths = [\"code\"]\n");
  const Layout pr = detect_layout(toml);
  CHECK(pr.config_governs);
  CHECK(pr.extra_paths.empty());
  // A declared dir that leaves the tree is ignored.
  write_text(toml / "pyproject.toml", "[tool.setuptools.package-dir]\n\"\" = \"../elsewhere\"\n");
  CHECK(detect_layout(toml).kind == LayoutKind::kPlain);
}

TEST_CASE("sym:// lines agree with Python's ast on a stdlib sample, decorated or not",
          "[layout][oracle]") {
  const auto out =
      run_capture(std::string("'") + TRIFECTA_PYTHON3 + "' '" + TRIFECTA_DEF_LINES_SCRIPT + "'");
  if (!out) {
    WARN("python3 could not sample the stdlib: skipped");
    SUCCEED();
    return;
  }
  const json::value doc = json::parse(*out);
  const fs::path stdlib = doc.at("root").as_string().c_str();
  TempDir cache_dir;
  ast::SkeletonCache cache(cache_dir.path() / "ast.sqlite", {});
  selector::FsSegmentSource source(fs::canonical(stdlib), cache);
  selector::Resolver resolver(source);
  int compared = 0, decorated = 0, line_wrong = 0, decorator_wrong = 0;
  for (const auto& v : doc.at("symbols").as_array()) {
    const auto& s = v.as_object();
    const std::string uri = "sym://python/" + std::string(s.at("module").as_string()) + "/" +
                            std::string(s.at("qualname").as_string());
    auto hit = resolver.resolve(uri);
    INFO(uri);
    if (!hit) {
      // Not a single answer (a module name shadowed by a package, ...): not this test's subject.
      continue;
    }
    ++compared;
    const auto line = s.at("line").as_int64(), deco = s.at("decorated_line").as_int64();
    if (deco != line) ++decorated;
    if (hit->match.line != line) {
      ++line_wrong;
      UNSCOPED_INFO(uri << ": line " << hit->match.line << ", ast says " << line);
    }
    if (hit->match.decorated_line != deco) {
      ++decorator_wrong;
      UNSCOPED_INFO(uri << ": decorated_line " << hit->match.decorated_line << ", ast says "
                        << deco);
    }
  }
  CHECK(compared >= 180);
  CHECK(decorated >= 80);
  CHECK(line_wrong == 0);
  CHECK(decorator_wrong == 0);
}

TEST_CASE("Pyright's workspace-scan log line gives the number of source files",
          "[layout][pyright]") {
  CHECK(workspace_scan_files("Found 859 source files") == 859);
  CHECK(workspace_scan_files("Found 1 source file") == 1);
  CHECK(workspace_scan_files("No source files found.") == 0);
  CHECK(workspace_scan_files("Found 3 files") == std::nullopt);
  CHECK(workspace_scan_files("Found source files") == std::nullopt);
  CHECK(workspace_scan_files("Searching for source files") == std::nullopt);
  CHECK(workspace_scan_files("") == std::nullopt);
}
