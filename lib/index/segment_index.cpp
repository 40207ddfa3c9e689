#include "index/segment_index.hpp"

#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "ast/skeleton.hpp"
#include "ast/skeleton_cache.hpp"
#include "index/centrality.hpp"
#include "index/ranking.hpp"
#include "index/tokenizer.hpp"
#include "lang/python/layout.hpp"
#include "util/bytes.hpp"
#include "util/clock.hpp"
#include "util/hash.hpp"
#include "util/parallel.hpp"
#include "util/paths.hpp"
#include "util/recent.hpp"
#include "util/regular_file.hpp"
#include "util/utf8.hpp"
#include "workspace/watcher.hpp"

namespace trifecta::core::index {

namespace json = boost::json;

namespace {

constexpr char kMagic[8] = {'T', 'R', 'I', 'F', 'I', 'D', 'X', '\n'};


std::string config_fingerprint(const workspace::SegmentConfig& c) {
  std::string s = "max=" + std::to_string(c.max_file_bytes) + "\ninclude=";
  for (const auto& g : c.include) s += g + "\x1f";
  s += "\nexclude=";
  for (const auto& g : c.exclude) s += g + "\x1f";
  return sha256_hex(s);
}

// What identifies one version of a file on disk — _ctx/trifecta.json, git's ignore files outside
// the tree (all zero: absent).
struct ConfigStamp {
  std::uint64_t dev = 0, ino = 0, size = 0;
  std::int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const ConfigStamp&) const = default;
};

ConfigStamp stamp_file(const fs::path& file) {
  struct stat st {};
  ConfigStamp c;
  if (::stat(file.c_str(), &st) != 0) return c;
  c.dev = static_cast<std::uint64_t>(st.st_dev);
  c.ino = static_cast<std::uint64_t>(st.st_ino);
  c.size = static_cast<std::uint64_t>(st.st_size);
  c.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  c.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  return c;
}

ConfigStamp stamp_config(const fs::path& root) { return stamp_file(root / "_ctx" / "trifecta.json"); }

struct FileOutcome {
  FileRecord record;
  std::vector<Chunk> chunks;
  std::vector<ChunkTerms> terms;
  bool unchanged = false;  // same hash as the previous record: nothing re-chunked
  std::size_t reused = 0;  // chunk analyses taken from the file's previous version (ChunkAnalyses)
};

// FileRecord::names of a file: its identifier table's names as sorted, distinct keys.
std::vector<std::uint64_t> name_keys(const ast::IdentifierTable& table) {
  std::vector<std::uint64_t> keys;
  keys.reserve(table.names.size());
  for (const auto& n : table.names) keys.push_back(key_hash64(n));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

bool under(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// Whether a drained change names a `.gitignore` (written, created, deleted or moved).
bool names_ignore_file(const workspace::Changes& ch) {
  for (const auto* v : {&ch.changed, &ch.created, &ch.deleted}) {
    for (const std::string& p : *v) {
      const std::size_t slash = p.rfind('/');
      const std::string_view name = std::string_view(p).substr(slash == std::string::npos ? 0 : slash + 1);
      if (name == ".gitignore") return true;
    }
  }
  return false;
}

}  // namespace

std::uint64_t index_checksum(std::string_view data) {
  std::uint64_t h = 0x243F6A8885A308D3ULL ^ data.size();
  std::size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data.data() + i, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
  }
  for (; i < data.size(); ++i) {
    h = (h ^ static_cast<unsigned char>(data[i])) * 0x100000001B3ULL;
  }
  h ^= h >> 32;
  return h;
}

struct SegmentIndex::Impl {
  fs::path root;
  SegmentOptions options;
  workspace::PathFilter filter;        // written under update_mu + state_mu (config reload)
  std::vector<std::string> config_warnings;
  ConfigStamp config_stamp;            // _ctx/trifecta.json as last loaded
  // Git's ignore files outside the tree (workspace::git_ignore_sources; update_mu): found at a
  // build whose listing is git's, stamped at every listing; a sync that finds one changed
  // re-lists the tree. Empty for a walked tree.
  std::vector<std::pair<fs::path, ConfigStamp>> git_ignores;
  void stamp_git_ignores(workspace::ListingSource from, bool find) {
    if (from != workspace::ListingSource::kGit) {
      git_ignores.clear();
      return;
    }
    if (find || git_ignores.empty()) {
      git_ignores.clear();
      for (fs::path& f : workspace::git_ignore_sources(root)) git_ignores.emplace_back(std::move(f), ConfigStamp{});
    }
    for (auto& [f, st] : git_ignores) st = stamp_file(f);
  }
  bool git_ignores_changed() const {
    for (const auto& [f, st] : git_ignores) {
      if (stamp_file(f) != st) return true;
    }
    return false;
  }
  std::unique_ptr<workspace::FileReader> reader;
  std::unique_ptr<ast::SkeletonCache> skeletons;
  std::unique_ptr<workspace::Watcher> watcher;
  // The last listing's FileListing::ignored_dirs and source (update_mu): the watcher skips
  // those directories, and asks the same rules about the directories made later.
  std::vector<std::string> ignored_dirs;
  workspace::ListingSource ignored_source = workspace::ListingSource::kWalk;
  void skip_ignored_dirs(std::vector<std::string> dirs, workspace::ListingSource from) {
    ignored_dirs = std::move(dirs);
    ignored_source = from;
    if (watcher) watcher->skip_dirs(ignored_dirs, ignored_check());
    count_watches();
  }
  // Status::watched_dirs without update_mu: the watcher's count, stored after each change to it
  // (update_mu held).
  std::atomic<std::size_t> watched{0};
  void count_watches() { watched.store(watcher ? watcher->watches() : 0, std::memory_order_relaxed); }
  workspace::Watcher::IgnoredCheck ignored_check() const {
    return [r = root, from = ignored_source](std::vector<std::string> dirs) {
      return workspace::ignored_among_dirs(r, from, std::move(dirs));
    };
  }
  // Held to set `watcher` (under update_mu too; start_watching sets it once) and to duplicate
  // its descriptor (dup_watch_fd) from any thread.
  mutable std::mutex watcher_fd_mu;
  void set_watcher(std::unique_ptr<workspace::Watcher> w) {
    std::lock_guard g(watcher_fd_mu);
    watcher = std::move(w);
  }
  unsigned threads = 1;
  // The chunk analyses of the files whose changes were applied last, a few at a time (ChunkAnalyses:
  // their next edit tokenizes only the chunks it changed): most recent first, at most
  // kAnalysisMemoFiles files and kAnalysisMemoBytes in all. Kept by applies of at most
  // kAnalysisMemoFiles files (an edit, not a checkout or a build); thread-safe (process() runs on
  // the reading threads).
  static constexpr std::size_t kAnalysisMemoFiles = ast::kParseMemoFiles;
  static constexpr std::size_t kAnalysisMemoBytes = 2 * ast::kParseMemoBytes;
  RecentByName<ChunkAnalyses> analyses{kAnalysisMemoFiles, kAnalysisMemoBytes,
                                       [](const ChunkAnalyses& a) { return a.memory_bytes(); }};

  std::timed_mutex update_mu;           // build / apply / sync / persist, one at a time
  std::atomic<bool> building{false};    // a build holds update_mu (sync does not wait for it)
  mutable std::shared_mutex state_mu;   // the fields below
  // True while an update (which holds update_mu, so one at a time) waits for or holds state_mu
  // exclusively: a settle preparing under the shared lock stops at once (WriteLock).
  std::atomic<bool> writer_waiting{false};
  // settle(): one at a time (settle_mu), and a settle asked for while one runs is run by it
  // (settle_pending, re-checked after settle_mu is released).
  std::mutex settle_mu;
  std::atomic<bool> settle_pending{false};
  InvertedIndex index;
  std::map<std::string, FileRecord> records;
  std::uint64_t generation = 0;
  std::string last_update;
  workspace::ListingSource source = workspace::ListingSource::kWalk;
  bool built = false, warm_start = false;
  std::atomic<bool> dirty{false};  // also cleared by write_locked() under the shared lock
  std::atomic<int> stale_detected{-1};  // last validate(): -1 never ran, 0 clean, 1 stale
  std::uint64_t rescans = 0;
  bool root_missing = false;          // the watcher found the root gone (status: not watching)
  std::uint64_t root_replacements = 0;  // times the root reappeared as another directory
  std::string root_event;             // ISO-8601 UTC of the last of those
  // Bumped whenever `index` or `records` change; what status() derives from them (memory, the
  // live vocabulary's size, the file counts: each a walk over every file, chunk or term — ~2 ms
  // on four stdlib copies) is cached per version under derived_mu (status() holds state_mu
  // shared only).
  std::uint64_t content_version = 0;
  mutable std::mutex derived_mu;
  mutable std::uint64_t derived_version = UINT64_MAX;
  mutable Status derived;  // memory_bytes, files_*, skip_reasons, skipped, terms (no pack_state)
  // Bumped wherever `records` may change (a build's install, an apply; not a settle, which
  // changes only the index's layout). The pack_state (a SHA-256 over every indexed file's path
  // and hash: ~4 ms on four stdlib copies) is hashed from a copy of its input after state_mu is
  // let go — a writer (an edit's sync) does not wait for it — and cached per records version
  // under derived_mu.
  std::uint64_t records_version = 0;
  mutable std::uint64_t pack_version = UINT64_MAX;
  mutable std::string pack_sha;
  // name_reach's table, per content version under name_files_mu (callers hold state_mu shared):
  // a name key → how many indexed Python files name it, and how many such files there are.
  mutable std::mutex name_files_mu;
  mutable std::uint64_t name_files_version = UINT64_MAX;
  mutable std::unordered_map<std::uint64_t, std::uint32_t> name_files;
  mutable std::size_t name_files_total = 0;
  // package_exports of the records (centrality.hpp), per content version under exports_mu
  // (callers hold state_mu shared): central_files hands each file its exported names. An update
  // that leaves the import graph as it was (or a settle) keeps it current, as name_files.
  mutable std::mutex exports_mu;
  mutable std::uint64_t exports_version = UINT64_MAX;
  mutable std::map<std::string, PackageExports> exports;
  // Whether a record's names are in name_files (an indexed Python file with identifiers).
  static bool counts_names(const FileRecord& r) { return r.indexed && !r.names.empty(); }
  // name_files' approximate heap bytes (a node of key, count and next pointer per name, a
  // bucket pointer per bucket); 0 until a map asks for it. Caller holds state_mu.
  std::size_t name_files_bytes() const {
    std::lock_guard nk(name_files_mu);
    return name_files.size() * 32 + name_files.bucket_count() * sizeof(void*);
  }
  // Moves name_files from `before` to `after` (either may be null): what an update does to one
  // record, so the table stays current instead of being rebuilt (≈ 20 ms on the stdlib demo
  // tree). Caller holds state_mu exclusively and the table is current, or (name_reach's
  // rebuild) state_mu shared and name_files_mu.
  void names_replace(const FileRecord* before, const FileRecord* after) const {
    if (before && counts_names(*before)) {
      --name_files_total;
      for (const std::uint64_t k : before->names) {
        const auto it = name_files.find(k);
        if (it != name_files.end() && --it->second == 0) name_files.erase(it);
      }
    }
    if (after && counts_names(*after)) {
      ++name_files_total;
      for (const std::uint64_t k : after->names) ++name_files[k];
    }
  }
  // A copy of `derived`, brought up to date first; with `pack_input`, also the pack_state's
  // input (pack_input_locked's text), in the same walk over the records when `derived` was
  // stale. Caller holds state_mu (shared or unique).
  Status derived_locked(std::string* pack_input = nullptr) const {
    std::lock_guard lk(derived_mu);
    if (derived_version == content_version) {
      if (pack_input) pack_input_locked(*pack_input);
      return derived;
    }
    Status c;
    c.memory_bytes = index.memory_bytes();
    if (pack_input) pack_input->reserve(records.size() * kPackLineBytes);
    std::vector<const FileRecord*> never;  // never_code records, shown after the others
    for (const auto& [p, r] : records) {
      c.memory_bytes += r.names.capacity() * sizeof(std::uint64_t);
      if (r.indexed) {
        ++c.files_indexed;
        if (r.replaced_bytes) ++c.files_non_utf8;
        if (pack_input) append_pack_line(*pack_input, p, r);
      } else {
        ++c.files_skipped;
        ++c.skip_reasons[r.skip_reason];
        if (r.skip_reason != kNeverCode) {
          if (c.skipped.size() < Status::kSkippedShown) c.skipped.push_back(r);
        } else if (never.size() < Status::kSkippedShown) {
          never.push_back(&r);
        }
      }
    }
    for (std::size_t i = 0; i < never.size() && c.skipped.size() < Status::kSkippedShown; ++i)
      c.skipped.push_back(*never[i]);
    c.terms = index.term_count();
    derived = std::move(c);
    derived_version = content_version;
    return derived;
  }

  fs::path cache_dir() const { return options.cache_dir.empty() ? root / "_ctx" / "cache" : options.cache_dir; }
  fs::path cache_file() const { return cache_dir() / "index.bin"; }

  // Files whose absolute path is PATH_MAX bytes or longer cannot be opened by path: skipped
  // with their own reason (not "unreadable"), the same in build and validate.
  bool path_too_long(const std::string& rel) const { return (root / rel).native().size() >= PATH_MAX; }
  static constexpr const char* kPathTooLong = "path_too_long";
  // Never-code files (ranking.hpp never_code_file) are not read unless an `include` glob admits
  // them: one skipped record each with this reason, in build, update and validate alike.
  static constexpr const char* kNeverCode = "never_code";
  bool never_code(const std::string& rel) const { return never_code_file(rel) && !filter.includes(rel); }
  static std::string never_code_detail() {
    return "never code (translation catalog, minified asset or image): not indexed; an \"include\" glob in "
           "_ctx/trifecta.json admits it";
  }
  std::string too_long_detail() const {
    return "path is longer than PATH_MAX (" + std::to_string(PATH_MAX) + " bytes): not indexed";
  }

  // Remove `index.bin.tmp-<pid>` files a crashed writer left behind (the pid is not running, or
  // the file is over an hour old). Returns how many were removed. Call under update_mu.
  std::size_t sweep_stale_tmp() const {
    std::size_t removed = 0;
    std::error_code ec;
    fs::directory_iterator it(cache_dir(), ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      constexpr std::string_view kPrefix = "index.bin.tmp-";
      if (name.rfind(kPrefix, 0) != 0) continue;
      const std::string pid_text = name.substr(kPrefix.size());
      long pid = 0;
      try {
        pid = std::stol(pid_text);
      } catch (...) {
        pid = 0;
      }
      bool stale = pid <= 0 || pid == ::getpid() ||  // ours: no write runs while update_mu is held
                   (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH);
      if (!stale) {
        std::error_code e2;
        const auto age = fs::file_time_type::clock::now() - fs::last_write_time(it->path(), e2);
        stale = !e2 && age > std::chrono::hours(1);
      }
      std::error_code e3;
      if (stale && fs::remove(it->path(), e3)) ++removed;
    }
    return removed;
  }

  // Read, hash, chunk and tokenize one file. Never fails: problems become a skipped record.
  // `reuse_analyses`: an edit of a few files (apply_locked): the chunks of a file indexed before
  // are analysed through its kept ChunkAnalyses, and this version's kept for the next.
  FileOutcome process(const std::string& rel, const FileRecord* previous, workspace::ReadStats& stats,
                      bool reuse_analyses = false) {
    FileOutcome o;
    o.record.path = rel;
    if (path_too_long(rel)) {
      o.record.indexed = false;
      o.record.skip_reason = kPathTooLong;
      o.record.detail = too_long_detail();
      return o;
    }
    if (never_code(rel)) {
      o.record.indexed = false;
      o.record.skip_reason = kNeverCode;
      o.record.detail = never_code_detail();
      if (auto m = reader->stat(rel)) {
        o.record.size = m->size;
        o.record.mtime_ns = m->mtime_ns;
      }
      return o;
    }
    auto content = reader->read(rel, workspace::ReadPurpose::kIndex, &stats);
    if (!content) {
      o.record.indexed = false;
      o.record.skip_reason = std::string(workspace::skip_reason_of(content.error().code));
      o.record.detail = content.error().message;
      if (auto m = reader->stat(rel)) {
        o.record.size = m->size;
        o.record.mtime_ns = m->mtime_ns;
      }
      return o;
    }
    o.record.size = content->raw_bytes;
    o.record.mtime_ns = content->mtime_ns;
    o.record.replaced_bytes = content->replaced_bytes;
    o.record.sha256 = sha256_hex(content->text);
    o.record.indexed = true;
    if (content->replaced_bytes) o.record.detail = "non-UTF-8: invalid bytes replaced by U+FFFD";
    // Whether the text is the file's bytes (valid UTF-8, nothing replaced): only then are its
    // chunks' offsets (Chunk::offset) offsets in the file on disk. A decoded file is chunked
    // again even when its text is unchanged: its bytes may differ from those its chunks were
    // cut from (a file re-saved in the encoding it declares).
    const bool bytes_are_text = content->encoding == "utf-8" && content->replaced_bytes == 0;
    if (previous && previous->indexed && previous->sha256 == o.record.sha256 && bytes_are_text) {
      o.unchanged = true;
      o.record.chunks = previous->chunks;
      o.record.parse_partial = previous->parse_partial;
      o.record.imports = previous->imports;
      o.record.names = previous->names;
      o.record.centrality = previous->centrality;
      return o;
    }
    const std::string_view text = content->text;
    std::shared_ptr<const ast::Skeleton> sk;
    if (file_type_of(rel) == FileType::kPython) {
      // A file indexed before whose text changed is an edit: its next edits parse incrementally.
      const auto reuse = previous && previous->indexed ? ast::ParseReuse::kEdited : ast::ParseReuse::kNone;
      auto cached = skeletons->get_content(text, rel, ast::ParseEvents::kCountOnly, reuse);
      if (cached) {
        sk = cached->skeleton;
        o.record.parse_partial = sk->status == ast::ParseStatus::kPartial;
        o.record.imports = import_refs(rel, *sk);
        o.record.names = name_keys(sk->identifiers);
      } else {
        o.record.detail = "no skeleton (" + cached.error().message + "): chunked as text windows";
      }
    }
    // An edit's unchanged chunks take their SHA-256 from the file's previous version with their
    // analyses (ChunkAnalyses fills the empty ones): an edit hashes only the chunks it changed.
    const bool reuse = reuse_analyses && previous && previous->indexed;
    o.chunks = chunk_file(rel, text, sk.get(), /*hash_chunks=*/!reuse);
    if (!bytes_are_text) {
      for (auto& c : o.chunks) c.offset = kNoOffset;
    }
    const auto starts = line_starts(text);
    o.terms.reserve(o.chunks.size());
    if (reuse) {
      ChunkAnalyses before = analyses.take(rel), after;
      for (auto& c : o.chunks)
        o.terms.push_back(before.analyze(c, line_span(text, starts, c.start_line, c.end_line), after));
      o.reused = before.reused();
      analyses.keep(rel, std::move(after));
    } else {
      for (const auto& c : o.chunks) o.terms.push_back(analyze_chunk(c, line_span(text, starts, c.start_line, c.end_line)));
    }
    o.record.chunks = static_cast<std::uint32_t>(o.chunks.size());
    return o;
  }

  // `bulk`: part of a build (the index is compacted, hence frozen, once at the end).
  static void apply_outcome(InvertedIndex& idx, std::map<std::string, FileRecord>& recs, FileOutcome&& o,
                            bool bulk) {
    const std::string path = o.record.path;
    if (o.unchanged) {
      recs[path] = std::move(o.record);
      return;
    }
    if (o.record.indexed) {
      idx.replace_file(path, std::move(o.chunks), std::move(o.terms), bulk);
    } else {
      idx.remove_file(path);
    }
    recs[path] = std::move(o.record);
  }

  // Which listed files must be read, given the records we have (size + mtime unchanged → reuse).
  std::vector<std::string> stale_by_stat(const std::map<std::string, FileRecord>& recs,
                                         const std::vector<std::string>& listed, std::size_t& reused) const {
    std::vector<std::string> out;
    reused = 0;
    for (const auto& rel : listed) {
      auto it = recs.find(rel);
      if (it != recs.end()) {
        auto m = reader->stat(rel);
        // A never-code decision that changed with the config (an include glob added or
        // removed) re-reads the file even when it did not change.
        const bool same_decision = (it->second.skip_reason == kNeverCode) == never_code(rel);
        if (m && m->size == it->second.size && m->mtime_ns == it->second.mtime_ns && same_decision) {
          ++reused;
          continue;
        }
      }
      out.push_back(rel);
    }
    return out;
  }

  // Read `paths` in parallel; each outcome is handed to `sink` under a mutex.
  template <class Sink>
  void read_all(const std::vector<std::string>& paths, const std::map<std::string, FileRecord>* prev,
                workspace::ReadStats& stats, const ProgressFn& progress, Sink sink,
                bool reuse_analyses = false) {
    std::mutex mu;
    std::size_t done = 0;
    parallel_for(paths.size(), threads, [&](std::size_t i) {
      const FileRecord* p = nullptr;
      if (prev) {
        auto it = prev->find(paths[i]);
        if (it != prev->end()) p = &it->second;
      }
      FileOutcome o = process(paths[i], p, stats, reuse_analyses);
      std::lock_guard lk(mu);
      sink(std::move(o));
      ++done;
      if (progress) progress(done, paths.size());
    });
  }

  // ---- persistence ----
  std::string serialize_locked() const {
    std::string s;
    s.reserve(index.serialized_size_hint() + records.size() * 160 + 4096);
    s.append(kMagic, 8);
    bytes::Writer w(s);
    w.u32(kIndexFormatVersion);
    w.str_u32(ast::kExtractorVersion);
    w.str_u32(kTokenizerVersion);
    w.str_u32(kRankingVersion);
    w.str_u32(config_fingerprint(filter.config()));
    w.u64(generation);
    w.u8(static_cast<std::uint8_t>(source));
    w.u32(static_cast<std::uint32_t>(records.size()));
    for (const auto& [path, r] : records) {
      w.str_u32(r.path);
      w.u64(r.size);
      w.u64(static_cast<std::uint64_t>(r.mtime_ns));
      w.str_u32(r.sha256);
      w.u8(r.indexed ? 1 : 0);
      w.str_u32(r.skip_reason);
      w.str_u32(r.detail);
      w.u64(r.replaced_bytes);
      w.u8(r.parse_partial ? 1 : 0);
      w.u32(r.chunks);
      w.u32(static_cast<std::uint32_t>(r.imports.size()));
      for (const auto& i : r.imports) w.str_u32(i);
      w.u32(static_cast<std::uint32_t>(r.names.size()));
      for (const std::uint64_t k : r.names) w.u64(k);
      std::uint64_t bits;
      std::memcpy(&bits, &r.centrality, sizeof bits);
      w.u64(bits);
    }
    // The index blob goes straight into the file image (its size patched in after).
    const std::size_t size_at = s.size();
    w.u64(0);
    index.serialize(s);
    w.patch_u64(size_at, s.size() - size_at - 8);
    bytes::seal(s, index_checksum);
    return s;
  }

  struct Loaded {
    InvertedIndex index;
    std::map<std::string, FileRecord> records;
    std::uint64_t generation = 0;
  };

  Result<Loaded> load() const {
    const fs::path file = cache_file();
    // Through THE open of segment files: index.bin swapped for a FIFO is refused, never waited on.
    auto read = read_regular_file(file, "_ctx/cache/index.bin", std::numeric_limits<std::size_t>::max());
    if (!read) {
      if (read.error().code == Errc::kNotFound) return make_error(Errc::kNotFound, "no persisted index");
      return make_error(Errc::kParse, "persisted index: " + read.error().message);
    }
    std::string data = std::move(*read);
    if (data.size() < 16 || std::memcmp(data.data(), kMagic, 8) != 0) {
      return make_error(Errc::kParse, "persisted index: bad magic");
    }
    std::string_view body;
    if (!bytes::unseal(data, index_checksum, body)) {
      return make_error(Errc::kParse, "persisted index: checksum mismatch (truncated or corrupt)");
    }
    bytes::Reader r(body);
    r.raw(8);  // the magic, checked above
    if (r.u32() != kIndexFormatVersion) return make_error(Errc::kParse, "persisted index: other format version");
    if (r.str_u32() != ast::kExtractorVersion) return make_error(Errc::kParse, "persisted index: other extractor version");
    if (r.str_u32() != kTokenizerVersion) return make_error(Errc::kParse, "persisted index: other tokenizer version");
    if (r.str_u32() != kRankingVersion) return make_error(Errc::kParse, "persisted index: other ranking version");
    if (r.str_u32() != config_fingerprint(filter.config())) return make_error(Errc::kParse, "persisted index: config changed");
    Loaded l;
    l.generation = r.u64();
    r.u8();  // listing source at persist time (informational)
    const std::uint32_t n = r.u32();
    if (!r.ok() || n > body.size()) return make_error(Errc::kParse, "persisted index: bad record count");
    for (std::uint32_t i = 0; i < n; ++i) {
      FileRecord rec;
      rec.path = r.str_u32();
      rec.size = r.u64();
      rec.mtime_ns = static_cast<std::int64_t>(r.u64());
      rec.sha256 = r.str_u32();
      rec.indexed = r.u8() != 0;
      rec.skip_reason = r.str_u32();
      rec.detail = r.str_u32();
      rec.replaced_bytes = r.u64();
      rec.parse_partial = r.u8() != 0;
      rec.chunks = r.u32();
      const std::uint32_t imports = r.u32();
      if (!r.ok() || imports > body.size()) return make_error(Errc::kParse, "persisted index: truncated records");
      rec.imports.reserve(imports);
      for (std::uint32_t k = 0; k < imports; ++k) rec.imports.push_back(r.str_u32());
      const std::uint32_t names = r.u32();
      if (!r.ok() || names > body.size() / 8) return make_error(Errc::kParse, "persisted index: truncated records");
      rec.names.reserve(names);
      for (std::uint32_t k = 0; k < names; ++k) rec.names.push_back(r.u64());
      const std::uint64_t bits = r.u64();
      std::memcpy(&rec.centrality, &bits, sizeof bits);
      if (!r.ok()) return make_error(Errc::kParse, "persisted index: truncated records");
      std::string key = rec.path;
      l.records.emplace(std::move(key), std::move(rec));
    }
    const std::uint64_t blob = r.u64();
    if (!r.ok() || blob != body.size() - r.position()) return make_error(Errc::kParse, "persisted index: bad index size");
    if (auto ok = l.index.deserialize(body.substr(r.position())); !ok) return ok.error();
    return l;
  }

  Result<void> write_locked() {
    const std::string data = serialize_locked();
    std::error_code ec;
    fs::create_directories(cache_dir(), ec);
    if (ec) return make_error(Errc::kIo, "cannot create _ctx/cache: " + ec.message());
    ensure_ctx_gitignore(cache_dir());  // generated files stay out of `git status`
    const fs::path tmp = cache_dir() / ("index.bin.tmp-" + std::to_string(::getpid()));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return make_error(Errc::kIo, std::string("cannot write _ctx/cache/index.bin: ") + std::strerror(errno));
    std::size_t off = 0;
    while (off < data.size()) {
      const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        ::close(fd);
        fs::remove(tmp, ec);
        return make_error(Errc::kIo, std::string("writing _ctx/cache/index.bin: ") + std::strerror(e));
      }
      off += static_cast<std::size_t>(w);
    }
    ::close(fd);
    fs::rename(tmp, cache_file(), ec);
    if (ec) {
      fs::remove(tmp, ec);
      return make_error(Errc::kIo, "cannot rename index.bin: " + ec.message());
    }
    dirty = false;
    return {};
  }

  // Recompute every record's centrality from the records' imports (centrality.hpp); in a
  // package-root tree with the package's name as the prefix of its own modules.
  // A node of the import graph: an indexed Python file (`path` is its record's key).
  static bool in_import_graph(const std::string& path, const FileRecord& r) {
    return r.indexed && file_type_of(path) == FileType::kPython;
  }
  // The import references the graph is built from, per node (centrality.hpp).
  static std::map<std::string, std::vector<std::string>> graph_imports(
      const std::map<std::string, FileRecord>& recs) {
    std::map<std::string, std::vector<std::string>> imports;
    for (const auto& [path, r] : recs) {
      if (!in_import_graph(path, r)) continue;
      // A vendored file (another project's code shipped inside this one) is a node, imported
      // by the tree's own code as any module is, but its own imports are not edges: how the
      // vendored packages import each other says nothing of what this tree uses (pip's
      // `_vendor/rich/console.py` was its most central file, 14.9 against 7.8 for its own
      // `utils/misc.py`).
      if (path_class(path) & kPathVendored)
        imports.emplace(path, std::vector<std::string>{});
      else
        imports.emplace(path, r.imports);
    }
    return imports;
  }
  // In a package-root tree the package's name, the prefix of its own modules; else "".
  std::string package_prefix() const {
    const auto layout = lang::python::detect_layout(root);
    return layout.kind == lang::python::LayoutKind::kPackageRoot ? layout.package : std::string();
  }
  void recompute_centrality(std::map<std::string, FileRecord>& recs) const {
    const auto scores = import_centrality(graph_imports(recs), package_prefix());
    for (auto& [path, r] : recs) {
      const auto it = scores.find(path);
      r.centrality = it == scores.end() ? 0.0 : it->second;
    }
  }

  // Hand every file's centrality to the index's ranking prior (after a build, a load or a
  // recompute; chunks of a file re-added since are neutral until this runs).
  static void push_centrality(InvertedIndex& idx, const std::map<std::string, FileRecord>& recs) {
    for (const auto& [path, r] : recs) {
      if (r.indexed && r.centrality > 0.0) idx.set_centrality(path, r.centrality);
    }
  }

  // state_mu held exclusively by an update (the caller holds update_mu): a settle preparing
  // under the shared lock (settle_once) sees writer_waiting and lets go (~1 ms at the median)
  // instead of keeping the update waiting for its whole preparation.
  class WriteLock {
   public:
    explicit WriteLock(Impl& m) : m_(m) {
      m_.writer_waiting.store(true);
      lk_ = std::unique_lock<std::shared_mutex>(m_.state_mu);
    }
    ~WriteLock() { m_.writer_waiting.store(false); }  // then lk_ unlocks
    WriteLock(const WriteLock&) = delete;
    WriteLock& operator=(const WriteLock&) = delete;

   private:
    Impl& m_;
    std::unique_lock<std::shared_mutex> lk_;
  };

  // One settle: prepare beside the searches, commit under the exclusive lock; a few attempts
  // when an update comes between. True when a steady state was installed.
  bool settle_once();

  void touch_locked() {
    ++generation;
    ++content_version;
    last_update = iso8601_utc_now();
    dirty = true;
  }

  // The pack_state's input: "path\thash\n" per indexed file, in path order (its SHA-256 is the
  // pack_state). Caller holds state_mu (shared or unique).
  static constexpr std::size_t kPackLineBytes = 112;  // a reserve: 64 hex digits, a path, 2
  static void append_pack_line(std::string& in, const std::string& path, const FileRecord& r) {
    (((in += path) += '\t') += r.sha256) += '\n';
  }
  void pack_input_locked(std::string& in) const {
    in.reserve(records.size() * kPackLineBytes);
    for (const auto& [path, r] : records) {
      if (r.indexed) append_pack_line(in, path, r);
    }
  }

  // Re-read _ctx/trifecta.json (caller holds update_mu). A malformed file keeps the rules in
  // effect, with a status warning (at open there are none yet: the defaults). A file half-saved
  // by an editor, or a typo, then neither re-admits everything its excludes kept out nor costs a
  // rescan; the fix is read as any change is. max_file_bytes keeps its value from open (the
  // reader and the skeleton cache share it), with a warning when the file asks for another. True when the
  // include/exclude rules changed: the filter is swapped and a running watcher watches again
  // under it (the caller then rescans).
  bool reload_config_locked() {
    config_stamp = stamp_config(root);
    auto cfg = workspace::load_config(root);
    workspace::SegmentConfig config;
    std::vector<std::string> cw;
    if (cfg) {
      config = std::move(*cfg);
    } else {
      config = filter.config();
      cw.push_back(cfg.error().message + " (keeping the rules in effect)");
    }
    if (config.max_file_bytes != filter.config().max_file_bytes) {
      cw.push_back("_ctx/trifecta.json: max_file_bytes takes effect when the segment is reopened (daemon restart)");
      config.max_file_bytes = filter.config().max_file_bytes;
    }
    const bool changed = config_fingerprint(config) != config_fingerprint(filter.config());
    {
      WriteLock lk(*this);
      config_warnings = cw;
      if (changed) filter = workspace::PathFilter(std::move(config));
    }
    // The same descriptor, watching under the new rules: a copy of it that an event loop waits
    // on (dup_watch_fd) stays the watcher's.
    if (changed && watcher) watcher->rewatch(filter);
    if (changed) options.channel.incr("index_config_reload_count");
    return changed;
  }

  Result<BuildReport> build(const ProgressFn& progress, bool allow_warm);
  // Applies the changes of `paths` (update_mu held). The skeletons parsed meanwhile are written to
  // the skeleton cache's disk tier at the end, unless `write_rows` is false: then the next flush
  // writes them — settle(), another apply, the cache's own batches or its destructor — and until
  // then the cache serves them from memory (a crash loses only those rows: a reparse). With
  // `listed` (a rescan's listing), a file is kept or admitted only when listed — the ignore
  // rules as they are now — and no `git check-ignore` is asked.
  ApplyReport apply_locked(const std::vector<std::string>& paths, bool write_rows = true,
                           const std::set<std::string>* listed = nullptr);
  // A full comparison against the disk (apply_locked with the listing); the watcher then skips
  // the directories the listing found ignored whole.
  ApplyReport rescan_locked();
};

SegmentIndex::SegmentIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SegmentIndex::~SegmentIndex() {
  if (impl_) persist_if_dirty();
}

Result<std::unique_ptr<SegmentIndex>> SegmentIndex::open(const fs::path& root, SegmentOptions options) {
  auto canon = canonical_path(root);
  if (!canon) return canon.error();
  std::error_code ec;
  if (!fs::is_directory(*canon, ec)) return make_error(Errc::kNotFound, "segment root is not a directory");
  auto impl = std::make_unique<Impl>();
  impl->root = *canon;
  impl->options = std::move(options);
  auto cfg = workspace::load_config(impl->root);
  workspace::SegmentConfig config;
  if (cfg) {
    config = std::move(*cfg);
  } else {
    impl->config_warnings.push_back(cfg.error().message + " (using defaults)");
  }
  impl->config_stamp = stamp_config(impl->root);
  impl->reader = std::make_unique<workspace::FileReader>(impl->root, config.max_file_bytes);
  impl->filter = workspace::PathFilter(std::move(config));
  impl->threads = parallel_threads(impl->options.threads, SIZE_MAX);
  ast::CacheOptions co;
  // Requests (ast.skeleton, navigation, ctx.get's skeleton mode) write their `ast.parse` events;
  // a build only counts its parses (ParseEvents::kCountOnly below): one event per file per build
  // would drown the telemetry.
  co.emit_events = true;
  // Chunking needs each skeleton once; ctx.get's skeleton mode re-reads from the SQLite tier.
  // A small memory tier keeps a cold build's RSS close to a warm one's.
  co.memory_entries = 256;
  co.max_file_bytes = impl->reader->max_file_bytes();  // one limit: the segment's
  co.reader = impl->reader.get();                     // one reader: every read is counted
  impl->skeletons = std::make_unique<ast::SkeletonCache>(
      impl->options.persist && impl->options.persist_skeletons ? impl->cache_dir() / "ast.sqlite" : fs::path(),
      impl->options.channel, co);
  return std::unique_ptr<SegmentIndex>(new SegmentIndex(std::move(impl)));
}

Result<BuildReport> SegmentIndex::Impl::build(const ProgressFn& progress, bool allow_warm) {
  std::lock_guard up(update_mu);
  building = true;
  struct Done {
    std::atomic<bool>& flag;
    ~Done() { flag = false; }
  } done_building{building};
  Stopwatch total;
  BuildReport rep;
  rep.threads = threads;
  workspace::ReadStats stats;

  if (options.persist) {
    if (const std::size_t swept = sweep_stale_tmp()) {
      rep.warnings.push_back("removed " + std::to_string(swept) +
                             " index.bin.tmp-* file(s) left by an interrupted write");
    }
  }
  // A rebuild (ctx build --rebuild) picks up _ctx/trifecta.json as it is now.
  if (!allow_warm) (void)reload_config_locked();

  Loaded staged;
  if (allow_warm && options.persist) {
    Stopwatch sw;
    auto loaded = load();
    rep.load_ms = sw.elapsed_ms();
    if (loaded) {
      staged = std::move(*loaded);
      rep.warm = true;
    } else {
      rep.cold_reason = loaded.error().message;
      if (loaded.error().code != Errc::kNotFound) rep.warnings.push_back(loaded.error().message + ": cold build");
    }
  } else {
    rep.cold_reason = allow_warm ? "persistence disabled" : "rebuild requested";
  }

  Stopwatch lsw;
  workspace::ListOptions lo;
  lo.use_git = options.use_git;
  auto listing = workspace::list_files(root, filter, lo);
  if (!listing) return listing.error();
  rep.list_ms = lsw.elapsed_ms();
  rep.source = listing->source;
  rep.files_listed = listing->files.size();
  for (auto& w : listing->warnings) rep.warnings.push_back(std::move(w));
  skip_ignored_dirs(std::move(listing->ignored_dirs), listing->source);  // armed before the build
  stamp_git_ignores(listing->source, /*find=*/true);

  std::vector<std::string> to_read;
  bool staged_changed = false;
  if (rep.warm) {
    to_read = stale_by_stat(staged.records, listing->files, rep.files_reused);
    std::set<std::string> listed(listing->files.begin(), listing->files.end());
    listed.insert(listing->too_long.begin(), listing->too_long.end());
    std::vector<std::string> gone;
    for (const auto& [path, r] : staged.records) {
      if (!listed.count(path)) gone.push_back(path);
    }
    for (const auto& g : gone) {
      staged.index.remove_file(g);
      staged.records.erase(g);
    }
    rep.files_read = to_read.size();
    read_all(to_read, &staged.records, stats, progress,
             [&](FileOutcome&& o) { apply_outcome(staged.index, staged.records, std::move(o), true); });
    staged_changed = !to_read.empty() || !gone.empty();
  } else {
    to_read = listing->files;
    rep.files_read = to_read.size();
    // Vocabulary grows roughly with the tree (≈ 62 distinct terms per file on the stdlib; the
    // table doubles if this is short).
    staged.index.reserve_terms(std::min<std::size_t>(std::size_t{1} << 20, to_read.size() * 64));
    read_all(to_read, nullptr, stats, progress,
             [&](FileOutcome&& o) { apply_outcome(staged.index, staged.records, std::move(o), true); });
  }
  // Entries too deep to stat or open by path: one skipped record each (for a directory, nothing
  // below it can be listed).
  for (const auto& deep : listing->too_long) {
    FileRecord r;
    r.path = deep;
    r.skip_reason = kPathTooLong;
    r.detail = "path is longer than PATH_MAX (" + std::to_string(PATH_MAX) +
               " bytes): not indexed (for a directory: nothing below it)";
    staged.records[deep] = std::move(r);
  }
  skeletons->flush();
  // A cold build parsed every Python file through the skeleton cache. With a disk tier they are
  // all on disk now, and requests bring back into memory the ones they use: a cold-built daemon
  // keeps the footprint of a warm-started one (issue 12, RSS ≤ 2.5 × corpus).
  if (!rep.warm && options.persist && options.persist_skeletons) skeletons->clear_memory();
  staged.index.compact();

  const bool changed = !rep.warm || staged_changed;
  if (changed) recompute_centrality(staged.records);
  push_centrality(staged.index, staged.records);
  {
    WriteLock lk(*this);
    // Generations only grow, across restarts too (the persisted one is the floor).
    generation = std::max(generation, staged.generation) + (changed ? 1 : 0);
    if (generation == 0) generation = 1;
    ++content_version;
    ++records_version;
    index = std::move(staged.index);
    records = std::move(staged.records);
    last_update = iso8601_utc_now();
    source = rep.source;
    built = true;
    warm_start = rep.warm;
    dirty = changed;
    rep.generation = generation;
    rep.chunks = index.chunk_count();
    for (const auto& [p, r] : records) (r.indexed ? rep.files_indexed : rep.files_skipped)++;
  }
  rep.bytes_read = stats.total_bytes();
  if (options.persist && dirty) {
    Stopwatch psw;
    std::shared_lock lk(state_mu);
    auto w = write_locked();
    if (!w) rep.warnings.push_back(w.error().message);
    rep.persist_ms = psw.elapsed_ms();
  }
  // Hand the build's transient allocations (per-thread arenas) back to the OS.
  ::malloc_trim(0);
  rep.elapsed_ms = total.elapsed_ms();
  options.channel.incr("index_build_count");
  options.channel.incr("index_files_read", static_cast<std::int64_t>(rep.files_read));
  json::object args{{"warm", rep.warm}};
  json::object result{{"files_listed", rep.files_listed}, {"files_indexed", rep.files_indexed},
                      {"files_skipped", rep.files_skipped}, {"files_read", rep.files_read},
                      {"chunks", rep.chunks}, {"generation", rep.generation}};
  json::object x{{"bytes_read", rep.bytes_read}, {"source", std::string(workspace::listing_source_name(rep.source))}};
  (void)options.channel.event("index.build", std::move(args), std::move(result), rep.elapsed_ms, rep.warnings, std::move(x));
  return rep;
}

Result<BuildReport> SegmentIndex::build(const ProgressFn& progress) {
  auto r = impl_->build(progress, true);
  if (r) publish_pack_state();
  return r;
}

Result<BuildReport> SegmentIndex::rebuild(const ProgressFn& progress) {
  auto r = impl_->build(progress, false);
  if (r) publish_pack_state();
  return r;
}

ApplyReport SegmentIndex::Impl::apply_locked(const std::vector<std::string>& paths, bool write_rows,
                                             const std::set<std::string>* listed) {
  ApplyReport rep;
  workspace::ReadStats stats;
  // Expand directories (deleted ones through the records, existing ones through the disk).
  std::set<std::string> cand;
  std::map<std::string, FileRecord> prev;
  {
    std::shared_lock lk(state_mu);
    for (const auto& raw : paths) {
      std::string p = fs::path(raw).lexically_normal().generic_string();
      while (!p.empty() && p.back() == '/') p.pop_back();
      if (p.empty() || p == "." || p.rfind("../", 0) == 0 || p == ".." || fs::path(p).is_absolute()) continue;
      if (records.count(p)) cand.insert(p);
      for (auto it = records.lower_bound(p + "/"); it != records.end() && under(it->first, p); ++it) cand.insert(it->first);
      std::error_code ec;
      const fs::path abs = root / p;
      const auto st = fs::symlink_status(abs, ec);
      if (!ec && fs::is_directory(st)) {
        if (!filter.accept_dir(p, fs::exists(abs / "pyvenv.cfg", ec))) continue;
        fs::recursive_directory_iterator it(abs, fs::directory_options::skip_permission_denied, ec);
        for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
          const std::string rel = p + "/" + it->path().lexically_relative(abs).generic_string();
          const auto s2 = it->symlink_status(ec);
          if (ec) break;
          if (fs::is_directory(s2)) {
            std::error_code e3;
            if (fs::is_symlink(s2) || !filter.accept_dir(rel, fs::exists(it->path() / "pyvenv.cfg", e3))) it.disable_recursion_pending();
          } else if (fs::is_regular_file(s2)) {
            cand.insert(rel);
          }
        }
      } else {
        cand.insert(p);
      }
    }
    for (const auto& c : cand) {
      if (auto it = records.find(c); it != records.end()) prev.emplace(c, it->second);
    }
  }
  // Decide: gone / excluded → remove; new → must pass the ignore rules; else re-read.
  std::vector<std::string> to_read, to_remove, fresh;
  for (const auto& c : cand) {
    std::error_code ec;
    const auto st = fs::symlink_status(root / c, ec);
    const bool exists = !ec && fs::exists(st) && !fs::is_directory(st);
    if (!exists || !filter.accept_file(c) || (listed && !listed->count(c))) {
      if (prev.count(c)) to_remove.push_back(c);
      continue;
    }
    if (prev.count(c) || listed) to_read.push_back(c);
    else fresh.push_back(c);
  }
  for (auto& f : workspace::drop_ignored(root, source, std::move(fresh))) to_read.push_back(std::move(f));

  std::vector<FileOutcome> outcomes;
  read_all(
      to_read, &prev, stats, {}, [&](FileOutcome&& o) { outcomes.push_back(std::move(o)); },
      /*reuse_analyses=*/to_read.size() <= kAnalysisMemoFiles);
  rep.bytes_read = stats.total_bytes();
  bool changed = !to_remove.empty();
  {
    WriteLock lk(*this);
    const bool names_current = name_files_version == content_version;
    const bool exports_current = exports_version == content_version;
    ++content_version;
    ++records_version;
    // Whether the import graph changed: a Python file came, went, started or stopped being
    // indexed, or changed its imports. Only then is the centrality recomputed (a PageRank over
    // every Python file, under this lock); an edit that keeps a file's imports keeps its score.
    bool graph_changed = false;
    std::vector<std::pair<std::string, double>> kept_centrality;
    for (const auto& r : to_remove) {
      if (const auto it = prev.find(r); it != prev.end() && in_import_graph(r, it->second)) graph_changed = true;
    }
    for (const auto& o : outcomes) {
      if (o.unchanged) continue;
      const std::string& path = o.record.path;
      const auto it = prev.find(path);
      const bool was = it != prev.end() && in_import_graph(path, it->second), is = in_import_graph(path, o.record);
      if (was != is || (is && it->second.imports != o.record.imports)) graph_changed = true;
      else if (is) kept_centrality.emplace_back(o.record.path, it->second.centrality);
    }
    for (const auto& r : to_remove) {
      index.remove_file(r);
      if (names_current) {
        const auto it = records.find(r);
        names_replace(it == records.end() ? nullptr : &it->second, nullptr);
      }
      records.erase(r);
      ++rep.removed;
      rep.removed_paths.push_back(r);
    }
    for (auto& o : outcomes) {
      const bool had = prev.count(o.record.path) > 0;
      rep.chunks_reused += o.reused;
      if (o.unchanged) {
        ++rep.unchanged;
      } else if (!o.record.indexed) {
        ++rep.skipped;
        changed = true;
      } else if (had) {
        ++rep.reindexed;
        rep.changed_paths.push_back(o.record.path);
        changed = true;
      } else {
        ++rep.added;
        rep.changed_paths.push_back(o.record.path);
        changed = true;
      }
      if (names_current && !o.unchanged) {
        const auto it = records.find(o.record.path);
        names_replace(it == records.end() ? nullptr : &it->second, &o.record);
      }
      apply_outcome(index, records, std::move(o), false);
    }
    if (changed) {
      if (graph_changed) {
        recompute_centrality(records);
        push_centrality(index, records);
      } else {
        for (const auto& [path, c] : kept_centrality) {  // re-added chunks start neutral
          records[path].centrality = c;
          if (c > 0.0) index.set_centrality(path, c);
        }
      }
      touch_locked();
    }
    if (names_current) name_files_version = content_version;
    if (exports_current && !graph_changed) exports_version = content_version;  // same imports
    rep.generation = generation;
  }
  if (!outcomes.empty() && write_rows) skeletons->flush();
  return rep;
}

ApplyReport SegmentIndex::Impl::rescan_locked() {
  // Full comparison against the disk: re-list, re-read what changed by size/mtime, drop what went.
  ApplyReport rep;
  workspace::ListOptions lo;
  lo.use_git = options.use_git;
  auto listing = workspace::list_files(root, filter, lo);
  if (!listing) {
    rep.warnings.push_back("rescan failed: " + listing.error().message);
    return rep;
  }
  skip_ignored_dirs(std::move(listing->ignored_dirs), listing->source);
  stamp_git_ignores(listing->source, /*find=*/false);
  std::vector<std::string> paths;
  std::set<std::string> listed(listing->files.begin(), listing->files.end());
  listed.insert(listing->too_long.begin(), listing->too_long.end());
  {
    std::shared_lock lk(state_mu);
    std::size_t reused = 0;
    paths = stale_by_stat(records, listing->files, reused);
    for (const auto& [p, r] : records) {
      if (!listed.count(p)) paths.push_back(p);
    }
  }
  // A file still on disk but no longer listed (a `.gitignore` now ignores it) is removed, not
  // re-read.
  rep = apply_locked(paths, /*write_rows=*/true, &listed);
  rep.rescanned = true;
  {
    WriteLock lk(*this);
    ++rescans;
  }
  return rep;
}

ApplyReport SegmentIndex::apply_changes(const std::vector<std::string>& paths) {
  ApplyReport rep;
  {
    std::lock_guard up(impl_->update_mu);
    rep = impl_->apply_locked(paths);
  }
  if (rep.changed_files() > 0) publish_pack_state();
  return rep;
}

bool SegmentIndex::Impl::settle_once() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto t0 = std::chrono::steady_clock::now();
    InvertedIndex::SettledPtr prepared, stopped;
    {
      std::shared_lock lk(state_mu);
      if (index.steady()) return false;
      prepared = index.prepare_freeze(&writer_waiting, &stopped);
    }
    stopped.reset();  // a stopped preparation's tables, freed with the index let go
    if (!prepared) {
      // An update wants the index: let it through (it holds update_mu until it is done), then
      // prepare again from what it left.
      options.channel.incr("index_settle_discarded");
      std::lock_guard up(update_mu);
      continue;
    }
    InvertedIndex::SettledPtr replaced;  // freed after the lock is let go (below)
    std::unique_lock lk(state_mu);
    if (!index.commit_freeze(std::move(prepared), &replaced)) {
      options.channel.incr("index_settle_discarded");  // changed between prepare and commit
      continue;
    }
    // Answers are unchanged (no new generation); the memory status() derives is not.
    const bool names_current = name_files_version == content_version;
    const bool exports_current = exports_version == content_version;
    ++content_version;
    if (names_current) name_files_version = content_version;
    if (exports_current) exports_version = content_version;
    lk.unlock();
    options.channel.incr("index_settle_count");
    options.channel.observe("index.settle",
                            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    return true;
  }
  return false;
}

bool SegmentIndex::settle() {
  Impl& m = *impl_;
  m.skeletons->flush();  // the rows a sync(publish = false) left to write
  m.settle_pending.store(true);
  bool installed = false;
  while (m.settle_pending.load()) {
    std::unique_lock one(m.settle_mu, std::try_to_lock);
    if (!one.owns_lock()) return installed;  // the running settle sees settle_pending after it
    m.settle_pending.store(false);
    installed = m.settle_once() || installed;
  }
  return installed;
}

Result<void> SegmentIndex::start_watching() {
  std::lock_guard up(impl_->update_mu);
  if (impl_->watcher) return {};
  auto w = workspace::Watcher::open(impl_->root, impl_->filter);
  if (!w) return w.error();
  // Those of the last listing, if a build ran; new directories are asked about from then on.
  if (impl_->built) (*w)->skip_dirs(impl_->ignored_dirs, impl_->ignored_check());
  impl_->set_watcher(std::move(*w));
  impl_->count_watches();
  return {};
}

std::size_t SegmentIndex::watched_dirs() const {
  std::lock_guard up(impl_->update_mu);
  return impl_->watcher ? impl_->watcher->watches() : 0;
}

int SegmentIndex::dup_watch_fd() const {
  std::lock_guard g(impl_->watcher_fd_mu);
  if (!impl_->watcher) return -1;
  return ::fcntl(impl_->watcher->fd(), F_DUPFD_CLOEXEC, 0);
}

ApplyReport SegmentIndex::sync(bool publish) {
  bool pack_dirty = false;
  ApplyReport rep = sync_locked(pack_dirty, publish);
  if (pack_dirty && publish) publish_pack_state();
  return rep;
}

ApplyReport SegmentIndex::sync_locked(bool& pack_dirty, bool write_rows) {
  // Never wait behind a build: while one runs, answer from the last published index (the
  // changes stay queued in the watcher and are applied by the sync that ends the build, or the
  // next one). Other updates are short: wait for them.
  std::unique_lock up(impl_->update_mu, std::defer_lock);
  while (!up.try_lock_for(std::chrono::milliseconds(5))) {
    if (impl_->building.load()) {
      ApplyReport r;
      r.deferred = true;
      std::shared_lock lk(impl_->state_mu);
      r.generation = impl_->generation;
      return r;
    }
  }
  if (!impl_->watcher) return {};
  // The config file lives in _ctx/, which the watcher never watches: its identity is checked
  // here, on every drain (one stat). Changed include/exclude rules → a rescan with the new ones.
  if (stamp_config(impl_->root) != impl_->config_stamp) {
    if (impl_->reload_config_locked()) {
      ApplyReport rep = impl_->rescan_locked();
      rep.config_reloaded = true;
      impl_->options.channel.incr("index_sync_changes", static_cast<std::int64_t>(rep.changed_files()));
      pack_dirty = true;
      return rep;
    }
  }
  workspace::Changes ch = impl_->watcher->drain();
  impl_->count_watches();  // new directories watched, or a vanished root's watches dropped
  // A `.gitignore` written, created or deleted changes which files are admitted below it, and
  // which directories are worth watching: the tree is listed again. So does an edit to git's
  // ignore files outside the tree (`.git/info/exclude`, core.excludesFile), which no watch sees:
  // their identities are checked here, like the config's (a stat each).
  if (!ch.rescan_needed && (names_ignore_file(ch) || impl_->git_ignores_changed()))
    ch.rescan_needed = true;
  if (ch.root_missing || ch.root_replaced) {
    Impl::WriteLock lk(*impl_);
    if (ch.root_missing && !impl_->root_missing) impl_->root_event = iso8601_utc_now();
    impl_->root_missing = ch.root_missing;
    if (ch.root_replaced) {
      ++impl_->root_replacements;
      impl_->root_event = iso8601_utc_now();
    }
  }
  if (ch.root_missing) {  // nothing to list: keep the last state until the root reappears
    ApplyReport r;
    std::shared_lock lk(impl_->state_mu);
    r.generation = impl_->generation;
    r.warnings.push_back("segment root is gone");
    return r;
  }
  if (ch.empty() && ch.warnings.empty()) {
    ApplyReport r;
    std::shared_lock lk(impl_->state_mu);
    r.generation = impl_->generation;
    return r;
  }
  ApplyReport rep;
  if (ch.rescan_needed) {
    impl_->watcher->rewatch();  // before the rescan: later events are caught next time
    rep = impl_->rescan_locked();  // counts the watches once the ignored directories are skipped
  } else {
    std::vector<std::string> paths;
    for (auto* v : {&ch.changed, &ch.created, &ch.deleted, &ch.deleted_dirs}) {
      for (auto& p : *v) paths.push_back(std::move(p));
    }
    rep = impl_->apply_locked(paths, write_rows);
  }
  for (auto& w : ch.warnings) rep.warnings.push_back(std::move(w));
  if (rep.rescanned || rep.changed_files() > 0) {
    impl_->options.channel.incr("index_sync_changes", static_cast<std::int64_t>(rep.changed_files()));
    if (rep.rescanned) impl_->options.channel.incr("index_rescan_count");
    pack_dirty = true;
  }
  return rep;
}

Result<SearchResult> SegmentIndex::search(const SearchOptions& options) const {
  // The verbatim signal's text (ranking.hpp, rank-15): a candidate's text, read through the
  // segment's reader (path checks, size limit). When its file is as indexed — the size and mtime
  // its record holds, at an open made once a search — and its bytes are its text (valid UTF-8:
  // Chunk::offset), only the chunk's bytes are read: a query of common words would otherwise
  // read whole files of 50–200 KB for chunks of a few KB (four stdlib copies, "self return def
  // none": 460 KB a search). Otherwise its lines, from the whole file, each file read at most
  // once a search, with the same decoding as the build (line numbers agree); the bytes are split
  // into lines only as far as asked, and decoded only when the lines are not plain ASCII (which
  // every decoding leaves as it is; a newline byte never belongs to a longer character). A file
  // that cannot be read (gone, grown too large) matches nothing. Called under state_mu (shared):
  // the records are the index's.
  SearchOptions o = options;
  struct Text {
    std::string bytes;                 // as on disk
    std::vector<std::size_t> starts;   // a prefix of line_starts(bytes) (extend_line_starts)
    bool checked = false;              // whether the bytes were decoded yet (a chunk not ASCII)
    std::optional<std::string> text;   // decoded, when decoding changed them (else the bytes are it)
    std::vector<std::size_t> text_starts;
  };
  struct Source {
    bool opened = false;  // open_ranges tried
    std::optional<workspace::FileReader::Ranges> ranges;  // open, and the file is as indexed
    bool read = false;    // the whole file tried
    std::optional<Text> whole;
  };
  std::unordered_map<std::string, Source> files;
  if (!o.chunk_text && (o.signals & (kSignalVerbatim | kSignalMessage))) {
    o.chunk_text = [this, &files](const ChunkPlace& at) -> std::optional<std::string> {
      Source& src = files[std::string(at.path)];
      if (at.offset != kNoOffset && !src.opened) {
        src.opened = true;
        const auto rec = impl_->records.find(std::string(at.path));
        if (rec != impl_->records.end() && rec->second.indexed) {
          auto r = impl_->reader->open_ranges(at.path);
          if (r && rec->second.size == r->size() && rec->second.mtime_ns == r->mtime_ns()) {
            src.ranges.emplace(std::move(*r));
          }
        }
      }
      if (at.offset != kNoOffset && src.ranges) {
        auto bytes = src.ranges->read(at.offset, static_cast<std::size_t>(at.bytes), workspace::ReadPurpose::kRank, nullptr);
        if (bytes && bytes->size() == at.bytes) return std::move(*bytes);
      }
      if (!src.read) {
        src.read = true;
        if (auto content = impl_->reader->read_bytes(at.path, workspace::ReadPurpose::kRank, nullptr)) {
          src.whole.emplace();
          src.whole->bytes = std::move(content->text);
        }
      }
      if (!src.whole) return std::nullopt;
      Text& t = *src.whole;
      const int first = at.first_line, last = at.last_line;
      extend_line_starts(t.bytes, t.starts, static_cast<std::size_t>(std::max({first, last, 1})));
      const std::string_view span = line_span(t.bytes, t.starts, first, last);
      if (std::all_of(span.begin(), span.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
        return std::string(span);
      }
      if (!t.checked) {
        t.checked = true;
        if (std::string decoded; utf8::decode_source(t.bytes, decoded).changed) {
          t.text = std::move(decoded);
          t.text_starts = line_starts(*t.text);
        }
      }
      if (!t.text) return std::string(span);  // valid UTF-8: the bytes are the text
      return std::string(line_span(*t.text, t.text_starts, first, last));
    };
  }
  std::shared_lock lk(impl_->state_mu);
  auto r = impl_->index.search(o);
  if (r) r->generation = impl_->generation;
  return r;
}

std::optional<std::vector<std::string>> SegmentIndex::files_with_word(std::string_view word) const {
  const auto term = whole_word_token(word);
  if (!term) return std::nullopt;
  std::shared_lock lk(impl_->state_mu);
  if (!impl_->built) return std::nullopt;
  auto files = impl_->index.files_with_term(*term);
  bool added = false;
  for (const auto& [path, rec] : impl_->records) {
    if (!rec.indexed) {
      files.push_back(path);
      added = true;
    }
  }
  if (added) std::sort(files.begin(), files.end());
  return files;
}

SegmentIndex::NameReach SegmentIndex::name_reach(const std::vector<NameAsk>& asks) const {
  NameReach out;
  out.refs.assign(asks.size(), 0);
  std::vector<std::uint64_t> keys;
  keys.reserve(asks.size());
  for (const auto& a : asks) keys.push_back(key_hash64(a.name));
  std::shared_lock lk(impl_->state_mu);
  if (!impl_->built) return out;
  std::lock_guard nk(impl_->name_files_mu);
  auto& table = impl_->name_files;
  if (impl_->name_files_version != impl_->content_version) {
    table.clear();
    impl_->name_files_total = 0;
    std::size_t total = 0;
    for (const auto& [path, r] : impl_->records) total += r.names.size();
    table.reserve(total / 3 + 16);  // a name is in three files on average (stdlib: 3.3)
    for (const auto& [path, r] : impl_->records) impl_->names_replace(nullptr, &r);
    impl_->name_files_version = impl_->content_version;
  }
  out.files = impl_->name_files_total;
  for (std::size_t i = 0; i < asks.size(); ++i) {
    const auto it = table.find(keys[i]);
    if (it == table.end()) continue;
    std::uint32_t n = it->second;
    const auto own = impl_->records.find(asks[i].path);
    if (own != impl_->records.end() && Impl::counts_names(own->second) &&
        std::binary_search(own->second.names.begin(), own->second.names.end(), keys[i]))
      --n;
    out.refs[i] = n;
  }
  return out;
}

std::optional<Chunk> SegmentIndex::chunk(std::string_view id) const {
  std::shared_lock lk(impl_->state_mu);
  auto c = impl_->index.find(id);
  // An id of a file whose name is not UTF-8 comes back percent-escaped, as replies wrote it
  // (util/utf8.hpp escape_name): the literal id first, then the unescaped one.
  if (!c) {
    if (auto raw = utf8::unescape_name(id)) c = impl_->index.find(*raw);
  }
  return c;
}

std::vector<Chunk> SegmentIndex::chunks_of(std::string_view path) const {
  std::shared_lock lk(impl_->state_mu);
  std::vector<Chunk> out = impl_->index.chunks_of(path);
  if (out.empty()) {
    if (auto raw = utf8::unescape_name(path)) out = impl_->index.chunks_of(*raw);
  }
  return out;
}

std::optional<FileRecord> SegmentIndex::file(std::string_view path) const {
  std::shared_lock lk(impl_->state_mu);
  auto it = impl_->records.find(std::string(path));
  if (it == impl_->records.end()) return std::nullopt;
  return it->second;
}

bool SegmentIndex::has_files_under(std::string_view dir) const {
  while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
  if (dir.empty()) return false;
  const std::string prefix = std::string(dir) + "/";
  std::shared_lock lk(impl_->state_mu);
  const auto it = impl_->records.lower_bound(prefix);
  return it != impl_->records.end() && it->first.starts_with(prefix);
}

double SegmentIndex::centrality(std::string_view path) const {
  std::shared_lock lk(impl_->state_mu);
  auto it = impl_->records.find(std::string(path));
  return it == impl_->records.end() ? 0.0 : it->second.centrality;
}

std::vector<CentralFile> SegmentIndex::central_files(std::string_view dir, std::size_t limit) const {
  std::string d(dir);
  while (!d.empty() && d.back() == '/') d.pop_back();
  if (d == ".") d.clear();
  std::vector<CentralFile> out;
  {
    std::shared_lock lk(impl_->state_mu);
    std::lock_guard ex(impl_->exports_mu);
    if (impl_->exports_version != impl_->content_version) {
      impl_->exports = package_exports(Impl::graph_imports(impl_->records), impl_->package_prefix());
      impl_->exports_version = impl_->content_version;
    }
    for (const auto& [path, r] : impl_->records) {
      if (!r.indexed || r.centrality <= 0.0) continue;
      if (!d.empty() && path != d && !under(path, d)) continue;
      const auto it = impl_->exports.find(path);
      if (it == impl_->exports.end())
        out.push_back({path, r.centrality, {}, 0.0});
      else
        out.push_back({path, r.centrality, it->second.names, it->second.interface});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const CentralFile& a, const CentralFile& b) { return a.centrality > b.centrality; });
  if (limit && out.size() > limit) out.resize(limit);
  return out;
}

Status SegmentIndex::status() const {
  std::shared_lock lk(impl_->state_mu);
  // The pack_state, cached per records version; else hashed below, after the lock, from a copy
  // of its input taken in derived_locked's walk.
  const std::uint64_t records_version = impl_->records_version;
  std::string pack_state;
  {
    std::lock_guard g(impl_->derived_mu);
    if (impl_->pack_version == records_version) pack_state = impl_->pack_sha;
  }
  const bool hash_pack = pack_state.empty();
  std::string pack_input;
  Status s = impl_->derived_locked(hash_pack ? &pack_input : nullptr);
  s.pack_state = std::move(pack_state);
  s.memory_bytes += impl_->name_files_bytes();
  s.generation = impl_->generation;
  s.chunks = impl_->index.chunk_count();
  s.last_update = impl_->last_update;
  s.source = std::string(workspace::listing_source_name(impl_->source));
  s.built = impl_->built;
  s.watching = impl_->watcher != nullptr && !impl_->root_missing;
  s.warm_start = impl_->warm_start;
  s.dirty = impl_->dirty;
  s.rescans = impl_->rescans;
  s.watched_dirs = impl_->watched.load(std::memory_order_relaxed);
  s.steady = impl_->index.steady();
  s.warnings = impl_->config_warnings;
  if (impl_->root_missing) {
    s.warnings.push_back("segment root is gone (deleted or moved away) since " + impl_->root_event +
                         ": not watching until a directory is at its path again");
  } else if (impl_->root_replacements > 0) {
    s.warnings.push_back("segment root was deleted and re-created (or replaced) " +
                         std::to_string(impl_->root_replacements) + " time(s), last at " +
                         impl_->root_event + ": watched again and rescanned");
  }
  lk.unlock();
  if (hash_pack) {
    s.pack_state = sha256_hex(pack_input);
    std::lock_guard g(impl_->derived_mu);
    // Another status() may have hashed a newer version meanwhile: the newest stays.
    if (impl_->pack_version == UINT64_MAX || impl_->pack_version < records_version) {
      impl_->pack_version = records_version;
      impl_->pack_sha = s.pack_state;
    }
  }
  return s;
}

Result<ValidateReport> SegmentIndex::validate(workspace::ReadStats* stats) const {
  workspace::ListOptions lo;
  lo.use_git = impl_->options.use_git;
  auto listing = workspace::list_files(impl_->root, filter(), lo);
  if (!listing) return listing.error();
  std::map<std::string, FileRecord> recs;
  ValidateReport v;
  {
    std::shared_lock lk(impl_->state_mu);
    recs = impl_->records;
    v.generation = impl_->generation;
  }
  workspace::ReadStats local;
  workspace::ReadStats& st = stats ? *stats : local;
  std::set<std::string> listed(listing->files.begin(), listing->files.end());
  listed.insert(listing->too_long.begin(), listing->too_long.end());  // recorded as skipped
  std::mutex mu;
  parallel_for(listing->files.size(), impl_->threads, [&](std::size_t i) {
    const std::string& rel = listing->files[i];
    auto it = recs.find(rel);
    if (it == recs.end()) {
      std::lock_guard lk(mu);
      v.added.push_back(rel);
      return;
    }
    if (impl_->path_too_long(rel)) {  // skipped by build the same way: nothing to compare
      std::lock_guard lk(mu);
      ++v.checked;
      if (it->second.skip_reason != Impl::kPathTooLong) v.stale.push_back(rel);
      return;
    }
    if (impl_->never_code(rel)) {  // not read by build either: the decision is what is checked
      std::lock_guard lk(mu);
      ++v.checked;
      if (it->second.skip_reason != Impl::kNeverCode) v.stale.push_back(rel);
      return;
    }
    auto content = impl_->reader->read(rel, workspace::ReadPurpose::kValidate, &st);
    bool stale;
    if (content) {
      stale = !it->second.indexed || sha256_hex(content->text) != it->second.sha256;
    } else {
      stale = it->second.indexed || std::string(workspace::skip_reason_of(content.error().code)) != it->second.skip_reason;
    }
    std::lock_guard lk(mu);
    ++v.checked;
    if (stale) v.stale.push_back(rel);
  });
  for (const auto& [p, r] : recs) {
    if (!listed.count(p)) v.missing.push_back(p);
  }
  std::sort(v.stale.begin(), v.stale.end());
  std::sort(v.added.begin(), v.added.end());
  // The seed's pack_state.stale_detected: what the last validation found (written to
  // last_run.json with the rest of pack_state).
  impl_->stale_detected.store(v.ok() ? 0 : 1, std::memory_order_relaxed);
  publish_pack_state();
  return v;
}

Result<void> SegmentIndex::persist() {
  std::lock_guard up(impl_->update_mu);
  std::shared_lock lk(impl_->state_mu);
  return impl_->write_locked();
}

void SegmentIndex::persist_if_dirty() {
  if (!impl_->options.persist) return;
  std::lock_guard up(impl_->update_mu);
  std::shared_lock lk(impl_->state_mu);
  if (!impl_->dirty || !impl_->built) return;
  (void)impl_->write_locked();
}

void SegmentIndex::publish_pack_state() const {
  const Status s = status();
  json::object reasons;
  for (const auto& [k, n] : s.skip_reasons) reasons[k] = n;
  // pack_sha / pack_mtime are the seed plan's names (last_run.json → pack_state).
  json::object ps{{"pack_sha", s.pack_state}, {"pack_mtime", s.last_update}, {"generation", s.generation},
                  {"files_indexed", s.files_indexed},
                  {"files_skipped", s.files_skipped}, {"skip_reasons", std::move(reasons)}, {"chunks", s.chunks},
                  {"last_update", s.last_update}};
  if (const int stale = impl_->stale_detected.load(std::memory_order_relaxed); stale >= 0) {
    ps["stale_detected"] = stale == 1;  // the seed writes it only once it is known
  }
  impl_->options.channel.set_pack_state(std::move(ps));
}

const fs::path& SegmentIndex::root() const { return impl_->root; }
bool SegmentIndex::keep_parse(const std::string& rel, workspace::ReadStats* stats) {
  if (file_type_of(rel) != FileType::kPython) return false;
  {
    std::shared_lock lk(impl_->state_mu);
    const auto it = impl_->records.find(rel);
    if (it == impl_->records.end() || !it->second.indexed || it->second.size > ast::kParseMemoBytes) return false;
  }
  auto content = impl_->reader->read(rel, workspace::ReadPurpose::kSkeleton, stats);
  if (!content) return false;
  return impl_->skeletons->keep_parse(content->text, rel);
}

const workspace::FileReader& SegmentIndex::reader() const { return *impl_->reader; }
ast::SkeletonCache& SegmentIndex::skeletons() { return *impl_->skeletons; }
workspace::PathFilter SegmentIndex::filter() const {
  std::shared_lock lk(impl_->state_mu);
  return impl_->filter;
}
fs::path SegmentIndex::cache_file() const { return impl_->cache_file(); }
telemetry::Channel& SegmentIndex::channel() { return impl_->options.channel; }
std::size_t SegmentIndex::memory_bytes() const {
  std::shared_lock lk(impl_->state_mu);
  return impl_->derived_locked().memory_bytes + impl_->name_files_bytes();
}

std::uint64_t SegmentIndex::generation() const {
  std::shared_lock lk(impl_->state_mu);
  return impl_->generation;
}

}  // namespace trifecta::core::index
