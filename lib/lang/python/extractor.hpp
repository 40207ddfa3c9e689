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
// load — and that is reported once by `check_runtime()` as a typed error.
//
// Thread rules: every function is thread-safe. Each thread lazily creates its own TSParser
// (thread_local; TSParser is not thread-safe) and keeps it for the thread's lifetime, so a pool
// of N workers holds N parsers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ast/skeleton.hpp"
#include "util/result.hpp"

struct TSParser;  // tree-sitter's parser (tree_sitter/api.h)

namespace trifecta::core::ast {

// This thread's tree-sitter parser for Python, created on first use (TSParser is not thread-safe,
// so every thread has its own). Call check_runtime() once before relying on it.
TSParser* thread_python_parser();


struct RuntimeInfo {
  unsigned grammar_abi = 0;       // ts_language_version of tree-sitter-python
  unsigned runtime_min_abi = 0;   // TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION
  unsigned runtime_max_abi = 0;   // TREE_SITTER_LANGUAGE_VERSION
};

// Checks once (cached) that the grammar's ABI is within the runtime's range and that
// ts_parser_set_language accepts it. Errors: kUnavailable with both versions in the message.
Result<RuntimeInfo> check_runtime();

// Extract the skeleton of `source` (raw file bytes). Errors: only kUnavailable from
// check_runtime() (or kInternal if tree-sitter returns no tree, which it does only when cancelled).
Result<Skeleton> extract_skeleton(std::string_view source);

// A raw full parse of `source` with this thread's parser, discarding the tree: the baseline
// the benchmark compares skeleton builds against. Returns the number of bytes parsed.
Result<std::size_t> raw_parse(std::string_view source);

}  // namespace trifecta::core::ast
