#include "selector/resolver.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <set>

#include "lang/python/modules.hpp"
#include "util/clock.hpp"
#include "util/paths.hpp"

namespace trifecta::core::selector {

// ---- FsSegmentSource -------------------------------------------------------------------------

bool FsSegmentSource::is_file(std::string_view rel) {
  auto p = safe_join(root_, rel);
  std::error_code ec;
  return p && fs::is_regular_file(*p, ec);
}

std::optional<std::string> FsSegmentSource::relative(std::string_view absolute) {
  auto p = resolve_in_root(root_, absolute);
  if (!p) return std::nullopt;
  return relpath(root_, *p);  // inside: resolve_in_root checked it
}

bool FsSegmentSource::is_dir(std::string_view rel) {
  auto p = rel.empty() ? Result<fs::path>(root_) : safe_join(root_, rel);
  std::error_code ec;
  return p && fs::is_directory(*p, ec);
}

std::vector<std::string> FsSegmentSource::list_dir(std::string_view rel) {
  std::vector<std::string> out;
  auto p = rel.empty() ? Result<fs::path>(root_) : safe_join(root_, rel);
  if (!p) return out;
  std::error_code ec;
  for (fs::directory_iterator it(*p, ec), end; !ec && it != end; it.increment(ec)) {
    out.push_back(it->path().filename().string());
    if (out.size() >= 10000) break;  // bounded: suggestions do not need a huge directory
  }
  return out;
}

Result<std::shared_ptr<const ast::Skeleton>> FsSegmentSource::skeleton(std::string_view rel) {
  auto p = safe_join(root_, rel);
  if (!p) return p.error();
  auto r = cache_.get(*p, rel);
  if (!r) return r.error();
  return r->skeleton;
}

// ---- helpers ---------------------------------------------------------------------------------

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t at = s.find('.', pos);
    out.emplace_back(
        s.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
    if (at == std::string_view::npos) return out;
    pos = at + 1;
  }
}

std::string join(const std::vector<std::string>& parts, std::size_t n, char sep) {
  std::string s;
  for (std::size_t i = 0; i < n && i < parts.size(); ++i) {
    if (i) s += sep;
    s += parts[i];
  }
  return s;
}

std::string join_path(const std::string& root, const std::string& rel) {
  if (root.empty()) return rel;
  if (rel.empty()) return root;
  return root + "/" + rel;
}

std::string without_locals(std::string_view q) {
  std::string s(q);
  for (std::size_t at; (at = s.find(".<locals>")) != std::string::npos;) s.erase(at, 9);
  return s;
}

std::string last_component(std::string_view q) {
  const auto at = q.rfind('.');
  return std::string(at == std::string_view::npos ? q : q.substr(at + 1));
}

Match def_match(const ast::Definition& d) {
  Match m;
  m.kind = std::string(ast::def_kind_name(d.kind));
  m.qualname = d.qualname;
  m.line = d.line;
  m.decorated_line = d.decorated_line;
  m.end_line = d.end_line;
  m.signature = d.signature;
  m.docstring = d.docstring;
  m.conditional = d.conditional;
  return m;
}

// A name together with what it is, for lookups and suggestions.
struct Named {
  std::string qualname;
  Match match;
  const ast::Definition* def = nullptr;
};

std::vector<Named> all_names(const ast::Skeleton& s) {
  std::vector<Named> out;
  for (const auto& c : s.constants) {
    Match m;
    m.kind = "constant";
    m.qualname = c.name;
    m.line = m.end_line = c.line;
    m.conditional = c.conditional;
    out.push_back({c.name, m, nullptr});
  }
  ast::for_each_definition(s, [&](const ast::Definition& d) {
    out.push_back({d.qualname, def_match(d), &d});
    for (const auto& a : d.attributes) {
      Match m;
      m.kind = "attribute";
      m.qualname = d.qualname + "." + a.name;
      m.line = m.end_line = a.line;
      m.conditional = a.conditional;
      out.push_back({m.qualname, m, nullptr});
    }
  });
  return out;
}

// `@overload` stubs and property accessors are companions of one symbol, not rivals.
bool is_companion(const Named& n) {
  if (!n.def) return false;
  for (const auto& dec : n.def->decorators) {
    if (dec == "overload" || dec == "typing.overload" || dec == "typing_extensions.overload")
      return true;
    for (std::string_view suffix : {".setter", ".deleter"}) {
      if (dec == n.def->name + std::string(suffix)) return true;
    }
  }
  return false;
}

// The absolute module a `from <level dots><module> import` refers to, seen from `mf`.
std::string absolute_import(const ModuleFile& mf, const ast::Import& imp) {
  if (imp.level == 0) return imp.module;
  std::vector<std::string> base = split_dots(mf.module);
  if (!mf.package && !base.empty()) base.pop_back();  // a module's package is its parent
  for (int i = 1; i < imp.level && !base.empty(); ++i) base.pop_back();
  std::string s = join(base, base.size(), '.');
  if (!imp.module.empty()) s += (s.empty() ? "" : ".") + imp.module;
  return s;
}

}  // namespace

void tag_invoke(json::value_from_tag, json::value& v, const Resolution& r) {
  json::object o = json::value_from(r.match).as_object();
  o["uri"] = r.uri.raw;
  if (!r.related.empty()) {
    json::array rel;
    for (const auto& m : r.related) rel.push_back(json::value_from(m));
    o["related"] = std::move(rel);
  }
  v = std::move(o);
}

// ---- Resolver --------------------------------------------------------------------------------

Resolver::Resolver(SegmentSource& source, telemetry::Channel channel, ResolverOptions options)
    : source_(source), channel_(std::move(channel)), options_(std::move(options)) {}

namespace {

void emit_resolve(telemetry::Channel& ch, std::string_view query,
                  const SelectorResult<Resolution>& out, const Stopwatch& sw) {
  if (!ch.enabled()) return;
  const bool ok = out.ok();
  const bool ambiguous = !ok && out.error().code == SelectorErrc::kAmbiguousSymbol;
  const std::size_t matches = ok ? 1 : out.error().candidates.size();
  json::object x;
  if (!ok) x["error"] = selector_errc_name(out.error().code);
  // Only reserved-key collisions can fail, and these keys are fixed.
  (void)ch.event("selector.resolve", json::object{{"symbol_query", query.substr(0, 512)}},
                 json::object{{"resolved", ok}, {"matches", matches}, {"ambiguous", ambiguous}},
                 sw.elapsed_ms(), {}, std::move(x));
}

}  // namespace

std::optional<NodeId> parse_node_id(std::string_view text) {
  if (text.rfind("sym://", 0) == 0) return std::nullopt;
  const std::size_t sep = text.find("::");
  if (sep == std::string_view::npos || sep <= 3 || !text.substr(0, sep).ends_with(".py"))
    return std::nullopt;  // no `::`, or no file name before ".py"
  NodeId id;
  id.file = std::string(text.substr(0, sep));
  std::string_view rest = text.substr(sep + 2);
  // The parametrization: from the first '[' to a closing ']' at the end (it may hold anything).
  if (const std::size_t open = rest.find('['); open != std::string_view::npos) {
    if (!rest.ends_with("]")) return std::nullopt;
    rest = rest.substr(0, open);
  }
  while (true) {
    const std::size_t next = rest.find("::");
    const std::string_view name = rest.substr(0, next);
    if (!is_identifier(name)) return std::nullopt;
    if (!id.qualname.empty()) id.qualname += '.';
    id.qualname += name;
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 2);
  }
  return id;
}

SelectorResult<Resolution> Resolver::resolve(std::string_view text) {
  Stopwatch sw;
  if (const auto id = parse_node_id(text)) {
    SelectorResult<Resolution> out = resolve_node_id(text, *id);
    // An absolute path is not telemetry's to keep (docs/telemetry.md): the segment-relative id
    // when it resolved, else only what follows the path.
    const bool absolute = fs::path(id->file).is_absolute();
    emit_resolve(channel_,
                 out.ok()   ? std::string_view(out->uri.raw)
                 : absolute ? text.substr(id->file.size())
                            : text,
                 out, sw);
    return out;
  }
  auto parsed = parse_sym_uri(text);
  SelectorResult<Resolution> out =
      parsed ? resolve_uri(*parsed) : SelectorResult<Resolution>(parsed.error());
  emit_resolve(channel_, text, out, sw);
  return out;
}

SelectorResult<Resolution> Resolver::resolve_node_id(std::string_view text, const NodeId& id) {
  const bool absolute = fs::path(id.file).is_absolute();
  std::optional<std::string> inside =
      absolute ? source_.relative(id.file) : fs::path(id.file).lexically_normal().generic_string();
  const std::string normal = inside ? *inside : std::string();
  if (!inside || normal.empty() || normal == "." || normal == ".." || normal.rfind("../", 0) == 0) {
    SelectorError e;
    e.code = SelectorErrc::kInvalidUri;
    // The message repeats the names, not an absolute path.
    e.message = "node id '" +
                (absolute ? "…" + std::string(text.substr(id.file.size())) : std::string(text)) +
                "': its file is not inside the segment";
    return e;
  }
  if (!source_.is_file(normal)) {
    SelectorError e;
    e.code = SelectorErrc::kFileNotFound;
    e.tried = {normal};
    e.message = "node id: no file " + normal + " in the segment";
    return e;
  }
  ModuleFile mf;
  mf.file = normal;
  mf.module = lang::python::module_of(normal, options_.source_roots, options_.package_prefix);
  mf.package = lang::python::is_package_init(normal);
  SymUri uri;
  uri.raw = normal + std::string(text.substr(id.file.size()));  // the id, segment-relative
  uri.language = "python";
  uri.form = UriForm::kSymbol;
  uri.module = mf.module;
  uri.qualname = id.qualname;
  return resolve_symbol(uri, mf, id.qualname);
}

SelectorResult<Resolution> Resolver::resolve(const SymUri& uri) {
  Stopwatch sw;
  SelectorResult<Resolution> out = resolve_uri(uri);
  emit_resolve(channel_, uri.raw, out, sw);
  return out;
}

std::vector<ModuleFile> Resolver::module_candidates(const std::vector<std::string>& parts,
                                                    std::vector<std::string>* tried) {
  std::vector<ModuleFile> found;
  const std::string& prefix = options_.package_prefix;
  if (!prefix.empty() && !parts.empty()) {
    // A package-root segment: `prefix.a.b` (or `a.b`) lives at `a/b…` under the root; the root
    // package itself is the root's __init__.py.
    const std::vector<std::string> pp = split_dots(prefix);
    const bool named = parts.size() >= pp.size() && std::equal(pp.begin(), pp.end(), parts.begin());
    const std::vector<std::string> inner(
        parts.begin() + static_cast<std::ptrdiff_t>(named ? pp.size() : 0), parts.end());
    const std::string rest = join(inner, inner.size(), '.');
    const std::string module = rest.empty() ? prefix : prefix + "." + rest;
    auto candidates = rest.empty() ? lang::python::files_for("")
                                   : lang::python::candidate_files(rest, options_.source_roots);
    for (auto& candidate : candidates) {
      if (tried) tried->push_back(candidate.path);
      if (source_.is_file(candidate.path))
        found.push_back({module, std::move(candidate.path), candidate.package});
    }
    return found;
  }
  const std::string module = join(parts, parts.size(), '.');
  // The one module <-> file rule (lang/python/modules.hpp): root by root, `a/b.py` then
  // `a/b/__init__.py`; every hit is kept (both existing is an ambiguity).
  for (auto& candidate : lang::python::candidate_files(module, options_.source_roots)) {
    if (tried) tried->push_back(candidate.path);
    if (source_.is_file(candidate.path))
      found.push_back({module, std::move(candidate.path), candidate.package});
  }
  return found;
}

std::vector<std::string> Resolver::module_suggestions(const std::vector<std::string>& in_parts) {
  // At the first component that exists neither as a package directory nor a module file, offer
  // the names in that directory closest to it. In a package-root segment the search runs below
  // the root without the package name and every suggestion gets it back (so it resolves here).
  const std::string& prefix = options_.package_prefix;
  const std::vector<std::string> pp = split_dots(prefix);
  const bool prefixed = !prefix.empty() && in_parts.size() >= pp.size() &&
                        std::equal(pp.begin(), pp.end(), in_parts.begin());
  const std::vector<std::string> parts(
      in_parts.begin() + static_cast<std::ptrdiff_t>(prefixed ? pp.size() : 0), in_parts.end());
  auto make_uri = [&](const std::string& dotted) {
    return make_sym_uri(prefix.empty() ? dotted : prefix + "." + dotted);
  };
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& root : options_.source_roots) {
    std::string dir = root;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const std::string sub = join_path(dir, parts[i]);
      const bool last = i + 1 == parts.size();
      if (!last && source_.is_dir(sub)) {
        dir = sub;
        continue;
      }
      for (const auto& entry : source_.list_dir(dir)) {
        std::string name = entry;
        if (name.ends_with(lang::python::kSourceSuffix))
          name.resize(name.size() - lang::python::kSourceSuffix.size());
        else if (!source_.is_dir(join_path(dir, entry)))
          continue;
        if (!is_identifier(name)) continue;
        const std::size_t d = edit_distance(name, parts[i]);
        if (d <= std::max<std::size_t>(2, parts[i].size() / 3) && d > 0) {
          std::vector<std::string> p(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(i));
          p.push_back(name);
          scored.emplace_back(d, make_uri(join(p, p.size(), '.')));
        }
      }
      break;
    }
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (auto& [d, s] : scored) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    if (out.size() >= options_.max_suggestions) break;
  }
  return out;
}

SelectorResult<ModuleFile> Resolver::resolve_module(std::string_view dotted) {
  const std::vector<std::string> parts = split_dots(dotted);
  std::vector<std::string> tried;
  auto found = module_candidates(parts, &tried);
  if (found.size() == 1) return found.front();
  SelectorError e;
  e.tried = tried;
  if (found.empty()) {
    e.code = SelectorErrc::kFileNotFound;
    e.message =
        "module '" + std::string(dotted) + "' not found; tried " + join(tried, tried.size(), ',');
    for (auto pos = e.message.find(','); pos != std::string::npos;
         pos = e.message.find(',', pos + 2))
      e.message.replace(pos, 1, ", ");
    e.suggestions = module_suggestions(parts);
    return e;
  }
  e.code = SelectorErrc::kAmbiguousSymbol;
  e.message =
      "module '" + std::string(dotted) + "' exists as " + std::to_string(found.size()) + " files:";
  for (const auto& f : found) {
    e.message += " " + f.file;
    Match m;
    m.file = f.file;
    m.module = f.module;
    m.kind = "module";
    e.candidates.push_back(std::move(m));
  }
  return e;
}

SelectorResult<Resolution> Resolver::resolve_uri(const SymUri& uri) {
  std::string module = uri.module;
  std::string qualname = uri.qualname;
  if (uri.form == UriForm::kLegacyModule) {
    module = join(uri.path, uri.path.size(), '.');
  } else if (uri.form == UriForm::kLegacyType) {
    // The longest prefix of the path that is a module; the rest is the type's qualified name.
    std::vector<std::string> tried;
    bool found = false;
    for (std::size_t n = uri.path.size() - 1; n >= 1 && !found; --n) {
      std::vector<std::string> prefix(uri.path.begin(),
                                      uri.path.begin() + static_cast<std::ptrdiff_t>(n));
      if (!module_candidates(prefix, &tried).empty()) {
        module = join(prefix, n, '.');
        qualname = join(std::vector<std::string>(uri.path.begin() + static_cast<std::ptrdiff_t>(n),
                                                 uri.path.end()),
                        uri.path.size() - n, '.') +
                   "." + uri.member;
        found = true;
      }
    }
    if (!found) {
      SelectorError e;
      e.code = SelectorErrc::kFileNotFound;
      e.tried = tried;
      e.message = "no prefix of '" + join(uri.path, uri.path.size(), '/') +
                  "' is a module; tried " + std::to_string(tried.size()) + " paths";
      e.suggestions =
          module_suggestions(std::vector<std::string>(uri.path.begin(), uri.path.end() - 1));
      return e;
    }
  }
  auto mf = resolve_module(module);
  if (!mf) return mf.error();
  if (qualname.empty()) {
    auto sk = source_.skeleton(mf->file);
    if (!sk) {
      SelectorError e;
      e.code = SelectorErrc::kFileNotFound;
      e.tried = {mf->file};
      e.message = "cannot read " + mf->file + ": " + sk.error().message;
      return e;
    }
    Resolution r;
    r.uri = uri;
    r.match.file = mf->file;
    r.match.module = mf->module;
    r.match.kind = "module";
    r.match.line = 1;
    r.match.end_line = std::max(1, (*sk)->line_count);
    r.match.docstring = (*sk)->docstring;
    r.match.partial = (*sk)->status == ast::ParseStatus::kPartial;
    return r;
  }
  return resolve_symbol(uri, *mf, qualname);
}

SelectorResult<Resolution> Resolver::resolve_symbol(const SymUri& uri, const ModuleFile& mf,
                                                    std::string_view qualname) {
  auto sk = source_.skeleton(mf.file);
  if (!sk) {
    SelectorError e;
    e.code = SelectorErrc::kFileNotFound;
    e.tried = {mf.file};
    e.message = "cannot read " + mf.file + ": " + sk.error().message;
    return e;
  }
  const ast::Skeleton& s = **sk;
  const bool partial = s.status == ast::ParseStatus::kPartial;
  const std::vector<Named> names = all_names(s);
  auto finish = [&](Match m) {
    m.file = mf.file;
    m.module = mf.module;
    m.partial = partial;
    return m;
  };

  std::vector<const Named*> hits;
  for (const auto& n : names)
    if (n.qualname == qualname) hits.push_back(&n);
  if (hits.empty()) {
    // `outer.helper` for `outer.<locals>.helper`.
    for (const auto& n : names)
      if (n.qualname.find("<locals>") != std::string::npos &&
          without_locals(n.qualname) == qualname)
        hits.push_back(&n);
  }

  if (hits.size() > 1) {
    std::vector<const Named*> primary;
    std::vector<const Named*> companions;
    for (const Named* h : hits) (is_companion(*h) ? companions : primary).push_back(h);
    if (primary.size() == 1 && !companions.empty()) {
      Resolution r;
      r.uri = uri;
      r.match = finish(primary.front()->match);
      for (const Named* c : companions) r.related.push_back(finish(c->match));
      return r;
    }
    SelectorError e;
    e.code = SelectorErrc::kAmbiguousSymbol;
    e.tried = {mf.file};
    e.message = "'" + std::string(qualname) + "' is defined " + std::to_string(hits.size()) +
                " times in " + mf.file + " (lines";
    for (const Named* h : hits) {
      e.message +=
          " " + std::to_string(h->match.line) + (h->match.conditional ? " (conditional)" : "");
      e.candidates.push_back(finish(h->match));
    }
    e.message += "); address one by line with ast.symbols";
    return e;
  }
  if (hits.size() == 1) {
    Resolution r;
    r.uri = uri;
    r.match = finish(hits.front()->match);
    return r;
  }

  // Not found: explain and suggest.
  SelectorError e;
  e.code = SelectorErrc::kSymbolNotFound;
  e.tried = {mf.file};
  e.message = "'" + std::string(qualname) + "' is not defined in " + mf.file + " (module " +
              mf.module + ", " + std::to_string(names.size()) + " names searched)";
  const std::string first = split_dots(qualname).front();
  for (const auto& imp : s.imports) {
    if (imp.is_from) {
      for (const auto& n : imp.names) {
        const std::string local = n.alias.empty() ? n.name : n.alias;
        if (local != first || n.name == "*") continue;
        const std::string from = absolute_import(mf, imp);
        std::string rest(qualname.substr(first.size()));
        e.message += "; it is imported from " + from + " at line " + std::to_string(imp.line);
        // Suggested only when that module is a file of this segment: a suggestion resolves here.
        if (!module_candidates(split_dots(from), nullptr).empty())
          e.suggestions.push_back(make_sym_uri(from, n.name + rest));
      }
    } else if (!imp.alias.empty() && imp.alias == first &&
               !module_candidates(split_dots(imp.module), nullptr).empty()) {
      e.suggestions.push_back(make_sym_uri(
          imp.module,
          std::string(qualname.substr(first.size() + (qualname.size() > first.size() ? 1 : 0)))));
    }
  }
  const std::string want_last = last_component(qualname);
  std::vector<std::tuple<std::size_t, std::string>> scored;
  std::set<std::string> seen;
  for (const auto& n : names) {
    if (!seen.insert(n.qualname).second) continue;
    const std::size_t full = edit_distance(n.qualname, qualname);
    const std::size_t last = edit_distance(last_component(n.qualname), want_last);
    const std::size_t limit = std::max<std::size_t>(2, qualname.size() / 3);
    std::size_t score = full;
    if (last == 0)
      score = std::min<std::size_t>(score, 1);  // same name, other scope
    else if (last <= std::max<std::size_t>(1, want_last.size() / 3))
      score = std::min(score, last + 1);
    if (score <= limit) scored.emplace_back(score, n.qualname);
  }
  std::sort(scored.begin(), scored.end());
  for (const auto& [score, q] : scored) {
    if (e.suggestions.size() >= options_.max_suggestions) break;
    e.suggestions.push_back(make_sym_uri(mf.module, q));
  }
  return e;
}

}  // namespace trifecta::core::selector
