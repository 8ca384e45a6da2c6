"""Untrusted LoRA weights never go through pickle: a pickle, whatever its name, is refused as bad
input (exit 2, not retried) before anything could unpickle it. The pickle here would create a
marker file when unpickled; the marker must never appear."""

import json
import pickle

import pytest
from conftest import cli, generate_job, json_lines



class _CreatesMarker:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_the_marker_pickle_does_run_code_when_unpickled(tmp_path):
    # the control: without it, a marker that never appears would prove nothing
    marker = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(_CreatesMarker(marker))).close()
    assert marker.exists()


@pytest.mark.parametrize("name", ["pytorch_lora_weights.safetensors", "lora.bin", "lora.pt"])
def test_a_pickle_lora_is_refused_before_any_unpickling(tmp_path, name):
    marker = tmp_path / "unpickled"
    lora = tmp_path / name
    lora.write_bytes(pickle.dumps(_CreatesMarker(marker)))
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(generate_job(lora, prompts=["an endoscopy image of a polyp"], seeds=[0], steps=2)))

    done = cli("generate", "--spec", job_file, "--out", tmp_path / "out")

    assert done.returncode == 2, done.stderr  # bad input, not a crash to retry
    errors = [e for e in json_lines(done.stdout) if e["event"] == "error"]
    assert len(errors) == 1 and errors[0]["retryable"] is False
    assert name in errors[0]["message"]
    assert not marker.exists()
    assert "Traceback" not in done.stderr
