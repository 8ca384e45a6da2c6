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


def test_a_rung_stops_early_and_its_resume_ends_as_an_uninterrupted_run(data_file, tiny_model, tmp_path):
    """Successive halving trains to a rung (stopAt), scores the weights, then resumes to the end."""
    job = train_job(data_file, "lora", resolution=32, steps=6, checkpointEvery=100, lrScheduler="cosine")
    whole = train(job, tmp_path / "whole")

    out = tmp_path / "rung"
    rung = train({**job, "stopAt": 2}, out)
    assert [p["step"] for p in rung.of("progress")] == [1, 2]
    assert [c["step"] for c in rung.of("checkpoint")] == [2]
    assert rung.of("done")[0]["steps"] == 2 and rung.of("done")[0]["total"] == 6
    # weights as at step 2, from the schedule of 6 steps (cosine: the lr at step 2 of 6)
    assert [p["lr"] for p in rung.of("progress")] == [p["lr"] for p in whole.of("progress")][:2]
    assert rung.of("artifact")[-1]["kind"] == "lora"

    (out / rung.of("artifact")[-1]["path"]).unlink()
    rest = train(job, out, resume=step_dir(out, 2))
    assert [p["step"] for p in rest.of("progress")] == [3, 4, 5, 6]
    assert losses(rung) + losses(rest) == losses(whole)  # bit-for-bit
    assert rest.of("artifact")[-1]["sha256"] == whole.of("artifact")[-1]["sha256"]
