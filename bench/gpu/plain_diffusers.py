"""The references of bench/gpu_bench.py: what a user writes with plain diffusers, default settings.

train(): the LoRA loop of diffusers' examples/text_to_image/train_text_to_image_lora.py, without
accelerate: frozen modules in the precision's weight dtype, peft LoRA (gaussian init) on
to_q/to_k/to_v/to_out.0, LoRA parameters cast to fp32 (fp32 master weights: the example does so for
fp16; we do it for bf16 too), torch AdamW (its defaults: foreach on CUDA), constant LR, grad-norm
clipping at 1.0, and every step: VAE encode + text encode + UNet + MSE + backward + step, autocast
around the UNet (what accelerate's prepare() adds), GradScaler for fp16, loss.item() logged.
Images are preprocessed tensors held in memory (no DataLoader cost: generous to the reference).

generate(): StableDiffusionPipeline.from_pretrained(dir[, dtype=...]).to(device), called with the
prompts, a list of CPU generators, steps and guidance; returns PIL images, saved as PNG.
The progress bar is disabled (it only prints) and the model directory has no safety checker.
"""

import time
from pathlib import Path

import torch
import torch.nn.functional as F

TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def train(model_dir, pixels, prompts, *, precision, batch, rank, steps, device, lr=1e-4) -> dict:
    """Runs `steps` optimisation steps; returns the monotonic time after each step and the losses."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from diffusers.optimization import get_scheduler
    from diffusers.training_utils import cast_training_params
    from peft import LoraConfig
    from transformers import CLIPTextModel, CLIPTokenizer

    t0 = time.monotonic()
    tokenizer = CLIPTokenizer.from_pretrained(model_dir, subfolder="tokenizer")
    noise_scheduler = DDPMScheduler.from_pretrained(model_dir, subfolder="scheduler")
    text_encoder = CLIPTextModel.from_pretrained(model_dir, subfolder="text_encoder")
    vae = AutoencoderKL.from_pretrained(model_dir, subfolder="vae")
    unet = UNet2DConditionModel.from_pretrained(model_dir, subfolder="unet")
    for module in (unet, vae, text_encoder):
        module.requires_grad_(False)
    weight_dtype = DTYPES[precision]
    unet.to(device, dtype=weight_dtype)
    vae.to(device, dtype=weight_dtype)
    text_encoder.to(device, dtype=weight_dtype)
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian", target_modules=TARGETS))
    if precision != "fp32":
        cast_training_params(unet, dtype=torch.float32)
    params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), weight_decay=1e-2, eps=1e-8)
    lr_scheduler = get_scheduler("constant", optimizer=optimizer, num_warmup_steps=0, num_training_steps=steps)
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
    input_ids = tokenizer(
        prompts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids
    unet.train()
    load_s = time.monotonic() - t0

    stamps, losses = [], []
    count = pixels.shape[0]
    for step in range(steps):
        rows = [(step * batch + k) % count for k in range(batch)]
        pixel_values = pixels[rows].to(device, dtype=weight_dtype)
        latents = vae.encode(pixel_values).latent_dist.sample() * vae.config.scaling_factor
        noise = torch.randn_like(latents)
        timesteps = torch.randint(
            0, noise_scheduler.config.num_train_timesteps, (latents.shape[0],), device=latents.device
        ).long()
        noisy_latents = noise_scheduler.add_noise(latents, noise, timesteps)
        encoder_hidden_states = text_encoder(input_ids[rows].to(device), return_dict=False)[0]
        with torch.autocast(device.type, dtype=weight_dtype, enabled=precision != "fp32"):
            model_pred = unet(noisy_latents, timesteps, encoder_hidden_states, return_dict=False)[0]
        loss = F.mse_loss(model_pred.float(), noise.float(), reduction="mean")
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        stamps.append(time.monotonic())
    return {"stamps": stamps, "losses": losses, "load_s": load_s, "weight_dtype": precision}


def generate(model_dir, *, dtype, device, batches, steps, guidance, width, height, out_dir: Path) -> dict:
    """`batches`: lists of (prompt, generator seed). Returns the monotonic time after each batch (its
    PNGs written) and the first batch's images as uint8 arrays."""
    import numpy as np
    from diffusers import StableDiffusionPipeline

    t0 = time.monotonic()
    kwargs = {} if dtype == torch.float32 else {"dtype": dtype}  # dtype= is diffusers 0.42's torch_dtype=
    pipe = StableDiffusionPipeline.from_pretrained(model_dir, **kwargs).to(device)
    pipe.set_progress_bar_config(disable=True)
    load_s = time.monotonic() - t0
    out_dir.mkdir(parents=True, exist_ok=True)
    stamps, first = [], None
    for b, chunk in enumerate(batches):
        generators = [torch.Generator("cpu").manual_seed(seed) for _, seed in chunk]
        images = pipe(
            prompt=[prompt for prompt, _ in chunk],
            generator=generators,
            num_inference_steps=steps,
            guidance_scale=guidance,
            width=width,
            height=height,
        ).images
        for k, image in enumerate(images):
            image.save(out_dir / f"{b:03d}-{k:02d}.png")
        if first is None:
            first = [np.asarray(image.convert("RGB")) for image in images]
        stamps.append(time.monotonic())
    del pipe
    return {"stamps": stamps, "first": first, "load_s": load_s}
