// workspace/glob.hpp — gitignore-style glob matching and .gitignore rule sets.
//
// Glob syntax (used by .gitignore files, `_ctx/trifecta.json` include/exclude lists and the
// ctx.search path filter): `*` matches any run of characters except `/`; `?` one character except
// `/`; `[abc]`, `[a-z]`, `[!a]`/`[^a]` a character class; `**` as a whole path segment matches
// zero or more segments (`**/x`, `a/**/b`, `a/**`); `\` escapes the next character. A pattern
// ending in `/` names a directory and matches everything under it (`db/` is `db/**`).
//
// Gitignore rules (git's own semantics, see gitignore(5)): blank lines and `#` comments skipped;
// trailing spaces trimmed; a leading `!` negates; a trailing `/` matches directories only; a
// pattern with a `/` at the start or in the middle is anchored to the .gitignore's directory,
// otherwise it matches the basename at any depth; the last matching rule wins; a file inside an
// excluded directory cannot be re-included (the walker never descends into it).
//
// Thread rules: plain values and pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace trifecta::core::workspace {

// Full-string match of `path` (relative, `/`-separated) against `pattern`.
bool glob_match(std::string_view pattern, std::string_view path);

struct IgnoreRule {
  std::string pattern;  // without `!`, leading `/` and trailing `/`
  bool negated = false;
  bool dir_only = false;
  bool anchored = false;  // contains a `/`: matched against the path relative to `base`
};

// The rules of one .gitignore file; `base` is its directory relative to the walk root
// ("" for the root itself, else "a/b").
class IgnoreRules {
 public:
  IgnoreRules() = default;
  IgnoreRules(std::string base, std::string_view text);
  // Tri-state: +1 ignored, -1 explicitly re-included (negation), 0 no rule matched.
  // `rel` is relative to the walk root.
  int match(std::string_view rel, bool is_dir) const;
  const std::string& base() const { return base_; }
  std::size_t size() const { return rules_.size(); }

 private:
  std::string base_;
  std::vector<IgnoreRule> rules_;
};

// Evaluate a stack of rule sets (outermost first): the last decisive match wins.
bool is_ignored(const std::vector<const IgnoreRules*>& stack, std::string_view rel, bool is_dir);

}  // namespace trifecta::core::workspace
