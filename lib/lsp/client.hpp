// lsp/client.hpp — one supervised language server (Pyright) for one segment.
//
// The client spawns the server (lsp/process.hpp: own process group, pipes, closefrom), speaks
// Content-Length JSON-RPC to it over stdin/stdout, drives the lifecycle state machine
// (lsp/state.hpp) and restarts the server with exponential backoff when it fails. It is built to be
// driven by a daemon that owns one `boost::asio::io_context` on one I/O thread:
//
//  * stdout and stderr are read asynchronously on that io_context; writes go through a bounded
//    queue (`max_queued_bytes`); nothing in the client blocks the thread on the server. (Two small
//    synchronous file reads do happen on it: the text of a file when it is opened with the server,
//    and the lines needed to convert UTF-16 columns of reply locations — served from a bounded
//    cache keyed by path + mtime + size, a few microseconds from the page cache.)
//  * Replies are matched to requests by id (Pyright sends window/logMessage before the initialize
//    result). Every server→client request is answered: workspace/configuration with one settings
//    object per item (`ClientOptions::settings`, else {}), registerCapability /
//    workDoneProgress/create / anything unknown with null. `$/progress` work (begin … end) is
//    tracked per token: `Status::indexing` is true while any is open (READY ≠ done indexing).
//  * In-flight requests live in a table bounded by `max_pending` (overflow: the new request fails
//    at once with kUnavailable) and each has a deadline (`request_timeout`, default 5 s): on expiry
//    the client sends `$/cancelRequest` and completes the request with Errc::kTimeout.
//    `max_consecutive_timeouts` timeouts in a row mean the server is wedged: FAILED + restart.
//  * FAILED (crash, initialize error, warm-up over `ready_timeout`, protocol error, wedged, RSS
//    over `rss_limit_bytes`): all in-flight requests complete with Errc::kUnavailable (the daemon
//    answers them from its AST fallback), the process group is killed and reaped, and a restart is
//    scheduled by RestartBackoff (bounded restarts per window; exhausted → a slow retry after
//    RestartBackoff::exhausted_delay, capped by RestartPolicy::exhausted_retry_cap, so the server
//    is never off for good; `restart()` retries now and resets the backoff). Status::next_retry_ms
//    says when the next automatic restart comes.
//  * `idle_timeout` (0 = never) shuts an unused server down gracefully → COLD; the next request
//    warms it again (that request itself fails fast with kUnavailable so the caller falls back).
//
// Gating: requests (definition, hover, references, diagnostics, request) are sent only in READY.
// In any other state they complete at once with Errc::kUnavailable ("lsp not ready: WARMING");
// the caller answers from its fallback or first waits with `when_ready`.
//
// Language: none is built in. `ClientOptions::language_id` is the didOpen `languageId` (required:
// the constructor throws std::invalid_argument when it is empty) and `ClientOptions::settings` the
// workspace/configuration answers; the daemon fills both from lang::Language.
//
// Results: paths inside the segment are segment-relative ("pkg/mod.py"); targets outside it
// (typeshed, the stdlib), also those reached through an in-tree symlink to an outside file (the
// boundary is checked on the resolved path), keep their real absolute path and `external = true`. Lines are 1-based,
// columns 1-based in characters (code points), converted from/to LSP's UTF-16 units.
//
// Telemetry (on `ClientOptions::telemetry`; shapes in docs/telemetry_event_schema.md):
// `lsp.spawn {pyright_binary | subprocess_pid, status, error? | x.lsp_state}`, `lsp.state_change
// {from_state, to_state, reason}` timed by the time spent in from_state, `lsp.request {method
// (short: "definition"), file, line, col | resolved, fallback: false, target_file?, target_line?,
// error?}` timed by the server round trip (latencies under "lsp.request"; paths through
// Channel::relpath, so external targets appear as external/<hash8>-<name>), `lsp.stop`, and the
// counters lsp_spawn_count / lsp_warming_count / lsp_ready_count / lsp_failed_count.
//
// Thread rules: every public member function is thread-safe: it posts its work to the
// io_context and returns. Callbacks are ALWAYS invoked on the io_context thread, never inline in
// the caller, exactly once each. The destructor kills the server group synchronously (SIGKILL +
// reap); callbacks still pending then complete with kUnavailable — inline when the destructor runs
// on the io thread, otherwise from a handler posted to it (never, if the io_context is stopped).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "lsp/server.hpp"
#include "lsp/state.hpp"
#include "text/location.hpp"
#include "telemetry/sink.hpp"
#include "util/result.hpp"

namespace boost::asio {
class io_context;
}

namespace trifecta::core::lsp {

namespace fs = std::filesystem;
namespace json = boost::json;
using std::chrono::milliseconds;

// The plain types live in lib/text (the fallback uses them without this header); these names keep
// `lsp::Location` etc. valid for the client's users.
using text::Diagnostic;
using text::HoverInfo;
using text::Location;
using text::Position;

// One callHierarchy item: a function/method/class as the server names it. Locations are made as
// definition's (segment-relative, `external` outside the segment).
struct CallHierarchyItem {
  std::string name;
  int kind = 0;            // LSP SymbolKind (5 class, 6 method, 12 function, 2 module)
  std::string detail;      // Pyright: the module name
  Location range;          // the whole definition
  Location selection;      // its name
  json::value raw;         // the item as the server sent it (sent back for incoming/outgoing)
};

// An incoming call (`item` is the caller) or an outgoing one (`item` is the callee); `sites` are
// the server's fromRanges (in the caller's file).
struct CallHierarchyCall {
  CallHierarchyItem item;
  std::vector<Location> sites;
};

// A workspace/symbol answer (SymbolInformation, or WorkspaceSymbol with a full location).
struct WorkspaceSymbol {
  std::string name;
  int kind = 0;  // LSP SymbolKind
  std::string container;
  Location location;
};

struct Status {
  bool enabled = true;      // always true from a Client; the daemon reports false when discovery
                            // says the server is disabled or missing
  std::string binary;       // full path of the launcher
  std::string binary_name;  // file name only
  std::string version;
  pid_t pid = -1;           // -1 when no process runs
  State state = State::kCold;
  std::string reason;       // of the last transition
  double uptime_ms = 0;     // since the current process was spawned (0 when none)
  double state_ms = 0;      // time in the current state
  // Spawn → READY of the current process (0 until it is READY; kept while READY, reset by the
  // next spawn). Unlike state_ms it does not grow while the server stays READY.
  double time_to_ready_ms = 0;
  // The server reports work in progress ($/progress `begin` without its `end`): Pyright's
  // workspace analysis ("N files to analyze") goes on after READY, and answers (references
  // especially) are slow until it ends. `indexing_title` is the latest title/message of that
  // work, `indexing_ms` how long it has been running (0 when not indexing).
  bool indexing = false;
  std::string indexing_title;
  double indexing_ms = 0;
  // Spawn → the moment no reported work was left for the first time (0: not yet). "Work" is
  // open $/progress tokens plus, when `ClientOptions::workspace_scanned` is set, the workspace
  // scan until its log line arrives (Pyright in its default openFilesOnly mode sends no
  // $/progress at all, but logs "Found N source files" when it has walked the tree).
  double analysis_done_ms = 0;
  std::uint64_t progress_notifications = 0;  // $/progress received (all instances)
  // The server said it has listed the workspace's source files (ClientOptions::workspace_scanned
  // recognised its log line): how many. -1 until then (or when no recogniser is set).
  std::int64_t workspace_files = -1;
  int restarts = 0;         // automatic restarts so far
  std::uint64_t rss_bytes = 0;
  double idle_ms = 0;       // since the last request or document sync
  std::size_t pending = 0;
  std::size_t open_documents = 0;
  std::uint64_t server_requests_answered = 0;
  std::uint64_t log_messages = 0;
  std::uint64_t timeouts = 0;
  std::string last_stderr;  // the last stderr lines (bounded), for `trifecta lsp status`
  double next_retry_ms = -1;  // FAILED with an automatic restart scheduled: in how long (else -1)
};

struct ClientOptions {
  fs::path segment_root;  // canonical; the workspace root and the cwd of the server
  ServerBinary server;
  // textDocument/didOpen `languageId` ("python"): the caller's language (lang::Language::
  // lsp_language_id). Required: the Client constructor throws std::invalid_argument when empty.
  std::string language_id;
  std::vector<std::string> server_args{"--stdio"};
  milliseconds request_timeout{5'000};
  milliseconds ready_timeout{60'000};
  milliseconds idle_timeout{0};             // 0 = never shut down for idleness
  milliseconds shutdown_grace{2'000};       // per step: shutdown reply, exit, SIGTERM
  std::size_t max_pending = 256;            // in-flight requests (incl. diagnostics waits)
  std::size_t max_queued_bytes = std::size_t{32} << 20;
  std::size_t max_message_bytes = std::size_t{64} << 20;
  std::size_t max_open_documents = 512;     // beyond: the least recently used is closed
  int max_consecutive_timeouts = 3;
  std::uint64_t rss_limit_bytes = std::uint64_t{2} << 30;  // 0 = no memory guard
  milliseconds rss_check_interval{5'000};
  RestartPolicy restart;
  // Answers to workspace/configuration, by section ("python.analysis" is looked up as
  // settings["python.analysis"], then settings["python"]["analysis"]). Empty = {} per item. The
  // client adds nothing: server-specific defaults are the caller's (lang::Language::
  // default_settings).
  json::object settings;
  // Recognises the server's "workspace scanned" window/logMessage and returns the number of
  // source files it names (lang::python::workspace_scan_files for Pyright). Empty: only
  // $/progress tells indexing apart.
  std::function<std::optional<std::int64_t>(std::string_view message)> workspace_scanned;
  telemetry::Channel telemetry;
  StateMachine::Listener on_state_change;  // called on the io thread after telemetry
};

class Client {
 public:
  template <class T>
  using Callback = std::function<void(Result<T>)>;

  Client(boost::asio::io_context& io, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // COLD/FAILED → spawn + initialize (WARMING). `first_python_file` (absolute or segment-relative;
  // empty = none) is opened after initialize and its diagnostics complete warm-up; it is
  // remembered for restarts and on-demand warm-ups. Resets the restart budget's pending timer.
  void start(fs::path first_python_file);
  // Graceful stop → COLD: in-flight requests fail (kUnavailable), `shutdown` request, `exit`
  // notification, then SIGTERM / SIGKILL to the group after `shutdown_grace` each, reap. After an
  // explicit stop requests do not warm the server on demand (start() again for that).
  // `done` (optional) runs on the io thread when the process is gone.
  void stop(std::function<void()> done = {});
  // FAILED-or-running → kill and spawn again now (not counted against the restart budget, which
  // it resets).
  void restart(std::string reason);
  // Memory pressure (the daemon's total cap on its language servers): a graceful stop → COLD, as
  // after `idle_timeout`, so the next request warms the server again. No-op without a process.
  void shed(std::string reason);

  State state() const;  // lock-free
  Status status() const;

  // Completes with the state once it is READY, or with the current state after `wait`. A server
  // stopped for idleness or by shed() (not by stop()) is warmed again on demand first.
  void when_ready(milliseconds wait, std::function<void(State)> done);

  // Document sync (full text). `file` is absolute (inside the segment) or segment-relative.
  // Without `text` the file is read from disk. did_open of an open document and did_change of a
  // closed one both do the right thing (didChange / didOpen). Open documents are re-opened on a
  // restarted server; beyond `max_open_documents` the least recently used is closed. Failures
  // (unreadable file, path outside the segment) are logged; they never throw.
  void did_open(fs::path file, std::optional<std::string> text = std::nullopt);
  void did_change(fs::path file, std::optional<std::string> text = std::nullopt);
  void did_close(fs::path file);

  void definition(fs::path file, Position pos, Callback<std::vector<Location>> done);
  void hover(fs::path file, Position pos, Callback<std::optional<HoverInfo>> done);
  void references(fs::path file, Position pos, bool include_declaration,
                  Callback<std::vector<Location>> done);
  // Call hierarchy (LSP 3.16): the items at a position (textDocument/prepareCallHierarchy), then
  // the calls into / out of one item (callHierarchy/incomingCalls, callHierarchy/outgoingCalls;
  // the item is passed back to the server as it sent it). Gated like definition. One entry per
// caller (callee) and one site per place: a server's repeats are merged (Pyright answers a call
// through a union of classes once per member).
  void prepare_call_hierarchy(fs::path file, Position pos,
                              Callback<std::vector<CallHierarchyItem>> done);
  void incoming_calls(const CallHierarchyItem& item, Callback<std::vector<CallHierarchyCall>> done);
  void outgoing_calls(const CallHierarchyItem& item, Callback<std::vector<CallHierarchyCall>> done);
  // workspace/symbol: the server's symbols whose name matches `query` (its own fuzzy rule).
  void workspace_symbol(std::string query, Callback<std::vector<WorkspaceSymbol>> done);
  // From the stored publishDiagnostics; if none are stored for the current version of the file,
  // opens it (when not open) and waits up to `wait` (then kTimeout).
  void diagnostics(fs::path file, milliseconds wait, Callback<std::vector<Diagnostic>> done);
  // Any request, raw result. `timeout` defaults to request_timeout.
  void request(std::string method, json::value params, Callback<json::value> done,
               std::optional<milliseconds> timeout = std::nullopt);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace trifecta::core::lsp
