// daemon/server.hpp — trifectad's transport and lifecycle: the daemon's Asio code (lsp_attach.cpp
// only hands the io_context to lsp::Client; docs/layering.md lists where Asio is allowed).
//
// One I/O thread runs the io_context: the acceptor, every session's reads and writes, timers and
// signals. It never hashes or touches files, and parses JSON only to route a short line
// (Dispatcher::lane): `ping` and `hello` are answered on it; `status`, and `ctx.status` and
// `wait:false` requests on an open segment, are posted to the quick lane (kQuickThreads threads of
// their own); every other line to the bounded worker pool. So a worker stuck in a handler (a hung
// backend) never delays ping, status or a wait:false request (issue 16 item 7). The Dispatcher
// parses and handles each line; the reply line is posted back to the session's I/O thread and
// written in order of completion.
//
// Limits (all with clear errors or clean closes): a line over `max_line_bytes` → RequestTooLarge,
// then close; unterminated bytes of all connections over `max_buffered_bytes` → the connection
// holding the most gets ServerBusy, then close; more than `max_inflight_per_conn` unanswered
// requests → ServerBusy for the excess; a new connection beyond `max_connections` closes the
// connection idle the longest, or, when none is idle, gets ServerBusy, then close; a connection
// silent for `conn_idle_timeout` (`conn_idle_timeout_pressure` while more than 3/4 of
// `max_connections` are open) with nothing in flight → closed; a peer with another uid
// (SO_PEERCRED) → PermissionDenied, then close. A client that stops reading is not read from
// until its replies drain. accept() failing (EMFILE) is never retried at once: a reserve fd
// accepts the waiting clients to answer them ServerBusy, the oldest idle connection is closed,
// and accepting resumes after a back-off (50 ms doubling to 1 s), logged once per 10 s.
//
// Lifecycle: run() serves until SIGTERM/SIGINT, a `shutdown` request, or idle exit (no connections
// and no work for `idle_timeout`). Graceful stop: close the acceptor, stop reading, let in-flight
// requests finish and their replies drain (bounded by `drain_timeout`), close sessions, join the
// workers. The caller then flushes telemetry and releases the socket. A worker that is still busy
// `drain_timeout` + kStopJoinGrace after the stop began (stuck in a call that never returns) does
// not hold the process: a watchdog logs it and exits with kExitStuckWorker, without the flush.
//
// Thread rules: construct and run() on the main thread; request_stop() and the counters are
// thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "config.hpp"
#include "dispatcher.hpp"

namespace boost::asio {
class io_context;
}

namespace trifecta::daemon {

// The stop watchdog's grace after drain_timeout, and the exit status it ends the process with.
inline constexpr std::chrono::milliseconds kStopJoinGrace{3000};
inline constexpr int kExitStuckWorker = 70;  // EX_SOFTWARE
// Threads of the quick lane (Dispatcher::Lane::kQuick).
inline constexpr unsigned kQuickThreads = 2;

struct ServerCounters {
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::int64_t> requests_total{0};
  std::atomic<std::int64_t> refused{0};
};

class Server {
 public:
  // Hooks the daemon wires to telemetry; called on the I/O thread.
  struct Hooks {
    std::function<void(std::string_view reason, std::int64_t uid)> on_refused;
  };

  Server(const Config& config, int listen_fd, Dispatcher& dispatcher, Hooks hooks);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serve until stopped. Returns after the graceful drain.
  void run();
  // After run() returned: run the I/O loop again on this thread until `done()` is true or `limit`
  // has passed (no connection is accepted or served any more). Used to stop the language servers
  // gracefully, whose I/O lives on this loop. Returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit);
  // Begin a graceful stop from any thread.
  void request_stop(std::string reason);
  // Run `fn` on the I/O thread after `delay` (a deadline or a deferred reply). `fn` must be quick.
  // Thread-safe. If the server stops first, `fn` is destroyed without running.
  void schedule_after(std::chrono::milliseconds delay, std::function<void()> fn);
  // Take `fd` over and wait, on the I/O thread, until it is readable; then close it and run `fn`
  // there (quick, like schedule_after's). Returns a function that cancels the wait and closes
  // `fd` (any thread, any number of times, also after the wait ended; not after the Server is
  // destroyed). Once the server stops, `fn` no longer runs. Thread-safe. For the service's
  // background apply (ServiceOptions::when_readable: a copy of a segment's inotify descriptor).
  std::function<void()> when_readable(int fd, std::function<void()> fn);

  const ServerCounters& counters() const { return counters_; }
  // Run `fn` on the worker pool (CPU work that must not run on the I/O thread). Thread-safe.
  void post_work(std::function<void()> fn);
  // Run `fn` on the build pool (Config::build_threads threads; index builds and rebuilds), so a
  // long build never occupies a worker. Thread-safe. Joined at stop like the worker pool.
  void post_build(std::function<void()> fn);
  // The I/O thread's io_context, for components that do asynchronous I/O on it (the Pyright
  // clients). Valid for the Server's lifetime; run only by run().
  boost::asio::io_context& io();
  unsigned workers() const;
  std::string stop_reason() const;

  struct Impl;  // public so the session type in server.cpp can name it; defined only there

 private:
  std::unique_ptr<Impl> impl_;
  ServerCounters counters_;
};

}  // namespace trifecta::daemon
