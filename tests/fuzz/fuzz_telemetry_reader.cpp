// fuzz_telemetry_reader — events.jsonl parsing (lib/telemetry/reader.hpp) on arbitrary bytes: a
// torn, binary or hostile file is counted as bad lines, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "telemetry/reader.hpp"

using namespace trifecta::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)telemetry::parse_events(text);
  return 0;
}
