// util/sha256_ni.hpp — one-shot SHA-256 on the x86 SHA extensions (SHA-NI), for hash.cpp.
//
// The index hashes every file and every chunk (the public content hashes), about twice the tree's
// bytes per cold build; libsodium's portable SHA-256 made that ≈ 4 % of a build's CPU. With the
// SHA instructions (Intel since Goldmont/Ice Lake, AMD since Zen) the same work is ≈ 4× cheaper.
// `sha256()` in hash.hpp uses this when `sha256_ni_available()`, libsodium otherwise; both give
// the same digest (tests/unit/util_test.cpp compares them on many lengths).
//
// Failure behaviour: none; calling `sha256_ni` when not available is a programming error (it
// would fault on the first SHA instruction).
// Thread rules: pure functions; the CPU check runs once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace trifecta::core::detail {

// True on x86-64 CPUs with SHA, SSSE3 and SSE4.1.
bool sha256_ni_available() noexcept;
// SHA-256 of data[0, size) into `out`.
void sha256_ni(const std::uint8_t* data, std::size_t size,
               std::array<std::uint8_t, 32>& out) noexcept;

}  // namespace trifecta::core::detail
