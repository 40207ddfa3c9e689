#include "workspace/glob.hpp"

#include <string>

namespace trifecta::core::workspace {
namespace {

// Match one character class starting at p[i] == '['. Returns the index after ']' (or npos when
// the class is unterminated, in which case '[' is a literal) and whether `c` matched.
std::size_t match_class(std::string_view p, std::size_t i, char c, bool& matched) {
  std::size_t j = i + 1;
  bool negate = false;
  if (j < p.size() && (p[j] == '!' || p[j] == '^')) {
    negate = true;
    ++j;
  }
  bool any = false;
  bool first = true;
  while (j < p.size() && (first || p[j] != ']')) {
    first = false;
    char lo = p[j];
    if (lo == '\\' && j + 1 < p.size()) lo = p[++j];
    if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
      char hi = p[j + 2];
      j += 3;
      if (c >= lo && c <= hi) any = true;
    } else {
      ++j;
      if (c == lo) any = true;
    }
  }
  if (j >= p.size()) return std::string_view::npos;
  matched = (any != negate) && c != '/';
  return j + 1;
}

// Classic backtracking matcher over bytes; `**` segments handled by recursion.
bool match_from(std::string_view p, std::size_t pi, std::string_view s, std::size_t si) {
  while (pi < p.size()) {
    const char c = p[pi];
    if (c == '*') {
      const bool double_star = pi + 1 < p.size() && p[pi + 1] == '*';
      const bool seg_start = pi == 0 || p[pi - 1] == '/';
      if (double_star && seg_start && (pi + 2 == p.size() || p[pi + 2] == '/')) {
        // `**` as a whole segment.
        if (pi + 2 == p.size()) return true;  // `a/**` matches everything below
        // `**/rest`: try rest at every segment boundary (including zero segments).
        const std::size_t rest = pi + 3;
        if (match_from(p, rest, s, si)) return true;
        for (std::size_t k = si; k < s.size(); ++k) {
          if (s[k] == '/' && match_from(p, rest, s, k + 1)) return true;
        }
        return false;
      }
      // Single star (or a `**` inside a segment, which git treats like `*`).
      std::size_t next = pi + 1;
      while (next < p.size() && p[next] == '*') ++next;
      for (std::size_t k = si;; ++k) {
        if (match_from(p, next, s, k)) return true;
        if (k >= s.size() || s[k] == '/') return false;
      }
    }
    if (si >= s.size()) return false;
    if (c == '?') {
      if (s[si] == '/') return false;
      ++pi;
      ++si;
      continue;
    }
    if (c == '[') {
      bool matched = false;
      const std::size_t after = match_class(p, pi, s[si], matched);
      if (after != std::string_view::npos) {
        if (!matched) return false;
        pi = after;
        ++si;
        continue;
      }
    }
    char lit = c;
    if (c == '\\' && pi + 1 < p.size()) lit = p[++pi];
    if (s[si] != lit) return false;
    ++pi;
    ++si;
  }
  return si == s.size();
}

std::string_view basename_of(std::string_view rel) {
  const auto slash = rel.rfind('/');
  return slash == std::string_view::npos ? rel : rel.substr(slash + 1);
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  // A pattern ending in `/` names a directory: it matches everything under it (`db/` = `db/**`).
  if (!pattern.empty() && pattern.back() == '/') return glob_match(std::string(pattern) + "**", path);
  return match_from(pattern, 0, path, 0);
}

IgnoreRules::IgnoreRules(std::string base, std::string_view text) : base_(std::move(base)) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string line(text.substr(pos, eol - pos));
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Trailing spaces are trimmed unless escaped with a backslash.
    while (!line.empty() && line.back() == ' ' &&
           !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
      line.pop_back();
    }
    if (line.empty() || line[0] == '#') continue;
    IgnoreRule r;
    if (line[0] == '!') {
      r.negated = true;
      line.erase(0, 1);
    } else if (line.size() >= 2 && line[0] == '\\' && (line[1] == '!' || line[1] == '#')) {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      r.dir_only = true;
      line.pop_back();
    }
    if (line.empty()) continue;
    if (line.find('/') != std::string::npos) r.anchored = true;
    if (line[0] == '/') line.erase(0, 1);
    if (line.empty()) continue;
    r.pattern = std::move(line);
    rules_.push_back(std::move(r));
    if (pos > text.size()) break;
  }
}

int IgnoreRules::match(std::string_view rel, bool is_dir) const {
  // Only paths under base_ are affected by this file.
  std::string_view local = rel;
  if (!base_.empty()) {
    if (rel.size() <= base_.size() || rel.substr(0, base_.size()) != base_ || rel[base_.size()] != '/') {
      return 0;
    }
    local = rel.substr(base_.size() + 1);
  }
  for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
    if (it->dir_only && !is_dir) continue;
    const bool hit = it->anchored ? glob_match(it->pattern, local)
                                  : glob_match(it->pattern, basename_of(local));
    if (hit) return it->negated ? -1 : 1;
  }
  return 0;
}

bool is_ignored(const std::vector<const IgnoreRules*>& stack, std::string_view rel, bool is_dir) {
  // Deeper files take precedence over shallower ones (git's order); the stack is outermost first.
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    const int m = (*it)->match(rel, is_dir);
    if (m != 0) return m > 0;
  }
  return false;
}

}  // namespace trifecta::core::workspace
