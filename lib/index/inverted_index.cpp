#include "index/inverted_index.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <numeric>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "index/tokenizer.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"
#include "workspace/glob.hpp"

namespace trifecta::core::index {

namespace {

// Compaction renumbers the documents once the dead ones are over a quarter of them (and over
// kCompactDead): until then the per-chunk tables grow by every chunk an edit adds.
constexpr std::size_t kCompactDead = 1024;

// `v` (a vector or a string) reallocated, when its capacity is off, to its size plus a third (at
// least 64 elements) of room: what every table that replace_file appends to gets after a
// compaction, a load and a freeze. Without room the first chunk an edit added after a build
// reallocated and copied every per-chunk table and the string pool — 60 of the 75 ms an edit of
// one file took on the stdlib demo tree, nearly all of it page faults. A third is as much as the
// tables grow before the next compaction (dead ones a quarter of all: the live ones plus a third
// of them), so edits never copy them in between; with 1/32 of room, the 22nd edit of `tempfile.py`
// on the demo tree copied them (a 37 ms search after that edit against 6 ms for the others). The
// room is address space: blocks over 1 MiB are mapped on their own (util/malloc_tune.hpp),
// and their pages become resident only when written (memory_bytes counts sizes for them).
constexpr std::size_t with_room(std::size_t n) {
  return n + n / 3 + 64;
}
template <class V>
void fit_with_room(V& v) {
  const std::size_t want = with_room(v.size());
  if (v.capacity() >= want && v.capacity() <= want + want / 8) return;
  V next;
  next.reserve(want);
  next.insert(next.end(), v.begin(), v.end());
  v.swap(next);
}

// The group whose members are exactly ids [b, e), among groups laid out as InvertedIndex keeps
// them (group g's members at members[start[g] .. start[g + 1]), the groups in the order of their
// smallest member: a word has one stem, so one group opens with ids[0]); SIZE_MAX when none.
// What group_list and build_groups' reuse of stale groups both look up.
std::size_t find_group(const std::vector<std::uint32_t>& members,
                       const std::vector<std::uint32_t>& start, const std::uint32_t* b,
                       const std::uint32_t* e) {
  if (start.size() < 2 || b == e) return SIZE_MAX;
  const auto last = start.end() - 1;
  const auto it =
      std::lower_bound(start.begin(), last, *b,
                       [&](std::uint32_t from, std::uint32_t t) { return members[from] < t; });
  if (it == last || static_cast<std::ptrdiff_t>(*(it + 1) - *it) != e - b ||
      !std::equal(b, e, members.begin() + *it)) {
    return SIZE_MAX;
  }
  return static_cast<std::size_t>(it - start.begin());
}

// Bit d of a bitmap of 64-bit words (the document sets and a search's unions of them).
void set_bit(std::uint64_t* words, std::uint32_t d) {
  words[d / 64] |= std::uint64_t{1} << (d % 64);
}
bool has_bit(const std::uint64_t* words, std::uint32_t d) {
  return ((words[d / 64] >> (d % 64)) & 1u) != 0;
}
// A stem group's tfs for one chunk: `p`'s added to `into`'s per field, saturating at 255 (which
// makes the order the variants are added in irrelevant to the sums).
void add_tfs(Posting& into, const Posting& p) {
  for (std::size_t f = 0; f < kFieldCount; ++f)
    into.tf[f] = static_cast<std::uint8_t>(std::min(255, into.tf[f] + p.tf[f]));
}

// Several words' postings (a stem group's tail) as one list by chunk: sorted by document, the
// tfs of a chunk several words hold added (add_tfs).
void merge_by_doc(std::vector<Posting>& list) {
  std::stable_sort(list.begin(), list.end(),
                   [](const Posting& a, const Posting& b) { return a.doc < b.doc; });
  std::size_t out = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (out > 0 && list[out - 1].doc == list[i].doc)
      add_tfs(list[out - 1], list[i]);
    else
      list[out++] = list[i];
  }
  list.resize(out);
}

// Merge the frozen list `bytes` (`count` postings) into `list` (both in document order) as it is
// decoded, a chunk on both getting its tfs added (add_tfs); `room` is scratch, swapped with
// `list`. Written through a pointer into room made first (at most both lists' postings; a frozen
// list holds exactly its count, which validate_list checks when an index is loaded): a push_back
// per posting rechecked the capacity and reloaded the vector each time. The search's merge of a
// word's stem variants and the stem groups' (InvertedIndex::build_groups) share it.
inline void merge_frozen(std::vector<Posting>& list, std::string_view bytes, std::uint32_t count,
                         std::vector<Posting>& room) {
  room.resize(list.size() + count);
  Posting* out = room.data();
  const Posting* a = list.data();
  const Posting* const a_end = a + list.size();
  for_each_posting(
      bytes, [&](const Posting& p) __attribute__((always_inline)) {
        while (a != a_end && a->doc < p.doc) *out++ = *a++;
        if (a != a_end && a->doc == p.doc) {
          *out = *a++;
          add_tfs(*out++, p);
        } else {
          *out++ = p;
        }
      });
  out = std::copy(a, a_end, out);
  room.resize(static_cast<std::size_t>(out - room.data()));
  list.swap(room);
}

// Whether stem_variants' scan for the stem `s` tests the word `x`: a word under the stem's
// prefix (the stem minus its last letter: Snowball English rewrites at most the last letter,
// y → i, an -e restored), of a length the stem can come from, whose letter at the stem's last
// place is the stem's unless the stem ends in a letter its rules write. Shared with the stem
// groups (build_groups), which must hold exactly the words a search's expansion finds.
bool stem_scan_admits(std::string_view x, std::string_view s) {
  if (s.empty() || x.size() > s.size() + 8 || x.size() + 2 < s.size()) return false;
  const char last = s.back();
  const bool any_last = last == 'e' || last == 'i' || last == 'y' || s.ends_with("bl");
  if (!any_last && x.size() >= s.size() && x[s.size() - 1] != last) return false;
  return x.substr(0, s.size() - 1) == s.substr(0, s.size() - 1);
}

// The chunks a search gave a score, in the order first scored: a list with room for every chunk
// of the index made once (`fit`), which TermPass fills through `data()` — a store and a
// predictable test per chunk, where std::vector::push_back was a call in the scoring loop.
class DocList {
 public:
  void fit(std::size_t n) {  // keeps the entries
    if (n > cap_) grow(n);
  }
  std::uint32_t* data() { return buf_.get(); }
  std::size_t capacity() const { return cap_; }
  void set_size(std::size_t n) { size_ = n; }  // n <= capacity(); entries up to n written
  const std::uint32_t* begin() const { return buf_.get(); }
  const std::uint32_t* end() const { return buf_.get() + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }

 private:
  void grow(std::size_t n) {
    auto bigger = std::make_unique_for_overwrite<std::uint32_t[]>(n);
    std::copy(begin(), end(), bigger.get());
    buf_ = std::move(bigger);
    cap_ = n;
  }
  std::unique_ptr<std::uint32_t[]> buf_;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

// Scoring the postings of one query term into a search's tables (InvertedIndex::search): BM25F
// (score_term) added to the chunk's partial score, the chunk listed in `seen` the first time it
// scores, its definition-name hit and prose-coverage bit, and its file's coverage bit. What that
// reads per term and per search is held here — in registers once the loop is inlined — instead
// of reloaded for every posting through the search's references, which the one-byte name_hit
// stores may alias (on four stdlib copies the 30-word question scores ~67,000 postings). Call
// `done()` after the loop: it gives `list` its new size.
struct TermPass {
  double idf = 0.0;
  double* scores = nullptr;
  const FieldLengths* lengths = nullptr;
  const NormTable* norms = nullptr;
  std::uint8_t* name_hit = nullptr;  // nullptr: the definition signal is off
  std::uint32_t* prose = nullptr;
  std::uint32_t prose_bit = 0;  // 0: the term has no prose bit
  bool no_doc = false;          // the doc field's ablation: its tfs count nothing
  std::uint64_t* file_terms = nullptr;
  const std::uint32_t* doc_file = nullptr;
  std::uint64_t cover_bit = 0;  // 0: file coverage is not recorded (for this term, or at all)
  DocList* list = nullptr;
  std::uint32_t* seen = nullptr;
  std::size_t seen_n = 0, seen_cap = 0;
  double top = 0.0;  // the largest partial score this pass left

  [[gnu::always_inline]] void operator()(const Posting& p) {
    FieldTfs tf = p.tf;
    if (no_doc) {
      tf[kFieldDoc] = 0;
      if (tf == FieldTfs{}) return;
    }
    const std::uint32_t d = p.doc;
    // Branch-free where the outcome varies from posting to posting (a chunk seen before or
    // not, a tf in a prose field or not): a mispredicted branch costs more than the store, and
    // these two were × 0.90–0.96 of the search in the daemon on the long queries, four stdlib
    // copies.
    if (seen_n == seen_cap) [[unlikely]] {
      grow();
    }
    const double before = scores[d];
    seen[seen_n] = d;  // kept when the chunk is new
    seen_n += before == 0.0 ? 1 : 0;
    scores[d] = before + score_term(tf, lengths[d], idf, *norms, nullptr);
    top = std::max(top, scores[d]);
    if (name_hit && tf[kFieldName] > 0) name_hit[d] = 1;
    if (prose_bit != 0)
      prose[d] |= (tf[kFieldName] | tf[kFieldSig] | tf[kFieldDoc]) != 0 ? prose_bit : 0u;
    if (cover_bit != 0) file_terms[doc_file[d]] |= cover_bit;
  }
  void done() { list->set_size(seen_n); }

 private:
  // Room for one more entry (each is written before it is known to be kept). Never needed once
  // the list fits every chunk and one more (SearchScratch::fit): a chunk is kept at most once.
  [[gnu::noinline]] void grow() {
    list->set_size(seen_n);
    list->fit(std::max<std::size_t>(16, 2 * seen_cap));
    seen = list->data();
    seen_cap = list->capacity();
  }
};

// Offer `s` to `heap`, a min-heap of the `want` largest values offered so far (its front the
// least of them): true when `s` is kept.
[[gnu::always_inline]] inline bool keep_best(std::vector<double>& heap, std::size_t want,
                                             double s) {
  if (heap.size() == want) {
    if (s <= heap.front()) return false;
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    heap.back() = s;
  } else {
    heap.push_back(s);
  }
  std::push_heap(heap.begin(), heap.end(), std::greater<>());
  return true;
}

// The dense per-chunk tables of one search — partial scores, definition-name hits, the pruning
// marks, the query terms each chunk's prose fields matched — the list of chunks scored and the
// per-term posting lists a search collects and merges.
// Reused across searches instead of allocated per query: a fresh table or list costs malloc work
// and, past glibc's mmap threshold, a page fault per 4 KiB written. When a search takes one,
// every table entry is zero and every list empty: `clear` resets exactly what a search wrote,
// before the table is used again (ScratchPool).
struct SearchScratch {
  std::vector<double> scores;
  std::vector<std::uint8_t> name_hit;
  std::vector<std::uint8_t> keep;
  std::vector<std::uint32_t> prose_terms;  // bit b: active term b has a tf in name, sig or doc
  DocList touched;                         // the chunks with a non-zero score (or name hit)
  bool keep_used = false;
  // Streamed stem variants (a pruned search): stamp[d] == epoch when chunk d was counted for the
  // term being streamed; `kept` the chunks scored in full, ascending, with their summed tfs.
  std::vector<std::uint32_t> stamp;
  std::uint32_t epoch = 0;
  std::vector<Posting> kept;
  // Pruning's lower bounds, the page's candidates, file coverage's per-file masks: at most one
  // entry a chunk (a file), kept with their capacity like the tables above.
  std::vector<double> lower;
  std::vector<std::uint32_t> cands;
  std::vector<std::uint64_t> file_terms;
  // A pruned search with document sets: the union of the chunks the query's terms match, one
  // bit a chunk (assigned, not cleared, by each search that uses it).
  std::vector<std::uint64_t> matched_set;
  std::vector<std::uint64_t> group_set;  // the same for one stem group (its document frequency)
  // Pruning's reach: per remaining term, the chunks of its short lists without a set.
  std::vector<std::vector<std::uint64_t>> short_sets;
  std::vector<std::vector<Posting>> lists;  // per query term
  std::vector<Posting> tmp;
  std::vector<Posting> merged;
  std::vector<std::vector<std::uint64_t>> may_sets;  // pruning's per-term reach bitmaps
  std::vector<std::uint64_t> all_ones;
  std::vector<double> reach_sums;
  std::vector<std::pair<double, std::uint32_t>> blocks;  // a one-term search's (bound, word)
  // Lists keep their capacity up to 4 postings a chunk of the largest index served (48 bytes a
  // chunk; ~4 times the chunks that `error` matches on the stdlib) or 64 Ki postings, whichever is
  // more; bigger ones are freed. Freed and allocated again per query, lists of that size cost a
  // page fault per 4 KiB: on four stdlib copies that was most of `json decode error`'s time.
  std::size_t max_kept_postings() const {
    return std::max(std::size_t{1} << 16, 4 * scores.size());
  }

  void fit(std::size_t n) {
    if (scores.size() >= n) return;
    scores.resize(n, 0.0);
    name_hit.resize(n, 0);
    keep.resize(n, 0);
    prose_terms.resize(n, 0);
    stamp.resize(n, 0);
    touched.fit(n + 1);  // every chunk, and the slot TermPass writes past the last one kept
  }
  // A fresh stamp for one streamed term (stamp is reset when the counter wraps).
  std::uint32_t next_epoch() {
    if (++epoch == 0) {
      std::fill(stamp.begin(), stamp.end(), 0u);
      epoch = 1;
    }
    return epoch;
  }
  void clear() {
    for (const std::uint32_t d : touched) {
      scores[d] = 0.0;
      name_hit[d] = 0;
      prose_terms[d] = 0;
    }
    touched.clear();
    if (keep_used) std::fill(keep.begin(), keep.end(), std::uint8_t{0});
    keep_used = false;
    std::size_t held = tmp.capacity() + merged.capacity();
    for (auto& l : lists) {
      l.clear();
      held += l.capacity();
    }
    tmp.clear();
    merged.clear();
    kept.clear();
    lower.clear();
    cands.clear();
    file_terms.clear();
    if (held > max_kept_postings()) {
      lists = {};
      tmp = {};
      merged = {};
    }
  }
};

// Idle scratch tables, shared by every index of the process: as many as searches ran at once (at
// most kMaxIdle are kept), each sized for the largest index it served. A search returns its table
// dirty — clearing what it wrote (up to tens of thousands of chunks' entries on four stdlib
// copies) is left to `tidy`, which the daemon calls once the reply is sent, or to the next `take`
// that finds no clean one. Thread-safe (a mutex held only to take or return one; clearing runs
// outside it).
class ScratchPool {
 public:
  static constexpr std::size_t kMaxIdle = 4;
  std::unique_ptr<SearchScratch> take() {
    std::unique_ptr<SearchScratch> s;
    {
      const std::lock_guard lock(mu_);
      if (!clean_.empty()) {
        s = std::move(clean_.back());
        clean_.pop_back();
        return s;
      }
      if (dirty_.empty()) return std::make_unique<SearchScratch>();
      s = std::move(dirty_.back());
      dirty_.pop_back();
    }
    s->clear();
    return s;
  }
  void give_dirty(std::unique_ptr<SearchScratch> s) {
    const std::lock_guard lock(mu_);
    if (clean_.size() + dirty_.size() < kMaxIdle) dirty_.push_back(std::move(s));
  }
  void tidy() {
    while (true) {
      std::unique_ptr<SearchScratch> s;
      {
        const std::lock_guard lock(mu_);
        if (dirty_.empty()) return;
        s = std::move(dirty_.back());
        dirty_.pop_back();
      }
      s->clear();
      const std::lock_guard lock(mu_);
      if (clean_.size() + dirty_.size() < kMaxIdle) clean_.push_back(std::move(s));
    }
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<SearchScratch>> clean_, dirty_;
};

ScratchPool& scratch_pool() {
  static ScratchPool* const pool =
      new ScratchPool;  // never destroyed: searches may outlive statics
  return *pool;
}

// Pruning's reach (search): bit j of the result is bit `bit` of word `w` of bitmap may[j], for
// the n ≤ 10 remaining terms — a chunk's row of the table of their bound sums. Unrolled per
// count: the loop ran once per chunk seen, up to tens of thousands a long query.
template <std::size_t N>
[[gnu::always_inline]] inline std::size_t reach_mask_n(const std::uint64_t* const* may,
                                                       std::size_t w, unsigned bit) {
  std::size_t m = 0;
#pragma GCC unroll 10
  for (std::size_t j = 0; j < N; ++j) m |= static_cast<std::size_t>((may[j][w] >> bit) & 1u) << j;
  return m;
}
[[gnu::always_inline]] inline std::size_t reach_mask(const std::uint64_t* const* may, std::size_t n,
                                                     std::size_t w, unsigned bit) {
  switch (n) {
    case 1:
      return reach_mask_n<1>(may, w, bit);
    case 2:
      return reach_mask_n<2>(may, w, bit);
    case 3:
      return reach_mask_n<3>(may, w, bit);
    case 4:
      return reach_mask_n<4>(may, w, bit);
    case 5:
      return reach_mask_n<5>(may, w, bit);
    case 6:
      return reach_mask_n<6>(may, w, bit);
    case 7:
      return reach_mask_n<7>(may, w, bit);
    case 8:
      return reach_mask_n<8>(may, w, bit);
    case 9:
      return reach_mask_n<9>(may, w, bit);
    case 10:
      return reach_mask_n<10>(may, w, bit);
    default:  // no remaining term: row 0
      return 0;
  }
}

// One search's hold on a scratch table, returned dirty on every way out of the search.
class ScratchLease {
 public:
  explicit ScratchLease(std::size_t n) : s_(scratch_pool().take()) { s_->fit(n); }
  ~ScratchLease() { scratch_pool().give_dirty(std::move(s_)); }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  SearchScratch* operator->() const { return s_.get(); }

 private:
  std::unique_ptr<SearchScratch> s_;
};

// Per-chunk term table: open addressing over the unique terms, hashed once per token.
struct Collector {
  ChunkTerms& out;
  std::vector<std::int32_t> slots;  // index into out.terms, -1 = empty
  std::size_t mask = 0;
  std::uint8_t field = 0;

  Collector(ChunkTerms& o, std::size_t expected) : out(o) {
    std::size_t cap = 64;
    while (cap < expected * 2) cap <<= 1;
    slots.assign(cap, -1);
    mask = cap - 1;
  }
  void grow() {
    std::vector<std::int32_t> bigger((mask + 1) * 2, -1);
    const std::size_t m = bigger.size() - 1;
    for (std::size_t i = 0; i < out.terms.size(); ++i) {
      std::size_t h = out.terms[i].hash & m;
      while (bigger[h] >= 0) h = (h + 1) & m;
      bigger[h] = static_cast<std::int32_t>(i);
    }
    slots.swap(bigger);
    mask = m;
  }
  static void add(void* ctx, std::string_view t) {
    auto* c = static_cast<Collector*>(ctx);
    ++c->out.length[c->field];
    const std::size_t hash = std::hash<std::string_view>{}(t);
    std::size_t h = hash & c->mask;
    while (true) {
      const std::int32_t s = c->slots[h];
      if (s < 0) break;
      auto& term = c->out.terms[static_cast<std::size_t>(s)];
      if (term.hash == hash && c->out.term(term) == t) {
        if (term.tf[c->field] < 0xFF) ++term.tf[c->field];
        return;
      }
      h = (h + 1) & c->mask;
    }
    ChunkTerms::Term term;
    term.offset = static_cast<std::uint32_t>(c->out.arena.size());
    term.size = static_cast<std::uint32_t>(t.size());
    term.hash = hash;
    term.tf[c->field] = 1;
    c->out.arena.append(t);
    c->slots[h] = static_cast<std::int32_t>(c->out.terms.size());
    c->out.terms.push_back(term);
    if (c->out.terms.size() * 2 > c->mask + 1) c->grow();
  }
};

}  // namespace

ChunkTerms analyze_chunk(const Chunk& chunk, std::string_view body_text) {
  ChunkTerms out;
  out.terms.reserve(body_text.size() / 16 + 16);
  out.arena.reserve(body_text.size() / 4 + 64);
  Collector col(out, body_text.size() / 16 + 16);
  for_each_field_text(chunk, body_text, [&](Field f, std::string_view text) {
    col.field = f;
    tokenize_each(text, &Collector::add, &col);
  });
  return out;
}

ChunkTerms ChunkAnalyses::analyze(Chunk& chunk, std::string_view body_text, ChunkAnalyses& next) {
  // The key: what for_each_field_text reads (ranking.hpp) — the chunk's path, role, title,
  // title_path, signature and context, and `body_text` — each after its length. Not the field
  // texts themselves: doc_field_text's scan costs as much as a third of the tokenizing it saves.
  std::string texts;
  texts.reserve(body_text.size() + 512);
  const auto add = [&texts](std::string_view piece) {
    const auto size = static_cast<std::uint32_t>(piece.size());
    texts.append(reinterpret_cast<const char*>(&size), sizeof size);
    texts.append(piece);
  };
  add(chunk.path);
  texts.push_back(static_cast<char>(chunk.role));
  add(chunk.title);
  texts.push_back(static_cast<char>(chunk.title_path.size()));
  for (const auto& part : chunk.title_path) add(part);
  add(chunk.signature);
  add(chunk.context);
  add(body_text);
  const std::uint64_t key = key_hash64(texts);
  ChunkTerms out;
  if (const auto it = by_key_.find(key); it != by_key_.end()) {
    out = std::move(it->second.terms);
    if (chunk.sha256.empty()) chunk.sha256 = std::move(it->second.sha256);
    by_key_.erase(it);
    ++reused_;
  } else {
    out = analyze_chunk(chunk, body_text);
  }
  if (chunk.sha256.empty()) chunk.sha256 = sha256_hex(body_text);
  const auto [slot, added] = next.by_key_.try_emplace(key, Kept{out, chunk.sha256});
  if (added) {
    next.bytes_ += slot->second.terms.arena.capacity() +
                   slot->second.terms.terms.capacity() * sizeof(ChunkTerms::Term) +
                   slot->second.sha256.capacity();
  }
  return out;
}

std::uint32_t InvertedIndex::term_id(std::string_view term) const {
  return term_ids_.find(term, std::hash<std::string_view>{}(term),
                        [this](std::uint32_t t) { return term_text(t); });
}

std::uint32_t InvertedIndex::intern(std::string_view term, std::size_t hash) {
  const auto key_of = [this](std::uint32_t t) { return term_text(t); };
  const std::uint32_t found = term_ids_.find(term, hash, key_of);
  if (found != IdTable::kNone) return found;
  const auto id = static_cast<std::uint32_t>(term_off_.size() - 1);
  variant_cache_.clear();  // a new word may be a variant of a cached stem
  term_chars_.append(term);
  term_off_.push_back(static_cast<std::uint32_t>(term_chars_.size()));
  term_ids_.insert(hash, id, key_of);
  if (!term.empty()) {
    const auto b = static_cast<unsigned char>(term[0]);
    first_bytes_[b / 64] |= std::uint64_t{1} << (b % 64);
  }
  return id;
}

std::string_view InvertedIndex::str(const Doc& d, Str which) const {
  std::uint64_t off = d.strs;
  for (int i = 0; i < which; ++i) off += d.len[static_cast<std::size_t>(i)];
  return std::string_view(pool_.data() + off, d.len[which]);
}

InvertedIndex::Doc InvertedIndex::pack(const Chunk& c, const std::uint64_t* path) {
  Doc d;
  d.path_len = static_cast<std::uint32_t>(c.path.size());
  if (path) {
    d.path = *path;
  } else {
    d.path = pool_.size();
    pool_.append(c.path);
  }
  std::string tp;
  for (const auto& piece : c.title_path) {
    bytes::Writer w(tp);
    w.str_u32(piece);
  }
  d.strs = pool_.size();
  const std::string_view parts[kStrCount] = {c.id,      c.title,   tp,         c.sha256,
                                             c.preview, c.context, c.signature};
  for (std::size_t i = 0; i < kStrCount; ++i) {
    d.len[i] = static_cast<std::uint32_t>(parts[i].size());
    pool_.append(parts[i]);
  }
  d.bytes = c.bytes;
  d.offset = c.offset;
  d.start_line = c.start_line;
  d.end_line = c.end_line;
  d.kind = c.kind;
  d.role = c.role;
  return d;
}

Chunk InvertedIndex::unpack(const Doc& d) const {
  Chunk c;
  const char* p = pool_.data() + d.strs;
  const auto next = [&](Str which) {
    const std::string_view v(p, d.len[which]);
    p += d.len[which];
    return v;
  };
  c.id = next(kId);
  c.path = path_text(d);
  c.kind = d.kind;
  c.role = d.role;
  c.title = next(kTitle);
  const std::string_view tp = next(kTitlePath);
  for (bytes::Reader r(tp); r.ok() && r.position() < tp.size();)
    c.title_path.emplace_back(r.str_u32());
  c.start_line = d.start_line;
  c.end_line = d.end_line;
  c.sha256 = next(kSha256);
  c.bytes = static_cast<std::size_t>(d.bytes);
  c.offset = d.offset;
  c.tokens = (c.bytes + 3) / 4;
  c.preview = next(kPreview);
  c.context = next(kContext);
  c.signature = next(kSignature);
  return c;
}

void InvertedIndex::reserve_terms(std::size_t n) {
  term_ids_.reserve(n, [this](std::uint32_t t) { return term_text(t); });
  term_off_.reserve(n + 1);
  term_chars_.reserve(n * 12);  // ≈ 12.6 bytes a term on the stdlib
}

template <class Fn>
void InvertedIndex::for_each_sorted_tail(std::uint32_t term, Fn&& fn) const {
  const auto below = [](const TailPosting& x, std::uint32_t t) { return x.term < t; };
  const TailPosting* first = tail_.data();
  for (const std::uint32_t run_end : tail_runs_) {
    const TailPosting* const last = tail_.data() + run_end;
    for (const TailPosting* e = std::lower_bound(first, last, term, below);
         e != last && e->term == term; ++e)
      fn(*e);
    first = last;
  }
}

template <class Fn>
void InvertedIndex::for_each_tail(std::uint32_t term, Fn&& fn) const {
  for_each_sorted_tail(term, [&](const TailPosting& e) { fn(e.p); });
  // Bounds read once: `fn` writes memory the compiler cannot tell apart from tail_'s own.
  const TailPosting* const end = tail_.data() + tail_.size();
  for (const TailPosting* e = tail_.data() + tail_sorted_; e != end; ++e) {
    if (e->term == term) fn(e->p);
  }
}

void InvertedIndex::sort_tail() {
  // The postings since the last run, in document order, sorted by term with a stable LSD radix
  // sort (11 bits a pass, as many passes as the vocabulary's ids need; ~15 instructions a posting
  // where std::sort took ~100): each term's stay in document order. They make a run of their own,
  // not merged with the earlier ones (a term is looked up in each: at most kTailLimit /
  // kTailSortAt of them).
  const std::size_t n = tail_.size() - tail_sorted_;
  std::vector<TailPosting> buffer(n);
  TailPosting* src = tail_.data() + tail_sorted_;
  TailPosting* dst = buffer.data();
  const std::size_t terms = term_off_.size() - 1;  // every id is below
  constexpr unsigned kBits = 11;
  constexpr std::uint32_t kMask = (1u << kBits) - 1;
  for (unsigned shift = 0; shift == 0 || (shift < 32 && (terms - 1) >> shift != 0);
       shift += kBits) {
    std::array<std::uint32_t, kMask + 2> at{};
    for (std::size_t i = 0; i < n; ++i) ++at[((src[i].term >> shift) & kMask) + 1];
    for (std::size_t b = 1; b < at.size(); ++b) at[b] += at[b - 1];
    for (std::size_t i = 0; i < n; ++i) dst[at[(src[i].term >> shift) & kMask]++] = src[i];
    std::swap(src, dst);
  }
  if (src != tail_.data() + tail_sorted_) std::copy(src, src + n, tail_.data() + tail_sorted_);
  tail_sorted_ = tail_.size();
  tail_runs_.push_back(static_cast<std::uint32_t>(tail_sorted_));
}

void InvertedIndex::replace_file(const std::string& path, std::vector<Chunk> chunks,
                                 std::vector<ChunkTerms> terms, bool bulk) {
  stamp_ = new_stamp();  // a freeze prepared before this call is out of date
  const auto id_of = [this](std::uint32_t d) { return id_text(docs_[d]); };
  if (auto it = by_file_.find(path); it != by_file_.end()) {
    for (const DocId d : it->second) {
      Doc& doc = docs_[d];
      if (!doc.alive) continue;
      doc.alive = false;
      if (d < frozen_horizon_) {
        frozen_has_dead_ = true;
        frozen_dead_.push_back(d);
        if (frozen_dead_bits_.empty())
          frozen_dead_bits_.assign((std::size_t{frozen_horizon_} + 63) / 64, 0);
        set_bit(frozen_dead_bits_.data(), d);
      }
      for (std::size_t f = 0; f < kFieldCount; ++f) total_len_[f] -= code_length(lengths_[d][f]);
      by_id_.erase(std::hash<std::string_view>{}(id_text(doc)), d);
      --alive_;
      ++dead_;
    }
    if (const auto n = file_names_.find(name_hash(path)); n != file_names_.end()) {
      std::erase(n->second, &it->first);
      if (n->second.empty()) file_names_.erase(n);
    }
    by_file_.erase(it);
  }
  if (!chunks.empty()) {
    drop_groups();  // a word this file adds would take the first group's id
    const auto entry = by_file_.try_emplace(path).first;
    file_names_[name_hash(path)].push_back(&entry->first);
    auto& ids = entry->second;
    const std::uint32_t file = file_count_++;
    const std::uint64_t stored_path = pool_.size();
    pool_.append(path);
    for (std::size_t i = 0; i < chunks.size(); ++i) {
      const auto d = static_cast<DocId>(docs_.size());
      Doc doc = pack(chunks[i], chunks[i].path == path ? &stored_path : nullptr);
      DocRank rank;
      FieldLengths length{};
      if (i < terms.size()) {
        for (std::size_t f = 0; f < kFieldCount; ++f) length[f] = length_code(terms[i].length[f]);
        for (const auto& term : terms[i].terms) {
          tail_.push_back(TailPosting{intern(terms[i].term(term), term.hash), Posting{d, term.tf}});
        }
      }
      for (std::size_t f = 0; f < kFieldCount; ++f) total_len_[f] += code_length(length[f]);
      const std::size_t h = std::hash<std::string_view>{}(id_text(doc));
      // Chunks of one file share its path: classified once (a few thousand instructions each).
      classify(doc, rank,
               i > 0 && docs_[ids.front()].path == doc.path ? &rank_[ids.front()] : nullptr);
      docs_.push_back(doc);
      rank_.push_back(rank);
      lengths_.push_back(length);
      prior_key_.push_back(prior_key(rank));
      doc_file_.push_back(file);
      if (rank.module != UINT32_MAX) {
        if (module_docs_.size() <= rank.module) module_docs_.resize(rank.module + 1);
        module_docs_[rank.module].push_back(d);
      }
      // A duplicate id (which chunkers never produce) shadows the earlier chunk, as before.
      if (const auto old = by_id_.find(id_text(docs_[d]), h, id_of); old != IdTable::kNone)
        by_id_.erase(h, old);
      by_id_.insert(h, d, id_of);
      ids.push_back(d);
      ++alive_;
    }
  }
  if (!bulk) {
    if (tail_.size() - tail_sorted_ >= kTailSortAt) sort_tail();
    refresh_norms();
  }
  if (dead_ > kCompactDead && dead_ * 4 > docs_.size()) {
    compact();
  } else if (!bulk && tail_.size() >= kTailLimit) {
    freeze(nullptr);
  }
}

void InvertedIndex::refresh_norms() {
  const FieldAverages avg = field_averages(total_len_, alive_);
  if (avg == norm_avg_) return;
  norm_avg_ = avg;
  norms_ = norm_table(avg);
}

// Everything a freeze installs (InvertedIndex::settle), built apart from the index.
struct InvertedIndex::Settled {
  std::uint64_t stamp = 0;  // the index's when prepared
  bool complete = false;    // false: a cancel stopped the preparation (InvertedIndex::settle)
  FrozenPostings frozen;    // every list re-encoded, then the stem groups' (the extension)
  DocId horizon = 0;
  bool resorted = false;  // sorted_terms holds the vocabulary sorted anew, stem_hashes its slots
  std::vector<std::uint32_t> sorted_terms;
  StemHashes stem_hashes;
  bool restemmed = false;  // stem_members holds the members of stemmed_terms words
  std::vector<StemMember> stem_members;
  std::uint32_t stemmed_terms = 0;
  std::uint32_t vocab_lists = 0;
  std::vector<std::uint32_t> group_members, group_start;
  std::size_t group_postings = 0;
  std::vector<DocSet> set_of;
  std::vector<std::uint64_t> doc_sets;
  std::vector<std::uint32_t> set_ranks, set_skips;
  std::vector<std::uint8_t> set_peaks;
  FieldAverages set_avg{};
  std::size_t set_words = 0;
  // changed[t]: term t's list was re-encoded (it gained tail postings or lost dead ones); a list
  // copied as it was is 0. Empty after a renumbering (compaction): no stale group is reused.
  std::vector<std::uint8_t> changed;
  // The tail's postings by term (group_tail), as settle_lists read them; build_groups appends a
  // group's to the last freeze's list of it. Freed before the document sets are built.
  std::vector<std::uint32_t> tail_start;
  std::vector<Posting> tail_grouped;
  StaleGroups stale;  // after install: the index's stale groups, to be freed with this
};

void InvertedIndex::group_tail(std::vector<std::uint32_t>& start,
                               std::vector<Posting>& grouped) const {
  const std::size_t nterms = term_off_.size() - 1;
  // By term (counting sort; stable, so each group stays in document order).
  start.assign(nterms + 1, 0);
  for (const auto& e : tail_) ++start[e.term + 1];
  for (std::size_t t = 0; t < nterms; ++t) start[t + 1] += start[t];
  grouped.resize(tail_.size());
  std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
  for (const auto& e : tail_) grouped[fill[e.term]++] = e.p;
}

template <class Fn>
bool InvertedIndex::for_each_list(const std::vector<DocId>* remap, Fn fn,
                                  const std::atomic<bool>* cancel) const {
  const std::size_t nterms = term_off_.size() - 1;
  std::vector<std::uint32_t> start;
  std::vector<Posting> grouped;
  group_tail(start, grouped);
  std::vector<Posting> list;
  auto keep = [&](Posting p) {
    if (!docs_[p.doc].alive) return;
    if (remap) p.doc = (*remap)[p.doc];
    list.push_back(p);
  };
  for (std::uint32_t t = 0; t < nterms; ++t) {
    if (cancel && cancel->load(std::memory_order_relaxed)) return false;
    list.clear();
    for_each_posting(frozen_.bytes(t), keep);
    for (std::uint32_t i = start[t]; i < start[t + 1]; ++i) keep(grouped[i]);
    if (!list.empty()) fn(t, list);
  }
  return true;
}

bool InvertedIndex::settle_lists(Settled& s, const std::atomic<bool>* cancel) const {
  const std::size_t nterms = term_off_.size() - 1;
  std::vector<std::uint32_t>& start = s.tail_start;
  std::vector<Posting>& grouped = s.tail_grouped;
  group_tail(start, grouped);
  // The dead documents with frozen postings, as the bitmap replace_file keeps (empty while none
  // died). A common term's list is checked against its document set a word (64 documents) at a
  // time; a rarer one is spliced whatever it holds — reading it once to copy its runs costs what
  // reading it once to look for a dead chunk did, and a list without one comes out as it was.
  const std::vector<std::uint64_t>& dead = frozen_dead_bits_;
  std::size_t next_set = 0;
  // 1: the term's set holds a dead chunk, 0: it holds none, -1: the term has no set.
  const auto set_holds_dead = [&](std::uint32_t t) {
    while (next_set < set_of_.size() && set_of_[next_set].term < t) ++next_set;
    if (next_set == set_of_.size() || set_of_[next_set].term != t) return -1;
    const std::uint64_t* words = doc_sets_.data() + set_of_[next_set].words;
    const std::size_t n = std::min(set_words_, dead.size());
    for (std::size_t w = 0; w < n; ++w) {
      if ((words[w] & dead[w]) != 0) return 1;
    }
    return 0;
  };
  s.changed.assign(nterms, 0);
  for (std::uint32_t t = 0; t < nterms; ++t) {
    if (cancel && cancel->load(std::memory_order_relaxed)) return false;
    const std::string_view bytes = frozen_.bytes(t);
    const bool tail = start[t] != start[t + 1];
    const int in_set = !dead.empty() && !bytes.empty() ? set_holds_dead(t) : 0;
    if (!tail && in_set == 0) {  // untouched by the updates: copied as encoded
      if (!bytes.empty()) {
        s.frozen.begin_term(t);
        s.frozen.add_encoded(bytes, frozen_.count(t));
      }
      continue;
    }
    // The frozen list without its dead chunks (runs copied, the posting after each dead one
    // re-encoded), then the tail's live postings, all of them above the frozen documents.
    s.frozen.begin_term(t);
    const bool splice = in_set != 0;
    const std::size_t kept =
        s.frozen.add_spliced(bytes, splice ? dead.data() : nullptr, splice ? dead.size() : 0);
    s.changed[t] = tail || kept != frozen_.count(t) ? 1 : 0;
    for (std::uint32_t i = start[t]; i < start[t + 1]; ++i) {
      if (docs_[grouped[i].doc].alive) s.frozen.add(grouped[i]);
    }
  }
  return true;
}

void InvertedIndex::SettledDelete::operator()(Settled* s) const {
  delete s;
}

std::uint64_t InvertedIndex::new_stamp() {
  static std::atomic<std::uint64_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) + 1;
}

InvertedIndex::SettledPtr InvertedIndex::settle(const std::vector<DocId>* remap,
                                                const std::atomic<bool>* cancel) const {
  SettledPtr s(new Settled);
  s->stamp = stamp_;
  // The new lists are about as large as the old ones plus ≈ 3 bytes a tail posting.
  s->frozen.reserve_bytes(frozen_.byte_size() + tail_.size() * 3 + 64);
  s->frozen.reserve_terms(term_off_.size() - 1);
  // Without renumbering, the lists the updates did not touch are copied and the others spliced
  // (settle_lists); a compaction re-encodes every list (and merges every group anew).
  const bool whole = remap ? for_each_list(
                                 remap,
                                 [&](std::uint32_t t, const std::vector<Posting>& list) {
                                   s->frozen.begin_term(t);
                                   for (const auto& p : list) s->frozen.add(p);
                                 },
                                 cancel)
                           : settle_lists(*s, cancel);
  if (!whole) return s;  // stopped: incomplete, handed back for its caller to free
  s->frozen.finish(term_off_.size() - 1);
  s->horizon = static_cast<DocId>(remap ? alive_ : docs_.size());
  sort_terms(*s);
  // Compaction renumbers before the documents move: the sets are sized for the new numbering,
  // and their peaks read the chunks' lengths in it.
  std::vector<FieldLengths> renumbered;
  if (remap) {
    renumbered.resize(s->horizon);
    for (std::size_t d = 0; d < remap->size(); ++d) {
      if ((*remap)[d] != UINT32_MAX) renumbered[(*remap)[d]] = lengths_[d];
    }
  }
  const bool grouped = build_groups(*s, cancel);
  std::vector<std::uint32_t>().swap(s->tail_start);  // the tail by term: used by then
  std::vector<Posting>().swap(s->tail_grouped);
  if (!grouped || !build_doc_sets(*s, s->horizon, remap ? renumbered.data() : lengths_.data(),
                                  field_averages(total_len_, alive_), cancel))
    return s;
  s->complete = true;
  return s;
}

void InvertedIndex::install(Settled& s) {
  // Swapped, not assigned: the tables replaced end up in `s`, freed with it (commit_freeze's
  // caller may do that outside its lock).
  std::swap(frozen_, s.frozen);
  tail_.clear();
  tail_.shrink_to_fit();
  tail_sorted_ = 0;
  tail_runs_.clear();
  frozen_has_dead_ = false;
  frozen_dead_.clear();
  frozen_dead_.shrink_to_fit();
  frozen_dead_bits_.clear();
  frozen_dead_bits_.shrink_to_fit();
  frozen_horizon_ = s.horizon;
  fit_with_room(term_chars_);
  fit_with_room(term_off_);
  if (s.resorted) {
    std::swap(sorted_terms_, s.sorted_terms);
    std::swap(stem_hash_, s.stem_hashes);
  }
  if (s.restemmed) {
    std::swap(stem_members_, s.stem_members);
    stemmed_terms_ = s.stemmed_terms;
  }
  vocab_lists_ = s.vocab_lists;
  std::swap(group_members_, s.group_members);
  std::swap(group_start_, s.group_start);
  group_postings_ = s.group_postings;
  std::swap(set_of_, s.set_of);
  std::swap(doc_sets_, s.doc_sets);
  std::swap(set_ranks_, s.set_ranks);
  std::swap(set_skips_, s.set_skips);
  std::swap(set_peaks_, s.set_peaks);
  set_avg_ = s.set_avg;
  set_words_ = s.set_words;
  std::swap(stale_groups_.lists, s.stale.lists);
  std::swap(stale_groups_.members, s.stale.members);
  std::swap(stale_groups_.start, s.stale.start);  // s.stale was empty: none are left here
  stamp_ = new_stamp();
}

InvertedIndex::SettledPtr InvertedIndex::prepare_freeze(const std::atomic<bool>* cancel,
                                                        SettledPtr* stopped) const {
  if (steady()) return nullptr;
  SettledPtr s = settle(nullptr, cancel);
  if (s->complete) return s;
  if (stopped) *stopped = std::move(s);
  return nullptr;
}

bool InvertedIndex::commit_freeze(SettledPtr settled, SettledPtr* replaced) {
  if (!settled || !settled->complete || settled->stamp != stamp_) return false;
  refresh_norms();
  install(*settled);
  if (replaced) *replaced = std::move(settled);
  return true;
}

void InvertedIndex::freeze(const std::vector<DocId>* remap) {
  refresh_norms();
  if (steady() && !remap) return;
  install(*settle(remap, nullptr));
}

void InvertedIndex::compact() {
  if (dead_ == 0) {
    freeze(nullptr);
    leave_room();
    return;
  }
  std::vector<DocId> remap(docs_.size(), UINT32_MAX);
  DocId next = 0;
  for (std::size_t i = 0; i < docs_.size(); ++i) {
    if (docs_[i].alive) remap[i] = next++;
  }
  freeze(&remap);  // reads the old numbering: before the documents move
  std::vector<Doc> kept;
  std::vector<DocRank> kept_rank;
  std::vector<FieldLengths> kept_lengths;
  std::vector<std::uint8_t> kept_keys;
  kept_keys.reserve(with_room(alive_));  // leave_room() below finds them as it wants them
  kept.reserve(with_room(alive_));
  kept_rank.reserve(with_room(alive_));
  kept_lengths.reserve(with_room(alive_));
  // The live chunks' strings move to a new pool; a file's chunks keep sharing one path.
  const auto strs_size = [](const Doc& d) {
    std::uint64_t n = 0;
    for (const auto l : d.len) n += l;
    return n;
  };
  std::uint64_t live_bytes = 0;
  std::uint64_t old_path = UINT64_MAX, new_path = 0;
  for (const Doc& d : docs_) {
    if (!d.alive) continue;
    live_bytes += strs_size(d) + (d.path != old_path ? d.path_len : 0);
    old_path = d.path;
  }
  std::string pool;
  pool.reserve(with_room(live_bytes));
  old_path = UINT64_MAX;
  for (std::size_t i = 0; i < docs_.size(); ++i) {
    if (!docs_[i].alive) continue;
    Doc d = docs_[i];
    if (d.path != old_path) {
      old_path = d.path;
      new_path = pool.size();
      pool.append(path_text(d));
    }
    d.path = new_path;
    const std::uint64_t total = strs_size(d);
    pool.append(pool_, d.strs, total);
    d.strs = pool.size() - total;
    kept.push_back(d);
    kept_rank.push_back(rank_[i]);
    kept_lengths.push_back(lengths_[i]);
    kept_keys.push_back(prior_key_[i]);
  }
  docs_ = std::move(kept);
  rank_ = std::move(kept_rank);
  lengths_ = std::move(kept_lengths);
  prior_key_ = std::move(kept_keys);
  pool_ = std::move(pool);
  never_code_docs_ =
      static_cast<std::size_t>(std::count_if(rank_.begin(), rank_.end(), [](const DocRank& r) {
        return (r.path_class & kPathNeverCode) != 0;
      }));
  by_file_.clear();
  by_id_.clear();
  const auto id_of = [this](std::uint32_t d) { return id_text(docs_[d]); };
  by_id_.reserve(docs_.size(), id_of);
  for (DocId d = 0; d < docs_.size(); ++d) {
    by_file_[std::string(path_text(docs_[d]))].push_back(d);
    by_id_.insert(std::hash<std::string_view>{}(id_text(docs_[d])), d, id_of);
  }
  count_file_names();
  dead_ = 0;
  number_files();
  leave_room();
}

void InvertedIndex::leave_room() {
  fit_with_room(pool_);
  fit_with_room(docs_);
  fit_with_room(rank_);
  fit_with_room(lengths_);
  fit_with_room(prior_key_);
  fit_with_room(doc_file_);
}

bool InvertedIndex::build_doc_sets(Settled& st, std::size_t n, const FieldLengths* lengths,
                                   const FieldAverages& avg,
                                   const std::atomic<bool>* cancel) const {
  const FrozenPostings& frozen = st.frozen;
  const std::size_t set_words = (n + 63) / 64;
  st.set_words = set_words;
  const std::size_t nterms = frozen.term_count();
  const auto common = [&](std::uint32_t t) {
    return n > 0 && std::size_t{frozen.count(t)} * 16 >= n;
  };
  std::size_t sets = 0, skips = 0;
  for (std::uint32_t t = 0; t < nterms; ++t) {
    if (!common(t)) continue;
    ++sets;
    skips += (frozen.count(t) + kSetSkip - 1) / kSetSkip;
  }
  auto& set_of = st.set_of;
  auto& set_skips = st.set_skips;
  set_of.reserve(sets);
  // Zeroed 1 MiB at a time, a cancel check between (tens of MB on four stdlib copies, each page
  // faulted in as it is first written: SegmentIndex::settle's update must not wait for all).
  const auto zeroed = [&](auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    const std::size_t size = sets * set_words;
    v.clear();
    v.reserve(size);
    while (v.size() < size) {
      if (cancel && cancel->load(std::memory_order_relaxed)) return false;
      v.resize(std::min(size, v.size() + (std::size_t{1} << 20) / sizeof(T)));
    }
    return true;
  };
  if (!zeroed(st.doc_sets) || !zeroed(st.set_ranks) || !zeroed(st.set_peaks)) return false;
  st.set_avg = avg;
  const NormTable norms = norm_table(avg);
  set_skips.reserve(skips * 2);
  for (std::uint32_t t = 0; t < nterms && sets > 0; ++t) {
    if (!common(t)) continue;
    if (cancel && cancel->load(std::memory_order_relaxed)) return false;
    DocSet s{t, set_of.size() * set_words, set_skips.size()};
    std::uint64_t* words = st.doc_sets.data() + s.words;
    // The list walked posting by posting (its varint, then one byte per field it has), its
    // byte offsets kept for the skip entries.
    const std::string_view bytes = frozen.bytes(t);
    const auto* const begin = reinterpret_cast<const std::uint8_t*>(bytes.data());
    const auto* const end = begin + bytes.size();
    std::uint64_t doc = 0;
    const auto* p = begin;
    std::uint8_t* peaks = st.set_peaks.data() + s.words;
    for (std::size_t i = 0; p < end; ++i) {
      if (i % kSetSkip == 0) {
        set_skips.push_back(static_cast<std::uint32_t>(p - begin));
        set_skips.push_back(static_cast<std::uint32_t>(doc));
      }
      const std::uint64_t v = read_posting_head(p, end);
      doc += v >> kFieldMaskBits;
      set_bit(words, static_cast<std::uint32_t>(doc));
      const TfLayout& layout = kTfLayouts[v & kFieldMask];
      const auto count = std::min<std::size_t>(layout.count, static_cast<std::size_t>(end - p));
      FieldTfs tf{};
      for (std::size_t j = 0; j < count; ++j) tf[layout.shift[j] / 8] = p[j];
      std::uint8_t& peak = peaks[doc / 64];
      peak = std::max(peak, peak_code(tf, lengths[doc], norms));
      p += count;
    }
    std::uint32_t* ranks = st.set_ranks.data() + s.words;
    std::uint32_t before = 0;
    for (std::size_t w = 0; w < set_words; ++w) {
      ranks[w] = before;
      before += static_cast<std::uint32_t>(std::popcount(words[w]));
    }
    set_of.push_back(s);
  }
  return true;
}

const InvertedIndex::DocSet* InvertedIndex::find_set(std::uint32_t t) const {
  const auto it = std::lower_bound(set_of_.begin(), set_of_.end(), t,
                                   [](const DocSet& e, std::uint32_t x) { return e.term < x; });
  return it != set_of_.end() && it->term == t ? &*it : nullptr;
}

template <class Fn>
void InvertedIndex::for_set_postings(const DocSet& s, std::size_t rank, std::size_t count,
                                     Fn&& fn) const {
  const std::uint32_t* skip = set_skips_.data() + s.skips + 2 * (rank / kSetSkip);
  const std::string_view bytes = frozen_.bytes(s.term);
  const auto* const begin = reinterpret_cast<const std::uint8_t*>(bytes.data());
  for_postings_after(begin + skip[0], begin + bytes.size(), skip[1], rank % kSetSkip, count,
                     std::forward<Fn>(fn));
}

Posting InvertedIndex::set_posting(const DocSet& s, DocId d) const {
  const std::uint64_t* words = doc_sets_.data() + s.words;
  // Its index on the list: the set's documents before it.
  const std::size_t rank =
      set_ranks_[s.words + d / 64] +
      static_cast<std::size_t>(std::popcount(words[d / 64] & ((std::uint64_t{1} << (d % 64)) - 1)));
  Posting out;
  for_set_postings(s, rank, 1, [&out](const Posting& p) { out = p; });
  return out;
}

void InvertedIndex::number_files() {
  module_docs_.assign(module_words_.size(), {});
  for (DocId d = 0; d < rank_.size(); ++d) {
    if (rank_[d].module != UINT32_MAX && docs_[d].alive) module_docs_[rank_[d].module].push_back(d);
  }
  for (auto& v : module_docs_) v.shrink_to_fit();
  file_count_ = 0;
  doc_file_.assign(docs_.size(), 0);
  for (std::size_t d = 0; d < docs_.size(); ++d) {
    if (d > 0 && path_text(docs_[d]) != path_text(docs_[d - 1])) ++file_count_;
    doc_file_[d] = file_count_;
  }
  if (!docs_.empty()) ++file_count_;
}

void InvertedIndex::live_postings(std::uint32_t term, std::vector<Posting>& out) const {
  out.clear();
  out.reserve(frozen_.count(term));
  if (!frozen_has_dead_) {
    for_each_posting(frozen_.bytes(term), [&](const Posting& p) { out.push_back(p); });
  } else {
    for_each_posting(frozen_.bytes(term), [&](const Posting& p) {
      if (!frozen_dead(p.doc)) out.push_back(p);
    });
  }
  for_each_tail(term, [&](const Posting& p) {
    if (docs_[p.doc].alive) out.push_back(p);
  });
}

std::vector<std::string> InvertedIndex::files_with_term(std::string_view term) const {
  std::vector<std::string> out;
  const std::uint32_t id = term_id(term);
  if (id == IdTable::kNone) return out;
  std::vector<Posting> postings;
  live_postings(id, postings);
  std::vector<std::string_view> paths;
  paths.reserve(postings.size());
  for (const auto& p : postings) paths.push_back(path_text(docs_[p.doc]));
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  out.assign(paths.begin(), paths.end());
  return out;
}

std::uint32_t InvertedIndex::live_df(std::uint32_t term) const {
  std::uint32_t n = 0;
  if (!frozen_has_dead_) {
    n = frozen_.count(term);
  } else if (const DocSet* set = find_set(term)) {
    // A common term's list: its stored count less the dead documents its set holds (a few bit
    // tests after an edit, where decoding the list cost up to a tenth of a millisecond).
    const std::uint64_t* words = doc_sets_.data() + set->words;
    n = frozen_.count(term);
    for (const DocId d : frozen_dead_)
      n -= static_cast<std::uint32_t>((words[d / 64] >> (d % 64)) & 1u);
  } else {
    for_each_posting(frozen_.bytes(term),
                     [&](const Posting& p) { n += frozen_dead(p.doc) ? 0 : 1; });
  }
  for_each_tail(term, [&](const Posting& p) { n += docs_[p.doc].alive ? 1 : 0; });
  return n;
}

bool InvertedIndex::has_live_postings(std::uint32_t term) const {
  if (!frozen_has_dead_) {
    if (frozen_.count(term) > 0) return true;
  } else {
    auto c = frozen_.cursor(term);
    for (Posting p; c.next(p);) {
      if (!frozen_dead(p.doc)) return true;
    }
  }
  bool live = false;
  for_each_tail(term, [&](const Posting& p) { live = live || docs_[p.doc].alive; });
  return live;
}

std::size_t InvertedIndex::term_count() const {
  const std::size_t nterms = term_off_.size() - 1;
  std::vector<bool> live(nterms, false);
  for (std::uint32_t t = 0; t < std::min(frozen_.term_count(), nterms);
       ++t) {  // not the groups' lists
    if (!frozen_has_dead_) {
      live[t] = frozen_.count(t) > 0;
      continue;
    }
    auto c = frozen_.cursor(t);
    for (Posting p; c.next(p);) {
      if (docs_[p.doc].alive) {
        live[t] = true;
        break;
      }
    }
  }
  for (const auto& e : tail_) {
    if (docs_[e.p.doc].alive) live[e.term] = true;
  }
  return static_cast<std::size_t>(std::count(live.begin(), live.end(), true));
}

std::optional<Chunk> InvertedIndex::find(std::string_view id) const {
  const auto d = by_id_.find(id, std::hash<std::string_view>{}(id),
                             [this](std::uint32_t x) { return id_text(docs_[x]); });
  if (d == IdTable::kNone) return std::nullopt;
  return unpack(docs_[d]);
}

std::vector<Chunk> InvertedIndex::chunks_of(std::string_view path) const {
  std::vector<Chunk> out;
  auto it = by_file_.find(std::string(path));
  if (it == by_file_.end()) return out;
  std::vector<DocId> ds;
  for (const DocId d : it->second) {
    if (docs_[d].alive) ds.push_back(d);
  }
  std::stable_sort(ds.begin(), ds.end(),
                   [this](DocId a, DocId b) { return docs_[a].start_line < docs_[b].start_line; });
  out.reserve(ds.size());
  for (const DocId d : ds) out.push_back(unpack(docs_[d]));
  return out;
}

namespace {

std::string trim_copy(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

// Edit-distance rows of `term` against the prefixes of candidate words (insertions, deletions,
// substitutions and swaps of two neighbouring bytes, each one edit), one row per prefix length:
// row d holds the distances from the first d bytes of a candidate to every prefix of `term`,
// capped at bound + 1, and only the band |d − j| ≤ bound is computed (every entry outside it is
// over the bound; those entries are set once, to the cap, and never written). Rows for a shared
// prefix are computed once (`suggest` walks the sorted vocabulary), and a prefix whose row minimum
// exceeds the bound rules out every word that starts with it (a row's minimum never decreases
// with depth: a swap's entry is never below the substitution path's entry one row up). Byte-wise,
// like the index's terms. No allocation after construction.
class EditRows {
 public:
  EditRows(std::string_view term, std::size_t bound)
      : term_(term),
        bound_(bound),
        cap_(static_cast<std::uint8_t>(bound + 1)),
        width_(term.size() + 1),
        rows_((term.size() + bound + 2) * width_, cap_),
        chars_(term.size() + bound + 2, '\0') {
    for (std::size_t j = 0; j < width_ && j < cap_; ++j) rows_[j] = static_cast<std::uint8_t>(j);
  }
  std::size_t bound() const { return bound_; }
  // Deepest row a candidate can need: there every entry is over the bound.
  std::size_t max_depth() const { return term_.size() + bound_ + 1; }
  // Compute row d (1 ≤ d ≤ max_depth()) from row d − 1 for candidate byte c; false when every
  // entry exceeds the bound.
  bool push(std::size_t d, char c) {
    const std::uint8_t* prev = &rows_[(d - 1) * width_];
    std::uint8_t* cur = &rows_[d * width_];
    const std::size_t lo = d > bound_ ? d - bound_ : 0;
    const std::size_t hi = std::min(width_ - 1, d + bound_);
    std::uint8_t row_min = cap_;
    if (lo == 0) row_min = cur[0] = static_cast<std::uint8_t>(std::min<std::size_t>(d, cap_));
    chars_[d] = c;
    for (std::size_t j = std::max<std::size_t>(lo, 1); j <= hi; ++j) {
      const int sub = prev[j - 1] + (term_[j - 1] == c ? 0 : 1);
      int v = std::min({prev[j] + 1, cur[j - 1] + 1, sub, int{cap_}});
      // Two neighbouring bytes swapped (`lenght`) are one edit, as Damerau counted typing errors
      // (the optimal string alignment distance; Lucene's spell checker counts them so too).
      if (d >= 2 && j >= 2 && c == term_[j - 2] && chars_[d - 1] == term_[j - 1] &&
          c != chars_[d - 1]) {
        v = std::min(v, rows_[(d - 2) * width_ + j - 2] + 1);
      }
      cur[j] = static_cast<std::uint8_t>(v);
      row_min = std::min(row_min, cur[j]);
    }
    return row_min <= bound_;
  }
  // Distance from the candidate's first d bytes to the whole term (bound + 1 when over it).
  std::size_t distance(std::size_t d) const { return rows_[d * width_ + width_ - 1]; }
  // Distance from `s` to the term (bound + 1 when over it), its rows computed afresh.
  std::size_t distance_to(std::string_view s) {
    if (term_.size() > s.size() + bound_ || s.size() > term_.size() + bound_) return cap_;
    for (std::size_t d = 1; d <= s.size(); ++d) {
      if (!push(d, s[d - 1])) return cap_;
    }
    return distance(s.size());
  }

 private:
  std::string_view term_;
  std::size_t bound_;
  std::uint8_t cap_;
  std::size_t width_;
  std::vector<std::uint8_t> rows_;
  std::vector<char> chars_;  // the candidate byte pushed at each depth
};

// Whether any bit in [lo, hi) of `words` is set.
bool any_bit(const std::uint64_t* words, std::uint32_t lo, std::uint32_t hi) {
  for (std::uint32_t b = lo; b < hi;) {
    const std::uint32_t w = b / 64, from = b % 64;
    const std::uint32_t to =
        std::min<std::uint32_t>(64, from + (hi - b));  // exclusive, in this word
    const std::uint64_t mask = (to == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << to) - 1)) &
                               (~std::uint64_t{0} << from);
    if (words[w] & mask) return true;
    b += to - from;
  }
  return false;
}

}  // namespace

std::vector<std::string> InvertedIndex::suggest(std::string_view term, std::size_t max) const {
  return top_suggestions(suggestion_candidates(term), max);
}

std::vector<std::string> InvertedIndex::top_suggestions(std::vector<Suggestion> cands,
                                                        std::size_t max) const {
  std::sort(cands.begin(), cands.end(), [&](const Suggestion& a, const Suggestion& b) {
    if (a.rank_dist != b.rank_dist) return a.rank_dist < b.rank_dist;
    if (a.df != b.df) return a.df > b.df;
    return term_text(a.id) < term_text(b.id);
  });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < cands.size() && out.size() < max; ++i)
    out.emplace_back(term_text(cands[i].id));
  return out;
}

const InvertedIndex::Suggestion* InvertedIndex::correction(
    std::string_view term, const std::vector<Suggestion>& cands) const {
  // One edit for a word of 4 or 5 letters, two from 6 (suggestion_candidates finds two only
  // under the same first letter). A completion counts by the letters it adds (`sitema` →
  // `sitemap`, a word cut short); one adding more is a suggestion only (`payl` → `payload`).
  const std::size_t bound = term.size() >= 6 ? 2 : 1;
  const Suggestion* best = nullptr;
  // Nearest first; then a word with the term's first letter (misspellings rarely start wrong:
  // about 7 % do, Pollock and Zamora 1984), then the most chunks, then the text (determinism).
  const auto key = [&](const Suggestion& c) {
    const std::string_view x = term_text(c.id);
    return std::tuple{c.dist, x.empty() || x[0] != term[0], -static_cast<std::int64_t>(c.df), x};
  };
  for (const Suggestion& c : cands) {
    if (c.dist <= bound && (!best || key(c) < key(*best))) best = &c;
  }
  return best;
}

std::vector<InvertedIndex::Suggestion> InvertedIndex::suggestion_candidates(
    std::string_view term) const {
  // Two edits are allowed from 5 characters, and then only to words with the same first letter
  // (misspellings rarely start wrong — the convention of Lucene's DirectSpellChecker and
  // Elasticsearch's term suggester, prefix length 1): a word with another first letter is at most
  // one edit away. The walk below covers the term's first letter; the other first letters, at one
  // edit, are a few look-ups.
  const std::size_t bound = term.size() >= 5 ? 2 : 1;
  const auto bound_for = [&](std::string_view s) -> std::size_t {
    return bound == 2 && !s.empty() && s[0] == term[0] ? 2 : 1;
  };
  const bool completions = term.size() >= 3;  // longer words starting with `term` rank as one edit
  std::vector<Suggestion> cands;
  // Only close terms pay for counting their live postings. A completion's distance is the
  // letters it adds; it ranks as one edit.
  const auto consider = [&](std::uint32_t t, std::size_t dist) {
    const std::size_t size = term_text(t).size();
    const bool completion = size > term.size() && term_text(t).starts_with(term);
    const std::size_t true_dist = completion ? size - term.size() : dist;
    if (const std::uint32_t df = live_df(t); df > 0) {
      cands.push_back({t, df, static_cast<std::uint8_t>(std::min<std::size_t>(dist, 255)),
                       static_cast<std::uint8_t>(std::min<std::size_t>(true_dist, 255))});
    }
  };
  using It = std::vector<std::uint32_t>::const_iterator;
  const It begin = sorted_terms_.begin(), end = sorted_terms_.end();
  // The sorted vocabulary's words starting with `prefix`: one range.
  const auto prefix_range = [&](std::string_view prefix) {
    const It lo = std::lower_bound(begin, end, prefix, [this](std::uint32_t t, std::string_view x) {
      return term_text(t) < x;
    });
    return std::pair{lo, std::partition_point(lo, end, [&](std::uint32_t t) {
                       return term_text(t).starts_with(prefix);
                     })};
  };
  // The completions are one range, the rest is walked by shared prefix.
  It comp_lo = end, comp_hi = end;
  if (completions) {
    std::tie(comp_lo, comp_hi) = prefix_range(term);
    for (auto it = comp_lo; it != comp_hi; ++it) {
      if (term_text(*it).size() > term.size()) consider(*it, 1);
    }
  }
  // Walk [first, last) with `rows` (and their bound), every word's rows reusing those of the prefix
  // it shares with the word before it.
  const auto walk = [&](It first, It last_it, EditRows& rows) {
    std::string_view last;  // the word rows 1..valid were computed for
    std::size_t valid = 0;
    for (It it = first; it != last_it;) {
      if (it == comp_lo && comp_lo != comp_hi) {
        it = comp_hi;
        continue;
      }
      const std::string_view s = term_text(*it);
      std::size_t d = 0;
      while (d < valid && d < s.size() && s[d] == last[d]) ++d;
      const std::size_t depth = std::min(s.size(), rows.max_depth());
      bool pruned = false;
      for (; d < depth; ++d) {
        if (!rows.push(d + 1, s[d])) {
          pruned = true;
          ++d;
          break;
        }
      }
      last = s;
      valid = d;
      if (pruned) {  // no word starting with s[0, d) is within the bound
        // The words sharing the dead prefix follow `it`; usually few, so gallop, then bisect.
        const std::string_view dead = s.substr(0, d);
        const auto alive = [&](std::uint32_t t) { return term_text(t).starts_with(dead); };
        std::ptrdiff_t step = 1;
        It lo = it + 1;
        while (last_it - lo >= step && alive(lo[step - 1])) {
          lo += step;
          step *= 2;
        }
        it = std::partition_point(lo, last_it - lo >= step ? lo + step : last_it, alive);
        continue;
      }
      if (s != term && s.size() <= term.size() + rows.bound()) {
        if (const std::size_t dist = rows.distance(s.size()); dist <= rows.bound())
          consider(*it, dist);
      }
      ++it;
    }
  };
  // The words with the term's first byte are walked (at its bound: two edits from 5 bytes).
  {
    const auto [lo, hi] = prefix_range(term.substr(0, 1));
    EditRows rows(term, bound);
    walk(lo, hi, rows);
  }
  // A word with another first byte is within one edit only when that edit is at its start: the
  // first byte replaced (x + term[1..]), one put before it (x + term), the first byte dropped
  // (term[1..]) or the first two swapped. These are looked up by their text — two probes per
  // first byte the vocabulary has, about 80 in all, their table slots prefetched together —
  // instead of walking the rest of the vocabulary (~2,000 words visited for a typical word on
  // the stdlib: `threadpol executr` took 4.3 M instructions, now 2.0 M). No two probes name the
  // same word; a word newer than the sort is left to the scan below. (An empty term's "first
  // letter" range is the whole vocabulary, walked above.)
  if (!term.empty()) {
    struct Probe {
      std::uint32_t at, size;  // its text: variants[at, at + size)
      std::size_t hash;
    };
    std::string variants;
    std::vector<Probe> probes;
    const auto add = [&](std::string_view head, std::string_view rest) {
      if (head.empty() ? rest.empty() || rest[0] == term[0] : head[0] == term[0]) return;
      const auto at = static_cast<std::uint32_t>(variants.size());
      variants.append(head).append(rest);
      const std::string_view w = std::string_view(variants).substr(at);
      probes.push_back(
          {at, static_cast<std::uint32_t>(w.size()), std::hash<std::string_view>{}(w)});
      term_ids_.prefetch(probes.back().hash);
    };
    for (unsigned b = 0; b < 256; ++b) {
      if (!((first_bytes_[b / 64] >> (b % 64)) & 1u)) continue;
      const char x = static_cast<char>(b);
      add(std::string_view(&x, 1), term.substr(1));
      add(std::string_view(&x, 1), term);
    }
    if (term.size() >= 2) {
      add({}, term.substr(1));
      const char swapped[2] = {term[1], term[0]};
      add(std::string_view(swapped, 2), term.substr(2));
    }
    const auto key_of = [this](std::uint32_t t) { return term_text(t); };
    for (const Probe& p : probes) {
      const std::uint32_t t =
          term_ids_.find(std::string_view(variants).substr(p.at, p.size), p.hash, key_of);
      if (t != IdTable::kNone && t < sorted_terms_.size()) consider(t, 1);
    }
  }
  // Terms added since the vocabulary was last sorted.
  EditRows rows(term, bound);
  const std::size_t nterms = term_off_.size() - 1;
  for (auto t = static_cast<std::uint32_t>(sorted_terms_.size()); t < nterms; ++t) {
    const std::string_view s = term_text(t);
    if (s == term) continue;
    if (completions && s.size() > term.size() && s.starts_with(term)) {
      consider(t, 1);
    } else if (const std::size_t dist = rows.distance_to(s); dist <= bound_for(s)) {
      consider(t, dist);
    }
  }
  return cands;
}

void InvertedIndex::set_centrality(const std::string& path, double centrality) {
  const auto it = by_file_.find(path);
  if (it == by_file_.end()) return;
  const auto factor = static_cast<float>(centrality_factor(centrality));
  for (const DocId d : it->second) {
    rank_[d].centrality = factor;
    prior_key_[d] = prior_key(rank_[d]);
  }
}

namespace {
// The demotions a prior key's high four bits stand for (InvertedIndex::prior_key), in bit order,
// and the centrality level its low four bits give.
constexpr std::array<PathClass, 4> kKeyClasses = {kPathTest, kPathAsset, kPathGenerated,
                                                  kPathVendored};
constexpr int kCentralityLevels = 15;  // levels 0..15
double centrality_level(int level) {
  return kCentralityMin + (kCentralityMax - kCentralityMin) * level / kCentralityLevels;
}
}  // namespace

std::uint8_t InvertedIndex::prior_key(const DocRank& r) {
  unsigned classes = 0;
  for (std::size_t i = 0; i < kKeyClasses.size(); ++i) {
    if (r.path_class & kKeyClasses[i]) classes |= 1u << i;
  }
  // The smallest level at or above the factor (1.0 for a file outside the import graph).
  int level = 0;
  while (level < kCentralityLevels && centrality_level(level) < static_cast<double>(r.centrality))
    ++level;
  return static_cast<std::uint8_t>(classes << 4 | static_cast<unsigned>(level));
}

void InvertedIndex::classify(const Doc& doc, DocRank& rank, const DocRank* same_path) {
  rank.role = doc.role;
  rank.kind = doc.kind;
  if (same_path) {
    rank.path_class = same_path->path_class;
    rank.module = same_path->module;
    if (rank.path_class & kPathNeverCode) ++never_code_docs_;
    return;
  }
  rank.path_class = path_class(path_text(doc));
  if (rank.path_class & kPathNeverCode) ++never_code_docs_;
  std::string word = module_word(path_text(doc));
  if (word.empty()) return;
  auto [it, added] =
      module_ids_.try_emplace(stem(word), static_cast<std::uint32_t>(module_words_.size()));
  if (added) {
    for (const std::uint8_t cut : module_splits(path_text(doc))) {
      module_pieces_[stem(std::string_view(word).substr(0, cut))].push_back(
          {it->second, cut, false});
      module_pieces_[stem(std::string_view(word).substr(cut))].push_back({it->second, cut, true});
    }
    if (std::string phrase = module_phrase(word); !phrase.empty())
      module_phrases_[std::move(phrase)].push_back(it->second);
    module_words_.push_back(std::move(word));
  }
  rank.module = it->second;
}

void InvertedIndex::drop_groups() {
  if (vocab_lists_ == 0) return;
  stale_groups_.lists = frozen_.take_extension();
  stale_groups_.members = std::move(group_members_);
  stale_groups_.start = std::move(group_start_);
  set_of_.erase(
      std::find_if(set_of_.begin(), set_of_.end(),
                   [&](const DocSet& e) { return e.term >= vocab_lists_; }),
      set_of_.end());  // a group's set is left in doc_sets_ until the next freeze installs new ones
  vocab_lists_ = 0;
  group_members_.clear();
  group_start_.clear();
  group_postings_ = 0;
}

bool InvertedIndex::build_groups(Settled& st, const std::atomic<bool>* cancel) const {
  FrozenPostings& frozen = st.frozen;
  const auto nterms = static_cast<std::uint32_t>(term_off_.size() - 1);
  // The words the last freeze stemmed, and those added since (stemmed here and merged in).
  const std::vector<StemMember>* all = &stem_members_;
  if (stemmed_terms_ < nterms) {
    const auto by_stem = [](const StemMember& a, const StemMember& b) {
      return a.stem != b.stem ? a.stem < b.stem : a.term < b.term;
    };
    std::vector<StemMember> added;
    for (std::uint32_t t = stemmed_terms_; t < nterms; ++t) {
      if (cancel && cancel->load(std::memory_order_relaxed)) return false;
      const std::string_view x = term_text(t);
      if (!stemmable(x)) continue;
      const std::string s = stem(x);
      if (!stem_scan_admits(x, s)) continue;
      added.push_back({std::hash<std::string_view>{}(s), t});
    }
    std::sort(added.begin(), added.end(), by_stem);
    st.stem_members.reserve(stem_members_.size() + added.size());
    std::merge(stem_members_.begin(), stem_members_.end(), added.begin(), added.end(),
               std::back_inserter(st.stem_members), by_stem);
    st.stemmed_terms = nterms;
    st.restemmed = true;
    all = &st.stem_members;
  }
  // The groups: runs of two or more members with postings and one stem, each ascending (in
  // `members`, back to back), in the order of their smallest member: a word has one stem, so
  // group_list finds its group by binary search on that member.
  std::vector<std::uint32_t> members;
  std::vector<std::pair<std::size_t, std::size_t>> runs;  // [begin, end) in `members`
  for (std::size_t i = 0, j = 0; i < all->size(); i = j) {
    const std::size_t begin = members.size();
    for (j = i; j < all->size() && (*all)[j].stem == (*all)[i].stem; ++j) {
      if (frozen.count((*all)[j].term) != 0) members.push_back((*all)[j].term);
    }
    if (members.size() - begin >= 2)
      runs.emplace_back(begin, members.size());
    else
      members.resize(begin);
  }
  if (runs.empty()) return true;
  std::sort(runs.begin(), runs.end(),
            [&](const auto& x, const auto& y) { return members[x.first] < members[y.first]; });
  // Each group's members merged one by one into `acc` (a chunk several hold getting their tfs
  // added), each member's list as it is decoded; the group's list then encoded into `encoded`,
  // which becomes frozen_'s extension (ids from nterms up). Its room is reserved first: the
  // members' bytes, at least the group's (a union has no more postings, no longer deltas, and
  // its summed tfs no more bytes) — growing it by doubling cost a page fault per 4 KiB twice.
  std::size_t room = 0;
  for (const auto& [i, j] : runs) {
    for (std::size_t m = i; m < j; ++m) room += frozen.bytes(members[m]).size();
  }
  std::vector<Posting> acc, merged;
  std::vector<std::uint8_t> encoded;
  encoded.reserve(room);
  std::vector<std::uint32_t> ends, counts;
  auto& group_members = st.group_members;
  auto& group_start = st.group_start;
  // The stale group (drop_groups) with exactly these members, none of whose lists changed since:
  // its list is the union these lists give, as it was merged. SIZE_MAX: none.
  const StaleGroups& old = stale_groups_;
  std::vector<std::uint32_t> ids;
  const auto reusable = [&](std::size_t i, std::size_t j) -> std::size_t {
    if (st.changed.empty()) return SIZE_MAX;
    ids.clear();
    for (std::size_t m = i; m < j; ++m) {
      if (st.changed[members[m]] != 0) return SIZE_MAX;
      ids.push_back(members[m]);
    }
    return find_group(old.members, old.start, ids.data(), ids.data() + ids.size());
  };
  // A settle without renumbering (`changed` filled): the last freeze's group of a stem — set
  // aside by drop_groups, or still installed when no word was added since — by member. Its list
  // less the chunks that died since, then the members' tail postings (their chunks come after
  // every frozen one) merged by chunk, is the union the members' lists now give: a live chunk
  // below the horizon holds the same members' postings as then (a word in the group since has
  // all of its postings in the tail, a word gone has none live), and saturating tf sums do not
  // depend on the order. An edit touches the lists of most common stems: merging their members'
  // long lists again was a third of a settle's work on four stdlib copies.
  const bool dropped = vocab_lists_ == 0;
  const std::vector<std::uint32_t>& last_members = dropped ? old.members : group_members_;
  const std::vector<std::uint32_t>& last_start = dropped ? old.start : group_start_;
  std::unordered_map<std::uint32_t, std::uint32_t> last_group;  // member → its group
  if (!st.changed.empty() && !st.tail_start.empty()) {
    last_group.reserve(last_members.size());
    for (std::size_t g = 0; g + 1 < last_start.size(); ++g) {
      for (std::uint32_t k = last_start[g]; k < last_start[g + 1]; ++k)
        last_group.emplace(last_members[k], static_cast<std::uint32_t>(g));
    }
  }
  const auto last_list = [&](std::uint32_t g) {
    return dropped ? old.lists.list(g) : frozen_.bytes(vocab_lists_ + g);
  };
  const std::vector<std::uint64_t>& dead = frozen_dead_bits_;
  std::vector<Posting> tail;
  group_start.push_back(0);
  // Stopped: the lists merged so far go with `st`, freed by its owner (outside the index's lock).
  const auto stop = [&] {
    frozen.extend(std::move(encoded), std::move(ends), std::move(counts));
    return false;
  };
  for (const auto& [i, j] : runs) {
    if (cancel && cancel->load(std::memory_order_relaxed)) return stop();
    if (const std::size_t g = reusable(i, j); g != SIZE_MAX) {
      const std::string_view list = old.lists.list(g);
      for (std::size_t m = i; m < j; ++m) group_members.push_back(members[m]);
      encoded.insert(encoded.end(), list.begin(), list.end());
      ends.push_back(static_cast<std::uint32_t>(encoded.size()));
      counts.push_back(old.lists.counts[g]);
      st.group_postings += old.lists.counts[g];
      group_start.push_back(static_cast<std::uint32_t>(group_members.size()));
      continue;
    }
    std::uint32_t last = UINT32_MAX;
    for (std::size_t m = i; m < j && last == UINT32_MAX && !last_group.empty(); ++m) {
      if (const auto it = last_group.find(members[m]); it != last_group.end()) last = it->second;
    }
    if (last != UINT32_MAX) {
      tail.clear();
      for (std::size_t m = i; m < j; ++m) {
        const std::uint32_t t = members[m];
        group_members.push_back(t);
        for (std::uint32_t k = st.tail_start[t]; k < st.tail_start[t + 1]; ++k) {
          if (docs_[st.tail_grouped[k].doc].alive) tail.push_back(st.tail_grouped[k]);
        }
      }
      merge_by_doc(tail);
      PostingListBuilder list(encoded);
      list.add_spliced(last_list(last), dead.data(), dead.size());
      for (const Posting& p : tail) list.add(p);
      ends.push_back(static_cast<std::uint32_t>(encoded.size()));
      counts.push_back(static_cast<std::uint32_t>(list.count()));
      st.group_postings += list.count();
      group_start.push_back(static_cast<std::uint32_t>(group_members.size()));
      continue;
    }
    acc.clear();
    for (std::size_t m = i; m < j; ++m) {
      // A group of a common stem merges long lists (~2 ms on four stdlib copies): checked per list.
      if (cancel && m > i && cancel->load(std::memory_order_relaxed)) return stop();
      const std::uint32_t t = members[m];
      group_members.push_back(t);
      merge_frozen(acc, frozen.bytes(t), frozen.count(t), merged);
    }
    PostingListBuilder list(encoded);
    for (const Posting& p : acc) list.add(p);
    ends.push_back(static_cast<std::uint32_t>(encoded.size()));
    counts.push_back(static_cast<std::uint32_t>(acc.size()));
    st.group_postings += acc.size();
    group_start.push_back(static_cast<std::uint32_t>(group_members.size()));
  }
  frozen.extend(std::move(encoded), std::move(ends), std::move(counts));
  st.vocab_lists = nterms;
  return true;
}

std::uint32_t InvertedIndex::group_list(const std::vector<std::uint32_t>& ids) const {
  if (vocab_lists_ == 0 || ids.size() < 2) return IdTable::kNone;
  const std::size_t g =
      find_group(group_members_, group_start_, ids.data(), ids.data() + ids.size());
  return g == SIZE_MAX ? IdTable::kNone : vocab_lists_ + static_cast<std::uint32_t>(g);
}

void InvertedIndex::sort_terms(Settled& s) const {
  const std::size_t nterms = term_off_.size() - 1;
  const std::size_t old = sorted_terms_.size();
  if (old == nterms) return;  // no word added since: the caches stay valid
  s.resorted = true;
  const auto less = [this](std::uint32_t a, std::uint32_t b) {
    return term_text(a) < term_text(b);
  };
  std::vector<std::uint32_t> added(nterms - old);
  std::iota(added.begin(), added.end(), static_cast<std::uint32_t>(old));
  std::sort(added.begin(), added.end(), less);
  s.sorted_terms.resize(nterms);
  s.stem_hashes.reset(nterms);
  // The words sorted before keep their order (words are distinct, so each new one has one place
  // among them); runs of them are copied with their cache slots between the new ones.
  const bool carry = stem_hash_.size() == old;
  std::size_t from = 0, out = 0;
  const auto copy_to = [&](std::size_t to) {
    std::copy(sorted_terms_.begin() + static_cast<std::ptrdiff_t>(from),
              sorted_terms_.begin() + static_cast<std::ptrdiff_t>(to),
              s.sorted_terms.begin() + static_cast<std::ptrdiff_t>(out));
    for (std::size_t i = from; carry && i < to; ++i)
      s.stem_hashes[out + (i - from)].store(stem_hash_[i].load(std::memory_order_relaxed),
                                            std::memory_order_relaxed);
    out += to - from;
    from = to;
  };
  for (const std::uint32_t t : added) {
    copy_to(static_cast<std::size_t>(
        std::upper_bound(sorted_terms_.begin() + static_cast<std::ptrdiff_t>(from),
                         sorted_terms_.end(), t, less) -
        sorted_terms_.begin()));
    s.sorted_terms[out++] = t;
  }
  copy_to(old);
}

bool InvertedIndex::VariantCache::find(const std::string& key,
                                       std::vector<std::uint32_t>& out) const {
  const std::lock_guard lock(mu_);
  const auto it = map_.find(key);
  if (it == map_.end()) return false;
  out = it->second;
  return true;
}

void InvertedIndex::VariantCache::put(std::string key,
                                      const std::vector<std::uint32_t>& ids) const {
  const std::lock_guard lock(mu_);
  if (map_.size() >= kMaxStems) {
    map_.clear();
    bytes_ = 0;
  }
  const std::size_t bytes = key.capacity() + ids.size() * sizeof(std::uint32_t) + 64;
  if (map_.try_emplace(std::move(key), ids).second) bytes_ += bytes;
  used_.store(true, std::memory_order_release);
}

void InvertedIndex::VariantCache::clear() const {
  if (!used_.load(std::memory_order_acquire)) return;
  const std::lock_guard lock(mu_);
  map_.clear();
  bytes_ = 0;
  used_.store(false, std::memory_order_release);
}

std::size_t InvertedIndex::VariantCache::memory_bytes() const {
  const std::lock_guard lock(mu_);
  return bytes_;
}

void InvertedIndex::stem_variants(std::string_view term, const std::string& s,
                                  std::vector<std::uint32_t>& out) const {
  out.clear();
  std::string key;
  key.reserve(term.size() + 1 + s.size());
  ((key += term) += '\0') += s;
  if (variant_cache_.find(key, out)) return;
  // A stem is at most one letter away from a prefix of every word it stems (Snowball English
  // rewrites at most the last letter: y → i, an -e restored), so the words to test start with
  // the stem minus its last letter.
  const std::string_view prefix = std::string_view(s).substr(0, s.size() - 1);
  // Nor does it rewrite the stem's last letter itself unless that letter is one its rules write
  // (y → i, an -e restored, -ble from -bility: `possibility` → `possibl`): a word whose letter at
  // that place differs from a stem ending otherwise cannot have this stem, and is not stemmed
  // (the bulk of the words under a short prefix: `end` tests `ending`, not `enable`). Checked
  // against libstemmer on 346,000 distinct words of the stdlib, site-packages and /usr/share/doc.
  // Both tests: stem_scan_admits.
  // A stem's hash in the cache (stem_hash_): never 0 (not computed yet) nor kUnstemmable.
  constexpr std::uint32_t kUnstemmable = 1;
  const auto hash32 = [](std::string_view x) {
    const std::size_t h = std::hash<std::string_view>{}(x);
    const auto folded = static_cast<std::uint32_t>(h ^ (h >> 32));
    return folded <= kUnstemmable ? folded + 2 : folded;
  };
  const std::uint32_t want = hash32(s);
  // Term t, at position `pos` of sorted_terms_ (or past its end: a term newer than the sort,
  // with no cache slot).
  const auto test = [&](std::uint32_t t, std::size_t pos) __attribute__((always_inline)) {
    // A word whose stem is cached and differs is passed over without reading its text (most
    // words under the prefix, once earlier queries have stemmed them). The query word itself
    // has the stem `s`: its hash is `want` or not cached yet.
    const bool cached = pos < stem_hash_.size();
    if (cached) {
      if (const std::uint32_t h = stem_hash_[pos].load(std::memory_order_relaxed);
          h != 0 && h != want)
        return;
    }
    const std::string_view x = term_text(t);
    if (x == term) {
      out.push_back(t);
      return;
    }
    if (!stem_scan_admits(x, s)) return;
    if (cached) {
      std::atomic<std::uint32_t>& slot = stem_hash_[pos];
      if (const std::uint32_t h = slot.load(std::memory_order_relaxed); h != 0) {
        if (h == want && stem(x) == s) out.push_back(t);  // a hash match is confirmed
        return;
      }
      if (!stemmable(x)) {
        slot.store(kUnstemmable, std::memory_order_relaxed);
        return;
      }
      const std::string st = stem(x);
      slot.store(hash32(st), std::memory_order_relaxed);
      if (st == s) out.push_back(t);
      return;
    }
    if (stemmable(x) && stem(x) == s) out.push_back(t);
  };
  // The sorted words starting with `prefix`: one range, found by two binary searches, and their
  // cache slots read in order.
  const auto from =
      std::lower_bound(sorted_terms_.begin(), sorted_terms_.end(), prefix,
                       [this](std::uint32_t t, std::string_view p) { return term_text(t) < p; });
  const auto to = std::partition_point(from, sorted_terms_.end(), [&](std::uint32_t t) {
    return term_text(t).substr(0, prefix.size()) == prefix;
  });
  for (auto it = from; it != to; ++it)
    test(*it, static_cast<std::size_t>(it - sorted_terms_.begin()));
  const std::size_t nterms = term_off_.size() - 1;
  for (auto t = static_cast<std::uint32_t>(sorted_terms_.size()); t < nterms; ++t) {
    if (term_text(t).substr(0, prefix.size()) == prefix) test(t, SIZE_MAX);
  }
  std::sort(out.begin(), out.end());
  variant_cache_.put(std::move(key), out);
}

void InvertedIndex::tidy_scratch() {
  scratch_pool().tidy();
}

std::uint64_t InvertedIndex::name_hash(std::string_view path) {
  return std::hash<std::string_view>{}(file_name_of(path));
}

void InvertedIndex::count_file_names() {
  file_names_.clear();
  for (const auto& entry : by_file_) file_names_[name_hash(entry.first)].push_back(&entry.first);
}

std::vector<InvertedIndex::DocId> InvertedIndex::named_chunks(
    std::string_view query, const SearchOptions& o, std::optional<Correction>* corrected) const {
  std::optional<FileReference> ref = file_reference(query);
  if (!ref) ref = node_id_in_line(query);  // a pytest result line: its test
  if (ref) return chunks_named(std::move(*ref), o, corrected);
  // A pasted traceback or log: its places in indexed files from the innermost (the last named)
  // outward — the call chain an agent reads — at most kMaxPinnedFrames of them, each chunk once.
  std::vector<FileReference> frames = frames_in_text(query);
  std::vector<DocId> out;
  std::size_t places = 0;
  for (auto it = frames.rbegin(); it != frames.rend() && places < kMaxPinnedFrames; ++it) {
    bool added = false;
    for (const DocId d : chunks_named(std::move(*it), o, nullptr)) {
      if (std::find(out.begin(), out.end(), d) != out.end()) continue;
      out.push_back(d);
      added = true;
    }
    places += added ? 1 : 0;
  }
  return out;
}

std::vector<InvertedIndex::DocId> InvertedIndex::chunks_named(
    FileReference ref, const SearchOptions& o, std::optional<Correction>* corrected) const {
  // A path names a file only with that file's name (path_match: one ends with the other after
  // a '/'): most one-word queries with a dot (`json.loads`) stop here. A code or doc file's name
  // that no file has may be misspelt (ranking.hpp, misspelt_file_name).
  auto named = file_names_.find(name_hash(ref.path));
  if (named == file_names_.end()) {
    const std::string typed(file_name_of(ref.path));
    if (!corrected || !(o.signals & kSignalTypo) || kind_of(typed) == ChunkKind::kOther) return {};
    std::vector<std::string_view> names;
    for (const auto& entry : file_names_) names.push_back(file_name_of(*entry.second.front()));
    const std::optional<std::string_view> fix = misspelt_file_name(typed, names);
    if (!fix) return {};
    named = file_names_.find(name_hash(*fix));
    ref.path.replace(ref.path.size() - typed.size(), typed.size(), *fix);
    *corrected = Correction{typed, std::string(*fix)};
  }
  // The files it names with the longest match: each one's path and chunks.
  std::vector<std::pair<std::string_view, const std::vector<DocId>*>> files;
  std::size_t longest = 0;
  for (const std::string* path : named->second) {
    const std::size_t m = path_match(*path, ref.path);
    if (m == 0 || m < longest) continue;
    if (m > longest) files.clear();
    longest = m;
    files.emplace_back(*path, &by_file_.at(*path));
  }
  if (files.empty() || files.size() > kMaxNamedFiles) return {};
  // The whole match first (an exact path), then the paths nearer the root, then by name.
  std::sort(files.begin(), files.end(), [&](const auto& a, const auto& b) {
    const bool ea = a.first == ref.path, eb = b.first == ref.path;
    if (ea != eb) return ea;
    if (a.first.size() != b.first.size()) return a.first.size() < b.first.size();
    return a.first < b.first;
  });
  std::vector<DocId> out;
  for (const auto& [path, ids] : files) {
    if (!o.path_glob.empty() && !workspace::glob_match(o.path_glob, path)) continue;
    const auto admitted = [&](DocId d) { return !o.kind || rank_[d].kind == *o.kind; };
    // A pytest node id's definition: its chunk (the chunk id's part after '#'), else the chunk of
    // the nearest enclosing name (a small class is one chunk with its methods).
    DocId pick = UINT32_MAX;
    for (std::string_view symbol = ref.symbol; !symbol.empty() && pick == UINT32_MAX;) {
      for (const DocId d : *ids) {
        const std::string_view id = id_text(docs_[d]);
        const std::size_t hash = id.rfind('#');
        if (docs_[d].alive && hash != std::string_view::npos && id.substr(hash + 1) == symbol)
          pick = d;
      }
      const std::size_t dot = symbol.rfind('.');
      symbol = dot == std::string_view::npos ? std::string_view() : symbol.substr(0, dot);
    }
    // With a line: the narrowest chunk holding it (else the last one starting before it);
    // without: the file's first chunk.
    const auto before = [&](DocId a, DocId b) {  // a is the better pick
      const Doc &x = docs_[a], &y = docs_[b];
      const std::uint32_t line = ref.line;
      if (line == 0) return x.start_line != y.start_line ? x.start_line < y.start_line : a < b;
      const auto holds = [line](const Doc& c) {
        return c.start_line <= static_cast<std::int64_t>(line) &&
               static_cast<std::int64_t>(line) <= c.end_line;
      };
      if (holds(x) != holds(y)) return holds(x);
      if (holds(x)) {
        const auto wx = x.end_line - x.start_line, wy = y.end_line - y.start_line;
        if (wx != wy) return wx < wy;
        return x.start_line != y.start_line ? x.start_line > y.start_line : a < b;
      }
      const bool bx = x.start_line <= static_cast<std::int64_t>(line),
                 by = y.start_line <= static_cast<std::int64_t>(line);
      if (bx != by) return bx;
      if (x.start_line != y.start_line)
        return bx ? x.start_line > y.start_line : x.start_line < y.start_line;
      return a < b;
    };
    if (pick != UINT32_MAX) {  // the node id's definition, if the kind filter admits it
      if (admitted(pick)) out.push_back(pick);
      continue;
    }
    for (const DocId d : *ids) {
      if (docs_[d].alive && admitted(d) && (pick == UINT32_MAX || before(d, pick))) pick = d;
    }
    if (pick != UINT32_MAX && !ref.function.empty() && ref.line > 0)
      pick = frame_function_chunk(*ids, pick, ref, o);
    if (pick != UINT32_MAX) out.push_back(pick);
  }
  return out;
}

InvertedIndex::DocId InvertedIndex::frame_function_chunk(const std::vector<DocId>& ids, DocId at,
                                                         const FileReference& ref,
                                                         const SearchOptions& o) const {
  // The last part of a chunk's symbol (`decode` of `pkg/codec.py#JSONDecoder.decode`).
  const auto name_of = [&](DocId d) {
    std::string_view id = id_text(docs_[d]);
    id.remove_prefix(std::min(id.rfind('#') + 1, id.size()));
    const std::size_t dot = id.rfind('.');
    return dot == std::string_view::npos ? id : id.substr(dot + 1);
  };
  if (name_of(at) == ref.function) return at;
  // The file's chunks of that name, the nearest the line first (then the earlier one).
  const auto line = static_cast<std::int64_t>(ref.line);
  const auto distance = [&](DocId d) {
    const Doc& c = docs_[d];
    return line < c.start_line ? c.start_line - line : line > c.end_line ? line - c.end_line : 0;
  };
  DocId named = UINT32_MAX;
  for (const DocId d : ids) {
    if (!docs_[d].alive || (o.kind && rank_[d].kind != *o.kind) || name_of(d) != ref.function)
      continue;
    if (named == UINT32_MAX || distance(d) < distance(named) ||
        (distance(d) == distance(named) && docs_[d].start_line < docs_[named].start_line))
      named = d;
  }
  if (named == UINT32_MAX || !o.chunk_text) return at;
  // The chunk at the line may still define it (a method of a class kept as one chunk): its text
  // tells. Unreadable: the line's chunk stays.
  const Doc& doc = docs_[at];
  const auto text =
      o.chunk_text({path_text(doc), doc.start_line, doc.end_line, doc.offset, doc.bytes});
  if (!text) return at;
  for (const std::string_view opener : {"def ", "class "}) {
    const std::string decl = std::string(opener) + ref.function;
    for (std::size_t p = text->find(decl); p != std::string::npos; p = text->find(decl, p + 1)) {
      const std::size_t end = p + decl.size();
      if (end < text->size() && (text->at(end) == '(' || text->at(end) == ':' ||
                                 text->at(end) == '[' || text->at(end) == ' '))
        return at;
    }
  }
  return named;
}

Result<SearchResult> InvertedIndex::search(const SearchOptions& o) const {
  std::string q = trim_copy(o.query);
  if (q.size() < 2) {
    return make_error(
        Errc::kInvalidArgument,
        q.empty() ? "query is empty" : "query is too short (one character); use at least 2");
  }
  if (o.limit == 0 || o.limit > kMaxLimit) {
    return make_error(Errc::kInvalidArgument,
                      "limit must be between 1 and " + std::to_string(kMaxLimit));
  }
  const std::uint32_t sig = o.signals;
  SearchResult r;
  // A pasted error line (ranking.hpp, rank-21): `pkg.mod.SomeError: message` is searched as
  // `SomeError: message` — the module that defines the exception is not what is asked for.
  if (sig & kSignalErrorLine) {
    if (std::optional<std::string> bare = error_line_without_module(q)) q = std::move(*bare);
  }
  // File named (ranking.hpp, rank-16): the chunks of the files the query names, pinned above the
  // page at the end. A misspelt file name is searched as the name it corrects to, words included.
  std::vector<DocId> pinned;
  if (sig & kSignalFileNamed) {
    std::optional<Correction> fixed;
    pinned = named_chunks(q, o, &fixed);
    if (fixed && !pinned.empty()) {
      q.replace(q.rfind(fixed->from), fixed->from.size(), fixed->to);
      r.corrected.push_back(std::move(*fixed));
    }
  }
  // A file reference's extension (`py` of `retry.py`, `md` of `README.md`) is no search word: it
  // is in the path of every chunk of its kind, so it scored them all for nothing, and a name no
  // file has (`xyzzyq.py`) gave a page of chunks that matched only `py`. Kept when nothing else
  // is left to search (`a.py`).
  std::vector<QueryTerm> qterms;
  if (sig & kSignalFileNamed) {
    if (const std::optional<FileReference> ref = file_reference(q)) {
      const std::string_view name = file_name_of(ref->path);
      const std::size_t dot = name.rfind('.');
      const std::size_t at = q.rfind(name);
      if (dot != std::string_view::npos && at != std::string::npos &&
          kind_of(name) != ChunkKind::kOther) {
        std::string bare = q;
        bare.erase(at + dot, name.size() - dot);
        qterms = parse_query(bare, (sig & kSignalStopWords) != 0);
        if (!qterms.empty()) q = std::move(bare);
      }
    }
  }
  if (qterms.empty()) qterms = parse_query(q, (sig & kSignalStopWords) != 0);
  for (const auto& t : qterms) r.terms.push_back(t.text);
  if (r.terms.empty()) {
    return make_error(
        Errc::kInvalidArgument,
        "query has no searchable terms (terms are words of at least 2 letters or digits)");
  }
  // Compound identifiers the query spells out (ranking.hpp compound_candidates): the indexed
  // ones are extra terms after the query's own, scored at kCompoundWeight; not listed in `terms`.
  const std::size_t own_terms = qterms.size();
  std::vector<std::string> own_stems;
  for (const QueryTerm& t : qterms) own_stems.push_back(stem(t.text));
  std::vector<std::string> compound_from;
  std::vector<double> compound_weight;
  // The query's terms so far (a hash set: a pasted text has thousands of terms and candidates).
  std::unordered_set<std::string> asked_terms;
  for (const QueryTerm& t : qterms) asked_terms.insert(t.text);
  const auto asked_already = [&](const std::string& text) { return asked_terms.contains(text); };
  if (sig & kSignalCompound) {
    for (auto& c : compound_candidates(q)) {
      if (asked_already(c.text)) continue;
      if (term_id(c.text) == IdTable::kNone) continue;
      asked_terms.insert(c.text);
      qterms.push_back({std::move(c.text), true, true});
      std::replace(c.from.begin(), c.from.end(), ' ', '+');
      compound_from.push_back(std::move(c.from));
      compound_weight.push_back(kCompoundWeight);
    }
  }
  // Module pieces (ranking.hpp module_splits): a query word with the stem of one piece of a
  // module's name — the piece not common, the other piece an indexed word too, and no other
  // module named with that piece — adds the module's name as an extra term (`servers` →
  // socketserver), after the compounds.
  if (sig & kSignalModulePiece) {
    for (std::size_t k = 0; k < own_terms; ++k) {
      if (qterms[k].exact || qterms[k].text.size() < 3) continue;
      const auto it = module_pieces_.find(own_stems[k]);
      if (it == module_pieces_.end()) continue;
      std::uint32_t named = UINT32_MAX;  // the one module the piece names
      bool several = false;
      for (const ModulePiece& mp : it->second) {
        if (mp.module == named) continue;  // another cut of the same name
        const std::string& word = module_words_[mp.module];
        const std::string_view head = std::string_view(word).substr(0, mp.cut);
        const std::string_view tail = std::string_view(word).substr(mp.cut);
        const std::uint32_t piece = term_id(mp.tail ? tail : head);
        if (piece == IdTable::kNone || term_id(mp.tail ? head : tail) == IdTable::kNone) continue;
        if (static_cast<double>(live_df(piece)) >
            kModulePieceMaxShare * static_cast<double>(alive_))
          continue;
        if (term_id(word) == IdTable::kNone) continue;
        const auto& docs = module_docs_[mp.module];
        if (std::none_of(docs.begin(), docs.end(), [&](DocId d) { return docs_[d].alive; }))
          continue;
        several = named != UINT32_MAX;
        if (several) break;
        named = mp.module;
      }
      if (named == UINT32_MAX || several || asked_already(module_words_[named])) continue;
      compound_from.push_back(qterms[k].text);
      compound_weight.push_back(kModulePieceWeight);
      asked_terms.insert(module_words_[named]);
      qterms.push_back({module_words_[named], true, true});
    }
  }
  // The length normalisation: the index's table, unless a bulk build changed the averages since.
  std::unique_ptr<NormTable> own_norms;
  if (const FieldAverages avg = field_averages(total_len_, alive_); avg != norm_avg_) {
    own_norms = std::make_unique<NormTable>(norm_table(avg));
  }
  const NormTable& norms = own_norms ? *own_norms : norms_;
  const double n = static_cast<double>(alive_);
  const ScratchLease scratch(docs_.size());
  std::vector<double>& scores = scratch->scores;
  std::vector<std::uint8_t>& name_hit = scratch->name_hit;  // written only with kSignalDefinition
  const bool definition_signal = (sig & kSignalDefinition) != 0;
  DocList& touched = scratch->touched;
  std::vector<Posting>& kept = scratch->kept;
  // Query terms the index lacks and their suggestions (suggest: computed once per term, for the
  // typo correction and for did_you_mean).
  std::vector<std::pair<std::string, std::optional<std::vector<std::string>>>> missing;
  std::size_t lookups = 0;  // suggest() calls: at most kTypoMaxLookups (ranking.hpp)
  // Per query term: the indexed terms it matches (itself, its stem variants, or a correction).
  // df = their live postings (union). In the steady state (no tail, no dead chunk in the frozen
  // lists) a single term's df is the stored count and its postings are scored as they are
  // decoded; otherwise the live postings are collected (and merged) first.
  const bool direct = tail_.empty() && !frozen_has_dead_;
  const bool skip_dead = frozen_has_dead_;  // not direct: postings of dead chunks to skip
  const std::size_t nt = qterms.size();
  std::vector<std::vector<std::uint32_t>> ids(nt);
  std::vector<std::string> shown(nt);  // the term as explain names it
  std::vector<double> weight(nt, 1.0);
  std::vector<std::string> stems(nt);
  std::vector<std::vector<Posting>>& lists = scratch->lists;  // empty lists
  if (lists.size() < nt) lists.resize(nt);
  std::vector<Posting>& tmp = scratch->tmp;
  // Per term, its indexed terms' summed live dfs (the union's df, or more when variants share
  // chunks): the same whether the variants are deferred or collected. From the stored counts in
  // the steady state (below), else recorded by `collect` from the lists it reads anyway.
  std::vector<std::size_t> variant_postings(nt, 0);
  // A term whose expansion is a stem group (group_list): its members' summed counts, which order
  // the terms as when the members were merged here (0: not a group).
  std::vector<std::size_t> member_postings(nt, 0);
  // Collect the live postings of query term k into lists[k]: one indexed term's, or its stem
  // variants' merged.
  const auto collect = [&](std::size_t k) {
    auto& list = lists[k];
    if (ids[k].size() == 1) {
      live_postings(ids[k][0], list);
      variant_postings[k] = list.size();
      return;
    }
    variant_postings[k] = 0;
    // Variants: their lists (each in document order) are merged one by one into `list`, the tfs
    // of a document present in several added per field (saturating at 255, which makes the order
    // of the merges irrelevant to the result). Sequential: on four stdlib copies a dense
    // per-document table missed the cache on nearly every posting. Shortest lists first, so the
    // longest (`return` of `returns`, `returned`, …) is written once, not once per variant: from
    // a frozen list it is merged as it is decoded.
    std::vector<Posting>& merged = scratch->merged;
    std::vector<std::uint32_t> by_size = ids[k];
    std::stable_sort(by_size.begin(), by_size.end(), [&](std::uint32_t a, std::uint32_t b) {
      return frozen_.count(a) < frozen_.count(b);
    });
    for (const std::uint32_t t : by_size) {
      if (direct && !list.empty() && t == by_size.back()) {
        // The longest list is merged as it is decoded, not copied out first.
        variant_postings[k] += frozen_.count(t);
        merge_frozen(list, frozen_.bytes(t), frozen_.count(t), merged);
        break;
      }
      tmp.clear();
      if (direct) {
        tmp.resize(frozen_.count(t));
        Posting* out = tmp.data();
        const Posting* const out_end = out + tmp.size();
        for_each_posting(
            frozen_.bytes(t), [&](const Posting& p) __attribute__((always_inline)) {
              if (out != out_end) *out++ = p;  // the stored count is the list's (validated at load)
            });
        tmp.resize(static_cast<std::size_t>(out - tmp.data()));
      } else {
        live_postings(t, tmp);
      }
      variant_postings[k] += tmp.size();
      if (list.empty()) {
        list.swap(tmp);
        continue;
      }
      merged.resize(list.size() + tmp.size());
      Posting* out = merged.data();
      const Posting *a = list.data(), *b = tmp.data();
      const Posting *const a_end = a + list.size(), *const b_end = b + tmp.size();
      while (a != a_end && b != b_end) {
        if (a->doc < b->doc) {
          *out++ = *a++;
        } else if (b->doc < a->doc) {
          *out++ = *b++;
        } else {
          *out = *a++;
          add_tfs(*out++, *b++);
        }
      }
      out = std::copy(a, a_end, out);
      out = std::copy(b, b_end, out);
      merged.resize(static_cast<std::size_t>(out - merged.data()));
      list.swap(merged);
    }
  };
  std::vector<std::uint8_t> deferred(nt, 0);  // stem variants not yet collected (`settle`)
  // After an update: the frozen list of the group term k's variants make (empty: none).
  std::vector<std::string_view> group_bytes(nt);
  std::vector<std::uint32_t> group_count(nt, 0);  // its postings
  const auto grouped = [&](std::size_t k) { return !group_bytes[k].empty(); };
  // A single indexed term whose postings are streamed from its frozen list (`each_posting`), not
  // collected: every one in the steady state.
  std::vector<std::uint8_t> streamed(nt, 0);
  // An indexed term without live postings (the stored count is the live one in the steady state).
  const auto no_live_postings = [&](std::uint32_t t) {
    return direct ? frozen_.count(t) == 0 : !has_live_postings(t);
  };
  for (std::size_t k = 0; k < nt; ++k) {
    const QueryTerm& qt = qterms[k];
    shown[k] = qt.text;
    stems[k] = k < own_terms ? own_stems[k] : stem(qt.text);
    if ((sig & kSignalStemming) && !qt.exact && stemmable(qt.text)) {
      stem_variants(qt.text, stems[k], ids[k]);
    } else if (const auto id = term_id(qt.text); id != IdTable::kNone) {
      ids[k].push_back(id);
    }
    std::erase_if(ids[k], no_live_postings);
    if (k >= own_terms) {  // a compound or a module's name: indexed (checked above), maybe without
                           // live postings
      if (ids[k].empty()) continue;
      shown[k] = compound_from[k - own_terms] + "\u2192" + qt.text;
      weight[k] = compound_weight[k - own_terms];
    }
    if (ids[k].empty()) {
      missing.emplace_back(qt.text, std::nullopt);
      const bool digits = qt.text.find_first_not_of("0123456789") == std::string::npos;
      if ((sig & kSignalTypo) && !qt.exact && !qt.identifier && qt.text.size() >= 4 && !digits &&
          lookups < kTypoMaxLookups) {
        ++lookups;
        const std::vector<Suggestion> cands = suggestion_candidates(qt.text);
        missing.back().second = top_suggestions(cands, 5);
        if (const Suggestion* best = correction(qt.text, cands)) {
          // Searched as if typed right: the word and its stem variants, at kTypoWeight.
          const std::string s(term_text(best->id));
          stems[k] = stem(s);
          if ((sig & kSignalStemming) && stemmable(s)) {
            stem_variants(s, stems[k], ids[k]);
            std::erase_if(ids[k], no_live_postings);
          }
          if (ids[k].empty()) ids[k].push_back(best->id);
          shown[k] = qt.text + "\u2192" + s;  // `lenght→length~lengths`
          for (const std::uint32_t t : ids[k]) {
            if (t != best->id) (shown[k] += '~') += term_text(t);
          }
          weight[k] = kTypoWeight;
          r.corrected.push_back({qt.text, s});
        }
      }
      if (ids[k].empty()) continue;
    }
    if (shown[k] == qt.text &&
        (ids[k].size() > 1 || term_text(ids[k][0]) != qt.text)) {  // not a compound or a correction
      for (std::size_t v = 0; v < ids[k].size(); ++v) {
        const std::string_view x = term_text(ids[k][v]);
        if (x != qt.text) (shown[k] += '~') += x;
      }
    }
    // An expansion that is exactly a stem group's members: the group's list, merged when the
    // index was built (the same postings and tfs as merging them here).
    if (direct && ids[k].size() >= 2 && !o.merge_variants) {
      if (const std::uint32_t g = group_list(ids[k]); g != IdTable::kNone) {
        for (const std::uint32_t t : ids[k]) member_postings[k] += frozen_.count(t);
        ids[k].assign(1, g);
      }
    }
    // After an update (not `direct`), a common term (one with a document set) is streamed too,
    // past the dead chunks (`each_posting`); a rarer one's list is short, and collected: its live
    // count would cost a read of its list of its own.
    if (ids[k].size() == 1 && (direct || find_set(ids[k][0]) != nullptr)) {
      streamed[k] = 1;
      continue;
    }
    // After an update, an expansion that is exactly the members of a group of the last freeze —
    // kept (no word added since) or set aside (drop_groups) — streams that group's list like a
    // single term's (its frozen lists are those the group merged), when one of its words is
    // common (has a set).
    if (!direct && !o.explain && !o.merge_variants &&
        std::any_of(ids[k].begin(), ids[k].end(),
                    [&](std::uint32_t t) { return find_set(t) != nullptr; })) {
      if (const std::uint32_t g = group_list(ids[k]); g != IdTable::kNone) {
        group_bytes[k] = frozen_.bytes(g);
        group_count[k] = frozen_.count(g);
        continue;
      }
      const StaleGroups& old = stale_groups_;
      if (const std::size_t g =
              find_group(old.members, old.start, ids[k].data(), ids[k].data() + ids[k].size());
          g != SIZE_MAX) {
        group_bytes[k] = old.lists.list(g);
        group_count[k] = old.lists.counts[g];
        continue;
      }
    }
    // Stem variants of a steady-state index stay encoded here: a pruned search streams long ones
    // (below); anything else collects them when it first needs them (`settle`).
    if (direct && !o.explain) {
      deferred[k] = 1;
      continue;
    }
    collect(k);
  }
  // After an update (the index not steady), a single indexed term's postings and a group's (above)
  // are streamed from their frozen list: the dead chunks' postings are skipped on the way (a bit
  // test each), and the term's tail postings (its variants' merged, for a group), whose chunks
  // all come after the frozen ones, follow — the live postings in document order, as
  // `live_postings` and `collect` would copy them out (on four stdlib copies those copies cost a
  // 30-word question about a third of its time after an edit). tail_lists[k]: term k's tail.
  std::vector<std::vector<Posting>> tail_lists(direct ? 0 : nt);
  std::vector<std::size_t> group_tail_postings(nt, 0);  // a group's tail postings before merging
  if (!direct && !tail_.empty()) {
    // The part sorted by term searched per term, the rest (up to kTailSortAt) read once.
    std::unordered_map<std::uint32_t, std::vector<std::size_t>> wanted;  // indexed term → k
    for (std::size_t k = 0; k < nt; ++k) {
      if (streamed[k] || grouped(k)) {
        for (const std::uint32_t t : ids[k]) wanted[t].push_back(k);
      }
    }
    const auto add = [&](const TailPosting& e, const std::vector<std::size_t>& to) {
      if (!docs_[e.p.doc].alive) return;
      for (const std::size_t k : to) tail_lists[k].push_back(e.p);
    };
    for (const auto& entry : wanted) {
      const std::vector<std::size_t>& to = entry.second;
      for_each_sorted_tail(entry.first, [&](const TailPosting& e) { add(e, to); });
    }
    const TailPosting* const end = tail_.data() + tail_.size();
    for (const TailPosting* e = tail_.data() + tail_sorted_; e != end; ++e) {
      if (const auto it = wanted.find(e->term); it != wanted.end()) add(*e, it->second);
    }
    for (std::size_t k = 0; k < nt; ++k) {
      if (!grouped(k) || tail_lists[k].empty()) continue;
      // The variants' tail postings as one list: by chunk, the tfs of a chunk several variants
      // hold added (saturating, as `collect` merges them).
      group_tail_postings[k] = tail_lists[k].size();
      merge_by_doc(tail_lists[k]);
    }
  }
  // A group's live chunks (its df): its list's count, less the dead chunks any variant's frozen
  // list holds (a variant with a document set tells by bit tests; one without has a short list,
  // read once), plus its merged tail's. `postings`: its variants' live postings summed (what
  // `collect` counts to order the terms).
  std::vector<DocId> dead;  // frozen_dead_ sorted, for group_df
  const auto group_df = [&](std::size_t k, std::size_t& postings) {
    std::uint32_t df =
        group_count[k] + static_cast<std::uint32_t>(tail_lists.empty() ? 0 : tail_lists[k].size());
    postings = group_tail_postings[k];
    if (dead.empty() && !frozen_dead_.empty()) {  // sorted once a search
      dead = frozen_dead_;
      std::sort(dead.begin(), dead.end());
    }
    std::vector<std::uint8_t> held(dead.size(), 0);
    for (const std::uint32_t t : ids[k]) {
      if (const DocSet* set = find_set(t)) {
        const std::uint64_t* words = doc_sets_.data() + set->words;
        std::size_t in = 0;
        for (std::size_t i = 0; i < dead.size(); ++i) {
          const bool h = has_bit(words, dead[i]);
          held[i] |= h ? 1 : 0;
          in += h ? 1 : 0;
        }
        postings += frozen_.count(t) - in;
        continue;
      }
      if (!skip_dead) {
        postings += frozen_.count(t);
        continue;
      }
      for_each_posting(frozen_.bytes(t), [&](const Posting& p) {
        if (!frozen_dead(p.doc)) {
          ++postings;
          return;
        }
        held[static_cast<std::size_t>(std::lower_bound(dead.begin(), dead.end(), p.doc) -
                                      dead.begin())] = 1;
      });
    }
    for (const std::uint8_t h : held) df -= h;
    return df;
  };
  // idfs[k]: the weighted idf of term k's df, the number of chunks it matches. A deferred term's
  // df (its variants' union) is not known until its lists are read: until then idfs[k] is the
  // idf of its most frequent variant's df, an upper bound (idf falls as df grows).
  std::vector<double> idfs(nt, 0.0);
  std::vector<std::size_t> active;  // the terms with postings, in query order
  for (std::size_t k = 0; k < nt; ++k) {
    if (ids[k].empty()) continue;
    std::uint32_t df = 0;
    if (direct) {  // the stored counts are the live ones (what `collect` counts there too)
      variant_postings[k] = member_postings[k];
      if (member_postings[k] == 0) {
        for (const std::uint32_t t : ids[k]) variant_postings[k] += frozen_.count(t);
      }
    }
    if (deferred[k]) {
      for (const std::uint32_t t : ids[k]) df = std::max(df, frozen_.count(t));
    } else if (streamed[k]) {
      df = direct ? frozen_.count(ids[k][0]) : live_df(ids[k][0]);
      if (!direct) variant_postings[k] = df;  // what `collect` would have counted
    } else if (grouped(k)) {                  // streamed too
      df = group_df(k, variant_postings[k]);
    } else {
      df = static_cast<std::uint32_t>(lists[k].size());
    }
    idfs[k] = bm25_idf(n, static_cast<double>(df)) * weight[k];
    active.push_back(k);
  }
  // The order every chunk's term contributions are added in, pruned or not (floating-point sums
  // depend on it): rarest first, by the idf of each term's summed variant dfs (at most its exact
  // idf, so a deferred term's long lists stay at the end as when the union is known), ties in
  // query order. Pruning scores terms in this order too, so its partial sums are always a
  // prefix of the final ones: they are kept, never recomputed. The key is known before any
  // deferred list is read, and is the same in the steady and the tail state.
  std::vector<std::size_t> order = active;
  {
    std::vector<double> key(nt, 0.0);
    for (const std::size_t k : active)
      key[k] = bm25_idf(n, std::min(static_cast<double>(variant_postings[k]), n)) * weight[k];
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return key[a] > key[b]; });
  }
  // The term cap (ranking.hpp kMaxScoredTerms): the first kMaxScoredTerms of that order, the most
  // selective, are kept; the rest are dropped before anything is scored.
  if ((sig & kSignalTermCap) && order.size() > kMaxScoredTerms) {
    std::vector<std::uint8_t> dropped(nt, 0);
    for (std::size_t i = kMaxScoredTerms; i < order.size(); ++i) {
      const std::size_t k = order[i];
      dropped[k] = 1;
      ids[k].clear();
      lists[k].clear();
      deferred[k] = 0;
      group_bytes[k] = {};
    }
    order.resize(kMaxScoredTerms);
    std::erase_if(active, [&](std::size_t k) { return dropped[k] != 0; });
    for (std::size_t k = 0; k < own_terms; ++k) {
      if (!dropped[k]) continue;
      r.unscored.push_back(qterms[k].text);
      std::erase_if(r.corrected, [&](const Correction& c) { return c.from == qterms[k].text; });
    }
  }
  // A deferred term's df: its variants' lists read, the union counted with stamps (`first`:
  // 1 the first time chunk d is seen under `mark`).
  std::vector<std::uint32_t>& stamp = scratch->stamp;
  const auto first = [&](DocId d, std::uint32_t mark) -> std::uint32_t {
    const bool fresh = stamp[d] != mark;
    stamp[d] = mark;
    return fresh ? 1 : 0;
  };
  const auto union_df = [&](std::size_t k) {
    const std::uint32_t mark = scratch->next_epoch();
    std::uint32_t df = 0;
    for (const std::uint32_t t : ids[k]) {
      for_each_posting(frozen_.bytes(t), [&](const Posting& p) { df += first(p.doc, mark); });
    }
    return df;
  };
  std::vector<std::uint8_t> exact_df(nt, 0);  // a deferred term whose idf is exact already
  // Collect a deferred term's variants, which fixes its idf.
  const auto settle = [&](std::size_t k) {
    if (!deferred[k]) return;
    collect(k);
    idfs[k] = bm25_idf(n, static_cast<double>(lists[k].size())) * weight[k];
    deferred[k] = 0;
  };
  // The postings of a term streamed after an update, past the dead chunks and then its tail.
  // Not inlined: each_posting stays as small as in the steady state, where GCC inlines the
  // list walk into the score loop (inlined here too, it did not: +1.5 % instructions for long
  // queries on the stdlib).
  const auto each_edited_posting = [&](std::size_t k, auto&& fn) __attribute__((noinline)) {
    const std::string_view bytes = grouped(k) ? group_bytes[k] : frozen_.bytes(ids[k][0]);
    if (skip_dead) {
      for_each_posting(bytes, [&](const Posting& p) {
        if (!frozen_dead(p.doc)) fn(p);
      });
    } else {
      for_each_posting(bytes, fn);
    }
    for (const Posting& p : tail_lists[k]) fn(p);
  };
  const auto each_posting = [&](std::size_t k, auto&& fn) {
    if (streamed[k] && direct) {
      for_each_posting(frozen_.bytes(ids[k][0]), fn);
    } else if (!streamed[k] && !grouped(k)) {
      for (const auto& p : lists[k]) fn(p);
    } else {
      each_edited_posting(k, fn);
    }
  };
  const bool no_doc = !(sig & kSignalDocField);  // ablation: the doc field counts nothing
  // The tfs a posting counts with (the doc field's zeroed when ablated); false when only the
  // ablated field matched.
  const auto counted = [&](const Posting& p, FieldTfs& tf) {
    tf = p.tf;
    if (!no_doc) return true;
    tf[kFieldDoc] = 0;
    return tf != FieldTfs{};
  };
  // The query's terms as bits of the coverage masks (file and prose coverage, ranking.hpp): bit b
  // stands for active[b], the first 64 active terms, weighted by its idf (bit_idf, filled once
  // every idf is exact: after scoring). `idf_share(m, bits)`: the share of the idf of the first
  // `bits` terms that the mask `m` holds.
  std::vector<int> term_bit(nt, -1);
  std::vector<double> bit_idf;
  std::size_t bit_count = 0;
  if (((sig & kSignalFileCoverage) || (sig & kSignalProseCoverage)) && active.size() >= 2) {
    for (const std::size_t k : active) {
      if (bit_count == 64) break;
      term_bit[k] = static_cast<int>(bit_count++);
    }
  }
  const auto idf_total = [&](std::size_t bits) {  // summed in term order, like idf_share
    double total = 0.0;
    for (std::size_t b = 0; b < bits && b < bit_idf.size(); ++b) total += bit_idf[b];
    return total;
  };
  const auto idf_share = [&](std::uint64_t m, std::size_t bits, double total) {
    double got = 0.0;
    for (std::size_t b = 0; b < bits && b < bit_idf.size(); ++b) {
      if (m & (std::uint64_t{1} << b)) got += bit_idf[b];
    }
    return got / total;
  };
  // Prose coverage: per chunk, which of the first 32 of those terms its name, sig or doc field
  // holds; recorded as the chunk is scored, applied to the page's candidates.
  const bool prose_signal = (sig & kSignalProseCoverage) && bit_count > 0;
  double prose_total = 0.0;  // idf_total(32), once the idfs are exact
  std::vector<std::uint32_t>& prose_terms = scratch->prose_terms;
  const auto prose_of = [&](DocId d) {  // prose_coverage_factor of d (1: signal off)
    return prose_signal ? prose_coverage_factor(idf_share(prose_terms[d], 32, prose_total)) : 1.0;
  };
  // Priors (ranking.hpp): which path classes the query asks for, which module names it names.
  std::uint8_t asked = 0;
  std::vector<std::uint32_t> modules;
  for (std::size_t k = 0; k < nt; ++k) {
    for (const PathClass c :
         {kPathTest, kPathAsset, kPathGenerated, kPathNeverCode, kPathVendored}) {
      if (asks_for(c, stems[k]) || asks_for(c, qterms[k].text)) asked |= c;
    }
    if (const auto it = module_ids_.find(stems[k]); it != module_ids_.end())
      modules.push_back(it->second);
  }
  // Module phrases (ranking.hpp, rank-8): adjacent query words spelling a module name of several
  // words name it too ("status codes" → status_codes.py).
  if ((sig & kSignalModulePhrase) && !module_phrases_.empty()) {
    for (const std::string& phrase : query_phrases(q)) {
      const auto it = module_phrases_.find(phrase);
      if (it == module_phrases_.end()) continue;
      for (const std::uint32_t m : it->second) {
        if (std::find(modules.begin(), modules.end(), m) == modules.end()) modules.push_back(m);
      }
    }
  }
  if (!o.path_glob.empty()) asked |= kPathNeverCode;  // a path glob that reaches them shows them
  // File coverage (ranking.hpp): per file, which of the first 64 active terms any chunk of it
  // matches; filled while the terms are scored in full (pruned or not, every posting is read),
  // applied to the page's candidates after the priors (`coverage_of`).
  std::vector<std::uint64_t>& file_terms = scratch->file_terms;  // empty: the signal is off
  double cover_total = 0.0;  // idf_total(64), once the idfs are exact
  if ((sig & kSignalFileCoverage) && bit_count > 0) file_terms.assign(file_count_, 0);
  // cover_bit[k]: term k's bit in file_terms (0: not recorded).
  std::vector<std::uint64_t> cover_bit(nt, 0);
  if (!file_terms.empty()) {
    for (std::size_t k = 0; k < nt; ++k)
      cover_bit[k] = term_bit[k] >= 0 ? std::uint64_t{1} << term_bit[k] : 0;
  }
  const auto cover = [&](std::size_t k, const Posting& p) {
    if (cover_bit[k] == 0) return;
    if (no_doc) {
      FieldTfs tf;
      if (!counted(p, tf)) return;
    }
    file_terms[doc_file_[p.doc]] |= cover_bit[k];
  };
  const auto coverage_of = [&](DocId d) {  // file_coverage_factor of d's file (1: signal off)
    return file_terms.empty()
               ? 1.0
               : file_coverage_factor(idf_share(file_terms[doc_file_[d]], 64, cover_total));
  };
  // Term k's TermPass (its idf as it stands when made: make it after `settle`); with `covering`
  // it records file coverage too (`cover`).
  const auto pass_of = [&](std::size_t k, bool covering) {
    TermPass t;
    t.idf = idfs[k];
    t.scores = scores.data();
    t.lengths = lengths_.data();
    t.norms = &norms;
    t.name_hit = definition_signal ? name_hit.data() : nullptr;
    t.prose = prose_terms.data();
    t.prose_bit =
        prose_signal && term_bit[k] >= 0 && term_bit[k] < 32 ? std::uint32_t{1} << term_bit[k] : 0u;
    t.no_doc = no_doc;
    t.file_terms = file_terms.data();
    t.doc_file = doc_file_.data();
    t.cover_bit = covering ? cover_bit[k] : 0;
    t.list = &touched;
    t.seen = touched.data();
    t.seen_n = touched.size();
    t.seen_cap = touched.capacity();
    return t;
  };
  // Run `body(pass)` with term k's TermPass, made once for the loop the body runs.
  const auto with_pass = [&](std::size_t k, bool covering, auto&& body) {
    TermPass t = pass_of(k, covering);
    body(t);
    t.done();
  };
  // Score and cover every posting of term k, a batch behind its decoding: the chunks of the
  // batch just decoded have their field lengths, partial scores and file numbers prefetched
  // while the batch before it is scored, so those cache misses overlap with work instead of
  // stalling each posting in turn (on big trees the loop waits on memory more than it
  // computes). The postings are scored in list order as before: the same sums.
  double top_partial = 0.0;  // the largest partial score score_all has left
  const auto score_all = [&](std::size_t k) {
    TermPass t = pass_of(k, true);
    const bool covering = t.cover_bit != 0;
    if (variant_postings[k] * 8 >= docs_.size()) {
      // A dense list (an eighth of the chunks or more) walks the tables nearly in order, which
      // the hardware prefetches already: batching would only add work (measured: +5 %
      // instructions and no gain on "self return def none", four stdlib copies).
      each_posting(
          k, [&t](const Posting& p) __attribute__((always_inline)) { t(p); });
      t.done();
      top_partial = std::max(top_partial, t.top);
      return;
    }
    constexpr std::size_t kBatch = 32;
    std::array<Posting, 2 * kBatch> batches;  // the batch being filled, and the one before it
    Posting* filling = batches.data();
    Posting* waiting = batches.data() + kBatch;
    std::size_t held = 0, ready = 0;  // postings in `filling`, in `waiting`
    const auto hand_over = [&] {
      for (std::size_t j = 0; j < held; ++j) {
        const DocId d = filling[j].doc;
        __builtin_prefetch(&lengths_[d]);
        __builtin_prefetch(&scores[d], 1);
        if (covering) __builtin_prefetch(&doc_file_[d]);
      }
      for (std::size_t j = 0; j < ready; ++j) t(waiting[j]);
      std::swap(filling, waiting);
      ready = held;
      held = 0;
    };
    each_posting(k, [&](const Posting& p) {
      filling[held++] = p;
      if (held == kBatch) hand_over();
    });
    hand_over();
    for (std::size_t j = 0; j < ready; ++j) t(waiting[j]);
    t.done();
    top_partial = std::max(top_partial, t.top);
  };
  // The priors of `d` (ranking.hpp), in one fixed order: each factor that applies is handed to
  // `apply(factor, label)`, where `label()` builds its explain name (called only when explaining).
  // `prior` multiplies them into a score — for the tens of thousands of chunks a query ranks on
  // four stdlib copies, where building entries and strings per factor cost a fifth of a search —
  // and `explain_priors` also records one signal entry each: the same factors in the same order,
  // so the same score to the bit.
  const double test_factor = path_factor(kPathTest), asset_factor = path_factor(kPathAsset),
               generated_factor = path_factor(kPathGenerated),
               vendored_factor = path_factor(kPathVendored);
  const bool path_signal = (sig & kSignalPathPrior) != 0,
             module_signal = (sig & kSignalModuleName) != 0,
             centrality_signal = (sig & kSignalCentrality) != 0;
  const auto each_prior = [&](DocId d, auto&& apply) {
    const DocRank& doc = rank_[d];
    if (path_signal) {
      const std::uint8_t cls = doc.path_class & static_cast<std::uint8_t>(~asked);
      if (cls & kPathTest) apply(test_factor, [] { return std::string("test-file\u00d70.35"); });
      if (cls & kPathAsset)
        apply(asset_factor, [] { return std::string("static-asset\u00d70.3"); });
      if (cls & kPathGenerated)
        apply(generated_factor, [] { return std::string("generated\u00d70.5"); });
      if (cls & kPathVendored)
        apply(vendored_factor, [] { return std::string("vendored\u00d70.6"); });
    }
    const ChunkRole role = doc.role;
    if (definition_signal && name_hit[d] &&
        (role == ChunkRole::kFunction || role == ChunkRole::kClass || role == ChunkRole::kMethod)) {
      apply(kDefinitionBoost, [] { return std::string("definition\u00d71.3"); });
    }
    if (module_signal && doc.module != UINT32_MAX &&
        std::find(modules.begin(), modules.end(), doc.module) != modules.end()) {
      apply(kModuleBoost, [] { return std::string("module-name\u00d71.4"); });
    }
    if (centrality_signal && doc.centrality != 1.0f) {
      const double f = doc.centrality;
      apply(f, [f] { return "centrality\u00d7" + std::to_string(f).substr(0, 5); });
    }
  };
  const auto prior = [&](DocId d, double s) {
    each_prior(d, [&](double factor, const auto&) { s *= factor; });
    return s;
  };
  const auto explain_priors = [&](DocId d, double s, std::vector<TermContribution>& out) {
    each_prior(d, [&](double factor, const auto& label) {
      out.push_back({label(), "signal", 0, s * (factor - 1.0)});
      s *= factor;
    });
    return s;
  };
  // Whether a chunk passes the filters (kind, path glob, never-code hiding); `hidden` counts
  // those only the last one stopped. Without never-code chunks in the index (the default: they
  // are not indexed unless an `include` glob admits them) the hiding reads nothing: this runs for
  // every chunk a query's terms match, and a chunk's DocRank is a cache line of its own.
  const bool hide_never_code =
      (sig & kSignalPathPrior) && !(asked & kPathNeverCode) && never_code_docs_ > 0;
  const auto filtered = [&](DocId d, std::size_t& hidden_count) {
    if (o.kind && rank_[d].kind != *o.kind) return false;
    if (!o.path_glob.empty() && !workspace::glob_match(o.path_glob, path_text(docs_[d])))
      return false;
    if (hide_never_code && (rank_[d].path_class & kPathNeverCode)) {
      ++hidden_count;
      return false;
    }
    return true;
  };
  // Without any filter (the usual search) every chunk passes, and the test is inlined where it
  // runs per chunk: out of line, the calls alone were ~4 % of a 30-word question's instructions
  // on four stdlib copies (44,000 of them).
  const bool filtering = o.kind.has_value() || !o.path_glob.empty() || hide_never_code;
  const auto admit = [&](DocId d, std::size_t & hidden_count) __attribute__((always_inline)) {
    return !filtering || filtered(d, hidden_count);
  };
  std::size_t hidden = 0;
  // Document sets (build_doc_sets) stand in for the common terms' lists once the search prunes,
  // without filters (every chunk in the union of the lists is matched), without explain and the
  // doc-field ablation (a set holds every posting). sets[k]: the sets of term k's indexed terms
  // that have one (a stem group's rare variants have none: open[k] says there are such). After an
  // update (not `direct`) they describe the frozen lists as last frozen: a dead chunk's bit may
  // still be set and the chunks added since (from frozen_horizon_ on) have none. Pruning then
  // still reads them as bounds (a chunk may hold a term only where its bit is set), but for those
  // new chunks, which may hold any term; and where they stand in for the lists (`union_mode`), the
  // union drops the dead chunks and adds the terms' tail postings, which also give the new
  // chunks' tfs and file coverage.
  const bool use_sets = !o.explain && !no_doc && !o.kind && o.path_glob.empty() &&
                        !hide_never_code && !o.exhaustive && !set_of_.empty();
  std::vector<std::vector<const std::uint64_t*>> sets(nt);
  std::vector<std::uint8_t> open(nt, 0);
  for (const std::size_t k : use_sets ? active : std::vector<std::size_t>{}) {
    for (const std::uint32_t t : ids[k]) {
      if (const DocSet* s = find_set(t)) {
        sets[k].push_back(doc_sets_.data() + s->words);
      } else {
        open[k] = 1;
      }
    }
  }
  // Dynamic pruning (term-at-a-time MaxScore), exact: terms are scored in `order` (rarest
  // first: highest upper bound, score_term_bound of its idf) into partial scores, a lower bound
  // of each final score once its priors are applied. When the page's candidates — the `want`
  // best lower bounds among the chunks that pass the filters — all beat what a chunk not seen yet
  // could reach with the remaining terms alone (their bounds × the largest prior such a chunk can
  // have), the chunks seen so far, and those of files the query names as modules, are the only
  // ones that can reach the page: they keep their partial sums and get the remaining terms, in
  // the same order the unpruned loop adds them (the same sums, to the bit), and the rest are only
  // counted (`matched`, `hidden`). `error` on four stdlib copies matches 49,000 chunks; "json
  // decode error" scores ~2,000.
  const std::size_t want = (sig & kSignalDiversity) ? std::max(o.limit * 3, o.limit + 30) : o.limit;
  // pruned: keep[d] = 1 for the chunks scored in full, 2 for those only counted.
  std::vector<std::uint8_t>& keep = scratch->keep;
  // Pruning failed but its sums stand: the one term it left unscored (SIZE_MAX: none).
  std::size_t left_over = SIZE_MAX;
  // Pruned with its partial sums kept: the terms already scored (the final pass only covers them).
  std::vector<std::uint8_t> prefix_scored(nt, 0);
  bool pruned = false;
  std::size_t trimmed = 0;  // chunks with a partial score pruning stopped scoring (`scored`)
  // Bounds of a chunk's priors by its one-byte prior key (prior_key_) instead of its ranking
  // record: classes[c] for the key's high four bits — the demotions the query does not lift —
  // times `boosts` (those the query may grant the chunk) and a margin for rounding; levels[l]
  // the centrality level of its low four bits. Their product is at least what `prior(d, 1)` gives.
  // A demotion's factor is below 1 and the levels ascend: a block of chunks is bounded by the
  // demotions all of its chunks have and its highest level.
  struct KeyFactors {
    std::array<double, 16> classes, levels;
  };
  const auto key_factors = [&](double boosts) {
    KeyFactors f;
    for (unsigned c = 0; c < 16; ++c) {
      double x = boosts * (1.0 + 1e-9);
      for (std::size_t i = 0; i < kKeyClasses.size(); ++i) {
        if (path_signal && (c & 1u << i) && !(asked & kKeyClasses[i]))
          x *= path_factor(kKeyClasses[i]);
      }
      f.classes[c] = x;
      f.levels[c] = centrality_signal ? centrality_level(static_cast<int>(c)) : 1.0;
    }
    return f;
  };
  const double module_boost = module_signal && !modules.empty() ? kModuleBoost : 1.0;
  // One term, common (it has a document set) in the steady state, without filters (block-max,
  // exact): the set's words are blocks of 64 chunks, each bounded by its peak (the largest share
  // of the score a posting of the block gives without its idf, the definition boost included:
  // ranking.hpp peak_code) × the idf × the bound of the block's priors. The blocks are scored in
  // the order of their bounds, highest first, until the `want` best scores — final ones: one
  // term, and its priors applied — all beat the next block's bound; no chunk left unscored can
  // then be one of the `want` best candidates, which are all that coverage, the second chunk and
  // diversification look at (as with pruning below), so the page is the exhaustive one. The
  // chunks scored are `touched`, with their final scores; those below the `want`-th best are no
  // candidates; `matched` is the list's length. On four stdlib copies `self`
  // (120,672 chunks) scores 2,615 of them, `py` (every chunk) 4,416.
  bool blocked = false;
  double block_floor = 0.0;  // the `want`-th best score (0: fewer chunks matched)
  if (active.size() == 1 && use_sets && direct && !own_norms && set_avg_ == norm_avg_ &&
      !set_peaks_.empty() && streamed[active[0]] && ids[active[0]].size() == 1) {
    const std::size_t k = active[0];
    if (const DocSet* set = find_set(ids[k][0])) {
      blocked = true;
      const KeyFactors f = key_factors(module_boost);  // the definition boost is in the peaks
      const std::uint64_t* bits = doc_sets_.data() + set->words;
      const std::uint8_t* peaks = set_peaks_.data() + set->words;
      const double unit = idfs[k] * (1.0 + 1e-9) / (1.0 - 1e-9);
      // The bound of block w's priors: the demotions all of its 64 chunks' keys have, their
      // highest centrality level (a loop of fixed length over bytes, which the compiler
      // vectorises; the last word's chunks past the end count as undemoted and central).
      const auto block_priors = [&](std::size_t w) {
        std::uint8_t all = 0xFF, top = 0;
        const std::size_t lo = w * 64;
        if (lo + 64 <= prior_key_.size()) {
          const std::uint8_t* key = prior_key_.data() + lo;
          for (std::size_t i = 0; i < 64; ++i) {
            all &= key[i];
            top = std::max<std::uint8_t>(top, key[i] & 15u);
          }
        } else {
          all = 0;
          top = 15;
        }
        return f.classes[all >> 4] * f.levels[top];
      };
      // A heap of the blocks by their bound alone: blocks of equal bounds may come in any order
      // (the page is exact either way), and a pair's three-way comparison made the heap
      // several times dearer.
      const auto by_bound = [](const std::pair<double, std::uint32_t>& a,
                               const std::pair<double, std::uint32_t>& b) {
        return a.first < b.first;
      };
      std::vector<std::pair<double, std::uint32_t>>& blocks = scratch->blocks;
      blocks.clear();
      for (std::size_t w = 0; w < set_words_; ++w) {
        if (bits[w] != 0)
          blocks.emplace_back(peak_bound(peaks[w]) * unit * block_priors(w),
                              static_cast<std::uint32_t>(w));
      }
      std::make_heap(blocks.begin(), blocks.end(), by_bound);
      std::vector<double>& best = scratch->lower;  // a min-heap of the `want` best scores
      best.clear();
      with_pass(k, false, [&](TermPass& t) {
        while (!blocks.empty()) {
          if (best.size() == want && best.front() > blocks.front().first) break;
          const std::uint32_t w = blocks.front().second;
          std::pop_heap(blocks.begin(), blocks.end(), by_bound);
          blocks.pop_back();
          // Its chunks' postings: from the first, the set's rank at the word, on.
          for_set_postings(*set, set_ranks_[set->words + w],
                           static_cast<std::size_t>(std::popcount(bits[w])), [&](const Posting& p) {
                             t(p);
                             // No filter applies (use_sets): every chunk is a candidate, and
                             // its score final once its priors are applied.
                             scores[p.doc] = prior(p.doc, scores[p.doc]);
                             keep_best(best, want, scores[p.doc]);
                           });
        }
      });
      if (best.size() == want) block_floor = best.front();
    }
  }
  if (active.size() >= 2 && !o.exhaustive) {
    // An upper bound of chunk d's priors — at least what `prior(d, 1)` gives, with the module-name
    // and definition boosts the query may grant it and a margin for rounding — from its one-byte
    // prior key (key_factors): the 256 keys' bounds are computed once here. Pruning asks it first
    // and reads the record only for the chunks the bound cannot rule out.
    std::array<double, 256> key_bound;
    {
      const KeyFactors f = key_factors(module_boost * (definition_signal ? kDefinitionBoost : 1.0));
      for (unsigned k = 0; k < key_bound.size(); ++k)
        key_bound[k] = f.classes[k >> 4] * f.levels[k & 15u];
    }
    const auto prior_bound = [&](DocId d) { return key_bound[prior_key_[d]]; };
    // What the terms not yet scored could add at most (with the deferred terms' idf bounds).
    const std::vector<double> bound = idfs;
    double rest = 0.0;
    for (const std::size_t k : active) rest += score_term_bound(bound[k]);
    // The chunks of files the query names as modules (`csv.py` for "csv"), when there are few,
    // are scored in full whatever pruning decides: a chunk pruning never saw is then not one of
    // them, and the module-name boost leaves the bound for such chunks (× 1.4 less room for what
    // the remaining terms could add). Dead ones are skipped when they are marked.
    const double max_prior_seen = max_prior_factor(sig);  // a scored chunk's priors, at most
    double max_prior = max_prior_seen;  // the priors of a chunk pruning has not seen, at most
    std::size_t forced_docs = 0;
    if (module_signal && !modules.empty()) {
      for (const std::uint32_t m : modules) forced_docs += module_docs_[m].size();
      if (forced_docs <= std::max<std::size_t>(4096, docs_.size() / 64)) {
        max_prior = max_prior_factor(sig & ~kSignalModuleName);
      } else {
        forced_docs = 0;
      }
    }
    std::vector<double>& lower = scratch->lower;
    double page_floor = 0.0;  // the want-th best lower bound, when beaten() ranked them
    double done = 0.0;        // the bounds of the terms scored so far: no partial score exceeds it
    for (std::size_t i = 0; i + 1 < order.size(); ++i) {
      settle(order[i]);
      // File coverage is recorded on the way (order does not matter to it): the final pass then
      // need not read this term's postings again.
      score_all(order[i]);
      rest -= score_term_bound(bound[order[i]]);
      done += score_term_bound(bound[order[i]]);
      // No chunk's lower bound (partial × priors ≤ done × max_prior_seen) can beat what the rest
      // could add to a chunk not seen (rest × max_prior): the next term, without ranking the
      // chunks seen so far. Not on the last chance below, where a deferred term's exact idf may
      // still lower `rest`.
      const bool last_chance = i + 2 == order.size() && deferred[order.back()];
      if (!last_chance && rest * max_prior >= done * max_prior_seen * (1.0 + 1e-6)) continue;
      // Whether `want` admitted candidates' lower bounds beat what an unseen chunk could reach
      // (with margins for rounding). Only the chunks whose partial score could clear that bar
      // with the largest priors are ranked: most of the chunks seen score far below it. The
      // `want` best lower bounds are kept in a min-heap; once it is full, a chunk whose partial
      // score times the largest priors cannot beat its least is passed over without its priors
      // (on four stdlib copies "self return def none" ranks 68,756 chunks here).
      const auto beaten = [&] {
        const double bar = std::max(rest, 0.0) * max_prior * (1.0 + 1e-9) / (1.0 - 1e-9);
        const double cut = bar / (max_prior_seen * (1.0 + 1e-9));
        lower.clear();
        // No partial score above the cut: no chunk can enter the heap (the 30-word question on
        // four stdlib copies fails 8 of its 11 tries so, after up to 28,500 chunks each).
        if (top_partial <= cut) return false;
        std::size_t ignored = 0;
        double least = cut;  // a partial score at or below it cannot enter the heap
        for (const DocId d : touched) {
          if (scores[d] <= least) continue;  // partial × priors ≤ bar, or ≤ the heap's least
          if (!admit(d, ignored)) continue;
          // Full heap: a chunk whose partial score times its priors' bound cannot beat the
          // least is passed over without reading its ranking record.
          if (lower.size() == want && scores[d] * prior_bound(d) <= lower.front()) continue;
          if (!keep_best(lower, want, prior(d, scores[d]))) continue;
          if (lower.size() == want)
            least = std::max(cut, lower.front() / (max_prior_seen * (1.0 + 1e-9)));
        }
        if (lower.size() < want) return false;
        page_floor = lower.front();
        return page_floor > bar;
      };
      if (!beaten()) {
        // The last chance, with one term left: when it is deferred its bound may be loose (one
        // variant's df where the union's is larger), so count the union and try again.
        const std::size_t last = order.back();
        if (i + 2 != order.size() || !deferred[last]) continue;
        idfs[last] = bm25_idf(n, static_cast<double>(union_df(last))) * weight[last];
        exact_df[last] = 1;
        rest = score_term_bound(idfs[last]);
        if (!beaten()) continue;
      }
      pruned = scratch->keep_used = true;
      // A chunk with a partial score is kept, with it (the final pass adds the other terms),
      // unless even the rest added to it could not lift it to the `want`-th best lower bound:
      // (partial + rest) × max_prior_seen below `page_floor`, with the margins above. Such a
      // chunk is only counted, like one pruning never saw; its partial score stays in `scores`
      // (a candidate below the page, never on it). The files the query names as modules are
      // kept whole below.
      for (std::size_t j = 0; j <= i; ++j) prefix_scored[order[j]] = 1;
      const double reach = std::max(rest, 0.0) * (1.0 + 1e-9) / (1.0 - 1e-9);
      const double trim = page_floor / (max_prior_seen * (1.0 + 1e-9));
      // A chunk seen already has its priors fixed but for the definition boost, which a later
      // term may still earn it: its own bound (a test file's × 0.35, a chunk without the module
      // boost or centrality) replaces max_prior_seen, the bound of any chunk, where that can
      // tell. On four stdlib copies the pasted traceback keeps 2,066 of 44,136 chunks seen
      // instead of all, "self return def none" 2,172 of 68,756 instead of 25,104.
      // With document sets, a chunk's reach counts only the remaining terms it holds (and those
      // without sets, which it may hold): the traceback keeps 869 chunks.
      const double floor = page_floor / (1.0 + 1e-9);
      std::vector<std::size_t> rest_terms(order.begin() + static_cast<std::ptrdiff_t>(i + 1),
                                          order.end());
      // A remaining term's variants without a set whose lists are short (together at most an
      // eighth of the chunks seen: longer ones cost more to mark than they save) have their
      // chunks marked here, so that a chunk's reach counts the term only where it occurs. A rare
      // extra term — a compound, a module's name, a correction — sorts late by its weighted idf,
      // and its bound would otherwise be added to every chunk seen (on four stdlib copies `runs`
      // → runscript, 72 postings, doubled the 30-word question's kept chunks). short_bits[k]:
      // term k's marks (nullptr: not marked).
      std::vector<const std::uint64_t*> short_bits(nt, nullptr);
      if (use_sets) {
        std::size_t used = 0;
        for (const std::size_t k : rest_terms) {
          if (!open[k]) continue;  // every variant has a set: the sets tell
          std::size_t postings = 0;
          for (const std::uint32_t t : ids[k]) postings += find_set(t) ? 0 : frozen_.count(t);
          if (postings * 8 > touched.size()) continue;
          if (scratch->short_sets.size() <= used) scratch->short_sets.emplace_back();
          std::vector<std::uint64_t>& bits = scratch->short_sets[used++];
          bits.assign(set_words_, 0);
          for (const std::uint32_t t : ids[k]) {
            if (find_set(t)) continue;
            for_each_posting(frozen_.bytes(t),
                             [&](const Posting& p) { set_bit(bits.data(), p.doc); });
          }
          short_bits[k] = bits.data();
        }
      }
      const bool own_reach =
          use_sets && std::any_of(rest_terms.begin(), rest_terms.end(), [&](std::size_t k) {
            return !sets[k].empty() || short_bits[k] != nullptr;
          });
      // Whether the j-th remaining term may match chunk d: bit d of may[j] — its marks and sets
      // OR-ed into one bitmap once (one of them as it is; all ones for a term with a variant
      // that has neither a set nor marks, which may hold any chunk), so reach_of reads one bit a
      // term instead of walking each term's sets (on four stdlib copies the 30-word question
      // asks it for 44,116 chunks). For up to kReachTable terms the sum of the bounds of each
      // combination of terms is a table, added in rest_terms order as the loop adds them: the
      // same sums to the bit, stored with the rounding slack applied (one look-up a chunk, the
      // bits gathered by reach_mask).
      constexpr std::size_t kReachTable = 10;
      const std::size_t nrest = rest_terms.size();
      std::vector<const std::uint64_t*> may(nrest, nullptr);
      std::vector<double> rest_bound(nrest, 0.0);
      std::vector<double>& sum_of = scratch->reach_sums;  // by mask of the terms held
      sum_of.clear();
      if (own_reach) {
        // After an update the bitmaps cover every chunk, those added since the sets were built
        // (see use_sets) with every bit set: such a chunk may hold any remaining term.
        const std::size_t may_words = direct ? set_words_ : (docs_.size() + 63) / 64;
        std::vector<std::uint64_t>& ones = scratch->all_ones;
        ones.assign(std::max(set_words_, may_words), ~std::uint64_t{0});
        std::size_t used = 0;
        for (std::size_t j = 0; j < nrest; ++j) {
          const std::size_t k = rest_terms[j];
          rest_bound[j] = score_term_bound(idfs[k]);
          const std::size_t parts = (short_bits[k] ? 1 : 0) + sets[k].size();
          if (!short_bits[k] && open[k]) {
            may[j] = ones.data();
          } else if (parts == 1) {
            may[j] = short_bits[k] ? short_bits[k] : sets[k][0];
          } else {
            if (scratch->may_sets.size() <= used) scratch->may_sets.emplace_back();
            std::vector<std::uint64_t>& bits = scratch->may_sets[used++];
            bits.assign(set_words_, 0);
            if (short_bits[k]) {
              for (std::size_t w = 0; w < set_words_; ++w) bits[w] |= short_bits[k][w];
            }
            for (const std::uint64_t* set : sets[k]) {
              for (std::size_t w = 0; w < set_words_; ++w) bits[w] |= set[w];
            }
            may[j] = bits.data();
          }
          if (!direct && may[j] != ones.data()) {
            if (scratch->may_sets.size() <= used) scratch->may_sets.emplace_back();
            std::vector<std::uint64_t>& bits = scratch->may_sets[used++];
            bits.assign(std::max(set_words_, may_words), ~std::uint64_t{0});
            std::copy(may[j], may[j] + set_words_, bits.begin());
            if (const DocId h = frozen_horizon_; h % 64 != 0)
              bits[h / 64] |= ~((std::uint64_t{1} << (h % 64)) - 1);
            may[j] = bits.data();
          }
        }
        if (nrest <= kReachTable) {
          sum_of.assign(std::size_t{1} << nrest, 0.0);
          for (std::size_t m = 1; m < sum_of.size(); ++m) {
            const auto last = static_cast<std::size_t>(std::bit_width(m) - 1);  // added last
            sum_of[m] = sum_of[m & ~(std::size_t{1} << last)] + rest_bound[last];
          }
          // Stored as reach_of returns them, the slack applied: one look-up a chunk.
          for (double& sum : sum_of) sum = sum * (1.0 + 1e-9) / (1.0 - 1e-9);
        }
      }
      const auto reach_of = [
        mp = may.data(), rb = rest_bound.data(), sums = sum_of.empty() ? nullptr : sum_of.data(),
        nrest
      ](DocId d) __attribute__((always_inline)) {
        const std::size_t w = d / 64;
        const unsigned bit = d % 64;
        if (sums) return sums[reach_mask(mp, nrest, w, bit)];
        double sum = 0.0;
        for (std::size_t j = 0; j < nrest; ++j) {
          if ((mp[j][w] >> bit) & 1u) sum += rb[j];
        }
        return sum * (1.0 + 1e-9) / (1.0 - 1e-9);
      };
      // Whether chunk d may still reach the page (scored in full: keep 1) or is cut (keep 2).
      const auto may_reach = [&](DocId d) __attribute__((always_inline)) {
        if (scores[d] + reach < trim) return false;
        // The bound of its priors first, with every remaining term and then with those it may
        // hold: most chunks fall below the floor with it, and their ranking records are not read
        // (the prior key is 1 byte a chunk, the record 12; on four stdlib copies the 30-word
        // question read 44,116 records here without the bound, and keeps 673 chunks).
        // The tests after it decide exactly as without it: the bound is at least `own`.
        double its_reach = -1.0;  // reach_of(d), once computed
        const double b = prior_bound(d) * (1.0 + 1e-9);
        if ((scores[d] + reach) * b < floor) return false;
        if (own_reach && (scores[d] + (its_reach = reach_of(d))) * b < floor) return false;
        double own = prior(d, 1.0);
        if (definition_signal && !name_hit[d]) own *= kDefinitionBoost;
        if ((scores[d] + reach) * own * (1.0 + 1e-9) < floor) return false;
        if (own_reach && its_reach < 0.0) its_reach = reach_of(d);
        return !own_reach || (scores[d] + its_reach) * own * (1.0 + 1e-9) >= floor;
      };
      for (const DocId d : touched) {
        const bool kept_d = may_reach(d);
        keep[d] = kept_d ? 1 : 2;
        trimmed += kept_d ? 0 : 1;
      }
      if (forced_docs > 0) {
        for (const std::uint32_t m : modules) {
          for (const DocId d : module_docs_[m]) {
            if (!docs_[d].alive) continue;
            trimmed -= keep[d] == 2 ? 1 : 0;  // counted above (only chunks seen are marked 2)
            keep[d] = 1;
          }
        }
      }
      break;
    }
    // No prefix sufficed: every term but the last is scored, in `order`; scoring that one
    // completes every chunk's sum.
    if (!pruned) left_over = order.back();
  }
  std::size_t pruned_matched = 0;
  // Pruned with document sets: `matched` is the size of the union of the terms' chunks, a bit
  // set per chunk — the terms with sets add theirs whole, the others chunk by chunk, the chunks
  // scored (`touched`) at the end — instead of a first sight counted per posting. Those terms'
  // file coverage is looked up for the page's files only (below).
  const bool union_mode = pruned && use_sets;
  std::vector<std::uint64_t>& matched_set = scratch->matched_set;
  if (union_mode) matched_set.assign(std::max(set_words_, (docs_.size() + 63) / 64), 0);
  const DocId horizon = frozen_horizon_;  // the chunks the sets describe: below it
  // After an update: term k's tail postings in the union and file coverage (the sets hold none).
  const auto join_tail = [&](std::size_t k) {
    if (direct) return;
    for (const Posting& p : tail_lists[k]) {
      matched_set[p.doc / 64] |= std::uint64_t{1} << (p.doc % 64);
      cover(k, p);
    }
  };
  const auto join = [&](DocId d) { set_bit(matched_set.data(), d); };
  // After pruning: what every posting of term k does besides scoring (file coverage, and the
  // first sight of a chunk that cannot reach the page: counted in `matched`). Inlined into the
  // posting loops: with `admit` inlined into it, GCC left it out of line (+2.5 % instructions
  // for `json decode error` on four stdlib copies).
  const auto pass = [&](std::size_t k, const Posting& p) __attribute__((always_inline)) {
    cover(k, p);
    if (union_mode) {
      join(p.doc);
      return;
    }
    if (keep[p.doc] == 0) {
      keep[p.doc] = 2;
      if (admit(p.doc, hidden)) ++pruned_matched;
    }
  };
  // The kept chunks in ascending order, listed once per search for the streamed stem variants
  // (kept[j].tf are per term): a scan of `keep`, eight marks at a time (most are 0 or 2 by now,
  // so test for 1s), beats sorting the ones pruning chose.
  const auto list_kept = [&] {
    if (!kept.empty()) return;
    const std::size_t words = keep.size() / 8;
    for (std::size_t w = 0; w < words; ++w) {
      std::uint64_t x;
      std::memcpy(&x, keep.data() + w * 8, 8);
      if ((x & 0x0101010101010101ull) == 0) continue;  // marks are 0, 1 or 2: no 1 here
      for (std::size_t d = w * 8; d < w * 8 + 8; ++d) {
        if (keep[d] == 1) kept.push_back({static_cast<DocId>(d), {}});
      }
    }
    for (std::size_t d = words * 8; d < keep.size(); ++d) {
      if (keep[d] == 1) kept.push_back({static_cast<DocId>(d), {}});
    }
  };
  // Both loops score in `order`, so every chunk's sum is added up as the pruning prefix began it.
  if (blocked) {
    // Scored above, block by block.
  } else if (!pruned) {
    for (const std::size_t k : order) {
      if (left_over != SIZE_MAX && k != left_over)
        continue;  // scored and covered while trying to prune
      settle(k);
      score_all(k);
    }
  } else {
    for (const std::size_t k : order) {
      if (prefix_scored[k]) {
        // Scored and covered while pruning, and every chunk it gave a score is kept. Only with the
        // doc field ablated can a posting have left its chunk unscored: count those.
        if (no_doc) {
          each_posting(k, [&](const Posting& p) {
            if (keep[p.doc] != 1) pass(k, p);
          });
        }
        continue;
      }
      if (union_mode && !sets[k].empty() && (deferred[k] || ids[k].size() == 1 || grouped(k))) {
        // A term with sets: they give the union and a stem group's document frequency; its lists
        // are read only for the kept chunks' tfs, and its variants without a set (rare ones)
        // add their chunks to the group's set and to file coverage posting by posting.
        list_kept();
        // The kept chunks a set holds look their postings up (rank, then a skip entry: ~kSetSkip/2
        // postings stepped over, about the cost of decoding 16 postings of a list walk) when that
        // is cheaper than reading the list whole; both give the same tfs in the same order.
        const auto look_up = [&](const DocSet& set) {
          const std::uint64_t* bits = doc_sets_.data() + set.words;
          std::size_t held = 0;
          for (const Posting& e : kept) held += e.doc < horizon && has_bit(bits, e.doc) ? 1 : 0;
          return held * 16 < frozen_.count(set.term);
        };
        if (ids[k].size() == 1) {  // one indexed term, with its set
          for (std::size_t w = 0; w < set_words_; ++w) matched_set[w] |= sets[k][0][w];
          join_tail(k);
          if (const DocSet& set = *find_set(ids[k][0]); look_up(set)) {
            with_pass(k, false, [&](TermPass& t) {
              for (const Posting& e : kept) {
                if (e.doc < horizon && has_bit(sets[k][0], e.doc)) t(set_posting(set, e.doc));
              }
              if (direct) return;
              for (const Posting& p : tail_lists[k]) {  // the kept chunks added since
                if (keep[p.doc] == 1) t(p);
              }
            });
            continue;
          }
          with_pass(k, false, [&](TermPass& t) {
            each_posting(k, [&](const Posting& p) {
              if (keep[p.doc] == 1) t(p);
            });
          });
          continue;
        }
        // A stem group (deferred, or after an update `grouped`): its variants' sets and lists.
        std::vector<std::uint64_t>& group = scratch->group_set;
        group.assign(set_words_, 0);
        for (auto& e : kept) e.tf = {};
        for (const std::uint32_t t : ids[k]) {
          const DocSet* set = find_set(t);
          if (set && look_up(*set)) {
            const std::uint64_t* bits = doc_sets_.data() + set->words;
            for (Posting& e : kept) {
              if (e.doc < horizon && has_bit(bits, e.doc)) add_tfs(e, set_posting(*set, e.doc));
            }
            continue;
          }
          const bool unset = set == nullptr;
          std::size_t j = 0;
          for_each_posting(frozen_.bytes(t), [&](const Posting& p) {
            if (skip_dead && frozen_dead(p.doc)) return;  // not direct: dead since
            if (unset) {
              set_bit(group.data(), p.doc);
              cover(k, p);
            }
            if (keep[p.doc] != 1) return;
            while (kept[j].doc < p.doc) ++j;  // p.doc is kept, so it is there
            add_tfs(kept[j], p);
          });
        }
        std::uint32_t df = 0;
        for (std::size_t w = 0; w < set_words_; ++w) {
          std::uint64_t x = group[w];
          for (const std::uint64_t* set : sets[k]) x |= set[w];
          matched_set[w] |= x;
          df += static_cast<std::uint32_t>(std::popcount(x));
        }
        // After an update the group's df is exact already (group_df); the sets' union may
        // still hold dead chunks, dropped from the union at the end, and lacks the tail's.
        if (direct && !exact_df[k]) idfs[k] = bm25_idf(n, static_cast<double>(df)) * weight[k];
        if (!direct) {
          join_tail(k);
          std::size_t j = 0;
          for (const Posting& p : tail_lists[k]) {
            if (keep[p.doc] != 1) continue;
            while (kept[j].doc < p.doc) ++j;  // p.doc is kept, so it is there
            add_tfs(kept[j], p);
          }
        }
        deferred[k] = 0;
        with_pass(k, false, [&](TermPass& t) {
          for (const Posting& e : kept) {
            if (e.tf != FieldTfs{}) t(e);
          }
        });
        continue;
      }
      if (deferred[k]) {
        // Streaming costs a pass over the keep marks (below) and a stamp per posting: for short
        // lists collecting them is cheaper (`parser` + `parsers`, ~3,000 postings on four copies).
        if (variant_postings[k] * 16 < keep.size()) settle(k);
      }
      if (!deferred[k]) {
        with_pass(k, true, [&](TermPass& t) {  // it covers the kept chunks' postings too
          each_posting(k, [&](const Posting& p) {
            if (keep[p.doc] == 1) {
              t(p);
            } else {
              pass(k, p);
            }
          });
        });
        continue;
      }
      // Stem variants, streamed list by list instead of merged: the kept chunks (ascending, like
      // each list) sum their tfs per field (saturating at 255, as the merge does), the union is
      // counted with stamps for the df, and the kept chunks are scored once the idf is known —
      // still in `order`, so the sums are the exhaustive loop's to the bit. On four
      // stdlib copies `error` + `errors` are ~110,000 postings a merge would write per query.
      list_kept();
      for (auto& e : kept) e.tf = {};
      const std::uint32_t mark = scratch->next_epoch();
      const bool count = !exact_df[k];
      std::uint32_t df = 0;
      for (const std::uint32_t t : ids[k]) {
        std::size_t j = 0;
        for_each_posting(frozen_.bytes(t), [&](const Posting& p) {
          if (count) df += first(p.doc, mark);
          if (keep[p.doc] != 1) {
            pass(k, p);
            return;
          }
          cover(k, p);
          while (kept[j].doc < p.doc) ++j;  // p.doc is kept, so it is there
          add_tfs(kept[j], p);
        });
      }
      if (count) idfs[k] = bm25_idf(n, static_cast<double>(df)) * weight[k];
      deferred[k] = 0;
      with_pass(k, false, [&](TermPass& t) {
        for (const Posting& e : kept) {
          if (e.tf != FieldTfs{}) t(e);
        }
      });
    }
  }
  if (union_mode) {
    for (const DocId d : touched) join(d);
    // After an update: the dead chunks the sets still hold are no match.
    for (std::size_t w = 0; w < frozen_dead_bits_.size() && !direct; ++w)
      matched_set[w] &= ~frozen_dead_bits_[w];
  }
  for (const std::size_t k : active) {
    if (term_bit[k] >= 0) bit_idf.push_back(idfs[k]);
  }
  if (prose_signal) prose_total = idf_total(32);
  if (!file_terms.empty()) cover_total = idf_total(64);
  std::vector<DocId>& cands = scratch->cands;
  cands.reserve(touched.size());
  // The chunks pruning trimmed (keep 2 among those scored) only count: their partial score
  // times their priors stays below the `want`-th best lower bound, so they can be none of the
  // `want` best candidates that coverage, the second chunk and diversification look at.
  std::size_t trimmed_matched = 0;
  for (const DocId d : touched) {
    if (!admit(d, hidden)) continue;
    if (pruned && keep[d] == 2) {
      ++trimmed_matched;
      continue;
    }
    if (blocked) {
      // Final already; below the `want`-th best, a chunk can be none of the `want` best.
      if (scores[d] >= block_floor) cands.push_back(d);
      continue;
    }
    scores[d] = prior(d, scores[d]);
    cands.push_back(d);
  }
  if (union_mode) {
    std::size_t m = 0;
    for (const std::uint64_t w : matched_set) m += static_cast<std::size_t>(std::popcount(w));
    r.matched = m;  // no filter: every chunk in the union is a candidate or only counted
  } else if (blocked) {
    r.matched = frozen_.count(ids[active[0]][0]);  // steady, no filter: every chunk it holds
  } else {
    r.matched = cands.size() + trimmed_matched + pruned_matched;
  }
  r.scored = touched.size() - trimmed;
  auto tie = [&](DocId a, DocId b) {
    const Doc& x = docs_[a];
    const Doc& y = docs_[b];
    if (const int c = path_text(x).compare(path_text(y)); c != 0) return c < 0;
    if (x.start_line != y.start_line) return x.start_line < y.start_line;
    return id_text(x) < id_text(y);
  };
  auto better = [&](DocId a, DocId b) {
    if (scores[a] != scores[b]) return scores[a] > scores[b];
    return tie(a, b);
  };
  const std::size_t k = std::min(o.limit, cands.size());
  // Diversification looks further down than the page: a file's later chunks sink, others rise.
  const std::size_t depth =
      (sig & kSignalDiversity) ? std::min(cands.size(), std::max(k * 3, k + 30)) : k;
  // File coverage re-scores the `want` best candidates (or all when fewer) — the chunks pruning
  // guarantees, so the pruned and the exhaustive page stay identical — and re-sorts them; the
  // factor is ≥ 1 and bounded, so a chunk below them rarely would have reached the page.
  // Prose coverage and the second chunk (ranking.hpp, rank-6) re-score the same candidates, after.
  const bool second_signal = (sig & kSignalSecondChunk) && cands.size() > 1;
  std::vector<std::pair<DocId, double>> second_bonus;  // (a file's best chunk, what it gained)
  // Verbatim match (ranking.hpp, rank-15): the query's key, when it is long enough and every
  // query word is indexed (a word no chunk holds cannot be in a chunk's text either).
  const std::string verbatim =
      (sig & kSignalVerbatim) && o.chunk_text && missing.empty() && !cands.empty()
          ? verbatim_query(q)
          : std::string();
  const bool verbatim_signal = !verbatim.empty();
  std::vector<DocId> verbatim_hits;  // the window's candidates whose text holds it
  // Find them among the first `window` candidates. A chunk whose text holds the query holds each
  // of its words, so it is matched by every one of the query's own active terms (not by a
  // compound or a module's name the search added): only such a chunk is read. Its file is asked
  // first (file coverage, when it records every own term), then the chunk itself — a common
  // term's document set (after an update: for the chunks of the last freeze, the tail for those
  // added since), a rarer term's list (short) — for the few left.
  const auto find_verbatim = [&](std::size_t window) {
    std::vector<std::size_t> own;
    std::uint64_t own_bits = 0;
    bool recorded = !file_terms.empty();
    for (const std::size_t t : active) {
      if (t >= own_terms) continue;
      own.push_back(t);
      if (cover_bit[t] == 0) recorded = false;
      own_bits |= cover_bit[t];
    }
    std::vector<DocId> maybe;
    for (std::size_t i = 0; i < window; ++i) {
      const DocId d = cands[i];
      if (recorded && (file_terms[doc_file_[d]] & own_bits) != own_bits) continue;
      maybe.push_back(d);
    }
    std::sort(maybe.begin(), maybe.end());
    std::vector<std::uint8_t> hit(maybe.size());
    std::vector<Posting> live;
    for (const std::size_t t : own) {
      if (maybe.empty()) break;
      std::fill(hit.begin(), hit.end(), 0);
      for (const std::uint32_t id : ids[t]) {
        std::size_t j = 0;
        const auto mark = [&](const Posting& p) {
          while (j < maybe.size() && maybe[j] < p.doc) ++j;
          if (j < maybe.size() && maybe[j] == p.doc) hit[j] = 1;
        };
        if (const DocSet* set = find_set(id)) {
          // The set holds the term's chunks of the last freeze: a candidate below the horizon is
          // one of those (a live one: its postings are as frozen). After an update the chunks
          // added since hold the term only by a tail posting — not its whole live list copied
          // out (on four stdlib copies, 11 ms of "self return def none" right after an edit).
          const std::uint64_t* bits = doc_sets_.data() + set->words;
          for (std::size_t i = 0; i < maybe.size() && maybe[i] < horizon; ++i)
            hit[i] |= has_bit(bits, maybe[i]) ? 1 : 0;
          if (!maybe.empty() && maybe.back() >= horizon) {
            for_each_tail(id, mark);
          }
          continue;
        }
        if (direct) {
          for_each_posting(frozen_.bytes(id), mark);
        } else {
          live_postings(id, live);
          for (const Posting& p : live) mark(p);
        }
      }
      std::size_t left = 0;  // the candidates every term so far matches
      for (std::size_t j = 0; j < maybe.size(); ++j) {
        if (hit[j]) maybe[left++] = maybe[j];
      }
      maybe.resize(left);
      hit.resize(left);
    }
    // Read in the candidates' order, from at most kVerbatimFiles files (a query of words most
    // chunks hold, "self return def none", would read a file per candidate).
    std::vector<std::uint32_t> files_read;
    for (std::size_t i = 0; i < window && !maybe.empty(); ++i) {
      const DocId d = cands[i];
      if (!std::binary_search(maybe.begin(), maybe.end(), d)) continue;
      if (std::find(files_read.begin(), files_read.end(), doc_file_[d]) == files_read.end()) {
        if (files_read.size() == kVerbatimFiles) continue;
        files_read.push_back(doc_file_[d]);
      }
      const Doc& doc = docs_[d];
      const auto text =
          o.chunk_text({path_text(doc), doc.start_line, doc.end_line, doc.offset, doc.bytes});
      if (text && verbatim_key(*text).find(verbatim) != std::string::npos)
        verbatim_hits.push_back(d);
    }
  };
  const auto verbatim_of = [&](DocId d) {
    return std::find(verbatim_hits.begin(), verbatim_hits.end(), d) != verbatim_hits.end()
               ? kVerbatimBoost
               : 1.0;
  };
  // Message (ranking.hpp, rank-22): a pasted error line's message, looked for in the string
  // literals of the first kMessageWindow candidates' Python chunks.
  const std::optional<std::string> message =
      (sig & kSignalMessage) && o.chunk_text && !cands.empty() ? error_message(o.query)
                                                               : std::nullopt;
  const bool message_signal = message.has_value();
  std::vector<DocId> message_hits;  // not among verbatim_hits
  std::vector<DocId> message_read;  // the window's chunks read for it, sorted
  // Whether Python code chunk `d`'s text prints the message (unreadable: no).
  const auto prints = [&](DocId d) {
    const Doc& doc = docs_[d];
    const auto text =
        o.chunk_text({path_text(doc), doc.start_line, doc.end_line, doc.offset, doc.bytes});
    if (!text) return false;
    for (const MessageTemplate& t : message_templates(*text)) {
      if (prints_message(t, *message)) return true;
    }
    return false;
  };
  const auto python_code = [&](DocId d) {
    return docs_[d].kind == ChunkKind::kCode &&
           file_type_of(path_text(docs_[d])) == FileType::kPython;
  };
  const auto find_message = [&](std::size_t window) {
    for (std::size_t i = 0; i < window; ++i) {
      const DocId d = cands[i];
      if (!python_code(d) || verbatim_of(d) != 1.0) continue;
      message_read.push_back(d);
      if (prints(d)) message_hits.push_back(d);
    }
    std::sort(message_read.begin(), message_read.end());
  };
  const auto message_of = [&](DocId d) {
    return std::find(message_hits.begin(), message_hits.end(), d) != message_hits.end()
               ? kMessageBoost
               : 1.0;
  };
  if (!file_terms.empty() || prose_signal || second_signal || verbatim_signal || message_signal) {
    const std::size_t top = std::min(cands.size(), want);
    const auto top_end = cands.begin() + static_cast<std::ptrdiff_t>(top);
    std::partial_sort(cands.begin(), top_end, cands.end(), better);
    if (!file_terms.empty() || prose_signal || verbatim_signal || message_signal) {
      if (union_mode && !file_terms.empty()) {
        // The terms whose sets stood in for their lists after pruning: whether a chunk of each
        // candidate's file (its documents are consecutive) holds them.
        std::vector<std::size_t> lazy;
        for (const std::size_t t : active) {
          if (!prefix_scored[t] && !sets[t].empty() && cover_bit[t] != 0) lazy.push_back(t);
        }
        std::vector<std::uint32_t> done;
        for (std::size_t i = 0; i < top && !lazy.empty(); ++i) {
          const DocId d = cands[i];
          const std::uint32_t f = doc_file_[d];
          if (std::find(done.begin(), done.end(), f) != done.end()) continue;
          done.push_back(f);
          DocId lo = d, hi = d + 1;
          while (lo > 0 && doc_file_[lo - 1] == f) --lo;
          while (hi < doc_file_.size() && doc_file_[hi] == f) ++hi;
          // A file added since the sets were built: its postings are in the tail, and the terms'
          // tails were covered (join_tail).
          hi = std::min(hi, horizon);
          if (lo >= hi) continue;
          for (const std::size_t t : lazy) {
            if (file_terms[f] & cover_bit[t]) continue;
            for (const std::uint64_t* set : sets[t]) {
              if (any_bit(set, lo, hi)) {
                file_terms[f] |= cover_bit[t];
                break;
              }
            }
          }
        }
      }
      if (verbatim_signal) find_verbatim(std::min(top, kVerbatimWindow));
      if (message_signal) find_message(std::min(top, kMessageWindow));
      for (std::size_t i = 0; i < top; ++i) {
        const DocId d = cands[i];
        scores[d] *= coverage_of(d) * prose_of(d) * verbatim_of(d) * message_of(d);
      }
      std::sort(cands.begin(), top_end, better);
    }
    if (second_signal) {
      // Per file, its best candidate and whether its second was seen: the best gains
      // kSecondChunkShare × the second's score (the scores read before any is raised).
      // A flat list: `top` is a few dozen candidates at most (the hash map it replaces spent ~1 %
      // of a four-copies request's daemon samples inserting).
      struct Best {
        std::uint32_t file;
        DocId doc;
        bool second;
      };
      std::vector<Best> best;
      best.reserve(top);
      for (std::size_t i = 0; i < top; ++i) {
        const DocId d = cands[i];
        const auto it = std::find_if(best.begin(), best.end(),
                                     [&](const Best& b) { return b.file == doc_file_[d]; });
        if (it == best.end()) {
          best.push_back({doc_file_[d], d, false});
          continue;
        }
        if (it->second) continue;
        it->second = true;
        second_bonus.emplace_back(it->doc, kSecondChunkShare * scores[d]);
      }
      for (const auto& [d, add] : second_bonus) scores[d] += add;
      std::sort(cands.begin(), top_end, better);
    }
  }
  std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(depth), cands.end(),
                    better);
  std::vector<double> diversity(docs_.size() > 0 && (sig & kSignalDiversity) ? depth : 0, 1.0);
  std::vector<int> nth(diversity.size(), 0);
  if (!diversity.empty()) {
    // Per file (its ordinal: one per path), how many of its chunks rank above; `depth` is a few
    // dozen, so a flat list.
    std::vector<std::pair<std::uint32_t, int>> per_file;
    per_file.reserve(depth);
    for (std::size_t i = 0; i < depth; ++i) {
      const std::uint32_t f = doc_file_[cands[i]];
      auto it = std::find_if(per_file.begin(), per_file.end(),
                             [&](const auto& e) { return e.first == f; });
      if (it == per_file.end()) it = per_file.insert(per_file.end(), {f, 0});
      nth[i] = it->second++;
      diversity[i] = std::pow(kDiversityDecay, nth[i]);
    }
    std::vector<std::size_t> by_score(depth);
    std::iota(by_score.begin(), by_score.end(), std::size_t{0});
    std::sort(by_score.begin(), by_score.end(), [&](std::size_t a, std::size_t b) {
      const double sa = scores[cands[a]] * diversity[a], sb = scores[cands[b]] * diversity[b];
      if (sa != sb) return sa > sb;
      return tie(cands[a], cands[b]);
    });
    std::vector<DocId> top(depth);
    std::vector<double> div(depth);
    std::vector<int> nn(depth);
    for (std::size_t i = 0; i < depth; ++i) {
      top[i] = cands[by_score[i]];
      div[i] = diversity[by_score[i]];
      nn[i] = nth[by_score[i]];
    }
    std::copy(top.begin(), top.end(), cands.begin());
    diversity = std::move(div);
    nth = std::move(nn);
  }
  if (o.explain) {  // single-term lists were streamed, not collected
    for (std::size_t t = 0; t < nt; ++t) {
      if (ids[t].size() == 1) live_postings(ids[t][0], lists[t]);
    }
  }
  // Message (ranking.hpp, rank-22): no candidate read printed the message — the raise sites of a
  // rare exception name are read too, and those that print it are pinned after a named file's.
  const std::size_t named_pins = pinned.size();
  if (message_signal && message_hits.empty() && verbatim_hits.empty() && pinned.size() < o.limit) {
    const std::optional<std::string> name = error_name(o.query);
    const std::optional<std::string> token = name ? whole_word_token(*name) : std::nullopt;
    const std::uint32_t id = token ? term_id(*token) : IdTable::kNone;
    // Counted before its postings are copied: a built-in's name is in thousands of chunks.
    if (id != IdTable::kNone && live_df(id) <= kMessageNameChunks) {
      std::vector<Posting> holding;
      live_postings(id, holding);
      std::size_t ignored = 0;
      for (const Posting& p : holding) {
        const DocId d = p.doc;
        if (pinned.size() == o.limit) break;
        if (!python_code(d) || !admit(d, ignored) ||
            std::binary_search(message_read.begin(), message_read.end(), d) ||
            std::find(pinned.begin(), pinned.end(), d) != pinned.end()) {
          continue;
        }
        if (prints(d)) pinned.push_back(d);
      }
    }
  }
  // The chunks of the files the query names (above) go first, above the best score; the ranked
  // candidates fill the rest of the page, without them.
  if (pinned.size() > o.limit) pinned.resize(o.limit);
  std::vector<std::size_t> page;  // indexes into cands
  for (std::size_t i = 0; i < depth && page.size() + pinned.size() < o.limit; ++i) {
    if (std::find(pinned.begin(), pinned.end(), cands[i]) == pinned.end()) page.push_back(i);
  }
  if (!pinned.empty()) {
    const double best =
        page.empty() ? 0.0
                     : scores[cands[page[0]]] * (diversity.empty() ? 1.0 : diversity[page[0]]);
    for (std::size_t j = 0; j < pinned.size(); ++j) {
      SearchHit h;
      h.chunk = unpack(docs_[pinned[j]]);
      h.score = best + static_cast<double>(pinned.size() - j);
      if (o.explain) {
        h.explain.push_back(
            {j < named_pins ? "file-named" : "message-raised", "signal", 0, h.score});
      }
      r.hits.push_back(std::move(h));
    }
  }
  for (const std::size_t i : page) {
    SearchHit h;
    const DocId d = cands[i];
    h.chunk = unpack(docs_[d]);
    const double div = diversity.empty() ? 1.0 : diversity[i];
    h.score = scores[d] * div;
    if (o.explain) {
      double base = 0.0;
      for (std::size_t t = 0; t < nt; ++t) {
        const auto& list = lists[t];
        auto p = std::lower_bound(list.begin(), list.end(), d,
                                  [](const Posting& x, DocId y) { return x.doc < y; });
        if (p == list.end() || p->doc != d) continue;
        std::array<double, kFieldCount> per{};
        FieldTfs tf = p->tf;
        if (no_doc) tf[kFieldDoc] = 0;
        base += score_term(tf, lengths_[d], idfs[t], norms, &per);
        for (std::size_t f = 0; f < kFieldCount; ++f) {
          if (tf[f] == 0) continue;
          h.explain.push_back({shown[t], std::string(field_name(f)), tf[f], per[f]});
        }
      }
      double s = explain_priors(d, base, h.explain);
      if (const double f = coverage_of(d); f != 1.0) {
        h.explain.push_back(
            {"file-coverage\u00d7" + std::to_string(f).substr(0, 5), "signal", 0, s * (f - 1.0)});
        s *= f;
      }
      if (const double f = prose_of(d); f != 1.0) {
        h.explain.push_back(
            {"prose-coverage\u00d7" + std::to_string(f).substr(0, 5), "signal", 0, s * (f - 1.0)});
        s *= f;
      }
      if (verbatim_of(d) != 1.0) {
        h.explain.push_back({"verbatim\u00d7" + std::to_string(kVerbatimBoost).substr(0, 3),
                             "signal", 0, s * (kVerbatimBoost - 1.0)});
        s *= kVerbatimBoost;
      }
      if (message_of(d) != 1.0) {
        h.explain.push_back({"message\u00d7" + std::to_string(kMessageBoost).substr(0, 3), "signal",
                             0, s * (kMessageBoost - 1.0)});
        s *= kMessageBoost;
      }
      for (const auto& [b, add] : second_bonus) {
        if (b != d) continue;
        h.explain.push_back({"second-chunk+0.3\u00d72nd", "signal", 0, add});
        s += add;
      }
      if (div != 1.0) {
        h.explain.push_back({"same-file#" + std::to_string(nth[i] + 1) + "\u00d7" +
                                 std::to_string(div).substr(0, 5),
                             "signal", 0, s * (div - 1.0)});
      }
    }
    r.hits.push_back(std::move(h));
  }
  if (r.hits.empty()) {
    if (touched.empty()) {
      std::string list;
      for (const auto& t : r.terms) list += (list.empty() ? "" : ", ") + t;
      r.reason = "no indexed chunk contains any of the terms: " + list;
    } else if (hidden > 0) {
      r.reason = std::to_string(hidden) +
                 " chunks matched, all in translation catalogs or minified assets, which search "
                 "hides unless the "
                 "query or --path names them";
    } else {
      r.reason = std::to_string(touched.size()) +
                 " chunks matched the terms but none passed the filters" +
                 (o.path_glob.empty() ? "" : " (path_glob \"" + o.path_glob + "\")") +
                 (o.kind ? " (kind " + std::string(chunk_kind_name(*o.kind)) + ")" : "");
    }
  }
  // Suggestions for the terms the index lacks: the ones the typo correction looked up (also when
  // the correction found hits), and the others' only when nothing was found — the one case a
  // reply carries them (json.hpp), so a search with hits does not walk the vocabulary for them.
  for (auto& [m, suggested] : missing) {
    if (!r.hits.empty() && !(sig & kSignalTypo)) break;
    if (!suggested) {
      if (!r.hits.empty() || lookups >= kTypoMaxLookups) continue;
      ++lookups;
      suggested = suggest(m);
    }
    for (auto& s : *suggested) {
      if (std::find(r.did_you_mean.begin(), r.did_you_mean.end(), s) == r.did_you_mean.end()) {
        r.did_you_mean.push_back(std::move(s));
      }
    }
  }
  return r;
}

std::size_t InvertedIndex::memory_bytes() const {
  // Heap strings count when they do not fit the small-string buffer (15 bytes in libstdc++).
  const auto heap = [](const std::string& x) { return x.capacity() > 15 ? x.capacity() + 1 : 0; };
  // The tables kept with room (with_room) count their size: the room is address space that
  // becomes resident as edits fill it.
  std::size_t b = docs_.size() * sizeof(Doc) + pool_.size() + rank_.size() * sizeof(DocRank) +
                  lengths_.size() * sizeof(FieldLengths) + prior_key_.size() +
                  doc_file_.size() * sizeof(std::uint32_t);
  b += frozen_.memory_bytes() + tail_.capacity() * sizeof(TailPosting);
  b += frozen_dead_.capacity() * sizeof(DocId) +
       frozen_dead_bits_.capacity() * sizeof(std::uint64_t);
  b += term_chars_.size() + term_off_.size() * sizeof(std::uint32_t) + term_ids_.memory_bytes();
  b += by_id_.memory_bytes() + sorted_terms_.capacity() * sizeof(std::uint32_t);
  b += doc_sets_.capacity() * sizeof(std::uint64_t) + set_of_.capacity() * sizeof(set_of_[0]);
  b += (set_ranks_.capacity() + set_skips_.capacity()) * sizeof(std::uint32_t) +
       set_peaks_.capacity();
  b += stem_hash_.size() * sizeof(std::uint32_t) + variant_cache_.memory_bytes();
  b += stem_members_.capacity() * sizeof(StemMember);
  b += (group_members_.capacity() + group_start_.capacity()) * sizeof(std::uint32_t);
  b += stale_groups_.lists.bytes.capacity() +
       (stale_groups_.lists.ends.capacity() + stale_groups_.lists.counts.capacity() +
        stale_groups_.members.capacity() + stale_groups_.start.capacity()) *
           sizeof(std::uint32_t);
  for (const auto& m : module_words_) b += 64 + heap(m);
  for (const auto& [piece, refs] : module_pieces_)
    b += 64 + heap(piece) + sizeof(refs) + refs.capacity() * sizeof(ModulePiece);
  for (const auto& [phrase, ids] : module_phrases_)
    b += 64 + heap(phrase) + sizeof(ids) + ids.capacity() * sizeof(std::uint32_t);
  for (const auto& v : module_docs_) b += sizeof(v) + v.capacity() * sizeof(DocId);
  for (const auto& [path, ids] : by_file_) b += 64 + heap(path) + ids.capacity() * sizeof(DocId);
  for (const auto& entry : file_names_)
    b += 48 + entry.second.capacity() * sizeof(const std::string*);
  return b;
}

// ---- serialization ----------------------------------------------------------------------------
// Over util/bytes.hpp (u32-length strings, little-endian fixed-width integers).

std::size_t InvertedIndex::serialized_size_hint() const {
  // Per chunk ≈ 150 bytes of fixed fields plus its strings; per term its text and two counts.
  std::size_t b = docs_.size() * 400 + frozen_.byte_size() + tail_.size() * 3;
  b += term_chars_.size() + (term_off_.size() - 1) * 12;
  return b;
}

void InvertedIndex::serialize(std::string& out) const {
  bytes::Writer w(out);
  std::vector<DocId> remap(docs_.size(), UINT32_MAX);
  std::uint32_t live = 0;
  for (std::size_t i = 0; i < docs_.size(); ++i) {
    if (docs_[i].alive) remap[i] = live++;
  }
  w.u32(live);
  for (std::size_t i = 0; i < docs_.size(); ++i) {
    const Doc& d = docs_[i];
    if (!d.alive) continue;
    w.str_u32(id_text(d));
    w.str_u32(path_text(d));
    w.u8(static_cast<std::uint8_t>(d.kind));
    w.u8(static_cast<std::uint8_t>(d.role));
    w.str_u32(str(d, kTitle));
    // The stored pieces are already length-prefixed: count them, then copy them as they are.
    const std::string_view tp = str(d, kTitlePath);
    std::uint32_t pieces = 0;
    for (bytes::Reader r(tp); r.ok() && r.position() < tp.size(); ++pieces) (void)r.raw(r.u32());
    w.u32(pieces);
    w.raw(tp);
    w.u32(static_cast<std::uint32_t>(d.start_line));
    w.u32(static_cast<std::uint32_t>(d.end_line));
    w.str_u32(str(d, kSha256));
    w.u64(d.bytes);
    w.u64(d.offset);
    w.str_u32(str(d, kPreview));
    w.str_u32(str(d, kContext));
    w.str_u32(str(d, kSignature));
    for (std::size_t f = 0; f < kFieldCount; ++f) w.u32(code_length(lengths_[i][f]));
  }
  // Terms: text, posting count, byte length, the encoded list (documents renumbered).
  const std::size_t count_at = out.size();
  w.u32(0);  // patched below
  std::uint32_t nterms = 0;
  if (dead_ == 0 && tail_.empty()) {
    // The usual case (after a build): the frozen bytes are the file's bytes.
    const std::size_t vocab =
        std::min(frozen_.term_count(), term_off_.size() - 1);  // not the groups' lists
    for (std::uint32_t t = 0; t < vocab; ++t) {
      if (frozen_.count(t) == 0) continue;
      const auto bytes = frozen_.bytes(t);
      w.str_u32(term_text(t));
      w.u32(frozen_.count(t));
      w.str_u32(bytes);
      ++nterms;
    }
  } else {
    std::vector<std::uint8_t> buf;
    for_each_list(&remap, [&](std::uint32_t t, const std::vector<Posting>& list) {
      buf.clear();
      PostingListBuilder lb(buf);
      for (const auto& p : list) lb.add(p);
      w.str_u32(term_text(t));
      w.u32(static_cast<std::uint32_t>(list.size()));
      w.str_u32(std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size()));
      ++nterms;
    });
  }
  w.patch_u32(count_at, nterms);
}

Result<void> InvertedIndex::deserialize(std::string_view data) {
  InvertedIndex fresh;
  bytes::Reader r(data);
  const std::uint32_t ndocs = r.u32();
  if (!r.ok() || ndocs > data.size()) return make_error(Errc::kParse, "index: bad document count");
  fresh.docs_.reserve(with_room(ndocs));  // as leave_room() wants them
  fresh.rank_.reserve(with_room(ndocs));
  fresh.lengths_.reserve(with_room(ndocs));
  fresh.prior_key_.reserve(with_room(ndocs));
  fresh.docs_.resize(ndocs);
  fresh.rank_.resize(ndocs);
  fresh.lengths_.resize(ndocs);
  for (std::size_t di = 0; di < ndocs; ++di) {
    Doc& d = fresh.docs_[di];
    std::string& pool = fresh.pool_;
    const std::string_view id = r.raw(r.u32());
    const std::string_view path = r.raw(r.u32());
    // A file's chunks are consecutive: they share one stored path (stored before the strings,
    // which go back to back).
    d.path_len = static_cast<std::uint32_t>(path.size());
    if (di > 0 && fresh.path_text(fresh.docs_[di - 1]) == path) {
      d.path = fresh.docs_[di - 1].path;
    } else {
      d.path = pool.size();
      pool.append(path);
    }
    d.strs = pool.size();
    const auto add = [&](Str which, std::string_view v) {
      d.len[which] = static_cast<std::uint32_t>(v.size());
      pool.append(v);
    };
    add(kId, id);
    const auto kind = r.u8();
    const auto role = r.u8();
    if (!r.ok()) return make_error(Errc::kParse, "index: truncated document table");
    if (kind > 2 || role > 5) return make_error(Errc::kParse, "index: bad chunk kind");
    d.kind = static_cast<ChunkKind>(kind);
    d.role = static_cast<ChunkRole>(role);
    add(kTitle, r.raw(r.u32()));
    const auto ntp = r.u32();
    if (!r.need(ntp)) return make_error(Errc::kParse, "index: truncated");
    const std::size_t tp_at = r.position();
    for (std::uint32_t i = 0; i < ntp && r.ok(); ++i) (void)r.raw(r.u32());
    if (!r.ok()) return make_error(Errc::kParse, "index: truncated document table");
    add(kTitlePath, data.substr(tp_at, r.position() - tp_at));
    d.start_line = static_cast<std::int32_t>(r.u32());
    d.end_line = static_cast<std::int32_t>(r.u32());
    add(kSha256, r.raw(r.u32()));
    d.bytes = r.u64();
    d.offset = r.u64();
    add(kPreview, r.raw(r.u32()));
    add(kContext, r.raw(r.u32()));
    add(kSignature, r.raw(r.u32()));
    for (std::size_t f = 0; f < kFieldCount; ++f) fresh.lengths_[di][f] = length_code(r.u32());
    if (!r.ok()) return make_error(Errc::kParse, "index: truncated document table");
  }
  const std::uint32_t nterms = r.u32();
  if (!r.ok() || nterms > data.size()) return make_error(Errc::kParse, "index: bad term count");
  fresh.reserve_terms(nterms);
  // Lists are copied as they are; the documents they name are checked first.
  fresh.frozen_.reserve_bytes(data.size() - r.position());
  const auto key_of = [&fresh](std::uint32_t x) { return fresh.term_text(x); };
  for (std::uint32_t t = 0; t < nterms; ++t) {
    const auto tsize = r.u32();
    const std::string_view term = r.raw(tsize);
    if (!r.ok() || tsize == 0) return make_error(Errc::kParse, "index: truncated term");
    const std::uint32_t count = r.u32();
    const std::uint32_t nbytes = r.u32();
    const std::string_view list = r.raw(nbytes);
    if (!r.ok()) return make_error(Errc::kParse, "index: truncated postings");
    if (!validate_list(list, count, ndocs))
      return make_error(Errc::kParse, "index: bad posting list");
    const std::size_t h = std::hash<std::string_view>{}(term);
    if (fresh.term_ids_.find(term, h, key_of) != IdTable::kNone)
      return make_error(Errc::kParse, "index: duplicate term");
    if (fresh.intern(term, h) != t) return make_error(Errc::kParse, "index: term numbering");
    fresh.frozen_.begin_term(t);
    fresh.frozen_.add_encoded(list, count);
  }
  fresh.frozen_.finish(nterms);
  fresh.frozen_horizon_ = ndocs;
  if (r.position() != data.size()) return make_error(Errc::kParse, "index: trailing bytes");
  const auto id_of = [&fresh](std::uint32_t x) { return fresh.id_text(fresh.docs_[x]); };
  fresh.by_id_.reserve(ndocs, id_of);
  for (DocId d = 0; d < ndocs; ++d) {
    const auto& doc = fresh.docs_[d];
    const std::string_view id = fresh.id_text(doc);
    const std::size_t h = std::hash<std::string_view>{}(id);
    if (fresh.by_id_.find(id, h, id_of) != IdTable::kNone)
      return make_error(Errc::kParse, "index: duplicate chunk id");
    fresh.by_id_.insert(h, d, id_of);
    fresh.by_file_[std::string(fresh.path_text(doc))].push_back(d);
    for (std::size_t f = 0; f < kFieldCount; ++f)
      fresh.total_len_[f] += code_length(fresh.lengths_[d][f]);
  }
  fresh.prior_key_.resize(ndocs);
  for (DocId d = 0; d < ndocs; ++d) {
    const bool same = d > 0 && fresh.docs_[d - 1].path == fresh.docs_[d].path;
    fresh.classify(fresh.docs_[d], fresh.rank_[d], same ? &fresh.rank_[d - 1] : nullptr);
    fresh.prior_key_[d] = prior_key(fresh.rank_[d]);
  }
  {
    Settled s;  // the lists as read; the rest built from them as a freeze builds it
    s.stamp = fresh.stamp_;
    s.frozen = std::move(fresh.frozen_);
    s.horizon = ndocs;
    fresh.sort_terms(s);
    (void)fresh.build_groups(s, nullptr);
    (void)fresh.build_doc_sets(s, ndocs, fresh.lengths_.data(),
                               field_averages(fresh.total_len_, ndocs), nullptr);
    fresh.install(s);
  }
  fresh.number_files();
  fresh.leave_room();
  fresh.alive_ = ndocs;
  fresh.refresh_norms();
  *this = std::move(fresh);
  count_file_names();  // pointers into by_file_: made for this object's
  return {};
}

}  // namespace trifecta::core::index
