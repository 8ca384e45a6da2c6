"""Checks that a train job can start, before torch and diffusers are imported (several seconds):
a bad data file or a missing base model fails at once."""

import json
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from . import base_model
from .errors import BadInput


@dataclass(frozen=True)
class Example:
    path: Path
    prompt: str


@dataclass(frozen=True)
class TrainInputs:
    model: base_model.BaseModel
    examples: list[Example]


def check_train(job: dict) -> TrainInputs:
    method = job["method"]
    if method["kind"] == "dreambooth-lora" and method["priorPreservation"] and not method.get("classPrompt"):
        raise BadInput("dreambooth-lora with priorPreservation needs a classPrompt")
    examples = read_examples(Path(job["data"]["file"]))
    return TrainInputs(base_model.resolve(job["baseModel"]), examples)


def read_examples(file: Path) -> list[Example]:
    """JSON lines of {"path", "prompt"}; relative image paths are taken from the file's folder.
    Every image is opened and verified here, so an unreadable one fails the job before training."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read training data file {file}: {e}") from None
    examples = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            path, prompt = row["path"], row["prompt"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise BadInput(f'{file}:{number}: expected a JSON object with "path" and "prompt"') from None
        if not isinstance(path, str) or not isinstance(prompt, str):
            raise BadInput(f"{file}:{number}: path and prompt must be strings")
        image = Path(path) if Path(path).is_absolute() else file.parent / path
        _verify_image(image, f"{file}:{number}")
        examples.append(Example(image, prompt))
    if not examples:
        raise BadInput(f"training data file {file} has no examples")
    return examples


def _verify_image(path: Path, where: str) -> None:
    if not path.is_file():
        raise BadInput(f"{where}: training image not found: {path}")
    try:
        with Image.open(path) as image:
            image.verify()
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise BadInput(f"{where}: cannot read training image {path}: {e}") from None
