// lang/python/extractor.hpp — Python source → Skeleton, with tree-sitter and tree-sitter-python.
//
// extractor.cpp includes the tree-sitter API; so does the Python AST fallback (through its internal
// syntax.hpp, sharing this file's thread_python_parser()). Nothing else in lib/ does, and this
// header only forward-declares TSParser. Extraction never fails on content: syntax errors give
// status `partial` with the well-formed parts kept (including the definitions after an error
// region, by reparsing from the next top-level `def`/`class`/`@` line);
// the bytes are decoded by util/utf8.hpp's `decode_source` (the one decoding every path uses: a
// file that is not valid UTF-8 is read as Latin-1/cp1252 if it declares so (PEP 263), otherwise
// each invalid sequence becomes U+FFFD, flagged); a leading UTF-8 BOM is stripped (flagged).
// What can fail is the runtime itself — a grammar whose ABI the linked libtree-sitter cannot
// load — and that is reported once by `check_runtime()` as a typed error; and hostile input, which
// `parse_python_tree` (THE parse: every tree-sitter parse in lib/ goes through it) refuses rather
// than trusting the parser with it:
//  * bracket nesting deeper than kMaxBracketNesting (CPython itself refuses more than 200 nested
//    parentheses) → kTooLarge "nested N levels deep", before tree-sitter sees the text;
//  * statements nested deeper than kMaxBlockNesting (each block and each nested clause is a level,
//    so 100 levels of try/finally are 200) → kTooLarge "statements nested more than N levels
//    deep" from extract_skeleton (the statement walk recurses once per level and stops there;
//    CPython refuses more than 100 levels of indentation, and tree-sitter-python's scanner gives
//    up past about 250 columns of indentation anyway);
//  * a parse still running after kParseBudget → kTimeout (tree-sitter's progress callback
//    cancels it; the budget covers one whole extraction, salvage reparses included).
// The runtime is tree-sitter 0.25, built from source (third_party/tree-sitter, scripts/setup.sh):
// Debian's 0.20.7 corrupts its heap past 2^16 nested nodes (tree-sitter#2134, issue 16).
//
// Thread rules: every function is thread-safe. Each thread lazily creates its own TSParser
// (thread_local; TSParser is not thread-safe) and keeps it for the thread's lifetime, so a pool
// of N workers holds N parsers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ast/skeleton.hpp"
#include "util/result.hpp"

struct TSParser;  // tree-sitter's parser (tree_sitter/api.h)
struct TSTree;    // tree-sitter's syntax tree

namespace trifecta::core::ast {

// This thread's tree-sitter parser for Python, created on first use (TSParser is not thread-safe,
// so every thread has its own). Call check_runtime() once before relying on it.
TSParser* thread_python_parser();

// Limits of THE parse (see the header comment; docs/reliability.md).
inline constexpr std::size_t kMaxBracketNesting = 256;
inline constexpr std::size_t kMaxBlockNesting = 200;
inline constexpr std::chrono::milliseconds kParseBudget{10000};

// The deepest bracket nesting of `text` — `(`, `[`, `{` outside strings and comments — counted by
// a linear scan (lexical.hpp's strings and comments), without parsing. Stops counting at
// `stop_at` (the answer is then `stop_at`).
std::size_t bracket_nesting(std::string_view text, std::size_t stop_at = SIZE_MAX);

// Parse `text` with this thread's parser, after the nesting guard, cancelled at `deadline`.
// `edited`: the tree of an earlier text, already edited (ts_tree_edit) to match `text`, whose
// unchanged subtrees tree-sitter reuses (ParseMemo); nullptr parses from scratch. The caller owns
// the tree (ts_tree_delete). Errors: kUnavailable (check_runtime), kTooLarge (nesting, or text
// above 4 GiB), kTimeout (deadline), kInternal (no tree for another reason).
Result<TSTree*> parse_python_tree(std::string_view text, std::chrono::steady_clock::time_point deadline,
                                  const TSTree* edited = nullptr);


struct RuntimeInfo {
  unsigned grammar_abi = 0;       // ts_language_version of tree-sitter-python
  unsigned runtime_min_abi = 0;   // TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION
  unsigned runtime_max_abi = 0;   // TREE_SITTER_LANGUAGE_VERSION
};

// Checks once (cached) that the grammar's ABI is within the runtime's range and that
// ts_parser_set_language accepts it. Errors: kUnavailable with both versions in the message.
Result<RuntimeInfo> check_runtime();

// Extract the skeleton of `source` (raw file bytes). Errors: those of parse_python_tree (the
// deadline is kParseBudget from the call).
Result<Skeleton> extract_skeleton(std::string_view source);

// A top-level definition of a kept parse (ParseMemo): the bytes of its statement, decorators
// included, and what the extractor made of it.
struct KeptDefinition {
  std::uint32_t start_byte = 0, end_byte = 0;
  Definition definition;
};

// Deletes a tree-sitter tree (ts_tree_delete): what owns one outside extractor.cpp.
struct TreeDeleter {
  void operator()(TSTree* tree) const;
};

// One file's last parse — the text tree-sitter read (decoded, BOM stripped) and its tree — kept
// so that the next version of the same file is parsed incrementally: the edit is found as the
// bytes between the two texts' common prefix and common suffix, the kept tree is edited to match
// (ts_tree_edit; the next parse consumes the memo) and tree-sitter reuses every subtree outside
// it. An edit of one place
// in a 35 KB file parses in about a twentieth of the time of a fresh parse. The memo also keeps
// that text's identifier table: the next extraction walks for identifiers only the lines the edit
// and the syntax changes it caused touch (ts_tree_get_changed_ranges), the rest moved over from
// the table kept. It keeps the top-level definitions extracted from that text, with their
// statements' bytes, too: a top-level `def`/`class` statement of the next text that lies outside
// the edit and outside every syntax change, on a line of its own after the edit or wholly before
// it, is taken from there (its lines moved by the lines the edit added or removed) instead of
// being walked again — an edit of one function of a 35 KB file walks that function only. Only
// texts free of syntax errors are parsed incrementally: tree-sitter's error recovery may differ
// between an incremental and a fresh parse, so a text after one with errors is parsed fresh, and
// so is a text whose incremental parse has errors (parsed twice). The skeleton, identifier table
// included, is the same as a fresh parse's (tests/unit/ast_incremental_test.cpp compares them
// over thousands of edits; fuzz_extractor on arbitrary inputs). Move-only; owns its tree. Not
// thread-safe: one thread uses a memo at a time.
class ParseMemo {
 public:
  bool empty() const { return tree_ == nullptr; }
  std::size_t text_bytes() const { return text_.size(); }
  // Whether the parse that filled this memo started from the previous one (false: a fresh parse:
  // no previous one, or syntax errors in either text).
  bool incremental() const { return incremental_; }
  // How many top-level definitions that parse took from the previous one instead of walking them.
  std::size_t reused_definitions() const { return reused_; }

 private:
  friend Result<Skeleton> extract_skeleton(std::string_view source, ParseMemo& memo);
  std::string text_;
  std::unique_ptr<TSTree, TreeDeleter> tree_;
  IdentifierTable identifiers_;  // text_'s: the next parse walks only the lines that changed
  std::vector<KeptDefinition> definitions_;  // text_'s top-level definitions (none: not reusable)
  bool bom_ = false;             // text_ had a BOM (a table's line-1 columns count it)
  bool incremental_ = false;
  std::size_t reused_ = 0;
};

// extract_skeleton, parsing incrementally from `memo` when it holds an earlier parse (of any
// text: an unrelated one only makes the edit the whole file); on success `memo` holds this parse.
// On failure it is left empty. Same errors as extract_skeleton.
Result<Skeleton> extract_skeleton(std::string_view source, ParseMemo& memo);

// A raw full parse of `source` with this thread's parser, discarding the tree: the baseline
// the benchmark compares skeleton builds against. Returns the number of bytes parsed.
Result<std::size_t> raw_parse(std::string_view source);

}  // namespace trifecta::core::ast
