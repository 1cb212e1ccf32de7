// The boundary between the addon and the CUDA backend library (libsepconv_cuda.so, or its
// emulated twin libsepconv_cuda_emu.so). The addon dlopens the library at run time, so the
// CPU addon never links CUDA; it finds one exported symbol, sepconv_cuda_api(), returning this
// table. Both sides are built from the same headers by the same C++ compiler, so ops cross as
// a sepconv::OpCall; `abi_version` and the struct sizes guard against a stale library.
//
// Every function returns 0 on success; on failure a non-zero code, and last_error() gives the
// message (thread-local, so worker threads do not see each other's errors).
#pragma once
#include <cstddef>
#include <cstdint>

namespace sepconv {
struct OpCall;
}

extern "C" {

constexpr int32_t kSepconvCudaAbiVersion = 1;

struct SepconvCudaDeviceInfo {
  char name[256];
  int32_t major, minor;            // compute capability
  int32_t multiprocessors;
  int32_t clock_khz;               // SM clock
  int32_t memory_clock_khz;
  int32_t memory_bus_bits;
  double total_memory_bytes;
  int32_t emulated;                // 1 for the host emulator
};

struct SepconvCudaMemoryStats {
  double bytes_in_use;       // handed out to tensors and not yet returned
  double bytes_cached;       // returned, kept for reuse
  double peak_bytes_in_use;
  double allocations;        // calls to malloc
  double cache_hits;         // served from the cache
  double device_mallocs;     // cudaMalloc calls actually made
  double oom_retries;        // times the cache was released to satisfy a request
};

struct SepconvCudaApi {
  int32_t abi_version;
  int32_t op_count;          // must equal sepconv::kOpCount
  int32_t sizeof_op_call;    // sizeof(sepconv::OpCall)
  int32_t sizeof_tensor_arg; // sizeof(sepconv::TensorArg)

  const char* (*last_error)();
  int (*device_count)(int32_t* count);
  int (*device_info)(int32_t device, SepconvCudaDeviceInfo* info);
  // 1 when the op has a CUDA implementation (else run_op reports it as not supported).
  int (*op_supported)(int32_t op);
  int (*run_op)(const sepconv::OpCall* call);

  // Device memory from the caching allocator (never null on success).
  int (*malloc)(size_t bytes, void** ptr);
  int (*free)(void* ptr);
  int (*memory_stats)(SepconvCudaMemoryStats* stats);
  int (*empty_cache)();
  int (*mem_get_info)(size_t* free_bytes, size_t* total_bytes);

  // Copies on the calling thread's stream. upload() stages through pinned memory and returns
  // before the transfer ends (the source may be reused at once); download() and copy_d2d()
  // are ordered on the stream, download() waits for its data.
  int (*upload)(void* device_dst, const void* host_src, size_t bytes);
  int (*download)(void* host_dst, const void* device_src, size_t bytes);
  int (*copy_d2d)(void* device_dst, const void* device_src, size_t bytes);
  int (*synchronize)();
};

// The one exported symbol.
const SepconvCudaApi* sepconv_cuda_api();
typedef const SepconvCudaApi* (*SepconvCudaApiFn)();
}
