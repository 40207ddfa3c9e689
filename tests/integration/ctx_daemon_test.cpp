// Integration spec of the context index through a real trifectad and CLI: build → search → get,
// live freshness (edit / delete on disk, no manual rebuild), telemetry of what was read, bad input.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <cstring>
#include <fstream>
#include <sstream>

#include "../support/cli_json.hpp"
#include "telemetry/reader.hpp"
#include "util/hash.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

struct Tree {
  TempDir tmp;
  fs::path root;
  Tree() {
    root = fs::canonical(tmp.path());
    fs::create_directories(root / "pkg");
    fs::create_directories(root / "docs");
    write("pkg/__init__.py", "");
    write("pkg/decoder.py",
          "\"\"\"Decoding helpers.\"\"\"\n\nclass FrobnicateError(ValueError):\n    \"\"\"Raised when frobnication fails.\"\"\"\n\n\n"
          "def frobnicate_payload(data, strict=True):\n    \"\"\"Frobnicate the payload.\"\"\"\n    if strict:\n"
          "        raise FrobnicateError(data)\n    return data[::-1]\n");
    write("docs/guide.md", "# Guide\n\nIntro text.\n\n## Installation\n\nRun the frobnicate installer.\n\n```sh\n# not a heading\n```\n");
    std::string bin("\x00\x01\x02binary", 9);
    write("blob.dat", bin);
  }
  void write(const std::string& rel, const std::string& text) const {
    write_text(root / rel, text);
  }
};

std::vector<std::string> hit_ids(const json::object& search) {
  std::vector<std::string> ids;
  for (const auto& h : search.at("hits").as_array()) ids.emplace_back(h.at("id").as_string());
  return ids;
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST_CASE("build, search, get through the daemon", "[ctx][daemon]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  auto build = result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  CHECK(build.at("status").at("files_indexed").as_int64() == 3);
  CHECK(build.at("status").at("files_skipped").as_int64() == 1);
  CHECK(build.at("status").at("skip_reasons").at("binary").as_int64() == 1);
  CHECK(build.at("index").at("state").as_string() == "ready");

  auto search = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "frobnicate", "payload"}));
  const auto ids = hit_ids(search);
  REQUIRE_FALSE(ids.empty());
  CHECK(ids[0] == "pkg/decoder.py#frobnicate_payload");  // the definition named like the query wins
  CHECK(contains(ids, "docs/guide.md#installation"));
  const auto& first = search.at("hits").as_array()[0].as_object();
  CHECK(first.at("start_line").as_int64() == 7);
  CHECK(first.at("sha256").as_string().size() == 64);

  auto raw = result_of(d.cli({"--json", "ctx", "get", "-s", seg, "pkg/decoder.py#frobnicate_payload", "-m", "raw"}));
  REQUIRE(raw.at("chunks").as_array().size() == 1);
  const std::string text(raw.at("chunks").as_array()[0].at("text").as_string());
  CHECK_THAT(text, Catch::StartsWith("def frobnicate_payload(data, strict=True):"));
  CHECK_THAT(text, Catch::Contains("        raise FrobnicateError(data)"));  // indentation kept
  CHECK(raw.at("stop_reason").as_string() == "complete");

  auto skel = result_of(d.cli({"--json", "ctx", "get", "-s", seg, "sym://python/pkg.decoder/frobnicate_payload", "-m", "skeleton"}));
  const std::string sk(skel.at("chunks").as_array()[0].at("text").as_string());
  CHECK_THAT(sk, Catch::Contains("def frobnicate_payload(data, strict=True)"));
  CHECK(sk.size() < text.size());

  auto text_out = d.cli({"ctx", "search", "-s", seg, "installer"});
  CHECK_THAT(text_out.out, Catch::Contains("docs/guide.md#installation"));
  // A word cut short by a letter is searched as the word (rank-14); cut shorter, it is a
  // suggestion only.
  auto cut = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "frobnicat"}));
  CHECK_FALSE(cut.at("hits").as_array().empty());
  CHECK(json::serialize(cut.at("corrected")) == R"([{"from":"frobnicat","to":"frobnicate"}])");
  auto zero = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "frobni"}));
  CHECK(zero.at("hits").as_array().empty());
  CHECK_FALSE(zero.at("reason").as_string().empty());
  CHECK_THAT(json::serialize(zero.at("did_you_mean")), Catch::Contains("frobnicate"));
}

TEST_CASE("edits and deletions on disk are seen by the next request, without a rebuild", "[ctx][daemon][freshness]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  CHECK(hit_ids(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "zanzibar"}))).empty());

  t.write("pkg/decoder.py", "def zanzibar_route():\n    return 1\n");
  auto after_edit = hit_ids(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "zanzibar"})));
  REQUIRE_FALSE(after_edit.empty());
  CHECK(after_edit[0] == "pkg/decoder.py#zanzibar_route");
  CHECK(hit_ids(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "frobnicate_payload"}))).size() < 2);

  fs::create_directories(t.root / "newdir" / "deeper");
  t.write("newdir/deeper/extra.py", "def quixotic_helper():\n    pass\n");
  CHECK(contains(hit_ids(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "quixotic"}))),
                 "newdir/deeper/extra.py#quixotic_helper"));

  fs::remove(t.root / "pkg" / "decoder.py");
  CHECK(hit_ids(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "zanzibar"}))).empty());
  auto validate = result_of(d.cli({"--json", "ctx", "validate", "-s", seg}));
  CHECK(validate.at("ok").as_bool());
}

TEST_CASE("ctx telemetry records what was read and returned", "[ctx][daemon][telemetry]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  result_of(d.cli({"--json", "ctx", "search", "-s", seg, "frobnicate"}));
  result_of(d.cli({"--json", "ctx", "search", "-s", seg, "frobnciate"}));  // a swap: corrected
  auto raw = result_of(d.cli({"--json", "ctx", "get", "-s", seg, "pkg/decoder.py#frobnicate_payload", "-m", "raw"}));
  auto ex = result_of(d.cli({"--json", "ctx", "get", "-s", seg, "pkg/decoder.py#frobnicate_payload", "-m", "excerpt"}));
  REQUIRE(d.stop() == 0);
  const fs::path tdir = d.telemetry_dir() / trifecta::core::segment_id_of(seg);
  auto ev = trifecta::core::telemetry::read_events(tdir / "events.jsonl");
  REQUIRE(ev.ok());
  std::vector<json::object> gets, searches;
  for (const auto& e : ev->events) {
    if (e.at("cmd").as_string() == "ctx.get") gets.push_back(e);
    if (e.at("cmd").as_string() == "ctx.search") searches.push_back(e);
  }
  REQUIRE(searches.size() == 2);
  CHECK(searches[0].at("args").at("query").as_string() == "frobnicate");
  CHECK(searches[0].at("x").as_object().contains("bytes_read"));
  CHECK(searches[0].at("result").at("returned_ids").as_array().size() >= 1);
  CHECK_FALSE(searches[0].at("result").as_object().contains("corrected"));
  // The typo correction's words are recorded as the reply names them.
  CHECK(json::serialize(searches[1].at("result").at("corrected")) == R"([{"from":"frobnciate","to":"frobnicate"}])");
  REQUIRE(gets.size() == 2);
  CHECK(gets[0].at("x").at("disclosure_mode").as_string() == "raw");
  CHECK(gets[0].at("x").at("bytes_read").as_int64() == raw.at("bytes_read").as_int64());
  CHECK(gets[1].at("x").at("disclosure_mode").as_string() == "excerpt");
  CHECK(gets[1].at("x").at("bytes_read").as_int64() == ex.at("bytes_read").as_int64());
  CHECK(raw.at("bytes_read").as_int64() > 0);
  std::ifstream in(tdir / "last_run.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto lr = json::parse(ss.str()).as_object();
  CHECK(lr.at("file_read").at("raw_bytes").as_int64() == raw.at("bytes_read").as_int64());
  CHECK(lr.at("file_read").at("excerpt_bytes").as_int64() == ex.at("bytes_read").as_int64());
  CHECK(lr.at("pack_state").at("pack_sha").is_string());
}

TEST_CASE("ctx bad input: unknown ids, budgets, cursors, escapes", "[ctx][daemon][bad-input]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  // Failed targets: the reply is printed as is, and the exit code says the command failed.
  auto unknown_run = d.cli({"--json", "ctx", "get", "-s", seg, "nope.py#x", "../../etc/passwd#L1-5"});
  CHECK(unknown_run.exit_code == 1);
  auto unknown = json::parse(unknown_run.out).at("result").as_object();
  CHECK(unknown.at("errors").as_array().size() == 2);
  CHECK(unknown.at("chunks").as_array().empty());

  auto zero_budget = d.cli({"--json", "ctx", "get", "-s", seg, "pkg/decoder.py#frobnicate_payload", "-b", "0"});
  CHECK(zero_budget.exit_code == 1);
  auto huge = result_of(d.cli({"--json", "ctx", "get", "-s", seg, "pkg/decoder.py#frobnicate_payload", "-b", "999999999"}));
  CHECK(huge.at("budget").as_int64() == 1000000);

  auto bad_cursor = d.cli({"--json", "ctx", "get", "-s", seg, "pkg/decoder.py#frobnicate_payload", "--cursor", "garbage!"});
  CHECK(bad_cursor.exit_code == 1);
  CHECK_THAT(bad_cursor.out, Catch::Contains("INVALID_ARGUMENT"));

  CHECK(d.cli({"--json", "ctx", "search", "-s", seg, "x"}).exit_code == 1);  // one character
  auto esc = d.cli({"--json", "ctx", "get", "-s", seg, "sym://python/..etc.passwd"});
  CHECK((esc.exit_code != 0 || json::parse(esc.out).at("result").at("errors").as_array().size() == 1));
}

TEST_CASE("budgeted pages with a cursor add up to the complete answer", "[ctx][daemon][budget]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  std::string big = "def long_function():\n";
  for (int i = 0; i < 200; ++i) big += "    value_" + std::to_string(i) + " = compute(" + std::to_string(i) + ")\n";
  t.write("pkg/big.py", big);
  const std::string seg = t.root.string();
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  auto full = result_of(d.cli({"--json", "ctx", "get", "-s", seg, "pkg/big.py#long_function", "-m", "raw", "-b", "100000"}));
  const std::string whole(full.at("chunks").as_array()[0].at("text").as_string());
  std::string joined, cursor;
  int pages = 0;
  do {
    std::vector<std::string> args{"--json", "ctx", "get", "-s", seg, "pkg/big.py#long_function", "-m", "raw", "-b", "300"};
    if (!cursor.empty()) args.insert(args.end(), {"--cursor", cursor});
    auto page = result_of(d.cli(args));
    for (const auto& c : page.at("chunks").as_array()) {
      if (!c.as_object().contains("degraded_from")) joined += std::string(c.at("text").as_string());
    }
    cursor = page.contains("next") ? std::string(page.at("next").as_string()) : "";
    CHECK(page.at("used").as_int64() <= 300);
    ++pages;
  } while (!cursor.empty() && pages < 100);
  CHECK(pages > 1);
  CHECK(joined == whole);
}

TEST_CASE("a daemon restart on an unchanged tree starts warm", "[ctx][daemon][persistence]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  auto cold = result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  REQUIRE(d.stop() == 0);
  d.start();
  auto warm = result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  CHECK(warm.at("build").at("warm").as_bool());
  CHECK(warm.at("build").at("files_read").as_int64() == 0);
  CHECK((warm.at("status").at("pack_state") == cold.at("status").at("pack_state")));
}

TEST_CASE("ctx.build streams progress notifications before its reply", "[ctx][daemon][progress]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  for (int i = 0; i < 50; ++i) t.write("pkg/m" + std::to_string(i) + ".py", "def f" + std::to_string(i) + "():\n    pass\n");
  RawClient c(d.socket());
  const std::string seg = t.root.string();
  c.send(json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ctx.build"},
                                      {"params", {{"segment", seg}, {"rebuild", true}}}}) + "\n");
  int progress = 0;
  double last_done = -1, total = 0;
  for (;;) {
    auto line = c.line(60s);
    REQUIRE(line);
    auto o = json::parse(*line).as_object();
    if (o.contains("method")) {
      CHECK(o.at("method").as_string() == "ctx.progress");
      CHECK_FALSE(o.contains("id"));
      const double done = o.at("params").at("done").to_number<double>();
      CHECK(done >= last_done);
      last_done = done;
      total = o.at("params").at("total").to_number<double>();
      ++progress;
      continue;
    }
    CHECK(o.at("id").as_int64() == 1);
    CHECK(o.at("result").at("build").at("files_indexed").as_int64() >= 50);
    break;
  }
  CHECK(progress >= 1);
  CHECK(last_done == total);  // the last notification is the complete count
}

TEST_CASE("ctx map: the most central files and their top symbols within the budget", "[ctx][daemon][map]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  // decoder.py is imported by three modules: the most central file.
  t.write("pkg/api.py", "from .decoder import frobnicate_payload\n\n\ndef serve(x):\n    return frobnicate_payload(x)\n");
  t.write("pkg/cli.py", "from pkg import decoder\nfrom pkg.api import serve\n\n\ndef main():\n    serve(decoder)\n");
  t.write("tools/report.py", "import pkg.decoder\n\n\nclass Report:\n    def render(self):\n        pass\n\n    def _hidden(self):\n        pass\n");
  const std::string seg = t.root.string();
  auto m = result_of(d.cli({"--json", "ctx", "map", "-s", seg}));
  const auto& files = m.at("files").as_array();
  REQUIRE(files.size() == 5);  // every Python file (budget 1024 holds them all)
  CHECK(files[0].at("path").as_string() == "pkg/decoder.py");
  CHECK(m.at("candidates").as_int64() == 5);
  CHECK_FALSE(m.at("truncated").as_bool());
  CHECK(m.at("used").as_int64() <= m.at("budget").as_int64());
  CHECK(m.at("budget").as_int64() == 1024);
  const std::string text(m.at("text").as_string());
  CHECK_THAT(text, Catch::StartsWith("# pkg/decoder.py  (centrality "));
  CHECK_THAT(text, Catch::Contains("def frobnicate_payload(data, strict=True):"));
  CHECK_THAT(text, Catch::Contains("class Report:"));
  CHECK_THAT(text, Catch::Contains("def render(self): ...  # L5-6"));
  CHECK_THAT(text, !Catch::Contains("_hidden"));  // private members are not top symbols
  for (std::size_t i = 1; i < files.size(); ++i) {
    CHECK(files[i - 1].at("centrality").as_double() >= files[i].at("centrality").as_double());
  }
  // Each symbol says how many other files name it (api.py imports and calls frobnicate_payload).
  bool counted = false;
  for (const auto& sym : files[0].at("symbols").as_array()) {
    if (sym.at("name").as_string() != "frobnicate_payload") continue;
    CHECK(sym.at("refs").as_int64() == 1);
    counted = true;
  }
  CHECK(counted);
  // A folder, relative to the cwd or the segment; a tight budget truncates, reduced outlines first.
  auto sub = result_of(d.cli({"--json", "ctx", "map", "-s", seg, "tools"}));
  REQUIRE(sub.at("files").as_array().size() == 1);
  CHECK(sub.at("files").as_array()[0].at("path").as_string() == "tools/report.py");
  CHECK(sub.at("files").as_array()[0].at("symbols").as_array().size() == 2);  // Report, Report.render
  auto tight = result_of(d.cli({"--json", "ctx", "map", "-s", seg, "-b", "64"}));
  CHECK(tight.at("truncated").as_bool());
  CHECK(tight.at("used").as_int64() <= 64);
  // The text form: the map, then a summary line.
  auto plain = d.cli({"ctx", "map", "-s", seg});
  REQUIRE(plain.exit_code == 0);
  CHECK_THAT(plain.out, Catch::StartsWith("# pkg/decoder.py"));
  CHECK_THAT(plain.out, Catch::Contains("── 5 of 5 Python files, used "));
  // Bad input: typed errors.
  CHECK(d.cli({"--json", "ctx", "map", "-s", seg, "-b", "10"}).exit_code == 1);
  CHECK(error_name_of(d.cli({"--json", "ctx", "map", "-s", seg, (t.root / "nowhere").string()})) == "NOT_FOUND");
  CHECK(d.cli({"--json", "ctx", "map", "-s", seg, "/etc"}).exit_code == 1);
  // It follows the disk: a new hub takes the lead without a rebuild.
  t.write("pkg/hub.py", "def hub():\n    pass\n");
  for (const char* f : {"pkg/api.py", "pkg/cli.py", "tools/report.py", "pkg/decoder.py"}) {
    t.write(f, "import pkg.hub\n\n\ndef user_" + std::to_string(std::strlen(f)) + "():\n    pass\n");
  }
  auto after = result_of(d.cli({"--json", "ctx", "map", "-s", seg}));
  CHECK(after.at("files").as_array()[0].at("path").as_string() == "pkg/hub.py");
}

TEST_CASE("_ctx/trifecta.json excludes apply on the next request and on ctx build --rebuild, no restart", "[ctx][daemon][config]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  t.write("gen/generated.py", "def zyzzyva_generated():\n    pass\n");
  const std::string seg = t.root.string();
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  CHECK_FALSE(hit_ids(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "zyzzyva"}))).empty());
  // The watcher: the next request sees the new rule.
  t.write("_ctx/trifecta.json", R"({"exclude": ["gen/**"]})");
  CHECK(hit_ids(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "zyzzyva"}))).empty());
  CHECK(result_of(d.cli({"--json", "ctx", "validate", "-s", seg})).at("ok").as_bool());
  // Back again: the file is read again.
  t.write("_ctx/trifecta.json", R"({"exclude": []})");
  CHECK_FALSE(hit_ids(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "zyzzyva"}))).empty());
  // ctx build --rebuild reads it too.
  t.write("_ctx/trifecta.json", R"({"exclude": ["gen/**", "docs/**"]})");
  auto rebuilt = result_of(d.cli({"--json", "ctx", "build", "--rebuild", "-s", seg}));
  CHECK(rebuilt.at("status").at("files_indexed").as_int64() == 2);  // pkg/__init__.py, pkg/decoder.py
  CHECK(hit_ids(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "installer"}))).empty());
}
