"""Denoise-and-decode shared by generation, class images and validation images."""

from contextlib import nullcontext

import numpy as np
import torch

from .images import decoded_to_uint8
from .seeds import generator as derived_generator


def pipeline_from_modules(tokenizer, text_encoder, vae, unet, scheduler):
    """A StableDiffusionPipeline around modules already in memory (no second copy of any weights)."""
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


@torch.no_grad()
def render(
    pipe,
    prompts: list[str],
    generators: list[torch.Generator],
    *,
    negative_prompt: str = "",
    steps: int,
    guidance: float,
    width: int,
    height: int,
    pad_to: int = 0,
    autocast=None,
) -> np.ndarray:
    """uint8 NHWC images, one per prompt, each drawn from its own generator.

    The batch is padded to `pad_to` with throw-away items: the batch size changes the last bits of
    the result, so a fixed size makes an image independent of what else shares its batch.
    The VAE decodes outside any autocast, in its own dtype (fp32 avoids black/NaN images).
    """
    count = len(prompts)
    if pad_to > count:
        prompts = prompts + [prompts[-1]] * (pad_to - count)
        generators = generators + [derived_generator("padding", i) for i in range(pad_to - count)]
    with autocast or nullcontext():
        latents = pipe(
            prompt=prompts,
            negative_prompt=[negative_prompt] * len(prompts) if negative_prompt else None,
            num_inference_steps=steps,
            guidance_scale=guidance,
            width=width,
            height=height,
            generator=generators,
            output_type="latent",
        ).images
    vae = pipe.vae
    decoded = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor).sample
    return decoded_to_uint8(decoded[:count])
