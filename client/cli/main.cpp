// trifecta — the command-line client: the command table, options and exit codes. Connecting,
// segment discovery and the text of every reply come from trifecta_client (client/lib).
//
// Exit codes: 0 ok · 1 the request failed (error reply, a failed target, a malformed reply) ·
// 2 usage · 3 daemon unavailable (or, for `daemon status`, not running).
//
// Start-up matters (every agent call pays it): the command table is built lazily. A pre-scan of
// argv finds the command path (`ctx search`) and only that command's options are built; the full
// table is built only for help and errors. `--version` is answered before anything is built.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <thread>

#include "render.hpp"
#include "segment.hpp"
#include "session.hpp"

namespace tc = trifecta::client;
namespace proto = trifecta::proto;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

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
  std::string segment;
  // Per command.
  std::string target;
  bool line_numbers = false, rebuild = false, explain = false, no_decl = false;
  std::vector<std::string> words, targets, query_words;
  std::int64_t limit = 10, budget = 2000, max_chunks = 20, wait_ms = 0;
  std::string path_glob, kind, mode = "excerpt", cursor;
};

int write_out(const std::string& s, std::FILE* f) {
  if (!s.empty()) std::fwrite(s.data(), 1, s.size(), f);
  return 0;
}

int report(const tc::ClientError& e, const Opts& o) {
  if (e.code == tc::ClientErrc::kRemote) {
    if (o.json_out) {
      write_out(e.reply_line + "\n", stdout);
    } else {
      write_out(e.rpc ? tc::render_error(*e.rpc) : "trifecta: " + e.message + "\n", stderr);
    }
    return kExitFailed;
  }
  std::fprintf(stderr, "trifecta: %s\n", e.message.c_str());
  if (!e.hint.empty()) std::fprintf(stderr, "hint: %s\n", e.hint.c_str());
  return e.code == tc::ClientErrc::kProtocol ? kExitFailed : kExitUnavailable;
}

tc::SessionOptions session_options(const Opts& o, bool allow_spawn = true) {
  tc::SessionOptions s;
  s.socket = o.socket.empty() ? tc::default_socket_path() : std::filesystem::path(o.socket);
  s.spawn = allow_spawn && !o.no_spawn;
  s.timeout = std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000));
  return s;
}

// Prints a rendered reply: text, or with --json the reply line as is (then the renderer only
// tells whether a target failed). Exit 1 when the reply reports a failed target, or, for text,
// when it is malformed.
int emit(const tc::Reply& reply, const tc::Rendered& r, const Opts& o) {
  if (o.json_out) {
    write_out(reply.line + "\n", stdout);
    return r.failed ? kExitFailed : kExitOk;
  }
  if (r.malformed) {
    std::fprintf(stderr, "trifecta: malformed reply from trifectad: %s\n", r.malformed->c_str());
    return kExitFailed;
  }
  write_out(r.out, stdout);
  write_out(r.err, stderr);
  return r.failed ? kExitFailed : kExitOk;
}

// Open a session, run one method, render its result with `render(result)`.
template <class RenderFn>
int run(const Opts& o, std::string_view method, const json::object& params, RenderFn render,
        bool allow_spawn = true, tc::NotificationFn notify = {}) {
  tc::Session s(session_options(o, allow_spawn));
  if (notify) s.on_notification(std::move(notify));
  tc::ClientError err;
  if (!s.open(&err)) return report(err, o);
  auto reply = s.call(method, params, &err);
  if (!reply) return report(err, o);
  return emit(*reply, render(reply->result), o);
}

// True while `pid` is a live (non-zombie) process.
bool process_alive(std::int64_t pid) {
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return false;
  char state = '?';
  const int n = std::fscanf(f, "%*d (%*[^)]) %c", &state);
  std::fclose(f);
  return n == 1 && state != 'Z' && state != 'X';
}

// Wait until the daemon process has exited (so its lock is free for a successor), or, when its
// pid is unknown, until nothing answers on the socket.
bool wait_gone(const std::filesystem::path& socket, std::int64_t pid,
               std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    tc::ClientError err;
    const bool gone = pid > 0 ? !process_alive(pid) : !tc::Connection::try_connect(socket, &err);
    if (gone) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool daemon_running(const Opts& o) {
  tc::ClientError err;
  return tc::Connection::try_connect(session_options(o).socket, &err).has_value();
}

int daemon_stop(const Opts& o) {
  if (!daemon_running(o)) {
    if (o.json_out)
      std::puts(R"({"stopped":false,"running":false})");
    else
      std::puts("trifectad is not running");
    return kExitOk;
  }
  tc::Session s(session_options(o, false));
  tc::ClientError err;
  if (!s.open(&err)) return report(err, o);
  if (!s.call(proto::method::kShutdown, {}, &err)) return report(err, o);
  if (!wait_gone(s.socket_path(), s.daemon_pid(), std::chrono::seconds(15))) {
    std::fprintf(stderr, "trifecta: trifectad accepted shutdown but is still running after 15 s\n");
    return kExitFailed;
  }
  if (o.json_out)
    std::puts(R"({"stopped":true,"running":false})");
  else
    std::puts("trifectad stopped");
  return kExitOk;
}

int daemon_start(const Opts& o) {
  const bool was_running = daemon_running(o);
  const auto sock = session_options(o).socket;
  return run(o, proto::method::kPing, {},
             [&](const json::value& v) { return tc::render_daemon_start(v, was_running, sock); });
}

int daemon_status(const Opts& o) {
  if (!daemon_running(o)) {
    if (o.json_out)
      std::puts(R"({"running":false})");
    else
      std::printf("trifectad is not running (socket %s)\n", session_options(o).socket.c_str());
    return kExitUnavailable;
  }
  return run(o, proto::method::kStatus, {}, tc::render_status, /*allow_spawn=*/false);
}

std::string seg(const Opts& o) {
  return tc::resolve_segment(o.segment);
}

int run_position(const Opts& o, std::string_view method) {
  const std::string segment = seg(o);
  json::object p{{"segment", segment}, {"wait_ready_ms", o.wait_ms}};
  if (!tc::position_params(o.target, p)) {
    std::fprintf(stderr, "trifecta: expected file:line:col or a sym:// URI, got '%s'\n",
                 o.target.c_str());
    return kExitUsage;
  }
  if (method == "lsp.references") p["include_declaration"] = !o.no_decl;
  if (method == "lsp.hover") return run(o, method, p, tc::render_hover);
  return run(o, method, p, [&](const json::value& v) { return tc::render_locations(v, segment); });
}

// A progress bar on stderr for `ctx.progress` notifications (only when stderr is a terminal).
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  ~ProgressBar() { clear(); }
  void clear() {
    if (drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }
  void update(double done, double total) {
    if (!enabled_ || total <= 0) return;
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    const int width = 30;
    const int filled = static_cast<int>(width * std::min(1.0, done / total));
    std::fprintf(stderr, "\r[%.*s%.*s] %.0f/%.0f files  %.0f files/s", filled,
                 "==============================", width - filled, "                              ",
                 done, total, secs > 0 ? done / secs : 0.0);
    drawn_ = true;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point start_;
};

double num_or_zero(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : 0.0;
}

// ---- the command table --------------------------------------------------------------------

using Setup = void (*)(CLI::App*, Opts&);
using Run = int (*)(const Opts&);

struct Command {
  const char* group;  // "" for a top-level command, else its parent ("ctx")
  const char* name;
  const char* help;
  Setup setup;
  Run run;
};

struct Group {
  const char* name;
  const char* help;
};

constexpr Group kGroups[] = {
    {"daemon", "Manage trifectad"},
    {"ast", "Python AST skeletons and symbols"},
    {"ctx", "The context index: build, search, get, status, validate"},
    {"lsp", "The segment's language server (Pyright)"},
};

void add_segment(CLI::App* c, Opts& o) {
  c->add_option("-s,--segment", o.segment,
                "Segment root (default: the enclosing git work tree, else the cwd)");
}

void add_wait(CLI::App* c, Opts& o) {
  c->add_option("--wait", o.wait_ms,
                "Wait up to this many ms for Pyright to be READY (else the AST answers)")
      ->capture_default_str();
}

void setup_position(CLI::App* c, Opts& o) {
  c->add_option("position", o.target,
                "file:line:col (1-based; columns in characters) or a sym:// URI")
      ->required();
  add_wait(c, o);
  add_segment(c, o);
}

const Command kCommands[] = {
    {"", "ping", "Check that trifectad answers", [](CLI::App*, Opts&) {},
     [](const Opts& o) {
       const auto t0 = Clock::now();
       return run(o, proto::method::kPing, {}, [&](const json::value& v) {
         return tc::render_ping(
             v, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
       });
     }},
    {"", "status", "Show the daemon's state", [](CLI::App*, Opts&) {},
     [](const Opts& o) { return run(o, proto::method::kStatus, {}, tc::render_status); }},
    {"daemon", "start",
     "Start trifectad if it is not running. It starts with its own defaults: exit after 1800 s "
     "without "
     "clients (--idle-timeout), close a connection silent for 300 s (--conn-idle-timeout), stop an "
     "unused "
     "segment's Pyright after 900 s (--lsp-idle-timeout), restart a Pyright above 2048 MiB RSS "
     "(--lsp-rss-limit-mb); see `trifectad --help`",
     [](CLI::App*, Opts&) {}, daemon_start},
    {"daemon", "stop", "Stop trifectad gracefully", [](CLI::App*, Opts&) {}, daemon_stop},
    {"daemon", "status", "Show the daemon's state (never starts it; exit 3 when it is not running)",
     [](CLI::App*, Opts&) {}, daemon_status},
    {"daemon", "restart", "Stop, then start trifectad", [](CLI::App*, Opts&) {},
     [](const Opts& o) {
       if (const int rc = daemon_stop(o); rc != kExitOk) return rc;
       return daemon_start(o);
     }},
    {"ast", "skeleton", "The outline of a Python file (signatures, docstrings, `...` bodies)",
     [](CLI::App* c, Opts& o) {
       c->add_option("target", o.target,
                     "File (relative to the cwd or the segment) or sym://python/<module>")
           ->required();
       c->add_flag("-n,--line-numbers", o.line_numbers,
                   "Append the line range of every definition");
       add_segment(c, o);
     },
     [](const Opts& o) {
       json::object p{{"segment", seg(o)},
                      {"path", tc::resolve_path_arg(o.target)},
                      {"line_numbers", o.line_numbers},
                      {"format", o.json_out ? "both" : "text"}};
       return run(o, proto::method::kAstSkeleton, p, tc::render_skeleton);
     }},
    {"ast", "symbols", "Every definition of a Python file with its line range",
     [](CLI::App* c, Opts& o) {
       c->add_option("target", o.target, "File or sym://python/<module>")->required();
       add_segment(c, o);
     },
     [](const Opts& o) {
       return run(o, proto::method::kAstSymbols,
                  {{"segment", seg(o)}, {"path", tc::resolve_path_arg(o.target)}},
                  tc::render_symbols);
     }},
    {"ctx", "build", "Index the segment (progress on stderr)",
     [](CLI::App* c, Opts& o) {
       c->add_flag("--rebuild", o.rebuild, "Ignore the persisted index and build cold");
       add_segment(c, o);
     },
     [](const Opts& o) {
       ProgressBar bar(!o.json_out && ::isatty(2));
       return run(
           o, "ctx.build", {{"segment", seg(o)}, {"rebuild", o.rebuild}},
           [&](const json::value& v) {
             bar.clear();
             return tc::render_build(v);
           },
           true,
           [&](const std::string& m, const json::object& p) {
             if (m == "ctx.progress") bar.update(num_or_zero(p, "done"), num_or_zero(p, "total"));
           });
     }},
    {"ctx", "search", "Ranked chunks for a query",
     [](CLI::App* c, Opts& o) {
       c->add_option("query", o.words, "Query words")->required();
       c->add_option("-n,--limit", o.limit, "How many hits")
           ->check(CLI::Range(1, 1000))
           ->capture_default_str();
       c->add_option("--path", o.path_glob,
                     "Only paths matching this glob (`db/` or `db/**`: everything under db/; "
                     "`*.py`: top level only)");
       c->add_option("--kind", o.kind, "code | doc | other")
           ->check(CLI::IsMember({"code", "doc", "other"}));
       c->add_flag("--explain", o.explain, "Show per-field term contributions");
       add_segment(c, o);
     },
     [](const Opts& o) {
       std::string q;
       for (const auto& w : o.words) q += (q.empty() ? "" : " ") + w;
       json::object p{
           {"segment", seg(o)}, {"query", q}, {"limit", o.limit}, {"explain", o.explain}};
       if (!o.path_glob.empty()) p["path"] = o.path_glob;
       if (!o.kind.empty()) p["kind"] = o.kind;
       return run(o, "ctx.search", p,
                  [&](const json::value& v) { return tc::render_search(v, o.path_glob); });
     }},
    {"ctx", "get", "Chunks by id or sym:// URI under a token budget (exit 1 when any target fails)",
     [](CLI::App* c, Opts& o) {
       c->add_option("targets", o.targets, "Chunk ids (from search) or sym:// URIs");
       c->add_option("-m,--mode", o.mode, "skeleton | excerpt | raw")
           ->check(CLI::IsMember({"skeleton", "excerpt", "raw"}))
           ->capture_default_str();
       c->add_option("-b,--budget", o.budget, "Token budget")->capture_default_str();
       c->add_option("--max-chunks", o.max_chunks, "At most this many chunks")
           ->capture_default_str();
       c->add_option("-q,--query", o.query_words,
                     "Focus excerpts on these words; takes every word up to the next option, so "
                     "give the ids first "
                     "(`ctx get ID -q where clause`) or quote the query");
       c->add_option("--cursor", o.cursor, "Continue a previous answer");
       add_segment(c, o);
     },
     [](const Opts& o) {
       if (o.targets.empty()) {
         std::fprintf(stderr, "trifecta: ctx get: no chunk id or sym:// URI given\n");
         if (!o.query_words.empty()) {
           std::fprintf(stderr,
                        "hint: -q takes every word after it; put the ids first (`ctx get ID -q "
                        "where clause`) "
                        "or quote the query (`-q 'where clause' ID`)\n");
         }
         return kExitUsage;
       }
       json::array ids, uris;
       for (const auto& t : o.targets) (t.rfind("sym://", 0) == 0 ? uris : ids).emplace_back(t);
       json::object p{{"segment", seg(o)}, {"ids", ids},         {"uris", uris},
                      {"mode", o.mode},    {"budget", o.budget}, {"max_chunks", o.max_chunks}};
       std::string q;
       for (const auto& w : o.query_words) q += (q.empty() ? "" : " ") + w;
       if (!q.empty()) p["query"] = q;
       if (!o.cursor.empty()) p["cursor"] = o.cursor;
       return run(o, "ctx.get", p, tc::render_get);
     }},
    {"ctx", "status", "Index generation, files indexed/skipped, chunks, pack_state", add_segment,
     [](const Opts& o) {
       return run(o, "ctx.status", {{"segment", seg(o)}}, tc::render_ctx_status);
     }},
    {"ctx", "validate", "Compare the index with the disk", add_segment,
     [](const Opts& o) {
       return run(o, "ctx.validate", {{"segment", seg(o)}}, tc::render_validate);
     }},
    {"", "def", "Go to definition (Pyright when READY, else the AST)", setup_position,
     [](const Opts& o) { return run_position(o, "lsp.definition"); }},
    {"", "hover", "Signature and docstring of the name at a position", setup_position,
     [](const Opts& o) { return run_position(o, "lsp.hover"); }},
    {"", "refs", "References to the name at a position",
     [](CLI::App* c, Opts& o) {
       setup_position(c, o);
       c->add_flag("--no-declaration", o.no_decl, "Leave out the declaration itself");
     },
     [](const Opts& o) { return run_position(o, "lsp.references"); }},
    {"", "diag", "Diagnostics of a file (Pyright when READY, else syntax errors from the AST)",
     [](CLI::App* c, Opts& o) {
       c->add_option("file", o.target, "File")->required();
       add_wait(c, o);
       add_segment(c, o);
     },
     [](const Opts& o) {
       return run(o, "lsp.diagnostics",
                  {{"segment", seg(o)},
                   {"path", tc::resolve_path_arg(o.target)},
                   {"wait_ready_ms", o.wait_ms}},
                  tc::render_diagnostics);
     }},
    {"lsp", "status", "Binary, version, state (COLD/WARMING/READY/FAILED), pid, memory",
     add_segment,
     [](const Opts& o) {
       return run(o, "lsp.status", {{"segment", seg(o)}}, tc::render_lsp_status);
     }},
    {"", "sym", "Resolve a sym:// URI, e.g. sym://python/json.decoder/JSONDecoder.decode",
     [](CLI::App* c, Opts& o) {
       c->add_option("uri", o.target, "The sym:// URI")->required();
       add_segment(c, o);
     },
     [](const Opts& o) {
       return run(o, proto::method::kSymResolve, {{"segment", seg(o)}, {"uri", o.target}},
                  tc::render_resolution);
     }},
};

bool is_group(std::string_view w) {
  for (const auto& g : kGroups)
    if (w == g.name) return true;
  return false;
}

const Command* find_command(std::string_view group, std::string_view name) {
  for (const auto& c : kCommands)
    if (group == c.group && name == c.name) return &c;
  return nullptr;
}

// "ping, status, daemon, ..." — the commands under `group` ("" = top level).
std::string valid_commands(std::string_view group) {
  std::vector<std::string_view> names;
  for (const auto& c : kCommands) {
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
  std::vector<std::pair<CLI::App*, const Command*>> built;
  for (const auto& g : kGroups) {
    if (!full && group != g.name) continue;
    auto* gc = app.add_subcommand(g.name, g.help);
    gc->require_subcommand(1);
    add_globals(gc, o);
  }
  for (const auto& c : kCommands) {
    if (!full && !(group == c.group && name == c.name)) continue;
    CLI::App* parent = *c.group ? app.get_subcommand(c.group) : &app;
    auto* cmd = parent->add_subcommand(c.name, c.help);
    c.setup(cmd, o);
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
