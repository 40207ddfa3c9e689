// Service's lsp.* methods: Pyright when it is READY (or becomes READY within wait_ready_ms), the
// AST fallback (lib/navigation) otherwise. Every position answer says `backend` ("lsp" | "ast" |
// "lsp+ast") and `lsp_state`; a fallback says why (`fallback_reason`: lsp_unavailable,
// lsp_not_ready, lsp_error) and records a fallback telemetry event with the reason's code only.
// While Pyright is READY, its answer is merged with the AST's (service/nav_merge.hpp): a
// definition Pyright left empty or answered only outside the segment, a hover whose type is
// Unknown, and references (Pyright's confirmed set plus the AST candidates it missed, unless
// `confirmed_only`). A merge is not a fallback: no lsp.fallback event, `merge_reason` says why.
//
// Thread rules: lsp::Client callbacks arrive on the client's I/O thread; everything after them
// (building the answer, the AST fallback) is posted to the executor.
#include <algorithm>
#include <limits>
#include <map>

#include "index/segment_index.hpp"
#include "lang/python/navigation.hpp"
#include "lsp/client.hpp"
#include "selector/resolver.hpp"
#include "service/nav_merge.hpp"
#include "service/position.hpp"
#include "service/proto_convert.hpp"
#include "service/service.hpp"
#include "text/text.hpp"
#include "util/paths.hpp"
#include "workspace/file_reader.hpp"

namespace trifecta::core::service {

using proto::ErrorCode;
using proto::RpcError;
namespace json = boost::json;
namespace nav = navigation;
namespace ws = workspace;

namespace {

std::string lsp_state_of(const Segment& seg) {
  return seg.lsp ? std::string(lsp::state_name(seg.lsp->state())) : std::string("UNAVAILABLE");
}

// Column (1-based, code points) of `name` on `line_text` at or after byte `from`.
int name_column(std::string_view line_text, std::string_view name, std::size_t from) {
  std::size_t at = line_text.find(name, from);
  if (at == std::string_view::npos) at = from;
  int col = 1;
  for (std::size_t i = 0; i < at && i < line_text.size(); ++i) {
    if ((static_cast<unsigned char>(line_text[i]) & 0xC0) != 0x80) ++col;
  }
  return col;
}

// A cursor must be on the text: a line past the end of the file, an empty (blank) line and a
// column past the end of its line (one past the last character is the caret after a name, kept)
// are one error, INVALID_ARGUMENT, with the same message shape and data {line, column, lines,
// line_chars}. nullopt when the position is on the text.
std::optional<RpcError> position_off_text(std::string_view text, lsp::Position pos) {
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  const auto lt = text::line_text(text, pos.line);
  int chars = 0;
  bool blank = true;
  if (lt) {
    for (unsigned char c : *lt) {
      if ((c & 0xC0) != 0x80) ++chars;
      if (c != ' ' && c != '\t' && c != '\f') blank = false;
    }
  }
  std::string why;
  if (!lt || pos.line > lines) {
    why = "the file has " + std::to_string(lines) + " lines";
  } else if (blank) {
    why = "line " + std::to_string(pos.line) + " is empty";
  } else if (pos.column > chars + 1) {
    why = "line " + std::to_string(pos.line) + " has " + std::to_string(chars) + " characters";
  } else {
    return std::nullopt;
  }
  json::object data{
      {"line", pos.line}, {"column", pos.column}, {"lines", lines}, {"line_chars", chars}};
  return RpcError{ErrorCode::kInvalidArgument,
                  "position " + std::to_string(pos.line) + ":" + std::to_string(pos.column) +
                      " is outside the text: " + why,
                  std::move(data)};
}

}  // namespace

std::variant<PosRequest, RpcError> parse_position(Segment& seg, const proto::LspPositionParams& p,
                                                  const std::string& method, bool need_position) {
  PosRequest r;
  r.method = method;
  std::string path = p.path;
  const std::string& uri = p.uri;
  std::int64_t line = p.line, column = p.column;
  r.include_declaration = p.include_declaration;
  r.confirmed_only = p.confirmed_only;
  r.wait_ready_ms = p.wait_ready_ms;
  if (r.wait_ready_ms < 0 || r.wait_ready_ms > 60'000) {
    return RpcError{ErrorCode::kInvalidParams, "params.wait_ready_ms: expected 0..60000", {}};
  }
  if (!uri.empty()) {
    selector::FsSegmentSource source(seg.root, seg.index->skeletons());
    selector::Resolver resolver(source, seg.telemetry, seg.resolver_options());
    auto res = resolver.resolve(uri);
    if (!res) return selector_rpc_error(res.error());
    r.rel = res->match.file;
    line = std::max(1, res->match.line);
    path = res->match.file;
    r.pos.line = static_cast<int>(line);
    r.pos.column = -1;  // filled from the text below: the name's column on its line
  } else if (path.empty()) {
    return RpcError{ErrorCode::kInvalidParams,
                    "params.path (with line and column) or params.uri is required",
                    {}};
  }
  auto abs = resolve_in_root(seg.root, path);
  if (!abs) return to_rpc_error(abs.error());
  r.abs = *abs;
  r.rel = relpath(seg.root, *abs);
  if (auto e = not_python_error(r.rel, method)) return std::move(*e);
  ws::ReadStats stats;
  auto content = seg.index->reader().read(r.rel, ws::ReadPurpose::kIndex, &stats);
  if (!content) return to_rpc_error(content.error());
  r.text = std::move(content->text);
  if (uri.empty() && need_position) {
    if (line < 1 || column < 1) {
      return RpcError{ErrorCode::kInvalidParams,
                      "params.line and params.column: 1-based, required with params.path",
                      {}};
    }
    // Positions are ints downstream: 2^32+337 must not become line 337.
    constexpr std::int64_t kMaxPosition = std::numeric_limits<int>::max();
    if (line > kMaxPosition || column > kMaxPosition) {
      return RpcError{ErrorCode::kInvalidParams,
                      "params.line and params.column: expected 1.." + std::to_string(kMaxPosition),
                      {}};
    }
    r.pos.line = static_cast<int>(line);
    r.pos.column = static_cast<int>(column);
    if (auto e = position_off_text(r.text, r.pos)) return std::move(*e);
  } else if (!uri.empty()) {
    // Point at the symbol's name on its definition line (after def/class/async def, or the first
    // occurrence of the name for constants).
    std::string_view t = r.text;
    std::size_t start = 0;
    for (int i = 1; i < r.pos.line && start != std::string_view::npos; ++i) {
      start = t.find('\n', start);
      if (start != std::string_view::npos) ++start;
    }
    std::string_view line_text = start == std::string_view::npos
                                     ? std::string_view{}
                                     : t.substr(start, t.find('\n', start) - start);
    const std::string name = uri.substr(uri.find_last_of("/.#") + 1);
    std::size_t from = 0;
    for (std::string_view kw : {"def ", "class "}) {
      if (auto k = line_text.find(kw); k != std::string_view::npos) from = k + kw.size();
    }
    r.pos.column = name_column(line_text, name, from);
  }
  return r;
}

namespace {

// One position request in flight: where it goes, what it is about, who gets the answer.
template <class R>
struct PosCall {
  std::shared_ptr<Segment> seg;
  PosRequest req;
  std::string state;  // lsp_state when the request was routed (what the answer reports)
  Callback<R> done;
  Executor* executor = nullptr;
};

// What a READY answer adds to the request event: how Pyright's own answer looked (`lsp_outcome`:
// located | external | empty | unknown), whether the AST added to it, and which side the first
// location came from (`first_source`: lsp | ast).
struct MergeTelemetry {
  std::string lsp_outcome;
  bool ast_added = false;
  std::string first_source;
};

template <class R>
RequestTelemetry position_telemetry(const PosCall<R>& a, std::string_view backend, bool resolved,
                                    const std::vector<lsp::Location>* locs,
                                    const MergeTelemetry* merge = nullptr) {
  // `fallback`: the seed's field (true when the AST answered instead of the server).
  json::object result{{"backend", backend}, {"resolved", resolved}, {"fallback", backend == "ast"}};
  if (locs && !locs->empty()) {
    result["target_file"] =
        (*locs)[0].external ? a.seg->telemetry.relpath((*locs)[0].path) : (*locs)[0].path;
    result["target_line"] = (*locs)[0].line;
  }
  if (merge) {
    result["lsp_outcome"] = merge->lsp_outcome;
    result["ast_added"] = merge->ast_added;
    if (!merge->first_source.empty()) result["first_source"] = merge->first_source;
  }
  return RequestTelemetry{
      json::object{{"file", a.req.rel}, {"line", a.req.pos.line}, {"col", a.req.pos.column}},
      std::move(result), json::object{{"lsp_state", a.state}}};
}

proto::Location labeled_to_proto(const LabeledLocation& l) {
  proto::Location o = to_proto(l.location);
  o.source = l.source;
  o.confidence = static_cast<double>(static_cast<long long>(l.confidence * 100 + 0.5)) / 100.0;
  if (!l.status.empty()) o.status = l.status;
  if (!l.receiver_class.empty()) o.receiver_class = l.receiver_class;
  return o;
}

std::vector<proto::Location> labeled_to_proto(const std::vector<LabeledLocation>& ls) {
  std::vector<proto::Location> out;
  for (const auto& l : ls) out.push_back(labeled_to_proto(l));
  return out;
}

std::vector<lsp::Location> plain(const std::vector<LabeledLocation>& ls) {
  std::vector<lsp::Location> out;
  for (const auto& l : ls) out.push_back(l.location);
  return out;
}

// What every position answer starts with.
template <class R>
R answer_base(const PosCall<R>& a, std::string backend, std::string state,
              std::optional<std::string> reason) {
  R o;
  o.backend = std::move(backend);
  o.lsp_state = std::move(state);
  o.fallback_reason = std::move(reason);
  o.generation = a.seg->index ? static_cast<std::int64_t>(a.seg->index->generation()) : 0;
  o.file = a.req.rel;
  o.line = a.req.pos.line;
  o.column = a.req.pos.column;
  if (!a.seg->layout.unresolved.empty()) o.layout_warning = a.seg->layout.unresolved;
  return o;
}

// The AST answer. Runs on the calling thread or an executor thread.
template <class R>
void answer_from_ast(PosCall<R> a, std::string reason) {
  Segment& seg = *a.seg;
  // Telemetry gets the reason's code only ("lsp_not_ready", "lsp_error", ...): the detail may
  // name absolute paths (discovery messages), which never go to telemetry.
  const std::string code = reason.substr(0, reason.find(':'));
  lsp::record_fallback(seg.telemetry, a.req.method, code,
                       seg.lsp ? seg.lsp->state() : lsp::State::kCold, "ast");
  selector::FsSegmentSource source(seg.root, seg.index->skeletons());
  const nav::SymbolIndex& symbols = seg.symbol_index();
  R out = answer_base(a, "ast", a.state, reason);
  const nav::NavOptions layout_options = nav_options(seg);
  if constexpr (std::is_same_v<R, proto::LspDefinitionResult>) {
    auto r = nav::definition(source, symbols, a.req.rel, a.req.text, a.req.pos, layout_options);
    if (!r) return a.done(r.error());
    const auto locs = r->locations();
    out.locations = labeled_to_proto(merge_definitions({}, &*r, a.req.rel));
    out.name = r->name;
    out.rule = r->rule;
    if (!r->reason.empty()) out.reason = r->reason;
    auto t = position_telemetry(a, "ast", !locs.empty(), &locs);
    a.done(Outcome<R>(std::move(out), std::move(t)));
  } else if constexpr (std::is_same_v<R, proto::LspHoverResult>) {
    auto r = nav::hover(source, symbols, a.req.rel, a.req.text, a.req.pos, layout_options);
    if (!r) return a.done(r.error());
    out.rule = r->rule;
    if (r->hover) {
      out.contents = r->hover->contents;
      out.kind = r->hover->kind;
    } else {
      out.reason = r->reason;
    }
    auto t = position_telemetry(a, "ast", r->hover.has_value(), nullptr);
    a.done(Outcome<R>(std::move(out), std::move(t)));
  } else if constexpr (std::is_same_v<R, proto::LspReferencesResult>) {
    auto r = nav::references(source, symbols, a.req.rel, a.req.text, a.req.pos,
                             a.req.include_declaration, 1000, nav_options(seg));
    if (!r) return a.done(r.error());
    // Without Pyright every location is a candidate (nothing confirms it).
    const MergedReferences m = merge_references({}, r->locations, nullptr);
    out.locations = labeled_to_proto(m.locations);
    out.confirmed = 0;
    out.candidates = static_cast<std::int64_t>(m.candidates);
    out.name = r->name;
    out.truncated = r->truncated;
    out.files_read = static_cast<std::int64_t>(r->files_scanned);
    auto t = position_telemetry(a, "ast", !r->locations.empty(), &r->locations);
    a.done(Outcome<R>(std::move(out), std::move(t)));
  } else {
    static_assert(std::is_same_v<R, proto::LspDiagnosticsResult>);
    auto r = nav::diagnostics(a.req.text);
    if (!r) return a.done(r.error());
    for (const auto& d : *r) out.diagnostics.push_back(to_proto(d));
    auto t = position_telemetry(a, "ast", true, nullptr);
    a.done(Outcome<R>(std::move(out), std::move(t)));
  }
}

// "Cls" of a member's qualname "Cls.name" / "Outer.Cls.name"; "" for a module-level name.
std::string class_of(const std::string& qualname, const std::string& kind) {
  if (kind != "method" && kind != "attribute") return {};
  const std::size_t dot = qualname.rfind('.');
  if (dot == std::string::npos) return {};
  const std::string owner = qualname.substr(0, dot);
  const std::size_t prev = owner.rfind('.');
  return prev == std::string::npos ? owner : owner.substr(prev + 1);
}

// The class-hierarchy check of merged references (service/nav_merge.hpp): each AST candidate is
// resolved with the AST's definition rules at its own position and compared with the queried
// definition. Runs on an executor thread; texts of candidate files are read once.
class CandidateClassifier {
 public:
  CandidateClassifier(Segment& seg, const PosRequest& req,
                      const std::vector<lsp::Location>& confirmed)
      : source_(seg.root, seg.index->skeletons()),
        symbols_(seg.symbol_index()),
        options_(nav_options(seg)) {
    texts_[req.rel] = req.text;
    auto d = nav::definition(source_, symbols_, req.rel, req.text, req.pos, options_);
    if (d && !weak(d->rule) && !d->targets.empty()) {
      target_ = d->targets[0].location;
      target_class_ = class_of(d->targets[0].qualname, d->targets[0].kind);
      known_ = true;
    } else if (d && !d->name.empty()) {
      // The AST could not tell: the queried definition is the one Pyright's set contains.
      for (const auto& def : symbols_.definitions_named(d->name)) {
        for (const auto& c : confirmed) {
          if (!c.external && c.path == def.file && c.line == def.line) {
            target_ = c;
            target_class_ = class_of(def.qualname, def.kind);
            known_ = true;
          }
        }
      }
    }
  }

  CandidateClass operator()(const text::Location& l) {
    if (!known_ || l.external) return {};
    auto text = text_of(l.path);
    if (!text) return {};
    auto d = nav::definition(source_, symbols_, l.path, *text, {l.line, l.column}, options_);
    if (!d || weak(d->rule) || d->targets.empty()) return {};
    const nav::Target& t = d->targets[0];
    if (t.location.path == target_.path && t.location.line == target_.line)
      return {CandidateClass::kRelated, target_class_};
    const std::string cls = class_of(t.qualname, t.kind);
    if (!cls.empty() && !target_class_.empty() &&
        classes_related(cls, target_class_, [this](const std::string& c) { return bases(c); }))
      return {CandidateClass::kRelated, cls};
    return {CandidateClass::kUnrelated, cls};
  }

 private:
  static bool weak(const std::string& rule) {
    return rule == "index" || rule == "none" || rule == "builtin";
  }
  const std::string* text_of(const std::string& rel) {
    auto it = texts_.find(rel);
    if (it != texts_.end()) return &it->second;
    auto c = symbols_.content(rel);
    if (!c) return nullptr;
    return &texts_.emplace(rel, std::move(*c)).first->second;
  }
  std::vector<std::string> bases(const std::string& cls) {
    auto it = bases_.find(cls);
    if (it != bases_.end()) return it->second;
    std::vector<std::string> out;
    for (const auto& def : symbols_.definitions_named(cls)) {
      if (def.kind != "class") continue;
      for (auto& b : bases_of_signature(def.signature)) out.push_back(std::move(b));
    }
    return bases_[cls] = out;
  }

  selector::FsSegmentSource source_;
  const nav::SymbolIndex& symbols_;
  nav::NavOptions options_;  // the segment's layout (package prefix, source roots)
  std::map<std::string, std::string> texts_;
  std::map<std::string, std::vector<std::string>> bases_;
  text::Location target_;
  std::string target_class_;
  bool known_ = false;
};

void answer_definition_lsp(PosCall<proto::LspDefinitionResult> a, std::vector<lsp::Location> locs) {
  using R = proto::LspDefinitionResult;
  Segment& seg = *a.seg;
  const LspOutcome outcome = classify_lsp(locs);
  R out = answer_base(a, "lsp", "READY", std::nullopt);
  MergeTelemetry mt{std::string(outcome_name(outcome)), false, ""};
  std::optional<nav::DefinitionResult> ast;
  if (outcome != LspOutcome::kLocated) {
    selector::FsSegmentSource source(seg.root, seg.index->skeletons());
    auto r = nav::definition(source, seg.symbol_index(), a.req.rel, a.req.text, a.req.pos,
                             nav_options(seg));
    if (r) ast = std::move(*r);  // an AST error leaves Pyright's answer as it was
    out.merge_reason = outcome == LspOutcome::kEmpty ? "lsp_empty" : "lsp_external";
  }
  const auto merged = merge_definitions(locs, ast ? &*ast : nullptr, a.req.rel);
  mt.ast_added = std::any_of(merged.begin(), merged.end(),
                             [](const LabeledLocation& l) { return l.source == "ast"; });
  if (!merged.empty()) mt.first_source = merged[0].source;
  if (mt.ast_added) out.backend = "lsp+ast";
  if (ast) {
    out.name = ast->name;
    out.rule = ast->rule;
    if (merged.empty() && !ast->reason.empty()) out.reason = ast->reason;
  }
  out.locations = labeled_to_proto(merged);
  const auto first = plain(merged);
  auto t = position_telemetry(a, out.backend, !merged.empty(), &first, &mt);
  a.done(Outcome<R>(std::move(out), std::move(t)));
}

// `outside`: the real path of the hovered symbol's definition when it is outside the segment.
void answer_hover_lsp(PosCall<proto::LspHoverResult> a, std::optional<lsp::HoverInfo> h,
                      std::optional<std::string> outside) {
  using R = proto::LspHoverResult;
  Segment& seg = *a.seg;
  const LspOutcome outcome = !h || h->contents.empty()       ? LspOutcome::kEmpty
                             : hover_is_unknown(h->contents) ? LspOutcome::kUnknown
                                                             : LspOutcome::kLocated;
  R out = answer_base(a, "lsp", "READY", std::nullopt);
  if (outside) {
    out.external = true;
    out.definition_path = std::move(*outside);
  }
  MergeTelemetry mt{std::string(outcome_name(outcome)), false, ""};
  if (h && !h->contents.empty()) {
    out.contents = h->contents;
    out.kind = h->kind;
    mt.first_source = "lsp";
  }
  if (outcome != LspOutcome::kLocated) {
    out.merge_reason = outcome == LspOutcome::kEmpty ? "lsp_empty" : "lsp_unknown";
    selector::FsSegmentSource source(seg.root, seg.index->skeletons());
    auto r =
        nav::hover(source, seg.symbol_index(), a.req.rel, a.req.text, a.req.pos, nav_options(seg));
    if (r) {
      out.rule = r->rule;
      if (r->hover) {
        if (out.contents) out.lsp_contents = out.contents;
        out.contents = r->hover->contents;
        out.kind = r->hover->kind;
        out.backend = "lsp+ast";
        mt.ast_added = true;
        mt.first_source = "ast";
      } else if (!out.contents) {
        out.reason = r->reason;
      }
    }
  }
  // An Unknown hover alone is not an answer.
  const bool resolved = outcome == LspOutcome::kLocated || mt.ast_added;
  auto t = position_telemetry(a, out.backend, resolved, nullptr, &mt);
  a.done(Outcome<R>(std::move(out), std::move(t)));
}

void answer_references_lsp(PosCall<proto::LspReferencesResult> a, std::vector<lsp::Location> locs) {
  using R = proto::LspReferencesResult;
  Segment& seg = *a.seg;
  R out = answer_base(a, "lsp", "READY", std::nullopt);
  MergeTelemetry mt{std::string(outcome_name(classify_lsp(locs))), false, ""};
  MergedReferences m;
  if (a.req.confirmed_only) {
    m = merge_references(locs, {}, nullptr);
  } else {
    selector::FsSegmentSource source(seg.root, seg.index->skeletons());
    auto r = nav::references(source, seg.symbol_index(), a.req.rel, a.req.text, a.req.pos,
                             a.req.include_declaration, 1000, nav_options(seg));
    if (r) {
      CandidateClassifier classify(seg, a.req, locs);
      m = merge_references(locs, r->locations,
                           [&classify](const text::Location& l) { return classify(l); });
      out.name = r->name;
      out.truncated = r->truncated;
      out.files_read = static_cast<std::int64_t>(r->files_scanned);
    } else {
      m = merge_references(locs, {}, nullptr);  // an AST error leaves Pyright's answer
    }
    out.filtered = static_cast<std::int64_t>(m.filtered);
  }
  out.confirmed = static_cast<std::int64_t>(m.confirmed);
  out.candidates = static_cast<std::int64_t>(m.candidates);
  mt.ast_added = m.candidates > 0;
  if (!m.locations.empty()) mt.first_source = m.locations[0].source;
  if (mt.ast_added) out.backend = "lsp+ast";
  out.locations = labeled_to_proto(m.locations);
  const auto all = plain(m.locations);
  auto t = position_telemetry(a, out.backend, !all.empty(), &all, &mt);
  a.done(Outcome<R>(std::move(out), std::move(t)));
}

// Ask Pyright; on any failure (not READY any more, timeout, crash) answer from the AST instead.
// Callbacks arrive on the I/O thread: everything after them is handed to the executor.
template <class R>
void answer_from_lsp(PosCall<R> a) {
  lsp::Client& client = *a.seg->lsp;
  Executor* ex = a.executor;
  auto fallback = [ex](PosCall<R> x, Error e) {
    ex->post([x = std::move(x), e = std::move(e)]() mutable {
      answer_from_ast(std::move(x), "lsp_error: " + e.message);
    });
  };
  const fs::path abs = a.req.abs;
  const lsp::Position pos = a.req.pos;
  if constexpr (std::is_same_v<R, proto::LspDefinitionResult> ||
                std::is_same_v<R, proto::LspReferencesResult>) {
    const bool include_declaration = a.req.include_declaration;
    auto got = [a = std::move(a), ex, fallback](Result<std::vector<lsp::Location>> r) mutable {
      if (!r) return fallback(std::move(a), r.error());
      ex->post([a = std::move(a), locs = std::move(*r)]() mutable {
        if constexpr (std::is_same_v<R, proto::LspDefinitionResult>)
          answer_definition_lsp(std::move(a), std::move(locs));
        else
          answer_references_lsp(std::move(a), std::move(locs));
      });
    };
    if constexpr (std::is_same_v<R, proto::LspDefinitionResult>)
      client.definition(abs, pos, std::move(got));
    else
      client.references(abs, pos, include_declaration, std::move(got));
  } else if constexpr (std::is_same_v<R, proto::LspHoverResult>) {
    // The one boundary rule (issue 16 item 12): Pyright's hover names no file, so its definition
    // at the same position is asked first. When that is outside the segment once symlinks are
    // resolved (lsp::Client decides `external` on the real path, as for lsp.definition), the
    // hover is labelled `external` with the definition's real path, as lsp.definition labels it.
    client.definition(
        abs, pos,
        [a = std::move(a), ex, fallback, abs, pos](Result<std::vector<lsp::Location>> d) mutable {
          std::optional<std::string> outside;
          if (d && !d->empty() && (*d)[0].external) outside = (*d)[0].path;
          lsp::Client& c = *a.seg->lsp;
          c.hover(abs, pos,
                  [a = std::move(a), ex, fallback,
                   outside = std::move(outside)](Result<std::optional<lsp::HoverInfo>> r) mutable {
                    if (!r) return fallback(std::move(a), r.error());
                    ex->post([a = std::move(a), h = std::move(*r),
                              outside = std::move(outside)]() mutable {
                      answer_hover_lsp(std::move(a), std::move(h), std::move(outside));
                    });
                  });
        });
  } else {
    client.diagnostics(
        abs, std::chrono::milliseconds(3000),
        [a = std::move(a), ex, fallback](Result<std::vector<lsp::Diagnostic>> r) mutable {
          if (!r) return fallback(std::move(a), r.error());
          ex->post([a = std::move(a), ds = std::move(*r)]() mutable {
            R out = answer_base(a, "lsp", "READY", std::nullopt);
            for (const auto& d : ds) out.diagnostics.push_back(to_proto(d));
            auto t = position_telemetry(a, "lsp", true, nullptr);
            a.done(Outcome<R>(std::move(out), std::move(t)));
          });
        });
  }
}

template <class R>
void route(PosCall<R> a) {
  Segment& seg = *a.seg;
  // Every position request, whichever backend answers: the denominator of
  // last_run.json's lsp.lsp_fallback_request_rate.
  seg.telemetry.incr("lsp_request_count");
  a.state = lsp_state_of(seg);
  if (!seg.lsp) return answer_from_ast(std::move(a), "lsp_unavailable: " + seg.lsp_unavailable);
  const lsp::State st = seg.lsp->state();
  if (st == lsp::State::kReady) return answer_from_lsp(std::move(a));
  // A server stopped for idleness or the memory cap warms again on its next request (this one is
  // answered from the AST unless it waits).
  if (st == lsp::State::kCold && a.req.wait_ready_ms <= 0)
    seg.lsp->when_ready(std::chrono::milliseconds(0), [](lsp::State) {});
  if (a.req.wait_ready_ms > 0) {
    const auto wait = std::chrono::milliseconds(a.req.wait_ready_ms);
    seg.lsp->when_ready(wait, [a = std::move(a)](lsp::State s) mutable {
      a.state = std::string(lsp::state_name(s));
      if (s == lsp::State::kReady) return answer_from_lsp(std::move(a));
      Executor* ex = a.executor;
      ex->post([a = std::move(a), s]() mutable {
        answer_from_ast(std::move(a),
                        "lsp_not_ready: " + std::string(lsp::state_name(s)) + " after wait");
      });
    });
    return;
  }
  answer_from_ast(std::move(a), "lsp_not_ready: " + std::string(lsp::state_name(st)));
}

}  // namespace

template <class R>
void Service::position(SegmentPtr seg, const proto::LspPositionParams& p, const char* method,
                       Callback<R> done) {
  (void)sync(*seg);  // Pyright and the fallback see every change made so far
  const std::string m = method;
  auto req = parse_position(*seg, p, m, m != "diagnostics");
  if (auto* e = std::get_if<RpcError>(&req)) return done(std::move(*e));
  route(PosCall<R>{
      std::move(seg), std::move(std::get<PosRequest>(req)), {}, std::move(done), &executor_});
}

void Service::definition(SegmentPtr seg, proto::LspDefinitionParams p,
                         Callback<proto::LspDefinitionResult> done) {
  position(std::move(seg), p, "definition", std::move(done));
}
void Service::hover(SegmentPtr seg, proto::LspHoverParams p, Callback<proto::LspHoverResult> done) {
  position(std::move(seg), p, "hover", std::move(done));
}
void Service::references(SegmentPtr seg, proto::LspReferencesParams p,
                         Callback<proto::LspReferencesResult> done) {
  position(std::move(seg), p, "references", std::move(done));
}
void Service::diagnostics(SegmentPtr seg, proto::LspDiagnosticsParams p,
                          Callback<proto::LspDiagnosticsResult> done) {
  position(std::move(seg), p, "diagnostics", std::move(done));
}

void Service::lsp_status(SegmentPtr seg, proto::LspStatusParams,
                         Callback<proto::LspStatusResult> done) {
  proto::LspStatusResult out;
  out.enabled = options_.lsp_enabled;
  out.available = seg->lsp != nullptr;
  const auto& layout = seg->layout;
  out.layout = std::string(lang::python::layout_kind_name(layout.kind));
  if (!layout.package.empty()) out.layout_package = layout.package;
  if (!layout.extra_paths.empty()) out.extra_paths = layout.extra_paths;
  std::vector<std::string> notes = layout.notes;
  // A nested `-s pkg/sub` inside an open tree is a segment of its own, not a path filter of the
  // enclosing one (docs/languages.md says why): say so where the cost shows.
  for (const auto& other : registry_.list()) {
    if (!other || other.get() == seg.get() || other->root == seg->root) continue;
    if (is_within(other->root, seg->root)) {
      notes.push_back("inside the open segment " + other->root.string() +
                      ": a segment of its own (own index and language server), not a view of "
                      "that one; see docs/languages.md, \"A nested -s\"");
    } else if (is_within(seg->root, other->root)) {
      notes.push_back("the open segment " + other->root.string() +
                      " is inside this one: a segment of its own (own index and language "
                      "server); see docs/languages.md, \"A nested -s\"");
    }
  }
  if (!notes.empty()) out.layout_notes = std::move(notes);
  if (!layout.unresolved.empty()) out.imports_unresolved = layout.unresolved;
  if (!seg->lsp) {
    out.state = "UNAVAILABLE";
    out.reason = seg->lsp_unavailable;
    return done(std::move(out));
  }
  const lsp::Status s = seg->lsp->status();
  out.binary = s.binary;
  out.binary_name = s.binary_name;
  out.version = s.version;
  out.source = seg->lsp_server.source;
  out.state = std::string(lsp::state_name(s.state));
  out.reason = s.reason;
  out.pid = s.pid;
  out.uptime_ms = s.uptime_ms;
  out.state_ms = s.state_ms;
  out.restarts = s.restarts;
  out.rss_bytes = static_cast<std::int64_t>(s.rss_bytes);
  out.pending = static_cast<std::int64_t>(s.pending);
  out.open_documents = static_cast<std::int64_t>(s.open_documents);
  out.server_requests_answered = static_cast<std::int64_t>(s.server_requests_answered);
  out.timeouts = static_cast<std::int64_t>(s.timeouts);
  out.last_stderr = s.last_stderr;
  if (s.next_retry_ms >= 0) out.next_retry_ms = s.next_retry_ms;
  out.time_to_ready_ms = s.time_to_ready_ms;
  out.indexing = s.indexing;
  if (s.indexing) {
    out.indexing_title = s.indexing_title;
    out.indexing_ms = s.indexing_ms;
  }
  out.analysis_done_ms = s.analysis_done_ms;
  out.workspace_files = s.workspace_files;
  done(std::move(out));
}

void Service::lsp_restart(SegmentPtr seg, proto::LspRestartParams p,
                          Callback<proto::LspRestartResult> done) {
  if (!seg->lsp) {
    return done(make_error(
        Errc::kUnavailable,
        "no language server for this segment: " +
            (seg->lsp_unavailable.empty() ? std::string("none attached") : seg->lsp_unavailable)));
  }
  seg->lsp->restart("requested by lsp.restart");
  lsp_status(std::move(seg), p, std::move(done));
}

nav::NavOptions nav_options(Segment& seg) {
  nav::NavOptions options;
  options.package_prefix =
      seg.layout.package;  // the segment's layout: a package root's own imports
  for (const auto& root : seg.layout.source_roots) options.source_roots.push_back(root);
  // Only the files whose index tokens include the name are read (the index was synced with
  // the disk before this request).
  options.candidate_files = [&seg](std::string_view name) {
    return seg.index->files_with_word(name);
  };
  return options;
}

}  // namespace trifecta::core::service
