// fuzz_lsp_framing — the LSP base-protocol decoder (lib/lsp/framing.hpp) on arbitrary bytes, fed
// in pieces whose sizes come from the input: it returns bodies, asks for more, or fails with a
// sticky typed error; a body is never larger than the cap. A body it returns, framed again with
// encode_frame, decodes to the same body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lsp/framing.hpp"

using namespace trifecta::core;

namespace {
constexpr std::size_t kCap = 1 << 16;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;  // the first byte chooses the read size
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  lsp::FrameDecoder decoder(kCap);
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    decoder.feed(stream.substr(at, piece));
    for (;;) {
      auto next = decoder.next();
      if (!next) {
        if (!decoder.failed()) std::abort();  // an error is sticky
        if (decoder.next()) std::abort();
        return 0;
      }
      if (!next->has_value()) break;
      const std::string& body = **next;
      if (body.size() > kCap) std::abort();
      lsp::FrameDecoder again(kCap);
      again.feed(lsp::encode_frame(body));
      auto round = again.next();
      if (!round || !round->has_value() || **round != body) std::abort();
    }
  }
  return 0;
}
