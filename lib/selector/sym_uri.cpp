#include "selector/sym_uri.hpp"

#include <boost/json.hpp>

namespace trifecta::core::selector {

std::string_view selector_errc_name(SelectorErrc code) noexcept {
  switch (code) {
    case SelectorErrc::kInvalidUri: return "INVALID_URI";
    case SelectorErrc::kFileNotFound: return "FILE_NOT_FOUND";
    case SelectorErrc::kSymbolNotFound: return "SYMBOL_NOT_FOUND";
    case SelectorErrc::kAmbiguousSymbol: return "AMBIGUOUS_SYMBOL";
  }
  return "INVALID_URI";
}

Errc SelectorError::errc() const noexcept {
  switch (code) {
    case SelectorErrc::kInvalidUri: return Errc::kInvalidArgument;
    case SelectorErrc::kFileNotFound:
    case SelectorErrc::kSymbolNotFound: return Errc::kNotFound;
    case SelectorErrc::kAmbiguousSymbol: return Errc::kAmbiguous;
  }
  return Errc::kInternal;
}

std::string_view uri_form_name(UriForm f) noexcept {
  switch (f) {
    case UriForm::kModule: return "module";
    case UriForm::kSymbol: return "symbol";
    case UriForm::kLegacyModule: return "legacy_mod";
    case UriForm::kLegacyType: return "legacy_type";
  }
  return "module";
}

bool is_identifier(std::string_view s) noexcept {
  if (s.empty()) return false;
  if (s.front() >= '0' && s.front() <= '9') return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool ok = u >= 0x80 || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

namespace {

constexpr std::string_view kScheme = "sym://";

SelectorError invalid(std::string_view text, std::string why) {
  SelectorError e;
  e.code = SelectorErrc::kInvalidUri;
  std::string shown(text.substr(0, 200));
  e.message = "'" + shown + "': " + std::move(why) +
              " (expected sym://python/<dotted.module>[/<Qualified.Name>])";
  return e;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t at = s.find(sep, pos);
    out.push_back(s.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
    if (at == std::string_view::npos) return out;
    pos = at + 1;
  }
}

// Checks a dotted name; `locals` allows `<locals>` components (qualified names only).
std::string check_dotted(std::string_view s, std::string_view what, bool locals) {
  if (s.empty()) return std::string(what) + " is empty";
  for (auto part : split(s, '.')) {
    if (part.empty()) return std::string(what) + " '" + std::string(s) + "' has an empty component";
    if (locals && part == "<locals>") continue;
    if (!is_identifier(part))
      return std::string(what) + " '" + std::string(s) + "': '" + std::string(part) + "' is not a Python identifier";
  }
  if (locals && (s.starts_with("<locals>") || s.ends_with("<locals>")))
    return std::string(what) + " '" + std::string(s) + "' cannot start or end with <locals>";
  return {};
}

// Legacy <path>: components separated by '/' or '.', with a ".py" suffix on any component dropped.
std::string legacy_path(std::string_view s, std::vector<std::string>& out) {
  if (s.empty()) return "the path is empty";
  for (auto seg : split(s, '/')) {
    if (seg.empty()) return "the path '" + std::string(s) + "' has an empty segment";
    if (seg.ends_with(".py") && seg.size() > 3) seg.remove_suffix(3);
    for (auto part : split(seg, '.')) {
      if (!is_identifier(part))
        return "the path '" + std::string(s) + "': '" + std::string(part) + "' is not a Python identifier";
      out.emplace_back(part);
    }
  }
  return {};
}

}  // namespace

SelectorResult<SymUri> parse_sym_uri(std::string_view text) {
  if (text.size() > kMaxUriBytes) return invalid(text, "longer than " + std::to_string(kMaxUriBytes) + " bytes");
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return invalid(text, "contains whitespace or a control character");
  }
  if (!text.starts_with(kScheme)) return invalid(text, "does not start with sym://");
  std::string_view rest = text.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  const std::string_view language = rest.substr(0, slash);
  if (language.empty()) return invalid(text, "no language");
  if (language != "python") return invalid(text, "unsupported language '" + std::string(language) + "' (only python)");
  if (slash == std::string_view::npos || slash + 1 == rest.size()) return invalid(text, "no module");
  rest.remove_prefix(slash + 1);

  SymUri uri;
  uri.raw = std::string(text);
  uri.language = std::string(language);

  if (rest.starts_with("mod/") || rest.starts_with("type/")) {
    const bool type = rest.starts_with("type/");
    rest.remove_prefix(type ? 5 : 4);
    std::string_view path = rest;
    if (type) {
      const std::size_t hash = rest.find('#');
      if (hash == std::string_view::npos) return invalid(text, "legacy type form needs '#<member>'");
      path = rest.substr(0, hash);
      const std::string_view member = rest.substr(hash + 1);
      if (!is_identifier(member)) return invalid(text, "member '" + std::string(member) + "' is not a Python identifier");
      uri.member = std::string(member);
      uri.form = UriForm::kLegacyType;
    } else {
      if (rest.find('#') != std::string_view::npos) return invalid(text, "'#' is only allowed in the legacy type form");
      uri.form = UriForm::kLegacyModule;
    }
    if (auto why = legacy_path(path, uri.path); !why.empty()) return invalid(text, why);
    if (type && uri.path.size() < 2) return invalid(text, "legacy type path needs a module and a type");
    return uri;
  }

  if (rest.find('#') != std::string_view::npos) return invalid(text, "'#' is only allowed in the legacy type form");
  const std::size_t sep = rest.find('/');
  const std::string_view module = rest.substr(0, sep);
  if (auto why = check_dotted(module, "module", false); !why.empty()) return invalid(text, why);
  uri.module = std::string(module);
  if (sep == std::string_view::npos) {
    uri.form = UriForm::kModule;
    return uri;
  }
  const std::string_view qual = rest.substr(sep + 1);
  if (qual.find('/') != std::string_view::npos)
    return invalid(text, "the qualified name contains '/' (use dots: Outer.Inner.method)");
  if (auto why = check_dotted(qual, "qualified name", true); !why.empty()) return invalid(text, why);
  uri.qualname = std::string(qual);
  uri.form = UriForm::kSymbol;
  return uri;
}

std::string make_sym_uri(std::string_view module, std::string_view qualname) {
  std::string s = "sym://python/";
  s += module;
  if (!qualname.empty()) {
    s += '/';
    s += qualname;
  }
  return s;
}

void tag_invoke(json::value_from_tag, json::value& v, const Match& m) {
  json::object o;
  o["file"] = m.file;
  o["module"] = m.module;
  o["kind"] = m.kind;
  o["qualname"] = m.qualname;
  o["line"] = m.line;
  o["end_line"] = m.end_line;
  o["signature"] = m.signature;
  o["docstring"] = m.docstring;
  if (m.conditional) o["conditional"] = true;
  if (m.partial) o["partial"] = true;
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const SelectorError& e) {
  json::object o;
  o["code"] = selector_errc_name(e.code);
  o["message"] = e.message;
  json::array tried, sugg, cands;
  for (const auto& t : e.tried) tried.emplace_back(t);
  for (const auto& s : e.suggestions) sugg.emplace_back(s);
  for (const auto& c : e.candidates) cands.push_back(json::value_from(c));
  o["tried"] = std::move(tried);
  o["suggestions"] = std::move(sugg);
  o["candidates"] = std::move(cands);
  v = std::move(o);
}

void tag_invoke(json::value_from_tag, json::value& v, const SymUri& u) {
  json::object o;
  o["uri"] = u.raw;
  o["language"] = u.language;
  o["form"] = uri_form_name(u.form);
  o["module"] = u.module;
  o["qualname"] = u.qualname;
  if (!u.path.empty()) {
    json::array p;
    for (const auto& s : u.path) p.emplace_back(s);
    o["path"] = std::move(p);
  }
  if (!u.member.empty()) o["member"] = u.member;
  v = std::move(o);
}

}  // namespace trifecta::core::selector
