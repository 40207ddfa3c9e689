// client/lib/render.hpp — the human-readable text of each daemon reply (what `trifecta` prints
// without --json).
//
// Every renderer takes a method's typed result (proto/: `proto::CtxSearchResult`, ...), already
// decoded by Session::call, and returns the text, never writing to a stream itself, so a frontend
// (CLI, MCP server, editor) decides where it goes. A reply that does not match the contract never
// gets here: decoding it fails first, naming the field.
//
// Thread rules: pure functions (render_locations reads source lines from disk); safe from any
// thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "trifecta/proto/catalog.hpp"
#include "trifecta/proto/protocol.hpp"

namespace trifecta::client {

struct Rendered {
  std::string out;      // the text for stdout
  std::string err;      // per-target problems the reply reports (ctx get's errors), for stderr
  bool failed = false;  // the reply reports a failed target: the command did not fully succeed
};

// `ping`: the daemon's pid and the round trip measured by the caller.
Rendered render_ping(const proto::PingResult& result, double elapsed_ms);
// `daemon start`: whether it was already running, its pid, the socket.
Rendered render_daemon_start(const proto::PingResult& result, bool was_running,
                             const std::filesystem::path& socket);
// `status`; a daemon of another version or protocol than this client gets a `note` line.
Rendered render_status(const proto::StatusResult& result);
Rendered render_segment_close(const proto::SegmentCloseResult& result,
                              const std::string& segment);          // segment.close
Rendered render_skeleton(const proto::AstSkeletonResult& result);   // ast.skeleton
Rendered render_symbols(const proto::AstSymbolsResult& result);     // ast.symbols
Rendered render_resolution(const proto::SymResolveResult& result);  // sym.resolve
// sym.search: a header line, then per match `file:line:col  kind  qualname+signature  [match]`
// and its sym:// URI on the next line.
Rendered render_sym_search(const proto::SymSearchResult& result);
// lsp.calls: the root, then `callers:` / `callees:` with one line per edge (indented by depth:
// `file:line  kind qualname  (N calls: line, line, ...)`).
Rendered render_calls(const proto::LspCallsResult& result);
Rendered render_lsp_status(const proto::LspStatusResult& result);   // lsp.status
Rendered render_build(const proto::CtxBuildResult& result);         // ctx.build
Rendered render_ctx_status(const proto::CtxStatusResult& result);   // ctx.status
// ctx.search. `path_glob` is the --path filter that was given (empty: none); with no hits it
// adds a hint about directory globs.
Rendered render_search(const proto::CtxSearchResult& result, const std::string& path_glob = {});
// ctx.get. Failed targets go to `err` and set `failed`.
Rendered render_get(const proto::CtxGetResult& result);
Rendered render_validate(const proto::CtxValidateResult& result);  // ctx.validate
// ctx.map: the map, then a summary line; when the map was cut it ends with `more` (how to see
// more: the CLI's flags by default, a tool's arguments through MCP). A path (or segment) without
// Python files gives one line that says so.
Rendered render_map(const proto::CtxMapResult& result,
                    std::string_view more = "a larger --budget or a narrower path");
// lsp.definition / lsp.references: one line per location with its source line, read from
// `segment` (or the absolute path of an external location).
Rendered render_locations(const proto::LspDefinitionResult& result,
                          const std::filesystem::path& segment);
Rendered render_locations(const proto::LspReferencesResult& result,
                          const std::filesystem::path& segment);
Rendered render_hover(const proto::LspHoverResult& result);              // lsp.hover
Rendered render_diagnostics(const proto::LspDiagnosticsResult& result);  // lsp.diagnostics

// An error reply, for stderr: "trifecta: NAME: message", plus the hint, and, for a selector
// error (`proto::SelectorErrorData` in error.data), the candidates of an ambiguous selector and
// the suggestions. Details that do not decode are named in one line; the error itself is still
// reported.
std::string render_error(const proto::RpcError& error);

// "1.5 KiB"-style sizes.
std::string format_bytes(double bytes);

}  // namespace trifecta::client
