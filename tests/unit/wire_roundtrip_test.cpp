// Spec of the typed wire contract (proto/): every golden under tests/golden/wire/ decodes into
// its method's Params and Result (or SelectorErrorData) struct and re-encodes to the identical
// JSON — so the structs cover every field the daemon sends. Plus: decoding never throws and names
// the bad field, and the catalog describes every method.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <filesystem>
#include <set>
#include <tuple>

#include "../support/temp_dir.hpp"
#include "trifecta/proto/protocol.hpp"

namespace json = boost::json;
namespace fs = std::filesystem;
namespace proto = trifecta::proto;

namespace {

const fs::path kWireDir = TRIFECTA_WIRE_GOLDEN_DIR;

constexpr auto kSpecs = std::make_tuple(
    proto::spec::kHello, proto::spec::kPing, proto::spec::kStatus, proto::spec::kShutdown, proto::spec::kSegmentClose, proto::spec::kDebugSleep,
    proto::spec::kAstSkeleton, proto::spec::kAstSymbols, proto::spec::kSymResolve, proto::spec::kSymSearch, proto::spec::kCtxBuild,
    proto::spec::kCtxSearch, proto::spec::kCtxGet, proto::spec::kCtxStatus, proto::spec::kCtxValidate, proto::spec::kCtxMap,
    proto::spec::kLspStatus, proto::spec::kLspRestart, proto::spec::kLspDefinition, proto::spec::kLspHover, proto::spec::kLspReferences,
    proto::spec::kLspDiagnostics, proto::spec::kLspCalls);

template <class T>
void round_trip(const json::value& golden, std::string_view what) {
  T typed{};
  const auto err = proto::decode(golden, typed, what);
  INFO(what << ": " << err.value_or("ok"));
  REQUIRE_FALSE(err);
  const json::value again = json::value_from(typed);
  INFO(json::serialize(golden) << "\n  re-encoded as\n" << json::serialize(again));
  CHECK(again == golden);
}

// Round-trips one golden through the types of its method; false when no spec names it.
bool round_trip_golden(const json::object& g) {
  const std::string method(g.at("method").as_string());
  bool found = false;
  std::apply(
      [&](auto... spec) {
        ((spec.name == method ? (found = true, [&] {
          using S = decltype(spec);
          round_trip<typename S::Params>(g.at("params"), "params");
          if (const auto* r = g.if_contains("result")) round_trip<typename S::Result>(*r, "result");
          if (const auto* e = g.if_contains("error")) round_trip<proto::SelectorErrorData>(e->at("data"), "error.data");
        }()) : void()), ...);
      },
      kSpecs);
  return found;
}

}  // namespace

TEST_CASE("every wire golden round-trips through its typed params and result", "[proto][golden]") {
  std::set<std::string> methods;
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(kWireDir)) {
    if (e.path().extension() != ".json") continue;
    ++files;
    DYNAMIC_SECTION(e.path().filename().string()) {
      const json::value g = json::parse(trifecta::test::read_text(e.path()));
      CHECK(round_trip_golden(g.as_object()));
      methods.insert(std::string(g.at("method").as_string()));
    }
  }
  CHECK(files >= 22);
}

TEST_CASE("the catalog has one row per spec, each with described params and result", "[proto][catalog]") {
  std::set<std::string_view> names;
  for (const auto& m : proto::catalog()) {
    INFO(m.name);
    CHECK(names.insert(m.name).second);
    CHECK_FALSE(m.summary.empty());
    CHECK_FALSE(m.result.empty());
    CHECK(m.check_result);
    CHECK(m.check_params);
    CHECK(proto::find_method(m.name) == &m);
    for (const auto& f : m.params) CHECK_FALSE(f.description.empty());
  }
  CHECK(names.size() == std::tuple_size_v<decltype(kSpecs)>);
  std::size_t specs_in_catalog = 0;
  std::apply([&](auto... spec) { ((specs_in_catalog += names.count(spec.name)), ...); }, kSpecs);
  CHECK(specs_in_catalog == names.size());
  CHECK(proto::find_method("nope") == nullptr);

  const auto* search = proto::find_method("ctx.search");
  REQUIRE(search);
  CHECK(search->needs_segment);
  CHECK(search->may_wait);
  const json::value d = proto::describe_method(*search);
  const auto& params = d.at("params").as_array();
  REQUIRE(params.size() == 6);
  CHECK(params[0].at("name") == "query");
  CHECK(params[0].at("required") == true);
  CHECK(params[1].at("name") == "limit");
  CHECK(params[1].at("type") == "integer");
  CHECK(params[1].at("default") == 10);
  CHECK(proto::find_method("debug.sleep")->debug_only);
  CHECK_FALSE(proto::find_method("hello")->needs_segment);
}

TEST_CASE("decoding a malformed result never throws and names the field", "[proto][decode]") {
  proto::CtxSearchResult r;
  auto v = json::parse(R"({"terms":[],"hits":[{"id":"a","path":"p","start_line":1,"end_line":2,"kind":"code",
      "title":"t","score":"high","preview":"","tokens":1,"sha256":""}],"matched":1,"generation":1,"query":"q",
      "index":{"state":"ready","generation":1}})");
  CHECK(proto::decode(v, r) == std::optional<std::string>("result.hits[0].score: expected a number"));

  v.as_object().erase("query");
  v.at("hits").as_array().clear();
  CHECK(proto::decode(v, r) == std::optional<std::string>("result.query: missing required field"));
  CHECK(proto::decode(json::value(42), r) == std::optional<std::string>("result: expected an object"));
  CHECK(proto::decode(json::parse("[1]"), r) == std::optional<std::string>("result: expected an object"));
  CHECK_THROWS_AS(json::value_to<proto::CtxSearchResult>(json::value(nullptr)), std::invalid_argument);

  // Optional members: absent stays nullopt; a nullable member decodes null.
  proto::LspHoverResult h;
  REQUIRE_FALSE(proto::decode(json::parse(R"({"backend":"lsp","lsp_state":"READY","file":"a.py","line":1,
      "column":1,"contents":null})"), h));
  CHECK_FALSE(h.contents);
  CHECK_FALSE(h.fallback_reason);
  CHECK(json::value_from(h).at("contents").is_null());
}

TEST_CASE("params parse with defaults, naming the bad field", "[proto][params]") {
  proto::CtxSearchParams p;
  CHECK(proto::parse(json::object{{"query", "x"}}, p) == std::nullopt);
  CHECK(p.limit == 10);
  CHECK(p.wait);
  CHECK(proto::parse(json::object{{"query", "x"}, {"limit", "many"}}, p) ==
        std::optional<std::string>("params.limit: expected an integer"));
  CHECK(proto::parse(json::object{{"limit", 3}}, p) == std::optional<std::string>("params.query: missing required field"));
  // null for an optional field keeps the default (as before the typed structs).
  proto::CtxGetParams g;
  CHECK(proto::parse(json::object{{"mode", nullptr}, {"ids", json::array{"a"}}}, g) == std::nullopt);
  CHECK(g.mode == "excerpt");
  CHECK(g.ids == std::vector<std::string>{"a"});
  proto::HelloParams hp;
  CHECK(proto::parse(json::object{}, hp) == std::optional<std::string>("params.protocol: missing required field"));
}

TEST_CASE("docs/protocol.md documents every method's params and result fields", "[proto][docs]") {
  const std::string doc = trifecta::test::read_text(TRIFECTA_PROTOCOL_DOC);
  for (const auto& m : proto::catalog()) {
    INFO(m.name << " (regenerate the reference from proto::describe_method)");
    CHECK(doc.find("### `" + std::string(m.name) + "` — params and result") != std::string::npos);
    for (const auto& f : m.params) CHECK(doc.find("| `" + f.name + "` | `" + f.type + "` |") != std::string::npos);
    for (const auto& f : m.result) CHECK(doc.find("| `" + f.name + "` | `" + f.type + "` |") != std::string::npos);
  }
}
