// fuzz_request — the daemon's request line parser (proto/jsonrpc.hpp parse_request) and every
// method's params decoder (catalog check_params) on arbitrary bytes: a request or a typed
// RpcError, never a crash. An error reply for it encodes to one line that parse_response reads
// back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "trifecta/proto/protocol.hpp"

using namespace trifecta;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  proto::ParsedRequest parsed = proto::parse_request(line);
  if (!parsed.request) {
    const std::string reply = proto::encode_error(parsed.id, parsed.error);
    if (reply.empty() || reply.back() != '\n') std::abort();
    std::string why;
    if (!proto::parse_response(std::string_view(reply).substr(0, reply.size() - 1), &why))
      std::abort();
    return 0;
  }
  const proto::Request& request = *parsed.request;
  if (const proto::MethodInfo* method = proto::find_method(request.method);
      method && method->check_params) {
    (void)method->check_params(request.params);
  }
  // The params of every method, not only the one named: all decoders see hostile objects.
  for (const proto::MethodInfo& method : proto::catalog()) {
    if (method.check_params) (void)method.check_params(request.params);
  }
  return 0;
}
