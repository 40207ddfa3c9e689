#include "index/chunk.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>

#include "ast/skeleton.hpp"
#include "lang/python/lexical.hpp"
#include "util/hash.hpp"

namespace trifecta::core::index {

std::string_view chunk_kind_name(ChunkKind k) noexcept {
  switch (k) {
    case ChunkKind::kCode: return "code";
    case ChunkKind::kDoc: return "doc";
    case ChunkKind::kOther: return "other";
  }
  return "other";
}

bool parse_chunk_kind(std::string_view s, ChunkKind& out) noexcept {
  if (s == "code") out = ChunkKind::kCode;
  else if (s == "doc") out = ChunkKind::kDoc;
  else if (s == "other") out = ChunkKind::kOther;
  else return false;
  return true;
}

std::string_view chunk_role_name(ChunkRole r) noexcept {
  switch (r) {
    case ChunkRole::kModule: return "module";
    case ChunkRole::kFunction: return "function";
    case ChunkRole::kClass: return "class";
    case ChunkRole::kMethod: return "method";
    case ChunkRole::kSection: return "section";
    case ChunkRole::kWindow: return "window";
  }
  return "window";
}

namespace {
std::string lower_ext(std::string_view rel) {
  const auto slash = rel.rfind('/');
  const auto name = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  std::string e(name.substr(dot));
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}
}  // namespace

FileType file_type_of(std::string_view rel) noexcept {
  const std::string e = lower_ext(rel);
  if (e == ".py" || e == ".pyi") return FileType::kPython;
  if (e == ".md" || e == ".markdown") return FileType::kMarkdown;
  return FileType::kText;
}

ChunkKind kind_of(std::string_view rel) noexcept {
  static const char* const kCode[] = {".py", ".pyi", ".c", ".h", ".cc", ".cpp", ".hpp", ".cxx", ".js", ".mjs",
                                      ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".kt", ".rb", ".sh",
                                      ".bash", ".lua", ".pl", ".php", ".swift", ".cs", ".scala", ".pyx", ".sql"};
  static const char* const kDoc[] = {".md", ".markdown", ".rst", ".txt", ".adoc", ".org"};
  const std::string e = lower_ext(rel);
  for (auto* c : kCode) {
    if (e == c) return ChunkKind::kCode;
  }
  const auto slash = rel.rfind('/');
  const auto name = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
  // Build and dependency files that happen to end in .txt are not prose: other, like a Makefile.
  if (e == ".txt" && (name == "CMakeLists.txt" || name.rfind("requirements", 0) == 0 ||
                      name.rfind("constraints", 0) == 0))
    return ChunkKind::kOther;
  for (auto* d : kDoc) {
    if (e == d) return ChunkKind::kDoc;
  }
  if (name.rfind("README", 0) == 0 || name.rfind("CHANGELOG", 0) == 0) return ChunkKind::kDoc;
  return ChunkKind::kOther;
}

std::vector<std::size_t> line_starts(std::string_view text) {
  std::vector<std::size_t> s;
  s.reserve(text.size() / 32 + 2);
  s.push_back(0);
  // memchr skips whole lines at a time (this runs for every file of a build).
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  for (const char* p = begin; p < end;) {
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (!nl || nl + 1 >= end) break;
    s.push_back(static_cast<std::size_t>(nl + 1 - begin));
    p = nl + 1;
  }
  s.push_back(text.size());
  return s;
}

void extend_line_starts(std::string_view text, std::vector<std::size_t>& starts, std::size_t line) {
  if (starts.empty()) starts.push_back(0);
  if (starts.size() >= 2 && starts.back() == text.size()) return;  // whole already
  // As line_starts: a line start is recorded when a line follows the newline, then the end.
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* p = begin + starts.back();
  while (starts.size() <= line) {
    const auto* nl = p < end ? static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p))) : nullptr;
    if (!nl || nl + 1 >= end) {
      starts.push_back(text.size());
      return;
    }
    starts.push_back(static_cast<std::size_t>(nl + 1 - begin));
    p = nl + 1;
  }
}

std::string_view line_span(std::string_view text, const std::vector<std::size_t>& starts, int first, int last) {
  const int lines = static_cast<int>(starts.size()) - 1;
  if (text.empty() || lines <= 0) return {};
  first = std::clamp(first, 1, lines);
  last = std::clamp(last, first, lines);
  const std::size_t a = starts[static_cast<std::size_t>(first - 1)];
  const std::size_t b = starts[static_cast<std::size_t>(last)];
  return text.substr(a, b - a);
}

std::string slugify(std::string_view h) {
  std::string out;
  for (const char ch : h) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c - 'A' + 'a'));
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80) out.push_back(ch);
    else if (c == ' ' || c == '\t') out.push_back('-');
  }
  return out.empty() ? std::string("section") : out;
}

namespace {

// Where `span` (a line_span of `text`) begins in it; 0 for the empty span of an empty text.
std::uint64_t offset_in(std::string_view text, std::string_view span) {
  return span.data() == nullptr ? 0 : static_cast<std::uint64_t>(span.data() - text.data());
}

int line_count(const std::vector<std::size_t>& starts, std::string_view text) {
  return text.empty() ? 0 : static_cast<int>(starts.size()) - 1;
}

std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r' || s[b - 1] == '\n')) --b;
  return std::string(s.substr(a, b - a));
}

std::string clip(std::string s, std::size_t n = 160) {
  if (s.size() <= n) return s;
  std::size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  s.resize(cut);
  s += "...";
  return s;
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

// First line of [a, b] satisfying `pred`, trimmed.
template <class Pred>
std::string first_line(std::string_view text, const std::vector<std::size_t>& starts, int a, int b, Pred pred) {
  for (int l = a; l <= b; ++l) {
    auto s = line_span(text, starts, l, l);
    if (!blank(s) && pred(s)) return clip(trim(s));
  }
  return {};
}

struct Builder {
  std::string_view rel;
  std::string_view text;
  const std::vector<std::size_t>& starts;
  std::vector<Chunk> out;
  std::map<std::string, int> used;
  bool hash = true;  // fill Chunk::sha256 (chunk_file's `hash_chunks`)

  std::string unique(std::string anchor) {
    const int n = ++used[anchor];
    if (n == 1) return anchor;
    std::string candidate = anchor + "-" + std::to_string(n);
    while (used.count(candidate)) candidate = anchor + "-" + std::to_string(++used[anchor]);
    used[candidate] = 1;
    return candidate;
  }

  Chunk& add(std::string anchor, ChunkKind kind, ChunkRole role, std::string title, std::vector<std::string> path,
             int a, int b) {
    Chunk c;
    c.id = std::string(rel) + "#" + unique(std::move(anchor));
    c.path = std::string(rel);
    c.kind = kind;
    c.role = role;
    c.title = std::move(title);
    c.title_path = std::move(path);
    c.start_line = a;
    c.end_line = b;
    const auto span = line_span(text, starts, a, b);
    if (hash) c.sha256 = sha256_hex(span);
    c.bytes = span.size();
    c.offset = offset_in(text, span);
    c.tokens = (span.size() + 3) / 4;
    c.preview = first_line(text, starts, a, b, [](std::string_view) { return true; });
    out.push_back(std::move(c));
    return out.back();
  }
};

int trim_trailing_blank(std::string_view text, const std::vector<std::size_t>& starts, int a, int b) {
  while (b > a && blank(line_span(text, starts, b, b))) --b;
  return b;
}

// Lines of code in [a, e]: neither blank nor only a comment.
int code_lines(std::string_view text, const std::vector<std::size_t>& starts, int a, int e) {
  int n = 0;
  for (int l = a; l <= e; ++l) {
    const auto s = line_span(text, starts, l, l);
    const auto k = s.find_first_not_of(" \t\r\n");
    if (k != std::string_view::npos && s[k] != '#') ++n;
  }
  return n;
}

std::vector<std::string> split_qualname(const std::string& q) {
  std::vector<std::string> parts;
  std::size_t s = 0;
  while (true) {
    auto d = q.find('.', s);
    parts.push_back(q.substr(s, d == std::string::npos ? std::string::npos : d - s));
    if (d == std::string::npos) break;
    s = d + 1;
  }
  return parts;
}

std::string def_signature(const ast::Definition& d) {
  std::string s;
  for (const auto& dec : d.decorators) s += "@" + dec + " ";
  s += d.signature;  // the name itself is in the `name` field; repeating it here would count twice
  if (!d.docstring.empty()) s += " " + d.docstring;
  return s;
}


// The name a top-level statement assigns (`NAME = ...`, `NAME: T = ...`, `NAME += ...`), or "".
std::string assigned_name(std::string_view line) {
  std::size_t i = 0;
  if (line.empty() || !(std::isalpha(static_cast<unsigned char>(line[0])) || line[0] == '_')) return {};
  while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_')) ++i;
  std::size_t j = i;
  while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
  if (j >= line.size()) return {};
  const char c = line[j];
  const bool assign = (c == '=' && (j + 1 >= line.size() || line[j + 1] != '=')) || c == ':' ||
                      (j + 1 < line.size() && line[j + 1] == '=' && std::strchr("+-*/|&", c) != nullptr);
  if (!assign) return {};
  const std::string_view name = line.substr(0, i);
  for (const std::string_view kw : {"if", "elif", "else", "try", "except", "finally", "for", "while", "with", "match",
                                    "case", "class", "def", "lambda", "async"}) {
    if (name == kw) return {};
  }
  return std::string(name);
}

// Split code [a, e] whose statements start at column `indent` (0: top-level code; a class body's
// indentation for class-level code) into runs of at most kModuleRunLines lines, cut where a
// statement at that column follows a blank line (never inside a statement's continuation lines);
// a run with no such place inside the window ends at the next one (the token cap bounds it).
// Returns the [start, end] pieces, trailing/leading blank lines trimmed.
std::vector<std::pair<int, int>> module_runs(std::string_view text, const std::vector<std::size_t>& starts, int a,
                                             int e, std::size_t indent = 0) {
  std::vector<std::pair<int, int>> out;
  if (e - a + 1 <= kModuleRunLines) {
    out.emplace_back(a, e);
    return out;
  }
  // inside[l - a]: line l starts inside a bracket, a string or after a backslash continuation — a
  // lexical scan of [a, e] (lang/python/lexical.hpp: strings with escapes, triple quotes,
  // comments), counting bracket depth.
  std::vector<char> inside(static_cast<std::size_t>(e - a + 2), 0);
  {
    const std::string_view span = line_span(text, starts, a, e);
    int depth = 0;
    bool cont = false;  // a backslash ends the line
    int l = a;          // the line of span[i]
    const auto next_line = [&](bool in) {
      if (++l <= e) inside[static_cast<std::size_t>(l - a)] = in ? 1 : 0;
    };
    for (std::size_t i = 0; i < span.size();) {
      const char ch = span[i];
      if (ch == '\n') {
        next_line(depth > 0 || cont);
        cont = false;
        ++i;
        continue;
      }
      if (ch == '#') {
        i = lang::python::comment_end(span, i);
        continue;
      }
      if (ch == '"' || ch == '\'') {
        const std::size_t end = lang::python::scan_string(span, i).end;
        for (std::size_t k = i + 1; k < end; ++k) {
          if (span[k] == '\n') next_line(true);  // the next line starts inside the string
        }
        i = end;
        continue;
      }
      if (ch == '(' || ch == '[' || ch == '{') {
        ++depth;
      } else if ((ch == ')' || ch == ']' || ch == '}') && depth > 0) {
        --depth;
      } else if (ch == '\\' && (i + 1 == span.size() || span[i + 1] == '\n' || span[i + 1] == '\r')) {
        cont = true;
      }
      ++i;
    }
  }
  // A piece may start at line l: a blank line before it, a statement or comment at column
  // `indent` that is not inside an open bracket / string, and not the `else:` / `except:` part of
  // a compound one.
  auto can_start = [&](int l) {
    if (l <= a || l > e || inside[static_cast<std::size_t>(l - a)]) return false;
    auto s = line_span(text, starts, l, l);
    if (s.size() <= indent || blank(s)) return false;
    for (std::size_t k = 0; k < indent; ++k) {
      if (s[k] != ' ' && s[k] != '\t') return false;
    }
    s.remove_prefix(indent);
    if (s[0] == ' ' || s[0] == '\t') return false;
    for (const std::string_view kw : {"else", "elif", "except", "finally", "case"}) {
      if (s.size() > kw.size() && s.substr(0, kw.size()) == kw &&
          !(std::isalnum(static_cast<unsigned char>(s[kw.size()])) || s[kw.size()] == '_')) {
        return false;
      }
    }
    return blank(line_span(text, starts, l - 1, l - 1));
  };
  int s = a;
  while (s <= e) {
    if (e - s + 1 <= kModuleRunLines) {
      out.emplace_back(s, e);
      break;
    }
    int cut = 0;
    for (int l = s + kModuleRunLines; l > s + kWindowMinLines; --l) {
      if (can_start(l)) {
        cut = l;
        break;
      }
    }
    if (cut == 0) {
      for (int l = s + kModuleRunLines + 1; l <= e; ++l) {
        if (can_start(l)) {
          cut = l;
          break;
        }
      }
    }
    if (cut == 0) {
      out.emplace_back(s, e);
      break;
    }
    out.emplace_back(s, trim_trailing_blank(text, starts, s, cut - 1));
    s = cut;
  }
  return out;
}

// Cut every chunk over kMaxChunkTokens into line pieces of at most that size (at the last blank
// line in the piece's second half when there is one). The first piece keeps the chunk's id,
// signature and context; piece n ≥ 2 is `<id>~n` with the title "<title> (part n)", no signature,
// and as context the chunk's first line (or its own context). A single line over the cap stays
// whole: chunks hold whole lines.
void cap_chunks(Builder& b) {
  constexpr std::size_t kMaxBytes = kMaxChunkTokens * 4;
  std::vector<Chunk> out;
  out.reserve(b.out.size());
  for (auto& c : b.out) {
    if (c.tokens <= kMaxChunkTokens || c.end_line <= c.start_line) {
      out.push_back(std::move(c));
      continue;
    }
    const std::string base_id = c.id;
    const std::string base_anchor = base_id.substr(base_id.find('#') + 1);
    const std::string first_line_text = trim(line_span(b.text, b.starts, c.start_line, c.start_line));
    int s = c.start_line;
    int part = 1;
    while (s <= c.end_line) {
      // Longest run of whole lines from s within the byte cap (at least one line).
      int e = s;
      while (e < c.end_line &&
             b.starts[static_cast<std::size_t>(e + 1)] - b.starts[static_cast<std::size_t>(s - 1)] <= kMaxBytes) {
        ++e;
      }
      if (e < c.end_line) {
        for (int l = e; l > s + (e - s) / 2; --l) {
          if (blank(line_span(b.text, b.starts, l, l))) {
            e = l;
            break;
          }
        }
      }
      const auto span = line_span(b.text, b.starts, s, e);
      Chunk p;
      if (part == 1) {
        p = c;
        p.id = base_id;
      } else {
        p.path = c.path;
        p.kind = c.kind;
        p.role = c.role;
        p.title = c.title + " (part " + std::to_string(part) + ")";
        p.title_path = c.title_path;
        p.context = c.context.empty() ? first_line_text : c.context;
        p.id = std::string(b.rel) + "#" + b.unique(base_anchor + "~" + std::to_string(part));
        p.preview = first_line(b.text, b.starts, s, e, [](std::string_view) { return true; });
      }
      p.start_line = s;
      p.end_line = e;
      p.sha256 = b.hash ? sha256_hex(span) : std::string();
      p.bytes = span.size();
      p.offset = offset_in(b.text, span);
      p.tokens = (span.size() + 3) / 4;
      out.push_back(std::move(p));
      ++part;
      s = e + 1;
    }
  }
  b.out = std::move(out);
}

}  // namespace

std::vector<Chunk> chunk_text(std::string_view rel, std::string_view text, ChunkKind kind, bool hash_chunks) {
  const auto starts = line_starts(text);
  Builder b{rel, text, starts, {}, {}, hash_chunks};
  const int n = line_count(starts, text);
  int s = 1;
  while (s <= n) {
    int e = std::min(n, s + kWindowLines - 1);
    if (e < n) {
      for (int l = e; l >= s + kWindowMinLines; --l) {
        if (blank(line_span(text, starts, l, l))) {
          e = l;
          break;
        }
      }
    }
    const std::string anchor = "L" + std::to_string(s) + "-" + std::to_string(e);
    b.add(anchor, kind, ChunkRole::kWindow, anchor, {anchor}, s, e);
    s = e + 1;
  }
  cap_chunks(b);
  return std::move(b.out);
}

std::vector<Chunk> chunk_markdown(std::string_view rel, std::string_view text, bool hash_chunks) {
  const auto starts = line_starts(text);
  Builder b{rel, text, starts, {}, {}, hash_chunks};
  const int n = line_count(starts, text);
  struct Heading {
    int line;
    int level;
    std::string title;
  };
  std::vector<Heading> heads;
  char fence_char = 0;
  std::size_t fence_len = 0;
  for (int l = 1; l <= n; ++l) {
    std::string_view line = line_span(text, starts, l, l);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    std::size_t indent = 0;
    while (indent < line.size() && indent < 4 && line[indent] == ' ') ++indent;
    const std::string_view body = line.substr(indent);
    if (indent <= 3 && !body.empty() && (body[0] == '`' || body[0] == '~')) {
      const char c = body[0];
      std::size_t k = 0;
      while (k < body.size() && body[k] == c) ++k;
      if (k >= 3) {
        if (fence_char == 0) {
          fence_char = c;
          fence_len = k;
          continue;
        }
        if (c == fence_char && k >= fence_len && blank(body.substr(k))) {
          fence_char = 0;
          continue;
        }
      }
    }
    if (fence_char != 0 || indent > 3) continue;
    std::size_t level = 0;
    while (level < body.size() && body[level] == '#') ++level;
    if (level == 0 || level > 6) continue;
    if (level < body.size() && body[level] != ' ' && body[level] != '\t') continue;
    std::string title = trim(body.substr(level));
    // Closing sequence: trailing #s preceded by a space.
    auto last = title.find_last_not_of('#');
    if (last != std::string::npos && last + 1 < title.size() && (title[last] == ' ' || title[last] == '\t')) {
      title = trim(std::string_view(title).substr(0, last));
    } else if (last == std::string::npos) {
      title.clear();
    }
    heads.push_back({l, static_cast<int>(level), title});
  }
  const int first_head = heads.empty() ? n + 1 : heads.front().line;
  if (first_head > 1) {
    bool any = false;
    for (int l = 1; l < first_head; ++l) any = any || !blank(line_span(text, starts, l, l));
    if (any) {
      auto& c = b.add("<preamble>", ChunkKind::kDoc, ChunkRole::kSection, "(preamble)", {}, 1,
                      trim_trailing_blank(text, starts, 1, first_head - 1));
      c.preview = first_line(text, starts, c.start_line, c.end_line, [](std::string_view) { return true; });
    }
  }
  std::vector<std::pair<int, std::string>> stack;  // (level, title)
  for (std::size_t i = 0; i < heads.size(); ++i) {
    const auto& h = heads[i];
    const int end = i + 1 < heads.size() ? heads[i + 1].line - 1 : n;
    while (!stack.empty() && stack.back().first >= h.level) stack.pop_back();
    stack.emplace_back(h.level, h.title);
    std::vector<std::string> path;
    for (const auto& [lv, t] : stack) path.push_back(t);
    const std::string title = h.title.empty() ? std::string("(untitled)") : h.title;
    auto& c = b.add(slugify(h.title), ChunkKind::kDoc, ChunkRole::kSection, title, std::move(path), h.line,
                    std::max(h.line, trim_trailing_blank(text, starts, h.line, end)));
    std::string p = first_line(text, starts, c.start_line + 1, c.end_line, [](std::string_view s) {
      auto t = trim(s);
      return !t.empty() && t[0] != '#';
    });
    if (!p.empty()) c.preview = p;
  }
  cap_chunks(b);
  return std::move(b.out);
}

std::vector<Chunk> chunk_python(std::string_view rel, std::string_view text, const ast::Skeleton& sk,
                                bool hash_chunks) {
  const auto starts = line_starts(text);
  Builder b{rel, text, starts, {}, {}, hash_chunks};
  const int n = line_count(starts, text);
  if (n == 0) return {};
  const auto& defs = sk.definitions;
  auto def_start = [](const ast::Definition& d) { return d.decorated_line > 0 ? std::min(d.decorated_line, d.line) : d.line; };

  // Top-level code outside definitions: the header before the first def, then each gap.
  auto add_gap = [&](int a, int e, const ast::Definition* prev) {
    if (a > e) return;
    // Skip gaps that are only blank lines / comments.
    const bool code = code_lines(text, starts, a, e) > 0;
    const bool header = prev == nullptr;
    if (!code && !header) return;
    if (header && !code) {
      // Comment-only header (license banner): still a chunk if non-empty.
      bool any = false;
      for (int l = a; l <= e; ++l) any = any || !blank(line_span(text, starts, l, l));
      if (!any) return;
    }
    e = trim_trailing_blank(text, starts, a, e);
    while (a < e && blank(line_span(text, starts, a, a))) ++a;
    std::string anchor = "<module>";
    std::string title = "(module)";
    if (!header) {
      const auto first = first_line(text, starts, a, e, [](std::string_view s) {
        auto t = trim(s);
        return !t.empty() && t[0] != '#';
      });
      if (first.rfind("if __name__", 0) == 0) {
        anchor = "<main>";
        title = "(main)";
      } else {
        anchor = "after:" + prev->name;
        title = "(code after " + prev->name + ")";
      }
    }
    const auto runs = module_runs(text, starts, a, e);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (i == 0) {
        auto& c = b.add(anchor, ChunkKind::kCode, ChunkRole::kModule, title, {title}, runs[i].first, runs[i].second);
        if (header && !sk.docstring.empty()) c.signature = sk.docstring;
        continue;
      }
      // A later run of a long stretch of top-level code (a settings module): named after the
      // first name it assigns, so its id survives edits above it.
      std::string name;
      for (int l = runs[i].first; l <= runs[i].second && name.empty(); ++l) {
        name = assigned_name(line_span(text, starts, l, l));
      }
      if (name.empty()) name = "L" + std::to_string(runs[i].first);
      b.add(anchor + "+" + name, ChunkKind::kCode, ChunkRole::kModule, title + " " + name, {title, name},
            runs[i].first, runs[i].second);
    }
  };

  // Class-level code [a, e] of split class `cls` after its member `after`: runs as top-level
  // code's (module_runs at the body's indentation), each `<Class>.<NAME>` after the first name it
  // assigns (`PythonLexer.tokens`), else `<Class>+L<line>`; role kMethod, the class line as context.
  auto add_class_code = [&](const ast::Definition& cls, const std::string& header_line, const std::string& after,
                            int a, int e) {
    std::size_t indent = 0;
    for (int l = a; l <= e; ++l) {
      const auto s = line_span(text, starts, l, l);
      const auto t = trim(s);
      if (t.empty() || t[0] == '#') continue;
      indent = s.find_first_not_of(" \t");
      break;
    }
    const std::string cq = cls.qualname.empty() ? cls.name : cls.qualname;
    for (const auto& [ra, re] : module_runs(text, starts, a, e, indent)) {
      std::string name;
      for (int l = ra; l <= re && name.empty(); ++l) {
        const auto s = line_span(text, starts, l, l);
        if (s.size() > indent && s.find_first_not_of(" \t") == indent) name = assigned_name(s.substr(indent));
      }
      std::vector<std::string> path = split_qualname(cq);
      std::string anchor;
      std::string title;
      if (name.empty()) {
        anchor = cq + "+L" + std::to_string(ra);
        title = cq + " (code after " + after + ")";
        path.push_back("(code after " + after + ")");
      } else {
        anchor = cq + "." + name;
        title = anchor;
        path.push_back(name);
      }
      auto& c = b.add(anchor, ChunkKind::kCode, ChunkRole::kMethod, title, std::move(path), ra, re);
      c.context = header_line;
    }
  };

  int cursor = 1;
  const ast::Definition* prev = nullptr;
  for (const auto& d : defs) {
    const int a = def_start(d);
    const int e = std::min(d.end_line, n);
    if (a < cursor) continue;  // overlapping (malformed) definitions: keep the first
    add_gap(cursor, a - 1, prev);
    const std::vector<std::string> qpath = split_qualname(d.qualname.empty() ? d.name : d.qualname);
    const bool is_class = d.kind == ast::DefKind::kClass;
    std::vector<const ast::Definition*> members;
    for (const auto& ch : d.children) members.push_back(&ch);
    if (is_class && (e - a + 1) > kLargeClassLines && !members.empty()) {
      const int first_member = def_start(*members.front());
      const int hdr_end = std::max(d.line, trim_trailing_blank(text, starts, a, first_member - 1));
      auto& h = b.add(d.qualname, ChunkKind::kCode, ChunkRole::kClass, d.qualname, qpath, a, hdr_end);
      h.signature = def_signature(d);
      const std::string header_line = trim(line_span(text, starts, d.line, d.line));
      for (std::size_t i = 0; i < members.size(); ++i) {
        const auto& m = *members[i];
        const int ma = def_start(m);
        if (ma <= hdr_end && i > 0) continue;
        const int gap_end = i + 1 < members.size() ? def_start(*members[i + 1]) - 1 : e;
        const int own_end = std::max(ma, trim_trailing_blank(text, starts, ma, std::min(m.end_line, e)));
        // Class-level code after the member (a lexer's `tokens` table, a block of attribute
        // declarations): its own chunks when it has kClassCodeMinLines lines of code, else (an
        // alias such as `__repr__ = __str__`, an `if`/`else:` line around conditional methods)
        // part of the member above. Lines right below the member, before a blank line, stay
        // with it either way (`other = more` under `def more`).
        int attached = own_end;
        while (attached < gap_end && !blank(line_span(text, starts, attached + 1, attached + 1))) ++attached;
        int gap_start = attached + 1;
        while (gap_start <= gap_end && blank(line_span(text, starts, gap_start, gap_start))) ++gap_start;
        const bool own_gap = code_lines(text, starts, gap_start, gap_end) >= kClassCodeMinLines;
        int me = own_gap ? attached : std::max(own_end, trim_trailing_blank(text, starts, ma, gap_end));
        if (i + 1 < members.size()) me = std::min(me, gap_end);
        auto& c = b.add(m.qualname, ChunkKind::kCode,
                        m.kind == ast::DefKind::kClass ? ChunkRole::kClass : ChunkRole::kMethod, m.qualname,
                        split_qualname(m.qualname), ma, std::max(ma, me));
        c.context = header_line;
        c.signature = def_signature(m);
        if (own_gap) {
          add_class_code(d, header_line, m.name, gap_start, trim_trailing_blank(text, starts, gap_start, gap_end));
        }
      }
    } else {
      auto& c = b.add(d.qualname.empty() ? d.name : d.qualname, ChunkKind::kCode,
                      is_class ? ChunkRole::kClass : ChunkRole::kFunction, d.qualname, qpath, a, std::max(a, e));
      c.signature = def_signature(d);
      if (is_class) {
        // Methods' names and first docstring lines make a class findable by its API.
        for (const auto& m : d.children) c.signature += " " + m.name + (m.docstring.empty() ? "" : " " + m.docstring);
      }
    }
    cursor = std::max(cursor, e + 1);
    prev = &d;
  }
  add_gap(cursor, n, prev);
  std::sort(b.out.begin(), b.out.end(), [](const Chunk& x, const Chunk& y) { return x.start_line < y.start_line; });
  cap_chunks(b);
  return std::move(b.out);
}

std::vector<Chunk> chunk_file(std::string_view rel, std::string_view text, const ast::Skeleton* skeleton,
                              bool hash_chunks) {
  switch (file_type_of(rel)) {
    case FileType::kPython:
      if (skeleton) return chunk_python(rel, text, *skeleton, hash_chunks);
      return chunk_text(rel, text, ChunkKind::kCode, hash_chunks);
    case FileType::kMarkdown: return chunk_markdown(rel, text, hash_chunks);
    case FileType::kText: return chunk_text(rel, text, kind_of(rel), hash_chunks);
  }
  return {};
}

}  // namespace trifecta::core::index
