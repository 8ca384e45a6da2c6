"""LoRA adapters through peft, saved in the diffusers format that `pipe.load_lora_weights(dir)` reads."""

import json
import struct
from pathlib import Path

from .errors import BadInput

TEXT_ENCODER_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]
LORA_FILE = "pytorch_lora_weights.safetensors"


def lora_config(method: dict, targets: list[str]):
    from peft import LoraConfig

    return LoraConfig(
        r=method["rank"],
        lora_alpha=method.get("alpha") or method["rank"],
        lora_dropout=method["dropout"],
        init_lora_weights="gaussian",  # B = 0: training starts from the base model's exact output
        target_modules=targets,
    )


def add_lora(unet, text_encoder, method: dict) -> None:
    try:
        unet.add_adapter(lora_config(method, method["targets"]))
    except ValueError as e:
        raise BadInput(f"LoRA targets {method['targets']} do not fit the UNet: {e}") from None
    if method["trainTextEncoder"]:
        text_encoder.add_adapter(lora_config(method, TEXT_ENCODER_TARGETS))


def adapter_metadata(model) -> dict:
    """The LoRA config as stored in the file: sets sorted and no local paths, so the same training
    gives the same bytes (and sha256) wherever it runs."""
    config = model.peft_config["default"].to_dict()
    config = {k: sorted(v) if isinstance(v, set) else v for k, v in config.items()}
    config["base_model_name_or_path"] = None
    return config


def save_lora(directory: Path, unet, text_encoder=None) -> Path:
    """Writes <directory>/pytorch_lora_weights.safetensors (with the adapter configs as metadata, so a
    loader sees the right alpha) and returns its path."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    def layers(model):
        # save_embedding_layers=False: LoRA never touches the vocabulary (and "auto" probes the hub).
        return convert_state_dict_to_diffusers(get_peft_model_state_dict(model, save_embedding_layers=False))

    with_text_encoder = text_encoder is not None and getattr(text_encoder, "peft_config", None)
    StableDiffusionPipeline.save_lora_weights(
        directory,
        unet_lora_layers=layers(unet),
        text_encoder_lora_layers=layers(text_encoder) if with_text_encoder else None,
        unet_lora_adapter_metadata=adapter_metadata(unet),
        text_encoder_lora_adapter_metadata=adapter_metadata(text_encoder) if with_text_encoder else None,
        safe_serialization=True,
    )
    file = Path(directory) / LORA_FILE
    sort_safetensors_metadata(file)
    return file


def sort_safetensors_metadata(file: Path) -> None:
    """safetensors writes the __metadata__ keys in a random order (a Rust HashMap), so the same
    weights would get a different sha256 on every save. Rewrite the header with sorted keys, in place:
    the same bytes, reordered, so the header length and the tensor offsets do not change."""
    with open(file, "r+b") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        if len(header.get("__metadata__") or {}) < 2:
            return
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
        canonical = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
        if len(canonical) <= length:
            f.seek(8)
            f.write(canonical + b" " * (length - len(canonical)))
