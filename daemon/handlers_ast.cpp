#include "handlers_ast.hpp"

#include "ast/skeleton.hpp"
#include "selector/resolver.hpp"
#include "util/paths.hpp"

namespace trifecta::daemon {

using proto::ErrorCode;
using proto::RpcError;
namespace ast = core::ast;
namespace sel = core::selector;

RpcError selector_rpc_error(const sel::SelectorError& e) {
  ErrorCode code = ErrorCode::kInvalidUri;
  switch (e.code) {
    case sel::SelectorErrc::kInvalidUri: code = ErrorCode::kInvalidUri; break;
    case sel::SelectorErrc::kFileNotFound: code = ErrorCode::kFileNotFound; break;
    case sel::SelectorErrc::kSymbolNotFound: code = ErrorCode::kSymbolNotFound; break;
    case sel::SelectorErrc::kAmbiguousSymbol: code = ErrorCode::kAmbiguousSymbol; break;
  }
  json::array tried, suggestions, candidates;
  for (const auto& t : e.tried) tried.emplace_back(t);
  for (const auto& s : e.suggestions) suggestions.emplace_back(s);
  for (const auto& c : e.candidates) {
    candidates.push_back(json::object{{"file", c.file},           {"module", c.module},
                                      {"kind", c.kind},           {"qualname", c.qualname},
                                      {"line", c.line},           {"end_line", c.end_line},
                                      {"signature", c.signature}, {"conditional", c.conditional}});
  }
  return RpcError{code, e.message,
                  json::object{{"tried", std::move(tried)}, {"suggestions", std::move(suggestions)},
                               {"candidates", std::move(candidates)}}};
}

namespace {

struct Target {
  std::string rel;
  core::fs::path abs;
};

// `path` → a Python file of the segment (a sym:// URI resolves through the selector).
std::optional<Target> resolve_target(Segment& seg, const std::string& path, Reply& reply) {
  if (path.rfind("sym://", 0) == 0) {
    sel::FsSegmentSource source(seg.root, seg.skeletons());
    sel::Resolver resolver(source, seg.telemetry);
    auto r = resolver.resolve(path);
    if (!r) {
      reply.fail(selector_rpc_error(r.error()));
      return std::nullopt;
    }
    return Target{r->match.file, seg.root / r->match.file};
  }
  auto abs = core::resolve_in_root(seg.root, path);
  if (!abs) {
    reply.fail(abs.error());
    return std::nullopt;
  }
  std::error_code ec;
  if (!core::fs::is_regular_file(*abs, ec)) {
    reply.fail(RpcError{ErrorCode::kNotFound, "not a file in the segment: " + path, {}});
    return std::nullopt;
  }
  return Target{core::relpath(seg.root, *abs), *abs};
}

json::object symbol_json(const ast::Definition& d) {
  json::array decorators;
  for (const auto& x : d.decorators) decorators.emplace_back(x);
  return json::object{{"qualname", d.qualname},
                      {"name", d.name},
                      {"kind", ast::def_kind_name(d.kind)},
                      {"line", d.line},
                      {"end_line", d.end_line},
                      {"signature", d.signature},
                      {"docstring", d.docstring},
                      {"decorators", std::move(decorators)},
                      {"async", d.is_async},
                      {"conditional", d.conditional}};
}

}  // namespace

void bind_ast_handlers(Dispatcher& d) {
  d.bind(std::string(proto::method::kAstSkeleton), [](Context& ctx, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    std::string path, format = "both";
    bool line_numbers = false;
    proto::Fields f(ctx.params);
    f.required("path", path);
    f.optional("format", format);
    f.optional("line_numbers", line_numbers);
    if (!f.ok()) return reply.fail(RpcError{ErrorCode::kInvalidParams, *f.error(), {}});
    if (format != "text" && format != "json" && format != "both") {
      return reply.fail(RpcError{ErrorCode::kInvalidParams, "params.format: expected \"text\", \"json\" or \"both\"", {}});
    }
    auto target = resolve_target(*ctx.segment, path, reply);
    if (!target) return;
    auto got = ctx.segment->skeletons().get(target->abs, target->rel);
    if (!got) return reply.fail(got.error());
    const ast::Skeleton& sk = *got->skeleton;
    ast::RenderOptions ro;
    ro.line_numbers = line_numbers;
    json::object out{{"file", target->rel},
                     {"status", ast::parse_status_name(sk.status)},
                     {"cache_hit", got->cache_hit},
                     {"source_bytes", sk.source_bytes},
                     {"skeleton_bytes", got->skeleton_bytes},
                     {"reduction_ratio", got->reduction_ratio},
                     {"content_key", got->content_key}};
    if (format != "json") out["rendered"] = ast::render(sk, ro);
    if (format != "text") out["skeleton"] = ast::to_json(sk);
    reply.ok(std::move(out));
  });

  d.bind(std::string(proto::method::kAstSymbols), [](Context& ctx, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    std::string path;
    proto::Fields f(ctx.params);
    f.required("path", path);
    if (!f.ok()) return reply.fail(RpcError{ErrorCode::kInvalidParams, *f.error(), {}});
    auto target = resolve_target(*ctx.segment, path, reply);
    if (!target) return;
    auto got = ctx.segment->skeletons().get(target->abs, target->rel);
    if (!got) return reply.fail(got.error());
    json::array symbols;
    ast::for_each_definition(*got->skeleton, [&](const ast::Definition& def) { symbols.push_back(symbol_json(def)); });
    json::array constants;
    for (const auto& c : got->skeleton->constants) {
      constants.push_back(json::object{{"name", c.name}, {"line", c.line}, {"annotation", c.annotation},
                                       {"conditional", c.conditional}});
    }
    const std::size_t n = symbols.size();
    reply.ok(json::object{{"file", target->rel},
                          {"status", ast::parse_status_name(got->skeleton->status)},
                          {"count", n},
                          {"symbols", std::move(symbols)},
                          {"constants", std::move(constants)}});
  });

  d.bind(std::string(proto::method::kSymResolve), [](Context& ctx, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    std::string uri;
    proto::Fields f(ctx.params);
    f.required("uri", uri);
    if (!f.ok()) return reply.fail(RpcError{ErrorCode::kInvalidParams, *f.error(), {}});
    sel::FsSegmentSource source(ctx.segment->root, ctx.segment->skeletons());
    sel::Resolver resolver(source, ctx.segment->telemetry);
    auto r = resolver.resolve(uri);
    if (!r) return reply.fail(selector_rpc_error(r.error()));
    reply.ok(json::value_from(*r));
  });
}

}  // namespace trifecta::daemon
