#include "core/allocator.h"

#include <cstdlib>
#include <cstring>
#ifdef _WIN32
#include <malloc.h>
#endif

#include "core/error.h"

namespace sepconv {

namespace {
// Windows has no posix_memalign, and its aligned blocks must be freed by _aligned_free.
void* aligned_malloc(size_t bytes) {
  const size_t size = bytes == 0 ? CachingAllocator::kAlignment : bytes;
#ifdef _WIN32
  return _aligned_malloc(size, CachingAllocator::kAlignment);
#else
  void* p = nullptr;
  return posix_memalign(&p, CachingAllocator::kAlignment, size) == 0 ? p : nullptr;
#endif
}

void aligned_free(void* p) {
#ifdef _WIN32
  _aligned_free(p);
#else
  std::free(p);
#endif
}
}  // namespace

CachingAllocator::CachingAllocator(size_t cache_limit_bytes) : cache_limit_(cache_limit_bytes) {}

CachingAllocator::~CachingAllocator() {
  release_cache_locked();
  for (auto& [ptr, size] : live_blocks_) aligned_free(ptr);
}

size_t CachingAllocator::round_size(size_t bytes) {
  // Small blocks: multiples of 512 bytes. Large blocks: 8 steps per power of two, so a
  // reused block wastes at most 12.5% while slightly different shapes still share blocks.
  if (bytes <= 4096) return ((bytes + 511) / 512) * 512 + (bytes == 0 ? 512 : 0);
  size_t p = 1;
  while ((p << 1) <= bytes) p <<= 1;
  size_t step = p / 8;
  return ((bytes + step - 1) / step) * step;
}

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.allocations;
  void* ptr = nullptr;
  auto it = free_blocks_.find(size);
  if (it != free_blocks_.end()) {
    ptr = it->second;
    free_blocks_.erase(it);
    stats_.bytes_cached -= size;
    ++stats_.cache_hits;
  } else {
    ptr = aligned_malloc(size);
    if (!ptr) {
      release_cache_locked();
      ptr = aligned_malloc(size);
    }
    if (!ptr)
      fail("out of memory: could not allocate ", bytes, " bytes (", stats_.bytes_in_use,
           " bytes held by live tensors)");
  }
  live_blocks_.emplace(ptr, size);
  stats_.bytes_in_use += size;
  if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
  return ptr;
}

void CachingAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_blocks_.find(ptr);
  if (it == live_blocks_.end()) fail("allocator: block ", ptr, " was not allocated here or was freed twice");
  const size_t size = it->second;
  live_blocks_.erase(it);
  stats_.bytes_in_use -= size;
  if (size > cache_limit_) {
    aligned_free(ptr);
    return;
  }
  if (stats_.bytes_cached + size > cache_limit_) release_cache_locked();
  free_blocks_.emplace(size, ptr);
  stats_.bytes_cached += size;
}

void CachingAllocator::release_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cache_locked();
}

void CachingAllocator::release_cache_locked() {
  for (auto& [size, ptr] : free_blocks_) aligned_free(ptr);
  free_blocks_.clear();
  stats_.bytes_cached = 0;
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

ScratchBuffer::~ScratchBuffer() { aligned_free(ptr_); }

void* ScratchBuffer::get(size_t bytes) {
  if (bytes > bytes_) {
    aligned_free(ptr_);
    ptr_ = aligned_malloc(bytes);
    if (!ptr_) {
      bytes_ = 0;
      fail("out of memory: could not allocate ", bytes, " bytes of kernel scratch space");
    }
    bytes_ = bytes;
  }
  return ptr_;
}

void* thread_scratch(int slot, size_t bytes) {
  static constexpr int kSlots = 6;
  thread_local ScratchBuffer buffers[kSlots];
  if (slot < 0 || slot >= kSlots) fail("thread_scratch: slot ", slot, " out of range");
  return buffers[slot].get(bytes);
}

}  // namespace sepconv
