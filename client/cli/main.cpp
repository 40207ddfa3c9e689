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
#include "trifecta/proto/catalog.hpp"
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

// Seconds in (0, 86400].
std::string check_timeout(std::string& s) {
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size())
    return "expected seconds (a number), got '" + s + "'";
  if (!(v > 0 && v <= 86400)) return "must be more than 0 and at most 86400 seconds, got " + s;
  return {};
}

void add_globals(CLI::App* c, Opts& o) {
  const char* g = "Global options (before or after the command)";
  c->add_flag("--json", o.json_out, "Print the daemon's JSON reply as is")->group(g);
  c->add_option(
       "--socket", o.socket,
       "Daemon socket (default: $TRIFECTA_SOCKET or $XDG_RUNTIME_DIR/trifecta/trifectad.sock)")
      ->group(g);
  c->add_flag("--no-spawn", o.no_spawn, "Do not auto-start trifectad when it is not running")
      ->group(g);
  c->add_option("--timeout", o.timeout_s, "Seconds to wait for a reply")
      ->check(CLI::Validator(check_timeout, "SECONDS", "timeout range"))
      ->capture_default_str()
      ->group(g);
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
  static const std::string version =
      std::string("trifecta ") + proto::kVersion + " (protocol " + proto::protocol_version() + ")";
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::puts(version.c_str());
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
  CLI::App app{"trifecta — code context for coding agents and editors"};
  app.set_version_flag("--version", version);
  app.require_subcommand(1);
  app.fallthrough();
  add_globals(&app, o);
  add_segment(&app, o);

  // Only the command that runs is built; help and a missing command get the whole table.
  const bool full = sc.help || name.empty();
  // `ctx search --help`: the scan stopped at the command path; the footer wants any -h/--help.
  bool help_anywhere = sc.help;
  for (int i = 1; i < argc && !help_anywhere; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") break;
    help_anywhere = a == "-h" || a == "--help";
  }
  std::vector<std::pair<CLI::App*, const Command*>> built;
  for (const auto& g : groups()) {
    if (!full && group != g.name) continue;
    auto* gc = app.add_subcommand(g.name, g.help);
    gc->require_subcommand(1);
    add_globals(gc, o);
  }
  for (const auto& c : commands()) {
    if (!full && !(group == c.group && name == c.name)) continue;
    CLI::App* parent = *c.group ? app.get_subcommand(c.group) : &app;
    auto* cmd = parent->add_subcommand(c.name, c.help);
    c.setup(cmd, o);
    if (help_anywhere) {
      if (const auto* m = proto::find_method(c.method)) {
        cmd->footer("Daemon method: " + std::string(m->name) + " — " + std::string(m->summary));
      }
    }
    add_globals(cmd, o);
    built.emplace_back(cmd, &c);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  for (const auto& [cmd, c] : built) {
    if (*cmd) return c->run(o);
  }
  return kExitUsage;
}
