"""torch-fidelity's whole pipeline on two image folders, with medsynth's seeded random weights.

Usage: torch_fidelity_pipeline.py OUT.json SEED REAL_DIR FAKE_DIR PARAMS_JSON
torch_fidelity.calculate_metrics(input1=FAKE_DIR, input2=REAL_DIR, fid, kid, isc): its own file
search (samples_find_deep, sorted real paths), Pillow decode, DataLoader batches,
FeatureExtractorInceptionV3 (TF1 resize inside) loaded with inception_fid.build("random", SEED)
through feature_extractor_weights_path, and its metric code. PARAMS_JSON holds the keyword
arguments both sides share (kid_subset_size, kid_subsets, isc_splits, rng_seed, batch_size).
Writes {"fid", "kid_mean", "kid_std", "isc_mean", "isc_std"}.
"""

import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from upstream import torch_fidelity_calculate_metrics  # noqa: E402

from medsynth_trainer.export import inception_fid  # noqa: E402


def main(out: Path, seed: int, real: str, fake: str, params: dict) -> None:
    torch.set_num_threads(2)
    calculate_metrics = torch_fidelity_calculate_metrics()
    with tempfile.NamedTemporaryFile(suffix=".pth") as weights:
        torch.save(inception_fid.build("random", seed).state_dict(), weights.name)
        result = calculate_metrics(
            input1=fake, input2=real, fid=True, kid=True, isc=True, cuda=False, cache=False, verbose=False,
            samples_find_deep=True, feature_extractor="inception-v3-compat",
            feature_extractor_weights_path=weights.name, **params,
        )
    out.write_text(json.dumps({
        "fid": result["frechet_inception_distance"],
        "kid_mean": result["kernel_inception_distance_mean"],
        "kid_std": result["kernel_inception_distance_std"],
        "isc_mean": result["inception_score_mean"],
        "isc_std": result["inception_score_std"],
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], json.loads(sys.argv[5]))
