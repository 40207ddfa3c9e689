// Spec of proto/: envelope parsing and encoding, error names, typed field reading.
#include <catch2/catch.hpp>

#include "trifecta/proto/protocol.hpp"
#include "util/json_text.hpp"

using namespace trifecta::proto;

TEST_CASE("parse_request accepts well-formed requests and notifications", "[proto]") {
  auto r = parse_request(R"({"jsonrpc":"2.0","id":7,"method":"ping","params":{"a":1}})");
  REQUIRE(r.request);
  CHECK(r.request->id.as_int64() == 7);
  CHECK(r.request->method == "ping");
  CHECK(r.request->params.at("a").as_int64() == 1);
  CHECK_FALSE(r.request->notification);
  auto n = parse_request(R"({"jsonrpc":"2.0","method":"ping"})");
  REQUIRE(n.request);
  CHECK(n.request->notification);
  CHECK(n.request->params.empty());
  auto s = parse_request(R"({"jsonrpc":"2.0","id":"x","method":"m","params":null})");
  REQUIRE(s.request);
  CHECK(s.request->id.as_string() == "x");
}

TEST_CASE("parse_request rejects malformed envelopes with the right code", "[proto]") {
  struct Row {
    const char* line;
    ErrorCode code;
  };
  const Row rows[] = {
      {"", ErrorCode::kParseError},
      {"{", ErrorCode::kParseError},
      {"null", ErrorCode::kInvalidRequest},
      {"[]", ErrorCode::kInvalidRequest},
      {R"({"id":1,"method":"m"})", ErrorCode::kInvalidRequest},
      {R"({"jsonrpc":2,"id":1,"method":"m"})", ErrorCode::kInvalidRequest},
      {R"({"jsonrpc":"2.0","id":1})", ErrorCode::kInvalidRequest},
      {R"({"jsonrpc":"2.0","id":1,"method":""})", ErrorCode::kInvalidRequest},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"m"})", ErrorCode::kInvalidRequest},
      {R"({"jsonrpc":"2.0","id":1,"method":"m","params":"x"})", ErrorCode::kInvalidParams},
  };
  for (const Row& row : rows) {
    INFO(row.line);
    auto r = parse_request(row.line);
    CHECK_FALSE(r.request);
    CHECK(r.error.code == row.code);
    CHECK_FALSE(r.error.message.empty());
  }
  // The id is kept for the error reply when it could be read.
  CHECK(parse_request(R"({"jsonrpc":"2.0","id":4})").id.as_int64() == 4);
  // A byte outside UTF-8 (a Latin-1 `é`) is named, not called a syntax error.
  const auto latin1 = parse_request("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"m\",\"params\":{\"q\":\"caf\xe9\"}}");
  CHECK(latin1.error.code == ErrorCode::kParseError);
  CHECK(latin1.error.message == "request is not valid JSON: not UTF-8 (byte 0xE9 at offset 55)");
  CHECK(parse_request("{").error.message.find("UTF-8") == std::string::npos);
}

TEST_CASE("encoders write one line each and round-trip through parse_response", "[proto]") {
  const std::string ok = encode_result(3, json::object{{"pong", true}});
  CHECK(ok == "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"pong\":true}}\n");
  // The same bytes as the envelope as a json::object (members in that order), for any id and result.
  for (const json::value& id : {json::value(7), json::value("q\"x"), json::value(nullptr)}) {
    const json::value result = json::object{{"hits", json::array{1.5, "é", json::object{{"k", nullptr}}}}, {"n", -2}};
    json::object envelope;
    envelope["jsonrpc"] = "2.0";
    envelope["id"] = id;
    envelope["result"] = result;
    CHECK(encode_result(id, result) == trifecta::core::to_json_text(envelope) + "\n");
  }
  CHECK(ok.back() == '\n');
  CHECK(ok.find('\n') == ok.size() - 1);
  auto r = parse_response(ok.substr(0, ok.size() - 1));
  REQUIRE(r);
  CHECK(r->id.as_int64() == 3);
  CHECK(r->result->at("pong").as_bool());

  const std::string err = encode_error("q", RpcError{ErrorCode::kPathEscape, "nope\nline", {}});
  CHECK(err.find('\n') == err.size() - 1);  // newlines inside strings are escaped
  auto e = parse_response(err);
  REQUIRE(e);
  REQUIRE(e->error);
  CHECK(e->error->code == ErrorCode::kPathEscape);
  CHECK(e->error->data.at("name").as_string() == "PATH_ESCAPE");

  const std::string rq = encode_request(1, "status", {});
  CHECK(parse_request(rq.substr(0, rq.size() - 1)).request->method == "status");
  std::string why;
  CHECK_FALSE(parse_response("{}", &why));
  CHECK_FALSE(why.empty());
}

TEST_CASE("every error code has a stable name", "[proto]") {
  CHECK(error_name(ErrorCode::kParseError) == "PARSE_ERROR");
  CHECK(error_name(ErrorCode::kVersionMismatch) == "VERSION_MISMATCH");
  CHECK(error_name(ErrorCode::kServerBusy) == "SERVER_BUSY");
  CHECK(error_name(ErrorCode::kRequestTooLarge) == "REQUEST_TOO_LARGE");
  CHECK(protocol_version() == std::to_string(kProtocolMajor) + "." + std::to_string(kProtocolMinor));
}

TEST_CASE("Fields names the offending field", "[proto]") {
  json::object p{{"limit", "ten"}, {"query", "x"}};
  Fields f(p);
  std::string q;
  std::int64_t limit = 0;
  f.required("query", q);
  f.optional("limit", limit);
  REQUIRE_FALSE(f.ok());
  CHECK(*f.error() == "params.limit: expected an integer");

  const json::object empty;
  Fields g(empty);
  std::string s;
  g.required("path", s);
  CHECK(*g.error() == "params.path: missing required field");

  const json::object mixed{{"names", json::array{"a", 1}}};
  Fields h(mixed);
  std::vector<std::string> names;
  h.optional("names", names);
  CHECK(*h.error() == "params.names: expected an array of strings");

  HelloParams hp;
  CHECK(parse(json::object{{"protocol", "1.0"}}, hp) == std::nullopt);
  CHECK(hp.protocol == "1.0");
}
