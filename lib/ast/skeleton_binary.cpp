#include "ast/skeleton_binary.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace trifecta::core::ast {

namespace {

constexpr std::size_t kHeaderBytes = 5;    // magic + version
constexpr std::size_t kChecksumBytes = 8;
constexpr int kMaxDepth = 200;             // nested definitions; Python's own parser stops near 100

enum Flag : std::uint8_t {
  kDecodingReplaced = 1, kBom = 2, kHasAll = 4,  // skeleton
  kFrom = 1, kConditional = 2,                   // import (kConditional also: variable, definition)
  kAsync = 1,                                    // definition (with kConditional = 2)
};

// The skeleton's fields over util/bytes.hpp's codec (varints, zigzag lines, varint-length strings).
class Writer {
 public:
  explicit Writer(std::string& out) : w_(out) {}

  void u8(std::uint8_t v) { w_.u8(v); }
  void uvar(std::uint64_t v) { w_.varint(v); }
  // Zigzag, so that a (never expected) negative line costs no more than a positive one.
  void svar(std::int64_t v) { w_.svarint(v); }
  void str(std::string_view s) { w_.str_var(s); }
  void strs(const std::vector<std::string>& v) {
    uvar(v.size());
    for (const auto& s : v) str(s);
  }

  void variable(const Variable& v) {
    str(v.name);
    str(v.annotation);
    str(v.value);
    u8(v.conditional ? kConditional : 0);
    svar(v.line);
  }

  void definition(const Definition& d) {
    u8(static_cast<std::uint8_t>(d.kind));
    str(d.name);
    str(d.qualname);
    u8(static_cast<std::uint8_t>((d.is_async ? kAsync : 0) | (d.conditional ? kConditional : 0)));
    strs(d.decorators);
    str(d.signature);
    strs(d.bases);
    str(d.docstring);
    svar(d.line);
    svar(d.column);
    svar(d.end_line);
    svar(d.end_column);
    svar(d.decorated_line);
    uvar(d.attributes.size());
    for (const auto& a : d.attributes) variable(a);
    uvar(d.children.size());
    for (const auto& c : d.children) definition(c);
  }

  void skeleton(const Skeleton& s) {
    u8(s.status == ParseStatus::kOk ? 0 : 1);
    str(s.extractor_version);
    uvar(s.source_bytes);
    svar(s.line_count);
    str(s.encoding);
    u8(static_cast<std::uint8_t>((s.decoding_replaced ? kDecodingReplaced : 0) | (s.had_bom ? kBom : 0) |
                                 (s.all ? kHasAll : 0)));
    uvar(s.replaced_bytes);
    str(s.docstring);
    uvar(s.imports.size());
    for (const auto& i : s.imports) {
      str(i.module);
      str(i.alias);
      svar(i.level);
      u8(static_cast<std::uint8_t>((i.is_from ? kFrom : 0) | (i.conditional ? kConditional : 0)));
      svar(i.line);
      uvar(i.names.size());
      for (const auto& n : i.names) {
        str(n.name);
        str(n.alias);
      }
    }
    uvar(s.constants.size());
    for (const auto& c : s.constants) variable(c);
    if (s.all) strs(*s.all);
    uvar(s.definitions.size());
    for (const auto& d : s.definitions) definition(d);
    uvar(s.syntax_issues.size());
    for (const auto& e : s.syntax_issues) {
      str(e.kind);
      svar(e.line);
      svar(e.column);
      svar(e.end_line);
    }
    uvar(s.syntax_issue_count);
    identifiers(s.identifiers);
  }
  // u8 built; names; per name its occurrences in source order, lines as deltas and columns as
  // deltas on the same line (most occurrences then take two one-byte varints).
  void identifiers(const IdentifierTable& t) {
    u8(t.built ? 1 : 0);
    if (!t.built) return;
    uvar(t.names.size());
    for (std::size_t i = 0; i < t.names.size(); ++i) {
      str(t.names[i]);
      const auto occ = t.group(i);  // what find(names[i]) answers, without a search per name
      uvar(occ.size());
      std::int64_t line = 0, column = 0;
      for (const auto& o : occ) {
        svar(o.line - line);
        svar(o.line == line ? o.column - column : o.column);
        line = o.line;
        column = o.column;
      }
    }
  }

 private:
  bytes::Writer w_;
};

// Reads the payload. After the first failure every read returns a default and `error` names
// the first bad field; callers check once at the end.
class Reader {
 public:
  explicit Reader(std::string_view in) : r_(in) {}

  const std::string& error() const { return r_.error(); }
  bool ok() const { return r_.ok(); }
  bool at_end() const { return r_.at_end(); }
  void fail(const char* what) { r_.fail(what); }

  std::uint8_t u8(const char* what) { return r_.u8(what); }
  std::uint64_t uvar(const char* what) { return r_.varint(what); }
  int i32(const char* what) { return r_.i32_var(what); }
  // A count of items that take at least one byte each: never more than the bytes left.
  std::size_t count(const char* what) { return r_.count_var(what); }
  std::string str(const char* what) { return r_.str_var(what); }
  std::vector<std::string> strs(const char* what) {
    std::vector<std::string> v(count(what));
    for (auto& s : v) s = str(what);
    return v;
  }

  Variable variable() {
    Variable v;
    v.name = str("variable.name");
    v.annotation = str("variable.annotation");
    v.value = str("variable.value");
    v.conditional = (u8("variable.flags") & kConditional) != 0;
    v.line = i32("variable.line");
    return v;
  }

  void definition(Definition& d, int depth) {
    if (depth > kMaxDepth) return fail("definition nesting too deep");
    const std::uint8_t kind = u8("definition.kind");
    if (kind > static_cast<std::uint8_t>(DefKind::kMethod)) return fail("definition.kind");
    d.kind = static_cast<DefKind>(kind);
    d.name = str("definition.name");
    d.qualname = str("definition.qualname");
    const std::uint8_t flags = u8("definition.flags");
    d.is_async = (flags & kAsync) != 0;
    d.conditional = (flags & kConditional) != 0;
    d.decorators = strs("definition.decorators");
    d.signature = str("definition.signature");
    d.bases = strs("definition.bases");
    d.docstring = str("definition.docstring");
    d.line = i32("definition.line");
    d.column = i32("definition.column");
    d.end_line = i32("definition.end_line");
    d.end_column = i32("definition.end_column");
    d.decorated_line = i32("definition.decorated_line");
    d.attributes.resize(count("definition.attributes"));
    for (auto& a : d.attributes) a = variable();
    d.children.resize(count("definition.children"));
    for (auto& c : d.children) {
      if (!ok()) break;
      definition(c, depth + 1);
    }
  }

  void skeleton(Skeleton& s) {
    const std::uint8_t status = u8("status");
    if (status > 1) fail("status");
    s.status = status == 0 ? ParseStatus::kOk : ParseStatus::kPartial;
    s.extractor_version = str("extractor_version");
    s.source_bytes = static_cast<std::size_t>(uvar("source_bytes"));
    s.line_count = i32("line_count");
    s.encoding = str("encoding");
    const std::uint8_t flags = u8("flags");
    s.decoding_replaced = (flags & kDecodingReplaced) != 0;
    s.had_bom = (flags & kBom) != 0;
    s.replaced_bytes = static_cast<std::size_t>(uvar("replaced_bytes"));
    s.docstring = str("docstring");
    s.imports.resize(count("imports"));
    for (auto& i : s.imports) {
      i.module = str("import.module");
      i.alias = str("import.alias");
      i.level = i32("import.level");
      const std::uint8_t f = u8("import.flags");
      i.is_from = (f & kFrom) != 0;
      i.conditional = (f & kConditional) != 0;
      i.line = i32("import.line");
      i.names.resize(count("import.names"));
      for (auto& n : i.names) {
        n.name = str("import.name");
        n.alias = str("import.name.alias");
      }
    }
    s.constants.resize(count("constants"));
    for (auto& c : s.constants) c = variable();
    if (flags & kHasAll) s.all = strs("all");
    s.definitions.resize(count("definitions"));
    for (auto& d : s.definitions) {
      if (!ok()) break;
      definition(d, 0);
    }
    s.syntax_issues.resize(count("syntax_issues"));
    for (auto& e : s.syntax_issues) {
      e.kind = str("syntax_issue.kind");
      e.line = i32("syntax_issue.line");
      e.column = i32("syntax_issue.column");
      e.end_line = i32("syntax_issue.end_line");
    }
    s.syntax_issue_count = static_cast<std::size_t>(uvar("syntax_issue_count"));
    identifiers(s.identifiers);
  }
  void identifiers(IdentifierTable& t) {
    const std::uint8_t built = u8("identifiers.built");
    if (built > 1) return fail("identifiers.built");
    t.built = built == 1;
    if (!t.built) return;
    t.names.resize(count("identifiers.names"));
    t.starts.reserve(t.names.size() + 1);
    t.starts.push_back(0);
    for (std::size_t i = 0; i < t.names.size() && ok(); ++i) {
      t.names[i] = str("identifiers.name");
      if (i > 0 && !(t.names[i - 1] < t.names[i])) return fail("identifiers.names (not sorted)");
      const std::size_t n = count("identifiers.occurrences");
      std::int64_t line = 0, column = 0;
      for (std::size_t k = 0; k < n && ok(); ++k) {
        const std::int64_t dl = r_.svarint("identifiers.line");
        const std::int64_t c = r_.svarint("identifiers.column");
        if (dl < -INT32_MAX || dl > INT32_MAX || c < -INT32_MAX || c > INT32_MAX) return fail("identifiers.position");
        line += dl;
        column = dl == 0 ? column + c : c;
        if (line < 1 || line > INT32_MAX || column < 1 || column > INT32_MAX) return fail("identifiers.position");
        t.occurrences.push_back({static_cast<std::int32_t>(line), static_cast<std::int32_t>(column)});
      }
      if (t.occurrences.size() > UINT32_MAX) return fail("identifiers.occurrences");
      t.starts.push_back(static_cast<std::uint32_t>(t.occurrences.size()));
    }
  }

 private:
  bytes::Reader r_;
};

Error bad(std::string_view why) {
  return Error{Errc::kParse, "skeleton row: " + std::string(why)};
}

}  // namespace

std::string encode_skeleton(const Skeleton& s) {
  std::string out;
  // A row is typically a tenth of the source or less (names, signatures, docstring lines).
  out.reserve(256 + std::min<std::size_t>(s.source_bytes / 10, std::size_t{1} << 20));
  out.append(kSkeletonBinaryMagic);
  out.push_back(static_cast<char>(kSkeletonBinaryVersion));
  Writer(out).skeleton(s);
  bytes::seal(out, checksum64);
  return out;
}

Result<Skeleton> decode_skeleton(std::string_view row) {
  if (row.size() < kHeaderBytes + kChecksumBytes) {
    return bad("truncated (" + std::to_string(row.size()) + " bytes)");
  }
  if (row.substr(0, kSkeletonBinaryMagic.size()) != kSkeletonBinaryMagic) return bad("not a skeleton row");
  const auto version = static_cast<std::uint8_t>(row[kSkeletonBinaryMagic.size()]);
  if (version != kSkeletonBinaryVersion) {
    return bad("format version " + std::to_string(version) + " (this build reads " +
               std::to_string(kSkeletonBinaryVersion) + ")");
  }
  std::string_view body;
  if (!bytes::unseal(row, checksum64, body)) return bad("checksum mismatch (damaged or truncated)");
  Reader r(body.substr(kHeaderBytes));
  Skeleton s;
  r.skeleton(s);
  if (r.ok() && !r.at_end()) r.fail("trailing bytes");
  if (!r.ok()) return bad("bad field '" + r.error() + "'");
  return s;
}

}  // namespace trifecta::core::ast
