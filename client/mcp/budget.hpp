// client/mcp/budget.hpp — keeping every MCP tool result under a token budget.
//
// Agents cap what a tool may return (Claude Code: 25,000 tokens) and pay for every token, so each
// tool result is bounded. The estimate is the index's own: ceil(bytes / 4). A result is "within
// budget" when both of its renderings are: the text content and the structured content's JSON
// (a client shows the model one or the other, never needs both to fit together).
//
// Cutting: a list result (search hits, locations, diagnostics, symbols) keeps its first n items,
// the largest n that fits (fit_count); a text result (an outline, hover text) is cut at a line
// end (cut_text). Either way the result says it was cut and carries a cursor: the decimal
// offset of the first item (or byte) left out, which the tool takes back as `cursor`.
//
// Thread rules: pure functions. Failure: none (parse_cursor returns nullopt on bad input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace trifecta::mcp {

// The server's default budget per tool result, in tokens (well under the agents' 25,000).
constexpr std::int64_t kDefaultBudget = 8000;
constexpr std::int64_t kMinBudget = 100;
constexpr std::int64_t kMaxBudget = 25000;

// ceil(bytes / 4), the index's estimate.
constexpr std::size_t estimate_tokens(std::size_t bytes) {
  return (bytes + 3) / 4;
}

// The largest n in [0, total] with fits(n), assuming fits is monotone (true up to some n, then
// false). Returns 0 when even fits(0) is false. O(log total) calls.
std::size_t fit_count(std::size_t total, const std::function<bool(std::size_t)>& fits);

// Where to cut `text` so that the kept prefix is at most `max_bytes` bytes: at the last line end
// within the limit when there is one in its second half, else at the last UTF-8 character
// boundary. Returns text.size() when the whole text fits.
std::size_t cut_text(std::string_view text, std::size_t max_bytes);

// A cursor as the tools hand it out: "" → 0, a decimal offset → that offset, else nullopt.
std::optional<std::size_t> parse_cursor(std::string_view cursor);

}  // namespace trifecta::mcp
