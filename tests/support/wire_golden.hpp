// Test support: the wire goldens under tests/golden/wire/ (one file per captured request).
//
// A golden file is `{"method": m, "params": {...}, "result": {...}}` or `{..., "error": {...}}`:
// the params as sent (without `segment`, which every segment request adds) and the reply after
// `normalise_wire`. Volatile values are normalised so that goldens are stable across runs and
// machines: every string has the segment root replaced by "$ROOT" and the socket path by
// "$SOCKET"; the values of the keys in `kVolatileKeys` (at any depth) become 0 / 0.0 / "" of
// their JSON kind. Written pretty-printed with keys in reply order.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace trifecta::test {

namespace wire_json = boost::json;

// Process ids, clocks, memory, machine-dependent thread counts, per-run ids and counters.
inline constexpr std::string_view kVolatileKeys[] = {
    "pid",         "uptime_s",  "uptime_ms",  "state_ms",      "rss_bytes",      "opened_s_ago",
    "elapsed_ms",  "last_update", "memory_bytes", "run_id",     "threads",        "workers",
    "connections", "in_flight", "requests_total", "requests",  "attempted",      "lines_written",
    "dropped",     "write_errors", "segment_id"};

inline void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

inline void normalise_wire(wire_json::value& v, std::string_view root, std::string_view socket) {
  if (v.is_string()) {
    std::string s(v.as_string());
    replace_all(s, socket, "$SOCKET");
    replace_all(s, root, "$ROOT");
    v = s;
  } else if (v.is_array()) {
    for (auto& e : v.as_array()) normalise_wire(e, root, socket);
  } else if (v.is_object()) {
    for (auto& kv : v.as_object()) {
      bool is_volatile = false;
      for (auto k : kVolatileKeys) is_volatile = is_volatile || kv.key() == k;
      auto& x = kv.value();
      if (is_volatile && x.is_int64()) x = std::int64_t{0};
      else if (is_volatile && x.is_uint64()) x = std::int64_t{0};
      else if (is_volatile && x.is_double()) x = 0.0;
      else if (is_volatile && x.is_string()) x = "";
      else normalise_wire(x, root, socket);
    }
  }
}

// Deterministic, diff-friendly JSON (Boost 1.81 has no pretty printer).
inline void pretty_json(const wire_json::value& v, std::string& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    std::size_t i = 0;
    for (const auto& kv : o) {
      out += pad + "  " + wire_json::serialize(wire_json::value(kv.key())) + ": ";
      pretty_json(kv.value(), out, indent + 1);
      out += ++i < o.size() ? ",\n" : "\n";
    }
    out += pad + "}";
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    bool scalars = true;
    for (const auto& e : a) scalars = scalars && !e.is_object() && !e.is_array();
    if (scalars) {
      out += wire_json::serialize(v);
      return;
    }
    out += "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      out += pad + "  ";
      pretty_json(a[i], out, indent + 1);
      out += i + 1 < a.size() ? ",\n" : "\n";
    }
    out += pad + "]";
  } else {
    out += wire_json::serialize(v);
  }
}

inline std::string pretty_json(const wire_json::value& v) {
  std::string out;
  pretty_json(v, out, 0);
  return out + "\n";
}

inline bool update_golden() {
  const char* e = std::getenv("TRIFECTA_UPDATE_GOLDEN");
  return e && std::string_view(e) == "1";
}

}  // namespace trifecta::test
