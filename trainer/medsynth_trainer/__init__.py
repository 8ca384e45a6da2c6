"""medsynth's trainer: Stable Diffusion fine-tuning and generation, driven by JSON job files.

TypeScript activities spawn `python -m medsynth_trainer train|generate --spec JOB.json --out DIR`
and read one JSON event per line from stdout (see events.py).
"""

__version__ = "0.1.0"
