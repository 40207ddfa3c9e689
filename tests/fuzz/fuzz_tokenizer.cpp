// fuzz_tokenizer — the lexical tokenizer (lib/index/tokenizer.hpp) on arbitrary bytes: every
// token is non-empty, no longer than the input and holds no typographic quote or apostrophe
// (separators since tok-2) nor a folded capital (tok-3); space_at never reaches past the
// input; query_terms, parse_query and whole_word_token never fail; a query read as a file's path
// (file_reference, rank-16) is a part of the input, and path_match and misspelt_file_name on it
// stay within what they are given; a node id found in a line (node_id_in_line, rank-17) is a
// part of the input with a definition named.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "index/ranking.hpp"
#include "index/tokenizer.hpp"

using namespace trifecta::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::string& token : index::tokenize(text)) {
    if (token.empty() || token.size() > size) std::abort();
    for (const std::string_view quote : {"\u201c", "\u201d", "\u2018", "\u2019"}) {
      if (token.find(quote) != std::string::npos) std::abort();
    }
    // Folded capitals (tok-3): Ü, Ж and Σ never survive in a token.
    for (const std::string_view capital : {"\u00dc", "\u0416", "\u03a3"}) {
      if (token.find(capital) != std::string::npos) std::abort();
    }
  }
  for (std::size_t i = 0; i <= size; ++i) {
    if (index::space_at(text, i) > size - std::min(i, size)) std::abort();
  }
  (void)index::parse_query(text);
  (void)index::query_terms(text);
  (void)index::whole_word_token(text);
  if (const auto ref = index::file_reference(text)) {
    if (ref->path.empty() || ref->path.size() > size || text.find(ref->path) == std::string::npos)
      std::abort();
    if (index::path_match(ref->path, ref->path) != ref->path.size()) std::abort();
    // Names made from the input: its halves, and the path's own last part.
    const std::string_view name = index::file_name_of(ref->path);
    const std::vector<std::string_view> names = {text.substr(0, size / 2), text.substr(size / 2),
                                                 name};
    if (const auto fix = index::misspelt_file_name(name, names)) {
      if (std::find(names.begin(), names.end(), *fix) == names.end()) std::abort();
      if (*fix == name) std::abort();  // a name is not its own correction
    }
  }
  if (const auto ref = index::node_id_in_line(text)) {
    if (ref->path.empty() || ref->symbol.empty() || text.find(ref->path) == std::string::npos)
      std::abort();
  }
  for (const auto& frame : index::frames_in_text(text)) {
    if (frame.path.empty() || frame.line == 0 || text.find(frame.path) == std::string::npos)
      std::abort();
  }
  return 0;
}
