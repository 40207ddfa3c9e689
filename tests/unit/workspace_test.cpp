// lib/workspace: globbing and .gitignore rules, file listing (git and walk), the reading layer,
// and the inotify watcher.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "../support/temp_dir.hpp"
#include "lang/python/extractor.hpp"
#include "util/paths.hpp"
#include "workspace/file_list.hpp"
#include "workspace/file_reader.hpp"
#include "workspace/glob.hpp"
#include "workspace/watcher.hpp"

using namespace trifecta::core;
using namespace trifecta::core::workspace;
namespace fs = std::filesystem;

namespace {

using trifecta::test::write_text;

fs::path canon(const fs::path& p) { return canonical_path(p).value(); }

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("glob_match: stars, question marks, classes and double stars") {
  struct Row {
    const char* pattern;
    const char* path;
    bool match;
  };
  const Row rows[] = {
      {"*.py", "a.py", true},          {"*.py", "dir/a.py", false},   {"**/*.py", "dir/a.py", true},
      {"**/*.py", "a.py", true},       {"a/**", "a/b/c", true},        {"a/**/b", "a/b", true},
      {"a/**/b", "a/x/y/b", true},     {"a/**/b", "a/x/y/c", false},   {"?.txt", "a.txt", true},
      {"?.txt", "ab.txt", false},      {"[ab].c", "b.c", true},        {"[!ab].c", "b.c", false},
      {"[a-c]x", "bx", true},          {"[a-c]x", "dx", false},        {"\\*.md", "*.md", true},
      {"\\*.md", "a.md", false},       {"doc/*.md", "doc/x.md", true}, {"doc/*.md", "doc/sub/x.md", false},
      // A trailing `/` names a directory: everything under it.
      {"db/", "db/a.py", true},        {"db/", "db/x/y.py", true},     {"db/", "dbx/a.py", false},
      {"db/", "a/db/x.py", false},     {"src/*/", "src/p/q.py", true},
  };
  for (const auto& r : rows) {
    INFO(r.pattern << " vs " << r.path);
    CHECK(glob_match(r.pattern, r.path) == r.match);
  }
}

TEST_CASE("gitignore rules: anchoring, dir-only, negation, last match wins") {
  IgnoreRules root("", "# comment\n*.log\n/build\nout/\n!keep.log\ndocs/*.tmp\n\n  \n");
  struct Row {
    const char* path;
    bool is_dir;
    int expected;
  };
  const Row rows[] = {
      {"a.log", false, 1},        {"x/y/a.log", false, 1},   {"keep.log", false, -1},
      {"x/keep.log", false, -1},  {"build", true, 1},        {"src/build", true, 0},
      {"out", true, 1},           {"out", false, 0},         {"src/out", true, 1},
      {"docs/a.tmp", false, 1},   {"x/docs/a.tmp", false, 0}, {"main.py", false, 0},
  };
  for (const auto& r : rows) {
    INFO(r.path);
    CHECK(root.match(r.path, r.is_dir) == r.expected);
  }
  // A nested .gitignore applies below its directory only and overrides the parent.
  IgnoreRules nested("sub", "!*.log\n/only_here\n");
  std::vector<const IgnoreRules*> stack{&root, &nested};
  CHECK_FALSE(is_ignored(stack, "sub/a.log", false));
  CHECK(is_ignored(stack, "other/a.log", false));
  CHECK(is_ignored(stack, "sub/only_here", false));
  CHECK_FALSE(is_ignored(stack, "sub/x/only_here", false));
  CHECK_FALSE(is_ignored(stack, "only_here", false));
}

TEST_CASE("list_files walks and honours nested .gitignore files and default excludes") {
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / ".gitignore", "*.log\n/generated/\n");
  write_text(r / "a.py", "x = 1\n");
  write_text(r / "debug.log", "x\n");
  write_text(r / "generated/g.py", "x\n");
  write_text(r / "pkg/.gitignore", "secret.txt\n!important.log\n");
  write_text(r / "pkg/secret.txt", "s\n");
  write_text(r / "pkg/important.log", "i\n");
  write_text(r / "pkg/mod.py", "y\n");
  write_text(r / "node_modules/m/index.js", "z\n");
  write_text(r / "__pycache__/a.cpython-311.pyc", "c\n");
  write_text(r / "env/pyvenv.cfg", "home = /usr\n");
  write_text(r / "env/lib/site.py", "v\n");
  write_text(r / "_ctx/cache/x", "c\n");
  write_text(r / "build/out.txt", "b\n");
  auto l = list_files(r, PathFilter{}, ListOptions{false});
  REQUIRE(l.ok());
  CHECK(l->source == ListingSource::kWalk);
  CHECK(l->files == std::vector<std::string>{".gitignore", "a.py", "pkg/.gitignore", "pkg/important.log", "pkg/mod.py"});
  // The directories a .gitignore excludes are named (the watcher skips them); excluded by default
  // (node_modules, build, …) they are not the ignore rules' and are not.
  CHECK(l->ignored_dirs == std::vector<std::string>{"generated"});
}

TEST_CASE("the walker lists a file 1,500 directories deep on a 128 KiB stack (no recursion per level)") {
  // Issue 16: the walker recursed once per directory level, so a deep enough tree overflowed a
  // small stack (SIGSEGV). 1,500 levels of "d/": about as deep as a path can be opened (PATH_MAX).
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  std::string rel;
  for (int i = 0; i < 1500; ++i) rel += "d/";
  REQUIRE(r.string().size() + rel.size() + 16 < PATH_MAX);
  // Level by level (mkdirat): libstdc++'s create_directories refuses a path this long.
  int fd = ::open(r.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  for (int i = 0; i < 1500; ++i) {
    REQUIRE(::mkdirat(fd, "d", 0700) == 0);
    const int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(fd);
    REQUIRE(next >= 0);
    fd = next;
  }
  const int file = ::openat(fd, "deep.py", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(file >= 0);
  REQUIRE(::write(file, "x = 1\n", 6) == 6);
  ::close(file);
  ::close(fd);
  write_text(r / "top.py", "y = 2\n");
  struct Job {
    fs::path root;
    Result<FileListing> listing{Error{Errc::kInternal, "not run"}};
  } job{r};
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, 128 * 1024) == 0);
  pthread_t thread;
  REQUIRE(pthread_create(
              &thread, &attr,
              [](void* p) -> void* {
                auto* j = static_cast<Job*>(p);
                j->listing = list_files(j->root, PathFilter{}, ListOptions{false});
                return nullptr;
              },
              &job) == 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  REQUIRE(job.listing.ok());
  CHECK(job.listing->files == std::vector<std::string>{rel + "deep.py", "top.py"});
  // rm works level by level too (TempDir's remove_all may stop at the path length).
  CHECK(std::system(("rm -rf '" + (r / "d").string() + "'").c_str()) == 0);
}

TEST_CASE("config include/exclude globs and max_file_bytes") {
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / "_ctx/trifecta.json", R"({"include": ["build/gen/**"], "exclude": ["**/*.min.js", "data/**"], "max_file_bytes": 100})");
  write_text(r / "build/gen/api.py", "x\n");
  write_text(r / "build/other.py", "x\n");
  write_text(r / "web/app.min.js", "x\n");
  write_text(r / "web/app.js", "x\n");
  write_text(r / "data/big.csv", "x\n");
  auto cfg = load_config(r);
  REQUIRE(cfg.ok());
  CHECK(cfg->max_file_bytes == 100);
  auto l = list_files(r, PathFilter{*cfg}, ListOptions{false});
  REQUIRE(l.ok());
  CHECK(l->files == std::vector<std::string>{"build/gen/api.py", "web/app.js"});

  write_text(r / "_ctx/trifecta.json", R"({"include": "not-a-list"})");
  auto bad = load_config(r);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::kParse);
}

namespace {
// `git init` in `r`, `git add` the paths named, one commit, then `then` (a shell command, or
// empty); true when it all worked.
bool git_commit(const fs::path& r, const std::string& paths, const std::string& then = "") {
  const std::string cmd = "cd '" + r.string() + "' && git init -q && git add " + paths +
                          " && git -c user.email=t@t -c user.name=t commit -qm init" +
                          (then.empty() ? "" : " && " + then);
  return std::system(cmd.c_str()) == 0;
}
}  // namespace

TEST_CASE("list_files uses git's view inside a work tree") {
  if (std::system("git --version >/dev/null 2>&1") != 0) SUCCEED("git not installed");
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / ".gitignore", "ignored/\n*.tmp\n");
  write_text(r / "tracked.py", "x\n");
  write_text(r / "untracked.md", "# t\n");
  write_text(r / "ignored/a.py", "x\n");
  write_text(r / "scratch.tmp", "x\n");
  write_text(r / "deleted.py", "x\n");
  write_text(r / "venv2/pyvenv.cfg", "home\n");
  write_text(r / "venv2/lib.py", "x\n");
  REQUIRE(git_commit(r, "tracked.py deleted.py .gitignore", "rm deleted.py"));
  auto l = list_files(r, PathFilter{});
  REQUIRE(l.ok());
  CHECK(l->source == ListingSource::kGit);
  CHECK(l->files == std::vector<std::string>{".gitignore", "tracked.py", "untracked.md"});
  // git names the directories it ignores whole; ignored files (`scratch.tmp`) are not directories.
  CHECK(l->ignored_dirs == std::vector<std::string>{"ignored"});
  // drop_ignored asks git for paths that appear later.
  auto kept = drop_ignored(r, ListingSource::kGit, {"new.py", "ignored/new.py", "x.tmp"});
  CHECK(kept == std::vector<std::string>{"new.py"});
  // ignored_among_dirs: directories made later. git confirms what the segment's .gitignore files
  // exclude; one only .git/info/exclude names is not asked about (watched, as before).
  fs::create_directories(r / "ignored/sub");
  fs::create_directories(r / "fresh");
  fs::create_directories(r / "local_only");
  write_text(r / ".git/info/exclude", "local_only/\n");
  CHECK(ignored_among_dirs(r, ListingSource::kGit, {"fresh", "ignored/sub", "local_only"}) ==
        std::vector<std::string>{"ignored/sub"});
  CHECK(ignored_among_dirs(r, ListingSource::kWalk, {"fresh", "ignored/sub", "local_only"}) ==
        std::vector<std::string>{"ignored/sub"});
  CHECK(ignored_among_dirs(r, ListingSource::kGit, {}).empty());
}

TEST_CASE("a segment inside a folder its git work tree ignores is walked and not listed empty") {
  // A package in `.venv/…/site-packages` or an in-tree `build/` of a repository: git lists
  // nothing there, so the segment had no files at all.
  if (std::system("git --version >/dev/null 2>&1") != 0) SUCCEED("git not installed");
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / ".gitignore", "deps/\n");
  write_text(r / "app.py", "x\n");
  write_text(r / "deps/lib/pkg/mod.py", "y\n");
  write_text(r / "deps/lib/pkg/.gitignore", "*.gen.py\n");
  write_text(r / "deps/lib/pkg/out.gen.py", "z\n");
  write_text(r / "deps/lib/pkg/__pycache__/mod.pyc", "c\n");
  write_text(r / "empty_dir/.keep", "");
  REQUIRE(git_commit(r, "app.py .gitignore"));
  auto l = list_files(r / "deps/lib/pkg", PathFilter{});
  REQUIRE(l.ok());
  CHECK(l->source == ListingSource::kWalk);
  // its own .gitignore and the default excludes still apply
  CHECK(l->files == std::vector<std::string>{".gitignore", "mod.py"});
  REQUIRE_FALSE(l->warnings.empty());
  CHECK_THAT(l->warnings[0], Catch::Contains("inside a folder its git work tree ignores"));
  // The repository itself is still git's view, and an empty but tracked-able folder stays git's.
  auto top = list_files(r, PathFilter{});
  REQUIRE(top.ok());
  CHECK(top->source == ListingSource::kGit);
  CHECK(top->files == std::vector<std::string>{".gitignore", "app.py", "empty_dir/.keep"});
}

TEST_CASE("a .gitignore that is a FIFO in a git work tree: git is cut off, the tree is walked") {
  // Issue 16: git opens every .gitignore blocking, so `git ls-files` (and the build) hung for good.
  if (std::system("git --version >/dev/null 2>&1") != 0) SUCCEED("git not installed");
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / "tracked.py", "x\n");
  write_text(r / "pkg/mod.py", "y\n");
  REQUIRE(git_commit(r, "tracked.py"));
  REQUIRE(::mkfifo((r / "pkg" / ".gitignore").c_str(), 0600) == 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto l = list_files(r, PathFilter{}, ListOptions{true, std::chrono::milliseconds(1500)});
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(l.ok());
  CHECK(took < std::chrono::seconds(10));
  // Whether this git blocks on the FIFO or not, the listing is right and never waits for good.
  CHECK(l->files == std::vector<std::string>{"pkg/mod.py", "tracked.py"});
  if (l->source == ListingSource::kWalk) {
    REQUIRE_FALSE(l->warnings.empty());
    CHECK_THAT(l->warnings[0], Catch::Contains("git ls-files did not finish within 1500 ms"));
  }
}

TEST_CASE("git_ignore_sources names the repository's exclude file and the user's excludes file") {
  if (std::system("git --version >/dev/null 2>&1") != 0) {
    SUCCEED("git not installed");
    return;
  }
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / "pkg" / "m.py", "x\n");
  // Outside a work tree: nothing.
  CHECK(git_ignore_sources(r / "pkg").empty());
  REQUIRE(std::system(("git -C '" + r.string() + "' init -q").c_str()) == 0);
  // No global config of the machine's user may answer for core.excludesFile.
  const fs::path global = r / "global-config";
  write_text(global, "");
  ::setenv("GIT_CONFIG_GLOBAL", global.c_str(), 1);
  ::setenv("XDG_CONFIG_HOME", (r / "xdg").c_str(), 1);
  // From a folder inside the work tree too: the repository's file, absolute.
  auto s = git_ignore_sources(r / "pkg");
  REQUIRE(s.size() == 2);
  CHECK(s[0] == r / ".git" / "info" / "exclude");
  CHECK(s[1] == r / "xdg" / "git" / "ignore");  // not set: git's default under XDG_CONFIG_HOME
  REQUIRE(std::system(("git -C '" + r.string() + "' config core.excludesFile '" +
                       (r / "mine").string() + "'")
                          .c_str()) == 0);
  s = git_ignore_sources(r);
  REQUIRE(s.size() == 2);
  CHECK(s[1] == r / "mine");
  ::unsetenv("XDG_CONFIG_HOME");
  ::unsetenv("GIT_CONFIG_GLOBAL");
}

TEST_CASE("drop_ignored evaluates .gitignore files outside git") {
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / ".gitignore", "out/\n");
  write_text(r / "pkg/.gitignore", "*.gen.py\n");
  auto kept = drop_ignored(r, ListingSource::kWalk, {"a.py", "out/b.py", "pkg/c.gen.py", "pkg/d.py"});
  CHECK(kept == std::vector<std::string>{"a.py", "pkg/d.py"});
}

TEST_CASE("FileReader classifies binary, too large, missing and non-UTF-8 files") {
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / "ok.py", "print('hi')\n");
  write_text(r / "bin.dat", std::string("abc\0def", 7));
  write_text(r / "big.txt", std::string(200, 'x'));
  write_text(r / "latin1.txt", "caf\xe9 au lait\n");
  FileReader reader(r, 100);
  ReadStats stats;
  auto ok = reader.read("ok.py", ReadPurpose::kRaw, &stats);
  REQUIRE(ok.ok());
  CHECK(ok->text == "print('hi')\n");
  CHECK(ok->replaced_bytes == 0);
  CHECK(stats.bytes(ReadPurpose::kRaw) == 12);

  auto bin = reader.read("bin.dat", ReadPurpose::kIndex, &stats);
  REQUIRE_FALSE(bin.ok());
  CHECK(bin.error().code == Errc::kBinary);
  CHECK(skip_reason_of(bin.error().code) == "binary");

  auto big = reader.read("big.txt", ReadPurpose::kIndex, &stats);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == Errc::kTooLarge);
  CHECK(skip_reason_of(big.error().code) == "too_large");

  auto missing = reader.read("nope.py", ReadPurpose::kIndex, &stats);
  REQUIRE_FALSE(missing.ok());
  CHECK(skip_reason_of(missing.error().code) == "missing");

  auto latin = reader.read("latin1.txt", ReadPurpose::kExcerpt, &stats);
  REQUIRE(latin.ok());
  CHECK(latin->replaced_bytes == 1);
  CHECK(latin->text == "caf\xEF\xBF\xBD au lait\n");
  CHECK(stats.bytes(ReadPurpose::kExcerpt) == 13);
  CHECK(stats.bytes(ReadPurpose::kIndex) == 7);  // the binary file was read to find its NUL
  CHECK(stats.total_files() == 3);
}

TEST_CASE("FileReader and the skeleton extractor decode a declared Latin-1 file the same way") {
  // One decoding (util/utf8.hpp) for ctx get (FileReader) and ast skeleton (extract_skeleton):
  // both show `café`, neither a U+FFFD.
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  const std::string bytes = "# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9t\xe9'\n";
  write_text(r / "latin.py", bytes);
  FileReader reader(r, kDefaultMaxFileBytes);
  auto got = reader.read("latin.py", ReadPurpose::kExcerpt, nullptr);
  REQUIRE(got.ok());
  CHECK(got->encoding == "latin-1");
  CHECK(got->replaced_bytes == 0);
  CHECK(got->text == "# -*- coding: latin-1 -*-\ndef caf\xc3\xa9():\n    return '\xc3\xa9t\xc3\xa9'\n");
  auto sk = trifecta::core::ast::extract_skeleton(bytes);
  REQUIRE(sk.ok());
  CHECK(sk->encoding == "latin-1");
  REQUIRE(sk->definitions.size() == 1);
  CHECK(sk->definitions[0].name == "caf\xc3\xa9");
  CHECK(got->text.find(sk->definitions[0].name) != std::string::npos);
}

TEST_CASE("FileReader refuses paths that leave the segment") {
  trifecta::test::TempDir t;
  trifecta::test::TempDir outside;
  const fs::path r = canon(t.path());
  write_text(r / "in.py", "x\n");
  write_text(outside.path() / "secret.txt", "secret\n");
  fs::create_symlink(outside.path() / "secret.txt", r / "link.txt");
  fs::create_directory_symlink(outside.path(), r / "linkdir");
  FileReader reader(r);
  ReadStats stats;
  for (const std::string& bad : {std::string("../x"), std::string("a/../../x"), (outside.path() / "secret.txt").string(),
                                std::string("link.txt"), std::string("linkdir/secret.txt")}) {
    INFO(bad);
    auto res = reader.read(bad, ReadPurpose::kRaw, &stats);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code == Errc::kPathEscape);
  }
  CHECK(stats.total_bytes() == 0);
  auto abs_inside = reader.read((r / "in.py").string(), ReadPurpose::kRaw, &stats);
  REQUIRE(abs_inside.ok());
  CHECK(abs_inside->rel == "in.py");
}

TEST_CASE("Watcher reports edits, creations in new directories and deletions") {
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / "a.py", "x = 1\n");
  write_text(r / "node_modules/m.js", "x\n");
  auto w = Watcher::open(r, PathFilter{});
  REQUIRE(w.ok());
  Watcher& watcher = **w;
  CHECK(watcher.drain().empty());

  write_text(r / "a.py", "x = 2\n");
  auto c1 = watcher.drain();
  CHECK(c1.changed == std::vector<std::string>{"a.py"});

  // A new directory is watched as soon as its event is drained; files already in it are reported.
  fs::create_directories(r / "pkg/sub");
  write_text(r / "pkg/sub/early.py", "e\n");
  auto c2 = watcher.drain();
  CHECK(contains(c2.created, "pkg/sub/early.py"));
  write_text(r / "pkg/sub/late.py", "l\n");
  auto c3 = watcher.drain();
  CHECK(contains(c3.created, "pkg/sub/late.py"));

  fs::remove(r / "a.py");
  auto c4 = watcher.drain();
  CHECK(c4.deleted == std::vector<std::string>{"a.py"});

  fs::remove_all(r / "pkg");
  auto c5 = watcher.drain();
  CHECK(contains(c5.deleted_dirs, "pkg"));

  // Excluded directories are not watched.
  write_text(r / "node_modules/m.js", "y\n");
  CHECK(watcher.drain().empty());
  CHECK_FALSE(c5.rescan_needed);
}

TEST_CASE("Watcher::skip_dirs: an ignored directory's events stop, also when it is re-created, until rewatch") {
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / "a.py", "x = 1\n");
  write_text(r / "out/gen/g.py", "x\n");
  write_text(r / "src/m.py", "x\n");
  auto w = Watcher::open(r, PathFilter{});
  REQUIRE(w.ok());
  Watcher& watcher = **w;
  const std::size_t all = watcher.watches();  // root, out, out/gen, src
  CHECK(all == 4);
  watcher.skip_dirs({"out"});
  CHECK(watcher.watches() == 2);
  write_text(r / "out/gen/g.py", "y\n");
  write_text(r / "out/new.py", "y\n");
  CHECK(watcher.drain().empty());
  // Removed and made again (a clean build): still not watched; its parent reports the directory.
  CHECK(std::system(("rm -rf '" + (r / "out").string() + "'").c_str()) == 0);
  auto gone = watcher.drain();
  CHECK(gone.deleted_dirs == std::vector<std::string>{"out"});
  write_text(r / "out/gen/g.py", "z\n");
  auto made = watcher.drain();
  CHECK(made.created.empty());
  CHECK(watcher.watches() == 2);
  write_text(r / "out/gen/g.py", "w\n");
  CHECK(watcher.drain().empty());
  // Other directories are reported as before.
  write_text(r / "src/m.py", "y\n");
  CHECK(watcher.drain().changed == std::vector<std::string>{"src/m.py"});
  // rewatch() forgets the set: every admitted directory is watched again.
  watcher.rewatch();
  CHECK(watcher.watches() == all);
  write_text(r / "out/gen/g.py", "v\n");
  CHECK(watcher.drain().changed == std::vector<std::string>{"out/gen/g.py"});
  // With a check, directories made later are asked about, all of one drain at once.
  std::vector<std::vector<std::string>> asked;
  watcher.skip_dirs({}, [&](std::vector<std::string> dirs) {
    asked.push_back(dirs);
    std::vector<std::string> out;
    for (auto& d : dirs) {
      if (d.rfind("gen", 0) == 0) out.push_back(d);
    }
    return out;
  });
  write_text(r / "gen1/x/g.py", "g\n");
  write_text(r / "lib1/l.py", "l\n");
  auto fresh = watcher.drain();
  CHECK(asked == std::vector<std::vector<std::string>>{{"gen1", "lib1"}});
  CHECK(fresh.created == std::vector<std::string>{"lib1/l.py"});
  CHECK(watcher.watches() == all + 1);  // lib1
  write_text(r / "gen1/x/g.py", "h\n");
  CHECK(watcher.drain().empty());
  // rewatch(filter) watches under new rules, on the same descriptor.
  const int fd = watcher.fd();
  SegmentConfig cfg;
  cfg.exclude = {"src"};
  watcher.rewatch(PathFilter(cfg));
  CHECK(watcher.fd() == fd);
  CHECK(watcher.watches() == all + 3 - 1);  // + gen1, gen1/x, lib1 - src
  write_text(r / "src/m.py", "z\n");
  CHECK(watcher.drain().empty());
}

TEST_CASE("first_file_with_suffix walks like list_files: same excludes, files before subdirectories") {
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / "README.md", "x\n");
  write_text(r / "a_pkg/deep/mod.py", "x = 1\n");
  write_text(r / "node_modules/x.py", "x = 1\n");
  write_text(r / "env/pyvenv.cfg", "home = /usr\n");
  write_text(r / "env/lib/site.py", "x = 1\n");
  write_text(r / "ignored/y.py", "x = 1\n");
  write_text(r / ".gitignore", "ignored/\n");
  // No .py at the top: the first one in sorted, files-first order, excluded trees skipped.
  CHECK(first_file_with_suffix(r, PathFilter{}, ".py") == "a_pkg/deep/mod.py");
  write_text(r / "z_main.py", "x = 1\n");
  CHECK(first_file_with_suffix(r, PathFilter{}, ".py") == "z_main.py");  // a top-level file wins
  SegmentConfig c;
  c.exclude = {"z_main.py", "a_pkg/**"};
  CHECK(first_file_with_suffix(r, PathFilter(c), ".py").empty());  // the segment's config counts
  trifecta::test::TempDir t2;  // bounded: a/, a/b/, a/b/c.py are three entries
  write_text(canon(t2.path()) / "a/b/c.py", "x = 1\n");
  CHECK(first_file_with_suffix(canon(t2.path()), PathFilter{}, ".py", 2).empty());
  CHECK(first_file_with_suffix(canon(t2.path()), PathFilter{}, ".py", 3) == "a/b/c.py");
  CHECK(first_file_with_suffix(r / "missing", PathFilter{}, ".py").empty());
}

TEST_CASE("FileReader counts every read in its totals, with or without the caller's stats, read_bytes does not decode") {
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  write_text(r / "latin.py", "# coding: latin-1\nx = '\xe9'\n");  // 26 bytes
  write_text(r / "bin.dat", std::string("ab\0cd", 5));
  FileReader reader(r, kDefaultMaxFileBytes);
  auto raw = reader.read_bytes("latin.py", ReadPurpose::kSkeleton, nullptr);
  REQUIRE(raw.ok());
  CHECK(raw->text == "# coding: latin-1\nx = '\xe9'\n");  // as on disk
  CHECK(raw->raw_bytes == 26);
  ReadStats mine;
  auto text = reader.read(r.string() + "/latin.py", ReadPurpose::kRaw, &mine);  // absolute inside the root
  REQUIRE(text.ok());
  CHECK(text->text == "# coding: latin-1\nx = '\xc3\xa9'\n");
  CHECK_FALSE(reader.read("bin.dat", ReadPurpose::kIndex, nullptr).ok());
  CHECK(mine.total_bytes() == 26);
  CHECK(reader.totals().bytes(ReadPurpose::kSkeleton) == 26);
  CHECK(reader.totals().bytes(ReadPurpose::kRaw) == 26);
  CHECK(reader.totals().bytes(ReadPurpose::kIndex) == 5);
  CHECK(reader.totals().total_files() == 3);
}

TEST_CASE("FileReader::open_ranges: the read checks, then byte ranges as on disk, the file counted once") {
  trifecta::test::TempDir t;
  trifecta::test::TempDir outside;
  const fs::path r = canon(t.path());
  write_text(r / "a.py", "0123456789abcdef\n");  // 17 bytes
  write_text(r / "big.txt", std::string(200, 'x'));
  write_text(outside.path() / "secret.txt", "secret\n");
  fs::create_symlink(outside.path() / "secret.txt", r / "link.txt");
  REQUIRE(::mkfifo((r / "pipe").c_str(), 0600) == 0);
  FileReader reader(r, 100);
  for (const std::string& bad : {std::string("../x"), (outside.path() / "secret.txt").string(), std::string("link.txt")}) {
    INFO(bad);
    auto res = reader.open_ranges(bad);
    REQUIRE_FALSE(res.ok());
    CHECK(res.error().code == Errc::kPathEscape);
  }
  CHECK(reader.open_ranges("big.txt").error().code == Errc::kTooLarge);
  CHECK(reader.open_ranges("pipe").error().code == Errc::kInvalidArgument);  // opened at once, refused
  CHECK(reader.open_ranges("nope.py").error().code == Errc::kNotFound);
  CHECK(reader.totals().total_files() == 0);
  auto f = reader.open_ranges("a.py");
  REQUIRE(f.ok());
  CHECK(f->size() == 17);
  CHECK(f->mtime_ns() == reader.stat("a.py")->mtime_ns);
  ReadStats mine;
  CHECK(*f->read(3, 4, ReadPurpose::kRank, &mine) == "3456");
  CHECK(*f->read(10, 100, ReadPurpose::kRank, &mine) == "abcdef\n");  // the file ends first
  CHECK(f->read(17, 5, ReadPurpose::kRank, &mine)->empty());            // at or past the end: nothing
  CHECK(f->read(1000, 5, ReadPurpose::kRank, &mine)->empty());
  CHECK(f->read(0, 0, ReadPurpose::kRank, &mine)->empty());
  CHECK(mine.files(ReadPurpose::kRank) == 1);
  CHECK(mine.bytes(ReadPurpose::kRank) == 11);
  CHECK(reader.totals().files(ReadPurpose::kRank) == 1);
  CHECK(reader.totals().bytes(ReadPurpose::kRank) == 11);
  // Truncated after the open: what is there.
  write_text(r / "a.py", "0123\n");
  CHECK(*f->read(2, 10, ReadPurpose::kRank, nullptr) == "23\n");
}

TEST_CASE("the watcher watches a tree 2,100 directories deep on a 128 KiB stack, past PATH_MAX with a warning") {
  // Issue 16 item 9: add_tree recursed once per directory level holding each level's directory
  // open (a deep tree overflowed a small stack, or ran out of descriptors and silently stopped
  // watching), and skipped entries too long to stat without a word. Now: a work list, one
  // directory open at a time, and a count plus a warning for what is past PATH_MAX.
  trifecta::test::TempDir t;
  const fs::path r = canon(t.path());
  const int levels = 2100;  // 4,200 bytes of "d/": deeper than PATH_MAX below any root
  int fd = ::open(r.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  for (int i = 0; i < levels; ++i) {
    REQUIRE(::mkdirat(fd, "d", 0700) == 0);
    const int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(fd);
    REQUIRE(next >= 0);
    fd = next;
  }
  ::close(fd);
  // Levels whose absolute path is shorter than PATH_MAX can be watched: the root plus those.
  std::size_t watchable = 1;
  for (int i = 1; i <= levels; ++i)
    if (r.native().size() + 2 * static_cast<std::size_t>(i) < PATH_MAX) ++watchable;
  REQUIRE(watchable < static_cast<std::size_t>(levels) + 1);
  struct Job {
    fs::path root;
    std::unique_ptr<Watcher> watcher;
  } job{r, nullptr};
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, 128 * 1024) == 0);
  pthread_t thread;
  REQUIRE(pthread_create(
              &thread, &attr,
              [](void* p) -> void* {
                auto* j = static_cast<Job*>(p);
                auto w = Watcher::open(j->root, PathFilter{});
                if (w) j->watcher = std::move(*w);
                return nullptr;
              },
              &job) == 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  REQUIRE(job.watcher);
  Watcher& w = *job.watcher;
  CHECK(w.watches() == watchable);
  CHECK(w.unwatched_too_long() == 1);  // the first level too long; nothing below it is listed
  auto first = w.drain();
  bool warned = false;
  for (const auto& m : first.warnings) warned = warned || m.find("PATH_MAX") != std::string::npos;
  CHECK(warned);
  // A file created 1,000 levels down is seen.
  std::string rel;
  for (int i = 0; i < 1000; ++i) rel += "d/";
  write_text(r / (rel + "deep.py"), "x = 1\n");
  auto c = w.drain();
  CHECK(std::find(c.created.begin(), c.created.end(), rel + "deep.py") != c.created.end());
  CHECK(std::system(("rm -rf '" + (r / "d").string() + "'").c_str()) == 0);
}
