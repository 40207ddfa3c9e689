#include "service/nav_merge.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace trifecta::core::service {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

auto key_of(const text::Location& l) {
  return std::tuple(l.path, l.external, l.line, l.column);
}

}  // namespace

std::string_view outcome_name(LspOutcome o) {
  switch (o) {
    case LspOutcome::kLocated:
      return "located";
    case LspOutcome::kExternal:
      return "external";
    case LspOutcome::kEmpty:
      return "empty";
    case LspOutcome::kUnknown:
      return "unknown";
  }
  return "empty";
}

LspOutcome classify_lsp(const std::vector<text::Location>& lsp) {
  if (lsp.empty()) return LspOutcome::kEmpty;
  for (const auto& l : lsp)
    if (!l.external) return LspOutcome::kLocated;
  return LspOutcome::kExternal;
}

bool hover_is_unknown(std::string_view contents) {
  // The first non-fence line of the code block.
  std::string_view rest = contents;
  std::string_view line;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    line = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!line.empty() && line.rfind("```", 0) != 0) break;
    line = {};
  }
  if (line.empty()) return false;
  // The type after the last top-level ": " or "-> " (brackets/parentheses deepen the level).
  int depth = 0;
  std::size_t type_at = std::string_view::npos;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') --depth;
    if (depth != 0) continue;
    if (c == ':' && i + 1 < line.size() && line[i + 1] == ' ') type_at = i + 2;
    if (c == '-' && i + 2 < line.size() && line[i + 1] == '>' && line[i + 2] == ' ')
      type_at = i + 3;
  }
  if (type_at == std::string_view::npos) return false;
  return trim(line.substr(type_at)) == "Unknown";
}

double ast_confidence(std::string_view rule, std::string_view kind, bool same_file,
                      std::size_t rank) {
  double base = 0.30;
  if (rule == "declaration")
    base = 0.95;
  else if (rule == "import" || rule == "local" || rule == "module")
    base = 0.90;
  else if (rule == "keyword")
    base = 0.85;
  else if (rule == "attribute")
    base = 0.75;
  else if (rule == "index")
    base = same_file && (kind == "method" || kind == "attribute") ? 0.55 : 0.40;
  return std::max(0.0, base - 0.01 * static_cast<double>(std::min<std::size_t>(rank, 20)));
}

std::vector<LabeledLocation> merge_definitions(const std::vector<text::Location>& lsp,
                                               const navigation::DefinitionResult* ast,
                                               std::string_view rel) {
  std::vector<LabeledLocation> out;
  for (const auto& l : lsp) out.push_back({l, "lsp", l.external ? 0.50 : 0.90, "", ""});
  if (ast) {
    for (std::size_t i = 0; i < ast->targets.size(); ++i) {
      const auto& t = ast->targets[i];
      const double c =
          ast_confidence(ast->rule, t.kind, !t.location.external && t.location.path == rel, i);
      auto same = std::find_if(out.begin(), out.end(), [&](const LabeledLocation& x) {
        return x.location.path == t.location.path && x.location.external == t.location.external &&
               x.location.line == t.location.line;
      });
      if (same != out.end()) {
        same->confidence = std::max(same->confidence, c);
        continue;
      }
      out.push_back({t.location, "ast", c, "", ""});
    }
  }
  // Stable: equal confidence keeps insertion order, Pyright's locations first.
  std::stable_sort(out.begin(), out.end(), [](const LabeledLocation& a, const LabeledLocation& b) {
    return a.confidence > b.confidence;
  });
  return out;
}

MergedReferences merge_references(
    const std::vector<text::Location>& lsp, const std::vector<text::Location>& ast,
    const std::function<CandidateClass(const text::Location&)>& classify) {
  MergedReferences m;
  std::set<std::tuple<std::string, bool, int, int>> seen;
  for (const auto& l : lsp) {
    if (!seen.insert(key_of(l)).second) continue;
    m.locations.push_back({l, "lsp", 1.0, "confirmed", ""});
    ++m.confirmed;
  }
  std::vector<LabeledLocation> related, unknown;
  for (const auto& l : ast) {
    if (!seen.insert(key_of(l)).second) continue;
    CandidateClass c = classify ? classify(l) : CandidateClass{};
    if (c.kind == CandidateClass::kUnrelated) {
      ++m.filtered;
      continue;
    }
    if (c.kind == CandidateClass::kRelated)
      related.push_back({l, "ast", 0.70, "candidate", std::move(c.receiver_class)});
    else
      unknown.push_back({l, "ast", 0.40, "candidate", ""});
  }
  m.candidates = related.size() + unknown.size();
  for (auto* v : {&related, &unknown})
    for (auto& x : *v) m.locations.push_back(std::move(x));
  return m;
}

std::vector<std::string> bases_of_signature(std::string_view signature) {
  std::vector<std::string> out;
  const std::size_t open = signature.find('(');
  if (open == std::string_view::npos) return out;
  int depth = 0;
  std::size_t start = open + 1;
  auto take = [&](std::size_t end) {
    std::string_view part = trim(signature.substr(start, end - start));
    if (part.empty() || part.find('=') != std::string_view::npos || part.front() == '*') return;
    if (const std::size_t br = part.find('['); br != std::string_view::npos)
      part = part.substr(0, br);  // Generic[T]
    const std::size_t dot = part.rfind('.');
    if (dot != std::string_view::npos) part = part.substr(dot + 1);
    part = trim(part);
    if (!part.empty()) out.emplace_back(part);
  };
  for (std::size_t i = open + 1; i < signature.size(); ++i) {
    const char c = signature[i];
    if (c == '(' || c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ')') {
      if (depth == 0) {
        take(i);
        break;
      }
      --depth;
    }
    if (c == ',' && depth == 0) {
      take(i);
      start = i + 1;
    }
  }
  return out;
}

namespace {

bool is_ancestor(const std::string& cls, const std::string& ancestor,
                 const std::function<std::vector<std::string>(const std::string&)>& bases,
                 int depth) {
  std::vector<std::string> frontier{cls};
  std::set<std::string> seen{cls};
  for (int d = 0; d < depth && !frontier.empty(); ++d) {
    std::vector<std::string> next;
    for (const auto& c : frontier) {
      for (auto& b : bases(c)) {
        if (b == ancestor) return true;
        if (seen.insert(b).second) next.push_back(std::move(b));
      }
    }
    frontier = std::move(next);
  }
  return false;
}

}  // namespace

bool classes_related(const std::string& a, const std::string& b,
                     const std::function<std::vector<std::string>(const std::string&)>& bases,
                     int depth) {
  if (a == b) return true;
  return is_ancestor(a, b, bases, depth) || is_ancestor(b, a, bases, depth);
}

}  // namespace trifecta::core::service
