#include "lsp/server.hpp"

#include <algorithm>
#include <cctype>

namespace trifecta::core::lsp {

bool parse_enabled(std::string_view value) {
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return !(v == "false" || v == "0" || v == "no" || v == "off");
}

}  // namespace trifecta::core::lsp
