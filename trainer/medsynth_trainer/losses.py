"""The denoising loss, with min-SNR weighting and DreamBooth's prior-preservation term."""

import torch
import torch.nn.functional as F


def target_for(noise_scheduler, latents, noise, timesteps):
    kind = noise_scheduler.config.prediction_type
    if kind == "epsilon":
        return noise
    if kind == "v_prediction":
        return noise_scheduler.get_velocity(latents, noise, timesteps)
    raise ValueError(f"unsupported prediction type {kind}")


def min_snr_weights(noise_scheduler, timesteps, gamma: float) -> torch.Tensor:
    """Hang et al. 2023: weight min(SNR, gamma)/SNR (epsilon) or min(SNR, gamma)/(SNR + 1) (v)."""
    from diffusers.training_utils import compute_snr

    snr = compute_snr(noise_scheduler, timesteps)
    clipped = torch.clamp(snr, max=gamma)
    if noise_scheduler.config.prediction_type == "v_prediction":
        return clipped / (snr + 1)
    return clipped / snr


def denoising_loss(prediction, target, *, weights=None, prior_weight: float | None = None):
    """Mean squared error per sample (in fp32). With `prior_weight`, the batch's second half holds class
    images: loss = instance loss + prior_weight * prior loss."""
    per_sample = F.mse_loss(prediction.float(), target.float(), reduction="none").mean(dim=[1, 2, 3])
    if weights is not None:
        per_sample = per_sample * weights
    if prior_weight is None:
        return per_sample.mean()
    instance, prior = per_sample.chunk(2)
    return instance.mean() + prior_weight * prior.mean()
