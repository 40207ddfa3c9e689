// telemetry/report_format.hpp — the number formatting the report's renderings share (text tables,
// charts and the HTML page print the same figure the same way). Internal to lib/telemetry's report
// module (report_text.cpp, report_html.cpp).
//
// Thread rules: pure functions. Failure: none; `fmt` truncates its output at 2,047 bytes.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

namespace trifecta::core::telemetry::report_format {

inline std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
inline std::string fmt(const char* f, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}
// Milliseconds: three decimals below 100 ms, one above.
inline std::string ms(double v) {
  return v < 100 ? fmt("%.3f", v) : fmt("%.1f", v);
}
// A rate in [0, 1] as a percentage with one decimal.
inline std::string pct(double rate) {
  return fmt("%.1f%%", rate * 100.0);
}
inline std::string u(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace trifecta::core::telemetry::report_format
