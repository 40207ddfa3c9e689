// client/mcp/tools.hpp — the MCP tools of `trifecta mcp`: their names, schemas, annotations and
// what each one asks the daemon.
//
// Tools (names are a contract: agents' prompts and our checks use them): search, get,
// find_symbol, outline, definition, hover, references, diagnostics, status; plus `debug_sleep`
// (debug.sleep, for cancellation tests) only when the server runs with --debug-tools.
//
// Each tool's inputSchema takes its parameter descriptions from the catalog (schema.hpp,
// input_properties) plus the MCP-side arguments (`root`, `budget`, `cursor`); its outputSchema
// is the daemon method's Result schema (output_schema<R>()) plus the fields every answer carries:
// `root` (the segment), `backend` (lsp | ast | lsp+ast | index | daemon: who answered),
// `generation` (the segment's index generation), `truncated` (cut by the budget) and `next_cursor`
// (pass it back as `cursor` to continue). The text rendering is client/lib/render's, with a footer
// saying the same.
//
// Failure behaviour: bad arguments, a daemon error reply (a missing file, an unknown symbol) and
// an unreachable daemon all give an outcome with is_error set and a readable message (the agent
// can correct itself); nothing throws out of run_tool.
//
// Thread rules: the table is immutable after first use (thread-safe static init); run_tool may
// run on many threads at once, each with its own ToolEnv.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "session.hpp"

namespace trifecta::mcp {

namespace json = boost::json;

// One daemon request for a tool: `params` already carry `segment` when the method needs one.
// `notify` (may be empty) receives the daemon's notifications while the call waits.
using DaemonCall = std::function<std::optional<client::Reply>(
    std::string_view method, const json::object& params, client::ClientError* err,
    const client::NotificationFn& notify)>;

// Progress of a long wait (first index build): done/total files, and a line for humans.
using ProgressFn = std::function<void(double done, double total, const std::string& message)>;

struct ToolEnv {
  DaemonCall call;
  std::string root;                // the segment this call is about
  std::vector<std::string> roots;  // every segment of the session (status lists them)
  std::int64_t default_budget = 8000;
  ProgressFn progress;  // set when the client asked for progress (a progressToken)
};

struct ToolOutcome {
  json::object structured;  // empty when is_error
  std::string text;
  bool is_error = false;
};

struct ToolSpec {
  std::string name;
  std::string title;
  std::string description;
  json::object input_schema;
  json::object output_schema;
  bool idempotent = true;
  bool uses_index = false;  // may wait for a first index build (progress applies)
  ToolOutcome (*run)(ToolEnv& env, const json::object& args) = nullptr;
};

// Every tool, in documentation order; with_debug adds debug_sleep.
const std::vector<ToolSpec>& tool_table(bool with_debug);
const ToolSpec* find_tool(std::string_view name, bool with_debug);

// Run one tool; never throws.
ToolOutcome run_tool(const ToolSpec& tool, ToolEnv& env, const json::object& args);

// The root a call is about: `root` argument (a root, a path inside one, or a root's directory
// name), else the root that contains an absolute `path` argument, else the first root.
// nullopt + `error` when `root` names none of them.
std::optional<std::string> choose_root(const std::vector<std::string>& roots,
                                       const json::object& args, std::string* error);

// sym:// URIs and chunk ids as MCP resources: read `uri` (sym://python/..., chunk://<id>, or a
// bare chunk id) as an excerpt. nullopt when no root knows it (`error` says why).
struct ResourceText {
  std::string uri;
  std::string mime_type;
  std::string text;
};
std::optional<ResourceText> read_resource(ToolEnv& env, const std::string& uri, std::string* error);

}  // namespace trifecta::mcp
