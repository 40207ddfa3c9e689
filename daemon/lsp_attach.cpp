#include "lsp_attach.hpp"

#include <boost/asio/io_context.hpp>

#include "lang/language.hpp"
#include "lsp/client.hpp"
#include "workspace/file_list.hpp"

namespace trifecta::daemon {

namespace lsp = core::lsp;
namespace ws = core::workspace;

std::filesystem::path first_python_file(const std::filesystem::path& root) {
  // lib/workspace's walker and exclude list (the segment's config included), not a second copy.
  auto config = ws::load_config(root);
  const ws::PathFilter filter(config ? std::move(*config) : ws::SegmentConfig{});
  const std::string rel = ws::first_file_with_suffix(root, filter, ".py");
  return rel.empty() ? std::filesystem::path() : root / rel;
}

void attach_lsp(core::service::Segment& seg, boost::asio::io_context& io, const LspConfig& config) {
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
  // The segment's language (Python: the only one the daemon runs a server for today) names the
  // didOpen languageId and the server's default settings.
  const core::lang::Language& language = core::lang::python_language();
  o.language_id = std::string(language.lsp_language_id);
  o.settings = language.default_settings(o.server);
  // The segment's layout (detected at open): a package root's parent or src/ as extraPaths, so
  // the tree's own imports resolve (lang/python/layout.hpp).
  core::lang::python::add_layout_settings(seg.layout, o.settings);
  o.workspace_scanned = &core::lang::python::workspace_scan_files;
  o.request_timeout = config.request_timeout;
  o.ready_timeout = config.ready_timeout;
  o.idle_timeout = config.idle_timeout;
  o.rss_limit_bytes = config.rss_limit_bytes;
  o.telemetry = seg.telemetry;
  seg.lsp = std::make_unique<lsp::Client>(io, std::move(o));
  // Warm-up starts now, in parallel with everything else the segment does.
  seg.lsp->start(first_python_file(seg.root));
}

}  // namespace trifecta::daemon
