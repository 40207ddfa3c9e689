// daemon/handlers_ast.hpp — ast.skeleton, ast.symbols and sym.resolve: Python skeletons and the
// sym:// selector over a segment (lib/ast, lib/selector).
//
// Every method requires params.segment. A `path` is a file inside the segment (relative to it, or
// absolute inside it: anything leading outside is PATH_ESCAPE) or a sym:// URI. Selector failures
// keep their stable names (INVALID_URI, FILE_NOT_FOUND, SYMBOL_NOT_FOUND, AMBIGUOUS_SYMBOL) in
// error.data.name, with `tried`, `suggestions` and `candidates` in error.data.
//
// Thread rules: handlers run on worker threads; the segment's SkeletonCache is thread-safe.
#pragma once

#include "dispatcher.hpp"
#include "selector/sym_uri.hpp"

namespace trifecta::daemon {

void bind_ast_handlers(Dispatcher& d);

// A selector failure on the wire: its stable name, plus tried / suggestions / candidates.
proto::RpcError selector_rpc_error(const core::selector::SelectorError& e);

}  // namespace trifecta::daemon
