#include "lang/python/pyright.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "lsp/framing.hpp"
#include "lsp/process.hpp"

#ifndef TRIFECTA_DEFAULT_PYRIGHT
#define TRIFECTA_DEFAULT_PYRIGHT ""
#endif
#ifndef TRIFECTA_BUILD_TREE
#define TRIFECTA_BUILD_TREE ""
#endif

namespace trifecta::core::lang::python {

const char* const kDefaultProjectServer = TRIFECTA_DEFAULT_PYRIGHT;

namespace {

bool is_executable_file(const fs::path& p) {
  std::error_code ec;
  return !p.empty() && fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::optional<std::string> getenv_opt(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

ServerBinary make_binary(const fs::path& p, std::string source) {
  ServerBinary b;
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  b.path = ec ? p : abs.lexically_normal();
  b.name = p.filename().string();
  b.version = read_server_version(b.path);
  b.flavor = b.name.find("basedpyright") != std::string::npos ? ServerFlavor::kBasedPyright
                                                              : ServerFlavor::kPyright;
  b.source = std::move(source);
  return b;
}

// True when /proc/self/exe lies under the build tree this file was compiled in. The project-local
// Pyright (third_party/) belongs to a developer's checkout: a binary run from that checkout's
// build uses it; an installed or packaged binary must not depend on where it was built.
bool running_from_build_tree() {
  const fs::path build = TRIFECTA_BUILD_TREE;
  if (build.empty()) return false;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return false;
  const auto [b, s] = std::mismatch(build.begin(), build.end(), self.begin(), self.end());
  return b == build.end();
}

}  // namespace

DiscoveryInputs DiscoveryInputs::from_env() {
  DiscoveryInputs in;
  in.lsp_enabled_env = getenv_opt("LSP_ENABLED");
  in.env_path = getenv_opt("TRIFECTA_PYRIGHT");
  in.path_env = getenv_opt("PATH");
  in.user_server = user_server_path();
  if (!running_from_build_tree()) in.project_server.clear();
  return in;
}

fs::path user_pyright_prefix() {
  if (const char* d = std::getenv("XDG_DATA_HOME"); d && *d == '/')
    return fs::path(d) / "trifecta" / "pyright";
  if (const char* h = std::getenv("HOME"); h && *h)
    return fs::path(h) / ".local" / "share" / "trifecta" / "pyright";
  return {};
}

fs::path user_server_path() {
  const fs::path prefix = user_pyright_prefix();
  if (prefix.empty()) return {};
  return prefix / "node_modules" / ".bin" / "pyright-langserver";
}

std::string read_server_version(const fs::path& launcher) {
  std::error_code ec;
  fs::path real = fs::canonical(launcher, ec);
  if (ec) return "unknown";
  fs::path dir = real.parent_path();
  for (int depth = 0; depth < 4 && !dir.empty(); ++depth, dir = dir.parent_path()) {
    const fs::path pkg = dir / "package.json";
    if (!fs::is_regular_file(pkg, ec)) {
      if (dir == dir.root_path()) break;
      continue;
    }
    std::ifstream in(pkg, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    boost::system::error_code jec;
    boost::json::value doc = boost::json::parse(ss.str(), jec);
    if (jec || !doc.is_object()) return "unknown";
    const auto* v = doc.as_object().if_contains("version");
    if (v && v->is_string()) return std::string(v->as_string());
    return "unknown";
  }
  return "unknown";
}

Result<ServerBinary> discover_server(const DiscoveryInputs& in) {
  if (!in.enabled) return make_error(Errc::kUnavailable, "disabled (daemon flag)");
  if (in.lsp_enabled_env && !lsp::parse_enabled(*in.lsp_enabled_env))
    return make_error(Errc::kUnavailable, "disabled (LSP_ENABLED=" + *in.lsp_enabled_env + ")");

  if (in.env_path && !in.env_path->empty()) {
    if (!is_executable_file(*in.env_path))
      return make_error(Errc::kNotFound,
                        "TRIFECTA_PYRIGHT is not an executable file: " + *in.env_path);
    return make_binary(*in.env_path, "env");
  }
  if (!in.config_path.empty()) {
    if (!is_executable_file(in.config_path))
      return make_error(Errc::kNotFound, "configured pyright path is not an executable file: " +
                                             in.config_path.string());
    return make_binary(in.config_path, "config");
  }
  std::vector<std::string> tried;
  if (!in.user_server.empty()) {
    if (is_executable_file(in.user_server)) return make_binary(in.user_server, "user");
    tried.push_back(in.user_server.string() + " (trifecta setup-pyright)");
  }
  if (!in.project_server.empty()) {
    if (is_executable_file(in.project_server)) return make_binary(in.project_server, "project");
    tried.push_back(in.project_server.string());
  }
  if (in.path_env) {
    for (const char* name : {"pyright-langserver", "basedpyright-langserver"}) {
      std::string_view rest = *in.path_env;
      while (true) {
        const std::size_t colon = rest.find(':');
        std::string_view dir = rest.substr(0, colon);
        if (!dir.empty()) {
          fs::path candidate = fs::path(dir) / name;
          if (is_executable_file(candidate)) return make_binary(candidate, "path");
        }
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
      }
      tried.push_back(std::string(name) + " on PATH");
    }
  }
  std::string msg = "no language server found (tried: ";
  for (std::size_t i = 0; i < tried.size(); ++i) msg += (i ? ", " : "") + tried[i];
  return make_error(Errc::kUnavailable, msg + ")");
}

boost::json::object default_settings(const ServerBinary& server) {
  boost::json::object settings;
  if (server.flavor == ServerFlavor::kBasedPyright)
    settings["basedpyright.analysis"] = boost::json::object{{"typeCheckingMode", "standard"}};
  return settings;
}

void add_layout_settings(const Layout& layout, boost::json::object& settings) {
  if (layout.extra_paths.empty()) return;
  // settings["python.analysis"] (the flat key the client looks up first) and the nested form
  // settings["python"]["analysis"] (what a `python` section request returns) must agree.
  auto add = [&](boost::json::object& analysis) {
    boost::json::array paths;
    if (auto* have = analysis.if_contains("extraPaths"); have && have->is_array())
      paths = have->as_array();
    for (const auto& p : layout.extra_paths) paths.emplace_back(p);
    analysis["extraPaths"] = std::move(paths);
  };
  for (const char* key : {"python.analysis", "basedpyright.analysis"}) {
    auto& v = settings[key];
    if (!v.is_object()) v = boost::json::object{};
    add(v.as_object());
  }
  auto& python = settings["python"];
  if (!python.is_object()) python = boost::json::object{};
  auto& analysis = python.as_object()["analysis"];
  if (!analysis.is_object()) analysis = boost::json::object{};
  add(analysis.as_object());
}

std::optional<std::int64_t> workspace_scan_files(std::string_view msg) {
  if (msg.starts_with("No source files found")) return 0;
  constexpr std::string_view kFound = "Found ";
  if (!msg.starts_with(kFound)) return std::nullopt;
  msg.remove_prefix(kFound.size());
  std::int64_t n = 0;
  std::size_t digits = 0;
  while (digits < msg.size() && digits < 12 && msg[digits] >= '0' && msg[digits] <= '9')
    n = n * 10 + (msg[digits++] - '0');
  if (digits == 0) return std::nullopt;
  msg.remove_prefix(digits);
  if (msg.starts_with(" source file")) return n;
  return std::nullopt;
}

namespace {

// Reads what is available on `fd` (non-blocking) into `out`; false at end of file or on error.
bool read_some(int fd, std::string& out) {
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

std::string tail(const std::string& s, std::size_t n = 300) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

}  // namespace

Result<std::string> probe_server(const ServerBinary& server, std::chrono::milliseconds timeout,
                                 const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv{server.path.string(), "--stdio"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto child = lsp::spawn_child(argv, {});
  if (!child) return child.error();
  const lsp::ChildProcess c = *child;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string init = lsp::encode_frame(
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,)"
      R"("capabilities":{}}})");
  std::size_t written = 0;
  std::string out, err;
  lsp::FrameDecoder decoder;
  Result<std::string> result = make_error(
      Errc::kTimeout, "no initialize reply within " + std::to_string(timeout.count()) + " ms");
  bool done = false, out_open = true;
  while (!done) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd fds[3] = {{c.stdout_fd, POLLIN, 0},
                     {c.stderr_fd, POLLIN, 0},
                     {c.stdin_fd, written < init.size() ? short(POLLOUT) : short(0), 0}};
    const int n = ::poll(fds, 3, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
      const ssize_t w =
          lsp::write_without_sigpipe(c.stdin_fd, init.data() + written, init.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) written = init.size();  // it went away
    }
    if (fds[1].revents) read_some(c.stderr_fd, err);
    if (fds[0].revents) {
      std::string chunk;
      out_open = read_some(c.stdout_fd, chunk);
      decoder.feed(chunk);
      for (;;) {
        auto body = decoder.next();
        if (!body) {
          result = make_error(Errc::kUnavailable, "malformed output: " + body.error().message);
          done = true;
          break;
        }
        if (!*body) break;
        boost::system::error_code jec;
        const boost::json::value msg = boost::json::parse(**body, jec);
        const auto* obj = msg.if_object();
        if (jec || !obj) continue;
        const auto* id = obj->if_contains("id");
        if (!id || !id->is_int64() || id->as_int64() != 1 || obj->contains("method")) continue;
        if (const auto* r = obj->if_contains("result"); r && r->is_object()) {
          std::string info = "initialize answered";
          if (const auto* si = r->as_object().if_contains("serverInfo"); si && si->is_object()) {
            const auto* name = si->as_object().if_contains("name");
            const auto* ver = si->as_object().if_contains("version");
            if (name && name->is_string()) info = std::string(name->as_string());
            if (ver && ver->is_string()) info += " " + std::string(ver->as_string());
          }
          result = info;
        } else {
          result = make_error(Errc::kUnavailable,
                              "initialize failed: " + tail(boost::json::serialize(msg)));
        }
        done = true;
        break;
      }
      if (!out_open && !done) {
        result = make_error(Errc::kUnavailable, "exited before answering initialize" +
                                                    (err.empty() ? "" : ": " + tail(err)));
        done = true;
      }
    }
  }
  lsp::terminate_group(c.pid, std::chrono::milliseconds(1000));
  for (int fd : {c.stdin_fd, c.stdout_fd, c.stderr_fd})
    if (fd >= 0) ::close(fd);
  if (!result && result.error().code == Errc::kTimeout && !err.empty())
    result = make_error(Errc::kTimeout, result.error().message + "; stderr: " + tail(err));
  return result;
}

}  // namespace trifecta::core::lang::python
