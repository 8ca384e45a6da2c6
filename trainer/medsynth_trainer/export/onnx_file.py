"""Export a feature-extractor module to ONNX (dynamic batch) and describe the file."""

from pathlib import Path

import torch

from ..hashing import sha256_file as sha256_of

OPSET = 17


def export_onnx(model: torch.nn.Module, spec: dict, out: Path) -> None:
    size = spec["input"]["shape"][2]
    example = torch.rand(2, 3, size, size) * 255
    output_names = [o["name"] for o in spec["outputs"]]
    dynamic_axes = {name: {0: "batch"} for name in ["images", *output_names]}
    out.parent.mkdir(parents=True, exist_ok=True)
    # The TorchScript exporter writes one self-contained file (weights inline) with plain Conv /
    # BatchNormalization nodes that onnxruntime fuses; deterministic for the same weights.
    with torch.no_grad():
        torch.onnx.export(model, (example,), str(out), input_names=["images"], output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False, do_constant_folding=True)
