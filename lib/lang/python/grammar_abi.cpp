#include "lang/python/grammar_abi.hpp"

#include <tree_sitter/api.h>

extern "C" const TSLanguage* tree_sitter_python(void);

namespace trifecta::core::lang::python {

GrammarAbi grammar_abi() {
  GrammarAbi abi;
  const TSLanguage* lang = tree_sitter_python();
  abi.grammar_version = static_cast<int>(ts_language_version(lang));
  abi.runtime_min = TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION;
  abi.runtime_max = TREE_SITTER_LANGUAGE_VERSION;
  // The numbers alone could agree with a header that is not the linked runtime's; the runtime's
  // own answer is the one that matters at parse time.
  TSParser* parser = ts_parser_new();
  abi.parser_accepts = ts_parser_set_language(parser, lang);
  ts_parser_delete(parser);
  return abi;
}

std::string describe(const GrammarAbi& abi) {
  std::string s = "grammar ABI " + std::to_string(abi.grammar_version) + ", runtime accepts " +
                  std::to_string(abi.runtime_min) + ".." + std::to_string(abi.runtime_max);
  if (!abi.compatible()) s += ": MISMATCH";
  return s;
}

}  // namespace trifecta::core::lang::python
