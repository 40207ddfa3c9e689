#include "handlers_ast.hpp"

#include "ast/skeleton.hpp"
#include "proto_convert.hpp"
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
  // `name` is added by the encoder (proto::encode_error), so it is left out here.
  json::object data = json::value_from(to_proto(e)).as_object();
  data.erase("name");
  return RpcError{code, e.message, std::move(data)};
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

}  // namespace

void bind_ast_handlers(Dispatcher& d) {
  d.bind_typed(proto::spec::kAstSkeleton, [](Context& ctx, proto::AstSkeletonParams p, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    const std::string& path = p.path;
    const std::string& format = p.format;
    if (format != "text" && format != "json" && format != "both") {
      return reply.fail(RpcError{ErrorCode::kInvalidParams, "params.format: expected \"text\", \"json\" or \"both\"", {}});
    }
    auto target = resolve_target(*ctx.segment, path, reply);
    if (!target) return;
    auto got = ctx.segment->skeletons().get(target->abs, target->rel);
    if (!got) return reply.fail(got.error());
    const ast::Skeleton& sk = *got->skeleton;
    ast::RenderOptions ro;
    ro.line_numbers = p.line_numbers;
    proto::AstSkeletonResult out;
    out.file = target->rel;
    out.status = std::string(ast::parse_status_name(sk.status));
    out.cache_hit = got->cache_hit;
    out.source_bytes = static_cast<std::int64_t>(sk.source_bytes);
    out.skeleton_bytes = static_cast<std::int64_t>(got->skeleton_bytes);
    out.reduction_ratio = got->reduction_ratio;
    out.content_key = got->content_key;
    if (format != "json") out.rendered = ast::render(sk, ro);
    if (format != "text") out.skeleton = to_proto(sk);
    reply.ok(json::value_from(out));
  });

  d.bind_typed(proto::spec::kAstSymbols, [](Context& ctx, proto::AstSymbolsParams p, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    auto target = resolve_target(*ctx.segment, p.path, reply);
    if (!target) return;
    auto got = ctx.segment->skeletons().get(target->abs, target->rel);
    if (!got) return reply.fail(got.error());
    proto::AstSymbolsResult out;
    out.file = target->rel;
    out.status = std::string(ast::parse_status_name(got->skeleton->status));
    ast::for_each_definition(*got->skeleton, [&](const ast::Definition& def) { out.symbols.push_back(to_symbol_info(def)); });
    for (const auto& c : got->skeleton->constants) out.constants.push_back(to_constant_info(c));
    out.count = static_cast<std::int64_t>(out.symbols.size());
    reply.ok(json::value_from(out));
  });

  d.bind_typed(proto::spec::kSymResolve, [](Context& ctx, proto::SymResolveParams p, Reply reply) {
    if (!require_segment(ctx, reply)) return;
    const std::string& uri = p.uri;
    sel::FsSegmentSource source(ctx.segment->root, ctx.segment->skeletons());
    sel::Resolver resolver(source, ctx.segment->telemetry);
    auto r = resolver.resolve(uri);
    if (!r) return reply.fail(selector_rpc_error(r.error()));
    reply.ok(json::value_from(to_proto(*r)));
  });
}

}  // namespace trifecta::daemon
