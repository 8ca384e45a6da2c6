"""Job files: schema validation, defaults, and the checks JSON Schema cannot express."""

import pytest

from medsynth_trainer import jobs
from medsynth_trainer.errors import BadInput


def test_train_defaults_are_filled_per_method_kind():
    job = jobs.validate(
        "train",
        {"kind": "train", "runId": "r", "baseModel": {}, "method": {"kind": "lora"}, "data": {"file": "d.jsonl"}},
    )
    assert job["baseModel"] == {"id": "stable-diffusion-v1-5/stable-diffusion-v1-5", "resolution": 512}
    assert job["method"]["rank"] == 16 and job["method"]["targets"] == ["to_q", "to_k", "to_v", "to_out.0"]
    assert "ema" not in job["method"]  # a full fine-tune option, not a LoRA one
    assert job["device"] == "auto"


def test_generate_defaults():
    job = jobs.validate(
        "generate", {"kind": "generate", "runId": "r", "baseModel": {"id": "tiny"}, "generation": {"prompts": ["a"]}}
    )
    assert job["generation"]["scheduler"] == "dpm++" and job["generation"]["seeds"] == [0]
    assert job["shard"] == {"index": 0, "count": 1}


@pytest.mark.parametrize(
    "job, message",
    [
        ({"kind": "generate", "runId": "r", "baseModel": {}, "generation": {"prompts": []}}, "generation/prompts"),
        (
            {
                "kind": "train",
                "runId": "r",
                "baseModel": {},
                "method": {"kind": "lora", "rank": 0},
                "data": {"file": "x"},
            },
            "method/rank",
        ),
        (
            {
                "kind": "train",
                "runId": "r",
                "baseModel": {},
                "method": {"kind": "lora", "ema": True},
                "data": {"file": "x"},
            },
            "'ema' was unexpected",
        ),
        (
            {
                "kind": "generate",
                "runId": "r",
                "baseModel": {},
                "generation": {"prompts": ["a"]},
                "shard": {"index": 2, "count": 2},
            },
            "shard index",
        ),
    ],
)
def test_invalid_jobs_name_the_problem(job, message):
    with pytest.raises(BadInput, match=message):
        jobs.validate(job["kind"], job)
