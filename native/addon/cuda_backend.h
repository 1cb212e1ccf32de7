// The addon's side of the CUDA backend: finds and loads the backend library once per process
// (device memory and the library are process-wide; worker_threads share them) and says why
// CUDA is unavailable when it is.
#pragma once
#include <string>

#include "cuda/runtime/abi.h"

namespace sepconv::addon {

struct CudaBackend {
  const SepconvCudaApi* api = nullptr;  // null when no library loaded
  std::string library_path;             // what was loaded, or looked for
  std::string load_error;               // why api is null
  int device_count = 0;
  SepconvCudaDeviceInfo device{};       // device 0, when device_count > 0

  bool available() const { return api != nullptr && device_count > 0; }
  // Why CUDA is unavailable: the build or the device is missing (and how to get it).
  std::string unavailable_reason() const;
  // Throws an Error "<what>: <unavailable_reason()>" unless available().
  void require(const char* what) const;
  // Throws an Error with the backend's last message, prefixed by `what`, if rc != 0.
  void check(int rc, const char* what) const;
};

// Loaded on first call: $SEPCONV_CUDA_LIB if set, else libsepconv_cuda.so next to the addon.
const CudaBackend& cuda_backend();

}  // namespace sepconv::addon
