"""The generate job: prompts x seeds x imagesPerPrompt, batched, sharded and resumable.

Every image is a function of its inputs only: its own generator (seeds.image_seed), batches padded
to one fixed size (sampling.render), and a file name that hashes all inputs, including the weights,
so a retried or re-sharded job skips what already exists and never mixes up models.
"""

import json
import logging
import platform
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from . import __version__, base_model, stopping
from .devices import describe, inference_dtype, pick_device, tune_cpu_threads
from .errors import BadInput
from .events import EventStream
from .hashing import sha256_file, sha256_json, sha256_tree
from .images import write_png
from .sampling import render
from .schedulers import make_scheduler
from .seeds import rng_record, seed_globals

log = logging.getLogger(__name__)

PROVENANCE_FILE = "provenance.jsonl"
LIBRARIES = ("torch", "diffusers", "transformers", "peft", "accelerate", "safetensors")


@dataclass(frozen=True)
class Item:
    prompt_index: int
    prompt: str
    seed: int
    index: int


def all_items(generation: dict) -> list[Item]:
    """The job's deterministic list of images; shards take every count-th item from it."""
    return [
        Item(p, prompt, seed, index)
        for p, prompt in enumerate(generation["prompts"])
        for seed in generation["seeds"]
        for index in range(generation["imagesPerPrompt"])
    ]


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "medsynth_trainer": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            pass
    return versions


def _lora_file(spec: dict | None) -> Path | None:
    if not spec:
        return None
    path = Path(spec["path"])
    if path.is_dir():
        path = path / "pytorch_lora_weights.safetensors"
    if not path.is_file():
        raise BadInput(f"LoRA weights not found: {spec['path']}")
    _check_safetensors(path)
    return path


def _check_safetensors(path: Path) -> None:
    """LoRA weights are read only as safetensors (no pickle, no code run), and refused as bad input,
    before any model loads, when the name or the bytes say otherwise."""
    from safetensors import SafetensorError, safe_open

    if path.suffix.lower() != ".safetensors":
        raise BadInput(f"LoRA {path.name}: only .safetensors weights are loaded ({path.suffix or 'no extension'} may be a pickle, which runs code)")
    try:
        with safe_open(str(path), framework="pt") as f:
            f.keys()
    except (SafetensorError, OSError, ValueError) as e:
        raise BadInput(f"LoRA {path.name}: not a readable safetensors file ({e})") from None


def _unet_dir(path: str | None) -> Path | None:
    if path is None:
        return None
    if not (Path(path) / "config.json").is_file():
        raise BadInput(f"UNet directory not found (no config.json): {path}")
    return Path(path)


def run_generate(job: dict, out: Path, events: EventStream, compile_unet: bool = False) -> dict:
    t0 = time.monotonic()
    gen, shard = job["generation"], job["shard"]
    # Every image has its own generator; the global streams are seeded too, for anything a scheduler draws.
    seed_globals("generate", *gen["seeds"])
    width = gen.get("width") or job["baseModel"]["resolution"]
    height = gen.get("height") or job["baseModel"]["resolution"]
    if width % 8 or height % 8:
        raise BadInput(f"width and height must be multiples of 8 (got {width}x{height})")
    device = pick_device(job["device"])
    tune_cpu_threads(job["baseModel"]["id"], device)
    lora_file, unet_dir = _lora_file(job.get("lora")), _unet_dir(job.get("unet"))
    model = base_model.resolve(job["baseModel"])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    items = all_items(gen)
    mine = [item for i, item in enumerate(items) if i % shard["count"] == shard["index"]]
    batch = min(gen["batchSize"], len(items))  # the same in every shard
    dtype = inference_dtype(device)
    setup = {
        "baseModel": {"id": model.id, "revision": model.revision, "weights": model.weight_hashes()},
        "lora": {"sha256": sha256_file(lora_file), "scale": job["lora"]["scale"]} if lora_file else None,
        "unet": {"sha256": sha256_tree(unet_dir)} if unet_dir else None,
        "scheduler": gen["scheduler"],
        "steps": gen["steps"],
        "guidance": gen["guidance"],
        "width": width,
        "height": height,
        "negativePrompt": gen["negativePrompt"],
        "batchSize": batch,
        "dtype": str(dtype).removeprefix("torch."),
        "device": device.type,
    }

    def file_for(item: Item) -> Path:
        key = {**setup, "prompt": item.prompt, "seed": item.seed, "index": item.index}
        return out / f"{sha256_json(key)[:24]}.png"

    provenance = _Provenance(out / PROVENANCE_FILE, job, setup, lora_file, unet_dir, device)
    events.emit("started", job="generate", device=describe(device), total=len(mine))
    todo = []
    for item in mine:
        path = file_for(item)
        if path.is_file():
            sha = provenance.add_row(item, path)  # a no-op unless the previous attempt died before it
            events.emit("artifact", path=str(path), sha256=sha, kind="image", meta={**_meta(item), "reused": True})
        else:
            todo.append(item)
    done = len(mine) - len(todo)
    if done:
        log.info("%d of %d images already present: skipped", done, len(mine))
        events.emit("progress", step=done, total=len(mine), its=0.0)

    if todo:
        pipe = _load_pipeline(
            model, lora_file, job.get("lora"), unet_dir, gen["scheduler"], device, dtype, compile_unet
        )
        t_loop = time.monotonic()
        from .seeds import image_seed

        with stopping.polled():
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                generators = [torch.Generator("cpu").manual_seed(image_seed(it.seed, it.index)) for it in chunk]
                pixels = render(
                    pipe,
                    [it.prompt for it in chunk],
                    generators,
                    negative_prompt=gen["negativePrompt"],
                    steps=gen["steps"],
                    guidance=gen["guidance"],
                    width=width,
                    height=height,
                    pad_to=batch,
                )
                for item, image in zip(chunk, pixels):
                    path = file_for(item)
                    write_png(path, image, _png_text(job, item, gen))
                    sha = provenance.add_row(item, path)
                    events.emit("artifact", path=str(path), sha256=sha, kind="image", meta=_meta(item))
                done += len(chunk)
                made = start + len(chunk)
                events.emit("progress", step=done, total=len(mine), its=made / max(time.monotonic() - t_loop, 1e-9))
                if stopping.requested() and done < len(mine):
                    raise stopping.interrupted(f"stopped after {done} of {len(mine)} images; rerun to continue")

    provenance_sha = sha256_file(provenance.path) if provenance.path.is_file() else None
    events.emit("artifact", path=str(provenance.path), sha256=provenance_sha, kind="provenance")
    summary = {
        "job": "generate",
        "runId": job["runId"],
        "images": len(mine),
        "generated": len(todo),
        "reused": len(mine) - len(todo),
        "shard": shard,
        "provenance": str(provenance.path),
        "seconds": round(time.monotonic() - t0, 3),
        "device": describe(device),
    }
    events.emit("done", **summary)
    return summary


def _meta(item: Item) -> dict:
    return {"prompt": item.prompt, "promptIndex": item.prompt_index, "seed": item.seed, "index": item.index}


def _png_text(job: dict, item: Item, gen: dict) -> dict[str, str]:
    return {
        "medsynth:synthetic": "true",
        "medsynth:run_id": job["runId"],
        "medsynth:prompt": item.prompt,
        "medsynth:negative_prompt": gen["negativePrompt"],
        "medsynth:seed": str(item.seed),
        "medsynth:index": str(item.index),
        "medsynth:base_model": job["baseModel"]["id"],
        "Software": f"medsynth_trainer {__version__}",
    }


def _load_pipeline(model, lora_file, lora_spec, unet_dir, scheduler, device, dtype, compile_unet):
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel

    extra = {}
    if unet_dir is not None:
        extra["unet"] = UNet2DConditionModel.from_pretrained(unet_dir, dtype=dtype)
    pipe = StableDiffusionPipeline.from_pretrained(
        model.path,
        dtype=dtype,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
        **extra,
    )
    pipe.scheduler = make_scheduler(scheduler, pipe.scheduler.config)
    if lora_file is not None:
        check_lora_fits(pipe, lora_file)
        try:
            pipe.load_lora_weights(str(lora_file.parent), weight_name=lora_file.name)
        except (ValueError, KeyError, OSError) as e:
            raise BadInput(f"cannot load LoRA {lora_file}: {e}") from None
        # Fused: the speed of the plain model; unfused layers would run two extra matmuls each.
        pipe.fuse_lora(lora_scale=lora_spec["scale"])
        pipe.unload_lora_weights()
    if pipe.vae.dtype != torch.float32:
        pipe.vae.to(dtype=torch.float32)  # fp16/bf16 VAEs give black or NaN images
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    if device.type == "cuda":
        pipe.unet.to(memory_format=torch.channels_last)
        if compile_unet:
            pipe.unet = torch.compile(pipe.unet)
    elif compile_unet:
        log.info("--compile is ignored on CPU")
    return pipe


_LORA_SUFFIXES = {
    ".lora.down.weight": "down",
    ".lora_linear_layer.down.weight": "down",
    ".lora_A.weight": "down",
    ".lora.up.weight": "up",
    ".lora_linear_layer.up.weight": "up",
    ".lora_B.weight": "up",
}


def check_lora_fits(pipe, lora_file: Path) -> None:
    """Every tensor of the LoRA must name a Linear or Conv2d module of the base model's UNet (or
    text encoder) and have the shape that module takes: a LoRA made for another model is refused
    by name, not loaded half-way. Reads the file with safetensors only (no pickle, no code)."""
    from safetensors import safe_open

    towers = {"unet": pipe.unet, "text_encoder": pipe.text_encoder}
    with safe_open(str(lora_file), framework="pt") as f:
        for key in f.keys():
            if key.endswith(".alpha"):
                continue
            tower, _, rest = key.partition(".")
            suffix = next((s for s in _LORA_SUFFIXES if rest.endswith(s)), None)
            if tower not in towers or suffix is None:
                raise BadInput(f"LoRA tensor {key!r} is not a diffusers LoRA key (unet.<module>.lora.down/up.weight)")
            module_name = rest[: -len(suffix)]
            try:
                module = towers[tower].get_submodule(module_name)
            except AttributeError:
                raise BadInput(f"LoRA tensor {key!r}: the base model has no module {tower}.{module_name}: a LoRA for another model") from None
            weight = getattr(module, "weight", None)
            if weight is None or weight.dim() not in (2, 4):
                raise BadInput(f"LoRA tensor {key!r}: {tower}.{module_name} is not a linear or convolution layer")
            shape = list(f.get_slice(key).get_shape())
            out_features, in_features = weight.shape[0], weight.shape[1]
            side = _LORA_SUFFIXES[suffix]
            fits = len(shape) in (2, 4) and (shape[1] == in_features if side == "down" else shape[0] == out_features)
            if not fits:
                expected = f"[rank, {in_features}]" if side == "down" else f"[{out_features}, rank]"
                raise BadInput(f"LoRA tensor {key!r} has shape {shape}; {tower}.{module_name} takes {expected}: a LoRA for another model")


class _Provenance:
    """<out>/provenance.jsonl: one row per image file ("path" relative to <out>), appended as each
    PNG is written."""

    def __init__(self, path: Path, job: dict, setup: dict, lora_file, unet_dir, device):
        self.path, self.job, self.setup = path, job, setup
        self.common = {
            "runId": job["runId"],
            "baseModel": setup["baseModel"],
            "lora": {**setup["lora"], "path": str(lora_file)} if lora_file else None,
            "unet": {**setup["unet"], "path": str(unet_dir)} if unet_dir else None,
            **{
                k: setup[k]
                for k in ("scheduler", "steps", "guidance", "width", "height", "negativePrompt", "batchSize", "dtype")
            },
            "device": describe(device),
            "versions": library_versions(),
            "rng": rng_record(),  # each row has its seed and imageSeed
        }
        self.files = set()
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    self.files.add(json.loads(line)["path"])
                except (json.JSONDecodeError, KeyError):
                    continue

    def add_row(self, item: Item, image: Path) -> str:
        """Appends the image's row unless the file already has one (a deleted image made again is
        the same image: one row per file, whatever the retries)."""
        from .seeds import image_seed

        sha = sha256_file(image)
        if image.name in self.files:
            return sha
        row = {
            "path": image.name,
            "image_sha256": sha,
            **_meta(item),
            "imageSeed": image_seed(item.seed, item.index),
            **self.common,
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.files.add(image.name)
        return sha
