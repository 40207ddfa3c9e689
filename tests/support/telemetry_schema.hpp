// tests/support/telemetry_schema.hpp — holds telemetry files to docs/telemetry/*.schema.json.
//
// `check_telemetry_tree(dir)` finds every events.jsonl and last_run.json under `dir`, validates
// each complete event line against events.schema.json and each summary against
// last_run.schema.json, and records a Catch2 failure (FAIL_CHECK, so the test goes on) naming the
// file, the event's cmd and the violations. DaemonProcess calls it when the daemon tests are
// compiled with TRIFECTA_DOCS_DIR (tests/CMakeLists.txt), so every daemon integration test checks
// every event it produced. A torn last line (a killed daemon) is the reader's business, not a
// violation; any other invalid line is.
//
// Thread rules: call from the test's thread.
#pragma once

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "json_schema.hpp"
#include "telemetry/reader.hpp"

namespace trifecta::test {

inline boost::json::value load_json_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return boost::json::parse(ss.str());
}

inline JsonSchemaValidator& event_schema() {
  static JsonSchemaValidator v(load_json_file(std::filesystem::path(TRIFECTA_DOCS_DIR) /
                                              "telemetry" / "events.schema.json"));
  return v;
}

inline JsonSchemaValidator& last_run_schema() {
  static JsonSchemaValidator v(load_json_file(std::filesystem::path(TRIFECTA_DOCS_DIR) /
                                              "telemetry" / "last_run.schema.json"));
  return v;
}

struct TelemetryCheck {
  std::size_t events = 0;     // event lines validated
  std::size_t summaries = 0;  // last_run.json files validated
  std::size_t violations = 0;
};

inline TelemetryCheck check_telemetry_tree(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  TelemetryCheck out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const fs::path p = it->path();
    if (p.filename() == "events.jsonl") {
      auto report = core::telemetry::read_events(p);
      if (!report) continue;  // removed meanwhile
      if (report->invalid_lines != 0) {
        ++out.violations;
        FAIL_CHECK(p.string() << ": " << report->invalid_lines << " invalid line(s): "
                              << (report->problems.empty() ? "" : report->problems.front()));
      }
      for (const auto& e : report->events) {
        ++out.events;
        const auto errors = event_schema().validate(e);
        if (errors.empty()) continue;
        ++out.violations;
        std::string all;
        for (const auto& x : errors) all += "\n  " + x;
        FAIL_CHECK(p.string() << ": event violates docs/telemetry/events.schema.json:\n  "
                              << boost::json::serialize(e) << all);
      }
    } else if (p.filename() == "last_run.json") {
      ++out.summaries;
      boost::json::value doc;
      try {
        doc = load_json_file(p);
      } catch (const std::exception& ex) {
        ++out.violations;
        FAIL_CHECK(p.string() << ": not JSON: " << ex.what());
        continue;
      }
      const auto errors = last_run_schema().validate(doc);
      if (errors.empty()) continue;
      ++out.violations;
      std::string all;
      for (const auto& x : errors) all += "\n  " + x;
      FAIL_CHECK(p.string() << ": violates docs/telemetry/last_run.schema.json:" << all);
    }
  }
  return out;
}

}  // namespace trifecta::test
