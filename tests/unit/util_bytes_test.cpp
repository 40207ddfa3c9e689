// Spec of util/bytes.hpp: the one byte codec of the persisted formats.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "util/bytes.hpp"
#include "util/hash.hpp"

using namespace trifecta::core;

namespace {

// One of everything the codec writes.
std::string sample() {
  std::string out;
  bytes::Writer w(out);
  w.u8(0xAB);
  w.u32(0x01020304);
  w.u64(0x1122334455667788ULL);
  w.varint(0);
  w.varint(127);
  w.varint(128);
  w.varint(std::numeric_limits<std::uint64_t>::max());
  w.svarint(-1);
  w.svarint(std::numeric_limits<std::int64_t>::min());
  w.str_u32("fixed");
  w.str_var("varlen");
  w.str_var("");
  return out;
}

// Reads sample(); true when every value came back and the reader is at the end.
bool read_sample(std::string_view in, bytes::Reader& r) {
  const bool values = r.u8("a") == 0xAB && r.u32("b") == 0x01020304 && r.u64("c") == 0x1122334455667788ULL &&
                      r.varint("d") == 0 && r.varint("e") == 127 && r.varint("f") == 128 &&
                      r.varint("g") == std::numeric_limits<std::uint64_t>::max() && r.svarint("h") == -1 &&
                      r.svarint("i") == std::numeric_limits<std::int64_t>::min() && r.str_u32("j") == "fixed" &&
                      r.str_var("k") == "varlen" && r.str_var("l").empty();
  (void)in;
  return values && r.ok() && r.at_end();
}

}  // namespace

TEST_CASE("fixed-width integers are little-endian on disk", "[bytes]") {
  std::string out;
  bytes::Writer w(out);
  w.u32(0x01020304);
  w.u64(0x0102030405060708ULL);
  CHECK(out == std::string("\x04\x03\x02\x01\x08\x07\x06\x05\x04\x03\x02\x01", 12));
  w.patch_u32(0, 0xA0B0C0D0);
  CHECK(out.substr(0, 4) == std::string("\xD0\xC0\xB0\xA0", 4));
  CHECK(bytes::load_u64(out.data() + 4) == 0x0102030405060708ULL);
}

TEST_CASE("varints are LEB128 (7 bits a byte, low first), the same bytes for string and vector", "[bytes]") {
  std::string out;
  bytes::Writer(out).varint(300);
  CHECK(out == std::string("\xAC\x02", 2));
  std::vector<std::uint8_t> v;
  bytes::put_varint(v, 300);
  CHECK(v == std::vector<std::uint8_t>{0xAC, 0x02});
  out.clear();
  bytes::Writer(out).varint(std::numeric_limits<std::uint64_t>::max());
  CHECK(out.size() == bytes::kMaxVarintBytes);
  CHECK(bytes::zigzag(-1) == 1);
  CHECK(bytes::zigzag(1) == 2);
  CHECK(bytes::unzigzag(bytes::zigzag(-123456789)) == -123456789);
}

TEST_CASE("everything written reads back", "[bytes]") {
  const std::string s = sample();
  bytes::Reader r(s);
  CHECK(read_sample(s, r));
  CHECK(r.position() == s.size());
}

TEST_CASE("a cut at every byte is reported as truncation, never read past", "[bytes]") {
  const std::string s = sample();
  for (std::size_t cut = 0; cut < s.size(); ++cut) {
    // A copy of exactly `cut` bytes: reading past it would be caught by sanitizers and valgrind.
    const std::string head = s.substr(0, cut);
    bytes::Reader r(head);
    INFO("cut at " << cut);
    CHECK_FALSE(read_sample(head, r));
    CHECK(r.failure() == bytes::Failure::kTruncated);
    CHECK_FALSE(r.error().empty());
    // Once failed, it stays failed and returns defaults.
    CHECK(r.u64() == 0);
    CHECK(r.str_var().empty());
    CHECK(r.failure() == bytes::Failure::kTruncated);
  }
}

TEST_CASE("malformed input: an over-long varint, a count beyond the bytes, a caller's rejection", "[bytes]") {
  const std::string eleven(11, '\xFF');
  bytes::Reader a(eleven);
  CHECK(a.varint("long") == 0);
  CHECK(a.failure() == bytes::Failure::kMalformed);
  CHECK(a.error() == "long");

  std::string big;
  bytes::Writer(big).varint(1000);
  big += "abc";
  bytes::Reader b(big);
  CHECK(b.count_var("names") == 0);
  CHECK_FALSE(b.ok());
  CHECK(b.error() == "names");

  std::string line;
  bytes::Writer(line).svarint(std::int64_t{1} << 40);
  bytes::Reader c(line);
  CHECK(c.i32_var("line") == 0);
  CHECK(c.failure() == bytes::Failure::kMalformed);

  bytes::Reader d("x");
  d.fail("first");
  d.fail("second");
  CHECK(d.error() == "first");
}

TEST_CASE("a sealed blob unseals only intact", "[bytes]") {
  std::string blob = "payload bytes";
  bytes::seal(blob, checksum64);
  CHECK(blob.size() == 13 + 8);
  std::string_view body;
  REQUIRE(bytes::unseal(blob, checksum64, body));
  CHECK(body == "payload bytes");
  for (std::size_t i = 0; i < blob.size(); ++i) {
    std::string damaged = blob;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    std::string_view b2;
    INFO("bit flipped in byte " << i);
    CHECK_FALSE(bytes::unseal(damaged, checksum64, b2));
  }
  for (std::size_t cut = 0; cut < blob.size(); ++cut) {
    std::string_view b3;
    INFO("cut at " << cut);
    CHECK_FALSE(bytes::unseal(std::string_view(blob).substr(0, cut), checksum64, b3));
  }
}
