// Spec of trifecta_client and the CLI's command table without a socket: replies are decoded into
// the proto/ Result structs (a bad reply is a kProtocol error naming the field, never an
// exception), the renderers print the typed results, error replies render their selector data,
// every catalog method has a CLI command (or a reason why not), and segment discovery.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <algorithm>
#include <functional>
#include <sstream>
#include <variant>

#include "../support/temp_dir.hpp"
#include "commands.hpp"
#include "render.hpp"
#include "segment.hpp"
#include "session.hpp"

using namespace trifecta::client;
namespace proto = trifecta::proto;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// `args` (after the program name) parsed by the CLI's real command tree; CLI11's errors propagate.
trifecta::cli::Opts parse_cli(std::vector<std::string> args) {
  trifecta::cli::Opts o;
  CLI::App app{"trifecta"};
  trifecta::cli::build_app(app, o, nullptr, false);
  std::reverse(args.begin(), args.end());
  app.parse(args);
  return o;
}

const char* kSearch =
    R"({"terms":["f"],"hits":[{"id":"pkg/a.py#f","path":"pkg/a.py","start_line":1,"end_line":3,
  "kind":"code","title":"f","score":1.5,"tokens":12,"preview":"def f(): ...","sha256":"ab",
  "explain":[{"term":"f","field":"name","tf":1,"score":0.5}]}],"matched":1,"generation":2,
  "query":"f","index":{"state":"ready","generation":2}})";
const char* kGet =
    R"({"mode":"raw","budget":2000,"used":10,"stop_reason":"complete","chunks":[{"id":"pkg/a.py#f",
  "path":"pkg/a.py","kind":"code","title":"f","start_line":1,"end_line":3,"mode":"raw",
  "partial":false,"total_bytes":17,"text":"def f():\n    pass","tokens":5,"sha256":"ab"}],
  "errors":[],"bytes_read":17,"generation":2,"index":{"state":"ready","generation":2}})";
const char* kStatus =
    R"({"daemon_version":"0.1.0","protocol":"1.1","pid":7,"socket":"/s","socket_activated":false,
  "uptime_s":1.5,"rss_bytes":1048576,"connections":1,"in_flight":0,"requests_total":3,"workers":2,
  "idle_timeout_s":1800,"telemetry":{"enabled":true,"run_id":"r","attempted":1,"lines_written":1,
  "dropped":0,"write_errors":0},"segments":[{"segment_id":"abc","root":"/r","state":"ready",
  "lsp_state":"COLD","opened_s_ago":1.0,"requests":2,"memory_bytes":2048}]})";
const char* kValidate =
    R"({"ok":false,"checked":3,"generation":2,"stale":["a.py"],"missing":[],"new":["b.py"],
  "index":{"state":"ready","generation":2}})";
const char* kDefinition =
    R"({"backend":"ast","lsp_state":"COLD","file":"a.py","line":1,"column":5,
  "locations":[{"path":"a.py","external":false,"line":1,"column":5,"end_line":1,"end_column":6}]})";
const char* kReferences =
    R"({"backend":"lsp","lsp_state":"READY","file":"a.py","line":1,"column":5,"truncated":true,
  "locations":[{"path":"a.py","external":false,"line":1,"column":5,"end_line":1,"end_column":6}]})";
const char* kCtxStatus =
    R"({"status":{"generation":2,"built":true,"files_indexed":3,"files_skipped":1,"files_non_utf8":0,
  "skip_reasons":{"binary":1},"skipped":[{"path":"x.bin","size":9,"indexed":false,"chunks":0,
  "skip_reason":"binary"}],"chunks":7,"terms":40,"last_update":"2026-01-01T00:00:00Z",
  "pack_state":"fresh","source":"git","watching":true,"warm_start":false,"rescans":0,
  "memory_bytes":4096,"warnings":[]},"index":{"state":"ready","generation":2,
  "watcher_error":"inotify limit"}})";
const char* kLspStatus =
    R"({"enabled":true,"available":true,"state":"READY","reason":"initialized","binary":"/bin/p",
  "binary_name":"pyright-langserver","version":"1.1","source":"bundled","pid":9,"uptime_ms":1500,
  "state_ms":1000,"restarts":0,"rss_bytes":1048576,"pending":0,"open_documents":1,"timeouts":0})";
const char* kDiagnostics =
    R"({"backend":"ast","lsp_state":"COLD","fallback_reason":"not ready","file":"a.py","line":0,
  "column":0,"diagnostics":[{"line":2,"column":1,"end_line":2,"end_column":4,"severity":"error",
  "message":"bad","code":"E1","source":"syntax"}]})";
const char* kHover =
    R"j({"backend":"ast","lsp_state":"COLD","file":"a.py","line":1,"column":5,"contents":"def f()",
  "kind":"plaintext","rule":"def"})j";
const char* kSymbols =
    R"j({"file":"a.py","status":"ok","count":1,"symbols":[{"qualname":"f","name":"f","kind":"function",
  "line":1,"end_line":2,"signature":"()","docstring":"","decorators":[],"async":true,
  "conditional":false}],"constants":[{"name":"X","line":3,"annotation":"","conditional":false}]})j";

// What a reply became: the decode error, or the rendered text.
struct Outcome {
  std::optional<std::string> error;
  Rendered rendered;
};
using Reader = std::function<Outcome(const json::value&)>;

// Decode `v` as R (as Session::call does), then render it.
template <class R, class F>
Reader reader(F render) {
  return [render](const json::value& v) {
    ClientError err;
    const auto r = decode_result<R>(v, &err);
    if (!r) {
      CHECK(err.code == ClientErrc::kProtocol);
      return Outcome{err.message, {}};
    }
    return Outcome{std::nullopt, render(*r)};
  };
}

struct Sample {
  const char* name;
  const char* json;
  Reader read;
};

std::vector<Sample> samples() {
  return {
      {"search", kSearch,
       reader<proto::CtxSearchResult>([](const auto& r) { return render_search(r); })},
      {"get", kGet, reader<proto::CtxGetResult>([](const auto& r) { return render_get(r); })},
      {"status", kStatus,
       reader<proto::StatusResult>([](const auto& r) { return render_status(r); })},
      {"validate", kValidate,
       reader<proto::CtxValidateResult>([](const auto& r) { return render_validate(r); })},
      {"definition", kDefinition, reader<proto::LspDefinitionResult>([](const auto& r) {
         return render_locations(r, "/nonexistent");
       })},
      {"references", kReferences, reader<proto::LspReferencesResult>([](const auto& r) {
         return render_locations(r, "/nonexistent");
       })},
      {"ctx status", kCtxStatus,
       reader<proto::CtxStatusResult>([](const auto& r) { return render_ctx_status(r); })},
      {"lsp status", kLspStatus,
       reader<proto::LspStatusResult>([](const auto& r) { return render_lsp_status(r); })},
      {"diagnostics", kDiagnostics,
       reader<proto::LspDiagnosticsResult>([](const auto& r) { return render_diagnostics(r); })},
      {"hover", kHover,
       reader<proto::LspHoverResult>([](const auto& r) { return render_hover(r); })},
      {"symbols", kSymbols,
       reader<proto::AstSymbolsResult>([](const auto& r) { return render_symbols(r); })},
  };
}

using Step = std::variant<std::string, std::size_t>;

// Every place in `v` (object members at any depth, array elements), as steps from the root.
void collect(const json::value& x, std::vector<Step> at, std::vector<std::vector<Step>>& out) {
  if (x.is_object()) {
    for (const auto& kv : x.get_object()) {
      auto p = at;
      p.emplace_back(std::string(kv.key()));
      out.push_back(p);
      collect(kv.value(), p, out);
    }
  } else if (x.is_array()) {
    for (std::size_t i = 0; i < x.get_array().size(); ++i) {
      auto p = at;
      p.emplace_back(i);
      out.push_back(p);
      collect(x.get_array()[i], p, out);
    }
  }
}

// The value at `p` in `root` and its path as the decoder names it ("result.hits[0].path").
json::value& at(json::value& root, const std::vector<Step>& p, std::size_t n, std::string* name) {
  json::value* cur = &root;
  *name = "result";
  for (std::size_t i = 0; i < n; ++i) {
    if (const auto* k = std::get_if<std::string>(&p[i])) {
      cur = &cur->as_object()[*k];
      *name += "." + *k;
    } else {
      const auto idx = std::get<std::size_t>(p[i]);
      cur = &cur->as_array()[idx];
      *name += "[" + std::to_string(idx) + "]";
    }
  }
  return *cur;
}

}  // namespace

TEST_CASE("complete replies decode and render", "[client][render]") {
  for (const auto& s : samples()) {
    INFO(s.name);
    const auto r = s.read(json::parse(s.json));
    CHECK_FALSE(r.error);
    CHECK_FALSE(r.rendered.out.empty());
  }
  auto search = [](const char* j) {
    return render_search(*decode_result<proto::CtxSearchResult>(json::parse(j), nullptr));
  };
  const auto out = search(kSearch).out;
  CHECK_THAT(out, Catch::Contains(" 1. pkg/a.py#f"));
  CHECK_THAT(out, Catch::Contains("pkg/a.py:1-3  score 1.50  ~12 tok"));
  CHECK_THAT(out, Catch::Contains("      f  name    tf=1      +0.500\n"));
  ClientError err;
  CHECK_THAT(render_get(*decode_result<proto::CtxGetResult>(json::parse(kGet), &err)).out,
             Catch::Contains("── used 10 of 2000 tokens; stop: complete"));
  const auto status =
      render_status(*decode_result<proto::StatusResult>(json::parse(kStatus), &err)).out;
  CHECK_THAT(status, Catch::Contains("memory       1.0 MiB RSS"));
  // The fixture's daemon speaks protocol 1.1: another build than this client's.
  CHECK_THAT(status, Catch::Contains("  note         this client is " + std::string(proto::kVersion) +
                                     " (protocol " + proto::protocol_version() + ")"));
  CHECK_THAT(status, Catch::Contains("`trifecta daemon restart` runs this one"));
  auto current = *decode_result<proto::StatusResult>(json::parse(kStatus), &err);
  current.protocol = proto::protocol_version();
  current.daemon_version = proto::kVersion;
  CHECK_THAT(render_status(current).out, !Catch::Contains("note"));
  CHECK_THAT(
      status,
      Catch::Contains("    abc  index ready    lsp COLD             2 requests     2.0 KiB  /r\n"));
  const auto ctx =
      render_ctx_status(*decode_result<proto::CtxStatusResult>(json::parse(kCtxStatus), &err)).out;
  CHECK_THAT(ctx, Catch::Contains("            binary: 1\n"));
  CHECK_THAT(ctx, Catch::Contains("  watcher   unavailable: inotify limit"));
  CHECK_THAT(ctx, Catch::Contains("  skipped   x.bin (binary)\n"));
  CHECK_THAT(ctx, !Catch::Contains("more"));  // the one skipped file is listed
  CHECK_THAT(ctx, Catch::Contains("  pack      fresh (git listing)"));
  // While the first build runs: no update time, no pack state yet.
  auto building = *decode_result<proto::CtxStatusResult>(json::parse(kCtxStatus), &err);
  building.status.built = false;
  building.status.last_update.clear();
  const auto first = render_ctx_status(building).out;
  CHECK_THAT(first, Catch::Contains(", last update none yet\n"));
  CHECK_THAT(first, Catch::Contains("  pack      none yet (git listing)"));
  // A long sample: 20 lines, then what the lines leave out.
  auto many = *decode_result<proto::CtxStatusResult>(json::parse(kCtxStatus), &err);
  many.status.files_skipped = 130;
  many.status.skip_reasons = {{"never_code", 129}, {"binary", 1}};
  for (int i = 0; i < 99; ++i) {
    auto f = many.status.skipped[0];
    f.path = "locale/" + std::to_string(i) + ".po";
    f.skip_reason = "never_code";
    many.status.skipped.push_back(f);
  }
  const auto long_ctx = render_ctx_status(many).out;
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = long_ctx.find("  skipped   ", at)) != std::string::npos; ++at)
    ++lines;
  CHECK(lines == 21);
  CHECK_THAT(long_ctx, Catch::Contains("  skipped   locale/18.po (never_code)\n"));
  CHECK_THAT(long_ctx, !Catch::Contains("locale/19.po"));
  CHECK_THAT(long_ctx,
             Catch::EndsWith("  skipped   … 110 more (counted by reason above; --json lists 100)\n"));
  // The index's warnings (a malformed _ctx/trifecta.json, the defaults used) are said, first.
  auto warned = *decode_result<proto::CtxStatusResult>(json::parse(kCtxStatus), &err);
  warned.status.warnings = {"_ctx/trifecta.json: incomplete JSON (using defaults)"};
  const auto warned_ctx = render_ctx_status(warned).out;
  CHECK_THAT(warned_ctx, Catch::StartsWith("index ready, generation 2, last update "
                                           "2026-01-01T00:00:00Z\n  warning   _ctx/trifecta.json: "
                                           "incomplete JSON (using defaults)\n  files "));
  CHECK_THAT(ctx, !Catch::Contains("warning"));
  // An empty map says why: the map outlines Python files.
  proto::CtxMapResult empty_map;
  empty_map.budget = 1024;
  CHECK(render_map(empty_map).out ==
        "── no Python files in the segment: the map outlines Python modules (a search finds the "
        "rest)\n");
  empty_map.path = "README.md";
  CHECK_THAT(render_map(empty_map).out, Catch::StartsWith("── no Python files at README.md: "));
  // ctx build: the build's own warnings, then the index's (the config's, as they are now).
  proto::CtxBuildResult built;
  built.build.files_indexed = 3;
  built.build.warnings = {"removed 1 index.bin.tmp-* file(s) left by an interrupted write"};
  built.status = warned.status;
  CHECK_THAT(render_build(built).out,
             Catch::Contains(" threads\nwarning: removed 1 index.bin.tmp-* file(s) left by an "
                             "interrupted write\nwarning: _ctx/trifecta.json: incomplete JSON "
                             "(using defaults)\ngeneration 2, "));
  built.build.warnings.clear();
  built.status.warnings.clear();
  CHECK_THAT(render_build(built).out, !Catch::Contains("warning"));
  const auto refs =
      render_locations(*decode_result<proto::LspReferencesResult>(json::parse(kReferences), &err),
                       "/nonexistent")
          .out;
  CHECK(refs == "# backend lsp (lsp READY)\na.py:1:5  \n(truncated)\n");
  const auto diag = render_diagnostics(*decode_result<proto::LspDiagnosticsResult>(
                                           json::parse(kDiagnostics), &err))
                        .out;
  CHECK(diag == "# backend ast (lsp COLD) — not ready\na.py:2:1: error: bad [E1]\n");
  const auto syms =
      render_symbols(*decode_result<proto::AstSymbolsResult>(json::parse(kSymbols), &err)).out;
  CHECK(syms == "# a.py — 1 symbols (ok)\n    1-2     function async f()\n");
}

TEST_CASE("every member removed from a reply: rendered, or named by the decoder, never thrown",
          "[client][render]") {
  for (const auto& s : samples()) {
    const json::value full = json::parse(s.json);
    std::vector<std::vector<Step>> places;
    collect(full, {}, places);
    for (const auto& p : places) {
      if (!std::holds_alternative<std::string>(p.back())) continue;  // members only
      json::value copy = full;
      std::string parent;
      auto& obj = at(copy, p, p.size() - 1, &parent).as_object();
      const auto& key = std::get<std::string>(p.back());
      obj.erase(key);
      const std::string removed = parent + "." + key;
      INFO(s.name << " without " << removed);
      Outcome r;
      REQUIRE_NOTHROW(r = s.read(copy));
      if (r.error) {
        // The field itself is named, and nothing was printed.
        CHECK(*r.error ==
              "malformed reply from trifectad: " + removed + ": missing required field");
        CHECK(r.rendered.out.empty());
      }
    }
  }
}

TEST_CASE("every field mistyped: the decoder names it, never thrown", "[client][render]") {
  for (const auto& s : samples()) {
    const json::value full = json::parse(s.json);
    std::vector<std::vector<Step>> places;
    collect(full, {}, places);
    for (const auto& p : places) {
      json::value copy = full;
      std::string name;
      json::value& v = at(copy, p, p.size(), &name);
      // A kind no member of that place accepts: a string for everything but strings.
      v = v.is_string() ? json::value(true) : json::value("x");
      INFO(s.name << " with " << name << " mistyped");
      Outcome r;
      REQUIRE_NOTHROW(r = s.read(copy));
      REQUIRE(r.error);
      CHECK_THAT(*r.error,
                 Catch::StartsWith("malformed reply from trifectad: " + name + ": expected"));
    }
  }
}

TEST_CASE("a missing or mistyped field is named with its path", "[client][render]") {
  ClientError err;
  auto search = json::parse(kSearch);
  search.at("hits").as_array()[0].as_object().erase("path");
  CHECK_FALSE(decode_result<proto::CtxSearchResult>(search, &err));
  CHECK(err.code == ClientErrc::kProtocol);
  CHECK(err.message ==
        "malformed reply from trifectad: result.hits[0].path: missing required field");

  auto validate = json::parse(kValidate);
  validate.as_object()["ok"] = "yes";
  CHECK_FALSE(decode_result<proto::CtxValidateResult>(validate, &err));
  CHECK(err.message == "malformed reply from trifectad: result.ok: expected a boolean");

  CHECK_FALSE(decode_result<proto::PingResult>(json::parse("[1]"), &err));
  CHECK(err.message == "malformed reply from trifectad: result: expected an object");
  CHECK_FALSE(decode_result<proto::StatusResult>(json::parse("null"), &err));
  CHECK(err.message == "malformed reply from trifectad: result: expected an object");
  auto get = json::parse(kGet);
  get.as_object()["chunks"] = json::object{};
  CHECK_FALSE(decode_result<proto::CtxGetResult>(get, &err));
  CHECK(err.message == "malformed reply from trifectad: result.chunks: expected an array");
}

TEST_CASE("ctx get: failed targets go to err and mark the answer failed", "[client][render]") {
  auto get = *decode_result<proto::CtxGetResult>(json::parse(kGet), nullptr);
  CHECK_FALSE(render_get(get).failed);
  get.errors.push_back({"x#y", "NOT_FOUND", "no such chunk"});
  const auto r = render_get(get);
  CHECK(r.failed);
  CHECK(r.err == "trifecta: x#y: NOT_FOUND: no such chunk\n");
  CHECK_THAT(r.out, Catch::Contains("def f():"));
  get.next = "c1";
  CHECK_THAT(render_get(get).out, Catch::EndsWith("stop: complete; continue with --cursor c1\n"));
}

TEST_CASE("no search results with a path filter suggest a directory glob", "[client][render]") {
  proto::CtxSearchResult empty;
  empty.reason = "no chunk matches";
  CHECK(render_search(empty).out == "no results: no chunk matches\n");
  CHECK_THAT(render_search(empty, "db").out, Catch::Contains("--path 'db/**'"));
  CHECK_THAT(render_search(empty, "pkg/db").out, Catch::Contains("--path 'pkg/db/**'"));
  CHECK_THAT(render_search(empty, "db/").out, !Catch::Contains("hint"));  // already the whole dir
  CHECK_THAT(render_search(empty, "*.py").out, !Catch::Contains("hint"));
  CHECK_THAT(render_search(empty, "db/**").out, !Catch::Contains("hint"));
  CHECK_THAT(render_search(empty).out, !Catch::Contains("hint"));
  empty.did_you_mean = std::vector<std::string>{"query", "queue"};
  CHECK_THAT(render_search(empty).out, Catch::Contains("did you mean: query queue\n"));
}

TEST_CASE("search explain rows line up across hits whatever the terms' length and characters",
          "[client][render]") {
  proto::CtxSearchResult r;
  const auto hit = [](std::string id, std::vector<proto::TermContribution> rows) {
    proto::SearchHit h;
    h.id = h.path = std::move(id);
    h.explain = std::move(rows);
    return h;
  };
  const auto row = [](std::string term, std::string field, std::int64_t tf, double score) {
    proto::TermContribution t;
    t.term = std::move(term);
    t.field = std::move(field);
    t.tf = tf;
    t.score = score;
    return t;
  };
  r.hits.push_back(hit(
      "a.py", {row("url~urls", "path", 1, 1.059),
               row("resolved~resolve~resolver~resolving~resolves~resolvable", "name", 12, 5.871),
               row("url+patterns\u2192urlpatterns", "doc", 4, 6.629)}));
  r.hits.push_back(hit("b.py", {row("module-name\u00d71.4", "signal", 0, 12.077),
                                row("same-file#2\u00d70.600", "signal", 0, -16.894)}));
  const std::string out = render_search(r).out;
  // The term column is as wide as the page's widest term, up to 36 columns; a longer one is cut
  // with an ellipsis (--json keeps it whole). Columns are counted in code points: `→` and `×`
  // are three and two bytes but one column.
  CHECK_THAT(out, Catch::Contains(
                      "      url~urls                              path    tf=1      +1.059\n"));
  CHECK_THAT(out,
             Catch::Contains(
                 "      resolved~resolve~resolver~resolving\u2026  name    tf=12     +5.871\n"));
  CHECK_THAT(out,
             Catch::Contains(
                 "      url+patterns\u2192urlpatterns              doc     tf=4      +6.629\n"));
  CHECK_THAT(out,
             Catch::Contains(
                 "      module-name\u00d71.4                       signal           +12.077\n"));
  CHECK_THAT(out,
             Catch::Contains(
                 "      same-file#2\u00d70.600                     signal           -16.894\n"));
  // Every share ends in the same column.
  std::size_t ends = 0, column = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("      ")) continue;
    std::size_t cols = 0;
    for (const char c : line) cols += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    if (ends++ == 0) column = cols;
    CHECK(cols == column);
  }
  CHECK(ends == 5);
}

TEST_CASE("segment close says whether a segment was open", "[client][render]") {
  proto::SegmentCloseResult r;
  CHECK(render_segment_close(r, "/r").out == "no open segment for /r\n");
  r.closed = true;
  r.segment_id = "abc";
  CHECK(render_segment_close(r, "/r").out == "closed segment abc (/r)\n");
}

TEST_CASE("hover of a symbol defined outside the segment says so in text", "[client][render]") {
  proto::LspHoverResult h;
  h.backend = "lsp";
  h.contents = "(function) def helper() -> int";
  CHECK_THAT(render_hover(h).out, !Catch::Contains("external"));
  h.external = true;
  h.definition_path = "/elsewhere/lib.py";
  CHECK_THAT(render_hover(h).out,
             Catch::Contains("# external: defined outside the segment, in /elsewhere/lib.py\n"));
}

TEST_CASE("error replies render their SelectorErrorData, and bad details do not hide the error",
          "[client][render]") {
  proto::RpcError e;
  e.code = proto::ErrorCode::kSymbolNotFound;
  e.message = "no symbol x";
  proto::SelectorErrorData d;
  d.name = "SYMBOL_NOT_FOUND";
  d.suggestions = {"xy", "xz"};
  e.data = json::value_from(d).as_object();
  CHECK(render_error(e) == "trifecta: SYMBOL_NOT_FOUND: no symbol x\ndid you mean:\n  xy\n  xz\n");

  proto::SymbolMatch m;
  m.file = "a.py";
  m.line = 1;
  m.end_line = 2;
  m.kind = "function";
  m.qualname = "x";
  m.conditional = true;
  d.suggestions.clear();
  d.candidates = {m};
  d.name = "AMBIGUOUS_SYMBOL";
  e.data = json::value_from(d).as_object();
  CHECK(render_error(e) ==
        "trifecta: AMBIGUOUS_SYMBOL: no symbol x\ncandidates:\n  a.py:1-2  function x  "
        "(conditional)\n");

  e.data["candidates"].as_array()[0].as_object().erase("line");
  const auto bad = render_error(e);
  CHECK_THAT(bad, Catch::StartsWith("trifecta: AMBIGUOUS_SYMBOL: no symbol x\n"));
  CHECK_THAT(bad, Catch::Contains("error.data.candidates[0].line: missing required field"));

  // Errors without selector data: the name and message only; a mistyped name is the generic one.
  e.data = {{"name", "INTERNAL"}};
  CHECK(render_error(e) == "trifecta: INTERNAL: no symbol x\n");
  e.data = {{"name", 5}};
  CHECK(render_error(e) == "trifecta: ERROR: no symbol x\n");
}

TEST_CASE("every catalog method has a CLI command, or a reason why not", "[client][cli]") {
  namespace cli = trifecta::cli;
  auto has_row = [](std::string_view method) {
    for (const auto& c : cli::commands())
      if (c.method == method) return true;
    return false;
  };
  auto not_exposed = [](std::string_view method) {
    for (const auto& n : cli::not_exposed())
      if (n.method == method) return true;
    return false;
  };
  for (const auto& m : proto::catalog()) {
    INFO(m.name);
    if (m.debug_only) {
      CHECK_FALSE(has_row(m.name));  // debug methods stay out of the CLI
      continue;
    }
    CHECK(has_row(m.name) != not_exposed(m.name));  // exactly one of the two
  }
  for (const auto& c : cli::commands()) {
    INFO(c.group << " " << c.name);
    if (c.method.empty()) continue;  // a local command (doctor, setup-pyright, completion, man)
    CHECK(proto::find_method(c.method) != nullptr);  // every row names a real method
  }
  for (const auto& n : cli::not_exposed()) {
    INFO(n.method);
    CHECK(proto::find_method(n.method) != nullptr);
    CHECK(std::string_view(n.reason).size() > 10);
  }
}

TEST_CASE("the reply timeout: --timeout when given, else 30 s plus the command's --wait",
          "[client][cli]") {
  namespace cli = trifecta::cli;
  using std::chrono::milliseconds;
  // Parsed by the real command tree, so `timeout_given` comes from the option itself.
  const auto parsed = parse_cli;
  CHECK(cli::reply_timeout(parsed({"ping"})) == milliseconds(30'000));
  CHECK(cli::reply_timeout(parsed({"hover", "a.py:1:1"})) == milliseconds(30'000));
  // The daemon may hold the request up to 60 s for Pyright: the CLI waits that long and more.
  CHECK(cli::reply_timeout(parsed({"hover", "a.py:1:1", "--wait", "60000"})) ==
        milliseconds(90'000));
  CHECK(cli::reply_timeout(parsed({"def", "--wait", "5000", "a.py:1:1"})) == milliseconds(35'000));
  // An explicit --timeout is the user's word, even the default's value or below the wait.
  CHECK(cli::reply_timeout(parsed({"--timeout", "2", "hover", "a.py:1:1", "--wait", "60000"})) ==
        milliseconds(2'000));
  CHECK(cli::reply_timeout(parsed({"hover", "a.py:1:1", "--wait", "9000", "--timeout", "30"})) ==
        milliseconds(30'000));
  CHECK(cli::reply_timeout(parsed({"ping", "--timeout", "0.5"})) == milliseconds(500));
}

TEST_CASE("query words that are not UTF-8 are a usage error naming the byte", "[client][cli]") {
  namespace cli = trifecta::cli;
  // The real command tree; before, a Latin-1 `caf\xe9` was sent as the text of its escape and
  // searched as the words `caf` and `e9`.
  const auto parse = parse_cli;
  CHECK_THROWS_WITH(parse({"ctx", "search", "caf\xe9", "x"}),
                    Catch::Contains("not UTF-8 text (byte 0xE9 at offset 3)"));
  CHECK_THROWS_WITH(parse({"ctx", "get", "a.py#f", "-q", "\xff"}),
                    Catch::Contains("not UTF-8 text (byte 0xFF at offset 0)"));
  CHECK_THROWS_WITH(parse({"sym", "--find", "a\xc3"}), Catch::Contains("byte 0xC3 at offset 1"));
  CHECK_THROWS_AS(parse({"ctx", "search", "caf\xe9"}), CLI::ValidationError);
  // UTF-8 passes whole, whatever the script.
  CHECK(parse({"ctx", "search", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac"}).words.size() == 2);
  CHECK(parse({"sym", "--find", "na\xc3\xafve"}).find == "na\xc3\xafve");
}

TEST_CASE("segment discovery: the flag, else the nearest work tree or opened segment, else the cwd",
          "[client][segment]") {
  trifecta::test::TempDir tmp;
  const fs::path root = fs::canonical(tmp.path());
  fs::create_directories(root / "repo" / ".git");
  fs::create_directories(root / "repo" / "src" / "deep");
  fs::create_directories(root / "plain" / "dir");
  CHECK(resolve_segment("", root / "repo" / "src" / "deep") == (root / "repo").string());
  CHECK(resolve_segment("", root / "repo") == (root / "repo").string());
  CHECK(resolve_segment("", root / "plain" / "dir") == (root / "plain" / "dir").string());
  CHECK(resolve_segment("../other", root / "repo" / "src") == (root / "repo" / "other").string());
  CHECK(resolve_segment("/abs/seg/", root) == "/abs/seg/");
  // A tree outside git that trifectad has opened (it keeps `_ctx` there) is found from any
  // folder in it: one segment, not one per folder a command ran in. A work tree comes first,
  // nested in an opened tree or with a segment once opened below its root; a file named `_ctx`
  // is no marker.
  fs::create_directories(root / "plain" / "_ctx");
  CHECK(resolve_segment("", root / "plain" / "dir") == (root / "plain").string());
  fs::create_directories(root / "repo" / "src" / "_ctx");
  CHECK(resolve_segment("", root / "repo" / "src" / "deep") == (root / "repo").string());
  fs::create_directories(root / "plain" / "dir" / "sub" / ".git");
  fs::create_directories(root / "plain" / "dir" / "sub" / "pkg");
  CHECK(resolve_segment("", root / "plain" / "dir" / "sub" / "pkg") == (root / "plain" / "dir" / "sub").string());
  fs::create_directories(root / "loose" / "in");
  trifecta::test::write_text(root / "loose" / "_ctx", "");
  CHECK(resolve_segment("", root / "loose" / "in") == (root / "loose" / "in").string());
  // The rule that chose each (doctor prints it).
  CHECK(choose_segment("", root / "repo" / "src" / "deep").source == SegmentSource::kWorkTree);
  CHECK(choose_segment("", root / "plain" / "dir").source == SegmentSource::kOpened);
  CHECK(choose_segment("", root / "loose" / "in").source == SegmentSource::kCwd);
  CHECK(choose_segment("x", root).source == SegmentSource::kFlag);
}

TEST_CASE("segment discovery: neither the filesystem root nor the home directory by the last fallback",
          "[client][segment]") {
  trifecta::test::TempDir tmp;
  const fs::path home = fs::canonical(tmp.path());
  fs::create_directories(home / "proj" / "pkg");
  fs::create_directories(home / "dots");
  const char* saved = std::getenv("HOME");
  const std::string old_home = saved ? saved : "";
  ::setenv("HOME", (home.string() + "/").c_str(), 1);  // compared canonically
  CHECK(too_broad_for_segment(home));
  CHECK(too_broad_for_segment("/"));
  CHECK_FALSE(too_broad_for_segment(home / "proj"));
  const SegmentChoice at_home = choose_segment("", home);
  CHECK(at_home.source == SegmentSource::kNone);
  CHECK(at_home.root == home.string());
  CHECK(choose_segment("", "/").source == SegmentSource::kNone);
  CHECK_THAT(no_segment_message(home), Catch::Contains("your home directory") && Catch::Contains("-s DIR"));
  CHECK_THAT(no_segment_message("/"), Catch::StartsWith("/ is the filesystem root"));
  // A folder below it is a project of its own; -s, a work tree or an opened segment at home stand.
  CHECK(choose_segment("", home / "proj" / "pkg").source == SegmentSource::kCwd);
  CHECK(choose_segment(".", home).source == SegmentSource::kFlag);
  fs::create_directories(home / "_ctx");
  CHECK(choose_segment("", home).source == SegmentSource::kOpened);
  fs::create_directories(home / ".git");
  CHECK(choose_segment("", home / "dots").source == SegmentSource::kWorkTree);
  if (saved) {
    ::setenv("HOME", old_home.c_str(), 1);
  } else {
    ::unsetenv("HOME");
  }
}

TEST_CASE("position arguments", "[client][segment]") {
  proto::LspPositionParams p;
  REQUIRE(position_params("no/such/file.py:12:5", p));
  CHECK(p.path == "no/such/file.py");
  CHECK(p.line == 12);
  CHECK(p.column == 5);
  CHECK(p.uri.empty());
  proto::LspPositionParams u;
  REQUIRE(position_params("sym://python/a/b", u));
  CHECK(u.uri == "sym://python/a/b");
  CHECK(u.path.empty());
  proto::LspPositionParams bad;
  CHECK_FALSE(position_params("file.py:12", bad));
  CHECK_FALSE(position_params("file.py:x:5", bad));
  CHECK_FALSE(position_params("file.py:1:5z", bad));
  CHECK(bad.path.empty());
  CHECK(bad.line == 0);
}
