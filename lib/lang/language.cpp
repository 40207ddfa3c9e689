#include "lang/language.hpp"

#include <array>

#include "lang/python/extractor.hpp"
#include "lang/python/pyright.hpp"

namespace trifecta::core::lang {

namespace {

constexpr std::array<std::string_view, 1> kPythonSuffixes{python::kSourceSuffix};

// The registry: one line per language. `.pyi` stubs are not claimed: the fallback's symbol table,
// the LSP routing and the module rule have always been about `.py` sources only (the chunker still
// types stubs as Python code for the lexical index, index/chunk.cpp).
const std::array<Language, 1> kLanguages{{
    {"python", kPythonSuffixes, "python", &python::discover_server, &python::default_settings,
     &ast::extract_skeleton, &python::module_of, &python::candidate_files,
     &python::is_package_init},
}};

}  // namespace

bool Language::claims(std::string_view path) const {
  for (std::string_view s : suffixes) {
    if (path.size() > s.size() && path.ends_with(s)) return true;
  }
  return false;
}

std::span<const Language> languages() {
  return kLanguages;
}

const Language* language_for_path(std::string_view path) {
  for (const auto& l : kLanguages) {
    if (l.claims(path)) return &l;
  }
  return nullptr;
}

const Language* language_named(std::string_view name) {
  for (const auto& l : kLanguages) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

const Language& python_language() {
  return kLanguages[0];
}

}  // namespace trifecta::core::lang
