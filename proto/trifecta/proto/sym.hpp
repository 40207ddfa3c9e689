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
  v.req("uri", s.uri, "sym://python/<module>[/<qualname>] (docs/sym-uri.md)");
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
  v.req("uri", s.uri, "the URI as asked");
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

}  // namespace trifecta::proto
