// service/nav_merge.hpp — how Pyright's answer and the AST fallback's answer are combined for
// lsp.definition, lsp.hover and lsp.references when Pyright is READY (issue 13). Pure functions
// over values: service_lsp.cpp asks both sides and calls these; docs/navigation.md ("Merged
// answers") states the same rules for users.
//
// Definition. Pyright's answer is classified (`classify_lsp`): `located` (at least one location
// inside the segment), `external` (only outside: builtins, typeshed, site-packages) or `empty`.
// Only when it is not `located` is the AST asked; `merge_definitions` then labels every location
// with its source (`lsp` | `ast`) and a confidence in [0, 1] and orders them, best first:
//   lsp inside the segment 0.90 | AST declaration 0.95, import/local/module 0.90, keyword 0.85,
//   attribute (receiver evaluated to a module/class/instance) 0.75 | AST index (name-only guess)
//   0.55 when its target is a method/attribute in the file asked about (a method of the same
//   module beats a type Pyright inferred on untyped code, e.g. `hasher.encode` → str.encode),
//   else 0.40 | lsp outside the segment 0.50 (so `items.extend` stays list.extend although the
//   tree defines some other `extend`).
// Each further target of the same AST rule loses 0.01 per rank. Ties keep Pyright first. A
// location both sides gave appears once, as `lsp`, with the higher confidence.
//
// Hover. A Pyright hover whose type is exactly `Unknown` (`(function) apply: Unknown`) is not an
// answer (`hover_is_unknown`); then, or when Pyright has none, the AST hover is asked.
//
// References. `merge_references`: Pyright's locations are `confirmed` (confidence 1.0, Pyright's
// order); every AST/lexical location Pyright did not give is a `candidate`, classified by the
// caller (`CandidateClass`): the AST resolved the candidate to the queried definition or to a
// member of a class in the same hierarchy (0.70, `receiver_class` set) | unresolved receiver (0.40)
// | resolved to an unrelated definition — a different class outside the hierarchy, a local of
// the same name: FILTERED (left out, counted in `filtered`). Candidates keep the fallback's order
// within a class; confirmed ones come first.
//
// Thread rules: pure functions of their arguments; safe from any thread.
// Failure behaviour: total; no errors.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/python/navigation.hpp"
#include "text/location.hpp"

namespace trifecta::core::service {

enum class LspOutcome { kLocated, kExternal, kEmpty, kUnknown };
std::string_view outcome_name(LspOutcome o);  // located | external | empty | unknown

struct LabeledLocation {
  text::Location location;
  std::string source;          // lsp | ast
  double confidence = 0;       // 0..1
  std::string status;          // references: confirmed | candidate; definition: ""
  std::string receiver_class;  // references: the candidate's resolved class, "" when unknown
};

// located when any location is inside the segment, external when all are outside, else empty.
LspOutcome classify_lsp(const std::vector<text::Location>& lsp);

// The first line of the hover's code block has the type `Unknown` (after the last `: ` or `-> `
// at top level), e.g. "(function) apply: Unknown", "(variable) x: Unknown". `list[Unknown]` is a
// (partial) type, not Unknown. Empty contents are not "unknown" (they are empty).
bool hover_is_unknown(std::string_view contents);

// Confidence of the AST's target number `rank` (0-based) found by `rule`, `kind` its kind;
// `same_file`: the target is in the file asked about.
double ast_confidence(std::string_view rule, std::string_view kind, bool same_file,
                      std::size_t rank);

// The merged, ranked definition answer (see the header comment). `ast` may be null (not asked);
// `rel` is the file asked about (segment-relative).
std::vector<LabeledLocation> merge_definitions(const std::vector<text::Location>& lsp,
                                               const navigation::DefinitionResult* ast,
                                               std::string_view rel);

// How the caller classified one candidate (a location the AST found and Pyright did not).
struct CandidateClass {
  enum Kind { kRelated, kUnknown, kUnrelated } kind = kUnknown;
  std::string receiver_class;  // kRelated: the class it resolved to (may be "" for a module)
};

struct MergedReferences {
  std::vector<LabeledLocation> locations;  // confirmed first, then candidates (related, unknown)
  std::size_t confirmed = 0, candidates = 0, filtered = 0;
};

MergedReferences merge_references(
    const std::vector<text::Location>& lsp, const std::vector<text::Location>& ast,
    const std::function<CandidateClass(const text::Location&)>& classify);

// Class names from a class signature ("class A(B, mod.C, metaclass=M)" → {"B", "C"}): the last
// dotted component of each positional base; keyword arguments are left out.
std::vector<std::string> bases_of_signature(std::string_view signature);

// Is `a` the same class as `b`, or one an ancestor of the other? `bases(name)` gives the direct
// base class names of every class called `name` in the segment (union). Walks at most `depth`
// levels each way.
bool classes_related(const std::string& a, const std::string& b,
                     const std::function<std::vector<std::string>(const std::string&)>& bases,
                     int depth = 8);

}  // namespace trifecta::core::service
