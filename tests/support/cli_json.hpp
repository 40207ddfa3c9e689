// Test support: reading the CLI's `--json` output in integration tests (Catch2 assertions inside).
#pragma once

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <string>

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

}  // namespace trifecta::test
