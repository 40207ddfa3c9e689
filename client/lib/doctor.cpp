#include "doctor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "session.hpp"
#include "trifecta/proto/socket_dir.hpp"

extern char** environ;

namespace trifecta::client {

namespace json = boost::json;

namespace {

Check ok(std::string name, std::string detail) {
  return {std::move(name), CheckStatus::kOk, std::move(detail), {}};
}
Check warn(std::string name, std::string detail, std::string fix) {
  return {std::move(name), CheckStatus::kWarn, std::move(detail), std::move(fix)};
}
Check fail(std::string name, std::string detail, std::string fix) {
  return {std::move(name), CheckStatus::kFail, std::move(detail), std::move(fix)};
}

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
  return buf;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v == '/' ? std::string(v) : fallback;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// "trifectad 0.1.0 (protocol 1.1)" -> {"0.1.0", "1.1"}.
bool parse_version_line(const std::string& line, std::string& version, std::string& protocol) {
  const auto sp = line.find(' ');
  const auto open = line.find(" (protocol ");
  if (sp == std::string::npos || open == std::string::npos || line.back() != ')') return false;
  version = line.substr(sp + 1, open - sp - 1);
  protocol = line.substr(open + 11, line.size() - open - 12);
  return true;
}

Check check_daemon(const DoctorInputs& in, bool& runnable) {
  runnable = false;
  std::string out;
  const int rc = run_capture({in.daemon, "--version"}, out, 10'000);
  if (rc != 0) {
    return fail("daemon",
                "cannot run `" + in.daemon + " --version` (" +
                    (rc < 0 ? std::string("not found or not executable")
                            : "exit status " + std::to_string(rc)) +
                    ")",
                "install trifectad next to trifecta or on PATH, or set TRIFECTA_DAEMON to it");
  }
  runnable = true;
  std::string version, protocol;
  const std::string line = trim(out);
  if (!parse_version_line(line, version, protocol))
    return fail("daemon", in.daemon + " printed an unexpected version line: '" + line + "'",
                "reinstall trifecta (client and daemon come from one build)");
  if (version != in.client_version || protocol != in.client_protocol)
    return fail("daemon",
                in.daemon + " is " + version + " (protocol " + protocol + "), the client is " +
                    in.client_version + " (protocol " + in.client_protocol + ")",
                "install client and daemon from the same build; then `trifecta daemon restart`");
  return ok("daemon", "trifectad " + version + " (protocol " + protocol + ") at " + in.daemon);
}

// The trifectad answering at the socket, if any (never started here): a daemon started before an
// upgrade keeps serving its old version until it exits or is restarted.
Check check_running(const DoctorInputs& in) {
  SessionOptions so;
  so.socket = in.socket;
  so.spawn = false;
  so.timeout = std::chrono::milliseconds(3000);
  so.client_name = "trifecta-doctor";
  Session s(so);
  ClientError err;
  if (!s.open(&err)) {
    if (err.code == ClientErrc::kUnavailable)
      return ok("running", "no trifectad answers at " + in.socket.string() +
                               " (the first command starts one)");
    return fail(
        "running",
        "the trifectad at " + in.socket.string() + " does not talk to this client: " + err.message,
        "trifecta daemon restart (or stop it and let the next command start this build)");
  }
  // Read as plain JSON, not decoded as this build's StatusResult: another build's reply may lack
  // fields this one requires, and its version is what is asked.
  auto reply = s.call("status", boost::json::object{}, &err);
  if (!reply) return fail("running", "`status` failed: " + err.message, "trifecta daemon restart");
  const auto* o = reply->result.if_object();
  const auto field = [o](const char* k) -> std::string {
    const auto* v = o ? o->if_contains(k) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : std::string("?");
  };
  const std::string version = field("daemon_version"), protocol = field("protocol");
  const std::string pid =
      std::to_string(s.daemon_pid() > 0 ? s.daemon_pid() : static_cast<std::int64_t>(0));
  const std::string what = "trifectad " + version + " (protocol " + protocol + "), pid " + pid;
  if (version != in.client_version || protocol != in.client_protocol)
    return warn("running",
                what + " is running, this client is " + in.client_version + " (protocol " +
                    in.client_protocol + "): it was started before an upgrade",
                "trifecta daemon restart (segments reopen and their indexes load warm)");
  return ok("running", what);
}

Check check_socket_dir(const DoctorInputs& in) {
  const fs::path dir = in.socket.parent_path();
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return ok("socket-dir", dir.string() + " absent (trifectad creates it 0700)");
    return fail("socket-dir", "cannot stat " + dir.string() + ": " + std::strerror(errno),
                "check the permissions of " + dir.parent_path().string());
  }
  if (!S_ISDIR(st.st_mode))
    return fail("socket-dir", dir.string() + " is not a directory",
                "remove it (`rm " + dir.string() + "`); trifectad creates the directory");
  // A shared directory (/tmp, a home directory) is never to be removed or chmod-ed: the fix is
  // a socket in a directory of its own (proto/socket_dir.hpp).
  const bool own = proto::daemon_only_dir(in.socket);
  const std::string own_dir =
      "use a socket in a directory of its own (--socket or TRIFECTA_SOCKET), e.g. " +
      (dir / ("trifecta-" + std::to_string(::geteuid())) / in.socket.filename()).string();
  if (st.st_uid != ::geteuid())
    return fail(
        "socket-dir",
        dir.string() + " is owned by uid " + std::to_string(st.st_uid) + ", not by you (" +
            std::to_string(::geteuid()) + ")",
        own ? "remove it (`rm -rf " + dir.string() + "`, as its owner); trifectad recreates it"
            : own_dir);
  if (st.st_mode & 077) {
    if (!own)
      return fail("socket-dir",
                  dir.string() + " has mode " + octal(st.st_mode) +
                      ": a shared directory (sticky, or holding other files), which trifectad "
                      "refuses to use (it never changes its mode)",
                  own_dir);
    return fail(
        "socket-dir",
        dir.string() + " has mode " + octal(st.st_mode) +
            ": other users can reach the socket until trifectad tightens it to 0700 at start",
        "chmod 700 " + dir.string());
  }
  struct stat ss {};
  if (::lstat(in.socket.c_str(), &ss) == 0 && ss.st_uid != ::geteuid())
    return fail("socket-dir", in.socket.string() + " is owned by uid " + std::to_string(ss.st_uid),
                "remove it (`rm " + in.socket.string() + "`)");
  return ok("socket-dir", dir.string() + " is yours, mode " + octal(st.st_mode));
}

// The value of `key=` in a unit file ("" when absent).
std::string unit_value(const fs::path& unit, const std::string& key) {
  std::ifstream f(unit);
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  return {};
}

Check check_units(const DoctorInputs& in) {
  std::error_code ec;
  for (const auto& d : in.unit_dirs) {
    const fs::path sock = d / "trifectad.socket", svc = d / "trifectad.service";
    if (!fs::exists(sock, ec) && !fs::exists(svc, ec)) continue;
    if (!fs::exists(sock, ec) || !fs::exists(svc, ec))
      return fail("units", "only one of trifectad.socket / trifectad.service in " + d.string(),
                  "reinstall (package or `make install`) to get both units");
    const std::string exec = unit_value(svc, "ExecStart");
    const std::string bin = exec.substr(0, exec.find(' '));
    if (bin.empty() || ::access(bin.c_str(), X_OK) != 0)
      return fail("units", svc.string() + ": ExecStart '" + bin + "' is not an executable",
                  "reinstall, so the unit points at the installed trifectad");
    if (fs::exists(in.wants_dir / "trifectad.socket", ec) ||
        fs::is_symlink(in.wants_dir / "trifectad.socket", ec))
      return ok("units", "in " + d.string() + ", trifectad.socket enabled");
    return warn("units",
                "in " + d.string() +
                    ", not enabled (the client starts trifectad itself when it is not running)",
                "systemctl --user enable --now trifectad.socket");
  }
  std::string where;
  for (const auto& d : in.unit_dirs) where += (where.empty() ? "" : ", ") + d.string();
  return fail("units", "trifectad.socket / trifectad.service not found (looked in " + where + ")",
              "install the package or run `make install`; or copy systemd/trifectad.socket and "
              "trifectad.service (ExecStart set) into ~/.config/systemd/user");
}

std::pair<Check, Check> check_self(const DoctorInputs& in, bool runnable) {
  if (!runnable) {
    const std::string why = "no daemon binary to ask (see the daemon check)";
    return {fail("pyright", why, "fix the daemon check first"),
            fail("grammar", why, "fix the daemon check first")};
  }
  std::string out;
  const int rc = run_capture({in.daemon, "--self-check"}, out, 60'000);
  boost::system::error_code jec;
  const json::value v = json::parse(out, jec);
  const json::object* o = v.if_object();
  if (rc != 0 || jec || !o || !o->contains("pyright") || !o->contains("grammar")) {
    const std::string why =
        "`" + in.daemon + " --self-check` failed (exit status " + std::to_string(rc) + ")";
    return {fail("pyright", why, "reinstall trifectad"),
            fail("grammar", why, "reinstall trifectad")};
  }
  auto str = [](const json::object& x, const char* k) {
    const auto* s = x.if_contains(k);
    return s && s->is_string() ? std::string(s->as_string()) : std::string();
  };
  auto flag = [](const json::object& x, const char* k) {
    const auto* b = x.if_contains(k);
    return b && b->is_bool() && b->as_bool();
  };
  Check py;
  const json::object* p = o->at("pyright").if_object();
  if (!p || !flag(*p, "found")) {
    py = fail("pyright", "not found: " + (p ? str(*p, "error") : std::string("?")),
              "trifecta setup-pyright (or set TRIFECTA_PYRIGHT to a pyright-langserver, or put "
              "one on PATH)");
  } else {
    const std::string what = str(*p, "name") + " " + str(*p, "version") + " (" + str(*p, "source") +
                             ": " + str(*p, "path") + ")";
    if (flag(*p, "starts"))
      py = ok("pyright", what + ", starts");
    else
      py = fail("pyright", what + " does not start: " + str(*p, "start_error"),
                "trifecta setup-pyright to reinstall it (needs Node.js), or point TRIFECTA_PYRIGHT "
                "at a working one");
  }
  Check gr;
  const json::object* g = o->at("grammar").if_object();
  auto num = [](const json::object& x, const char* k) {
    const auto* n = x.if_contains(k);
    return n && n->is_int64() ? std::to_string(n->as_int64()) : std::string("?");
  };
  if (!g) {
    gr = fail("grammar", "no grammar report", "reinstall trifectad");
  } else {
    const std::string what = "tree-sitter-python ABI " + num(*g, "grammar_version") +
                             ", runtime accepts " + num(*g, "runtime_min") + ".." +
                             num(*g, "runtime_max");
    if (flag(*g, "compatible"))
      gr = ok("grammar", what);
    else
      gr = fail("grammar", what + (flag(*g, "parser_accepts") ? "" : "; the parser refuses it"),
                "rebuild with a grammar generated for this tree-sitter runtime (scripts/setup.sh)");
  }
  return {py, gr};
}

Check check_segment(const DoctorInputs& in) {
  const std::string root = in.segment_root.string();
  std::string how;
  switch (in.segment_source) {
    case SegmentSource::kFlag:
      how = "given with -s";
      break;
    case SegmentSource::kWorkTree:
      how = "the enclosing git work tree";
      break;
    case SegmentSource::kOpened:
      how = "the nearest folder with _ctx (a tree trifecta has opened)";
      break;
    case SegmentSource::kCwd:
      how = "the current directory (no git work tree or _ctx above it)";
      break;
    case SegmentSource::kNone:
      return warn("segment", "none: " + no_segment_message(in.segment_root),
                  "cd into a project, or give -s DIR (to `doctor` too, for the checks below)");
  }
  // Inside a work tree its root always wins, whatever _ctx lies below or above it.
  if (in.segment_source != SegmentSource::kWorkTree) {
    std::error_code ec;
    for (auto dir = in.segment_root.parent_path(); !dir.empty(); dir = dir.parent_path()) {
      if (fs::is_directory(dir / "_ctx", ec)) {
        return warn("segment",
                    root + ": " + how + ", inside " + dir.string() +
                        ", also a segment (both have _ctx): commands under " + root +
                        " use its own index and Pyright",
                    "if " + root + " was opened by mistake: trifecta segment close -s " + root +
                        ", then remove " + (in.segment_root / "_ctx").string() +
                        " (its index cache and telemetry); commands under it then use " +
                        dir.string());
      }
      if (dir == dir.root_path()) break;
    }
  }
  return ok("segment", root + ": " + how);
}

Check check_ctx(const DoctorInputs& in) {
  const fs::path ctx = in.segment_root / "_ctx";
  std::error_code ec;
  if (fs::exists(ctx, ec)) {
    if (!fs::is_directory(ctx, ec))
      return fail("ctx", ctx.string() + " is not a directory",
                  "move it away; trifectad keeps the index in " + ctx.string() + "/");
    if (::access(ctx.c_str(), W_OK | X_OK) != 0)
      return fail("ctx", ctx.string() + " is not writable: " + std::strerror(errno),
                  "chmod u+rwx " + ctx.string());
    return ok("ctx", ctx.string() + " writable");
  }
  if (::access(in.segment_root.c_str(), W_OK | X_OK) != 0)
    return fail(
        "ctx",
        ctx.string() + " cannot be created: " + in.segment_root.string() + " is not writable",
        "chmod u+w " + in.segment_root.string() + " (or run in a tree you own)");
  return ok("ctx", ctx.string() + " absent, creatable");
}

struct TreeStats {
  std::uint64_t dirs = 0;
  std::uint64_t bytes = 0;
  bool truncated = false;
};

// Directories and file bytes under root, as the watcher and the index would see them: hidden
// directories, _ctx, node_modules and __pycache__ skipped. Bounded (a huge tree stops the walk).
TreeStats walk(const fs::path& root) {
  TreeStats t;
  constexpr std::uint64_t kMaxEntries = 2'000'000;
  std::uint64_t entries = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return t;
  t.dirs = 1;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    if (++entries > kMaxEntries) {
      t.truncated = true;
      break;
    }
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      if (name.empty() || name[0] == '.' || name == "_ctx" || name == "node_modules" ||
          name == "__pycache__") {
        it.disable_recursion_pending();
        continue;
      }
      ++t.dirs;
    } else if (it->is_regular_file(ec)) {
      t.bytes += it->file_size(ec);
    }
  }
  return t;
}

std::string mib(std::uint64_t b) {
  return std::to_string((b + (1u << 19)) >> 20) + " MiB";
}

}  // namespace

DoctorInputs DoctorInputs::from_env(fs::path socket, fs::path segment_root) {
  DoctorInputs in;
  in.socket = std::move(socket);
  in.segment_root = std::move(segment_root);
  const std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  const fs::path config = env_or("XDG_CONFIG_HOME", home + "/.config");
  const fs::path data = env_or("XDG_DATA_HOME", home + "/.local/share");
  in.unit_dirs = {config / "systemd" / "user", "/etc/systemd/user", data / "systemd" / "user"};
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) in.unit_dirs.push_back(self.parent_path().parent_path() / "lib" / "systemd" / "user");
  for (const char* d : {"/usr/local/lib/systemd/user", "/usr/lib/systemd/user"})
    if (std::find(in.unit_dirs.begin(), in.unit_dirs.end(), fs::path(d)) == in.unit_dirs.end())
      in.unit_dirs.emplace_back(d);
  in.wants_dir = config / "systemd" / "user" / "sockets.target.wants";
  return in;
}

std::vector<Check> run_doctor(const DoctorInputs& in) {
  std::vector<Check> out;
  bool runnable = false;
  out.push_back(check_daemon(in, runnable));
  out.push_back(check_running(in));
  out.push_back(check_socket_dir(in));
  out.push_back(check_units(in));
  auto [py, gr] = check_self(in, runnable);
  out.push_back(std::move(py));
  out.push_back(std::move(gr));
  out.push_back(check_segment(in));
  out.push_back(check_ctx(in));

  const TreeStats t = walk(in.segment_root);
  std::uint64_t limit = 0;
  if (std::ifstream f(in.inotify_limit_file); f >> limit) {
    const std::string what = std::to_string(t.dirs) + (t.truncated ? "+" : "") +
                             " directories to watch, max_user_watches " + std::to_string(limit);
    const std::string fix = "sudo sysctl fs.inotify.max_user_watches=" +
                            std::to_string(std::max<std::uint64_t>(524288, t.dirs * 2)) +
                            " (persist it in /etc/sysctl.d/)";
    if (t.dirs > limit)
      out.push_back(fail("inotify",
                         what + ": the tree cannot be watched (changes are found by rescans only)",
                         fix));
    else if (t.dirs * 2 > limit)
      out.push_back(warn("inotify", what + ": over half the limit (other watchers share it)", fix));
    else
      out.push_back(ok("inotify", what));
  } else {
    out.push_back(warn("inotify", "cannot read " + in.inotify_limit_file.string(),
                       "check that inotify is available (Linux)"));
  }

  std::error_code ec;
  const fs::space_info sp = fs::space(in.segment_root, ec);
  // The persisted index and AST cache stay well under the tree's own size; the tree's bytes plus
  // 64 MiB is a safe bound for one rebuild (temp file + rename).
  const std::uint64_t need = t.bytes + (std::uint64_t{64} << 20);
  if (ec) {
    out.push_back(
        warn("disk", "cannot read free space of " + in.segment_root.string() + ": " + ec.message(),
             "check the file system"));
  } else {
    const std::string what = mib(sp.available) + " free in " + in.segment_root.string() +
                             ", index needs up to " + mib(need);
    if (sp.available < need)
      out.push_back(fail("disk", what, "free space on that file system"));
    else
      out.push_back(ok("disk", what));
  }
  return out;
}

bool doctor_ok(const std::vector<Check>& checks) {
  for (const auto& c : checks)
    if (c.status == CheckStatus::kFail) return false;
  return true;
}

std::string render_doctor(const std::vector<Check>& checks) {
  std::string out;
  for (const auto& c : checks) {
    out += c.status == CheckStatus::kOk     ? "ok    "
           : c.status == CheckStatus::kWarn ? "warn  "
                                            : "FAIL  ";
    out += c.name + ": " + c.detail;
    if (!c.fix.empty()) out += " — fix: " + c.fix;
    out += "\n";
  }
  out += doctor_ok(checks) ? "trifecta doctor: ok\n" : "trifecta doctor: problems found\n";
  return out;
}

std::string render_doctor_json(const std::vector<Check>& checks) {
  json::array arr;
  for (const auto& c : checks) {
    json::object o{{"name", c.name},
                   {"status", c.status == CheckStatus::kOk     ? "ok"
                              : c.status == CheckStatus::kWarn ? "warn"
                                                               : "fail"},
                   {"detail", c.detail}};
    if (!c.fix.empty()) o["fix"] = c.fix;
    arr.push_back(std::move(o));
  }
  return json::serialize(json::object{{"ok", doctor_ok(checks)}, {"checks", std::move(arr)}}) +
         "\n";
}

int run_capture(const std::vector<std::string>& argv, std::string& out, int timeout_ms) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return -1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool killed = false;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    const ssize_t r = ::read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    out.append(buf, static_cast<std::size_t>(r));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (killed || !WIFEXITED(status)) return -1;
  // posix_spawnp reports exec failure of a missing file as exit status 127 in the child.
  return WEXITSTATUS(status);
}

}  // namespace trifecta::client
