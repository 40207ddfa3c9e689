// Spec of lib/selector: the sym:// grammar (valid/invalid table), module → file resolution,
// symbol resolution, ambiguity with every candidate, suggestions, and the selector.resolve event.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fstream>
#include <map>

#include "../support/temp_dir.hpp"
#include "lang/python/extractor.hpp"
#include "ast/skeleton_cache.hpp"
#include "selector/resolver.hpp"
#include "selector/sym_uri.hpp"
#include "telemetry/reader.hpp"
#include "telemetry/sink.hpp"
#include "util/hash.hpp"

using namespace trifecta::core;
using namespace trifecta::core::selector;
namespace json = boost::json;

namespace {

// An in-memory segment: the seam the daemon's file layer plugs into.
class MemorySource final : public SegmentSource {
 public:
  void add(const std::string& rel, std::string content) { files_[rel] = std::move(content); }
  bool is_file(std::string_view rel) override { return files_.count(std::string(rel)) > 0; }
  bool is_dir(std::string_view rel) override {
    const std::string prefix = rel.empty() ? "" : std::string(rel) + "/";
    for (const auto& [path, _] : files_)
      if (path.starts_with(prefix)) return true;
    return false;
  }
  std::vector<std::string> list_dir(std::string_view rel) override {
    const std::string prefix = rel.empty() ? "" : std::string(rel) + "/";
    std::vector<std::string> out;
    for (const auto& [path, _] : files_) {
      if (!path.starts_with(prefix)) continue;
      std::string rest = path.substr(prefix.size());
      rest = rest.substr(0, rest.find('/'));
      if (std::find(out.begin(), out.end(), rest) == out.end()) out.push_back(rest);
    }
    return out;
  }
  Result<std::shared_ptr<const ast::Skeleton>> skeleton(std::string_view rel) override {
    ++skeleton_calls;
    auto it = files_.find(std::string(rel));
    if (it == files_.end()) return make_error(Errc::kNotFound, "no such file");
    auto s = ast::extract_skeleton(it->second);
    if (!s) return s.error();
    return std::make_shared<const ast::Skeleton>(std::move(*s));
  }
  int skeleton_calls = 0;

 private:
  std::map<std::string, std::string> files_;
};

MemorySource sample() {
  MemorySource src;
  src.add("json/__init__.py", "\"\"\"JSON.\"\"\"\nfrom .decoder import JSONDecoder\nimport json.scanner as scan\n");
  src.add("json/decoder.py",
          "\"\"\"Decoder.\"\"\"\n"
          "MAX = 3\n"
          "class JSONDecoder(object):\n"
          "    \"\"\"Simple JSON decoder.\"\"\"\n"
          "    strict: bool = True\n"
          "    def decode(self, s, _w=None):\n"
          "        \"\"\"Return the object.\"\"\"\n"
          "        def helper():\n"
          "            pass\n"
          "        return s\n"
          "    def raw_decode(self, s, idx=0):\n"
          "        return s\n");
  src.add("json/scanner.py", "def make_scanner(ctx): pass\n");
  src.add("src/app/core.py",
          "import sys\n"
          "if sys.platform == 'win32':\n"
          "    def path_sep(): return '\\\\'\n"
          "else:\n"
          "    def path_sep(): return '/'\n"
          "def dup(): return 1\n"
          "def dup(): return 2\n"
          "from typing import overload\n"
          "@overload\n"
          "def conv(x: int) -> int: ...\n"
          "@overload\n"
          "def conv(x: str) -> str: ...\n"
          "def conv(x):\n"
          "    return x\n"
          "class P:\n"
          "    @property\n"
          "    def v(self): return 1\n"
          "    @v.setter\n"
          "    def v(self, value): pass\n");
  src.add("src/app/__init__.py", "");
  src.add("twin.py", "A = 1\n");
  src.add("twin/__init__.py", "B = 2\n");
  return src;
}

// A resolver on the filesystem under `root` (canonical), its telemetry in a temporary folder:
// runs `use` with it, then returns the selector.resolve events it wrote, in order.
template <class Use>
std::vector<json::object> resolve_events(const fs::path& root, const Use& use) {
  trifecta::test::TempDir tel;
  telemetry::SinkOptions o;
  o.dir_override = tel.path();
  {
    telemetry::Sink sink(o);
    auto ch = sink.open_segment(root);
    ast::SkeletonCache cache(ast::SkeletonCache::default_file(root), ch);
    FsSegmentSource source(root, cache);
    Resolver r(source, ch);
    use(r, source, cache);
    sink.flush();
  }
  auto report = telemetry::read_events(tel.path() / segment_id_of(root.string()) / "events.jsonl");
  REQUIRE(report.ok());
  std::vector<json::object> resolves;
  for (const auto& ev : report->events)
    if (ev.at("cmd").as_string() == "selector.resolve") resolves.push_back(ev);
  return resolves;
}

}  // namespace

TEST_CASE("sym:// parser: valid addresses", "[uri]") {
  struct Row {
    std::string_view text;
    UriForm form;
    std::string_view module, qualname;
  };
  const Row rows[] = {
      {"sym://python/json", UriForm::kModule, "json", ""},
      {"sym://python/json.decoder", UriForm::kModule, "json.decoder", ""},
      {"sym://python/json.decoder/JSONDecoder", UriForm::kSymbol, "json.decoder", "JSONDecoder"},
      {"sym://python/json.decoder/JSONDecoder.decode", UriForm::kSymbol, "json.decoder", "JSONDecoder.decode"},
      {"sym://python/a/f.<locals>.helper", UriForm::kSymbol, "a", "f.<locals>.helper"},
      {"sym://python/_private._x1/_Y", UriForm::kSymbol, "_private._x1", "_Y"},
      {"sym://python/caf\xc3\xa9/na\xc3\xafve", UriForm::kSymbol, "caf\xc3\xa9", "na\xc3\xafve"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto u = parse_sym_uri(row.text);
    REQUIRE(u.ok());
    CHECK(u->form == row.form);
    CHECK(u->language == "python");
    CHECK(u->module == row.module);
    CHECK(u->qualname == row.qualname);
    CHECK(u->raw == row.text);
  }
  auto mod = parse_sym_uri("sym://python/mod/src/app/core.py");
  REQUIRE(mod.ok());
  CHECK(mod->form == UriForm::kLegacyModule);
  CHECK(mod->path == std::vector<std::string>{"src", "app", "core"});
  auto dotted = parse_sym_uri("sym://python/mod/json.decoder");
  REQUIRE(dotted.ok());
  CHECK(dotted->path == std::vector<std::string>{"json", "decoder"});
  auto type = parse_sym_uri("sym://python/type/json/decoder/JSONDecoder#decode");
  REQUIRE(type.ok());
  CHECK(type->form == UriForm::kLegacyType);
  CHECK(type->path == std::vector<std::string>{"json", "decoder", "JSONDecoder"});
  CHECK(type->member == "decode");
  CHECK(make_sym_uri("json.decoder", "JSONDecoder") == "sym://python/json.decoder/JSONDecoder");
}

TEST_CASE("sym:// parser: invalid addresses are INVALID_URI naming the problem", "[uri]") {
  struct Row {
    std::string_view text, mentions;
  };
  const Row rows[] = {
      {"", "sym://"},
      {"python/json", "sym://"},
      {"sym:/python/json", "sym://"},
      {"sym://", "language"},
      {"sym://rust/foo", "unsupported language 'rust'"},
      {"sym://python", "no module"},
      {"sym://python/", "no module"},
      {"sym://python/json..decoder", "empty component"},
      {"sym://python/.json", "empty component"},
      {"sym://python/json/", "qualified name is empty"},
      {"sym://python/json/A/B", "contains '/'"},
      {"sym://python/1json", "not a Python identifier"},
      {"sym://python/js-on", "not a Python identifier"},
      {"sym://python/json/A#b", "'#'"},
      {"sym://python/json decoder", "whitespace"},
      {"sym://python/json/<locals>.f", "<locals>"},
      {"sym://python/type/json/decoder/JSONDecoder", "'#<member>'"},
      {"sym://python/type/json#decode", "a module and a type"},
      {"sym://python/type/json/Dec#", "member"},
      {"sym://python/mod/", "path is empty"},
      {"sym://python/mod/a//b", "empty segment"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto u = parse_sym_uri(row.text);
    REQUIRE_FALSE(u.ok());
    CHECK(u.error().code == SelectorErrc::kInvalidUri);
    CHECK(selector_errc_name(u.error().code) == "INVALID_URI");
    CHECK(u.error().message.find(row.mentions) != std::string::npos);
  }
  CHECK_FALSE(parse_sym_uri("sym://python/" + std::string(3000, 'a')).ok());
}

TEST_CASE("resolve: module, class, method, attribute and constant", "[resolve]") {
  MemorySource src = sample();
  Resolver r(src);
  auto m = r.resolve("sym://python/json.decoder");
  REQUIRE(m.ok());
  CHECK(m->match.kind == "module");
  CHECK(m->match.file == "json/decoder.py");
  CHECK(m->match.docstring == "Decoder.");
  CHECK(m->match.end_line == 12);

  auto c = r.resolve("sym://python/json.decoder/JSONDecoder.decode");
  REQUIRE(c.ok());
  CHECK(c->match.kind == "method");
  CHECK(c->match.qualname == "JSONDecoder.decode");
  CHECK(c->match.file == "json/decoder.py");
  CHECK(c->match.module == "json.decoder");
  CHECK(c->match.line == 6);
  CHECK(c->match.end_line == 10);
  CHECK(c->match.signature == "(self, s, _w=None)");
  CHECK(c->match.docstring == "Return the object.");

  CHECK(r.resolve("sym://python/json.decoder/JSONDecoder")->match.kind == "class");
  CHECK(r.resolve("sym://python/json.decoder/JSONDecoder.strict")->match.kind == "attribute");
  CHECK(r.resolve("sym://python/json.decoder/MAX")->match.kind == "constant");
  // `f.helper` finds `f.<locals>.helper`; the exact form works too.
  CHECK(r.resolve("sym://python/json.decoder/JSONDecoder.decode.helper")->match.qualname ==
        "JSONDecoder.decode.<locals>.helper");
  CHECK(r.resolve("sym://python/json.decoder/JSONDecoder.decode.<locals>.helper").ok());
  // Packages resolve to __init__.py; src/ layout is a source root.
  CHECK(r.resolve("sym://python/json")->match.file == "json/__init__.py");
  CHECK(r.resolve("sym://python/app.core/conv")->match.file == "src/app/core.py");
}

TEST_CASE("resolve: the legacy mod/ and type/ forms", "[resolve][legacy]") {
  MemorySource src = sample();
  Resolver r(src);
  auto mod = r.resolve("sym://python/mod/json/decoder.py");
  REQUIRE(mod.ok());
  CHECK(mod->match.kind == "module");
  CHECK(mod->match.file == "json/decoder.py");
  auto type = r.resolve("sym://python/type/json/decoder/JSONDecoder#raw_decode");
  REQUIRE(type.ok());
  CHECK(type->match.qualname == "JSONDecoder.raw_decode");  // the member is not ignored
  auto dotted = r.resolve("sym://python/type/json.decoder.JSONDecoder#decode");
  REQUIRE(dotted.ok());
  CHECK(dotted->match.line == 6);
  auto missing = r.resolve("sym://python/type/nope/Thing#x");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == SelectorErrc::kFileNotFound);
  auto member = r.resolve("sym://python/type/json/decoder/JSONDecoder#nothing");
  REQUIRE_FALSE(member.ok());
  CHECK(member.error().code == SelectorErrc::kSymbolNotFound);
}

TEST_CASE("resolve: FILE_NOT_FOUND lists every path tried and near module names", "[resolve][errors]") {
  MemorySource src = sample();
  Resolver r(src);
  auto e = r.resolve("sym://python/json.decodr/JSONDecoder");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == SelectorErrc::kFileNotFound);
  CHECK(e.error().tried == std::vector<std::string>{"json/decodr.py", "json/decodr/__init__.py",
                                                    "src/json/decodr.py", "src/json/decodr/__init__.py"});
  CHECK(e.error().message.find("json/decodr.py") != std::string::npos);
  REQUIRE_FALSE(e.error().suggestions.empty());
  CHECK(e.error().suggestions.front() == "sym://python/json.decoder");
  CHECK(e.error().errc() == Errc::kNotFound);
}

TEST_CASE("resolve: SYMBOL_NOT_FOUND suggests near names and where an import comes from", "[resolve][errors]") {
  MemorySource src = sample();
  Resolver r(src);
  auto typo = r.resolve("sym://python/json.decoder/JSONDecoder.decod");
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.error().code == SelectorErrc::kSymbolNotFound);
  REQUIRE_FALSE(typo.error().suggestions.empty());
  CHECK(typo.error().suggestions.front() == "sym://python/json.decoder/JSONDecoder.decode");
  auto bare = r.resolve("sym://python/json.decoder/decode");
  REQUIRE_FALSE(bare.ok());
  CHECK(std::find(bare.error().suggestions.begin(), bare.error().suggestions.end(),
                  "sym://python/json.decoder/JSONDecoder.decode") != bare.error().suggestions.end());
  auto reexport = r.resolve("sym://python/json/JSONDecoder.decode");
  REQUIRE_FALSE(reexport.ok());
  CHECK(reexport.error().code == SelectorErrc::kSymbolNotFound);
  REQUIRE_FALSE(reexport.error().suggestions.empty());
  CHECK(reexport.error().suggestions.front() == "sym://python/json.decoder/JSONDecoder.decode");
  CHECK(reexport.error().message.find("imported from json.decoder") != std::string::npos);
  auto nothing = r.resolve("sym://python/json.decoder/Zzzzzzzzzzzz");
  REQUIRE_FALSE(nothing.ok());
  CHECK(nothing.error().suggestions.empty());
}

TEST_CASE("resolve: ambiguity is reported with every candidate, never silently picked", "[resolve][ambiguous]") {
  MemorySource src = sample();
  Resolver r(src);
  SECTION("pkg.py and pkg/__init__.py") {
    auto e = r.resolve("sym://python/twin");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code == SelectorErrc::kAmbiguousSymbol);
    REQUIRE(e.error().candidates.size() == 2);
    CHECK(e.error().candidates[0].file == "twin.py");
    CHECK(e.error().candidates[1].file == "twin/__init__.py");
    CHECK(e.error().errc() == Errc::kAmbiguous);
  }
  SECTION("conditional definitions") {
    auto e = r.resolve("sym://python/app.core/path_sep");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().code == SelectorErrc::kAmbiguousSymbol);
    REQUIRE(e.error().candidates.size() == 2);
    CHECK(e.error().candidates[0].line == 3);
    CHECK(e.error().candidates[0].conditional);
    CHECK(e.error().candidates[1].line == 5);
    CHECK(e.error().message.find("conditional") != std::string::npos);
  }
  SECTION("duplicate definitions") {
    auto e = r.resolve("sym://python/app.core/dup");
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().candidates.size() == 2);
  }
  SECTION("overloads and property accessors are one symbol") {
    auto conv = r.resolve("sym://python/app.core/conv");
    REQUIRE(conv.ok());
    CHECK(conv->match.line == 13);
    CHECK(conv->related.size() == 2);
    auto v = r.resolve("sym://python/app.core/P.v");
    REQUIRE(v.ok());
    // The `def` line, as Python's ast says (protocol 1.3); the decorator start is its own field.
    CHECK(v->match.line == 17);
    CHECK(v->match.decorated_line == 16);
    CHECK(v->related.size() == 1);
  }
}

TEST_CASE("resolve: results and errors map to JSON with stable codes", "[resolve][json]") {
  MemorySource src = sample();
  Resolver r(src);
  auto ok = r.resolve("sym://python/json.decoder/JSONDecoder.decode");
  REQUIRE(ok.ok());
  const auto v = json::value_from(*ok).as_object();
  CHECK(v.at("file").as_string() == "json/decoder.py");
  CHECK(v.at("kind").as_string() == "method");
  CHECK(v.at("line").as_int64() == 6);
  CHECK(v.at("uri").as_string() == "sym://python/json.decoder/JSONDecoder.decode");
  auto bad = r.resolve("sym://python/twin");
  REQUIRE_FALSE(bad.ok());
  const auto e = json::value_from(bad.error()).as_object();
  CHECK(e.at("code").as_string() == "AMBIGUOUS_SYMBOL");
  CHECK(e.at("candidates").as_array().size() == 2);
}

TEST_CASE("resolve on the filesystem: cached skeletons, no escape, selector.resolve events", "[resolve][fs]") {
  trifecta::test::TempDir tmp;
  fs::path root = tmp.path() / "seg";
  fs::create_directories(root / "pkg");
  root = fs::canonical(root);
  std::ofstream(root / "pkg" / "__init__.py") << "";
  std::ofstream(root / "pkg" / "mod.py") << "class A:\n    def run(self): pass\n";
  const auto resolves = resolve_events(root, [](Resolver& r, FsSegmentSource& source, ast::SkeletonCache& cache) {
    auto hit = r.resolve("sym://python/pkg.mod/A.run");
    REQUIRE(hit.ok());
    CHECK(hit->match.file == "pkg/mod.py");
    CHECK(r.resolve("sym://python/pkg.mod/A")->match.kind == "class");
    CHECK(cache.stats().memory_hits == 1);  // the second resolve reused the skeleton
    CHECK(r.resolve("sym://python/pkg.mod/B").error().code == SelectorErrc::kSymbolNotFound);
    CHECK_FALSE(source.is_file("../seg/pkg/mod.py"));  // safe_join refuses to climb out
    CHECK_FALSE(source.is_file("/etc/passwd"));
  });
  REQUIRE(resolves.size() == 3);
  CHECK(resolves[0].at("args").at("symbol_query").as_string() == "sym://python/pkg.mod/A.run");
  CHECK(resolves[0].at("result").at("resolved").as_bool());
  CHECK(resolves[0].at("result").at("matches").as_int64() == 1);
  CHECK_FALSE(resolves[0].at("result").at("ambiguous").as_bool());
  CHECK_FALSE(resolves[2].at("result").at("resolved").as_bool());
  CHECK(resolves[2].at("x").at("error").as_string() == "SYMBOL_NOT_FOUND");
}

TEST_CASE("edit distance", "[suggest]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("decode", "decod") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("abc", "") == 3);
}

TEST_CASE("a package-root segment names modules with its package, and every suggestion resolves",
          "[resolve][layout]") {
  // `-s …/dist-packages/django`: the root is the package, so Python calls db/models.py
  // django.db.models.
  MemorySource src;
  src.add("__init__.py", "VERSION = (3, 2)\n");
  src.add("db/__init__.py", "");
  src.add("db/fields.py", "class Field:\n    def get_default(self): pass\n");
  src.add("db/models.py",
          "from django.db.fields import Field\nfrom typing import Any\n"
          "class Model:\n    @classmethod\n    def check(cls): pass\n    def save(self): pass\n");
  ResolverOptions o;
  o.package_prefix = "django";
  Resolver r(src, {}, o);

  auto model = r.resolve("sym://python/django.db.models/Model.save");
  REQUIRE(model.ok());
  CHECK(model->match.file == "db/models.py");
  CHECK(model->match.module == "django.db.models");
  auto pkg = r.resolve("sym://python/django");
  REQUIRE(pkg.ok());
  CHECK(pkg->match.file == "__init__.py");
  CHECK(r.resolve("sym://python/django/VERSION").ok());
  // The name without the package still finds the file, reported with the package.
  auto bare = r.resolve("sym://python/db.models/Model");
  REQUIRE(bare.ok());
  CHECK(bare->match.module == "django.db.models");
  // A decorated method: line is the `def` line, decorated_line the decorator's.
  auto check = r.resolve("sym://python/django.db.models/Model.check");
  REQUIRE(check.ok());
  CHECK(check->match.line == 5);
  CHECK(check->match.decorated_line == 4);

  // Round trip: every suggestion is a URI that resolves in this same segment.
  for (const char* uri : {"sym://python/django.db.modls/Model", "sym://python/django.db.models/Modle",
                          "sym://python/django.db.models/Field", "sym://python/django.db.models/Field.get_default",
                          "sym://python/db.modls"}) {
    INFO(uri);
    auto e = r.resolve(uri);
    REQUIRE_FALSE(e.ok());
    REQUIRE_FALSE(e.error().suggestions.empty());
    for (const auto& s : e.error().suggestions) {
      INFO(s);
      CHECK(s.rfind("sym://python/django.", 0) == 0);
      CHECK(r.resolve(s).ok());
    }
  }
  // An import from outside the segment (typing) is explained, never suggested.
  auto any = r.resolve("sym://python/django.db.models/Any");
  REQUIRE_FALSE(any.ok());
  CHECK_THAT(any.error().message, Catch::Contains("imported from typing"));
  for (const auto& s : any.error().suggestions) CHECK(r.resolve(s).ok());

  // A nested package root (`-s django/db`) is the package django.db.
  MemorySource sub;
  sub.add("__init__.py", "");
  sub.add("models.py", "class Model:\n    pass\n");
  ResolverOptions no;
  no.package_prefix = "django.db";
  Resolver rn(sub, {}, no);
  auto nested = rn.resolve("sym://python/django.db.models/Model");
  REQUIRE(nested.ok());
  CHECK(nested->match.file == "models.py");
  CHECK(nested->match.module == "django.db.models");
  auto typo = rn.resolve("sym://python/django.db.modles");
  REQUIRE_FALSE(typo.ok());
  REQUIRE_FALSE(typo.error().suggestions.empty());
  CHECK(typo.error().suggestions.front() == "sym://python/django.db.models");
}

TEST_CASE("pytest node ids: parsed as a file and a qualified name, parametrization dropped", "[nodeid]") {
  const auto id = parse_node_id("tests/test_x.py::TestA::test_b[param-1]");
  REQUIRE(id);
  CHECK(id->file == "tests/test_x.py");
  CHECK(id->qualname == "TestA.test_b");
  CHECK(parse_node_id("test_x.py::test_c")->qualname == "test_c");
  CHECK(parse_node_id("t.py::test_d[a::b]")->qualname == "test_d");  // brackets may hold anything
  CHECK(parse_node_id("/abs/t.py::T::u")->file == "/abs/t.py");
  for (const char* no : {"sym://python/a.b/C", "tests/test_x.py", "tests/test_x.py::", "x.txt::a",
                         ".py::a", "t.py::1bad", "t.py::a::", "t.py::a[unclosed", "t.py::a[x]b",
                         "t.py#a::b", "t.py::a b"}) {
    INFO(no);
    CHECK_FALSE(parse_node_id(no));
  }
}

TEST_CASE("pytest node ids resolve like sym:// symbols: matches, errors and suggestions", "[nodeid][resolve]") {
  MemorySource src = sample();
  src.add("tests/test_dec.py",
          "import pytest\n"
          "class TestDecode:\n"
          "    @pytest.mark.parametrize('s', ['1', '2'])\n"
          "    def test_number(self, s):\n"
          "        pass\n"
          "def test_plain():\n"
          "    pass\n");
  Resolver r(src);
  auto hit = r.resolve("tests/test_dec.py::TestDecode::test_number[1]");
  REQUIRE(hit.ok());
  CHECK(hit->match.file == "tests/test_dec.py");
  CHECK(hit->match.qualname == "TestDecode.test_number");
  CHECK(hit->match.kind == "method");
  CHECK(hit->match.line == 4);
  CHECK(hit->match.decorated_line == 3);
  CHECK(hit->match.module == "tests.test_dec");
  CHECK(hit->uri.raw == "tests/test_dec.py::TestDecode::test_number[1]");
  CHECK(r.resolve("./tests/test_dec.py::test_plain")->uri.raw == "tests/test_dec.py::test_plain");
  CHECK(r.resolve("tests/test_dec.py::TestDecode")->match.kind == "class");

  auto typo = r.resolve("tests/test_dec.py::TestDecode::test_numbr");
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.error().code == SelectorErrc::kSymbolNotFound);
  REQUIRE_FALSE(typo.error().suggestions.empty());
  CHECK(typo.error().suggestions.front() == "sym://python/tests.test_dec/TestDecode.test_number");
  auto missing = r.resolve("tests/test_nope.py::test_a");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == SelectorErrc::kFileNotFound);
  auto out = r.resolve("../outside.py::test_a");
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().code == SelectorErrc::kInvalidUri);
  // The memory source cannot place an absolute path: outside, whatever it names.
  auto abs = r.resolve("/seg/tests/test_dec.py::test_plain");
  REQUIRE_FALSE(abs.ok());
  CHECK(abs.error().code == SelectorErrc::kInvalidUri);
  CHECK(abs.error().message.find("/seg") == std::string::npos);
}

TEST_CASE("pytest node ids on the filesystem: an absolute path inside the segment, telemetry relative", "[nodeid][fs]") {
  trifecta::test::TempDir tmp;
  fs::path root = tmp.path() / "seg";
  fs::create_directories(root / "tests");
  root = fs::canonical(root);
  std::ofstream(root / "tests" / "test_m.py") << "class TestM:\n    def test_one(self):\n        pass\n";
  const auto resolves = resolve_events(root, [&](Resolver& r, FsSegmentSource&, ast::SkeletonCache&) {
    auto hit = r.resolve((root / "tests" / "test_m.py").string() + "::TestM::test_one");
    REQUIRE(hit.ok());
    CHECK(hit->match.file == "tests/test_m.py");
    CHECK(hit->uri.raw == "tests/test_m.py::TestM::test_one");
    auto out = r.resolve((tmp.path() / "other.py").string() + "::test_x");
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().code == SelectorErrc::kInvalidUri);
  });
  std::vector<std::string> queries;
  for (const auto& ev : resolves) queries.emplace_back(ev.at("args").at("symbol_query").as_string());
  CHECK(queries == std::vector<std::string>{"tests/test_m.py::TestM::test_one", "::test_x"});
}
