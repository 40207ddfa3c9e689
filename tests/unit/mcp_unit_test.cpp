// Unit spec of the MCP server's pure pieces: JSON Schema generation from the wire contract,
// budget arithmetic (fit, cut, cursor), revision negotiation and root choice.
#include <catch2/catch.hpp>

#include "mcp/budget.hpp"
#include "mcp/schema.hpp"
#include "mcp/server.hpp"
#include "mcp/tools.hpp"
#include "trifecta/proto/protocol.hpp"

namespace json = boost::json;
namespace mcp = trifecta::mcp;
namespace proto = trifecta::proto;

TEST_CASE("output_schema follows the described struct: types, required, nullable, nesting",
          "[mcp]") {
  const json::object s = mcp::output_schema<proto::CtxSearchResult>();
  CHECK(mcp::check_object_schema(s) == "");
  const auto& p = s.at("properties").as_object();
  CHECK(p.at("query").at("type") == "string");
  CHECK(p.at("matched").at("type") == "integer");
  CHECK(p.at("hits").at("type") == "array");
  const auto& hit = p.at("hits").at("items").as_object();
  CHECK(hit.at("properties").at("score").at("type") == "number");
  CHECK(hit.at("properties").at("id").at("description") == "chunk id (for ctx.get)");
  // req fields are required, opt ones are not.
  const auto& req = s.at("required").as_array();
  CHECK(std::find(req.begin(), req.end(), json::value("hits")) != req.end());
  CHECK(std::find(req.begin(), req.end(), json::value("reason")) == req.end());
  // nullable: null accepted.
  const json::object hover = mcp::output_schema<proto::LspHoverResult>();
  CHECK(hover.at("properties").at("contents").at("type") == json::array{"string", "null"});
  // maps: additionalProperties carries the value schema.
  const json::object st = mcp::output_schema<proto::CtxStatusResult>();
  CHECK(st.at("properties")
            .at("status")
            .at("properties")
            .at("skip_reasons")
            .at("additionalProperties")
            .at("type") == "integer");
  // A recursive type (skeleton definitions hold their children) ends.
  const json::object sk = mcp::output_schema<proto::AstSkeletonResult>();
  CHECK(mcp::check_object_schema(sk) == "");
}

TEST_CASE("input_properties reads the catalog's params and refuses unknown names", "[mcp]") {
  const json::object p = mcp::input_properties(proto::method::kCtxSearch, {"query", "limit"});
  CHECK(p.at("query").at("type") == "string");
  CHECK(p.at("limit").at("default") == 10);
  CHECK(p.at("query").at("description") == "search terms");
  const json::object g = mcp::input_properties(proto::method::kCtxGet, {"ids"});
  CHECK(g.at("ids").at("type") == "array");
  CHECK(g.at("ids").at("items").at("type") == "string");
  CHECK_THROWS_AS(mcp::input_properties(proto::method::kCtxSearch, {"nope"}), std::logic_error);
  CHECK_THROWS_AS(mcp::input_properties("no.such", {"query"}), std::logic_error);
  CHECK_THROWS_AS(mcp::schema_of_field_type("widget"), std::logic_error);
}

TEST_CASE("check_object_schema finds broken schemas", "[mcp]") {
  CHECK(mcp::check_object_schema({{"type", "object"}}) == "");
  CHECK(mcp::check_object_schema({{"type", "array"}}) != "");
  CHECK(mcp::check_object_schema({{"type", "object"}, {"required", json::array{"x"}}}) != "");
  CHECK(mcp::check_object_schema(
            {{"type", "object"}, {"properties", {{"x", {{"type", "strng"}}}}}}) != "");
  CHECK(mcp::check_object_schema({{"type", "object"}, {"properties", {{"x", 5}}}}) != "");
}

TEST_CASE("every tool's schemas are valid objects and the names are the contract", "[mcp]") {
  std::vector<std::string> names;
  for (const auto& t : mcp::tool_table(false)) {
    INFO(t.name);
    names.push_back(t.name);
    CHECK(mcp::check_object_schema(t.input_schema) == "");
    CHECK(mcp::check_object_schema(t.output_schema) == "");
  }
  CHECK(names == std::vector<std::string>{"search", "get", "find_symbol", "outline", "map",
                                          "definition", "hover", "references", "calls",
                                          "diagnostics", "status"});
  CHECK(mcp::find_tool("debug_sleep", false) == nullptr);
  CHECK(mcp::find_tool("debug_sleep", true) != nullptr);
}

TEST_CASE("fit_count finds the largest n that fits", "[mcp]") {
  CHECK(mcp::fit_count(10, [](std::size_t n) { return n <= 4; }) == 4);
  CHECK(mcp::fit_count(10, [](std::size_t) { return true; }) == 10);
  CHECK(mcp::fit_count(10, [](std::size_t) { return false; }) == 0);
  CHECK(mcp::fit_count(0, [](std::size_t) { return true; }) == 0);
  CHECK(mcp::fit_count(1000, [](std::size_t n) { return n * 7 <= 3000; }) == 428);
  int calls = 0;
  mcp::fit_count(1000000, [&](std::size_t n) {
    ++calls;
    return n < 123457;
  });
  CHECK(calls < 30);
}

TEST_CASE("cut_text cuts at a line end or a UTF-8 boundary, never past the limit", "[mcp]") {
  CHECK(mcp::cut_text("short", 100) == 5);
  CHECK(mcp::cut_text("aaaa\nbbbb\ncccc\n", 12) == 10);  // after "bbbb\n"
  CHECK(mcp::cut_text("aaaaaaaaaaaaaaaaaaaa", 7) == 7);  // no line end: at the limit
  const std::string snakes = "🐍🐍🐍";                      // 4 bytes each
  CHECK(mcp::cut_text(snakes, 6) == 4);
  CHECK(mcp::cut_text(snakes, 3) == 0);
  CHECK(mcp::estimate_tokens(0) == 0);
  CHECK(mcp::estimate_tokens(5) == 2);
}

TEST_CASE("cursors are decimal offsets", "[mcp]") {
  CHECK(mcp::parse_cursor("") == 0u);
  CHECK(mcp::parse_cursor("17") == 17u);
  CHECK(!mcp::parse_cursor("-1"));
  CHECK(!mcp::parse_cursor("12x"));
  CHECK(!mcp::parse_cursor("abc"));
}

TEST_CASE("negotiate_version answers a supported revision as is, else the latest", "[mcp]") {
  for (const char* v : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"})
    CHECK(mcp::negotiate_version(v) == v);
  CHECK(mcp::negotiate_version("2024-10-07") == "2025-11-25");
  CHECK(mcp::negotiate_version("") == "2025-11-25");
  CHECK(mcp::negotiate_version("2099-01-01") == "2025-11-25");
}

TEST_CASE("choose_root: the root argument, else the root of an absolute path, else the first",
          "[mcp]") {
  const std::vector<std::string> roots{"/w/a", "/w/b", "/w/a/sub"};
  std::string err;
  CHECK(mcp::choose_root(roots, {}, &err) == "/w/a");
  CHECK(mcp::choose_root(roots, {{"root", "/w/b"}}, &err) == "/w/b");
  CHECK(mcp::choose_root(roots, {{"root", "/w/b/pkg"}}, &err) == "/w/b");
  CHECK(mcp::choose_root(roots, {{"root", "b"}}, &err) == "/w/b");
  CHECK(mcp::choose_root(roots, {{"path", "/w/a/sub/x.py"}}, &err) == "/w/a/sub");  // the deepest
  CHECK(mcp::choose_root(roots, {{"path", "rel/x.py"}}, &err) == "/w/a");
  CHECK(mcp::choose_root(roots, {{"path", "/w/ab/x.py"}}, &err) == "/w/a");  // not inside /w/a
  CHECK(!mcp::choose_root(roots, {{"root", "/elsewhere"}}, &err));
  CHECK_THAT(err, Catch::Contains("/w/a, /w/b"));
  CHECK(!mcp::choose_root({}, {}, &err));
}
