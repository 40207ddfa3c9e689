#include "render.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <fstream>

namespace trifecta::client {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// printf into a std::string (the renderers' only formatting tool: no iostreams, no fmt, so the
// CLI stays small and starts fast).
[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* format, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, format);
  const int n = std::vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  if (n < 0) return;
  if (static_cast<std::size_t>(n) < sizeof buf) {
    out.append(buf, static_cast<std::size_t>(n));
    return;
  }
  const std::size_t at = out.size();
  out.resize(at + static_cast<std::size_t>(n) + 1);
  va_start(ap, format);
  std::vsnprintf(out.data() + at, static_cast<std::size_t>(n) + 1, format, ap);
  va_end(ap);
  out.resize(at + static_cast<std::size_t>(n));
}

long long ll(std::int64_t v) {
  return static_cast<long long>(v);
}
double dbl(std::int64_t v) {
  return static_cast<double>(v);
}

// Display columns of UTF-8 text, one a code point: every character --explain prints (index terms,
// `~`, `+`, `→`, `×`, `#`) takes one column in a terminal. (A wide CJK term would take two and
// misalign its row, nothing worse.)
std::size_t columns(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// `s` cut to at most `width` columns, the last one `…` when it was cut (at a code point boundary).
std::string fit(std::string_view s, std::size_t width) {
  if (columns(s) <= width || width == 0) return std::string(s);
  std::size_t kept = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (kept == width - 1) break;
    ++kept;
  }
  return std::string(s.substr(0, i)) + "\u2026";
}

// The widest term column --explain gives (a longer term is cut).
constexpr std::size_t kExplainTermColumns = 36;

std::string line_of(const fs::path& file, long long line) {
  std::ifstream in(file);
  std::string l;
  for (long long i = 1; i <= line && std::getline(in, l); ++i) {
  }
  const auto b = l.find_first_not_of(" \t");
  return b == std::string::npos ? std::string() : l.substr(b, 120);
}

void backend_line(std::string& out, const proto::LspAnswer& a,
                  const std::optional<std::string>& rule) {
  appendf(out, "# backend %s (lsp %s)%s%s%s\n", a.backend.c_str(), a.lsp_state.c_str(),
          rule ? (", rule " + *rule).c_str() : "",
          a.fallback_reason ? (" — " + *a.fallback_reason).c_str() : "",
          a.merge_reason ? (", AST asked: " + *a.merge_reason).c_str() : "");
  if (a.layout_warning) appendf(out, "# warning: %s\n", a.layout_warning->c_str());
}

void locations(std::string& out, const std::vector<proto::Location>& locs,
               const std::optional<std::string>& reason, const fs::path& segment) {
  if (locs.empty()) appendf(out, "no locations%s\n", reason ? (": " + *reason).c_str() : "");
  for (const auto& x : locs) {
    const fs::path file = x.external ? fs::path(x.path) : segment / x.path;
    // Merged answers label each location: [lsp 0.90] / [ast 0.55] (definition),
    // [confirmed] / [candidate Cls] (references).
    std::string label;
    if (x.status) {
      label = "[" + *x.status + (x.receiver_class ? " " + *x.receiver_class : "") + "]  ";
    } else if (x.source && x.confidence) {
      char c[16];
      std::snprintf(c, sizeof c, "%.2f", *x.confidence);
      label = "[" + *x.source + " " + c + "]  ";
    }
    appendf(out, "%s:%lld:%lld  %s%s\n", x.path.c_str(), ll(x.line), ll(x.column), label.c_str(),
            line_of(file, x.line).c_str());
  }
}

}  // namespace

std::string format_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (b >= 1024 && u < 3) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

Rendered render_ping(const proto::PingResult& o, double elapsed_ms) {
  Rendered r;
  appendf(r.out, "pong from trifectad pid %lld in %.2f ms\n", ll(o.pid), elapsed_ms);
  return r;
}

Rendered render_daemon_start(const proto::PingResult& o, bool was_running, const fs::path& socket) {
  Rendered r;
  appendf(r.out, "trifectad %s (pid %lld) on %s\n", was_running ? "already running" : "started",
          ll(o.pid), socket.c_str());
  return r;
}

Rendered render_status(const proto::StatusResult& o) {
  Rendered r;
  auto& out = r.out;
  appendf(out, "trifectad %s (protocol %s), pid %lld\n", o.daemon_version.c_str(),
          o.protocol.c_str(), ll(o.pid));
  // A daemon of another build (started before an upgrade) serves on until it exits: say so.
  if (o.daemon_version != proto::kVersion || o.protocol != proto::protocol_version())
    appendf(out,
            "  note         this client is %s (protocol %s): the daemon is another build, started "
            "before an upgrade; `trifecta daemon restart` runs this one\n",
            proto::kVersion, proto::protocol_version().c_str());
  appendf(out, "  socket       %s%s\n", o.socket.c_str(), o.socket_activated ? " (systemd)" : "");
  appendf(out, "  uptime       %.1f s\n", o.uptime_s);
  appendf(out, "  memory       %s RSS\n", format_bytes(dbl(o.rss_bytes)).c_str());
  appendf(out, "  connections  %.0f, in flight %.0f, served %.0f, workers %.0f\n",
          dbl(o.connections), dbl(o.in_flight), dbl(o.requests_total), dbl(o.workers));
  if (o.idle_timeout_s > 0)
    appendf(out, "  idle exit    after %.0f s without clients\n", o.idle_timeout_s);
  else
    appendf(out, "  idle exit    never\n");
  const auto& t = o.telemetry;
  appendf(out, "  telemetry    %s: %.0f events written, %.0f dropped, %.0f write errors\n",
          t.enabled ? "on" : "off", dbl(t.lines_written), dbl(t.dropped), dbl(t.write_errors));
  if (t.recreated > 0)
    appendf(out, "               %.0f events file(s) were removed and recreated\n", dbl(t.recreated));
  if (!t.last_error.empty())
    appendf(out, "               NOT WRITING: %s (requests are served; events are counted as write errors)\n",
            t.last_error.c_str());
  appendf(out, "  segments     %zu open\n", o.segments.size());
  for (const auto& s : o.segments) {
    appendf(out, "    %s  index %-8s lsp %-11s %6.0f requests  %10s  %s\n", s.segment_id.c_str(),
            s.state.c_str(), s.lsp_state.empty() ? "-" : s.lsp_state.c_str(), dbl(s.requests),
            format_bytes(dbl(s.memory_bytes)).c_str(), s.root.c_str());
  }
  return r;
}

Rendered render_segment_close(const proto::SegmentCloseResult& o, const std::string& segment) {
  Rendered r;
  if (o.closed)
    appendf(r.out, "closed segment %s (%s)\n", o.segment_id.c_str(), segment.c_str());
  else
    appendf(r.out, "no open segment for %s\n", segment.c_str());
  return r;
}

Rendered render_skeleton(const proto::AstSkeletonResult& o) {
  Rendered r;
  appendf(r.out, "# %s — %s, %s → %s (%.1f%%)%s\n", o.file.c_str(), o.status.c_str(),
          format_bytes(dbl(o.source_bytes)).c_str(), format_bytes(dbl(o.skeleton_bytes)).c_str(),
          100.0 * o.reduction_ratio, o.cache_hit ? ", cached" : "");
  if (o.rendered) r.out += *o.rendered;
  return r;
}

Rendered render_symbols(const proto::AstSymbolsResult& o) {
  Rendered r;
  appendf(r.out, "# %s — %lld symbols (%s)\n", o.file.c_str(), ll(o.count), o.status.c_str());
  for (const auto& d : o.symbols) {
    appendf(r.out, "%5lld-%-5lld %-8s %s%s%s\n", ll(d.line), ll(d.end_line), d.kind.c_str(),
            d.async ? "async " : "", d.qualname.c_str(), d.signature.c_str());
  }
  return r;
}

Rendered render_resolution(const proto::SymResolveResult& m) {
  Rendered r;
  appendf(r.out, "%s:%lld-%lld  %s  %s%s\n", m.file.c_str(), ll(m.line), ll(m.end_line),
          m.kind.c_str(), m.qualname.empty() ? m.module.c_str() : m.qualname.c_str(),
          m.signature.c_str());
  if (!m.docstring.empty()) appendf(r.out, "  %s\n", m.docstring.c_str());
  return r;
}

Rendered render_sym_search(const proto::SymSearchResult& o) {
  Rendered r;
  appendf(r.out, "# '%s' (%s): %lld match%s%s\n", o.query.c_str(), o.mode.c_str(), ll(o.total),
          o.total == 1 ? "" : "es", o.truncated ? (", showing " + std::to_string(o.matches.size())).c_str() : "");
  if (o.lsp_reason) appendf(r.out, "# skeleton index only: %s\n", o.lsp_reason->c_str());
  for (const auto& m : o.matches) {
    appendf(r.out, "%s:%lld:%lld  %-9s %s%s  [%s%s]\n", m.file.c_str(), ll(m.line), ll(m.column),
            m.kind.c_str(), m.qualname.c_str(), m.signature.c_str(), m.match.c_str(),
            m.source == "lsp" ? ", lsp" : "");
    if (!m.uri.empty()) appendf(r.out, "    %s\n", m.uri.c_str());
  }
  return r;
}

Rendered render_calls(const proto::LspCallsResult& o) {
  Rendered r;
  if (!o.root) {
    appendf(r.out, "no function at %s:%lld:%lld — %s\n", o.file.c_str(), ll(o.line), ll(o.column),
            o.reason.value_or("").c_str());
    return r;
  }
  const auto& root = *o.root;
  appendf(r.out, "%s:%lld  %s %s%s  [%s]\n", root.file.c_str(), ll(root.line), root.kind.c_str(),
          root.qualname.c_str(), root.signature.c_str(), o.backend.c_str());
  if (o.fallback_reason) appendf(r.out, "(from the AST: %s)\n", o.fallback_reason->c_str());
  auto edges = [&](const char* title, const std::vector<proto::CallEdge>& v) {
    if (v.empty()) return;
    appendf(r.out, "%s (%zu):\n", title, v.size());
    for (const auto& e : v) {
      std::string lines;
      for (std::size_t i = 0; i < e.sites.size() && i < 8; ++i) {
        lines += (i ? ", " : "") + e.sites[i].path + ":" + std::to_string(e.sites[i].line);
      }
      if (e.sites.size() > 8) lines += ", ...";
      std::string label = e.item.qualname.empty() ? e.item.name : e.item.qualname;
      if (e.item.external.value_or(false)) label += " (external)";
      appendf(r.out, "%*s%s:%lld  %s %s  (%zu call%s: %s)\n", static_cast<int>(2 * e.depth), "",
              e.item.file.c_str(), ll(e.item.line), e.item.kind.c_str(),
              label.c_str(), e.sites.size(),
              e.sites.size() == 1 ? "" : "s", lines.c_str());
    }
  };
  edges("callers", o.incoming);
  edges("callees", o.outgoing);
  if (o.incoming.empty() && o.outgoing.empty()) r.out += "no callers or callees found\n";
  if (o.unresolved > 0) appendf(r.out, "(%lld calls to builtins or unresolved names left out)\n", ll(o.unresolved));
  if (o.truncated) appendf(r.out, "(stopped at 200 edges)\n");
  return r;
}

Rendered render_lsp_status(const proto::LspStatusResult& o) {
  Rendered r;
  auto& out = r.out;
  // The segment's Python layout: what was given to the server, or why imports cannot resolve.
  auto layout_lines = [&] {
    if (o.layout) {
      appendf(out, "  layout    %s%s\n", o.layout->c_str(),
              o.layout_package ? (" (package " + *o.layout_package + ")").c_str() : "");
    }
    if (o.extra_paths) {
      for (const auto& p : *o.extra_paths) appendf(out, "  extraPath %s\n", p.c_str());
    }
    if (o.layout_notes) {
      for (const auto& n : *o.layout_notes) appendf(out, "  note      %s\n", n.c_str());
    }
    if (o.imports_unresolved) appendf(out, "  WARNING   imports cannot resolve: %s\n", o.imports_unresolved->c_str());
  };
  if (!o.available) {
    appendf(out, "language server: unavailable — %s\n", o.reason.c_str());
    layout_lines();
    return r;
  }
  // A client exists: the daemon reports the process fields; one it left out prints as 0 / "".
  const std::string none;
  appendf(out, "language server: %s %s (%s)\n", o.binary_name.value_or(none).c_str(),
          o.version.value_or(none).c_str(), o.source.value_or(none).c_str());
  appendf(out, "  binary    %s\n", o.binary.value_or(none).c_str());
  appendf(out, "  state     %s for %.1f s (%s)\n", o.state.c_str(), o.state_ms.value_or(0) / 1000.0,
          o.reason.c_str());
  if (o.time_to_ready_ms.value_or(0) > 0)
    appendf(out, "  ready     after %.1f s from spawn\n", *o.time_to_ready_ms / 1000.0);
  if (o.indexing.value_or(false)) {
    appendf(out, "  indexing  still working for %.1f s%s — answers may be slow or incomplete until it ends\n",
            o.indexing_ms.value_or(0) / 1000.0,
            o.indexing_title && !o.indexing_title->empty() ? (" (" + *o.indexing_title + ")").c_str() : "");
  } else if (o.analysis_done_ms.value_or(0) > 0) {
    appendf(out, "  indexing  done %.1f s after spawn%s\n", *o.analysis_done_ms / 1000.0,
            o.workspace_files.value_or(-1) >= 0
                ? (" (" + std::to_string(*o.workspace_files) + " source files)").c_str()
                : "");
  }
  appendf(out, "  pid       %lld, up %.1f s, %s RSS, %lld restarts\n", ll(o.pid.value_or(0)),
          o.uptime_ms.value_or(0) / 1000.0, format_bytes(dbl(o.rss_bytes.value_or(0))).c_str(),
          ll(o.restarts.value_or(0)));
  appendf(out, "  requests  %lld pending, %lld timeouts, %lld open documents\n",
          ll(o.pending.value_or(0)), ll(o.timeouts.value_or(0)), ll(o.open_documents.value_or(0)));
  if (o.next_retry_ms) {
    appendf(out, "  retry     next automatic restart in %.1f s (`trifecta lsp restart` now)\n",
            *o.next_retry_ms / 1000.0);
  }
  layout_lines();
  return r;
}

Rendered render_build(const proto::CtxBuildResult& o) {
  Rendered r;
  const auto& x = o.build;
  appendf(r.out,
          "indexed %lld files (%lld skipped), %lld chunks in %.2f s — %s start, %lld files read, "
          "%lld reused, %lld threads\n",
          ll(x.files_indexed), ll(x.files_skipped), ll(x.chunks), x.elapsed_ms / 1000.0,
          x.warm ? "warm" : "cold", ll(x.files_read), ll(x.files_reused), ll(x.threads));
  // Said, not only in --json: the build's own (a leftover temporary file swept, a persisted index
  // that could not be used) and the index's now (a malformed _ctx/trifecta.json). `build` is the
  // last build's report, which a `ctx build` of a built index returns as it was; the config's
  // warnings are the status's, so a file fixed since is not reported again.
  const auto& st = o.status;
  for (const auto& w : x.warnings) appendf(r.out, "warning: %s\n", w.c_str());
  for (const auto& w : st.warnings) appendf(r.out, "warning: %s\n", w.c_str());
  appendf(r.out, "generation %lld, pack_state %s, source %s, watching %s\n", ll(st.generation),
          st.pack_state.substr(0, 12).c_str(), st.source.c_str(), st.watching ? "yes" : "no");
  return r;
}

Rendered render_ctx_status(const proto::CtxStatusResult& o) {
  Rendered r;
  auto& out = r.out;
  const auto& st = o.status;
  // Before the first build ends there is no update time and no pack state worth showing (the
  // pack of no files is the hash of nothing).
  appendf(out, "index %s, generation %lld, last update %s\n", o.index.state.c_str(),
          ll(st.generation), st.last_update.empty() ? "none yet" : st.last_update.c_str());
  // What the index is not doing as asked (a malformed _ctx/trifecta.json; a setting that needs a
  // restart; the segment root gone): first, before the figures it explains.
  for (const auto& w : st.warnings) appendf(out, "  warning   %s\n", w.c_str());
  appendf(out,
          "  files     %lld indexed, %lld skipped, %lld non-UTF-8 (decoded with replacement)\n",
          ll(st.files_indexed), ll(st.files_skipped), ll(st.files_non_utf8));
  for (const auto& [k, v] : st.skip_reasons)
    appendf(out, "            %s: %lld\n", k.c_str(), ll(v));
  appendf(out, "  chunks    %lld (%lld terms), ~%s in memory\n", ll(st.chunks), ll(st.terms),
          format_bytes(dbl(st.memory_bytes)).c_str());
  appendf(out, "  pack      %s (%s listing), watching %s",
          st.built ? st.pack_state.c_str() : "none yet", st.source.c_str(),
          st.watching ? "yes" : "no");
  if (st.watching && st.watched_dirs) appendf(out, " (%lld directories)", ll(*st.watched_dirs));
  appendf(out, ", %lld rescans\n", ll(st.rescans));
  if (o.index.watcher_error) {
    appendf(out,
            "  watcher   unavailable: %s (changes on disk are not seen until `ctx build "
            "--rebuild`)\n",
            o.index.watcher_error->c_str());
  }
  // The reply lists up to 100 skipped files, the unexpected reasons first (a translation catalog
  // or an image is skipped by design); the first kSkippedLines are enough to act on, the counts
  // by reason above cover the rest.
  constexpr std::size_t kSkippedLines = 20;
  const std::size_t shown = std::min(st.skipped.size(), kSkippedLines);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& f = st.skipped[i];
    appendf(out, "  skipped   %s (%s)\n", f.path.c_str(),
            f.skip_reason ? f.skip_reason->c_str() : "?");
  }
  if (st.files_skipped > static_cast<std::int64_t>(shown)) {
    appendf(out, "  skipped   … %lld more (counted by reason above; --json lists %zu)\n",
            ll(st.files_skipped - static_cast<std::int64_t>(shown)), st.skipped.size());
  }
  return r;
}

namespace {

// --explain rows: the term (or signal) in a column of `width` display columns, cut with `…` when
// longer (a stem group lists every indexed variant: `resolved~resolve~resolver~…`; --json has it
// whole), the field, the tf (none for a signal) and the share, right-aligned.
void explain_rows(std::string& out, const std::vector<proto::TermContribution>& rows,
                  std::size_t width) {
  for (const auto& t : rows) {
    const std::string term = fit(t.term, width);
    out += "      ";
    out += term;
    const std::size_t used = columns(term);
    out.append((used < width ? width - used : 0) + 2, ' ');
    if (t.field == "signal") {
      appendf(out, "%-6s  %-6s %+9.3f\n", t.field.c_str(), "", t.score);
    } else {
      appendf(out, "%-6s  tf=%-3lld %+9.3f\n", t.field.c_str(), ll(t.tf), t.score);
    }
  }
}

// The term cap's note (protocol 1.6): which of the query's words were not scored — the first
// kShown of them (a pasted file leaves hundreds out; --json lists every one).
void unscored_note(std::string& out, const proto::CtxSearchResult& o) {
  constexpr std::size_t kShown = 12;
  if (!o.unscored || o.unscored->empty()) return;
  const auto& words = *o.unscored;
  appendf(out, "note: a long query scores its most selective terms; %zu of %zu not scored:",
          words.size(), o.terms.size());
  for (std::size_t i = 0; i < words.size() && i < kShown; ++i) appendf(out, " %s", words[i].c_str());
  if (words.size() > kShown) appendf(out, " … and %zu more (--json lists them)", words.size() - kShown);
  appendf(out, "\n");
}

// The typo correction's note (protocol 1.7), above the hits: which query words the index lacks
// and what they were searched as, so a reader knows the page answers another spelling.
void corrected_note(std::string& out, const proto::CtxSearchResult& o) {
  if (!o.corrected || o.corrected->empty()) return;
  appendf(out, "note: not in the index, searched as:");
  const char* sep = " ";
  for (const auto& c : *o.corrected) {
    appendf(out, "%s%s \u2192 %s", sep, c.from.c_str(), c.to.c_str());
    sep = ", ";
  }
  appendf(out, "\n");
}

}  // namespace

Rendered render_search(const proto::CtxSearchResult& o, const std::string& path_glob) {
  Rendered r;
  auto& out = r.out;
  if (o.hits.empty()) {
    appendf(out, "no results: %s\n", o.reason.value_or("").c_str());
    if (o.did_you_mean && !o.did_you_mean->empty()) {
      appendf(out, "did you mean:");
      for (const auto& w : *o.did_you_mean) appendf(out, " %s", w.c_str());
      appendf(out, "\n");
    }
    unscored_note(out, o);
    // A bare directory name (`db`, `pkg/db`) matches no file: the glob must reach inside it.
    if (!path_glob.empty() && path_glob.back() != '/' &&
        path_glob.find_first_of("*?[") == std::string::npos) {
      appendf(out,
              "hint: --path is a glob over file paths; for everything under a directory use "
              "--path '%s/**' (or '%s/')\n",
              path_glob.c_str(), path_glob.c_str());
    }
    return r;
  }
  corrected_note(out, o);
  std::size_t term_width = 0;  // one column width for the whole page, so every hit lines up
  for (const auto& x : o.hits) {
    if (!x.explain) continue;
    for (const auto& t : *x.explain) term_width = std::max(term_width, std::min(columns(t.term), kExplainTermColumns));
  }
  int rank = 0;
  for (const auto& x : o.hits) {
    appendf(out, "%2d. %-50s %s:%lld-%lld  score %.2f  ~%lld tok\n", ++rank, x.id.c_str(),
            x.path.c_str(), ll(x.start_line), ll(x.end_line), x.score, ll(x.tokens));
    appendf(out, "    %s\n", x.preview.c_str());
    if (x.explain) explain_rows(out, *x.explain, term_width);
  }
  unscored_note(out, o);
  return r;
}

Rendered render_get(const proto::CtxGetResult& o) {
  Rendered r;
  auto& out = r.out;
  for (const auto& c : o.chunks) {
    std::string flags = c.mode;
    if (c.degraded_from) flags += ", degraded from " + *c.degraded_from;
    if (c.partial) flags += ", partial";
    if (c.stale.value_or(false)) flags += ", STALE";
    appendf(out, "── %s  (%s:%lld-%lld, %s) ──\n", c.id.c_str(), c.path.c_str(), ll(c.start_line),
            ll(c.end_line), flags.c_str());
    out += c.text;
    if (!c.text.empty() && c.text.back() != '\n') out += '\n';
  }
  for (const auto& e : o.errors) {
    appendf(r.err, "trifecta: %s: %s: %s\n", e.target.c_str(), e.code.c_str(), e.message.c_str());
    r.failed = true;
  }
  appendf(out, "── used %lld of %lld tokens; stop: %s", ll(o.used), ll(o.budget),
          o.stop_reason.c_str());
  if (o.next) appendf(out, "; continue with --cursor %s", o.next->c_str());
  appendf(out, "\n");
  return r;
}

Rendered render_map(const proto::CtxMapResult& o, std::string_view more) {
  Rendered r;
  r.out = o.text;
  if (o.candidates == 0) {
    // Not an error (a tree may hold no Python), but "0 of 0" alone does not say why it is empty.
    appendf(r.out,
            "── no Python files %s%s: the map outlines Python modules (a search finds the rest)\n",
            o.path.empty() ? "in the segment" : "at ", o.path.c_str());
    return r;
  }
  const auto part = std::count_if(o.files.begin(), o.files.end(), [](const proto::MapFile& f) { return f.reduced; });
  appendf(r.out, "── %zu of %lld Python files", o.files.size(), ll(o.candidates));
  if (part > 0) appendf(r.out, ", %lld in part", static_cast<long long>(part));
  appendf(r.out, ", used %lld of %lld tokens", ll(o.used), ll(o.budget));
  if (o.truncated) appendf(r.out, "; more with %.*s", static_cast<int>(more.size()), more.data());
  appendf(r.out, "\n");
  return r;
}

Rendered render_validate(const proto::CtxValidateResult& o) {
  Rendered r;
  if (o.ok) {
    appendf(r.out, "index is fresh: %lld files checked, generation %lld\n", ll(o.checked),
            ll(o.generation));
    return r;
  }
  for (const auto& [k, list] : {std::pair{"stale", &o.stale}, std::pair{"missing", &o.missing},
                                std::pair{"new", &o.added}}) {
    for (const auto& p : *list) appendf(r.out, "%-8s %s\n", k, p.c_str());
  }
  if (o.repair) {
    appendf(r.out, "repair %s: these files are being re-read; run `trifecta ctx validate` again to confirm\n",
            o.repair->c_str());
  }
  return r;
}

Rendered render_locations(const proto::LspDefinitionResult& o, const fs::path& segment) {
  Rendered r;
  backend_line(r.out, o, o.rule);
  locations(r.out, o.locations, o.reason, segment);
  return r;
}

Rendered render_locations(const proto::LspReferencesResult& o, const fs::path& segment) {
  Rendered r;
  backend_line(r.out, o, std::nullopt);
  if (o.confirmed || o.candidates) {
    appendf(r.out, "# %lld confirmed, %lld candidate(s)%s\n", ll(o.confirmed.value_or(0)),
            ll(o.candidates.value_or(0)),
            o.filtered && *o.filtered
                ? (", " + std::to_string(*o.filtered) + " filtered (unrelated class)").c_str()
                : "");
  }
  locations(r.out, o.locations, std::nullopt, segment);
  if (o.truncated.value_or(false)) appendf(r.out, "(truncated)\n");
  return r;
}

Rendered render_hover(const proto::LspHoverResult& o) {
  Rendered r;
  backend_line(r.out, o, o.rule);
  if (!o.contents) {
    appendf(r.out, "nothing to show%s\n", o.reason ? (": " + *o.reason).c_str() : "");
    return r;
  }
  appendf(r.out, "%s\n", o.contents->c_str());
  if (o.lsp_contents) appendf(r.out, "# Pyright: %s\n", o.lsp_contents->c_str());
  if (o.external.value_or(false)) {  // defined outside the segment (symlinks resolved): say where
    appendf(r.out, "# external: defined outside the segment%s\n",
            o.definition_path ? (", in " + *o.definition_path).c_str() : "");
  }
  return r;
}

Rendered render_diagnostics(const proto::LspDiagnosticsResult& o) {
  Rendered r;
  backend_line(r.out, o, std::nullopt);
  if (o.diagnostics.empty()) appendf(r.out, "%s: no diagnostics\n", o.file.c_str());
  for (const auto& x : o.diagnostics) {
    appendf(r.out, "%s:%lld:%lld: %s: %s%s\n", o.file.c_str(), ll(x.line), ll(x.column),
            x.severity.c_str(), x.message.c_str(),
            x.code.empty() ? "" : (" [" + x.code + "]").c_str());
  }
  return r;
}

namespace {

// error.data's stable name: every error carries it (the rest of data depends on the error).
struct ErrorName {
  std::string name = "ERROR";
};
template <class V>
void describe(V& v, ErrorName& s) {
  v.opt("name", s.name, "stable error name");
}

}  // namespace

std::string render_error(const proto::RpcError& e) {
  std::string out;
  const json::value data(e.data);
  ErrorName name;
  if (proto::decode(data, name, "error.data")) name = ErrorName{};  // a bad name: the generic one
  appendf(out, "trifecta: %s: %s\n", name.name.c_str(), e.message.c_str());
  if (e.code == proto::ErrorCode::kVersionMismatch)
    appendf(out, "hint: run `trifecta daemon restart`\n");
  // Selector errors (SYMBOL_NOT_FOUND, AMBIGUOUS_SYMBOL, FILE_NOT_FOUND, ...) carry
  // SelectorErrorData. The details are a courtesy: a malformed payload is named, the error line
  // above stands.
  if (!e.data.contains("tried") && !e.data.contains("suggestions") &&
      !e.data.contains("candidates"))
    return out;
  proto::SelectorErrorData sel;
  if (auto bad = proto::decode(data, sel, "error.data")) {
    appendf(out, "trifecta: (error details unreadable: %s)\n", bad->c_str());
    return out;
  }
  if (!sel.candidates.empty()) appendf(out, "candidates:\n");
  for (const auto& m : sel.candidates) {
    appendf(out, "  %s:%lld-%lld  %s %s%s\n", m.file.c_str(), ll(m.line), ll(m.end_line),
            m.kind.c_str(), m.qualname.c_str(), m.conditional ? "  (conditional)" : "");
  }
  if (!sel.suggestions.empty()) appendf(out, "did you mean:\n");
  for (const auto& v : sel.suggestions) appendf(out, "  %s\n", v.c_str());
  return out;
}

}  // namespace trifecta::client
