"""VGG-19 convolutional features with torchvision's ``features.N`` numbering and named layers."""
from __future__ import annotations

import torch
from torch import nn

from ..errors import VidstyleError

# Channel counts of VGG-19 ("configuration E"); "P" marks a 2x2 pooling layer.
_CONFIG = (64, 64, "P", 128, 128, "P", 256, 256, 256, 256, "P", 512, 512, 512, 512, "P", 512, 512, 512, 512, "P")


def _layer_names() -> list[str]:
    """Names in torchvision's order: conv1_1, relu1_1, conv1_2, ..., pool1, conv2_1, ..."""
    names, block, idx = [], 1, 1
    for item in _CONFIG:
        if item == "P":
            names.append(f"pool{block}")
            block, idx = block + 1, 1
        else:
            names += [f"conv{block}_{idx}", f"relu{block}_{idx}"]
            idx += 1
    return names


LAYER_NAMES: tuple[str, ...] = tuple(_layer_names())
LAYER_INDEX: dict[str, int] = {name: i for i, name in enumerate(LAYER_NAMES)}
CONV_LAYERS: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("conv"))


def check_layers(names: tuple[str, ...] | list[str]) -> None:
    """Raise VidstyleError for layer names VGG-19 does not have."""
    unknown = [n for n in names if n not in LAYER_INDEX]
    if unknown:
        raise VidstyleError(f"unknown VGG-19 layer(s) {', '.join(unknown)}; valid names look like relu4_2, conv1_1, pool3")


def required_convs(names: tuple[str, ...] | list[str]) -> list[str]:
    """The convolution layers whose weights are needed to compute every layer in ``names``."""
    check_layers(names)
    depth = max(LAYER_INDEX[n] for n in names)
    return [n for n in CONV_LAYERS if LAYER_INDEX[n] <= depth]


class VGGFeatures(nn.Module):
    """VGG-19 ``features`` cut after the deepest requested layer; returns the requested activations.

    Parameter names are ``features.N.weight`` / ``features.N.bias`` exactly as in torchvision, so its
    checkpoint (and the caffe-converted one in ``shared/weights``) loads unchanged. Parameters are frozen
    and the module stays in eval mode.
    """

    def __init__(self, layers: tuple[str, ...] | list[str], pooling: str = "avg") -> None:
        super().__init__()
        check_layers(layers)
        self.layers = tuple(layers)
        depth = max(LAYER_INDEX[n] for n in self.layers)
        modules: list[nn.Module] = []
        in_ch = 3
        for item in _CONFIG:
            if item == "P":
                modules.append(nn.AvgPool2d(2, 2) if pooling == "avg" else nn.MaxPool2d(2, 2))
            else:
                modules += [nn.Conv2d(in_ch, int(item), kernel_size=3, padding=1), nn.ReLU(inplace=False)]
                in_ch = int(item)
        modules = modules[: depth + 1]
        self.features = nn.Sequential(*modules)
        # each 2x2 pooling halves the image: a side below 2**poolings would leave no pixel at the deepest layer
        self.min_side = 2 ** sum(isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)) for m in modules)
        self.deepest = LAYER_NAMES[depth]
        self._wanted = {LAYER_INDEX[n]: n for n in self.layers}
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "VGGFeatures":
        """Always stays in eval mode (no dropout or batch norm here, but keep the contract)."""
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Map a network-ready batch (N x 3 x H x W) to ``{layer name: activation}``."""
        h, w = x.shape[-2:]
        if min(h, w) < self.min_side:
            raise VidstyleError(f"an image (content, style or a coarse --scales level) is {w}x{h} pixels after "
                                f"scaling; layer {self.deepest} needs at least {self.min_side} on each side: use "
                                "a larger --size or --style-scale, fewer --scales, or a less elongated image")
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.features):
            x = module(x)
            if i in self._wanted:
                out[self._wanted[i]] = x
        return out
