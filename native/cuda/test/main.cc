// The CUDA kernel test runner: every case compares a CUDA op (compiled for the host against
// the emulator in native/cuda/emu) with the CPU op on the same random inputs.
//   build/cuda-test/runner [substring ...]   runs the cases whose name contains a substring
#include <chrono>
#include <cstdio>
#include <cstring>

#include "cuda/common.cuh"
#include "cuda/test/harness.h"

namespace sepconv::cuda {

// The runtime's stream and scratch, reduced to what a single-threaded runner needs.
cudaStream_t current_stream() { return nullptr; }

void* workspace(size_t bytes) {
  static void* buffer = nullptr;
  static size_t capacity = 0;
  if (bytes > capacity) {
    SEPCONV_CHECK(cudaFree(buffer) == cudaSuccess, "workspace: cudaFree failed");
    buffer = nullptr;
    SEPCONV_CHECK(cudaMalloc(&buffer, bytes) == cudaSuccess, "workspace: cannot allocate ", bytes, " bytes");
    capacity = bytes;
  }
  return buffer;
}

namespace test {
std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}
}  // namespace test
}  // namespace sepconv::cuda

int main(int argc, char** argv) {
  using namespace sepconv::cuda::test;
  int run = 0, failed = 0;
  for (const Case& c : cases()) {
    bool wanted = argc < 2;
    for (int i = 1; i < argc; ++i) wanted = wanted || c.name.find(argv[i]) != std::string::npos;
    if (!wanted) continue;
    ++run;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      c.run();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("ok    %-40s %6.2fs\n", c.name.c_str(), s);
    } catch (const std::exception& e) {
      ++failed;
      std::printf("FAIL  %s\n      %s\n", c.name.c_str(), e.what());
    }
    std::fflush(stdout);
  }
  std::printf("%d cases, %d failed\n", run, failed);
  return failed == 0 && run > 0 ? 0 : 1;
}
