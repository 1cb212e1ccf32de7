// The backend's runtime: one stream per thread of use, op workspaces, pinned upload staging,
// and the C table the addon loads (abi.h).
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/op_call.h"
#include "cuda/ops/registry.h"
#include "cuda/runtime/abi.h"
#include "cuda/runtime/cuda_api.h"
#include "cuda/runtime/device_allocator.h"

namespace sepconv::cuda {

namespace {

// The calling thread's CUDA resources, created on first use and released when it ends
// (a Node worker_thread that used the GPU gives its stream back).
struct ThreadResources {
  cudaStream_t stream = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  // Two pinned staging buffers: the host copy into one overlaps the DMA out of the other.
  static constexpr size_t kStageBytes = size_t(4) << 20;
  void* stage[2] = {nullptr, nullptr};
  cudaEvent_t stage_done[2] = {nullptr, nullptr};
  int next_stage = 0;
  std::string last_error;

  ~ThreadResources() {
    // Errors are ignored here: at process exit the runtime may already be gone.
    if (workspace) device_allocator().deallocate(workspace, stream);
    for (int i = 0; i < 2; ++i) {
      if (stage_done[i]) (void)cudaEventSynchronize(stage_done[i]), (void)cudaEventDestroy(stage_done[i]);
      if (stage[i]) (void)cudaFreeHost(stage[i]);
    }
    if (stream) {
      (void)cudaStreamSynchronize(stream);
      device_allocator().forget_stream(stream);
      (void)cudaStreamDestroy(stream);
    }
  }
};

ThreadResources& thread_resources() {
  thread_local ThreadResources resources;
  return resources;
}

bool debug_sync() {
#ifdef SEPCONV_CUDA_DEBUG
  return true;
#else
  static const bool on = std::getenv("SEPCONV_CUDA_DEBUG") != nullptr;
  return on;
#endif
}

// Runs `body`, turning exceptions into an error code plus the thread's last_error text.
template <class F>
int guarded(F&& body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    thread_resources().last_error = e.what();
  } catch (...) {
    thread_resources().last_error = "cuda: unknown error";
  }
  return 1;
}

void upload_staged(void* dst, const void* src, size_t bytes) {
  ThreadResources& r = thread_resources();
  cudaStream_t stream = current_stream();
  for (size_t done = 0; done < bytes;) {
    const int i = r.next_stage;
    if (!r.stage[i]) {
      check(cudaMallocHost(&r.stage[i], ThreadResources::kStageBytes), "upload: cudaMallocHost");
      check(cudaEventCreateWithFlags(&r.stage_done[i], cudaEventDisableTiming), "upload: cudaEventCreate");
    } else {
      check(cudaEventSynchronize(r.stage_done[i]), "upload");  // its previous transfer has ended
    }
    const size_t chunk = std::min(ThreadResources::kStageBytes, bytes - done);
    std::memcpy(r.stage[i], static_cast<const char*>(src) + done, chunk);
    check(cudaMemcpyAsync(static_cast<char*>(dst) + done, r.stage[i], chunk, cudaMemcpyHostToDevice, stream),
          "upload: cudaMemcpyAsync");
    check(cudaEventRecord(r.stage_done[i], stream), "upload: cudaEventRecord");
    r.next_stage = 1 - i;
    done += chunk;
  }
}

const char* last_error() { return thread_resources().last_error.c_str(); }

int device_count(int32_t* count) {
  return guarded([&] {
    // Without a driver or a device this fails; the addon reports the reason as "no device".
    int n = 0;
    *count = 0;
    check(cudaGetDeviceCount(&n), "cudaGetDeviceCount");
    *count = n;
  });
}

int device_info(int32_t device, SepconvCudaDeviceInfo* info) {
  return guarded([&] {
    cudaDeviceProp p{};
    check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
    std::memset(info, 0, sizeof(*info));
    static_assert(sizeof(info->name) == sizeof(p.name), "device name buffers differ");
    std::memcpy(info->name, p.name, sizeof(info->name) - 1);  // the last byte stays 0
    info->major = p.major;
    info->minor = p.minor;
    info->multiprocessors = p.multiProcessorCount;
    info->memory_bus_bits = p.memoryBusWidth;
    info->total_memory_bytes = double(p.totalGlobalMem);
    // Clock rates left cudaDeviceProp in CUDA 13; the attributes have them.
    int clock = 0, memory_clock = 0;
    check(cudaDeviceGetAttribute(&clock, cudaDevAttrClockRate, device), "cudaDeviceGetAttribute");
    check(cudaDeviceGetAttribute(&memory_clock, cudaDevAttrMemoryClockRate, device), "cudaDeviceGetAttribute");
    info->clock_khz = clock;
    info->memory_clock_khz = memory_clock;
#ifdef SEPCONV_CUDA_EMU
    info->emulated = 1;
#endif
  });
}

int op_supported(int32_t op) { return op >= 0 && op < kOpCount && cuda_op(Op(op)) != nullptr; }

int run_op(const OpCall* call) {
  return guarded([&] {
    const OpFn fn = cuda_op(call->op);
    if (!fn) fail(op_name(call->op), ": not supported on cuda (no CUDA kernel in this build)");
    fn(*call);
    // Launch errors (bad configuration, missing kernel image for this GPU) are caught here
    // for every op; errors during execution need a sync, done in debug mode.
    const std::string what = std::string(op_name(call->op)) + ": CUDA kernel launch failed";
    check(cudaGetLastError(), what.c_str());
    if (debug_sync()) check(cudaStreamSynchronize(current_stream()), op_name(call->op));
  });
}

int malloc_device(size_t bytes, void** ptr) {
  return guarded([&] { *ptr = device_allocator().allocate(bytes, current_stream()); });
}
int free_device(void* ptr) { return guarded([&] { device_allocator().deallocate(ptr, current_stream()); }); }
int memory_stats(SepconvCudaMemoryStats* stats) { return guarded([&] { *stats = device_allocator().stats(); }); }
int empty_cache() { return guarded([&] { device_allocator().release_cache(); }); }
int mem_get_info(size_t* free_bytes, size_t* total_bytes) {
  return guarded([&] { check(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo"); });
}
int upload(void* dst, const void* src, size_t bytes) { return guarded([&] { upload_staged(dst, src, bytes); }); }
int download(void* dst, const void* src, size_t bytes) {
  return guarded([&] {
    cudaStream_t stream = current_stream();
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream), "download: cudaMemcpyAsync");
    check(cudaStreamSynchronize(stream), "download");
  });
}
int copy_d2d(void* dst, const void* src, size_t bytes) {
  return guarded([&] {
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, current_stream()), "copy: cudaMemcpyAsync");
  });
}
int synchronize() { return guarded([&] { check(cudaStreamSynchronize(current_stream()), "synchronize"); }); }

}  // namespace

cudaStream_t current_stream() {
  ThreadResources& r = thread_resources();
  if (!r.stream) check(cudaStreamCreateWithFlags(&r.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  return r.stream;
}

void* workspace(size_t bytes) {
  ThreadResources& r = thread_resources();
  if (bytes > r.workspace_bytes) {
    // The old block goes back to the cache; work queued on this stream that uses it runs
    // before any later reuse (same stream).
    cudaStream_t stream = current_stream();
    if (r.workspace) device_allocator().deallocate(r.workspace, stream);
    r.workspace = nullptr;
    r.workspace_bytes = 0;
    r.workspace = device_allocator().allocate(bytes, stream);
    r.workspace_bytes = bytes;
  }
  return r.workspace;
}

}  // namespace sepconv::cuda

extern "C" __attribute__((visibility("default"))) const SepconvCudaApi* sepconv_cuda_api() {
  using namespace sepconv::cuda;
  static const SepconvCudaApi api = {
      kSepconvCudaAbiVersion,
      sepconv::kOpCount,
      int32_t(sizeof(sepconv::OpCall)),
      int32_t(sizeof(sepconv::TensorArg)),
      last_error,
      device_count,
      device_info,
      op_supported,
      run_op,
      malloc_device,
      free_device,
      memory_stats,
      empty_cache,
      mem_get_info,
      upload,
      download,
      copy_d2d,
      synchronize,
  };
  return &api;
}
