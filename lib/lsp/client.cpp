// The LSP client and Pyright supervisor. This is the only translation unit of lib/lsp that sees
// Boost.Asio; everything it decides is delegated to the pure parts (framing, text, state,
// process) so those stay unit-testable without a server.
#include "lsp/client.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "lsp/framing.hpp"
#include "lsp/process.hpp"
#include "text/text.hpp"
#include "util/clock.hpp"
#include "util/paths.hpp"

namespace trifecta::core::lsp {

using text::column_from_utf16;
using text::line_text;
using text::path_to_uri;
using text::uri_to_path;
using text::utf16_from_column;

namespace asio = boost::asio;
using error_code = boost::system::error_code;

namespace {

constexpr std::size_t kMaxDocumentBytes = std::size_t{16} << 20;
constexpr std::size_t kTextCacheEntries = 64;
constexpr std::size_t kStderrTailLines = 16;
constexpr std::size_t kStderrMaxLine = 1024;

Result<std::string> read_whole_file(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec) return make_error(Errc::kNotFound, "cannot stat " + p.string() + ": " + ec.message());
  if (size > kMaxDocumentBytes)
    return make_error(Errc::kTooLarge, p.string() + " is larger than the document limit");
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(Errc::kIo, "cannot open " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// File texts needed to convert UTF-16 columns of reply locations (a target in typeshed, a file
// that is not open). Keyed by path; an entry is reused only while mtime and size are unchanged.
class TextCache {
 public:
  const std::string* get(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return nullptr;
    const std::string key = p.string();
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.mtime_ns == mtime_ns(st) && it->second.size == st.st_size) {
      it->second.tick = ++tick_;
      return &it->second.text;
    }
    auto text = read_whole_file(p);
    if (!text) return nullptr;
    if (it == entries_.end() && entries_.size() >= kTextCacheEntries) evict();
    Entry& e = entries_[key];
    e = Entry{std::move(*text), mtime_ns(st), st.st_size, ++tick_};
    return &e.text;
  }

 private:
  struct Entry {
    std::string text;
    std::int64_t mtime_ns = 0;
    off_t size = 0;
    std::uint64_t tick = 0;
  };
  static std::int64_t mtime_ns(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  }
  void evict() {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->second.tick < oldest->second.tick) oldest = it;
    entries_.erase(oldest);
  }
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t tick_ = 0;
};

std::string hover_text(const json::value& contents, std::string& kind) {
  if (contents.is_string()) {
    kind = "markdown";
    return std::string(contents.as_string());
  }
  if (contents.is_object()) {
    const auto& o = contents.as_object();
    const auto* value = o.if_contains("value");
    std::string v = value && value->is_string() ? std::string(value->as_string()) : std::string();
    if (const auto* k = o.if_contains("kind"); k && k->is_string()) {
      kind = std::string(k->as_string());
      return v;
    }
    kind = "markdown";  // MarkedString {language, value}
    const auto* lang = o.if_contains("language");
    return "```" + (lang && lang->is_string() ? std::string(lang->as_string()) : std::string()) +
           "\n" + v + "\n```";
  }
  if (contents.is_array()) {
    std::string out;
    for (const auto& part : contents.as_array()) {
      if (!out.empty()) out += "\n\n";
      out += hover_text(part, kind);
    }
    kind = "markdown";
    return out;
  }
  return {};
}

std::string severity_name(std::int64_t s) {
  switch (s) {
    case 1: return "error";
    case 2: return "warning";
    case 3: return "information";
    case 4: return "hint";
    default: return "error";
  }
}

std::int64_t int_or(const json::value* v, std::int64_t fallback) {
  if (!v) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
  return fallback;
}

bool same_place(const Location& a, const Location& b) {
  return a.path == b.path && a.external == b.external && a.line == b.line && a.column == b.column &&
         a.end_line == b.end_line && a.end_column == b.end_column;
}

// One entry per caller (callee) and one site per place, in the server's order. Pyright answers a
// call through a union of classes that share the method once per member: the same caller with
// the same fromRange twice ("2 calls" at one place).
std::vector<CallHierarchyCall> merge_calls(std::vector<CallHierarchyCall> calls) {
  std::vector<CallHierarchyCall> out;
  out.reserve(calls.size());
  for (auto& c : calls) {
    auto same = std::find_if(out.begin(), out.end(), [&](const CallHierarchyCall& o) {
      return o.item.name == c.item.name && same_place(o.item.selection, c.item.selection);
    });
    if (same == out.end()) {
      same = out.insert(out.end(), CallHierarchyCall{std::move(c.item), {}});
    }
    for (auto& site : c.sites)
      if (std::none_of(same->sites.begin(), same->sites.end(),
                       [&](const Location& s) { return same_place(s, site); }))
        same->sites.push_back(std::move(site));
  }
  return out;
}

std::string method_short(std::string_view method) {
  const auto slash = method.rfind('/');
  return std::string(slash == std::string_view::npos ? method : method.substr(slash + 1));
}

}  // namespace

// --------------------------------------------------------------------------------------------
// One running server process. Shared with the async handlers that touch its descriptors and
// buffers, so those stay valid until every handler has run, even after teardown.
struct Instance {
  Instance(asio::io_context& io, const ChildProcess& c, std::size_t max_message)
      : pid(c.pid),
        in(io, c.stdin_fd),
        out(io, c.stdout_fd),
        err(io, c.stderr_fd),
        decoder(max_message),
        warmup_timer(io),
        rss_timer(io) {}

  pid_t pid;
  asio::posix::stream_descriptor in, out, err;
  FrameDecoder decoder;
  std::array<char, 64 * 1024> rbuf{};
  std::array<char, 4 * 1024> ebuf{};
  std::string eline;
  std::deque<std::string> wq;
  std::size_t wq_bytes = 0;
  bool writing = false;
  SteadyClock::time_point spawned_at = SteadyClock::now();
  bool initialized = false;
  bool stopping = false;  // graceful shutdown in progress: stdout EOF is expected
  SteadyClock::time_point stop_started{};
  bool dead = false;      // torn down; every handler of this instance returns at once
  asio::steady_timer warmup_timer, rss_timer;
};

struct Pending {
  std::string method;
  std::function<void(Result<json::value>)> done;
  std::shared_ptr<asio::steady_timer> timer;
  bool internal = false;  // initialize/shutdown: not counted as a wedged-server signal
};

struct Document {
  std::string text;
  std::int64_t version = 1;
  std::uint64_t opened_gen = 0;  // server instance that has it open (0 = none)
  std::uint64_t last_used = 0;
};

struct StoredDiagnostics {
  json::array items;
  std::optional<std::int64_t> version;
};

struct DiagWaiter {
  std::string uri;
  fs::path file;
  std::function<void(Result<json::array>)> done;
  std::shared_ptr<asio::steady_timer> timer;
};

struct ReadyWaiter {
  std::function<void(State)> done;
  std::shared_ptr<asio::steady_timer> timer;
};

class Client::Impl : public std::enable_shared_from_this<Impl> {
 public:
  // Memory cap (Client::shed): the idle shutdown's graceful stop, so requests warm it again.
  void shed(std::string reason) {
    if (!inst_ || inst_->stopping) return;
    stop({}, "memory cap: " + reason, false);
  }

  Impl(asio::io_context& io, ClientOptions o)
      : io_(io),
        opts_(std::move(o)),
        sm_([this](const Transition& t) { on_transition(t); }),
        backoff_(opts_.restart),
        restart_timer_(io),
        idle_timer_(io) {
    if (opts_.language_id.empty())
      throw std::invalid_argument("lsp::ClientOptions::language_id is required (the didOpen languageId)");
    std::lock_guard lock(status_mu_);
    status_.binary = opts_.server.path.string();
    status_.binary_name = opts_.server.name;
    status_.version = opts_.server.version;
  }

  // ---- entry points (io thread) -------------------------------------------------------------

  void start(fs::path first) {
    if (closed_) return;
    started_ = true;
    first_file_.clear();
    if (!first.empty()) {
      auto abs = resolve_in_root(opts_.segment_root, first.string());
      if (abs) first_file_ = *abs;
      else spdlog::warn("lsp: first Python file ignored: {}", abs.error().message);
    }
    touch();
    if (inst_) return;  // already warming or ready
    restart_timer_.cancel();
    spawn("start");
  }

  // `explicit_stop`: the owner asked (no on-demand warm-up afterwards, until start()); otherwise
  // it is the idle shutdown and the next request warms the server again.
  void stop(std::function<void()> done, std::string reason, bool explicit_stop) {
    if (explicit_stop) started_ = false;
    restart_timer_.cancel();
    idle_timer_.cancel();
    if (done) stop_waiters_.push_back(std::move(done));
    if (!inst_) {
      sm_.stopped(reason, SteadyClock::now());
      finish_stop();
      return;
    }
    auto inst = inst_;
    if (inst->stopping) return;  // a stop is in progress; `done` joins it
    inst->stopping = true;
    inst->stop_started = SteadyClock::now();
    inst->warmup_timer.cancel();
    inst->rss_timer.cancel();
    fail_requests(make_error(Errc::kUnavailable, "lsp server stopping: " + reason));
    // Callbacks stored in pending_/diag_waiters_ hold the Impl weakly: a strong reference would
    // be a cycle (Impl → table → callback → Impl) that outlives an io_context that stops running.
    auto after_shutdown = [weak = weak_from_this(), inst, reason](Result<json::value>) {
      auto self = weak.lock();
      if (!self || inst->dead) return;
      self->notify(inst, "exit", json::value(nullptr));
      self->shutdown_escalate(inst, reason, 0);
    };
    if (inst->initialized) {
      send_request(inst, "shutdown", json::value(nullptr), opts_.shutdown_grace, after_shutdown, true);
    } else {
      after_shutdown(json::value(nullptr));
    }
  }

  void restart(std::string reason) {
    if (closed_) return;
    restart_timer_.cancel();
    backoff_.reset();  // asked for: the automatic backoff starts afresh
    const bool was_stopping = inst_ && inst_->stopping;
    if (inst_) {
      auto inst = inst_;
      inst_.reset();
      sm_.failed("restart requested: " + reason, SteadyClock::now());
      teardown(inst, "restart requested: " + reason);
    }
    started_ = true;
    spawn("restart requested: " + reason);
    if (was_stopping) finish_stop();  // the restart superseded a graceful stop: release its waiters
  }

  void when_ready(milliseconds wait, std::function<void(State)> done) {
    // A server stopped for idleness or memory (not explicitly) warms again for whoever asks; a
    // request waiting for it is a use (the memory cap sheds the least recently used first).
    touch();
    if (sm_.state() == State::kCold && started_ && !inst_ && !closed_) spawn("on demand");
    if (sm_.state() == State::kReady || wait.count() <= 0) {
      done(sm_.state());
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io_, wait);
    const std::uint64_t wid = next_waiter_id_++;
    ready_waiters_.emplace(wid, ReadyWaiter{std::move(done), timer});
    auto self = shared_from_this();
    timer->async_wait([self, wid](error_code ec) {
      auto it = self->ready_waiters_.find(wid);
      if (ec || it == self->ready_waiters_.end()) return;  // completed by READY, or destroyed
      auto cb = std::move(it->second.done);
      self->ready_waiters_.erase(it);
      cb(self->sm_.state());
    });
  }

  void did_open(fs::path file, std::optional<std::string> text) {
    touch();
    auto abs = resolve_in_root(opts_.segment_root, file.string());
    if (!abs) return spdlog::warn("lsp: didOpen refused: {}", abs.error().message);
    if (!text) {
      auto t = read_whole_file(*abs);
      if (!t) return spdlog::warn("lsp: didOpen skipped: {}", t.error().message);
      text = std::move(*t);
    }
    open_document(*abs, std::move(*text));
  }

  void did_change(fs::path file, std::optional<std::string> text) { did_open(std::move(file), std::move(text)); }

  void did_close(fs::path file) {
    touch();
    auto abs = resolve_in_root(opts_.segment_root, file.string());
    if (!abs) return;
    close_document(abs->string());
  }

  template <class T, class Convert>
  void position_request(std::string method, fs::path file, Position pos, json::object extra,
                        Convert convert, Callback<T> done) {
    touch();
    auto abs = resolve_in_root(opts_.segment_root, file.string());
    if (!abs) return done(abs.error());
    if (auto e = gate()) return done(*e);
    auto params = position_params(*abs, pos);
    if (!params) return done(params.error());
    for (auto& kv : extra) params->emplace(kv.key(), kv.value());
    Stopwatch sw;
    send_request(inst_, method, std::move(*params), opts_.request_timeout,
                 [weak = weak_from_this(), method, path = *abs, pos, sw, convert, done](Result<json::value> r) {
                   auto self = weak.lock();
                   if (!self) return;
                   if (!r) {
                     self->record_request(method, path, pos, false, nullptr, sw.elapsed_ms(), &r.error());
                     return done(r.error());
                   }
                   Result<T> out = convert(*self, *r);
                   const Location* target = nullptr;
                   bool resolved = out.ok();
                   if constexpr (std::is_same_v<T, std::vector<Location>>) {
                     if (out.ok() && !out->empty()) target = &out->front();
                     resolved = out.ok() && !out->empty();
                   } else if constexpr (std::is_same_v<T, std::optional<HoverInfo>>) {
                     resolved = out.ok() && out->has_value();
                   }
                   self->record_request(method, path, pos, resolved, target, sw.elapsed_ms(), nullptr);
                   done(std::move(out));
                 },
                 false);
  }

  void definition(fs::path file, Position pos, Callback<std::vector<Location>> done) {
    position_request<std::vector<Location>>(
        "textDocument/definition", std::move(file), pos, {},
        [](Impl& self, const json::value& v) -> Result<std::vector<Location>> { return self.locations(v); },
        std::move(done));
  }

  void references(fs::path file, Position pos, bool include_decl, Callback<std::vector<Location>> done) {
    json::object extra{{"context", json::object{{"includeDeclaration", include_decl}}}};
    position_request<std::vector<Location>>(
        "textDocument/references", std::move(file), pos, std::move(extra),
        [](Impl& self, const json::value& v) -> Result<std::vector<Location>> { return self.locations(v); },
        std::move(done));
  }

  void hover(fs::path file, Position pos, Callback<std::optional<HoverInfo>> done) {
    position_request<std::optional<HoverInfo>>(
        "textDocument/hover", file, pos, {},
        [file](Impl& self, const json::value& v) -> Result<std::optional<HoverInfo>> {
          if (!v.is_object()) return std::optional<HoverInfo>{};
          const auto& o = v.as_object();
          const auto* contents = o.if_contains("contents");
          if (!contents) return std::optional<HoverInfo>{};
          HoverInfo h;
          h.contents = hover_text(*contents, h.kind);
          if (h.contents.empty()) return std::optional<HoverInfo>{};
          if (const auto* range = o.if_contains("range"); range && range->is_object()) {
            auto abs = resolve_in_root(self.opts_.segment_root, file.string());
            if (abs) h.range = self.make_location(*abs, range->as_object());
          }
          return std::optional<HoverInfo>{std::move(h)};
        },
        std::move(done));
  }

  std::optional<CallHierarchyItem> call_item(const json::value* v) {
    if (!v || !v->is_object()) return std::nullopt;
    const auto& o = v->as_object();
    const auto* uri = o.if_contains("uri");
    const auto* range = o.if_contains("range");
    const auto* sel = o.if_contains("selectionRange");
    if (!uri || !uri->is_string() || !range || !range->is_object()) return std::nullopt;
    auto path = uri_to_path(uri->as_string());
    if (!path) return std::nullopt;
    CallHierarchyItem item;
    if (const auto* n = o.if_contains("name"); n && n->is_string()) item.name = n->as_string();
    if (const auto* d = o.if_contains("detail"); d && d->is_string()) item.detail = d->as_string();
    item.kind = static_cast<int>(int_or(o.if_contains("kind"), 0));
    item.range = make_location(*path, range->as_object());
    item.selection = sel && sel->is_object() ? make_location(*path, sel->as_object()) : item.range;
    item.raw = *v;
    return item;
  }

  void prepare_call_hierarchy(fs::path file, Position pos, Callback<std::vector<CallHierarchyItem>> done) {
    position_request<std::vector<CallHierarchyItem>>(
        "textDocument/prepareCallHierarchy", std::move(file), pos, {},
        [](Impl& self, const json::value& v) -> Result<std::vector<CallHierarchyItem>> {
          std::vector<CallHierarchyItem> out;
          if (v.is_array())
            for (const auto& x : v.as_array())
              if (auto item = self.call_item(&x)) out.push_back(std::move(*item));
          return out;
        },
        std::move(done));
  }

  void hierarchy_calls(bool incoming, const CallHierarchyItem& item,
                       Callback<std::vector<CallHierarchyCall>> done) {
    touch();
    if (auto e = gate()) return done(*e);
    const char* method = incoming ? "callHierarchy/incomingCalls" : "callHierarchy/outgoingCalls";
    std::optional<fs::path> item_path;
    if (item.raw.is_object())
      if (const auto* u = item.raw.as_object().if_contains("uri"); u && u->is_string())
        if (auto p = uri_to_path(u->as_string())) item_path = *p;
    send_request(
        inst_, method, json::object{{"item", item.raw}}, opts_.request_timeout,
        [weak = weak_from_this(), incoming, item_path, done](Result<json::value> r) {
          auto self = weak.lock();
          if (!self) return;
          if (!r) return done(r.error());
          std::vector<CallHierarchyCall> out;
          if (!r->is_array()) return done(std::move(out));
          for (const auto& x : r->as_array()) {
            if (!x.is_object()) continue;
            const auto& o = x.as_object();
            auto other = self->call_item(o.if_contains(incoming ? "from" : "to"));
            if (!other) continue;
            CallHierarchyCall call;
            // fromRanges are in the caller's file: the other item's (incoming) or ours.
            std::optional<fs::path> in = item_path;
            if (incoming) {
              if (auto p = uri_to_path(other->raw.as_object().at("uri").as_string())) in = *p;
            }
            if (const auto* fr = o.if_contains("fromRanges"); fr && fr->is_array() && in)
              for (const auto& rg : fr->as_array())
                if (rg.is_object()) call.sites.push_back(self->make_location(*in, rg.as_object()));
            call.item = std::move(*other);
            out.push_back(std::move(call));
          }
          done(merge_calls(std::move(out)));
        },
        false);
  }

  void workspace_symbol(std::string query, Callback<std::vector<WorkspaceSymbol>> done) {
    touch();
    if (auto e = gate()) return done(*e);
    send_request(
        inst_, "workspace/symbol", json::object{{"query", query}}, opts_.request_timeout,
        [weak = weak_from_this(), done](Result<json::value> r) {
          auto self = weak.lock();
          if (!self) return;
          if (!r) return done(r.error());
          std::vector<WorkspaceSymbol> out;
          if (r->is_array()) {
            for (const auto& x : r->as_array()) {
              if (!x.is_object()) continue;
              const auto& o = x.as_object();
              auto locs = self->locations(o.if_contains("location") ? o.at("location") : json::value());
              if (!locs || locs->empty()) continue;
              WorkspaceSymbol s;
              if (const auto* n = o.if_contains("name"); n && n->is_string()) s.name = n->as_string();
              if (const auto* c = o.if_contains("containerName"); c && c->is_string())
                s.container = c->as_string();
              s.kind = static_cast<int>(int_or(o.if_contains("kind"), 0));
              s.location = std::move(locs->front());
              out.push_back(std::move(s));
            }
          }
          done(std::move(out));
        },
        false);
  }

  void diagnostics(fs::path file, milliseconds wait, Callback<std::vector<Diagnostic>> done) {
    touch();
    auto abs = resolve_in_root(opts_.segment_root, file.string());
    if (!abs) return done(abs.error());
    if (auto e = gate()) return done(*e);
    const std::string uri = path_to_uri(*abs);
    auto self = shared_from_this();
    Stopwatch sw;
    Position pos{0, 0};
    auto finish = [weak = weak_from_this(), path = *abs, done, sw, pos](Result<json::array> r) {
      auto strong = weak.lock();
      if (!strong) return;
      if (!r) {
        strong->record_request("textDocument/diagnostics", path, pos, false, nullptr, sw.elapsed_ms(), &r.error());
        return done(r.error());
      }
      auto out = strong->convert_diagnostics(path, *r);
      strong->record_request("textDocument/diagnostics", path, pos, true, nullptr, sw.elapsed_ms(), nullptr);
      done(std::move(out));
    };
    auto doc = docs_.find(abs->string());
    if (doc == docs_.end()) {
      auto text = read_whole_file(*abs);
      if (!text) return finish(text.error());
      open_document(*abs, std::move(*text));
    } else if (auto stored = fresh_diagnostics(uri)) {
      return finish(*stored);
    }
    if (diag_waiters_.size() + pending_.size() >= opts_.max_pending)
      return finish(make_error(Errc::kUnavailable, "too many requests in flight"));
    auto timer = std::make_shared<asio::steady_timer>(io_, wait);
    const std::uint64_t wid = next_waiter_id_++;
    diag_waiters_.emplace(wid, DiagWaiter{uri, *abs, finish, timer});
    sync_pending();
    timer->async_wait([self, wid, wait](error_code ec) {
      auto it = self->diag_waiters_.find(wid);
      if (ec || it == self->diag_waiters_.end()) return;
      auto cb = std::move(it->second.done);
      self->diag_waiters_.erase(it);
      self->sync_pending();
      cb(make_error(Errc::kTimeout, "no diagnostics for the file within " + std::to_string(wait.count()) + " ms"));
    });
  }

  void raw_request(std::string method, json::value params, Callback<json::value> done,
                   std::optional<milliseconds> timeout) {
    touch();
    if (auto e = gate()) return done(*e);
    send_request(inst_, method, std::move(params), timeout.value_or(opts_.request_timeout), std::move(done), false);
  }

  Status status() const {
    std::lock_guard lock(status_mu_);
    Status s = status_;
    s.state = state_.load();
    const auto now = SteadyClock::now();
    if (s.pid > 0) {
      s.uptime_ms = std::chrono::duration<double, std::milli>(now - spawned_at_).count();
      if (auto rss = read_rss_bytes(s.pid)) s.rss_bytes = *rss;
    }
    s.state_ms = std::chrono::duration<double, std::milli>(now - state_since_).count();
    if (s.state == State::kFailed && next_retry_at_ != SteadyClock::time_point{}) {
      s.next_retry_ms = std::max(0.0, std::chrono::duration<double, std::milli>(next_retry_at_ - now).count());
    }
    s.indexing = indexing_locked();
    if (s.indexing) {
      s.indexing_ms = std::chrono::duration<double, std::milli>(now - indexing_since_).count();
      s.indexing_title = progress_last_title_;
    }
    const SteadyClock::time_point last{SteadyClock::duration(last_activity_ns_.load(std::memory_order_relaxed))};
    s.idle_ms = std::chrono::duration<double, std::milli>(now - last).count();
    return s;
  }

  State state() const { return state_.load(std::memory_order_acquire); }

  // Synchronous and thread-agnostic: kills the group and reaps it. See ~Client.
  void close(bool on_io_thread) {
    closed_ = true;
    const pid_t pid = pid_.exchange(-1);
    if (pid > 0) {
      signal_group(pid, SIGKILL);
      terminate_group(pid, milliseconds(0));
    }
    if (!on_io_thread) {
      auto self = shared_from_this();
      asio::post(io_, [self] { self->close(true); });
      return;
    }
    if (inst_) {
      // A spawn that raced with a destructor on another thread is not in pid_ yet.
      if (!inst_->dead) terminate_group(inst_->pid, milliseconds(0));
      inst_->dead = true;
      error_code ec;
      inst_->in.close(ec);
      inst_->out.close(ec);
      inst_->err.close(ec);
      inst_->warmup_timer.cancel();
      inst_->rss_timer.cancel();
      inst_.reset();
    }
    restart_timer_.cancel();
    idle_timer_.cancel();
    fail_requests(make_error(Errc::kUnavailable, "lsp client destroyed"));
    for (auto& [wid, w] : ready_waiters_) w.timer->cancel();
    ready_waiters_.clear();
  }

 private:
  // ---- lifecycle -----------------------------------------------------------------------------

  void spawn(const std::string& reason) {
    if (closed_) return;
    {
      std::lock_guard lock(status_mu_);
      next_retry_at_ = {};  // no retry pending while a process runs
    }
    std::string first_uri;
    if (!first_file_.empty()) {
      // The warm-up probe must be readable, or READY could never be reached.
      auto text = docs_.count(first_file_.string()) ? Result<std::string>(std::string())
                                                    : read_whole_file(first_file_);
      if (!text) {
        spdlog::warn("lsp: first Python file unreadable, warming up without it: {}", text.error().message);
      } else {
        if (!docs_.count(first_file_.string())) {
          Document d;
          d.text = std::move(*text);
          d.last_used = ++doc_tick_;
          docs_.emplace(first_file_.string(), std::move(d));
        }
        first_uri = path_to_uri(first_file_);
      }
    }
    std::vector<std::string> argv{opts_.server.path.string()};
    argv.insert(argv.end(), opts_.server_args.begin(), opts_.server_args.end());
    auto child = spawn_child(argv, opts_.segment_root);
    if (!child) {
      // The seed's shape: the binary's name in args, the state it leads to in x.lsp_state.
      (void)opts_.telemetry.event("lsp.spawn", json::object{{"pyright_binary", opts_.server.name}},
                                  json::object{{"subprocess_pid", -1},
                                               {"status", "error"},
                                               {"error", errc_name(child.error().code)}},
                                  0.0, {}, json::object{{"lsp_state", state_name(State::kFailed)}});
      spdlog::error("lsp: cannot start {}: {}", opts_.server.path.string(), child.error().message);
      sm_.failed("spawn error: " + child.error().message, SteadyClock::now());
      schedule_restart();
      return;
    }
    opts_.telemetry.incr("lsp_spawn_count");
    (void)opts_.telemetry.event("lsp.spawn", json::object{{"pyright_binary", opts_.server.name}},
                                json::object{{"subprocess_pid", child->pid}, {"status", "ok"}}, 0.0, {},
                                json::object{{"lsp_state", state_name(State::kWarming)}});
    spdlog::info("lsp: spawned {} {} (pid {}) for segment {}", opts_.server.name, opts_.server.version,
                 child->pid, opts_.telemetry.segment_id());
    auto inst = std::make_shared<Instance>(io_, *child, opts_.max_message_bytes);
    inst_ = inst;
    ++gen_;
    pid_ = child->pid;
    {
      std::lock_guard lock(status_mu_);
      status_.pid = child->pid;
      spawned_at_ = inst->spawned_at;
      status_.time_to_ready_ms = 0;
      status_.analysis_done_ms = 0;
      status_.workspace_files = -1;
      progress_.clear();
      progress_last_title_ = opts_.workspace_scanned ? "scanning the workspace" : "";
      indexing_since_ = inst->spawned_at;
    }
    read_stdout(inst);
    read_stderr(inst);

    auto self = shared_from_this();
    // The warm-up timer owns the bound; the initialize request gets a little more so the FAILED
    // reason names the warm-up rather than the request.
    send_request(inst, "initialize", initialize_params(), opts_.ready_timeout + milliseconds(1000),
                 [weak = weak_from_this(), inst](Result<json::value> r) {
                   if (auto strong = weak.lock()) strong->on_initialized(inst, std::move(r));
                 },
                 true);
    sm_.spawned(first_uri, reason, SteadyClock::now());
    if (inst->dead) return;

    inst->warmup_timer.expires_after(opts_.ready_timeout);
    inst->warmup_timer.async_wait([self, inst](error_code ec) {
      if (ec || inst->dead || self->sm_.state() != State::kWarming) return;
      self->fail(inst, "warm-up exceeded " + std::to_string(self->opts_.ready_timeout.count()) + " ms");
    });
    arm_rss(inst);
    arm_idle();
  }

  json::value initialize_params() const {
    const std::string root_uri = path_to_uri(opts_.segment_root);
    json::object caps{
        {"general", json::object{{"positionEncodings", json::array{"utf-16"}}}},
        {"workspace", json::object{{"configuration", true},
                                   {"workspaceFolders", true},
                                   {"didChangeConfiguration", json::object{{"dynamicRegistration", true}}}}},
        {"textDocument",
         json::object{{"synchronization", json::object{{"dynamicRegistration", false}, {"didSave", false}}},
                      {"publishDiagnostics", json::object{{"versionSupport", true}}},
                      {"hover", json::object{{"contentFormat", json::array{"markdown", "plaintext"}}}},
                      {"definition", json::object{{"linkSupport", true}}},
                      {"references", json::object{}}}},
        {"window", json::object{{"workDoneProgress", true}}}};
    json::object params{{"processId", static_cast<std::int64_t>(::getpid())},
                        {"clientInfo", json::object{{"name", "trifecta"}}},
                        {"rootUri", root_uri},
                        {"rootPath", opts_.segment_root.string()},
                        {"workspaceFolders",
                         json::array{json::object{{"uri", root_uri},
                                                  {"name", opts_.segment_root.filename().string()}}}},
                        {"capabilities", std::move(caps)},
                        {"initializationOptions", json::object{}}};
    return params;
  }

  void on_initialized(const std::shared_ptr<Instance>& inst, Result<json::value> r) {
    if (inst->dead || inst != inst_ || inst->stopping) return;
    if (!r) {
      fail(inst, r.error().message);  // "initialize failed: <code> <message>" or its timeout
      return;
    }
    inst->initialized = true;
    notify(inst, "initialized", json::object{});
    sm_.initialized(SteadyClock::now());
    // (Re)open every tracked document on this instance, the warm-up probe first.
    if (!first_file_.empty()) {
      auto it = docs_.find(first_file_.string());
      if (it != docs_.end()) {
        send_did_open(inst, it->first, it->second);
        sm_.first_document_opened(SteadyClock::now());
      }
    }
    for (auto& [path, doc] : docs_) {
      if (doc.opened_gen != gen_) send_did_open(inst, path, doc);
    }
  }

  void on_transition(const Transition& t) {
    state_.store(t.to, std::memory_order_release);
    {
      std::lock_guard lock(status_mu_);
      status_.state = t.to;
      status_.reason = t.reason;
      state_since_ = t.at;
      if (t.to == State::kReady)
        status_.time_to_ready_ms = std::chrono::duration<double, std::milli>(t.at - spawned_at_).count();
    }
    spdlog::info("lsp: {} -> {} ({})", state_name(t.from), state_name(t.to), t.reason);
    record_transition(opts_.telemetry, t);
    if (opts_.on_state_change) opts_.on_state_change(t);
    if (t.to == State::kReady) {
      auto waiters = std::move(ready_waiters_);
      ready_waiters_.clear();
      for (auto& [wid, w] : waiters) {
        w.timer->cancel();
        w.done(State::kReady);
      }
    }
  }

  // Crash, protocol error, wedged server, memory guard, failed warm-up: FAILED, then restart.
  void fail(const std::shared_ptr<Instance>& inst, const std::string& reason) {
    if (inst->dead || inst != inst_ || inst->stopping) return;
    inst_.reset();
    sm_.failed(reason, SteadyClock::now());
    teardown(inst, reason);
    schedule_restart();
  }

  void teardown(const std::shared_ptr<Instance>& inst, const std::string& reason) {
    inst->dead = true;
    error_code ec;
    inst->in.close(ec);
    inst->out.close(ec);
    inst->err.close(ec);
    inst->warmup_timer.cancel();
    inst->rss_timer.cancel();
    signal_group(inst->pid, SIGKILL);
    pid_t expected = inst->pid;
    pid_.compare_exchange_strong(expected, -1);
    {
      std::lock_guard lock(status_mu_);
      status_.pid = -1;
      status_.rss_bytes = 0;
    }
    reap(inst->pid, 0);
    fail_requests(make_error(Errc::kUnavailable, "lsp server unavailable: " + reason));
  }

  void reap(pid_t pid, int attempt) {
    if (try_reap(pid)) return;
    if (attempt > 500) {  // 5 s after SIGKILL: something is badly wrong; stop polling
      spdlog::error("lsp: pid {} not reaped after SIGKILL", pid);
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io_, milliseconds(10));
    auto self = shared_from_this();
    timer->async_wait([self, timer, pid, attempt](error_code) { self->reap(pid, attempt + 1); });
  }

  // Graceful shutdown, step by step: wait for exit, SIGTERM the group, wait, SIGKILL, reap.
  void shutdown_escalate(const std::shared_ptr<Instance>& inst, const std::string& reason, int step) {
    auto self = shared_from_this();
    poll_exit(inst->pid, step < 2 ? opts_.shutdown_grace : milliseconds(5000),
              [self, inst, reason, step](std::optional<int> status) {
                if (inst->dead) return;
                if (!status && step < 2) {
                  signal_group(inst->pid, step == 0 ? SIGTERM : SIGKILL);
                  self->shutdown_escalate(inst, reason, step + 1);
                  return;
                }
                signal_group(inst->pid, SIGKILL);  // helpers of the server, if any
                // How it ended: by itself after `exit` (graceful), or by our SIGTERM / SIGKILL.
                const char* how = !status ? "not_reaped" : step == 0 ? "exit" : step == 1 ? "sigterm" : "sigkill";
                (void)self->opts_.telemetry.event(
                    "lsp.stop", {}, json::object{{"reason", reason}, {"how", how}},
                    std::chrono::duration<double, std::milli>(SteadyClock::now() - inst->stop_started).count());
                inst->dead = true;
                error_code ec;
                inst->in.close(ec);
                inst->out.close(ec);
                inst->err.close(ec);
                pid_t expected = inst->pid;
                self->pid_.compare_exchange_strong(expected, -1);
                {
                  std::lock_guard lock(self->status_mu_);
                  self->status_.pid = -1;
                  self->status_.rss_bytes = 0;
                }
                if (self->inst_ == inst) self->inst_.reset();
                for (auto& [path, doc] : self->docs_) doc.opened_gen = 0;
                self->sm_.stopped(reason, SteadyClock::now());
                self->finish_stop();
              });
  }

  void finish_stop() {
    auto waiters = std::move(stop_waiters_);
    stop_waiters_.clear();
    for (auto& w : waiters) w();
  }

  // Calls `done(status)` once `pid` has exited (reaped) or with nullopt after `limit`.
  void poll_exit(pid_t pid, milliseconds limit, std::function<void(std::optional<int>)> done) {
    poll_exit_until(pid, SteadyClock::now() + limit, std::move(done));
  }

  void poll_exit_until(pid_t pid, SteadyClock::time_point deadline, std::function<void(std::optional<int>)> done) {
    if (auto s = try_reap(pid)) return done(s);
    if (SteadyClock::now() >= deadline) return done(std::nullopt);
    auto timer = std::make_shared<asio::steady_timer>(io_, milliseconds(5));
    auto self = shared_from_this();
    timer->async_wait([self, timer, pid, deadline, done = std::move(done)](error_code) mutable {
      self->poll_exit_until(pid, deadline, std::move(done));
    });
  }

  void schedule_restart() {
    if (closed_) return;
    const auto now = SteadyClock::now();
    auto delay = backoff_.next_delay(now);
    std::string why;
    if (delay) {
      why = "restart " + std::to_string(backoff_.recent(now)) + " after backoff of " +
            std::to_string(delay->count()) + " ms";
    } else {
      // The budget is spent: never off for good, retry slowly (issue 16 item 13).
      delay = backoff_.exhausted_delay(now);
      spdlog::error("lsp: restart budget exhausted ({} restarts within {} ms); retrying in {} ms",
                    opts_.restart.max_restarts, opts_.restart.window.count(), delay->count());
      why = "retry after the restart budget was spent, " + std::to_string(delay->count()) + " ms";
      std::lock_guard lock(status_mu_);
      status_.reason += " (restart budget exhausted; retrying in " +
                        std::to_string((delay->count() + 999) / 1000) + " s)";
    }
    {
      std::lock_guard lock(status_mu_);
      next_retry_at_ = now + *delay;
    }
    restart_timer_.expires_after(*delay);
    auto self = shared_from_this();
    restart_timer_.async_wait([self, why = std::move(why)](error_code ec) {
      if (ec || self->closed_ || self->inst_ || self->sm_.state() != State::kFailed) return;
      {
        std::lock_guard lock(self->status_mu_);
        ++self->status_.restarts;
      }
      self->spawn(why);
    });
  }

  void arm_rss(const std::shared_ptr<Instance>& inst) {
    if (opts_.rss_limit_bytes == 0 || opts_.rss_check_interval.count() <= 0) return;
    inst->rss_timer.expires_after(opts_.rss_check_interval);
    auto self = shared_from_this();
    inst->rss_timer.async_wait([self, inst](error_code ec) {
      if (ec || inst->dead) return;
      auto rss = read_rss_bytes(inst->pid);
      if (rss) {
        std::lock_guard lock(self->status_mu_);
        self->status_.rss_bytes = *rss;
      }
      if (rss && *rss > self->opts_.rss_limit_bytes) {
        self->fail(inst, "memory guard: rss " + std::to_string(*rss >> 20) + " MiB over the limit of " +
                             std::to_string(self->opts_.rss_limit_bytes >> 20) + " MiB");
        return;
      }
      self->arm_rss(inst);
    });
  }

  void touch() {
    last_activity_ = SteadyClock::now();
    last_activity_ns_.store(last_activity_.time_since_epoch().count(), std::memory_order_relaxed);
  }


  void arm_idle() {
    if (opts_.idle_timeout.count() <= 0) return;
    const auto due = last_activity_ + opts_.idle_timeout;
    idle_timer_.expires_at(due);
    auto self = shared_from_this();
    idle_timer_.async_wait([self](error_code ec) {
      if (ec || !self->inst_ || self->inst_->stopping) return;
      const auto idle = SteadyClock::now() - self->last_activity_;
      if (idle >= self->opts_.idle_timeout) {
        self->stop({}, "idle for " + std::to_string(std::chrono::duration_cast<milliseconds>(idle).count()) + " ms",
                   false);
      } else {
        self->arm_idle();
      }
    });
  }

  // Requests are sent only in READY. A COLD client that was started before (idle shutdown) is
  // warmed again on demand; the request itself fails fast so the caller can fall back.
  std::optional<Error> gate() {
    if (closed_) return make_error(Errc::kUnavailable, "lsp client closed");
    const State s = sm_.state();
    if (s == State::kReady && inst_ && !inst_->stopping) return std::nullopt;
    if (s == State::kCold && started_ && !inst_ && !closed_) spawn("on demand");
    return make_error(Errc::kUnavailable, std::string("lsp not ready: ") + std::string(state_name(s)));
  }

  // ---- transport -----------------------------------------------------------------------------

  void read_stdout(const std::shared_ptr<Instance>& inst) {
    auto self = shared_from_this();
    inst->out.async_read_some(asio::buffer(inst->rbuf), [self, inst](error_code ec, std::size_t n) {
      if (inst->dead) return;
      if (ec) return self->on_stdout_closed(inst, ec == asio::error::eof ? "stdout closed" : ec.message());
      inst->decoder.feed(std::string_view(inst->rbuf.data(), n));
      while (true) {
        auto body = inst->decoder.next();
        if (!body) return self->fail(inst, "protocol error: " + body.error().message);
        if (!*body) break;
        self->on_message(inst, **body);
        if (inst->dead) return;
      }
      self->read_stdout(inst);
    });
  }

  void on_stdout_closed(const std::shared_ptr<Instance>& inst, const std::string& why) {
    if (inst->stopping) return;  // expected during shutdown; shutdown_escalate reaps
    auto self = shared_from_this();
    // The kernel closes the pipes a moment before the process becomes reapable; wait (bounded) so
    // the FAILED reason carries the exit status or signal.
    poll_exit(inst->pid, milliseconds(1000), [self, inst, why](std::optional<int> status) {
      self->fail(inst, "server crashed: " + (status ? describe_wait_status(*status) : why));
    });
  }

  void read_stderr(const std::shared_ptr<Instance>& inst) {
    auto self = shared_from_this();
    inst->err.async_read_some(asio::buffer(inst->ebuf), [self, inst](error_code ec, std::size_t n) {
      if (inst->dead || ec) return;
      for (std::size_t i = 0; i < n; ++i) {
        const char c = inst->ebuf[i];
        if (c == '\n') {
          self->stderr_line(inst, std::move(inst->eline));
          inst->eline.clear();
        } else if (inst->eline.size() < kStderrMaxLine) {
          inst->eline += c;
        }
      }
      self->read_stderr(inst);
    });
  }

  void stderr_line(const std::shared_ptr<Instance>& inst, std::string line) {
    spdlog::info("lsp[{}]: {}", inst->pid, line);
    stderr_tail_.push_back(std::move(line));
    if (stderr_tail_.size() > kStderrTailLines) stderr_tail_.pop_front();
    std::string joined;
    for (const auto& l : stderr_tail_) joined += l + "\n";
    std::lock_guard lock(status_mu_);
    status_.last_stderr = std::move(joined);
  }

  bool send(const std::shared_ptr<Instance>& inst, const json::object& msg) {
    if (inst->dead) return false;
    std::string frame = encode_frame(json::serialize(msg));
    if (inst->wq_bytes + frame.size() > opts_.max_queued_bytes) {
      spdlog::warn("lsp: write queue full ({} bytes); message dropped", inst->wq_bytes);
      return false;
    }
    inst->wq_bytes += frame.size();
    inst->wq.push_back(std::move(frame));
    if (!inst->writing) write_next(inst);
    return true;
  }

  void write_next(const std::shared_ptr<Instance>& inst) {
    if (inst->wq.empty() || inst->dead) {
      inst->writing = false;
      return;
    }
    inst->writing = true;
    auto self = shared_from_this();
    asio::async_write(inst->in, asio::buffer(inst->wq.front()), [self, inst](error_code ec, std::size_t) {
      if (inst->dead) return;
      inst->wq_bytes -= inst->wq.front().size();
      inst->wq.pop_front();
      if (ec) {
        inst->writing = false;
        // EPIPE: the server is gone; stdout EOF will follow and carry the exit status.
        if (!inst->stopping) self->on_stdout_closed(inst, "stdin write failed: " + ec.message());
        return;
      }
      self->write_next(inst);
    });
  }

  void notify(const std::shared_ptr<Instance>& inst, std::string_view method, json::value params) {
    json::object msg{{"jsonrpc", "2.0"}, {"method", method}};
    if (!params.is_null()) msg["params"] = std::move(params);
    send(inst, msg);
  }

  void send_request(const std::shared_ptr<Instance>& inst, const std::string& method, json::value params,
                    milliseconds timeout, std::function<void(Result<json::value>)> done, bool internal) {
    if (!inst || inst->dead) return done(make_error(Errc::kUnavailable, "lsp server not running"));
    if (pending_.size() + diag_waiters_.size() >= opts_.max_pending)
      return done(make_error(Errc::kUnavailable, "too many lsp requests in flight (" +
                                                     std::to_string(pending_.size()) + ")"));
    const std::int64_t id = next_id_++;
    json::object msg{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
    if (!send(inst, msg)) return done(make_error(Errc::kUnavailable, "lsp write queue full"));
    auto timer = std::make_shared<asio::steady_timer>(io_, timeout);
    pending_.emplace(id, Pending{method, std::move(done), timer, internal});
    sync_pending();
    auto self = shared_from_this();
    timer->async_wait([self, inst, id, timeout](error_code ec) {
      if (ec) return;
      auto it = self->pending_.find(id);
      if (it == self->pending_.end()) return;
      Pending p = std::move(it->second);
      self->pending_.erase(it);
      self->sync_pending();
      self->notify(inst, "$/cancelRequest", json::object{{"id", id}});
      {
        std::lock_guard lock(self->status_mu_);
        ++self->status_.timeouts;
      }
      p.done(make_error(Errc::kTimeout, p.method + " got no reply within " + std::to_string(timeout.count()) + " ms"));
      if (!p.internal && ++self->consecutive_timeouts_ >= self->opts_.max_consecutive_timeouts) {
        self->consecutive_timeouts_ = 0;
        self->fail(inst, "unresponsive: " + std::to_string(self->opts_.max_consecutive_timeouts) +
                             " consecutive request timeouts");
      }
    });
  }

  void fail_requests(const Error& e) {
    auto pending = std::move(pending_);
    pending_.clear();
    auto waiters = std::move(diag_waiters_);
    diag_waiters_.clear();
    sync_pending();
    for (auto& [id, p] : pending) {
      p.timer->cancel();
      p.done(e);
    }
    for (auto& [wid, w] : waiters) {
      w.timer->cancel();
      w.done(e);
    }
  }

  void sync_pending() {
    std::lock_guard lock(status_mu_);
    status_.pending = pending_.size() + diag_waiters_.size();
    status_.open_documents = docs_.size();
  }

  void on_message(const std::shared_ptr<Instance>& inst, const std::string& body) {
    error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
      spdlog::warn("lsp: ignoring a malformed message ({} bytes)", body.size());
      return;
    }
    auto& o = v.as_object();
    const auto* method = o.if_contains("method");
    const auto* id = o.if_contains("id");
    if (method && method->is_string()) {
      const std::string m(method->as_string());
      const json::value* params = o.if_contains("params");
      if (id) return answer_server_request(inst, *id, m, params);
      return on_notification(m, params);
    }
    if (!id || !(id->is_int64() || id->is_uint64())) return;
    const std::int64_t key = id->is_int64() ? id->as_int64() : static_cast<std::int64_t>(id->as_uint64());
    auto it = pending_.find(key);
    if (it == pending_.end()) return;  // a reply after its deadline (already completed)
    Pending p = std::move(it->second);
    pending_.erase(it);
    sync_pending();
    p.timer->cancel();
    consecutive_timeouts_ = 0;
    if (const auto* err = o.if_contains("error"); err && err->is_object()) {
      const auto& eo = err->as_object();
      const auto* msg = eo.if_contains("message");
      const std::int64_t code = int_or(eo.if_contains("code"), 0);
      return p.done(make_error(code == -32800 ? Errc::kTimeout : Errc::kUnavailable,
                               p.method + " failed: " + std::to_string(code) + " " +
                                   (msg && msg->is_string() ? std::string(msg->as_string()) : "")));
    }
    const auto* result = o.if_contains("result");
    p.done(result ? *result : json::value(nullptr));
  }

  json::value settings_for(std::string_view section) const {
    if (section.empty()) return json::object{};
    if (const auto* v = opts_.settings.if_contains(section)) return *v;
    // "python.analysis" → settings["python"]["analysis"]
    const json::object* node = &opts_.settings;
    std::string_view rest = section;
    while (!rest.empty()) {
      const auto dot = rest.find('.');
      const std::string_view part = rest.substr(0, dot);
      const auto* next = node->if_contains(part);
      if (!next) return json::object{};
      if (dot == std::string_view::npos) return *next;
      if (!next->is_object()) return json::object{};
      node = &next->as_object();
      rest.remove_prefix(dot + 1);
    }
    return json::object{};
  }

  void answer_server_request(const std::shared_ptr<Instance>& inst, const json::value& id,
                             const std::string& method, const json::value* params) {
    json::value result(nullptr);
    if (method == "workspace/configuration") {
      json::array out;
      if (params && params->is_object()) {
        if (const auto* items = params->as_object().if_contains("items"); items && items->is_array()) {
          for (const auto& item : items->as_array()) {
            const json::value* section = item.is_object() ? item.as_object().if_contains("section") : nullptr;
            out.push_back(section && section->is_string() ? settings_for(section->as_string())
                                                          : json::value(json::object{}));
          }
        }
      }
      result = std::move(out);
    } else if (method == "workspace/workspaceFolders") {
      const std::string root_uri = path_to_uri(opts_.segment_root);
      result = json::array{json::object{{"uri", root_uri}, {"name", opts_.segment_root.filename().string()}}};
    }
    // client/registerCapability, window/workDoneProgress/create, window/showMessageRequest and
    // anything unknown: null. An unanswered request can stall the server (Pyright withholds
    // diagnostics until workspace/configuration is answered).
    json::object reply{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
    send(inst, reply);
    std::lock_guard lock(status_mu_);
    ++status_.server_requests_answered;
  }

  void on_notification(const std::string& method, const json::value* params) {
    if (method == "textDocument/publishDiagnostics") {
      if (!params || !params->is_object()) return;
      const auto& p = params->as_object();
      const auto* uri = p.if_contains("uri");
      const auto* diags = p.if_contains("diagnostics");
      if (!uri || !uri->is_string() || !diags || !diags->is_array()) return;
      StoredDiagnostics stored;
      stored.items = diags->as_array();
      if (const auto* ver = p.if_contains("version"); ver && (ver->is_int64() || ver->is_uint64()))
        stored.version = int_or(ver, 0);
      const std::string u(uri->as_string());
      // Keep diagnostics only for documents we track: bounded by max_open_documents even if the
      // server is configured for workspace-wide diagnostics.
      auto path = uri_to_path(u);
      if (path && docs_.count(path->string())) diags_[u] = std::move(stored);
      sm_.diagnostics_published(u, SteadyClock::now());
      complete_diag_waiters(u);
      return;
    }
    if (method == "window/logMessage" || method == "window/showMessage") {
      std::lock_guard lock(status_mu_);
      ++status_.log_messages;
      if (params && params->is_object()) {
        if (const auto* m = params->as_object().if_contains("message"); m && m->is_string()) {
          spdlog::debug("lsp log: {}", std::string_view(m->as_string()).substr(0, 512));
          if (opts_.workspace_scanned && status_.workspace_files < 0) {
            if (auto files = opts_.workspace_scanned(std::string_view(m->as_string()))) {
              status_.workspace_files = *files;
              if (progress_.empty()) progress_last_title_.clear();
              note_work_done(SteadyClock::now());
            }
          }
        }
      }
    }
    if (method == "$/progress") return on_progress(params);
    // telemetry/event, ...: nothing to do.
  }

  // `$/progress {token, value: {kind: begin|report|end, title?, message?}}`: open work by token.
  void on_progress(const json::value* params) {
    if (!params || !params->is_object()) return;
    const auto& p = params->as_object();
    const auto* token = p.if_contains("token");
    const auto* value = p.if_contains("value");
    if (!token || !value || !value->is_object()) return;
    const auto& v = value->as_object();
    const auto* kind = v.if_contains("kind");
    if (!kind || !kind->is_string()) return;
    const std::string key = json::serialize(*token);
    const auto now = SteadyClock::now();
    auto field = [&](const char* f) {
      const auto* t = v.if_contains(f);
      return t && t->is_string() ? std::string(t->as_string()).substr(0, 200) : std::string();
    };
    std::lock_guard lock(status_mu_);
    ++status_.progress_notifications;
    if (kind->as_string() == "begin" || kind->as_string() == "report") {
      if (!indexing_locked()) indexing_since_ = now;
      // The begin's title names the work; a report adds its message ("Analyzing: 12 files").
      std::string& title = progress_[key];
      if (kind->as_string() == "begin") title = field("title");
      const std::string message = field("message");
      progress_last_title_ = title.empty() ? message : message.empty() ? title : title + ": " + message;
    } else if (kind->as_string() == "end") {
      progress_.erase(key);
      if (progress_.empty()) progress_last_title_.clear();
      note_work_done(now);
    }
  }

  // Under status_mu_: is the server still working (open $/progress, or the workspace scan not
  // reported yet when we know how to recognise it)?
  bool indexing_locked() const {
    if (!inst_pid_alive_locked()) return false;
    return !progress_.empty() || (opts_.workspace_scanned && status_.workspace_files < 0);
  }
  bool inst_pid_alive_locked() const { return status_.pid > 0; }

  // Under status_mu_: record the first moment nothing is left to do.
  void note_work_done(SteadyClock::time_point now) {
    if (indexing_locked() || status_.analysis_done_ms != 0 || spawned_at_ == SteadyClock::time_point{}) return;
    status_.analysis_done_ms = std::chrono::duration<double, std::milli>(now - spawned_at_).count();
  }

  // Diagnostics stored for `uri` that describe the version of the document we last sent.
  std::optional<json::array> fresh_diagnostics(const std::string& uri) {
    auto it = diags_.find(uri);
    if (it == diags_.end()) return std::nullopt;
    auto path = uri_to_path(uri);
    if (path) {
      auto doc = docs_.find(path->string());
      if (doc != docs_.end() && it->second.version && *it->second.version < doc->second.version)
        return std::nullopt;
    }
    return it->second.items;
  }

  void complete_diag_waiters(const std::string& uri) {
    auto fresh = fresh_diagnostics(uri);
    if (!fresh) return;
    std::vector<DiagWaiter> ready;
    for (auto it = diag_waiters_.begin(); it != diag_waiters_.end();) {
      if (it->second.uri != uri) {
        ++it;
        continue;
      }
      ready.push_back(std::move(it->second));
      it = diag_waiters_.erase(it);
    }
    sync_pending();
    for (auto& w : ready) {
      w.timer->cancel();
      w.done(*fresh);
    }
  }

  // ---- documents -----------------------------------------------------------------------------

  void send_did_open(const std::shared_ptr<Instance>& inst, const std::string& path, Document& doc) {
    json::object item{{"uri", path_to_uri(path)}, {"languageId", opts_.language_id}, {"version", doc.version}, {"text", doc.text}};
    notify(inst, "textDocument/didOpen", json::object{{"textDocument", std::move(item)}});
    doc.opened_gen = gen_;
  }

  void open_document(const fs::path& abs, std::string text) {
    const std::string key = abs.string();
    auto it = docs_.find(key);
    const std::string uri = path_to_uri(abs);
    if (it == docs_.end()) {
      if (docs_.size() >= opts_.max_open_documents) evict_document();
      Document d;
      d.text = std::move(text);
      d.last_used = ++doc_tick_;
      it = docs_.emplace(key, std::move(d)).first;
      diags_.erase(uri);
      if (inst_ && inst_->initialized && !inst_->stopping) send_did_open(inst_, key, it->second);
    } else {
      Document& d = it->second;
      d.last_used = ++doc_tick_;
      if (d.text == text && d.opened_gen == gen_) return;  // nothing new for the server
      d.text = std::move(text);
      ++d.version;
      diags_.erase(uri);  // stale now; servers without versioned diagnostics must publish again
      if (inst_ && inst_->initialized && !inst_->stopping) {
        if (d.opened_gen == gen_) {
          json::object td{{"uri", uri}, {"version", d.version}};
          json::array changes{json::object{{"text", d.text}}};
          notify(inst_, "textDocument/didChange",
                 json::object{{"textDocument", std::move(td)}, {"contentChanges", std::move(changes)}});
        } else {
          send_did_open(inst_, key, d);
        }
      }
    }
    sync_pending();
  }

  void close_document(const std::string& key) {
    auto it = docs_.find(key);
    if (it == docs_.end()) return;
    const std::string uri = path_to_uri(key);
    if (inst_ && it->second.opened_gen == gen_ && !inst_->dead)
      notify(inst_, "textDocument/didClose", json::object{{"textDocument", json::object{{"uri", uri}}}});
    docs_.erase(it);
    diags_.erase(uri);
    sync_pending();
  }

  void evict_document() {
    auto oldest = docs_.end();
    for (auto it = docs_.begin(); it != docs_.end(); ++it) {
      if (it->first == first_file_.string()) continue;  // the warm-up probe stays
      if (oldest == docs_.end() || it->second.last_used < oldest->second.last_used) oldest = it;
    }
    if (oldest != docs_.end()) close_document(oldest->first);
  }

  // ---- conversions ---------------------------------------------------------------------------

  const std::string* text_of(const fs::path& abs) {
    auto it = docs_.find(abs.string());
    if (it != docs_.end()) return &it->second.text;
    return cache_.get(abs);
  }

  Result<json::object> position_params(const fs::path& abs, Position pos) {
    const std::string* text = text_of(abs);
    if (!text) return make_error(Errc::kNotFound, "cannot read " + opts_.telemetry.relpath(abs));
    auto line = line_text(*text, pos.line);
    if (!line || pos.column < 1)
      return make_error(Errc::kInvalidArgument, "position " + std::to_string(pos.line) + ":" +
                                                    std::to_string(pos.column) + " is outside the file");
    json::object position{{"line", pos.line - 1}, {"character", utf16_from_column(*line, pos.column)}};
    return json::object{{"textDocument", json::object{{"uri", path_to_uri(abs)}}}, {"position", std::move(position)}};
  }

  void convert_point(const std::string* text, const json::value* p, int& line, int& column) {
    if (!p || !p->is_object()) return;
    const auto& o = p->as_object();
    const auto l = int_or(o.if_contains("line"), 0);
    const auto c = int_or(o.if_contains("character"), 0);
    line = static_cast<int>(l) + 1;
    std::optional<std::string_view> lt = text ? line_text(*text, line) : std::nullopt;
    column = lt ? column_from_utf16(*lt, static_cast<int>(c)) : static_cast<int>(c) + 1;
  }

  Location make_location(const fs::path& abs, const json::object& range) {
    Location loc;
    // The segment boundary is decided on the resolved path (issue 16 item 12): a target reached
    // through an in-tree symlink to a file outside is external, named by its real path, as
    // ast.* refuses the same path with PATH_ESCAPE.
    std::error_code ec;
    fs::path real = fs::weakly_canonical(abs, ec);
    if (ec) real = abs;
    if (is_within(opts_.segment_root, abs) && is_within(opts_.segment_root, real)) {
      loc.path = abs.lexically_relative(opts_.segment_root).generic_string();
    } else {
      loc.path = real.string();
      loc.external = true;
    }
    const std::string* text = text_of(abs);
    convert_point(text, range.if_contains("start"), loc.line, loc.column);
    convert_point(text, range.if_contains("end"), loc.end_line, loc.end_column);
    return loc;
  }

  Result<std::vector<Location>> locations(const json::value& v) {
    std::vector<Location> out;
    auto one = [&](const json::value& item) {
      if (!item.is_object()) return;
      const auto& o = item.as_object();
      const json::value* uri = o.if_contains("uri");
      const json::value* range = o.if_contains("range");
      if (!uri) {  // LocationLink
        uri = o.if_contains("targetUri");
        range = o.if_contains("targetSelectionRange");
        if (!range) range = o.if_contains("targetRange");
      }
      if (!uri || !uri->is_string() || !range || !range->is_object()) return;
      auto path = uri_to_path(uri->as_string());
      if (!path) return;
      out.push_back(make_location(*path, range->as_object()));
    };
    if (v.is_array()) {
      for (const auto& item : v.as_array()) one(item);
    } else {
      one(v);
    }
    return out;
  }

  Result<std::vector<Diagnostic>> convert_diagnostics(const fs::path& abs, const json::array& items) {
    std::vector<Diagnostic> out;
    const std::string* text = text_of(abs);
    for (const auto& item : items) {
      if (!item.is_object()) continue;
      const auto& o = item.as_object();
      Diagnostic d;
      if (const auto* range = o.if_contains("range"); range && range->is_object()) {
        convert_point(text, range->as_object().if_contains("start"), d.line, d.column);
        convert_point(text, range->as_object().if_contains("end"), d.end_line, d.end_column);
      }
      d.severity = severity_name(int_or(o.if_contains("severity"), 1));
      if (const auto* m = o.if_contains("message"); m && m->is_string()) d.message = m->as_string();
      if (const auto* c = o.if_contains("code")) {
        if (c->is_string()) d.code = c->as_string();
        else if (c->is_int64()) d.code = std::to_string(c->as_int64());
      }
      if (const auto* s = o.if_contains("source"); s && s->is_string()) d.source = s->as_string();
      out.push_back(std::move(d));
    }
    return out;
  }

  void record_request(const std::string& method, const fs::path& file, Position pos, bool resolved,
                      const Location* target, double ms, const Error* error) {
    // The seed's short method name ("definition", not "textDocument/definition"). A request that
    // reaches the server is never a fallback (those are `lsp.fallback`); the field is the seed's.
    json::object args{{"method", method_short(method)}, {"file", opts_.telemetry.relpath(file)}, {"line", pos.line}, {"col", pos.column}};
    json::object result{{"resolved", resolved}, {"fallback", false}};
    if (target) {
      const fs::path tp = target->external ? fs::path(target->path) : opts_.segment_root / target->path;
      result["target_file"] = opts_.telemetry.relpath(tp);
      result["target_line"] = target->line;
    }
    if (error) result["error"] = errc_name(error->code);
    // Its latency is sampled under "lsp.request" (from timing_ms). Not also under "lsp.<method>":
    // the daemon's request event of that name already samples the whole request, and a second
    // sample there doubled its count in last_run.json.
    (void)opts_.telemetry.event("lsp.request", std::move(args), std::move(result), ms);
  }

 public:
  asio::io_context& io_;

 private:
  ClientOptions opts_;
  StateMachine sm_;
  std::atomic<State> state_{State::kCold};
  RestartBackoff backoff_;
  asio::steady_timer restart_timer_, idle_timer_;
  SteadyClock::time_point next_retry_at_{};  // FAILED with a restart scheduled (status_mu_)
  std::shared_ptr<Instance> inst_;
  std::uint64_t gen_ = 0;
  std::atomic<pid_t> pid_{-1};
  std::atomic<bool> closed_{false};
  bool started_ = false;
  fs::path first_file_;
  std::int64_t next_id_ = 1;
  std::map<std::int64_t, Pending> pending_;
  std::map<std::string, Document> docs_;
  std::uint64_t doc_tick_ = 0;
  std::unordered_map<std::string, StoredDiagnostics> diags_;
  std::uint64_t next_waiter_id_ = 1;
  std::map<std::uint64_t, DiagWaiter> diag_waiters_;
  std::map<std::uint64_t, ReadyWaiter> ready_waiters_;
  std::vector<std::function<void()>> stop_waiters_;
  int consecutive_timeouts_ = 0;
  SteadyClock::time_point last_activity_ = SteadyClock::now();
  std::atomic<SteadyClock::rep> last_activity_ns_{SteadyClock::now().time_since_epoch().count()};  // for status()
  std::deque<std::string> stderr_tail_;
  TextCache cache_;

  mutable std::mutex status_mu_;
  Status status_;
  SteadyClock::time_point spawned_at_{};
  SteadyClock::time_point state_since_ = SteadyClock::now();
  std::map<std::string, std::string> progress_;  // open $/progress tokens (serialized) → title
  std::string progress_last_title_;
  SteadyClock::time_point indexing_since_{};
};

// --------------------------------------------------------------------------------------------

Client::Client(asio::io_context& io, ClientOptions options) {
  // A server that dies while we write to its stdin must cost an EPIPE, not the daemon: ignore
  // SIGPIPE unless the embedding program has installed its own disposition.
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
  impl_ = std::make_shared<Impl>(io, std::move(options));
}

Client::~Client() { impl_->close(impl_->io_.get_executor().running_in_this_thread()); }

State Client::state() const { return impl_->state(); }
Status Client::status() const { return impl_->status(); }

void Client::start(fs::path first_python_file) {
  asio::post(impl_->io_, [impl = impl_, f = std::move(first_python_file)]() mutable { impl->start(std::move(f)); });
}

void Client::stop(std::function<void()> done) {
  asio::post(impl_->io_, [impl = impl_, done = std::move(done)]() mutable { impl->stop(std::move(done), "stopped", true); });
}

void Client::shed(std::string reason) {
  asio::post(impl_->io_, [impl = impl_, r = std::move(reason)]() mutable { impl->shed(std::move(r)); });
}

void Client::restart(std::string reason) {
  asio::post(impl_->io_, [impl = impl_, r = std::move(reason)]() mutable { impl->restart(std::move(r)); });
}

void Client::when_ready(milliseconds wait, std::function<void(State)> done) {
  asio::post(impl_->io_, [impl = impl_, wait, done = std::move(done)]() mutable { impl->when_ready(wait, std::move(done)); });
}

void Client::did_open(fs::path file, std::optional<std::string> text) {
  asio::post(impl_->io_, [impl = impl_, f = std::move(file), t = std::move(text)]() mutable {
    impl->did_open(std::move(f), std::move(t));
  });
}

void Client::did_change(fs::path file, std::optional<std::string> text) {
  asio::post(impl_->io_, [impl = impl_, f = std::move(file), t = std::move(text)]() mutable {
    impl->did_change(std::move(f), std::move(t));
  });
}

void Client::did_close(fs::path file) {
  asio::post(impl_->io_, [impl = impl_, f = std::move(file)]() mutable { impl->did_close(std::move(f)); });
}

void Client::definition(fs::path file, Position pos, Callback<std::vector<Location>> done) {
  asio::post(impl_->io_, [impl = impl_, f = std::move(file), pos, d = std::move(done)]() mutable {
    impl->definition(std::move(f), pos, std::move(d));
  });
}

void Client::hover(fs::path file, Position pos, Callback<std::optional<HoverInfo>> done) {
  asio::post(impl_->io_, [impl = impl_, f = std::move(file), pos, d = std::move(done)]() mutable {
    impl->hover(std::move(f), pos, std::move(d));
  });
}

void Client::references(fs::path file, Position pos, bool include_declaration, Callback<std::vector<Location>> done) {
  asio::post(impl_->io_, [impl = impl_, f = std::move(file), pos, include_declaration, d = std::move(done)]() mutable {
    impl->references(std::move(f), pos, include_declaration, std::move(d));
  });
}

void Client::prepare_call_hierarchy(fs::path file, Position pos,
                                    Callback<std::vector<CallHierarchyItem>> done) {
  asio::post(impl_->io_, [impl = impl_, f = std::move(file), pos, d = std::move(done)]() mutable {
    impl->prepare_call_hierarchy(std::move(f), pos, std::move(d));
  });
}

void Client::incoming_calls(const CallHierarchyItem& item, Callback<std::vector<CallHierarchyCall>> done) {
  asio::post(impl_->io_, [impl = impl_, item, d = std::move(done)]() mutable {
    impl->hierarchy_calls(true, item, std::move(d));
  });
}

void Client::outgoing_calls(const CallHierarchyItem& item, Callback<std::vector<CallHierarchyCall>> done) {
  asio::post(impl_->io_, [impl = impl_, item, d = std::move(done)]() mutable {
    impl->hierarchy_calls(false, item, std::move(d));
  });
}

void Client::workspace_symbol(std::string query, Callback<std::vector<WorkspaceSymbol>> done) {
  asio::post(impl_->io_, [impl = impl_, q = std::move(query), d = std::move(done)]() mutable {
    impl->workspace_symbol(std::move(q), std::move(d));
  });
}

void Client::diagnostics(fs::path file, milliseconds wait, Callback<std::vector<Diagnostic>> done) {
  asio::post(impl_->io_, [impl = impl_, f = std::move(file), wait, d = std::move(done)]() mutable {
    impl->diagnostics(std::move(f), wait, std::move(d));
  });
}

void Client::request(std::string method, json::value params, Callback<json::value> done,
                     std::optional<milliseconds> timeout) {
  asio::post(impl_->io_, [impl = impl_, m = std::move(method), p = std::move(params), d = std::move(done), timeout]() mutable {
    impl->raw_request(std::move(m), std::move(p), std::move(d), timeout);
  });
}

}  // namespace trifecta::core::lsp
