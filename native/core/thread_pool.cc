#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

namespace sepconv {

namespace {
thread_local bool in_pool_task = false;
}

int ThreadPool::default_threads() {
  if (const char* env = std::getenv("SEPCONV_NUM_THREADS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 1024) return static_cast<int>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {}

void ThreadPool::start_workers() {
  workers_.reserve(size_t(threads_ - 1));
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::execute_tasks() {
  const bool was_in_task = in_pool_task;
  in_pool_task = true;
  for (;;) {
    int t = next_task_.fetch_add(1, std::memory_order_acq_rel);
    if (t >= tasks_) break;
    try {
      (*task_)(t);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
  in_pool_task = was_in_task;
}

void ThreadPool::worker_loop(int /*index*/) {
  uint64_t seen = 0;
  for (;;) {
    // Spin briefly: training issues hundreds of short parallel regions per step, and a
    // condition-variable wake-up costs more than many of them take.
    auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    while (generation_.load(std::memory_order_acquire) == seen &&
           std::chrono::steady_clock::now() < spin_until) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      seen = generation_.load(std::memory_order_acquire);
      if (stop_) return;
    }
    execute_tasks();
    workers_busy_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::run(int tasks, FunctionRef<void(int)> task) {
  if (tasks <= 0) return;
  if (tasks == 1 || threads_ == 1 || in_pool_task) {
    for (int t = 0; t < tasks; ++t) task(t);
    return;
  }
  std::lock_guard<std::mutex> region(run_mutex_);
  if (workers_.empty()) start_workers();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    tasks_ = tasks;
    error_ = nullptr;
    next_task_.store(0, std::memory_order_relaxed);
    // Every worker checks in and out of every region, so none can still be reading this
    // region's state when the next one is set up.
    workers_busy_.store(threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  execute_tasks();
  while (workers_busy_.load(std::memory_order_acquire) != 0) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
  }
  task_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::parallel_for(size_t n, size_t grain, FunctionRef<void(size_t, size_t)> body) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  size_t chunks = std::min<size_t>(static_cast<size_t>(threads_), (n + grain - 1) / grain);
  if (chunks <= 1) {
    body(0, n);
    return;
  }
  run(static_cast<int>(chunks), [&](int t) {
    size_t begin = n * static_cast<size_t>(t) / chunks;
    size_t end = n * static_cast<size_t>(t + 1) / chunks;
    if (begin < end) body(begin, end);
  });
}

}  // namespace sepconv
