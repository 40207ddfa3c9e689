// proto/codec.hpp — one field list per wire struct gives its JSON encoding, its non-throwing
// decoding and its field description (for the catalog, generated help and MCP schemas).
//
// A struct takes part by declaring, next to itself, a free function found by ADL:
//
//   template <class V> void describe(V& v, CtxSearchParams& s) {
//     v.req("query", s.query, "search terms");           // required: decoding fails without it
//     v.opt("limit", s.limit, "maximum hits, 1..1000");  // optional: absent or null keeps the default
//   }
//
// Field kinds:
//   req(key, member, doc)  always encoded; decoding requires it.
//   opt(key, member, doc)  always encoded (a std::optional member: only when set); decoding accepts
//                          it absent or null (the member keeps its default / stays nullopt).
//   nullable(key, std::optional<T>&, doc)  always encoded, as null when empty; absent or null
//                          decodes to nullopt.
// A nested struct may also declare `constexpr std::string_view wire_name(const S*)` (its name
// in docs/protocol.md), which field descriptions then use instead of "object".
// Member types: std::string, bool, std::int64_t, int, double, json::value, json::object,
// std::vector<T>, std::map<std::string, T>, std::optional<T> (opt only) and described structs.
// Unknown keys are ignored on decode (minor versions only add fields).
//
// What a described struct S gets:
//   json::value_from(s)                              encode (tag_invoke below)
//   json::value_to<S>(v)                             decode, throws std::invalid_argument
//   decode(const json::value&, S&, what) -> error    decode, never throws: nullopt on success,
//                                                    else "result.hits[2].score: expected a number"
//   parse(const json::object& params, S&) -> error   decode request params ("params.limit: ...")
//   fields_of<S>() -> std::vector<FieldInfo>         name, type, required, default, description
//
// Thread rules: pure functions over values.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace trifecta::proto {

namespace json = boost::json;

// One field of a described struct, as documented (catalog, help, MCP).
struct FieldInfo {
  std::string name;
  std::string type;  // "string", "integer", "number", "boolean", "array<string>", "object", ...
  bool required = false;
  bool nullable = false;
  json::value default_value;  // the encoded default (null when none)
  std::string description;
};

namespace codec {

// Detection: a struct is described when describe(v, s) compiles for the probe visitor.
struct Probe {
  template <class T>
  void req(std::string_view, T&, std::string_view) {}
  template <class T>
  void opt(std::string_view, T&, std::string_view) {}
  template <class T>
  void nullable(std::string_view, std::optional<T>&, std::string_view) {}
};

}  // namespace codec

template <class S>
concept Described = std::is_class_v<S> && requires(codec::Probe& p, S& s) { describe(p, s); };

namespace codec {

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
template <class T>
struct is_map : std::false_type {};
template <class T>
struct is_map<std::map<std::string, T>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// ---- encoding -------------------------------------------------------------------------------

// Every node is allocated from `sp` (the default resource when empty): a caller that encodes
// into an arena (a monotonic_resource) gets the whole tree from it, and no node is copied from
// one resource to another on the way up.
template <class T>
json::value encode_value(const T& x, const json::storage_ptr& sp = {});

struct Encoder {
  json::storage_ptr sp;
  json::object out{sp};
  explicit Encoder(json::storage_ptr s) : sp(std::move(s)) {}
  template <class T>
  void req(std::string_view key, const T& x, std::string_view) {
    out[key] = encode_value(x, sp);
  }
  template <class T>
  void opt(std::string_view key, const T& x, std::string_view) {
    if constexpr (is_optional<T>::value) {
      if (x) out[key] = encode_value(*x, sp);
    } else {
      out[key] = encode_value(x, sp);
    }
  }
  template <class T>
  void nullable(std::string_view key, const std::optional<T>& x, std::string_view) {
    out[key] = x ? encode_value(*x, sp) : json::value(nullptr, sp);
  }
};

template <class T>
json::value encode_value(const T& x, const json::storage_ptr& sp) {
  if constexpr (std::is_same_v<T, bool>) {
    return json::value(x, sp);
  } else if constexpr (std::is_integral_v<T>) {
    return json::value(static_cast<std::int64_t>(x), sp);
  } else if constexpr (std::is_floating_point_v<T>) {
    return json::value(static_cast<double>(x), sp);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return json::value(x, sp);
  } else if constexpr (std::is_same_v<T, json::value>) {
    return json::value(x, sp);
  } else if constexpr (std::is_same_v<T, json::object>) {
    return json::value(x, sp);
  } else if constexpr (is_vector<T>::value) {
    json::array a(sp);
    a.reserve(x.size());
    for (const auto& e : x) a.push_back(encode_value(e, sp));
    return a;
  } else if constexpr (is_map<T>::value) {
    json::object o(sp);
    for (const auto& [k, e] : x) o[k] = encode_value(e, sp);
    return o;
  } else {
    static_assert(Described<T>, "not a wire type: add describe() next to the struct");
    Encoder e(sp);
    describe(e, const_cast<T&>(x));  // Encoder only reads
    return std::move(e.out);
  }
}

// ---- decoding -------------------------------------------------------------------------------

struct Decoder;
template <class T>
bool decode_value(const json::value& v, T& out, Decoder& d);

struct Decoder {
  std::string path;  // "result.hits[2]"
  std::optional<std::string> error;
  const json::object* obj = nullptr;

  bool fail(std::string_view what) {
    if (!error) error = path + ": " + std::string(what);
    return false;
  }
  template <class T>
  bool field(std::string_view key, T& member, bool required, bool nullable) {
    if (error) return false;
    const json::value* v = obj->if_contains(key);
    const std::size_t keep = path.size();
    path += '.';
    path += key;
    bool ok = true;
    if (!v) {
      if (required) ok = fail("missing required field");
    } else if (v->is_null() && (nullable || !required)) {
      if constexpr (is_optional<T>::value) member.reset();
    } else if constexpr (is_optional<T>::value) {
      typename T::value_type x{};
      ok = decode_value(*v, x, *this);
      if (ok) member = std::move(x);
    } else {
      ok = decode_value(*v, member, *this);
    }
    path.resize(keep);
    return ok;
  }
  template <class T>
  void req(std::string_view key, T& m, std::string_view) {
    field(key, m, true, false);
  }
  template <class T>
  void opt(std::string_view key, T& m, std::string_view) {
    field(key, m, false, false);
  }
  template <class T>
  void nullable(std::string_view key, std::optional<T>& m, std::string_view) {
    field(key, m, false, true);
  }
};

template <class T>
std::string_view expected(const T*) {
  if constexpr (std::is_same_v<T, bool>) return "expected a boolean";
  else if constexpr (std::is_integral_v<T>) return "expected an integer";
  else if constexpr (std::is_floating_point_v<T>) return "expected a number";
  else if constexpr (std::is_same_v<T, std::string>) return "expected a string";
  else if constexpr (is_vector<T>::value) return "expected an array";
  else return "expected an object";
}

template <class T>
bool decode_value(const json::value& v, T& out, Decoder& d) {
  constexpr const T* tag = nullptr;
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_bool()) return d.fail(expected(tag));
    out = v.get_bool();
  } else if constexpr (std::is_integral_v<T>) {
    std::int64_t x = 0;
    if (v.is_int64()) x = v.get_int64();
    else if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) x = static_cast<std::int64_t>(v.get_uint64());
    else return d.fail(expected(tag));
    if (x < static_cast<std::int64_t>(std::numeric_limits<T>::min()) || x > static_cast<std::int64_t>(std::numeric_limits<T>::max())) {
      return d.fail("integer out of range");
    }
    out = static_cast<T>(x);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) return d.fail(expected(tag));
    out = v.to_number<double>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) return d.fail(expected(tag));
    out = std::string(v.get_string());
  } else if constexpr (std::is_same_v<T, json::value>) {
    out = v;
  } else if constexpr (std::is_same_v<T, json::object>) {
    if (!v.is_object()) return d.fail(expected(tag));
    out = v.get_object();
  } else if constexpr (is_vector<T>::value) {
    if (!v.is_array()) return d.fail(expected(tag));
    T tmp;
    tmp.reserve(v.get_array().size());
    const std::size_t keep = d.path.size();
    for (std::size_t i = 0; i < v.get_array().size(); ++i) {
      d.path += '[' + std::to_string(i) + ']';
      typename T::value_type e{};
      if (!decode_value(v.get_array()[i], e, d)) return false;
      tmp.push_back(std::move(e));
      d.path.resize(keep);
    }
    out = std::move(tmp);
  } else if constexpr (is_map<T>::value) {
    if (!v.is_object()) return d.fail(expected(tag));
    T tmp;
    const std::size_t keep = d.path.size();
    for (const auto& kv : v.get_object()) {
      d.path += '.';
      d.path += kv.key();
      typename T::mapped_type e{};
      if (!decode_value(kv.value(), e, d)) return false;
      tmp.emplace(std::string(kv.key()), std::move(e));
      d.path.resize(keep);
    }
    out = std::move(tmp);
  } else {
    static_assert(Described<T>, "not a wire type: add describe() next to the struct");
    if (!v.is_object()) return d.fail(expected(tag));
    const json::object* saved = d.obj;
    d.obj = &v.get_object();
    T tmp{};
    describe(d, tmp);
    d.obj = saved;
    if (d.error) return false;
    out = std::move(tmp);
  }
  return true;
}

// ---- description ----------------------------------------------------------------------------

template <class T>
std::string type_name() {
  if constexpr (std::is_same_v<T, bool>) return "boolean";
  else if constexpr (std::is_integral_v<T>) return "integer";
  else if constexpr (std::is_floating_point_v<T>) return "number";
  else if constexpr (std::is_same_v<T, std::string>) return "string";
  else if constexpr (std::is_same_v<T, json::value>) return "any";
  else if constexpr (std::is_same_v<T, json::object>) return "object";
  else if constexpr (is_optional<T>::value) return type_name<typename T::value_type>();
  else if constexpr (is_vector<T>::value) return "array<" + type_name<typename T::value_type>() + ">";
  else if constexpr (is_map<T>::value) return "map<string," + type_name<typename T::mapped_type>() + ">";
  else if constexpr (requires { wire_name(static_cast<const T*>(nullptr)); }) return std::string(wire_name(static_cast<const T*>(nullptr)));
  else return "object";
}

struct Describer {
  std::vector<FieldInfo> fields;
  template <class T>
  void add(std::string_view key, const T& m, std::string_view doc, bool required, bool nullable) {
    FieldInfo f;
    f.name = std::string(key);
    f.type = type_name<T>();
    f.required = required;
    f.nullable = nullable;
    if constexpr (is_optional<T>::value) {
      if (m) f.default_value = encode_value(*m);
    } else if (!required) {
      f.default_value = encode_value(m);
    }
    f.description = std::string(doc);
    fields.push_back(std::move(f));
  }
  template <class T>
  void req(std::string_view key, T& m, std::string_view doc) {
    add(key, m, doc, true, false);
  }
  template <class T>
  void opt(std::string_view key, T& m, std::string_view doc) {
    add(key, m, doc, false, false);
  }
  template <class T>
  void nullable(std::string_view key, std::optional<T>& m, std::string_view doc) {
    add(key, m, doc, false, true);
  }
};

}  // namespace codec

// Methods without parameters take this (any params are ignored); it encodes as {}.
struct NoParams {};
template <class V>
void describe(V&, NoParams&) {}

// ---- the public face --------------------------------------------------------------------------

// Encode (found by Boost.JSON through ADL for every described struct in this namespace).
template <Described S>
void tag_invoke(json::value_from_tag, json::value& v, const S& s) {
  v = codec::encode_value(s, v.storage());
}

// Decode without throwing: nullopt on success, else the first problem naming the field
// ("result.hits[2].score: expected a number"). `out` is only assigned on success.
template <Described S>
std::optional<std::string> decode(const json::value& v, S& out, std::string_view what = "result") {
  codec::Decoder d;
  d.path = std::string(what);
  if (!codec::decode_value(v, out, d)) return d.error ? d.error : std::optional<std::string>("decode failed");
  return std::nullopt;
}

// Decode request params (the dispatcher's `bind_typed` calls this): "params.limit: expected an integer".
template <Described S>
std::optional<std::string> parse(const json::object& params, S& out) {
  return decode(json::value(params), out, "params");
}

// Decode, throwing std::invalid_argument with the same message (json::value_to<S>).
template <Described S>
S tag_invoke(json::value_to_tag<S>, const json::value& v) {
  S s{};
  if (auto err = decode(v, s, "value")) throw std::invalid_argument(*err);
  return s;
}

// The documented fields of S, in wire order (defaults from a default-constructed S).
template <Described S>
std::vector<FieldInfo> fields_of() {
  S s{};
  codec::Describer d;
  describe(d, s);
  return std::move(d.fields);
}

}  // namespace trifecta::proto
