// telemetry/event.hpp — the shape of one telemetry event and the rules every event obeys.
//
// An event becomes one JSON line with exactly these top-level keys, in this order:
//   ts, run_id, segment_id, cmd, args, result, timing_ms, tokens, warnings, x
// Callers supply cmd/args/result/timing (and optionally warnings and extra fields); everything
// caller-supplied beyond the core goes under `x`. An extra field named like a reserved key is
// refused (Errc::kInvalidArgument, naming every colliding key) so no caller can forge core fields.
//
// `sanitize_args` enforces the redaction policy before anything is written: absolute paths become
// segment-relative (or external/<hash8>-<name>), content-like fields become {sha256, bytes}, secret-
// like fields become "[redacted]", long strings are truncated to a 200-character preview.
//
// Thread rules: plain values and pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace trifecta::core::telemetry {

namespace json = boost::json;

// The reserved top-level keys (the seed's list plus segment_id and x).
inline constexpr std::string_view kReservedKeys[] = {
    "ts", "run_id", "segment", "segment_id", "cmd", "args",
    "result", "timing_ms", "tokens", "warnings", "x"};

bool is_reserved_key(std::string_view key);

// Ok, or kInvalidArgument: "extra fields contain reserved keys: ts, run_id (reserved: ...)".
Result<void> check_extra_fields(const json::object& extra);

struct Event {
  std::string cmd;
  json::object args;
  json::object result;
  double timing_ms = 0.0;              // from a steady clock; <= 0 means "not timed"
  std::vector<std::string> warnings;
  json::object x;                      // extra fields (bytes_read, lsp_state, ...)
  std::int64_t tokens_in = -1;         // -1: estimated as ceil(bytes(args) / 4)
  std::int64_t tokens_out = -1;        // -1: estimated as ceil(bytes(result) / 4)
};

// Token estimate used throughout Trifecta: ceil(bytes / 4).
inline std::int64_t estimate_tokens(std::size_t bytes) {
  return static_cast<std::int64_t>((bytes + 3) / 4);
}

// Apply the redaction policy to `args` (recursively). `segment_root` is canonical.
json::object sanitize_args(const json::object& args, const std::filesystem::path& segment_root);

}  // namespace trifecta::core::telemetry
