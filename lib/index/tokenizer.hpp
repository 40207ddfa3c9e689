// index/tokenizer.hpp — identifier-aware tokens for indexing and querying.
//
// A *word* is a maximal run of ASCII letters, digits, `_` and non-ASCII bytes (UTF-8 letters
// stay inside words). Each word yields (all ASCII-lowercased, Unicode bytes untouched):
//  * the whole word with leading/trailing `_` stripped, if it has ≥ 2 characters
//    (`JSONDecodeError` → `jsondecodeerror`, `json_decode` → `json_decode`);
//  * its parts, when there are ≥ 2: split at `_`, at lower→Upper (`decodeError`), at the last
//    capital of an acronym (`JSONDecode` → JSON|Decode) and at letter↔digit boundaries
//    (`sha256` → sha|256); parts of 1 character are dropped, and digit-only parts are dropped
//    unless they are a whole word (`404` is a token, the `8` of `utf8` is not).
// Digit-only words longer than 8 digits (hashes, big literals) and any token longer than 64
// bytes are dropped. No stemming, no stop words (BM25's idf discounts common terms).
//
// Thread rules: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trifecta::core::index {

inline constexpr std::string_view kTokenizerVersion = "tok-1";
inline constexpr std::size_t kMaxTokenBytes = 64;

// Call fn(ctx, token) for each token of `text` in order of appearance (duplicates kept). The
// view is only valid during the call. The allocation-free core the indexer uses.
using TokenFn = void (*)(void* ctx, std::string_view token);
void tokenize_each(std::string_view text, TokenFn fn, void* ctx);

// Append the tokens of `text` to `out` in order of appearance (duplicates kept).
void tokenize(std::string_view text, std::vector<std::string>& out);
std::vector<std::string> tokenize(std::string_view text);

// The whole-word token a word yields (the first rule above), if it yields one: `_` stripped at
// both ends, ASCII-lowercased, 2..kMaxTokenBytes bytes, not a digit run over 8 digits. `word`
// should be one word (an identifier); nullopt when the tokenizer would emit no whole-word token.
std::optional<std::string> whole_word_token(std::string_view word);

// Query terms: tokenize + deduplicate, first-seen order.
std::vector<std::string> query_terms(std::string_view query);

}  // namespace trifecta::core::index
