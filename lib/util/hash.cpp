#include "util/hash.hpp"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace trifecta::core {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) {
      std::fputs("trifecta: libsodium failed to initialise; cannot hash\n", stderr);
      std::abort();
    }
  });
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xF];
  }
  return out;
}

Sha256 sha256(std::string_view bytes) {
  Sha256 out{};
  ensure_sodium();
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  const Sha256 h = sha256(bytes);
  return to_hex(h.data(), h.size());
}

std::string sha256_prefix(std::string_view bytes, std::size_t chars) {
  if (chars < 1) chars = 1;
  if (chars > 64) chars = 64;
  return sha256_hex(bytes).substr(0, chars);
}

std::string blake2b_hex(std::string_view bytes) {
  ensure_sodium();
  std::uint8_t out[16];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return to_hex(out, sizeof out);
}

namespace {
std::uint64_t siphash64(std::string_view bytes, const unsigned char* key) {
  ensure_sodium();
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), key);
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | out[i];  // little-endian, as SipHash defines it
  return v;
}
}  // namespace

std::uint64_t checksum64(std::string_view bytes) {
  static const unsigned char kKey[crypto_shorthash_KEYBYTES] = {
      't', 'r', 'i', 'f', 'e', 'c', 't', 'a', 's', 'k', 'e', 'l', 'r', 'o', 'w', '1'};
  return siphash64(bytes, kKey);
}

std::uint64_t key_hash64(std::string_view bytes) {
  static const unsigned char kKey[crypto_shorthash_KEYBYTES] = {
      't', 'r', 'i', 'f', 'e', 'c', 't', 'a', 'n', 'a', 'm', 'e', 'k', 'e', 'y', '1'};
  return siphash64(bytes, kKey);
}

}  // namespace trifecta::core
