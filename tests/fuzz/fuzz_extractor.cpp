// fuzz_extractor — tree-sitter plus our walk (lib/lang/python/extractor.hpp extract_skeleton) on
// arbitrary bytes as a .py file: a Skeleton or a typed error (TOO_LARGE for deep nesting,
// TIMEOUT), never a crash. A skeleton renders, converts to JSON and back, and its binary row
// (lib/ast/skeleton_binary.hpp) decodes to the same JSON.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ast/skeleton.hpp"
#include "ast/skeleton_binary.hpp"
#include "lang/python/extractor.hpp"

using namespace trifecta::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto skeleton = ast::extract_skeleton(source);
  if (!skeleton) return 0;
  (void)ast::render(*skeleton);
  const boost::json::value json = ast::to_json(*skeleton);
  auto from_json = ast::skeleton_from_json(json);
  if (!from_json) std::abort();
  auto decoded = ast::decode_skeleton(ast::encode_skeleton(*skeleton));
  if (!decoded || ast::to_json(*decoded) != json) std::abort();
  return 0;
}
