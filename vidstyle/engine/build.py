"""The engine's composition root: the only place that reads the engine's settings from a Config, and the one
constructor of a Stylizer from one (``build_stylizer``)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..config import Config
from ..errors import VidstyleError
from ..io.images import read_image
from ..io.mask_files import read_label_mask
from ..io.checkpoint_files import read_checkpoint, resolve_weights_path
from ..model.vgg import required_convs
from ..model.encoder import Encoder, detect_format, load_features
from ..runtime import autocast, autocast_dtype, select_device
from .parts import EngineParts
from .stylizer import Stylizer
from .targets import StyleTargets


def assemble(config: Config, styles: Sequence[np.ndarray], style_weights: Sequence[float] | None = None,
             reference: np.ndarray | None = None) -> EngineParts:
    """Resolve device, encoder, style targets, init image, masks and loss weights from ``config``.

    ``style_weights`` overrides ``config.style_weights``; ``reference``: the content image the style colours
    are matched to (colour preservation); default: the first frame stylized.
    """
    plan = config.layer_plan()
    device = select_device(config.device)
    dtype = autocast_dtype(device, config.precision)
    encoder = load_encoder(config.weights, config.weights_format, plan.layers, config.pooling, device,
                           quiet=config.quiet)

    def features(image: torch.Tensor) -> dict[str, torch.Tensor]:
        with autocast(device, dtype):
            return encoder(image)

    styles = list(styles)
    weights = config.style_weights if style_weights is None else tuple(style_weights)
    if weights is not None and len(weights) != len(styles):
        raise VidstyleError(f"--style-weights has {len(weights)} values for {len(styles)} style images")
    style_labels = read_label_mask(config.style_mask) if config.style_mask else None
    targets = StyleTargets(styles, list(weights) if weights is not None else [1.0] * len(styles),
                           tuple(n for n, _ in plan.style), features, device, scale=config.style_scale,
                           color_mode=config.preserve_colors, labels=style_labels)
    if reference is not None:
        targets.set_reference(reference)
    content_labels = (read_label_mask(config.content_mask)
                      if config.content_mask and not config.content_mask_is_folder() else None)
    init: str | np.ndarray = read_image(config.init) if config.init_is_file() else config.init
    return EngineParts(
        device=device, features=features, targets=targets, content_layers=plan.content, style_layers=plan.style,
        weights={"content": plan.content_weight, "style": plan.style_weight, "tv": plan.tv_weight,
                 "photo": config.resolved_photo_weight()},
        units=config.loss_units, optimizer=config.optimizer, lr=config.lr, iterations=config.iterations,
        init=init, seed=config.seed, color_mode=config.preserve_colors, scales=config.scales,
        content_labels=content_labels, orphan_labels=config.orphan_labels, capture=config.capture)


def load_encoder(weights: str | None, weights_format: str, layers: tuple[str, ...], pooling: str,
                 device: torch.device, quiet: bool = False) -> Encoder:
    """Resolve, read and load the weights; return a frozen Encoder on ``device``."""
    required_convs(layers)  # validate layer names before any download
    path = resolve_weights_path(weights, quiet=quiet)
    checkpoint = read_checkpoint(path)
    convention = detect_format(path, checkpoint, weights_format)
    features = load_features(checkpoint, layers, pooling, str(path))
    return Encoder(convention, features).to(device)


def build_stylizer(config: Config, styles: np.ndarray | Sequence[np.ndarray], *,
                   style_weights: Sequence[float] | None = None, reference: np.ndarray | None = None,
                   video: bool = False) -> Stylizer:
    """The stylizer for ``config`` and one or more style images (blended by ``config.style_weights``, or by
    ``style_weights``). ``reference``: the image the style colours are matched to (default: the first frame
    stylized). ``video``: it stylizes a video's frames (still images, local runs, Ray chunks and live mode all
    come through here); with --temporal flow every frame then shares one problem with a temporal slot."""
    parts = assemble(config, [styles] if isinstance(styles, np.ndarray) else list(styles), style_weights, reference)
    flow = video and config.temporal == "flow" and config.resolved_temporal_weight() > 0
    return Stylizer(parts, temporal_slot=flow)
