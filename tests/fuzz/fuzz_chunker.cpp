// fuzz_chunker — the chunker (lib/index/chunk.hpp) on arbitrary bytes as a Python file (with the
// skeleton the extractor gives it, as the index builds it), a Markdown file and a text file:
// chunks stay inside the file's lines, in order, and never fail. The skeleton's imports, as
// every file of a small package tree (index/centrality.hpp import_refs), then go through the
// import graph, its PageRank and the package re-exports: references sorted and distinct, ranks
// finite and non-negative, exports only of the tree's files, their names sorted and distinct and
// their interface share in [0, 1].
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "index/centrality.hpp"
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

void check_imports(const ast::Skeleton& skeleton) {
  std::map<std::string, std::vector<std::string>> imports;
  for (const char* path : {"__init__.py", "mod.py", "sub/__init__.py", "sub/leaf.py"}) {
    auto refs = index::import_refs(path, skeleton);
    if (!std::is_sorted(refs.begin(), refs.end()) ||
        std::adjacent_find(refs.begin(), refs.end()) != refs.end())
      std::abort();
    imports.emplace(path, std::move(refs));
  }
  for (const std::string_view prefix : {"", "pkg"}) {
    for (const double r : index::pagerank(index::build_import_graph(imports, prefix)))
      if (!std::isfinite(r) || r < 0.0) std::abort();
    for (const auto& [path, e] : index::package_exports(imports, prefix)) {
      if (!imports.count(path) || e.names.empty() || !(e.interface >= 0.0 && e.interface <= 1.0))
        std::abort();
      if (!std::is_sorted(e.names.begin(), e.names.end()) ||
          std::adjacent_find(e.names.begin(), e.names.end()) != e.names.end())
        std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto skeleton = ast::extract_skeleton(text);
  check(index::chunk_file("pkg/mod.py", text, skeleton ? &*skeleton : nullptr), text);
  if (skeleton) check_imports(*skeleton);
  check(index::chunk_file("docs/guide.md", text, nullptr), text);
  check(index::chunk_file("notes.txt", text, nullptr), text);
  (void)index::slugify(text.substr(0, 256));
  return 0;
}
