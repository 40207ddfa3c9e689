// lang/python/grammar_abi.hpp — does the compiled-in tree-sitter-python grammar fit the tree-sitter
// runtime it is linked with? `trifecta doctor` asks this through `trifectad --self-check`.
//
// A grammar's parse tables carry an ABI number (ts_language_version of tree_sitter_python()); the
// runtime accepts numbers from TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION to
// TREE_SITTER_LANGUAGE_VERSION (its api.h, the header of the runtime we link: Debian's
// libtree-sitter or a vendored one). Outside that range ts_parser_set_language refuses the grammar
// and every parse fails, so the check also tries exactly that call.
//
// Thread rules: pure; safe from any thread. Failure: none (a mismatch is a value, not an error).
#pragma once

#include <string>

namespace trifecta::core::lang::python {

struct GrammarAbi {
  int grammar_version = 0;      // ts_language_version(tree_sitter_python())
  int runtime_min = 0;          // TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION
  int runtime_max = 0;          // TREE_SITTER_LANGUAGE_VERSION
  bool parser_accepts = false;  // ts_parser_set_language(parser, tree_sitter_python()) succeeded
  bool compatible() const {
    return parser_accepts && grammar_version >= runtime_min && grammar_version <= runtime_max;
  }
};

GrammarAbi grammar_abi();

// "grammar ABI 14, runtime accepts 13..14" (+ ": MISMATCH" when not compatible).
std::string describe(const GrammarAbi& abi);

}  // namespace trifecta::core::lang::python
