// fuzz_sym_uri — sym:// parsing (lib/selector/sym_uri.hpp) on arbitrary bytes: a typed
// SelectorError or a SymUri, and either converts to JSON. A parsed module/symbol URI rebuilt
// with make_sym_uri parses again to the same module and qualname.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "selector/sym_uri.hpp"

using namespace trifecta::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = selector::parse_sym_uri(text);
  if (!parsed) {
    (void)boost::json::value_from(parsed.error());
    return 0;
  }
  (void)boost::json::value_from(*parsed);
  const selector::SymUri& uri = *parsed;
  if (uri.form == selector::UriForm::kModule || uri.form == selector::UriForm::kSymbol) {
    const std::string again = selector::make_sym_uri(uri.module, uri.qualname);
    auto reparsed = selector::parse_sym_uri(again);
    if (!reparsed || reparsed->module != uri.module || reparsed->qualname != uri.qualname)
      std::abort();
  }
  return 0;
}
