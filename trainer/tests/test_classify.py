"""The classify job: all three regimes on real kvasir-mini images and tiny-preset synthetic ones,
tested on an unseen real test split; the real-only classifier beats chance; a test image that is
also a training image is refused."""

import json
import shutil
from pathlib import Path

import pytest
from conftest import _in_process, generate, generate_job

from medsynth_trainer import jobs
from medsynth_trainer.classify import run_classify
from medsynth_trainer.errors import BadInput

KVASIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "kvasir-mini"
CLASSES = {"polyp": "a polyp", "cecum": "the cecum", "esophagitis": "oesophagitis"}
pytestmark = pytest.mark.skipif(not KVASIR.exists(), reason="../shared/data/kvasir-mini not found")


@pytest.fixture(scope="module")
def data(tiny_model, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("classify")
    rows = []
    for label in CLASSES:
        files = sorted((KVASIR / label).iterdir())
        rows += [{"path": str(f), "label": label, "split": "train", "source": "real"} for f in files[:16]]
        rows += [{"path": str(f), "label": label, "split": "test", "source": "real"} for f in files[16:28]]
    job = generate_job(prompts=[f"an endoscopy image of {name}" for name in CLASSES.values()], seeds=[0, 1, 2, 3], steps=2)
    generate(job, work / "synthetic")
    for line in (work / "synthetic" / "provenance.jsonl").read_text().splitlines():
        row = json.loads(line)
        label = next(k for k, v in CLASSES.items() if row["prompt"].endswith(v))
        rows.append({"path": str(work / "synthetic" / row["path"]), "label": label, "split": "train", "source": "synthetic"})
    file = work / "data.jsonl"
    file.write_text("\n".join(json.dumps(r) for r in rows))
    return file


def classify_job(data: Path, **extra) -> dict:
    return jobs.validate(
        "classify",
        {"kind": "classify", "runId": "t", "device": "cpu", "data": {"file": str(data)}, "seeds": [0, 1], "epochs": 3, "batchSize": 16, "resolution": 64, **extra},
    )


def test_three_regimes_and_real_only_beats_chance(data, tmp_path):
    events = _in_process(lambda ev: run_classify(classify_job(data), tmp_path, ev))
    summary = json.loads((tmp_path / "classify.json").read_text())
    assert events.of("done")[0]["summary"] == summary
    assert set(summary["regimes"]) == {"real", "synthetic", "real+synthetic"}
    assert summary["test"] == 36 and summary["chance"] == pytest.approx(1 / 3)
    real = summary["regimes"]["real"]
    assert real["accuracy"]["mean"] > summary["chance"] + 0.15, real["accuracy"]
    assert real["accuracy"]["low"] <= real["accuracy"]["mean"] <= real["accuracy"]["high"]
    assert set(real["recall"]) == set(CLASSES)
    for regime in ("synthetic", "real+synthetic"):
        gain = summary["regimes"][regime]["gain_over_real"]
        assert gain["accuracy"]["n"] == 2
        assert gain["paired_t_p"] is None or 0 <= gain["paired_t_p"] <= 1


def test_a_test_image_seen_in_training_is_refused(data, tmp_path):
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    test = next(r for r in rows if r["split"] == "test")
    copy = tmp_path / "copy.jpg"
    shutil.copy(test["path"], copy)
    rows.append({**test, "path": str(copy), "split": "train"})
    leaky = tmp_path / "leaky.jsonl"
    leaky.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(BadInput, match=r"1 test image\(s\) also in a training set"):
        _in_process(lambda ev: run_classify(classify_job(leaky, regimes=["real"]), tmp_path / "out", ev))
