"""sha256 of files and of directories (a directory's hash covers every file's path and bytes)."""

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(directory: Path) -> str:
    """Hash of the `sha256sum`-style manifest "<sha256>  <relative path>\\n" of all files, sorted by path."""
    directory = Path(directory)
    lines = [
        f"{sha256_file(p)}  {p.relative_to(directory).as_posix()}\n"
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    ]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def sha256_path(path: Path) -> str:
    return sha256_tree(path) if Path(path).is_dir() else sha256_file(path)


def sha256_json(value) -> str:
    import json

    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
