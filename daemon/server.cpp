#include "server.hpp"

#include <sys/socket.h>

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
}

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
        signals(io, SIGINT, SIGTERM),
        idle_timer(io),
        drain_timer(io) {}

  const Config& cfg;
  Dispatcher& dispatcher;
  Hooks hooks;
  ServerCounters& counters;
  asio::io_context io{1};
  stream::acceptor acceptor;
  unsigned nworkers;
  asio::thread_pool pool;
  asio::thread_pool build_pool;  // index builds (Config::build_threads)
  asio::signal_set signals;
  asio::steady_timer idle_timer;
  asio::steady_timer drain_timer;
  std::set<std::shared_ptr<Session>> sessions;  // I/O thread only
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

  ~Impl() { disarm_watchdog(); }
  void arm_watchdog();
  void disarm_watchdog();

  void accept();
  void on_accept(const boost::system::error_code& ec, stream::socket sock);
  void arm_idle_exit();
  void begin_stop(std::string why);
  void check_drained();
};

struct Session : std::enable_shared_from_this<Session> {
  Session(Server::Impl& s, stream::socket sock, Peer p)
      : srv(s), socket(std::move(sock)), buf(s.cfg.max_line_bytes + 1), peer(p), idle(s.io) {}

  Server::Impl& srv;
  stream::socket socket;
  asio::streambuf buf;
  Peer peer;
  asio::steady_timer idle;
  std::deque<std::string> outq;
  std::size_t in_flight = 0;
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
    outq.push_back(proto::encode_error(nullptr, e));
    write();
  }

  void read() {
    if (reading || read_closed || closed || outq.size() >= kMaxQueuedReplies) return;
    reading = true;
    asio::async_read_until(socket, buf, '\n',
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                             self->on_read(ec, n);
                           });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    reading = false;
    if (closed) return;
    if (ec == asio::error::not_found) {
      spdlog::warn("connection {}: request line over {} bytes; closing", peer.connection, srv.cfg.max_line_bytes);
      refuse({proto::ErrorCode::kRequestTooLarge,
              "request line exceeds " + std::to_string(srv.cfg.max_line_bytes) + " bytes", {}});
      return;
    }
    if (ec) {  // EOF (possibly mid-line: the partial request is discarded) or a socket error
      read_closed = true;
      maybe_close();
      return;
    }
    auto data = buf.data();
    std::string line(asio::buffers_begin(data), asio::buffers_begin(data) + static_cast<std::ptrdiff_t>(n - 1));
    buf.consume(n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    arm_idle();
    if (line.find_first_not_of(" \t") != std::string::npos) submit(std::move(line));
    if (!srv.stopping) read();
  }

  void submit(std::string line) {
    ++in_flight;
    srv.counters.in_flight.fetch_add(1);
    srv.counters.requests_total.fetch_add(1);
    SendFn send = [self = shared_from_this()](std::string reply) {
      asio::post(self->srv.io, [self, r = std::move(reply)]() mutable { self->on_reply(std::move(r)); });
    };
    const bool busy = in_flight > srv.cfg.max_inflight_per_conn;
    asio::post(srv.pool, [this_srv = &srv, busy, p = peer, l = std::move(line), s = std::move(send)]() mutable {
      if (busy) this_srv->dispatcher.reject_busy(l, this_srv->cfg.max_inflight_per_conn, std::move(s));
      else this_srv->dispatcher.dispatch(l, p, std::move(s));
    });
  }

  void on_reply(std::string line) {
    --in_flight;
    srv.counters.in_flight.fetch_sub(1);
    srv.last_activity = SteadyClock::now();
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
          spdlog::info("connection {}: idle for {}s; closing", s->peer.connection, s->srv.cfg.conn_idle_timeout.count());
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
    spdlog::warn("accept failed: {}", ec.message());
    accept();
    return;
  }
  Peer peer;
  peer.connection = next_conn++;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(sock.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    peer.uid = cred.uid;
    peer.pid = cred.pid;
  }
  counters.connections.fetch_add(1);
  last_activity = SteadyClock::now();
  auto session = std::make_shared<Session>(*this, std::move(sock), peer);
  sessions.insert(session);
  if (peer.uid != static_cast<std::int64_t>(::geteuid())) {
    counters.refused.fetch_add(1);
    spdlog::warn("connection {}: refused peer uid {} (pid {})", peer.connection, peer.uid, peer.pid);
    if (hooks.on_refused) hooks.on_refused("peer_uid", peer.uid);
    session->refuse({proto::ErrorCode::kPermissionDenied, "connection refused: peer uid " +
                                                              std::to_string(peer.uid) + " is not the daemon's owner", {}});
  } else if (sessions.size() > cfg.max_connections) {
    counters.refused.fetch_add(1);
    if (hooks.on_refused) hooks.on_refused("max_connections", peer.uid);
    session->refuse({proto::ErrorCode::kServerBusy,
                     "too many connections (limit " + std::to_string(cfg.max_connections) + ")", {}});
  } else {
    session->start();
  }
  accept();
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

void Server::post_work(std::function<void()> fn) { asio::post(impl_->pool, std::move(fn)); }
void Server::post_build(std::function<void()> fn) { asio::post(impl_->build_pool, std::move(fn)); }

boost::asio::io_context& Server::io() { return impl_->io; }

unsigned Server::workers() const { return impl_->nworkers; }

std::string Server::stop_reason() const {
  std::lock_guard lk(impl_->reason_mu);
  return impl_->reason;
}

}  // namespace trifecta::daemon
