"""Job files: JSON validated against the schemas generated from experiments/jobs.ts, defaults filled.

The TypeScript side normally sends resolved jobs; filling defaults here keeps hand-written jobs working.
"""

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .errors import BadInput

SCHEMA_DIR = Path(__file__).parent / "schemas"
KINDS = ("train", "generate", "classify")


@lru_cache
def schema_for(kind: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{kind}-job.schema.json").read_text())


def fill_defaults(schema: dict, value: Any) -> Any:
    """Returns `value` with every missing property that has a schema default filled in (recursively)."""
    if "oneOf" in schema or "anyOf" in schema:
        branch = _matching_branch(schema.get("oneOf") or schema.get("anyOf"), value)
        return fill_defaults(branch, value) if branch else value
    if schema.get("type") == "object" and isinstance(value, dict):
        filled = dict(value)
        for key, sub in schema.get("properties", {}).items():
            if key not in filled and "default" in sub:
                filled[key] = copy.deepcopy(sub["default"])
            if key in filled:
                filled[key] = fill_defaults(sub, filled[key])
        return filled
    if schema.get("type") == "array" and isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [fill_defaults(schema["items"], v) for v in value]
    return value


def _matching_branch(branches: list[dict], value: Any) -> dict | None:
    """The branch of a discriminated union whose `kind` const matches, else the first valid one."""
    if isinstance(value, dict):
        for branch in branches:
            const = branch.get("properties", {}).get("kind", {}).get("const")
            if const is not None and const == value.get("kind"):
                return branch
    return next((b for b in branches if Draft202012Validator(b).is_valid(value)), None)


def validate(kind: str, job: Any) -> dict:
    """The job with defaults filled; BadInput naming every problem if it does not fit the schema."""
    if kind not in KINDS:
        raise BadInput(f"unknown job kind {kind!r}")
    validator = Draft202012Validator(schema_for(kind))
    errors = sorted(validator.iter_errors(job), key=lambda e: list(e.absolute_path))
    if errors:
        raise BadInput(f"invalid {kind} job: " + "; ".join(_describe(e) for e in errors[:10]))
    job = fill_defaults(schema_for(kind), job)
    if kind == "generate" and job["shard"]["index"] >= job["shard"]["count"]:
        raise BadInput("invalid generate job: shard index must be below the shard count")
    return job


def _describe(error, prefix: tuple = ()) -> str:
    path = prefix + tuple(error.absolute_path)
    where = "/".join(str(p) for p in path) or "(job)"
    if error.validator == "oneOf" and isinstance(error.instance, dict):
        # Name the problems inside the branch the job meant (by its kind), not "is not valid under any".
        branch = _matching_branch(error.validator_value, error.instance)
        inner = list(Draft202012Validator(branch).iter_errors(error.instance)) if branch else []
        if inner:
            return "; ".join(_describe(e, path) for e in inner)
    return f"{where}: {error.message}"


def load(kind: str, spec_path: Path) -> dict:
    try:
        raw = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"job file not found: {spec_path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"job file {spec_path} is not readable JSON: {e}") from None
    return validate(kind, raw)
