// Spec of trifectad's log formatter (daemon/log_format.hpp): every line it writes is valid UTF-8;
// a name that is not is percent-escaped as replies and telemetry escape it (issue 16).
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>
#include <string>

#include "log_format.hpp"
#include "util/utf8.hpp"

namespace {

std::string log_line(const std::string& message) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  spdlog::logger logger("test", sink);
  logger.set_formatter(std::make_unique<trifecta::daemon::Utf8SafeFormatter>("%l %v"));
  logger.info("cannot read {}", message);
  logger.flush();
  return out.str();
}

}  // namespace

TEST_CASE("daemon log: a name that is not UTF-8 is written percent-escaped", "[daemon][log]") {
  const std::string line = log_line(std::string("pkg/caf\xe9%.py"));
  CHECK(trifecta::core::utf8::is_valid(line));
  CHECK(line == "info cannot read pkg/caf%E9%25.py\n");
}

TEST_CASE("daemon log: valid UTF-8 is written as it is, a literal percent included",
          "[daemon][log]") {
  CHECK(log_line("pkg/caf\xc3\xa9 100%.py") == "info cannot read pkg/caf\xc3\xa9 100%.py\n");
}

TEST_CASE("daemon log: a cloned formatter escapes too", "[daemon][log]") {
  trifecta::daemon::Utf8SafeFormatter f("%v");
  auto copy = f.clone();
  const std::string raw = "d\xff";
  spdlog::details::log_msg msg("test", spdlog::level::info,
                               spdlog::string_view_t(raw.data(), raw.size()));
  spdlog::memory_buf_t buf;
  copy->format(msg, buf);
  CHECK(std::string(buf.data(), buf.size()) == "d%FF\n");
}
