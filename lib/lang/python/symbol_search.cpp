#include "lang/python/symbol_search.hpp"

#include <algorithm>
#include <limits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// Whether the dotted parts `suffix` end the qualname `s`, case-insensitively, whole parts only:
// `Session` ends `orm.Session`, not `AsyncSession`.
bool ends_with_parts_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size() || !equal_ci(s.substr(s.size() - suffix.size()), suffix))
    return false;
  return s.size() == suffix.size() || s[s.size() - suffix.size() - 1] == '.';
}

// The highest score of a fuzzy match (every substring match scores more).
constexpr int kMaxFuzzyScore = 3999;

bool word_start(std::string_view s, std::size_t i) {
  return name_word_start(s, i);
}

// The characters `s` has beyond a query of `q_size`, at most 500: inside a match kind, the fewer
// the better.
int extra_chars(std::string_view s, std::size_t q_size) {
  return static_cast<int>(std::min<std::size_t>(500, s.size() - std::min(s.size(), q_size)));
}

// The substring score of a query of `q_size` characters found in `s` at a word start or not: a
// word start scores more than mid-word.
int substring_score(std::string_view s, std::size_t q_size, bool at_word_start) {
  return 5000 + (at_word_start ? 400 : 0) - extra_chars(s, q_size);
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

// match_name's fuzzy match (its last resort): a subsequence scored by fuzzy_score.
std::optional<NameMatch> fuzzy_match(std::string_view q, std::string_view s) {
  const int extra = extra_chars(s, q.size());
  if (auto f = fuzzy_score(q, s))
    return NameMatch{NameMatchKind::kFuzzy, std::clamp(2000 + *f * 10 - extra, 1, kMaxFuzzyScore)};
  return std::nullopt;
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
  const int extra = extra_chars(s, q.size());
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
      return NameMatch{NameMatchKind::kSubstring, substring_score(s, q.size(), word_start(s, i))};
  }
  return fuzzy_match(q, s);
}

namespace {

std::string lower_copy(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

// `lq` (lower case, not empty) in `ls` at or after `from`; npos when not.
std::size_t find_lower(std::string_view ls, std::string_view lq, std::size_t from) {
  if (ls.size() < lq.size()) return std::string_view::npos;
  const char c0 = lq[0];
  const std::size_t last = ls.size() - lq.size();
  for (std::size_t i = from; i <= last; ++i) {
    if (ls[i] != c0) continue;
    std::size_t k = 1;
    while (k < lq.size() && ls[i + k] == lq[k]) ++k;
    if (k == lq.size()) return i;
  }
  return std::string_view::npos;
}

// Whether fuzzy_score(q, s) would find a match, without the score: the same walk (a word start
// within reach is preferred over the leftmost plain occurrence unless that one is consecutive),
// on the lower-cased spellings.
bool fuzzy_walk_matches(std::string_view lq, const NameTable::Row& r) noexcept {
  const std::string_view s = r.name, ls = r.lower;
  std::size_t at = 0;
  std::size_t prev = std::string_view::npos;
  for (const char want : lq) {
    std::size_t first = std::string_view::npos, boundary = std::string_view::npos;
    for (std::size_t i = at; i < ls.size(); ++i) {
      if (ls[i] != want) continue;
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

NameScanner::NameScanner(std::string_view lq) : lq_(lq) {}

NameScanner::Verdict NameScanner::classify(const NameTable::Row& r,
                                           const char* readable_end) const noexcept {
  const std::size_t n = r.lower.size(), m = lq_.size();
  if (m == 0 || n < m) return {kNone, 0};
  if (n > 64 || m > 64 || readable_end - r.lower.data() < 64) {
    if (const auto at = find_lower(r.lower, lq_, 1); at != std::string_view::npos)
      return {kSubstring, at};
    return {fuzzy_walk_matches(lq_, r) ? kFuzzy : kNone, 0};
  }
  // Bit i of pos[k]: lower[i] == lq[k], for the name's first 64 bytes (read whole; the bits past
  // the name are dropped).
  std::uint64_t pos[64];
  const std::uint64_t valid = n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
#if defined(__SSE2__)
  __m128i chunk[4];
  const std::size_t chunks = (n + 15) / 16;
  for (std::size_t c = 0; c < chunks; ++c)
    chunk[c] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r.lower.data() + 16 * c));
  for (std::size_t k = 0; k < m; ++k) {
    const __m128i want = _mm_set1_epi8(lq_[k]);
    std::uint64_t bits = 0;
    for (std::size_t c = 0; c < chunks; ++c)
      bits |= static_cast<std::uint64_t>(
                  static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk[c], want))))
              << (16 * c);
    pos[k] = bits & valid;
  }
#else
  for (std::size_t k = 0; k < m; ++k) {
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < n; ++i)
      bits |= static_cast<std::uint64_t>(r.lower[i] == lq_[k]) << i;
    pos[k] = bits;
  }
#endif
  // Substring at 1 or later: the starts where every query character follows in turn.
  std::uint64_t sub = pos[0] & ~std::uint64_t{1};
  for (std::size_t k = 1; k < m && sub; ++k) sub &= pos[k] >> k;
  if (sub) return {kSubstring, static_cast<std::size_t>(__builtin_ctzll(sub))};
  // The fuzzy walk of fuzzy_walk_matches on the bits.
  std::size_t at = 0;
  int prev = -1;
  for (std::size_t k = 0; k < m; ++k) {
    const std::uint64_t cand = at >= 64 ? 0 : pos[k] & (~std::uint64_t{0} << at);
    if (!cand) return {kNone, 0};
    const int first = __builtin_ctzll(cand);
    const std::uint64_t b = cand & r.starts;
    int pick = first;
    if (!(prev >= 0 && first == prev + 1) && b) pick = __builtin_ctzll(b);
    prev = pick;
    at = static_cast<std::size_t>(pick) + 1;
  }
  return {kFuzzy, 0};
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
  if (name.empty() || options.limit == 0) return out;
  bool wanted[NameTable::kOther + 1];
  for (int k = 0; k <= NameTable::kOther; ++k) {
    wanted[k] = options.kinds.empty();
  }
  const bool all_kinds = options.kinds.empty();
  for (const auto& k : options.kinds) {
    const auto code = name_table_kind(k);
    // An unknown kind name matches no definition's kind ("other" kinds have their own names).
    if (code != NameTable::kOther) wanted[code] = true;
  }
  const std::string lq = lower_copy(name);
  // A dotted query's container must end a definition's enclosing qualname: a name whose
  // definitions' tail bits lack the container's is passed over unread (0: no such test).
  const std::uint64_t container_bit = enclosing_tail_bit(container);
  const std::uint64_t qmask = name_char_mask(lq);

  struct Found {
    const IndexedDefinition* def;
    NameTable::Kind kind;
    NameMatch match;
  };
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
  // The best `limit` so far, as a heap whose top is the worst of them (`better` as the heap's
  // "less"): a match is compared only while it can still make the top, and nothing else is kept.
  std::vector<Found> top;
  top.reserve(std::min<std::size_t>(options.limit, 1000));
  // The lowest score that can still enter the top (a full top's worst: an equal score is
  // decided by `better`, a lower one never enters).
  auto floor_score = [&] {
    return top.size() < options.limit ? std::numeric_limits<int>::min() : top.front().match.score;
  };
  auto offer = [&](const Found& f) {
    if (top.size() < options.limit) {
      top.push_back(f);
      std::push_heap(top.begin(), top.end(), better);
    } else if (better(f, top.front())) {
      std::pop_heap(top.begin(), top.end(), better);
      top.back() = f;
      std::push_heap(top.begin(), top.end(), better);
    }
  };

  index.with_names([&](const NameTable& t) {
    // Whether the filters (kinds, locals, the dotted query's container) keep a definition.
    auto kept = [&](const IndexedDefinition& d, NameTable::Kind kind) {
      if (!wanted[kind]) return false;
      if (!container.empty() && !ends_with_parts_ci(enclosing_of(d), container))
        return false;  // the most selective test first
      return !in_locals(d);
    };
    // The definitions of a matching row that the filters keep: all counted, offered to the top
    // while the row's match can still enter it. `score()` gives the row's NameMatch, asked only
    // once a definition is kept (a dotted query or a kinds filter keeps few). Without a dotted
    // query the row's count (NameTable::Row::visible; with a kinds filter the entry's per-kind
    // counts) gives the count, and the definitions are read only when the match can enter the
    // top.
    auto take = [&](const NameTable::Row& r, const auto& score) {
      if (container_bit && !(r.tails & container_bit)) return;  // no definition can match
      if (container.empty()) {
        std::size_t n = r.visible;
        if (!all_kinds) {
          n = 0;
          for (std::size_t k = 0; k < NameTable::kKinds; ++k)
            if (wanted[k]) n += r.entry->visible[k];
        }
        if (n == 0) return;
        out.total += n;
        const NameMatch m = score();
        if (m.score < floor_score()) return;
        for (const auto& d : r.entry->defs) {
          const auto kind = name_table_kind(d.kind);
          if (kept(d, kind)) offer({&d, kind, m});
        }
        return;
      }
      bool scored = false, may_enter = false;
      NameMatch m;
      for (const auto& d : r.entry->defs) {
        const auto kind = name_table_kind(d.kind);
        if (!kept(d, kind)) continue;
        ++out.total;
        if (!scored) {
          scored = true;
          m = score();
          may_enter = m.score >= floor_score();
        }
        if (may_enter) offer({&d, kind, m});
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
      if (auto m = match_name(name, it->name, options.mode)) take(*it, [&] { return *m; });
    }
    if (options.mode == SearchMode::kFuzzy) {
      // Substring and fuzzy: every other row holding the query's characters. The kinds' scores do
      // not overlap (substring above fuzzy), so once the top's floor is above every fuzzy score,
      // fuzzy matches are only counted, and a row's definitions are looked at only when it
      // matches.
      const NameScanner scanner(lq);
      const char* const lowered_end = t.lowered.data() + t.lowered.size();
      const auto scan_row = [&](const NameTable::Row& r) {
        if (r.lower.size() < lq.size()) return;
        ++out.names_scanned;
        const auto v = scanner.classify(r, lowered_end);
        if (v.what == NameScanner::kNone) return;
        if (v.what == NameScanner::kSubstring) {
          // match_name's substring score (its first case-insensitive occurrence after 0).
          // The word start from the row's bits when it has them (the name's bytes are elsewhere
          // in memory).
          take(r, [&] {
            const bool ws = v.at < 64 ? ((r.starts >> v.at) & 1) != 0 : word_start(r.name, v.at);
            return NameMatch{NameMatchKind::kSubstring, substring_score(r.name, name.size(), ws)};
          });
          return;
        }
        // Fuzzy: scored only while it can still make the top (else any score below the floor).
        take(r, [&] {
          if (floor_score() > kMaxFuzzyScore) return NameMatch{NameMatchKind::kFuzzy, 0};
          return fuzzy_match(name, r.name).value_or(NameMatch{NameMatchKind::kFuzzy, 0});
        });
      };
      // In blocks of 64 rows: the rows whose mask passes are listed first and their spelling (for
      // a dotted query also their definitions) prefetched, so the cache misses of a block overlap
      // instead of following one another.
      const auto scan = [&](std::size_t first, std::size_t last) {
        std::uint32_t block[64];
        for (std::size_t b = first; b < last; b += 64) {
          const std::size_t e = std::min(last, b + 64);
          std::size_t n = 0;
          for (std::size_t i = b; i < e; ++i)
            if ((t.masks[i] & qmask) == qmask) block[n++] = static_cast<std::uint32_t>(i);
          if (container_bit) {  // a dotted query: only the rows its container does not rule out
            std::size_t kept_rows = 0;
            for (std::size_t k = 0; k < n; ++k)
              if (t.rows[block[k]].tails & container_bit) block[kept_rows++] = block[k];
            n = kept_rows;
          }
          for (std::size_t k = 0; k < n; ++k) {
            __builtin_prefetch(t.rows[block[k]].lower.data());
            if (!container.empty()) __builtin_prefetch(t.rows[block[k]].entry);
          }
          if (!container.empty()) {  // a dotted query reads every definition of a match
            for (std::size_t k = 0; k < n; ++k) {
              const auto* d = t.rows[block[k]].entry->defs.data();
              __builtin_prefetch(d);
              __builtin_prefetch(reinterpret_cast<const char*>(d) + 64);
            }
          }
          for (std::size_t k = 0; k < n; ++k) scan_row(t.rows[block[k]]);
        }
      };
      scan(0, static_cast<std::size_t>(lo - t.rows.begin()));
      scan(static_cast<std::size_t>(hi - t.rows.begin()), t.rows.size());
    }

    std::sort_heap(top.begin(), top.end(), better);
    out.hits.reserve(top.size());
    for (const auto& f : top) {
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
