#include "text/text.hpp"

namespace trifecta::core::text {

namespace {

// Length in bytes of the (possibly malformed) UTF-8 sequence starting at s[i], and its width in
// UTF-16 code units. Invalid sequences are one byte wide and one unit long.
struct Cp {
  std::size_t bytes;
  int units;
};

Cp decode_at(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  if (b0 < 0x80) return {1, 1};
  if (b0 >= 0xC2 && b0 <= 0xDF) len = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) len = 3;
  else if (b0 >= 0xF0 && b0 <= 0xF4) len = 4;
  else return {1, 1};
  if (i + len > s.size()) return {1, 1};
  for (std::size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return {1, 1};
  }
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  // Overlong 3/4-byte forms, UTF-16 surrogates encoded in UTF-8, and code points > U+10FFFF.
  if (len == 3 && ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 >= 0xA0))) return {1, 1};
  if (len == 4 && ((b0 == 0xF0 && b1 < 0x90) || (b0 == 0xF4 && b1 >= 0x90))) return {1, 1};
  return {len, len == 4 ? 2 : 1};
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '/';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string_view> line_text(std::string_view text, int line) {
  if (line < 1) return std::nullopt;
  std::size_t start = 0;
  for (int l = 1; l < line; ++l) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return std::nullopt;
    start = nl + 1;
  }
  std::size_t end = text.find('\n', start);
  if (end == std::string_view::npos) end = text.size();
  std::string_view out = text.substr(start, end - start);
  if (!out.empty() && out.back() == '\r') out.remove_suffix(1);
  return out;
}

int utf16_from_column(std::string_view line, int column) {
  int units = 0;
  std::size_t i = 0;
  for (int c = 1; c < column && i < line.size(); ++c) {
    const Cp cp = decode_at(line, i);
    i += cp.bytes;
    units += cp.units;
  }
  return units;
}

int column_from_utf16(std::string_view line, int utf16) {
  int column = 1;
  int units = 0;
  std::size_t i = 0;
  while (i < line.size()) {
    const Cp cp = decode_at(line, i);
    if (units + cp.units > utf16) break;  // the offset lies at or inside this character
    units += cp.units;
    i += cp.bytes;
    ++column;
  }
  return column;
}

std::size_t byte_from_utf16(std::string_view line, int utf16) {
  int units = 0;
  std::size_t i = 0;
  while (i < line.size()) {
    const Cp cp = decode_at(line, i);
    if (units + cp.units > utf16) break;
    units += cp.units;
    i += cp.bytes;
  }
  return i;
}

int utf16_from_byte(std::string_view line, std::size_t byte) {
  int units = 0;
  std::size_t i = 0;
  while (i < line.size()) {
    const Cp cp = decode_at(line, i);
    if (i + cp.bytes > byte) break;
    units += cp.units;
    i += cp.bytes;
  }
  return units;
}

std::string path_to_uri(const std::filesystem::path& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path.generic_string()) {
    if (unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

Result<std::filesystem::path> uri_to_path(std::string_view uri) {
  constexpr std::string_view kScheme = "file://";
  if (uri.substr(0, kScheme.size()) != kScheme)
    return make_error(Errc::kInvalidArgument, "not a file:// URI: " + std::string(uri.substr(0, 64)));
  std::string_view rest = uri.substr(kScheme.size());
  // "file://localhost/x" names the same file as "file:///x".
  if (rest.substr(0, 9) == "localhost") rest.remove_prefix(9);
  std::string out;
  out.reserve(rest.size());
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '%') {
      out += rest[i];
      continue;
    }
    if (i + 2 >= rest.size())
      return make_error(Errc::kInvalidArgument, "truncated %-escape in URI");
    const int hi = hex_value(rest[i + 1]);
    const int lo = hex_value(rest[i + 2]);
    if (hi < 0 || lo < 0) return make_error(Errc::kInvalidArgument, "bad %-escape in URI");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (out.empty() || out.front() != '/')
    return make_error(Errc::kInvalidArgument, "file URI without an absolute path");
  return std::filesystem::path(out);
}

}  // namespace trifecta::core::text
