"""Loads the reference implementations' own code without importing torchvision.

torch-fidelity 0.4.0 and pytorch-fid 0.3.0 import torchvision when their packages are imported,
and PyPI's torchvision does not load beside the torch build this project pins. None of the
functions the tests call touch torchvision, so:

- torch-fidelity: a stand-in package object `torch_fidelity` whose __path__ is the installed
  package directory, so `import torch_fidelity.metric_fid` executes the real module files but
  not the package's __init__.py. Its `utils` module (dataset loading, imports torchvision) is
  replaced by a module whose names raise if ever called; the metric functions we call
  (fid_statistics_to_metric, fid_features_to_statistics, kid_features_to_metric,
  isc_features_to_metric), the resize (interpolate_bilinear_2d_like_tensorflow1x) and
  FeatureExtractorInceptionV3 never use it.
- pytorch-fid: its fid_score.py imports torchvision.transforms and its inception.py subclasses
  torchvision's Inception blocks, so only the source text of `calculate_frechet_distance` is
  taken from the installed fid_score.py (ast) and executed with numpy and scipy.linalg, the two
  names it uses. Its InceptionV3 cannot be built without torchvision; torch-fidelity's
  FeatureExtractorInceptionV3 (the same network, adapted from pytorch-fid) is the module the
  tests compare the ONNX export against.
- torch-fidelity's whole pipeline (`calculate_metrics` on image folders): the real package,
  imported after a stand-in `torchvision` is put in sys.modules (torchvision_stand_in below).
  On that path torch-fidelity uses torchvision for two things only: `transforms.Compose` of its
  one transform and `transforms.functional.pil_to_tensor` (a decoded PIL image as a CHW uint8
  tensor); the stand-in does those two, and every other name raises if ever called.
"""

import ast
import importlib
import importlib.util
import sys
import types
from pathlib import Path


def _missing(name):
    def fail(*args, **kwargs):
        raise RuntimeError(f"torch_fidelity.utils.{name} is stubbed out in test/reference/upstream.py")

    return fail


def torch_fidelity():
    """Returns a namespace with the real torch-fidelity modules the tests use."""
    if "torch_fidelity.metric_fid" not in sys.modules:
        spec = importlib.util.find_spec("torch_fidelity")
        package = types.ModuleType("torch_fidelity")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["torch_fidelity"] = package
        utils = types.ModuleType("torch_fidelity.utils")
        for name in ("get_cacheable_input_name", "cache_lookup_one_recompute_on_miss",
                     "extract_featuresdict_from_input_id_cached", "create_feature_extractor",
                     "resolve_feature_extractor", "resolve_feature_layer_for_metric"):
            setattr(utils, name, _missing(name))
        sys.modules["torch_fidelity.utils"] = utils
    names = ("metric_fid", "metric_kid", "metric_isc", "interpolate_compat_tensorflow", "feature_extractor_inceptionv3")
    return types.SimpleNamespace(**{n: importlib.import_module(f"torch_fidelity.{n}") for n in names})


def pytorch_fid_calculate_frechet_distance():
    source_path = Path(importlib.util.find_spec("pytorch_fid").origin).with_name("fid_score.py")
    tree = ast.parse(source_path.read_text())
    (fn,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "calculate_frechet_distance"]
    import numpy as np
    from scipy import linalg

    namespace = {"np": np, "linalg": linalg}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), str(source_path), "exec"), namespace)
    return namespace["calculate_frechet_distance"]


def _raising_module(name):
    module = types.ModuleType(name)
    module.__getattr__ = lambda attr: _missing_torchvision(f"{name}.{attr}")
    return module


def _missing_torchvision(name):
    def fail(*args, **kwargs):
        raise RuntimeError(f"{name} is not in test/reference/upstream.py's torchvision stand-in")

    class Missing:
        def __init__(self, *args, **kwargs):
            fail()

    return Missing if name.rsplit(".", 1)[-1][:1].isupper() else fail


def torchvision_stand_in():
    """The two torchvision pieces torch-fidelity uses on image folders (see the module docstring)."""
    import numpy as np
    import torch

    root = _raising_module("torchvision")
    transforms = _raising_module("torchvision.transforms")
    functional = _raising_module("torchvision.transforms.functional")

    class Compose:
        def __init__(self, steps):
            self.steps = steps

        def __call__(self, x):
            for step in self.steps:
                x = step(x)
            return x

    def pil_to_tensor(pic):
        return torch.as_tensor(np.array(pic, copy=True)).view(pic.size[1], pic.size[0], len(pic.getbands())).permute(2, 0, 1)

    transforms.Compose = Compose
    transforms.functional = functional
    functional.pil_to_tensor = pil_to_tensor
    root.transforms = transforms
    modules = {"torchvision": root, "torchvision.transforms": transforms, "torchvision.transforms.functional": functional}
    for sub in ("datasets", "models"):
        modules[f"torchvision.{sub}"] = _raising_module(f"torchvision.{sub}")
        setattr(root, sub, modules[f"torchvision.{sub}"])
    return modules


def torch_fidelity_calculate_metrics():
    """torch-fidelity's own calculate_metrics (the real package), runnable without torchvision."""
    if importlib.util.find_spec("torchvision") is None:
        sys.modules.update(torchvision_stand_in())
    import torch_fidelity as package

    return package.calculate_metrics
