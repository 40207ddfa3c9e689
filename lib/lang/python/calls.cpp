#include "lang/python/calls.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include "lang/python/modules.hpp"
#include "lang/python/syntax.hpp"
#include "text/text.hpp"

namespace trifecta::core::navigation {

namespace {

std::string key_of(const CallItem& i) {
  return i.file + ":" + (i.qualname.empty() ? "<module>" : i.qualname);
}

bool callable_kind(std::string_view k) {
  return k == "function" || k == "method" || k == "class";
}

std::size_t byte_of(std::string_view line, int column) {
  return text::byte_from_utf16(line, text::utf16_from_column(line, column));
}

// The name's code-point columns on `line` of `text`, searching from byte `from`.
std::pair<int, int> name_columns(std::string_view text, int line, std::size_t from,
                                 std::string_view name) {
  const std::string_view l = syntax::nth_line(text, line);
  for (auto p = l.find(name, std::min(from, l.size())); p != std::string_view::npos;
       p = l.find(name, p + 1)) {
    const bool left = p == 0 || !syntax::is_identifier_byte(l[p - 1]);
    const bool right =
        p + name.size() >= l.size() || !syntax::is_identifier_byte(l[p + name.size()]);
    if (left && right)
      return {syntax::column_from_byte(l, p), syntax::column_from_byte(l, p + name.size())};
  }
  return {0, 0};
}

class Walker {
 public:
  Walker(selector::SegmentSource& source, const SymbolIndex& index, const CallsOptions& options)
      : source_(source), index_(index), options_(options) {}

  std::optional<CallItem> item_of(const Target& t) {
    if (!callable_kind(t.kind)) return std::nullopt;
    CallItem i;
    i.name = t.name;
    i.qualname = t.qualname;
    i.kind = t.kind;
    i.file = t.location.path;
    i.line = i.end_line = t.location.line;
    i.column = t.location.column;
    i.end_column = t.location.end_column;
    i.signature = t.signature;
    for (const auto& d : index_.definitions_named(t.name)) {
      // Locals come without a qualname from definition(): the index has it.
      if (d.file == i.file && (t.qualname.empty() || d.qualname == t.qualname) &&
          d.line <= i.line && i.line <= d.end_line && callable_kind(d.kind)) {
        i.qualname = d.qualname;
        i.line = d.line;
        i.end_line = d.end_line;
        break;
      }
    }
    if (i.qualname.empty()) i.qualname = i.name;
    return i;
  }

  // The innermost function/method (else class, else the module) around `line` of `file`.
  CallItem enclosing(const std::string& file, int line) {
    CallItem out;
    out.file = file;
    out.kind = "module";
    out.name = lang::python::module_of(file, options_.nav.source_roots);
    out.line = 1;
    auto sk = source_.skeleton(file);
    if (!sk) return out;
    out.end_line = (*sk)->line_count;
    const ast::Definition* best = nullptr;
    ast::for_each_definition(**sk, [&](const ast::Definition& d) {
      if (d.line <= line && line <= d.end_line) best = &d;  // pre-order: later = deeper
    });
    if (!best) return out;
    out.name = best->name;
    out.qualname = best->qualname;
    out.kind = std::string(ast::def_kind_name(best->kind));
    out.line = best->line;
    out.end_line = best->end_line;
    out.signature = best->signature;
    const auto cols = name_columns(text_of(file), best->line,
                                   static_cast<std::size_t>(best->column) + 3, best->name);
    out.column = cols.first;
    out.end_column = cols.second;
    return out;
  }

  std::vector<CallEdge> incoming(const CallItem& callee) {
    std::vector<CallEdge> out;
    if (callee.column <= 0) return out;
    const std::string& text = text_of(callee.file);
    auto refs = references(source_, index_, callee.file, text, {callee.line, callee.column}, false,
                           1000, options_.nav);
    if (!refs) return out;
    std::map<std::string, std::size_t> at;  // caller key → index in out
    for (const auto& l : refs->locations) {
      const std::string_view line = syntax::nth_line(text_of(l.path), l.line);
      const std::size_t b = byte_of(line, l.column), e = byte_of(line, l.end_column);
      std::size_t k = e;
      while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
      if (k >= line.size() || line[k] != '(') continue;  // not a call
      std::size_t j = b;
      while (j > 0 && (line[j - 1] == ' ' || line[j - 1] == '\t')) --j;
      if (j >= 3 && line.substr(j - 3, 3) == "def" &&
          (j == 3 || !syntax::is_identifier_byte(line[j - 4])))
        continue;
      if (j >= 5 && line.substr(j - 5, 5) == "class" &&
          (j == 5 || !syntax::is_identifier_byte(line[j - 6])))
        continue;
      CallItem caller = enclosing(l.path, l.line);
      const std::string key = key_of(caller);
      auto [it, fresh] = at.emplace(key, out.size());
      if (fresh) {
        CallEdge edge;
        edge.item = std::move(caller);
        edge.rule = "by name";
        out.push_back(std::move(edge));
      }
      out[it->second].sites.push_back(l);
    }
    return out;
  }

  std::vector<CallEdge> outgoing(const CallItem& caller, std::size_t& unresolved) {
    std::vector<CallEdge> out;
    if (caller.column <= 0) return out;
    const std::string text = text_of(caller.file);
    auto parsed = syntax::parse_python(text);  // its own tree: definition() below uses the cache
    if (!parsed) return out;
    const syntax::ParsedFile& f = **parsed;
    if (caller.line > f.line_count()) return out;
    const std::uint32_t off = f.offset_of({caller.line, caller.column});
    TSNode id = ts_node_named_descendant_for_byte_range(f.root(), off, off + 1);
    if (ts_node_is_null(id)) return out;
    TSNode def = ts_node_parent(id);
    const std::string_view dt = ts_node_is_null(def) ? std::string_view() : syntax::type_of(def);
    if (dt != "function_definition" && dt != "class_definition") return out;
    std::vector<TSNode> calls;
    TSTreeCursor c = ts_tree_cursor_new(def);
    bool more = true;
    while (more) {
      TSNode n = ts_tree_cursor_current_node(&c);
      if (syntax::type_of(n) == "call") calls.push_back(n);
      if (ts_tree_cursor_goto_first_child(&c)) continue;
      while (!ts_tree_cursor_goto_next_sibling(&c)) {
        if (!ts_tree_cursor_goto_parent(&c) || ts_tree_cursor_current_depth(&c) == 0) {
          more = false;
          break;
        }
      }
    }
    ts_tree_cursor_delete(&c);
    std::map<std::string, std::size_t> at;
    for (TSNode call : calls) {
      TSNode fn = syntax::field(call, "function");
      TSNode name{};
      if (!ts_node_is_null(fn) && syntax::type_of(fn) == "identifier")
        name = fn;
      else if (!ts_node_is_null(fn) && syntax::type_of(fn) == "attribute")
        name = syntax::field(fn, "attribute");
      if (ts_node_is_null(name)) {
        ++unresolved;
        continue;
      }
      const text::Location site = f.location_of(name, caller.file);
      auto d =
          definition(source_, index_, caller.file, text, {site.line, site.column}, options_.nav);
      std::optional<CallItem> callee;
      if (d && !d->targets.empty()) callee = item_of(d->targets.front());
      if (!callee) {
        ++unresolved;
        continue;
      }
      const std::string key = key_of(*callee);
      auto [it, fresh] = at.emplace(key, out.size());
      if (fresh) {
        CallEdge edge;
        edge.item = std::move(*callee);
        edge.rule = d->rule;
        out.push_back(std::move(edge));
      }
      out[it->second].sites.push_back(site);
    }
    return out;
  }

 private:
  const std::string& text_of(const std::string& file) {
    auto it = texts_.find(file);
    if (it != texts_.end()) return it->second;
    auto t = index_.content(file);
    return texts_.emplace(file, t ? std::move(*t) : std::string()).first->second;
  }

  selector::SegmentSource& source_;
  const SymbolIndex& index_;
  const CallsOptions& options_;
  std::map<std::string, std::string> texts_;
};

}  // namespace

Result<CallsResult> call_hierarchy(selector::SegmentSource& source, const SymbolIndex& index,
                                   std::string_view rel, std::string_view text, text::Position pos,
                                   const CallsOptions& options) {
  auto d = definition(source, index, rel, text, pos, options.nav);
  if (!d) return d.error();
  CallsResult out;
  Walker w(source, index, options);
  std::optional<CallItem> root;
  for (const auto& t : d->targets) {
    if ((root = w.item_of(t))) break;
  }
  if (!root) {
    out.reason = d->targets.empty()
                     ? (d->reason.empty() ? "no definition at the position" : d->reason)
                     : "'" + d->name + "' is a " + d->targets.front().kind +
                           ", not a function, method or class";
    return out;
  }
  out.root = root;
  const int depth = std::clamp(options.depth, 1, 5);
  struct Work {
    CallItem item;
    int depth;
    bool incoming;
  };
  std::deque<Work> queue;
  std::set<std::string> seen_in, seen_out;
  if (options.incoming) {
    queue.push_back({*root, 1, true});
    seen_in.insert(key_of(*root));
  }
  if (options.outgoing) {
    queue.push_back({*root, 1, false});
    seen_out.insert(key_of(*root));
  }
  std::size_t edges = 0;
  while (!queue.empty() && !out.truncated) {
    Work work = std::move(queue.front());
    queue.pop_front();
    auto found = work.incoming ? w.incoming(work.item) : w.outgoing(work.item, out.unresolved);
    for (auto& e : found) {
      if (edges >= options.max_edges) {
        out.truncated = true;
        break;
      }
      ++edges;
      e.depth = work.depth;
      if (work.depth > 1) e.parent = key_of(work.item);
      auto& seen = work.incoming ? seen_in : seen_out;
      if (work.depth < depth && e.item.kind != "module" && seen.insert(key_of(e.item)).second)
        queue.push_back({e.item, work.depth + 1, work.incoming});
      (work.incoming ? out.incoming : out.outgoing).push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace trifecta::core::navigation
