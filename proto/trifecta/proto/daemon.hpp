// proto/daemon.hpp — payloads of the daemon-level methods: hello, ping, status, shutdown and the
// debug-only debug.sleep. None of them needs a segment.
//
// Every struct is described (codec.hpp): json::value_from encodes it, `decode(v, out)` decodes it
// without throwing, `parse(params, out)` reads request params naming the bad field.
// Thread rules: plain values.
#pragma once

#include "trifecta/proto/codec.hpp"
#include "trifecta/proto/jsonrpc.hpp"

namespace trifecta::proto {

struct HelloParams {
  std::string client_name;
  std::string client_version;
  std::string protocol;  // "major.minor"
};
template <class V>
void describe(V& v, HelloParams& s) {
  v.opt("client_name", s.client_name, "the client's name, for logs");
  v.opt("client_version", s.client_version, "the client's version, for logs");
  v.req("protocol", s.protocol, "the protocol the client speaks, \"major.minor\"");
}

struct HelloResult {
  std::string daemon_version;
  std::string protocol;
  std::int64_t pid = 0;
  std::vector<std::string> capabilities;  // method names served
};
template <class V>
void describe(V& v, HelloResult& s) {
  v.req("daemon_version", s.daemon_version, "trifectad's version");
  v.req("protocol", s.protocol, "the daemon's protocol, \"major.minor\"");
  v.req("pid", s.pid, "the daemon's process id");
  v.req("capabilities", s.capabilities, "the method names served");
}

using PingParams = NoParams;
struct PingResult {
  bool pong = true;
  std::int64_t pid = 0;
};
template <class V>
void describe(V& v, PingResult& s) {
  v.req("pong", s.pong, "always true");
  v.req("pid", s.pid, "the daemon's process id");
}

struct SegmentStatus {
  std::string segment_id;
  std::string root;       // absolute; this reply goes only to the same user over a 0600 socket
  std::string state;      // index build: "idle" | "building" | "ready" | "failed"
  std::string lsp_state;  // COLD | WARMING | READY | FAILED | UNAVAILABLE
  double opened_s_ago = 0;
  std::int64_t requests = 0;
  std::int64_t memory_bytes = 0;  // what the open segment costs (index, caches, Pyright RSS)
};
template <class V>
void describe(V& v, SegmentStatus& s) {
  v.req("segment_id", s.segment_id, "short id of the segment");
  v.req("root", s.root, "absolute root directory");
  v.req("state", s.state, "index build: idle | building | ready | failed");
  v.req("lsp_state", s.lsp_state, "COLD | WARMING | READY | FAILED | UNAVAILABLE");
  v.req("opened_s_ago", s.opened_s_ago, "seconds since the segment was opened");
  v.req("requests", s.requests, "requests served for this segment");
  v.opt("memory_bytes", s.memory_bytes, "estimated memory of the open segment: index, caches, Pyright RSS (1.1)");
}
constexpr std::string_view wire_name(const SegmentStatus*) { return "SegmentStatus"; }

struct TelemetryStats {
  bool enabled = false;
  std::string run_id;
  std::int64_t attempted = 0;
  std::int64_t dropped = 0;
  std::int64_t lines_written = 0;
  std::int64_t write_errors = 0;
  std::int64_t recreated = 0;
  std::string last_error;
};
template <class V>
void describe(V& v, TelemetryStats& s) {
  v.req("enabled", s.enabled, "telemetry is written");
  v.req("run_id", s.run_id, "this daemon run's id in telemetry");
  v.req("attempted", s.attempted, "events offered");
  v.req("dropped", s.dropped, "events dropped (queue full)");
  v.req("lines_written", s.lines_written, "lines written");
  v.req("write_errors", s.write_errors, "failed writes");
  v.opt("recreated", s.recreated, "events files found removed or replaced and recreated");
  v.opt("last_error", s.last_error, "why events cannot be written now (empty when they can)");
}
constexpr std::string_view wire_name(const TelemetryStats*) { return "TelemetryStats"; }

using StatusParams = NoParams;
struct StatusResult {
  std::string daemon_version;
  std::string protocol;
  std::int64_t pid = 0;
  double uptime_s = 0;
  std::int64_t rss_bytes = 0;
  std::int64_t connections = 0;
  std::int64_t in_flight = 0;
  std::int64_t requests_total = 0;
  std::int64_t workers = 0;
  std::string socket;
  bool socket_activated = false;
  double idle_timeout_s = 0;
  std::vector<SegmentStatus> segments;
  TelemetryStats telemetry;
};
template <class V>
void describe(V& v, StatusResult& s) {
  v.req("daemon_version", s.daemon_version, "trifectad's version");
  v.req("protocol", s.protocol, "the daemon's protocol");
  v.req("pid", s.pid, "the daemon's process id");
  v.req("uptime_s", s.uptime_s, "seconds since start");
  v.req("rss_bytes", s.rss_bytes, "resident memory");
  v.req("connections", s.connections, "open connections");
  v.req("in_flight", s.in_flight, "requests being served");
  v.req("requests_total", s.requests_total, "requests served since start");
  v.req("workers", s.workers, "worker threads");
  v.req("socket", s.socket, "the socket path");
  v.req("socket_activated", s.socket_activated, "started by systemd socket activation");
  v.req("idle_timeout_s", s.idle_timeout_s, "exit after this long without connections (0: never)");
  v.req("segments", s.segments, "open segments");
  v.req("telemetry", s.telemetry, "telemetry sink counters");
}

using ShutdownParams = NoParams;
struct ShutdownResult {
  bool stopping = true;
};
template <class V>
void describe(V& v, ShutdownResult& s) {
  v.req("stopping", s.stopping, "always true: the daemon stops after in-flight requests");
}

// segment.close: forget an open segment (its Pyright stops, its index is saved). The dispatcher
// does not open params.segment for this method: a path or a segment_id names an open segment.
struct SegmentCloseParams {
  std::string segment;
};
template <class V>
void describe(V& v, SegmentCloseParams& s) {
  v.req("segment", s.segment, "the segment's root path or segment_id");
}
struct SegmentCloseResult {
  bool closed = false;
  std::string segment_id;
};
template <class V>
void describe(V& v, SegmentCloseResult& s) {
  v.req("closed", s.closed, "false when no such segment was open");
  v.req("segment_id", s.segment_id, "short id of the segment (empty when none was open)");
}

struct DebugSleepParams {
  std::int64_t ms = 0;
};
template <class V>
void describe(V& v, DebugSleepParams& s) {
  v.req("ms", s.ms, "milliseconds to wait before answering, 0..60000");
}
struct DebugSleepResult {
  std::int64_t slept_ms = 0;
};
template <class V>
void describe(V& v, DebugSleepResult& s) {
  v.req("slept_ms", s.slept_ms, "the requested delay");
}

}  // namespace trifecta::proto
