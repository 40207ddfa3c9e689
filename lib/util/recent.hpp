// util/recent.hpp — a few values by name, the most recently kept first, bounded by a count and a
// total size: where a file's last parse (ast::SkeletonCache, ParseMemo) and its last chunk
// analyses (index::SegmentIndex, ChunkAnalyses) wait for the file's next edit.
//
//   RecentByName<ParseMemo> memos(8, 256 * 1024, [](const ParseMemo& m) { return m.text_bytes();
//   }); ParseMemo m = memos.take(rel);     // moved out: one thread uses it at a time
//   ...                                // parse from it, fill it again
//   memos.keep(rel, std::move(m));     // first again; the least recent beyond the bounds leave
//
// Thread rules: every member is thread-safe (one mutex, held to find, link and unlink only). A
// value that leaves — evicted, replaced, refused, cleared — is destroyed after the mutex is
// released: freeing a kept syntax tree takes a fraction of a millisecond.
// Failure behaviour: none beyond allocation; a value larger than the size bound is not kept.
#pragma once

#include <algorithm>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace trifecta::core {

template <class T>
class RecentByName {
 public:
  using SizeFn = std::size_t (*)(const T&);
  RecentByName(std::size_t max_count, std::size_t max_size, SizeFn size)
      : max_count_(max_count), max_size_(max_size), size_(size) {}
  RecentByName(const RecentByName&) = delete;
  RecentByName& operator=(const RecentByName&) = delete;

  bool has(std::string_view name) const {
    std::lock_guard lk(mu_);
    return find(name) != entries_.end();
  }

  // The value kept for `name`, moved out (T{} when none).
  T take(std::string_view name) {
    std::list<Entry> out;
    {
      std::lock_guard lk(mu_);
      const auto it = find(name);
      if (it == entries_.end()) return T{};
      out.splice(out.end(), entries_, it);
    }
    return std::move(out.front().second);
  }

  // Keep `value` first for `name`, replacing the one kept for it — unless `if_absent`: then one
  // kept already wins. The least recent values beyond max_count or max_size in all leave. False
  // when `value` was not kept (larger than max_size alone, or `if_absent` and one was kept).
  bool keep(std::string_view name, T&& value, bool if_absent = false) {
    if (size_(value) > max_size_) return false;  // `value` is the caller's, freed by it
    std::list<Entry> gone;
    {
      std::lock_guard lk(mu_);
      if (const auto old = find(name); old != entries_.end()) {
        if (if_absent) return false;
        gone.splice(gone.end(), entries_, old);
      }
      entries_.emplace_front(std::string(name), std::move(value));
      std::size_t count = 0, size = 0;
      auto it = entries_.begin();
      for (; it != entries_.end(); ++it) {
        if (count + 1 > max_count_ || size + size_(it->second) > max_size_) break;
        size += size_(it->second);
        ++count;
      }
      gone.splice(gone.end(), entries_, it, entries_.end());
    }
    return true;
  }

  void clear() {
    std::list<Entry> gone;
    std::lock_guard lk(mu_);
    gone.swap(entries_);
  }

  // How many values are kept, and their sizes summed.
  std::pair<std::size_t, std::size_t> totals() const {
    std::lock_guard lk(mu_);
    std::size_t size = 0;
    for (const auto& e : entries_) size += size_(e.second);
    return {entries_.size(), size};
  }

 private:
  using Entry = std::pair<std::string, T>;
  typename std::list<Entry>::const_iterator find(std::string_view name) const {
    return std::find_if(entries_.begin(), entries_.end(),
                        [&](const Entry& e) { return e.first == name; });
  }
  typename std::list<Entry>::iterator find(std::string_view name) {
    return std::find_if(entries_.begin(), entries_.end(),
                        [&](const Entry& e) { return e.first == name; });
  }

  const std::size_t max_count_, max_size_;
  const SizeFn size_;
  mutable std::mutex mu_;
  std::list<Entry> entries_;
};

}  // namespace trifecta::core
