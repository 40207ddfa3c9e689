#include "index/ranking.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "index/tokenizer.hpp"
#include "lang/python/lexical.hpp"

namespace trifecta::core::index {

const std::array<FieldParams, kFieldCount> kFieldParams{
    {{1.5, 0.30}, {8.0, 0.50}, {2.0, 0.60}, {1.0, 0.75}, {2.0, 0.50}}};
const double kCentralityWeight = 0.05;
const double kCentralityMin = 0.95;
const double kCentralityMax = 1.15;
const double kCompoundWeight = 0.5;
const double kFileCoverageWeight = 0.3;
const double kProseCoverageWeight = 0.3;
const double kSecondChunkShare = 0.3;
const double kModulePieceWeight = 0.2;
const double kModulePieceMaxShare = 0.01;

std::string_view field_name(std::size_t f) noexcept {
  static constexpr std::string_view kNames[] = {"path", "name", "sig", "body", "doc"};
  return f < kFieldCount ? kNames[f] : "?";
}

std::string name_field_text(const Chunk& chunk) {
  std::string name;
  if (chunk.role == ChunkRole::kModule) {
    // Not the Python module rule (lang/python/modules.hpp) on purpose: this is the path stem of
    // any file (Markdown and text too), extension and a trailing "/__init__" dropped, slashes
    // kept (the tokenizer splits on them as on dots) and no source root removed. The text is
    // part of what kRankingVersion versions; changing it changes rankings.
    std::string_view p = chunk.path;
    if (const auto dot = p.rfind('.'); dot != std::string_view::npos) p = p.substr(0, dot);
    if (p.size() >= 9 && p.substr(p.size() - 9) == "/__init__") p = p.substr(0, p.size() - 9);
    name = std::string(p);
    if (chunk.title.rfind("(code after ", 0) == 0) name += " " + chunk.title;
  } else if (chunk.role != ChunkRole::kWindow) {
    for (const auto& part : chunk.title_path) {
      name += part;
      name += ' ';
    }
  }
  return name;
}

namespace {

// [A-Za-z0-9_] and every byte of a UTF-8 sequence (std::isalnum's "C" locale, without a libc call
// per byte: this runs over every byte of every Python chunk of a build).
constexpr std::array<bool, 256> kIdentByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                     (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
  }
  return t;
}();
bool ident_char(char c) {
  return kIdentByte[static_cast<unsigned char>(c)];
}
// Whether `p` (the identifier bytes right before a quote) is a string prefix: `r`, `b`, `f`,
// `rb`, `Fr`, … (at most two of rRuUbBfF).
bool is_string_prefix(std::string_view p) {
  return p.size() <= 2 && p.find_first_not_of("rRuUbBfF") == std::string_view::npos;
}

}  // namespace

std::string doc_field_text(const Chunk& chunk, std::string_view t, std::string* code) {
  std::string out;
  if (code) code->clear();
  if (file_type_of(chunk.path) != FileType::kPython) return out;
  std::size_t kept = 0;                                  // t[kept, …) not yet copied to *code
  const auto take = [&](std::size_t a, std::size_t b) {  // prose t[a, b): to out, out of *code
    out.append(t.substr(a, b - a));
    out += '\n';
    if (code) {
      code->append(t.substr(kept, a - kept));
      *code += ' ';
      kept = b;
    }
  };
  const std::size_t n = t.size();
  int depth = 0;      // open brackets
  bool stmt = true;   // the next token starts a statement
  bool cont = false;  // a backslash continues the line
  std::size_t i = 0;
  while (i < n) {
    const char c = t[i];
    if (c == '\n') {
      stmt = depth == 0 && !cont;
      cont = false;
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
      ++i;
      continue;
    }
    const bool first = stmt;
    stmt = false;
    if (c == '#') {
      const std::size_t e = lang::python::comment_end(t, i);
      take(i + 1, e);
      i = e;
      continue;
    }
    if (c == '\\') {
      cont = true;
      ++i;
      continue;
    }
    std::size_t q = i;
    if (ident_char(c)) {
      std::size_t k = i;
      while (k < n && ident_char(t[k])) ++k;
      const bool prefix =
          k < n && (t[k] == '"' || t[k] == '\'') && is_string_prefix(t.substr(i, k - i));
      if (!prefix) {
        i = k;
        continue;
      }
      q = k;
    }
    if (t[q] == '"' || t[q] == '\'') {
      const auto literal = lang::python::scan_string(t, q);
      i = literal.end;
      if (first && literal.content_end > literal.content_begin)
        take(literal.content_begin, literal.content_end);
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    ++i;
  }
  if (code && kept > 0) code->append(t.substr(kept));
  return out;
}

FieldAverages field_averages(const std::array<std::uint64_t, kFieldCount>& total_len,
                             std::size_t docs) {
  FieldAverages avg{};
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    avg[f] =
        docs ? std::max(1.0, static_cast<double>(total_len[f]) / static_cast<double>(docs)) : 1.0;
  }
  return avg;
}

NormTable norm_table(const FieldAverages& avg) {
  NormTable t{};
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    const double b = kFieldParams[f].b;
    for (std::size_t c = 0; c < 256; ++c) {
      const double len = code_length(static_cast<std::uint8_t>(c));
      t[f][c] = kFieldParams[f].weight / (1.0 - b + b * len / avg[f]);
    }
  }
  return t;
}

std::uint32_t signals_from_env() {
  static const std::uint32_t value = [] {
    std::uint32_t v = kSignalDefault;
    const char* env = std::getenv("TRIFECTA_RANKING_ABLATE");
    if (!env) return v;
    std::string_view rest(env);
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view name = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (name == "+def") v |= kSignalDefinition;
      if (name == "stop") v &= ~kSignalStopWords;
      if (name == "stem") v &= ~kSignalStemming;
      if (name == "typo") v &= ~kSignalTypo;
      if (name == "path") v &= ~kSignalPathPrior;
      if (name == "def") v &= ~kSignalDefinition;
      if (name == "module") v &= ~kSignalModuleName;
      if (name == "diversity") v &= ~kSignalDiversity;
      if (name == "doc") v &= ~kSignalDocField;
      if (name == "central") v &= ~kSignalCentrality;
      if (name == "file") v &= ~kSignalFileCoverage;
      if (name == "compound") v &= ~kSignalCompound;
      if (name == "prose") v &= ~kSignalProseCoverage;
      if (name == "second") v &= ~kSignalSecondChunk;
      if (name == "piece") v &= ~kSignalModulePiece;
      if (name == "phrase") v &= ~kSignalModulePhrase;
      if (name == "cap") v &= ~kSignalTermCap;
      if (name == "verbatim") v &= ~kSignalVerbatim;
      if (name == "named") v &= ~kSignalFileNamed;
      if (name == "error") v &= ~kSignalErrorLine;
      if (name == "message") v &= ~kSignalMessage;
    }
    return v;
  }();
  return value;
}

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

std::string verbatim_key(std::string_view s) {
  // Written through a pointer into room for all of `s` (the key is never longer: a space stands
  // for one or more whitespace bytes dropped): the verbatim signal keys up to 20 candidates' texts
  // a search, and an append per byte (a capacity check and a terminator each) was most of that.
  enum : std::uint8_t { kKeep, kSpace, kDrop, kMaybeQuote };
  static constexpr auto kClass = [] {
    std::array<std::uint8_t, 256> t{};
    for (const unsigned char c : {' ', '\t', '\n', '\r', '\f', '\v'}) t[c] = kSpace;
    for (const unsigned char c : {'\'', '"', '`'}) t[c] = kDrop;
    t[0xE2] = kMaybeQuote;
    return t;
  }();
  std::string out(s.size(), '\0');
  char* const begin = out.data();
  char* o = begin;
  bool space = false;  // whitespace seen since the last character kept
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (kClass[c]) {
      case kSpace:
        space = true;
        continue;
      case kDrop:
        continue;
      case kMaybeQuote:
        // U+2018 U+2019 U+201C U+201D: E2 80 98 / 99 / 9C / 9D.
        if (i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80) {
          const auto d = static_cast<unsigned char>(s[i + 2]);
          if (d == 0x98 || d == 0x99 || d == 0x9C || d == 0x9D) {
            i += 2;
            continue;
          }
        }
        break;
      default:
        break;
    }
    if (space && o != begin) *o++ = ' ';
    space = false;
    *o++ = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  out.resize(static_cast<std::size_t>(o - begin));
  return out;
}

std::string verbatim_query(std::string_view q) {
  std::string key = verbatim_key(q);
  while (!key.empty() && (key.back() == '.' || key.back() == ':' || key.back() == ';'))
    key.pop_back();
  std::size_t words = 0;
  bool in_word = false;
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    const bool word = std::isalnum(c) != 0 || c >= 0x80;
    if (word && !in_word) ++words;
    in_word = word;
  }
  return words >= kVerbatimMinWords ? key : std::string();
}

namespace {

// fn(token, where it starts) for each whitespace-separated token of `text`, trailing `,;:`
// dropped (`tests/x.py:12:`, `a.py::t,`).
template <class Fn>
void for_each_token(std::string_view text, const Fn& fn) {
  for (std::size_t at = 0; at < text.size();) {
    while (at < text.size() && is_space(text[at])) ++at;
    const std::size_t begin = at;
    while (at < text.size() && !is_space(text[at])) ++at;
    std::string_view token = text.substr(begin, at - begin);
    while (!token.empty() && (token.back() == ',' || token.back() == ';' || token.back() == ':'))
      token.remove_suffix(1);
    if (!token.empty()) fn(token, begin);
  }
}

}  // namespace

std::optional<FileReference> file_reference(std::string_view query) {
  std::string_view q = query;
  while (!q.empty() && is_space(q.front())) q.remove_prefix(1);
  while (!q.empty() && is_space(q.back())) q.remove_suffix(1);
  if (q.size() >= 2 && (q.front() == '"' || q.front() == '\'' || q.front() == '`') &&
      q.back() == q.front()) {
    q = q.substr(1, q.size() - 2);
  }
  if (q.empty() || q.size() > 4096 || std::any_of(q.begin(), q.end(), is_space) ||
      q.find("://") != std::string_view::npos) {
    return std::nullopt;
  }
  // A trailing run of digits after a ':' (LINE, or COLUMN after LINE).
  const auto number = [&q]() -> std::optional<std::uint32_t> {
    const std::size_t colon = q.rfind(':');
    if (colon == std::string_view::npos || colon + 1 == q.size() || q.size() - colon > 10)
      return std::nullopt;
    std::uint32_t n = 0;
    for (const char c : q.substr(colon + 1)) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<std::uint32_t>(c - '0');
    }
    q = q.substr(0, colon);
    return n;
  };
  FileReference ref;
  // A pytest node id: the file, then `::`-separated class and function names, the last perhaps
  // with its parameters in brackets.
  if (const std::size_t node = q.find("::"); node != std::string_view::npos) {
    std::string_view rest = q.substr(node + 2);
    q = q.substr(0, node);
    if (const std::size_t bracket = rest.find('['); bracket != std::string_view::npos)
      rest = rest.substr(0, bracket);
    for (std::size_t at = 0; at <= rest.size();) {
      const std::size_t next = std::min(rest.find("::", at), rest.size());
      const std::string_view part = rest.substr(at, next - at);
      if (part.empty()) return std::nullopt;
      ref.symbol += (ref.symbol.empty() ? "" : ".") + std::string(part);
      at = next + 2;
    }
  } else if (const auto last = number()) {
    const auto before = number();
    ref.line = before ? *before : *last;
  }
  while (q.starts_with("./")) q.remove_prefix(2);
  const std::string_view name = file_name_of(q);
  if (name.empty() || name == "." || name == "..") return std::nullopt;
  if (name.size() == q.size() && name.find('.') == std::string_view::npos)
    return std::nullopt;  // one word: a term, not a place
  ref.path = std::string(q);
  return ref;
}

namespace {

// A pasted error line's exception name and message: one line, a dotted name (identifier parts,
// none empty) whose last part ends in Error, Exception, Warning, Exit or Interrupt, ": ", then
// the message (not empty).
struct ErrorLine {
  std::string_view name;
  std::string_view message;
};
std::optional<ErrorLine> error_line(std::string_view query) {
  if (query.find('\n') != std::string_view::npos) return std::nullopt;
  const std::size_t colon = query.find(": ");
  if (colon == std::string_view::npos || colon + 2 >= query.size()) return std::nullopt;
  const std::string_view name = query.substr(0, colon);
  if (name.empty()) return std::nullopt;
  bool part_start = true;
  for (const char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '.') {
      if (part_start) return std::nullopt;
      part_start = true;
    } else if (std::isalpha(c) || c == '_' || (!part_start && std::isdigit(c))) {
      part_start = false;
    } else {
      return std::nullopt;
    }
  }
  if (part_start) return std::nullopt;
  const std::size_t dot = name.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? name : name.substr(dot + 1);
  const auto suffix = [&](std::string_view end) {
    return last.size() > end.size() && ends_with(last, end);
  };
  if (!(suffix("Error") || suffix("Exception") || suffix("Warning") || suffix("Exit") ||
        suffix("Interrupt") || last == "Exception" || last == "Warning")) {
    return std::nullopt;
  }
  return ErrorLine{name, query.substr(colon + 2)};
}

}  // namespace

std::optional<std::string> error_line_without_module(std::string_view query) {
  const std::optional<ErrorLine> line = error_line(query);
  if (!line) return std::nullopt;
  const std::size_t dot = line->name.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string out(line->name.substr(dot + 1));
  out += query.substr(line->name.size());
  return out;
}

namespace {

// A pasted error line's message as error_message returns it (empty: none).
std::string_view message_text(const ErrorLine& line) {
  std::string_view m = trim(line.message);
  while (!m.empty() && m.back() == '.') m.remove_suffix(1);
  return trim(m);
}

}  // namespace

std::optional<std::string> error_name(std::string_view query) {
  const std::optional<ErrorLine> line = error_line(trim(query));
  if (!line || message_text(*line).empty()) return std::nullopt;
  const std::size_t dot = line->name.rfind('.');
  return std::string(dot == std::string_view::npos ? line->name : line->name.substr(dot + 1));
}

std::optional<std::string> error_message(std::string_view query) {
  const std::optional<ErrorLine> line = error_line(trim(query));
  if (!line || message_text(*line).empty()) return std::nullopt;
  return std::string(message_text(*line));
}

namespace {

// Appends `s` to `out` with every run of whitespace one space (a run at the start of `out`
// kept as one space too: pieces are joined, so a leading space may belong between two).
void append_normalised(std::string& out, std::string_view s) {
  for (const char c : s) {
    if (is_space(c)) {
      if (out.empty() || out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
}

// The length of the %-format at t[i] ('%'), 0 when it is none: `%` [`(name)`] [flags] [width]
// [`.`precision] [length modifier] conversion.
std::size_t percent_format(std::string_view t, std::size_t i) {
  std::size_t j = i + 1;
  if (j < t.size() && t[j] == '(') {
    const std::size_t close = t.find(')', j);
    if (close == std::string_view::npos) return 0;
    j = close + 1;
  }
  while (j < t.size() && std::string_view("-#0 +").find(t[j]) != std::string_view::npos) ++j;
  if (j < t.size() && t[j] == '*') {
    ++j;
  } else {
    while (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) ++j;
  }
  if (j < t.size() && t[j] == '.') {
    ++j;
    while (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) ++j;
  }
  if (j < t.size() && std::string_view("hlL").find(t[j]) != std::string_view::npos) ++j;
  if (j < t.size() && std::string_view("sdrifxXeEgGcaou").find(t[j]) != std::string_view::npos)
    return j + 1 - i;
  return 0;
}

// One literal's content (between its quotes) appended to `parts` (whose last piece it
// continues: adjacent literals are one string).
void add_literal(std::string_view body, bool raw, bool f_string, MessageTemplate& parts) {
  std::string piece;
  const auto flush = [&] {
    append_normalised(parts.back(), piece);
    piece.clear();
  };
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\\' && !raw && i + 1 < body.size()) {
      const char e = body[i + 1];
      ++i;
      switch (e) {
        case 'n':
          piece += '\n';
          break;
        case 't':
          piece += '\t';
          break;
        case '\n':
          break;  // a backslash-newline continues the line
        case '\\':
        case '\'':
        case '"':
          piece += e;
          break;
        default:
          piece += '\\';
          piece += e;
      }
      continue;
    }
    if ((c == '{' || c == '}') && i + 1 < body.size() && body[i + 1] == c) {
      piece += c;
      ++i;
      continue;
    }
    if (c == '{') {
      // A replacement field: in an f-string an expression (nested braces, a format spec's own
      // fields); in another literal, braces without braces inside (what `.format` may fill).
      std::size_t depth = 1, j = i + 1;
      while (j < body.size() && depth > 0) {
        if (body[j] == '{') ++depth;
        if (body[j] == '}') --depth;
        ++j;
      }
      const std::string_view field = body.substr(i + 1, j - i - 2);
      if (depth == 0 && (f_string || field.find('{') == std::string_view::npos)) {
        flush();
        parts.emplace_back();
        i = j - 1;
        continue;
      }
    }
    if (c == '%' && !f_string) {
      if (i + 1 < body.size() && body[i + 1] == '%') {
        piece += '%';
        ++i;
        continue;
      }
      if (const std::size_t n = percent_format(body, i); n > 0) {
        flush();
        parts.emplace_back();
        i += n - 1;
        continue;
      }
    }
    piece += c;
  }
  flush();
}

// Whether `m` (normalised) is what `t` prints: t[0] a prefix, t.back() a suffix, the pieces
// between in order between them.
bool matches_template(const MessageTemplate& t, std::string_view m) {
  if (t.size() == 1) return m == t[0];
  const std::string_view head = t.front(), tail = t.back();
  if (m.size() < head.size() + tail.size() || !starts_with(m, head) || !ends_with(m, tail))
    return false;
  std::size_t at = head.size();
  const std::size_t stop = m.size() - tail.size();
  for (std::size_t k = 1; k + 1 < t.size(); ++k) {
    if (t[k].empty()) continue;
    const std::size_t found = m.substr(0, stop).find(t[k], at);
    if (found == std::string_view::npos) return false;
    at = found + t[k].size();
  }
  return true;
}

}  // namespace

namespace {

// The next quote or '#' at or after a position: where a literal or a comment may start. Code
// between them is most of a chunk, so it is skipped with memchr (vectorised), each of the three
// bytes' next place kept until the scan passes it.
class NextLexByte {
 public:
  explicit NextLexByte(std::string_view t) : t_(t) {}
  std::size_t operator()(std::size_t from) {
    std::size_t best = t_.size();
    for (std::size_t k = 0; k < 3; ++k) {
      if (next_[k] < from || !known_[k]) {
        const void* hit =
            from < t_.size() ? std::memchr(t_.data() + from, kBytes[k], t_.size() - from) : nullptr;
        next_[k] =
            hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - t_.data()) : t_.size();
        known_[k] = true;
      }
      best = std::min(best, next_[k]);
    }
    return best;
  }

 private:
  static constexpr std::array<char, 3> kBytes{'\'', '"', '#'};
  std::string_view t_;
  std::array<std::size_t, 3> next_{};
  std::array<bool, 3> known_{};
};

// The string prefix (`f`, `rb`, …) ending just before the quote at t[q]: up to two letters of
// rRuUbBfF not preceded by an identifier byte; empty when there is none.
std::string_view string_prefix(std::string_view t, std::size_t q) {
  std::size_t p = q;
  while (p > 0 && q - p < 2 && ident_char(t[p - 1])) --p;
  if (p > 0 && ident_char(t[p - 1])) return {};
  const std::string_view prefix = t.substr(p, q - p);
  return is_string_prefix(prefix) ? prefix : std::string_view{};
}

// Whether the literal (with its prefix) starting at t[p] is a docstring: the first token of its
// line, after a line ending in ':' (a def's or class's header) or at the start of the text.
bool starts_docstring(std::string_view t, std::size_t p) {
  std::size_t k = p;
  while (k > 0 && (t[k - 1] == ' ' || t[k - 1] == '\t')) --k;
  if (k == 0) return true;
  if (t[k - 1] != '\n') return false;
  while (k > 0 && is_space(t[k - 1])) --k;
  return k == 0 || t[k - 1] == ':';
}

// The ASCII letter runs of two or more in `s`.
std::size_t letter_runs(std::string_view s) {
  std::size_t words = 0, run = 0;
  for (const char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      if (++run == 2) ++words;
    } else {
      run = 0;
    }
  }
  return words;
}

}  // namespace

std::vector<MessageTemplate> message_templates(std::string_view t) {
  std::vector<MessageTemplate> out;
  const std::size_t n = t.size();
  struct Piece {
    std::string_view body;
    bool raw, f_string;
  };
  std::vector<Piece> group;
  NextLexByte next(t);
  std::size_t i = 0;
  while (i < n) {
    i = next(i);
    if (i == n) break;
    if (t[i] == '#') {
      i = lang::python::comment_end(t, i);
      continue;
    }
    std::string_view prefix = string_prefix(t, i);
    const bool doc = starts_docstring(t, i - prefix.size());
    bool bytes = false;
    std::size_t words = 0;
    group.clear();
    std::size_t q = i;
    while (true) {
      const auto has = [&](char lower) {
        return prefix.find(lower) != std::string_view::npos ||
               prefix.find(static_cast<char>(lower - 'a' + 'A')) != std::string_view::npos;
      };
      const auto literal = lang::python::scan_string(t, q);
      const std::string_view body =
          t.substr(literal.content_begin, literal.content_end - literal.content_begin);
      bytes = bytes || has('b');
      words += letter_runs(body);
      group.push_back({body, has('r'), has('f')});
      // Adjacent literals are one string: only whitespace, comments and backslash-newlines
      // between them.
      std::size_t j = literal.end;
      while (j < n) {
        if (is_space(t[j])) {
          ++j;
        } else if (t[j] == '#') {
          j = lang::python::comment_end(t, j);
        } else if (t[j] == '\\' && j + 1 < n && t[j + 1] == '\n') {
          j += 2;
        } else {
          break;
        }
      }
      i = literal.end;
      std::size_t k = j;
      while (k < n && ident_char(t[k])) ++k;
      if (k < n && (t[k] == '"' || t[k] == '\'') && is_string_prefix(t.substr(j, k - j))) {
        prefix = t.substr(j, k - j);
        q = k;
        continue;
      }
      break;
    }
    // The constant text's words are among the raw text's (a placeholder only adds some), so a
    // group with fewer raw words is no message and is not decoded.
    if (doc || bytes || words < kMessageMinWords) continue;
    MessageTemplate parts(1);
    for (const Piece& piece : group) add_literal(piece.body, piece.raw, piece.f_string, parts);
    // The message's edges are trimmed, so are the template's.
    while (!parts.back().empty() && parts.back().back() == '.') parts.back().pop_back();
    if (!parts.front().empty() && parts.front().front() == ' ') parts.front().erase(0, 1);
    if (!parts.back().empty() && parts.back().back() == ' ') parts.back().pop_back();
    std::size_t constant_words = 0;
    for (const std::string& piece : parts) constant_words += letter_runs(piece);
    if (constant_words >= kMessageMinWords) out.push_back(std::move(parts));
  }
  return out;
}

bool prints_message(const MessageTemplate& t, std::string_view message) {
  if (t.empty()) return false;
  std::string m;
  append_normalised(m, trim(message));
  while (!m.empty() && m.back() == '.') m.pop_back();
  // Every run of the ": "-separated parts, the whole message first.
  std::vector<std::size_t> cuts{0};  // where a part starts
  for (std::size_t at = m.find(": "); at != std::string::npos; at = m.find(": ", at + 2))
    cuts.push_back(at + 2);
  const std::string_view mv(m);
  for (std::size_t a = 0; a < cuts.size(); ++a) {
    for (std::size_t b = cuts.size(); b > a; --b) {
      const std::size_t end = b == cuts.size() ? mv.size() : cuts[b] - 2;
      if (matches_template(t, mv.substr(cuts[a], end - cuts[a]))) return true;
    }
  }
  return false;
}

std::optional<FileReference> node_id_in_line(std::string_view line) {
  std::optional<FileReference> found;
  std::string_view token_found;
  bool two = false;  // two different tests: neither
  for_each_token(line, [&](std::string_view token, std::size_t) {
    const std::size_t sep = token.find("::");
    if (two || sep == std::string_view::npos || sep < 4 || token.substr(sep - 3, 3) != ".py")
      return;
    std::optional<FileReference> ref = file_reference(token);
    if (!ref || ref->symbol.empty()) return;
    two = found && token != token_found;
    found = std::move(ref);
    token_found = token;
  });
  if (two) return std::nullopt;
  return found;
}

std::vector<FileReference> frames_in_text(std::string_view text) {
  std::vector<std::pair<std::size_t, FileReference>> found;  // by position in the text
  const auto digits = [](std::string_view s) {
    std::uint32_t n = 0;
    std::size_t k = 0;
    for (; k < s.size() && k < 9 && s[k] >= '0' && s[k] <= '9'; ++k)
      n = n * 10 + static_cast<std::uint32_t>(s[k] - '0');
    return k == 0 ? 0u : n;
  };
  constexpr std::string_view kFile = "File \"", kLine = ", line ";
  for (std::size_t at = text.find(kFile); at != std::string_view::npos;
       at = text.find(kFile, at + 1)) {
    const std::size_t start = at + kFile.size();
    const std::size_t close = text.find('"', start);
    if (close == std::string_view::npos) break;
    const std::string_view after = text.substr(close + 1);
    if (!after.starts_with(kLine)) continue;
    const std::uint32_t line = digits(after.substr(kLine.size()));
    std::optional<FileReference> ref = file_reference(text.substr(start, close - start));
    if (!ref || line == 0 || !ref->symbol.empty()) continue;
    ref->line = line;
    // `, in NAME` after the line number: the frame's function (an identifier).
    constexpr std::string_view kIn = ", in ";
    std::string_view rest = after.substr(kLine.size());
    rest.remove_prefix(std::min(rest.find_first_not_of("0123456789"), rest.size()));
    if (rest.starts_with(kIn)) {
      rest.remove_prefix(kIn.size());
      std::size_t n = 0;
      while (n < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[n])) ||
                                 rest[n] == '_' || static_cast<unsigned char>(rest[n]) >= 0x80))
        ++n;
      if (n > 0 && !std::isdigit(static_cast<unsigned char>(rest[0])))
        ref->function = std::string(rest.substr(0, n));
    }
    found.emplace_back(at, std::move(*ref));
  }
  for_each_token(text, [&](std::string_view token, std::size_t begin) {
    if (token.find(':') == std::string_view::npos || token.find("::") != std::string_view::npos)
      return;
    std::optional<FileReference> ref = file_reference(token);
    if (ref && ref->line > 0) found.emplace_back(begin, std::move(*ref));
  });
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<FileReference> out;
  out.reserve(found.size());
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

namespace {

// The optimal string alignment distance of `a` and `b` (insertions, deletions, substitutions and
// swaps of neighbouring characters), or `bound` + 1 once it must exceed `bound`.
std::size_t osa_distance(std::string_view a, std::string_view b, std::size_t bound) {
  if ((a.size() > b.size() ? a.size() - b.size() : b.size() - a.size()) > bound) return bound + 1;
  std::vector<std::size_t> prev2(b.size() + 1), prev(b.size() + 1), row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    std::size_t best = row[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], prev2[j - 2] + 1);
      best = std::min(best, row[j]);
    }
    if (best > bound) return bound + 1;
    std::swap(prev2, prev);
    std::swap(prev, row);
  }
  return std::min(prev[b.size()], bound + 1);
}

}  // namespace

std::optional<std::string_view> misspelt_file_name(std::string_view typed,
                                                   const std::vector<std::string_view>& names) {
  const std::size_t dot = typed.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || typed.size() > 255) return std::nullopt;
  const std::string_view stem = typed.substr(0, dot), ext = typed.substr(dot);
  if (stem.size() < 4) return std::nullopt;  // the typo correction's shortest word
  const std::size_t most = stem.size() >= 6 ? 2 : 1;
  std::optional<std::string_view> best;
  std::size_t best_dist = most + 1;
  bool tie = false;  // another name as close as `best`
  for (const std::string_view name : names) {
    if (!name.ends_with(ext) || name.size() == ext.size()) continue;
    const std::string_view other = name.substr(0, name.size() - ext.size());
    const std::size_t bound = most == 2 && other.front() == stem.front() ? 2 : 1;
    const std::size_t d = osa_distance(stem, other, std::min(bound, best_dist));
    if (d > bound || d == 0 || d > best_dist) continue;
    if (d == best_dist) {
      tie = tie || *best != name;
      continue;
    }
    best = name;
    best_dist = d;
    tie = false;
  }
  if (!best || tie) return std::nullopt;
  return best;
}

std::size_t path_match(std::string_view indexed, std::string_view named) {
  if (indexed.empty() || named.empty()) return 0;
  if (indexed == named) return indexed.size();
  const std::string_view& longer = indexed.size() > named.size() ? indexed : named;
  const std::string_view& shorter = indexed.size() > named.size() ? named : indexed;
  if (longer.ends_with(shorter) && longer[longer.size() - shorter.size() - 1] == '/')
    return shorter.size();
  return 0;
}

std::uint8_t path_class(std::string_view path_in) {
  const std::string path = lower(path_in);
  const std::string_view p(path);
  std::uint8_t c = 0;
  const auto slash = p.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? p : p.substr(slash + 1);
  // Directory segments.
  std::string_view dirs = slash == std::string_view::npos ? std::string_view{} : p.substr(0, slash);
  while (!dirs.empty()) {
    const auto s = dirs.find('/');
    const std::string_view seg = dirs.substr(0, s);
    dirs = s == std::string_view::npos ? std::string_view{} : dirs.substr(s + 1);
    if (seg == "test" || seg == "tests" || starts_with(seg, "test_") || ends_with(seg, "_test") ||
        ends_with(seg, "_tests")) {
      c |= kPathTest;
    }
    if (seg == "static") c |= kPathAsset;
    if (seg == "migrations") c |= kPathGenerated;
    // A language's tree below a `locale` folder (`conf/locale/de/formats.py`, catalogs) is data;
    // a file directly in it is the locale package's own code (`sphinx/locale/__init__.py`).
    if (seg == "locale" && !dirs.empty()) c |= kPathNeverCode;
    if (seg == "_vendor" || seg == "vendor" || seg == "vendored" || seg == "third_party" ||
        seg == "thirdparty") {
      c |= kPathVendored;
    }
  }
  if (ends_with(base, ".py") &&
      (starts_with(base, "test_") || ends_with(base, "_test.py") || ends_with(base, "_tests.py") ||
       base == "tests.py" || base == "conftest.py")) {
    c |= kPathTest;
  }
  for (const std::string_view ext : {".css", ".js", ".map", ".svg", ".scss", ".less"}) {
    if (ends_with(base, ext)) c |= kPathAsset;
  }
  if (ends_with(base, "_pb2.py")) c |= kPathGenerated;
  for (const std::string_view ext : {".po", ".pot", ".mo", ".min.js", ".min.css"}) {
    if (ends_with(base, ext)) c |= kPathNeverCode;
  }
  return c;
}

bool never_code_file(std::string_view path_in) {
  const std::string path = lower(path_in);
  for (const std::string_view ext : {".po", ".pot", ".mo", ".min.js", ".min.css", ".png", ".jpg",
                                     ".jpeg", ".gif", ".ico", ".bmp", ".webp", ".tif", ".tiff"}) {
    if (ends_with(path, ext)) return true;
  }
  return false;
}

double centrality_factor(double c) noexcept {
  if (!(c > 0.0)) return 1.0;
  return std::clamp(1.0 + kCentralityWeight * std::log(c), kCentralityMin, kCentralityMax);
}

double file_coverage_factor(double coverage) noexcept {
  return 1.0 + kFileCoverageWeight * std::clamp(coverage, 0.0, 1.0);
}

double prose_coverage_factor(double coverage) noexcept {
  return 1.0 + kProseCoverageWeight * std::clamp(coverage, 0.0, 1.0);
}

double path_factor(PathClass c) noexcept {
  switch (c) {
    case kPathTest:
      return 0.35;
    case kPathAsset:
      return 0.3;
    case kPathGenerated:
      return 0.5;
    case kPathNeverCode:
      return 0.0;
    case kPathVendored:
      return 0.6;
  }
  return 1.0;
}

bool asks_for(PathClass c, std::string_view t) noexcept {
  switch (c) {
    case kPathTest:
      return t == "test" || t == "unittest" || t == "pytest";
    case kPathAsset:
      return t == "css" || t == "js" || t == "static" || t == "asset" || t == "javascript";
    case kPathGenerated:
      return t == "migrat" || t == "pb2" || t == "generat";
    case kPathNeverCode:
      return t == "po" || t == "locale" || t == "translat" || t == "msgid";
    case kPathVendored:
      return t == "vendor" || t == "vendored" || t == "third" || t == "thirdparty";
  }
  return false;
}

namespace {

// The file or package name of a module path as written: `pkg/csv.py` → csv, `pkg/db/__init__.py`
// → db.
std::string_view module_base(std::string_view path) {
  std::string_view p = path;
  if (const auto dot = p.rfind('.');
      dot != std::string_view::npos && p.find('/', dot) == std::string_view::npos) {
    p = p.substr(0, dot);
  }
  if (ends_with(p, "/__init__") || p == "__init__") {
    p = p.substr(0, p.size() >= 9 ? p.size() - 9 : 0);
  }
  if (const auto slash = p.rfind('/'); slash != std::string_view::npos) p = p.substr(slash + 1);
  return p;
}

}  // namespace

std::string module_word(std::string_view path) {
  const auto tok = whole_word_token(module_base(path));
  if (!tok || tok->find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
    return {};
  return *tok;
}

std::string module_stem(std::string_view path) {
  const std::string word = module_word(path);
  return word.empty() ? word : stem(word);
}

std::vector<std::uint8_t> module_splits(std::string_view path) {
  std::vector<std::uint8_t> cuts;
  std::string_view word = module_base(path);
  while (!word.empty() && word.front() == '_') word.remove_prefix(1);
  while (!word.empty() && word.back() == '_') word.remove_suffix(1);
  // Capitals or inner underscores: the tokenizer splits those names into their words already.
  if (word.size() < 6 || word.size() > 64 ||
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string_view::npos)
    return cuts;
  for (std::size_t i = 3; i + 3 <= word.size(); ++i) cuts.push_back(static_cast<std::uint8_t>(i));
  return cuts;
}

namespace {

// Standard programming abbreviations of English words (general vocabulary of identifiers, not
// of any one code base), sorted by word.
constexpr std::pair<std::string_view, std::string_view> kAbbreviations[] = {
    {"address", "addr"},       {"allocate", "alloc"},   {"application", "app"},
    {"argument", "arg"},       {"attribute", "attr"},   {"authentication", "auth"},
    {"buffer", "buf"},         {"calculate", "calc"},   {"character", "char"},
    {"command", "cmd"},        {"compare", "cmp"},      {"configuration", "config"},
    {"connection", "conn"},    {"context", "ctx"},      {"current", "cur"},
    {"database", "db"},        {"definition", "def"},   {"delete", "del"},
    {"description", "desc"},   {"destination", "dst"},  {"dictionary", "dict"},
    {"directory", "dir"},      {"document", "doc"},     {"environment", "env"},
    {"error", "err"},          {"execute", "exec"},     {"expression", "expr"},
    {"extension", "ext"},      {"format", "fmt"},       {"function", "func"},
    {"generate", "gen"},       {"identifier", "id"},    {"implementation", "impl"},
    {"index", "idx"},          {"information", "info"}, {"initialize", "init"},
    {"input", "in"},           {"iterator", "iter"},    {"length", "len"},
    {"library", "lib"},        {"manager", "mgr"},      {"maximum", "max"},
    {"message", "msg"},        {"minimum", "min"},      {"module", "mod"},
    {"number", "num"},         {"object", "obj"},       {"operation", "op"},
    {"output", "out"},         {"package", "pkg"},      {"parameter", "param"},
    {"password", "passwd"},    {"pointer", "ptr"},      {"position", "pos"},
    {"previous", "prev"},      {"process", "proc"},     {"receive", "recv"},
    {"reference", "ref"},      {"request", "req"},      {"response", "resp"},
    {"separator", "sep"},      {"sequence", "seq"},     {"source", "src"},
    {"specification", "spec"}, {"standard", "std"},     {"statement", "stmt"},
    {"statistics", "stats"},   {"string", "str"},       {"synchronize", "sync"},
    {"system", "sys"},         {"temporary", "tmp"},    {"utility", "util"},
    {"value", "val"},          {"variable", "var"},
};

static_assert(std::is_sorted(std::begin(kAbbreviations), std::end(kAbbreviations),
                             [](const auto& a, const auto& b) { return a.first < b.first; }),
              "kAbbreviations is searched by binary search");

// Abbreviations of word sequences (the words, space-separated).
constexpr std::pair<std::string_view, std::string_view> kPhraseAbbreviations[] = {
    {"current working directory", "cwd"},
    {"file descriptor", "fd"},
    {"group id", "gid"},
    {"process id", "pid"},
    {"process identifier", "pid"},
    {"regular expression", "regex"},
    {"standard error", "stderr"},
    {"standard input", "stdin"},
    {"standard output", "stdout"},
    {"user id", "uid"},
};

// The abbreviation of `w` (a lowercase word): the table's, or for a plural of a table word
// (`directories`, `messages`) the abbreviation plus "s". Empty when none.
std::string abbreviation(std::string_view w) {
  const auto find = [](std::string_view x) -> std::string_view {
    const auto it = std::lower_bound(std::begin(kAbbreviations), std::end(kAbbreviations), x,
                                     [](const auto& e, std::string_view k) { return e.first < k; });
    return it != std::end(kAbbreviations) && it->first == x ? it->second : std::string_view{};
  };
  if (const auto a = find(w); !a.empty()) return std::string(a);
  std::string singular;
  if (ends_with(w, "ies")) {
    singular = std::string(w.substr(0, w.size() - 3)) + "y";
  } else if (ends_with(w, "es") && (ends_with(w, "sses") || ends_with(w, "xes"))) {
    singular = std::string(w.substr(0, w.size() - 2));
  } else if (ends_with(w, "s") && !ends_with(w, "ss")) {
    singular = std::string(w.substr(0, w.size() - 1));
  }
  if (singular.empty()) return {};
  if (const auto a = find(singular); !a.empty()) return std::string(a) + "s";
  return {};
}

}  // namespace

namespace {

// A query's letter words, lowercased, each with whether it is adjacent to the previous one.
struct Word {
  std::string text;
  bool joined;  // only spaces / hyphens (and skipped articles) since the previous word
};

std::vector<Word> letter_words(std::string_view q) {
  std::vector<Word> words;
  bool adjacent = false;
  std::size_t i = 0;
  while (i < q.size()) {
    const char c = q[i];
    if (std::isalpha(static_cast<unsigned char>(c))) {
      std::size_t e = i;
      while (e < q.size() && std::isalnum(static_cast<unsigned char>(q[e]))) ++e;
      std::string w = lower(q.substr(i, e - i));
      const bool letters =
          std::all_of(w.begin(), w.end(), [](char x) { return x >= 'a' && x <= 'z'; });
      if (!letters) {
        adjacent = false;
      } else if (w == "a" || w == "an" || w == "the") {
        // skipped over: adjacency is kept
      } else {
        words.push_back({std::move(w), adjacent});
        adjacent = true;
      }
      i = e;
      continue;
    }
    if (const std::size_t len = space_at(q, i); len > 1) {  // a Unicode space: as ' '
      i += len;
      continue;
    }
    if (c != ' ' && c != '-') adjacent = false;
    ++i;
  }
  return words;
}

}  // namespace

std::vector<std::string> query_phrases(std::string_view q) {
  const std::vector<Word> words = letter_words(q);
  std::vector<std::string> stems;
  stems.reserve(words.size());
  for (const Word& w : words) stems.push_back(stem(w.text));
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;  // a pasted text's runs are many: no quadratic look-up
  for (std::size_t k = 0; k < words.size(); ++k) {
    std::string phrase = stems[k];
    for (std::size_t j = k + 1; j < words.size() && j < k + 4 && words[j].joined; ++j) {
      phrase += ' ';
      phrase += stems[j];
      if (seen.insert(phrase).second) out.push_back(phrase);
    }
  }
  return out;
}

std::string module_phrase(std::string_view word) {
  std::string out;
  std::size_t parts = 0;
  std::size_t i = 0;
  while (i < word.size()) {
    while (i < word.size() && word[i] == '_') ++i;
    std::size_t e = i;
    while (e < word.size() && word[e] != '_') ++e;
    if (e == i) break;
    const std::string_view part = word.substr(i, e - i);
    if (part.size() < 2 ||
        part.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string_view::npos)
      return {};
    if (++parts > 4) return {};
    if (!out.empty()) out += ' ';
    out += stem(part);
    i = e;
  }
  // A test module's `test_` / `_test` is the naming convention, not part of a name: its phrase
  // would name `test_suite.py` for every question about a test suite.
  if (parts < 2 || out.starts_with("test ") || out.ends_with(" test")) return {};
  return out;
}

std::vector<CompoundCandidate> compound_candidates(std::string_view q) {
  const std::vector<Word> words = letter_words(q);
  std::vector<CompoundCandidate> out;
  // Hash sets, not scans: a pasted text of n words has ~5n candidates.
  std::unordered_set<std::string_view> own;
  for (const auto& w : words) own.insert(w.text);
  std::unordered_set<std::string> listed;
  const auto push = [&](std::string text, std::string from) {
    listed.insert(text);
    out.push_back({std::move(text), std::move(from)});
  };
  const auto add = [&](std::string text, std::string from) {
    if (text.size() < 5) return;
    if (own.contains(text) || listed.contains(text)) return;
    push(std::move(text), std::move(from));
  };
  const auto forms = [](const std::string& w) {
    std::vector<std::string> f{w};
    if (auto a = abbreviation(w); !a.empty()) f.push_back(std::move(a));
    return f;
  };
  for (std::size_t k = 0; k < words.size(); ++k) {
    // Multi-word abbreviations.
    for (const auto& [phrase, abbr] : kPhraseAbbreviations) {
      std::string seq = words[k].text;
      for (std::size_t j = k + 1; j < words.size() && seq.size() < phrase.size() && words[j].joined;
           ++j) {
        seq += ' ';
        seq += words[j].text;
      }
      if (seq.size() >= phrase.size() && seq.compare(0, phrase.size(), phrase) == 0 &&
          (seq.size() == phrase.size() || seq[phrase.size()] == ' ')) {
        push(std::string(abbr), std::string(phrase));
      }
    }
    if (k + 1 >= words.size() || !words[k + 1].joined) continue;
    const std::string from2 = words[k].text + " " + words[k + 1].text;
    for (const auto& a : forms(words[k].text)) {
      for (const auto& b : forms(words[k + 1].text)) add(a + b, from2);
    }
    if (k + 2 < words.size() && words[k + 2].joined) {
      add(words[k].text + words[k + 1].text + words[k + 2].text, from2 + " " + words[k + 2].text);
    }
  }
  return out;
}

bool is_stop_word(std::string_view t) noexcept {
  // Question and function words of English queries (not identifiers a Python tree defines).
  static constexpr std::string_view kStop[] = {
      "a",     "about",  "after", "all",   "also",  "an",   "and",   "any",   "are",  "as",
      "at",    "be",     "been",  "being", "by",    "can",  "could", "did",   "do",   "does",
      "done",  "each",   "for",   "from",  "has",   "have", "here",  "how",   "i",    "if",
      "in",    "into",   "is",    "it",    "its",   "me",   "my",    "of",    "on",   "or",
      "our",   "should", "so",    "some",  "than",  "that", "the",   "their", "them", "then",
      "there", "these",  "they",  "this",  "those", "to",   "was",   "we",    "were", "what",
      "when",  "where",  "which", "while", "who",   "whom", "whose", "why",   "will", "with",
      "would", "you",    "your"};
  return std::binary_search(std::begin(kStop), std::end(kStop), t);
}

std::vector<QueryTerm> parse_query(std::string_view q, bool drop_stop_words) {
  std::vector<QueryTerm> all;
  std::size_t i = 0;
  while (i < q.size()) {
    const char open = q[i];
    std::size_t end = q.size();
    bool exact = false;
    if (open == '"' || open == '`') {
      const auto close = q.find(open, i + 1);
      if (close != std::string_view::npos) {
        exact = true;
        end = close;
        ++i;
      }
    }
    if (!exact) {
      end = std::min(q.find('"', i + 1), q.find('`', i + 1));
      if (end == std::string_view::npos) end = q.size();
    }
    // Words separated by ASCII or Unicode spaces: one that tokenizes into several pieces, or holds
    // an underscore, is a compound identifier (snake_case, camelCase, digits inside).
    const std::string_view span = q.substr(i, end - i);
    std::size_t w = 0;
    while (w < span.size()) {
      while (const std::size_t len = space_at(span, w)) w += len;
      std::size_t we = w;
      while (we < span.size() && space_at(span, we) == 0) ++we;
      const std::string_view word = span.substr(w, we - w);
      auto pieces = tokenize(word);
      // A word in capitals, two letters or more and no lowercase one, is a constant's or an
      // acronym's name (`SIGCONT`, `O_RDONLY`).
      const auto letters =
          std::count_if(word.begin(), word.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
      const bool capitals = letters >= 2 && std::none_of(word.begin(), word.end(), [](char c) {
                              return c >= 'a' && c <= 'z';
                            });
      const bool name = pieces.size() > 1 || word.find('_') != std::string_view::npos || capitals;
      for (auto& t : pieces) all.push_back({std::move(t), exact, name});
      w = we;
    }
    i = exact ? end + 1 : end;
  }
  const bool any_content = std::any_of(
      all.begin(), all.end(), [](const QueryTerm& t) { return t.exact || !is_stop_word(t.text); });
  std::vector<QueryTerm> out;
  std::unordered_map<std::string, std::size_t> at;  // term → its index in `out`
  for (auto& t : all) {
    if (drop_stop_words && any_content && !t.exact && is_stop_word(t.text)) continue;
    if (const auto same = at.find(t.text); same != at.end()) {
      QueryTerm& x = out[same->second];
      x.exact = x.exact || t.exact;
      x.identifier = x.identifier || t.identifier;
      continue;
    }
    at.emplace(t.text, out.size());
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace trifecta::core::index
