"""Random streams derived from integers, so results depend on (seed, step, ...) and not on history.

That is what makes resume exact and keeps an image the same however the work is batched or sharded.
"""

import hashlib

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
