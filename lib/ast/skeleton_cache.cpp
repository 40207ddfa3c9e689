#include "ast/skeleton_cache.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <optional>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <list>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "ast/skeleton_binary.hpp"
#include "lang/python/extractor.hpp"
#include "util/clock.hpp"
#include "util/hash.hpp"
#include "util/parallel.hpp"
#include "util/paths.hpp"
#include "util/recent.hpp"
#include "util/utf8.hpp"

namespace trifecta::core::ast {

namespace {

// Schema version of the table layout (not of the extractor: that is part of each row's key).
// 1: skeleton TEXT holding JSON. 2: skeleton BLOB in the binary row format (skeleton_binary.hpp).
// 3: the same rows in a rowid table with a unique (key, version) index. Version 2 kept them in a
// WITHOUT ROWID table keyed by (key, version), whose b-tree cells hold the whole row: a lookup
// compares ~11 cells on its way down (the stdlib's 1,639 rows), and SQLite reads a cell that
// spills onto overflow pages in full to compare its key — most rows do (7.8 KiB on average, up to
// ~190 KiB) — for a miss, such as every edited file's new text, as much as for a hit. The index
// holds only the keys.
constexpr int kSchemaVersion = 3;

// A cache file at a known older layout is upgraded by dropping its rows (it is a cache), never
// moved aside as corrupt.
constexpr int kOldestUpgradableSchema = 1;

// Rows waiting for their transaction while a write is in progress or the database is busy: at
// most this many batches; beyond it the oldest rows are dropped (they stay in the memory tier and
// are simply not persisted).
constexpr std::size_t kMaxPendingBatches = 16;

struct Entry {
  std::shared_ptr<const Skeleton> skeleton;
  std::size_t skeleton_bytes = 0;
};

struct Pending {
  std::string key;
  std::shared_ptr<const Skeleton> skeleton;  // served to lookups until the row is committed
  std::string row;                           // encode_skeleton(*skeleton)
  std::size_t skeleton_bytes;
};

bool is_corruption(int rc) {
  const int primary = rc & 0xFF;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

}  // namespace

// ---- Impl ------------------------------------------------------------------------------------

struct SkeletonCache::Impl {
  telemetry::Channel channel;
  CacheOptions options;
  std::unique_ptr<workspace::FileReader> own_reader;  // when options.reader is null
  const workspace::FileReader* reader = nullptr;

  // Memory tier: LRU list (front = most recent) + index.
  mutable std::mutex mem_mu;
  std::list<std::pair<std::string, Entry>> lru;
  std::unordered_map<std::string, std::list<std::pair<std::string, Entry>>::iterator> index;

  // Rows not yet committed. Lock order: db_mu before pending_mu, never the other way round
  // (workers take pending_mu alone, for a push or a scan).
  mutable std::mutex pending_mu;
  std::vector<Pending> pending;
  bool dropped_rows = false;  // the cap dropped rows (guarded by pending_mu)

  // Disk tier: the connection and everything guarded by it.
  mutable std::mutex db_mu;
  sqlite3* db = nullptr;
  sqlite3_stmt* select_stmt = nullptr;
  sqlite3_stmt* insert_stmt = nullptr;
  sqlite3_stmt* delete_stmt = nullptr;
  sqlite3_stmt* begin_stmt = nullptr;
  sqlite3_stmt* commit_stmt = nullptr;
  std::vector<std::string> warnings;
  bool rebuilt = false;
  bool dropped_warned = false;

  std::atomic<bool> persistent{false};  // mirrors db != nullptr for lock-free checks
  // True while every row on disk was written by this cache and is still in the memory tier: the
  // table was empty at open and nothing has been evicted since. Then a memory miss is a disk miss
  // and the SELECT (and db_mu) is skipped — what makes a cold build cheap. Rows another process
  // adds meanwhile are missed: their files are reparsed, which is only wasted work.
  std::atomic<bool> disk_mirrored_in_memory{false};
  std::atomic<std::uint64_t> memory_hits{0}, disk_hits{0}, misses{0}, bad_rows{0}, rows_written{0};
  std::atomic<std::uint64_t> incremental_parses{0}, kept_for_reads{0};

  // The last parses of recently edited files (ParseReuse::kEdited), most recent first, at most
  // kParseMemoFiles of them holding kParseMemoBytes of text in all (evicted trees are freed
  // outside its lock). A memo is taken out while its file is parsed (one thread at a time uses
  // it) and kept again after.
  RecentByName<ParseMemo> memos{kParseMemoFiles, kParseMemoBytes,
                                [](const ParseMemo& m) { return m.text_bytes(); }};

  // Puts `memo` first as `rel`'s kept parse, replacing one kept for `rel` meanwhile (by keep_parse
  // while an edit parsed) — unless `if_absent`: then one kept already wins and `memo` is dropped.
  // False when `memo` was not kept.
  bool keep_memo(std::string_view rel, ParseMemo&& memo, bool if_absent = false) {
    return !memo.empty() && memos.keep(rel, std::move(memo), if_absent);
  }

  // The skeleton of an edit of `rel`: parsed from that file's kept parse if there is one (counted),
  // this parse kept for its next edit.
  Result<Skeleton> extract_edit(std::string_view content, std::string_view rel) {
    ParseMemo memo = memos.take(rel);
    auto s = extract_skeleton(content, memo);
    if (memo.incremental()) {
      ++incremental_parses;
      channel.incr("ast_incremental_parse_count");
    }
    keep_memo(rel, std::move(memo));
    return s;
  }

  ~Impl() { close_db(); }

  void close_db() {
    persistent = false;
    disk_mirrored_in_memory = false;
    for (sqlite3_stmt** st : {&select_stmt, &insert_stmt, &delete_stmt, &begin_stmt, &commit_stmt}) {
      sqlite3_finalize(*st);
      *st = nullptr;
    }
    if (db) sqlite3_close_v2(db);
    db = nullptr;
  }

  // "<name>: not a regular file" for the first of the database and its side files (-wal, -shm,
  // -journal) that exists and is not a regular file (a FIFO, a socket, a device, a directory, a
  // symlink); "" when there is none.
  static std::string non_regular_cache_file(const fs::path& file) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      const fs::path p = file.string() + suffix;
      std::error_code ec;
      const auto st = fs::symlink_status(p, ec);
      if (ec || st.type() == fs::file_type::not_found || st.type() == fs::file_type::regular) continue;
      return p.filename().string() + ": not a regular file";
    }
    return {};
  }

  // Why a cache file is unusable, or "" when it is good. Leaves `db` open on success.
  std::string try_open(const fs::path& file, bool& corrupt) {
    corrupt = false;
    int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string why = std::string("open: ") + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
      corrupt = is_corruption(rc);
      close_db();
      return why;
    }
    sqlite3_busy_timeout(db, 2000);
    auto exec = [&](const char* sql) -> std::string {
      char* err = nullptr;
      rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
      if (rc == SQLITE_OK) return {};
      std::string why = std::string(sql) + ": " + (err ? err : sqlite3_errstr(rc));
      sqlite3_free(err);
      if (is_corruption(rc)) corrupt = true;
      return why;
    };
    auto single = [&](const char* sql, std::string& out) -> std::string {
      sqlite3_stmt* st = nullptr;
      out.clear();
      rc = sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
      if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
          const auto* t = sqlite3_column_text(st, 0);
          out = t ? reinterpret_cast<const char*>(t) : "";
          rc = SQLITE_OK;
        }
      }
      std::string why = rc == SQLITE_OK || rc == SQLITE_DONE ? "" : std::string(sql) + ": " + sqlite3_errmsg(db);
      if (is_corruption(rc)) corrupt = true;
      sqlite3_finalize(st);
      return why;
    };
    std::string why = exec("PRAGMA journal_mode=WAL");
    if (why.empty()) why = exec("PRAGMA synchronous=NORMAL");
    std::string check;
    if (why.empty()) why = single("PRAGMA quick_check", check);
    if (why.empty() && check != "ok") {
      corrupt = true;
      why = "quick_check: " + check;
    }
    std::string version;
    if (why.empty()) why = single("PRAGMA user_version", version);
    const std::string current = std::to_string(kSchemaVersion);
    bool upgrade = false;
    for (int v = kOldestUpgradableSchema; v < kSchemaVersion; ++v) upgrade = upgrade || version == std::to_string(v);
    if (why.empty() && version != "0" && version != current && !upgrade) {
      corrupt = true;  // a foreign or future layout: treat like corruption, keep it for inspection
      why = "unknown schema version " + version;
    }
    if (why.empty() && version == "0") {
      // A fresh file, or one that is not ours: a non-empty file without our version is foreign.
      std::string tables;
      why = single("SELECT count(*) FROM sqlite_master", tables);
      if (why.empty() && tables != "0") {
        corrupt = true;
        why = "unexpected tables in a cache without a schema version";
      }
    }
    if (why.empty() && (version == "0" || upgrade)) {
      // An older layout of ours holds nothing this build can read: drop it in the same
      // transaction that creates the current one.
      why = exec(
          ("BEGIN IMMEDIATE; DROP TABLE IF EXISTS skeletons;"
           " CREATE TABLE skeletons(key TEXT NOT NULL, version TEXT NOT NULL, skeleton BLOB NOT NULL,"
           " skeleton_bytes INTEGER NOT NULL, UNIQUE(key, version));"
           " PRAGMA user_version=" + current + "; COMMIT")
              .c_str());
      if (!why.empty()) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    auto prepare = [&](const char* sql, sqlite3_stmt** st) {
      if (!why.empty()) return;
      rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, nullptr);
      if (rc != SQLITE_OK) {
        corrupt = corrupt || is_corruption(rc) || (rc & 0xFF) == SQLITE_ERROR;  // e.g. table missing
        why = std::string("prepare: ") + sqlite3_errmsg(db);
      }
    };
    prepare("SELECT skeleton, skeleton_bytes FROM skeletons WHERE key=?1 AND version=?2", &select_stmt);
    prepare("INSERT OR REPLACE INTO skeletons(key, version, skeleton, skeleton_bytes) VALUES(?1,?2,?3,?4)",
            &insert_stmt);
    prepare("DELETE FROM skeletons WHERE key=?1 AND version=?2", &delete_stmt);
    prepare("BEGIN IMMEDIATE", &begin_stmt);
    prepare("COMMIT", &commit_stmt);
    std::string any_row;
    if (why.empty()) why = single("SELECT 1 FROM skeletons LIMIT 1", any_row);
    if (!why.empty()) {
      close_db();
    } else {
      persistent = true;
      disk_mirrored_in_memory = any_row.empty() && options.memory_entries > 0;
    }
    return why;
  }

  void open(const fs::path& file) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) {
      warnings.push_back("skeleton cache is memory-only: cannot create its directory (" + ec.message() + ")");
      return;
    }
    ensure_ctx_gitignore(file.parent_path());  // under _ctx/: out of `git status`
    bool corrupt = false;
    // SQLite opens its files with a plain blocking open() and reads them: a FIFO (or any other
    // non-regular file) as the database or a side file would block the opening thread for good.
    // Such a file is moved aside like a corrupt one (a FIFO is renamed, never opened).
    std::string why = non_regular_cache_file(file);
    if (!why.empty()) {
      corrupt = true;
    } else {
      why = try_open(file, corrupt);
    }
    if (why.empty()) return;
    if (!corrupt) {
      warnings.push_back("skeleton cache is memory-only: " + why);
      return;
    }
    // Keep the bad file for inspection rather than deleting it; then start afresh.
    const auto stamp = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(WallClock::now().time_since_epoch()).count());
    const fs::path aside = file.string() + ".corrupt-" + stamp;
    fs::rename(file, aside, ec);
    if (ec) fs::remove(file, ec);
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
      const fs::path side = file.string() + suffix;
      std::error_code ec2;
      if (fs::exists(side, ec2)) {
        fs::rename(side, aside.string() + suffix, ec2);
        if (ec2) fs::remove(side, ec2);
      }
    }
    rebuilt = true;
    warnings.push_back("skeleton cache was unusable (" + why + "); moved aside to " +
                       aside.filename().string() + " and rebuilt");
    std::string again = try_open(file, corrupt);
    if (!again.empty()) warnings.push_back("skeleton cache is memory-only: " + again);
  }

  // Called with db_mu held. Any corruption from here on turns persistence off for this run.
  void db_failed(int rc, std::string_view what) {
    warnings.push_back("skeleton cache is memory-only from now on: " + std::string(what) + ": " +
                       (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    close_db();
    std::lock_guard lock(pending_mu);
    pending.clear();
  }

  std::optional<Entry> disk_lookup(const std::string& key) {
    if (!persistent.load(std::memory_order_relaxed)) return std::nullopt;
    {
      // A skeleton still waiting for its transaction is as good as a persisted one.
      std::lock_guard lock(pending_mu);
      for (const auto& p : pending) {
        if (p.key == key) return Entry{p.skeleton, p.skeleton_bytes};
      }
    }
    if (disk_mirrored_in_memory.load(std::memory_order_relaxed)) return std::nullopt;
    std::lock_guard lock(db_mu);
    if (!db) return std::nullopt;
    sqlite3_reset(select_stmt);
    sqlite3_bind_text(select_stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_text(select_stmt, 2, kExtractorVersion.data(), static_cast<int>(kExtractorVersion.size()),
                      SQLITE_STATIC);
    const int rc = sqlite3_step(select_stmt);
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) {
      if (is_corruption(rc)) db_failed(rc, "lookup");
      return std::nullopt;
    }
    const auto* blob = static_cast<const char*>(sqlite3_column_blob(select_stmt, 0));
    const int len = sqlite3_column_bytes(select_stmt, 0);
    const auto bytes = sqlite3_column_int64(select_stmt, 1);
    std::optional<Entry> out;
    if (bytes >= 0) {
      auto s = decode_skeleton(std::string_view(blob ? blob : "", static_cast<std::size_t>(len)));
      if (s && s->extractor_version == kExtractorVersion) {
        out = Entry{std::make_shared<const Skeleton>(std::move(*s)), static_cast<std::size_t>(bytes)};
      }
    }
    sqlite3_reset(select_stmt);
    if (!out) {
      ++bad_rows;
      sqlite3_reset(delete_stmt);
      sqlite3_bind_text(delete_stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
      sqlite3_bind_text(delete_stmt, 2, kExtractorVersion.data(), static_cast<int>(kExtractorVersion.size()),
                        SQLITE_STATIC);
      const int drc = sqlite3_step(delete_stmt);
      sqlite3_reset(delete_stmt);
      if (is_corruption(drc)) db_failed(drc, "delete bad row");
    }
    return out;
  }

  // Worker threads: encode outside every lock, push under pending_mu, and write a full batch
  // only if no other thread is writing already (never wait for the connection).
  void enqueue(std::string key, std::shared_ptr<const Skeleton> s, std::size_t skeleton_bytes) {
    if (!persistent.load(std::memory_order_relaxed)) return;  // memory-only: skip encoding
    std::string row = encode_skeleton(*s);
    bool full = false;
    {
      std::lock_guard lock(pending_mu);
      pending.push_back({std::move(key), std::move(s), std::move(row), skeleton_bytes});
      const std::size_t cap = kMaxPendingBatches * options.write_batch;
      if (pending.size() > cap) {
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pending.size() - cap));
        dropped_rows = true;
      }
      full = pending.size() >= options.write_batch;
    }
    if (!full) return;
    std::unique_lock lock(db_mu, std::try_to_lock);
    if (lock.owns_lock()) write_pending();
  }

  // Called with db_mu held: takes every pending row and commits them in one transaction.
  void write_pending() {
    if (!db) return;
    std::vector<Pending> batch;
    {
      std::lock_guard lock(pending_mu);
      batch.swap(pending);
      if (dropped_rows && !dropped_warned) {
        dropped_warned = true;
        warnings.push_back("skeleton cache: the database stayed busy; some skeletons were not persisted");
      }
    }
    if (batch.empty()) return;
    auto step_reset = [](sqlite3_stmt* st) {
      const int r = sqlite3_step(st);
      sqlite3_reset(st);
      return r;
    };
    int rc = step_reset(begin_stmt);
    if (rc != SQLITE_DONE) {
      if (is_corruption(rc)) return db_failed(rc, "begin");
      requeue(std::move(batch));  // busy: keep the rows for the next attempt
      return;
    }
    for (const auto& p : batch) {
      sqlite3_bind_text(insert_stmt, 1, p.key.data(), static_cast<int>(p.key.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_stmt, 2, kExtractorVersion.data(), static_cast<int>(kExtractorVersion.size()),
                        SQLITE_STATIC);
      sqlite3_bind_blob(insert_stmt, 3, p.row.data(), static_cast<int>(p.row.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert_stmt, 4, static_cast<sqlite3_int64>(p.skeleton_bytes));
      rc = step_reset(insert_stmt);
      if (rc != SQLITE_DONE) break;
    }
    sqlite3_clear_bindings(insert_stmt);
    if (rc == SQLITE_DONE) rc = step_reset(commit_stmt);
    if (rc != SQLITE_DONE) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      if (is_corruption(rc)) return db_failed(rc, "insert");
      requeue(std::move(batch));
      return;
    }
    rows_written += batch.size();
  }

  // Put an unwritten batch back in front of rows queued meanwhile (db_mu held).
  void requeue(std::vector<Pending> batch) {
    std::lock_guard lock(pending_mu);
    batch.insert(batch.end(), std::make_move_iterator(pending.begin()), std::make_move_iterator(pending.end()));
    pending.swap(batch);
  }

  std::optional<Entry> memory_lookup(const std::string& key) {
    if (options.memory_entries == 0) return std::nullopt;
    std::lock_guard lock(mem_mu);
    auto it = index.find(key);
    if (it == index.end()) return std::nullopt;
    lru.splice(lru.begin(), lru, it->second);
    return it->second->second;
  }

  void memory_insert(const std::string& key, Entry e) {
    if (options.memory_entries == 0) return;
    std::lock_guard lock(mem_mu);
    auto it = index.find(key);
    if (it != index.end()) {
      it->second->second = std::move(e);
      lru.splice(lru.begin(), lru, it->second);
      return;
    }
    lru.emplace_front(key, std::move(e));
    index.emplace(key, lru.begin());
    while (lru.size() > options.memory_entries) {
      disk_mirrored_in_memory = false;  // the evicted skeleton may be on disk only now
      index.erase(lru.back().first);
      lru.pop_back();
    }
  }
};

// ---- SkeletonCache ---------------------------------------------------------------------------

SkeletonCache::SkeletonCache(fs::path db_file, telemetry::Channel channel, CacheOptions options)
    : db_file_(std::move(db_file)), impl_(std::make_unique<Impl>()) {
  impl_->channel = std::move(channel);
  impl_->options = options;
  if (impl_->options.write_batch == 0) impl_->options.write_batch = 1;
  if (impl_->options.reader) {
    impl_->reader = impl_->options.reader;
  } else {
    impl_->own_reader = std::make_unique<workspace::FileReader>("/", impl_->options.max_file_bytes);
    impl_->reader = impl_->own_reader.get();
  }
  if (!db_file_.empty()) impl_->open(db_file_);
}

SkeletonCache::~SkeletonCache() { flush(); }

fs::path SkeletonCache::default_file(const fs::path& segment_root) {
  return segment_root / "_ctx" / "cache" / "ast.sqlite";
}

const workspace::FileReader& SkeletonCache::reader() const { return *impl_->reader; }

Result<CachedSkeleton> SkeletonCache::get(const fs::path& abs_file, std::string_view rel, workspace::ReadStats* stats,
                                          ParseEvents events) {
  auto got = impl_->reader->read_bytes(abs_file.string(), workspace::ReadPurpose::kSkeleton, stats);
  if (!got) return got.error();
  if (rel.empty()) {
    const std::string derived = impl_->channel.relpath(abs_file);
    return get_content(got->text, derived, events);
  }
  return get_content(got->text, rel, events);
}

Result<CachedSkeleton> SkeletonCache::get_content(std::string_view content, std::string_view rel,
                                                  ParseEvents events, ParseReuse reuse) {
  Stopwatch sw;
  // `content` is a file's bytes or their decoded text (the index passes the FileReader's), and
  // decoding a non-UTF-8 file makes it up to 3 times longer (a cp1252 byte or a U+FFFD per byte):
  // a file the reader accepted is never refused here.
  const std::size_t limit = impl_->options.max_file_bytes * utf8::kMaxDecodedGrowth;
  if (content.size() > limit) {
    return make_error(Errc::kTooLarge, std::string(rel) + " is " + std::to_string(content.size()) +
                                           " bytes (limit " + std::to_string(limit) + ")");
  }
  CachedSkeleton out;
  out.content_key = blake2b_hex(content);
  const std::string key = out.content_key;

  std::optional<Entry> entry = impl_->memory_lookup(key);
  if (entry) {
    ++impl_->memory_hits;
  } else if ((entry = impl_->disk_lookup(key))) {
    ++impl_->disk_hits;
    impl_->memory_insert(key, *entry);
  }
  out.cache_hit = entry.has_value();
  if (!entry) {
    // The Python extractor (lib/lang/python), called directly: the cache serves one language and
    // its key is content + kExtractorVersion. A second language takes its extractor from
    // lang::language_for_path(rel) and adds its name to the key (docs/languages.md).
    auto s = reuse == ParseReuse::kEdited ? impl_->extract_edit(content, rel) : extract_skeleton(content);
    if (!s) return s.error();
    Entry e;
    e.skeleton_bytes = rendered_size(*s);
    e.skeleton = std::make_shared<const Skeleton>(std::move(*s));
    ++impl_->misses;
    impl_->memory_insert(key, e);
    impl_->enqueue(key, e.skeleton, e.skeleton_bytes);
    entry = std::move(e);
  }
  out.skeleton = entry->skeleton;
  out.skeleton_bytes = entry->skeleton_bytes;
  out.reduction_ratio = reduction_ratio(out.skeleton_bytes, content.size());

  auto& ch = impl_->channel;
  ch.incr("ast_parse_count");
  ch.incr(out.cache_hit ? "ast_cache_hit_count" : "ast_cache_miss_count");
  if (impl_->options.emit_events && events == ParseEvents::kEmit && ch.enabled()) {
    const Skeleton& s = *out.skeleton;
    json::object args{{"file", rel}};
    json::object result{{"status", parse_status_name(s.status)},
                        {"functions", count_definitions(s, DefKind::kFunction)},
                        {"classes", count_definitions(s, DefKind::kClass)}};
    json::object x{{"skeleton_bytes", out.skeleton_bytes},
                   {"reduction_ratio", std::round(out.reduction_ratio * 10000.0) / 10000.0},
                   {"cache_hit", out.cache_hit}};
    // Only reserved-key collisions can fail here, and these keys are fixed.
    (void)ch.event("ast.parse", std::move(args), std::move(result), sw.elapsed_ms(), {}, std::move(x));
  }
  return out;
}

bool SkeletonCache::keep_parse(std::string_view content, std::string_view rel) {
  if (content.size() > kParseMemoBytes || content.size() > impl_->options.max_file_bytes * utf8::kMaxDecodedGrowth)
    return false;
  if (impl_->memos.has(rel)) return false;  // before the parse it would waste
  ParseMemo memo;
  if (!extract_skeleton(content, memo)) return false;
  // An edit of `rel` that ran meanwhile kept its own parse, which is newer: that one stays.
  if (!impl_->keep_memo(rel, std::move(memo), /*if_absent=*/true)) return false;
  ++impl_->kept_for_reads;
  impl_->channel.incr("ast_parse_kept_count");
  return true;
}

void SkeletonCache::flush() {
  std::lock_guard lock(impl_->db_mu);
  impl_->write_pending();
}

void SkeletonCache::clear_memory() {
  impl_->disk_mirrored_in_memory = false;  // the disk now holds rows the memory tier does not
  impl_->memos.clear();
  std::lock_guard lock(impl_->mem_mu);
  impl_->index.clear();
  impl_->lru.clear();
}

CacheStats SkeletonCache::stats() const {
  CacheStats s;
  s.memory_hits = impl_->memory_hits;
  s.disk_hits = impl_->disk_hits;
  s.misses = impl_->misses;
  s.bad_rows = impl_->bad_rows;
  s.rows_written = impl_->rows_written;
  s.incremental_parses = impl_->incremental_parses;
  s.kept_for_reads = impl_->kept_for_reads;
  std::tie(s.parse_memos, s.parse_memo_bytes) = impl_->memos.totals();
  {
    std::lock_guard lock(impl_->mem_mu);
    s.memory_entries = impl_->lru.size();
  }
  std::lock_guard lock(impl_->db_mu);
  s.persistent = impl_->db != nullptr;
  s.rebuilt = impl_->rebuilt;
  return s;
}

std::vector<std::string> SkeletonCache::warnings() const {
  std::lock_guard lock(impl_->db_mu);
  return impl_->warnings;
}

// ---- parallel build --------------------------------------------------------------------------

BuildReport build_skeletons(SkeletonCache& cache, const std::vector<BuildItem>& items, unsigned threads) {
  Stopwatch sw;
  BuildReport report;
  threads = parallel_threads(threads, items.size());
  report.threads = threads;
  std::vector<std::optional<Result<CachedSkeleton>>> slots(items.size());
  // Largest files first: the last file a worker takes is then a small one, so the workers finish
  // together instead of one parsing a big file alone at the end.
  std::vector<std::pair<std::uintmax_t, std::size_t>> order;
  order.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::error_code ec;
    const std::uintmax_t size = threads > 1 ? fs::file_size(items[i].abs, ec) : 0;
    order.emplace_back(ec ? 0 : size, i);
  }
  if (threads > 1) {
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  }
  parallel_for(order.size(), threads, [&](std::size_t k) {
    const std::size_t i = order[k].second;
    slots[i].emplace(cache.get(items[i].abs, items[i].rel));
  });
  cache.flush();
  report.results.reserve(items.size());
  for (auto& slot : slots) {
    Result<CachedSkeleton> r = std::move(*slot);
    if (!r) ++report.failed;
    else if (r->cache_hit) ++report.hits;
    else ++report.parsed;
    report.results.push_back(std::move(r));
  }
  report.elapsed_ms = sw.elapsed_ms();
  return report;
}

}  // namespace trifecta::core::ast
