// lib/disclosure: skeleton/excerpt/raw rendering, the budget contract, degradation, cursors,
// per-target errors and read accounting.
#include "disclosure/disclosure.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "../support/temp_dir.hpp"
#include "disclosure/json.hpp"
#include "disclosure/repo_map.hpp"
#include "index/segment_index.hpp"
#include "telemetry/reader.hpp"
#include "telemetry/sink.hpp"

using namespace trifecta::core;
using namespace trifecta::core::disclosure;
namespace fs = std::filesystem;

namespace {

using trifecta::test::write_text;

std::string big_function(int body_lines) {
  std::string s = "def big(alpha, beta=2):\n    \"\"\"Compute a big thing.\"\"\"\n";
  for (int i = 0; i < body_lines; ++i)
    s += "    value_" + std::to_string(i) + " = alpha + " + std::to_string(i) + "\n";
  s += "    return beta\n";
  return s;
}

// A segment over `root`, without git or a persisted index, built.
std::unique_ptr<index::SegmentIndex> built_segment(const fs::path& root) {
  index::SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(index::SegmentIndex::open(root, so).value());
  REQUIRE(seg->build().ok());
  return seg;
}

struct Fixture {
  trifecta::test::TempDir dir;
  std::unique_ptr<index::SegmentIndex> seg;
  Fixture() {
    write_text(dir.path() / "pkg/codec.py",
               "\"\"\"Codec module.\"\"\"\n"
               "import json\n"
               "\n"
               "class Decoder(object):\n"
               "    \"\"\"Decodes things.\"\"\"\n"
               "\n"
               "    def decode(self, s):\n"
               "        \"\"\"Decode s.\"\"\"\n"
               "        if s:\n"
               "            return json.loads(s)\n"
               "        return None\n"
               "\n"
               "    def encode(self, o):\n"
               "        return json.dumps(o)\n"
               "\n" +
                   big_function(300));
    write_text(dir.path() / "docs/guide.md",
               "# Guide\nIntro.\n## Install\n```\n# not heading\n```\nRun it.\n");
    seg = built_segment(dir.path());
  }
};

std::string all_text(const GetReply& r) {
  std::string s;
  for (const auto& p : r.chunks) s += p.text;
  return s;
}

}  // namespace

TEST_CASE(
    "raw returns the exact text, excerpt keeps indentation and line numbers, skeleton is the "
    "outline") {
  Fixture f;
  GetRequest req;
  req.targets = {Target::chunk("pkg/codec.py#Decoder")};
  req.mode = Mode::kRaw;
  auto raw = get(*f.seg, req);
  REQUIRE(raw.ok());
  REQUIRE(raw->chunks.size() == 1);
  CHECK(raw->chunks[0].text.rfind("class Decoder(object):\n", 0) == 0);
  CHECK(raw->chunks[0].text.find("            return json.loads(s)\n") != std::string::npos);
  CHECK(raw->stop_reason == StopReason::kComplete);
  CHECK(raw->next.empty());
  CHECK(raw->used == raw->chunks[0].tokens);

  req.mode = Mode::kExcerpt;
  req.query = "loads";
  auto ex = get(*f.seg, req);
  REQUIRE(ex.ok());
  const std::string& e = ex->chunks[0].text;
  CHECK(e.find("    10              return json.loads(s)\n") != std::string::npos);
  CHECK(e.find("...") != std::string::npos);

  req.mode = Mode::kSkeleton;
  req.query.clear();
  auto sk = get(*f.seg, req);
  REQUIRE(sk.ok());
  const std::string& s = sk->chunks[0].text;
  CHECK(s.find("class Decoder(object):") != std::string::npos);
  CHECK(s.find("def decode(self, s):") != std::string::npos);
  CHECK(s.find("json.loads") == std::string::npos);
  CHECK(sk->chunks[0].tokens < raw->chunks[0].tokens);

  GetRequest md;
  md.targets = {Target::chunk("docs/guide.md#guide"), Target::chunk("docs/guide.md#install")};
  md.mode = Mode::kSkeleton;
  auto mds = get(*f.seg, md);
  REQUIRE(mds.ok());
  CHECK(mds->chunks[0].text.find("# Guide") != std::string::npos);
  CHECK(mds->chunks[1].text.find("not heading") == std::string::npos);
}

TEST_CASE(
    "skeleton: members carry line markers, the chunk's own definition and enclosing classes do not "
    "repeat") {
  trifecta::test::TempDir dir;
  std::string big =
      "import os\n"                                                              // 1
      "import sys\n"                                                             // 2
      "from json import dumps\n"                                                 // 3
      "from json import loads as l\n"                                            // 4
      "\n"                                                                       // 5
      "class Big(Base):\n"                                                       // 6
      "    \"\"\"Big class.\"\"\"\n"                                             // 7
      "    kind = 'big'\n"                                                       // 8
      "\n"                                                                       // 9
      "    @staticmethod\n"                                                      // 10
      "    def first(x: int) -> str:\n"                                          // 11
      "        \"\"\"First method.\"\"\"\n"                                      // 12
      "        return str(x)\n"                                                  // 13
      "\n"                                                                       // 14
      "    def second(self):\n"                                                  // 15
      "        return 2\n"                                                       // 16
      "    late = 'a value far longer than the forty bytes a skeleton shows'\n"  // 17
      "\n";                                                                      // 18
  for (int i = 0; i < 20; ++i) {  // enough lines to split the class into member chunks
    big += "    def filler_" + std::to_string(i) + "(self):\n";
    for (int k = 0; k < 7; ++k) big += "        x = " + std::to_string(k) + "\n";
    big += "\n";
  }
  big += "print('loaded')\nos.sync()\n";
  write_text(dir.path() / "pkg/big.py", big);
  write_text(dir.path() / "pkg/small.py",
             "class Small:\n    def get(self): return 1\n    def put(self, v):\n        pass\n");
  auto seg = built_segment(dir.path());
  auto skeleton = [&](const std::string& id) {
    GetRequest req;
    req.targets = {Target::chunk(id)};
    req.mode = Mode::kSkeleton;
    auto r = get(*seg, req);
    REQUIRE(r.ok());
    REQUIRE(r->errors.empty());
    REQUIRE(r->chunks.size() == 1);
    return r->chunks[0].text;
  };
  // The module header: consecutive imports share a line (from-imports per module).
  CHECK(skeleton("pkg/big.py#<module>") == "import os, sys\nfrom json import dumps, loads as l\n");
  // The class-header chunk: the class line (its own range is the piece's), docstring,
  // attributes, and every method with its range — the whole class's outline (issue 12).
  std::string whole =
      "class Big(Base):\n  \"\"\"Big class.\"\"\"\n  kind = 'big'\n"
      "  late = 'a value far longer than the forty bytes...\n"
      "  @staticmethod\n  def first(x: int) -> str:  # L10-13\n    \"\"\"First method.\"\"\"\n"
      "  def second(self): ...  # L15-16\n";
  for (int i = 0; i < 20; ++i) {
    whole += "  def filler_" + std::to_string(i) + "(self): ...  # L" + std::to_string(19 + 9 * i) +
             "-" + std::to_string(26 + 9 * i) + "\n";
  }
  CHECK(skeleton("pkg/big.py#Big") == whole);
  // A member chunk: the method alone — no enclosing class line (the id and `context` say it).
  CHECK(skeleton("pkg/big.py#Big.first") ==
        "@staticmethod\ndef first(x: int) -> str:\n  \"\"\"First method.\"\"\"\n");
  // A member chunk that holds a class attribute keeps the class line as its parent; the value is
  // cut at 40 bytes.
  CHECK(skeleton("pkg/big.py#Big.second") ==
        "class Big(Base):\n  late = 'a value far longer than the forty bytes...\n  def "
        "second(self): ...\n");
  // Code outside definitions: its first line and its range.
  const int last = static_cast<int>(std::count(big.begin(), big.end(), '\n'));
  CHECK(skeleton("pkg/big.py#after:Big") ==
        "print('loaded')  # L" + std::to_string(last - 1) + "-" + std::to_string(last) + "\n");
  // A whole small class: members keep their markers, a one-line member shows one line number.
  CHECK(skeleton("pkg/small.py#Small") ==
        "class Small:\n  def get(self): ...  # L2\n  def put(self, v): ...  # L3-4\n");
}

TEST_CASE("unknown ids and bad ranges are reported per target, range targets render") {
  Fixture f;
  GetRequest req;
  req.targets = {Target::chunk("pkg/codec.py#Nope"), Target::chunk("pkg/codec.py#Decoder"),
                 Target::range("pkg/codec.py", 7, 11, "sym://python/pkg.codec/Decoder.decode"),
                 Target::range("../etc/passwd", 1, 2), Target::range("pkg/codec.py", 5, 2)};
  req.mode = Mode::kRaw;
  auto r = get(*f.seg, req);
  REQUIRE(r.ok());
  REQUIRE(r->chunks.size() == 2);
  CHECK(r->chunks[1].id == "sym://python/pkg.codec/Decoder.decode");
  CHECK(r->chunks[1].text.rfind("    def decode(self, s):\n", 0) == 0);
  REQUIRE(r->errors.size() == 3);
  CHECK(r->errors[0].target == "pkg/codec.py#Nope");
  CHECK(r->errors[0].code == Errc::kNotFound);
  CHECK(r->errors[1].code == Errc::kPathEscape);
  CHECK(r->errors[2].code == Errc::kInvalidArgument);
}

TEST_CASE("a file path is the whole file and a whole module's skeleton starts with its docstring") {
  Fixture f;
  const std::string text = trifecta::test::read_text(f.dir.path() / "pkg/codec.py");
  GetRequest req;
  req.targets = {Target::chunk("pkg/codec.py"), Target::chunk("docs/guide.md"),
                 Target::chunk("pkg/none.py"), Target::chunk("pkg")};
  req.mode = Mode::kRaw;
  req.budget = 100000;
  auto r = get(*f.seg, req);
  REQUIRE(r.ok());
  REQUIRE(r->chunks.size() == 2);
  CHECK(r->chunks[0].id == "pkg/codec.py");
  CHECK(r->chunks[0].start_line == 1);
  CHECK(r->chunks[0].text == text);  // every line, the file's last chunk included
  CHECK(r->chunks[1].id == "docs/guide.md");
  CHECK(r->chunks[1].text == trifecta::test::read_text(f.dir.path() / "docs/guide.md"));
  // Not a file in the index, nor a chunk id; a folder is neither, and is told to use ctx.map
  // (also with a trailing slash); a path that merely starts like a folder is unknown.
  req.targets.push_back(Target::chunk("pkg/"));
  req.targets.push_back(Target::chunk("pk"));
  r = get(*f.seg, req);
  REQUIRE(r.ok());
  REQUIRE(r->errors.size() == 4);
  CHECK(r->errors[0].target == "pkg/none.py");
  CHECK(r->errors[0].code == Errc::kNotFound);
  CHECK_THAT(r->errors[0].message, Catch::Contains("nor a file in the index"));
  for (const std::size_t i : {std::size_t{1}, std::size_t{2}}) {
    CHECK(r->errors[i].code == Errc::kInvalidArgument);
    CHECK_THAT(r->errors[i].message,
               Catch::StartsWith("a directory") && Catch::Contains("ctx.map"));
  }
  CHECK(r->errors[1].target == "pkg");
  CHECK(r->errors[2].target == "pkg/");
  CHECK(r->errors[3].target == "pk");
  CHECK(r->errors[3].code == Errc::kNotFound);

  // Skeleton: the module docstring and imports head the outline, as the module chunk's do; so
  // does a module URI's range (the same lines). A range from line 1 that stops short of the end
  // is not the module: no docstring.
  req.mode = Mode::kSkeleton;
  req.targets = {Target::chunk("pkg/codec.py")};
  auto whole = get(*f.seg, req);
  REQUIRE(whole.ok());
  REQUIRE(whole->chunks.size() == 1);
  const std::string outline = whole->chunks[0].text;
  CHECK(outline.rfind("\"\"\"Codec module.\"\"\"\nimport json\nclass Decoder(object):", 0) == 0);
  CHECK_THAT(outline, Catch::Contains("def big(alpha, beta=2):"));
  req.targets = {
      Target::range("pkg/codec.py", 1, whole->chunks[0].end_line, "sym://python/pkg.codec")};
  auto uri = get(*f.seg, req);
  REQUIRE(uri.ok());
  REQUIRE(uri->chunks.size() == 1);
  CHECK(uri->chunks[0].text == outline);
  req.targets = {Target::range("pkg/codec.py", 1, 14)};
  auto part = get(*f.seg, req);
  REQUIRE(part.ok());
  REQUIRE(part->chunks.size() == 1);
  CHECK(part->chunks[0].text.rfind("import json\n", 0) == 0);

  // An empty file is indexed with no chunk: it is served (empty); a file the index skipped is not.
  trifecta::test::TempDir other;
  write_text(other.path() / "pkg/__init__.py", "");
  write_text(other.path() / "blob.dat", std::string("\x00\x01\x02binary", 9));
  auto seg = built_segment(other.path());
  req.mode = Mode::kRaw;
  req.targets = {Target::chunk("pkg/__init__.py"), Target::chunk("blob.dat")};
  auto edge = get(*seg, req);
  REQUIRE(edge.ok());
  REQUIRE(edge->chunks.size() == 1);
  CHECK(edge->chunks[0].id == "pkg/__init__.py");
  CHECK(edge->chunks[0].text.empty());
  REQUIRE(edge->errors.size() == 1);
  CHECK(edge->errors[0].target == "blob.dat");
  CHECK_THAT(edge->errors[0].message, Catch::Contains("skipped (binary)"));
}

TEST_CASE(
    "a whole file's excerpt without a query hit is its outline: definitions and docstring lines or "
    "headings") {
  trifecta::test::TempDir dir;
  // A licence comment before the module docstring, a decorated class, a signature over three
  // lines, a docstring whose opener is bare quotes, a '#' inside a default value and a function's
  // local helper (not outlined).
  write_text(dir.path() / "pkg/mod.py",
             "# Copyright (c) The Authors.\n"                // 1
             "# Licensed under the terms of the licence.\n"  // 2
             "\n"                                            // 3
             "\"\"\"Tools for widgets.\n"                    // 4
             "\n"                                            // 5
             "More words about widgets.\n"                   // 6
             "\"\"\"\n"                                      // 7
             "import os\n"                                   // 8
             "\n"                                            // 9
             "@register\n"                                   // 10
             "@dataclass(frozen=True)\n"                     // 11
             "class Widget:\n"                               // 12
             "    \"\"\"\n"                                  // 13
             "    A widget.\n"                               // 14
             "    \"\"\"\n"                                  // 15
             "    size: int = 0\n"                           // 16
             "\n"                                            // 17
             "    def grow(self,\n"                          // 18
             "             by: int = 1,\n"                   // 19
             "             mark: str = '#') -> int:\n"       // 20
             "        '''Grow it.'''\n"                      // 21
             "        def helper():\n"                       // 22
             "            return by\n"                       // 23
             "        return self.size + helper()\n"         // 24
             "\n"                                            // 25
             "def plain(x):  # no docstring\n"               // 26
             "    return os.sep + x\n");                     // 27
  write_text(dir.path() / "docs/guide.md",
             "# Guide\nIntro.\n## Install\n```\n# not heading\n```\nRun it.\n");
  write_text(dir.path() / "notes.txt", "line one\nline two\n");
  auto seg = built_segment(dir.path());
  GetRequest req;
  req.targets = {Target::chunk("pkg/mod.py")};
  req.budget = 100000;
  auto r = get(*seg, req);
  REQUIRE(r.ok());
  REQUIRE(r->chunks.size() == 1);
  CHECK(r->chunks[0].mode == Mode::kExcerpt);
  CHECK(r->chunks[0].text ==
        "   ...\n"
        "     4  \"\"\"Tools for widgets.\n"
        "   ...\n"
        "    10  @register\n"
        "    11  @dataclass(frozen=True)\n"
        "    12  class Widget:\n"
        "    13      \"\"\"\n"
        "    14      A widget.\n"
        "   ...\n"
        "    18      def grow(self,\n"
        "    19               by: int = 1,\n"
        "    20               mark: str = '#') -> int:\n"
        "    21          '''Grow it.'''\n"
        "   ...\n"
        "    26  def plain(x):  # no docstring\n"
        "   ...\n");
  // A module URI's range is the whole file too; a query that hits shows its windows instead.
  req.targets = {Target::range("pkg/mod.py", 1, 27, "sym://python/pkg.mod")};
  auto uri = get(*seg, req);
  REQUIRE(uri.ok());
  REQUIRE(uri->chunks.size() == 1);
  CHECK(uri->chunks[0].text == r->chunks[0].text);
  req.query = "helper";
  auto hit = get(*seg, req);
  REQUIRE(hit.ok());
  REQUIRE(hit->chunks.size() == 1);
  CHECK(hit->chunks[0].text.rfind("   ...\n    20  ", 0) == 0);
  CHECK_THAT(hit->chunks[0].text,
             Catch::Contains("    24          return self.size + helper()\n") &&
                 !Catch::Contains("@register"));
  // A query without a hit falls back to the outline; part of a file, or a chunk, to its first
  // lines.
  req.query = "zebra";
  auto miss = get(*seg, req);
  REQUIRE(miss.ok());
  CHECK(miss->chunks.at(0).text == r->chunks[0].text);
  req.query.clear();
  req.targets = {Target::range("pkg/mod.py", 1, 26)};
  auto part = get(*seg, req);
  REQUIRE(part.ok());
  CHECK(part->chunks.at(0).text.rfind("     1  # Copyright (c) The Authors.\n     2  ", 0) == 0);
  // Markdown: the headings outside fences; other text: the first lines.
  req.targets = {Target::chunk("docs/guide.md"), Target::chunk("notes.txt")};
  auto other = get(*seg, req);
  REQUIRE(other.ok());
  REQUIRE(other->chunks.size() == 2);
  CHECK(other->chunks[0].text == "     1  # Guide\n   ...\n     3  ## Install\n   ...\n");
  CHECK(other->chunks[1].text == "     1  line one\n     2  line two\n");
}

TEST_CASE("budget: a chunk that does not fit degrades raw -> excerpt -> skeleton, marked") {
  Fixture f;
  GetRequest req;
  req.targets = {Target::chunk("pkg/codec.py#Decoder"), Target::chunk("pkg/codec.py#big")};
  req.mode = Mode::kRaw;
  req.budget = 400;
  auto r = get(*f.seg, req);
  REQUIRE(r.ok());
  REQUIRE(r->chunks.size() == 2);
  CHECK_FALSE(r->chunks[0].degraded_from.has_value());
  REQUIRE(r->chunks[1].degraded_from.has_value());
  CHECK(*r->chunks[1].degraded_from == Mode::kRaw);
  CHECK(r->chunks[1].mode != Mode::kRaw);
  CHECK(r->stop_reason == StopReason::kBudget);
  CHECK_FALSE(r->next.empty());
  CHECK(r->used <= r->budget);
  std::size_t sum = 0;
  for (const auto& p : r->chunks) sum += p.tokens;
  CHECK(r->used == sum);
}

TEST_CASE("cursor continuation: concatenating the non-degraded pages gives the complete answer") {
  Fixture f;
  GetRequest full;
  full.targets = {Target::chunk("pkg/codec.py#<module>"), Target::chunk("pkg/codec.py#Decoder"),
                  Target::chunk("pkg/codec.py#big"), Target::chunk("docs/guide.md#install")};
  full.mode = Mode::kRaw;
  full.budget = kMaxBudget;
  auto complete = get(*f.seg, full);
  REQUIRE(complete.ok());
  REQUIRE(complete->stop_reason == StopReason::kComplete);
  const std::string expected = all_text(*complete);

  for (std::size_t budget : {std::size_t{16}, std::size_t{100}, std::size_t{777}}) {
    GetRequest req = full;
    req.budget = budget;
    std::string got;
    int pages = 0;
    while (true) {
      auto r = get(*f.seg, req);
      REQUIRE(r.ok());
      REQUIRE(++pages < 10000);
      CHECK(r->used <= r->budget);
      for (const auto& p : r->chunks) {
        if (!p.degraded_from) got += p.text;
      }
      if (r->next.empty()) {
        CHECK(r->stop_reason == StopReason::kComplete);
        break;
      }
      req.cursor = r->next;
    }
    INFO("budget " << budget << " pages " << pages);
    CHECK(got == expected);
  }
}

TEST_CASE("max_chunks stops the page and the cursor continues") {
  Fixture f;
  GetRequest req;
  req.targets = {Target::chunk("pkg/codec.py#<module>"), Target::chunk("pkg/codec.py#Decoder"),
                 Target::chunk("docs/guide.md#guide")};
  req.mode = Mode::kSkeleton;
  req.max_chunks = 2;
  auto r = get(*f.seg, req);
  REQUIRE(r.ok());
  CHECK(r->chunks.size() == 2);
  CHECK(r->stop_reason == StopReason::kMaxChunks);
  req.cursor = r->next;
  auto r2 = get(*f.seg, req);
  REQUIRE(r2.ok());
  REQUIRE(r2->chunks.size() == 1);
  CHECK(r2->chunks[0].id == "docs/guide.md#guide");
  CHECK(r2->stop_reason == StopReason::kComplete);
}

TEST_CASE("zero, tiny and huge budgets, malformed and foreign cursors are typed errors") {
  Fixture f;
  GetRequest req;
  req.targets = {Target::chunk("pkg/codec.py#big")};
  req.mode = Mode::kRaw;
  req.budget = 0;
  auto zero = get(*f.seg, req);
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().code == Errc::kInvalidArgument);
  req.budget = 1'000'000'000;
  auto huge = get(*f.seg, req);
  REQUIRE(huge.ok());
  CHECK(huge->budget == kMaxBudget);
  CHECK(huge->stop_reason == StopReason::kComplete);

  req.budget = 50;
  auto page = get(*f.seg, req);
  REQUIRE(page.ok());
  REQUIRE_FALSE(page->next.empty());
  for (const std::string& bad :
       {std::string("garbage"), std::string("c1.0.0.s.x.y.z"), page->next + "x",
        page->next.substr(0, page->next.size() - 1) + (page->next.back() == '0' ? "1" : "0"),
        std::string(1000, 'c')}) {
    GetRequest b = req;
    b.cursor = bad;
    auto res = get(*f.seg, b);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code == Errc::kInvalidArgument);
  }
  GetRequest other = req;
  other.mode = Mode::kExcerpt;
  other.cursor = page->next;
  auto foreign = get(*f.seg, other);
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().message.find("different request") != std::string::npos);
  GetRequest none;
  CHECK_FALSE(get(*f.seg, none).ok());
}

TEST_CASE("bytes read are counted per mode and equal what the reader read") {
  Fixture f;
  const auto size = fs::file_size(f.dir.path() / "pkg/codec.py");
  for (Mode m : {Mode::kSkeleton, Mode::kExcerpt, Mode::kRaw}) {
    GetRequest req;
    req.targets = {Target::chunk("pkg/codec.py#Decoder"), Target::chunk("pkg/codec.py#<module>")};
    req.mode = m;
    workspace::ReadStats stats;
    auto r = get(*f.seg, req, &stats);
    REQUIRE(r.ok());
    CHECK(r->bytes_read == size);  // one read per file per call
    const auto purpose = m == Mode::kSkeleton  ? workspace::ReadPurpose::kSkeleton
                         : m == Mode::kExcerpt ? workspace::ReadPurpose::kExcerpt
                                               : workspace::ReadPurpose::kRaw;
    CHECK(stats.bytes(purpose) == size);
    CHECK(stats.total_bytes() == size);
  }
}

TEST_CASE("a stale chunk is flagged and a stale cursor refused") {
  Fixture f;
  GetRequest req;
  req.targets = {Target::chunk("pkg/codec.py#big")};
  req.mode = Mode::kRaw;
  req.budget = 50;
  auto page = get(*f.seg, req);
  REQUIRE(page.ok());
  // Edit the file behind the index's back (no sync): the content no longer matches the hash.
  std::string src;
  {
    std::ifstream in(f.dir.path() / "pkg/codec.py");
    std::stringstream ss;
    ss << in.rdbuf();
    src = ss.str();
  }
  src.replace(src.find("value_0"), 7, "VALUE_0");
  write_text(f.dir.path() / "pkg/codec.py", src);
  GetRequest again = req;
  again.budget = kMaxBudget;
  auto r = get(*f.seg, again);
  REQUIRE(r.ok());
  CHECK(r->chunks[0].stale);
  f.seg->apply_changes({"pkg/codec.py"});
  req.cursor = page->next;
  auto cont = get(*f.seg, req);
  REQUIRE_FALSE(cont.ok());
  CHECK(cont.error().message.find("stale cursor") != std::string::npos);
}

TEST_CASE("GetReply JSON states budget, used, stop_reason, next and degraded pieces") {
  Fixture f;
  GetRequest req;
  req.targets = {Target::chunk("pkg/codec.py#Decoder"), Target::chunk("pkg/codec.py#big"),
                 Target::chunk("nope#x")};
  req.mode = Mode::kRaw;
  req.budget = 400;
  auto r = get(*f.seg, req);
  REQUIRE(r.ok());
  const boost::json::value v = boost::json::value_from(*r);
  CHECK(v.at("budget").to_number<std::int64_t>() == 400);
  CHECK(v.at("used").to_number<std::int64_t>() == static_cast<std::int64_t>(r->used));
  CHECK(v.at("stop_reason").as_string() == "budget");
  CHECK(v.at("next").as_string() == r->next);
  CHECK(v.at("mode").as_string() == "raw");
  CHECK(v.at("chunks").at(1).at("degraded_from").as_string() == "raw");
  CHECK(v.at("errors").as_array().empty());  // the page stopped before reaching "nope#x"
  req.cursor = r->next;
  req.budget = kMaxBudget;
  auto r2 = get(*f.seg, req);
  REQUIRE(r2.ok());
  const boost::json::value v2 = boost::json::value_from(*r2);
  CHECK(v2.at("errors").at(0).at("target").as_string() == "nope#x");
  CHECK(v2.at("errors").at(0).at("code").as_string() == errc_name(Errc::kNotFound));
  CHECK(v2.at("stop_reason").as_string() == "complete");
  CHECK_FALSE(v2.as_object().contains("next"));
}

TEST_CASE("telemetry: file.read events, per-mode byte counters and pack_state reach the sink") {
  trifecta::test::TempDir root_dir;
  trifecta::test::TempDir tele_dir;
  write_text(root_dir.path() / "m.py", "def f(x):\n    return x\n\ndef g():\n    pass\n");
  const auto size = static_cast<std::int64_t>(fs::file_size(root_dir.path() / "m.py"));
  telemetry::SinkOptions so;
  so.enabled = true;
  so.dir_override = tele_dir.path();
  telemetry::Sink sink(so);
  const fs::path canon = fs::canonical(root_dir.path());
  index::SegmentOptions opts;
  opts.use_git = false;
  opts.persist = false;
  opts.channel = sink.open_segment(canon);
  auto seg = std::move(index::SegmentIndex::open(canon, opts).value());
  REQUIRE(seg->build().ok());
  const fs::path dir = opts.channel.directory();
  auto count_cmd = [&](std::string_view cmd) {
    sink.flush();
    auto all = telemetry::read_events(dir / "events.jsonl");
    int n = 0;
    if (all.ok()) {
      for (const auto& e : all->events) n += e.at("cmd").as_string() == cmd;
    }
    return n;
  };
  CHECK(count_cmd("ast.parse") == 0);  // a build counts its parses, one event per file would drown
  GetRequest req;
  req.targets = {Target::chunk("m.py#f"), Target::chunk("m.py#g")};
  req.mode = Mode::kSkeleton;
  auto r = get(*seg, req);
  REQUIRE(r.ok());
  CHECK(r->bytes_read == static_cast<std::uint64_t>(size));
  CHECK(count_cmd("ast.parse") >= 1);  // a request's parses are events
  req.mode = Mode::kRaw;
  REQUIRE(get(*seg, req).ok());
  sink.flush();
  auto events = telemetry::read_events(dir / "events.jsonl");
  REQUIRE(events.ok());
  int reads = 0;
  for (const auto& e : events->events) {
    if (e.at("cmd").as_string() != "file.read") continue;
    ++reads;
    CHECK(e.at("args").at("file").as_string() == "m.py");
    CHECK(e.at("result").at("bytes").to_number<std::int64_t>() == size);
    CHECK(e.at("result").at("status").as_string() == "ok");
    const auto& mode = e.at("x").at("disclosure_mode").as_string();
    CHECK((mode == "skeleton" || mode == "raw"));
  }
  CHECK(reads == 2);  // one read per file per call, whatever the number of chunks
  std::ifstream in(dir / "last_run.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto last = boost::json::parse(ss.str());
  CHECK(last.at("file_read").at("skeleton_bytes").to_number<std::int64_t>() == size);
  CHECK(last.at("file_read").at("raw_bytes").to_number<std::int64_t>() == size);
  CHECK(last.at("file_read").at("excerpt_bytes").to_number<std::int64_t>() == 0);
  CHECK(last.at("pack_state").at("pack_sha").as_string() == seg->status().pack_state);

  // A read that fails is an event with status "error" and the error's code.
  fs::remove(root_dir.path() / "m.py");
  (void)get(*seg, req);
  sink.flush();
  auto after = telemetry::read_events(dir / "events.jsonl");
  REQUIRE(after.ok());
  const auto& failed = after->events.back();
  CHECK(failed.at("cmd").as_string() == "file.read");
  CHECK(failed.at("result").at("status").as_string() == "error");
  CHECK(failed.at("result").at("error").as_string() == "NOT_FOUND");
  CHECK(failed.at("result").at("bytes").to_number<std::int64_t>() == 0);
}

TEST_CASE(
    "repo map: central files first, public top symbols, reduced then truncated by the budget") {
  trifecta::test::TempDir dir;
  const fs::path r = dir.path();
  write_text(
      r / "core/base.py",
      "\"\"\"Base classes.\"\"\"\n"     // 1
      "class Model:\n"                  // 2
      "    \"\"\"A model.\"\"\"\n"      // 3
      "    def save(self):\n"           // 4
      "        \"\"\"Save it.\"\"\"\n"  // 5
      "    def _private(self):\n"       // 6
      "        pass\n"                  // 7
      "    def __init__(self):\n"       // 8
      "        pass\n"                  // 9
      "def _helper():\n"                // 10
      "    pass\n"                      // 11
      "def connect(url):\n"             // 12
      "    \"\"\"Connect.\"\"\"\n"      // 13
      "class Manager:\n"                // 14: members beyond the minimum budget
          + [] {
              std::string m;
              for (int i = 0; i < 12; ++i) {
                m += "    def operation_" + std::to_string(i) +
                     "(self, argument):\n        \"\"\"Do operation " + std::to_string(i) +
                     ".\"\"\"\n";
              }
              return m;
            }());
  write_text(r / "core/views.py", "from .base import Model\n\ndef index():\n    return Model()\n");
  write_text(
      r / "app/main.py",
      "from core.base import connect\nfrom core import views\n\ndef run():\n    connect(1)\n");
  write_text(r / "README.md", "# Read me\n");
  auto seg = built_segment(r);

  auto m = repo_map(*seg, MapRequest{});
  REQUIRE(m.ok());
  CHECK(m->candidates == 3);
  REQUIRE(m->files.size() == 3);
  CHECK(m->files[0].path == "core/base.py");
  CHECK(m->files[1].path == "core/views.py");
  CHECK(m->files[2].path == "app/main.py");
  CHECK_FALSE(m->truncated);
  CHECK(m->files[0].text.rfind(
            "# core/base.py  (centrality " +
                [&] {
                  char b[16];
                  std::snprintf(b, sizeof b, "%.2f", seg->centrality("core/base.py"));
                  return std::string(b);
                }() +
                ")\n"
                "\"\"\"Base classes.\"\"\"\n"
                "class Model:  # L2-9\n"
                "  \"\"\"A model.\"\"\"\n"
                "  def save(self):  # L4-5\n"
                "    \"\"\"Save it.\"\"\"\n"
                "  def __init__(self): ...  # L8-9\n"
                "def connect(url):  # L12-13\n"
                "  \"\"\"Connect.\"\"\"\n"
                "class Manager:  # L14-",
            0) == 0);
  CHECK(m->files[0].text.find("  def operation_11(self, argument):") != std::string::npos);
  CHECK(m->files[0].text.size() > 2 * m->files[1].text.size());
  std::vector<std::string> names;
  for (const auto& s : m->files[0].symbols) names.push_back(s.name + ":" + s.kind);
  REQUIRE(names.size() == 4 + 1 + 12);
  CHECK(std::vector<std::string>(names.begin(), names.begin() + 5) ==
        std::vector<std::string>{"Model:class", "Model.save:method", "Model.__init__:method",
                                 "connect:function", "Manager:class"});
  std::string all;
  for (const auto& f : m->files) all += f.text;
  CHECK(m->text == all);
  CHECK(m->used == (m->text.size() + 3) / 4);

  // A folder; a file; "." is the whole segment.
  auto core = repo_map(*seg, MapRequest{"core/", kDefaultMapBudget});
  REQUIRE(core.ok());
  CHECK(core->files.size() == 2);
  CHECK(repo_map(*seg, MapRequest{"app/main.py", kDefaultMapBudget})->files.size() == 1);
  CHECK(repo_map(*seg, MapRequest{".", kDefaultMapBudget})->files.size() == 3);
  // A folder with no Python file is an empty map; a path that is not there is kNotFound.
  write_text(r / "docs/x.md", "# X\n");
  CHECK(repo_map(*seg, MapRequest{"docs", kDefaultMapBudget})->files.empty());
  CHECK(repo_map(*seg, MapRequest{"nope", kDefaultMapBudget}).error().code == Errc::kNotFound);
  CHECK(repo_map(*seg, MapRequest{"../x", kDefaultMapBudget}).error().code ==
        Errc::kInvalidArgument);
  CHECK(repo_map(*seg, MapRequest{"", kMinMapBudget - 1}).error().code == Errc::kInvalidArgument);
  CHECK(repo_map(*seg, MapRequest{"", kMaxMapBudget + 1}).error().code == Errc::kInvalidArgument);

  // refs: the other files naming a symbol (views.py imports Model, main.py calls connect).
  for (const auto& sym : m->files[0].symbols) {
    if (sym.name == "Model" || sym.name == "connect") CHECK(sym.refs == 1);
    if (sym.name == "Manager" || sym.name == "Model.save") CHECK(sym.refs == 0);
  }

  // A budget the full outline of base.py does not fit: every symbol still shows, without its
  // docstring (breadth before depth); the other files, small, get their full outlines.
  const std::size_t full = (m->files[0].text.size() + 3) / 4;
  auto small = repo_map(*seg, MapRequest{"", full - 1});
  REQUIRE(small.ok());
  REQUIRE(small->files.size() == 3);
  CHECK(small->files[0].reduced);
  CHECK_FALSE(small->files[1].reduced);
  CHECK(small->truncated);
  CHECK(small->files[0].text.find("  def save(self): ...  # L4-5") != std::string::npos);
  CHECK(small->files[0].text.find("Save it.") == std::string::npos);
  CHECK(small->files[0].text.find("\"\"\"Base classes.\"\"\"") !=
        std::string::npos);  // the module's line stays
  CHECK(small->files[0].text.find("def connect(url): ...  # L12-13") != std::string::npos);
  CHECK(small->used <= full - 1);
  // Tighter: the least used symbols go first — Manager's unused members before the definitions
  // another file names.
  auto tighter = repo_map(*seg, MapRequest{"", 100});
  REQUIRE(tighter.ok());
  REQUIRE_FALSE(tighter->files.empty());
  CHECK(tighter->used <= 100);
  CHECK(tighter->files[0].text.find("class Model:") != std::string::npos);
  CHECK(tighter->files[0].text.find("def connect(url)") != std::string::npos);
  CHECK(tighter->files[0].text.find("operation_11") == std::string::npos);
  auto tiny = repo_map(*seg, MapRequest{"", kMinMapBudget});
  REQUIRE(tiny.ok());
  CHECK(tiny->used <= kMinMapBudget);
  CHECK(tiny->truncated);
  // Deterministic.
  CHECK(repo_map(*seg, MapRequest{})->text == m->text);
}

TEST_CASE("repo map: breadth first, the most used definitions before a hub's unused helpers") {
  trifecta::test::TempDir dir;
  const fs::path r = dir.path();
  // hub.py: imported by every file, 30 public helpers nobody calls. engine.py: imported by two
  // files, its Engine used by five.
  std::string hub = "\"\"\"Shared helpers.\"\"\"\n";
  for (int i = 0; i < 30; ++i) {
    hub += "def helper_number_" + std::to_string(i) +
           "(value, *, strict=False):\n    \"\"\"Helper " + std::to_string(i) +
           ".\"\"\"\n    return value\n";
  }
  write_text(r / "hub.py", hub);
  write_text(
      r / "engine.py",
      "import hub\n\nclass Engine:\n    def start(self):\n        pass\n    def __repr__(self):\n"
      "        return 'E'\n\ndef unused_engine_tool():\n    pass\n");
  for (int i = 0; i < 5; ++i) {
    write_text(r / ("user" + std::to_string(i) + ".py"),
               std::string("import hub\n") + (i < 2 ? "from engine import Engine\n" : "") +
                   "\ndef run_" + std::to_string(i) + "():\n    return Engine\n");
  }
  auto seg = built_segment(r);
  REQUIRE(seg->central_files("").front().path == "hub.py");

  auto m = repo_map(*seg, MapRequest{"", 160});
  REQUIRE(m.ok());
  CHECK(m->used <= 160);
  CHECK(m->truncated);
  REQUIRE(m->files.size() >= 2);
  CHECK(m->files[0].path == "hub.py");  // files keep their rank order
  CHECK(m->files[0].reduced);
  const auto engine = std::find_if(m->files.begin(), m->files.end(),
                                   [](const MapFile& f) { return f.path == "engine.py"; });
  REQUIRE(engine != m->files.end());
  REQUIRE_FALSE(engine->symbols.empty());
  CHECK(engine->symbols[0].name == "Engine");
  CHECK(engine->symbols[0].refs == 5);
  // hub.py shows some helpers, not all thirty: the budget went to Engine and the users too.
  CHECK(m->files[0].symbols.size() < 30);
  // Where engine.py is shown in part, Engine (used by five files) comes before the tool nobody
  // uses and the dunder.
  auto tight = repo_map(*seg, MapRequest{"", 80});
  REQUIRE(tight.ok());
  INFO(tight->text);
  const auto part = std::find_if(tight->files.begin(), tight->files.end(),
                                 [](const MapFile& f) { return f.path == "engine.py"; });
  REQUIRE(part != tight->files.end());
  CHECK(part->text.find("class Engine") != std::string::npos);
  CHECK(part->text.find("unused_engine_tool") == std::string::npos);
  CHECK(part->text.find("__repr__") == std::string::npos);
  // The whole map at a budget that holds it: every public symbol, docstrings, nothing reduced.
  auto all = repo_map(*seg, MapRequest{"", 4000});
  REQUIRE(all.ok());
  CHECK_FALSE(all->truncated);
  CHECK(all->files.size() == 7);
  CHECK(all->files[0].symbols.size() == 30);
  CHECK(all->files[0].text.find("  \"\"\"Helper 29.\"\"\"") != std::string::npos);
  CHECK(repo_map(*seg, MapRequest{"", 160})->text == m->text);  // deterministic
}

TEST_CASE("repo map: while other files wait no file takes more than a quarter of the budget") {
  trifecta::test::TempDir dir;
  const fs::path r = dir.path();
  // errors.py: forty exception classes, each raised by every other file (urllib3/exceptions.py
  // filled 91 % of a 600-token map of requests + urllib3); thirty modules with a function each,
  // more than the budget holds.
  std::string errors = "\"\"\"Errors.\"\"\"\n";
  std::string raises;
  for (int i = 0; i < 40; ++i) {
    errors += "class ProblemNumber" + std::to_string(i) + "(Exception):\n    pass\n";
    raises += "    if value == " + std::to_string(i) + ":\n        raise errors.ProblemNumber" +
              std::to_string(i) + "()\n";
  }
  write_text(r / "errors.py", errors);
  for (int i = 0; i < 30; ++i) {
    write_text(r / ("worker" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".py"),
               "import errors\n\ndef work_" + std::to_string(i) + "(value):\n" + raises +
                   "    return value\n");
  }
  auto seg = built_segment(r);
  REQUIRE(seg->central_files("").front().path == "errors.py");
  constexpr std::size_t kBudget = 200;
  auto m = repo_map(*seg, MapRequest{"", kBudget});
  REQUIRE(m.ok());
  INFO(m->text);
  CHECK(m->used <= kBudget);
  CHECK(m->truncated);
  REQUIRE_FALSE(m->files.empty());
  CHECK(m->files[0].path == "errors.py");
  CHECK(m->files[0].reduced);
  CHECK(m->files[0].symbols.size() >= 1);
  CHECK(m->files[0].text.size() <= static_cast<std::size_t>(kBudget * 4 * kMapFileShare));
  CHECK(m->files.size() >= 8);  // the workers have the rest
  // A budget that holds every other file's symbols gives the rest back to errors.py.
  auto others = repo_map(*seg, MapRequest{"", 800});
  REQUIRE(others.ok());
  CHECK(others->files.size() == 31);
  CHECK(others->files[0].symbols.size() > m->files[0].symbols.size());
  auto all = repo_map(*seg, MapRequest{"", 4000});
  REQUIRE(all.ok());
  CHECK_FALSE(all->truncated);
  CHECK(all->files[0].symbols.size() == 40);
  CHECK(repo_map(*seg, MapRequest{"", kBudget})->text == m->text);  // deterministic
}

TEST_CASE("repo map: a package's re-exported names lead over its most imported helpers") {
  trifecta::test::TempDir dir;
  const fs::path r = dir.path();
  // pkg/__init__.py exports fetch and send from api.py, which nothing else imports; twelve
  // internal modules each import helpers.py and the next of them and name the eight helpers
  // (requests' api.py, with `get` and `post`, was no map's up to 600 tokens: nothing inside the
  // tree imports it).
  write_text(r / "pkg" / "__init__.py",
             "from . import internal_00, internal_01\nfrom .api import fetch, send\n");
  write_text(r / "pkg" / "api.py",
             "from . import helpers\n\ndef unlisted():\n    pass\n\ndef fetch(url):\n"
             "    return helpers.helper_0(url)\n\ndef send(url, body):\n"
             "    return helpers.helper_1(url)\n");
  std::string helpers, uses;
  for (int i = 0; i < 8; ++i) {
    helpers += "def helper_" + std::to_string(i) + "(value):\n    return value\n";
    uses += "    helpers.helper_" + std::to_string(i) + "(value)\n";
  }
  write_text(r / "pkg" / "helpers.py", helpers);
  const auto two = [](int i) { return std::string(i < 10 ? "0" : "") + std::to_string(i); };
  for (int i = 0; i < 12; ++i) {
    write_text(r / "pkg" / ("internal_" + two(i) + ".py"),
               "from . import helpers, internal_" + two((i + 1) % 12) + "\n\ndef step_" +
                   std::to_string(i) + "(value):\n" + uses +
                   (i < 2 ? "    unlisted = value\n    return unlisted\n" : ""));
  }
  auto seg = built_segment(r);
  REQUIRE(seg->central_files("").front().path == "pkg/helpers.py");
  for (const auto& f : seg->central_files(""))
    if (f.path == "pkg/api.py") REQUIRE(f.exports == std::vector<std::string>{"fetch", "send"});
  auto m = repo_map(*seg, MapRequest{"", 120});
  REQUIRE(m.ok());
  INFO(m->text);
  REQUIRE(m->files.size() >= 2);
  CHECK(m->files[0].path == "pkg/helpers.py");  // the most central file still leads
  CHECK(m->files[1].path == "pkg/api.py");      // then the package's interface
  std::vector<std::string> names;
  for (const auto& s : m->files[1].symbols) names.push_back(s.name);
  CHECK(names.size() >= 2);
  CHECK(std::find(names.begin(), names.end(), "fetch") != names.end());
  CHECK(std::find(names.begin(), names.end(), "send") != names.end());
  // A budget with room for one of its lines: an exported name (named by __init__.py alone), not
  // `unlisted` above them (a name two files use).
  auto small = repo_map(*seg, MapRequest{"", 72});
  REQUIRE(small.ok());
  INFO(small->text);
  REQUIRE(small->files.size() >= 2);
  CHECK(small->files[1].path == "pkg/api.py");
  REQUIRE(small->files[1].symbols.size() == 1);
  CHECK(small->files[1].symbols[0].name == "fetch");
}

TEST_CASE("repo map: a package's own functions are its interface as much as what it re-exports") {
  trifecta::test::TempDir dir;
  const fs::path r = dir.path();
  // As json/ in the stdlib: codec/__init__.py defines dumps and loads and re-exports Decoder and
  // Encoder; three of twenty other files import the package. The map of the folder leads with
  // the package's own functions, then the re-exported classes; scanner.py, which decoder.py
  // imports (more central than either) but no package exports from, after them.
  write_text(r / "codec" / "__init__.py",
             "from .decoder import Decoder\nfrom .encoder import Encoder\n\n"
             "def dumps(obj):\n    return Encoder().encode(obj)\n\n"
             "def loads(text):\n    return Decoder().decode(text)\n\n"
             "def detect(data):\n    return 'utf-8'\n");
  write_text(r / "codec" / "decoder.py",
             "from . import scanner\n\nclass Decoder:\n    def decode(self, text):\n"
             "        return scanner.scan(text)\n");
  write_text(r / "codec" / "encoder.py",
             "class Encoder:\n    def encode(self, obj):\n"
             "        return str(obj)\n");
  write_text(r / "codec" / "scanner.py", "def scan(text):\n    return text\n");
  for (int i = 0; i < 20; ++i) {
    write_text(r / ("app_" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".py"),
               std::string(i < 3 ? "import codec\n\n" : "") + "def run_" + std::to_string(i) +
                   "(x):\n    return " +
                   (i < 2   ? "codec.loads(x)"
                    : i < 3 ? "codec.dumps(x)"
                            : "x") +
                   "\n");
  }
  auto seg = built_segment(r);
  auto m = repo_map(*seg, MapRequest{"codec", 100});
  REQUIRE(m.ok());
  INFO(m->text);
  REQUIRE(m->files.size() >= 2);
  CHECK(m->files[0].path == "codec/__init__.py");
  std::vector<std::string> names;
  for (const auto& s : m->files[0].symbols) names.push_back(s.name);
  CHECK(std::find(names.begin(), names.end(), "dumps") != names.end());
  CHECK(std::find(names.begin(), names.end(), "loads") != names.end());
  CHECK(m->files[1].path == "codec/decoder.py");  // the re-exported class next
}

TEST_CASE("repo map: a map its file choice starved reads on until its budget is used") {
  trifecta::test::TempDir dir;
  const fs::path r = dir.path();
  // Thirty modules of constants only (no symbol to show: a header line each, ~10 tokens) and one
  // with a function. The files to read are chosen giving each room for three symbol lines, so a
  // 200-token map read five of them and stopped at about a quarter of its budget; it now reads on
  // while it is under its budget by more than two lines.
  for (int i = 0; i < 30; ++i) {
    write_text(r / ("consts_" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".py"),
               "LIMIT = " + std::to_string(i) + "\n");
  }
  write_text(r / "tool.py", "def run_tool(value):\n    return value\n");
  auto seg = built_segment(r);
  auto m = repo_map(*seg, MapRequest{"", 200});
  REQUIRE(m.ok());
  INFO(m->text);
  CHECK(m->used <= 200);
  CHECK(m->truncated);
  CHECK(m->files.size() >= 15);
  CHECK(m->used >= 200 - 20);  // filled up to about one header of the budget
  auto all = repo_map(*seg, MapRequest{"", 2000});
  REQUIRE(all.ok());
  CHECK_FALSE(all->truncated);
  CHECK(all->files.size() == 31);
}

TEST_CASE(
    "repo map weights: refs raise a symbol, words most files hold do not, members weigh less, "
    "tests, vendored files and private modules less") {
  CHECK(reach_weight(0, 100) == kMapUnusedWeight);
  CHECK(reach_weight(100, 100) == kMapUnusedWeight);  // a name every file holds tells nothing
  CHECK(reach_weight(5, 100) > reach_weight(1, 100));
  CHECK(reach_weight(20, 100) > reach_weight(5, 100));
  CHECK(reach_weight(90, 100) < reach_weight(20, 100));
  CHECK(symbol_weight(true, "start", 20, 20, 100) ==
        0.5 * symbol_weight(false, "start", 20, 0, 100));
  CHECK(symbol_weight(true, "get", 60, 3, 100) ==
        0.5 * reach_weight(3, 100));  // capped by its class
  CHECK(symbol_weight(true, "__init__", 0, 10, 100) == 0.5 * reach_weight(10, 100));
  CHECK(symbol_weight(true, "__repr__", 50, 50, 100) == 0.25 * kMapUnusedWeight);
  CHECK(symbol_weight(false, "__getattr__", 50, 0, 100) == 0.25 * kMapUnusedWeight);
  // A file's weight: its centrality, demoted for the path classes below the map's own path.
  CHECK(file_weight({"_vendor/rich/console.py", 2.0, {}, 0.0}, "") ==
        2.0 * kMapPrivateWeight * 0.6);
  CHECK(file_weight({"_vendor/rich/console.py", 2.0, {}, 0.0}, "_vendor/rich") == 2.0);
  CHECK(file_weight({"_vendor/rich/console.py", 2.0, {}, 0.0}, "_vendor") == 2.0);
  CHECK(file_weight({"pkg/tests/test_x.py", 2.0, {}, 0.0}, "") == 2.0 * 0.35);
  CHECK(file_weight({"conf/locale/fr/formats.py", 2.0, {}, 0.0}, "") == 0.0);
  CHECK(file_weight({"pkg/core.py", 2.0, {}, 0.0}, "") == 2.0);
  CHECK(file_weight({"pkg/core.py", 2.0, {}, 0.0}, "pkg/core.py") == 2.0);
  // ... and raised for a file its package re-exports from, as far as that package is an
  // interface (not the rest of the tree's toolkit).
  CHECK(file_weight({"pkg/api.py", 2.0, {"get"}, 1.0}, "") == 2.0 * kMapExportFileWeight);
  CHECK(file_weight({"pkg/api.py", 2.0, {"get"}, 0.5}, "") ==
        2.0 * (1.0 + 0.5 * (kMapExportFileWeight - 1.0)));
  CHECK(file_weight({"pkg/api.py", 2.0, {"get"}, 0.0}, "") == 2.0);
  CHECK(file_weight({"pkg/tests/x.py", 2.0, {"*"}, 1.0}, "") == 2.0 * kMapExportFileWeight * 0.35);
  // A private module (PEP 8: a leading underscore; its file or a folder of its path below the
  // map's own path) is its package's internals: demoted, unless its package re-exports from it.
  CHECK(file_weight({"_weakrefset.py", 2.0, {}, 0.0}, "") == 2.0 * kMapPrivateWeight);
  CHECK(file_weight({"_weakrefset.py", 2.0, {}, 0.0}, "") <
        file_weight({"weakref.py", 2.0, {}, 0.0}, ""));
  CHECK(file_weight({"pkg/_internal/core.py", 2.0, {}, 0.0}, "") == 2.0 * kMapPrivateWeight);
  CHECK(file_weight({"pkg/_internal/core.py", 2.0, {}, 0.0}, "pkg/_internal") == 2.0);
  CHECK(file_weight({"pkg/__init__.py", 2.0, {}, 0.0}, "") == 2.0);
  CHECK(file_weight({"pkg/__main__.py", 2.0, {}, 0.0}, "") == 2.0);
  CHECK(file_weight({"pkg/_api.py", 2.0, {"get"}, 1.0}, "") == 2.0 * kMapExportFileWeight);
  CHECK(private_module("_py_abc.py"));
  CHECK(private_module("sql/_typing.py"));
  CHECK_FALSE(private_module("sql/typing.py"));
  CHECK_FALSE(private_module("__init__.py"));
  CHECK_FALSE(private_module("a/b_c/_"));
  CHECK(is_dunder("__init__"));
  CHECK_FALSE(is_dunder("____"));
  CHECK_FALSE(is_dunder("_private"));
}

TEST_CASE(
    "repo map: a compact signature cuts a long parameter list at a parameter, keeps the return") {
  CHECK(compact_signature("(self, x)") == "(self, x)");
  CHECK(compact_signature("") == "");
  CHECK(compact_signature("(obj, fp, *, skipkeys=False, ensure_ascii=True, check_circular=True, "
                          "allow_nan=True) -> None") ==
        "(obj, fp, *, skipkeys=False, ensure_ascii=True, ...) -> None");
  // Commas inside brackets and strings are not parameter boundaries.
  CHECK(
      compact_signature(
          "(x: dict[str, int] = {'a,b': 1, 'c': 2}, y=2, z=3, w=4, v=5, u=6, t=7) -> list[int]") ==
      "(x: dict[str, int] = {'a,b': 1, 'c': 2}, y=2, ...) -> list[int]");
  // A first parameter longer than the limit leaves "(...)"; a class's bases are cut the same way.
  CHECK(compact_signature("(a_very_long_parameter_name_that_goes_on_and_on_and_on=1, b=2)") ==
        "(...)");
  CHECK(compact_signature(
            "[T](Generic[T], metaclass=SomeVeryLongMetaclassName, extra_keyword=True)") ==
        "[T](Generic[T], metaclass=SomeVeryLongMetaclassName, ...)");
  // Unbalanced (a signature cut by a syntax error): as it is.
  CHECK(compact_signature("(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s") ==
        "(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s");
}

TEST_CASE("skeleton of a split class's header chunk lists every method, like its sym:// form") {
  trifecta::test::TempDir dir;
  std::string src = "class Where(Node):\n    \"\"\"A where clause.\"\"\"\n    conn = 'AND'\n\n";
  for (int i = 0; i < 21; ++i) {
    src += "    def method_" + std::to_string(i) + "(self, x):\n";
    for (int k = 0; k < 8; ++k) src += "        y = x + " + std::to_string(k) + "\n";
    src += "\n";
  }
  write_text(dir.path() / "where.py", src);
  auto seg = built_segment(dir.path());
  REQUIRE(seg->chunk("where.py#Where.method_0").has_value());  // the class is split
  auto skeleton = [&](Target t) {
    GetRequest req;
    req.targets = {std::move(t)};
    req.mode = Mode::kSkeleton;
    auto r = get(*seg, req);
    REQUIRE(r.ok());
    REQUIRE(r->chunks.size() == 1);
    return r->chunks[0].text;
  };
  const std::string header = skeleton(Target::chunk("where.py#Where"));
  for (int i = 0; i < 21; ++i)
    CHECK(header.find("def method_" + std::to_string(i) + "(self, x)") != std::string::npos);
  CHECK(header.rfind("class Where(Node):\n  \"\"\"A where clause.\"\"\"\n  conn = 'AND'\n", 0) ==
        0);
  // The same outline as the class's whole range (what the sym:// form resolves to).
  const int last = static_cast<int>(std::count(src.begin(), src.end(), '\n'));
  CHECK(header == skeleton(Target::range("where.py", 1, last - 1, "sym://python/where/Where")));
  // A method chunk still shows the method alone.
  CHECK(skeleton(Target::chunk("where.py#Where.method_3")) == "def method_3(self, x): ...\n");
}

TEST_CASE("repo map: an override weighs less than a member its ancestor does not have") {
  trifecta::test::TempDir dir;
  const fs::path r = dir.path();
  // Child(core.Base) overrides Base's ten methods and adds `fresh`; three files use them all.
  std::string core = "class Base:\n";
  for (int i = 0; i < 10; ++i)
    core += "    def method_" + std::to_string(i) + "(self):\n        pass\n";
  core += "\n\nclass Child(core.Base, metaclass=type):\n";
  for (int i = 0; i < 10; ++i)
    core += "    def method_" + std::to_string(i) + "(self):\n        pass\n";
  core += "    def fresh(self):\n        pass\n";
  write_text(r / "core.py", core);
  for (int u = 0; u < 3; ++u) {
    std::string user =
        "from core import Base, Child\n\ndef use_" + std::to_string(u) + "():\n    c = Child()\n";
    for (int i = 0; i < 10; ++i) user += "    c.method_" + std::to_string(i) + "()\n";
    user += "    c.fresh()\n    return Base\n";
    write_text(r / ("user" + std::to_string(u) + ".py"), user);
  }
  auto seg = built_segment(r);
  // Every member has the same refs (3, its class's); Child's ten overrides come after `fresh`.
  auto m = repo_map(*seg, MapRequest{"core.py", 130});
  REQUIRE(m.ok());
  REQUIRE(m->files.size() == 1);
  const auto& syms = m->files[0].symbols;
  const auto has = [&](const std::string& name) {
    return std::any_of(syms.begin(), syms.end(),
                       [&](const MapSymbol& s) { return s.name == name; });
  };
  CHECK(m->files[0].reduced);
  CHECK(has("Base.method_9"));
  CHECK(has("Child.fresh"));
  CHECK_FALSE(has("Child.method_0"));
  for (const auto& s : syms) {
    if (s.kind == "method") CHECK(s.refs == 3);
  }
}

TEST_CASE("repo map: a name defined twice in one scope is shown once by its first definition") {
  trifecta::test::TempDir dir;
  const fs::path r = dir.path();
  write_text(
      r / "compat.py",
      "import sys\n\nif sys.version_info >= (3,):\n    def b(s):\n        return s.encode()\n"
      "else:\n    def b(s):\n        return s\n\n\n"
      "class Box:\n    @property\n    def size(self):\n        return self._size\n\n"
      "    @size.setter\n    def size(self, v):\n        self._size = v\n\n"
      "    def fill(self):\n        pass\n");
  write_text(r / "user.py", "from compat import b, Box\n\ndef go():\n    return b(Box().size)\n");
  auto seg = built_segment(r);
  for (const std::size_t budget : {std::size_t{64}, std::size_t{2000}}) {  // compact, full
    auto m = repo_map(*seg, MapRequest{"compat.py", budget});
    REQUIRE(m.ok());
    REQUIRE(m->files.size() == 1);
    std::map<std::string, int> count;
    int b_line = 0;
    for (const auto& s : m->files[0].symbols) {
      ++count[s.name];
      if (s.name == "b") b_line = static_cast<int>(s.line);
    }
    CAPTURE(budget, m->files[0].text);
    CHECK(count["b"] == 1);
    CHECK(b_line == 4);  // the first definition
    if (count.count("Box.size")) CHECK(count["Box.size"] == 1);
    const std::string& text = m->files[0].text;
    CHECK(text.find("def b(") == text.rfind("def b("));
    CHECK(text.find("def size(") == text.rfind("def size("));
  }
  auto full = repo_map(*seg, MapRequest{"compat.py", 2000});
  REQUIRE(full.ok());
  CHECK_FALSE(full->files[0].reduced);  // everything a reader needs is shown
}

TEST_CASE(
    "repo map: a tree's own code leads and its test helpers follow, but a map of the tests ranks "
    "them") {
  trifecta::test::TempDir dir;
  const fs::path r = dir.path();
  // tests/helpers.py is imported by four test files, lib.py by two of them: helpers is the most
  // central file, but it is test code.
  write_text(r / "lib.py", "def parse(text):\n    return text\n");
  write_text(r / "tests" / "__init__.py", "");
  write_text(r / "tests" / "helpers.py", "def make_fixture():\n    return 1\n");
  for (int i = 0; i < 4; ++i) {
    write_text(r / "tests" / ("test_" + std::to_string(i) + ".py"),
               std::string("from tests.helpers import make_fixture\n") +
                   (i < 2 ? "from lib import parse\n" : "") + "\ndef test_" + std::to_string(i) +
                   "():\n    return make_fixture()\n");
  }
  auto seg = built_segment(r);
  REQUIRE(seg->central_files("").front().path == "tests/helpers.py");
  auto m = repo_map(*seg, MapRequest{"", 1024});
  REQUIRE(m.ok());
  REQUIRE(m->files.size() >= 2);
  CHECK(m->files[0].path == "lib.py");
  CHECK(m->files[0].centrality < m->files[1].centrality);  // the reply keeps the PageRank itself
  auto t = repo_map(*seg, MapRequest{"tests", 1024});
  REQUIRE(t.ok());
  REQUIRE_FALSE(t->files.empty());
  CHECK(t->files[0].path == "tests/helpers.py");
}
