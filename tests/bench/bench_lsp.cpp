// bench_lsp — what lib/lsp costs on top of Pyright itself.
//
//   bench_lsp <corpus_root> [--samples N] [--first REL] [--files REL,REL,...] [--spawns K]
//
// On a copy of a Python tree (scripts/bench_lsp.sh uses the machine's stdlib):
//  1. spawn → READY through lsp::Client (K cold starts; READY = initialize result + didOpen of the
//     first file + its publishDiagnostics), and the same milestone reached by a minimal direct
//     client;
//  2. definition and hover latency for N identifier positions sampled (fixed seed) from the given
//     files, through lsp::Client (request posted from this thread, io_context on its own thread,
//     result converted to relative paths and character columns — what a daemon worker sees) and
//     through a minimal blocking client talking to a second Pyright over the same kind of pipes,
//     interleaved sample by sample so both servers see the same load. One warm-up pass first.
// Prints a Markdown report on stdout.
#include <poll.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "bench_stats.hpp"
#include "../support/temp_dir.hpp"
#include "lang/python/pyright.hpp"
#include "lsp/client.hpp"
#include "lsp/framing.hpp"
#include "lsp/process.hpp"
#include "text/text.hpp"
#include "util/clock.hpp"

using namespace trifecta::core;
using namespace trifecta::core::text;
using namespace trifecta::bench;
using namespace trifecta::core::lsp;
using namespace std::chrono_literals;

namespace {

struct Sample {
  std::string file;  // relative
  int line;          // 1-based
  int column;        // 1-based characters
  int utf16;         // 0-based UTF-16
};

const std::set<std::string> kKeywords = {
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
    "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "self"};

// Identifier starts outside comments and (roughly) strings, sampled with a fixed seed.
std::vector<Sample> sample_positions(const fs::path& root, const std::vector<std::string>& files, std::size_t n) {
  std::vector<Sample> all;
  for (const auto& rel : files) {
    const std::string text = trifecta::test::read_text(root / rel);
    int lno = 0;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      ++lno;
      const auto hash = line.find('#');
      const std::string code = line.substr(0, hash);
      if (code.find('"') != std::string::npos || code.find('\'') != std::string::npos) continue;
      for (std::size_t i = 0; i < code.size();) {
        const auto c = static_cast<unsigned char>(code[i]);
        if (std::isalpha(c) || c == '_') {
          std::size_t j = i;
          while (j < code.size() && (std::isalnum(static_cast<unsigned char>(code[j])) || code[j] == '_')) ++j;
          const std::string word = code.substr(i, j - i);
          if (!kKeywords.count(word) && word.size() > 1) {
            const int col = static_cast<int>(i) + 1;  // ASCII prefix; converted below anyway
            all.push_back({rel, lno, col, utf16_from_column(line, col)});
          }
          i = j;
        } else {
          ++i;
        }
      }
    }
  }
  std::mt19937 rng(20261125);
  std::shuffle(all.begin(), all.end(), rng);
  if (all.size() > n) all.resize(n);
  return all;
}

// ---- the minimal direct client: blocking pipes, our framing, nothing else -------------------------
class DirectClient {
 public:
  DirectClient(const ServerBinary& server, const fs::path& root) : root_(root) {
    auto c = spawn_child({server.path.string(), "--stdio"}, root);
    if (!c) throw std::runtime_error(c.error().message);
    child_ = *c;
  }
  ~DirectClient() {
    terminate_group(child_.pid, 1000ms);
    for (int fd : {child_.stdin_fd, child_.stdout_fd, child_.stderr_fd}) ::close(fd);
  }

  void send(const json::object& msg) {
    const std::string frame = encode_frame(json::serialize(msg));
    std::size_t off = 0;
    while (off < frame.size()) {
      const ssize_t n = ::write(child_.stdin_fd, frame.data() + off, frame.size() - off);
      if (n > 0) off += static_cast<std::size_t>(n);
      else wait_fd(child_.stdin_fd, POLLOUT);
    }
  }

  // Reads until `stop(msg)`; answers server requests on the way (as any client must).
  json::object read_until(const std::function<bool(const json::object&)>& stop) {
    while (true) {
      auto body = decoder_.next();
      if (!body) throw std::runtime_error(body.error().message);
      if (*body) {
        json::object msg = json::parse(**body).as_object();
        if (msg.contains("method") && msg.contains("id")) {
          json::value result(nullptr);
          if (msg.at("method").as_string() == "workspace/configuration") {
            json::array items;
            for (std::size_t i = 0; i < msg.at("params").at("items").as_array().size(); ++i) items.push_back(json::object{});
            result = items;
          }
          send(json::object{{"jsonrpc", "2.0"}, {"id", msg.at("id")}, {"result", result}});
          continue;
        }
        if (stop(msg)) return msg;
        continue;
      }
      char buf[65536];
      const ssize_t n = ::read(child_.stdout_fd, buf, sizeof buf);
      if (n > 0) decoder_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      else if (n == 0) throw std::runtime_error("direct client: server closed stdout");
      else wait_fd(child_.stdout_fd, POLLIN);
      drain_stderr();
    }
  }

  json::value call(const std::string& method, json::value params) {
    const std::int64_t id = next_id_++;
    send(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
    json::object reply = read_until([id](const json::object& m) {
      const auto* i = m.if_contains("id");
      return i && i->is_int64() && i->as_int64() == id && !m.contains("method");
    });
    const auto* r = reply.if_contains("result");
    return r ? *r : json::value(nullptr);
  }

  void notify(const std::string& method, json::value params) {
    send(json::object{{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
  }

  void open(const std::string& rel) {
    notify("textDocument/didOpen",
           json::object{{"textDocument", json::object{{"uri", path_to_uri(root_ / rel)},
                                                       {"languageId", "python"},
                                                       {"version", 1},
                                                       {"text", trifecta::test::read_text(root_ / rel)}}}});
  }

  void wait_diagnostics(const std::string& rel) {
    const std::string uri = path_to_uri(root_ / rel);
    read_until([&](const json::object& m) {
      return m.contains("method") && m.at("method").as_string() == "textDocument/publishDiagnostics" &&
             m.at("params").at("uri").as_string() == uri;
    });
  }

  json::object position(const Sample& s) const {
    return json::object{{"textDocument", json::object{{"uri", path_to_uri(root_ / s.file)}}},
                        {"position", json::object{{"line", s.line - 1}, {"character", s.utf16}}}};
  }

  pid_t pid() const { return child_.pid; }

 private:
  static void wait_fd(int fd, short events) {
    pollfd p{fd, events, 0};
    ::poll(&p, 1, 1000);
  }
  void drain_stderr() {
    char buf[4096];
    while (::read(child_.stderr_fd, buf, sizeof buf) > 0) {
    }
  }

  fs::path root_;
  ChildProcess child_;
  FrameDecoder decoder_;
  std::int64_t next_id_ = 1;
};

json::object initialize_params(const fs::path& root) {
  json::object caps{{"workspace", json::object{{"configuration", true}}},
                    {"textDocument", json::object{{"publishDiagnostics", json::object{{"versionSupport", true}}}}}};
  return json::object{{"processId", static_cast<std::int64_t>(::getpid())},
                      {"rootUri", path_to_uri(root)},
                      {"capabilities", caps},
                      {"workspaceFolders", json::array{json::object{{"uri", path_to_uri(root)}, {"name", "corpus"}}}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_lsp <corpus_root> [--samples N] [--first REL] [--files a,b] [--spawns K]\n";
    return 2;
  }
  const fs::path root = fs::canonical(argv[1]);
  std::size_t samples = 300;
  int spawns = 3;
  std::string first = "json/decoder.py";
  std::vector<std::string> files = {"json/decoder.py", "json/encoder.py", "argparse.py", "collections/__init__.py",
                                    "email/message.py", "http/client.py", "logging/__init__.py", "pathlib.py"};
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--samples" && i + 1 < argc) samples = std::stoul(argv[++i]);
    else if (a == "--first" && i + 1 < argc) first = argv[++i];
    else if (a == "--spawns" && i + 1 < argc) spawns = std::stoi(argv[++i]);
    else if (a == "--files" && i + 1 < argc) {
      files.clear();
      std::stringstream ss(argv[++i]);
      for (std::string f; std::getline(ss, f, ',');) files.push_back(f);
    }
  }
  spdlog::set_level(spdlog::level::warn);  // the client logs every transition at info
  auto server = lang::python::discover_server(lang::python::DiscoveryInputs::from_env());
  if (!server) {
    std::cerr << "bench_lsp: no server: " << server.error().message << "\n";
    return 1;
  }
  const auto positions = sample_positions(root, files, samples);

  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });

  ClientOptions o;
  o.segment_root = root;
  o.server = *server;
  o.language_id = "python";
  o.settings = lang::python::default_settings(o.server);
  o.request_timeout = 30s;
  o.ready_timeout = 120s;
  o.rss_limit_bytes = 0;

  // 1. spawn → READY, alternating a cold start of the direct client and one of lsp::Client, each
  // torn down before the next so no other Pyright is busy (indexing the workspace) meanwhile.
  auto direct_cold_start = [&] {
    auto d = std::make_unique<DirectClient>(*server, root);
    d->call("initialize", initialize_params(root));
    d->notify("initialized", json::object{});
    d->open(first);
    d->wait_diagnostics(first);
    return d;
  };
  auto client = std::make_unique<Client>(io, o);
  auto client_cold_start = [&] {
    client->start(first);
    std::promise<State> p;
    client->when_ready(120s, [&p](State s) { p.set_value(s); });
    if (p.get_future().get() != State::kReady) {
      std::cerr << "bench_lsp: server did not reach READY\n";
      std::exit(1);
    }
  };
  auto client_stop = [&] {
    std::promise<void> stopped;
    client->stop([&stopped] { stopped.set_value(); });
    stopped.get_future().get();
  };
  std::vector<double> direct_ready, ready_ms;
  for (int k = 0; k < spawns; ++k) {
    Stopwatch sw;
    auto d = direct_cold_start();
    direct_ready.push_back(sw.elapsed_ms());
    d.reset();  // kill + reap, not timed
    sw.reset();
    client_cold_start();
    ready_ms.push_back(sw.elapsed_ms());
    client_stop();
  }
  // The sessions the latencies are measured in (not timed).
  auto direct_ptr = direct_cold_start();
  DirectClient& direct = *direct_ptr;
  client_cold_start();
  for (const auto& f : files) client->did_open(f);
  for (const auto& f : files)
    if (f != first) direct.open(f);

  // 2. latency, warm-up pass first.
  std::vector<double> ours_def, ours_hover, direct_def, direct_hover;
  std::size_t agree = 0, resolved = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < positions.size(); ++i) {
      const Sample& s = positions[i];
      const Position pos{s.line, s.column};
      auto run_ours = [&] {
        Stopwatch sw;
        auto d = blocking<std::vector<Location>>([&](auto cb) { client->definition(s.file, pos, cb); });
        const double def_ms = sw.elapsed_ms();
        sw.reset();
        auto h = blocking<std::optional<HoverInfo>>([&](auto cb) { client->hover(s.file, pos, cb); });
        const double hover_ms = sw.elapsed_ms();
        if (pass == 1) {
          ours_def.push_back(def_ms);
          ours_hover.push_back(hover_ms);
        }
        return d.ok() ? d->size() : 0;
      };
      auto run_direct = [&] {
        Stopwatch sw;
        json::value d = direct.call("textDocument/definition", direct.position(s));
        const double def_ms = sw.elapsed_ms();
        sw.reset();
        direct.call("textDocument/hover", direct.position(s));
        const double hover_ms = sw.elapsed_ms();
        if (pass == 1) {
          direct_def.push_back(def_ms);
          direct_hover.push_back(hover_ms);
        }
        return d.is_array() ? d.as_array().size() : (d.is_object() ? 1 : 0);
      };
      std::size_t ours_n, direct_n;
      if (i % 2 == 0) {
        ours_n = run_ours();
        direct_n = run_direct();
      } else {
        direct_n = run_direct();
        ours_n = run_ours();
      }
      if (pass == 1) {
        resolved += ours_n > 0;
        agree += ours_n == direct_n;
      }
    }
  }
  const Status st = client->status();
  const auto direct_rss = read_rss_bytes(direct.pid());

  auto row = [](const char* what, const std::vector<double>& ours, const std::vector<double>& raw) {
    std::printf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2fx |\n", what, median(ours), pct(ours, 95), median(raw),
                pct(raw, 95), median(ours) - median(raw), median(raw) > 0 ? median(ours) / median(raw) : 0.0);
  };
  std::printf("Server: %s %s; corpus: %zu sampled identifier positions in %zu files; warm-up pass discarded.\n\n",
              server->name.c_str(), server->version.c_str(), positions.size(), files.size());
  std::printf("| spawn → READY | median ms | runs |\n|---|---|---|\n");
  std::printf("| lsp::Client (initialize + didOpen `%s` + its diagnostics) | %.0f | %zu (", first.c_str(),
              median(ready_ms), ready_ms.size());
  for (std::size_t i = 0; i < ready_ms.size(); ++i) std::printf("%s%.0f", i ? ", " : "", ready_ms[i]);
  std::printf(") |\n| direct minimal client, same milestone | %.0f | %zu (", median(direct_ready), direct_ready.size());
  for (std::size_t i = 0; i < direct_ready.size(); ++i) std::printf("%s%.0f", i ? ", " : "", direct_ready[i]);
  std::printf(") |\n\n");
  std::printf("| request | ours median ms | ours p95 | direct median ms | direct p95 | overhead (median) | ratio |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  row("definition", ours_def, direct_def);
  row("hover", ours_hover, direct_hover);
  std::printf("\nDefinitions resolved through the client: %zu / %zu; same number of targets as the direct client: "
              "%zu / %zu.\n",
              resolved, positions.size(), agree, positions.size());
  std::printf("Server RSS after the run: client's %.0f MiB, direct's %.0f MiB.\n",
              static_cast<double>(st.rss_bytes) / (1 << 20),
              static_cast<double>(direct_rss.value_or(0)) / (1 << 20));

  std::promise<void> stopped;
  client->stop([&stopped] { stopped.set_value(); });
  stopped.get_future().get();
  client.reset();
  guard.reset();
  io.stop();
  io_thread.join();
  return 0;
}
