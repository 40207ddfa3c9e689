// util/result.hpp — errors as values for lib/.
//
// Expected failures (missing file, path escape, parse error, server down) are returned as
// `Error{code, message}` inside a `Result<T>`; exceptions are reserved for bugs and for the
// dispatcher's single catch-all. `Errc` is the one error vocabulary of lib/; the daemon maps it to
// wire error codes in one function (daemon/dispatcher).
//
// Thread rules: plain values; no shared state.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace trifecta::core {

enum class Errc {
  kInvalidArgument,  // caller passed something malformed
  kNotFound,         // file/symbol/id does not exist
  kPathEscape,       // path would leave the segment (.., absolute, symlink out)
  kPermission,       // OS refused access
  kIo,               // read/write failed
  kTooLarge,         // over a configured size limit
  kBinary,           // content is not text
  kParse,            // content could not be parsed
  kUnavailable,      // a backend (e.g. Pyright) is not available
  kTimeout,          // a deadline expired
  kAmbiguous,        // more than one candidate where one was required
  kInternal,         // a bug
};

std::string_view errc_name(Errc code) noexcept;

struct Error {
  Errc code = Errc::kInternal;
  std::string message;
};

// Result<T>: either a T or an Error. `Result<void>` carries only success or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace trifecta::core
