// lang/python/symbol_search.hpp — symbol search by name over the segment's skeleton index (issue
// 13): what `sym.search`, `trifecta sym --find NAME` and the MCP `find_symbol` tool answer. Like an
// editor's symbol picker, a query matches a definition's name
//   exact             `decode` = decode
//   exact-ci          `DECODE` = decode (case-insensitive)
//   prefix            `dec`    ⊑ decode
//   prefix-ci         `Dec`    ⊑ decode
//   substring         `code`   in decode (case-insensitive, contiguous)
//   fuzzy             `jdcd`   a case-insensitive subsequence of JSONDecoder (editor style)
// best first (the order above; inside a class, shorter names, word-boundary and consecutive
// characters score higher), then classes before functions before methods before constants and
// attributes, public names before `_private` ones, then qualname, path and line. A dotted query
// (`JSONDecoder.dec`) matches its last part against the name and the rest, case-insensitively,
// against the last whole parts of the definition's enclosing qualname (`Session.execute` is not
// `AsyncSession.execute`; `Outer.Inner.f` and `Inner.f` both find `Outer.Inner.f`).
//
// Failure behaviour: total. An empty query (or one that is only dots) matches nothing.
//
// Speed: `search_symbols` reads the index's NameTable (lang/python/symbol_index.hpp; built once
// per change of the index, reused by every search until the next): exact and prefix matches are
// one binary search over the lower-cased names; substring and fuzzy look only at names whose
// character mask holds the query's, and test them on bit masks of where each query character is
// (NameScanner). The best `limit` are kept in a bounded heap while scanning; a row is scored only
// when one of its definitions passes the filters and its score can still enter the top, so once
// the top is full of substring-or-better matches, fuzzy ones are only counted (for `total`), and
// counted from the name's row (NameTable::Row::visible; with a kinds filter, the name's per-kind
// counts) without reading its definitions; only a dotted query reads every definition of a
// matching name. No allocation grows with the number of matches; only the best `limit` are
// copied.
//
// Thread rules: `match_name` is a pure function. `search_symbols` takes the index's shared lock
// for the search (SkeletonSymbolIndex::with_names) and is thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/python/symbol_index.hpp"

namespace trifecta::core::navigation {

enum class NameMatchKind {
  kExact,
  kExactIgnoreCase,
  kPrefix,
  kPrefixIgnoreCase,
  kSubstring,
  kFuzzy
};
// "exact" | "exact-ci" | "prefix" | "prefix-ci" | "substring" | "fuzzy"
std::string_view name_match_kind_name(NameMatchKind k) noexcept;

// Which match kinds a search accepts: kExact = exact and exact-ci; kPrefix adds prefix,
// prefix-ci; kFuzzy adds substring and fuzzy.
enum class SearchMode { kExact, kPrefix, kFuzzy };
// "exact" | "prefix" | "fuzzy" → the mode; anything else nullopt.
std::optional<SearchMode> parse_search_mode(std::string_view s) noexcept;

struct NameMatch {
  NameMatchKind kind = NameMatchKind::kFuzzy;
  int score = 0;  // higher is better; every kind's range is above the next kind's
};

// How `candidate` matches `query` under `mode`; nullopt when it does not.
std::optional<NameMatch> match_name(std::string_view query, std::string_view candidate,
                                    SearchMode mode);

struct SymbolSearchOptions {
  SearchMode mode = SearchMode::kFuzzy;
  std::size_t limit = 20;
  std::vector<std::string> kinds;  // keep only these IndexedDefinition kinds (empty: all)
  // The roots removed from a file's path to name its module (the sym:// URI), and a package-root
  // segment's package put in front of it, as NavOptions.
  std::vector<std::string> source_roots{"", "src"};
  std::string package_prefix;
};

struct SymbolHit {
  IndexedDefinition definition;
  std::string module;  // dotted module of definition.file
  std::string uri;     // sym://python/<module>/<qualname>
  NameMatch match;
};

struct SymbolSearchResult {
  std::vector<SymbolHit> hits;    // best first, at most options.limit
  std::size_t total = 0;          // definitions that matched (before the limit)
  std::size_t names_scanned = 0;  // names matched in full (the rest were skipped by the table)
};

// The substring/fuzzy test of the scan on one NameTable row (exposed for its tests). For a row
// whose lower-cased name does not start with the query, `classify` says what match_name(query,
// row.name, kFuzzy) finds: a substring (`at`: its first case-insensitive occurrence after 0), a
// fuzzy match (not scored), or none. Needs row.name, row.lower and row.starts; a name of at most
// 64 bytes is tested on bit masks of its characters' positions when the 64 bytes from
// row.lower.data() may be read (before `readable_end`), else character by character. The row's
// character mask is the caller's prefilter. Thread rules: const, thread-safe.
class NameScanner {
 public:
  enum What { kNone, kSubstring, kFuzzy };
  struct Verdict {
    What what = kNone;
    std::size_t at = 0;
  };
  // `lq`: the query, lower-cased, kept by reference (it must outlive the scanner).
  explicit NameScanner(std::string_view lq);
  Verdict classify(const NameTable::Row& row, const char* readable_end) const noexcept;

 private:
  std::string_view lq_;
};

SymbolSearchResult search_symbols(const SkeletonSymbolIndex& index, std::string_view query,
                                  const SymbolSearchOptions& options = {});

}  // namespace trifecta::core::navigation
