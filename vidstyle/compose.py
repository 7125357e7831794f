"""The composition root: the one place a Config is turned into what a run is made of.

The command line, the Python API, live mode and the Ray workers all come through here. ``resolve_*`` read the
Config once (device, precision, preset and unit weights, gamma, first-frame iterations, frame rate) into the
frozen settings of vidstyle/settings.py; ``build_stylizer`` builds the engine from them. Below this module
nothing reads a Config (tests/test_architecture.py checks it).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np
import torch

from .config import Config, checked_config
from .engine import Stylizer, make_stylizer
from .engine.convergence import TOLERANCE
from .errors import VidstyleError
from .io.images import ImageLike, check_frame, load_styles
from .runtime import autocast_dtype
from .scopes import check_applies
from .settings import EngineSettings, InputSettings, OutputSettings, RunFiles, RunSettings, TemporalSettings

# Settings that do not change the stylized frames: a work directory stays valid when only these differ.
# The weights, --init and the masks enter by content (weights_digest, input_file_identity), not by path.
NOT_FINGERPRINTED = {"quiet", "overwrite", "report", "keep_frames", "work_dir", "crf", "audio", "device",
                     "end", "max_frames", "weights", "init", "content_mask", "style_mask",
                     "capture"}


def select_device(name: str) -> torch.device:
    """The one device choice of every run. auto: CUDA, then Apple MPS, then CPU; ``cuda:N``: the N-th GPU; an
    explicit device that is not available is a VidstyleError. A CUDA device always carries its index (``cuda``
    is the current GPU), so devices compare equal to the ones tensors report (``cuda:0`` is not ``cuda`` to
    torch). On CUDA, cuDNN may pick the fastest kernels: frame sizes stay fixed in a run."""
    mps_ok = hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if mps_ok else "cpu"
    elif name.startswith("cuda") and not torch.cuda.is_available():
        raise VidstyleError(f"--device {name} requested but no CUDA GPU is available (try --device cpu)")
    elif name == "mps" and not mps_ok:
        raise VidstyleError("--device mps requested but Apple MPS is not available (try --device cpu)")
    device = torch.device(name)
    if device.type == "cuda":
        count = torch.cuda.device_count()
        index = torch.cuda.current_device() if device.index is None else device.index
        if index >= count:
            raise VidstyleError(f"--device {name}: this machine has {count} CUDA GPU{'s' if count != 1 else ''} "
                                f"(cuda:0{f' to cuda:{count - 1}' if count > 1 else ''})")
        device = torch.device("cuda", index)
        torch.backends.cudnn.benchmark = True  # fixed frame size: let cuDNN pick the fastest kernels
    return device


def resolve_engine(config: Config, *, video: bool = False, here: bool = True) -> EngineSettings:
    """The stylizer's settings for ``config``; ``video``: it stylizes a video's frames (with --temporal flow
    and gamma > 0 every frame then shares one problem with a temporal slot). ``here``: the frames are computed
    on this machine; otherwise (Ray) the device is left to the machine that computes them."""
    plan = config.layer_plan()
    device = select_device(config.device) if here else None
    return EngineSettings(
        device=device, device_request=config.device, precision=config.precision,
        dtype=autocast_dtype(device, config.precision) if device is not None else None,
        weights=config.weights, weights_format=config.weights_format, pooling=config.pooling,
        content_layers=plan.content, style_layers=plan.style,
        loss_weights=(("content", plan.content_weight), ("style", plan.style_weight), ("tv", plan.tv_weight),
                      ("photo", config.resolved_photo_weight())),
        units=config.loss_units, optimizer=config.optimizer, lr=config.lr, iterations=config.iterations,
        init=config.init, init_is_file=config.init_is_file(), seed=config.seed, color_mode=config.preserve_colors,
        style_weights=config.style_weights, style_scale=config.style_scale, scales=config.scales,
        style_mask=config.style_mask,
        content_mask=config.content_mask if config.content_mask and not config.content_mask_is_folder() else None,
        orphan_labels=config.orphan_labels, capture=config.capture,
        stop_tolerance=None if config.fixed_budget else
        (TOLERANCE if config.stop_tolerance is None else float(config.stop_tolerance)),
        temporal_slot=video and config.temporal == "flow" and config.resolved_temporal_weight() > 0,
        quiet=config.quiet)


def on_this_machine(settings: EngineSettings) -> EngineSettings:
    """``settings`` with the device chosen here when it was left open (a Ray worker: the driver's machine may
    have other hardware)."""
    if settings.device is not None:
        return settings
    device = select_device(settings.device_request)
    return dataclasses.replace(settings, device=device, dtype=autocast_dtype(device, settings.precision))


def resolve_temporal(config: Config) -> TemporalSettings:
    """How video frames start, with gamma resolved for the run's loss units."""
    return TemporalSettings(config.temporal, config.iterations, config.first_frame_iterations,
                            config.resolved_temporal_weight(), config.flow_quality)


def resolve_input(config: Config) -> InputSettings:
    return InputSettings(config.start, config.end, config.max_frames, config.size, config.frame_rate(),
                         config.audio, config.content_mask, config.quiet)


def resolve_output(config: Config) -> OutputSettings:
    return OutputSettings(config.quiet, config.overwrite, config.report, config.crf, config.keep_frames,
                          config.work_dir)


def resolve_files(config: Config) -> RunFiles:
    """The paths the options name, for the path registry (video/paths.py) before any work."""
    return RunFiles(config.init if config.init_is_file() else None, config.content_mask, config.style_mask,
                    config.weights, config.report, config.work_dir)


def resolve_run(config: Config, *, here: bool = True) -> RunSettings:
    """A whole video run resolved once: engine, temporal, input and output settings (``here``: see
    ``resolve_engine``)."""
    return RunSettings(resolve_engine(config, video=True, here=here), resolve_temporal(config), resolve_input(config),
                       resolve_output(config), dataclasses.asdict(config))


def fingerprint_settings(record: dict[str, Any]) -> dict[str, Any]:
    """The settings that change the stylized frames (a work directory is resumed only when they match)."""
    return {k: v for k, v in record.items() if k not in NOT_FINGERPRINTED}


def build_stylizer(config: Config, styles: ImageLike | Sequence[ImageLike], *,
                   style_weights: Sequence[float] | None = None, reference: np.ndarray | None = None,
                   video: bool = False) -> Stylizer:
    """The stylizer for ``config`` and one or more style images (paths or H x W x 3 RGB uint8 arrays, as
    stylize_image takes them; blended by ``config.style_weights``, or by ``style_weights``): ``resolve_engine``
    then the engine's one constructor, ``engine.make_stylizer``, which the pipelines call directly with settings
    resolved earlier. ``reference``: the image the style colours are matched to (default: the first frame
    stylized). ``video``: it stylizes a video's frames (the temporal options apply; options about files never
    do: it returns arrays)."""
    config = checked_config(config)
    check_applies(config, "video" if video else "image", "array")
    images = load_styles(styles)
    if reference is not None:
        check_frame(reference, "reference")
    return make_stylizer(resolve_engine(config, video=video), images, style_weights=style_weights,
                         reference=reference)
