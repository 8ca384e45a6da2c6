"""The "tiny" base model: a Stable Diffusion 1.x layout with small random weights, for CPUs and tests.

Built once from configs under a fixed seed and saved with save_pretrained, so training and generation
load it through the same from_pretrained(path) code as real weights. The tokenizer is CLIP's real one.
Where it lives: $MEDSYNTH_TINY_MODEL_DIR, else ~/.cache/medsynth/tiny-sd-v1 ($XDG_CACHE_HOME honoured).
"""

import logging
import os
import shutil
import tempfile
from pathlib import Path

from .clip_tokenizer import VOCAB_SIZE, write_clip_tokenizer

log = logging.getLogger(__name__)

PRESET_VERSION = 1  # bump when the configs below change, so stale caches are not reused
SEED = 0
# SD 1.5's scheduler/scheduler_config.json (the tiny preset and the GPU benchmark share it)
SD15_SCHEDULER = dict(
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    num_train_timesteps=1000,
    set_alpha_to_one=False,
    skip_prk_steps=True,
    steps_offset=1,
)


def default_tiny_dir() -> Path:
    explicit = os.environ.get("MEDSYNTH_TINY_MODEL_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return (cache / "medsynth" / f"tiny-sd-v{PRESET_VERSION}").resolve()


def ensure_tiny_model(directory: Path | None = None) -> Path:
    """Returns the tiny model's directory, building it first if needed (safe against concurrent builders)."""
    directory = Path(directory or default_tiny_dir())
    if (directory / "model_index.json").is_file():
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tiny-sd-", dir=directory.parent))
    try:
        log.info("building the tiny base model in %s", directory)
        build_tiny_pipeline().save_pretrained(staging, safe_serialization=True)
        write_clip_tokenizer(staging / "tokenizer")  # adds vocab.json + merges.txt, as SD repos have them
        try:
            staging.rename(directory)
        except OSError:
            if not (directory / "model_index.json").is_file():  # another process did not win the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def build_tiny_pipeline():
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel

    from .sampling import pipeline_from_modules
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=16,
    )
    # Four blocks keep SD's 8x downsampling, so resolutions mean what they mean for real models.
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(16, 32, 32, 32),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=64,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=VOCAB_SIZE,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            projection_dim=32,
            bos_token_id=49406,
            eos_token_id=49407,
            pad_token_id=49407,
        )
    )
    scheduler = PNDMScheduler(**SD15_SCHEDULER)
    from transformers import CLIPTokenizer

    tokenizer_dir = Path(tempfile.mkdtemp(prefix="tiny-tokenizer-"))
    try:
        write_clip_tokenizer(tokenizer_dir)
        tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir)
    finally:
        shutil.rmtree(tokenizer_dir, ignore_errors=True)
    return pipeline_from_modules(tokenizer, text_encoder, vae, unet, scheduler)
