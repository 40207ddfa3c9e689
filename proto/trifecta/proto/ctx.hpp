// proto/ctx.hpp — payloads of the lexical index methods: ctx.build, ctx.search, ctx.get,
// ctx.status, ctx.validate, and the nested index documents (build report, index status, search
// hit, disclosed chunk, target error). Optional members appear on the wire only when set.
//
// Thread rules: plain values. Decode with `decode(v, out)` (codec.hpp), never throws.
#pragma once

#include <map>

#include "trifecta/proto/codec.hpp"

namespace trifecta::proto {

// The segment's build state as every ctx.* reply reports it (`index`).
struct IndexState {
  std::string state;  // idle | building | ready | failed
  std::int64_t generation = 0;
  std::optional<std::string> error;  // the build's error when failed
  std::optional<std::string> watcher_error;  // the change watcher could not start (1.1)
};
template <class V>
void describe(V& v, IndexState& s) {
  v.req("state", s.state, "idle | building | ready | failed");
  v.req("generation", s.generation, "index generation (0: none)");
  v.opt("error", s.error, "why the build failed");
  v.opt("watcher_error", s.watcher_error, "why the change watcher could not start: edits are seen only after a rebuild");
}
constexpr std::string_view wire_name(const IndexState*) { return "IndexState"; }

struct BuildReport {
  bool warm = false;
  std::string source;  // git | walk
  std::int64_t files_listed = 0;
  std::int64_t files_indexed = 0;
  std::int64_t files_skipped = 0;
  std::int64_t files_read = 0;
  std::int64_t files_reused = 0;
  std::int64_t chunks = 0;
  std::int64_t bytes_read = 0;
  std::int64_t generation = 0;
  double elapsed_ms = 0;
  std::int64_t threads = 0;
  std::vector<std::string> warnings;
  std::optional<std::string> cold_reason;  // present when not warm
};
template <class V>
void describe(V& v, BuildReport& s) {
  v.req("warm", s.warm, "started from the persisted index");
  v.req("source", s.source, "how files were listed: git | walk");
  v.req("files_listed", s.files_listed, "files listed");
  v.req("files_indexed", s.files_indexed, "files indexed");
  v.req("files_skipped", s.files_skipped, "files skipped");
  v.req("files_read", s.files_read, "files read");
  v.req("files_reused", s.files_reused, "files reused from the persisted index");
  v.req("chunks", s.chunks, "chunks in the index");
  v.req("bytes_read", s.bytes_read, "bytes read");
  v.req("generation", s.generation, "index generation");
  v.req("elapsed_ms", s.elapsed_ms, "build time");
  v.req("threads", s.threads, "threads used");
  v.req("warnings", s.warnings, "warnings");
  v.opt("cold_reason", s.cold_reason, "why the persisted index was not used");
}
constexpr std::string_view wire_name(const BuildReport*) { return "BuildReport"; }

struct FileRecord {
  std::string path;
  std::int64_t size = 0;
  bool indexed = false;
  std::int64_t chunks = 0;
  std::optional<std::string> skip_reason;
  std::optional<std::string> detail;
  std::optional<std::int64_t> non_utf8_bytes;
  std::optional<bool> parse_partial;
};
template <class V>
void describe(V& v, FileRecord& s) {
  v.req("path", s.path, "file relative to the segment root");
  v.req("size", s.size, "bytes");
  v.req("indexed", s.indexed, "indexed");
  v.req("chunks", s.chunks, "chunks");
  v.opt("skip_reason", s.skip_reason, "why not indexed");
  v.opt("detail", s.detail, "detail of the skip");
  v.opt("non_utf8_bytes", s.non_utf8_bytes, "bytes replaced while decoding");
  v.opt("parse_partial", s.parse_partial, "the file did not parse cleanly");
}
constexpr std::string_view wire_name(const FileRecord*) { return "FileRecord"; }

struct IndexStatus {
  std::int64_t generation = 0;
  bool built = false;
  std::int64_t files_indexed = 0;
  std::int64_t files_skipped = 0;
  std::int64_t files_non_utf8 = 0;
  std::map<std::string, std::int64_t> skip_reasons;
  std::vector<FileRecord> skipped;
  std::int64_t chunks = 0;
  std::int64_t terms = 0;
  std::string last_update;
  std::string pack_state;
  std::string source;
  bool watching = false;
  bool warm_start = false;
  std::int64_t rescans = 0;
  std::optional<std::int64_t> watched_dirs;
  std::int64_t memory_bytes = 0;
  std::vector<std::string> warnings;
};
template <class V>
void describe(V& v, IndexStatus& s) {
  v.req("generation", s.generation, "index generation");
  v.req("built", s.built, "an index exists");
  v.req("files_indexed", s.files_indexed, "files indexed");
  v.req("files_skipped", s.files_skipped, "files skipped");
  v.req("files_non_utf8", s.files_non_utf8, "files with invalid UTF-8");
  v.req("skip_reasons", s.skip_reasons, "skipped files per reason");
  v.req("skipped", s.skipped,
        "up to 100 skipped files, reasons other than never_code first, then by path");
  v.req("chunks", s.chunks, "chunks");
  v.req("terms", s.terms, "distinct terms");
  v.req("last_update", s.last_update, "time of the last change (ISO 8601)");
  v.req("pack_state", s.pack_state, "persisted index state");
  v.req("source", s.source, "how files were listed");
  v.req("watching", s.watching, "a file watcher follows the disk");
  v.req("warm_start", s.warm_start, "started from the persisted index");
  v.req("rescans", s.rescans, "full rescans so far");
  v.opt("watched_dirs", s.watched_dirs,
        "directories the file watcher watches (one inotify watch each; directories the ignore rules exclude whole are not)");
  v.req("memory_bytes", s.memory_bytes, "index memory");
  v.req("warnings", s.warnings, "warnings");
}
constexpr std::string_view wire_name(const IndexStatus*) { return "IndexStatus"; }

// ---- ctx.build ------------------------------------------------------------------------------

struct CtxBuildParams {
  bool rebuild = false;
};
template <class V>
void describe(V& v, CtxBuildParams& s) {
  v.opt("rebuild", s.rebuild, "discard the index and build it again");
}
struct CtxBuildResult {
  BuildReport build;
  IndexStatus status;
  IndexState index;
};
template <class V>
void describe(V& v, CtxBuildResult& s) {
  v.req("build", s.build, "the last build's report");
  v.req("status", s.status, "the index");
  v.req("index", s.index, "build state");
}

// ---- ctx.search -----------------------------------------------------------------------------

struct CtxSearchParams {
  std::string query;
  std::int64_t limit = 10;
  std::string path;  // glob; empty: all
  std::string kind;  // code | doc | other; empty: all
  bool explain = false;
  bool wait = true;
};
template <class V>
void describe(V& v, CtxSearchParams& s) {
  v.req("query", s.query, "search terms");
  v.opt("limit", s.limit, "maximum hits, 1..1000");
  v.opt("path", s.path, "only files matching this glob (empty: all)");
  v.opt("kind", s.kind, "only chunks of this kind: code | doc | other (empty: all)");
  v.opt("explain", s.explain, "add each hit's term contributions and ranking signals");
  v.opt("wait", s.wait, "wait for the index build (false: answer from what is there)");
}

struct TermContribution {
  std::string term;
  std::string field;
  std::int64_t tf = 0;
  double score = 0;
};
template <class V>
void describe(V& v, TermContribution& s) {
  v.req("term", s.term, "term");
  v.req("field", s.field, "field matched, or \"signal\" (term names the ranking signal)");
  v.req("tf", s.tf, "term frequency");
  v.req("score", s.score, "contribution to the score");
}
constexpr std::string_view wire_name(const TermContribution*) { return "TermContribution"; }

struct SearchHit {
  std::string id;
  std::string path;
  std::int64_t start_line = 0;
  std::int64_t end_line = 0;
  std::string kind;
  std::string title;
  double score = 0;
  std::string preview;
  std::int64_t tokens = 0;
  std::string sha256;
  std::optional<std::vector<TermContribution>> explain;
};
template <class V>
void describe(V& v, SearchHit& s) {
  v.req("id", s.id, "chunk id (for ctx.get)");
  v.req("path", s.path, "file relative to the segment root");
  v.req("start_line", s.start_line, "first line");
  v.req("end_line", s.end_line, "last line");
  v.req("kind", s.kind, "code | doc | other");
  v.req("title", s.title, "chunk title");
  v.req("score", s.score, "BM25 score");
  v.req("preview", s.preview, "first lines");
  v.req("tokens", s.tokens, "estimated tokens");
  v.req("sha256", s.sha256, "content hash");
  v.opt("explain", s.explain, "explain: term contributions and ranking signals");
}
constexpr std::string_view wire_name(const SearchHit*) { return "SearchHit"; }

// A query term the index lacks, searched as the indexed word closest to it (since 1.7).
struct SearchCorrection {
  std::string from;
  std::string to;
};
template <class V>
void describe(V& v, SearchCorrection& s) {
  v.req("from", s.from, "the query's term, absent from the index");
  v.req("to", s.to, "the indexed word searched instead (with its stem variants)");
}
constexpr std::string_view wire_name(const SearchCorrection*) { return "SearchCorrection"; }

struct CtxSearchResult {
  std::vector<std::string> terms;
  std::vector<SearchHit> hits;
  std::int64_t matched = 0;
  std::int64_t generation = 0;
  std::optional<std::string> reason;                     // why nothing matched
  std::optional<std::vector<std::string>> did_you_mean;  // present when there are no hits
  std::optional<std::vector<std::string>> unscored;      // the terms the term cap left out
  std::optional<std::vector<SearchCorrection>> corrected;  // misspelt terms searched as others
  std::string query;
  IndexState index;
};
template <class V>
void describe(V& v, CtxSearchResult& s) {
  v.req("terms", s.terms, "the query's terms");
  v.req("hits", s.hits, "best first");
  v.req("matched", s.matched, "chunks matched before the limit");
  v.req("generation", s.generation, "index generation searched");
  v.opt("reason", s.reason, "why nothing matched");
  v.opt("did_you_mean", s.did_you_mean, "no hits: close terms");
  v.opt("unscored", s.unscored, "since 1.6: the query's terms not scored (a query over 24 terms keeps its most selective)");
  v.opt("corrected", s.corrected, "since 1.7: the query's terms the index lacks that were searched as the closest indexed word");
  v.req("query", s.query, "the query as asked");
  v.req("index", s.index, "build state");
}

// ---- ctx.get --------------------------------------------------------------------------------

struct CtxGetParams {
  std::vector<std::string> ids;
  std::vector<std::string> uris;
  std::string mode = "excerpt";
  std::int64_t budget = 2000;
  std::int64_t max_chunks = 20;
  std::string query;
  std::string cursor;
  bool wait = true;
};
template <class V>
void describe(V& v, CtxGetParams& s) {
  v.opt("ids", s.ids,
        "chunk ids (from ctx.search), or files (an id without '#': relative to the segment or "
        "absolute inside it; the whole file, 1.5), or pytest node ids (as in uris, 1.8); ids or "
        "uris must name at least one target");
  v.opt("uris", s.uris, "sym:// URIs, or pytest node ids (tests/test_x.py::TestA::test_b[p], 1.8)");
  v.opt("mode", s.mode, "skeleton | excerpt | raw");
  v.opt("budget", s.budget, "token budget (>= 0)");
  v.opt("max_chunks", s.max_chunks, "maximum chunks (>= 0)");
  v.opt("query", s.query, "terms that choose the excerpt lines");
  v.opt("cursor", s.cursor, "`next` of a previous reply: continue there");
  v.opt("wait", s.wait, "wait for the index build");
}

struct DisclosedChunk {
  std::string id;
  std::string path;
  std::string kind;
  std::string title;
  std::int64_t start_line = 0;
  std::int64_t end_line = 0;
  std::string mode;
  bool partial = false;
  std::int64_t total_bytes = 0;
  std::string text;
  std::int64_t tokens = 0;
  std::string sha256;
  std::optional<std::string> degraded_from;
  std::optional<std::int64_t> offset;  // partial: where the text starts
  std::optional<bool> stale;
  std::optional<std::string> context;
};
template <class V>
void describe(V& v, DisclosedChunk& s) {
  v.req("id", s.id, "chunk id (or the URI asked)");
  v.req("path", s.path, "file relative to the segment root");
  v.req("kind", s.kind, "code | doc | other");
  v.req("title", s.title, "title");
  v.req("start_line", s.start_line, "first line");
  v.req("end_line", s.end_line, "last line");
  v.req("mode", s.mode, "mode used");
  v.req("partial", s.partial, "cut by the budget");
  v.req("total_bytes", s.total_bytes, "bytes of the whole chunk");
  v.req("text", s.text, "the text");
  v.req("tokens", s.tokens, "estimated tokens of text");
  v.req("sha256", s.sha256, "content hash");
  v.opt("degraded_from", s.degraded_from, "the mode asked, when a cheaper one was used");
  v.opt("offset", s.offset, "partial: byte offset of text");
  v.opt("stale", s.stale, "the file changed since indexing");
  v.opt("context", s.context, "enclosing context");
}
constexpr std::string_view wire_name(const DisclosedChunk*) { return "DisclosedChunk"; }

struct TargetError {
  std::string target;
  std::string code;  // stable name, e.g. NOT_FOUND, SYMBOL_NOT_FOUND
  std::string message;
};
template <class V>
void describe(V& v, TargetError& s) {
  v.req("target", s.target, "the id or URI");
  v.req("code", s.code, "stable error name");
  v.req("message", s.message, "what went wrong");
}
constexpr std::string_view wire_name(const TargetError*) { return "TargetError"; }

struct CtxGetResult {
  std::string mode;
  std::int64_t budget = 0;
  std::int64_t used = 0;
  std::string stop_reason;
  std::vector<DisclosedChunk> chunks;
  std::vector<TargetError> errors;
  std::int64_t bytes_read = 0;
  std::int64_t generation = 0;
  std::optional<std::string> next;  // cursor to continue
  IndexState index;
};
template <class V>
void describe(V& v, CtxGetResult& s) {
  v.req("mode", s.mode, "mode asked");
  v.req("budget", s.budget, "token budget");
  v.req("used", s.used, "tokens used");
  v.req("stop_reason", s.stop_reason, "why disclosure stopped");
  v.req("chunks", s.chunks, "the disclosed chunks");
  v.req("errors", s.errors, "targets that could not be served");
  v.req("bytes_read", s.bytes_read, "bytes read");
  v.req("generation", s.generation, "index generation");
  v.opt("next", s.next, "cursor for the rest");
  v.req("index", s.index, "build state");
}

// ---- ctx.status / ctx.validate --------------------------------------------------------------

using CtxStatusParams = NoParams;
struct CtxStatusResult {
  IndexStatus status;
  IndexState index;
  std::optional<BuildReport> build;  // once a build ran
};
template <class V>
void describe(V& v, CtxStatusResult& s) {
  v.req("status", s.status, "the index");
  v.req("index", s.index, "build state");
  v.opt("build", s.build, "the last build's report, once one ran");
}

using CtxValidateParams = NoParams;
struct CtxValidateResult {
  bool ok = false;
  std::vector<std::string> stale;
  std::vector<std::string> missing;
  std::vector<std::string> added;  // wire name "new"
  std::int64_t checked = 0;
  std::int64_t generation = 0;
  IndexState index;
  std::optional<std::string> repair;  // "scheduled" when drift was found
};
template <class V>
void describe(V& v, CtxValidateResult& s) {
  v.req("ok", s.ok, "the index matches the disk");
  v.req("stale", s.stale, "files changed on disk");
  v.req("missing", s.missing, "files gone");
  v.req("new", s.added, "files not indexed yet");
  v.req("checked", s.checked, "files checked");
  v.req("generation", s.generation, "index generation");
  v.req("index", s.index, "build state");
  v.opt("repair", s.repair,
        "\"scheduled\" when drift was found: the files named are being re-read in the background "
        "(validate again to confirm)");
}

// ---- ctx.map --------------------------------------------------------------------------------

struct CtxMapParams {
  std::string path;
  std::int64_t budget = 1024;
  bool wait = true;
};
template <class V>
void describe(V& v, CtxMapParams& s) {
  v.opt("path", s.path, "segment-relative folder or file; empty: the whole segment");
  v.opt("budget", s.budget, "token budget of the map (64..100000)");
  v.opt("wait", s.wait, "wait for the index build");
}

struct MapSymbol {
  std::string name;
  std::string kind;
  std::int64_t line = 0;
  std::int64_t end_line = 0;
  std::int64_t refs = 0;
};
template <class V>
void describe(V& v, MapSymbol& s) {
  v.req("name", s.name, "qualified name");
  v.req("kind", s.kind, "class | function | method");
  v.req("line", s.line, "definition line");
  v.req("end_line", s.end_line, "last line");
  v.opt("refs", s.refs, "other indexed Python files using its name in code (exact case); a member's counts up to its class's, dunders 0; protocol 1.4");
}
constexpr std::string_view wire_name(const MapSymbol*) { return "MapSymbol"; }

struct MapFile {
  std::string path;
  double centrality = 0;
  bool reduced = false;
  std::vector<MapSymbol> symbols;
  std::string text;
};
template <class V>
void describe(V& v, MapFile& s) {
  v.req("path", s.path, "file relative to the segment root");
  v.req("centrality", s.centrality, "import-graph PageRank, mean 1.0");
  v.req("reduced", s.reduced, "less than its full outline: symbols or docstrings left out");
  v.req("symbols", s.symbols, "the definitions shown, in source order");
  v.req("text", s.text, "this file's part of the map");
}
constexpr std::string_view wire_name(const MapFile*) { return "MapFile"; }

struct CtxMapResult {
  std::string path;
  std::int64_t budget = 0;
  std::int64_t used = 0;
  std::int64_t candidates = 0;
  std::int64_t skipped = 0;
  bool truncated = false;
  std::vector<MapFile> files;
  std::string text;
  std::int64_t generation = 0;
  IndexState index;
};
template <class V>
void describe(V& v, CtxMapResult& s) {
  v.req("path", s.path, "the folder or file mapped (empty: the whole segment)");
  v.req("budget", s.budget, "token budget");
  v.req("used", s.used, "tokens of text");
  v.req("candidates", s.candidates, "Python files at or under path");
  v.req("skipped", s.skipped, "files the skeleton cache could not read");
  v.req("truncated", s.truncated, "a larger budget would show more: a file left out or reduced");
  v.req("files", s.files, "most central first");
  v.req("text", s.text, "the map: every file's part, in order");
  v.req("generation", s.generation, "index generation");
  v.req("index", s.index, "build state");
}

}  // namespace trifecta::proto
