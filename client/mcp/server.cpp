// client/mcp/server.cpp — the MCP stdio server: framing, lifecycle, dispatch, concurrency,
// cancellation and progress (see server.hpp). What each tool does is in tools.cpp.
#include "server.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "segment.hpp"
#include "session.hpp"
#include "tools.hpp"
#include "trifecta/proto/protocol.hpp"

namespace trifecta::mcp {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

// JSON-RPC error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;
constexpr int kResourceNotFound = -32002;

void log(const std::string& msg) {
  const std::string line = "trifecta mcp: " + msg + "\n";
  const ssize_t n = ::write(2, line.data(), line.size());
  (void)n;
}

// file:///a%20b → /a b; nullopt for other schemes.
std::optional<std::string> path_of_file_uri(std::string_view uri) {
  constexpr std::string_view kFile = "file://";
  if (uri.substr(0, kFile.size()) != kFile) return std::nullopt;
  uri.remove_prefix(kFile.size());
  const auto slash = uri.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto host = uri.substr(0, slash);
  if (!host.empty() && host != "localhost") return std::nullopt;
  uri.remove_prefix(slash);
  std::string out;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      const int h = hex(uri[i + 1]), l = hex(uri[i + 2]);
      if (h >= 0 && l >= 0) {
        out += static_cast<char>(h * 16 + l);
        i += 2;
        continue;
      }
    }
    out += uri[i];
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// One tools/call or resources/read in flight.
struct InFlight {
  std::mutex mu;
  bool cancelled = false;
  int fd = -1;  // the daemon connection it waits on (-1: none)
};

// Idle daemon connections, reused by later calls (a connection serves one call at a time).
class SessionPool {
 public:
  explicit SessionPool(client::SessionOptions o) : opts_(std::move(o)) {}
  std::unique_ptr<client::Session> acquire(client::ClientError* err) {
    {
      std::lock_guard lk(mu_);
      if (!idle_.empty()) {
        auto s = std::move(idle_.back());
        idle_.pop_back();
        return s;
      }
    }
    auto s = std::make_unique<client::Session>(opts_);
    if (!s->open(err)) return nullptr;
    return s;
  }
  void release(std::unique_ptr<client::Session> s) {
    s->on_notification({});
    std::lock_guard lk(mu_);
    if (idle_.size() < 8) idle_.push_back(std::move(s));
  }

 private:
  client::SessionOptions opts_;
  std::mutex mu_;
  std::vector<std::unique_ptr<client::Session>> idle_;
};

class Server {
 public:
  explicit Server(const ServerOptions& o) : o_(o), pool_(session_options(o)) {
    if (!o_.roots.empty()) {
      roots_ = o_.roots;
      fixed_roots_ = true;
    }
  }

  int run();

 private:
  static client::SessionOptions session_options(const ServerOptions& o) {
    client::SessionOptions s;
    s.socket = o.socket.empty() ? client::default_socket_path() : o.socket;
    s.spawn = o.spawn;
    s.timeout = o.timeout;
    s.client_name = "trifecta-mcp";
    return s;
  }

  // ---- output ----
  void send(const json::value& msg) {
    std::string line = json::serialize(msg);
    line += '\n';
    std::lock_guard lk(out_mu_);
    std::string_view rest = line;
    while (!rest.empty()) {
      const ssize_t n = ::write(o_.out_fd, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // the client is gone: nothing to tell
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void reply(const json::value& id, json::value result) {
    send(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
  }
  void error(const json::value& id, int code, const std::string& message,
             json::value data = nullptr) {
    json::object e{{"code", code}, {"message", message}};
    if (!data.is_null()) e["data"] = std::move(data);
    send(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(e)}});
  }

  bool at_least(const char* v) const {
    // Revisions are dates: string order is time order.
    std::lock_guard lk(mu_);
    return version_ >= v;
  }

  // ---- input ----
  void handle_line(std::string_view line);
  void handle_request(const json::value& id, const std::string& method, const json::object& params);
  void handle_notification(const std::string& method, const json::object& params);
  void handle_response(const json::object& msg);

  json::object initialize(const json::object& params);
  json::object tools_list();
  json::object templates_list();
  void start_call(const json::value& id, const std::string& method, const json::object& params);

  // ---- roots ----
  void ask_roots();
  std::vector<std::string> current_roots();
  // The root without -s or client roots: the segment of the server's directory (none when that
  // is / or the home directory: the calls then say so).
  std::string fallback_root() const {
    const auto c =
        client::choose_segment("", o_.cwd.empty() ? std::filesystem::current_path() : o_.cwd);
    return c.source == client::SegmentSource::kNone ? std::string() : c.root;
  }
  std::string fallback_name() const {
    const std::string root = fallback_root();
    return root.empty() ? "no root (the server runs in / or the home directory)" : root;
  }

  DaemonCall daemon_call(std::shared_ptr<InFlight> fl);

  const ServerOptions o_;
  SessionPool pool_;
  std::mutex out_mu_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool initialized_ = false;  // initialize answered
  std::string version_;
  bool client_roots_ = false;
  bool fixed_roots_ = false;
  bool roots_pending_ = false;
  std::vector<std::string> roots_;
  std::int64_t next_out_id_ = 1;
  std::map<std::string, std::shared_ptr<InFlight>> inflight_;  // by serialized request id
  std::size_t running_ = 0;                                    // call threads alive
};

std::string id_key(const json::value& id) {
  return json::serialize(id);
}

int Server::run() {
  std::string line;
  bool discarding = false;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(o_.in_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::string_view chunk(buf, static_cast<std::size_t>(n));
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      const std::string_view part = chunk.substr(0, nl);
      if (!discarding) {
        if (line.size() + part.size() > o_.max_line_bytes) {
          discarding = true;
          line.clear();
          line.shrink_to_fit();
        } else {
          line.append(part);
        }
      }
      if (nl == std::string_view::npos) break;
      chunk.remove_prefix(nl + 1);
      if (discarding) {
        error(nullptr, kInvalidRequest,
              "message too large: lines longer than " + std::to_string(o_.max_line_bytes) +
                  " bytes are refused");
        discarding = false;
      } else {
        handle_line(line);
      }
      line.clear();
    }
  }
  if (!discarding && !line.empty()) handle_line(line);

  // End of input: give running calls a moment, then cancel the rest.
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, o_.exit_grace, [&] { return running_ == 0; });
  for (auto& [_, fl] : inflight_) {
    std::lock_guard fk(fl->mu);
    fl->cancelled = true;
    if (fl->fd >= 0) ::shutdown(fl->fd, SHUT_RDWR);
  }
  cv_.wait_for(lk, std::chrono::milliseconds(500), [&] { return running_ == 0; });
  return 0;
}

void Server::handle_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  if (line.empty()) return;
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec) {
    error(nullptr, kParseError, "parse error: " + ec.message());
    return;
  }
  if (v.is_array()) {
    error(nullptr, kInvalidRequest,
          "JSON-RPC batches are not supported: send one message per line");
    return;
  }
  if (!v.is_object()) {
    error(nullptr, kInvalidRequest, "invalid request: a JSON-RPC message is an object");
    return;
  }
  const json::object& msg = v.get_object();
  const json::value* id = msg.if_contains("id");
  const bool id_ok = id && (id->is_string() || id->is_int64() || id->is_uint64());
  const json::value reply_id = id_ok ? *id : json::value(nullptr);
  const auto* jv = msg.if_contains("jsonrpc");
  if (!jv || !jv->is_string() || jv->get_string() != "2.0") {
    error(reply_id, kInvalidRequest, "invalid request: \"jsonrpc\" must be \"2.0\"");
    return;
  }
  const auto* m = msg.if_contains("method");
  if (!m) {
    if (id_ok && (msg.contains("result") || msg.contains("error"))) {
      handle_response(msg);
      return;
    }
    error(reply_id, kInvalidRequest, "invalid request: no \"method\"");
    return;
  }
  if (!m->is_string()) {
    error(reply_id, kInvalidRequest, "invalid request: \"method\" must be a string");
    return;
  }
  if (id && !id_ok) {
    error(nullptr, kInvalidRequest, "invalid request: \"id\" must be a string or an integer");
    return;
  }
  static const json::object kNoParams;
  const json::object* params = &kNoParams;
  if (const auto* p = msg.if_contains("params"); p && !p->is_null()) {
    if (!p->is_object()) {
      if (id) error(reply_id, kInvalidParams, "invalid params: \"params\" must be an object");
      return;
    }
    params = &p->get_object();
  }
  const std::string method(m->get_string());
  if (id)
    handle_request(*id, method, *params);
  else
    handle_notification(method, *params);
}

void Server::handle_request(const json::value& id, const std::string& method,
                            const json::object& params) {
  if (method == "ping") return reply(id, json::object{});
  if (method == "initialize") {
    {
      std::lock_guard lk(mu_);
      if (initialized_) {
        return error(id, kInvalidRequest, "invalid request: already initialized");
      }
    }
    const auto* pv = params.if_contains("protocolVersion");
    if (!pv || !pv->is_string()) {
      return error(id, kInvalidParams, "invalid params: initialize needs \"protocolVersion\"");
    }
    return reply(id, initialize(params));
  }
  {
    std::lock_guard lk(mu_);
    if (!initialized_) {
      return error(id, kInvalidRequest,
                   "invalid request: not initialized (send \"initialize\" first)");
    }
  }
  if (method == "tools/list") return reply(id, tools_list());
  if (method == "resources/list") return reply(id, json::object{{"resources", json::array{}}});
  if (method == "resources/templates/list") return reply(id, templates_list());
  if (method == "logging/setLevel") {
    static const char* kLevels[] = {"debug", "info",     "notice", "warning",
                                    "error", "critical", "alert",  "emergency"};
    const auto* l = params.if_contains("level");
    bool ok = false;
    if (l && l->is_string()) {
      for (const auto* x : kLevels) ok = ok || l->get_string() == x;
    }
    if (!ok)
      return error(id, kInvalidParams, "invalid params: \"level\" must be a syslog level name");
    return reply(id, json::object{});
  }
  if (method == "tools/call") {
    const auto* name = params.if_contains("name");
    if (!name || !name->is_string()) {
      return error(id, kInvalidParams, "invalid params: tools/call needs \"name\"");
    }
    if (!find_tool(name->get_string(), o_.debug_tools)) {
      return error(id, kInvalidParams, "unknown tool: " + std::string(name->get_string()));
    }
    const auto* args = params.if_contains("arguments");
    if (args && !args->is_null() && !args->is_object()) {
      return error(id, kInvalidParams, "invalid params: \"arguments\" must be an object");
    }
    return start_call(id, method, params);
  }
  if (method == "resources/read") {
    const auto* uri = params.if_contains("uri");
    if (!uri || !uri->is_string()) {
      return error(id, kInvalidParams, "invalid params: resources/read needs \"uri\"");
    }
    return start_call(id, method, params);
  }
  error(id, kMethodNotFound, "method not found: " + method);
}

void Server::handle_notification(const std::string& method, const json::object& params) {
  if (method == "notifications/initialized") {
    bool ask = false;
    {
      std::lock_guard lk(mu_);
      ask = initialized_ && client_roots_ && !fixed_roots_;
    }
    if (ask) ask_roots();
    return;
  }
  if (method == "notifications/roots/list_changed") {
    bool ask = false;
    {
      std::lock_guard lk(mu_);
      ask = initialized_ && client_roots_ && !fixed_roots_;
    }
    if (ask) ask_roots();
    return;
  }
  if (method == "notifications/cancelled") {
    const auto* rid = params.if_contains("requestId");
    if (!rid) return;
    std::lock_guard lk(mu_);
    const auto it = inflight_.find(id_key(*rid));
    if (it == inflight_.end()) return;  // finished already, or never was: ignore
    std::lock_guard fk(it->second->mu);
    it->second->cancelled = true;
    if (it->second->fd >= 0) ::shutdown(it->second->fd, SHUT_RDWR);
    return;
  }
  // Other notifications (progress from the client, ...) need nothing from us.
}

void Server::handle_response(const json::object& msg) {
  // The only request we send is roots/list (ids "roots-N"); other responses are stray: ignored.
  const auto& rid = msg.at("id");
  if (!rid.is_string() || !rid.get_string().starts_with("roots-")) return;
  std::vector<std::string> roots;
  bool ok = false;
  if (const auto* r = msg.if_contains("result"); r && r->is_object()) {
    if (const auto* list = r->get_object().if_contains("roots"); list && list->is_array()) {
      ok = true;
      for (const auto& x : list->get_array()) {
        if (!x.is_object()) continue;
        const auto* uri = x.get_object().if_contains("uri");
        if (!uri || !uri->is_string()) continue;
        if (auto p = path_of_file_uri(uri->get_string())) {
          if (std::find(roots.begin(), roots.end(), *p) == roots.end()) roots.push_back(*p);
        } else {
          log("ignoring root " + std::string(uri->get_string()) + " (not a file:// URI)");
        }
      }
    }
  }
  if (!ok) log("roots/list failed: using " + fallback_name());
  {
    std::lock_guard lk(mu_);
    roots_ = std::move(roots);
    roots_pending_ = false;
  }
  cv_.notify_all();
}

void Server::ask_roots() {
  std::int64_t id = 0;
  {
    std::lock_guard lk(mu_);
    id = next_out_id_++;
    roots_pending_ = true;
  }
  send(json::object{
      {"jsonrpc", "2.0"}, {"id", "roots-" + std::to_string(id)}, {"method", "roots/list"}});
}

std::vector<std::string> Server::current_roots() {
  std::unique_lock lk(mu_);
  if (!cv_.wait_for(lk, o_.roots_wait, [&] { return !roots_pending_; })) {
    // The client does not answer: stop waiting for it (a late answer still counts).
    roots_pending_ = false;
    log("no answer to roots/list: using " + fallback_name());
  }
  if (!roots_.empty()) return roots_;
  if (std::string root = fallback_root(); !root.empty()) return {root};
  return {};
}

json::object Server::initialize(const json::object& params) {
  const std::string asked(params.at("protocolVersion").get_string());
  const std::string v = negotiate_version(asked);
  bool roots = false;
  if (const auto* c = params.if_contains("capabilities"); c && c->is_object()) {
    roots = c->get_object().contains("roots");
  }
  {
    std::lock_guard lk(mu_);
    version_ = v;
    client_roots_ = roots;
    initialized_ = true;
  }
  json::object info{{"name", "trifecta"}, {"version", proto::kVersion}};
  if (v >= "2025-06-18") info["title"] = "Trifecta code context";
  return {{"protocolVersion", v},
          {"capabilities",
           {{"tools", {{"listChanged", false}}},
            {"resources", {{"subscribe", false}, {"listChanged", false}}},
            {"logging", json::object{}}}},
          {"serverInfo", std::move(info)},
          {"instructions",
           "Code context for this project from the shared trifecta daemon. Start with `search` "
           "(ranked chunks) or `find_symbol` (definitions by name), read with `get` (chunk ids "
           "or sym:// URIs) or `outline` (a file's skeleton), navigate with `definition`, "
           "`hover`, `references`, check with `diagnostics`. Every answer is bounded by a token "
           "budget; a cut answer gives `next_cursor` to continue. `backend` says who answered "
           "(lsp = Pyright, ast = syntax fallback, lsp+ast = both, index = lexical index)."}};
}

json::object Server::tools_list() {
  const bool titles = at_least("2025-06-18");
  const bool annotations = at_least("2025-03-26");
  json::array tools;
  for (const auto& t : tool_table(o_.debug_tools)) {
    json::object x{
        {"name", t.name}, {"description", t.description}, {"inputSchema", t.input_schema}};
    if (titles) {
      x["title"] = t.title;
      x["outputSchema"] = t.output_schema;
    }
    if (annotations) {
      x["annotations"] = {{"title", t.title},
                          {"readOnlyHint", true},
                          {"destructiveHint", false},
                          {"idempotentHint", t.idempotent},
                          {"openWorldHint", false}};
    }
    tools.push_back(std::move(x));
  }
  return {{"tools", std::move(tools)}};
}

json::object Server::templates_list() {
  const bool titles = at_least("2025-06-18");
  json::object sym{{"uriTemplate", "sym://python/{module}/{qualname}"},
                   {"name", "python-symbol"},
                   {"description",
                    "A Python definition by module and qualified name, e.g. "
                    "sym://python/json.decoder/JSONDecoder.decode; reads as an excerpt"},
                   {"mimeType", "text/x-python"}};
  json::object chunk{{"uriTemplate", "chunk://{+id}"},
                     {"name", "chunk"},
                     {"description",
                      "A chunk of the lexical index by the id `search` gives "
                      "(chunk://pkg/service.py#Service); reads as an excerpt"},
                     {"mimeType", "text/plain"}};
  if (titles) {
    sym["title"] = "Python symbol";
    chunk["title"] = "Index chunk";
  }
  return {{"resourceTemplates", json::array{std::move(sym), std::move(chunk)}}};
}

DaemonCall Server::daemon_call(std::shared_ptr<InFlight> fl) {
  return [this, fl](std::string_view method, const json::object& params, client::ClientError* err,
                    const client::NotificationFn& notify) -> std::optional<client::Reply> {
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto cancelled = [&] {
        std::lock_guard lk(fl->mu);
        return fl->cancelled;
      };
      if (cancelled()) {
        *err = client::ClientError(client::ClientErrc::kUnavailable, "cancelled");
        return std::nullopt;
      }
      auto s = pool_.acquire(err);
      if (!s) {
        if (attempt == 0 && err->code == client::ClientErrc::kUnavailable) continue;
        return std::nullopt;
      }
      {
        std::lock_guard lk(fl->mu);
        if (fl->cancelled) {
          *err = client::ClientError(client::ClientErrc::kUnavailable, "cancelled");
          return std::nullopt;
        }
        fl->fd = s->native_handle();
      }
      s->on_notification(notify);
      auto r = s->call(method, params, err);
      {
        std::lock_guard lk(fl->mu);
        fl->fd = -1;
      }
      if (r || err->code == client::ClientErrc::kRemote) {
        pool_.release(std::move(s));
        return r;
      }
      // The connection is in an unknown state: drop it. A lost daemon gets one more try
      // (connect again, auto-starting it).
      if (cancelled()) return std::nullopt;
      if (attempt == 0 &&
          (err->code == client::ClientErrc::kUnavailable || err->code == client::ClientErrc::kIo)) {
        log("lost the daemon connection (" + err->message + "): reconnecting");
        continue;
      }
      return std::nullopt;
    }
    return std::nullopt;
  };
}

void Server::start_call(const json::value& id, const std::string& method,
                        const json::object& params) {
  auto fl = std::make_shared<InFlight>();
  const std::string key = id_key(id);
  {
    std::lock_guard lk(mu_);
    if (inflight_.count(key)) {
      return error(id, kInvalidRequest, "invalid request: id " + key + " is already in use");
    }
    if (running_ >= o_.max_in_flight) {
      return error(id, kInternalError,
                   "busy: " + std::to_string(running_) +
                       " calls in flight; wait for an answer before sending more");
    }
    inflight_[key] = fl;
    ++running_;
  }
  json::value progress_token;
  if (const auto* meta = params.if_contains("_meta"); meta && meta->is_object()) {
    if (const auto* t = meta->get_object().if_contains("progressToken");
        t && (t->is_string() || t->is_int64() || t->is_uint64()))
      progress_token = *t;
  }
  auto body = [this, fl, key, id = json::value(id), method, params = json::object(params),
               progress_token] {
    ToolEnv env;
    env.call = daemon_call(fl);
    env.default_budget = o_.budget;
    env.roots = current_roots();
    json::value result;
    std::optional<json::object> rpc_error;
    if (method == "resources/read") {
      std::string why;
      const std::string uri(params.at("uri").get_string());
      if (auto t = read_resource(env, uri, &why)) {
        result = json::object{
            {"contents", json::array{json::object{
                             {"uri", t->uri}, {"mimeType", t->mime_type}, {"text", t->text}}}}};
      } else {
        rpc_error = json::object{{"code", kResourceNotFound},
                                 {"message", "resource not found: " + why},
                                 {"data", {{"uri", uri}}}};
      }
    } else {
      const ToolSpec* tool = find_tool(params.at("name").get_string(), o_.debug_tools);
      static const json::object kEmpty;
      const auto* a = params.if_contains("arguments");
      const json::object& args = a && a->is_object() ? a->get_object() : kEmpty;
      ToolOutcome out;
      std::string why;
      if (auto root = choose_root(env.roots, args, &why)) {
        env.root = *root;
        if (!progress_token.is_null() && tool->uses_index) {
          const bool with_message = at_least("2025-03-26");
          auto last = std::make_shared<double>(-1);
          env.progress = [this, progress_token, with_message, last](double done, double total,
                                                                    const std::string& message) {
            if (done <= *last) return;  // progress must increase
            *last = done;
            json::object p{{"progressToken", progress_token}, {"progress", done}};
            if (total > 0) p["total"] = total;
            if (with_message) p["message"] = message;
            send(json::object{{"jsonrpc", "2.0"},
                              {"method", "notifications/progress"},
                              {"params", std::move(p)}});
          };
        }
        out = run_tool(*tool, env, args);
      } else {
        out.is_error = true;
        out.text = "bad arguments for " + tool->name + ": " + why + "\n";
      }
      json::object r{{"content", json::array{json::object{{"type", "text"}, {"text", out.text}}}},
                     {"isError", out.is_error}};
      if (!out.is_error && at_least("2025-06-18"))
        r["structuredContent"] = std::move(out.structured);
      result = std::move(r);
    }
    bool cancelled = false;
    {
      std::lock_guard lk(mu_);
      {
        std::lock_guard fk(fl->mu);
        cancelled = fl->cancelled;
      }
      inflight_.erase(key);
    }
    if (!cancelled) {
      if (rpc_error) {
        send(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(*rpc_error)}});
      } else {
        reply(id, std::move(result));
      }
    }
    {
      std::lock_guard lk(mu_);
      --running_;
    }
    cv_.notify_all();
  };
  try {
    std::thread(std::move(body)).detach();
  } catch (const std::system_error& e) {  // out of threads: refuse this call, keep serving
    {
      std::lock_guard lk(mu_);
      inflight_.erase(key);
      --running_;
    }
    error(id, kInternalError, std::string("cannot start the call: ") + e.what());
  }
}

}  // namespace

std::string negotiate_version(const std::string& asked) {
  for (const auto* v : kVersions) {
    if (asked == v) return asked;
  }
  return kVersions[0];
}

int run_server(const ServerOptions& options) {
  ::signal(SIGPIPE, SIG_IGN);
  // Leaked on purpose: call threads still running at exit hold it (the process ends right after).
  auto* server = new Server(options);
  return server->run();
}

}  // namespace trifecta::mcp
