#include "render.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <fstream>

#include "json_access.hpp"

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

// Runs one renderer body; a MalformedReply becomes a value (and drops the partial text).
template <class Body>
Rendered guarded(const json::value& result, Body body) {
  Rendered r;
  try {
    body(Field(result, "result"), r);
  } catch (const MalformedReply& e) {
    Rendered bad;
    bad.malformed = e.what();
    return bad;
  }
  return r;
}

std::string line_of(const fs::path& file, long long line) {
  std::ifstream in(file);
  std::string l;
  for (long long i = 1; i <= line && std::getline(in, l); ++i) {
  }
  const auto b = l.find_first_not_of(" \t");
  return b == std::string::npos ? std::string() : l.substr(b, 120);
}

void backend_line(std::string& out, const Field& o) {
  const auto rule = o.find("rule");
  const auto why = o.find("fallback_reason");
  appendf(out, "# backend %s (lsp %s)%s%s\n", o["backend"].text().c_str(),
          o["lsp_state"].text().c_str(), rule ? (", rule " + rule->text()).c_str() : "",
          why ? (" — " + why->text()).c_str() : "");
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

Rendered render_ping(const json::value& result, double elapsed_ms) {
  return guarded(result, [&](const Field& o, Rendered& r) {
    appendf(r.out, "pong from trifectad pid %s in %.2f ms\n", o["pid"].text().c_str(), elapsed_ms);
  });
}

Rendered render_daemon_start(const json::value& result, bool was_running, const fs::path& socket) {
  return guarded(result, [&](const Field& o, Rendered& r) {
    appendf(r.out, "trifectad %s (pid %s) on %s\n", was_running ? "already running" : "started",
            o["pid"].text().c_str(), socket.c_str());
  });
}

Rendered render_status(const json::value& result) {
  return guarded(result, [](const Field& o, Rendered& r) {
    auto& out = r.out;
    appendf(out, "trifectad %s (protocol %s), pid %s\n", o["daemon_version"].text().c_str(),
            o["protocol"].text().c_str(), o["pid"].text().c_str());
    appendf(out, "  socket       %s%s\n", o["socket"].text().c_str(),
            o["socket_activated"].boolean() ? " (systemd)" : "");
    appendf(out, "  uptime       %.1f s\n", o["uptime_s"].number());
    appendf(out, "  memory       %s RSS\n", format_bytes(o["rss_bytes"].number()).c_str());
    appendf(out, "  connections  %.0f, in flight %.0f, served %.0f, workers %.0f\n",
            o["connections"].number(), o["in_flight"].number(), o["requests_total"].number(),
            o["workers"].number());
    const double idle = o["idle_timeout_s"].number();
    if (idle > 0)
      appendf(out, "  idle exit    after %.0f s without clients\n", idle);
    else
      appendf(out, "  idle exit    never\n");
    const Field t = o["telemetry"];
    appendf(out, "  telemetry    %s: %.0f events written, %.0f dropped, %.0f write errors\n",
            t["enabled"].boolean() ? "on" : "off", t["lines_written"].number(),
            t["dropped"].number(), t["write_errors"].number());
    const auto segs = o["segments"].items();
    appendf(out, "  segments     %zu open\n", segs.size());
    for (const auto& s : segs) {
      const auto lsp = s.find("lsp_state");
      const auto mem = s.find("memory_bytes");
      appendf(out, "    %s  index %-8s lsp %-11s %6.0f requests  %10s  %s\n",
              s["segment_id"].text().c_str(), s["state"].text().c_str(),
              lsp ? lsp->text().c_str() : "-", s["requests"].number(),
              mem ? format_bytes(mem->number()).c_str() : "-", s["root"].text().c_str());
    }
  });
}

Rendered render_skeleton(const json::value& result) {
  return guarded(result, [](const Field& o, Rendered& r) {
    appendf(r.out, "# %s — %s, %s → %s (%.1f%%)%s\n", o["file"].text().c_str(),
            o["status"].text().c_str(), format_bytes(o["source_bytes"].number()).c_str(),
            format_bytes(o["skeleton_bytes"].number()).c_str(),
            100.0 * o["reduction_ratio"].number(), o["cache_hit"].boolean() ? ", cached" : "");
    if (const auto text = o.find("rendered")) r.out += text->text();
  });
}

Rendered render_symbols(const json::value& result) {
  return guarded(result, [](const Field& o, Rendered& r) {
    appendf(r.out, "# %s — %s symbols (%s)\n", o["file"].text().c_str(), o["count"].text().c_str(),
            o["status"].text().c_str());
    for (const auto& d : o["symbols"].items()) {
      appendf(r.out, "%5s-%-5s %-8s %s%s%s\n", d["line"].text().c_str(),
              d["end_line"].text().c_str(), d["kind"].text().c_str(),
              d["async"].boolean() ? "async " : "", d["qualname"].text().c_str(),
              d["signature"].text().c_str());
    }
  });
}

Rendered render_resolution(const json::value& result) {
  return guarded(result, [](const Field& m, Rendered& r) {
    const std::string qualname = m["qualname"].string();
    appendf(r.out, "%s:%s-%s  %s  %s%s\n", m["file"].text().c_str(), m["line"].text().c_str(),
            m["end_line"].text().c_str(), m["kind"].text().c_str(),
            qualname.empty() ? m["module"].text().c_str() : qualname.c_str(),
            m["signature"].text().c_str());
    if (const auto d = m.find("docstring"); d && !d->is_null()) {
      const std::string doc = d->string();
      if (!doc.empty()) appendf(r.out, "  %s\n", doc.c_str());
    }
  });
}

Rendered render_lsp_status(const json::value& result) {
  return guarded(result, [](const Field& o, Rendered& r) {
    auto& out = r.out;
    if (!o["available"].boolean()) {
      appendf(out, "language server: unavailable — %s\n", o["reason"].text().c_str());
      return;
    }
    appendf(out, "language server: %s %s (%s)\n", o["binary_name"].text().c_str(),
            o["version"].text().c_str(), o["source"].text().c_str());
    appendf(out, "  binary    %s\n", o["binary"].text().c_str());
    appendf(out, "  state     %s (%.1f s; %s)\n", o["state"].text().c_str(),
            o["state_ms"].number() / 1000.0, o["reason"].text().c_str());
    appendf(out, "  pid       %s, up %.1f s, %s RSS, %s restarts\n", o["pid"].text().c_str(),
            o["uptime_ms"].number() / 1000.0, format_bytes(o["rss_bytes"].number()).c_str(),
            o["restarts"].text().c_str());
    appendf(out, "  requests  %s pending, %s timeouts, %s open documents\n",
            o["pending"].text().c_str(), o["timeouts"].text().c_str(),
            o["open_documents"].text().c_str());
  });
}

Rendered render_build(const json::value& result) {
  return guarded(result, [](const Field& o, Rendered& r) {
    const Field st = o["status"];
    if (const auto b = o.find("build"); b && !b->is_null() && !b->members().empty()) {
      const Field& x = *b;
      appendf(r.out,
              "indexed %s files (%s skipped), %s chunks in %.2f s — %s start, %s files read, %s "
              "reused, %s threads\n",
              x["files_indexed"].text().c_str(), x["files_skipped"].text().c_str(),
              x["chunks"].text().c_str(), x["elapsed_ms"].number() / 1000.0,
              x["warm"].boolean() ? "warm" : "cold", x["files_read"].text().c_str(),
              x["files_reused"].text().c_str(), x["threads"].text().c_str());
    }
    appendf(r.out, "generation %s, pack_state %s, source %s, watching %s\n",
            st["generation"].text().c_str(), st["pack_state"].text().substr(0, 12).c_str(),
            st["source"].text().c_str(), st["watching"].boolean() ? "yes" : "no");
  });
}

Rendered render_ctx_status(const json::value& result) {
  return guarded(result, [](const Field& o, Rendered& r) {
    auto& out = r.out;
    const Field st = o["status"];
    appendf(out, "index %s, generation %s, last update %s\n", o["index"]["state"].text().c_str(),
            st["generation"].text().c_str(), st["last_update"].text().c_str());
    appendf(out, "  files     %s indexed, %s skipped, %s non-UTF-8 (decoded with replacement)\n",
            st["files_indexed"].text().c_str(), st["files_skipped"].text().c_str(),
            st["files_non_utf8"].text().c_str());
    for (const auto& [k, v] : st["skip_reasons"].members())
      appendf(out, "            %s: %s\n", k.c_str(), v.text().c_str());
    appendf(out, "  chunks    %s (%s terms), ~%s in memory\n", st["chunks"].text().c_str(),
            st["terms"].text().c_str(), format_bytes(st["memory_bytes"].number()).c_str());
    appendf(out, "  pack      %s (%s listing), watching %s, %s rescans\n",
            st["pack_state"].text().c_str(), st["source"].text().c_str(),
            st["watching"].boolean() ? "yes" : "no", st["rescans"].text().c_str());
    if (const auto w = o["index"].find("watcher_error")) {
      appendf(out, "  watcher   unavailable: %s (changes on disk are not seen until `ctx build --rebuild`)\n",
              w->text().c_str());
    }
    for (const auto& f : st["skipped"].items()) {
      const auto why = f.find("skip_reason");
      appendf(out, "  skipped   %s (%s)\n", f["path"].text().c_str(),
              why ? why->text().c_str() : "?");
    }
  });
}

Rendered render_search(const json::value& result, const std::string& path_glob) {
  return guarded(result, [&](const Field& o, Rendered& r) {
    auto& out = r.out;
    const auto hits = o["hits"].items();
    if (hits.empty()) {
      appendf(out, "no results: %s\n", o["reason"].text().c_str());
      if (const auto d = o.find("did_you_mean")) {
        const auto words = d->items();
        if (!words.empty()) {
          appendf(out, "did you mean:");
          for (const auto& w : words) appendf(out, " %s", w.text().c_str());
          appendf(out, "\n");
        }
      }
      // A bare directory name (`db`, `pkg/db`) matches no file: the glob must reach inside it.
      if (!path_glob.empty() && path_glob.back() != '/' &&
          path_glob.find_first_of("*?[") == std::string::npos) {
        appendf(out,
                "hint: --path is a glob over file paths; for everything under a directory use "
                "--path '%s/**' (or '%s/')\n",
                path_glob.c_str(), path_glob.c_str());
      }
      return;
    }
    int rank = 0;
    for (const auto& x : hits) {
      appendf(out, "%2d. %-50s %s:%s-%s  score %.2f  ~%s tok\n", ++rank, x["id"].text().c_str(),
              x["path"].text().c_str(), x["start_line"].text().c_str(),
              x["end_line"].text().c_str(), x["score"].number(), x["tokens"].text().c_str());
      appendf(out, "    %s\n", x["preview"].text().c_str());
      if (const auto ex = x.find("explain")) {
        for (const auto& t : ex->items()) {
          appendf(out, "      %-16s %-5s tf=%s  +%.3f\n", t["term"].text().c_str(),
                  t["field"].text().c_str(), t["tf"].text().c_str(), t["score"].number());
        }
      }
    }
  });
}

Rendered render_get(const json::value& result) {
  return guarded(result, [](const Field& o, Rendered& r) {
    auto& out = r.out;
    for (const auto& c : o["chunks"].items()) {
      std::string flags = c["mode"].text();
      if (const auto d = c.find("degraded_from")) flags += ", degraded from " + d->text();
      if (c["partial"].boolean()) flags += ", partial";
      if (const auto st = c.find("stale"); st && st->boolean()) flags += ", STALE";
      appendf(out, "── %s  (%s:%s-%s, %s) ──\n", c["id"].text().c_str(), c["path"].text().c_str(),
              c["start_line"].text().c_str(), c["end_line"].text().c_str(), flags.c_str());
      std::string text = c["text"].string();
      if (!text.empty() && text.back() != '\n') text += '\n';
      out += text;
    }
    for (const auto& e : o["errors"].items()) {
      appendf(r.err, "trifecta: %s: %s: %s\n", e["target"].text().c_str(), e["code"].text().c_str(),
              e["message"].text().c_str());
      r.failed = true;
    }
    appendf(out, "── used %s of %s tokens; stop: %s", o["used"].text().c_str(),
            o["budget"].text().c_str(), o["stop_reason"].text().c_str());
    if (const auto n = o.find("next"); n && !n->is_null())
      appendf(out, "; continue with --cursor %s", n->text().c_str());
    appendf(out, "\n");
  });
}

Rendered render_validate(const json::value& result) {
  return guarded(result, [](const Field& o, Rendered& r) {
    if (o["ok"].boolean()) {
      appendf(r.out, "index is fresh: %s files checked, generation %s\n",
              o["checked"].text().c_str(), o["generation"].text().c_str());
      return;
    }
    for (const char* k : {"stale", "missing", "new"}) {
      for (const auto& p : o[k].items()) appendf(r.out, "%-8s %s\n", k, p.text().c_str());
    }
  });
}

Rendered render_locations(const json::value& result, const fs::path& segment) {
  return guarded(result, [&](const Field& o, Rendered& r) {
    backend_line(r.out, o);
    const auto locs = o["locations"].items();
    if (locs.empty()) {
      const auto reason = o.find("reason");
      appendf(r.out, "no locations%s\n", reason ? (": " + reason->text()).c_str() : "");
    }
    for (const auto& x : locs) {
      const std::string path = x["path"].string();
      const fs::path file = x["external"].boolean() ? fs::path(path) : segment / path;
      const std::int64_t line = x["line"].integer();
      appendf(r.out, "%s:%lld:%s  %s\n", path.c_str(), static_cast<long long>(line),
              x["column"].text().c_str(), line_of(file, line).c_str());
    }
    if (const auto t = o.find("truncated"); t && t->boolean()) appendf(r.out, "(truncated)\n");
  });
}

Rendered render_hover(const json::value& result) {
  return guarded(result, [](const Field& o, Rendered& r) {
    backend_line(r.out, o);
    const Field contents = o["contents"];
    if (contents.is_null()) {
      const auto reason = o.find("reason");
      appendf(r.out, "nothing to show%s\n", reason ? (": " + reason->text()).c_str() : "");
      return;
    }
    appendf(r.out, "%s\n", contents.text().c_str());
  });
}

Rendered render_diagnostics(const json::value& result) {
  return guarded(result, [](const Field& o, Rendered& r) {
    backend_line(r.out, o);
    const std::string file = o["file"].text();
    const auto ds = o["diagnostics"].items();
    if (ds.empty()) appendf(r.out, "%s: no diagnostics\n", file.c_str());
    for (const auto& x : ds) {
      const std::string code = x["code"].text();
      appendf(r.out, "%s:%s:%s: %s: %s%s\n", file.c_str(), x["line"].text().c_str(),
              x["column"].text().c_str(), x["severity"].text().c_str(), x["message"].text().c_str(),
              code.empty() ? "" : (" [" + code + "]").c_str());
    }
  });
}

std::string render_error(const proto::RpcError& e) {
  std::string out;
  const json::value data(e.data);
  const Field d(data, "error.data");
  std::string name = "ERROR";
  try {
    if (const auto n = d.find("name")) name = n->text();
  } catch (const MalformedReply&) {
  }
  appendf(out, "trifecta: %s: %s\n", name.c_str(), e.message.c_str());
  if (e.code == proto::ErrorCode::kVersionMismatch)
    appendf(out, "hint: run `trifecta daemon restart`\n");
  // The details are a courtesy: a malformed list is left out, the error line above stands.
  try {
    std::string extra;
    if (const auto c = d.find("candidates")) {
      const auto items = c->items();
      if (!items.empty()) appendf(extra, "candidates:\n");
      for (const auto& m : items) {
        appendf(extra, "  %s:%s-%s  %s %s%s\n", m["file"].text().c_str(), m["line"].text().c_str(),
                m["end_line"].text().c_str(), m["kind"].text().c_str(),
                m["qualname"].text().c_str(), m["conditional"].boolean() ? "  (conditional)" : "");
      }
    }
    if (const auto sg = d.find("suggestions")) {
      const auto items = sg->items();
      if (!items.empty()) appendf(extra, "did you mean:\n");
      for (const auto& v : items) appendf(extra, "  %s\n", v.text().c_str());
    }
    out += extra;
  } catch (const MalformedReply& m) {
    appendf(out, "trifecta: (error details unreadable: %s)\n", m.what());
  }
  return out;
}

}  // namespace trifecta::client
