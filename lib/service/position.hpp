// service/position.hpp — INTERNAL to lib/service: a position request's params (path + line +
// column, or a sym:// URI pointing at the symbol's name) resolved against a segment, shared by the
// lsp.* position methods (service_lsp.cpp) and lsp.calls (service_nav.cpp); and the AST's options
// for a segment (`nav_options`), the one layout every AST answer of those methods uses.
//
// Failure behaviour: `parse_position` returns the RpcError to send (INVALID_PARAMS for missing
// or out-of-range fields, INVALID_ARGUMENT for a position off the text — past the last line, on
// an empty line, past the end of its line —, NOT_PYTHON for a file that is not Python, the
// selector's errors for a URI, PATH_ESCAPE / NOT_FOUND ... for the file). Thread rules: call on a
// service thread; it reads the file through the segment's reader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>

#include "lang/python/navigation.hpp"
#include "lsp/client.hpp"
#include "service/segment.hpp"
#include "trifecta/proto/protocol.hpp"

namespace trifecta::core::service {

// What a position request is about, resolved on the calling thread.
struct PosRequest {
  std::string method;  // definition | hover | references | diagnostics | calls
  std::string rel;
  std::filesystem::path abs;
  lsp::Position pos;
  bool include_declaration = true;
  bool confirmed_only = false;  // references: Pyright's set only (no AST candidates)
  std::int64_t wait_ready_ms = 0;
  std::string text;  // current content (for the fallback)
};

// `need_position`: path requires line and column (diagnostics needs neither).
std::variant<PosRequest, proto::RpcError> parse_position(Segment& seg,
                                                         const proto::LspPositionParams& p,
                                                         const std::string& method,
                                                         bool need_position);

// The AST's options for this segment: its layout (a package root's own imports, declared source
// roots) and, for references and calls, only the files whose index tokens include the name (the
// index synced with the disk before the request). The options keep a reference to `seg`.
navigation::NavOptions nav_options(Segment& seg);

}  // namespace trifecta::core::service
