// lang/python/pyright.hpp — Python's language server: which Pyright to run (and whether to run one
// at all), and the workspace settings it gets by default. lib/lang/language.cpp points the Python
// `Language` at these; lib/lsp knows no Pyright (it gets an lsp::ServerBinary and the settings).
//
// Discovery
//
// Order (first hit wins; `ServerBinary::source` names it):
//   1. an explicit path: `TRIFECTA_PYRIGHT` in the environment ("env"), else the daemon's
//      `--pyright` value ("config"); if it is set but not an executable file, discovery fails (no
//      silent fallback: the user asked for that binary);
//   2. the user's own install by `trifecta setup-pyright` ("user"):
//      `${XDG_DATA_HOME:-$HOME/.local/share}/trifecta/pyright/node_modules/.bin/pyright-langserver`
//      (`user_server_path()`; `DiscoveryInputs::user_server`);
//   3. the project-local prefix installed by scripts/setup.sh ("project"):
//      `<TRIFECTA_THIRD_PARTY_DIR>/pyright/node_modules/.bin/pyright-langserver` (compiled in as
//      `kDefaultProjectServer`). `from_env()` keeps it only when the running executable lives in
//      the build tree it was compiled in: an installed trifectad never depends on the checkout;
//   4. `pyright-langserver`, then `basedpyright-langserver`, on PATH ("path").
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
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/python/layout.hpp"
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
  fs::path user_server;                        // `trifecta setup-pyright`'s; empty = none
  fs::path project_server = kDefaultProjectServer;
  std::optional<std::string> path_env;  // PATH

  // enabled=true, the environment variables read now, the user's server path (user_server_path),
  // the compiled-in project server only when this process runs from its build tree.
  static DiscoveryInputs from_env();
};

// Where `trifecta setup-pyright` installs (the npm prefix):
// `${XDG_DATA_HOME:-$HOME/.local/share}/trifecta/pyright`; empty when neither variable is set.
// client/lib/setup_pyright.cpp computes the same path (the client links no lib/lang module); the
// install test checks that the two agree (an installed Pyright is found as "user").
fs::path user_pyright_prefix();
// `<user_pyright_prefix()>/node_modules/.bin/pyright-langserver`, or empty.
fs::path user_server_path();

// Does the server start? Spawns it (`<launcher> --stdio`), sends `initialize` and waits up to
// `timeout` for its reply, then stops the process group. Ok(the server's name and version from
// serverInfo, or "initialize answered"); errors: kUnavailable (spawn failed, it exited, or it sent
// something that is not an initialize reply — the message says which, with its stderr tail),
// kTimeout (no reply in time).
// A server that exits before reading costs an EPIPE, never a SIGPIPE (write_without_sigpipe).
// `extra_args` go after `--stdio` (the tests script a fake server with them).
Result<std::string> probe_server(const ServerBinary& server, std::chrono::milliseconds timeout,
                                 const std::vector<std::string>& extra_args = {});

// The server to run. Errors: kUnavailable ("disabled", or nothing found: the message lists what
// was tried), kNotFound (an explicit path that is not an executable file).
Result<ServerBinary> discover_server(const DiscoveryInputs& in);

// Version from the package.json owning `launcher`; "unknown" when none is found.
std::string read_server_version(const fs::path& launcher);

// The workspace/configuration answers this server gets unless the caller set them (the daemon
// merges them into lsp::ClientOptions::settings, keys it already has win).
boost::json::object default_settings(const lsp::ServerBinary& server);

// Add what the segment's layout needs (lang/python/layout.hpp) to `settings`:
// `python.analysis.extraPaths` = layout.extra_paths (appended to any already there; basedpyright
// reads the same key under `basedpyright.analysis` too, so both get it). Nothing when the layout
// needs no extra path (or Pyright's own config governs it).
void add_layout_settings(const Layout& layout, boost::json::object& settings);

// Pyright's "workspace scanned" log line (window/logMessage) → the number of source files:
// "Found 859 source files" → 859, "Found 1 source file" → 1, "No source files found." → 0;
// nullopt for any other message. Pyright logs it once it has walked the tree; in its default
// openFilesOnly mode it sends no $/progress, so this is how `lsp status` knows the scan is over
// (lsp::ClientOptions::workspace_scanned).
std::optional<std::int64_t> workspace_scan_files(std::string_view log_message);

}  // namespace trifecta::core::lang::python
