// index/segment_index.hpp — everything the daemon keeps per segment for ctx.search / ctx.get /
// ctx.status / ctx.validate: the file table, the chunk index, the watcher, and persistence.
//
// Life cycle (what the daemon does):
//   auto seg = SegmentIndex::open(root, {.channel = sink.open_segment(canonical_root)});
//   seg->build(progress);        // warm from <root>/_ctx/cache/index.bin when present, else cold
//   seg->start_watching();       // inotify; optional (tests/CLI one-shots skip it)
//   ... per request: seg->sync(); then seg->search(...) / disclosure::get(*seg, ...)
//   ... after a sync that applied changes, on a background thread: seg->settle();
//   seg->persist_if_dirty();     // on idle / shutdown (the destructor does it too)
//
// Build: the file list (workspace::list_files) is read, chunked and tokenized on `threads` worker
// threads (util/parallel.hpp's parallel_for: 0 = all cores, capped at kMaxParallelThreads; all
// joined before build returns); Python files get their skeletons from the ast::SkeletonCache
// (`<root>/_ctx/cache/ast.sqlite`). Every file gets a FileRecord; unreadable, binary, too large
// files are recorded as skipped with a reason and never abort the build. A cold build fills a
// fresh index and swaps it in at the end, so searches keep being answered from the previous
// state meanwhile (or from an empty index, with generation 0).
//
// Warm restart: `<root>/_ctx/cache/index.bin` (temp file + rename; checksummed; versioned by
// extractor, tokenizer, ranking (kRankingVersion) and config) holds the file records and the whole inverted index. build()
// loads it, re-lists and stats the tree, and re-reads only files whose size or mtime changed
// (and files that appeared); files that vanished are dropped. A corrupt, truncated or foreign
// cache file is ignored (and overwritten) — a cold build, with a warning.
//
// Freshness: `sync()` drains the watcher and applies every change already queued (the kernel
// queues inotify events synchronously, so calling it before answering reflects every change
// made before the request), except while a build runs: then it does not wait (the answer comes
// from the last published generation). start_watching() may be called before build(): changes
// made while the build walks and reads are queued and applied by the next sync. A changed file is re-read; if its SHA-256 did not change nothing is
// re-chunked. An apply of at most a few files (an edit) parses a Python file from its last parse
// when one is kept (ast::SkeletonCache, ParseMemo) and tokenizes only the chunks whose texts
// changed (ChunkAnalyses, `ApplyReport::chunks_reused`); the index it leaves is the one a fresh
// read of the same bytes gives. Queue overflow → a full rescan (`ApplyReport::rescanned`), never
// a silent gap.
// Each state change increments `generation`.
//
// Configuration: `_ctx/trifecta.json` (include / exclude / max_file_bytes) is read at open, and
// again by rebuild() (`ctx build --rebuild`) and by sync() when the file changed on disk (while
// watching: its inode, size, mtime and ctime are compared on every sync, since the watcher does
// not watch _ctx/). New include/exclude rules swap the filter, re-open the watcher and rescan:
// files now excluded are dropped, files now admitted are read — no daemon restart. A malformed
// file gives a status() warning: at open the defaults, on a re-read the rules in effect stay (no
// rescan). max_file_bytes changes only on reopen.
//
// pack_state = SHA-256 over the sorted lines "<path>\t<sha256>\n" of all indexed files.
//
// Settling: an update leaves the index outside its steady state (a tail of new postings, dead
// chunks in the frozen lists), where searches read the last freeze's lists past the dead chunks
// and cost up to about twice as much (inverted_index.hpp); settle() re-freezes it beside the
// searches (see there).
//
// Thread rules: all public methods are thread-safe. Readers (search, chunk, status, validate)
// share a std::shared_mutex; build/apply_changes/sync/persist serialise on an update mutex and
// take the state lock exclusively only to swap in results (file reading and parsing run
// outside it). settle() reads under the shared lock and swaps under the exclusive one, without
// the update mutex; an update waiting for the exclusive lock stops it. Returned values are
// copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "index/chunk.hpp"
#include "index/inverted_index.hpp"
#include "telemetry/sink.hpp"
#include "util/result.hpp"
#include "workspace/file_list.hpp"
#include "workspace/file_reader.hpp"

namespace trifecta::core::ast {
class SkeletonCache;
}

namespace trifecta::core::index {

namespace fs = std::filesystem;

// index.bin layout version. 2: posting lists delta + varint encoded (postings.hpp). 3: the
// header also holds kRankingVersion (ranking.hpp), after the tokenizer version. 4: each file
// record also holds its import references and its centrality (centrality.hpp). 5: postings
// carry five fields (the doc field, ranking rank-4), chunks five field lengths. 6: each file
// record also holds its identifier name keys (FileRecord::names, ctx.map's refs). 7: each chunk
// holds its byte offset in its file (Chunk::offset) instead of its token count. 8: import
// references keep wildcards ("a.b:*") and aliases ("a.b:c as d"; package_exports). A file of
// another format version, or of another extractor, tokenizer or ranking version, is not read:
// the build is cold and overwrites it.
inline constexpr std::uint32_t kIndexFormatVersion = 8;
// The checksum stored in index.bin's last 8 bytes over everything before them: a word-at-a-time
// multiplicative hash that detects truncation and corruption (not a security boundary: the file
// lives in the segment's own _ctx/). Exposed for tests that forge files.
std::uint64_t index_checksum(std::string_view data);

struct FileRecord {
  std::string path;              // relative
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string sha256;            // of the text as indexed (after UTF-8 repair); "" when skipped
  bool indexed = false;          // false: skipped
  std::string skip_reason;       // binary | too_large | unreadable | missing | not_regular |
                                 // path_too_long (a file, or a directory too deep to list) | ...
  std::string detail;            // human-readable message for skips / warnings
  std::uint64_t replaced_bytes = 0;  // > 0: non-UTF-8, decoded with U+FFFD (flagged)
  bool parse_partial = false;    // Python with syntax errors (chunked from what parsed)
  std::uint32_t chunks = 0;
  std::vector<std::string> imports;  // Python: import references (centrality.hpp import_refs)
  // Python: util key_hash64 of each distinct identifier of the file's code (the names of its
  // ast::IdentifierTable: code only, exact case), sorted; what name_reach counts.
  std::vector<std::uint64_t> names;
  double centrality = 0.0;       // import-graph PageRank, mean 1.0 over Python files; 0 for others
};

// One file of the import graph with its centrality (SegmentIndex::central_files).
struct CentralFile {
  std::string path;
  double centrality = 0.0;
  // Names a package re-exports from this file, sorted; "*" for all its public names; and how
  // much of an interface that package is, in [0, 1] (centrality.hpp package_exports).
  std::vector<std::string> exports;
  double interface = 0.0;
};

struct SegmentOptions {
  unsigned threads = 0;          // 0 = hardware threads (parallel_threads: capped at 64)
  bool persist = true;           // read/write <root>/_ctx/cache/index.bin
  bool persist_skeletons = true; // also back the skeleton cache by <root>/_ctx/cache/ast.sqlite
  bool use_git = true;           // list with git when the root is in a work tree
  fs::path cache_dir;            // "" = <root>/_ctx/cache
  telemetry::Channel channel;    // counters/events (builds count ast parses, write no ast.parse events)
};

using ProgressFn = std::function<void(std::size_t done, std::size_t total)>;

struct BuildReport {
  bool warm = false;             // started from the persisted index
  std::string cold_reason;       // why the persisted index was not used ("" when warm)
  workspace::ListingSource source = workspace::ListingSource::kWalk;
  std::size_t files_listed = 0, files_indexed = 0, files_skipped = 0;
  std::size_t files_read = 0;    // files actually read and (re)chunked by this build
  std::size_t files_reused = 0;  // taken unchanged from the persisted index
  std::size_t chunks = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t generation = 0;
  double elapsed_ms = 0.0, list_ms = 0.0, load_ms = 0.0, persist_ms = 0.0;
  unsigned threads = 0;
  std::vector<std::string> warnings;
};

struct ApplyReport {
  std::size_t reindexed = 0;     // content changed → re-chunked
  std::size_t unchanged = 0;     // event but same content hash (nothing re-chunked)
  std::size_t added = 0, removed = 0, skipped = 0;
  bool rescanned = false;        // a full rescan happened (watch overflow, explicit, config change)
  bool deferred = false;         // sync(): a build holds the index, nothing applied (changes stay queued)
  bool config_reloaded = false;  // _ctx/trifecta.json changed its include/exclude rules
  std::uint64_t generation = 0;
  std::uint64_t bytes_read = 0;
  // Chunks of re-chunked files whose analysis (their tokens per field) was the file's previous
  // version's, not tokenized again: an apply of at most a few files keeps each file's analyses
  // for its next edit (index/inverted_index.hpp ChunkAnalyses).
  std::size_t chunks_reused = 0;
  std::vector<std::string> warnings;
  std::vector<std::string> changed_paths;  // re-chunked or added (for the daemon's Pyright sync)
  std::vector<std::string> removed_paths;  // dropped from the index
  // Files whose state in the index changed (removed, re-indexed, added or now skipped).
  std::size_t changed_files() const { return removed + reindexed + added + skipped; }
};

struct Status {
  std::uint64_t generation = 0;
  std::size_t files_indexed = 0, files_skipped = 0, files_non_utf8 = 0;
  std::map<std::string, std::size_t> skip_reasons;  // reason → count
  // Up to kSkippedShown of the skipped files: those skipped for a reason other than never_code
  // first (a file too large, binary or unreadable is what a user looks for; translation catalogs
  // and images are skipped by design), each group in path order. files_skipped counts them all.
  static constexpr std::size_t kSkippedShown = 100;
  std::vector<FileRecord> skipped;
  std::size_t chunks = 0, terms = 0;
  std::string last_update;       // ISO-8601 UTC of the last state change ("" before any build)
  std::string pack_state;
  std::string source;            // "git" | "walk"
  bool built = false, watching = false, warm_start = false, dirty = false;
  std::uint64_t rescans = 0;
  // Directories the watcher watches (one inotify watch each, against fs.inotify.max_user_watches;
  // those the ignore rules exclude whole are not watched). As of the last sync, build or rescan.
  std::size_t watched_dirs = 0;
  // The index is in its steady state (InvertedIndex::steady): every search prunes fully. False
  // after an update until settle() ran (the daemon runs it in the background after each change).
  bool steady = true;
  std::size_t memory_bytes = 0;  // approximate index heap
  std::vector<std::string> warnings;  // config problems, a segment root gone or re-created
};

struct ValidateReport {
  std::vector<std::string> stale;    // indexed content differs from disk
  std::vector<std::string> missing;  // in the index, gone from disk (or now excluded)
  std::vector<std::string> added;    // on disk (listed), not in the index
  std::size_t checked = 0;
  std::uint64_t generation = 0;
  bool ok() const { return stale.empty() && missing.empty() && added.empty(); }
};

class SegmentIndex {
 public:
  // Canonicalises `root` and loads `_ctx/trifecta.json` (a malformed config → defaults plus a
  // warning in status()). Errors: kNotFound / kIo when `root` is not a directory.
  static Result<std::unique_ptr<SegmentIndex>> open(const fs::path& root, SegmentOptions options = {});
  ~SegmentIndex();  // persist_if_dirty()
  SegmentIndex(const SegmentIndex&) = delete;
  SegmentIndex& operator=(const SegmentIndex&) = delete;

  // Build (warm when possible). `progress` is called from worker threads, serialised, with
  // (done, total) over the files that need reading. Errors only when the root cannot be listed.
  Result<BuildReport> build(const ProgressFn& progress = {});
  // Force a cold rebuild (ignores the persisted index).
  Result<BuildReport> rebuild(const ProgressFn& progress = {});

  // Re-check these relative paths (files or directories) against the disk: changed → re-chunked,
  // gone → removed, new → added (if listing rules admit them). Never fails.
  ApplyReport apply_changes(const std::vector<std::string>& paths);

  // Bring the index back to its steady state after updates (InvertedIndex::steady): until then a
  // long query costs 3-12x more (docs/benchmarks.md, "Searches after an edit"). The freeze is
  // prepared under the shared lock, beside searches (InvertedIndex::prepare_freeze: ~80 ms after
  // an edit on the stdlib, ~0.3 s on four copies, in the daemon), and installed under the
  // exclusive lock by moves; an update arriving meanwhile makes it stop (the update's sync waits
  // ~1 ms more at the median, 3-7 ms at most on four stdlib copies), and it prepares again from
  // the updated index (at most three attempts). Answers are the same before and after (same
  // generation). For a background thread after sync() or apply_changes() applied something
  // (Service::sync posts it to the build executor); concurrent calls are folded into one run.
  // First it writes the skeleton rows a sync(publish = false) left in the cache's queue (also
  // when the index is steady already). True when it installed a steady state. Counters
  // index_settle_count / index_settle_discarded, latency "index.settle" (prepare to commit) in
  // telemetry.
  bool settle();

  // Start the inotify watcher. It skips the directories the last listing found ignored whole
  // (workspace::FileListing::ignored_dirs; every build and rescan names them anew). A change to a
  // `.gitignore` anywhere in the tree makes the next sync a rescan: files it now ignores leave
  // the index, files it no longer ignores come in, and the watches follow. Errors: kUnavailable
  // (inotify unusable).
  Result<void> start_watching();
  // Directories the watcher watches now (0 without one). Waits for a running build or update
  // (status().watched_dirs does not: the count as of the last sync, build or rescan).
  std::size_t watched_dirs() const;
  // A duplicate of the watcher's descriptor (close-on-exec; the caller owns it): readable while
  // changes are queued, for an event loop that has them applied without waiting for a request
  // (Service's background apply). A config reload or a rescan watches again on the same
  // descriptor; the copy stays valid when the segment closes its watcher (it then never becomes
  // readable), so fetch a new one after each sync. -1 without a watcher (or when the descriptor
  // table is full).
  int dup_watch_fd() const;
  // Drain the watcher and apply what it reports (a full rescan on overflow, a re-created root or
  // a changed `.gitignore`). No-op without a watcher. Call before answering each request.
  // Never waits for a build: while one runs it
  // returns at once (`deferred`), the index answers from its last published state, and the
  // changes stay queued for the next sync. When something changed, counters index_sync_changes /
  // index_rescan_count move and the pack_state is re-published to telemetry (last_run.json) —
  // unless `publish` is false: then the caller calls publish_pack_state() when the report has
  // changed files or a rescan, off the request path. Service::sync does so on the build executor:
  // the pack_state hashes every file record and counts the live terms (status()), 3.5-4.9 ms of
  // a one-file edit's 9.5-14 ms sync on the stdlib demo tree, which the request need not wait for.
  // With `publish` false the edited files' new skeleton rows are not written to the skeleton
  // cache's SQLite file either (~0.3 ms of a one-file edit): settle() writes them, and the cache
  // serves them from memory until then. A rescan writes its rows at once.
  ApplyReport sync(bool publish = true);

  // The index's search; unless `options.chunk_text` is set, the verbatim and message signals
  // (ranking.hpp, rank-15, rank-22) read their candidates' text through reader() (ReadPurpose::kRank, under the shared
  // state lock; counted in the reader's totals only): only the chunk's bytes when its file's size
  // and mtime are its record's and its bytes are its text (Chunk::offset), else its lines from
  // the whole file (each file read at most once a search, split into lines only as far as asked,
  // decoded as the build decodes only when not plain ASCII).
  Result<SearchResult> search(const SearchOptions& options) const;
  // A superset of the files whose text contains the identifier `word` as a whole word: the
  // indexed files with a chunk holding its whole-word token (tokens are lowercased, so the match
  // is case-insensitive), plus every listed file the index skipped (it cannot speak for those).
  // Sorted. nullopt when the index cannot tell: not built yet, or `word` yields no whole-word
  // token (under 2 characters without its leading/trailing `_`, or over kMaxTokenBytes).
  // What the AST fallback's references() (lib/lang/python) reads instead of every file. Thread-safe.
  std::optional<std::vector<std::string>> files_with_word(std::string_view word) const;
  // For each (path, name) asked: how many indexed Python files other than `path` use the
  // identifier `name` in their code — as written (case counts), as a whole identifier (not a
  // piece of `is_name`), in code (strings and comments hold no identifiers) — ctx.map's measure
  // of how much of the tree uses a definition; and how many indexed Python files there are. 0
  // before the first build. From FileRecord::names: the first call after a build counts every
  // file's names once into a hash table (about 30 bytes a distinct name) that updates then keep
  // current file by file; each ask is one look-up. Thread-safe.
  struct NameAsk {
    std::string path;
    std::string name;
  };
  struct NameReach {
    std::vector<std::uint32_t> refs;  // per ask
    std::size_t files = 0;            // indexed Python files
  };
  NameReach name_reach(const std::vector<NameAsk>& asks) const;

  // By id / path as stored, else by its percent-escaped form (a name that is not UTF-8, as
  // replies write it: util/utf8.hpp escape_name).
  std::optional<Chunk> chunk(std::string_view id) const;
  std::vector<Chunk> chunks_of(std::string_view path) const;
  std::optional<FileRecord> file(std::string_view path) const;
  // Whether some listed file (indexed or skipped) lies below the directory `dir` (relative, a
  // trailing '/' allowed): ctx.get tells a folder from an unknown path with it.
  bool has_files_under(std::string_view dir) const;

  // Import-graph centrality (index/centrality.hpp): PageRank over the Python files' imports,
  // scaled to mean 1.0, recomputed by every build and by every update that touches a Python
  // file, persisted with the records. A query-independent prior for ranking and `ctx.map`.
  // 0.0 for a path that is not an indexed Python source file.
  double centrality(std::string_view path) const;
  // The indexed Python files at or under `dir` ("" or "." = all; a file path names that file),
  // most central first (ties: path order), at most `limit` (0 = all), each with the names its
  // packages re-export from it (worked out again only after a build or an update that may have
  // changed the import graph; an edit that keeps every import keeps them).
  std::vector<CentralFile> central_files(std::string_view dir, std::size_t limit = 0) const;

  // Holds the state lock shared while it reads; the pack_state's SHA-256 (~4 ms on four stdlib
  // copies) is hashed after it lets go, from a copy of its input, once per change of the file
  // records (a settle changes none), so a writer waits ~3 ms at most for a status() there.
  Status status() const;
  // The index's approximate heap bytes (Status::memory_bytes) alone. status() and this compute it
  // once per change of the index, not per call: both walk every chunk or file, which took ~40 ms
  // on four stdlib copies for every `status`. It counts the records' identifier keys and, once a
  // map has asked for it, name_reach's table.
  std::size_t memory_bytes() const;
  // Re-list and re-hash the tree (reads every file; ReadPurpose::kValidate). What it finds is
  // published as pack_state.stale_detected (true unless the report is ok()).
  Result<ValidateReport> validate(workspace::ReadStats* stats = nullptr) const;

  // Keep a parse of the indexed Python file `rel` for its first edit (ast::SkeletonCache::keep_parse):
  // the file is read through reader() (ReadPurpose::kSkeleton; counted in `stats` when given) and
  // parsed once, outside every lock of the index. The daemon calls it on its build executor for
  // the files a ctx.get showed. False when nothing was kept: not an indexed Python file, larger
  // than ast::kParseMemoBytes, unreadable, or a parse kept for it already.
  bool keep_parse(const std::string& rel, workspace::ReadStats* stats = nullptr);

  // Write <cache>/index.bin now (temp + rename). Errors: kIo.
  Result<void> persist();
  void persist_if_dirty();

  // pack_state + counts as a JSON-able summary, also pushed to telemetry (last_run.json).
  void publish_pack_state() const;

  const fs::path& root() const;
  const workspace::FileReader& reader() const;
  ast::SkeletonCache& skeletons();
  // A copy: the rules change when _ctx/trifecta.json is reloaded (see "Configuration" above).
  workspace::PathFilter filter() const;
  fs::path cache_file() const;
  telemetry::Channel& channel();
  std::uint64_t generation() const;

 private:
  struct Impl;
  explicit SegmentIndex(std::unique_ptr<Impl> impl);
  ApplyReport sync_locked(bool& pack_dirty, bool write_rows);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trifecta::core::index
