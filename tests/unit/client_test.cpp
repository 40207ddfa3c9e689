// Spec of trifecta_client without a socket: the renderers on complete, incomplete and mistyped
// replies (a bad reply is a value naming the field, never an exception), the checked accessors,
// and segment discovery.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <functional>

#include "../support/temp_dir.hpp"
#include "json_access.hpp"
#include "render.hpp"
#include "segment.hpp"

using namespace trifecta::client;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

const char* kSearch =
    R"({"hits":[{"id":"pkg/a.py#f","path":"pkg/a.py","start_line":1,"end_line":3,"score":1.5,
  "tokens":12,"preview":"def f(): ...","explain":[{"term":"f","field":"name","tf":1,"score":0.5}]}],"reason":""})";
const char* kGet =
    R"({"chunks":[{"id":"pkg/a.py#f","path":"pkg/a.py","start_line":1,"end_line":3,"mode":"raw",
  "partial":false,"text":"def f():\n    pass"}],"errors":[],"used":10,"budget":2000,"stop_reason":"complete"})";
const char* kStatus =
    R"({"daemon_version":"0.1.0","protocol":"1.0","pid":7,"socket":"/s","socket_activated":false,
  "uptime_s":1.5,"rss_bytes":1048576,"connections":1,"in_flight":0,"requests_total":3,"workers":2,"idle_timeout_s":1800,
  "telemetry":{"enabled":true,"lines_written":1,"dropped":0,"write_errors":0},
  "segments":[{"segment_id":"abc","state":"READY","requests":2,"root":"/r"}]})";
const char* kValidate =
    R"({"ok":false,"checked":3,"generation":2,"stale":["a.py"],"missing":[],"new":["b.py"]})";
const char* kLocations =
    R"({"backend":"ast","lsp_state":"COLD","locations":[{"path":"a.py","line":1,"column":5,
  "external":false}],"truncated":false})";

using RenderFn = std::function<Rendered(const json::value&)>;

std::vector<std::pair<const char*, std::pair<const char*, RenderFn>>> samples() {
  return {
      {"search", {kSearch, [](const json::value& v) { return render_search(v); }}},
      {"get", {kGet, render_get}},
      {"status", {kStatus, render_status}},
      {"validate", {kValidate, render_validate}},
      {"locations",
       {kLocations, [](const json::value& v) { return render_locations(v, "/nonexistent"); }}},
  };
}

// Calls `fn` with a copy of `v` in which one member (at any depth) was removed, for each member.
void for_each_removal(const json::value& v,
                      const std::function<void(const json::value&, const std::string&)>& fn) {
  std::function<void(json::value&, const std::string&)> walk;
  json::value root = v;
  // Paths to every object member, as a list of steps, then one copy per removal.
  std::vector<std::vector<std::variant<std::string, std::size_t>>> paths;
  std::function<void(const json::value&, std::vector<std::variant<std::string, std::size_t>>)>
      collect = [&](const json::value& x, std::vector<std::variant<std::string, std::size_t>> at) {
        if (x.is_object()) {
          for (const auto& kv : x.get_object()) {
            auto p = at;
            p.emplace_back(std::string(kv.key()));
            paths.push_back(p);
            collect(kv.value(), p);
          }
        } else if (x.is_array()) {
          for (std::size_t i = 0; i < x.get_array().size(); ++i) {
            auto p = at;
            p.emplace_back(i);
            collect(x.get_array()[i], p);
          }
        }
      };
  collect(v, {});
  for (const auto& p : paths) {
    json::value copy = v;
    json::value* cur = &copy;
    std::string name = "result";
    for (std::size_t i = 0; i + 1 < p.size(); ++i) {
      if (const auto* k = std::get_if<std::string>(&p[i])) {
        cur = &cur->as_object()[*k];
        name += "." + *k;
      } else {
        const auto idx = std::get<std::size_t>(p[i]);
        cur = &cur->as_array()[idx];
        name += "[" + std::to_string(idx) + "]";
      }
    }
    const auto& last = std::get<std::string>(p.back());
    cur->as_object().erase(last);
    fn(copy, name + "." + last);
  }
}

}  // namespace

TEST_CASE("complete replies render without complaint", "[client][render]") {
  for (const auto& [name, s] : samples()) {
    INFO(name);
    const auto r = s.second(json::parse(s.first));
    CHECK_FALSE(r.malformed);
    CHECK_FALSE(r.out.empty());
  }
  const auto search = render_search(json::parse(kSearch));
  CHECK_THAT(search.out, Catch::Contains(" 1. pkg/a.py#f"));
  CHECK_THAT(search.out, Catch::Contains("pkg/a.py:1-3  score 1.50  ~12 tok"));
  CHECK_THAT(render_get(json::parse(kGet)).out,
             Catch::Contains("── used 10 of 2000 tokens; stop: complete"));
  CHECK_THAT(render_status(json::parse(kStatus)).out, Catch::Contains("memory       1.0 MiB RSS"));
}

TEST_CASE("every member removed from a reply: rendered or reported by path, never thrown",
          "[client][render]") {
  for (const auto& [name, s] : samples()) {
    for_each_removal(json::parse(s.first), [&, n = name, fn = s.second](
                                               const json::value& v, const std::string& removed) {
      INFO(n << " without " << removed);
      Rendered r;
      REQUIRE_NOTHROW(r = fn(v));
      if (r.malformed) {
        CHECK_THAT(*r.malformed, Catch::StartsWith("result"));
        CHECK(r.out.empty());  // no half-printed answer
      }
    });
  }
}

TEST_CASE("a missing or mistyped field is named with its path", "[client][render]") {
  auto search = json::parse(kSearch);
  search.at("hits").as_array()[0].as_object().erase("path");
  CHECK(render_search(search).malformed ==
        std::optional<std::string>("result.hits[0].path: missing"));

  auto validate = json::parse(kValidate);
  validate.as_object()["ok"] = "yes";
  CHECK(render_validate(validate).malformed ==
        std::optional<std::string>("result.ok: expected a boolean, got string"));

  CHECK(render_ping(json::parse("[1]"), 1.0).malformed ==
        std::optional<std::string>("result: expected an object, got array"));
  CHECK(render_status(json::parse("null")).malformed ==
        std::optional<std::string>("result: expected an object, got null"));
  auto get = json::parse(kGet);
  get.as_object()["chunks"] = json::object{};
  CHECK(render_get(get).malformed ==
        std::optional<std::string>("result.chunks: expected an array, got object"));
}

TEST_CASE("ctx get: failed targets go to err and mark the answer failed", "[client][render]") {
  auto get = json::parse(kGet);
  get.as_object()["errors"] = json::array{
      json::object{{"target", "x#y"}, {"code", "NOT_FOUND"}, {"message", "no such chunk"}}};
  const auto r = render_get(get);
  CHECK(r.failed);
  CHECK(r.err == "trifecta: x#y: NOT_FOUND: no such chunk\n");
  CHECK_THAT(r.out, Catch::Contains("def f():"));
  CHECK_FALSE(render_get(json::parse(kGet)).failed);
}

TEST_CASE("no search results with a path filter suggest a directory glob", "[client][render]") {
  const auto empty = json::parse(R"({"hits":[],"reason":"no chunk matches"})");
  CHECK_THAT(render_search(empty, "db").out, Catch::Contains("--path 'db/**'"));
  CHECK_THAT(render_search(empty, "pkg/db").out, Catch::Contains("--path 'pkg/db/**'"));
  CHECK_THAT(render_search(empty, "db/").out, !Catch::Contains("hint"));  // already the whole dir
  CHECK_THAT(render_search(empty, "*.py").out, !Catch::Contains("hint"));
  CHECK_THAT(render_search(empty, "db/**").out, !Catch::Contains("hint"));
  CHECK_THAT(render_search(empty).out, !Catch::Contains("hint"));
}

TEST_CASE("error replies render their name, and bad details do not hide the error",
          "[client][render]") {
  trifecta::proto::RpcError e;
  e.code = trifecta::proto::ErrorCode::kSymbolNotFound;
  e.message = "no symbol x";
  e.data = {{"name", "SYMBOL_NOT_FOUND"}, {"suggestions", json::array{"xy", "xz"}}};
  CHECK(render_error(e) == "trifecta: SYMBOL_NOT_FOUND: no symbol x\ndid you mean:\n  xy\n  xz\n");
  e.data = {{"name", "SYMBOL_NOT_FOUND"},
            {"candidates", json::array{json::object{{"file", "a.py"},
                                                    {"end_line", 2},
                                                    {"kind", "function"},
                                                    {"qualname", "x"},
                                                    {"conditional", false}}}}};
  const auto bad = render_error(e);
  CHECK_THAT(bad, Catch::StartsWith("trifecta: SYMBOL_NOT_FOUND: no symbol x\n"));
  CHECK_THAT(bad, Catch::Contains("error.data.candidates[0].line: missing"));
}

TEST_CASE("Field accessors check kinds", "[client][json]") {
  const auto v = json::parse(R"({"s":"x","n":3,"d":1.5,"b":true,"z":null,"a":[1],"o":{}})");
  const Field f(v, "result");
  CHECK(f["s"].string() == "x");
  CHECK(f["n"].integer() == 3);
  CHECK(f["d"].number() == 1.5);
  CHECK(f["b"].boolean());
  CHECK(f["n"].text() == "3");
  CHECK(f["z"].text() == "null");
  CHECK_FALSE(f.find("nope"));
  CHECK_THROWS_WITH(f["d"].integer(), "result.d: expected an integer, got number");
  CHECK_THROWS_WITH(f["a"].text(), "result.a: expected a scalar, got array");
  CHECK_THROWS_WITH(f["o"]["k"], "result.o.k: missing");
  CHECK_THROWS_WITH(f["s"]["k"], "result.s: expected an object, got string");
}

TEST_CASE("segment discovery: the flag, else the enclosing git work tree, else the cwd",
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
}

TEST_CASE("position arguments", "[client][segment]") {
  json::object p;
  REQUIRE(position_params("no/such/file.py:12:5", p));
  CHECK(p.at("path") == "no/such/file.py");
  CHECK(p.at("line") == 12);
  CHECK(p.at("column") == 5);
  json::object u;
  REQUIRE(position_params("sym://python/a/b", u));
  CHECK(u.at("uri") == "sym://python/a/b");
  json::object bad;
  CHECK_FALSE(position_params("file.py:12", bad));
  CHECK_FALSE(position_params("file.py:x:5", bad));
  CHECK_FALSE(position_params("file.py:1:5z", bad));
  CHECK(bad.empty());
}
