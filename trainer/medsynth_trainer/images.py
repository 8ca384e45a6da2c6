"""Reading training images and writing generated PNGs (with provenance in tEXt chunks)."""

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin

from .errors import BadInput

Image.MAX_IMAGE_PIXELS = 40_000_000  # same decompression-bomb guard as ingestion's default


def load_rgb(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise BadInput(f"cannot read training image {path}: {e}") from None


def to_training_tensor(image: Image.Image, resolution: int) -> torch.Tensor:
    """Shorter side resized to `resolution`, centre crop, CHW float in [-1, 1]."""
    width, height = image.size
    scale = resolution / min(width, height)
    size = (max(resolution, round(width * scale)), max(resolution, round(height * scale)))
    image = image.resize(size, Image.Resampling.BICUBIC)
    left, top = (size[0] - resolution) // 2, (size[1] - resolution) // 2
    image = image.crop((left, top, left + resolution, top + resolution))
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


def decoded_to_uint8(decoded: torch.Tensor) -> np.ndarray:
    """VAE output in [-1, 1] (NCHW) to NHWC uint8, rounded as diffusers does."""
    images = (decoded.float() / 2 + 0.5).clamp(0, 1)
    return (images.permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)


def write_png(path: Path, pixels: np.ndarray, text: dict[str, str]) -> None:
    """Atomic write (temp file + rename), so an interrupted job never leaves a half image behind."""
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_itxt(key, value) if not value.isascii() else info.add_text(key, value)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(pixels).save(tmp, format="PNG", pnginfo=info)
    os.replace(tmp, path)
