// util/json_text.hpp — the JSON text trifecta writes: protocol lines, telemetry events,
// last_run.json.
//
// Boost.JSON's own serializer prints every double in exponent form (`6.09E-1`, `3.032E0`),
// which is valid JSON but hard to read in replies and telemetry. This writer prints the shortest
// decimal text that parses back to the same double (`0.609`, `3.032`, `1e-07`), and always marks
// a double as one (`3.0`, never `3`), so a reader sees the same kind (double vs integer) that was
// written. Everything else matches Boost.JSON: object members in insertion order, no whitespace,
// strings escaped as RFC 8259 requires (`"`, `\`, control characters), other bytes as they are —
// except in a string that is not valid UTF-8 (a file name): it is written percent-escaped
// (util/utf8.hpp `escape_name`), so every text this writer produces is valid UTF-8.
//
// Failure behaviour: total. A non-finite double (never produced by trifecta) is written as
// `null`, since JSON has no infinity or NaN.
//
// Thread rules: pure functions; safe from any thread.
#pragma once

#include <boost/json/fwd.hpp>
#include <string>

namespace trifecta::core {

// Appends the JSON text of `v` to `out`.
void append_json(std::string& out, const boost::json::value& v);
void append_json(std::string& out, const boost::json::object& o);
void append_json(std::string& out, const boost::json::array& a);

// The JSON text of `v`.
std::string to_json_text(const boost::json::value& v);
std::string to_json_text(const boost::json::object& o);

}  // namespace trifecta::core
