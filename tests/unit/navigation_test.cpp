// Spec of lib/lang/python's AST fallback: the AST fallback's definition rules (scopes, classes, imports, the index),
// hover text, name-based references and syntax-error diagnostics, on a small tree written here.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <tuple>
#include <utility>
#include <fstream>
#include <map>
#include <thread>

#include "../support/temp_dir.hpp"
#include "ast/skeleton_binary.hpp"
#include "ast/skeleton_cache.hpp"
#include "lang/python/extractor.hpp"
#include "lang/python/calls.hpp"
#include "lang/python/navigation.hpp"
#include "lang/python/symbol_index.hpp"
#include "lang/python/symbol_search.hpp"
#include "lang/python/syntax.hpp"
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

TEST_CASE("definition: broken code whose nodes lack fields gets answers at every column", "[definition]") {
  // tree-sitter's error recovery leaves out fields the grammar names (a lambda's parameters
  // without the `lambda` node around them, an import without its alias, a class without its
  // name). tree-sitter's accessors dereference a null node, so every such read must be checked:
  // `lambda a, b` without a colon crashed the fallback on `a` (found by fuzz_navigation).
  Fixture f;
  const std::vector<std::string> snippets = {
      "lambda a, b\n",          "x = lambda a, b\n",      "class K:\n  lambda self, b\n",
      "def f(self, a\n  a\n",   "import a as\n",          "from . import (a as\n",
      "from x import a as , b\n", "class :\n  pass\n",    "def (x):\n  pass\n",
      "f(a=)\n",                "with a as :\n  pass\n",  "except E as:\n",
      "x = [y for y in]\n",     "(x := )\n",              "def f(*, **):\n  pass\n",
      "super().\n",             "a.b.\n",                 "@dec\nclass\n"};
  std::size_t asked = 0;
  for (const auto& text : snippets) {
    int line = 1;
    std::size_t b = 0;
    while (b < text.size()) {
      const std::size_t e = text.find('\n', b);
      const int width = static_cast<int>(e - b);
      for (int col = 1; col <= width + 1; ++col) {
        INFO("snippet=" << text << " at " << line << ":" << col);
        const text::Position pos{line, col};
        CHECK(definition(*f.source, *f.index, "scratch.py", text, pos).ok());
        CHECK(hover(*f.source, *f.index, "scratch.py", text, pos).ok());
        CHECK(references(*f.source, *f.index, "scratch.py", text, pos, false, 50).ok());
        ++asked;
      }
      b = e + 1;
      ++line;
    }
  }
  CHECK(asked > 200);
  // The case the fuzzer found: `a` is still the lambda's parameter.
  auto d = definition(*f.source, *f.index, "scratch.py", "lambda a, b\n", {1, 8});
  REQUIRE(d.ok());
  CHECK(d->name == "a");
  REQUIRE(!d->targets.empty());
  CHECK(d->targets.front().kind == "parameter");
  CHECK(d->targets.front().location.line == 1);
  CHECK(d->targets.front().location.column == 8);
  // The helpers every read goes through take a null node.
  auto parsed = syntax::parse_python("x = 1\n");
  REQUIRE(parsed.ok());
  CHECK(syntax::type_of(TSNode{}).empty());
  CHECK((*parsed)->node_text(TSNode{}).empty());
  CHECK(ts_node_is_null(syntax::field(TSNode{}, "name")));
  const auto nowhere = (*parsed)->location_of(TSNode{}, "m.py");
  CHECK(nowhere.path == "m.py");
  CHECK(nowhere.line == 1);
  CHECK(nowhere.end_line == 1);
  CHECK(nowhere.end_column == nowhere.column);
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

TEST_CASE("identifier table: every identifier node, code-point columns, no strings or comments", "[occurrences]") {
  const std::string text =
      "s = \"héllo\"; value = 1  # value\n"
      "def f(value):\n"
      "    return f\"{value}\" + 'value'\n";
  auto sk = ast::extract_skeleton(text);
  REQUIRE(sk.ok());
  const auto& t = sk->identifiers;
  REQUIRE(t.built);
  CHECK(std::is_sorted(t.names.begin(), t.names.end()));
  const auto value = t.find("value");
  // line 1 after a 2-byte é (character 14, byte 15), the parameter, the f-string interpolation.
  REQUIRE(value.size() == 3);
  CHECK(value[0] == ast::Occurrence{1, 14});
  CHECK(value[1] == ast::Occurrence{2, 7});
  CHECK(value[2] == ast::Occurrence{3, 15});
  CHECK(t.find("f").size() == 1);
  CHECK(t.find("valu").empty());
  CHECK(t.find("héllo").empty());
  // A BOM the reader keeps shifts line 1 by one code point; other lines are unchanged.
  auto bom = ast::extract_skeleton("\xEF\xBB\xBFvalue = 1\nvalue\n");
  REQUIRE(bom.ok());
  REQUIRE(bom->identifiers.find("value").size() == 2);
  CHECK(bom->identifiers.find("value")[0] == ast::Occurrence{1, 2});
  CHECK(bom->identifiers.find("value")[1] == ast::Occurrence{2, 1});
}

TEST_CASE("identifier table: persisted with the skeleton, damaged tables refused", "[occurrences]") {
  const std::string text = kTree.at("app.py");
  auto fresh = ast::extract_skeleton(text);
  REQUIRE(fresh.ok());
  auto round = ast::decode_skeleton(ast::encode_skeleton(*fresh));
  REQUIRE(round.ok());
  CHECK(round->identifiers == fresh->identifiers);
  CHECK(round->identifiers.find("compute").size() == fresh->identifiers.find("compute").size());

  // Through the SQLite tier: a restart (memory dropped) reads the table back, no parse.
  trifecta::test::TempDir dir;
  const fs::path file = fs::canonical(dir.path()) / "app.py";
  trifecta::test::write_text(file, text);
  {
    ast::SkeletonCache cache(dir.path() / "ast.sqlite", telemetry::Channel{});
    auto first = cache.get(file, "app.py");
    REQUIRE(first.ok());
    CHECK_FALSE(first->cache_hit);
    cache.flush();
    cache.clear_memory();
    auto again = cache.get(file, "app.py");
    REQUIRE(again.ok());
    CHECK(again->cache_hit);
    CHECK(cache.stats().disk_hits == 1);
    CHECK(again->skeleton->identifiers == fresh->identifiers);
  }

  // Names out of order: the row is refused (the cache then reparses).
  ast::Skeleton bad = *fresh;
  REQUIRE(bad.identifiers.names.size() >= 2);
  std::swap(bad.identifiers.names[0], bad.identifiers.names[1]);
  auto refused = ast::decode_skeleton(ast::encode_skeleton(bad));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("identifiers") != std::string::npos);
}

TEST_CASE("references: occurrence tables give the parsed answer without reading files", "[occurrences]") {
  Fixture f;
  NavOptions parse;
  parse.occurrence_table = false;
  for (const auto& [rel, line_has, name] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"app.py", "u.helper(value)", "value"},
                                                                       {"app.py", "u.helper(value)", "helper"},
                                                                       {"pkg/core.py", "class Engine", "Engine"},
                                                                       {"pkg/core.py", "return n * LIMIT", "LIMIT"},
                                                                       {"pkg/util.py", "def compute", "compute"}}) {
    INFO(rel << " " << name);
    const auto pos = Fixture::at(rel, line_has, name);
    auto tables = references(*f.source, *f.index, rel, kTree.at(rel), pos, true);
    auto parsed = references(*f.source, *f.index, rel, kTree.at(rel), pos, true, 1000, parse);
    REQUIRE(tables.ok());
    REQUIRE(parsed.ok());
    CHECK(parsed->from_table == 0);
    CHECK(tables->from_table + 1 == tables->candidate_files);  // every other file from its table
    CHECK(tables->candidate_files == parsed->candidate_files);
    REQUIRE(tables->locations.size() == parsed->locations.size());
    CHECK(tables->locations.size() > 1);
    for (std::size_t i = 0; i < tables->locations.size(); ++i) {
      const auto& a = tables->locations[i];
      const auto& b = parsed->locations[i];
      CHECK(a.path == b.path);
      CHECK(a.line == b.line);
      CHECK(a.column == b.column);
      CHECK(a.end_line == b.end_line);
      CHECK(a.end_column == b.end_column);
    }
    // The limit cuts both at the same place.
    auto cut = references(*f.source, *f.index, rel, kTree.at(rel), pos, true, 2);
    REQUIRE(cut.ok());
    CHECK(cut->locations.size() == 2);
    CHECK(cut->truncated == (tables->locations.size() > 2));
  }
}

TEST_CASE("references: the occurrence table follows content changes and removals", "[occurrences]") {
  Fixture f;
  const auto pos = Fixture::at("app.py", "u.helper(value)", "helper");
  auto count_in = [&](const std::string& path) {
    auto r = references(*f.source, *f.index, "app.py", kTree.at("app.py"), pos, true);
    REQUIRE(r.ok());
    return std::count_if(r->locations.begin(), r->locations.end(), [&](const text::Location& l) { return l.path == path; });
  };
  CHECK(count_in("pkg/util.py") == 1);
  const auto before = f.index->identifier_table("pkg/util.py");
  REQUIRE(before);
  std::ofstream(f.root / "pkg/util.py", std::ios::binary) << "x = 1\n\n\ndef helper():\n    return helper, helper\n";
  // Not re-indexed yet: the table is the indexed content's.
  CHECK(count_in("pkg/util.py") == 1);
  REQUIRE(f.index->update("pkg/util.py").ok());
  const auto after = f.index->identifier_table("pkg/util.py");
  REQUIRE(after);
  CHECK(after != before);
  REQUIRE(after->find("helper").size() == 3);
  CHECK(after->find("helper")[0] == ast::Occurrence{4, 5});
  CHECK(after->find("helper")[2] == ast::Occurrence{5, 20});
  CHECK(count_in("pkg/util.py") == 3);
  f.index->remove("pkg/util.py");
  CHECK_FALSE(f.index->identifier_table("pkg/util.py"));
  CHECK(count_in("pkg/util.py") == 0);
  CHECK(f.index->identifier_table_bytes() > 0);
}

namespace {
SymbolSearchOptions search_options(SearchMode mode, std::size_t limit = 20, std::vector<std::string> kinds = {}) {
  SymbolSearchOptions o;
  o.mode = mode;
  o.limit = limit;
  o.kinds = std::move(kinds);
  return o;
}
CallsOptions calls_options(bool incoming, bool outgoing, int depth) {
  CallsOptions o;
  o.incoming = incoming;
  o.outgoing = outgoing;
  o.depth = depth;
  return o;
}
}  // namespace

TEST_CASE("symbol search: match kinds rank exact, case-insensitive, prefix, substring, fuzzy", "[search]") {
  using K = NameMatchKind;
  auto kind = [](std::string_view q, std::string_view s, SearchMode m = SearchMode::kFuzzy) {
    auto r = match_name(q, s, m);
    return r ? std::optional<K>(r->kind) : std::nullopt;
  };
  CHECK(kind("decode", "decode") == K::kExact);
  CHECK(kind("DECODE", "decode") == K::kExactIgnoreCase);
  CHECK(kind("dec", "decode") == K::kPrefix);
  CHECK(kind("Dec", "decode") == K::kPrefixIgnoreCase);
  CHECK(kind("code", "decode") == K::kSubstring);
  CHECK(kind("jdcd", "JSONDecoder") == K::kFuzzy);
  CHECK_FALSE(kind("xyz", "JSONDecoder"));
  CHECK_FALSE(kind("decoder", "decode"));
  // Modes limit the kinds.
  CHECK(kind("dec", "decode", SearchMode::kExact) == std::nullopt);
  CHECK(kind("decode", "DECODE", SearchMode::kExact) == K::kExactIgnoreCase);
  CHECK(kind("dec", "decode", SearchMode::kPrefix) == K::kPrefix);
  CHECK(kind("jdcd", "JSONDecoder", SearchMode::kPrefix) == std::nullopt);
  CHECK_FALSE(match_name("", "x", SearchMode::kFuzzy));

  auto score = [](std::string_view q, std::string_view s) { return match_name(q, s, SearchMode::kFuzzy)->score; };
  // Every kind above the next, whatever the lengths.
  CHECK(score("decode", "decode") > score("DECODE", "decode"));
  CHECK(score("DECODE", "decode") > score("dec", "decoder_of_everything_long"));
  CHECK(score("dec", "decoder_of_everything_long") > score("Dec", "decode"));
  CHECK(score("Dec", "decode") > score("code", "decode"));
  CHECK(score("code", "x_code") > score("jdcd", "JSONDecoder"));
  // Shorter completions first; word starts and runs beat scattered letters.
  CHECK(score("dec", "decode") > score("dec", "decoder"));
  CHECK(score("gcc", "get_current_config") > score("gcc", "logic_checker"));
  CHECK(score("jd", "JSONDecoder") > score("jd", "adjust_decimals"));
  CHECK(score("Decoder", "JSONDecoder") > score("Decoder", "jsondecoderx"));
}

TEST_CASE("symbol search: a dotted query's container is whole parts of the enclosing qualname",
          "[search]") {
  trifecta::test::TempDir dir;
  const fs::path root = fs::canonical(dir.path());
  trifecta::test::write_text(root / "orm.py",
                             "class Session:\n    def execute(self):\n        pass\n\n\n"
                             "class AsyncSession:\n    def execute(self):\n        pass\n\n\n"
                             "class Outer:\n    class Inner:\n        def execute(self):\n"
                             "            pass\n");
  ast::SkeletonCache cache{"", telemetry::Channel{}};
  SkeletonSymbolIndex index(root, cache, {"orm.py"});
  auto qualnames = [&](const std::string& q) {
    std::vector<std::string> out;
    for (const auto& h : search_symbols(index, q).hits) out.push_back(h.definition.qualname);
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(qualnames("Session.execute") == std::vector<std::string>{"Session.execute"});
  CHECK(qualnames("asyncsession.exec") == std::vector<std::string>{"AsyncSession.execute"});
  CHECK(qualnames("Inner.execute") == std::vector<std::string>{"Outer.Inner.execute"});
  CHECK(qualnames("Outer.Inner.execute") == std::vector<std::string>{"Outer.Inner.execute"});
  CHECK(qualnames("ner.execute").empty());  // a part's tail is not the part
}

TEST_CASE("symbol search: ranked definitions across the tree with sym:// URIs", "[search]") {
  Fixture f;
  auto exact = search_symbols(*f.index, "compute", search_options(SearchMode::kExact));
  REQUIRE(exact.hits.size() == 2);
  CHECK(exact.total == 2);
  CHECK(exact.hits[0].definition.file == "app.py");  // same score and kind: qualname, then path
  CHECK(exact.hits[0].uri == "sym://python/app/compute");
  CHECK(exact.hits[1].uri == "sym://python/pkg.util/compute");
  CHECK(exact.hits[1].definition.kind == "function");
  CHECK(exact.hits[1].definition.signature == "(value)");
  CHECK(exact.hits[1].definition.line == 6);
  CHECK(exact.hits[1].definition.name_column == 5);

  // Classes before methods for the same score; prefix before fuzzy.
  auto e = search_symbols(*f.index, "E");
  REQUIRE(e.hits.size() >= 2);
  CHECK(e.hits[0].definition.name == "Engine");
  CHECK(name_match_kind_name(e.hits[0].match.kind) == "prefix");
  CHECK(e.hits[1].definition.name == "extra");  // prefix-ci

  auto fuzzy = search_symbols(*f.index, "stp");
  REQUIRE(!fuzzy.hits.empty());
  CHECK(fuzzy.hits[0].definition.qualname == "Engine.step");
  CHECK(fuzzy.hits[0].uri == "sym://python/pkg.core/Engine.step");
  CHECK(fuzzy.hits[0].match.kind == NameMatchKind::kFuzzy);

  // A dotted query: the container must end the enclosing qualname.
  auto dotted = search_symbols(*f.index, "engine.ST");
  REQUIRE(dotted.hits.size() == 1);  // `start` is Base's: not inside Engine
  CHECK(dotted.hits[0].definition.qualname == "Engine.step");
  CHECK(search_symbols(*f.index, "Base.start").hits.size() == 1);

  auto kinds = search_symbols(*f.index, "LIMIT", search_options(SearchMode::kFuzzy, 20, {"function"}));
  CHECK(kinds.hits.empty());
  auto limited = search_symbols(*f.index, "e", search_options(SearchMode::kFuzzy, 1));
  CHECK(limited.hits.size() == 1);
  CHECK(limited.total > 1);
  CHECK(search_symbols(*f.index, "zzzz").hits.empty());
  CHECK(search_symbols(*f.index, ".").hits.empty());
}

namespace {
// The answer of a full scan: every name of the index through match_name, every definition
// filtered and ranked as symbol_search.hpp says (what search_symbols did before its NameTable).
struct Oracle {
  std::vector<std::tuple<std::string, int, std::string, NameMatchKind, int>> hits;  // file, line, qualname
  std::size_t total = 0;
};
Oracle full_scan(const SkeletonSymbolIndex& index, std::string_view query, const SymbolSearchOptions& o) {
  std::string_view name = query, container;
  if (const auto dot = query.rfind('.'); dot != std::string_view::npos) {
    name = query.substr(dot + 1);
    container = query.substr(0, dot);
    while (!container.empty() && container.front() == '.') container.remove_prefix(1);
  }
  Oracle out;
  if (name.empty()) return out;
  auto rank = [](const std::string& k) {
    return k == "class" ? 0 : k == "function" ? 1 : k == "method" ? 2 : k == "constant" ? 3 : 4;
  };
  auto lower = [](std::string s) {
    for (auto& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return s;
  };
  std::vector<std::pair<IndexedDefinition, NameMatch>> found;
  index.for_each_name([&](const std::string& n, const std::vector<IndexedDefinition>& entries) {
    auto m = match_name(name, n, o.mode);
    if (!m) return;
    for (const auto& e : entries) {
      if (!o.kinds.empty() && std::find(o.kinds.begin(), o.kinds.end(), e.kind) == o.kinds.end()) continue;
      if (e.qualname.find("<locals>") != std::string::npos) continue;
      if (!container.empty()) {
        const std::string enclosing =
            e.qualname.size() > e.name.size() ? e.qualname.substr(0, e.qualname.size() - e.name.size() - 1) : "";
        const std::string lc = lower(std::string(container)), le = lower(enclosing);
        if (le.size() < lc.size() || le.compare(le.size() - lc.size(), lc.size(), lc) != 0) continue;
        if (le.size() > lc.size() && le[le.size() - lc.size() - 1] != '.') continue;  // whole parts
      }
      found.emplace_back(e, *m);
    }
  });
  std::sort(found.begin(), found.end(), [&](const auto& a, const auto& b) {
    const auto& [da, ma] = a;
    const auto& [db, mb] = b;
    if (ma.score != mb.score) return ma.score > mb.score;
    if (rank(da.kind) != rank(db.kind)) return rank(da.kind) < rank(db.kind);
    const bool pa = da.name[0] == '_', pb = db.name[0] == '_';
    if (pa != pb) return !pa;
    if (da.qualname.size() != db.qualname.size()) return da.qualname.size() < db.qualname.size();
    if (da.qualname != db.qualname) return da.qualname < db.qualname;
    if (da.file != db.file) return da.file < db.file;
    return da.line < db.line;
  });
  out.total = found.size();
  for (std::size_t i = 0; i < found.size() && i < o.limit; ++i) {
    const auto& [d, m] = found[i];
    out.hits.emplace_back(d.file, d.line, d.qualname, m.kind, m.score);
  }
  return out;
}
Oracle as_oracle(const SymbolSearchResult& r) {
  Oracle out;
  out.total = r.total;
  for (const auto& h : r.hits)
    out.hits.emplace_back(h.definition.file, h.definition.line, h.definition.qualname, h.match.kind, h.match.score);
  return out;
}
}  // namespace

TEST_CASE("symbol search: the name table answers exactly what a full scan of every name does", "[search]") {
  // Many names that share letters, cases and prefixes, fuzzy traps (`cab_a`: the word start after
  // `_` is preferred, so `ac` does not match), locals, class members and constants.
  trifecta::test::TempDir dir;
  const fs::path root = fs::canonical(dir.path());
  const char* stems[] = {"get", "Get", "GET", "getLogger", "get_logger", "JSONDecoder", "jsondecoder",
                         "decode", "raw_decode", "_decode", "cab_a", "xabc_a", "Decoder", "decoder2",
                         "get_content", "get_Content", "gc", "logic_checker", "get_current_config", "éte"};
  std::vector<std::string> files;
  for (int f = 0; f < 6; ++f) {
    std::string text;
    for (const char* s : stems) {
      const std::string n = std::string(s) + (f % 2 ? "" : std::to_string(f));
      text += "def " + n + "():\n    def inner_" + n + "():\n        pass\n    return 1\n\n";
      text += "class C" + n + ":\n    " + n + "_attr = 1\n\n    def " + n + "(self):\n        self.v_" + n +
              " = 2\n\n";
      text += "K_" + n + " = 3\n";
    }
    const std::string rel = "m" + std::to_string(f) + (f > 2 ? "/sub.py" : ".py");
    trifecta::test::write_text(root / rel, text);
    files.push_back(rel);
  }
  ast::SkeletonCache cache{"", telemetry::Channel{}};
  SkeletonSymbolIndex index(root, cache, files);
  const char* queries[] = {"get", "GET", "g", "gc", "gcc", "getlog", "getLog", "get_l", "JSONDecoder",
                           "jdcd", "dec", "DEC", "decode", "ode", "ac", "a", "_", "_d", "2", "e0", "K_",
                           "zz", "Decoder.dec", "CDecoder.dec", "cget.GET", "c.get", "Cget0.get", "get4.inner_get4", "CGet.v_get", "xabc_a2.X", "inner", "v_get", "éte", "t", "x"};
  const std::vector<std::vector<std::string>> kind_sets = {{}, {"function"}, {"method", "attribute"}, {"class"}};
  auto compare_all = [&] {
    for (const char* q : queries) {
      for (const auto mode : {SearchMode::kExact, SearchMode::kPrefix, SearchMode::kFuzzy}) {
        for (const std::size_t limit : {std::size_t{1}, std::size_t{5}, std::size_t{20}, std::size_t{1000}}) {
          for (const auto& kinds : kind_sets) {
            const auto o = search_options(mode, limit, kinds);
            const auto want = full_scan(index, q, o);
            const auto got = as_oracle(search_symbols(index, q, o));
            INFO("query " << q << " mode " << static_cast<int>(mode) << " limit " << limit << " kinds "
                          << kinds.size());
            CHECK(got.total == want.total);
            CHECK(got.hits == want.hits);
          }
        }
      }
    }
  };
  compare_all();
  CHECK(full_scan(index, "get", search_options(SearchMode::kFuzzy, 1000)).total > 100);  // the test bites
  // After a change the table is rebuilt: a new name is found, a removed file's names are gone.
  trifecta::test::write_text(root / "m0.py", "def getNewThing():\n    pass\n");
  REQUIRE(index.update("m0.py").ok());
  index.remove("m1.py");
  CHECK(search_symbols(index, "getnewth", search_options(SearchMode::kPrefix)).hits.size() == 1);
  compare_all();
  // An edit that keeps every name (the table is kept): the answers follow the new lines.
  auto line_of = [&](const char* q) {
    const auto r = search_symbols(index, q, search_options(SearchMode::kExact, 1000));
    for (const auto& h : r.hits)
      if (h.definition.file == "m2.py" && h.definition.qualname == q) return h.definition.line;
    return -1;
  };
  const int before = line_of("get_content2");
  REQUIRE(before > 0);
  const std::string m2 = *index.content("m2.py");
  trifecta::test::write_text(root / "m2.py", "\n\n\n" + m2);
  REQUIRE(index.update("m2.py").ok());
  CHECK(line_of("get_content2") == before + 3);
  compare_all();
  // An edit that keeps every name but changes their kinds and scopes (the table is kept, the
  // per-kind counts follow): each function becomes a class, so its local `inner_*` becomes a
  // method and is found, and the `return` lines go.
  std::string m4 = *index.content("m4/sub.py");
  for (std::size_t at = 0; (at = m4.find("\ndef ", at)) != std::string::npos;) {
    const std::size_t paren = m4.find("():\n    def inner_", at);
    if (paren == std::string::npos) break;
    m4.replace(paren, 3, ":");
    m4.replace(at + 1, 3, "class");
    at = paren;
  }
  for (std::size_t at; (at = m4.find("    return 1\n")) != std::string::npos;) m4.erase(at, 13);
  if (m4.rfind("def ", 0) == 0 && m4.find("():\n    def inner_") != std::string::npos) {
    m4.replace(m4.find("():\n    def inner_"), 3, ":");
    m4.replace(0, 3, "class");
  }
  trifecta::test::write_text(root / "m4/sub.py", m4);
  const auto inner_before = search_symbols(index, "inner_get4", search_options(SearchMode::kExact, 1000)).total;
  REQUIRE(index.update("m4/sub.py").ok());
  CHECK(search_symbols(index, "inner_get4", search_options(SearchMode::kExact, 1000)).total > inner_before);
  CHECK(search_symbols(index, "get4", search_options(SearchMode::kExact, 1000, {"class"})).total > 0);
  compare_all();
}

TEST_CASE("symbol search: the name scanner agrees with match_name and the mask never drops a match", "[search]") {
  // Names of every shape the scan meets: word starts after `_`, camel humps, acronyms, digits,
  // repeated letters (the walk's traps), long names (past 64 bytes: the slow path), and the query
  // anywhere or nowhere.
  std::vector<std::string> names = {"getLogger", "get_logger", "_get", "target", "budget_get", "xab_a", "xa_ab",
                                    "JSONDecoder", "jsondecoder", "raw_decode", "cab_a", "gEt", "GeT_x", "g_e_t",
                                    "aaaaab", "ab_ab_ab", "HTTPServer", "x2y2", "a", "_", "__init__", "gexty_e", "abxd_b"};
  std::uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fff;
  };
  const std::string alphabet = "abcgetGETAB_x2";
  for (int i = 0; i < 3000; ++i) {
    std::string n;
    const int len = 1 + static_cast<int>(next() % (i % 10 == 0 ? 90 : 20));
    for (int k = 0; k < len; ++k) n += alphabet[next() % alphabet.size()];
    names.push_back(n);
  }
  const std::vector<std::string> queries = {"get", "g", "ge", "gt", "ab", "abab", "ba", "aab", "x2", "_a", "jdcd",
                                            "decode", "ttt", "getget", "a_b", "gab", "eee", "tx", "abd"};
  // Every lowered name in one buffer, then a long tail: both the bit-mask path (64 readable bytes)
  // and the byte-by-byte one (the buffer's end within 64 bytes) are asked.
  std::string buffer;
  std::vector<std::size_t> at;
  for (const auto& n : names) {
    at.push_back(buffer.size());
    for (const char c : n) buffer += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  buffer.append(64, '\0');  // what the bit-mask path may read past the last name
  int fuzzy = 0, substring = 0, none = 0;
  for (const auto& q : queries) {
    std::string lq = q;
    for (auto& c : lq) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    const NameScanner scanner(lq);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string& n = names[i];
      NameTable::Row r;
      r.name = n;
      r.lower = std::string_view(buffer).substr(at[i], n.size());
      const std::uint64_t mask = name_char_mask(r.lower);
      for (std::size_t k = 0; k < n.size() && k < 64; ++k)
        if (name_word_start(n, k)) r.starts |= std::uint64_t{1} << k;
      const auto m = match_name(q, n, SearchMode::kFuzzy);
      // The mask prefilter never drops a true match.
      if (m) CHECK((mask & name_char_mask(lq)) == name_char_mask(lq));
      if (r.lower.substr(0, lq.size()) == lq) continue;  // exact and prefix rows are not scanned
      INFO("query " << q << " name " << n);
      for (const char* end : {std::as_const(buffer).data() + buffer.size(), r.lower.data() + r.lower.size()}) {
        const auto v = scanner.classify(r, end);
        if (!m) {
          CHECK(v.what == NameScanner::kNone);
        } else if (m->kind == NameMatchKind::kSubstring) {
          CHECK(v.what == NameScanner::kSubstring);
          CHECK(v.at == r.lower.find(lq, 1));  // the first occurrence after 0
        } else {
          CHECK(m->kind == NameMatchKind::kFuzzy);
          CHECK(v.what == NameScanner::kFuzzy);
        }
      }
      if (m && m->kind == NameMatchKind::kFuzzy) ++fuzzy;
      if (m && m->kind == NameMatchKind::kSubstring) ++substring;
      if (!m) ++none;
    }
  }
  // The test bites: every outcome is met many times.
  CHECK(fuzzy > 500);
  CHECK(substring > 500);
  CHECK(none > 500);
}

namespace {
const CallEdge* edge_to(const std::vector<CallEdge>& edges, const std::string& file, const std::string& qualname) {
  for (const auto& e : edges)
    if (e.item.file == file && e.item.qualname == qualname) return &e;
  return nullptr;
}
}  // namespace

TEST_CASE("call hierarchy: incoming callers by name, outgoing callees resolved", "[calls]") {
  Fixture f;
  // The cursor on a call of compute: the root is app.py's compute.
  auto r = call_hierarchy(*f.source, *f.index, "app.py", kTree.at("app.py"), Fixture::at("app.py", "r = compute(value)", "compute"));
  REQUIRE(r.ok());
  REQUIRE(r->root);
  CHECK(r->root->qualname == "compute");
  CHECK(r->root->file == "app.py");
  CHECK(r->root->line == 8);
  CHECK(r->root->end_line == 12);
  const auto* main_in = edge_to(r->incoming, "app.py", "main");
  REQUIRE(main_in);
  CHECK(main_in->sites.size() == 2);
  CHECK(main_in->rule == "by name");
  REQUIRE(edge_to(r->incoming, "app.py", "extra"));
  // By name: pkg/core.py's util.compute(n) is counted too (what the fallback can know).
  REQUIRE(edge_to(r->incoming, "pkg/core.py", "Engine.run"));
  // Declarations (`def compute(` in pkg/util.py) are not calls.
  for (const auto& e : r->incoming) CHECK(e.item.file != "pkg/util.py");
  // compute's body calls inner().
  REQUIRE(edge_to(r->outgoing, "app.py", "compute.<locals>.inner"));

  auto m = call_hierarchy(*f.source, *f.index, "app.py", kTree.at("app.py"), Fixture::at("app.py", "def main", "main"),
                          calls_options(false, true, 1));
  REQUIRE(m.ok());
  CHECK(m->incoming.empty());
  REQUIRE(edge_to(m->outgoing, "pkg/core.py", "Engine"));
  REQUIRE(edge_to(m->outgoing, "pkg/core.py", "Engine.run"));
  const auto* helper = edge_to(m->outgoing, "pkg/util.py", "helper");
  REQUIRE(helper);
  CHECK(helper->sites.size() == 2);  // u.helper(value) and h(value)
  const auto* comp = edge_to(m->outgoing, "app.py", "compute");
  REQUIRE(comp);
  CHECK(comp->sites.size() == 2);
  CHECK(comp->sites[0].line == 22);
  CHECK(m->unresolved >= 2);  // print, len

  // Depth 2: the callers of Engine.step, then theirs.
  auto deep = call_hierarchy(*f.source, *f.index, "pkg/core.py", kTree.at("pkg/core.py"),
                             Fixture::at("pkg/core.py", "def step", "step"), calls_options(true, false, 2));
  REQUIRE(deep.ok());
  const auto* run = edge_to(deep->incoming, "pkg/core.py", "Engine.run");
  REQUIRE(run);
  CHECK(run->depth == 1);
  bool main_at_2 = false;
  for (const auto& e : deep->incoming)
    main_at_2 |= e.depth == 2 && e.item.qualname == "main" && e.parent == "pkg/core.py:Engine.run";
  CHECK(main_at_2);

  // Not on a function: an empty result that says why.
  auto v = call_hierarchy(*f.source, *f.index, "pkg/core.py", kTree.at("pkg/core.py"),
                          Fixture::at("pkg/core.py", "LIMIT = 10", "LIMIT"));
  REQUIRE(v.ok());
  CHECK_FALSE(v->root);
  CHECK_THAT(v->reason, Catch::Contains("not a function"));
}
