// util/utf8.hpp — THE text decoding of source files: UTF-8 validation, the PEP 263 decision, and
// the repair of invalid bytes. Every path that turns file bytes into text (the workspace
// FileReader, hence ctx.get / disclosure, index chunking, fallback navigation; and the skeleton
// extractor) decodes through `decode_source`, so one file reads the same everywhere.
//
// The decision, made only when the bytes are not valid UTF-8 (valid UTF-8 is returned as is):
//  1. a PEP 263 coding declaration (`# -*- coding: latin-1 -*-`, `# vim: set fileencoding=cp1252`,
//     any `coding[:=]\s*NAME` in a comment on line 1 or 2): Latin-1 (ISO-8859-1 and its aliases)
//     and Windows-1252 (cp1252) are decoded properly; a declared UTF-8 falls through to step 3;
//  2. else a UTF-8 byte-order mark: the file says it is UTF-8, step 3 (a BOM before a declaration
//     stays a BOM: only the bytes after it are decoded by the declared codec);
//  3. else (and for every other declared codec) each invalid sequence is replaced by U+FFFD, one
//     per maximal subpart (Unicode's recommended practice, what Python's `errors="replace"` does),
//     and the number of invalid bytes is reported.
// A leading BOM is kept in the text (callers that parse strip it: see `strip_bom`).
//
// Thread rules: pure functions, no state; safe from any thread.
// Failure behaviour: none — every byte string decodes to valid UTF-8.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace trifecta::core::utf8 {

inline constexpr std::string_view kBom = "\xEF\xBB\xBF";
inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
// decode_source's text is at most this many times longer than its bytes (one byte → U+FFFD or
// a cp1252 letter: 3 bytes).
inline constexpr std::size_t kMaxDecodedGrowth = 3;

// Length of the longest prefix of `bytes` that is valid UTF-8 (== bytes.size() when valid).
std::size_t valid_prefix(std::string_view bytes) noexcept;
inline bool is_valid(std::string_view bytes) noexcept { return valid_prefix(bytes) == bytes.size(); }
// Where `bytes` stops being UTF-8, for an error message: "byte 0xE9 at offset 3"; "" when valid.
std::string first_invalid(std::string_view bytes);

// Replace each maximal invalid subpart by U+FFFD. Returns the number of invalid bytes; 0 means
// `bytes` is valid and `out` was not touched.
std::size_t replace_invalid(std::string_view bytes, std::string& out);

// The codec a PEP 263 declaration on line 1 or 2 names, lower-cased with `_` → `-` ("latin-1",
// "cp1252", "utf-8", ...; Python's aliases for Latin-1 and cp1252 are normalised to those two
// names), or "" when there is no declaration. Only comment lines count.
std::string declared_encoding(std::string_view bytes);

// Each byte as one code point (ISO-8859-1); or Windows-1252, where 0x80–0x9F are cp1252's
// letters (€, ‚, ƒ, ...) and the five bytes cp1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D,
// which Python refuses) become U+FFFD, counted in `*replaced` when given.
std::string latin1_to_utf8(std::string_view bytes);
std::string cp1252_to_utf8(std::string_view bytes, std::size_t* replaced = nullptr);

struct Decoded {
  std::string encoding = "utf-8";  // "utf-8" | "latin-1" | "cp1252": how the bytes were read
  std::size_t replaced_bytes = 0;  // invalid bytes replaced by U+FFFD (0 = clean)
  bool had_bom = false;            // the bytes start with a UTF-8 BOM (kept in the text)
  bool changed = false;            // `text` differs from the input (false: it was not written)
};

// Decode source bytes by the decision above. When the bytes are valid UTF-8 `out` is not
// written (`changed == false`): the caller keeps using its bytes, no copy is made.
Decoded decode_source(std::string_view bytes, std::string& out);

// ---- names that are not UTF-8 (file and directory names; docs/protocol.md "Names that are not
// UTF-8") ----
// A name (or any string trifecta writes as JSON) that is valid UTF-8 is written as it is. One
// that is not is written percent-escaped: every byte of an invalid sequence as `%XX` (upper-case
// hex), every `%` as `%25`, everything else as it is — valid UTF-8, lossless and reversible.
// `unescape_name` reverses it: it returns the decoded bytes only when `text` holds a `%XX`
// escape and decoding gives a string that is NOT valid UTF-8 (the only strings escape_name
// escapes); otherwise nullopt, and `text` is meant literally. So a real name `100%sure.py` is
// never decoded. Resolution (util/paths.hpp `safe_join`) tries the literal name first.
bool needs_escape(std::string_view bytes) noexcept;  // == !is_valid(bytes)
std::string escape_name(std::string_view bytes);     // bytes as they are when valid
std::optional<std::string> unescape_name(std::string_view text);

// `text` without a leading UTF-8 BOM.
inline std::string_view strip_bom(std::string_view text) noexcept {
  return text.substr(0, kBom.size()) == kBom ? text.substr(kBom.size()) : text;
}

}  // namespace trifecta::core::utf8
