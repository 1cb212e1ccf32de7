// Per-environment state of the addon (one per Node main thread or worker_thread), so the
// addon is context-aware: no process-wide mutable globals.
#pragma once
#include <memory>

#include "core/allocator.h"
#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/op_call.h"
#include "core/thread_pool.h"
#include "addon/storage_handles.h"

namespace sepconv::addon {

struct AddonData {
  std::shared_ptr<CachingAllocator> cpu_allocator;  // shared with every live Storage
  std::unique_ptr<ThreadPool> pool;
  StorageHandles storages;  // after cpu_allocator: torn down first
  Isa isa;
  ConvAlgo conv_algo = ConvAlgo::Auto;  // test hook (setConvAlgo)
};

}  // namespace sepconv::addon
