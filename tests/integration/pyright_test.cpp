// lsp::Client against the REAL Pyright installed by scripts/setup.sh, on the fixture project
// tests/fixtures/pyproject_small (copied to a temp dir, since the test edits it). Skipped — with a
// WARN naming the reason — only when the server binary or node is absent.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cstdlib>

#include "../support/lsp_harness.hpp"
#include "lang/python/pyright.hpp"
#include "telemetry/sink.hpp"

using namespace trifecta;
using namespace trifecta::core;
using namespace trifecta::core::lsp;
using namespace trifecta::core::lang::python;
using namespace std::chrono_literals;
using test::LspHarness;

namespace {

bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string_view rest = path;
  while (true) {
    const auto colon = rest.find(':');
    const fs::path candidate = fs::path(rest.substr(0, colon)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    rest.remove_prefix(colon + 1);
  }
}

// The server to test, or the reason there is none.
Result<ServerBinary> pyright_or_reason() {
  auto in = DiscoveryInputs::from_env();
  in.lsp_enabled_env.reset();  // the test is about the server, not the switch
  auto b = discover_server(in);
  if (!b) return b;
  if (!on_path("node")) return make_error(Errc::kUnavailable, "node is not on PATH");
  return b;
}

struct Project : LspHarness {
  Project() {
    fs::copy(fs::path(TRIFECTA_FIXTURES_DIR) / "pyproject_small", root, fs::copy_options::recursive);
  }
  ClientOptions options(ServerBinary server) {
    ClientOptions o;
    o.segment_root = root;
    o.server = std::move(server);
    o.language_id = "python";
    o.settings = default_settings(o.server);
    o.request_timeout = 15s;
    o.ready_timeout = 60s;
    o.restart.initial_delay = 50ms;
    o.on_state_change = recorder();
    return o;
  }
  bool ready(const Client& c) { return run_until([&] { return c.state() == State::kReady; }, 90s); }
};

std::string where(const Location& l) {
  return l.path + ":" + std::to_string(l.line) + ":" + std::to_string(l.column);
}

}  // namespace

TEST_CASE("real Pyright: warm-up, definition, hover, references, diagnostics, edits, kill -9 and back",
          "[pyright]") {
  auto server = pyright_or_reason();
  if (!server) {
    WARN("Pyright test skipped: " << server.error().message);
    SUCCEED();
    return;
  }
  Project p;
  telemetry::SinkOptions so;
  so.dir_override = p.tmp.path() / "telemetry";
  telemetry::Sink sink(so);
  auto options = p.options(*server);
  options.telemetry = sink.open_segment(p.root);
  Client c(p.io, std::move(options));
  Stopwatch sw;
  c.start("pkg/service.py");
  REQUIRE(p.ready(c));
  INFO("spawn to READY: " << sw.elapsed_ms() << " ms");
  CHECK(p.path() == "COLD>WARMING WARMING>READY ");
  CHECK(c.status().server_requests_answered >= 1);  // workspace/configuration at least
  CHECK(c.status().version == server->version);

  SECTION("definition resolves across modules, with character columns") {
    auto def = p.definition(c, "pkg/service.py", 8, 12);  // make_user(name)
    REQUIRE(def.ok());
    REQUIRE(def->size() == 1);
    CHECK(where(def->at(0)) == "pkg/models.py:17:5");
    CHECK(def->at(0).end_column == 14);

    def = p.definition(c, "pkg/service.py", 12, 19);  // user: User
    REQUIRE(def.ok());
    REQUIRE(def->size() == 1);
    CHECK(where(def->at(0)) == "pkg/models.py:6:7");

    def = p.definition(c, "pkg/service.py", 9, 17);  // user.greeting()
    REQUIRE(def.ok());
    REQUIRE(def->size() == 1);
    CHECK(where(def->at(0)) == "pkg/models.py:12:9");

    // After two emoji (2 UTF-16 units each) `welcome` is character 26, UTF-16 27.
    def = p.definition(c, "main.py", 4, 26);
    REQUIRE(def.ok());
    REQUIRE(def->size() == 1);
    CHECK(where(def->at(0)) == "pkg/service.py:7:5");

    // A stdlib target keeps its real path and is marked external.
    def = p.definition(c, "pkg/service.py", 13, 20);  // os.path.join
    REQUIRE(def.ok());
    REQUIRE_FALSE(def->empty());
    CHECK(def->at(0).external);
    CHECK_THAT(def->at(0).path, Catch::EndsWith("posixpath.pyi"));
    CHECK(fs::path(def->at(0).path).is_absolute());
    // ... while telemetry names it external/<hash8>-posixpath.pyi, never by its absolute path.
    sink.flush();
    const std::string events = test::read_text(sink.open_segment(p.root).directory() / "events.jsonl");
    CHECK_THAT(events, Catch::Contains(R"("target_file":"external/)"));
    CHECK_THAT(events, Catch::Contains(R"(-posixpath.pyi","target_line":)"));
    CHECK(events.find(def->at(0).path) == std::string::npos);
    CHECK(events.find(p.root.string()) == std::string::npos);
  }

  SECTION("hover shows the signature") {
    auto h = p.hover(c, "pkg/service.py", 8, 14);
    REQUIRE(h.ok());
    REQUIRE(h->has_value());
    // Pyright renders long signatures one parameter per line.
    CHECK((*h)->kind == "markdown");
    CHECK_THAT((*h)->contents, Catch::Contains("def make_user("));
    CHECK_THAT((*h)->contents, Catch::Contains("name: str"));
    CHECK_THAT((*h)->contents, Catch::Contains("age: int = 0"));
    CHECK_THAT((*h)->contents, Catch::Contains(") -> User"));
    CHECK_THAT((*h)->contents, Catch::Contains("Create a user."));  // the docstring
    REQUIRE((*h)->range.has_value());
    CHECK(where(*(*h)->range) == "pkg/service.py:8:12");
  }

  SECTION("references find the declaration, the import and the call") {
    auto refs = p.references(c, "pkg/models.py", 17, 5);
    REQUIRE(refs.ok());
    std::vector<std::string> got;
    for (const auto& l : *refs) got.push_back(where(l));
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<std::string>{"pkg/models.py:17:5", "pkg/service.py:4:30", "pkg/service.py:8:12"});
  }

  SECTION("diagnostics: clean file, then an edit brings an error, then fixing it clears it") {
    auto clean = p.diagnostics(c, "pkg/service.py", 20s);
    REQUIRE(clean.ok());
    CHECK(clean->empty());

    const std::string original = test::read_text(p.root / "pkg/service.py");
    const std::string broken = original + "\n\ndef broken(user: User) -> int:\n    return user.missing_attr\n";
    c.did_change("pkg/service.py", broken);
    auto dirty = p.diagnostics(c, "pkg/service.py", 20s);
    REQUIRE(dirty.ok());
    REQUIRE(dirty->size() >= 1);
    const Diagnostic& d = dirty->at(0);
    CHECK(d.line == 17);
    CHECK(d.column == 17);
    CHECK(d.severity == "error");
    CHECK(d.code == "reportAttributeAccessIssue");
    CHECK_THAT(d.message, Catch::Contains("missing_attr"));

    c.did_change("pkg/service.py", original);
    auto fixed = p.diagnostics(c, "pkg/service.py", 20s);
    REQUIRE(fixed.ok());
    CHECK(fixed->empty());
  }

  SECTION("kill -9 mid-session: in-flight requests fail typed, the server comes back READY") {
    const pid_t pid = c.status().pid;
    REQUIRE(pid > 0);
    // Freeze the server so the request is certainly in flight when it dies.
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    std::optional<Result<std::vector<Location>>> inflight;
    c.definition("pkg/service.py", {8, 12}, [&](auto r) { inflight.emplace(std::move(r)); });
    REQUIRE(p.run_until([&] { return c.status().pending == 1; }, 5s));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    REQUIRE(p.run_until([&] { return inflight.has_value(); }, 10s));
    REQUIRE_FALSE(inflight->ok());
    CHECK(inflight->error().code == Errc::kUnavailable);
    CHECK(c.state() != State::kReady);

    REQUIRE(p.run_until([&] { return p.count_to(State::kReady) == 2; }, 90s));
    CHECK(p.path() == "COLD>WARMING WARMING>READY READY>FAILED FAILED>WARMING WARMING>READY ");
    CHECK(p.transitions[2].reason == "server crashed: killed by signal 9 (Killed)");
    CHECK(c.status().restarts == 1);
    auto def = p.definition(c, "pkg/service.py", 8, 12);
    REQUIRE(def.ok());
    REQUIRE(def->size() == 1);
    CHECK(where(def->at(0)) == "pkg/models.py:17:5");
  }

  bool stopped = false;
  c.stop([&] { stopped = true; });
  REQUIRE(p.run_until([&] { return stopped; }, 10s));
  CHECK(c.state() == State::kCold);
}

// A package-root segment (`-s …/site/shop`, the root holds __init__.py): `from shop.util import
// …` resolves only through the parent, which the layout gives Pyright as extraPaths. Without it
// (the control) the same definition finds nothing in the tree.
TEST_CASE("real Pyright: a package-root segment resolves its own absolute imports through extraPaths",
          "[pyright][layout]") {
  auto server = pyright_or_reason();
  if (!server) {
    WARN("Pyright test skipped: " << server.error().message);
    SUCCEED();
    return;
  }
  auto definition_in = [&](bool with_layout, lsp::Status* status_out) {
    LspHarness h;
    const fs::path site = h.root / "site";
    const fs::path pkg = site / "shop";
    test::write_text(pkg / "__init__.py", "");
    test::write_text(pkg / "util.py", "def price(amount, rate):\n    return amount * rate\n");
    test::write_text(pkg / "orders" / "__init__.py", "");
    test::write_text(pkg / "orders" / "cart.py",
                     "from shop.util import price\nfrom shop import util\n\n\ndef total(a):\n"
                     "    return price(a, 2) + util.price(a, 3)\n");
    const fs::path root = fs::canonical(pkg);
    const Layout layout = detect_layout(root);
    REQUIRE(layout.package == "shop");
    ClientOptions o;
    o.segment_root = root;
    o.server = *server;
    o.language_id = "python";
    o.settings = default_settings(o.server);
    if (with_layout) add_layout_settings(layout, o.settings);
    o.request_timeout = 30s;
    o.ready_timeout = 90s;
    Client c(h.io, std::move(o));
    c.start("orders/cart.py");
    REQUIRE(h.run_until([&] { return c.state() == State::kReady; }, 120s));
    std::vector<std::string> out;
    for (int col : {12, 31}) {  // price(…), util.price(…)
      auto def = h.definition(c, "orders/cart.py", 6, col);
      REQUIRE(def.ok());
      for (const auto& l : *def) out.push_back(where(l));
    }
    if (status_out) *status_out = c.status();
    return out;
  };
  lsp::Status st;
  const auto with = definition_in(true, &st);
  CHECK(with == std::vector<std::string>{"util.py:1:5", "util.py:1:5"});
  // lsp status: time to READY is its own figure (it stops growing once READY).
  CHECK(st.time_to_ready_ms > 0);
  CHECK(st.time_to_ready_ms <= st.uptime_ms);
  const auto without = definition_in(false, nullptr);
  for (const auto& w : without) CHECK(w.rfind("util.py", 0) != 0);
}
