// lang/python/navigation.hpp — the Python AST fallback: what the daemon answers for definition, hover,
// references and diagnostics while Pyright is not READY (issue 6). Replies use lib/text's
// Location / HoverInfo / Diagnostic (the LSP client's too) so they look the same whichever backend answered.
//
// Positions and columns: input `text::Position` and every output column are 1-based and count
// code points (the text::Position convention); tree-sitter's byte columns are converted with the
// line's text. Paths are segment-relative ('/' separators). `text` is the current content of
// `rel` (what the question is about); other files are read through `index.content` and their
// skeletons through `source.skeleton`.
//
// definition — rules, tried in this order (docs/navigation.md has the details and the limits):
//   "declaration" the cursor is on a def/class name or a parameter: that name itself;
//   "import"      the cursor is in an import statement: the module, or the imported name in it;
//   "keyword"     `f(k=...)` with the cursor on `k`: the parameter `k` of `f` (a class: __init__);
//   "local"       a binding of the enclosing function/lambda/comprehension scopes (parameters,
//                 assignments, for/with/except targets, nested defs, function-level imports),
//                 walking outwards; class bodies count only for code directly in them;
//   "module"      a module-level binding of the same file (defs, assignments, imports followed to
//                 their target — through at most kMaxImportHops re-export hops — and one hop of
//                 `from m import *`);
//   "attribute"   `x.name`: `x` evaluated to a module (import), a class, or an instance (`self`,
//                 `cls`, `super()`, `v = Cls(...)`, `p: Cls`), then the member looked up in the
//                 module / the class, its class attributes, its `self.name = ...` assignments and
//                 its base classes found in the segment (depth-first, bounded);
//   "builtin"     a Python builtin not shadowed anywhere: empty result, reason says so;
//   "index"       last resort: `index.definitions_named(name)`, ranked same file > modules the
//                 file imports > same package > elsewhere (then methods/attributes first after a
//                 dot), at most NavOptions::max_index_results.
// A rule that finds nothing yields to the next; an identifier that no rule resolves gives an
// empty result with rule "none" and a reason.
//
// Failure behaviour: errors are values. kInvalidArgument when `pos.line` is outside `text`;
// kUnavailable when the tree-sitter runtime is unusable. "No identifier at the position" is not an
// error: an empty result with a reason. Files that cannot be read or parsed are skipped.
//
// Thread rules: all functions are thread-safe provided `source` and `index` are (FsSegmentSource
// and SkeletonSymbolIndex are). Each thread keeps its own parser and a small cache of recently
// parsed trees (syntax.hpp); nothing is shared between calls otherwise.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lang/python/symbol_index.hpp"
#include "selector/resolver.hpp"
#include "text/location.hpp"
#include "util/result.hpp"

namespace trifecta::core::navigation {

inline constexpr int kMaxImportHops = 3;
inline constexpr std::string_view kDiagnosticSource = "trifecta-ast";

struct Target {
  text::Location location;  // the defining name (a module: 1:1-1:1 of its file)
  std::string kind;        // class | function | method | variable | constant | attribute | parameter | module
  std::string name;
  std::string qualname;    // "JSONDecoder.decode"; a module's dotted name; "" for locals
  std::string signature;   // functions/classes as in ast::Definition; variables ": annot" / "= value"
  std::string docstring;   // first line, "" if none or unknown
};

struct DefinitionResult {
  std::string name;             // the identifier under the cursor ("" when there is none)
  std::string rule;             // declaration|import|keyword|local|module|attribute|builtin|index|none
  std::string reason;           // why the result is empty, or what was approximated
  std::vector<Target> targets;  // best first
  std::vector<text::Location> locations() const;
};

struct NavOptions {
  std::size_t max_index_results = 20;
  // Where absolute imports are looked up (the module rule, lang/python/modules.hpp: `a/b.py`,
  // then `a/b/__init__.py`, root by root; the first hit wins). Also the roots removed from a
  // file's path to name its module.
  std::vector<std::string> source_roots{"", "src"};
  // A package-root segment's package ("django"; lang/python/layout.hpp): `import django.db.x`
  // is looked up as `db/x` under the root. "" = none.
  std::string package_prefix;
  // references(): a superset of the files whose text contains `name` as a whole word (e.g. from
  // the lexical index's postings), so only those are read; nullopt (or no function) = unknown,
  // every file of `index.files()` is read. Files it lists outside `index.files()` are ignored.
  std::function<std::optional<std::vector<std::string>>(std::string_view name)> candidate_files;
  // references(): read other files' identifier-occurrence tables (SymbolIndex::identifier_table)
  // instead of reading and parsing them; files without a table are parsed as before. false =
  // always parse (the pre-table path, kept as the benchmark's same-run baseline).
  bool occurrence_table = true;
};

Result<DefinitionResult> definition(selector::SegmentSource& source, const SymbolIndex& index,
                                    std::string_view rel, std::string_view text, text::Position pos,
                                    const NavOptions& options = {});

struct HoverResult {
  std::optional<text::HoverInfo> hover;  // nullopt when the definition found nothing
  std::string rule;                     // as DefinitionResult::rule
  std::string reason;
};

// The definition's first target rendered like Pyright's hover (markdown):
//   ```python\n(method) def decode(self, s, _w=WHITESPACE.match)\n```\n---\nReturn the Python...
// `range` = the identifier under the cursor. Errors: as definition().
Result<HoverResult> hover(selector::SegmentSource& source, const SymbolIndex& index, std::string_view rel,
                          std::string_view text, text::Position pos, const NavOptions& options = {});

// Pure formatting of one target (what hover() puts in the code block and below it).
std::string hover_markdown(const Target& target);

struct ReferencesResult {
  std::string name;
  std::vector<text::Location> locations;  // current file first, then files in index order
  bool truncated = false;                // stopped at `limit`
  std::size_t candidate_files = 0;       // files where the name occurs (as an identifier in a
                                         // table, as a whole word in a text that was read)
  std::size_t files_scanned = 0;         // files looked at (table looked up or text read)
  std::size_t from_table = 0;            // candidate files answered from their occurrence table
  bool narrowed = false;                 // options.candidate_files limited the files read
};

// Name-based references: every `identifier` node whose text is the name under the cursor, in
// `rel` (from `text`) and in every file of `index.files()` whose text contains the name as a whole
// word (strings and comments never match: they hold no identifier nodes); with
// `options.candidate_files`, only the files it names are read. Other files are answered from
// their identifier-occurrence table when the index has one (`options.occurrence_table`, the
// default: no read, no parse — the same locations, since the table holds the identifier nodes of
// the same parse), and read and parsed otherwise. Without
// `include_declaration`, the locations of definition()'s targets are left out. At most `limit`
// locations (`truncated` says when more existed). Errors: as definition().
Result<ReferencesResult> references(selector::SegmentSource& source, const SymbolIndex& index,
                                    std::string_view rel, std::string_view text, text::Position pos,
                                    bool include_declaration, std::size_t limit = 1000,
                                    const NavOptions& options = {});

// Syntax errors of `text`: one Diagnostic per outermost ERROR node ("Syntax error") and per
// MISSING node ("Missing ')'"), severity "error", source "trifecta-ast", in source order, at most
// `limit`. Errors: kUnavailable (tree-sitter runtime).
Result<std::vector<text::Diagnostic>> diagnostics(std::string_view text, std::size_t limit = 100);

}  // namespace trifecta::core::navigation
