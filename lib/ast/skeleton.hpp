// ast/skeleton.hpp — the skeleton of one Python file: its data model, its JSON mapping and its
// compact Python-like rendering (the `skeleton` disclosure mode).
//
// A Skeleton is derived from file *content* only (never from its path), so one cached skeleton
// serves every file with the same bytes. Conventions (see docs/skeleton.md):
//  * Lines are 1-based. Columns are 0-based UTF-8 byte offsets into the (decoded) line, like
//    Python's `ast` col_offset and tree-sitter's points; a tab counts as one column. LSP clients
//    must convert to UTF-16 themselves.
//  * A definition's `line`/`end_line` span the `def`/`class` keyword (or `async`) to the last
//    line of its body, like Python's ast; `decorated_line` is the first decorator's line
//    (== `line` without decorators).
//  * Qualified names follow Python's __qualname__: `Outer.Inner.method`, and a definition nested
//    in a function is `func.<locals>.helper`.
//  * `conditional` marks a definition (or import/constant) that sits inside an if/try/with/for/
//    while/match block of its scope rather than directly in it.
//
// Failure behaviour: `skeleton_from_json` returns kParse for a malformed document (used to
// detect bad cache rows); everything else is total.
//
// Thread rules: plain values and pure functions; safe from any thread.
#pragma once

#include <boost/json/fwd.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace trifecta::core::ast {

namespace json = boost::json;

// Bump whenever extraction, the data model or the default rendering changes: it is part of every
// cache key, so old cache rows (which store the rendered size) simply stop matching.
inline constexpr std::string_view kExtractorVersion = "ts-py-0.23.6/skel-7";

enum class DefKind { kClass, kFunction, kMethod };
std::string_view def_kind_name(DefKind k) noexcept;  // "class" | "function" | "method"

enum class ParseStatus { kOk, kPartial };
std::string_view parse_status_name(ParseStatus s) noexcept;  // "ok" | "partial"

struct ImportName {
  std::string name;   // "path", "*" for a wildcard
  std::string alias;  // "" when there is no `as`
};

// `import a.b as c`  -> {module "a.b", names {}, alias "c", level 0, from false}
// `from ..x import y as z` -> {module "x", names {{"y","z"}}, level 2, from true}
struct Import {
  std::string module;
  std::vector<ImportName> names;
  std::string alias;
  int level = 0;
  bool is_from = false;
  bool conditional = false;
  int line = 0;
};

// A module-level constant (UPPER_CASE name, or a PEP 695 `type` alias) or a class attribute.
struct Variable {
  std::string name;
  std::string annotation;  // "" if none; "type" for a `type X = ...` alias
  std::string value;       // source text, whitespace-collapsed, truncated to 80 bytes + "..."
  bool conditional = false;
  int line = 0;
};

struct Definition {
  DefKind kind = DefKind::kFunction;
  std::string name;
  std::string qualname;
  bool is_async = false;
  std::vector<std::string> decorators;  // expression text without '@', whitespace-collapsed
  // Functions: type parameters, parameters and return annotation exactly as written, with
  // comments removed and each newline-containing whitespace run collapsed to one space:
  // "[T](self, x: T = 1, *args) -> list[T]". Classes: "[T](Base, metaclass=M)" or "".
  std::string signature;
  std::vector<std::string> bases;  // classes: each superclass/keyword argument's text
  std::string docstring;           // first docstring line, stripped (docs/skeleton.md); "" if none
  int line = 0, column = 0;        // `def`/`class`/`async` keyword
  int end_line = 0, end_column = 0;
  int decorated_line = 0;
  bool conditional = false;
  std::vector<Variable> attributes;   // classes: class-level assignments / annotations
  std::vector<Definition> children;   // nested definitions (methods, inner classes, locals)
};

struct SyntaxIssue {
  std::string kind;  // "error" (unparseable region) or "missing" (token the parser inserted)
  int line = 0, column = 0;
  int end_line = 0;
};

// The identifier-occurrence table of one file (issue 13): every `identifier` node of the file's
// one full parse (the tree the extractor starts from, before any error salvage), grouped by name.
// This is what name-based references read instead of parsing the file again. Unlike the rest of
// the skeleton, positions here use the text::Location convention — 1-based line, 1-based
// code-point column of the name's first character — so a reference is built without the file's
// text. When the file had a UTF-8 BOM, line-1 columns count it (as a parse of the text that keeps
// the BOM does). Strings and comments hold no identifier nodes, so they never appear.
// Not part of the JSON mapping (the wire and golden format); persisted in the binary row.
struct Occurrence {
  std::int32_t line = 0;
  std::int32_t column = 0;
  bool operator==(const Occurrence&) const = default;
};

struct IdentifierTable {
  std::vector<std::string> names;        // sorted, unique
  std::vector<std::uint32_t> starts;     // names.size() + 1 offsets into `occurrences` ({} when empty)
  std::vector<Occurrence> occurrences;   // grouped by name (in `names` order), each group in source order
  bool built = false;                    // false: no table (a skeleton from JSON, or built without one)

  // The occurrences of `name` (empty span when it does not occur).
  std::span<const Occurrence> find(std::string_view name) const;
  // The occurrences of names[i] (empty span when the offsets are inconsistent).
  std::span<const Occurrence> group(std::size_t i) const;
  std::size_t memory_bytes() const;  // approximate heap bytes
  bool operator==(const IdentifierTable&) const = default;
};

struct Skeleton {
  ParseStatus status = ParseStatus::kOk;
  std::string docstring;  // module docstring, first line (past a dotted-name RST title)
  std::vector<Import> imports;
  std::vector<Variable> constants;
  std::optional<std::vector<std::string>> all;  // __all__ when it is a literal list/tuple
  std::vector<Definition> definitions;          // top-level, each with its nested children
  std::vector<SyntaxIssue> syntax_issues;       // first kMaxSyntaxIssues, in source order
  std::size_t syntax_issue_count = 0;           // all of them
  // How the bytes were read (util/utf8.hpp decode_source): "utf-8", or "latin-1" / "cp1252" when
  // the file is not valid UTF-8 and declares that codec in a PEP 263 coding line. Otherwise each
  // invalid sequence is replaced by U+FFFD (`decoding_replaced`; `replaced_bytes` counts the
  // invalid bytes); columns then count the 3-byte replacement.
  std::string encoding = "utf-8";
  bool decoding_replaced = false;
  std::size_t replaced_bytes = 0;
  bool had_bom = false;            // a UTF-8 BOM was stripped (line-1 columns exclude it)
  std::size_t source_bytes = 0;    // size of the original content
  int line_count = 0;
  std::string extractor_version{kExtractorVersion};
  IdentifierTable identifiers;     // see IdentifierTable (not in the JSON mapping)

  static constexpr std::size_t kMaxSyntaxIssues = 20;
};

// Visit every definition depth-first in source order (parents before children).
void for_each_definition(const Skeleton& s, const std::function<void(const Definition&)>& fn);
std::size_t count_definitions(const Skeleton& s, DefKind kind);  // at every depth

// ---- JSON ---------------------------------------------------------------------------------
void tag_invoke(json::value_from_tag, json::value& v, const ImportName& x);
void tag_invoke(json::value_from_tag, json::value& v, const Import& x);
void tag_invoke(json::value_from_tag, json::value& v, const Variable& x);
void tag_invoke(json::value_from_tag, json::value& v, const Definition& x);
void tag_invoke(json::value_from_tag, json::value& v, const SyntaxIssue& x);
void tag_invoke(json::value_from_tag, json::value& v, const Skeleton& x);

json::value to_json(const Skeleton& s);
// Inverse of to_json. Errors: kParse naming the first bad field.
Result<Skeleton> skeleton_from_json(const json::value& v);

// ---- Rendering ------------------------------------------------------------------------------
struct RenderOptions {
  // Append "  # L12-40" (first decorator line - end line; "  # L12" for a one-line definition)
  // to definition lines: the anchors a reader uses to ask for an excerpt or the raw text.
  bool line_numbers = false;
  // With line_numbers: the definitions that get a marker (all when empty). ctx.get leaves out the
  // chunk's own definition and enclosing ones shown only as context (the reply states those).
  std::function<bool(const Definition&)> number_if = nullptr;
  bool imports = true;
  bool constants = true;       // module constants, __all__ and class attributes
  bool nested_functions = true;  // definitions inside function bodies
  std::size_t max_value_bytes = 60;  // constant/attribute values longer than this end in "..."
};

// A compact, Python-like outline: module docstring, imports (consecutive `import a` / `from m
// import x` of the same module merged into one line), __all__, constants, then definitions with
// decorators, signatures, the first docstring line and `...` bodies, nested by 2 spaces per level.
std::string render(const Skeleton& s, const RenderOptions& options = {});
// render(s, options).size(), without building the text.
std::size_t rendered_size(const Skeleton& s, const RenderOptions& options = {});

// skeleton bytes / source bytes (0 for an empty source).
double reduction_ratio(std::size_t skeleton_bytes, std::size_t source_bytes);

}  // namespace trifecta::core::ast
