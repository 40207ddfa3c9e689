// Spec of the telemetry schema (docs/telemetry/*.schema.json): it agrees with the event table of
// docs/telemetry_event_schema.md and with the protocol catalog, the doc's examples satisfy it, it
// refuses the shapes issue 14 found wrong, and what the library writes satisfies it.
#include "../support/telemetry_schema.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../support/temp_dir.hpp"
#include "lsp/state.hpp"
#include "telemetry/sink.hpp"
#include "telemetry/summary.hpp"
#include "trifecta/proto/catalog.hpp"
#include "util/clock.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
using trifecta::test::event_schema;
using trifecta::test::last_run_schema;

namespace {

const fs::path kDocs = TRIFECTA_DOCS_DIR;

std::string section(const std::string& doc, const std::string& heading) {
  const auto start = doc.find(heading);
  REQUIRE(start != std::string::npos);
  const auto end = doc.find("\n## ", start + heading.size());
  return doc.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Cells of a Markdown table row; `\|` inside a cell is not a separator.
std::vector<std::string> cells(const std::string& row) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '|' && row[i - 1] != '\\') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += row[i];
    }
  }
  return out;
}

std::vector<std::string> backticked(const std::string& cell) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = cell.find('`', at)) != std::string::npos) {
    const auto end = cell.find('`', at + 1);
    if (end == std::string::npos) break;
    out.push_back(cell.substr(at + 1, end - at - 1));
    at = end + 1;
  }
  return out;
}

// What a doc cell says about one part (args/result/x): the keys, optional ones marked.
struct Fields {
  bool specified = true;  // false: prose without `{...}` (the schema must not list keys either)
  std::map<std::string, bool> keys;  // name -> required
  bool operator==(const Fields& o) const { return specified == o.specified && keys == o.keys; }
};

std::ostream& operator<<(std::ostream& os, const Fields& f) {
  if (!f.specified) return os << "(unspecified)";
  os << "{";
  for (const auto& [k, req] : f.keys) os << k << (req ? "" : "?") << " ";
  return os << "}";
}

Fields doc_fields(std::string cell) {
  Fields f;
  const auto open = cell.find('{');
  const bool blank = cell.find_first_not_of(" \t") == std::string::npos;
  if (open == std::string::npos) {
    f.specified = blank;
    return f;
  }
  const auto close = cell.find('}', open);
  std::string inner = cell.substr(open + 1, close - open - 1);
  std::size_t pos = 0;
  while (pos <= inner.size()) {
    auto comma = inner.find(',', pos);
    if (comma == std::string::npos) comma = inner.size();
    std::string item = inner.substr(pos, comma - pos);
    const auto b = item.find_first_not_of(' ');
    if (b != std::string::npos) {
      std::size_t e = b;
      while (e < item.size() &&
             (std::isalnum(static_cast<unsigned char>(item[e])) || item[e] == '_'))
        ++e;
      f.keys[item.substr(b, e - b)] = !(e < item.size() && item[e] == '?');
    }
    pos = comma + 1;
  }
  return f;
}

Fields schema_fields(const json::object& part) {
  Fields f;
  const auto* props = part.if_contains("properties");
  if (!props) {
    f.specified = false;
    return f;
  }
  std::set<std::string> required;
  if (const auto* r = part.if_contains("required")) {
    for (const auto& k : r->as_array()) required.insert(std::string(k.as_string()));
  }
  for (const auto& kv : props->as_object())
    f.keys[std::string(kv.key())] = required.count(std::string(kv.key())) > 0;
  return f;
}

json::object defs() {
  return event_schema().schema().at("$defs").as_object();
}

json::object valid_spawn() {
  return json::parse(R"({"ts":"2026-11-25T17:17:24.300000+00:00","run_id":"run_1795627042_3afbfd20",
    "segment_id":"3f9a2c1e","cmd":"lsp.spawn","args":{"pyright_binary":"pyright-langserver"},
    "result":{"subprocess_pid":12345,"status":"ok"},"timing_ms":0.0,"tokens":{"in":9,"out":10},
    "warnings":[],"x":{"lsp_state":"WARMING"}})")
      .as_object();
}

bool ok(const json::value& v) {
  return event_schema().validate(v).empty();
}

}  // namespace

TEST_CASE("the doc's event table and events.schema.json name the same events and fields",
          "[schema][docs]") {
  const std::string doc = trifecta::test::read_text(kDocs / "telemetry_event_schema.md");
  std::string table = section(doc, "## Event types");
  table = table.substr(0, table.find("\n### "));  // the event table, not the seed-names table
  const json::object d = defs();
  std::set<std::string> documented;
  std::istringstream lines(table);
  std::string row;
  int rows = 0;
  while (std::getline(lines, row)) {
    if (row.rfind("| ", 0) != 0 || row.rfind("| cmd", 0) == 0) continue;
    const auto c = cells(row);
    REQUIRE(c.size() == 5);
    std::vector<std::string> cmds = backticked(c[0]);
    if (cmds.empty()) cmds = {"request"};  // *any method*
    ++rows;
    for (const auto& cmd : cmds) {
      INFO("cmd " << cmd);
      documented.insert(cmd);
      REQUIRE(d.contains(cmd));
      const auto& props = d.at(cmd).at("properties").as_object();
      const char* parts[] = {"args", "result", "x"};
      for (int i = 0; i < 3; ++i) {
        INFO("part " << parts[i] << ": doc cell `" << c[2 + i] << "`");
        CHECK(doc_fields(c[2 + i]) == schema_fields(props.at(parts[i]).as_object()));
      }
    }
  }
  CHECK(rows >= 15);
  std::set<std::string> in_schema;
  for (const auto& kv : d) in_schema.insert(std::string(kv.key()));
  CHECK(documented == in_schema);
}

TEST_CASE("the schema's request events are the protocol catalog's methods", "[schema][proto]") {
  std::set<std::string> methods;
  for (const auto& m : trifecta::proto::catalog()) methods.insert(std::string(m.name));
  methods.erase(
      "segment.close");  // params.segment is not opened; `segment.close` is the service's event
  std::set<std::string> in_schema;
  const json::object d = defs();
  for (const auto& v : d.at("request").at("properties").at("cmd").at("enum").as_array()) {
    in_schema.insert(std::string(v.as_string()));
  }
  CHECK(in_schema == methods);
}

TEST_CASE("every example in docs/telemetry_event_schema.md satisfies the schemas",
          "[schema][docs]") {
  const std::string doc = trifecta::test::read_text(kDocs / "telemetry_event_schema.md");
  const std::string table = section(doc, "## Event types");
  const auto block = table.find("```json\n");
  REQUIRE(block != std::string::npos);
  std::istringstream lines(table.substr(block + 8, table.find("```", block + 8) - block - 8));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    ++n;
    INFO(line);
    const auto errors = event_schema().validate(json::parse(line));
    CHECK(errors.empty());
    for (const auto& e : errors) UNSCOPED_INFO(e);
  }
  CHECK(n >= 8);
  const std::string lr = section(doc, "## `last_run.json`");
  const auto lb = lr.find("```json\n");
  REQUIRE(lb != std::string::npos);
  const auto example = json::parse(lr.substr(lb + 8, lr.find("```", lb + 8) - lb - 8));
  const auto errors = last_run_schema().validate(example);
  for (const auto& e : errors) UNSCOPED_INFO(e);
  CHECK(errors.empty());
}

TEST_CASE("the schema refuses the shapes issue 14 found wrong", "[schema]") {
  REQUIRE(ok(valid_spawn()));

  json::object old_spawn = valid_spawn();  // pyright_binary in result, no x.lsp_state
  old_spawn["args"] = json::object{};
  old_spawn["result"].as_object()["pyright_binary"] = "pyright-langserver";
  old_spawn["x"] = json::object{};
  CHECK_FALSE(ok(old_spawn));

  json::object req = valid_spawn();
  req["cmd"] = "lsp.request";
  req["args"] =
      json::object{{"method", "definition"}, {"file", "src/app.py"}, {"line", 4}, {"col", 2}};
  req["result"] = json::object{{"resolved", true}, {"fallback", false}};
  req["x"] = json::object{};
  CHECK(ok(req));
  json::object long_method = req;
  long_method["args"].as_object()["method"] = "textDocument/definition";
  CHECK_FALSE(ok(long_method));
  json::object no_fallback = req;
  no_fallback["result"].as_object().erase("fallback");
  CHECK_FALSE(ok(no_fallback));
  json::object absolute = req;
  absolute["args"].as_object()["file"] = "/home/user/src/app.py";
  CHECK_FALSE(ok(absolute));

  json::object read = valid_spawn();
  read["cmd"] = "file.read";
  read["args"] = json::object{{"file", "a.py"}, {"mode", "raw"}};
  read["result"] = json::object{{"bytes", 10}, {"status", "ok"}};
  read["x"] = json::object{{"disclosure_mode", "raw"}, {"bytes_read", 10}};
  CHECK(ok(read));
  read["result"].as_object().erase("status");
  CHECK_FALSE(ok(read));

  // The envelope: all ten keys, nothing else, typed.
  json::object missing = valid_spawn();
  missing.erase("tokens");
  CHECK_FALSE(ok(missing));
  json::object extra = valid_spawn();
  extra["segment"] = "/abs/path";
  CHECK_FALSE(ok(extra));
  json::object bad_ts = valid_spawn();
  bad_ts["ts"] = "yesterday";
  CHECK_FALSE(ok(bad_ts));

  // Request events: a catalog method; the method's own fields once it succeeded.
  json::object search = valid_spawn();
  search["cmd"] = "ctx.search";
  search["args"] = json::object{{"query", "q"}};
  search["result"] = json::object{{"status", "error"}, {"error", "INVALID_PARAMS"}};
  search["x"] = json::object{{"bytes_in", 10}, {"bytes_out", 20}};
  CHECK(ok(search));
  search["result"] = json::object{{"status", "ok"}};
  CHECK_FALSE(ok(search));  // ok without hits, returned_ids, bytes_read ...
  json::object unknown = search;
  unknown["cmd"] = "no.such.method";
  unknown["result"] = json::object{{"status", "ok"}};
  CHECK_FALSE(ok(unknown));
}

TEST_CASE("what the library writes satisfies the schemas", "[schema]") {
  trifecta::test::TempDir tmp;
  namespace telemetry = trifecta::core::telemetry;
  namespace lsp = trifecta::core::lsp;
  telemetry::SinkOptions so;
  so.dir_override = tmp.path() / "telemetry";
  {
    telemetry::Sink sink(so);
    fs::create_directories(tmp.path() / "seg");
    auto ch = sink.open_segment(fs::canonical(tmp.path() / "seg"));
    const auto t0 = trifecta::core::SteadyClock::now();
    lsp::record_transition(
        ch, lsp::Transition{lsp::State::kCold, lsp::State::kWarming, "start", t0, {}});
    lsp::record_transition(ch, lsp::Transition{lsp::State::kWarming, lsp::State::kReady, "ready",
                                               t0 + std::chrono::milliseconds(5), t0});
    lsp::record_fallback(ch, "lsp.definition", "lsp_not_ready", lsp::State::kWarming);
    ch.incr("lsp_spawn_count");
    ch.set_pack_state(json::object{{"pack_sha", "abc"},
                                   {"pack_mtime", "2026-11-25T17:17:20.000000+00:00"},
                                   {"stale_detected", true}});
  }
  const auto checked = trifecta::test::check_telemetry_tree(tmp.path());
  CHECK(checked.events == 3);
  CHECK(checked.summaries == 1);
  CHECK(checked.violations == 0);

  // And a summary missing a section is caught.
  auto doc = telemetry::RunStats{}.build_last_run("run_1795627042_3afbfd20",
                                                  "2026-11-25T17:17:20.000000+00:00", {});
  CHECK(last_run_schema().validate(doc).empty());
  doc.erase("lsp");
  CHECK_FALSE(last_run_schema().validate(doc).empty());
}
