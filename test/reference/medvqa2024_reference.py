"""The MEDVQA-GI 2024 organisers' image-synthesis scoring (simula/ImageCLEFmed-MEDVQA-GI-2024,
evaluate_task_1.py at 411569b), re-typed step by step, on a real Keras InceptionV3.

Usage: medvqa2024_reference.py OUT.json SEED --real IMAGE... --fake IMAGE...
The Keras model (keras 3, torch backend; the organisers ran tensorflow.keras, same layers) gets
the weights of medsynth_trainer.export.keras_inception_v3.build("random", SEED), the module that
the exporter turns into ONNX, so the test can run the same network through our ONNX file.
Steps as in the script: skimage.io.imread (here Pillow, which skimage uses for JPEG/PNG),
np.resize(img, (299, 299, 3)), keras preprocess_input, model.predict to the last layer (softmax),
FID = |mu1-mu2|^2 + tr(S1 + S2 - 2 sqrtm(S1.S2).real), IS over floor(N/10)-image parts with
eps 1e-16, mean/std/median.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.applications.inception_v3 import InceptionV3, preprocess_input  # noqa: E402
from PIL import Image  # noqa: E402
from scipy.linalg import sqrtm  # noqa: E402

from medsynth_trainer.export.keras_inception_v3 import build, save_to_keras  # noqa: E402


def imread(path):
    img = Image.open(path)
    if img.mode == "P":
        img = img.convert("RGB")
    return np.asarray(img)


def preprocess_images(paths):
    return np.array([preprocess_input(np.resize(imread(p), (299, 299, 3))) for p in paths])


def calculate_fid(real, generated, model):
    act1, act2 = model.predict(real, verbose=0), model.predict(generated, verbose=0)
    mu1, sigma1 = act1.mean(axis=0), np.cov(act1, rowvar=False)
    mu2, sigma2 = act2.mean(axis=0), np.cov(act2, rowvar=False)
    ssdiff = np.sum((mu1 - mu2) ** 2.0)
    covmean = sqrtm(sigma1.dot(sigma2))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(ssdiff + np.trace(sigma1 + sigma2 - 2.0 * covmean))


def calculate_inception_score(images, model, n_split=10, eps=1e-16):
    yhat = model.predict(images, verbose=0)
    scores = []
    n_part = np.floor(len(yhat) / n_split)
    for i in range(n_split):
        p_yx = yhat[int(i * n_part) : int((i + 1) * n_part)]
        p_y = np.expand_dims(p_yx.mean(axis=0), axis=0)
        kl = p_yx * (np.log(p_yx + eps) - np.log(p_y + eps))
        scores.append(float(np.exp(np.mean(kl.sum(axis=1)))))
    return float(np.mean(scores)), float(np.std(scores)), float(np.median(scores)), scores


def main(argv):
    out, seed = argv[0], int(argv[1])
    split = argv.index("--fake")
    real_paths, fake_paths = argv[argv.index("--real") + 1 : split], argv[split + 1 :]
    base = InceptionV3(weights=None)
    save_to_keras(build("random", seed), base)
    model = keras.Model(inputs=base.inputs, outputs=base.layers[-1].output)
    real, fake = preprocess_images(real_paths), preprocess_images(fake_paths)
    fid = calculate_fid(real, fake, model)
    is_avg, is_std, is_med, scores = calculate_inception_score(fake, model)
    with open(out, "w") as f:
        json.dump({"fid": fid, "is_avg": is_avg, "is_std": is_std, "is_med": is_med, "scores": scores}, f)


if __name__ == "__main__":
    main(sys.argv[1:])
