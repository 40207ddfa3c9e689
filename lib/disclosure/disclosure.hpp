// disclosure/disclosure.hpp — ctx.get: render chunks as skeleton | excerpt | raw under a token
// budget, with degradation and an exact continuation cursor.
//
// Modes (token estimate everywhere: ceil(bytes / 4)):
//  * skeleton — Python: the AST outline of the chunk's definitions (ast::render with line
//    numbers: decorators, signatures, first docstring lines, `...` bodies; every member has its
//    `# L<a>-<b>` marker, the chunk's own definition and enclosing context lines do not; a
//    class chunk outlines its whole class, so the header chunk of a split class lists every
//    method);
//    Markdown: the heading outline of the section; other text, and Python code outside
//    definitions: the first non-blank line + `# L<first>-<last>`.
//  * excerpt — with a query: windows of ±kExcerptContext lines around lines containing a query
//    term, each line prefixed by its number, indentation kept, gaps shown as `...`; without a
//    query (or no hit): the first kExcerptHeadLines lines, numbered — except for a whole file
//    (a file path, a module URI), which shows its outline in the same numbered form: a Python
//    module's docstring line and every class's and function's header lines (decorators, the
//    signature up to its ':', at most kExcerptHeaderLines) and docstring line, members included,
//    local helpers not; a Markdown file's headings. Other files: the first lines.
//  * raw — the exact text of the chunk's lines.
//
// Budget contract. The reply states `budget` (effective, after clamping to kMaxBudget), `used`
// (tokens of all returned texts) and `stop_reason`:
//  * complete   — every target was rendered;
//  * max_chunks — `max_chunks` pieces were returned and more remain;
//  * budget     — the next piece did not fit.
// When a whole chunk does not fit in the remaining budget it is first *degraded*: the first
// lighter mode (raw → excerpt → skeleton) that fits is returned, marked `degraded_from`, and the
// page stops; the `next` cursor resumes at that same chunk in the requested mode. A chunk that
// still does not fit then (or a chunk resumed from a cursor) is *split*: the longest prefix that
// fits (cut at a line end when possible) is returned with `partial = true`, and `next` resumes
// at the following byte. Hence: concatenating, per target, the non-degraded pieces of all pages
// gives exactly the complete rendering in the requested mode. Every page makes progress.
// Unknown ids / unresolvable targets are reported per target in `errors` (once, on the page
// that reaches them); they never stop the reply.
//
// Targets: a chunk id (`path#name`); an id without '#' naming an indexed file, which is the
// whole file (first line to its last chunk's end, labelled with the path); or a range. An id
// naming a folder of the index is a per-target kInvalidArgument that points at ctx.map. A range
// over a whole Python module (first line to the last chunk's end: a file id, a module URI) has
// the module chunk's skeleton header: the module docstring and `__all__`.
//
// Cursor: opaque text bound to the request (targets, mode, query, max_chunks) and to the content
// hash of the chunk it points into, with a checksum. Malformed, tampered, or used with another
// request → kInvalidArgument; the chunk changed since → kInvalidArgument ("stale cursor").
//
// Accounting: every file is read once per call through the workspace FileReader with the
// purpose of the requested mode (skeleton/excerpt/raw); per file one `file.read` telemetry
// event (args {file, mode}, result {bytes, status: "ok"|"error", error?: ERRC_NAME}, x
// {disclosure_mode, bytes_read}) and the counter `file_read_<mode>_bytes_total`.
// `bytes_read` in the reply equals the bytes those reads returned.
//
// Failure behaviour: request-level problems are errors (kInvalidArgument: no targets, too many
// targets, budget < kMinBudget, max_chunks == 0, bad cursor); everything per target is in
// `errors`.
//
// Thread rules: `get` is safe to call concurrently (SegmentIndex is thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/chunk.hpp"
#include "util/result.hpp"
#include "workspace/file_reader.hpp"

namespace trifecta::core::index {
class SegmentIndex;
}

namespace trifecta::core::disclosure {

enum class Mode { kSkeleton = 0, kExcerpt = 1, kRaw = 2 };
std::string_view mode_name(Mode m) noexcept;  // "skeleton" | "excerpt" | "raw"
bool parse_mode(std::string_view s, Mode& out) noexcept;

inline constexpr std::size_t kMinBudget = 16;            // tokens
inline constexpr std::size_t kMaxBudget = 1'000'000;     // larger budgets are clamped
inline constexpr std::size_t kMaxTargets = 1000;
inline constexpr int kExcerptContext = 2;
inline constexpr int kExcerptHeadLines = 12;
inline constexpr int kExcerptHeaderLines = 6;  // a definition's decorators, or its signature

enum class StopReason { kComplete, kBudget, kMaxChunks };
std::string_view stop_reason_name(StopReason r) noexcept;  // "complete" | "budget" | "max_chunks"

// One requested item: a chunk id (or an indexed file's path: the whole file), or an
// already-resolved range (e.g. from a sym:// URI).
struct Target {
  std::string id;          // chunk id; empty for a range target
  std::string path;        // range target: segment-relative path
  int start_line = 0, end_line = 0;
  std::string label;       // echoed in the piece id / errors (e.g. the sym:// URI)

  static Target chunk(std::string id);
  static Target range(std::string path, int start_line, int end_line, std::string label = {});
};

struct GetRequest {
  std::vector<Target> targets;
  Mode mode = Mode::kExcerpt;
  std::size_t budget = 2000;  // tokens
  std::size_t max_chunks = 20;
  std::string query;          // focuses excerpts
  std::string cursor;         // "" = first page
};

struct Piece {
  std::string id;             // chunk id (or label / path#La-b for range targets)
  std::string path;
  index::ChunkKind kind = index::ChunkKind::kOther;
  std::string title;
  int start_line = 0, end_line = 0;
  Mode mode = Mode::kRaw;     // mode of `text`
  std::optional<Mode> degraded_from;
  bool partial = false;       // a part of the rendering (split across pages)
  std::size_t offset = 0;     // byte offset of `text` in the complete rendering
  std::size_t total_bytes = 0;  // bytes of the complete rendering in `mode`
  std::string text;
  std::size_t tokens = 0;     // ceil(text bytes / 4)
  std::string sha256;         // content hash of the chunk (as indexed)
  bool stale = false;         // disk content differs from the indexed hash
  std::string context;        // split-class methods: the class header line
};

struct TargetError {
  std::string target;         // the id or label as requested
  Errc code = Errc::kNotFound;
  std::string message;
};

struct GetReply {
  std::vector<Piece> chunks;
  std::vector<TargetError> errors;
  Mode mode = Mode::kRaw;
  std::size_t budget = 0, used = 0;
  StopReason stop_reason = StopReason::kComplete;
  std::string next;           // cursor for the next page ("" when complete)
  std::uint64_t bytes_read = 0;
  std::uint64_t generation = 0;
};

// The checks of `request` that do not depend on its targets: budget ≥ kMinBudget and
// max_chunks ≥ 1 (kInvalidArgument otherwise). `get` runs them first; a caller whose targets all
// failed before reaching `get` (unresolvable URIs) runs them itself, so that a bad budget is an
// error whatever the targets.
Result<void> check_request(const GetRequest& request);

// Render `request` against `segment`. `stats` (optional) receives the reads too.
Result<GetReply> get(index::SegmentIndex& segment, const GetRequest& request, workspace::ReadStats* stats = nullptr);

// Renderers (exposed for tests and benchmarks). `text` is the whole file; lines 1-based.
std::string render_raw(std::string_view text, int start_line, int end_line);
// `outline` (called only when no query term hits): the lines to show then (a whole file's
// outline); empty or none: the first kExcerptHeadLines lines.
std::string render_excerpt(std::string_view text, int start_line, int end_line, const std::vector<std::string>& terms,
                           const std::function<std::vector<int>()>& outline = {});

}  // namespace trifecta::core::disclosure
