// util/bytes.hpp — THE byte codec of the persisted formats (skeleton rows in ast.sqlite,
// index.bin, the posting lists): fixed-width little-endian integers, LEB128 varints (zigzag for
// signed values), length-prefixed strings, a bounds-checked reader, and the checksum trailer.
//
//   Writer w(out);  w.u32(7); w.varint(300); w.str_var("name");   // appends to a std::string
//   Reader r(bytes); auto n = r.u32("count"); ...; if (!r.ok()) -> r.failure(), r.error()
//
// Fixed-width integers are little-endian whatever the host (memcpy on little-endian hosts, the
// only ones we build for today). A varint is 7 bits a byte, low bits first, at most 10 bytes.
//
// Failure behaviour: writing never fails. A Reader never reads outside its bytes: the first read
// that does not fit (kTruncated) or that decodes to nonsense (kMalformed: a varint over 64 bits,
// or a value the caller rejects with fail()) stops it — every later read returns 0 / "" and `error()`
// names the first field that failed, so callers check once at the end.
//
// Thread rules: plain values over caller-owned buffers; no shared state.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace trifecta::core::bytes {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

inline void store_u32(char* p, std::uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void store_u64(char* p, std::uint64_t v) noexcept {
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline std::uint32_t load_u32(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}
inline std::uint64_t load_u64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

inline std::uint64_t zigzag(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t u) noexcept {
  return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
}

inline constexpr std::size_t kMaxVarintBytes = 10;

// Append one varint to a byte vector (the posting lists' buffer type).
inline void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}

// Appends to a std::string.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) {
    char b[4];
    store_u32(b, v);
    out_.append(b, 4);
  }
  void u64(std::uint64_t v) {
    char b[8];
    store_u64(b, v);
    out_.append(b, 8);
  }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void svarint(std::int64_t v) { varint(zigzag(v)); }
  void raw(std::string_view s) { out_.append(s); }
  // Length-prefixed strings: u32 length (index.bin) or varint length (skeleton rows).
  void str_u32(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void str_var(std::string_view s) {
    varint(s.size());
    out_.append(s);
  }
  // Overwrite a fixed-width value written earlier at byte offset `at` (a count or size known
  // only later).
  void patch_u32(std::size_t at, std::uint32_t v) { store_u32(out_.data() + at, v); }
  void patch_u64(std::size_t at, std::uint64_t v) { store_u64(out_.data() + at, v); }
  std::size_t size() const { return out_.size(); }
  std::string& buffer() { return out_; }

 private:
  std::string& out_;
};

enum class Failure { kNone, kTruncated, kMalformed };

// Reads `bytes` front to back, checking every read (see the header comment).
class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes.data()), begin_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool ok() const { return failure_ == Failure::kNone; }
  Failure failure() const { return failure_; }
  // Name of the first field that failed ("" while ok; the field name given to the read, or
  // "bytes" when none was given).
  const std::string& error() const { return error_; }
  bool at_end() const { return p_ == end_; }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  std::size_t position() const { return static_cast<std::size_t>(p_ - begin_); }

  // Stop with kMalformed (a value the caller found out of range); the first failure wins.
  void fail(const char* what, Failure why = Failure::kMalformed) {
    if (failure_ == Failure::kNone) {
      failure_ = why;
      error_ = what ? what : "bytes";
    }
    p_ = end_;
  }
  // True when `n` more bytes are there; otherwise fails with kTruncated.
  bool need(std::size_t n, const char* what = nullptr) {
    if (static_cast<std::size_t>(end_ - p_) >= n && ok()) return true;
    fail(what, Failure::kTruncated);
    return false;
  }

  std::uint8_t u8(const char* what = nullptr) { return need(1, what) ? static_cast<std::uint8_t>(*p_++) : 0; }
  std::uint32_t u32(const char* what = nullptr) {
    if (!need(4, what)) return 0;
    const std::uint32_t v = load_u32(p_);
    p_ += 4;
    return v;
  }
  std::uint64_t u64(const char* what = nullptr) {
    if (!need(8, what)) return 0;
    const std::uint64_t v = load_u64(p_);
    p_ += 8;
    return v;
  }
  std::uint64_t varint(const char* what = nullptr) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!need(1, what)) return 0;
      const auto b = static_cast<std::uint8_t>(*p_++);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    fail(what, Failure::kMalformed);  // more than 64 bits
    return 0;
  }
  std::int64_t svarint(const char* what = nullptr) { return unzigzag(varint(what)); }
  // A varint signed value that must fit an int.
  int i32_var(const char* what = nullptr) {
    const std::int64_t v = svarint(what);
    if (v < INT32_MIN || v > INT32_MAX) return fail(what), 0;
    return static_cast<int>(v);
  }
  // A varint count of items that take at least one byte each: never more than the bytes left
  // (a larger one means the bytes were cut short or damaged: kTruncated, before the caller
  // allocates for it).
  std::size_t count_var(const char* what = nullptr) {
    const std::uint64_t n = varint(what);
    if (n > remaining()) return fail(what, Failure::kTruncated), 0;
    return static_cast<std::size_t>(n);
  }
  // The next `n` bytes, in place.
  std::string_view raw(std::size_t n, const char* what = nullptr) {
    if (!need(n, what)) return {};
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  std::string str_u32(const char* what = nullptr) {
    const std::uint32_t n = u32(what);
    return std::string(raw(n, what));
  }
  std::string str_var(const char* what = nullptr) {
    const std::size_t n = count_var(what);
    return std::string(raw(n, what));
  }

 private:
  const char* p_;
  const char* begin_;
  const char* end_;
  Failure failure_ = Failure::kNone;
  std::string error_;
};

// ---- checksum trailer --------------------------------------------------------------------------
// A sealed blob is `body` followed by the u64 (little-endian) checksum of `body`. The checksum
// function is the format's own (skeleton rows: util::checksum64; index.bin: index_checksum).

using ChecksumFn = std::uint64_t (*)(std::string_view);

inline void seal(std::string& out, ChecksumFn sum) {
  const std::uint64_t v = sum(out);
  Writer(out).u64(v);
}

// True, with `body` set, when `sealed` ends with the checksum of what precedes it; false when it
// is shorter than the trailer or the checksum does not match (`body` untouched).
inline bool unseal(std::string_view sealed, ChecksumFn sum, std::string_view& body) {
  if (sealed.size() < 8) return false;
  const std::string_view b = sealed.substr(0, sealed.size() - 8);
  if (sum(b) != load_u64(sealed.data() + b.size())) return false;
  body = b;
  return true;
}

}  // namespace trifecta::core::bytes
