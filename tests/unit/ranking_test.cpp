// lib/index ranking signals (ranking.hpp, rank-3): stemming, stop words, typo tolerance, path
// priors, definitions, module names, per-file diversification, --explain and determinism.
#include "index/ranking.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "index/chunk.hpp"
#include "index/inverted_index.hpp"
#include "index/tokenizer.hpp"
#include "lang/python/extractor.hpp"

using namespace trifecta::core;
using namespace trifecta::core::index;

namespace {

InvertedIndex index_of(const std::vector<std::pair<std::string, std::string>>& files) {
  InvertedIndex idx;
  for (const auto& [path, text] : files) {
    std::vector<Chunk> chunks;
    if (file_type_of(path) == FileType::kPython) {
      auto sk = ast::extract_skeleton(text);
      REQUIRE(sk.ok());
      chunks = chunk_python(path, text, *sk);
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

std::vector<std::string> hit_ids(const SearchResult& r) {
  std::vector<std::string> out;
  for (const auto& h : r.hits) out.push_back(h.chunk.id);
  return out;
}

SearchResult run(const InvertedIndex& idx, std::string q, std::uint32_t signals = kSignalAll,
                 bool explain = false) {
  SearchOptions o;
  o.query = std::move(q);
  o.signals = signals;
  o.explain = explain;
  auto r = idx.search(o);
  REQUIRE(r.ok());
  return std::move(*r);
}

}  // namespace

TEST_CASE("stem: Snowball English on plain lowercase words, identifiers untouched") {
  CHECK(stem("dictionaries") == "dictionari");
  CHECK(stem("dictionary") == "dictionari");
  CHECK(stem("hashed") == "hash");
  CHECK(stem("hashing") == "hash");
  CHECK(stem("signals") == "signal");
  CHECK(stem("json_decode") == "json_decode");
  CHECK(stem("sha256") == "sha256");
  CHECK(stem("is") == "is");
  CHECK_FALSE(stemmable("utf8"));
  CHECK(stemmable("rows"));
}

TEST_CASE("parse_query drops question words unless quoted or alone, keeps first-seen order") {
  auto texts = [](const std::vector<QueryTerm>& ts) {
    std::vector<std::string> out;
    for (const auto& t : ts) out.push_back(t.text);
    return out;
  };
  CHECK(texts(parse_query("where is the password hashed")) ==
        std::vector<std::string>{"password", "hashed"});
  CHECK(texts(parse_query("where is the password hashed", false)) ==
        std::vector<std::string>{"where", "is", "the", "password", "hashed"});
  const auto quoted = parse_query("how to call \"where\" and `is_`");
  CHECK(texts(quoted) == std::vector<std::string>{"call", "where", "is"});
  CHECK(quoted[1].exact);
  CHECK_FALSE(quoted[0].exact);
  CHECK(texts(parse_query("what is this")) == std::vector<std::string>{"what", "is", "this"});
  CHECK(texts(parse_query("decode Decode DECODE")) == std::vector<std::string>{"decode"});
  // Typographic quotes and Unicode spaces are what their ASCII forms are: `“pretty-print”` is
  // one hyphenated word (a compound, like pretty-print), a no-break space separates two words.
  const auto curly = parse_query("the \u201cpretty-print\u201d module\u2019s output\u00a0format");
  CHECK(texts(curly) == std::vector<std::string>{"pretty", "print", "module", "output", "format"});
  CHECK(curly[0].identifier);
  CHECK_FALSE(curly[0].exact);
  CHECK_FALSE(curly[2].identifier);
  CHECK_FALSE(curly[3].identifier);
  CHECK(is_stop_word("where"));
  CHECK_FALSE(is_stop_word("parse"));
}

TEST_CASE("path_class and module_stem read what a path is") {
  CHECK(path_class("lib/csv.py") == 0);
  CHECK(path_class("test/test_csv.py") == kPathTest);
  CHECK(path_class("pkg/tests/helpers.py") == kPathTest);
  CHECK(path_class("idlelib/idle_test/mock.py") == kPathTest);
  CHECK(path_class("app/conftest.py") == kPathTest);
  CHECK(path_class("contest.py") == 0);
  CHECK(path_class("admin/static/admin/js/core.js") == kPathAsset);
  CHECK(path_class("app/static/app.min.js") == (kPathAsset | kPathNeverCode));
  CHECK(path_class("conf/locale/de/LC_MESSAGES/django.po") == kPathNeverCode);
  CHECK(path_class("conf/locale/de/formats.py") == kPathNeverCode);
  // rank-11: the locale package's own code is code (sphinx.locale, django.conf.locale)
  CHECK(path_class("sphinx/locale/__init__.py") == 0);
  CHECK(path_class("locale/__init__.py") == 0);
  CHECK(path_class("conf/locale/__init__.py") == 0);
  CHECK(path_class("app/migrations/0001_initial.py") == kPathGenerated);
  CHECK(path_class("proto/x_pb2.py") == kPathGenerated);
  CHECK(module_stem("csv.py") == "csv");
  CHECK(module_stem("django/core/paginator.py") == stem("paginate"));
  CHECK(module_stem("django/db/__init__.py") == "db");
  CHECK(module_stem("README") == "readm");
  CHECK(module_stem("a/b/x-y.py").empty());
}

TEST_CASE(
    "stemming: a query word finds the indexed words of the same stem, with the variants "
    "explained") {
  auto idx = index_of({
      {"rows.py",
       "def read_rows(f):\n    \"\"\"Return each row as a dictionary.\"\"\"\n    return f\n"},
      {"other.py", "def unrelated():\n    return 1\n"},
  });
  const auto on = run(idx, "dictionaries", kSignalAll, true);
  REQUIRE(on.hits.size() == 1);
  CHECK(on.hits[0].chunk.id == "rows.py#read_rows");
  REQUIRE_FALSE(on.hits[0].explain.empty());
  CHECK(on.hits[0].explain[0].term == "dictionaries~dictionary");
  CHECK(run(idx, "dictionaries", kSignalAll & ~kSignalStemming).hits.empty());
  // A quoted word is matched exactly.
  CHECK(run(idx, "\"dictionaries\"").hits.empty());
}

TEST_CASE("stop words: question words do not outrank the content word") {
  auto idx = index_of({
      {"talk.md", "# Talk\nwhere is the where is the where is the where is the thing\n"},
      {"auth/hashers.py", "def make_password(password):\n    return hash(password)\n"},
  });
  const auto on = run(idx, "where is the password");
  REQUIRE_FALSE(on.hits.empty());
  CHECK(on.hits[0].chunk.path == "auth/hashers.py");
  CHECK(on.terms == std::vector<std::string>{"password"});
  const auto off = run(idx, "where is the password", kSignalAll & ~kSignalStopWords);
  REQUIRE(off.hits.size() == 2);
  CHECK(off.hits[0].chunk.path == "talk.md");
}

TEST_CASE("typo tolerance: an unknown word is corrected against the index vocabulary") {
  auto idx = index_of({
      {"query.py", "class QuerySet:\n    def filter(self, queryset):\n        return queryset\n"},
  });
  const auto on = run(idx, "querset filtr", kSignalAll, true);
  REQUIRE_FALSE(on.hits.empty());
  CHECK(on.hits[0].chunk.path == "query.py");
  bool corrected = false;
  for (const auto& e : on.hits[0].explain)
    corrected = corrected || e.term == "querset\u2192queryset";
  CHECK(corrected);
  const auto off = run(idx, "querset filtr", kSignalAll & ~kSignalTypo);
  CHECK(off.hits.empty());
  CHECK(std::find(off.did_you_mean.begin(), off.did_you_mean.end(), "queryset") !=
        off.did_you_mean.end());
  // Numbers and quoted words are never corrected.
  CHECK(run(idx, "\"querset\"").hits.empty());
  // Nor the pieces of an identifier the query spells out: `quersets_filtr` is a name that is not
  // there (before rank-3 its pieces were corrected and matched QuerySet.filter).
  CHECK(run(idx, "quersets_filtr").hits.empty());
  CHECK(run(idx, "quersetsFiltr").hits.empty());
  const auto terms = parse_query("zanzibar_marker filtr");
  REQUIRE(terms.size() >= 3);  // the pieces (and the whole name, as the tokenizer emits it)
  for (const auto& t : terms) CHECK(t.identifier == (t.text != "filtr"));
  CHECK(terms.back().text == "filtr");
}

TEST_CASE(
    "typo tolerance (rank-14): the correction is the word as typed right and the reply names it") {
  auto idx = index_of({
      {"since.py", "def since_epoch(t):\n    return t\n"},
      {"shell.py", "def run_shell(cmd):\n    return cmd\n"},
      {"help1.py", "def help_one():\n    return 1\n"},
      {"help2.py", "def help_two():\n    return 2\n"},
      {"help3.py", "def help_three():\n    return 3\n"},
      {"sitemap.py", "def build_sitemap(urls):\n    return urls\n"},
      {"payload.py", "def read_payload(b):\n    return b\n"},
      {"loader.py", "def make_loader(path):\n    return path\n"},
      {"loaders.py", "def all_loaders(paths):\n    return paths\n"},
      {"signals.py", "def on_sigint(n):\n    return n\n"},
  });
  const auto paths = [](const SearchResult& r) {
    std::set<std::string> out;
    for (const auto& h : r.hits) out.insert(h.chunk.path);
    return out;
  };
  // Two neighbouring letters swapped are one edit: `sinec` (5 letters, one edit allowed) is
  // `since`, which plain Levenshtein puts two edits away.
  const auto swapped = run(idx, "sinec");
  CHECK(paths(swapped) == std::set<std::string>{"since.py"});
  CHECK(swapped.corrected == std::vector<Correction>{{"sinec", "since"}});
  // At one edit each, the word with the typed first letter wins over the commoner one: `shelp`
  // is `shell` (a wrong last letter), not `help` (three chunks).
  CHECK(run(idx, "shelp").corrected == std::vector<Correction>{{"shelp", "shell"}});
  // A word cut short is completed when the letters missing are within the bound; a longer
  // completion stays a suggestion.
  CHECK(paths(run(idx, "sitema")) == std::set<std::string>{"sitemap.py"});
  const auto cut = run(idx, "payl");
  CHECK(cut.hits.empty());
  CHECK(cut.corrected.empty());
  CHECK(std::find(cut.did_you_mean.begin(), cut.did_you_mean.end(), "payload") !=
        cut.did_you_mean.end());
  // The correction brings its stem variants, as the word typed right would: `loadre` is
  // `loader`, and `loaders` matches too.
  const auto stems = run(idx, "loadre", kSignalAll, true);
  CHECK(paths(stems) == std::set<std::string>{"loader.py", "loaders.py"});
  CHECK(stems.corrected == std::vector<Correction>{{"loadre", "loader"}});
  REQUIRE_FALSE(stems.hits.empty());
  REQUIRE_FALSE(stems.hits[0].explain.empty());
  CHECK_THAT(stems.hits[0].explain[0].term, Catch::StartsWith("loadre\u2192loader"));
  CHECK(run(idx, "loadre", kSignalAll & ~kSignalStemming).corrected ==
        std::vector<Correction>{{"loadre", "loader"}});
  CHECK(paths(run(idx, "loadre", kSignalAll & ~kSignalStemming)) ==
        std::set<std::string>{"loader.py"});
  // A word in capitals is a name: `SIGCONT` is not corrected to `sigint` (the same word in
  // lowercase prose is, two edits from seven letters).
  CHECK(parse_query("SIGCONT")[0].identifier);
  CHECK_FALSE(parse_query("Sigcont")[0].identifier);
  CHECK(run(idx, "SIGCONT").hits.empty());
  CHECK(run(idx, "sigcont").corrected == std::vector<Correction>{{"sigcont", "sigint"}});
  // Several corrections, in query order; a word found as written is not listed.
  CHECK(run(idx, "shelp since sinec").corrected ==
        std::vector<Correction>{{"shelp", "shell"}, {"sinec", "since"}});
  CHECK(run(idx, "shelp sinec", kSignalAll & ~kSignalTypo).corrected.empty());
}

TEST_CASE("typo tolerance: at most kTypoMaxLookups absent terms are looked up, in query order") {
  // 20 files, each defining one long word; the query misspells all 20 (one letter dropped).
  std::vector<std::pair<std::string, std::string>> files;
  std::string query;
  for (int i = 0; i < 20; ++i) {
    const std::string word = "zebrafish" + std::string(1, static_cast<char>('a' + i)) + "quokka";
    files.emplace_back("m" + std::to_string(i) + ".py", "def " + word + "(x):\n    return x\n");
    query += word.substr(0, 3) + word.substr(4) + " ";  // `zebafish…`: edit distance 1
  }
  const auto hit = [](const SearchResult& r, const std::string& path) {
    return std::any_of(r.hits.begin(), r.hits.end(),
                       [&](const SearchHit& h) { return h.chunk.path == path; });
  };
  auto idx = index_of(files);
  SearchOptions o;
  o.query = query;
  o.limit = 50;
  const auto searched = idx.search(o);
  REQUIRE(searched.ok());
  const SearchResult& r = *searched;
  static_assert(kTypoMaxLookups == 16);
  for (int i = 0; i < 20; ++i) {
    CAPTURE(i);
    CHECK(hit(r, "m" + std::to_string(i) + ".py") == (i < 16));  // the first 16 corrected
  }
  // A pasted text of thousands of unknown words answers (no hit, no suggestion past the cap).
  std::string pasted;
  for (int i = 0; i < 5000; ++i) {
    std::string w = "qx";
    for (int v = i * 7919 + 1; v > 0; v /= 26) w += static_cast<char>('a' + v % 26);
    pasted += w + " ";
  }
  const auto big = run(idx, pasted);
  CHECK(big.hits.empty());
  CHECK(big.did_you_mean.size() <= kTypoMaxLookups * 5);
}

TEST_CASE("path priors: tests are demoted unless asked for, catalogs hidden unless named") {
  const std::string body =
      "import csv\ndef reader_rows(path):\n    return csv.reader(open(path))\n";
  auto idx = index_of({
      {"test/test_csv.py", body + "def test_reader():\n    reader_rows('x.csv')\n"},
      {"csvtools.py", "def reader_rows(path):\n    return list(path)\n"},
      {"locale/de/LC_MESSAGES/django.po", "msgid \"reader rows\"\nmsgstr \"Leser Zeilen\"\n"},
  });
  const auto on = run(idx, "reader rows", kSignalAll, true);
  REQUIRE_FALSE(on.hits.empty());
  CHECK(on.hits[0].chunk.path == "csvtools.py");
  for (const auto& h : on.hits) CHECK(h.chunk.path != "locale/de/LC_MESSAGES/django.po");
  const auto off = run(idx, "reader rows", kSignalAll & ~kSignalPathPrior);
  CHECK(off.hits[0].chunk.path == "test/test_csv.py");
  CHECK(off.hits.size() == on.hits.size() + 1);  // the catalog shows up again
  const auto asked = run(idx, "reader rows tests");
  CHECK(asked.hits[0].chunk.path == "test/test_csv.py");
  const auto translated = run(idx, "reader rows translation");
  bool po = false;
  for (const auto& h : translated.hits) po = po || h.chunk.path.ends_with(".po");
  CHECK(po);
  // Only catalogs match: nothing is shown and the reason says why.
  const auto only = run(idx, "Leser Zeilen");
  CHECK(only.hits.empty());
  CHECK(only.reason.find("translation catalogs") != std::string::npos);
}

TEST_CASE("path priors: a locale package's own code is searched but not its language folders") {
  // rank-11: Sphinx's `sphinx/locale/__init__.py` (init_console, get_translation) was hidden
  // with Django's per-language `conf/locale/de/formats.py`.
  auto idx = index_of({
      {"pkg/locale/__init__.py", "def init_console(locale_dir, catalog):\n    return catalog\n"},
      {"pkg/locale/de/formats.py", "def init_console_formats():\n    DATE_FORMAT = 'j. F Y'\n"},
      {"pkg/console.py", "def colorize(text):\n    return text\n"},
  });
  const auto r = run(idx, "init_console", kSignalAll, true);
  REQUIRE_FALSE(r.hits.empty());
  CHECK(r.hits[0].chunk.path == "pkg/locale/__init__.py");
  for (const auto& h : r.hits) CHECK(h.chunk.path != "pkg/locale/de/formats.py");
  const auto formats = run(idx, "init console formats");
  for (const auto& h : formats.hits) CHECK(h.chunk.path != "pkg/locale/de/formats.py");
  const auto asked = run(idx, "init console formats locale");
  bool shown = false;
  for (const auto& h : asked.hits) shown = shown || h.chunk.path == "pkg/locale/de/formats.py";
  CHECK(shown);
}

TEST_CASE("module names: every chunk of csv.py gains when the query names csv") {
  auto idx = index_of({
      {"csv.py", "class DictReader:\n    def __init__(self, f):\n        self.rows = f\n"},
      {"tools/sheets.py",
       "class DictReader:\n    \"\"\"A csv reader for csv sheets.\"\"\"\n    def __init__(self, "
       "f):\n        self.rows = f  # csv\n"},
  });
  const auto on = run(idx, "csv dict reader", kSignalAll, true);
  REQUIRE(on.hits.size() >= 2);
  CHECK(on.hits[0].chunk.path == "csv.py");
  const auto off = run(idx, "csv dict reader", kSignalAll & ~kSignalModuleName);
  CHECK(off.hits[0].chunk.path == "tools/sheets.py");
}

TEST_CASE("diversification: one file cannot fill the page") {
  std::string big;
  for (int i = 0; i < 8; ++i)
    big += "def parse_header_" + std::to_string(i) + "():\n    return parse(header)\n\n";
  auto idx = index_of({
      {"big.py", big},
      {"small.py", "def other():\n    # header parse\n    return 0\n"},
  });
  const auto on = run(idx, "parse header", kSignalAll);
  REQUIRE(on.hits.size() >= 4);
  bool small_high = false;
  for (std::size_t i = 0; i < 4; ++i)
    small_high = small_high || on.hits[i].chunk.path == "small.py";
  CHECK(small_high);
  const auto off = run(idx, "parse header", kSignalAll & ~kSignalDiversity);
  for (std::size_t i = 0; i < 8; ++i) CHECK(off.hits[i].chunk.path == "big.py");
  for (std::size_t i = 1; i < on.hits.size(); ++i) CHECK(on.hits[i - 1].score >= on.hits[i].score);
}

TEST_CASE("explain: term shares and signals sum to each hit's score") {
  auto idx = index_of({
      {"pkg/hashers.py",
       "def make_password(password):\n    \"\"\"Hash a password.\"\"\"\n    return password\n"},
      {"tests/test_hashers.py",
       "def test_password():\n    make_password('x')\n    make_password('y')\n"},
      {"pkg/other.py", "def make_password_twice(password):\n    return password + password\n"},
  });
  const auto r = run(idx, "how are passwords hashed", kSignalAll, true);
  REQUIRE(r.hits.size() == 3);
  bool saw_signal = false;
  for (const auto& h : r.hits) {
    double sum = 0;
    for (const auto& e : h.explain) {
      sum += e.score;
      if (e.field == "signal") saw_signal = true;
    }
    CHECK(sum == Approx(h.score));
  }
  CHECK(saw_signal);
}

TEST_CASE("determinism: the same index and query give the same order, also after a reload") {
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 40; ++i) {
    files.push_back({"m" + std::to_string(i % 7) + "/f" + std::to_string(i) + ".py",
                     "def read_value(x):\n    \"\"\"Read the value.\"\"\"\n    return x\n\ndef "
                     "write_values(y):\n    return y\n"});
  }
  files.push_back({"tests/test_read.py", "def test_reading():\n    read_value(1)\n"});
  auto idx = index_of(files);
  idx.freeze();
  const auto first = run(idx, "reading values", kSignalAll, true);
  REQUIRE(first.hits.size() == 10);
  for (int round = 0; round < 5; ++round) {
    const auto again = run(idx, "reading values", kSignalAll, true);
    CHECK(hit_ids(again) == hit_ids(first));
    for (std::size_t i = 0; i < first.hits.size(); ++i)
      CHECK(again.hits[i].score == first.hits[i].score);
  }
  std::string bin;
  idx.serialize(bin);
  InvertedIndex loaded;
  REQUIRE(loaded.deserialize(bin).ok());
  const auto reloaded = run(loaded, "reading values", kSignalAll, true);
  CHECK(hit_ids(reloaded) == hit_ids(first));
  // Many files score the same: ties fall back to path order.
  for (std::size_t i = 1; i < first.hits.size(); ++i) {
    if (first.hits[i - 1].score == first.hits[i].score)
      CHECK(first.hits[i - 1].chunk.path <= first.hits[i].chunk.path);
  }
}

TEST_CASE("doc field: docstrings and comments are prose of their own, out of the body") {
  Chunk c;
  c.path = "pkg/m.py";
  const std::string body =
      "def f(x):  # trailing comment\n"
      "    \"\"\"First line.\n\n    More prose here.\n    \"\"\"\n"
      "    call(\"not a docstring\")\n"
      "    r'''raw doc'''\n"
      "    s = '#not a comment'\n"
      "    return x\n";
  std::string code;
  const std::string doc = doc_field_text(c, body, &code);
  CHECK(doc.find("trailing comment") != std::string::npos);
  CHECK(doc.find("More prose here.") != std::string::npos);
  CHECK(doc.find("raw doc") != std::string::npos);
  CHECK(doc.find("not a docstring") == std::string::npos);
  CHECK(doc.find("not a comment") == std::string::npos);
  CHECK(code.find("More prose") == std::string::npos);
  CHECK(code.find("trailing") == std::string::npos);
  CHECK(code.find("call(\"not a docstring\")") != std::string::npos);
  CHECK(code.find("return x") != std::string::npos);
  c.path = "README.md";
  CHECK(doc_field_text(c, body, &code).empty());
  CHECK(code.empty());
}

TEST_CASE("doc field: a module docstring finds its module, also past its first line") {
  auto idx = index_of({
      {"audio/aiff.py",
       "\"\"\"Read and write AIFF files.\n\nThe sampled sound data is kept as frames.\n\"\"\"\n"
       "import struct\n\n\ndef open(f):\n    return struct.unpack(f)\n"},
      {"misc/helpers.py", "def extract(sound):\n    sampled = sound.data\n    return sampled\n"},
  });
  const auto on = run(idx, "sampled sound data kept", kSignalAll, true);
  REQUIRE(!on.hits.empty());
  CHECK(on.hits[0].chunk.path == "audio/aiff.py");
  bool doc_share = false;
  for (const auto& e : on.hits[0].explain) doc_share = doc_share || e.field == "doc";
  CHECK(doc_share);
  const auto off = run(idx, "sampled sound data kept", kSignalAll & ~kSignalDocField);
  REQUIRE(!off.hits.empty());
  CHECK(off.hits[0].chunk.path == "misc/helpers.py");
}

TEST_CASE(
    "centrality prior: bounded, neutral without a score, breaks a tie for the imported file") {
  CHECK(centrality_factor(0.0) == 1.0);
  CHECK(centrality_factor(1.0) == 1.0);
  CHECK(centrality_factor(1e9) == kCentralityMax);
  CHECK(centrality_factor(1e-9) == kCentralityMin);
  CHECK(centrality_factor(40.0) > centrality_factor(2.0));
  const std::string text = "def parse_config(text):\n    return text\n";
  auto idx = index_of({{"a/leaf.py", text}, {"b/core.py", text}});
  idx.set_centrality("a/leaf.py", 0.3);
  idx.set_centrality("b/core.py", 12.0);
  const auto on = run(idx, "parse config", kSignalAll, true);
  REQUIRE(on.hits.size() == 2);
  CHECK(on.hits[0].chunk.path == "b/core.py");
  bool named = false;
  for (const auto& e : on.hits[0].explain) named = named || e.term.rfind("centrality", 0) == 0;
  CHECK(named);
  const auto off = run(idx, "parse config", kSignalAll & ~kSignalCentrality);
  CHECK(off.hits[0].chunk.path == "a/leaf.py");  // equal scores: path order
  CHECK(off.hits[0].score == off.hits[1].score);
}

TEST_CASE("never_code_file: catalogs, minified assets and images by extension only") {
  CHECK(never_code_file("django/conf/locale/de/LC_MESSAGES/django.po"));
  CHECK(never_code_file("x/messages.POT"));
  CHECK(never_code_file("x/django.mo"));
  CHECK(never_code_file("static/admin/js/vendor/jquery.min.js"));
  CHECK(never_code_file("static/a.min.css"));
  CHECK(never_code_file("docs/logo.PNG"));
  CHECK_FALSE(never_code_file("django/conf/locale/de/formats.py"));
  CHECK_FALSE(never_code_file("static/admin/js/core.js"));
  CHECK_FALSE(never_code_file("pkg/polib.py"));
}

TEST_CASE("vendored code is demoted unless the query asks for it") {
  CHECK(path_class("pip/_vendor/requests/adapters.py") & kPathVendored);
  CHECK(path_class("third_party/x/y.py") & kPathVendored);
  CHECK_FALSE(path_class("pip/_internal/network/session.py") & kPathVendored);
  CHECK_FALSE(path_class("vendors.py") & kPathVendored);
  // The vendored file has the better text match; the project's own code still leads.
  auto idx = index_of({
      {"_vendor/retry/policy.py", "class Policy:\n    \"\"\"Retry failed http requests.\"\"\"\n"},
      {"_internal/network/session.py",
       "class Session:\n    \"\"\"Retry failed http requests.\"\"\"\n"},
      {"a.py", "def one():\n    return 1\n"},
      {"b.py", "def two():\n    return 2\n"},
      {"c.py", "def three():\n    return 3\n"},
  });
  const auto on = run(idx, "retry failed http requests", kSignalAll, true);
  REQUIRE(on.hits.size() == 2);
  CHECK(on.hits[0].chunk.path == "_internal/network/session.py");
  bool named = false;
  for (const auto& e : on.hits[1].explain) named = named || e.term == "vendored\u00d70.6";
  CHECK(named);
  const auto off = run(idx, "retry failed http requests", kSignalAll & ~kSignalPathPrior);
  CHECK(off.hits[0].chunk.path == "_vendor/retry/policy.py");
  const auto asked = run(idx, "vendored retry failed http requests", kSignalAll);
  CHECK(asked.hits[0].chunk.path == "_vendor/retry/policy.py");
}

TEST_CASE("compound_candidates: adjacent words joined, abbreviated, and multi-word abbreviations") {
  const auto texts = [](std::string_view q) {
    std::vector<std::string> out;
    for (const auto& c : compound_candidates(q)) out.push_back(c.text);
    return out;
  };
  const auto has = [&](std::string_view q, const std::string& w) {
    const auto t = texts(q);
    return std::find(t.begin(), t.end(), w) != t.end();
  };
  CHECK(has("List the directory entries", "listdir"));
  CHECK(has("list directory", "listdirectory"));
  CHECK(has("make directories recursively", "makedirs"));
  CHECK(has("used for half-delay mode", "halfdelay"));
  CHECK(has("whether the path is a directory", "isdir"));
  CHECK(has("the message number", "msgnum"));
  CHECK(has("Return the current working directory.", "cwd"));
  CHECK(has("the current process id", "pid"));
  CHECK(has("get user name", "getusername"));
  // Punctuation other than a hyphen breaks adjacency; short joins are no candidates.
  CHECK_FALSE(has("list. directory", "listdir"));
  CHECK_FALSE(has("list, directory", "listdirectory"));
  CHECK_FALSE(has("is it", "isit"));
  CHECK_FALSE(has("process identification", "pid"));
  // A word the query holds already is not a candidate.
  CHECK_FALSE(has("listdir list dir", "listdir"));
  const auto c = compound_candidates("list directory");
  REQUIRE_FALSE(c.empty());
  CHECK(c[0].from == "list directory");
}

TEST_CASE("compound identifiers: an English phrase finds the one-word identifier it spells") {
  auto idx = index_of({
      {"fsutil.py", "def listdir(path):\n    return _scan(path)\n"},
      {"other.py", "def entries(path):\n    \"\"\"Walk a tree.\"\"\"\n    return path\n"},
      {"more.py", "def list_all(items):\n    \"\"\"Every item of a directory listing.\"\"\"\n"},
  });
  const auto on = run(idx, "list the directory", kSignalAll, true);
  REQUIRE_FALSE(on.hits.empty());
  bool found = false;
  for (const auto& h : on.hits) {
    if (h.chunk.path != "fsutil.py") continue;
    found = true;
    bool named = false;
    for (const auto& e : h.explain) named = named || e.term == "list+directory\u2192listdir";
    CHECK(named);
  }
  CHECK(found);
  CHECK(on.terms == std::vector<std::string>{"list", "directory"});
  const auto off = run(idx, "list the directory", kSignalAll & ~kSignalCompound);
  for (const auto& h : off.hits) CHECK(h.chunk.path != "fsutil.py");
}

TEST_CASE("module_word and module_splits: a module named by two words run together") {
  CHECK(module_word("lib/socketserver.py") == "socketserver");
  CHECK(module_word("django/db/__init__.py") == "db");
  CHECK(module_word("xml/dom/NodeFilter.py") == "nodefilter");
  CHECK(module_splits("lib/socketserver.py") == std::vector<std::uint8_t>{3, 4, 5, 6, 7, 8, 9});
  CHECK(module_splits("tomllib/__init__.py") == std::vector<std::uint8_t>{3, 4});
  CHECK(module_splits("distutils/_msvccompiler.py").size() == 7);  // underscores at the ends aside
  CHECK(module_splits("xml/dom/NodeFilter.py").empty());  // the tokenizer splits it already
  CHECK(module_splits("pip/status_codes.py").empty());
  CHECK(module_splits("lib/utf8codec.py").empty());
  CHECK(module_splits("lib/shlex.py").empty());  // under 6 letters
  CHECK(module_splits("README").empty());
}

namespace {

// `extra` and 150 one-line modules, so that a word in one or two chunks is not common (under
// kModulePieceMaxShare of the chunks).
InvertedIndex with_filler(std::vector<std::pair<std::string, std::string>> extra) {
  for (int i = 0; i < 150; ++i) {
    extra.emplace_back("filler/f" + std::to_string(i) + ".py",
                       "def helper_" + std::to_string(i) + "(value):\n    return value\n");
  }
  return index_of(extra);
}

bool has_hit(const SearchResult& r, std::string_view path) {
  return std::any_of(r.hits.begin(), r.hits.end(),
                     [&](const SearchHit& h) { return h.chunk.path == path; });
}

}  // namespace

TEST_CASE("module pieces: a word naming one piece of a module's name finds the module") {
  // socketserver.py never says "server"; net.py makes `socket` and `server` indexed words.
  const std::pair<std::string, std::string> net{"net.py",
                                                "def socket_for(server):\n    return server\n"};
  const std::pair<std::string, std::string> socketserver{
      "lib/socketserver.py", "def serve_forever(poll_interval):\n    return poll_interval\n"};
  auto idx = with_filler({net, socketserver});
  const auto on = run(idx, "writing network servers", kSignalDefault, true);
  bool found = false;
  for (const auto& h : on.hits) {
    if (h.chunk.path != "lib/socketserver.py") continue;
    for (const auto& e : h.explain) found = found || e.term == "servers\u2192socketserver";
  }
  CHECK(found);
  CHECK(on.terms == std::vector<std::string>{"writing", "network", "servers"});
  CHECK_FALSE(has_hit(run(idx, "writing network servers", kSignalDefault & ~kSignalModulePiece),
                      "lib/socketserver.py"));
  // Pruned and exhaustive pages agree with the extra term.
  SearchOptions all;
  all.query = "writing network servers";
  all.exhaustive = true;
  const auto exhaustive = idx.search(all);
  REQUIRE(exhaustive.ok());
  CHECK(hit_ids(*exhaustive) == hit_ids(run(idx, "writing network servers", kSignalDefault)));
  // Frozen (document sets, pruning's marks) and reloaded (the table is rebuilt as the chunks are
  // classified again): the same page.
  idx.freeze();
  const auto frozen = run(idx, "writing network servers", kSignalDefault);
  CHECK(has_hit(frozen, "lib/socketserver.py"));
  std::string bin;
  idx.serialize(bin);
  InvertedIndex loaded;
  REQUIRE(loaded.deserialize(bin).ok());
  CHECK(hit_ids(run(loaded, "writing network servers", kSignalDefault)) == hit_ids(frozen));

  // A piece that names two modules tells neither: no extra term.
  auto two =
      with_filler({net,
                   socketserver,
                   {"lib/forkserver.py", "def fork_main(listener):\n    return listener\n"}});
  CHECK_FALSE(has_hit(run(two, "network servers"), "lib/socketserver.py"));
  CHECK_FALSE(has_hit(run(two, "network servers"), "lib/forkserver.py"));
  // A common piece (in more than 1 % of the chunks) tells nothing either.
  auto common = with_filler({net,
                             socketserver,
                             {"a.py", "def a(server):\n    return server\n"},
                             {"b.py", "def b(server):\n    return server\n"}});
  CHECK_FALSE(has_hit(run(common, "network servers"), "lib/socketserver.py"));
  // Both pieces must be indexed words: without `socket` anywhere, socketserver is not cut.
  auto lone = with_filler({{"net.py", "def connect(server):\n    return server\n"}, socketserver});
  CHECK_FALSE(has_hit(run(lone, "network servers"), "lib/socketserver.py"));
  // A quoted word is taken as written.
  CHECK_FALSE(has_hit(run(idx, "\"servers\""), "lib/socketserver.py"));
}

TEST_CASE("module_phrase and query_phrases: a module named by several words and the query's runs") {
  CHECK(module_phrase("status_codes") == "status code");
  CHECK(module_phrase("progress_bars") == "progress bar");
  CHECK(module_phrase("header_value_parser") == "header valu parser");
  CHECK(module_phrase("shared_memory") == "share memori");
  CHECK(module_phrase("csv").empty());           // one word: the module-name prior's own case
  CHECK(module_phrase("socketserver").empty());  // run together: module pieces (rank-7)
  CHECK(module_phrase("sha256_utils").empty());  // digits
  CHECK(module_phrase("a_b").empty());           // parts under 2 letters
  CHECK(module_phrase("one_two_three_four_five").empty());
  CHECK(module_phrase("io_utils") == "io util");
  CHECK(module_phrase("test_suite").empty());  // a test module: `test_` is the convention
  CHECK(module_phrase("suite_test").empty());
  CHECK(module_phrase("test_tools_helpers").empty());
  CHECK(module_phrase("unit_tests").empty());
  CHECK(module_phrase("testing_utils").empty());  // the stem of its first part is `test`
  // Runs of 2–4 adjacent words (articles skipped over), stemmed; punctuation other than a space or
  // hyphen, or a word with digits, breaks a run.
  CHECK(query_phrases("where are the exit status codes defined") ==
        std::vector<std::string>{"where are", "where are exit", "where are exit status", "are exit",
                                 "are exit status", "are exit status code", "exit status",
                                 "exit status code", "exit status code defin", "status code",
                                 "status code defin", "code defin"});
  CHECK(query_phrases("progress-bar") == std::vector<std::string>{"progress bar"});
  CHECK(query_phrases("progress, bar").empty());
  CHECK(query_phrases("progress utf8 bar").empty());
  CHECK(query_phrases("progress\u00a0bar") == std::vector<std::string>{"progress bar"});
  CHECK(query_phrases("bar").empty());
}

TEST_CASE("module phrases: adjacent words spelling a module's name of several words name it") {
  // git.py says exit, status and codes in its name and docstring; status_codes.py only in its
  // path. Without the phrase git.py ranks first (33.9 against 26.9), with it status_codes.py
  // (× 1.4: 37.7).
  const std::pair<std::string, std::string> git{
      "vcs/git.py",
      "def exit_with(repo):\n    \"\"\"The status codes of git.\"\"\"\n    return repo\n"};
  const std::pair<std::string, std::string> codes{"cli/status_codes.py",
                                                  "SUCCESS = 0\nERROR = 1\n"};
  auto idx = with_filler({git, codes});
  const std::string q = "where are the exit status codes defined";
  const auto on = run(idx, q, kSignalDefault, true);
  const auto off = run(idx, q, kSignalDefault & ~kSignalModulePhrase, true);
  REQUIRE(on.hits.size() >= 2);
  REQUIRE(off.hits.size() >= 2);
  CHECK(off.hits[0].chunk.path == "vcs/git.py");
  CHECK(on.hits[0].chunk.path == "cli/status_codes.py");
  const auto boosted = [](const SearchResult& r) {
    for (const auto& h : r.hits) {
      if (h.chunk.path != "cli/status_codes.py") continue;
      for (const auto& e : h.explain) {
        if (e.term == "module-name\u00d71.4") return true;
      }
    }
    return false;
  };
  CHECK(boosted(on));
  CHECK_FALSE(boosted(off));
  // Words apart do not name it; nor do the words in another order.
  CHECK_FALSE(boosted(run(idx, "exit status of the codes", kSignalDefault, true)));
  CHECK_FALSE(boosted(run(idx, "codes status exit", kSignalDefault, true)));
  // The module-name signal off turns phrases off too.
  CHECK_FALSE(boosted(run(idx, q, kSignalDefault & ~kSignalModuleName, true)));
  // Pruned and exhaustive pages agree; frozen and reloaded, the same page.
  SearchOptions all;
  all.query = q;
  all.exhaustive = true;
  const auto exhaustive = idx.search(all);
  REQUIRE(exhaustive.ok());
  CHECK(hit_ids(*exhaustive) == hit_ids(run(idx, q, kSignalDefault)));
  idx.freeze();
  const auto frozen = run(idx, q, kSignalDefault);
  REQUIRE_FALSE(frozen.hits.empty());
  CHECK(frozen.hits[0].chunk.path == "cli/status_codes.py");
  std::string bin;
  idx.serialize(bin);
  InvertedIndex loaded;
  REQUIRE(loaded.deserialize(bin).ok());
  CHECK(hit_ids(run(loaded, q, kSignalDefault)) == hit_ids(frozen));
}

TEST_CASE("file coverage: a file matching the whole query across its chunks gains") {
  // spread.py matches both words in two chunks; narrow.py matches one word in one chunk,
  // better than either of spread.py's chunks alone.
  auto idx = index_of({
      {"spread.py",
       "def parse(x):\n    return x\n\n\ndef handle(y):\n    \"\"\"The header.\"\"\"\n    return "
       "y\n"},
      {"narrow.py", "def parse(x):\n    \"\"\"Parse, parse.\"\"\"\n    return parse(parse(x))\n"},
      {"h1.py", "def one():\n    \"\"\"header\"\"\"\n"},
      {"h2.py", "def two():\n    \"\"\"header\"\"\"\n"},
      {"h3.py", "def three():\n    \"\"\"header\"\"\"\n"},
      {"p1.py", "def four():\n    \"\"\"parse\"\"\"\n"},
  });
  const auto off =
      run(idx, "parse header", kSignalAll & ~kSignalFileCoverage & ~kSignalSecondChunk);
  REQUIRE(off.hits.size() >= 2);
  CHECK(off.hits[0].chunk.path == "narrow.py");
  const auto on = run(idx, "parse header", kSignalAll, true);
  REQUIRE(on.hits.size() >= 2);
  CHECK(on.hits[0].chunk.path == "spread.py");
  bool named = false;
  for (const auto& e : on.hits[0].explain)
    named = named || e.term.rfind("file-coverage\u00d7", 0) == 0;
  CHECK(named);
  CHECK(file_coverage_factor(1.0) == Approx(1.0 + kFileCoverageWeight));
  CHECK(file_coverage_factor(0.0) == 1.0);
  CHECK(max_prior_factor(kSignalFileCoverage) == 1.0);  // applied after pruning, not a prior
}

TEST_CASE("prose coverage: the chunk whose own prose matches the whole query gains") {
  // described.py's docstring holds both words; named.py's name holds `compress` (the heavier
  // field) and only its code the word `stream`: ahead on BM25F alone, behind with the signal.
  auto idx = index_of({
      {"described.py", "def pack(data):\n    \"\"\"Compress the stream.\"\"\"\n    return data\n"},
      {"named.py", "def compress_items(data):\n    return data.stream(stream)\n"},
      {"f1.py", "def one():\n    return 1\n"},
      {"f2.py", "def two():\n    return 2\n"},
      {"f3.py", "def three():\n    \"\"\"stream\"\"\"\n"},
      {"f4.py", "def four():\n    \"\"\"compress\"\"\"\n"},
  });
  const auto off = run(idx, "compress stream", kSignalDefault & ~kSignalProseCoverage);
  REQUIRE(off.hits.size() >= 2);
  CHECK(off.hits[0].chunk.path == "named.py");
  const auto on = run(idx, "compress stream", kSignalDefault, true);
  REQUIRE(on.hits.size() >= 2);
  CHECK(on.hits[0].chunk.path == "described.py");
  const auto factor = [](const SearchHit& h) {
    for (const auto& e : h.explain) {
      if (e.term.rfind("prose-coverage\u00d7", 0) == 0)
        return e.term.substr(std::string("prose-coverage\u00d7").size());
    }
    return std::string();
  };
  CHECK(factor(on.hits[0]) == "1.300");            // both terms in its prose
  CHECK(factor(on.hits[1]).rfind("1.1", 0) == 0);  // one of two (idf-weighted)
  CHECK(prose_coverage_factor(1.0) == Approx(1.0 + kProseCoverageWeight));
  CHECK(prose_coverage_factor(0.0) == 1.0);
  CHECK(max_prior_factor(kSignalProseCoverage) == 1.0);  // applied after pruning, not a prior
  // One term: no coverage signal (every matching chunk covers it whole or not at all).
  for (const auto& h : run(idx, "stream", kSignalDefault, true).hits) CHECK(factor(h).empty());
}

TEST_CASE("second chunk: a file with two good chunks passes a file with one slightly better") {
  // two.py has two chunks that each match `parse` a little less than one.py's single chunk.
  auto idx = index_of({
      {"one.py", "def run(x):\n    return parse(x)\n"},
      {"two.py",
       "def go(x):\n    return parse(x) + extra\n\n\ndef again(x):\n    return parse(x) + extra\n"},
      {"f1.py", "def one():\n    return 1\n"},
      {"f2.py", "def two():\n    return 2\n"},
  });
  const auto off = run(idx, "parse", kSignalDefault & ~kSignalSecondChunk);
  REQUIRE(off.hits.size() == 3);
  CHECK(off.hits[0].chunk.path == "one.py");
  const auto on = run(idx, "parse", kSignalDefault, true);
  REQUIRE(on.hits.size() == 3);
  CHECK(on.hits[0].chunk.path == "two.py");
  CHECK(on.hits[1].chunk.path == "one.py");  // its second chunk sinks (diversification)
  double bonus = 0.0, sum = 0.0;
  for (const auto& e : on.hits[0].explain) {
    if (e.term.rfind("second-chunk", 0) == 0) bonus = e.score;
    sum += e.score;
  }
  CHECK(bonus > 0.0);
  CHECK(sum == Approx(on.hits[0].score));
  // Only the second chunk counts: a third adds nothing more.
  auto three = index_of({
      {"two.py", "def go(x):\n    return parse(x)\n\n\ndef again(x):\n    return parse(x)\n"},
      {"three.py",
       "def go(x):\n    return parse(x)\n\n\ndef again(x):\n    return parse(x)\n\n\ndef "
       "more(x):\n    return "
       "parse(x)\n"},
      {"f1.py", "def one():\n    return 1\n"},
  });
  const auto r = run(three, "parse", kSignalDefault);
  REQUIRE(r.hits.size() >= 2);
  CHECK(r.hits[0].score == Approx(r.hits[1].score));
}

TEST_CASE("term cap: a query over kMaxScoredTerms terms scores its most selective ones") {
  // Thirty words, the k-th on k + 1 of 30 files (file j holds the words k ≥ j), and `kwzzo` on
  // the same files as the 24th: doc frequency falls with k's order.
  std::vector<std::string> words;
  for (const char a : std::string("abc")) {
    for (const char b : std::string("abcdefghij")) words.push_back(std::string("kw") + a + b + "o");
  }
  REQUIRE(words.size() == 30);
  std::vector<std::pair<std::string, std::string>> files;
  for (std::size_t j = 0; j < 30; ++j) {
    std::string text;
    for (std::size_t k = j; k < 30; ++k) text += words[k] + "\n";
    if (j <= 23) text += "kwzzo\n";
    files.push_back({"notes/f" + std::to_string(100 + j) + ".txt", text});
  }
  auto idx = index_of(files);
  STATIC_REQUIRE(kMaxScoredTerms == 24);
  const auto joined = [&](std::size_t from, std::size_t to) {  // words[to-1] … words[from]
    std::string q;
    for (std::size_t k = to; k-- > from;) q += (q.empty() ? "" : " ") + words[k];
    return q;
  };
  for (const bool frozen : {false, true}) {
    INFO((frozen ? "frozen steady state" : "tail state"));
    if (frozen) idx.freeze();
    // All thirty, most common first: the six most common are left out, named in query order.
    const auto capped = run(idx, joined(0, 30), kSignalDefault, true);
    CHECK(capped.terms.size() == 30);
    CHECK(capped.unscored == std::vector<std::string>{words[29], words[28], words[27], words[26],
                                                      words[25], words[24]});
    for (const auto& h : capped.hits) {
      for (const auto& e : h.explain)
        CHECK(std::find(capped.unscored.begin(), capped.unscored.end(), e.term) ==
              capped.unscored.end());
    }
    // The page is the one of the 24 kept words asked alone (the same scores: nothing of the
    // dropped words is counted anywhere, coverage signals included); fewer chunks match.
    const auto kept = run(idx, joined(0, 24), kSignalDefault);
    CHECK(kept.unscored.empty());
    CHECK(hit_ids(capped) == hit_ids(kept));
    REQUIRE(capped.hits.size() == kept.hits.size());
    for (std::size_t i = 0; i < kept.hits.size(); ++i)
      CHECK(capped.hits[i].score == Approx(kept.hits[i].score));
    CHECK(capped.matched < run(idx, joined(0, 30), kSignalDefault & ~kSignalTermCap).matched);
    // Without the cap (ablation) every word counts.
    const auto all = run(idx, joined(0, 30), kSignalDefault & ~kSignalTermCap);
    CHECK(all.unscored.empty());
    CHECK(all.matched == 30);
    // Two words equally common at the cut: the later one in the query is left out.
    const std::string head = joined(0, 23);
    CHECK(run(idx, head + " " + words[23] + " kwzzo").unscored ==
          std::vector<std::string>{"kwzzo"});
    CHECK(run(idx, head + " kwzzo " + words[23]).unscored == std::vector<std::string>{words[23]});
    // At the cap nothing is left out.
    CHECK(run(idx, joined(0, 24)).unscored.empty());
  }
}

namespace {

// verbatim_key as ranking.hpp states it, written the plain way: what the fast one must equal.
std::string plain_verbatim_key(std::string_view s) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (std::string_view(" \t\n\r\f\v").find(static_cast<char>(c)) != std::string_view::npos) {
      space = true;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') continue;
    const std::string_view rest = s.substr(i);
    if (rest.starts_with("\u2018") || rest.starts_with("\u2019") || rest.starts_with("\u201c") ||
        rest.starts_with("\u201d")) {
      i += 2;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += static_cast<char>(c < 0x80 ? std::tolower(c) : c);  // the C locale: only A-Z change
  }
  return out;
}

}  // namespace

TEST_CASE("verbatim_key equals its plain statement on random texts of quotes and UTF-8") {
  // Separated by '|': whitespace, quoting marks, capitals, typographic quotes and other UTF-8, and
  // broken or near-miss quote sequences.
  constexpr std::string_view kPieces =
      " |  "
      "|\t|\n|\r\n|\f|\v|'|\"|`|A|z|Q|0|.|\u2018|\u2019|\u201c|\u201d|\u2013|\u00c9|\xe2|\xe2\x80|"
      "\xe2\x80\x98|"
      "\xe2\x81\x98|\xff|word";
  std::vector<std::string> pieces;
  for (std::size_t at = 0; at <= kPieces.size();) {
    const std::size_t bar = std::min(kPieces.find('|', at), kPieces.size());
    pieces.emplace_back(kPieces.substr(at, bar - at));
    at = bar + 1;
  }
  REQUIRE(pieces.size() == 27);
  std::mt19937 rng(12);
  for (int n = 0; n < 5000; ++n) {
    std::string s;
    const int len = static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) s += pieces[rng() % pieces.size()];
    CAPTURE(s);
    CHECK(verbatim_key(s) == plain_verbatim_key(s));
  }
}

TEST_CASE("verbatim_key and verbatim_query: case, whitespace runs and quoting marks do not count") {
  CHECK(verbatim_key("  Return the\n        list of `entries`  ") == "return the list of entries");
  CHECK(verbatim_key("It\u2019s \u201cquoted\u201d and 'single' \"double\"") ==
        "its quoted and single double");
  CHECK(verbatim_key("A\tB\r\nC") == "a b c");
  CHECK(verbatim_key("") == "");
  CHECK(verbatim_key("caf\u00e9 \u00c9T\u00c9") ==
        "caf\u00e9 \u00c9t\u00c9");  // ASCII letters only are lowered
  // The query: a final '.', ':' or ';' dropped; fewer than kVerbatimMinWords words give "".
  CHECK(verbatim_query("Get a resource from a package.") == "get a resource from a package");
  CHECK(verbatim_query("Return a is b.") == "return a is b");
  CHECK(verbatim_query("json decode error") == "");
  CHECK(verbatim_query("a.b.c d") == "a.b.c d");  // four words: a, b, c, d
  CHECK(verbatim_query("   ...   ") == "");
}

namespace {

// A chunk_text source over the test's files (as SegmentIndex reads them from disk), counting calls.
struct Texts {
  std::vector<std::pair<std::string, std::string>> files;
  int calls = 0;
  // Every place handed over says the same text both ways: its lines, and its bytes at its offset.
  std::function<std::optional<std::string>(const ChunkPlace&)> source() {
    return [this](const ChunkPlace& at) -> std::optional<std::string> {
      ++calls;
      for (const auto& [p, text] : files) {
        if (p != at.path) continue;
        const std::string_view lines =
            line_span(text, line_starts(text), at.first_line, at.last_line);
        REQUIRE(at.offset != kNoOffset);
        REQUIRE(std::string_view(text).substr(at.offset, at.bytes) == lines);
        return std::string(lines);
      }
      return std::nullopt;
    };
  }
};

SearchResult run_with(const InvertedIndex& idx, std::string q, Texts& texts,
                      std::uint32_t signals = kSignalAll, bool explain = false,
                      bool exhaustive = false) {
  SearchOptions o;
  o.query = std::move(q);
  o.signals = signals;
  o.explain = explain;
  o.exhaustive = exhaustive;
  o.chunk_text = texts.source();
  auto r = idx.search(o);
  REQUIRE(r.ok());
  return std::move(*r);
}

}  // namespace

TEST_CASE("verbatim (rank-15): the chunk whose text holds the whole query as written ranks first") {
  Texts t;
  t.files = {
      // Holds the sentence, wrapped and indented, in another case.
      {"listing.py",
       "def scan(p):\n    \"\"\"Return the list of entries\n    in the directory given by "
       "PATH.\"\"\"\n    return p\n"},
      // The same words, more of them and in its name: BM25F prefers it without the signal.
      {"entries.py",
       "def directory_entries_list(path):\n    \"\"\"Entries: the directory's entries as a list, "
       "given a path.\n\n"
       "    The list of the directory entries, the path given.\"\"\"\n    return path\n"},
  };
  auto idx = index_of(t.files);
  const std::string q = "Return the list of entries in the directory given by path.";
  const auto off = run_with(idx, q, t, kSignalAll & ~kSignalVerbatim);
  REQUIRE(off.hits.size() == 2);
  CHECK(off.hits[0].chunk.path == "entries.py");
  CHECK(t.calls == 0);  // the signal off reads nothing

  const auto on = run_with(idx, q, t, kSignalAll, true);
  REQUIRE(on.hits.size() == 2);
  CHECK(on.hits[0].chunk.path == "listing.py");
  const auto& ex = on.hits[0].explain;
  CHECK(std::any_of(ex.begin(), ex.end(), [](const TermContribution& e) {
    return e.term == "verbatim\u00d72.0" && e.field == "signal" && e.score > 0.0;
  }));
  double sum = 0.0;
  for (const auto& e : ex) sum += e.score;
  CHECK(sum == Approx(on.hits[0].score).epsilon(1e-9));
  // Pruned or exhaustive: the same page with the signal as without it.
  CHECK(hit_ids(run_with(idx, q, t, kSignalAll, false, true)) == hit_ids(on));
  // Three words are not a sentence: nothing is read, BM25F decides.
  t.calls = 0;
  CHECK(run_with(idx, "list directory entries", t).hits[0].chunk.path == "entries.py");
  CHECK(t.calls == 0);
}

TEST_CASE(
    "verbatim: only candidates whose file has every query term are read, and an unreadable one "
    "matches nothing") {
  Texts t;
  t.files = {
      {"a.py",
       "def first(x):\n    \"\"\"Close the pool and wait for the workers.\"\"\"\n    return x\n"},
      // Lacks `wait` and `workers`.
      {"b.py", "def second(x):\n    \"\"\"Close the pool.\"\"\"\n    return x\n"},
      {"c.py",
       "def third(x):\n    \"\"\"Close and wait for the workers of the pool.\"\"\"\n    return "
       "x\n"},
      // Every word, but no chunk with all of them: its file passes, its chunks do not.
      {"d.py",
       "def fourth(x):\n    \"\"\"Close the pool.\"\"\"\n    return x\n\n\n"
       "def fifth(x):\n    \"\"\"Wait for the workers.\"\"\"\n    return x\n"},
  };
  auto idx = index_of(t.files);
  const std::string q = "close the pool and wait for the workers";
  const auto r = run_with(idx, q, t);
  REQUIRE_FALSE(r.hits.empty());
  CHECK(r.hits[0].chunk.path == "a.py");
  CHECK(t.calls == 2);  // a.py and c.py; b.py and d.py's chunks cannot hold the sentence
  // A word no chunk holds: no chunk's text can hold the query either, and none is read.
  t.calls = 0;
  (void)run_with(idx, "close the pool and wait for the zanzibar", t);
  CHECK(t.calls == 0);
  // The text cannot be read (the file went away): no boost, no error.
  Texts gone;
  const auto g = run_with(idx, q, gone, kSignalAll, true);
  REQUIRE_FALSE(g.hits.empty());
  CHECK(gone.calls == 2);
  for (const auto& h : g.hits) {
    for (const auto& e : h.explain) CHECK(e.term.rfind("verbatim", 0) != 0);
  }
}

TEST_CASE("verbatim: a compound the search adds is not a word the text must hold") {
  Texts t;
  t.files = {
      {"walk.py",
       "def walk(top):\n    \"\"\"List directory contents recursively for every path.\"\"\"\n"
       "    return top\n"},
      {"osmod.py",
       "def listdir(path):\n    \"\"\"Directory contents: list them for a path, every path.\"\"\"\n"
       "    return path\n"},
  };
  auto idx = index_of(t.files);
  const std::string q = "list directory contents recursively for every path";
  const auto r = run_with(idx, q, t, kSignalAll, true);
  REQUIRE_FALSE(r.hits.empty());
  CHECK(r.hits[0].chunk.path == "walk.py");
  bool compound = false, verbatim = false;
  for (const auto& h : r.hits) {
    for (const auto& e : h.explain) {
      compound = compound || e.term.find("\u2192listdir") != std::string::npos;
      verbatim = verbatim || (h.chunk.path == "walk.py" && e.term == "verbatim\u00d72.0");
    }
  }
  CHECK(compound);  // the search added `listdir`, which walk.py does not hold
  CHECK(verbatim);
}

TEST_CASE("verbatim: at most kVerbatimFiles files are read a search, the best candidates first") {
  Texts t;
  for (int i = 0; i < 12; ++i) {
    // The same words everywhere; only the last file holds them as the query writes them.
    const std::string doc =
        i == 11 ? "Flush the queue and stop the worker." : "Stop the worker and flush the queue.";
    t.files.push_back(
        {"m" + std::to_string(100 + i) + ".py",
         "def f" + std::to_string(i) + "(x):\n    \"\"\"" + doc + "\"\"\"\n    return x\n"});
  }
  auto idx = index_of(t.files);
  const auto r = run_with(idx, "flush the queue and stop the worker", t, kSignalAll, true);
  CHECK(t.calls == static_cast<int>(kVerbatimFiles));
  REQUIRE_FALSE(r.hits.empty());
  // Equal scores: path order decides, so m111.py is the 12th candidate and never read.
  CHECK(r.hits[0].chunk.path == "m100.py");
  for (const auto& h : r.hits) {
    for (const auto& e : h.explain) CHECK(e.term.rfind("verbatim", 0) != 0);
  }
}

TEST_CASE("file_reference: one word that is a path, with an optional line and column") {
  const auto ref = [](std::string_view q) { return file_reference(q); };
  REQUIRE(ref("retry.py"));
  CHECK(ref("retry.py")->path == "retry.py");
  CHECK(ref("retry.py")->line == 0);
  CHECK(ref("  urllib3/util/retry.py\n")->path == "urllib3/util/retry.py");
  CHECK(ref("./pkg/mod.py")->path == "pkg/mod.py");
  CHECK(ref("\"pkg/mod.py\"")->path == "pkg/mod.py");
  CHECK(ref("`mod.py`")->path == "mod.py");
  CHECK(ref("/usr/lib/python3.11/json/decoder.py")->path == "/usr/lib/python3.11/json/decoder.py");
  CHECK(ref("pkg/Makefile")->path == "pkg/Makefile");  // a '/': a path without an extension
  const auto line = ref("pkg/mod.py:120");
  REQUIRE(line);
  CHECK(line->path == "pkg/mod.py");
  CHECK(line->line == 120);
  const auto column = ref("pkg/mod.py:120:7");
  REQUIRE(column);
  CHECK(column->path == "pkg/mod.py");
  CHECK(column->line == 120);
  // Words, sentences, URLs, folders and selectors are not files.
  CHECK_FALSE(ref("retry"));
  CHECK_FALSE(ref("retry policy.py"));
  CHECK_FALSE(ref("where is retry.py"));
  CHECK_FALSE(ref("https://example.org/a.py"));
  CHECK_FALSE(ref("sym://python/mod/a"));
  CHECK_FALSE(ref("pkg/"));
  CHECK_FALSE(ref("pkg/.."));
  CHECK_FALSE(ref(""));
  CHECK(ref("mod.py:")->path == "mod.py:");  // not a line: a path ending in ':' (no file has it)
}

TEST_CASE("path_match: equal paths, or one ending with the other after a '/'") {
  CHECK(path_match("urllib3/util/retry.py", "urllib3/util/retry.py") == 21);
  CHECK(path_match("urllib3/util/retry.py", "retry.py") == 8);
  CHECK(path_match("urllib3/util/retry.py", "util/retry.py") == 13);
  CHECK(path_match("json/decoder.py", "/usr/lib/python3.11/json/decoder.py") == 15);
  CHECK(path_match("urllib3/util/parse_retry.py", "retry.py") == 0);
  CHECK(path_match("urllib3/util/retry.py", "til/retry.py") == 0);
  CHECK(path_match("retry.py", "") == 0);
}

TEST_CASE("file named (rank-16): a query that is a file's path puts that file first") {
  // The query's words favour other chunks: a longer file that says `decoder` and `py` often.
  auto idx = index_of({
      {"json/decoder.py",
       "\"\"\"Implementation of JSONDecoder.\"\"\"\nimport re\n\n\ndef scan(s):\n    return s\n\n\n"
       "class JSONDecoder:\n    def decode(self, s):\n        return s\n\n    def raw(self, s):\n"
       "        return s\n"},
      {"notes/decoder_py.py",
       "def decoder_py():\n    \"\"\"decoder py decoder py: the decoder for py files.\"\"\"\n"
       "    return 'decoder.py'\n"},
      {"copy/json/decoder.py", "def other():\n    return 1\n"},
      {"tests/test_decoder.py", "def test_decoder():\n    assert 'json/decoder.py'\n"},
  });
  const auto off = run(idx, "json/decoder.py", kSignalAll & ~kSignalFileNamed);
  REQUIRE_FALSE(off.hits.empty());
  CHECK(off.hits[0].chunk.id != "json/decoder.py#<module>");

  // The exact path first, then the file it is a suffix of, each by its first chunk; scored
  // hits follow, without the pinned chunks.
  const auto on = run(idx, "json/decoder.py", kSignalAll, true);
  REQUIRE(on.hits.size() >= 3);
  CHECK(on.hits[0].chunk.path == "json/decoder.py");
  CHECK(on.hits[0].chunk.start_line == 1);
  CHECK(on.hits[1].chunk.path == "copy/json/decoder.py");
  CHECK(on.hits[0].score > on.hits[1].score);
  CHECK(on.hits[1].score > on.hits[2].score);
  REQUIRE(on.hits[0].explain.size() == 1);
  CHECK(on.hits[0].explain[0].term == "file-named");
  CHECK(on.hits[0].explain[0].score == Approx(on.hits[0].score));
  std::set<std::string> ids;
  for (const auto& h : on.hits) CHECK(ids.insert(h.chunk.id).second);  // each chunk once

  // A line: the chunk holding it; a column is ignored; past the end, the last chunk before it.
  const auto at = run(idx, "json/decoder.py:13:5");
  REQUIRE_FALSE(at.hits.empty());
  CHECK(at.hits[0].chunk.id == "json/decoder.py#JSONDecoder");
  CHECK(run(idx, "json/decoder.py:6").hits[0].chunk.id == "json/decoder.py#scan");
  CHECK(run(idx, "json/decoder.py:900").hits[0].chunk.id == "json/decoder.py#JSONDecoder");

  // A path from another root ends with the indexed one: only the longest match counts.
  const auto abs = run(idx, "/home/me/src/json/decoder.py");
  CHECK(abs.hits[0].chunk.path == "json/decoder.py");
  CHECK((abs.hits.size() < 2 || abs.hits[1].chunk.path != "copy/json/decoder.py"));

  // A longer path names the file it spells, not also those it ends with.
  const auto longer = run(idx, "copy/json/decoder.py", kSignalAll, true);
  CHECK(longer.hits[0].chunk.path == "copy/json/decoder.py");
  CHECK(std::count_if(longer.hits.begin(), longer.hits.end(), [](const SearchHit& h) {
          return !h.explain.empty() && h.explain[0].term == "file-named";
        }) == 1);

  // The filters still apply: a path glob that leaves the file out pins nothing.
  SearchOptions o;
  o.query = "json/decoder.py";
  o.path_glob = "tests/**";
  const auto filtered = idx.search(o);
  REQUIRE(filtered.ok());
  for (const auto& h : filtered->hits) CHECK(h.chunk.path.rfind("tests/", 0) == 0);

  // A word, or a sentence with a path in it, is searched as before.
  CHECK(hit_ids(run(idx, "decoder")) ==
        hit_ids(run(idx, "decoder", kSignalAll & ~kSignalFileNamed)));
  const std::string sentence = "where is json/decoder.py";
  CHECK(hit_ids(run(idx, sentence)) == hit_ids(run(idx, sentence, kSignalAll & ~kSignalFileNamed)));
  // Deterministic.
  CHECK(hit_ids(run(idx, "decoder.py")) == hit_ids(run(idx, "decoder.py")));
}

TEST_CASE("file named: a file reference's extension is no search word") {
  auto idx = index_of({
      {"json/decoder.py", "def scan(s):\n    return s\n"},
      {"pkg/a.py", "def alpha():\n    return 1\n"},
      {"tests/test_decoder.py", "def test_decoder():\n    assert True\n"},
      {"README.md", "# Decoder\n\nHow to decode.\n"},
  });
  using Terms = std::vector<std::string>;
  CHECK(run(idx, "decoder.py").terms == Terms{"decoder"});
  CHECK(run(idx, "README.md").terms == Terms{"readme"});
  CHECK(run(idx, "tests/test_decoder.py::test_decoder").terms ==
        run(idx, "tests/test_decoder::test_decoder").terms);
  // A name no file has, whose words are in no chunk: nothing, not every chunk matching `py`.
  const auto none = run(idx, "xyzzyq.py");
  CHECK(none.terms == Terms{"xyzzyq"});
  CHECK(none.hits.empty());
  // Kept when nothing else is left to search; not an extension of a known kind; signal off.
  CHECK(run(idx, "a.py").terms == Terms{"py"});
  CHECK(run(idx, "a.py").hits.at(0).chunk.path == "pkg/a.py");
  CHECK(run(idx, "json.loads").terms == Terms{"json", "loads"});
  const Terms off = run(idx, "decoder.py", kSignalAll & ~kSignalFileNamed).terms;
  CHECK(std::find(off.begin(), off.end(), "py") != off.end());
}

TEST_CASE("error_line_without_module: a pasted error line's exception without its module path") {
  using Opt = std::optional<std::string>;
  CHECK(error_line_without_module("sqlalchemy.exc.InvalidRequestError: 'A.bs' is not available") ==
        Opt("InvalidRequestError: 'A.bs' is not available"));
  CHECK(
      error_line_without_module("json.decoder.JSONDecodeError: Expecting value: line 1 column 1") ==
      Opt("JSONDecodeError: Expecting value: line 1 column 1"));
  CHECK(error_line_without_module("warnings.DeprecationWarning: old") ==
        Opt("DeprecationWarning: old"));
  CHECK(error_line_without_module("builtins.Exception: boom") == Opt("Exception: boom"));
  // Not one: no module path, not an exception's name, not a dotted name, no message, two lines.
  CHECK_FALSE(error_line_without_module("ValueError: I/O operation on closed file"));
  CHECK_FALSE(error_line_without_module("json.JSONDecoder: how does it decode"));
  CHECK_FALSE(error_line_without_module("see pkg.FooError: it is raised"));
  CHECK_FALSE(error_line_without_module("pkg..FooError: x"));
  CHECK_FALSE(error_line_without_module("pkg.1Error: x"));
  CHECK_FALSE(error_line_without_module("pkg.FooError:"));
  CHECK_FALSE(error_line_without_module("pkg.FooError: "));
  CHECK_FALSE(error_line_without_module("pkg.FooError: a\nb"));
  CHECK_FALSE(
      error_line_without_module("pkg.Error: x"));  // "Error" alone is no exception's name here
}

TEST_CASE(
    "error line (rank-21): a pasted error ranks the raise site above the exception's module") {
  // As in a real package, the exception is raised in many places (its name is a common word) and
  // it is defined in the module the line's path names.
  std::vector<std::pair<std::string, std::string>> files{
      {"pkg/exc.py",
       "\"\"\"Exceptions raised by pkg.\"\"\"\n\n\nclass InvalidRequestError(Exception):\n"
       "    \"\"\"The request is not valid.\"\"\"\n"},
      {"pkg/orm/strategies.py",
       "from pkg import exc\n\n\ndef invoke_raise_load(state, key):\n"
       "    raise exc.InvalidRequestError(\"%r is not available due to lazy='raise'\" % (key,))\n"},
      {"pkg/orm/query.py",
       "def get(ident):\n    \"\"\"Return an instance, or None.\"\"\"\n    return None\n"},
  };
  for (int k = 0; k < 12; ++k) {
    files.push_back({"pkg/m" + std::to_string(k) + ".py",
                     "from pkg import exc\n\n\ndef check" + std::to_string(k) +
                         "(x):\n    raise exc.InvalidRequestError(\"bad value %r\" % (x,))\n"});
  }
  auto idx = index_of(files);
  const std::string q = "pkg.exc.InvalidRequestError: 'A.bs' is not available due to lazy='raise'";
  const auto on = run(idx, q);
  CHECK(std::find(on.terms.begin(), on.terms.end(), "exc") == on.terms.end());
  REQUIRE_FALSE(on.hits.empty());
  CHECK(on.hits[0].chunk.path == "pkg/orm/strategies.py");
  // Without the signal the module path is searched too: its module (and its words) rank first.
  const auto off = run(idx, q, kSignalAll & ~kSignalErrorLine);
  CHECK(std::find(off.terms.begin(), off.terms.end(), "exc") != off.terms.end());
  REQUIRE_FALSE(off.hits.empty());
  CHECK(off.hits[0].chunk.path != "pkg/loading.py");
}

TEST_CASE("error_message: the message of a pasted error line, with or without a module path") {
  using Opt = std::optional<std::string>;
  CHECK(error_message("ValueError: I/O operation on closed file.") ==
        Opt("I/O operation on closed file"));
  CHECK(error_message("  sqlalchemy.exc.InvalidRequestError:  'A.bs' is not available ...  ") ==
        Opt("'A.bs' is not available"));
  CHECK(error_message("json.decoder.JSONDecodeError: Expecting value: line 1 column 1") ==
        Opt("Expecting value: line 1 column 1"));
  CHECK(error_message("SAWarning: SELECT statement has a cartesian product") ==
        Opt("SELECT statement has a cartesian product"));
  CHECK_FALSE(error_message("json.JSONDecoder: how does it decode"));
  CHECK_FALSE(error_message("see FooError: it is raised"));
  CHECK_FALSE(error_message("FooError: ..."));
  CHECK_FALSE(error_message("FooError: a\nb"));
  CHECK_FALSE(error_message("Error: x"));
}

TEST_CASE("message_templates: a Python chunk's string literals, placeholders between pieces") {
  using T = MessageTemplate;
  const auto of = [](std::string_view text) { return message_templates(text); };
  // %-formats, `{}` fields, f-string values; the pieces around them.
  CHECK(of("raise ValueError('%r is not a valid %s for this field' % (v, k))\n") ==
        std::vector<T>{{"", " is not a valid ", " for this field"}});
  CHECK(of("raise ValueError(\"{0} has no value for {name!r} yet\".format(a, name=b))\n") ==
        std::vector<T>{{"", " has no value for ", " yet"}});
  CHECK(of("msg = f'cannot extend {cls!r} with {{braces}} {x[{y}]:>{w}}'\n") ==
        std::vector<T>{{"cannot extend ", " with {braces} ", ""}});
  CHECK(of("x = '100%% of %(name)-8.3f is not allowed.'\n") ==
        std::vector<T>{{"100% of ", " is not allowed"}});
  // Adjacent literals are one string, over lines and comments; whitespace normalised.
  CHECK(of("raise TypeError(\n    'Instance %s is not bound to a '  # why\n"
           "    \"Session;   attribute refresh \"\n    f'operation cannot proceed {x}'\n)\n") ==
        std::vector<T>{{"Instance ",
                        " is not bound to a Session; attribute refresh operation "
                        "cannot proceed ",
                        ""}});
  // Escapes decoded in a non-raw literal, kept in a raw one.
  CHECK(of("e = 'it isn\\'t a\\tvalid\\nname here'\n") ==
        std::vector<T>{{"it isn't a valid name here"}});
  CHECK(of("e = r'no \\d digits allowed here'\n") ==
        std::vector<T>{{"no \\d digits allowed here"}});
  // Left out: docstrings (a literal that is a statement), bytes, and fewer than two words (one
  // letter is no word: `%s is a %s` has one).
  CHECK(of("def f():\n    \"\"\"Raise a value error for bad input.\"\"\"\n").empty());
  CHECK(of("x = b'not a message at all'\n").empty());
  CHECK(of("raise KeyError('%s: %s (%r)' % t)\nraise KeyError('%s is a %s' % t)\n").empty());
  CHECK(of("raise UndefinedError(f'{self._name!r} is undefined')\n") ==
        std::vector<T>{{"", " is undefined"}});
  // Unterminated: ends where the scanner ends it; no failure.
  CHECK(of("x = 'never closed at all\ny = 1\n") == std::vector<T>{{"never closed at all"}});
  CHECK(of("x = f'{open brace never closed here'\n").size() <= 1);
}

TEST_CASE("prints_message: the whole message or a run of its parts fills a template") {
  const MessageTemplate t{"Instance ",
                          " is not bound to a Session; attribute refresh operation "
                          "cannot proceed"};
  CHECK(prints_message(t,
                       "Instance <User at 0x7f3a> is not bound to a Session; attribute "
                       "refresh operation cannot proceed"));
  CHECK(prints_message(t,
                       "Instance <User at 0x7f3a> is not bound to a Session;  attribute\n"
                       "refresh operation cannot proceed."));
  CHECK_FALSE(prints_message(t,
                             "instance <User> is not bound to a session; attribute refresh "
                             "operation cannot proceed"));  // case counts
  CHECK_FALSE(prints_message(t, "Instance x is not bound to a Session"));
  // A run of ": "-separated parts (argparse's "argument %s: %s" around the message).
  const MessageTemplate c{"conflicting option string(s): ", ""};
  CHECK(prints_message(c, "argument --foo: conflicting option string(s): --foo"));
  // Placeholders may stand for nothing; pieces must come in order, not overlap.
  const MessageTemplate o{"", " already defined as ", ""};
  CHECK(prints_message(o, "'SQUARE' already defined as 2"));
  CHECK_FALSE(prints_message(MessageTemplate{"ab cd ef", " ef gh"}, "ab cd ef gh"));
  CHECK_FALSE(prints_message(MessageTemplate{}, "anything at all"));
}

TEST_CASE("message (rank-22): a pasted error line finds the literal that prints its message") {
  Texts t;
  // The exception is raised with runtime values; its words are all over the package: the
  // module that defines it and a docstring that documents it outrank the raise site on words.
  t.files = {
      {"pkg/exc.py",
       "\"\"\"Exceptions of pkg.\"\"\"\n\n\n"
       "class DetachedInstanceError(Exception):\n"
       "    \"\"\"An attempt to access unloaded attributes on a mapped instance that is "
       "detached.\"\"\"\n"},
      {"pkg/util.py",
       "def refresh(instance):\n    \"\"\"Refresh the attributes of an instance; a detached "
       "one cannot proceed.\"\"\"\n"
       "    return instance\n"},
      {"pkg/loading.py",
       "from pkg import exc\n\n\ndef load_on_ident(state, key):\n"
       "    if state.session is None:\n        raise exc.DetachedInstanceError(\n"
       "            \"Instance %s is not bound to a Session; \"\n"
       "            \"attribute refresh operation cannot proceed\" % (state,)\n        )\n"
       "    return key\n"},
  };
  auto idx = index_of(t.files);
  const std::string q =
      "pkg.exc.DetachedInstanceError: Instance <User at 0x7f3a2c> is not bound to a Session; "
      "attribute refresh operation cannot proceed";
  const auto on = run_with(idx, q, t, kSignalDefault, true);
  REQUIRE_FALSE(on.hits.empty());
  CHECK(on.hits[0].chunk.path == "pkg/loading.py");
  bool shown = false;
  for (const auto& e : on.hits[0].explain) shown = shown || e.term == "message\u00d72.0";
  CHECK(shown);
  const int read = t.calls;
  CHECK(read >= 1);
  // Without the signal the words decide: the raise site is not first.
  const auto off = run_with(idx, q, t, kSignalDefault & ~kSignalMessage);
  REQUIRE_FALSE(off.hits.empty());
  CHECK(off.hits[0].chunk.path != "pkg/loading.py");
  // Pruned or exhaustive: the same page.
  CHECK(hit_ids(run_with(idx, q, t, kSignalDefault, false, true)) == hit_ids(on));
  // Not an error line: nothing is read for it (the verbatim signal reads nothing either: the
  // value is a word no chunk holds).
  t.calls = 0;
  (void)run_with(idx, "Instance <User at 0x7f3a2c> is not bound to a Session", t);
  CHECK(t.calls == 0);
  // Unreadable text: no boost, no error.
  Texts gone;
  const auto g = run_with(idx, q, gone, kSignalAll, true);
  REQUIRE_FALSE(g.hits.empty());
  for (const auto& h : g.hits) {
    for (const auto& e : h.explain) CHECK(e.term.rfind("message", 0) != 0);
  }
}

TEST_CASE("error_name: the exception's own name of a pasted error line") {
  using Opt = std::optional<std::string>;
  CHECK(error_name("django.db.migrations.exceptions.IrreversibleError: Operation x") ==
        Opt("IrreversibleError"));
  CHECK(error_name("  ValueError: bad value ") == Opt("ValueError"));
  CHECK_FALSE(error_name("ValueError: ..."));
  CHECK_FALSE(error_name("where is ValueError raised"));
}

TEST_CASE("message (rank-22): a rare exception's raise site outside the window is pinned") {
  Texts t;
  // The values' words (`sql`, `drop`, `table`, `books`) fill the window with other code.
  for (int i = 0; i < 50; ++i) {
    t.files.push_back({"db/backends/b" + std::to_string(100 + i) + "/operations.py",
                       "def sql_flush(books, demo):\n    \"\"\"Drop table books: the sql to run "
                       "(RunSQL, demo_books, auto).\"\"\"\n    return 'DROP TABLE %s' % books\n"});
  }
  t.files.push_back({"db/migrations/exceptions.py",
                     "class IrreversibleError(RuntimeError):\n    \"\"\"An irreversible "
                     "migration is about to be reversed.\"\"\"\n"});
  t.files.push_back({"db/migrations/migration.py",
                     "from .exceptions import IrreversibleError\n\n\n"
                     "def unapply(operation, project_state):\n"
                     "    if not operation.reversible:\n"
                     "        raise IrreversibleError('Operation %s in %s is not reversible' % "
                     "(operation, project_state))\n    return project_state\n"});
  // A common exception: raised everywhere, so its name's chunks are not read.
  for (int i = 0; i < static_cast<int>(kMessageNameChunks) + 1; ++i) {
    t.files.push_back({"util/u" + std::to_string(100 + i) + ".py",
                       "def check" + std::to_string(i) + "(x):\n    raise CommonError('bad " +
                           "value %r' % (x,))\n"});
  }
  t.files.push_back({"util/raise_site.py",
                     "def convert(x):\n    raise CommonError('Operation %s in %s is not "
                     "reversible' % (x, x))\n"});
  auto idx = index_of(t.files);
  const std::string q =
      "django.db.migrations.exceptions.IrreversibleError: Operation <RunSQL  sql='DROP TABLE "
      "demo_books'> in books.0003_auto is not reversible";
  const auto on = run_with(idx, q, t, kSignalDefault, true);
  REQUIRE_FALSE(on.hits.empty());
  CHECK(on.hits[0].chunk.path == "db/migrations/migration.py");
  REQUIRE_FALSE(on.hits[0].explain.empty());
  CHECK(on.hits[0].explain[0].term == "message-raised");
  // Without the signal the raise site is not on the page.
  const auto off = run_with(idx, q, t, kSignalDefault & ~kSignalMessage);
  for (const auto& h : off.hits) CHECK(h.chunk.path != "db/migrations/migration.py");
  // Pruned or exhaustive: the same page.
  CHECK(hit_ids(run_with(idx, q, t, kSignalDefault, false, true)) == hit_ids(on));
  // A path filter applies to the pinned chunk as to the page.
  Texts& same = t;
  SearchOptions o;
  o.query = q;
  o.signals = kSignalDefault;
  o.path_glob = "db/backends/**";
  o.chunk_text = same.source();
  auto filtered = idx.search(o);
  REQUIRE(filtered.ok());
  for (const auto& h : filtered->hits) CHECK(h.chunk.path.rfind("db/backends/", 0) == 0);
  // More chunks than kMessageNameChunks hold the name: none of them is read.
  const std::string common =
      "CommonError: Operation <RunSQL  sql='DROP TABLE demo_books'> in books.0003_auto is not "
      "reversible";
  const auto c = run_with(idx, common, t, kSignalDefault);
  for (const auto& h : c.hits) CHECK(h.chunk.path != "util/raise_site.py");
}

TEST_CASE("file named: a pasted traceback or log pins its innermost place in an indexed file") {
  const auto frames = frames_in_text(
      "Traceback (most recent call last):\n  File \"/srv/app/main.py\", line 9, in <module>\n"
      "  File \"/usr/lib/python3/pkg/codec.py\", line 4, in decode\nValueError: bad\n"
      "tests/test_codec.py:12: in test_decode\nwhere is pkg/codec.py");
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].path == "/srv/app/main.py");
  CHECK(frames[0].line == 9);
  CHECK(frames[1].path == "/usr/lib/python3/pkg/codec.py");
  CHECK(frames[1].line == 4);
  CHECK(frames[2].path == "tests/test_codec.py");
  CHECK(frames[2].line == 12);
  // A frame's function: an identifier after `, in ` (not `<module>`; none for a pytest place).
  CHECK(frames[0].function.empty());
  CHECK(frames[1].function == "decode");
  CHECK(frames[2].function.empty());
  CHECK(frames_in_text("where is pkg/codec.py, and what does decode do").empty());
  CHECK(frames_in_text("File \"x.py\", line").empty());

  auto idx = index_of({
      {"pkg/codec.py",
       "def encode(s):\n    return s\n\n\ndef decode(s):\n    raise ValueError(s)\n"},
      {"notes/errors.py",
       "def traceback_notes():\n    \"\"\"Traceback most recent call last main module decode "
       "ValueError bad: notes on errors.\"\"\"\n    return 0\n"},
  });
  const std::string tb =
      "Traceback (most recent call last): File \"/srv/app/main.py\", line 9, in <module> File "
      "\"/usr/lib/python3/pkg/codec.py\", line 5, in decode ValueError: bad";
  // Its words favour the notes; the innermost frame in the tree (main.py is not indexed) comes
  // first, by the chunk holding its line.
  CHECK(run(idx, tb, kSignalAll & ~kSignalFileNamed).hits.at(0).chunk.id ==
        "notes/errors.py#traceback_notes");
  const auto on = run(idx, tb, kSignalAll, true);
  CHECK(on.hits.at(0).chunk.id == "pkg/codec.py#decode");
  CHECK(on.hits.at(0).explain.at(0).term == "file-named");
  CHECK(on.hits.at(1).chunk.id == "notes/errors.py#traceback_notes");
  // No frame in an indexed file: the words alone.
  const std::string outside = "File \"/srv/app/main.py\", line 9, in <module> ValueError bad";
  CHECK(hit_ids(run(idx, outside)) == hit_ids(run(idx, outside, kSignalAll & ~kSignalFileNamed)));
}

TEST_CASE("file named: a traceback pins its call chain in the tree, innermost first (rank-18)") {
  auto idx = index_of({
      {"pkg/codec.py",
       "def encode(s):\n    return s\n\n\ndef decode(s):\n    raise ValueError(s)\n"},
      {"pkg/api.py", "from pkg import codec\n\n\ndef load(text):\n    return codec.decode(text)\n"},
      {"pkg/cli.py", "from pkg import api\n\n\ndef main(argv):\n    return api.load(argv[0])\n"},
      {"pkg/entry.py", "from pkg import cli\n\n\ndef run():\n    return cli.main([])\n"},
      {"notes/errors.py",
       "def traceback_notes():\n    \"\"\"Traceback decode load main "
       "ValueError bad: notes.\"\"\"\n    return 0\n"},
  });
  // Outermost first, as Python prints it: the application's main.py (not indexed), entry.py,
  // cli.py twice (its line 5 in main, then again through a helper on the same line), api.py,
  // codec.py.
  const std::string tb =
      "Traceback (most recent call last):\n"
      "  File \"/srv/app/main.py\", line 3, in <module>\n"
      "  File \"/usr/lib/python3/pkg/entry.py\", line 5, in run\n"
      "  File \"/usr/lib/python3/pkg/cli.py\", line 5, in main\n"
      "  File \"/usr/lib/python3/pkg/cli.py\", line 5, in main\n"
      "  File \"/usr/lib/python3/pkg/api.py\", line 5, in load\n"
      "  File \"/usr/lib/python3/pkg/codec.py\", line 6, in decode\n"
      "ValueError: bad\n";
  const auto r = run(idx, tb, kSignalAll, true);
  REQUIRE(r.hits.size() >= 4);
  // The three innermost places, each chunk once; entry.py, the fourth, is ranked by the words.
  CHECK(r.hits[0].chunk.id == "pkg/codec.py#decode");
  CHECK(r.hits[1].chunk.id == "pkg/api.py#load");
  CHECK(r.hits[2].chunk.id == "pkg/cli.py#main");
  for (std::size_t i = 0; i < 3; ++i) CHECK(r.hits[i].explain.at(0).term == "file-named");
  for (std::size_t i = 3; i < r.hits.size(); ++i)
    CHECK(r.hits[i].explain.at(0).term != "file-named");
  CHECK(hit_ids(run(idx, tb)) == hit_ids(run(idx, tb)));  // deterministic
}

TEST_CASE("file named: a traceback frame's function corrects a line gone stale after an edit") {
  // codec.py as the traceback saw it: decode at lines 5-6. Since then a helper was added above
  // it, so line 6 is now in `_check`; Codec is a small class kept as one chunk.
  const std::string codec =
      "def encode(s):\n    return s\n\n\ndef _check(s):\n    return bool(s)\n\n\n"
      "def decode(s):\n    raise ValueError(s)\n\n\nclass Codec:\n    def decode(self, s):\n"
      "        return decode(s)\n";
  Texts texts;
  texts.files = {{"pkg/codec.py", codec}};
  auto idx = index_of(texts.files);
  const auto first = [&](const std::string& frame) {
    const std::string tb =
        "Traceback (most recent call last):\n  File \"/usr/lib/pkg/codec.py\", " + frame +
        "\nValueError: bad\n";
    const auto r = run_with(idx, tb, texts);
    return r.hits.empty() ? std::string() : r.hits[0].chunk.id;
  };
  CHECK(first("line 6, in decode") == "pkg/codec.py#decode");   // the stale line: the name wins
  CHECK(first("line 6, in _check") == "pkg/codec.py#_check");   // the line's own function
  CHECK(first("line 10, in decode") == "pkg/codec.py#decode");  // a current line
  // A method of a class kept as one chunk, named as a function elsewhere in the file: the
  // class's text defines it, so the line's chunk stays.
  CHECK(first("line 15, in decode") == "pkg/codec.py#Codec");
  CHECK(first("line 6, in <module>") == "pkg/codec.py#_check");  // no function: the line
  CHECK(first("line 6, in missing") == "pkg/codec.py#_check");   // no chunk of that name
  // Without the chunks' text the line's chunk stays (a method of a one-chunk class cannot be
  // told from a stale line then).
  CHECK(run(idx, "File \"/usr/lib/pkg/codec.py\", line 6, in decode").hits.at(0).chunk.id ==
        "pkg/codec.py#_check");
}

TEST_CASE("file named: a name more than kMaxNamedFiles files share names none of them") {
  std::vector<std::pair<std::string, std::string>> files;
  for (std::size_t i = 0; i <= kMaxNamedFiles; ++i)
    files.push_back(
        {"pkg" + std::to_string(i) + "/__init__.py", "X = " + std::to_string(i) + "\n"});
  files.push_back({"pkg0/util.py", "def helper():\n    return 1\n"});
  auto idx = index_of(files);
  const std::string q = "__init__.py";
  // Nothing pinned: searched as its name's words (the extension is no search word, rank-17).
  CHECK(hit_ids(run(idx, q)) == hit_ids(run(idx, "__init__", kSignalAll & ~kSignalFileNamed)));
  // One fewer, and each is pinned, nearest the root first, then by name.
  files.erase(files.begin());
  auto fewer = index_of(files);
  const auto r = run(fewer, q);
  REQUIRE(r.hits.size() >= kMaxNamedFiles);
  for (std::size_t i = 0; i < kMaxNamedFiles; ++i)
    CHECK(r.hits[i].chunk.path == "pkg" + std::to_string(i + 1) + "/__init__.py");
}

TEST_CASE("file named: files added, removed, compacted and reloaded are named as they are now") {
  auto idx = index_of({{"pkg/alpha.py", "def alpha():\n    return 1\n"},
                       {"pkg/beta.py", "def beta():\n    return alpha()\n"}});
  const auto first = [&](const InvertedIndex& i, const std::string& q) {
    const auto r = run(i, q);
    return r.hits.empty() ? std::string() : r.hits[0].chunk.id;
  };
  CHECK(first(idx, "alpha.py") == "pkg/alpha.py#alpha");
  // Renamed: the old name names nothing, the new one its file.
  idx.remove_file("pkg/alpha.py");
  auto again = index_of({{"lib/gamma.py", "def alpha():\n    return 1\n"}});
  idx.replace_file(
      "lib/gamma.py", again.chunks_of("lib/gamma.py"),
      {analyze_chunk(again.chunks_of("lib/gamma.py")[0], "def alpha():\n    return 1\n")});
  CHECK(first(idx, "pkg/alpha.py") != "pkg/alpha.py#alpha");
  CHECK(first(idx, "gamma.py") == "lib/gamma.py#alpha");
  // Replaced in place (the same path twice), compacted, then reloaded from its binary form.
  idx.replace_file(
      "pkg/beta.py", idx.chunks_of("pkg/beta.py"),
      {analyze_chunk(idx.chunks_of("pkg/beta.py")[0], "def beta():\n    return alpha()\n")});
  CHECK(first(idx, "beta.py") == "pkg/beta.py#beta");
  idx.compact();
  CHECK(first(idx, "beta.py") == "pkg/beta.py#beta");
  CHECK(first(idx, "lib/gamma.py") == "lib/gamma.py#alpha");
  std::string bytes;
  idx.serialize(bytes);
  InvertedIndex loaded;
  REQUIRE(loaded.deserialize(bytes).ok());
  CHECK(first(loaded, "beta.py") == "pkg/beta.py#beta");
  CHECK(first(loaded, "./lib/gamma.py:2") == "lib/gamma.py#alpha");
  CHECK(first(loaded, "alpha.py").empty() == false);  // words still search: `alpha` is a name
  CHECK(first(loaded, "alpha.py") != "pkg/alpha.py#alpha");
}

TEST_CASE("misspelt_file_name: the one indexed name within the typo correction's distance") {
  const std::vector<std::string_view> names = {"sessions.py",   "session.md", "adapters.py",
                                               "connection.py", "abce.py",    "abcf.py",
                                               "retry.md"};
  CHECK(misspelt_file_name("sesions.py", names) == std::optional<std::string_view>("sessions.py"));
  CHECK(misspelt_file_name("adaptres.py", names) == std::optional<std::string_view>("adapters.py"));
  // Two edits from six letters on, to a name with the same first letter; one edit otherwise.
  CHECK(misspelt_file_name("conectoin.py", names) ==
        std::optional<std::string_view>("connection.py"));
  CHECK(misspelt_file_name("xonnection.py", names) ==
        std::optional<std::string_view>("connection.py"));
  CHECK_FALSE(misspelt_file_name("xonectoin.py", names));
  // Two names as close: none. Another extension, a short name, no extension: none.
  CHECK_FALSE(misspelt_file_name("abcd.py", names));
  CHECK_FALSE(misspelt_file_name("retyr.py", names));
  CHECK_FALSE(misspelt_file_name("ses.py", names));
  CHECK_FALSE(misspelt_file_name("sessions", names));
  CHECK_FALSE(misspelt_file_name("sessions.py", {}));
}

TEST_CASE("file named: a misspelt file name is searched as the indexed name it is close to") {
  auto idx = index_of({{"pkg/sessions.py", "def open_session():\n    return 1\n"},
                       {"pkg/other.py", "def py_helper():\n    return 'sesions py'\n"}});
  const auto r = run(idx, "sesions.py");
  REQUIRE_FALSE(r.hits.empty());
  CHECK(r.hits[0].chunk.path == "pkg/sessions.py");
  CHECK(r.corrected == std::vector<Correction>{{"sesions.py", "sessions.py"}});
  CHECK(r.terms == std::vector<std::string>{"sessions"});  // the words searched, corrected
  CHECK(run(idx, "pkg/sesions.py:2").hits[0].chunk.path == "pkg/sessions.py");
  // Without the typo signal the name is not corrected, nor is one of a kind the index never
  // corrects (a config file's), nor a name as close to two files.
  const auto plain = run(idx, "sesions.py", kSignalAll & ~kSignalTypo);
  CHECK(plain.corrected.empty());
  CHECK(plain.hits[0].chunk.path == "pkg/other.py");
  CHECK(run(idx, "sesions.toml").corrected.empty());
}

TEST_CASE("file named: a pytest node id puts its test's chunk first") {
  CHECK(file_reference("tests/test_api.py::TestSession::test_send")->symbol ==
        "TestSession.test_send");
  CHECK(file_reference("tests/test_api.py::TestSession::test_send")->path == "tests/test_api.py");
  CHECK(file_reference("test_api.py::test_get[http-2]")->symbol == "test_get");
  CHECK_FALSE(file_reference("test_api.py::"));
  CHECK_FALSE(file_reference("test_api.py::A::::b"));
  auto idx =
      index_of({{"tests/test_api.py",
                 "import api\n\n\ndef test_get():\n    assert api.get()\n\n\n"
                 "class TestSession:\n    def test_send(self):\n        assert api.send()\n"},
                {"api.py", "def get():\n    return 1\n\n\ndef send():\n    return 2\n"}});
  const auto first = [&](const std::string& q) { return run(idx, q).hits.at(0).chunk.id; };
  CHECK(first("tests/test_api.py::test_get") == "tests/test_api.py#test_get");
  CHECK(first("tests/test_api.py::test_get[case-1]") == "tests/test_api.py#test_get");
  CHECK(first("test_api.py::TestSession") == "tests/test_api.py#TestSession");
  // A method of a class small enough to be one chunk: the class's.
  CHECK(first("tests/test_api.py::TestSession::test_send") == "tests/test_api.py#TestSession");
  // A name the file does not define: the file's first chunk, as for the path alone.
  CHECK(first("tests/test_api.py::test_gone") == first("tests/test_api.py"));
  // A result line as pytest prints it: its test first, whatever the rest of the line says (here
  // its words favour another chunk: without the node id it comes first).
  auto lines = index_of(
      {{"tests/test_api.py",
        "import api\n\n\ndef test_get():\n    assert api.get()\n\n\n"
        "class TestSession:\n    def test_send(self):\n        assert api.send()\n"},
       {"report.py",
        "def failed_error_passed():\n    \"\"\"A report: FAILED tests/test_api.py::test_get - "
        "AssertionError: assert send() == 2\"\"\"\n    return 0\n"}});
  const auto first_line = [&](const std::string& q, std::uint32_t sig = kSignalAll) {
    return run(lines, q, sig).hits.at(0).chunk.id;
  };
  const std::string failed =
      "FAILED tests/test_api.py::test_get - AssertionError: assert send() == 2";
  CHECK(first_line(failed, kSignalAll & ~kSignalFileNamed) == "report.py#failed_error_passed");
  CHECK(first_line(failed) == "tests/test_api.py#test_get");
  CHECK(first_line("tests/test_api.py::TestSession::test_send PASSED   [ 50%]") ==
        "tests/test_api.py#TestSession");
  CHECK(first_line("ERROR tests/test_api.py::test_get, tests/test_api.py::test_get") ==
        "tests/test_api.py#test_get");  // the same test twice
  CHECK(node_id_in_line("FAILED tests/test_api.py::test_get - boom")->symbol == "test_get");
  // Two different tests, or a plain path among words: none (the words are searched).
  CHECK_FALSE(node_id_in_line("tests/test_api.py::test_get tests/test_api.py::TestSession"));
  CHECK_FALSE(node_id_in_line("where is tests/test_api.py"));
  CHECK_FALSE(node_id_in_line("a::b c.txt::d"));
  const std::string words = "send get api";
  CHECK(hit_ids(run(idx, words)) == hit_ids(run(idx, words, kSignalAll & ~kSignalFileNamed)));
}
