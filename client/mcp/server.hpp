// client/mcp/server.hpp — `trifecta mcp`: a Model Context Protocol server over stdio, a thin
// frontend to the shared trifectad (the daemon is auto-started like the CLI does).
//
// Transport: newline-delimited JSON-RPC 2.0 on `in_fd` / `out_fd` (stdin / stdout). Nothing but
// protocol messages is written to out_fd; logs go to stderr. Revisions: 2025-11-25 (current),
// 2025-06-18, 2025-03-26, 2024-11-05; the client's revision is answered when supported, else the
// latest. Fields a revision lacks are left out (tool `title`, `outputSchema` and
// `structuredContent` before 2025-06-18; tool `annotations` and the progress `message` before
// 2025-03-26).
//
// Methods: initialize, ping, tools/list, tools/call, resources/list (empty: see docs/mcp.md),
// resources/templates/list, resources/read, logging/setLevel; notifications initialized,
// cancelled and roots/list_changed. The server asks the client `roots/list` when the client
// declared the `roots` capability and no -s was given.
//
// Concurrency: one reader thread (the caller's) parses lines and answers quick methods inline;
// each tools/call and resources/read runs on its own thread with its own daemon connection
// (taken from a pool), so a slow call never blocks the next message. `notifications/cancelled`
// closes that call's connection (the daemon drops the request) and no answer is sent.
//
// Failure behaviour: the server never dies on input. Unparseable JSON → -32700; not a JSON-RPC
// request, a line over `max_line_bytes`, a batch, or a request before initialize → -32600; an
// unknown method → -32601; bad params → -32602; an unknown resource → -32002; a call beyond
// `max_in_flight` running ones (or when no thread can be started) → -32603. Tool failures
// (bad arguments, daemon errors) are tool results with isError. A lost daemon is reconnected
// (and restarted, unless spawn is off) once per call before the call fails. End of input: calls
// still running get `exit_grace` to answer, then the server returns 0.
//
// Thread rules: run() blocks the calling thread until end of input; one Server per process.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace trifecta::mcp {

struct ServerOptions {
  std::filesystem::path socket;                // empty: client::default_socket_path()
  bool spawn = true;                           // auto-start trifectad
  std::chrono::milliseconds timeout{120000};   // deadline of one daemon request
  std::vector<std::string> roots;              // -s: fixed roots (client roots are then not asked)
  std::filesystem::path cwd;                   // fallback root: its enclosing git work tree
  std::int64_t budget = 8000;                  // default token budget per tool result
  std::size_t max_line_bytes = 8u << 20;       // longer input lines are refused (-32600)
  bool debug_tools = false;                    // list debug_sleep
  std::size_t max_in_flight = 64;              // more concurrent calls are refused (-32603)
  std::chrono::milliseconds roots_wait{5000};  // how long a call waits for the client's roots
  std::chrono::milliseconds exit_grace{2000};  // at end of input, for calls still running
  int in_fd = 0;
  int out_fd = 1;
};

// Serve until end of input. Returns the process exit code (0).
int run_server(const ServerOptions& options);

// Revision negotiation: `asked` when supported, else the latest.
std::string negotiate_version(const std::string& asked);

}  // namespace trifecta::mcp
