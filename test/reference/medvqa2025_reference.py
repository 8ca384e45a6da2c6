"""The MEDVQA-GI 2025 Task 2 scoring formulas as the organisers' submission_task2.py applies them,
on features written by the TS tests (SushantGautam/MedVQA, medvqa/submission_samples/gi-2025).

Usage: medvqa2025_reference.py DIR. DIR holds fake.npy and real.npy (raw features, float64) and
prompts.json (the prompt number of each fake row); every prompt uses all real rows as its
reference. Writes DIR/reference.json with the scores of the official pairing loop and of all pairs.
"""

import json
import sys
from pathlib import Path

import numpy as np
from scipy.linalg import sqrtm
from scipy.spatial.distance import pdist


def l2(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)  # as extract_features does


def fid(f1, f2):
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * sqrtm(s1 @ s2).real))


def score(by_prompt, real, pair_starts):
    fids, agreements, diversities, generated, references = [], [], [], [], []
    order = sorted(by_prompt)
    for i in pair_starts(len(order)):
        a, b = by_prompt[order[i]], by_prompt[order[i + 1]]
        agreements.append(float((a @ b.T).mean()))  # cosine similarity of unit vectors
        diversities += [float(pdist(a).mean()), float(pdist(b).mean())]
        fids.append((fid(a, real) + fid(b, real)) / 2)
        generated += [*a, *b]
        references += list(real)
    return {
        "fidelity": float(np.mean(100 / (1 + np.array(fids)))),
        "agreement": float(np.mean(agreements)),
        "diversity": float(np.mean(diversities)),
        "FBD": fid(np.array(generated), np.array(references)),
        "pairs": len(fids),
    }


def main(folder: Path) -> None:
    fake, real = l2(np.load(folder / "fake.npy")), l2(np.load(folder / "real.npy"))
    prompts = json.loads((folder / "prompts.json").read_text())
    by_prompt = {p: fake[[i for i, q in enumerate(prompts) if q == p]] for p in sorted(set(prompts))}
    out = {
        "official": score(by_prompt, real, lambda n: range(0, n // 2, 2)),  # the script's loop
        "corrected": score(by_prompt, real, lambda n: range(0, n - 1, 2)),
    }
    (folder / "reference.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
