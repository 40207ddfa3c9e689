// fuzz_extractor — tree-sitter plus our walk (lib/lang/python/extractor.hpp extract_skeleton) on
// arbitrary bytes as a .py file: a Skeleton or a typed error (TOO_LARGE for deep nesting,
// TIMEOUT), never a crash. A skeleton renders, converts to JSON and back, and its binary row
// (lib/ast/skeleton_binary.hpp) decodes to the same JSON. And the incremental parse
// (ast::ParseMemo) is differential-checked: the input with a slice cut out (where and how long
// chosen from its first bytes) is parsed first and kept, then the input itself is parsed from
// that kept parse — reusing its identifier table and the top-level definitions the edit left
// alone — and must give the fresh parse's skeleton and identifier table exactly.
#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ast/skeleton.hpp"
#include "ast/skeleton_binary.hpp"
#include "lang/python/extractor.hpp"

using namespace trifecta::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto skeleton = ast::extract_skeleton(source);
  if (skeleton) {
    (void)ast::render(*skeleton);
    const boost::json::value json = ast::to_json(*skeleton);
    auto from_json = ast::skeleton_from_json(json);
    if (!from_json) std::abort();
    auto decoded = ast::decode_skeleton(ast::encode_skeleton(*skeleton));
    if (!decoded || ast::to_json(*decoded) != json) std::abort();
  }
  // The incremental parse: the text before the edit is `source` less [at, at + cut).
  if (size < 3) return 0;
  const std::size_t at = (static_cast<std::size_t>(data[0]) << 8 | data[1]) % size;
  const std::size_t cut = std::min<std::size_t>(size - at, 1 + data[2] % 64);
  const std::string before =
      std::string(source.substr(0, at)) + std::string(source.substr(at + cut));
  ast::ParseMemo memo;
  if (!ast::extract_skeleton(before, memo)) return 0;  // nothing kept: the next parse is fresh
  auto incremental = ast::extract_skeleton(source, memo);
  if (static_cast<bool>(incremental) != static_cast<bool>(skeleton)) std::abort();
  if (skeleton && (ast::to_json(*incremental) != ast::to_json(*skeleton) ||
                   !(incremental->identifiers == skeleton->identifiers)))
    std::abort();
  return 0;
}
