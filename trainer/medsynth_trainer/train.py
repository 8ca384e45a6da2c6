"""The train job: full UNet fine-tune, LoRA, or DreamBooth+LoRA, resumable from any checkpoint."""

import json
import logging
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from . import base_model, checkpoints, stopping
from .adapters import add_lora, save_lora
from .devices import describe, pick_device, training_precision, tune_cpu_threads, weight_dtype
from .events import EventStream
from .hashing import sha256_file, sha256_tree
from .preflight import TrainInputs, check_train
from .seeds import rng_record, seed_globals, seeded
from .train_step import TrainStep
from .training_data import LatentSource, PromptEncoder

log = logging.getLogger(__name__)


def run_train(
    job: dict,
    out: Path,
    events: EventStream,
    resume: Path | None = None,
    keep_checkpoints: int = 0,
    inputs: TrainInputs | None = None,
) -> dict:
    """`inputs`: the result of preflight.check_train(job) when the caller already has it."""
    method = job["method"]
    seed_globals(method["seed"], "process")  # before anything random is built
    out = Path(out)
    inputs = inputs or check_train(job)
    model, examples = inputs.model, inputs.examples
    device = pick_device(job["device"])
    tune_cpu_threads(job["baseModel"]["id"], device)
    resume_state = checkpoints.check_resumable(Path(resume), job) if resume else None

    from accelerate import Accelerator

    precision = training_precision(method["mixedPrecision"], device)
    accelerator = Accelerator(cpu=device.type == "cpu", mixed_precision=precision)
    events.enabled = accelerator.is_main_process
    device = accelerator.device
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "train-job.resolved.json").write_text(json.dumps(job, indent=2))
    trainer = _Trainer(job, out, events, accelerator, model, examples, precision)
    return trainer.run(resume, resume_state, keep_checkpoints)


def _place(module, device, dtype):
    # .to(dtype) only when it changes something: diffusers warns about every cast.
    return module.to(device) if module.dtype == dtype else module.to(device, dtype=dtype)


class _Trainer:
    def __init__(self, job, out, events, accelerator, model, examples, precision):
        self.job, self.method, self.out, self.events = job, job["method"], out, events
        self.accelerator, self.model, self.examples = accelerator, model, examples
        self.device = accelerator.device
        self.weight_dtype = weight_dtype(precision)
        self.autocast = accelerator.autocast if precision != "no" else nullcontext
        self.seed = self.method["seed"]
        self.resolution = job["baseModel"]["resolution"]
        self.kind = self.method["kind"]
        self.train_text_encoder = self.kind != "full" and self.method["trainTextEncoder"]
        self.prior = self.kind == "dreambooth-lora" and self.method["priorPreservation"]

    # ---- setup -------------------------------------------------------------------------------------

    def _load_modules(self) -> dict:
        modules = base_model.load_training_components(self.model)
        unet, vae, text_encoder = modules["unet"], modules["vae"], modules["text_encoder"]
        for module in (unet, vae, text_encoder):
            module.requires_grad_(False)
        # The VAE stays fp32 (fp16 VAEs give black/NaN images); the UNet of a full fine-tune is trained
        # in fp32; frozen weights use the mixed-precision dtype.
        _place(vae, self.device, torch.float32).eval()
        _place(text_encoder, self.device, self.weight_dtype).eval()
        _place(unet, self.device, torch.float32 if self.kind == "full" else self.weight_dtype)
        return modules

    def _class_image_paths(self, modules) -> list[Path]:
        from .class_images import ensure_class_images

        with self.accelerator.main_process_first():
            return ensure_class_images(
                self.out,
                modules,
                self.method["classPrompt"],
                self.method["numClassImages"],
                self.resolution,
                self.seed,
                self.model.weight_hashes(),
                autocast=self.autocast(),
            )

    def _make_trainable(self, modules) -> list[torch.nn.Parameter]:
        unet, text_encoder = modules["unet"], modules["text_encoder"]
        if self.kind == "full":
            unet.requires_grad_(True)
        else:
            # peft draws lora_A from the global stream: seed it, or two processes start apart.
            with seeded(self.seed, "adapter-init"):
                add_lora(unet, text_encoder, self.method)
            from diffusers.training_utils import cast_training_params

            # Trainable parameters stay fp32 under fp16/bf16 ("Attempting to unscale FP16 gradients").
            cast_training_params([unet, text_encoder], dtype=torch.float32)
        if self.method["gradientCheckpointing"]:
            unet.enable_gradient_checkpointing()
            if self.train_text_encoder:
                text_encoder.gradient_checkpointing_enable()
        unet.train()
        if self.train_text_encoder:
            text_encoder.train()
        return [p for m in (unet, text_encoder) for p in m.parameters() if p.requires_grad]

    def _optimizer(self, params):
        lr, method = self.method["learningRate"], self.method
        if method["use8bitAdam"]:
            if self.device.type != "cuda":
                log.info("8-bit Adam needs CUDA: using torch AdamW")
            else:
                try:
                    import bitsandbytes as bnb

                    return bnb.optim.AdamW8bit(params, lr=lr, betas=(0.9, 0.999), weight_decay=1e-2, eps=1e-8)
                except ImportError:
                    log.info("bitsandbytes is not installed: using torch AdamW")
        return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), weight_decay=1e-2, eps=1e-8)

    # ---- the run -----------------------------------------------------------------------------------

    def run(self, resume, resume_state, keep_checkpoints) -> dict:
        from diffusers.optimization import get_scheduler

        acc, method = self.accelerator, self.method
        modules = self._load_modules()
        class_paths = self._class_image_paths(modules) if self.prior else []
        params = self._make_trainable(modules)
        optimizer = self._optimizer(params)
        world = acc.num_processes
        # accelerate steps a prepared scheduler once per process per optimiser step.
        lr_scheduler = get_scheduler(
            method["lrScheduler"],
            optimizer,
            num_warmup_steps=method["warmupSteps"] * world,
            num_training_steps=method["steps"] * world,
        )
        ema = self._ema(modules["unet"]) if self.kind == "full" and method["ema"] else None

        unwrapped = {"unet": modules["unet"]}
        if self.train_text_encoder:
            unwrapped["text_encoder"] = modules["text_encoder"]
            unet, text_encoder, optimizer, lr_scheduler = acc.prepare(
                modules["unet"], modules["text_encoder"], optimizer, lr_scheduler
            )
            trained = [unet, text_encoder]
        else:
            unet, optimizer, lr_scheduler = acc.prepare(modules["unet"], optimizer, lr_scheduler)
            text_encoder, trained = modules["text_encoder"], [unet]
        checkpoints.register_hooks(acc, unwrapped)
        if ema is not None:
            acc.register_for_checkpointing(ema)

        start_step = 0
        if resume is not None:
            acc.load_state(str(resume))
            if ema is not None:
                ema.to(self.device)
            start_step = resume_state["step"]
            log.info("resumed from %s at step %d", resume, start_step)

        vae = modules["vae"]
        instances = LatentSource([e.path for e in self.examples], vae, self.resolution, self.device)
        classes = LatentSource(class_paths, vae, self.resolution, self.device) if self.prior else None
        prompts = PromptEncoder(modules["tokenizer"], text_encoder, self.device, trainable=self.train_text_encoder)

        total = method["steps"]
        # a rung of successive halving stops early; the lr schedule stays that of `total` steps
        end = min(total, self.job.get("stopAt") or total)
        started = {"job": "train", "device": describe(self.device), "total": total, "rng": rng_record(self.seed)}
        if resume is not None:
            started["resumedFrom"] = start_step
        self.events.emit("started", **started)

        train_step = TrainStep(
            accelerator=acc,
            method=method,
            examples=self.examples,
            modules=modules,
            unet=unet,
            trained=trained,
            params=params,
            optimizer=optimizer,
            lr_scheduler=lr_scheduler,
            ema=ema,
            instances=instances,
            classes=classes,
            prompts=prompts,
        )
        t0 = time.monotonic()
        last_loss = None
        with stopping.polled():
            for step in range(start_step + 1, end + 1):
                last_loss = train_step(step)
                elapsed = time.monotonic() - t0
                self.events.emit(
                    "progress",
                    step=step,
                    total=total,
                    loss=last_loss,
                    lr=lr_scheduler.get_last_lr()[0],
                    its=(step - start_step) / max(elapsed, 1e-9),
                )
                stop = self._stop_requested()
                if method.get("validationEvery") and step % method["validationEvery"] == 0:
                    self._validate(step, modules)
                if step % method["checkpointEvery"] == 0 or step == end or stop:
                    self._checkpoint(step, last_loss, keep_checkpoints)
                if stop:
                    raise stopping.interrupted(
                        f"stopped by {stopping.interrupted().signal_name} after step {step} of {total}; "
                        f"resume with --resume {checkpoints.step_dir(self.out, step)}"
                    )
        if start_step >= end and not checkpoints.step_dir(self.out, end).is_dir():
            self._checkpoint(end, last_loss, keep_checkpoints)

        outputs = self._save_outputs(modules, ema)
        summary = {
            "job": "train",
            "runId": self.job["runId"],
            "method": self.kind,
            "steps": max(end, start_step),
            "total": total,
            "resumedFrom": start_step if resume is not None else None,
            "finalLoss": last_loss,
            "seconds": round(time.monotonic() - t0, 3),
            "device": describe(self.device),
            "processes": world,
            "outputs": outputs,
            "rng": rng_record(self.seed),
        }
        self.events.emit("done", **summary)
        return summary

    def _ema(self, unet):
        from diffusers import UNet2DConditionModel
        from diffusers.training_utils import EMAModel

        ema = EMAModel(unet.parameters(), model_cls=UNet2DConditionModel, model_config=unet.config)
        ema.to(self.device)
        return ema

    def _stop_requested(self) -> bool:
        stop = stopping.requested()
        if self.accelerator.num_processes > 1:  # all processes must stop at the same step
            flag = torch.tensor([1.0 if stop else 0.0], device=self.device)
            stop = bool(self.accelerator.reduce(flag, reduction="sum").item() > 0)
        return stop

    def _validate(self, step: int, modules) -> None:
        from .validation import write_validation_images

        if self.accelerator.is_main_process:
            prompt = self.method.get("instancePrompt") or self.examples[0].prompt
            write_validation_images(
                self.out, step, modules, prompt, self.seed, self.resolution, self.events, autocast=self.autocast()
            )
        self.accelerator.wait_for_everyone()

    def _checkpoint(self, step: int, loss, keep: int) -> None:
        info = {
            "runId": self.job["runId"],
            "method": self.kind,
            "trajectory": checkpoints.trajectory_hash(self.job),
            "loss": loss,
        }
        path = checkpoints.save(self.accelerator, self.out, step, info)
        if self.accelerator.is_main_process:
            self.events.emit("checkpoint", path=str(path), step=step, sha256=sha256_tree(path))
            checkpoints.prune(self.out, keep)

    def _save_outputs(self, modules, ema) -> dict:
        acc = self.accelerator
        acc.wait_for_everyone()
        outputs = {}
        if acc.is_main_process:
            unet = modules["unet"]
            if self.kind == "full":
                if ema is not None:
                    ema.copy_to(unet.parameters())
                directory = self.out / "unet"
                unet.save_pretrained(directory, safe_serialization=True)
                sha = sha256_tree(directory)
                self.events.emit(
                    "artifact",
                    path=str(directory),
                    sha256=sha,
                    kind="unet",
                    meta={"format": "diffusers-unet", "ema": ema is not None},
                )
                outputs["unet"] = {"path": str(directory), "sha256": sha}
            else:
                text_encoder = modules["text_encoder"] if self.train_text_encoder else None
                file = save_lora(self.out / "lora", unet, text_encoder)
                sha = sha256_file(file)
                meta = {
                    "format": "diffusers-lora",
                    "directory": str(file.parent),
                    "rank": self.method["rank"],
                    "alpha": self.method.get("alpha") or self.method["rank"],
                    "targets": self.method["targets"],
                    "textEncoder": self.train_text_encoder,
                }
                self.events.emit("artifact", path=str(file), sha256=sha, kind="lora", meta=meta)
                outputs["lora"] = {"path": str(file), "sha256": sha}
        acc.wait_for_everyone()
        return outputs
