// fuzz_sym_uri — sym:// parsing (lib/selector/sym_uri.hpp) on arbitrary bytes: a typed
// SelectorError or a SymUri, and either converts to JSON. A parsed module/symbol URI rebuilt
// with make_sym_uri parses again to the same module and qualname. The same bytes as a pytest node
// id (resolver.hpp parse_node_id): a parsed one's file is the text's start and ends in ".py", and
// its qualified name is dotted identifiers, each of them in the text after the file.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "selector/resolver.hpp"
#include "selector/sym_uri.hpp"

using namespace trifecta::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto id = selector::parse_node_id(text)) {
    if (!text.starts_with(id->file) || !id->file.ends_with(".py") || id->qualname.empty())
      std::abort();
    const std::string_view rest = text.substr(id->file.size());
    for (std::size_t at = 0; at <= id->qualname.size();) {
      const std::size_t dot = std::min(id->qualname.find('.', at), id->qualname.size());
      const std::string_view part = std::string_view(id->qualname).substr(at, dot - at);
      if (!selector::is_identifier(part) || rest.find(part) == std::string_view::npos) std::abort();
      at = dot + 1;
    }
  }
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
