#include "index/ranking.hpp"

#include <algorithm>

namespace trifecta::core::index {

std::string_view field_name(std::size_t f) noexcept {
  static constexpr std::string_view kNames[] = {"path", "name", "sig", "body"};
  return f < kFieldCount ? kNames[f] : "?";
}

std::string name_field_text(const Chunk& chunk) {
  std::string name;
  if (chunk.role == ChunkRole::kModule) {
    // Not the Python module rule (lang/python/modules.hpp) on purpose: this is the path stem of
    // any file (Markdown and text too), extension and a trailing "/__init__" dropped, slashes
    // kept (the tokenizer splits on them as on dots) and no source root removed. The text is
    // part of what kRankingVersion versions; changing it changes rankings.
    std::string_view p = chunk.path;
    if (const auto dot = p.rfind('.'); dot != std::string_view::npos) p = p.substr(0, dot);
    if (p.size() >= 9 && p.substr(p.size() - 9) == "/__init__") p = p.substr(0, p.size() - 9);
    name = std::string(p);
    if (chunk.title.rfind("(code after ", 0) == 0) name += " " + chunk.title;
  } else if (chunk.role != ChunkRole::kWindow) {
    for (const auto& part : chunk.title_path) {
      name += part;
      name += ' ';
    }
  }
  return name;
}

FieldAverages field_averages(const std::array<std::uint64_t, kFieldCount>& total_len,
                             std::size_t docs) {
  FieldAverages avg{};
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    avg[f] =
        docs ? std::max(1.0, static_cast<double>(total_len[f]) / static_cast<double>(docs)) : 1.0;
  }
  return avg;
}

}  // namespace trifecta::core::index
