// Spec of lib/service without a socket: the build lifecycle (waiters, failure, one build at a
// time), sync-before-answer, close, LRU eviction, opening outside the registry lock, and the typed
// methods (proto params in, Outcome<proto result> out): waiting for the build, sync before answer,
// selector errors with their data, and the LSP-or-AST routing (no client, a client not READY, the
// scripted fake server READY); the background apply with a hand-played event loop.
#include "service/service.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "../support/lsp_harness.hpp"
#include "../support/temp_dir.hpp"
#include "service/executor.hpp"
#include "telemetry/reader.hpp"

namespace core = trifecta::core;
namespace svc = trifecta::core::service;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using trifecta::test::write_text;

namespace {

struct Harness {
  trifecta::test::TempDir tmp;
  core::telemetry::Sink sink{[this] {
    core::telemetry::SinkOptions o;
    o.dir_override = tmp.path() / "tel";
    return o;
  }()};

  // A segment directory with one Python file.
  fs::path tree(const std::string& name, const std::string& py = "def alpha():\n    return 1\n") {
    const fs::path root = tmp.path() / name;
    write_text(root / "pkg" / "mod.py", py);
    return fs::canonical(root);
  }
};

// A Service whose builds (and settles) go to an executor of their own, run by hand, and whose
// request work goes to another.
struct SplitService {
  svc::ManualExecutor requests, builds;
  svc::Service service;
  explicit SplitService(core::telemetry::Sink& sink)
      : service(sink, requests, [this] {
          svc::ServiceOptions o;
          o.build_executor = &builds;
          return o;
        }()) {}
};

std::size_t hits(svc::Segment& seg, const std::string& query) {
  core::index::SearchOptions o;
  o.query = query;
  auto r = seg.index->search(o);
  REQUIRE(r.ok());
  return r->hits.size();
}

}  // namespace

TEST_CASE("ensure_built: one build, waiters run once after it, later callers run inline",
          "[service]") {
  Harness h;
  svc::ManualExecutor exec;
  svc::ServiceOptions o;
  o.build_on_open = false;
  svc::Service service(h.sink, exec, o);
  auto seg = service.open(h.tree("a").string()).value();
  CHECK(seg->build_state_snapshot() == svc::BuildState::kIdle);

  int first = 0, second = 0, third = 0;
  service.ensure_built(*seg, [&] { ++first; });
  CHECK(seg->build_state_snapshot() == svc::BuildState::kBuilding);
  CHECK(exec.pending() == 1);
  service.ensure_built(*seg, [&] { ++second; });  // joins the running build
  CHECK(exec.pending() == 1);                     // no second build was started
  CHECK(first == 0);
  CHECK(second == 0);

  std::vector<std::pair<std::size_t, std::size_t>> progress;
  const auto token = seg->add_progress_listener(
      [&](std::size_t d, std::size_t t) { progress.emplace_back(d, t); });
  CHECK(token != 0);
  CHECK(exec.run_all() == 1);
  CHECK(first == 1);
  CHECK(second == 1);
  const svc::BuildInfo b = seg->build_info();
  CHECK(b.state == svc::BuildState::kReady);
  REQUIRE(b.last_build.has_value());
  CHECK(b.last_build->files_indexed == 1);
  CHECK(b.error.empty());
  REQUIRE_FALSE(progress.empty());
  CHECK(progress.back().first == progress.back().second);  // the last call always comes through
  seg->remove_progress_listener(token);

  service.ensure_built(*seg, [&] { ++third; });  // already built: inline, nothing posted
  CHECK(third == 1);
  CHECK(exec.pending() == 0);
  CHECK(first == 1);
  CHECK(seg->memory_bytes() > 0);
  CHECK(seg->memory().index > 0);
}

TEST_CASE(
    "ensure_built: a failed build is recorded, its waiters still run once, the next call retries",
    "[service]") {
  Harness h;
  svc::ManualExecutor exec;
  svc::ServiceOptions o;
  o.build_on_open = false;
  svc::Service service(h.sink, exec, o);
  const fs::path root = h.tree("gone");
  auto seg = service.open(root.string()).value();
  fs::remove_all(root);  // the build cannot list the tree any more

  int waited = 0;
  service.ensure_built(*seg, [&] { ++waited; });
  exec.run_all();
  CHECK(waited == 1);
  svc::BuildInfo b = seg->build_info();
  CHECK(b.state == svc::BuildState::kFailed);
  CHECK_FALSE(b.error.empty());
  CHECK_FALSE(b.last_build.has_value());

  write_text(root / "pkg" / "mod.py", "def back():\n    pass\n");
  service.ensure_built(*seg, [&] { ++waited; });
  CHECK(seg->build_state_snapshot() == svc::BuildState::kBuilding);
  exec.run_all();
  CHECK(waited == 2);
  b = seg->build_info();
  CHECK(b.state == svc::BuildState::kReady);
  CHECK(b.error.empty());
}

TEST_CASE(
    "ensure_built: a watcher that cannot start is kept in the build info and sent to telemetry",
    "[service]") {
  Harness h;
  svc::ManualExecutor exec;
  svc::ServiceOptions o;
  o.build_on_open = false;
  o.start_watcher = [](svc::Segment&) -> core::Result<void> {
    return core::make_error(core::Errc::kUnavailable, "inotify_init1: Too many open files");
  };
  svc::Service service(h.sink, exec, o);
  auto seg = service.open(h.tree("w").string()).value();
  service.ensure_built(*seg, {});
  exec.run_all();
  const svc::BuildInfo b = seg->build_info();
  REQUIRE(b.state == svc::BuildState::kReady);  // the index is usable, only not kept current
  CHECK(b.watcher_error == "inotify_init1: Too many open files");
  h.sink.flush();
  auto events = core::telemetry::read_events(h.tmp.path() / "tel" / seg->id / "events.jsonl");
  REQUIRE(events.ok());
  bool found = false;
  for (const auto& e : events->events) {
    if (e.at("cmd").as_string() != "segment.watcher_failed") continue;
    found = true;
    CHECK(e.at("result").at("error").as_string() == "UNAVAILABLE");
  }
  CHECK(found);
}

TEST_CASE("sync before answer: an edit on disk is seen by the next answer (index and symbol table)",
          "[service]") {
  Harness h;
  svc::InlineExecutor exec;
  svc::Service service(h.sink, exec);
  const fs::path root = h.tree("s");
  auto seg = service.open(root.string()).value();  // the build ran inline
  REQUIRE(seg->build_state_snapshot() == svc::BuildState::kReady);
  CHECK(seg->symbol_index().definitions_named("zebra").empty());
  CHECK(hits(*seg, "zebra") == 0);

  write_text(root / "pkg" / "mod.py", "def zebra():\n    return 2\n");
  std::size_t seen = 0, symbols = 0;
  service.when_ready(*seg, true, [&] {
    (void)service.sync(*seg);
    seen = hits(*seg, "zebra");
    symbols = seg->symbol_index().definitions_named("zebra").size();
  });
  CHECK(seen == 1);
  CHECK(symbols == 1);
}

TEST_CASE("close: the segment leaves the registry, holders keep it alive, reopening starts afresh",
          "[service]") {
  Harness h;
  svc::InlineExecutor exec;
  svc::Service service(h.sink, exec);
  const fs::path root = h.tree("c");
  auto held = service.open(root.string()).value();
  const std::string id = held->id;
  CHECK(service.segments().find(id) == held);
  CHECK(service.segments().find(root.string()) == held);

  auto r = service.close(root.string());
  REQUIRE(r.ok());
  CHECK(r->closed);
  CHECK(r->segment_id == id);
  CHECK(service.segments().list().empty());
  CHECK(service.segments().find(id) == nullptr);
  CHECK(held->index->status().files_indexed == 1);  // an in-flight user still has a working segment

  auto again = service.close(id);
  REQUIRE(again.ok());
  CHECK_FALSE(again->closed);
  CHECK(again->segment_id == id);
  CHECK(service.close(root.string())->segment_id == id);  // by path, not open: the id it would have

  auto reopened = service.open(root.string()).value();
  CHECK(reopened != held);
  CHECK(reopened->id == id);
  CHECK(service.close(id)->closed);  // by id
}

TEST_CASE(
    "LRU: opening one more segment evicts the least recently used idle one; all busy → TOO_LARGE",
    "[service]") {
  Harness h;
  svc::InlineExecutor exec;
  svc::ServiceOptions o;
  o.max_segments = 2;
  svc::Service service(h.sink, exec, o);
  const fs::path a = h.tree("a"), b = h.tree("b"), c = h.tree("c"), d = h.tree("d");
  REQUIRE(service.open(a.string()).ok());
  std::this_thread::sleep_for(2ms);
  REQUIRE(service.open(b.string()).ok());
  std::this_thread::sleep_for(2ms);
  REQUIRE(service.open(a.string()).ok());  // a is now the most recently used
  std::this_thread::sleep_for(2ms);

  auto sc = service.open(c.string());
  REQUIRE(sc.ok());
  CHECK(service.segments().evictions() == 1);
  CHECK(service.segments().find(b.string()) == nullptr);  // b was the LRU one
  auto sa = service.segments().find(a.string());
  CHECK(sa != nullptr);
  CHECK(service.segments().list().size() == 2);

  // a and c are both in use (held here): nothing can make room for d.
  auto sd = service.open(d.string());
  REQUIRE_FALSE(sd.ok());
  CHECK(sd.error().code == core::Errc::kTooLarge);
  CHECK(service.segments().list().size() == 2);

  sa.reset();  // a is idle again: it makes room
  auto sd2 = service.open(d.string());
  REQUIRE(sd2.ok());
  CHECK(service.segments().find(a.string()) == nullptr);
  CHECK(service.segments().find(c.string()) == *sc);
  CHECK(service.segments().evictions() == 2);
}

TEST_CASE("a segment is opened outside the registry lock: a slow open of B does not stall A",
          "[service]") {
  Harness h;
  svc::InlineExecutor exec;
  const fs::path a = h.tree("a"), b = h.tree("b"), c = h.tree("c");
  std::promise<void> b_entered, release_b;
  std::shared_future<void> release = release_b.get_future().share();
  std::atomic<int> b_hooks{0};
  svc::ServiceOptions o;
  o.build_on_open = false;
  o.on_open = [&](svc::Segment& seg) {
    if (seg.root != b) return;
    ++b_hooks;
    b_entered.set_value();
    (void)release.wait_for(20s);  // bounded; no Catch assertion off the test thread
  };
  svc::Service service(h.sink, exec, o);
  auto sa = service.open(a.string()).value();

  auto opener = std::async(std::launch::async, [&] { return service.open(b.string()); });
  REQUIRE(b_entered.get_future().wait_for(20s) == std::future_status::ready);
  // B is stuck in its open hook. A, and a new segment C, proceed.
  auto t0 = std::chrono::steady_clock::now();
  CHECK(service.open(a.string()).value() == sa);
  CHECK(service.segments().find(sa->id) == sa);
  CHECK(service.open(c.string()).ok());
  CHECK(service.segments().list().size() == 2);  // B is not visible while opening
  CHECK(service.segments().find(b.string()) == nullptr);
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  // A second open of B waits for the first instead of opening it twice.
  auto joiner = std::async(std::launch::async, [&] { return service.open(b.string()); });
  CHECK(joiner.wait_for(100ms) == std::future_status::timeout);

  release_b.set_value();
  REQUIRE(opener.wait_for(20s) == std::future_status::ready);
  REQUIRE(joiner.wait_for(20s) == std::future_status::ready);
  auto b1 = opener.get(), b2 = joiner.get();
  REQUIRE(b1.ok());
  REQUIRE(b2.ok());
  CHECK(*b1 == *b2);
  CHECK(b_hooks == 1);
  CHECK(service.segments().list().size() == 3);
}

TEST_CASE("open: bad paths fail without leaving an entry", "[service]") {
  Harness h;
  svc::InlineExecutor exec;
  svc::Service service(h.sink, exec);
  CHECK(service.open("").error().code == core::Errc::kInvalidArgument);
  CHECK(service.open("relative/dir").error().code == core::Errc::kInvalidArgument);
  CHECK_FALSE(service.open((h.tmp.path() / "missing").string()).ok());
  write_text(h.tmp.path() / "file.txt", "x");
  CHECK(service.open((h.tmp.path() / "file.txt").string()).error().code ==
        core::Errc::kInvalidArgument);
  CHECK(service.segments().list().empty());
}

TEST_CASE("rebuild: runs now, reports progress and becomes the last build", "[service]") {
  Harness h;
  svc::InlineExecutor exec;
  svc::Service service(h.sink, exec);
  const fs::path root = h.tree("r");
  auto seg = service.open(root.string()).value();
  REQUIRE(seg->build_state_snapshot() == svc::BuildState::kReady);
  write_text(root / "pkg" / "two.py", "def two():\n    pass\n");
  std::size_t calls = 0;
  seg->add_progress_listener([&](std::size_t, std::size_t) { ++calls; });
  auto r = service.rebuild(*seg);
  REQUIRE(r.ok());
  CHECK(calls > 0);
  const auto b = seg->build_info();
  REQUIRE(b.last_build.has_value());
  CHECK(b.last_build->files_indexed == 2);
  CHECK(b.last_build->generation == r->generation);
}

TEST_CASE("close waits for an open under way, then closes what it opened", "[service]") {
  Harness h;
  svc::InlineExecutor exec;
  const fs::path b = h.tree("b");
  std::promise<void> entered, release;
  std::shared_future<void> go = release.get_future().share();
  svc::ServiceOptions o;
  o.build_on_open = false;
  o.on_open = [&](svc::Segment&) {
    entered.set_value();
    (void)go.wait_for(20s);  // bounded; no Catch assertion off the test thread
  };
  svc::Service service(h.sink, exec, o);
  auto opener = std::async(std::launch::async, [&] { return service.open(b.string()); });
  REQUIRE(entered.get_future().wait_for(20s) == std::future_status::ready);
  auto closer = std::async(std::launch::async, [&] { return service.close(b.string()); });
  CHECK(closer.wait_for(100ms) == std::future_status::timeout);
  release.set_value();
  REQUIRE(opener.wait_for(20s) == std::future_status::ready);
  REQUIRE(closer.wait_for(20s) == std::future_status::ready);
  auto closed = closer.get();
  REQUIRE(closed.ok());
  CHECK(closed->closed);
  CHECK(closed->segment_id == opener.get().value()->id);
  CHECK(service.segments().list().empty());
}

// ---- typed methods ----------------------------------------------------------------------------

namespace {

// Runs a typed method whose callback is called before it returns (inline executor, nothing to
// wait for) and hands back the outcome.
template <class R, class Call>
svc::Outcome<R> now(Call call) {
  std::optional<svc::Outcome<R>> got;
  call([&](svc::Outcome<R> o) { got.emplace(std::move(o)); });
  REQUIRE(got.has_value());
  return std::move(*got);
}

}  // namespace

TEST_CASE("ctx.search: wait=true answers after the first build, wait=false answers at once",
          "[service][typed]") {
  Harness h;
  svc::ManualExecutor exec;
  svc::Service service(h.sink, exec);  // build_on_open: the build is queued, not run
  auto seg = service.open(h.tree("q").string()).value();
  REQUIRE(exec.pending() == 1);

  trifecta::proto::CtxSearchParams p;
  p.query = "alpha";
  p.wait = false;
  auto early = now<trifecta::proto::CtxSearchResult>(
      [&](auto cb) { service.search(seg, p, std::move(cb)); });
  REQUIRE(early.ok());
  CHECK(early.value().index.state == "building");
  CHECK(early.value().hits.empty());

  p.wait = true;
  std::optional<svc::Outcome<trifecta::proto::CtxSearchResult>> late;
  service.search(seg, p, [&](auto o) { late.emplace(std::move(o)); });
  CHECK_FALSE(late.has_value());  // parked until the build finished
  exec.run_all();
  REQUIRE(late.has_value());
  REQUIRE(late->ok());
  CHECK(late->value().index.state == "ready");
  CHECK(late->value().query == "alpha");
  REQUIRE(late->value().hits.size() == 1);
  // The method chose what the request's telemetry records: the query's hash, never just the text.
  REQUIRE(late->telemetry().has_value());
  CHECK(late->telemetry()->args.contains("query_sha256"));
  CHECK(late->telemetry()->result.at("hits").to_number<std::int64_t>() == 1);

  // Parameter errors are answered at once, before any waiting.
  p.limit = 0;
  auto bad = now<trifecta::proto::CtxSearchResult>([&](auto cb) { service.search(seg, p, std::move(cb)); });
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == trifecta::proto::ErrorCode::kInvalidParams);
  CHECK(bad.error().message == "params.limit: expected 1..1000");
}

TEST_CASE("typed methods sync before answering: an edit on disk is in the next ctx.search and ctx.get",
          "[service][typed]") {
  Harness h;
  svc::InlineExecutor exec;
  svc::Service service(h.sink, exec);
  const fs::path root = h.tree("e");
  auto seg = service.open(root.string()).value();
  REQUIRE(seg->build_state_snapshot() == svc::BuildState::kReady);

  write_text(root / "pkg" / "mod.py", "def zebra():\n    return 2\n");
  trifecta::proto::CtxSearchParams p;
  p.query = "zebra";
  auto r = now<trifecta::proto::CtxSearchResult>([&](auto cb) { service.search(seg, p, std::move(cb)); });
  REQUIRE(r.ok());
  REQUIRE(r.value().hits.size() == 1);

  trifecta::proto::CtxGetParams g;
  g.uris = {"sym://python/pkg.mod/zebra"};
  g.mode = "raw";
  auto got = now<trifecta::proto::CtxGetResult>([&](auto cb) { service.get(seg, g, std::move(cb)); });
  REQUIRE(got.ok());
  CHECK(got.value().errors.empty());
  REQUIRE_FALSE(got.value().chunks.empty());
}

TEST_CASE("sym.resolve and ast.*: selector errors keep their code, tried and suggestions, paths stay in the segment",
          "[service][typed]") {
  Harness h;
  svc::InlineExecutor exec;
  svc::Service service(h.sink, exec);
  auto seg = service.open(h.tree("r").string()).value();
  namespace proto = trifecta::proto;

  auto ok = now<proto::SymResolveResult>(
      [&](auto cb) { service.resolve(seg, proto::SymResolveParams{"sym://python/pkg.mod/alpha"}, std::move(cb)); });
  REQUIRE(ok.ok());

  auto miss = now<proto::SymResolveResult>(
      [&](auto cb) { service.resolve(seg, proto::SymResolveParams{"sym://python/pkg.mod/alpah"}, std::move(cb)); });
  REQUIRE_FALSE(miss.ok());
  CHECK(miss.error().code == proto::ErrorCode::kSymbolNotFound);
  const auto& data = miss.error().data;
  REQUIRE(data.contains("tried"));
  REQUIRE(data.contains("suggestions"));
  CHECK(data.at("tried").as_array().size() >= 1);
  CHECK(data.at("suggestions").as_array().at(0).as_string() == "sym://python/pkg.mod/alpha");
  CHECK_FALSE(data.contains("name"));  // added by the encoder

  proto::AstSkeletonParams sp;
  sp.path = "sym://python/pkg.mod/alpah";
  auto via_uri = now<proto::AstSkeletonResult>([&](auto cb) { service.skeleton(seg, sp, std::move(cb)); });
  REQUIRE_FALSE(via_uri.ok());
  CHECK(via_uri.error().code == proto::ErrorCode::kSymbolNotFound);

  sp.path = "../outside.py";
  auto escape = now<proto::AstSkeletonResult>([&](auto cb) { service.skeleton(seg, sp, std::move(cb)); });
  REQUIRE_FALSE(escape.ok());
  CHECK(escape.error().code == proto::ErrorCode::kPathEscape);

  sp.path = "pkg/mod.py";
  sp.format = "text";
  auto sk = now<proto::AstSkeletonResult>([&](auto cb) { service.skeleton(seg, sp, std::move(cb)); });
  REQUIRE(sk.ok());
  CHECK(sk.value().file == "pkg/mod.py");
  CHECK(sk.value().rendered.has_value());
  CHECK_FALSE(sk.value().skeleton.has_value());
}

TEST_CASE("lsp.*: without a language server the AST answers, saying why", "[service][typed][lsp]") {
  Harness h;
  svc::InlineExecutor exec;
  svc::ServiceOptions o;
  o.lsp_enabled = false;
  o.on_open = [](svc::Segment& seg) { seg.lsp_unavailable = "disabled (test)"; };
  svc::Service service(h.sink, exec, o);
  auto seg = service.open(h.tree("l", "def alpha():\n    return 1\n\nx = alpha()\n").string()).value();
  namespace proto = trifecta::proto;

  proto::LspPositionParams p;
  p.path = "pkg/mod.py";
  p.line = 4;
  p.column = 5;
  auto def = now<proto::LspDefinitionResult>([&](auto cb) { service.definition(seg, p, std::move(cb)); });
  REQUIRE(def.ok());
  CHECK(def.value().backend == "ast");
  CHECK(def.value().lsp_state == "UNAVAILABLE");
  CHECK(def.value().fallback_reason == std::optional<std::string>("lsp_unavailable: disabled (test)"));
  REQUIRE(def.value().locations.size() == 1);
  CHECK(def.value().locations[0].path == "pkg/mod.py");
  CHECK(def.value().locations[0].line == 1);
  REQUIRE(def.telemetry().has_value());
  CHECK(def.telemetry()->result.at("backend").as_string() == "ast");
  CHECK(def.telemetry()->x.at("lsp_state").as_string() == "UNAVAILABLE");

  auto st = now<proto::LspStatusResult>([&](auto cb) { service.lsp_status(seg, {}, std::move(cb)); });
  REQUIRE(st.ok());
  CHECK_FALSE(st.value().enabled);
  CHECK_FALSE(st.value().available);
  CHECK(st.value().state == "UNAVAILABLE");
  CHECK(st.value().reason == "disabled (test)");

  p.wait_ready_ms = -1;
  auto bad = now<proto::LspHoverResult>([&](auto cb) { service.hover(seg, p, std::move(cb)); });
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == proto::ErrorCode::kInvalidParams);
}

TEST_CASE("lsp.definition: Pyright answers once READY (backend lsp), before that the AST does",
          "[service][typed][lsp]") {
  trifecta::test::LspHarness lh;  // io_context driven on this thread
  write_text(lh.root / "main.py",
             "def greet(name):\n    return name\ns = \"\xF0\x9F\x98\x80\xF0\x9F\x98\x80\"; t = greet(s)\n");
  Harness h;
  svc::InlineExecutor exec;
  svc::ServiceOptions o;
  o.on_open = [&](svc::Segment& seg) {
    core::lsp::ClientOptions co;
    co.segment_root = seg.root;
    co.server.path = TRIFECTA_FAKE_LSP_SERVER;
    co.server.name = "fake_lsp_server";
    co.language_id = "python";
    co.server.version = "test";
    co.request_timeout = 2000ms;
    co.ready_timeout = 5000ms;
    co.shutdown_grace = 300ms;
    seg.lsp = std::make_unique<core::lsp::Client>(lh.io, std::move(co));
  };
  svc::Service service(h.sink, exec, o);
  auto seg = service.open(lh.root.string()).value();
  namespace proto = trifecta::proto;
  proto::LspPositionParams p;
  p.path = "main.py";
  p.line = 3;
  p.column = 15;  // `greet` after two emoji

  auto cold = now<proto::LspDefinitionResult>([&](auto cb) { service.definition(seg, p, std::move(cb)); });
  REQUIRE(cold.ok());
  CHECK(cold.value().backend == "ast");
  CHECK(cold.value().fallback_reason == std::optional<std::string>("lsp_not_ready: COLD"));
  REQUIRE(cold.value().locations.size() == 1);
  CHECK(cold.value().locations[0].line == 1);

  seg->lsp->start(lh.root / "main.py");
  REQUIRE(lh.run_until([&] { return seg->lsp->state() == core::lsp::State::kReady; }));
  std::optional<svc::Outcome<proto::LspDefinitionResult>> got;
  service.definition(seg, p, [&](auto r) { got.emplace(std::move(r)); });
  REQUIRE(lh.run_until([&] { return got.has_value(); }));
  REQUIRE(got->ok());
  CHECK(got->value().backend == "lsp");
  CHECK(got->value().lsp_state == "READY");
  CHECK_FALSE(got->value().fallback_reason.has_value());
  REQUIRE(got->value().locations.size() == 1);
  CHECK(got->value().locations[0].line == 1);
  CHECK(got->telemetry()->result.at("backend").as_string() == "lsp");
}

TEST_CASE("ctx.build: progress reaches the caller's listener, then the build report", "[service][typed]") {
  Harness h;
  svc::ManualExecutor exec;
  svc::ServiceOptions o;
  o.build_on_open = false;
  svc::Service service(h.sink, exec, o);
  auto seg = service.open(h.tree("b").string()).value();
  std::size_t calls = 0;
  std::optional<svc::Outcome<trifecta::proto::CtxBuildResult>> got;
  service.build(seg, {}, [&](std::size_t, std::size_t) { ++calls; }, [&](auto r) { got.emplace(std::move(r)); });
  CHECK_FALSE(got.has_value());
  exec.run_all();
  REQUIRE(got.has_value());
  REQUIRE(got->ok());
  CHECK(calls > 0);
  CHECK(got->value().build.files_indexed == 1);
  CHECK(got->value().index.state == "ready");
  // The listener is gone once answered.
  (void)service.rebuild(*seg);
  const std::size_t after = calls;
  (void)service.rebuild(*seg);
  CHECK(calls == after);
}

TEST_CASE("builds run on the build executor: changes made during the first build are applied, "
          "waiters answer on the request executor",
          "[service][freshness]") {
  Harness h;
  SplitService split(h.sink);
  auto& [requests, builds, service] = split;
  const fs::path root = h.tree("during");
  write_text(root / "pkg" / "other.py", "def beta():\n    return 2\n");
  auto seg = service.open(root.string()).value();
  CHECK(builds.pending() == 1);    // the first build went to the build executor
  CHECK(requests.pending() == 0);  // not to the request workers

  // While the build reads the files (after it listed them): edit both, add one, delete none.
  bool edited = false;
  seg->add_progress_listener([&](std::size_t, std::size_t) {
    if (edited) return;
    edited = true;
    write_text(root / "pkg" / "mod.py", "def zulu():\n    return 1\n");
    write_text(root / "pkg" / "other.py", "def yankee():\n    return 2\n");
    write_text(root / "pkg" / "created_during_build.py", "def gamma_new():\n    return 3\n");
  });
  trifecta::proto::CtxSearchParams p;
  p.query = "gamma_new";
  p.wait = true;
  std::optional<svc::Outcome<trifecta::proto::CtxSearchResult>> late;
  service.search(seg, p, [&](auto r) { late.emplace(std::move(r)); });
  // The build, then the settle its sync posted (it applied the edits: the index is out of its
  // steady state until settled), both on the build executor.
  CHECK(builds.run_all() == 2);
  REQUIRE(edited);
  CHECK(seg->index->status().steady);
  CHECK_FALSE(late.has_value());  // the waiter was posted back to the request executor
  requests.run_all();
  REQUIRE(late.has_value());
  REQUIRE(late->ok());
  CHECK(late->value().hits.size() == 1);
  CHECK(hits(*seg, "zulu") == 1);
  CHECK(hits(*seg, "yankee") == 1);
  auto v = seg->index->validate();
  REQUIRE(v.ok());
  CHECK(v->ok());
}

TEST_CASE("sync: the pack_state reaches telemetry with the settle, after the request", "[service][freshness]") {
  Harness h;
  SplitService split(h.sink);
  auto& [requests, builds, service] = split;
  const fs::path root = h.tree("pack");
  auto seg = service.open(root.string()).value();
  CHECK(builds.run_all() == 1);  // the first build
  auto published = [&] {
    h.sink.flush();
    const auto lr = boost::json::parse(trifecta::test::read_text(seg->index->channel().directory() / "last_run.json"));
    return lr.at("pack_state").at("generation").to_number<std::uint64_t>();
  };
  const std::uint64_t built = seg->index->generation();
  CHECK(published() == built);

  write_text(root / "pkg" / "mod.py", "def zebra():\n    return 2\n");
  std::uint64_t applied = built;
  for (int i = 0; i < 200 && applied == built; ++i) {  // the watcher's event, then the sync applies it
    std::this_thread::sleep_for(10ms);
    (void)service.sync(*seg);
    applied = seg->index->generation();
  }
  REQUIRE(applied > built);
  CHECK(hits(*seg, "zebra") == 1);
  // The request's sync did not wait for the pack_state (a hash of every record, a live-term
  // count): it is published on the build executor, after the settle.
  CHECK(published() == built);
  CHECK(builds.run_all() >= 1);
  CHECK(seg->index->status().steady);
  CHECK(published() == applied);
}

TEST_CASE("ctx.validate: drift it finds is repaired in the background, and the answer says so",
          "[service][freshness]") {
  Harness h;
  svc::ManualExecutor exec;
  svc::ServiceOptions o;
  o.start_watcher = [](svc::Segment&) -> core::Result<void> {  // no watcher: edits are not seen
    return core::make_error(core::Errc::kUnavailable, "inotify_init1: Too many open files");
  };
  svc::Service service(h.sink, exec, o);
  const fs::path root = h.tree("drift");
  auto seg = service.open(root.string()).value();
  exec.run_all();
  REQUIRE(seg->build_state_snapshot() == svc::BuildState::kReady);
  write_text(root / "pkg" / "mod.py", "def drifted():\n    return 1\n");
  write_text(root / "pkg" / "added.py", "def added_later():\n    return 1\n");

  auto first = now<trifecta::proto::CtxValidateResult>(
      [&](auto cb) { service.validate(seg, {}, std::move(cb)); });
  REQUIRE(first.ok());
  CHECK_FALSE(first.value().ok);
  CHECK(first.value().repair == std::optional<std::string>("scheduled"));
  CHECK(hits(*seg, "drifted") == 0);  // not yet: the repair is queued
  CHECK(exec.run_all() == 1);
  CHECK(hits(*seg, "drifted") == 1);
  CHECK(hits(*seg, "added_later") == 1);

  auto second = now<trifecta::proto::CtxValidateResult>(
      [&](auto cb) { service.validate(seg, {}, std::move(cb)); });
  REQUIRE(second.ok());
  CHECK(second.value().ok);
  CHECK_FALSE(second.value().repair.has_value());
  CHECK(exec.pending() == 0);
}

TEST_CASE("open: a NUL byte in the segment path is refused, not truncated", "[service]") {
  Harness h;
  svc::InlineExecutor exec;
  svc::Service service(h.sink, exec);
  const fs::path root = h.tree("nul");
  const std::string with_nul = root.string() + std::string("\0/elsewhere", 11);
  auto r = service.open(with_nul);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Errc::kInvalidArgument);
  CHECK(r.error().message.find("NUL") != std::string::npos);
  CHECK(service.segments().list().empty());
}

TEST_CASE("ctx.get: the files shown get a kept parse after the reply and their first edit parses incrementally",
          "[service][typed][freshness]") {
  Harness h;
  SplitService split(h.sink);
  auto& [requests, builds, service] = split;
  const fs::path root = h.tree("keep", "def alpha():\n    return 1\n\n\ndef beta():\n    return 2\n");
  write_text(root / "README.md", "# read me\n");
  auto seg = service.open(root.string()).value();
  CHECK(builds.run_all() == 1);  // the first build
  const auto& cache = seg->index->skeletons();
  CHECK(cache.stats().parse_memos == 0);

  trifecta::proto::CtxGetParams g;
  g.ids = {"pkg/mod.py#alpha", "pkg/mod.py#beta", "README.md"};
  g.mode = "skeleton";
  std::optional<trifecta::proto::CtxGetResult> got;
  service.get(seg, g, [&](auto r) {
    REQUIRE(r.ok());
    got = std::move(r.value());
    CHECK(seg->index->skeletons().stats().parse_memos == 0);  // not before the reply
  });
  requests.run_all();
  REQUIRE(got.has_value());
  CHECK(got->errors.empty());
  CHECK(cache.stats().parse_memos == 0);  // on the build executor, not the request's
  CHECK(builds.run_all() == 1);           // one task: the Python file, once
  CHECK(cache.stats().kept_for_reads == 1);

  write_text(root / "pkg" / "mod.py", "def alpha():\n    return 1\n\n\ndef beta():\n    return 3\n");
  bool applied = false;
  for (int i = 0; i < 200 && !applied; ++i) {  // the watcher's event, then the sync applies it
    std::this_thread::sleep_for(10ms);
    applied = seg->index->sync().reindexed == 1;
  }
  REQUIRE(applied);
  CHECK(cache.stats().incremental_parses == 1);
}

namespace {

// The daemon's loop, played by hand: the waits on a descriptor the background apply asks for, and
// its timers (ServiceOptions::when_readable / schedule_after).
struct FakeLoop {
  struct Wait {
    int fd = -1;
    std::function<void()> fn;
    bool cancelled = false;
    void close_fd() {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  };
  std::vector<std::shared_ptr<Wait>> waits;
  std::vector<std::pair<std::chrono::milliseconds, std::function<void()>>> timers;

  void install(svc::ServiceOptions& o) {
    o.when_readable = [this](int fd, std::function<void()> fn) -> std::function<void()> {
      auto w = std::make_shared<Wait>();
      w->fd = fd;
      w->fn = std::move(fn);
      waits.push_back(w);
      return [w] {
        w->cancelled = true;
        w->close_fd();
      };
    };
    o.schedule_after = [this](std::chrono::milliseconds d, std::function<void()> fn) {
      timers.emplace_back(d, std::move(fn));
    };
  }
  static bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
  }
  // The loop sees the wait's descriptor readable: it closes it and calls the function.
  void fire(std::size_t i) {
    auto w = waits.at(i);
    w->close_fd();
    auto fn = std::move(w->fn);
    fn();
  }
  // The oldest timer runs (its delay is returned).
  std::chrono::milliseconds tick() {
    auto [d, fn] = std::move(timers.front());
    timers.erase(timers.begin());
    fn();
    return d;
  }
};

// A Service played by that loop, its builds (and the background rounds) on an executor of their
// own, with one segment opened and built.
struct LoopedService {
  FakeLoop loop;
  svc::ManualExecutor requests, builds;
  svc::Service service;
  fs::path root;
  std::shared_ptr<svc::Segment> seg;
  LoopedService(Harness& h, const std::string& name)
      : service(h.sink, requests, [this] {
          svc::ServiceOptions o;
          o.build_executor = &builds;
          loop.install(o);
          return o;
        }()),
        root(h.tree(name)),
        seg(service.open(root.string()).value()) {
    CHECK(builds.run_all() == 1);  // the first build; its end starts the waiting
    REQUIRE(loop.waits.size() == 1);
  }
};

}  // namespace

TEST_CASE("background apply: a change no request asks for is applied and settled on the build "
          "executor, the next wait starts after the gap, closing the segment cancels the wait",
          "[service][freshness][background]") {
  Harness h;
  LoopedService ls(h, "background");
  auto& [loop, requests, builds, service, root, seg] = ls;
  const int fd = loop.waits[0]->fd;
  REQUIRE(fd >= 0);
  CHECK(::fcntl(fd, F_GETFD) == FD_CLOEXEC);
  CHECK_FALSE(FakeLoop::readable(fd, 0));  // nothing changed yet
  const std::uint64_t built = seg->index->generation();

  write_text(root / "pkg" / "later.py", "def background_only():\n    return 3\n");
  REQUIRE(FakeLoop::readable(fd, 5000));  // the copy sees the watcher's event
  loop.fire(0);
  REQUIRE(loop.timers.size() == 1);
  CHECK(loop.tick() == svc::Service::kWatchQuiet);  // the burst's grace, then the round is posted
  CHECK(builds.pending() == 1);
  CHECK(requests.pending() == 0);  // never on a request worker
  CHECK(hits(*seg, "background_only") == 0);
  builds.run_one();  // the round: a sync, as a request's would be
  CHECK(hits(*seg, "background_only") == 1);
  CHECK(seg->index->generation() == built + 1);
  CHECK_FALSE(seg->index->status().steady);
  CHECK(builds.run_all() == 1);  // the settle the round posted
  CHECK(seg->index->status().steady);
  // Waiting again only after the gap, on a fresh copy of the descriptor.
  REQUIRE(loop.timers.size() == 1);
  CHECK(loop.waits.size() == 1);
  CHECK(loop.tick() == svc::Service::kWatchGap);
  REQUIRE(loop.waits.size() == 2);
  CHECK(loop.waits[1]->fd >= 0);
  CHECK_FALSE(loop.waits[1]->cancelled);
  CHECK_FALSE(FakeLoop::readable(loop.waits[1]->fd, 0));  // the round drained the watcher

  // A request's sync finds nothing left; a change it applies itself is not applied twice.
  CHECK(service.sync(*seg) == 0);
  write_text(root / "pkg" / "later.py", "def background_twice():\n    return 4\n");
  REQUIRE(FakeLoop::readable(loop.waits[1]->fd, 5000));
  CHECK(service.sync(*seg) > 0);  // the request came first
  CHECK(seg->index->generation() == built + 2);
  loop.fire(1);
  loop.tick();
  builds.run_all();  // the round (nothing to apply) and the request's settle
  CHECK(seg->index->generation() == built + 2);
  CHECK(hits(*seg, "background_twice") == 1);
  CHECK(loop.tick() == svc::Service::kWatchGap);
  REQUIRE(loop.waits.size() == 3);

  // Closing the segment (its last holder gone) cancels the pending wait: no inotify copy is left.
  REQUIRE(service.close(root.string()).ok());
  seg.reset();
  requests.run_all();
  builds.run_all();
  CHECK(loop.waits[2]->cancelled);
  CHECK(loop.waits[2]->fd == -1);
}

TEST_CASE("background apply: stop_watching_changes cancels the waits, a late readiness posts "
          "nothing, and without the loop's hooks nothing waits",
          "[service][freshness][background]") {
  Harness h;
  LoopedService ls(h, "stopping");
  auto& [loop, requests, builds, service, root, seg] = ls;
  auto late = loop.waits[0]->fn;  // as if the descriptor became readable as the daemon stopped
  service.stop_watching_changes();
  CHECK(loop.waits[0]->cancelled);
  late();
  REQUIRE(loop.timers.size() == 1);
  loop.tick();
  CHECK(builds.pending() == 0);  // no round
  auto after = service.open(h.tree("after_stop").string()).value();
  CHECK(builds.run_all() == 1);  // its build: no wait at its end
  CHECK(loop.waits.size() == 1);

  SplitService plain(h.sink);  // no when_readable / schedule_after: requests' syncs only
  auto other = plain.service.open(h.tree("plain").string()).value();
  CHECK(plain.builds.run_all() == 1);
  write_text(other->root / "pkg" / "mod.py", "def only_by_request():\n    return 1\n");
  std::this_thread::sleep_for(100ms);
  CHECK(plain.builds.pending() == 0);
  CHECK(hits(*other, "only_by_request") == 0);
  CHECK(plain.service.sync(*other) > 0);
  CHECK(hits(*other, "only_by_request") == 1);
}
