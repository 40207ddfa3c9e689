// service/proto_convert.hpp — lib types → wire structs (proto/). One small free function per
// type, so the service's typed methods build their results without hand-made JSON.
// The wire shapes are documented in docs/protocol.md and pinned by tests/golden/wire/.
//
// Thread rules: pure functions. Failure behaviour: none (total mappings).
#pragma once

#include "ast/skeleton.hpp"
#include "disclosure/disclosure.hpp"
#include "disclosure/repo_map.hpp"
#include "index/segment_index.hpp"
#include "lsp/client.hpp"
#include "selector/resolver.hpp"
#include "trifecta/proto/protocol.hpp"

namespace trifecta::core::service {

proto::Skeleton to_proto(const core::ast::Skeleton& s);
proto::SkeletonDefinition to_proto(const core::ast::Definition& d);
proto::SymbolInfo to_symbol_info(const core::ast::Definition& d);
proto::ConstantInfo to_constant_info(const core::ast::Variable& v);

proto::SymbolMatch to_proto(const core::selector::Match& m);
proto::SymResolveResult to_proto(const core::selector::Resolution& r);
proto::SelectorErrorData to_proto(const core::selector::SelectorError& e);

proto::BuildReport to_proto(const core::index::BuildReport& r);
proto::FileRecord to_proto(const core::index::FileRecord& r);
proto::IndexStatus to_proto(const core::index::Status& s);
proto::SearchHit to_proto(const core::index::SearchHit& h);
// Fills terms, hits, matched, generation, reason, did_you_mean (not query/index).
proto::CtxSearchResult to_proto(const core::index::SearchResult& r);
// Fills ok, stale, missing, new, checked, generation (not index).
proto::CtxValidateResult to_proto(const core::index::ValidateReport& r);
proto::CtxMapResult to_proto(const core::disclosure::MapReply& r);

proto::DisclosedChunk to_proto(const core::disclosure::Piece& p);
proto::TargetError to_proto(const core::disclosure::TargetError& e);
// Fills everything but index.
proto::CtxGetResult to_proto(const core::disclosure::GetReply& r);

proto::Location to_proto(const core::lsp::Location& l);
proto::Diagnostic to_proto(const core::lsp::Diagnostic& d);
std::vector<proto::Location> to_proto(const std::vector<core::lsp::Location>& ls);

}  // namespace trifecta::core::service
