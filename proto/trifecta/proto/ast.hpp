// proto/ast.hpp — payloads of ast.skeleton and ast.symbols, and the skeleton document (the JSON
// form lib/ast writes: optional members appear only when set, mirrored here by std::optional).
//
// Thread rules: plain values. Decode with `decode(v, out)` (codec.hpp), never throws.
#pragma once

#include "trifecta/proto/codec.hpp"

namespace trifecta::proto {

// ---- the skeleton document ------------------------------------------------------------------

struct SkeletonImportName {
  std::string name;
  std::optional<std::string> alias;
};
template <class V>
void describe(V& v, SkeletonImportName& s) {
  v.req("name", s.name, "imported name");
  v.opt("alias", s.alias, "`as` alias");
}
constexpr std::string_view wire_name(const SkeletonImportName*) { return "SkeletonImportName"; }

struct SkeletonImport {
  std::string module;
  std::optional<std::vector<SkeletonImportName>> names;  // `from` imports only
  std::optional<std::string> alias;
  std::int64_t level = 0;
  bool from = false;
  std::optional<bool> conditional;
  std::int64_t line = 0;
};
template <class V>
void describe(V& v, SkeletonImport& s) {
  v.req("module", s.module, "module imported (without leading dots)");
  v.opt("names", s.names, "`from` imports: the names");
  v.opt("alias", s.alias, "`import x as y`: y");
  v.req("level", s.level, "relative import level (leading dots)");
  v.req("from", s.from, "a `from` import");
  v.opt("conditional", s.conditional, "under if/try (present only when true)");
  v.req("line", s.line, "line");
}
constexpr std::string_view wire_name(const SkeletonImport*) { return "SkeletonImport"; }

struct SkeletonVariable {
  std::string name;
  std::optional<std::string> annotation;
  std::optional<std::string> value;
  std::optional<bool> conditional;
  std::int64_t line = 0;
};
template <class V>
void describe(V& v, SkeletonVariable& s) {
  v.req("name", s.name, "name");
  v.opt("annotation", s.annotation, "type annotation");
  v.opt("value", s.value, "value text (short values only)");
  v.opt("conditional", s.conditional, "under if/try (present only when true)");
  v.req("line", s.line, "line");
}
constexpr std::string_view wire_name(const SkeletonVariable*) { return "SkeletonVariable"; }

struct SkeletonDefinition {
  std::string kind;  // class | function | method
  std::string name;
  std::string qualname;
  std::optional<bool> async;
  std::optional<std::vector<std::string>> decorators;
  std::string signature;
  std::optional<std::vector<std::string>> bases;  // classes only
  std::optional<std::string> docstring;
  std::int64_t line = 0;
  std::int64_t column = 0;
  std::int64_t end_line = 0;
  std::int64_t end_column = 0;
  std::optional<std::int64_t> decorated_line;
  std::optional<bool> conditional;
  std::optional<std::vector<SkeletonVariable>> attributes;
  std::optional<std::vector<SkeletonDefinition>> children;
};
template <class V>
void describe(V& v, SkeletonDefinition& s) {
  v.req("kind", s.kind, "class | function | method");
  v.req("name", s.name, "name");
  v.req("qualname", s.qualname, "qualified name");
  v.opt("async", s.async, "async def (present only when true)");
  v.opt("decorators", s.decorators, "decorator texts");
  v.req("signature", s.signature, "signature text");
  v.opt("bases", s.bases, "classes: base class texts");
  v.opt("docstring", s.docstring, "docstring");
  v.req("line", s.line, "line of `def`/`class`");
  v.req("column", s.column, "column");
  v.req("end_line", s.end_line, "last line");
  v.req("end_column", s.end_column, "last column");
  v.opt("decorated_line", s.decorated_line, "first decorator's line, when decorated");
  v.opt("conditional", s.conditional, "under if/try (present only when true)");
  v.opt("attributes", s.attributes, "classes: attributes");
  v.opt("children", s.children, "nested definitions");
}
constexpr std::string_view wire_name(const SkeletonDefinition*) { return "SkeletonDefinition"; }

struct SkeletonSyntaxIssue {
  std::string kind;
  std::int64_t line = 0;
  std::int64_t column = 0;
  std::int64_t end_line = 0;
};
template <class V>
void describe(V& v, SkeletonSyntaxIssue& s) {
  v.req("kind", s.kind, "error | missing");
  v.req("line", s.line, "line");
  v.req("column", s.column, "column");
  v.req("end_line", s.end_line, "last line");
}
constexpr std::string_view wire_name(const SkeletonSyntaxIssue*) { return "SkeletonSyntaxIssue"; }

struct Skeleton {
  std::string status;  // ok | partial | ...
  std::string extractor_version;
  std::int64_t source_bytes = 0;
  std::int64_t line_count = 0;
  std::optional<bool> decoding_replaced;
  std::optional<std::int64_t> replaced_bytes;
  std::optional<std::string> encoding;
  std::optional<bool> bom;
  std::optional<std::string> docstring;
  std::vector<SkeletonImport> imports;
  std::vector<SkeletonVariable> constants;
  std::optional<std::vector<std::string>> all;
  std::vector<SkeletonDefinition> definitions;
  std::optional<std::vector<SkeletonSyntaxIssue>> syntax_issues;
  std::optional<std::int64_t> syntax_issue_count;
};
template <class V>
void describe(V& v, Skeleton& s) {
  v.req("status", s.status, "parse status");
  v.req("extractor_version", s.extractor_version, "version of the extractor");
  v.req("source_bytes", s.source_bytes, "size of the source");
  v.req("line_count", s.line_count, "lines in the source");
  v.opt("decoding_replaced", s.decoding_replaced, "invalid UTF-8 was replaced");
  v.opt("replaced_bytes", s.replaced_bytes, "bytes replaced");
  v.opt("encoding", s.encoding, "declared encoding when not utf-8");
  v.opt("bom", s.bom, "the file starts with a BOM");
  v.opt("docstring", s.docstring, "module docstring");
  v.req("imports", s.imports, "imports");
  v.req("constants", s.constants, "module-level assignments");
  v.opt("all", s.all, "__all__, when literal");
  v.req("definitions", s.definitions, "top-level definitions");
  v.opt("syntax_issues", s.syntax_issues, "syntax errors found (first ones)");
  v.opt("syntax_issue_count", s.syntax_issue_count, "syntax errors found (all)");
}
constexpr std::string_view wire_name(const Skeleton*) { return "Skeleton"; }

// ---- ast.skeleton ---------------------------------------------------------------------------

struct AstSkeletonParams {
  std::string path;  // relative or absolute path inside the segment, or a sym:// URI
  std::string format = "both";
  bool line_numbers = false;
};
template <class V>
void describe(V& v, AstSkeletonParams& s) {
  v.req("path", s.path, "a Python file of the segment (relative, absolute inside it, or a sym:// URI)");
  v.opt("format", s.format, "text | json | both");
  v.opt("line_numbers", s.line_numbers, "prefix rendered lines with their numbers");
}

struct AstSkeletonResult {
  std::string file;  // relative to the segment root
  std::string status;
  bool cache_hit = false;
  std::int64_t source_bytes = 0;
  std::int64_t skeleton_bytes = 0;
  double reduction_ratio = 0;
  std::string content_key;
  std::optional<std::string> rendered;  // format text | both
  std::optional<Skeleton> skeleton;     // format json | both
  std::optional<std::int64_t> generation;  // the segment's index generation when answered (1.2)
};
template <class V>
void describe(V& v, AstSkeletonResult& s) {
  v.req("file", s.file, "file relative to the segment root");
  v.req("status", s.status, "parse status");
  v.req("cache_hit", s.cache_hit, "served from the skeleton cache");
  v.req("source_bytes", s.source_bytes, "size of the source");
  v.req("skeleton_bytes", s.skeleton_bytes, "size of the rendered skeleton");
  v.req("reduction_ratio", s.reduction_ratio, "skeleton_bytes / source_bytes");
  v.req("content_key", s.content_key, "cache key (content hash and extractor version)");
  v.opt("rendered", s.rendered, "format text|both: the rendered skeleton");
  v.opt("skeleton", s.skeleton, "format json|both: the skeleton document");
  v.opt("generation", s.generation, "the segment's index generation when answered (1.2)");
}

// ---- ast.symbols ----------------------------------------------------------------------------

struct AstSymbolsParams {
  std::string path;
};
template <class V>
void describe(V& v, AstSymbolsParams& s) {
  v.req("path", s.path, "a Python file of the segment (relative, absolute inside it, or a sym:// URI)");
}

struct SymbolInfo {
  std::string qualname;
  std::string name;
  std::string kind;
  std::int64_t line = 0;
  std::int64_t end_line = 0;
  std::string signature;
  std::string docstring;
  std::vector<std::string> decorators;
  bool async = false;
  bool conditional = false;
};
template <class V>
void describe(V& v, SymbolInfo& s) {
  v.req("qualname", s.qualname, "qualified name");
  v.req("name", s.name, "name");
  v.req("kind", s.kind, "class | function | method");
  v.req("line", s.line, "line");
  v.req("end_line", s.end_line, "last line");
  v.req("signature", s.signature, "signature text");
  v.req("docstring", s.docstring, "docstring (may be empty)");
  v.req("decorators", s.decorators, "decorator texts");
  v.req("async", s.async, "async def");
  v.req("conditional", s.conditional, "under if/try");
}
constexpr std::string_view wire_name(const SymbolInfo*) { return "SymbolInfo"; }

struct ConstantInfo {
  std::string name;
  std::int64_t line = 0;
  std::string annotation;
  bool conditional = false;
};
template <class V>
void describe(V& v, ConstantInfo& s) {
  v.req("name", s.name, "name");
  v.req("line", s.line, "line");
  v.req("annotation", s.annotation, "type annotation (may be empty)");
  v.req("conditional", s.conditional, "under if/try");
}
constexpr std::string_view wire_name(const ConstantInfo*) { return "ConstantInfo"; }

struct AstSymbolsResult {
  std::string file;
  std::string status;
  std::int64_t count = 0;  // symbols.size()
  std::vector<SymbolInfo> symbols;
  std::vector<ConstantInfo> constants;
  std::optional<std::int64_t> generation;  // the segment's index generation when answered (1.2)
};
template <class V>
void describe(V& v, AstSymbolsResult& s) {
  v.req("file", s.file, "file relative to the segment root");
  v.req("status", s.status, "parse status");
  v.req("count", s.count, "number of symbols");
  v.req("symbols", s.symbols, "every definition, depth first");
  v.req("constants", s.constants, "module-level assignments");
  v.opt("generation", s.generation, "the segment's index generation when answered (1.2)");
}

}  // namespace trifecta::proto
