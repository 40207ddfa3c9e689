#include "trifecta/proto/jsonrpc.hpp"

#include "util/json_text.hpp"
#include "util/utf8.hpp"

namespace trifecta::proto {

std::string protocol_version() {
  return std::to_string(kProtocolMajor) + "." + std::to_string(kProtocolMinor);
}

std::string_view error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kParseError: return "PARSE_ERROR";
    case ErrorCode::kInvalidRequest: return "INVALID_REQUEST";
    case ErrorCode::kMethodNotFound: return "METHOD_NOT_FOUND";
    case ErrorCode::kInvalidParams: return "INVALID_PARAMS";
    case ErrorCode::kInternalError: return "INTERNAL_ERROR";
    case ErrorCode::kRequestTooLarge: return "REQUEST_TOO_LARGE";
    case ErrorCode::kServerBusy: return "SERVER_BUSY";
    case ErrorCode::kShuttingDown: return "SHUTTING_DOWN";
    case ErrorCode::kVersionMismatch: return "VERSION_MISMATCH";
    case ErrorCode::kPermissionDenied: return "PERMISSION_DENIED";
    case ErrorCode::kNotFound: return "NOT_FOUND";
    case ErrorCode::kPathEscape: return "PATH_ESCAPE";
    case ErrorCode::kUnavailable: return "UNAVAILABLE";
    case ErrorCode::kTimeout: return "TIMEOUT";
    case ErrorCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::kIoError: return "IO_ERROR";
    case ErrorCode::kTooLarge: return "TOO_LARGE";
    case ErrorCode::kBinaryFile: return "BINARY_FILE";
    case ErrorCode::kSourceParseError: return "SOURCE_PARSE_ERROR";
    case ErrorCode::kAmbiguous: return "AMBIGUOUS";
    case ErrorCode::kInvalidUri: return "INVALID_URI";
    case ErrorCode::kFileNotFound: return "FILE_NOT_FOUND";
    case ErrorCode::kSymbolNotFound: return "SYMBOL_NOT_FOUND";
    case ErrorCode::kAmbiguousSymbol: return "AMBIGUOUS_SYMBOL";
    case ErrorCode::kNotPython: return "NOT_PYTHON";
  }
  return "INTERNAL_ERROR";
}

namespace {

bool valid_id(const json::value& id) { return id.is_int64() || id.is_uint64() || id.is_string(); }

}  // namespace

ParsedRequest parse_request(std::string_view line) {
  ParsedRequest out;
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec) {
    // JSON text is UTF-8 (RFC 8259 §8.1); Boost.JSON calls a byte outside it a syntax error, so
    // say which byte it is.
    const std::string where = core::utf8::first_invalid(line);
    out.error = {ErrorCode::kParseError,
                 "request is not valid JSON: " + (where.empty() ? ec.message() : "not UTF-8 (" + where + ")"),
                 {}};
    return out;
  }
  if (!v.is_object()) {
    out.error = {ErrorCode::kInvalidRequest, "request must be a JSON object", {}};
    return out;
  }
  json::object& o = v.get_object();
  Request r;
  if (auto* id = o.if_contains("id")) {
    if (!valid_id(*id)) {
      out.error = {ErrorCode::kInvalidRequest, "request.id must be an integer or a string", {}};
      return out;
    }
    r.id = *id;
    out.id = *id;
  } else {
    r.notification = true;
  }
  auto* ver = o.if_contains("jsonrpc");
  if (!ver || !ver->is_string() || ver->get_string() != "2.0") {
    out.error = {ErrorCode::kInvalidRequest, "request.jsonrpc must be \"2.0\"", {}};
    return out;
  }
  auto* m = o.if_contains("method");
  if (!m || !m->is_string() || m->get_string().empty()) {
    out.error = {ErrorCode::kInvalidRequest, "request.method must be a non-empty string", {}};
    return out;
  }
  r.method = std::string(m->get_string());
  if (auto* p = o.if_contains("params"); p && !p->is_null()) {
    if (!p->is_object()) {
      out.error = {ErrorCode::kInvalidParams, "params must be an object", {}};
      return out;
    }
    r.params = std::move(p->get_object());
  }
  out.request = std::move(r);
  return out;
}

std::string encode_request(const json::value& id, std::string_view method, const json::object& params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  if (!id.is_null()) o["id"] = id;
  o["method"] = method;
  o["params"] = params;
  std::string s = core::to_json_text(o);
  s += '\n';
  return s;
}

std::string encode_result(const json::value& id, const json::value& result) {
  // The envelope written around the result as it stands (the text of a json::object of the
  // three members, in this order), rather than a deep copy of the result into one.
  std::string s = "{\"jsonrpc\":\"2.0\",\"id\":";
  s.reserve(1024);
  core::append_json(s, id);
  s += ",\"result\":";
  core::append_json(s, result);
  s += "}\n";
  return s;
}

std::string encode_error(const json::value& id, const RpcError& error) {
  json::object err;
  err["code"] = static_cast<int>(error.code);
  err["message"] = error.message;
  json::object data = error.data;
  data["name"] = error_name(error.code);  // always the stable name of `code`
  err["data"] = std::move(data);
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = id;
  o["error"] = std::move(err);
  std::string s = core::to_json_text(o);
  s += '\n';
  return s;
}

std::optional<Response> parse_response(std::string_view line, std::string* why) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec) {
    if (why) *why = "reply is not JSON: " + ec.message();
    return std::nullopt;
  }
  return parse_response_value(std::move(v), why);
}

std::optional<Response> parse_response_value(json::value v, std::string* why) {
  auto fail = [&](std::string msg) -> std::optional<Response> {
    if (why) *why = std::move(msg);
    return std::nullopt;
  };
  if (!v.is_object()) return fail("reply is not an object");
  auto& o = v.get_object();
  Response r;
  if (auto* id = o.if_contains("id")) r.id = *id;
  if (auto* res = o.if_contains("result")) {
    r.result = std::move(*res);
  } else if (auto* err = o.if_contains("error"); err && err->is_object()) {
    RpcError e;
    auto& eo = err->get_object();
    if (auto* c = eo.if_contains("code"); c && c->is_int64()) e.code = static_cast<ErrorCode>(c->get_int64());
    if (auto* msg = eo.if_contains("message"); msg && msg->is_string()) e.message = std::string(msg->get_string());
    if (auto* d = eo.if_contains("data"); d && d->is_object()) e.data = d->get_object();
    r.error = std::move(e);
  } else {
    return fail("reply has neither result nor error");
  }
  return r;
}

// ---- Fields ---------------------------------------------------------------------------------

bool Fields::fail(std::string_view key, std::string_view what) {
  error_ = "params." + std::string(key) + ": " + std::string(what);
  return false;
}

bool read_value(const json::value& v, std::string& out) {
  if (!v.is_string()) return false;
  out = std::string(v.get_string());
  return true;
}
bool read_value(const json::value& v, std::int64_t& out) {
  if (v.is_int64()) { out = v.get_int64(); return true; }
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(v.get_uint64());
    return true;
  }
  return false;
}
bool read_value(const json::value& v, int& out) {
  std::int64_t x = 0;
  if (!read_value(v, x) || x < INT32_MIN || x > INT32_MAX) return false;
  out = static_cast<int>(x);
  return true;
}
bool read_value(const json::value& v, double& out) {
  if (!v.is_number()) return false;
  out = v.to_number<double>();
  return true;
}
bool read_value(const json::value& v, bool& out) {
  if (!v.is_bool()) return false;
  out = v.get_bool();
  return true;
}
bool read_value(const json::value& v, std::vector<std::string>& out) {
  if (!v.is_array()) return false;
  std::vector<std::string> tmp;
  for (const auto& e : v.get_array()) {
    if (!e.is_string()) return false;
    tmp.emplace_back(e.get_string());
  }
  out = std::move(tmp);
  return true;
}
bool read_value(const json::value& v, json::object& out) {
  if (!v.is_object()) return false;
  out = v.get_object();
  return true;
}
bool read_value(const json::value& v, json::value& out) {
  out = v;
  return true;
}
std::string_view expected_name(const std::string&) { return "a string"; }
std::string_view expected_name(const std::int64_t&) { return "an integer"; }
std::string_view expected_name(const int&) { return "a 32-bit integer"; }
std::string_view expected_name(const double&) { return "a number"; }
std::string_view expected_name(const bool&) { return "a boolean"; }
std::string_view expected_name(const std::vector<std::string>&) { return "an array of strings"; }
std::string_view expected_name(const json::object&) { return "an object"; }
std::string_view expected_name(const json::value&) { return "a value"; }

}  // namespace trifecta::proto
