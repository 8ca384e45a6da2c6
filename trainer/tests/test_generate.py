"""Generation is a function of its inputs: seeds, batching and sharding never change an image."""

import json

import numpy as np
import pytest
from conftest import generate, generate_job, train, train_job
from PIL import Image


def pixels(events) -> dict[str, np.ndarray]:
    return {
        e["path"].rsplit("/", 1)[-1]: np.asarray(Image.open(e["path"]))
        for e in events.of("artifact")
        if e["kind"] == "image"
    }


def by_inputs(events) -> dict[tuple, np.ndarray]:
    return {
        (e["meta"]["prompt"], e["meta"]["seed"], e["meta"]["index"]): np.asarray(Image.open(e["path"]))
        for e in events.of("artifact")
        if e["kind"] == "image"
    }


def test_same_inputs_give_identical_images(tiny_model, tmp_path):
    job = generate_job(imagesPerPrompt=2, scheduler="euler-a")  # euler-a draws noise at every step too
    first, second = generate(job, tmp_path / "a"), generate(job, tmp_path / "b")
    a, b = pixels(first), pixels(second)
    assert len(a) == 8 and a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert len({v.tobytes() for v in a.values()}) == 8  # every (prompt, seed, index) differs


def test_sharding_and_resume_do_not_change_images(tiny_model, tmp_path):
    job = generate_job(imagesPerPrompt=2, batchSize=3)
    whole = pixels(generate(job, tmp_path / "whole"))
    shards = {}
    for index in range(3):
        shards.update(pixels(generate({**job, "shard": {"index": index, "count": 3}}, tmp_path / "sharded")))
    assert shards.keys() == whole.keys()
    assert all(np.array_equal(shards[k], whole[k]) for k in whole)

    # A retried job skips what exists and makes only what is missing.
    victim = sorted(whole)[0]
    (tmp_path / "whole" / victim).unlink()
    again = generate(job, tmp_path / "whole")
    assert again.of("done")[0]["generated"] == 1 and again.of("done")[0]["reused"] == 7
    assert np.array_equal(pixels(again)[victim], whole[victim])
    rows = [json.loads(r) for r in (tmp_path / "whole" / "provenance.jsonl").read_text().splitlines()]
    assert sorted(r["path"] for r in rows) == sorted(whole)  # one row per image file, none twice


def test_batch_size_changes_at_most_rounding(tiny_model, tmp_path):
    one = by_inputs(generate(generate_job(batchSize=1), tmp_path / "one"))
    four = by_inputs(generate(generate_job(batchSize=4), tmp_path / "four"))
    assert one.keys() == four.keys()
    for key in one:  # same latents and noise; only the batch's float rounding may differ
        assert np.abs(one[key].astype(int) - four[key].astype(int)).max() <= 1


def test_png_and_provenance_say_what_made_the_image(tiny_model, tmp_path):
    job = generate_job(negativePrompt="blurry", scheduler="ddim")
    events = generate(job, tmp_path)
    image_event = events.of("artifact")[0]
    text = Image.open(image_event["path"]).text
    assert text["medsynth:synthetic"] == "true" and text["medsynth:run_id"] == "test-generate"
    assert text["medsynth:prompt"] == image_event["meta"]["prompt"]
    assert text["medsynth:seed"] == str(image_event["meta"]["seed"])

    rows = [json.loads(line) for line in (tmp_path / "provenance.jsonl").read_text().splitlines()]
    assert len(rows) == 4
    row = rows[0]
    # The fields the TypeScript generate activity reads: path (relative to the out folder), image_sha256.
    assert (tmp_path / row["path"]).is_file() and row["image_sha256"] == image_event["sha256"]
    assert row["prompt"] == image_event["meta"]["prompt"] and row["seed"] == image_event["meta"]["seed"]
    assert row["negativePrompt"] == "blurry"
    assert row["scheduler"] == "ddim" and (row["width"], row["height"]) == (32, 32)
    assert set(row["baseModel"]["weights"]) == {
        "unet/diffusion_pytorch_model.safetensors",
        "vae/diffusion_pytorch_model.safetensors",
        "text_encoder/model.safetensors",
    }
    assert {"torch", "diffusers", "transformers", "peft"} <= row["versions"].keys()
    assert row["device"] == "cpu" and row["runId"] == "test-generate" and row["lora"] is None


@pytest.mark.parametrize("scheduler", ["ddim", "dpm++", "euler", "euler-a", "pndm", "unipc"])
def test_every_scheduler_generates(scheduler, tiny_model, tmp_path):
    events = generate(generate_job(prompts=["a polyp"], seeds=[3], steps=3, scheduler=scheduler), tmp_path)
    (image,) = [e for e in events.of("artifact") if e["kind"] == "image"]
    assert np.asarray(Image.open(image["path"])).shape == (32, 32, 3)


def test_fine_tuned_unet_replaces_the_base_unet(data_file, tiny_model, tmp_path):
    trained = train(train_job(data_file, "full", resolution=32, steps=2, learningRate=1e-3), tmp_path / "train")
    unet_dir = trained.of("artifact")[-1]["path"]
    job = generate_job(prompts=["a polyp"], seeds=[3], steps=3)
    base = by_inputs(generate(job, tmp_path / "base"))
    tuned_events = generate({**job, "unet": unet_dir}, tmp_path / "tuned")
    tuned = by_inputs(tuned_events)
    assert any(not np.array_equal(base[k], tuned[k]) for k in base)
    row = json.loads((tmp_path / "tuned" / "provenance.jsonl").read_text().splitlines()[0])
    assert row["unet"]["sha256"] == trained.of("artifact")[-1]["sha256"]
