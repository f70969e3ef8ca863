#pragma once
// BlockPipeline: hands items from one producer thread to a consumer thread in blocks, so the two
// halves of a long loop overlap on two cores — at start-up, SQLite stepping and row decoding on
// the caller's thread, token opening and scheduler upserts on the pipeline's. Two blocks
// alternate; an item is copy-assigned (or filled, pushWith) into a recycled slot, so its strings
// keep their capacity and the steady state allocates nothing — nor frees on one thread what the
// other allocated, which costs more than the work it moves. push() and finish() from the producer
// thread only; finish() waits until every pushed item was consumed. The consumer's first exception
// is rethrown once, by the next push() that hands a block over or by finish(); the blocks after it
// are not consumed.

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace greenfleet::app {

template <typename T>
class BlockPipeline {
 public:
  // `consume` may change the item it is handed: its slot is the pipeline's until it is refilled.
  BlockPipeline(std::size_t block_size, std::function<void(T&)> consume)
      : block_size_(block_size == 0 ? 1 : block_size),
        consume_(std::move(consume)),
        thread_([this] { run(); }) {}
  ~BlockPipeline() {
    try {
      finish();
    } catch (...) {  // finish() was not called: the error is the caller's to miss
    }
  }
  BlockPipeline(const BlockPipeline&) = delete;
  BlockPipeline& operator=(const BlockPipeline&) = delete;

  void push(const T& item) {
    pushWith([&](T& slot) { slot = item; });
  }
  // Fills the next slot in place with `fill(T&)`: no item of the caller's to copy from.
  template <typename Fill>
  void pushWith(Fill&& fill) {
    if (filled_ == filling_.size()) filling_.emplace_back();
    fill(filling_[filled_]);
    if (++filled_ == block_size_) handOff();
  }

  void finish() {
    if (!thread_.joinable()) return;
    std::exception_ptr handoff_error;
    try {
      handOff();
    } catch (...) {
      handoff_error = std::current_exception();  // rethrown once the consumer stopped
    }
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    thread_.join();
    if (handoff_error) std::rethrow_exception(handoff_error);
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  // Waits until the consumer took the previous block, then gives it the filled one.
  void handOff() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !full_; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    if (filled_ == 0) return;
    std::swap(filling_, handed_);
    handed_count_ = std::exchange(filled_, 0);
    full_ = true;
    changed_.notify_all();
  }

  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [this] { return full_ || done_; });
      if (!full_) return;  // done and nothing left
      const bool skip = failed_;
      lock.unlock();
      std::exception_ptr error;
      if (!skip) {
        try {
          for (std::size_t k = 0; k < handed_count_; ++k) consume_(handed_[k]);
        } catch (...) {
          error = std::current_exception();
        }
      }
      lock.lock();
      if (error) {
        error_ = error;
        failed_ = true;
      }
      full_ = false;
      changed_.notify_all();
    }
  }

  const std::size_t block_size_;
  std::function<void(T&)> consume_;
  std::vector<T> filling_;  // the producer's
  std::size_t filled_ = 0;
  std::vector<T> handed_;  // the consumer's while full_
  std::size_t handed_count_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool full_ = false;
  bool done_ = false;
  std::exception_ptr error_;  // not yet rethrown
  bool failed_ = false;       // the consumer threw: skip what is left
  std::thread thread_;        // last: starts once everything above exists
};

}  // namespace greenfleet::app
