// client/mcp/schema.hpp — JSON Schema for MCP tools, generated from the wire contract (proto/).
//
// Two sources, both the catalog's own field lists, so a field the daemon grows shows up in the
// tool schemas without an edit here:
//  * output_schema<R>(): the JSON Schema of a described Result struct, walking its describe()
//    (nested structs, vectors, maps and optionals included). `req` fields are `required`,
//    `nullable` fields accept null; unknown keys stay allowed (minor versions add fields).
//  * input_properties(method, keep): the JSON Schema `properties` of the flat params a method
//    takes, read at run time from `proto::find_method(method)->params` (FieldInfo: name, type,
//    description, default), keeping only the names in `keep` (MCP tools hide some, such as
//    `wait`).
// Only keywords common to JSON Schema draft-07 and 2020-12 are used (type, properties,
// required, items, additionalProperties, enum, minimum, maximum, default, description), so
// validators of either dialect accept the schemas.
//
// Thread rules: pure functions. Failure: input_properties throws std::logic_error for a method
// or field the catalog does not have (a programming error, caught by the unit tests).
#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <string>
#include <string_view>

#include "trifecta/proto/codec.hpp"

namespace trifecta::mcp {

namespace json = boost::json;

namespace detail {

template <class T>
json::object schema_of_value();

struct SchemaVisitor {
  json::object properties;
  json::array required;
  template <class T>
  void req(std::string_view key, T&, std::string_view doc) {
    add<T>(key, doc, false);
    required.emplace_back(key);
  }
  template <class T>
  void opt(std::string_view key, T&, std::string_view doc) {
    add<T>(key, doc, false);
  }
  template <class T>
  void nullable(std::string_view key, std::optional<T>&, std::string_view doc) {
    add<T>(key, doc, true);
  }
  template <class T>
  void add(std::string_view key, std::string_view doc, bool null_ok) {
    json::object s;
    if constexpr (proto::codec::is_optional<T>::value) {
      s = schema_of_value<typename T::value_type>();
    } else {
      s = schema_of_value<T>();
    }
    if (null_ok) {
      if (const auto* t = s.if_contains("type"); t && t->is_string()) {
        s["type"] = json::array{*t, "null"};
      } else if (!s.contains("type")) {
        // "any": null is already allowed
      }
    }
    if (!doc.empty()) s["description"] = doc;
    properties[key] = std::move(s);
  }
};

template <class T>
json::object schema_of_value() {
  namespace c = proto::codec;
  if constexpr (std::is_same_v<T, bool>) {
    return {{"type", "boolean"}};
  } else if constexpr (std::is_integral_v<T>) {
    return {{"type", "integer"}};
  } else if constexpr (std::is_floating_point_v<T>) {
    return {{"type", "number"}};
  } else if constexpr (std::is_same_v<T, std::string>) {
    return {{"type", "string"}};
  } else if constexpr (std::is_same_v<T, json::value>) {
    return {};
  } else if constexpr (std::is_same_v<T, json::object>) {
    return {{"type", "object"}};
  } else if constexpr (c::is_vector<T>::value) {
    return {{"type", "array"}, {"items", schema_of_value<typename T::value_type>()}};
  } else if constexpr (c::is_map<T>::value) {
    return {{"type", "object"},
            {"additionalProperties", schema_of_value<typename T::mapped_type>()}};
  } else {
    static_assert(proto::Described<T>, "not a wire type");
    // A recursive type (a skeleton definition holds its children) is expanded once; inside
    // itself it is just an object.
    static thread_local bool expanding = false;
    if (expanding) return {{"type", "object"}};
    expanding = true;
    SchemaVisitor v;
    T tmp{};
    describe(v, tmp);
    expanding = false;
    json::object s{{"type", "object"}, {"properties", std::move(v.properties)}};
    if (!v.required.empty()) s["required"] = std::move(v.required);
    return s;
  }
}

}  // namespace detail

// The JSON Schema (type object) of a described struct, e.g. output_schema<CtxSearchResult>().
template <proto::Described R>
json::object output_schema() {
  return detail::schema_of_value<R>();
}

// The schema of one catalog FieldInfo type string: "string", "integer", "number", "boolean",
// "array<string>", "any", "object". Throws std::logic_error for a type it does not know.
json::object schema_of_field_type(std::string_view type);

// `properties` for the params `keep` of catalog method `method`, with each field's catalog
// description and default. Throws std::logic_error when the method or a field is unknown.
json::object input_properties(std::string_view method,
                              std::initializer_list<std::string_view> keep);

// Checks that `schema` is a JSON Schema object this module can produce: a "type" of object at
// the root, every `properties` value an object schema, every `required` name a property.
// Returns an empty string when fine, else the first problem (used by the unit tests and by
// tools/list's self-check).
std::string check_object_schema(const json::object& schema);

}  // namespace trifecta::mcp
