// lib/index: tokenizer, chunkers, BM25F ranking, did_you_mean, and SegmentIndex (build, skip
// reasons, incremental updates, watcher sync, validate, persistence / warm restart).
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <fstream>
#include <thread>

#include "../support/temp_dir.hpp"
#include "ast/extractor.hpp"
#include "index/chunk.hpp"
#include "index/inverted_index.hpp"
#include "index/json.hpp"
#include "index/segment_index.hpp"
#include "index/tokenizer.hpp"

using namespace trifecta::core;
using namespace trifecta::core::index;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

void write(const fs::path& p, std::string_view content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << content;
}

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

TEST_CASE("text windows are at most 60 lines and cut at blank lines; huge files chunk fully") {
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

TEST_CASE("search rejects empty and one-character queries; zero hits suggest terms") {
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
  write(r / "ok.py", "def fine():\n    return 1\n");
  write(r / "broken.py", "def broken(:\n    pass\n\ndef after():\n    pass\n");
  write(r / "latin1.py", "# caf\xe9\ndef latin():\n    pass\n");
  write(r / "bin.dat", std::string("\0\1\2", 3));
  write(r / "_ctx/trifecta.json", R"({"max_file_bytes": 4096})");
  write(r / "huge.txt", std::string(5000, 'x'));
  write(r / "noread.txt", "secret\n");
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

TEST_CASE("SegmentIndex: apply_changes re-chunks only what changed; validate finds drift") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write(r / "a.py", "def alpha():\n    pass\n");
  write(r / "b.py", "def beta():\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  const auto gen0 = seg->generation();
  const auto pack0 = seg->status().pack_state;

  // Touch without content change: nothing re-chunked, generation unchanged.
  write(r / "b.py", "def beta():\n    pass\n");
  auto same = seg->apply_changes({"b.py"});
  CHECK(same.unchanged == 1);
  CHECK(same.reindexed == 0);
  CHECK(seg->generation() == gen0);

  write(r / "a.py", "def alpha_renamed():\n    pass\n");
  write(r / "c.py", "def gamma():\n    pass\n");
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

TEST_CASE("SegmentIndex: sync() applies watcher events before answering") {
  trifecta::test::TempDir t;
  const fs::path r = t.path();
  write(r / "a.py", "def alpha():\n    pass\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  REQUIRE(seg->start_watching().ok());
  SearchOptions o;
  o.query = "zebra";
  CHECK(seg->search(o)->hits.empty());
  write(r / "a.py", "def zebra():\n    pass\n");
  fs::create_directories(r / "newpkg");
  write(r / "newpkg/z.py", "def zebra_two():\n    pass\n");
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
  for (int i = 0; i < 20; ++i) write(r / ("m" + std::to_string(i) + ".py"), "def f" + std::to_string(i) + "():\n    pass\n");
  write(r / "bin.dat", std::string("\0", 1));
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
  write(r / "m3.py", "def renamed3():\n    return 3\n");
  fs::remove(r / "m4.py");
  write(r / "new.py", "def brand_new():\n    pass\n");
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
  write(r / "a.txt", "alpha\n");
  write(r / "b.txt", "beta\n");
  SegmentOptions so;
  so.use_git = false;
  so.persist = false;
  auto seg = std::move(SegmentIndex::open(r, so).value());
  REQUIRE(seg->build().ok());
  REQUIRE(seg->start_watching().ok());
  // Alternate two files so the kernel cannot coalesce identical events.
  for (long i = 0; i < limit; ++i) write(r / (i % 2 ? "a.txt" : "b.txt"), "x\n");
  write(r / "late.txt", "overflowword\n");
  auto rep = seg->sync();
  CHECK(rep.rescanned);
  CHECK(seg->status().rescans == 1);
  SearchOptions o;
  o.query = "overflowword";
  CHECK(seg->search(o)->hits.size() == 1);
  o.query = "alpha";
  CHECK(seg->search(o)->hits.empty());  // a.txt's new content was picked up by the rescan
  // The watcher works again afterwards.
  write(r / "after.txt", "afterword\n");
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
  for (int i = 0; i < 30; ++i) write(r / ("f" + std::to_string(i) + ".py"), "def func_" + std::to_string(i) + "():\n    shared_word = 1\n");
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
    write(r / name, "def func_" + std::to_string(round) + "_v2():\n    shared_word = " + std::to_string(round) + "\n");
    seg->apply_changes({name});
  }
  stop = true;
  for (auto& th : readers) th.join();
  CHECK(failures == 0);
  CHECK(seg->validate()->ok());
}
