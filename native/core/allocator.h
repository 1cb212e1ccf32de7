// Caching allocator for tensor storage: 64-byte aligned blocks, rounded to size classes and
// kept on free lists for reuse, because a training step frees and re-allocates the same
// activation sizes every iteration. Thread-safe; one instance per Node environment.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

namespace sepconv {

struct AllocatorStats {
  size_t bytes_in_use = 0;  // handed out and not yet returned
  size_t bytes_cached = 0;  // returned, kept for reuse
  size_t peak_bytes_in_use = 0;
  size_t allocations = 0;   // calls to allocate()
  size_t cache_hits = 0;    // allocate() served from the cache
};

class CachingAllocator {
 public:
  static constexpr size_t kAlignment = 64;

  explicit CachingAllocator(size_t cache_limit_bytes);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Returns a block of at least `bytes` (never null: throws sepconv::Error on exhaustion
  // after releasing the cache and retrying once).
  void* allocate(size_t bytes);
  void deallocate(void* ptr);
  void release_cache();
  AllocatorStats stats() const;

  // The size class a request is served from (exposed for tests).
  static size_t round_size(size_t bytes);

 private:
  void release_cache_locked();

  mutable std::mutex mutex_;
  size_t cache_limit_;
  std::multimap<size_t, void*> free_blocks_;  // size class -> block
  std::map<void*, size_t> live_blocks_;       // block -> size class
  AllocatorStats stats_;
};

// A per-thread scratch area for kernels (packing panels, im2col tiles): grows, never shrinks,
// freed when the thread ends.
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ~ScratchBuffer();
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  void* get(size_t bytes);

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Aligned scratch for the calling thread; `slot` lets one kernel hold several at once.
void* thread_scratch(int slot, size_t bytes);

}  // namespace sepconv
