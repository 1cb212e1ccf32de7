// The general matrix product op (matmul, linear and their gradients).
#include <atomic>
#include <memory>

#include "core/allocator.h"
#include "core/checks/gemm.h"
#include "cpu/ops/gemm_plan.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

// The calling thread's scratch slot holding a team's shared packing buffers (slots 0-4 are
// taken by the kernels the team members run).
constexpr int kTeamScratchSlot = 5;
// Products large enough for a team (below, a static split is faster: 2 threads, alternating
// calls, square 256-768 team 7-16% slower; 1024 +4%, 1536 +6%, 2048 +19%): two units of at
// least 256 columns per member, and at least 512 rows. A team packs all rows of A's slice
// into two shared buffers (2 × 16 MB in float32 at most).
constexpr int64_t kMinTeamUnitColumns = 256;
constexpr int64_t kMinTeamRows = 512;
constexpr int64_t kMaxTeamRows = 16384;

void gemm(const OpCall& c) {
  const GemmShape s = check_gemm(c);
  const TensorArg &a = c.in(0), &b = c.in(1), &out = c.out(0);
  float_dispatch(c, "a", a.dtype, [&](auto zero) {
    using T = decltype(zero);
    const GemmKernels<T>& kernels = kernels_for<T>(c.ctx.isa).gemm;
    const T* bias = s.has_bias() ? c.in(2).ptr<T>() : nullptr;
    const int threads = c.ctx.pool.size();
    const GemmSplit split = plan_gemm_split(s.m, s.n, s.k, threads, kernels.mr, kernels.nr);
    // Products large enough share A's packing in a team (one per batch entry, same buffers).
    const GemmRange whole{0, s.m, 0, s.n, 0, s.k};
    const bool use_team =
        split.tasks() > 1 && s.n >= 2 * threads * kMinTeamUnitColumns && s.m >= kMinTeamRows && s.m <= kMaxTeamRows;
    const GemmTeamSizes team_sizes = use_team ? kernels.team_sizes(whole, threads) : GemmTeamSizes{0, 0};
    void* team_buffer = use_team ? thread_scratch(kTeamScratchSlot, team_sizes.buffer_bytes) : nullptr;
    for (int64_t e = 0; e < s.batch; ++e) {
      // A 2-D out sums the batch: every entry after the first accumulates.
      const bool first_into_out = s.out.batch != 0 || e == 0;
      GemmProblem<T> p;
      p.m = s.m;
      p.n = s.n;
      p.k = s.k;
      p.a = {dense_source(a.ptr<T>() + (s.a.batch > 1 ? e * s.m * s.k : 0), s.a.cols), s.trans_a};
      p.b = {dense_source(b.ptr<T>() + (s.b.batch > 1 ? e * s.k * s.n : 0), s.b.cols), s.trans_b};
      p.c = dense_sink(out.ptr<T>() + (s.out.batch != 0 ? e * s.m * s.n : 0), s.n, T(s.alpha),
                       first_into_out ? T(s.beta) : T(1));
      if (first_into_out && s.bias_kind == GemmBias::per_row) p.c.row_bias = bias;
      if (first_into_out && s.bias_kind == GemmBias::per_column) p.c.col_bias = bias;
      if (use_team) {
        std::unique_ptr<std::atomic<int>[]> sync(new std::atomic<int>[team_sizes.sync_words]());
        const GemmTeam team{threads, team_buffer, sync.get()};
        c.ctx.pool.run(threads, [&](int) { kernels.run_team(p, whole, team); });
      } else {
        c.ctx.pool.run(split.tasks(), [&](int t) { kernels.run(p, split.range(t, 0, s.k)); });
      }
    }
  });
}

}  // namespace sepconv::cpu::ops
