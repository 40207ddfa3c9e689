// Test support: reading the CLI's `--json` output in integration tests (Catch2 assertions inside),
// and a counter of a segment's telemetry summary (last_run.json).
#pragma once

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "process.hpp"

namespace trifecta::test {

// The `result` of a successful `trifecta --json …` run (fails the test otherwise).
inline boost::json::object result_of(const RunResult& r) {
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return boost::json::parse(r.out).at("result").as_object();
}

// The stable error name (error.data.name) of a failed `trifecta --json …` run.
inline std::string error_name_of(const RunResult& r) {
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 1);
  return std::string(boost::json::parse(r.out).at("error").at("data").at("name").as_string());
}

// A counter of a segment's telemetry as `last_run` (its last_run.json: rewritten once a second
// while something changed) has it under metrics_delta; 0 before the file or the counter exists.
inline std::int64_t last_run_metric(const std::filesystem::path& last_run, std::string_view name) {
  if (!std::filesystem::exists(last_run)) return 0;
  const auto v = boost::json::parse(read_text(last_run)).as_object();
  const auto& m = v.at("metrics_delta").as_object();
  return m.contains(name) ? m.at(name).as_int64() : 0;
}

}  // namespace trifecta::test
