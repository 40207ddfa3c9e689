// Pyright's call hierarchy and workspace/symbol through a real trifectad, CLI and the REAL
// Pyright (issue 13): `calls` answers from Pyright's callHierarchy when READY (edges labelled
// lsp, depth 2 expanded by further incomingCalls), and `sym --find` merges Pyright's
// workspace/symbol with the skeleton index (union by file and line, skeleton first). Skipped
// (with a WARN) only when no language server or node is installed.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "../support/cli_json.hpp"
#include "lang/python/pyright.hpp"

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

struct Tree {
  TempDir tmp;
  fs::path root;
  Tree() {
    root = tmp.path() / "proj";
    fs::create_directories(root / "app");
    write_text(root / "app/__init__.py", "");
    write_text(root / "app/core.py",
               "def compute(x):\n"
               "    return x * 2\n"
               "\n"
               "\n"
               "def report(x):\n"
               "    total_sum = compute(x) + 1\n"
               "    return total_sum\n");
    write_text(root / "app/main.py",
               "from app.core import report\n"
               "\n"
               "\n"
               "def run():\n"
               "    return report(3)\n");
    // A call through a union of classes that share the method: Pyright answers it once per member.
    write_text(root / "app/pools.py",
               "class Pool:\n"
               "    def connect(self):\n"
               "        return 1\n"
               "\n"
               "\n"
               "class Queue(Pool):\n"
               "    pass\n"
               "\n"
               "\n"
               "class Single(Pool):\n"
               "    def connect(self):\n"
               "        return 2\n"
               "\n"
               "\n"
               "def get_pool(kind):\n"
               "    return Queue() if kind else Single()\n"
               "\n"
               "\n"
               "def caller(kind):\n"
               "    return get_pool(kind).connect()\n");
    root = fs::canonical(root);
  }
};

const json::object* edge_to(const json::object& r, const char* side, const std::string& name) {
  for (const auto& e : r.at(side).as_array())
    if (e.at("item").at("name").as_string() == name) return &e.as_object();
  return nullptr;
}

}  // namespace

TEST_CASE("real Pyright: calls from callHierarchy labelled lsp, sym --find merges workspace/symbol",
          "[lsp][daemon][pyright][calls]") {
  if (auto why = pyright_missing()) {
    WARN("skipped: no language server on this machine: " << *why);
    return;
  }
  DaemonProcess d;
  Tree t;
  const std::string seg = t.root.string();

  {  // incoming, two levels: report calls compute, run calls report
    auto r = result_of(d.cli({"--json", "calls", "--timeout", "120", "-s", seg, "--wait", "60000",
                              "--incoming", "--depth", "2", "app/core.py:1:5"},
                             150s));
    INFO(json::serialize(r));
    CHECK(r.at("lsp_state").as_string() == "READY");
    CHECK(r.at("backend").as_string() == "lsp");
    CHECK_FALSE(r.contains("fallback_reason"));
    CHECK(r.at("root").at("qualname").as_string() == "compute");
    CHECK(r.at("root").at("uri").as_string() == "sym://python/app.core/compute");
    const auto* report = edge_to(r, "incoming", "report");
    REQUIRE(report);
    CHECK(report->at("source").as_string() == "lsp");
    CHECK(report->at("depth").as_int64() == 1);
    CHECK(report->at("item").at("file").as_string() == "app/core.py");
    CHECK(report->at("item").at("line").as_int64() == 5);
    CHECK(report->at("item").at("signature").as_string() == "(x)");  // from the skeleton
    REQUIRE(report->at("sites").as_array().size() == 1);
    CHECK(report->at("sites").as_array()[0].at("line").as_int64() == 6);
    CHECK(report->at("sites").as_array()[0].at("source").as_string() == "lsp");
    const auto* run = edge_to(r, "incoming", "run");
    REQUIRE(run);
    CHECK(run->at("depth").as_int64() == 2);
    CHECK(run->at("parent").as_string() == "app/core.py:report");
    CHECK(run->at("item").at("file").as_string() == "app/main.py");
    CHECK(r.at("outgoing").as_array().empty());

    // Outgoing: what report calls, from Pyright too.
    auto o = result_of(d.cli({"--json", "calls", "-s", seg, "--outgoing", "app/core.py:5:5"}));
    INFO(json::serialize(o));
    CHECK(o.at("backend").as_string() == "lsp");
    const auto* compute = edge_to(o, "outgoing", "compute");
    REQUIRE(compute);
    CHECK(compute->at("source").as_string() == "lsp");
    CHECK(compute->at("item").at("line").as_int64() == 1);

    // A caller Pyright lists once per member of a union is one caller with its one call site.
    auto u = result_of(d.cli({"--json", "calls", "-s", seg, "--incoming", "app/pools.py:2:9"}));
    INFO(json::serialize(u));
    CHECK(u.at("backend").as_string() == "lsp");
    REQUIRE(u.at("incoming").as_array().size() == 1);
    const auto& via_union = u.at("incoming").as_array()[0].as_object();
    CHECK(via_union.at("item").at("name").as_string() == "caller");
    REQUIRE(via_union.at("sites").as_array().size() == 1);
    CHECK(via_union.at("sites").as_array()[0].at("line").as_int64() == 20);

    // The text rendering names the backend.
    auto text = d.cli({"calls", "-s", seg, "--incoming", "app/core.py:1:5"});
    CHECK(text.exit_code == 0);
    CHECK_THAT(text.out, Catch::Contains("[lsp]"));
    CHECK_THAT(text.out, Catch::Contains("report"));
  }

  {  // Pyright finds no call at a position that is not a function: the AST answers, says why
    auto r = result_of(d.cli({"--json", "calls", "-s", seg, "app/core.py:2:5"}));
    INFO(json::serialize(r));
    CHECK(r.at("backend").as_string() == "ast");
    CHECK_THAT(std::string(r.at("fallback_reason").as_string()), Catch::StartsWith("lsp_"));
  }

  {  // sym --find: the skeleton's definition once (not twice), Pyright asked
    auto r = result_of(d.cli({"--json", "sym", "-s", seg, "--find", "compute"}));
    INFO(json::serialize(r));
    const auto& backends = r.at("backends").as_array();
    REQUIRE(backends.size() == 2);
    CHECK(backends[1].as_string() == "lsp");
    CHECK_FALSE(r.contains("lsp_reason"));
    int compute = 0;
    for (const auto& m : r.at("matches").as_array())
      if (m.at("file").as_string() == "app/core.py" && m.at("line").as_int64() == 1) {
        ++compute;
        CHECK(m.at("source").as_string() == "ast");
      }
    CHECK(compute == 1);
    CHECK(r.at("matches").as_array()[0].at("qualname").as_string() == "compute");
  }

  {  // a name only Pyright indexes (a local variable): appended, labelled lsp
    auto r = result_of(d.cli({"--json", "sym", "-s", seg, "--find", "total_sum"}));
    INFO(json::serialize(r));
    CHECK(r.at("backend").as_string() == "lsp+ast");
    REQUIRE(r.at("matches").as_array().size() == 1);
    const auto& m = r.at("matches").as_array()[0];
    CHECK(m.at("source").as_string() == "lsp");
    CHECK(m.at("file").as_string() == "app/core.py");
    CHECK(m.at("line").as_int64() == 6);
    CHECK(m.at("match").as_string() == "exact");
  }
}
