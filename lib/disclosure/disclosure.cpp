#include "disclosure/disclosure.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <memory>

#include "ast/skeleton.hpp"
#include "ast/skeleton_cache.hpp"
#include "index/segment_index.hpp"
#include "index/tokenizer.hpp"
#include "util/clock.hpp"
#include "util/hash.hpp"

namespace trifecta::core::disclosure {

namespace json = boost::json;
using index::Chunk;

std::string_view mode_name(Mode m) noexcept {
  switch (m) {
    case Mode::kSkeleton: return "skeleton";
    case Mode::kExcerpt: return "excerpt";
    case Mode::kRaw: return "raw";
  }
  return "raw";
}

bool parse_mode(std::string_view s, Mode& out) noexcept {
  if (s == "skeleton") out = Mode::kSkeleton;
  else if (s == "excerpt") out = Mode::kExcerpt;
  else if (s == "raw") out = Mode::kRaw;
  else return false;
  return true;
}

std::string_view stop_reason_name(StopReason r) noexcept {
  switch (r) {
    case StopReason::kComplete: return "complete";
    case StopReason::kBudget: return "budget";
    case StopReason::kMaxChunks: return "max_chunks";
  }
  return "complete";
}

Target Target::chunk(std::string id) {
  Target t;
  t.id = std::move(id);
  return t;
}

Target Target::range(std::string path, int start_line, int end_line, std::string label) {
  Target t;
  t.path = std::move(path);
  t.start_line = start_line;
  t.end_line = end_line;
  t.label = std::move(label);
  return t;
}

namespace {

std::size_t tokens_of(std::size_t bytes) { return (bytes + 3) / 4; }

std::string strip_eol(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return std::string(line);
}

std::string numbered(int line_no, std::string_view line) {
  std::string n = std::to_string(line_no);
  std::string out;
  if (n.size() < 6) out.assign(6 - n.size(), ' ');
  out += n;
  out += "  ";
  out += strip_eol(line);
  out += '\n';
  return out;
}

}  // namespace

std::string render_raw(std::string_view text, int start_line, int end_line) {
  const auto starts = index::line_starts(text);
  return std::string(index::line_span(text, starts, start_line, end_line));
}

std::string render_excerpt(std::string_view text, int a, int b, const std::vector<std::string>& terms,
                           const std::function<std::vector<int>()>& outline) {
  const auto starts = index::line_starts(text);
  const int lines = text.empty() ? 0 : static_cast<int>(starts.size()) - 1;
  a = std::clamp(a, 1, std::max(1, lines));
  b = std::clamp(b, a, std::max(1, lines));
  if (lines == 0) return {};
  std::vector<char> keep(static_cast<std::size_t>(b - a + 1), 0);
  bool any = false;
  if (!terms.empty()) {
    std::vector<std::string> toks;
    for (int l = a; l <= b; ++l) {
      toks.clear();
      index::tokenize(index::line_span(text, starts, l, l), toks);
      const bool hit = std::any_of(toks.begin(), toks.end(), [&](const std::string& t) {
        return std::find(terms.begin(), terms.end(), t) != terms.end();
      });
      if (!hit) continue;
      any = true;
      for (int k = std::max(a, l - kExcerptContext); k <= std::min(b, l + kExcerptContext); ++k) keep[static_cast<std::size_t>(k - a)] = 1;
    }
  }
  if (!any && outline) {
    for (const int l : outline()) {
      if (l < a || l > b) continue;
      keep[static_cast<std::size_t>(l - a)] = 1;
      any = true;
    }
  }
  std::string out;
  if (!any) {
    const int last = std::min(b, a + kExcerptHeadLines - 1);
    for (int l = a; l <= last; ++l) out += numbered(l, index::line_span(text, starts, l, l));
    if (last < b) out += "   ...  (" + std::to_string(b - last) + " more lines)\n";
    return out;
  }
  bool gap = false;
  if (!keep.front()) out += "   ...\n";
  for (int l = a; l <= b; ++l) {
    if (keep[static_cast<std::size_t>(l - a)]) {
      out += numbered(l, index::line_span(text, starts, l, l));
      gap = false;
    } else if (!gap) {
      if (l != a) out += "   ...\n";
      gap = true;
    }
  }
  return out;
}

namespace {

// `v` without surrounding blanks and line ends.
std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  return v;
}

// Line l of `text`, trimmed.
std::string_view trimmed_line(std::string_view text, const std::vector<std::size_t>& starts, int l) {
  return trim(index::line_span(text, starts, l, l));
}

// Whether a (trimmed) line opens a string: an optional prefix (r, u, b, f, any case) and a quote.
bool opens_string(std::string_view v) {
  std::size_t i = 0;
  while (i < v.size() && i < 2 && std::string_view("rRuUbBfF").find(v[i]) != std::string_view::npos) ++i;
  return i < v.size() && (v[i] == '"' || v[i] == '\'');
}

// A string line that is only its opening quotes (`"""`, `r'''`): the text starts on the next line.
bool bare_opener(std::string_view v) {
  return opens_string(v) && (v.ends_with("\"\"\"") || v.ends_with("'''")) && v.size() <= 5;
}

// The docstring's opening line at or after `from` (its first non-blank line, at most `to`), and
// the line after it when the opener holds only quotes.
void add_docstring_lines(std::string_view text, const std::vector<std::size_t>& starts, int from, int to,
                         std::vector<int>& out) {
  for (int l = from; l <= to; ++l) {
    const std::string_view v = trimmed_line(text, starts, l);
    if (v.empty()) continue;
    if (!opens_string(v)) return;
    out.push_back(l);
    if (bare_opener(v) && l < to) out.push_back(l + 1);
    return;
  }
}

// The header lines of `d` and of its members (a class's methods and nested classes; never a
// function's local helpers): decorators, the `def`/`class` line and the signature's
// continuation lines (up to the line ending in ':', at most kExcerptHeaderLines), then the
// docstring's opening line.
void add_definition_lines(const std::vector<ast::Definition>& defs, std::string_view text,
                          const std::vector<std::size_t>& starts, std::vector<int>& out) {
  const int lines = static_cast<int>(starts.size()) - 1;
  for (const auto& d : defs) {
    if (d.line < 1 || d.line > lines) continue;
    const int end = std::clamp(d.end_line, d.line, lines);
    const int from = d.decorated_line > 0 ? std::max(d.decorated_line, d.line - kExcerptHeaderLines) : d.line;
    for (int l = from; l < d.line; ++l) out.push_back(l);
    int h = d.line;
    while (h < end && h < d.line + kExcerptHeaderLines - 1) {
      const std::string_view v = trimmed_line(text, starts, h);
      const auto hash = v.find('#');
      const std::string_view code = hash == std::string_view::npos ? v : trim(v.substr(0, hash));
      if (v.ends_with(':') || code.ends_with(':')) break;
      ++h;
    }
    for (int l = d.line; l <= h; ++l) out.push_back(l);
    if (!d.docstring.empty()) add_docstring_lines(text, starts, h + 1, end, out);
    if (d.kind == ast::DefKind::kClass) add_definition_lines(d.children, text, starts, out);
  }
}

// What an excerpt of a whole Python module shows when no query term hits: the module
// docstring's first line, then every definition's header and docstring line (sorted).
std::vector<int> python_outline_lines(const ast::Skeleton& s, std::string_view text) {
  const auto starts = index::line_starts(text);
  std::vector<int> out;
  if (!s.docstring.empty()) {
    // The docstring is the first statement: after comments (a licence, a coding line) and blanks.
    const int lines = static_cast<int>(starts.size()) - 1;
    for (int l = 1; l <= lines; ++l) {
      const std::string_view v = trimmed_line(text, starts, l);
      if (v.empty() || v.front() == '#') continue;
      add_docstring_lines(text, starts, l, lines, out);
      break;
    }
  }
  add_definition_lines(s.definitions, text, starts, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Definitions of `defs` overlapping [a, b]: fully inside → kept whole; containing the range
// (a split class around a method chunk) → replaced by its members in the range. The enclosing
// header would repeat in every member chunk what the piece's id and `context` already say; it
// stays only when class attributes in the range need it as their parent.
std::vector<ast::Definition> defs_in_range(const std::vector<ast::Definition>& defs, int a, int b) {
  std::vector<ast::Definition> out;
  for (const auto& d : defs) {
    const int ds = d.decorated_line > 0 ? std::min(d.decorated_line, d.line) : d.line;
    if (d.end_line < a || ds > b) continue;
    if (ds >= a && d.end_line <= b) {
      out.push_back(d);
      continue;
    }
    std::vector<ast::Definition> members = defs_in_range(d.children, a, b);
    std::vector<ast::Variable> attributes;
    for (const auto& v : d.attributes) {
      if (v.line >= a && v.line <= b) attributes.push_back(v);
    }
    if (d.line >= a && d.line <= b) {
      // The range starts inside the definition's header (a split class's header chunk).
      ast::Definition part = d;
      part.children = std::move(members);
      part.attributes = std::move(attributes);
      out.push_back(std::move(part));
    } else if (!attributes.empty()) {
      // Its docstring and decorators belong to the class-header chunk: the header line only.
      ast::Definition part = d;
      part.docstring.clear();
      part.decorators.clear();
      part.children = std::move(members);
      part.attributes = std::move(attributes);
      out.push_back(std::move(part));
    } else {
      for (auto& m : members) out.push_back(std::move(m));
    }
  }
  return out;
}

// The last line of the class that starts at `start` (decorators included), searched through nested
// definitions; `fallback` when no class starts there.
int class_end(const std::vector<ast::Definition>& defs, int start, int fallback) {
  for (const auto& d : defs) {
    const int ds = d.decorated_line > 0 ? std::min(d.decorated_line, d.line) : d.line;
    if (ds > start) break;
    if (d.end_line < start) continue;
    if (ds == start && d.kind == ast::DefKind::kClass) return std::max(fallback, d.end_line);
    return class_end(d.children, start, fallback);
  }
  return fallback;
}

std::string skeleton_of_python(const ast::Skeleton& s, int a, int b, bool module_chunk) {
  ast::Skeleton sub;
  sub.status = s.status;
  if (module_chunk && a <= 1) {
    sub.docstring = s.docstring;
    sub.all = s.all;
  }
  for (const auto& i : s.imports) {
    if (i.line >= a && i.line <= b) sub.imports.push_back(i);
  }
  for (const auto& c : s.constants) {
    if (c.line >= a && c.line <= b) sub.constants.push_back(c);
  }
  sub.definitions = defs_in_range(s.definitions, a, b);
  ast::RenderOptions ro;
  ro.line_numbers = true;
  ro.nested_functions = false;  // helpers local to a function body are detail, not outline
  ro.max_value_bytes = 40;      // a constant's or attribute's value is a hint, not content
  // Members keep their line markers, for ranged follow-ups. The piece already states the
  // chunk's own range, so the definition that starts the chunk has none; nor has an enclosing
  // class kept only as the parent of attributes (its range is its own chunk's).
  ro.number_if = [a, b](const ast::Definition& d) {
    const int start = d.decorated_line > 0 ? std::min(d.decorated_line, d.line) : d.line;
    return start > a && d.end_line <= b;
  };
  return ast::render(sub, ro);
}

// Walks lines [a, b] of Markdown `text`, fence-aware: `heading(line, level, text)` for an ATX
// heading outside fences (up to 3 spaces of indent), `prose()` for any other non-blank line
// outside fences.
template <class Heading, class Prose>
void walk_markdown(std::string_view text, int a, int b, Heading&& heading, Prose&& prose) {
  const auto starts = index::line_starts(text);
  char fence = 0;
  std::size_t fence_len = 0;
  for (int l = a; l <= b; ++l) {
    const std::string line = strip_eol(index::line_span(text, starts, l, l));
    std::size_t ind = 0;
    while (ind < line.size() && ind < 4 && line[ind] == ' ') ++ind;
    const std::string_view body = std::string_view(line).substr(ind);
    if (ind <= 3 && !body.empty() && (body[0] == '`' || body[0] == '~')) {
      std::size_t k = 0;
      while (k < body.size() && body[k] == body[0]) ++k;
      if (k >= 3) {
        if (!fence) {
          fence = body[0];
          fence_len = k;
          continue;
        }
        if (body[0] == fence && k >= fence_len) {
          fence = 0;
          continue;
        }
      }
    }
    if (fence || ind > 3) continue;
    std::size_t level = 0;
    while (level < body.size() && body[level] == '#') ++level;
    if (level >= 1 && level <= 6 && (level == body.size() || body[level] == ' ' || body[level] == '\t')) {
      heading(l, level, body);
    } else if (!body.empty()) {
      prose();
    }
  }
}

std::string skeleton_of_markdown(std::string_view text, int a, int b) {
  // Heading lines of the section (fence-aware), indented by level, with line numbers.
  std::string out;
  int prose = 0;
  walk_markdown(
      text, a, b,
      [&](int l, std::size_t level, std::string_view body) {
        out += std::string((level - 1) * 2, ' ') + std::string(body) + "  # L" + std::to_string(l) + "\n";
      },
      [&] { ++prose; });
  out += "(" + std::to_string(b - a + 1) + " lines, " + std::to_string(prose) + " of text)\n";
  return out;
}

// What an excerpt of a whole Markdown file shows when no query term hits: its heading lines.
std::vector<int> markdown_outline_lines(std::string_view text, int a, int b) {
  std::vector<int> out;
  walk_markdown(text, a, b, [&](int l, std::size_t, std::string_view) { out.push_back(l); }, [] {});
  return out;
}

// The first non-blank line (trimmed) and the chunk's range, like a definition line's marker:
// "encode_basestring_ascii = (  # L71-73".
std::string skeleton_of_text(std::string_view text, int a, int b) {
  const auto starts = index::line_starts(text);
  std::string first;
  for (int l = a; l <= b && first.empty(); ++l) {
    std::string s = strip_eol(index::line_span(text, starts, l, l));
    const auto from = s.find_first_not_of(" \t");
    if (from == std::string::npos) continue;
    first = s.substr(from);
    while (!first.empty() && (first.back() == ' ' || first.back() == '\t')) first.pop_back();
    first += "  # L" + std::to_string(l);
    if (b != l) first += "-" + std::to_string(b);
  }
  if (first.empty()) first = "# L" + std::to_string(a) + "-" + std::to_string(b) + " (blank)";
  return first + "\n";
}

// ---- cursor ----------------------------------------------------------------------------------
constexpr std::string_view kCursorKey = "trifecta-ctx-get-cursor-v1";

struct CursorState {
  std::size_t item = 0;
  std::size_t offset = 0;
  bool split = false;  // resume without degrading
  std::string chunk_hash;  // first 16 hex of the target chunk's sha256 ("-" for errors)
};

std::string request_fingerprint(const GetRequest& r) {
  std::string s = std::string(mode_name(r.mode)) + "\x1f" + r.query + "\x1f" + std::to_string(r.max_chunks);
  for (const auto& t : r.targets) {
    s += "\x1e" + t.id + "\x1f" + t.path + "\x1f" + std::to_string(t.start_line) + "-" + std::to_string(t.end_line);
  }
  return sha256_prefix(s, 16);
}

std::string encode_cursor(const CursorState& c, const std::string& fp) {
  const std::string body = "c1." + std::to_string(c.item) + "." + std::to_string(c.offset) + "." + (c.split ? "s" : "w") +
                           "." + c.chunk_hash + "." + fp;
  return body + "." + blake2b_hex(std::string(kCursorKey) + body).substr(0, 16);
}

bool parse_uint(std::string_view s, std::size_t& out) {
  if (s.empty() || s.size() > 12) return false;
  std::size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::size_t>(c - '0');
  }
  out = v;
  return true;
}

Result<CursorState> decode_cursor(std::string_view cur, const std::string& fp) {
  const auto bad = [] { return make_error(Errc::kInvalidArgument, "malformed cursor"); };
  if (cur.size() > 256) return bad();
  std::vector<std::string_view> parts;
  std::size_t s = 0;
  while (true) {
    const auto d = cur.find('.', s);
    parts.push_back(cur.substr(s, d == std::string_view::npos ? std::string_view::npos : d - s));
    if (d == std::string_view::npos) break;
    s = d + 1;
  }
  if (parts.size() != 7 || parts[0] != "c1") return bad();
  const std::string body(cur.substr(0, cur.size() - parts[6].size() - 1));
  if (blake2b_hex(std::string(kCursorKey) + body).substr(0, 16) != parts[6]) {
    return make_error(Errc::kInvalidArgument, "cursor checksum mismatch (tampered or corrupted)");
  }
  if (parts[5] != fp) return make_error(Errc::kInvalidArgument, "cursor belongs to a different request (targets, mode, query or max_chunks changed)");
  CursorState c;
  if (!parse_uint(parts[1], c.item) || !parse_uint(parts[2], c.offset)) return bad();
  if (parts[3] != "s" && parts[3] != "w") return bad();
  c.split = parts[3] == "s";
  c.chunk_hash = std::string(parts[4]);
  return c;
}

// The last line of a file's chunks (0 for none: an empty file).
int last_line(const std::vector<Chunk>& chunks) {
  int end = 0;
  for (const auto& c : chunks) end = std::max(end, c.end_line);
  return end;
}

// ---- per-call state ----------------------------------------------------------------------------
struct Resolved {
  Chunk chunk;  // for range targets: synthesised (id = label or path#La-b)
  bool module_chunk = false;
  bool whole_file = false;  // a range over the whole file: a file path, a module URI
};

struct Renderer {
  index::SegmentIndex& seg;
  Mode requested;
  std::vector<std::string> terms;
  workspace::ReadStats& stats;
  telemetry::Channel& channel;
  std::map<std::string, std::shared_ptr<workspace::FileContent>> files;
  std::uint64_t bytes = 0;

  Result<std::shared_ptr<workspace::FileContent>> file(const std::string& path) {
    if (auto it = files.find(path); it != files.end()) return it->second;
    const auto purpose = requested == Mode::kSkeleton ? workspace::ReadPurpose::kSkeleton
                         : requested == Mode::kExcerpt ? workspace::ReadPurpose::kExcerpt
                                                       : workspace::ReadPurpose::kRaw;
    Stopwatch sw;
    auto c = seg.reader().read(path, purpose, &stats);
    json::object args{{"file", path}, {"mode", mode_name(requested)}};
    if (!c) {
      // A read that failed is an event too (status "error" and the error's code, never its
      // message: messages may name absolute paths).
      json::object result{{"bytes", 0}, {"status", "error"}, {"error", errc_name(c.error().code)}};
      json::object x{{"disclosure_mode", mode_name(requested)}, {"bytes_read", 0}};
      (void)channel.event("file.read", std::move(args), std::move(result), sw.elapsed_ms(), {}, std::move(x));
      return c.error();
    }
    bytes += c->raw_bytes;
    const std::string counter = "file_read_" + std::string(mode_name(requested)) + "_bytes_total";
    channel.incr(counter, static_cast<std::int64_t>(c->raw_bytes));
    json::object result{{"bytes", c->raw_bytes}, {"status", "ok"}};
    json::object x{{"disclosure_mode", mode_name(requested)}, {"bytes_read", c->raw_bytes}};
    (void)channel.event("file.read", std::move(args), std::move(result), sw.elapsed_ms(), {}, std::move(x));
    auto ptr = std::make_shared<workspace::FileContent>(std::move(*c));
    files.emplace(path, ptr);
    return ptr;
  }

  Result<std::string> render(const Resolved& r, Mode m, bool& stale) {
    auto f = file(r.chunk.path);
    if (!f) return f.error();
    const std::string_view text = (*f)->text;
    const Chunk& c = r.chunk;
    if (!c.sha256.empty()) {
      const auto starts = index::line_starts(text);
      stale = sha256_hex(index::line_span(text, starts, c.start_line, c.end_line)) != c.sha256;
    }
    switch (m) {
      case Mode::kRaw: return render_raw(text, c.start_line, c.end_line);
      case Mode::kExcerpt: {
        // A whole file without a query hit shows its outline (a Python module's definitions and
        // docstring lines, a Markdown file's headings) instead of its first lines, which are
        // often a licence or imports.
        // Computed only when no query term hits.
        const auto outline = [&]() -> std::vector<int> {
          if (!r.whole_file) return {};
          const auto type = index::file_type_of(c.path);
          if (type == index::FileType::kPython) {
            auto sk = seg.skeletons().get_content(text, c.path);
            return sk ? python_outline_lines(*sk->skeleton, text) : std::vector<int>{};
          }
          if (type == index::FileType::kMarkdown) return markdown_outline_lines(text, c.start_line, c.end_line);
          return {};
        };
        return render_excerpt(text, c.start_line, c.end_line, terms, outline);
      }
      case Mode::kSkeleton: {
        const auto type = index::file_type_of(c.path);
        if (type == index::FileType::kPython) {
          auto sk = seg.skeletons().get_content(text, c.path);
          if (sk) {
            // A split class's header chunk (or the first piece of a capped class) outlines the
            // whole class: every method, as the sym:// form of the same class does.
            const int end = c.role == index::ChunkRole::kClass ? class_end(sk->skeleton->definitions, c.start_line, c.end_line)
                                                               : c.end_line;
            std::string out = skeleton_of_python(*sk->skeleton, c.start_line, end, r.module_chunk);
            if (!out.empty()) return out;  // a split method renders inside its class line
          }
          return skeleton_of_text(text, c.start_line, c.end_line);
        }
        if (type == index::FileType::kMarkdown) return skeleton_of_markdown(text, c.start_line, c.end_line);
        return skeleton_of_text(text, c.start_line, c.end_line);
      }
    }
    return std::string();
  }
};

// Longest prefix of `s` of at most `max_bytes`, cut after a '\n' when one exists in the window,
// else at a UTF-8 boundary; never empty when s is non-empty and max_bytes > 0.
std::size_t cut_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s.size();
  const auto nl = s.rfind('\n', max_bytes - 1);
  if (nl != std::string_view::npos) return nl + 1;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  if (cut == 0) {  // a single multi-byte character larger than the window: take it whole
    cut = 1;
    while (cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) ++cut;
  }
  return cut;
}

}  // namespace

Result<void> check_request(const GetRequest& req) {
  if (req.budget < kMinBudget) {
    return make_error(Errc::kInvalidArgument, "budget must be at least " + std::to_string(kMinBudget) + " tokens");
  }
  if (req.max_chunks == 0) return make_error(Errc::kInvalidArgument, "max_chunks must be at least 1");
  return {};
}

Result<GetReply> get(index::SegmentIndex& seg, const GetRequest& req, workspace::ReadStats* stats_out) {
  if (req.targets.empty()) return make_error(Errc::kInvalidArgument, "no ids given");
  if (req.targets.size() > kMaxTargets) {
    return make_error(Errc::kInvalidArgument, "too many ids (" + std::to_string(req.targets.size()) + " > " + std::to_string(kMaxTargets) + ")");
  }
  if (auto checked = check_request(req); !checked) return checked.error();
  const std::string fp = request_fingerprint(req);
  CursorState start;
  if (!req.cursor.empty()) {
    auto c = decode_cursor(req.cursor, fp);
    if (!c) return c.error();
    start = *c;
    if (start.item >= req.targets.size()) return make_error(Errc::kInvalidArgument, "malformed cursor (item out of range)");
  }

  workspace::ReadStats local;
  workspace::ReadStats& stats = stats_out ? *stats_out : local;
  GetReply reply;
  reply.mode = req.mode;
  reply.budget = std::min(req.budget, kMaxBudget);
  reply.generation = seg.generation();
  Renderer rd{seg, req.mode, req.query.empty() ? std::vector<std::string>{} : index::query_terms(req.query), stats,
              seg.channel(), {}, 0};

  std::size_t pieces = 0;
  for (std::size_t i = start.item; i < req.targets.size(); ++i) {
    const Target& t = req.targets[i];
    const bool resumed = i == start.item && !req.cursor.empty();
    const std::size_t offset = resumed ? start.offset : 0;
    const bool no_degrade = resumed && start.split;
    // Resolve.
    Resolved r;
    const std::string label = t.id.empty() ? (t.label.empty() ? t.path + "#L" + std::to_string(t.start_line) + "-" + std::to_string(t.end_line) : t.label) : t.id;
    std::optional<Target> range;  // a range target, or a file path given as an id
    std::vector<Chunk> file_chunks;  // the range's file's chunks
    if (t.id.empty()) {
      range = t;
    } else {
      auto c = seg.chunk(t.id);
      const bool path_like = t.id.find('#') == std::string::npos;  // chunk ids are `path#name`
      const auto record = c || !path_like ? std::nullopt : seg.file(t.id);
      if (c) {
        r.chunk = std::move(*c);
        r.module_chunk = r.chunk.role == index::ChunkRole::kModule;
      } else if (record && record->indexed) {
        // Chunk ids are `path#name`: an id without '#' naming an indexed file is the whole file,
        // a range target from its first line to its last chunk's end (for a Python file what
        // the module's sym:// URI gives; an empty file is line 1).
        file_chunks = seg.chunks_of(t.id);
        range = Target::range(t.id, 1, std::max(1, last_line(file_chunks)), t.id);
      } else if (record) {
        reply.errors.push_back({t.id, Errc::kNotFound, "a file the index skipped (" + record->skip_reason + "): nothing to disclose"});
        continue;
      } else if (path_like && seg.has_files_under(t.id)) {
        reply.errors.push_back({t.id, Errc::kInvalidArgument,
                                "a directory: ctx.get takes files and chunk ids; ctx.map outlines a folder"});
        continue;
      } else {
        reply.errors.push_back({t.id, Errc::kNotFound,
                                path_like
                                    ? "neither a chunk id (path#name, from ctx search) nor a file in the index at generation " + std::to_string(reply.generation)
                                    : "unknown chunk id (not in the index at generation " + std::to_string(reply.generation) + ")"});
        continue;
      }
    }
    if (range) {
      if (range->path.empty() || range->start_line < 1 || range->end_line < range->start_line) {
        reply.errors.push_back({label, Errc::kInvalidArgument, "a range target needs a path and 1 <= start_line <= end_line"});
        continue;
      }
      r.chunk.id = label;
      r.chunk.path = range->path;
      r.chunk.kind = index::kind_of(range->path);
      r.chunk.title = label;
      r.chunk.start_line = range->start_line;
      r.chunk.end_line = range->end_line;
      r.chunk.role = index::ChunkRole::kFunction;
      if (file_chunks.empty()) file_chunks = seg.chunks_of(range->path);
      // Adopt the hash/title of an indexed chunk with exactly this range, if any.
      for (auto& c : file_chunks) {
        if (c.start_line == range->start_line && c.end_line == range->end_line) {
          r.chunk.sha256 = c.sha256;
          r.chunk.title = c.title;
          r.chunk.context = c.context;
          r.module_chunk = c.role == index::ChunkRole::kModule;
        }
      }
      // A range from the first line to the last chunk's end is the whole module: its skeleton
      // keeps the module docstring and __all__ as the module chunk's does.
      if (range->start_line == 1 && range->end_line >= last_line(file_chunks)) r.module_chunk = r.whole_file = true;
    }
    const std::string hash16 = r.chunk.sha256.empty() ? std::string("-") : r.chunk.sha256.substr(0, 16);
    if (resumed && start.chunk_hash != hash16) {
      return make_error(Errc::kInvalidArgument, "stale cursor: " + label + " changed since the previous page; start again without a cursor");
    }
    bool stale = false;
    auto full = rd.render(r, req.mode, stale);
    if (!full) {
      reply.errors.push_back({label, full.error().code, full.error().message});
      continue;
    }
    if (offset > full->size()) return make_error(Errc::kInvalidArgument, "malformed cursor (offset out of range)");
    auto make_piece = [&](Mode m, std::string text, std::size_t off, std::size_t total) {
      Piece p;
      p.id = r.chunk.id;
      p.path = r.chunk.path;
      p.kind = r.chunk.kind;
      p.title = r.chunk.title;
      p.start_line = r.chunk.start_line;
      p.end_line = r.chunk.end_line;
      p.mode = m;
      p.offset = off;
      p.total_bytes = total;
      p.tokens = tokens_of(text.size());
      p.partial = off > 0 || off + text.size() < total;
      p.text = std::move(text);
      p.sha256 = r.chunk.sha256;
      p.stale = stale;
      p.context = r.chunk.context;
      return p;
    };
    auto stop = [&](StopReason why, std::size_t at_offset, bool split) {
      reply.stop_reason = why;
      CursorState c{i, at_offset, split, hash16};
      reply.next = encode_cursor(c, fp);
    };
    if (pieces >= req.max_chunks) {
      stop(StopReason::kMaxChunks, offset, no_degrade);
      break;
    }
    const std::string_view rest = std::string_view(*full).substr(offset);
    const std::size_t room = reply.budget - reply.used;
    if (tokens_of(rest.size()) <= room) {
      reply.used += tokens_of(rest.size());
      reply.chunks.push_back(make_piece(req.mode, std::string(rest), offset, full->size()));
      ++pieces;
      continue;
    }
    // Does not fit: degrade a whole chunk first (once), else split.
    if (offset == 0 && !no_degrade) {
      bool degraded = false;
      for (int m = static_cast<int>(req.mode) - 1; m >= 0 && !degraded; --m) {
        bool st2 = false;
        auto light = rd.render(r, static_cast<Mode>(m), st2);
        if (!light || tokens_of(light->size()) > room) continue;
        reply.used += tokens_of(light->size());
        Piece p = make_piece(static_cast<Mode>(m), *light, 0, light->size());
        p.degraded_from = req.mode;
        reply.chunks.push_back(std::move(p));
        ++pieces;
        degraded = true;
      }
      if (degraded) {
        stop(StopReason::kBudget, 0, true);
        break;
      }
    }
    // Split: fill the page with a prefix (if the page already has content and the room is tiny,
    // leave the whole chunk to the next page).
    if (room < kMinBudget / 2 && pieces > 0) {
      stop(StopReason::kBudget, offset, true);
      break;
    }
    const std::size_t take = cut_prefix(rest, room * 4);
    reply.used += tokens_of(take);
    reply.chunks.push_back(make_piece(req.mode, std::string(rest.substr(0, take)), offset, full->size()));
    ++pieces;
    if (offset + take < full->size()) {
      stop(StopReason::kBudget, offset + take, true);
      break;
    }
  }
  if (reply.stop_reason == StopReason::kComplete) reply.next.clear();
  reply.bytes_read = rd.bytes;
  return reply;
}

}  // namespace trifecta::core::disclosure
