// text/text.hpp — column conversions and file URIs between Trifecta's API and the LSP wire.
//
// lib/text is language- and transport-neutral: the LSP client (lib/lsp) and the AST fallback
// (lib/lang/python) both use it, so the fallback needs no LSP header. It depends on lib/util only.
// The plain position/location types are in text/location.hpp.
//
// Trifecta's API speaks 1-based lines and 1-based columns counted in characters (Unicode code
// points). LSP speaks 0-based lines and 0-based `character` offsets counted in UTF-16 code units:
// "é" is 1 unit, "😀" (outside the BMP) is 2, and a byte offset is neither. These helpers convert
// one line of UTF-8 text between the three column kinds. Malformed UTF-8 is tolerated: each
// invalid byte counts as one character and one UTF-16 unit (it would be decoded as U+FFFD).
// Columns past the end of a line clamp to the end (column chars+1 / the line's UTF-16 length);
// a UTF-16 offset that falls inside a surrogate pair rounds down to the start of that character.
//
// URIs: `file://` URIs with percent-encoding of everything outside RFC 3986's unreserved set and
// "/" (what Pyright and VS Code produce and accept).
//
// Thread rules: pure functions.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace trifecta::core::text {

// The text of 1-based line `line` without its terminator ("\n" or "\r\n"); nullopt when the text
// has fewer lines. A text ending in "\n" has an empty last line after it (as editors count).
std::optional<std::string_view> line_text(std::string_view text, int line);

// 1-based character column -> 0-based UTF-16 offset. column < 1 is treated as 1.
int utf16_from_column(std::string_view line, int column);
// 0-based UTF-16 offset -> 1-based character column. Negative offsets are treated as 0.
int column_from_utf16(std::string_view line, int utf16);
// 0-based UTF-16 offset -> 0-based byte offset into `line`.
std::size_t byte_from_utf16(std::string_view line, int utf16);
// 0-based byte offset -> 0-based UTF-16 offset (a byte inside a character counts from its start).
int utf16_from_byte(std::string_view line, std::size_t byte);

// "/tmp/a b.py" -> "file:///tmp/a%20b.py". `path` must be absolute.
std::string path_to_uri(const std::filesystem::path& path);
// The inverse. Errors: kInvalidArgument for a non-file URI, a bad %-escape, or a relative path.
Result<std::filesystem::path> uri_to_path(std::string_view uri);

}  // namespace trifecta::core::text
