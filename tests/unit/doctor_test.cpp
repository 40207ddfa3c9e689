// Spec of client/lib/doctor.hpp (`trifecta doctor`) against temporary trees and a scripted fake
// daemon binary (a shell script answering --version and --self-check), and of util/cli_doc.hpp
// (man pages and completions from a CLI11 App).
#include "doctor.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <catch2/catch.hpp>

#include "../support/temp_dir.hpp"
#include "util/cli_doc.hpp"

using namespace trifecta::client;
namespace fs = std::filesystem;
namespace cd = trifecta::core::cli_doc;
using trifecta::test::TempDir;
using trifecta::test::write_text;

namespace {

const Check& find(const std::vector<Check>& checks, const std::string& name) {
  for (const auto& c : checks)
    if (c.name == name) return c;
  FAIL("no check named " << name);
  throw 0;
}

// A fake trifectad: prints `version_line` for --version and `self_check` for --self-check.
fs::path fake_daemon(const fs::path& dir, const std::string& version_line,
                     const std::string& self_check) {
  const fs::path p = dir / "fake-trifectad";
  write_text(p, "#!/bin/sh\ncase \"$1\" in\n  --version) echo '" + version_line +
                    "' ;;\n  --self-check) echo '" + self_check + "' ;;\n  *) exit 2 ;;\nesac\n");
  ::chmod(p.c_str(), 0755);
  return p;
}

constexpr const char* kGoodSelfCheck =
    R"({"version":"0.1.0","protocol":"1.1","grammar":{"grammar_version":14,"runtime_min":13,)"
    R"("runtime_max":14,"parser_accepts":true,"compatible":true},"pyright":{"found":true,)"
    R"("source":"user","path":"/x/pyright-langserver","name":"pyright-langserver",)"
    R"("version":"1.1.414","starts":true,"start":"pyright 1.1.414"}})";

struct Setup {
  TempDir tmp;
  DoctorInputs in;
  Setup() {
    fs::create_directories(tmp.path() / "tree" / "pkg" / "sub");
    fs::create_directories(tmp.path() / "run");
    fs::create_directories(tmp.path() / "units");
    write_text(tmp.path() / "limit", "100000\n");
    in.daemon = fake_daemon(tmp.path(), "trifectad 0.1.0 (protocol 1.1)", kGoodSelfCheck);
    in.client_version = "0.1.0";
    in.client_protocol = "1.1";
    in.socket = tmp.path() / "run" / "trifecta" / "trifectad.sock";
    in.segment_root = tmp.path() / "tree";
    in.unit_dirs = {tmp.path() / "units"};
    in.wants_dir = tmp.path() / "wants";
    in.inotify_limit_file = tmp.path() / "limit";
  }
  void install_units(const std::string& exec) {
    write_text(tmp.path() / "units" / "trifectad.socket", "[Socket]\n");
    write_text(tmp.path() / "units" / "trifectad.service",
               "[Service]\nExecStart=" + exec + " --foreground\n");
  }
};

}  // namespace

TEST_CASE("doctor passes a good installation, with a warning for units that are not enabled",
          "[doctor]") {
  Setup s;
  s.install_units(s.in.daemon);
  auto checks = run_doctor(s.in);
  CHECK(doctor_ok(checks));
  CHECK(find(checks, "daemon").status == CheckStatus::kOk);
  CHECK(find(checks, "socket-dir").status == CheckStatus::kOk);  // absent: trifectad creates it
  CHECK(find(checks, "units").status == CheckStatus::kWarn);
  CHECK_THAT(find(checks, "units").fix,
             Catch::Contains("systemctl --user enable --now trifectad.socket"));
  CHECK(find(checks, "pyright").status == CheckStatus::kOk);
  CHECK_THAT(find(checks, "pyright").detail, Catch::Contains("(user: /x/pyright-langserver)"));
  CHECK(find(checks, "grammar").status == CheckStatus::kOk);
  CHECK(find(checks, "ctx").status == CheckStatus::kOk);
  CHECK(find(checks, "inotify").status == CheckStatus::kOk);
  CHECK_THAT(find(checks, "inotify").detail, Catch::StartsWith("3 directories"));
  CHECK(find(checks, "disk").status == CheckStatus::kOk);

  fs::create_directories(s.in.wants_dir);
  fs::create_symlink(s.tmp.path() / "units" / "trifectad.socket",
                     s.in.wants_dir / "trifectad.socket");
  checks = run_doctor(s.in);
  CHECK(find(checks, "units").status == CheckStatus::kOk);
  CHECK_THAT(find(checks, "units").detail, Catch::Contains("enabled"));

  const std::string text = render_doctor(checks);
  CHECK_THAT(text, Catch::Contains("ok    daemon: trifectad 0.1.0 (protocol 1.1)"));
  CHECK_THAT(text, Catch::EndsWith("trifecta doctor: ok\n"));
  CHECK_THAT(render_doctor_json(checks),
             Catch::StartsWith(R"({"ok":true,"checks":[{"name":"daemon","status":"ok")"));
}

TEST_CASE("doctor never tells a user to chmod or remove a shared socket directory", "[doctor]") {
  Setup s;
  // The socket straight in a directory that holds other files (a home directory, /tmp).
  const fs::path shared = s.tmp.path() / "home";
  fs::create_directories(shared);
  ::chmod(shared.c_str(), 0755);
  write_text(shared / ".profile", "# mine\n");
  s.in.socket = shared / "d.sock";
  auto checks = run_doctor(s.in);
  const Check& sock = find(checks, "socket-dir");
  CHECK(sock.status == CheckStatus::kFail);
  CHECK_THAT(sock.detail, Catch::Contains("shared directory"));
  CHECK_THAT(sock.fix, Catch::StartsWith("use a socket in a directory of its own"));
  CHECK_THAT(
      sock.fix,
      Catch::Contains((shared / ("trifecta-" + std::to_string(::geteuid())) / "d.sock").string()));
  CHECK_THAT(sock.fix, !Catch::Contains("chmod") && !Catch::Contains("rm "));
  // Sticky (as /tmp is) and empty: shared all the same.
  ::chmod(shared.c_str(), 01777);
  fs::remove(shared / ".profile");
  CHECK_THAT(find(run_doctor(s.in), "socket-dir").fix,
             Catch::StartsWith("use a socket in a directory of its own"));
  // Owned by someone else and shared: not "rm -rf" it.
  if (::geteuid() == 0) {
    ::chmod(shared.c_str(), 0755);
    write_text(shared / ".profile", "# theirs\n");
    REQUIRE(::chown(shared.c_str(), 65534, 65534) == 0);
    const auto again = run_doctor(s.in);
    const Check& theirs = find(again, "socket-dir");
    CHECK(theirs.status == CheckStatus::kFail);
    CHECK_THAT(theirs.fix, Catch::StartsWith("use a socket in a directory of its own"));
  }
}

TEST_CASE("doctor names a world-writable socket directory, absent units and a missing Pyright",
          "[doctor]") {
  Setup s;
  fs::create_directories(s.in.socket.parent_path());
  ::chmod(s.in.socket.parent_path().c_str(), 0777);
  s.in.daemon = fake_daemon(s.tmp.path(), "trifectad 0.1.0 (protocol 1.1)",
                            R"({"grammar":{"grammar_version":14,"runtime_min":13,"runtime_max":14,)"
                            R"("parser_accepts":true,"compatible":true},"pyright":{"found":false,)"
                            R"j("error":"no language server found (tried: x)"}})j");
  const auto checks = run_doctor(s.in);
  CHECK_FALSE(doctor_ok(checks));
  const Check& sock = find(checks, "socket-dir");
  CHECK(sock.status == CheckStatus::kFail);
  CHECK_THAT(sock.detail, Catch::Contains("mode 0777"));
  CHECK(sock.fix == "chmod 700 " + s.in.socket.parent_path().string());
  const Check& units = find(checks, "units");
  CHECK(units.status == CheckStatus::kFail);
  CHECK_THAT(units.detail, Catch::Contains("not found"));
  const Check& py = find(checks, "pyright");
  CHECK(py.status == CheckStatus::kFail);
  CHECK_THAT(py.detail, Catch::Contains("no language server found"));
  CHECK_THAT(py.fix, Catch::Contains("trifecta setup-pyright"));
  CHECK(find(checks, "grammar").status == CheckStatus::kOk);

  const std::string text = render_doctor(checks);
  CHECK_THAT(text, Catch::Contains("FAIL  socket-dir: "));
  CHECK_THAT(text, Catch::Contains(" — fix: chmod 700 "));
  CHECK_THAT(text, Catch::EndsWith("trifecta doctor: problems found\n"));
  CHECK_THAT(render_doctor_json(checks), Catch::StartsWith(R"({"ok":false,)"));
}

TEST_CASE("doctor compares the daemon's version and reports a grammar the runtime refuses",
          "[doctor]") {
  Setup s;
  s.in.daemon =
      fake_daemon(s.tmp.path(), "trifectad 0.0.9 (protocol 1.0)",
                  R"({"grammar":{"grammar_version":15,"runtime_min":13,"runtime_max":14,)"
                  R"("parser_accepts":false,"compatible":false},"pyright":{"found":true,)"
                  R"("source":"path","path":"/p","name":"pyright-langserver","version":"1",)"
                  R"("starts":false,"start_error":"exited before answering initialize"}})");
  auto checks = run_doctor(s.in);
  CHECK(find(checks, "daemon").status == CheckStatus::kFail);
  CHECK_THAT(find(checks, "daemon").detail,
             Catch::Contains("0.0.9 (protocol 1.0), the client is 0.1.0 (protocol 1.1)"));
  CHECK(find(checks, "grammar").status == CheckStatus::kFail);
  CHECK_THAT(find(checks, "grammar").detail, Catch::Contains("ABI 15, runtime accepts 13..14"));
  CHECK(find(checks, "pyright").status == CheckStatus::kFail);
  CHECK_THAT(find(checks, "pyright").detail,
             Catch::Contains("does not start: exited before answering"));

  // No daemon binary at all: the checks that ask it fail with that reason.
  s.in.daemon = (s.tmp.path() / "missing-trifectad").string();
  checks = run_doctor(s.in);
  CHECK(find(checks, "daemon").status == CheckStatus::kFail);
  CHECK_THAT(find(checks, "pyright").detail, Catch::Contains("no daemon binary"));
  CHECK_THAT(find(checks, "grammar").detail, Catch::Contains("no daemon binary"));
}

TEST_CASE("doctor checks the units' ExecStart, the inotify limit and the socket's owner",
          "[doctor]") {
  Setup s;
  s.install_units((s.tmp.path() / "gone" / "trifectad").string());
  write_text(s.in.inotify_limit_file, "2\n");
  fs::create_directories(s.in.segment_root / ".git" / "objects");  // hidden: not watched
  fs::create_directories(s.in.segment_root / "_ctx" / "cache");    // the index: not watched
  const auto checks = run_doctor(s.in);
  CHECK(find(checks, "units").status == CheckStatus::kFail);
  CHECK_THAT(find(checks, "units").detail, Catch::Contains("is not an executable"));
  const Check& ino = find(checks, "inotify");
  CHECK(ino.status == CheckStatus::kFail);
  CHECK_THAT(ino.detail, Catch::StartsWith("3 directories to watch, max_user_watches 2"));
  CHECK_THAT(ino.fix, Catch::Contains("fs.inotify.max_user_watches="));
  CHECK(find(checks, "ctx").status == CheckStatus::kOk);
  CHECK_THAT(find(checks, "ctx").detail, Catch::EndsWith("writable"));

  write_text(s.in.inotify_limit_file, "5\n");  // 3 of 5: more than half
  CHECK(find(run_doctor(s.in), "inotify").status == CheckStatus::kWarn);

  // _ctx that is a file cannot hold the index.
  fs::remove_all(s.in.segment_root / "_ctx");
  write_text(s.in.segment_root / "_ctx", "x");
  CHECK(find(run_doctor(s.in), "ctx").status == CheckStatus::kFail);
}

TEST_CASE("doctor names the segment's rule and a segment outside git nested in another one",
          "[doctor]") {
  Setup s;
  // The checks of an un-nested segment need a temporary directory without `_ctx` above it.
  bool clean_above = true;
  std::error_code ec;
  for (auto d = s.tmp.path(); clean_above && !d.empty() && d != d.root_path(); d = d.parent_path())
    clean_above = !fs::is_directory(d / "_ctx", ec);
  if (!clean_above)
    WARN("a folder above " << s.tmp.path() << " has _ctx: the un-nested checks are skipped");
  s.in.segment_source = SegmentSource::kCwd;
  Check seg = find(run_doctor(s.in), "segment");
  if (clean_above) {
    CHECK(seg.status == CheckStatus::kOk);
    CHECK(seg.detail == s.in.segment_root.string() +
                            ": the current directory (no git work tree or _ctx above it)");
  }
  // tree/pkg/sub was opened once (a command run there first): it pins itself for every client,
  // while tree, opened later, holds the rest.
  fs::create_directories(s.in.segment_root / "_ctx");
  const fs::path sub = s.in.segment_root / "pkg" / "sub";
  fs::create_directories(sub / "_ctx");
  const fs::path top = s.in.segment_root;
  s.in.segment_root = sub;
  s.in.segment_source = SegmentSource::kOpened;
  seg = find(run_doctor(s.in), "segment");
  CHECK(seg.status == CheckStatus::kWarn);
  CHECK_THAT(seg.detail, Catch::StartsWith(sub.string() + ": the nearest folder with _ctx") &&
                             Catch::Contains("inside " + top.string() + ", also a segment"));
  CHECK_THAT(seg.fix, Catch::Contains("trifecta segment close -s " + sub.string()) &&
                          Catch::Contains("remove " + (sub / "_ctx").string()));
  // In a work tree its root wins whatever _ctx lies around it: nothing to undo.
  s.in.segment_source = SegmentSource::kWorkTree;
  seg = find(run_doctor(s.in), "segment");
  CHECK(seg.status == CheckStatus::kOk);
  CHECK_THAT(seg.detail, Catch::EndsWith(": the enclosing git work tree"));
  // The top segment itself is fine.
  s.in.segment_root = top;
  s.in.segment_source = SegmentSource::kOpened;
  if (clean_above) CHECK(find(run_doctor(s.in), "segment").status == CheckStatus::kOk);
}

TEST_CASE("run_capture returns the exit status and stdout, and -1 for a missing program",
          "[doctor]") {
  std::string out;
  CHECK(run_capture({"/bin/sh", "-c", "echo hi; echo err >&2; exit 3"}, out, 5000) == 3);
  CHECK(out == "hi\n");
  out.clear();
  CHECK(run_capture({"/nonexistent/program"}, out, 5000) != 0);
  out.clear();
  CHECK(run_capture({"/bin/sh", "-c", "sleep 5"}, out, 100) == -1);  // killed at the deadline
}

// --- util/cli_doc.hpp
// ------------------------------------------------------------------------------

namespace {

struct DemoApp {
  CLI::App app{"demo — a test program"};
  std::string word;
  int n = 0;
  bool flag = false;
  DemoApp() {
    app.add_flag("--verbose", flag, "Talk more");
    auto* grp = app.add_subcommand("grp", "A group");
    auto* leaf = grp->add_subcommand("leaf", "A leaf command\nwith a second line");
    leaf->add_option("word", word, "The word")->required();
    leaf->add_option("-n,--count", n, "How many");
    leaf->add_flag("--hidden-flag", flag, "Not shown")->group("");
    app.add_subcommand("secret", "Hidden command")->group("");
  }
};

}  // namespace

TEST_CASE("cli_doc describes the App: commands, options, positionals, hidden ones left out",
          "[cli_doc]") {
  DemoApp d;
  const auto root = cd::describe_app(d.app, "demo");
  REQUIRE(root.subcommands.size() == 1);  // "secret" is hidden
  const auto& grp = root.subcommands[0];
  REQUIRE(grp.subcommands.size() == 1);
  const auto& leaf = grp.subcommands[0];
  CHECK(leaf.path == std::vector<std::string>{"grp", "leaf"});
  std::vector<std::string> names;
  for (const auto& o : leaf.options) names.push_back(o.names.front());
  CHECK(names == std::vector<std::string>{"-h", "word", "-n"});
  CHECK(leaf.options[1].positional);
  CHECK(leaf.options[2].names == std::vector<std::string>{"-n", "--count"});
  CHECK(leaf.options[2].value == "INT");
  CHECK(cd::all_commands(root).size() == 3);
}

TEST_CASE("cli_doc renders roff and completion scripts for every command and option", "[cli_doc]") {
  DemoApp d;
  const auto root = cd::describe_app(d.app, "demo");
  cd::ManPage page;
  page.version = "demo 1.0";
  page.date = "2026-01-02";
  page.summary = "a test program";
  const std::string man = cd::man_page(root, page);
  CHECK_THAT(man, Catch::Contains(".TH DEMO 1 \"2026-01-02\" \"demo 1.0\""));
  CHECK_THAT(man, Catch::Contains(".SS \"demo grp leaf word\""));
  CHECK_THAT(man, Catch::Contains("\\fB\\-n\\fR, \\fB\\-\\-count\\fR \\fIINT\\fR"));
  CHECK_THAT(man, !Catch::Contains("hidden"));
  CHECK_THAT(man, !Catch::Contains("secret"));
  CHECK(cd::roff_escape(".start \\ a-b") == "\\&.start \\e a\\-b");

  const std::string bash = cd::bash_completion(root);
  CHECK_THAT(bash, Catch::Contains("'grp leaf') subs=''; opts='-h --help -n --count'; files=1 ;;"));
  CHECK_THAT(bash, Catch::Contains("'') subs='grp'; opts='-h --help --verbose'; files=0 ;;"));
  CHECK_THAT(bash, Catch::Contains("complete -o filenames -F _demo_complete demo"));
  const std::string zsh = cd::zsh_completion(root);
  CHECK_THAT(zsh, Catch::StartsWith("#compdef demo\n"));
  CHECK_THAT(zsh, Catch::Contains("'--count:How many'"));
  const std::string fish = cd::fish_completion(root);
  CHECK_THAT(fish, Catch::Contains("-l 'count' -s 'n' -r -F -d 'How many'") ||
                       Catch::Contains("-s 'n' -l 'count' -r -F -d 'How many'"));
  CHECK_THAT(fish, Catch::Contains("-a 'leaf' -d 'A leaf command'"));
}

TEST_CASE("cli_doc's build date follows SOURCE_DATE_EPOCH", "[cli_doc]") {
  ::setenv("SOURCE_DATE_EPOCH", "86400", 1);
  CHECK(cd::build_date() == "1970-01-02");
  ::unsetenv("SOURCE_DATE_EPOCH");
  CHECK(cd::build_date().size() == 10);
}
