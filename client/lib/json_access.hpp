// client/lib/json_access.hpp — checked, path-tracking reads of a daemon reply.
//
// Renderers read JSON only through `Field`: every access names where it is
// (`result.hits[0].path`), and a missing member or a wrong type throws `MalformedReply` with that
// path and what was wrong ("result.hits[0].path: missing", "result.ok: expected a boolean, got
// string"). The renderers in render.cpp catch it at their boundary and return it as a value
// (`Rendered::malformed`), so no exception leaves the library; a bad reply never reaches
// std::terminate.
//
// This is the bridge until the typed proto/ Result structs arrive; then the renderers read those.
//
// Thread rules: a Field borrows the json::value it views; keep the value alive. No shared state.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trifecta::client {

// Thrown by Field accessors; what() is "<path>: <problem>".
class MalformedReply : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Field {
 public:
  Field(const boost::json::value& v, std::string path) : v_(&v), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  const boost::json::value& raw() const { return *v_; }
  bool is_null() const { return v_->is_null(); }
  bool is_string() const { return v_->is_string(); }

  // A required member of an object.
  Field operator[](std::string_view key) const;
  // An optional member: nullopt when absent (present-but-null is returned as a null Field).
  std::optional<Field> find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key).has_value(); }

  // The elements of an array, each with its index in the path.
  std::vector<Field> items() const;
  // The members of an object, in order.
  std::vector<std::pair<std::string, Field>> members() const;

  std::string string() const;    // must be a string
  double number() const;         // must be a number (integer or double)
  std::int64_t integer() const;  // must be an integral number
  bool boolean() const;          // must be a boolean
  // A scalar as display text: a string as is, a number or boolean as its JSON text, null as
  // "null". Arrays and objects are malformed here.
  std::string text() const;

  [[noreturn]] void fail(std::string_view problem) const;

 private:
  const boost::json::object& object() const;
  const boost::json::value* v_;
  std::string path_;
};

}  // namespace trifecta::client
