// Shared helpers for the CPU op layer (the operand checks, shared with CUDA, are in core/op_checks.h).
#pragma once
#include <cstdint>

#include "core/op_call.h"
#include "core/op_checks.h"
#include "cpu/kernels.h"

namespace sepconv::cpu {

// A small grain keeps tiny tensors on the calling thread (waking the pool costs ~1-5 us).
constexpr size_t kElementwiseGrain = 1 << 15;

}  // namespace sepconv::cpu
