// client/mcp/tools.cpp — the tool table and what each tool asks the daemon (see tools.hpp).
#include "tools.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "budget.hpp"
#include "render.hpp"
#include "schema.hpp"
#include "trifecta/proto/catalog.hpp"

namespace trifecta::mcp {

namespace fs = std::filesystem;
namespace spec = proto::spec;

namespace {

// ---- arguments ------------------------------------------------------------------------------

// A bad tool argument: becomes an isError result with this message.
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A daemon failure: becomes an isError result with this text.
struct CallFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  Args(const json::object& a, std::initializer_list<std::string_view> known) : a_(a) {
    for (const auto& kv : a) {
      if (std::find(known.begin(), known.end(), kv.key()) == known.end()) {
        std::string list;
        for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        throw ArgError("unknown argument '" + std::string(kv.key()) +
                       "'; this tool takes: " + list);
      }
    }
  }
  bool has(std::string_view k) const {
    const auto* v = a_.if_contains(k);
    return v && !v->is_null();
  }
  std::string str(std::string_view k, bool required = false, std::string def = {}) const {
    const auto* v = a_.if_contains(k);
    if (!v || v->is_null()) {
      if (required) throw ArgError("missing required argument '" + std::string(k) + "'");
      return def;
    }
    if (!v->is_string()) throw ArgError("argument '" + std::string(k) + "' must be a string");
    std::string s(v->get_string());
    if (required && s.empty()) throw ArgError("argument '" + std::string(k) + "' is empty");
    return s;
  }
  std::string one_of(std::string_view k, std::initializer_list<std::string_view> allowed,
                     std::string def) const {
    std::string s = str(k, false, def);
    if (s.empty() && def.empty()) return s;
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      std::string list;
      for (const auto x : allowed) list += (list.empty() ? "" : " | ") + std::string(x);
      throw ArgError("argument '" + std::string(k) + "' must be one of " + list + ", got '" + s +
                     "'");
    }
    return s;
  }
  std::int64_t integer(std::string_view k, std::int64_t def, std::int64_t lo,
                       std::int64_t hi) const {
    const auto* v = a_.if_contains(k);
    if (!v || v->is_null()) return def;
    std::int64_t x = 0;
    if (v->is_int64()) {
      x = v->get_int64();
    } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(hi)) {
      x = static_cast<std::int64_t>(v->get_uint64());
    } else if (v->is_double() &&
               v->get_double() == static_cast<double>(static_cast<std::int64_t>(v->get_double()))) {
      x = static_cast<std::int64_t>(v->get_double());
    } else {
      throw ArgError("argument '" + std::string(k) + "' must be an integer");
    }
    if (x < lo || x > hi) {
      throw ArgError("argument '" + std::string(k) + "' must be in " + std::to_string(lo) + ".." +
                     std::to_string(hi) + ", got " + std::to_string(x));
    }
    return x;
  }
  bool boolean(std::string_view k, bool def) const {
    const auto* v = a_.if_contains(k);
    if (!v || v->is_null()) return def;
    if (!v->is_bool()) throw ArgError("argument '" + std::string(k) + "' must be true or false");
    return v->get_bool();
  }
  std::vector<std::string> strings(std::string_view k) const {
    std::vector<std::string> out;
    const auto* v = a_.if_contains(k);
    if (!v || v->is_null()) return out;
    if (v->is_string()) {  // one target given as a plain string: forgiven
      out.emplace_back(v->get_string());
      return out;
    }
    if (!v->is_array())
      throw ArgError("argument '" + std::string(k) + "' must be an array of strings");
    for (const auto& x : v->get_array()) {
      if (!x.is_string())
        throw ArgError("argument '" + std::string(k) + "' must be an array of strings");
      out.emplace_back(x.get_string());
    }
    return out;
  }
  std::size_t cursor() const {
    const std::string c = str("cursor");
    const auto v = parse_cursor(c);
    if (!v)
      throw ArgError("argument 'cursor' must be a `next_cursor` of an earlier answer, got '" + c +
                     "'");
    return *v;
  }

 private:
  const json::object& a_;
};

std::int64_t budget_arg(const Args& a, const ToolEnv& env) {
  return a.integer("budget", env.default_budget, kMinBudget, kMaxBudget);
}

// ---- daemon calls ---------------------------------------------------------------------------

template <class P, class R>
R call(ToolEnv& env, const proto::MethodSpec<P, R>& m, const P& params,
       const client::NotificationFn& notify = {}) {
  json::value pv = json::value_from(params);
  json::object& po = pv.as_object();
  const proto::MethodInfo* info = proto::find_method(m.name);
  if (info && info->needs_segment) po["segment"] = env.root;
  client::ClientError err;
  auto reply = env.call(m.name, po, &err, notify);
  if (!reply) {
    if (err.code == client::ClientErrc::kRemote && err.rpc) {
      std::string t = client::render_error(*err.rpc);
      if (t.rfind("trifecta: ", 0) == 0) t.erase(0, 10);
      throw CallFailed(t);
    }
    throw CallFailed("trifectad: " + err.message + (err.hint.empty() ? "" : " (" + err.hint + ")"));
  }
  auto out = client::decode_result<R>(reply->result, &err);
  if (!out) throw CallFailed(err.message);
  return std::move(*out);
}

// The index generation an answer was made at: the reply's own (protocol 1.2), else (an older
// daemon) one `ctx.status` call, which costs a round trip and a reply listing every skipped file.
std::int64_t index_generation(ToolEnv& env, std::optional<std::int64_t> from_reply) {
  if (from_reply) return *from_reply;
  return call(env, spec::kCtxStatus, {}).index.generation;
}

// `ctx.progress` params (the daemon's build progress notification).
struct BuildProgress {
  double done = 0;
  double total = 0;
};
template <class V>
void describe(V& v, BuildProgress& s) {
  v.opt("done", s.done, "files done");
  v.opt("total", s.total, "files to do");
}

// When the client wants progress and the index is not built yet, build it first with the
// daemon's progress forwarded (ctx.build joins a build already running).
void ensure_index(ToolEnv& env) {
  if (!env.progress) return;
  const auto st = call(env, spec::kCtxStatus, {});
  if (st.index.state == "ready") return;
  env.progress(0, 0, "indexing " + env.root);
  call(env, spec::kCtxBuild, {}, [&](const std::string& method, const json::object& p) {
    if (method != "ctx.progress") return;
    BuildProgress bp;
    if (proto::decode(json::value(p), bp, "params")) return;
    env.progress(bp.done, bp.total,
                 "indexing: " + std::to_string(static_cast<long long>(bp.done)) + "/" +
                     std::to_string(static_cast<long long>(bp.total)) + " files");
  });
}

// ---- results --------------------------------------------------------------------------------

template <class T>
json::object to_object(const T& v) {
  json::value x = proto::codec::encode_value(v);
  return std::move(x.as_object());
}

std::string footer(const json::object& s) {
  std::string f = "\n[root " + std::string(s.at("root").as_string()) + " · backend " +
                  std::string(s.at("backend").as_string()) + " · index generation " +
                  std::to_string(s.at("generation").as_int64()) + "]\n";
  const auto* next = s.if_contains("next_cursor");
  if (s.at("truncated").as_bool()) {
    f += "[cut to fit the budget of " + std::to_string(s.at("budget").as_int64()) + " tokens";
    f += next
             ? "; call again with cursor \"" + std::string(next->as_string()) + "\" for the rest]\n"
             : "]\n";
  } else if (next) {
    f += "[more results: call again with cursor \"" + std::string(next->as_string()) + "\"]\n";
  }
  return f;
}

void stamp(json::object& s, const ToolEnv& env, std::string_view backend, std::int64_t generation,
           std::int64_t budget) {
  s["root"] = env.root;
  s["backend"] = backend;
  s["generation"] = generation;
  s["truncated"] = false;
  s["budget"] = budget;
}

using RenderFn = std::function<std::string(const json::object&)>;

bool within(const json::object& s, const std::string& text, std::int64_t budget) {
  const auto b = static_cast<std::size_t>(budget);
  return estimate_tokens(text.size()) <= b && estimate_tokens(json::serialize(s).size()) <= b;
}

// Keep the first n items of the list `list(s)` (offset `offset` into the full answer) so that
// both renderings fit; sets truncated / next_cursor.
ToolOutcome finish_list(json::object s, const std::function<json::array&(json::object&)>& list,
                        std::size_t offset, std::int64_t budget, const RenderFn& render,
                        std::optional<std::size_t> more_from = std::nullopt) {
  const json::array full = list(s);
  auto take = [&](std::size_t n) {
    json::object t = s;
    json::array& l = list(t);
    l = json::array(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    return t;
  };
  const std::size_t n = fit_count(full.size(), [&](std::size_t k) {
    json::object t = take(k);
    if (estimate_tokens(json::serialize(t).size()) > static_cast<std::size_t>(budget)) return false;
    if (k < full.size()) {
      t["truncated"] = true;
      t["next_cursor"] = std::to_string(offset + k);
    }
    return within(t, render(t) + footer(t), budget);
  });
  json::object out = take(n);
  if (n < full.size()) {
    out["truncated"] = true;
    out["next_cursor"] = std::to_string(offset + n);
  } else if (more_from) {
    out["next_cursor"] = std::to_string(*more_from);
  }
  ToolOutcome o;
  o.text = render(out) + footer(out);
  o.structured = std::move(out);
  return o;
}

template <class R, class F>
RenderFn typed_render(F f) {
  return [f](const json::object& s) {
    R r{};
    if (auto bad = proto::decode(json::value(s), r, "result"))
      return "(cannot render: " + *bad + ")\n";
    client::Rendered x = f(r);
    return x.out + x.err;
  };
}

// The fields every answer carries, added to a Result schema.
json::object with_common(json::object schema) {
  json::object& p = schema["properties"].as_object();
  p["root"] = {{"type", "string"}, {"description", "the segment (project root) that answered"}};
  p["backend"] = {{"type", "string"},
                  {"enum", {"lsp", "ast", "lsp+ast", "index", "daemon"}},
                  {"description",
                   "who answered: lsp (Pyright), ast (the syntax fallback), lsp+ast (Pyright's "
                   "answer with the AST's added; each location says its `source`), index (the "
                   "lexical index), daemon"}};
  p["generation"] = {{"type", "integer"}, {"description", "the segment's index generation"}};
  p["truncated"] = {{"type", "boolean"}, {"description", "the answer was cut to fit the budget"}};
  p["budget"] = {{"type", "integer"}, {"description", "the token budget applied"}};
  p["next_cursor"] = {{"type", "string"},
                      {"description", "pass as `cursor` to get the rest of this answer"}};
  // `required` must not list a name twice (JSON Schema: uniqueItems); some Results already
  // require `backend`, `generation` or `budget`.
  json::array& req = schema["required"].as_array();
  for (const auto* k : {"root", "backend", "generation", "truncated", "budget"})
    if (std::find(req.begin(), req.end(), json::value(k)) == req.end()) req.emplace_back(k);
  return schema;
}

json::object prop(std::string_view type, std::string_view description) {
  return {{"type", type}, {"description", description}};
}

json::object common_props(bool cursor) {
  json::object p;
  p["root"] = prop("string",
                   "the project root to ask (one of the session's roots, or a path inside one); "
                   "default: the root containing `path`, else the first root");
  p["budget"] = {{"type", "integer"},
                 {"minimum", kMinBudget},
                 {"maximum", kMaxBudget},
                 {"description", "token budget of this answer (default: the server's --budget)"}};
  if (cursor) p["cursor"] = prop("string", "`next_cursor` of an earlier answer: continue there");
  return p;
}

json::object input_schema(json::object props, std::initializer_list<std::string_view> required,
                          bool cursor = false) {
  for (auto& kv : common_props(cursor)) props[kv.key()] = kv.value();
  json::object s{{"type", "object"}, {"properties", std::move(props)}};
  if (required.size()) {
    json::array r;
    for (const auto x : required) r.emplace_back(x);
    s["required"] = std::move(r);
  }
  s["additionalProperties"] = false;
  return s;
}

// ---- the tools ------------------------------------------------------------------------------

ToolOutcome run_search(ToolEnv& env, const json::object& args) {
  const Args a(args, {"query", "limit", "path", "kind", "root", "budget", "cursor"});
  proto::CtxSearchParams p;
  p.query = a.str("query", true);
  const std::int64_t limit = a.integer("limit", 10, 1, 200);
  p.path = a.str("path");
  p.kind = a.one_of("kind", {"code", "doc", "other"}, "");
  const std::int64_t budget = budget_arg(a, env);
  const std::size_t offset = a.cursor();
  p.limit = std::min<std::int64_t>(1000, static_cast<std::int64_t>(offset) + limit);
  ensure_index(env);
  auto r = call(env, spec::kCtxSearch, p);
  const std::size_t from = std::min(offset, r.hits.size());
  r.hits.erase(r.hits.begin(), r.hits.begin() + static_cast<std::ptrdiff_t>(from));
  json::object s = to_object(r);
  stamp(s, env, "index", r.generation, budget);
  std::optional<std::size_t> more;
  if (static_cast<std::int64_t>(offset) + limit < r.matched && p.limit < 1000)
    more = offset + static_cast<std::size_t>(limit);
  const std::string glob = p.path;
  return finish_list(
      std::move(s), [](json::object& o) -> json::array& { return o["hits"].as_array(); }, offset,
      budget, typed_render<proto::CtxSearchResult>([glob](const proto::CtxSearchResult& v) {
        return client::render_search(v, glob);
      }),
      more);
}

std::string strip_chunk_scheme(std::string s) {
  constexpr std::string_view kScheme = "chunk://";
  if (s.rfind(kScheme, 0) == 0) s.erase(0, kScheme.size());
  return s;
}

ToolOutcome run_get(ToolEnv& env, const json::object& args) {
  const Args a(args, {"ids", "uris", "mode", "max_chunks", "query", "root", "budget", "cursor"});
  proto::CtxGetParams p;
  for (auto& id : a.strings("ids")) {
    (id.rfind("sym://", 0) == 0 ? p.uris : p.ids).push_back(strip_chunk_scheme(id));
  }
  for (auto& u : a.strings("uris")) {
    if (u.rfind("chunk://", 0) == 0)
      p.ids.push_back(strip_chunk_scheme(u));
    else
      p.uris.push_back(u);
  }
  p.mode = a.one_of("mode", {"skeleton", "excerpt", "raw"}, "excerpt");
  p.max_chunks = a.integer("max_chunks", 20, 1, 1000);
  p.query = a.str("query");
  p.cursor = a.str("cursor");
  const std::int64_t budget = budget_arg(a, env);
  if (p.ids.empty() && p.uris.empty() && p.cursor.empty())
    throw ArgError(
        "give `ids` (chunk ids from search, or file paths) or `uris` (sym:// URIs), or a `cursor`");
  ensure_index(env);
  // The daemon's budget counts chunk text only; JSON escapes and metadata come on top, so ask
  // for less and shrink until both renderings fit.
  std::int64_t ask = budget * 3 / 4;
  const auto render = typed_render<proto::CtxGetResult>(client::render_get);
  for (int attempt = 0;; ++attempt) {
    p.budget = std::max<std::int64_t>(ask, 1);
    auto r = call(env, spec::kCtxGet, p);
    json::object s = to_object(r);
    stamp(s, env, "index", r.generation, budget);
    if (r.next) {
      s["truncated"] = true;
      s["next_cursor"] = *r.next;
    }
    ToolOutcome o;
    o.text = render(s) + footer(s);
    const std::size_t tok =
        std::max(estimate_tokens(o.text.size()), estimate_tokens(json::serialize(s).size()));
    if (tok <= static_cast<std::size_t>(budget) || attempt == 3 || ask <= 1) {
      if (tok > static_cast<std::size_t>(budget)) {
        throw CallFailed("the answer does not fit a budget of " + std::to_string(budget) +
                         " tokens; raise `budget` or ask for fewer chunks");
      }
      o.is_error = r.chunks.empty() && !r.errors.empty();
      o.structured = std::move(s);
      return o;
    }
    ask = static_cast<std::int64_t>(static_cast<double>(ask) * 0.9 * static_cast<double>(budget) /
                                    static_cast<double>(tok));
  }
}

// map's answer: ctx.map's, less what repeats the map's text. The daemon's reply gives each file
// its part of the text and every symbol shown as an object (name, kind, lines, refs), which made
// the JSON about 3.5 × the text; a client shows the model the text or the structured answer, and
// both must fit the budget, so a map asked for 8,000 tokens showed about 2,000. Here each file
// keeps its path, centrality, whether it is reduced and how many symbols it shows (their names,
// kinds and lines are in `text`; `outline` and `find_symbol` give them as objects): the JSON is
// about 1.2 × the text.
struct MapFileShown {
  std::string path;
  double centrality = 0;
  bool reduced = false;
  std::int64_t symbols = 0;
};
template <class V>
void describe(V& v, MapFileShown& s) {
  v.req("path", s.path, "file relative to the root");
  v.req("centrality", s.centrality, "import-graph PageRank, mean 1.0");
  v.req("reduced", s.reduced, "less than its full outline: symbols or docstrings left out");
  v.req("symbols", s.symbols, "how many definitions the map shows for it (in `text`)");
}
struct MapResult {
  std::string path;
  std::int64_t used = 0;
  std::int64_t candidates = 0;
  std::int64_t skipped = 0;
  std::vector<MapFileShown> files;
  std::string text;
};
template <class V>
void describe(V& v, MapResult& s) {
  v.req("path", s.path, "the folder or file mapped (empty: the whole root)");
  v.req("used", s.used, "tokens of the map's text");
  v.req("candidates", s.candidates, "Python files at or under path");
  v.req("skipped", s.skipped, "files the skeleton cache could not read");
  v.req("files", s.files, "the files shown, most central first");
  v.req("text", s.text,
        "the map: per file its path and its most used definitions as a skeleton with line ranges");
}

ToolOutcome run_map(ToolEnv& env, const json::object& args) {
  const Args a(args, {"path", "root", "budget"});
  proto::CtxMapParams p;
  p.path = a.str("path");
  const std::int64_t budget = budget_arg(a, env);
  ensure_index(env);
  // Ask the daemon for most of the budget (the footer and the structured answer's file list
  // take the rest), and shrink until both renderings fit.
  std::int64_t ask = budget * 3 / 4;
  for (int attempt = 0;; ++attempt) {
    p.budget = std::clamp<std::int64_t>(ask, static_cast<std::int64_t>(64),
                                        static_cast<std::int64_t>(100000));
    auto r = call(env, spec::kCtxMap, p);
    MapResult m{r.path, r.used, r.candidates, r.skipped, {}, r.text};
    for (const auto& f : r.files)
      m.files.push_back(
          {f.path, f.centrality, f.reduced, static_cast<std::int64_t>(f.symbols.size())});
    json::object s = to_object(m);
    stamp(s, env, "index", r.generation, budget);
    s["truncated"] = r.truncated;
    r.budget = budget;  // the text says "used N of <the tool's budget> tokens"
    // A tool call has the `budget` and `path` arguments, not the CLI's flags.
    const client::Rendered shown = client::render_map(r, "a larger `budget` or a narrower `path`");
    ToolOutcome o;
    o.text = shown.out + shown.err + footer(s);
    const std::size_t tok =
        std::max(estimate_tokens(o.text.size()), estimate_tokens(json::serialize(s).size()));
    if (tok <= static_cast<std::size_t>(budget)) {
      o.structured = std::move(s);
      return o;
    }
    if (attempt == 3 || p.budget <= 64) {
      throw CallFailed("the map does not fit a budget of " + std::to_string(budget) +
                       " tokens; raise `budget` or map a narrower `path`");
    }
    ask = static_cast<std::int64_t>(static_cast<double>(p.budget) * 0.9 *
                                    static_cast<double>(budget) / static_cast<double>(tok));
  }
}

// find_symbol's answer.
struct SymbolHit {
  std::string name;
  std::string qualname;
  std::string kind;
  std::string path;
  std::string module;
  std::string uri;
  std::int64_t line = 0;
  std::int64_t end_line = 0;
  std::string signature;
  std::string match;
};
template <class V>
void describe(V& v, SymbolHit& s) {
  v.req("name", s.name, "the symbol's own name");
  v.req("qualname", s.qualname, "qualified name inside its module");
  v.req("kind", s.kind, "class | function | method | constant");
  v.req("path", s.path, "file relative to the root");
  v.req("module", s.module, "dotted module name (from the path; a leading src/ is dropped)");
  v.req("uri", s.uri, "sym:// URI (for get, definition, hover, references)");
  v.req("line", s.line, "first line (1-based)");
  v.req("end_line", s.end_line, "last line");
  v.req("signature", s.signature, "signature text (empty for constants)");
  v.req("match", s.match,
        "how the name matched: exact | exact-ci | prefix | prefix-ci | substring | fuzzy");
}
struct FindSymbolResult {
  std::string name;
  std::string match;
  std::vector<SymbolHit> symbols;
  std::int64_t total = 0;
};
template <class V>
void describe(V& v, FindSymbolResult& s) {
  v.req("name", s.name, "the name asked");
  v.req("match", s.match, "exact | prefix | fuzzy");
  v.req("symbols", s.symbols, "definitions found, best first (sym.search's rank)");
  v.req("total", s.total, "definitions that matched (before limit and cursor)");
}

ToolOutcome run_find_symbol(ToolEnv& env, const json::object& args) {
  const Args a(args, {"name", "match", "kind", "limit", "root", "budget", "cursor"});
  const std::string name = a.str("name", true);
  const std::string match = a.one_of("match", {"exact", "prefix", "fuzzy"}, "exact");
  const std::string kind = a.one_of("kind", {"class", "function", "method", "constant"}, "");
  const std::int64_t limit = a.integer("limit", 20, 1, 200);
  const std::int64_t budget = budget_arg(a, env);
  const std::size_t offset = a.cursor();

  // sym.search ranks the segment's definitions (the skeleton index) by how the name matches.
  proto::SymSearchParams sp;
  sp.query = name;
  sp.mode = match;
  if (!kind.empty()) sp.kinds = {kind};
  sp.limit = std::min<std::int64_t>(1000, static_cast<std::int64_t>(offset) + limit + 1);
  const auto r = call(env, spec::kSymSearch, sp);
  const std::int64_t generation = r.generation;
  FindSymbolResult out;
  out.name = name;
  out.match = match;
  out.total = r.total;
  for (const auto& m : r.matches)
    out.symbols.push_back({m.name, m.qualname, m.kind, m.file, m.module, m.uri, m.line, m.end_line,
                           m.signature, m.match});
  const std::size_t total = out.symbols.size();
  const std::size_t from = std::min(offset, total);
  out.symbols.erase(out.symbols.begin(), out.symbols.begin() + static_cast<std::ptrdiff_t>(from));
  std::optional<std::size_t> more;
  if (out.symbols.size() > static_cast<std::size_t>(limit)) {
    out.symbols.resize(static_cast<std::size_t>(limit));
    more = from + static_cast<std::size_t>(limit);
  }
  json::object s = to_object(out);
  stamp(s, env, "ast", generation, budget);
  const RenderFn render = [](const json::object& o) {
    std::string t;
    const auto& syms = o.at("symbols").as_array();
    if (syms.empty()) {
      t = "no definitions named '" + std::string(o.at("name").as_string()) + "' (" +
          std::string(o.at("match").as_string()) + " match)\n";
    }
    for (const auto& x : syms) {
      const auto& h = x.as_object();
      t += std::string(h.at("path").as_string()) + ":" + std::to_string(h.at("line").as_int64()) +
           "  " + std::string(h.at("kind").as_string()) + " " +
           std::string(h.at("qualname").as_string());
      const auto sig = h.at("signature").as_string();
      if (!sig.empty()) t += "  " + std::string(sig);
      t += "\n    " + std::string(h.at("uri").as_string()) + "\n";
    }
    return t;
  };
  return finish_list(
      std::move(s), [](json::object& o) -> json::array& { return o["symbols"].as_array(); }, from,
      budget, render, more);
}

ToolOutcome run_outline(ToolEnv& env, const json::object& args) {
  const Args a(args, {"path", "line_numbers", "root", "budget", "cursor"});
  proto::AstSkeletonParams p;
  p.path = a.str("path", true);
  p.line_numbers = a.boolean("line_numbers", true);
  p.format = "text";
  const std::int64_t budget = budget_arg(a, env);
  const std::size_t offset = a.cursor();
  auto r = call(env, spec::kAstSkeleton, p);
  const std::string all = r.rendered.value_or("");
  const std::size_t from = std::min(offset, all.size());
  std::string part = all.substr(from);
  json::object s = to_object(r);
  stamp(s, env, "ast", index_generation(env, r.generation), budget);
  s["offset"] = static_cast<std::int64_t>(from);
  const auto render = [](const json::object& o) {
    const auto* x = o.if_contains("rendered");
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  // Cut the text (kept in both renderings) until both fit.
  std::size_t keep = part.size();
  for (int i = 0; i < 8; ++i) {
    json::object t = s;
    t["rendered"] = part.substr(0, keep);
    if (keep < part.size()) {
      t["truncated"] = true;
      t["next_cursor"] = std::to_string(from + keep);
    }
    const std::string text = render(t) + footer(t);
    const std::size_t tok =
        std::max(estimate_tokens(text.size()), estimate_tokens(json::serialize(t).size()));
    if (tok <= static_cast<std::size_t>(budget) || keep == 0) {
      ToolOutcome o;
      o.text = text;
      o.structured = std::move(t);
      return o;
    }
    const double ratio = 0.95 * static_cast<double>(budget) / static_cast<double>(tok);
    keep = cut_text(part, static_cast<std::size_t>(static_cast<double>(keep) * ratio));
  }
  throw CallFailed("the outline does not fit a budget of " + std::to_string(budget) + " tokens");
}

// definition / hover / references / diagnostics share their arguments.
proto::LspPositionParams position(const Args& a, bool needs_position) {
  proto::LspPositionParams p;
  p.path = a.str("path");
  p.uri = a.str("uri");
  p.wait_ready_ms = a.integer("wait_ready_ms", 0, 0, 60000);
  if (!needs_position) {
    if (p.path.empty() && p.uri.empty()) throw ArgError("give `path` (a Python file of the root)");
    return p;
  }
  if (!p.uri.empty()) {
    if (!p.path.empty() || a.has("line") || a.has("column"))
      throw ArgError("give either `uri` or `path` with `line` and `column`, not both");
    return p;
  }
  if (p.path.empty() || !a.has("line") || !a.has("column"))
    throw ArgError("give `path`, `line` and `column` (1-based), or a sym:// `uri`");
  p.line = a.integer("line", 0, 1, 100000000);
  p.column = a.integer("column", 0, 1, 100000000);
  return p;
}

std::string backend_of(const proto::LspAnswer& a) {
  return a.backend == "lsp" || a.backend == "lsp+ast" ? a.backend : "ast";
}

ToolOutcome run_definition(ToolEnv& env, const json::object& args) {
  const Args a(args, {"path", "line", "column", "uri", "wait_ready_ms", "root", "budget"});
  const auto p = position(a, true);
  const std::int64_t budget = budget_arg(a, env);
  const auto r = call(env, spec::kLspDefinition, p);
  json::object s = to_object(r);
  stamp(s, env, backend_of(r), index_generation(env, r.generation), budget);
  const fs::path root = env.root;
  return finish_list(
      std::move(s), [](json::object& o) -> json::array& { return o["locations"].as_array(); }, 0,
      budget, typed_render<proto::LspDefinitionResult>([root](const proto::LspDefinitionResult& v) {
        return client::render_locations(v, root);
      }));
}

ToolOutcome run_references(ToolEnv& env, const json::object& args) {
  const Args a(args, {"path", "line", "column", "uri", "wait_ready_ms", "include_declaration",
                      "confirmed_only", "root", "budget", "cursor"});
  auto p = position(a, true);
  p.include_declaration = a.boolean("include_declaration", true);
  p.confirmed_only = a.boolean("confirmed_only", false);
  const std::int64_t budget = budget_arg(a, env);
  const std::size_t offset = a.cursor();
  auto r = call(env, spec::kLspReferences, p);
  const std::size_t from = std::min(offset, r.locations.size());
  r.locations.erase(r.locations.begin(), r.locations.begin() + static_cast<std::ptrdiff_t>(from));
  json::object s = to_object(r);
  stamp(s, env, backend_of(r), index_generation(env, r.generation), budget);
  const fs::path root = env.root;
  return finish_list(
      std::move(s), [](json::object& o) -> json::array& { return o["locations"].as_array(); }, from,
      budget, typed_render<proto::LspReferencesResult>([root](const proto::LspReferencesResult& v) {
        return client::render_locations(v, root);
      }));
}

// calls: lsp.calls, as `trifecta calls`. The answer's edges (callers, then callees) are one list
// for the budget: the first n that fit are kept, and the cursor counts into that list.
ToolOutcome run_calls(ToolEnv& env, const json::object& args) {
  const Args a(args, {"path", "line", "column", "uri", "direction", "depth", "wait_ready_ms",
                      "root", "budget", "cursor"});
  proto::LspCallsParams p;
  static_cast<proto::LspPositionParams&>(p) = position(a, true);
  p.direction = a.one_of("direction", {"incoming", "outgoing", "both"}, "both");
  p.depth = a.integer("depth", 1, 1, 5);
  const std::int64_t budget = budget_arg(a, env);
  const std::size_t offset = a.cursor();
  auto r = call(env, spec::kLspCalls, p);
  // Drop the first `offset` edges of callers-then-callees.
  std::size_t skip = std::min(offset, r.incoming.size() + r.outgoing.size());
  const std::size_t from = skip;
  const std::size_t drop_in = std::min(skip, r.incoming.size());
  r.incoming.erase(r.incoming.begin(), r.incoming.begin() + static_cast<std::ptrdiff_t>(drop_in));
  skip -= drop_in;
  r.outgoing.erase(r.outgoing.begin(), r.outgoing.begin() + static_cast<std::ptrdiff_t>(skip));
  json::object s = to_object(r);
  // `root` is every tool's segment: lsp.calls' root (the function asked about) is `function`.
  if (auto* fn = s.if_contains("root")) {
    s["function"] = *fn;
    s.erase("root");
  }
  stamp(s, env, backend_of(r), index_generation(env, r.generation), budget);
  const auto typed = typed_render<proto::LspCallsResult>(client::render_calls);
  const RenderFn render = [typed](const json::object& o) {
    json::object x = o;
    x.erase("root");
    if (const auto* fn = o.if_contains("function")) x["root"] = *fn;
    x.erase("function");
    return typed(x);
  };
  const json::array in = s["incoming"].as_array(), out = s["outgoing"].as_array();
  auto take = [&](std::size_t n) {
    json::object t = s;
    const std::size_t ni = std::min(n, in.size());
    t["incoming"] = json::array(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(ni));
    t["outgoing"] = json::array(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n - ni));
    if (n < in.size() + out.size()) {
      t["truncated"] = true;
      t["next_cursor"] = std::to_string(from + n);
    }
    return t;
  };
  const std::size_t all = in.size() + out.size();
  const std::size_t n = fit_count(all, [&](std::size_t k) {
    json::object t = take(k);
    return within(t, render(t) + footer(t), budget);
  });
  ToolOutcome o;
  json::object t = take(n);
  o.text = render(t) + footer(t);
  o.structured = std::move(t);
  return o;
}

ToolOutcome run_hover(ToolEnv& env, const json::object& args) {
  const Args a(args, {"path", "line", "column", "uri", "wait_ready_ms", "root", "budget"});
  const auto p = position(a, true);
  const std::int64_t budget = budget_arg(a, env);
  auto r = call(env, spec::kLspHover, p);
  json::object s = to_object(r);
  stamp(s, env, backend_of(r), index_generation(env, r.generation), budget);
  const auto render = typed_render<proto::LspHoverResult>(client::render_hover);
  ToolOutcome o;
  o.text = render(s) + footer(s);
  if (!within(s, o.text, budget) && r.contents) {
    // Hover text is one docstring: cut it (no cursor: ask `get` for the whole definition).
    const std::string c = *r.contents;
    s["contents"] = c.substr(0, cut_text(c, static_cast<std::size_t>(budget) * 4 / 2));
    s["truncated"] = true;
    o.text = render(s) + footer(s);
  }
  o.structured = std::move(s);
  return o;
}

ToolOutcome run_diagnostics(ToolEnv& env, const json::object& args) {
  const Args a(args, {"path", "wait_ready_ms", "root", "budget", "cursor"});
  const auto p = position(a, false);
  const std::int64_t budget = budget_arg(a, env);
  const std::size_t offset = a.cursor();
  auto r = call(env, spec::kLspDiagnostics, p);
  const std::size_t from = std::min(offset, r.diagnostics.size());
  r.diagnostics.erase(r.diagnostics.begin(),
                      r.diagnostics.begin() + static_cast<std::ptrdiff_t>(from));
  json::object s = to_object(r);
  stamp(s, env, backend_of(r), index_generation(env, r.generation), budget);
  return finish_list(
      std::move(s), [](json::object& o) -> json::array& { return o["diagnostics"].as_array(); },
      from, budget, typed_render<proto::LspDiagnosticsResult>(client::render_diagnostics));
}

// status: the daemon, the root's index and its language server.
struct StatusAnswer {
  std::vector<std::string> roots;
  proto::StatusResult daemon;
  proto::CtxStatusResult index;
  proto::LspStatusResult lsp;
};
template <class V>
void describe(V& v, StatusAnswer& s) {
  v.req("roots", s.roots, "every root (segment) of this MCP session");
  v.req("daemon", s.daemon, "trifectad: process, connections, open segments");
  v.req("index", s.index, "the root's lexical index");
  v.req("lsp", s.lsp, "the root's language server (Pyright)");
}

ToolOutcome run_status(ToolEnv& env, const json::object& args) {
  const Args a(args, {"root", "budget"});
  const std::int64_t budget = budget_arg(a, env);
  StatusAnswer st;
  st.roots = env.roots;
  st.daemon = call(env, spec::kStatus, {});
  st.index = call(env, spec::kCtxStatus, {});
  st.lsp = call(env, spec::kLspStatus, {});
  json::object s = to_object(st);
  stamp(s, env, st.lsp.state == "READY" ? "lsp" : "ast", st.index.index.generation, budget);
  const RenderFn render = [](const json::object& o) {
    StatusAnswer x;
    if (auto bad = proto::decode(json::value(o), x, "result"))
      return "(cannot render: " + *bad + ")\n";
    std::string t = "roots:";
    for (const auto& r : x.roots) t += " " + r;
    t += "\n\n" + client::render_status(x.daemon).out + "\n" +
         client::render_ctx_status(x.index).out + "\n" + client::render_lsp_status(x.lsp).out;
    return t;
  };
  // The list of skipped files is the one part that grows with the tree: cut it.
  return finish_list(
      std::move(s),
      [](json::object& o) -> json::array& {
        return o["index"].as_object()["status"].as_object()["skipped"].as_array();
      },
      0, budget, render);
}

ToolOutcome run_debug_sleep(ToolEnv& env, const json::object& args) {
  const Args a(args, {"ms", "root", "budget"});
  proto::DebugSleepParams p;
  p.ms = a.integer("ms", 0, 0, 60000);
  const auto r = call(env, spec::kDebugSleep, p);
  json::object s = to_object(r);
  stamp(s, env, "daemon", 0, budget_arg(a, env));
  ToolOutcome o;
  o.text = "slept " + std::to_string(r.slept_ms) + " ms\n" + footer(s);
  o.structured = std::move(s);
  return o;
}

// ---- the table ------------------------------------------------------------------------------

json::object position_props(bool with_uri) {
  json::object p = input_properties(proto::method::kLspDefinition, {"path", "line", "column"});
  if (with_uri) {
    for (auto& kv : input_properties(proto::method::kLspDefinition, {"uri"}))
      p[kv.key()] = kv.value();
  }
  p["line"].as_object()["minimum"] = 1;
  p["column"].as_object()["minimum"] = 1;
  p["line"].as_object().erase("default");
  p["column"].as_object().erase("default");
  p["path"].as_object().erase("default");
  if (with_uri) p["uri"].as_object().erase("default");
  for (auto& kv : input_properties(proto::method::kLspDefinition, {"wait_ready_ms"})) {
    kv.value().as_object()["minimum"] = 0;
    kv.value().as_object()["maximum"] = 60000;
    p[kv.key()] = kv.value();
  }
  return p;
}

// lsp.calls' Result with its `root` (the function asked about) as `function`: `root` is the
// segment in every tool's answer.
json::object calls_output_schema() {
  json::object out = output_schema<proto::LspCallsResult>();
  json::object& props = out["properties"].as_object();
  if (auto* fn = props.if_contains("root")) {
    json::value f = *fn;
    if (f.is_object())
      f.as_object()["description"] = "the function at the position (absent when there is none)";
    props["function"] = std::move(f);
    props.erase("root");
  }
  if (auto* req = out.if_contains("required"); req && req->is_array()) {
    auto& r = req->as_array();
    r.erase(std::remove(r.begin(), r.end(), json::value("root")), r.end());
  }
  return out;
}

std::vector<ToolSpec> build_table(bool with_debug) {
  std::vector<ToolSpec> t;
  auto no_default = [](json::object p, std::initializer_list<std::string_view> keys) {
    for (const auto k : keys) p[k].as_object().erase("default");
    return p;
  };
  {
    json::object p = no_default(
        input_properties(proto::method::kCtxSearch, {"query", "path", "kind"}), {"path", "kind"});
    p["path"].as_object()["description"] =
        "only files matching this glob (`pkg/` or `pkg/**`: everything under pkg/; `*.py`: top "
        "level only)";
    p["kind"].as_object()["enum"] = {"code", "doc", "other"};
    p["kind"].as_object()["description"] = "only chunks of this kind (default: all)";
    p["limit"] = {{"type", "integer"},
                  {"minimum", 1},
                  {"maximum", 200},
                  {"default", 10},
                  {"description", "how many hits"}};
    t.push_back({"search", "Search code",
                 "Ranked chunks (functions, classes, doc sections) of the project for a query, "
                 "from the shared lexical index (BM25; identifiers match whole and by their "
                 "parts; a sentence or line of four or more words pasted as written, such as a "
                 "docstring, a comment or a line of code, ranks the chunk holding it first; a "
                 "file's path alone, such as `utils.py`, `pkg/mod.py:120` from a traceback or a "
                 "pytest node id `tests/test_x.py::TestA::test_b` (alone or in pytest's "
                 "`FAILED …::test_b - AssertionError` line), puts that file's chunk for the test "
                 "or line, or its first, on top; so does a pasted traceback for its innermost "
                 "frame in the project, then the two frames that called it; a traceback's last "
                 "line, `pkg.mod.SomeError: message` with its runtime values, ranks the code "
                 "whose string literal prints that message first, above where the exception is "
                 "defined). Each hit has an `id` to read with `get`.",
                 input_schema(std::move(p), {"query"}, true),
                 with_common(output_schema<proto::CtxSearchResult>()), true, true, run_search});
  }
  {
    json::object p = no_default(
        input_properties(proto::method::kCtxGet, {"ids", "uris", "mode", "max_chunks", "query"}),
        {"ids", "uris", "query"});
    p["ids"].as_object()["description"] =
        "chunk ids from search (or chunk:// URIs), project files by path (the whole file), or "
        "pytest node ids (tests/test_x.py::TestA::test_b[param]: that test's definition); "
        "sym:// URIs are accepted here too";
    p["mode"].as_object()["enum"] = {"skeleton", "excerpt", "raw"};
    p["max_chunks"].as_object()["minimum"] = 1;
    p["max_chunks"].as_object()["maximum"] = 1000;
    t.push_back({"get", "Read code",
                 "The text of chunks by id (from search), of whole files by path, or of "
                 "definitions by sym:// URI (sym://python/<module>/<qualname>), as skeleton, "
                 "excerpt or raw, within the token budget; a cut answer gives a `next_cursor`.",
                 input_schema(std::move(p), {}, true),
                 with_common(output_schema<proto::CtxGetResult>()), true, true, run_get});
  }
  {
    json::object p;
    p["name"] = prop("string",
                     "the name (`decode`), a qualified name (`JSONDecoder.decode`), or with "
                     "match=prefix the start of a name");
    p["match"] = {{"type", "string"},
                  {"enum", {"exact", "prefix", "fuzzy"}},
                  {"default", "exact"},
                  {"description",
                   "exact name (any case), case-insensitive prefix, or fuzzy: the "
                   "letters in order, like an editor's symbol picker"}};
    p["kind"] = {{"type", "string"},
                 {"enum", {"class", "function", "method", "constant"}},
                 {"description", "only definitions of this kind"}};
    p["limit"] = {{"type", "integer"},
                  {"minimum", 1},
                  {"maximum", 200},
                  {"default", 20},
                  {"description", "how many definitions"}};
    t.push_back({"find_symbol", "Find definitions by name",
                 "Definitions (classes, functions, methods, constants) by name, name prefix or "
                 "fuzzy letters, best first, each with its file, lines, signature and sym:// URI. "
                 "From the daemon's symbol index of the whole tree (sym.search).",
                 input_schema(std::move(p), {"name"}, true),
                 with_common(output_schema<FindSymbolResult>()), true, true, run_find_symbol});
  }
  {
    json::object p = input_properties(proto::method::kAstSkeleton, {"path", "line_numbers"});
    p["line_numbers"].as_object()["default"] = true;
    json::object out = output_schema<proto::AstSkeletonResult>();
    out["properties"].as_object()["offset"] =
        prop("integer", "byte offset of `rendered` in the whole outline");
    t.push_back({"outline", "Outline a file",
                 "The skeleton of a Python file or module (sym://python/<module>): imports, "
                 "signatures, docstrings, `...` bodies, with line numbers.",
                 input_schema(std::move(p), {"path"}, true), with_common(std::move(out)), true,
                 false, run_outline});
  }
  {
    json::object p = input_properties(proto::method::kCtxMap, {"path"});
    p["path"].as_object().erase("default");
    p["path"].as_object()["description"] =
        "a folder or file of the root (relative to it); default: the whole root";
    t.push_back({"map", "Map the project",
                 "A ranked overview to start a task with: the most central files (PageRank over "
                 "the Python import graph; a package's interface - what its __init__.py defines "
                 "and re-exports - weighed up; tests, vendored code and private _modules down) "
                 "and their most used public classes, functions and methods (by how many other "
                 "files use their names in code) as a skeleton with line ranges, within the "
                 "token budget: many files one line a symbol, whole outlines when they fit.",
                 input_schema(std::move(p), {}, true), with_common(output_schema<MapResult>()),
                 true, true, run_map});
  }
  t.push_back({"definition", "Go to definition",
               "Where the name at a position (path, line, column; 1-based) or a sym:// URI is "
               "defined. Pyright answers when ready, else the AST fallback; when Pyright finds "
               "nothing or only builtins/typeshed, the AST's answer is added (backend lsp+ast; "
               "each location has `source` and `confidence`, best first).",
               input_schema(position_props(true), {}),
               with_common(output_schema<proto::LspDefinitionResult>()), true, false,
               run_definition});
  t.push_back({"hover", "Hover",
               "Signature and docstring of the name at a position or sym:// URI (Pyright, or "
               "the AST fallback).",
               input_schema(position_props(true), {}),
               with_common(output_schema<proto::LspHoverResult>()), true, false, run_hover});
  {
    json::object p = position_props(true);
    for (auto& kv :
         input_properties(proto::method::kLspReferences, {"include_declaration", "confirmed_only"}))
      p[kv.key()] = kv.value();
    t.push_back({"references", "Find references",
                 "Every reference to the name at a position or sym:// URI, within the budget: "
                 "Pyright's (status confirmed) plus the AST/lexical ones it missed (status "
                 "candidate, with the receiver's class when known); `confirmed_only` gives "
                 "Pyright's set. Without Pyright, the AST fallback's.",
                 input_schema(std::move(p), {}, true),
                 with_common(output_schema<proto::LspReferencesResult>()), true, false,
                 run_references});
  }
  {
    json::object p = position_props(true);
    for (auto& kv : input_properties(proto::method::kLspCalls, {"direction", "depth"}))
      p[kv.key()] = kv.value();
    p["direction"].as_object()["enum"] = {"incoming", "outgoing", "both"};
    p["direction"].as_object()["default"] = "both";
    p["depth"].as_object()["minimum"] = 1;
    p["depth"].as_object()["maximum"] = 5;
    p["depth"].as_object()["default"] = 1;
    t.push_back({"calls", "Call hierarchy",
                 "Callers (incoming) and callees (outgoing) of the function at a position or "
                 "sym:// URI, up to `depth` levels, each edge with its call sites, its `source` "
                 "(lsp: Pyright's callHierarchy; ast: the occurrence table and the AST's "
                 "definition rules) and, for depth > 1, the edge it expands. Pyright when ready, "
                 "else the AST (`fallback_reason` says why); within the budget, callers first.",
                 input_schema(std::move(p), {}, true), with_common(calls_output_schema()), true,
                 false, run_calls});
  }
  {
    json::object p = position_props(false);
    p.erase("line");
    p.erase("column");
    p["path"].as_object()["description"] = "a Python file of the root";
    t.push_back({"diagnostics", "Diagnostics",
                 "Errors and warnings of a Python file (Pyright when ready, else syntax errors "
                 "from the AST).",
                 input_schema(std::move(p), {"path"}, true),
                 with_common(output_schema<proto::LspDiagnosticsResult>()), true, false,
                 run_diagnostics});
  }
  t.push_back({"status", "Status",
               "The shared daemon, the root's index (generation, files, build state) and its "
               "language server (COLD / WARMING / READY / FAILED).",
               input_schema({}, {}), with_common(output_schema<StatusAnswer>()), false, false,
               run_status});
  if (with_debug) {
    json::object p = input_properties(proto::method::kDebugSleep, {"ms"});
    t.push_back({"debug_sleep", "Sleep (tests)",
                 "Answer after `ms` milliseconds (trifectad's debug.sleep; needs "
                 "--enable-debug-methods). For cancellation tests.",
                 input_schema(std::move(p), {"ms"}),
                 with_common(output_schema<proto::DebugSleepResult>()), true, false,
                 run_debug_sleep});
  }
  return t;
}

}  // namespace

const std::vector<ToolSpec>& tool_table(bool with_debug) {
  static const std::vector<ToolSpec> plain = build_table(false);
  static const std::vector<ToolSpec> debug = build_table(true);
  return with_debug ? debug : plain;
}

const ToolSpec* find_tool(std::string_view name, bool with_debug) {
  for (const auto& t : tool_table(with_debug)) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

ToolOutcome run_tool(const ToolSpec& tool, ToolEnv& env, const json::object& args) {
  ToolOutcome o;
  try {
    return tool.run(env, args);
  } catch (const ArgError& e) {
    o.text = std::string("bad arguments for ") + tool.name + ": " + e.what() + "\n";
  } catch (const CallFailed& e) {
    o.text = e.what();
    if (o.text.empty() || o.text.back() != '\n') o.text += '\n';
  } catch (const std::exception& e) {
    o.text = std::string(tool.name) + " failed: " + e.what() + "\n";
  }
  o.is_error = true;
  o.structured = {};
  return o;
}

std::optional<std::string> choose_root(const std::vector<std::string>& roots,
                                       const json::object& args, std::string* error) {
  auto inside = [](const std::string& path, const std::string& root) {
    if (path == root) return true;
    const std::string r = root.size() > 1 && root.back() == '/' ? root : root + "/";
    return path.rfind(r, 0) == 0;
  };
  if (roots.empty()) {
    *error =
        "no project root: the client sent no roots and the server's directory is in no project (a "
        "git work tree, a folder trifecta has opened; / and the home directory never are): start "
        "the server with -s DIR, or let the client send roots";
    return std::nullopt;
  }
  const auto* r = args.if_contains("root");
  if (r && !r->is_null()) {
    if (!r->is_string()) {
      *error = "argument 'root' must be a string";
      return std::nullopt;
    }
    const std::string want(r->get_string());
    for (const auto& x : roots) {
      if (want == x) return x;
    }
    for (const auto& x : roots) {
      if (inside(want, x)) return x;
    }
    for (const auto& x : roots) {
      if (fs::path(x).filename() == want) return x;
    }
    std::string list;
    for (const auto& x : roots) list += (list.empty() ? "" : ", ") + x;
    *error = "root '" + want + "' is not one of this session's roots: " + list;
    return std::nullopt;
  }
  const auto* p = args.if_contains("path");
  if (p && p->is_string() && !p->get_string().empty() && p->get_string()[0] == '/') {
    const std::string path(p->get_string());
    std::string best;
    for (const auto& x : roots) {
      if (inside(path, x) && x.size() > best.size()) best = x;
    }
    if (!best.empty()) return best;
  }
  return roots.front();
}

std::optional<ResourceText> read_resource(ToolEnv& env, const std::string& uri,
                                          std::string* error) {
  proto::CtxGetParams p;
  p.mode = "excerpt";
  p.budget = env.default_budget * 3 / 4;
  p.max_chunks = 1;
  if (uri.rfind("sym://", 0) == 0) {
    p.uris.push_back(uri);
  } else {
    const std::string id = strip_chunk_scheme(uri);
    if (id.empty() || id.find("://") != std::string::npos) {
      *error = "not a resource of this server (sym://python/<module>/<qualname> or chunk://<id>)";
      return std::nullopt;
    }
    p.ids.push_back(id);
  }
  std::string last_error = "not found";
  for (const auto& root : env.roots) {
    env.root = root;
    try {
      const auto r = call(env, spec::kCtxGet, p);
      if (r.chunks.empty()) {
        if (!r.errors.empty()) last_error = r.errors.front().code + ": " + r.errors.front().message;
        continue;
      }
      const auto& c = r.chunks.front();
      ResourceText t;
      t.uri = uri;
      const bool py = c.path.size() > 3 && c.path.compare(c.path.size() - 3, 3, ".py") == 0;
      t.mime_type = py ? "text/x-python" : "text/plain";
      t.text = c.text;
      return t;
    } catch (const CallFailed& e) {
      last_error = e.what();
    }
  }
  *error = last_error;
  return std::nullopt;
}

}  // namespace trifecta::mcp
