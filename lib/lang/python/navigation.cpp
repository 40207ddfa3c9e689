#include "lang/python/navigation.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "lang/python/modules.hpp"
#include "lang/python/syntax.hpp"

namespace trifecta::core::navigation {

namespace {

using syntax::field;
using syntax::ParsedFile;
using syntax::type_of;

// Python 3.11's builtins (dir(builtins) without the private dunders).
const std::unordered_set<std::string_view> kBuiltins = {
    "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "BaseExceptionGroup",
    "BlockingIOError", "BrokenPipeError", "BufferError", "BytesWarning", "ChildProcessError",
    "ConnectionAbortedError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError",
    "DeprecationWarning", "EOFError", "Ellipsis", "EncodingWarning", "EnvironmentError", "Exception",
    "ExceptionGroup", "False", "FileExistsError", "FileNotFoundError", "FloatingPointError", "FutureWarning",
    "GeneratorExit", "IOError", "ImportError", "ImportWarning", "IndentationError", "IndexError",
    "InterruptedError", "IsADirectoryError", "KeyError", "KeyboardInterrupt", "LookupError", "MemoryError",
    "ModuleNotFoundError", "NameError", "None", "NotADirectoryError", "NotImplemented", "NotImplementedError",
    "OSError", "OverflowError", "PendingDeprecationWarning", "PermissionError", "ProcessLookupError",
    "RecursionError", "ReferenceError", "ResourceWarning", "RuntimeError", "RuntimeWarning",
    "StopAsyncIteration", "StopIteration", "SyntaxError", "SyntaxWarning", "SystemError", "SystemExit",
    "TabError", "TimeoutError", "True", "TypeError", "UnboundLocalError", "UnicodeDecodeError",
    "UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError", "UnicodeWarning", "UserWarning",
    "ValueError", "Warning", "ZeroDivisionError", "__build_class__", "__debug__", "__doc__", "__import__",
    "__name__", "__file__", "__spec__", "__loader__", "__package__", "__builtins__", "__dict__", "__path__",
    "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray", "bytes",
    "callable", "chr", "classmethod", "compile", "complex", "copyright", "credits", "delattr", "dict", "dir",
    "divmod", "enumerate", "eval", "exec", "exit", "filter", "float", "format", "frozenset", "getattr",
    "globals", "hasattr", "hash", "help", "hex", "id", "input", "int", "isinstance", "issubclass", "iter",
    "len", "license", "list", "locals", "map", "max", "memoryview", "min", "next", "object", "oct", "open",
    "ord", "pow", "print", "property", "quit", "range", "repr", "reversed", "round", "set", "setattr",
    "slice", "sorted", "staticmethod", "str", "sum", "super", "tuple", "type", "vars", "zip"};

constexpr int kMaxClassDepth = 8;
constexpr int kMaxEvalDepth = 12;

bool is(TSNode n, std::string_view t) { return !ts_node_is_null(n) && type_of(n) == t; }

bool same_node(TSNode a, TSNode b) { return ts_node_eq(a, b); }

// Is `inner` inside `outer` (or equal)?
bool contains(TSNode outer, TSNode inner) {
  if (ts_node_is_null(outer) || ts_node_is_null(inner)) return false;
  return ts_node_start_byte(inner) >= ts_node_start_byte(outer) && ts_node_end_byte(inner) <= ts_node_end_byte(outer);
}

// The first named child, or null (also for a null node: ts_node_named_child dereferences it).
TSNode first_named_child(TSNode n) { return ts_node_is_null(n) ? TSNode{} : ts_node_named_child(n, 0); }

template <class F>
void each_named_child(TSNode n, F&& f) {
  if (ts_node_is_null(n)) return;
  const uint32_t count = ts_node_named_child_count(n);
  for (uint32_t i = 0; i < count; ++i) f(ts_node_named_child(n, i));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (true) {
    const auto e = s.find(sep, b);
    out.emplace_back(s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::size_t n, char sep) {
  std::string out;
  for (std::size_t i = 0; i < n && i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string strip_spaces(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\\') out += c;
  return out;
}

bool is_constant_name(std::string_view name) {
  bool letter = false;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') return false;
    if (c >= 'A' && c <= 'Z') letter = true;
  }
  return letter;
}

// Whole-word occurrence of `word` in `text` at or after `from`.
std::size_t find_word(std::string_view text, std::string_view word, std::size_t from = 0) {
  for (auto p = text.find(word, from); p != std::string_view::npos; p = text.find(word, p + 1)) {
    const bool left = p == 0 || !syntax::is_identifier_byte(text[p - 1]);
    const bool right = p + word.size() >= text.size() || !syntax::is_identifier_byte(text[p + word.size()]);
    if (left && right) return p;
  }
  return std::string_view::npos;
}

std::string dir_of(std::string_view rel) {
  const auto p = rel.rfind('/');
  return p == std::string_view::npos ? std::string() : std::string(rel.substr(0, p));
}

// ---- values and hits ---------------------------------------------------------------------------

struct ClassRef {
  std::string file;
  std::shared_ptr<const ast::Skeleton> skeleton;  // keeps `def` alive
  const ast::Definition* def = nullptr;
};

struct Val {
  enum Kind { kNone, kModule, kClass, kInstance, kSuper } kind = kNone;
  std::string module_file;  // kModule
  ClassRef cls;             // kClass / kInstance / kSuper
};

struct Hit {
  Target target;
  Val val;
};

struct Outcome {
  std::string rule;
  std::string reason;
  std::vector<Hit> hits;
  bool decided = false;  // a rule claimed the name (even with no target: builtins, external modules)
};

// A name bound in one scope.
enum class BKind { kParam, kAssign, kFunction, kClass, kImport, kImportFrom, kGlobal, kNonlocal, kOther };
struct Binding {
  BKind kind;
  TSNode name;   // the identifier that binds
  TSNode decl;   // def/class node, import statement, aliased_import / dotted_name for `import`
  TSNode value;  // assignment right side, parameter annotation, imported name node
};

// ---- the resolver ----------------------------------------------------------------------------

class Navigator {
 public:
  Navigator(selector::SegmentSource& source, const SymbolIndex& index, std::string_view rel,
            const ParsedFile& file, const NavOptions& options)
      : source_(source),
        index_(index),
        rel_(rel),
        file_(file),
        options_(options) {}

  Outcome at(TSNode id);

 private:
  // The parent of `n`. tree-sitter keeps no parent links: ts_node_parent descends from the root,
  // O(depth) per call, so walking up from a deep node cost O(depth^2) (10,000 chained calls: 6 s).
  // The first call for a node records the parent of every node on its root path in one descent;
  // the walk up from there is O(1) per step.
  TSNode parent_of(TSNode n);

  // scopes
  Outcome resolve_name(TSNode usage, const std::string& name, bool want_val);
  void collect(TSNode scope_node, const std::string& name, std::vector<Binding>& out);
  void collect_in(TSNode n, const std::string& name, std::vector<Binding>& out);
  void collect_targets(TSNode pattern, const std::string& name, BKind kind, TSNode decl, TSNode value,
                       std::vector<Binding>& out);
  void collect_params(TSNode params, const std::string& name, TSNode decl, std::vector<Binding>& out);
  Outcome from_binding(const Binding& b, TSNode scope_node, bool class_scope, bool want_val);
  std::optional<Binding> pick(const std::vector<Binding>& bs, TSNode usage);

  // modules
  std::optional<std::string> module_file(int level, const std::string& dotted, const std::string& from_rel);
  Outcome module_target(const std::string& file);
  Outcome lookup_in_module(const std::string& file, const std::string& name, int hops);
  Outcome import_from(int level, const std::string& module, const std::string& name, const std::string& from_rel,
                      int hops);
  Outcome in_import_statement(TSNode id, TSNode stmt);

  // classes and attributes
  Outcome class_member(const ClassRef& c, const std::string& name, int depth, std::set<std::string>& seen);
  Val eval(TSNode expr, int depth);
  Val val_of(const Outcome& o) const { return o.hits.empty() ? Val{} : o.hits.front().val; }
  std::optional<ClassRef> enclosing_class(TSNode n);
  std::optional<ClassRef> class_in_current(TSNode class_node);
  Val eval_dotted_in_module(const std::string& file, const std::string& dotted);

  // targets
  Hit def_hit(const std::string& file, const std::shared_ptr<const ast::Skeleton>& sk, const ast::Definition& d);
  Hit line_hit(const std::string& file, int line, const std::string& name, std::string kind, std::string qualname,
               std::string signature);
  Hit node_hit(TSNode name_node, std::string kind);
  std::string_view content(const std::string& file);
  std::shared_ptr<const ast::Skeleton> skeleton(const std::string& file);

  Outcome index_fallback(const std::string& name, bool after_dot);
  Outcome member_of(const Val& obj, const std::string& name);
  Outcome keyword_parameter(TSNode call, const std::string& name);

  selector::SegmentSource& source_;
  const SymbolIndex& index_;
  std::string rel_;
  const ParsedFile& file_;
  const NavOptions& options_;
  std::map<std::string, std::optional<std::string>> contents_;
  std::map<std::string, std::shared_ptr<const ast::Skeleton>> skeletons_;
  int eval_depth_ = 0;
  int member_depth_ = 0;  // class_member → base evaluation → class_member chains
  std::unordered_map<const void*, TSNode> parents_;  // node id → parent, filled by parent_of
};

TSNode Navigator::parent_of(TSNode n) {
  if (ts_node_is_null(n)) return TSNode{};
  if (auto it = parents_.find(n.id); it != parents_.end()) return it->second;
  TSNode cur = file_.root();
  if (same_node(cur, n)) return TSNode{};
  for (;;) {
    TSNode child = ts_node_child_with_descendant(cur, n);
    if (ts_node_is_null(child) || same_node(child, cur)) break;
    parents_.emplace(child.id, cur);
    if (same_node(child, n)) return cur;
    cur = child;
  }
  return ts_node_parent(n);  // not reachable by the descent (zero-width nodes): ask tree-sitter
}

std::string_view Navigator::content(const std::string& file) {
  if (file == rel_) return file_.text();
  auto it = contents_.find(file);
  if (it == contents_.end()) {
    auto r = index_.content(file);
    it = contents_.emplace(file, r ? std::optional<std::string>(std::move(*r)) : std::nullopt).first;
  }
  return it->second ? std::string_view(*it->second) : std::string_view{};
}

std::shared_ptr<const ast::Skeleton> Navigator::skeleton(const std::string& file) {
  auto it = skeletons_.find(file);
  if (it != skeletons_.end()) return it->second;
  auto r = source_.skeleton(file);
  std::shared_ptr<const ast::Skeleton> sk = r ? *r : nullptr;
  skeletons_.emplace(file, sk);
  return sk;
}

Hit Navigator::node_hit(TSNode name_node, std::string kind) {
  Hit h;
  h.target.location = file_.location_of(name_node, rel_);
  h.target.kind = std::move(kind);
  h.target.name = std::string(file_.node_text(name_node));
  return h;
}

Hit Navigator::line_hit(const std::string& file, int line, const std::string& name, std::string kind,
                        std::string qualname, std::string signature) {
  Hit h;
  Target& t = h.target;
  t.kind = std::move(kind);
  t.name = name;
  t.qualname = std::move(qualname);
  t.signature = std::move(signature);
  t.location.path = file;
  t.location.line = t.location.end_line = line;
  const std::string_view text = syntax::nth_line(content(file), line);
  const std::size_t at = find_word(text, name);
  const std::size_t b = at == std::string_view::npos ? 0 : at;
  t.location.column = syntax::column_from_byte(text, b);
  t.location.end_column = syntax::column_from_byte(text, at == std::string_view::npos ? 0 : b + name.size());
  return h;
}

Hit Navigator::def_hit(const std::string& file, const std::shared_ptr<const ast::Skeleton>& sk,
                       const ast::Definition& d) {
  Hit h;
  Target& t = h.target;
  t.kind = std::string(ast::def_kind_name(d.kind));
  t.name = d.name;
  t.qualname = d.qualname;
  t.signature = d.signature;
  t.docstring = d.docstring;
  t.location.path = file;
  t.location.line = t.location.end_line = d.line;
  const std::string_view text = syntax::nth_line(content(file), d.line);
  std::size_t at = find_word(text, d.name, static_cast<std::size_t>(std::max(0, d.column)) + 3);
  if (at == std::string_view::npos) at = static_cast<std::size_t>(std::max(0, d.column));
  t.location.column = syntax::column_from_byte(text, at);
  t.location.end_column = syntax::column_from_byte(text, at + d.name.size());
  if (d.kind == ast::DefKind::kClass) {
    h.val.kind = Val::kClass;
    h.val.cls = ClassRef{file, sk, &d};
  }
  return h;
}

// ---- modules ---------------------------------------------------------------------------------

std::optional<std::string> Navigator::module_file(int level, const std::string& dotted, const std::string& from_rel) {
  if (level == 0) {
    // selector::Resolver's rule (each source root; `a/b.py` or `a/b/__init__.py`; with both, the
    // first), without its failure path: a miss there computes suggestions over directory listings,
    // and misses are common here (stdlib and third-party imports).
    const std::string& pkg = options_.package_prefix;
    if (!pkg.empty() && (dotted == pkg || (dotted.size() > pkg.size() && dotted.starts_with(pkg) &&
                                           dotted[pkg.size()] == '.'))) {
      // A package-root segment: the package's own modules live under the root without it.
      const std::string rest = dotted.size() > pkg.size() ? dotted.substr(pkg.size() + 1) : std::string();
      auto files = rest.empty() ? lang::python::files_for("") : lang::python::candidate_files(rest, options_.source_roots);
      for (auto& f : files) {
        if (source_.is_file(f.path)) return std::move(f.path);
      }
    }
    for (auto& f : lang::python::candidate_files(dotted, options_.source_roots)) {
      if (source_.is_file(f.path)) return std::move(f.path);
    }
    return std::nullopt;
  }
  std::string dir = dir_of(from_rel);
  for (int i = 1; i < level; ++i) {
    if (dir.empty()) return std::nullopt;  // climbs above the segment
    dir = dir_of(dir);
  }
  std::string base = dir;
  if (!dotted.empty()) {
    std::string sub = dotted;
    std::replace(sub.begin(), sub.end(), '.', '/');
    base = dir.empty() ? sub : dir + "/" + sub;
  }
  // `from . import x` names the package itself (its __init__.py); `from .m import x` is m.py or
  // m/__init__.py (files_for gives just the __init__.py for the empty base of the root package).
  for (auto& f : lang::python::files_for(base)) {
    if (dotted.empty() && !f.package) continue;
    if (source_.is_file(f.path)) return std::move(f.path);
  }
  return std::nullopt;
}

Outcome Navigator::module_target(const std::string& file) {
  Outcome o;
  o.rule = "import";
  o.decided = true;
  Hit h;
  h.target.kind = "module";
  // In a package-root segment, Python's name for the module (the package in front).
  h.target.qualname = lang::python::module_of(file, options_.source_roots, options_.package_prefix);
  const auto dot = h.target.qualname.rfind('.');
  h.target.name = dot == std::string::npos ? h.target.qualname : h.target.qualname.substr(dot + 1);
  h.target.location.path = file;
  if (auto sk = skeleton(file)) h.target.docstring = sk->docstring;
  h.val.kind = Val::kModule;
  h.val.module_file = file;
  o.hits.push_back(std::move(h));
  return o;
}

Outcome Navigator::lookup_in_module(const std::string& file, const std::string& name, int hops) {
  Outcome o;
  o.rule = "import";
  auto sk = skeleton(file);
  if (!sk) {
    o.reason = "cannot read " + file;
    return o;
  }
  for (const auto& d : sk->definitions)
    if (d.name == name) o.hits.push_back(def_hit(file, sk, d));
  if (!o.hits.empty()) {
    o.decided = true;
    return o;
  }
  for (const auto& c : sk->constants) {
    if (c.name == name) {
      o.hits.push_back(line_hit(file, c.line, name, "constant", name,
                                c.annotation.empty() ? (c.value.empty() ? "" : "= " + c.value) : ": " + c.annotation));
      o.decided = true;
      return o;
    }
  }
  // Re-exports: the module imports the name from elsewhere.
  for (const auto& imp : sk->imports) {
    if (imp.is_from) {
      for (const auto& n : imp.names) {
        const std::string& bound = n.alias.empty() ? n.name : n.alias;
        if (bound != name || n.name == "*") continue;
        if (hops >= kMaxImportHops) {
          o.reason = "re-export chain longer than " + std::to_string(kMaxImportHops) + " hops";
          return o;
        }
        Outcome r = import_from(imp.level, imp.module, n.name, file, hops + 1);
        if (!r.hits.empty() || r.decided) return r;
      }
    } else if (!imp.alias.empty() && imp.alias == name) {
      if (auto mf = module_file(0, imp.module, file)) return module_target(*mf);
    } else if (imp.alias.empty() && split(imp.module, '.').front() == name) {
      if (auto mf = module_file(0, name, file)) return module_target(*mf);
    }
  }
  // Lower-case module variables are not in the skeleton: `name = ...` / `name: T` at column 0.
  {
    const std::string_view text = content(file);
    int line = 1;
    for (std::size_t b = 0; b < text.size(); ++line) {
      auto e = text.find('\n', b);
      if (e == std::string_view::npos) e = text.size();
      const std::string_view l = text.substr(b, e - b);
      if (l.size() > name.size() && l.compare(0, name.size(), name) == 0) {
        std::size_t k = name.size();
        while (k < l.size() && (l[k] == ' ' || l[k] == '\t')) ++k;
        if (k < l.size() && ((l[k] == '=' && (k + 1 >= l.size() || l[k + 1] != '=')) || l[k] == ':' ||
                             (l[k] == ',' && k == name.size()))) {
          o.hits.push_back(line_hit(file, line, name, is_constant_name(name) ? "constant" : "variable", name, ""));
          o.decided = true;
          return o;
        }
      }
      b = e + 1;
    }
  }
  // A submodule of a package.
  if (lang::python::is_package_init(file)) {
    const std::string dir = dir_of(file);
    for (const auto& f : lang::python::files_for(dir.empty() ? name : dir + "/" + name)) {
      if (source_.is_file(f.path)) return module_target(f.path);
    }
  }
  // One hop of star imports.
  if (hops < kMaxImportHops) {
    for (const auto& imp : sk->imports) {
      if (!imp.is_from || imp.names.size() != 1 || imp.names.front().name != "*") continue;
      auto mf = module_file(imp.level, imp.module, file);
      if (!mf || *mf == file) continue;
      Outcome r = lookup_in_module(*mf, name, kMaxImportHops);  // no further hops behind a star
      if (!r.hits.empty()) return r;
    }
  }
  o.reason = "'" + name + "' not found in " + file;
  return o;
}

Outcome Navigator::import_from(int level, const std::string& module, const std::string& name,
                               const std::string& from_rel, int hops) {
  auto mf = module_file(level, module, from_rel);
  if (!mf) {
    Outcome o;
    o.rule = "import";
    o.decided = true;
    o.reason = "module '" + std::string(static_cast<std::size_t>(level), '.') + module + "' is not in the segment";
    return o;
  }
  return lookup_in_module(*mf, name, hops);
}

// The cursor is inside an import statement.
Outcome Navigator::in_import_statement(TSNode id, TSNode stmt) {
  auto dotted_prefix = [&](TSNode dotted) {
    std::vector<std::string> parts;
    each_named_child(dotted, [&](TSNode c) {
      if (ts_node_start_byte(c) <= ts_node_start_byte(id)) parts.emplace_back(file_.node_text(c));
    });
    return join(parts, parts.size(), '.');
  };
  auto full = [&](TSNode dotted) { return strip_spaces(file_.node_text(dotted)); };
  Outcome none;
  none.rule = "import";
  none.decided = true;
  if (ts_node_is_null(stmt)) return none;
  if (is(stmt, "import_statement")) {
    const uint32_t count = ts_node_named_child_count(stmt);
    for (uint32_t i = 0; i < count; ++i) {
      TSNode c = ts_node_named_child(stmt, i);
      if (!contains(c, id)) continue;
      TSNode dotted = is(c, "aliased_import") ? field(c, "name") : c;
      const std::string mod = contains(dotted, id) ? dotted_prefix(dotted) : full(dotted);
      if (auto mf = module_file(0, mod, rel_)) return module_target(*mf);
      none.reason = "module '" + mod + "' is not in the segment";
      return none;
    }
    return none;
  }
  // from ... import ...
  TSNode mod_node = field(stmt, "module_name");
  int level = 0;
  std::string module;
  TSNode dotted = mod_node;
  if (is(mod_node, "relative_import")) {
    dotted = TSNode{};
    each_named_child(mod_node, [&](TSNode c) {
      if (is(c, "import_prefix")) level = static_cast<int>(file_.node_text(c).size());
      else if (is(c, "dotted_name")) dotted = c;
    });
  }
  if (!ts_node_is_null(dotted)) module = full(dotted);
  if (contains(mod_node, id)) {
    const std::string prefix = !ts_node_is_null(dotted) && contains(dotted, id) ? dotted_prefix(dotted) : module;
    if (auto mf = module_file(level, prefix, rel_)) return module_target(*mf);
    none.reason = "module '" + std::string(static_cast<std::size_t>(level), '.') + prefix + "' is not in the segment";
    return none;
  }
  const uint32_t count = ts_node_named_child_count(stmt);
  for (uint32_t i = 0; i < count; ++i) {
    TSNode c = ts_node_named_child(stmt, i);
    if (!contains(c, id) || same_node(c, mod_node)) continue;
    TSNode name_node = is(c, "aliased_import") ? field(c, "name") : c;
    return import_from(level, module, full(name_node), rel_, 0);
  }
  return none;
}

// ---- scopes ----------------------------------------------------------------------------------

void Navigator::collect_targets(TSNode pattern, const std::string& name, BKind kind, TSNode decl, TSNode value,
                                std::vector<Binding>& out) {
  if (ts_node_is_null(pattern)) return;
  const std::string_view t = type_of(pattern);
  if (t == "identifier") {
    if (file_.node_text(pattern) == name) out.push_back({kind, pattern, decl, value});
    return;
  }
  if (t == "pattern_list" || t == "tuple_pattern" || t == "list_pattern" || t == "list_splat_pattern" ||
      t == "parenthesized_expression" || t == "expression_list" || t == "tuple" || t == "list" ||
      t == "as_pattern_target" || t == "list_splat")
    each_named_child(pattern, [&](TSNode c) { collect_targets(c, name, kind, decl, TSNode{}, out); });
}

void Navigator::collect_params(TSNode params, const std::string& name, TSNode decl, std::vector<Binding>& out) {
  if (ts_node_is_null(params)) return;
  each_named_child(params, [&](TSNode p) {
    const std::string_view t = type_of(p);
    TSNode id{};
    TSNode annotation{};
    if (t == "identifier") id = p;
    else if (t == "default_parameter" || t == "typed_default_parameter") {
      id = field(p, "name");
      annotation = field(p, "type");
    } else if (t == "typed_parameter") {
      annotation = field(p, "type");
      each_named_child(p, [&](TSNode c) {
        if (is(c, "identifier")) id = c;
        else if (is(c, "list_splat_pattern") || is(c, "dictionary_splat_pattern")) id = first_named_child(c);
      });
    } else if (t == "list_splat_pattern" || t == "dictionary_splat_pattern") {
      id = first_named_child(p);
    }
    if (is(id, "identifier") && file_.node_text(id) == name) out.push_back({BKind::kParam, id, decl, annotation});
  });
}

// Depth-first in source order with an explicit stack: the depth is the input's (12,000 chained
// calls are 12,000 levels), so no recursion.
void Navigator::collect_in(TSNode start, const std::string& name, std::vector<Binding>& out) {
  std::vector<TSNode> stack{start};
  std::vector<TSNode> kids;
  while (!stack.empty()) {
    TSNode n = stack.back();
    stack.pop_back();
    if (ts_node_is_null(n)) continue;
    const std::string_view t = type_of(n);
    if (t == "function_definition" || t == "class_definition") {
      TSNode nm = field(n, "name");
      if (file_.node_text(nm) == name)
        out.push_back({t == "class_definition" ? BKind::kClass : BKind::kFunction, nm, n, TSNode{}});
      continue;  // its body is another scope
    }
    if (t == "lambda" || t == "list_comprehension" || t == "set_comprehension" || t == "dictionary_comprehension" ||
        t == "generator_expression" || t == "string" || t == "comment")
      continue;
    if (t == "assignment" || t == "augmented_assignment") {
      TSNode right = field(n, "right");
      collect_targets(field(n, "left"), name, BKind::kAssign, n, ts_node_is_null(right) ? field(n, "type") : right, out);
      if (!ts_node_is_null(right)) stack.push_back(right);
      continue;
    }
    if (t == "for_statement") {
      collect_targets(field(n, "left"), name, BKind::kOther, n, TSNode{}, out);
    } else if (t == "with_item") {
      TSNode v = field(n, "value");
      if (is(v, "as_pattern")) collect_targets(field(v, "alias"), name, BKind::kOther, n, TSNode{}, out);
    } else if (t == "except_clause") {
      // `except E as e` carries an alias field; `except (A, B) as e` parses as an as_pattern.
      collect_targets(field(n, "alias"), name, BKind::kOther, n, TSNode{}, out);
      each_named_child(n, [&](TSNode c) {
        if (is(c, "as_pattern")) collect_targets(field(c, "alias"), name, BKind::kOther, n, TSNode{}, out);
      });
    } else if (t == "named_expression") {
      collect_targets(field(n, "name"), name, BKind::kOther, n, TSNode{}, out);
    } else if (t == "import_statement") {
      each_named_child(n, [&](TSNode c) {
        if (is(c, "aliased_import")) {
          if (file_.node_text(field(c, "alias")) == name) out.push_back({BKind::kImport, field(c, "alias"), c, n});
        } else if (is(c, "dotted_name")) {
          TSNode first = first_named_child(c);
          if (file_.node_text(first) == name) out.push_back({BKind::kImport, first, c, n});
        }
      });
      continue;
    } else if (t == "import_from_statement") {
      TSNode mod = field(n, "module_name");
      each_named_child(n, [&](TSNode c) {
        if (same_node(c, mod)) return;
        if (is(c, "aliased_import")) {
          if (file_.node_text(field(c, "alias")) == name) out.push_back({BKind::kImportFrom, field(c, "alias"), n, c});
        } else if (is(c, "dotted_name")) {
          if (file_.node_text(c) == name) out.push_back({BKind::kImportFrom, first_named_child(c), n, c});
        }
      });
      continue;
    } else if (t == "global_statement" || t == "nonlocal_statement") {
      each_named_child(n, [&](TSNode c) {
        if (is(c, "identifier") && file_.node_text(c) == name)
          out.push_back({t == "global_statement" ? BKind::kGlobal : BKind::kNonlocal, c, n, TSNode{}});
      });
      continue;
    }
    kids.clear();
    each_named_child(n, [&](TSNode c) { kids.push_back(c); });
    stack.insert(stack.end(), kids.rbegin(), kids.rend());
  }
}

void Navigator::collect(TSNode scope, const std::string& name, std::vector<Binding>& out) {
  const std::string_view t = type_of(scope);
  if (t == "function_definition") {
    collect_params(field(scope, "parameters"), name, scope, out);
    collect_in(field(scope, "body"), name, out);
  } else if (t == "lambda") {
    collect_params(field(scope, "parameters"), name, scope, out);
  } else if (t == "class_definition") {
    collect_in(field(scope, "body"), name, out);
  } else if (t == "module") {
    collect_in(scope, name, out);
  } else {  // comprehensions: their for-targets
    each_named_child(scope, [&](TSNode c) {
      if (is(c, "for_in_clause")) collect_targets(field(c, "left"), name, BKind::kOther, c, TSNode{}, out);
    });
  }
}

std::optional<Binding> Navigator::pick(const std::vector<Binding>& bs, TSNode usage) {
  // Python decides scope membership statically; within the scope the reader's answer is the
  // closest binding before the use (or the use itself), else the first one (a use before any
  // binding, e.g. a function calling one defined below it).
  const Binding* best = nullptr;
  for (const auto& b : bs) {
    if (b.kind == BKind::kGlobal || b.kind == BKind::kNonlocal) continue;
    const bool inside_own_statement = !same_node(b.name, usage) && contains(b.decl, usage) &&
                                      b.kind != BKind::kFunction && b.kind != BKind::kClass;
    if (ts_node_start_byte(b.name) <= ts_node_start_byte(usage) && !inside_own_statement) best = &b;
  }
  if (!best)
    for (const auto& b : bs)
      if (b.kind != BKind::kGlobal && b.kind != BKind::kNonlocal) return b;
  if (best) return *best;
  return std::nullopt;
}

std::optional<ClassRef> Navigator::class_in_current(TSNode class_node) {
  auto sk = skeleton(rel_);
  if (!sk) return std::nullopt;
  const int line = static_cast<int>(ts_node_start_point(class_node).row) + 1;
  const std::string name(file_.node_text(field(class_node, "name")));
  std::optional<ClassRef> found;
  ast::for_each_definition(*sk, [&](const ast::Definition& d) {
    if (!found && d.kind == ast::DefKind::kClass && d.name == name && d.line == line) found = ClassRef{rel_, sk, &d};
  });
  return found;
}

// The class whose body directly holds the function containing `n`.
std::optional<ClassRef> Navigator::enclosing_class(TSNode n) {
  for (TSNode p = parent_of(n); !ts_node_is_null(p); p = parent_of(p)) {
    if (is(p, "function_definition")) {
      TSNode up = parent_of(p);
      if (is(up, "decorated_definition")) up = parent_of(up);
      if (is(up, "block")) up = parent_of(up);
      if (is(up, "class_definition")) return class_in_current(up);
    }
  }
  return std::nullopt;
}

Outcome Navigator::from_binding(const Binding& b, TSNode scope_node, bool class_scope, bool want_val) {
  Outcome o;
  o.decided = true;
  switch (b.kind) {
    case BKind::kFunction:
    case BKind::kClass: {
      Hit h = node_hit(b.name, b.kind == BKind::kClass ? "class" : (class_scope ? "method" : "function"));
      // Signature, docstring and (for classes) the member table come from the skeleton.
      if (auto sk = skeleton(rel_)) {
        const int line = static_cast<int>(ts_node_start_point(b.decl).row) + 1;
        ast::for_each_definition(*sk, [&](const ast::Definition& d) {
          if (d.line == line && d.name == h.target.name && h.target.qualname.empty()) {
            h.target.qualname = d.qualname;
            h.target.signature = d.signature;
            h.target.docstring = d.docstring;
            if (d.kind == ast::DefKind::kClass) {
              h.val.kind = Val::kClass;
              h.val.cls = ClassRef{rel_, sk, &d};
            }
          }
        });
      }
      o.hits.push_back(std::move(h));
      return o;
    }
    case BKind::kParam: {
      Hit h = node_hit(b.name, "parameter");
      if (!ts_node_is_null(b.value)) h.target.signature = ": " + std::string(file_.node_text(b.value));
      // `self` / `cls`: the first parameter of a function directly in a class body.
      TSNode fn = b.decl;
      TSNode params = field(fn, "parameters");
      TSNode first = first_named_child(params);
      const bool is_first = contains(first, b.name);
      if (is_first && is(fn, "function_definition")) {
        TSNode up = parent_of(fn);
        bool classmethod = false, staticmethod = false;
        if (is(up, "decorated_definition")) {
          each_named_child(up, [&](TSNode d) {
            if (!is(d, "decorator")) return;
            const std::string txt = strip_spaces(file_.node_text(d));
            classmethod |= txt == "@classmethod";
            staticmethod |= txt == "@staticmethod";
          });
          up = parent_of(up);
        }
        if (is(up, "block") && is(parent_of(up), "class_definition") && !staticmethod) {
          if (auto c = class_in_current(parent_of(up))) {
            h.val.kind = classmethod ? Val::kClass : Val::kInstance;
            h.val.cls = *c;
          }
        }
      } else if (want_val && !ts_node_is_null(b.value)) {
        Val v = eval(first_named_child(b.value), 1);
        if (v.kind == Val::kClass) {
          h.val.kind = Val::kInstance;
          h.val.cls = v.cls;
        }
      }
      o.rule = "local";
      o.hits.push_back(std::move(h));
      return o;
    }
    case BKind::kAssign:
    case BKind::kOther: {
      const std::string nm(file_.node_text(b.name));
      Hit h = node_hit(b.name, class_scope ? "attribute" : (is_constant_name(nm) && is(scope_node, "module") ? "constant" : "variable"));
      if (b.kind == BKind::kAssign && !ts_node_is_null(b.value)) {
        TSNode v = b.value;
        if (!want_val && !is(v, "type")) v = TSNode{};
        if (ts_node_is_null(v)) {
        } else if (is(v, "type")) {
          h.target.signature = ": " + std::string(file_.node_text(v));
        } else {
          Val val = eval(v, 1);
          if (val.kind == Val::kModule || val.kind == Val::kClass) h.val = val;  // aliases
          else if (is(v, "call")) {
            Val callee = eval(field(v, "function"), 1);
            if (callee.kind == Val::kClass) {
              h.val.kind = Val::kInstance;
              h.val.cls = callee.cls;
            }
          }
        }
      }
      o.hits.push_back(std::move(h));
      return o;
    }
    case BKind::kImport: {
      // `import a.b.c` binds `a` (module a); `import a.b as c` binds c (module a.b).
      TSNode dotted = is(b.decl, "aliased_import") ? field(b.decl, "name") : b.decl;
      const std::string mod = is(b.decl, "aliased_import") ? strip_spaces(file_.node_text(dotted))
                                                           : std::string(file_.node_text(b.name));
      o.rule = "import";
      if (auto mf = module_file(0, mod, rel_)) return module_target(*mf);
      o.reason = "module '" + mod + "' is not in the segment";
      return o;
    }
    case BKind::kImportFrom: {
      TSNode stmt = b.decl;
      TSNode mod_node = field(stmt, "module_name");
      int level = 0;
      std::string module;
      if (is(mod_node, "relative_import")) {
        each_named_child(mod_node, [&](TSNode c) {
          if (is(c, "import_prefix")) level = static_cast<int>(file_.node_text(c).size());
          else if (is(c, "dotted_name")) module = strip_spaces(file_.node_text(c));
        });
      } else {
        module = strip_spaces(file_.node_text(mod_node));
      }
      TSNode name_node = is(b.value, "aliased_import") ? field(b.value, "name") : b.value;
      Outcome r = import_from(level, module, strip_spaces(file_.node_text(name_node)), rel_, 0);
      r.rule = "import";
      r.decided = true;
      return r;
    }
    case BKind::kGlobal:
    case BKind::kNonlocal:
      break;
  }
  o.decided = false;
  return o;
}

Outcome Navigator::resolve_name(TSNode usage, const std::string& name, bool want_val) {
  bool crossed_function = false;
  bool to_module = false;
  TSNode prev = usage;
  for (TSNode n = parent_of(usage); !ts_node_is_null(n); prev = n, n = parent_of(n)) {
    const std::string_view t = type_of(n);
    const bool module = t == "module";
    bool scope = false;
    bool class_scope = false;
    if (module) {
      scope = true;
    } else if (to_module) {
      continue;
    } else if (t == "function_definition") {
      // Defaults, annotations and decorators are evaluated in the enclosing scope.
      scope = same_node(prev, field(n, "body"));
    } else if (t == "lambda") {
      scope = same_node(prev, field(n, "body"));
    } else if (t == "class_definition") {
      scope = !crossed_function && same_node(prev, field(n, "body"));
      class_scope = true;
    } else if (t == "list_comprehension" || t == "set_comprehension" || t == "dictionary_comprehension" ||
               t == "generator_expression") {
      scope = true;
    }
    if (!scope) continue;
    std::vector<Binding> bs;
    collect(n, name, bs);
    const bool global = std::any_of(bs.begin(), bs.end(), [](const Binding& b) { return b.kind == BKind::kGlobal; });
    if (t == "function_definition" || t == "lambda") crossed_function = true;
    if (global && !module) {
      to_module = true;
      continue;
    }
    if (auto b = pick(bs, usage)) {
      Outcome o = from_binding(*b, n, class_scope, want_val);
      if (o.rule.empty()) o.rule = module ? "module" : "local";
      if (o.decided) return o;
    }
    if (module) break;
  }
  // Star imports of this file (one hop), then builtins.
  if (auto sk = skeleton(rel_)) {
    for (const auto& imp : sk->imports) {
      if (!imp.is_from || imp.names.size() != 1 || imp.names.front().name != "*") continue;
      auto mf = module_file(imp.level, imp.module, rel_);
      if (!mf) continue;
      Outcome r = lookup_in_module(*mf, name, kMaxImportHops);
      if (!r.hits.empty()) {
        r.rule = "import";
        return r;
      }
    }
  }
  Outcome o;
  if (name == "__name__" || name == "__file__" || name == "__doc__" || name == "__spec__" || name == "__loader__" ||
      name == "__package__" || name == "__path__" || name == "__dict__") {
    // Module attributes: Pyright answers with the module itself.
    o = module_target(rel_);
    o.rule = "module";
    o.hits.front().target.kind = "variable";
    o.hits.front().target.name = name;
    o.hits.front().val = Val{};
    return o;
  }
  if (kBuiltins.count(name)) {
    o.rule = "builtin";
    o.decided = true;
    o.reason = "'" + name + "' is a Python builtin (defined outside the segment)";
  }
  return o;
}

// ---- classes and attributes --------------------------------------------------------------------

Val Navigator::eval_dotted_in_module(const std::string& file, const std::string& dotted) {
  const auto parts = split(dotted, '.');
  Outcome o = lookup_in_module(file, parts.front(), 0);
  Val v = val_of(o);
  for (std::size_t i = 1; i < parts.size() && v.kind != Val::kNone; ++i) {
    if (v.kind == Val::kModule) v = val_of(lookup_in_module(v.module_file, parts[i], 0));
    else if (v.kind == Val::kClass) {
      std::set<std::string> seen;
      v = val_of(class_member(v.cls, parts[i], 0, seen));
    } else v = Val{};
  }
  return v;
}

Outcome Navigator::class_member(const ClassRef& c, const std::string& name, int depth, std::set<std::string>& seen) {
  Outcome o;
  o.rule = "attribute";
  if (!c.def || depth > kMaxClassDepth || member_depth_ > 4 * kMaxClassDepth ||
      !seen.insert(c.file + ":" + c.def->qualname).second)
    return o;
  struct Guard {
    int& d;
    explicit Guard(int& x) : d(x) { ++d; }
    ~Guard() { --d; }
  } guard(member_depth_);
  for (const auto& d : c.def->children)
    if (d.name == name) o.hits.push_back(def_hit(c.file, c.skeleton, d));
  if (!o.hits.empty()) return o;
  for (const auto& a : c.def->attributes) {
    if (a.name != name) continue;
    o.hits.push_back(line_hit(c.file, a.line, name, "attribute", c.def->qualname + "." + name,
                              a.annotation.empty() ? (a.value.empty() ? "" : "= " + a.value) : ": " + a.annotation));
    return o;
  }
  // Instance attributes: the first `self.name = ...` / `self.name: T` in the class body.
  for (const auto& a : syntax::instance_attributes(content(c.file), c.def->line, c.def->end_line)) {
    if (a.name != name) continue;
    const std::string_view l = syntax::nth_line(content(c.file), a.line);
    Hit h;
    h.target.kind = "attribute";
    h.target.name = name;
    h.target.qualname = c.def->qualname + "." + name;
    h.target.location.path = c.file;
    h.target.location.line = h.target.location.end_line = a.line;
    h.target.location.column = syntax::column_from_byte(l, a.byte);
    h.target.location.end_column = syntax::column_from_byte(l, a.byte + name.size());
    o.hits.push_back(std::move(h));
    return o;
  }
  for (const auto& base : c.def->bases) {
    if (base.find('=') != std::string::npos) continue;  // metaclass=..., keyword arguments
    std::string dotted = strip_spaces(base);
    if (auto br = dotted.find('['); br != std::string::npos) dotted.resize(br);  // Generic[T]
    if (dotted.empty() || dotted == "object") continue;
    Val bv = eval_dotted_in_module(c.file, dotted);
    if (bv.kind != Val::kClass) continue;
    Outcome r = class_member(bv.cls, name, depth + 1, seen);
    if (!r.hits.empty()) return r;
  }
  return o;
}

Val Navigator::eval(TSNode e, int depth) {
  // `depth` bounds one expression; `eval_depth_` bounds the whole chain through bindings
  // (x = y.f(); y = x.g() ...), which restarts `depth` at each binding.
  if (ts_node_is_null(e) || depth > kMaxEvalDepth || eval_depth_ > kMaxEvalDepth) return {};
  struct Guard {
    int& d;
    explicit Guard(int& x) : d(x) { ++d; }
    ~Guard() { --d; }
  } guard(eval_depth_);
  const std::string_view t = type_of(e);
  if (t == "identifier") {
    Outcome o = resolve_name(e, std::string(file_.node_text(e)), true);
    return val_of(o);
  }
  if (t == "parenthesized_expression") return eval(first_named_child(e), depth + 1);
  if (t == "attribute") {
    Val obj = eval(field(e, "object"), depth + 1);
    const std::string attr(file_.node_text(field(e, "attribute")));
    if (obj.kind == Val::kModule) return val_of(lookup_in_module(obj.module_file, attr, 0));
    if (obj.kind == Val::kClass || obj.kind == Val::kInstance) {
      std::set<std::string> seen;
      return val_of(class_member(obj.cls, attr, 0, seen));
    }
    return {};
  }
  if (t == "call") {
    TSNode fn = field(e, "function");
    if (is(fn, "identifier") && file_.node_text(fn) == "super") {
      if (auto c = enclosing_class(e)) {
        Val v;
        v.kind = Val::kSuper;
        v.cls = *c;
        return v;
      }
      return {};
    }
    Val callee = eval(fn, depth + 1);
    if (callee.kind == Val::kClass) {
      callee.kind = Val::kInstance;
      return callee;
    }
    return {};
  }
  return {};
}

// ---- index fallback ----------------------------------------------------------------------------

Outcome Navigator::index_fallback(const std::string& name, bool after_dot) {
  Outcome o;
  o.rule = "index";
  auto cands = index_.definitions_named(name);
  if (cands.empty()) {
    o.rule = "none";
    o.reason = "'" + name + "' is not defined in the segment";
    return o;
  }
  std::set<std::string> imported;
  bool imported_ready = false;
  const std::string dir = dir_of(rel_);
  auto rank = [&](const IndexedDefinition& d) {
    if (d.file == rel_) return 0;
    if (!imported_ready) {
      imported_ready = true;
      if (auto sk = skeleton(rel_)) {
        for (const auto& imp : sk->imports) {
          if (auto mf = module_file(imp.level, imp.module, rel_)) imported.insert(*mf);
          if (imp.is_from)
            for (const auto& n : imp.names)
              if (auto sub = module_file(imp.level, imp.module.empty() ? n.name : imp.module + "." + n.name, rel_))
                imported.insert(*sub);
        }
      }
    }
    if (imported.count(d.file)) return 1;
    if (dir_of(d.file) == dir) return 2;
    return 3;
  };
  auto kind_rank = [&](const IndexedDefinition& d) {
    const bool member = d.kind == "method" || d.kind == "attribute";
    return after_dot ? (member ? 0 : 1) : (member ? 1 : 0);
  };
  struct Ranked {
    int r, k;
    const IndexedDefinition* d;
  };
  std::vector<Ranked> ranked;
  for (const auto& d : cands) ranked.push_back({rank(d), kind_rank(d), &d});
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    if (a.r != b.r) return a.r < b.r;
    if (a.k != b.k) return a.k < b.k;
    if (a.d->file != b.d->file) return a.d->file < b.d->file;
    return a.d->line < b.d->line;
  });
  for (const auto& r : ranked) {
    if (o.hits.size() >= options_.max_index_results) break;
    const auto& d = *r.d;
    Hit h;
    if (d.name_column > 0) {  // precomputed by the index: no file read per candidate
      Target& t = h.target;
      t.kind = d.kind;
      t.name = d.name;
      t.qualname = d.qualname;
      t.signature = d.signature;
      t.location.path = d.file;
      t.location.line = t.location.end_line = d.line;
      t.location.column = d.name_column;
      t.location.end_column = d.name_end_column;
    } else {
      h = line_hit(d.file, d.line, d.name, d.kind, d.qualname, d.signature);
    }
    h.target.docstring = d.docstring;
    o.hits.push_back(std::move(h));
  }
  if (cands.size() > o.hits.size())
    o.reason = std::to_string(cands.size()) + " definitions named '" + name + "'; showing " +
               std::to_string(o.hits.size());
  else
    o.reason = "by name: the fallback could not follow the scope or type";
  return o;
}

Outcome Navigator::member_of(const Val& obj, const std::string& name) {
  Outcome o;
  if (obj.kind == Val::kModule) {
    o = lookup_in_module(obj.module_file, name, 0);
    o.rule = "import";
  } else if (obj.kind == Val::kClass || obj.kind == Val::kInstance || obj.kind == Val::kSuper) {
    std::set<std::string> seen;
    if (obj.kind == Val::kSuper) {
      seen.insert(obj.cls.file + ":" + (obj.cls.def ? obj.cls.def->qualname : ""));
      for (const auto& base : obj.cls.def ? obj.cls.def->bases : std::vector<std::string>{}) {
        if (base.find('=') != std::string::npos) continue;
        Val bv = eval_dotted_in_module(obj.cls.file, strip_spaces(base));
        if (bv.kind != Val::kClass) continue;
        o = class_member(bv.cls, name, 1, seen);
        if (!o.hits.empty()) break;
      }
    } else {
      o = class_member(obj.cls, name, 0, seen);
    }
    o.rule = "attribute";
  }
  return o;
}

Outcome Navigator::keyword_parameter(TSNode call, const std::string& name) {
  Outcome o;
  o.rule = "keyword";
  if (!is(call, "call")) return o;
  TSNode fn = field(call, "function");
  Outcome callee;
  if (is(fn, "identifier")) {
    callee = resolve_name(fn, std::string(file_.node_text(fn)), true);
  } else if (is(fn, "attribute")) {
    callee = member_of(eval(field(fn, "object"), 0), std::string(file_.node_text(field(fn, "attribute"))));
  }
  if (callee.hits.empty()) return o;
  Hit target = callee.hits.front();
  if (target.val.kind == Val::kClass) {  // Cls(x=...): the parameter of Cls.__init__
    std::set<std::string> seen;
    Outcome init = class_member(target.val.cls, "__init__", 0, seen);
    if (init.hits.empty()) return o;
    target = init.hits.front();
  }
  if (target.target.kind != "function" && target.target.kind != "method") return o;
  // The parameter list starts on the def line; look for `name` followed by = : , ) on the
  // following lines (bounded: a signature longer than that is not worth the scan).
  const std::string& file = target.target.location.path;
  const std::string_view text = content(file);
  for (int line = target.target.location.line; line < target.target.location.line + 40; ++line) {
    const std::string_view l = syntax::nth_line(text, line);
    std::size_t from = line == target.target.location.line ? l.find('(') : 0;
    if (from == std::string_view::npos) from = 0;
    for (auto p = find_word(l, name, from); p != std::string_view::npos; p = find_word(l, name, p + 1)) {
      std::size_t k = p + name.size();
      while (k < l.size() && l[k] == ' ') ++k;
      if (k < l.size() && std::string_view("=:,)").find(l[k]) == std::string_view::npos) continue;
      Hit h = line_hit(file, line, name, "parameter", "", "");
      h.target.location.column = syntax::column_from_byte(l, p);
      h.target.location.end_column = syntax::column_from_byte(l, p + name.size());
      o.hits.push_back(std::move(h));
      o.decided = true;
      return o;
    }
    if (l.find("):") != std::string_view::npos || l.find(") ->") != std::string_view::npos) break;
  }
  o.decided = true;  // e.g. a **kwargs callee: Pyright has no target either
  o.reason = "'" + name + "' is not a named parameter of " + target.target.qualname;
  return o;
}

// ---- entry -------------------------------------------------------------------------------------

Outcome Navigator::at(TSNode id) {
  const std::string name(file_.node_text(id));
  TSNode parent = parent_of(id);
  const std::string_view pt = type_of(parent);

  // On a declaration: the name itself.
  if ((pt == "function_definition" || pt == "class_definition") && same_node(field(parent, "name"), id)) {
    TSNode up = parent_of(parent);
    if (is(up, "decorated_definition")) up = parent_of(up);
    const bool in_class = is(up, "block") && is(parent_of(up), "class_definition");
    Binding b{pt == "class_definition" ? BKind::kClass : BKind::kFunction, id, parent, TSNode{}};
    Outcome r = from_binding(b, TSNode{}, in_class, false);
    r.rule = "declaration";
    return r;
  }
  for (TSNode p = parent; !ts_node_is_null(p); p = parent_of(p)) {
    const std::string_view t = type_of(p);
    if (t == "parameters" || t == "lambda_parameters") {
      // A parameter's own name (not an identifier inside its default value or annotation).
      TSNode fn = parent_of(p);
      std::vector<Binding> bs;
      collect_params(p, name, fn, bs);
      for (const auto& b : bs)
        if (same_node(b.name, id)) {
          Outcome r = from_binding(b, fn, false, false);
          r.rule = "declaration";
          return r;
        }
      break;
    }
    if (t == "import_statement" || t == "import_from_statement") return in_import_statement(id, p);
    if (t == "block" || t == "module" || t == "expression_statement") break;
  }

  // `obj.name` with the cursor on `name`.
  if (pt == "attribute" && same_node(field(parent, "attribute"), id)) {
    Val obj = eval(field(parent, "object"), 0);
    Outcome o = member_of(obj, name);
    if (!o.hits.empty()) return o;
    Outcome f = index_fallback(name, true);
    if (!o.reason.empty() && f.hits.empty()) f.reason = o.reason;
    return f;
  }
  // `f(name=...)`: the callee's parameter.
  if (pt == "keyword_argument" && same_node(field(parent, "name"), id) && is(parent_of(parent), "argument_list")) {
    Outcome o = keyword_parameter(parent_of(parent_of(parent)), name);
    if (!o.hits.empty() || o.decided) return o;
    return index_fallback(name, false);
  }
  Outcome o = resolve_name(id, name, false);
  if (!o.hits.empty() || o.decided) return o;
  return index_fallback(name, false);
}

Result<std::shared_ptr<const ParsedFile>> parse_checked(std::string_view text, text::Position pos) {
  auto parsed = syntax::parse_python_cached(text);
  if (!parsed) return parsed;
  if (pos.line < 1 || pos.line > (*parsed)->line_count())
    return make_error(Errc::kInvalidArgument, "line " + std::to_string(pos.line) + " is outside the file (" +
                                                  std::to_string((*parsed)->line_count()) + " lines)");
  return parsed;
}

// The identifier under the cursor (or just before it: an editor's caret after the last letter).
TSNode identifier_at(const ParsedFile& f, text::Position pos) {
  const std::uint32_t off = f.offset_of(pos);
  TSNode root = f.root();
  for (std::uint32_t o : {off, off > 0 ? off - 1 : off}) {
    TSNode n = ts_node_named_descendant_for_byte_range(root, o, o + 1);
    if (is(n, "identifier") && ts_node_start_byte(n) <= o && o < ts_node_end_byte(n)) return n;
  }
  return TSNode{};
}

}  // namespace

std::vector<text::Location> DefinitionResult::locations() const {
  std::vector<text::Location> out;
  out.reserve(targets.size());
  for (const auto& t : targets) out.push_back(t.location);
  return out;
}

Result<DefinitionResult> definition(selector::SegmentSource& source, const SymbolIndex& index, std::string_view rel,
                                    std::string_view text, text::Position pos, const NavOptions& options) {
  auto parsed = parse_checked(text, pos);
  if (!parsed) return parsed.error();
  const ParsedFile& f = **parsed;
  DefinitionResult out;
  TSNode id = identifier_at(f, pos);
  if (ts_node_is_null(id)) {
    out.rule = "none";
    out.reason = "no identifier at " + std::to_string(pos.line) + ":" + std::to_string(pos.column);
    return out;
  }
  out.name = std::string(f.node_text(id));
  Navigator nav(source, index, rel, f, options);
  Outcome o = nav.at(id);
  out.rule = o.rule.empty() ? "none" : o.rule;
  out.reason = o.reason;
  for (auto& h : o.hits) out.targets.push_back(std::move(h.target));
  if (out.targets.empty() && out.reason.empty()) out.reason = "'" + out.name + "' could not be resolved";
  return out;
}

std::string hover_markdown(const Target& t) {
  std::string code = "(" + t.kind + ") ";
  if (t.kind == "function" || t.kind == "method") code += "def " + t.name + t.signature;
  else if (t.kind == "class") code += "class " + t.name + t.signature;
  else if (t.kind == "module") code += t.qualname.empty() ? t.name : t.qualname;
  else code += t.name + (t.signature.empty() ? "" : (t.signature[0] == '=' ? " " : "") + t.signature);
  std::string md = "```python\n" + code + "\n```";
  if (!t.docstring.empty()) md += "\n---\n" + t.docstring;
  return md;
}

Result<HoverResult> hover(selector::SegmentSource& source, const SymbolIndex& index, std::string_view rel,
                          std::string_view text, text::Position pos, const NavOptions& options) {
  auto d = definition(source, index, rel, text, pos, options);
  if (!d) return d.error();
  HoverResult out;
  out.rule = d->rule;
  out.reason = d->reason;
  if (d->targets.empty()) return out;
  text::HoverInfo h;
  h.kind = "markdown";
  h.contents = hover_markdown(d->targets.front());
  auto parsed = syntax::parse_python_cached(text);  // cached by definition() on this thread
  if (parsed) {
    TSNode id = identifier_at(**parsed, pos);
    if (!ts_node_is_null(id)) h.range = (*parsed)->location_of(id, std::string(rel));
  }
  out.hover = std::move(h);
  return out;
}

namespace {

void collect_identifiers(const ParsedFile& f, const std::string& name, const std::string& path,
                         std::vector<text::Location>& out, std::size_t limit, bool& truncated) {
  TSTreeCursor c = ts_tree_cursor_new(f.root());
  bool done = false;
  while (!done) {
    TSNode n = ts_tree_cursor_current_node(&c);
    const bool leaf_id = is(n, "identifier");
    if (leaf_id && f.node_text(n) == name) {
      if (out.size() >= limit) {
        truncated = true;
        break;
      }
      out.push_back(f.location_of(n, path));
    }
    // Skip subtrees that cannot hold the identifier: strings' text and comments are not
    // identifiers anyway; avoiding them saves the walk.
    const bool skip = leaf_id || is(n, "comment") || is(n, "string_content");
    if (!skip && ts_tree_cursor_goto_first_child(&c)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&c)) {
      if (!ts_tree_cursor_goto_parent(&c)) {
        done = true;
        break;
      }
    }
  }
  ts_tree_cursor_delete(&c);
}

}  // namespace

Result<ReferencesResult> references(selector::SegmentSource& source, const SymbolIndex& index, std::string_view rel,
                                    std::string_view text, text::Position pos, bool include_declaration,
                                    std::size_t limit, const NavOptions& options) {
  auto parsed = parse_checked(text, pos);
  if (!parsed) return parsed.error();
  auto keep = *parsed;  // the per-thread cache may evict it while other files are parsed
  ReferencesResult out;
  TSNode id = identifier_at(*keep, pos);
  if (ts_node_is_null(id)) return out;
  out.name = std::string(keep->node_text(id));
  std::vector<text::Location> declarations;
  if (!include_declaration) {
    auto d = definition(source, index, rel, text, pos, options);
    if (d) declarations = d->locations();
  }
  auto is_declaration = [&](const text::Location& l) {
    return std::any_of(declarations.begin(), declarations.end(), [&](const text::Location& d) {
      return d.path == l.path && d.line == l.line && d.column == l.column;
    });
  };
  std::vector<text::Location> found;
  const std::size_t cap = limit + declarations.size();  // declarations are removed afterwards
  const std::string self(rel);
  out.files_scanned = 1;
  ++out.candidate_files;
  collect_identifiers(*keep, out.name, self, found, cap, out.truncated);
  // Identifiers never span lines: the end column is the start plus the name's code points.
  const int name_columns = syntax::column_from_byte(out.name, out.name.size()) - 1;
  std::vector<std::string> files = index.files();
  if (options.candidate_files) {
    if (auto candidates = options.candidate_files(out.name)) {
      std::sort(candidates->begin(), candidates->end());
      // Keep index order (results are stable whichever way the files were found).
      files.erase(std::remove_if(files.begin(), files.end(),
                                 [&](const std::string& f) {
                                   return !std::binary_search(candidates->begin(), candidates->end(), f);
                                 }),
                  files.end());
      out.narrowed = true;
    }
  }
  for (const auto& file : files) {
    if (out.truncated) break;
    if (file == self) continue;
    ++out.files_scanned;
    if (options.occurrence_table) {
      if (auto table = index.identifier_table(file)) {
        const auto occurrences = table->find(out.name);
        if (occurrences.empty()) continue;
        ++out.candidate_files;
        ++out.from_table;
        for (const auto& o : occurrences) {
          if (found.size() >= cap) {
            out.truncated = true;
            break;
          }
          found.push_back(text::Location{file, false, o.line, o.column, o.line, o.column + name_columns});
        }
        continue;
      }
    }
    auto content = index.content(file);
    if (!content || find_word(*content, out.name) == std::string_view::npos) continue;
    ++out.candidate_files;
    auto other = syntax::parse_python(*content);
    if (!other) continue;
    collect_identifiers(**other, out.name, file, found, cap, out.truncated);
  }
  for (auto& l : found) {
    if (is_declaration(l)) continue;
    if (out.locations.size() >= limit) {
      out.truncated = true;
      break;
    }
    out.locations.push_back(std::move(l));
  }
  return out;
}

Result<std::vector<text::Diagnostic>> diagnostics(std::string_view text, std::size_t limit) {
  auto parsed = syntax::parse_python_cached(text);
  if (!parsed) return parsed.error();
  const ParsedFile& f = **parsed;
  std::vector<text::Diagnostic> out;
  if (!ts_node_has_error(f.root())) return out;
  // Depth-first in source order; an ERROR node is reported once, without what it contains.
  std::vector<TSNode> stack{f.root()};
  while (!stack.empty() && out.size() < limit) {
    TSNode n = stack.back();
    stack.pop_back();
    const bool missing = ts_node_is_missing(n);
    const bool error = !missing && type_of(n) == "ERROR";
    if (missing || error) {
      text::Diagnostic d;
      const text::Location l = f.location_of(n, "");
      d.line = l.line;
      d.column = l.column;
      d.end_line = l.end_line;
      d.end_column = l.end_column;
      if (missing && d.end_column == d.column && d.end_line == d.line) ++d.end_column;
      d.severity = "error";
      d.source = std::string(kDiagnosticSource);
      d.message = missing ? "Missing '" + std::string(type_of(n)) + "'" : "Syntax error";
      d.code = missing ? "missing" : "syntax-error";
      out.push_back(std::move(d));
      continue;
    }
    if (!ts_node_has_error(n)) continue;
    const uint32_t count = ts_node_child_count(n);
    for (uint32_t i = count; i-- > 0;) stack.push_back(ts_node_child(n, i));
  }
  return out;
}

}  // namespace trifecta::core::navigation
