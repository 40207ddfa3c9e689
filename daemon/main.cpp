// trifectad — the resident Trifecta daemon. Wiring only: flags → config → socket → serve.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string_view>
#include <thread>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "config.hpp"
#include "dispatcher.hpp"
#include "handlers_core.hpp"
#include "lang/language.hpp"
#include "log_format.hpp"
#include "lsp_attach.hpp"
#include "methods.hpp"
#include "server.hpp"
#include "service/executor.hpp"
#include "self_check.hpp"
#include "service/service.hpp"
#include "util/cli_doc.hpp"
#include "util/malloc_tune.hpp"
#include "socket_setup.hpp"
#include "telemetry/sink.hpp"
#include "trifecta/proto/protocol.hpp"

namespace td = trifecta::daemon;
namespace core = trifecta::core;
namespace json = boost::json;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitAlreadyRunning = 3;

void setup_logging(const td::Config& cfg) {
  std::shared_ptr<spdlog::logger> logger;
  if (cfg.foreground) {
    logger = spdlog::stderr_color_mt("trifectad");
  } else {
    std::error_code ec;
    std::filesystem::create_directories(cfg.state_dir, ec);
    // Bounded: 5 MiB x 3 files.
    logger = spdlog::rotating_logger_mt("trifectad", (cfg.state_dir / "trifectad.log").string(), 5 << 20, 3);
  }
  // Names that are not UTF-8 are written percent-escaped, never as raw bytes (log_format.hpp).
  logger->set_formatter(std::make_unique<td::Utf8SafeFormatter>("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%P] %v"));
  logger->set_level(spdlog::level::from_str(cfg.log_level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

// Detach from the terminal. The parent waits on a pipe until the child is serving (or failed), so
// `trifectad` returning 0 means the socket answers. Must run before any thread is created.
int daemonize(int& ready_fd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid > 0) {
    ::close(fds[1]);
    char status = 1;
    const ssize_t n = ::read(fds[0], &status, 1);
    if (n == 1 && status == 0) return 1;  // parent: child is serving
    int ws = 0;
    ::waitpid(pid, &ws, WNOHANG);
    return 2;  // parent: child failed before serving
  }
  ::close(fds[0]);
  ::setsid();
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    if (devnull > 2) ::close(devnull);
  }
  ready_fd = fds[1];
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  core::util::tune_malloc();
  td::Config cfg;
  cfg.socket_path = td::default_socket_path();
  cfg.state_dir = td::default_state_dir();
  long idle_s = static_cast<long>(cfg.idle_timeout.count());
  long conn_idle_s = static_cast<long>(cfg.conn_idle_timeout.count());
  long conn_idle_pressure_s = static_cast<long>(cfg.conn_idle_timeout_pressure.count());
  long request_timeout_s = static_cast<long>(cfg.request_timeout.count());
  std::string socket_flag;
  bool debug_methods = false;
  bool no_lsp = false;
  std::string pyright_path;
  long open_delay_ms = 0;
  long lsp_ready_s = 60, lsp_request_ms = 5000, lsp_idle_s = 15 * 60, lsp_rss_mb = 2048;
  long lsp_total_rss_mb = 4096, lsp_memory_check_ms = 5000;

  CLI::App app{"trifectad — Trifecta's resident code-context daemon"};
  app.set_version_flag("--version", std::string("trifectad ") + trifecta::proto::kVersion + " (protocol " +
                                        trifecta::proto::protocol_version() + ")");
  app.add_flag("-f,--foreground", cfg.foreground, "Stay in the foreground and log to stderr");
  app.add_option("--socket", socket_flag, "Socket path (default: $TRIFECTA_SOCKET, $XDG_RUNTIME_DIR/trifecta/trifectad.sock)");
  app.add_option("--idle-timeout", idle_s, "Exit after this many seconds with no connections and no work (0 = never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--conn-idle-timeout", conn_idle_s, "Close a connection silent for this many seconds")
      ->check(CLI::PositiveNumber);
  app.add_option("--log-level", cfg.log_level, "trace|debug|info|warn|err|critical|off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "err", "critical", "off"}));
  app.add_option("--workers", cfg.workers, "Worker threads (0 = hardware threads, at least 2)");
  app.add_option("--max-connections", cfg.max_connections, "Maximum concurrent connections")->check(CLI::PositiveNumber);
  app.add_option("--max-inflight", cfg.max_inflight_per_conn, "Maximum unanswered requests per connection")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-segments", cfg.max_segments,
                 "Open segments kept at once; opening one more closes the least recently used idle one")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-line-bytes", cfg.max_line_bytes, "Maximum request line size in bytes")->check(CLI::PositiveNumber);
  app.add_option("--max-buffered-bytes", cfg.max_buffered_bytes,
                 "Budget for unterminated request bytes across all connections; above it the connection "
                 "holding the most is refused (SERVER_BUSY)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-reply-bytes", cfg.max_reply_bytes, "A reply longer than this is answered with TOO_LARGE instead")
      ->check(CLI::PositiveNumber);
  app.add_option("--request-timeout", request_timeout_s, "Answer TIMEOUT to a request still unanswered after this many seconds")
      ->check(CLI::PositiveNumber);
  app.add_option("--conn-idle-timeout-pressure", conn_idle_pressure_s,
                 "Idle timeout of a connection while more than 3/4 of --max-connections are open, seconds")
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-lsp", no_lsp, "Never start Pyright (answers come from the AST only)");
  app.add_option("--lsp-ready-timeout", lsp_ready_s, "Seconds Pyright may take to become READY before it counts as FAILED")
      ->check(CLI::PositiveNumber);
  app.add_option("--lsp-request-timeout", lsp_request_ms, "Deadline of one Pyright request, ms (then $/cancelRequest)")
      ->check(CLI::PositiveNumber);
  app.add_option("--lsp-idle-timeout", lsp_idle_s, "Stop an unused segment's Pyright after this many seconds (0 = never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--lsp-rss-limit-mb", lsp_rss_mb, "Restart a Pyright above this resident memory, MiB (0 = no guard)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--lsp-total-rss-mb", lsp_total_rss_mb,
                 "Total resident memory of all language servers, MiB; above it the least recently used are "
                 "stopped (COLD) until it fits, the most recent always stays (0 = no cap)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--lsp-memory-check-ms", lsp_memory_check_ms, "How often the total is checked, ms")
      ->check(CLI::Range(100L, 600'000L))
      ->group("");
  app.add_option("--pyright", pyright_path, "Language server launcher (default: $TRIFECTA_PYRIGHT, the set-up's, PATH)");
  app.add_flag("--enable-debug-methods", debug_methods, "Register debug.* methods (for tests)")->group("");
  app.add_option("--debug-open-delay-ms", open_delay_ms, "Sleep this long in every segment open (for tests)")
      ->check(CLI::Range(0L, 60'000L))
      ->group("");
  bool self_check = false;
  app.add_flag("--self-check", self_check,
               "Print what this binary would run with (version, grammar ABI, language server and "
               "whether it starts) as JSON, then exit; `trifecta doctor` reads it")
      ->group("");
  // The man page is rendered from this App (util/cli_doc.hpp); the build runs `trifectad --man`.
  if (argc == 2 && std::string_view(argv[1]) == "--man") {
    namespace cd = core::cli_doc;
    cd::ManPage page;
    page.version = std::string("trifectad ") + trifecta::proto::kVersion;
    page.date = cd::build_date();
    page.summary = "the Trifecta code-context daemon";
    page.extra_roff =
        ".SH ENVIRONMENT\n.TP\n.B TRIFECTA_SOCKET\nSocket path when \\fB\\-\\-socket\\fR is not given.\n"
        ".TP\n.B TRIFECTA_PYRIGHT\nThe language server launcher to run (see \\fBtrifecta setup\\-pyright\\fR).\n"
        ".TP\n.B LSP_ENABLED\nfalse, 0, no or off: never start the language server.\n"
        ".SH FILES\n.TP\n.I $XDG_RUNTIME_DIR/trifecta/trifectad.sock\nThe default socket (directory mode 0700).\n"
        ".TP\n.I $XDG_STATE_HOME/trifecta/trifectad.log\nThe log when not in the foreground.\n"
        ".TP\n.I lib/systemd/user/trifectad.socket\nThe socket-activation user unit, under the install prefix: "
        "\\fBsystemctl \\-\\-user enable \\-\\-now trifectad.socket\\fR.\n"
        ".SH SEE ALSO\n.BR trifecta (1)\n";
    std::fputs(cd::man_page(cd::describe_app(app, "trifectad"), page).c_str(), stdout);
    return kExitOk;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (self_check) {
    auto inputs = core::lang::python::DiscoveryInputs::from_env();
    inputs.enabled = !no_lsp;
    if (!pyright_path.empty()) inputs.config_path = pyright_path;
    std::puts(td::self_check_json(inputs, std::chrono::seconds(20)).c_str());
    return kExitOk;
  }
  if (!socket_flag.empty()) cfg.socket_path = socket_flag;
  cfg.idle_timeout = std::chrono::seconds(idle_s);
  cfg.conn_idle_timeout = std::chrono::seconds(conn_idle_s);
  cfg.conn_idle_timeout_pressure = std::chrono::seconds(conn_idle_pressure_s);
  cfg.request_timeout = std::chrono::seconds(request_timeout_s);
  cfg.socket_path = std::filesystem::absolute(cfg.socket_path);

  ::signal(SIGPIPE, SIG_IGN);

  // Socket first: a second daemon must refuse before it touches anything else.
  auto claimed = td::adopt_systemd_socket(cfg.socket_path);
  if (claimed && claimed->listen_fd < 0) claimed = td::claim_socket(cfg.socket_path);
  if (!claimed) {
    const bool running = claimed.error().code == core::Errc::kUnavailable;
    std::fprintf(stderr, "trifectad: %s\n", claimed.error().message.c_str());
    return running ? kExitAlreadyRunning : kExitFailure;
  }
  td::ClaimedSocket sock = std::move(claimed).value();

  int ready_fd = -1;
  if (!cfg.foreground && !sock.activated) {
    const int role = daemonize(ready_fd);
    if (role == 1) return kExitOk;
    if (role == 2) {
      std::fprintf(stderr, "trifectad: failed to start; see %s\n", (cfg.state_dir / "trifectad.log").c_str());
      return kExitFailure;
    }
    if (role < 0) {
      std::perror("trifectad: fork");
      return kExitFailure;
    }
    td::write_pid_file(sock);
  }
  setup_logging(cfg);

  // One event per request and a few counters: the writer, woken on the first message, drains far
  // faster than requests arrive, so 2^15 slots (512 KiB) are plenty. The queue's cells are all
  // written when it is made, so its size is resident from the start: the library default (2^18,
  // 4 MiB) is sized for the telemetry benchmark's bursts of 160,000 events from 16 threads.
  core::telemetry::SinkOptions sink_options = core::telemetry::SinkOptions::from_env();
  sink_options.queue_capacity = std::size_t{1} << 15;
  core::telemetry::Sink sink(sink_options);
  core::telemetry::Channel daemon_events = sink.open_directory(cfg.state_dir / "telemetry", "daemon");
  std::unique_ptr<td::Server> server;

  td::LspConfig lsp_config;
  lsp_config.enabled = !no_lsp;
  lsp_config.ready_timeout = std::chrono::seconds(lsp_ready_s);
  lsp_config.request_timeout = std::chrono::milliseconds(lsp_request_ms);
  lsp_config.idle_timeout = std::chrono::seconds(lsp_idle_s);
  lsp_config.rss_limit_bytes = static_cast<std::uint64_t>(lsp_rss_mb) << 20;
  {
    auto inputs = core::lang::python::DiscoveryInputs::from_env();
    inputs.enabled = !no_lsp;
    if (!pyright_path.empty()) inputs.config_path = pyright_path;
    lsp_config.server = core::lang::python_language().discover_server(inputs);
  }

  // The service (lib/service): segments, their Pyright and their builds; work runs on the
  // server's worker pool. Opening a segment starts its index build and its Pyright warm-up, in
  // parallel, outside the registry lock.
  core::service::FunctionExecutor worker_pool([&](std::function<void()> fn) { server->post_work(std::move(fn)); });
  core::service::FunctionExecutor build_pool([&](std::function<void()> fn) { server->post_build(std::move(fn)); });
  core::service::ServiceOptions service_options;
  service_options.build_executor = &build_pool;
  service_options.max_segments = cfg.max_segments;
  service_options.lsp_enabled = lsp_config.enabled;
  // Changes are applied in the background too, not only by the next request's sync
  // (Service::watch_changes): the server's loop waits on a copy of each watcher's descriptor.
  service_options.when_readable = [&](int fd, std::function<void()> fn) {
    return server->when_readable(fd, std::move(fn));
  };
  service_options.schedule_after = [&](std::chrono::milliseconds d, std::function<void()> fn) {
    server->schedule_after(d, std::move(fn));
  };
  service_options.on_open = [&](core::service::Segment& seg) {
    if (open_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(open_delay_ms));
    td::attach_lsp(seg, server->io(), lsp_config);
  };
  core::service::Service service(sink, worker_pool, std::move(service_options));
  td::SegmentRegistry& segments = service.segments();
  td::Dispatcher dispatcher(segments);

  td::CoreDeps deps{cfg, segments, sink, [&]() -> const td::ServerCounters& { return server->counters(); },
                    [&] { return server->workers(); }, [&](std::string why) { server->request_stop(std::move(why)); },
                    [&](std::chrono::milliseconds d, std::function<void()> fn) { server->schedule_after(d, std::move(fn)); },
                    sock.activated, debug_methods};
  td::bind_core_handlers(dispatcher, deps);
  td::bind_service_methods(dispatcher, service);
  td::Dispatcher::Limits limits;
  limits.max_reply_bytes = cfg.max_reply_bytes;
  limits.request_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.request_timeout);
  limits.schedule = [&](std::chrono::milliseconds d, std::function<void()> fn) { server->schedule_after(d, std::move(fn)); };
  dispatcher.set_limits(std::move(limits));

  td::Server::Hooks hooks;
  hooks.on_refused = [&](std::string_view reason, std::int64_t uid) {
    (void)daemon_events.event("daemon.refused", {}, json::object{{"reason", reason}, {"peer_uid", uid}}, 0);
  };
  server = std::make_unique<td::Server>(cfg, sock.listen_fd, dispatcher, hooks);
  if (lsp_config.server) {
    spdlog::info("language server: {} {} ({})", lsp_config.server->path.string(), lsp_config.server->version,
                 lsp_config.server->source);
  } else {
    spdlog::info("language server unavailable: {}", lsp_config.server.error().message);
  }

  (void)daemon_events.event("daemon.start", json::object{{"socket_activated", sock.activated}, {"foreground", cfg.foreground}},
                            json::object{{"pid", ::getpid()}, {"version", trifecta::proto::kVersion},
                                         {"protocol", trifecta::proto::protocol_version()}, {"workers", server->workers()}},
                            0);
  spdlog::info("trifectad {} (protocol {}) serving on {}{} with {} workers; idle timeout {}s", trifecta::proto::kVersion,
               trifecta::proto::protocol_version(), cfg.socket_path.string(), sock.activated ? " (systemd)" : "",
               server->workers(), cfg.idle_timeout.count());
  sd_notify(0, "READY=1");
  if (ready_fd >= 0) {
    const char ok = 0;
    (void)!::write(ready_fd, &ok, 1);
    ::close(ready_fd);
  }

  // The total memory cap on the language servers: checked on a worker every
  // --lsp-memory-check-ms (the next check is scheduled when one finished).
  std::function<void()> lsp_memory_tick;
  if (lsp_config.enabled && lsp_total_rss_mb > 0) {
    const std::uint64_t cap = static_cast<std::uint64_t>(lsp_total_rss_mb) << 20;
    const auto period = std::chrono::milliseconds(lsp_memory_check_ms);
    lsp_memory_tick = [&, cap, period] {
      server->post_work([&, cap, period] {
        for (const auto& line : service.enforce_lsp_memory(cap)) spdlog::warn("language server stopped: {}", line);
        server->schedule_after(period, lsp_memory_tick);
      });
    };
    server->schedule_after(period, lsp_memory_tick);
  }

  const core::Stopwatch uptime;
  server->run();
  service.stop_watching_changes();  // the loop runs again below only to stop the language servers

  sd_notify(0, "STOPPING=1");
  // Stop every Pyright gracefully (shutdown request, exit notification) on the I/O loop their
  // pipes live on; whatever is still running after the grace is killed by close_all().
  {
    auto pending = std::make_shared<std::size_t>(0);
    for (auto& seg : segments.list()) {
      if (!seg->lsp || seg->lsp->state() == core::lsp::State::kCold) continue;
      ++*pending;
      seg->lsp->stop([pending] { --*pending; });
    }
    if (*pending && !server->run_until([pending] { return *pending == 0; }, std::chrono::seconds(3))) {
      spdlog::warn("{} language server(s) did not stop within 3 s: killing them", *pending);
    }
  }
  segments.close_all();  // kills and reaps any server still running
  const auto& k = server->counters();
  (void)daemon_events.event("daemon.stop", {}, json::object{{"reason", server->stop_reason()},
                                                           {"requests_total", k.requests_total.load()},
                                                           {"uptime_s", uptime.elapsed_ms() / 1000.0}},
                            0);
  server.reset();
  sink.stop();  // flush events and last_run.json for every segment
  td::release_socket(sock);
  spdlog::info("stopped ({})", "clean");
  spdlog::shutdown();
  return kExitOk;
}
