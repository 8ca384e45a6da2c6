"""One optimisation step of any method. Every random draw (which images, noise, timesteps, dropout)
comes from (seed, step, micro-batch, rank), so a resumed run repeats an uninterrupted one exactly."""

from contextlib import ExitStack

import torch

from .losses import denoising_loss, min_snr_weights, target_for
from .seeds import derive_seed, generator
from .training_data import LatentSource, PromptEncoder, SampleOrder

MAX_GRAD_NORM = 1.0


class TrainStep:
    """One optimisation step. `modules` holds the unwrapped models and the noise scheduler; `unet` and
    `trained` are what accelerator.prepare returned (DDP-wrapped with several processes)."""

    def __init__(
        self,
        *,
        accelerator,
        method: dict,
        examples: list,
        modules: dict,
        unet,
        trained: list,
        params: list,
        optimizer,
        lr_scheduler,
        ema,
        instances: LatentSource,
        classes: LatentSource | None,
        prompts: PromptEncoder,
    ):
        self.acc, self.method, self.examples = accelerator, method, examples
        self.unet, self.trained, self.params = unet, trained, params
        self.optimizer, self.lr_scheduler, self.ema = optimizer, lr_scheduler, ema
        self.instances, self.classes, self.prompts = instances, classes, prompts
        self.noise_scheduler = modules["noise_scheduler"]
        self.ema_target = modules["unet"]
        self.seed, self.device = method["seed"], accelerator.device
        self.batch, self.accumulation = method["batchSize"], method["gradientAccumulation"]
        self.order = SampleOrder(len(examples), self.seed, "instance")
        self.class_order = SampleOrder(len(classes.paths), self.seed, "class") if classes else None
        self.instance_prompt = method.get("instancePrompt")
        self.class_prompt = method.get("classPrompt")
        self.snr_gamma = method.get("snrGamma")  # full fine-tune only (the schema has it nowhere else)
        self.noise_offset = method.get("noiseOffset", 0)
        self.prior_weight = method["priorLossWeight"] if classes is not None else None

    def __call__(self, step: int) -> float:
        """Runs step `step` (1-based) and returns its mean loss over micro-batches and processes."""
        acc = self.acc
        rank, world = acc.process_index, acc.num_processes
        torch.manual_seed(derive_seed(self.seed, "dropout", step, rank))  # LoRA dropout and the like
        losses = []
        for micro in range(self.accumulation):
            start = (((step - 1) * self.accumulation + micro) * world + rank) * self.batch
            positions = range(start, start + self.batch)
            last = micro == self.accumulation - 1
            with ExitStack() as stack:
                if not last and world > 1:
                    for model in self.trained:
                        stack.enter_context(acc.no_sync(model))
                loss = self._micro_batch_loss(step, micro, rank, positions)
                acc.backward(loss / self.accumulation)
            losses.append(loss.detach())
        if acc.sync_gradients:
            acc.clip_grad_norm_(self.params, MAX_GRAD_NORM)
        self.optimizer.step()
        self.lr_scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.step(self.ema_target.parameters())
        mean_loss = torch.stack(losses).mean()
        if world > 1:
            mean_loss = acc.reduce(mean_loss, reduction="mean")
        return float(mean_loss.item())

    def _micro_batch_loss(self, step, micro, rank, positions) -> torch.Tensor:
        g = generator(self.seed, "noise", step, micro, rank)
        indices = self.order.at(positions)
        latents = self.instances.latents(indices, g)
        texts = [self.instance_prompt or self.examples[i].prompt for i in indices]
        if self.classes is not None:
            latents = torch.cat([latents, self.classes.latents(self.class_order.at(positions), g)])
            texts += [self.class_prompt] * len(positions)
        noise = torch.randn(latents.shape, generator=g)
        if self.noise_offset:
            noise += self.noise_offset * torch.randn((latents.shape[0], latents.shape[1], 1, 1), generator=g)
        timesteps = torch.randint(0, self.noise_scheduler.config.num_train_timesteps, (latents.shape[0],), generator=g)
        noise, timesteps = noise.to(self.device), timesteps.to(self.device)
        noisy = self.noise_scheduler.add_noise(latents, noise, timesteps)
        embeddings = self.prompts(texts)
        prediction = self.unet(noisy, timesteps, embeddings).sample
        target = target_for(self.noise_scheduler, latents, noise, timesteps)
        weights = min_snr_weights(self.noise_scheduler, timesteps, self.snr_gamma) if self.snr_gamma else None
        return denoising_loss(prediction, target, weights=weights, prior_weight=self.prior_weight)
