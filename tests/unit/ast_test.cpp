// Spec of lib/ast: skeleton extraction (golden fixtures), rendering, the content-hash cache
// (memory, persisted, restart, edit, corruption) and the parallel build.
//
// Golden files: tests/golden/ast/<name>.py with <name>.json (the skeleton) and <name>.txt (its
// rendering with line numbers). TRIFECTA_UPDATE_GOLDEN=1 rewrites the expectations.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "../support/temp_dir.hpp"
#include "lang/python/extractor.hpp"
#include "lang/python/lexical.hpp"
#include "ast/skeleton.hpp"
#include "ast/skeleton_binary.hpp"
#include "ast/skeleton_cache.hpp"
#include "telemetry/reader.hpp"
#include "telemetry/sink.hpp"
#include "util/hash.hpp"

using namespace trifecta::core;
using namespace trifecta::core::ast;
namespace json = boost::json;

namespace {

const fs::path kGoldenDir = TRIFECTA_GOLDEN_DIR;

using trifecta::test::read_text;


// Deterministic, diff-friendly JSON (Boost 1.81 has no pretty printer).
void pretty(const json::value& v, std::string& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) { out += "{}"; return; }
    out += "{\n";
    std::size_t i = 0;
    for (const auto& kv : o) {
      out += pad + "  " + json::serialize(json::value(kv.key())) + ": ";
      pretty(kv.value(), out, indent + 1);
      out += ++i < o.size() ? ",\n" : "\n";
    }
    out += pad + "}";
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) { out += "[]"; return; }
    bool scalars = true;
    for (const auto& e : a) scalars = scalars && !e.is_object() && !e.is_array();
    if (scalars) { out += json::serialize(v); return; }
    out += "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      out += pad + "  ";
      pretty(a[i], out, indent + 1);
      out += i + 1 < a.size() ? ",\n" : "\n";
    }
    out += pad + "]";
  } else {
    out += json::serialize(v);
  }
}

std::string pretty(const json::value& v) {
  std::string out;
  pretty(v, out, 0);
  return out + "\n";
}

Skeleton extract(std::string_view src) {
  auto s = extract_skeleton(src);
  REQUIRE(s.ok());
  return std::move(s).value();
}

const Definition* find_def(const Skeleton& s, std::string_view qualname) {
  const Definition* found = nullptr;
  for_each_definition(s, [&](const Definition& d) {
    if (!found && d.qualname == qualname) found = &d;
  });
  return found;
}

telemetry::SinkOptions sink_options(const fs::path& dir) {
  telemetry::SinkOptions o;
  o.enabled = true;
  o.dir_override = dir;
  o.flush_interval = std::chrono::milliseconds(50);
  return o;
}

struct Segment {
  trifecta::test::TempDir tmp;
  fs::path root;
  Segment() {
    root = tmp.path() / "repo";
    fs::create_directories(root);
    root = fs::canonical(root);
  }
  fs::path write(const std::string& rel, std::string_view text) const {
    const fs::path p = root / rel;
    fs::create_directories(p.parent_path());
    trifecta::test::write_text(p, text);
    return p;
  }
  fs::path db() const { return SkeletonCache::default_file(root); }
};

// Run SQL on a database file directly (to build foreign or damaged cache files).
bool sql(const fs::path& db, const std::string& statements) {
  sqlite3* h = nullptr;
  if (sqlite3_open(db.c_str(), &h) != SQLITE_OK) return sqlite3_close(h), false;
  const bool ok = sqlite3_exec(h, statements.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(h);
  return ok;
}

constexpr std::string_view kSmall = "def f(a, b=1) -> int:\n    \"\"\"Add.\"\"\"\n    return a + b\n";

}  // namespace

TEST_CASE("the tree-sitter runtime accepts the grammar's ABI", "[runtime]") {
  auto rt = check_runtime();
  REQUIRE(rt.ok());
  CHECK(rt->grammar_abi == 14);
  CHECK(rt->grammar_abi >= rt->runtime_min_abi);
  CHECK(rt->grammar_abi <= rt->runtime_max_abi);
}

TEST_CASE("the runtime is tree-sitter 0.25 (ABI 15), built from source", "[runtime]") {
  auto rt = check_runtime();
  REQUIRE(rt.ok());
  CHECK(rt->runtime_max_abi == 15);  // Debian's 0.20.7 stops at 14 and has the 2^16 bug
}

TEST_CASE("bracket nesting is counted outside strings and comments", "[extract][guard]") {
  CHECK(bracket_nesting("x = f(a[1], {2: (3)})\n") == 3);
  CHECK(bracket_nesting("s = '(((('  # ((((\nt = \"\"\"\n((((\n\"\"\"\n") == 0);
  CHECK(bracket_nesting("s = 'it\\'s (' + (x)\n") == 1);
  CHECK(bracket_nesting(")))(((") == 3);  // stray closers do not go below zero
  CHECK(bracket_nesting(std::string(100000, '('), 300) == 300);  // stops at the bound
}

TEST_CASE("the Python lexical scan: strings, escapes, triple quotes, comments", "[extract][lexical]") {
  namespace py = trifecta::core::lang::python;
  const auto literal = [](std::string_view t, std::size_t i) {
    const auto s = py::scan_string(t, i);
    return std::string(t.substr(s.content_begin, s.content_end - s.content_begin)) + "|" +
           std::to_string(s.end);
  };
  CHECK(literal("x = 'a(b' + c", 4) == "a(b|9");
  CHECK(literal(R"(s = "it\"s" #)", 4) == R"(it\"s|11)");  // an escaped quote
  CHECK(literal("'''one\n'two'\nthree''' x", 0) == "one\n'two'\nthree|21");
  CHECK(literal("\"\"", 0) == "|2");                  // empty, not triple
  CHECK(literal("'open\nnext'", 0) == "open|5");      // ends at its line's end
  CHECK(literal("'a\\\nb' c", 0) == "a\\\nb|6");       // a backslash-newline continues it
  CHECK(literal("\"\"\"never closed\n(", 0) == "never closed\n(|17");  // to the end of the text
  CHECK(literal("'ends in a backslash\\", 0) == "ends in a backslash\\|21");
  // Triple-quoted: an escaped quote, an escaped backslash before the closing quotes, a quote run
  // longer than three (the string ends at the first three), a backslash at the very end.
  CHECK(literal(R"("""a\""""")", 0) == R"(a\"|9)");
  CHECK(literal(R"('''a\\''' x)", 0) == R"(a\\|9)");
  CHECK(literal(R"('''a\\\''' b''')", 0) == R"(a\\\''' b|15)");
  CHECK(literal(R"("""ab"""")", 0) == "ab|8");
  CHECK(literal(R"('''ends in a backslash\)", 0) == R"(ends in a backslash\|23)");
  CHECK(py::comment_end("x  # it's (\ny", 3) == 11);
  CHECK(py::comment_end("# last", 0) == 6);
}

TEST_CASE("70,000 unclosed parentheses are refused before tree-sitter, 66,000 comment lines parse", "[extract][guard]") {
  // tree-sitter 0.20.7 corrupted its heap on both (tree-sitter#2134): a crash of the whole daemon.
  auto deep = extract_skeleton("y = " + std::string(70000, '(') + "\n");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().code == Errc::kTooLarge);
  CHECK_THAT(deep.error().message, Catch::Contains("nested more than 256 levels"));
  // At the bound it still parses.
  CHECK(extract_skeleton("y = " + std::string(kMaxBracketNesting, '(') + "\n").ok());
  std::string comments;
  for (int i = 0; i < 66000; ++i) comments += "#\n";
  auto many = extract_skeleton(comments + "def after():\n    return 2\n");
  REQUIRE(many.ok());
  REQUIRE(many->definitions.size() == 1);
  CHECK(many->definitions[0].line == 66001);
}

TEST_CASE("statements nested past kMaxBlockNesting are refused with TOO_LARGE, not walked", "[extract][guard]") {
  // Issue 16: the statement walk recursed once per nesting level without a bound.
  auto nested = [](std::size_t levels, const std::string& indent) {
    std::string text;
    for (std::size_t i = 0; i < levels; ++i) {
      for (std::size_t k = 0; k < i; ++k) text += indent;
      text += "if x:\n";
    }
    for (std::size_t k = 0; k < levels; ++k) text += indent;
    return text + "def at_the_bottom(): pass\n";
  };
  // One space per level: tree-sitter-python's scanner handles up to about 250 columns.
  auto deep = extract_skeleton(nested(kMaxBlockNesting + 30, " "));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().code == Errc::kTooLarge);
  CHECK_THAT(deep.error().message, Catch::Contains("statements nested more than 200 levels deep"));
  // Within the bound the definition at the bottom is found.
  auto ok = extract_skeleton(nested(kMaxBlockNesting / 2, " "));
  REQUIRE(ok.ok());
  REQUIRE(ok->definitions.size() == 1);
  CHECK(ok->definitions[0].name == "at_the_bottom");
  CHECK(ok->definitions[0].conditional);
  // Nested clauses count too: 150 levels of try/finally are 300 levels of blocks and clauses.
  std::string clauses;
  for (std::size_t i = 0; i < 150; ++i) {
    clauses += std::string(i, ' ') + "try:\n" + std::string(i + 1, ' ') + "pass\n" + std::string(i, ' ') + "finally:\n";
  }
  clauses += std::string(150, ' ') + "pass\n";
  auto tried = extract_skeleton(clauses);
  REQUIRE_FALSE(tried.ok());
  CHECK(tried.error().code == Errc::kTooLarge);
}

TEST_CASE("a parse past its deadline is cancelled with TIMEOUT, and the next parse is clean", "[extract][guard]") {
  const std::string text = "def f():\n    return 1\n";
  auto late = parse_python_tree(text, std::chrono::steady_clock::now() - std::chrono::seconds(1));
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == Errc::kTimeout);
  // A long file with a deadline that passes mid-parse: cancelled by the progress callback.
  std::string big;
  for (int i = 0; i < 40000; ++i) big += "def f" + std::to_string(i) + "(a, b):\n    return a + b * " + std::to_string(i) + "\n";
  auto cut = parse_python_tree(big, std::chrono::steady_clock::now() + std::chrono::microseconds(200));
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error().code == Errc::kTimeout);
  auto ok = extract_skeleton(text);
  REQUIRE(ok.ok());
  CHECK(ok->definitions.size() == 1);
}

TEST_CASE("golden fixtures: skeleton JSON and rendering match the expectations", "[golden]") {
  const bool update = std::getenv("TRIFECTA_UPDATE_GOLDEN") && std::string(std::getenv("TRIFECTA_UPDATE_GOLDEN")) == "1";
  std::vector<fs::path> sources;
  for (const auto& e : fs::directory_iterator(kGoldenDir))
    if (e.path().extension() == ".py") sources.push_back(e.path());
  std::sort(sources.begin(), sources.end());
  REQUIRE(sources.size() >= 9);
  for (const auto& py : sources) {
    DYNAMIC_SECTION(py.filename().string()) {
      const Skeleton s = extract(read_text(py));
      const std::string got_json = pretty(to_json(s));
      const std::string got_txt = render(s, {.line_numbers = true});
      fs::path json_file = py, txt_file = py;
      json_file.replace_extension(".json");
      txt_file.replace_extension(".txt");
      if (update) {
        trifecta::test::write_text(json_file, got_json);
        trifecta::test::write_text(txt_file, got_txt);
        WARN("updated " << json_file.filename().string() << " and " << txt_file.filename().string());
      }
      REQUIRE(fs::exists(json_file));
      REQUIRE(fs::exists(txt_file));
      CHECK(got_json == read_text(json_file));
      CHECK(got_txt == read_text(txt_file));
      // The JSON mapping round-trips exactly (the cache relies on it).
      auto back = skeleton_from_json(to_json(s));
      REQUIRE(back.ok());
      CHECK(json::serialize(to_json(*back)) == json::serialize(to_json(s)));
    }
  }
}

TEST_CASE("functions: async, decorators, exact signature, docstring, lines and columns", "[extract]") {
  const Skeleton s = extract(
      "class C:\n"
      "    @staticmethod\n"
      "    @cache(size=2)\n"
      "    async def run(self, x: int = 1, *a, k=None, **kw) -> list[int]:\n"
      "        '''First line.\n\n        More.'''\n"
      "        pass\n");
  const Definition* d = find_def(s, "C.run");
  REQUIRE(d);
  CHECK(d->kind == DefKind::kMethod);
  CHECK(d->is_async);
  CHECK(d->decorators == std::vector<std::string>{"staticmethod", "cache(size=2)"});
  CHECK(d->signature == "(self, x: int = 1, *a, k=None, **kw) -> list[int]");
  CHECK(d->docstring == "First line.");
  CHECK(d->decorated_line == 2);
  CHECK(d->line == 4);
  CHECK(d->column == 4);
  CHECK(d->end_line == 8);
  CHECK(d->end_column == 12);
}

TEST_CASE("a docstring's dotted-name RST title gives way to the line after its underline", "[extract]") {
  // Pygments, Babel and Requests open each module's docstring with its dotted name over an
  // underline; the summary is the first line after it.
  const Skeleton s = extract(
      "\"\"\"\n    pygments.token\n    ~~~~~~~~~~~~~~\n\n    Basic token types and the standard tokens.\n\"\"\"\n"
      "def f():\n    '''babel\n    =====\n    Tools for i18n.'''\n"
      "def g():\n    '''WSGI Protocol Linter\n    ====================\n\n    More.'''\n"
      "def h():\n    '''pkg.mod\n    ~~~\n\n    Underline shorter than the title: not a title.'''\n"
      "def i():\n    '''only.a.title\n    ~~~~~~~~~~~~\n    '''\n"
      "def j():\n    '''a.b\n    ~~x\n    '''\n");
  CHECK(s.docstring == "Basic token types and the standard tokens.");
  CHECK(find_def(s, "f")->docstring == "Tools for i18n.");
  CHECK(find_def(s, "g")->docstring == "WSGI Protocol Linter");  // a title in words says something
  CHECK(find_def(s, "h")->docstring == "pkg.mod");
  CHECK(find_def(s, "i")->docstring == "only.a.title");  // nothing after it: the title stays
  CHECK(find_def(s, "j")->docstring == "a.b");
}

TEST_CASE("nested definitions get __qualname__-style names", "[extract]") {
  const Skeleton s = extract(
      "class Outer:\n"
      "    class Inner:\n"
      "        def method(self):\n"
      "            def helper():\n"
      "                class Local: pass\n");
  CHECK(find_def(s, "Outer.Inner.method"));
  CHECK(find_def(s, "Outer.Inner.method.<locals>.helper"));
  CHECK(find_def(s, "Outer.Inner.method.<locals>.helper.<locals>.Local"));
  CHECK(find_def(s, "Outer.Inner.method.<locals>.helper")->kind == DefKind::kFunction);
}

TEST_CASE("classes: bases, keywords, attributes and PEP 695 type parameters", "[extract]") {
  const Skeleton s = extract("class Box[T](Base, Generic[T], metaclass=Meta):\n    size: int = 3\n    name = 'x'\n    def get(self) -> T: ...\n");
  const Definition* d = find_def(s, "Box");
  REQUIRE(d);
  CHECK(d->signature == "[T](Base, Generic[T], metaclass=Meta)");
  CHECK(d->bases == std::vector<std::string>{"Base", "Generic[T]", "metaclass=Meta"});
  REQUIRE(d->attributes.size() == 2);
  CHECK(d->attributes[0].name == "size");
  CHECK(d->attributes[0].annotation == "int");
  CHECK(d->attributes[0].value == "3");
  CHECK(d->attributes[1].name == "name");
}

TEST_CASE("imports record module, names, aliases, relative level and line", "[extract]") {
  const Skeleton s = extract("import a.b as c, d\nfrom ..pkg import (x as y,\n  z)\nfrom . import *\n");
  REQUIRE(s.imports.size() == 4);
  CHECK(s.imports[0].module == "a.b");
  CHECK(s.imports[0].alias == "c");
  CHECK(s.imports[1].module == "d");
  CHECK(s.imports[2].is_from);
  CHECK(s.imports[2].level == 2);
  CHECK(s.imports[2].module == "pkg");
  REQUIRE(s.imports[2].names.size() == 2);
  CHECK(s.imports[2].names[0].name == "x");
  CHECK(s.imports[2].names[0].alias == "y");
  CHECK(s.imports[2].line == 2);
  CHECK(s.imports[3].level == 1);
  CHECK(s.imports[3].module.empty());
  CHECK(s.imports[3].names[0].name == "*");
}

TEST_CASE("module constants and __all__", "[extract]") {
  const Skeleton s = extract("__all__ = ['a', \"b\"]\n__all__ += ('c',)\nX = 1\nlower = 2\nY: Final = 3\n");
  REQUIRE(s.all.has_value());
  CHECK(*s.all == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(s.constants.size() == 2);
  CHECK(s.constants[0].name == "X");
  CHECK(s.constants[1].annotation == "Final");
}

TEST_CASE("syntax errors give status partial and keep the well-formed parts", "[robust]") {
  const Skeleton s = extract("def ok(): pass\ndef bad(:\n    return\nclass After:\n    def m(self): pass\n");
  CHECK(s.status == ParseStatus::kPartial);
  CHECK(s.syntax_issue_count >= 1);
  CHECK(find_def(s, "ok"));
  CHECK(find_def(s, "After.m"));
}

TEST_CASE("empty, whitespace-only and comment-only files are ok and empty", "[robust]") {
  for (std::string_view src : {"", "\n\n", "# just a comment\n"}) {
    const Skeleton s = extract(src);
    CHECK(s.status == ParseStatus::kOk);
    CHECK(s.definitions.empty());
    CHECK(render(s).empty());
  }
}

TEST_CASE("invalid UTF-8 is replaced and flagged, a Latin-1 coding line is honoured", "[robust]") {
  const Skeleton bad = extract("def f():\n    return '\xff'\n");
  CHECK(bad.decoding_replaced);
  CHECK(bad.replaced_bytes == 1);
  CHECK(find_def(bad, "f"));
  const Skeleton latin = extract("# coding: latin-1\ndef caf\xe9(): pass\n");
  CHECK(latin.encoding == "latin-1");
  CHECK_FALSE(latin.decoding_replaced);
  CHECK(find_def(latin, "caf\xc3\xa9"));
}

TEST_CASE("nested definitions are found however their keyword is spaced, bodies without one add nothing", "[extract]") {
  const Skeleton s = extract(
      "def outer():\n"
      "    x = 'def not_a_function(): pass'  # nor is this: def y():\n"
      "    undefined = default = classic = 1\n"
      "    def\tby_tab(): pass\n"
      "    class\\\n        Continued: pass\n"
      "    if x:\n"
      "        async def in_if(): pass\n"
      "    return x\n"
      "def plain(a, default=None):\n"
      "    return [undefined for classic in a]\n");
  const Definition* outer = find_def(s, "outer");
  REQUIRE(outer);
  REQUIRE(outer->children.size() == 3);
  CHECK(outer->children[0].qualname == "outer.<locals>.by_tab");
  CHECK(outer->children[1].qualname == "outer.<locals>.Continued");
  CHECK(outer->children[2].qualname == "outer.<locals>.in_if");
  CHECK(outer->children[2].conditional);
  CHECK(outer->end_line == 9);
  REQUIRE(find_def(s, "plain"));
  CHECK(find_def(s, "plain")->children.empty());
}

TEST_CASE("a definition ends at its last token, not at a trailing comment or continuation", "[extract]") {
  const Skeleton s = extract(
      "def a():\n    return 1  # trailing\n"
      "def b():\n    return 2\n    # a comment line inside the block\n"
      "def c():\n    return '#'\n"
      "def d(): return 4\n");
  REQUIRE(s.definitions.size() == 4);
  CHECK(s.definitions[0].end_line == 2);
  CHECK(s.definitions[0].end_column == 12);
  CHECK(s.definitions[1].end_line == 4);
  CHECK(s.definitions[1].end_column == 12);
  CHECK(s.definitions[2].end_line == 7);
  CHECK(s.definitions[2].end_column == 14);
  CHECK(s.definitions[3].end_line == 8);
  CHECK(s.definitions[3].end_column == 17);
}

TEST_CASE("rendering: outline with ... bodies, docstrings and optional line numbers", "[render]") {
  const Skeleton s = extract(kSmall);
  CHECK(render(s) == "def f(a, b=1) -> int:\n  \"\"\"Add.\"\"\"\n");
  CHECK(render(s, {.line_numbers = true}) == "def f(a, b=1) -> int:  # L1-3\n  \"\"\"Add.\"\"\"\n");
  const Skeleton t = extract("def g():\n    def inner(): pass\n    return 1\n");
  CHECK(render(t, {.nested_functions = false}) == "def g(): ...\n");
  CHECK(reduction_ratio(render(s).size(), kSmall.size()) < 1.0);
  CHECK(reduction_ratio(10, 0) == 0.0);
}

TEST_CASE("rendering: runs of imports share a line, markers: one line number, or only where asked", "[render]") {
  const Skeleton s = extract(
      "import a, b as bb\n"
      "import c\n"
      "from m import x\n"
      "from m import y as yy, z\n"
      "from .m import w\n"
      "from m import *\n"
      "from m import v\n"
      "try:\n"
      "    import d\n"
      "except ImportError:\n"
      "    d = None\n"
      "import e\n"
      "class K:\n"
      "    def one(self): return 1\n"
      "    def two(self):\n"
      "        return 2\n");
  CHECK(render(s, {.line_numbers = true}) ==
        "import a, b as bb, c\n"
        "from m import x, y as yy, z\n"  // same module and level only
        "from .m import w\n"
        "from m import *\n"              // a wildcard stays alone
        "from m import v\n"
        "import d\n"                     // conditional imports are not merged with others
        "import e\n"
        "class K:  # L13-16\n"
        "  def one(self): ...  # L14\n"
        "  def two(self): ...  # L15-16\n");
  RenderOptions only_methods{.line_numbers = true, .imports = false};
  only_methods.number_if = [](const Definition& d) { return d.kind == DefKind::kMethod; };
  CHECK(render(s, only_methods) == "class K:\n  def one(self): ...  # L14\n  def two(self): ...  # L15-16\n");
  CHECK(rendered_size(s, only_methods) == render(s, only_methods).size());
}

TEST_CASE("rendered_size equals the size of the rendering, for every option", "[render]") {
  for (const auto& e : fs::directory_iterator(kGoldenDir)) {
    if (e.path().extension() != ".py") continue;
    const Skeleton s = extract(read_text(e.path()));
    for (const RenderOptions& o : {RenderOptions{}, RenderOptions{.line_numbers = true},
                                   RenderOptions{.line_numbers = true, .nested_functions = false},
                                   RenderOptions{.imports = false, .constants = false, .max_value_bytes = 8}}) {
      CHECK(rendered_size(s, o) == render(s, o).size());
    }
  }
}

// ---- binary row format -------------------------------------------------------------------------

TEST_CASE("binary rows round-trip every golden skeleton exactly and are smaller than JSON", "[binary]") {
  std::size_t binary_bytes = 0, json_bytes = 0;
  for (const auto& e : fs::directory_iterator(kGoldenDir)) {
    if (e.path().extension() != ".py") continue;
    DYNAMIC_SECTION(e.path().filename().string()) {
      const Skeleton s = extract(read_text(e.path()));
      const std::string row = encode_skeleton(s);
      CHECK(row.starts_with(kSkeletonBinaryMagic));
      auto back = decode_skeleton(row);
      REQUIRE(back.ok());
      CHECK(json::serialize(to_json(*back)) == json::serialize(to_json(s)));
      CHECK(encode_skeleton(*back) == row);
      binary_bytes += row.size();
      json_bytes += json::serialize(to_json(s)).size();
    }
  }
  CHECK(binary_bytes < json_bytes);
}

TEST_CASE("binary rows: fields JSON omits when empty survive too (flags, all, issues, odd numbers)", "[binary]") {
  Skeleton s = extract("def f(:\n  pass\n");
  s.all = std::vector<std::string>{};  // present but empty differs from absent
  s.had_bom = true;
  s.decoding_replaced = true;
  s.replaced_bytes = 300;
  s.encoding = "latin-1";
  s.source_bytes = std::size_t{1} << 40;
  Definition d;
  d.kind = DefKind::kClass;
  d.name = d.qualname = "K";
  d.line = -1;  // never produced by the extractor; the format still keeps it
  d.end_line = 2'000'000'000;
  d.children.push_back(Definition{});
  d.children[0].is_async = true;
  d.children[0].conditional = true;
  d.attributes.push_back({"a", "int", "1", true, 7});
  s.definitions.push_back(d);
  auto back = decode_skeleton(encode_skeleton(s));
  REQUIRE(back.ok());
  CHECK(back->all.has_value());
  CHECK(back->all->empty());
  CHECK(back->status == ParseStatus::kPartial);
  CHECK_FALSE(back->syntax_issues.empty());
  CHECK(json::serialize(to_json(*back)) == json::serialize(to_json(s)));
  s.all.reset();
  CHECK_FALSE(decode_skeleton(encode_skeleton(s))->all.has_value());
}

TEST_CASE("binary rows: truncation, damage, another version and garbage are detected", "[binary][corruption]") {
  const std::string row = encode_skeleton(extract(read_text(kGoldenDir / "basics.py")));
  REQUIRE(row.size() > 200);
  SECTION("every truncation") {
    for (std::size_t n = 0; n < row.size(); ++n) {
      auto r = decode_skeleton(std::string_view(row).substr(0, n));
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == Errc::kParse);
    }
  }
  SECTION("every single flipped byte") {
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string bad = row;
      bad[i] = static_cast<char>(bad[i] ^ 0x20);
      CHECK_FALSE(decode_skeleton(bad).ok());
    }
  }
  SECTION("another format version is refused as such") {
    std::string other = row;
    other[kSkeletonBinaryMagic.size()] = static_cast<char>(kSkeletonBinaryVersion + 1);
    auto r = decode_skeleton(other);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("format version") != std::string::npos);
  }
  SECTION("a damaged payload is a checksum mismatch") {
    std::string bad = row;
    bad[row.size() / 2] = static_cast<char>(bad[row.size() / 2] + 1);
    auto r = decode_skeleton(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("checksum") != std::string::npos);
  }
  SECTION("a well-checksummed payload that lies about its counts is refused, not trusted") {
    // magic, version, status 0, then a string length far beyond the input, then a valid checksum.
    std::string forged = std::string(kSkeletonBinaryMagic) + static_cast<char>(kSkeletonBinaryVersion) +
                         std::string("\x00\xff\xff\xff\xff\x0f", 6);
    const std::uint64_t sum = checksum64(forged);
    for (int i = 0; i < 8; ++i) forged.push_back(static_cast<char>((sum >> (8 * i)) & 0xFF));
    auto r = decode_skeleton(forged);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("extractor_version") != std::string::npos);
  }
  SECTION("JSON and garbage") {
    CHECK_FALSE(decode_skeleton(json::serialize(to_json(extract(kSmall)))).ok());
    CHECK_FALSE(decode_skeleton(std::string(64, '\0')).ok());
  }
}

TEST_CASE("a malformed skeleton document is an error naming the field", "[json]") {
  auto r = skeleton_from_json(json::parse(R"({"status":"ok","extractor_version":"x","source_bytes":1,
      "line_count":1,"imports":[],"constants":[],"definitions":[{"kind":"lambda"}]})"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::kParse);
  CHECK(r.error().message.find("kind") != std::string::npos);
  CHECK_FALSE(skeleton_from_json(json::value(42)).ok());
}

// ---- cache -----------------------------------------------------------------------------------

TEST_CASE("cache: second get is a memory hit, counters and the ast.parse event are recorded", "[cache]") {
  Segment seg;
  trifecta::test::TempDir tel;
  const fs::path file = seg.write("pkg/mod.py", kSmall);
  {
    telemetry::Sink sink(sink_options(tel.path()));
    auto ch = sink.open_segment(seg.root);
    SkeletonCache cache(seg.db(), ch);
    auto a = cache.get(file, "pkg/mod.py");
    REQUIRE(a.ok());
    CHECK_FALSE(a->cache_hit);
    auto b = cache.get(file, "pkg/mod.py");
    REQUIRE(b.ok());
    CHECK(b->cache_hit);
    CHECK(a->skeleton.get() == b->skeleton.get());
    CHECK(a->skeleton_bytes == render(*a->skeleton).size());
    CHECK(cache.stats().memory_hits == 1);
    CHECK(cache.stats().misses == 1);
    sink.flush();
  }
  const fs::path dir = tel.path() / segment_id_of(seg.root.string());
  auto report = telemetry::read_events(dir / "events.jsonl");
  REQUIRE(report.ok());
  REQUIRE(report->events.size() == 2);
  const auto& ev = report->events[0];
  CHECK(ev.at("cmd").as_string() == "ast.parse");
  CHECK(ev.at("args").at("file").as_string() == "pkg/mod.py");
  CHECK(ev.at("result").at("status").as_string() == "ok");
  CHECK(ev.at("result").at("functions").as_int64() == 1);
  CHECK(ev.at("result").at("classes").as_int64() == 0);
  CHECK(ev.at("x").at("cache_hit").as_bool() == false);
  CHECK(ev.at("x").at("skeleton_bytes").to_number<double>() > 0);
  CHECK(report->events[1].at("x").at("cache_hit").as_bool() == true);
  const std::string text = read_text(dir / "events.jsonl");
  CHECK(text.find("return a + b") == std::string::npos);      // never content
  CHECK(text.find(seg.root.string()) == std::string::npos);  // never absolute paths
  const auto last = json::parse(read_text(dir / "last_run.json"));
  CHECK(last.at("ast").at("ast_parse_count").as_int64() == 2);
  CHECK(last.at("ast").at("ast_cache_hit_count").as_int64() == 1);
  CHECK(last.at("ast").at("ast_cache_miss_count").as_int64() == 1);
}

namespace {

// The segment's last_run.json after `use` ran on a cache whose channel writes to a telemetry
// directory of its own.
json::value last_run_after(const std::function<void(SkeletonCache&)>& use) {
  Segment seg;
  trifecta::test::TempDir tel;
  {
    telemetry::Sink sink(sink_options(tel.path()));
    SkeletonCache cache(seg.db(), sink.open_segment(seg.root));
    use(cache);
    sink.flush();
  }
  return json::parse(read_text(tel.path() / segment_id_of(seg.root.string()) / "last_run.json"));
}

}  // namespace

TEST_CASE("cache: a parse from a kept earlier parse is counted as ast_incremental_parse_count", "[cache]") {
  const auto last = last_run_after([](SkeletonCache& cache) {
    for (const char* v : {"def f():\n    return 1\n", "def f():\n    return 2\n", "def f():\n    return 3\n"})
      REQUIRE(cache.get_content(v, "pkg/mod.py", ParseEvents::kEmit, ParseReuse::kEdited));
    CHECK(cache.stats().incremental_parses == 2);
  });
  CHECK(last.at("metrics_delta").at("ast_incremental_parse_count").as_int64() == 2);
  CHECK(last.at("ast").at("ast_cache_miss_count").as_int64() == 3);
}

TEST_CASE("cache: a parse kept for a read file is counted as ast_parse_kept_count and not as a parse", "[cache]") {
  const auto last = last_run_after([](SkeletonCache& cache) {
    CHECK(cache.keep_parse("def f():\n    return 1\n", "pkg/a.py"));
    CHECK(cache.keep_parse("def g():\n    return 1\n", "pkg/b.py"));
    CHECK_FALSE(cache.keep_parse("def g():\n    return 2\n", "pkg/b.py"));
  });
  CHECK(last.at("metrics_delta").at("ast_parse_kept_count").as_int64() == 2);
  CHECK(last.at("ast").at("ast_parse_count").as_int64() == 0);
}

TEST_CASE("cache: a restart (new cache on the same file) reparses nothing unchanged", "[cache]") {
  Segment seg;
  const fs::path a = seg.write("a.py", kSmall);
  const fs::path b = seg.write("b.py", "class B:\n    pass\n");
  {
    SkeletonCache cache(seg.db(), {});
    REQUIRE(cache.stats().persistent);
    REQUIRE(cache.get(a, "a.py").ok());
    REQUIRE(cache.get(b, "b.py").ok());
  }  // destructor flushes
  REQUIRE(fs::exists(seg.db()));
  SkeletonCache again(seg.db(), {});
  auto ra = again.get(a, "a.py");
  auto rb = again.get(b, "b.py");
  REQUIRE(ra.ok());
  REQUIRE(rb.ok());
  CHECK(ra->cache_hit);
  CHECK(rb->cache_hit);
  CHECK(again.stats().disk_hits == 2);
  CHECK(again.stats().misses == 0);
  CHECK(json::serialize(to_json(*ra->skeleton)) == json::serialize(to_json(extract(kSmall))));
}

TEST_CASE("cache: an edit is a miss, identical content in another file is a hit", "[cache]") {
  Segment seg;
  const fs::path a = seg.write("a.py", kSmall);
  SkeletonCache cache(seg.db(), {});
  REQUIRE_FALSE(cache.get(a, "a.py")->cache_hit);
  seg.write("a.py", std::string(kSmall) + "def g(): pass\n");
  auto edited = cache.get(a, "a.py");
  REQUIRE(edited.ok());
  CHECK_FALSE(edited->cache_hit);
  CHECK(count_definitions(*edited->skeleton, DefKind::kFunction) == 2);
  const fs::path copy = seg.write("copy.py", kSmall);
  CHECK(cache.get(copy, "copy.py")->cache_hit);
}

TEST_CASE("cache: a corrupt cache file is moved aside and rebuilt, never a crash", "[cache][corruption]") {
  Segment seg;
  const fs::path a = seg.write("a.py", kSmall);
  fs::create_directories(seg.db().parent_path());
  SECTION("garbage bytes") { trifecta::test::write_text(seg.db(), std::string(8192, '\x5a')); }
  SECTION("a truncated real cache") {
    {
      SkeletonCache cache(seg.db(), {});
      for (int i = 0; i < 50; ++i) REQUIRE(cache.get_content("X" + std::to_string(i) + " = 1\n", "x.py").ok());
    }
    const std::string whole = read_text(seg.db());
    REQUIRE(whole.size() > 4096);
    std::string mangled = whole.substr(0, 100) + std::string(whole.size() - 100, '\x00');
    trifecta::test::write_text(seg.db(), mangled);
    fs::remove(seg.db().string() + "-wal");
  }
  SECTION("someone else's database (valid SQLite, foreign tables, no schema version)") {
    REQUIRE(sql(seg.db(), "CREATE TABLE t(x); INSERT INTO t VALUES(1);"));
  }
  SECTION("right magic, wrong everything else") { trifecta::test::write_text(seg.db(), "SQLite format 3"); }
  SkeletonCache cache(seg.db(), {});
  CHECK(cache.stats().rebuilt);
  CHECK(cache.stats().persistent);
  CHECK_FALSE(cache.warnings().empty());
  bool moved_aside = false;
  for (const auto& e : fs::directory_iterator(seg.db().parent_path()))
    moved_aside = moved_aside || e.path().filename().string().starts_with("ast.sqlite.corrupt-");
  CHECK(moved_aside);
  auto r = cache.get(a, "a.py");
  REQUIRE(r.ok());
  CHECK_FALSE(r->cache_hit);
  cache.flush();
  SkeletonCache reopened(seg.db(), {});
  CHECK_FALSE(reopened.stats().rebuilt);
  CHECK(reopened.get(a, "a.py")->cache_hit);
}

TEST_CASE("cache: a FIFO as the cache file or a side file is moved aside, never opened", "[cache][corruption][fifo]") {
  // SQLite opens and reads its files blocking: before the check, a FIFO here hung the segment's
  // first build for good (issue 16).
  Segment seg;
  const fs::path a = seg.write("a.py", kSmall);
  fs::create_directories(seg.db().parent_path());
  std::string suffix;
  SECTION("the database") { suffix = ""; }
  SECTION("its WAL") { suffix = "-wal"; }
  SECTION("its shared-memory file") { suffix = "-shm"; }
  SECTION("a rollback journal") { suffix = "-journal"; }
  const fs::path fifo = seg.db().string() + suffix;
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  SkeletonCache cache(seg.db(), {});
  CHECK(cache.stats().rebuilt);
  CHECK(cache.stats().persistent);
  REQUIRE_FALSE(cache.warnings().empty());
  CHECK_THAT(cache.warnings()[0], Catch::Contains("ast.sqlite" + suffix + ": not a regular file"));
  std::error_code ec;
  CHECK(fs::is_regular_file(fs::symlink_status(seg.db(), ec)));  // a fresh cache in its place
  bool moved_aside = false;
  for (const auto& e : fs::directory_iterator(seg.db().parent_path())) {
    const std::string name = e.path().filename().string();
    moved_aside = moved_aside || (name.starts_with("ast.sqlite.corrupt-") && name.ends_with(suffix) &&
                                  fs::is_fifo(e.symlink_status()));
  }
  CHECK(moved_aside);
  auto r = cache.get(a, "a.py");
  REQUIRE(r.ok());
  CHECK_FALSE(r->cache_hit);
}

TEST_CASE("cache: a row that does not decode is dropped and the file reparsed", "[cache][corruption]") {
  Segment seg;
  const fs::path a = seg.write("a.py", kSmall);
  { SkeletonCache cache(seg.db(), {}); REQUIRE(cache.get(a, "a.py").ok()); }
  // Damage the stored row in place (the file stays a valid database).
  SECTION("JSON where a binary row belongs") {
    REQUIRE(sql(seg.db(), "UPDATE skeletons SET skeleton='{\"status\":\"ok\"}'"));
  }
  SECTION("a truncated row") { REQUIRE(sql(seg.db(), "UPDATE skeletons SET skeleton=substr(skeleton, 1, 20)")); }
  SECTION("a row of another format version") {
    REQUIRE(sql(seg.db(), "UPDATE skeletons SET skeleton=substr(skeleton, 1, 4) || x'7f' || substr(skeleton, 6)"));
  }
  SECTION("one damaged byte") {
    REQUIRE(sql(seg.db(), "UPDATE skeletons SET skeleton=substr(skeleton, 1, 10) || x'00' || substr(skeleton, 12)"));
  }
  SkeletonCache cache(seg.db(), {});
  auto r = cache.get(a, "a.py");
  REQUIRE(r.ok());
  CHECK_FALSE(r->cache_hit);
  CHECK(cache.stats().bad_rows == 1);
  CHECK(r->skeleton->definitions.size() == 1);
}

TEST_CASE("cache: a cache of the older JSON schema is upgraded in place, its rows reparsed", "[cache]") {
  Segment seg;
  const fs::path a = seg.write("a.py", kSmall);
  fs::create_directories(seg.db().parent_path());
  REQUIRE(sql(seg.db(),
              "CREATE TABLE skeletons(key TEXT NOT NULL, version TEXT NOT NULL, skeleton TEXT NOT NULL,"
              " skeleton_bytes INTEGER NOT NULL, PRIMARY KEY(key, version)) WITHOUT ROWID;"
              "INSERT INTO skeletons VALUES('" + blake2b_hex(kSmall) + "', '" + std::string(kExtractorVersion) +
                  "', '{}', 3);"
              "PRAGMA user_version=1;"));
  {
    SkeletonCache cache(seg.db(), {});
    CHECK(cache.stats().persistent);
    CHECK_FALSE(cache.stats().rebuilt);  // ours, only older: not moved aside
    auto r = cache.get(a, "a.py");
    REQUIRE(r.ok());
    CHECK_FALSE(r->cache_hit);
    CHECK(cache.stats().bad_rows == 0);  // the old rows were dropped, never read
  }
  for (const auto& e : fs::directory_iterator(seg.db().parent_path()))
    CHECK_FALSE(e.path().filename().string().starts_with("ast.sqlite.corrupt-"));
  SkeletonCache again(seg.db(), {});
  CHECK(again.get(a, "a.py")->cache_hit);
  CHECK(again.stats().disk_hits == 1);
}

TEST_CASE("cache: a cache of schema 2 (rows in a WITHOUT ROWID table) is upgraded to a rowid table", "[cache]") {
  // Schema 2 kept whole rows in the (key, version) b-tree, so a lookup read every row it compared
  // on its way down; schema 3 keeps the keys in an index of their own.
  Segment seg;
  const fs::path a = seg.write("a.py", kSmall);
  fs::create_directories(seg.db().parent_path());
  const std::string row = encode_skeleton(extract(std::string(kSmall)));
  std::string hex;
  for (unsigned char c : row) {
    constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  REQUIRE(sql(seg.db(),
              "CREATE TABLE skeletons(key TEXT NOT NULL, version TEXT NOT NULL, skeleton BLOB NOT NULL,"
              " skeleton_bytes INTEGER NOT NULL, PRIMARY KEY(key, version)) WITHOUT ROWID;"
              "INSERT INTO skeletons VALUES('" + blake2b_hex(kSmall) + "', '" + std::string(kExtractorVersion) +
                  "', x'" + hex + "', 3);"
              "PRAGMA user_version=2;"));
  auto table_sql = [&] {
    sqlite3* h = nullptr;
    std::string out;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_open(seg.db().c_str(), &h) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT sql FROM sqlite_master WHERE name='skeletons'", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
  };
  REQUIRE(table_sql().find("WITHOUT ROWID") != std::string::npos);
  {
    SkeletonCache cache(seg.db(), {});
    CHECK(cache.stats().persistent);
    CHECK_FALSE(cache.stats().rebuilt);  // ours, only older: not moved aside
    auto r = cache.get(a, "a.py");
    REQUIRE(r.ok());
    CHECK_FALSE(r->cache_hit);  // the old rows were dropped with their table
    CHECK(cache.stats().bad_rows == 0);
  }
  const std::string now = table_sql();
  CHECK(now.find("WITHOUT ROWID") == std::string::npos);
  CHECK(now.find("UNIQUE(key, version)") != std::string::npos);
  SkeletonCache again(seg.db(), {});
  CHECK(again.get(a, "a.py")->cache_hit);
  CHECK(again.stats().disk_hits == 1);
}

TEST_CASE("cache: after clear_memory, skeletons written by this cache are disk hits", "[cache]") {
  Segment seg;
  SkeletonCache cache(seg.db(), {});
  REQUIRE(cache.get_content(kSmall, "a.py").ok());
  cache.flush();
  cache.clear_memory();
  auto again = cache.get_content(kSmall, "a.py");
  REQUIRE(again.ok());
  CHECK(again->cache_hit);
  CHECK(cache.stats().disk_hits == 1);
}

TEST_CASE("cache: after the LRU evicts, a skeleton written earlier is found on disk again", "[cache]") {
  // A fresh table lets a memory miss skip SQLite only while nothing was evicted: this fails if
  // that shortcut outlives the first eviction.
  Segment seg;
  for (std::size_t batch : {std::size_t{1}, std::size_t{256}}) {
    DYNAMIC_SECTION("write_batch " << batch) {
      CacheOptions o;
      o.memory_entries = 2;
      o.write_batch = batch;
      SkeletonCache cache(seg.db(), {}, o);
      REQUIRE(cache.get_content("A = 1\n", "a.py").ok());
      REQUIRE(cache.get_content("B = 1\n", "b.py").ok());
      REQUIRE(cache.get_content("C = 1\n", "c.py").ok());  // evicts A (committed or still queued)
      auto again = cache.get_content("A = 1\n", "a.py");
      REQUIRE(again.ok());
      CHECK(again->cache_hit);
      CHECK(cache.stats().disk_hits == 1);
      CHECK(cache.stats().misses == 3);
    }
  }
}

TEST_CASE("cache: an unwritable cache directory degrades to memory only", "[cache]") {
  Segment seg;
  const fs::path a = seg.write("a.py", kSmall);
  const fs::path blocker = seg.root / "_ctx";
  trifecta::test::write_text(blocker, "a file where the directory should be");
  SkeletonCache cache(seg.db(), {});
  CHECK_FALSE(cache.stats().persistent);
  CHECK_FALSE(cache.warnings().empty());
  REQUIRE(cache.get(a, "a.py").ok());
  CHECK(cache.get(a, "a.py")->cache_hit);
}

TEST_CASE("cache: unreadable and oversized files are typed errors", "[cache]") {
  Segment seg;
  CacheOptions o;
  o.max_file_bytes = 16;
  SkeletonCache cache({}, {}, o);
  auto missing = cache.get(seg.root / "nope.py", "nope.py");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Errc::kNotFound);
  auto big = cache.get(seg.write("big.py", std::string(64, '#')), "big.py");
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == Errc::kTooLarge);
  // Content handed in may be decoded text, up to 3 × the file limit: accepted up to there.
  CHECK(cache.get_content(std::string(47, '#') + "\n", "decoded.py").ok());
  auto huge = cache.get_content(std::string(49, '#'), "huge.py");
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().code == Errc::kTooLarge);
}

TEST_CASE("cache: the memory tier is a bounded LRU", "[cache]") {
  CacheOptions o;
  o.memory_entries = 2;
  SkeletonCache cache({}, {}, o);
  REQUIRE(cache.get_content("A = 1\n", "a.py").ok());
  REQUIRE(cache.get_content("B = 1\n", "b.py").ok());
  REQUIRE(cache.get_content("A = 1\n", "a.py")->cache_hit);  // A is now most recent
  REQUIRE(cache.get_content("C = 1\n", "c.py").ok());        // evicts B
  CHECK(cache.stats().memory_entries == 2);
  CHECK(cache.get_content("A = 1\n", "a.py")->cache_hit);
  CHECK_FALSE(cache.get_content("B = 1\n", "b.py")->cache_hit);
}

TEST_CASE("parallel build: every file once, results in input order, failures recorded", "[build]") {
  Segment seg;
  std::vector<BuildItem> items;
  for (int i = 0; i < 64; ++i) {
    const std::string rel = "m" + std::to_string(i) + ".py";
    items.push_back({seg.write(rel, "def f" + std::to_string(i) + "(): pass\n"), rel});
  }
  items.push_back({seg.root / "missing.py", "missing.py"});
  SkeletonCache cache(seg.db(), {});
  auto report = build_skeletons(cache, items, 4);
  CHECK(report.threads == 4);
  CHECK(report.parsed == 64);
  CHECK(report.failed == 1);
  REQUIRE(report.results.size() == 65);
  for (int i = 0; i < 64; ++i) {
    REQUIRE(report.results[static_cast<std::size_t>(i)].ok());
    CHECK(report.results[static_cast<std::size_t>(i)]->skeleton->definitions.at(0).name == "f" + std::to_string(i));
  }
  auto warm = build_skeletons(cache, items);
  CHECK(warm.hits == 64);
  CHECK(warm.parsed == 0);
  CHECK(cache.stats().rows_written == 64);
}

TEST_CASE("truncated and mangled sources never fail extraction and keep lines in range", "[robust]") {
  const std::string src = read_text(kGoldenDir / "basics.py");
  REQUIRE(src.size() > 1000);
  std::uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  for (std::size_t cut = 0; cut < src.size(); cut += 41) {
    std::string text = src.substr(0, cut);
    if (cut % 3 == 0 && !text.empty()) text[next() % text.size()] = static_cast<char>(next() & 0xFF);
    auto s = extract_skeleton(text);
    REQUIRE(s.ok());
    const int lines = s->line_count;
    for_each_definition(*s, [&](const Definition& d) {
      CHECK(d.line >= 1);
      CHECK(d.line <= d.end_line);
      CHECK(d.end_line <= lines);
      CHECK(d.decorated_line <= d.line);
      CHECK_FALSE(d.name.empty());
    });
    CHECK(skeleton_from_json(to_json(*s)).ok());
  }
}
