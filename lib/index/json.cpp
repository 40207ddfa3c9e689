#include "index/json.hpp"

#include <boost/json.hpp>

namespace trifecta::core::index {

namespace {
json::array strings(const std::vector<std::string>& v) {
  json::array a;
  a.reserve(v.size());
  for (const auto& s : v) a.emplace_back(s);
  return a;
}
}  // namespace

void tag_invoke(json::value_from_tag, json::value& v, const Chunk& c) {
  json::object o{{"id", c.id},
                 {"path", c.path},
                 {"kind", chunk_kind_name(c.kind)},
                 {"role", chunk_role_name(c.role)},
                 {"title", c.title},
                 {"title_path", strings(c.title_path)},
                 {"start_line", c.start_line},
                 {"end_line", c.end_line},
                 {"sha256", c.sha256},
                 {"bytes", c.bytes},
                 {"tokens", c.tokens},
                 {"preview", c.preview}};
  if (!c.context.empty()) o["context"] = c.context;
  if (!c.signature.empty()) o["signature"] = c.signature;
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const TermContribution& t) {
  v = json::object{{"term", t.term}, {"field", t.field}, {"tf", t.tf}, {"score", t.score}};
}

void tag_invoke(json::value_from_tag, json::value& v, const Correction& c) {
  v = json::object{{"from", c.from}, {"to", c.to}};
}

void tag_invoke(json::value_from_tag, json::value& v, const SearchHit& h) {
  json::object o{{"id", h.chunk.id},
                 {"path", h.chunk.path},
                 {"start_line", h.chunk.start_line},
                 {"end_line", h.chunk.end_line},
                 {"kind", chunk_kind_name(h.chunk.kind)},
                 {"title", h.chunk.title},
                 {"score", h.score},
                 {"preview", h.chunk.preview},
                 {"tokens", h.chunk.tokens},
                 {"sha256", h.chunk.sha256}};
  if (!h.explain.empty()) o["explain"] = json::value_from(h.explain);
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const SearchResult& r) {
  json::object o{{"terms", strings(r.terms)},
                 {"hits", json::value_from(r.hits)},
                 {"matched", r.matched},
                 {"generation", r.generation}};
  if (!r.reason.empty()) o["reason"] = r.reason;
  if (r.hits.empty()) o["did_you_mean"] = strings(r.did_you_mean);
  if (!r.unscored.empty()) o["unscored"] = strings(r.unscored);
  if (!r.corrected.empty()) o["corrected"] = json::value_from(r.corrected);
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const FileRecord& r) {
  json::object o{{"path", r.path}, {"size", r.size}, {"indexed", r.indexed}, {"chunks", r.chunks}};
  if (!r.indexed) o["skip_reason"] = r.skip_reason;
  if (!r.detail.empty()) o["detail"] = r.detail;
  if (r.replaced_bytes) o["non_utf8_bytes"] = r.replaced_bytes;
  if (r.parse_partial) o["parse_partial"] = true;
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const BuildReport& r) {
  json::object o{{"warm", r.warm},
                 {"source", workspace::listing_source_name(r.source)},
                 {"files_listed", r.files_listed},
                 {"files_indexed", r.files_indexed},
                 {"files_skipped", r.files_skipped},
                 {"files_read", r.files_read},
                 {"files_reused", r.files_reused},
                 {"chunks", r.chunks},
                 {"bytes_read", r.bytes_read},
                 {"generation", r.generation},
                 {"elapsed_ms", r.elapsed_ms},
                 {"threads", r.threads},
                 {"warnings", strings(r.warnings)}};
  if (!r.warm) o["cold_reason"] = r.cold_reason;
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const ApplyReport& r) {
  v = json::object{{"reindexed", r.reindexed}, {"unchanged", r.unchanged}, {"added", r.added},
                   {"removed", r.removed},     {"skipped", r.skipped},     {"rescanned", r.rescanned},
                   {"generation", r.generation}, {"bytes_read", r.bytes_read}, {"warnings", strings(r.warnings)}};
}

void tag_invoke(json::value_from_tag, json::value& v, const Status& s) {
  json::object reasons;
  for (const auto& [k, n] : s.skip_reasons) reasons[k] = n;
  v = json::object{{"generation", s.generation},
                   {"built", s.built},
                   {"files_indexed", s.files_indexed},
                   {"files_skipped", s.files_skipped},
                   {"files_non_utf8", s.files_non_utf8},
                   {"skip_reasons", std::move(reasons)},
                   {"skipped", json::value_from(s.skipped)},
                   {"chunks", s.chunks},
                   {"terms", s.terms},
                   {"last_update", s.last_update},
                   {"pack_state", s.pack_state},
                   {"source", s.source},
                   {"watching", s.watching},
                   {"warm_start", s.warm_start},
                   {"rescans", s.rescans},
                   {"watched_dirs", s.watched_dirs},
                   {"memory_bytes", s.memory_bytes},
                   {"warnings", strings(s.warnings)}};
}

void tag_invoke(json::value_from_tag, json::value& v, const ValidateReport& r) {
  v = json::object{{"ok", r.ok()},           {"stale", strings(r.stale)}, {"missing", strings(r.missing)},
                   {"new", strings(r.added)}, {"checked", r.checked},     {"generation", r.generation}};
}

}  // namespace trifecta::core::index
