#include "lang/python/extractor.hpp"

#include <tree_sitter/api.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>
#include <memory>
#include <mutex>
#include <new>
#include <span>
#include <utility>

#include "lang/python/lexical.hpp"
#include "lang/python/ts_walk.h"
#include "util/utf8.hpp"

extern "C" const TSLanguage* tree_sitter_python(void);

namespace trifecta::core::ast {

namespace {

// ---- runtime ---------------------------------------------------------------------------------

Result<RuntimeInfo> probe_runtime() {
  RuntimeInfo info;
  info.grammar_abi = ts_language_abi_version(tree_sitter_python());
  info.runtime_min_abi = TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION;
  info.runtime_max_abi = TREE_SITTER_LANGUAGE_VERSION;
  const std::string versions = "tree-sitter-python ABI " + std::to_string(info.grammar_abi) +
                               ", libtree-sitter accepts ABI " + std::to_string(info.runtime_min_abi) +
                               ".." + std::to_string(info.runtime_max_abi);
  if (info.grammar_abi < info.runtime_min_abi || info.grammar_abi > info.runtime_max_abi) {
    return make_error(Errc::kUnavailable,
                      "incompatible tree-sitter grammar (" + versions +
                          "); run scripts/setup.sh to fetch tree-sitter-python 0.23.6 (ABI 14)");
  }
  TSParser* p = ts_parser_new();
  const bool ok = ts_parser_set_language(p, tree_sitter_python());
  ts_parser_delete(p);
  if (!ok) {
    return make_error(Errc::kUnavailable,
                      "ts_parser_set_language refused tree-sitter-python (" + versions + ")");
  }
  return info;
}


using TreePtr = std::unique_ptr<TSTree, TreeDeleter>;

Result<TreePtr> parse(std::string_view text, std::chrono::steady_clock::time_point deadline,
                      const TSTree* edited = nullptr) {
  auto tree = parse_python_tree(text, deadline, edited);
  if (!tree) return tree.error();
  return TreePtr(*tree);
}

// Row and byte column of `offset` in `text` (tree-sitter's TSPoint).
TSPoint point_at(std::string_view text, std::size_t offset) {
  const std::size_t nl = offset == 0 ? std::string_view::npos : text.rfind('\n', offset - 1);
  const std::size_t line_start = nl == std::string_view::npos ? 0 : nl + 1;
  const auto rows = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(line_start), '\n');
  return TSPoint{static_cast<uint32_t>(rows), static_cast<uint32_t>(offset - line_start)};
}

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The one edit that turns `before` into `after`: the bytes between their common prefix and their
// common suffix, both ending on a UTF-8 character boundary.
TSInputEdit edit_between(std::string_view before, std::string_view after) {
  const std::size_t shorter = std::min(before.size(), after.size());
  std::size_t prefix = static_cast<std::size_t>(
      std::mismatch(before.begin(), before.begin() + static_cast<std::ptrdiff_t>(shorter), after.begin()).first -
      before.begin());
  while (prefix > 0 && prefix < shorter && continuation_byte(after[prefix])) --prefix;
  std::size_t suffix = 0;
  while (suffix < shorter - prefix && before[before.size() - 1 - suffix] == after[after.size() - 1 - suffix]) ++suffix;
  while (suffix > 0 && continuation_byte(after[after.size() - suffix])) --suffix;
  TSInputEdit e{};
  e.start_byte = static_cast<uint32_t>(prefix);
  e.old_end_byte = static_cast<uint32_t>(before.size() - suffix);
  e.new_end_byte = static_cast<uint32_t>(after.size() - suffix);
  e.start_point = point_at(after, prefix);
  // The end points from the start point: only the changed bytes are counted again (a line
  // count from the top of the file for each of the three points was 3.6 % of the instructions
  // of an edit of a 35 KB file and the search after it).
  const auto end_point = [&](std::string_view text, std::size_t end) {
    const std::string_view changed = text.substr(prefix, end - prefix);
    const std::size_t nl = changed.rfind('\n');
    if (nl == std::string_view::npos)
      return TSPoint{e.start_point.row, e.start_point.column + static_cast<uint32_t>(changed.size())};
    const auto rows = std::count(changed.begin(), changed.end(), '\n');
    return TSPoint{e.start_point.row + static_cast<uint32_t>(rows), static_cast<uint32_t>(changed.size() - nl - 1)};
  };
  e.old_end_point = end_point(before, e.old_end_byte);
  e.new_end_point = end_point(after, e.new_end_byte);
  return e;
}

// ---- small node helpers ----------------------------------------------------------------------

std::string_view type_of(TSNode n) { return ts_node_type(n); }

TSNode field(TSNode n, const char* name) {
  return ts_node_child_by_field_name(n, name, static_cast<uint32_t>(std::strlen(name)));
}

// Children through a cursor: ts_node_child(i) walks from the first child on every call. Field
// names cost a lookup per child, so only callers that use them pay for them.
template <bool kFields = false, class F>
void each_child(TSNode n, F&& f) {
  TSTreeCursor c = ts_tree_cursor_new(n);
  if (ts_tree_cursor_goto_first_child(&c)) {
    do {
      if constexpr (kFields) {
        const char* fname = ts_tree_cursor_current_field_name(&c);
        f(ts_tree_cursor_current_node(&c), std::string_view(fname ? fname : ""));
      } else {
        f(ts_tree_cursor_current_node(&c), std::string_view());
      }
    } while (ts_tree_cursor_goto_next_sibling(&c));
  }
  ts_tree_cursor_delete(&c);
}

// Like each_child, but stops as soon as `f` returns false (a body's docstring is its first
// statement: walking every later sibling would cost as much as the body is long).
template <class F>
void each_child_until(TSNode n, F&& f) {
  TSTreeCursor c = ts_tree_cursor_new(n);
  if (ts_tree_cursor_goto_first_child(&c)) {
    while (f(ts_tree_cursor_current_node(&c)) && ts_tree_cursor_goto_next_sibling(&c)) {
    }
  }
  ts_tree_cursor_delete(&c);
}

// The descendants of `root` (not `root` itself) in source order, pre-order, without recursion (the
// depth is the input's: 12,000 chained calls are 12,000 levels). `f(node)` returns whether to
// visit that node's children.
template <class F>
void each_descendant(TSNode root, F&& f) {
  TSTreeCursor c = ts_tree_cursor_new(root);
  bool more = ts_tree_cursor_goto_first_child(&c);
  while (more) {
    if (f(ts_tree_cursor_current_node(&c)) && ts_tree_cursor_goto_first_child(&c)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&c)) {
      if (!ts_tree_cursor_goto_parent(&c) || ts_tree_cursor_current_depth(&c) == 0) {
        more = false;
        break;
      }
    }
  }
  ts_tree_cursor_delete(&c);
}

bool is_ident_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Whether `text` contains the keyword `def` or `class` as a whole word followed by whitespace or a
// `\` continuation: the only way a definition can start. False positives (in strings, comments)
// only cost a walk; a false negative is impossible.
bool may_define(std::string_view text) {
  for (std::string_view kw : {std::string_view("def"), std::string_view("class")}) {
    for (std::size_t at = text.find(kw); at != std::string_view::npos; at = text.find(kw, at + 1)) {
      if (at > 0 && is_ident_byte(text[at - 1])) continue;
      const std::size_t after = at + kw.size();
      if (after >= text.size()) continue;
      const char c = text[after];
      if (c == ' ' || c == '\t' || c == '\\' || c == '\f') return true;
    }
  }
  return false;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

bool is_constant_name(std::string_view name) {
  bool letter = false;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') return false;
    if (c >= 'A' && c <= 'Z') letter = true;
    else if (!(c == '_' || (c >= '0' && c <= '9'))) return false;
  }
  return letter;
}

constexpr std::size_t kMaxValueBytes = 80;

// ---- the extractor ---------------------------------------------------------------------------

enum class ScopeKind { kModule, kClass, kFunction };

struct Scope {
  ScopeKind kind;
  std::string prefix;               // qualname prefix, "" at module level
  std::vector<Definition>* defs;    // where definitions of this scope go
  std::vector<Variable>* attrs;     // class attributes (class scope only)
};

class Extractor {
 public:
  Extractor(std::string_view src, Skeleton& out) : src_(src), out_(out) {}

  // The input nested statements deeper than kMaxBlockNesting: what was extracted is incomplete.
  bool too_deep() const { return too_deep_; }

  // Take top-level definitions from an earlier parse of this file (ParseMemo): `previous` its
  // definitions in source order (moved from when taken), `edit` the edit between its text and
  // this one, `changed` the ranges whose syntax changed (ts_tree_get_changed_ranges, in this
  // text's bytes). Set before run(); only for a tree without errors.
  void reuse(std::vector<KeptDefinition>* previous, const TSInputEdit& edit,
             const std::vector<TSRange>* changed) {
    previous_ = previous;
    edit_ = edit;
    changed_ = changed;
  }
  // The top-level `def`/`class` statements run() found directly in the module: their bytes and
  // the index of their definition in Skeleton::definitions.
  struct Top {
    std::uint32_t start_byte, end_byte;
    std::size_t index;
  };
  const std::vector<Top>& tops() const { return tops_; }
  std::size_t reused() const { return reused_; }

  void run(TSNode root) {
    if (ts_node_has_error(root)) {
      out_.status = ParseStatus::kPartial;
      collect_issues(root);
    }
    out_.docstring = docstring_of(root);
    module_statements(root);
  }

 private:
  std::string_view text(TSNode n) const {
    const auto b = ts_node_start_byte(n), e = ts_node_end_byte(n);
    return src_.substr(b, e - b);
  }

  // Source text of [begin, end) without comments, with each whitespace run that spans a line
  // break (or a backslash continuation) collapsed to one space, or to nothing right after an
  // opening or before a closing bracket. Other whitespace is kept exactly.
  std::string clean(uint32_t begin, uint32_t end, TSNode scope) const {
    std::vector<std::pair<uint32_t, uint32_t>> comments;
    const std::string_view raw = src_.substr(begin, end - begin);
    if (raw.find('#') != std::string_view::npos) find_comments(scope, begin, end, comments);
    std::string out;
    out.reserve(raw.size());
    std::size_t ci = 0;
    uint32_t i = begin;
    while (i < end) {
      if (ci < comments.size() && i == comments[ci].first) {
        i = comments[ci].second;
        ++ci;
        continue;
      }
      const char c = src_[i];
      const bool continuation = c == '\\' && i + 1 < end && (src_[i + 1] == '\n' || src_[i + 1] == '\r');
      if (is_space(c) || continuation) {
        uint32_t j = i;
        bool newline = false;
        for (;;) {
          if (ci < comments.size() && j == comments[ci].first) {
            j = comments[ci].second;
            ++ci;
            newline = true;  // a comment always runs to the end of its line
            continue;
          }
          if (j >= end) break;
          const char d = src_[j];
          if (d == '\n') newline = true;
          if (is_space(d)) { ++j; continue; }
          if (d == '\\' && j + 1 < end && (src_[j + 1] == '\n' || src_[j + 1] == '\r')) {
            newline = true;
            ++j;
            continue;
          }
          break;
        }
        if (!newline) {
          out.append(src_.substr(i, j - i));
        } else if (!out.empty() && j < end) {
          const char prev = out.back();
          const char next = src_[j];
          if (prev != '(' && prev != '[' && prev != '{' && next != ')' && next != ']' && next != '}')
            out.push_back(' ');
        }
        i = j;
        continue;
      }
      out.push_back(c);
      ++i;
    }
    while (!out.empty() && is_space(out.back())) out.pop_back();
    return out;
  }

  void find_comments(TSNode n, uint32_t begin, uint32_t end,
                     std::vector<std::pair<uint32_t, uint32_t>>& out) const {
    each_descendant(n, [&](TSNode c) {
      const auto b = ts_node_start_byte(c), e = ts_node_end_byte(c);
      if (e <= begin || b >= end) return false;
      if (type_of(c) == "comment") {
        out.emplace_back(b, e);
        return false;
      }
      return true;
    });
  }

  std::string clean(TSNode n) const { return clean(ts_node_start_byte(n), ts_node_end_byte(n), n); }

  std::string truncated_value(TSNode n) const {
    std::string v = clean(n);
    if (v.size() > kMaxValueBytes) {
      std::size_t cut = kMaxValueBytes;
      while (cut > 0 && (static_cast<unsigned char>(v[cut]) & 0xC0) == 0x80) --cut;
      v.resize(cut);
      v += "...";
    }
    return v;
  }

  // The end of the last real token of `n`: trailing comments (which tree-sitter may attach to a
  // block) do not extend a definition, matching Python's end_lineno.
  TSPoint effective_end(TSNode n) const {
    // Fast path: a well-formed node whose last line holds neither '#' nor '\\' cannot end in a
    // comment or a line continuation, so its last token ends where the node ends. Walking down
    // the last children instead would visit every statement of every body.
    const TSPoint end = ts_node_end_point(n);
    const uint32_t end_byte = ts_node_end_byte(n);
    if (!ts_node_has_error(n) && end.column > 0 && end.column <= end_byte) {
      const std::string_view last_line = src_.substr(end_byte - end.column, end.column);
      if (last_line.find_first_of("#\\") == std::string_view::npos) return end;
    }
    return effective_end_slow(n);
  }
  static TSPoint effective_end_slow(TSNode n) {
    for (;;) {
      TSNode last{};
      bool found = false;
      each_child(n, [&](TSNode c, std::string_view) {
        if (type_of(c) == "comment" || type_of(c) == "line_continuation" ||
            ts_node_start_byte(c) == ts_node_end_byte(c))
          return;
        last = c;
        found = true;
      });
      if (!found) return ts_node_end_point(n);
      n = last;
    }
  }

  void collect_issues(TSNode n) {
    each_descendant(n, [&](TSNode c) {
      const bool error = type_of(c) == "ERROR";
      const bool missing = ts_node_is_missing(c);
      if (error || missing) {
        ++out_.syntax_issue_count;
        if (out_.syntax_issues.size() < Skeleton::kMaxSyntaxIssues) {
          const TSPoint s = ts_node_start_point(c), e = ts_node_end_point(c);
          out_.syntax_issues.push_back({error ? "error" : "missing", static_cast<int>(s.row) + 1,
                                        static_cast<int>(s.column), static_cast<int>(e.row) + 1});
        }
        if (error) return false;  // one report per unparseable region
      }
      return ts_node_has_error(c);
    });
  }

  // ---- docstrings ----

  static std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\' || i + 1 == s.size()) {
        out.push_back(s[i]);
        continue;
      }
      const char n = s[++i];
      switch (n) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case '\n': break;  // line continuation inside the literal
        default: out.push_back('\\'); out.push_back(n); break;
      }
    }
    return out;
  }

  // The value of a plain string literal (no f/b prefix); nullopt when `n` is not one.
  std::optional<std::string> string_value(TSNode n) const {
    if (type_of(n) == "concatenated_string") {
      std::string all;
      bool ok = true;
      each_child(n, [&](TSNode c, std::string_view) {
        if (!ts_node_is_named(c) || type_of(c) == "comment") return;
        auto v = string_value(c);
        if (!v) ok = false;
        else all += *v;
      });
      if (!ok) return std::nullopt;
      return all;
    }
    if (type_of(n) != "string") return std::nullopt;
    bool raw = false, plain = true;
    std::string value;
    each_child(n, [&](TSNode c, std::string_view) {
      const auto t = type_of(c);
      if (t == "string_start") {
        for (char ch : text(c)) {
          if (ch == 'r' || ch == 'R') raw = true;
          if (ch == 'f' || ch == 'F' || ch == 'b' || ch == 'B') plain = false;
        }
      } else if (t == "string_content") {
        value.append(text(c));
      } else if (t == "interpolation") {
        plain = false;
      }
    });
    if (!plain) return std::nullopt;
    return raw ? value : unescape(value);
  }

  // The first non-blank line of a docstring, stripped — past a reStructuredText title that is only
  // a dotted name (a module's, `pygments.token` over a `~~~~` line: the Pocoo projects' and
  // Requests' convention), which says nothing the path does not: then the first line after it.
  static std::string first_line(std::string_view doc) {
    std::size_t pos = 0;
    std::string_view title;  // a skipped dotted-name title, kept if nothing follows it
    while (pos <= doc.size()) {
      std::size_t nl = doc.find('\n', pos);
      if (nl == std::string_view::npos) nl = doc.size();
      std::string_view line = strip(doc.substr(pos, nl - pos));
      pos = nl + 1;
      if (line.empty()) continue;
      if (title.empty() && dotted_name(line) && pos < doc.size()) {
        std::size_t nl2 = doc.find('\n', pos);
        if (nl2 == std::string_view::npos) nl2 = doc.size();
        if (underline(strip(doc.substr(pos, nl2 - pos)), line.size())) {
          title = line;
          pos = nl2 + 1;
          continue;
        }
      }
      return std::string(line);
    }
    return std::string(title);
  }
  static std::string_view strip(std::string_view line) {
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    return line;
  }
  // `pygments.token`, `babel`: identifier characters and dots only.
  static bool dotted_name(std::string_view s) {
    for (const char c : s) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
    }
    return !s.empty();
  }
  // An RST section underline for a title of `title_size` bytes: one punctuation character
  // repeated, at least as long as the title (RST's rule) and at least 3.
  static bool underline(std::string_view s, std::size_t title_size) {
    if (s.size() < std::max<std::size_t>(3, title_size)) return false;
    if (std::string_view("=-~^*#\"+'`:._").find(s[0]) == std::string_view::npos) return false;
    return s.find_first_not_of(s[0]) == std::string_view::npos;
  }

  // First line of the docstring of a module or block node, "" if none.
  std::string docstring_of(TSNode block) const {
    std::string doc;
    each_child_until(block, [&](TSNode c) {
      if (!ts_node_is_named(c) || type_of(c) == "comment") return true;
      if (type_of(c) != "expression_statement" || ts_node_named_child_count(c) != 1) return false;
      if (auto v = string_value(ts_node_named_child(c, 0))) doc = first_line(*v);
      return false;
    });
    return doc;
  }

  // ---- statements ----

  // The statement walk recurses once per nesting level (block, nested clause): deeper than
  // kMaxBlockNesting it stops and the extraction fails with kTooLarge (extract_skeleton), so the
  // recursion depth is bounded whatever the input (issue 16).
  bool enter() {
    if (depth_ >= static_cast<int>(kMaxBlockNesting)) {
      too_deep_ = true;
      return false;
    }
    ++depth_;
    return true;
  }

  void walk_block(TSNode block, Scope& scope, bool conditional) {
    if (!enter()) return;
    each_child(block, [&](TSNode c, std::string_view) { statement(c, scope, conditional); });
    --depth_;
  }

  // Module level, with error salvage: tree-sitter's recovery often wraps everything from a bad
  // line to the end of the file into one ERROR node, losing every later definition. When a
  // module-level ERROR contains a later line that starts a top-level statement at column 0
  // (`def`, `async def`, `class`, `@`), the source before that line is blanked (bytes become
  // spaces, newlines stay, so every offset, line and column is unchanged) and reparsed; the new
  // tree supplies the rest of the module. Each round starts strictly later, and rounds are capped.
  void module_statements(TSNode root) {
    Scope module{ScopeKind::kModule, "", &out_.definitions, nullptr};
    bool restarted = false;
    each_child(root, [&](TSNode c, std::string_view) {
      if (restarted) return;
      if (type_of(c) != "ERROR" || salvage_rounds_ >= kMaxSalvageRounds) {
        const auto t = type_of(c);
        if (t != "function_definition" && t != "class_definition" && t != "decorated_definition") {
          statement(c, module, false);
          return;
        }
        const std::size_t before = out_.definitions.size();
        if (!take_previous(c)) statement(c, module, false);
        if (out_.definitions.size() == before + 1)
          tops_.push_back({ts_node_start_byte(c), ts_node_end_byte(c), before});
        return;
      }
      const uint32_t resume = next_top_level_line(c);
      if (resume == 0) {
        statement(c, module, false);
        return;
      }
      // Keep what the ERROR holds before the resume point, then reparse from there.
      each_child(c, [&](TSNode e, std::string_view) {
        if (ts_node_end_byte(e) <= resume) statement(e, module, false);
      });
      restarted = true;
      ++salvage_rounds_;
      std::string blanked(src_);
      for (uint32_t i = 0; i < resume; ++i)
        if (blanked[i] != '\n' && blanked[i] != '\r') blanked[i] = ' ';
      buffers_.push_back(std::move(blanked));
      src_ = buffers_.back();
      auto tree = parse_python_tree(src_, deadline_);
      if (!tree) return;  // out of budget: what was extracted so far stands (status partial)
      trees_.emplace_back(*tree);
      TSNode again = ts_tree_root_node(*tree);
      if (ts_node_has_error(again)) collect_issues(again);
      module_statements(again);
    });
  }

  // Top-level definition statement `c` from the earlier parse (reuse()), when the edit left its
  // bytes alone: it ends before the edit starts, or starts after the edit ends on a later line
  // (its columns the same, its lines moved by the lines the edit added), and the earlier parse
  // has a top-level definition statement of exactly those bytes at that place. Both trees are
  // free of errors, so both parsed those bytes as a statement at the top level, where nothing
  // before it carries over (no open bracket, string or block): the same subtree, the same
  // extraction. That it also touches no range whose syntax changed follows from this; it is
  // checked anyway, as is the later line (a top-level statement starts at column 0), as guards
  // that cost nothing.
  bool take_previous(TSNode c) {
    if (!previous_ || previous_->empty()) return false;
    const std::uint32_t start = ts_node_start_byte(c), end = ts_node_end_byte(c);
    std::uint32_t old_start = start;
    int shift = 0;
    if (end <= edit_.start_byte) {
      // before the edit: the same bytes at the same place
    } else if (start >= edit_.new_end_byte && ts_node_start_point(c).row > edit_.new_end_point.row) {
      old_start = start - edit_.new_end_byte + edit_.old_end_byte;
      shift = static_cast<int>(edit_.new_end_point.row) - static_cast<int>(edit_.old_end_point.row);
    } else {
      return false;
    }
    for (const TSRange& r : *changed_) {
      if (r.start_byte < end && start < std::max(r.end_byte, r.start_byte + 1)) return false;
    }
    const auto it = std::lower_bound(previous_->begin(), previous_->end(), old_start,
                                     [](const KeptDefinition& k, std::uint32_t b) { return k.start_byte < b; });
    if (it == previous_->end() || it->start_byte != old_start || it->end_byte - it->start_byte != end - start)
      return false;
    if (shift != 0) shift_lines(it->definition, shift);
    out_.definitions.push_back(std::move(it->definition));
    ++reused_;
    return true;
  }
  static void shift_lines(Definition& d, int shift) {
    d.line += shift;
    d.end_line += shift;
    d.decorated_line += shift;
    for (Variable& v : d.attributes) v.line += shift;
    for (Definition& child : d.children) shift_lines(child, shift);
  }

  // Byte offset of the first line after the start of `error` and inside it that starts (at
  // column 0) with `def `, `async def `, `class ` or `@` and is not inside a string literal
  // (code in a triple-quoted string must not restart the parse); 0 if none.
  uint32_t next_top_level_line(TSNode error) const {
    const uint32_t begin = ts_node_start_byte(error), end = ts_node_end_byte(error);
    std::size_t pos = src_.find('\n', begin);
    while (pos != std::string_view::npos && pos + 1 < end) {
      const std::string_view rest = src_.substr(pos + 1, std::min<std::size_t>(16, end - pos - 1));
      if ((rest.starts_with("def ") || rest.starts_with("async def ") || rest.starts_with("class ") ||
           rest.starts_with("@")) &&
          !inside_string(error, static_cast<uint32_t>(pos + 1)))
        return static_cast<uint32_t>(pos + 1);
      pos = src_.find('\n', pos + 1);
    }
    return 0;
  }

  static bool inside_string(TSNode scope, uint32_t byte) {
    TSNode n = ts_node_descendant_for_byte_range(scope, byte, byte + 1);
    for (int depth = 0; !ts_node_is_null(n) && depth < 64; ++depth) {
      const auto t = type_of(n);
      if (t == "string" || t == "string_content" || t == "concatenated_string") return true;
      if (ts_node_eq(n, scope)) return false;
      n = ts_node_parent(n);
    }
    return false;
  }

  void statement(TSNode c, Scope& scope, bool conditional) {
    const auto t = type_of(c);
    if (t == "function_definition" || t == "class_definition") {
      definition(c, c, scope, conditional);
    } else if (t == "decorated_definition") {
      TSNode def = field(c, "definition");
      if (!ts_node_is_null(def)) definition(def, c, scope, conditional);
    } else if (t == "expression_statement") {
      if (scope.kind != ScopeKind::kFunction) assignment_statement(c, scope, conditional);
    } else if (t == "import_statement" || t == "import_from_statement" || t == "future_import_statement") {
      if (scope.kind == ScopeKind::kModule) import(c, t, conditional);
    } else if (t == "type_alias_statement") {
      if (scope.kind == ScopeKind::kModule) type_alias(c, conditional);
    } else if (t == "if_statement" || t == "for_statement" || t == "while_statement" ||
               t == "try_statement" || t == "with_statement" || t == "match_statement" ||
               t.ends_with("_clause")) {
      compound(c, scope);
    } else if (t == "block" || t == "ERROR") {
      // Well-formed statements inside an unparseable region still count: keep them.
      walk_block(c, scope, conditional);
    }
  }

  void compound(TSNode n, Scope& scope) {
    each_child(n, [&](TSNode c, std::string_view) {
      const auto t = type_of(c);
      if (t == "block") {
        walk_block(c, scope, true);
      } else if ((t.ends_with("_clause") || t == "ERROR") && enter()) {
        compound(c, scope);
        --depth_;
      }
    });
  }

  void definition(TSNode def, TSNode outer, Scope& scope, bool conditional) {
    TSNode name = field(def, "name");
    if (ts_node_is_null(name) || ts_node_is_missing(name)) return;
    Definition d;
    const bool is_class = type_of(def) == "class_definition";
    d.kind = is_class ? DefKind::kClass
                      : (scope.kind == ScopeKind::kClass ? DefKind::kMethod : DefKind::kFunction);
    d.name = std::string(text(name));
    d.qualname = scope.prefix + d.name;
    d.conditional = conditional;
    const TSPoint start = ts_node_start_point(def);
    d.line = static_cast<int>(start.row) + 1;
    d.column = static_cast<int>(start.column);
    const TSPoint end = effective_end(def);
    d.end_line = static_cast<int>(end.row) + 1;
    d.end_column = static_cast<int>(end.column);
    d.decorated_line = static_cast<int>(ts_node_start_point(outer).row) + 1;
    if (!ts_node_eq(outer, def)) {
      each_child(outer, [&](TSNode c, std::string_view) {
        if (type_of(c) != "decorator") return;
        if (ts_node_named_child_count(c) > 0) {
          TSNode expr = ts_node_named_child(c, 0);
          if (type_of(expr) == "comment") return;
          d.decorators.push_back(clean(ts_node_start_byte(expr), ts_node_end_byte(c), c));
        }
      });
    }
    // Signature: everything between the name and the ':' that opens the body.
    uint32_t sig_end = ts_node_end_byte(name);
    TSNode body{};
    bool has_body = false;
    each_child<true>(def, [&](TSNode c, std::string_view f) {
      if (f == "body") {
        body = c;
        has_body = true;
      } else if (f == "parameters" || f == "return_type" || f == "type_parameters" || f == "superclasses") {
        sig_end = std::max(sig_end, ts_node_end_byte(c));
      } else if (type_of(c) == "async") {
        d.is_async = true;
      }
    });
    d.signature = clean(ts_node_end_byte(name), sig_end, def);
    if (is_class) {
      TSNode supers = field(def, "superclasses");
      if (!ts_node_is_null(supers)) {
        each_child(supers, [&](TSNode c, std::string_view) {
          if (ts_node_is_named(c) && type_of(c) != "comment") d.bases.push_back(clean(c));
        });
      }
    }
    if (has_body) {
      d.docstring = docstring_of(body);
      Scope inner{is_class ? ScopeKind::kClass : ScopeKind::kFunction,
                  d.qualname + (is_class ? "." : ".<locals>."), &d.children,
                  is_class ? &d.attributes : nullptr};
      // In a function body only nested definitions are recorded: a body whose text cannot
      // start one is not walked at all (most are not).
      if (is_class || may_define(text(body))) walk_block(body, inner, false);
    }
    scope.defs->push_back(std::move(d));
  }

  // `x = ...`, `x: T = ...`, `x: T`, `A = B = ...`, `__all__ = [...]`, `__all__ += [...]`.
  void assignment_statement(TSNode stmt, Scope& scope, bool conditional) {
    each_child(stmt, [&](TSNode c, std::string_view) {
      const auto t = type_of(c);
      if (t == "assignment") assignment(c, scope, conditional);
      else if (t == "augmented_assignment" && scope.kind == ScopeKind::kModule) augmented(c);
    });
  }

  void assignment(TSNode n, Scope& scope, bool conditional) {
    // Follow the chain A = B = value, collecting the targets.
    std::vector<TSNode> targets;
    TSNode type{}, value{};
    bool has_type = false, has_value = false;
    TSNode cur = n;
    for (;;) {
      TSNode left = field(cur, "left");
      if (!ts_node_is_null(left)) targets.push_back(left);
      TSNode ty = field(cur, "type");
      if (!ts_node_is_null(ty)) {
        type = ty;
        has_type = true;
      }
      TSNode right = field(cur, "right");
      if (ts_node_is_null(right)) break;
      if (type_of(right) == "assignment") {
        cur = right;
        continue;
      }
      value = right;
      has_value = true;
      break;
    }
    const int line = static_cast<int>(ts_node_start_point(n).row) + 1;
    for (TSNode target : targets) {
      std::vector<TSNode> names;
      if (type_of(target) == "identifier") {
        names.push_back(target);
      } else if (type_of(target) == "pattern_list" || type_of(target) == "tuple_pattern") {
        each_child(target, [&](TSNode c, std::string_view) {
          if (type_of(c) == "identifier") names.push_back(c);
        });
      }
      for (TSNode nm : names) {
        const std::string name(text(nm));
        const bool single = names.size() == 1;
        if (scope.kind == ScopeKind::kModule && name == "__all__" && single && has_value) {
          if (auto items = string_list(value)) {
            out_.all = std::move(*items);
          }
          continue;
        }
        if (scope.kind == ScopeKind::kModule && !is_constant_name(name)) continue;
        Variable v;
        v.name = name;
        if (has_type) v.annotation = clean(type);
        if (has_value && single) v.value = truncated_value(value);
        v.conditional = conditional;
        v.line = line;
        if (scope.kind == ScopeKind::kModule) out_.constants.push_back(std::move(v));
        else if (scope.attrs) scope.attrs->push_back(std::move(v));
      }
    }
  }

  void augmented(TSNode n) {
    TSNode left = field(n, "left"), op = field(n, "operator"), right = field(n, "right");
    if (ts_node_is_null(left) || ts_node_is_null(right) || ts_node_is_null(op)) return;
    if (text(left) != "__all__" || text(op) != "+=") return;
    if (auto items = string_list(right)) {
      if (!out_.all) out_.all.emplace();
      out_.all->insert(out_.all->end(), items->begin(), items->end());
    }
  }

  std::optional<std::vector<std::string>> string_list(TSNode n) const {
    const auto t = type_of(n);
    if (t != "list" && t != "tuple" && t != "expression_list") return std::nullopt;
    std::vector<std::string> items;
    bool ok = true;
    each_child(n, [&](TSNode c, std::string_view) {
      if (!ts_node_is_named(c) || type_of(c) == "comment") return;
      auto v = string_value(c);
      if (!v) ok = false;
      else items.push_back(std::move(*v));
    });
    if (!ok) return std::nullopt;
    return items;
  }

  void type_alias(TSNode n, bool conditional) {
    TSNode left = field(n, "left"), right = field(n, "right");
    if (ts_node_is_null(left)) return;
    Variable v;
    v.name = clean(left);
    v.annotation = "type";
    if (!ts_node_is_null(right)) v.value = truncated_value(right);
    v.conditional = conditional;
    v.line = static_cast<int>(ts_node_start_point(n).row) + 1;
    out_.constants.push_back(std::move(v));
  }

  void import(TSNode n, std::string_view t, bool conditional) {
    const int line = static_cast<int>(ts_node_start_point(n).row) + 1;
    if (t == "import_statement") {
      each_child<true>(n, [&](TSNode c, std::string_view f) {
        if (f != "name") return;
        Import imp;
        imp.line = line;
        imp.conditional = conditional;
        if (type_of(c) == "aliased_import") {
          imp.module = clean(field(c, "name"));
          imp.alias = std::string(text(field(c, "alias")));
        } else {
          imp.module = clean(c);
        }
        out_.imports.push_back(std::move(imp));
      });
      return;
    }
    Import imp;
    imp.is_from = true;
    imp.line = line;
    imp.conditional = conditional;
    if (t == "future_import_statement") imp.module = "__future__";
    each_child<true>(n, [&](TSNode c, std::string_view f) {
      if (f == "module_name") {
        if (type_of(c) == "relative_import") {
          each_child(c, [&](TSNode r, std::string_view) {
            if (type_of(r) == "import_prefix") imp.level = static_cast<int>(text(r).size());
            else if (type_of(r) == "dotted_name") imp.module = clean(r);
          });
        } else {
          imp.module = clean(c);
        }
      } else if (f == "name") {
        if (type_of(c) == "aliased_import") {
          imp.names.push_back({clean(field(c, "name")), std::string(text(field(c, "alias")))});
        } else {
          imp.names.push_back({clean(c), ""});
        }
      } else if (type_of(c) == "wildcard_import") {
        imp.names.push_back({"*", ""});
      }
    });
    out_.imports.push_back(std::move(imp));
  }

  static constexpr int kMaxSalvageRounds = 32;

  std::string_view src_;
  Skeleton& out_;
  int salvage_rounds_ = 0;
  int depth_ = 0;  // blocks and nested clauses being walked
  bool too_deep_ = false;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::now() + kParseBudget;
  std::deque<std::string> buffers_;  // blanked sources of salvage rounds (stable addresses)
  std::vector<TreePtr> trees_;       // their trees, alive as long as nodes are in use
  std::vector<KeptDefinition>* previous_ = nullptr;  // reuse(): the earlier parse's definitions
  TSInputEdit edit_{};
  const std::vector<TSRange>* changed_ = nullptr;
  std::vector<Top> tops_;
  std::size_t reused_ = 0;
};

// The identifier-occurrence table (ast::IdentifierTable) of the full parse of `text`: the same
// walk as the fallback's references (navigation.cpp collect_identifiers — identifiers anywhere,
// comments and string contents skipped), columns in code points as text::Location counts them.
// `bom`: the file had a UTF-8 BOM, which `text` no longer holds; readers that keep it see line-1
// columns one code point further right. With `first_row`/`last_row` (0-based, inclusive): the
// table of the identifiers on those lines only (merge_tables puts it into the rest).
IdentifierTable identifier_table(std::string_view text, const TSTree* tree, bool bom,
                                 std::uint32_t first_row = 0, std::uint32_t last_row = UINT32_MAX) {
  // What a node is to this walk, by symbol (the names are the grammar's, looked up once):
  // 1 = identifier, 2 = not descended into (comment, string_content), 0 = anything else. A
  // node's type is its symbol's name, so this is the same test on names without a string
  // compare per node (every node of the file passes here: ≈ 15 % of a cold build before).
  static const std::vector<std::uint8_t> kClass = [] {
    const TSLanguage* lang = tree_sitter_python();
    std::vector<std::uint8_t> cls(ts_language_symbol_count(lang), 0);
    for (std::size_t sym = 0; sym < cls.size(); ++sym) {
      const char* name = ts_language_symbol_name(lang, static_cast<TSSymbol>(sym));
      const std::string_view n = name ? name : "";
      cls[sym] = n == "identifier" ? 1 : (n == "comment" || n == "string_content") ? 2 : 0;
    }
    return cls;
  }();
  // Line starts, and per line the offset of its first non-ASCII byte (a column is a byte count
  // up to it, code points counted only past it).
  std::vector<std::uint32_t> line_starts{0}, first_high;
  for (std::size_t start = 0;;) {
    const void* nl = std::memchr(text.data() + start, '\n', text.size() - start);
    const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - text.data()) : text.size();
    std::size_t j = start;
    for (std::uint64_t w; j + 8 <= end; j += 8) {
      std::memcpy(&w, text.data() + j, 8);
      if (w & 0x8080808080808080ULL) break;
    }
    while (j < end && static_cast<unsigned char>(text[j]) < 0x80) ++j;
    first_high.push_back(j < end ? static_cast<std::uint32_t>(j) : UINT32_MAX);
    if (!nl) break;
    start = end + 1;
    line_starts.push_back(static_cast<std::uint32_t>(start));
  }
  struct Hit {
    std::string_view name;
    Occurrence at;
  };
  std::vector<Hit> hits;
  hits.reserve(text.size() / 16);
  struct Walk {
    std::string_view text;
    const std::vector<std::uint32_t>& line_starts;
    const std::vector<std::uint32_t>& first_high;
    bool bom;
    std::vector<Hit>& hits;
    std::size_t row = 0;  // the line of the last node (nodes come in source order)
  } walk{text, line_starts, first_high, bom, hits};
  const auto report = [](void* ctx, std::uint32_t b, std::uint32_t e) {
    Walk& w = *static_cast<Walk*>(ctx);
    if (e <= b || e > w.text.size()) return;  // MISSING identifiers are empty
    // The start point as tree-sitter counts it: rows are '\n' bytes, columns bytes.
    while (w.row + 1 < w.line_starts.size() && w.line_starts[w.row + 1] <= b) ++w.row;
    const std::size_t line_start = w.line_starts[w.row];
    const std::size_t ascii_end = std::max<std::size_t>(std::min<std::size_t>(b, w.first_high[w.row]), line_start);
    int column = 1 + static_cast<int>(ascii_end - line_start);
    for (std::size_t i = ascii_end; i < b; ++i) column += (static_cast<unsigned char>(w.text[i]) & 0xC0) != 0x80;
    if (w.bom && w.row == 0) ++column;
    w.hits.push_back({w.text.substr(b, e - b), {static_cast<std::int32_t>(w.row) + 1, column}});
  };
  const std::uint32_t lo = first_row < line_starts.size() ? line_starts[first_row] : UINT32_MAX;
  const std::uint32_t hi = last_row < line_starts.size() - 1 ? line_starts[last_row + 1] : UINT32_MAX;
  if (!trifecta_ts_walk_range(tree, kClass.data(), static_cast<std::uint32_t>(kClass.size()), lo, hi,
                              report, &walk)) {
    throw std::bad_alloc();  // its stack could not grow: as any other allocation failure here
  }
  // Group by name, keeping source order inside a name (the walk is in source order): each name
  // interned once (open addressing), the distinct names sorted, the hits placed name by name
  // (a counting sort, so stable) — a stable sort of all hits compared names ≈ 2 × more.
  std::vector<std::string_view> distinct;
  std::vector<std::uint32_t> name_of(hits.size()), count;
  {
    std::size_t cap = 64;
    while (cap < hits.size() * 2) cap <<= 1;
    std::vector<std::uint32_t> slots(cap, UINT32_MAX);
    const std::size_t mask = cap - 1;
    for (std::size_t i = 0; i < hits.size(); ++i) {
      const std::string_view name = hits[i].name;
      std::size_t h = std::hash<std::string_view>{}(name) & mask;
      while (slots[h] != UINT32_MAX && distinct[slots[h]] != name) h = (h + 1) & mask;
      if (slots[h] == UINT32_MAX) {
        slots[h] = static_cast<std::uint32_t>(distinct.size());
        distinct.push_back(name);
        count.push_back(0);
      }
      name_of[i] = slots[h];
      ++count[slots[h]];
    }
  }
  std::vector<std::uint32_t> order(distinct.size());
  for (std::uint32_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return distinct[a] < distinct[b]; });
  IdentifierTable table;
  table.built = true;
  table.names.reserve(order.size());
  table.starts.reserve(order.size() + 1);
  std::vector<std::uint32_t> next(distinct.size());  // where the next hit of a name goes
  std::uint32_t at = 0;
  for (const std::uint32_t k : order) {
    table.names.emplace_back(distinct[k]);
    table.starts.push_back(at);
    next[k] = at;
    at += count[k];
  }
  table.occurrences.resize(hits.size());
  for (std::size_t i = 0; i < hits.size(); ++i) table.occurrences[next[name_of[i]]++] = hits[i].at;
  table.starts.push_back(static_cast<std::uint32_t>(hits.size()));
  return table;
}

// The table of an edited text from its previous version's (`old`, whose names are moved out) and
// `region`, the new text's table of lines `first`..`last` (1-based) — the lines the edit and every
// range whose syntax changed touch, `old_last` the old line that `last` was: an occurrence on an
// earlier line is the old one, one on a later line the old one `shift` lines further down. What
// identifier_table of the whole new text gives, when the lines outside the region hold the same
// nodes as before (ts_tree_get_changed_ranges says where they may not).
IdentifierTable merge_tables(IdentifierTable& old, const IdentifierTable& region, std::int32_t first,
                             std::int32_t old_last, std::int32_t shift) {
  IdentifierTable out;
  out.built = true;
  out.names.reserve(old.names.size() + region.names.size());
  out.starts.reserve(old.names.size() + region.names.size() + 1);
  out.occurrences.reserve(old.occurrences.size() + region.occurrences.size());
  std::size_t i = 0, j = 0;
  while (i < old.names.size() || j < region.names.size()) {
    const int c = i == old.names.size()      ? 1
                  : j == region.names.size() ? -1
                                             : old.names[i].compare(region.names[j]);
    const std::span<const Occurrence> was = c <= 0 ? old.group(i) : std::span<const Occurrence>();
    const std::span<const Occurrence> now = c >= 0 ? region.group(j) : std::span<const Occurrence>();
    const auto at = static_cast<std::uint32_t>(out.occurrences.size());
    auto it = was.begin();
    for (; it != was.end() && it->line < first; ++it) out.occurrences.push_back(*it);
    out.occurrences.insert(out.occurrences.end(), now.begin(), now.end());
    for (; it != was.end(); ++it) {
      if (it->line > old_last) out.occurrences.push_back({it->line + shift, it->column});
    }
    if (out.occurrences.size() > at) {
      out.names.push_back(c <= 0 ? std::move(old.names[i]) : region.names[j]);
      out.starts.push_back(at);
    }
    if (c <= 0) ++i;
    if (c >= 0) ++j;
  }
  out.starts.push_back(static_cast<std::uint32_t>(out.occurrences.size()));
  return out;
}

int count_lines(std::string_view s) {
  if (s.empty()) return 0;
  int n = 0;
  for (const char* p = s.data(), *end = s.data() + s.size();
       (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)))) != nullptr; ++p)
    ++n;
  return s.back() == '\n' ? n : n + 1;
}

}  // namespace

Result<RuntimeInfo> check_runtime() {
  static const Result<RuntimeInfo> result = probe_runtime();
  return result;
}

void TreeDeleter::operator()(TSTree* tree) const { ts_tree_delete(tree); }

namespace {

// What one extraction parsed: its tree, the text it read and that text's identifier table
// (for a ParseMemo).
struct Parsed {
  TreePtr tree;
  std::string text;
  IdentifierTable identifiers;
  bool bom = false;
  std::vector<KeptDefinition> definitions;
  std::size_t reused = 0;  // top-level definitions this parse took from the previous one
  bool incremental = false;  // this parse started from the previous one's tree
};

// extract_skeleton. `previous`: an earlier parse to start from (its tree edited here to match;
// its identifier table consumed), or null for a fresh parse; `keep`: where this parse goes
// (null: the tree is dropped).
Result<Skeleton> extract(std::string_view source, Parsed* previous, Parsed* keep) {
  Skeleton s;
  s.source_bytes = source.size();
  // The one decoding of source bytes (util/utf8.hpp): the same text ctx.get and the index see.
  std::string decoded;
  const utf8::Decoded d = utf8::decode_source(source, decoded);
  s.encoding = d.encoding;
  s.had_bom = d.had_bom;
  s.decoding_replaced = d.replaced_bytes > 0;
  s.replaced_bytes = d.replaced_bytes;
  const std::string_view text = utf8::strip_bom(d.changed ? std::string_view(decoded) : source);
  s.line_count = count_lines(text);
  // tree-sitter's error recovery depends on where a parse resumes: from a tree with syntax errors,
  // or to one, an incremental parse may recover otherwise than a fresh parse of the same text
  // (fuzz_extractor found a text whose last error region ended a line earlier, and identifiers
  // that differed with it). So a text after one with errors is parsed fresh, and a text whose
  // incremental parse has errors is parsed again fresh: a skeleton never depends on the file's
  // history.
  bool from_previous =
      previous && previous->tree && !ts_node_has_error(ts_tree_root_node(previous->tree.get()));
  TSInputEdit e{};
  if (from_previous) {
    e = edit_between(previous->text, text);
    ts_tree_edit(previous->tree.get(), &e);
  }
  const auto deadline = std::chrono::steady_clock::now() + kParseBudget;
  auto tree = parse(text, deadline, from_previous ? previous->tree.get() : nullptr);
  if (!tree) return tree.error();
  if (from_previous && ts_node_has_error(ts_tree_root_node(tree->get()))) {
    from_previous = false;
    tree = parse(text, deadline, nullptr);
    if (!tree) return tree.error();
  }
  // Where the syntax changed (this text's bytes and lines): what neither the identifier table nor
  // the top-level definitions take from the previous parse.
  std::vector<TSRange> changed;
  if (from_previous) {
    std::uint32_t count = 0;
    TSRange* ranges = ts_tree_get_changed_ranges(previous->tree.get(), tree->get(), &count);
    changed.assign(ranges, ranges + count);
    std::free(ranges);
  }
  const TSNode root = ts_tree_root_node(tree->get());
  Extractor extractor(text, s);
  if (from_previous) extractor.reuse(&previous->definitions, e, &changed);
  extractor.run(root);
  if (extractor.too_deep()) {
    return make_error(Errc::kTooLarge, "statements nested more than " + std::to_string(kMaxBlockNesting) +
                                           " levels deep: not extracted (CPython refuses over 100)");
  }
  if (from_previous && previous->identifiers.built && previous->bom == d.had_bom) {
    // Only the lines the edit or a change of syntax touched are walked again (an edit of one
    // line in a 35 KB file: about a twentieth of the whole walk); the rest comes from the
    // previous table.
    std::uint32_t first = e.start_point.row, last = e.new_end_point.row;
    for (const TSRange& r : changed) {
      first = std::min(first, r.start_point.row);
      last = std::max(last, r.end_point.row);
    }
    const IdentifierTable region = identifier_table(text, tree->get(), d.had_bom, first, last);
    const auto shift = static_cast<std::int32_t>(e.new_end_point.row) - static_cast<std::int32_t>(e.old_end_point.row);
    s.identifiers = merge_tables(previous->identifiers, region, static_cast<std::int32_t>(first) + 1,
                                 static_cast<std::int32_t>(last) + 1 - shift, shift);
  } else {
    s.identifiers = identifier_table(text, tree->get(), d.had_bom);
  }
  if (keep) {
    keep->tree = std::move(*tree);
    keep->text.assign(text);
    keep->identifiers = s.identifiers;
    keep->bom = d.had_bom;
    // The top-level definitions, for the next parse to take the ones its edit leaves alone; none
    // from a tree with errors (the next parse is a fresh one).
    keep->reused = extractor.reused();
    keep->incremental = from_previous;
    keep->definitions.clear();
    if (s.status == ParseStatus::kOk) {
      keep->definitions.reserve(extractor.tops().size());
      for (const Extractor::Top& t : extractor.tops())
        keep->definitions.push_back({t.start_byte, t.end_byte, s.definitions[t.index]});
    }
  }
  return s;
}

}  // namespace

Result<Skeleton> extract_skeleton(std::string_view source) { return extract(source, nullptr, nullptr); }

Result<Skeleton> extract_skeleton(std::string_view source, ParseMemo& memo) {
  Parsed previous{std::move(memo.tree_), std::move(memo.text_), std::move(memo.identifiers_), memo.bom_,
                  std::move(memo.definitions_)};
  Parsed parsed;
  auto s = extract(source, &previous, &parsed);
  memo = ParseMemo();
  if (!s) return s;
  memo.tree_ = std::move(parsed.tree);
  memo.text_ = std::move(parsed.text);
  memo.identifiers_ = std::move(parsed.identifiers);
  memo.definitions_ = std::move(parsed.definitions);
  memo.reused_ = parsed.reused;
  memo.bom_ = parsed.bom;
  memo.incremental_ = parsed.incremental;
  return s;
}

Result<std::size_t> raw_parse(std::string_view source) {
  auto tree = parse(source, std::chrono::steady_clock::now() + kParseBudget);
  if (!tree) return tree.error();
  return source.size();
}

std::size_t bracket_nesting(std::string_view text, std::size_t stop_at) {
  std::size_t depth = 0, deepest = 0;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '#') {
      i = lang::python::comment_end(text, i);
      continue;
    }
    if (c == '\'' || c == '"') {
      i = lang::python::scan_string(text, i).end;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest >= stop_at) return stop_at;
      }
    } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    ++i;
  }
  return deepest;
}

namespace {
bool past_deadline(TSParseState* state) {
  const auto* deadline = static_cast<const std::chrono::steady_clock::time_point*>(state->payload);
  return std::chrono::steady_clock::now() >= *deadline;  // true cancels the parse
}
}  // namespace

Result<TSTree*> parse_python_tree(std::string_view text, std::chrono::steady_clock::time_point deadline,
                                  const TSTree* edited) {
  auto rt = check_runtime();
  if (!rt) return rt.error();
  if (text.size() > UINT32_MAX) return make_error(Errc::kTooLarge, "file too large to parse (over 4 GiB)");
  if (const std::size_t depth = bracket_nesting(text, kMaxBracketNesting + 1); depth > kMaxBracketNesting) {
    return make_error(Errc::kTooLarge, "brackets nested more than " + std::to_string(kMaxBracketNesting) +
                                           " levels deep: not parsed (CPython refuses over 200)");
  }
  if (std::chrono::steady_clock::now() >= deadline) return make_error(Errc::kTimeout, "parse budget spent");
  TSInput input{};
  struct Src {
    std::string_view text;
  } src{text};
  input.payload = &src;
  input.encoding = TSInputEncodingUTF8;
  input.read = [](void* payload, uint32_t byte, TSPoint, uint32_t* read) -> const char* {
    const auto* s = static_cast<const Src*>(payload);
    if (byte >= s->text.size()) {
      *read = 0;
      return "";
    }
    *read = static_cast<uint32_t>(s->text.size() - byte);
    return s->text.data() + byte;
  };
  TSParseOptions options{};
  options.payload = &deadline;
  options.progress_callback = &past_deadline;
  TSParser* parser = thread_python_parser();
  TSTree* tree = ts_parser_parse_with_options(parser, edited, input, options);
  if (!tree) {
    ts_parser_reset(parser);  // a cancelled parse would otherwise resume on the next call
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error(Errc::kTimeout, "parse took longer than its budget of " +
                                            std::to_string(kParseBudget.count()) + " ms: cancelled");
    }
    return make_error(Errc::kInternal, "tree-sitter returned no tree");
  }
  return tree;
}

namespace {
struct ParserDeleter {
  void operator()(TSParser* p) const { ts_parser_delete(p); }
};
}  // namespace

TSParser* thread_python_parser() {
  thread_local std::unique_ptr<TSParser, ParserDeleter> parser;
  if (!parser) {
    parser.reset(ts_parser_new());
    ts_parser_set_language(parser.get(), tree_sitter_python());
  }
  return parser.get();
}

}  // namespace trifecta::core::ast
