// proto/jsonrpc.hpp — framing, envelopes, error codes and raw parameter reading of the wire.
//
// Framing: newline-delimited JSON-RPC 2.0 over a Unix stream socket. Each message is one compact
// JSON object followed by '\n' (JSON text never contains a raw newline). A connection carries any
// number of requests; replies carry the request's id and may arrive in any order. Requests without
// an id are notifications and get no reply. A line longer than `kMaxLineBytes` is refused with
// RequestTooLarge and the connection is closed (the stream cannot be resynchronised safely).
//
// Versioning: `kProtocolMajor.kProtocolMinor`. A client announces its protocol in `hello`; a
// different major is refused with VersionMismatch (the user must restart the daemon); a newer
// minor on either side is accepted (fields are only ever added; unknown fields are ignored).
// History: 1.0 first release; 1.1 one shape for a selector match; 1.2 `generation` in answers;
// 1.3 NOT_PYTHON, `decorated_line` in selector matches, layout and indexing facts in lsp.status;
// 1.4 `ctx.map` ranks symbols (`refs`); 1.5 `ctx.get` takes files; 1.6 `unscored` in ctx.search;
// 1.7 `corrected` in ctx.search; 1.8 pytest node ids wherever a sym:// URI goes (docs/protocol.md,
// "History").
//
// The method payloads are in daemon.hpp, ast.hpp, sym.hpp, ctx.hpp, lsp.hpp (typed structs with
// both JSON directions, codec.hpp) and the method table in catalog.hpp; protocol.hpp includes all.
//
// Failure behaviour: parsing functions return errors (never throw on malformed input).
// Thread rules: plain values and pure functions.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trifecta/proto/version.hpp"

namespace trifecta::proto {

namespace json = boost::json;

inline constexpr int kProtocolMajor = 1;
inline constexpr int kProtocolMinor = 8;
inline constexpr std::size_t kMaxLineBytes = std::size_t{16} << 20;  // 16 MiB
std::string protocol_version();  // "1.8"

// ---- method names --------------------------------------------------------------------------
namespace method {
inline constexpr std::string_view kHello = "hello";
inline constexpr std::string_view kPing = "ping";
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kShutdown = "shutdown";
inline constexpr std::string_view kAstSkeleton = "ast.skeleton";
inline constexpr std::string_view kAstSymbols = "ast.symbols";
inline constexpr std::string_view kSymResolve = "sym.resolve";
inline constexpr std::string_view kSymSearch = "sym.search";
inline constexpr std::string_view kDebugSleep = "debug.sleep";
inline constexpr std::string_view kSegmentClose = "segment.close";
inline constexpr std::string_view kCtxBuild = "ctx.build";
inline constexpr std::string_view kCtxSearch = "ctx.search";
inline constexpr std::string_view kCtxGet = "ctx.get";
inline constexpr std::string_view kCtxStatus = "ctx.status";
inline constexpr std::string_view kCtxValidate = "ctx.validate";
inline constexpr std::string_view kCtxMap = "ctx.map";
inline constexpr std::string_view kLspStatus = "lsp.status";
inline constexpr std::string_view kLspRestart = "lsp.restart";
inline constexpr std::string_view kLspDefinition = "lsp.definition";
inline constexpr std::string_view kLspHover = "lsp.hover";
inline constexpr std::string_view kLspReferences = "lsp.references";
inline constexpr std::string_view kLspDiagnostics = "lsp.diagnostics";
inline constexpr std::string_view kLspCalls = "lsp.calls";
}  // namespace method

// ---- error codes -----------------------------------------------------------------------------
// JSON-RPC's reserved codes plus Trifecta's (-32000..-32099, "server error" range). Every error
// reply also carries `error.data.name` (the stable string form below) so clients need not know
// the numbers.
enum class ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  kRequestTooLarge = -32001,
  kServerBusy = -32002,
  kShuttingDown = -32003,
  kVersionMismatch = -32004,
  kPermissionDenied = -32005,
  kNotFound = -32010,
  kPathEscape = -32011,
  kUnavailable = -32012,
  kTimeout = -32013,
  kInvalidArgument = -32014,
  kIoError = -32015,
  kTooLarge = -32016,
  kBinaryFile = -32017,
  kSourceParseError = -32018,
  kAmbiguous = -32019,
  // sym:// selector (stable names from docs/sym-uri.md)
  kInvalidUri = -32020,
  kFileNotFound = -32021,
  kSymbolNotFound = -32022,
  kAmbiguousSymbol = -32023,
  // a Python-only request (diagnostics, skeleton, navigation) on a file no language claims
  kNotPython = -32024,
};
std::string_view error_name(ErrorCode code);  // "PARSE_ERROR", "PATH_ESCAPE", ...

struct RpcError {
  ErrorCode code = ErrorCode::kInternalError;
  std::string message;
  json::object data;  // extra, machine-readable detail; `name` is always added on encode
};

// ---- envelopes -----------------------------------------------------------------------------
struct Request {
  json::value id;  // int64 or string; null for notifications
  bool notification = false;
  std::string method;
  json::object params;  // absent params are an empty object
};

// Parse one line. On failure returns the error and, when it could be read, the id.
struct ParsedRequest {
  std::optional<Request> request;
  RpcError error;
  json::value id;  // best-effort id for the error reply (null when unknown)
};
ParsedRequest parse_request(std::string_view line);

// Encoders produce one line *including* the trailing '\n'.
std::string encode_request(const json::value& id, std::string_view method, const json::object& params);
std::string encode_result(const json::value& id, const json::value& result);
std::string encode_error(const json::value& id, const RpcError& error);

// A decoded reply (client side).
struct Response {
  json::value id;
  std::optional<json::value> result;
  std::optional<RpcError> error;
};
std::optional<Response> parse_response(std::string_view line, std::string* why = nullptr);
// The same for a reply line the caller has already parsed as JSON (consumed).
std::optional<Response> parse_response_value(json::value reply, std::string* why = nullptr);

// ---- ad-hoc parameter reading ----------------------------------------------------------------
// Reads fields from a params object; the first failure is kept and names the field, e.g.
// "params.limit: expected an integer" or "params.query: missing required field". The methods'
// own params are typed structs read with `parse(params, XxxParams&)` (codec.hpp), which gives
// the same messages; Fields is for params outside the catalog.
class Fields {
 public:
  explicit Fields(const json::object& o) : o_(o) {}
  explicit Fields(json::object&&) = delete;  // it keeps a reference: no temporaries

  template <class T>
  bool required(std::string_view key, T& out) { return read(key, out, true); }
  template <class T>
  bool optional(std::string_view key, T& out) { return read(key, out, false); }

  bool ok() const { return !error_; }
  const std::optional<std::string>& error() const { return error_; }

 private:
  template <class T>
  bool read(std::string_view key, T& out, bool required);
  bool fail(std::string_view key, std::string_view what);

  const json::object& o_;
  std::optional<std::string> error_;
};

bool read_value(const json::value& v, std::string& out);
bool read_value(const json::value& v, std::int64_t& out);
bool read_value(const json::value& v, int& out);
bool read_value(const json::value& v, double& out);
bool read_value(const json::value& v, bool& out);
bool read_value(const json::value& v, std::vector<std::string>& out);
bool read_value(const json::value& v, json::object& out);
bool read_value(const json::value& v, json::value& out);
std::string_view expected_name(const std::string&);
std::string_view expected_name(const std::int64_t&);
std::string_view expected_name(const int&);
std::string_view expected_name(const double&);
std::string_view expected_name(const bool&);
std::string_view expected_name(const std::vector<std::string>&);
std::string_view expected_name(const json::object&);
std::string_view expected_name(const json::value&);

template <class T>
bool Fields::read(std::string_view key, T& out, bool required) {
  if (error_) return false;
  auto it = o_.find(key);
  if (it == o_.end() || (it->value().is_null() && !required)) {
    if (required) return fail(key, "missing required field");
    return true;
  }
  if (!read_value(it->value(), out)) return fail(key, std::string("expected ") + std::string(expected_name(out)));
  return true;
}

}  // namespace trifecta::proto
