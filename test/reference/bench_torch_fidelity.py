"""torch-fidelity's side of bench/eval.ts: a long-running process driven by JSON lines on stdin.

{"cmd": "run", "real": [...], "fake": [...], "batch": 32} -> decode with Pillow (convert('RGB'),
as its ImagesPathDataset), torch-fidelity's own FeatureExtractorInceptionV3 (its TF1 resize inside)
with medsynth's seeded random weights, its fid_features_to_statistics and fid_statistics_to_metric.
Prints {"seconds", "fid", "fid_seconds"}. {"cmd": "flops"} prints the multiply-adds of one 299x299
image. Threads: torch.set_num_threads(THREADS) (argv[1]), the same count onnxruntime gets.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from upstream import torch_fidelity  # noqa: E402

from medsynth_trainer.export import inception_fid  # noqa: E402


def load_extractor(tf):
    model = inception_fid.build("random", 0)
    with tempfile.NamedTemporaryFile(suffix=".pth") as f:
        torch.save(model.state_dict(), f.name)
        return tf.feature_extractor_inceptionv3.FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048"], feature_extractor_weights_path=f.name)


def features(extractor, paths, batch):
    rows = []
    with torch.no_grad():
        for i in range(0, len(paths), batch):
            images = [np.asarray(Image.open(p).convert("RGB")) for p in paths[i:i + batch]]
            x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
            rows.append(extractor(x)[0])
    return torch.cat(rows)


def multiply_adds() -> int:
    model = inception_fid.build("random", 0)
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, torch.nn.Conv2d):
            total += output.numel() * module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, torch.nn.Linear):
            total += module.in_features * module.out_features

    for m in model.modules():
        m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, 3, 299, 299))
    return total


def main() -> None:
    torch.set_num_threads(int(sys.argv[1]))
    tf = torch_fidelity()
    extractor = load_extractor(tf)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "flops":
            print(json.dumps({"multiply_adds": multiply_adds()}), flush=True)
            continue
        start = time.perf_counter()
        s1 = tf.metric_fid.fid_features_to_statistics(features(extractor, msg["real"], msg["batch"]))
        s2 = tf.metric_fid.fid_features_to_statistics(features(extractor, msg["fake"], msg["batch"]))
        fid_start = time.perf_counter()
        fid = tf.metric_fid.fid_statistics_to_metric(s1, s2, False)[tf.metric_fid.KEY_METRIC_FID]
        end = time.perf_counter()
        print(json.dumps({"seconds": end - start, "fid": fid, "fid_seconds": end - fid_start}), flush=True)


if __name__ == "__main__":
    main()
