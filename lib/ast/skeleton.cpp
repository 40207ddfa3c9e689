#include "ast/skeleton.hpp"

#include <algorithm>

#include <boost/json.hpp>

namespace trifecta::core::ast {

std::string_view def_kind_name(DefKind k) noexcept {
  switch (k) {
    case DefKind::kClass: return "class";
    case DefKind::kFunction: return "function";
    case DefKind::kMethod: return "method";
  }
  return "function";
}

std::string_view parse_status_name(ParseStatus s) noexcept {
  return s == ParseStatus::kOk ? "ok" : "partial";
}

namespace {

void visit(const Definition& d, const std::function<void(const Definition&)>& fn) {
  fn(d);
  for (const auto& c : d.children) visit(c, fn);
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::span<const Occurrence> IdentifierTable::find(std::string_view name) const {
  const auto it = std::lower_bound(names.begin(), names.end(), name,
                                   [](const std::string& a, std::string_view b) { return a < b; });
  if (it == names.end() || *it != name) return {};
  return group(static_cast<std::size_t>(it - names.begin()));
}

std::span<const Occurrence> IdentifierTable::group(std::size_t i) const {
  if (i + 1 >= starts.size() || starts[i + 1] > occurrences.size() || starts[i] > starts[i + 1]) return {};
  return std::span<const Occurrence>(occurrences).subspan(starts[i], starts[i + 1] - starts[i]);
}

std::size_t IdentifierTable::memory_bytes() const {
  std::size_t n = names.capacity() * sizeof(std::string) + starts.capacity() * sizeof(std::uint32_t) +
                  occurrences.capacity() * sizeof(Occurrence);
  for (const auto& s : names) n += s.capacity() > 15 ? s.capacity() : 0;
  return n;
}

void for_each_definition(const Skeleton& s, const std::function<void(const Definition&)>& fn) {
  for (const auto& d : s.definitions) visit(d, fn);
}

std::size_t count_definitions(const Skeleton& s, DefKind kind) {
  std::size_t n = 0;
  for_each_definition(s, [&](const Definition& d) {
    // "functions" counts methods too: both are callables the caller can address.
    if (d.kind == kind || (kind == DefKind::kFunction && d.kind == DefKind::kMethod)) ++n;
  });
  return n;
}

// ---- JSON out --------------------------------------------------------------------------------

void tag_invoke(json::value_from_tag, json::value& v, const ImportName& x) {
  json::object o;
  o["name"] = x.name;
  if (!x.alias.empty()) o["alias"] = x.alias;
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const Import& x) {
  json::object o;
  o["module"] = x.module;
  if (x.is_from) {
    json::array names;
    for (const auto& n : x.names) names.push_back(json::value_from(n));
    o["names"] = std::move(names);
  }
  if (!x.alias.empty()) o["alias"] = x.alias;
  o["level"] = x.level;
  o["from"] = x.is_from;
  if (x.conditional) o["conditional"] = true;
  o["line"] = x.line;
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const Variable& x) {
  json::object o;
  o["name"] = x.name;
  if (!x.annotation.empty()) o["annotation"] = x.annotation;
  if (!x.value.empty()) o["value"] = x.value;
  if (x.conditional) o["conditional"] = true;
  o["line"] = x.line;
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const Definition& x) {
  json::object o;
  o["kind"] = def_kind_name(x.kind);
  o["name"] = x.name;
  o["qualname"] = x.qualname;
  if (x.is_async) o["async"] = true;
  if (!x.decorators.empty()) o["decorators"] = strings(x.decorators);
  o["signature"] = x.signature;
  if (x.kind == DefKind::kClass) o["bases"] = strings(x.bases);
  if (!x.docstring.empty()) o["docstring"] = x.docstring;
  o["line"] = x.line;
  o["column"] = x.column;
  o["end_line"] = x.end_line;
  o["end_column"] = x.end_column;
  if (x.decorated_line != x.line) o["decorated_line"] = x.decorated_line;
  if (x.conditional) o["conditional"] = true;
  if (!x.attributes.empty()) {
    json::array a;
    for (const auto& at : x.attributes) a.push_back(json::value_from(at));
    o["attributes"] = std::move(a);
  }
  if (!x.children.empty()) {
    json::array a;
    for (const auto& c : x.children) a.push_back(json::value_from(c));
    o["children"] = std::move(a);
  }
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const SyntaxIssue& x) {
  v = json::object{{"kind", x.kind}, {"line", x.line}, {"column", x.column}, {"end_line", x.end_line}};
}

void tag_invoke(json::value_from_tag, json::value& v, const Skeleton& x) {
  json::object o;
  o["status"] = parse_status_name(x.status);
  o["extractor_version"] = x.extractor_version;
  o["source_bytes"] = x.source_bytes;
  o["line_count"] = x.line_count;
  if (x.decoding_replaced) {
    o["decoding_replaced"] = true;
    o["replaced_bytes"] = x.replaced_bytes;
  }
  if (x.encoding != "utf-8") o["encoding"] = x.encoding;
  if (x.had_bom) o["bom"] = true;
  if (!x.docstring.empty()) o["docstring"] = x.docstring;
  json::array imports;
  for (const auto& i : x.imports) imports.push_back(json::value_from(i));
  o["imports"] = std::move(imports);
  json::array constants;
  for (const auto& c : x.constants) constants.push_back(json::value_from(c));
  o["constants"] = std::move(constants);
  if (x.all) o["all"] = strings(*x.all);
  json::array defs;
  for (const auto& d : x.definitions) defs.push_back(json::value_from(d));
  o["definitions"] = std::move(defs);
  if (x.syntax_issue_count > 0) {
    json::array issues;
    for (const auto& i : x.syntax_issues) issues.push_back(json::value_from(i));
    o["syntax_issues"] = std::move(issues);
    o["syntax_issue_count"] = x.syntax_issue_count;
  }
  v = std::move(o);
}

json::value to_json(const Skeleton& s) { return json::value_from(s); }

// ---- JSON in ---------------------------------------------------------------------------------
// A hand-written reader rather than value_to: a bad cache row must become an Error naming the
// field, never an exception escaping into the cache.

namespace {

struct Reader {
  std::string bad;  // first failing field

  const json::object* obj(const json::value& v, std::string_view what) {
    if (!v.is_object()) return fail(what), nullptr;
    return &v.as_object();
  }
  void fail(std::string_view what) {
    if (bad.empty()) bad = std::string(what);
  }
  std::string str(const json::object& o, std::string_view key, bool required = false) {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) fail(key);
      return {};
    }
    if (!it->value().is_string()) return fail(key), std::string();
    return std::string(it->value().as_string());
  }
  std::int64_t num(const json::object& o, std::string_view key, bool required = true) {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) fail(key);
      return 0;
    }
    if (it->value().is_int64()) return it->value().as_int64();
    if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().as_uint64());
    fail(key);
    return 0;
  }
  bool flag(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return false;
    if (!it->value().is_bool()) return fail(key), false;
    return it->value().as_bool();
  }
  const json::array* arr(const json::object& o, std::string_view key, bool required = false) {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) fail(key);
      return nullptr;
    }
    if (!it->value().is_array()) return fail(key), nullptr;
    return &it->value().as_array();
  }
  std::vector<std::string> strs(const json::object& o, std::string_view key) {
    std::vector<std::string> out;
    if (const auto* a = arr(o, key)) {
      for (const auto& e : *a) {
        if (!e.is_string()) return fail(key), out;
        out.emplace_back(e.as_string());
      }
    }
    return out;
  }

  Variable variable(const json::value& v) {
    Variable x;
    const auto* o = obj(v, "variable");
    if (!o) return x;
    x.name = str(*o, "name", true);
    x.annotation = str(*o, "annotation");
    x.value = str(*o, "value");
    x.conditional = flag(*o, "conditional");
    x.line = static_cast<int>(num(*o, "line"));
    return x;
  }

  Definition definition(const json::value& v) {
    Definition d;
    const auto* o = obj(v, "definition");
    if (!o) return d;
    const std::string kind = str(*o, "kind", true);
    if (kind == "class") d.kind = DefKind::kClass;
    else if (kind == "function") d.kind = DefKind::kFunction;
    else if (kind == "method") d.kind = DefKind::kMethod;
    else fail("kind");
    d.name = str(*o, "name", true);
    d.qualname = str(*o, "qualname", true);
    d.is_async = flag(*o, "async");
    d.decorators = strs(*o, "decorators");
    d.signature = str(*o, "signature", true);
    d.bases = strs(*o, "bases");
    d.docstring = str(*o, "docstring");
    d.line = static_cast<int>(num(*o, "line"));
    d.column = static_cast<int>(num(*o, "column"));
    d.end_line = static_cast<int>(num(*o, "end_line"));
    d.end_column = static_cast<int>(num(*o, "end_column"));
    d.decorated_line = o->contains("decorated_line") ? static_cast<int>(num(*o, "decorated_line")) : d.line;
    d.conditional = flag(*o, "conditional");
    if (const auto* a = arr(*o, "attributes"))
      for (const auto& e : *a) d.attributes.push_back(variable(e));
    if (const auto* a = arr(*o, "children"))
      for (const auto& e : *a) d.children.push_back(definition(e));
    return d;
  }
};

}  // namespace

Result<Skeleton> skeleton_from_json(const json::value& v) {
  Reader r;
  Skeleton s;
  const auto* o = r.obj(v, "skeleton");
  if (!o) return make_error(Errc::kParse, "skeleton JSON: not an object");
  const std::string status = r.str(*o, "status", true);
  if (status == "ok") s.status = ParseStatus::kOk;
  else if (status == "partial") s.status = ParseStatus::kPartial;
  else r.fail("status");
  s.extractor_version = r.str(*o, "extractor_version", true);
  s.source_bytes = static_cast<std::size_t>(r.num(*o, "source_bytes"));
  s.line_count = static_cast<int>(r.num(*o, "line_count"));
  s.decoding_replaced = r.flag(*o, "decoding_replaced");
  s.replaced_bytes = static_cast<std::size_t>(r.num(*o, "replaced_bytes", false));
  s.had_bom = r.flag(*o, "bom");
  if (o->contains("encoding")) s.encoding = r.str(*o, "encoding");
  s.docstring = r.str(*o, "docstring");
  if (const auto* a = r.arr(*o, "imports", true)) {
    for (const auto& e : *a) {
      const auto* io = r.obj(e, "imports");
      if (!io) break;
      Import imp;
      imp.module = r.str(*io, "module", true);
      imp.alias = r.str(*io, "alias");
      imp.level = static_cast<int>(r.num(*io, "level"));
      imp.is_from = r.flag(*io, "from");
      imp.conditional = r.flag(*io, "conditional");
      imp.line = static_cast<int>(r.num(*io, "line"));
      if (const auto* names = r.arr(*io, "names")) {
        for (const auto& n : *names) {
          const auto* no = r.obj(n, "names");
          if (!no) break;
          imp.names.push_back({r.str(*no, "name", true), r.str(*no, "alias")});
        }
      }
      s.imports.push_back(std::move(imp));
    }
  }
  if (const auto* a = r.arr(*o, "constants", true))
    for (const auto& e : *a) s.constants.push_back(r.variable(e));
  if (o->contains("all")) s.all = r.strs(*o, "all");
  if (const auto* a = r.arr(*o, "definitions", true))
    for (const auto& e : *a) s.definitions.push_back(r.definition(e));
  if (const auto* a = r.arr(*o, "syntax_issues")) {
    for (const auto& e : *a) {
      const auto* io = r.obj(e, "syntax_issues");
      if (!io) break;
      s.syntax_issues.push_back({r.str(*io, "kind", true), static_cast<int>(r.num(*io, "line")),
                                 static_cast<int>(r.num(*io, "column")),
                                 static_cast<int>(r.num(*io, "end_line"))});
    }
  }
  s.syntax_issue_count = static_cast<std::size_t>(r.num(*o, "syntax_issue_count", false));
  if (!r.bad.empty()) return make_error(Errc::kParse, "skeleton JSON: bad or missing field '" + r.bad + "'");
  return s;
}

// ---- Rendering -------------------------------------------------------------------------------

namespace {

// Writes the outline piece by piece into a Sink: `StringSink` appends, `CountSink` only counts
// (the cache needs the outline's size for every parsed file, not its text).
struct StringSink {
  std::string& out;
  void put(std::string_view s) { out.append(s); }
  void put(char c) { out.push_back(c); }
  void pad(std::size_t n) { out.append(n, ' '); }
};

struct CountSink {
  std::size_t n = 0;
  void put(std::string_view s) { n += s.size(); }
  void put(char) { ++n; }
  void pad(std::size_t k) { n += k; }
};

template <class Sink>
class Renderer {
 public:
  Renderer(const RenderOptions& o, Sink& out) : o_(o), out_(out) {}

  void module(const Skeleton& s) {
    if (!s.docstring.empty()) {
      docstring(s.docstring);
      out_.put('\n');
    }
    if (o_.imports) {
      // Runs of plain imports, and of from-imports of one module, share a line: the names are
      // what a reader needs, not one `import` keyword per name.
      for (std::size_t k = 0; k < s.imports.size();) {
        std::size_t end = k + 1;
        while (end < s.imports.size() && same_import_line(s.imports[k], s.imports[end])) ++end;
        imports(s.imports, k, end);
        k = end;
      }
    }
    if (o_.constants) {
      if (s.all) {
        out_.put("__all__ = [");
        for (std::size_t k = 0; k < s.all->size(); ++k) {
          if (k) out_.put(", ");
          out_.put('"');
          out_.put((*s.all)[k]);
          out_.put('"');
        }
        out_.put("]\n");
      }
      for (const auto& c : s.constants) variable(0, c);
    }
    for (const auto& d : s.definitions) definition(d, 0, false);
  }

 private:
  // Two spaces per level: nesting stays unambiguous at half the bytes of PEP 8's four.
  void indent(int level) { out_.pad(static_cast<std::size_t>(level) * 2); }

  void docstring(const std::string& doc) {
    out_.put("\"\"\"");
    std::size_t from = 0;
    for (std::size_t i = 0; i < doc.size(); ++i) {
      // Keep the literal well-formed even when the docstring itself contains quotes.
      if (doc[i] == '"' || doc[i] == '\\') {
        out_.put(std::string_view(doc).substr(from, i - from));
        out_.put('\\');
        from = i;
      }
    }
    out_.put(std::string_view(doc).substr(from));
    out_.put("\"\"\"");
  }

  static bool same_import_line(const Import& a, const Import& b) {
    if (a.is_from != b.is_from || a.conditional != b.conditional) return false;
    if (!a.is_from) return true;
    const auto wildcard = [](const Import& i) { return i.names.size() == 1 && i.names[0].name == "*"; };
    return a.module == b.module && a.level == b.level && !wildcard(a) && !wildcard(b);
  }

  void alias(const std::string& name, const std::string& as) {
    out_.put(name);
    if (!as.empty()) {
      out_.put(" as ");
      out_.put(as);
    }
  }

  // One line for imports [begin, end) (same_import_line holds for all of them).
  void imports(const std::vector<Import>& v, std::size_t begin, std::size_t end) {
    const Import& first = v[begin];
    if (!first.is_from) {
      out_.put("import ");
      for (std::size_t k = begin; k < end; ++k) {
        if (k > begin) out_.put(", ");
        alias(v[k].module, v[k].alias);
      }
      out_.put('\n');
      return;
    }
    out_.put("from ");
    for (int k = 0; k < first.level; ++k) out_.put('.');
    out_.put(first.module);
    out_.put(" import ");
    bool comma = false;
    for (std::size_t k = begin; k < end; ++k) {
      for (const auto& n : v[k].names) {
        if (comma) out_.put(", ");
        comma = true;
        alias(n.name, n.alias);
      }
    }
    out_.put('\n');
  }

  void variable(int level, const Variable& v) {
    indent(level);
    if (v.annotation == "type") {
      out_.put("type ");
      out_.put(v.name);
    } else {
      out_.put(v.name);
      if (!v.annotation.empty()) {
        out_.put(": ");
        out_.put(v.annotation);
      }
    }
    if (!v.value.empty()) {
      out_.put(" = ");
      if (v.value.size() > o_.max_value_bytes) {
        std::size_t cut = o_.max_value_bytes;
        while (cut > 0 && (static_cast<unsigned char>(v.value[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
        out_.put(std::string_view(v.value).substr(0, cut));
        out_.put("...");
      } else {
        out_.put(v.value);
      }
    }
    out_.put('\n');
  }

  void definition(const Definition& d, int level, bool in_function) {
    if (in_function && !o_.nested_functions) return;
    for (const auto& dec : d.decorators) {
      indent(level);
      out_.put('@');
      out_.put(dec);
      out_.put('\n');
    }
    indent(level);
    if (d.kind == DefKind::kClass) out_.put("class ");
    else out_.put(d.is_async ? "async def " : "def ");
    out_.put(d.name);
    out_.put(d.signature);
    out_.put(':');
    const bool has_attrs = o_.constants && !d.attributes.empty();
    const bool has_children =
        !d.children.empty() && (d.kind == DefKind::kClass || o_.nested_functions);
    const bool empty_body = d.docstring.empty() && !has_attrs && !has_children;
    if (empty_body) out_.put(" ...");
    if (o_.line_numbers && (!o_.number_if || o_.number_if(d))) {
      out_.put("  # L");
      out_.put(std::to_string(d.decorated_line));
      if (d.end_line != d.decorated_line) {
        out_.put('-');
        out_.put(std::to_string(d.end_line));
      }
    }
    out_.put('\n');
    if (!d.docstring.empty()) {
      indent(level + 1);
      docstring(d.docstring);
      out_.put('\n');
    }
    if (has_attrs)
      for (const auto& a : d.attributes) variable(level + 1, a);
    const bool child_in_function = in_function || d.kind != DefKind::kClass;
    for (const auto& c : d.children) definition(c, level + 1, child_in_function);
  }

  const RenderOptions& o_;
  Sink& out_;
};

}  // namespace

std::string render(const Skeleton& s, const RenderOptions& options) {
  std::string out;
  StringSink sink{out};
  Renderer<StringSink>(options, sink).module(s);
  return out;
}

std::size_t rendered_size(const Skeleton& s, const RenderOptions& options) {
  CountSink sink;
  Renderer<CountSink>(options, sink).module(s);
  return sink.n;
}

double reduction_ratio(std::size_t skeleton_bytes, std::size_t source_bytes) {
  if (source_bytes == 0) return 0.0;
  return static_cast<double>(skeleton_bytes) / static_cast<double>(source_bytes);
}

}  // namespace trifecta::core::ast
