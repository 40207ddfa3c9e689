// Spec of the identifier-occurrence table's walk (lang/python/ts_walk.h): the extractor reads the
// tree-sitter runtime's subtrees directly instead of walking a TSTreeCursor, and must find exactly
// what the cursor walk finds. The reference here is that cursor walk (every visible node from the
// root, comments and string contents not descended into), on sources chosen for the layout cases
// the direct walk re-implements: hidden nodes, aliases (`print`, `exec`, `match`, `type` as
// identifiers), extras between children, multi-line positions, error recovery and MISSING nodes,
// non-ASCII columns, a BOM, CRLF; then on every .py file of the machine's Python standard library.
#include <tree_sitter/api.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "lang/python/extractor.hpp"
#include "util/utf8.hpp"

using namespace trifecta::core;
namespace fs = std::filesystem;

namespace {

// The table as the cursor walk builds it (the extractor's implementation before ts_walk.h).
ast::IdentifierTable reference_table(std::string_view source) {
  std::string decoded;
  const utf8::Decoded d = utf8::decode_source(source, decoded);
  const std::string_view text = utf8::strip_bom(d.changed ? std::string_view(decoded) : source);
  auto parsed =
      ast::parse_python_tree(text, std::chrono::steady_clock::now() + std::chrono::seconds(30));
  REQUIRE(parsed.ok());
  TSTree* tree = *parsed;
  std::vector<std::size_t> line_starts{0};
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') line_starts.push_back(i + 1);
  std::vector<std::pair<std::string_view, ast::Occurrence>> hits;
  TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(tree));
  bool more = ts_tree_cursor_goto_first_child(&c);
  while (more) {
    const TSNode n = ts_tree_cursor_current_node(&c);
    const std::string_view type = ts_node_type(n);
    bool descend = type != "comment" && type != "string_content";
    if (type == "identifier") {
      descend = false;
      const std::uint32_t b = ts_node_start_byte(n), e = ts_node_end_byte(n);
      const TSPoint p = ts_node_start_point(n);
      if (e > b && e <= text.size() && p.row < line_starts.size()) {
        int column = 1;
        for (std::size_t i = line_starts[p.row];
             i < line_starts[p.row] + p.column && i < text.size(); ++i)
          column += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
        if (d.had_bom && p.row == 0) ++column;
        hits.push_back({text.substr(b, e - b), {static_cast<std::int32_t>(p.row) + 1, column}});
      }
    }
    if (descend && ts_tree_cursor_goto_first_child(&c)) continue;
    while (!ts_tree_cursor_goto_next_sibling(&c)) {
      if (!ts_tree_cursor_goto_parent(&c) || ts_tree_cursor_current_depth(&c) == 0) {
        more = false;
        break;
      }
    }
  }
  ts_tree_cursor_delete(&c);
  ts_tree_delete(tree);
  std::stable_sort(hits.begin(), hits.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  ast::IdentifierTable t;
  t.built = true;
  for (std::size_t i = 0; i < hits.size(); ++i) {
    if (i == 0 || hits[i].first != hits[i - 1].first) {
      t.names.emplace_back(hits[i].first);
      t.starts.push_back(static_cast<std::uint32_t>(i));
    }
    t.occurrences.push_back(hits[i].second);
  }
  t.starts.push_back(static_cast<std::uint32_t>(hits.size()));
  return t;
}

void check_same(const std::string& source) {
  auto sk = ast::extract_skeleton(source);
  if (!sk.ok()) return;  // refused before any walk (nesting guard, budget): nothing to compare
  const ast::IdentifierTable want = reference_table(source);
  CHECK(sk->identifiers.names == want.names);
  CHECK(sk->identifiers.starts == want.starts);
  CHECK(sk->identifiers.occurrences == want.occurrences);
}

}  // namespace

TEST_CASE("identifier walk: the same table as a cursor walk on layout edge cases",
          "[occurrences]") {
  const std::vector<std::string> sources = {
      "",
      "x",
      "# only a comment\n",
      "import os.path as p, sys\nfrom . import (a,  # why\n    b)\n",
      "print(x)\nprint >> f, y\nexec('code')\nexec = 1\nprint = exec\n",
      "match command.split():\n    case [action, obj]:\n        go(action, obj)\n    case "
      "Point(x=0) | Other():\n"
      "        pass\n    case _:\n        match = 1\n",
      "type Alias[T] = list[T]\ntype = 3\nmatch = type\n",
      "async def f(a, *args, b: int = 1, **kw) -> None:\n    await g(a)\n    async with x as y:\n"
      "        async for i in y:\n            yield i\n",
      "@decorator(arg)\nclass C(Base, metaclass=M):\n    \"\"\"Doc with name inside.\"\"\"\n"
      "    attr: int = 0\n    def m(self, /, p, *, q): return lambda z: z + p + q\n",
      "s = f\"{a!r:>{width}} {b['k']} {{c}} {f'{d}'}\"\nt = rb'raw' 'implicit' \"concat\"\n",
      "call(a,\n     # between arguments\n     b,  # trailing\n     c)\nx = \\\n    y\n",
      "x = [i for i in range(10) if i % 2]\ny = {k: v for k, v in d.items()}\nz = (w for w in q)\n",
      "try:\n    pass\nexcept* (ValueError, TypeError) as eg:\n    raise eg from None\nfinally:\n  "
      "  del q\n",
      "global g\nnonlocal_ = 1\nwith open(p) as f, lock:\n    f.write(data)\nassert ok, msg\n",
      "def broken(:\n    return x +\nclass\nvalue = (1, 2\nother = value\n",
      "if x\n    y = z\nelse:\n  w = [1, 2,\n",
      "naïve = 1; café = naïve + 1  # é\nλ = lambda: naïve\n\"\"\"ünïcode\"\"\"; after = café\n",
      "\xEF\xBB\xBFvalue = 1\nvalue\n",
      "a = 1\r\nb = a\r\n\tc = b\r\n",
      "x = " + std::string(60, '(') + "y" + std::string(60, ')') + "\n",
      "\xff\xfe bad bytes = 1\nname = bad\n",
  };
  for (const auto& s : sources) {
    INFO(s);
    check_same(s);
  }
}

TEST_CASE("identifier walk: the same table as a cursor walk on the Python standard library",
          "[occurrences]") {
  // The machine's stdlib (the ast oracle's corpus): the first 400 .py files in path order.
  std::vector<fs::path> files;
  for (const char* dir : {"/usr/lib/python3.11", "/usr/lib/python3.12", "/usr/lib/python3"}) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (fs::recursive_directory_iterator
             it(dir, fs::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".py") files.push_back(it->path());
    }
    break;
  }
  if (files.empty()) {
    WARN("no Python standard library under /usr/lib/python3*: only the edge cases ran");
    return;
  }
  std::sort(files.begin(), files.end());
  if (files.size() > 400) files.resize(400);
  std::size_t compared = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    INFO(f.string());
    check_same(ss.str());
    ++compared;
  }
  CHECK(compared == files.size());
}
