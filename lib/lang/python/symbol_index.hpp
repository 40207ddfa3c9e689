// lang/python/symbol_index.hpp — the segment-wide "who defines NAME" table the AST fallback uses
// as its last resort, and the file text it scans for references.
//
// `SymbolIndex` is the seam: the daemon may implement it over its own file layer and index, or use
// `SkeletonSymbolIndex`, the reference implementation built from a file list and a SkeletonCache.
// Paths are segment-relative with '/' separators. Lines are 1-based; `column` is the 0-based UTF-8
// byte column of the `def`/`class` keyword (constants and class attributes: 0; instance attributes:
// of the name), as in ast::Definition; `name_column` is where the name is, in code points.
//
// Reading: SkeletonSymbolIndex reads every file through the SkeletonCache's workspace::FileReader
// (the segment's reader: one size limit, one UTF-8/PEP 263 decoding, every byte counted in its
// totals), so `content` is the text ctx.get shows and columns are computed on it.
//
// Identifier tables: SkeletonSymbolIndex keeps each file's ast::IdentifierTable (built by the
// extractor with the skeleton, persisted with it in ast.sqlite, so a restart reads it back
// instead of parsing) for as long as the file is indexed; references() reads them.
//
// Failure behaviour: `definitions_named` and `files` are total (unknown name → empty). `content`
// returns the error of the read (kNotFound, kPathEscape, kIo, kTooLarge, kBinary). In SkeletonSymbolIndex a
// file whose skeleton cannot be built is left out of the table (and counted in `failed_files()`);
// it stays in `files()` so references can still scan it.
//
// Thread rules: every member of SkeletonSymbolIndex is thread-safe (one shared_mutex: lookups
// share it, update/remove/rebuild take it exclusively; skeletons are read outside the lock;
// with_names builds its NameTable under a second mutex, taken only while holding the first
// shared). The
// constructor builds the table on util's parallel_for workers, joined before it returns.
// Implementations of SymbolIndex used by the navigation functions must be thread-safe when those
// functions are called from several threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ast/skeleton_cache.hpp"
#include "util/result.hpp"

namespace trifecta::core::navigation {

namespace fs = std::filesystem;

struct IndexedDefinition {
  std::string file;       // segment-relative
  std::string name;
  std::string qualname;   // "Outer.method", "func.<locals>.helper", "CONSTANT", "Cls.attr"
  std::string kind;       // "class" | "function" | "method" | "constant" | "attribute"
  int line = 0, column = 0;
  int end_line = 0;
  std::string signature;  // functions/classes (ast::Definition::signature); constants: "= value"
  std::string docstring;  // first line
  // Where the name itself is, 1-based code-point columns (0 when the text was not available).
  int name_column = 0, name_end_column = 0;
};

// The distinct names of a SkeletonSymbolIndex laid out for searching by name
// (lang/python/symbol_search.hpp): sorted by their ASCII-lower-cased spelling (then as written),
// so an exact or prefix query is a binary search, each with a mask of the characters it holds,
// so a substring or fuzzy query skips most names without looking at them. Built on the first
// search after the set of names changed (a name defined for the first time or no longer
// defined, or a name's count of definitions of a kind outside locals or its tail bits changed;
// SkeletonSymbolIndex::with_names) and reused until the next such change: an edit that keeps the
// file's names and their kinds (a body, a signature, a docstring) keeps the table.
struct NamedDefinitions;
struct NameTable {
  // IndexedDefinition::kind as a number: class, function, method, constant, attribute, other.
  enum Kind : std::uint8_t { kClass, kFunction, kMethod, kConstant, kAttribute, kOther };
  static constexpr std::size_t kKinds = kOther + 1;
  // One cache line each (the scan reads the rows whose mask passes, a line apiece).
  struct alignas(64) Row {
    std::string_view name;   // as written (the index's key)
    std::string_view lower;  // ASCII lower case (in `lowered`, in row order)
    std::uint64_t starts = 0;  // bit i: name_word_start(name, i), for i < 64
    // Its definitions and their counts: the index's own entry for the name (valid under the
    // index's lock).
    const NamedDefinitions* entry = nullptr;
    // How many of them are outside a function's locals, of every kind (the sum of
    // entry->visible, copied here so counting a match reads only the row).
    std::uint32_t visible = 0;
    // entry->tails, copied here: a dotted query skips the rows it rules out unread.
    std::uint64_t tails = 0;
  };
  std::string lowered;  // every row's `lower`, back to back
  std::vector<Row> rows;
  std::vector<std::uint64_t> masks;  // masks[i]: name_char_mask(rows[i].lower), scanned alone
};
static_assert(sizeof(NameTable::Row) == 64, "a name table row is one cache line");
// Bit c - 'a' for a..z, 26 + c - '0' for digits, 36 for '_', 63 for any other byte: a name can
// contain (case-insensitively) a query's characters only if its mask holds the query's.
std::uint64_t name_char_mask(std::string_view lower) noexcept;
// A word starts at `i` of the name `s`: the first character, after `_` or `.`, a camel-case hump,
// or the last capital of an acronym followed by a lower-case letter (the `D` of `JSONDecoder`).
bool name_word_start(std::string_view s, std::size_t i) noexcept;
// IndexedDefinition::kind as NameTable::Kind (inline: symbol search calls it per definition).
inline NameTable::Kind name_table_kind(std::string_view kind) noexcept {
  switch (kind.size()) {
    case 5:
      return kind == "class" ? NameTable::kClass : NameTable::kOther;
    case 6:
      return kind == "method" ? NameTable::kMethod : NameTable::kOther;
    case 8:
      return kind == "function" ? NameTable::kFunction : kind == "constant" ? NameTable::kConstant : NameTable::kOther;
    case 9:
      return kind == "attribute" ? NameTable::kAttribute : NameTable::kOther;
    default:
      return NameTable::kOther;
  }
}

// A definition inside a function (`f.<locals>.g`): it has no sym:// URI, and symbol search leaves
// it out.
inline bool in_locals(const IndexedDefinition& d) noexcept {
  if (d.qualname.size() <= d.name.size()) return false;  // a module-level name
  // Only the enclosing part can hold it; a '<' first (a loop: these are short), then the word.
  const std::string_view enclosing(d.qualname.data(), d.qualname.size() - d.name.size());
  for (const char c : enclosing)
    if (c == '<') return enclosing.find("<locals>") != std::string_view::npos;
  return false;
}

// A definition's enclosing qualname: its qualname without `.name` ("" at module level).
inline std::string_view enclosing_of(const IndexedDefinition& d) noexcept {
  const std::string_view q(d.qualname);
  return q.size() > d.name.size() ? q.substr(0, q.size() - d.name.size() - 1) : std::string_view();
}

// The bit of NamedDefinitions::tails for an enclosing qualname (a definition's qualname without
// its name) or a dotted query's container, from its last two characters, ASCII-lower-cased;
// 0 for one shorter than two characters (it rules nothing out).
inline std::uint64_t enclosing_tail_bit(std::string_view enclosing) noexcept {
  if (enclosing.size() < 2) return 0;
  const auto low = [](char c) {
    return static_cast<unsigned>(static_cast<unsigned char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c));
  };
  return std::uint64_t{1} << ((low(enclosing[enclosing.size() - 2]) * 31u + low(enclosing.back())) & 63u);
}

// Every definition of one name in a SkeletonSymbolIndex, with how many of them of each kind are
// outside a function's locals and the tail bits of their enclosing qualnames: kept exact by every
// update and remove, so symbol search counts a name's matches (its `total`) without looking at
// the definitions, and a dotted query (`Outer.name`, whose `Outer` must end the enclosing
// qualname) passes over a name none of whose definitions can match.
struct NamedDefinitions {
  std::vector<IndexedDefinition> defs;
  std::array<std::uint32_t, NameTable::kKinds> visible{};  // by NameTable::Kind, not in_locals
  std::uint64_t tails = 0;  // OR of enclosing_tail_bit(enclosing_of(d)) over defs not in_locals
};

class SymbolIndex {
 public:
  virtual ~SymbolIndex() = default;
  // Every class/function/method (at any depth), module constant and class attribute named `name`
  // (SkeletonSymbolIndex: class-level assignments and `self.name = ...` in the class body).
  virtual std::vector<IndexedDefinition> definitions_named(std::string_view name) const = 0;
  // The segment's Python files (segment-relative), sorted.
  virtual std::vector<std::string> files() const = 0;
  // The current text of a segment file.
  virtual Result<std::string> content(std::string_view rel) const = 0;
  // The identifier-occurrence table (ast::IdentifierTable) of a segment file's content as last
  // indexed, so name-based references read postings instead of parsing; nullptr when the index
  // holds none for the file (the caller then parses `content`). Default: none.
  virtual std::shared_ptr<const ast::IdentifierTable> identifier_table(std::string_view rel) const {
    (void)rel;
    return nullptr;
  }
};

class SkeletonSymbolIndex final : public SymbolIndex {
 public:
  // `canonical_root`: the segment root; `files`: segment-relative Python files. Builds the table
  // at once (skeletons through `cache`, which persists them). Never fails; see failure rules.
  // Files are read through `cache.reader()` (the segment's FileReader: its size limit, its
  // decoding, its byte count); the table is built on `threads` workers (util parallel_for, 0 =
  // hardware threads).
  SkeletonSymbolIndex(fs::path canonical_root, ast::SkeletonCache& cache,
                      std::vector<std::string> files, unsigned threads = 0);

  std::vector<IndexedDefinition> definitions_named(std::string_view name) const override;
  std::vector<std::string> files() const override;
  Result<std::string> content(std::string_view rel) const override;
  // The table built with the file's skeleton (kept alive here; persisted with the skeleton in
  // the cache), replaced by update() and dropped by remove(); nullptr for a file whose skeleton
  // could not be built.
  std::shared_ptr<const ast::IdentifierTable> identifier_table(std::string_view rel) const override;

  // Re-read one file (added or changed): its old entries are replaced. Errors: the skeleton's
  // (the file is then kept in files() without entries).
  Result<void> update(std::string_view rel);
  // Forget a file (deleted). Unknown files are ignored.
  void remove(std::string_view rel);

  // Every name of the table with its definitions, in no particular order, under the shared
  // lock; `before_unlock` (if any) runs after the last name, still under it, so references into
  // the entries stay valid until it returns. Neither may call back into the index.
  void for_each_name(const std::function<void(const std::string&, const std::vector<IndexedDefinition>&)>& fn,
                     const std::function<void()>& before_unlock = {}) const;

  // fn(table) with the current NameTable, under the shared lock (the rows point into the index):
  // the table is rebuilt first when a name was added or dropped since it was last built. fn may
  // not call back into the index. Thread-safe.
  void with_names(const std::function<void(const NameTable&)>& fn) const;

  std::size_t definition_count() const;
  // Approximate heap bytes of the identifier tables held (IdentifierTable::memory_bytes).
  std::size_t identifier_table_bytes() const;
  std::size_t failed_files() const;

 private:
  std::vector<IndexedDefinition> entries_of(std::string_view rel, Result<void>* status,
                                            std::shared_ptr<const ast::IdentifierTable>* table);
  void insert_locked(const std::string& rel, std::vector<IndexedDefinition> entries);
  // Drops the file's entries; a name left without definitions is dropped too, unless `emptied`
  // is given: then it is kept (empty) and listed there, for update() to drop if it stays empty.
  void erase_locked(const std::string& rel, std::vector<std::string>* emptied = nullptr);

  fs::path root_;
  ast::SkeletonCache& cache_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, NamedDefinitions> by_name_;
  std::unordered_map<std::string, std::vector<std::string>> names_by_file_;  // file → its names
  std::unordered_map<std::string, bool> files_;                              // file → indexed ok
  std::unordered_map<std::string, std::shared_ptr<const ast::IdentifierTable>> tables_;  // file → its table
  // Bumped when a name is added to or dropped from by_name_, or its `visible` or `tails` change.
  std::uint64_t version_ = 0;
  mutable std::mutex names_mu_;  // builds names_ (readers hold mu_ shared)
  mutable std::shared_ptr<const NameTable> names_;
  mutable std::uint64_t names_version_ = 0;
};

}  // namespace trifecta::core::navigation
