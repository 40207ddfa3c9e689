// fake_lsp_server — a scripted language server for the lib/lsp tests.
//
// Speaks Content-Length JSON-RPC on stdin/stdout like Pyright, with Pyright's awkward habits on by
// default: window/logMessage notifications BEFORE the initialize result, and server→client
// requests (workspace/configuration, client/registerCapability, window/workDoneProgress/create)
// after `initialized`; diagnostics are withheld until workspace/configuration is answered with one
// object per item. Its language "support" is tiny but position-exact (UTF-16 columns):
//   definition  — the identifier at the position → the line "def NAME" / "class NAME" / "NAME ="
//                 in any open document (the NAME token's range);
//   hover       — "```python\nNAME\n```\nat L:C" with the 0-based UTF-16 position it received;
//   references  — every whole-word occurrence of the identifier in the open documents;
//   prepareCallHierarchy — the definitions of the identifier at the position (as definition),
//                 as items named after it (kind 12);
//   incomingCalls — each whole-word occurrence of the item's name followed by `(` that is not its
//                 `def`, grouped by the nearest `def NAME` line above it (the caller);
//   outgoingCalls — always [] (no callee analysis);
//   workspace/symbol — every `def NAME` / `class NAME` in the open documents whose NAME contains
//                 the query (kind 12 / 5);
//   diagnostics — one error per line containing "ERROR", at that word, published after didOpen
//                 and didChange (with the document version).
// Flags script failures:
//   --log-before-init N     logMessage notifications before the initialize result (default 2)
//   --refuse-initialize     answer initialize with an error
//   --no-diagnostics        never publish diagnostics (warm-up never completes)
//   --no-server-requests    send no server→client requests
//   --crash-on METHOD       _exit(3) when METHOD arrives (request or notification)
//   --crash-once FILE       only crash if FILE does not exist (created just before crashing)
//   --exit-at-start         _exit(7) before reading anything
//   --never-answer METHOD   never reply to METHOD (repeatable); a $/cancelRequest for it gets
//                           the RequestCancelled error, as Pyright does
//   --delay METHOD=MS       sleep MS before replying to METHOD (repeatable)
//   --grow-mb N             allocate and touch N MiB after initialize
//   --ignore-term           ignore SIGTERM (so only SIGKILL ends it)
//   --ignore-exit           do not exit on the `exit` notification
//   --progress-until METHOD after `initialized`: $/progress begin ("Analyzing", token
//                           "fake-progress") and a report; when METHOD first arrives, the log
//                           line "Found 3 source files" and $/progress end (before its reply)
//   --repeat-calls          incomingCalls sends every caller twice, each with its fromRanges
//                           doubled (Pyright repeats a call made through a union of classes)
//   --transcript FILE       append one line per received message: the method (or
//                           "response <id> <result json>"), "$/cancelRequest <id>" for cancels;
//                           a didOpen also logs "languageId <id>"
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;

namespace {

struct Options {
  int log_before_init = 2;
  bool refuse_initialize = false;
  bool diagnostics = true;
  bool server_requests = true;
  std::string crash_on;
  std::string crash_once;
  std::set<std::string> never_answer;
  std::map<std::string, int> delay_ms;
  int grow_mb = 0;
  bool ignore_exit = false;
  std::string transcript;
  std::string progress_until;
  bool repeat_calls = false;
};

Options opts;
std::map<std::string, std::string> docs;       // uri -> text
std::map<std::string, std::int64_t> versions;  // uri -> version
std::set<std::string> waiting_publish;         // opened before configuration was answered
std::map<std::int64_t, std::string> unanswered;  // never-answered request ids -> method
bool configured = false;
std::int64_t config_request_id = -1;
std::vector<char*> ballast;

void transcript(const std::string& line) {
  if (opts.transcript.empty()) return;
  std::ofstream out(opts.transcript, std::ios::app);
  out << line << "\n";
}

void write_all(const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(1, s.data() + off, s.size() - off);
    if (n <= 0) std::_Exit(9);
    off += static_cast<std::size_t>(n);
  }
}

void send(const json::value& msg) {
  const std::string body = json::serialize(msg);
  write_all("Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

// Reads one framed message; false on EOF.
bool read_message(std::string& body) {
  static std::string buf;
  auto fill = [] {
    char tmp[65536];
    const ssize_t n = ::read(0, tmp, sizeof tmp);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return false;
  const std::string header = buf.substr(0, end);
  const auto pos = header.find("Content-Length:");
  if (pos == std::string::npos) std::_Exit(11);
  const std::size_t length = std::strtoul(header.c_str() + pos + 15, nullptr, 10);
  buf.erase(0, end + 4);
  while (buf.size() < length)
    if (!fill()) return false;
  body = buf.substr(0, length);
  buf.erase(0, length);
  return true;
}

// --- positions: an implementation independent of lib/text/text.cpp -------------------------

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::size_t seq_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

std::size_t byte_of(const std::string& line, int utf16) {
  std::size_t i = 0;
  int u = 0;
  while (i < line.size() && u < utf16) {
    const std::size_t n = seq_len(static_cast<unsigned char>(line[i]));
    u += n == 4 ? 2 : 1;
    i += n;
  }
  return i;
}

int utf16_of(const std::string& line, std::size_t byte) {
  int u = 0;
  for (std::size_t i = 0; i < byte && i < line.size();) {
    const std::size_t n = seq_len(static_cast<unsigned char>(line[i]));
    u += n == 4 ? 2 : 1;
    i += n;
  }
  return u;
}

bool ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string word_at(const std::string& uri, int line, int character) {
  auto it = docs.find(uri);
  if (it == docs.end()) return {};
  auto ls = lines_of(it->second);
  if (line < 0 || line >= static_cast<int>(ls.size())) return {};
  const std::string& l = ls[line];
  std::size_t b = byte_of(l, character);
  if (b >= l.size() || !ident(l[b])) return {};
  std::size_t s = b, e = b;
  while (s > 0 && ident(l[s - 1])) --s;
  while (e < l.size() && ident(l[e])) ++e;
  return l.substr(s, e - s);
}

json::object range_of(const std::string& line, int lno, std::size_t byte, std::size_t len) {
  return json::object{
      {"start", json::object{{"line", lno}, {"character", utf16_of(line, byte)}}},
      {"end", json::object{{"line", lno}, {"character", utf16_of(line, byte + len)}}}};
}

// Whole-word occurrences of `word` in every open document.
json::array occurrences(const std::string& word, bool defs_only) {
  json::array out;
  for (const auto& [uri, text] : docs) {
    auto ls = lines_of(text);
    for (int i = 0; i < static_cast<int>(ls.size()); ++i) {
      const std::string& l = ls[i];
      for (std::size_t p = l.find(word); p != std::string::npos; p = l.find(word, p + 1)) {
        const bool starts = p == 0 || !ident(l[p - 1]);
        const bool ends = p + word.size() >= l.size() || !ident(l[p + word.size()]);
        if (!starts || !ends) continue;
        if (defs_only) {
          const std::string before = l.substr(0, p);
          const std::string after = l.substr(p + word.size());
          const bool is_def = before.find("def ") != std::string::npos || before.find("class ") != std::string::npos ||
                              (before.find_first_not_of(' ') == std::string::npos && after.rfind(" =", 0) == 0);
          if (!is_def) continue;
        }
        out.push_back(json::object{{"uri", uri}, {"range", range_of(l, i, p, word.size())}});
      }
    }
  }
  return out;
}

// `def NAME` / `class NAME` at line i of `l`: NAME's start, or npos.
std::size_t def_name_at(const std::string& l, std::string& name) {
  for (const char* kw : {"def ", "class "}) {
    const auto p = l.find(kw);
    if (p == std::string::npos || l.find_first_not_of(' ') != p) continue;
    const std::size_t b = p + std::string(kw).size();
    std::size_t e = b;
    while (e < l.size() && ident(l[e])) ++e;
    if (e == b) continue;
    name = l.substr(b, e - b);
    return b;
  }
  return std::string::npos;
}

json::object call_item(const std::string& uri, const std::string& name, int kind, const json::value& range) {
  return json::object{{"name", name}, {"kind", kind}, {"detail", "fake"},
                      {"uri", uri},   {"range", range}, {"selectionRange", range}};
}

json::array prepare_call_hierarchy(const std::string& word) {
  json::array out;
  for (const auto& loc : occurrences(word, true))
    out.push_back(call_item(std::string(loc.at("uri").as_string()), word, 12, loc.at("range")));
  return out;
}

json::array incoming_calls(const std::string& callee) {
  json::array out;
  for (const auto& [uri, text] : docs) {
    auto ls = lines_of(text);
    std::map<int, json::array> sites;  // caller's def line → call ranges
    std::map<int, std::pair<std::string, std::size_t>> callers;
    int caller = -1;
    for (int i = 0; i < static_cast<int>(ls.size()); ++i) {
      const std::string& l = ls[i];
      std::string name;
      const std::size_t dp = def_name_at(l, name);
      if (dp != std::string::npos) {
        caller = i;
        callers[i] = {name, dp};
      }
      for (std::size_t p = l.find(callee); p != std::string::npos; p = l.find(callee, p + 1)) {
        const std::size_t e = p + callee.size();
        if ((p > 0 && ident(l[p - 1])) || e >= l.size() || l[e] != '(' || p == dp || caller < 0) continue;
        sites[caller].push_back(range_of(l, i, p, callee.size()));
      }
    }
    for (auto& [line, ranges] : sites) {
      const auto& [name, col] = callers[line];
      if (opts.repeat_calls) {
        const json::array once = ranges;
        for (const auto& r : once) ranges.push_back(r);
      }
      const json::object call{{"from", call_item(uri, name, 12, range_of(ls[line], line, col, name.size()))},
                              {"fromRanges", std::move(ranges)}};
      out.push_back(call);
      if (opts.repeat_calls) out.push_back(call);
    }
  }
  return out;
}

json::array workspace_symbols(const std::string& query) {
  json::array out;
  for (const auto& [uri, text] : docs) {
    auto ls = lines_of(text);
    for (int i = 0; i < static_cast<int>(ls.size()); ++i) {
      std::string name;
      const std::size_t p = def_name_at(ls[i], name);
      if (p == std::string::npos || name.find(query) == std::string::npos) continue;
      const int kind = ls[i].find("class ") == ls[i].find_first_not_of(' ') ? 5 : 12;
      out.push_back(json::object{{"name", name},
                                 {"kind", kind},
                                 {"location", json::object{{"uri", uri}, {"range", range_of(ls[i], i, p, name.size())}}}});
    }
  }
  return out;
}

void publish(const std::string& uri) {
  if (!opts.diagnostics) return;
  if (!configured) {
    waiting_publish.insert(uri);
    return;
  }
  json::array diags;
  auto ls = lines_of(docs[uri]);
  for (int i = 0; i < static_cast<int>(ls.size()); ++i) {
    const auto p = ls[i].find("ERROR");
    if (p == std::string::npos) continue;
    diags.push_back(json::object{{"range", range_of(ls[i], i, p, 5)},
                                 {"severity", 1},
                                 {"code", "fakeError"},
                                 {"source", "fake"},
                                 {"message", "fake error on line " + std::to_string(i + 1)}});
  }
  send(json::object{{"jsonrpc", "2.0"},
                    {"method", "textDocument/publishDiagnostics"},
                    {"params", json::object{{"uri", uri}, {"version", versions[uri]}, {"diagnostics", diags}}}});
}

void reply(const json::value& id, json::value result) {
  send(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
}

void reply_error(const json::value& id, int code, const std::string& message) {
  send(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", json::object{{"code", code}, {"message", message}}}});
}

void maybe_crash(const std::string& method) {
  if (opts.crash_on.empty() || method != opts.crash_on) return;
  if (!opts.crash_once.empty()) {
    if (::access(opts.crash_once.c_str(), F_OK) == 0) return;
    std::ofstream(opts.crash_once) << "crashed\n";
  }
  transcript("crash " + method);
  std::_Exit(3);
}

void progress(const std::string& kind, json::object value) {
  value["kind"] = kind;
  send(json::object{{"jsonrpc", "2.0"},
                    {"method", "$/progress"},
                    {"params", json::object{{"token", "fake-progress"}, {"value", std::move(value)}}}});
}

void handle(const json::object& msg) {
  const auto* m = msg.if_contains("method");
  const auto* id = msg.if_contains("id");
  if (!m) {  // a response to one of our requests
    const std::int64_t rid = id && id->is_int64() ? id->as_int64() : -1;
    const auto* result = msg.if_contains("result");
    transcript("response " + std::to_string(rid) + " " + (result ? json::serialize(*result) : "none"));
    if (rid == config_request_id && result && result->is_array() && result->as_array().size() == 2 &&
        result->as_array()[0].is_object() && result->as_array()[1].is_object()) {
      configured = true;
      for (const auto& uri : waiting_publish) publish(uri);
      waiting_publish.clear();
    }
    return;
  }
  const std::string method(m->as_string());
  const json::object params = msg.contains("params") && msg.at("params").is_object() ? msg.at("params").as_object()
                                                                                      : json::object{};
  if (method == "$/cancelRequest") {
    const std::int64_t cid = params.contains("id") ? params.at("id").to_number<std::int64_t>() : -1;
    transcript("$/cancelRequest " + std::to_string(cid));
    if (unanswered.erase(cid)) reply_error(json::value(cid), -32800, "request cancelled");
    return;
  }
  transcript(method);
  maybe_crash(method);
  if (id && opts.never_answer.count(method)) {
    if (id->is_int64()) unanswered[id->as_int64()] = method;
    return;
  }
  if (!opts.progress_until.empty() && method == opts.progress_until) {
    opts.progress_until.clear();
    send(json::object{{"jsonrpc", "2.0"},
                      {"method", "window/logMessage"},
                      {"params", json::object{{"type", 3}, {"message", "Found 3 source files"}}}});
    progress("end", json::object{});
  }
  if (auto d = opts.delay_ms.find(method); d != opts.delay_ms.end())
    std::this_thread::sleep_for(std::chrono::milliseconds(d->second));

  if (method == "initialize") {
    for (int i = 0; i < opts.log_before_init; ++i)
      send(json::object{{"jsonrpc", "2.0"},
                        {"method", "window/logMessage"},
                        {"params", json::object{{"type", 3}, {"message", "fake server log " + std::to_string(i)}}}});
    if (opts.refuse_initialize) return reply_error(*id, -32603, "initialize refused by script");
    json::object caps{{"textDocumentSync", 1}, {"definitionProvider", true}, {"hoverProvider", true},
                      {"referencesProvider", true}};
    reply(*id, json::object{{"capabilities", caps}, {"serverInfo", json::object{{"name", "fake"}}}});
    if (opts.grow_mb > 0) {
      for (int i = 0; i < opts.grow_mb; ++i) {
        char* block = static_cast<char*>(std::malloc(1 << 20));
        std::memset(block, 1, 1 << 20);
        ballast.push_back(block);
      }
    }
  } else if (method == "initialized") {
    if (!opts.server_requests) {
      configured = true;
      return;
    }
    config_request_id = 1000;
    json::array items{json::object{{"section", "python"}}, json::object{{"section", "python.analysis"}}};
    send(json::object{{"jsonrpc", "2.0"}, {"id", 1000}, {"method", "workspace/configuration"},
                      {"params", json::object{{"items", items}}}});
    send(json::object{{"jsonrpc", "2.0"}, {"id", 1001}, {"method", "client/registerCapability"},
                      {"params", json::object{{"registrations", json::array{}}}}});
    send(json::object{{"jsonrpc", "2.0"}, {"id", 1002}, {"method", "window/workDoneProgress/create"},
                      {"params", json::object{{"token", "fake-progress"}}}});
    if (!opts.progress_until.empty()) {
      progress("begin", json::object{{"title", "Analyzing"}, {"cancellable", false}});
      progress("report", json::object{{"message", "3 files to analyze"}});
    }
  } else if (method == "textDocument/didOpen") {
    const auto& td = params.at("textDocument").as_object();
    const std::string uri(td.at("uri").as_string());
    docs[uri] = std::string(td.at("text").as_string());
    versions[uri] = td.at("version").to_number<std::int64_t>();
    transcript("languageId " + std::string(td.at("languageId").as_string()));
    publish(uri);
  } else if (method == "textDocument/didChange") {
    const auto& td = params.at("textDocument").as_object();
    const std::string uri(td.at("uri").as_string());
    docs[uri] = std::string(params.at("contentChanges").as_array().back().as_object().at("text").as_string());
    versions[uri] = td.at("version").to_number<std::int64_t>();
    publish(uri);
  } else if (method == "textDocument/didClose") {
    docs.erase(std::string(params.at("textDocument").at("uri").as_string()));
  } else if (method == "callHierarchy/incomingCalls") {
    reply(*id, incoming_calls(std::string(params.at("item").at("name").as_string())));
  } else if (method == "callHierarchy/outgoingCalls") {
    reply(*id, json::array{});
  } else if (method == "workspace/symbol") {
    reply(*id, workspace_symbols(std::string(params.at("query").as_string())));
  } else if (method == "textDocument/definition" || method == "textDocument/hover" ||
             method == "textDocument/references" || method == "textDocument/prepareCallHierarchy") {
    const std::string uri(params.at("textDocument").at("uri").as_string());
    const int line = params.at("position").at("line").to_number<int>();
    const int character = params.at("position").at("character").to_number<int>();
    const std::string word = word_at(uri, line, character);
    if (word.empty()) return reply(*id, nullptr);
    if (method == "textDocument/hover") {
      return reply(*id, json::object{{"contents", json::object{{"kind", "markdown"},
                                                               {"value", "```python\n" + word + "\n```\nat " +
                                                                             std::to_string(line) + ":" +
                                                                             std::to_string(character)}}}});
    }
    if (method == "textDocument/prepareCallHierarchy") return reply(*id, prepare_call_hierarchy(word));
    reply(*id, occurrences(word, method == "textDocument/definition"));
  } else if (method == "shutdown") {
    reply(*id, nullptr);
  } else if (method == "exit") {
    if (!opts.ignore_exit) std::_Exit(0);
  } else if (id) {
    reply_error(*id, -32601, "method not found: " + method);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--log-before-init") opts.log_before_init = std::stoi(next());
    else if (a == "--refuse-initialize") opts.refuse_initialize = true;
    else if (a == "--no-diagnostics") opts.diagnostics = false;
    else if (a == "--no-server-requests") opts.server_requests = false;
    else if (a == "--crash-on") opts.crash_on = next();
    else if (a == "--crash-once") opts.crash_once = next();
    else if (a == "--exit-at-start") std::_Exit(7);
    else if (a == "--never-answer") opts.never_answer.insert(next());
    else if (a == "--delay") {
      const std::string v = next();
      const auto eq = v.find('=');
      opts.delay_ms[v.substr(0, eq)] = std::stoi(v.substr(eq + 1));
    } else if (a == "--grow-mb") opts.grow_mb = std::stoi(next());
    else if (a == "--ignore-term") ::signal(SIGTERM, SIG_IGN);
    else if (a == "--ignore-exit") opts.ignore_exit = true;
    else if (a == "--progress-until") opts.progress_until = next();
    else if (a == "--repeat-calls") opts.repeat_calls = true;
    else if (a == "--transcript") opts.transcript = next();
    else if (a == "--stdio") continue;
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "fake lsp server starting\n");
  std::fflush(stderr);
  std::string body;
  while (read_message(body)) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) continue;
    handle(v.as_object());
  }
  return 0;
}
