// Integration spec (real trifectad + CLI) of issue 13's layout part: NOT_PYTHON for files no
// language claims, cursor positions off the text, the `def` line of decorated symbols, and a
// package-root segment (sym:// names with the package, lsp.status layout facts).
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "../support/cli_json.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

struct Tree {
  TempDir tmp;
  fs::path root;
  Tree() {
    root = fs::canonical(tmp.path());
    write_text(root / "pkg" / "__init__.py", "");
    write_text(
        root / "pkg" / "mod.py",
        "import functools\n\n\nclass Cache:\n    @property\n    def size(self):\n        return "
        "1\n\n"
        "\n@functools.lru_cache(maxsize=None)\n@staticmethod\ndef compute(x):\n    return x\n");
    write_text(root / "templates" / "page.html",
               "<html>{% block body %}{{ user.name }}{% endblock %}</html>\n");
    write_text(root / "notes.txt", "def not_python(): pass\n");
  }
};

}  // namespace

TEST_CASE("NOT_PYTHON: diag, ast skeleton, def, hover and refs on a non-Python file",
          "[layout][daemon]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"diag", "-s", seg, "templates/page.html"},
                                             {"ast", "skeleton", "-s", seg, "templates/page.html"},
                                             {"ast", "symbols", "-s", seg, "notes.txt"},
                                             {"def", "-s", seg, "templates/page.html:1:25"},
                                             {"hover", "-s", seg, "notes.txt:1:6"},
                                             {"refs", "-s", seg, "notes.txt:1:6"}}) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    INFO(joined);
    std::vector<std::string> js{"--json"};
    js.insert(js.end(), args.begin(), args.end());
    auto r = d.cli(js);
    CHECK(error_name_of(r) == "NOT_PYTHON");
    const auto err = json::parse(r.out).at("error").as_object();
    CHECK(err.at("code").as_int64() == -32024);
    CHECK_THAT(std::string(err.at("message").as_string()), Catch::Contains("is not a Python file"));
    // Text mode: non-zero exit and the reason on stderr, nothing on stdout.
    auto text = d.cli(args);
    CHECK(text.exit_code == 1);
    CHECK(text.out.empty());
    CHECK_THAT(text.err, Catch::Contains("not a Python file"));
  }
  // A Python file still answers.
  CHECK(d.cli({"ast", "skeleton", "-s", seg, "pkg/mod.py"}).exit_code == 0);
}

TEST_CASE("a cursor off the text: past the last line, on an empty line, past the line's end",
          "[layout][daemon]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  struct Row {
    std::string pos, says;
  };
  for (const Row& row :
       {Row{"pkg/mod.py:99:1", "the file has 14 lines"}, Row{"pkg/mod.py:2:1", "line 2 is empty"},
        Row{"pkg/mod.py:4:40", "line 4 has 12 characters"}}) {
    INFO(row.pos);
    for (const char* cmd : {"def", "hover", "refs"}) {
      auto r = d.cli({"--json", cmd, "-s", seg, row.pos});
      CHECK(error_name_of(r) == "INVALID_ARGUMENT");
      CHECK_THAT(r.out, Catch::Contains("is outside the text: " + row.says));
    }
  }
  // One past the last character is the caret after a name: still an answer.
  CHECK(d.cli({"def", "-s", seg, "pkg/mod.py:1:17"}).exit_code == 0);  // after `import functools`
  CHECK(d.cli({"hover", "-s", seg, "pkg/mod.py:4:11"}).exit_code == 0);
}

TEST_CASE("sym:// gives the def line of a decorated symbol and its decorator line apart",
          "[layout][daemon]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  auto size = result_of(d.cli({"--json", "sym", "-s", seg, "sym://python/pkg.mod/Cache.size"}));
  CHECK(size.at("line").as_int64() == 6);
  CHECK(size.at("decorated_line").as_int64() == 5);
  auto compute = result_of(d.cli({"--json", "sym", "-s", seg, "sym://python/pkg.mod/compute"}));
  CHECK(compute.at("line").as_int64() == 12);
  CHECK(compute.at("decorated_line").as_int64() == 10);
  auto cls = result_of(d.cli({"--json", "sym", "-s", seg, "sym://python/pkg.mod/Cache"}));
  CHECK(cls.at("decorated_line").as_int64() == cls.at("line").as_int64());
  // Navigating by URI lands on the name in the def line, not on the decorator.
  auto def = result_of(d.cli({"--json", "def", "-s", seg, "sym://python/pkg.mod/compute"}));
  CHECK(def.at("line").as_int64() == 12);
}

TEST_CASE("a package-root segment: sym:// names carry the package, lsp status says the layout",
          "[layout][daemon]") {
  DaemonProcess d({"--no-lsp"});
  TempDir tmp;
  const fs::path site = fs::canonical(tmp.path());
  const fs::path root = site / "shop";
  write_text(root / "__init__.py", "");
  write_text(root / "util.py", "def price(amount, rate):\n    return amount * rate\n");
  write_text(root / "orders" / "__init__.py", "");
  write_text(root / "orders" / "cart.py",
             "from shop.util import price\n\n\ndef total(a):\n    return price(a, 2)\n");
  const std::string seg = root.string();
  auto hit = result_of(d.cli({"--json", "sym", "-s", seg, "sym://python/shop.util/price"}));
  CHECK(hit.at("file").as_string() == "util.py");
  CHECK(hit.at("module").as_string() == "shop.util");
  // The suggestion for a misspelt module resolves in this segment.
  auto miss = d.cli({"--json", "sym", "-s", seg, "sym://python/shop.utl/price"});
  CHECK(error_name_of(miss) == "FILE_NOT_FOUND");
  const auto sugg = json::parse(miss.out).at("error").at("data").at("suggestions").as_array();
  REQUIRE_FALSE(sugg.empty());
  CHECK(sugg.front().as_string() == "sym://python/shop.util");
  CHECK(d.cli({"sym", "-s", seg, std::string(sugg.front().as_string())}).exit_code == 0);

  // The AST fallback follows `from shop.util import price` to util.py too.
  auto def = result_of(d.cli({"--json", "def", "-s", seg, "orders/cart.py:5:12"}));
  REQUIRE(def.at("locations").as_array().size() >= 1);
  CHECK(def.at("locations").as_array()[0].at("path").as_string() == "util.py");
  CHECK(def.at("locations").as_array()[0].at("line").as_int64() == 1);

  auto st = result_of(d.cli({"--json", "lsp", "status", "-s", seg}));
  CHECK(st.at("layout").as_string() == "package_root");
  CHECK(st.at("layout_package").as_string() == "shop");
  CHECK(st.at("extra_paths").as_array() == json::array{site.string().c_str()});
  auto text = d.cli({"lsp", "status", "-s", seg});
  CHECK_THAT(text.out, Catch::Contains("layout    package_root (package shop)"));

  // A root that cannot be imported: every navigation answer says why.
  const fs::path bad = site / "shop-2.0";
  write_text(bad / "__init__.py", "");
  write_text(bad / "a.py", "def f():\n    return 1\n");
  auto ans = result_of(d.cli({"--json", "def", "-s", bad.string(), "a.py:1:5"}));
  CHECK_THAT(std::string(ans.at("layout_warning").as_string()),
             Catch::Contains("not a Python identifier"));
  auto bad_st = d.cli({"lsp", "status", "-s", bad.string()});
  CHECK_THAT(bad_st.out, Catch::Contains("imports cannot resolve"));
}

TEST_CASE("a nested -s inside an open tree is its own segment and lsp status says so",
          "[layout][daemon]") {
  DaemonProcess d({"--no-lsp"});
  TempDir tmp;
  const fs::path outer = fs::canonical(tmp.path()) / "proj";
  write_text(outer / "app.py", "def main():\n    return 1\n");
  write_text(outer / "lib" / "util.py", "def helper():\n    return 2\n");
  const fs::path inner = outer / "lib";
  // Alone, neither says anything about nesting.
  auto alone = result_of(d.cli({"--json", "lsp", "status", "-s", outer.string()}));
  CHECK_FALSE(alone.contains("layout_notes"));
  auto in_st = result_of(d.cli({"--json", "lsp", "status", "-s", inner.string()}));
  REQUIRE(in_st.contains("layout_notes"));
  CHECK_THAT(json::serialize(in_st.at("layout_notes")),
             Catch::Contains("inside the open segment " + outer.string()));
  auto text = d.cli({"lsp", "status", "-s", inner.string()});
  CHECK_THAT(text.out, Catch::Contains("note      inside the open segment " + outer.string()));
  auto out_st = d.cli({"lsp", "status", "-s", outer.string()});
  CHECK_THAT(out_st.out, Catch::Contains("note      the open segment " + inner.string() +
                                         " is inside this one"));
  // Two segments, each with its own names: `util.helper` is `lib.util.helper` in the outer one.
  auto st = result_of(d.cli({"--json", "status"}));
  CHECK(st.at("segments").as_array().size() == 2);
  CHECK(result_of(d.cli({"--json", "sym", "-s", inner.string(), "sym://python/util/helper"}))
            .at("file")
            .as_string() == "util.py");
  CHECK(result_of(d.cli({"--json", "sym", "-s", outer.string(), "sym://python/lib.util/helper"}))
            .at("file")
            .as_string() == "lib/util.py");
}
