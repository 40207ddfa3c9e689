#include "json_access.hpp"

#include "util/json_text.hpp"

namespace trifecta::client {

namespace json = boost::json;

namespace {

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "?";
}

}  // namespace

void Field::fail(std::string_view problem) const {
  throw MalformedReply(path_ + ": " + std::string(problem));
}

const json::object& Field::object() const {
  if (!v_->is_object()) fail(std::string("expected an object, got ") + kind_name(*v_));
  return v_->get_object();
}

Field Field::operator[](std::string_view key) const {
  const auto* m = object().if_contains(key);
  const std::string p = path_ + "." + std::string(key);
  if (!m) throw MalformedReply(p + ": missing");
  return Field(*m, p);
}

std::optional<Field> Field::find(std::string_view key) const {
  const auto* m = object().if_contains(key);
  if (!m) return std::nullopt;
  return Field(*m, path_ + "." + std::string(key));
}

std::vector<Field> Field::items() const {
  if (!v_->is_array()) fail(std::string("expected an array, got ") + kind_name(*v_));
  std::vector<Field> out;
  const auto& a = v_->get_array();
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    out.emplace_back(a[i], path_ + "[" + std::to_string(i) + "]");
  return out;
}

std::vector<std::pair<std::string, Field>> Field::members() const {
  std::vector<std::pair<std::string, Field>> out;
  for (const auto& kv : object()) {
    std::string k(kv.key());
    out.emplace_back(k, Field(kv.value(), path_ + "." + k));
  }
  return out;
}

std::string Field::string() const {
  if (!v_->is_string()) fail(std::string("expected a string, got ") + kind_name(*v_));
  return std::string(v_->get_string());
}

double Field::number() const {
  if (!v_->is_number()) fail(std::string("expected a number, got ") + kind_name(*v_));
  return v_->to_number<double>();
}

std::int64_t Field::integer() const {
  boost::system::error_code ec;
  const auto n = v_->is_number() ? v_->to_number<std::int64_t>(ec) : 0;
  if (!v_->is_number() || ec) fail(std::string("expected an integer, got ") + kind_name(*v_));
  return n;
}

bool Field::boolean() const {
  if (!v_->is_bool()) fail(std::string("expected a boolean, got ") + kind_name(*v_));
  return v_->get_bool();
}

std::string Field::text() const {
  if (v_->is_string()) return std::string(v_->get_string());
  if (v_->is_array() || v_->is_object())
    fail(std::string("expected a scalar, got ") + kind_name(*v_));
  return core::to_json_text(*v_);
}

}  // namespace trifecta::client
