// daemon/config.hpp — trifectad's configuration: flags, environment and derived paths.
//
// Socket path resolution (first match wins): --socket, $TRIFECTA_SOCKET,
// $XDG_RUNTIME_DIR/trifecta/trifectad.sock, /tmp/trifecta-<uid>/trifectad.sock. The path must fit in
// sockaddr_un (kept under 104 bytes for portability) or start-up fails with a clear error.
// State (log file, daemon-level telemetry): $XDG_STATE_HOME/trifecta or ~/.local/state/trifecta.
//
// Thread rules: built once in main(), then read-only.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>

namespace trifecta::daemon {

namespace fs = std::filesystem;

struct Config {
  fs::path socket_path;
  fs::path state_dir;                          // $XDG_STATE_HOME/trifecta
  bool foreground = false;                     // stay attached; log to stderr
  std::string log_level = "info";
  std::chrono::seconds idle_timeout{30 * 60};  // 0 = never exit when idle
  std::chrono::seconds conn_idle_timeout{300}; // close a connection silent for this long
  std::chrono::seconds drain_timeout{10};      // graceful stop: wait this long for in-flight work
  std::size_t max_line_bytes = std::size_t{16} << 20;
  std::size_t max_inflight_per_conn = 256;
  std::size_t max_connections = 256;
  std::size_t max_segments = 16;             // open segments; more → evict the LRU idle one
  // Issue 16 items 8-11 (docs/reliability.md "Limits"):
  std::size_t max_buffered_bytes = std::size_t{64} << 20;  // unterminated request bytes, all connections
  std::size_t max_reply_bytes = std::size_t{32} << 20;     // a longer reply becomes TOO_LARGE
  std::chrono::seconds request_timeout{600};               // a request unanswered this long → TIMEOUT
  std::chrono::seconds conn_idle_timeout_pressure{10};     // idle timeout above 3/4 of max_connections
  unsigned workers = 0;                        // 0 = hardware threads (at least 2)
  // Index builds run on their own pool of this many threads (each build reads files on all
  // cores), never on the workers: ping, status and wait:false requests never queue behind one.
  unsigned build_threads = 2;
};

inline constexpr std::size_t kMaxSocketPathBytes = 103;  // 104 incl. NUL (macOS sun_path)

// Defaults for the socket path and state directory from the environment.
fs::path default_socket_path();
fs::path default_state_dir();

}  // namespace trifecta::daemon
