// lsp/framing.hpp — the LSP base protocol: `Content-Length` framed JSON-RPC messages.
//
// `encode_frame` wraps one JSON body in its header. `FrameDecoder` is the incremental reader: feed
// it whatever bytes a pipe read returned (a partial header, several messages at once, a body split
// over many reads) and take complete bodies out with `next()`. It never allocates more than
// `max_body_bytes` for one message plus the unread remainder of the stream.
//
// Failure behaviour: a header block larger than `kMaxHeaderBytes`, a header line without a colon,
// a missing/duplicated/non-numeric `Content-Length`, or a length above `max_body_bytes` is a typed
// error (`Errc::kParse` or `Errc::kTooLarge`). After an error the stream cannot be re-synchronised
// (there is no frame marker to search for), so the decoder stays failed and keeps returning the
// same error; the owner must drop the connection (for Pyright: restart the server).
//
// Thread rules: plain values; a decoder belongs to the one reader of its stream.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace trifecta::core::lsp {

inline constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
inline constexpr std::size_t kDefaultMaxBodyBytes = std::size_t{64} << 20;  // 64 MiB

// "Content-Length: <n>\r\n\r\n<body>"
std::string encode_frame(std::string_view body);

class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_body_bytes = kDefaultMaxBodyBytes)
      : max_body_(max_body_bytes) {}

  // Append bytes read from the stream. Cheap; parsing happens in next().
  void feed(std::string_view bytes) { buffer_.append(bytes); }

  // The next complete body; std::nullopt when more bytes are needed; an Error when the stream is
  // malformed (sticky, see the header comment).
  Result<std::optional<std::string>> next();

  bool failed() const { return error_.has_value(); }
  // Bytes held but not yet returned (a partial frame).
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  Result<std::optional<std::string>> fail(Error e);

  std::size_t max_body_;
  std::string buffer_;
  std::size_t consumed_ = 0;                // prefix of buffer_ already returned
  std::optional<std::size_t> body_length_;  // parsed header of the frame in progress
  std::optional<Error> error_;
};

}  // namespace trifecta::core::lsp
