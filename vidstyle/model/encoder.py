"""The encoder: VGG-19 features behind their input convention. The conventions (torchvision RGB mean/std,
caffe BGR 0..255 minus the mean), the normalising layer, the ``Encoder`` (0..1 RGB image -> named activations),
the rule that picks a checkpoint's convention, and filling the cut network from a state dict (finding,
downloading and reading the checkpoint file is vidstyle/io/checkpoint_files.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import VidstyleError
from .vgg import LAYER_INDEX, VGGFeatures, required_convs

FORMAT_KEY = "input_convention"  # optional string entry in a checkpoint: "caffe" or "torchvision"


@dataclass(frozen=True)
class InputConvention:
    """How RGB images in 0..1 become network input: out = x[:, channels] * scale - offset."""

    name: str
    channels: tuple[int, int, int]
    scale: tuple[float, float, float]
    offset: tuple[float, float, float]


CONVENTIONS = {
    # RGB in 0..1, (x - mean) / std
    "torchvision": InputConvention("torchvision", (0, 1, 2), tuple(1 / s for s in (0.229, 0.224, 0.225)),
                                   tuple(m / s for m, s in zip((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)))),
    # BGR in 0..255 minus the ImageNet mean (B, G, R), no std (the Oxford caffe release)
    "caffe": InputConvention("caffe", (2, 1, 0), (255.0, 255.0, 255.0), (103.939, 116.779, 123.68)),
}


class Normalize(nn.Module):
    """Turn 0..1 RGB images into the network's input convention (differentiable).

    One 1x1 convolution whose weight holds the channel order and the scales and whose bias holds the offsets:
    one kernel forward and one backward, and no tensor built from Python values per call (an index list
    would be uploaded to the device on every forward, a host-to-device copy inside the optimisation pass).
    """

    def __init__(self, convention: InputConvention) -> None:
        super().__init__()
        mix = torch.zeros(3, 3, 1, 1)
        for out, (channel, scale) in enumerate(zip(convention.channels, convention.scale)):
            mix[out, channel] = scale
        self.register_buffer("mix", mix)
        self.register_buffer("offset", -torch.tensor(convention.offset))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.mix.to(x.dtype), self.offset.to(x.dtype))


class Encoder(nn.Module):
    """0..1 RGB image -> named VGG-19 activations (normalisation + cut network)."""

    def __init__(self, convention: InputConvention, features: VGGFeatures) -> None:
        super().__init__()
        self.convention = convention
        self.normalize = Normalize(convention)
        self.vgg = features

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.vgg(self.normalize(x))


def detect_format(path: Path, checkpoint: dict[str, object], requested: str) -> InputConvention:
    """The documented rule: explicit --weights-format; else the checkpoint's 'input_convention' entry;
    else 'caffe' if the file name contains 'caffe'; else 'torchvision'."""
    if requested != "auto":
        name = requested
    elif isinstance(checkpoint.get(FORMAT_KEY), str):
        name = str(checkpoint[FORMAT_KEY])
    else:
        name = "caffe" if "caffe" in path.name.lower() else "torchvision"
    if name not in CONVENTIONS:
        raise VidstyleError(f"unknown weights format {name!r} in {path}; use caffe or torchvision")
    return CONVENTIONS[name]


_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _tensor_kind(value: torch.Tensor) -> str | None:
    """What makes ``value`` unusable as a VGG parameter (a sparse layout, no data, a complex, integer or 8-bit
    float dtype), or None: such tensors crashed the finite check or were silently cast."""
    if value.layout != torch.strided:
        return f"a {str(value.layout).removeprefix('torch.')} tensor"
    if value.device.type == "meta":
        return "a tensor without data (meta device)"
    if value.dtype not in _FLOAT_DTYPES:
        dtype = str(value.dtype).removeprefix("torch.")
        return f"{'an' if dtype[0] in 'aeiou' else 'a'} {dtype} tensor"
    return None


def load_features(checkpoint: dict[str, object], layers: tuple[str, ...], pooling: str, source: str) -> VGGFeatures:
    """Build the cut network for ``layers`` and fill it from ``checkpoint``; extra keys are ignored,
    missing ones are an error naming the layers."""
    net = VGGFeatures(layers, pooling)
    needed = required_convs(layers)
    missing = [n for n in needed if f"features.{LAYER_INDEX[n]}.weight" not in checkpoint
               or f"features.{LAYER_INDEX[n]}.bias" not in checkpoint]
    if missing:
        deepest = max(layers, key=LAYER_INDEX.__getitem__)
        raise VidstyleError(f"weights file {source} lacks {', '.join(missing)}, needed for layer {deepest}; "
                            f"choose shallower layers (e.g. --preset fast) or a full VGG-19 checkpoint")
    own = net.state_dict()
    state = {}
    names = {f"features.{index}": name for name, index in LAYER_INDEX.items() if name.startswith("conv")}
    for key, param in own.items():
        value = checkpoint[key]
        layer = names.get(key.rsplit(".", 1)[0], key)
        if not isinstance(value, torch.Tensor):
            raise VidstyleError(f"weights file {source}: {key} ({layer}) is a {type(value).__name__}, not a tensor")
        kind = _tensor_kind(value)
        if kind is not None:
            raise VidstyleError(f"weights file {source}: {key} ({layer}) is {kind}; expected a dense tensor of "
                                "16, 32 or 64-bit floats")
        if value.shape != param.shape:
            raise VidstyleError(f"weights file {source}: {key} ({layer}) has shape {tuple(value.shape)}, "
                                f"expected {tuple(param.shape)}")
        if not bool(torch.isfinite(value).all()):
            raise VidstyleError(f"weights file {source}: {key} ({layer}) holds NaN or infinite values "
                                "(a corrupt or diverged checkpoint)")
        state[key] = value.float()
    net.load_state_dict(state)
    return net
