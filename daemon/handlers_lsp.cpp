#include "handlers_lsp.hpp"

#include <boost/asio/io_context.hpp>
#include <deque>

#include "lsp/client.hpp"

namespace trifecta::daemon {

using proto::ErrorCode;
using proto::RpcError;
namespace lsp = core::lsp;

namespace {

bool skip_dir(const std::string& name) {
  static const char* const kSkip[] = {"node_modules", "__pycache__", "_ctx", "venv", "build", "dist", "site-packages"};
  if (name.empty() || name[0] == '.') return true;
  for (const char* s : kSkip) {
    if (name == s) return true;
  }
  return false;
}

}  // namespace

std::filesystem::path first_python_file(const std::filesystem::path& root) {
  constexpr std::size_t kMaxEntries = 50'000;
  std::size_t seen = 0;
  std::deque<std::filesystem::path> dirs{root};
  while (!dirs.empty() && seen < kMaxEntries) {
    const auto dir = dirs.front();
    dirs.pop_front();
    std::vector<std::filesystem::directory_entry> entries;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      entries.push_back(*it);
      if (++seen >= kMaxEntries) break;
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.path() < b.path(); });
    for (const auto& e : entries) {
      if (e.is_regular_file(ec) && e.path().extension() == ".py") return e.path();
    }
    for (const auto& e : entries) {
      if (e.is_directory(ec) && !e.is_symlink(ec) && !skip_dir(e.path().filename().string())) dirs.push_back(e.path());
    }
  }
  return {};
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

void bind_lsp_handlers(Dispatcher& d, const LspConfig& config) {
  const bool enabled = config.enabled;
  d.bind("lsp.status", [enabled](Context& ctx, Reply reply) {
    if (!ctx.segment) {
      return reply.fail(RpcError{ErrorCode::kInvalidParams, "params.segment: missing required field (the segment root directory)", {}});
    }
    Segment& seg = *ctx.segment;
    json::object out{{"enabled", enabled}, {"available", seg.lsp != nullptr}};
    if (!seg.lsp) {
      out["state"] = "UNAVAILABLE";
      out["reason"] = seg.lsp_unavailable;
      return reply.ok(std::move(out));
    }
    const lsp::Status s = seg.lsp->status();
    out["binary"] = s.binary;
    out["binary_name"] = s.binary_name;
    out["version"] = s.version;
    out["source"] = seg.lsp_server.source;
    out["state"] = lsp::state_name(s.state);
    out["reason"] = s.reason;
    out["pid"] = s.pid;
    out["uptime_ms"] = s.uptime_ms;
    out["state_ms"] = s.state_ms;
    out["restarts"] = s.restarts;
    out["rss_bytes"] = s.rss_bytes;
    out["pending"] = s.pending;
    out["open_documents"] = s.open_documents;
    out["server_requests_answered"] = s.server_requests_answered;
    out["timeouts"] = s.timeouts;
    out["last_stderr"] = s.last_stderr;
    reply.ok(std::move(out));
  });
}

}  // namespace trifecta::daemon
