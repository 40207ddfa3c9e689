// Integration spec of the wire contract: one real request per method against a real trifectad
// (`--no-lsp`, so lsp.* answer from the AST and the replies are deterministic) on a copy of
// tests/fixtures/pyproject_small, compared with the goldens in tests/golden/wire/ after
// normalisation (tests/support/wire_golden.hpp says what is normalised). Selector errors are
// pinned too (code, message, data). TRIFECTA_UPDATE_GOLDEN=1 rewrites the goldens.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <fstream>
#include <set>

#include "../support/process.hpp"
#include "../support/temp_dir.hpp"
#include "../support/wire_golden.hpp"
#include "lang/python/pyright.hpp"
#include "trifecta/proto/protocol.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

const fs::path kWireDir = TRIFECTA_WIRE_GOLDEN_DIR;

struct Exchange {
  std::string file;  // golden file name without ".json"
  std::string method;
  json::object params;  // without segment
  json::object golden;  // {method, params, result|error} after normalisation
};

class Wire {
 public:
  Wire(const DaemonProcess& d, std::string root) : client_(d.socket()), root_(std::move(root)), socket_(d.socket().string()) {
    REQUIRE(client_.connected());
  }

  Exchange call(std::string file, std::string method, json::object params, bool with_segment = true) {
    json::object sent = params;
    if (with_segment) sent["segment"] = root_;
    const std::string line =
        json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", ++id_}, {"method", method}, {"params", sent}}) + "\n";
    REQUIRE(client_.send(line));
    json::value v;
    do {  // progress notifications (no id) may come first
      auto reply = client_.line(60s);
      REQUIRE(reply);
      v = json::parse(*reply);
    } while (!v.as_object().contains("id"));
    REQUIRE(v.at("id").as_int64() == id_);
    json::object g{{"method", method}, {"params", params}};
    if (const auto* r = v.as_object().if_contains("result")) g["result"] = *r;
    if (const auto* e = v.as_object().if_contains("error")) g["error"] = *e;
    json::value gv = std::move(g);
    normalise_wire(gv, root_, socket_);
    return Exchange{std::move(file), std::move(method), std::move(params), std::move(gv.as_object())};
  }

 private:
  RawClient client_;
  std::string root_, socket_;
  std::int64_t id_ = 0;
};

// The requests, in an order that keeps every reply deterministic (the index is built first by
// ctx.build; cache hits follow from the order).
std::vector<Exchange> capture(const DaemonProcess& d, const std::string& root) {
  Wire w(d, root);
  std::vector<Exchange> out;
  out.push_back(w.call("hello", "hello",
                       json::object{{"client_name", "wire-golden"}, {"client_version", "0"}, {"protocol", "1.1"}},
                       false));
  out.push_back(w.call("ping", "ping", {}, false));
  out.push_back(w.call("debug.sleep", "debug.sleep", json::object{{"ms", 1}}, false));
  out.push_back(w.call("ctx.build", "ctx.build", json::object{{"rebuild", false}}));
  out.push_back(w.call("ctx.status", "ctx.status", {}));
  out.push_back(w.call("ctx.search", "ctx.search",
                       json::object{{"query", "make user"}, {"limit", 3}, {"path", ""}, {"kind", ""},
                                    {"explain", true}, {"wait", true}}));
  out.push_back(w.call("ctx.search.no_hits", "ctx.search",
                       json::object{{"query", "usr"}, {"limit", 10}, {"path", ""}, {"kind", ""},
                                    {"explain", false}, {"wait", true}}));
  const std::string first_id(out[5].golden.at("result").at("hits").as_array().at(0).at("id").as_string());
  out.push_back(w.call("ctx.get", "ctx.get",
                       json::object{{"ids", json::array{json::value(first_id)}},
                                    {"uris", json::array{"sym://python/pkg.models/User", "sym://python/pkg.nope/X"}},
                                    {"mode", "excerpt"}, {"budget", 2000}, {"max_chunks", 20}, {"query", ""},
                                    {"cursor", ""}, {"wait", true}}));
  out.push_back(w.call("ctx.validate", "ctx.validate", {}));
  out.push_back(w.call("ctx.map", "ctx.map", json::object{{"path", "pkg"}, {"budget", 300}, {"wait", true}}));
  out.push_back(w.call("ast.skeleton", "ast.skeleton",
                       json::object{{"path", "pkg/models.py"}, {"format", "both"}, {"line_numbers", true}}));
  out.push_back(w.call("ast.symbols", "ast.symbols", json::object{{"path", "pkg/models.py"}}));
  out.push_back(w.call("sym.resolve", "sym.resolve", json::object{{"uri", "sym://python/pkg.models/User"}}));
  out.push_back(w.call("sym.resolve.not_found", "sym.resolve", json::object{{"uri", "sym://python/pkg.models/Usr"}}));
  out.push_back(w.call("sym.resolve.ambiguous", "sym.resolve", json::object{{"uri", "sym://python/pkg.dup/pick"}}));
  out.push_back(w.call("sym.resolve.invalid_uri", "sym.resolve", json::object{{"uri", "sym://cobol/x"}}));
  out.push_back(w.call("sym.search", "sym.search",
                       json::object{{"query", "usr"}, {"mode", "fuzzy"}, {"kinds", json::array{}}, {"limit", 3}}));
  out.push_back(w.call("lsp.status", "lsp.status", {}));
  const json::object pos{{"path", "pkg/service.py"}, {"uri", ""}, {"line", 8},
                         {"column", 12}, {"include_declaration", true}, {"wait_ready_ms", 0},
                         {"confirmed_only", false}};
  out.push_back(w.call("lsp.definition", "lsp.definition", pos));
  out.push_back(w.call("lsp.hover", "lsp.hover", pos));
  json::object refs = pos;
  refs["path"] = "pkg/models.py";
  refs["line"] = 17;
  refs["column"] = 5;
  out.push_back(w.call("lsp.references", "lsp.references", refs));
  json::object calls = pos;
  calls["direction"] = "both";
  calls["depth"] = 1;
  out.push_back(w.call("lsp.calls", "lsp.calls", calls));
  out.push_back(w.call("lsp.diagnostics", "lsp.diagnostics",
                       json::object{{"path", "pkg/broken.py"}, {"uri", ""}, {"line", 0}, {"column", 0},
                                    {"include_declaration", true}, {"wait_ready_ms", 0},
                                    {"confirmed_only", false}}));
  out.push_back(w.call("status", "status", {}, false));
  // segment.close names its segment as its own param (the dispatcher does not open it).
  out.push_back(w.call("segment.close", "segment.close", json::object{{"segment", root}}, false));
  out.push_back(w.call("shutdown", "shutdown", {}, false));
  return out;
}

}  // namespace

TEST_CASE("every method's reply matches its wire golden", "[wire][golden][daemon]") {
  DaemonProcess d({"--no-lsp"});
  TempDir tmp;
  fs::copy(TRIFECTA_FIXTURES_DIR "/pyproject_small", tmp.path() / "proj", fs::copy_options::recursive);
  const fs::path root = fs::canonical(tmp.path() / "proj");
  // Extra files: an ambiguous symbol (two conditional definitions) and a syntax error.
  write_text(root / "pkg" / "dup.py", "import sys\n\nif sys.platform == 'win32':\n    def pick():\n        return 1\nelse:\n    def pick():\n        return 2\n");
  write_text(root / "pkg" / "broken.py", "def oops(:\n    pass\n");

  const auto exchanges = capture(d, root.string());
  std::set<std::string> methods;
  for (const auto& x : exchanges) {
    methods.insert(x.method);
    const fs::path file = kWireDir / (x.file + ".json");
    const std::string got = pretty_json(x.golden);
    if (update_golden()) {
      write_text(file, got);
      continue;
    }
    INFO("golden " << file << " (TRIFECTA_UPDATE_GOLDEN=1 rewrites it)");
    REQUIRE(fs::exists(file));
    // Compared as JSON values (key order is not part of the contract); the text shows the diff.
    const bool same = json::parse(read_text(file)) == json::value(x.golden);
    INFO(got);
    CHECK(same);
  }
  CHECK(methods.size() == 22);
}

TEST_CASE("every method's live reply decodes into its typed result", "[wire][proto][daemon]") {
  DaemonProcess d({"--no-lsp"});
  TempDir tmp;
  fs::copy(TRIFECTA_FIXTURES_DIR "/pyproject_small", tmp.path() / "proj", fs::copy_options::recursive);
  const fs::path root = fs::canonical(tmp.path() / "proj");
  write_text(root / "pkg" / "dup.py", "import sys\n\nif sys.platform == 'win32':\n    def pick():\n        return 1\nelse:\n    def pick():\n        return 2\n");
  write_text(root / "pkg" / "broken.py", "def oops(:\n    pass\n");
  std::set<std::string> decoded;
  for (const auto& x : capture(d, root.string())) {
    INFO(x.file);
    const auto* row = trifecta::proto::find_method(x.method);
    REQUIRE(row);
    // Params as sent decode into the method's params type too.
    REQUIRE(row->check_params);
    CHECK(row->check_params(x.params) == std::nullopt);
    if (const auto* r = x.golden.if_contains("result")) {
      const auto err = row->check_result(*r);
      CHECK(err == std::nullopt);
      decoded.insert(x.method);
    } else {
      trifecta::proto::SelectorErrorData data;
      CHECK(trifecta::proto::decode(x.golden.at("error").at("data"), data, "error.data") == std::nullopt);
    }
  }
  CHECK(decoded.size() == 22);
}

TEST_CASE("hello's capabilities are exactly the catalog's methods", "[wire][catalog][daemon]") {
  // With --enable-debug-methods (DaemonProcess always passes it) every catalog row is bound.
  DaemonProcess d({"--no-lsp"});
  RawClient c(d.socket());
  REQUIRE(c.send(R"({"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":"1.1"}})" "\n"));
  const auto line = c.line();
  REQUIRE(line);
  trifecta::proto::HelloResult hello;
  REQUIRE(trifecta::proto::decode(json::parse(*line).at("result"), hello) == std::nullopt);
  std::set<std::string> served(hello.capabilities.begin(), hello.capabilities.end());
  std::set<std::string> listed;
  for (const auto& m : trifecta::proto::catalog()) listed.insert(std::string(m.name));
  CHECK(served == listed);
}

TEST_CASE("Pyright's answers (backend lsp) decode into the typed lsp results", "[wire][proto][daemon][pyright]") {
  auto server = trifecta::core::lang::python::discover_server(trifecta::core::lang::python::DiscoveryInputs::from_env());
  if (!server || ::system("node --version > /dev/null 2>&1") != 0) {
    WARN("skipped: no language server on this machine");
    return;
  }
  DaemonProcess d;
  TempDir tmp;
  fs::copy(TRIFECTA_FIXTURES_DIR "/pyproject_small", tmp.path() / "proj", fs::copy_options::recursive);
  const fs::path root = fs::canonical(tmp.path() / "proj");
  Wire w(d, root.string());
  const json::object pos{{"path", "pkg/service.py"}, {"line", 8}, {"column", 12}, {"wait_ready_ms", 60000}};
  for (const char* m : {"lsp.definition", "lsp.hover", "lsp.references", "lsp.diagnostics", "lsp.status"}) {
    INFO(m);
    const Exchange x = w.call(m, m, std::string(m) == "lsp.status" ? json::object{} : pos);
    REQUIRE(x.golden.contains("result"));
    const auto* row = trifecta::proto::find_method(m);
    REQUIRE(row);
    CHECK(row->check_result(x.golden.at("result")) == std::nullopt);
    if (std::string(m) != "lsp.status") CHECK(x.golden.at("result").at("backend") == "lsp");
  }
  trifecta::proto::LspStatusResult st;
  REQUIRE(trifecta::proto::decode(w.call("s", "lsp.status", {}).golden.at("result"), st) == std::nullopt);
  CHECK(st.state == "READY");
  CHECK(st.pid.has_value());
}
