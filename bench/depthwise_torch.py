#!/usr/bin/python3
"""PyTorch CPU peer for bench/depthwise.mjs: times depthwise 3x3 conv ops on request.

Usage: depthwise_torch.py [threads] [wall|cpu]. Reads JSON lines from stdin, one request each:
  {"shape": [N, C, H, W], "stride": 1, "layout": "nchw" | "channels_last",
   "op": "forward" | "backward_input" | "backward_weight", "reps": 7}
and answers each with one JSON line {"ms": [...per-rep times...]}, so the caller can
interleave PyTorch and sepconv runs of the same case. Forward is nn.Conv2d(C, C, 3,
padding=1, groups=C, bias=False) under no_grad; the gradients are the two halves of
aten.convolution_backward (what autograd calls), each asked for alone.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
# "cpu": process CPU time (meaningful with 1 thread), else wall-clock.
clock = time.process_time if len(sys.argv) > 2 and sys.argv[2] == "cpu" else time.perf_counter
torch.manual_seed(0)
cache = {}


def tensors(shape, stride, layout):
    key = (tuple(shape), stride, layout)
    if key not in cache:
        cache.clear()  # one case at a time keeps memory bounded
        fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
        x = torch.randn(*shape).contiguous(memory_format=fmt)
        w = torch.randn(shape[1], 1, 3, 3).contiguous(memory_format=fmt)
        with torch.no_grad():
            y = F.conv2d(x, w, None, stride, 1, 1, shape[1])
        cache[key] = (x, w, torch.randn_like(y))
    return cache[key]


def op_fn(req):
    stride = req.get("stride", 1)
    x, w, dy = tensors(req["shape"], stride, req["layout"])
    groups = x.shape[1]
    if req["op"] == "forward":
        def run():
            with torch.no_grad():
                F.conv2d(x, w, None, stride, 1, 1, groups)
        return run
    mask = [req["op"] == "backward_input", req["op"] == "backward_weight", False]
    return lambda: torch.ops.aten.convolution_backward(
        dy, x, w, None, [stride, stride], [1, 1], [1, 1], False, [0, 0], groups, mask)


def main():
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        run = op_fn(req)
        run()  # warm-up (first touch, oneDNN primitive creation)
        times = []
        for _ in range(req.get("reps", 7)):
            t0 = clock()
            run()
            times.append((clock() - t0) * 1e3)
        print(json.dumps({"ms": times}), flush=True)


if __name__ == "__main__":
    main()
