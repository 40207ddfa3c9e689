#include "lang/python/symbol_index.hpp"

#include <algorithm>
#include <mutex>

#include "lang/python/syntax.hpp"
#include "util/parallel.hpp"
#include "util/paths.hpp"

namespace trifecta::core::navigation {

namespace {


void collect(const std::string& rel, const ast::Definition& d, std::string_view text,
             std::vector<IndexedDefinition>& out) {
  IndexedDefinition e;
  e.file = rel;
  e.name = d.name;
  e.qualname = d.qualname;
  e.kind = std::string(ast::def_kind_name(d.kind));
  e.line = d.line;
  e.column = d.column;
  e.end_line = d.end_line;
  e.signature = d.signature;
  e.docstring = d.docstring;
  out.push_back(std::move(e));
  for (const auto& a : d.attributes) {
    IndexedDefinition v;
    v.file = rel;
    v.name = a.name;
    v.qualname = d.qualname + "." + a.name;
    v.kind = "attribute";
    v.line = v.end_line = a.line;
    v.signature = a.annotation.empty() ? (a.value.empty() ? "" : "= " + a.value) : ": " + a.annotation;
    out.push_back(std::move(v));
  }
  if (d.kind == ast::DefKind::kClass && !text.empty()) {
    // Instance attributes (`self.x = ...` in the methods) are not in the skeleton.
    for (const auto& a : syntax::instance_attributes(text, d.line, d.end_line)) {
      const bool known = std::any_of(d.attributes.begin(), d.attributes.end(), [&](const ast::Variable& v) { return v.name == a.name; }) ||
                         std::any_of(d.children.begin(), d.children.end(), [&](const ast::Definition& c) { return c.name == a.name; });
      if (known) continue;
      IndexedDefinition v;
      v.file = rel;
      v.name = a.name;
      v.qualname = d.qualname + "." + a.name;
      v.kind = "attribute";
      v.line = v.end_line = a.line;
      v.column = static_cast<int>(a.byte);
      out.push_back(std::move(v));
    }
  }
  for (const auto& c : d.children) collect(rel, c, text, out);
}

}  // namespace

SkeletonSymbolIndex::SkeletonSymbolIndex(fs::path canonical_root, ast::SkeletonCache& cache,
                                         std::vector<std::string> files, unsigned threads)
    : root_(std::move(canonical_root)), cache_(cache) {
  std::vector<std::vector<IndexedDefinition>> entries(files.size());
  std::vector<Result<void>> status(files.size());
  std::vector<std::shared_ptr<const ast::IdentifierTable>> tables(files.size());
  parallel_for(files.size(), threads,
               [&](std::size_t i) { entries[i] = entries_of(files[i], &status[i], &tables[i]); });
  std::unique_lock lock(mu_);
  for (std::size_t i = 0; i < files.size(); ++i) {
    files_[files[i]] = status[i].ok();
    if (tables[i]) tables_[files[i]] = std::move(tables[i]);
    insert_locked(files[i], std::move(entries[i]));
  }
}

std::vector<IndexedDefinition> SkeletonSymbolIndex::entries_of(std::string_view rel, Result<void>* status,
                                                                std::shared_ptr<const ast::IdentifierTable>* table) {
  std::vector<IndexedDefinition> out;
  auto abs = safe_join(root_, rel);
  if (!abs) {
    *status = abs.error();
    return out;
  }
  // Counted, not one ast.parse event per file: the table is built over the whole segment.
  auto sk = cache_.get(*abs, rel, nullptr, ast::ParseEvents::kCountOnly);
  if (!sk) {
    *status = sk.error();
    return out;
  }
  if (sk->skeleton->identifiers.built)  // shares the skeleton's lifetime
    *table = std::shared_ptr<const ast::IdentifierTable>(sk->skeleton, &sk->skeleton->identifiers);
  const std::string file(rel);
  for (const auto& c : sk->skeleton->constants) {
    IndexedDefinition v;
    v.file = file;
    v.name = v.qualname = c.name;
    v.kind = "constant";
    v.line = v.end_line = c.line;
    v.signature = c.annotation.empty() ? (c.value.empty() ? "" : "= " + c.value) : ": " + c.annotation;
    out.push_back(std::move(v));
  }
  // The text, for instance attributes and for the names' code-point columns (read again, decoded
  // as ctx.get shows it: the cache does not hand it out; the page cache makes the read cheap).
  std::string text;
  if (auto t = cache_.reader().read(abs->string(), workspace::ReadPurpose::kSkeleton, nullptr)) text = std::move(t->text);
  for (const auto& d : sk->skeleton->definitions) collect(file, d, text, out);
  for (auto& e : out) {
    const std::string_view line = syntax::nth_line(text, e.line);
    // defs: the name after the keyword; others: the first whole-word occurrence.
    std::size_t from = (e.kind == "class" || e.kind == "function" || e.kind == "method")
                           ? static_cast<std::size_t>(e.column) + 3 : static_cast<std::size_t>(e.column);
    std::size_t at = std::string_view::npos;
    for (auto p = line.find(e.name, std::min(from, line.size())); p != std::string_view::npos;
         p = line.find(e.name, p + 1)) {
      const bool left = p == 0 || !syntax::is_identifier_byte(line[p - 1]);
      const bool right = p + e.name.size() >= line.size() || !syntax::is_identifier_byte(line[p + e.name.size()]);
      if (left && right) {
        at = p;
        break;
      }
    }
    if (at == std::string_view::npos) continue;
    e.name_column = syntax::column_from_byte(line, at);
    e.name_end_column = syntax::column_from_byte(line, at + e.name.size());
  }
  *status = Result<void>();
  return out;
}

void SkeletonSymbolIndex::insert_locked(const std::string& rel, std::vector<IndexedDefinition> entries) {
  auto& names = names_by_file_[rel];
  for (auto& e : entries) {
    names.push_back(e.name);
    auto [it, added] = by_name_.try_emplace(e.name);
    if (added) ++version_;
    if (!in_locals(e)) {
      ++it->second.visible[name_table_kind(e.kind)];
      it->second.tails |= enclosing_tail_bit(enclosing_of(e));
    }
    it->second.defs.push_back(std::move(e));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
}

void SkeletonSymbolIndex::erase_locked(const std::string& rel, std::vector<std::string>* emptied) {
  auto it = names_by_file_.find(rel);
  if (it == names_by_file_.end()) return;
  for (const auto& n : it->second) {
    auto b = by_name_.find(n);
    if (b == by_name_.end()) continue;
    auto& v = b->second.defs;
    auto& visible = b->second.visible;
    std::uint64_t tails = 0;  // an OR is recomputed over what stays
    v.erase(std::remove_if(v.begin(), v.end(),
                           [&](const IndexedDefinition& e) {
                             const bool local = in_locals(e);
                             if (e.file != rel) {
                               if (!local) tails |= enclosing_tail_bit(enclosing_of(e));
                               return false;
                             }
                             if (!local) --visible[name_table_kind(e.kind)];
                             return true;
                           }),
            v.end());
    b->second.tails = tails;
    if (!v.empty()) continue;
    if (emptied) {
      emptied->push_back(n);
    } else {
      by_name_.erase(b);
      ++version_;
    }
  }
  names_by_file_.erase(it);
}

std::vector<IndexedDefinition> SkeletonSymbolIndex::definitions_named(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return {};
  return it->second.defs;
}

std::vector<std::string> SkeletonSymbolIndex::files() const {
  std::vector<std::string> out;
  {
    std::shared_lock lock(mu_);
    out.reserve(files_.size());
    for (const auto& [f, ok] : files_) out.push_back(f);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> SkeletonSymbolIndex::content(std::string_view rel) const {
  auto abs = safe_join(root_, rel);
  if (!abs) return abs.error();
  auto got = cache_.reader().read(abs->string(), workspace::ReadPurpose::kRaw, nullptr);
  if (!got) return got.error();
  return std::move(got->text);
}

std::shared_ptr<const ast::IdentifierTable> SkeletonSymbolIndex::identifier_table(std::string_view rel) const {
  std::shared_lock lock(mu_);
  auto it = tables_.find(std::string(rel));
  return it == tables_.end() ? nullptr : it->second;
}

void SkeletonSymbolIndex::for_each_name(
    const std::function<void(const std::string&, const std::vector<IndexedDefinition>&)>& fn,
    const std::function<void()>& before_unlock) const {
  std::shared_lock lock(mu_);
  for (const auto& [name, entry] : by_name_) fn(name, entry.defs);
  if (before_unlock) before_unlock();
}

std::uint64_t name_char_mask(std::string_view lower) noexcept {
  std::uint64_t m = 0;
  for (const char c : lower) {
    if (c >= 'a' && c <= 'z') m |= std::uint64_t{1} << (c - 'a');
    else if (c >= '0' && c <= '9') m |= std::uint64_t{1} << (26 + c - '0');
    else if (c == '_') m |= std::uint64_t{1} << 36;
    else m |= std::uint64_t{1} << 63;
  }
  return m;
}

bool name_word_start(std::string_view s, std::size_t i) noexcept {
  if (i == 0) return true;
  const char p = s[i - 1], c = s[i];
  if (p == '_' || p == '.') return c != '_';
  if (!(c >= 'A' && c <= 'Z')) return false;
  return (p >= 'a' && p <= 'z') || (p >= '0' && p <= '9') ||
         ((p >= 'A' && p <= 'Z') && i + 1 < s.size() && s[i + 1] >= 'a' && s[i + 1] <= 'z');
}

void SkeletonSymbolIndex::with_names(const std::function<void(const NameTable&)>& fn) const {
  std::shared_lock lock(mu_);
  std::shared_ptr<const NameTable> table;
  {
    std::lock_guard g(names_mu_);
    if (!names_ || names_version_ != version_) {
      auto t = std::make_shared<NameTable>();
      std::size_t bytes = 0;
      for (const auto& [name, entry] : by_name_) bytes += name.size();
      t->lowered.reserve(bytes);  // never reallocated below: the rows' views stay valid
      t->rows.reserve(by_name_.size());
      for (const auto& [name, entry] : by_name_) {
        NameTable::Row r;
        r.name = name;
        const std::size_t at = t->lowered.size();
        for (const char c : name)
          t->lowered.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
        r.lower = std::string_view(t->lowered).substr(at, name.size());
        for (std::size_t i = 0; i < name.size() && i < 64; ++i)
          if (name_word_start(name, i)) r.starts |= std::uint64_t{1} << i;
        for (const auto v : entry.visible) r.visible += v;
        r.tails = entry.tails;
        r.entry = &entry;  // stable: unordered_map nodes move only when erased (version_ bumps)
        t->rows.push_back(r);
      }
      // Sorted by (lower, name): on the first 8 bytes of `lower` as a big-endian number first
      // (what most comparisons need), whole strings only on a tie.
      std::vector<std::pair<std::uint64_t, std::uint32_t>> order(t->rows.size());
      for (std::size_t i = 0; i < t->rows.size(); ++i) {
        std::uint64_t key = 0;
        const std::string_view l = t->rows[i].lower;
        for (std::size_t k = 0; k < 8; ++k)
          key = (key << 8) | (k < l.size() ? static_cast<unsigned char>(l[k]) : 0u);
        order[i] = {key, static_cast<std::uint32_t>(i)};
      }
      std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first < b.first;
        const NameTable::Row& ra = t->rows[a.second];
        const NameTable::Row& rb = t->rows[b.second];
        return ra.lower != rb.lower ? ra.lower < rb.lower : ra.name < rb.name;
      });
      // The rows, and their lower-cased spellings back to back, in that order: a scan reads both
      // front to back.
      std::vector<NameTable::Row> sorted;
      sorted.reserve(order.size());
      std::string lowered;
      // Reserved once, never reallocated below, and on the heap (more than a short string's
      // inline buffer), so the views stay valid when the string is moved into the table.
      lowered.reserve(t->lowered.size() + 32);
      for (const auto& [key, i] : order) {
        NameTable::Row r = t->rows[i];
        const std::size_t at = lowered.size();
        lowered.append(r.lower);
        sorted.push_back(r);
        sorted.back().lower = std::string_view(lowered.data() + at, r.lower.size());
      }
      t->lowered = std::move(lowered);
      t->rows = std::move(sorted);
      t->masks.reserve(t->rows.size());
      for (const auto& r : t->rows) t->masks.push_back(name_char_mask(r.lower));
      names_ = std::move(t);
      names_version_ = version_;
    }
    table = names_;
  }
  fn(*table);
}

std::size_t SkeletonSymbolIndex::identifier_table_bytes() const {
  std::shared_lock lock(mu_);
  std::size_t n = 0;
  for (const auto& [f, t] : tables_) n += t->memory_bytes();
  return n;
}

Result<void> SkeletonSymbolIndex::update(std::string_view rel) {
  Result<void> status;
  std::shared_ptr<const ast::IdentifierTable> table;
  auto entries = entries_of(rel, &status, &table);  // parse outside the lock
  const std::string file(rel);
  std::unique_lock lock(mu_);
  // A name the file still defines keeps its place (and the NameTable stays valid unless its
  // counts of definitions by kind or its tail bits change: the table copies them).
  struct Before {
    std::string name;
    std::array<std::uint32_t, NameTable::kKinds> visible;
    std::uint64_t tails;
  };
  std::vector<Before> counts_before;
  if (auto old = names_by_file_.find(file); old != names_by_file_.end()) {
    counts_before.reserve(old->second.size());
    for (const auto& n : old->second)
      if (auto b = by_name_.find(n); b != by_name_.end())
        counts_before.push_back({n, b->second.visible, b->second.tails});
  }
  std::vector<std::string> emptied;
  erase_locked(file, &emptied);
  files_[file] = status.ok();
  if (table) tables_[file] = std::move(table);
  else tables_.erase(file);
  insert_locked(file, std::move(entries));
  for (const auto& before : counts_before) {
    auto b = by_name_.find(before.name);
    if (b != by_name_.end() && (b->second.visible != before.visible || b->second.tails != before.tails)) {
      ++version_;
      break;
    }
  }
  for (const auto& n : emptied) {
    auto b = by_name_.find(n);
    if (b != by_name_.end() && b->second.defs.empty()) {
      by_name_.erase(b);
      ++version_;
    }
  }
  return status;
}

void SkeletonSymbolIndex::remove(std::string_view rel) {
  const std::string file(rel);
  std::unique_lock lock(mu_);
  erase_locked(file);
  files_.erase(file);
  tables_.erase(file);
}

std::size_t SkeletonSymbolIndex::definition_count() const {
  std::shared_lock lock(mu_);
  std::size_t n = 0;
  for (const auto& [k, v] : by_name_) n += v.defs.size();
  return n;
}

std::size_t SkeletonSymbolIndex::failed_files() const {
  std::shared_lock lock(mu_);
  return static_cast<std::size_t>(std::count_if(files_.begin(), files_.end(), [](const auto& kv) { return !kv.second; }));
}

}  // namespace trifecta::core::navigation
