"""Which device and which precisions a job runs with."""

import logging
import os

import torch

from .errors import BadInput

log = logging.getLogger(__name__)


def pick_device(requested: str) -> torch.device:
    if requested == "cuda" and not torch.cuda.is_available():
        raise BadInput("the job asks for device cuda but CUDA is not available on this machine")
    if requested == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def training_precision(requested: str, device: torch.device) -> str:
    """The accelerate mixed_precision to use. CPUs train in fp32: exact, and resume stays bit-exact."""
    if device.type != "cuda":
        if requested != "no":
            log.info("mixedPrecision %s ignored on CPU: training in fp32", requested)
        return "no"
    if requested == "bf16" and not torch.cuda.is_bf16_supported():
        log.warning("bf16 is not supported by this GPU: using fp16")
        return "fp16"
    return requested


def weight_dtype(precision: str) -> torch.dtype:
    """dtype of the frozen modules; trainable parameters always stay fp32."""
    return {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)


def inference_dtype(device: torch.device) -> torch.dtype:
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.current_device()} ({torch.cuda.get_device_name()})"
    return "cpu"


def tune_cpu_threads(model_id: str, device: torch.device) -> None:
    """The tiny model's tensors are too small for intra-op threads: on a busy machine OpenMP's
    thread barriers made its steps 40x slower. OMP_NUM_THREADS, when set, wins."""
    if device.type == "cpu" and model_id == "tiny" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)
