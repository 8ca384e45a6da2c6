"""A real CLIP tokenizer built offline from the BPE vocabulary that open-clip-torch ships.

The wheel is installed for this data file only (requirements/trainer-nodeps.txt, --no-deps):
open_clip itself is never imported, since it would import torchvision.
"""

import gzip
import importlib.util
import json
from functools import lru_cache
from pathlib import Path

VOCAB_SIZE = 49_408
NUM_MERGES = 48_894
BPE_FILE = "bpe_simple_vocab_16e6.txt.gz"


def bpe_vocab_path() -> Path:
    spec = importlib.util.find_spec("open_clip")  # locates the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "open-clip-torch is not installed: pip install --no-deps -r requirements/trainer-nodeps.txt"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / BPE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the open-clip-torch install")
    return path


@lru_cache
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from bytes to printable unicode characters."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes)))


def clip_vocab_and_merges() -> tuple[dict[str, int], list[str]]:
    """The vocabulary and merges exactly as CLIP's SimpleTokenizer derives them."""
    lines = gzip.open(bpe_vocab_path()).read().decode("utf-8").split("\n")
    merges = lines[1 : 49152 - 256 - 2 + 1]
    byte_chars = list(bytes_to_unicode().values())
    tokens = byte_chars + [c + "</w>" for c in byte_chars]
    tokens += ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    assert len(tokens) == VOCAB_SIZE and len(merges) == NUM_MERGES
    return {t: i for i, t in enumerate(tokens)}, merges


def write_clip_tokenizer(directory: Path) -> None:
    """Writes a CLIPTokenizer loadable with from_pretrained(directory), as in SD 1.x repos."""
    from transformers import CLIPTokenizer

    vocab, merges = clip_vocab_and_merges()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (directory / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    tokenizer = CLIPTokenizer.from_pretrained(directory, model_max_length=77)
    tokenizer.save_pretrained(directory)
