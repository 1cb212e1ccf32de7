// Checks of the emulator itself: shared memory and barriers, shuffles, atomics, and that the
// faults a GPU would hit (divergent barrier, bad configuration) surface as launch errors.
#include <vector>

#include "cuda/common.cuh"
#include "cuda/test/harness.h"

namespace sepconv::cuda::test {
namespace {

// Per block: a shared-memory tree sum (barriers), then the same sum by shuffles, then
// atomics into global totals.
__global__ void reduce_kernel(const float* x, int n, float* block_sums, float* shuffle_sums, float* total,
                              int* max_index) {
  __shared__ float tile[256];
  __shared__ float scratch[32];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const float v = i < n ? x[i] : 0.0f;
  tile[threadIdx.x] = v;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (static_cast<int>(threadIdx.x) < stride) tile[threadIdx.x] += tile[threadIdx.x + stride];
    __syncthreads();
  }
  const float by_shuffle = block_sum(v, scratch);
  if (threadIdx.x == 0) {
    block_sums[blockIdx.x] = tile[0];
    shuffle_sums[blockIdx.x] = by_shuffle;
  }
  atomicAdd(total, v);
  if (i < n) atomicMax(max_index, i);
}

__global__ void shuffle_kernel(int* down, int* up, int* xor_out, int* bcast) {
  const int lane = threadIdx.x & 31;
  const int v = 100 * static_cast<int>(threadIdx.x / 32) + lane;
  down[threadIdx.x] = __shfl_down_sync(0xffffffffu, v, 3);
  up[threadIdx.x] = __shfl_up_sync(0xffffffffu, v, 5);
  xor_out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, v, 6);
  bcast[threadIdx.x] = __shfl_sync(0xffffffffu, v, 7);
}

__global__ void divergent_barrier_kernel(int* out) {
  if (threadIdx.x < 16) __syncthreads();
  out[threadIdx.x] = 1;
}

template <class T>
std::vector<T> download(const T* d, size_t n) {
  std::vector<T> h(n);
  cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost);
  return h;
}

template <class T>
T* upload(const std::vector<T>& h) {
  void* d = nullptr;
  EXPECT(cudaMalloc(&d, h.size() * sizeof(T)) == cudaSuccess, "cudaMalloc of ", h.size() * sizeof(T), " bytes");
  cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice);
  return static_cast<T*>(d);
}

TEST_CASE("emu: shared memory, barriers, shuffles, atomics") {
  const int n = 1000, threads = 256, blocks = (n + threads - 1) / threads;
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = static_cast<float>(i % 7) - 3.0f;
  float* dx = upload(x);
  float* block_sums = upload(std::vector<float>(blocks));
  float* shuffle_sums = upload(std::vector<float>(blocks));
  float* total = upload(std::vector<float>(1));
  int* max_index = upload(std::vector<int>(1, -1));
  launch("emu_reduce", reduce_kernel, dim3(blocks), dim3(threads), dx, n, block_sums, shuffle_sums, total, max_index);
  const auto bs = download(block_sums, blocks), ss = download(shuffle_sums, blocks);
  float all = 0;
  for (int b = 0; b < blocks; ++b) {
    float expect = 0;
    for (int i = b * threads; i < std::min(n, (b + 1) * threads); ++i) expect += x[i];
    EXPECT(bs[b] == expect, "block ", b, " tree sum ", bs[b], " expected ", expect);
    EXPECT(ss[b] == expect, "block ", b, " shuffle sum ", ss[b], " expected ", expect);
    all += expect;
  }
  EXPECT(download(total, 1)[0] == all, "atomic total");
  EXPECT(download(max_index, 1)[0] == n - 1, "atomicMax");
  for (void* p : {static_cast<void*>(dx), static_cast<void*>(block_sums), static_cast<void*>(shuffle_sums),
                  static_cast<void*>(total), static_cast<void*>(max_index)})
    cudaFree(p);
}

TEST_CASE("emu: warp shuffles follow the PTX lane rules") {
  const int threads = 64;
  int* d[4];
  for (int*& p : d) p = upload(std::vector<int>(threads));
  launch("emu_shuffle", shuffle_kernel, dim3(1), dim3(threads), d[0], d[1], d[2], d[3]);
  const auto down = download(d[0], threads), up = download(d[1], threads), xr = download(d[2], threads),
             bc = download(d[3], threads);
  for (int t = 0; t < threads; ++t) {
    const int lane = t & 31, base = 100 * (t / 32);
    EXPECT(down[t] == base + (lane + 3 < 32 ? lane + 3 : lane), "shfl_down at thread ", t, " gave ", down[t]);
    EXPECT(up[t] == base + (lane >= 5 ? lane - 5 : lane), "shfl_up at thread ", t, " gave ", up[t]);
    EXPECT(xr[t] == base + (lane ^ 6), "shfl_xor at thread ", t, " gave ", xr[t]);
    EXPECT(bc[t] == base + 7, "shfl at thread ", t, " gave ", bc[t]);
  }
  for (int* p : d) cudaFree(p);
}

TEST_CASE("emu: a divergent barrier and a bad configuration fail the launch") {
  int* out = upload(std::vector<int>(64));
  bool threw = false;
  try {
    launch("emu_divergent", divergent_barrier_kernel, dim3(1), dim3(64), out);
  } catch (const Error& e) {
    threw = std::string(e.what()).find("emu_divergent: CUDA kernel failed") == 0 &&
            std::string(e.what()).find("barrier deadlock") != std::string::npos;
  }
  EXPECT(threw, "divergent __syncthreads was not reported");
  threw = false;
  try {
    launch("emu_config", divergent_barrier_kernel, dim3(1), dim3(2048), out);
  } catch (const Error& e) {
    threw = std::string(e.what()) == "emu_config: CUDA kernel failed: invalid configuration argument";
  }
  EXPECT(threw, "a 2048-thread block was accepted");
  EXPECT(cudaGetLastError() == cudaSuccess, "the error was not cleared");
  cudaFree(out);
}

}  // namespace
}  // namespace sepconv::cuda::test
