// util/hash.hpp — content hashing through libsodium.
//
// SHA-256 is the public content hash (chunk hashes, segment ids, telemetry redaction), computed by
// libsodium's crypto_hash_sha256 only: the project carries no crypto code of its own (the in-house
// SHA-NI path was removed; its cost is recorded in docs/benchmarks.md). BLAKE2b (128-bit) is the
// fast internal cache key. libsodium is initialised once, lazily and thread-safely,
// on first use; if `sodium_init()` fails the process cannot hash and aborts with a message
// (there is no meaningful degraded mode).
//
// Thread rules: every function is thread-safe and allocation-light.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace trifecta::core {

using Sha256 = std::array<std::uint8_t, 32>;

void ensure_sodium();  // idempotent; called by every function below

Sha256 sha256(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);
// First `chars` hex characters of sha256(bytes); `chars` is clamped to [1, 64].
std::string sha256_prefix(std::string_view bytes, std::size_t chars = 8);
// 128-bit BLAKE2b of `bytes`, as 32 hex characters: a cache key, not a public identifier.
std::string blake2b_hex(std::string_view bytes);
// 64-bit SipHash-2-4 of `bytes` under a fixed key: a checksum that detects accidental damage
// (torn or bit-flipped cache rows), not a MAC and not a public identifier.
std::uint64_t checksum64(std::string_view bytes);
// 64-bit SipHash-2-4 of `bytes` under another fixed key: a compact key for a name in a persisted
// table (index.bin's identifier names per file), the same in every process and build. Distinct
// names collide with probability about n² / 2⁶⁵ (n = 10⁶ names: 3 · 10⁻⁸); not a MAC.
std::uint64_t key_hash64(std::string_view bytes);
// `segment_id` of a canonical segment path: first 8 hex chars of its SHA-256.
inline std::string segment_id_of(std::string_view canonical_path) {
  return sha256_prefix(canonical_path, 8);
}
std::string to_hex(const std::uint8_t* data, std::size_t size);

}  // namespace trifecta::core
