"""Reference preprocessing of image files, written as .npy for the TS tests to compare with.

Usage: image_reference.py OUT_DIR IMAGE...
- tf1.npy    float32 [N,3,299,299]: PIL decode + convert('RGB') (as torch-fidelity's
             ImagesPathDataset) resized by torch-fidelity's own interpolate_bilinear_2d_like_tensorflow1x
- npresize.npy uint8 [N,299,299,3]: np.resize(np.asarray(Image.open(f)), (299, 299, 3)) as in the
             MEDVQA-GI 2024 script (its skimage.io.imread reads JPEG/PNG through Pillow, like here)
             (palette images expanded to RGB first, as imageio does)
- clip.npy   float32 [N,3,224,224]: open_clip's eval transform for BiomedCLIP, spelled out because
             torchvision cannot be imported: torchvision's Resize(224) output size rule, Pillow's own
             Image.resize(BICUBIC), CenterCrop(224) with round(), ToTensor, Normalize in float32
"""

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from upstream import torch_fidelity  # noqa: E402

MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(3, 1, 1)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(3, 1, 1)


def clip_preprocess(img: Image.Image, size: int = 224) -> torch.Tensor:
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), Image.BICUBIC)
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
    img = img.crop((left, top, left + size, top + size)).convert("RGB")
    x = torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).to(torch.float32).div(255)
    return (x - MEAN) / STD


def as_imageio_reads(img: Image.Image) -> Image.Image:
    # imageio's Pillow plugin (under skimage.io.imread) expands palette images to RGB(A)
    if img.mode == "P":
        return img.convert("RGBA" if "transparency" in img.info else "RGB")
    return img


def main(out: Path, files: list[str]) -> None:
    resize = torch_fidelity().interpolate_compat_tensorflow.interpolate_bilinear_2d_like_tensorflow1x
    tf1, tiled, clip = [], [], []
    for f in files:
        rgb = Image.open(f).convert("RGB")
        x = torch.from_numpy(np.asarray(rgb).copy()).permute(2, 0, 1).unsqueeze(0).to(torch.float32)
        tf1.append(resize(x, size=(299, 299), align_corners=False)[0].numpy())
        tiled.append(np.resize(np.asarray(as_imageio_reads(Image.open(f))), (299, 299, 3)))
        clip.append(clip_preprocess(Image.open(f)).numpy())
    np.save(out / "tf1.npy", np.stack(tf1).astype(np.float32))
    np.save(out / "npresize.npy", np.stack(tiled).astype(np.uint8))
    np.save(out / "clip.npy", np.stack(clip).astype(np.float32))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
