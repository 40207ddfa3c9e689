// ast/skeleton_binary.hpp — the compact binary form of a Skeleton: the row format of the
// persisted skeleton cache (ast.sqlite). JSON (skeleton.hpp) stays the wire and golden format;
// this one exists because serialising and parsing JSON cost more CPU than a cold build can spare.
//
// Layout (all integers LEB128 varints; signed ones zigzag-encoded; strings = length + bytes):
//
//   "TSKB"  u8 format-version  payload  u64 checksum (8 bytes, little-endian)
//
// The checksum is util's checksum64 (SipHash-2-4) of everything before it. The payload is the
// Skeleton's fields in declaration order (see skeleton_binary.cpp); definitions nest recursively.
// Bump kSkeletonBinaryVersion whenever the payload layout changes: rows of another version are
// refused (and the cache reparses their files). A change of *extraction* bumps kExtractorVersion
// instead (it is part of the cache key, so old rows stop matching without being read).
//
// Failure behaviour: `encode_skeleton` is total. `decode_skeleton` never reads outside its input
// and never trusts a count (each is bounded by the bytes left, nesting by kMaxDepth); it returns
// kParse naming the reason for a short or truncated input, a wrong magic, another format version,
// a checksum mismatch, an invalid enum value, or trailing bytes.
//
// Thread rules: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ast/skeleton.hpp"
#include "util/result.hpp"

namespace trifecta::core::ast {

inline constexpr std::string_view kSkeletonBinaryMagic = "TSKB";
inline constexpr std::uint8_t kSkeletonBinaryVersion = 2;  // 2: the identifier-occurrence table

std::string encode_skeleton(const Skeleton& s);
Result<Skeleton> decode_skeleton(std::string_view bytes);

}  // namespace trifecta::core::ast
