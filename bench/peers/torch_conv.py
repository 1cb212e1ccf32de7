#!/usr/bin/python3
"""Peer for the conv suite: PyTorch CPU forward+backward of the conv micro-benchmarks.

Usage: torch_conv.py THREADS REPS '[{"name": ..., "input": [n, c, h, w], "layers": [...]}, ...]'
A layer is {"in": c, "out": c, "k": k, "padding": p, "groups": g, "bias": bool}; a case runs
its layers in sequence. Each case is timed in NCHW and in channels_last (PyTorch's fastest
CPU layout). Forward+backward computes the gradients of the input and of every parameter
(a layer in the middle of a network), as sepconv's side does.
Prints one JSON object: {"peer": ..., "results": [{"name", "layout", "fwd": [s...], "fwdbwd": [s...]}]}.
"""
import json, sys, time

import torch
import torch.nn as nn


def build(layers):
    return nn.Sequential(*[nn.Conv2d(l["in"], l["out"], l["k"], padding=l["padding"], groups=l["groups"], bias=l["bias"])
                           for l in layers])


def timed(fn, reps):
    fn()
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main():
    threads, reps, cases = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    results = []
    for case in cases:
        for layout in ("nchw", "channels_last"):
            model = build(case["layers"])
            x = torch.randn(*case["input"])
            if layout == "channels_last":
                model = model.to(memory_format=torch.channels_last)
                x = x.contiguous(memory_format=torch.channels_last)
            x.requires_grad_(True)
            with torch.no_grad():
                g = torch.randn_like(model(x))

            def fwd():
                with torch.no_grad():
                    model(x)

            def fwdbwd():
                x.grad = None
                for p in model.parameters():
                    p.grad = None
                model(x).backward(g)

            results.append({"name": case["name"], "layout": layout, "fwd": timed(fwd, reps), "fwdbwd": timed(fwdbwd, reps)})
    print(json.dumps({"peer": f"PyTorch {torch.__version__} CPU, {threads} threads", "results": results}))


if __name__ == "__main__":
    main()
