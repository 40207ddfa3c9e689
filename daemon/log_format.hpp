// daemon/log_format.hpp — the formatter of trifectad's log (stderr in the foreground, else
// trifectad.log): spdlog's pattern formatter, except that a message that is not valid UTF-8 (a
// file, directory or segment name taken from disk) is written percent-escaped, as replies and
// telemetry write it (util/utf8.hpp `escape_name`, docs/protocol.md "Names that are not UTF-8").
// So every line of the log is valid UTF-8, and the escaped name is the one a client can send back.
//
// Failure behaviour: total (escaping never fails). Thread rules: like any spdlog formatter, one
// per sink; spdlog calls it under the sink's lock.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>

namespace trifecta::daemon {

class Utf8SafeFormatter final : public spdlog::formatter {
 public:
  explicit Utf8SafeFormatter(std::string pattern);
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::string pattern_;
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace trifecta::daemon
