#include "util/result.hpp"

namespace trifecta::core {

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::kInvalidArgument: return "INVALID_ARGUMENT";
    case Errc::kNotFound: return "NOT_FOUND";
    case Errc::kPathEscape: return "PATH_ESCAPE";
    case Errc::kPermission: return "PERMISSION_DENIED";
    case Errc::kIo: return "IO_ERROR";
    case Errc::kTooLarge: return "TOO_LARGE";
    case Errc::kBinary: return "BINARY_FILE";
    case Errc::kParse: return "PARSE_ERROR";
    case Errc::kUnavailable: return "UNAVAILABLE";
    case Errc::kTimeout: return "TIMEOUT";
    case Errc::kAmbiguous: return "AMBIGUOUS";
    case Errc::kInternal: return "INTERNAL";
  }
  return "INTERNAL";
}

}  // namespace trifecta::core
