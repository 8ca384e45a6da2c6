"""Where a job's base model lives: the tiny preset, a local diffusers directory, or a hub id.

Hub models are fetched once with diffusers' own download (safetensors, no safety checker) and then
loaded from that local snapshot, so every later step reads one directory whose files we can hash.
"""

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BadInput
from .hashing import sha256_file

log = logging.getLogger(__name__)

WEIGHT_SUFFIXES = (".safetensors", ".bin")
WEIGHT_FOLDERS = ("unet", "vae", "text_encoder")


@dataclass
class BaseModel:
    id: str
    revision: str | None
    path: Path
    _hashes: dict[str, str] | None = field(default=None, repr=False)

    def weight_hashes(self) -> dict[str, str]:
        """sha256 of each weight file, keyed by its path inside the model directory."""
        if self._hashes is None:
            files = [
                p
                for folder in WEIGHT_FOLDERS
                for p in sorted((self.path / folder).glob("*"))
                if p.name.endswith(WEIGHT_SUFFIXES)
            ]
            self._hashes = {p.relative_to(self.path).as_posix(): sha256_file(p) for p in files}
        return self._hashes

    def describe(self) -> dict:
        return {"id": self.id, "revision": self.revision, "path": str(self.path), "weights": self.weight_hashes()}


def resolve(spec: dict) -> BaseModel:
    model_id, revision = spec["id"], spec.get("revision")
    if model_id == "tiny":
        from .tiny_model import ensure_tiny_model

        return BaseModel("tiny", None, ensure_tiny_model())
    local = Path(model_id).expanduser()
    if local.exists() or _looks_like_path(model_id):
        return BaseModel(model_id, revision, _checked_local_dir(local, model_id))
    return BaseModel(model_id, revision, _download(model_id, revision))


def _looks_like_path(model_id: str) -> bool:
    # Hub ids are "name" or "owner/name"; anything else with a separator is meant as a path.
    return model_id.startswith((".", "/", "~")) or "\\" in model_id or model_id.count("/") > 1


def _checked_local_dir(path: Path, model_id: str) -> Path:
    if not path.is_dir():
        raise BadInput(f"base model path not found: {model_id} (not a directory)")
    index = path / "model_index.json"
    if not index.is_file():
        raise BadInput(f"base model path {model_id} is not a diffusers pipeline directory (no model_index.json)")
    _reject_unsupported(json.loads(index.read_text()), model_id)
    return path.resolve()


def _download(model_id: str, revision: str | None) -> Path:
    from diffusers import DiffusionPipeline

    try:
        path = Path(
            DiffusionPipeline.download(model_id, revision=revision, safety_checker=None, feature_extractor=None)
        )
    except (OSError, ValueError) as e:
        offline = " (HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE") else ""
        raise BadInput(
            f"base model {model_id!r}{f' at revision {revision}' if revision else ''} is neither a local "
            f"directory nor available from the Hugging Face hub{offline}: {str(e).splitlines()[0]}"
        ) from None
    _reject_unsupported(json.loads((path / "model_index.json").read_text()), model_id)
    return path


def _reject_unsupported(index: dict, model_id: str) -> None:
    if "text_encoder_2" in index or "transformer" in index:
        raise BadInput(f"base model {model_id} ({index.get('_class_name')}) is not supported: SD 1.x/2.x only")
    missing = [c for c in ("unet", "vae", "text_encoder", "tokenizer", "scheduler") if c not in index]
    if missing:
        raise BadInput(f"base model {model_id} lacks components {missing}")


def load_training_components(model: BaseModel):
    """tokenizer, text encoder, VAE, UNet and the DDPM noise scheduler, all in fp32 on CPU."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer

    path = model.path
    return {
        "tokenizer": CLIPTokenizer.from_pretrained(path, subfolder="tokenizer"),
        "text_encoder": CLIPTextModel.from_pretrained(path, subfolder="text_encoder"),
        "vae": AutoencoderKL.from_pretrained(path, subfolder="vae"),
        "unet": UNet2DConditionModel.from_pretrained(path, subfolder="unet"),
        "noise_scheduler": DDPMScheduler.from_pretrained(path, subfolder="scheduler"),
    }
