// Per-environment state of the addon (one per Node main thread or worker_thread), so the
// addon is context-aware: no process-wide mutable globals.
#pragma once
#include <memory>

#include "core/allocator.h"
#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/op_call.h"
#include "core/thread_pool.h"
#include "cuda/runtime/abi.h"

namespace sepconv::addon {

struct AddonData {
  std::shared_ptr<CachingAllocator> cpu_allocator;  // shared with every live Storage
  std::unique_ptr<ThreadPool> pool;
  Isa isa;
  ConvAlgo conv_algo = ConvAlgo::Auto;  // test hook (setConvAlgo)
  Float32Precision float32_precision = Float32Precision::High;  // setFloat32Precision
};

// Tensor memory as JS sees it: an opaque handle (a Napi::External) to one block.
struct Storage {
  void* data = nullptr;
  size_t bytes = 0;
  Device device = Device::CPU;
  std::shared_ptr<CachingAllocator> allocator;  // CPU: keeps the allocator alive past env teardown
  const SepconvCudaApi* cuda = nullptr;          // CUDA: the backend that owns the block
  bool released = false;

  void release() {
    if (released) return;
    // A CUDA free only fails for a block it does not know, which cannot happen here; a
    // finalizer has nobody to report to anyway.
    if (device == Device::CUDA)
      (void)cuda->free(data);
    else
      allocator->deallocate(data);
    released = true;
  }
};

}  // namespace sepconv::addon
