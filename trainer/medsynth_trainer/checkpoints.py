"""Resumable checkpoints: accelerate's state (optimizer, LR scheduler, RNG of python/numpy/torch,
registered objects such as the EMA) plus the trainable weights and the step counter.

Layout: <out>/checkpoints/step-00000500/{trainable.safetensors, optimizer.bin, scheduler.bin,
random_states_*.pkl, custom_checkpoint_*.pkl, medsynth-state.json}. Only trainable parameters are
stored (for LoRA, megabytes instead of the whole UNet). A checkpoint is written into a hidden
folder and renamed when complete, so a folder named step-N is always whole.
"""

import json
import logging
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .errors import BadInput
from .hashing import sha256_json

log = logging.getLogger(__name__)

TRAINABLE_FILE = "trainable.safetensors"
STATE_FILE = "medsynth-state.json"
# Options that may change between a checkpoint and its resume without changing the trajectory.
RESUME_FREE_OPTIONS = ("steps", "checkpointEvery", "validationEvery")


def checkpoint_root(out: Path) -> Path:
    return Path(out) / "checkpoints"


def step_dir(out: Path, step: int) -> Path:
    return checkpoint_root(out) / f"step-{step:08d}"


def latest(out: Path) -> Path | None:
    done = sorted(p for p in checkpoint_root(out).glob("step-*") if (p / STATE_FILE).is_file())
    return done[-1] if done else None


def trainable_state(modules: dict[str, torch.nn.Module]) -> dict[str, torch.Tensor]:
    return {
        f"{name}.{param_name}": param.detach().to("cpu").contiguous()
        for name, module in modules.items()
        for param_name, param in module.named_parameters()
        if param.requires_grad
    }


def register_hooks(accelerator, modules: dict[str, torch.nn.Module]) -> None:
    """Make accelerator.save_state/load_state store our trainable tensors instead of whole models.
    `modules` are the unwrapped models, keyed by a stable name."""

    def save_hook(_models, weights, output_dir):
        if accelerator.is_main_process:
            save_file(trainable_state(modules), Path(output_dir) / TRAINABLE_FILE)
        weights.clear()  # accelerate then saves no model files

    def load_hook(models, input_dir):
        tensors = load_file(Path(input_dir) / TRAINABLE_FILE)
        for name, module in modules.items():
            params = dict(module.named_parameters())
            prefix = f"{name}."
            for key, value in tensors.items():
                if key.startswith(prefix):
                    params[key[len(prefix) :]].data.copy_(value)
        models.clear()

    accelerator.register_save_state_pre_hook(save_hook)
    accelerator.register_load_state_pre_hook(load_hook)


def save(accelerator, out: Path, step: int, info: dict) -> Path:
    final = step_dir(out, step)
    staging = final.with_name(f".{final.name}.partial")
    if accelerator.is_main_process:
        shutil.rmtree(staging, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(staging))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (staging / STATE_FILE).write_text(json.dumps({"step": step, **info}, indent=2))
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
    accelerator.wait_for_everyone()
    return final


def read_state(directory: Path) -> dict:
    state_file = Path(directory) / STATE_FILE
    if not state_file.is_file():
        raise BadInput(f"not a medsynth checkpoint (no {STATE_FILE}): {directory}")
    return json.loads(state_file.read_text())


def prune(out: Path, keep: int) -> None:
    if keep > 0:
        for old in sorted(checkpoint_root(out).glob("step-*"))[:-keep]:
            shutil.rmtree(old, ignore_errors=True)


def trajectory_hash(job: dict) -> str:
    """What must match for a resumed run to continue the same trajectory."""
    method = {k: v for k, v in job["method"].items() if k not in RESUME_FREE_OPTIONS}
    # A training set copied to another node keeps its id, not its path.
    data = {"id": job["data"]["id"]} if job["data"].get("id") else job["data"]
    return sha256_json({"method": method, "baseModel": job["baseModel"], "data": data})


def check_resumable(directory: Path, job: dict) -> dict:
    """The checkpoint's state; BadInput if it comes from another method, a warning if options changed."""
    state = read_state(directory)
    if state.get("method") != job["method"]["kind"]:
        raise BadInput(
            f"checkpoint {directory} is from a {state.get('method')} run, the job is {job['method']['kind']}"
        )
    if state.get("trajectory") != trajectory_hash(job):
        log.warning("resuming %s with changed training options: the run will not match an uninterrupted one", directory)
    return state
