// A fixed-size pool that runs one parallel region at a time; the calling thread takes part.
// Its worker threads start with the first parallel region, so an environment that loads the
// addon without running kernels (the CLI parent checking CUDA, a service's main thread) has none.
// Work is split statically (task i always covers the same range for a given thread count),
// so kernels that reduce in task order are deterministic for a given SEPCONV_NUM_THREADS.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/function_ref.h"

namespace sepconv {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }

  // Runs task(t) for t in [0, tasks) across the pool; returns when all are done.
  // Called from inside a task it runs the tasks inline (no nested parallelism).
  void run(int tasks, FunctionRef<void(int task)> task);

  // Splits [0, n) into at most size() contiguous chunks of at least `grain` items.
  void parallel_for(size_t n, size_t grain, FunctionRef<void(size_t begin, size_t end)> body);

  // The default size: SEPCONV_NUM_THREADS if set and valid, else hardware threads.
  static int default_threads();

 private:
  void start_workers();
  void worker_loop(int index);
  void execute_tasks();

  int threads_;
  std::vector<std::thread> workers_;  // started under run_mutex_
  std::mutex mutex_;
  std::condition_variable wake_;
  std::mutex run_mutex_;  // one parallel region at a time per pool
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> next_task_{0};
  std::atomic<int> workers_busy_{0};  // workers not yet done with the current region
  int tasks_ = 0;
  const FunctionRef<void(int)>* task_ = nullptr;
  std::exception_ptr error_;
  std::mutex error_mutex_;
  bool stop_ = false;
};

}  // namespace sepconv
