"""Reference values of FID, KID, IS and PRDC for feature matrices written by the TS tests.

Usage: metrics_reference.py DIR. DIR holds x.npy and y.npy (float64 features) and params.json;
writes DIR/reference.json. FID three ways: numpy/scipy directly (sqrtm), pytorch-fid's own
calculate_frechet_distance, torch-fidelity's own fid_features_to_statistics +
fid_statistics_to_metric. KID and IS: torch-fidelity's own kid_features_to_metric and
isc_features_to_metric (see upstream.py for how they are loaded without torchvision). PRDC:
Naeem et al.'s package (prdc.compute_prdc). FID bootstrap: both sets resampled with replacement
by numpy's RandomState(seed).randint (x first, then y, per resample), the numpy/scipy FID of
each pair, and np.percentile's linear interpolation at the interval's two ends.
"""

import json
import sys
from pathlib import Path

import numpy as np
import scipy.linalg
import torch

sys.path.insert(0, str(Path(__file__).parent))
from upstream import pytorch_fid_calculate_frechet_distance, torch_fidelity  # noqa: E402


def fid_numpy(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def prdc(real, fake, k):
    from prdc import compute_prdc  # Naeem et al.'s own package

    return {name: float(v) for name, v in compute_prdc(real_features=real, fake_features=fake, nearest_k=k).items()}


def fid_bootstrap(x, y, resamples, seed, level):
    rng = np.random.RandomState(seed)
    values = []
    for _ in range(resamples):
        xi = rng.randint(0, len(x), len(x))
        yi = rng.randint(0, len(y), len(y))
        values.append(fid_numpy(x[xi], y[yi]))
    tail = (1 - level) / 2 * 100
    return {"low": float(np.percentile(values, tail)), "high": float(np.percentile(values, 100 - tail)), "values": values}


def main(folder: Path) -> None:
    params = json.loads((folder / "params.json").read_text())
    x, y = np.load(folder / "x.npy"), np.load(folder / "y.npy")
    tf = torch_fidelity()
    out = {}
    if "fid" in params:
        s1, s2 = (tf.metric_fid.fid_features_to_statistics(torch.from_numpy(a)) for a in (x, y))
        out["fid_torch_fidelity"] = tf.metric_fid.fid_statistics_to_metric(s1, s2, False)[tf.metric_fid.KEY_METRIC_FID]
        out["fid_pytorch_fid"] = float(pytorch_fid_calculate_frechet_distance()(s1["mu"], s1["sigma"], s2["mu"], s2["sigma"]))
        out["fid_numpy"] = fid_numpy(x, y)
    if "kid" in params:
        kid = tf.metric_kid.kid_features_to_metric(torch.from_numpy(x), torch.from_numpy(y), verbose=False, **params["kid"])
        out["kid_mean"], out["kid_std"] = kid[tf.metric_kid.KEY_METRIC_KID_MEAN], kid[tf.metric_kid.KEY_METRIC_KID_STD]
    if "isc" in params:
        isc = tf.metric_isc.isc_features_to_metric(torch.from_numpy(y), **params["isc"])
        out["isc_mean"], out["isc_std"] = isc[tf.metric_isc.KEY_METRIC_ISC_MEAN], isc[tf.metric_isc.KEY_METRIC_ISC_STD]
    if "prdc" in params:
        out["prdc"] = prdc(x, y, params["prdc"]["k"])
    if "bootstrap" in params:
        out["bootstrap"] = fid_bootstrap(x, y, **params["bootstrap"])
    if "rng" in params:
        rng = np.random.RandomState(params["rng"]["seed"])
        out["permutation"] = rng.permutation(params["rng"]["n"]).tolist()
        out["choice"] = rng.choice(params["rng"]["n"], params["rng"]["size"], replace=False).tolist()
    if "eig" in params:
        out["eigenvalues"] = sorted(np.linalg.eigvalsh(x).tolist())
    (folder / "reference.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
