// The CUDA device language for the host compiler: lets a .cu kernel compile with g++ and run
// on the CPU, block after block, the threads of a block running as fibers on the calling OS
// thread (so they really interleave at __syncthreads and warp shuffles). Only what the
// kernels use is here; anything else is a compile error, never a silent no-op.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// One copy per OS thread; blocks run one at a time on it, so this is one copy per block.
#define __shared__ static thread_local

struct uint3 { unsigned x, y, z; };
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) double2 { double x, y; };

// Set by the scheduler before it resumes a fiber.
extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;
constexpr int warpSize = 32;

namespace sepconv::cuda::emu {
void sync_block();                    // __syncthreads
void sync_warp();                     // the exchange step of every shuffle
// Shuffles go through 8-byte slots: each lane publishes, the warp meets, each lane reads.
uint64_t shuffle(uint64_t value, int src_lane, bool src_in_range);
int lane_id();
int warp_lanes();                     // lanes that exist in this thread's warp (last warp may be partial)

template <class T>
T shfl(T v, int src_lane, bool in_range) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffle of a type wider than 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = shuffle(bits, src_lane, in_range);
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

// Atomics: blocks of one launch run on one OS thread, but several host threads may launch
// at once into shared buffers, so these are real atomics.
template <class T>
T atomic_update(T* addr, T (*f)(T, T), T v) {
  using Bits = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
  static_assert(sizeof(T) == sizeof(Bits));
  Bits* p = reinterpret_cast<Bits*>(addr);
  Bits old_bits = __atomic_load_n(p, __ATOMIC_RELAXED);
  for (;;) {
    T old_val;
    std::memcpy(&old_val, &old_bits, sizeof(T));
    const T new_val = f(old_val, v);
    Bits new_bits;
    std::memcpy(&new_bits, &new_val, sizeof(T));
    if (__atomic_compare_exchange_n(p, &old_bits, new_bits, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return old_val;
  }
}
}  // namespace sepconv::cuda::emu

inline void __syncthreads() { sepconv::cuda::emu::sync_block(); }

// Faithful to the PTX semantics for width = 32: a source lane outside [0, 32) (down/up) gives
// the caller's own value; a source lane that does not exist (partial last warp) is an
// emulation error, as reading an inactive lane is undefined on the GPU.
template <class T>
T __shfl_down_sync(unsigned, T v, unsigned delta, int width = warpSize) {
  const int lane = sepconv::cuda::emu::lane_id();
  const int seg = lane & ~(width - 1);
  const int src = lane + static_cast<int>(delta);
  return sepconv::cuda::emu::shfl(v, src, src < seg + width);
}
template <class T>
T __shfl_up_sync(unsigned, T v, unsigned delta, int width = warpSize) {
  const int lane = sepconv::cuda::emu::lane_id();
  const int seg = lane & ~(width - 1);
  const int src = lane - static_cast<int>(delta);
  return sepconv::cuda::emu::shfl(v, src, src >= seg);
}
template <class T>
T __shfl_xor_sync(unsigned, T v, int mask, int width = warpSize) {
  const int lane = sepconv::cuda::emu::lane_id();
  const int seg = lane & ~(width - 1);
  const int src = lane ^ mask;
  return sepconv::cuda::emu::shfl(v, src, src >= seg && src < seg + width);
}
template <class T>
T __shfl_sync(unsigned, T v, int src_lane, int width = warpSize) {
  const int lane = sepconv::cuda::emu::lane_id();
  return sepconv::cuda::emu::shfl(v, (lane & ~(width - 1)) + (src_lane & (width - 1)), true);
}

template <class T>
T atomicAdd(T* addr, T v) {
  return sepconv::cuda::emu::atomic_update<T>(addr, [](T a, T b) { return a + b; }, v);
}
template <class T>
T atomicMax(T* addr, T v) {
  return sepconv::cuda::emu::atomic_update<T>(addr, [](T a, T b) { return a < b ? b : a; }, v);
}
template <class T>
T atomicMin(T* addr, T v) {
  return sepconv::cuda::emu::atomic_update<T>(addr, [](T a, T b) { return b < a ? b : a; }, v);
}
// CUDA's overloaded min/max of the device runtime (same-type arguments only, as the kernels use them).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a < b ? b : a; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a < b ? b : a; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a < b ? b : a; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a < b ? b : a; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
