#include "disclosure/repo_map.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "ast/skeleton.hpp"
#include "ast/skeleton_cache.hpp"
#include "index/ranking.hpp"
#include "index/segment_index.hpp"

namespace trifecta::core::disclosure {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMapMinLines = 3;     // symbol lines a candidate file is given room for
constexpr std::size_t kMapLineTokens = 10;  // a compact symbol line, about
constexpr std::size_t kMapRefillTokens = 2 * kMapLineTokens;  // left over: read on (repo_map)
constexpr int kMapMaxRefills = 8;                             // reads on at most this many times

bool is_public(const std::string& name) {
  if (name.empty() || name[0] != '_') return true;
  return is_dunder(name);
}

// Per definition of one scope: whether the map may show it — public, and the first of its name
// there. A name defined twice in a scope (`if PY3: def b(...)` / `else: def b(...)`, a
// property's getter and its `@x.setter`) is one thing to a reader: its first definition stands
// for it.
std::vector<bool> shown_names(const std::vector<ast::Definition>& defs) {
  std::vector<bool> keep(defs.size(), false);
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < defs.size(); ++i)
    keep[i] = is_public(defs[i].name) && seen.insert(defs[i].name).second;
  return keep;
}

// Whether a package re-exports `name` from the file (`exports`: CentralFile::exports).
bool exported(const std::vector<std::string>& exports, const std::string& name) {
  return std::binary_search(exports.begin(), exports.end(), std::string("*")) ||
         std::binary_search(exports.begin(), exports.end(), name);
}

std::size_t tokens_of(std::size_t bytes) {
  return (bytes + 3) / 4;
}

// A Python file the map may show, with its skeleton and, once counted, its symbols' refs by
// position (top-level index; top-level index and member index).
struct Candidate {
  std::string path;
  double centrality = 0.0;
  double weight = 0.0;               // centrality × the factors of its path classes (file_weight)
  std::vector<std::string> exports;  // CentralFile::exports, ::interface
  double interface = 0.0;
  std::shared_ptr<const ast::Skeleton> skeleton;
  std::vector<std::uint32_t> top_refs;
  std::vector<std::vector<std::uint32_t>> member_refs;
};

// One thing the map can show: a public top-level definition (child < 0), a public member of a
// public class, or — for a file without public definitions — the file itself (top < 0).
struct Item {
  std::size_t file = 0;
  int top = -1, child = -1;
  double score = 0.0;
  std::uint32_t refs = 0;
  int line = 0;
};

// What one file shows: which top-level definitions, and which members of each.
struct Selection {
  bool shown = false;
  std::vector<std::vector<int>> members;  // per top-level index; empty when not selected
  std::vector<bool> tops;
};

std::string kind_of(const ast::Definition& d, bool member) {
  if (d.kind == ast::DefKind::kClass) return "class";
  return member ? "method" : "function";
}

// The file's part of the map: header, module docstring, the selected definitions, `# L<a>-<b>`
// markers. `full`: as the file's outline has them (decorators, whole signatures, first
// docstring lines); else compact (no decorators or docstrings, compact_signature).
std::string render_file(const Candidate& c, const Selection& sel, bool full) {
  const ast::Skeleton& sk = *c.skeleton;
  ast::Skeleton sub;
  sub.status = sk.status;
  sub.docstring = sk.docstring;
  const auto trim = [full](ast::Definition& d) {
    d.attributes.clear();
    d.children.clear();
    if (full) return;
    d.docstring.clear();
    d.decorators.clear();
    d.signature = compact_signature(d.signature);
  };
  for (std::size_t t = 0; t < sk.definitions.size(); ++t) {
    if (!sel.tops[t]) continue;
    const auto& d = sk.definitions[t];
    ast::Definition top = d;
    trim(top);
    for (const int m : sel.members[t]) {
      ast::Definition member = d.children[static_cast<std::size_t>(m)];
      trim(member);
      top.children.push_back(std::move(member));
    }
    sub.definitions.push_back(std::move(top));
  }
  ast::RenderOptions ro;
  ro.line_numbers = true;
  ro.imports = false;
  ro.constants = false;
  ro.nested_functions = false;
  char head[64];
  std::snprintf(head, sizeof head, "  (centrality %.2f)", c.centrality);
  return "# " + c.path + head + "\n" + ast::render(sub, ro) + "\n";
}

Selection empty_selection(const Candidate& c) {
  Selection s;
  s.tops.assign(c.skeleton->definitions.size(), false);
  s.members.assign(c.skeleton->definitions.size(), {});
  return s;
}

// Every public definition and public member: the file's full outline.
Selection full_selection(const Candidate& c) {
  Selection s = empty_selection(c);
  s.shown = true;
  const auto& defs = c.skeleton->definitions;
  const auto keep = shown_names(defs);
  for (std::size_t t = 0; t < defs.size(); ++t) {
    if (!keep[t]) continue;
    s.tops[t] = true;
    if (defs[t].kind != ast::DefKind::kClass) continue;
    const auto keep_member = shown_names(defs[t].children);
    for (std::size_t m = 0; m < defs[t].children.size(); ++m) {
      if (keep_member[m]) s.members[t].push_back(static_cast<int>(m));
    }
  }
  return s;
}

// The selections of the first `n` items (a member brings its class along), file by file.
std::vector<Selection> select(const std::vector<Candidate>& cands, const std::vector<Item>& items,
                              std::size_t n) {
  std::vector<Selection> sel;
  sel.reserve(cands.size());
  for (const auto& c : cands) sel.push_back(empty_selection(c));
  for (std::size_t i = 0; i < n; ++i) {
    const Item& it = items[i];
    Selection& s = sel[it.file];
    s.shown = true;
    if (it.top < 0) continue;
    s.tops[static_cast<std::size_t>(it.top)] = true;
    if (it.child >= 0) s.members[static_cast<std::size_t>(it.top)].push_back(it.child);
  }
  for (auto& s : sel) {
    for (auto& m : s.members) std::sort(m.begin(), m.end());
  }
  return sel;
}

// The largest n in [lo, hi] with fits(n), by bisection: fits is monotone (a longer prefix renders
// no shorter) and taken to hold at lo.
template <class Fits>
std::size_t largest_fitting(std::size_t lo, std::size_t hi, const Fits& fits) {
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

std::size_t total_bytes(const std::vector<Candidate>& cands, const std::vector<Selection>& sel) {
  std::size_t n = 0;
  for (std::size_t f = 0; f < cands.size(); ++f) {
    if (sel[f].shown) n += render_file(cands[f], sel[f], false).size();
  }
  return n;
}

// The map of the files read (`cands`, their refs filled in here) within `budget` tokens, on top
// of `out` (path, budget, candidates and skipped already set). `unread`: files at or under the
// path are left to read (repo_map reads on when this map leaves enough of its budget).
MapReply compose(const index::SegmentIndex& seg, std::size_t budget, std::vector<Candidate>& cands,
                 bool unread, MapReply out) {
  // Every public definition and member, weighted by how many other files name it (one look-up
  // a name). A member counts no more uses than its class has (all its weight uses): `get` is
  // named everywhere, `Model.get` where `Model` is.
  std::vector<Item> items;
  std::vector<index::SegmentIndex::NameAsk> asks;
  std::vector<std::size_t> asked;  // asks[k] is items[asked[k]]'s
  for (std::size_t f = 0; f < cands.size(); ++f) {
    const auto& defs = cands[f].skeleton->definitions;
    cands[f].top_refs.assign(defs.size(), 0);
    cands[f].member_refs.resize(defs.size());
    for (std::size_t t = 0; t < defs.size(); ++t)
      cands[f].member_refs[t].assign(defs[t].children.size(), 0);
    bool any = false;
    const auto keep = shown_names(defs);
    for (std::size_t t = 0; t < defs.size(); ++t) {
      if (!keep[t]) continue;
      any = true;
      if (!is_dunder(defs[t].name)) {
        asks.push_back({cands[f].path, defs[t].name});
        asked.push_back(items.size());
      }
      items.push_back({f, static_cast<int>(t), -1, 0.0, 0, defs[t].line});
      if (defs[t].kind != ast::DefKind::kClass) continue;
      const auto keep_member = shown_names(defs[t].children);
      for (std::size_t m = 0; m < defs[t].children.size(); ++m) {
        const auto& member = defs[t].children[m];
        if (!keep_member[m]) continue;
        if (!is_dunder(member.name)) {
          asks.push_back({cands[f].path, member.name});
          asked.push_back(items.size());
        }
        items.push_back({f, static_cast<int>(t), static_cast<int>(m), 0.0, 0, member.line});
      }
    }
    if (!any) items.push_back({f, -1, -1, 0.0, 0, 0});
  }
  const auto reach = seg.name_reach(asks);
  for (std::size_t k = 0; k < asked.size(); ++k) items[asked[k]].refs = reach.refs[k];
  std::uint32_t class_refs = 0;
  // Overrides: a member whose name an ancestor class among the candidates also defines, the
  // ancestors followed through `bases` by their last dotted part (`models.Field` → `Field`;
  // keyword arguments such as `metaclass=M` are not bases). At most 64 classes are visited.
  std::unordered_map<std::string_view, std::vector<const ast::Definition*>> classes;
  for (const auto& cand : cands)
    for (const auto& d : cand.skeleton->definitions)
      if (d.kind == ast::DefKind::kClass) classes[d.name].push_back(&d);
  const auto base_name = [](std::string_view b) {
    if (b.find('=') != std::string_view::npos) return std::string_view();  // metaclass=…
    if (const auto k = b.find('['); k != std::string_view::npos) b = b.substr(0, k);
    if (const auto k = b.rfind('.'); k != std::string_view::npos) b = b.substr(k + 1);
    return b;
  };
  const auto overrides = [&](const ast::Definition& cls, const std::string& member) {
    std::vector<const ast::Definition*> todo{&cls};
    std::vector<const ast::Definition*> seen{&cls};
    while (!todo.empty() && seen.size() < 64) {
      const ast::Definition* d = todo.back();
      todo.pop_back();
      for (const auto& b : d->bases) {
        const auto it = classes.find(base_name(b));
        if (it == classes.end()) continue;
        for (const ast::Definition* a : it->second) {
          if (std::find(seen.begin(), seen.end(), a) != seen.end()) continue;
          seen.push_back(a);
          for (const auto& ch : a->children)
            if (ch.name == member) return true;
          todo.push_back(a);
        }
      }
    }
    return false;
  };
  for (auto& it : items) {
    const double c = std::sqrt(cands[it.file].weight);
    if (it.top < 0) {
      it.score = c * kMapUnusedWeight;
      continue;
    }
    Candidate& cand = cands[it.file];
    const auto t = static_cast<std::size_t>(it.top);
    const auto& top = cand.skeleton->definitions[t];
    if (it.child < 0) {
      class_refs = it.refs;
      cand.top_refs[t] = it.refs;
      it.score = c * symbol_weight(false, top.name, it.refs, 0, reach.files);
      if (exported(cand.exports, top.name))
        it.score *= 1.0 + (kMapExportWeight - 1.0) * cand.interface;
    } else {
      const auto m = static_cast<std::size_t>(it.child);
      it.refs = std::min(it.refs, class_refs);  // members follow their class in `items`
      cand.member_refs[t][m] = it.refs;
      it.score = c * symbol_weight(true, top.children[m].name, it.refs, class_refs, reach.files);
      if (!is_dunder(top.children[m].name) && overrides(top, top.children[m].name))
        it.score *= kMapOverrideWeight;
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.file != b.file) return a.file < b.file;
    return a.line < b.line;
  });

  // Breadth first: the longest prefix of the ranked items whose compact outline fits. Galloping
  // from a small prefix: a probe renders only the files its prefix shows, so the search renders
  // few of the candidates until the prefix nears the budget.
  const std::size_t budget_bytes = budget * 4;
  const auto longest_prefix = [&] {
    const auto fits = [&](std::size_t n) {
      return total_bytes(cands, select(cands, items, n)) <= budget_bytes;
    };
    std::size_t lo = 0, hi = 0;  // fits(lo); the answer is in [lo, hi]
    for (std::size_t probe = 16;; probe *= 2) {
      const std::size_t n = std::min(items.size(), probe);
      if (!fits(n)) {
        hi = n - 1;
        break;
      }
      lo = hi = n;
      if (n == items.size()) break;
    }
    return largest_fitting(lo, hi, fits);
  };
  std::size_t lo = longest_prefix();

  // A file's share: while other files wait (their items not shown, or files not read yet), no
  // file's compact outline takes more than kMapFileShare of the budget (an exceptions module of
  // forty classes that every file imports filled 91 % of a 600-token map of requests +
  // urllib3). The first file over it, in rank order, keeps the longest run of its best items (at
  // least its first) that fits the share; the rest of its items go after every other file's —
  // or, with files unread, out of this map, so that what it leaves of the budget reads on — and
  // the longest prefix is sought again. Each file is capped at most once; a budget that holds
  // every file's other items shows the rest again.
  const auto share_bytes =
      static_cast<std::size_t>(static_cast<double>(budget_bytes) * kMapFileShare);
  std::vector<bool> capped(cands.size(), false);
  while (lo < items.size()) {
    const std::vector<Selection> shown = select(cands, items, lo);
    std::size_t over = cands.size();
    for (std::size_t f = 0; f < cands.size() && over == cands.size(); ++f) {
      if (shown[f].shown && !capped[f] &&
          render_file(cands[f], shown[f], false).size() > share_bytes &&
          (unread || std::any_of(items.begin() + static_cast<std::ptrdiff_t>(lo), items.end(),
                                 [f](const Item& it) { return it.file != f; })))
        over = f;
    }
    if (over == cands.size()) break;
    capped[over] = true;
    std::vector<Item> own;  // its items, best first
    for (const Item& it : items)
      if (it.file == over) own.push_back(it);
    const auto own_fits = [&](std::size_t n) {
      return render_file(cands[over], select(cands, own, n)[over], false).size() <= share_bytes;
    };
    const std::size_t keep = largest_fitting(1, own.size(), own_fits);  // at least its first
    // items: every item before `over`'s (keep+1)-th, then the other files' rest, then its rest.
    std::size_t seen = 0, cut = items.size();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].file == over && ++seen == keep + 1) {
        cut = i;
        break;
      }
    }
    const auto rest =
        std::stable_partition(items.begin() + static_cast<std::ptrdiff_t>(cut), items.end(),
                              [over](const Item& it) { return it.file != over; });
    if (unread) items.erase(rest, items.end());
    lo = longest_prefix();
  }
  std::vector<Selection> sel = select(cands, items, lo);
  std::vector<std::string> texts(cands.size());
  std::vector<bool> full(cands.size(), false);
  std::size_t used = 0;
  for (std::size_t f = 0; f < cands.size(); ++f) {
    if (!sel[f].shown) continue;
    texts[f] = render_file(cands[f], sel[f], false);
    used += texts[f].size();
  }
  // Then depth: each shown file, in rank order, gets its full outline (every public symbol, first
  // docstring lines) when that still fits.
  for (std::size_t f = 0; f < cands.size(); ++f) {
    if (!sel[f].shown) continue;
    const Selection all = full_selection(cands[f]);
    std::string t = render_file(cands[f], all, true);
    if (used - texts[f].size() + t.size() <= budget_bytes) {
      used = used - texts[f].size() + t.size();
      texts[f] = std::move(t);
      sel[f] = all;
      full[f] = true;
    }
  }

  for (std::size_t f = 0; f < cands.size(); ++f) {
    if (!sel[f].shown) continue;
    MapFile mf;
    mf.path = cands[f].path;
    mf.centrality = cands[f].centrality;
    mf.reduced = !full[f];
    mf.text = std::move(texts[f]);
    const auto& defs = cands[f].skeleton->definitions;
    for (std::size_t t = 0; t < defs.size(); ++t) {
      if (!sel[f].tops[t]) continue;
      const auto& d = defs[t];
      mf.symbols.push_back({d.qualname.empty() ? d.name : d.qualname, kind_of(d, false), d.line,
                            d.end_line, cands[f].top_refs[t]});
      for (const int m : sel[f].members[t]) {
        const auto& member = d.children[static_cast<std::size_t>(m)];
        mf.symbols.push_back({member.qualname.empty() ? member.name : member.qualname,
                              kind_of(member, true), member.line, member.end_line,
                              cands[f].member_refs[t][static_cast<std::size_t>(m)]});
      }
    }
    out.text += mf.text;
    out.files.push_back(std::move(mf));
  }
  out.used = tokens_of(out.text.size());
  out.truncated =
      out.files.size() + out.skipped < out.candidates ||
      std::any_of(out.files.begin(), out.files.end(), [](const MapFile& m) { return m.reduced; });
  return out;
}

}  // namespace

std::string compact_signature(std::string_view sig) {
  // The parameter list: from the first '(' to its matching ')', outside strings.
  const std::size_t open = sig.find('(');
  if (open == std::string_view::npos) return std::string(sig);
  int depth = 0;
  char quote = 0;
  std::size_t close = std::string_view::npos, cut = std::string_view::npos;
  for (std::size_t i = open; i < sig.size(); ++i) {
    const char ch = sig[i];
    if (quote) {
      if (ch == '\\')
        ++i;
      else if (ch == quote)
        quote = 0;
      continue;
    }
    if (ch == '\'' || ch == '"')
      quote = ch;
    else if (ch == '(' || ch == '[' || ch == '{')
      ++depth;
    else if (ch == ')' || ch == ']' || ch == '}') {
      if (--depth == 0) {
        close = i;
        break;
      }
    } else if (ch == ',' && depth == 1 && i - open <= kMapSignatureBytes) {
      cut = i;  // the last parameter boundary within the limit
    }
  }
  if (close == std::string_view::npos || close - open <= kMapSignatureBytes)
    return std::string(sig);
  std::string out(sig.substr(0, cut == std::string_view::npos ? open + 1 : cut + 1));
  out += cut == std::string_view::npos ? "...)" : " ...)";
  out += sig.substr(close + 1);
  return out;
}

bool is_dunder(const std::string& name) {
  return name.size() > 4 && name.rfind("__", 0) == 0 && name.compare(name.size() - 2, 2, "__") == 0;
}

double reach_weight(std::uint32_t refs, std::size_t files) {
  const double share =
      files > 0 ? std::min(1.0, static_cast<double>(refs) / static_cast<double>(files)) : 0.0;
  return kMapUnusedWeight + std::log1p(static_cast<double>(refs)) * (1.0 - share);
}

double symbol_weight(bool member, const std::string& name, std::uint32_t refs,
                     std::uint32_t class_refs, std::size_t files) {
  if (is_dunder(name)) {
    if (member && (name == "__init__" || name == "__call__"))
      return 0.5 * reach_weight(class_refs, files);
    return 0.25 * kMapUnusedWeight;
  }
  if (!member) return reach_weight(refs, files);
  return 0.5 * reach_weight(std::min(refs, class_refs), files);
}

bool private_module(std::string_view rel) {
  std::size_t at = 0;
  while (at < rel.size()) {
    const std::size_t slash = rel.find('/', at);
    std::string_view part =
        rel.substr(at, slash == std::string_view::npos ? rel.size() - at : slash - at);
    if (slash == std::string_view::npos && part.size() > 3 && part.substr(part.size() - 3) == ".py")
      part.remove_suffix(3);
    if (part.size() >= 2 && part[0] == '_' && part[1] != '_') return true;
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  return false;
}

double file_weight(const index::CentralFile& file, std::string_view dir) {
  std::string_view rel = file.path;
  if (!dir.empty() && rel.size() > dir.size() && rel.compare(0, dir.size(), dir) == 0 &&
      rel[dir.size()] == '/')
    rel.remove_prefix(dir.size() + 1);
  const std::uint8_t cls = index::path_class(rel);
  double w = file.centrality;
  if (!file.exports.empty()) w *= 1.0 + (kMapExportFileWeight - 1.0) * file.interface;
  if (file.exports.empty() && private_module(rel)) w *= kMapPrivateWeight;
  for (const index::PathClass c : {index::kPathTest, index::kPathAsset, index::kPathGenerated,
                                   index::kPathNeverCode, index::kPathVendored}) {
    if (cls & c) w *= index::path_factor(c);
  }
  return w;
}

Result<MapReply> repo_map(index::SegmentIndex& seg, const MapRequest& req) {
  if (req.budget < kMinMapBudget || req.budget > kMaxMapBudget) {
    return make_error(Errc::kInvalidArgument, "budget: expected " + std::to_string(kMinMapBudget) +
                                                  ".." + std::to_string(kMaxMapBudget) + " tokens");
  }
  std::string dir = fs::path(req.path).lexically_normal().generic_string();
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  if (dir == ".") dir.clear();
  if (fs::path(req.path).is_absolute() || dir == ".." || dir.rfind("../", 0) == 0) {
    return make_error(Errc::kInvalidArgument, "path: expected a folder or file inside the segment");
  }
  MapReply r;
  r.path = dir;
  r.budget = req.budget;
  const auto central = seg.central_files(dir);
  r.candidates = central.size();
  // Rank order: centrality × the factors of the file's path classes below `dir`.
  std::vector<double> weights(central.size());
  for (std::size_t i = 0; i < central.size(); ++i) weights[i] = file_weight(central[i], dir);
  std::vector<std::size_t> order(central.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return weights[a] > weights[b]; });
  if (central.empty() && !dir.empty() && !seg.file(dir)) {
    // Neither a Python file nor a folder holding one: say whether the path exists at all.
    std::error_code ec;
    if (!fs::exists(seg.root() / dir, ec))
      return make_error(Errc::kNotFound, "path: no such file or folder in the segment: " + dir);
  }

  // The files that could be shown: the most central ones, as many as the budget could show with
  // a header and kMapMinLines symbol lines each (reading a file's skeleton is most of the map's
  // cost: a whole stdlib tree's would take ~0.2 s). `read_until` reads on in rank order until the
  // files read add up to `target` tokens of such floors; `exact`: a file with fewer public
  // definitions than kMapMinLines counts only those (the refill below).
  std::vector<Candidate> cands;
  std::size_t next = 0;  // the next file of `order` to read
  const auto read_until = [&](std::size_t target, bool exact) {
    std::size_t floor_tokens = 0;
    while (next < order.size() && floor_tokens < target) {
      const std::size_t i = order[next++];
      const auto& c = central[i];
      auto sk =
          seg.skeletons().get(seg.root() / c.path, c.path, nullptr, ast::ParseEvents::kCountOnly);
      if (!sk) {
        ++r.skipped;
        continue;
      }
      std::size_t lines = kMapMinLines;
      if (exact) {
        const auto keep = shown_names(sk->skeleton->definitions);
        lines = std::min<std::size_t>(
            lines, static_cast<std::size_t>(std::count(keep.begin(), keep.end(), true)));
      }
      floor_tokens += tokens_of(c.path.size() + 24) + lines * kMapLineTokens;
      // A file its package exports from but that defines none of the names (an `__init__.py`
      // of imports only, a module whose exported names are constants) weighs as any other.
      const auto& defs = sk->skeleton->definitions;
      const auto keep = shown_names(defs);
      bool defines = false;
      for (std::size_t t = 0; t < defs.size() && !defines; ++t)
        defines = keep[t] && exported(c.exports, defs[t].name);
      if (defines)
        cands.push_back(
            {c.path, c.centrality, weights[i], c.exports, c.interface, sk->skeleton, {}, {}});
      else
        cands.push_back({c.path,
                         c.centrality,
                         file_weight({c.path, c.centrality, {}, 0.0}, dir),
                         {},
                         0.0,
                         sk->skeleton,
                         {},
                         {}});
    }
  };
  read_until(req.budget, false);

  // A map under its budget by more than a line while files are left unread was starved by the
  // floors, not by the budget: files with fewer public definitions than kMapMinLines (a folder of
  // empty `__init__.py` files or modules of constants showed 7 of its 153 files in 108 of 300
  // tokens). Read on by what is left, counting such files exactly, and compose again. A map that
  // fills its budget to within kMapRefillTokens (the whole-tree maps of the relevance corpora)
  // reads no more files than the floors said.
  for (int refill = 0;; ++refill) {
    MapReply m = compose(seg, req.budget, cands, next < order.size(), r);
    const std::size_t left = req.budget - std::min(m.used, req.budget);
    if (next >= order.size() || left < kMapRefillTokens || refill == kMapMaxRefills) return m;
    read_until(left, true);
  }
}

}  // namespace trifecta::core::disclosure
