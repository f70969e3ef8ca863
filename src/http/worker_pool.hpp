#pragma once
// WorkerPool: a fixed set of threads running handler tasks from a bounded queue. A full queue
// refuses the task (the caller answers 503) rather than letting work pile up. stop() runs what
// is queued, then joins. Thread-safe.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace greenfleet::http {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, std::size_t max_queued);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue is full or the pool has stopped.
  bool submit(std::function<void()> task);
  void stop();
  std::size_t threads() const { return threads_.size(); }

 private:
  void run();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace greenfleet::http
