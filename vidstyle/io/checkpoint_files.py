"""VGG-19 checkpoint files on disk: where they are, the one-time download, reading one into a state dict, a
content digest (turning the state dict into the encoder is vidstyle/model/encoder.py)."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import torch

from ..errors import VidstyleError
from .atomic import atomic_path

TORCHVISION_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
TORCHVISION_SHA256_PREFIX = "dcbb9e9d"  # torchvision's convention: file name carries the sha256 prefix
TORCHVISION_SIZE_MB = 548


def default_cache_path() -> Path:
    """Where the downloaded torchvision checkpoint lives (the torch hub cache, $TORCH_HOME/hub/checkpoints)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(TORCHVISION_URL).name


def local_weights_path(explicit: str | None) -> Path | None:
    """The checkpoint a run will read without downloading: --weights, $VIDSTYLE_WEIGHTS or the cached
    torchvision file; None when none of them exists yet (for the path registry, vidstyle/io/path_registry.py)."""
    for value in (explicit, os.environ.get("VIDSTYLE_WEIGHTS")):
        if value:
            return Path(value).expanduser()
    cached = default_cache_path()
    return cached if cached.is_file() else None


def resolve_weights_path(explicit: str | None, quiet: bool = False) -> Path:
    """--weights, then $VIDSTYLE_WEIGHTS, then the cached or freshly downloaded torchvision checkpoint."""
    for source, value in (("--weights", explicit), ("VIDSTYLE_WEIGHTS", os.environ.get("VIDSTYLE_WEIGHTS"))):
        if value:
            path = Path(value).expanduser()
            if path.is_dir():
                raise VidstyleError(f"weights path {path} (from {source}) is a folder; name the checkpoint file in it")
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

    sha = hashlib.sha256()
    hint = (f"pass --weights PATH or set VIDSTYLE_WEIGHTS to a local VGG-19 checkpoint "
            f"(torchvision's {dest.name}, {TORCHVISION_SIZE_MB} MB, or a caffe-converted one)")
    try:  # TORCH_HOME may be a file, read-only or unwritable: one line, before the download
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(dest.parent, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise VidstyleError(f"cannot store the VGG-19 weights in {dest.parent} ({exc.strerror or exc}; from "
                            f"TORCH_HOME or the torch hub default); {hint}") from None
    # a private temporary (removed on any failure, Ctrl-C and SIGTERM included), renamed once it is verified
    with atomic_path(dest) as tmp:
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
            reason = getattr(exc, "reason", None) or exc
            raise VidstyleError(f"cannot download VGG-19 weights from {url} ({reason}); offline? {hint}") from None
        # a mirror ($VIDSTYLE_WEIGHTS_URL) must serve the same file: it is cached under torchvision's name
        if not sha.hexdigest().startswith(TORCHVISION_SHA256_PREFIX):
            raise VidstyleError(f"the weights downloaded from {url} failed the hash check (sha256 "
                                f"{sha.hexdigest()[:8]}..., torchvision's {dest.name} has "
                                f"{TORCHVISION_SHA256_PREFIX}...); {hint}")


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
        again = "; delete it to download it again" if path == default_cache_path() else ""
        raise VidstyleError(f"cannot read weights file {path}: not a PyTorch checkpoint "
                            f"({type(exc).__name__}){again}") from None
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict):
        raise VidstyleError(f"weights file {path} does not hold a state dict")
    return data
