#include "lsp/framing.hpp"

#include <charconv>
#include <cctype>

namespace trifecta::core::lsp {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string encode_frame(std::string_view body) {
  std::string out = "Content-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
  return out;
}

Result<std::optional<std::string>> FrameDecoder::fail(Error e) {
  error_ = e;
  return e;
}

Result<std::optional<std::string>> FrameDecoder::next() {
  if (error_) return *error_;
  std::string_view rest(buffer_);
  rest.remove_prefix(consumed_);

  if (!body_length_) {
    const std::size_t end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (rest.size() > kMaxHeaderBytes)
        return fail(make_error(Errc::kTooLarge, "LSP header block exceeds " +
                                                    std::to_string(kMaxHeaderBytes) + " bytes"));
      return std::optional<std::string>{};
    }
    if (end > kMaxHeaderBytes)
      return fail(make_error(Errc::kTooLarge,
                             "LSP header block exceeds " + std::to_string(kMaxHeaderBytes) + " bytes"));
    std::string_view headers = rest.substr(0, end);
    std::optional<std::size_t> length;
    while (!headers.empty()) {
      const std::size_t eol = headers.find("\r\n");
      std::string_view line = headers.substr(0, eol);
      headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 2);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos)
        return fail(make_error(Errc::kParse, "malformed LSP header line (no colon)"));
      std::string_view name = trim(line.substr(0, colon));
      std::string_view value = trim(line.substr(colon + 1));
      if (!iequals(name, "Content-Length")) continue;  // Content-Type and future headers
      if (length) return fail(make_error(Errc::kParse, "duplicate Content-Length header"));
      std::size_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc::result_out_of_range)
        return fail(make_error(Errc::kTooLarge, "Content-Length out of range"));
      if (ec != std::errc() || ptr != value.data() + value.size() || value.empty())
        return fail(make_error(Errc::kParse, "non-numeric Content-Length"));
      length = n;
    }
    if (!length) return fail(make_error(Errc::kParse, "LSP header block without Content-Length"));
    if (*length > max_body_)
      return fail(make_error(Errc::kTooLarge, "LSP message of " + std::to_string(*length) +
                                                  " bytes exceeds the limit of " +
                                                  std::to_string(max_body_)));
    body_length_ = *length;
    consumed_ += end + 4;
    rest.remove_prefix(end + 4);
  }

  if (rest.size() < *body_length_) return std::optional<std::string>{};
  std::string body(rest.substr(0, *body_length_));
  consumed_ += *body_length_;
  body_length_.reset();
  // Compact once the consumed prefix dominates, so a long session does not keep every byte.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 64 * 1024 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<std::string>{std::move(body)};
}

}  // namespace trifecta::core::lsp
