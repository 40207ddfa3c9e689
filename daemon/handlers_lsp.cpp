#include "handlers_lsp.hpp"

#include <boost/asio/io_context.hpp>
#include <deque>

#include "handlers_ast.hpp"
#include "handlers_ctx.hpp"
#include "index/segment_index.hpp"
#include "lsp/client.hpp"
#include "lang/python/navigation.hpp"
#include "proto_convert.hpp"
#include "selector/resolver.hpp"
#include "util/paths.hpp"
#include "workspace/file_list.hpp"
#include "workspace/file_reader.hpp"

namespace trifecta::daemon {

using proto::ErrorCode;
using proto::RpcError;
namespace lsp = core::lsp;
namespace nav = core::navigation;
namespace ws = core::workspace;

std::filesystem::path first_python_file(const std::filesystem::path& root) {
  // lib/workspace's walker and exclude list (the segment's config included), not a second copy.
  auto config = ws::load_config(root);
  const ws::PathFilter filter(config ? std::move(*config) : ws::SegmentConfig{});
  const std::string rel = ws::first_file_with_suffix(root, filter, ".py");
  return rel.empty() ? std::filesystem::path() : root / rel;
}

void attach_lsp(Segment& seg, boost::asio::io_context& io, const LspConfig& config) {
  if (!config.enabled) {
    seg.lsp_unavailable = "disabled (trifectad --no-lsp or LSP_ENABLED=false)";
    return;
  }
  if (!config.server) {
    seg.lsp_unavailable = config.server.error().message;
    return;
  }
  seg.lsp_server = *config.server;
  lsp::ClientOptions o;
  o.segment_root = seg.root;
  o.server = *config.server;
  o.request_timeout = config.request_timeout;
  o.ready_timeout = config.ready_timeout;
  o.idle_timeout = config.idle_timeout;
  o.rss_limit_bytes = config.rss_limit_bytes;
  o.telemetry = seg.telemetry;
  seg.lsp = std::make_unique<lsp::Client>(io, std::move(o));
  // Warm-up starts now, in parallel with everything else the segment does.
  seg.lsp->start(first_python_file(seg.root));
}


namespace {

std::string lsp_state_of(const Segment& seg) {
  return seg.lsp ? std::string(lsp::state_name(seg.lsp->state())) : std::string("UNAVAILABLE");
}

// What a position request is about, resolved on a worker thread.
struct PosRequest {
  std::string method;  // definition | hover | references | diagnostics
  std::string rel;
  core::fs::path abs;
  lsp::Position pos;
  bool include_declaration = true;
  std::int64_t wait_ready_ms = 0;
  std::string text;  // current content (for the fallback)
};

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

std::optional<PosRequest> parse_position(Context& ctx, const proto::LspPositionParams& p, const std::string& method,
                                         Reply& reply, bool need_position) {
  Segment& seg = *ctx.segment;
  PosRequest r;
  r.method = method;
  std::string path = p.path;
  const std::string& uri = p.uri;
  std::int64_t line = p.line, column = p.column;
  r.include_declaration = p.include_declaration;
  r.wait_ready_ms = p.wait_ready_ms;
  if (r.wait_ready_ms < 0 || r.wait_ready_ms > 60'000) {
    reply.fail(RpcError{ErrorCode::kInvalidParams, "params.wait_ready_ms: expected 0..60000", {}});
    return std::nullopt;
  }
  if (!uri.empty()) {
    core::selector::FsSegmentSource source(seg.root, seg.index->skeletons());
    core::selector::Resolver resolver(source, seg.telemetry);
    auto res = resolver.resolve(uri);
    if (!res) {
      reply.fail(selector_rpc_error(res.error()));
      return std::nullopt;
    }
    r.rel = res->match.file;
    line = std::max(1, res->match.line);
    path = res->match.file;
    r.pos.line = static_cast<int>(line);
    r.pos.column = -1;  // filled from the text below: the name's column on its line
  } else if (path.empty()) {
    reply.fail(RpcError{ErrorCode::kInvalidParams, "params.path (with line and column) or params.uri is required", {}});
    return std::nullopt;
  }
  auto abs = core::resolve_in_root(seg.root, path);
  if (!abs) {
    reply.fail(abs.error());
    return std::nullopt;
  }
  r.abs = *abs;
  r.rel = core::relpath(seg.root, *abs);
  ws::ReadStats stats;
  auto content = seg.index->reader().read(r.rel, ws::ReadPurpose::kIndex, &stats);
  if (!content) {
    reply.fail(content.error());
    return std::nullopt;
  }
  r.text = std::move(content->text);
  if (uri.empty() && need_position) {
    if (line < 1 || column < 1) {
      reply.fail(RpcError{ErrorCode::kInvalidParams, "params.line and params.column: 1-based, required with params.path", {}});
      return std::nullopt;
    }
    r.pos.line = static_cast<int>(line);
    r.pos.column = static_cast<int>(column);
  } else if (!uri.empty()) {
    // Point at the symbol's name on its definition line (after def/class/async def, or the first
    // occurrence of the name for constants).
    std::string_view t = r.text;
    std::size_t start = 0;
    for (int i = 1; i < r.pos.line && start != std::string_view::npos; ++i) {
      start = t.find('\n', start);
      if (start != std::string_view::npos) ++start;
    }
    std::string_view line_text = start == std::string_view::npos ? std::string_view{} : t.substr(start, t.find('\n', start) - start);
    const std::string name = uri.substr(uri.find_last_of("/.#") + 1);
    std::size_t from = 0;
    for (std::string_view kw : {"def ", "class "}) {
      if (auto k = line_text.find(kw); k != std::string_view::npos) from = k + kw.size();
    }
    r.pos.column = name_column(line_text, name, from);
  }
  return r;
}

struct Answer {
  std::shared_ptr<Reply> reply;
  std::shared_ptr<Segment> seg;
  PosRequest req;
  std::string state;  // lsp_state when the request was routed (what the reply reports)
};

void finish_telemetry(Answer& a, std::string_view backend, bool resolved, const std::vector<lsp::Location>* locs) {
  json::object result{{"backend", backend}, {"resolved", resolved}};
  if (locs && !locs->empty()) {
    result["target_file"] = (*locs)[0].external ? a.seg->telemetry.relpath((*locs)[0].path) : (*locs)[0].path;
    result["target_line"] = (*locs)[0].line;
  }
  a.reply->telemetry(json::object{{"file", a.req.rel}, {"line", a.req.pos.line}, {"col", a.req.pos.column}},
                     std::move(result), json::object{{"lsp_state", a.state}});
}

// What every position answer starts with.
proto::LspAnswer answer_base(const Answer& a, std::string backend, std::string state, std::optional<std::string> reason) {
  proto::LspAnswer o;
  o.backend = std::move(backend);
  o.lsp_state = std::move(state);
  o.fallback_reason = std::move(reason);
  o.file = a.req.rel;
  o.line = a.req.pos.line;
  o.column = a.req.pos.column;
  return o;
}

// The AST answer. Runs on a worker thread.
void answer_from_ast(Answer a, std::string reason) {
  Segment& seg = *a.seg;
  // Telemetry gets the reason's code only ("lsp_not_ready", "lsp_error", ...): the detail may
  // name absolute paths (discovery messages), which never go to telemetry.
  const std::string code = reason.substr(0, reason.find(':'));
  lsp::record_fallback(seg.telemetry, a.req.method, code, seg.lsp ? seg.lsp->state() : lsp::State::kCold, "ast");
  core::selector::FsSegmentSource source(seg.root, seg.index->skeletons());
  const nav::SymbolIndex& symbols = seg.symbol_index();
  const proto::LspAnswer base = answer_base(a, "ast", a.state, reason);
  if (a.req.method == "definition") {
    auto r = nav::definition(source, symbols, a.req.rel, a.req.text, a.req.pos);
    if (!r) return a.reply->fail(r.error());
    const auto locs = r->locations();
    proto::LspDefinitionResult out;
    static_cast<proto::LspAnswer&>(out) = base;
    out.locations = to_proto(locs);
    out.name = r->name;
    out.rule = r->rule;
    if (!r->reason.empty()) out.reason = r->reason;
    finish_telemetry(a, "ast", !locs.empty(), &locs);
    a.reply->ok(json::value_from(out));
  } else if (a.req.method == "hover") {
    auto r = nav::hover(source, symbols, a.req.rel, a.req.text, a.req.pos);
    if (!r) return a.reply->fail(r.error());
    proto::LspHoverResult out;
    static_cast<proto::LspAnswer&>(out) = base;
    out.rule = r->rule;
    if (r->hover) {
      out.contents = r->hover->contents;
      out.kind = r->hover->kind;
    } else {
      out.reason = r->reason;
    }
    finish_telemetry(a, "ast", r->hover.has_value(), nullptr);
    a.reply->ok(json::value_from(out));
  } else if (a.req.method == "references") {
    nav::NavOptions options;
    // Only the files whose index tokens include the name are read (the index was synced with
    // the disk before this request).
    options.candidate_files = [&seg](std::string_view name) { return seg.index->files_with_word(name); };
    auto r = nav::references(source, symbols, a.req.rel, a.req.text, a.req.pos, a.req.include_declaration, 1000,
                             options);
    if (!r) return a.reply->fail(r.error());
    proto::LspReferencesResult out;
    static_cast<proto::LspAnswer&>(out) = base;
    out.locations = to_proto(r->locations);
    out.name = r->name;
    out.truncated = r->truncated;
    out.files_read = static_cast<std::int64_t>(r->files_scanned);
    finish_telemetry(a, "ast", !r->locations.empty(), &r->locations);
    a.reply->ok(json::value_from(out));
  } else {
    auto r = nav::diagnostics(a.req.text);
    if (!r) return a.reply->fail(r.error());
    proto::LspDiagnosticsResult out;
    static_cast<proto::LspAnswer&>(out) = base;
    for (const auto& d : *r) out.diagnostics.push_back(to_proto(d));
    finish_telemetry(a, "ast", true, nullptr);
    a.reply->ok(json::value_from(out));
  }
}

// Ask Pyright; on any failure (not READY any more, timeout, crash) answer from the AST instead.
// Callbacks arrive on the I/O thread: everything after them is handed to the worker pool.
void answer_from_lsp(Answer a, const LspDeps& deps) {
  lsp::Client& client = *a.seg->lsp;
  auto post = deps.post_work;
  auto fallback = [post](Answer x, core::Error e) {
    post([x = std::move(x), e = std::move(e)]() mutable { answer_from_ast(std::move(x), "lsp_error: " + e.message); });
  };
  auto base = [](const Answer& x) { return answer_base(x, "lsp", "READY", std::nullopt); };
  const std::string m = a.req.method;
  if (m == "definition" || m == "references") {
    auto done = [a, post, fallback, base, m](core::Result<std::vector<lsp::Location>> r) mutable {
      if (!r) return fallback(std::move(a), r.error());
      post([a = std::move(a), locs = std::move(*r), base, m]() mutable {
        finish_telemetry(a, "lsp", !locs.empty(), &locs);
        if (m == "definition") {
          proto::LspDefinitionResult out;
          static_cast<proto::LspAnswer&>(out) = base(a);
          out.locations = to_proto(locs);
          a.reply->ok(json::value_from(out));
        } else {
          proto::LspReferencesResult out;
          static_cast<proto::LspAnswer&>(out) = base(a);
          out.locations = to_proto(locs);
          a.reply->ok(json::value_from(out));
        }
      });
    };
    if (m == "definition") client.definition(a.req.abs, a.req.pos, std::move(done));
    else client.references(a.req.abs, a.req.pos, a.req.include_declaration, std::move(done));
  } else if (m == "hover") {
    client.hover(a.req.abs, a.req.pos, [a, post, fallback, base](core::Result<std::optional<lsp::HoverInfo>> r) mutable {
      if (!r) return fallback(std::move(a), r.error());
      post([a = std::move(a), h = std::move(*r), base]() mutable {
        proto::LspHoverResult out;
        static_cast<proto::LspAnswer&>(out) = base(a);
        if (h) {
          out.contents = h->contents;
          out.kind = h->kind;
        }
        finish_telemetry(a, "lsp", h.has_value(), nullptr);
        a.reply->ok(json::value_from(out));
      });
    });
  } else {
    client.diagnostics(a.req.abs, std::chrono::milliseconds(3000),
                       [a, post, fallback, base](core::Result<std::vector<lsp::Diagnostic>> r) mutable {
                         if (!r) return fallback(std::move(a), r.error());
                         post([a = std::move(a), ds = std::move(*r), base]() mutable {
                           proto::LspDiagnosticsResult out;
                           static_cast<proto::LspAnswer&>(out) = base(a);
                           for (const auto& d : ds) out.diagnostics.push_back(to_proto(d));
                           finish_telemetry(a, "lsp", true, nullptr);
                           a.reply->ok(json::value_from(out));
                         });
                       });
  }
}

void route(Answer a, const LspDeps& deps) {
  Segment& seg = *a.seg;
  a.state = lsp_state_of(seg);
  if (!seg.lsp) return answer_from_ast(std::move(a), "lsp_unavailable: " + seg.lsp_unavailable);
  const lsp::State st = seg.lsp->state();
  if (st == lsp::State::kReady) return answer_from_lsp(std::move(a), deps);
  if (a.req.wait_ready_ms > 0) {
    auto post = deps.post_work;
    const LspDeps d = deps;
    seg.lsp->when_ready(std::chrono::milliseconds(a.req.wait_ready_ms), [a, post, d](lsp::State s) mutable {
      a.state = std::string(lsp::state_name(s));
      if (s == lsp::State::kReady) return answer_from_lsp(std::move(a), d);
      post([a = std::move(a), s]() mutable {
        answer_from_ast(std::move(a), "lsp_not_ready: " + std::string(lsp::state_name(s)) + " after wait");
      });
    });
    return;
  }
  answer_from_ast(std::move(a), "lsp_not_ready: " + std::string(lsp::state_name(st)));
}

}  // namespace

void bind_lsp_handlers(Dispatcher& d, const LspConfig& config, LspDeps deps) {
  const bool enabled = config.enabled;
  d.bind_typed(proto::spec::kLspStatus, [enabled](Context& ctx, proto::LspStatusParams, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    Segment& seg = *ctx.segment;
    proto::LspStatusResult out;
    out.enabled = enabled;
    out.available = seg.lsp != nullptr;
    if (!seg.lsp) {
      out.state = "UNAVAILABLE";
      out.reason = seg.lsp_unavailable;
      return reply.ok(json::value_from(out));
    }
    const lsp::Status s = seg.lsp->status();
    out.binary = s.binary;
    out.binary_name = s.binary_name;
    out.version = s.version;
    out.source = seg.lsp_server.source;
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
    reply.ok(json::value_from(out));
  });

  for (const char* method : {"definition", "hover", "references", "diagnostics"}) {
    const std::string m = method;
    d.bind_typed<proto::LspPositionParams>("lsp." + m, [m, deps](Context& ctx, proto::LspPositionParams p, Reply reply) {
      if (!require_segment(ctx, reply)) return;
      (void)deps.service->sync(*ctx.segment);  // Pyright and the fallback see every change made so far
      auto req = parse_position(ctx, p, m, reply, m != "diagnostics");
      if (!req) return;
      route(Answer{std::make_shared<Reply>(std::move(reply)), ctx.segment, std::move(*req), {}}, deps);
    });
  }
}

}  // namespace trifecta::daemon
