// client/cli/commands.hpp — the `trifecta` command table: one row per command, each naming the
// catalog method it calls (proto::catalog(), `proto::spec::kX.name`), with its options (setup)
// and what it runs. main.cpp parses argv and builds only the row that runs (start-up cost).
//
// Every catalog method that is not debug-only has a row, or is listed in not_exposed() with the
// reason (tests/unit/client_test.cpp checks it), so a method the daemon grows is not silently
// missing from the CLI.
//
// Exit codes: 0 ok · 1 the request failed (error reply, a failed target, a malformed reply) ·
// 2 usage · 3 daemon unavailable (or, for `daemon status`, not running).
//
// Thread rules: the tables are immutable (constant-initialized, no start-up cost); a row's run()
// is single-threaded. Failure: run() reports on stderr and returns the exit code, never throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry_cmd.hpp"

namespace CLI {
class App;
}

namespace trifecta::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnavailable = 3;

// Option values, shared by every command (each command reads the ones it declares).
struct Opts {
  // Global: accepted before or after the subcommand.
  bool json_out = false;
  bool no_spawn = false;
  std::string socket;
  double timeout_s = 30;
  bool timeout_given = false;  // --timeout was on the command line
  std::string segment;
  // Per command.
  std::string target;
  bool line_numbers = false, rebuild = false, explain = false, no_decl = false,
       confirmed_only = false;
  std::vector<std::string> words, targets, query_words;
  std::int64_t limit = 10, budget = 2000, max_chunks = 20, wait_ms = 0;
  std::int64_t map_budget = 1024;  // ctx map
  std::string path_glob, kind, mode = "excerpt", cursor;
  std::string find, find_mode = "fuzzy";  // sym --find
  std::vector<std::string> kinds;         // sym --find --kind
  bool incoming = false, outgoing = false;  // calls
  std::int64_t depth = 1;                   // calls
  // mcp
  std::int64_t mcp_budget = 8000;
  bool mcp_debug_tools = false;
  std::size_t mcp_max_line = 8u << 20;
  // Local commands (doctor, setup-pyright, completion, man).
  bool dry_run = false;
  std::string shell;
  TelemetryOpts tel;  // `telemetry report|chart|export|health` (telemetry_cmd.hpp)
};

using Setup = void (*)(CLI::App*, Opts&);
using Run = int (*)(const Opts&);

struct Command {
  const char* group;  // "" for a top-level command, else its parent ("ctx")
  const char* name;
  const char* help;
  // The catalog method it calls (the first, when it calls several); empty for a local command
  // that talks to no daemon (doctor, setup-pyright, completion, man).
  std::string_view method;
  Setup setup;
  Run run;
};

struct Group {
  const char* name;
  const char* help;
};

// A catalog method the CLI deliberately has no command for.
struct NotExposed {
  std::string_view method;
  const char* reason;
};

std::span<const Command> commands();
std::span<const Group> groups();
std::span<const NotExposed> not_exposed();

// `-s,--segment`: the root option and every command about a segment.
void add_segment(CLI::App* c, Opts& o);

// The global options (--json, --socket, --no-spawn, --timeout), on the root and every command.
void add_globals(CLI::App* c, Opts& o);

// "trifecta 0.1.0 (protocol 1.1)".
const std::string& version_line();

// Builds the command tree on `app` (description, --version, the global options, the groups and
// rows): every row when `only` is null, else just that row and its group (start-up: main.cpp
// builds only the command that runs). `footers`: add "Daemon method: ..." to each command's help.
// Returns each built command with its row.
std::vector<std::pair<CLI::App*, const Command*>> build_app(CLI::App& app, Opts& o,
                                                            const Command* only, bool footers);

// How long the CLI waits for one daemon reply: --timeout when given; else 30 s, plus --wait's
// milliseconds for the commands that ask the daemon to wait that long for Pyright first (a
// `--wait 60000` must not be cut off by the 30 s default).
std::chrono::milliseconds reply_timeout(const Opts& o);

}  // namespace trifecta::cli
