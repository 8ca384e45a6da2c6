"""BiomedCLIP's image encoder: timm's vit_base_patch16_224 trunk (CLS-token pooling) plus
open_clip's linear projection to 512 (`model.encode_image`, before any L2 normalisation).

Written in plain PyTorch with timm's parameter names, so the real checkpoint
(open_clip_pytorch_model.bin of the hub id below, keys `visual.trunk.*` and `visual.head.proj.*`)
loads without timm or open_clip. Input: float32 NCHW 224x224, already resized (bicubic shortest
side + centre crop) and normalised with the CLIP mean/std by the caller.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

HUB_ID = "microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224"
CHECKPOINT = "open_clip_pytorch_model.bin"
INPUT_SIZE, PATCH, WIDTH, DEPTH, HEADS, EMBED = 224, 16, 768, 12, 12, 512
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, WIDTH, PATCH, stride=PATCH)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, HEADS, WIDTH // HEADS).permute(2, 0, 3, 1, 4).unbind(0)
        attn = torch.softmax((q * (WIDTH // HEADS) ** -0.5) @ k.transpose(-2, -1), dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, WIDTH))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(WIDTH, 4 * WIDTH)
        self.fc2 = nn.Linear(4 * WIDTH, WIDTH)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(WIDTH, eps=1e-6)
        self.attn = Attention()
        self.norm2 = nn.LayerNorm(WIDTH, eps=1e-6)
        self.mlp = Mlp()

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = PatchEmbed()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, WIDTH))
        self.pos_embed = nn.Parameter(torch.zeros(1, (INPUT_SIZE // PATCH) ** 2 + 1, WIDTH))
        self.blocks = nn.Sequential(*[Block() for _ in range(DEPTH)])
        self.norm = nn.LayerNorm(WIDTH, eps=1e-6)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.norm(self.blocks(x))[:, 0]


class BiomedCLIPVision(nn.Module):
    """Outputs (embedding [N,512] = encode_image, cls [N,768] = trunk CLS token after the last norm)."""

    def __init__(self):
        super().__init__()
        self.trunk = Trunk()
        self.proj = nn.Linear(WIDTH, EMBED, bias=False)

    def forward(self, images):
        cls = self.trunk(images)
        return self.proj(cls), cls


def load_open_clip_state(model: BiomedCLIPVision, state: dict) -> None:
    visual = {k[len("visual."):]: v for k, v in state.items() if k.startswith("visual.")}
    mapped = {k: v for k, v in visual.items() if k.startswith("trunk.")}
    mapped["proj.weight"] = visual["head.proj.weight"]
    model.load_state_dict(mapped)


def build(weights: str, seed: int, weights_file: str | None = None) -> nn.Module:
    model = BiomedCLIPVision()
    if weights == "real":
        if not weights_file:
            from huggingface_hub import hf_hub_download

            weights_file = hf_hub_download(HUB_ID, CHECKPOINT)
        load_open_clip_state(model, torch.load(weights_file, map_location="cpu", weights_only=True))
    else:
        from .random_init import init_random_weights

        init_random_weights(model, seed)
        generator = torch.Generator().manual_seed(seed + 2)
        with torch.no_grad():
            model.trunk.cls_token.copy_(torch.randn(model.trunk.cls_token.shape, generator=generator) * 0.02)
            model.trunk.pos_embed.copy_(torch.randn(model.trunk.pos_embed.shape, generator=generator) * 0.02)
    return model.eval()


SPEC = {
    "input": {"name": "images", "shape": ["batch", 3, INPUT_SIZE, INPUT_SIZE], "dtype": "float32", "layout": "NCHW",
              "range": "CLIP-normalised", "resize": "bicubic shortest side to 224 + centre crop (open_clip), done by the caller",
              "normalisation": f"(x/255 - mean) / std, mean {CLIP_MEAN}, std {CLIP_STD}, done by the caller"},
    "outputs": [{"name": "embedding", "shape": ["batch", EMBED]}, {"name": "cls", "shape": ["batch", WIDTH]}],
}
