// telemetry/bounded_queue.hpp — a fixed-capacity lock-free multi-producer queue of pointers.
//
// Dmitry Vyukov's bounded MPMC array queue: each cell carries a sequence number, producers and
// consumers claim positions with one CAS. Producers never block: `try_push` returns false when the
// queue is full (the caller counts the drop). Capacity is rounded up to a power of two.
//
// Thread rules: any number of producers and consumers; all operations are lock-free.
// Ownership: the queue stores raw `T*`; whoever pops a pointer owns it. Pointers still inside when
// the queue is destroyed are deleted.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>

namespace trifecta::core::telemetry {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) {
    std::size_t cap = 2;
    while (cap < capacity) cap <<= 1;
    mask_ = cap - 1;
    cells_ = std::make_unique<Cell[]>(cap);
    for (std::size_t i = 0; i < cap; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }
  ~BoundedQueue() {
    while (T* p = try_pop()) delete p;
  }
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  std::size_t capacity() const { return mask_ + 1; }

  bool try_push(T* item) {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.item = item;
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  T* try_pop() {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      const std::size_t seq = c.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos + 1);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          T* item = c.item;
          c.seq.store(pos + mask_ + 1, std::memory_order_release);
          return item;
        }
      } else if (diff < 0) {
        return nullptr;  // empty
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  bool empty_approx() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  struct Cell {
    std::atomic<std::size_t> seq{0};
    T* item = nullptr;
  };
  static constexpr std::size_t kLine = 64;
  std::unique_ptr<Cell[]> cells_;
  std::size_t mask_ = 0;
  alignas(kLine) std::atomic<std::size_t> tail_{0};
  alignas(kLine) std::atomic<std::size_t> head_{0};
};

}  // namespace trifecta::core::telemetry
