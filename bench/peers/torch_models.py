#!/usr/bin/python3
"""Peer for the models suite: PyTorch CPU training steps of the networks sepconv trains.

Usage: torch_models.py THREADS REPS MODEL[,MODEL...]   (models: vgg_regular vgg_dsc segnet_regular segnet_dsc)
One training step = zero_grad, forward, cross-entropy, backward, Adam step; float32 on a
fixed synthetic batch (VGG-CIFAR: 128x3x32x32, 10 classes; SegNet: 16x3x128x128, 3 classes),
timed in NCHW and in channels_last (PyTorch's fastest CPU layout). The networks are the
reference definitions sepconv's models reproduce (same parameter counts, asserted here).
Prints one JSON object: {"peer": ..., "results": [{"name", "layout", "steps": [s...]}]}.
"""
import json, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3x3(cin, cout, dsc, bias=True):
    if not dsc:
        return nn.Conv2d(cin, cout, 3, padding=1, bias=bias)
    # Keras SeparableConv2D: depthwise 3x3 without bias, pointwise 1x1 with the layer's bias.
    return nn.Sequential(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1, bias=bias))


def vgg(dsc):
    layers, cin = [], 3
    for c in (64, 128, 256):
        layers += [conv3x3(cin, c, dsc), nn.ReLU(), conv3x3(c, c, dsc), nn.ReLU(), nn.MaxPool2d(2)]
        cin = c
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(4096, 10))


class SegNet(nn.Module):
    WIDTHS, DEPTHS = (64, 128, 256, 512), (2, 2, 3, 3)

    def __init__(self, dsc, classes=3):
        super().__init__()
        block = lambda ci, co: [conv3x3(ci, co, dsc, bias=False), nn.BatchNorm2d(co), nn.ReLU()]
        self.input_bn = nn.BatchNorm2d(3)
        self.enc, cin = nn.ModuleList(), 3
        for w, d in zip(self.WIDTHS, self.DEPTHS):
            mods = []
            for _ in range(d):
                mods += block(cin, w)
                cin = w
            self.enc.append(nn.Sequential(*mods))
        self.dec = nn.ModuleList()
        for s in reversed(range(4)):
            w, d = self.WIDTHS[s], self.DEPTHS[s]
            out = self.WIDTHS[s - 1] if s > 0 else classes
            mods = []
            for i in range(d):
                mods += block(w, out if i == d - 1 else w)
            self.dec.append(nn.Sequential(*mods))

    def forward(self, x):
        x, idx, sizes = self.input_bn(x), [], []
        for stage in self.enc:
            x = stage(x)
            sizes.append(x.size())
            x, i = F.max_pool2d(x, 2, 2, return_indices=True)
            idx.append(i)
        for stage in self.dec:
            x = stage(F.max_unpool2d(x, idx.pop(), 2, 2, output_size=sizes.pop()))
        return x


MODELS = {
    "vgg_regular": (lambda: vgg(False), 1186378, (128, 3, 32, 32), 10),
    "vgg_dsc": (lambda: vgg(True), 174821, (128, 3, 32, 32), 10),
    "segnet_regular": (lambda: SegNet(False), 15274892, (16, 3, 128, 128), 3),
    "segnet_dsc": (lambda: SegNet(True), 1749671, (16, 3, 128, 128), 3),
}


def main():
    threads, reps, names = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
    torch.set_num_threads(threads)
    results = []
    for name in names:
        make, params, shape, classes = MODELS[name]
        for layout in ("nchw", "channels_last"):
            torch.manual_seed(0)
            model = make()
            assert sum(p.numel() for p in model.parameters()) == params, name
            x = torch.randn(*shape)
            y = torch.randint(0, classes, (shape[0],) if classes == 10 else (shape[0], shape[2], shape[3]))
            if layout == "channels_last":
                model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)

            def step():
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(model(x), y).backward()
                opt.step()

            step()
            step()
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                step()
                times.append(time.perf_counter() - t)
            results.append({"name": name, "layout": layout, "steps": times})
    print(json.dumps({"peer": f"PyTorch {torch.__version__}", "results": results}))


if __name__ == "__main__":
    main()
