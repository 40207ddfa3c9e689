// index/tokenizer.hpp — identifier-aware tokens for indexing and querying.
//
// A *word* is a maximal run of ASCII letters, digits, `_` and non-ASCII characters other than
// punctuation and symbols: UTF-8 letters stay inside words, while typographic quotes and
// apostrophes, dashes, non-breaking and other Unicode spaces, arrows, mathematical and other
// symbols, CJK and fullwidth punctuation and emoji separate words as ASCII punctuation does
// (`“pretty-print”` → pretty, print; `process’s` → process). None of those is a Python
// identifier character. Capitals are lowercased: ASCII ones, and since tok-3 the two-byte
// capitals of Latin-1, Latin Extended-A, Greek and Cyrillic (`Über` → über, `ΛΌΓΟΣ` and `λόγος`
// → λόγοσ, as Python's str.casefold; not ß, ſ or other scripts), so a word's length never
// changes. Camel case splits at ASCII letters only (a non-ASCII letter is of no case there:
// `ÜBER` stays one word). Each word yields (all lowercased):
//  * the whole word with leading/trailing `_` stripped, if it has ≥ 2 characters
//    (`JSONDecodeError` → `jsondecodeerror`, `json_decode` → `json_decode`);
//  * its parts, when there are ≥ 2: split at `_`, at lower→Upper (`decodeError`), at the last
//    capital of an acronym (`JSONDecode` → JSON|Decode) and at letter↔digit boundaries
//    (`sha256` → sha|256); parts of 1 character are dropped, and digit-only parts are dropped
//    unless they are a whole word (`404` is a token, the `8` of `utf8` is not).
// Digit-only words longer than 8 digits (hashes, big literals) and any token longer than 64
// bytes are dropped. Tokens are indexed as they are (no stemming at index time): `stem` maps a
// token to its Snowball English stem (libstemmer) and search expands a query term to the
// indexed terms of the same stem (ranking.hpp), so the index stays exact for identifiers.
//
// Thread rules: pure functions (`stem` keeps one libstemmer instance per thread).
// Failure behaviour: none; `stem` returns the token unchanged when it is not stemmable or the
// stemmer cannot be created.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trifecta::core::index {

inline constexpr std::string_view kTokenizerVersion = "tok-3";
inline constexpr std::size_t kMaxTokenBytes = 64;

// Call fn(ctx, token) for each token of `text` in order of appearance (duplicates kept). The
// view is only valid during the call. The allocation-free core the indexer uses.
using TokenFn = void (*)(void* ctx, std::string_view token);
void tokenize_each(std::string_view text, TokenFn fn, void* ctx);

// The byte length of the whitespace character at text[i]: ASCII whitespace, or a Unicode space
// (no-break, en/em and the other General Punctuation spaces, line and paragraph separators,
// ideographic space); 0 for anything else. Queries split words with it.
std::size_t space_at(std::string_view text, std::size_t i) noexcept;

// Append the tokens of `text` to `out` in order of appearance (duplicates kept).
void tokenize(std::string_view text, std::vector<std::string>& out);
std::vector<std::string> tokenize(std::string_view text);

// The whole-word token a word yields (the first rule above), if it yields one: `_` stripped at
// both ends, lowercased (as above), 2..kMaxTokenBytes bytes, not a digit run over 8 digits. `word`
// should be one word (an identifier); nullopt when the tokenizer would emit no whole-word token.
std::optional<std::string> whole_word_token(std::string_view word);

// The Snowball English stem of `token` when it is 3..kMaxTokenBytes ASCII lowercase letters
// ("dictionaries" → "dictionari", "hashed" → "hash"); otherwise the token unchanged (identifiers
// with digits or `_`, UTF-8, short words).
std::string stem(std::string_view token);
// Whether `stem` would stem `token` (3+ ASCII lowercase letters, at most kMaxTokenBytes).
bool stemmable(std::string_view token) noexcept;

// Query terms: tokenize + deduplicate, first-seen order.
std::vector<std::string> query_terms(std::string_view query);

}  // namespace trifecta::core::index
