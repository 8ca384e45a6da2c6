"""The process contract the TypeScript activities rely on: JSON lines on stdout, exit codes, SIGTERM."""

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import TRAINER_ROOT, cli, json_lines, losses, train, train_job

from medsynth_trainer import jobs


def write_job(tmp_path, job: dict, name="job.json"):
    path = tmp_path / name
    path.write_text(json.dumps(job))
    return path


def test_train_then_generate_print_only_json_lines(data_file, tiny_model, tmp_path):
    job = train_job(data_file, "lora", resolution=32, steps=3, checkpointEvery=2)
    done = cli("train", "--spec", write_job(tmp_path, job), "--out", tmp_path / "run")
    assert done.returncode == 0, done.stderr
    events = json_lines(done.stdout)
    assert [e["event"] for e in events] == [
        "started",
        "progress",
        "progress",
        "checkpoint",
        "progress",
        "checkpoint",
        "artifact",
        "done",
    ]
    rng = events[0].pop("rng")
    assert events[0] == {"event": "started", "job": "train", "device": "cpu", "total": 3}
    assert rng["seed"] == job["method"]["seed"] and "mt19937" in rng["torch"] and "PCG64" in rng["numpy"]
    assert set(events[1]) == {"event", "step", "total", "loss", "lr", "its"}
    assert len(events[3]["sha256"]) == 64 and events[3]["step"] == 2
    lora = events[6]
    assert lora["kind"] == "lora" and lora["path"].endswith("pytorch_lora_weights.safetensors")
    assert "INFO" in done.stderr  # the logs went to stderr

    generate = {
        "kind": "generate",
        "runId": "cli",
        "device": "cpu",
        "baseModel": {"id": "tiny", "resolution": 32},
        "lora": {"path": lora["meta"]["directory"]},
        "generation": {"prompts": ["an endoscopy image of a polyp"], "seeds": [1, 2], "steps": 3},
    }
    done = cli("generate", "--spec", write_job(tmp_path, generate, "gen.json"), "--out", tmp_path / "images")
    assert done.returncode == 0, done.stderr
    kinds = [e["event"] for e in json_lines(done.stdout)]
    assert kinds[0] == "started" and kinds[-1] == "done" and kinds.count("artifact") == 3  # 2 images + provenance


def bad_jobs(data_file, tmp_path):
    unreadable = tmp_path / "broken.png"
    unreadable.write_text("not an image")
    broken_data = tmp_path / "broken.jsonl"
    broken_data.write_text(json.dumps({"path": str(unreadable), "prompt": "x"}) + "\n")
    base = train_job(data_file, "lora", resolution=32, steps=2)
    return {
        "empty prompt list": (
            "generate",
            {"kind": "generate", "runId": "r", "baseModel": {"id": "tiny"}, "generation": {"prompts": []}},
            "generation/prompts",
        ),
        "unknown base model path": (
            "train",
            {**base, "baseModel": {"id": str(tmp_path / "no-such-model")}},
            "no-such-model",
        ),
        "unreadable image": ("train", {**base, "data": {"file": str(broken_data)}}, "broken.png"),
        "hub id not available offline": (
            "generate",
            {
                "kind": "generate",
                "runId": "r",
                "device": "cpu",
                "baseModel": {"id": "medsynth-tests/no-such-model"},
                "generation": {"prompts": ["a"]},
            },
            "medsynth-tests/no-such-model",
        ),
    }


@pytest.mark.parametrize(
    "case", ["empty prompt list", "unknown base model path", "unreadable image", "hub id not available offline"]
)
def test_bad_input_exits_2_with_an_error_event(case, data_file, tiny_model, tmp_path):
    command, job, named = bad_jobs(data_file, tmp_path)[case]
    done = cli(command, "--spec", write_job(tmp_path, job), "--out", tmp_path / "out", env={"HF_HUB_OFFLINE": "1"})
    assert done.returncode == 2, done.stderr
    (event,) = json_lines(done.stdout)
    assert event["event"] == "error" and event["retryable"] is False
    assert named in event["message"]


def test_sigterm_finishes_the_step_and_leaves_a_usable_checkpoint(data_file, tiny_model, tmp_path):
    job = train_job(data_file, "lora", resolution=32, steps=5000, checkpointEvery=5000)
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "medsynth_trainer", "train", "--spec", str(write_job(tmp_path, job)), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=TRAINER_ROOT,
        env=dict(os.environ, PYTHONPATH=str(TRAINER_ROOT)),
    )
    events = []
    for line in process.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "progress" and events[-1]["step"] == 3:
            process.send_signal(signal.SIGTERM)  # the activity's cancel ...
            process.send_signal(signal.SIGTERM)  # ... and the parent-death signal: one graceful stop
            break
    events += json_lines(process.stdout.read())
    assert process.wait(timeout=60) == 143

    checkpoint = next(e for e in events if e["event"] == "checkpoint")
    last_step = max(e["step"] for e in events if e["event"] == "progress")
    assert checkpoint["step"] == last_step >= 3
    assert events[-1]["event"] == "error" and events[-1]["retryable"] is True
    assert "SIGTERM" in events[-1]["message"]

    # The checkpoint resumes: a run told to stop two steps later picks up right after it.
    resumed = train(
        jobs.validate("train", {**job, "method": {**job["method"], "steps": last_step + 2}}),
        out,
        resume=checkpoint["path"],
    )
    assert [p["step"] for p in resumed.of("progress")] == [last_step + 1, last_step + 2]
    assert len(losses(resumed)) == 2 and resumed.of("done")


def test_data_parallel_processes_share_one_event_stream(data_file, tiny_model, tmp_path):
    """numProcesses=2 re-launches the trainer as two processes (gloo on CPU here, NCCL on GPUs)."""
    job = train_job(data_file, "lora", resolution=32, steps=3, checkpointEvery=2, numProcesses=2)
    done = cli("train", "--spec", write_job(tmp_path, job), "--out", tmp_path / "run", env={"MEDSYNTH_MULTI_CPU": "1"})
    assert done.returncode == 0, done.stderr
    events = json_lines(done.stdout)
    assert [e["step"] for e in events if e["event"] == "progress"] == [1, 2, 3]  # rank 0 only
    assert events[-1]["event"] == "done" and events[-1]["processes"] == 2
    assert (tmp_path / "run" / "checkpoints" / "step-00000002" / "random_states_1.pkl").is_file()


def test_resume_latest_picks_the_newest_complete_checkpoint(tmp_path):
    from medsynth_trainer.__main__ import resolve_resume
    from medsynth_trainer.checkpoints import STATE_FILE, step_dir

    assert resolve_resume("latest", tmp_path) is None  # nothing yet: a fresh start
    for step in (4, 12):
        step_dir(tmp_path, step).mkdir(parents=True)
        (step_dir(tmp_path, step) / STATE_FILE).write_text(json.dumps({"step": step}))
    step_dir(tmp_path, 16).mkdir()  # no state file: an incomplete copy, never chosen
    assert resolve_resume("latest", tmp_path) == step_dir(tmp_path, 12)
