#include "cuda/test/compare.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "core/allocator.h"
#include "core/thread_pool.h"
#include "cpu/ops/registry.h"
#include "cuda/common.cuh"

namespace sepconv::cuda::test {

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string HostTensor::shape_str() const {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? "," : "") << shape[i];
  os << "]";
  return os.str();
}

std::string shapes(const std::vector<HostTensor>& ts) {
  std::string s;
  for (const HostTensor& t : ts) s += (s.empty() ? "" : " ") + t.shape_str();
  return s;
}

HostTensor random_tensor(std::mt19937& rng, DType dtype, std::vector<int64_t> shape, double lo, double hi) {
  HostTensor t{dtype, std::move(shape), {}};
  t.values.resize(size_t(t.numel()));
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double& v : t.values) v = dtype == DType::I32 ? std::floor(dist(rng)) : dist(rng);
  return t;
}

HostTensor filled_tensor(DType dtype, std::vector<int64_t> shape, double value) {
  HostTensor t{dtype, std::move(shape), {}};
  t.values.assign(size_t(t.numel()), value);
  return t;
}

namespace {

constexpr size_t kGuardBytes = 256;
constexpr unsigned char kSentinel = 0xA7;

std::vector<unsigned char> to_bytes(const HostTensor& t) {
  std::vector<unsigned char> bytes(size_t(t.numel()) * dtype_size(t.dtype));
  for (size_t i = 0; i < t.values.size(); ++i) {
    switch (t.dtype) {
      case DType::F32: { const float v = float(t.values[i]); std::memcpy(&bytes[i * 4], &v, 4); break; }
      case DType::F64: std::memcpy(&bytes[i * 8], &t.values[i], 8); break;
      case DType::I32: { const int32_t v = int32_t(t.values[i]); std::memcpy(&bytes[i * 4], &v, 4); break; }
      case DType::U8: bytes[i] = static_cast<unsigned char>(t.values[i]); break;
    }
  }
  return bytes;
}

HostTensor from_bytes(const HostTensor& like, const unsigned char* bytes) {
  HostTensor t = like;
  for (size_t i = 0; i < t.values.size(); ++i) {
    switch (t.dtype) {
      case DType::F32: { float v; std::memcpy(&v, bytes + i * 4, 4); t.values[i] = v; break; }
      case DType::F64: std::memcpy(&t.values[i], bytes + i * 8, 8); break;
      case DType::I32: { int32_t v; std::memcpy(&v, bytes + i * 4, 4); t.values[i] = v; break; }
      case DType::U8: t.values[i] = bytes[i]; break;
    }
  }
  return t;
}

TensorArg arg_for(const HostTensor& t, void* data, Device device) {
  TensorArg a;
  a.data = data;
  a.dtype = t.dtype;
  a.device = device;
  a.ndim = int(t.shape.size());
  for (int i = 0; i < a.ndim; ++i) a.shape[i] = t.shape[size_t(i)];
  return a;
}

struct Env {
  ThreadPool pool{1};
  CachingAllocator allocator{size_t(64) << 20};
  Context ctx{pool, allocator, Isa::SCALAR};
};

Env& env() {
  static Env e;
  return e;
}

// Host copies of the tensors, run through the CPU op.
struct CpuRun {
  std::vector<std::vector<unsigned char>> in, out;
  std::string error;
};

CpuRun run_cpu(const OpCase& c) {
  CpuRun r;
  std::vector<TensorArg> in, out;
  for (const HostTensor& t : c.inputs) r.in.push_back(to_bytes(t));
  for (const HostTensor& t : c.outputs) r.out.push_back(to_bytes(t));
  for (size_t i = 0; i < c.inputs.size(); ++i) in.push_back(arg_for(c.inputs[i], r.in[i].data(), Device::CPU));
  for (size_t i = 0; i < c.outputs.size(); ++i) out.push_back(arg_for(c.outputs[i], r.out[i].data(), Device::CPU));
  OpCall call{c.op, in.data(), int(in.size()), out.data(), int(out.size()), c.params.data(), int(c.params.size()), env().ctx};
  try {
    cpu::cpu_op(c.op)(call);
  } catch (const Error& e) {
    r.error = e.what();
  }
  return r;
}

// Device buffers with guards; read back after the op.
struct DeviceRun {
  std::vector<unsigned char*> in, out;  // guarded blocks (data at + kGuardBytes)
  std::vector<HostTensor> in_after, out_after;
  std::string error;

  ~DeviceRun() {
    for (unsigned char* p : in) cudaFree(p);
    for (unsigned char* p : out) cudaFree(p);
  }
};

unsigned char* guarded_upload(const HostTensor& t) {
  const std::vector<unsigned char> bytes = to_bytes(t);
  void* p = nullptr;
  SEPCONV_CHECK(cudaMalloc(&p, bytes.size() + 2 * kGuardBytes) == cudaSuccess, "test: cudaMalloc failed");
  unsigned char* b = static_cast<unsigned char*>(p);
  std::vector<unsigned char> guard(kGuardBytes, kSentinel);
  cudaMemcpy(b, guard.data(), kGuardBytes, cudaMemcpyHostToDevice);
  cudaMemcpy(b + kGuardBytes, bytes.data(), bytes.size(), cudaMemcpyHostToDevice);
  cudaMemcpy(b + kGuardBytes + bytes.size(), guard.data(), kGuardBytes, cudaMemcpyHostToDevice);
  return b;
}

HostTensor guarded_download(const HostTensor& like, const unsigned char* b, const std::string& what) {
  const size_t bytes = size_t(like.numel()) * dtype_size(like.dtype);
  std::vector<unsigned char> host(bytes + 2 * kGuardBytes);
  cudaMemcpy(host.data(), b, host.size(), cudaMemcpyDeviceToHost);
  for (size_t i = 0; i < kGuardBytes; ++i)
    SEPCONV_CHECK(host[i] == kSentinel && host[kGuardBytes + bytes + i] == kSentinel, what,
                  ": written out of bounds (guard byte ", i, " ", host[i] == kSentinel ? "after" : "before", " the tensor)");
  return from_bytes(like, host.data() + kGuardBytes);
}

void run_device(const OpCase& c, DeviceRun& r) {
  std::vector<TensorArg> in, out;
  for (const HostTensor& t : c.inputs) {
    r.in.push_back(guarded_upload(t));
    in.push_back(arg_for(t, r.in.back() + kGuardBytes, Device::CUDA));
  }
  for (const HostTensor& t : c.outputs) {
    r.out.push_back(guarded_upload(t));
    out.push_back(arg_for(t, r.out.back() + kGuardBytes, Device::CUDA));
  }
  OpCall call{c.op, in.data(), int(in.size()), out.data(), int(out.size()), c.params.data(), int(c.params.size()), env().ctx};
  try {
    c.cuda(call);
  } catch (const Error& e) {
    r.error = e.what();
  }
}

void expect_close(const OpCase& c, const std::string& what, const HostTensor& got, const std::vector<unsigned char>& want_bytes) {
  const HostTensor want = from_bytes(got, want_bytes.data());
  for (size_t i = 0; i < got.values.size(); ++i) {
    const double g = got.values[i], w = want.values[i];
    const bool same_nonfinite = !std::isfinite(w) && (std::isnan(w) ? std::isnan(g) : g == w);
    const bool ok = got.dtype == DType::I32 ? g == w : (same_nonfinite || std::fabs(g - w) <= c.atol + c.rtol * std::fabs(w));
    SEPCONV_CHECK(ok, op_name(c.op), " ", c.label, ": ", what, " ", got.shape_str(), " differs at element ", i, ": cuda ", g,
                  " cpu ", w);
  }
}

}  // namespace

void compare(const OpCase& c) {
  const CpuRun cpu = run_cpu(c);
  SEPCONV_CHECK(cpu.error.empty(), op_name(c.op), " ", c.label, ": the CPU op rejected the case: ", cpu.error);
  DeviceRun dev;
  run_device(c, dev);
  SEPCONV_CHECK(dev.error.empty(), op_name(c.op), " ", c.label, ": the CUDA op failed: ", dev.error);
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    const std::string what = "output " + std::to_string(i);
    expect_close(c, what, guarded_download(c.outputs[i], dev.out[i], std::string(op_name(c.op)) + " " + what), cpu.out[i]);
  }
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const std::string what = "input " + std::to_string(i);
    expect_close(c, what, guarded_download(c.inputs[i], dev.in[i], std::string(op_name(c.op)) + " " + what), cpu.in[i]);
  }
}

std::string cuda_error(const OpCase& c) {
  DeviceRun dev;
  run_device(c, dev);
  return dev.error;
}

}  // namespace sepconv::cuda::test
