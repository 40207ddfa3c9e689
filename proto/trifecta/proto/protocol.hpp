// proto/protocol.hpp — the wire contract between trifectad and its clients (umbrella include).
//
//   jsonrpc.hpp   framing, envelopes, ErrorCode, RpcError, Fields, parse_request / encode_*
//   codec.hpp     how a wire struct gets JSON in both directions: value_from, decode, parse
//   daemon.hpp    hello, ping, status, shutdown, debug.sleep
//   ast.hpp       ast.skeleton, ast.symbols (and the skeleton document)
//   sym.hpp       sym.resolve, the selector match, selector error data
//   ctx.hpp       ctx.build, ctx.search, ctx.get, ctx.status, ctx.validate
//   lsp.hpp       lsp.status, lsp.definition, lsp.hover, lsp.references, lsp.diagnostics
//   catalog.hpp   the method table (MethodSpec constants, catalog())
//
// This module depends on Boost.JSON (and trifecta_util for compact JSON text).
// Thread rules: plain values and pure functions.
#pragma once

#include "trifecta/proto/ast.hpp"
#include "trifecta/proto/catalog.hpp"
#include "trifecta/proto/codec.hpp"
#include "trifecta/proto/ctx.hpp"
#include "trifecta/proto/daemon.hpp"
#include "trifecta/proto/jsonrpc.hpp"
#include "trifecta/proto/lsp.hpp"
#include "trifecta/proto/sym.hpp"
