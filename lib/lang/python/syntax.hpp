// lang/python/syntax.hpp — INTERNAL to the Python AST fallback: a parsed Python file (tree-sitter tree +
// line table) and column conversions between tree-sitter's byte columns and the 1-based
// code-point columns of text::Position / text::Location.
//
// Failure behaviour: `parse_python` fails with the errors of ast::parse_python_tree (THE parse,
// lang/python/extractor.hpp): kUnavailable when the tree-sitter runtime refuses the grammar,
// kTooLarge for brackets nested deeper than ast::kMaxBracketNesting, kTimeout past
// ast::kParseBudget, kInternal when tree-sitter returns no tree.
//
// Thread rules: a TSTree must not be read from two threads at once, so a ParsedFile is owned by
// the thread that parsed it. `parse_python_cached` keeps the last kTreeCacheEntries trees of the
// calling thread (thread_local, keyed by the full text), so repeated questions about one file on
// one worker parse it once; nothing is shared between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tree_sitter/api.h>

#include "text/location.hpp"
#include "util/result.hpp"

namespace trifecta::core::navigation::syntax {

inline constexpr std::size_t kTreeCacheEntries = 8;

class ParsedFile {
 public:
  ParsedFile(std::string text, TSTree* tree);
  ~ParsedFile();
  ParsedFile(const ParsedFile&) = delete;
  ParsedFile& operator=(const ParsedFile&) = delete;

  const std::string& text() const { return text_; }
  TSNode root() const { return ts_tree_root_node(tree_); }
  int line_count() const { return static_cast<int>(line_starts_.size()); }
  // 0-based row → its text without the terminator ("" past the end).
  std::string_view row_text(std::uint32_t row) const;
  // "" for a null node (a field the error recovery left out).
  std::string_view node_text(TSNode n) const;
  // 0-based byte offset of (1-based line, 1-based code-point column), clamped to the line.
  std::uint32_t offset_of(text::Position pos) const;
  // 1-based code-point column of a tree-sitter point.
  int column_of(TSPoint p) const;
  // A null node's location is `path` at 1:1 with no width (callers only ask for nodes they found).
  text::Location location_of(TSNode n, std::string path) const;

 private:
  std::string text_;
  TSTree* tree_;
  std::vector<std::uint32_t> line_starts_;
};

Result<std::shared_ptr<const ParsedFile>> parse_python(std::string_view text);
Result<std::shared_ptr<const ParsedFile>> parse_python_cached(std::string_view text);

// 1-based code-point column of byte offset `byte` in `line` (invalid bytes count as one).
int column_from_byte(std::string_view line, std::size_t byte);
// The text of 1-based line `line` of `text` ("" past the end).
std::string_view nth_line(std::string_view text, int line);

// `self.NAME = ...` / `self.NAME: T` / `self.NAME += ...` in lines [first_line, last_line] of
// `text` (1-based): each name once, at its first assignment, with its 0-based byte column.
struct InstanceAttribute {
  std::string name;
  int line = 0;
  std::size_t byte = 0;
};
std::vector<InstanceAttribute> instance_attributes(std::string_view text, int first_line, int last_line);

// Null-safe, as node_text: a null node's type is "", the field of a null node is null. tree-sitter's
// own accessors (ts_node_type, ts_node_end_byte, ts_node_child_count...) dereference a null node,
// and the fields this code reads can be absent from a tree built by error recovery.
std::string_view type_of(TSNode n);
TSNode field(TSNode n, const char* name);
bool is_identifier_byte(char c);

}  // namespace trifecta::core::navigation::syntax
