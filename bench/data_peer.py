"""Peer for bench/data.mjs: the same loading work with PIL + numpy + torch.utils.data.DataLoader.

Pets: PIL decode, convert RGB, resize 128 bilinear (mask nearest), random flip, normalise,
batch 16, num_workers=2. CIFAR: in-memory records, random crop (padding 4) + flip +
normalise per item, batch 128, num_workers=2. Prints one JSON object.
usage: python3 bench/data_peer.py DATA_DIR [--repeats N]
"""
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)[:, None, None]
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)[:, None, None]


class Pets(Dataset):
    def __init__(self, root, split, size):
        with open(os.path.join(root, "annotations", f"{split}.txt")) as f:
            names = [l.split()[0] for l in f if l.strip() and not l.startswith("#")]
        self.root, self.names, self.size = root, names, size

    def __len__(self):
        return len(self.names)

    def __getitem__(self, i):
        name = self.names[i]
        image = Image.open(os.path.join(self.root, "images", name + ".jpg")).convert("RGB")
        image = image.resize((self.size, self.size), Image.BILINEAR)
        trimap = Image.open(os.path.join(self.root, "annotations", "trimaps", name + ".png"))
        trimap = trimap.resize((self.size, self.size), Image.NEAREST)
        x = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0
        y = np.asarray(trimap, dtype=np.int64) - 1
        if np.random.rand() < 0.5:
            x, y = x[:, :, ::-1], y[:, ::-1]
        return torch.from_numpy(np.ascontiguousarray((x - MEAN) / STD)), torch.from_numpy(np.ascontiguousarray(y))


class Cifar(Dataset):
    def __init__(self, folder):
        records = np.concatenate(
            [np.fromfile(os.path.join(folder, f"data_batch_{i}.bin"), dtype=np.uint8).reshape(-1, 3073) for i in range(1, 6)]
        )
        self.labels = records[:, 0].astype(np.int64)
        self.images = records[:, 1:].reshape(-1, 3, 32, 32)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        padded = np.pad(self.images[i], ((0, 0), (4, 4), (4, 4)))
        top, left = np.random.randint(0, 9, size=2)
        x = padded[:, top : top + 32, left : left + 32].astype(np.float32) / 255.0
        if np.random.rand() < 0.5:
            x = x[:, :, ::-1]
        return torch.from_numpy(np.ascontiguousarray((x - MEAN) / STD)), self.labels[i]


def best_rate(loader, items_of, repeats, limit=None):
    best = 0.0
    for _ in range(repeats):
        start, items = time.perf_counter(), 0
        for b, batch in enumerate(loader):
            items += items_of(batch)
            if limit is not None and b + 1 >= limit:
                break
        best = max(best, items / (time.perf_counter() - start))
    return best


def main():
    data_dir = sys.argv[1]
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 3
    torch.set_num_threads(1)
    out = {"torch": torch.__version__}
    pets = Pets(os.path.join(data_dir, "oxford-iiit-pet"), "trainval", 128)
    loader = DataLoader(pets, batch_size=16, shuffle=True, num_workers=2)
    out["petsImagesPerSecond"] = best_rate(loader, lambda b: b[0].shape[0], repeats)
    cifar = Cifar(os.path.join(data_dir, "cifar-10-batches-bin"))
    loader = DataLoader(cifar, batch_size=128, shuffle=True, num_workers=2)
    out["cifarBatchesPerSecond"] = best_rate(loader, lambda b: 1, repeats, limit=100)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
