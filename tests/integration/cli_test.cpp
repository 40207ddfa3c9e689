// Integration spec of the `trifecta` command line as a new user meets it: global options on
// either side of the command, exit codes of partial failures, `ctx get -q`, defaults in --help,
// unknown commands, option ranges, `daemon status` with no daemon, directory path filters,
// `segment close`, the catalog summary in a command's --help, and a malformed reply from a (fake) daemon ending in a message and exit 1, never a crash.
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "../support/cli_json.hpp"

using namespace trifecta::test;
namespace json = boost::json;

namespace {

struct Tree {
  TempDir tmp;
  fs::path root;
  Tree() {
    root = fs::canonical(tmp.path());
    write_text(root / "pkg/__init__.py", "");
    write_text(
        root / "pkg/db/models.py",
        "def frobnicate_record(row):\n    \"\"\"Frobnicate one record.\"\"\"\n    return row\n");
    write_text(root / "tools/cli.py", "def frobnicate_args(argv):\n    return argv\n");
  }
};

std::vector<std::string> hit_paths(const json::object& search) {
  std::vector<std::string> v;
  for (const auto& h : search.at("hits").as_array()) v.emplace_back(h.at("path").as_string());
  return v;
}

// A fake trifectad: answers `hello` properly (or with `hello_reply` when given), then every other
// request with `reply` (where `$ID` is replaced by the request's id). With `hold`, it answers
// nothing on a connection until `hold` request lines have arrived on it (a client that waits for
// the hello's reply before sending its request then times out). Runs on its own thread until
// destroyed.
class FakeDaemon {
 public:
  explicit FakeDaemon(std::string reply, std::string hello_reply = {}, std::size_t hold = 0)
      : reply_(std::move(reply)), hello_reply_(std::move(hello_reply)), hold_(hold) {
    socket_ = tmp_.path() / "fake.sock";
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDaemon() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::map<std::string, std::string> env() const {
    return {{"TRIFECTA_SOCKET", socket_.string()}, {"TRIFECTA_DAEMON", "/nonexistent/trifectad"}};
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string buf;
      char chunk[4096];
      for (;;) {
        const auto nl = buf.find('\n');
        if (nl != std::string::npos && static_cast<std::size_t>(std::count(buf.begin(), buf.end(), '\n')) >= hold_) {
          hold_ = 0;
          const auto req = json::parse(buf.substr(0, nl));
          buf.erase(0, nl + 1);
          const std::string id = json::serialize(req.at("id"));
          std::string out;
          if (req.at("method").as_string() == "hello" && !hello_reply_.empty()) {
            out = hello_reply_;
            if (const auto at = out.find("$ID"); at != std::string::npos) out.replace(at, 3, id);
          } else if (req.at("method").as_string() == "hello") {
            out = R"({"jsonrpc":"2.0","id":)" + id + R"(,"result":{"pid":4242,"protocol":"1.0","daemon_version":"0.1.0","capabilities":[]}})";
          } else {
            out = reply_;
            if (const auto at = out.find("$ID"); at != std::string::npos) out.replace(at, 3, id);
          }
          out += '\n';
          (void)!::send(c, out.data(), out.size(), MSG_NOSIGNAL);
          continue;
        }
        const ssize_t n = ::recv(c, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buf.append(chunk, static_cast<std::size_t>(n));
      }
      ::close(c);
    }
  }

  TempDir tmp_;
  fs::path socket_;
  std::string reply_;
  std::string hello_reply_;
  std::size_t hold_ = 0;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

RunResult cli_with(const std::map<std::string, std::string>& env, std::vector<std::string> args) {
  args.insert(args.begin(), TRIFECTA_BIN);
  return run(args, env, 30s);
}

}  // namespace

TEST_CASE("global options work before and after the command", "[cli][daemon]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  CHECK(json::parse(d.cli({"ping", "--json"}).out).at("result").at("pid").is_int64());
  CHECK(json::parse(d.cli({"--json", "ping"}).out).at("result").at("pid").is_int64());
  result_of(d.cli({"ctx", "build", "--json", "-s", seg}));

  const auto after = hit_paths(result_of(d.cli({"ctx", "search", "--json", "-s", seg, "record"})));
  CHECK(after == std::vector<std::string>{"pkg/db/models.py"});
  const auto before = hit_paths(result_of(d.cli({"--json", "-s", seg, "ctx", "search", "record"})));
  CHECK(before == after);
  const auto between =
      hit_paths(result_of(d.cli({"ctx", "--json", "search", "record", "-s", seg})));
  CHECK(between == after);
  // Text output too, with -s before the command.
  auto text = d.cli({"-s", seg, "ctx", "search", "record"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("pkg/db/models.py"));
}

TEST_CASE("ctx get exits non-zero when any target fails, and -q takes the rest of the words",
          "[cli][daemon]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  const std::string id = "pkg/db/models.py#frobnicate_record";

  auto ok = d.cli({"ctx", "get", "-s", seg, id});
  CHECK(ok.exit_code == 0);
  auto partial = d.cli({"ctx", "get", "-s", seg, id, "pkg/nope.py#missing"});
  CHECK(partial.exit_code == 1);
  CHECK_THAT(partial.out,
             Catch::Contains("frobnicate_record"));  // what could be had is still printed
  CHECK_THAT(partial.err, Catch::Contains("pkg/nope.py#missing"));
  CHECK(d.cli({"ctx", "get", "-s", seg, "pkg/nope.py#missing"}).exit_code == 1);
  // A mistyped (or stale) chunk id of an indexed file: its nearest chunk ids are named.
  auto stale = d.cli({"ctx", "get", "-s", seg, "pkg/db/models.py#frobnicate_recrd"});
  CHECK(stale.exit_code == 1);
  CHECK_THAT(stale.err, Catch::Contains("NOT_FOUND") &&
                            Catch::Contains("did you mean pkg/db/models.py#frobnicate_record"));

  // `-q where clause`: both words are the query (before, `clause` became a failing chunk id).
  auto q = d.cli({"--json", "ctx", "get", "-s", seg, id, "-q", "one", "record"});
  INFO(q.out << q.err);
  CHECK(q.exit_code == 0);
  CHECK(json::parse(q.out).at("result").at("errors").as_array().empty());
  // Ids after -q are swallowed by it: the CLI says so instead of sending a query without targets.
  auto swallowed = d.cli({"ctx", "get", "-s", seg, "-q", "one", "record", id});
  CHECK(swallowed.exit_code == 2);
  CHECK_THAT(swallowed.err, Catch::Contains("quote"));
}

TEST_CASE("ctx get takes a file: the whole file, by its segment path or an absolute one inside",
          "[cli][daemon]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  const std::string file = read_text(t.root / "pkg/db/models.py");
  for (const std::string& target : {std::string("pkg/db/models.py"), (t.root / "pkg/db/models.py").string()}) {
    auto r = result_of(d.cli({"--json", "ctx", "get", "-s", seg, "-m", "raw", target}));
    INFO(target << ": " << json::serialize(r));
    CHECK(r.at("errors").as_array().empty());
    REQUIRE(r.at("chunks").as_array().size() == 1);
    const auto& piece = r.at("chunks").as_array()[0];
    CHECK(piece.at("id").as_string() == "pkg/db/models.py");  // relative, whatever was given
    CHECK(piece.at("text").as_string() == file);
  }
  auto skeleton = d.cli({"ctx", "get", "-s", seg, "-m", "skeleton", "pkg/db/models.py"});
  CHECK(skeleton.exit_code == 0);
  CHECK_THAT(skeleton.out, Catch::Contains("def frobnicate_record(row):"));
  // Outside the segment: PATH_ESCAPE for that target, exit 1; a folder is not a file.
  auto escape = d.cli({"--json", "ctx", "get", "-s", seg, "../outside.py"});
  CHECK(escape.exit_code == 1);
  const auto errors = json::parse(escape.out).at("result").at("errors").as_array();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].at("code").as_string() == "PATH_ESCAPE");
  auto folder = d.cli({"ctx", "get", "-s", seg, "pkg/db"});
  CHECK(folder.exit_code == 1);
  CHECK_THAT(folder.err, Catch::Contains("pkg/db: INVALID_ARGUMENT: a directory") && Catch::Contains("ctx.map"));
}

TEST_CASE("doctor names a running daemon older than the client, and a current one as ok",
          "[cli][daemon]") {
  const auto running = [](const RunResult& r) {
    INFO(r.out << r.err);
    const json::value doc = json::parse(r.out);
    for (const auto& c : doc.at("checks").as_array())
      if (c.at("name").as_string() == "running") return c.as_object();
    FAIL("no running check");
    return json::object{};
  };
  {  // a daemon started before an upgrade: it speaks protocol 1.0
    FakeDaemon fake(
        R"({"jsonrpc":"2.0","id":$ID,"result":{"daemon_version":"0.0.9","protocol":"1.0","pid":4242}})");
    const auto c = running(cli_with(fake.env(), {"doctor", "--json"}));
    CHECK(c.at("status").as_string() == "warn");
    CHECK_THAT(std::string(c.at("detail").as_string()),
               Catch::Contains("trifectad 0.0.9 (protocol 1.0), pid 4242 is running"));
    CHECK_THAT(std::string(c.at("fix").as_string()), Catch::Contains("trifecta daemon restart"));
  }
  {  // this build's daemon
    DaemonProcess d({"--no-lsp"});
    const auto c = running(d.cli({"doctor", "--json"}));
    CHECK(c.at("status").as_string() == "ok");
    CHECK_THAT(std::string(c.at("detail").as_string()), Catch::StartsWith("trifectad "));
  }
  {  // none: the doctor does not start one
    TempDir empty;
    const auto c = running(cli_with({{"TRIFECTA_SOCKET", (empty.path() / "none.sock").string()}},
                                    {"doctor", "--json"}));
    CHECK(c.at("status").as_string() == "ok");
    CHECK_THAT(std::string(c.at("detail").as_string()), Catch::StartsWith("no trifectad answers"));
    CHECK_FALSE(fs::exists(empty.path() / "none.sock"));
  }
}

TEST_CASE("segment close closes the open segment, and never starts the daemon", "[cli][daemon]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  result_of(d.cli({"--json", "ctx", "status", "-s", seg}));  // opens the segment
  auto closed = d.cli({"segment", "close", "-s", seg});
  INFO(closed.out << closed.err);
  CHECK(closed.exit_code == 0);
  CHECK_THAT(closed.out, Catch::StartsWith("closed segment "));
  CHECK_THAT(closed.out, Catch::EndsWith(" (" + seg + ")\n"));
  auto again = d.cli({"segment", "close", "-s", seg});
  CHECK(again.exit_code == 0);
  CHECK(again.out == "no open segment for " + seg + "\n");
  CHECK_FALSE(result_of(d.cli({"--json", "segment", "close", "-s", seg})).at("closed").as_bool());

  TempDir tmp;
  const std::map<std::string, std::string> env{
      {"TRIFECTA_SOCKET", (tmp.path() / "d.sock").string()}};
  auto none = cli_with(env, {"segment", "close", "-s", seg});
  CHECK(none.exit_code == 3);
  CHECK_FALSE(fs::exists(tmp.path() / "d.sock"));
}

TEST_CASE("a path filter with a trailing slash means everything under the directory",
          "[cli][daemon]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  CHECK(hit_paths(result_of(
            d.cli({"--json", "ctx", "search", "-s", seg, "--path", "pkg/db/", "frobnicate"}))) ==
        std::vector<std::string>{"pkg/db/models.py"});
  CHECK(hit_paths(result_of(
            d.cli({"--json", "ctx", "search", "-s", seg, "--path", "pkg/", "frobnicate"}))) ==
        std::vector<std::string>{"pkg/db/models.py"});
  // A bare directory name matches no file: the no-results message says what to write.
  auto none = d.cli({"ctx", "search", "-s", seg, "--path", "pkg", "frobnicate"});
  CHECK(none.exit_code == 0);
  CHECK_THAT(none.out, Catch::Contains("no results"));
  CHECK_THAT(none.out, Catch::Contains("pkg/**"));
}

TEST_CASE("a query over the term cap names the terms it did not score", "[cli][daemon][search]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  // Thirty words, each once in one file: equally selective, so the last six asked are left out.
  std::vector<std::string> words;
  std::string text, query;
  for (const char a : std::string("abc")) {
    for (const char b : std::string("abcdefghij")) {
      words.push_back(std::string("kw") + a + b + "o");
      text += "# " + words.back() + "\n";
      query += (query.empty() ? "" : " ") + words.back();
    }
  }
  write_text(t.root / "pkg/notes.py", text);
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  const auto reply = result_of(d.cli({"--json", "ctx", "search", "-s", seg, query}));
  CHECK(hit_paths(reply) == std::vector<std::string>{"pkg/notes.py"});
  REQUIRE(reply.contains("unscored"));
  std::vector<std::string> unscored;
  for (const auto& w : reply.at("unscored").as_array()) unscored.emplace_back(w.as_string());
  CHECK(unscored == std::vector<std::string>(words.end() - 6, words.end()));
  auto shown = d.cli({"ctx", "search", "-s", seg, query});
  CHECK(shown.exit_code == 0);
  CHECK_THAT(shown.out, Catch::Contains("note: a long query scores its most selective terms; 6 of 30 not scored: "
                                        "kwceo kwcfo kwcgo kwcho kwcio kwcjo"));
  // A pasted text leaves many out: the note shows the first twelve and counts the rest.
  std::string pasted = query;
  for (int i = 0; i < 20; ++i) pasted += " " + words[static_cast<std::size_t>(i)] + "x";
  write_text(t.root / "pkg/more.py", [&] {
    std::string more;
    for (int i = 0; i < 20; ++i) more += "# " + words[static_cast<std::size_t>(i)] + "x\n";
    return more;
  }());
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  auto long_note = d.cli({"ctx", "search", "-s", seg, pasted});
  CHECK_THAT(long_note.out, Catch::Contains("; 26 of 50 not scored: ") && Catch::Contains(" … and 14 more (--json lists them)\n"));
  // A query within the cap has neither.
  CHECK_FALSE(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "kwaao kwabo"})).contains("unscored"));
  CHECK_THAT(d.cli({"ctx", "search", "-s", seg, "kwaao kwabo"}).out, !Catch::Contains("note:"));
}

TEST_CASE("a misspelt query names what it was searched as", "[cli][daemon][search]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  write_text(t.root / "pkg/loader.py", "def make_loader(path):\n    return path\n");
  write_text(t.root / "pkg/length.py", "def length_of(items):\n    return len(items)\n");
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  const auto reply = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "loadre lenght"}));
  auto paths = hit_paths(reply);
  std::sort(paths.begin(), paths.end());
  CHECK(paths == std::vector<std::string>{"pkg/length.py", "pkg/loader.py"});
  REQUIRE(reply.contains("corrected"));
  const auto& corrected = reply.at("corrected").as_array();
  REQUIRE(corrected.size() == 2);
  CHECK(corrected[0].at("from").as_string() == "loadre");
  CHECK(corrected[0].at("to").as_string() == "loader");
  CHECK(corrected[1].at("from").as_string() == "lenght");
  CHECK(corrected[1].at("to").as_string() == "length");
  // The text names the correction above the hits.
  const auto shown = d.cli({"ctx", "search", "-s", seg, "loadre lenght"});
  CHECK(shown.exit_code == 0);
  CHECK_THAT(shown.out, Catch::StartsWith("note: not in the index, searched as: loadre \u2192 loader, lenght \u2192 length\n"));
  // A query found as written has neither.
  CHECK_FALSE(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "loader length"})).contains("corrected"));
  CHECK_THAT(d.cli({"ctx", "search", "-s", seg, "loader length"}).out, !Catch::Contains("note:"));
}

TEST_CASE("a file's path as the query puts that file first, at the line it names",
          "[cli][daemon][search]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  // Words of the path everywhere else: `models` and `py` name other chunks better.
  write_text(t.root / "pkg/db/other.py",
             "def models_py():\n    \"\"\"models py models py: the models of py files.\"\"\"\n"
             "    return 'models'\n\n\ndef helper():\n    return 2\n");
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  const auto first_id = [](const json::object& reply) {
    return std::string(reply.at("hits").as_array().at(0).at("id").as_string());
  };
  CHECK(first_id(result_of(d.cli({"--json", "ctx", "search", "-s", seg, "models.py"}))) ==
        "pkg/db/models.py#frobnicate_record");
  // An absolute path inside the tree, with a line and a column, as an editor or traceback gives.
  CHECK(first_id(result_of(d.cli({"--json", "ctx", "search", "-s", seg,
                                  seg + "/pkg/db/other.py:6:5"}))) == "pkg/db/other.py#helper");
  // The text form shows it first too; a sentence with the path in it is ranked as words.
  CHECK_THAT(d.cli({"ctx", "search", "-s", seg, "./pkg/db/other.py:6"}).out,
             Catch::StartsWith(" 1. pkg/db/other.py#helper"));
  const auto words = result_of(d.cli({"--json", "ctx", "search", "-s", seg, "models py files"}));
  CHECK(first_id(words) == "pkg/db/other.py#models_py");
  // A misspelt name: the file it is a typo away from, and a note saying so.
  const auto typo = d.cli({"ctx", "search", "-s", seg, "modles.py"});
  CHECK_THAT(typo.out, Catch::StartsWith("note: not in the index, searched as: modles.py \u2192 "
                                         "models.py\n 1. pkg/db/models.py#frobnicate_record"));
}

TEST_CASE("a pytest node id names its test to ctx get, sym and hover", "[cli][daemon]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  const std::string seg = t.root.string();
  write_text(t.root / "tests/test_models.py",
             "import pytest\n\n\nclass TestRecord:\n    @pytest.mark.parametrize('n', [1, 2])\n"
             "    def test_one(self, n):\n        \"\"\"One record.\"\"\"\n        assert n\n\n\n"
             "def test_plain():\n    assert True\n");
  result_of(d.cli({"--json", "ctx", "build", "-s", seg}));
  // As pytest prints it (parametrized), relative to the segment or absolute inside it.
  for (const std::string& id : {std::string("tests/test_models.py::TestRecord::test_one[1]"),
                                seg + "/tests/test_models.py::TestRecord::test_one[1]"}) {
    auto r = result_of(d.cli({"--json", "ctx", "get", "-s", seg, "-m", "raw", id}));
    INFO(id << ": " << json::serialize(r));
    CHECK(r.at("errors").as_array().empty());
    REQUIRE(r.at("chunks").as_array().size() == 1);
    const auto& piece = r.at("chunks").as_array()[0];
    CHECK(piece.at("id").as_string() == "tests/test_models.py::TestRecord::test_one[1]");
    CHECK(piece.at("start_line").as_int64() == 5);  // from its decorator
    CHECK(piece.at("end_line").as_int64() == 8);
  }
  auto sym = result_of(d.cli({"--json", "sym", "-s", seg, "tests/test_models.py::test_plain"}));
  CHECK(sym.at("qualname").as_string() == "test_plain");
  CHECK(sym.at("line").as_int64() == 11);
  auto hover = d.cli({"hover", "-s", seg, "tests/test_models.py::TestRecord::test_one"});
  CHECK(hover.exit_code == 0);
  CHECK_THAT(hover.out, Catch::Contains("One record."));
  // A test that is not there: exit 1, the near name suggested.
  auto typo = d.cli({"sym", "-s", seg, "tests/test_models.py::TestRecord::test_onw"});
  CHECK(typo.exit_code == 1);
  CHECK_THAT(typo.err, Catch::Contains("SYMBOL_NOT_FOUND") &&
                           Catch::Contains("sym://python/tests.test_models/TestRecord.test_one"));
  // ctx get's target error names them too.
  auto typo_get = d.cli({"ctx", "get", "-s", seg, "tests/test_models.py::test_plian"});
  CHECK(typo_get.exit_code == 1);
  CHECK_THAT(typo_get.err, Catch::Contains("did you mean sym://python/tests.test_models/test_plain"));
  auto missing = d.cli({"ctx", "get", "-s", seg, "tests/test_nope.py::test_a"});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("FILE_NOT_FOUND"));
}

TEST_CASE("sym --find ranks definitions by name, and each URI resolves", "[cli][daemon][search]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  write_text(t.root / "pkg/db/engine.py",
             "class FrobEngine:\n    def frobnicate_all(self):\n        return 1\n\n\nFROB_LIMIT = 3\n");
  const std::string seg = t.root.string();
  // Fuzzy (the default): the letters in order; prefix and exact rank above it.
  const auto fuzzy = result_of(d.cli({"--json", "sym", "--find", "frbrec", "-s", seg}));
  REQUIRE(fuzzy.at("matches").as_array().size() == 1);
  const auto& m = fuzzy.at("matches").at(0).as_object();
  CHECK(m.at("uri").as_string() == "sym://python/pkg.db.models/frobnicate_record");
  CHECK(m.at("match").as_string() == "fuzzy");
  CHECK(m.at("file").as_string() == "pkg/db/models.py");
  CHECK(m.at("line").as_int64() == 1);
  CHECK(m.at("column").as_int64() == 5);
  CHECK(m.at("signature").as_string() == "(row)");
  CHECK(fuzzy.at("backend").as_string() == "ast");

  const auto prefix = result_of(d.cli({"--json", "sym", "--find", "frob", "--match", "prefix", "-s", seg}));
  std::vector<std::string> names;
  for (const auto& x : prefix.at("matches").as_array()) names.emplace_back(x.at("qualname").as_string());
  // Case-sensitive prefixes first, shorter names first; then the case-insensitive ones, the class
  // before the constant.
  CHECK(names == std::vector<std::string>{"FrobEngine.frobnicate_all", "frobnicate_args", "frobnicate_record",
                                          "FrobEngine", "FROB_LIMIT"});
  const auto dotted = result_of(d.cli({"--json", "sym", "--find", "frobengine.frob", "-s", seg}));
  REQUIRE(dotted.at("matches").as_array().size() == 1);
  const std::string uri(dotted.at("matches").at(0).at("uri").as_string());
  CHECK(uri == "sym://python/pkg.db.engine/FrobEngine.frobnicate_all");
  // The URI resolves to the same definition.
  const auto resolved = result_of(d.cli({"--json", "sym", uri, "-s", seg}));
  CHECK(resolved.at("line").as_int64() == 2);
  CHECK(resolved.at("kind").as_string() == "method");

  const auto kinds = result_of(d.cli({"--json", "sym", "--find", "frob", "--kind", "class", "-s", seg}));
  REQUIRE(kinds.at("matches").as_array().size() == 1);
  CHECK(kinds.at("matches").at(0).at("qualname").as_string() == "FrobEngine");
  const auto limited = result_of(d.cli({"--json", "sym", "--find", "frob", "-n", "1", "-s", seg}));
  CHECK(limited.at("matches").as_array().size() == 1);
  CHECK(limited.at("truncated").as_bool());
  CHECK(limited.at("total").as_int64() == 5);

  // Text output: one line per match and its URI; an edit is seen at once (sync before answer).
  write_text(t.root / "tools/cli.py", "def frobnicate_args(argv):\n    return argv\n\n\ndef frobz():\n    pass\n");
  auto text = d.cli({"sym", "--find", "frobz", "--match", "exact", "-s", seg});
  INFO(text.out << text.err);
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("tools/cli.py:5:5  function  frobz()  [exact]"));
  CHECK_THAT(text.out, Catch::Contains("sym://python/tools.cli/frobz"));
  // Neither a URI nor --find: a usage error.
  auto neither = d.cli({"sym", "-s", seg});
  CHECK(neither.exit_code == 2);
  CHECK_THAT(neither.err, Catch::Contains("--find"));
}

TEST_CASE("in a package-root segment sym --find and calls name modules as Python does, and resolve",
          "[cli][daemon][search][calls][layout]") {
  // The segment is the package folder itself (it holds __init__.py): Python's names carry the
  // package (`pkg.db.jobs`), as navigation answers and sym.resolve suggests, and resolve here.
  DaemonProcess d({"--no-lsp"});
  Tree t;
  write_text(t.root / "pkg/db/jobs.py",
             "from pkg.db.models import frobnicate_record\n"
             "\n"
             "\n"
             "def run_all(rows):\n"
             "    return [frobnicate_record(r) for r in rows]\n");
  const std::string seg = (t.root / "pkg").string();
  const auto found = result_of(d.cli({"--json", "sym", "--find", "run_all", "--match", "exact", "-s", seg}));
  INFO(json::serialize(found));
  REQUIRE(found.at("matches").as_array().size() == 1);
  const auto& m = found.at("matches").at(0).as_object();
  CHECK(m.at("file").as_string() == "db/jobs.py");
  CHECK(m.at("module").as_string() == "pkg.db.jobs");
  const std::string uri(m.at("uri").as_string());
  CHECK(uri == "sym://python/pkg.db.jobs/run_all");
  const auto resolved = result_of(d.cli({"--json", "sym", uri, "-s", seg}));
  CHECK(resolved.at("line").as_int64() == 4);
  // The AST's calls read the package root's own imports (`from pkg.db.models import …`).
  const auto calls = result_of(d.cli({"--json", "calls", "db/jobs.py:4:6", "--outgoing", "-s", seg}));
  INFO(json::serialize(calls));
  CHECK(calls.at("root").at("uri").as_string() == "sym://python/pkg.db.jobs/run_all");
  REQUIRE(calls.at("outgoing").as_array().size() == 1);
  CHECK(calls.at("outgoing").at(0).at("item").at("uri").as_string() ==
        "sym://python/pkg.db.models/frobnicate_record");
}

TEST_CASE("calls lists callers and callees of a function through the daemon", "[cli][daemon][calls]") {
  DaemonProcess d({"--no-lsp"});
  Tree t;
  write_text(t.root / "pkg/db/jobs.py",
             "from pkg.db.models import frobnicate_record\n"
             "\n"
             "\n"
             "def run_all(rows):\n"
             "    out = [frobnicate_record(r) for r in rows]\n"
             "    return len(out), frobnicate_record(None)\n"
             "\n"
             "\n"
             "def main():\n"
             "    return run_all([])\n");
  const std::string seg = t.root.string();
  // The cursor on the def's name; both directions by default.
  const auto both = result_of(d.cli({"--json", "calls", "pkg/db/jobs.py:4:6", "-s", seg}));
  INFO(json::serialize(both));
  CHECK(both.at("backend").as_string() == "ast");
  CHECK(both.at("root").at("qualname").as_string() == "run_all");
  CHECK(both.at("root").at("uri").as_string() == "sym://python/pkg.db.jobs/run_all");
  REQUIRE(both.at("incoming").as_array().size() == 1);
  CHECK(both.at("incoming").at(0).at("item").at("qualname").as_string() == "main");
  CHECK(both.at("incoming").at(0).at("sites").at(0).at("line").as_int64() == 10);
  REQUIRE(both.at("outgoing").as_array().size() == 1);
  const auto& callee = both.at("outgoing").at(0).as_object();
  CHECK(callee.at("item").at("file").as_string() == "pkg/db/models.py");
  CHECK(callee.at("sites").as_array().size() == 2);
  CHECK(both.at("unresolved").as_int64() == 1);  // len
  // A sym:// URI, callers only, two levels: frobnicate_record <- run_all <- main.
  const auto deep = result_of(d.cli({"--json", "calls", "sym://python/pkg.db.models/frobnicate_record", "--incoming",
                                     "--depth", "2", "-s", seg}));
  CHECK(deep.at("outgoing").as_array().empty());
  REQUIRE(deep.at("incoming").as_array().size() == 2);
  CHECK(deep.at("incoming").at(1).at("depth").as_int64() == 2);
  CHECK(deep.at("incoming").at(1).at("parent").as_string() == "pkg/db/jobs.py:run_all");
  // Text output.
  auto text = d.cli({"calls", "pkg/db/jobs.py:4:6", "--outgoing", "-s", seg});
  INFO(text.out << text.err);
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Catch::Contains("callees (1):"));
  CHECK_THAT(text.out, Catch::Contains("pkg/db/models.py:1  function frobnicate_record  (2 calls: pkg/db/jobs.py:5, pkg/db/jobs.py:6)"));
  // Not a function; bad arguments.
  auto none = result_of(d.cli({"--json", "calls", "pkg/db/jobs.py:5:5", "-s", seg}));
  CHECK_FALSE(none.contains("root"));
  CHECK(d.cli({"calls", "pkg/db/jobs.py:4:6", "--incoming", "--outgoing", "-s", seg}).exit_code == 2);
  CHECK(d.cli({"calls", "pkg/db/jobs.py:4:6", "--depth", "9", "-s", seg}).exit_code == 2);
}

TEST_CASE("usage errors say what is valid", "[cli]") {
  const std::map<std::string, std::string> env{{"TRIFECTA_SOCKET", "/nonexistent/d.sock"}};
  auto unknown = cli_with(env, {"serach"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command 'serach'"));
  CHECK_THAT(unknown.err, Catch::Contains("ping, status, daemon, ast, ctx"));
  auto unknown_sub = cli_with(env, {"ctx", "serach", "q"});
  CHECK(unknown_sub.exit_code == 2);
  CHECK_THAT(unknown_sub.err, Catch::Contains("build, search, get, status, validate"));

  auto zero = cli_with(env, {"--timeout", "0", "ping"});
  CHECK(zero.exit_code == 2);
  CHECK_THAT(zero.err, Catch::Contains("--timeout: must be more than 0"));
  CHECK(cli_with(env, {"ping", "--timeout", "-1"}).exit_code == 2);
  CHECK(cli_with(env, {"ping", "--timeout", "soon"}).exit_code == 2);
}

TEST_CASE("help shows the defaults", "[cli]") {
  const std::map<std::string, std::string> env{{"TRIFECTA_SOCKET", "/nonexistent/d.sock"}};
  auto search = cli_with(env, {"ctx", "search", "--help"});
  CHECK(search.exit_code == 0);
  CHECK_THAT(search.out, Catch::Contains("=10"));
  CHECK_THAT(search.out, Catch::Contains("--timeout FLOAT:SECONDS=30"));
  auto get = cli_with(env, {"ctx", "get", "--help"});
  CHECK_THAT(get.out, Catch::Contains("=excerpt"));
  CHECK_THAT(get.out, Catch::Contains("=2000"));
  CHECK_THAT(cli_with(env, {"def", "--help"}).out, Catch::Contains("=0"));
  auto start = cli_with(env, {"daemon", "start", "--help"});
  CHECK_THAT(start.out, Catch::Contains("1800 s"));
  CHECK_THAT(start.out, Catch::Contains("2048 MiB"));
  // A command's help ends with the daemon method it calls and the catalog's summary of it.
  CHECK_THAT(search.out,
             Catch::Contains("Daemon method: ctx.search — Search the lexical index (BM25) for chunks"));
  CHECK_THAT(cli_with(env, {"segment", "close", "--help"}).out,
             Catch::Contains("Daemon method: segment.close — Close an open segment"));
  // The top-level help still lists every command.
  auto top = cli_with(env, {"--help"});
  for (const char* c :
       {"ping", "status", "daemon", "ast", "ctx", "def", "hover", "refs", "diag", "lsp", "sym",
        "segment"}) {
    CHECK_THAT(top.out, Catch::Contains(c));
  }
}

TEST_CASE("from the home directory outside any project a command asks for -s and starts nothing",
          "[cli][segment]") {
  TempDir tmp;
  const fs::path home = fs::canonical(tmp.path());
  fs::create_directories(home / "proj");
  const std::map<std::string, std::string> env{{"HOME", home.string()},
                                               {"TRIFECTA_SOCKET", (home / "run" / "d.sock").string()},
                                               {"TRIFECTA_DAEMON", "/nonexistent/trifectad"}};
  const auto in_home = [&](const std::string& args) {
    return run({"/bin/sh", "-c", "cd \"$HOME\" && exec \"$0\" " + args, TRIFECTA_BIN}, env, 30s);
  };
  auto r = in_home("ctx search json");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(home.string() + " is your home directory, not a project") &&
                        Catch::Contains("pass -s DIR"));
  CHECK_FALSE(fs::exists(home / "_ctx"));
  CHECK_FALSE(fs::exists(home / "run"));
  // -s names a tree, and the command goes on (to the missing daemon: unavailable, exit 3).
  r = in_home("--no-spawn ctx search json -s proj");
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, !Catch::Contains("home directory"));
  // doctor reports it, among its other checks.
  r = in_home("doctor");
  CHECK_THAT(r.out, Catch::Contains("warn  segment: none: " + home.string() + " is your home directory"));
}

TEST_CASE("daemon status with no daemon says so and exits 3", "[cli]") {
  TempDir tmp;
  const std::map<std::string, std::string> env{
      {"TRIFECTA_SOCKET", (tmp.path() / "d.sock").string()}};
  auto r = cli_with(env, {"daemon", "status"});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.out, Catch::Contains("not running"));
  CHECK_FALSE(fs::exists(tmp.path() / "d.sock"));  // and it did not start one
}

TEST_CASE("a malformed reply ends in a message and exit 1, never a crash", "[cli][malformed]") {
  SECTION("a result without the field the printer needs") {
    FakeDaemon fake(
        R"({"jsonrpc":"2.0","id":$ID,"result":{"terms":["query"],"matched":1,"generation":1,)"
        R"("query":"query","index":{"state":"ready","generation":1},)"
        R"("hits":[{"id":"a#b","start_line":1,"end_line":2,"score":1.0,"kind":"code","title":"b",)"
        R"("sha256":"ab","tokens":3,"preview":"p"}]}})");
    auto r = cli_with(fake.env(), {"ctx", "search", "-s", "/tmp", "query"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(
        r.err,
        Catch::Contains("trifecta: malformed reply from trifectad: result.hits[0].path: missing"));
  }
  SECTION("a field of the wrong type") {
    FakeDaemon fake(R"({"jsonrpc":"2.0","id":$ID,"result":{"ok":"yes"}})");
    auto r = cli_with(fake.env(), {"ctx", "validate", "-s", "/tmp"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("result.ok: expected a boolean"));
  }
  SECTION("a result that is not an object") {
    FakeDaemon fake(R"({"jsonrpc":"2.0","id":$ID,"result":[1,2]})");
    auto r = cli_with(fake.env(), {"ping"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("result: expected an object"));
  }
  SECTION("a line that is not JSON-RPC at all") {
    FakeDaemon fake("this is not json");
    auto r = cli_with(fake.env(), {"status"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("malformed reply from trifectad"));
  }
  SECTION("--json prints the reply as is: reading it is the caller's business") {
    FakeDaemon fake(R"({"jsonrpc":"2.0","id":$ID,"result":{}})");
    auto r = cli_with(fake.env(), {"--json", "ctx", "validate", "-s", "/tmp"});
    CHECK(r.exit_code == 0);
    CHECK(json::parse(r.out).at("result").as_object().empty());
  }
}

TEST_CASE("a read-only command sends its request behind the hello, one round trip", "[cli][pipeline]") {
  // The fake holds its replies until two lines arrived: a client that waited for the hello's
  // reply first would time out here.
  FakeDaemon fake(R"({"jsonrpc":"2.0","id":$ID,"result":{"ok":true,"pid":4242}})", {}, 2);
  auto r = cli_with(fake.env(), {"--timeout", "3", "--json", "ping"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(json::parse(r.out).at("result").at("pid").as_int64() == 4242);
}

TEST_CASE("a refused hello gives the same typed error whether or not the request was pipelined",
          "[cli][pipeline]") {
  const std::string refusal =
      R"({"jsonrpc":"2.0","id":$ID,"error":{"code":-32004,"message":"client speaks protocol 1.3 but trifectad 9.0.0 )"
      R"((pid 1) speaks 2.0; restart the daemon with `trifecta daemon restart`","data":{"name":"VERSION_MISMATCH",)"
      R"("daemon_protocol":"2.0","daemon_version":"9.0.0"}}})";
  // ping is pipelined (its reply here is a success the client must not use); segment close is not.
  FakeDaemon fake(R"({"jsonrpc":"2.0","id":$ID,"result":{"ok":true,"pid":4242}})", refusal);
  const auto piped = cli_with(fake.env(), {"ping"});
  const auto plain = cli_with(fake.env(), {"segment", "close", "-s", "/tmp"});
  INFO(piped.out << piped.err << plain.out << plain.err);
  CHECK(piped.exit_code == 1);
  CHECK(piped.out.empty());
  CHECK_THAT(piped.err, Catch::Contains("speaks 2.0") && Catch::Contains("trifecta daemon restart"));
  CHECK(plain.exit_code == piped.exit_code);
  CHECK(plain.err == piped.err);
  // --json: the hello's error line as is, never the request's reply.
  const auto pj = json::parse(cli_with(fake.env(), {"--json", "ping"}).out).as_object();
  CHECK(pj.at("error").at("data").at("name").as_string() == "VERSION_MISMATCH");
}

TEST_CASE("a pipelined hello whose reply does not decode is a protocol error, not the request's answer",
          "[cli][pipeline]") {
  FakeDaemon fake(R"({"jsonrpc":"2.0","id":$ID,"result":{"ok":true,"pid":4242}})",
                  R"({"jsonrpc":"2.0","id":$ID,"result":{"pid":"x"}})");
  const auto r = cli_with(fake.env(), {"--json", "ping"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());  // the request's (valid) reply is not printed
  CHECK_THAT(r.err, Catch::Contains("malformed reply from trifectad: result."));
}
