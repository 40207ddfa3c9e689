// lang/python/lexical.hpp — Python's strings and comments found by a linear scan of the text,
// without a parse: the one scanner behind the chunker's statement cuts (index/chunk.cpp), the doc
// field's docstrings and comments (index/ranking.cpp) and the parse guard's bracket count
// (extractor.hpp, bracket_nesting); each caller counts its own brackets.
//
// The rules are the lexer's where it matters for those three and lenient elsewhere: a string
// starts at a quote (a prefix such as `rb` is the caller's business: it is identifier text
// before the quote); a backslash always skips the next byte (also in raw strings, as CPython's
// tokenizer does for the quote, and a backslash-newline continues a one-line string); a one-line
// string left open ends at its line's '\n' (a lone '\r' does not end it: our lines are
// '\n'-separated), a triple-quoted one at the end of the text. f-string replacement fields are
// part of the string. Malformed input never fails: every function returns a position inside
// [i, text.size()].
//
// Thread rules: pure functions. Header-only.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace trifecta::core::lang::python {

struct StringLiteral {
  std::size_t end = 0;            // just after the closing quote(s), or where the string stopped
  std::size_t content_begin = 0;  // [content_begin, content_end): the text between the quotes
  std::size_t content_end = 0;
};

// The string literal whose opening quote (`'` or `"`) is at t[i]. An unterminated one-line
// string ends at its '\n' (`end` is that newline's index, not past it); an unterminated
// triple-quoted one at t.size().
// Inline: the doc field calls it for every string of every Python chunk of a build.
inline StringLiteral scan_string(std::string_view t, std::size_t i) noexcept {
  const char q = t[i];
  const bool triple = i + 2 < t.size() && t[i + 1] == q && t[i + 2] == q;
  std::size_t j = i + (triple ? 3 : 1);
  StringLiteral s;
  s.content_begin = j;
  if (triple) {
    // A docstring is long and holds few quotes: go from quote to quote (memchr). A quote is
    // escaped when an odd run of backslashes stands right before it — what skipping the byte
    // after each backslash, as below, makes of it.
    while (j < t.size()) {
      const void* hit = std::memchr(t.data() + j, q, t.size() - j);
      if (!hit) break;
      const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(hit) - t.data());
      std::size_t run = 0;
      while (at - run > s.content_begin && t[at - run - 1] == '\\') ++run;
      if (run % 2 == 0 && at + 2 < t.size() && t[at + 1] == q && t[at + 2] == q) {
        s.content_end = at;
        s.end = at + 3;
        return s;
      }
      j = at + 1;
    }
    s.content_end = s.end = t.size();
    return s;
  }
  while (j < t.size()) {
    const char c = t[j];
    if (c == '\\') {
      j += 2;
      continue;
    }
    if (c == q) {
      if (!triple) {
        s.content_end = j;
        s.end = j + 1;
        return s;
      }
      if (j + 2 < t.size() && t[j + 1] == q && t[j + 2] == q) {
        s.content_end = j;
        s.end = j + 3;
        return s;
      }
    } else if (c == '\n' && !triple) {
      s.content_end = s.end = j;
      return s;
    }
    ++j;
  }
  s.content_end = s.end = t.size();
  return s;
}

// The comment starting at t[i] (`#`) ends at the index of its '\n', or at t.size().
inline std::size_t comment_end(std::string_view t, std::size_t i) noexcept {
  const std::size_t e = t.find('\n', i);
  return e == std::string_view::npos ? t.size() : e;
}

}  // namespace trifecta::core::lang::python
