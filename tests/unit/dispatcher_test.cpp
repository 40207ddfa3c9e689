// Spec of the dispatcher: method table, typed params, exactly one reply, error mapping, telemetry.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "../support/temp_dir.hpp"
#include "dispatcher.hpp"
#include "handlers_core.hpp"
#include "methods.hpp"
#include "server.hpp"
#include "telemetry/reader.hpp"
#include "util/hash.hpp"
#include "util/paths.hpp"

using namespace trifecta::daemon;
namespace core = trifecta::core;
namespace proto = trifecta::proto;

namespace {

struct Harness {
  trifecta::test::TempDir tmp;
  core::telemetry::Sink sink{[this] {
    core::telemetry::SinkOptions o;
    o.dir_override = tmp.path() / "tel";
    return o;
  }()};
  SegmentRegistry segments{sink, 4};
  Dispatcher d{segments};
  std::mutex mu;
  std::vector<std::string> sent;

  SendFn send() {
    return [this](std::string line) {
      std::lock_guard lk(mu);
      sent.push_back(std::move(line));
    };
  }
  json::object call(const std::string& line) {
    const auto before = sent.size();
    d.dispatch(line, Peer{}, send());
    REQUIRE(sent.size() == before + 1);
    return json::parse(sent.back()).as_object();
  }
};

std::string name_of(const json::object& r) { return std::string(r.at("error").at("data").at("name").as_string()); }

}  // namespace

TEST_CASE("unknown methods are MethodNotFound", "[dispatcher]") {
  Harness h;
  auto r = h.call(R"({"jsonrpc":"2.0","id":1,"method":"x"})");
  CHECK(name_of(r) == "METHOD_NOT_FOUND");
}

TEST_CASE("typed binding parses params and names the bad field", "[dispatcher]") {
  Harness h;
  h.d.bind_typed<proto::HelloParams>("hello", [](Context&, proto::HelloParams p, Reply reply) {
    reply.ok(json::object{{"echo", p.protocol}});
  });
  CHECK(h.call(R"({"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":"1.0"}})").at("result").at("echo").as_string() == "1.0");
  auto bad = h.call(R"({"jsonrpc":"2.0","id":2,"method":"hello","params":{"protocol":[]}})");
  CHECK(name_of(bad) == "INVALID_PARAMS");
  CHECK(bad.at("error").at("message").as_string() == "params.protocol: expected a string");
}

TEST_CASE("a throwing handler yields exactly one InternalError reply", "[dispatcher]") {
  Harness h;
  h.d.bind("boom", [](Context&, Reply) { throw std::runtime_error("kaput"); });
  auto r = h.call(R"({"jsonrpc":"2.0","id":5,"method":"boom"})");
  CHECK(r.at("id").as_int64() == 5);
  CHECK(name_of(r) == "INTERNAL_ERROR");
  CHECK_THAT(std::string(r.at("error").at("message").as_string()), Catch::Contains("kaput"));
  CHECK(h.sent.size() == 1);
}

#ifdef NDEBUG  // in debug builds an unanswered Reply asserts, by design
TEST_CASE("a handler that drops its Reply still produces one InternalError", "[dispatcher]") {
  Harness h;
  h.d.bind("forgetful", [](Context&, Reply) {});
  auto r = h.call(R"({"jsonrpc":"2.0","id":6,"method":"forgetful"})");
  CHECK(name_of(r) == "INTERNAL_ERROR");
}
#endif

TEST_CASE("replies may come later from another thread, exactly once", "[dispatcher]") {
  Harness h;
  std::optional<Reply> parked;
  h.d.bind("later", [&](Context&, Reply reply) { parked.emplace(std::move(reply)); });
  h.d.dispatch(R"({"jsonrpc":"2.0","id":8,"method":"later"})", Peer{}, h.send());
  CHECK(h.sent.empty());
  std::thread([&] { parked->ok(json::object{{"late", true}}); }).join();
  REQUIRE(h.sent.size() == 1);
  CHECK(json::parse(h.sent[0]).at("result").at("late").as_bool());
  CHECK(parked->answered());
  parked.reset();
  CHECK(h.sent.size() == 1);
}

// Deadlines: one sweep, scheduled through Limits::schedule (here a hand-run queue), only while a
// request is in flight; the due ones are answered TIMEOUT once, the handler's later answer dropped.
TEST_CASE("request deadlines: one sweep while requests are in flight, TIMEOUT once, re-armed after idle",
          "[dispatcher][deadline]") {
  Harness h;
  std::vector<std::function<void()>> scheduled;  // the sweeps asked for, in order
  std::vector<std::chrono::milliseconds> delays;
  Dispatcher::Limits limits;
  limits.request_timeout = std::chrono::milliseconds(2000);
  limits.schedule = [&](std::chrono::milliseconds d, std::function<void()> fn) {
    delays.push_back(d);
    scheduled.push_back(std::move(fn));
  };
  h.d.set_limits(std::move(limits));
  CHECK(h.d.deadline_period() == std::chrono::milliseconds(200));  // a tenth of the timeout
  std::vector<Reply> held;
  h.d.bind("hold", [&](Context&, Reply reply) { held.push_back(std::move(reply)); });
  h.d.bind("quick", [](Context&, Reply reply) { reply.ok(json::object{}); });

  const auto t0 = std::chrono::steady_clock::now();
  h.d.dispatch(R"({"jsonrpc":"2.0","id":1,"method":"hold"})", Peer{}, h.send());
  REQUIRE(scheduled.size() == 1);  // the first request in flight arms the sweep
  CHECK(delays[0] == std::chrono::milliseconds(200));
  // 5,000 requests answered at once behind the held one: no more sweeps are asked for, and the
  // sweep drops them in bulk (over 4,096 waiting) though the held one is not due yet.
  for (int i = 0; i < 5000; ++i) {
    h.d.dispatch(R"({"jsonrpc":"2.0","id":2,"method":"quick"})", Peer{}, h.send());
  }
  CHECK(scheduled.size() == 1);
  CHECK(h.sent.size() == 5000);
  REQUIRE(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1900));
  scheduled[0]();
  CHECK(h.sent.size() == 5000);    // not due: nothing answered
  REQUIRE(scheduled.size() == 2);  // still in flight: the sweep comes again
  std::this_thread::sleep_until(t0 + std::chrono::milliseconds(2050));
  scheduled[1]();
  REQUIRE(h.sent.size() == 5001);
  const auto timeout = json::parse(h.sent.back()).as_object();
  CHECK(timeout.at("id").as_int64() == 1);
  CHECK(name_of(timeout) == "TIMEOUT");
  CHECK(scheduled.size() == 2);  // nothing in flight: no sweep until the next request
  held[0].ok(json::object{{"late", true}});
  CHECK(h.sent.size() == 5001);  // the handler's own answer is dropped

  // After idle, the next request arms the sweep again; answered in time, it is left alone.
  h.d.dispatch(R"({"jsonrpc":"2.0","id":3,"method":"hold"})", Peer{}, h.send());
  REQUIRE(scheduled.size() == 3);
  held[1].ok(json::object{{"in_time", true}});
  REQUIRE(h.sent.size() == 5002);
  CHECK(json::parse(h.sent.back()).at("result").at("in_time").as_bool());
  scheduled[2]();
  CHECK(h.sent.size() == 5002);
  CHECK(scheduled.size() == 3);
}

TEST_CASE("lib errors map to wire codes in one place", "[dispatcher]") {
  CHECK(to_rpc_error({core::Errc::kPathEscape, "x"}).code == proto::ErrorCode::kPathEscape);
  CHECK(to_rpc_error({core::Errc::kNotFound, "x"}).code == proto::ErrorCode::kNotFound);
  CHECK(to_rpc_error({core::Errc::kTimeout, "x"}).code == proto::ErrorCode::kTimeout);
  CHECK(to_rpc_error({core::Errc::kUnavailable, "x"}).code == proto::ErrorCode::kUnavailable);
  CHECK(to_rpc_error({core::Errc::kAmbiguous, "x"}).message == "x");
}

TEST_CASE("notifications run but send no reply line", "[dispatcher]") {
  Harness h;
  int calls = 0;
  h.d.bind("note", [&](Context&, Reply reply) {
    ++calls;
    reply.ok(nullptr);
  });
  h.d.dispatch(R"({"jsonrpc":"2.0","method":"note"})", Peer{}, h.send());
  CHECK(calls == 1);
  REQUIRE(h.sent.size() == 1);
  CHECK(h.sent[0].empty());  // "" tells the session the request is done, with nothing to write
}

TEST_CASE("a request naming a segment leaves one telemetry event there", "[dispatcher][telemetry]") {
  Harness h;
  h.d.bind("ping", [](Context& ctx, Reply reply) { reply.ok(json::object{{"seg", ctx.segment != nullptr}}); });
  trifecta::test::TempDir seg;
  const std::string root = std::filesystem::canonical(seg.path()).string();
  json::object params{{"segment", root}, {"file", root + "/a.py"}};
  auto r = h.call(json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}, {"params", params}}));
  CHECK(r.at("result").at("seg").as_bool());
  auto err = h.call(json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "nope"}, {"params", params}}));
  CHECK(name_of(err) == "METHOD_NOT_FOUND");
  h.sink.flush();
  auto ev = core::telemetry::read_events(h.tmp.path() / "tel" / core::segment_id_of(root) / "events.jsonl");
  REQUIRE(ev.ok());
  REQUIRE(ev->events.size() == 1);  // unknown methods never reach a segment
  const auto& e = ev->events[0];
  CHECK(e.at("cmd").as_string() == "ping");
  CHECK(e.at("args").at("file").as_string() == "a.py");
  CHECK_FALSE(e.at("args").as_object().contains("segment"));
  CHECK(e.at("x").at("bytes_out").as_int64() > 0);
  REQUIRE(h.segments.list().size() == 1);
  CHECK(h.segments.list()[0]->requests.load() == 1);
}

TEST_CASE("every bound method has a catalog row and every catalog row is bound", "[dispatcher][catalog]") {
  Harness h;
  Config config;
  ServerCounters counters;
  CoreDeps core_deps{config, h.segments, h.sink, [&]() -> const ServerCounters& { return counters; },
                     [] { return 1u; }, [](std::string) {}, [](std::chrono::milliseconds, std::function<void()>) {}};
  core_deps.debug_methods = true;
  bind_core_handlers(h.d, core_deps);
  core::service::InlineExecutor inline_executor;
  core::service::Service service{h.sink, inline_executor};
  bind_service_methods(h.d, service);

  std::set<std::string> bound;
  for (const auto& m : h.d.methods()) {
    INFO(m);
    CHECK(proto::find_method(m) != nullptr);
    bound.insert(m);
  }
  for (const auto& row : proto::catalog()) {
    INFO(row.name);
    CHECK(bound.count(std::string(row.name)) == 1);
  }
  // hello's capabilities are the dispatcher's table, hence the catalog.
  auto hello = h.call(R"({"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":"1.1"}})");
  proto::HelloResult r;
  REQUIRE(proto::decode(hello.at("result"), r) == std::nullopt);
  CHECK(std::set<std::string>(r.capabilities.begin(), r.capabilities.end()) == bound);
}

TEST_CASE("a method bound with SegmentParam::kRaw gets params.segment untouched, nothing is opened",
          "[dispatcher]") {
  Harness h;
  h.d.bind(
      "raw",
      [](Context& ctx, Reply reply) {
        reply.ok(json::object{{"seg", ctx.segment != nullptr}, {"param", ctx.params.at("segment")}});
      },
      Dispatcher::SegmentParam::kRaw);
  trifecta::test::TempDir seg;
  const std::string root = std::filesystem::canonical(seg.path()).string();
  for (const std::string& name : {root, std::string("/no/such/dir"), std::string("abcd1234")}) {
    auto r = h.call(json::serialize(json::object{
        {"jsonrpc", "2.0"}, {"id", 1}, {"method", "raw"}, {"params", json::object{{"segment", name}}}}));
    REQUIRE(r.contains("result"));
    CHECK_FALSE(r.at("result").at("seg").as_bool());
    CHECK(r.at("result").at("param").as_string() == name);
  }
  CHECK(h.segments.list().empty());
}

TEST_CASE("bind: one line binds a service method — the catalog's needs_segment, Outcome → reply, the method's telemetry",
          "[dispatcher][service]") {
  trifecta::test::TempDir tmp;
  core::telemetry::Sink sink{[&] {
    core::telemetry::SinkOptions o;
    o.dir_override = tmp.path() / "tel";
    return o;
  }()};
  core::service::InlineExecutor exec;
  core::service::Service service{sink, exec};
  Dispatcher d{service.segments()};
  bind(d, service, proto::spec::kCtxSearch, &Service::search);
  std::vector<std::string> sent;
  auto call = [&](json::object params) {
    d.dispatch(json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ctx.search"}, {"params", params}}),
               Peer{}, [&](std::string line) { sent.push_back(std::move(line)); });
    REQUIRE_FALSE(sent.empty());
    return json::parse(sent.back()).as_object();
  };

  auto no_segment = call(json::object{{"query", "alpha"}});
  CHECK(name_of(no_segment) == "INVALID_PARAMS");
  CHECK(std::string(no_segment.at("error").at("message").as_string()).find("params.segment") != std::string::npos);

  trifecta::test::write_text(tmp.path() / "seg" / "pkg" / "mod.py", "def alpha():\n    return 1\n");
  const std::string root = std::filesystem::canonical(tmp.path() / "seg").string();
  auto ok = call(json::object{{"segment", root}, {"query", "alpha"}});
  REQUIRE(ok.contains("result"));
  CHECK(ok.at("result").at("hits").as_array().size() == 1);
  CHECK(ok.at("result").at("index").at("state").as_string() == "ready");

  auto bad = call(json::object{{"segment", root}, {"query", "alpha"}, {"limit", 0}});
  CHECK(name_of(bad) == "INVALID_PARAMS");
  CHECK(bad.at("error").at("message").as_string() == "params.limit: expected 1..1000");

  sink.flush();
  auto ev = core::telemetry::read_events(tmp.path() / "tel" / core::segment_id_of(root) / "events.jsonl");
  REQUIRE(ev.ok());
  bool found = false;
  for (const auto& e : ev->events) {
    if (e.at("cmd").as_string() != "ctx.search" || !e.at("args").as_object().contains("query_sha256")) continue;
    found = true;
    CHECK(e.at("result").at("hits").to_number<std::int64_t>() == 1);
    CHECK(e.at("x").as_object().contains("bytes_read"));
  }
  CHECK(found);
}

TEST_CASE("lane: ping and hello inline, status and no-wait requests on an open segment quick, the rest work",
          "[dispatcher][lanes]") {
  Harness h;
  for (const char* m : {"ping", "hello", "status", "ctx.status", "ctx.search", "ctx.get", "ast.skeleton"})
    h.d.bind(m, [](Context&, Reply r) { r.ok(json::object{}); });
  using L = Dispatcher::Lane;
  auto lane = [&](const std::string& line) { return h.d.lane(line); };
  CHECK(lane(R"({"jsonrpc":"2.0","id":1,"method":"ping"})") == L::kInline);
  CHECK(lane(R"({"jsonrpc":"2.0","id":1,"method":"hello","params":{"protocol":"1.3"}})") == L::kInline);
  CHECK(lane(R"({"jsonrpc":"2.0","id":1,"method":"status"})") == L::kQuick);
  // Naming a segment that is not open: opening it is a worker's job.
  const std::string seg = trifecta::core::canonical_path(h.tmp.path()).value().string();
  const std::string status_line = R"({"jsonrpc":"2.0","id":1,"method":"ctx.status","params":{"segment":")" + seg + R"("}})";
  const std::string nowait_line =
      R"({"jsonrpc":"2.0","id":1,"method":"ctx.search","params":{"segment":")" + seg + R"(","query":"x","wait":false}})";
  CHECK(lane(status_line) == L::kWork);
  CHECK(lane(nowait_line) == L::kWork);
  CHECK(lane(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"segment":")" + seg + R"("}})") == L::kWork);
  REQUIRE(h.segments.open(seg));
  CHECK(lane(status_line) == L::kQuick);
  CHECK(lane(nowait_line) == L::kQuick);
  // wait:true (the default) and methods without a wait stay on the workers.
  CHECK(lane(R"({"jsonrpc":"2.0","id":1,"method":"ctx.search","params":{"segment":")" + seg + R"(","query":"x"}})") == L::kWork);
  CHECK(lane(R"({"jsonrpc":"2.0","id":1,"method":"ast.skeleton","params":{"segment":")" + seg + R"(","path":"a.py"}})") ==
        L::kWork);
  // Unknown methods, malformed and long lines: a worker answers them (dispatch() reports the error).
  CHECK(lane(R"({"jsonrpc":"2.0","id":1,"method":"nope"})") == L::kWork);
  CHECK(lane("{not json") == L::kWork);
  CHECK(lane(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":")" + std::string(5000, 'x') + R"("}})") ==
        L::kWork);
}
