"""python -m medsynth_trainer.export --extractor NAME --weights random|real [--seed N] --out FILE.onnx"""

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from . import biomedclip_vit, efficientnet_lite, inception_fid, keras_inception_v3
from .onnx_file import OPSET, export_onnx, sha256_of

EXTRACTORS = {
    "inception-fid": inception_fid,
    "keras-inception-v3": keras_inception_v3,
    "biomedclip": biomedclip_vit,
    "efficientnet-lite0": efficientnet_lite,
}


def describe(name: str, weights: str, seed: int | None, out: Path, seconds: float) -> dict:
    spec = EXTRACTORS[name].SPEC
    return {"extractor": name, "weights": weights, "seed": seed, "file": str(out), "sha256": sha256_of(out),
            "bytes": out.stat().st_size, "opset": OPSET, "torch": torch.__version__, "seconds": round(seconds, 2),
            "input": spec["input"], "outputs": spec["outputs"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medsynth_trainer.export", description=__doc__)
    parser.add_argument("--extractor", required=True, choices=sorted(EXTRACTORS))
    parser.add_argument("--weights", required=True, choices=["random", "real"])
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    parser.add_argument("--weights-file", help="a local copy of the real weights instead of downloading them")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    started = time.monotonic()
    torch.manual_seed(args.seed)
    model = EXTRACTORS[args.extractor].build(args.weights, args.seed, args.weights_file)
    export_onnx(model, EXTRACTORS[args.extractor].SPEC, args.out)
    seed = args.seed if args.weights == "random" else None
    description = describe(args.extractor, args.weights, seed, args.out, time.monotonic() - started)
    # The sidecar tells evaluations what they ran on (random weights are for tests and demos only).
    Path(f"{args.out}.json").write_text(json.dumps(description, indent=2) + "\n")
    print(json.dumps(description))
    return 0


if __name__ == "__main__":
    sys.exit(main())
