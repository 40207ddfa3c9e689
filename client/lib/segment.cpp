#include "segment.hpp"

#include <charconv>
#include <cstdlib>

namespace trifecta::client {

namespace fs = std::filesystem;

SegmentChoice choose_segment(const std::string& flag, const fs::path& cwd) {
  std::error_code ec;
  if (!flag.empty()) {
    const fs::path p(flag);
    return {(p.is_absolute() ? p : cwd / p).lexically_normal().string(), SegmentSource::kFlag};
  }
  // A work tree first (its root, wherever a segment was opened below it), then an opened segment.
  for (const bool git : {true, false}) {
    for (auto dir = cwd; !dir.empty(); dir = dir.parent_path()) {
      if (git ? fs::exists(dir / ".git", ec) : fs::is_directory(dir / "_ctx", ec))
        return {dir.string(), git ? SegmentSource::kWorkTree : SegmentSource::kOpened};
      if (dir == dir.root_path()) break;
    }
  }
  return {cwd.string(), too_broad_for_segment(cwd) ? SegmentSource::kNone : SegmentSource::kCwd};
}

bool too_broad_for_segment(const fs::path& dir) {
  std::error_code ec;
  const fs::path d = fs::weakly_canonical(dir, ec);
  if (d == d.root_path()) return true;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return false;
  const fs::path h = fs::weakly_canonical(home, ec);
  return !ec && h != h.root_path() && d == h;
}

std::string no_segment_message(const fs::path& cwd) {
  std::error_code ec;
  const fs::path d = fs::weakly_canonical(cwd, ec);
  return cwd.string() + " is " + (d == d.root_path() ? "the filesystem root" : "your home directory") +
         ", not a project (no git work tree or _ctx above it), and trifecta would index everything "
         "under it: run in a project's folder, or pass -s DIR";
}

std::string require_segment(const std::string& flag) {
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  const SegmentChoice c = choose_segment(flag, cwd);
  if (c.source == SegmentSource::kNone) throw NoSegment(no_segment_message(cwd));
  return c.root;
}

std::string resolve_segment(const std::string& flag, const fs::path& cwd) {
  return choose_segment(flag, cwd).root;
}

std::string resolve_segment(const std::string& flag) {
  std::error_code ec;
  return resolve_segment(flag, fs::current_path(ec));
}

std::string resolve_path_arg(const std::string& arg) {
  if (arg.rfind("sym://", 0) == 0) return arg;
  std::error_code ec;
  const fs::path p(arg);
  if (!p.is_absolute() && fs::exists(p, ec)) return fs::absolute(p, ec).lexically_normal().string();
  return arg;
}

std::optional<std::string> node_id_arg(const std::string& arg) {
  const auto sep = arg.find("::");
  if (arg.rfind("sym://", 0) == 0 || sep == std::string::npos || sep <= 3 ||
      arg.compare(sep - 3, 3, ".py") != 0)
    return std::nullopt;
  return resolve_path_arg(arg.substr(0, sep)) + arg.substr(sep);
}

bool position_params(const std::string& arg, proto::LspPositionParams& p) {
  if (arg.rfind("sym://", 0) == 0) {
    p.uri = arg;
    return true;
  }
  if (auto id = node_id_arg(arg)) {
    p.uri = std::move(*id);
    return true;
  }
  const auto c2 = arg.rfind(':');
  if (c2 == std::string::npos || c2 == 0) return false;
  const auto c1 = arg.rfind(':', c2 - 1);
  if (c1 == std::string::npos || c1 == 0) return false;
  auto parse = [](std::string_view s, long long& v) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
  };
  long long line = 0, col = 0;
  const std::string_view a(arg);
  if (!parse(a.substr(c1 + 1, c2 - c1 - 1), line) || !parse(a.substr(c2 + 1), col)) return false;
  p.path = resolve_path_arg(arg.substr(0, c1));
  p.line = line;
  p.column = col;
  return true;
}

}  // namespace trifecta::client
