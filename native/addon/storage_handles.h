// What JS holds for a block of tensor memory: a type-tagged Napi::External whose data is a
// slot index and generation in this per-environment table, not a pointer.
//
// Why not an External that owns its Storage through a finalizer: Node runs External
// finalizers from setImmediate, so a synchronous training loop piled up one pending
// finalizer (~240 bytes of native heap) per tensor it ever made, disposed or not. Here
// `free` releases the memory and the slot at once, and nothing waits for the event loop.
// Each live slot keeps a weak reference to its handle; V8 clears it when the handle is
// garbage-collected, and `add` sweeps such slots now and then, so tensors nobody disposed
// are freed by the next allocations after a GC, even in a loop that never yields.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/allocator.h"
#include "core/dtype.h"
#include "cuda/runtime/abi.h"

namespace sepconv::addon {

// One block of tensor memory on the CPU or a CUDA device.
struct Storage {
  void* data = nullptr;
  size_t bytes = 0;
  Device device = Device::CPU;
  std::shared_ptr<CachingAllocator> allocator;  // CPU: the allocator the block came from
  const SepconvCudaApi* cuda = nullptr;          // CUDA: the backend that owns the block

  void release() {
    // A CUDA free only fails for a block it does not know, which cannot happen here; a
    // sweep or a teardown has nobody to report to anyway.
    if (device == Device::CUDA)
      (void)cuda->free(data);
    else
      allocator->deallocate(data);
  }
};

class StorageHandles {
 public:
  StorageHandles() = default;
  StorageHandles(const StorageHandles&) = delete;
  StorageHandles& operator=(const StorageHandles&) = delete;
  // Environment teardown: releases the blocks still alive (Node deletes the references).
  ~StorageHandles();

  // A new handle owning `storage` (reports its bytes to V8 as external memory).
  Napi::Value add(Napi::Env env, const Storage& storage);
  // The live storage behind `handle`; throws a JS-facing Error naming `what` for anything
  // that is not one of this addon's storage handles, or for memory already released.
  Storage& get(const Napi::Value& handle, const char* what);
  // Releases the memory behind `handle` now; a handle already released is left alone.
  void free(Napi::Env env, const Napi::Value& handle);

  size_t live() const { return live_; }

 private:
  struct Slot {
    Storage storage;
    napi_ref handle = nullptr;  // weak: cleared when JS dropped the handle without free()
    uint32_t generation = 1;    // bumped on release, so stale handles never match a reused slot
    bool live = false;
  };

  // The slot `handle` names, or nullptr when it names a released one; throws for non-handles.
  Slot* slot_of(const Napi::Value& handle, const char* what);
  void release(Napi::Env env, uint32_t index);
  // Frees the slots whose handles were garbage-collected.
  void collect_dropped(Napi::Env env);

  std::vector<Slot> slots_;
  std::vector<uint32_t> vacant_;
  size_t live_ = 0;
  size_t adds_since_collect_ = 0;
};

}  // namespace sepconv::addon
