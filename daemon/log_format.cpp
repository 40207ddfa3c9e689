#include "log_format.hpp"

#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>

#include <string_view>

#include "util/utf8.hpp"

namespace trifecta::daemon {

Utf8SafeFormatter::Utf8SafeFormatter(std::string pattern)
    : pattern_(std::move(pattern)), inner_(std::make_unique<spdlog::pattern_formatter>(pattern_)) {}

void Utf8SafeFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  if (core::utf8::is_valid(payload)) {
    inner_->format(msg, dest);
    return;
  }
  const std::string escaped = core::utf8::escape_name(payload);
  spdlog::details::log_msg copy = msg;
  copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
  inner_->format(copy, dest);
  // The colour range (%^ … %$) is read from the caller's message by colour sinks.
  msg.color_range_start = copy.color_range_start;
  msg.color_range_end = copy.color_range_end;
}

std::unique_ptr<spdlog::formatter> Utf8SafeFormatter::clone() const {
  return std::make_unique<Utf8SafeFormatter>(pattern_);
}

}  // namespace trifecta::daemon
