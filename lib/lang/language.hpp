// lang/language.hpp — the language seam: what a language provides, and which language handles
// a path.
//
// A `Language` is a static description: its name (also the sym:// scheme segment,
// `sym://python/…`), the file suffixes it claims, the LSP `languageId`, how to find its language
// server and its default settings, its skeleton extractor and its module <-> file rule. The
// registry holds one language today (Python, lib/lang/python/); docs/languages.md says what a
// second one (TypeScript) adds. Code that asks "which language handles this file" asks
// `language_for_path`, never a suffix.
//
// Failure behaviour: `language_for_path` returns nullptr for a path no language claims (the file
// is still indexed as text; it gets no skeleton, no LSP and no fallback navigation).
//
// Thread rules: the registry is immutable (built on first use, thread-safe static init); every
// function and every function pointer in a Language is safe from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ast/skeleton.hpp"
#include "lang/python/modules.hpp"
#include "lang/python/pyright.hpp"
#include "util/result.hpp"

namespace trifecta::core::lang {

struct Language {
  std::string_view name;                       // "python": registry key, sym://<name>/, telemetry
  std::span<const std::string_view> suffixes;  // claimed file suffixes, e.g. ".py"
  std::string_view lsp_language_id;            // textDocument/didOpen `languageId`

  // The language server to run (errors as python::discover_server; the inputs are Pyright's
  // today, lib/lang/python/pyright.hpp) and the workspace/configuration answers it gets unless
  // the caller set them (lsp::ClientOptions::settings).
  Result<lsp::ServerBinary> (*discover_server)(const python::DiscoveryInputs& inputs);
  boost::json::object (*default_settings)(const lsp::ServerBinary& server);
  // Source bytes → skeleton (errors: only the parser runtime, as ast::extract_skeleton).
  Result<ast::Skeleton> (*extract_skeleton)(std::string_view source);

  // The module rule (python::module_of / candidate_files / is_package_init for Python).
  std::string (*module_of)(std::string_view relpath, const std::vector<std::string>& source_roots);
  std::vector<python::ModuleFile> (*candidate_files)(std::string_view module,
                                                     const std::vector<std::string>& source_roots);
  bool (*is_package_init)(std::string_view relpath);

  bool claims(std::string_view path) const;
};

// Every registered language, in registry order.
std::span<const Language> languages();

// The language whose suffix ends `path` (relative or absolute; the name must be longer than the
// suffix), or nullptr.
const Language* language_for_path(std::string_view path);

// The language registered under `name` ("python"), or nullptr.
const Language* language_named(std::string_view name);

// The Python entry of the registry.
const Language& python_language();

}  // namespace trifecta::core::lang
