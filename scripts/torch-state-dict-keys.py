#!/usr/bin/python3
"""Writes test/fixtures/torch-state-dict-keys.json: the state-dict names and shapes of the
PyTorch reference models (../shared/peers/torch_bench.py: VGGCifar, SegNet), regular and DSC,
which sepconv's models must reproduce name for name. Run: /usr/bin/python3 scripts/torch-state-dict-keys.py [SEPCONV_PEERS=<dir of torch_bench.py>]"""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The peers folder sits beside the repository (../shared/peers); SEPCONV_PEERS overrides.
sys.path.insert(0, os.environ.get("SEPCONV_PEERS", os.path.join(HERE, "..", "..", "shared", "peers")))
import torch_bench as tb  # noqa: E402

models = {
    "vgg_regular": tb.VGGCifar(False), "vgg_dsc": tb.VGGCifar(True),
    "segnet_regular": tb.SegNet(3, False), "segnet_dsc": tb.SegNet(3, True),
}
out = {name: [[k, list(v.shape)] for k, v in m.state_dict().items()] for name, m in models.items()}
path = os.path.join(HERE, "..", "test", "fixtures", "torch-state-dict-keys.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print("wrote", path)
