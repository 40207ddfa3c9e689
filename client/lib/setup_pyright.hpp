// client/lib/setup_pyright.hpp — `trifecta setup-pyright`: install the pinned Pyright with npm
// into the user's data directory, where trifectad's discovery looks (source "user"; see
// lib/lang/python/pyright.hpp, which computes the same prefix).
//
//   prefix   ${XDG_DATA_HOME:-$HOME/.local/share}/trifecta/pyright
//   command  npm install --prefix <prefix> --no-audit --no-fund --save-exact <spec>
//   spec     pyright@<kPinnedPyrightVersion> (scripts/setup.sh's PYRIGHT_VERSION, read by CMake),
//            or $TRIFECTA_PYRIGHT_NPM_SPEC (any npm package spec: a local tarball for offline
//            installs and for the tests)
//
// Thread rules: single-threaded. Failure: a PyrightSetupError value, never exceptions.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace trifecta::client {

namespace fs = std::filesystem;

extern const char* const kPinnedPyrightVersion;

struct PyrightSetup {
  fs::path prefix;
  std::string spec;
  std::vector<std::string> npm_argv;
  fs::path launcher;  // <prefix>/node_modules/.bin/pyright-langserver
};

// The plan from the environment; nullopt (with `error`) when neither XDG_DATA_HOME nor HOME is set.
std::optional<PyrightSetup> plan_pyright_setup(std::string* error);

// Runs npm (its output goes to our stderr), then checks the launcher is there. Ok: the installed
// version (package.json of node_modules/pyright); error: what failed (npm missing, npm's exit
// status, no launcher after the install).
bool install_pyright(const PyrightSetup& plan, std::string* version, std::string* error);

}  // namespace trifecta::client
