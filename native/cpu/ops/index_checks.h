// Range checks of user-supplied indices (max-unpool positions, class targets) done inside
// parallel loops: each task notes its first bad element, and the op reports the first one
// in element order, so the message does not depend on the thread count.
#pragma once
#include <atomic>
#include <cstdint>

namespace sepconv::cpu {

class FirstBadIndex {
 public:
  void note(int64_t element) {
    int64_t seen = first_.load(std::memory_order_relaxed);
    while (element < seen && !first_.compare_exchange_weak(seen, element, std::memory_order_relaxed)) {
    }
  }
  bool found() const { return first_.load() != kNone; }
  int64_t element() const { return first_.load(); }

 private:
  static constexpr int64_t kNone = INT64_MAX;
  std::atomic<int64_t> first_{kNone};
};

}  // namespace sepconv::cpu
