#include "util/paths.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "util/hash.hpp"

namespace trifecta::core {

Result<fs::path> canonical_path(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::canonical(p, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
      return make_error(Errc::kNotFound, "no such file or directory: " + p.string());
    }
    return make_error(Errc::kIo, "cannot resolve " + p.string() + ": " + ec.message());
  }
  return c;
}

bool is_within(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (r->empty()) continue;  // trailing separator yields an empty last element
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

Result<fs::path> safe_join(const fs::path& root, std::string_view relative) {
  if (relative.empty()) return make_error(Errc::kInvalidArgument, "empty path");
  if (relative.find('\0') != std::string_view::npos) {
    return make_error(Errc::kInvalidArgument, "path contains a NUL byte");
  }
  const fs::path rel{std::string(relative)};
  if (rel.is_absolute()) {
    return make_error(Errc::kPathEscape,
                      "absolute path refused (paths are relative to the segment): " + rel.string());
  }
  // Lexical check first: `..` may never climb above the root, even transiently.
  int depth = 0;
  for (const auto& part : rel) {
    if (part == "..") {
      if (--depth < 0) return make_error(Errc::kPathEscape, "path escapes the segment: " + rel.string());
    } else if (part != "." && !part.empty()) {
      ++depth;
    }
  }
  fs::path joined = (root / rel).lexically_normal();
  if (!joined.empty() && joined.filename().empty()) joined = joined.parent_path();
  if (!is_within(root, joined)) {
    return make_error(Errc::kPathEscape, "path escapes the segment: " + rel.string());
  }
  // Symlink check: resolve the longest existing prefix and make sure it stays inside.
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(joined, ec);
  if (ec) return make_error(Errc::kIo, "cannot resolve " + rel.string() + ": " + ec.message());
  if (!is_within(root, resolved)) {
    return make_error(Errc::kPathEscape,
                      "path leaves the segment through a symlink: " + rel.string());
  }
  return resolved;
}

Result<fs::path> resolve_in_root(const fs::path& root, std::string_view path) {
  const fs::path p{std::string(path)};
  if (p.is_absolute()) {
    const fs::path norm = p.lexically_normal();
    if (!is_within(root, norm)) {
      return make_error(Errc::kPathEscape, "path is outside the segment: " + p.string());
    }
    const fs::path rel = norm.lexically_relative(root);
    if (rel.empty() || rel == ".") return safe_join(root, ".");
    return safe_join(root, rel.generic_string());
  }
  return safe_join(root, path);
}

std::string relpath(const fs::path& root, const fs::path& target) {
  const fs::path t = target.is_absolute() ? target.lexically_normal() : (root / target).lexically_normal();
  if (is_within(root, t)) {
    fs::path rel = t.lexically_relative(root);
    std::string s = rel.generic_string();
    return s.empty() ? "." : s;
  }
  return "external/" + sha256_prefix(t.string(), 8) + "-" + t.filename().string();
}

void ensure_ctx_gitignore(const fs::path& dir) {
  fs::path p = dir;
  for (int up = 0; up < 4 && !p.empty(); ++up, p = p.parent_path()) {
    if (p.filename() != "_ctx") {
      if (p == p.parent_path()) return;
      continue;
    }
    const fs::path file = p / ".gitignore";
    // O_EXCL: never replaces a file that is there (ours or the project's).
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return;
    std::string_view left = kCtxGitignore;
    while (!left.empty()) {
      const ssize_t n = ::write(fd, left.data(), left.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      left.remove_prefix(static_cast<std::size_t>(n));
    }
    ::close(fd);
    return;
  }
}

}  // namespace trifecta::core
