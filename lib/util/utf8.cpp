#include "util/utf8.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace trifecta::core::utf8 {

namespace {

// Length of the valid sequence at `i`, or 0 with `*subpart` = length of the maximal invalid
// subpart there (≥ 1).
inline std::size_t sequence_at(std::string_view s, std::size_t i, std::size_t* subpart) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) { n = 3; lo = 0xA0; }
  else if (c >= 0xE1 && c <= 0xEC) n = 3;
  else if (c == 0xED) { n = 3; hi = 0x9F; }  // no surrogates
  else if (c >= 0xEE && c <= 0xEF) n = 3;
  else if (c == 0xF0) { n = 4; lo = 0x90; }
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) { n = 4; hi = 0x8F; }  // ≤ U+10FFFF
  else {
    if (subpart) *subpart = 1;
    return 0;
  }
  std::size_t k = 1;
  for (; k < n && i + k < s.size(); ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) break;
  }
  if (k == n) return n;
  if (subpart) *subpart = k;
  return 0;
}

void append_code_point(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

// `# ... coding[:=] NAME` in a comment line, or "" (PEP 263's regular expression,
// ^[ \t\f]*#.*?coding[:=][ \t]*([-_.a-zA-Z0-9]+)).
std::string coding_of_line(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\f')) ++i;
  if (i >= line.size() || line[i] != '#') return {};
  for (std::size_t at = line.find("coding", i); at != std::string_view::npos; at = line.find("coding", at + 6)) {
    std::size_t j = at + 6;
    if (j >= line.size() || (line[j] != ':' && line[j] != '=')) continue;
    ++j;
    while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
    std::string name;
    while (j < line.size() && is_name_char(line[j])) name.push_back(line[j++]);
    if (!name.empty()) return name;
  }
  return {};
}

bool blank_or_comment(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\f' || line[i] == '\r')) ++i;
  return i == line.size() || line[i] == '#';
}

// Python's normalisation (tokenizer.c get_normal_name, encodings aliases) for the codecs we decode.
std::string normalise(std::string name) {
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
  }
  auto is_or_prefix = [&](std::string_view base) {
    return name == base || (name.size() > base.size() && name.compare(0, base.size(), base) == 0 &&
                            name[base.size()] == '-');
  };
  if (is_or_prefix("utf-8") || name == "utf8") return "utf-8";
  if (is_or_prefix("latin-1") || is_or_prefix("iso-8859-1") || is_or_prefix("iso-latin-1") || name == "latin1" ||
      name == "iso8859-1" || name == "l1" || name == "latin" || name == "cp819" || name == "8859" ||
      name == "iso-ir-100" || name == "csisolatin1")
    return "latin-1";
  if (name == "cp1252" || name == "windows-1252" || name == "1252") return "cp1252";
  return name;
}

// cp1252's 0x80–0x9F (0 = undefined).
constexpr unsigned short kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

}  // namespace

std::size_t valid_prefix(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    // Source code is mostly ASCII: skip 8 bytes at a time while no high bit is set.
    while (i + 8 <= s.size()) {
      std::uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i == s.size()) break;
    const std::size_t n = sequence_at(s, i, nullptr);
    if (n == 0) break;
    i += n;
  }
  return i;
}

std::size_t replace_invalid(std::string_view s, std::string& out) {
  std::size_t i = valid_prefix(s);
  if (i == s.size()) return 0;
  std::string r;
  r.reserve(s.size() + 16);
  r.append(s.substr(0, i));
  std::size_t replaced = 0;
  while (i < s.size()) {
    std::size_t bad = 0;
    const std::size_t n = sequence_at(s, i, &bad);
    if (n > 0) {
      r.append(s.substr(i, n));
      i += n;
    } else {
      r.append(kReplacement);
      replaced += bad;
      i += bad;
    }
  }
  out = std::move(r);
  return replaced;
}

std::string declared_encoding(std::string_view bytes) {
  std::string_view text = strip_bom(bytes);
  const std::size_t e1 = text.find('\n');
  const std::string_view line1 = text.substr(0, e1);
  if (std::string name = coding_of_line(line1); !name.empty()) return normalise(std::move(name));
  if (e1 == std::string_view::npos || !blank_or_comment(line1)) return {};
  const std::string_view rest = text.substr(e1 + 1);
  if (std::string name = coding_of_line(rest.substr(0, rest.find('\n'))); !name.empty()) {
    return normalise(std::move(name));
  }
  return {};
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (const char ch : bytes) append_code_point(out, static_cast<unsigned char>(ch));
  return out;
}

std::string cp1252_to_utf8(std::string_view bytes, std::size_t* replaced) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80 || c > 0x9F) {
      append_code_point(out, c);
    } else if (const unsigned cp = kCp1252High[c - 0x80]; cp != 0) {
      append_code_point(out, cp);
    } else {
      out.append(kReplacement);
      if (replaced) ++*replaced;
    }
  }
  return out;
}

Decoded decode_source(std::string_view bytes, std::string& out) {
  Decoded d;
  d.had_bom = bytes.substr(0, kBom.size()) == kBom;
  if (is_valid(bytes)) return d;
  d.changed = true;
  const std::string declared = declared_encoding(bytes);
  const std::string_view body = strip_bom(bytes);  // a BOM stays a BOM whatever the declaration
  if (declared == "latin-1") {
    d.encoding = "latin-1";
    out = std::string(bytes.substr(0, bytes.size() - body.size())) + latin1_to_utf8(body);
  } else if (declared == "cp1252") {
    d.encoding = "cp1252";
    out = std::string(bytes.substr(0, bytes.size() - body.size())) + cp1252_to_utf8(body, &d.replaced_bytes);
  } else {
    d.replaced_bytes = replace_invalid(bytes, out);
  }
  return d;
}

bool needs_escape(std::string_view bytes) noexcept { return !is_valid(bytes); }

std::string first_invalid(std::string_view bytes) {
  const std::size_t ok = valid_prefix(bytes);
  if (ok == bytes.size()) return {};
  char what[48];
  std::snprintf(what, sizeof what, "byte 0x%02X at offset %zu",
                static_cast<unsigned>(static_cast<unsigned char>(bytes[ok])), ok);
  return what;
}

std::string escape_name(std::string_view bytes) {
  if (is_valid(bytes)) return std::string(bytes);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() + 8);
  while (!bytes.empty()) {
    const std::size_t ok = valid_prefix(bytes);
    for (char c : bytes.substr(0, ok)) {
      if (c == '%') out += "%25";
      else out += c;
    }
    if (ok == bytes.size()) break;
    const auto b = static_cast<unsigned char>(bytes[ok]);  // invalid: escape one byte, go on
    out += '%';
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
    bytes.remove_prefix(ok + 1);
  }
  return out;
}

std::optional<std::string> unescape_name(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  bool escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
      escaped = true;
    } else {
      out += text[i];
    }
  }
  if (!escaped || is_valid(out)) return std::nullopt;
  return out;
}

}  // namespace trifecta::core::utf8
