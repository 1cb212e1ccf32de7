// Node-API bindings: opaque storage handles, one generic `run` entry point keyed to the op
// list, and a few introspection/test hooks. All argument checking that needs JS knowledge
// happens here; numeric work is in native/cpu.
#include <napi.h>

#include <cstring>
#include <string>

#include "addon/addon_data.h"
#include "addon/cuda_backend.h"
#include "core/op_call.h"
#include "cpu/kernels.h"
#include "cpu/ops/registry.h"

namespace sepconv::addon {

namespace {

// Cache at most this much freed memory for reuse (SEPCONV_CACHE_MB overrides).
size_t cache_limit_bytes() {
  if (const char* env = std::getenv("SEPCONV_CACHE_MB")) {
    char* end = nullptr;
    long mb = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && mb >= 0) return size_t(mb) << 20;
  }
  return size_t(4096) << 20;
}

AddonData& data_of(const Napi::Env& env) { return *env.GetInstanceData<AddonData>(); }

// Runs `body`, turning C++ exceptions into JS Errors (node-addon-api only converts its own).
template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

Storage& unwrap_storage(const Napi::Value& v, const char* what) { return data_of(v.Env()).storages.get(v, what); }

const char* device_name(Device d) { return d == Device::CUDA ? "cuda" : "cpu"; }

Device device_arg(const Napi::Value& v, const char* what) {
  const int32_t code = v.IsUndefined() ? 0 : v.As<Napi::Number>().Int32Value();
  SEPCONV_CHECK(code == 0 || code == 1, what, ": invalid device code ", code);
  return Device(code);
}

// alloc(bytes, deviceCode = 0)
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const double requested = info[0].As<Napi::Number>().DoubleValue();
    SEPCONV_CHECK(requested >= 0 && requested < 1e15, "alloc: invalid byte count ", requested);
    const Device device = device_arg(info[1], "alloc");
    AddonData& d = data_of(env);
    Storage s;
    s.bytes = size_t(requested);
    s.device = device;
    if (device == Device::CUDA) {
      const CudaBackend& cuda = cuda_backend();
      cuda.require("alloc");
      s.cuda = cuda.api;
      cuda.check(cuda.api->malloc(s.bytes, &s.data), "alloc");
    } else {
      s.allocator = d.cpu_allocator;
      s.data = d.cpu_allocator->allocate(s.bytes);
    }
    return d.storages.add(env, s);
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    data_of(info.Env()).storages.free(info.Env(), info[0]);
    return info.Env().Undefined();
  });
}

void check_range(const Storage& s, double offset, double length, const char* what) {
  SEPCONV_CHECK(offset >= 0 && length >= 0 && offset + length <= double(s.bytes), what, ": byte range [", offset,
                ", ", offset + length, ") is outside the tensor's ", s.bytes, " bytes");
}

// write(handle, byteOffset, typedArrayOrDataView)
Napi::Value Write(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Storage& s = unwrap_storage(info[0], "write");
    const double offset = info[1].As<Napi::Number>().DoubleValue();
    if (!info[2].IsTypedArray()) throw Error("write: expected a typed array");
    auto arr = info[2].As<Napi::TypedArray>();
    const size_t len = arr.ByteLength();
    check_range(s, offset, double(len), "write");
    const auto* src = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
    uint8_t* dst = static_cast<uint8_t*>(s.data) + size_t(offset);
    if (s.device == Device::CUDA)
      cuda_backend().check(s.cuda->upload(dst, src, len), "write");
    else
      std::memcpy(dst, src, len);
    return info.Env().Undefined();
  });
}

// read(handle, byteOffset, byteLength) -> ArrayBuffer (a copy)
Napi::Value Read(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Storage& s = unwrap_storage(info[0], "read");
    const double offset = info[1].As<Napi::Number>().DoubleValue();
    const double length = info[2].As<Napi::Number>().DoubleValue();
    check_range(s, offset, length, "read");
    auto buf = Napi::ArrayBuffer::New(info.Env(), size_t(length));
    const uint8_t* src = static_cast<const uint8_t*>(s.data) + size_t(offset);
    if (s.device == Device::CUDA)
      cuda_backend().check(s.cuda->download(buf.Data(), src, size_t(length)), "read");
    else
      std::memcpy(buf.Data(), src, size_t(length));
    return buf;
  });
}

// transfer(src, srcByteOffset, dst, dstByteOffset, byteLength): a copy between any two devices.
Napi::Value Transfer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Storage& src = unwrap_storage(info[0], "to");
    Storage& dst = unwrap_storage(info[2], "to");
    const double src_offset = info[1].As<Napi::Number>().DoubleValue();
    const double dst_offset = info[3].As<Napi::Number>().DoubleValue();
    const double length = info[4].As<Napi::Number>().DoubleValue();
    check_range(src, src_offset, length, "to (source)");
    check_range(dst, dst_offset, length, "to (destination)");
    const auto* from = static_cast<const uint8_t*>(src.data) + size_t(src_offset);
    auto* to = static_cast<uint8_t*>(dst.data) + size_t(dst_offset);
    const size_t bytes = size_t(length);
    const CudaBackend* cuda = src.device == Device::CUDA || dst.device == Device::CUDA ? &cuda_backend() : nullptr;
    if (src.device == Device::CPU && dst.device == Device::CPU)
      std::memcpy(to, from, bytes);
    else if (src.device == Device::CPU)
      cuda->check(dst.cuda->upload(to, from, bytes), "to('cuda')");
    else if (dst.device == Device::CPU)
      cuda->check(src.cuda->download(to, from, bytes), "to('cpu')");
    else
      cuda->check(src.cuda->copy_d2d(to, from, bytes), "to('cuda')");
    return info.Env().Undefined();
  });
}

// Per-tensor descriptor in `meta`: [elementOffset, dtype, ndim, shape[kMaxDims]].
constexpr int kMetaStride = 3 + kMaxDims;

TensorArg tensor_arg(const Napi::Value& handle, const double* meta, Op op, int index) {
  const std::string what = std::string(op_name(op)) + " operand " + std::to_string(index);
  Storage& s = unwrap_storage(handle, what.c_str());
  TensorArg t;
  const int32_t dtype = int32_t(meta[1]);
  SEPCONV_CHECK(dtype_valid(dtype), what, ": invalid dtype code ", dtype);
  t.dtype = DType(dtype);
  t.device = s.device;
  t.ndim = int(meta[2]);
  SEPCONV_CHECK(t.ndim >= 0 && t.ndim <= kMaxDims, what, ": rank ", t.ndim, " exceeds ", kMaxDims);
  for (int d = 0; d < t.ndim; ++d) {
    SEPCONV_CHECK(meta[3 + d] >= 0, what, ": negative dim ", meta[3 + d]);
    t.shape[d] = int64_t(meta[3 + d]);
  }
  const double esize = double(dtype_size(t.dtype));
  check_range(s, meta[0] * esize, double(t.numel()) * esize, what.c_str());
  t.data = static_cast<uint8_t*>(s.data) + size_t(meta[0] * esize);
  return t;
}

// run(opId, handles[], meta: Float64Array, params: Float64Array, numInputs)
Napi::Value Run(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const int op_id = info[0].As<Napi::Number>().Int32Value();
    SEPCONV_CHECK(op_id >= 0 && op_id < kOpCount, "run: unknown op id ", op_id);
    const Op op = Op(op_id);
    auto handles = info[1].As<Napi::Array>();
    auto meta = info[2].As<Napi::Float64Array>();
    auto params = info[3].As<Napi::Float64Array>();
    const int num_inputs = info[4].As<Napi::Number>().Int32Value();
    const int count = int(handles.Length());
    SEPCONV_CHECK(count <= kMaxOperands, op_name(op), ": too many operands (", count, ")");
    SEPCONV_CHECK(num_inputs >= 0 && num_inputs <= count, op_name(op), ": bad input count");
    SEPCONV_CHECK(meta.ElementLength() == size_t(count) * kMetaStride, op_name(op), ": operand metadata mismatch");
    SEPCONV_CHECK(params.ElementLength() <= size_t(kMaxParams), op_name(op), ": too many params");
    TensorArg args[kMaxOperands];
    for (int i = 0; i < count; ++i) args[i] = tensor_arg(handles.Get(uint32_t(i)), meta.Data() + i * kMetaStride, op, i);
    for (int i = 1; i < count; ++i)
      SEPCONV_CHECK(args[i].device == args[0].device, op_name(op), ": operand 0 is on ", device_name(args[0].device),
                    " but operand ", i, " is on ", device_name(args[i].device),
                    " (all operands of one op must be on one device)");
    AddonData& d = data_of(env);
    Context ctx{*d.pool, *d.cpu_allocator, d.isa, d.conv_algo};
    OpCall call{op, args, num_inputs, args + num_inputs, count - num_inputs, params.Data(), int(params.ElementLength()),
                ctx};
    if (count > 0 && args[0].device == Device::CUDA) {
      const CudaBackend& cuda = cuda_backend();
      if (cuda.api->run_op(&call) != 0) throw Error(cuda.api->last_error());
    } else {
      cpu::cpu_op(op)(call);
    }
    return env.Undefined();
  });
}

Napi::Value OpNames(const Napi::CallbackInfo& info) {
  auto arr = Napi::Array::New(info.Env(), kOpCount);
  for (int i = 0; i < kOpCount; ++i) arr.Set(uint32_t(i), op_name(Op(i)));
  return arr;
}

Napi::Value Backend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData& d = data_of(env);
  auto o = Napi::Object::New(env);
  o.Set("isa", isa_name(d.isa));
  o.Set("threads", d.pool->size());
  const CudaBackend& cuda = cuda_backend();
  o.Set("cuda", cuda.available());
  if (cuda.available()) {
    auto dev = Napi::Object::New(env);
    dev.Set("name", cuda.device.name);
    dev.Set("computeCapability", std::to_string(cuda.device.major) + "." + std::to_string(cuda.device.minor));
    dev.Set("multiprocessors", cuda.device.multiprocessors);
    dev.Set("clockKHz", cuda.device.clock_khz);
    dev.Set("memoryClockKHz", cuda.device.memory_clock_khz);
    dev.Set("memoryBusBits", cuda.device.memory_bus_bits);
    dev.Set("totalMemory", cuda.device.total_memory_bytes);
    dev.Set("emulated", cuda.device.emulated != 0);
    o.Set("cudaDevice", dev);
  } else {
    o.Set("cudaUnavailable", cuda.unavailable_reason());
  }
  auto isas = Napi::Array::New(env);
  uint32_t n = 0;
  for (Isa isa : {Isa::AVX512, Isa::AVX2, Isa::SCALAR})
    if (isa_supported(isa)) isas.Set(n++, isa_name(isa));
  o.Set("supportedIsas", isas);
  return o;
}

// Test hook: switch this environment's float32 kernels to another supported ISA.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    Isa isa;
    SEPCONV_CHECK(parse_isa(name, &isa), "setIsa: '", name, "' is not one of avx512, avx2, scalar");
    SEPCONV_CHECK(isa_supported(isa), "setIsa: '", name, "' is not supported by this CPU or build");
    data_of(info.Env()).isa = isa;
    return info.Env().Undefined();
  });
}

// Test hook: force the im2col or the Winograd path for eligible 3×3 convolutions.
Napi::Value SetConvAlgo(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const std::string name = info[0].As<Napi::String>().Utf8Value();
    ConvAlgo& algo = data_of(info.Env()).conv_algo;
    if (name == "auto")
      algo = ConvAlgo::Auto;
    else if (name == "im2col")
      algo = ConvAlgo::Im2col;
    else if (name == "winograd")
      algo = ConvAlgo::Winograd;
    else
      fail("setConvAlgo: '", name, "' is not one of auto, im2col, winograd");
    return info.Env().Undefined();
  });
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int n = info[0].As<Napi::Number>().Int32Value();
    SEPCONV_CHECK(n >= 1 && n <= 1024, "setNumThreads: expected 1..1024, got ", n);
    AddonData& d = data_of(info.Env());
    if (d.pool->size() != n) d.pool = std::make_unique<ThreadPool>(n);
    return info.Env().Undefined();
  });
}

// memoryStats(deviceCode = 0)
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    auto o = Napi::Object::New(env);
    if (device_arg(info[0], "memoryStats") == Device::CUDA) {
      const CudaBackend& cuda = cuda_backend();
      cuda.require("memoryStats");
      SepconvCudaMemoryStats s{};
      cuda.check(cuda.api->memory_stats(&s), "memoryStats");
      size_t free_bytes = 0, total_bytes = 0;
      cuda.check(cuda.api->mem_get_info(&free_bytes, &total_bytes), "memoryStats");
      o.Set("bytesInUse", s.bytes_in_use);
      o.Set("bytesCached", s.bytes_cached);
      o.Set("peakBytesInUse", s.peak_bytes_in_use);
      o.Set("allocations", s.allocations);
      o.Set("cacheHits", s.cache_hits);
      o.Set("deviceMallocs", s.device_mallocs);
      o.Set("oomRetries", s.oom_retries);
      o.Set("deviceFree", double(free_bytes));
      o.Set("deviceTotal", double(total_bytes));
      return o;
    }
    const AllocatorStats s = data_of(env).cpu_allocator->stats();
    o.Set("bytesInUse", double(s.bytes_in_use));
    o.Set("bytesCached", double(s.bytes_cached));
    o.Set("peakBytesInUse", double(s.peak_bytes_in_use));
    o.Set("allocations", double(s.allocations));
    o.Set("cacheHits", double(s.cache_hits));
    return o;
  });
}

// emptyCache(deviceCode = 0)
Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (device_arg(info[0], "emptyCache") == Device::CUDA) {
      const CudaBackend& cuda = cuda_backend();
      cuda.require("emptyCache");
      cuda.check(cuda.api->empty_cache(), "emptyCache");
    } else {
      data_of(info.Env()).cpu_allocator->release_cache();
    }
    return info.Env().Undefined();
  });
}

// Waits for the calling thread's queued CUDA work (timing, tests).
Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const CudaBackend& cuda = cuda_backend();
    cuda.require("cudaSynchronize");
    cuda.check(cuda.api->synchronize(), "cudaSynchronize");
    return info.Env().Undefined();
  });
}

Napi::Value CudaOpSupported(const Napi::CallbackInfo& info) {
  const CudaBackend& cuda = cuda_backend();
  const int32_t op = info[0].As<Napi::Number>().Int32Value();
  return Napi::Boolean::New(info.Env(), cuda.api != nullptr && cuda.api->op_supported(op) != 0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* d = new AddonData();  // owned by the environment (SetInstanceData's finalizer)
  try {
    d->isa = default_isa();
  } catch (const std::exception& e) {
    delete d;
    throw Napi::Error::New(env, std::string("sepconv: ") + e.what());
  }
  d->cpu_allocator = std::make_shared<CachingAllocator>(cache_limit_bytes());
  d->pool = std::make_unique<ThreadPool>(ThreadPool::default_threads());
  env.SetInstanceData<AddonData>(d);

  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("transfer", Napi::Function::New(env, Transfer, "transfer"));
  exports.Set("cudaSynchronize", Napi::Function::New(env, CudaSynchronize, "cudaSynchronize"));
  exports.Set("cudaOpSupported", Napi::Function::New(env, CudaOpSupported, "cudaOpSupported"));
  exports.Set("run", Napi::Function::New(env, Run, "run"));
  exports.Set("opNames", Napi::Function::New(env, OpNames, "opNames"));
  exports.Set("backend", Napi::Function::New(env, Backend, "backend"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("setConvAlgo", Napi::Function::New(env, SetConvAlgo, "setConvAlgo"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("memoryStats", Napi::Function::New(env, MemoryStats, "memoryStats"));
  exports.Set("emptyCache", Napi::Function::New(env, EmptyCache, "emptyCache"));
  exports.Set("metaStride", Napi::Number::New(env, kMetaStride));
  return exports;
}

}  // namespace

}  // namespace sepconv::addon

static Napi::Object InitSepconv(Napi::Env env, Napi::Object exports) { return sepconv::addon::Init(env, exports); }
NODE_API_MODULE(sepconv, InitSepconv)
