// fuzz_chunker — the chunker (lib/index/chunk.hpp) on arbitrary bytes as a Python file (with the
// skeleton the extractor gives it, as the index builds it), a Markdown file and a text file:
// chunks stay inside the file's lines, in order, and never fail.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "index/chunk.hpp"
#include "lang/python/extractor.hpp"

using namespace trifecta::core;

namespace {

void check(const std::vector<index::Chunk>& chunks, std::string_view text) {
  const auto starts = index::line_starts(text);
  const int lines =
      static_cast<int>(starts.size());  // one more than the last line: slack for "L1-1" of ""
  for (const index::Chunk& c : chunks) {
    if (c.start_line < 1 || c.end_line < c.start_line || c.end_line > lines) std::abort();
    if (c.bytes > text.size()) std::abort();
    (void)index::line_span(text, starts, c.start_line, c.end_line);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto skeleton = ast::extract_skeleton(text);
  check(index::chunk_file("pkg/mod.py", text, skeleton ? &*skeleton : nullptr), text);
  check(index::chunk_file("docs/guide.md", text, nullptr), text);
  check(index::chunk_file("notes.txt", text, nullptr), text);
  (void)index::slugify(text.substr(0, 256));
  return 0;
}
