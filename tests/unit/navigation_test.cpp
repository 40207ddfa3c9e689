// Spec of lib/lang/python's AST fallback: the AST fallback's definition rules (scopes, classes, imports, the index),
// hover text, name-based references and syntax-error diagnostics, on a small tree written here.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "../support/temp_dir.hpp"
#include "ast/skeleton_cache.hpp"
#include "lang/python/navigation.hpp"
#include "lang/python/symbol_index.hpp"
#include "selector/resolver.hpp"

using namespace trifecta::core;
using namespace trifecta::core::navigation;

namespace {

const std::map<std::string, std::string> kTree = {
    {"pkg/__init__.py",
     "\"\"\"Package doc.\"\"\"\n"
     "from .core import Engine\n"
     "from .util import helper as util_helper\n"},
    {"pkg/base.py",
     "class Base:\n"
     "    def start(self):\n"
     "        \"\"\"Start.\"\"\"\n"
     "        return 0\n"},
    {"pkg/util.py",
     "def helper(x):\n"
     "    \"\"\"Help.\"\"\"\n"
     "    return x\n"
     "\n"
     "\n"
     "def compute(value):\n"
     "    return value\n"},
    {"pkg/core.py",
     "\"\"\"Core.\"\"\"\n"
     "from .base import Base\n"
     "from . import util\n"
     "\n"
     "LIMIT = 10\n"
     "\n"
     "\n"
     "class Engine(Base):\n"
     "    \"\"\"An engine.\"\"\"\n"
     "\n"
     "    kind = \"engine\"\n"
     "\n"
     "    def __init__(self, size):\n"
     "        self.size = size\n"
     "\n"
     "    def run(self, n):\n"
     "        \"\"\"Run it.\"\"\"\n"
     "        total = self.step(n) + self.size\n"
     "        return self.start() + total + util.compute(n)\n"
     "\n"
     "    def step(self, n):\n"
     "        return n * LIMIT\n"},
    {"app.py",
     "import pkg.util as u\n"
     "from pkg import Engine\n"
     "from pkg.util import helper as h\n"
     "\n"
     "value = 1\n"
     "\n"
     "\n"
     "def compute(value):\n"
     "    result = value + 1\n"
     "    def inner():\n"
     "        return result\n"
     "    return inner()\n"
     "\n"
     "\n"
     "def main(obj):\n"
     "    e = Engine(3)\n"
     "    e.run(2)\n"
     "    u.helper(value)\n"
     "    h(value)\n"
     "    obj.step(1)\n"
     "    print(len(\"value\"))  # value in a comment\n"
     "    s = \"héllo wörld\"; r = compute(value)\n"
     "    return compute(value), s, r\n"
     "\n"
     "\n"
     "def extra(items):\n"
     "    eng = Engine(size=4)\n"
     "    for it in items:\n"
     "        it.size\n"
     "    try:\n"
     "        pass\n"
     "    except (ValueError, KeyError) as exc:\n"
     "        print(exc, __name__)\n"
     "    return compute(value=eng)\n"},
    {"broken.py",
     "def ok():\n"
     "    return 1\n"
     "\n"
     "print((1, 2)\n"},
};

struct Fixture {
  trifecta::test::TempDir dir;
  fs::path root;
  ast::SkeletonCache cache{"", telemetry::Channel{}};
  std::unique_ptr<selector::FsSegmentSource> source;
  std::unique_ptr<SkeletonSymbolIndex> index;

  Fixture() {
    root = fs::canonical(dir.path());
    std::vector<std::string> files;
    for (const auto& [rel, text] : kTree) {
      trifecta::test::write_text(root / rel, text);
      files.push_back(rel);
    }
    source = std::make_unique<selector::FsSegmentSource>(root, cache);
    index = std::make_unique<SkeletonSymbolIndex>(root, cache, files);
  }

  // Position of the `nth` (0-based) whole occurrence of `needle` on the line containing `line_has`,
  // plus `into` characters; columns counted in code points.
  static text::Position at(const std::string& rel, const std::string& line_has, const std::string& needle,
                          int nth = 0, int into = 0) {
    const std::string& text = kTree.at(rel);
    int line = 1;
    std::size_t b = 0;
    while (b < text.size()) {
      std::size_t e = text.find('\n', b);
      if (e == std::string::npos) e = text.size();
      const std::string l = text.substr(b, e - b);
      if (l.find(line_has) != std::string::npos) {
        std::size_t p = l.find(needle);
        for (int i = 0; i < nth && p != std::string::npos; ++i) p = l.find(needle, p + 1);
        REQUIRE(p != std::string::npos);
        int col = 1;
        for (std::size_t k = 0; k < p; ++k)
          if ((static_cast<unsigned char>(l[k]) & 0xC0) != 0x80) ++col;
        return {line, col + into};
      }
      b = e + 1;
      ++line;
    }
    FAIL("line not found: " << line_has);
    return {};
  }

  DefinitionResult def(const std::string& rel, text::Position pos) {
    auto r = definition(*source, *index, rel, kTree.at(rel), pos);
    REQUIRE(r.ok());
    return *r;
  }
};

void expect_target(const DefinitionResult& d, const std::string& path, int line, const std::string& rule) {
  INFO("name=" << d.name << " rule=" << d.rule << " reason=" << d.reason);
  REQUIRE(!d.targets.empty());
  CHECK(d.rule == rule);
  CHECK(d.targets.front().location.path == path);
  CHECK(d.targets.front().location.line == line);
}

}  // namespace

TEST_CASE("definition: a parameter shadows the module variable of the same name", "[definition]") {
  Fixture f;
  auto d = f.def("app.py", Fixture::at("app.py", "result = value", "value"));
  expect_target(d, "app.py", 8, "local");
  CHECK(d.targets.front().kind == "parameter");
  CHECK(d.targets.front().location.column == 13);  // def compute(value)
  // ... while in main() the same name is the module's variable.
  auto g = f.def("app.py", Fixture::at("app.py", "u.helper(value)", "value"));
  expect_target(g, "app.py", 5, "module");
  CHECK(g.targets.front().kind == "variable");
}

TEST_CASE("definition: a parameter's own name is its declaration", "[definition]") {
  Fixture f;
  auto d = f.def("app.py", Fixture::at("app.py", "def compute(value)", "value"));
  expect_target(d, "app.py", 8, "declaration");
  CHECK(d.targets.front().kind == "parameter");
}

TEST_CASE("definition: enclosing function scopes and nested defs", "[definition]") {
  Fixture f;
  auto inner = f.def("app.py", Fixture::at("app.py", "return inner()", "inner"));
  expect_target(inner, "app.py", 10, "local");
  CHECK(inner.targets.front().kind == "function");
  auto result = f.def("app.py", Fixture::at("app.py", "return result", "result"));
  expect_target(result, "app.py", 9, "local");
}

TEST_CASE("definition: self.method, self.attribute and an inherited method", "[definition]") {
  Fixture f;
  auto step = f.def("pkg/core.py", Fixture::at("pkg/core.py", "total = self.step", "step"));
  expect_target(step, "pkg/core.py", 21, "attribute");
  CHECK(step.targets.front().kind == "method");
  CHECK(step.targets.front().qualname == "Engine.step");
  CHECK(step.targets.front().location.column == 9);
  auto size = f.def("pkg/core.py", Fixture::at("pkg/core.py", "total = self.step", "size"));
  expect_target(size, "pkg/core.py", 14, "attribute");
  CHECK(size.targets.front().location.column == 14);  // self.size = size
  auto start = f.def("pkg/core.py", Fixture::at("pkg/core.py", "return self.start()", "start"));
  expect_target(start, "pkg/base.py", 2, "attribute");
  CHECK(start.targets.front().qualname == "Base.start");
}

TEST_CASE("definition: imports, aliases, relative imports and a package re-export", "[definition]") {
  Fixture f;
  // from pkg.util import helper as h; h(...)
  auto h = f.def("app.py", Fixture::at("app.py", "h(value)", "h"));
  expect_target(h, "pkg/util.py", 1, "import");
  CHECK(h.targets.front().kind == "function");
  CHECK(h.targets.front().location.column == 5);
  // relative: from .base import Base, used as a base class
  auto base = f.def("pkg/core.py", Fixture::at("pkg/core.py", "class Engine(Base)", "Base"));
  expect_target(base, "pkg/base.py", 1, "import");
  // from pkg import Engine: pkg/__init__.py re-exports it from .core
  auto engine = f.def("app.py", Fixture::at("app.py", "e = Engine(3)", "Engine"));
  expect_target(engine, "pkg/core.py", 8, "import");
  CHECK(engine.targets.front().kind == "class");
  // import pkg.util as u; u.helper
  auto uh = f.def("app.py", Fixture::at("app.py", "u.helper(value)", "helper"));
  expect_target(uh, "pkg/util.py", 1, "import");
  auto u = f.def("app.py", Fixture::at("app.py", "u.helper(value)", "u"));
  expect_target(u, "pkg/util.py", 1, "import");
  CHECK(u.targets.front().kind == "module");
  // from . import util; util.compute
  auto uc = f.def("pkg/core.py", Fixture::at("pkg/core.py", "util.compute(n)", "compute"));
  expect_target(uc, "pkg/util.py", 6, "import");
  // the cursor on a module name inside the import statement
  auto m = f.def("app.py", Fixture::at("app.py", "from pkg.util import helper", "util"));
  expect_target(m, "pkg/util.py", 1, "import");
}

TEST_CASE("definition: an instance created from a class resolves its methods", "[definition]") {
  Fixture f;
  auto run = f.def("app.py", Fixture::at("app.py", "e.run(2)", "run"));
  expect_target(run, "pkg/core.py", 16, "attribute");
}

TEST_CASE("definition: keyword arguments are the callee's parameters", "[definition]") {
  Fixture f;
  // Engine(size=4): the parameter of Engine.__init__ in pkg/core.py.
  auto size = f.def("app.py", Fixture::at("app.py", "eng = Engine(size=4)", "size"));
  expect_target(size, "pkg/core.py", 13, "keyword");
  CHECK(size.targets.front().kind == "parameter");
  CHECK(size.targets.front().location.column == 24);
  auto value = f.def("app.py", Fixture::at("app.py", "compute(value=eng)", "value"));
  expect_target(value, "app.py", 8, "keyword");
}

TEST_CASE("definition: instance attributes are in the index for unknown receivers", "[definition]") {
  Fixture f;
  auto d = f.def("app.py", Fixture::at("app.py", "it.size", "size"));
  expect_target(d, "pkg/core.py", 14, "index");
  CHECK(d.targets.front().kind == "attribute");
  CHECK(d.targets.front().qualname == "Engine.size");
  CHECK(d.targets.front().location.column == 14);  // precomputed by the index
  CHECK(d.targets.front().location.end_column == 18);
}

TEST_CASE("definition: except targets and module attributes", "[definition]") {
  Fixture f;
  auto exc = f.def("app.py", Fixture::at("app.py", "print(exc, __name__)", "exc"));
  expect_target(exc, "app.py", 32, "local");
  CHECK(exc.targets.front().location.column == 38);
  auto name = f.def("app.py", Fixture::at("app.py", "print(exc, __name__)", "__name__"));
  expect_target(name, "app.py", 1, "module");
}

TEST_CASE("definition: builtins give an empty result with the reason", "[definition]") {
  Fixture f;
  auto d = f.def("app.py", Fixture::at("app.py", "print(len(", "len"));
  CHECK(d.targets.empty());
  CHECK(d.rule == "builtin");
  CHECK(d.reason.find("builtin") != std::string::npos);
}

TEST_CASE("definition: an unknown receiver falls back to the index", "[definition]") {
  Fixture f;
  auto d = f.def("app.py", Fixture::at("app.py", "obj.step(1)", "step"));
  expect_target(d, "pkg/core.py", 21, "index");
}

TEST_CASE("definition: the cursor on any character of the name", "[definition]") {
  Fixture f;
  for (int into : {0, 3, 6}) {
    auto d = f.def("app.py", Fixture::at("app.py", "return compute(value), s", "compute", 0, into));
    CHECK(d.name == "compute");
    expect_target(d, "app.py", 8, "module");
  }
  // Not on an identifier: keyword, string, comment.
  CHECK(f.def("app.py", Fixture::at("app.py", "def main", "def", 0, 1)).targets.empty());
  CHECK(f.def("app.py", Fixture::at("app.py", "print(len(", "value", 0, 1)).targets.empty());
  CHECK(f.def("app.py", Fixture::at("app.py", "print(len(", "comment", 0, 1)).name.empty());
}

TEST_CASE("definition: columns are code points after non-ASCII text", "[definition]") {
  Fixture f;
  // `    s = "héllo wörld"; r = compute(value)`: "compute" starts at character 28 (byte 30).
  const auto pos = Fixture::at("app.py", "héllo", "compute", 0, 2);
  CHECK(pos.column == 30);
  auto d = f.def("app.py", pos);
  CHECK(d.name == "compute");
  expect_target(d, "app.py", 8, "module");
  // ... and an output location on that line is in code points too.
  auto r = f.def("app.py", Fixture::at("app.py", "héllo", "r ="));
  expect_target(r, "app.py", 22, "local");
  CHECK(r.targets.front().location.column == 24);
  CHECK(r.targets.front().location.end_column == 25);
}

TEST_CASE("definition: a line outside the file is an invalid argument", "[definition]") {
  Fixture f;
  auto r = definition(*f.source, *f.index, "app.py", kTree.at("app.py"), {99, 1});
  REQUIRE(!r.ok());
  CHECK(r.error().code == Errc::kInvalidArgument);
}

TEST_CASE("hover: signature, kind and first docstring line like Pyright", "[hover]") {
  Fixture f;
  auto h = hover(*f.source, *f.index, "app.py", kTree.at("app.py"), Fixture::at("app.py", "e.run(2)", "run"));
  REQUIRE(h.ok());
  REQUIRE(h->hover);
  CHECK(h->hover->kind == "markdown");
  CHECK(h->hover->contents == "```python\n(method) def run(self, n)\n```\n---\nRun it.");
  REQUIRE(h->hover->range);
  CHECK(h->hover->range->line == 17);
  auto c = hover(*f.source, *f.index, "app.py", kTree.at("app.py"), Fixture::at("app.py", "e = Engine(3)", "Engine"));
  REQUIRE(c.ok());
  REQUIRE(c->hover);
  CHECK(c->hover->contents == "```python\n(class) class Engine(Base)\n```\n---\nAn engine.");
  auto none = hover(*f.source, *f.index, "app.py", kTree.at("app.py"), Fixture::at("app.py", "print(len(", "len"));
  REQUIRE(none.ok());
  CHECK(!none->hover);
  CHECK(none->rule == "builtin");
}

TEST_CASE("references: across files, never in strings or comments", "[references]") {
  Fixture f;
  auto r = references(*f.source, *f.index, "app.py", kTree.at("app.py"), Fixture::at("app.py", "u.helper(value)", "value"),
                      true);
  REQUIRE(r.ok());
  CHECK(r->name == "value");
  CHECK(!r->truncated);
  std::map<std::string, int> per_file;
  for (const auto& l : r->locations) ++per_file[l.path];
  // app.py: value = 1, def compute(value), value + 1, u.helper(value), h(value), two compute(value),
  // compute(value=eng) — not "value" in the string or the comment.
  CHECK(per_file["app.py"] == 8);
  CHECK(per_file["pkg/util.py"] == 2);
  CHECK(r->locations.front().path == "app.py");
  for (const auto& l : r->locations)
    if (l.path == "app.py") CHECK(l.line != 21);  // the print line: only string and comment

  auto helper = references(*f.source, *f.index, "pkg/util.py", kTree.at("pkg/util.py"),
                           Fixture::at("pkg/util.py", "def helper", "helper"), false);
  REQUIRE(helper.ok());
  // pkg/__init__.py import, app.py import and u.helper; the declaration itself left out.
  CHECK(helper->locations.size() == 3);
  for (const auto& l : helper->locations) CHECK(l.path != "pkg/util.py");
}

TEST_CASE("references: candidate files from the caller narrow what is read", "[references]") {
  Fixture f;
  const auto pos = Fixture::at("app.py", "u.helper(value)", "value");
  auto full = references(*f.source, *f.index, "app.py", kTree.at("app.py"), pos, true);
  REQUIRE(full.ok());
  CHECK_FALSE(full->narrowed);

  NavOptions o;
  std::string asked;
  o.candidate_files = [&](std::string_view name) -> std::optional<std::vector<std::string>> {
    asked = std::string(name);
    return std::vector<std::string>{"pkg/util.py", "not/in/the/index.py"};
  };
  auto narrow = references(*f.source, *f.index, "app.py", kTree.at("app.py"), pos, true, 1000, o);
  REQUIRE(narrow.ok());
  CHECK(asked == "value");
  CHECK(narrow->narrowed);
  CHECK(narrow->files_scanned == 2);  // app.py (the question's own text) + pkg/util.py
  CHECK(narrow->files_scanned < full->files_scanned);
  REQUIRE(narrow->locations.size() == full->locations.size());
  for (std::size_t i = 0; i < narrow->locations.size(); ++i) {
    CHECK(narrow->locations[i].path == full->locations[i].path);
    CHECK(narrow->locations[i].line == full->locations[i].line);
    CHECK(narrow->locations[i].column == full->locations[i].column);
  }

  // A candidate list is trusted: a file it leaves out is not read.
  o.candidate_files = [](std::string_view) -> std::optional<std::vector<std::string>> {
    return std::vector<std::string>{};
  };
  auto only_self = references(*f.source, *f.index, "app.py", kTree.at("app.py"), pos, true, 1000, o);
  REQUIRE(only_self.ok());
  for (const auto& l : only_self->locations) CHECK(l.path == "app.py");

  // nullopt: the caller does not know; every file is read.
  o.candidate_files = [](std::string_view) -> std::optional<std::vector<std::string>> { return std::nullopt; };
  auto unknown = references(*f.source, *f.index, "app.py", kTree.at("app.py"), pos, true, 1000, o);
  REQUIRE(unknown.ok());
  CHECK_FALSE(unknown->narrowed);
  CHECK(unknown->files_scanned == full->files_scanned);
  CHECK(unknown->locations.size() == full->locations.size());
}

TEST_CASE("references: bounded by the limit", "[references]") {
  Fixture f;
  auto r = references(*f.source, *f.index, "app.py", kTree.at("app.py"), Fixture::at("app.py", "u.helper(value)", "value"),
                      true, 3);
  REQUIRE(r.ok());
  CHECK(r->locations.size() == 3);
  CHECK(r->truncated);
}

TEST_CASE("diagnostics: syntax errors from tree-sitter", "[diagnostics]") {
  // An unclosed call swallows the rest of the file into one ERROR region.
  auto d = diagnostics(kTree.at("broken.py"));
  REQUIRE(d.ok());
  REQUIRE(d->size() == 1);
  CHECK(d->front().severity == "error");
  CHECK(d->front().source == "trifecta-ast");
  CHECK(d->front().message == "Syntax error");
  CHECK(d->front().line == 4);
  CHECK(d->front().column == 1);
  // A token tree-sitter inserts to recover is reported as missing, one character wide.
  auto missing = diagnostics("def f(:\n    pass\n");
  REQUIRE(missing.ok());
  REQUIRE(missing->size() == 1);
  CHECK(missing->front().message == "Missing ')'");
  CHECK(missing->front().line == 1);
  CHECK(missing->front().column == 7);
  CHECK(missing->front().end_column == 8);
  // Columns in code points after non-ASCII text.
  auto wide = diagnostics("x = [\"é\", 1 2]\n");  // the stray `2` is character 13, byte 14
  REQUIRE(wide.ok());
  REQUIRE(wide->size() == 1);
  CHECK(wide->front().column == 13);
  CHECK(wide->front().end_column == 14);
  auto clean = diagnostics(kTree.at("app.py"));
  REQUIRE(clean.ok());
  CHECK(clean->empty());
  auto capped = diagnostics("def f(:\n    pass\ndef g(:\n    pass\n", 1);
  REQUIRE(capped.ok());
  CHECK(capped->size() == 1);
}

TEST_CASE("SkeletonSymbolIndex: lookup by name, update and remove", "[index]") {
  Fixture f;
  auto computes = f.index->definitions_named("compute");
  REQUIRE(computes.size() == 2);
  auto limit = f.index->definitions_named("LIMIT");
  REQUIRE(limit.size() == 1);
  CHECK(limit.front().kind == "constant");
  CHECK(limit.front().line == 5);
  CHECK(f.index->definitions_named("kind").front().kind == "attribute");
  CHECK(f.index->files().size() == kTree.size());

  std::ofstream(f.root / "pkg/util.py", std::ios::binary) << "def other():\n    pass\n";
  REQUIRE(f.index->update("pkg/util.py").ok());
  CHECK(f.index->definitions_named("compute").size() == 1);
  CHECK(f.index->definitions_named("other").size() == 1);
  f.index->remove("app.py");
  CHECK(f.index->definitions_named("compute").empty());
  CHECK(f.index->files().size() == kTree.size() - 1);
  CHECK(!f.index->update("missing.py").ok());
  CHECK(f.index->failed_files() == 1);
}

TEST_CASE("navigation: concurrent questions while the index is updated", "[threads]") {
  Fixture f;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto d = definition(*f.source, *f.index, "app.py", kTree.at("app.py"), Fixture::at("app.py", "e.run(2)", "run"));
        if (!d.ok() || d->targets.empty() || d->targets.front().location.path != "pkg/core.py") ++wrong;
        auto r = references(*f.source, *f.index, "app.py", kTree.at("app.py"),
                            Fixture::at("app.py", "u.helper(value)", "helper"), true);
        if (!r.ok() || r->locations.empty()) ++wrong;
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    (void)f.index->update("pkg/util.py");
    (void)f.index->update("pkg/core.py");
  }
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
  CHECK(f.index->definitions_named("Engine").size() == 1);
}
