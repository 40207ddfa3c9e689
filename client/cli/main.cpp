// trifecta — the command-line client: argv scanning, global options and the lazy build of the
// command table (client/cli/commands.hpp). Connecting, segment discovery and the text of every
// reply come from trifecta_client (client/lib).
//
// Start-up matters (every agent call pays it): the command table is built lazily. A pre-scan of
// argv finds the command path (`ctx search`) and only that command's options are built; the full
// table is built only for help and errors. `--version` is answered before anything is built, and
// the catalog (for the daemon method's summary at the foot of a command's --help) is read only
// for help.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.hpp"
#include "segment.hpp"
#include "trifecta/proto/protocol.hpp"

namespace proto = trifecta::proto;
using namespace trifecta::cli;

namespace {

bool is_group(std::string_view w) {
  for (const auto& g : groups())
    if (w == g.name) return true;
  return false;
}

const Command* find_command(std::string_view group, std::string_view name) {
  for (const auto& c : commands())
    if (group == c.group && name == c.name) return &c;
  return nullptr;
}

// "ping, status, daemon, ..." — the commands under `group` ("" = top level).
std::string valid_commands(std::string_view group) {
  std::vector<std::string_view> names;
  for (const auto& c : commands()) {
    const std::string_view n = group.empty() ? (*c.group ? c.group : c.name) : c.name;
    if ((group.empty() || group == c.group) &&
        std::find(names.begin(), names.end(), n) == names.end())
      names.push_back(n);
  }
  std::string out;
  for (const auto n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

bool takes_value(std::string_view a) {
  return a == "--socket" || a == "--timeout" || a == "-s" || a == "--segment";
}

// The command path in argv: up to two words that are not options or global option values.
struct Scan {
  std::vector<std::string_view> words;
  bool help = false;
};

Scan scan(int argc, char** argv) {
  Scan s;
  for (int i = 1; i < argc && s.words.size() < 2; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") break;
    if (a == "-h" || a == "--help") s.help = true;
    if (!a.empty() && a[0] == '-') {
      if (takes_value(a)) ++i;
      continue;
    }
    s.words.push_back(a);
    if (s.words.size() == 1 && !is_group(a)) break;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::puts(version_line().c_str());
    return kExitOk;
  }

  // Which command? An unknown one is reported here, with the valid ones.
  const Scan sc = scan(argc, argv);
  std::string_view group, name;
  if (!sc.words.empty()) {
    if (is_group(sc.words[0])) {
      group = sc.words[0];
      if (sc.words.size() > 1) name = sc.words[1];
    } else {
      name = sc.words[0];
    }
    if (!group.empty() && name.empty() && !sc.help) {
      std::fprintf(stderr, "trifecta: '%s' needs a command: %s\n", std::string(group).c_str(),
                   valid_commands(group).c_str());
      return kExitUsage;
    }
    const bool known = name.empty() || find_command(group, name);
    if (!known) {
      const std::string full =
          group.empty() ? std::string(name) : std::string(group) + " " + std::string(name);
      std::fprintf(stderr,
                   "trifecta: unknown command '%s'\nvalid %scommands: %s\nrun `trifecta%s%s "
                   "--help` for more\n",
                   full.c_str(), group.empty() ? "" : (std::string(group) + " ").c_str(),
                   valid_commands(group).c_str(), group.empty() ? "" : " ",
                   std::string(group).c_str());
      return kExitUsage;
    }
  }

  Opts o;
  CLI::App app;
  // Only the command that runs is built; help and a missing command get the whole table.
  const bool full = sc.help || name.empty();
  // `ctx search --help`: the scan stopped at the command path; the footer wants any -h/--help.
  bool help_anywhere = sc.help;
  for (int i = 1; i < argc && !help_anywhere; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") break;
    help_anywhere = a == "-h" || a == "--help";
  }
  const auto built = build_app(app, o, full ? nullptr : find_command(group, name), help_anywhere);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  for (const auto& [cmd, c] : built) {
    if (!*cmd) continue;
    try {
      return c->run(o);
    } catch (const trifecta::client::NoSegment& e) {
      std::fprintf(stderr, "trifecta: %s\n", e.what());
      return kExitUsage;
    }
  }
  return kExitUsage;
}
