// lang/python/calls.hpp — call hierarchy from the AST (issue 13): who calls a function
// (incoming) and what it calls (outgoing), `depth` levels deep. What `lsp.calls` answers
// (backend `ast`) when Pyright's callHierarchy cannot (not READY, failed, found nothing; see
// lib/service/service_nav.cpp).
//
// The root is definition()'s first target at the position (the cursor on a def's name, or on a
// call of it) when it is a function, method or class. Rules:
//   incoming — references() of the root's name (the segment's identifier-occurrence tables, so
//              nothing is parsed), keeping the occurrences followed by `(` (a call, `f(` or
//              `obj.f(`); each is attributed to the innermost function or method around it in
//              its file's skeleton (a class body: the class; module level: the module, kind
//              `module`). Name-based: a method call on any receiver counts (`rule` "by name"),
//              as the fallback's references do.
//   outgoing — every call expression inside the root's definition (nested definitions
//              included), its callee resolved by definition() (the AST fallback's rules); calls
//              whose callee does not resolve to a function, method or class of the segment
//              (builtins, unknown receivers) are left out and counted in `unresolved`.
// Each edge groups the call sites (the callee name's location) per caller / callee. With depth
// > 1 each new function is expanded the same way, breadth first, each once, up to `max_edges`
// edges (then `truncated`).
//
// Positions: input and output as navigation.hpp (1-based lines, code-point columns,
// segment-relative paths).
//
// Failure behaviour: errors are values: those of definition() for the position (kInvalidArgument
// for a line outside `text`, kUnavailable for the tree-sitter runtime). A position that is not on
// a function, method or class gives an empty result with `reason`. Files that cannot be read or
// parsed further down are skipped.
//
// Thread rules: as navigation.hpp (thread-safe given a thread-safe source and index).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/python/navigation.hpp"

namespace trifecta::core::navigation {

struct CallItem {
  std::string name;
  std::string qualname;            // "" for a module
  std::string kind;                // function | method | class | module
  std::string file;                // segment-relative
  int line = 0, end_line = 0;      // the def/class line (a module: 1 and its last line)
  int column = 0, end_column = 0;  // the name, 1-based code points (0 when unknown)
  std::string signature;
};

struct CallEdge {
  CallItem item;                      // incoming: the caller; outgoing: the callee
  std::vector<text::Location> sites;  // the calls (the callee name in each)
  int depth = 1;                      // 1 = a direct caller/callee of the root
  std::string parent;                 // depth > 1: the file:qualname this edge expands
  std::string rule;                   // incoming: "by name"; outgoing: definition()'s rule
};

struct CallsResult {
  std::optional<CallItem> root;
  std::vector<CallEdge> incoming, outgoing;
  std::size_t unresolved = 0;  // outgoing calls whose callee did not resolve in the segment
  bool truncated = false;
  std::string reason;  // why the result is empty
};

struct CallsOptions {
  bool incoming = true, outgoing = true;
  int depth = 1;  // 1..5
  std::size_t max_edges = 200;
  NavOptions nav;  // passed to definition() / references()
};

Result<CallsResult> call_hierarchy(selector::SegmentSource& source, const SymbolIndex& index,
                                   std::string_view rel, std::string_view text, text::Position pos,
                                   const CallsOptions& options = {});

}  // namespace trifecta::core::navigation
