#include "lang/python/pyright.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#ifndef TRIFECTA_DEFAULT_PYRIGHT
#define TRIFECTA_DEFAULT_PYRIGHT ""
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

}  // namespace

DiscoveryInputs DiscoveryInputs::from_env() {
  DiscoveryInputs in;
  in.lsp_enabled_env = getenv_opt("LSP_ENABLED");
  in.env_path = getenv_opt("TRIFECTA_PYRIGHT");
  in.path_env = getenv_opt("PATH");
  return in;
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

}  // namespace trifecta::core::lang::python
