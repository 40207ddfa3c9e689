#include "lang/python/syntax.hpp"

#include <chrono>
#include <cstring>
#include <utility>

#include "lang/python/extractor.hpp"
#include "text/text.hpp"

extern "C" const TSLanguage* tree_sitter_python(void);

namespace trifecta::core::navigation::syntax {

namespace {


}  // namespace

ParsedFile::ParsedFile(std::string text, TSTree* tree) : text_(std::move(text)), tree_(tree) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') line_starts_.push_back(static_cast<std::uint32_t>(i + 1));
}

ParsedFile::~ParsedFile() { ts_tree_delete(tree_); }

std::string_view ParsedFile::row_text(std::uint32_t row) const {
  if (row >= line_starts_.size()) return {};
  const std::size_t b = line_starts_[row];
  std::size_t e = row + 1 < line_starts_.size() ? line_starts_[row + 1] - 1 : text_.size();
  if (e > b && text_[e - 1] == '\r') --e;
  return std::string_view(text_).substr(b, e - b);
}

std::string_view ParsedFile::node_text(TSNode n) const {
  if (ts_node_is_null(n)) return {};
  const std::uint32_t b = ts_node_start_byte(n), e = ts_node_end_byte(n);
  if (b >= text_.size() || e < b) return {};
  return std::string_view(text_).substr(b, e - b);
}

std::uint32_t ParsedFile::offset_of(text::Position pos) const {
  const auto row = static_cast<std::uint32_t>(pos.line - 1);
  const std::string_view line = row_text(row);
  const std::size_t byte = text::byte_from_utf16(line, text::utf16_from_column(line, pos.column));
  return line_starts_[row] + static_cast<std::uint32_t>(byte);
}

int ParsedFile::column_of(TSPoint p) const { return column_from_byte(row_text(p.row), p.column); }

text::Location ParsedFile::location_of(TSNode n, std::string path) const {
  text::Location l;
  l.path = std::move(path);
  if (ts_node_is_null(n)) return l;
  const TSPoint s = ts_node_start_point(n), e = ts_node_end_point(n);
  l.line = static_cast<int>(s.row) + 1;
  l.column = column_of(s);
  l.end_line = static_cast<int>(e.row) + 1;
  l.end_column = column_of(e);
  return l;
}

Result<std::shared_ptr<const ParsedFile>> parse_python(std::string_view text) {
  auto tree = ast::parse_python_tree(text, std::chrono::steady_clock::now() + ast::kParseBudget);
  if (!tree) return tree.error();
  return std::shared_ptr<const ParsedFile>(std::make_shared<ParsedFile>(std::string(text), *tree));
}

Result<std::shared_ptr<const ParsedFile>> parse_python_cached(std::string_view text) {
  // Most recently used first. Comparing the whole text is a memcmp: microseconds even for the
  // largest stdlib files, far below a reparse.
  thread_local std::vector<std::shared_ptr<const ParsedFile>> cache;
  for (std::size_t i = 0; i < cache.size(); ++i) {
    if (cache[i]->text() == text) {
      auto hit = cache[i];
      cache.erase(cache.begin() + static_cast<std::ptrdiff_t>(i));
      cache.insert(cache.begin(), hit);
      return hit;
    }
  }
  auto parsed = parse_python(text);
  if (!parsed) return parsed;
  cache.insert(cache.begin(), *parsed);
  if (cache.size() > kTreeCacheEntries) cache.pop_back();
  return parsed;
}

int column_from_byte(std::string_view line, std::size_t byte) {
  return text::column_from_utf16(line, text::utf16_from_byte(line, byte));
}

std::string_view nth_line(std::string_view text, int line) {
  auto l = core::text::line_text(text, line);
  return l ? *l : std::string_view{};
}

std::vector<InstanceAttribute> instance_attributes(std::string_view text, int first_line, int last_line) {
  std::vector<InstanceAttribute> out;
  int line = 1;
  std::size_t b = 0;
  while (line < first_line && b < text.size()) {
    const auto e = text.find('\n', b);
    if (e == std::string_view::npos) return out;
    b = e + 1;
    ++line;
  }
  for (; line <= last_line && b < text.size(); ++line) {
    auto e = text.find('\n', b);
    if (e == std::string_view::npos) e = text.size();
    const std::string_view l = text.substr(b, e - b);
    for (auto p = l.find("self."); p != std::string_view::npos; p = l.find("self.", p + 1)) {
      if (p > 0 && (is_identifier_byte(l[p - 1]) || l[p - 1] == '.')) continue;
      std::size_t k = p + 5;
      while (k < l.size() && is_identifier_byte(l[k])) ++k;
      if (k == p + 5) continue;
      const std::string_view name = l.substr(p + 5, k - p - 5);
      while (k < l.size() && (l[k] == ' ' || l[k] == '\t')) ++k;
      const bool assign =
          k < l.size() && ((l[k] == '=' && (k + 1 >= l.size() || l[k + 1] != '=')) || l[k] == ':' ||
                           (k + 1 < l.size() && l[k + 1] == '=' &&
                            std::string_view("+-*/|&^%@").find(l[k]) != std::string_view::npos));
      if (!assign) continue;
      bool seen = false;
      for (const auto& a : out) seen |= a.name == name;
      if (!seen) out.push_back({std::string(name), line, p + 5});
    }
    b = e + 1;
  }
  return out;
}

std::string_view type_of(TSNode n) { return ts_node_is_null(n) ? std::string_view{} : ts_node_type(n); }

TSNode field(TSNode n, const char* name) {
  // Through a cursor, not ts_node_child_by_field_name: Debian's libtree-sitter 0.20.7 crashes in
  // ts_node_child_by_field_id on some nodes of this grammar (seen on plain assignments in the
  // stdlib), while the cursor's field names are reliable (the extractor walks them too).
  TSNode out{};
  if (ts_node_is_null(n)) return out;
  TSTreeCursor c = ts_tree_cursor_new(n);
  if (ts_tree_cursor_goto_first_child(&c)) {
    do {
      const char* f = ts_tree_cursor_current_field_name(&c);
      if (f && std::strcmp(f, name) == 0) {
        out = ts_tree_cursor_current_node(&c);
        break;
      }
    } while (ts_tree_cursor_goto_next_sibling(&c));
  }
  ts_tree_cursor_delete(&c);
  return out;
}

bool is_identifier_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u >= 0x80;
}

}  // namespace trifecta::core::navigation::syntax
