// ast/skeleton_cache.hpp — content-addressed skeleton cache: a bounded in-memory LRU in front of
// a persisted SQLite table, plus the parallel builder that fills it for a whole tree.
//
// Key: BLAKE2b-128 of the file's bytes + kExtractorVersion. A file whose bytes did not change is
// never reparsed — not after an edit elsewhere, not after a daemon restart (the table lives at
// `<segment>/_ctx/cache/ast.sqlite`, WAL mode). Paths are not part of the key: identical files
// share one skeleton. Rows hold the binary form of the skeleton (skeleton_binary.hpp: versioned,
// checksummed) and its rendered size.
//
// Failure behaviour (the cache never takes the caller down):
//  * The cache file is checked when opened (open, WAL switch, `PRAGMA quick_check`, schema). A
//    corrupt or foreign file is moved aside to `ast.sqlite.corrupt-<unix-seconds>` (with its
//    -wal/-shm) and a fresh table is created; `stats().rebuilt` says so. A cache of an older
//    schema of ours (JSON rows; rows in a WITHOUT ROWID table) is emptied and upgraded in place,
//    not counted as rebuilt.
//  * A row that does not decode (truncated, damaged — checksum —, another row-format version)
//    is deleted and counted (`bad_rows`); the file is reparsed.
//  * If the directory cannot be written, or SQLite reports corruption later, the cache continues
//    in memory only (`stats().persistent == false`, reason in `warnings()`).
//  * New skeletons are written in batches (one transaction per `write_batch` entries, and at
//    flush()/destruction): a crash loses at most the unflushed rows, never consistency. While
//    the database is busy, rows wait (at most 16 batches; beyond that the oldest are not
//    persisted, with a warning — they stay in the memory tier).
//  * `get` fails only for the file itself, with the FileReader's errors (kNotFound, kPermission,
//    kIo, kTooLarge above the reader's limit, kBinary, kPathEscape outside the reader's root,
//    kInvalidArgument for non-regular files), or kUnavailable if the tree-sitter runtime is unusable.
//
// Reading: `get` reads through a workspace::FileReader (purpose kSkeleton), the one reader of the
// segment (CacheOptions::reader; the SegmentIndex passes its own), so its bytes are counted and its
// size limit is the segment's. Without one the cache makes its own reader rooted at `/` with
// `max_file_bytes` (tests, tools).
//
// Telemetry (through the Channel given at construction): per `get`, counters `ast_parse_count`
// (+1), `ast_cache_hit_count` or `ast_cache_miss_count` (+1), `ast_incremental_parse_count` (+1
// for a miss parsed from a kept parse, ParseReuse), and one event `ast.parse` with
// args {file: relative path}, result {status, functions, classes}, x {skeleton_bytes,
// reduction_ratio, cache_hit} — unless CacheOptions::emit_events is false or the call passes
// ParseEvents::kCountOnly (bulk callers, e.g. an index build: counted, not one event per file).
// Never file contents, never absolute paths.
//
// Thread rules: SkeletonCache is thread-safe. The LRU, the queue of unwritten rows and the SQLite
// connection have separate mutexes, and parsing and row encoding run outside all of them, so N
// threads parse N files at once. A worker that fills a batch writes it only if no other thread
// holds the connection (it never waits for a write). When the table was empty at open and the
// LRU has evicted nothing, a memory miss skips the SQLite lookup (the disk holds nothing else).
// Two threads that miss on the same content at the same time may both parse it (harmless; last
// write wins). Kept parses (ParseReuse) have a mutex of their own; a parse takes its file's out
// of the list and puts its own back, so two threads editing one file at once each parse (one of
// them from scratch) and the later keeps its tree; keep_parse adds a parse only where none is
// kept, and an edit's parse replaces one keep_parse added meanwhile (the edit's text is newer).
// Returned skeletons are immutable and shared (shared_ptr<const Skeleton>).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ast/skeleton.hpp"
#include "telemetry/sink.hpp"
#include "workspace/file_list.hpp"
#include "workspace/file_reader.hpp"
#include "util/result.hpp"

namespace trifecta::core::ast {

namespace fs = std::filesystem;

struct CacheOptions {
  std::size_t memory_entries = 8192;                 // LRU capacity (skeletons); 0 = no memory tier
  // Larger files are refused (kTooLarge; get_content: content above 3 × this, the most decoding
  // can add); the limit of the cache's own reader when `reader` is null (SegmentIndex sets it to
  // its reader's). Default: the segment default (workspace::kDefaultMaxFileBytes).
  std::size_t max_file_bytes = workspace::kDefaultMaxFileBytes;
  const workspace::FileReader* reader = nullptr;  // not owned; must outlive the cache
  std::size_t write_batch = 256;                     // skeletons per SQLite transaction
  bool emit_events = true;                           // one `ast.parse` event per get
};

// Per call: whether a get writes its `ast.parse` event (counters are always kept).
enum class ParseEvents { kEmit, kCountOnly };

// Per call: whether the content is a new version of a file the caller indexed before (an edit).
// kEdited parses incrementally from that path's last kEdited parse when the cache still holds it
// (lang/python/extractor.hpp ParseMemo), and keeps this parse for the next edit: an agent's or an
// editor's second and later edits of a file are parsed in a fraction of a fresh parse's time (the
// first edit of a file has no earlier tree and is parsed from scratch). The cache keeps the last
// parses of at most kParseMemoFiles files holding kParseMemoBytes of text in all (a tree takes
// about 22 × its text's bytes: ≈ 6 MB at most); a larger file is parsed from scratch every time.
// The skeleton is the same either way. A cache hit parses nothing and keeps nothing. keep_parse
// keeps a parse of a file before its first edit (the daemon: of the files ctx.get shows).
enum class ParseReuse { kNone, kEdited };
inline constexpr std::size_t kParseMemoFiles = 8;
inline constexpr std::size_t kParseMemoBytes = 256 * 1024;
inline constexpr std::size_t kParseTreeBytesPerTextByte = 22;  // measured (docs/benchmarks.md), for estimates

struct CachedSkeleton {
  std::shared_ptr<const Skeleton> skeleton;
  std::string content_key;        // BLAKE2b-128 hex of the content (cache key without version)
  bool cache_hit = false;         // served from memory or disk, not parsed
  std::size_t skeleton_bytes = 0; // rendered_size(*skeleton): render() with default options
  double reduction_ratio = 0.0;   // skeleton_bytes / source bytes
};

struct CacheStats {
  std::uint64_t memory_hits = 0, disk_hits = 0, misses = 0, bad_rows = 0;
  std::uint64_t rows_written = 0;
  std::uint64_t incremental_parses = 0;  // misses parsed from a kept earlier parse (ParseReuse)
  std::uint64_t kept_for_reads = 0;      // parses kept by keep_parse
  std::size_t memory_entries = 0;
  std::size_t parse_memos = 0;           // files whose last parse is kept (≤ kParseMemoFiles)
  std::size_t parse_memo_bytes = 0;      // their texts' bytes (≤ kParseMemoBytes; trees ≈ 22 × that)
  bool persistent = false;  // backed by SQLite right now
  bool rebuilt = false;     // a corrupt/foreign cache file was moved aside at open
};

class SkeletonCache {
 public:
  // `db_file` empty: memory only. Otherwise the SQLite file (its directory is created).
  // Never fails; see the failure rules above.
  SkeletonCache(fs::path db_file, telemetry::Channel channel, CacheOptions options = {});
  ~SkeletonCache();  // flush()
  SkeletonCache(const SkeletonCache&) = delete;
  SkeletonCache& operator=(const SkeletonCache&) = delete;

  // `<segment_root>/_ctx/cache/ast.sqlite`
  static fs::path default_file(const fs::path& segment_root);

  // Skeleton of the file at `abs_file` (read here, through the reader; `stats` may be null). `rel`
  // is its segment-relative path, used for telemetry only ("" = derive it with channel.relpath).
  Result<CachedSkeleton> get(const fs::path& abs_file, std::string_view rel, workspace::ReadStats* stats = nullptr,
                             ParseEvents events = ParseEvents::kEmit);
  // Same, for content the caller already read (the daemon's file layer counts its bytes). `rel`
  // also names the file for ParseReuse::kEdited.
  Result<CachedSkeleton> get_content(std::string_view content, std::string_view rel,
                                     ParseEvents events = ParseEvents::kEmit, ParseReuse reuse = ParseReuse::kNone);

  // Parse `content` and keep the parse as `rel`'s, for its next ParseReuse::kEdited call, unless
  // the cache keeps one for `rel` already (a kept parse of any earlier text serves) or the text is
  // over kParseMemoBytes: a file a client reads (ctx.get) is often the next one it edits, and then
  // its first edit parses incrementally too. It takes a kept-parse slot like an edit (the least
  // recently used file's parse goes). Costs a fresh parse and extraction (the skeleton is not
  // cached: the index holds the file's); for a background thread (the daemon's build executor).
  // True when kept; counted in CacheStats::kept_for_reads and counter `ast_parse_kept_count`.
  bool keep_parse(std::string_view content, std::string_view rel);

  // Write pending skeletons to SQLite now (one transaction).
  void flush();
  // Drop the in-memory tier and the kept parses (the persisted table stays): what a restart sees.
  void clear_memory();

  CacheStats stats() const;
  std::vector<std::string> warnings() const;
  const fs::path& file() const { return db_file_; }
  // The reader `get` uses (CacheOptions::reader, or the cache's own).
  const workspace::FileReader& reader() const;

 private:
  struct Impl;
  fs::path db_file_;
  std::unique_ptr<Impl> impl_;
};

// ---- parallel tree build ---------------------------------------------------------------------

struct BuildItem {
  fs::path abs;     // file to read
  std::string rel;  // its segment-relative path (telemetry, reports)
};

struct BuildReport {
  std::vector<Result<CachedSkeleton>> results;  // same order as the input
  std::size_t parsed = 0, hits = 0, failed = 0;
  unsigned threads = 0;
  double elapsed_ms = 0.0;
};

// Fill `cache` with the skeletons of `items` on `threads` worker threads through util's
// parallel_for (0 = one per hardware thread, capped at kMaxParallelThreads; the calling thread is
// one of them, all are joined before return), each with its own tree-sitter parser, largest files
// first; flushes the cache at the end. Per-file failures are recorded in `results` (input order)
// and never stop the build.
BuildReport build_skeletons(SkeletonCache& cache, const std::vector<BuildItem>& items,
                            unsigned threads = 0);

}  // namespace trifecta::core::ast
