// proto/sym.hpp — sym:// selector payloads: the one shape of a selector match (sym.resolve's
// result, its `related`, and the `candidates` of selector errors), sym.resolve itself, and the
// `error.data` of selector errors (INVALID_URI, FILE_NOT_FOUND, SYMBOL_NOT_FOUND,
// AMBIGUOUS_SYMBOL). Protocol 1.1 unified the match shape (docs/protocol.md).
//
// Thread rules: plain values. Decode with `decode(v, out)` (codec.hpp), never throws.
#pragma once

#include "trifecta/proto/codec.hpp"

namespace trifecta::proto {

// A symbol a sym:// URI resolved to (or could have: a candidate). All fields always present.
struct SymbolMatch {
  std::string file;  // relative to the segment root
  std::string module;
  std::string kind;  // class | function | method | constant | module
  std::string qualname;
  std::int64_t line = 0;
  std::int64_t end_line = 0;
  std::string signature;
  std::string docstring;
  bool conditional = false;  // defined under if/try
  bool partial = false;      // from a file that did not parse cleanly
  std::int64_t decorated_line = 0;  // first decorator's line; == line when undecorated (1.3)
};
template <class V>
void describe(V& v, SymbolMatch& s) {
  v.req("file", s.file, "file relative to the segment root");
  v.req("module", s.module, "dotted module name");
  v.req("kind", s.kind, "class | function | method | constant | module");
  v.req("qualname", s.qualname, "qualified name inside the module");
  v.req("line", s.line, "the def/class line, 1-based (decorators: decorated_line)");
  v.req("end_line", s.end_line, "last line");
  v.req("signature", s.signature, "signature text");
  v.req("docstring", s.docstring, "docstring (may be empty)");
  v.req("conditional", s.conditional, "defined under if/try");
  v.req("partial", s.partial, "from a file that did not parse cleanly");
  v.req("decorated_line", s.decorated_line, "first decorator's line; equals line when undecorated (1.3)");
}
constexpr std::string_view wire_name(const SymbolMatch*) { return "SymbolMatch"; }

struct SymResolveParams {
  std::string uri;
};
template <class V>
void describe(V& v, SymResolveParams& s) {
  v.req("uri", s.uri,
        "sym://python/<module>[/<qualname>] (docs/sym-uri.md), or a pytest node id "
        "(tests/test_x.py::TestA::test_b[p], 1.8)");
}

// The match's fields, flattened, plus the URI and related matches (e.g. a class's methods when
// the URI named a member path).
struct SymResolveResult : SymbolMatch {
  std::string uri;
  std::vector<SymbolMatch> related;
};
template <class V>
void describe(V& v, SymResolveResult& s) {
  describe(v, static_cast<SymbolMatch&>(s));
  v.req("uri", s.uri, "the URI as asked (a node id: its path segment-relative)");
  v.req("related", s.related, "further matches the URI names (may be empty)");
}

// `error.data` of a selector error (plus `name`, which every error carries).
struct SelectorErrorData {
  std::vector<std::string> tried;        // files looked at
  std::vector<std::string> suggestions;  // close names
  std::vector<SymbolMatch> candidates;   // AMBIGUOUS_SYMBOL: the definitions to choose from
  std::string name;                      // stable error name
};
template <class V>
void describe(V& v, SelectorErrorData& s) {
  v.req("tried", s.tried, "files looked at");
  v.req("suggestions", s.suggestions, "close names");
  v.req("candidates", s.candidates, "AMBIGUOUS_SYMBOL: the definitions to choose from");
  v.opt("name", s.name, "stable error name (added to every error's data)");
}
constexpr std::string_view wire_name(const SelectorErrorData*) { return "SelectorErrorData"; }

// sym.search (1.3): definitions by name across the segment, like an editor's symbol picker.
struct SymSearchParams {
  std::string query;
  std::string mode = "fuzzy";
  std::vector<std::string> kinds;
  std::int64_t limit = 20;
};
template <class V>
void describe(V& v, SymSearchParams& s) {
  v.req("query", s.query, "a name, a prefix or letters of it in order; `Outer.name` also matches the enclosing qualname");
  v.opt("mode", s.mode, "exact | prefix | fuzzy (default): each accepts the kinds of match of the one before");
  v.opt("kinds", s.kinds, "keep only these kinds: class, function, method, constant, attribute");
  v.opt("limit", s.limit, "at most this many matches, 1..1000 (default 20)");
}

// One definition found: the selector's match shape plus where the name is and how it matched.
struct SymSearchMatch : SymbolMatch {
  std::string name;
  std::string uri;
  std::int64_t column = 0;
  std::int64_t end_column = 0;
  std::string match;
  std::int64_t score = 0;
  std::string source;
};
template <class V>
void describe(V& v, SymSearchMatch& s) {
  describe(v, static_cast<SymbolMatch&>(s));
  v.req("name", s.name, "the definition's own name");
  v.req("uri", s.uri, "its sym:// URI (resolves with sym.resolve)");
  v.req("column", s.column, "1-based code-point column of the name on `line` (0: unknown)");
  v.req("end_column", s.end_column, "end of the name (exclusive)");
  v.req("match", s.match, "exact | exact-ci | prefix | prefix-ci | substring | fuzzy");
  v.req("score", s.score, "rank score, higher first (comparable within one answer)");
  v.req("source", s.source,
        "who found it: ast (the skeleton index) | lsp (Pyright's workspace/symbol only, after the "
        "ast matches; its uri and signature are empty) (1.3)");
}
constexpr std::string_view wire_name(const SymSearchMatch*) { return "SymSearchMatch"; }

struct SymSearchResult {
  std::string query;
  std::string mode;
  std::vector<SymSearchMatch> matches;
  std::int64_t total = 0;
  bool truncated = false;
  std::string backend;
  std::int64_t generation = 0;
  std::vector<std::string> backends;
  std::optional<std::string> lsp_state;
  std::optional<std::string> lsp_reason;
};
template <class V>
void describe(V& v, SymSearchResult& s) {
  v.req("query", s.query, "the query as asked");
  v.req("mode", s.mode, "the mode applied");
  v.req("matches", s.matches, "best first");
  v.req("total", s.total, "definitions that matched before the limit");
  v.req("truncated", s.truncated, "total > matches");
  v.req("backend", s.backend,
        "ast (the skeleton index, always available) | lsp+ast (Pyright's workspace/symbol added "
        "matches, 1.3)");
  v.req("generation", s.generation, "the segment's index generation when answered");
  v.opt("backends", s.backends,
        "who answered: [\"ast\"] or [\"ast\", \"lsp\"] (Pyright READY and answered) (1.3)");
  v.opt("lsp_state", s.lsp_state, "Pyright's state when asked (UNAVAILABLE: none) (1.3)");
  v.opt("lsp_reason", s.lsp_reason,
        "why Pyright was not asked or did not answer: lsp_unavailable | lsp_not_ready | "
        "lsp_error (1.3)");
}

}  // namespace trifecta::proto
