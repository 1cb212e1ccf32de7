#include "addon/cuda_backend.h"

#ifndef _WIN32
#include <dlfcn.h>
#endif

#include <cstdlib>
#include <mutex>

#include "core/error.h"
#include "core/op_call.h"
#include "core/ops.h"

namespace sepconv::addon {

namespace {

#ifdef _WIN32
// The CUDA backend is built by CMake for Linux only; a Windows addon runs on the CPU.
void load(CudaBackend& b) { b.load_error = "the CUDA backend is not built for Windows (Linux only)"; }
#else
std::string addon_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&cuda_backend), &info) == 0 || !info.dli_fname) return ".";
  const std::string path = info.dli_fname;
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

void load(CudaBackend& b) {
  const char* env = std::getenv("SEPCONV_CUDA_LIB");
  b.library_path = env && *env ? env : addon_directory() + "/libsepconv_cuda.so";
  // Kept open for the life of the process: storages freed at exit still call into it.
  void* handle = dlopen(b.library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    b.load_error = "could not load " + b.library_path + " (" + (why ? why : "unknown reason") + ")";
    return;
  }
  auto entry = reinterpret_cast<SepconvCudaApiFn>(dlsym(handle, "sepconv_cuda_api"));
  const SepconvCudaApi* api = entry ? entry() : nullptr;
  if (!api) {
    b.load_error = b.library_path + " is not a sepconv CUDA backend (no sepconv_cuda_api symbol)";
    return;
  }
  if (api->abi_version != kSepconvCudaAbiVersion || api->op_count != kOpCount ||
      api->sizeof_op_call != int32_t(sizeof(OpCall)) || api->sizeof_tensor_arg != int32_t(sizeof(TensorArg))) {
    b.load_error = b.library_path + " was built from other sources than this addon (rebuild with `npm run build:cuda`)";
    return;
  }
  b.api = api;
  int32_t count = 0;
  if (api->device_count(&count) != 0) {
    b.load_error = api->last_error();
    return;
  }
  b.device_count = count;
  if (count > 0 && api->device_info(0, &b.device) != 0)
    b.load_error = api->last_error();
}
#endif

}  // namespace

std::string CudaBackend::unavailable_reason() const {
  if (!api)
    return "this build has no usable CUDA backend: " + load_error +
           ". Build it with `npm run build:cuda` on a machine with the CUDA toolkit (nvcc), or point SEPCONV_CUDA_LIB "
           "at the library";
  if (device_count == 0)
    return "no CUDA device is visible (the CUDA backend " + library_path + " is built" +
           (load_error.empty() ? "" : "; " + load_error) + ")";
  return "";
}

void CudaBackend::require(const char* what) const {
  if (!available()) fail(what, ": ", unavailable_reason());
}

void CudaBackend::check(int rc, const char* what) const {
  if (rc != 0) fail(what, ": ", api->last_error());
}

const CudaBackend& cuda_backend() {
  static CudaBackend backend;
  static std::once_flag once;
  std::call_once(once, [] { load(backend); });
  return backend;
}

}  // namespace sepconv::addon
