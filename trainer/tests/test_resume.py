"""Resuming from the checkpoint of step k reproduces the uninterrupted run exactly (CPU)."""

import pytest
from conftest import losses, train, train_job

from medsynth_trainer.checkpoints import step_dir

CASES = {
    # Text-encoder LoRA with dropout: the global RNG (dropout) and two trained models are restored.
    "lora": {"trainTextEncoder": True, "dropout": 0.1, "lrScheduler": "cosine", "warmupSteps": 2},
    # EMA, min-SNR weighting, noise offset and gradient accumulation.
    "full": {"ema": True, "snrGamma": 5.0, "noiseOffset": 0.1, "gradientAccumulation": 2, "learningRate": 1e-3},
    # Class images are made once and reused by the resumed run.
    "dreambooth-lora": {},
}


@pytest.mark.parametrize("kind", CASES)
def test_resume_is_exact(kind, data_file, tiny_model, tmp_path):
    job = train_job(data_file, kind, resolution=32, steps=6, checkpointEvery=3, **CASES[kind])
    whole = train(job, tmp_path / "whole")
    assert [c["step"] for c in whole.of("checkpoint")] == [3, 6]

    out = tmp_path / "whole"  # resume in the same folder, as a retried activity would
    class_images = sorted((out / "class-images").glob("*.png"))
    stamps = [p.stat().st_mtime_ns for p in class_images]
    final = whole.of("artifact")[-1]
    (out / final["path"]).unlink() if kind != "full" else None

    resumed = train(job, out, resume=step_dir(out, 3))
    assert resumed.of("started")[0]["resumedFrom"] == 3
    assert [p["step"] for p in resumed.of("progress")] == [4, 5, 6]
    assert losses(resumed) == losses(whole)[3:]  # bit-for-bit
    assert resumed.of("artifact")[-1]["sha256"] == final["sha256"]  # the same final weights
    assert [p.stat().st_mtime_ns for p in class_images] == stamps
