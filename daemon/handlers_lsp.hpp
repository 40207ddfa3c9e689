// daemon/handlers_lsp.hpp — the segment's Pyright: attaching it when a segment opens, and the
// lsp.* methods (status now; definition/hover/references/diagnostics with the AST fallback).
//
// Thread rules: attach_lsp runs from the registry's open hook, outside the registry lock and before
// the segment is visible to other requests (it only posts work to the I/O thread);
// handlers run on worker threads; lsp::Client callbacks arrive on the I/O thread and hand any CPU
// work (the AST fallback) back to the worker pool.
#pragma once

#include <functional>

#include "dispatcher.hpp"
#include "lsp/discovery.hpp"
#include "service/service.hpp"

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
void attach_lsp(Segment& seg, boost::asio::io_context& io, const LspConfig& config);

struct LspDeps {
  std::function<void(std::function<void()>)> post_work;  // run on the worker pool
  core::service::Service* service = nullptr;             // sync-before-answer
};

// lsp.status, and lsp.definition / lsp.hover / lsp.references / lsp.diagnostics: Pyright when it
// is READY (or becomes READY within params.wait_ready_ms), the AST fallback otherwise; replies say
// `backend` ("lsp" | "ast") and `lsp_state`.
void bind_lsp_handlers(Dispatcher& d, const LspConfig& config, LspDeps deps);

}  // namespace trifecta::daemon
