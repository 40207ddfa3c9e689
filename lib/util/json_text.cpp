#include "util/json_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <array>
#include <charconv>
#include <cmath>
#include <string_view>

#include "util/utf8.hpp"

namespace trifecta::core {

namespace json = boost::json;

namespace {

// Bytes that must be escaped in a JSON string: control characters, '"' and '\\'.
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Never invalid UTF-8 on the wire or in telemetry: a string that is not valid UTF-8 (a file
  // name) is written percent-escaped (utf8::escape_name; docs/protocol.md).
  std::string escaped;
  if (utf8::needs_escape(s)) {
    escaped = utf8::escape_name(s);
    s = escaped;
  }
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  std::size_t plain = 0;  // start of the run of bytes that need no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!kNeedsEscape[c]) continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  const std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
  out += text;
  // Keep it a double for readers: "3" would come back as an integer.
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

template <typename Int>
void append_int(std::string& out, Int n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

}  // namespace

void append_json(std::string& out, const json::object& o) {
  out += '{';
  bool first = true;
  for (const auto& kv : o) {
    if (!first) out += ',';
    first = false;
    append_string(out, kv.key());
    out += ':';
    append_json(out, kv.value());
  }
  out += '}';
}

void append_json(std::string& out, const json::array& a) {
  out += '[';
  bool first = true;
  for (const auto& v : a) {
    if (!first) out += ',';
    first = false;
    append_json(out, v);
  }
  out += ']';
}

void append_json(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case json::kind::int64: append_int(out, v.get_int64()); break;
    case json::kind::uint64: append_int(out, v.get_uint64()); break;
    case json::kind::double_: append_double(out, v.get_double()); break;
    case json::kind::string: append_string(out, v.get_string()); break;
    case json::kind::array: append_json(out, v.get_array()); break;
    case json::kind::object: append_json(out, v.get_object()); break;
  }
}

std::string to_json_text(const json::value& v) {
  std::string out;
  append_json(out, v);
  return out;
}

std::string to_json_text(const json::object& o) {
  std::string out;
  append_json(out, o);
  return out;
}

}  // namespace trifecta::core
