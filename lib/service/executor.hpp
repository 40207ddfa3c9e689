// service/executor.hpp — where the service runs its work (index builds, deferred answers).
//
// The service never creates threads: it posts closures to an Executor. The daemon adapts its
// worker pool (FunctionExecutor around Server::post_work); tests use InlineExecutor (runs the
// closure now, on the caller's thread) or ManualExecutor (queues closures until the test drains
// them, so a test can stop between "a build was started" and "the build ran").
//
// Thread rules: post() is thread-safe for every implementation here. ManualExecutor's run_one /
// run_all may be called from any thread; closures run on the thread that drains them.
// Failure behaviour: post() never fails; a closure that throws propagates out of whoever runs it
// (InlineExecutor: out of post()).
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

namespace trifecta::core::service {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual void post(std::function<void()> fn) = 0;
};

// Runs every closure immediately, inside post().
class InlineExecutor final : public Executor {
 public:
  void post(std::function<void()> fn) override { fn(); }
};

// Adapts any "post this closure" function (the daemon's worker pool).
class FunctionExecutor final : public Executor {
 public:
  explicit FunctionExecutor(std::function<void(std::function<void()>)> post)
      : post_(std::move(post)) {}
  void post(std::function<void()> fn) override { post_(std::move(fn)); }

 private:
  std::function<void(std::function<void()>)> post_;
};

// Queues closures; the owner runs them one by one (tests).
class ManualExecutor final : public Executor {
 public:
  void post(std::function<void()> fn) override {
    std::lock_guard lk(mu_);
    queue_.push_back(std::move(fn));
  }
  // Run the oldest queued closure; false when none was queued.
  bool run_one() {
    std::function<void()> fn;
    {
      std::lock_guard lk(mu_);
      if (queue_.empty()) return false;
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
    return true;
  }
  // Run until the queue is empty (closures may post more); returns how many ran.
  std::size_t run_all() {
    std::size_t n = 0;
    while (run_one()) ++n;
    return n;
  }
  std::size_t pending() const {
    std::lock_guard lk(mu_);
    return queue_.size();
  }

 private:
  mutable std::mutex mu_;
  std::deque<std::function<void()>> queue_;
};

}  // namespace trifecta::core::service
