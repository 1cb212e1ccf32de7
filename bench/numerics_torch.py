#!/usr/bin/python3
"""PyTorch's side of bench/numerics.mjs: builds the reference network (../shared/peers/
torch_bench.py: VGGCifar, SegNet; the names sepconv's zoo reproduces), a fixed batch, and its
float64 and float32 gradients of the mean cross-entropy (train mode), and writes two safetensors
files into OUT_DIR:
  <net>.input.safetensors  the float32 state dict (num_batches_tracked as I64) plus `input`
                           (float32) and `target` (int32): what sepconv loads
  <net>.torch.safetensors  `f64.<param>` and `f32.<param>` gradients, `f64.loss`, `f32.loss`
                           and `f64.output`, `f32.output`, all stored as F64
The float64 run uses the float32 weights and batch widened exactly, so both see the same numbers.
Usage: /usr/bin/python3 bench/numerics_torch.py NET OUT_DIR --batch N [--seed S]
  NET: vgg_regular | vgg_dsc | segnet_regular | segnet_dsc  (SEPCONV_PEERS=<dir of torch_bench.py>)"""
import argparse, copy, json, os, struct, sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
# The peers folder sits beside the checkout (../shared/peers), or beside the worktrees' parent.
sys.path[:0] = [os.environ.get("SEPCONV_PEERS", "")] + [os.path.join(HERE, *[".."] * up, "shared", "peers") for up in (2, 3)]
import torch_bench as tb  # noqa: E402

NETS = {
    "vgg_regular": (lambda: tb.VGGCifar(False), (3, 32, 32), 10),
    "vgg_dsc": (lambda: tb.VGGCifar(True), (3, 32, 32), 10),
    "segnet_regular": (lambda: tb.SegNet(3, False), (3, 128, 128), 3),
    "segnet_dsc": (lambda: tb.SegNet(3, True), (3, 128, 128), 3),
}
DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int32"): "I32", np.dtype("int64"): "I64"}


def write_safetensors(path, arrays):
    """The safetensors layout by hand (no safetensors module here): u64 header length, JSON
    header padded with spaces to 8 bytes, then each tensor's little-endian bytes in order."""
    header, blobs, offset = {}, [], 0
    for name, a in arrays.items():
        data = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def gradients(model, x, y, dtype):
    m = copy.deepcopy(model).to(dtype).train()
    out = m(x.to(dtype))
    loss = F.cross_entropy(out, y.long())
    loss.backward()
    grads = {n: p.grad.detach() for n, p in m.named_parameters()}
    return grads, loss.detach(), out.detach()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("net", choices=sorted(NETS))
    ap.add_argument("out_dir")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(a.seed)
    build, shape, classes = NETS[a.net]
    model = build()
    x = torch.randn(a.batch, *shape)
    y = torch.randint(0, classes, (a.batch,) if a.net.startswith("vgg") else (a.batch, *shape[1:]), dtype=torch.int32)
    inputs = {k: v.numpy() for k, v in model.state_dict().items()}
    inputs.update(input=x.numpy(), target=y.numpy())
    write_safetensors(os.path.join(a.out_dir, f"{a.net}.input.safetensors"), inputs)
    ref = {}
    for tag, dtype in (("f64", torch.float64), ("f32", torch.float32)):
        grads, loss, out = gradients(model, x, y, dtype)
        for n, g in grads.items():
            ref[f"{tag}.{n}"] = g.double().numpy()
        ref[f"{tag}.loss"] = loss.double().reshape(1).numpy()
        ref[f"{tag}.output"] = out.double().numpy()
    write_safetensors(os.path.join(a.out_dir, f"{a.net}.torch.safetensors"), ref)


if __name__ == "__main__":
    main()
