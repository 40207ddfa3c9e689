// client/mcp/schema.cpp — JSON Schema from catalog field lists (see schema.hpp).
#include "schema.hpp"

#include <stdexcept>

#include "trifecta/proto/catalog.hpp"

namespace trifecta::mcp {

json::object schema_of_field_type(std::string_view type) {
  if (type == "string" || type == "integer" || type == "number" || type == "boolean" ||
      type == "object") {
    return {{"type", type}};
  }
  if (type == "any") return {};
  constexpr std::string_view kArray = "array<";
  if (type.substr(0, kArray.size()) == kArray && type.back() == '>') {
    return {{"type", "array"},
            {"items",
             schema_of_field_type(type.substr(kArray.size(), type.size() - kArray.size() - 1))}};
  }
  throw std::logic_error("no JSON Schema for catalog type '" + std::string(type) + "'");
}

json::object input_properties(std::string_view method,
                              std::initializer_list<std::string_view> keep) {
  const proto::MethodInfo* m = proto::find_method(method);
  if (!m) throw std::logic_error("not a catalog method: " + std::string(method));
  json::object props;
  for (const auto name : keep) {
    const proto::FieldInfo* found = nullptr;
    for (const auto& f : m->params) {
      if (f.name == name) found = &f;
    }
    if (!found) {
      throw std::logic_error(std::string(method) + " has no param '" + std::string(name) + "'");
    }
    json::object s = schema_of_field_type(found->type);
    if (!found->description.empty()) s["description"] = found->description;
    if (!found->required && !found->default_value.is_null()) s["default"] = found->default_value;
    props[name] = std::move(s);
  }
  return props;
}

namespace {

std::string check_schema(const json::value& v, const std::string& where) {
  if (!v.is_object()) return where + ": not an object";
  const json::object& o = v.get_object();
  if (const auto* t = o.if_contains("type")) {
    auto known = [](const json::value& x) {
      if (!x.is_string()) return false;
      const auto s = x.get_string();
      return s == "object" || s == "array" || s == "string" || s == "integer" || s == "number" ||
             s == "boolean" || s == "null";
    };
    if (t->is_array()) {
      for (const auto& x : t->get_array()) {
        if (!known(x)) return where + ".type: unknown type";
      }
    } else if (!known(*t)) {
      return where + ".type: unknown type";
    }
  }
  if (const auto* p = o.if_contains("properties")) {
    if (!p->is_object()) return where + ".properties: not an object";
    for (const auto& kv : p->get_object()) {
      if (auto e = check_schema(kv.value(), where + ".properties." + std::string(kv.key()));
          !e.empty())
        return e;
    }
  }
  if (const auto* r = o.if_contains("required")) {
    if (!r->is_array()) return where + ".required: not an array";
    const auto* p = o.if_contains("properties");
    for (const auto& n : r->get_array()) {
      if (!n.is_string()) return where + ".required: not a string";
      if (!p || !p->get_object().contains(n.get_string()))
        return where + ".required: '" + std::string(n.get_string()) + "' is not a property";
    }
  }
  if (const auto* i = o.if_contains("items")) {
    if (auto e = check_schema(*i, where + ".items"); !e.empty()) return e;
  }
  if (const auto* a = o.if_contains("additionalProperties"); a && !a->is_bool()) {
    if (auto e = check_schema(*a, where + ".additionalProperties"); !e.empty()) return e;
  }
  return {};
}

}  // namespace

std::string check_object_schema(const json::object& schema) {
  const auto* t = schema.if_contains("type");
  if (!t || !t->is_string() || t->get_string() != "object") return "schema: type is not \"object\"";
  return check_schema(schema, "schema");
}

}  // namespace trifecta::mcp
