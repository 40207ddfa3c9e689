// workspace/file_reader.hpp — THE file-reading layer: the only code that reads segment files on
// a client's behalf (index builds, ctx.get, validate, and the text a search ranks by).
//
// Every read goes through `FileReader::read`, which
//  * resolves the path with util's `resolve_in_root` (relative paths, or absolute paths already
//    inside the root): `..` above the root, absolute paths outside it and symlinks that lead out
//    of the tree are refused with kPathEscape, before anything is opened;
//  * opens through util/regular_file.hpp (O_NONBLOCK | O_NOFOLLOW, then fstat: a FIFO, socket or
//    device never blocks a reader) and refuses non-regular files (kInvalidArgument), files above `max_file_bytes` (kTooLarge, the
//    size is checked with fstat before reading), files containing a NUL byte (kBinary), missing
//    files (kNotFound) and unreadable ones (kPermission / kIo);
//  * decodes the bytes with util/utf8.hpp's `decode_source`, the one decoding every path shares:
//    valid UTF-8 as is; otherwise a PEP 263 Latin-1/cp1252 declaration is honoured (`encoding`),
//    else invalid sequences become U+FFFD and are flagged (`replaced_bytes > 0`);
//  * adds the bytes it read to the caller's `ReadStats`, under the purpose of the read (index,
//    skeleton, excerpt, raw, validate, rank) — one ReadStats per request, passed by the daemon.
// `open_ranges` opens a file with the same checks, for reads of byte ranges instead of the whole
// file (as on disk, not decoded: for a caller that knows the file's bytes are its text).
// A refused file costs no bytes in the stats (nothing was read) except binary files, whose bytes
// were read to find the NUL. Besides the caller's ReadStats, every read is also added to the
// reader's own `totals()`, so the bytes read through one reader are complete even where a caller
// passes no stats (skeletons for ast.*, sym resolution, fallback navigation).
//
// Size limit: ONE per segment, `max_file_bytes` of the segment config (`_ctx/trifecta.json`,
// default kDefaultMaxFileBytes = 1 MiB, file_list.hpp). The index, ctx.get, the skeleton cache and
// navigation all read through the segment's reader, so a file is too large for all of them or
// for none.
//
// Thread rules: FileReader is immutable after construction (apart from its totals, relaxed
// atomics) and safe from any thread. ReadStats uses relaxed atomics so the parallel index build
// can share one; read it after the work ends.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "util/regular_file.hpp"
#include "util/result.hpp"
#include "workspace/file_list.hpp"

namespace trifecta::core::workspace {

// kRank: a search reading its best candidates' lines (the verbatim signal, ranking.hpp).
enum class ReadPurpose { kIndex = 0, kSkeleton, kExcerpt, kRaw, kValidate, kRank };
inline constexpr std::size_t kReadPurposeCount = 6;
std::string_view read_purpose_name(ReadPurpose p) noexcept;  // "index" | "skeleton" | ...

// Bytes and files read, in total and per purpose.
class ReadStats {
 public:
  ReadStats() = default;
  ReadStats(const ReadStats& other) { *this = other; }
  ReadStats& operator=(const ReadStats& other);

  // `files`: 1 for a read of a file, 0 for a further range of one already counted.
  void add(ReadPurpose p, std::size_t bytes, std::uint64_t files = 1);
  std::uint64_t bytes(ReadPurpose p) const { return bytes_[idx(p)].load(std::memory_order_relaxed); }
  std::uint64_t files(ReadPurpose p) const { return files_[idx(p)].load(std::memory_order_relaxed); }
  std::uint64_t total_bytes() const;
  std::uint64_t total_files() const;

 private:
  static std::size_t idx(ReadPurpose p) { return static_cast<std::size_t>(p); }
  std::array<std::atomic<std::uint64_t>, kReadPurposeCount> bytes_{};
  std::array<std::atomic<std::uint64_t>, kReadPurposeCount> files_{};
};

struct FileContent {
  std::string text;             // UTF-8 (see decode_source: a leading BOM is kept)
  std::string encoding = "utf-8";  // how the bytes were read: "utf-8" | "latin-1" | "cp1252"
  std::size_t raw_bytes = 0;    // bytes on disk
  std::size_t replaced_bytes = 0;  // invalid UTF-8 bytes replaced (0 = clean)
  std::int64_t mtime_ns = 0;
  std::string rel;              // segment-relative, `/`-separated
};

// Reason a file was skipped, for records and status: "binary" | "too_large" | "unreadable" |
// "missing" | "outside_segment" | "not_regular" | "error".
std::string_view skip_reason_of(Errc code) noexcept;

class FileReader {
 public:
  // `root` must be canonical (util::canonical_path).
  explicit FileReader(fs::path root, std::size_t max_file_bytes = kDefaultMaxFileBytes);

  // Errors: see the header comment. `stats` may be null (then only totals() counts the read).
  Result<FileContent> read(std::string_view path, ReadPurpose purpose, ReadStats* stats) const;
  // The same checks and accounting, without decoding: `text` holds the bytes as on disk
  // (`encoding` and `replaced_bytes` are left at their defaults). For the skeleton extractor,
  // which decodes them itself (same util/utf8 decoding) and records how.
  Result<FileContent> read_bytes(std::string_view path, ReadPurpose purpose, ReadStats* stats) const;
  // Everything read through this reader since it was made.
  const ReadStats& totals() const { return totals_; }

  // A file opened for reads of byte ranges, none read yet: what a caller that needs a few spans
  // of a file (the verbatim signal: its candidates' chunks) uses instead of reading it whole.
  // Opened with the same path checks as read (kPathEscape, kNotFound, kInvalidArgument for a
  // non-regular file, kTooLarge above the size limit, …). Move-only; the descriptor closes with
  // it; it counts its reads in the reader's totals, so it must not outlive that reader. Thread
  // rules: one thread at a time (the reader it came from is shared as usual).
  class Ranges {
   public:
    // The descriptor's fstat at the open: what the caller compares with what it indexed.
    std::size_t size() const { return file_.size(); }
    std::int64_t mtime_ns() const { return file_.mtime_ns(); }
    // Bytes [offset, offset + n) as on disk — fewer where the file ends first, none past its end
    // — not decoded and not checked for NUL bytes (the caller knows the file: it indexed it).
    // kIo on a read error. Counted like a read under `purpose`, in `stats` (may be null) and the
    // reader's totals: the first range counts the file, every range its bytes.
    Result<std::string> read(std::uint64_t offset, std::size_t n, ReadPurpose purpose, ReadStats* stats);

   private:
    friend class FileReader;
    Ranges(RegularFile file, std::string rel, ReadStats& totals)
        : file_(std::move(file)), rel_(std::move(rel)), totals_(&totals) {}
    RegularFile file_;
    std::string rel_;
    ReadStats* totals_;
    bool counted_ = false;  // the file is in the stats already
  };
  Result<Ranges> open_ranges(std::string_view path) const;

  // Size and mtime without reading (same path checks). Errors as read(), minus kBinary.
  struct Meta {
    std::size_t size = 0;
    std::int64_t mtime_ns = 0;
  };
  Result<Meta> stat(std::string_view path) const;

  const fs::path& root() const { return root_; }
  std::size_t max_file_bytes() const { return max_file_bytes_; }

 private:
  // Resolve `path`, open it (util/regular_file.hpp) and apply the size limit: what read_raw and
  // open_ranges share.
  struct Opened {
    RegularFile file;
    std::string rel;
  };
  Result<Opened> open_checked(std::string_view path) const;
  Result<FileContent> read_raw(std::string_view path, ReadPurpose purpose, ReadStats* stats) const;
  fs::path root_;
  std::size_t max_file_bytes_;
  mutable ReadStats totals_;
};

}  // namespace trifecta::core::workspace
