// Integration spec of `trifecta mcp`'s own protocol handling: the real binary as a subprocess
// on pipes, against a private trifectad (--no-lsp, so answers come from the AST and the index)
// on a small tree. Initialize and version negotiation, requests before initialize, unknown
// methods, malformed and huge lines, tool schemas, bad tool arguments, budgets and cursors,
// resources, progress, cancellation, client roots, a lost daemon, and end of input mid-call.
// (The official TypeScript SDK client drives the same server in tests/mcp/.)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>

#include "../support/process.hpp"
#include "mcp/schema.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

struct Tree {
  TempDir tmp;
  fs::path root;
  Tree() {
    root = fs::canonical(tmp.path());
    write_text(root / "pkg/__init__.py", "");
    write_text(root / "pkg/service.py",
               "\"\"\"Services.\"\"\"\nfrom pkg.models import make_user\n\n\n"
               "def welcome(name: str) -> str:\n    \"\"\"Greet someone.\"\"\"\n"
               "    return make_user(name).greeting()\n\n\n"
               "def welcome_back(name: str) -> str:\n    return welcome(name) + ' again'\n");
    write_text(root / "pkg/models.py",
               "class User:\n    def __init__(self, name):\n        self.name = name\n\n"
               "    def greeting(self):\n        return 'hello ' + self.name\n\n\n"
               "def make_user(name):\n    return User(name)\n");
    std::string many;
    for (int i = 0; i < 60; ++i) {
      many += "def frob_" + std::to_string(i) + "(x):\n    \"\"\"Frobnicate variant " +
              std::to_string(i) + " of the widget welcome.\"\"\"\n    return x\n\n\n";
    }
    write_text(root / "pkg/many.py", many);
  }
};

// `trifecta mcp` on pipes: write lines to its stdin, read lines from its stdout.
class Mcp {
 public:
  Mcp(const DaemonProcess& d, std::vector<std::string> args,
      std::map<std::string, std::string> env_extra = {}, const fs::path& cwd = {}) {
    // A server that died before reading its stdin must fail `send`'s REQUIRE, not kill this
    // test process with SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    int in[2], out[2];
    REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    err_path_ = d.dir() / ("mcp-" + std::to_string(counter()++) + ".stderr");
    const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    std::vector<std::string> argv{TRIFECTA_BIN, "mcp"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto env = d.env();
    for (auto& [k, v] : env_extra) env[k] = v;
    const auto envv = make_env(env);
    std::vector<char*> a, e;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    for (const auto& s : envv) e.push_back(const_cast<char*>(s.c_str()));
    e.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err, 2);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
    REQUIRE(posix_spawn(&pid_, a[0], &fa, nullptr, a.data(), e.data()) == 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err);
    in_ = in[1];
    out_ = out[0];
  }
  ~Mcp() {
    close_stdin();
    if (pid_ > 0 && !wait_exit(pid_, 5s)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  void send(std::string_view line) {
    std::string l(line);
    l += '\n';
    std::string_view rest = l;
    while (!rest.empty()) {
      const ssize_t n = ::write(in_, rest.data(), rest.size());
      REQUIRE(n > 0);
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void send(const json::object& v) { send(std::string_view(json::serialize(v))); }
  // The next line from stdout as JSON; nullopt on timeout or EOF.
  std::optional<json::object> next(std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        const std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        json::value v = json::parse(l);  // stdout carries protocol messages only
        REQUIRE(v.is_object());
        return v.as_object();
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char b[65536];
      const ssize_t n = ::read(out_, b, sizeof b);
      if (n <= 0) return std::nullopt;
      buf_.append(b, static_cast<std::size_t>(n));
    }
  }
  // The reply to request `id` (notifications before it are kept in `notes`).
  json::object reply(const json::value& id, std::chrono::milliseconds timeout = 30s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto m = next(std::max(left, 1ms));
      if (!m) FAIL("no reply to " << json::serialize(id) << "; stderr: " << stderr_text());
      if (const auto* mid = m->if_contains("id"); mid && *mid == id && !m->contains("method"))
        return *m;
      notes.push_back(*m);
    }
  }
  json::object request(std::int64_t id, std::string_view method, json::object params = {}) {
    send(json::object{
        {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
    return reply(id);
  }
  json::object initialize(std::string_view version = "2025-11-25", json::object caps = {}) {
    auto r = request(0, "initialize",
                     {{"protocolVersion", version},
                      {"capabilities", std::move(caps)},
                      {"clientInfo", {{"name", "mcp_server_test"}, {"version", "1"}}}});
    send(json::object{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    return r;
  }
  json::object call(std::int64_t id, std::string_view tool, json::object args) {
    const auto r = request(id, "tools/call", {{"name", tool}, {"arguments", std::move(args)}});
    INFO(json::serialize(r));
    REQUIRE(r.contains("result"));
    return r.at("result").as_object();
  }
  void close_stdin() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }
  std::optional<int> wait(std::chrono::milliseconds t) {
    auto c = wait_exit(pid_, t);
    if (c) pid_ = -1;
    return c;
  }
  std::string stderr_text() const { return read_text(err_path_); }
  // Threads of the server process.
  std::size_t threads() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e :
         fs::directory_iterator("/proc/" + std::to_string(pid_) + "/task"))
      ++n;
    return n;
  }

  std::vector<json::object> notes;

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string buf_;
  fs::path err_path_;
};

std::int64_t error_code(const json::object& reply) {
  INFO(json::serialize(reply));
  REQUIRE(reply.contains("error"));
  return reply.at("error").at("code").as_int64();
}

std::string text_of(const json::object& result) {
  return std::string(result.at("content").at(0).at("text").as_string());
}

const std::vector<std::string> kTools = {"search", "get",         "find_symbol", "outline",
                                         "map",    "definition",  "hover",       "references",
                                         "calls",  "diagnostics", "status"};

}  // namespace

TEST_CASE("initialize answers the client's revision when supported, else the latest", "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  for (const std::string v :
       {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "1999-01-01", "2026-99-99"}) {
    Mcp m(d, {"-s", t.root.string()});
    const auto r = m.initialize(v);
    INFO(v << ": " << json::serialize(r));
    const auto& res = r.at("result").as_object();
    const std::string expect = v.rfind("20", 0) == 0 && v != "2026-99-99" ? v : "2025-11-25";
    CHECK(res.at("protocolVersion").as_string() == expect);
    CHECK(res.at("serverInfo").at("name").as_string() == "trifecta");
    CHECK(res.at("capabilities").as_object().contains("tools"));
    CHECK(res.at("capabilities").as_object().contains("resources"));
    // Fields a revision lacks are left out.
    const auto tools = m.request(1, "tools/list").at("result").at("tools").as_array();
    const auto& first = tools.at(0).as_object();
    const bool v0618 = expect >= "2025-06-18";
    const bool v0326 = expect >= "2025-03-26";
    CHECK(first.contains("outputSchema") == v0618);
    CHECK(first.contains("title") == v0618);
    CHECK(first.contains("annotations") == v0326);
    CHECK(res.at("serverInfo").as_object().contains("title") == v0618);
    const auto call = m.call(2, "search", {{"query", "welcome"}});
    CHECK(call.contains("structuredContent") == v0618);
    CHECK(call.at("isError") == false);
  }
}

TEST_CASE("a second initialize, requests before initialize and unknown methods get JSON-RPC errors",
          "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string()});
  CHECK(m.request(1, "ping").at("result").as_object().empty());  // ping is fine any time
  CHECK(error_code(m.request(2, "tools/list")) == -32600);
  CHECK(error_code(m.request(3, "tools/call",
                             {{"name", "status"}, {"arguments", json::object{}}})) == -32600);
  CHECK(error_code(m.request(4, "initialize", {{"capabilities", json::object{}}})) == -32602);
  m.initialize();
  CHECK(error_code(m.request(5, "initialize", {{"protocolVersion", "2025-11-25"}})) == -32600);
  const auto unknown = m.request(6, "no/such/method");
  CHECK(error_code(unknown) == -32601);
  CHECK(std::string(unknown.at("error").at("message").as_string()).find("no/such/method") !=
        std::string::npos);
  CHECK(error_code(m.request(7, "tools/call", {{"name", "no_such_tool"}})) == -32602);
  CHECK(error_code(m.request(8, "tools/call", {{"name", "search"}, {"arguments", "query"}})) ==
        -32602);
  CHECK(error_code(m.request(9, "resources/read", {})) == -32602);
  CHECK(error_code(m.request(10, "logging/setLevel", {{"level", "loud"}})) == -32602);
  CHECK(m.request(11, "logging/setLevel", {{"level", "warning"}}).contains("result"));
  // A string id is echoed as a string.
  m.send(R"({"jsonrpc":"2.0","id":"abc","method":"ping"})");
  CHECK(m.reply("abc").at("result").as_object().empty());
}

TEST_CASE("malformed lines get -32700 or -32600 and the server keeps serving", "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string()});
  m.initialize();
  const std::vector<std::pair<std::string, std::int64_t>> bad = {
      {"{not json", -32700},
      {"\x01\x02\xff garbage", -32700},
      {R"({"jsonrpc":"2.0","id":1,"method":"ping")", -32700},  // cut short
      {"42", -32600},
      {R"("ping")", -32600},
      {"[]", -32600},
      {R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", -32600},  // batches are refused
      {R"({"id":1,"method":"ping"})", -32600},                    // no jsonrpc
      {R"({"jsonrpc":"1.0","id":1,"method":"ping"})", -32600},
      {R"({"jsonrpc":"2.0","id":1,"method":7})", -32600},
      {R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})", -32600},
      {R"({"jsonrpc":"2.0","id":1})", -32600},
      {R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})", -32602},
  };
  for (const auto& [line, code] : bad) {
    INFO(line);
    m.send(line);
    auto r = m.next(10s);
    REQUIRE(r);
    CHECK(error_code(*r) == code);
  }
  // Blank lines and CRLF are tolerated.
  m.send("");
  m.send("{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"ping\"}\r");
  CHECK(m.reply(99).contains("result"));
  CHECK(m.call(100, "status", {}).at("isError") == false);
}

TEST_CASE("a line over the size limit is refused with an error, and the next one is served",
          "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  SECTION("the --max-message-bytes limit") {
    Mcp m(d, {"-s", t.root.string(), "--max-message-bytes", "4096"});
    m.initialize();
    m.send(
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"query":")" +
        std::string(200000, 'a') + "\"}}}");
    auto r = m.next(10s);
    REQUIRE(r);
    CHECK(error_code(*r) == -32600);
    CHECK(std::string(r->at("error").at("message").as_string()).find("too large") !=
          std::string::npos);
    CHECK(m.request(2, "ping").contains("result"));
  }
  SECTION("the default limit (8 MiB)") {
    Mcp m(d, {"-s", t.root.string()});
    m.initialize();
    m.send(std::string(9u << 20, '{'));
    auto r = m.next(20s);
    REQUIRE(r);
    CHECK(error_code(*r) == -32600);
    CHECK(m.request(2, "ping").contains("result"));
  }
}

TEST_CASE(
    "tools/list has exactly the eleven tools, each with valid object schemas and read-only "
    "annotations",
    "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string()});
  m.initialize();
  const auto tools = m.request(1, "tools/list").at("result").at("tools").as_array();
  std::vector<std::string> names;
  for (const auto& x : tools) {
    const auto& tool = x.as_object();
    const std::string name(tool.at("name").as_string());
    INFO(name);
    names.push_back(name);
    CHECK(trifecta::mcp::check_object_schema(tool.at("inputSchema").as_object()) == "");
    CHECK(trifecta::mcp::check_object_schema(tool.at("outputSchema").as_object()) == "");
    const auto& out = tool.at("outputSchema").as_object();
    for (const auto* k : {"root", "backend", "generation", "truncated", "budget"}) {
      CHECK(out.at("properties").as_object().contains(k));
    }
    CHECK(tool.at("annotations").at("readOnlyHint") == true);
    CHECK(tool.at("annotations").at("openWorldHint") == false);
    CHECK(!tool.at("description").as_string().empty());
  }
  CHECK(names == kTools);
  // Parameter descriptions come from the catalog.
  const auto& search = tools.at(0).as_object();
  CHECK(search.at("inputSchema").at("properties").at("query").at("description").as_string() ==
        "search terms");
  CHECK(search.at("inputSchema").at("required").as_array() == json::array{"query"});
  // --debug-tools adds debug_sleep.
  Mcp dbg(d, {"-s", t.root.string(), "--debug-tools"});
  dbg.initialize();
  CHECK(dbg.request(1, "tools/list").at("result").at("tools").as_array().size() ==
        kTools.size() + 1);
}

TEST_CASE("bad tool arguments give a tool result with isError and a readable message", "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string()});
  m.initialize();
  const std::vector<std::tuple<std::string, json::object, std::string>> cases = {
      {"search", {}, "missing required argument 'query'"},
      {"search", {{"query", 5}}, "'query' must be a string"},
      {"search", {{"query", "x"}, {"limit", 0}}, "'limit' must be in 1..200"},
      {"search", {{"query", "x"}, {"kind", "binary"}}, "'kind' must be one of"},
      {"search", {{"query", "x"}, {"cursor", "abc"}}, "'cursor'"},
      {"search", {{"query", "x"}, {"budget", 5}}, "'budget' must be in"},
      {"search", {{"query", "x"}, {"colour", "red"}}, "unknown argument 'colour'"},
      {"get", {}, "give `ids`"},
      {"definition", {{"path", "pkg/service.py"}}, "give `path`, `line` and `column`"},
      {"hover",
       {{"path", "pkg/service.py"}, {"line", 1}, {"column", 1}, {"uri", "sym://python/pkg"}},
       "not both"},
      {"outline", {{"path", "pkg/nope.py"}}, "nope.py"},  // the daemon's error, as text
      {"get", {{"uris", json::array{"sym://python/pkg.service/nope"}}}, "nope"},
      {"status", {{"root", "/elsewhere"}}, "not one of this session's roots"},
  };
  std::int64_t id = 1;
  for (const auto& [tool, args, expect] : cases) {
    INFO(tool << " " << json::serialize(args));
    const auto r = m.call(id++, tool, args);
    CHECK(r.at("isError") == true);
    CHECK_THAT(text_of(r), Catch::Contains(expect));
    CHECK(!r.contains("structuredContent"));
  }
  CHECK(m.call(id++, "status", {}).at("isError") == false);  // and it goes on serving
}

TEST_CASE("every tool answers with structured content, its backend and the index generation",
          "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string()});
  m.initialize();
  const std::vector<std::pair<std::string, json::object>> calls = {
      {"search", {{"query", "welcome"}}},
      {"get", {{"ids", json::array{"pkg/service.py#welcome"}}}},
      {"find_symbol", {{"name", "welcome"}}},
      {"outline", {{"path", "pkg/service.py"}}},
      {"definition", {{"path", "pkg/service.py"}, {"line", 11}, {"column", 12}}},
      {"hover", {{"uri", "sym://python/pkg.service/welcome"}}},
      {"references", {{"uri", "sym://python/pkg.service/welcome"}}},
      {"calls", {{"uri", "sym://python/pkg.service/welcome"}}},
      {"diagnostics", {{"path", "pkg/service.py"}}},
      {"status", {}},
  };
  std::int64_t id = 1;
  for (const auto& [tool, args] : calls) {
    INFO(tool);
    const auto r = m.call(id++, tool, args);
    INFO(json::serialize(r));
    REQUIRE(r.at("isError") == false);
    const auto& s = r.at("structuredContent").as_object();
    CHECK(s.at("root").as_string() == t.root.string());
    CHECK(s.at("generation").as_int64() >= 1);
    const std::string backend(s.at("backend").as_string());
    CHECK((backend == "ast" || backend == "index"));  // --no-lsp: never lsp
    CHECK_THAT(text_of(r), Catch::Contains("backend " + backend));
  }
  // A few answers in detail.
  const auto def =
      m.call(id++, "definition", {{"path", "pkg/service.py"}, {"line", 11}, {"column", 12}});
  CHECK(def.at("structuredContent").at("locations").at(0).at("path").as_string() ==
        "pkg/service.py");
  CHECK(def.at("structuredContent").at("locations").at(0).at("line").as_int64() == 5);
  const auto fs_ = m.call(id++, "find_symbol", {{"name", "wel"}, {"match", "prefix"}});
  std::set<std::string> found;
  for (const auto& x : fs_.at("structuredContent").at("symbols").as_array())
    found.insert(std::string(x.at("uri").as_string()));
  CHECK(found == std::set<std::string>{"sym://python/pkg.service/welcome",
                                       "sym://python/pkg.service/welcome_back"});
  const auto method = m.call(id++, "find_symbol", {{"name", "User.greeting"}});
  CHECK(method.at("structuredContent").at("symbols").at(0).at("kind").as_string() == "method");
}

TEST_CASE("calls gives callers and callees like trifecta calls, with depth, direction and a cursor",
          "[mcp]") {
  Tree t;
  // 40 callers of hub(): more than a small budget holds.
  std::string hub = "def hub(x):\n    return x\n\n\n";
  for (int i = 0; i < 40; ++i)
    hub += "def caller_" + std::to_string(i) + "(y):\n    return hub(y)\n\n\n";
  write_text(t.root / "pkg/hub.py", hub);
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string()});
  m.initialize();
  std::int64_t id = 1;
  auto names = [](const json::value& edges) {
    std::set<std::string> out;
    for (const auto& e : edges.as_array())
      out.insert(std::string(e.at("item").at("qualname").as_string()));
    return out;
  };
  const auto both = m.call(id++, "calls", {{"uri", "sym://python/pkg.service/welcome"}});
  INFO(json::serialize(both));
  REQUIRE(both.at("isError") == false);
  const auto& s = both.at("structuredContent").as_object();
  CHECK(s.at("backend").as_string() == "ast");
  CHECK(s.at("root").as_string() == t.root.string());
  CHECK(s.at("function").as_object().at("qualname").as_string() == "welcome");
  CHECK(names(s.at("incoming")) == std::set<std::string>{"welcome_back"});
  CHECK(names(s.at("outgoing")).count("make_user") == 1);
  CHECK(s.at("incoming").at(0).at("source").as_string() == "ast");
  CHECK(s.at("incoming").at(0).at("sites").at(0).at("line").as_int64() == 11);
  CHECK_THAT(text_of(both), Catch::Contains("callers (1):"));
  CHECK_THAT(text_of(both), Catch::Contains("welcome_back"));
  CHECK_THAT(text_of(both), Catch::Contains("backend ast"));

  // A position works like a URI; direction and depth go through.
  const auto in2 = m.call(id++, "calls",
                          {{"path", "pkg/models.py"},
                           {"line", 9},
                           {"column", 5},
                           {"direction", "incoming"},
                           {"depth", 2}});
  INFO(json::serialize(in2));
  const auto& s2 = in2.at("structuredContent").as_object();
  CHECK(s2.at("function").as_object().at("qualname").as_string() == "make_user");
  CHECK(s2.at("outgoing").as_array().empty());
  CHECK(names(s2.at("incoming")) == std::set<std::string>{"welcome", "welcome_back"});
  for (const auto& e : s2.at("incoming").as_array()) {
    if (e.at("item").at("qualname").as_string() == "welcome_back") {
      CHECK(e.at("depth").as_int64() == 2);
      CHECK_THAT(std::string(e.at("parent").as_string()), Catch::Contains("welcome"));
    }
  }

  // Bad arguments are tool errors that say what is allowed.
  const auto bad =
      m.call(id++, "calls", {{"uri", "sym://python/pkg.service/welcome"}, {"direction", "up"}});
  CHECK(bad.at("isError") == true);
  CHECK_THAT(text_of(bad), Catch::Contains("incoming | outgoing | both"));
  const auto deep =
      m.call(id++, "calls", {{"uri", "sym://python/pkg.service/welcome"}, {"depth", 9}});
  CHECK(deep.at("isError") == true);
  CHECK_THAT(text_of(deep), Catch::Contains("1..5"));

  // Over the budget: the first edges that fit, and the cursor continues in the same order.
  const auto all = m.call(id++, "calls", {{"uri", "sym://python/pkg.hub/hub"}, {"budget", 25000}});
  const auto& sa = all.at("structuredContent").as_object();
  REQUIRE(sa.at("incoming").as_array().size() == 40);
  CHECK(sa.at("truncated") == false);
  const auto cut = m.call(id++, "calls", {{"uri", "sym://python/pkg.hub/hub"}, {"budget", 1000}});
  const auto& sc = cut.at("structuredContent").as_object();
  INFO(json::serialize(sc));
  CHECK(sc.at("truncated") == true);
  const auto n = sc.at("incoming").as_array().size();
  CHECK(n >= 1);
  CHECK(n < 40);
  CHECK(json::serialize(sc).size() <= 1000 * 4);
  CHECK(text_of(cut).size() <= 1000 * 4);
  const std::string cursor(sc.at("next_cursor").as_string());
  CHECK(cursor == std::to_string(n));
  const auto rest = m.call(
      id++, "calls", {{"uri", "sym://python/pkg.hub/hub"}, {"budget", 1000}, {"cursor", cursor}});
  CHECK(rest.at("structuredContent").at("incoming").at(0) == sa.at("incoming").at(n));
}

TEST_CASE("a result over its budget is cut, says so, and the cursor continues it", "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string()});
  m.initialize();
  // 60 frob_ functions match; a small budget holds a few.
  const auto first =
      m.call(1, "search", {{"query", "frobnicate widget"}, {"limit", 60}, {"budget", 400}});
  const auto& s1 = first.at("structuredContent").as_object();
  INFO(json::serialize(s1));
  CHECK(s1.at("truncated") == true);
  const auto n1 = s1.at("hits").as_array().size();
  CHECK(n1 >= 1);
  CHECK(n1 < 60);
  CHECK(json::serialize(s1).size() <= 400 * 4);
  CHECK(text_of(first).size() <= 400 * 4);
  CHECK_THAT(text_of(first), Catch::Contains("cut to fit the budget of 400 tokens"));
  const std::string cursor(s1.at("next_cursor").as_string());
  CHECK(cursor == std::to_string(n1));
  const auto second =
      m.call(2, "search",
             {{"query", "frobnicate widget"}, {"limit", 60}, {"budget", 400}, {"cursor", cursor}});
  const auto& s2 = second.at("structuredContent").as_object();
  CHECK(s2.at("hits").at(0).at("id") != s1.at("hits").at(0).at("id"));
  // Same order as one big answer.
  const auto all =
      m.call(3, "search", {{"query", "frobnicate widget"}, {"limit", 60}, {"budget", 25000}});
  CHECK(all.at("structuredContent").at("hits").at(n1).at("id") == s2.at("hits").at(0).at("id"));
  CHECK(all.at("structuredContent").at("truncated") == false);
  // An outline over budget: cut at a line, continued by byte offset.
  const auto o1 = m.call(4, "outline", {{"path", "pkg/many.py"}, {"budget", 200}});
  const auto& so = o1.at("structuredContent").as_object();
  CHECK(so.at("truncated") == true);
  const std::string part1(so.at("rendered").as_string());
  CHECK(part1.back() == '\n');
  const auto o2 = m.call(
      5, "outline", {{"path", "pkg/many.py"}, {"budget", 25000}, {"cursor", so.at("next_cursor")}});
  const auto whole = m.call(6, "outline", {{"path", "pkg/many.py"}, {"budget", 25000}});
  CHECK(part1 + std::string(o2.at("structuredContent").at("rendered").as_string()) ==
        std::string(whole.at("structuredContent").at("rendered").as_string()));
  // get: the daemon's own cursor.
  const auto g = m.call(
      7, "get", {{"uris", json::array{"sym://python/pkg.many"}}, {"mode", "raw"}, {"budget", 300}});
  CHECK(g.at("structuredContent").at("truncated") == true);
  CHECK(g.at("structuredContent").as_object().contains("next_cursor"));
  CHECK(json::serialize(g.at("structuredContent")).size() <= 300 * 4);
}

TEST_CASE("resources: sym:// URIs and chunk ids read as excerpts, templates listed", "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string()});
  m.initialize();
  const auto templates =
      m.request(1, "resources/templates/list").at("result").at("resourceTemplates").as_array();
  REQUIRE(templates.size() == 2);
  CHECK(templates.at(0).at("uriTemplate").as_string() == "sym://python/{module}/{qualname}");
  CHECK(m.request(2, "resources/list").at("result").at("resources").as_array().empty());
  const auto sym = m.request(3, "resources/read", {{"uri", "sym://python/pkg.service/welcome"}});
  INFO(json::serialize(sym));
  const auto& c = sym.at("result").at("contents").at(0).as_object();
  CHECK(c.at("uri").as_string() == "sym://python/pkg.service/welcome");
  CHECK(c.at("mimeType").as_string() == "text/x-python");
  CHECK_THAT(std::string(c.at("text").as_string()), Catch::Contains("def welcome(name: str)"));
  const auto chunk = m.request(4, "resources/read", {{"uri", "chunk://pkg/models.py#User"}});
  CHECK_THAT(std::string(chunk.at("result").at("contents").at(0).at("text").as_string()),
             Catch::Contains("class User"));
  CHECK(error_code(m.request(5, "resources/read", {{"uri", "sym://python/pkg.service/nope"}})) ==
        -32002);
  CHECK(error_code(m.request(6, "resources/read", {{"uri", "https://example.com/x"}})) == -32002);
}

TEST_CASE("a call waiting for the first build sends progress to a client that asked for it",
          "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string()});
  m.initialize();
  m.send(json::object{{"jsonrpc", "2.0"},
                      {"id", 1},
                      {"method", "tools/call"},
                      {"params",
                       {{"name", "search"},
                        {"arguments", {{"query", "welcome"}}},
                        {"_meta", {{"progressToken", "tok-1"}}}}}});
  const auto r = m.reply(1);
  CHECK(r.at("result").at("isError") == false);
  REQUIRE(!m.notes.empty());
  double last = -1;
  for (const auto& n : m.notes) {
    CHECK(n.at("method").as_string() == "notifications/progress");
    CHECK(n.at("params").at("progressToken").as_string() == "tok-1");
    const double p = n.at("params").at("progress").to_number<double>();
    CHECK(p > last);  // increasing
    last = p;
  }
  // Built now: no progress for the next call.
  m.notes.clear();
  m.send(json::object{{"jsonrpc", "2.0"},
                      {"id", 2},
                      {"method", "tools/call"},
                      {"params",
                       {{"name", "search"},
                        {"arguments", {{"query", "user"}}},
                        {"_meta", {{"progressToken", 7}}}}}});
  m.reply(2);
  CHECK(m.notes.empty());
}

TEST_CASE(
    "notifications/cancelled stops the wait: no answer, the daemon request is freed, the server "
    "goes on",
    "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string(), "--debug-tools"});
  m.initialize();
  m.call(1, "status", {});
  const auto t0 = Clock::now();
  m.send(json::object{{"jsonrpc", "2.0"},
                      {"id", 2},
                      {"method", "tools/call"},
                      {"params", {{"name", "debug_sleep"}, {"arguments", {{"ms", 20000}}}}}});
  std::this_thread::sleep_for(300ms);
  m.send(json::object{{"jsonrpc", "2.0"},
                      {"method", "notifications/cancelled"},
                      {"params", {{"requestId", 2}, {"reason", "test"}}}});
  // Other work is served meanwhile and afterwards; the cancelled request never answers.
  const auto status = m.call(3, "status", {});
  CHECK(Clock::now() - t0 < 10s);
  CHECK(!m.next(1500ms));
  // The call's thread stopped waiting (its daemon connection was shut down) long before the
  // sleep would end: the server is back to its reader thread alone. (trifectad itself finishes
  // the sleep and drops the answer: it has no per-request cancellation.)
  std::size_t threads = 0;
  for (int i = 0; i < 50; ++i) {
    threads = m.threads();
    if (threads == 1) break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(threads == 1);
  CHECK(Clock::now() - t0 < 15s);
  CHECK(status.at("isError") == false);
  // Cancelling something unknown or finished is ignored.
  m.send(json::object{
      {"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 99}}}});
  CHECK(m.call(100, "debug_sleep", {{"ms", 10}}).at("isError") == false);
}

TEST_CASE(
    "client roots choose the segments: roots/list is asked, list_changed re-asks, tools take root",
    "[mcp]") {
  Tree a, b;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {});
  m.initialize("2025-11-25", {{"roots", {{"listChanged", true}}}});
  // The server asks for the roots.
  auto ask = m.next(10s);
  REQUIRE(ask);
  REQUIRE(ask->at("method").as_string() == "roots/list");
  m.send(json::object{
      {"jsonrpc", "2.0"},
      {"id", ask->at("id")},
      {"result",
       {{"roots", json::array{json::object{{"uri", "file://" + a.root.string()}, {"name", "a"}},
                              json::object{{"uri", "file://" + b.root.string()}}}}}}});
  const auto s = m.call(1, "status", {});
  CHECK(s.at("structuredContent").at("root").as_string() == a.root.string());
  CHECK(s.at("structuredContent").at("roots").as_array().size() == 2);
  const auto sb = m.call(2, "search", {{"query", "welcome"}, {"root", b.root.string()}});
  CHECK(sb.at("structuredContent").at("root").as_string() == b.root.string());
  // An absolute path picks its root.
  const auto ob = m.call(3, "outline", {{"path", (b.root / "pkg/service.py").string()}});
  CHECK(ob.at("structuredContent").at("root").as_string() == b.root.string());
  // A response to nothing we asked is ignored (the roots stay).
  m.send(R"({"jsonrpc":"2.0","id":"other-1","result":{"roots":[]}})");
  CHECK(m.call(5, "status", {}).at("structuredContent").at("roots").as_array().size() == 2);
  // list_changed: asked again; the new list wins.
  m.send(json::object{{"jsonrpc", "2.0"}, {"method", "notifications/roots/list_changed"}});
  auto again = m.next(10s);
  REQUIRE(again);
  REQUIRE(again->at("method").as_string() == "roots/list");
  m.send(json::object{
      {"jsonrpc", "2.0"},
      {"id", again->at("id")},
      {"result", {{"roots", json::array{json::object{{"uri", "file://" + b.root.string()}}}}}}});
  const auto s2 = m.call(6, "status", {});
  CHECK(s2.at("structuredContent").at("roots").as_array() ==
        json::array{json::value(b.root.string())});
}

TEST_CASE(
    "a client that declares roots but never answers roots/list delays one call, not every call",
    "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {}, {}, t.root);  // the fallback: the server's working directory (no git there)
  m.initialize("2025-11-25", {{"roots", json::object{}}});
  auto ask = m.next(10s);
  REQUIRE(ask);
  CHECK(ask->at("method").as_string() == "roots/list");
  // No answer: the first call waits (5 s) and falls back to the server's working directory.
  const auto t0 = Clock::now();
  const auto first = m.call(1, "status", {});
  CHECK(first.at("isError") == false);
  CHECK(first.at("structuredContent").at("root").as_string() == t.root.string());
  CHECK(Clock::now() - t0 >= 4s);
  const auto t1 = Clock::now();
  CHECK(m.call(2, "status", {}).at("isError") == false);
  CHECK(Clock::now() - t1 < 3s);
  CHECK_THAT(m.stderr_text(), Catch::Contains("no answer to roots/list"));
}

TEST_CASE("a server started in the home directory without -s or roots has no root, and says so",
          "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  // The tree stands for the home directory: no git, no _ctx, and $HOME.
  Mcp m(d, {}, {{"HOME", t.root.string()}}, t.root);
  m.initialize();
  const auto r = m.call(1, "search", {{"query", "welcome"}});
  CHECK(r.at("isError") == true);
  const std::string text(r.at("content").at(0).at("text").as_string());
  CHECK_THAT(text, Catch::Contains("no project root") && Catch::Contains("home directory") &&
                       Catch::Contains("-s DIR"));
  CHECK_FALSE(fs::exists(t.root / "_ctx"));  // nothing opened there
  // A root argument naming it does not get around that: it is not one of the session's roots.
  CHECK(m.call(2, "status", {{"root", t.root.string()}}).at("isError") == true);
}

TEST_CASE("a lost daemon is restarted on the next call", "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string()});
  m.initialize();
  const auto before =
      m.call(1, "status", {}).at("structuredContent").at("daemon").at("pid").as_int64();
  d.kill9();
  const auto r = m.call(2, "status", {});
  INFO(json::serialize(r) << m.stderr_text());
  REQUIRE(r.at("isError") == false);
  const auto after = r.at("structuredContent").at("daemon").at("pid").as_int64();
  CHECK(after != before);
  CHECK_THAT(m.stderr_text(), Catch::Contains("reconnecting"));
  // Stop the auto-started daemon.
  CHECK(d.cli({"daemon", "stop"}).exit_code == 0);
}

TEST_CASE("end of input mid-call: the server exits cleanly within its grace period", "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string(), "--debug-tools"});
  m.initialize();
  m.send(json::object{{"jsonrpc", "2.0"},
                      {"id", 1},
                      {"method", "tools/call"},
                      {"params", {{"name", "debug_sleep"}, {"arguments", {{"ms", 30000}}}}}});
  std::this_thread::sleep_for(200ms);
  const auto t0 = Clock::now();
  m.close_stdin();
  const auto code = m.wait(10s);
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(Clock::now() - t0 < 5s);
  // A call that ends within the grace period is still answered.
  Mcp m2(d, {"-s", t.root.string(), "--debug-tools"});
  m2.initialize();
  m2.send(json::object{{"jsonrpc", "2.0"},
                       {"id", 1},
                       {"method", "tools/call"},
                       {"params", {{"name", "debug_sleep"}, {"arguments", {{"ms", 300}}}}}});
  m2.close_stdin();
  CHECK(m2.reply(1).at("result").at("isError") == false);
  CHECK(m2.wait(10s) == 0);
}

TEST_CASE("more than 64 calls in flight: the excess is refused with -32603, the rest answered",
          "[mcp]") {
  Tree t;
  DaemonProcess d({"--no-lsp"});
  Mcp m(d, {"-s", t.root.string(), "--debug-tools"});
  m.initialize();
  for (int i = 1; i <= 70; ++i) {
    m.send(json::object{{"jsonrpc", "2.0"},
                        {"id", i},
                        {"method", "tools/call"},
                        {"params", {{"name", "debug_sleep"}, {"arguments", {{"ms", 3000}}}}}});
  }
  int ok = 0, busy = 0;
  for (int i = 0; i < 70; ++i) {
    auto r = m.next(30s);
    REQUIRE(r);
    if (r->contains("result")) {
      CHECK(r->at("result").at("isError") == false);
      ++ok;
    } else {
      CHECK(error_code(*r) == -32603);
      CHECK_THAT(std::string(r->at("error").at("message").as_string()), Catch::Contains("busy"));
      ++busy;
    }
  }
  CHECK(ok == 64);
  CHECK(busy == 6);
  CHECK(m.call(100, "debug_sleep", {{"ms", 1}}).at("isError") == false);
}
