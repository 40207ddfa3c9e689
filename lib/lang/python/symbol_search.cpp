#include "lang/python/symbol_search.hpp"

#include <algorithm>

#include "lang/python/modules.hpp"
#include "selector/sym_uri.hpp"

namespace trifecta::core::navigation {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_lower_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool equal_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && equal_ci(s.substr(s.size() - suffix.size()), suffix);
}

// A word starts at `i` of `s`: the first character, after `_` or `.`, a camel-case hump, or the
// last capital of an acronym followed by a lower-case letter (the `D` of `JSONDecoder`).
bool word_start(std::string_view s, std::size_t i) {
  if (i == 0) return true;
  const char p = s[i - 1], c = s[i];
  if (p == '_' || p == '.') return c != '_';
  if (!is_upper(c)) return false;
  return is_lower_or_digit(p) ||
         (is_upper(p) && i + 1 < s.size() && s[i + 1] >= 'a' && s[i + 1] <= 'z');
}

// Case-insensitive subsequence score: characters at word starts and runs of consecutive
// characters count most, gaps cost a little. Among the candidate positions for the next query
// character, a word start within reach is preferred over the leftmost plain one (what makes
// `gc` pick get_Content's `C` rather than the `c` of `get_content`'s ... `c`).
std::optional<int> fuzzy_score(std::string_view q, std::string_view s) {
  int score = 0;
  std::size_t at = 0;
  std::size_t prev = std::string_view::npos;
  for (std::size_t k = 0; k < q.size(); ++k) {
    const char want = lower(q[k]);
    std::size_t first = std::string_view::npos, boundary = std::string_view::npos;
    for (std::size_t i = at; i < s.size(); ++i) {
      if (lower(s[i]) != want) continue;
      if (first == std::string_view::npos) first = i;
      if (word_start(s, i)) {
        boundary = i;
        break;
      }
    }
    if (first == std::string_view::npos) return std::nullopt;
    // Stay consecutive when possible; else jump to a word start if there is one.
    std::size_t pick = first;
    if (!(prev != std::string_view::npos && first == prev + 1) &&
        boundary != std::string_view::npos)
      pick = boundary;
    int points = 1;
    if (word_start(s, pick)) points += 8;
    if (prev != std::string_view::npos && pick == prev + 1) points += 5;
    if (s[pick] == q[k]) points += 1;
    if (prev != std::string_view::npos)
      points -= static_cast<int>(std::min<std::size_t>(3, pick - prev - 1));
    else
      points -= static_cast<int>(std::min<std::size_t>(5, pick));
    score += points;
    prev = pick;
    at = pick + 1;
  }
  return score;
}

int kind_rank(std::string_view kind) {
  if (kind == "class") return 0;
  if (kind == "function") return 1;
  if (kind == "method") return 2;
  if (kind == "constant") return 3;
  return 4;
}

}  // namespace

std::string_view name_match_kind_name(NameMatchKind k) noexcept {
  switch (k) {
    case NameMatchKind::kExact:
      return "exact";
    case NameMatchKind::kExactIgnoreCase:
      return "exact-ci";
    case NameMatchKind::kPrefix:
      return "prefix";
    case NameMatchKind::kPrefixIgnoreCase:
      return "prefix-ci";
    case NameMatchKind::kSubstring:
      return "substring";
    case NameMatchKind::kFuzzy:
      return "fuzzy";
  }
  return "fuzzy";
}

std::optional<SearchMode> parse_search_mode(std::string_view s) noexcept {
  if (s == "exact") return SearchMode::kExact;
  if (s == "prefix") return SearchMode::kPrefix;
  if (s == "fuzzy") return SearchMode::kFuzzy;
  return std::nullopt;
}

std::optional<NameMatch> match_name(std::string_view q, std::string_view s, SearchMode mode) {
  if (q.empty() || s.empty()) return std::nullopt;
  // Scores: exact 10000, exact-ci 9000, prefix 8000.., prefix-ci 7000.., substring 5000..,
  // fuzzy below 4000; inside a kind, the fewer extra characters the better.
  const int extra =
      static_cast<int>(std::min<std::size_t>(500, s.size() - std::min(s.size(), q.size())));
  if (s == q) return NameMatch{NameMatchKind::kExact, 10000};
  if (equal_ci(s, q)) return NameMatch{NameMatchKind::kExactIgnoreCase, 9000};
  if (mode == SearchMode::kExact) return std::nullopt;
  if (q.size() < s.size()) {
    if (s.compare(0, q.size(), q) == 0) return NameMatch{NameMatchKind::kPrefix, 8000 - extra};
    if (equal_ci(s.substr(0, q.size()), q))
      return NameMatch{NameMatchKind::kPrefixIgnoreCase, 7000 - extra};
  }
  if (mode == SearchMode::kPrefix || q.size() > s.size()) return std::nullopt;
  // Contiguous, case-insensitive, anywhere: a word start scores more than mid-word.
  for (std::size_t i = 1; i + q.size() <= s.size(); ++i) {
    if (equal_ci(s.substr(i, q.size()), q))
      return NameMatch{NameMatchKind::kSubstring, 5000 + (word_start(s, i) ? 400 : 0) - extra};
  }
  if (auto f = fuzzy_score(q, s)) {
    return NameMatch{NameMatchKind::kFuzzy, std::clamp(2000 + *f * 10 - extra, 1, 3999)};
  }
  return std::nullopt;
}

SymbolSearchResult search_symbols(const SkeletonSymbolIndex& index, std::string_view query,
                                  const SymbolSearchOptions& options) {
  SymbolSearchResult out;
  // `Outer.name`: `name` against the name, `Outer` against the end of the enclosing qualname.
  std::string_view name = query, container;
  if (const auto dot = query.rfind('.'); dot != std::string_view::npos) {
    name = query.substr(dot + 1);
    container = query.substr(0, dot);
    while (!container.empty() && container.front() == '.') container.remove_prefix(1);
  }
  if (name.empty()) return out;
  auto wanted_kind = [&](const std::string& kind) {
    return options.kinds.empty() ||
           std::find(options.kinds.begin(), options.kinds.end(), kind) != options.kinds.end();
  };
  struct Found {
    const IndexedDefinition* def;
    NameMatch match;
  };
  std::vector<Found> found;
  auto better = [](const Found& a, const Found& b) {
    if (a.match.score != b.match.score) return a.match.score > b.match.score;
    const int ka = kind_rank(a.def->kind), kb = kind_rank(b.def->kind);
    if (ka != kb) return ka < kb;
    const bool pa = !a.def->name.empty() && a.def->name[0] == '_',
               pb = !b.def->name.empty() && b.def->name[0] == '_';
    if (pa != pb) return !pa;
    if (a.def->qualname.size() != b.def->qualname.size())
      return a.def->qualname.size() < b.def->qualname.size();
    if (a.def->qualname != b.def->qualname) return a.def->qualname < b.def->qualname;
    if (a.def->file != b.def->file) return a.def->file < b.def->file;
    return a.def->line < b.def->line;
  };
  index.for_each_name(
      [&](const std::string& n, const std::vector<IndexedDefinition>& entries) {
        ++out.names_scanned;
        auto m = match_name(name, n, options.mode);
        if (!m) return;
        for (const auto& e : entries) {
          if (!wanted_kind(e.kind)) continue;
          if (e.qualname.find("<locals>") != std::string::npos)
            continue;  // no sym:// URI names a local
          if (!container.empty()) {
            const std::string_view q(e.qualname);
            const std::string_view enclosing = q.size() > e.name.size()
                                                   ? q.substr(0, q.size() - e.name.size() - 1)
                                                   : std::string_view();
            if (!ends_with_ci(enclosing, container)) continue;
          }
          found.push_back({&e, *m});
        }
      },
      [&] {  // still under the index's lock: the pointers are valid
        out.total = found.size();
        const std::size_t keep = std::min(options.limit, found.size());
        std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(keep),
                          found.end(), better);
        for (std::size_t i = 0; i < keep; ++i) {
          SymbolHit h;
          h.definition = *found[i].def;
          h.match = found[i].match;
          out.hits.push_back(std::move(h));
        }
      });
  for (auto& h : out.hits) {
    h.module = lang::python::module_of(h.definition.file, options.source_roots);
    h.uri = selector::make_sym_uri(h.module, h.definition.qualname);
  }
  return out;
}

}  // namespace trifecta::core::navigation
