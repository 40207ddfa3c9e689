#include "methods.hpp"

namespace trifecta::daemon {

bool needs_segment(std::string_view name) {
  const proto::MethodInfo* row = proto::find_method(name);
  return row != nullptr && row->needs_segment;
}

Segment::ProgressFn progress_notifier(const Context& ctx) {
  if (!ctx.peer.notify || !ctx.segment) return {};
  return [notify = ctx.peer.notify, segment_id = ctx.segment->id](std::size_t done,
                                                                  std::size_t total) {
    notify(proto::encode_request(
        nullptr, "ctx.progress",
        json::object{{"segment_id", segment_id}, {"done", done}, {"total", total}}));
  };
}

void bind_service_methods(Dispatcher& d, Service& s) {
  bind(d, s, proto::spec::kAstSkeleton, &Service::skeleton);
  bind(d, s, proto::spec::kAstSymbols, &Service::symbols);
  bind(d, s, proto::spec::kSymResolve, &Service::resolve);
  bind(d, s, proto::spec::kSymSearch, &Service::search_symbols);
  bind(d, s, proto::spec::kLspCalls, &Service::calls);
  bind(d, s, proto::spec::kCtxBuild, &Service::build);
  bind(d, s, proto::spec::kCtxSearch, &Service::search);
  bind(d, s, proto::spec::kCtxGet, &Service::get);
  bind(d, s, proto::spec::kCtxStatus, &Service::index_status);
  bind(d, s, proto::spec::kCtxValidate, &Service::validate);
  bind(d, s, proto::spec::kCtxMap, &Service::map);
  bind(d, s, proto::spec::kLspStatus, &Service::lsp_status);
  bind(d, s, proto::spec::kLspRestart, &Service::lsp_restart);
  bind(d, s, proto::spec::kLspDefinition, &Service::definition);
  bind(d, s, proto::spec::kLspHover, &Service::hover);
  bind(d, s, proto::spec::kLspReferences, &Service::references);
  bind(d, s, proto::spec::kLspDiagnostics, &Service::diagnostics);
}

}  // namespace trifecta::daemon
