// Spec of lib/lang/python's incremental parse (ParseMemo): a file's skeleton extracted from its
// last parse, edited, is the skeleton a fresh parse of the same bytes gives — for every kind of
// edit a person or an agent makes (insertions, deletions, replacements anywhere: inside strings,
// across indentation, splitting UTF-8 characters, unbalancing brackets, whole-file rewrites).
//
// The edits are pseudo-random with fixed seeds (the same edits on every run), over the golden
// fixtures (BOM, CRLF, tabs, Latin-1, invalid UTF-8, syntax errors) and real standard-library
// modules when this machine has them.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "../support/temp_dir.hpp"
#include "ast/skeleton.hpp"
#include "ast/skeleton_cache.hpp"
#include "lang/python/extractor.hpp"

using namespace trifecta::core;
using namespace trifecta::core::ast;
namespace fs = std::filesystem;

namespace {

const fs::path kGoldenDir = TRIFECTA_GOLDEN_DIR;

// Snippets an edit inserts: code, block openers, unbalanced brackets and quotes, comments,
// indentation, line ends of both kinds, a multi-byte character and a lone continuation byte.
const std::vector<std::string> kSnippets = {"x = 1\n",
                                            "    def f(self, a=(1, 2)):\n        return a\n",
                                            "(",
                                            ")",
                                            "]",
                                            "{",
                                            "\"\"\"",
                                            "'",
                                            "\"",
                                            "#",
                                            "\n",
                                            "class C(Base):\n",
                                            "\t",
                                            "    ",
                                            "if x:\n",
                                            "@dec\n",
                                            "\\\n",
                                            "\r\n",
                                            "é",
                                            "\x80",
                                            "async def g():\n    await h()\n",
                                            "lambda: 0",
                                            "import os\n",
                                            "from . import a as b\n",
                                            "__all__ = ['x']\n",
                                            "try:\n    pass\nexcept E:\n    pass\n"};

// One pseudo-random edit of `text`.
std::string edited(const std::string& text, std::mt19937& rng, const std::string& other) {
  auto pick = [&](std::size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const std::size_t at = pick(text.size() + 1);
  switch (pick(8)) {
    case 0:
    case 1:
    case 2: {  // insert a snippet
      return text.substr(0, at) + kSnippets[pick(kSnippets.size())] + text.substr(at);
    }
    case 3:
    case 4: {  // delete up to 64 bytes
      const std::size_t len = std::min(text.size() - at, 1 + pick(64));
      return text.substr(0, at) + text.substr(at + len);
    }
    case 5: {  // replace up to 16 bytes with a snippet
      const std::size_t len = std::min(text.size() - at, 1 + pick(16));
      return text.substr(0, at) + kSnippets[pick(kSnippets.size())] + text.substr(at + len);
    }
    case 6: {  // append a line (what a log of edits at the end looks like)
      return text + "y_" + std::to_string(pick(1000)) + " = 2\n";
    }
    default: {  // move a line: delete one, insert it elsewhere
      const std::size_t nl = text.find('\n', at);
      if (nl == std::string::npos) return other;  // a whole-file rewrite now and then
      const std::size_t begin = text.rfind('\n', at == 0 ? 0 : at - 1);
      const std::size_t b = begin == std::string::npos || at == 0 ? 0 : begin + 1;
      const std::string line = text.substr(b, nl + 1 - b);
      std::string rest = text.substr(0, b) + text.substr(nl + 1);
      const std::size_t to = pick(rest.size() + 1);
      return rest.substr(0, to) + line + rest.substr(to);
    }
  }
}

void require_same(const Result<Skeleton>& fresh, const Result<Skeleton>& incremental,
                  const std::string& what) {
  INFO(what);
  REQUIRE((static_cast<bool>(fresh) == static_cast<bool>(incremental)));
  if (!fresh) {
    CHECK(fresh.error().code == incremental.error().code);
    return;
  }
  CHECK(json::serialize(to_json(*fresh)) == json::serialize(to_json(*incremental)));
  CHECK(fresh->identifiers == incremental->identifiers);
}

struct Fixture {
  std::string name;
  std::string text;
  int edits;
};

std::vector<Fixture> fixtures() {
  std::vector<Fixture> out;
  for (const auto& e : fs::directory_iterator(kGoldenDir)) {
    if (e.path().extension() == ".py")
      out.push_back({e.path().filename().string(), trifecta::test::read_text(e.path()), 120});
  }
  std::sort(out.begin(), out.end(),
            [](const Fixture& a, const Fixture& b) { return a.name < b.name; });
  // Real modules: a large class-heavy file, a long function-heavy one, one with many strings.
  int found = 0;
  for (const char* m : {"tempfile.py", "argparse.py", "string.py", "json/decoder.py"}) {
    const fs::path p = fs::path("/usr/lib/python3.11") / m;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) continue;
    out.push_back({m, trifecta::test::read_text(p), 25});
    ++found;
  }
  if (found == 0) WARN("no /usr/lib/python3.11 modules on this machine: the golden fixtures only");
  return out;
}

}  // namespace

TEST_CASE(
    "incremental parse: the skeleton of an edited file is the fresh parse's, over thousands of "
    "edits",
    "[ast][incremental]") {
  const auto files = fixtures();
  REQUIRE(files.size() >= 9);
  std::size_t edits = 0, incremental = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    std::mt19937 rng(static_cast<std::uint32_t>(1000 + f));
    std::string text = files[f].text;
    ParseMemo memo;
    auto first = extract_skeleton(text, memo);
    REQUIRE(static_cast<bool>(first));
    CHECK_FALSE(memo.incremental());
    CHECK((memo.text_bytes() > 0 || text.empty()));
    for (int i = 0; i < files[f].edits; ++i) {
      text = edited(text, rng, files[(f + 1) % files.size()].text);
      auto inc = extract_skeleton(text, memo);
      if (inc) {
        CHECK(memo.incremental() == !memo.empty());
        incremental += memo.incremental() ? 1 : 0;
      } else {
        CHECK(memo.empty());  // a failed parse leaves nothing to start from
      }
      require_same(extract_skeleton(text), inc,
                   files[f].name + " after edit " + std::to_string(i + 1));
      ++edits;
    }
  }
  INFO("edits " << edits << ", incremental " << incremental);
  CHECK(edits >= 1000);
  CHECK(incremental >= edits * 9 / 10);
}

TEST_CASE(
    "incremental parse: an edit far from the last one, a memo of another file, an unchanged text",
    "[ast][incremental]") {
  const std::string a =
      "import os\n\nclass A:\n    def f(self):\n        return 1\n\n\ndef g():\n    pass\n";
  const std::string b =
      "import os\n\nclass A:\n    def f(self):\n        return 2\n\n\ndef g(x):\n    pass\n";
  const std::string other = "def unrelated():\n    '''doc'''\n";
  ParseMemo memo;
  REQUIRE(extract_skeleton(a, memo));
  for (const std::string* next : {&b, &b, &other, &a, &b}) {
    auto inc = extract_skeleton(*next, memo);
    REQUIRE(inc);
    CHECK(memo.incremental());
    require_same(extract_skeleton(*next), inc, *next);
  }
  // A memo moves (the cache keeps them in a list) and starts empty again when moved from.
  ParseMemo moved = std::move(memo);
  CHECK(memo.empty());  // NOLINT(bugprone-use-after-move): documented moved-from state
  CHECK_FALSE(moved.empty());
  auto again = extract_skeleton(a, moved);
  REQUIRE(again);
  CHECK(moved.incremental());
  require_same(extract_skeleton(a), again, "after the move");
}

TEST_CASE("incremental parse: a refused text leaves the memo empty, and the next parse is fresh",
          "[ast][incremental]") {
  ParseMemo memo;
  REQUIRE(extract_skeleton("def f():\n    pass\n", memo));
  const std::string deep(300, '(');  // over kMaxBracketNesting: refused before tree-sitter
  auto refused = extract_skeleton(deep, memo);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kTooLarge);
  CHECK(memo.empty());
  auto next = extract_skeleton("def f():\n    return 1\n", memo);
  REQUIRE(next);
  CHECK_FALSE(memo.incremental());
}

TEST_CASE(
    "SkeletonCache: an edited file's next edits parse from its kept parse; bounded; same skeletons",
    "[ast][incremental][cache]") {
  SkeletonCache cache({}, {});  // memory only
  const std::string v1 = "def f():\n    return 1\n";
  const std::string v2 = "def f():\n    return 2\n";
  const std::string v3 = "def f():\n    return 3\n\n\ndef g():\n    pass\n";
  // A first version, then two edits: the first edit has no kept parse, the second has.
  REQUIRE(cache.get_content(v1, "a.py", ParseEvents::kCountOnly));
  CHECK(cache.stats().parse_memos == 0);  // kNone keeps nothing (a build)
  REQUIRE(cache.get_content(v2, "a.py", ParseEvents::kCountOnly, ParseReuse::kEdited));
  CHECK(cache.stats().incremental_parses == 0);
  CHECK(cache.stats().parse_memos == 1);
  auto third = cache.get_content(v3, "a.py", ParseEvents::kCountOnly, ParseReuse::kEdited);
  REQUIRE(third);
  CHECK(cache.stats().incremental_parses == 1);
  CHECK(json::serialize(to_json(*third->skeleton)) ==
        json::serialize(to_json(*extract_skeleton(v3))));
  // Another file's kept parse is not this one's; a hit parses nothing.
  REQUIRE(cache.get_content(v1 + "# b\n", "b.py", ParseEvents::kCountOnly, ParseReuse::kEdited));
  CHECK(cache.stats().incremental_parses == 1);
  REQUIRE(cache.get_content(v3, "a.py", ParseEvents::kCountOnly, ParseReuse::kEdited));
  CHECK(cache.stats().incremental_parses == 1);
  CHECK(cache.stats().parse_memos == 2);
  // At most kParseMemoFiles files; the least recent go first.
  for (std::size_t i = 0; i < kParseMemoFiles + 3; ++i) {
    const std::string rel = "m" + std::to_string(i) + ".py";
    REQUIRE(cache.get_content("x = " + std::to_string(i) + "\n", rel, ParseEvents::kCountOnly,
                              ParseReuse::kEdited));
  }
  CHECK(cache.stats().parse_memos == kParseMemoFiles);
  REQUIRE(cache.get_content("x = 'a.py again'\n", "a.py", ParseEvents::kCountOnly,
                            ParseReuse::kEdited));
  CHECK(cache.stats().incremental_parses == 1);  // evicted: parsed from scratch
  const std::string last = "m" + std::to_string(kParseMemoFiles + 2) + ".py";
  REQUIRE(cache.get_content("x = 'edited'\n", last, ParseEvents::kCountOnly, ParseReuse::kEdited));
  CHECK(cache.stats().incremental_parses == 2);  // recent: kept
  // At most kParseMemoBytes of text: a larger file is never kept, and it evicts nothing.
  const std::size_t before = cache.stats().parse_memos;
  std::string big;
  while (big.size() <= kParseMemoBytes) big += "def h():\n    return 'padding padding padding'\n";
  REQUIRE(cache.get_content(big, "big.py", ParseEvents::kCountOnly, ParseReuse::kEdited));
  REQUIRE(
      cache.get_content(big + "x = 1\n", "big.py", ParseEvents::kCountOnly, ParseReuse::kEdited));
  CHECK(cache.stats().incremental_parses == 2);
  CHECK(cache.stats().parse_memos == before);
  // Files that fit together are kept together, up to the byte budget.
  const std::string quarter(kParseMemoBytes / 4 + 1, '#');
  for (int i = 0; i < 4; ++i) {
    REQUIRE(cache.get_content(quarter + "\nq = " + std::to_string(i) + "\n",
                              "q" + std::to_string(i) + ".py", ParseEvents::kCountOnly,
                              ParseReuse::kEdited));
  }
  CHECK(cache.stats().parse_memos == 3);  // the fourth quarter leaves no room for older files
  cache.clear_memory();
  CHECK(cache.stats().parse_memos == 0);
}

TEST_CASE(
    "SkeletonCache: keep_parse keeps a read file's parse for its first edit, never over an edit's",
    "[ast][incremental][cache]") {
  SkeletonCache cache({}, {});  // memory only
  const std::string v1 = "class A:\n    def f(self):\n        return 1\n";
  const std::string v2 =
      "class A:\n    def f(self):\n        return 2\n\n    def g(self):\n        pass\n";
  CHECK(cache.keep_parse(v1, "a.py"));
  CHECK(cache.stats().parse_memos == 1);
  CHECK(cache.stats().kept_for_reads == 1);
  CHECK(cache.stats().memory_entries == 0);  // the index holds the file's skeleton: not cached here
  CHECK_FALSE(cache.keep_parse(v1, "a.py"));  // one kept already
  // The first edit parses from the kept parse, to the skeleton a fresh parse gives.
  auto first = cache.get_content(v2, "a.py", ParseEvents::kCountOnly, ParseReuse::kEdited);
  REQUIRE(first);
  CHECK(cache.stats().incremental_parses == 1);
  CHECK(json::serialize(to_json(*first->skeleton)) ==
        json::serialize(to_json(*extract_skeleton(v2))));
  // The edit's parse is newer than the file as read: a later read does not replace it.
  CHECK_FALSE(cache.keep_parse(v1, "a.py"));
  REQUIRE(cache.get_content(v2 + "x = 1\n", "a.py", ParseEvents::kCountOnly, ParseReuse::kEdited));
  CHECK(cache.stats().incremental_parses == 2);
  // Too large to keep; a refused text keeps nothing.
  std::string big;
  while (big.size() <= kParseMemoBytes) big += "def h():\n    return 'padding padding padding'\n";
  CHECK_FALSE(cache.keep_parse(big, "big.py"));
  CHECK_FALSE(cache.keep_parse(std::string(300, '(') + "\n", "deep.py"));
  CHECK(cache.stats().parse_memos == 1);
  CHECK(cache.stats().kept_for_reads == 1);
  // Kept parses share the edits' budget of files, the least recent going first.
  for (std::size_t i = 0; i < kParseMemoFiles; ++i)
    CHECK(cache.keep_parse("y = " + std::to_string(i) + "\n", "r" + std::to_string(i) + ".py"));
  CHECK(cache.stats().parse_memos == kParseMemoFiles);
  REQUIRE(cache.get_content(v2 + "x = 2\n", "a.py", ParseEvents::kCountOnly, ParseReuse::kEdited));
  CHECK(cache.stats().incremental_parses == 2);  // a.py's parse went first: parsed afresh
}
