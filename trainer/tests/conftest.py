"""Shared fixtures: the tiny base model (built once per session through the CLI) and small datasets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

TRAINER_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TRAINER_ROOT))

from medsynth_trainer import jobs, stopping  # noqa: E402
from medsynth_trainer.events import EventRecorder  # noqa: E402


def cli(*args, timeout=120, env=None, **kwargs) -> subprocess.CompletedProcess:
    """Runs `python -m medsynth_trainer ...` the way the TypeScript activity does."""
    env = dict(os.environ, PYTHONPATH=str(TRAINER_ROOT), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "medsynth_trainer", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=TRAINER_ROOT,
        **kwargs,
    )


def json_lines(stdout: str) -> list[dict]:
    """Every stdout line must be one JSON object with an "event" (fails the test otherwise)."""
    events = []
    for line in stdout.splitlines():
        event = json.loads(line)
        assert isinstance(event, dict) and "event" in event, line
        events.append(event)
    return events


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("models") / "tiny-sd"
    done = cli("tiny", "--out", directory)
    assert done.returncode == 0, done.stderr
    events = json_lines(done.stdout)
    assert [e["event"] for e in events] == ["artifact", "done"]
    os.environ["MEDSYNTH_TINY_MODEL_DIR"] = str(directory)  # "tiny" jobs, here and in subprocesses
    return directory


def write_images(folder: Path, count: int, size: int = 40) -> list[Path]:
    """Distinct smooth colour patterns: learnable, unlike noise."""
    folder.mkdir(parents=True, exist_ok=True)
    ys, xs = np.mgrid[0:size, 0:size] / size
    paths = []
    for i in range(count):
        phase = i * 0.7
        image = np.stack([np.sin(6 * xs + phase), np.cos(5 * ys - phase), np.sin(4 * (xs + ys) + 2 * phase)], -1)
        path = folder / f"image-{i}.png"
        Image.fromarray(((image + 1) * 127.5).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def data_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    paths = write_images(folder / "images", 4)
    rows = [
        {"path": f"images/{p.name}", "prompt": f"an endoscopy image of a polyp, type {i % 2}"}
        for i, p in enumerate(paths)
    ]
    file = folder / "train.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return file


def train_job(data_file: Path, kind: str, resolution: int = 64, **method) -> dict:
    extra = (
        {
            "instancePrompt": "an endoscopy image of sks polyp",
            "classPrompt": "an endoscopy image of a polyp",
            "numClassImages": 4,
        }
        if kind == "dreambooth-lora"
        else {}
    )
    if kind != "full":
        extra["rank"] = 8
    return jobs.validate(
        "train",
        {
            "kind": "train",
            "runId": f"test-{kind}",
            "device": "cpu",
            "baseModel": {"id": "tiny", "resolution": resolution},
            "method": {"kind": kind, "batchSize": 2, "learningRate": 1e-2, "checkpointEvery": 1000, **extra, **method},
            "data": {"file": str(data_file)},
        },
    )


def generate_job(lora: Path | None = None, **generation) -> dict:
    return jobs.validate(
        "generate",
        {
            "kind": "generate",
            "runId": "test-generate",
            "device": "cpu",
            "baseModel": {"id": "tiny", "resolution": 32},
            **({"lora": {"path": str(lora)}} if lora is not None else {}),
            "generation": {
                "prompts": ["an endoscopy image of a polyp", "a photo of a cat"],
                "seeds": [0, 11],
                "steps": 4,
                "batchSize": 2,
                **generation,
            },
        },
    )


def train(job: dict, out: Path, resume: Path | None = None) -> EventRecorder:
    from medsynth_trainer.train import run_train

    return _in_process(lambda events: run_train(job, out, events, resume))


def generate(job: dict, out: Path) -> EventRecorder:
    from medsynth_trainer.generate import run_generate

    return _in_process(lambda events: run_generate(job, out, events))


def _in_process(run) -> EventRecorder:
    """Runs a job in this process; restores torch's thread count (the tiny preset sets 1)."""
    threads = torch.get_num_threads()
    stopping.reset()
    events = EventRecorder()
    try:
        run(events)
    finally:
        torch.set_num_threads(threads)
    return events


def losses(events: EventRecorder) -> list[float]:
    return [e["loss"] for e in events.of("progress")]
