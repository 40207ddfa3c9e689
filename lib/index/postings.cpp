#include "index/postings.hpp"

namespace trifecta::core::index {

namespace {

void put_posting(std::vector<std::uint8_t>& out, std::uint32_t delta, const Posting& p) {
  std::uint64_t mask = 0;
  for (std::size_t f = 0; f < kPostingFields; ++f) mask |= p.tf[f] ? (1u << f) : 0u;
  bytes::put_varint(out, (static_cast<std::uint64_t>(delta) << kFieldMaskBits) | mask);
  for (std::size_t f = 0; f < kPostingFields; ++f) {
    if (p.tf[f]) out.push_back(p.tf[f]);
  }
}

// Appends `bytes` (an encoded list, trusted) to `out` without the postings of the documents set
// in `dead` (`dead_words` 64-bit words): the runs of kept postings copied as they are, only the
// posting after a left-out one re-encoded (its delta spans them). `kept` is the document the
// first delta in `out` counts from, then the last kept one. Returns the postings kept.
std::size_t splice(std::vector<std::uint8_t>& out, std::string_view bytes,
                   const std::uint64_t* dead, std::size_t dead_words, std::uint64_t& kept) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const auto* const end = p + bytes.size();
  const std::uint8_t* run = p;  // the kept postings from here on are not copied yet
  std::uint64_t doc = 0;
  bool gap = false;  // a posting was left out since the last kept one
  std::size_t n = 0;
  while (p < end) {
    const std::uint8_t* const at = p;
    const std::uint64_t v = read_posting_head(p, end);
    doc += v >> kFieldMaskBits;
    const std::uint8_t* const tfs = p;
    p += std::min<std::size_t>(kTfLayouts[v & kFieldMask].count, static_cast<std::size_t>(end - p));
    if (doc / 64 < dead_words && ((dead[doc / 64] >> (doc % 64)) & 1u) != 0) {
      out.insert(out.end(), run, at);
      run = p;
      gap = true;
      continue;
    }
    if (gap) {
      bytes::put_varint(out, ((doc - kept) << kFieldMaskBits) | (v & kFieldMask));
      out.insert(out.end(), tfs, p);
      run = p;
      gap = false;
    }
    kept = doc;
    ++n;
  }
  out.insert(out.end(), run, end);
  return n;
}

}  // namespace

void PostingListBuilder::add(const Posting& p) {
  put_posting(out_, p.doc - prev_, p);
  prev_ = p.doc;
  ++count_;
}

void PostingListBuilder::add_spliced(std::string_view bytes, const std::uint64_t* dead,
                                     std::size_t dead_words) {
  std::uint64_t kept = prev_;
  count_ += splice(out_, bytes, dead, dead_words, kept);
  prev_ = static_cast<std::uint32_t>(kept);
}

bool validate_list(std::string_view bytes, std::size_t count, std::uint64_t doc_limit) {
  PostingCursor c(bytes);
  Posting p;
  std::size_t n = 0;
  while (c.next(p)) {
    if (p.doc >= doc_limit || p.tf == std::array<std::uint8_t, kPostingFields>{}) return false;
    ++n;
  }
  return !c.bad() && n == count;
}

std::string_view FrozenPostings::bytes(std::uint32_t term) const {
  if (term + std::size_t{1} >= offsets_.size()) {
    const std::size_t e = term - counts_.size();
    if (term < counts_.size() || e >= ext_ends_.size()) return {};
    const std::size_t from = e == 0 ? 0 : ext_ends_[e - 1];
    return std::string_view(reinterpret_cast<const char*>(ext_bytes_.data()) + from,
                            ext_ends_[e] - from);
  }
  const auto b = offsets_[term], e = offsets_[term + 1];
  return std::string_view(reinterpret_cast<const char*>(bytes_.data()) + b, e - b);
}

void FrozenPostings::extend(std::vector<std::uint8_t> bytes, std::vector<std::uint32_t> ends,
                            std::vector<std::uint32_t> counts) {
  ext_bytes_ = std::move(bytes);
  ext_ends_ = std::move(ends);
  ext_counts_ = std::move(counts);
}

FrozenPostings::Extension FrozenPostings::take_extension() {
  Extension e{std::move(ext_bytes_), std::move(ext_ends_), std::move(ext_counts_)};
  clear_extension();
  return e;
}

void FrozenPostings::clear_extension() {
  ext_bytes_ = {};
  ext_ends_ = {};
  ext_counts_ = {};
}

void FrozenPostings::begin_term(std::uint32_t term) {
  clear_extension();
  if (open_) {
    offsets_.push_back(bytes_.size());
    open_ = false;
  }
  while (counts_.size() < term) {
    counts_.push_back(0);
    offsets_.push_back(bytes_.size());
  }
  counts_.push_back(0);
  prev_doc_ = 0;
  open_ = true;
}

void FrozenPostings::add(const Posting& p) {
  put_posting(bytes_, p.doc - prev_doc_, p);
  prev_doc_ = p.doc;
  ++counts_.back();
  ++total_;
}

void FrozenPostings::add_encoded(std::string_view bytes, std::uint32_t count) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  counts_.back() += count;
  total_ += count;
}

std::size_t FrozenPostings::add_spliced(std::string_view bytes, const std::uint64_t* dead,
                                        std::size_t dead_words) {
  std::uint64_t kept = prev_doc_;  // the last kept document (0 before the first)
  const std::size_t n = splice(bytes_, bytes, dead, dead_words, kept);
  counts_.back() += static_cast<std::uint32_t>(n);
  total_ += n;
  prev_doc_ = static_cast<std::uint32_t>(kept);
  return n;
}

void FrozenPostings::finish(std::size_t term_count) {
  clear_extension();
  if (open_) {
    offsets_.push_back(bytes_.size());
    open_ = false;
  }
  while (counts_.size() < term_count) {
    counts_.push_back(0);
    offsets_.push_back(bytes_.size());
  }
  const auto fit = [](auto& v) {
    if (v.capacity() - v.size() > v.size() / 8) v.shrink_to_fit();
  };
  fit(bytes_);
  fit(offsets_);
  fit(counts_);
}

void IdTable::erase(std::size_t hash, std::uint32_t value) {
  if (slots_.empty()) return;
  const std::uint64_t want = tag_of(hash) | value;
  for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
    if (slots_[i] == kEmpty) return;
    if (slots_[i] == want) {
      slots_[i] = kTomb;
      --live_;
      return;
    }
  }
}

}  // namespace trifecta::core::index
