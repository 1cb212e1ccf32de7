// The emulated device: a fiber scheduler that runs one block at a time on the calling OS
// thread, and the runtime API over host memory. See device.h and runtime.h.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda/emu/cuda_runtime.h"

thread_local uint3 threadIdx;
thread_local uint3 blockIdx;
thread_local dim3 blockDim;
thread_local dim3 gridDim;

// Fiber switch: saves the callee-saved registers on the current stack, stores its pointer in
// *save_sp and resumes the stack `to_sp`. A hand-written switch because ucontext's
// swapcontext makes a signal-mask syscall per switch, and a block of 256 threads switches
// several times per thread.
#if defined(__x86_64__)
extern "C" void sepconv_emu_switch(void** save_sp, void* to_sp);
asm(R"(
  .text
  .globl sepconv_emu_switch
  .hidden sepconv_emu_switch
  .type sepconv_emu_switch,@function
sepconv_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size sepconv_emu_switch,.-sepconv_emu_switch
)");
#elif defined(__aarch64__)
extern "C" void sepconv_emu_switch(void** save_sp, void* to_sp);
asm(R"(
  .text
  .globl sepconv_emu_switch
  .hidden sepconv_emu_switch
  .type sepconv_emu_switch,%function
sepconv_emu_switch:
  sub sp, sp, #176
  stp x19, x20, [sp, #0]
  stp x21, x22, [sp, #16]
  stp x23, x24, [sp, #32]
  stp x25, x26, [sp, #48]
  stp x27, x28, [sp, #64]
  stp x29, x30, [sp, #80]
  stp d8, d9, [sp, #96]
  stp d10, d11, [sp, #112]
  stp d12, d13, [sp, #128]
  stp d14, d15, [sp, #144]
  mov x9, sp
  str x9, [x0]
  mov sp, x1
  ldp x19, x20, [sp, #0]
  ldp x21, x22, [sp, #16]
  ldp x23, x24, [sp, #32]
  ldp x25, x26, [sp, #48]
  ldp x27, x28, [sp, #64]
  ldp x29, x30, [sp, #80]
  ldp d8, d9, [sp, #96]
  ldp d10, d11, [sp, #112]
  ldp d12, d13, [sp, #128]
  ldp d14, d15, [sp, #144]
  add sp, sp, #176
  ret
  .size sepconv_emu_switch,.-sepconv_emu_switch
)");
#else
#error "the CUDA emulator's fiber switch exists for x86-64 and arm64 only"
#endif

namespace sepconv::cuda::emu {
namespace {

constexpr size_t kStackBytes = 64 * 1024;
constexpr int kMaxThreads = 1024;

struct Fiber {
  void* sp = nullptr;
  uint3 tid{};
  bool done = false;
  const unsigned* wait_on = nullptr;  // blocked until *wait_on != wait_value
  unsigned wait_value = 0;
};

struct Scheduler {
  char* stacks = nullptr;  // kMaxThreads stacks, each above a guard page
  size_t page = 0;
  std::vector<Fiber> fibers;
  void* home_sp = nullptr;
  int current = 0;
  int nthreads = 0;
  int block_count = 0;
  unsigned block_gen = 0;
  std::vector<int> warp_count;
  std::vector<unsigned> warp_gen;
  std::vector<uint64_t> slots[2];  // shuffle values, by parity of the warp's generation
  void (*body)(void*) = nullptr;
  void* ctx = nullptr;
  std::string fault;

  Scheduler() : fibers(kMaxThreads), warp_count(kMaxThreads / 32), warp_gen(kMaxThreads / 32) {
    slots[0].resize(kMaxThreads);
    slots[1].resize(kMaxThreads);
  }
  ~Scheduler() {
    if (stacks) munmap(stacks, kMaxThreads * (kStackBytes + page));
  }
  char* stack_top(int i) {
    if (!stacks) {
      page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
      const size_t bytes = kMaxThreads * (kStackBytes + page);
      void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED) {
        std::fprintf(stderr, "sepconv CUDA emulator: cannot map fiber stacks\n");
        std::abort();
      }
      stacks = static_cast<char*>(p);
      for (int s = 0; s < kMaxThreads; ++s) mprotect(stacks + s * (kStackBytes + page), page, PROT_NONE);
    }
    return stacks + (i + 1) * (kStackBytes + page);
  }
};

thread_local Scheduler sched;

int linear_tid() { return sched.current; }

void yield_to_home() {
  sepconv_emu_switch(&sched.fibers[sched.current].sp, sched.home_sp);
}

// Ends the launch: the faulting fiber never resumes; run_block sees the fault and stops.
[[noreturn]] void raise_fault(const std::string& what) {
  if (sched.fault.empty()) {
    char where[96];
    std::snprintf(where, sizeof where, " (block %u,%u,%u thread %u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z,
                  threadIdx.x, threadIdx.y, threadIdx.z);
    sched.fault = what + where;
  }
  sched.fibers[sched.current].done = true;
  yield_to_home();
  __builtin_unreachable();
}

void wait_for_change(const unsigned* gen, unsigned seen) {
  Fiber& f = sched.fibers[sched.current];
  f.wait_on = gen;
  f.wait_value = seen;
  yield_to_home();
}

void fiber_main() {
  sched.body(sched.ctx);
  sched.fibers[sched.current].done = true;
  yield_to_home();
  __builtin_unreachable();
}

void start_fiber(int i) {
  Fiber& f = sched.fibers[i];
  void** top = reinterpret_cast<void**>(sched.stack_top(i));
#if defined(__x86_64__)
  // The switch pops six registers and returns into fiber_main with the stack aligned as
  // after a call (rsp % 16 == 8).
  void** sp = top - 8;
  for (int r = 0; r < 6; ++r) sp[r] = nullptr;
  sp[6] = reinterpret_cast<void*>(&fiber_main);
  sp[7] = nullptr;
#else
  // The switch restores x19..x30 and d8..d15 and returns to x30 = fiber_main.
  void** sp = top - 22;
  for (int r = 0; r < 22; ++r) sp[r] = nullptr;
  sp[11] = reinterpret_cast<void*>(&fiber_main);
#endif
  f.sp = sp;
  f.done = false;
  f.wait_on = nullptr;
}

// Round-robin over the block's fibers until all finish; a full round in which every live
// fiber is still blocked is a barrier some threads never reach.
bool run_block() {
  const int n = sched.nthreads;
  for (int i = 0; i < n; ++i) start_fiber(i);
  sched.block_count = 0;
  std::fill(sched.warp_count.begin(), sched.warp_count.end(), 0);
  int live = n;
  while (live > 0) {
    bool progressed = false;
    for (int i = 0; i < n; ++i) {
      Fiber& f = sched.fibers[i];
      if (f.done) continue;
      if (f.wait_on) {
        if (*f.wait_on == f.wait_value) continue;
        f.wait_on = nullptr;
      }
      sched.current = i;
      threadIdx = f.tid;
      sepconv_emu_switch(&sched.home_sp, f.sp);
      progressed = true;
      if (!sched.fault.empty()) return false;
      if (f.done) --live;
    }
    if (!progressed) {
      char msg[160];
      std::snprintf(msg, sizeof msg,
                    "barrier deadlock in block %u,%u,%u: %d of %d threads exited or wait at a different barrier",
                    blockIdx.x, blockIdx.y, blockIdx.z, n - live, n);
      sched.fault = msg;
      return false;
    }
  }
  return true;
}

thread_local cudaError_t last_error = cudaSuccess;
thread_local std::string last_fault_message;

cudaError_t set_error(cudaError_t e) {
  if (e != cudaSuccess) last_error = e;
  return e;
}

}  // namespace

void sync_block() {
  if (++sched.block_count == sched.nthreads) {
    sched.block_count = 0;
    ++sched.block_gen;
    return;
  }
  wait_for_change(&sched.block_gen, sched.block_gen);
}

int lane_id() { return linear_tid() & 31; }

int warp_lanes() {
  const int first = linear_tid() & ~31;
  return std::min(32, sched.nthreads - first);
}

void sync_warp() {
  const int w = linear_tid() >> 5;
  if (++sched.warp_count[w] == warp_lanes()) {
    sched.warp_count[w] = 0;
    ++sched.warp_gen[w];
    return;
  }
  wait_for_change(&sched.warp_gen[w], sched.warp_gen[w]);
}

// A lane may run ahead to the next shuffle while a slower lane still reads this one, so slots
// alternate by generation parity; two generations ahead needs every lane past this read.
uint64_t shuffle(uint64_t value, int src_lane, bool src_in_range) {
  const int t = linear_tid();
  const int w = t >> 5;
  const int parity = sched.warp_gen[w] & 1;
  sched.slots[parity][t] = value;
  sync_warp();
  if (!src_in_range) return value;
  if (src_lane < 0 || src_lane >= warp_lanes()) {
    raise_fault("warp shuffle reads lane " + std::to_string(src_lane) + " of a warp with " +
                std::to_string(warp_lanes()) + " threads");
  }
  return sched.slots[parity][(w << 5) + src_lane];
}

void launch_erased(dim3 grid, dim3 block, void (*body)(void*), void* ctx) {
  last_fault_message.clear();
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  if (threads == 0 || threads > kMaxThreads || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
      grid.y > 65535 || grid.z > 65535 || grid.x > 0x7fffffffu) {
    set_error(cudaErrorInvalidConfiguration);
    return;
  }
  sched.body = body;
  sched.ctx = ctx;
  sched.nthreads = static_cast<int>(threads);
  sched.fault.clear();
  gridDim = grid;
  blockDim = block;
  int i = 0;
  for (unsigned z = 0; z < block.z; ++z)
    for (unsigned y = 0; y < block.y; ++y)
      for (unsigned x = 0; x < block.x; ++x) sched.fibers[i++].tid = uint3{x, y, z};
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx = uint3{bx, by, bz};
        if (!run_block()) {
          last_fault_message = sched.fault;
          set_error(cudaErrorLaunchFailure);
          return;
        }
      }
}

const char* last_fault() { return last_fault_message.c_str(); }

namespace {

size_t capacity() {
  static const size_t cap = [] {
    const char* env = std::getenv("SEPCONV_EMU_MEMORY");
    return env && *env ? static_cast<size_t>(std::strtoull(env, nullptr, 10)) : size_t{1} << 30;
  }();
  return cap;
}

std::mutex heap_mutex;
std::unordered_map<void*, size_t> heap;  // live device allocations and their sizes
size_t heap_used = 0;

}  // namespace
}  // namespace sepconv::cuda::emu

using namespace sepconv::cuda::emu;

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unknown error";
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return last_error; }

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : set_error(cudaErrorInvalidDevice); }
cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return set_error(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "sepconv CUDA emulator (host CPU)");
  prop->totalGlobalMem = capacity();
  prop->sharedMemPerBlock = 48 * 1024;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 0x7fffffff;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->major = 8;
  prop->minor = 0;
  prop->multiProcessorCount = 1;
  prop->memoryBusWidth = 64;
  prop->l2CacheSize = 1 << 20;
  prop->sharedMemPerMultiprocessor = 48 * 1024;
  prop->maxThreadsPerMultiProcessor = 1024;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0) return set_error(cudaErrorInvalidDevice);
  switch (attr) {
    case cudaDevAttrClockRate: *value = 1000000; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *value = 1; return cudaSuccess;
    case cudaDevAttrMemoryClockRate: *value = 1000000; return cudaSuccess;
    case cudaDevAttrGlobalMemoryBusWidth: *value = 64; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMajor: *value = 8; return cudaSuccess;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; return cudaSuccess;
  }
  return set_error(cudaErrorInvalidValue);
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  std::lock_guard<std::mutex> lock(heap_mutex);
  *total_bytes = capacity();
  *free_bytes = capacity() - heap_used;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  if (!ptr) return set_error(cudaErrorInvalidValue);
  *ptr = nullptr;
  const size_t rounded = (std::max<size_t>(bytes, 1) + 255) / 256 * 256;  // cudaMalloc aligns to 256
  std::lock_guard<std::mutex> lock(heap_mutex);
  if (rounded > capacity() - heap_used) return set_error(cudaErrorMemoryAllocation);
  void* p = std::aligned_alloc(256, rounded);
  if (!p) return set_error(cudaErrorMemoryAllocation);
  heap.emplace(p, rounded);
  heap_used += rounded;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  std::lock_guard<std::mutex> lock(heap_mutex);
  auto it = heap.find(ptr);
  if (it == heap.end()) return set_error(cudaErrorInvalidDevicePointer);
  heap_used -= it->second;
  heap.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  if (!ptr) return set_error(cudaErrorInvalidValue);
  *ptr = std::aligned_alloc(256, (std::max<size_t>(bytes, 1) + 255) / 256 * 256);
  return *ptr ? cudaSuccess : set_error(cudaErrorMemoryAllocation);
}
cudaError_t cudaFreeHost(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  if (bytes && (!dst || !src)) return set_error(cudaErrorInvalidValue);
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}
cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  if (bytes && !dst) return set_error(cudaErrorInvalidValue);
  if (bytes) std::memset(dst, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t) { return cudaMemset(dst, value, bytes); }

// Streams and events are distinct non-null handles so code that compares them still works.
namespace {
std::atomic<uintptr_t> next_handle{1};
}
cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  *stream = reinterpret_cast<cudaStream_t>(next_handle++ * 16);
  return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) { return cudaStreamCreate(stream); }
cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned) { return cudaSuccess; }
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = reinterpret_cast<cudaEvent_t>(next_handle++ * 16);
  return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) { return cudaEventCreate(event); }
cudaError_t cudaEventDestroy(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t, cudaEvent_t) {
  *ms = 0.0f;
  return cudaSuccess;
}
