// index/postings.hpp — compact posting lists and a string-keyed id table for the inverted index.
//
// A posting is (document id, term frequency per field). The index keeps most of its postings
// *frozen*: every term's list encoded back to back in one byte buffer (CSR: one offset per
// term), instead of one heap vector per term. The encoding of one list, documents strictly
// ascending:
//
//   per posting:  varint( (doc − previous doc) << kPostingFields | field mask )   previous doc of
//                 the first = 0 (5 fields since index format 5: path name sig body doc)
//                 then one byte per field whose mask bit is set, in field order (its tf, 1..255)
//
// LEB128 varints of up to 64 bits (a delta of 2^32 − 1 shifted by 4 needs 36), written with
// util/bytes.hpp's `put_varint`; the two decoding loops below (`PostingCursor::next`,
// `for_each_posting`) read the same varints inline because they are the search's inner loop. On the
// stdlib a posting takes ≈ 2.8 bytes instead of 8, and a list needs no allocation of its own. The
// same bytes are what index.bin stores, so persisting and loading copy them without re-encoding.
//
// `PostingListBuilder` appends to one list; `PostingCursor` walks one list checking every step
// (validation, tests); `for_each_posting` walks a trusted list fast (search); `FrozenPostings`
// holds all lists. `IdTable` maps strings (kept elsewhere, looked up through a callback) to
// dense uint32 ids with open addressing: 8 bytes per slot instead of a node per entry.
//
// Failure behaviour: encoding never fails. `PostingCursor::next` returns false at the end and on
// malformed bytes (`PostingCursor::bad()` tells which); `validate_list` checks a list from an
// untrusted source (index.bin) before it is used.
//
// Thread rules: plain values; concurrent const use is safe, mutation needs exclusive access.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>
#include <vector>

#include "util/bytes.hpp"

namespace trifecta::core::index {

inline constexpr std::size_t kPostingFields = 5;
inline constexpr unsigned kFieldMaskBits = static_cast<unsigned>(kPostingFields);
inline constexpr std::uint64_t kFieldMask = (std::uint64_t{1} << kPostingFields) - 1;

struct Posting {
  std::uint32_t doc = 0;
  std::array<std::uint8_t, kPostingFields> tf{};
  friend bool operator==(const Posting&, const Posting&) = default;
};
// for_each_posting writes a posting as (doc, tf[0..3]) and (tf[4], padding).
static_assert(sizeof(Posting) == 12 && offsetof(Posting, tf) == 4 && kPostingFields == 5);

// Appends postings (ascending documents) to `out` in the format above.
class PostingListBuilder {
 public:
  explicit PostingListBuilder(std::vector<std::uint8_t>& out) : out_(out) {}
  // `p.doc` must be greater than the previous one (or any value for the first posting).
  void add(const Posting& p);
  // The encoded list `bytes` (trusted; its first delta from document 0) as this builder's first
  // postings, without those of the documents set in the bitmap `dead` (`dead_words` 64-bit
  // words; null and 0: none), as FrozenPostings::add_spliced appends it. add() may follow.
  void add_spliced(std::string_view bytes, const std::uint64_t* dead, std::size_t dead_words);
  std::size_t count() const { return count_; }

 private:
  std::vector<std::uint8_t>& out_;
  std::uint32_t prev_ = 0;
  std::size_t count_ = 0;
};

// Walks one encoded list.
class PostingCursor {
 public:
  PostingCursor() = default;
  explicit PostingCursor(std::string_view bytes)
      : p_(reinterpret_cast<const std::uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}
  PostingCursor(const std::uint8_t* begin, const std::uint8_t* end) : p_(begin), end_(end) {}
  // Decode the next posting into `out`; false at the end of the list or on malformed bytes.
  bool next(Posting& out);  // inline below: searches decode every posting of the query terms
  bool bad() const { return bad_; }

 private:
  const std::uint8_t* p_ = nullptr;
  const std::uint8_t* end_ = nullptr;
  std::uint64_t prev_ = 0;
  bool first_ = true;
  bool bad_ = false;
};

inline bool PostingCursor::next(Posting& out) {
  if (p_ == end_ || bad_) return false;
  std::uint64_t v = *p_++;
  if (v & 0x80) {  // most postings fit one byte (delta < 8)
    v &= 0x7F;
    for (unsigned shift = 7;; shift += 7) {
      if (p_ == end_ || shift > 63) {
        bad_ = true;
        return false;
      }
      const std::uint8_t b = *p_++;
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) break;
    }
  }
  const std::uint64_t doc = prev_ + (v >> kFieldMaskBits);
  if (doc > UINT32_MAX || (!first_ && doc == prev_)) {
    bad_ = true;
    return false;
  }
  first_ = false;
  prev_ = doc;
  out.doc = static_cast<std::uint32_t>(doc);
  for (std::size_t f = 0; f < kPostingFields; ++f) {
    if (v & (1u << f)) {
      if (p_ == end_ || *p_ == 0) {
        bad_ = true;
        return false;
      }
      out.tf[f] = *p_++;
    } else {
      out.tf[f] = 0;
    }
  }
  return true;
}

// Where a posting's tf bytes go (for_each_posting): per field mask, how many bytes follow the
// varint and the bit shift of each in the gathered tfs (byte f = field f).
struct TfLayout {
  std::uint8_t count = 0;
  std::array<std::uint8_t, kPostingFields> shift{};
};
inline constexpr std::array<TfLayout, std::size_t{1} << kPostingFields> kTfLayouts = [] {
  std::array<TfLayout, std::size_t{1} << kPostingFields> out{};
  for (unsigned mask = 0; mask < out.size(); ++mask) {
    for (unsigned f = 0; f < kPostingFields; ++f) {
      if (mask & (1u << f)) out[mask].shift[out[mask].count++] = static_cast<std::uint8_t>(8 * f);
    }
  }
  return out;
}();

// The varint that opens a posting ((doc − previous doc) << kPostingFields | field mask) at `p`
// of a list the index encoded itself or checked, `p` moved past it (never beyond `end`). Shared
// by the fast walks below; inlined into their loops.
[[gnu::always_inline]] inline std::uint64_t read_posting_head(const std::uint8_t*& p,
                                                              const std::uint8_t* end) {
  std::uint64_t v = *p++;
  if (v & 0x80) {  // most postings fit one byte (delta < 8)
    v &= 0x7F;
    for (unsigned shift = 7; p < end && shift < 64; shift += 7) {
      const std::uint8_t b = *p++;
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) break;
    }
  }
  return v;
}

// Call fn(posting) for every posting of a list the index encoded itself or checked with
// validate_list (no malformation checks beyond staying inside `bytes`). The search loop: locals
// only; one-byte deltas and one-field postings (most of them) take the short paths, the tf
// bytes placed by a table per field mask instead of testing all five fields.
template <class Fn>
inline void for_each_posting(std::string_view bytes, Fn&& fn) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const auto* const end = p + bytes.size();
  std::uint64_t doc = 0;
  Posting out;
  while (p < end) {
    const std::uint64_t v = read_posting_head(p, end);
    doc += v >> kFieldMaskBits;
    const TfLayout& layout = kTfLayouts[v & kFieldMask];
    // The tfs are gathered in a register (byte f = field f) and the posting is written as one
    // 8-byte and one 4-byte store: written field by field, the callback's wider loads of it
    // could not be forwarded from the narrow stores and stalled on every posting (issue 12:
    // the single hottest instruction of "json decode error" on four stdlib copies).
    std::uint64_t tf = 0;
    if (layout.count == 1 && p < end) {
      tf = std::uint64_t{*p++} << layout.shift[0];
    } else {
      const auto n = std::min<std::size_t>(layout.count, static_cast<std::size_t>(end - p));
      for (std::size_t i = 0; i < n; ++i) tf |= std::uint64_t{p[i]} << layout.shift[i];
      p += n;
    }
    const std::uint64_t lo = (doc & 0xFFFFFFFFu) | (tf << 32);
    const auto hi = static_cast<std::uint32_t>(tf >> 32);
    std::memcpy(reinterpret_cast<unsigned char*>(&out), &lo, sizeof lo);
    std::memcpy(reinterpret_cast<unsigned char*>(&out) + sizeof lo, &hi, sizeof hi);
    fn(static_cast<const Posting&>(out));
  }
}

// Call fn(posting) for the `count` postings that follow the first `skip` after a posting boundary
// `p` of a list the index encoded itself or checked (no malformation checks beyond staying before
// `end`), `doc` being the document of the posting before `p` (0 at the start of the list): the
// postings in between are stepped over by their varint and their field mask's byte count. The
// walks from a skip entry of InvertedIndex's document sets: a kept chunk's tfs (posting_after),
// a one-term search's block of 64 chunks.
template <class Fn>
inline void for_postings_after(const std::uint8_t* p, const std::uint8_t* end, std::uint64_t doc,
                               std::size_t skip, std::size_t count, Fn&& fn) {
  Posting out;
  for (std::size_t i = 0; p < end && i < skip + count; ++i) {
    const std::uint64_t v = read_posting_head(p, end);
    doc += v >> kFieldMaskBits;
    const TfLayout& layout = kTfLayouts[v & kFieldMask];
    const auto n = std::min<std::size_t>(layout.count, static_cast<std::size_t>(end - p));
    if (i >= skip) {
      out.doc = static_cast<std::uint32_t>(doc);
      out.tf = {};
      for (std::size_t j = 0; j < n; ++j) out.tf[layout.shift[j] / 8] = p[j];
      fn(static_cast<const Posting&>(out));
    }
    p += n;
  }
}

// The posting `skip` places after a posting boundary `p` (for_postings_after); a default
// Posting past the end.
inline Posting posting_after(const std::uint8_t* p, const std::uint8_t* end, std::uint64_t doc,
                             std::size_t skip) {
  Posting out;
  for_postings_after(p, end, doc, skip, 1, [&out](const Posting& x) { out = x; });
  return out;
}

// True when `bytes` decodes to exactly `count` postings with strictly ascending documents, all
// below `doc_limit`, every field mask non-empty.
bool validate_list(std::string_view bytes, std::size_t count, std::uint64_t doc_limit);

// All lists, term after term. Terms are dense ids [0, term_count()).
class FrozenPostings {
 public:
  // The terms' lists, then the extension's (below).
  std::size_t term_count() const { return counts_.size() + ext_counts_.size(); }
  std::uint32_t count(std::uint32_t term) const {
    if (term < counts_.size()) return counts_[term];
    const std::size_t e = term - counts_.size();
    return e < ext_counts_.size() ? ext_counts_[e] : 0;
  }
  // The encoded list of `term` (empty for terms beyond term_count()).
  std::string_view bytes(std::uint32_t term) const;
  PostingCursor cursor(std::uint32_t term) const {
    const auto b = bytes(term);
    return PostingCursor(b);
  }
  // Of the terms' lists (not the extension's).
  std::size_t total_postings() const { return total_; }
  std::size_t byte_size() const { return bytes_.size(); }
  std::size_t memory_bytes() const {
    return bytes_.capacity() + offsets_.capacity() * sizeof(std::uint64_t) +
           counts_.capacity() * sizeof(std::uint32_t) + ext_bytes_.capacity() +
           (ext_ends_.capacity() + ext_counts_.capacity()) * sizeof(std::uint32_t);
  }

  // Building: terms in ascending id order, each once; a term may get no list (count 0).
  // `begin_term(t)` fills the gap of terms below t with empty lists. A term's list comes either
  // from add() calls or from one add_encoded() (whose deltas start from document 0).
  void begin_term(std::uint32_t term);
  void add(const Posting& p);  // to the current term
  // Append an already encoded list (validated by the caller) as the current term's.
  void add_encoded(std::string_view bytes, std::uint32_t count);
  // Append the encoded list `bytes` (trusted) as the current term's without the postings of the
  // documents set in the bitmap `dead` (`dead_words` 64-bit words; null and 0: none): the runs
  // of postings kept are copied as they are, only the posting after a left-out one gets its
  // head re-encoded (its delta spans them). add() may follow, for documents above the list's.
  // What a settle does to a list with dead chunks, instead of decoding and re-encoding it.
  // Returns the postings kept.
  std::size_t add_spliced(std::string_view bytes, const std::uint64_t* dead,
                          std::size_t dead_words);
  // Close the last term and pad to `term_count` terms. A buffer is shrunk to fit only when over
  // an eighth of it is spare (grown by doubling): shrinking copies it whole, into fresh pages in
  // the daemon (a block of 1 MiB or more is mapped on its own) — ~70 ms on four stdlib copies,
  // with no point to stop at for an update (SegmentIndex::settle) — and the spare room a reserve
  // left (reserve_bytes, reserve_terms) is pages never written, so never resident.
  void finish(std::size_t term_count);
  void reserve_bytes(std::size_t n) { bytes_.reserve(n); }
  void reserve_terms(std::size_t n) {
    offsets_.reserve(n + 1);
    counts_.reserve(n);
  }
  // The extension: lists after the terms' (ids from the terms' count up), in a buffer of their
  // own, so that adding them after a finish neither copies nor re-faults the terms' buffer
  // (InvertedIndex's stem groups). `bytes` holds them back to back, list i ending at ends[i];
  // each list encoded as above (validated by the caller). Replaces any earlier extension; any
  // begin_term or finish afterwards clears it.
  void extend(std::vector<std::uint8_t> bytes, std::vector<std::uint32_t> ends,
              std::vector<std::uint32_t> counts);
  void clear_extension();
  // The extension moved out (bytes, ends, counts as extend() took them), leaving none.
  struct Extension {
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint32_t> ends, counts;
    std::string_view list(std::size_t i) const {
      const std::size_t from = i == 0 ? 0 : ends[i - 1];
      return std::string_view(reinterpret_cast<const char*>(bytes.data()) + from, ends[i] - from);
    }
  };
  Extension take_extension();

 private:
  std::vector<std::uint8_t> ext_bytes_;
  std::vector<std::uint32_t> ext_ends_;
  std::vector<std::uint32_t> ext_counts_;
  std::vector<std::uint8_t> bytes_;
  std::vector<std::uint64_t> offsets_{0};  // offsets_[t] .. offsets_[t + 1] is term t's list
  std::vector<std::uint32_t> counts_;
  std::size_t total_ = 0;
  std::uint32_t prev_doc_ = 0;
  bool open_ = false;
};

// Open-addressing map from a string key to a dense uint32 value. A slot holds the value and the
// high 32 bits of the key's hash (a cheap pre-check); the key itself is fetched through
// `key_of(value)` (a callable returning std::string_view) to confirm a match and to rehash on
// growth. Erased slots become tombstones (reused by a later growth). Load factor ≤ 1/2.
class IdTable {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  // Value whose key equals `key` (`hash` = std::hash<std::string_view> of it), or kNone.
  template <class KeyOf>
  std::uint32_t find(std::string_view key, std::size_t hash, const KeyOf& key_of) const {
    if (slots_.empty()) return kNone;
    const std::uint64_t tag = tag_of(hash);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const std::uint64_t s = slots_[i];
      if (s == kEmpty) return kNone;
      if (s != kTomb && (s & kTagMask) == tag && key_of(static_cast<std::uint32_t>(s)) == key) {
        return static_cast<std::uint32_t>(s);
      }
    }
  }
  // Start loading the slot a look-up of a key with this hash reads first (a batch of look-ups
  // then waits for their cache misses together, not one after the other).
  void prefetch(std::size_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
  }
  // Insert `value` (not kNone) for a key known to be absent.
  template <class KeyOf>
  void insert(std::size_t hash, std::uint32_t value, const KeyOf& key_of) {
    if ((used_ + 1) * 2 > slots_.size()) rehash(std::max<std::size_t>(64, (live_ + 1) * 4), key_of);
    place(hash, value);
    ++used_;
    ++live_;
  }
  // Remove the entry holding `value` (its key hashes to `hash`); no-op when absent.
  void erase(std::size_t hash, std::uint32_t value);
  // Room for `n` entries without growing.
  template <class KeyOf>
  void reserve(std::size_t n, const KeyOf& key_of) {
    if (n * 2 > slots_.size()) rehash(n * 2, key_of);
  }
  void clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    mask_ = 0;
    used_ = live_ = 0;
  }
  std::size_t size() const { return live_; }
  std::size_t memory_bytes() const { return slots_.capacity() * sizeof(std::uint64_t); }

 private:
  static constexpr std::uint64_t kEmpty = UINT64_MAX;
  static constexpr std::uint64_t kTomb = UINT64_MAX - 1;
  static constexpr std::uint64_t kTagMask = 0xFFFFFFFF00000000ULL;
  // The value kNone is never stored, so a live slot never equals kEmpty or kTomb.
  static std::uint64_t tag_of(std::size_t hash) {
    return static_cast<std::uint64_t>(hash) & kTagMask;
  }
  void place(std::size_t hash, std::uint32_t value) {
    std::size_t i = hash & mask_;
    while (slots_[i] != kEmpty && slots_[i] != kTomb) i = (i + 1) & mask_;
    if (slots_[i] == kTomb) --used_;  // the caller counts the slot as newly used
    slots_[i] = tag_of(hash) | value;
  }
  template <class KeyOf>
  void rehash(std::size_t min_slots, const KeyOf& key_of) {
    std::size_t cap = 64;
    while (cap < min_slots) cap <<= 1;
    std::vector<std::uint64_t> old;
    old.swap(slots_);
    slots_.assign(cap, kEmpty);
    mask_ = cap - 1;
    used_ = live_;
    for (const std::uint64_t s : old) {
      if (s == kEmpty || s == kTomb) continue;
      const auto v = static_cast<std::uint32_t>(s);
      place(std::hash<std::string_view>{}(key_of(v)), v);
    }
  }
  std::vector<std::uint64_t> slots_;  // tag | value, or kEmpty / kTomb
  std::size_t mask_ = 0;
  std::size_t used_ = 0;  // live entries + tombstones
  std::size_t live_ = 0;
};

}  // namespace trifecta::core::index
