#include "service/proto_convert.hpp"

namespace trifecta::core::service {

namespace ast = core::ast;
namespace idx = core::index;
namespace dis = core::disclosure;
namespace sel = core::selector;
namespace lsp = core::lsp;

namespace {

template <class T>
std::optional<T> when(bool present, T value) {
  return present ? std::optional<T>(std::move(value)) : std::nullopt;
}

std::optional<std::string> non_empty(const std::string& s) { return when(!s.empty(), s); }

proto::SkeletonVariable to_proto(const ast::Variable& v) {
  proto::SkeletonVariable o;
  o.name = v.name;
  o.annotation = non_empty(v.annotation);
  o.value = non_empty(v.value);
  o.conditional = when(v.conditional, true);
  o.line = v.line;
  return o;
}

proto::SkeletonImport to_proto(const ast::Import& i) {
  proto::SkeletonImport o;
  o.module = i.module;
  if (i.is_from) {
    o.names.emplace();
    for (const auto& n : i.names) o.names->push_back({n.name, non_empty(n.alias)});
  }
  o.alias = non_empty(i.alias);
  o.level = i.level;
  o.from = i.is_from;
  o.conditional = when(i.conditional, true);
  o.line = i.line;
  return o;
}

}  // namespace

proto::SkeletonDefinition to_proto(const ast::Definition& d) {
  proto::SkeletonDefinition o;
  o.kind = std::string(ast::def_kind_name(d.kind));
  o.name = d.name;
  o.qualname = d.qualname;
  o.async = when(d.is_async, true);
  o.decorators = when(!d.decorators.empty(), d.decorators);
  o.signature = d.signature;
  o.bases = when(d.kind == ast::DefKind::kClass, d.bases);
  o.docstring = non_empty(d.docstring);
  o.line = d.line;
  o.column = d.column;
  o.end_line = d.end_line;
  o.end_column = d.end_column;
  o.decorated_line = when<std::int64_t>(d.decorated_line != d.line, d.decorated_line);
  o.conditional = when(d.conditional, true);
  if (!d.attributes.empty()) {
    o.attributes.emplace();
    for (const auto& a : d.attributes) o.attributes->push_back(to_proto(a));
  }
  if (!d.children.empty()) {
    o.children.emplace();
    for (const auto& c : d.children) o.children->push_back(to_proto(c));
  }
  return o;
}

proto::Skeleton to_proto(const ast::Skeleton& s) {
  proto::Skeleton o;
  o.status = std::string(ast::parse_status_name(s.status));
  o.extractor_version = s.extractor_version;
  o.source_bytes = static_cast<std::int64_t>(s.source_bytes);
  o.line_count = s.line_count;
  if (s.decoding_replaced) {
    o.decoding_replaced = true;
    o.replaced_bytes = static_cast<std::int64_t>(s.replaced_bytes);
  }
  o.encoding = when(s.encoding != "utf-8", s.encoding);
  o.bom = when(s.had_bom, true);
  o.docstring = non_empty(s.docstring);
  for (const auto& i : s.imports) o.imports.push_back(to_proto(i));
  for (const auto& c : s.constants) o.constants.push_back(to_proto(c));
  o.all = s.all;
  for (const auto& d : s.definitions) o.definitions.push_back(to_proto(d));
  if (s.syntax_issue_count > 0) {
    o.syntax_issues.emplace();
    for (const auto& x : s.syntax_issues) o.syntax_issues->push_back({x.kind, x.line, x.column, x.end_line});
    o.syntax_issue_count = static_cast<std::int64_t>(s.syntax_issue_count);
  }
  return o;
}

proto::SymbolInfo to_symbol_info(const ast::Definition& d) {
  proto::SymbolInfo o;
  o.qualname = d.qualname;
  o.name = d.name;
  o.kind = std::string(ast::def_kind_name(d.kind));
  o.line = d.line;
  o.end_line = d.end_line;
  o.signature = d.signature;
  o.docstring = d.docstring;
  o.decorators = d.decorators;
  o.async = d.is_async;
  o.conditional = d.conditional;
  return o;
}

proto::ConstantInfo to_constant_info(const ast::Variable& v) { return {v.name, v.line, v.annotation, v.conditional}; }

proto::SymbolMatch to_proto(const sel::Match& m) {
  return {m.file,      m.module,      m.kind,        m.qualname, m.line,
          m.end_line,  m.signature,   m.docstring,   m.conditional, m.partial,
          m.decorated_line > 0 ? m.decorated_line : m.line};
}

proto::SymResolveResult to_proto(const sel::Resolution& r) {
  proto::SymResolveResult o;
  static_cast<proto::SymbolMatch&>(o) = to_proto(r.match);
  o.uri = r.uri.raw;
  for (const auto& m : r.related) o.related.push_back(to_proto(m));
  return o;
}

proto::SelectorErrorData to_proto(const sel::SelectorError& e) {
  proto::SelectorErrorData o;
  o.tried = e.tried;
  o.suggestions = e.suggestions;
  for (const auto& c : e.candidates) o.candidates.push_back(to_proto(c));
  return o;
}

proto::BuildReport to_proto(const idx::BuildReport& r) {
  proto::BuildReport o;
  o.warm = r.warm;
  o.source = std::string(core::workspace::listing_source_name(r.source));
  o.files_listed = static_cast<std::int64_t>(r.files_listed);
  o.files_indexed = static_cast<std::int64_t>(r.files_indexed);
  o.files_skipped = static_cast<std::int64_t>(r.files_skipped);
  o.files_read = static_cast<std::int64_t>(r.files_read);
  o.files_reused = static_cast<std::int64_t>(r.files_reused);
  o.chunks = static_cast<std::int64_t>(r.chunks);
  o.bytes_read = static_cast<std::int64_t>(r.bytes_read);
  o.generation = static_cast<std::int64_t>(r.generation);
  o.elapsed_ms = r.elapsed_ms;
  o.threads = r.threads;
  o.warnings = r.warnings;
  o.cold_reason = when(!r.warm, r.cold_reason);
  return o;
}

proto::FileRecord to_proto(const idx::FileRecord& r) {
  proto::FileRecord o;
  o.path = r.path;
  o.size = static_cast<std::int64_t>(r.size);
  o.indexed = r.indexed;
  o.chunks = r.chunks;
  o.skip_reason = when(!r.indexed, r.skip_reason);
  o.detail = non_empty(r.detail);
  o.non_utf8_bytes = when<std::int64_t>(r.replaced_bytes != 0, static_cast<std::int64_t>(r.replaced_bytes));
  o.parse_partial = when(r.parse_partial, true);
  return o;
}

proto::IndexStatus to_proto(const idx::Status& s) {
  proto::IndexStatus o;
  o.generation = static_cast<std::int64_t>(s.generation);
  o.built = s.built;
  o.files_indexed = static_cast<std::int64_t>(s.files_indexed);
  o.files_skipped = static_cast<std::int64_t>(s.files_skipped);
  o.files_non_utf8 = static_cast<std::int64_t>(s.files_non_utf8);
  for (const auto& [k, n] : s.skip_reasons) o.skip_reasons[k] = static_cast<std::int64_t>(n);
  for (const auto& r : s.skipped) o.skipped.push_back(to_proto(r));
  o.chunks = static_cast<std::int64_t>(s.chunks);
  o.terms = static_cast<std::int64_t>(s.terms);
  o.last_update = s.last_update;
  o.pack_state = s.pack_state;
  o.source = s.source;
  o.watching = s.watching;
  o.warm_start = s.warm_start;
  o.rescans = static_cast<std::int64_t>(s.rescans);
  o.watched_dirs = static_cast<std::int64_t>(s.watched_dirs);
  o.memory_bytes = static_cast<std::int64_t>(s.memory_bytes);
  o.warnings = s.warnings;
  return o;
}

proto::SearchHit to_proto(const idx::SearchHit& h) {
  proto::SearchHit o;
  o.id = h.chunk.id;
  o.path = h.chunk.path;
  o.start_line = h.chunk.start_line;
  o.end_line = h.chunk.end_line;
  o.kind = std::string(idx::chunk_kind_name(h.chunk.kind));
  o.title = h.chunk.title;
  o.score = h.score;
  o.preview = h.chunk.preview;
  o.tokens = static_cast<std::int64_t>(h.chunk.tokens);
  o.sha256 = h.chunk.sha256;
  if (!h.explain.empty()) {
    o.explain.emplace();
    for (const auto& t : h.explain) o.explain->push_back({t.term, t.field, t.tf, t.score});
  }
  return o;
}

proto::CtxSearchResult to_proto(const idx::SearchResult& r) {
  proto::CtxSearchResult o;
  o.terms = r.terms;
  for (const auto& h : r.hits) o.hits.push_back(to_proto(h));
  o.matched = static_cast<std::int64_t>(r.matched);
  o.generation = static_cast<std::int64_t>(r.generation);
  o.reason = non_empty(r.reason);
  o.did_you_mean = when(r.hits.empty(), r.did_you_mean);
  o.unscored = when(!r.unscored.empty(), r.unscored);
  if (!r.corrected.empty()) {
    o.corrected.emplace();
    for (const auto& c : r.corrected) o.corrected->push_back({c.from, c.to});
  }
  return o;
}

proto::CtxValidateResult to_proto(const idx::ValidateReport& r) {
  proto::CtxValidateResult o;
  o.ok = r.ok();
  o.stale = r.stale;
  o.missing = r.missing;
  o.added = r.added;
  o.checked = static_cast<std::int64_t>(r.checked);
  o.generation = static_cast<std::int64_t>(r.generation);
  return o;
}

proto::CtxMapResult to_proto(const dis::MapReply& r) {
  proto::CtxMapResult o;
  o.path = r.path;
  o.budget = static_cast<std::int64_t>(r.budget);
  o.used = static_cast<std::int64_t>(r.used);
  o.candidates = static_cast<std::int64_t>(r.candidates);
  o.skipped = static_cast<std::int64_t>(r.skipped);
  o.truncated = r.truncated;
  o.text = r.text;
  for (const auto& f : r.files) {
    proto::MapFile m;
    m.path = f.path;
    m.centrality = f.centrality;
    m.reduced = f.reduced;
    m.text = f.text;
    for (const auto& s : f.symbols) m.symbols.push_back({s.name, s.kind, s.line, s.end_line, s.refs});
    o.files.push_back(std::move(m));
  }
  return o;
}

proto::DisclosedChunk to_proto(const dis::Piece& p) {
  proto::DisclosedChunk o;
  o.id = p.id;
  o.path = p.path;
  o.kind = std::string(idx::chunk_kind_name(p.kind));
  o.title = p.title;
  o.start_line = p.start_line;
  o.end_line = p.end_line;
  o.mode = std::string(dis::mode_name(p.mode));
  o.partial = p.partial;
  o.total_bytes = static_cast<std::int64_t>(p.total_bytes);
  o.text = p.text;
  o.tokens = static_cast<std::int64_t>(p.tokens);
  o.sha256 = p.sha256;
  if (p.degraded_from) o.degraded_from = std::string(dis::mode_name(*p.degraded_from));
  o.offset = when<std::int64_t>(p.partial, static_cast<std::int64_t>(p.offset));
  o.stale = when(p.stale, true);
  o.context = non_empty(p.context);
  return o;
}

proto::TargetError to_proto(const dis::TargetError& e) {
  return {e.target, std::string(core::errc_name(e.code)), e.message};
}

proto::CtxGetResult to_proto(const dis::GetReply& r) {
  proto::CtxGetResult o;
  o.mode = std::string(dis::mode_name(r.mode));
  o.budget = static_cast<std::int64_t>(r.budget);
  o.used = static_cast<std::int64_t>(r.used);
  o.stop_reason = std::string(dis::stop_reason_name(r.stop_reason));
  for (const auto& p : r.chunks) o.chunks.push_back(to_proto(p));
  for (const auto& e : r.errors) o.errors.push_back(to_proto(e));
  o.bytes_read = static_cast<std::int64_t>(r.bytes_read);
  o.generation = static_cast<std::int64_t>(r.generation);
  o.next = non_empty(r.next);
  return o;
}

proto::Location to_proto(const lsp::Location& l) {
  proto::Location o;
  o.path = l.path;
  o.external = l.external;
  o.line = l.line;
  o.column = l.column;
  o.end_line = l.end_line;
  o.end_column = l.end_column;
  return o;
}

proto::Diagnostic to_proto(const lsp::Diagnostic& d) {
  return {d.line, d.column, d.end_line, d.end_column, d.severity, d.message, d.code, d.source};
}

std::vector<proto::Location> to_proto(const std::vector<lsp::Location>& ls) {
  std::vector<proto::Location> out;
  out.reserve(ls.size());
  for (const auto& l : ls) out.push_back(to_proto(l));
  return out;
}

}  // namespace trifecta::core::service
