// Spec of lib/lang: the language seam (which language handles a path, what it provides) and
// Python's one module <-> file rule (lang/python/modules.hpp), table-driven.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lang/language.hpp"
#include "lang/python/grammar_abi.hpp"
#include "lang/python/modules.hpp"
#include "lang/python/pyright.hpp"

using namespace trifecta::core;
using namespace trifecta::core::lang;

TEST_CASE("module_of maps a Python file to its dotted module") {
  struct Row {
    const char* path;
    const char* module;
  };
  const Row rows[] = {
      {"a.py", "a"},
      {"a/b.py", "a.b"},
      {"a/b/c.py", "a.b.c"},
      {"a/b/__init__.py", "a.b"},
      {"a/__init__.py", "a"},
      {"__init__.py", ""},
      {"src/a/b.py", "a.b"},  // the "src" source root is not part of the module
      {"src/a/__init__.py", "a"},
      {"src/__init__.py", "src"},     // the root is removed after the file name
      {"srcx/a.py", "srcx.a"},        // a root matches whole components only
      {"lib/src/a.py", "lib.src.a"},  // and only as a prefix
      {"a/my__init__.py", "a.my__init__"},
      {"a/b.pyi", "a.b.pyi"},  // not a Python source: the last component stays whole
  };
  for (const auto& r : rows) {
    INFO(r.path);
    CHECK(python::module_of(r.path) == r.module);
  }
  CHECK(python::module_of("lib/a.py", {"", "lib"}) == "a");
  CHECK(python::module_of("src/a.py", {""}) == "src.a");
}

TEST_CASE("is_package_init recognises __init__.py files only") {
  CHECK(python::is_package_init("__init__.py"));
  CHECK(python::is_package_init("a/__init__.py"));
  CHECK(python::is_package_init("a/b/__init__.py"));
  CHECK_FALSE(python::is_package_init("a/my__init__.py"));
  CHECK_FALSE(python::is_package_init("__init__.pyi"));
  CHECK_FALSE(python::is_package_init("a/__init__"));
  CHECK_FALSE(python::is_package_init(""));
}

TEST_CASE("candidate_files lists module file then package, root by root") {
  auto paths = [](const std::vector<python::ModuleFile>& v) {
    std::vector<std::string> out;
    for (const auto& f : v) out.push_back(f.path + (f.package ? " (package)" : ""));
    return out;
  };
  CHECK(paths(python::candidate_files("a.b")) ==
        std::vector<std::string>{"a/b.py", "a/b/__init__.py (package)", "src/a/b.py",
                                 "src/a/b/__init__.py (package)"});
  CHECK(paths(python::candidate_files("a", {""})) ==
        std::vector<std::string>{"a.py", "a/__init__.py (package)"});
  CHECK(python::candidate_files("").empty());
  CHECK(paths(python::files_for("")) == std::vector<std::string>{"__init__.py (package)"});
  CHECK(paths(python::files_for("x/y")) ==
        std::vector<std::string>{"x/y.py", "x/y/__init__.py (package)"});
  // The two directions agree: every candidate of a module maps back to it.
  for (const auto& f : python::candidate_files("pkg.sub.mod"))
    CHECK(python::module_of(f.path) == "pkg.sub.mod");
}

TEST_CASE("language_for_path picks the language that claims the suffix") {
  const Language* py = language_for_path("pkg/mod.py");
  REQUIRE(py != nullptr);
  CHECK(py == &python_language());
  CHECK(py->name == "python");
  CHECK(py->lsp_language_id == "python");
  CHECK(language_for_path("/abs/path/x.py") == py);
  CHECK(language_for_path("README.md") == nullptr);
  CHECK(language_for_path("stubs/mod.pyi") == nullptr);  // stubs are not claimed (language.cpp)
  CHECK(language_for_path(".py") == nullptr);            // a suffix alone is not a file name
  CHECK(language_for_path("a.py.bak") == nullptr);
  CHECK(language_named("python") == py);
  CHECK(language_named("typescript") == nullptr);
  CHECK(languages().size() == 1);
}

TEST_CASE("the Python language entry wires the module rule and the extractor") {
  const Language& py = python_language();
  CHECK(py.module_of("src/a/b/__init__.py", python::default_source_roots()) == "a.b");
  CHECK(py.is_package_init("a/__init__.py"));
  CHECK(py.candidate_files("a", {""}).size() == 2);
  auto s = py.extract_skeleton("def f(x):\n    return x\n");
  REQUIRE(s);
  REQUIRE(s->definitions.size() == 1);
  CHECK(s->definitions[0].name == "f");
}

TEST_CASE("the Python language entry carries Pyright: languageId, discovery, default settings") {
  const Language& py = python_language();
  CHECK(py.lsp_language_id == "python");
  CHECK(py.discover_server == &python::discover_server);
  lsp::ServerBinary based;
  based.flavor = lsp::ServerFlavor::kBasedPyright;
  CHECK(py.default_settings(based).contains("basedpyright.analysis"));
  CHECK(py.default_settings(lsp::ServerBinary{}).empty());
  python::DiscoveryInputs off;
  off.enabled = false;
  CHECK(py.discover_server(off).error().code == Errc::kUnavailable);
}

TEST_CASE("the compiled-in grammar's ABI is one the linked tree-sitter runtime accepts",
          "[lang][grammar]") {
  const python::GrammarAbi abi = python::grammar_abi();
  CHECK(abi.grammar_version > 0);
  CHECK(abi.runtime_min <= abi.runtime_max);
  CHECK(abi.parser_accepts);
  CHECK(abi.compatible());
  CHECK(python::describe(abi) == "grammar ABI " + std::to_string(abi.grammar_version) +
                                     ", runtime accepts " + std::to_string(abi.runtime_min) + ".." +
                                     std::to_string(abi.runtime_max));
  // A number outside the runtime's range is a mismatch even if the parser call were to pass.
  python::GrammarAbi newer = abi;
  newer.grammar_version = abi.runtime_max + 1;
  CHECK_FALSE(newer.compatible());
  CHECK_THAT(python::describe(newer), Catch::EndsWith(": MISMATCH"));
}
