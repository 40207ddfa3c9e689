// client/lib/render.hpp — the human-readable text of each daemon reply (what `trifecta` prints
// without --json).
//
// Every renderer takes a method's `result` (and what else it needs) and returns the text, never
// writing to a stream itself, so a frontend (CLI, MCP server, editor) decides where it goes. A
// renderer reads the reply only through the checked accessors of json_access.hpp: a missing field
// or a wrong type yields `Rendered::malformed` ("result.hits[0].path: missing") and no partial
// text, never an exception or std::terminate.
//
// In a later step the renderers take the typed proto/ Result structs instead of JSON.
//
// Thread rules: pure functions (render_locations reads source lines from disk); safe from any
// thread.
#pragma once

#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "trifecta/proto/protocol.hpp"

namespace trifecta::client {

struct Rendered {
  std::string out;      // the text for stdout
  std::string err;      // per-target problems the reply reports (ctx get's errors), for stderr
  bool failed = false;  // the reply reports a failed target: the command did not fully succeed
  // Set when the reply is malformed: where and what ("result.ok: missing"). out/err are then empty.
  std::optional<std::string> malformed;
};

// `ping`: the daemon's pid and the round trip measured by the caller.
Rendered render_ping(const boost::json::value& result, double elapsed_ms);
// `daemon start`: whether it was already running, its pid, the socket.
Rendered render_daemon_start(const boost::json::value& ping_result, bool was_running,
                             const std::filesystem::path& socket);
Rendered render_status(const boost::json::value& result);      // daemon.status
Rendered render_skeleton(const boost::json::value& result);    // ast.skeleton
Rendered render_symbols(const boost::json::value& result);     // ast.symbols
Rendered render_resolution(const boost::json::value& result);  // sym.resolve
Rendered render_lsp_status(const boost::json::value& result);  // lsp.status
Rendered render_build(const boost::json::value& result);       // ctx.build
Rendered render_ctx_status(const boost::json::value& result);  // ctx.status
// ctx.search. `path_glob` is the --path filter that was given (empty: none); with no hits it
// adds a hint about directory globs.
Rendered render_search(const boost::json::value& result, const std::string& path_glob = {});
// ctx.get. Failed targets go to `err` and set `failed`.
Rendered render_get(const boost::json::value& result);
Rendered render_validate(const boost::json::value& result);  // ctx.validate
// lsp.definition / lsp.references: one line per location with its source line, read from
// `segment` (or the absolute path of an external location).
Rendered render_locations(const boost::json::value& result, const std::filesystem::path& segment);
Rendered render_hover(const boost::json::value& result);        // lsp.hover
Rendered render_diagnostics(const boost::json::value& result);  // lsp.diagnostics

// An error reply, for stderr: "trifecta: NAME: message", plus the hint, the candidates of an
// ambiguous selector and the suggestions the daemon sent. A malformed `data` payload degrades to
// the name and message (the error itself is still reported).
std::string render_error(const proto::RpcError& error);

// "1.5 KiB"-style sizes.
std::string format_bytes(double bytes);

}  // namespace trifecta::client
