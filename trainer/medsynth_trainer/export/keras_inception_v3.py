"""Keras' ImageNet InceptionV3 (1000-class softmax), the network of the MEDVQA-GI 2024 organisers'
scoring script (tensorflow.keras.applications.InceptionV3(), all layers up to the softmax).

Unlike the FID Inception: BatchNorm without scale, average pooling in both last blocks, 1000
classes. Modules are created in the order Keras creates its layers, so weights move between the
two by position (checked by shape). Input: float32 NCHW 299x299 in 0..255; Keras'
`preprocess_input` (x / 127.5 - 1) happens inside the graph. Real weights come from Keras
(`InceptionV3(weights="imagenet")` downloads inception_v3_weights_tf_dim_ordering_tf_kernels.h5,
md5 9a0d58056eeedaa3f26cb7ebd46da564) or from that .h5 file given with --weights-file.
"""

import re

import torch
import torch.nn as nn
import torch.nn.functional as F

INPUT_SIZE = 299


class ConvBN(nn.Module):
    """Keras conv2d_bn: Conv2D(use_bias=False) -> BatchNormalization(scale=False, eps=1e-3) -> relu."""

    def __init__(self, cin: int, cout: int, kh: int, kw: int, stride: int = 1, same: bool = True):
        super().__init__()
        padding = (kh // 2, kw // 2) if same else 0
        self.conv = nn.Conv2d(cin, cout, (kh, kw), stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def avg_pool_same(x):
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class Mixed35(nn.Module):  # mixed0..2
    def __init__(self, cin: int, pool: int):
        super().__init__()
        self.b1 = ConvBN(cin, 64, 1, 1)
        self.b5_1, self.b5_2 = ConvBN(cin, 48, 1, 1), ConvBN(48, 64, 5, 5)
        self.bd_1, self.bd_2, self.bd_3 = ConvBN(cin, 64, 1, 1), ConvBN(64, 96, 3, 3), ConvBN(96, 96, 3, 3)
        self.bp = ConvBN(cin, pool, 1, 1)

    def forward(self, x):
        return torch.cat([self.b1(x), self.b5_2(self.b5_1(x)), self.bd_3(self.bd_2(self.bd_1(x))),
                          self.bp(avg_pool_same(x))], 1)


class Mixed3(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.b3 = ConvBN(cin, 384, 3, 3, stride=2, same=False)
        self.bd_1, self.bd_2 = ConvBN(cin, 64, 1, 1), ConvBN(64, 96, 3, 3)
        self.bd_3 = ConvBN(96, 96, 3, 3, stride=2, same=False)

    def forward(self, x):
        return torch.cat([self.b3(x), self.bd_3(self.bd_2(self.bd_1(x))), F.max_pool2d(x, 3, stride=2)], 1)


class Mixed17(nn.Module):  # mixed4..7
    def __init__(self, c7: int):
        super().__init__()
        self.b1 = ConvBN(768, 192, 1, 1)
        self.b7 = nn.Sequential(ConvBN(768, c7, 1, 1), ConvBN(c7, c7, 1, 7), ConvBN(c7, 192, 7, 1))
        self.bd = nn.Sequential(ConvBN(768, c7, 1, 1), ConvBN(c7, c7, 7, 1), ConvBN(c7, c7, 1, 7),
                                ConvBN(c7, c7, 7, 1), ConvBN(c7, 192, 1, 7))
        self.bp = ConvBN(768, 192, 1, 1)

    def forward(self, x):
        return torch.cat([self.b1(x), self.b7(x), self.bd(x), self.bp(avg_pool_same(x))], 1)


class Mixed8(nn.Module):
    def __init__(self):
        super().__init__()
        self.b3 = nn.Sequential(ConvBN(768, 192, 1, 1), ConvBN(192, 320, 3, 3, stride=2, same=False))
        self.b7 = nn.Sequential(ConvBN(768, 192, 1, 1), ConvBN(192, 192, 1, 7), ConvBN(192, 192, 7, 1),
                                ConvBN(192, 192, 3, 3, stride=2, same=False))

    def forward(self, x):
        return torch.cat([self.b3(x), self.b7(x), F.max_pool2d(x, 3, stride=2)], 1)


class Mixed8x8(nn.Module):  # mixed9, mixed10
    def __init__(self, cin: int):
        super().__init__()
        self.b1 = ConvBN(cin, 320, 1, 1)
        self.b3, self.b3_1, self.b3_2 = ConvBN(cin, 384, 1, 1), ConvBN(384, 384, 1, 3), ConvBN(384, 384, 3, 1)
        self.bd, self.bd_2 = ConvBN(cin, 448, 1, 1), ConvBN(448, 384, 3, 3)
        self.bd_3a, self.bd_3b = ConvBN(384, 384, 1, 3), ConvBN(384, 384, 3, 1)
        self.bp = ConvBN(cin, 192, 1, 1)

    def forward(self, x):
        b3 = self.b3(x)
        bd = self.bd_2(self.bd(x))
        return torch.cat([self.b1(x), self.b3_1(b3), self.b3_2(b3), self.bd_3a(bd), self.bd_3b(bd),
                          self.bp(avg_pool_same(x))], 1)


class KerasInceptionV3(nn.Module):
    """Outputs (probs [N,1000] softmax, pool [N,2048] global average pool)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.ModuleList([ConvBN(3, 32, 3, 3, stride=2, same=False), ConvBN(32, 32, 3, 3, same=False),
                                   ConvBN(32, 64, 3, 3), ConvBN(64, 80, 1, 1, same=False),
                                   ConvBN(80, 192, 3, 3, same=False)])
        self.mixed = nn.Sequential(Mixed35(192, 32), Mixed35(256, 64), Mixed35(288, 64), Mixed3(288),
                                   Mixed17(128), Mixed17(160), Mixed17(160), Mixed17(192), Mixed8(),
                                   Mixed8x8(1280), Mixed8x8(2048))
        self.predictions = nn.Linear(2048, 1000)

    def forward(self, images):
        x = images / 127.5 - 1
        s = self.stem
        x = F.max_pool2d(s[2](s[1](s[0](x))), 3, stride=2)
        x = F.max_pool2d(s[4](s[3](x)), 3, stride=2)
        pool = torch.flatten(F.adaptive_avg_pool2d(self.mixed(x), 1), 1)
        return torch.softmax(self.predictions(pool), dim=1), pool


def conv_bn_units(model: KerasInceptionV3) -> list[ConvBN]:
    return [m for m in model.modules() if isinstance(m, ConvBN)]


def _creation_index(layer) -> int:
    # Keras names layers conv2d, conv2d_1, conv2d_2 ... in the order it creates them; model.layers
    # is in graph order instead, which interleaves the branches of a block differently
    match = re.fullmatch(r".*?(?:_(\d+))?", layer.name)
    return int(match.group(1) or 0)


def keras_weight_layers(keras_model) -> tuple[list, list, object]:
    """(Conv2D layers, BatchNormalization layers, the Dense classifier), convolutions and norms in creation order."""
    kinds = {type(layer).__name__: [] for layer in keras_model.layers}
    for layer in keras_model.layers:
        kinds[type(layer).__name__].append(layer)
    convs = sorted(kinds.get("Conv2D", []), key=_creation_index)
    norms = sorted(kinds.get("BatchNormalization", []), key=_creation_index)
    (dense,) = kinds.get("Dense", [None])
    return convs, norms, dense


@torch.no_grad()
def load_from_keras(model: KerasInceptionV3, keras_model) -> None:
    """Copies a Keras InceptionV3's weights (channels_last kernels) into the module, unit by unit."""
    convs, norms, dense = keras_weight_layers(keras_model)
    units = conv_bn_units(model)
    if len(convs) != len(units) or len(norms) != len(units) or dense is None:
        raise ValueError(f"expected {len(units)} Conv2D + BatchNormalization pairs and a Dense layer, found {len(convs)}, {len(norms)}")
    for unit, conv, norm in zip(units, convs, norms):
        (kernel,) = conv.get_weights()
        beta, mean, var = norm.get_weights()
        weight = torch.from_numpy(kernel).permute(3, 2, 0, 1)
        if weight.shape != unit.conv.weight.shape:
            raise ValueError(f"layer {conv.name}: shape {tuple(weight.shape)} != {tuple(unit.conv.weight.shape)}")
        unit.conv.weight.copy_(weight)
        unit.bn.weight.fill_(1.0)
        unit.bn.bias.copy_(torch.from_numpy(beta))
        unit.bn.running_mean.copy_(torch.from_numpy(mean))
        unit.bn.running_var.copy_(torch.from_numpy(var))
    kernel, bias = dense.get_weights()
    model.predictions.weight.copy_(torch.from_numpy(kernel).T)
    model.predictions.bias.copy_(torch.from_numpy(bias))


def save_to_keras(model: KerasInceptionV3, keras_model) -> None:
    """The inverse of load_from_keras (tests put the seeded random weights into a real Keras model)."""
    convs, norms, dense = keras_weight_layers(keras_model)
    for unit, conv, norm in zip(conv_bn_units(model), convs, norms):
        conv.set_weights([unit.conv.weight.detach().permute(2, 3, 1, 0).numpy()])
        norm.set_weights([t.detach().numpy() for t in (unit.bn.bias, unit.bn.running_mean, unit.bn.running_var)])
    dense.set_weights([model.predictions.weight.detach().T.numpy(), model.predictions.bias.detach().numpy()])


def build(weights: str, seed: int, weights_file: str | None = None) -> nn.Module:
    model = KerasInceptionV3()
    if weights == "real":
        import os

        os.environ.setdefault("KERAS_BACKEND", "torch")  # keras 3 runs on this torch; TensorFlow not needed
        import keras

        keras_model = keras.applications.InceptionV3(weights=weights_file or "imagenet")
        load_from_keras(model, keras_model)
    else:
        from .random_init import init_random_weights, smooth_images

        init_random_weights(model, seed, smooth_images(torch.Generator().manual_seed(seed + 1), 16, INPUT_SIZE))
        with torch.no_grad():  # Keras has no BatchNorm scale: keep it at 1
            for unit in conv_bn_units(model):
                unit.bn.weight.fill_(1.0)
            model.predictions.weight.mul_(0.1)  # a softmax that is not saturated
    return model.eval()


SPEC = {
    "input": {"name": "images", "shape": ["batch", 3, INPUT_SIZE, INPUT_SIZE], "dtype": "float32", "layout": "NCHW",
              "range": "0..255", "resize": "np.resize re-tiling (MEDVQA-GI 2024 script), done by the caller",
              "normalisation": "x / 127.5 - 1 (Keras preprocess_input, mode 'tf'), inside the graph"},
    "outputs": [{"name": "probs", "shape": ["batch", 1000]}, {"name": "pool", "shape": ["batch", 2048]}],
}
