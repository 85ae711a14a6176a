// BoundedQueue: a first-in first-out queue between threads whose Push blocks while it is full.
//
// Capacity 0 means unbounded. Close() ends the input side: pushes are refused from then on, and
// Pop hands out what is left before it reports the end. Abort() ends both sides at once: blocked
// and later calls return at once and what is queued is dropped. Thread-safe: any number of
// pushers and poppers; the capacity may change while they wait.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace tpufleet {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity = 0) : capacity_(capacity) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Blocks while the queue holds `capacity` items or more. False, with `item` dropped, when the
  // queue was closed or aborted (before or while waiting).
  bool Push(T item) {
    std::unique_lock lock(mutex_);
    ++waiting_pushers_;
    room_.wait(lock, [&] { return HasRoomOrEnded(); });
    --waiting_pushers_;
    if (closed_ || aborted_) return false;
    items_.push_back(std::move(item));
    ready_.notify_one();
    return true;
  }

  // Blocks until an item is there; empty once the queue is closed and drained, or aborted.
  std::optional<T> Pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return aborted_ || closed_ || !items_.empty(); });
    if (aborted_ || items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    room_.notify_all();
    return item;
  }

  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
    room_.notify_all();
  }

  void Abort() {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    items_.clear();
    ready_.notify_all();
    room_.notify_all();
  }

  void SetCapacity(size_t capacity) {
    std::lock_guard lock(mutex_);
    capacity_ = capacity;
    room_.notify_all();
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  // Pushes blocked right now because the queue is full.
  int waiting_pushers() const {
    std::lock_guard lock(mutex_);
    return HasRoomOrEnded() ? 0 : waiting_pushers_;
  }

 private:
  bool HasRoomOrEnded() const {
    return closed_ || aborted_ || capacity_ == 0 || items_.size() < capacity_;
  }

  mutable std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::deque<T> items_;
  size_t capacity_;
  int waiting_pushers_ = 0;
  bool closed_ = false;
  bool aborted_ = false;
};

}  // namespace tpufleet
