#include "disclosure/json.hpp"

#include <boost/json.hpp>

namespace trifecta::core::disclosure {

void tag_invoke(json::value_from_tag, json::value& v, const Piece& p) {
  json::object o{{"id", p.id},
                 {"path", p.path},
                 {"kind", index::chunk_kind_name(p.kind)},
                 {"title", p.title},
                 {"start_line", p.start_line},
                 {"end_line", p.end_line},
                 {"mode", mode_name(p.mode)},
                 {"partial", p.partial},
                 {"total_bytes", p.total_bytes},
                 {"text", p.text},
                 {"tokens", p.tokens},
                 {"sha256", p.sha256}};
  if (p.degraded_from) o["degraded_from"] = mode_name(*p.degraded_from);
  if (p.partial) o["offset"] = p.offset;
  if (p.stale) o["stale"] = true;
  if (!p.context.empty()) o["context"] = p.context;
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const TargetError& e) {
  v = json::object{{"target", e.target}, {"code", errc_name(e.code)}, {"message", e.message}};
}

void tag_invoke(json::value_from_tag, json::value& v, const GetReply& r) {
  json::object o{{"mode", mode_name(r.mode)},
                 {"budget", r.budget},
                 {"used", r.used},
                 {"stop_reason", stop_reason_name(r.stop_reason)},
                 {"chunks", json::value_from(r.chunks)},
                 {"errors", json::value_from(r.errors)},
                 {"bytes_read", r.bytes_read},
                 {"generation", r.generation}};
  if (!r.next.empty()) o["next"] = r.next;
  v = std::move(o);
}

}  // namespace trifecta::core::disclosure
