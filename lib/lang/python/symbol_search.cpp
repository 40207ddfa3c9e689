#include "lang/python/symbol_search.hpp"

#include <algorithm>

#include "lang/python/modules.hpp"
#include "selector/sym_uri.hpp"

namespace trifecta::core::navigation {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
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

bool word_start(std::string_view s, std::size_t i) {
  return name_word_start(s, i);
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

namespace {

std::string lower_copy(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

// Whether fuzzy_score(q, s) would find a match, without the score: the same walk (a word start
// within reach is preferred over the leftmost plain occurrence unless that one is consecutive),
// on the lower-cased spellings. Used to count the fuzzy matches that cannot make the top.
bool fuzzy_matches(std::string_view lq, const NameTable::Row& r) {
  const std::string_view s = r.name, ls = r.lower;
  std::size_t at = 0;
  std::size_t prev = std::string_view::npos;
  for (const char want : lq) {
    std::size_t first = std::string_view::npos, boundary = std::string_view::npos;
    for (std::size_t i = ls.find(want, at); i != std::string_view::npos; i = ls.find(want, i + 1)) {
      if (first == std::string_view::npos) first = i;
      if (i < 64 ? (r.starts >> i) & 1 : word_start(s, i)) {
        boundary = i;
        break;
      }
    }
    if (first == std::string_view::npos) return false;
    std::size_t pick = first;
    if (!(prev != std::string_view::npos && first == prev + 1) &&
        boundary != std::string_view::npos)
      pick = boundary;
    prev = pick;
    at = pick + 1;
  }
  return true;
}

}  // namespace

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
  bool wanted[NameTable::kOther + 1];
  for (int k = 0; k <= NameTable::kOther; ++k) {
    wanted[k] = options.kinds.empty();
  }
  for (const auto& k : options.kinds) {
    const auto code = name_table_kind(k);
    // An unknown kind name matches no definition's kind ("other" kinds have their own names).
    if (code != NameTable::kOther) wanted[code] = true;
  }
  const std::string lq = lower_copy(name);
  const std::uint64_t qmask = name_char_mask(lq);

  struct Found {
    const IndexedDefinition* def;
    NameTable::Kind kind;
    NameMatch match;
  };
  std::vector<Found> found;
  auto better = [](const Found& a, const Found& b) {
    if (a.match.score != b.match.score) return a.match.score > b.match.score;
    const IndexedDefinition& da = *a.def;
    const IndexedDefinition& db = *b.def;
    // Classes, functions, methods, constants, then the rest.
    const int ka = std::min<int>(a.kind, NameTable::kAttribute),
              kb = std::min<int>(b.kind, NameTable::kAttribute);
    if (ka != kb) return ka < kb;
    const bool pa = !da.name.empty() && da.name[0] == '_',
               pb = !db.name.empty() && db.name[0] == '_';
    if (pa != pb) return !pa;
    if (da.qualname.size() != db.qualname.size()) return da.qualname.size() < db.qualname.size();
    if (da.qualname != db.qualname) return da.qualname < db.qualname;
    if (da.file != db.file) return da.file < db.file;
    return da.line < db.line;
  };

  index.with_names([&](const NameTable& t) {
    // Whether the filters (kinds, locals, the dotted query's container) keep a definition.
    auto kept = [&](const IndexedDefinition& d, NameTable::Kind kind) {
      if (!wanted[kind]) return false;
      if (d.qualname.find("<locals>") != std::string::npos) return false;  // no sym:// URI
      if (container.empty()) return true;
      const std::string_view q(d.qualname);
      const std::string_view enclosing =
          q.size() > d.name.size() ? q.substr(0, q.size() - d.name.size() - 1) : std::string_view();
      return ends_with_ci(enclosing, container);
    };
    auto any_kept = [&](const NameTable::Row& r) {
      for (const auto& d : *r.defs)
        if (kept(d, name_table_kind(d.kind))) return true;
      return false;
    };
    // The definitions of a matching row that the filters keep: pushed (when `keep`) or counted.
    auto take = [&](const NameTable::Row& r, const NameMatch& m, bool keep) {
      for (const auto& d : *r.defs) {
        const auto kind = name_table_kind(d.kind);
        if (!kept(d, kind)) continue;
        ++out.total;
        if (keep) found.push_back({&d, kind, m});
      }
    };
    // Exact, exact-ci, prefix and prefix-ci matches are the rows whose lower-cased name starts
    // with the lower-cased query (exact mode: equals it): one binary search.
    const auto lo =
        std::lower_bound(t.rows.begin(), t.rows.end(), std::string_view(lq),
                         [](const NameTable::Row& r, std::string_view v) { return r.lower < v; });
    auto hi = lo;
    while (hi != t.rows.end() && hi->lower.size() >= lq.size() &&
           hi->lower.compare(0, lq.size(), lq) == 0 &&
           (options.mode != SearchMode::kExact || hi->lower.size() == lq.size()))
      ++hi;
    for (auto it = lo; it != hi; ++it) {
      ++out.names_scanned;
      if (auto m = match_name(name, it->name, options.mode)) take(*it, *m, true);
    }
    if (options.mode == SearchMode::kFuzzy) {
      // Substring and fuzzy: every other row holding the query's characters. The kinds' scores do
      // not overlap (substring above fuzzy), so once the better kinds fill the limit, fuzzy
      // matches are only counted.
      std::size_t better_kinds = found.size();
      std::vector<Found> fuzzy;
      const auto scan = [&](std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i) {
          if ((t.masks[i] & qmask) != qmask) continue;
          const NameTable::Row& r = t.rows[i];
          if (r.lower.size() < lq.size()) continue;
          ++out.names_scanned;
          if (const auto at = r.lower.find(lq, 1); at != std::string_view::npos) {
            // match_name's substring score (its first case-insensitive occurrence after 0).
            const int extra =
                static_cast<int>(std::min<std::size_t>(500, r.name.size() - lq.size()));
            const NameMatch m{NameMatchKind::kSubstring,
                              5000 + (word_start(r.name, at) ? 400 : 0) - extra};
            const std::size_t before = found.size();
            take(r, m, true);
            better_kinds += found.size() - before;
            continue;
          }
          // Fuzzy: the filters first (a dotted query keeps few), then the cheap walk, then the
          // score only while it can still make the top.
          if (!any_kept(r) || !fuzzy_matches(lq, r)) continue;
          if (better_kinds >= options.limit) {
            take(r, NameMatch{}, false);
            continue;
          }
          if (auto m = match_name(name, r.name, options.mode)) {
            std::swap(found, fuzzy);
            take(r, *m, true);
            std::swap(found, fuzzy);
          }
        }
      };
      scan(0, static_cast<std::size_t>(lo - t.rows.begin()));
      scan(static_cast<std::size_t>(hi - t.rows.begin()), t.rows.size());
      if (better_kinds < options.limit) found.insert(found.end(), fuzzy.begin(), fuzzy.end());
    }

    const std::size_t keep = std::min(options.limit, found.size());
    std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(keep), found.end(),
                      better);
    found.resize(keep);
    for (const auto& f : found) {
      SymbolHit h;
      h.definition = *f.def;
      h.match = f.match;
      out.hits.push_back(std::move(h));
    }
  });
  for (auto& h : out.hits) {
    h.module =
        lang::python::module_of(h.definition.file, options.source_roots, options.package_prefix);
    h.uri = selector::make_sym_uri(h.module, h.definition.qualname);
  }
  return out;
}

}  // namespace trifecta::core::navigation
