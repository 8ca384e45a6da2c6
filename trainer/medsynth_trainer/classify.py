"""Does synthetic data help a classifier? EfficientNet-Lite0 (the packaged ImageNet weights, or random
init when asked) fine-tuned in up to three regimes -- real images only, synthetic only, real +
synthetic -- once per seed, and always tested on the real test split, which must share no image
(by sha256) with any training set. Per regime: accuracy, macro-F1 and per-class recall as the mean
over seeds with a 95 % t-interval; per regime against real-only: the mean gain and a paired t-test
over the seeds (the same seeds, so the same initialisation and order of real images)."""

import hashlib
import json
import logging
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from .devices import pick_device
from .errors import BadInput
from .events import EventStream
from .export.efficientnet_lite import EfficientNetLite0, packaged_weights

log = logging.getLogger(__name__)


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _load(rows: list[dict], size: int) -> torch.Tensor:
    out = torch.empty(len(rows), 3, size, size)
    for i, r in enumerate(rows):
        with Image.open(r["path"]) as im:
            out[i] = torch.from_numpy(np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.float32)).permute(2, 0, 1)
    return out


def _model(weights: str, classes: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    model = EfficientNetLite0()
    if weights == "imagenet":
        # weights_only: a plain state dict of tensors, never arbitrary pickled objects
        model.load_state_dict(torch.load(packaged_weights(), map_location="cpu", weights_only=True), strict=True)
    model._fc = nn.Linear(1280, classes)
    return model


def _scores(truth: np.ndarray, pred: np.ndarray, classes: list[str]) -> dict:
    recall, f1 = {}, []
    for c in range(len(classes)):
        tp = int(((pred == c) & (truth == c)).sum())
        fn = int(((pred != c) & (truth == c)).sum())
        fp = int(((pred == c) & (truth != c)).sum())
        if tp + fn == 0:
            continue  # a class absent from the test split has no recall
        recall[classes[c]] = tp / (tp + fn)
        f1.append(2 * tp / (2 * tp + fp + fn))
    return {"accuracy": float((pred == truth).mean()), "macro_f1": float(np.mean(f1)), "recall": recall}


def _interval(values: list[float]) -> dict:
    from scipy import stats

    mean = float(np.mean(values))
    if len(values) < 2:
        return {"mean": mean, "low": None, "high": None, "n": len(values)}
    half = float(stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / math.sqrt(len(values)))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": len(values)}


def _train_and_test(job, train_rows, test_x, test_y, classes, seed, device, events, label):
    rng = random.Random(seed)
    model = _model(job["weights"], len(classes), seed).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=job["learningRate"])
    x = _load(train_rows, job["resolution"])
    y = torch.tensor([classes.index(r["label"]) for r in train_rows])
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(job["epochs"]):
        model.train()
        order = torch.randperm(len(train_rows), generator=generator)
        for start in range(0, len(order), job["batchSize"]):
            idx = order[start : start + job["batchSize"]]
            batch = x[idx]
            if rng.random() < 0.5:
                batch = batch.flip(-1)
            _, logits = model(batch.to(device))
            loss = F.cross_entropy(logits, y[idx].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        events.emit("progress", step=epoch + 1, total=job["epochs"], loss=float(loss.detach()), regime=label, seed=seed)
    model.eval()
    with torch.no_grad():
        preds = torch.cat([model(test_x[i : i + 64].to(device))[1].argmax(1).cpu() for i in range(0, len(test_x), 64)])
    return _scores(test_y.numpy(), preds.numpy(), classes)


def run_classify(job: dict, out: Path, events: EventStream) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in Path(job["data"]["file"]).read_text(encoding="utf-8").splitlines() if line.strip()]
    real_train = [r for r in rows if r["source"] == "real" and r["split"] == "train"]
    synthetic = [r for r in rows if r["source"] == "synthetic"]
    test = [r for r in rows if r["source"] == "real" and r["split"] == "test"]
    if not test:
        raise BadInput("classify: no real test images")
    if "real" in job["regimes"] and not real_train:
        raise BadInput("classify: no real training images")
    if any(r != "real" for r in job["regimes"]) and not synthetic:
        raise BadInput("classify: no synthetic images for the synthetic regimes")
    # the test split must be unseen: no test image's bytes in any training set
    seen = {_sha(r["path"]) for r in real_train + synthetic}
    leaked = [r["path"] for r in test if _sha(r["path"]) in seen]
    if leaked:
        raise BadInput(f"classify: {len(leaked)} test image(s) also in a training set (by sha256), e.g. {leaked[0]}")
    classes = sorted({r["label"] for r in real_train + synthetic})
    test = [r for r in test if r["label"] in classes]
    test_x = _load(test, job["resolution"])
    test_y = torch.tensor([classes.index(r["label"]) for r in test])
    device = pick_device(job["device"])
    events.emit("started", job="classify", device=str(device), total=len(job["regimes"]) * len(job["seeds"]) * job["epochs"])
    t0 = time.monotonic()

    runs: dict[str, list[dict]] = {}
    for regime in job["regimes"]:
        for seed in job["seeds"]:
            if regime == "real":
                train_rows = real_train
            elif regime == "synthetic":
                train_rows = synthetic
            else:
                share = job["syntheticShare"]
                wanted = min(len(synthetic), round(len(real_train) * share / (1 - share)))
                train_rows = real_train + random.Random(seed).sample(synthetic, wanted)
            runs.setdefault(regime, []).append(_train_and_test(job, train_rows, test_x, test_y, classes, seed, device, events, regime))

    summary: dict = {"classes": classes, "test": len(test), "chance": 1 / len(classes), "weights": job["weights"], "regimes": {}}
    for regime, scores in runs.items():
        entry = {k: _interval([s[k] for s in scores]) for k in ("accuracy", "macro_f1")}
        entry["recall"] = {c: _interval([s["recall"].get(c, 0.0) for s in scores]) for c in classes if any(c in s["recall"] for s in scores)}
        entry["seeds"] = scores
        if regime != "real" and "real" in runs:
            from scipy import stats

            gains = [s["accuracy"] - r["accuracy"] for s, r in zip(scores, runs["real"])]
            # no test when every seed gained the same (a zero-variance difference has no t statistic)
            p = float(stats.ttest_rel([s["accuracy"] for s in scores], [r["accuracy"] for r in runs["real"]]).pvalue) if len(gains) > 1 and np.std(gains) > 1e-12 else None
            entry["gain_over_real"] = {"accuracy": _interval(gains), "paired_t_p": p}
        summary["regimes"][regime] = entry
    if job["weights"] == "random":
        summary["note"] = "random initialisation (asked): no ImageNet weights"
    (out / "classify.json").write_text(json.dumps(summary, indent=2))
    events.emit("artifact", path=str(out / "classify.json"), sha256=_sha(str(out / "classify.json")), kind="classify")
    events.emit("done", job="classify", seconds=round(time.monotonic() - t0, 3), summary=summary)
