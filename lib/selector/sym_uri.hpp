// selector/sym_uri.hpp — the sym:// symbol address: grammar, parser and the selector's error
// vocabulary. The grammar is specified in docs/sym-uri.md:
//
//   sym://python/<dotted.module>                          a module
//   sym://python/<dotted.module>/<Qualified.Name>         a symbol in it (class, function,
//                                                         method, constant, class attribute)
//   sym://python/mod/<path>                               legacy: a module by path or dotted name
//   sym://python/type/<path>#<member>                     legacy: a member of a type; <path> is the
//                                                         module path followed by the type name
//
// `mod` and `type` as the first segment always select the legacy forms.
//
// Failure behaviour: parse_sym_uri never throws; any malformed input is a SelectorError with code
// INVALID_URI and a message naming the offending part.
//
// Thread rules: plain values and pure functions.
#pragma once

#include <boost/json/fwd.hpp>
#include <boost/json/value.hpp>
#include <cassert>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.hpp"

namespace trifecta::core::selector {

namespace json = boost::json;

// ---- errors ----------------------------------------------------------------------------------

enum class SelectorErrc { kInvalidUri, kFileNotFound, kSymbolNotFound, kAmbiguousSymbol };
// The stable wire codes: "INVALID_URI", "FILE_NOT_FOUND", "SYMBOL_NOT_FOUND", "AMBIGUOUS_SYMBOL".
std::string_view selector_errc_name(SelectorErrc code) noexcept;

// One place a symbol (or module) was found.
struct Match {
  std::string file;       // segment-relative path
  std::string module;     // dotted module name
  std::string kind;       // module | class | function | method | constant | attribute
  std::string qualname;   // "" for a module
  int line = 0, end_line = 0;  // the `def`/`class` line (as Python's ast), the body's last line
  int decorated_line = 0;      // the first decorator's line; 0 or == line when undecorated
  std::string signature;  // functions/classes; "" otherwise
  std::string docstring;  // first line
  bool conditional = false;
  bool partial = false;   // the file has syntax errors (its skeleton is status `partial`)
};

struct SelectorError {
  SelectorErrc code = SelectorErrc::kInvalidUri;
  std::string message;                   // says what was tried
  std::vector<std::string> tried;        // files or names tried, in order
  std::vector<std::string> suggestions;  // near names as sym:// URIs (SYMBOL/FILE_NOT_FOUND)
  std::vector<Match> candidates;         // every candidate (AMBIGUOUS_SYMBOL)

  Errc errc() const noexcept;  // the lib/ error vocabulary equivalent
};

// Either a T or a SelectorError (richer than Error: candidates and suggestions).
template <class T>
class [[nodiscard]] SelectorResult {
 public:
  SelectorResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}           // NOLINT
  SelectorResult(SelectorError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const T& operator*() const& { return value(); }
  const SelectorError& error() const& { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, SelectorError> v_;
};

// ---- URIs ------------------------------------------------------------------------------------

enum class UriForm { kModule, kSymbol, kLegacyModule, kLegacyType };
std::string_view uri_form_name(UriForm f) noexcept;  // module | symbol | legacy_mod | legacy_type

struct SymUri {
  std::string raw;
  std::string language;             // "python"
  UriForm form = UriForm::kModule;
  std::string module;               // kModule/kSymbol: dotted module name
  std::string qualname;             // kSymbol: dotted qualified name
  // Legacy forms: the path's components ("pkg/mod.py/Type" -> pkg, mod, Type); which prefix is
  // the module is decided by the resolver against the files that exist.
  std::vector<std::string> path;
  std::string member;               // kLegacyType: after '#'
};

inline constexpr std::size_t kMaxUriBytes = 2048;

SelectorResult<SymUri> parse_sym_uri(std::string_view text);

// Canonical text of a module / symbol address.
std::string make_sym_uri(std::string_view module, std::string_view qualname = {});

// Python identifier (ASCII letters, digits, '_', and any non-ASCII byte; no leading digit).
bool is_identifier(std::string_view s) noexcept;

void tag_invoke(json::value_from_tag, json::value& v, const Match& m);
void tag_invoke(json::value_from_tag, json::value& v, const SelectorError& e);
void tag_invoke(json::value_from_tag, json::value& v, const SymUri& u);

}  // namespace trifecta::core::selector
