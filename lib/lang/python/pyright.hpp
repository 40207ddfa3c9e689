// lang/python/pyright.hpp — Python's language server: which Pyright to run (and whether to run one
// at all), and the workspace settings it gets by default. lib/lang/language.cpp points the Python
// `Language` at these; lib/lsp knows no Pyright (it gets an lsp::ServerBinary and the settings).
//
// Discovery
//
// Order (first hit wins):
//   1. an explicit path: `TRIFECTA_PYRIGHT` in the environment, else the daemon's config value;
//      if it is set but not an executable file, discovery fails (no silent fallback: the user
//      asked for that binary);
//   2. the project-local prefix installed by scripts/setup.sh:
//      `<TRIFECTA_THIRD_PARTY_DIR>/pyright/node_modules/.bin/pyright-langserver` (compiled in as
//      `kDefaultProjectServer`, overridable through `DiscoveryInputs::project_server`);
//   3. `pyright-langserver`, then `basedpyright-langserver`, on PATH.
// `LSP_ENABLED=false` (also 0/no/off, case-insensitive) or `DiscoveryInputs::enabled = false`
// disables the server: discovery returns Errc::kUnavailable "disabled".
//
// The version is read from the `package.json` of the npm package the binary belongs to (the
// launcher is a symlink into `node_modules/<pkg>/`; we resolve it and walk up at most four
// directories). Unknown version → "unknown" (not an error).
//
// default_settings: basedpyright gets `basedpyright.analysis.typeCheckingMode = "standard"`
// (Pyright's own default mode); plain Pyright gets {}.
//
// Thread rules: pure functions over the filesystem and the inputs; safe from any thread.
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "lsp/server.hpp"
#include "util/result.hpp"

namespace trifecta::core::lang::python {

namespace fs = std::filesystem;
using lsp::ServerBinary;
using lsp::ServerFlavor;

// The compiled-in project-local server path ("" when the build did not define one).
extern const char* const kDefaultProjectServer;

struct DiscoveryInputs {
  bool enabled = true;                         // the daemon flag; AND-ed with LSP_ENABLED
  std::optional<std::string> lsp_enabled_env;  // LSP_ENABLED
  std::optional<std::string> env_path;         // TRIFECTA_PYRIGHT
  fs::path config_path;                        // from the daemon config; empty = unset
  fs::path project_server = kDefaultProjectServer;
  std::optional<std::string> path_env;  // PATH

  // enabled=true, the environment variables read now, the compiled-in project server.
  static DiscoveryInputs from_env();
};

// The server to run. Errors: kUnavailable ("disabled", or nothing found: the message lists what
// was tried), kNotFound (an explicit path that is not an executable file).
Result<ServerBinary> discover_server(const DiscoveryInputs& in);

// Version from the package.json owning `launcher`; "unknown" when none is found.
std::string read_server_version(const fs::path& launcher);

// The workspace/configuration answers this server gets unless the caller set them (the daemon
// merges them into lsp::ClientOptions::settings, keys it already has win).
boost::json::object default_settings(const lsp::ServerBinary& server);

}  // namespace trifecta::core::lang::python
