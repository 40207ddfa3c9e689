// lsp/server.hpp — the language server a Client runs, as discovery found it, and the on/off switch.
//
// Generic: no language lives here. Which binary to run is each language's business (Pyright's
// discovery is lib/lang/python/pyright.hpp, reached through lang::Language::discover_server).
//
// Thread rules: plain data and a pure function; safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace trifecta::core::lsp {

enum class ServerFlavor { kPyright, kBasedPyright };

struct ServerBinary {
  std::filesystem::path path;  // absolute path of the launcher to execute
  std::string name;            // file name only ("pyright-langserver"); what telemetry may show
  std::string version;         // from package.json, or "unknown"
  ServerFlavor flavor = ServerFlavor::kPyright;
  std::string source;  // "env", "config", "user", "project", "path" (lang/python/pyright.hpp)
};

// "false", "0", "no", "off" (any case) → false; anything else → true (`LSP_ENABLED`).
bool parse_enabled(std::string_view value);

}  // namespace trifecta::core::lsp
