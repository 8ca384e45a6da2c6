"""Validation images during training, drawn with the modules being trained (no second pipeline)."""

from pathlib import Path

from .hashing import sha256_file
from .images import write_png
from .sampling import pipeline_from_modules, render
from .schedulers import make_scheduler
from .seeds import generator

IMAGES, STEPS, GUIDANCE = 2, 25, 7.5


def write_validation_images(
    out: Path, step: int, modules: dict, prompt: str, seed: int, resolution: int, events, autocast=None
) -> None:
    unet, text_encoder = modules["unet"], modules["text_encoder"]
    was_training = unet.training, text_encoder.training
    unet.eval()
    text_encoder.eval()
    try:
        pipe = pipeline_from_modules(
            modules["tokenizer"],
            text_encoder,
            modules["vae"],
            unet,
            make_scheduler("dpm++", modules["noise_scheduler"].config),
        )
        pixels = render(
            pipe,
            [prompt] * IMAGES,
            [generator("validation", seed, i) for i in range(IMAGES)],
            steps=STEPS,
            guidance=GUIDANCE,
            width=resolution,
            height=resolution,
            autocast=autocast,
        )
    finally:
        unet.train(was_training[0])
        text_encoder.train(was_training[1])
    folder = Path(out) / "validation"
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(pixels):
        path = folder / f"step-{step:08d}-{i}.png"
        write_png(path, image, {"medsynth:synthetic": "true", "medsynth:purpose": "validation", "prompt": prompt})
        events.emit(
            "artifact",
            path=str(path),
            sha256=sha256_file(path),
            kind="validation-image",
            meta={"step": step, "prompt": prompt, "index": i},
        )
