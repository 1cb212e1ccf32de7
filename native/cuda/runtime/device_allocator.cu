#include "cuda/runtime/device_allocator.h"

#include "core/allocator.h"
#include "core/error.h"

namespace sepconv::cuda {

void* DeviceAllocator::allocate(size_t bytes, cudaStream_t stream) {
  // The host allocator's size classes: 512-byte steps, then 8 per power of two.
  const size_t size = CachingAllocator::round_size(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.allocations += 1;
  Block block{nullptr, size, stream};
  auto it = free_blocks_.find(size);
  if (it != free_blocks_.end()) {
    if (it->second.stream && it->second.stream != stream)
      check(cudaStreamSynchronize(it->second.stream), "cuda allocator");
    block.ptr = it->second.ptr;
    free_blocks_.erase(it);
    stats_.bytes_cached -= double(size);
    stats_.cache_hits += 1;
  } else {
    cudaError_t err = cudaMalloc(&block.ptr, size);
    if (err == cudaErrorMemoryAllocation && !free_blocks_.empty()) {
      (void)cudaGetLastError();  // clear the failed call's error state
      stats_.oom_retries += 1;
      release_cache_locked();
      err = cudaMalloc(&block.ptr, size);
    }
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      size_t free_bytes = 0, total_bytes = 0;
      (void)cudaMemGetInfo(&free_bytes, &total_bytes);
      fail("cuda: out of memory: could not allocate ", bytes, " bytes (", free_bytes, " bytes free of ", total_bytes,
           " on the device; ", size_t(stats_.bytes_in_use), " bytes held by live tensors, the cache was released)");
    }
    check(err, "cuda allocator: cudaMalloc");
    stats_.device_mallocs += 1;
  }
  live_blocks_.emplace(block.ptr, block);
  stats_.bytes_in_use += double(size);
  if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
  return block.ptr;
}

void DeviceAllocator::deallocate(void* ptr, cudaStream_t stream) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_blocks_.find(ptr);
  if (it == live_blocks_.end()) fail("cuda allocator: block ", ptr, " was not allocated here or was freed twice");
  Block block = it->second;
  block.stream = stream;
  live_blocks_.erase(it);
  stats_.bytes_in_use -= double(block.size);
  free_blocks_.emplace(block.size, block);
  stats_.bytes_cached += double(block.size);
}

void DeviceAllocator::release_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cache_locked();
}

void DeviceAllocator::release_cache_locked() {
  // cudaFree waits for the device, so blocks still used by queued work are safe to free.
  for (auto& [size, block] : free_blocks_) (void)cudaFree(block.ptr);
  free_blocks_.clear();
  stats_.bytes_cached = 0;
}

void DeviceAllocator::forget_stream(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [size, block] : free_blocks_)
    if (block.stream == stream) block.stream = nullptr;
}

SepconvCudaMemoryStats DeviceAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

DeviceAllocator& device_allocator() {
  // Leaked on purpose: freeing device memory after the CUDA runtime has shut down at exit fails.
  static DeviceAllocator* allocator = new DeviceAllocator();
  return *allocator;
}

}  // namespace sepconv::cuda
