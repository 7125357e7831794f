"""Finding, downloading and loading VGG-19 weights, and the input convention that comes with them."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import VidstyleError
from ..io.atomic import atomic_path
from .vgg import LAYER_INDEX, VGGFeatures, required_convs

TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
TORCHVISION_SHA256_PREFIX = "dcbb9e9d"  # torchvision's convention: file name carries the sha256 prefix
TORCHVISION_SIZE_MB = 548
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
    """Turn 0..1 RGB images into the network's input convention (differentiable)."""

    def __init__(self, convention: InputConvention) -> None:
        super().__init__()
        self.channels = list(convention.channels)
        self.register_buffer("scale", torch.tensor(convention.scale).view(1, 3, 1, 1))
        self.register_buffer("offset", torch.tensor(convention.offset).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.channels] * self.scale - self.offset


class Encoder(nn.Module):
    """0..1 RGB image -> named VGG-19 activations (normalisation + cut network)."""

    def __init__(self, convention: InputConvention, features: VGGFeatures) -> None:
        super().__init__()
        self.convention = convention
        self.normalize = Normalize(convention)
        self.vgg = features

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.vgg(self.normalize(x))


def default_cache_path() -> Path:
    """Where the downloaded torchvision checkpoint lives (the torch hub cache, $TORCH_HOME/hub/checkpoints)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(TORCHVISION_URL).name


def resolve_weights_path(explicit: str | None, quiet: bool = False) -> Path:
    """--weights, then $VIDSTYLE_WEIGHTS, then the cached or freshly downloaded torchvision checkpoint."""
    for source, value in (("--weights", explicit), ("VIDSTYLE_WEIGHTS", os.environ.get("VIDSTYLE_WEIGHTS"))):
        if value:
            path = Path(value).expanduser()
            if not path.is_file():
                raise VidstyleError(f"weights file not found: {path} (from {source})")
            return path
    cached = default_cache_path()
    if cached.is_file():
        return cached
    download_weights(os.environ.get("VIDSTYLE_WEIGHTS_URL", TORCHVISION_URL), cached, quiet=quiet)
    return cached


def download_weights(url: str, dest: Path, quiet: bool = False) -> None:
    """Download ``url`` to ``dest`` with a progress bar and a sha256 check; atomic; clear error offline."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    sha = hashlib.sha256()
    hint = (f"pass --weights PATH or set VIDSTYLE_WEIGHTS to a local VGG-19 checkpoint "
            f"(torchvision's {dest.name}, {TORCHVISION_SIZE_MB} MB, or a caffe-converted one)")
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(tmp, "wb") as fh:
            total = int(response.headers.get("Content-Length") or 0) or None
            columns = (TextColumn("downloading VGG-19 weights"), BarColumn(), DownloadColumn(),
                       TransferSpeedColumn(), TimeRemainingColumn())
            with Progress(*columns, disable=quiet, transient=True) as progress:
                task = progress.add_task("download", total=total)
                while chunk := response.read(1 << 20):
                    fh.write(chunk)
                    sha.update(chunk)
                    progress.advance(task, len(chunk))
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:  # ValueError: not a URL
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise VidstyleError(f"cannot download VGG-19 weights from {url} ({reason}); offline? {hint}") from None
    if url == TORCHVISION_URL and not sha.hexdigest().startswith(TORCHVISION_SHA256_PREFIX):
        tmp.unlink(missing_ok=True)
        raise VidstyleError(f"downloaded weights failed the hash check (got sha256 {sha.hexdigest()[:8]}...); {hint}")
    os.replace(tmp, dest)


_DIGESTS: dict[tuple[str, int, int], str] = {}


def weights_digest(path: Path) -> str:
    """Content hash of a weights file, so finished frames are never mixed with those of other weights.

    Hashing 0.5 GB takes seconds, so the result is kept per (path, size, mtime) in memory and in
    vidstyle-weights-digests.json in the torch hub cache; a replaced or edited file is hashed again.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _DIGESTS:
        return _DIGESTS[key]
    cache_file = Path(torch.hub.get_dir()) / "vidstyle-weights-digests.json"
    entry = f"{key[0]}|{key[1]}|{key[2]}"
    try:
        cache = json.loads(cache_file.read_text())
        cache = cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        cache = {}
    digest = cache.get(entry)
    if not isinstance(digest, str):
        h = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 22), b""):
                    h.update(block)
        except OSError as exc:
            raise VidstyleError(f"cannot read weights file {path}: {exc.strerror or exc}") from None
        digest = h.hexdigest()
        cache[entry] = digest
        with contextlib.suppress(OSError):  # a read-only cache only costs the hash next time
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(cache_file) as tmp:
                tmp.write_text(json.dumps(cache, indent=1))
    _DIGESTS[key] = digest
    return digest


def read_checkpoint(path: Path) -> dict[str, object]:
    """Load a state dict (plain tensors only), unwrapping {'state_dict': ...}; VidstyleError if unreadable."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or non-checkpoint files
        raise VidstyleError(f"cannot read weights file {path}: not a PyTorch checkpoint ({type(exc).__name__})") from None
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict):
        raise VidstyleError(f"weights file {path} does not hold a state dict")
    return data


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
        if value.shape != param.shape:
            raise VidstyleError(f"weights file {source}: {key} ({layer}) has shape {tuple(value.shape)}, "
                                f"expected {tuple(param.shape)}")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise VidstyleError(f"weights file {source}: {key} ({layer}) holds NaN or infinite values "
                                "(a corrupt or diverged checkpoint)")
        state[key] = value.float()
    net.load_state_dict(state)
    return net


def load_encoder(weights: str | None, weights_format: str, layers: tuple[str, ...], pooling: str,
                 device: torch.device, quiet: bool = False) -> Encoder:
    """Resolve, read and load the weights; return a frozen Encoder on ``device``."""
    required_convs(layers)  # validate layer names before any download
    path = resolve_weights_path(weights, quiet=quiet)
    checkpoint = read_checkpoint(path)
    convention = detect_format(path, checkpoint, weights_format)
    features = load_features(checkpoint, layers, pooling, str(path))
    return Encoder(convention, features).to(device)
