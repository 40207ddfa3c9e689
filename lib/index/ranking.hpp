// index/ranking.hpp — how ctx.search scores a chunk: the BM25F fields, what text goes into each,
// their weights and length normalisation, k1 and idf (Robertson & Zaragoza 2009; docs/index.md).
//
// Fields and weights:
//   path  w=1.5 b=0.30   tokens of the file path
//   name  w=8.0 b=0.50   title path / qualified name (`JSONDecoder.decode` → jsondecoder, json,
//                        decoder, decode); Markdown: the heading chain; module headers: the
//                        module path (`json/decoder.py` → json decoder)
//   sig   w=2.0 b=0.60   decorators, signature, first docstring line (classes: member names),
//                        and the class header of a split method (`context`)
//   body  w=1.0 b=0.75   the chunk text without what the doc field holds (Python; all of it
//                        for other files)
//   doc   w=2.0 b=0.50   Python prose (rank-4): the docstrings (every string literal that is a
//                        statement of its own: module, class, function docstrings) and the
//                        comments of the chunk, whole (`sig` holds only a docstring's first
//                        line); the module header chunk's doc field holds the module docstring,
//                        so a query describing a module finds its file (`doc_field_text`)
//   tf~(t,d) = Σ_f w_f · tf_f(t,d) / (1 − b_f + b_f · len_f(d) / avglen_f)
//   score(d) = Σ_t idf(t) · tf~ · (k1 + 1) / (k1 + tf~),  k1 = 2.0 (slower saturation than the
//   usual 1.2, so a name match keeps its lead over repeated body mentions),
//   idf(t)   = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
// Tie-breaking (path, start line, id) is the inverted index's, not a ranking parameter.
//
// Around BM25F (rank-2; docs/ranking.md has the measurements behind each):
//   * query analysis (`parse_query`): question and function words ("where", "how", "the", …)
//     are dropped unless the query has nothing else or they are quoted ("…" or `…`);
//   * stemming: a query term matches every indexed term of the same Snowball English stem
//     (`dictionaries` → dictionary, dictionaries); their tfs add up, df is their union;
//   * typo tolerance: a prose term absent from the index (and without stem variants) of ≥ 4
//     characters is searched as its closest indexed term, with that term's stem variants, at
//     kTypoWeight (edit distance ≤ 1, ≤ 2 from 6 characters to a term with the same first
//     letter; a swap of neighbouring letters is one edit, a completion counts the letters it
//     adds; ties go to the typed first letter, then to document frequency: rank-14); the reply
//     names it (SearchResult::corrected); pieces of a compound identifier written in the query
//     (`zanzibar_marker`, rank-3) and words in capitals (`SIGCONT`, rank-14) are never corrected;
//     at most kTypoMaxLookups absent terms a search are looked up (a pasted log or foreign text
//     has hundreds: each look-up walks part of the vocabulary, ~2 M instructions on pip's);
//   * priors, multiplied into the score: test files, static assets, generated files and (rank-4)
//     vendored code are demoted unless the query asks for them (path_factor); the file's
//     import-graph centrality gives a bounded factor (rank-4, centrality_factor); what is left
//     of never-code (a language's folder below `locale/`, catalogs an include glob admitted:
//     never_code_file keeps the rest out of the index) is hidden unless the query or path glob
//     asks for it; a definition whose name matches a query term gets kDefinitionBoost (off by
//     default: kSignalDefault); every chunk of a file whose module name is a query term (`csv.py`
//     for "csv") gets kModuleBoost;
//   * compound identifiers (rank-5): adjacent query words joined, also in their standard
//     abbreviations ("list directory" → listdir, "make directories" → makedirs, "current working
//     directory" → cwd), are extra terms when the vocabulary holds them (compound_candidates);
//   * module pieces (rank-7): a query word naming one piece of a module's name run together
//     (`servers` → socketserver) adds that name as an extra term (module_splits);
//   * module phrases (rank-8): adjacent query words spelling a module's name of several words
//     ("status codes" → status_codes.py) give its chunks kModuleBoost as a one-word name does
//     (module_phrase, query_phrases);
//   * length codes (rank-9): a field's length enters the normalisation as a one-byte code,
//     exact below 32 tokens, at most 1/16 under above (length_code, NormTable);
//   * file coverage (rank-5): the page's candidates gain by the share of the query their whole
//     file matches (file_coverage_factor), then (rank-6) by the share their own name, sig and
//     doc fields match (prose_coverage_factor) and (rank-15) by kVerbatimBoost when their text
//     holds the whole query (4+ words) as written (verbatim_query); then a file's best candidate
//     gains a share of its second best (kSecondChunkShare), before
//   * per-file diversification: the n-th hit of one file on the page is multiplied by
//     kDiversityDecay^n, so one file cannot fill the page;
//   * a term cap (rank-13): a query of more than kMaxScoredTerms terms with postings scores only
//     its kMaxScoredTerms most selective ones;
//   * file named (rank-16): a query that is only a file's path (`retry.py`, `pkg/mod.py:120`, a
//     pytest node id) puts that file's chunk (the test's, or holding the line, else its first)
//     above the page (file_reference),
//     a misspelt name (`sesions.py`) as the one indexed name it is close to (misspelt_file_name);
//     its extension (`py`) is no search word (rank-17); a pytest result line holding one node id
//     (`FAILED tests/x.py::test_a - AssertionError`) pins that test too, and a pasted traceback
//     or log its innermost place in an indexed file (rank-17, node_id_in_line, frames_in_text),
//     then the places it was called from, up to kMaxPinnedFrames (rank-18);
//   * error line (rank-21): a pasted `pkg.mod.SomeError: message` line is searched without the
//     exception's module path (error_line_without_module);
//   * message (rank-22): among the best candidates of a pasted error line, a Python chunk with a
//     string literal that prints its message — placeholders and f-string values standing for the
//     runtime values the pasted text holds — gets kMessageBoost; when none does, such a chunk
//     among those naming a rare exception is pinned above the page (error_message, error_name,
//     message_templates, prints_message).
// `--explain` lists each term×field share and each prior as a signal (field "signal").
//
// Versioning: kRankingVersion is written into index.bin's header next to the tokenizer and
// extractor versions (segment_index.cpp). Bump it whenever anything in this file changes what a
// search returns (a weight, b, k1, idf, or what goes into a field): a persisted index of another
// ranking version is not loaded, the next build is cold, so old and new never mix.
//
// Thread rules: constants and pure functions. Failure behaviour: none (no error paths).
#pragma once

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "index/chunk.hpp"

namespace trifecta::core::index {

inline constexpr std::string_view kRankingVersion = "rank-22";

enum Field : std::uint8_t {
  kFieldPath = 0,
  kFieldName = 1,
  kFieldSig = 2,
  kFieldBody = 3,
  kFieldDoc = 4
};
inline constexpr std::size_t kFieldCount = 5;
std::string_view field_name(std::size_t f) noexcept;  // "path" | "name" | "sig" | "body" | "doc"

struct FieldParams {
  double weight;
  double b;
};
// Defined in ranking.cpp (the values are in the table at the top of this file), so that a
// weight change rebuilds one file.
extern const std::array<FieldParams, kFieldCount> kFieldParams;
inline constexpr double kBm25K1 = 2.0;

using FieldTfs = std::array<std::uint8_t, kFieldCount>;  // tf per field (saturates at 255)
// Tokens per field of one chunk, as the index keeps them: one byte a field, a length code
// (`length_code`). Exact below 32 tokens; above, five significant bits (a power of two times
// 16..31), rounded down: at most 1/16 under the count. The search reads a chunk's lengths for
// every posting it scores (`lengths_`), so they are kept small; the BM25F normalisation of each
// code is a table look-up (`NormTable`), not a division.
using FieldLengths = std::array<std::uint8_t, kFieldCount>;
// The code of a count of tokens (saturates at 31 << 14 = 507,904).
inline std::uint8_t length_code(std::uint64_t tokens) {
  if (tokens < 32) return static_cast<std::uint8_t>(tokens);
  const int e = std::bit_width(tokens) - 5;  // 1 for 32..63
  if (e > 14) return 255;
  return static_cast<std::uint8_t>(16 * e + static_cast<int>(tokens >> e));
}
// The count a code stands for (the smallest count with that code).
inline std::uint32_t code_length(std::uint8_t code) {
  if (code < 32) return code;
  const unsigned e = code / 16u - 1u;
  return (code % 16u + 16u) << e;
}
using FieldAverages = std::array<double, kFieldCount>;  // avglen_f (at least 1)

// The text of the name field of `chunk`: the qualified name / heading chain; a module header is
// named by its module path (`json/decoder.py` → "json/decoder", `pkg/__init__.py` → "pkg") so
// `tempfile` finds tempfile.py's header; line windows have no name.
std::string name_field_text(const Chunk& chunk);

// The doc field of a Python chunk: the text of its comments (after `#`) and of every string
// literal that is a statement of its own (docstrings: the first string of a module, class or
// function, and any other bare string statement), found by a lexical scan of `body_text`
// (lang/python/lexical.hpp's strings and comments, and bracket depth); pieces joined by newlines.
// Empty for other files (Markdown and text are prose already: their body is the doc). With `code`,
// also the body without that prose (each piece replaced by a space) — what the body field indexes,
// so a word is counted in one field only; `code` stays empty when nothing was taken out (the body
// is then indexed as it is).
std::string doc_field_text(const Chunk& chunk, std::string_view body_text,
                           std::string* code = nullptr);

// Call fn(field, text) for each piece of text that is indexed for `chunk`, in a fixed order
// (body = `body_text`, the chunk's lines). A field may receive several pieces. What it reads of
// the chunk (path, role, title, title_path, signature, context) is ChunkAnalyses's key
// (inverted_index.cpp): a change here that reads another member must add it there.
template <class Fn>
void for_each_field_text(const Chunk& chunk, std::string_view body_text, Fn&& fn) {
  fn(kFieldPath, std::string_view(chunk.path));
  const std::string name = name_field_text(chunk);
  fn(kFieldName, std::string_view(name));
  fn(kFieldSig, std::string_view(chunk.signature));
  fn(kFieldSig, std::string_view(chunk.context));
  std::string code;
  const std::string doc = doc_field_text(chunk, body_text, &code);
  fn(kFieldBody, doc.empty() ? body_text : std::string_view(code));
  fn(kFieldDoc, std::string_view(doc));
}

// avglen_f over `docs` live chunks whose field lengths sum to total_len[f] (1 when empty).
FieldAverages field_averages(const std::array<std::uint64_t, kFieldCount>& total_len,
                             std::size_t docs);

// idf of a term found in `df` of `n` live chunks.
inline double bm25_idf(double n, double df) {
  return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
}

// Per field and length code, the field's weight over its BM25F length normalisation:
// weight_f / (1 − b_f + b_f · code_length(c) / avglen_f). Built once per change of the averages
// (InvertedIndex keeps one), read for every posting scored.
using NormTable = std::array<std::array<double, 256>, kFieldCount>;
NormTable norm_table(const FieldAverages& avg);

// One term's BM25F contribution to one chunk. When `per_field` is given it receives each
// field's share (they sum to the result). Inline: search calls it once per posting.
inline double score_term(const FieldTfs& tf, const FieldLengths& length, double idf,
                         const NormTable& norms, std::array<double, kFieldCount>* per_field) {
  std::array<double, kFieldCount> part{};
  double tf_tilde = 0.0;
  // Unrolled: five multiply-adds without a branch. (A shortcut for a tf in one field, most
  // postings, ran about as many instructions and was × 1.18–1.21 slower in the daemon on "self
  // return def none", four stdlib copies: its branch is hard to predict where postings mix one
  // field and several.)
#pragma GCC unroll 5
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    part[f] = tf[f] * norms[f][length[f]];
    tf_tilde += part[f];
  }
  const double s = idf * tf_tilde * (kBm25K1 + 1.0) / (kBm25K1 + tf_tilde);
  if (per_field) {
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      (*per_field)[f] = tf_tilde > 0 ? s * part[f] / tf_tilde : 0.0;
    }
  }
  return s;
}

// ---- rank-2 signals --------------------------------------------------------------------------

// Which signals a search uses. All on by default; the ablation benchmark turns single ones off
// (TRIFECTA_RANKING_ABLATE, see `signals_from_env`).
enum Signal : std::uint32_t {
  kSignalStopWords = 1u << 0,
  kSignalStemming = 1u << 1,
  kSignalTypo = 1u << 2,
  kSignalPathPrior = 1u << 3,  // test / asset / generated demotion, never-code hiding
  kSignalDefinition = 1u << 4,
  kSignalModuleName = 1u << 5,
  kSignalDiversity = 1u << 6,
  kSignalDocField = 1u << 7,        // rank-4: the doc field's share of the score (ablation: tf 0)
  kSignalCentrality = 1u << 8,      // rank-4: the import-graph centrality prior
  kSignalFileCoverage = 1u << 9,    // rank-5: the share of the query its whole file matches
  kSignalCompound = 1u << 10,       // rank-5: English words joined into one identifier (listdir)
  kSignalProseCoverage = 1u << 11,  // rank-6: the share of the query a chunk's name/sig/doc match
  kSignalSecondChunk = 1u << 12,    // rank-6: a file's best chunk gains a share of its second best
  kSignalModulePiece = 1u << 13,    // rank-7: a query word naming one piece of a module's name
  kSignalModulePhrase = 1u << 14,   // rank-8: adjacent query words naming a module of several words
  kSignalTermCap = 1u << 15,        // rank-13: at most kMaxScoredTerms terms are scored
  kSignalVerbatim = 1u << 16,       // rank-15: a candidate holding the whole query as written
  kSignalFileNamed = 1u << 17,      // rank-16: a query that is a file's path pins that file
  kSignalErrorLine = 1u << 18,      // rank-21: a pasted error line's exception without its module
  kSignalMessage = 1u << 19,        // rank-22: a literal printing a pasted error's message
  kSignalAll = (1u << 20) - 1,
  // What search uses by default: the definition boost measured slightly negative (docs/ranking.md;
  // the name field's weight already puts definitions first), so it is off unless asked for.
  kSignalDefault = kSignalAll & ~kSignalDefinition,
};
// kSignalDefault minus the signals named (comma-separated: stop, stem, typo, path, def, module,
// diversity, doc, central, file, compound, prose, second, piece, phrase, cap, verbatim, named,
// error, message) in
// the environment variable TRIFECTA_RANKING_ABLATE, plus those named with a `+`
// (`+def`); read once per process. Unknown names are ignored. Only benchmarks set it.
std::uint32_t signals_from_env();

// A corrected term's weight: 1 since rank-14, the word as if typed right (0.7 before, a hedge
// against a wrong correction; docs/ranking.md 3 has the measurements).
inline constexpr double kTypoWeight = 1.0;
// The absent query terms a search looks up in the vocabulary (correction and `did_you_mean`), in
// query order; later ones stay uncorrected. A misspelt query has a few; a pasted text of 20,000
// unknown words took 8 s in the daemon before the cap (2026-12-03).
inline constexpr std::size_t kTypoMaxLookups = 16;
// The most terms one search scores (rank-13, kSignalTermCap). A query with more terms that have
// postings (its own words, compounds and module pieces together, after stop words) keeps the
// kMaxScoredTerms most selective — by weighted idf of their summed variant postings, ties in
// query order — and drops the rest, as Lucene's MoreLikeThis keeps its 25: a pasted traceback
// or a paragraph is mostly words every file has, whose long posting lists cost the search most
// and move its page least. At 24 no page's first file moved on the six relevance sets (8 of
// 1,334 top-10 lists changed) and a 33-term traceback took ×0.53 of the time on four stdlib
// copies (docs/benchmarks.md, "Long queries: a term cap"). SearchResult::unscored names the
// query's own words dropped.
inline constexpr std::size_t kMaxScoredTerms = 24;
inline constexpr double kDefinitionBoost = 1.3;
inline constexpr double kModuleBoost = 1.4;
inline constexpr double kDiversityDecay = 0.6;
// Import-graph centrality prior (rank-4): a file's PageRank c (centrality.hpp: mean 1.0 over the
// Python files, 0 for other files) multiplies each of its chunks' score by
//   centrality_factor(c) = clamp(1 + kCentralityWeight · ln c, kCentralityMin, kCentralityMax)
// so a module imported all over the tree (`os.py`, c ≈ 40) gains up to +kCentralityMax − 1 and a
// leaf nobody imports (a test, a script: c ≈ 0.3) loses a little; a file outside the graph
// (c = 0: not Python, or centrality not computed) is neutral (1.0). Bounded so that it breaks
// near-ties and never outweighs a term match.
extern const double kCentralityWeight;  // 0.05 (ranking.cpp)
extern const double kCentralityMin;     // 0.95
extern const double kCentralityMax;     // 1.15
double centrality_factor(double centrality) noexcept;

// File coverage (rank-5): the metric an agent cares about is the file, and a file whose chunks
// together match more of the query is likelier the answer than one whose single chunk matched
// a word or two. With q the query's terms that have postings (at least two; the first 64
// count) and idf their weights, a file's coverage is
//   cov(file) = Σ idf(t) over the terms matched by any chunk of the file / Σ idf(t) over q
// and each chunk of the file is multiplied by file_coverage_factor(cov) = 1 + kFileCoverageWeight
// · cov. Counted over every posting of the query's terms (filters aside). It re-scores only the
// best max(3 × limit, limit + 30) candidates after the priors (the chunks dynamic pruning
// guarantees, so it needs no place in max_prior_factor and pruned and exhaustive pages stay
// identical), like the per-file diversification that follows it.
extern const double kFileCoverageWeight;
double file_coverage_factor(double coverage) noexcept;

// Prose coverage (rank-6): a reference sentence or an agent's question usually paraphrases the
// docstring (or names the definition) of what it asks for, so the chunk whose own prose — the
// name, sig (signature, first docstring line) and doc (docstrings, comments) fields — matches
// more of the query's terms is likelier the answer than one where a single rare word repeats
// in the code. With q and idf as for file coverage (the first 32 active terms count),
//   prose(chunk) = Σ idf(t) over the terms with a tf in the chunk's name, sig or doc field
//                  / Σ idf(t) over q
// and the chunk is multiplied by prose_coverage_factor(prose) = 1 + kProseCoverageWeight · prose.
// Recorded while the chunk's postings are scored (one bit per term), applied to the same
// max(3 × limit, limit + 30) best candidates as file coverage, after it: needs no room in
// max_prior_factor, pruned and exhaustive pages stay identical.
extern const double kProseCoverageWeight;
double prose_coverage_factor(double coverage) noexcept;

// Second chunk (rank-6): a file whose second-best chunk also matches the query well is likelier
// the answer than one with a single matching chunk, so among the same best candidates (after
// file and prose coverage) each file's best chunk gains kSecondChunkShare × the score of that
// file's second-best candidate (additive; further chunks add nothing, so a long file repeating
// a word cannot pile up). Per-file diversification follows and still sinks the later chunks.
extern const double kSecondChunkShare;

// Verbatim match (rank-15): a query of at least kVerbatimMinWords words that a candidate's text
// holds as written — a docstring's sentence, a comment, an error message copied from where it is
// raised — is the strongest evidence a text search gets that the chunk is the one meant. Among the
// same best candidates as file coverage (before the second chunk), a chunk whose lines hold the
// query's verbatim_key gets × kVerbatimBoost. Compared on verbatim_key of both sides, so line
// breaks, indentation, case and quoting marks do not matter. Read (SearchOptions::chunk_text):
// the first kVerbatimWindow candidates that every one of the query's own words matches (its
// file first, then the chunk itself), best first, from at most kVerbatimFiles files; a query
// with a word no chunk holds reads nothing.
inline constexpr double kVerbatimBoost = 2.0;
inline constexpr std::size_t kVerbatimMinWords = 4;
inline constexpr std::size_t kVerbatimWindow = 20;
inline constexpr std::size_t kVerbatimFiles = 4;
// `s` as the verbatim signal compares it: ASCII letters lowercased; quoting marks dropped (' " `
// and the typographic ‘ ’ “ ”); every run of whitespace one space; trimmed.
std::string verbatim_key(std::string_view s);
// The query's key for the verbatim signal — verbatim_key(q) without a final '.', ':' or ';' —
// when it has at least kVerbatimMinWords words (runs of letters or digits), else "".
std::string verbatim_query(std::string_view q);

// File named (rank-16): a query that is nothing but a file's path — `sessions.py`,
// `urllib3/util/retry.py`, a path pasted from a traceback or an editor, `./x.py`, optionally with
// `:LINE` or `:LINE:COLUMN`, or a pytest node id (`tests/test_x.py::TestA::test_b`) — asks for
// that file, not for its words: the chunk of each file it names (the node id's definition, else
// the one holding LINE, else the file's first) goes to the top of the page, above every
// scored hit, and the page goes on as ranked. A named file is one whose path and the query's
// are equal or one ends with the other after a '/' (a path from another root ends with the
// indexed one); only the files with the longest such match count, and none when more than
// kMaxNamedFiles do (`__init__.py` names a package's every one: a word, not a place). The query
// words are still searched as usual for the rest of the page. Filters (kind, path glob) apply;
// the never-code hiding does not (the query named the file).
inline constexpr std::size_t kMaxNamedFiles = 8;
struct FileReference {
  std::string path;        // as written, less a leading "./" and the line suffix
  std::uint32_t line = 0;  // 1-based; 0: none given
  // A pytest node id's definition (`tests/test_api.py::TestSession::test_send[1-2]` →
  // `TestSession.test_send`, parameters dropped): the chunk of that qualified name is the one
  // meant. Empty: none given.
  std::string symbol;
  // A traceback frame's function (`File "x.py", line 6, in decode` → `decode`; not `<module>`):
  // when the chunk at the line is not that function's and does not define it (a line gone stale
  // after an edit), the file's chunk of that name nearest the line is the one meant. Empty: none.
  std::string function;
};
// The file `query` names when it is one (above): a single word (no whitespace inside, one pair of
// surrounding quotes or backticks allowed) with a '/' or with a '.' in its last component, not a
// URL (`://`), not ending in '/', optionally followed by `:LINE[:COLUMN]` or by a pytest node
// id's `::Class::function[params]`; else nullopt. Whether such a file is indexed is the caller's.
std::optional<FileReference> file_reference(std::string_view query);
// A line that holds one pytest node id among other words, as pytest prints a result
// (`FAILED tests/test_x.py::TestA::test_b[1] - AssertionError: assert 1 == 2`, `ERROR
// tests/test_y.py::test_c`, `tests/test_x.py::test_d PASSED [ 50%]`): that node id's reference.
// A token counts when it has `::` after a part ending in ".py" (trailing `,;:` dropped) and
// file_reference reads it; two different such tokens, or none: nullopt. A plain path among words
// (`where is json/decoder.py`) is not one: a sentence is searched as words.
std::optional<FileReference> node_id_in_line(std::string_view line);
// A pasted error line — a traceback's last line, `pkg.mod.SomeError: message` — is asked where
// the message comes from: the exception's module path names where the exception is *defined*,
// and searched as words (with the module-name prior) it ranked that module above the file that
// raises the message (sqlalchemy_errors 0.479 → 0.831 MRR@10 without it, stdlib_errors
// unchanged). The query without that path (`SomeError: message`) when `query` is one line that
// starts with a dotted name of two or more parts whose last part ends in Error, Exception,
// Warning, Exit or Interrupt, then ": " and a message; else nullopt (rank-21).
std::optional<std::string> error_line_without_module(std::string_view query);
// The message of a pasted error line — `[pkg.mod.]SomeError: message` on one line, the name as
// error_line_without_module reads it but with or without a module path — trimmed, without a
// final run of '.'; nullopt when `query` is no such line or the message is empty.
std::optional<std::string> error_message(std::string_view query);

// The exception's own name (the dotted name's last part: `DetachedInstanceError`) of a pasted
// error line as error_message reads it; nullopt when `query` is no such line.
std::optional<std::string> error_name(std::string_view query);

// Message (rank-22): the last line of a traceback holds the message with its runtime values
// (`Instance <User at 0x7f…> is not bound to a Session`, `'A.bs' is not available due to
// lazy='raise_on_sql'`); a word no chunk holds turns the verbatim signal off, and the words
// alone rank where the exception is defined or documented as high as where it is raised. The
// code that raises it holds the message as a string literal with placeholders where the values
// go (`"Instance %s is not bound to a Session; …" % state_str(state)`). So for a query that is a
// pasted error line (error_message), the first kMessageWindow of the best candidates (the same
// as file coverage's, before the second chunk) that are Python chunks are read (as the verbatim
// signal reads them, SearchOptions::chunk_text) and each gets × kMessageBoost when one of its
// literals prints the message (prints_message); a chunk the verbatim signal raised is not
// raised again. When none of them prints it, the chunks holding the exception's name
// (error_name) are read too, if it has at most kMessageNameChunks (a custom exception's raise
// sites; `ValueError` has thousands): those that print the message go above the page, after a
// named file's chunks (ranking.hpp, rank-16), in index order — the values' words can fill the
// window with other code (`Operation <RunSQL sql='DROP TABLE …'> … is not reversible` fills
// it with the database backends).
inline constexpr double kMessageBoost = 2.0;
inline constexpr std::size_t kMessageNameChunks = 32;
inline constexpr std::size_t kMessageWindow = 40;
// The fewest words (runs of two or more ASCII letters) a literal's constant text holds to
// count as a message: "%s: %s" or "%r is a %s" prints almost anything, while Jinja2's
// "{name!r} is undefined" is a message (2 rather than 3 changed none of the error sets, whose
// messages have three or more by construction, and put Jinja2's raise site first).
inline constexpr std::size_t kMessageMinWords = 2;
// A literal's constant text in pieces: the text between its placeholders (n placeholders,
// n + 1 pieces, each whitespace-normalised as verbatim_key leaves case: runs of whitespace one
// space).
using MessageTemplate = std::vector<std::string>;
// The templates of the string literals in Python `text` that can print a message: adjacent
// literals joined as Python joins them (whitespace, comments and backslash-newlines between
// them); a literal that is a statement of its own (a docstring) and bytes literals left out;
// escapes of the quote, backslash, tab and newline decoded in non-raw literals. Placeholders:
// in an f-string each replacement field (`{x!r}`, `{a[{b}]}`); in other literals a %-format
// (`%s`, `%(name)r`, `%-8.3f`) and a `{}` field (`{0}`, `{name!r}`); `%%`, `{{` and `}}` are
// their characters. Literals whose constant text has fewer than kMessageMinWords words are left
// out. Malformed text never fails: an unterminated literal ends where lexical.hpp ends it.
std::vector<MessageTemplate> message_templates(std::string_view text);
// Whether `t` prints `message` (error_message's): the whole message or a run of its
// ": "-separated parts (argparse's "argument %s: %s" composes one around another) matches the
// template, each placeholder standing for any text (also none); whitespace compared normalised,
// a final run of '.' of the template ignored, case significant.
bool prints_message(const MessageTemplate& t, std::string_view message);
// A pasted traceback or log pins the chunks of its places in indexed files from the innermost
// (the last it names) outward, at most this many places (rank-18): the failing line, then the
// code that called it — what an agent reads next; the rest of the page is ranked by its words.
inline constexpr std::size_t kMaxPinnedFrames = 3;
// The places a pasted traceback or log names, in the order the text names them: Python's frames
// (`File "PATH", line N`) and `PATH:LINE` tokens (pytest's `src/pkg/mod.py:55: AssertionError`,
// a compiler's or `grep -n`'s; trailing `,;:` dropped), each as file_reference reads the path,
// with its line. A path without a line is not a place here (a sentence naming a file is words).
std::vector<FileReference> frames_in_text(std::string_view text);
// A file name the query misspelt (`sesions.py`): the one name of `names` (the indexed files'
// names) within the typo correction's distance of `typed` — an insertion, deletion, substitution
// or swap of neighbouring letters each one edit, at most 1, or 2 when `typed` has 6 or more
// characters before its extension and the name starts with the same letter — with the same
// extension, the fewest edits; nullopt when none is, or when two names are equally close (the
// query then names no file: its words are searched).
std::optional<std::string_view> misspelt_file_name(std::string_view typed,
                                                   const std::vector<std::string_view>& names);
// A path's last part, its file name (`pkg/mod.py` → `mod.py`).
inline std::string_view file_name_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}
// How much of `indexed` (an indexed path) and `named` (a FileReference's path) match: the length
// of the matched path when they are equal or one ends with the other after a '/', else 0.
std::size_t path_match(std::string_view indexed, std::string_view named);

// Bounds for dynamic pruning (inverted_index.cpp): what one term can add to a chunk's score
// (score_term saturates: tf~·(k1+1)/(k1+tf~) < k1+1), and the largest factor the priors of
// `signals` can multiply a score by (every boost above 1, the centrality prior's ceiling
// included; demotions count as 1). A new prior above 1 must be included here, or pruning may
// drop a chunk that belongs on the page. Search asks without kSignalModuleName for the chunks
// it has not seen when it keeps every chunk of the files the query names as modules.
inline double score_term_bound(double idf) noexcept {
  return idf * (kBm25K1 + 1.0);
}
// The block bounds of a one-term search (InvertedIndex's set peaks): a posting's share of the
// score without its idf (score_term with idf 1), × kDefinitionBoost when its chunk's name holds
// the term (a definition may earn that boost), coded in one byte rounded up: peak_bound of the
// code is at least that share. 255 codes up to (k1 + 1) × kDefinitionBoost, above any share.
inline constexpr double kPeakUnit = (kBm25K1 + 1.0) * kDefinitionBoost / 255.0;
inline std::uint8_t peak_code(const FieldTfs& tf, const FieldLengths& length,
                              const NormTable& norms) {
  double v = score_term(tf, length, 1.0, norms, nullptr);
  if (tf[kFieldName] > 0) v *= kDefinitionBoost;
  return static_cast<std::uint8_t>(std::min(std::ceil(v / kPeakUnit * (1.0 + 1e-9)), 255.0));
}
inline double peak_bound(std::uint8_t code) noexcept {
  return code * kPeakUnit;
}
inline double max_prior_factor(std::uint32_t signals) noexcept {
  return ((signals & kSignalDefinition) ? kDefinitionBoost : 1.0) *
         ((signals & kSignalModuleName) ? kModuleBoost : 1.0) *
         ((signals & kSignalCentrality) ? kCentralityMax : 1.0);
}

// What a path is, from its text alone (bit set).
enum PathClass : std::uint8_t {
  kPathTest = 1,       // a `test`/`tests` directory, test_*.py, *_test.py, tests.py, conftest.py
  kPathAsset = 2,      // .css .js .map .svg .scss .less, or a `static` directory
  kPathGenerated = 4,  // *_pb2.py, a `migrations` directory
  kPathNeverCode = 8,  // .po .pot .mo, *.min.js, *.min.css, and a folder below a `locale`
                       // directory (rank-11: a file directly in `locale/` is code)
  kPathVendored = 16,  // rank-4: a `_vendor`, `vendor`, `vendored`, `third_party` or `thirdparty`
                       // directory (another project's code shipped inside this one)
};
std::uint8_t path_class(std::string_view path);
// Files that are never code by their extension alone: translation catalogs (.po .pot .mo),
// minified assets (.min.js .min.css) and images (.png .jpg .jpeg .gif .ico .bmp .webp .tif
// .tiff). The index does not read them by default (skip reason `never_code`; an `include` glob
// of _ctx/trifecta.json admits them: SegmentIndex). Not the `locale` directory rule of
// path_class: Python files live there too (Django's `conf/locale/de/formats.py`); search still
// hides those, but not a file directly in `locale/` (`sphinx/locale/__init__.py`, rank-11).
bool never_code_file(std::string_view path);
// The multiplier for one class bit when the query does not ask for it.
double path_factor(PathClass c) noexcept;
// The query terms (stems) that ask for a class: tests → "test"; assets → css, js, static,
// asset; generated → migrat, pb2, generat; never-code → po, locale, translat, msgid; vendored →
// vendor, vendored, third (third_party).
bool asks_for(PathClass c, std::string_view term_stem) noexcept;

// The module name of a path as one lowercase token: `pkg/csv.py` → "csv", `pkg/db/__init__.py`
// → "db"; empty for a name that is not one token. module_stem is its stem (`pkg/paginator.py`
// → "pagin").
std::string module_word(std::string_view path);
std::string module_stem(std::string_view path);

// Module pieces (rank-7): a module or package named by two words run together (`socketserver`,
// `webbrowser`, `feedgenerator`, `cookiejar`, `tomllib`) shares no term with a description that
// names one of the words ("network servers", "a web-based document", "the feed"). When the
// module name of `path` is written in lowercase letters a-z only (underscores at its ends aside:
// the tokenizer splits `NodeFilter` and `status_codes` into their words already) and has at
// least 6 of them, `module_splits` lists where module_word(path) could be cut into two pieces of
// at least 3 letters each (`socketserver` → 3 … 9). Search keeps the cuts whose two pieces are
// both indexed words (so `fee` + `dgenerator` is not one) and, when a query word has the stem of
// a piece that is not common (on at most kModulePieceMaxShare of the live chunks: `file`,
// `path`, `module`, `type` are too common to tell `tempfile` or `mimetypes` from the rest), adds
// the module word as an extra term at kModulePieceWeight of its idf, like a compound
// (docs/ranking.md, "Module pieces"). Measured: the module-description set +0.024 MRR@10, the
// three other sets within ±0.004.
std::vector<std::uint8_t> module_splits(std::string_view path);
extern const double kModulePieceWeight;  // 0.2 (ranking.cpp)

// Module phrases (rank-8): a module named by several words joined with underscores
// (`status_codes`, `progress_bars`, `_header_value_parser`, `shared_memory`) is named by a query
// that writes those words next to each other ("where are the exit status codes defined"), as
// `csv.py` is by "csv". `module_phrase(word)`: for a module word (module_word) of 2–4 parts
// between underscores, each of at least 2 letters a-z, the parts' stems joined by single spaces
// (`progress_bars` → "progress bar"); otherwise empty, and empty for a test module's name
// (`test_suite`, `suite_test`, `unit_tests`: a first or last part with the stem `test` is the
// naming convention). `query_phrases(q)`: for every run of 2–4
// adjacent letter words of the query (adjacent as in compound_candidates: only spaces or hyphens
// between them, `a`/`an`/`the` skipped over), the words' stems joined by single spaces, in query
// order, without repeats. Search gives every chunk of a module whose phrase is among the query's
// kModuleBoost, the module-name prior (explain `module-name×1.4`); no term is added.
std::string module_phrase(std::string_view module_word);
std::vector<std::string> query_phrases(std::string_view query);
extern const double kModulePieceMaxShare;  // 0.01

// A query term after analysis. `exact`: written in quotes/backticks (never dropped, stemmed or
// corrected). `identifier`: a piece of a compound identifier the query spelled out
// (`zanzibar_marker`, `getUserName`, `utf8_decode`) or a word in capitals (`SIGCONT`, `EPUB`;
// rank-14): never typo-corrected, since the writer typed a name, not prose (a name missing from
// the index is not there: `SIGCONT` is not `sigint`).
struct QueryTerm {
  std::string text;
  bool exact = false;
  bool identifier = false;
};
// Identifiers written as one lowercase word (rank-5): `listdir`, `makedirs`, `isfile`, `getcwd`,
// `halfdelay`. The index keeps such a word whole (the tokenizer cannot split `listdir`), so a
// query that spells it out in English ("list directory", "make directories", "half-delay")
// shares no term with it. `compound_candidates` returns the words a query's adjacent words could
// be written as: the query's letter words in order, adjacent when only spaces or hyphens lie
// between them (`a`, `an`, `the` are skipped over, so "is a directory" is adjacent); for each
// adjacent pair and triple the words joined, each word also in its standard programming
// abbreviation (`kAbbreviations`: directory → dir, directories → dirs, number → num, message →
// msg, …), and a few multi-word abbreviations (`current working directory` → cwd, `process id`
// → pid, `file descriptor` → fd). Search looks each one up in the vocabulary (one hash lookup
// a candidate, at most a few dozen a query) and scores the indexed ones as extra terms at
// kCompoundWeight of their idf. Joined words shorter than 5 letters are not candidates (too
// many accidental words), and neither are words the query holds already.
struct CompoundCandidate {
  std::string text;  // the joined word (lowercase)
  std::string from;  // the query words it joins ("list directory"), for explain
};
std::vector<CompoundCandidate> compound_candidates(std::string_view query);
extern const double kCompoundWeight;

// Tokenize, drop stop words (unless quoted, or all terms are stop words), deduplicate
// (first-seen order).
std::vector<QueryTerm> parse_query(std::string_view query, bool drop_stop_words = true);
bool is_stop_word(std::string_view token) noexcept;

}  // namespace trifecta::core::index
