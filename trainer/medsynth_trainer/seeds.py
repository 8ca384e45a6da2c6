"""Random streams derived from integers, so results depend on (seed, step, ...) and not on history.

That is what makes resume exact and keeps an image the same however the work is batched or sharded.
Draws that libraries make from the global streams (peft's adapter init, dropout) happen inside
`seeded(...)`, so they too are functions of the seed and not of the process they run in.
"""

import hashlib
import random
from contextlib import contextmanager

import numpy as np
import torch


def derive_seed(*parts: int | str) -> int:
    text = ":".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") & ((1 << 63) - 1)


def generator(*parts: int | str) -> torch.Generator:
    """A CPU generator: the same numbers on every device (tensors are drawn on CPU, then moved)."""
    return torch.Generator("cpu").manual_seed(derive_seed(*parts))


def image_seed(seed: int, index: int) -> int:
    """Image `index` of a seed: index 0 uses the seed itself, as a plain diffusers call would."""
    return seed if index == 0 else derive_seed("image", seed, index)


def seed_globals(*parts: int | str) -> int:
    """Seeds torch (every device), numpy's legacy global and Python's `random` from `parts`."""
    seed = derive_seed(*parts)
    torch.manual_seed(seed)  # also seeds every CUDA device
    np.random.seed(seed & 0xFFFFFFFF)
    random.seed(seed)
    return seed


@contextmanager
def seeded(*parts: int | str):
    """Runs a block with the global streams seeded from `parts`, then puts the previous streams back,
    so what comes after does not depend on how many numbers the block drew."""
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    np_state, py_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=devices):
        try:
            yield seed_globals(*parts)
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


def rng_record(seed: int | None = None) -> dict:
    """What provenance says about randomness: enough to know what a rerun must match."""
    record = {} if seed is None else {"seed": seed}
    return {
        **record,
        "derivation": "sha256 of 'seed:stream:step:...' (first 63 bits) per random stream",
        "torch": f"{torch.__version__}: CPU generators (mt19937); noise and latents drawn on CPU",
        "numpy": f"{np.__version__}: default_rng (PCG64) for sample order",
    }
