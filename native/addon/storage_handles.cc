#include "addon/storage_handles.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace sepconv::addon {

namespace {

// Marks this addon's handles, so an External from anywhere else is refused by name.
constexpr napi_type_tag kStorageHandleTag = {0x5e9c0a7d51a4e11dULL, 0x8f3b2c6d9e0a4b17ULL};

// Sweep for garbage-collected handles once this many adds have happened since the last
// sweep, and never more often than once per live slot (amortised O(1) per add).
constexpr size_t kMinAddsBetweenSweeps = 1024;

uint64_t key_of(uint32_t index, uint32_t generation) { return (uint64_t(generation) << 32) | index; }

}  // namespace

static_assert(sizeof(void*) == 8, "storage handles encode a 64-bit slot key in the External's data");

StorageHandles::~StorageHandles() {
  for (Slot& s : slots_)
    if (s.live) s.storage.release();
}

Napi::Value StorageHandles::add(Napi::Env env, const Storage& storage) {
  if (++adds_since_collect_ >= std::max(kMinAddsBetweenSweeps, live_)) collect_dropped(env);
  uint32_t index;
  if (!vacant_.empty()) {
    index = vacant_.back();
    vacant_.pop_back();
  } else {
    SEPCONV_CHECK(slots_.size() < UINT32_MAX, "alloc: too many live tensors");
    index = uint32_t(slots_.size());
    slots_.emplace_back();
  }
  Slot& slot = slots_[index];
  slot.storage = storage;
  slot.live = true;
  ++live_;
  Napi::MemoryManagement::AdjustExternalMemory(env, int64_t(storage.bytes));
  try {
    auto handle = Napi::External<void>::New(env, reinterpret_cast<void*>(uintptr_t(key_of(index, slot.generation))));
    handle.TypeTag(&kStorageHandleTag);
    NAPI_THROW_IF_FAILED(env, napi_create_reference(env, handle, 0, &slot.handle), Napi::Value());
    return handle;
  } catch (...) {
    release(env, index);
    throw;
  }
}

StorageHandles::Slot* StorageHandles::slot_of(const Napi::Value& handle, const char* what) {
  if (!handle.IsExternal() || !handle.As<Napi::External<void>>().CheckTypeTag(&kStorageHandleTag))
    fail(what, ": expected a storage handle (from this addon's alloc) but received another value");
  const uint64_t key = uint64_t(reinterpret_cast<uintptr_t>(handle.As<Napi::External<void>>().Data()));
  const uint32_t index = uint32_t(key), generation = uint32_t(key >> 32);
  SEPCONV_CHECK(index < slots_.size(), what, ": expected a storage handle of this thread's addon instance");
  Slot& slot = slots_[index];
  return slot.live && slot.generation == generation ? &slot : nullptr;
}

Storage& StorageHandles::get(const Napi::Value& handle, const char* what) {
  Slot* slot = slot_of(handle, what);
  if (slot == nullptr) fail(what, ": the tensor's memory was already disposed");
  return slot->storage;
}

void StorageHandles::free(Napi::Env env, const Napi::Value& handle) {
  if (Slot* slot = slot_of(handle, "free")) release(env, uint32_t(slot - slots_.data()));
}

void StorageHandles::release(Napi::Env env, uint32_t index) {
  Slot& slot = slots_[index];
  slot.storage.release();
  Napi::MemoryManagement::AdjustExternalMemory(env, -int64_t(slot.storage.bytes));
  if (slot.handle != nullptr) napi_delete_reference(env, slot.handle);
  slot = Slot{Storage{}, nullptr, slot.generation + 1, false};
  vacant_.push_back(index);
  --live_;
}

void StorageHandles::collect_dropped(Napi::Env env) {
  adds_since_collect_ = 0;
  Napi::HandleScope scope(env);
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].live) continue;
    napi_value value = nullptr;
    if (napi_get_reference_value(env, slots_[i].handle, &value) == napi_ok && value == nullptr) release(env, i);
  }
}

}  // namespace sepconv::addon
