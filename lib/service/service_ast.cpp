// Service's ast.* and sym.* methods: skeletons and the sym:// selector over a segment.
#include "ast/skeleton.hpp"
#include "selector/resolver.hpp"
#include "service/proto_convert.hpp"
#include "service/service.hpp"
#include "util/paths.hpp"

namespace trifecta::core::service {

using proto::ErrorCode;
using proto::RpcError;
namespace sel = selector;

namespace {

struct Target {
  std::string rel;
  fs::path abs;
};

// `path` → a Python file of the segment (a sym:// URI resolves through the selector).
std::variant<Target, RpcError> resolve_target(Segment& seg, const std::string& path) {
  if (path.rfind("sym://", 0) == 0) {
    sel::FsSegmentSource source(seg.root, seg.skeletons());
    sel::Resolver resolver(source, seg.telemetry, seg.resolver_options());
    auto r = resolver.resolve(path);
    if (!r) return selector_rpc_error(r.error());
    return Target{r->match.file, seg.root / r->match.file};
  }
  auto abs = resolve_in_root(seg.root, path);
  if (!abs) return to_rpc_error(abs.error());
  std::error_code ec;
  if (!fs::is_regular_file(*abs, ec)) {
    return RpcError{ErrorCode::kNotFound, "not a file in the segment: " + path, {}};
  }
  std::string rel = relpath(seg.root, *abs);
  if (auto e = not_python_error(rel, "a skeleton")) return std::move(*e);
  return Target{std::move(rel), *abs};
}

}  // namespace

void Service::skeleton(SegmentPtr seg, proto::AstSkeletonParams p,
                       Callback<proto::AstSkeletonResult> done) {
  const std::string& format = p.format;
  if (format != "text" && format != "json" && format != "both") {
    return done(RpcError{
        ErrorCode::kInvalidParams, "params.format: expected \"text\", \"json\" or \"both\"", {}});
  }
  auto target = resolve_target(*seg, p.path);
  if (auto* e = std::get_if<RpcError>(&target)) return done(std::move(*e));
  const Target& t = std::get<Target>(target);
  auto got = seg->skeletons().get(t.abs, t.rel);
  if (!got) return done(got.error());
  const ast::Skeleton& sk = *got->skeleton;
  ast::RenderOptions ro;
  ro.line_numbers = p.line_numbers;
  proto::AstSkeletonResult out;
  out.file = t.rel;
  out.status = std::string(ast::parse_status_name(sk.status));
  out.cache_hit = got->cache_hit;
  out.source_bytes = static_cast<std::int64_t>(sk.source_bytes);
  out.skeleton_bytes = static_cast<std::int64_t>(got->skeleton_bytes);
  out.reduction_ratio = got->reduction_ratio;
  out.content_key = got->content_key;
  if (format != "json") out.rendered = ast::render(sk, ro);
  if (format != "text") out.skeleton = to_proto(sk);
  out.generation = seg->index ? static_cast<std::int64_t>(seg->index->generation()) : 0;
  done(std::move(out));
}

void Service::symbols(SegmentPtr seg, proto::AstSymbolsParams p,
                      Callback<proto::AstSymbolsResult> done) {
  auto target = resolve_target(*seg, p.path);
  if (auto* e = std::get_if<RpcError>(&target)) return done(std::move(*e));
  const Target& t = std::get<Target>(target);
  auto got = seg->skeletons().get(t.abs, t.rel);
  if (!got) return done(got.error());
  proto::AstSymbolsResult out;
  out.file = t.rel;
  out.status = std::string(ast::parse_status_name(got->skeleton->status));
  ast::for_each_definition(*got->skeleton, [&](const ast::Definition& def) {
    out.symbols.push_back(to_symbol_info(def));
  });
  for (const auto& c : got->skeleton->constants) out.constants.push_back(to_constant_info(c));
  out.count = static_cast<std::int64_t>(out.symbols.size());
  out.generation = seg->index ? static_cast<std::int64_t>(seg->index->generation()) : 0;
  done(std::move(out));
}

void Service::resolve(SegmentPtr seg, proto::SymResolveParams p,
                      Callback<proto::SymResolveResult> done) {
  sel::FsSegmentSource source(seg->root, seg->skeletons());
  sel::Resolver resolver(source, seg->telemetry, seg->resolver_options());
  auto r = resolver.resolve(p.uri);
  if (!r) return done(selector_rpc_error(r.error()));
  done(to_proto(*r));
}

}  // namespace trifecta::core::service
