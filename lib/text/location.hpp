// text/location.hpp — the plain position, location, hover and diagnostic values of Trifecta's API.
//
// Lines are 1-based; columns are 1-based and counted in characters (Unicode code points), never
// bytes or UTF-16 units (text/text.hpp converts). A path is segment-relative unless `external`.
// Both the LSP client (lib/lsp, which re-exports these names as lsp::Position etc.) and the AST
// fallback (lib/lang/python) produce them, so an answer has one shape whichever of the two gave it.
//
// Thread rules: plain values.
#pragma once

#include <optional>
#include <string>

namespace trifecta::core::text {

struct Position {
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in characters (code points)
};

struct Location {
  std::string path;                  // segment-relative; the real absolute path when `external`
  bool external = false;             // outside the segment (typeshed, stdlib, site-packages)
  int line = 1, column = 1;          // start, 1-based
  int end_line = 1, end_column = 1;  // end (exclusive column), 1-based
};

struct HoverInfo {
  std::string contents;  // markdown (or plain text) as the server rendered it
  std::string kind;      // "markdown" | "plaintext"
  std::optional<Location> range;
};

struct Diagnostic {
  int line = 1, column = 1, end_line = 1, end_column = 1;
  std::string severity;  // "error" | "warning" | "information" | "hint"
  std::string message;
  std::string code;    // e.g. "reportAttributeAccessIssue"; may be empty
  std::string source;  // e.g. "Pyright"
};

}  // namespace trifecta::core::text
