// tests/support/json_schema.hpp — a JSON Schema validator for the subset the telemetry schemas
// (docs/telemetry/*.schema.json) use, so tests can hold every event to the documented contract
// without a Python dependency.
//
// Supported keywords: type (string or array; "integer" accepts whole doubles), enum, const,
// minimum, maximum, minLength, pattern (ECMAScript regex via std::regex, unanchored as in JSON
// Schema), properties, required, additionalProperties (bool or schema), items, minItems, allOf,
// anyOf, oneOf, not, if/then/else, and $ref to "#/$defs/<name>" within the same document.
// Annotations ($schema, $id, title, description, $comment, examples, default) are ignored. A
// keyword outside this list is an error of the schema (reported, never silently ignored), so the
// schema cannot drift into constructs nothing checks.
//
// Failure behaviour: `validate` returns every violation as "<json pointer>: <what>", empty when
// valid. Thread rules: one thread at a time (validate caches compiled patterns).
#pragma once

#include <boost/json.hpp>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace trifecta::test {

class JsonSchemaValidator {
 public:
  explicit JsonSchemaValidator(boost::json::value schema) : root_(std::move(schema)) {}

  std::vector<std::string> validate(const boost::json::value& doc) const {
    std::vector<std::string> errors;
    check(root_, doc, "", errors);
    return errors;
  }

  const boost::json::value& schema() const { return root_; }

 private:
  static bool is_type(const boost::json::value& v, std::string_view t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_bool();
    if (t == "null") return v.is_null();
    if (t == "number") return v.is_number();
    if (t == "integer") {
      if (v.is_int64() || v.is_uint64()) return true;
      return v.is_double() &&
             v.as_double() == static_cast<double>(static_cast<long long>(v.as_double()));
    }
    return false;
  }

  static double num(const boost::json::value& v) { return v.to_number<double>(); }

  static bool equal(const boost::json::value& a, const boost::json::value& b) {
    if (a.is_number() && b.is_number()) return num(a) == num(b);
    return a == b;
  }

  const boost::json::value* resolve(std::string_view ref) const {
    constexpr std::string_view kPrefix = "#/$defs/";
    if (ref.substr(0, kPrefix.size()) != kPrefix) return nullptr;
    const auto* defs = root_.as_object().if_contains("$defs");
    if (!defs || !defs->is_object()) return nullptr;
    return defs->as_object().if_contains(ref.substr(kPrefix.size()));
  }

  bool valid(const boost::json::value& schema, const boost::json::value& v,
             const std::string& at) const {
    std::vector<std::string> e;
    check(schema, v, at, e);
    return e.empty();
  }

  void check(const boost::json::value& schema, const boost::json::value& v, const std::string& at,
             std::vector<std::string>& errors) const {
    if (schema.is_bool()) {
      if (!schema.as_bool()) errors.push_back(at + ": not allowed here");
      return;
    }
    if (!schema.is_object()) {
      errors.push_back(at + ": (schema) not an object or boolean");
      return;
    }
    static const std::set<std::string, std::less<>> kIgnored = {
        "$schema", "$id", "title", "description", "$comment", "examples", "default", "$defs"};
    for (const auto& kv : schema.as_object()) {
      const std::string_view k = kv.key();
      const boost::json::value& s = kv.value();
      if (kIgnored.count(k)) continue;
      if (k == "type") {
        bool ok = false;
        if (s.is_string()) {
          ok = is_type(v, s.as_string());
        } else {
          for (const auto& t : s.as_array()) ok = ok || is_type(v, t.as_string());
        }
        if (!ok)
          errors.push_back(at + ": expected type " + boost::json::serialize(s) + ", got " +
                           boost::json::serialize(v));
      } else if (k == "enum") {
        bool ok = false;
        for (const auto& c : s.as_array()) ok = ok || equal(c, v);
        if (!ok)
          errors.push_back(at + ": " + boost::json::serialize(v) + " not in " +
                           boost::json::serialize(s));
      } else if (k == "const") {
        if (!equal(s, v))
          errors.push_back(at + ": expected " + boost::json::serialize(s) + ", got " +
                           boost::json::serialize(v));
      } else if (k == "minimum") {
        if (v.is_number() && num(v) < num(s))
          errors.push_back(at + ": below minimum " + boost::json::serialize(s));
      } else if (k == "maximum") {
        if (v.is_number() && num(v) > num(s))
          errors.push_back(at + ": above maximum " + boost::json::serialize(s));
      } else if (k == "minLength") {
        if (v.is_string() && static_cast<double>(v.as_string().size()) < num(s))
          errors.push_back(at + ": shorter than minLength");
      } else if (k == "pattern") {
        if (v.is_string() &&
            !std::regex_search(std::string(v.as_string()), regex_of(std::string(s.as_string())))) {
          errors.push_back(at + ": " + boost::json::serialize(v) + " does not match " +
                           std::string(s.as_string()));
        }
      } else if (k == "properties") {
        if (!v.is_object()) continue;
        for (const auto& p : s.as_object()) {
          if (const auto* child = v.as_object().if_contains(p.key()))
            check(p.value(), *child, at + "/" + std::string(p.key()), errors);
        }
      } else if (k == "required") {
        if (!v.is_object()) continue;
        for (const auto& r : s.as_array()) {
          if (!v.as_object().contains(r.as_string()))
            errors.push_back(at + ": missing required key '" + std::string(r.as_string()) + "'");
        }
      } else if (k == "additionalProperties") {
        if (!v.is_object()) continue;
        const auto* props = schema.as_object().if_contains("properties");
        for (const auto& p : v.as_object()) {
          if (props && props->as_object().contains(p.key())) continue;
          if (s.is_bool() && !s.as_bool()) {
            errors.push_back(at + ": unexpected key '" + std::string(p.key()) + "'");
          } else {
            check(s, p.value(), at + "/" + std::string(p.key()), errors);
          }
        }
      } else if (k == "items") {
        if (!v.is_array()) continue;
        for (std::size_t i = 0; i < v.as_array().size(); ++i)
          check(s, v.as_array()[i], at + "/" + std::to_string(i), errors);
      } else if (k == "minItems") {
        if (v.is_array() && static_cast<double>(v.as_array().size()) < num(s))
          errors.push_back(at + ": fewer items than minItems");
      } else if (k == "allOf") {
        for (const auto& sub : s.as_array()) check(sub, v, at, errors);
      } else if (k == "anyOf" || k == "oneOf") {
        std::size_t n = 0;
        for (const auto& sub : s.as_array()) n += valid(sub, v, at);
        if (k == "anyOf" && n == 0) errors.push_back(at + ": matches none of anyOf");
        if (k == "oneOf" && n != 1)
          errors.push_back(at + ": matches " + std::to_string(n) + " of oneOf (expected 1)");
      } else if (k == "not") {
        if (valid(s, v, at)) errors.push_back(at + ": matches a schema it must not");
      } else if (k == "if") {
        const bool cond = valid(s, v, at);
        const auto* then = schema.as_object().if_contains("then");
        const auto* otherwise = schema.as_object().if_contains("else");
        if (cond && then) check(*then, v, at, errors);
        if (!cond && otherwise) check(*otherwise, v, at, errors);
      } else if (k == "then" || k == "else") {
        continue;  // with "if"
      } else if (k == "$ref") {
        const auto* target = resolve(s.as_string());
        if (!target) {
          errors.push_back(at + ": (schema) unresolvable $ref " + std::string(s.as_string()));
        } else {
          check(*target, v, at, errors);
        }
      } else {
        errors.push_back(at + ": (schema) unsupported keyword '" + std::string(k) + "'");
      }
    }
  }

  const std::regex& regex_of(const std::string& pattern) const {
    auto it = regexes_.find(pattern);
    if (it == regexes_.end()) it = regexes_.emplace(pattern, std::regex(pattern)).first;
    return it->second;
  }

  boost::json::value root_;
  mutable std::map<std::string, std::regex> regexes_;  // compiled patterns (the only mutable state)
};

}  // namespace trifecta::test
