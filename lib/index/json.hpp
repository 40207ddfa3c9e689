// index/json.hpp — Boost.JSON mappings of lib/index's result types (value_from only), for tests
// and tools. The daemon's replies are the typed structs of proto/ (mapped in
// lib/service/proto_convert.cpp), which use the same field names (docs/index.md, docs/protocol.md).
//
// Thread rules: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include "index/chunk.hpp"
#include "index/inverted_index.hpp"
#include "index/segment_index.hpp"

namespace trifecta::core::index {

namespace json = boost::json;

// {id, path, kind, role, title, title_path, start_line, end_line, sha256, bytes, tokens, preview,
//  context?, signature?}
void tag_invoke(json::value_from_tag, json::value& v, const Chunk& c);
// {term, field, tf, score}
void tag_invoke(json::value_from_tag, json::value& v, const TermContribution& t);
// {id, path, start_line, end_line, kind, title, score, preview, tokens, sha256, explain?}
void tag_invoke(json::value_from_tag, json::value& v, const SearchHit& h);
// {from, to}
void tag_invoke(json::value_from_tag, json::value& v, const Correction& c);
// {terms, hits, matched, generation, reason?, did_you_mean?, unscored?, corrected?}
void tag_invoke(json::value_from_tag, json::value& v, const SearchResult& r);
void tag_invoke(json::value_from_tag, json::value& v, const FileRecord& r);
void tag_invoke(json::value_from_tag, json::value& v, const BuildReport& r);
void tag_invoke(json::value_from_tag, json::value& v, const ApplyReport& r);
void tag_invoke(json::value_from_tag, json::value& v, const Status& s);
void tag_invoke(json::value_from_tag, json::value& v, const ValidateReport& r);

}  // namespace trifecta::core::index
