#!/usr/bin/python3
"""PyTorch peer for bench/ops.mjs: times the same memory-bound training ops in NCHW float32.

Reads the case list (JSON) on stdin, prints {case name: {"fwd": ms, "bwd": ms}} (best of N)
on stdout. Run by bench/ops.mjs; usable alone:  echo '<json>' | /usr/bin/python3 ops_torch.py
"""
import json, sys, time

import torch
import torch.nn.functional as F


def best_of(reps, fn):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def fwd_bwd(reps, leaves, forward):
    """Best forward and best backward time; forward() returns (output, upstream gradient).
    Leaf gradients are dropped before each run (backward times the op, not an accumulation)."""
    fwd, bwd = float("inf"), float("inf")
    for i in range(reps + 1):
        for leaf in leaves:
            leaf.grad = None
        t0 = time.perf_counter()
        out, grad = forward()
        t1 = time.perf_counter()
        out.backward(grad)
        t2 = time.perf_counter()
        if i > 0:
            fwd, bwd = min(fwd, t1 - t0), min(bwd, t2 - t1)
    return {"fwd": fwd * 1e3, "bwd": bwd * 1e3}


def run(case, reps):
    kind, shape = case["kind"], case["shape"]
    if kind == "batchNorm2d":
        c = shape[1]
        x = torch.randn(shape, requires_grad=True)
        w, b = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)
        rm, rv = torch.zeros(c), torch.ones(c)
        g = torch.randn(shape)
        return fwd_bwd(reps, [x, w, b], lambda: (F.batch_norm(x, rm, rv, w, b, True, 0.1, 1e-5), g))
    if kind == "maxPool2d":
        x = torch.randn(shape, requires_grad=True)
        g = torch.randn(shape[0], shape[1], shape[2] // 2, shape[3] // 2)
        return fwd_bwd(reps, [x], lambda: (F.max_pool2d(x, 2, return_indices=True)[0], g))
    if kind == "maxUnpool2d":
        pooled, idx = F.max_pool2d(torch.randn(shape[0], shape[1], shape[2] * 2, shape[3] * 2), 2, return_indices=True)
        x = pooled.detach().requires_grad_()
        g = torch.randn(shape[0], shape[1], shape[2] * 2, shape[3] * 2)
        return fwd_bwd(reps, [x], lambda: (F.max_unpool2d(x, idx, 2), g))
    if kind == "crossEntropy":
        x = torch.randn(shape, requires_grad=True)
        t = torch.randint(0, shape[1], [shape[0]] + shape[2:])
        return fwd_bwd(reps, [x], lambda: (F.cross_entropy(x, t), None))
    if kind in ("adam", "sgd"):
        p = torch.nn.Parameter(torch.randn(shape))
        p.grad = torch.randn(shape)
        opt = torch.optim.Adam([p], lr=1e-3) if kind == "adam" else torch.optim.SGD([p], lr=0.01, momentum=0.9)
        opt.step()
        return {"fwd": best_of(reps, opt.step), "bwd": None}
    raise ValueError(kind)


def main():
    spec = json.load(sys.stdin)
    torch.set_num_threads(spec.get("threads", 2))
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "cases": {}}
    for case in spec["cases"]:
        out["cases"][case["name"]] = run(case, spec.get("reps", 5))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
