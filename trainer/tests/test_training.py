"""Each method learns: the loss falls over 30 steps on a fixed batch of images."""

import json

import numpy as np
import pytest
from conftest import losses, train, train_job

METHODS = {
    "full": {"ema": True, "snrGamma": 5.0, "noiseOffset": 0.05, "learningRate": 1e-3},
    "lora": {"batchSize": 4, "gradientCheckpointing": True, "validationEvery": 15},
    # On a CPU, 8-bit Adam falls back to AdamW (with a logged note).
    "dreambooth-lora": {"batchSize": 2, "use8bitAdam": True},
}


@pytest.mark.parametrize("kind", METHODS)
def test_loss_falls(kind, data_file, tiny_model, tmp_path):
    events = train(train_job(data_file, kind, steps=30, **METHODS[kind]), tmp_path)
    curve = np.array(losses(events))
    assert len(curve) == 30 and np.isfinite(curve).all()
    first, last = curve[:5].mean(), curve[-5:].mean()
    assert last < 0.9 * first, f"{kind}: mean loss {first:.3f} -> {last:.3f}"

    assert events.events[0]["event"] == "started" and events.events[-1]["event"] == "done"
    artifact = events.of("artifact")[-1]
    assert artifact["kind"] == ("unet" if kind == "full" else "lora")
    if kind == "lora":  # validation images at steps 15 and 30, made with the modules being trained
        validation = [a for a in events.of("artifact") if a["kind"] == "validation-image"]
        assert [a["meta"]["step"] for a in validation] == [15, 15, 30, 30]
        assert all((tmp_path / "validation").joinpath(a["path"].rsplit("/", 1)[-1]).is_file() for a in validation)
    if kind == "dreambooth-lora":
        assert len(list((tmp_path / "class-images").glob("class-*.png"))) == 4
    state = json.loads((tmp_path / "checkpoints" / "step-00000030" / "medsynth-state.json").read_text())
    assert state["step"] == 30
