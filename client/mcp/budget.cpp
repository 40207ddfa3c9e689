// client/mcp/budget.cpp — budget arithmetic (see budget.hpp).
#include "budget.hpp"

#include <charconv>

namespace trifecta::mcp {

std::size_t fit_count(std::size_t total, const std::function<bool(std::size_t)>& fits) {
  if (fits(total)) return total;
  std::size_t lo = 0, hi = total;  // invariant: answer in [lo, hi), fits(hi) is false
  if (!fits(0)) return 0;
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (fits(mid))
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

std::size_t cut_text(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  std::size_t cut = max_bytes;
  // Never inside a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  const auto nl = text.rfind('\n', cut == 0 ? 0 : cut - 1);
  if (nl != std::string_view::npos && nl + 1 >= max_bytes / 2) return nl + 1;
  return cut;
}

std::optional<std::size_t> parse_cursor(std::string_view cursor) {
  if (cursor.empty()) return 0;
  std::size_t v = 0;
  const auto r = std::from_chars(cursor.data(), cursor.data() + cursor.size(), v);
  if (r.ec != std::errc() || r.ptr != cursor.data() + cursor.size()) return std::nullopt;
  return v;
}

}  // namespace trifecta::mcp
