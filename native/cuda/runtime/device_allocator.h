// The caching device allocator: tensors and op workspaces take blocks from size-class free
// lists instead of calling cudaMalloc per op (cudaMalloc/cudaFree synchronise the device and
// cost far more than a small kernel). On out-of-memory it releases its cache and retries once,
// then throws an Error with the bytes requested and free; nothing is left half-allocated.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>

#include "cuda/runtime/abi.h"
#include "cuda/runtime/cuda_api.h"

namespace sepconv::cuda {

class DeviceAllocator {
 public:
  DeviceAllocator() = default;
  DeviceAllocator(const DeviceAllocator&) = delete;
  DeviceAllocator& operator=(const DeviceAllocator&) = delete;

  // A block of at least `bytes` for use on `stream`.
  void* allocate(size_t bytes, cudaStream_t stream);
  // Returns a block; work already queued on `stream` may still use it, and stream order
  // makes reuse on the same stream safe (reuse on another stream waits for this one).
  void deallocate(void* ptr, cudaStream_t stream);
  void release_cache();
  // Called once `stream` has finished all its work and is about to be destroyed (its thread
  // ended): cached blocks last used on it need no wait any more.
  void forget_stream(cudaStream_t stream);
  SepconvCudaMemoryStats stats() const;

 private:
  struct Block {
    void* ptr;
    size_t size;
    cudaStream_t stream;  // last stream that used it (null: no work pending on it)
  };
  void release_cache_locked();

  mutable std::mutex mutex_;
  std::multimap<size_t, Block> free_blocks_;  // size class -> block
  std::map<void*, Block> live_blocks_;
  SepconvCudaMemoryStats stats_{};
};

// The process-wide allocator of device 0 (device memory is process-wide too).
DeviceAllocator& device_allocator();

}  // namespace sepconv::cuda
