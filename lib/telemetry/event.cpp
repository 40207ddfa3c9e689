#include "telemetry/event.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

#include "util/hash.hpp"
#include "util/paths.hpp"

namespace trifecta::core::telemetry {
namespace {

constexpr std::size_t kMaxStringPreview = 200;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool contains_any(const std::string& s, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return s.find(n) != std::string::npos; });
}

bool is_secret_key(std::string_view key) {
  const std::string k = lower(key);
  return contains_any(k, {"password", "passwd", "secret", "token", "api_key", "apikey",
                          "authorization", "credential", "cookie"}) &&
         k != "tokens" && k != "max_tokens" && k != "budget_tokens";
}

bool is_content_key(std::string_view key) {
  const std::string k = lower(key);
  return k == "content" || k == "contents" || k == "text" || k == "body" || k == "source" ||
         k == "data" || k == "raw";
}

json::value sanitize_value(const json::value& v, const std::filesystem::path& root);

json::value sanitize_string(const json::string& s, const std::filesystem::path& root) {
  std::string_view sv = s;
  if (!sv.empty() && sv.front() == '/') return json::value(relpath(root, std::string(sv)));
  if (sv.rfind("file://", 0) == 0) return json::value(relpath(root, std::string(sv.substr(7))));
  if (sv.size() > kMaxStringPreview) {
    return json::value(std::string(sv.substr(0, kMaxStringPreview)) + "…");
  }
  return json::value(s);
}

json::object sanitize_object(const json::object& o, const std::filesystem::path& root) {
  json::object out;
  out.reserve(o.size());
  for (const auto& kv : o) {
    if (is_secret_key(kv.key())) {
      out.emplace(kv.key(), "[redacted]");
    } else if (is_content_key(kv.key()) && kv.value().is_string()) {
      const json::string& s = kv.value().get_string();
      json::object digest;
      digest["sha256"] = sha256_hex(s);
      digest["bytes"] = s.size();
      out.emplace(kv.key(), std::move(digest));
    } else {
      out.emplace(kv.key(), sanitize_value(kv.value(), root));
    }
  }
  return out;
}

json::value sanitize_value(const json::value& v, const std::filesystem::path& root) {
  switch (v.kind()) {
    case json::kind::string: return sanitize_string(v.get_string(), root);
    case json::kind::object: return sanitize_object(v.get_object(), root);
    case json::kind::array: {
      json::array out;
      out.reserve(v.get_array().size());
      for (const auto& e : v.get_array()) out.push_back(sanitize_value(e, root));
      return out;
    }
    default: return v;
  }
}

}  // namespace

bool is_reserved_key(std::string_view key) {
  return std::find(std::begin(kReservedKeys), std::end(kReservedKeys), key) != std::end(kReservedKeys);
}

Result<void> check_extra_fields(const json::object& extra) {
  std::string colliding;
  for (const auto& kv : extra) {
    if (is_reserved_key(kv.key())) {
      if (!colliding.empty()) colliding += ", ";
      colliding += std::string(kv.key());
    }
  }
  if (colliding.empty()) return {};
  std::string reserved;
  for (auto k : kReservedKeys) {
    if (!reserved.empty()) reserved += ", ";
    reserved += k;
  }
  return make_error(Errc::kInvalidArgument,
                    "extra fields contain reserved keys: " + colliding + " (reserved: " + reserved + ")");
}

json::object sanitize_args(const json::object& args, const std::filesystem::path& segment_root) {
  return sanitize_object(args, segment_root);
}

}  // namespace trifecta::core::telemetry
