// fuzz_tokenizer — the lexical tokenizer (lib/index/tokenizer.hpp) on arbitrary bytes: every
// token is non-empty, no longer than the input, and query_terms / whole_word_token never fail.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "index/tokenizer.hpp"

using namespace trifecta::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::string& token : index::tokenize(text)) {
    if (token.empty()) std::abort();
  }
  (void)index::query_terms(text);
  (void)index::whole_word_token(text);
  return 0;
}
