// Spec of lib/lang/python's incremental parse (ParseMemo): a file's skeleton extracted from its
// last parse, edited, is the skeleton a fresh parse of the same bytes gives — for every kind of
// edit a person or an agent makes (insertions, deletions, replacements anywhere: inside strings,
// across indentation, splitting UTF-8 characters, unbalancing brackets, whole-file rewrites).
//
// The edits are pseudo-random with fixed seeds (the same edits on every run), over the golden
// fixtures (BOM, CRLF, tabs, Latin-1, invalid UTF-8, syntax errors) and real standard-library
// modules when this machine has them.
#include <algorithm>
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

// The golden fixtures (BOM, CRLF, tabs, Latin-1, invalid UTF-8, syntax errors), by name.
std::vector<Fixture> golden_fixtures() {
  std::vector<Fixture> out;
  for (const auto& e : fs::directory_iterator(kGoldenDir)) {
    if (e.path().extension() == ".py")
      out.push_back({e.path().filename().string(), trifecta::test::read_text(e.path()), 120});
  }
  std::sort(out.begin(), out.end(),
            [](const Fixture& a, const Fixture& b) { return a.name < b.name; });
  return out;
}

std::vector<Fixture> fixtures() {
  std::vector<Fixture> out = golden_fixtures();
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
  std::size_t edits = 0, incremental = 0, both_clean = 0, reused = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    std::mt19937 rng(static_cast<std::uint32_t>(1000 + f));
    std::string text = files[f].text;
    ParseMemo memo;
    auto first = extract_skeleton(text, memo);
    REQUIRE(static_cast<bool>(first));
    CHECK_FALSE(memo.incremental());
    bool clean_before = first->syntax_issue_count == 0;
    CHECK((memo.text_bytes() > 0 || text.empty()));
    for (int i = 0; i < files[f].edits; ++i) {
      text = edited(text, rng, files[(f + 1) % files.size()].text);
      const bool had_memo = !memo.empty();
      auto inc = extract_skeleton(text, memo);
      auto fresh = extract_skeleton(text);
      const bool clean = fresh && fresh->syntax_issue_count == 0;
      if (inc) {
        // From the kept parse exactly when both texts parse without errors.
        CHECK(memo.incremental() == (had_memo && clean && clean_before));
        incremental += memo.incremental() ? 1 : 0;
        both_clean += had_memo && clean && clean_before ? 1 : 0;
        reused += memo.reused_definitions();
      } else {
        CHECK(memo.empty());  // a failed parse leaves nothing to start from
      }
      clean_before = clean;
      require_same(fresh, inc, files[f].name + " after edit " + std::to_string(i + 1));
      ++edits;
    }
  }
  INFO("edits " << edits << ", incremental " << incremental << ", definitions reused " << reused);
  CHECK(edits >= 1000);
  // Most of these edits break the syntax (then the parse is fresh); the next test keeps it valid.
  CHECK(incremental == both_clean);
  CHECK(incremental > 0);
  CHECK(reused > 0);
}

// Edits that keep a file valid, as most of a person's or an agent's do: top-level definitions
// outside the edit come from the previous parse (lines moved), and the skeleton is still exactly
// the fresh parse's.
TEST_CASE(
    "incremental parse: top-level definitions the edit leaves alone are reused, lines moved, the "
    "skeleton the fresh parse's",
    "[ast][incremental]") {
  const std::string v1 =
      "import os\n\n\ndef a():\n    return 1\n\n\n@dec(1)\ndef b(x: int) -> int:\n"
      "    '''Doc of b.'''\n    return x\n\n\nclass C(Base):\n    y = 1\n\n    def m(self):\n"
      "        return 2\n\n\ndef d():\n    pass\n";
  ParseMemo memo;
  REQUIRE(extract_skeleton(v1, memo));
  CHECK(memo.reused_definitions() == 0);
  // Parse `text` from the memo: the fresh parse's skeleton, `reused` definitions taken.
  const auto step = [&](const std::string& text, std::size_t reused, const std::string& what) {
    auto s = extract_skeleton(text, memo);
    REQUIRE(s);
    INFO(what);
    CHECK(memo.reused_definitions() == reused);
    require_same(extract_skeleton(text), s, what);
    return *s;
  };
  // Inside a(), on its line: b, C and d are taken as they were.
  std::string v2 = v1;
  v2.replace(v2.find("return 1"), 8, "return 10");
  step(v2, 3, "a value in a()");
  // Two lines more in a(): b, C and d move down by two.
  std::string v3 = v2;
  v3.insert(v3.find("    return 10"), "    z = 3\n    w = 4\n");
  const Skeleton s3 = step(v3, 3, "two lines added to a()");
  CHECK(s3.definitions.at(2).name == "C");
  CHECK(s3.definitions.at(2).children.at(0).line == 19);
  // A line more in C's method: a and b before it, d after it.
  std::string v4 = v3;
  v4.insert(v4.find("        return 2\n"), "        pass\n");
  step(v4, 3, "C's method");
  // A line less in C.
  std::string v5 = v4;
  v5.erase(v5.find("    y = 1\n"), 10);
  step(v5, 3, "a line less in C");
  // A decorator changed: b walked again, its decorated line too.
  std::string v6 = v5;
  v6.replace(v6.find("@dec(1)"), 7, "@dec(2)\n@other");
  step(v6, 3, "b's decorators");
  // An edit that opens a string to the end of the file: nothing after it is the same syntax.
  std::string v7 = v6;
  v7.insert(v7.find("def a"), "x = '''\n");
  step(v7, 0, "an open string");
  // Back to valid: a tree with errors kept no definitions, so nothing is reused yet.
  step(v6, 0, "closed again");
  step(v5, 3, "and the decorator back");
  // The edit starts at a definition's last byte (a file without a final newline): not reused.
  ParseMemo tail;
  REQUIRE(extract_skeleton("def f():\n    pass\n\n\nclass K:\n    y = 1", tail));
  auto last = extract_skeleton("def f():\n    pass\n\n\nclass K:\n    y = 2", tail);
  REQUIRE(last);
  CHECK(tail.reused_definitions() == 1);
  require_same(extract_skeleton("def f():\n    pass\n\n\nclass K:\n    y = 2"), last,
               "K's last byte");
  CHECK(last->definitions.at(1).attributes.at(0).value == "2");

  // Real modules and the golden fixtures, with edits that keep them parseable: a comment line
  // indented as the line after it, a blank line, a digit changed, a line of a body deleted.
  std::vector<std::pair<std::string, std::string>> files;
  for (const char* m : {"tempfile.py", "argparse.py", "string.py", "json/decoder.py"}) {
    const fs::path p = fs::path("/usr/lib/python3.11") / m;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) files.emplace_back(m, trifecta::test::read_text(p));
  }
  if (files.empty()) WARN("no /usr/lib/python3.11 modules on this machine: the fixtures only");
  // The golden fixtures too: a BOM, CRLF line ends, tabs, Latin-1 and invalid UTF-8 (decoded
  // before the parse: the edit and the reused bytes are the decoded text's), syntax errors.
  for (const Fixture& x : golden_fixtures()) files.emplace_back(x.name, x.text);
  std::size_t edits = 0, reused = 0, tops = 0;
  for (std::size_t f = 0; f < files.size(); ++f) {
    std::mt19937 rng(static_cast<std::uint32_t>(7 + f));
    const auto pick = [&](std::size_t n) {
      return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    };
    std::string text = files[f].second;
    ParseMemo m;
    REQUIRE(extract_skeleton(text, m));
    bool clean_before = true;
    for (int i = 0; i < 40; ++i) {
      std::vector<std::size_t> starts{0};  // line starts
      for (std::size_t k = text.find('\n'); k != std::string::npos && k + 1 < text.size();
           k = text.find('\n', k + 1))
        starts.push_back(k + 1);
      const std::size_t at = starts[pick(starts.size())];
      const std::size_t eol = std::min(text.find('\n', at), text.size());
      const std::string line = text.substr(at, eol - at);
      const std::string indent = line.substr(0, line.find_first_not_of(" \t"));
      switch (i % 4) {
        case 0:
          text.insert(at, indent + "# note " + std::to_string(i) + "\n");
          break;
        case 1:
          text.insert(at, "\n");
          break;
        case 2: {
          const std::size_t digit = text.find_first_of("0123456789", at);
          if (digit != std::string::npos)
            text[digit] = static_cast<char>('0' + (text[digit] - '0' + 1) % 10);
          break;
        }
        default:
          if (!indent.empty() && line.find_first_not_of(" \t") != std::string::npos &&
              line.find_first_of("([{:\\'\"") == std::string::npos && eol < text.size())
            text.erase(at, eol + 1 - at);
      }
      auto inc = extract_skeleton(text, m);
      require_same(extract_skeleton(text), inc,
                   files[f].first + " after edit " + std::to_string(i + 1));
      ++edits;
      // The statements the reuse is for: `def`/`class` directly in the module (those in a
      // top-level if/try block are conditional and always walked), less the one edited, when
      // this text and the one before parsed without errors (a deleted line may leave a block
      // empty: then nothing is reused, nor in the edit after it).
      const bool clean = inc && inc->syntax_issue_count == 0;
      CHECK(m.incremental() == (clean && clean_before));
      if (clean && clean_before) {
        const auto direct = static_cast<std::size_t>(
            std::count_if(inc->definitions.begin(), inc->definitions.end(),
                          [](const Definition& d) { return !d.conditional; }));
        tops += direct > 0 ? direct - 1 : 0;
        reused += m.reused_definitions();
      }
      clean_before = clean;
    }
  }
  INFO("edits " << edits << ", top-level definitions not edited " << tops << ", reused " << reused);
  if (!files.empty())
    CHECK(reused >= tops);  // every one (and all of them when no definition was edited)
}

// tree-sitter recovers from syntax errors differently when it parses from an edited tree: in this
// damaged text (what fuzz_extractor found, renamed) 282 of the slices up to 40 bytes, put back,
// gave an error region a line shorter or other identifiers than the fresh parse. Texts with
// errors are therefore parsed fresh: every one of them must give the fresh parse's skeleton.
TEST_CASE("incremental parse: text with syntax errors gives the fresh parse's skeleton",
          "[ast][incremental]") {
  const std::string after =
      "        if items0][:2] == '++':\n"
      "            a, b = run_long(a, items[0][2:], names, items[1:])\n"
      "        elif items[0]:1] == '+' and items[0] != '+':\n"
      "a, b = run_short(a, items[0][1:], letters, items[1:])\n"
      "        else:\n"
      "if every_first:";
  std::size_t edits = 0;
  for (std::size_t at = 0; at < after.size(); ++at) {
    for (std::size_t cut = 1; cut <= 40 && at + cut <= after.size(); cut += 3) {
      ParseMemo memo;
      REQUIRE(extract_skeleton(after.substr(0, at) + after.substr(at + cut), memo));
      const auto inc = extract_skeleton(after, memo);
      CHECK_FALSE(memo.incremental());
      require_same(extract_skeleton(after), inc,
                   "slice " + std::to_string(at) + "+" + std::to_string(cut));
      ++edits;
    }
  }
  CHECK(edits > 1500);
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
