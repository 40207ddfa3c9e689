// client/cli/commands.cpp — the rows of the `trifecta` command table and what each runs: build
// the typed params, call the daemon through a trifecta_client Session (the result decoded into
// the method's Result struct), print the rendered text or, with --json, the reply line as is.
#include "commands.hpp"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <type_traits>

#include "local.hpp"
#include "mcp/budget.hpp"
#include "mcp/server.hpp"
#include "render.hpp"
#include "segment.hpp"
#include "session.hpp"
#include "trifecta/proto/catalog.hpp"
#include "trifecta/proto/protocol.hpp"
#include "util/utf8.hpp"

namespace trifecta::cli {

namespace tc = trifecta::client;
namespace spec = trifecta::proto::spec;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// Words the daemon matches as text (a search query, `ctx get -q`, `sym --find`) must be UTF-8. A
// file name that is not travels percent-escaped (docs/protocol.md) and is unescaped by the daemon;
// words have no such way back, so a query typed in another encoding (a Latin-1 terminal's `café`)
// would be searched as the text of its escape. Refused here instead, as a usage error.
std::string check_utf8_text(std::string& s) {
  const std::string where = core::utf8::first_invalid(s);
  return where.empty() ? where : "not UTF-8 text (" + where + "); give it in UTF-8";
}

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
  // --json prints a reply whose result does not decode as is: reading it is the caller's business.
  if (e.code == tc::ClientErrc::kProtocol && o.json_out && !e.reply_line.empty()) {
    write_out(e.reply_line + "\n", stdout);
    return kExitOk;
  }
  std::fprintf(stderr, "trifecta: %s\n", e.message.c_str());
  if (!e.hint.empty()) std::fprintf(stderr, "hint: %s\n", e.hint.c_str());
  return e.code == tc::ClientErrc::kProtocol ? kExitFailed : kExitUnavailable;
}

tc::SessionOptions session_options(const Opts& o, bool allow_spawn = true) {
  tc::SessionOptions s;
  s.socket = o.socket.empty() ? tc::default_socket_path() : std::filesystem::path(o.socket);
  s.spawn = allow_spawn && !o.no_spawn;
  s.timeout = reply_timeout(o);
  return s;
}

struct RunOptions {
  std::string segment;  // sent as params.segment (empty: a daemon-level method)
  bool allow_spawn = true;
  tc::NotificationFn notify;
};
RunOptions in_segment(std::string segment) {
  RunOptions r;
  r.segment = std::move(segment);
  return r;
}
RunOptions without_spawn() {
  RunOptions r;
  r.allow_spawn = false;
  return r;
}

// Methods without side effects: their request may go out behind the hello, before the daemon
// has accepted it (Session::open_pipelined; one round trip instead of two). A daemon that
// refuses the hello still answers the request, so nothing that changes state is sent early.
bool pipelinable(std::string_view m) {
  namespace mn = proto::method;
  for (const std::string_view r : {mn::kPing, mn::kStatus, mn::kCtxSearch, mn::kCtxGet, mn::kCtxStatus, mn::kCtxMap,
                                   mn::kAstSkeleton, mn::kAstSymbols, mn::kSymResolve, mn::kSymSearch,
                                   mn::kLspDefinition, mn::kLspHover, mn::kLspReferences, mn::kLspCalls}) {
    if (m == r) return true;
  }
  return false;
}

// Open a session, call one method with typed params, render its typed result with
// `render(result)`. Prints the text, or with --json the reply line as is (then the renderer only
// tells whether a target failed). Exit 1 when the reply reports a failed target.
template <class P, class R, class RenderFn>
int run(const Opts& o, const proto::MethodSpec<P, R>& method, const P& params, RenderFn render,
        RunOptions ro = {}) {
  tc::Session s(session_options(o, ro.allow_spawn));
  if (ro.notify) s.on_notification(std::move(ro.notify));
  tc::ClientError err;
  if (!(pipelinable(method.name) ? s.open_pipelined(&err) : s.open(&err))) return report(err, o);
  std::string line;
  const auto result = s.call(method, params, &err, {ro.segment, &line});
  if (!result) return report(err, o);
  const tc::Rendered r = render(*result);
  if (o.json_out) {
    write_out(line + "\n", stdout);
  } else {
    write_out(r.out, stdout);
    write_out(r.err, stderr);
  }
  return r.failed ? kExitFailed : kExitOk;
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
  if (!s.call(spec::kShutdown, {}, &err)) return report(err, o);
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
  return run(o, spec::kPing, {}, [&](const proto::PingResult& v) {
    return tc::render_daemon_start(v, was_running, sock);
  });
}

int daemon_status(const Opts& o) {
  if (!daemon_running(o)) {
    if (o.json_out)
      std::puts(R"({"running":false})");
    else
      std::printf("trifectad is not running (socket %s)\n", session_options(o).socket.c_str());
    return kExitUnavailable;
  }
  return run(o, spec::kStatus, {}, tc::render_status, without_spawn());
}

// The command's segment; NoSegment (main prints it) where there is none.
std::string seg(const Opts& o) {
  return tc::require_segment(o.segment);
}

template <class R>
int run_position(const Opts& o, const proto::MethodSpec<proto::LspPositionParams, R>& method) {
  const std::string segment = seg(o);
  proto::LspPositionParams p;
  p.wait_ready_ms = o.wait_ms;
  p.include_declaration = !o.no_decl;
  p.confirmed_only = o.confirmed_only;
  if (!tc::position_params(o.target, p)) {
    std::fprintf(stderr, "trifecta: expected file:line:col or a sym:// URI, got '%s'\n",
                 o.target.c_str());
    return kExitUsage;
  }
  if constexpr (std::is_same_v<R, proto::LspHoverResult>) {
    return run(o, method, p, tc::render_hover, in_segment(segment));
  } else {
    return run(
        o, method, p, [&](const R& v) { return tc::render_locations(v, segment); },
        in_segment(segment));
  }
}

// `ctx.progress` notification params (not a method: the catalog has no struct for them).
struct Progress {
  double done = 0;
  double total = 0;
};
template <class V>
void describe(V& v, Progress& s) {
  v.opt("done", s.done, "files done");
  v.opt("total", s.total, "files to do");
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

// The telemetry directories a `telemetry` command reads: --from as given; with --all, those of
// every segment open in trifectad (its status; never starts it); else the segment's.
int run_tel(const Opts& o, TelemetryAction action) {
  std::vector<std::string> dirs;
  if (!o.tel.from.empty()) {
    dirs = o.tel.from;
  } else if (o.tel.all) {
    tc::Session s(session_options(o, false));
    tc::ClientError err;
    if (!s.open(&err)) return report(err, o);
    const auto st = s.call(spec::kStatus, {}, &err);
    if (!st) return report(err, o);
    // A segment that has written no event yet has no file: it is left out, not an error.
    std::error_code ec;
    for (const auto& sg : st->segments) {
      const std::string dir = telemetry_dir_of(sg.root);
      if (std::filesystem::exists(std::filesystem::path(dir) / "events.jsonl", ec))
        dirs.push_back(dir);
    }
  } else {
    dirs.push_back(telemetry_dir_of(seg(o)));
  }
  return run_telemetry(o.tel, action, o.json_out, dirs);
}

constexpr Command kCommands[] = {
    {"", "ping", "Check that trifectad answers", spec::kPing.name, [](CLI::App*, Opts&) {},
     [](const Opts& o) {
       const auto t0 = Clock::now();
       return run(o, spec::kPing, {}, [&](const proto::PingResult& v) {
         return tc::render_ping(
             v, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
       });
     }},
    {"", "status", "Show the daemon's state", spec::kStatus.name, [](CLI::App*, Opts&) {},
     [](const Opts& o) { return run(o, spec::kStatus, {}, tc::render_status); }},
    {"daemon", "start",
     "Start trifectad if it is not running. It starts with its own defaults: exit after 1800 s "
     "without "
     "clients (--idle-timeout), close a connection silent for 300 s (--conn-idle-timeout), stop an "
     "unused "
     "segment's Pyright after 900 s (--lsp-idle-timeout), restart a Pyright above 2048 MiB RSS "
     "(--lsp-rss-limit-mb); see `trifectad --help`",
     spec::kPing.name, [](CLI::App*, Opts&) {}, daemon_start},
    {"daemon", "stop", "Stop trifectad gracefully", spec::kShutdown.name, [](CLI::App*, Opts&) {},
     daemon_stop},
    {"daemon", "status", "Show the daemon's state (never starts it; exit 3 when it is not running)",
     spec::kStatus.name, [](CLI::App*, Opts&) {}, daemon_status},
    {"daemon", "restart", "Stop, then start trifectad", spec::kShutdown.name,
     [](CLI::App*, Opts&) {},
     [](const Opts& o) {
       if (const int rc = daemon_stop(o); rc != kExitOk) return rc;
       return daemon_start(o);
     }},
    {"ast", "skeleton", "The outline of a Python file (signatures, docstrings, `...` bodies)",
     spec::kAstSkeleton.name,
     [](CLI::App* c, Opts& o) {
       c->add_option("target", o.target,
                     "File (relative to the cwd or the segment) or sym://python/<module>")
           ->required();
       c->add_flag("-n,--line-numbers", o.line_numbers,
                   "Append the line range of every definition");
       add_segment(c, o);
     },
     [](const Opts& o) {
       proto::AstSkeletonParams p;
       p.path = tc::resolve_path_arg(o.target);
       p.line_numbers = o.line_numbers;
       p.format = o.json_out ? "both" : "text";
       return run(o, spec::kAstSkeleton, p, tc::render_skeleton, in_segment(seg(o)));
     }},
    {"ast", "symbols", "Every definition of a Python file with its line range",
     spec::kAstSymbols.name,
     [](CLI::App* c, Opts& o) {
       c->add_option("target", o.target, "File or sym://python/<module>")->required();
       add_segment(c, o);
     },
     [](const Opts& o) {
       proto::AstSymbolsParams p;
       p.path = tc::resolve_path_arg(o.target);
       return run(o, spec::kAstSymbols, p, tc::render_symbols, in_segment(seg(o)));
     }},
    {"ctx", "build", "Index the segment (progress on stderr)", spec::kCtxBuild.name,
     [](CLI::App* c, Opts& o) {
       c->add_flag("--rebuild", o.rebuild, "Ignore the persisted index and build cold");
       add_segment(c, o);
     },
     [](const Opts& o) {
       ProgressBar bar(!o.json_out && ::isatty(2));
       proto::CtxBuildParams p;
       p.rebuild = o.rebuild;
       RunOptions ro = in_segment(seg(o));
       ro.notify = [&](const std::string& m, const json::object& n) {
         if (m != "ctx.progress") return;
         // A progress note that does not decode is skipped: it only draws the bar.
         Progress pr;
         if (!proto::decode(json::value(n), pr, "params")) bar.update(pr.done, pr.total);
       };
       return run(
           o, spec::kCtxBuild, p,
           [&](const proto::CtxBuildResult& v) {
             bar.clear();
             return tc::render_build(v);
           },
           std::move(ro));
     }},
    {"ctx", "search", "Ranked chunks for a query", spec::kCtxSearch.name,
     [](CLI::App* c, Opts& o) {
       c->add_option("query", o.words, "Query words")
           ->required()
           ->check(CLI::Validator(check_utf8_text, "TEXT", "UTF-8 text"));
       c->add_option("-n,--limit", o.limit, "How many hits")
           ->check(CLI::Range(1, 1000))
           ->capture_default_str();
       c->add_option("--path", o.path_glob,
                     "Only paths matching this glob (`db/` or `db/**`: everything under db/; "
                     "`*.py`: top level only)");
       c->add_option("--kind", o.kind, "code | doc | other")
           ->check(CLI::IsMember({"code", "doc", "other"}));
       c->add_flag("--explain", o.explain, "Show per-field term contributions and ranking signals");
       add_segment(c, o);
     },
     [](const Opts& o) {
       proto::CtxSearchParams p;
       for (const auto& w : o.words) p.query += (p.query.empty() ? "" : " ") + w;
       p.limit = o.limit;
       p.explain = o.explain;
       p.path = o.path_glob;
       p.kind = o.kind;
       return run(
           o, spec::kCtxSearch, p,
           [&](const proto::CtxSearchResult& v) { return tc::render_search(v, o.path_glob); },
           in_segment(seg(o)));
     }},
    {"ctx", "get",
     "Chunks by id, files or sym:// URIs under a token budget (exit 1 when any target fails)",
     spec::kCtxGet.name,
     [](CLI::App* c, Opts& o) {
       c->add_option("targets", o.targets,
                     "Chunk ids (from search), files (the whole file; relative to the cwd or the "
                     "segment) or sym:// URIs");
       c->add_option("-m,--mode", o.mode, "skeleton | excerpt | raw")
           ->check(CLI::IsMember({"skeleton", "excerpt", "raw"}))
           ->capture_default_str();
       c->add_option("-b,--budget", o.budget, "Token budget")->capture_default_str();
       c->add_option("--max-chunks", o.max_chunks, "At most this many chunks")
           ->capture_default_str();
       c->add_option("-q,--query", o.query_words,
                     "Focus excerpts on these words; takes every word up to the next option, so "
                     "give the ids first "
                     "(`ctx get ID -q where clause`) or quote the query")
           ->check(CLI::Validator(check_utf8_text, "TEXT", "UTF-8 text"));
       c->add_option("--cursor", o.cursor, "Continue a previous answer");
       add_segment(c, o);
     },
     [](const Opts& o) {
       if (o.targets.empty()) {
         std::fprintf(stderr, "trifecta: ctx get: no chunk id, file or sym:// URI given\n");
         if (!o.query_words.empty()) {
           std::fprintf(stderr,
                        "hint: -q takes every word after it; put the ids first (`ctx get ID -q "
                        "where clause`) "
                        "or quote the query (`-q 'where clause' ID`)\n");
         }
         return kExitUsage;
       }
       proto::CtxGetParams p;
       for (const auto& t : o.targets) {
         if (t.rfind("sym://", 0) == 0)
           p.uris.push_back(t);
         else if (auto id = tc::node_id_arg(t))  // a pytest node id: its path as a file's
           p.uris.push_back(std::move(*id));
         else  // a file (no '#'): relative to the cwd or the segment, as `ast skeleton` takes it
           p.ids.push_back(t.find('#') == std::string::npos ? tc::resolve_path_arg(t) : t);
       }
       p.mode = o.mode;
       p.budget = o.budget;
       p.max_chunks = o.max_chunks;
       for (const auto& w : o.query_words) p.query += (p.query.empty() ? "" : " ") + w;
       p.cursor = o.cursor;
       return run(o, spec::kCtxGet, p, tc::render_get, in_segment(seg(o)));
     }},
    {"ctx", "status", "Index generation, files indexed/skipped, chunks, pack_state",
     spec::kCtxStatus.name, add_segment,
     [](const Opts& o) {
       return run(o, spec::kCtxStatus, {}, tc::render_ctx_status, in_segment(seg(o)));
     }},
    {"ctx", "validate", "Compare the index with the disk", spec::kCtxValidate.name, add_segment,
     [](const Opts& o) {
       return run(o, spec::kCtxValidate, {}, tc::render_validate, in_segment(seg(o)));
     }},
    {"ctx", "map", "Ranked overview: the most central files and their top symbols, within a budget",
     spec::kCtxMap.name,
     [](CLI::App* c, Opts& o) {
       c->add_option("path", o.target,
                     "Folder or file (relative to the cwd or the segment); default: the whole segment");
       c->add_option("-b,--budget", o.map_budget, "Token budget of the map (64..100000)")
           ->capture_default_str();
       add_segment(c, o);
     },
     [](const Opts& o) {
       proto::CtxMapParams p;
       if (!o.target.empty()) p.path = tc::resolve_path_arg(o.target);
       p.budget = o.map_budget;
       return run(
           o, spec::kCtxMap, p, [](const proto::CtxMapResult& v) { return tc::render_map(v); },
           in_segment(seg(o)));
     }},
    {"", "def", "Go to definition (Pyright when READY, else the AST)", spec::kLspDefinition.name,
     setup_position, [](const Opts& o) { return run_position(o, spec::kLspDefinition); }},
    {"", "hover", "Signature and docstring of the name at a position", spec::kLspHover.name,
     setup_position, [](const Opts& o) { return run_position(o, spec::kLspHover); }},
    {"", "refs", "References to the name at a position", spec::kLspReferences.name,
     [](CLI::App* c, Opts& o) {
       setup_position(c, o);
       c->add_flag("--no-declaration", o.no_decl, "Leave out the declaration itself");
       c->add_flag("--confirmed-only", o.confirmed_only,
                   "Only Pyright's references, without the AST candidates it missed");
     },
     [](const Opts& o) { return run_position(o, spec::kLspReferences); }},
    {"", "calls",
     "Call hierarchy of the function at a position: its callers and what it calls (Pyright "
     "when READY, else the AST)",
     spec::kLspCalls.name,
     [](CLI::App* c, Opts& o) {
       c->add_option("position", o.target,
                     "file:line:col (1-based; columns in characters) or a sym:// URI")
           ->required();
       auto* in = c->add_flag("--incoming", o.incoming, "Only the callers");
       c->add_flag("--outgoing", o.outgoing, "Only the callees")->excludes(in);
       c->add_option("--depth", o.depth, "Levels of callers / callees")
           ->check(CLI::Range(1, 5))
           ->capture_default_str();
       add_wait(c, o);
       add_segment(c, o);
     },
     [](const Opts& o) {
       proto::LspCallsParams p;
       if (!tc::position_params(o.target, p)) {
         std::fprintf(stderr, "trifecta: expected file:line:col or a sym:// URI, got '%s'\n",
                      o.target.c_str());
         return kExitUsage;
       }
       p.direction = o.incoming ? "incoming" : o.outgoing ? "outgoing" : "both";
       p.wait_ready_ms = o.wait_ms;
       p.depth = o.depth;
       return run(o, spec::kLspCalls, p, tc::render_calls, in_segment(seg(o)));
     }},
    {"", "diag", "Diagnostics of a file (Pyright when READY, else syntax errors from the AST)",
     spec::kLspDiagnostics.name,
     [](CLI::App* c, Opts& o) {
       c->add_option("file", o.target, "File")->required();
       add_wait(c, o);
       add_segment(c, o);
     },
     [](const Opts& o) {
       proto::LspDiagnosticsParams p;
       p.path = tc::resolve_path_arg(o.target);
       p.wait_ready_ms = o.wait_ms;
       return run(o, spec::kLspDiagnostics, p, tc::render_diagnostics, in_segment(seg(o)));
     }},
    {"lsp", "status", "Binary, version, state (COLD/WARMING/READY/FAILED), pid, memory",
     spec::kLspStatus.name, add_segment,
     [](const Opts& o) {
       return run(o, spec::kLspStatus, {}, tc::render_lsp_status, in_segment(seg(o)));
     }},
    {"lsp", "restart", "Restart the segment's language server now (resets the restart backoff)",
     spec::kLspRestart.name, add_segment,
     [](const Opts& o) {
       return run(o, spec::kLspRestart, {}, tc::render_lsp_status, in_segment(seg(o)));
     }},
    {"", "sym",
     "Resolve a sym:// URI, e.g. sym://python/json.decoder/JSONDecoder.decode; or find "
     "definitions by name with --find NAME (sym.search)",
     spec::kSymResolve.name,
     [](CLI::App* c, Opts& o) {
       c->add_option("uri", o.target, "The sym:// URI (without --find)");
       c->add_option("--find", o.find,
                     "Find definitions by name: exact, prefix, case-insensitive or letters in "
                     "order (`jdcd` finds JSONDecoder); `Outer.name` narrows by the enclosing name")
           ->check(CLI::Validator(check_utf8_text, "TEXT", "UTF-8 text"));
       c->add_option("--match", o.find_mode, "With --find: exact | prefix | fuzzy")
           ->check(CLI::IsMember({"exact", "prefix", "fuzzy"}))
           ->capture_default_str();
       c->add_option("--kind", o.kinds, "With --find: keep only this kind (repeatable)")
           ->check(CLI::IsMember({"class", "function", "method", "constant", "attribute"}));
       c->add_option("-n,--limit", o.limit, "With --find: at most this many")
           ->check(CLI::Range(1, 1000))
           ->capture_default_str();
       add_segment(c, o);
     },
     [](const Opts& o) {
       if (!o.find.empty()) {
         proto::SymSearchParams p;
         p.query = o.find;
         p.mode = o.find_mode;
         p.kinds = o.kinds;
         p.limit = o.limit;
         return run(o, spec::kSymSearch, p, tc::render_sym_search, in_segment(seg(o)));
       }
       if (o.target.empty()) {
         std::fprintf(stderr, "trifecta: sym: give a sym:// URI or --find NAME\n");
         return kExitUsage;
       }
       proto::SymResolveParams p;
       p.uri = tc::node_id_arg(o.target).value_or(o.target);
       return run(o, spec::kSymResolve, p, tc::render_resolution, in_segment(seg(o)));
     }},
    {"", "mcp",
     "Serve the Model Context Protocol on stdin/stdout for coding agents (docs/mcp.md); tools "
     "ask the shared trifectad, auto-started",
     spec::kCtxSearch.name,
     [](CLI::App* c, Opts& o) {
       c->add_option("-s,--segment", o.targets,
                     "Project root (repeat for several; default: the client's roots, else the "
                     "enclosing git work tree, else the nearest folder with _ctx, else the cwd)");
       c->add_option("--budget", o.mcp_budget, "Default token budget of each tool result")
           ->check(CLI::Range(trifecta::mcp::kMinBudget, trifecta::mcp::kMaxBudget))
           ->capture_default_str();
       c->add_option("--max-message-bytes", o.mcp_max_line,
                     "Longer input messages are refused with a JSON-RPC error")
           ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30))
           ->capture_default_str();
       c->add_flag("--debug-tools", o.mcp_debug_tools,
                   "Also list debug_sleep (needs trifectad --enable-debug-methods; for tests)")
           ->group("");
     },
     [](const Opts& o) {
       trifecta::mcp::ServerOptions so;
       so.socket = session_options(o).socket;
       so.spawn = !o.no_spawn;
       // A tool call may wait for the first build of a large tree: the MCP server waits up to
       // 300 s for one daemon request unless --timeout says otherwise (the client can cancel).
       so.timeout = o.timeout_given ? session_options(o).timeout : std::chrono::milliseconds(300000);
       std::vector<std::string> dirs = o.targets;
       if (!o.segment.empty()) dirs.insert(dirs.begin(), o.segment);
       for (const auto& d : dirs) {
         std::error_code ec;
         if (!std::filesystem::is_directory(d, ec)) {
           std::fprintf(stderr, "trifecta mcp: -s %s: not a directory\n", d.c_str());
           return kExitUsage;
         }
         std::string root = tc::resolve_segment(d);
         while (root.size() > 1 && root.back() == '/') root.pop_back();
         if (std::find(so.roots.begin(), so.roots.end(), root) == so.roots.end())
           so.roots.push_back(root);
       }
       so.budget = o.mcp_budget;
       so.max_line_bytes = o.mcp_max_line;
       so.debug_tools = o.mcp_debug_tools;
       const int rc = trifecta::mcp::run_server(so);
       std::fflush(stdout);
       std::fflush(stderr);
       ::_exit(rc);  // call threads may still run: no static destructors under them
     }},
    {"segment", "close",
     "Close the segment in trifectad: stop its Pyright, save its index, free its memory (never "
     "starts the daemon)",
     spec::kSegmentClose.name, add_segment,
     [](const Opts& o) {
       proto::SegmentCloseParams p;
       p.segment = seg(o);
       return run(
           o, spec::kSegmentClose, p,
           [&](const proto::SegmentCloseResult& v) {
             return tc::render_segment_close(v, p.segment);
           },
           without_spawn());
     }},
    {"", "doctor",
     "Check the installation (daemon binary and version, socket directory, systemd units, "
     "Pyright, grammar ABI, _ctx, inotify limits, disk space); one line per check with a fix; "
     "exit 1 when something is broken",
     "", [](CLI::App* c, Opts& o) { add_segment(c, o); }, run_doctor},
    {"", "setup-pyright",
     "Install the pinned Pyright with npm into ${XDG_DATA_HOME:-~/.local/share}/trifecta/pyright, "
     "where trifectad finds it",
     "",
     [](CLI::App* c, Opts& o) {
       c->add_flag("--dry-run", o.dry_run, "Print the npm command and the target, install nothing");
     },
     run_setup_pyright},
    {"", "completion", "Print the shell completion script (generated from this command table)", "",
     [](CLI::App* c, Opts& o) {
       c->add_option("shell", o.shell, "bash | zsh | fish")
           ->required()
           ->check(CLI::IsMember({"bash", "zsh", "fish"}));
     },
     run_completion},
    {"", "man", "Print the trifecta(1) man page in roff (generated from this command table)", "",
     [](CLI::App*, Opts&) {}, run_man},
    // Local commands over the telemetry files; `status` is called only for --all.
    {"telemetry", "report",
     "Per-command count/errors/p50/p95/max, LSP, AST cache, disclosure savings, drops (--json, "
     "--html FILE)",
     spec::kStatus.name,
     [](CLI::App* c, Opts& o) {
       setup_telemetry(c, o.tel, TelemetryAction::kReport);
       add_segment(c, o);
     },
     [](const Opts& o) { return run_tel(o, TelemetryAction::kReport); }},
    {"telemetry", "chart", "Latency over time (sparklines) and latency histograms per command",
     spec::kStatus.name,
     [](CLI::App* c, Opts& o) {
       setup_telemetry(c, o.tel, TelemetryAction::kChart);
       add_segment(c, o);
     },
     [](const Opts& o) { return run_tel(o, TelemetryAction::kChart); }},
    {"telemetry", "export", "One flat row per event, CSV (RFC 4180) or JSONL (docs/telemetry.md)",
     spec::kStatus.name,
     [](CLI::App* c, Opts& o) {
       setup_telemetry(c, o.tel, TelemetryAction::kExport);
       add_segment(c, o);
     },
     [](const Opts& o) { return run_tel(o, TelemetryAction::kExport); }},
    {"telemetry", "health",
     "Exit 0, or 1 with one line per failed check (drop rate, write errors, LSP failures, "
     "error rate, p95 ceilings)",
     spec::kStatus.name,
     [](CLI::App* c, Opts& o) {
       setup_telemetry(c, o.tel, TelemetryAction::kHealth);
       add_segment(c, o);
     },
     [](const Opts& o) { return run_tel(o, TelemetryAction::kHealth); }},
};

constexpr Group kGroups[] = {
    {"daemon", "Manage trifectad"},
    {"ast", "Python AST skeletons and symbols"},
    {"ctx", "The context index: build, search, get, status, validate"},
    {"lsp", "The segment's language server (Pyright)"},
    {"segment", "Open segments in trifectad"},
    {"telemetry", "Read the telemetry: report, chart, export, health"},
};

constexpr NotExposed kNotExposed[] = {
    {proto::method::kHello, "the handshake: every command sends it when it connects"},
    {proto::method::kSymSearch, "`trifecta sym --find NAME` (the sym command's flag)"},
};

}  // namespace

std::chrono::milliseconds reply_timeout(const Opts& o) {
  const auto given = std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000));
  if (o.timeout_given) return given;
  return given + std::chrono::milliseconds(std::max<std::int64_t>(o.wait_ms, 0));
}

namespace {

// Seconds in (0, 86400].
std::string check_timeout(std::string& s) {
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size())
    return "expected seconds (a number), got '" + s + "'";
  if (!(v > 0 && v <= 86400)) return "must be more than 0 and at most 86400 seconds, got " + s;
  return {};
}

}  // namespace

void add_globals(CLI::App* c, Opts& o) {
  const char* g = "Global options (before or after the command)";
  c->add_flag("--json", o.json_out, "Print the daemon's JSON reply as is")->group(g);
  c->add_option(
       "--socket", o.socket,
       "Daemon socket (default: $TRIFECTA_SOCKET or $XDG_RUNTIME_DIR/trifecta/trifectad.sock)")
      ->group(g);
  c->add_flag("--no-spawn", o.no_spawn, "Do not auto-start trifectad when it is not running")
      ->group(g);
  c->add_option("--timeout", o.timeout_s,
                "Seconds to wait for a reply (without it: 30, plus a command's --wait)")
      ->check(CLI::Validator(check_timeout, "SECONDS", "timeout range"))
      ->each([&o](const std::string&) { o.timeout_given = true; })
      ->capture_default_str()
      ->group(g);
}

const std::string& version_line() {
  static const std::string version =
      std::string("trifecta ") + proto::kVersion + " (protocol " + proto::protocol_version() + ")";
  return version;
}

std::vector<std::pair<CLI::App*, const Command*>> build_app(CLI::App& app, Opts& o,
                                                            const Command* only, bool footers) {
  app.description("trifecta — code context for coding agents and editors");
  app.name("trifecta");
  app.set_version_flag("--version", version_line());
  app.require_subcommand(1);
  app.fallthrough();
  add_globals(&app, o);
  add_segment(&app, o);
  std::vector<std::pair<CLI::App*, const Command*>> built;
  for (const auto& g : groups()) {
    if (only && std::string_view(only->group) != g.name) continue;
    auto* gc = app.add_subcommand(g.name, g.help);
    gc->require_subcommand(1);
    add_globals(gc, o);
  }
  for (const auto& c : commands()) {
    if (only && &c != only) continue;
    CLI::App* parent = *c.group ? app.get_subcommand(c.group) : &app;
    auto* cmd = parent->add_subcommand(c.name, c.help);
    c.setup(cmd, o);
    if (footers) {
      if (const auto* m = proto::find_method(c.method)) {
        cmd->footer("Daemon method: " + std::string(m->name) + " — " + std::string(m->summary));
      }
    }
    add_globals(cmd, o);
    built.emplace_back(cmd, &c);
  }
  return built;
}

void add_segment(CLI::App* c, Opts& o) {
  c->add_option("-s,--segment", o.segment,
                "Segment root (default: the enclosing git work tree, else the nearest folder with "
                "_ctx, else the cwd)");
}

std::span<const Command> commands() {
  return kCommands;
}
std::span<const Group> groups() {
  return kGroups;
}
std::span<const NotExposed> not_exposed() {
  return kNotExposed;
}

}  // namespace trifecta::cli
