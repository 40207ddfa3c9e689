// Merged navigation answers (issue 13) through a real trifectad, CLI and the REAL Pyright: on an
// untyped tree where Pyright answers nothing (a method on an untyped loop variable), only outside
// the tree (`hasher.encode` → typeshed's str.encode, as in Django's hashers.py) or with an
// Unknown hover, the AST's answer is added, labelled and ranked; references are Pyright's
// confirmed set plus the AST candidates it missed, unrelated classes filtered. Skipped (with a
// WARN) only when no language server or node is installed.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "../support/cli_json.hpp"
#include "lang/python/pyright.hpp"
#include "telemetry/reader.hpp"
#include "util/hash.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

std::optional<std::string> pyright_missing() {
  auto s = trifecta::core::lang::python::discover_server(
      trifecta::core::lang::python::DiscoveryInputs::from_env());
  if (!s) return s.error().message;
  if (::system("node --version > /dev/null 2>&1") != 0) return std::string("node is not installed");
  return std::nullopt;
}

// An untyped project shaped like the Django code of issue 13.
struct Tree {
  TempDir tmp;
  fs::path root;
  Tree() {
    root = tmp.path() / "proj";
    fs::create_directories(root / "app");
    write_text(root / "app/__init__.py", "");
    write_text(root / "app/migration.py",
               "class Migration:\n"
               "    def apply(self, state, editor):\n"
               "        return state\n");
    write_text(root / "app/operations.py",
               "class Operation:\n"
               "    def apply(self):\n"
               "        return None\n"
               "\n"
               "\n"
               "def run():\n"
               "    op = Operation()\n"
               "    return op.apply()\n");
    write_text(root / "app/executor.py",
               "from app.migration import Migration\n"
               "\n"
               "\n"
               "def migrate(plan, state=None):\n"
               "    for migration, backwards in plan:\n"
               "        state = migration.apply(state, None)\n"
               "    return state\n");
    write_text(root / "app/registry.py", "HASHERS = []\n");
    write_text(root / "app/hashers.py",
               "class BasePasswordHasher:\n"
               "    def encode(self, password, salt):\n"
               "        raise NotImplementedError\n"
               "\n"
               "\n"
               "def get_hashers():\n"
               "    from app import registry\n"
               "    return registry.HASHERS\n"
               "\n"
               "\n"
               "def get_hasher(algorithm='default'):\n"
               "    if hasattr(algorithm, 'algorithm'):\n"
               "        return algorithm\n"
               "    return get_hashers()[0]\n"
               "\n"
               "\n"
               "def make_password(password, salt=None, hasher='default'):\n"
               "    hasher = get_hasher(hasher)\n"
               "    return hasher.encode(password, salt)\n");
    root = fs::canonical(root);
  }
};

const json::object& first(const json::object& r) {
  REQUIRE_FALSE(r.at("locations").as_array().empty());
  return r.at("locations").as_array()[0].as_object();
}

}  // namespace

TEST_CASE("real Pyright: merged definition, hover and references with labels",
          "[lsp][daemon][pyright][merge]") {
  if (auto why = pyright_missing()) {
    WARN("skipped: no language server on this machine: " << *why);
    return;
  }
  DaemonProcess d;
  Tree t;
  const std::string seg = t.root.string();

  {  // Pyright finds nothing on an untyped receiver: the AST's method, source ast
    auto r = result_of(d.cli(
        {"--json", "def", "--timeout", "120", "-s", seg, "--wait", "60000", "app/executor.py:6:27"},
        150s));
    INFO(json::serialize(r));
    CHECK(r.at("lsp_state").as_string() == "READY");
    CHECK(r.at("backend").as_string() == "lsp+ast");
    CHECK(r.at("merge_reason").as_string() == "lsp_empty");
    CHECK(first(r).at("path").as_string() == "app/migration.py");
    CHECK(first(r).at("line").as_int64() == 2);
    CHECK(first(r).at("source").as_string() == "ast");
    CHECK(first(r).at("confidence").as_double() > 0);

    // Hover: Pyright's is empty or typed Unknown, so the AST's signature is shown.
    auto h = result_of(d.cli({"--json", "hover", "-s", seg, "app/executor.py:6:27"}));
    INFO(json::serialize(h));
    CHECK(h.at("backend").as_string() == "lsp+ast");
    const std::string why(h.at("merge_reason").as_string());
    CHECK((why == "lsp_empty" || why == "lsp_unknown"));
    CHECK_THAT(std::string(h.at("contents").as_string()), Catch::Contains("def apply"));

    // The text rendering labels the location and says why the AST was asked.
    auto text = d.cli({"def", "-s", seg, "app/executor.py:6:27"});
    CHECK(text.exit_code == 0);
    CHECK_THAT(text.out, Catch::Contains("backend lsp+ast"));
    CHECK_THAT(text.out, Catch::Contains("AST asked: lsp_empty"));
    CHECK_THAT(text.out, Catch::Contains("[ast "));
  }

  {  // Pyright answers only outside the tree: the same module's method first, Pyright's kept
    auto r = result_of(d.cli(
        {"--json", "def", "--timeout", "120", "-s", seg, "--wait", "60000", "app/hashers.py:19:19"},
        150s));
    INFO(json::serialize(r));
    CHECK(r.at("backend").as_string() == "lsp+ast");
    CHECK(r.at("merge_reason").as_string() == "lsp_external");
    CHECK(first(r).at("path").as_string() == "app/hashers.py");
    CHECK(first(r).at("line").as_int64() == 2);
    bool kept_external = false;
    for (const auto& l : r.at("locations").as_array())
      kept_external |= l.at("external").as_bool() && l.at("source").as_string() == "lsp";
    CHECK(kept_external);
  }

  {  // Pyright inside the tree: its answer alone, labelled lsp
    auto r = result_of(d.cli(
        {"--json", "def", "--timeout", "120", "-s", seg, "--wait", "60000", "app/hashers.py:18:14"},
        150s));
    INFO(json::serialize(r));
    CHECK(r.at("backend").as_string() == "lsp");
    CHECK_FALSE(r.contains("merge_reason"));
    CHECK(first(r).at("line").as_int64() == 11);
    CHECK(first(r).at("source").as_string() == "lsp");
  }

  {  // references: confirmed plus candidates, an unrelated class filtered; --confirmed-only
    auto r = result_of(d.cli({"--json", "refs", "--timeout", "120", "-s", seg, "--wait", "60000",
                              "app/migration.py:2:9"},
                             150s));
    INFO(json::serialize(r));
    CHECK(r.at("backend").as_string() == "lsp+ast");
    CHECK(r.at("confirmed").as_int64() >= 1);
    CHECK(r.at("candidates").as_int64() >= 1);
    CHECK(r.at("filtered").as_int64() >= 2);  // Operation.apply and op.apply on an Operation
    bool call_site = false;
    for (const auto& v : r.at("locations").as_array()) {
      const auto& l = v.as_object();
      CHECK(l.at("path").as_string() != "app/operations.py");
      if (l.at("path").as_string() == "app/executor.py" && l.at("line").as_int64() == 6) {
        call_site = true;
        CHECK(l.at("status").as_string() == "candidate");
        CHECK(l.at("source").as_string() == "ast");
      }
    }
    CHECK(call_site);
    CHECK(r.at("locations").as_array()[0].at("status").as_string() == "confirmed");

    auto c =
        result_of(d.cli({"--json", "refs", "--confirmed-only", "-s", seg, "app/migration.py:2:9"}));
    INFO(json::serialize(c));
    CHECK(c.at("backend").as_string() == "lsp");
    CHECK(c.at("candidates").as_int64() == 0);
    for (const auto& v : c.at("locations").as_array())
      CHECK(v.at("status").as_string() == "confirmed");
  }

  // Telemetry: merges are not fallbacks; the event says how Pyright's own answer looked.
  REQUIRE(d.stop() == 0);
  const auto events = trifecta::core::telemetry::read_events(
      d.telemetry_dir() / trifecta::core::segment_id_of(seg) / "events.jsonl");
  REQUIRE(events);
  int merged = 0, fallbacks = 0;
  for (const auto& e : events->events) {
    const std::string cmd(e.at("cmd").as_string());
    if (cmd == "lsp.fallback") ++fallbacks;
    if (cmd.rfind("lsp.", 0) != 0 || !e.at("result").as_object().contains("lsp_outcome")) continue;
    const auto& res = e.at("result").as_object();
    if (res.at("backend").as_string() == "lsp+ast") {
      ++merged;
      CHECK(res.at("ast_added").as_bool());
      CHECK(res.at("fallback").as_bool() == false);
    }
  }
  CHECK(merged >= 1);
  CHECK(fallbacks == 0);
}
