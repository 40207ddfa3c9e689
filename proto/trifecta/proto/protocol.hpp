// proto/protocol.hpp — the wire contract between trifectad and its clients.
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
//
// This module depends on Boost.JSON only. Conversions live next to the structs (tag_invoke);
// parameter parsing goes through `Fields`, which names the offending field on failure.
//
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
inline constexpr int kProtocolMinor = 0;
inline constexpr std::size_t kMaxLineBytes = std::size_t{16} << 20;  // 16 MiB
std::string protocol_version();  // "1.0"

// ---- method names --------------------------------------------------------------------------
namespace method {
inline constexpr std::string_view kHello = "hello";
inline constexpr std::string_view kPing = "ping";
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kShutdown = "shutdown";
inline constexpr std::string_view kAstSkeleton = "ast.skeleton";
inline constexpr std::string_view kAstSymbols = "ast.symbols";
inline constexpr std::string_view kSymResolve = "sym.resolve";
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

// ---- typed parameter reading --------------------------------------------------------------
// Reads fields from a params object; the first failure is kept and names the field, e.g.
// "params.limit: expected an integer" or "params.query: missing required field".
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

// ---- method payloads ------------------------------------------------------------------------
// Every request may carry `segment` (a directory path); the daemon then records the request in
// that segment's telemetry. Parsed by the dispatcher, not by each handler.

struct HelloParams {
  std::string client_name;
  std::string client_version;
  std::string protocol;  // "major.minor"
};
std::optional<std::string> parse(const json::object& params, HelloParams& out);

struct HelloResult {
  std::string daemon_version;
  std::string protocol;
  std::int64_t pid = 0;
  std::vector<std::string> capabilities;  // method names served
};
void tag_invoke(json::value_from_tag, json::value& v, const HelloResult& r);
HelloResult tag_invoke(json::value_to_tag<HelloResult>, const json::value& v);

struct PingResult {
  bool pong = true;
  std::int64_t pid = 0;
};
void tag_invoke(json::value_from_tag, json::value& v, const PingResult& r);

struct SegmentStatus {
  std::string segment_id;
  std::string root;    // absolute; this reply goes only to the same user over a 0600 socket
  std::string state;   // index build: "idle" | "building" | "ready" | "failed"
  std::string lsp_state;  // COLD | WARMING | READY | FAILED | UNAVAILABLE
  double opened_s_ago = 0;
  std::int64_t requests = 0;
  std::int64_t memory_bytes = 0;  // what the open segment costs (index, caches, Pyright RSS)
};
void tag_invoke(json::value_from_tag, json::value& v, const SegmentStatus& s);

struct StatusResult {
  std::string daemon_version;
  std::string protocol;
  std::int64_t pid = 0;
  double uptime_s = 0;
  std::int64_t rss_bytes = 0;
  std::int64_t connections = 0;
  std::int64_t in_flight = 0;
  std::int64_t requests_total = 0;
  std::int64_t workers = 0;
  std::string socket;
  bool socket_activated = false;
  double idle_timeout_s = 0;
  std::vector<SegmentStatus> segments;
  json::object telemetry;  // {attempted, dropped, lines_written, write_errors, enabled}
};
void tag_invoke(json::value_from_tag, json::value& v, const StatusResult& r);

struct ShutdownResult {
  bool stopping = true;
};
void tag_invoke(json::value_from_tag, json::value& v, const ShutdownResult& r);

}  // namespace trifecta::proto
