// Range checks of user-supplied indices (max-unpool positions, class targets) done inside
// parallel loops: each task notes its first bad element, and the op reports the first one
// in element order, so the message does not depend on the thread count.
#pragma once
#include <atomic>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/op_call.h"

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

// "[n, c, h, w]": the coordinates of flat element `element` of `t`.
inline std::string coordinates(int64_t element, const TensorArg& t) {
  int64_t index[kMaxDims];
  for (int d = t.ndim - 1; d >= 0; --d) {
    index[d] = t.shape[d] > 0 ? element % t.shape[d] : 0;
    element = t.shape[d] > 0 ? element / t.shape[d] : 0;
  }
  std::ostringstream os;
  os << '[';
  for (int d = 0; d < t.ndim; ++d) os << (d ? ", " : "") << index[d];
  os << ']';
  return os.str();
}

}  // namespace sepconv::cpu
