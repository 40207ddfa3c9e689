// index/chunk.hpp — the unit of search and retrieval, and the chunkers that cut files into it.
//
// Chunk ids are `<path>#<anchor>`, readable and stable under edits elsewhere in the file:
//  * Python: `<path>#<qualname>` per top-level function/class (`json/decoder.py#JSONDecoder`),
//    `<path>#<Class>.<method>` for methods of a split class, `<path>#<Class>.<NAME>` for its
//    class-level code after a method (NAME the first name it assigns: `lexers/python.py#
//    PythonLexer.tokens`; `<Class>+L<line>` when it assigns none), `<path>#<module>` for the module
//    header (docstring, imports, statements before the first definition), and
//    `<path>#after:<Name>` for top-level code that follows definition `Name`
//    (`<path>#<main>` when it starts with `if __name__ == ...`). A long stretch of top-level code
//    (a settings module) is cut into runs: the first keeps the anchor above, each later one is
//    `<anchor>+<NAME>`, NAME the first name the run assigns (`global_settings.py#<module>+USE_TZ`),
//    `<anchor>+L<line>` when it assigns none.
//  * Markdown: `<path>#<slug>` of the heading (GitHub-style slug; repeated slugs get `-2`, `-3`
//    in document order); text before the first heading is `<path>#<preamble>`.
//  * Other text: `<path>#L<start>-<end>` windows (these move when lines above them change; that
//    is inherent to line windows).
//  * A chunk cut by the token cap (below): its first piece keeps the id, piece n ≥ 2 is `<id>~n`.
// Duplicate ids inside one file (e.g. a conditionally redefined function) get `-2`, `-3`, …
//
// Chunking rules (see docs/index.md):
//  * Python (needs the file's ast::Skeleton): header chunk, one chunk per top-level function and
//    class; a class longer than kLargeClassLines lines is split into a class-header chunk (class
//    line, docstring, attributes up to its first method) plus one chunk per method / nested
//    class, each carrying the class header line in `context`. (ctx.get's skeleton of such a
//    header chunk outlines the whole class, every method listed: disclosure.hpp.) Class-level
//    code after a method — from the first blank line below it to the next member — with at least
//    kClassCodeMinLines lines of code (a lexer's `tokens` table, a block of attribute
//    declarations) is cut into its own chunks (role kMethod, the class line in `context`), in
//    runs as top-level code is; shorter code (an alias, the `if`/`else:` line around conditional
//    methods) stays with the member above. Top-level code longer than kModuleRunLines lines is
//    cut into runs of at most that many lines where a column-0 statement follows a blank line
//    (never inside a statement).
//  * Markdown (`.md`, `.markdown`): one chunk per ATX heading section (`#`..`######`), fence-aware
//    (``` and ~~~ fences of ≥ 3 characters; a `#` line inside a fence is not a heading);
//    `title_path` is the chain of enclosing headings.
//  * Everything else: windows of at most kWindowLines lines, cut at the last blank line after
//    kWindowMinLines when there is one.
//  * Every chunker: a chunk over kMaxChunkTokens tokens (≈ 8 KB) is cut into pieces of whole
//    lines of at most that size, at a blank line in the piece's second half when there is one;
//    later pieces carry the chunk's first line (or its context) in `context`. A single line
//    longer than the cap (minified text) stays one chunk: chunks are whole lines.
// Line numbers are 1-based and inclusive; a CRLF file counts lines like an LF file.
// `sha256` is the SHA-256 of the chunk's exact text (its lines, with their line endings);
// `offset` is where that text begins in the text the file was cut from (its first line's
// start; the chunk is bytes [offset, offset + bytes) of it); `tokens` estimates its size as
// ceil(bytes / 4).
//
// Thread rules: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trifecta::core::ast {
struct Skeleton;
}

namespace trifecta::core::index {

inline constexpr int kLargeClassLines = 150;
// Class-level code after a member of a split class (a lexer's `tokens` table) with at least this
// many lines of code is a chunk of its own; shorter (an alias) stays with the member above.
inline constexpr int kClassCodeMinLines = 4;
inline constexpr int kWindowLines = 60;
inline constexpr int kWindowMinLines = 20;
inline constexpr int kModuleRunLines = 80;
// The size cap of a chunk, in tokens (ceil(bytes / 4)): what one ctx.get piece of a default
// budget can hold whole, and small enough that BM25 length normalisation stays meaningful.
inline constexpr std::size_t kMaxChunkTokens = 2048;
// Chunk::offset of a chunk whose text is not the file's bytes at any offset.
inline constexpr std::uint64_t kNoOffset = UINT64_MAX;

enum class ChunkKind : std::uint8_t { kCode = 0, kDoc = 1, kOther = 2 };
std::string_view chunk_kind_name(ChunkKind k) noexcept;  // "code" | "doc" | "other"
bool parse_chunk_kind(std::string_view s, ChunkKind& out) noexcept;

// What a chunk is, finer than its kind.
enum class ChunkRole : std::uint8_t {
  kModule = 0,   // Python module header / top-level code
  kFunction,     // top-level function
  kClass,        // whole class, or the header part of a split class
  kMethod,       // method / nested class / class-level code of a split class
  kSection,      // Markdown heading section (or preamble)
  kWindow,       // line window of another file
};
std::string_view chunk_role_name(ChunkRole r) noexcept;

// How a file is chunked, from its path.
enum class FileType : std::uint8_t { kPython, kMarkdown, kText };
FileType file_type_of(std::string_view rel_path) noexcept;
// code: source extensions; doc: prose (.md, .rst, .txt, …, README*, CHANGELOG*) but for
// CMakeLists.txt, requirements*.txt and constraints*.txt; other: the rest (Makefile, .toml, …).
ChunkKind kind_of(std::string_view rel_path) noexcept;

struct Chunk {
  std::string id;
  std::string path;
  ChunkKind kind = ChunkKind::kOther;
  ChunkRole role = ChunkRole::kWindow;
  std::string title;                    // "JSONDecoder.decode", "Installation", "L1-60"
  std::vector<std::string> title_path;  // ["JSONDecoder", "decode"], ["Guide", "Installation"]
  int start_line = 0, end_line = 0;     // 1-based, inclusive
  std::string sha256;                   // hex of the chunk text
  std::size_t bytes = 0;
  // Byte offset of the chunk's text in the file's text (see above). kNoOffset: not an offset in
  // the file as on disk — SegmentIndex sets it for a file whose decoding changed its bytes
  // (Latin-1, cp1252, invalid UTF-8 replaced), where the text's offsets are not the file's.
  std::uint64_t offset = 0;
  std::size_t tokens = 0;               // ceil(bytes / 4)
  std::string preview;                  // one line, ≤ 160 bytes
  std::string context;                  // split-class methods: the class header line
  std::string signature;                // Python: "@decorators (params) -> ret first docstring line"
};

// Byte offsets of line starts: starts[i] is where line i+1 begins; starts.back() == text.size().
std::vector<std::size_t> line_starts(std::string_view text);
// line_starts(text) computed only as far as needed: `starts` holds a prefix of line_starts(text)
// (empty at first, for that same text); it is extended until it has more than `line` entries or
// is whole (its last entry then text.size()). line_span over it gives what it gives over the
// whole list for any `first`, `last` ≤ `line`.
void extend_line_starts(std::string_view text, std::vector<std::size_t>& starts, std::size_t line);
// Text of lines [first, last] (1-based, inclusive), line endings kept; clamped to the file.
std::string_view line_span(std::string_view text, const std::vector<std::size_t>& starts, int first, int last);

// Chunk one file. `skeleton` is used for Python files (null → windows). Never fails.
// `hash_chunks` false leaves every Chunk::sha256 empty for the caller to fill — the SHA-256 of
// line_span(text, line_starts(text), start_line, end_line), which is what it would hold
// (SegmentIndex takes an unchanged chunk's from the file's previous version: ChunkAnalyses).
std::vector<Chunk> chunk_file(std::string_view rel_path, std::string_view text, const ast::Skeleton* skeleton,
                              bool hash_chunks = true);

std::vector<Chunk> chunk_python(std::string_view rel_path, std::string_view text, const ast::Skeleton& skeleton,
                                bool hash_chunks = true);
std::vector<Chunk> chunk_markdown(std::string_view rel_path, std::string_view text, bool hash_chunks = true);
std::vector<Chunk> chunk_text(std::string_view rel_path, std::string_view text, ChunkKind kind,
                              bool hash_chunks = true);

// GitHub-style heading slug: lowercase ASCII, spaces → '-', punctuation other than '-'/'_' dropped.
std::string slugify(std::string_view heading);

}  // namespace trifecta::core::index
