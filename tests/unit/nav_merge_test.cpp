// The merge rule of Pyright + AST answers (lib/service/nav_merge.hpp, issue 13).
#include "service/nav_merge.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace trifecta::core;
using service::CandidateClass;
using service::LspOutcome;

namespace {

text::Location loc(std::string path, int line, int column = 5, bool external = false) {
  text::Location l;
  l.path = std::move(path);
  l.external = external;
  l.line = l.end_line = line;
  l.column = column;
  l.end_column = column + 3;
  return l;
}

navigation::DefinitionResult ast_answer(
    std::string rule, std::vector<std::pair<text::Location, std::string>> targets) {
  navigation::DefinitionResult r;
  r.name = "apply";
  r.rule = std::move(rule);
  for (auto& [l, kind] : targets) {
    navigation::Target t;
    t.location = l;
    t.kind = kind;
    t.name = "apply";
    r.targets.push_back(std::move(t));
  }
  return r;
}

}  // namespace

TEST_CASE("classify_lsp tells located, external-only and empty answers apart", "[nav_merge]") {
  CHECK(service::classify_lsp({}) == LspOutcome::kEmpty);
  CHECK(service::classify_lsp({loc("/usr/typeshed/builtins.pyi", 10, 5, true)}) ==
        LspOutcome::kExternal);
  CHECK(service::classify_lsp({loc("/usr/typeshed/builtins.pyi", 10, 5, true), loc("a.py", 3)}) ==
        LspOutcome::kLocated);
  CHECK(service::outcome_name(LspOutcome::kUnknown) == "unknown");
}

TEST_CASE("a hover whose type is exactly Unknown is not an answer", "[nav_merge]") {
  CHECK(service::hover_is_unknown("```python\n(function) apply: Unknown\n```"));
  CHECK(service::hover_is_unknown("```python\n(variable) x: Unknown\n```\n---\ndoc"));
  CHECK(service::hover_is_unknown("(method) def f(self, a) -> Unknown"));
  CHECK_FALSE(service::hover_is_unknown("```python\n(variable) xs: list[Unknown]\n```"));
  CHECK_FALSE(
      service::hover_is_unknown("```python\n(method) def apply(self, state) -> ProjectState\n```"));
  CHECK_FALSE(service::hover_is_unknown("```python\n(function) def f(x: Unknown) -> int\n```"));
  CHECK_FALSE(service::hover_is_unknown(""));
  CHECK_FALSE(service::hover_is_unknown("```python\n```"));
}

TEST_CASE("Pyright empty: the AST's locations are the answer, labelled ast", "[nav_merge]") {
  const auto ast = ast_answer("attribute", {{loc("db/migration.py", 120), "method"}});
  const auto m = service::merge_definitions({}, &ast, "here.py");
  REQUIRE(m.size() == 1);
  CHECK(m[0].source == "ast");
  CHECK(m[0].confidence == Approx(0.75));
  CHECK(m[0].location.path == "db/migration.py");
}

TEST_CASE("Pyright outside the tree: an in-tree AST method ranks first, Pyright's stays",
          "[nav_merge]") {
  const auto typeshed = loc("/typeshed/builtins.pyi", 500, 9, true);
  SECTION("an index guess for a method of the same file beats an external answer") {
    const auto ast = ast_answer("index", {{loc("auth/hashers.py", 230), "method"},
                                          {loc("auth/hashers.py", 300), "method"}});
    const auto m = service::merge_definitions({typeshed}, &ast, "auth/hashers.py");
    REQUIRE(m.size() == 3);
    CHECK(m[0].source == "ast");
    CHECK(m[0].location.line == 230);
    CHECK(m[1].source == "ast");
    CHECK(m[1].confidence < m[0].confidence);  // rank 1 of the same rule
    CHECK(m[2].source == "lsp");
    CHECK(m[2].confidence == Approx(0.50));
  }
  SECTION("an index guess for a method elsewhere stays below the external answer") {
    const auto ast = ast_answer("index", {{loc("gis/mutable_list.py", 189), "method"}});
    const auto m = service::merge_definitions({typeshed}, &ast, "db/introspection.py");
    REQUIRE(m.size() == 2);
    CHECK(m[0].source == "lsp");
    CHECK(m[1].source == "ast");
  }
  SECTION("an evaluated receiver (attribute rule) beats an external answer anywhere") {
    const auto ast = ast_answer("attribute", {{loc("gis/mutable_list.py", 189), "method"}});
    const auto m = service::merge_definitions({typeshed}, &ast, "db/introspection.py");
    REQUIRE(m.size() == 2);
    CHECK(m[0].source == "ast");
  }
}

TEST_CASE("Pyright inside the tree stays first on a tie and duplicates collapse", "[nav_merge]") {
  const auto a = loc("pkg/models.py", 17);
  SECTION("without the AST: Pyright's locations, labelled") {
    const auto m = service::merge_definitions({a}, nullptr, "here.py");
    REQUIRE(m.size() == 1);
    CHECK(m[0].source == "lsp");
    CHECK(m[0].confidence == Approx(0.90));
  }
  SECTION("the same location from both sides appears once, as lsp") {
    const auto ast = ast_answer("module", {{a, "function"}});
    const auto m = service::merge_definitions({a}, &ast, "here.py");
    REQUIRE(m.size() == 1);
    CHECK(m[0].source == "lsp");
  }
  SECTION("a module-rule AST answer ties with Pyright: Pyright first") {
    const auto ast = ast_answer("module", {{loc("pkg/other.py", 3), "function"}});
    const auto m = service::merge_definitions({a}, &ast, "here.py");
    REQUIRE(m.size() == 2);
    CHECK(m[0].source == "lsp");
  }
  SECTION("a declaration-rule AST answer is stronger") {
    const auto ast = ast_answer("declaration", {{loc("pkg/other.py", 3), "function"}});
    const auto m = service::merge_definitions({a}, &ast, "here.py");
    REQUIRE(m.size() == 2);
    CHECK(m[0].source == "ast");
  }
}

TEST_CASE("references: confirmed first, candidates classified, unrelated ones filtered",
          "[nav_merge]") {
  const std::vector<text::Location> lsp{loc("a.py", 1), loc("b.py", 2)};
  const std::vector<text::Location> ast{loc("b.py", 2), loc("c.py", 3), loc("d.py", 4),
                                        loc("e.py", 5)};
  const auto m = service::merge_references(lsp, ast, [](const text::Location& l) {
    if (l.path == "c.py") return CandidateClass{CandidateClass::kUnknown, ""};
    if (l.path == "d.py") return CandidateClass{CandidateClass::kRelated, "FileField"};
    return CandidateClass{CandidateClass::kUnrelated, "Form"};
  });
  CHECK(m.confirmed == 2);
  CHECK(m.candidates == 2);
  CHECK(m.filtered == 1);
  REQUIRE(m.locations.size() == 4);
  CHECK(m.locations[0].status == "confirmed");
  CHECK(m.locations[1].status == "confirmed");
  CHECK(m.locations[2].location.path == "d.py");  // related before unknown
  CHECK(m.locations[2].receiver_class == "FileField");
  CHECK(m.locations[2].status == "candidate");
  CHECK(m.locations[2].source == "ast");
  CHECK(m.locations[3].location.path == "c.py");
  CHECK(m.locations[3].receiver_class.empty());
  CHECK(m.locations[3].confidence < m.locations[2].confidence);
}

TEST_CASE("references without a classifier keep every candidate", "[nav_merge]") {
  const auto m = service::merge_references({}, {loc("x.py", 1), loc("x.py", 1)}, nullptr);
  CHECK(m.confirmed == 0);
  CHECK(m.candidates == 1);
  CHECK(m.filtered == 0);
}

TEST_CASE("class bases come from the class signature", "[nav_merge]") {
  CHECK(service::bases_of_signature("(Field)") == std::vector<std::string>{"Field"});
  CHECK(service::bases_of_signature("(models.Field, Mixin, metaclass=Meta)") ==
        std::vector<std::string>{"Field", "Mixin"});
  CHECK(service::bases_of_signature("[T](Generic[T], Base)") ==
        std::vector<std::string>{"Generic", "Base"});
  CHECK(service::bases_of_signature("").empty());
  CHECK(service::bases_of_signature("(*bases)").empty());
}

TEST_CASE("classes_related follows base classes both ways", "[nav_merge]") {
  const std::map<std::string, std::vector<std::string>> tree{{"FileField", {"Field"}},
                                                             {"ImageField", {"FileField"}},
                                                             {"Field", {"RegisterLookupMixin"}},
                                                             {"Form", {"BaseForm"}}};
  auto bases = [&](const std::string& c) {
    auto it = tree.find(c);
    return it == tree.end() ? std::vector<std::string>{} : it->second;
  };
  CHECK(service::classes_related("ImageField", "Field", bases));
  CHECK(service::classes_related("Field", "ImageField", bases));
  CHECK(service::classes_related("Field", "Field", bases));
  CHECK_FALSE(service::classes_related("Form", "Field", bases));
  CHECK_FALSE(service::classes_related("FileField", "Form", bases, 0));
}
