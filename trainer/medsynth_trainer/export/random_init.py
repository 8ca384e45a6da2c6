"""Seeded random weights that keep activations in a useful range through a deep network.

Default initialisations followed by untrained BatchNorm statistics make a 90-layer Inception
collapse to near-constant features, which would make every test trivially pass. So convolutions
get He-normal weights and BatchNorm layers get their running statistics measured on seeded
smooth random images (train-mode pass with cumulative averages), as a trained network's would be.
"""

import torch
import torch.nn as nn


def smooth_images(generator: torch.Generator, n: int, size: int) -> torch.Tensor:
    """n random RGB images in 0..255 with a natural-image-like spectrum: noise at several scales
    (4 to `size` pixels across), each octave upsampled and weighted by its scale."""
    out = torch.zeros(n, 3, size, size)
    for cells, weight in ((4, 1.0), (16, 0.5), (64, 0.25), (size, 0.125)):
        noise = torch.randn(n, 3, cells, cells, generator=generator)
        out += weight * nn.functional.interpolate(noise, size=(size, size), mode="bilinear", align_corners=False)
    return (128 + 48 * out).clamp(0, 255)


@torch.no_grad()
def init_random_weights(model: nn.Module, seed: int, calibrate: torch.Tensor | None = None) -> None:
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
            if module.bias is not None:
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
        elif isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative average over the calibration pass
            if module.affine:
                module.weight.fill_(1.0)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
        elif isinstance(module, nn.LayerNorm):
            module.weight.fill_(1.0)
            module.bias.zero_()
    if calibrate is not None:
        model.train()
        model(calibrate)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.1
    model.eval()
