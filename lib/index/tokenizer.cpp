#include "index/tokenizer.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

#include <libstemmer.h>

namespace trifecta::core::index {
namespace {

// Byte classes, one table lookup per byte (the scan runs over every indexed byte).
enum : std::uint8_t { kWord = 1, kUpper = 2, kLower = 4, kDigit = 8, kUnderscore = 16, kHigh = 32 };
constexpr std::array<std::uint8_t, 256> kClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t v = 0;
    if (c >= 'A' && c <= 'Z') v = kWord | kUpper;
    if (c >= 'a' && c <= 'z') v = kWord | kLower;
    if (c >= 0x80) v = kWord | kHigh;  // a letter of unknown case: never a camel-case boundary
    if (c >= '0' && c <= '9') v = kWord | kDigit;
    if (c == '_') v = kWord | kUnderscore;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}();
bool is_upper(unsigned char c) { return kClass[c] & kUpper; }
bool is_lower(unsigned char c) { return kClass[c] & kLower; }
bool is_digit(unsigned char c) { return kClass[c] & kDigit; }

// Code points that separate words although they are not ASCII (tokenizer.hpp): the Latin-1
// punctuation and symbols, General Punctuation (typographic quotes and apostrophes, dashes,
// spaces, ellipsis), currency signs, arrows, mathematical operators and other symbol blocks,
// supplemental punctuation, CJK punctuation, vertical, small and fullwidth forms, the BOM and the
// emoji planes. Not one of them is a Python identifier character: the connector punctuation
// (U+203F ‿, U+2040, U+2054, U+FE33, U+FE34, U+FE4D–F, U+FF3F), the middle dot U+00B7, the
// joiners U+200C/U+200D and the letters ª µ º are left out (each of the 5,971 checked against
// Python's str.isidentifier). Other scripts' own punctuation (the Arabic comma, the Devanagari
// danda) stays inside words, as every non-ASCII byte did before.
constexpr bool separator_code_point(std::uint32_t cp) noexcept {
  if (cp < 0x80) return false;
  if (cp <= 0xBF) return cp != 0xAA && cp != 0xB5 && cp != 0xB7 && cp != 0xBA;
  if (cp == 0xD7 || cp == 0xF7) return true;
  if (cp < 0x2000) return false;
  if (cp <= 0x206F) return cp != 0x200C && cp != 0x200D && cp != 0x203F && cp != 0x2040 && cp != 0x2054;
  if (cp >= 0x20A0 && cp <= 0x20CF) return true;
  if (cp >= 0x2190 && cp <= 0x2BFF) return true;
  if (cp >= 0x2E00 && cp <= 0x2E7F) return true;
  if (cp >= 0x3000 && cp <= 0x303F) {
    return cp <= 0x3004 || (cp >= 0x3008 && cp <= 0x3020) || cp == 0x3030 || cp >= 0x303D;
  }
  if (cp >= 0xFE10 && cp <= 0xFE19) return true;
  if (cp >= 0xFE30 && cp <= 0xFE4F) return cp != 0xFE33 && cp != 0xFE34 && cp < 0xFE4D;
  if (cp >= 0xFE50 && cp <= 0xFE6B) return true;
  if (cp == 0xFEFF) return true;
  if ((cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF5B && cp <= 0xFF65)) return true;
  if (cp >= 0xFF3B && cp <= 0xFF40) return cp != 0xFF3F;
  return cp >= 0x1F000 && cp <= 0x1FAFF;
}

// Case folding of the two-byte capitals (tok-3): Latin-1 (À–Þ), Latin Extended-A (Ā–ž, not İ),
// Greek (accented capitals too, and final ς → σ) and Cyrillic (Ѐ–Я). Each of the 174 agrees with
// Python's str.casefold, and each result is two bytes as well, so a word keeps its length.
// Letters whose folding changes length (ß, ſ) and other scripts' capitals are left as they are.
constexpr std::uint32_t fold_code_point(std::uint32_t cp) noexcept {
  if (cp >= 0xC0 && cp <= 0xDE) return cp == 0xD7 ? 0 : cp + 0x20;
  if (cp >= 0x100 && cp <= 0x17F) {
    if (cp == 0x130 || cp == 0x131 || cp == 0x138 || cp == 0x149 || cp == 0x17F) return 0;
    if (cp == 0x178) return 0xFF;
    const bool even_capitals = cp <= 0x137 || (cp >= 0x14A && cp <= 0x177);
    return (cp % 2 == (even_capitals ? 0u : 1u)) ? cp + 1 : 0;
  }
  if (cp == 0x386) return 0x3AC;
  if (cp >= 0x388 && cp <= 0x38A) return cp + 0x25;
  if (cp == 0x38C) return 0x3CC;
  if (cp == 0x38E || cp == 0x38F) return cp + 0x3F;
  if (cp >= 0x391 && cp <= 0x3AB) return cp == 0x3A2 ? 0 : cp + 0x20;
  if (cp == 0x3C2) return 0x3C3;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  return 0;
}

// `w` with its two-byte capitals folded (fold_code_point) into `buf`; false, and `buf` untouched,
// when it has none (the common case: a word without non-ASCII bytes never gets here).
bool fold_capitals(std::string_view w, std::string& buf) {
  bool any = false;
  for (std::size_t i = 0; i + 1 < w.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(w[i]);
    const auto b1 = static_cast<unsigned char>(w[i + 1]);
    if (b0 < 0xC3 || b0 > 0xD0 || (b1 & 0xC0) != 0x80) continue;  // U+00C0–U+042F lead bytes
    const std::uint32_t folded = fold_code_point(((b0 & 0x1Fu) << 6) | (b1 & 0x3Fu));
    if (folded == 0) continue;
    if (!any) buf.assign(w);
    any = true;
    buf[i] = static_cast<char>(0xC0u | (folded >> 6));
    buf[i + 1] = static_cast<char>(0x80u | (folded & 0x3Fu));
    ++i;
  }
  return any;
}

// The code point of the multi-byte UTF-8 sequence at text[i], its byte length in `len`; `len` 0
// when there is none there (an ASCII byte, a continuation byte, or bytes that are not
// well-formed UTF-8: those stay inside words, byte by byte).
std::uint32_t sequence_at(std::string_view text, std::size_t i, std::size_t& len) noexcept {
  len = 0;
  const auto b0 = static_cast<unsigned char>(text[i]);
  std::uint32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0Fu;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07u;
  } else {
    return 0;
  }
  if (i + len > text.size()) {
    len = 0;
    return 0;
  }
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) {
      len = 0;
      return 0;
    }
    cp = (cp << 6) | (b & 0x3Fu);
  }
  return cp;
}

// The byte length of the UTF-8 sequence at text[i] when it encodes a separator code point, else 0.
std::size_t separator_at(std::string_view text, std::size_t i) noexcept {
  std::size_t len = 0;
  const std::uint32_t cp = sequence_at(text, i, len);
  return len > 0 && separator_code_point(cp) ? len : 0;
}

struct Out {
  TokenFn fn;
  void* ctx;
};

void push_lower(std::string_view s, const Out& out) {
  if (s.size() < 2 || s.size() > kMaxTokenBytes) return;
  char buf[kMaxTokenBytes];
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    buf[i] = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  }
  out.fn(out.ctx, std::string_view(buf, s.size()));
}

// `classes`: the OR of kClass over the word's bytes.
void emit_word(std::string_view w, std::uint8_t classes, const Out& out) {
  if (!(classes & (kUpper | kDigit | kUnderscore))) {
    // Lowercase letters (and UTF-8) only, the most common word: one token, nothing to split or
    // lowercase.
    if (w.size() >= 2 && w.size() <= kMaxTokenBytes) out.fn(out.ctx, w);
    return;
  }
  while (!w.empty() && w.front() == '_') w.remove_prefix(1);
  while (!w.empty() && w.back() == '_') w.remove_suffix(1);
  if (w.empty()) return;
  const bool all_digits = std::all_of(w.begin(), w.end(), [](char c) { return is_digit(static_cast<unsigned char>(c)); });
  if (all_digits) {
    if (w.size() <= 8) push_lower(w, out);
    return;
  }
  push_lower(w, out);
  // Parts.
  std::string_view parts_buf[kMaxTokenBytes];
  std::size_t nparts = 0;
  std::size_t start = 0;
  auto cut = [&](std::size_t end) {
    if (end > start && nparts < kMaxTokenBytes) parts_buf[nparts++] = w.substr(start, end - start);
    start = end;
  };
  for (std::size_t i = 0; i < w.size(); ++i) {
    const auto c = static_cast<unsigned char>(w[i]);
    if (c == '_') {
      cut(i);
      start = i + 1;
      continue;
    }
    if (i == start || i == 0) continue;
    const auto p = static_cast<unsigned char>(w[i - 1]);
    if (p == '_') continue;
    const bool boundary =
        (is_upper(c) && is_lower(p) && !is_digit(p)) ||                                  // decodeError
        (is_upper(c) && is_upper(p) && i + 1 < w.size() && is_lower(static_cast<unsigned char>(w[i + 1])) &&
         !is_digit(static_cast<unsigned char>(w[i + 1]))) ||                                // JSONDecode
        (is_digit(c) != is_digit(p));                                                       // sha256
    if (boundary) cut(i);
  }
  cut(w.size());
  if (nparts < 2) return;
  for (std::size_t k = 0; k < nparts; ++k) {
    const std::string_view part = parts_buf[k];
    const bool digits = std::all_of(part.begin(), part.end(), [](char c) { return is_digit(static_cast<unsigned char>(c)); });
    if (digits) continue;
    push_lower(part, out);
  }
}

}  // namespace

std::optional<std::string> whole_word_token(std::string_view w) {
  while (!w.empty() && w.front() == '_') w.remove_prefix(1);
  while (!w.empty() && w.back() == '_') w.remove_suffix(1);
  if (w.size() < 2 || w.size() > kMaxTokenBytes) return std::nullopt;
  const bool all_digits = std::all_of(w.begin(), w.end(), [](char c) { return is_digit(static_cast<unsigned char>(c)); });
  if (all_digits && w.size() > 8) return std::nullopt;
  std::string out;
  if (!fold_capitals(w, out)) out.assign(w);
  for (auto& c : out) {
    if (is_upper(static_cast<unsigned char>(c))) c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void tokenize_each(std::string_view text, TokenFn fn, void* ctx) {
  const Out out{fn, ctx};
  std::string folded;  // a word with non-ASCII capitals, folded
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    // Separators: ASCII ones, then non-ASCII punctuation and symbols (whole sequences).
    while (i < n) {
      const std::uint8_t c = kClass[static_cast<unsigned char>(text[i])];
      if (!(c & kWord)) {
        ++i;
      } else if (const std::size_t len = (c & kHigh) ? separator_at(text, i) : 0; len > 0) {
        i += len;
      } else {
        break;
      }
    }
    const std::size_t s = i;
    std::uint8_t classes = 0;
    for (std::uint8_t c; i < n && ((c = kClass[static_cast<unsigned char>(text[i])]) & kWord); ++i) {
      // A separator's lead byte ends the word (its other bytes are 0x80–0xBF, never a lead).
      if ((c & kHigh) && separator_at(text, i) > 0) break;
      classes |= c;
    }
    if (i == s) continue;
    std::string_view word = text.substr(s, i - s);
    if ((classes & kHigh) && fold_capitals(word, folded)) word = folded;
    emit_word(word, classes, out);
  }
}

std::size_t space_at(std::string_view text, std::size_t i) noexcept {
  if (i >= text.size()) return 0;
  const auto b = static_cast<unsigned char>(text[i]);
  if (b < 0x80) return (b == ' ' || (b >= '\t' && b <= '\r')) ? 1 : 0;
  std::size_t len = 0;
  const std::uint32_t cp = sequence_at(text, i, len);
  const bool space = cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
                     cp == 0x205F || cp == 0x3000;
  return space ? len : 0;
}

void tokenize(std::string_view text, std::vector<std::string>& out) {
  tokenize_each(
      text, [](void* c, std::string_view t) { static_cast<std::vector<std::string>*>(c)->emplace_back(t); }, &out);
}

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> out;
  tokenize(text, out);
  return out;
}

bool stemmable(std::string_view token) noexcept {
  if (token.size() < 3 || token.size() > kMaxTokenBytes) return false;
  return std::all_of(token.begin(), token.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

std::string stem(std::string_view token) {
  if (!stemmable(token)) return std::string(token);
  struct Deleter {
    void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
  };
  thread_local const std::unique_ptr<sb_stemmer, Deleter> stemmer(sb_stemmer_new("english", "UTF_8"));
  if (!stemmer) return std::string(token);
  const sb_symbol* out =
      sb_stemmer_stem(stemmer.get(), reinterpret_cast<const sb_symbol*>(token.data()), static_cast<int>(token.size()));
  if (!out) return std::string(token);
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(sb_stemmer_length(stemmer.get())));
}

std::vector<std::string> query_terms(std::string_view query) {
  std::vector<std::string> all = tokenize(query);
  std::vector<std::string> out;
  for (auto& t : all) {
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(std::move(t));
  }
  return out;
}

}  // namespace trifecta::core::index
