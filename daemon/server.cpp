#include "server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

namespace trifecta::daemon {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;
using SteadyClock = std::chrono::steady_clock;

namespace {
constexpr std::size_t kMaxQueuedReplies = 1024;  // stop reading from a client that does not read
constexpr std::size_t kReadChunk = 64 * 1024;      // one read's window, per connection
}  // namespace

struct Session;

struct Server::Impl {
  Impl(const Config& c, int fd, Dispatcher& d, Hooks h, ServerCounters& k)
      : cfg(c),
        dispatcher(d),
        hooks(std::move(h)),
        counters(k),
        acceptor(io, stream(), fd),
        nworkers(c.workers ? c.workers : std::max(2u, std::thread::hardware_concurrency())),
        pool(nworkers),
        build_pool(std::max(1u, c.build_threads)),
        quick_pool(kQuickThreads),
        signals(io, SIGINT, SIGTERM),
        idle_timer(io),
        drain_timer(io),
        accept_retry(io),
        pressure_timer(io) {
    reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }

  const Config& cfg;
  Dispatcher& dispatcher;
  Hooks hooks;
  ServerCounters& counters;
  asio::io_context io{1};
  stream::acceptor acceptor;
  unsigned nworkers;
  asio::thread_pool pool;
  asio::thread_pool build_pool;  // index builds (Config::build_threads)
  asio::thread_pool quick_pool;  // the quick lane: status, ctx.status, wait:false (Dispatcher::Lane)
  asio::signal_set signals;
  asio::steady_timer idle_timer;
  asio::steady_timer drain_timer;
  asio::steady_timer accept_retry;    // EMFILE/ENFILE back-off
  asio::steady_timer pressure_timer;  // sweeps idle connections while the table is 3/4 full
  bool pressure_armed = false;
  std::set<std::shared_ptr<Session>> sessions;  // I/O thread only
  // Unterminated request bytes held by all sessions (I/O thread only), against max_buffered_bytes.
  std::size_t buffered = 0;
  // The reserve descriptor (/dev/null) given up on EMFILE to accept and refuse one client.
  int reserve_fd = -1;
  std::chrono::milliseconds accept_backoff{0};
  SteadyClock::time_point accept_log_at{};
  std::uint64_t accept_failures_unlogged = 0;
  std::uint64_t next_conn = 1;
  bool stopping = false;
  SteadyClock::time_point last_activity = SteadyClock::now();
  SteadyClock::time_point drain_deadline;
  mutable std::mutex reason_mu;
  std::string reason;
  // The stop watchdog (docs/concurrency.md "Shutdown"): armed by begin_stop; when the workers are
  // not joined within drain_timeout + kStopJoinGrace (a worker stuck in a call that never
  // returns), it logs and ends the process with kExitStuckWorker. Disarmed by disarm_watchdog().
  std::thread watchdog;
  std::mutex watchdog_mu;
  std::condition_variable watchdog_cv;
  bool workers_joined = false;

  ~Impl() {
    disarm_watchdog();
    if (reserve_fd >= 0) ::close(reserve_fd);
  }
  void arm_watchdog();
  void disarm_watchdog();

  void accept();
  void on_accept(const boost::system::error_code& ec, stream::socket sock);
  void on_accept_error(const boost::system::error_code& ec);
  bool evict_oldest_idle();
  bool under_pressure() const { return sessions.size() * 4 > cfg.max_connections * 3; }
  void arm_pressure_sweep();
  void enforce_buffer_budget();
  void arm_idle_exit();
  void begin_stop(std::string why);
  void check_drained();
};

struct Session : std::enable_shared_from_this<Session> {
  Session(Server::Impl& s, stream::socket sock, Peer p)
      : srv(s), socket(std::move(sock)), peer(p), idle(s.io) {}

  Server::Impl& srv;
  stream::socket socket;
  // Received bytes not yet handed out as lines: inbuf[begin, end). `counted` is what this session
  // adds to srv.buffered (the unterminated tail); `scanned` how far past `begin` holds no '\n'.
  std::string inbuf;
  std::size_t begin = 0, end = 0, scanned = 0, counted = 0;
  Peer peer;
  asio::steady_timer idle;
  std::deque<std::string> outq;
  std::size_t in_flight = 0;
  SteadyClock::time_point last_active = SteadyClock::now();  // last request or reply
  bool reading = false, writing = false, read_closed = false, closed = false, close_after_write = false;

  void start() {
    peer.notify = [weak = weak_from_this()](std::string line) {
      auto self = weak.lock();
      if (!self) return;
      asio::post(self->srv.io, [self, l = std::move(line)]() mutable {
        if (self->closed || self->outq.size() >= kMaxQueuedReplies) return;  // progress is best-effort
        self->outq.push_back(std::move(l));
        self->write();
      });
    };
    arm_idle();
    read();
  }

  // Reply with one error line and close (refusals before any request).
  void refuse(const proto::RpcError& e) {
    read_closed = true;
    close_after_write = true;
    release_input();
    outq.push_back(proto::encode_error(nullptr, e));
    write();
  }

  bool idle_now() const { return !closed && in_flight == 0 && outq.empty() && !writing; }

  // Keep srv.buffered equal to the sum of the sessions' unterminated bytes.
  void account() {
    const std::size_t now = end - begin;
    srv.buffered = srv.buffered - counted + now;
    counted = now;
  }
  // Drop the received bytes. The memory itself is freed only when no read is pending into it.
  void release_input() {
    begin = end = scanned = 0;
    account();
    if (!reading) std::string().swap(inbuf);
  }

  // Hand out the complete lines already received, then read more (unless paused or closed).
  void read() {
    if (reading || read_closed || closed) return;
    while (outq.size() < kMaxQueuedReplies && !srv.stopping) {
      const auto nl = inbuf.find('\n', begin + scanned);
      if (nl == std::string::npos || nl >= end) {
        scanned = end - begin;
        break;
      }
      const std::size_t len = nl - begin;
      if (len > srv.cfg.max_line_bytes) return too_large();
      std::string line = inbuf.substr(begin, len);
      begin = nl + 1;
      scanned = 0;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      arm_idle();
      if (line.find_first_not_of(" \t") != std::string::npos) submit(std::move(line));
      if (closed || read_closed) break;
    }
    if (begin == end) {
      begin = end = scanned = 0;
      if (inbuf.capacity() > 4 * kReadChunk) std::string().swap(inbuf);  // a big line is gone: free it
    } else if (begin > 0 && begin >= end - begin) {  // compact when the consumed part dominates
      inbuf.erase(0, begin);
      end -= begin;
      begin = 0;
    }
    account();
    if (scanned == end - begin && end - begin > srv.cfg.max_line_bytes) return too_large();  // no '\n' in it
    if (closed || read_closed || srv.stopping || outq.size() >= kMaxQueuedReplies) return;
    reading = true;
    if (inbuf.size() < end + kReadChunk) inbuf.resize(end + kReadChunk);
    socket.async_read_some(asio::buffer(inbuf.data() + end, kReadChunk),
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                             self->on_read(ec, n);
                           });
  }

  void too_large() {
    spdlog::warn("connection {}: request line over {} bytes; closing", peer.connection, srv.cfg.max_line_bytes);
    refuse({proto::ErrorCode::kRequestTooLarge,
            "request line exceeds " + std::to_string(srv.cfg.max_line_bytes) + " bytes", {}});
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    reading = false;
    if (closed) return;
    if (ec || read_closed) {  // EOF (a partial request is discarded), a socket error, or refused
      read_closed = true;
      release_input();
      maybe_close();
      return;
    }
    end += n;
    account();
    if (srv.buffered > srv.cfg.max_buffered_bytes) {
      auto self = shared_from_this();  // the budget may refuse this very session
      srv.enforce_buffer_budget();
      if (read_closed) return;
    }
    read();
  }

  void submit(std::string line) {
    ++in_flight;
    last_active = SteadyClock::now();
    srv.counters.in_flight.fetch_add(1);
    srv.counters.requests_total.fetch_add(1);
    SendFn send = [self = shared_from_this()](std::string reply) {
      asio::post(self->srv.io, [self, r = std::move(reply)]() mutable { self->on_reply(std::move(r)); });
    };
    const bool busy = in_flight > srv.cfg.max_inflight_per_conn;
    // The lane (issue 16 item 7): ping/hello are answered here, on the I/O thread; status,
    // ctx.status and wait:false requests on an open segment run on the quick lane; the rest on the
    // request workers. A worker stuck in a handler never delays the first two.
    // A short line is parsed once, here (to choose the lane); the handler gets that parse.
    Dispatcher::Route route = busy ? Dispatcher::Route{} : srv.dispatcher.route(line);
    if (route.lane == Dispatcher::Lane::kInline) {
      srv.dispatcher.dispatch(std::move(*route.parsed), line.size(), peer, std::move(send));
      return;
    }
    auto run = [this_srv = &srv, busy, p = peer, l = std::move(line), parsed = std::move(route.parsed),
                s = std::move(send)]() mutable {
      if (busy) this_srv->dispatcher.reject_busy(l, this_srv->cfg.max_inflight_per_conn, std::move(s));
      else if (parsed) this_srv->dispatcher.dispatch(std::move(*parsed), l.size(), p, std::move(s));
      else this_srv->dispatcher.dispatch(l, p, std::move(s));
    };
    const Dispatcher::Lane lane = route.lane;
    if (lane == Dispatcher::Lane::kQuick) asio::post(srv.quick_pool, std::move(run));
    else asio::post(srv.pool, std::move(run));
  }

  void on_reply(std::string line) {
    --in_flight;
    srv.counters.in_flight.fetch_sub(1);
    srv.last_activity = SteadyClock::now();
    last_active = srv.last_activity;
    if (!closed && !line.empty()) {
      outq.push_back(std::move(line));
      write();
    }
    maybe_close();
  }

  void write() {
    if (writing || outq.empty() || closed) return;
    writing = true;
    asio::async_write(socket, asio::buffer(outq.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                        self->on_write(ec);
                      });
  }

  void on_write(const boost::system::error_code& ec) {
    writing = false;
    if (closed) return;
    if (ec) {  // peer went away: nothing more can be delivered on this connection
      read_closed = true;
      outq.clear();
      maybe_close();
      return;
    }
    outq.pop_front();
    if (!outq.empty()) {
      write();
      return;
    }
    if (close_after_write) {
      close();
      return;
    }
    if (!srv.stopping) read();  // resume if we had paused for backpressure
    maybe_close();
  }

  void maybe_close() {
    if (read_closed && in_flight == 0 && outq.empty() && !writing) close();
  }

  void stop_reading() {
    read_closed = true;
    boost::system::error_code ignored;
    if (reading) socket.shutdown(stream::socket::shutdown_receive, ignored);  // completes the read
    maybe_close();
  }

  void close() {
    if (closed) return;
    closed = true;
    idle.cancel();
    release_input();
    boost::system::error_code ignored;
    socket.shutdown(stream::socket::shutdown_both, ignored);
    socket.close(ignored);
    srv.counters.connections.fetch_sub(1);
    srv.last_activity = SteadyClock::now();
    auto self = shared_from_this();
    srv.sessions.erase(self);
    if (srv.stopping) srv.check_drained();
  }

  void arm_idle() {
    idle.expires_after(srv.cfg.conn_idle_timeout);
    idle.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto s = weak.lock()) {
        if (s->in_flight == 0 && s->outq.empty()) {
          spdlog::info("connection {}: idle for {}s; closing", s->peer.connection,
                       s->srv.cfg.conn_idle_timeout.count());
          s->close();
        } else {
          s->arm_idle();
        }
      }
    });
  }
};

void Server::Impl::accept() {
  acceptor.async_accept([this](const boost::system::error_code& ec, stream::socket sock) {
    on_accept(ec, std::move(sock));
  });
}

void Server::Impl::on_accept(const boost::system::error_code& ec, stream::socket sock) {
  if (ec) {
    if (ec == asio::error::operation_aborted || stopping) return;
    on_accept_error(ec);
    return;
  }
  accept_backoff = std::chrono::milliseconds(0);
  Peer peer;
  peer.connection = next_conn++;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(sock.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    peer.uid = cred.uid;
    peer.pid = cred.pid;
  }
  const bool same_user = peer.uid == static_cast<std::int64_t>(::geteuid());
  // A full table: make room by closing the connection idle the longest (issue 16 item 11).
  if (same_user && sessions.size() >= cfg.max_connections) (void)evict_oldest_idle();
  counters.connections.fetch_add(1);
  last_activity = SteadyClock::now();
  auto session = std::make_shared<Session>(*this, std::move(sock), peer);
  sessions.insert(session);
  if (!same_user) {
    counters.refused.fetch_add(1);
    spdlog::warn("connection {}: refused peer uid {} (pid {})", peer.connection, peer.uid, peer.pid);
    if (hooks.on_refused) hooks.on_refused("peer_uid", peer.uid);
    session->refuse({proto::ErrorCode::kPermissionDenied, "connection refused: peer uid " +
                                                              std::to_string(peer.uid) + " is not the daemon's owner", {}});
  } else if (sessions.size() > cfg.max_connections) {
    counters.refused.fetch_add(1);
    if (hooks.on_refused) hooks.on_refused("max_connections", peer.uid);
    session->refuse({proto::ErrorCode::kServerBusy,
                     "too many connections (limit " + std::to_string(cfg.max_connections) +
                         ", none idle to close)",
                     {}});
  } else {
    session->start();
  }
  if (under_pressure()) arm_pressure_sweep();
  accept();
}

// EMFILE/ENFILE (and any other accept failure): never retry at once. Give up the reserve fd to
// accept the waiting clients and tell each SERVER_BUSY, close the connection idle the longest, retry after a back-off (50 ms doubling to
// 1 s), and log at most one line per 10 s with the count of failures in between.
void Server::Impl::on_accept_error(const boost::system::error_code& ec) {
  const bool out_of_fds = ec.value() == EMFILE || ec.value() == ENFILE;
  if (out_of_fds && reserve_fd >= 0) {
    ::close(reserve_fd);
    reserve_fd = -1;
    // Refuse every client already waiting (up to a bound), one descriptor at a time.
    const std::string line = proto::encode_error(
        nullptr, {proto::ErrorCode::kServerBusy, "the daemon is out of file descriptors; try again later", {}});
    for (int i = 0; i < 256; ++i) {
      pollfd p{acceptor.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 0) != 1) break;
      const int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) break;
      (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      counters.refused.fetch_add(1);
    }
    reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  // Idle connections are the first to go when descriptors run out.
  if (out_of_fds) (void)evict_oldest_idle();
  accept_backoff = accept_backoff.count() == 0 ? std::chrono::milliseconds(50)
                                               : std::min(accept_backoff * 2, std::chrono::milliseconds(1000));
  const auto now = SteadyClock::now();
  if (now - accept_log_at >= std::chrono::seconds(10)) {
    spdlog::warn("accept failed: {} ({} more failure(s) since the last such line); retrying in {} ms",
                 ec.message(), accept_failures_unlogged, accept_backoff.count());
    accept_log_at = now;
    accept_failures_unlogged = 0;
  } else {
    ++accept_failures_unlogged;
  }
  accept_retry.expires_after(accept_backoff);
  accept_retry.async_wait([this](const boost::system::error_code& e) {
    if (!e && !stopping) accept();
  });
}

bool Server::Impl::evict_oldest_idle() {
  std::shared_ptr<Session> oldest;
  for (const auto& s : sessions) {
    if (!s->idle_now() || s->read_closed) continue;
    if (!oldest || s->last_active < oldest->last_active) oldest = s;
  }
  if (!oldest) return false;
  spdlog::info("connection {}: idle for {} ms, closed to make room for a new connection", oldest->peer.connection,
               std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - oldest->last_active).count());
  oldest->close();
  return true;
}

// While more than 3/4 of max_connections are open, a connection idle for conn_idle_timeout_pressure
// (default 10 s) is closed; checked every second until the pressure is gone.
void Server::Impl::arm_pressure_sweep() {
  if (pressure_armed || stopping) return;
  pressure_armed = true;
  pressure_timer.expires_after(std::chrono::seconds(1));
  pressure_timer.async_wait([this](const boost::system::error_code& ec) {
    pressure_armed = false;
    if (ec || stopping) return;
    if (!under_pressure()) return;
    const auto now = SteadyClock::now();
    std::vector<std::shared_ptr<Session>> stale;
    for (const auto& s : sessions) {
      if (s->idle_now() && !s->read_closed && now - s->last_active >= cfg.conn_idle_timeout_pressure) stale.push_back(s);
    }
    for (auto& s : stale) {
      spdlog::info("connection {}: idle for {}s with {} of {} connections open; closing", s->peer.connection,
                   cfg.conn_idle_timeout_pressure.count(), sessions.size(), cfg.max_connections);
      s->close();
    }
    arm_pressure_sweep();
  });
}

// Over max_buffered_bytes: refuse the connections holding the most unterminated bytes until the
// total fits again.
void Server::Impl::enforce_buffer_budget() {
  while (buffered > cfg.max_buffered_bytes) {
    std::shared_ptr<Session> biggest;
    for (const auto& s : sessions) {
      if (!biggest || s->counted > biggest->counted) biggest = s;
    }
    if (!biggest || biggest->counted == 0) return;
    spdlog::warn("connection {}: {} unterminated request bytes while all connections hold {} (budget {}); refusing",
                 biggest->peer.connection, biggest->counted, buffered, cfg.max_buffered_bytes);
    biggest->refuse({proto::ErrorCode::kServerBusy,
                     "request buffer budget exhausted: connections hold " + std::to_string(buffered) +
                         " unterminated request bytes (limit " + std::to_string(cfg.max_buffered_bytes) +
                         "); this connection held the most",
                     {}});
  }
}

void Server::Impl::arm_idle_exit() {
  if (cfg.idle_timeout.count() == 0) return;
  const auto period = std::min<SteadyClock::duration>(std::chrono::seconds(1), cfg.idle_timeout);
  idle_timer.expires_after(period);
  idle_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping) return;
    if (sessions.empty() && counters.in_flight.load() == 0 &&
        SteadyClock::now() - last_activity >= cfg.idle_timeout) {
      spdlog::info("idle for {}s with no connections; exiting", cfg.idle_timeout.count());
      begin_stop("idle");
      return;
    }
    arm_idle_exit();
  });
}

void Server::Impl::begin_stop(std::string why) {
  if (stopping) return;
  stopping = true;
  {
    std::lock_guard lk(reason_mu);
    reason = std::move(why);
  }
  spdlog::info("stopping ({}): {} connection(s), {} request(s) in flight", reason, sessions.size(),
               counters.in_flight.load());
  boost::system::error_code ignored;
  acceptor.close(ignored);
  signals.cancel(ignored);
  idle_timer.cancel();
  accept_retry.cancel();
  pressure_timer.cancel();
  drain_deadline = SteadyClock::now() + cfg.drain_timeout;
  arm_watchdog();
  auto snapshot = sessions;  // stop_reading may erase
  for (auto& s : snapshot) s->stop_reading();
  check_drained();
}

void Server::Impl::arm_watchdog() {
  if (watchdog.joinable()) return;
  const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.drain_timeout) + kStopJoinGrace;
  watchdog = std::thread([this, limit] {
    std::unique_lock lk(watchdog_mu);
    if (watchdog_cv.wait_for(lk, limit, [this] { return workers_joined; })) return;
    spdlog::critical("stop: a worker is still busy {} ms after the stop began; exiting without joining it",
                     limit.count());
    spdlog::default_logger()->flush();
    std::_Exit(kExitStuckWorker);
  });
}

void Server::Impl::disarm_watchdog() {
  {
    std::lock_guard lk(watchdog_mu);
    workers_joined = true;
  }
  watchdog_cv.notify_all();
  if (watchdog.joinable()) watchdog.join();
}

void Server::Impl::check_drained() {
  if (sessions.empty()) {
    drain_timer.cancel();
    io.stop();
    return;
  }
  if (SteadyClock::now() >= drain_deadline) {
    spdlog::warn("drain timeout: closing {} connection(s) with work outstanding", sessions.size());
    auto snapshot = sessions;
    for (auto& s : snapshot) s->close();
    io.stop();
    return;
  }
  drain_timer.expires_after(std::chrono::milliseconds(20));
  drain_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) check_drained();
  });
}

Server::Server(const Config& config, int listen_fd, Dispatcher& dispatcher, Hooks hooks)
    : impl_(std::make_unique<Impl>(config, listen_fd, dispatcher, std::move(hooks), counters_)) {}

Server::~Server() {
  impl_->pool.join();
  impl_->quick_pool.join();
  impl_->build_pool.join();
}

void Server::run() {
  impl_->signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) impl_->begin_stop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  impl_->accept();
  impl_->arm_idle_exit();
  impl_->io.run();
  impl_->pool.join();  // in-flight handlers finish; their replies have nowhere to go any more
  impl_->quick_pool.join();
  impl_->build_pool.join();  // a build under way finishes (or the watchdog ends the process)
  impl_->disarm_watchdog();
}

bool Server::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = SteadyClock::now() + limit;
  impl_->io.restart();
  while (!done()) {
    const auto now = SteadyClock::now();
    if (now >= deadline) break;
    impl_->io.run_one_for(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                          std::chrono::milliseconds(1));
  }
  return done();
}

void Server::request_stop(std::string reason) {
  asio::post(impl_->io, [this, r = std::move(reason)]() mutable { impl_->begin_stop(std::move(r)); });
}

void Server::schedule_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  asio::post(impl_->io, [this, delay, f = std::move(fn)]() mutable {
    auto timer = std::make_shared<asio::steady_timer>(impl_->io, delay);
    timer->async_wait([timer, f = std::move(f)](const boost::system::error_code& ec) {
      if (!ec) f();
    });
  });
}

std::function<void()> Server::when_readable(int fd, std::function<void()> fn) {
  // The descriptor object is touched on the I/O thread only; it owns `fd` from the start, so a
  // wait never posted (the loop already gone) still closes it.
  auto d = std::make_shared<asio::posix::stream_descriptor>(impl_->io);
  boost::system::error_code ec;
  d->assign(fd, ec);
  if (ec) {
    ::close(fd);
    return [] {};
  }
  asio::post(impl_->io, [this, d, f = std::move(fn)]() mutable {
    if (impl_->stopping || !d->is_open()) {
      boost::system::error_code ignored;
      d->close(ignored);
      return;
    }
    d->async_wait(asio::posix::stream_descriptor::wait_read,
                  [this, d, f = std::move(f)](const boost::system::error_code& e) {
                    boost::system::error_code ignored;
                    d->close(ignored);
                    if (!e && !impl_->stopping) f();
                  });
  });
  return [this, d] {
    asio::post(impl_->io, [d] {
      boost::system::error_code ignored;
      d->close(ignored);  // a pending wait ends with operation_aborted: `fn` does not run
    });
  };
}

void Server::post_work(std::function<void()> fn) { asio::post(impl_->pool, std::move(fn)); }
void Server::post_build(std::function<void()> fn) { asio::post(impl_->build_pool, std::move(fn)); }

boost::asio::io_context& Server::io() { return impl_->io; }

unsigned Server::workers() const { return impl_->nworkers; }

std::string Server::stop_reason() const {
  std::lock_guard lk(impl_->reason_mu);
  return impl_->reason;
}

}  // namespace trifecta::daemon
