#include "trifecta/proto/catalog.hpp"

namespace trifecta::proto {

namespace {

template <class P, class R>
MethodInfo row(MethodSpec<P, R> s, std::string_view summary, bool needs_segment, bool may_wait,
               bool debug_only = false) {
  MethodInfo m;
  m.name = s.name;
  m.summary = summary;
  m.needs_segment = needs_segment;
  m.may_wait = may_wait;
  m.debug_only = debug_only;
  m.params = fields_of<P>();
  m.result = fields_of<R>();
  m.check_result = [](const json::value& v) -> std::optional<std::string> {
    R r;
    return decode(v, r);
  };
  m.check_params = [](const json::object& v) -> std::optional<std::string> {
    P p;
    return parse(v, p);
  };
  return m;
}

std::vector<MethodInfo> build() {
  std::vector<MethodInfo> t;
  t.push_back(row(spec::kHello, "Handshake: check the protocol version, list the methods served", false, false));
  t.push_back(row(spec::kPing, "Liveness check", false, false));
  t.push_back(row(spec::kStatus, "Daemon status: process, connections, open segments, telemetry", false, false));
  t.push_back(row(spec::kShutdown, "Stop the daemon after the requests in flight", false, false));
  t.push_back(row(spec::kSegmentClose, "Close an open segment: stop its Pyright, save its index, forget it", false, false));
  t.push_back(row(spec::kDebugSleep, "Answer after a delay without holding a worker (tests)", false, false, true));
  t.push_back(row(spec::kAstSkeleton, "Skeleton of a Python file: signatures, docstrings, imports", true, false));
  t.push_back(row(spec::kAstSymbols, "Flat list of a Python file's definitions and constants", true, false));
  t.push_back(row(spec::kSymResolve, "Resolve a sym:// URI to its definition", true, false));
  t.push_back(row(spec::kSymSearch, "Definitions by name across the segment (exact, prefix, fuzzy)", true, false));
  t.push_back(row(spec::kCtxBuild, "Build (or rebuild) the segment's lexical index; progress notifications", true, true));
  t.push_back(row(spec::kCtxSearch, "Search the lexical index (BM25) for chunks", true, true));
  t.push_back(row(spec::kCtxGet, "Disclose chunks by id or sym:// URI within a token budget", true, true));
  t.push_back(row(spec::kCtxStatus, "Index status and last build report", true, false));
  t.push_back(row(spec::kCtxValidate, "Check the index against the disk", true, true));
  t.push_back(row(spec::kCtxMap, "Ranked overview of a tree or folder: its most central files' top symbols", true, true));
  t.push_back(row(spec::kLspStatus, "Language server state for the segment", true, false));
  t.push_back(row(spec::kLspRestart, "Restart the segment's language server now (backoff reset)", true, false));
  t.push_back(row(spec::kLspDefinition, "Go to definition (Pyright, or the AST fallback)", true, true));
  t.push_back(row(spec::kLspHover, "Hover text at a position (Pyright, or the AST fallback)", true, true));
  t.push_back(row(spec::kLspReferences, "References to the symbol at a position", true, true));
  t.push_back(row(spec::kLspDiagnostics, "Diagnostics of a file (Pyright, or syntax errors)", true, true));
  t.push_back(row(spec::kLspCalls, "Call hierarchy of the function at a position (Pyright when READY, else the AST)", true, false));
  return t;
}

json::value fields_json(const std::vector<FieldInfo>& fs) {
  json::array a;
  for (const auto& f : fs) {
    json::object o{{"name", f.name}, {"type", f.type}, {"required", f.required}, {"description", f.description}};
    if (!f.required) o["default"] = f.default_value;
    if (f.nullable) o["nullable"] = true;
    a.push_back(std::move(o));
  }
  return a;
}

}  // namespace

std::span<const MethodInfo> catalog() {
  static const std::vector<MethodInfo> table = build();
  return table;
}

const MethodInfo* find_method(std::string_view name) {
  for (const auto& m : catalog()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

json::value describe_method(const MethodInfo& m) {
  return json::object{{"name", m.name},
                      {"summary", m.summary},
                      {"needs_segment", m.needs_segment},
                      {"may_wait", m.may_wait},
                      {"debug_only", m.debug_only},
                      {"params", fields_json(m.params)},
                      {"result", fields_json(m.result)}};
}

}  // namespace trifecta::proto
