"""Training examples and the batches drawn from them.

Which examples a micro-batch holds and every random number it uses are functions of
(seed, step, micro-batch, process rank), so a resumed run sees exactly what an uninterrupted one would.
"""

import logging
from pathlib import Path

import numpy as np
import torch

from .images import load_rgb, to_training_tensor

log = logging.getLogger(__name__)

CACHE_LATENTS_UP_TO = 5000  # images; above this they are encoded batch by batch instead
ENCODE_BATCH = 8


class SampleOrder:
    """An endless stream of example indices: a fresh permutation per epoch, seeded by (seed, epoch)."""

    def __init__(self, size: int, seed: int, stream: str):
        self.size, self.seed, self.stream = size, seed, stream
        self._epoch, self._perm = -1, np.arange(0)

    def at(self, positions: range) -> list[int]:
        out = []
        for position in positions:
            epoch, offset = divmod(position, self.size)
            if epoch != self._epoch:
                tag = int.from_bytes(self.stream.encode(), "little") % (1 << 32)
                self._perm = np.random.default_rng([self.seed, tag, epoch]).permutation(self.size)
                self._epoch = epoch
            out.append(int(self._perm[offset]))
        return out


class LatentSource:
    """VAE latents of the images. Small sets are encoded once and kept (mean and std on CPU, fp32);
    a latent is then sampled as mean + std * noise from the caller's generator, as the VAE would."""

    def __init__(self, paths: list[Path], vae, resolution: int, device: torch.device, cache: bool | None = None):
        self.paths, self.vae, self.resolution, self.device = paths, vae, resolution, device
        self.scaling = vae.config.scaling_factor
        self.cached = len(paths) <= CACHE_LATENTS_UP_TO if cache is None else cache
        self._mean: torch.Tensor | None = None
        self._std: torch.Tensor | None = None
        if self.cached:
            self._encode_all()

    def _pixels(self, indices: list[int]) -> torch.Tensor:
        return torch.stack([to_training_tensor(load_rgb(self.paths[i]), self.resolution) for i in indices])

    @torch.no_grad()
    def _moments(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        pixels = self._pixels(indices).to(self.device, dtype=self.vae.dtype)
        dist = self.vae.encode(pixels).latent_dist
        return dist.mean.float().cpu(), dist.std.float().cpu()

    def _encode_all(self) -> None:
        log.info("caching VAE latents of %d images", len(self.paths))
        means, stds = [], []
        for start in range(0, len(self.paths), ENCODE_BATCH):
            mean, std = self._moments(list(range(start, min(start + ENCODE_BATCH, len(self.paths)))))
            means.append(mean)
            stds.append(std)
        self._mean, self._std = torch.cat(means), torch.cat(stds)

    def latents(self, indices: list[int], generator: torch.Generator) -> torch.Tensor:
        if self.cached:
            mean, std = self._mean[indices], self._std[indices]
        else:
            mean, std = self._moments(indices)
        sample = mean + std * torch.randn(mean.shape, generator=generator)
        return (sample * self.scaling).to(self.device)


class PromptEncoder:
    """Text embeddings; kept per prompt while the text encoder is frozen (the same few prompts recur)."""

    def __init__(self, tokenizer, text_encoder, device: torch.device, trainable: bool):
        self.tokenizer, self.text_encoder, self.device, self.trainable = tokenizer, text_encoder, device, trainable
        self._cache: dict[str, torch.Tensor] = {}

    def ids(self, prompts: list[str]) -> torch.Tensor:
        return self.tokenizer(
            prompts,
            padding="max_length",
            max_length=self.tokenizer.model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids.to(self.device)

    def __call__(self, prompts: list[str]) -> torch.Tensor:
        if self.trainable:
            return self.text_encoder(self.ids(prompts))[0]
        for prompt in prompts:
            if prompt not in self._cache:
                # One prompt at a time: a batch's size changes the last bits, and the cache must not
                # depend on which prompts happened to be new together (resume would drift).
                with torch.no_grad():
                    self._cache[prompt] = self.text_encoder(self.ids([prompt]))[0][0]
        return torch.stack([self._cache[p] for p in prompts])
