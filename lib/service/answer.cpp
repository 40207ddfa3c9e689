#include "service/answer.hpp"

#include "lang/language.hpp"
#include "service/proto_convert.hpp"

namespace trifecta::core::service {

using proto::ErrorCode;

proto::RpcError to_rpc_error(const Error& e) {
  ErrorCode code = ErrorCode::kInternalError;
  switch (e.code) {
    case Errc::kInvalidArgument:
      code = ErrorCode::kInvalidArgument;
      break;
    case Errc::kNotFound:
      code = ErrorCode::kNotFound;
      break;
    case Errc::kPathEscape:
      code = ErrorCode::kPathEscape;
      break;
    case Errc::kPermission:
      code = ErrorCode::kPermissionDenied;
      break;
    case Errc::kIo:
      code = ErrorCode::kIoError;
      break;
    case Errc::kTooLarge:
      code = ErrorCode::kTooLarge;
      break;
    case Errc::kBinary:
      code = ErrorCode::kBinaryFile;
      break;
    case Errc::kParse:
      code = ErrorCode::kSourceParseError;
      break;
    case Errc::kUnavailable:
      code = ErrorCode::kUnavailable;
      break;
    case Errc::kTimeout:
      code = ErrorCode::kTimeout;
      break;
    case Errc::kAmbiguous:
      code = ErrorCode::kAmbiguous;
      break;
    case Errc::kInternal:
      code = ErrorCode::kInternalError;
      break;
  }
  return proto::RpcError{code, e.message, {}};
}

std::optional<proto::RpcError> not_python_error(std::string_view rel, std::string_view what) {
  if (lang::language_for_path(rel) != nullptr) return std::nullopt;
  boost::json::object data{{"path", std::string(rel)}};
  return proto::RpcError{ErrorCode::kNotPython,
                         std::string(rel) + " is not a Python file (no .py suffix): " +
                             std::string(what) + " needs a Python source",
                         std::move(data)};
}

proto::RpcError selector_rpc_error(const selector::SelectorError& e) {
  ErrorCode code = ErrorCode::kInvalidUri;
  switch (e.code) {
    case selector::SelectorErrc::kInvalidUri:
      code = ErrorCode::kInvalidUri;
      break;
    case selector::SelectorErrc::kFileNotFound:
      code = ErrorCode::kFileNotFound;
      break;
    case selector::SelectorErrc::kSymbolNotFound:
      code = ErrorCode::kSymbolNotFound;
      break;
    case selector::SelectorErrc::kAmbiguousSymbol:
      code = ErrorCode::kAmbiguousSymbol;
      break;
  }
  // `name` is added by the encoder (proto::encode_error), so it is left out here.
  boost::json::object data = boost::json::value_from(to_proto(e)).as_object();
  data.erase("name");
  return proto::RpcError{code, e.message, std::move(data)};
}

}  // namespace trifecta::core::service
