// trifecta — the command-line client. Parses arguments, talks to trifectad, prints.
//
// Exit codes: 0 ok · 1 the request failed (error reply) · 2 usage · 3 daemon unavailable.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <fstream>
#include <functional>
#include <thread>

#include "connection.hpp"
#include "trifecta/proto/protocol.hpp"
#include "util/json_text.hpp"

namespace tc = trifecta::client;
namespace proto = trifecta::proto;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnavailable = 3;

struct Globals {
  bool json_out = false;
  bool no_spawn = false;
  std::string socket;
  double timeout_s = 30;
};

int report(const tc::ClientError& e) {
  std::fprintf(stderr, "trifecta: %s\n", e.message.c_str());
  if (!e.hint.empty()) std::fprintf(stderr, "hint: %s\n", e.hint.c_str());
  return e.code == tc::ClientErrc::kProtocol ? kExitFailed : kExitUnavailable;
}

std::string fmt_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (b >= 1024 && u < 3) { b /= 1024; ++u; }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

double num(const json::value& v) { return v.is_number() ? v.to_number<double>() : 0.0; }
std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : trifecta::core::to_json_text(v); }

class Session {
 public:
  explicit Session(const Globals& g) : g_(g) {}

  // Connect (auto-starting unless --no-spawn) and say hello. Returns an exit code on failure.
  std::optional<int> open(bool allow_spawn = true) {
    tc::ClientError err;
    tc::ConnectOptions o;
    o.socket = socket_path();
    o.spawn = allow_spawn && !g_.no_spawn;
    auto c = tc::connect_or_spawn(o, &err);
    if (!c) return report(err);
    conn_.emplace(std::move(*c));
    json::object hello{{"client_name", "trifecta-cli"}, {"client_version", proto::kVersion},
                       {"protocol", proto::protocol_version()}};
    auto r = call(proto::method::kHello, hello);
    if (!r) return last_rc_;
    if (r->error) return print_error(*r->error);
    if (const auto* pid = r->result->as_object().if_contains("pid"); pid && pid->is_int64()) daemon_pid_ = pid->get_int64();
    return std::nullopt;
  }

  std::optional<proto::Response> call(std::string_view method, const json::object& params) {
    tc::ClientError err;
    const std::int64_t id = next_id_++;
    auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long>(g_.timeout_s * 1000));
    if (!conn_->send_line(proto::encode_request(id, method, params), &err)) {
      // The daemon may have refused the connection (another uid, too many connections) and closed
      // it before our request went out: its error line is still readable, and says why.
      tc::ClientError ignored;
      if (auto line = conn_->read_line(Clock::now() + std::chrono::milliseconds(500), &ignored)) {
        if (auto resp = proto::parse_response(*line); resp && resp->error) {
          last_line_ = std::move(*line);
          return resp;
        }
      }
      last_rc_ = report(err);
      return std::nullopt;
    }
    for (;;) {
      auto line = conn_->read_line(deadline, &err);
      if (!line) {
        last_rc_ = report(err);
        return std::nullopt;
      }
      // Notifications (progress) carry a method and no id.
      boost::system::error_code jec;
      const json::value jv = json::parse(*line, jec);
      if (!jec && jv.is_object() && jv.as_object().contains("method") && !jv.as_object().contains("id")) {
        if (on_notification_) {
          const auto* p = jv.as_object().if_contains("params");
          on_notification_(std::string(jv.at("method").as_string()), p && p->is_object() ? p->as_object() : json::object{});
        }
        continue;
      }
      std::string why;
      auto resp = proto::parse_response(*line, &why);
      if (!resp) {
        last_rc_ = report({tc::ClientErrc::kProtocol, "unreadable reply from trifectad: " + why, ""});
        return std::nullopt;
      }
      // An error with a null id is about the connection itself (refused peer, oversized line).
      if ((resp->id.is_int64() && resp->id.get_int64() == id) || (resp->id.is_null() && resp->error)) {
        last_line_ = std::move(*line);
        return resp;
      }
    }
  }

  int print_error(const proto::RpcError& e) {
    if (g_.json_out) {
      std::cout << last_line_ << '\n';
    } else {
      const auto* name = e.data.if_contains("name");
      std::fprintf(stderr, "trifecta: %s: %s\n", name ? str(*name).c_str() : "ERROR", e.message.c_str());
      if (e.code == proto::ErrorCode::kVersionMismatch) std::fprintf(stderr, "hint: run `trifecta daemon restart`\n");
      if (const auto* c = e.data.if_contains("candidates"); c && c->is_array() && !c->as_array().empty()) {
        std::fprintf(stderr, "candidates:\n");
        for (const auto& m : c->as_array()) {
          const auto& o = m.as_object();
          std::fprintf(stderr, "  %s:%s-%s  %s %s%s\n", str(o.at("file")).c_str(), str(o.at("line")).c_str(),
                       str(o.at("end_line")).c_str(), str(o.at("kind")).c_str(), str(o.at("qualname")).c_str(),
                       o.at("conditional").as_bool() ? "  (conditional)" : "");
        }
      }
      if (const auto* sg = e.data.if_contains("suggestions"); sg && sg->is_array() && !sg->as_array().empty()) {
        std::fprintf(stderr, "did you mean:\n");
        for (const auto& v : sg->as_array()) std::fprintf(stderr, "  %s\n", str(v).c_str());
      }
    }
    return kExitFailed;
  }

  // Run one method and print it: --json prints the reply line as is, else `text(result)`.
  template <class TextFn>
  int run(std::string_view method, const json::object& params, TextFn text, bool allow_spawn = true) {
    if (auto rc = open(allow_spawn)) return *rc;
    auto r = call(method, params);
    if (!r) return last_rc_;
    if (r->error) return print_error(*r->error);
    if (g_.json_out) std::cout << last_line_ << '\n';
    else text(*r->result);
    return kExitOk;
  }

  std::filesystem::path socket_path() const {
    return g_.socket.empty() ? tc::default_socket_path() : std::filesystem::path(g_.socket);
  }
  int last_rc() const { return last_rc_; }
  std::int64_t daemon_pid() const { return daemon_pid_; }
  void on_notification(std::function<void(const std::string&, const json::object&)> fn) { on_notification_ = std::move(fn); }

 private:
  const Globals& g_;
  std::optional<tc::Connection> conn_;
  std::int64_t next_id_ = 1;
  int last_rc_ = kExitFailed;
  std::string last_line_;
  std::int64_t daemon_pid_ = -1;
  std::function<void(const std::string&, const json::object&)> on_notification_;
};

void print_status(const json::value& v) {
  const auto& o = v.as_object();
  std::printf("trifectad %s (protocol %s), pid %s\n", str(o.at("daemon_version")).c_str(), str(o.at("protocol")).c_str(),
              str(o.at("pid")).c_str());
  std::printf("  socket       %s%s\n", str(o.at("socket")).c_str(), o.at("socket_activated").as_bool() ? " (systemd)" : "");
  std::printf("  uptime       %.1f s\n", num(o.at("uptime_s")));
  std::printf("  memory       %s RSS\n", fmt_bytes(num(o.at("rss_bytes"))).c_str());
  std::printf("  connections  %.0f, in flight %.0f, served %.0f, workers %.0f\n", num(o.at("connections")),
              num(o.at("in_flight")), num(o.at("requests_total")), num(o.at("workers")));
  const double idle = num(o.at("idle_timeout_s"));
  if (idle > 0) std::printf("  idle exit    after %.0f s without clients\n", idle);
  else std::printf("  idle exit    never\n");
  const auto& t = o.at("telemetry").as_object();
  std::printf("  telemetry    %s: %.0f events written, %.0f dropped, %.0f write errors\n",
              t.at("enabled").as_bool() ? "on" : "off", num(t.at("lines_written")), num(t.at("dropped")),
              num(t.at("write_errors")));
  const auto& segs = o.at("segments").as_array();
  std::printf("  segments     %zu open\n", segs.size());
  for (const auto& s : segs) {
    const auto& so = s.as_object();
    const std::string mem = so.contains("memory_bytes") ? fmt_bytes(num(so.at("memory_bytes"))) : std::string("-");
    std::printf("    %s  index %-8s lsp %-11s %6.0f requests  %10s  %s\n", str(so.at("segment_id")).c_str(),
                str(so.at("state")).c_str(), so.contains("lsp_state") ? str(so.at("lsp_state")).c_str() : "-",
                num(so.at("requests")), mem.c_str(), str(so.at("root")).c_str());
  }
}

// True while `pid` is a live (non-zombie) process.
bool process_alive(std::int64_t pid) {
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return false;
  char state = '?';
  const int n = std::fscanf(f, "%*d (%*[^)]) %c", &state);
  std::fclose(f);
  return n == 1 && state != 'Z' && state != 'X';
}

// Wait until the daemon process has exited (so its lock is free for a successor), or, when its
// pid is unknown, until nothing answers on the socket.
bool wait_gone(const std::filesystem::path& socket, std::int64_t pid, std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    tc::ClientError err;
    const bool gone = pid > 0 ? !process_alive(pid) : !tc::Connection::try_connect(socket, &err);
    if (gone) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int daemon_stop(const Globals& g) {
  Session s(g);
  const auto sock = s.socket_path();
  tc::ClientError err;
  if (!tc::Connection::try_connect(sock, &err)) {
    if (g.json_out) std::cout << R"({"stopped":false,"running":false})" << '\n';
    else std::printf("trifectad is not running\n");
    return kExitOk;
  }
  if (auto rc = s.open(false)) return *rc;
  auto r = s.call(proto::method::kShutdown, {});
  if (!r) return s.last_rc();
  if (r->error) return s.print_error(*r->error);
  if (!wait_gone(sock, s.daemon_pid(), std::chrono::seconds(15))) {
    std::fprintf(stderr, "trifecta: trifectad accepted shutdown but is still running after 15 s\n");
    return kExitFailed;
  }
  if (g.json_out) std::cout << R"({"stopped":true,"running":false})" << '\n';
  else std::printf("trifectad stopped\n");
  return kExitOk;
}

int daemon_start(const Globals& g) {
  Session s(g);
  const auto sock = s.socket_path();
  tc::ClientError err;
  const bool was_running = tc::Connection::try_connect(sock, &err).has_value();
  return s.run(proto::method::kPing, {}, [&](const json::value& v) {
    std::printf("trifectad %s (pid %s) on %s\n", was_running ? "already running" : "started",
                str(v.as_object().at("pid")).c_str(), sock.c_str());
  });
}

// The segment a command works on: --segment, else the enclosing git work tree, else the cwd.
std::string resolve_segment(const std::string& flag) {
  std::error_code ec;
  if (!flag.empty()) return std::filesystem::absolute(flag, ec).lexically_normal().string();
  const auto cwd = std::filesystem::current_path(ec);
  for (auto dir = cwd; !dir.empty(); dir = dir.parent_path()) {
    if (std::filesystem::exists(dir / ".git", ec)) return dir.string();
    if (dir == dir.root_path()) break;
  }
  return cwd.string();
}

// A file argument: a sym:// URI as is; a path that exists relative to the cwd made absolute (the
// daemon checks it lies inside the segment); anything else is taken as segment-relative.
std::string resolve_path_arg(const std::string& arg) {
  if (arg.rfind("sym://", 0) == 0) return arg;
  std::error_code ec;
  const std::filesystem::path p(arg);
  if (!p.is_absolute() && std::filesystem::exists(p, ec)) return std::filesystem::absolute(p, ec).lexically_normal().string();
  return arg;
}

void print_skeleton(const json::value& v) {
  const auto& o = v.as_object();
  std::printf("# %s — %s, %s → %s (%.1f%%)%s\n", str(o.at("file")).c_str(), str(o.at("status")).c_str(),
              fmt_bytes(num(o.at("source_bytes"))).c_str(), fmt_bytes(num(o.at("skeleton_bytes"))).c_str(),
              100.0 * num(o.at("reduction_ratio")), o.at("cache_hit").as_bool() ? ", cached" : "");
  if (const auto* r = o.if_contains("rendered")) std::fputs(str(*r).c_str(), stdout);
}

void print_symbols(const json::value& v) {
  const auto& o = v.as_object();
  std::printf("# %s — %s symbols (%s)\n", str(o.at("file")).c_str(), str(o.at("count")).c_str(), str(o.at("status")).c_str());
  for (const auto& s : o.at("symbols").as_array()) {
    const auto& d = s.as_object();
    std::printf("%5s-%-5s %-8s %s%s%s\n", str(d.at("line")).c_str(), str(d.at("end_line")).c_str(),
                str(d.at("kind")).c_str(), d.at("async").as_bool() ? "async " : "", str(d.at("qualname")).c_str(),
                str(d.at("signature")).c_str());
  }
}

void print_resolution(const json::value& v) {
  const auto& m = v.as_object();
  std::printf("%s:%s-%s  %s  %s%s\n", str(m.at("file")).c_str(), str(m.at("line")).c_str(), str(m.at("end_line")).c_str(),
              str(m.at("kind")).c_str(), m.at("qualname").as_string().empty() ? str(m.at("module")).c_str() : str(m.at("qualname")).c_str(),
              str(m.at("signature")).c_str());
  if (const auto* d = m.if_contains("docstring"); d && !d->as_string().empty()) std::printf("  %s\n", str(*d).c_str());
}

void print_lsp_status(const json::value& v) {
  const auto& o = v.as_object();
  if (!o.at("available").as_bool()) {
    std::printf("language server: unavailable — %s\n", str(o.at("reason")).c_str());
    return;
  }
  std::printf("language server: %s %s (%s)\n", str(o.at("binary_name")).c_str(), str(o.at("version")).c_str(),
              str(o.at("source")).c_str());
  std::printf("  binary    %s\n", str(o.at("binary")).c_str());
  std::printf("  state     %s (%.1f s; %s)\n", str(o.at("state")).c_str(), num(o.at("state_ms")) / 1000.0,
              str(o.at("reason")).c_str());
  std::printf("  pid       %s, up %.1f s, %s RSS, %s restarts\n", str(o.at("pid")).c_str(), num(o.at("uptime_ms")) / 1000.0,
              fmt_bytes(num(o.at("rss_bytes"))).c_str(), str(o.at("restarts")).c_str());
  std::printf("  requests  %s pending, %s timeouts, %s open documents\n", str(o.at("pending")).c_str(),
              str(o.at("timeouts")).c_str(), str(o.at("open_documents")).c_str());
}

// A progress bar on stderr for `ctx.progress` notifications (only when stderr is a terminal).
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  ~ProgressBar() {
    if (drawn_) std::fputs("\r\033[K", stderr);
  }
  void update(double done, double total) {
    if (!enabled_ || total <= 0) return;
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    const int width = 30;
    const int filled = static_cast<int>(width * std::min(1.0, done / total));
    std::fprintf(stderr, "\r[%.*s%.*s] %.0f/%.0f files  %.0f files/s", filled, "==============================",
                 width - filled, "                              ", done, total, secs > 0 ? done / secs : 0.0);
    drawn_ = true;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point start_;
};

void print_build(const json::value& v) {
  const auto& o = v.as_object();
  const auto& st = o.at("status").as_object();
  if (const auto* b = o.if_contains("build"); b && b->is_object() && !b->as_object().empty()) {
    const auto& r = b->as_object();
    std::printf("indexed %s files (%s skipped), %s chunks in %.2f s — %s start, %s files read, %s reused, %s threads\n",
                str(r.at("files_indexed")).c_str(), str(r.at("files_skipped")).c_str(), str(r.at("chunks")).c_str(),
                num(r.at("elapsed_ms")) / 1000.0, r.at("warm").as_bool() ? "warm" : "cold", str(r.at("files_read")).c_str(),
                str(r.at("files_reused")).c_str(), str(r.at("threads")).c_str());
  }
  std::printf("generation %s, pack_state %s, source %s, watching %s\n", str(st.at("generation")).c_str(),
              str(st.at("pack_state")).substr(0, 12).c_str(), str(st.at("source")).c_str(),
              st.at("watching").as_bool() ? "yes" : "no");
}

void print_ctx_status(const json::value& v) {
  const auto& o = v.as_object();
  const auto& st = o.at("status").as_object();
  std::printf("index %s, generation %s, last update %s\n", str(o.at("index").at("state")).c_str(),
              str(st.at("generation")).c_str(), str(st.at("last_update")).c_str());
  std::printf("  files     %s indexed, %s skipped, %s non-UTF-8 (decoded with replacement)\n", str(st.at("files_indexed")).c_str(),
              str(st.at("files_skipped")).c_str(), str(st.at("files_non_utf8")).c_str());
  for (const auto& kv : st.at("skip_reasons").as_object()) std::printf("            %s: %s\n", std::string(kv.key()).c_str(), str(kv.value()).c_str());
  std::printf("  chunks    %s (%s terms), ~%s in memory\n", str(st.at("chunks")).c_str(), str(st.at("terms")).c_str(),
              fmt_bytes(num(st.at("memory_bytes"))).c_str());
  std::printf("  pack      %s (%s listing), watching %s, %s rescans\n", str(st.at("pack_state")).c_str(), str(st.at("source")).c_str(),
              st.at("watching").as_bool() ? "yes" : "no", str(st.at("rescans")).c_str());
  if (const auto* w = o.at("index").as_object().if_contains("watcher_error")) {
    std::printf("  watcher   unavailable: %s (changes on disk are not seen until `ctx build --rebuild`)\n", str(*w).c_str());
  }
  for (const auto& f : st.at("skipped").as_array()) {
    const auto* why = f.as_object().if_contains("skip_reason");
    std::printf("  skipped   %s (%s)\n", str(f.at("path")).c_str(), why ? str(*why).c_str() : "?");
  }
}

void print_search(const json::value& v) {
  const auto& o = v.as_object();
  const auto& hits = o.at("hits").as_array();
  if (hits.empty()) {
    std::printf("no results: %s\n", str(o.at("reason")).c_str());
    if (const auto* d = o.if_contains("did_you_mean"); d && !d->as_array().empty()) {
      std::printf("did you mean:");
      for (const auto& w : d->as_array()) std::printf(" %s", str(w).c_str());
      std::printf("\n");
    }
    return;
  }
  int rank = 0;
  for (const auto& h : hits) {
    const auto& x = h.as_object();
    std::printf("%2d. %-50s %s:%s-%s  score %.2f  ~%s tok\n", ++rank, str(x.at("id")).c_str(),
                str(x.at("path")).c_str(), str(x.at("start_line")).c_str(), str(x.at("end_line")).c_str(), num(x.at("score")),
                str(x.at("tokens")).c_str());
    std::printf("    %s\n", str(x.at("preview")).c_str());
    if (const auto* ex = x.if_contains("explain")) {
      for (const auto& t : ex->as_array()) {
        std::printf("      %-16s %-5s tf=%s  +%.3f\n", str(t.at("term")).c_str(), str(t.at("field")).c_str(),
                    str(t.at("tf")).c_str(), num(t.at("score")));
      }
    }
  }
}

void print_get(const json::value& v) {
  const auto& o = v.as_object();
  for (const auto& p : o.at("chunks").as_array()) {
    const auto& c = p.as_object();
    std::string flags = str(c.at("mode"));
    if (const auto* d = c.if_contains("degraded_from")) flags += ", degraded from " + str(*d);
    if (c.at("partial").as_bool()) flags += ", partial";
    if (const auto* st = c.if_contains("stale"); st && st->as_bool()) flags += ", STALE";
    std::printf("── %s  (%s:%s-%s, %s) ──\n", str(c.at("id")).c_str(), str(c.at("path")).c_str(), str(c.at("start_line")).c_str(),
                str(c.at("end_line")).c_str(), flags.c_str());
    std::string text = str(c.at("text"));
    if (!text.empty() && text.back() != '\n') text += '\n';
    std::fputs(text.c_str(), stdout);
  }
  for (const auto& e : o.at("errors").as_array()) {
    std::fprintf(stderr, "trifecta: %s: %s: %s\n", str(e.at("target")).c_str(), str(e.at("code")).c_str(), str(e.at("message")).c_str());
  }
  std::printf("── used %s of %s tokens; stop: %s", str(o.at("used")).c_str(), str(o.at("budget")).c_str(),
              str(o.at("stop_reason")).c_str());
  if (const auto* n = o.if_contains("next")) std::printf("; continue with --cursor %s", str(*n).c_str());
  std::printf("\n");
}

void print_validate(const json::value& v) {
  const auto& o = v.as_object();
  if (o.at("ok").as_bool()) {
    std::printf("index is fresh: %s files checked, generation %s\n", str(o.at("checked")).c_str(), str(o.at("generation")).c_str());
    return;
  }
  for (const char* k : {"stale", "missing", "new"}) {
    for (const auto& p : o.at(k).as_array()) std::printf("%-8s %s\n", k, str(p).c_str());
  }
}

// "file:line:col" → params {path, line, column}; a sym:// URI → {uri}.
bool position_params(const std::string& arg, json::object& p) {
  if (arg.rfind("sym://", 0) == 0) {
    p["uri"] = arg;
    return true;
  }
  const auto c2 = arg.rfind(':');
  const auto c1 = c2 == std::string::npos ? std::string::npos : arg.rfind(':', c2 - 1);
  if (c1 == std::string::npos) return false;
  try {
    p["path"] = resolve_path_arg(arg.substr(0, c1));
    p["line"] = std::stoll(arg.substr(c1 + 1, c2 - c1 - 1));
    p["column"] = std::stoll(arg.substr(c2 + 1));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

std::string line_of(const std::filesystem::path& file, long long line) {
  std::ifstream in(file);
  std::string l;
  for (long long i = 1; i <= line && std::getline(in, l); ++i) {
  }
  const auto b = l.find_first_not_of(" \t");
  return b == std::string::npos ? std::string() : l.substr(b, 120);
}

void print_backend(const json::object& o) {
  std::printf("# backend %s (lsp %s)%s%s\n", str(o.at("backend")).c_str(), str(o.at("lsp_state")).c_str(),
              o.contains("rule") ? (", rule " + str(o.at("rule"))).c_str() : "",
              o.contains("fallback_reason") ? (" — " + str(o.at("fallback_reason"))).c_str() : "");
}

void print_locations(const json::value& v, const std::string& segment) {
  const auto& o = v.as_object();
  print_backend(o);
  const auto& locs = o.at("locations").as_array();
  if (locs.empty()) std::printf("no locations%s\n", o.contains("reason") ? (": " + str(o.at("reason"))).c_str() : "");
  for (const auto& l : locs) {
    const auto& x = l.as_object();
    const std::string path = str(x.at("path"));
    const std::filesystem::path file = x.at("external").as_bool() ? std::filesystem::path(path) : std::filesystem::path(segment) / path;
    std::printf("%s:%s:%s  %s\n", path.c_str(), str(x.at("line")).c_str(), str(x.at("column")).c_str(),
                line_of(file, x.at("line").to_number<long long>()).c_str());
  }
  if (o.contains("truncated") && o.at("truncated").as_bool()) std::printf("(truncated)\n");
}

void print_hover(const json::value& v) {
  const auto& o = v.as_object();
  print_backend(o);
  if (o.at("contents").is_null()) {
    std::printf("nothing to show%s\n", o.contains("reason") ? (": " + str(o.at("reason"))).c_str() : "");
    return;
  }
  std::printf("%s\n", str(o.at("contents")).c_str());
}

void print_diagnostics(const json::value& v) {
  const auto& o = v.as_object();
  print_backend(o);
  const auto& ds = o.at("diagnostics").as_array();
  if (ds.empty()) std::printf("%s: no diagnostics\n", str(o.at("file")).c_str());
  for (const auto& d : ds) {
    const auto& x = d.as_object();
    std::printf("%s:%s:%s: %s: %s%s\n", str(o.at("file")).c_str(), str(x.at("line")).c_str(), str(x.at("column")).c_str(),
                str(x.at("severity")).c_str(), str(x.at("message")).c_str(),
                x.at("code").as_string().empty() ? "" : (" [" + str(x.at("code")) + "]").c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Globals g;
  CLI::App app{"trifecta — code context for coding agents and editors"};
  app.set_version_flag("--version", std::string("trifecta ") + proto::kVersion + " (protocol " + proto::protocol_version() + ")");
  app.require_subcommand(1);
  app.add_flag("--json", g.json_out, "Print the daemon's JSON reply as is");
  app.add_option("--socket", g.socket, "Daemon socket (default: $TRIFECTA_SOCKET or $XDG_RUNTIME_DIR/trifecta/trifectad.sock)");
  app.add_flag("--no-spawn", g.no_spawn, "Do not auto-start trifectad when it is not running");
  app.add_option("--timeout", g.timeout_s, "Seconds to wait for a reply")->check(CLI::PositiveNumber);

  auto* ping = app.add_subcommand("ping", "Check that trifectad answers");
  auto* status = app.add_subcommand("status", "Show the daemon's state");
  auto* daemon = app.add_subcommand("daemon", "Manage trifectad");
  daemon->require_subcommand(1);
  auto* d_start = daemon->add_subcommand("start", "Start trifectad if it is not running");
  auto* d_stop = daemon->add_subcommand("stop", "Stop trifectad gracefully");
  auto* d_status = daemon->add_subcommand("status", "Show the daemon's state (never starts it)");
  auto* d_restart = daemon->add_subcommand("restart", "Stop, then start trifectad");

  std::string segment_flag, target;
  bool line_numbers = false;
  auto add_segment = [&](CLI::App* c) {
    c->add_option("-s,--segment", segment_flag, "Segment root (default: the enclosing git work tree, else the cwd)");
  };
  auto* ast_cmd = app.add_subcommand("ast", "Python AST skeletons and symbols");
  ast_cmd->require_subcommand(1);
  auto* ast_skel = ast_cmd->add_subcommand("skeleton", "The outline of a Python file (signatures, docstrings, `...` bodies)");
  ast_skel->add_option("target", target, "File (relative to the cwd or the segment) or sym://python/<module>")->required();
  ast_skel->add_flag("-n,--line-numbers", line_numbers, "Append the line range of every definition");
  add_segment(ast_skel);
  auto* ast_syms = ast_cmd->add_subcommand("symbols", "Every definition of a Python file with its line range");
  ast_syms->add_option("target", target, "File or sym://python/<module>")->required();
  add_segment(ast_syms);
  auto* ctx_cmd = app.add_subcommand("ctx", "The context index: build, search, get, status, validate");
  ctx_cmd->require_subcommand(1);
  bool rebuild = false, explain = false;
  std::vector<std::string> words, targets;
  std::int64_t limit = 10, budget = 2000, max_chunks = 20;
  std::string path_glob, kind, mode = "excerpt", query, cursor;
  auto* ctx_build = ctx_cmd->add_subcommand("build", "Index the segment (progress on stderr)");
  ctx_build->add_flag("--rebuild", rebuild, "Ignore the persisted index and build cold");
  add_segment(ctx_build);
  auto* ctx_search = ctx_cmd->add_subcommand("search", "Ranked chunks for a query");
  ctx_search->add_option("query", words, "Query words")->required();
  ctx_search->add_option("-n,--limit", limit, "How many hits")->check(CLI::Range(1, 1000));
  ctx_search->add_option("--path", path_glob, "Only paths matching this glob");
  ctx_search->add_option("--kind", kind, "code | doc | other")->check(CLI::IsMember({"code", "doc", "other"}));
  ctx_search->add_flag("--explain", explain, "Show per-field term contributions");
  add_segment(ctx_search);
  auto* ctx_get = ctx_cmd->add_subcommand("get", "Chunks by id or sym:// URI under a token budget");
  ctx_get->add_option("targets", targets, "Chunk ids (from search) or sym:// URIs")->required();
  ctx_get->add_option("-m,--mode", mode, "skeleton | excerpt | raw")->check(CLI::IsMember({"skeleton", "excerpt", "raw"}));
  ctx_get->add_option("-b,--budget", budget, "Token budget");
  ctx_get->add_option("--max-chunks", max_chunks, "At most this many chunks");
  ctx_get->add_option("-q,--query", query, "Focus excerpts on these words");
  ctx_get->add_option("--cursor", cursor, "Continue a previous answer");
  add_segment(ctx_get);
  auto* ctx_status = ctx_cmd->add_subcommand("status", "Index generation, files indexed/skipped, chunks, pack_state");
  add_segment(ctx_status);
  auto* ctx_validate = ctx_cmd->add_subcommand("validate", "Compare the index with the disk");
  add_segment(ctx_validate);

  std::int64_t wait_ms = 0;
  bool no_decl = false;
  auto add_pos_cmd = [&](const char* name, const char* help) {
    auto* c = app.add_subcommand(name, help);
    c->add_option("position", target, "file:line:col (1-based; columns in characters) or a sym:// URI")->required();
    c->add_option("--wait", wait_ms, "Wait up to this many ms for Pyright to be READY (else the AST answers)");
    add_segment(c);
    return c;
  };
  auto* def_cmd = add_pos_cmd("def", "Go to definition (Pyright when READY, else the AST)");
  auto* hover_cmd = add_pos_cmd("hover", "Signature and docstring of the name at a position");
  auto* refs_cmd = add_pos_cmd("refs", "References to the name at a position");
  refs_cmd->add_flag("--no-declaration", no_decl, "Leave out the declaration itself");
  auto* diag_cmd = app.add_subcommand("diag", "Diagnostics of a file (Pyright when READY, else syntax errors from the AST)");
  diag_cmd->add_option("file", target, "File")->required();
  diag_cmd->add_option("--wait", wait_ms, "Wait up to this many ms for Pyright to be READY");
  add_segment(diag_cmd);

  auto* lsp_cmd = app.add_subcommand("lsp", "The segment's language server (Pyright)");
  lsp_cmd->require_subcommand(1);
  auto* lsp_status = lsp_cmd->add_subcommand("status", "Binary, version, state (COLD/WARMING/READY/FAILED), pid, memory");
  add_segment(lsp_status);
  auto* sym = app.add_subcommand("sym", "Resolve a sym:// URI, e.g. sym://python/json.decoder/JSONDecoder.decode");
  sym->add_option("uri", target, "The sym:// URI")->required();
  add_segment(sym);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  Session s(g);
  if (*ping) {
    const auto t0 = Clock::now();
    return s.run(proto::method::kPing, {}, [&](const json::value& v) {
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      std::printf("pong from trifectad pid %s in %.2f ms\n", str(v.as_object().at("pid")).c_str(), ms);
    });
  }
  if (*status) return s.run(proto::method::kStatus, {}, print_status);
  if (*d_status) return s.run(proto::method::kStatus, {}, print_status, /*allow_spawn=*/false);
  if (*ast_skel) {
    json::object p{{"segment", resolve_segment(segment_flag)}, {"path", resolve_path_arg(target)},
                   {"line_numbers", line_numbers}, {"format", g.json_out ? "both" : "text"}};
    return s.run(proto::method::kAstSkeleton, p, print_skeleton);
  }
  if (*ast_syms) {
    return s.run(proto::method::kAstSymbols, {{"segment", resolve_segment(segment_flag)}, {"path", resolve_path_arg(target)}},
                 print_symbols);
  }
  if (*sym) return s.run(proto::method::kSymResolve, {{"segment", resolve_segment(segment_flag)}, {"uri", target}}, print_resolution);
  if (*ctx_build) {
    ProgressBar bar(!g.json_out && ::isatty(2));
    s.on_notification([&](const std::string& m, const json::object& p) {
      if (m == "ctx.progress") bar.update(num(p.at("done")), num(p.at("total")));
    });
    return s.run("ctx.build", {{"segment", resolve_segment(segment_flag)}, {"rebuild", rebuild}}, [&](const json::value& v) {
      bar.update(0, 0);
      print_build(v);
    });
  }
  if (*ctx_search) {
    std::string q;
    for (const auto& w : words) q += (q.empty() ? "" : " ") + w;
    json::object p{{"segment", resolve_segment(segment_flag)}, {"query", q}, {"limit", limit}, {"explain", explain}};
    if (!path_glob.empty()) p["path"] = path_glob;
    if (!kind.empty()) p["kind"] = kind;
    return s.run("ctx.search", p, print_search);
  }
  if (*ctx_get) {
    json::array ids, uris;
    for (const auto& t : targets) (t.rfind("sym://", 0) == 0 ? uris : ids).emplace_back(t);
    json::object p{{"segment", resolve_segment(segment_flag)}, {"ids", ids}, {"uris", uris}, {"mode", mode},
                   {"budget", budget}, {"max_chunks", max_chunks}};
    if (!query.empty()) p["query"] = query;
    if (!cursor.empty()) p["cursor"] = cursor;
    return s.run("ctx.get", p, print_get);
  }
  if (*ctx_status) return s.run("ctx.status", {{"segment", resolve_segment(segment_flag)}}, print_ctx_status);
  if (*ctx_validate) return s.run("ctx.validate", {{"segment", resolve_segment(segment_flag)}}, print_validate);
  for (auto [cmd, method] : {std::pair{def_cmd, "lsp.definition"}, std::pair{hover_cmd, "lsp.hover"},
                              std::pair{refs_cmd, "lsp.references"}}) {
    if (!*cmd) continue;
    const std::string seg = resolve_segment(segment_flag);
    json::object p{{"segment", seg}, {"wait_ready_ms", wait_ms}};
    if (!position_params(target, p)) {
      std::fprintf(stderr, "trifecta: expected file:line:col or a sym:// URI, got '%s'\n", target.c_str());
      return kExitUsage;
    }
    if (cmd == refs_cmd) p["include_declaration"] = !no_decl;
    if (cmd == hover_cmd) return s.run(method, p, print_hover);
    return s.run(method, p, [&](const json::value& v) { print_locations(v, seg); });
  }
  if (*diag_cmd) {
    return s.run("lsp.diagnostics", {{"segment", resolve_segment(segment_flag)}, {"path", resolve_path_arg(target)}, {"wait_ready_ms", wait_ms}},
                 print_diagnostics);
  }
  if (*lsp_status) return s.run("lsp.status", {{"segment", resolve_segment(segment_flag)}}, print_lsp_status);
  if (*d_start) return daemon_start(g);
  if (*d_stop) return daemon_stop(g);
  if (*d_restart) {
    if (const int rc = daemon_stop(g); rc != kExitOk) return rc;
    return daemon_start(g);
  }
  return kExitUsage;
}
