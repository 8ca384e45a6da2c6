#!/usr/bin/env python3
"""GPU benchmark of medsynth_trainer against plain diffusers, Stable Diffusion 1.5 with random weights.

Run it through bench/gpu.sh (which installs the carried wheels, sets PYTHONPATH and a hard time limit):
    bash bench/gpu.sh                    on the GPU machine (device tool: carry [".whl"], timeout_s 540)
    bash bench/gpu.sh --smoke            here on the CPU: same code paths, tiny model, 64 px, a few steps
    python3 bench/gpu_bench.py --help    options (--budget, --phases, --results, --work, --commit)

What it does
  setup     builds the SD 1.5 architecture (UNet 860M, VAE 84M, CLIP ViT-L/14 text encoder 123M; configs
            below) with random weights under a fixed seed, saved with save_pretrained as a local diffusers
            directory with the real CLIP tokenizer (trainer's clip_tokenizer, open-clip's BPE file), so
            both sides load it through from_pretrained; 16 training images (512 px PNG) + a JSONL file.
  train     LoRA r16 (to_q, to_k, to_v, to_out.0), 512 px, batch 4, AdamW lr 1e-4, constant LR.
            ours:      medsynth_trainer.train.run_train (its Python entry point, what the CLI calls) on a
                       validated job: bf16 mixed precision (the schema's default), frozen modules bf16,
                       VAE fp32, LoRA weights fp32, cached latents and text embeddings.
            reference: bench/gpu/plain_diffusers.train, the train_text_to_image_lora.py loop, in fp16
                       autocast + GradScaler (HEADLINE: what people run), fp32 (the example's default,
                       mixed_precision=None) and bf16 when time allows.
            Steady state: it/s over the steps after the first W (W = warm-up, model load excluded), from
            the trainer's progress events' arrival times and the reference's per-step times.
  generate  512 px, 30 steps, batch 8, guidance 7.5, PNDM (SD 1.5's own scheduler, so the reference is
            untouched), 8 seeds per prompt, PNGs written on both sides.
            ours:         medsynth_trainer.generate.run_generate in-process (bf16, SDPA, channels_last,
                          fp32 VAE decode, PNG + provenance), the default path (no --compile): HEADLINE.
            ours-compile: `python -m medsynth_trainer generate --compile` in a subprocess (timeout: a
                          compile that fails or hangs is recorded, the rest goes on).
            reference:    StableDiffusionPipeline.from_pretrained(dir, dtype=float16) (HEADLINE ratio) and
                          the fp32 default; bench/gpu/plain_diffusers.generate.
            Steady state: images/s over batches 2..N (batch 1 carries warm-up and compilation).
            Output check: the first batch's images of ours vs (a) the plain pipeline at ours' precision
            (bf16 UNet, VAE decode in fp32), (b) the fp16 and fp32 references, (c) ours --compile:
            mean/max absolute difference in 0-255 levels and PSNR.
Runs are interleaved (ours, ref / ref, ours ...) up to 3 times while the phase's time budget lasts; the
ratio is the median of the per-run ratios ours/reference (higher is better). Every run records its peak
GPU memory (torch.cuda.max_memory_allocated) and any error (OOM, compile failure) instead of stopping.
Writes gpu-train.json and gpu-generate.json (bench/results format, ../shared/BENCHMARKS.md) after every
run into --results ($OUT when set, else bench/results; a temporary folder with --smoke).
"""

import argparse
import gc
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench" / "gpu"))
if str(ROOT / "trainer") not in sys.path:
    sys.path.insert(1, str(ROOT / "trainer"))

COMMAND = "bash bench/gpu.sh"

# ---- the model: SD 1.5's configs (runwayml/stable-diffusion-v1-5), and a tiny one for --smoke -----------

SD15 = {
    "unet": dict(
        sample_size=64,
        in_channels=4,
        out_channels=4,
        center_input_sample=False,
        flip_sin_to_cos=True,
        freq_shift=0,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        block_out_channels=(320, 640, 1280, 1280),
        layers_per_block=2,
        downsample_padding=1,
        mid_block_scale_factor=1,
        act_fn="silu",
        norm_num_groups=32,
        norm_eps=1e-5,
        cross_attention_dim=768,
        attention_head_dim=8,
    ),
    "vae": dict(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(128, 256, 512, 512),
        layers_per_block=2,
        act_fn="silu",
        latent_channels=4,
        norm_num_groups=32,
        sample_size=512,
        scaling_factor=0.18215,
    ),
    "text": dict(
        vocab_size=49408,
        hidden_size=768,
        intermediate_size=3072,
        num_hidden_layers=12,
        num_attention_heads=12,
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
        projection_dim=768,
        bos_token_id=49406,
        eos_token_id=49407,
        pad_token_id=49407,
    ),
}
TINY = {
    "unet": {
        **SD15["unet"],
        "sample_size": 8,
        "block_out_channels": (32, 32, 64, 64),
        "layers_per_block": 1,
        "cross_attention_dim": 32,
        "norm_num_groups": 16,
    },
    "vae": {**SD15["vae"], "block_out_channels": (16, 32, 32, 32), "layers_per_block": 1, "norm_num_groups": 8,
            "sample_size": 64},
    "text": {**SD15["text"], "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 4, "projection_dim": 32},
}
from medsynth_trainer.tiny_model import SD15_SCHEDULER as SCHEDULER  # noqa: E402  (SD 1.5's scheduler config)

# ---- sizes per mode ----------------------------------------------------------------------------------------

GPU_SIZES = dict(
    arch="sd15", resolution=512, train_images=16, batch=4, rank=16,
    train_warmup=10, train_timed=40, fp32_warmup=5, fp32_timed=15,
    gen_batch=8, gen_steps=30, gen_batches=4, fp32_batches=3, guidance=7.5,
    reps=3, train_share=0.36,
    # first guesses of each run's wall time (s), replaced by measurements as runs finish
    estimates={"train/ours": 35, "train/ref-fp16": 30, "train/ref-fp32": 45, "train/ref-bf16": 30,
               "generate/ours": 25, "generate/ref-fp16": 20, "generate/ref-fp32": 55, "generate/check": 15,
               "generate/ours-compile": 150},
    compile_min_s=60, compile_max_s=240, margin_s=5,
)
SMOKE_SIZES = dict(
    arch="tiny", resolution=64, train_images=4, batch=2, rank=4,
    train_warmup=1, train_timed=2, fp32_warmup=1, fp32_timed=2,
    gen_batch=2, gen_steps=2, gen_batches=3, fp32_batches=2, guidance=7.5,
    reps=2, train_share=0.45,
    estimates={"train/ours": 6, "train/ref-fp16": 4, "train/ref-fp32": 4, "train/ref-bf16": 4,
               "generate/ours": 4, "generate/ref-fp16": 4, "generate/ref-fp32": 4, "generate/check": 4,
               "generate/ours-compile": 20},
    compile_min_s=30, compile_max_s=90, margin_s=2,
)
PROMPTS = [
    "an endoscopy image of a polyp",
    "an endoscopy image of healthy colon mucosa",
    "a colonoscopy frame showing a sessile polyp",
    "an endoscopy image of ulcerative colitis",
    "an endoscopy image of the cecum",
    "a gastroscopy image of the pylorus",
]
TRAIN_PROMPTS = ["an endoscopy image of a polyp, type 0", "an endoscopy image of a polyp, type 1"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---- small utilities ---------------------------------------------------------------------------------------


class Clock:
    def __init__(self, budget_s: float):
        self.start, self.budget = time.monotonic(), budget_s

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def free_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


def gib(value):
    return None if value is None else round(value / 2**30, 2)


def median(values):
    return statistics.median(values) if values else None


def rnd(value, digits=3):
    return None if value is None else round(value, digits)


def steady_rate(stamps: list[float], counts: list[int], skip: int) -> float | None:
    """Units per second between the end of item `skip-1` and the last one (stamps: monotonic time at the
    end of each item; counts: cumulative units done at that time)."""
    if len(stamps) <= skip or skip < 1:
        return None
    span = stamps[-1] - stamps[skip - 1]
    return (counts[-1] - counts[skip - 1]) / span if span > 0 else None


def image_diff(ours, other) -> dict | None:
    """Mean/max absolute difference (0-255 levels) and PSNR between two lists of uint8 HWC images."""
    import numpy as np

    if not ours or not other or len(ours) != len(other):
        return None
    a = np.stack(ours).astype(np.float64)
    b = np.stack(other).astype(np.float64)
    if a.shape != b.shape:
        return {"error": f"shapes differ: {a.shape} vs {b.shape}"}
    diff = np.abs(a - b)
    mse = float((diff**2).mean())
    return {
        "mean_abs": round(float(diff.mean()), 3),
        "max_abs": int(diff.max()),
        "psnr_db": None if mse == 0 else round(float(10 * np.log10(255.0**2 / mse)), 2),
        "identical": bool(mse == 0),
        "images": len(ours),
    }


def dark_images(images) -> int | None:
    """How many images are entirely black (what NaNs become when a pipeline casts to uint8)."""
    if not images:
        return None
    return sum(int(image.max() == 0) for image in images)


def read_png(path) -> "np.ndarray":
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def machine_info() -> dict:
    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda}
    from importlib.metadata import PackageNotFoundError, version

    for name in ("diffusers", "transformers", "peft", "accelerate", "safetensors", "triton", "jsonschema"):
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            info[name] = None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(
            device=torch.cuda.get_device_name(),
            capability=".".join(map(str, torch.cuda.get_device_capability())),
            gpu_memory_gib=gib(props.total_memory),
            multiprocessors=props.multi_processor_count,
            cudnn=torch.backends.cudnn.version(),
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
            tf32_cudnn=torch.backends.cudnn.allow_tf32,
        )
        try:
            info["driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=20,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
        info["machine"] = info["device"]
    else:
        model = platform.processor() or platform.machine()
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        info["machine"] = f"{model}, {os.cpu_count()} cores (CPU smoke run)"
    return info


def commit_of(explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("MEDSYNTH_COMMIT"):
        return os.environ["MEDSYNTH_COMMIT"]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        if sha.returncode == 0:
            return sha.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def tree_state() -> str | None:
    """'clean' / 'uncommitted changes in trainer/ or bench/' where git works; None without .git."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "trainer", "bench/gpu_bench.py", "bench/gpu"],
            cwd=ROOT, capture_output=True, text=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if status.returncode != 0:
        return None
    return "clean" if not status.stdout.strip() else "uncommitted changes in trainer/ or bench/gpu*"


# ---- setup: model directory and training data -------------------------------------------------------------


def make_tokenizer(directory: Path) -> str:
    """Writes a CLIPTokenizer into `directory`; returns which one. The real one needs open-clip's BPE file;
    without it, a byte-level vocabulary: other token counts, but every prompt is padded to 77 tokens, so
    the text encoder and the UNet's cross-attention do exactly the same work."""
    try:
        from medsynth_trainer.clip_tokenizer import write_clip_tokenizer

        write_clip_tokenizer(directory)
        return "CLIP BPE (open-clip's bpe_simple_vocab_16e6)"
    except FileNotFoundError as e:
        log(f"real CLIP tokenizer unavailable ({e}): byte-level fallback")
        from medsynth_trainer.clip_tokenizer import bytes_to_unicode
        from transformers import CLIPTokenizer

        chars = list(bytes_to_unicode().values())
        tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False))
        (directory / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
        CLIPTokenizer.from_pretrained(directory, model_max_length=77).save_pretrained(directory)
        return "byte-level fallback (no open-clip BPE file): same padded length 77"


def build_model(directory: Path, arch_name: str, device) -> dict:
    """The pipeline with random weights (seed 0), saved with save_pretrained; reused if already built."""
    import torch

    marker = directory / "bench-model.json"
    if marker.is_file() and json.loads(marker.read_text()).get("arch") == arch_name:
        log(f"model directory reused: {directory}")
        return json.loads(marker.read_text())
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    arch = SD15 if arch_name == "sd15" else TINY
    t0 = time.monotonic()
    shutil.rmtree(directory, ignore_errors=True)
    staging = directory.with_name(directory.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    torch.manual_seed(0)
    with torch.device(device):  # random init on the GPU: seconds instead of a minute of CPU time
        unet = UNet2DConditionModel(**arch["unet"])
        vae = AutoencoderKL(**arch["vae"])
        text_encoder = CLIPTextModel(CLIPTextConfig(**arch["text"]))
    tokenizer_dir = staging / "tokenizer"
    tokenizer_kind = make_tokenizer(tokenizer_dir)
    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir)
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=PNDMScheduler(**SCHEDULER),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(staging, safe_serialization=True)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    info = {
        "arch": arch_name,
        "params_millions": {
            "unet": round(count(unet) / 1e6, 2),
            "vae": round(count(vae) / 1e6, 2),
            "text_encoder": round(count(text_encoder) / 1e6, 2),
        },
        "tokenizer": tokenizer_kind,
        "weights": "random (torch.manual_seed(0), default init), saved fp32 safetensors",
        "build_s": round(time.monotonic() - t0, 1),
    }
    del pipe, unet, vae, text_encoder
    free_memory()
    (staging / "bench-model.json").write_text(json.dumps(info))
    staging.rename(directory)
    log(f"built {arch_name} model in {info['build_s']} s: {info['params_millions']} M params, {tokenizer_kind}")
    return info


def make_training_data(folder: Path, count: int, size: int) -> Path:
    """Smooth colour patterns (learnable, unlike noise) as PNGs, and the trainer's JSONL data file."""
    import numpy as np
    from PIL import Image

    file = folder / "train.jsonl"
    if file.is_file() and len(file.read_text().splitlines()) == count:
        return file
    folder.mkdir(parents=True, exist_ok=True)
    ys, xs = np.mgrid[0:size, 0:size] / size
    rows = []
    for i in range(count):
        phase = i * 0.7
        image = np.stack([np.sin(6 * xs + phase), np.cos(5 * ys - phase), np.sin(4 * (xs + ys) + 2 * phase)], -1)
        Image.fromarray(((image + 1) * 127.5).astype(np.uint8)).save(folder / f"image-{i:03d}.png")
        rows.append({"path": f"image-{i:03d}.png", "prompt": TRAIN_PROMPTS[i % len(TRAIN_PROMPTS)]})
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return file


# ---- the benchmark -----------------------------------------------------------------------------------------


def timed_events():
    """An EventStream that keeps (arrival time, event) pairs in `.timed`."""
    from medsynth_trainer.events import EventStream

    timed = []
    stream = EventStream(lambda line: timed.append((time.monotonic(), json.loads(line))))
    stream.timed = timed
    return stream


class Bench:
    def __init__(self, args, sizes: dict):
        import torch

        self.args, self.sizes = args, sizes
        self.smoke = args.smoke
        self.clock = Clock(args.budget)
        self.cuda = torch.cuda.is_available()
        if not self.cuda and not self.smoke:
            raise SystemExit("no CUDA device: this benchmark needs a GPU (use --smoke for the CPU check)")
        self.device = torch.device("cuda" if self.cuda else "cpu")
        self.work = Path(args.work).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.results_dir = Path(args.results).resolve()
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.estimates = dict(sizes["estimates"])
        self.runs = {"train": [], "generate": []}
        self.first_images: dict[str, list] = {}
        self.notes = {"train": [], "generate": []}
        self.info = machine_info()
        self.commit = commit_of(args.commit)
        self.tree = tree_state()
        self.date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.model_info = None
        self.phase_deadline = None
        self.child = None  # the --compile subprocess while it runs
        signal.signal(signal.SIGTERM, self._terminated)

    def _terminated(self, signum, _frame):
        """bench/gpu.sh's hard limit (timeout sends SIGTERM): take the --compile child's process group
        down too, then exit; the JSON files already hold every finished run."""
        child = self.child
        if child is not None and child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log("SIGTERM: stopping (results so far are in the JSON files)")
        raise SystemExit(128 + signum)

    # -- bookkeeping --

    def fits(self, key: str, reserve: float = 0.0) -> bool:
        return time.monotonic() + self.estimates[key] + reserve <= self.phase_deadline

    def run(self, phase: str, variant: str, rep: int, fn) -> dict:
        """Runs one timed variant with its peak memory; an exception (OOM included) becomes an error record."""
        import torch

        free_memory()
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated() if self.cuda else None
        t0 = time.monotonic()
        log(f"{phase}/{variant} run {rep + 1} ...")
        record = {"variant": variant, "rep": rep}
        try:
            record.update(fn())
        except Exception as e:  # noqa: BLE001 - recorded, the benchmark goes on
            oom = isinstance(e, torch.cuda.OutOfMemoryError) if self.cuda else False
            record["error"] = f"{'OOM: ' if oom else ''}{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            traceback.print_exc()
        wall = time.monotonic() - t0
        record["wall_s"] = round(wall, 1)
        if self.cuda and "peak_bytes" not in record and variant != "ours-compile":  # that one is a child's
            record["peak_bytes"] = torch.cuda.max_memory_allocated()
        record["peak_gib"] = gib(record.pop("peak_bytes", None))
        record["baseline_gib"] = gib(base)
        if self.cuda and torch.backends.cuda.matmul.allow_tf32 != self.info.get("tf32_matmul"):
            record["tf32_matmul_changed_to"] = torch.backends.cuda.matmul.allow_tf32  # by a library: later fp32 runs
        free_memory()
        self.estimates[f"{phase}/{variant}"] = wall
        self.runs[phase].append(record)
        shown = {k: v for k, v in record.items() if k not in ("losses",)}
        log(f"{phase}/{variant} run {rep + 1}: {json.dumps(shown)}")
        self.write(phase)
        return record

    # -- training --

    def train_job(self, rep: int, data_file: Path) -> dict:
        from medsynth_trainer import jobs

        s = self.sizes
        total = s["train_warmup"] + s["train_timed"]
        return jobs.validate(
            "train",
            {
                "kind": "train",
                "runId": f"gpu-bench-train-{rep}",
                "device": self.device.type,
                "baseModel": {"id": str(self.model_dir), "resolution": s["resolution"]},
                "method": {
                    "kind": "lora",
                    "steps": total,
                    "batchSize": s["batch"],
                    "rank": s["rank"],
                    "learningRate": 1e-4,
                    "mixedPrecision": "bf16",
                    "checkpointEvery": total,
                },
                "data": {"file": str(data_file)},
            },
        )

    def ours_train(self, rep: int, data_file: Path) -> dict:
        from medsynth_trainer import stopping
        from medsynth_trainer.train import run_train

        s = self.sizes
        job = self.train_job(rep, data_file)
        out = self.work / f"train-ours-{rep}"
        shutil.rmtree(out, ignore_errors=True)
        events = timed_events()
        stopping.reset()
        try:
            run_train(job, out, events)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        started = next(t for t, e in events.timed if e["event"] == "started")
        progress = [(t, e) for t, e in events.timed if e["event"] == "progress"]
        stamps = [t for t, _ in progress]
        steps = [e["step"] for _, e in progress]
        losses = [e["loss"] for _, e in progress][s["train_warmup"]:]
        return {
            "value": rnd(steady_rate(stamps, steps, s["train_warmup"])),
            "unit": "it/s",
            "warmup_s": rnd(stamps[s["train_warmup"] - 1] - started, 2),
            "trainer_its": rnd(progress[-1][1]["its"]),
            "mean_loss": rnd(statistics.fmean(x for x in losses if x is not None), 4) if losses else None,
            "losses": losses,
        }

    def ref_train(self, precision: str, pixels, prompts) -> dict:
        import plain_diffusers

        s = self.sizes
        warm, timed = (s["fp32_warmup"], s["fp32_timed"]) if precision == "fp32" else (
            s["train_warmup"], s["train_timed"])
        r = plain_diffusers.train(
            self.model_dir, pixels, prompts, precision=precision, batch=s["batch"], rank=s["rank"],
            steps=warm + timed, device=self.device,
        )
        finite = [x for x in r["losses"][warm:] if x == x and abs(x) != float("inf")]
        return {
            "value": rnd(steady_rate(r["stamps"], list(range(1, len(r["stamps"]) + 1)), warm)),
            "unit": "it/s",
            "load_s": rnd(r["load_s"], 1),
            "mean_loss": rnd(statistics.fmean(finite), 4) if finite else None,
            "nonfinite_losses": len(r["losses"][warm:]) - len(finite),
        }

    def phase_train(self, deadline: float) -> None:
        from medsynth_trainer.images import load_rgb, to_training_tensor
        import torch

        self.phase_deadline = deadline
        s = self.sizes
        data_file = make_training_data(self.work / "train-data", s["train_images"], s["resolution"])
        rows = [json.loads(line) for line in data_file.read_text().splitlines()]
        pixels = torch.stack(
            [to_training_tensor(load_rgb(data_file.parent / r["path"]), s["resolution"]) for r in rows]
        )
        prompts = [r["prompt"] for r in rows]
        runs = {
            "ours": lambda rep: self.ours_train(rep, data_file),
            **{f"ref-{p}": (lambda rep, p=p: self.ref_train(p, pixels, prompts)) for p in ("fp16", "fp32", "bf16")},
        }
        # By priority; each item runs only if its estimate fits before the deadline (the first pair always).
        # Optional references only after a headline pair that ran: time left over goes to generation.
        plan = [("pair", 0), ("pair", 1), ("ref-fp32", 1), ("ref-bf16", 1), ("pair", 2), ("ref-fp32", 2)]
        pair_ran = True
        for item, rep in plan:
            if item == "pair":
                if rep >= s["reps"]:
                    continue
                need = self.estimates["train/ours"] + self.estimates["train/ref-fp16"]
                pair_ran = rep == 0 or time.monotonic() + need <= deadline
                if not pair_ran:
                    self.notes["train"].append(f"headline run {rep + 1} skipped: time budget")
                    continue
                order = ["ours", "ref-fp16"] if rep % 2 == 0 else ["ref-fp16", "ours"]
                for variant in order:
                    self.run("train", variant, rep, lambda v=variant, r=rep: runs[v](r))
                if rep == 0:  # first guesses for the optional runs, from the measured fp16 reference
                    self.estimates["train/ref-fp32"] = 1.6 * self.estimates["train/ref-fp16"]
                    self.estimates["train/ref-bf16"] = 1.0 * self.estimates["train/ref-fp16"]
            elif pair_ran and self.fits(f"train/{item}"):
                self.run("train", item, rep, lambda v=item, r=rep: runs[v](r))
            else:
                self.notes["train"].append(f"{item} (after run {rep + 1}) skipped: time budget")

    # -- generation --

    def gen_items(self) -> list[tuple[int, str, int]]:
        """(prompt index, prompt, seed) in the trainer's order: prompt-major, seeds 0..batch-1."""
        s = self.sizes
        return [(p, PROMPTS[p], seed) for p in range(s["gen_batches"]) for seed in range(s["gen_batch"])]

    def generate_job(self, rep: int) -> dict:
        from medsynth_trainer import jobs

        s = self.sizes
        return jobs.validate(
            "generate",
            {
                "kind": "generate",
                "runId": f"gpu-bench-generate-{rep}",
                "device": self.device.type,
                "baseModel": {"id": str(self.model_dir), "resolution": s["resolution"]},
                "generation": {
                    "prompts": PROMPTS[: s["gen_batches"]],
                    "seeds": list(range(s["gen_batch"])),
                    "steps": s["gen_steps"],
                    "guidance": s["guidance"],
                    "scheduler": "pndm",
                    "batchSize": s["gen_batch"],
                },
            },
        )

    def _gen_figures(self, timed_events: list, out: Path) -> dict:
        """images/s over batches 2..N from the progress events, and the first batch's images."""
        started = next((t for t, e in timed_events if e["event"] == "started"), None)
        progress = [(t, e) for t, e in timed_events if e["event"] == "progress"]
        if not progress:
            raise RuntimeError("no progress event: no batch finished")
        stamps = [t for t, _ in progress]
        done = [e["step"] for _, e in progress]
        first = sorted(
            (e["meta"]["seed"], e["path"])
            for _, e in timed_events
            if e["event"] == "artifact" and e.get("kind") == "image" and e["meta"]["promptIndex"] == 0
        )
        self.first_batch_paths = [Path(p) for _, p in first]
        return {
            "value": rnd(steady_rate(stamps, done, 1)),
            "unit": "images/s",
            "time_to_first_batch_s": rnd(stamps[0] - started, 2) if started else None,
            "images": done[-1],
            "trainer_its": rnd(progress[-1][1].get("its")),
        }

    def ours_generate(self, rep: int) -> dict:
        from medsynth_trainer import stopping
        from medsynth_trainer.generate import run_generate

        out = self.work / f"gen-ours-{rep}"
        shutil.rmtree(out, ignore_errors=True)
        events = timed_events()
        stopping.reset()
        try:
            run_generate(self.generate_job(rep), out, events, compile_unet=False)
            figures = self._gen_figures(events.timed, out)
            if "ours" not in self.first_images:
                self.first_images["ours"] = [read_png(p) for p in self.first_batch_paths]
        finally:
            shutil.rmtree(out, ignore_errors=True)
        return figures

    def ours_generate_compiled(self, rep: int, timeout: float) -> dict:
        """`python -m medsynth_trainer generate --compile` in its own process group, killed at `timeout`."""
        out = self.work / f"gen-compile-{rep}"
        shutil.rmtree(out, ignore_errors=True)
        spec = self.work / f"gen-compile-{rep}.json"
        spec.write_text(json.dumps(self.generate_job(rep)))
        peak_file = self.work / f"gen-compile-{rep}.peak.json"
        peak_file.unlink(missing_ok=True)
        stderr_file = self.work / f"gen-compile-{rep}.stderr.log"
        env = dict(os.environ, BENCH_PEAK_FILE=str(peak_file), PYTHONUNBUFFERED="1")
        env.setdefault("TORCH_LOGS", "recompiles,graph_breaks")  # into its stderr log, for whoever tunes it
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "trainer"), env.get("PYTHONPATH")]))
        command = [sys.executable, str(ROOT / "bench" / "gpu" / "trainer_cli.py"), "generate",
                   "--spec", str(spec), "--out", str(out), "--compile"]
        timed = []
        with open(stderr_file, "w") as stderr:
            # Its own process group (inductor's compile workers included), in this session: killed as one.
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
                                    cwd=ROOT / "trainer", process_group=0)
            self.child = proc

            def reader():
                for line in proc.stdout:
                    now = time.monotonic()
                    try:
                        timed.append((now, json.loads(line)))
                    except json.JSONDecodeError:
                        pass

            thread = threading.Thread(target=reader, daemon=True)
            thread.start()
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                code = None
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            thread.join(timeout=10)
            self.child = None
            try:  # whatever of its group outlived it (compile workers)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        tail = stderr_file.read_text(errors="replace").splitlines()[-15:]
        if os.environ.get("OUT") and not self.smoke:  # the device tool brings $OUT back: keep the child's log
            shutil.copyfile(stderr_file, self.results_dir / f"gpu-compile-{rep + 1}.log")
        try:
            if code is None:
                raise TimeoutError(f"--compile run killed after {timeout:.0f} s (compile too slow or hung)")
            if code != 0:
                errors = [e.get("message") for _, e in timed if e.get("event") == "error"]
                print("\n".join(tail), file=sys.stderr)
                raise RuntimeError(f"trainer exited {code}: {errors[-1] if errors else tail[-1:]}")
            figures = self._gen_figures(timed, out)
            if "ours-compile" not in self.first_images:
                self.first_images["ours-compile"] = [read_png(p) for p in self.first_batch_paths]
            if peak_file.is_file():
                figures["peak_bytes"] = json.loads(peak_file.read_text()).get("peak_bytes")
            ignored = any("--compile is ignored" in line for line in tail)
            if ignored:
                figures["note"] = "--compile ignored on CPU (smoke run)"
            return figures
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def ref_generate(self, dtype_name: str, rep: int) -> dict:
        import plain_diffusers
        from medsynth_trainer.seeds import image_seed

        s = self.sizes
        items = self.gen_items()
        count = s["fp32_batches"] if dtype_name == "fp32" else s["gen_batches"]
        batches = [
            [(prompt, image_seed(seed, 0)) for _, prompt, seed in items[b * s["gen_batch"]:(b + 1) * s["gen_batch"]]]
            for b in range(count)
        ]
        out = self.work / f"gen-ref-{dtype_name}-{rep}"
        shutil.rmtree(out, ignore_errors=True)
        try:
            r = plain_diffusers.generate(
                self.model_dir, dtype=plain_diffusers.DTYPES[dtype_name], device=self.device, batches=batches,
                steps=s["gen_steps"], guidance=s["guidance"], width=s["resolution"], height=s["resolution"],
                out_dir=out,
            )
        finally:
            shutil.rmtree(out, ignore_errors=True)
        key = f"ref-{dtype_name}"
        if key not in self.first_images:
            self.first_images[key] = r["first"]
        done = [(b + 1) * s["gen_batch"] for b in range(len(r["stamps"]))]
        return {"value": rnd(steady_rate(r["stamps"], done, 1)), "unit": "images/s", "load_s": rnd(r["load_s"], 1),
                "black_images_first_batch": dark_images(r["first"])}

    def same_precision_images(self) -> dict:
        """The plain pipeline at ours' precision: UNet etc. in the trainer's inference dtype, latents out,
        decoded by the VAE in fp32, postprocessed by diffusers' own image processor."""
        import numpy as np
        import torch
        from diffusers import StableDiffusionPipeline
        from medsynth_trainer.devices import inference_dtype

        s = self.sizes
        dtype = inference_dtype(self.device)
        chunk = self.gen_items()[: s["gen_batch"]]
        pipe = StableDiffusionPipeline.from_pretrained(self.model_dir, dtype=dtype).to(self.device)
        pipe.set_progress_bar_config(disable=True)
        pipe.vae.to(dtype=torch.float32)
        with torch.no_grad():
            latents = pipe(
                prompt=[p for _, p, _ in chunk],
                generator=[torch.Generator("cpu").manual_seed(seed) for _, _, seed in chunk],
                num_inference_steps=s["gen_steps"], guidance_scale=s["guidance"],
                width=s["resolution"], height=s["resolution"], output_type="latent",
            ).images
            decoded = pipe.vae.decode(latents.to(torch.float32) / pipe.vae.config.scaling_factor).sample
            images = pipe.image_processor.postprocess(decoded, output_type="np")
        self.first_images["check"] = [(image * 255).round().astype(np.uint8) for image in images]
        del pipe
        return {"dtype": str(dtype).removeprefix("torch."), "note": "output check only (not timed)"}

    def phase_generate(self, deadline: float) -> None:
        """By priority: headline pair 1 (ours, ref-fp16), the output check, ours --compile (cold compile, its
        timeout keeping room for ref-fp32 and one more pair), ref-fp32, pair 2 (reversed order), a second
        --compile run (warm caches), pair 3; each only if it fits before the deadline."""
        self.phase_deadline = deadline
        s = self.sizes
        est = self.estimates
        plan = [("pair", 0), ("check", 0), ("ours-compile", 0), ("ref-fp32", 0), ("pair", 1), ("ours-compile", 1),
                ("pair", 2)]
        for item, rep in plan:
            pair = est["generate/ours"] + est["generate/ref-fp16"]
            if item == "pair":
                if rep >= s["reps"]:
                    continue
                if rep > 0 and time.monotonic() + pair > deadline:
                    self.notes["generate"].append(f"headline run {rep + 1} skipped: time budget")
                    continue
                order = ["ours", "ref-fp16"] if rep % 2 == 0 else ["ref-fp16", "ours"]
                for variant in order:
                    fn = (lambda r=rep: self.ours_generate(r)) if variant == "ours" else (
                        lambda r=rep: self.ref_generate("fp16", r))
                    self.run("generate", variant, rep, fn)
                if rep == 0:
                    est["generate/ref-fp32"] = 2.5 * est["generate/ref-fp16"]
            elif item == "check":
                self.run("generate", "check", rep, self.same_precision_images)
            elif item == "ref-fp32":
                if self.fits("generate/ref-fp32"):
                    self.run("generate", "ref-fp32", rep, lambda r=rep: self.ref_generate("fp32", r))
                else:
                    self.notes["generate"].append("ref-fp32 skipped: time budget")
            else:  # ours-compile: a cold compile first (minutes), then one with inductor's caches warm
                compiled = [r for r in self.runs["generate"] if r["variant"] == "ours-compile"]
                if any("error" in r for r in compiled):
                    continue
                keep = pair + s["margin_s"]  # room for the next headline pair ...
                if not any(r["variant"] == "ref-fp32" for r in self.runs["generate"]):
                    keep += est["generate/ref-fp32"]  # ... and the fp32 reference, still to come
                room = deadline - time.monotonic() - keep
                want = 0.7 * est["generate/ours-compile"] if compiled else s["compile_min_s"]
                if room >= want:
                    timeout = min(room, s["compile_max_s"])
                    compile_run = lambda r=rep, t=timeout: self.ours_generate_compiled(r, t)  # noqa: E731
                    self.run("generate", "ours-compile", rep, compile_run)
                else:
                    self.notes["generate"].append(f"ours-compile (after run {rep + 1}) skipped: {room:.0f} s of room")

    # -- results --

    def values_by_rep(self, phase: str, variant: str) -> dict[int, float]:
        return {r["rep"]: r["value"] for r in self.runs[phase] if r["variant"] == variant and r.get("value")}

    def paired_ratios(self, phase: str, top: str, bottom: str) -> list[float]:
        a, b = self.values_by_rep(phase, top), self.values_by_rep(phase, bottom)
        return [a[k] / b[k] for k in sorted(a) if k in b]

    def variant_figure(self, phase: str, variant: str) -> dict | None:
        runs = [r for r in self.runs[phase] if r["variant"] == variant]
        if not runs:
            return None
        values = list(self.values_by_rep(phase, variant).values())
        figure = {"value": rnd(median(values)), "unit": runs[0].get("unit"), "runs": len(values)}
        if variant.startswith("ref-"):
            ratios = self.paired_ratios(phase, "ours", variant)
            figure["ratio_ours_over_it"] = rnd(median(ratios))
        else:
            for ref in ("ref-fp16", "ref-fp32"):
                ratios = self.paired_ratios(phase, variant, ref)
                if ratios:
                    figure[f"ratio_over_{ref.replace('-', '_')}"] = rnd(median(ratios))
                    figure[f"spread_over_{ref.replace('-', '_')}"] = f"{min(ratios):.3f}..{max(ratios):.3f}"
            ratios = self.paired_ratios(phase, variant, "ours")
            if ratios:
                figure["ratio_over_ours_without_compile"] = rnd(median(ratios))
            firsts = [r["time_to_first_batch_s"] for r in runs if r.get("time_to_first_batch_s") is not None]
            if firsts:
                figure["time_to_first_batch_s (load, hashing, compile)"] = firsts
        errors = [r["error"] for r in runs if "error" in r]
        if errors:
            figure["errors"] = errors
        return figure

    def peaks(self, phase: str) -> dict:
        peaks = {}
        for r in self.runs[phase]:
            if r.get("peak_gib") is not None:
                peaks[r["variant"]] = max(peaks.get(r["variant"], 0), r["peak_gib"])
        return peaks

    def result(self, phase: str) -> dict:
        s = self.sizes
        ours, refs = self.values_by_rep(phase, "ours"), self.values_by_rep(phase, "ref-fp16")
        ratios = self.paired_ratios(phase, "ours", "ref-fp16")
        smoke = " [CPU SMOKE RUN: tiny model, not a benchmark figure]" if self.smoke else ""
        arch = "SD 1.5 architecture (UNet 860M, VAE, CLIP ViT-L/14 text encoder), random weights" if \
            s["arch"] == "sd15" else "tiny SD-1.x layout, random weights"
        if phase == "train":
            workload = (
                f"LoRA r{s['rank']} on to_q/to_k/to_v/to_out.0 of the {arch}; {s['resolution']} px, batch "
                f"{s['batch']}, AdamW lr 1e-4; steady-state it/s over steps {s['train_warmup'] + 1}.."
                f"{s['train_warmup'] + s['train_timed']} (model load and warm-up excluded){smoke}"
            )
            ours_name = "medsynth_trainer run_train, bf16 mixed precision (job default)"
            ref_name = ("plain diffusers LoRA loop (train_text_to_image_lora.py) in fp16 autocast + GradScaler, "
                        "fp32 LoRA master weights, VAE + text encoder every step")
            unit, goal = "it/s", ">= 1.0"
            others = ("ref-fp32", "ref-bf16")
            precisions = {
                "ours": "frozen UNet + text encoder bf16, VAE fp32, LoRA fp32, accelerate bf16 autocast; latents "
                        "and prompt embeddings cached (encoded once)",
                "ref-fp16": "UNet/VAE/text encoder fp16, LoRA fp32, torch.autocast fp16 around the UNet, GradScaler",
                "ref-fp32": "everything fp32 (the example's default mixed_precision=None); TF32 off for matmuls "
                            "(torch default), cuDNN convolutions may use TF32 (torch default)",
                "ref-bf16": "UNet/VAE/text encoder bf16, LoRA fp32, autocast bf16 (same precision as ours)",
            }
        else:
            workload = (
                f"{arch}; {s['resolution']} px, {s['gen_steps']} steps PNDM, guidance {s['guidance']}, batch "
                f"{s['gen_batch']}, PNG written per image; steady-state images/s over batches 2..{s['gen_batches']}"
                f" (load, warm-up and compilation excluded){smoke}"
            )
            ours_name = "medsynth_trainer run_generate, default path (no --compile): bf16, SDPA, channels_last"
            ref_name = "plain StableDiffusionPipeline, dtype=torch.float16 (torch_dtype), defaults otherwise"
            unit, goal = "images/s", ">= 1.3"
            others = ("ours-compile", "ref-fp32")
            precisions = {
                "ours": "UNet + text encoder bf16, VAE decode fp32, channels_last UNet, PNG + provenance row",
                "ours-compile": "the same with torch.compile(UNet) (CLI --compile, separate process)",
                "ref-fp16": "everything fp16 (VAE decode too), PIL images saved as PNG",
                "ref-fp32": "everything fp32 (the pipeline's default); TF32 off for matmuls (torch default)",
                "check": "plain pipeline at ours' dtype, VAE decode fp32: the same-precision output check",
            }
        extra = {
            "headline": (
                "ratio = median over runs of ours / reference with the reference in fp16 (the baseline people "
                "use); against the fp32 default: extra.variants."
                + (" ours is the trainer's default path without --compile; ours-compile is in extra.variants."
                   if phase == "generate" else " ours trains in bf16 (the trainer's default).")
            ),
            "precisions": precisions,
            "ours_is": ours_name,
            "variants": {v: self.variant_figure(phase, v) for v in others},
            "peak_gpu_memory_gib": self.peaks(phase) if self.cuda else None,
            "model": self.model_info,
            "versions": {k: v for k, v in self.info.items() if k != "machine"},
            "tree": self.tree,
            "runs_detail": [{k: v for k, v in r.items() if k != "losses"} for r in self.runs[phase]],
            "notes": self.notes[phase],
            "smoke": self.smoke,
            "bench_seconds_so_far": round(self.clock.elapsed()),
        }
        if phase == "train":
            extra["data"] = (f"{s['train_images']} synthetic {s['resolution']} px PNGs (smooth colour patterns), "
                             f"{len(TRAIN_PROMPTS)} prompts; ours reads the JSONL data file, the reference "
                             "the same images as tensors in memory")
        if phase == "generate":
            extra["output_difference"] = self.output_difference()
        errors = [f"{r['variant']} run {r['rep'] + 1}: {r['error']}" for r in self.runs[phase] if "error" in r]
        if errors:
            extra["errors"] = errors
        return {
            "name": f"gpu-{phase}",
            "command": COMMAND + (" --smoke" if self.smoke else ""),
            "date": self.date,
            "commit": self.commit,
            "machine": self.info["machine"],
            "workload": workload,
            "ours": {"value": rnd(median(list(ours.values()))), "unit": unit},
            "reference": {"name": ref_name, "value": rnd(median(list(refs.values()))), "unit": unit},
            "ratio": rnd(median(ratios)),
            "goal": goal,
            "runs": len(ratios),
            "spread": f"{min(ratios):.3f}..{max(ratios):.3f}" if ratios else None,
            "extra": extra,
        }

    def output_difference(self) -> dict:
        images = self.first_images
        ours = images.get("ours")
        out = {
            "what": f"first batch (prompt 0, seeds 0..{self.sizes['gen_batch'] - 1}) of ours vs others, uint8 RGB: "
                    "mean/max absolute difference in levels and PSNR (dB). Random weights: the images have no "
                    "content, only the size of the differences means something; ref_fp16 vs ref_fp32 shows how "
                    "far precision alone moves them after all the denoising steps",
            "ours_vs_same_precision_plain_pipeline": image_diff(ours, images.get("check")),
            "ours_vs_ours_compile": image_diff(ours, images.get("ours-compile")),
            "ours_vs_ref_fp16": image_diff(ours, images.get("ref-fp16")),
            "ours_vs_ref_fp32": image_diff(ours, images.get("ref-fp32")),
            "ref_fp16_vs_ref_fp32 (precision noise scale)": image_diff(images.get("ref-fp16"), images.get("ref-fp32")),
            "black_images": {k: dark_images(v) for k, v in images.items()},
        }
        return out

    def write(self, phase: str) -> None:
        result = self.result(phase)
        file = self.results_dir / f"gpu-{phase}.json"
        file.write_text(json.dumps(result, indent=2) + "\n")

    def table(self) -> None:
        print()
        print(f"{'phase':<9} {'variant':<13} {'runs':>4} {'median':>9} {'unit':<9} {'ours/this':>9} "
              f"{'this/fp16':>9} {'peak GiB':>8}")
        for phase in ("train", "generate"):
            for variant in dict.fromkeys(r["variant"] for r in self.runs[phase]):
                runs = [r for r in self.runs[phase] if r["variant"] == variant]
                values = list(self.values_by_rep(phase, variant).values())
                unit = next((r.get("unit") for r in runs if r.get("unit")), "")
                vs_ours = self.paired_ratios(phase, "ours", variant) if variant.startswith("ref-") else []
                vs_fp16 = self.paired_ratios(phase, variant, "ref-fp16") if variant.startswith("ours") else []
                peak = max((r["peak_gib"] for r in runs if r.get("peak_gib") is not None), default=None)
                err = " ERROR" if any("error" in r for r in runs) else ""
                show = lambda v: "-" if v is None else v  # noqa: E731
                print(f"{phase:<9} {variant:<13} {len(values):>4} {show(rnd(median(values))):>9} {unit:<9} "
                      f"{show(rnd(median(vs_ours))):>9} {show(rnd(median(vs_fp16))):>9} {show(peak):>8}{err}")
        for phase in ("train", "generate"):
            if self.runs[phase]:
                r = json.loads((self.results_dir / f"gpu-{phase}.json").read_text())
                print(f"{r['name']}: ratio {r['ratio']} (goal {r['goal']}, runs {r['runs']}, spread {r['spread']}); "
                      f"ours {r['ours']['value']} vs {r['reference']['value']} {r['ours']['unit']}")
        if self.runs["generate"]:
            diff = self.output_difference()
            for key in ("ours_vs_same_precision_plain_pipeline", "ours_vs_ours_compile", "ours_vs_ref_fp16",
                        "ours_vs_ref_fp32"):
                print(f"  {key}: {diff[key]}")
        print(f"results: {self.results_dir}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="CPU check: tiny model, few steps, temp results")
    parser.add_argument("--budget", type=float, default=None, help="seconds for everything (GPU 420, smoke 240)")
    parser.add_argument("--phases", default=os.environ.get("BENCH_PHASES", "train,generate"))
    parser.add_argument("--results", help="folder for the JSON files ($OUT, else bench/results; smoke: temp)")
    parser.add_argument("--work", help="scratch folder (model, images); default /tmp/medsynth-gpu-bench[-smoke]")
    parser.add_argument("--commit", help="commit measured (else $MEDSYNTH_COMMIT, else git rev-parse HEAD)")
    args = parser.parse_args(argv)
    sizes = SMOKE_SIZES if args.smoke else GPU_SIZES
    if args.budget is None:
        args.budget = float(os.environ.get("BENCH_BUDGET_S", 240 if args.smoke else 420))
    if not args.results:
        if args.smoke:
            args.results = tempfile.mkdtemp(prefix="medsynth-gpu-bench-smoke-")
        else:
            args.results = os.environ.get("OUT") or str(ROOT / "bench" / "results")
    if not args.work:
        name = "medsynth-gpu-bench-smoke" if args.smoke else "medsynth-gpu-bench"
        args.work = str(Path(tempfile.gettempdir()) / name)
    for name in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):  # nothing is downloaded, nothing is reported
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]

    if args.smoke:  # tiny tensors: intra-op threads only add barrier waits (see trainer devices.tune_cpu_threads)
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        import torch

        torch.set_num_threads(1)
    from medsynth_trainer.__main__ import configure_logging, quiet_libraries

    configure_logging()
    quiet_libraries()
    bench = Bench(args, sizes)
    log(f"{bench.info['machine']} | {json.dumps({k: v for k, v in bench.info.items() if k != 'machine'})}")
    log(f"commit {bench.commit} ({bench.tree or 'no git'}), budget {args.budget:.0f} s, phases {phases}, "
        f"results -> {bench.results_dir}")
    bench.model_dir = bench.work / f"model-{sizes['arch']}"
    bench.model_info = build_model(bench.model_dir, sizes["arch"], bench.device)
    end = bench.clock.start + args.budget - sizes["margin_s"]  # for the table and the exit
    if "train" in phases:
        share = sizes["train_share"] if "generate" in phases else 1.0
        bench.phase_train(time.monotonic() + share * (end - time.monotonic()))
    if "generate" in phases:
        bench.phase_generate(end)
    bench.table()
    log(f"done in {bench.clock.elapsed():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
