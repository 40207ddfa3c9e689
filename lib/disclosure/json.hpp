// disclosure/json.hpp — Boost.JSON mappings of ctx.get's reply (value_from only).
//   GetReply → {mode, budget, used, stop_reason, next?, chunks: [Piece], errors: [TargetError],
//               bytes_read, generation}
//   Piece    → {id, path, kind, title, start_line, end_line, mode, degraded_from?, partial,
//               offset?, total_bytes, text, tokens, sha256, stale?, context?}
//   TargetError → {target, code (errc name), message}
// Thread rules: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include "disclosure/disclosure.hpp"

namespace trifecta::core::disclosure {

namespace json = boost::json;

void tag_invoke(json::value_from_tag, json::value& v, const Piece& p);
void tag_invoke(json::value_from_tag, json::value& v, const TargetError& e);
void tag_invoke(json::value_from_tag, json::value& v, const GetReply& r);

}  // namespace trifecta::core::disclosure
