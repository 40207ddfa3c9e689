// daemon/lsp_attach.hpp — the segment's Pyright: attaching it when a segment opens. The client
// needs the daemon's io_context, so it is created here (from ServiceOptions::on_open) and not in
// lib/service; the lsp.* methods and their AST fallback are lib/service's (service_lsp.cpp), which
// only calls lsp::Client methods.
//
// Thread rules: attach_lsp runs from the registry's open hook, outside the registry lock and before
// the segment is visible to other requests (it only posts work to the I/O thread).
// Failure behaviour: no client (disabled, not installed) leaves Segment::lsp null with the reason
// in Segment::lsp_unavailable; the lsp.* methods then answer from the AST.
#pragma once

#include <chrono>
#include <filesystem>

#include "lsp/server.hpp"
#include "service/segment.hpp"

namespace trifecta::daemon {

struct LspConfig {
  bool enabled = true;                            // --no-lsp turns it off
  core::Result<core::lsp::ServerBinary> server = core::make_error(core::Errc::kUnavailable, "not discovered");
  std::chrono::milliseconds ready_timeout{60'000};
  std::chrono::milliseconds request_timeout{5'000};
  std::chrono::milliseconds idle_timeout{15 * 60'000};  // an unused segment's server stops → COLD
  std::uint64_t rss_limit_bytes = std::uint64_t{2} << 30;
};

// The first Python file of a segment in a deterministic walk (sorted, default excludes skipped,
// bounded): the file whose diagnostics mark the server READY.
std::filesystem::path first_python_file(const std::filesystem::path& root);

// Create and start the segment's Pyright client (or record why there is none).
void attach_lsp(core::service::Segment& seg, boost::asio::io_context& io, const LspConfig& config);

}  // namespace trifecta::daemon
