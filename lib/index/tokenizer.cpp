#include "index/tokenizer.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

#include <libstemmer.h>

namespace trifecta::core::index {
namespace {

// Byte classes, one table lookup per byte (the scan runs over every indexed byte).
enum : std::uint8_t { kWord = 1, kUpper = 2, kLower = 4, kDigit = 8, kUnderscore = 16 };
constexpr std::array<std::uint8_t, 256> kClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t v = 0;
    if (c >= 'A' && c <= 'Z') v = kWord | kUpper;
    if ((c >= 'a' && c <= 'z') || c >= 0x80) v = kWord | kLower;
    if (c >= '0' && c <= '9') v = kWord | kDigit;
    if (c == '_') v = kWord | kUnderscore;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}();
bool is_word_byte(unsigned char c) { return kClass[c] & kWord; }
bool is_upper(unsigned char c) { return kClass[c] & kUpper; }
bool is_lower(unsigned char c) { return kClass[c] & kLower; }
bool is_digit(unsigned char c) { return kClass[c] & kDigit; }

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
  std::string out(w);
  for (auto& c : out) {
    if (is_upper(static_cast<unsigned char>(c))) c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void tokenize_each(std::string_view text, TokenFn fn, void* ctx) {
  const Out out{fn, ctx};
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    while (i < n && !is_word_byte(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t s = i;
    std::uint8_t classes = 0;
    for (std::uint8_t c; i < n && ((c = kClass[static_cast<unsigned char>(text[i])]) & kWord); ++i) classes |= c;
    if (i > s) emit_word(text.substr(s, i - s), classes, out);
  }
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
