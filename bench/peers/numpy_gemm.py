#!/usr/bin/python3
"""Peer for the gemm suite: float32 matrix products through numpy (OpenBLAS here).

Usage: numpy_gemm.py '[[m, k, n], ...]' REPS
Threads come from OPENBLAS_NUM_THREADS (the caller sets it to sepconv's thread count).
Prints one JSON object: {"peer": ..., "results": [{"shape": [m, k, n], "seconds": [...]}]}.
"""
import json, sys, time

import numpy as np


def blas_name():
    """The BLAS library numpy actually loaded (Debian picks it through alternatives)."""
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1].rsplit("/", 2)[-2] + "/" + line.split()[-1].rsplit("/", 1)[-1]
                    for line in maps if "blas" in line and "/" in line}
        return ", ".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


def main():
    shapes, reps = json.loads(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(0)
    results = []
    for m, k, n in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        np.matmul(a, b, out=c)  # warm-up (thread start, page faults)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            np.matmul(a, b, out=c)
            times.append(time.perf_counter() - t)
        results.append({"shape": [m, k, n], "seconds": times})
    print(json.dumps({"peer": f"numpy {np.__version__} ({blas_name()})", "results": results}))


if __name__ == "__main__":
    main()
