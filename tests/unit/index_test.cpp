// lib/index: tokenizer, chunkers, BM25F ranking, did_you_mean, and SegmentIndex (build, skip
// reasons, incremental updates, watcher sync, validate, persistence / warm restart).
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "../support/temp_dir.hpp"
#include "lang/python/extractor.hpp"
#include "index/chunk.hpp"
#include "index/inverted_index.hpp"
#include "index/json.hpp"
#include "index/ranking.hpp"
#include "index/segment_index.hpp"
#include "index/tokenizer.hpp"
#include "telemetry/sink.hpp"
#include "lang/python/symbol_index.hpp"

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
    for (const auto& c : chunks) terms.push_back(analyze_chunk(c, line_span(text, starts, c.start_line, c.end_line)));
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
  CHECK(tokenize("JSONDecodeError") == std::vector<std::string>{"jsondecodeerror", "json", "decode", "error"});
  CHECK(tokenize("json_decode") == std::vector<std::string>{"json_decode", "json", "decode"});
  CHECK(tokenize("__init__") == std::vector<std::string>{"init"});
  CHECK(tokenize("parseHTTPResponse") == std::vector<std::string>{"parsehttpresponse", "parse", "http", "response"});
  CHECK(tokenize("sha256 utf8") == std::vector<std::string>{"sha256", "sha", "utf8", "utf"});
  CHECK(tokenize("error 404 x 1234567890123") == std::vector<std::string>{"error", "404"});
  CHECK(tokenize("Café naïve") == std::vector<std::string>{"café", "naïve"});
  CHECK(query_terms("decode Decode DECODE") == std::vector<std::string>{"decode"});
  CHECK(tokenize("a = b + c").empty());
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
  for (const char* w : {"JSONDecodeError", "json_decode", "__init__", "sha256", "parseHTTPResponse", "naïve", "404"}) {
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
  CHECK(ids(cs) == std::vector<std::string>{"pkg/mod.py#<module>", "pkg/mod.py#top", "pkg/mod.py#Thing", "pkg/mod.py#<main>"});
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
  CHECK(ids(cs) == std::vector<std::string>{"docs/guide.md#<preamble>", "docs/guide.md#guide", "docs/guide.md#installation",
                                            "docs/guide.md#from-source", "docs/guide.md#installation-2", "docs/guide.md#other"});
  CHECK(cs[2].start_line == 5);
  CHECK(cs[2].end_line == 12);
  CHECK(cs[3].title_path == std::vector<std::string>{"Guide", "Installation", "From source"});
  CHECK(cs[5].title_path == std::vector<std::string>{"Other"});
  CHECK(cs[1].kind == ChunkKind::kDoc);
  CHECK(cs[1].preview == "Welcome.");
}

TEST_CASE("text windows are at most 60 lines and cut at blank lines, huge files chunk fully") {
  std::string text;
  for (int i = 1; i <= 200; ++i) text += (i % 25 == 0) ? "\n" : "key" + std::to_string(i) + " = v\n";
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
      {"a/user.py", "def helper():\n    # we decode here, decode there, decode everywhere\n    return decode(x)\n"},
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
  auto idx = index_of({{"z.txt", "alpha beta\n"}, {"a.txt", "alpha beta\n"}, {"m.txt", "alpha beta\n"}});
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
  CHECK(std::find(r->did_you_mean.begin(), r->did_you_mean.end(), "decode") != r->did_you_mean.end());
  o.query = "payl";  // prefix
  auto p = idx.search(o);
  REQUIRE(p.ok());
  CHECK(std::find(p->did_you_mean.begin(), p->did_you_mean.end(), "payload") != p->did_you_mean.end());
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
  CHECK(idx.find("a.py#alpha") == nullptr);
  CHECK(idx.find("a.py#gamma") != nullptr);
  std::string blob;
  idx.serialize(blob);
  InvertedIndex copy;
  REQUIRE(copy.deserialize(blob).ok());
  CHECK(copy.chunk_count() == 2);
  CHECK(copy.search(o)->hits[0].score == Approx(idx.search(o)->hits[0].score));
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
  CHECK(seg->files_with_word("__raw_decode__") == want);  // `_` at both ends stripped, as the tokenizer does
  CHECK(seg->files_with_word("nowhere_at_all") == std::vector<std::string>{"big.py"});
  CHECK_FALSE(seg->files_with_word("x").has_value());     // one character: never a token
  CHECK_FALSE(seg->files_with_word("_x_").has_value());
  CHECK_FALSE(seg->files_with_word(std::string(65, 'a')).has_value());
  // It follows the disk.
  write_text(r / "e.py", "def other():\n    return raw_decode\n");
  (void)seg->apply_changes({"e.py"});
  CHECK(seg->files_with_word("raw_decode") == std::vector<std::string>{"a.py", "b.py", "big.py", "c.py", "d.md", "e.py"});
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

TEST_CASE("SegmentIndex: persistence gives a warm restart that rereads only edited files") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  for (int i = 0; i < 20; ++i) write_text(r / ("m" + std::to_string(i) + ".py"), "def f" + std::to_string(i) + "():\n    pass\n");
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
  const std::string src = "import os\r\n\r\ndef f():\r\n    return 1\r\n\r\nclass C:\r\n    pass\r\n";
  auto cs = chunk_py("crlf.py", src);
  REQUIRE(ids(cs) == std::vector<std::string>{"crlf.py#<module>", "crlf.py#f", "crlf.py#C"});
  CHECK(cs[1].start_line == 3);
  CHECK(cs[1].end_line == 4);
  const auto starts = line_starts(src);
  CHECK(line_span(src, starts, cs[1].start_line, cs[1].end_line) == "def f():\r\n    return 1\r\n");
}

TEST_CASE("SegmentIndex: searches run concurrently with updates") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  for (int i = 0; i < 30; ++i) write_text(r / ("f" + std::to_string(i) + ".py"), "def func_" + std::to_string(i) + "():\n    shared_word = 1\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int k = 0; k < 2; ++k) {
    readers.emplace_back([&] {
      SearchOptions o;
      o.query = "shared_word";
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
  for (int round = 0; round < 40; ++round) {
    const std::string name = "f" + std::to_string(round % 30) + ".py";
    write_text(r / name, "def func_" + std::to_string(round) + "_v2():\n    shared_word = " + std::to_string(round) + "\n");
    seg->apply_changes({name});
  }
  stop = true;
  for (auto& th : readers) th.join();
  CHECK(failures == 0);
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

Posting posting(std::uint32_t doc, std::uint8_t path, std::uint8_t name, std::uint8_t sig, std::uint8_t body) {
  return Posting{doc, {path, name, sig, body}};
}

}  // namespace

TEST_CASE("postings: lists round-trip through delta + varint, including empty lists and huge document ids") {
  const std::vector<std::vector<Posting>> lists = {
      {},
      {posting(0, 0, 0, 0, 1)},
      {posting(0, 1, 2, 3, 4), posting(1, 0, 0, 0, 255), posting(2, 255, 255, 255, 255), posting(9, 0, 7, 0, 0)},
      {posting(0, 1, 0, 0, 0), posting(UINT32_MAX, 0, 0, 0, 3)},  // the largest delta (36 bits shifted)
      {posting(UINT32_MAX - 2, 1, 1, 1, 1), posting(UINT32_MAX - 1, 0, 1, 0, 0), posting(UINT32_MAX, 0, 0, 1, 0)},
  };
  for (const auto& list : lists) {
    const auto bytes = encode(list);
    bool bad = true;
    CHECK(decode(view(bytes), &bad) == list);
    CHECK_FALSE(bad);
    CHECK(validate_list(view(bytes), list.size(), std::uint64_t{UINT32_MAX} + 1));
  }
  CHECK(encode({}).empty());
  // Every field mask (1..15) survives.
  std::vector<Posting> masks;
  for (std::uint32_t m = 1; m < 16; ++m) {
    masks.push_back(posting(m * 1000, m & 1 ? 5 : 0, m & 2 ? 6 : 0, m & 4 ? 7 : 0, m & 8 ? 8 : 0));
  }
  CHECK(decode(view(encode(masks))) == masks);
  // The point of the encoding: a body-only posting close to the previous one takes 2 bytes.
  std::vector<Posting> dense;
  for (std::uint32_t d = 1; d <= 1000; ++d) dense.push_back(posting(d * 7, 0, 0, 0, 1));
  CHECK(encode(dense).size() == 2000);
}

TEST_CASE("postings: malformed lists are refused, never misread") {
  const std::vector<Posting> list = {posting(3, 0, 0, 0, 2), posting(200, 1, 0, 0, 9), posting(70000, 0, 4, 0, 1)};
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
  trifecta::core::bytes::put_varint(repeat, (5u << 4) | 8u);
  repeat.push_back(1);
  trifecta::core::bytes::put_varint(repeat, (0u << 4) | 8u);
  repeat.push_back(1);
  CHECK(decode(view(repeat), &bad).size() == 1);
  CHECK(bad);
  std::vector<std::uint8_t> zero_tf;
  trifecta::core::bytes::put_varint(zero_tf, (5u << 4) | 8u);
  zero_tf.push_back(0);
  CHECK_FALSE(validate_list(view(zero_tf), 1, 10));
  std::vector<std::uint8_t> no_fields;  // a posting with no field at all
  trifecta::core::bytes::put_varint(no_fields, 5u << 4);
  CHECK_FALSE(validate_list(view(no_fields), 1, 10));
}

TEST_CASE("postings: FrozenPostings keeps many terms, gaps and empty lists apart") {
  FrozenPostings fp;
  const std::uint32_t nterms = 20000;
  std::size_t total = 0;
  auto list_of = [](std::uint32_t t) {
    std::vector<Posting> l;
    for (std::uint32_t i = 0; i < t % 5; ++i) l.push_back(posting(t + i * 977, 0, 0, 1, static_cast<std::uint8_t>(1 + i)));
    return l;
  };
  std::vector<bool> began(nterms, false);
  for (std::uint32_t t = 0; t < nterms; t += (t % 3 == 0 ? 2 : 1)) {  // the term after a multiple of 3 is skipped
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
  for (std::uint32_t v = 0; v < keys.size(); ++v) REQUIRE(table.find(keys[v], h(keys[v]), key_of) == v);
  CHECK(table.find("absent", h("absent"), key_of) == IdTable::kNone);
  for (std::uint32_t v = 0; v < keys.size(); v += 3) table.erase(h(keys[v]), v);
  CHECK(table.size() == keys.size() - (keys.size() + 2) / 3);
  for (std::uint32_t v = 0; v < keys.size(); ++v) {
    CHECK((table.find(keys[v], h(keys[v]), key_of) == IdTable::kNone) == (v % 3 == 0));
  }
  // Re-inserted keys land in tombstones or fresh slots and are found again; growth keeps them.
  for (std::uint32_t v = 0; v < keys.size(); v += 3) table.insert(h(keys[v]), v, key_of);
  for (int i = 0; i < 50000; ++i) keys.push_back("more" + std::to_string(i));
  for (auto v = static_cast<std::uint32_t>(keys.size() / 2); v < keys.size(); ++v) table.insert(h(keys[v]), v, key_of);
  CHECK(table.size() == keys.size());
  for (std::uint32_t v = 0; v < keys.size(); ++v) REQUIRE(table.find(keys[v], h(keys[v]), key_of) == v);
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

void add_file(InvertedIndex& idx, const std::string& path, const std::string& text) {
  auto chunks = chunk_file(path, text, nullptr);
  std::vector<ChunkTerms> terms;
  const auto starts = line_starts(text);
  for (const auto& c : chunks) terms.push_back(analyze_chunk(c, line_span(text, starts, c.start_line, c.end_line)));
  idx.replace_file(path, std::move(chunks), std::move(terms));
}

// Everything a search answers, scores compared exactly.
std::string answer(const InvertedIndex& idx, const std::string& q) {
  SearchOptions o;
  o.query = q;
  o.limit = 50;
  o.explain = true;
  auto r = idx.search(o);
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

}  // namespace

TEST_CASE("an index updated in place (tail, tombstones, freezes, compaction) ranks exactly like a fresh one") {
  TextGen gen{42};
  std::map<std::string, std::string> files;
  for (int i = 0; i < 600; ++i) files["d" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".txt"] = gen.file(25);
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

  std::vector<std::string> queries = {"wa wb", "wzc", "wqd wrd wsd", "d3 wab", "new wbc", "wabcd", "wbcz wcc"};
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
  CHECK(live.find("new/g3.txt#L1-20") != nullptr);
  CHECK(live.find("d5/f5.txt#L1-25") == nullptr);
}

TEST_CASE("SegmentIndex: an index.bin of another format version is rebuilt, not misread") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  for (int i = 0; i < 5; ++i) write_text(r / ("m" + std::to_string(i) + ".py"), "def f" + std::to_string(i) + "():\n    pass\n");
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

TEST_CASE("SegmentIndex: skeletons and the symbol index read through the segment's reader (one limit, every byte counted)") {
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
  CHECK(order == std::vector<Field>{kFieldPath, kFieldName, kFieldSig, kFieldSig, kFieldBody});
}

TEST_CASE("ranking: a term's field shares sum to its score, the name field outweighs the body") {
  const FieldAverages avg{4.0, 2.0, 6.0, 40.0};
  const FieldLengths len{4, 2, 6, 40};  // an average chunk: no length normalisation
  std::array<double, kFieldCount> per{};
  const double s = score_term(FieldTfs{1, 1, 0, 3}, len, 2.0, avg, &per);
  CHECK(per[0] + per[1] + per[2] + per[3] == Approx(s));
  CHECK(per[2] == 0.0);
  CHECK(score_term(FieldTfs{0, 1, 0, 0}, len, 2.0, avg, nullptr) >
        score_term(FieldTfs{0, 0, 0, 3}, len, 2.0, avg, nullptr));
  CHECK(bm25_idf(100, 1) > bm25_idf(100, 50));
  CHECK(field_averages({}, 0) == FieldAverages{1.0, 1.0, 1.0, 1.0});
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
    write_text(r / ("m" + std::to_string(i) + ".py"), "def f" + std::to_string(i) + "():\n    pass\n");
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
  forged += data.substr(at + 4 + kRankingVersion.size(), data.size() - 8 - (at + 4 + kRankingVersion.size()));
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
