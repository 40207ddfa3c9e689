// proto/lsp.hpp — payloads of lsp.status and the position methods lsp.definition, lsp.hover,
// lsp.references, lsp.diagnostics. Every position answer says which backend answered: "lsp"
// (Pyright, READY), "ast" (the fallback, with `fallback_reason`) or "lsp+ast" (1.3: Pyright READY
// and the AST's answer added to it, with `merge_reason`); the AST adds its rule and, when it
// could not answer, `reason`. Locations say their `source` and `confidence` (1.3).
//
// Thread rules: plain values. Decode with `decode(v, out)` (codec.hpp), never throws.
#pragma once

#include "trifecta/proto/codec.hpp"

namespace trifecta::proto {

using LspStatusParams = NoParams;
struct LspStatusResult {
  bool enabled = false;
  bool available = false;  // a client exists for the segment
  std::string state;       // COLD | WARMING | READY | FAILED | UNAVAILABLE
  std::string reason;
  // Present when available:
  std::optional<std::string> binary;
  std::optional<std::string> binary_name;
  std::optional<std::string> version;
  std::optional<std::string> source;
  std::optional<std::int64_t> pid;
  std::optional<double> uptime_ms;
  std::optional<double> state_ms;
  std::optional<std::int64_t> restarts;
  std::optional<std::int64_t> rss_bytes;
  std::optional<std::int64_t> pending;
  std::optional<std::int64_t> open_documents;
  std::optional<std::int64_t> server_requests_answered;
  std::optional<std::int64_t> timeouts;
  std::optional<std::string> last_stderr;
  std::optional<double> next_retry_ms;  // FAILED with a restart scheduled: in how long
  // 1.3: time to READY vs time in state, and work the server still does after READY.
  std::optional<double> time_to_ready_ms;
  std::optional<bool> indexing;
  std::optional<std::string> indexing_title;
  std::optional<double> indexing_ms;
  std::optional<double> analysis_done_ms;
  std::optional<std::int64_t> workspace_files;
  // 1.3: the segment's Python layout (always present, also when unavailable).
  std::optional<std::string> layout;
  std::optional<std::string> layout_package;
  std::optional<std::vector<std::string>> extra_paths;
  std::optional<std::vector<std::string>> layout_notes;
  std::optional<std::string> imports_unresolved;
};
template <class V>
void describe(V& v, LspStatusResult& s) {
  v.req("enabled", s.enabled, "LSP is enabled for the daemon");
  v.req("available", s.available, "a language server client exists for the segment");
  v.req("state", s.state, "COLD | WARMING | READY | FAILED | UNAVAILABLE");
  v.req("reason", s.reason, "reason of the last transition (or why unavailable)");
  v.opt("binary", s.binary, "launcher path");
  v.opt("binary_name", s.binary_name, "launcher file name");
  v.opt("version", s.version, "server version");
  v.opt("source", s.source,
        "how the server was found: env (TRIFECTA_PYRIGHT), config (--pyright), user (trifecta "
        "setup-pyright), project (the build tree's set-up), path (PATH)");
  v.opt("pid", s.pid, "server process id (-1: none)");
  v.opt("uptime_ms", s.uptime_ms, "since the process was spawned");
  v.opt("state_ms", s.state_ms, "time in the current state");
  v.opt("restarts", s.restarts, "automatic restarts");
  v.opt("rss_bytes", s.rss_bytes, "server resident memory");
  v.opt("pending", s.pending, "requests waiting for the server");
  v.opt("open_documents", s.open_documents, "documents open in the server");
  v.opt("server_requests_answered", s.server_requests_answered, "server-to-client requests answered");
  v.opt("timeouts", s.timeouts, "requests timed out");
  v.opt("last_stderr", s.last_stderr, "the server's last stderr lines");
  v.opt("next_retry_ms", s.next_retry_ms,
        "FAILED: the next automatic restart is tried in this many ms (the backoff is capped, "
        "retries never stop)");
  v.opt("time_to_ready_ms", s.time_to_ready_ms,
        "spawn to READY of the current process; 0 until READY (1.3)");
  v.opt("indexing", s.indexing, "the server reports work in progress ($/progress), e.g. still analysing after READY (1.3)");
  v.opt("indexing_title", s.indexing_title, "what that work says it is (1.3)");
  v.opt("indexing_ms", s.indexing_ms, "how long that work has run (1.3)");
  v.opt("analysis_done_ms", s.analysis_done_ms, "spawn to the end of the first reported work; 0: not yet (1.3)");
  v.opt("workspace_files", s.workspace_files, "source files the server says it found in the workspace; -1: not reported yet (1.3)");
  v.opt("layout", s.layout, "plain | package_root | src | declared (1.3)");
  v.opt("layout_package", s.layout_package, "package_root: the package the segment root is (1.3)");
  v.opt("extra_paths", s.extra_paths, "directories given to the server as extraPaths (1.3)");
  v.opt("layout_notes", s.layout_notes, "what the layout detection found and did (1.3)");
  v.opt("imports_unresolved", s.imports_unresolved, "why the tree's own imports cannot resolve (1.3)");
}

// lsp.restart: stop the segment's language server (if running) and start it again now; the
// automatic restart backoff starts afresh. Answers with the status right after the request.
using LspRestartParams = NoParams;
using LspRestartResult = LspStatusResult;

// Params of lsp.definition, lsp.hover, lsp.references and lsp.diagnostics: a position by
// path+line+column, or a symbol by sym:// URI (diagnostics needs only the file).
struct LspPositionParams {
  std::string path;
  std::string uri;
  std::int64_t line = 0;
  std::int64_t column = 0;
  bool include_declaration = true;
  std::int64_t wait_ready_ms = 0;
  bool confirmed_only = false;  // references (1.3)
};
template <class V>
void describe(V& v, LspPositionParams& s) {
  v.opt("path", s.path, "file (relative to the segment, or absolute inside it); with line and column");
  v.opt("uri", s.uri,
        "sym:// URI or pytest node id (1.8) instead of path/line/column (points at the symbol's "
        "name)");
  v.opt("line", s.line, "1-based line (with path)");
  v.opt("column", s.column, "1-based column in code points (with path)");
  v.opt("include_declaration", s.include_declaration, "references: include the definition");
  v.opt("wait_ready_ms", s.wait_ready_ms, "wait up to this long for the server to be READY, 0..60000");
  v.opt("confirmed_only", s.confirmed_only,
        "references: Pyright's set only, without the AST candidates it missed (1.3)");
}
using LspDefinitionParams = LspPositionParams;
using LspHoverParams = LspPositionParams;
using LspReferencesParams = LspPositionParams;
using LspDiagnosticsParams = LspPositionParams;

struct Location {
  std::string path;  // segment-relative; absolute when external
  bool external = false;
  std::int64_t line = 0;
  std::int64_t column = 0;
  std::int64_t end_line = 0;
  std::int64_t end_column = 0;
  // 1.3: merged answers (lsp.definition, lsp.references while Pyright is READY and the AST added
  // to its answer, and every lsp.references answer).
  std::optional<std::string> source;          // lsp | ast
  std::optional<double> confidence;           // 0..1 (lib/service/nav_merge.hpp)
  std::optional<std::string> status;          // references: confirmed | candidate
  std::optional<std::string> receiver_class;  // references: a candidate's resolved class
};
template <class V>
void describe(V& v, Location& s) {
  v.req("path", s.path, "segment-relative path; absolute when external");
  v.req("external", s.external, "outside the segment (stdlib, typeshed, site-packages)");
  v.req("line", s.line, "1-based start line");
  v.req("column", s.column, "1-based start column");
  v.req("end_line", s.end_line, "end line");
  v.req("end_column", s.end_column, "end column (exclusive)");
  v.opt("source", s.source, "which side found it: lsp (Pyright) | ast (the fallback) (1.3)");
  v.opt("confidence", s.confidence, "0..1, the merge rule's rank of this location (1.3)");
  v.opt("status", s.status,
        "references: confirmed (Pyright) | candidate (AST/lexical, Pyright did not give it) (1.3)");
  v.opt("receiver_class", s.receiver_class,
        "references: the class a candidate's receiver resolved to, when known (1.3)");
}
constexpr std::string_view wire_name(const Location*) { return "Location"; }

struct Diagnostic {
  std::int64_t line = 0;
  std::int64_t column = 0;
  std::int64_t end_line = 0;
  std::int64_t end_column = 0;
  std::string severity;  // error | warning | information | hint
  std::string message;
  std::string code;
  std::string source;
};
template <class V>
void describe(V& v, Diagnostic& s) {
  v.req("line", s.line, "1-based line");
  v.req("column", s.column, "1-based column");
  v.req("end_line", s.end_line, "end line");
  v.req("end_column", s.end_column, "end column");
  v.req("severity", s.severity, "error | warning | information | hint");
  v.req("message", s.message, "message");
  v.req("code", s.code, "rule code (may be empty)");
  v.req("source", s.source, "who reported it (Pyright, syntax)");
}
constexpr std::string_view wire_name(const Diagnostic*) { return "Diagnostic"; }

// What every position answer starts with.
struct LspAnswer {
  std::string backend;    // lsp | ast | lsp+ast (1.3: Pyright answered and the AST added to it)
  std::string lsp_state;  // the server's state when the request was routed
  std::optional<std::string> fallback_reason;  // backend ast: why
  std::optional<std::int64_t> generation;      // the index generation answered at (1.2)
  // 1.3: Pyright answered (READY) but the AST was asked too: lsp_empty | lsp_external | lsp_unknown.
  std::optional<std::string> merge_reason;
  std::string file;
  std::int64_t line = 0;
  std::int64_t column = 0;
  std::optional<std::string> layout_warning;  // imports of the tree cannot resolve: why (1.3)
};
template <class V>
void describe(V& v, LspAnswer& s) {
  v.req("backend", s.backend, "lsp | ast | lsp+ast (Pyright answered, the AST added to it: 1.3)");
  v.req("lsp_state", s.lsp_state, "the server's state when routed");
  v.opt("fallback_reason", s.fallback_reason, "backend ast: why the server did not answer");
  v.opt("generation", s.generation, "the segment's index generation when answered (1.2)");
  v.opt("merge_reason", s.merge_reason,
        "why the AST was asked although Pyright answered: lsp_empty | lsp_external | lsp_unknown "
        "(1.3)");
  v.req("file", s.file, "file asked, relative to the segment");
  v.req("line", s.line, "position asked (line)");
  v.req("column", s.column, "position asked (column)");
  v.opt("layout_warning", s.layout_warning,
        "the segment's layout keeps its own imports from resolving, and why (1.3)");
}

struct LspDefinitionResult : LspAnswer {
  std::vector<Location> locations;
  std::optional<std::string> name;    // ast
  std::optional<std::string> rule;    // ast: how it was found
  std::optional<std::string> reason;  // ast: why nothing was found
};
template <class V>
void describe(V& v, LspDefinitionResult& s) {
  describe(v, static_cast<LspAnswer&>(s));
  v.req("locations", s.locations, "definitions");
  v.opt("name", s.name, "ast: the name under the cursor");
  v.opt("rule", s.rule, "ast: the rule that found it");
  v.opt("reason", s.reason, "ast: why nothing was found");
}

struct LspHoverResult : LspAnswer {
  std::optional<std::string> contents;  // null when nothing to show
  std::optional<std::string> kind;      // markdown | plaintext
  std::optional<std::string> rule;      // ast
  std::optional<std::string> reason;    // ast, when contents is null
  std::optional<std::string> lsp_contents;  // lsp+ast: Pyright's own (Unknown) hover (1.3)
  std::optional<bool> external;             // lsp: the symbol is defined outside the segment
  std::optional<std::string> definition_path;  // with external: the definition's real path
};
template <class V>
void describe(V& v, LspHoverResult& s) {
  describe(v, static_cast<LspAnswer&>(s));
  v.nullable("contents", s.contents, "hover text; null when nothing to show");
  v.opt("kind", s.kind, "markdown | plaintext");
  v.opt("rule", s.rule, "ast: the rule used");
  v.opt("reason", s.reason, "ast: why there is nothing to show");
  v.opt("lsp_contents", s.lsp_contents, "lsp+ast: Pyright's hover, whose type was Unknown (1.3)");
  v.opt("external", s.external, "lsp: true when the symbol is defined outside the segment (symlinks resolved)");
  v.opt("definition_path", s.definition_path, "with external: the real absolute path of that definition");
}

struct LspReferencesResult : LspAnswer {
  std::vector<Location> locations;
  std::optional<std::string> name;            // ast
  std::optional<bool> truncated;              // ast: stopped at the limit
  std::optional<std::int64_t> files_read;     // ast
  std::optional<std::int64_t> confirmed;      // 1.3: locations Pyright gave
  std::optional<std::int64_t> candidates;     // 1.3: AST/lexical locations Pyright did not give
  std::optional<std::int64_t> filtered;       // 1.3: candidates dropped by the class check
};
template <class V>
void describe(V& v, LspReferencesResult& s) {
  describe(v, static_cast<LspAnswer&>(s));
  v.req("locations", s.locations, "references");
  v.opt("name", s.name, "ast: the name under the cursor");
  v.opt("truncated", s.truncated, "ast: stopped at the limit");
  v.opt("files_read", s.files_read, "ast: files scanned");
  v.opt("confirmed", s.confirmed, "locations Pyright confirmed (status confirmed) (1.3)");
  v.opt("candidates", s.candidates, "AST/lexical locations Pyright did not give (1.3)");
  v.opt("filtered", s.filtered,
        "candidates left out: the AST resolved them to an unrelated class or symbol (1.3)");
}

struct LspDiagnosticsResult : LspAnswer {
  std::vector<Diagnostic> diagnostics;
};
template <class V>
void describe(V& v, LspDiagnosticsResult& s) {
  describe(v, static_cast<LspAnswer&>(s));
  v.req("diagnostics", s.diagnostics, "diagnostics of the file");
}

// lsp.calls (1.3): the call hierarchy of the function at a position.
struct LspCallsParams : LspPositionParams {
  std::string direction = "both";
  std::int64_t depth = 1;
};
template <class V>
void describe(V& v, LspCallsParams& s) {
  describe(v, static_cast<LspPositionParams&>(s));
  v.opt("direction", s.direction, "incoming | outgoing | both (default)");
  v.opt("depth", s.depth, "levels of callers / callees, 1..5 (default 1)");
}

struct CallItem {
  std::string name;
  std::string qualname;
  std::string kind;
  std::string file;
  std::int64_t line = 0;
  std::int64_t end_line = 0;
  std::int64_t column = 0;
  std::int64_t end_column = 0;
  std::string signature;
  std::string uri;
  std::optional<bool> external;  // 1.3: an lsp item outside the segment
};
template <class V>
void describe(V& v, CallItem& s) {
  v.req("name", s.name, "the function's name (a module: its dotted name)");
  v.req("qualname", s.qualname, "qualified name inside its module (\"\" for a module)");
  v.req("kind", s.kind, "function | method | class | module");
  v.req("file", s.file, "file relative to the segment root");
  v.req("line", s.line, "the def/class line (a module: 1)");
  v.req("end_line", s.end_line, "last line of its body");
  v.req("column", s.column, "1-based code-point column of the name (0: unknown)");
  v.req("end_column", s.end_column, "end of the name (exclusive)");
  v.req("signature", s.signature, "signature text (may be empty)");
  v.req("uri", s.uri, "its sym:// URI (\"\" for a definition local to a function)");
  v.opt("external", s.external,
        "true: outside the segment (an lsp callee in the stdlib, typeshed, site-packages); not "
        "expanded further (1.3)");
}
constexpr std::string_view wire_name(const CallItem*) { return "CallItem"; }

struct CallEdge {
  CallItem item;
  std::vector<Location> sites;
  std::int64_t depth = 1;
  std::string parent;
  std::string rule;
  std::string source;
};
template <class V>
void describe(V& v, CallEdge& s) {
  v.req("item", s.item, "incoming: the caller; outgoing: the callee");
  v.req("sites", s.sites, "the calls: where the callee's name is");
  v.req("depth", s.depth, "1: a direct caller/callee of the root");
  v.req("parent", s.parent, "depth > 1: the file:qualname this edge expands (else \"\")");
  v.req("rule", s.rule,
        "ast: incoming `by name`, outgoing the definition rule that resolved the callee; lsp: "
        "`callHierarchy`");
  v.req("source", s.source, "who found it: lsp (Pyright's callHierarchy) | ast");
}
constexpr std::string_view wire_name(const CallEdge*) { return "CallEdge"; }

struct LspCallsResult : LspAnswer {
  std::optional<CallItem> root;
  std::vector<CallEdge> incoming;
  std::vector<CallEdge> outgoing;
  std::int64_t unresolved = 0;
  bool truncated = false;
  std::optional<std::string> reason;
};
template <class V>
void describe(V& v, LspCallsResult& s) {
  describe(v, static_cast<LspAnswer&>(s));
  v.opt("root", s.root, "the function at the position (absent when there is none)");
  v.req("incoming", s.incoming, "callers, breadth first");
  v.req("outgoing", s.outgoing, "callees, breadth first");
  v.req("unresolved", s.unresolved, "outgoing calls whose callee is not a function of the segment");
  v.req("truncated", s.truncated, "stopped at 200 edges");
  v.opt("reason", s.reason, "why there is no root");
}

}  // namespace trifecta::proto
