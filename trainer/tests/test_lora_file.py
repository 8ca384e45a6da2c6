"""A LoRA we save loads with diffusers' load_lora_weights, completely and with its alpha."""

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import generate, generate_job, train, train_job
from diffusers import StableDiffusionPipeline, UNet2DConditionModel
from PIL import Image
from safetensors.torch import load_file

from medsynth_trainer.adapters import lora_config
from medsynth_trainer.checkpoints import TRAINABLE_FILE, step_dir

STEPS = 8


@pytest.fixture(scope="module")
def trained_lora(data_file, tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("lora-run")
    # alpha != rank: a loader that ignored the stored alpha would scale the update wrongly.
    job = train_job(
        data_file, "lora", resolution=32, steps=STEPS, rank=4, alpha=8, trainTextEncoder=True, learningRate=5e-2
    )
    events = train(job, out)
    return job, out, events.of("artifact")[0]


def fresh_pipeline(tiny_model):
    pipe = StableDiffusionPipeline.from_pretrained(tiny_model, safety_checker=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def sample(pipe):
    return pipe(
        "an endoscopy image of a polyp",
        num_inference_steps=3,
        height=32,
        width=32,
        output_type="np",
        generator=torch.Generator().manual_seed(0),
    ).images


def test_lora_loads_into_a_fresh_pipeline_and_changes_it(trained_lora, tiny_model):
    _, _, artifact = trained_lora
    pipe = fresh_pipeline(tiny_model)
    before = sample(pipe)
    pipe.load_lora_weights(artifact["meta"]["directory"])
    after = sample(pipe)
    assert np.abs(after - before).max() > 1e-3

    saved = load_file(artifact["path"])
    assert all(k.startswith(("unet.", "text_encoder.")) for k in saved)  # diffusers' key format
    loaded_unet = sum(1 for n, _ in pipe.unet.named_modules() if n.endswith("lora_A.default_0"))
    loaded_text = sum(1 for n, _ in pipe.text_encoder.named_modules() if n.endswith("lora_A.default_0"))
    # Every saved layer (diffusers names: ...lora.down.weight / lora_linear_layer.down.weight) was loaded.
    assert loaded_unet == sum(1 for k in saved if k.startswith("unet.") and k.endswith("down.weight")) > 0
    assert loaded_text == sum(1 for k in saved if k.startswith("text_encoder.") and k.endswith("down.weight")) > 0


def test_loaded_lora_computes_what_was_trained(trained_lora, tiny_model):
    job, out, artifact = trained_lora
    # The UNet as training left it: base weights + the adapter restored from the last checkpoint.
    trained = UNet2DConditionModel.from_pretrained(tiny_model, subfolder="unet")
    trained.add_adapter(lora_config(job["method"], job["method"]["targets"]))
    tensors = load_file(step_dir(out, STEPS) / TRAINABLE_FILE)
    params = dict(trained.named_parameters())
    for key, value in tensors.items():
        if key.startswith("unet."):
            params[key.removeprefix("unet.")].data.copy_(value)

    pipe = fresh_pipeline(tiny_model)
    pipe.load_lora_weights(artifact["meta"]["directory"])
    x, t, text = torch.randn(1, 4, 4, 4), torch.tensor([500]), torch.randn(1, 77, 32)
    with torch.no_grad():
        assert torch.allclose(pipe.unet(x, t, text).sample, trained(x, t, text).sample, atol=1e-5)


def test_generate_job_applies_the_lora(trained_lora, tiny_model, tmp_path):
    _, _, artifact = trained_lora
    plain = generate(generate_job(prompts=["an endoscopy image of a polyp"], seeds=[0]), tmp_path / "plain")
    with_lora = generate(
        {
            **generate_job(prompts=["an endoscopy image of a polyp"], seeds=[0]),
            "lora": {"path": artifact["meta"]["directory"], "scale": 1.0},
        },
        tmp_path / "lora",
    )
    a, b = (np.asarray(Image.open(e.of("artifact")[0]["path"])) for e in (plain, with_lora))
    assert np.abs(a.astype(int) - b.astype(int)).max() > 0
    row = (tmp_path / "lora" / "provenance.jsonl").read_text()
    assert artifact["sha256"] in row


def test_a_lora_for_another_model_is_refused_by_name_before_loading(trained_lora, tiny_model, tmp_path):
    """check_lora_fits: the LoRA we trained fits; one tensor with another width, or a module the base
    model lacks, is a BadInput that names the tensor (the challenge's check of submitted weights)."""
    from safetensors.torch import save_file

    from medsynth_trainer.errors import BadInput
    from medsynth_trainer.generate import check_lora_fits

    _, _, artifact = trained_lora
    lora = Path(artifact["path"])
    lora = lora / "pytorch_lora_weights.safetensors" if lora.is_dir() else lora
    pipe = fresh_pipeline(tiny_model)
    check_lora_fits(pipe, lora)

    tensors = load_file(lora)
    key = next(k for k in tensors if k.startswith("unet.") and k.endswith(".lora.down.weight"))
    wider = {**tensors, key: torch.zeros(tensors[key].shape[0], tensors[key].shape[1] + 8)}
    save_file(wider, tmp_path / "wider.safetensors")
    with pytest.raises(BadInput, match=r"has shape .* takes \[rank, \d+\]: a LoRA for another model"):
        check_lora_fits(pipe, tmp_path / "wider.safetensors")

    renamed = {**tensors, key.replace("down_blocks.0", "down_blocks.7"): tensors[key].clone()}
    save_file(renamed, tmp_path / "renamed.safetensors")
    with pytest.raises(BadInput, match=r"the base model has no module unet\.down_blocks\.7"):
        check_lora_fits(pipe, tmp_path / "renamed.safetensors")
