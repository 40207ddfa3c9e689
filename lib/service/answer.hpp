// service/answer.hpp — what a typed service method answers with: its proto result or the wire
// error (proto::RpcError), plus, optionally, what the request's telemetry event records.
//
// Every typed method of Service (service/service.hpp) reports through a Callback<R>, exactly once,
// now or later from an executor thread (or, for Pyright answers, after the executor picked the
// client's answer up). Errors are wire errors already: a lib/ core::Error converts with
// to_rpc_error (the one mapping of core::Errc to wire codes), a selector failure with
// selector_rpc_error (its stable name's code, with `tried`, `suggestions` and `candidates` in
// data), so the transport only encodes.
//
// Thread rules: plain values; a Callback may be called from any thread.
// Failure behaviour: none here (total mappings).
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <utility>
#include <variant>

#include "selector/sym_uri.hpp"
#include "trifecta/proto/jsonrpc.hpp"
#include "util/result.hpp"

namespace trifecta::core::service {

// What the request's telemetry event records instead of the defaults (the transport's: args =
// params without `segment`, result = {status}, x = {bytes_in, bytes_out}). `result` and `x` are
// merged over the defaults; `args` replaces them.
struct RequestTelemetry {
  boost::json::object args;
  boost::json::object result;
  boost::json::object x;
};

// core::Error → wire error (code by core::Errc, the message kept, no data).
proto::RpcError to_rpc_error(const Error& e);
// A selector failure on the wire: its stable name's code, plus tried / suggestions / candidates.
proto::RpcError selector_rpc_error(const selector::SelectorError& e);
// NOT_PYTHON when no language claims the segment-relative `rel` (lang::language_for_path): the
// message names the file and `what` needs a Python source ("diagnostics", "a skeleton", ...);
// data = {path}. nullopt for a Python file.
std::optional<proto::RpcError> not_python_error(std::string_view rel, std::string_view what);

template <class R>
class Outcome {
 public:
  Outcome(R value, std::optional<RequestTelemetry> telemetry = std::nullopt)  // NOLINT: implicit
      : v_(std::in_place_index<0>, std::move(value)), telemetry_(std::move(telemetry)) {}
  Outcome(proto::RpcError error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  Outcome(const Error& error) : Outcome(to_rpc_error(error)) {}                     // NOLINT

  bool ok() const { return v_.index() == 0; }
  R& value() { return std::get<0>(v_); }
  const R& value() const { return std::get<0>(v_); }
  const proto::RpcError& error() const { return std::get<1>(v_); }
  const std::optional<RequestTelemetry>& telemetry() const { return telemetry_; }

 private:
  std::variant<R, proto::RpcError> v_;
  std::optional<RequestTelemetry> telemetry_;
};

template <class R>
using Callback = std::function<void(Outcome<R>)>;

}  // namespace trifecta::core::service
