// lib/index: tokenizer, chunkers, BM25F ranking, did_you_mean, and SegmentIndex (build, skip
// reasons, incremental updates, watcher sync, validate, persistence / warm restart).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "../support/temp_dir.hpp"
#include "ast/skeleton_cache.hpp"
#include "index/centrality.hpp"
#include "index/chunk.hpp"
#include "index/inverted_index.hpp"
#include "index/json.hpp"
#include "index/ranking.hpp"
#include "index/segment_index.hpp"
#include "index/tokenizer.hpp"
#include "lang/python/extractor.hpp"
#include "lang/python/symbol_index.hpp"
#include "selector/resolver.hpp"
#include "telemetry/sink.hpp"
#include "util/hash.hpp"

using namespace trifecta::core;
using namespace trifecta::core::index;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

using trifecta::test::write_text;

std::vector<std::string> ids(const std::vector<Chunk>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.id);
  return out;
}

std::vector<Chunk> chunk_py(std::string_view rel, std::string_view src) {
  auto sk = ast::extract_skeleton(src);
  REQUIRE(sk.ok());
  return chunk_python(rel, src, *sk);
}

// Index a set of in-memory files.
InvertedIndex index_of(const std::vector<std::pair<std::string, std::string>>& files) {
  InvertedIndex idx;
  for (const auto& [path, text] : files) {
    std::vector<Chunk> chunks;
    if (file_type_of(path) == FileType::kPython) {
      chunks = chunk_py(path, text);
    } else {
      chunks = chunk_file(path, text, nullptr);
    }
    std::vector<ChunkTerms> terms;
    const auto starts = line_starts(text);
    for (const auto& c : chunks)
      terms.push_back(analyze_chunk(c, line_span(text, starts, c.start_line, c.end_line)));
    idx.replace_file(path, std::move(chunks), std::move(terms));
  }
  return idx;
}

std::string lines(int n, std::string_view prefix = "line") {
  std::string s;
  for (int i = 1; i <= n; ++i) s += std::string(prefix) + " " + std::to_string(i) + "\n";
  return s;
}

}  // namespace

TEST_CASE("tokenizer splits identifiers and keeps the whole word") {
  CHECK(tokenize("JSONDecodeError") ==
        std::vector<std::string>{"jsondecodeerror", "json", "decode", "error"});
  CHECK(tokenize("json_decode") == std::vector<std::string>{"json_decode", "json", "decode"});
  CHECK(tokenize("__init__") == std::vector<std::string>{"init"});
  CHECK(tokenize("parseHTTPResponse") ==
        std::vector<std::string>{"parsehttpresponse", "parse", "http", "response"});
  CHECK(tokenize("sha256 utf8") == std::vector<std::string>{"sha256", "sha", "utf8", "utf"});
  CHECK(tokenize("error 404 x 1234567890123") == std::vector<std::string>{"error", "404"});
  CHECK(tokenize("Café naïve") == std::vector<std::string>{"café", "naïve"});
  CHECK(query_terms("decode Decode DECODE") == std::vector<std::string>{"decode"});
  CHECK(tokenize("a = b + c").empty());
}

TEST_CASE(
    "tokenizer: Unicode punctuation, symbols and spaces separate words, letters stay inside") {
  using V = std::vector<std::string>;
  // Typographic quotes and apostrophes (Sphinx writes them into every reference page).
  CHECK(tokenize("\u201cpretty-print\u201d") == V{"pretty", "print"});
  CHECK(tokenize("the process\u2019s user id") == V{"the", "process", "user", "id"});
  CHECK(tokenize("\u2018quoted\u2019 \u00abguillemets\u00bb") == V{"quoted", "guillemets"});
  // Dashes, the ellipsis, no-break and em spaces, arrows, operators, CJK and fullwidth marks,
  // emoji.
  CHECK(tokenize("read\u2014write\u2013only\u2026done") == V{"read", "write", "only", "done"});
  CHECK(tokenize("no\u00a0break\u2003em\u3000wide") == V{"no", "break", "em", "wide"});
  CHECK(tokenize("a\u2192b x\u2264y parse\u2192tree") == V{"parse", "tree"});
  CHECK(tokenize("\u3010\u8868\u3011\uff08data\uff09\U0001F600ok") == V{"\u8868", "data", "ok"});
  CHECK(tokenize("\ufeffbom") == V{"bom"});
  // Camel case still splits after a separator.
  CHECK(tokenize("\u201cJSONDecodeError\u201d") == V{"jsondecodeerror", "json", "decode", "error"});
  // Letters and Python identifier characters stay inside words: accents, Greek, CJK, the middle
  // dot and connector punctuation (both valid in identifiers), the micro sign.
  CHECK(tokenize("caf\u00e9 \u03bb\u03cc\u03b3\u03bf\u03c2 \u6570\u636e") ==
        V{"caf\u00e9", "\u03bb\u03cc\u03b3\u03bf\u03c3", "\u6570\u636e"});  // final ς folded
  CHECK(tokenize("l\u00b7l a\u203fb \u00b5s") == V{"l\u00b7l", "a\u203fb", "\u00b5s"});
  // Two-byte capitals are folded (tok-3): Latin-1, Latin Extended-A, Greek (final sigma too),
  // Cyrillic; not the dotted İ, ß or other scripts. A mixed word folds whole; camel case splits
  // at ASCII capitals only, and a non-ASCII letter is never one side of a boundary (`ÜBER` is
  // one word, not ü|ber).
  CHECK(tokenize("\u00dcber \u00fcber \u00dcBER") == V{"\u00fcber", "\u00fcber", "\u00fcber"});
  CHECK(tokenize("\u0141\u00d3D\u0179") == V{"\u0142\u00f3d\u017a"});  // ŁÓDŹ → łódź
  CHECK(tokenize("\u039b\u038c\u0393\u039f\u03a3 \u03bb\u03cc\u03b3\u03bf\u03c2") ==
        V{"\u03bb\u03cc\u03b3\u03bf\u03c3", "\u03bb\u03cc\u03b3\u03bf\u03c3"});  // ΛΌΓΟΣ, λόγος
  CHECK(tokenize("\u041f\u0420\u0418\u0412\u0415\u0422 \u0401\u0436") ==
        V{"\u043f\u0440\u0438\u0432\u0435\u0442", "\u0451\u0436"});  // ПРИВЕТ, Ёж
  CHECK(tokenize("\u0130stanbul Stra\u00dfe") == V{"\u0130stanbul", "stra\u00dfe"});
  CHECK(tokenize("berechneGr\u00f6\u00dfe") ==
        V{"berechnegr\u00f6\u00dfe", "berechne", "gr\u00f6\u00dfe"});
  CHECK(tokenize("\u00c4nderungZ\u00e4hler") ==
        V{"\u00e4nderungz\u00e4hler", "\u00e4nderung", "z\u00e4hler"});
  CHECK(whole_word_token("\u00dcber_Gr\u00d6SSE") ==
        std::optional<std::string>("\u00fcber_gr\u00f6sse"));
  // Bytes that are not UTF-8 stay inside words, as before (a query is not checked).
  CHECK(tokenize(std::string("ab\xff\xfe") + "cd \xe2\x80") == V{"ab\xff\xfe"
                                                                 "cd",
                                                                 "\xe2\x80"});
  CHECK(tokenize("x\xe2\x80") == V{"x\xe2\x80"});
  // space_at: ASCII whitespace and the Unicode spaces, nothing else.
  CHECK(space_at(" x", 0) == 1);
  CHECK(space_at("\tx", 0) == 1);
  CHECK(space_at("\u00a0x", 0) == 2);
  CHECK(space_at("\u2009x", 0) == 3);
  CHECK(space_at("\u3000x", 0) == 3);
  CHECK(space_at("\u2014x", 0) == 0);
  CHECK(space_at("\u201cx", 0) == 0);
  CHECK(space_at("\U0001F600x", 0) == 0);
  CHECK(space_at("ax", 0) == 0);
  CHECK(space_at("a", 1) == 0);
}

TEST_CASE("whole_word_token is the first token a word yields, or none") {
  CHECK(whole_word_token("JSONDecodeError") == std::optional<std::string>("jsondecodeerror"));
  CHECK(whole_word_token("__raw_decode__") == std::optional<std::string>("raw_decode"));
  CHECK(whole_word_token("Café") == std::optional<std::string>("café"));
  CHECK(whole_word_token("404") == std::optional<std::string>("404"));
  CHECK_FALSE(whole_word_token("1234567890123").has_value());
  CHECK_FALSE(whole_word_token("x").has_value());
  CHECK_FALSE(whole_word_token("_x_").has_value());
  CHECK_FALSE(whole_word_token(std::string(65, 'a')).has_value());
  // Whenever there is one, tokenize emits it first for the same word.
  for (const char* w : {"JSONDecodeError", "json_decode", "__init__", "sha256", "parseHTTPResponse",
                        "naïve", "404"}) {
    const auto t = whole_word_token(w);
    REQUIRE(t.has_value());
    const auto all = tokenize(w);
    REQUIRE_FALSE(all.empty());
    CHECK(all.front() == *t);
  }
}

TEST_CASE("python chunks: module header, functions, classes, main block, stable ids") {
  const std::string src =
      "\"\"\"Module doc.\"\"\"\n"
      "import os\n"
      "X = 1\n"
      "\n"
      "def top(a, b):\n"
      "    return a + b\n"
      "\n"
      "@decorator\n"
      "class Thing(Base):\n"
      "    \"\"\"A thing.\"\"\"\n"
      "    def method(self):\n"
      "        pass\n"
      "\n"
      "if __name__ == '__main__':\n"
      "    top(1, 2)\n";
  auto cs = chunk_py("pkg/mod.py", src);
  CHECK(ids(cs) == std::vector<std::string>{"pkg/mod.py#<module>", "pkg/mod.py#top",
                                            "pkg/mod.py#Thing", "pkg/mod.py#<main>"});
  CHECK(cs[0].start_line == 1);
  CHECK(cs[0].end_line == 3);
  CHECK(cs[1].start_line == 5);
  CHECK(cs[1].end_line == 6);
  CHECK(cs[2].start_line == 8);  // decorator included
  CHECK(cs[2].end_line == 12);
  CHECK(cs[2].role == ChunkRole::kClass);
  CHECK(cs[3].start_line == 14);
  CHECK(cs[1].kind == ChunkKind::kCode);
  CHECK(cs[1].tokens == (cs[1].bytes + 3) / 4);
  CHECK(cs[1].sha256.size() == 64);

  // Ids and hashes of untouched definitions survive an edit elsewhere in the file.
  std::string edited = src;
  edited.insert(edited.find("def top"), "def added():\n    pass\n\n");
  auto cs2 = chunk_py("pkg/mod.py", edited);
  auto find = [](const std::vector<Chunk>& v, const std::string& id) {
    return *std::find_if(v.begin(), v.end(), [&](const Chunk& c) { return c.id == id; });
  };
  CHECK(find(cs2, "pkg/mod.py#Thing").sha256 == find(cs, "pkg/mod.py#Thing").sha256);
  CHECK(find(cs2, "pkg/mod.py#top").start_line == 8);
}

TEST_CASE("python chunks: large classes are split per method, each carrying the class header") {
  std::string src = "class Big(object):\n    \"\"\"Doc.\"\"\"\n    attr = 1\n\n";
  for (int m = 0; m < 20; ++m) {
    src += "    def m" + std::to_string(m) + "(self):\n";
    for (int l = 0; l < 9; ++l) src += "        x = " + std::to_string(l) + "\n";
    src += "\n";
  }
  auto cs = chunk_py("big.py", src);
  REQUIRE(cs.size() == 21);
  CHECK(cs[0].id == "big.py#Big");
  CHECK(cs[0].start_line == 1);
  CHECK(cs[0].end_line == 3);
  CHECK(cs[1].id == "big.py#Big.m0");
  CHECK(cs[1].role == ChunkRole::kMethod);
  CHECK(cs[1].context == "class Big(object):");
  CHECK(cs[20].id == "big.py#Big.m19");
  for (std::size_t i = 1; i < cs.size(); ++i) CHECK(cs[i].start_line > cs[i - 1].end_line);
}

TEST_CASE("python chunks: class-level code after a method of a split class is a chunk of its own") {
  // A lexer-like class: two helper methods, then a 200-line `tokens` table, then one more method
  // preceded by an alias (short class-level code stays with the method above it), and a
  // conditional method pair whose `if`/`else:` lines stay with the methods.
  std::string src =
      "class Lexer(Base):\n    name = 'x'\n\n    def rules(kind):\n        return [kind]\n\n";
  src += "    def more(kind):\n        return [kind, kind]\n    other = more\n\n";
  src += "    # The states.\n    tokens = {\n";
  for (int k = 0; k < 130; ++k) {
    src += "        's" + std::to_string(k) +
           "': [\n            (r'[a-z_][a-z0-9_]*\\s*', Name.Variable),\n        ],\n";
  }
  src += "    }\n    flags = 0\n\n";
  src += "    def analyse(text):\n        return 0.5\n    check = analyse\n\n";
  src +=
      "    if WINDOWS:\n        def run(self):\n            return 1\n    else:\n        def "
      "run(self):\n            return 2\n";
  auto cs = chunk_py("lexers/x.py", src);
  const auto starts = line_starts(src);
  std::vector<std::string> got = ids(cs);
  CHECK(got == std::vector<std::string>{"lexers/x.py#Lexer", "lexers/x.py#Lexer.rules",
                                        "lexers/x.py#Lexer.more", "lexers/x.py#Lexer.tokens",
                                        "lexers/x.py#Lexer.tokens~2", "lexers/x.py#Lexer.analyse",
                                        "lexers/x.py#Lexer.run", "lexers/x.py#Lexer.run-2"});
  REQUIRE(cs.size() == 8);
  // The alias stays with `more`; the table starts at its comment and ends with `flags = 0`.
  CHECK(std::string(line_span(src, starts, cs[2].end_line, cs[2].end_line)) ==
        "    other = more\n");
  CHECK(std::string(line_span(src, starts, cs[3].start_line, cs[3].start_line)) ==
        "    # The states.\n");
  CHECK(std::string(line_span(src, starts, cs[4].end_line, cs[4].end_line)) == "    flags = 0\n");
  CHECK(cs[3].role == ChunkRole::kMethod);
  CHECK(cs[3].title == "Lexer.tokens");
  CHECK(cs[3].title_path == std::vector<std::string>{"Lexer", "tokens"});
  CHECK(cs[3].context == "class Lexer(Base):");
  CHECK(cs[3].signature.empty());
  CHECK(cs[4].title == "Lexer.tokens (part 2)");
  // `check = analyse` and `if WINDOWS:` (two lines of code) stay with `analyse`.
  CHECK(std::string(line_span(src, starts, cs[5].end_line, cs[5].end_line)) == "    if WINDOWS:\n");
  CHECK(std::string(line_span(src, starts, cs[6].start_line, cs[6].start_line)) ==
        "        def run(self):\n");
  for (std::size_t i = 1; i < cs.size(); ++i) CHECK(cs[i].start_line > cs[i - 1].end_line);
  CHECK(cs.back().end_line == static_cast<int>(std::count(src.begin(), src.end(), '\n')));

  // A long block of attribute declarations (each with its docstring) is cut into runs as
  // top-level code is, each named after its first attribute; a run assigning nothing is
  // `<Class>+L<line>` titled after the member it follows.
  std::string decl = "class Mapper:\n    def __init__(self):\n        pass\n\n";
  for (int k = 0; k < 40; ++k) {
    decl += "    attr_" + std::to_string(k) + " = None\n    \"\"\"Attribute " + std::to_string(k) +
            ".\n\n    More.\n    \"\"\"\n\n";
  }
  decl +=
      "    def later(self):\n        pass\n\n    register(one)\n    register(two)\n    "
      "register(three)\n"
      "    register(four)\n";
  for (int k = 0; k < 30; ++k)
    decl += "    def m" + std::to_string(k) + "(self):\n        pass\n\n";
  auto ds = chunk_py("orm/mapper.py", decl);
  const auto dstarts = line_starts(decl);
  std::vector<std::string> runs;
  for (const auto& c : ds) {
    if (c.id.find("attr_") != std::string::npos || c.id.find("+L") != std::string::npos)
      runs.push_back(c.id);
  }
  REQUIRE(runs.size() >= 4);
  CHECK(runs[0] == "orm/mapper.py#Mapper.attr_0");
  for (const auto& c : ds) {
    INFO(c.id);
    CHECK(c.end_line - c.start_line + 1 <= kModuleRunLines + 8);
    if (c.id.find("attr_") == std::string::npos) continue;
    // A run starts at an attribute, never inside its docstring.
    CHECK(std::string(line_span(decl, dstarts, c.start_line, c.start_line)).rfind("    attr_", 0) ==
          0);
    const std::string first(line_span(decl, dstarts, c.start_line, c.start_line));
    CHECK(c.id == "orm/mapper.py#Mapper." + first.substr(4, first.find(" = ") - 4));
  }
  CHECK(runs.back().rfind("orm/mapper.py#Mapper+L", 0) == 0);
  for (const auto& c : ds) {
    if (c.id == runs.back()) CHECK(c.title == "Mapper (code after later)");
  }

  // A class at most kLargeClassLines long stays whole, table and all.
  auto small = chunk_py(
      "s.py",
      "class S:\n    def f(self):\n        pass\n    a = 1\n    b = 2\n    c = 3\n    d = 4\n");
  CHECK(ids(small) == std::vector<std::string>{"s.py#S"});
}

TEST_CASE("markdown chunks: headings, fences, nested title paths, duplicate slugs, CRLF") {
  const std::string md =
      "Intro text\r\n"
      "\r\n"
      "# Guide\r\n"
      "Welcome.\r\n"
      "## Installation\r\n"
      "```bash\r\n"
      "# not a heading\r\n"
      "pip install x\r\n"
      "```\r\n"
      "~~~\r\n"
      "## also not a heading\r\n"
      "~~~\r\n"
      "### From source\r\n"
      "Build it.\r\n"
      "## Installation\r\n"
      "Again.\r\n"
      "# Other\r\n";
  auto cs = chunk_markdown("docs/guide.md", md);
  CHECK(ids(cs) == std::vector<std::string>{"docs/guide.md#<preamble>", "docs/guide.md#guide",
                                            "docs/guide.md#installation",
                                            "docs/guide.md#from-source",
                                            "docs/guide.md#installation-2", "docs/guide.md#other"});
  CHECK(cs[2].start_line == 5);
  CHECK(cs[2].end_line == 12);
  CHECK(cs[3].title_path == std::vector<std::string>{"Guide", "Installation", "From source"});
  CHECK(cs[5].title_path == std::vector<std::string>{"Other"});
  CHECK(cs[1].kind == ChunkKind::kDoc);
  CHECK(cs[1].preview == "Welcome.");
}

TEST_CASE("text windows are at most 60 lines and cut at blank lines, huge files chunk fully") {
  std::string text;
  for (int i = 1; i <= 200; ++i)
    text += (i % 25 == 0) ? "\n" : "key" + std::to_string(i) + " = v\n";
  auto cs = chunk_text("setup.cfg", text, ChunkKind::kOther);
  REQUIRE(!cs.empty());
  CHECK(cs[0].id == "setup.cfg#L1-50");
  int expect = 1;
  for (const auto& c : cs) {
    CHECK(c.start_line == expect);
    CHECK(c.end_line - c.start_line + 1 <= kWindowLines);
    expect = c.end_line + 1;
  }
  CHECK(expect == 201);
  // A huge file without blank lines: fixed 60-line windows, every line covered.
  auto huge = chunk_text("big.txt", lines(100000), ChunkKind::kOther);
  CHECK(huge.size() == 1667);
  CHECK(huge.back().end_line == 100000);
}

TEST_CASE("ranking: a definition named like the query outranks body mentions") {
  auto idx = index_of({
      {"a/user.py",
       "def helper():\n    # we decode here, decode there, decode everywhere\n    return "
       "decode(x)\n"},
      {"b/codec.py", "def decode(data):\n    \"\"\"Decode bytes.\"\"\"\n    return data\n"},
      {"c/notes.md", "# Notes\nSomething about decoding.\n"},
  });
  SearchOptions o;
  o.query = "decode";
  auto r = idx.search(o);
  REQUIRE(r.ok());
  REQUIRE(r->hits.size() >= 2);
  CHECK(r->hits[0].chunk.id == "b/codec.py#decode");
  CHECK(r->hits[1].chunk.id == "a/user.py#helper");
  CHECK(r->hits[0].score > r->hits[1].score);
  CHECK(r->hits[0].chunk.preview == "def decode(data):");
}

TEST_CASE("ranking: ties are broken deterministically by path then line") {
  auto idx =
      index_of({{"z.txt", "alpha beta\n"}, {"a.txt", "alpha beta\n"}, {"m.txt", "alpha beta\n"}});
  SearchOptions o;
  o.query = "alpha";
  for (int round = 0; round < 3; ++round) {
    auto r = idx.search(o);
    REQUIRE(r.ok());
    REQUIRE(r->hits.size() == 3);
    CHECK(r->hits[0].score == r->hits[1].score);
    CHECK(r->hits[0].chunk.path == "a.txt");
    CHECK(r->hits[1].chunk.path == "m.txt");
    CHECK(r->hits[2].chunk.path == "z.txt");
  }
}

TEST_CASE("search options: limit, path glob, kind filter, explain sums to the score") {
  auto idx = index_of({
      {"src/json/decoder.py", "class JSONDecoder:\n    def decode(self, s):\n        return s\n"},
      {"docs/json.md", "# JSON decoding\nUse JSONDecoder to decode.\n"},
      {"tests/test_json.py", "def test_decode():\n    JSONDecoder().decode('1')\n"},
  });
  SearchOptions o;
  o.query = "JSONDecoder decode";
  o.explain = true;
  auto all = idx.search(o);
  REQUIRE(all.ok());
  CHECK(all->hits.size() == 3);
  CHECK(all->hits[0].chunk.id == "src/json/decoder.py#JSONDecoder");
  for (const auto& h : all->hits) {
    double sum = 0;
    for (const auto& c : h.explain) sum += c.score;
    CHECK(sum == Approx(h.score));
  }
  o.limit = 1;
  CHECK(idx.search(o)->hits.size() == 1);
  o.limit = 10;
  o.kind = ChunkKind::kDoc;
  auto docs = idx.search(o);
  REQUIRE(docs->hits.size() == 1);
  CHECK(docs->hits[0].chunk.path == "docs/json.md");
  o.kind.reset();
  o.path_glob = "tests/**";
  auto tests = idx.search(o);
  REQUIRE(tests->hits.size() == 1);
  CHECK(tests->hits[0].chunk.path == "tests/test_json.py");
  o.path_glob = "nothing/**";
  auto none = idx.search(o);
  REQUIRE(none.ok());
  CHECK(none->hits.empty());
  CHECK(none->reason.find("none passed the filters") != std::string::npos);
}

TEST_CASE("search rejects empty and one-character queries, zero hits suggest terms") {
  auto idx = index_of({{"codec.py", "def decode_payload(data):\n    return data\n"}});
  for (const char* q : {"", " ", "x", " y "}) {
    SearchOptions o;
    o.query = q;
    auto r = idx.search(o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::kInvalidArgument);
  }
  SearchOptions o;
  o.query = "!!";
  CHECK_FALSE(idx.search(o).ok());
  o.query = "decdoe";
  o.signals &= ~kSignalTypo;  // with typo tolerance it finds `decode` (ranking_test.cpp)
  auto r = idx.search(o);
  REQUIRE(r.ok());
  CHECK(r->hits.empty());
  CHECK(r->reason.find("decdoe") != std::string::npos);
  CHECK(std::find(r->did_you_mean.begin(), r->did_you_mean.end(), "decode") !=
        r->did_you_mean.end());
  o.query = "payl";  // prefix
  auto p = idx.search(o);
  REQUIRE(p.ok());
  CHECK(std::find(p->did_you_mean.begin(), p->did_you_mean.end(), "payload") !=
        p->did_you_mean.end());
}

TEST_CASE("incremental replace/remove and serialization round trip") {
  auto idx = index_of({{"a.py", "def alpha():\n    pass\n"}, {"b.py", "def beta():\n    pass\n"}});
  CHECK(idx.chunk_count() == 2);
  const auto text = std::string("def gamma():\n    pass\n");
  auto cs = chunk_py("a.py", text);
  std::vector<ChunkTerms> terms;
  for (const auto& c : cs) terms.push_back(analyze_chunk(c, text));
  REQUIRE(!terms.empty());
  auto has = [&](std::string_view want, std::size_t field) {
    for (const auto& t : terms[0].terms) {
      if (terms[0].term(t) == want) return t.tf[field] > 0;
    }
    return false;
  };
  CHECK(has("gamma", kFieldName));
  CHECK(has("gamma", kFieldBody));
  CHECK(has("py", kFieldPath));
  CHECK_FALSE(has("gamma", kFieldPath));
  idx.replace_file("a.py", cs, terms);
  SearchOptions o;
  o.query = "alpha";
  CHECK(idx.search(o)->hits.empty());
  o.query = "gamma";
  CHECK(idx.search(o)->hits.size() == 1);
  CHECK_FALSE(idx.find("a.py#alpha").has_value());
  CHECK(idx.find("a.py#gamma").has_value());
  std::string blob;
  idx.serialize(blob);
  InvertedIndex copy;
  REQUIRE(copy.deserialize(blob).ok());
  CHECK(copy.chunk_count() == 2);
  CHECK(copy.search(o)->hits[0].score == Approx(idx.search(o)->hits[0].score));
  // A chunk read back is the chunk stored: its byte offset kept, its tokens ceil(bytes / 4).
  REQUIRE(copy.find("a.py#gamma").has_value());
  CHECK(copy.find("a.py#gamma")->offset == idx.find("a.py#gamma")->offset);
  CHECK(copy.find("a.py#gamma")->tokens == (copy.find("a.py#gamma")->bytes + 3) / 4);
  idx.remove_file("a.py");
  CHECK(idx.search(o)->hits.empty());
  // Truncations of the blob are refused, never crash.
  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, blob.size() / 2, blob.size() - 1}) {
    InvertedIndex bad;
    CHECK_FALSE(bad.deserialize(std::string_view(blob).substr(0, cut)).ok());
  }
}

TEST_CASE("SegmentIndex: build records skip reasons and never aborts") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "ok.py", "def fine():\n    return 1\n");
  write_text(r / "broken.py", "def broken(:\n    pass\n\ndef after():\n    pass\n");
  write_text(r / "latin1.py", "# caf\xe9\ndef latin():\n    pass\n");
  write_text(r / "bin.dat", std::string("\0\1\2", 3));
  write_text(r / "_ctx/trifecta.json", R"({"max_file_bytes": 4096})");
  write_text(r / "huge.txt", std::string(5000, 'x'));
  write_text(r / "noread.txt", "secret\n");
  ::chmod((r / "noread.txt").c_str(), 0);
  SegmentOptions so;
  so.use_git = false;
  auto seg = SegmentIndex::open(r, so);
  REQUIRE(seg.ok());
  std::size_t last_done = 0, last_total = 0;
  auto b = (*seg)->build([&](std::size_t d, std::size_t n) {
    last_done = d;
    last_total = n;
  });
  REQUIRE(b.ok());
  CHECK_FALSE(b->warm);
  CHECK(last_done == last_total);
  CHECK(last_total == 6);
  auto st = (*seg)->status();
  CHECK(st.skip_reasons["binary"] == 1);
  CHECK(st.skip_reasons["too_large"] == 1);
  if (::geteuid() != 0) CHECK(st.skip_reasons["unreadable"] == 1);
  CHECK(st.files_non_utf8 == 1);
  CHECK((*seg)->file("broken.py")->parse_partial);
  CHECK((*seg)->chunk("ok.py#fine").has_value());
  CHECK((*seg)->chunk("latin1.py#latin").has_value());
  CHECK((*seg)->chunk("broken.py#after").has_value());
  CHECK(st.pack_state.size() == 64);
  CHECK(st.generation >= 1);
  ::chmod((r / "noread.txt").c_str(), 0644);
}

TEST_CASE("SegmentIndex: files_with_word names a superset of the files holding an identifier") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "a.py", "def raw_decode(s):\n    return s\n");
  write_text(r / "b.py", "from a import raw_decode\n# not raw_decoder, not xraw_decode\n");
  write_text(r / "c.py", "RAW_DECODE = 1\nraw_decoder = 2\n");
  write_text(r / "d.md", "Call `raw_decode` to parse.\n");
  write_text(r / "e.py", "def other():\n    pass\n");
  write_text(r / "_ctx/trifecta.json", R"({"max_file_bytes": 4096})");
  write_text(r / "big.py", "raw_decode = 1\n" + std::string(5000, '#'));
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  CHECK_FALSE(seg->files_with_word("raw_decode").has_value());  // not built: cannot tell
  REQUIRE(seg->build().ok());
  // Case-insensitive (tokens are lowercased); whole words only; every skipped file (big.py).
  const std::vector<std::string> want{"a.py", "b.py", "big.py", "c.py", "d.md"};
  CHECK(seg->files_with_word("raw_decode") == want);
  CHECK(seg->files_with_word("__raw_decode__") ==
        want);  // `_` at both ends stripped, as the tokenizer does
  CHECK(seg->files_with_word("nowhere_at_all") == std::vector<std::string>{"big.py"});
  CHECK_FALSE(seg->files_with_word("x").has_value());  // one character: never a token
  CHECK_FALSE(seg->files_with_word("_x_").has_value());
  CHECK_FALSE(seg->files_with_word(std::string(65, 'a')).has_value());
  // It follows the disk.
  write_text(r / "e.py", "def other():\n    return raw_decode\n");
  (void)seg->apply_changes({"e.py"});
  CHECK(seg->files_with_word("raw_decode") ==
        std::vector<std::string>{"a.py", "b.py", "big.py", "c.py", "d.md", "e.py"});
}

TEST_CASE("SegmentIndex: name_reach counts the other Python files using a name in code") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  // a.py defines raw_decode and uses it again; b.py imports it (and mentions it in a comment);
  // c.py holds only other identifiers spelled alike and the word in a string; d.md is prose.
  write_text(r / "a.py",
             "def raw_decode(s):\n    return s\n\n\ndef again():\n    return raw_decode\n");
  write_text(r / "b.py",
             "from a import raw_decode  # raw_decode again\nfrom a import raw_decode as rd\n");
  write_text(r / "c.py", "RAW_DECODE = 1\nraw_decoder = 2\nis_raw_decode = 3\ns = 'raw_decode'\n");
  write_text(r / "d.md", "Call `raw_decode` to parse.\n");
  write_text(r / "e.py", "def other():\n    pass\n");
  write_text(r / "f.py", "def g(x):\n    return x.raw_decode(1)\n");
  SegmentOptions so;
  so.use_git = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  const std::vector<SegmentIndex::NameAsk> asks{{"a.py", "raw_decode"}, {"e.py", "raw_decode"},
                                                {"a.py", "other"},      {"a.py", "nowhere_at_all"},
                                                {"a.py", "x"},          {"a.py", "RAW_DECODE"},
                                                {"zz.py", "raw_decode"}};
  CHECK(seg->name_reach(asks).refs == std::vector<std::uint32_t>(asks.size(), 0));  // not built
  REQUIRE(seg->build().ok());
  const std::size_t memory = seg->memory_bytes();
  auto reach = seg->name_reach(asks);
  CHECK(seg->memory_bytes() > memory);  // the table the first call built is counted
  CHECK(reach.files == 5);              // the Python files
  // Files, not occurrences; not the asking file; exact case; whole identifiers in code only (an
  // attribute counts: f.py); one character is a name too; an unknown asking path excludes none.
  CHECK(reach.refs == std::vector<std::uint32_t>{2, 3, 1, 0, 1, 1, 3});
  // It follows the disk, and a warm start (the names persisted in index.bin) gives the same.
  write_text(r / "e.py", "def other():\n    return raw_decode\n");
  (void)seg->apply_changes({"e.py"});
  fs::remove(r / "c.py");
  (void)seg->apply_changes({"c.py"});
  const std::vector<std::uint32_t> after{3, 3, 1, 0, 1, 0, 4};
  reach = seg->name_reach(asks);
  CHECK(reach.files == 4);
  CHECK(reach.refs == after);
  REQUIRE(seg->persist().ok());
  seg.reset();
  auto warm = std::move(SegmentIndex::open(r, so).value());
  const auto rep = warm->build();
  REQUIRE(rep.ok());
  CHECK(rep->warm);
  CHECK(warm->name_reach(asks).refs == after);
}

TEST_CASE("SegmentIndex: apply_changes re-chunks only what changed, validate finds drift") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "a.py", "def alpha():\n    pass\n");
  write_text(r / "b.py", "def beta():\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  const auto gen0 = seg->generation();
  const auto pack0 = seg->status().pack_state;

  // Touch without content change: nothing re-chunked, generation unchanged.
  write_text(r / "b.py", "def beta():\n    pass\n");
  auto same = seg->apply_changes({"b.py"});
  CHECK(same.unchanged == 1);
  CHECK(same.reindexed == 0);
  CHECK(seg->generation() == gen0);

  write_text(r / "a.py", "def alpha_renamed():\n    pass\n");
  write_text(r / "c.py", "def gamma():\n    pass\n");
  fs::remove(r / "b.py");
  auto v = seg->validate();
  REQUIRE(v.ok());
  CHECK(v->stale == std::vector<std::string>{"a.py"});
  CHECK(v->missing == std::vector<std::string>{"b.py"});
  CHECK(v->added == std::vector<std::string>{"c.py"});

  auto rep = seg->apply_changes({"a.py", "b.py", "c.py"});
  CHECK(rep.reindexed == 1);
  CHECK(rep.removed == 1);
  CHECK(rep.added == 1);
  CHECK(seg->generation() > gen0);
  CHECK(seg->status().pack_state != pack0);
  CHECK_FALSE(seg->chunk("a.py#alpha").has_value());
  CHECK(seg->chunk("a.py#alpha_renamed").has_value());
  CHECK_FALSE(seg->chunk("b.py#beta").has_value());
  CHECK(seg->validate()->ok());
  // Escaping paths are ignored, never read.
  auto esc = seg->apply_changes({"../etc/passwd", "/etc/passwd"});
  CHECK(esc.added == 0);
  // What status derives from the whole index (pack_state, memory, file counts, terms) is cached
  // per change of the index: it follows every change, and memory_bytes() alone answers the same
  // figure.
  const auto mem1 = seg->memory_bytes();
  const auto st1 = seg->status();
  CHECK(st1.memory_bytes == mem1);
  CHECK(st1.files_indexed == 2);
  std::string big;
  for (int i = 0; i < 300; ++i)
    big += "def generated_function_" + std::to_string(i) + "(value):\n    return value\n\n";
  write_text(r / "d.py", big);
  REQUIRE(seg->apply_changes({"d.py"}).added == 1);
  CHECK(seg->memory_bytes() > mem1);
  const auto st2 = seg->status();
  CHECK(st2.memory_bytes == seg->memory_bytes());
  CHECK(st2.pack_state != st1.pack_state);
  CHECK(st2.files_indexed == 3);
  CHECK(st2.terms > st1.terms);  // generated_function_0 … 299: new terms
  fs::remove(r / "d.py");
  REQUIRE(seg->apply_changes({"d.py"}).removed == 1);
  CHECK(seg->status().files_indexed == 2);
  CHECK(seg->status().terms == st1.terms);
  CHECK(seg->status().pack_state == st1.pack_state);  // the records are st1's again
  // The pack_state is the SHA-256 of "<path>\t<sha256>\n" per indexed file, in path order (the
  // files are indexed as written: valid UTF-8), and a settle, which changes no record, keeps it.
  const auto line = [&](const char* name) {
    std::ifstream in(r / name, std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return std::string(name) + "\t" + trifecta::core::sha256_hex(text) + "\n";
  };
  CHECK(st1.pack_state == trifecta::core::sha256_hex(line("a.py") + line("c.py")));
  (void)seg->settle();
  CHECK(seg->status().pack_state == st1.pack_state);
}

TEST_CASE("SegmentIndex: validate writes pack_state.stale_detected to last_run.json") {
  trifecta::test::TempDir t;
  trifecta::test::TempDir tele;
  const fs::path r = fs::canonical(t.path());
  write_text(r / "a.py", "def alpha():\n    pass\n");
  trifecta::core::telemetry::SinkOptions o;
  o.dir_override = tele.path();
  trifecta::core::telemetry::Sink sink(o);
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  so.channel = sink.open_segment(r);
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  auto pack_state = [&] {
    sink.flush();
    return boost::json::parse(trifecta::test::read_text(so.channel.directory() / "last_run.json"))
        .at("pack_state")
        .as_object();
  };
  CHECK_FALSE(pack_state().contains("stale_detected"));  // unknown until a validation ran
  REQUIRE(seg->validate()->ok());
  CHECK(pack_state().at("stale_detected") == false);
  write_text(r / "a.py", "def alpha_renamed():\n    pass\n");
  REQUIRE_FALSE(seg->validate()->ok());
  CHECK(pack_state().at("stale_detected") == true);
}

TEST_CASE("SegmentIndex: sync() applies watcher events before answering") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "a.py", "def alpha():\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  REQUIRE(seg->start_watching().ok());
  SearchOptions o;
  o.query = "zebra";
  CHECK(seg->search(o)->hits.empty());
  write_text(r / "a.py", "def zebra():\n    pass\n");
  fs::create_directories(r / "newpkg");
  write_text(r / "newpkg/z.py", "def zebra_two():\n    pass\n");
  seg->sync();
  auto hits = seg->search(o);
  REQUIRE(hits.ok());
  CHECK(hits->hits.size() == 2);
  fs::remove_all(r / "newpkg");
  seg->sync();
  CHECK(seg->search(o)->hits.size() == 1);
  fs::remove(r / "a.py");
  seg->sync();
  CHECK(seg->search(o)->hits.empty());
  CHECK(seg->status().files_indexed == 0);
}

TEST_CASE(
    "SegmentIndex: a .gitignore edit re-lists the tree, directories ignored whole are not "
    "watched") {
  const bool have_git = std::system("git --version >/dev/null 2>&1") == 0;
  for (const bool use_git : {false, true}) {
    if (use_git && !have_git) {
      WARN("git not installed: the git listing's case is skipped");
      continue;
    }
    CAPTURE(use_git);
    trifecta::test::TempDir t;
    const fs::path r = fs::canonical(t.path());
    write_text(r / ".gitignore", "out/\ntmp*/\n");
    write_text(r / "a.py", "def alpha():\n    pass\n");
    write_text(r / "out/gen.py", "def generatedword():\n    pass\n");
    write_text(r / "keep/k.py", "def keptword():\n    pass\n");
    if (use_git) REQUIRE(std::system(("git -C '" + r.string() + "' init -q").c_str()) == 0);
    SegmentOptions so;
    so.use_git = use_git;
    so.persist = false;
    auto seg = std::move(SegmentIndex::open(r, so).value());
    REQUIRE(seg->start_watching().ok());  // armed before the build, as the daemon does
    REQUIRE(seg->build().ok());
    CHECK(seg->status().source == (use_git ? "git" : "walk"));
    CHECK(seg->watched_dirs() == 2);  // the root and keep/; out/ is ignored whole
    CHECK(seg->status().watched_dirs == 2);
    SearchOptions o;
    const auto hits = [&](std::string q) {
      o.query = std::move(q);
      return seg->search(o)->hits.size();
    };
    CHECK(hits("generatedword") == 0);
    CHECK(hits("keptword") == 1);
    // Writes into the ignored directory queue nothing.
    write_text(r / "out/gen.py", "def generatedword():\n    return 2\n");
    CHECK(seg->sync().changed_files() == 0);
    // A directory made later that the rules ignore is not watched either; another one is.
    write_text(r / "tmp1/deep/t.py", "def tmpword():\n    pass\n");
    write_text(r / "src/s.py", "def srcword():\n    pass\n");
    CHECK(seg->sync().changed_files() == 1);
    CHECK(seg->watched_dirs() == 3);  // the root, keep/, src/
    CHECK(seg->status().watched_dirs == 3);
    write_text(r / "tmp1/deep/t2.py", "def tmpword():\n    pass\n");
    write_text(r / "src/s2.py", "def srcword():\n    pass\n");
    CHECK(seg->sync().changed_files() == 1);
    CHECK(hits("tmpword") == 0);
    CHECK(hits("srcword") == 2);
    fs::remove_all(r / "src");
    seg->sync();

    // The rules change: keep/ is ignored now, out/ no longer.
    write_text(r / ".gitignore", "keep/\ntmp*/\n");
    const auto rep = seg->sync();
    CHECK(rep.rescanned);
    CHECK(hits("keptword") == 0);
    CHECK(hits("generatedword") == 1);
    CHECK(seg->watched_dirs() == 2);  // the root and out/
    write_text(r / "out/newer.py", "def newerword():\n    pass\n");
    seg->sync();
    CHECK(hits("newerword") == 1);
    write_text(r / "keep/k2.py", "def keptword2():\n    pass\n");
    seg->sync();
    CHECK(hits("keptword2") == 0);
    CHECK(seg->validate()->ok());

    // A watcher started after the build skips what that build's listing found ignored.
    auto seg2 = std::move(SegmentIndex::open(r, so).value());
    REQUIRE(seg2->build().ok());
    REQUIRE(seg2->start_watching().ok());
    CHECK(seg2->watched_dirs() == 2);
    // The .gitignore removed: everything is listed and watched again.
    fs::remove(r / ".gitignore");
    CHECK(seg2->sync().rescanned);
    CHECK(seg2->watched_dirs() == 5);  // the root, keep/, out/, tmp1/, tmp1/deep/
    CHECK(seg2->status().watched_dirs == 5);
    o.query = "keptword";
    CHECK(seg2->search(o)->hits.size() == 2);  // keep/k.py and keep/k2.py
  }
}

TEST_CASE("SegmentIndex: persistence gives a warm restart that rereads only edited files") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  for (int i = 0; i < 20; ++i)
    write_text(r / ("m" + std::to_string(i) + ".py"),
               "def f" + std::to_string(i) + "():\n    pass\n");
  write_text(r / "bin.dat", std::string("\0", 1));
  SegmentOptions so;
  so.use_git = false;
  std::string pack;
  std::uint64_t gen = 0;
  {
    auto seg = std::move(SegmentIndex::open(r, so).value());
    auto b = seg->build();
    REQUIRE(b.ok());
    CHECK(b->files_read == 21);
    pack = seg->status().pack_state;
    gen = seg->generation();
  }
  CHECK(fs::exists(r / "_ctx/cache/index.bin"));
  {
    auto seg = std::move(SegmentIndex::open(r, so).value());
    auto b = seg->build();
    REQUIRE(b.ok());
    CHECK(b->warm);
    CHECK(b->files_read == 0);
    CHECK(b->files_reused == 21);
    CHECK(seg->status().pack_state == pack);
    CHECK(seg->generation() == gen);
    CHECK(seg->status().skip_reasons["binary"] == 1);
    SearchOptions o;
    o.query = "f7";
    CHECK(seg->search(o)->hits.at(0).chunk.id == "m7.py#f7");
  }
  // Edit one file (content and size change), delete one, add one.
  write_text(r / "m3.py", "def renamed3():\n    return 3\n");
  fs::remove(r / "m4.py");
  write_text(r / "new.py", "def brand_new():\n    pass\n");
  {
    auto seg = std::move(SegmentIndex::open(r, so).value());
    auto b = seg->build();
    REQUIRE(b.ok());
    CHECK(b->warm);
    CHECK(b->files_read == 2);
    CHECK(seg->chunk("m3.py#renamed3").has_value());
    CHECK_FALSE(seg->chunk("m3.py#f3").has_value());
    CHECK_FALSE(seg->chunk("m4.py#f4").has_value());
    CHECK(seg->chunk("new.py#brand_new").has_value());
    CHECK(seg->generation() > gen);
  }
  // A corrupt cache file is ignored: a cold build with a warning, never a failure.
  {
    std::fstream f(r / "_ctx/cache/index.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.write("garbage!", 8);
  }
  {
    auto seg = std::move(SegmentIndex::open(r, so).value());
    auto b = seg->build();
    REQUIRE(b.ok());
    CHECK_FALSE(b->warm);
    CHECK_FALSE(b->warnings.empty());
    CHECK(seg->chunk("new.py#brand_new").has_value());
  }
}

TEST_CASE("JSON mappings carry the documented wire fields") {
  auto idx = index_of({{"codec.py", "def decode(data):\n    return data\n"}});
  SearchOptions o;
  o.query = "decode";
  o.explain = true;
  auto r = idx.search(o);
  REQUIRE(r.ok());
  const json::value v = json::value_from(*r);
  const auto& hit = v.at("hits").at(0).as_object();
  CHECK(hit.at("id").as_string() == "codec.py#decode");
  CHECK(hit.at("start_line").to_number<int>() == 1);
  CHECK(hit.at("end_line").to_number<int>() == 2);
  CHECK(hit.at("kind").as_string() == "code");
  CHECK(hit.at("preview").as_string() == "def decode(data):");
  CHECK(hit.at("sha256").as_string().size() == 64);
  CHECK(hit.contains("explain"));
  CHECK(hit.contains("tokens"));
  o.query = "decdoe";
  o.signals &= ~kSignalTypo;  // typo tolerance would correct it to `decode` and find the chunk
  const json::value z = json::value_from(*idx.search(o));
  CHECK(z.at("hits").as_array().empty());
  CHECK(z.at("did_you_mean").at(0).as_string() == "decode");
  CHECK(z.as_object().contains("reason"));
}

TEST_CASE("a module's header chunk is found by the module's name") {
  auto idx = index_of({
      {"tempfile.py", "\"\"\"Temporary files.\"\"\"\nimport os\n\ndef mkstemp():\n    pass\n"},
      {"other/helpers.py", "def _tempfile_cleanup():\n    pass\n"},
  });
  SearchOptions o;
  o.query = "tempfile";
  auto r = idx.search(o);
  REQUIRE(r.ok());
  REQUIRE(!r->hits.empty());
  CHECK(r->hits[0].chunk.id == "tempfile.py#<module>");
}

TEST_CASE("SegmentIndex: a watch-queue overflow triggers a full rescan, never a silent gap") {
  std::ifstream limit_file("/proc/sys/fs/inotify/max_queued_events");
  long limit = 0;
  limit_file >> limit;
  if (limit <= 0 || limit > 200000) {
    SUCCEED("max_queued_events unknown or too large to overflow quickly");
    return;
  }
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "a.txt", "alpha\n");
  write_text(r / "b.txt", "beta\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  REQUIRE(seg->start_watching().ok());
  // Alternate two files so the kernel cannot coalesce identical events.
  for (long i = 0; i < limit; ++i) write_text(r / (i % 2 ? "a.txt" : "b.txt"), "x\n");
  write_text(r / "late.txt", "overflowword\n");
  auto rep = seg->sync();
  CHECK(rep.rescanned);
  CHECK(seg->status().rescans == 1);
  SearchOptions o;
  o.query = "overflowword";
  CHECK(seg->search(o)->hits.size() == 1);
  o.query = "alpha";
  CHECK(seg->search(o)->hits.empty());  // a.txt's new content was picked up by the rescan
  // The watcher works again afterwards.
  write_text(r / "after.txt", "afterword\n");
  seg->sync();
  o.query = "afterword";
  CHECK(seg->search(o)->hits.size() == 1);
}

TEST_CASE("python chunks of a CRLF file keep their line endings and ranges") {
  const std::string src =
      "import os\r\n\r\ndef f():\r\n    return 1\r\n\r\nclass C:\r\n    pass\r\n";
  auto cs = chunk_py("crlf.py", src);
  REQUIRE(ids(cs) == std::vector<std::string>{"crlf.py#<module>", "crlf.py#f", "crlf.py#C"});
  CHECK(cs[1].start_line == 3);
  CHECK(cs[1].end_line == 4);
  const auto starts = line_starts(src);
  CHECK(line_span(src, starts, cs[1].start_line, cs[1].end_line) == "def f():\r\n    return 1\r\n");
}

namespace {

// Everything a search answered, scores compared exactly (to the bit: %a).
std::string describe(const Result<SearchResult>& r) {
  REQUIRE(r.ok());
  std::string s = std::to_string(r->matched) + " " + r->reason + "\n";
  for (const auto& d : r->did_you_mean) s += "dym " + d + "\n";
  char buf[64];
  for (const auto& h : r->hits) {
    std::snprintf(buf, sizeof buf, " %a\n", h.score);
    s += h.chunk.id + buf;
    for (const auto& e : h.explain) {
      std::snprintf(buf, sizeof buf, " %u %a\n", e.tf, e.score);
      s += "  " + e.term + " " + e.field + buf;
    }
  }
  return s;
}

// Files <prefix>0.py .. <prefix>(n-1).py under `r`, file i holding text("i").
template <class Text>
void write_numbered(const fs::path& r, const std::string& prefix, int n, Text text) {
  for (int i = 0; i < n; ++i)
    write_text(r / (prefix + std::to_string(i) + ".py"), text(std::to_string(i)));
}

// A segment over `r`, built, kept in memory only (no git listing, no index.bin).
std::unique_ptr<SegmentIndex> built_in_memory(const fs::path& r) {
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  return seg;
}

// `a` answers each query with `b`'s page: the same chunks (ids, lines, hashes) and scores, in the
// same order.
void check_same_pages(const SegmentIndex& a, const SegmentIndex& b,
                      std::initializer_list<const char*> queries, std::size_t limit) {
  for (const char* q : queries) {
    INFO(q);
    SearchOptions o;
    o.query = q;
    o.limit = limit;
    const auto x = a.search(o), y = b.search(o);
    REQUIRE(x.ok());
    REQUIRE(y.ok());
    REQUIRE(x->hits.size() == y->hits.size());
    for (std::size_t i = 0; i < x->hits.size(); ++i) {
      CHECK(x->hits[i].chunk.id == y->hits[i].chunk.id);
      CHECK(x->hits[i].chunk.start_line == y->hits[i].chunk.start_line);
      CHECK(x->hits[i].chunk.sha256 == y->hits[i].chunk.sha256);
      CHECK(x->hits[i].score == y->hits[i].score);
    }
  }
}

}  // namespace

TEST_CASE("SegmentIndex: a file edited again is parsed from its last parse, with the same chunks") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  std::string body;
  for (int i = 0; i < 40; ++i)
    body += "def f" + std::to_string(i) + "(x):\n    return x + " + std::to_string(i) + "\n\n\n";
  write_text(r / "a.py", body);
  write_text(r / "b.py", "def beta():\n    pass\n");
  auto seg = built_in_memory(r);
  CHECK(seg->skeletons().stats().parse_memos == 0);  // a build keeps no parse
  // The first edit has no earlier parse to start from; the second and third have.
  for (int edit = 1; edit <= 3; ++edit) {
    body += "def edited" + std::to_string(edit) + "():\n    return " + std::to_string(edit) + "\n";
    write_text(r / "a.py", body);
    REQUIRE(seg->apply_changes({"a.py"}).reindexed == 1);
    CHECK(seg->skeletons().stats().incremental_parses == static_cast<std::uint64_t>(edit - 1));
    CHECK(seg->chunk("a.py#edited" + std::to_string(edit)).has_value());
  }
  CHECK(seg->chunk("a.py#f39").has_value());
  CHECK(seg->skeletons().stats().parse_memos == 1);
  CHECK(seg->skeletons().stats().parse_memo_bytes == body.size());
  // The same chunks as a fresh index of the same bytes.
  auto fresh = built_in_memory(r);
  for (const char* id : {"a.py#f0", "a.py#f39", "a.py#edited1", "a.py#edited3"}) {
    INFO(id);
    auto a = seg->chunk(id);
    auto b = fresh->chunk(id);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->start_line == b->start_line);
    CHECK(a->end_line == b->end_line);
  }
}

// An edit tokenizes only the chunks whose texts it changed (ChunkAnalyses): moved, renamed,
// re-documented and deleted definitions leave an index that ranks as a fresh build of the same
// bytes does, and the chunks an edit left as they were (lines moved or not) are reused.
TEST_CASE(
    "SegmentIndex: an edit reuses the analyses of the chunks it left, and ranks as a fresh build") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  const auto def = [](int i, const std::string& name, const std::string& doc) {
    return "def " + name + "(x):\n    \"\"\"" + doc + "\"\"\"\n    return x + " +
           std::to_string(i) + "  # word" + std::to_string(i) + "\n\n\n";
  };
  std::vector<std::string> defs;
  for (int i = 0; i < 24; ++i)
    defs.push_back(
        def(i, "func" + std::to_string(i), "Compute the value " + std::to_string(i) + "."));
  const auto text = [&] {
    std::string s = "\"\"\"A module of functions.\"\"\"\n\n";
    for (const auto& d : defs) s += d;
    return s;
  };
  // A class over kLargeClassLines lines: one chunk a method, each with the class in its name
  // and context fields — which a rename of the class changes and the method's lines do not.
  const auto cls = [](const std::string& name) {
    std::string c = "class " + name + ":\n    \"\"\"Holds values.\"\"\"\n\n";
    for (int m = 0; m < 60; ++m)
      c += "    def method" + std::to_string(m) + "(self):\n        return " + std::to_string(m) +
           "\n\n";
    return c + "\n";
  };
  defs.push_back(cls("Holder"));
  write_text(r / "a.py", text());
  write_text(r / "notes.md",
             "# Notes\n\nSome words about func3 and parsing.\n\n## More\n\nOther words.\n");
  auto seg = built_in_memory(r);
  REQUIRE(seg->chunk("a.py#Holder.method7").has_value());
  const auto apply = [&](const char* what) {
    INFO(what);
    write_text(r / "a.py", text());
    const ApplyReport rep = seg->apply_changes({"a.py"});
    REQUIRE(rep.reindexed == 1);
    return rep.chunks_reused;
  };
  defs[0] = def(0, "func0", "Compute the value 0 first.");
  CHECK(apply("first edit: nothing kept to reuse") == 0);
  defs[10] = def(10, "func10", "Compute the value 10, carefully.");  // one docstring
  CHECK(apply("a docstring") >= 20);
  defs.insert(defs.begin() + 3, def(99, "inserted", "A new helper."));  // later chunks move down
  CHECK(apply("a definition inserted") >= 20);
  defs[5] = def(5, "renamed_five", "Compute the value 5.");           // the name field changes
  std::rotate(defs.begin() + 1, defs.begin() + 2, defs.begin() + 8);  // a definition moved
  defs.erase(defs.begin() + 20);
  CHECK(apply("renamed, moved and deleted") >= 15);
  defs.back() = cls("Keeper");  // every method's name field changes, not one of its lines
  CHECK(apply("the class renamed") >= 20);
  CHECK(seg->chunk("a.py#Keeper.method7").has_value());
  write_text(
      r / "notes.md",
      "# Notes\n\nSome words about func3 and parsing.\n\n## More\n\nOther words, changed.\n");
  CHECK(seg->apply_changes({"notes.md"}).chunks_reused == 0);  // its first edit
  write_text(r / "notes.md",
             "# Notes\n\nSome words about func3 and parsing.\n\n## More\n\nOther words, again.\n");
  CHECK(seg->apply_changes({"notes.md"}).chunks_reused >= 1);  // not only Python files
  (void)seg->settle();
  auto fresh = built_in_memory(r);
  check_same_pages(*seg, *fresh,
                   {"compute the value carefully", "renamed_five", "func5", "inserted helper",
                    "word10", "keeper method7", "holder method", "holds values", "value 7",
                    "func3 parsing", "other words again", "module of functions"},
                   50);
}

// What the daemon does for the files a ctx.get showed: their first edit parses incrementally too.
TEST_CASE("SegmentIndex: keep_parse makes a file's first edit parse from its kept parse") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  std::string body;
  for (int i = 0; i < 20; ++i) body += "def f" + std::to_string(i) + "(x):\n    return x\n\n\n";
  write_text(r / "a.py", body);
  write_text(r / "notes.md", "# notes\n");
  auto seg = built_in_memory(r);
  CHECK_FALSE(seg->keep_parse("notes.md"));    // not Python
  CHECK_FALSE(seg->keep_parse("missing.py"));  // not indexed
  CHECK_FALSE(seg->keep_parse("../a.py"));
  workspace::ReadStats stats;
  CHECK(seg->keep_parse("a.py", &stats));
  CHECK(stats.total_bytes() == body.size());
  CHECK_FALSE(seg->keep_parse("a.py"));  // kept already
  body += "def added():\n    return 1\n";
  write_text(r / "a.py", body);
  REQUIRE(seg->apply_changes({"a.py"}).reindexed == 1);
  CHECK(seg->skeletons().stats().incremental_parses == 1);
  CHECK(seg->chunk("a.py#added").has_value());
  CHECK(seg->chunk("a.py#f19").has_value());
}

// Searches beside updates and settles (what the daemon does: searches on its workers, an update
// on a request's sync, a settle on the build executor): every search answers, no settle installs
// an outdated state, and the end state ranks like a fresh build of the same files.
TEST_CASE("SegmentIndex: searches run concurrently with updates and settles") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_numbered(r, "f", 30, [](const std::string& i) {
    return "def func_" + i + "():\n    shared_word = 1\n    return parse_errors(values)\n";
  });
  auto seg = built_in_memory(r);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (const char* query : {"shared_word", "shared_word parsing error value"}) {
    threads.emplace_back([&, query] {
      SearchOptions o;
      o.query = query;
      o.limit = 50;
      while (!stop) {
        auto res = seg->search(o);
        if (!res.ok() || res->hits.size() < 29) ++failures;
        for (const auto& h : res->hits) {
          if (h.chunk.id.empty() || h.chunk.sha256.size() != 64) ++failures;
        }
        (void)seg->status();
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) (void)seg->settle();
  });
  for (int round = 0; round < 40; ++round) {
    const std::string name = "f" + std::to_string(round % 30) + ".py";
    write_text(r / name, "def func_" + std::to_string(round) +
                             "_v2():\n    shared_word = " + std::to_string(round) +
                             "\n    return parse_error(value_" + std::to_string(round) + ")\n");
    seg->apply_changes({name});
  }
  stop = true;
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(seg->validate()->ok());
  (void)seg->settle();
  CHECK(seg->status().steady);
  auto fresh = built_in_memory(r);
  check_same_pages(*seg, *fresh,
                   {"shared_word parsing error value", "func_7_v2", "parse errors values"}, 100);
}

// The request path (Service::sync) calls sync(publish = false): the edited file's skeleton row
// goes to the cache's SQLite file with the settle, not before the answer.
TEST_CASE("SegmentIndex: sync without publishing leaves the new skeleton rows to settle") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "a.py", "def alpha():\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  REQUIRE(seg->start_watching().ok());
  const auto written = [&] { return seg->skeletons().stats().rows_written; };
  const std::uint64_t at_build = written();
  write_text(r / "a.py", "def zebra():\n    pass\n");
  CHECK(seg->sync(/*publish=*/false).reindexed == 1);
  CHECK(written() == at_build);
  SearchOptions o;
  o.query = "zebra";
  CHECK(seg->search(o)->hits.size() == 1);
  CHECK(seg->skeletons()
            .get_content("def zebra():\n    pass\n", "a.py")
            ->cache_hit);  // served meanwhile
  (void)seg->settle();
  CHECK(written() == at_build + 1);
  write_text(r / "a.py", "def yak():\n    pass\n");
  CHECK(seg->sync().reindexed == 1);  // publishing: written at once
  CHECK(written() == at_build + 2);
}

// settle(): after an update the index leaves its steady state (slow long queries) until settled;
// settling changes the cost of a search, never its answer or the generation.
TEST_CASE(
    "SegmentIndex: settle restores the steady state after an edit, with the same answers and "
    "generation") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_numbered(r, "m", 40, [](const std::string& i) {
    return "def parse_value_" + i +
           "(tokens):\n    \"\"\"Parse the tokens into values.\"\"\"\n    errors = []\n" +
           "    return decode(tokens, errors)\n";
  });
  auto seg = built_in_memory(r);
  CHECK(seg->status().steady);
  CHECK_FALSE(seg->settle());  // nothing to do
  const auto page = [&](const std::string& q) {
    SearchOptions o;
    o.query = q;
    o.limit = 20;
    o.explain = true;
    return describe(seg->search(o));
  };
  write_text(r / "m7.py",
             "def parse_values(tokens):\n    \"\"\"Decode errors.\"\"\"\n    return tokens\n");
  fs::remove(r / "m9.py");
  const auto applied = seg->apply_changes({"m7.py", "m9.py"});
  CHECK(applied.reindexed == 1);
  CHECK(applied.removed == 1);
  const Status before = seg->status();
  CHECK_FALSE(before.steady);
  const std::vector<std::string> queries = {"parse values", "decode the tokens errors",
                                            "parse_values", "value"};
  std::vector<std::string> pages;
  for (const auto& q : queries) pages.push_back(page(q));
  CHECK(seg->settle());
  const Status after = seg->status();
  CHECK(after.steady);
  CHECK(after.generation == before.generation);
  CHECK(after.pack_state == before.pack_state);
  CHECK(after.chunks == before.chunks);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    INFO(queries[i]);
    CHECK(page(queries[i]) == pages[i]);
  }
  CHECK_FALSE(seg->settle());
  CHECK(seg->validate()->ok());
}

// ---- compact postings (postings.hpp) ------------------------------------------------------------

namespace {

std::vector<std::uint8_t> encode(const std::vector<Posting>& list) {
  std::vector<std::uint8_t> out;
  PostingListBuilder b(out);
  for (const auto& p : list) b.add(p);
  CHECK(b.count() == list.size());
  return out;
}

std::string_view view(const std::vector<std::uint8_t>& b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

std::vector<Posting> decode(std::string_view bytes, bool* bad = nullptr) {
  std::vector<Posting> out;
  PostingCursor c(bytes);
  for (Posting p; c.next(p);) out.push_back(p);
  if (bad) *bad = c.bad();
  return out;
}

// The search's fast walk (for_each_posting) of the same bytes.
std::vector<Posting> walk(std::string_view bytes) {
  std::vector<Posting> out;
  for_each_posting(bytes, [&](const Posting& p) { out.push_back(p); });
  return out;
}

Posting posting(std::uint32_t doc, std::uint8_t path, std::uint8_t name, std::uint8_t sig,
                std::uint8_t body, std::uint8_t doc_field = 0) {
  return Posting{doc, {path, name, sig, body, doc_field}};
}

}  // namespace

TEST_CASE(
    "postings: lists round-trip through delta + varint, including empty lists and huge document "
    "ids") {
  const std::vector<std::vector<Posting>> lists = {
      {},
      {posting(0, 0, 0, 0, 1)},
      {posting(0, 1, 2, 3, 4), posting(1, 0, 0, 0, 255), posting(2, 255, 255, 255, 255),
       posting(9, 0, 7, 0, 0)},
      {posting(0, 1, 0, 0, 0),
       posting(UINT32_MAX, 0, 0, 0, 3)},  // the largest delta (36 bits shifted)
      {posting(UINT32_MAX - 2, 1, 1, 1, 1), posting(UINT32_MAX - 1, 0, 1, 0, 0),
       posting(UINT32_MAX, 0, 0, 1, 0)},
  };
  for (const auto& list : lists) {
    const auto bytes = encode(list);
    bool bad = true;
    CHECK(decode(view(bytes), &bad) == list);
    CHECK_FALSE(bad);
    CHECK(walk(view(bytes)) == list);
    CHECK(validate_list(view(bytes), list.size(), std::uint64_t{UINT32_MAX} + 1));
  }
  CHECK(encode({}).empty());
  // posting_after: from any posting boundary (and the document before it), the posting `skip`
  // places on — what a look-up through a document set's skip entry decodes.
  {
    std::vector<Posting> list;
    for (std::uint32_t d = 0; d < 200; ++d) {
      list.push_back(
          posting(d * d + (d % 3), d % 2 ? 3 : 0, 0, d % 5 ? 0 : 2, 1 + d % 200, d % 7 ? 0 : 9));
    }
    const auto bytes = encode(list);
    std::size_t at = 0;  // byte offset of posting i
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::uint64_t before = i == 0 ? 0 : list[i - 1].doc;
      for (std::size_t skip : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{15}}) {
        if (i + skip < list.size())
          CHECK(posting_after(bytes.data() + at, bytes.data() + bytes.size(), before, skip) ==
                list[i + skip]);
      }
      at += encode({posting(static_cast<std::uint32_t>(list[i].doc - before), list[i].tf[0],
                            list[i].tf[1], list[i].tf[2], list[i].tf[3], list[i].tf[4])})
                .size();
    }
    CHECK(at == bytes.size());
  }
  // Every field mask (1..31: five fields since format 5) survives.
  std::vector<Posting> masks;
  for (std::uint32_t m = 1; m < 32; ++m) {
    masks.push_back(posting(m * 1000, m & 1 ? 5 : 0, m & 2 ? 6 : 0, m & 4 ? 7 : 0, m & 8 ? 8 : 0,
                            m & 16 ? 9 : 0));
  }
  CHECK(decode(view(encode(masks))) == masks);
  CHECK(walk(view(encode(masks))) == masks);
  // The fast walk stays inside a list cut short anywhere (it trusts the bytes, so what it
  // decodes then may be wrong, but it reads nothing past the end: ASan checks the copies).
  const auto whole = encode(masks);
  for (std::size_t n = 0; n < whole.size(); ++n) {
    const std::vector<std::uint8_t> cut(whole.begin(),
                                        whole.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK(walk(view(cut)).size() <= masks.size());
  }
  // The point of the encoding: a body-only posting close to the previous one (delta < 4 with
  // the 5-bit field mask) takes 2 bytes, one a little further 3.
  std::vector<Posting> dense;
  for (std::uint32_t d = 1; d <= 1000; ++d) dense.push_back(posting(d * 3, 0, 0, 0, 1));
  CHECK(encode(dense).size() == 2000);
  std::vector<Posting> sparser;
  for (std::uint32_t d = 1; d <= 1000; ++d) sparser.push_back(posting(d * 7, 0, 0, 0, 1));
  CHECK(encode(sparser).size() == 3000);
}

TEST_CASE("postings: malformed lists are refused, never misread") {
  const std::vector<Posting> list = {posting(3, 0, 0, 0, 2), posting(200, 1, 0, 0, 9),
                                     posting(70000, 0, 4, 0, 1)};
  const auto bytes = encode(list);
  CHECK(validate_list(view(bytes), 3, 70001));
  CHECK_FALSE(validate_list(view(bytes), 3, 70000));  // a document beyond the table
  CHECK_FALSE(validate_list(view(bytes), 2, 70001));  // count mismatch
  CHECK_FALSE(validate_list(view(bytes), 4, 70001));
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    const auto prefix = view(bytes).substr(0, cut);
    bool bad = false;
    const auto got = decode(prefix, &bad);
    CHECK(got.size() < list.size());
    CHECK_FALSE(validate_list(prefix, list.size(), 70001));
  }
  // A varint that never ends, a repeated document (delta 0 after the first), a zero tf byte.
  std::vector<std::uint8_t> endless(12, 0x80);
  bool bad = false;
  CHECK(decode(view(endless), &bad).empty());
  CHECK(bad);
  std::vector<std::uint8_t> repeat;
  trifecta::core::bytes::put_varint(repeat, (5u << kFieldMaskBits) | 8u);
  repeat.push_back(1);
  trifecta::core::bytes::put_varint(repeat, (0u << kFieldMaskBits) | 8u);
  repeat.push_back(1);
  CHECK(decode(view(repeat), &bad).size() == 1);
  CHECK(bad);
  std::vector<std::uint8_t> zero_tf;
  trifecta::core::bytes::put_varint(zero_tf, (5u << kFieldMaskBits) | 8u);
  zero_tf.push_back(0);
  CHECK_FALSE(validate_list(view(zero_tf), 1, 10));
  std::vector<std::uint8_t> no_fields;  // a posting with no field at all
  trifecta::core::bytes::put_varint(no_fields, 5u << kFieldMaskBits);
  CHECK_FALSE(validate_list(view(no_fields), 1, 10));
}

// A settle's splice (FrozenPostings::add_spliced): the list without the dead documents, byte for
// byte what encoding the kept postings anew gives, whatever the deltas (one-byte, multi-byte
// varints on either side of a removed run) and wherever the dead sit (first, last, all, runs);
// postings added after it continue the deltas; the total counts only the kept.
TEST_CASE("postings: a spliced list is the list re-encoded without its dead documents") {
  std::mt19937 rng(7);
  for (int round = 0; round < 400; ++round) {
    std::vector<Posting> list;
    std::uint32_t doc = rng() % 3;
    const int n = static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      // Deltas of 1 (one byte) to over 2^14 (three bytes), and tfs in one to five fields.
      doc += 1 + (rng() % 4 == 0 ? rng() % 20000 : rng() % 3);
      Posting p{doc, {}};
      for (auto& tf : p.tf) tf = static_cast<std::uint8_t>(rng() % 3 == 0 ? 1 + rng() % 255 : 0);
      if (p.tf == std::array<std::uint8_t, kPostingFields>{}) p.tf[3] = 1;
      list.push_back(p);
    }
    const std::uint32_t top = doc + 1;
    std::vector<std::uint64_t> dead((top + 63) / 64 + (round % 2), 0);  // one word more, or exact
    const int mode = round % 5;  // 0: random, 1: none, 2: all, 3: the first and last, 4: runs
    for (std::size_t i = 0; i < list.size(); ++i) {
      const bool d = mode == 0   ? rng() % 3 == 0
                     : mode == 1 ? false
                     : mode == 2 ? true
                     : mode == 3 ? (i == 0 || i + 1 == list.size())
                                 : (i / 4) % 2 == 1;
      if (d) dead[list[i].doc / 64] |= std::uint64_t{1} << (list[i].doc % 64);
    }
    std::vector<Posting> kept;
    for (const auto& p : list) {
      if (((dead[p.doc / 64] >> (p.doc % 64)) & 1u) == 0) kept.push_back(p);
    }
    const Posting after{top + static_cast<std::uint32_t>(rng() % 300), {0, 2, 0, 1, 0}};
    const auto bytes = encode(list);
    FrozenPostings spliced, fresh;
    spliced.begin_term(0);
    CHECK(spliced.add_spliced(view(bytes), dead.data(), dead.size()) == kept.size());
    spliced.add(after);
    spliced.finish(1);
    fresh.begin_term(0);
    for (const auto& p : kept) fresh.add(p);
    fresh.add(after);
    fresh.finish(1);
    INFO("round " << round << ", " << list.size() << " postings, " << kept.size() << " kept");
    CHECK(spliced.bytes(0) == fresh.bytes(0));
    CHECK(spliced.count(0) == kept.size() + 1);
    CHECK(spliced.total_postings() == kept.size() + 1);
    // A group's list (PostingListBuilder::add_spliced, then its tail postings): the same bytes.
    std::vector<std::uint8_t> built;
    PostingListBuilder builder(built);
    builder.add_spliced(view(bytes), dead.data(), dead.size());
    builder.add(after);
    CHECK(view(built) == fresh.bytes(0));
    CHECK(builder.count() == kept.size() + 1);
    // No dead bitmap: the list as it is (what a list gaining only tail postings gets).
    FrozenPostings whole;
    whole.begin_term(0);
    whole.add_spliced(view(bytes), nullptr, 0);
    whole.finish(1);
    CHECK(whole.bytes(0) == view(bytes));
    CHECK(whole.count(0) == list.size());
  }
}

TEST_CASE("postings: FrozenPostings keeps many terms, gaps and empty lists apart") {
  FrozenPostings fp;
  const std::uint32_t nterms = 20000;
  std::size_t total = 0;
  auto list_of = [](std::uint32_t t) {
    std::vector<Posting> l;
    for (std::uint32_t i = 0; i < t % 5; ++i)
      l.push_back(posting(t + i * 977, 0, 0, 1, static_cast<std::uint8_t>(1 + i)));
    return l;
  };
  std::vector<bool> began(nterms, false);
  for (std::uint32_t t = 0; t < nterms;
       t += (t % 3 == 0 ? 2 : 1)) {  // the term after a multiple of 3 is skipped
    fp.begin_term(t);
    began[t] = true;
    for (const auto& p : list_of(t)) fp.add(p);
    total += list_of(t).size();
  }
  fp.finish(nterms + 10);
  CHECK(fp.term_count() == nterms + 10);
  CHECK(fp.total_postings() == total);
  CHECK(std::count(began.begin(), began.end(), false) > 1000);
  for (std::uint32_t t = 0; t < nterms + 12; ++t) {
    const std::vector<Posting> want = t < nterms && began[t] ? list_of(t) : std::vector<Posting>{};
    CHECK(decode(fp.bytes(t)) == want);
    CHECK(fp.count(t) == want.size());
  }
  // Already encoded lists are taken verbatim.
  FrozenPostings copy;
  for (std::uint32_t t = 0; t < fp.term_count(); ++t) {
    copy.begin_term(t);
    copy.add_encoded(fp.bytes(t), fp.count(t));
  }
  copy.finish(fp.term_count());
  CHECK(copy.byte_size() == fp.byte_size());
  for (std::uint32_t t = 0; t < fp.term_count(); t += 97) CHECK(copy.bytes(t) == fp.bytes(t));
  // An extension: lists after the terms', in a buffer of their own (InvertedIndex's stem groups).
  std::vector<std::uint8_t> ext;
  std::vector<std::uint32_t> ends, counts;
  const std::uint32_t base = static_cast<std::uint32_t>(fp.term_count());
  for (std::uint32_t e = 0; e < 7; ++e) {
    PostingListBuilder b(ext);
    for (const auto& p : list_of(e + 1)) b.add(p);  // lists of 1, 2, 3, 4, 0, 1, 2 postings
    ends.push_back(static_cast<std::uint32_t>(ext.size()));
    counts.push_back(static_cast<std::uint32_t>(list_of(e + 1).size()));
  }
  const std::size_t terms_bytes = fp.byte_size();
  fp.extend(ext, ends, counts);
  CHECK(fp.term_count() == base + 7);
  CHECK(fp.total_postings() == total);  // the terms' only
  CHECK(fp.byte_size() == terms_bytes);
  for (std::uint32_t e = 0; e < 9; ++e) {
    const std::vector<Posting> want = e < 7 ? list_of(e + 1) : std::vector<Posting>{};
    CHECK(decode(fp.bytes(base + e)) == want);
    CHECK(fp.count(base + e) == want.size());
  }
  for (std::uint32_t t = 0; t < base; t += 101)
    CHECK(decode(fp.bytes(t)) == (t < nterms && began[t] ? list_of(t) : std::vector<Posting>{}));
  fp.clear_extension();
  CHECK(fp.term_count() == base);
  CHECK(fp.bytes(base).empty());
  CHECK(fp.count(base) == 0);
  fp.extend(ext, ends, counts);
  fp.begin_term(base);  // adding terms again drops the extension first
  fp.add(posting(3, 1, 0, 0, 0));
  fp.finish(base + 1);
  CHECK(fp.term_count() == base + 1);
  CHECK(decode(fp.bytes(base)) == std::vector<Posting>{posting(3, 1, 0, 0, 0)});
}

TEST_CASE("IdTable: find, insert, erase with tombstones, growth") {
  std::vector<std::string> keys;
  for (int i = 0; i < 50000; ++i) keys.push_back("key" + std::to_string(i * 7919));
  const auto key_of = [&](std::uint32_t v) { return std::string_view(keys[v]); };
  const auto h = [](std::string_view s) { return std::hash<std::string_view>{}(s); };
  IdTable table;
  CHECK(table.find("key0", h("key0"), key_of) == IdTable::kNone);  // empty table
  for (std::uint32_t v = 0; v < keys.size(); ++v) table.insert(h(keys[v]), v, key_of);
  CHECK(table.size() == keys.size());
  for (std::uint32_t v = 0; v < keys.size(); ++v)
    REQUIRE(table.find(keys[v], h(keys[v]), key_of) == v);
  CHECK(table.find("absent", h("absent"), key_of) == IdTable::kNone);
  for (std::uint32_t v = 0; v < keys.size(); v += 3) table.erase(h(keys[v]), v);
  CHECK(table.size() == keys.size() - (keys.size() + 2) / 3);
  for (std::uint32_t v = 0; v < keys.size(); ++v) {
    CHECK((table.find(keys[v], h(keys[v]), key_of) == IdTable::kNone) == (v % 3 == 0));
  }
  // Re-inserted keys land in tombstones or fresh slots and are found again; growth keeps them.
  for (std::uint32_t v = 0; v < keys.size(); v += 3) table.insert(h(keys[v]), v, key_of);
  for (int i = 0; i < 50000; ++i) keys.push_back("more" + std::to_string(i));
  for (auto v = static_cast<std::uint32_t>(keys.size() / 2); v < keys.size(); ++v)
    table.insert(h(keys[v]), v, key_of);
  CHECK(table.size() == keys.size());
  for (std::uint32_t v = 0; v < keys.size(); ++v)
    REQUIRE(table.find(keys[v], h(keys[v]), key_of) == v);
}

namespace {

// Deterministic pseudo-random text over a fixed vocabulary.
struct TextGen {
  std::uint64_t state;
  std::uint32_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(state >> 33);
  }
  std::string word() {
    std::uint32_t n = next() % 2500;
    std::string w = "w";
    do {
      w += static_cast<char>('a' + n % 26);
      n /= 26;
    } while (n);
    return w;
  }
  std::string file(int lines) {
    std::string s;
    for (int l = 0; l < lines; ++l) {
      for (int k = 0; k < 9; ++k) s += word() + (k == 8 ? "\n" : " ");
    }
    return s;
  }
};

void add_file(InvertedIndex& idx, const std::string& path, const std::string& text,
              bool bulk = false) {
  auto chunks = chunk_file(path, text, nullptr);
  std::vector<ChunkTerms> terms;
  const auto starts = line_starts(text);
  for (const auto& c : chunks)
    terms.push_back(analyze_chunk(c, line_span(text, starts, c.start_line, c.end_line)));
  idx.replace_file(path, std::move(chunks), std::move(terms), bulk);
}

// The page of `q` (chunks and scores to the bit), read from the stem groups or, with `merge`,
// merged by the search (SearchOptions::merge_variants).
std::string group_page(const InvertedIndex& idx, const std::string& q, bool merge,
                       std::size_t limit = 50) {
  SearchOptions o;
  o.query = q;
  o.limit = limit;
  o.merge_variants = merge;
  return describe(idx.search(o));
}

// Everything a search answers, scores compared exactly.
std::string answer(const InvertedIndex& idx, const std::string& q) {
  SearchOptions o;
  o.query = q;
  o.limit = 50;
  o.explain = true;
  return describe(idx.search(o));
}

}  // namespace

TEST_CASE(
    "an index updated in place (tail, tombstones, freezes, compaction) ranks exactly like a fresh "
    "one") {
  TextGen gen{42};
  std::map<std::string, std::string> files;
  for (int i = 0; i < 600; ++i)
    files["d" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".txt"] = gen.file(25);
  InvertedIndex live;  // added one file at a time: freezes on its own past kTailLimit postings
  for (const auto& [p, t] : files) add_file(live, p, t);
  // Edits after the freeze: changed files, removed files, new files (tail + dead frozen postings).
  for (int i = 0; i < 600; i += 11) {
    const std::string p = "d" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".txt";
    files[p] = gen.file(30);
    add_file(live, p, files[p]);
  }
  for (int i = 5; i < 600; i += 37) {
    const std::string p = "d" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".txt";
    files.erase(p);
    live.remove_file(p);
  }
  for (int i = 0; i < 12; ++i) {
    const std::string p = "new/g" + std::to_string(i) + ".txt";
    files[p] = gen.file(20);
    add_file(live, p, files[p]);
  }
  InvertedIndex fresh;
  for (const auto& [p, t] : files) add_file(fresh, p, t);
  CHECK(live.chunk_count() == fresh.chunk_count());
  CHECK(live.term_count() == fresh.term_count());

  std::vector<std::string> queries = {"wa wb",   "wzc",   "wqd wrd wsd", "d3 wab",
                                      "new wbc", "wabcd", "wbcz wcc"};
  for (int i = 0; i < 25; ++i) queries.push_back(gen.word() + " " + gen.word());
  std::string blob;
  live.serialize(blob);  // with tombstones and a tail: lists re-encoded
  InvertedIndex loaded;
  REQUIRE(loaded.deserialize(blob).ok());
  for (const auto& q : queries) {
    const std::string want = answer(fresh, q);
    CHECK(answer(live, q) == want);
    CHECK(answer(loaded, q) == want);
  }
  live.compact();  // renumbered and frozen
  std::string blob2;
  live.serialize(blob2);  // the frozen bytes as they are
  CHECK(blob2 == blob);
  for (const auto& q : queries) CHECK(answer(live, q) == answer(fresh, q));
  // A bulk build (no freeze, no refresh of the length normalisation until the caller freezes)
  // searched before and after its freeze.
  InvertedIndex bulk;
  for (const auto& [p, t] : files) add_file(bulk, p, t, true);
  for (const auto& q : queries) CHECK(answer(bulk, q) == answer(fresh, q));
  bulk.freeze();
  for (const auto& q : queries) CHECK(answer(bulk, q) == answer(fresh, q));
  // Bulk additions, then updates before any freeze: their postings join the bulk part of the tail
  // (pruning_test's edits add enough to have it sorted by term and merged).
  InvertedIndex mixed;
  for (const auto& [p, t] : files) add_file(mixed, p, t, true);
  add_file(mixed, files.begin()->first, files.begin()->second);
  add_file(mixed, files.rbegin()->first, files.rbegin()->second);
  CHECK_FALSE(mixed.steady());
  for (const auto& q : queries) CHECK(answer(mixed, q) == answer(fresh, q));
  CHECK(live.find("new/g3.txt#L1-20").has_value());
  CHECK_FALSE(live.find("d5/f5.txt#L1-25").has_value());
}

// The words with the query's first letter come from a walk of the sorted vocabulary, those with
// another first letter from look-ups of the query's one-edit variants at its start, and words
// newer than the sort from a scan: together exactly what a full scan and the definition give.
TEST_CASE("suggest: the sorted-vocabulary walk finds exactly the words a full scan finds") {
  // The definition it must agree with: the optimal string alignment distance (Levenshtein with a
  // swap of two neighbouring letters as one edit, rank-14), written out plainly here.
  const auto distance = [](std::string_view a, std::string_view b) {
    std::size_t d[16][16];  // every word and query here is at most 12 letters
    if (a.size() >= 16 || b.size() >= 16)
      throw std::length_error("distance: a word longer than the table");
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      for (std::size_t j = 1; j <= b.size(); ++j) {
        d[i][j] = std::min(
            {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        if (i >= 2 && j >= 2 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
    return d[a.size()][b.size()];
  };
  CHECK(distance("lenght", "length") == 1);
  CHECK(selector::edit_distance("lenght", "length") == 2);
  // Dense neighbourhoods: words of 2-9 letters over a 4-letter alphabet, so most queries have
  // many words at distance 1 and 2 and many prefix completions.
  std::uint32_t x = 99;
  const auto rnd = [&x]() {
    x = x * 1103515245u + 12345u;
    return (x >> 16) & 0x7fff;
  };
  const auto word = [&](std::size_t len) {
    std::string w;
    for (std::size_t i = 0; i < len; ++i) w += static_cast<char>('a' + rnd() % 4);
    return w;
  };
  std::set<std::string> vocab;
  std::vector<std::pair<std::string, std::string>> files;
  for (int f = 0; f < 300; ++f) {
    std::string text;
    for (int l = 0; l < 6; ++l) {
      for (int k = 0; k < 8; ++k) {
        const std::string w = word(2 + rnd() % 8);
        vocab.insert(w);
        text += w + (k == 7 ? "\n" : " ");
      }
    }
    files.emplace_back("f" + std::to_string(f) + ".txt", text);
  }
  InvertedIndex scanned;  // bulk, never frozen: no sorted vocabulary, every term scanned
  InvertedIndex sorted;   // frozen: the vocabulary sorted and walked by prefix
  InvertedIndex mixed;    // frozen, then 40 files more: a sorted part and a scanned part
  for (std::size_t i = 0; i < files.size(); ++i) {
    add_file(scanned, files[i].first, files[i].second, true);
    add_file(sorted, files[i].first, files[i].second, true);
    if (i < 260) add_file(mixed, files[i].first, files[i].second, true);
  }
  sorted.freeze();
  mixed.freeze();
  for (std::size_t i = 260; i < files.size(); ++i) add_file(mixed, files[i].first, files[i].second);

  std::vector<std::string> queries = {"",     "ab",   "abc",        "abcd",         "dddd", "abcab",
                                      "zzzz", "abce", "abcdabcdab", "aaaaaaaaaaaa", "e",    "bacd"};
  for (int i = 0; i < 300; ++i) queries.push_back(word(1 + rnd() % 10));
  for (int i = 0; i < 100;
       ++i) {  // one or two edits of indexed words, some with a letter from outside
    std::string w = *std::next(vocab.begin(), static_cast<long>(rnd() % vocab.size()));
    for (int e = 0; e < 1 + i % 2; ++e) {
      const std::size_t at = rnd() % (w.size() + 1);
      switch (rnd() % 4) {
        case 0:
          w.insert(at, 1, "abcdz"[rnd() % 5]);
          break;
        case 1:
          if (at < w.size()) w.erase(at, 1);
          break;
        case 2:
          if (at + 1 < w.size()) std::swap(w[at], w[at + 1]);
          break;
        default:
          if (at < w.size()) w[at] = "abcdz"[rnd() % 5];
      }
    }
    queries.push_back(w);
  }
  std::size_t nonempty = 0;
  for (const auto& q : queries) {
    INFO("query " << q);
    const auto want = scanned.suggest(q, 100000);
    CHECK(sorted.suggest(q, 100000) == want);
    CHECK(mixed.suggest(q, 100000) == want);
    CHECK(sorted.suggest(q) ==
          std::vector<std::string>(want.begin(),
                                   want.begin() + std::min<std::size_t>(5, want.size())));
    // Against the definition: every suggestion is within the bound (two edits from 5 characters,
    // to words with the same first letter; one otherwise) or a completion, and every indexed word
    // within the bound is suggested.
    const auto bound = [&](const std::string& w) -> std::size_t {
      return q.size() >= 5 && w[0] == q[0] ? 2 : 1;
    };
    const auto completion = [&](const std::string& w) {
      return q.size() >= 3 && w.size() > q.size() && w.starts_with(q);
    };
    for (const auto& s : want) {
      CHECK(s != q);
      CHECK((distance(q, s) <= bound(s) || completion(s)));
    }
    for (const auto& w : vocab) {
      // The distance is at least the difference in length: words further apart than the bound in
      // length are skipped before the quadratic table (this loop is most of the test's time).
      const std::size_t gap = w.size() > q.size() ? w.size() - q.size() : q.size() - w.size();
      if (w == q || !((gap <= bound(w) && distance(q, w) <= bound(w)) || completion(w))) continue;
      CHECK(std::find(want.begin(), want.end(), w) != want.end());
    }
    nonempty += want.empty() ? 0 : 1;
  }
  CHECK(nonempty > queries.size() / 2);
}

// stem_variants skips the words under a stem's prefix whose letter at the stem's last place
// cannot end that stem (only y → i, a restored -e and -bility → -bl rewrite it): none of the
// words it skips has the stem. One word per file; a one-word query matches exactly the files
// whose word stems like it (within the documented prefix and length window).
TEST_CASE(
    "stem variants: every indexed word with the query word's stem is found, whatever letter ends "
    "the stem") {
  const std::vector<std::string> words = {
      "possibility", "possibilities", "possible", "possibly", "possess",     "capability",
      "capable",     "capably",       "capacity", "happy",    "happiness",   "happily",
      "happier",     "hope",          "hoping",   "hoped",    "hopes",       "hopeful",
      "hop",         "hopping",       "hopped",   "hops",     "end",         "ending",
      "ends",        "ended",         "endless",  "enable",   "encode",      "sky",
      "skies",       "skill",         "die",      "dies",     "died",        "diet",
      "tendency",    "tendencies",    "tend",     "tender",   "analogy",     "analogies",
      "analog",      "relational",    "relate",   "relation", "relations",   "relay",
      "visibility",  "visible",       "visibly",  "vision",   "readability", "readable",
      "reader",      "reading"};
  InvertedIndex idx;
  for (std::size_t i = 0; i < words.size(); ++i)
    add_file(idx, "w" + std::to_string(i) + ".txt", words[i] + "\n", true);
  idx.compact();
  for (const std::string& q : words) {
    const std::string s = stem(q);
    const std::string_view prefix = std::string_view(s).substr(0, s.size() - 1);
    std::size_t expected = 0;
    for (const std::string& w : words) {
      const bool window =
          w.size() <= s.size() + 8 && w.size() + 2 >= s.size() && w.starts_with(prefix);
      expected += w == q || (window && stem(w) == s) ? 1 : 0;
    }
    SearchOptions o;
    o.query = q;
    const auto r = idx.search(o);
    REQUIRE(r.ok());
    INFO(q << " (stem " << s << ")");
    CHECK(r->matched == expected);
  }
}

// The stem expansion of a query word is cached between searches (InvertedIndex's variant cache);
// a word the index learns afterwards, written to a tail or frozen by compaction, is still one of
// the word's variants in the next search, and a copy of the index expands alike.
TEST_CASE("stem variants: a variant indexed after a cached expansion is found by the next search") {
  InvertedIndex idx;
  add_file(idx, "a.txt", "parsing\n", true);
  add_file(idx, "b.txt", "unrelated\n", true);
  idx.compact();
  const auto matched = [](const InvertedIndex& index, const std::string& q) {
    SearchOptions o;
    o.query = q;
    const auto r = index.search(o);
    REQUIRE(r.ok());
    return r->matched;
  };
  CHECK(matched(idx, "parse") == 1);
  CHECK(matched(idx, "parse") == 1);   // from the cache
  add_file(idx, "c.txt", "parsed\n");  // a new word: a tail posting
  CHECK(matched(idx, "parse") == 2);
  add_file(idx, "d.txt", "parses\n");
  idx.compact();  // frozen and the vocabulary sorted again
  CHECK(matched(idx, "parse") == 3);
  const InvertedIndex copy = idx;
  CHECK(matched(copy, "parse") == 3);
  add_file(idx, "e.txt", "parse\n");  // the query word itself, new
  CHECK(matched(idx, "parse") == 4);
  CHECK(matched(copy, "parse") == 3);
}

// A search hands its scratch tables back dirty; InvertedIndex::tidy_scratch (the daemon's call
// once a reply is sent) or the next search clears them. Either way the next search answers as a
// fresh process would, whichever query ran before it.
TEST_CASE(
    "search scratch: tables tidied after a search or cleared by the next one leave no trace") {
  InvertedIndex idx;
  for (int i = 0; i < 40; ++i) {
    add_file(idx, "m" + std::to_string(i) + ".py",
             "def decode_" + std::to_string(i) +
                 "(data):\n    \"\"\"Decode the error data.\"\"\"\n    return error\n",
             true);
  }
  idx.compact();
  const std::vector<std::string> queries = {"decode error", "error", "data decode", "return"};
  std::vector<std::string> fresh;
  for (const auto& q : queries) {
    InvertedIndex::tidy_scratch();
    fresh.push_back(answer(idx, q));
  }
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < queries.size(); ++i) {
      INFO(queries[i] << " round " << round);
      (void)answer(idx, queries[(i + 1) % queries.size()]);  // another query's tables left behind
      if (round == 1) InvertedIndex::tidy_scratch();
      CHECK(answer(idx, queries[i]) == fresh[i]);
    }
  }
}

TEST_CASE(
    "stem variants merged from the frozen lists score exactly like variants merged from a tail") {
  // One stem class in many mixes (a chunk holding several forms gets their tfs added), and a
  // line repeating two forms 300 times (each tf is 255, their sum saturates at 255).
  const char* forms[] = {"decode",  "decoded",  "decodes", "decoding",
                         "decoder", "decoders", "error",   "errors"};
  std::uint32_t x = 7;
  const auto next = [&](std::uint32_t n) {
    x = x * 1103515245u + 12345u;
    return (x >> 8) % n;
  };
  std::map<std::string, std::string> files;
  for (int i = 0; i < 300; ++i) {
    std::string text;
    for (int line = 0; line < 6; ++line) {
      for (int w = 0; w < 1 + static_cast<int>(next(6)); ++w) (text += forms[next(8)]) += ' ';
      text += "filler\n";
    }
    files["f" + std::to_string(i) + ".txt"] = text;
  }
  std::string heavy;
  for (int i = 0; i < 300; ++i) heavy += "decode decoded ";
  files["heavy.txt"] = heavy + "\n";
  InvertedIndex frozen;  // compacted: every list frozen, no tail, no dead chunk
  for (const auto& [p, t] : files) add_file(frozen, p, t);
  frozen.compact();
  InvertedIndex tailed = frozen;  // then a third of the files written again: a tail, dead chunks
  for (int i = 0; i < 300; i += 3) {
    const std::string p = "f" + std::to_string(i) + ".txt";
    add_file(tailed, p, files[p]);
  }
  add_file(tailed, "heavy.txt", files["heavy.txt"]);
  for (const char* q : {"decode", "decoding error", "decoders errors", "error", "decoded"}) {
    INFO(q);
    CHECK(answer(frozen, q) == answer(tailed, q));
  }
  // The saturated sum: heavy.txt's body tf for the stem class is 255, not 300 or 510.
  for (const InvertedIndex* idx : {&frozen, &tailed}) {
    SearchOptions o;
    o.query = "decode";
    o.explain = true;
    o.path_glob = "heavy.txt";
    const auto r = idx->search(o);
    REQUIRE(r.ok());
    REQUIRE(r->hits.size() == 1);
    int body_tf = -1;
    for (const auto& e : r->hits[0].explain)
      if (e.field == "body") body_tf = static_cast<int>(e.tf);
    CHECK(body_tf == 255);
  }
}

// Stem groups (InvertedIndex::build_groups): a stem's variants merged once, at freeze and load,
// into one more list each; a search whose expansion is a group's members reads that list. The
// lists live after the terms' in the frozen postings, so a word learned after the freeze (whose
// id is the first group's) must not find them, and index.bin never holds them.
TEST_CASE(
    "stem groups: built at freeze and load, dropped by a new word, never written to index.bin") {
  InvertedIndex idx;
  const char* forms[] = {"decode", "decoded", "decoding", "decoder", "error",
                         "errors", "parse",   "parsed",   "lone"};
  for (int i = 0; i < 60; ++i) {
    std::string text;
    for (int w = 0; w < 5; ++w) (text += forms[(i * 7 + w * 3) % 9]) += ' ';
    add_file(idx, "f" + std::to_string(i) + ".txt", text + "\n", true);
  }
  // A stem whose words are not all found by a search's expansion: `computationally` has the
  // stem of `compute` but is longer than a stem's scan looks (stem + 8 letters), so the group
  // holds the other two, and only the word itself asked for brings it in (no group then).
  add_file(idx, "i1.txt", "compute computed\n", true);
  add_file(idx, "i2.txt", "computationally\n", true);
  REQUIRE(stem("computationally") == stem("compute"));
  CHECK(idx.group_count() == 0);  // a bulk build's tail: nothing frozen yet
  const std::size_t terms = idx.term_count();
  idx.compact();
  // decod (4 forms), error (2), pars (2), comput (2 of its 3 words); `lone` has no other form.
  CHECK(idx.group_count() == 4);
  CHECK(idx.group_postings() > 0);
  CHECK(idx.term_count() == terms);  // groups are not words
  const auto brief = [&](const InvertedIndex& index, const std::string& q) {
    return group_page(index, q, false);
  };
  const auto merged = [&](const InvertedIndex& index, const std::string& q) {
    return group_page(index, q, true);
  };
  for (const char* q : {"decoding", "decoder errors", "parse error lone", "decoded parsed",
                        "compute", "computationally"}) {
    INFO(q);
    CHECK(brief(idx, q) == merged(idx, q));
  }
  // Persisted without the groups' lists, built again on load.
  std::string blob;
  idx.serialize(blob);
  InvertedIndex copy;
  REQUIRE(copy.deserialize(blob).ok());
  CHECK(copy.group_count() == idx.group_count());
  CHECK(copy.group_postings() == idx.group_postings());
  std::string again;
  copy.serialize(again);
  CHECK(again == blob);
  CHECK(answer(copy, "decoder errors") == answer(idx, "decoder errors"));
  // A word the index learns after the freeze gets the id the first group's list has: the groups
  // are dropped, and the word finds its own file only.
  add_file(idx, "new.txt", "zyzzyva decoders\n");
  CHECK(idx.group_count() == 0);
  SearchOptions o;
  o.query = "zyzzyva";
  const auto r = idx.search(o);
  REQUIRE(r.ok());
  CHECK(r->matched == 1);
  REQUIRE(r->hits.size() == 1);
  CHECK(r->hits[0].chunk.path == "new.txt");
  std::string tailed;
  idx.serialize(tailed);  // the tail's lists re-encoded, no group among them
  InvertedIndex reloaded;
  REQUIRE(reloaded.deserialize(tailed).ok());
  CHECK(answer(reloaded, "zyzzyva decoding") == answer(idx, "zyzzyva decoding"));
  idx.compact();
  CHECK(idx.group_count() == 4);
  CHECK(brief(idx, "decoders zyzzyva") == merged(idx, "decoders zyzzyva"));
  CHECK(answer(idx, "decoding errors") == answer(reloaded, "decoding errors"));
}

// A freeze in two steps (InvertedIndex::prepare_freeze / commit_freeze, what SegmentIndex::settle
// runs beside searches): what is prepared from an index and committed to it unchanged is exactly
// what freeze() makes; prepared and then outdated by an update, it is refused; a cancel stops it.
TEST_CASE(
    "prepare_freeze and commit_freeze: the same steady state as freeze, refused once outdated") {
  const char* forms[] = {"decode", "decoded", "decoding", "decoder", "error", "errors", "parse",
                         "parsed", "lone",    "token",    "tokens",  "value", "values"};
  const auto fill = [&](InvertedIndex& idx) {
    for (int i = 0; i < 120; ++i) {
      std::string text;
      for (int w = 0; w < 6; ++w) (text += forms[(i * 7 + w * 3) % 13]) += ' ';
      add_file(idx, "f" + std::to_string(i) + ".txt", text + "\n", true);
    }
    idx.compact();
  };
  // Two identical indexes, edited alike: one frozen at once, the other in two steps.
  InvertedIndex a, b;
  fill(a);
  fill(b);
  CHECK(a.steady());
  CHECK(a.prepare_freeze() == nullptr);  // nothing to do in the steady state
  const auto edit = [](InvertedIndex& idx, int round) {
    add_file(idx, "f3.txt", "decoders tokens zyzzyva" + std::to_string(round) + "\n");
    add_file(idx, "g" + std::to_string(round) + ".txt", "values parsed lone decoding\n");
    idx.remove_file("f5.txt");
  };
  edit(a, 0);
  edit(b, 0);
  CHECK_FALSE(b.steady());
  CHECK(b.group_count() == 0);
  const char* queries[] = {"decoding errors", "tokens values lone", "zyzzyva0 decoders", "parsed"};
  for (const char* q : queries) CHECK(answer(a, q) == answer(b, q));
  a.freeze();
  auto prepared = b.prepare_freeze();
  REQUIRE(prepared != nullptr);
  CHECK_FALSE(b.steady());  // preparing changes nothing
  for (const char* q : queries) CHECK(answer(a, q) == answer(b, q));
  InvertedIndex::SettledPtr replaced;  // the tables the commit replaced, freed by the caller
  CHECK(b.commit_freeze(std::move(prepared), &replaced));
  CHECK(replaced != nullptr);
  replaced.reset();
  CHECK(b.steady());
  CHECK(b.group_count() == a.group_count());
  CHECK(b.group_count() > 0);
  CHECK(b.group_postings() == a.group_postings());
  std::string sa, sb;
  a.serialize(sa);
  b.serialize(sb);
  CHECK(sa == sb);
  for (const char* q : queries) CHECK(answer(a, q) == answer(b, q));
  CHECK(b.memory_bytes() == a.memory_bytes());  // after the same searches (their stem caches)
  // Prepared, then outdated by an update: refused, and the index is as the update left it.
  edit(a, 1);
  edit(b, 1);
  prepared = b.prepare_freeze();
  REQUIRE(prepared != nullptr);
  add_file(b, "h.txt", "lone values\n");
  add_file(a, "h.txt", "lone values\n");
  CHECK_FALSE(b.commit_freeze(std::move(prepared)));
  CHECK_FALSE(b.steady());
  for (const char* q : queries) CHECK(answer(a, q) == answer(b, q));
  // A freeze (or a compaction) outdates it too.
  prepared = b.prepare_freeze();
  REQUIRE(prepared != nullptr);
  b.freeze();
  a.freeze();
  add_file(b, "k.txt", "errors\n");
  add_file(a, "k.txt", "errors\n");
  CHECK_FALSE(b.commit_freeze(std::move(prepared)));
  // Cancelled: nothing prepared; a null commit is refused. What it had built is handed back when
  // asked for (to be freed outside the caller's lock), and refused as a commit.
  std::atomic<bool> cancel{true};
  CHECK(b.prepare_freeze(&cancel) == nullptr);
  CHECK_FALSE(b.commit_freeze(nullptr));
  InvertedIndex::SettledPtr stopped;
  CHECK(b.prepare_freeze(&cancel, &stopped) == nullptr);
  REQUIRE(stopped != nullptr);
  CHECK_FALSE(b.commit_freeze(std::move(stopped)));
  CHECK_FALSE(b.steady());
  cancel = false;
  prepared = b.prepare_freeze(&cancel);
  REQUIRE(prepared != nullptr);
  CHECK(b.commit_freeze(std::move(prepared)));
  a.freeze();
  for (const char* q : queries) CHECK(answer(a, q) == answer(b, q));
  a.serialize(sa = {});
  b.serialize(sb = {});
  CHECK(sa == sb);
  // An edit that changes one stem's words only: the settle copies every other group's list as
  // merged before (stale groups) and merges that one again. Each group's list must still be
  // exactly the search's own merge of its words' lists.
  const char* stems[] = {"decoding", "errors", "parsed",
                         "tokens",   "values", "decoders errors tokens values parsed"};
  for (int round = 0; round < 3; ++round) {
    const std::string word = round == 0 ? "decoders" : round == 1 ? "tokens parse" : "values";
    add_file(b, "n" + std::to_string(round) + ".txt", word + "\n");
    b.remove_file("f" + std::to_string(20 + round) + ".txt");
    prepared = b.prepare_freeze();
    REQUIRE(prepared != nullptr);
    REQUIRE(b.commit_freeze(std::move(prepared)));
    CHECK(b.group_count() == a.group_count());
    for (const char* q : stems) {
      INFO(round << ": " << q);
      CHECK(group_page(b, q, false, 200) == group_page(b, q, true, 200));
    }
  }
  // A prepared state of another index (a copy made before an update) is refused too.
  InvertedIndex c = b;
  add_file(c, "m.txt", "tokens\n");
  add_file(b, "m.txt", "tokens\n");
  prepared = c.prepare_freeze();
  REQUIRE(prepared != nullptr);
  CHECK_FALSE(b.commit_freeze(std::move(prepared)));
}

// A freeze after new words stems and sorts only those: sort_terms places each among the words
// sorted before (carrying their stem caches, which the searches before filled), build_groups
// merges their stems into the members it kept. Rounds of new words — joining an old group, making
// a group of an old word alone until then, a group of new words only, words sorting first and
// last — must leave an index that answers as one built from the same files at once.
TEST_CASE("a freeze after new words: stem expansions and groups as in an index built at once") {
  const char* words[] = {"decode", "decoded", "error",  "errors", "lone",  "parse",
                         "token",  "value",   "values", "render", "cache", "widget"};
  std::map<std::string, std::string> files;
  for (int i = 0; i < 80; ++i) {
    std::string text;
    for (int w = 0; w < 5; ++w) (text += words[(i * 5 + w * 7) % 12]) += ' ';
    files["f" + std::to_string(i) + ".txt"] = text + "\n";
  }
  InvertedIndex live;
  for (const auto& [p, t] : files) add_file(live, p, t, true);
  live.compact();
  const std::size_t groups_before = live.group_count();
  const char* queries[] = {"decoding errors",   "lonely values",   "parsing tokens",
                           "rendered caches",   "zebra",           "aardvarks decoders",
                           "widgets rendering", "tokenizing lone", "zzzyzx values"};
  // The searches fill the stem caches of the words under their prefixes.
  for (const char* q : queries) (void)answer(live, q);
  const char* rounds[][2] = {
      {"n0.txt", "decoders lonely zebra zebras"},    // old group, old single word, new group
      {"n1.txt", "aardvark aardvarks tokenizing"},   // sorted first
      {"n2.txt", "zzzyzx zzzyzxes cached caching"},  // sorted last; an old group grows
      {"n3.txt", "widgets rendered renders"},        // old single words become groups
  };
  int r = 0;
  for (const auto& [path, text] : rounds) {
    files[path] = std::string(text) + "\n";
    add_file(live, path, files[path]);
    files.erase("f" + std::to_string(r) + ".txt");
    live.remove_file("f" + std::to_string(r) + ".txt");
    auto prepared = live.prepare_freeze();
    REQUIRE(prepared != nullptr);
    REQUIRE(live.commit_freeze(std::move(prepared)));
    for (const char* q : queries) (void)answer(live, q);
    ++r;
  }
  InvertedIndex once;
  for (const auto& [p, t] : files) add_file(once, p, t, true);
  once.compact();
  CHECK(live.group_count() == once.group_count());
  CHECK(live.group_count() > groups_before);
  CHECK(live.group_postings() == once.group_postings());
  for (const char* q : queries) {
    INFO(q);
    CHECK(answer(live, q) == answer(once, q));
    CHECK(group_page(live, q, false) == group_page(live, q, true));
  }
}

TEST_CASE("SegmentIndex: an index.bin of another format version is rebuilt, not misread") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  for (int i = 0; i < 5; ++i)
    write_text(r / ("m" + std::to_string(i) + ".py"),
               "def f" + std::to_string(i) + "():\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  {
    auto seg = std::move(SegmentIndex::open(r, so).value());
    REQUIRE(seg->build().ok());
  }
  const fs::path bin = r / "_ctx/cache/index.bin";
  std::string data;
  {
    std::ifstream in(bin, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(data.size() > 20);
  std::uint32_t version = 0;
  std::memcpy(&version, data.data() + 8, 4);
  REQUIRE(version == kIndexFormatVersion);
  // The previous version, with a valid checksum (index_checksum), so that only the
  // version check can refuse it.
  version = kIndexFormatVersion - 1;
  std::memcpy(data.data() + 8, &version, 4);
  const std::uint64_t h = index_checksum(std::string_view(data.data(), data.size() - 8));
  std::memcpy(data.data() + data.size() - 8, &h, 8);
  write_text(bin, data);
  {
    auto seg = std::move(SegmentIndex::open(r, so).value());
    auto b = seg->build();
    REQUIRE(b.ok());
    CHECK_FALSE(b->warm);
    CHECK(b->cold_reason.find("other format version") != std::string::npos);
    CHECK(b->files_read == 5);
    SearchOptions o;
    o.query = "f3";
    CHECK(seg->search(o)->hits.at(0).chunk.id == "m3.py#f3");
  }
  // Rewritten in the current format: the next start is warm.
  {
    std::ifstream in(bin, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::memcpy(&version, data.data() + 8, 4);
  CHECK(version == kIndexFormatVersion);
  auto seg = std::move(SegmentIndex::open(r, so).value());
  auto b = seg->build();
  REQUIRE(b.ok());
  CHECK(b->warm);
}

TEST_CASE(
    "SegmentIndex: skeletons and the symbol index read through the segment's reader (one limit, "
    "every byte counted)") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "_ctx/trifecta.json", R"({"max_file_bytes": 4096})");
  write_text(r / "mod.py", "# coding: latin-1\ndef caf\xe9():\n    pass\n");
  write_text(r / "big.py", "x = 1\n" + std::string(5000, '#') + "\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = SegmentIndex::open(r, so);
  REQUIRE(seg.ok());
  auto& reader = (*seg)->reader();
  const auto before = reader.totals().bytes(workspace::ReadPurpose::kSkeleton);
  const fs::path root = fs::canonical(r);
  auto sk = (*seg)->skeletons().get(root / "mod.py", "mod.py");
  REQUIRE(sk.ok());
  CHECK(sk->skeleton->encoding == "latin-1");
  CHECK(reader.totals().bytes(workspace::ReadPurpose::kSkeleton) == before + 39);
  // The segment's limit (4096 here), not a second one of the skeleton cache's.
  auto big = (*seg)->skeletons().get(root / "big.py", "big.py");
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == Errc::kTooLarge);
  // The fallback navigation's table reads the same way: decoded text, counted.
  navigation::SkeletonSymbolIndex symbols(root, (*seg)->skeletons(), {"mod.py", "big.py"});
  CHECK(symbols.failed_files() == 1);
  const auto defs = symbols.definitions_named("caf\xc3\xa9");
  REQUIRE(defs.size() == 1);
  CHECK(defs[0].name_column == 5);  // code-point columns computed on the decoded text
  auto text = symbols.content("mod.py");
  REQUIRE(text.ok());
  CHECK(*text == "# coding: latin-1\ndef caf\xc3\xa9():\n    pass\n");
  CHECK(reader.totals().bytes(workspace::ReadPurpose::kSkeleton) > before + 39);
}

TEST_CASE("ranking: the name field of a module header is its module path, windows have none") {
  Chunk c;
  c.path = "json/decoder.py";
  c.role = ChunkRole::kModule;
  CHECK(name_field_text(c) == "json/decoder");
  c.path = "pkg/__init__.py";
  CHECK(name_field_text(c) == "pkg");
  c.role = ChunkRole::kFunction;
  c.title_path = {"JSONDecoder", "decode"};
  CHECK(name_field_text(c) == "JSONDecoder decode ");
  c.role = ChunkRole::kWindow;
  CHECK(name_field_text(c).empty());
  // Every piece of indexed text goes to one of the fields, path first, body last.
  std::vector<Field> order;
  for_each_field_text(c, "body", [&](Field f, std::string_view) { order.push_back(f); });
  CHECK(order ==
        std::vector<Field>{kFieldPath, kFieldName, kFieldSig, kFieldSig, kFieldBody, kFieldDoc});
}

TEST_CASE("ranking: a term's field shares sum to its score, the name field outweighs the body") {
  const FieldAverages avg{4.0, 2.0, 6.0, 40.0, 10.0};
  const NormTable norms = norm_table(avg);
  // An average chunk: no length normalisation (every length is exact under its code).
  const FieldLengths len{length_code(4), length_code(2), length_code(6), length_code(40),
                         length_code(10)};
  std::array<double, kFieldCount> per{};
  const double s = score_term(FieldTfs{1, 1, 0, 3, 0}, len, 2.0, norms, &per);
  CHECK(per[0] + per[1] + per[2] + per[3] + per[4] == Approx(s));
  CHECK(per[2] == 0.0);
  for (std::size_t f = 0; f < kFieldCount; ++f)
    CHECK(norms[f][len[f]] == Approx(kFieldParams[f].weight));
  CHECK(score_term(FieldTfs{0, 1, 0, 0, 0}, len, 2.0, norms, nullptr) >
        score_term(FieldTfs{0, 0, 0, 3, 0}, len, 2.0, norms, nullptr));
  // A longer body weighs a body match less (b > 0), a shorter one more.
  FieldLengths longer = len, shorter = len;
  longer[kFieldBody] = length_code(400);
  shorter[kFieldBody] = length_code(10);
  CHECK(score_term(FieldTfs{0, 0, 0, 3, 0}, longer, 2.0, norms, nullptr) <
        score_term(FieldTfs{0, 0, 0, 3, 0}, len, 2.0, norms, nullptr));
  CHECK(score_term(FieldTfs{0, 0, 0, 3, 0}, shorter, 2.0, norms, nullptr) >
        score_term(FieldTfs{0, 0, 0, 3, 0}, len, 2.0, norms, nullptr));
  CHECK(bm25_idf(100, 1) > bm25_idf(100, 50));
  CHECK(field_averages({}, 0) == FieldAverages{1.0, 1.0, 1.0, 1.0, 1.0});
}

TEST_CASE(
    "ranking: a field's length code is exact below 32 tokens, at most 1/16 under above, and "
    "survives a reload") {
  for (std::uint64_t n = 0; n < 32; ++n) CHECK(code_length(length_code(n)) == n);
  // Every count up to the largest code: rounded down, by less than 1/16; the codes rise with it.
  std::uint8_t previous = 0;
  bool within = true, monotone = true;
  for (std::uint64_t n = 32; n <= (std::uint64_t{31} << 14) + 100; ++n) {
    const std::uint8_t c = length_code(n);
    const std::uint64_t back = code_length(c);
    if (n <= (std::uint64_t{31} << 14) && !(back <= n && (n - back) * 16 < n)) within = false;
    if (c < previous) monotone = false;
    previous = c;
  }
  CHECK(within);
  CHECK(monotone);
  // A code stands for its own smallest count (what serialize writes and deserialize reads back).
  for (unsigned c = 0; c < 256; ++c)
    CHECK(length_code(code_length(static_cast<std::uint8_t>(c))) == c);
  CHECK(length_code(std::uint64_t{1} << 40) == 255);
  // One-line files are not cut (chunk.hpp): a chunk of 70,001 body tokens scores "needle" below
  // one of 65,535 (their codes differ), bodies of 64 and 65 tokens share a code and tie (the
  // tie goes to the path), and a short file with the word scores above all.
  const auto words = [](int n) {
    std::string line;
    for (int i = 0; i < n; ++i) line += "filler ";
    return line + "needle\n";
  };
  REQUIRE(length_code(64) == length_code(65));
  auto idx = index_of({{"a.txt", words(70000)},
                       {"b.txt", words(65534)},
                       {"c.txt", "a needle here\n"},
                       {"d.txt", words(63)},
                       {"e.txt", words(64)}});
  SearchOptions o;
  o.query = "needle";
  const auto r = idx.search(o);
  REQUIRE(r.ok());
  REQUIRE(r->hits.size() == 5);
  CHECK(r->hits[0].chunk.path == "c.txt");
  CHECK(r->hits[1].chunk.path == "d.txt");
  CHECK(r->hits[2].chunk.path == "e.txt");
  CHECK(r->hits[1].score == r->hits[2].score);
  CHECK(r->hits[3].chunk.path == "b.txt");
  CHECK(r->hits[4].chunk.path == "a.txt");
  CHECK(r->hits[3].score > r->hits[4].score);
  std::string blob;
  idx.serialize(blob);
  InvertedIndex copy;
  REQUIRE(copy.deserialize(blob).ok());
  const auto again = copy.search(o);
  REQUIRE(again.ok());
  REQUIRE(again->hits.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(again->hits[i].chunk.path == r->hits[i].chunk.path);
    CHECK(again->hits[i].score == r->hits[i].score);
  }
}

namespace {

// index.bin's header: magic, u32 format version, then length-prefixed strings (extractor,
// tokenizer, ranking version, config fingerprint). Returns the offset of string `k` (0-based).
std::size_t header_string_at(const std::string& data, int k) {
  std::size_t pos = 8 + 4;
  for (int i = 0; i < k; ++i) {
    std::uint32_t n = 0;
    std::memcpy(&n, data.data() + pos, 4);
    pos += 4 + n;
  }
  return pos;
}

std::string read_header_string(const std::string& data, int k) {
  const std::size_t pos = header_string_at(data, k);
  std::uint32_t n = 0;
  std::memcpy(&n, data.data() + pos, 4);
  return data.substr(pos + 4, n);
}

}  // namespace

TEST_CASE("SegmentIndex: an index.bin of another ranking version is rebuilt cold, not reused") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  for (int i = 0; i < 5; ++i) {
    write_text(r / ("m" + std::to_string(i) + ".py"),
               "def f" + std::to_string(i) + "():\n    pass\n");
  }
  SegmentOptions so;
  so.use_git = false;
  {
    auto seg = std::move(SegmentIndex::open(r, so).value());
    REQUIRE(seg->build().ok());
  }
  const fs::path bin = r / "_ctx/cache/index.bin";
  const auto read_bin = [&] {
    std::ifstream in(bin, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  std::string data = read_bin();
  REQUIRE(data.size() > 40);
  REQUIRE(read_header_string(data, 1) == kTokenizerVersion);
  REQUIRE(read_header_string(data, 2) == kRankingVersion);
  // What a build with another ranking version would have written: the same file with another
  // ranking version string (of another length, too) and a valid checksum, so that only the
  // ranking version check can refuse it.
  const std::string other = std::string(kRankingVersion) + "-old";
  const std::size_t at = header_string_at(data, 2);
  std::string forged = data.substr(0, at);
  const auto n = static_cast<std::uint32_t>(other.size());
  forged.append(reinterpret_cast<const char*>(&n), 4);
  forged += other;
  forged += data.substr(at + 4 + kRankingVersion.size(),
                        data.size() - 8 - (at + 4 + kRankingVersion.size()));
  const std::uint64_t h = index_checksum(forged);
  forged.append(reinterpret_cast<const char*>(&h), 8);
  write_text(bin, forged);
  {
    auto seg = std::move(SegmentIndex::open(r, so).value());
    auto b = seg->build();
    REQUIRE(b.ok());
    CHECK_FALSE(b->warm);
    CHECK(b->cold_reason.find("other ranking version") != std::string::npos);
    CHECK(b->files_read == 5);
    SearchOptions o;
    o.query = "f3";
    CHECK(seg->search(o)->hits.at(0).chunk.id == "m3.py#f3");
  }
  // Rewritten with the current ranking version: the next start is warm and reads nothing.
  CHECK(read_header_string(read_bin(), 2) == kRankingVersion);
  auto seg = std::move(SegmentIndex::open(r, so).value());
  auto b = seg->build();
  REQUIRE(b.ok());
  CHECK(b->warm);
  CHECK(b->files_read == 0);
}

TEST_CASE(
    "SegmentIndex: index.bin.tmp files left by a crashed writer are removed by the next build") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "a.py", "def alpha():\n    pass\n");
  // pid_max is at most 2^22: this writer cannot be running. The other name is not ours to touch.
  write_text(r / "_ctx/cache/index.bin.tmp-99999999", "half an index");
  write_text(r / "_ctx/cache/index.bin.tmp-garbage", "half an index");
  write_text(r / "_ctx/cache/unrelated.tmp-1", "keep");
  SegmentOptions so;
  so.use_git = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  auto b = seg->build();
  REQUIRE(b.ok());
  CHECK_FALSE(fs::exists(r / "_ctx/cache/index.bin.tmp-99999999"));
  CHECK_FALSE(fs::exists(r / "_ctx/cache/index.bin.tmp-garbage"));
  CHECK(fs::exists(r / "_ctx/cache/unrelated.tmp-1"));
  CHECK(fs::exists(r / "_ctx/cache/index.bin"));
  CHECK(std::any_of(b->warnings.begin(), b->warnings.end(), [](const std::string& w) {
    return w.find("removed 2 index.bin.tmp-* file(s)") != std::string::npos;
  }));
}

TEST_CASE("SegmentIndex: files deeper than PATH_MAX are recorded as skipped, path_too_long") {
  trifecta::test::TempDir t;
  const fs::path r = fs::canonical(t.path());
  write_text(r / "top.py", "def top():\n    pass\n");
  // Directories of 200-byte names, 25 levels deep (over 5,000 bytes), made relative to an open
  // directory: the absolute path cannot be used at the bottom.
  const std::string name(200, 'd');
  int dir = ::open(r.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(dir >= 0);
  for (int level = 0; level < 25; ++level) {
    REQUIRE(::mkdirat(dir, name.c_str(), 0755) == 0);
    const int next = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(next >= 0);
    ::close(dir);
    dir = next;
    // A file at every level: the shallow ones are indexed, the deep ones are skipped.
    const int f = ::openat(dir, "m.py", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(f >= 0);
    REQUIRE(::write(f, "x = 1\n", 6) == 6);
    ::close(f);
  }
  ::close(dir);
  {
    SegmentOptions so;
    so.use_git = false;
    so.persist = false;
    auto seg = std::move(SegmentIndex::open(r, so).value());
    REQUIRE(seg->build().ok());
    auto st = seg->status();
    CHECK(st.skip_reasons["path_too_long"] >= 1);
    CHECK(st.files_indexed >= 10);  // top.py and the shallow m.py files
    bool named = false;
    for (const auto& rec : st.skipped) {
      if (rec.skip_reason == "path_too_long")
        named = rec.detail.find("PATH_MAX") != std::string::npos;
    }
    CHECK(named);
    // validate agrees with build (nothing stale, missing or added), and so does a rescan.
    auto v = seg->validate();
    REQUIRE(v.ok());
    CHECK(v->ok());
  }
  // std::filesystem::remove_all cannot descend that deep; rm can.
  REQUIRE(std::system(("rm -rf '" + (r / name).string() + "'").c_str()) == 0);
}

TEST_CASE("SegmentIndex: sync() does not wait for a build, it answers from the last generation") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  for (int i = 0; i < 4; ++i)
    write_text(r / ("m" + std::to_string(i) + ".py"), "def f():\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  so.threads = 1;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->start_watching().ok());  // armed before the walk
  std::atomic<bool> in_build{false}, release{false};
  std::thread builder([&] {
    (void)seg->build([&](std::size_t, std::size_t) {
      in_build = true;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  });
  while (!in_build) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  write_text(r / "late.py", "def written_during_the_build():\n    pass\n");
  const auto t0 = std::chrono::steady_clock::now();
  const ApplyReport during = seg->sync();
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(during.deferred);
  CHECK(during.generation == 0);            // nothing published yet
  CHECK(waited < std::chrono::seconds(2));  // it returned while the build was still held
  release = true;
  builder.join();
  const ApplyReport after = seg->sync();  // the queued change is applied now
  CHECK_FALSE(after.deferred);
  CHECK(after.added == 1);
  CHECK(seg->file("late.py").has_value());
}

TEST_CASE(
    "SegmentIndex: a segment root deleted and re-created is noticed, re-watched and rescanned") {
  trifecta::test::TempDir t;
  const fs::path r = fs::canonical(t.path()) / "seg";
  write_text(r / "a.py", "def before_the_removal():\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->start_watching().ok());
  REQUIRE(seg->build().ok());
  CHECK(seg->status().watching);

  fs::remove_all(r);
  (void)seg->sync();
  auto gone = seg->status();
  CHECK_FALSE(gone.watching);  // said plainly, not `watching: true` over nothing
  CHECK(std::any_of(gone.warnings.begin(), gone.warnings.end(), [](const std::string& w) {
    return w.find("segment root is gone") != std::string::npos;
  }));

  write_text(r / "b.py", "def after_the_recreation():\n    pass\n");
  (void)seg->sync();  // another directory at the root's path: rescanned
  CHECK(seg->file("b.py").has_value());
  CHECK_FALSE(seg->file("a.py").has_value());
  auto back = seg->status();
  CHECK(back.watching);
  CHECK(std::any_of(back.warnings.begin(), back.warnings.end(), [](const std::string& w) {
    return w.find("re-created") != std::string::npos;
  }));
  // And it is watched again: a later file is seen by the next sync.
  write_text(r / "c.py", "def later_still():\n    pass\n");
  (void)seg->sync();
  CHECK(seg->file("c.py").has_value());
  auto v = seg->validate();
  REQUIRE(v.ok());
  CHECK(v->ok());
}

TEST_CASE("python chunks: a long run of module-level assignments is split into named runs") {
  // A settings module: 400 lines of assignments in blank-line separated groups, one multi-line
  // dict that must never be cut inside.
  std::string src = "\"\"\"Default settings.\"\"\"\nimport os\n\n";
  int group = 0;
  while (std::count(src.begin(), src.end(), '\n') < 400) {
    src += "# group " + std::to_string(group) + "\n";
    for (int k = 0; k < 6; ++k)
      src += "SETTING_" + std::to_string(group) + "_" + std::to_string(k) + " = " +
             std::to_string(k) + "\n";
    if (group == 7) {
      src += "LANGUAGES = [\n";
      for (int k = 0; k < 30; ++k) src += "\n    ('l" + std::to_string(k) + "', 'Language'),\n";
      src += "]\n";
    }
    src += "\n";
    ++group;
  }
  auto cs = chunk_py("conf/global_settings.py", src);
  REQUIRE(cs.size() > 4);
  CHECK(cs[0].id == "conf/global_settings.py#<module>");
  CHECK(cs[0].start_line == 1);
  CHECK(cs[0].signature == "Default settings.");
  const auto starts = line_starts(src);
  for (std::size_t i = 0; i < cs.size(); ++i) {
    INFO(cs[i].id);
    CHECK(cs[i].role == ChunkRole::kModule);
    CHECK(cs[i].end_line - cs[i].start_line + 1 <= kModuleRunLines);
    if (i > 0) {
      // Named after the first name the run assigns; starts at a comment or statement at column 0.
      CHECK(cs[i].id.rfind("conf/global_settings.py#<module>+", 0) == 0);
      const auto first = std::string(line_span(src, starts, cs[i].start_line, cs[i].start_line));
      CHECK((first[0] == '#' || first[0] == 'S' || first[0] == 'L'));
      CHECK(cs[i].start_line > cs[i - 1].end_line);
      // Nothing but blank lines between runs.
      for (int l = cs[i - 1].end_line + 1; l < cs[i].start_line; ++l)
        CHECK(line_span(src, starts, l, l) == "\n");
    }
  }
  CHECK(cs.back().end_line == static_cast<int>(std::count(src.begin(), src.end(), '\n')) - 1);
  // The second run is named by its first assignment.
  const auto second = std::string(line_span(src, starts, cs[1].start_line, cs[1].start_line + 1));
  const std::string name =
      second.substr(second.find("SETTING_"), second.find(" = ") - second.find("SETTING_"));
  CHECK(cs[1].id == "conf/global_settings.py#<module>+" + name);
  // The multi-line list stays in one run.
  int lang = 0;
  for (int l = 1; l < static_cast<int>(starts.size()); ++l) {
    if (line_span(src, starts, l, l).rfind("LANGUAGES = [", 0) == 0) lang = l;
  }
  REQUIRE(lang > 0);
  bool whole = false;
  for (const auto& c : cs) whole = whole || (c.start_line <= lang && c.end_line >= lang + 61);
  CHECK(whole);
  // Never inside a string, a bracket, or between `if` and its `else:`: each construct puts a
  // column-0 line after a blank line exactly where a naive cut would fall (line 81).
  const std::vector<std::pair<std::string, std::string>> constructs{
      {"\nTEMPLATE = \"\"\"\nline\n\n", "NOT_A_NAME = 1\n\"\"\"\n"},
      {"\nCALL = f(\n    1,\n\n", "PARAM=2)\n"},
      {"\nif A1:\n    B = 1\n\n", "else:\n    B = 2\n"},
  };
  for (const auto& [before, bad] : constructs) {
    std::string tricky = "\"\"\"Doc.\"\"\"\n";
    for (int k = 0; k < 80 - 1 - 4; ++k)
      tricky += "A" + std::to_string(k) + " = " + std::to_string(k) + "\n";
    tricky += before + bad;
    for (int k = 0; k < 100; ++k)
      tricky += "\nZ" + std::to_string(k) + " = " + std::to_string(k) + "\n";
    const auto ts = line_starts(tricky);
    REQUIRE(std::string(line_span(tricky, ts, 81, 81)) == bad.substr(0, bad.find('\n') + 1));
    const auto tc = chunk_py("t.py", tricky);
    REQUIRE(tc.size() > 1);
    for (const auto& c : tc) {
      INFO(bad << c.id);
      CHECK(c.start_line != 81);
      CHECK(c.id.find("NOT_A_NAME") == std::string::npos);
    }
  }
  // Quotes and brackets in a comment, and strings closed on their line, open nothing: the cut
  // falls on line 81 as for plain assignments.
  const std::vector<std::string> harmless{
      "\n# it's ( not code\n\n", "\nS = '(' + \"[\"  # {\n\n", "\nT = \"\"\"((\n'\n\"\"\"\n\n",
      "\nU = 'a\\\\'\n\n",  // an escaped backslash before the closing quote
  };
  for (const auto& before : harmless) {
    std::string plain = "\"\"\"Doc.\"\"\"\n";
    const int extra = static_cast<int>(std::count(before.begin(), before.end(), '\n'));
    for (int k = 0; k < 80 - 1 - extra; ++k)
      plain += "A" + std::to_string(k) + " = " + std::to_string(k) + "\n";
    plain += before + "CUT_HERE = 1\n";
    for (int k = 0; k < 100; ++k)
      plain += "\nZ" + std::to_string(k) + " = " + std::to_string(k) + "\n";
    const auto ps = line_starts(plain);
    REQUIRE(std::string(line_span(plain, ps, 81, 81)) == "CUT_HERE = 1\n");
    bool cut = false;
    for (const auto& c : chunk_py("p.py", plain)) cut = cut || c.start_line == 81;
    INFO(before);
    CHECK(cut);
  }
  // Short top-level code is not cut.
  auto small = chunk_py("s.py", "A = 1\nB = 2\n\nC = 3\n");
  REQUIRE(small.size() == 1);
  CHECK(small[0].id == "s.py#<module>");
}

TEST_CASE("chunks: no chunk is over the token cap, the first piece keeps the id") {
  // A very long function (about 40 KB), a long Markdown section and long text windows.
  std::string py = "import os\n\n\ndef huge(a):\n    \"\"\"Huge.\"\"\"\n";
  for (int i = 0; i < 1500; ++i) {
    py += "    value_" + std::to_string(i) + " = a + " + std::to_string(i) + "\n";
    if (i % 40 == 39) py += "\n";
  }
  py += "    return a\n\n\ndef small():\n    return 1\n";
  auto cs = chunk_py("m.py", py);
  std::vector<Chunk> huge;
  for (const auto& c : cs) {
    CHECK(c.tokens <= kMaxChunkTokens);
    if (c.id.rfind("m.py#huge", 0) == 0) huge.push_back(c);
  }
  REQUIRE(huge.size() >= 4);
  CHECK(huge[0].id == "m.py#huge");
  CHECK(!huge[0].signature.empty());
  CHECK(huge[1].id == "m.py#huge~2");
  CHECK(huge[1].title == "huge (part 2)");
  CHECK(huge[1].context == "def huge(a):");
  CHECK(huge[1].role == ChunkRole::kFunction);
  CHECK(huge[1].signature.empty());
  for (std::size_t i = 1; i < huge.size(); ++i)
    CHECK(huge[i].start_line == huge[i - 1].end_line + 1);
  CHECK(cs.back().id == "m.py#small");
  // The pieces cover the function exactly, and their hashes are of their own text.
  const auto starts = line_starts(py);
  std::string joined;
  for (const auto& c : huge) {
    const auto span = line_span(py, starts, c.start_line, c.end_line);
    CHECK(c.sha256 == sha256_hex(span));
    joined += span;
  }
  CHECK(joined.rfind("def huge(a):\n", 0) == 0);
  CHECK(joined.find("    return a\n") != std::string::npos);

  std::string md = "# Title\n";
  for (int i = 0; i < 800; ++i)
    md += "A sentence of prose number " + std::to_string(i) + " that goes on.\n";
  for (const auto& c : chunk_markdown("d.md", md)) CHECK(c.tokens <= kMaxChunkTokens);
  CHECK(chunk_markdown("d.md", md).size() > 3);

  std::string wide;
  for (int i = 0; i < 60; ++i) wide += std::string(400, 'x') + "\n";
  for (const auto& c : chunk_text("w.txt", wide, ChunkKind::kOther))
    CHECK(c.tokens <= kMaxChunkTokens);
  // One line longer than the cap stays whole (chunks hold whole lines).
  const std::string line(kMaxChunkTokens * 4 + 100, 'y');
  auto one = chunk_text("min.js", line + "\n", ChunkKind::kCode);
  REQUIRE(one.size() == 1);
  CHECK(one[0].tokens > kMaxChunkTokens);
}

namespace {

// A tree with a known import graph: app → api, core; __init__ → core; api → core, util;
// core → util; lone and util import nothing in the tree.
void write_import_tree(const fs::path& r) {
  write_text(r / "pkg/__init__.py", "from .core import Engine\n");
  write_text(
      r / "pkg/core.py",
      "from pkg import util\n\nclass Engine:\n    def run(self):\n        return util.helper()\n");
  write_text(r / "pkg/util.py", "def helper():\n    return 1\n");
  write_text(r / "pkg/api.py",
             "import os\nfrom .core import Engine\nfrom . import util\n\ndef serve():\n    return "
             "Engine()\n");
  write_text(r / "app.py",
             "import pkg.api\nfrom pkg.core import Engine\n\ndef main():\n    pkg.api.serve()\n");
  write_text(r / "lone.py", "def alone():\n    pass\n");
  write_text(r / "README.md", "# Readme\nimport pkg\n");
}

}  // namespace

TEST_CASE("centrality: import references, the graph and its PageRank on a known tree") {
  auto refs = [](std::string_view path, std::string_view src) {
    auto sk = ast::extract_skeleton(src);
    REQUIRE(sk.ok());
    return import_refs(path, *sk);
  };
  CHECK(refs("pkg/api.py", "import os\nfrom .core import Engine\nfrom . import util\n") ==
        std::vector<std::string>{"os", "pkg.core:Engine", "pkg:util"});
  CHECK(refs("pkg/__init__.py", "from . import a\nfrom .. import b\n") ==
        std::vector<std::string>{":b", "pkg:a"});
  CHECK(refs("m.py", "from x.y import *\nimport a.b as c\nfrom p import q as r, s as s\n") ==
        std::vector<std::string>{"a.b", "p:q as r", "p:s", "x.y:*"});

  std::map<std::string, std::vector<std::string>> imports{
      {"app.py", {"pkg.api", "pkg.core:Engine"}},
      {"lone.py", {}},
      {"pkg/__init__.py", {"pkg.core:Engine"}},
      {"pkg/api.py", {"os", "pkg.core:Engine", "pkg:util"}},
      {"pkg/core.py", {"pkg:util as _u", "pkg.core:Engine"}},  // a self-import is no edge
      {"pkg/util.py", {"pkg.core:*"}},  // a wildcard's edge is its module's; deleted below
      {"README.md", {"pkg"}},           // not Python: no node
  };
  CHECK(build_import_graph(imports).out[5] == std::vector<std::size_t>{4});
  imports["pkg/util.py"].clear();
  const auto g = build_import_graph(imports);
  REQUIRE(g.nodes == std::vector<std::string>{"app.py", "lone.py", "pkg/__init__.py", "pkg/api.py",
                                              "pkg/core.py", "pkg/util.py"});
  CHECK(g.out[0] == std::vector<std::size_t>{3, 4});
  CHECK(g.out[1].empty());
  CHECK(g.out[2] == std::vector<std::size_t>{4});
  CHECK(g.out[3] == std::vector<std::size_t>{4, 5});
  CHECK(g.out[4] == std::vector<std::size_t>{5});
  CHECK(g.out[5].empty());
  // Reference values from a plain power iteration (damping 0.85, dangling rank spread evenly).
  const auto pr = pagerank(g);
  REQUIRE(pr.size() == 6);
  const double want[] = {0.528179, 0.528179, 0.528179, 0.752655, 1.521486, 2.141321};
  double sum = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(pr[i] == Approx(want[i]).margin(1e-5));
    sum += pr[i];
  }
  CHECK(sum == Approx(6.0));
  CHECK(pagerank(g) == pr);  // deterministic, bit for bit
  CHECK(pagerank(ImportGraph{}).empty());
}

TEST_CASE("centrality: a package-root tree resolves its own absolute imports through the prefix") {
  // The tree is the package `django` itself: its files import each other as django.x.
  std::map<std::string, std::vector<std::string>> imports{
      {"__init__.py", {"django.utils.version:get_version"}},
      {"db/__init__.py", {"django.db.utils:ConnectionHandler"}},
      {"db/utils.py", {"django.utils:version"}},
      {"utils/__init__.py", {}},
      {"utils/version.py", {"djangox.other", "django"}},
  };
  const auto plain = build_import_graph(imports);
  for (const auto& out : plain.out) CHECK(out.empty());  // without the prefix: no edge at all
  const auto g = build_import_graph(imports, "django");
  REQUIRE(g.nodes.size() == 5);
  CHECK(g.out[0] == std::vector<std::size_t>{4});  // __init__ → utils/version.py
  CHECK(g.out[1] == std::vector<std::size_t>{2});  // db → db/utils.py
  CHECK(g.out[2] == std::vector<std::size_t>{4});  // the submodule, not utils/__init__.py
  CHECK(g.out[4] ==
        std::vector<std::size_t>{0});  // `django` is the root __init__.py; djangox is not
  const auto c = import_centrality(imports, "django");
  CHECK(c.at("utils/version.py") > 1.0);
}

TEST_CASE("centrality: a package's re-exports are followed to the modules that define them") {
  using Exports = std::map<std::string, PackageExports>;
  std::map<std::string, std::vector<std::string>> imports{
      // the package's interface: two functions, a class under another name, a private alias, a
      // submodule, a module outside the package, everything of fields.py
      {"pkg/__init__.py",
       {"pkg.api:get", "pkg.api:post", "pkg.models:Request as Req", "pkg.models:Hidden as _Hidden",
        "pkg:api", "outside:thing", "pkg.fields:*", "os:path"}},
      {"pkg/api.py", {"pkg.sessions:post", "pkg.sessions:Session"}},  // post is passed on
      {"pkg/models.py", {}},
      {"pkg/fields.py", {"pkg.fields_base:*"}},  // `*` passes on through `*` only
      {"pkg/fields_base.py", {}},
      {"pkg/sessions.py", {}},
      {"outside.py", {}},
      {"pkg/sub/__init__.py", {"pkg.sub.leaf:Leaf", "pkg.models:Request"}},  // models is not below
      {"pkg/sub/leaf.py", {}},
      {"lone.py", {"pkg.api:get"}},  // not a package: exports nothing
  };
  // pkg/ is imported by one of the two files outside it (lone.py): half an interface; nothing
  // outside pkg/sub/ imports it. Each package's own public names are its interface too ("*").
  CHECK(package_exports(imports) == Exports{{"pkg/__init__.py", {{"*"}, 0.5}},
                                            {"pkg/api.py", {{"get", "post"}, 0.5}},
                                            {"pkg/fields.py", {{"*"}, 0.5}},
                                            {"pkg/fields_base.py", {{"*"}, 0.5}},
                                            {"pkg/models.py", {{"Request"}, 0.5}},
                                            {"pkg/sessions.py", {{"post"}, 0.5}},
                                            {"pkg/sub/__init__.py", {{"*"}, 1.0}},
                                            {"pkg/sub/leaf.py", {{"Leaf"}, 1.0}}});
  // A package most of the rest of the tree imports is its toolkit: little of an interface.
  imports["outside.py"] = {"pkg.models:Request"};
  CHECK(package_exports(imports).at("pkg/api.py").interface == 0.0);
  CHECK(package_exports(imports).at("pkg/sub/leaf.py").interface == 1.0);
  // A package's own names keep its own share when a toolkit parent's `*` reaches them first:
  // the largest share counts.
  const std::map<std::string, std::vector<std::string>> nested{
      {"a.py", {"pkg.x:f"}}, {"b.py", {"pkg.x:g"}},       {"pkg/__init__.py", {"pkg.sub:*"}},
      {"pkg/x.py", {}},      {"pkg/sub/__init__.py", {}},
  };
  CHECK(package_exports(nested).at("pkg/__init__.py").interface == 0.0);
  CHECK(package_exports(nested).at("pkg/sub/__init__.py").interface == 0.75);
  // A package-root tree's own absolute imports; its root __init__.py exports from the whole tree.
  std::map<std::string, std::vector<std::string>> root{
      {"__init__.py", {"sa.sql:select", "sa.engine:create_engine"}},
      {"sql/__init__.py", {"sa.sql.expression:select"}},
      {"sql/expression.py", {"sa.sql.selectable:select as select"}},
      {"sql/selectable.py", {}},
      {"engine/__init__.py", {"sa.engine.create:create_engine"}},
      {"engine/create.py", {}},
  };
  // The root package's exports are a whole interface (nothing is outside it), also where
  // engine/__init__.py (imported by the root) passes them on.
  CHECK(package_exports(root, "sa") ==
        Exports{{"__init__.py", {{"*"}, 1.0}},
                {"engine/__init__.py", {{"*", "create_engine"}, 1.0}},
                {"engine/create.py", {{"create_engine"}, 1.0}},
                {"sql/__init__.py", {{"*", "select"}, 1.0}},
                {"sql/expression.py", {{"select"}, 1.0}},
                {"sql/selectable.py", {{"select"}, 1.0}}});
  // Without the prefix no import resolves: the packages' own names alone. engine/ is then
  // imported by nothing outside it: a whole interface.
  CHECK(package_exports(root) == Exports{{"__init__.py", {{"*"}, 1.0}},
                                         {"engine/__init__.py", {{"*"}, 1.0}},
                                         {"sql/__init__.py", {{"*"}, 1.0}}});
}

TEST_CASE("SegmentIndex: a package-root tree gets centrality from its package-prefixed imports") {
  trifecta::test::TempDir t;
  const fs::path r = t.path() / "mypkg";
  write_text(r / "__init__.py", "from mypkg.core import run\n");
  write_text(r / "core.py", "import mypkg.util\n\ndef run():\n    pass\n");
  write_text(r / "api.py", "from mypkg import util\nfrom mypkg.core import run\n");
  write_text(r / "util.py", "def helper():\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  CHECK(seg->centrality("util.py") > seg->centrality("api.py"));
  CHECK(seg->central_files("")[0].path == "util.py");
}

TEST_CASE("SegmentIndex: central files carry their package's re-exports, current after an edit") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "pkg" / "__init__.py", "from .api import get\nfrom .models import *\n");
  write_text(r / "pkg" / "api.py", "def get():\n    pass\n\ndef post():\n    pass\n");
  write_text(r / "pkg" / "models.py", "class Model:\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  const auto exports = [&seg](const std::string& path) {
    for (const auto& f : seg->central_files("pkg"))
      if (f.path == path) return f.exports;
    FAIL("not a central file: " << path);
    return std::vector<std::string>{};
  };
  CHECK(exports("pkg/api.py") == std::vector<std::string>{"get"});
  CHECK(exports("pkg/models.py") == std::vector<std::string>{"*"});
  CHECK(exports("pkg/__init__.py") == std::vector<std::string>{"*"});  // its own names
  write_text(r / "pkg" / "__init__.py", "from .api import get, post\n");
  (void)seg->apply_changes({"pkg/__init__.py"});
  CHECK(exports("pkg/api.py") == std::vector<std::string>{"get", "post"});
  CHECK(exports("pkg/models.py").empty());
  // An edit that keeps every import keeps them (not worked out again); one that adds an import
  // of a package's name brings it in.
  write_text(r / "pkg" / "api.py", "def get():\n    return 1\n\ndef post():\n    pass\n");
  (void)seg->apply_changes({"pkg/api.py"});
  CHECK(exports("pkg/api.py") == std::vector<std::string>{"get", "post"});
  write_text(r / "pkg" / "__init__.py", "from .api import get, post\nfrom .models import Model\n");
  (void)seg->apply_changes({"pkg/__init__.py"});
  CHECK(exports("pkg/models.py") == std::vector<std::string>{"Model"});
  write_text(r / "pkg" / "__init__.py", "from .api import get, post\n");
  (void)seg->apply_changes({"pkg/__init__.py"});
  // Loaded from index.bin: the same (the references persist; the exports are worked out again).
  seg.reset();
  auto again = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(again->build().ok());
  for (const auto& f : again->central_files("pkg"))
    if (f.path == "pkg/api.py") CHECK(f.exports == std::vector<std::string>{"get", "post"});
}

TEST_CASE("SegmentIndex: a vendored file's own imports are not edges of the centrality graph") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  // Three vendored modules import _vendor/lib/base.py; the tree's own code imports one of them
  // and its own util.py twice.
  write_text(r / "_vendor" / "__init__.py", "");
  write_text(r / "_vendor" / "lib" / "__init__.py", "");
  write_text(r / "_vendor" / "lib" / "base.py", "X = 1\n");
  for (const char* m : {"a", "b", "c"})
    write_text(r / "_vendor" / "lib" / (std::string(m) + ".py"), "from _vendor.lib import base\n");
  write_text(r / "util.py", "def helper():\n    pass\n");
  write_text(r / "main.py", "from _vendor.lib import a\nimport util\n");
  write_text(r / "cli.py", "import util\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  CHECK(seg->central_files("")[0].path == "util.py");
  // base.py is imported only by vendored files: it ranks as a file nothing imports.
  CHECK(seg->centrality("_vendor/lib/base.py") == Approx(seg->centrality("cli.py")));
  CHECK(seg->centrality("_vendor/lib/a.py") >
        seg->centrality("_vendor/lib/b.py"));  // main.py uses a
}

TEST_CASE(
    "SegmentIndex: centrality is computed at build, follows edits and survives a warm restart") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_import_tree(r);
  SegmentOptions so;
  so.use_git = false;
  {
    auto seg = std::move(SegmentIndex::open(r, so).value());
    REQUIRE(seg->build().ok());
    CHECK(seg->centrality("pkg/util.py") == Approx(2.141321).margin(1e-5));
    CHECK(seg->centrality("pkg/core.py") == Approx(1.521486).margin(1e-5));
    CHECK(seg->centrality("README.md") == 0.0);
    CHECK(seg->centrality("nope.py") == 0.0);
    CHECK(seg->file("pkg/api.py")->imports ==
          std::vector<std::string>{"os", "pkg.core:Engine", "pkg:util"});
    const auto all = seg->central_files("");
    REQUIRE(all.size() == 6);
    CHECK(all[0].path == "pkg/util.py");
    CHECK(all[1].path == "pkg/core.py");
    CHECK(all[2].path == "pkg/api.py");
    CHECK(all[3].path == "app.py");  // ties: path order
    const auto sub = seg->central_files("pkg/", 2);
    REQUIRE(sub.size() == 2);
    CHECK(sub[0].path == "pkg/util.py");
    CHECK(seg->central_files("pkg/core.py").size() == 1);
    CHECK(seg->central_files("pk").empty());
    // An edit that keeps every import: the graph, so every score, is as it was (no recompute),
    // and the edited file's new chunks rank with its score, as a fresh build's do.
    write_text(r / "pkg/util.py",
               "def helper():\n    \"\"\"Return one, the helper value.\"\"\"\n    return 1\n");
    write_text(r / "README.md", "# Readme\nimport lone\n");  // not Python: not in the graph
    (void)seg->apply_changes({"pkg/util.py", "README.md"});
    CHECK(seg->centrality("pkg/util.py") == Approx(2.141321).margin(1e-5));
    CHECK(seg->centrality("pkg/core.py") == Approx(1.521486).margin(1e-5));
    CHECK(seg->file("pkg/util.py")->centrality == seg->centrality("pkg/util.py"));
    {
      SegmentOptions cold = so;
      cold.persist = false;
      auto fresh = std::move(SegmentIndex::open(r, cold).value());
      REQUIRE(fresh->build().ok());
      for (const char* path : {"pkg/util.py", "pkg/core.py", "pkg/api.py", "app.py", "lone.py"}) {
        CHECK(seg->centrality(path) == fresh->centrality(path));
      }
      SearchOptions o;
      o.query = "helper value";
      const auto x = seg->search(o), y = fresh->search(o);
      REQUIRE(x.ok());
      REQUIRE(y.ok());
      REQUIRE(!x->hits.empty());
      REQUIRE(x->hits.size() == y->hits.size());
      CHECK(x->hits[0].chunk.path == "pkg/util.py");
      for (std::size_t i = 0; i < x->hits.size(); ++i) CHECK(x->hits[i].score == y->hits[i].score);
    }
    // An edit that rewires the graph: util now imports nothing in-tree, lone becomes the hub.
    write_text(r / "pkg/core.py", "import lone\n");
    write_text(r / "pkg/api.py", "import lone\n");
    (void)seg->apply_changes({"pkg/core.py", "pkg/api.py"});
    CHECK(seg->central_files("")[0].path == "lone.py");
    CHECK(seg->centrality("pkg/util.py") < 1.0);
  }
  // Persisted with the records: a warm restart has the same values without re-reading.
  auto seg = std::move(SegmentIndex::open(r, so).value());
  auto b = seg->build();
  REQUIRE(b.ok());
  CHECK(b->warm);
  CHECK(b->files_read == 0);
  CHECK(seg->central_files("")[0].path == "lone.py");
  // Same tree, cold: the same scores (deterministic).
  const double warm = seg->centrality("lone.py");
  REQUIRE(seg->rebuild().ok());
  CHECK(seg->centrality("lone.py") == warm);
}

TEST_CASE("SegmentIndex: config excludes apply on rebuild and sync, and stay if the file is bad") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "keep.py", "def kept():\n    pass\n");
  write_text(r / "gen/out.py", "def generated_thing():\n    pass\n");
  write_text(r / "vendor/lib.py", "def vendored_thing():\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  CHECK(seg->file("gen/out.py").has_value());
  // Without a watcher: only a rebuild reads the new rules.
  write_text(r / "_ctx/trifecta.json", R"({"exclude": ["gen/**"]})");
  (void)seg->sync();  // no watcher: nothing happens
  CHECK(seg->file("gen/out.py").has_value());
  REQUIRE(seg->rebuild().ok());
  CHECK_FALSE(seg->file("gen/out.py").has_value());
  CHECK(seg->file("keep.py").has_value());
  // While watching: the next sync sees the file change, drops what is now excluded and reads
  // what is admitted again.
  REQUIRE(seg->start_watching().ok());
  write_text(r / "_ctx/trifecta.json", R"({"exclude": ["vendor/**"]})");
  auto rep = seg->sync();
  CHECK(rep.config_reloaded);
  CHECK(rep.rescanned);
  CHECK_FALSE(seg->file("vendor/lib.py").has_value());
  CHECK(seg->file("gen/out.py").has_value());
  SearchOptions o;
  o.query = "generated_thing";
  CHECK(seg->search(o)->hits.size() == 1);
  o.query = "vendored";  // "thing" alone would match gen/out.py
  CHECK(seg->search(o)->hits.empty());
  // The re-opened watcher follows the new rules: edits in gen/ are seen, in vendor/ not.
  write_text(r / "gen/out.py", "def generated_other():\n    pass\n");
  write_text(r / "vendor/lib.py", "def vendored_other():\n    pass\n");
  rep = seg->sync();
  CHECK_FALSE(rep.config_reloaded);
  o.query = "generated_other";
  CHECK(seg->search(o)->hits.size() == 1);
  CHECK_FALSE(seg->file("vendor/lib.py").has_value());
  // A malformed file (an editor's half-saved write, a typo): the rules in effect stay — vendor/
  // stays out, nothing is rescanned — and the status says so.
  write_text(r / "_ctx/trifecta.json", R"({"exclude": ["vendor/**")");
  rep = seg->sync();
  CHECK_FALSE(rep.config_reloaded);
  CHECK_FALSE(rep.rescanned);
  CHECK_FALSE(seg->file("vendor/lib.py").has_value());
  REQUIRE(seg->status().warnings.size() == 1);
  CHECK(seg->status().warnings[0].find("_ctx/trifecta.json") != std::string::npos);
  CHECK(seg->status().warnings[0].find("(keeping the rules in effect)") != std::string::npos);
  // So does a rebuild.
  REQUIRE(seg->rebuild().ok());
  CHECK_FALSE(seg->file("vendor/lib.py").has_value());
  CHECK(seg->status().warnings[0].find("(keeping the rules in effect)") != std::string::npos);
  // The fixed file is read as any change is; the warning goes.
  write_text(r / "_ctx/trifecta.json", R"({"exclude": []})");
  rep = seg->sync();
  CHECK(rep.config_reloaded);
  CHECK(seg->file("vendor/lib.py").has_value());
  CHECK(seg->status().warnings.empty());
  // Malformed again: the rules now in effect (nothing excluded) stay; the same bytes rewritten
  // rescan nothing either.
  write_text(r / "_ctx/trifecta.json", "{not json");
  CHECK_FALSE(seg->sync().rescanned);
  CHECK(seg->file("vendor/lib.py").has_value());
  write_text(r / "_ctx/trifecta.json", "{not json");
  CHECK_FALSE(seg->sync().rescanned);
  // A segment opened with a malformed file has no rules in effect yet: the defaults.
  trifecta::test::TempDir t2;
  write_text(t2.path() / "a.py", "def a():\n    pass\n");
  write_text(t2.path() / "_ctx/trifecta.json", "{not json");
  auto opened = std::move(SegmentIndex::open(t2.path(), so).value());
  REQUIRE_FALSE(opened->status().warnings.empty());
  CHECK(opened->status().warnings[0].find("(using defaults)") != std::string::npos);
}

TEST_CASE("SegmentIndex: a cold build leaves the skeletons in ast.sqlite, not in memory") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "a.py", "def alpha():\n    return 1\n");
  write_text(r / "b.py", "class Beta:\n    def gamma(self):\n        pass\n");
  SegmentOptions so;
  so.use_git = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  CHECK(seg->skeletons().stats().memory_entries == 0);  // a warm-started daemon's footprint
  auto sk = seg->skeletons().get(r / "a.py", "a.py");
  REQUIRE(sk.ok());
  CHECK(sk->cache_hit);  // from disk, not parsed again
  CHECK(seg->skeletons().stats().memory_entries == 1);
  // Without a disk tier the memory tier is all there is: kept.
  trifecta::test::TempDir t2;
  write_text(t2.path() / "a.py", "def alpha():\n    return 1\n");
  so.persist = false;
  auto mem = std::move(SegmentIndex::open(t2.path(), so).value());
  REQUIRE(mem->build().ok());
  CHECK(mem->skeletons().stats().memory_entries == 1);
}

TEST_CASE("SegmentIndex: never-code files are skipped at build time, an include glob admits them") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "app/views.py", "def render_page():\n    return 1\n");
  write_text(r / "app/locale/de/LC_MESSAGES/django.po",
             "msgid \"render page\"\nmsgstr \"Seite zeigen\"\n");
  write_text(r / "app/locale/de/formats.py", "DATE_FORMAT = 'j. F Y'\n");  // code: indexed
  write_text(r / "app/static/app.min.js", "function renderPage(){return 1}\n");
  write_text(r / "app/static/logo.png", "\x89PNG not really\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  auto b = seg->build();
  REQUIRE(b.ok());
  CHECK(b->files_indexed == 2);
  CHECK(b->files_skipped == 3);
  auto st = seg->status();
  CHECK(st.skip_reasons["never_code"] == 3);
  CHECK_FALSE(seg->file("app/locale/de/LC_MESSAGES/django.po")->indexed);
  CHECK(seg->file("app/locale/de/LC_MESSAGES/django.po")->skip_reason == "never_code");
  CHECK(seg->file("app/locale/de/formats.py")->indexed);
  SearchOptions o;
  o.query = "seite";  // only in the catalog
  o.path_glob = "**/*.po";
  CHECK(seg->search(o)->hits.empty());
  // validate agrees with build: nothing stale, nothing added or missing.
  auto v = seg->validate();
  REQUIRE(v.ok());
  CHECK(v->ok());
  CHECK(v->stale.empty());
  // The way back: an include glob, on the next rebuild (the unchanged file is re-read).
  write_text(r / "_ctx/trifecta.json", R"({"include": ["**/*.po"]})");
  REQUIRE(seg->rebuild().ok());
  CHECK(seg->file("app/locale/de/LC_MESSAGES/django.po")->indexed);
  CHECK(seg->search(o)->hits.size() == 1);
  // Indexed, a catalog is still hidden from a query that does not name it.
  SearchOptions plain;
  plain.query = "seite";
  const auto hidden = seg->search(plain);
  REQUIRE(hidden.ok());
  CHECK(hidden->hits.empty());
  CHECK_THAT(hidden->reason, Catch::Contains("1 chunks matched, all in translation catalogs"));
  CHECK(seg->status().skip_reasons["never_code"] == 2);
  CHECK(seg->validate()->ok());
}

TEST_CASE("SegmentIndex: status lists unexpected skips before never-code ones, 100 at most") {
  // 130 translation catalogs sort before the two binary files; those are what a user looks for,
  // so they come first in the sample, and the sample stops at 100.
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "main.py", "def main():\n    return 1\n");
  for (int i = 0; i < 130; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "a_locale/l%03d/django.po", i);
    write_text(r / name, "msgid \"x\"\nmsgstr \"y\"\n");
  }
  write_text(r / "z_data/blob.py", std::string("x = 1\n\0\0binary", 15));
  write_text(r / "z_data/other.py", std::string("\0", 1));
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  const auto st = seg->status();
  CHECK(st.files_skipped == 132);
  CHECK(st.skip_reasons.at("never_code") == 130);
  CHECK(st.skip_reasons.at("binary") == 2);
  REQUIRE(st.skipped.size() == Status::kSkippedShown);
  CHECK(st.skipped[0].skip_reason == "binary");
  CHECK(st.skipped[1].skip_reason == "binary");
  CHECK(st.skipped[0].path < st.skipped[1].path);
  for (std::size_t i = 2; i < st.skipped.size(); ++i) {
    CHECK(st.skipped[i].skip_reason == "never_code");
    CHECK((st.skipped[i - 1].skip_reason != "never_code" ||
           st.skipped[i - 1].path < st.skipped[i].path));
  }
  CHECK(st.skipped[2].path == "a_locale/l000/django.po");
}

TEST_CASE(
    "packed chunk storage: every field comes back as it went in, through updates, compaction and "
    "reload") {
  // The index keeps chunks packed (strings in one pool, a file's path once); what find,
  // chunks_of and search hits return must be the chunk as given, field for field.
  const auto make = [](const std::string& path, int n) {
    Chunk c;
    c.path = path;
    c.id = path + "#piece" + std::to_string(n);
    c.kind = n % 2 ? ChunkKind::kCode : ChunkKind::kDoc;
    c.role = n % 3 ? ChunkRole::kMethod : ChunkRole::kSection;
    c.title = "Title " + std::to_string(n);
    if (n % 4 == 1)
      c.title_path = {"Outer", "", std::string("with\0nul", 8), "é ünïcode " + std::to_string(n)};
    if (n % 4 == 2) c.title_path = {""};
    c.start_line = 10 * n + 1;
    c.end_line = 10 * n + 9;
    c.sha256 = std::string(64, static_cast<char>('a' + n % 6));
    c.bytes = 4096 + static_cast<std::size_t>(n);
    c.tokens = (c.bytes + 3) / 4;
    c.preview = "preview of zebra " + std::to_string(n) +
                std::string(static_cast<std::size_t>(n % 200), 'x');
    c.context = n % 2 ? "class Holder:" : "";
    c.signature = n % 5 ? "(self, x: int) -> str  first line" : "";
    return c;
  };
  const auto same = [](const Chunk& a, const Chunk& b) {
    return a.id == b.id && a.path == b.path && a.kind == b.kind && a.role == b.role &&
           a.title == b.title && a.title_path == b.title_path && a.start_line == b.start_line &&
           a.end_line == b.end_line && a.sha256 == b.sha256 && a.bytes == b.bytes &&
           a.tokens == b.tokens && a.preview == b.preview && a.context == b.context &&
           a.signature == b.signature;
  };
  const auto add = [&](InvertedIndex& idx, const std::string& path, int version,
                       std::map<std::string, Chunk>& want) {
    std::vector<Chunk> cs;
    std::vector<ChunkTerms> ts;
    for (int i = 0; i < 3; ++i) {
      cs.push_back(make(path, version * 3 + i));
      ts.push_back(analyze_chunk(cs.back(), "zebra body " + std::to_string(version)));
    }
    for (auto it = want.begin(); it != want.end();)
      it = it->second.path == path ? want.erase(it) : std::next(it);
    for (const auto& c : cs) want[c.id] = c;
    idx.replace_file(path, std::move(cs), std::move(ts));
  };
  InvertedIndex idx;
  std::map<std::string, Chunk> want;
  for (int f = 0; f < 600; ++f) add(idx, "dir/file" + std::to_string(f) + ".txt", f, want);
  const auto check_all = [&](const InvertedIndex& ix) {
    REQUIRE(ix.chunk_count() == want.size());
    for (const auto& [id, c] : want) {
      const auto got = ix.find(id);
      REQUIRE(got.has_value());
      CHECK(same(*got, c));
    }
    const auto of = ix.chunks_of("dir/file7.txt");
    REQUIRE(of.size() == 3);
    for (std::size_t i = 0; i < of.size(); ++i) {
      CHECK(same(of[i], want.at(of[i].id)));
      if (i > 0) CHECK(of[i - 1].start_line < of[i].start_line);
    }
    SearchOptions o;
    o.query = "zebra";
    o.limit = 50;
    const auto r = ix.search(o);
    REQUIRE(r.ok());
    REQUIRE(r->hits.size() == 50);
    for (const auto& h : r->hits) CHECK(same(h.chunk, want.at(h.chunk.id)));
  };
  check_all(idx);
  // Replace most files twice: enough dead chunks for compaction, which moves every live string.
  for (int round = 1; round <= 2; ++round) {
    for (int f = 0; f < 500; ++f)
      add(idx, "dir/file" + std::to_string(f) + ".txt", 1000 * round + f, want);
  }
  idx.remove_file("dir/file599.txt");
  for (auto it = want.begin(); it != want.end();)
    it = it->second.path == "dir/file599.txt" ? want.erase(it) : std::next(it);
  CHECK_FALSE(idx.find("dir/file599.txt#piece1797").has_value());
  check_all(idx);
  idx.compact();
  check_all(idx);
  std::string blob;
  idx.serialize(blob);
  InvertedIndex loaded;
  REQUIRE(loaded.deserialize(blob).ok());
  check_all(loaded);
  std::string blob2;
  loaded.serialize(blob2);
  CHECK(blob2 == blob);
}

TEST_CASE("chunk kinds: source is code, prose is doc, build and dependency files are other") {
  CHECK(kind_of("pkg/mod.py") == ChunkKind::kCode);
  CHECK(kind_of("docs/guide.md") == ChunkKind::kDoc);
  CHECK(kind_of("NOTES.txt") == ChunkKind::kDoc);
  CHECK(kind_of("README") == ChunkKind::kDoc);
  CHECK(kind_of("CHANGELOG.rst") == ChunkKind::kDoc);
  CHECK(kind_of("CMakeLists.txt") == ChunkKind::kOther);
  CHECK(kind_of("lib/CMakeLists.txt") == ChunkKind::kOther);
  CHECK(kind_of("requirements-dev.txt") == ChunkKind::kOther);
  CHECK(kind_of("ci/constraints.txt") == ChunkKind::kOther);
  CHECK(kind_of("Makefile") == ChunkKind::kOther);
  CHECK(kind_of("pyproject.toml") == ChunkKind::kOther);
}

TEST_CASE("extend_line_starts: a prefix of line_starts as far as asked, the same spans") {
  for (const std::string& text :
       {std::string(), std::string("\n"), std::string("a"), std::string("a\n"), std::string("a\nb"),
        std::string("a\n\nb\n"), std::string("x\r\ny\r\n\r\n"), std::string("\n\n\n")}) {
    CAPTURE(text);
    const auto whole = line_starts(text);
    for (std::size_t line = 0; line <= whole.size() + 2; ++line) {
      CAPTURE(line);
      std::vector<std::size_t> part;
      extend_line_starts(text, part, line);
      REQUIRE(part.size() <= whole.size());
      CHECK(std::equal(part.begin(), part.end(), whole.begin()));
      CHECK((part.size() > line || part == whole));
      // Asked again further: it carries on from where it stopped.
      extend_line_starts(text, part, line + 1);
      CHECK(std::equal(part.begin(), part.end(), whole.begin()));
      const int n = static_cast<int>(line);
      for (int first = 1; first <= n; ++first) {
        for (int last = first; last <= n; ++last)
          CHECK(line_span(text, part, first, last) == line_span(text, whole, first, last));
      }
    }
  }
}

TEST_CASE(
    "chunks: offset and bytes are the chunk's lines in the text, for every chunker and every "
    "capped piece") {
  std::string big_class =
      "class Big:\n    \"\"\"A class long enough to be split.\"\"\"\n\n    size = 3\n\n";
  for (int i = 0; i < 60; ++i)
    big_class +=
        "    def m" + std::to_string(i) + "(self):\n        return " + std::to_string(i) + "\n\n";
  std::string settings = "\"\"\"Settings.\"\"\"\n";
  for (int i = 0; i < 200; ++i)
    settings += "\nNAME_" + std::to_string(i) + " = " + std::to_string(i) + "\n";
  std::string huge_fn = "def huge():\n";
  for (int i = 0; i < 1500; ++i)
    huge_fn +=
        "    x" + std::to_string(i) + " = 'padding padding padding'\n" + (i % 40 == 0 ? "\n" : "");
  std::string crlf =
      "def a():\r\n    return 1\r\n\r\n\r\nclass B:\r\n    def c(self):\r\n        return 2\r\n";
  const std::string bom =
      "\xEF\xBB\xBF\"\"\"Doc \xC3\xA9t\xC3\xA9.\"\"\"\n\ndef f():\n    return 'caf\xC3\xA9'\n";
  std::string windows;
  for (int i = 0; i < 300; ++i)
    windows += (i % 23 == 0 ? std::string() : "line " + std::to_string(i)) + "\n";
  const std::string markdown =
      "Intro\r\n\r\n# Guide\r\n\r\ntext\r\n\r\n```\r\n# not a heading\r\n```\r\n## "
      "Part\r\nmore\r\n";
  const std::vector<std::pair<std::string, std::string>> files = {
      {"big.py", big_class},  {"settings.py", settings}, {"huge.py", huge_fn},
      {"crlf.py", crlf},      {"bom.py", bom},           {"notes.txt", windows},
      {"guide.md", markdown}, {"empty.py", ""},          {"one.txt", "no newline at the end"}};
  for (const auto& [path, text] : files) {
    CAPTURE(path);
    std::vector<Chunk> cs = file_type_of(path) == FileType::kPython
                                ? chunk_py(path, text)
                                : chunk_file(path, text, nullptr);
    if (path != "empty.py") REQUIRE(cs.size() >= 1);
    const auto starts = line_starts(text);
    for (const Chunk& c : cs) {
      CAPTURE(c.id);
      REQUIRE(c.offset <= text.size());
      REQUIRE(c.bytes <= text.size() - c.offset);
      CHECK(std::string_view(text).substr(c.offset, c.bytes) ==
            line_span(text, starts, c.start_line, c.end_line));
      CHECK(c.tokens == (c.bytes + 3) / 4);
    }
  }
}

TEST_CASE(
    "SegmentIndex: the verbatim signal reads only a chunk's bytes from a file as indexed, whole "
    "lines otherwise") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  // The phrase's chunk is a small part of its file: the reads tell which way it was read.
  std::string text =
      "def quiet(x):\n    \"\"\"Fold the crumpled parchment into seven equal parts.\"\"\"\n    "
      "return x\n\n\n";
  for (int i = 0; i < 40; ++i) {
    text += "def pad" + std::to_string(i) + "(y):\n    \"\"\"Something else entirely, number " +
            std::to_string(i) + ".\"\"\"\n    return y + " + std::to_string(i) + "\n\n\n";
  }
  write_text(r / "paper.py", text);
  write_text(r / "latin.py", std::string("# -*- coding: latin-1 -*-\n\n\ndef g(x):\n    \"\"\"Le "
                                         "caf\xe9 est servi tr\xe8s chaud ici.\"\"\"\n") +
                                 "    return x\n");
  SegmentOptions so;
  so.use_git = false;  // persisted: a build after the first is warm (records of the files before)
  auto seg = SegmentIndex::open(r, so);
  REQUIRE(seg.ok());
  REQUIRE((*seg)->build().ok());
  const auto indexed_mtime = fs::last_write_time(r / "paper.py");
  const auto& reader = (*seg)->reader();
  constexpr auto kRank = workspace::ReadPurpose::kRank;
  SearchOptions o;
  o.query = "fold the crumpled parchment into seven equal parts";
  o.explain = true;
  // One search: the reads it adds under kRank (files, bytes), and whether the first hit was lifted.
  const auto run = [&](std::uint64_t& files, std::uint64_t& bytes) {
    const auto f0 = reader.totals().files(kRank), b0 = reader.totals().bytes(kRank);
    auto res = (*seg)->search(o);
    REQUIRE(res.ok());
    REQUIRE_FALSE(res->hits.empty());
    files = reader.totals().files(kRank) - f0;
    bytes = reader.totals().bytes(kRank) - b0;
    bool verbatim = false;
    for (const auto& e : res->hits[0].explain)
      verbatim = verbatim || e.term.starts_with("verbatim");
    return std::make_pair(res->hits[0].chunk, verbatim);
  };
  std::uint64_t files = 0, bytes = 0;
  {
    INFO("as indexed: the chunk's bytes alone");
    const auto [chunk, lifted] = run(files, bytes);
    CHECK(chunk.id == "paper.py#quiet");
    CHECK(lifted);
    CHECK(chunk.offset == 0);
    CHECK(files == 1);
    CHECK(bytes == chunk.bytes);
    CHECK(bytes < text.size() / 10);
  }
  {
    INFO("the same bytes with another mtime (no sync since): its lines, from the whole file");
    fs::last_write_time(r / "paper.py",
                        fs::last_write_time(r / "paper.py") + std::chrono::seconds(7));
    const auto [chunk, lifted] = run(files, bytes);
    CHECK(chunk.id == "paper.py#quiet");
    CHECK(lifted);
    CHECK(files == 1);
    CHECK(bytes == text.size());
  }
  {
    INFO(
        "grown at the end, its mtime set back (no sync since): its lines, from the whole file as "
        "it is now");
    write_text(r / "paper.py", text + "# appended\n");
    fs::last_write_time(r / "paper.py", indexed_mtime);
    const auto [chunk, lifted] = run(files, bytes);
    CHECK(lifted);
    CHECK(bytes == text.size() + 11);
  }
  {
    INFO(
        "rewritten above the chunk (no sync since): its lines as they are now, no longer the "
        "phrase");
    write_text(r / "paper.py", "# one\n# two\n# six\n" + text);
    const auto [chunk, lifted] = run(files, bytes);
    CHECK(chunk.id == "paper.py#quiet");
    CHECK_FALSE(lifted);
  }
  {
    INFO("after a build: the chunk's bytes alone again, at its new offset");
    REQUIRE((*seg)->build().ok());
    const auto [chunk, lifted] = run(files, bytes);
    CHECK(lifted);
    CHECK(chunk.offset == 18);
    CHECK(bytes == chunk.bytes);
  }
  {
    INFO("a Latin-1 file: its text is not its bytes, so no offset; its lines, decoded");
    o.query = "Le café est servi très chaud";
    const auto [chunk, lifted] = run(files, bytes);
    CHECK(chunk.path == "latin.py");
    CHECK(lifted);
    CHECK(chunk.offset == kNoOffset);
    CHECK(bytes == fs::file_size(r / "latin.py"));
  }
  {
    INFO(
        "declared Latin-1, written in UTF-8, then saved in Latin-1: the same text in other bytes, "
        "chunked again");
    const std::string head = "# -*- coding: latin-1 -*-\n\n\ndef h(x):\n    \"\"\"Un th";
    write_text(r / "both.py",
               head + "\xc3\xa9 vert tr\xc3\xa8s l\xc3\xa9ger pour deux.\"\"\"\n    return x\n");
    REQUIRE((*seg)->build().ok());
    o.query = "Un thé vert très léger pour deux";
    const auto [utf8, lifted_utf8] = run(files, bytes);
    CHECK(utf8.path == "both.py");
    CHECK(lifted_utf8);
    CHECK(utf8.offset == head.find("def h"));
    CHECK(bytes == utf8.bytes);
    write_text(r / "both.py", head + "\xe9 vert tr\xe8s l\xe9ger pour deux.\"\"\"\n    return x\n");
    REQUIRE((*seg)->build().ok());
    const auto [latin, lifted_latin] = run(files, bytes);
    CHECK(latin.path == "both.py");
    CHECK(lifted_latin);
    CHECK(latin.offset == kNoOffset);
  }
}

TEST_CASE(
    "SegmentIndex: the verbatim signal reads candidates' lines from disk, each file once, and "
    "skips what it cannot read") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write_text(r / "listing.py",
             "def scan(p):\n    \"\"\"Return the list of entries\n    in the directory given by "
             "PATH.\"\"\"\n    return p\n");
  write_text(r / "entries.py",
             "def directory_entries_list(path):\n    \"\"\"Entries: the directory's entries as a "
             "list, given a path.\n\n"
             "    The list of the directory entries, the path given.\"\"\"\n    return path\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = SegmentIndex::open(r, so);
  REQUIRE(seg.ok());
  REQUIRE((*seg)->build().ok());
  const auto& reader = (*seg)->reader();
  const auto files_before = reader.totals().files(workspace::ReadPurpose::kRank);
  SearchOptions o;
  o.query = "Return the list of entries in the directory given by path.";
  auto hit = (*seg)->search(o);
  REQUIRE(hit.ok());
  REQUIRE(hit->hits.size() == 2);
  CHECK(hit->hits[0].chunk.path == "listing.py");
  // Two candidates in two files: two reads, under their own purpose.
  CHECK(reader.totals().files(workspace::ReadPurpose::kRank) == files_before + 2);
  o.signals = kSignalAll & ~kSignalVerbatim;
  auto off = (*seg)->search(o);
  REQUIRE(off.ok());
  CHECK(off->hits[0].chunk.path == "entries.py");
  CHECK(reader.totals().files(workspace::ReadPurpose::kRank) == files_before + 2);
  // Text that is not plain ASCII is compared decoded as the build decoded it: UTF-8 as written,
  // and a Latin-1 file (PEP 263) as Latin-1 — the raw bytes would hold neither phrase.
  write_text(
      r / "utf8.py",
      "def f(x):\n    \"\"\"Gib die Größe der Straße zurück, bitte sehr.\"\"\"\n    return x\n");
  write_text(r / "latin.py", std::string("# -*- coding: latin-1 -*-\n\n\ndef g(x):\n    \"\"\"Le "
                                         "caf\xe9 est servi tr\xe8s chaud ici.\"\"\"\n") +
                                 "    return x\n");
  write_text(r / "plain.py",
             "def h(x):\n    \"\"\"Gib die Groesse der Strasse zurueck, bitte sehr.\"\"\"\n"
             "    \"\"\"Le cafe est servi tres chaud ici.\"\"\"\n    return x\n");
  REQUIRE((*seg)->build().ok());
  for (const auto& [query, want] : std::vector<std::pair<std::string, std::string>>{
           {"Größe der Straße zurück, bitte sehr", "utf8.py"},
           {"Le café est servi très chaud", "latin.py"}}) {
    CAPTURE(query);
    o.query = query;
    o.signals = kSignalAll;
    o.explain = true;
    auto lifted = (*seg)->search(o);
    REQUIRE(lifted.ok());
    REQUIRE_FALSE(lifted->hits.empty());
    CHECK(lifted->hits[0].chunk.path == want);
    bool verbatim = false;
    for (const auto& e : lifted->hits[0].explain)
      verbatim = verbatim || e.term.starts_with("verbatim");
    CHECK(verbatim);
    o.explain = false;
  }
  // The file gone from disk (no watcher here: the index still has it): the search answers, and
  // the chunk is not lifted.
  fs::remove(r / "listing.py");
  o.query = "Return the list of entries in the directory given by path.";
  o.signals = kSignalAll;
  auto gone = (*seg)->search(o);
  REQUIRE(gone.ok());
  REQUIRE(gone->hits.size() >= 2);
  CHECK(gone->hits[0].chunk.path == "entries.py");
}
