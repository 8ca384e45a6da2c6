"""torch-fidelity's own FeatureExtractorInceptionV3, loaded with medsynth's seeded random weights,
on image files decoded the way torch-fidelity decodes them (Pillow, convert('RGB'), uint8).

Usage: inception_reference.py OUT_DIR SEED IMAGE...  -> OUT_DIR/{pool3,logits,logits_unbiased}.npy
The weights are medsynth_trainer.export.inception_fid.build("random", SEED), the module the
exporter turns into ONNX; torch-fidelity loads them through its feature_extractor_weights_path.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from upstream import torch_fidelity  # noqa: E402

from medsynth_trainer.export import inception_fid  # noqa: E402


def main(out: Path, seed: int, files: list[str]) -> None:
    torch.set_num_threads(2)
    model = inception_fid.build("random", seed)
    with tempfile.NamedTemporaryFile(suffix=".pth") as f:
        torch.save(model.state_dict(), f.name)
        extractor = torch_fidelity().feature_extractor_inceptionv3.FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048", "logits", "logits_unbiased"], feature_extractor_weights_path=f.name
        )
    rows = {"pool3": [], "logits": [], "logits_unbiased": []}
    with torch.no_grad():
        for file in files:
            x = torch.from_numpy(np.asarray(Image.open(file).convert("RGB")).copy()).permute(2, 0, 1).unsqueeze(0)
            for name, value in zip(rows, extractor(x)):
                rows[name].append(value[0].numpy())
    for name, values in rows.items():
        np.save(out / f"{name}.npy", np.stack(values).astype(np.float32))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:])
