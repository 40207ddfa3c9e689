// index/inverted_index.hpp — in-memory inverted index over chunks, searched with the BM25F
// ranking of ranking.hpp (fields, weights, k1, idf and what each field holds live there, with
// kRankingVersion). This file owns the postings and the search loop: which chunks match, the
// filters, and the order of equal scores — ties are broken by path, then start line, then id
// (ascending), so identical inputs always give identical result order.
//
// Updates are per file: `replace_file` removes the file's old chunks (tombstones; postings of
// dead chunks are skipped and compacted away once they are a quarter of the index) and adds the
// new ones. Nothing else is touched, but for the stem groups (below), set aside until the next
// freeze.
//
// Memory layout (postings.hpp): most postings are *frozen* — delta + varint encoded, all lists in
// one buffer (≈ 2.8 bytes a posting on the stdlib instead of 8 plus a vector per term). Chunks
// are stored packed (Doc: fixed fields inline, every string in one pool; find, chunks_of and
// search hits return rebuilt copies). Postings added since the last freeze sit in a flat *tail*
// (12 bytes each; a search finds a term's by binary search in its runs sorted by term, and scans
// the up to kTailSortAt postings added since); `freeze()` (also run by `compact()`, and by
// `replace_file` once the tail holds kTailLimit postings) merges it in. A cold build adds
// everything to the tail and freezes once at the end. A freeze can also be prepared beside searches
// and installed afterwards (prepare_freeze / commit_freeze): what SegmentIndex::settle does after
// every update, so that an edited index is back in its steady state (below) within a fraction of a
// second. Document frequencies are counted from the live postings of the query terms (no
// per-document term list is kept), so ranking is exactly that of the uncompressed lists. Every
// frozen list of a common term (on at least 1/16 of the chunks) also has a *document set*, a bitmap
// of the chunks it holds, rebuilt at every freeze and load; a pruned search in the steady state
// takes from the sets all it needs of those lists, and looks the kept chunks' tfs up through the
// sets' rank counts and skip entries (see doc_sets_ below). A search of one common term reads only
// the blocks of 64 chunks whose bound — the set's peak for the block, the idf, the block's best
// priors — can reach the page (block-max, exact; docs/index.md).
//
// Between an update and the next freeze (a tail, dead chunks in the frozen lists) a search still
// reads what the last freeze left: a common term's frozen list (one with a document set), or a
// stem group's with a common word, streamed past the dead chunks (frozen_dead_bits_, a bit test
// a posting) with its tail postings after (the new chunks come after every frozen one); a common
// term's live count is its stored count less the dead chunks its set holds; the sets bound
// pruning (a chunk added since may hold any term) and stand in for the lists, the dead chunks
// dropped from the union and the tails added. A rarer term's short list, and an expansion that
// is no group's words exactly, are collected (and merged) by the search. The answers are those
// of the index frozen anew, to the bit (pruning_test).
//
// A search's per-chunk tables (scores, marks, prose bits, stamps; 18 bytes a chunk; two bitmaps
// for the document sets, 1/4 byte) and collected posting lists (up to ~48 bytes a chunk kept)
// are scratch shared by the whole process and reused
// from query to query: at most 4 are kept idle, each sized for the largest index it served.
// memory_bytes() does not count them. A query term with several stem variants (`error`, `errors`)
// reads them merged already: every stem two or more indexed words share has a *stem group*, the
// union of their lists, built at freeze and load (build_groups below; after an update, the last
// freeze's, as above). When the expansion is not a group's words exactly (or with
// `merge_variants`), the variants are merged by the search — or, in the steady state when it
// prunes and their lists hold at least 1/16 as many postings as there are chunks, streamed one
// after the other, only the chunks that can reach the page summing their tfs.
//
// Failure behaviour: `search` returns kInvalidArgument for a query shorter than 2 characters
// (after trimming), a query without any searchable term, a limit outside [1, kMaxLimit] or an
// invalid kind. `deserialize` returns kParse on any truncation or inconsistency.
//
// Thread rules: not synchronised. Concurrent const calls (search, lookups) are safe — the two
// things a search writes in the index are its stem caches: stem_hash_ is relaxed atomics and
// variant_cache_ has its own mutex;
// mutation needs exclusive access (SegmentIndex holds a shared_mutex around it).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "index/chunk.hpp"
#include "index/postings.hpp"
#include "index/ranking.hpp"
#include "util/result.hpp"

namespace trifecta::core::index {

static_assert(kFieldCount == kPostingFields, "a posting carries one tf per field");
inline constexpr std::size_t kMaxLimit = 1000;

// Term frequencies of one chunk, per field (what the indexer extracts; built in worker threads).
// Unique terms live in one arena string (few allocations); `hash` is std::hash of the term,
// computed in the worker so the serial merge does not hash again.
struct ChunkTerms {
  struct Term {
    std::uint32_t offset = 0, size = 0;
    std::size_t hash = 0;
    std::array<std::uint8_t, kFieldCount> tf{};  // saturates at 255 (BM25 saturates long before)
  };
  std::array<std::uint32_t, kFieldCount> length{};  // tokens per field
  std::string arena;
  std::vector<Term> terms;
  std::string_view term(const Term& t) const {
    return std::string_view(arena).substr(t.offset, t.size);
  }
};

// Tokenize the fields of `chunk` (body = `body_text`, the chunk's lines).
ChunkTerms analyze_chunk(const Chunk& chunk, std::string_view body_text);

// One version of a file's chunk analyses, by key — a 64-bit SipHash (key_hash64) of everything
// analyze_chunk reads: the chunk's text and the members for_each_field_text uses (ranking.hpp) —
// for the file's next version: an edit then tokenizes only the chunks whose texts it changed (a
// one-line edit of `tempfile.py`: 1 of its ~60 chunks; the others move down a line, which the
// analysis never sees). Distinct inputs share a key with probability about n² / 2⁶⁵. Not
// thread-safe; SegmentIndex keeps those of the files it applied edits to last (segment_index.cpp,
// kAnalysisMemoFiles).
class ChunkAnalyses {
 public:
  // analyze_chunk(chunk, body_text) — moved out of this set when it holds an analysis with the
  // same key (each is reused once), tokenized otherwise — and a copy of it added to `next`. An
  // empty `chunk.sha256` (chunk_file's `hash_chunks` false) is filled: the one kept with the
  // analysis, else SHA-256 of `body_text` (which must then be the chunk's lines).
  ChunkTerms analyze(Chunk& chunk, std::string_view body_text, ChunkAnalyses& next);
  std::size_t size() const { return by_key_.size(); }
  std::size_t memory_bytes() const { return bytes_; }  // the analyses' arenas and term tables
  std::size_t reused() const { return reused_; }       // analyze calls this set answered

 private:
  struct Kept {
    ChunkTerms terms;
    std::string sha256;
  };
  std::unordered_map<std::uint64_t, Kept> by_key_;
  std::size_t bytes_ = 0, reused_ = 0;
};

// Where a chunk's text is, as indexed (SearchOptions::chunk_text): lines [first_line, last_line]
// of `path`, which are bytes [offset, offset + bytes) of its text (offset kNoOffset: not an
// offset in the file on disk; chunk.hpp Chunk::offset).
struct ChunkPlace {
  std::string_view path;
  int first_line = 0, last_line = 0;
  std::uint64_t offset = kNoOffset, bytes = 0;
};

struct SearchOptions {
  std::string query;
  std::size_t limit = 10;
  std::string path_glob;          // "" = any (glob.hpp syntax, matched on the path)
  std::optional<ChunkKind> kind;  // nullopt = any
  bool explain = false;
  // Score every matching chunk (no dynamic pruning): the same hits, slower; tests compare.
  bool exhaustive = false;
  // Merge a term's stem variants in the search even when a stem group holds them merged
  // (InvertedIndex::build_groups): the same hits and scores, slower; tests compare.
  bool merge_variants = false;
  std::uint32_t signals = signals_from_env();  // ranking.hpp Signal bits (benchmarks ablate)
  // A chunk's text, for the verbatim and message signals (ranking.hpp, kSignalVerbatim,
  // kSignalMessage); nullopt when it cannot be read (then the chunk does not match). Unset: both
  // signals are off. Called from the
  // searching thread, for at most the page's best candidates, while the search holds the index
  // (SegmentIndex::search sets it: reads through the segment's FileReader, ReadPurpose::kRank —
  // the chunk's bytes alone when its file is as indexed, else its lines from the whole file).
  std::function<std::optional<std::string>(const ChunkPlace& place)> chunk_text;
};

struct TermContribution {
  std::string term;
  std::string field;
  std::uint32_t tf = 0;
  double score = 0.0;
};

struct SearchHit {
  Chunk chunk;  // a copy: hits stay valid whatever happens to the index afterwards
  double score = 0.0;
  // When requested; sums to `score`. Term entries: (query term, field, tf, BM25F share); a
  // stemmed or corrected match names the indexed terms (`dictionaries~dictionary`,
  // `querset→queryset~querysets`). Signal entries have field "signal", tf 0, term = the signal
  // (`test-file×0.35`, `definition×1.3`, `module-name×1.5`, `file-coverage×1.225`,
  // `same-file#2×0.6`) and score = what it added (negative for a demotion). A compound term
  // names the query words it joins (`list+directory→listdir`), a module piece the query word
  // and the module's name (`servers→socketserver`).
  std::vector<TermContribution> explain;
};

// A query term the index lacks that the typo correction searched as an indexed word instead.
struct Correction {
  std::string from;  // the query's term
  std::string to;    // the indexed word searched (with its stem variants when stemming is on)
  friend bool operator==(const Correction&, const Correction&) = default;
};

struct SearchResult {
  std::vector<std::string> terms;  // the query's terms (after stop words, deduplicated)
  // The query's terms the typo correction replaced (ranking.hpp kTypoWeight), in query order;
  // empty when every term was found as written or stayed uncorrected.
  std::vector<Correction> corrected;
  // Those of `terms` the term cap left out (ranking.hpp kMaxScoredTerms), in query order; empty
  // unless the query had more terms with postings than the cap.
  std::vector<std::string> unscored;
  std::vector<SearchHit> hits;
  std::size_t matched = 0;  // chunks matching ≥ 1 term, after filters
  std::size_t scored = 0;   // chunks scored in full (fewer than matched when pruned)
  std::string reason;       // set when there are no hits
  // Indexed words close to the query terms the index lacks (suggest): every such term's when
  // there are no hits; with hits, only those the typo correction looked up.
  std::vector<std::string> did_you_mean;
  std::uint64_t generation = 0;  // set by SegmentIndex: the index state answered from
};

class InvertedIndex {
 public:
  using DocId = std::uint32_t;

  // Replace every chunk of `path` (none → removal). `terms[i]` belongs to `chunks[i]`.
  // Freezes on its own when the tail exceeds kTailLimit, unless `bulk` (a cold build: the caller
  // freezes or compacts once at the end).
  void replace_file(const std::string& path, std::vector<Chunk> chunks,
                    std::vector<ChunkTerms> terms, bool bulk = false);
  void remove_file(const std::string& path) { replace_file(path, {}, {}, false); }

  Result<SearchResult> search(const SearchOptions& options) const;
  // Clear the per-search scratch tables the last searches handed back (a search leaves its
  // tables to be cleared later, so that it can reply first; a search that finds none clean clears
  // one itself). For a caller with a moment after its reply: the daemon calls it once a search's
  // reply is sent. Thread-safe, shared by every index of the process; a no-op when none is left.
  static void tidy_scratch();

  // Paths of the live chunks whose tokens include `term` (an index term: lowercased), sorted and
  // unique; empty when no chunk has it.
  std::vector<std::string> files_with_term(std::string_view term) const;

  // Copies, rebuilt from the stored form (see Doc below).
  std::optional<Chunk> find(std::string_view id) const;
  std::vector<Chunk> chunks_of(std::string_view path) const;  // in line order
  std::size_t chunk_count() const { return alive_; }
  std::size_t term_count() const;

  // Suggestions for a term absent from the index: edit distance ≤ 1 (≤ 2 for terms of ≥ 5
  // characters, then only under the same first letter; a swap of two neighbouring letters is one
  // edit) or a prefix match, ranked by distance (a prefix match as 1), then document frequency.
  // At most `max`.
  // Walks the sorted vocabulary by shared prefix, dropping every word under a prefix already
  // too far from `term` (and scans the terms added since the last freeze): its cost grows with
  // the vocabulary's distinct short prefixes, not with the postings.
  std::vector<std::string> suggest(std::string_view term, std::size_t max = 5) const;

 private:
  // The chunk of each file `query` names (ranking.hpp file_reference, or the one pytest node id
  // of a line, node_id_in_line; else the places of a pasted traceback or log that name indexed
  // files, innermost first, at most kMaxPinnedFrames of them, frames_in_text) that passes `o`'s
  // kind and path filters: see chunks_named.
  // In page order. With `corrected` (and the typo signal on), a whole query's code or doc file
  // name that no file has is looked up as the one name misspelt_file_name finds, which
  // `*corrected` then says (a traceback's frames are not corrected).
  std::vector<DocId> named_chunks(std::string_view query, const SearchOptions& o,
                                  std::optional<Correction>* corrected = nullptr) const;
  // The files `ref` names (the longest path match, at most kMaxNamedFiles of them, else none),
  // each by one chunk: a pytest node id's definition (or its nearest enclosing chunk), else the
  // one holding the line (frame_function_chunk when a traceback frame names its function), else
  // the file's first.
  std::vector<DocId> chunks_named(FileReference ref, const SearchOptions& o,
                                  std::optional<Correction>* corrected) const;
  // A traceback frame's chunk: `at` (the chunk holding its line, among `ids`, one file's) when
  // its symbol is `ref.function` or its text defines it (`def NAME`, `class NAME`), else that
  // file's chunk named `ref.function` nearest the line (a line gone stale after an edit); `at`
  // when there is none or the text cannot be read (no `o.chunk_text`, or it fails).
  DocId frame_function_chunk(const std::vector<DocId>& ids, DocId at, const FileReference& ref,
                             const SearchOptions& o) const;
  // One indexed word close to an absent term: `dist` its edit distance (a completion's: the
  // letters it adds), `rank_dist` the distance suggestions rank by (a completion ranks as 1).
  struct Suggestion {
    std::uint32_t id;
    std::uint32_t df;
    std::uint8_t rank_dist;
    std::uint8_t dist;
  };
  // Every indexed word with live postings close to `term` (as `suggest` finds them), unsorted.
  std::vector<Suggestion> suggestion_candidates(std::string_view term) const;
  // The first `max` of them in `suggest`'s order (distance, completions as one edit; then df).
  std::vector<std::string> top_suggestions(std::vector<Suggestion> cands, std::size_t max) const;
  // The word the typo correction searches `term` as (null: none close enough; ranking.hpp).
  const Suggestion* correction(std::string_view term, const std::vector<Suggestion>& cands) const;

 public:
  // The import-graph centrality of `path` (centrality.hpp; 0 = none), used by the ranking's
  // centrality prior (ranking.hpp centrality_factor) for every chunk of the file. Not persisted
  // here: SegmentIndex keeps it in its file records and sets it after every build and update.
  // The factor is computed here, once per file, not per search. A file without chunks is
  // ignored; a file re-added by replace_file starts neutral (factor 1).
  void set_centrality(const std::string& path, double centrality);

  // Pre-size the vocabulary (a cold build of many files avoids rehashing).
  void reserve_terms(std::size_t n);

  // Postings held in the tail before replace_file freezes on its own.
  static constexpr std::size_t kTailLimit = std::size_t{1} << 16;
  // Unsorted tail postings replace_file sorts by term (TailPosting below): one edit's (a few
  // thousand) become a run at once; smaller edits gather first. At most kTailLimit / kTailSortAt
  // runs.
  static constexpr std::size_t kTailSortAt = std::size_t{1} << 10;
  // Encode the tail into the frozen lists (dropping postings of dead chunks). Call after a bulk
  // load (many replace_file calls); cost is linear in all postings. prepare_freeze +
  // commit_freeze in one step.
  void freeze() { freeze(nullptr); }

  // Whether the index is in its steady state: no tail, no dead chunk with frozen postings. Only
  // then do searches prune with the document sets and read stem groups; after an edit (a
  // replace_file outside a bulk build) a long query costs 3-12x more until the next freeze
  // (docs/benchmarks.md, "Searches after an edit").
  bool steady() const { return tail_.empty() && !frozen_has_dead_; }
  // Freezing in two steps, so that the costly one runs beside searches (SegmentIndex::settle):
  // prepare_freeze is const — it reads the index and builds apart from it everything a freeze
  // makes (every list: copied as encoded when the updates did not touch it, else spliced —
  // settle_lists; the stem groups; the document sets; the sorted vocabulary when it grew):
  // concurrent const calls (searches) may run meanwhile, mutation may not. It returns
  // null when the index is steady already, or when `*cancel` became true (checked before each
  // list, each stem group, each document set and every word it stems; a writer waiting for the
  // index sets it, and its sync takes 0.4-0.9 ms more at the median than with no settle running,
  // 3-7 ms at most, on the stdlib demo tree and on four copies of it: docs/benchmarks.md, "An
  // edit during the previous edit's settle: no wait"; the vocabulary sort and the stemming
  // cover only the words added since the last freeze).
  // commit_freeze installs what was prepared —
  // swaps, no re-encoding — when the index has not changed since (every replace_file,
  // compaction, freeze and load gives the index a new stamp), and otherwise discards it and
  // returns false. What a search answers is the same before and after: only its cost changes.
  // With `replaced`, the tables the commit replaced (tens of MB on a large tree) are handed back
  // in it, for the caller to free once it let go of the index; with `stopped`, likewise what a
  // cancelled preparation had built (freeing it took 1-5 ms on four stdlib copies, which the
  // waiting writer would wait for under the shared lock).
  struct Settled;
  struct SettledDelete {
    void operator()(Settled* s) const;
  };
  using SettledPtr = std::unique_ptr<Settled, SettledDelete>;
  SettledPtr prepare_freeze(const std::atomic<bool>* cancel = nullptr,
                            SettledPtr* stopped = nullptr) const;
  bool commit_freeze(SettledPtr settled, SettledPtr* replaced = nullptr);

  // Drop tombstones and renumber, then freeze (also done automatically).
  void compact();

  // Binary form (live chunks only, renumbered; posting lists in the encoding of postings.hpp),
  // appended to `out`. `deserialize` replaces the content and checks every list; kParse on bad
  // data, leaving the index unchanged.
  void serialize(std::string& out) const;
  std::size_t serialized_size_hint() const;  // about what serialize appends (for reserving)
  Result<void> deserialize(std::string_view data);

  // Approximate heap bytes (for status and benchmarks): the tables kept with room for edits
  // (leave_room) count their size, the room being address space until edits fill it.
  std::size_t memory_bytes() const;
  // The stem groups built (build_groups; 0 outside the steady state) and their postings.
  std::size_t group_count() const { return group_start_.empty() ? 0 : group_start_.size() - 1; }
  std::size_t group_postings() const { return group_postings_; }

 private:
  // A chunk as stored: 80 bytes, where a Chunk is ~290 plus six to eight heap strings. Its
  // strings sit back to back in pool_, in Str order from `strs` (their lengths in `len`), and
  // its path once for all the chunks of its file, at `path`. Not only smaller: a cold build's
  // chunks come from the parse threads, and their strings, each its own malloc in those
  // threads' arenas between the parse's freed temporaries, kept the freed memory resident after
  // every rebuild (issue 12, RSS ≤ 2.5 × corpus). The pool is one block: once over 1 MiB it is
  // mapped on its own (util/malloc_tune.hpp, the daemon's settings) and given back whole with the
  // index. unpack() rebuilds the Chunk; the title path is stored as each piece's little-endian u32
  // length and bytes. Offsets are 64-bit: no size of tree overflows them.
  enum Str : std::uint8_t {
    kId,
    kTitle,
    kTitlePath,
    kSha256,
    kPreview,
    kContext,
    kSignature,
    kStrCount
  };
  struct Doc {
    std::uint64_t strs = 0;  // pool_ offset of the strings
    std::uint64_t path = 0;  // pool_ offset of the path
    std::array<std::uint32_t, kStrCount> len{};
    std::uint32_t path_len = 0;
    std::uint64_t bytes = 0;
    std::uint64_t offset = 0;  // Chunk::offset (its `tokens` are not kept: ceil(bytes / 4))
    std::int32_t start_line = 0, end_line = 0;
    ChunkKind kind = ChunkKind::kOther;
    ChunkRole role = ChunkRole::kWindow;
    bool alive = true;
  };
  static_assert(sizeof(Doc) <= 80, "a chunk record stays small: docs_ is read by every search");
  std::string_view id_text(const Doc& d) const {
    return std::string_view(pool_.data() + d.strs, d.len[kId]);
  }
  std::string_view path_text(const Doc& d) const {
    return std::string_view(pool_.data() + d.path, d.path_len);
  }
  std::string_view str(const Doc& d, Str which) const;
  // Append `c`'s strings to pool_ and return its record; its path too unless `path` (the pool
  // offset of a stored copy of c.path) is given.
  Doc pack(const Chunk& c, const std::uint64_t* path);
  Chunk unpack(const Doc& d) const;
  // What the search reads per matching document, kept apart from the Doc so scoring a long
  // posting list walks dense tables instead of missing the cache on every Doc (issue 12: `error`
  // on four stdlib copies spent most of its time in those misses): `lengths_[d]`, five one-byte
  // length codes (ranking.hpp length_code), read for every posting scored, and `rank_[d]`, 12
  // bytes, read for the chunks ranked (priors, filters). The two were one 36-byte record until
  // 2026-12-03 (perf put half of the score loop's time in that one load); the loop now reads 5 of
  // those 36 bytes a posting (10 with the 16-bit counts before rank-9). lengths_[d], rank_[d] and
  // prior_key_[d] belong to docs_[d]; all grow, shrink and renumber together.
  struct DocRank {
    std::uint32_t module = UINT32_MAX;  // index into module_words_ (UINT32_MAX: none)
    float centrality = 1.0f;            // centrality_factor of the file's import-graph score
    std::uint8_t path_class = 0;        // ranking.hpp PathClass bits of the chunk's path
    ChunkRole role = ChunkRole::kWindow;
    ChunkKind kind = ChunkKind::kOther;
  };
  static_assert(sizeof(DocRank) == 12 && sizeof(FieldLengths) == 5,
                "the per-chunk tables the search reads stay dense");
  // Derived per-document ranking data (path class, module name, role, kind); set on insert and
  // load. `same_path`: the data of a chunk with the same path, whose path class and module are
  // copied.
  void classify(const Doc& doc, DocRank& rank, const DocRank* same_path = nullptr);
  // The vocabulary sorted for stem expansion, into `s` unless it did not grow since the last
  // sort (then the stem caches stay valid and are kept): the words added since are sorted and
  // each put in its place in the last sort's order by a binary search, the rest copied in runs
  // with their stem cache slots (a full sort of the stdlib demo tree's 106,000 words took 7-15 ms
  // of a settle that cannot stop for an update meanwhile).
  void sort_terms(Settled& s) const;
  // Indexed terms with the stem `s` of the query term `term` (`term` itself included when
  // indexed), ascending ids.
  void stem_variants(std::string_view term, const std::string& s,
                     std::vector<std::uint32_t>& out) const;
  // Stem groups: the stem expansions merged once instead of by every search that asks. For each
  // stem that two or more indexed terms have (those of them stem_variants' scan would find:
  // `stem_scan_admits`), the union of their lists — the tfs of a chunk several of them hold added
  // per field, saturating, as a search's merge adds them — is appended to frozen_ as one more
  // list, with an id from vocab_lists_ up (and a document set when it is common: build_doc_sets).
  // A search whose expansion is exactly a group's members (group_list compares them, so an
  // expansion the scan made otherwise just merges as before) scores the group's list as it would
  // a single term's: the same postings and tfs, so the same sums; its terms are ordered by the
  // members' summed counts as when it merged them. Built for freeze() and deserialize() (the
  // steady state only: from the settled lists in `s`, into `s`) and set aside (stale_groups_) by
  // the first replace_file that adds chunks (a word it adds would get the first group's id), for
  // the next freeze to copy the groups none of whose words' lists changed, and to splice the
  // others (a freeze without renumbering: the last freeze's list of the group less the dead
  // chunks, then its words' tail postings merged by chunk — what merging its words again gives);
  // never serialized. False when `*cancel` turned true. The stdlib demo tree has 3,377 groups
  // over 9,391 words: +48 % of the terms' posting bytes (2.7 MB; 11.2 MB on four copies), built
  // in under 0.1 s (0.2 s on four copies; docs/benchmarks.md, "Stem groups"). The words are
  // grouped through stem_members_, which a freeze extends by the words added since the last one.
  bool build_groups(Settled& s, const std::atomic<bool>* cancel) const;
  // The words of the vocabulary's first stemmed_terms_ ids that a stem scan would find under
  // their own stem (stemmable, stem_scan_admits), each with its stem's 64-bit hash, sorted by
  // (hash, term): what build_groups groups (those with postings), kept so that a freeze stems
  // only the words added since the last one — stemming all 106,000 words of the stdlib demo tree
  // and sorting the 38,000 members by their stems took ~30 ms of every settle, with no point to
  // stop at for an update that wanted the index. Two stems with one hash would make one group
  // that no expansion matches (group_list compares the members), which only loses that group's
  // saving. Term ids never change (the vocabulary only grows). 16 bytes a member.
  struct StemMember {
    std::uint64_t stem;
    std::uint32_t term;
  };
  std::vector<StemMember> stem_members_;
  std::uint32_t stemmed_terms_ = 0;
  void drop_groups();
  // The list id of the group whose members are exactly `ids` (ascending), or IdTable::kNone.
  std::uint32_t group_list(const std::vector<std::uint32_t>& ids) const;
  std::uint32_t vocab_lists_ = 0;  // frozen_'s lists from this id up are groups' (0: none)
  std::vector<std::uint32_t> group_members_;  // each group's members, ascending, back to back
  // Group g's members from group_start_[g] to [g + 1]; the groups in the order of their smallest
  // member (a word has one stem, so one group: group_list's binary search).
  std::vector<std::uint32_t> group_start_;
  std::size_t group_postings_ = 0;  // the groups' postings (memory figures)
  // The groups drop_groups() took out of the index, kept (not freed) until the next freeze:
  // build_groups copies the list of every group whose members are the same and none of whose
  // members' lists changed (Settled::changed), and splices the others', instead of merging them
  // again.
  struct StaleGroups {
    FrozenPostings::Extension lists;
    std::vector<std::uint32_t> members, start;
  };
  StaleGroups stale_groups_;
  // A posting added since the last freeze. The tail: tail_[0, tail_sorted_) is a series of runs
  // (tail_runs_: their ends), each sorted by term with each term's postings in document order,
  // every document of a run above those of the runs before; the rest in document order, above
  // every document of the runs. replace_file sorts that rest into a run once it holds
  // kTailSortAt postings (not in a bulk build, whose caller freezes it as it is): one edit adds a
  // few thousand, which a long query would otherwise scan once per query word (of a 30-word
  // question's search after an edit, 2.5 % of its instructions); many files changed at once (a
  // branch switch, before the settle) are not scanned again and again. for_each_tail reads a
  // term's from the runs (binary search in each) and the rest, in document order.
  struct TailPosting {
    std::uint32_t term;
    Posting p;
  };
  template <class Fn>
  void for_each_sorted_tail(std::uint32_t term, Fn&& fn) const;  // the runs' only: fn(TailPosting)
  template <class Fn>
  void for_each_tail(std::uint32_t term, Fn&& fn) const;  // fn(Posting)
  void sort_tail();
  std::uint32_t intern(std::string_view term, std::size_t hash);
  std::uint32_t term_id(std::string_view term) const;  // IdTable::kNone when absent
  std::string_view term_text(std::uint32_t t) const {
    return std::string_view(term_chars_).substr(term_off_[t], term_off_[t + 1] - term_off_[t]);
  }
  // Live postings of `term` (ascending documents): frozen ones, then the tail's.
  void live_postings(std::uint32_t term, std::vector<Posting>& out) const;
  std::uint32_t live_df(std::uint32_t term) const;
  // Whether `term` has a live posting: live_df(term) > 0, stopping at the first one found (after
  // an edit few chunks are dead, so that is nearly always the list's first posting).
  bool has_live_postings(std::uint32_t term) const;
  // Re-encode every list: frozen + tail, postings of dead documents dropped, documents renumbered
  // through `remap` when given (compaction). Empties the tail.
  void freeze(const std::vector<DocId>* remap);
  // What a freeze installs, built from the index as it is (not `complete` when `*cancel` turned
  // true: what it built so far, to be freed).
  SettledPtr settle(const std::vector<DocId>* remap, const std::atomic<bool>* cancel) const;
  // Move `s` in: the steady state (the index gets a new stamp).
  void install(Settled& s);
  // Call fn(term, postings) for every term with live postings, in term order, documents
  // renumbered through `remap` (alive documents only) — what compaction and serialize share.
  // False (stopped between two lists) when `*cancel` turned true.
  template <class Fn>
  bool for_each_list(const std::vector<DocId>* remap, Fn fn,
                     const std::atomic<bool>* cancel = nullptr) const;
  // A freeze's lists without renumbering, into s.frozen: a list the updates did not touch (no
  // tail posting, no dead chunk) copied as encoded, another spliced (FrozenPostings::add_spliced:
  // dead chunks left out, the runs between them copied) with the tail's live postings appended;
  // s.changed marks the latter. False when `*cancel` turned true.
  bool settle_lists(Settled& s, const std::atomic<bool>* cancel) const;
  // The tail's postings grouped by term: term t's are grouped[start[t] .. start[t + 1]), in
  // document order.
  void group_tail(std::vector<std::uint32_t>& start, std::vector<Posting>& grouped) const;
  // A stamp no index had before (prepare_freeze / commit_freeze). Thread-safe.
  static std::uint64_t new_stamp();
  std::uint64_t stamp_ = new_stamp();

  std::vector<Doc> docs_;
  std::string pool_;  // the chunks' strings and paths (Doc); dead ones' until compaction
  std::vector<DocRank> rank_;
  std::vector<FieldLengths> lengths_;
  // prior_key_[d]: what chunk d's priors depend on besides the query, in one byte — its demoted
  // path classes (test, asset, generated, vendored: the high four bits) and its centrality
  // factor rounded up to one of 16 levels over [kCentralityMin, kCentralityMax] (the low four).
  // A search turns the 256 keys into upper bounds of the priors once (`prior_bound`: the
  // demotions the query leaves in place, the boosts it may grant), and pruning reads this byte
  // before rank_[d], skipping the 12-byte record when even the bound cannot lift the chunk. Kept
  // with rank_ (classify, set_centrality, compaction, load).
  std::vector<std::uint8_t> prior_key_;
  static std::uint8_t prior_key(const DocRank& r);
  // Vocabulary: term t is term_chars_[term_off_[t], term_off_[t + 1]); term_ids_ maps text → t.
  std::string term_chars_;
  std::vector<std::uint32_t> term_off_{0};
  IdTable term_ids_;
  // The bytes some word of the vocabulary starts with (bit b of word b / 64), set by intern: the
  // typo look-up probes a misspelt word's one-edit variants under each other first byte.
  std::array<std::uint64_t, 4> first_bytes_{};
  FrozenPostings frozen_;
  std::vector<TailPosting> tail_;
  std::size_t tail_sorted_ = 0;           // tail_[0, tail_sorted_): sorted runs (TailPosting)
  std::vector<std::uint32_t> tail_runs_;  // their ends, ascending; the last is tail_sorted_
  bool frozen_has_dead_ = false;    // a document with frozen postings died since the last freeze
  std::vector<DocId> frozen_dead_;  // those documents, in the order they died (live_df)
  // The same as a bitmap over the documents below frozen_horizon_ (empty while none died): one
  // bit test a posting where docs_[d].alive is a cache miss (live_postings, live_df, the search
  // after an update, settle_lists).
  std::vector<std::uint64_t> frozen_dead_bits_;
  bool frozen_dead(DocId d) const { return (frozen_dead_bits_[d / 64] >> (d % 64)) & 1u; }
  DocId frozen_horizon_ = 0;  // documents below it may have frozen postings
  std::unordered_map<std::string, std::vector<DocId>> by_file_;
  // The paths of by_file_ (its keys: an unordered_map's elements stay where they are until
  // erased) by the hash of their file name, the path's last part: a query that names a file
  // (named_chunks) compares only the paths with that name.
  std::unordered_map<std::uint64_t, std::vector<const std::string*>> file_names_;
  static std::uint64_t name_hash(std::string_view path);
  void count_file_names();  // file_names_ from by_file_
  IdTable by_id_;           // chunk id → document (alive ones)
  std::array<std::uint64_t, kFieldCount> total_len_{};
  // The BM25F normalisation of each field's length codes (ranking.hpp NormTable) for the
  // averages `norm_avg_` (10 KB). Rebuilt by `refresh_norms` after a change of the lengths
  // (replace_file outside a bulk build, freeze, load); a search whose averages differ (a bulk
  // build searched before its freeze) builds its own.
  NormTable norms_{};
  FieldAverages norm_avg_{};
  void refresh_norms();
  // Term ids sorted by text, covering ids below sorted_terms_.size() (newer ids are scanned).
  std::vector<std::uint32_t> sorted_terms_;
  // The stem of each of those terms, as a 32-bit hash (0: not computed yet), in sorted_terms_'s
  // order (slot i is term sorted_terms_[i]'s), filled in by the searches whose stem expansion
  // (stem_variants) tests the term, and moved with their words when a freeze places the words
  // added since the last one (sort_terms; the new words' slots start at 0; a fill a search makes
  // while the freeze prepares may be lost): after the first query under a prefix, the words under
  // it are compared by hash, not stemmed again (libstemmer costs ~2,500 instructions a word; a
  // short stem such as `test` has hundreds of words under its prefix), and their slots are read in
  // order, not one cache miss each. 4 bytes a term. Concurrent searches may fill the same entry:
  // relaxed atomics, and every writer stores the same value. A copy of the index starts empty.
  class StemHashes {
   public:
    StemHashes() = default;
    StemHashes(const StemHashes& other) { reset(other.size_); }
    StemHashes& operator=(const StemHashes& other) {
      if (this != &other) reset(other.size_);
      return *this;
    }
    StemHashes(StemHashes&&) noexcept = default;
    StemHashes& operator=(StemHashes&&) noexcept = default;
    ~StemHashes() = default;
    void reset(std::size_t size) {
      size_ = size;
      slots_ = size > 0 ? std::make_unique<std::atomic<std::uint32_t>[]>(size) : nullptr;
    }
    std::size_t size() const { return size_; }
    std::atomic<std::uint32_t>& operator[](std::size_t t) const { return slots_[t]; }

   private:
    std::unique_ptr<std::atomic<std::uint32_t>[]> slots_;
    std::size_t size_ = 0;
  };
  StemHashes stem_hash_;
  // The last searches' stem expansions (stem_variants' results), keyed by query word and stem:
  // a word an agent asks about again (`file`, `test`, `run`) is expanded by one look-up instead of
  // a walk over every word under its prefix (hundreds for a short stem; ~5 % of a 30-word
  // question on four stdlib copies). Valid while the vocabulary is: emptied when intern adds a
  // word and when a freeze sorts it anew; at most kMaxStems entries (emptied when full). Concurrent
  // searches share it under its own mutex; a copy of the index starts empty.
  class VariantCache {
   public:
    static constexpr std::size_t kMaxStems = 4096;
    VariantCache() = default;
    VariantCache(const VariantCache&) {}
    VariantCache& operator=(const VariantCache& other) {
      if (this != &other) clear();
      return *this;
    }
    VariantCache(VariantCache&& other) noexcept { other.clear(); }
    VariantCache& operator=(VariantCache&& other) noexcept {
      if (this != &other) {
        clear();
        other.clear();
      }
      return *this;
    }
    ~VariantCache() = default;
    // True, with `out` filled, when `key` is cached.
    bool find(const std::string& key, std::vector<std::uint32_t>& out) const;
    void put(std::string key, const std::vector<std::uint32_t>& ids) const;
    void clear() const;
    std::size_t memory_bytes() const;

   private:
    mutable std::mutex mu_;
    mutable std::unordered_map<std::string, std::vector<std::uint32_t>> map_;
    mutable std::size_t bytes_ = 0;
    // Whether map_ may hold entries: clear() (once per word a build adds) takes no lock when not.
    mutable std::atomic<bool> used_{false};
  };
  VariantCache variant_cache_;
  // Module names (ranking.hpp module_word): module_ids_ maps a name's stem to its id, and
  // module_words_[id] is the first name seen with that stem.
  std::vector<std::string> module_words_;
  std::unordered_map<std::string, std::uint32_t> module_ids_;
  // Module pieces (ranking.hpp module_splits): the stem of a piece → the modules whose name has
  // it on one side of a cut (`serv` → socketserver cut at 6, tail). Filled with module_ids_.
  struct ModulePiece {
    std::uint32_t module;
    std::uint8_t cut;  // the head is module_words_[module][0, cut), the tail the rest
    bool tail;         // the piece is the tail
  };
  std::unordered_map<std::string, std::vector<ModulePiece>> module_pieces_;
  // Module phrases (ranking.hpp module_phrase): a module name of several words' phrase → the
  // modules with it (`progress bar` → progress_bar, progress_bars). Filled with module_ids_.
  std::unordered_map<std::string, std::vector<std::uint32_t>> module_phrases_;
  // module_docs_[m]: the documents whose file's module name is module_words_[m], ascending (dead
  // ones too, until compaction; rebuilt by number_files). Search scores them in full when pruning
  // so that the module-name boost needs no room in the bound for the chunks it never saw.
  std::vector<std::vector<DocId>> module_docs_;
  std::size_t alive_ = 0;
  std::size_t dead_ = 0;
  // Documents (alive or dead) whose path class has kPathNeverCode (counted by classify,
  // recounted by compaction): search skips the never-code test while there are none.
  std::size_t never_code_docs_ = 0;
  // File ordinals: doc_file_[d] is docs_[d]'s file, one ordinal per replace_file call that
  // added chunks, renumbered in document order by compaction and load; file_count_ is the size
  // of search's per-file coverage table. A dense array of its own (not in DocRank): search reads
  // it for every posting of the query's terms, most of them chunks it does not score.
  std::vector<std::uint32_t> doc_file_;
  std::uint32_t file_count_ = 0;
  // Document sets of the common terms: for every frozen list holding at least 1/16 of the
  // documents, a bitmap with bit d set when document d is on it (set_words_ words a set, in
  // doc_sets_; set_of_ maps those terms, ascending, to their set's first word). Built by
  // freeze() and deserialize() from the frozen lists, so they are exact while the index is in
  // its steady state (no tail, no dead document with frozen postings) and only read then. A set
  // takes 1/8 byte a document, at most about 70 % of the bytes of the list it mirrors (a list of
  // n/16 postings at ≈ 2.8 bytes each). A pruned search
  // reads them instead of decoding those lists for what it needs of every posting: `matched`
  // (the union's size), a stem group's document frequency, file coverage of the page's files,
  // and which of the remaining terms a chunk it may keep holds (its bound). With each set come
  // rank counts (the set's documents before each of its words, in set_ranks_, laid out like
  // doc_sets_: a count per word) and skip entries (for every kSetSkip-th posting of the list: its
  // byte offset in the list and the document before it, in set_skips_): a chunk's posting is then
  // the set's rank of the chunk, decoded from the nearest skip entry before it (`set_posting`), so
  // the kept chunks' tfs are looked up instead of decoding the whole list. Together, half the bytes
  // of the sets and ≈ 1/2 byte a posting of those lists more.
  // With them come peaks (set_peaks_, a byte per set word, laid out like set_ranks_): the largest
  // share of the score any posting of the word's 64 chunks gives without its idf (ranking.hpp
  // peak_code), for the length normalisation of the averages `set_avg_` — what a one-term search
  // bounds a block of 64 chunks by, to score only the blocks that can reach its page (block-max).
  // An eighth of the sets' bytes more.
  static constexpr std::size_t kSetSkip = 16;
  struct DocSet {
    std::uint32_t term = 0;
    std::uint64_t words = 0;  // first word in doc_sets_, and first count in set_ranks_
    std::uint64_t skips = 0;  // first entry in set_skips_ (two words an entry)
  };
  std::vector<DocSet> set_of_;  // ascending terms
  std::vector<std::uint64_t> doc_sets_;
  std::vector<std::uint32_t> set_ranks_;
  std::vector<std::uint32_t> set_skips_;
  std::vector<std::uint8_t> set_peaks_;
  FieldAverages set_avg_{};
  std::size_t set_words_ = 0;
  // The document sets of the settled lists in `s`, into `s` (documents: the numbering's size),
  // their peaks from the chunks' `lengths` (in that numbering) normalised for `avg`. False when
  // `*cancel` turned true.
  bool build_doc_sets(Settled& s, std::size_t documents, const FieldLengths* lengths,
                      const FieldAverages& avg, const std::atomic<bool>* cancel) const;
  // The set of indexed term `t`, or nullptr when it has none.
  const DocSet* find_set(std::uint32_t t) const;
  // The posting of document `d` on the list of set `s` (d must be in the set).
  Posting set_posting(const DocSet& s, DocId d) const;
  // Call fn(posting) for `count` postings of set `s`'s list from its `rank`-th (0-based) on,
  // decoded from the nearest skip entry before it (set_posting; a one-term search's blocks).
  template <class Fn>
  void for_set_postings(const DocSet& s, std::size_t rank, std::size_t count, Fn&& fn) const;
  // Give each run of chunks of one path its ordinal, in document order, and list each module's
  // documents again (module_docs_): after compaction and load, when documents are renumbered.
  void number_files();
  // The per-chunk tables and the string pool at their size plus a third of room, so that updates
  // until the next compaction append without copying them (fit_with_room in the .cpp): after
  // compaction and load.
  void leave_room();
};

}  // namespace trifecta::core::index
