"""The engine's constructor: resolved EngineSettings (vidstyle/settings.py, made from a Config by
vidstyle/compose.py) and style images in, a Stylizer out. It reads the files the settings name (weights, an
--init image, label masks); it never sees a Config."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..errors import VidstyleError
from ..io.images import read_image
from ..io.mask_files import read_label_mask
from ..io.checkpoint_files import read_checkpoint, resolve_weights_path
from ..model.vgg import required_convs
from ..model.encoder import Encoder, detect_format, load_features
from ..runtime import autocast
from ..settings import EngineSettings
from .colour_modes import COLOUR_MODES
from .convergence import StopRule
from .optimizers import OPTIMISERS
from .parts import EngineParts
from .starts import ImageStart, Start, named_start
from .stylizer import Stylizer
from .targets import StyleTargets
from .units import UNITS


def assemble(settings: EngineSettings, styles: Sequence[np.ndarray], style_weights: Sequence[float] | None = None,
             reference: np.ndarray | None = None, encoder: Encoder | None = None) -> EngineParts:
    """Load the encoder, build the style targets, read the init image and masks named by ``settings``; the
    option names (units, optimizer, init, colour mode) become their objects here, once.

    ``style_weights`` overrides ``settings.style_weights``; ``reference``: the content image the style colours
    are matched to (colour preservation); default: the first frame stylized. ``encoder``: one already loaded
    with ``load_settings_encoder(settings)`` (several stylizers of one session share it: one copy of the
    network on the device).
    """
    styles = list(styles)
    weights = settings.style_weights if style_weights is None else tuple(style_weights)
    # before the weights are read: a mistake in the STYLE list is one line at once
    if weights is not None and len(styles) == 1:
        raise VidstyleError("--style-weights blends several STYLE images; this run has only one (several: STYLE as "
                            "a.jpg,b.jpg, or a list in Python)")
    if weights is not None and len(weights) != len(styles):
        raise VidstyleError(f"--style-weights has {len(weights)} values for {len(styles)} style images")
    device, dtype = settings.device, settings.dtype
    encoder = encoder if encoder is not None else load_settings_encoder(settings)

    def features(image: torch.Tensor) -> dict[str, torch.Tensor]:
        with autocast(device, dtype):
            return encoder(image)

    colour = COLOUR_MODES[settings.color_mode]
    style_labels = read_label_mask(settings.style_mask) if settings.style_mask else None
    targets = StyleTargets(styles, list(weights) if weights is not None else [1.0] * len(styles),
                           tuple(n for n, _ in settings.style_layers), features, device, scale=settings.style_scale,
                           colour=colour, labels=style_labels)
    if reference is not None:
        targets.set_reference(reference)
    content_labels = read_label_mask(settings.content_mask) if settings.content_mask else None
    start: Start = (ImageStart(read_image(settings.init)) if settings.init_is_file
                    else named_start(settings.init, settings.seed))
    return EngineParts(
        device=device, features=features, targets=targets, content_layers=settings.content_layers,
        style_layers=settings.style_layers, weights=dict(settings.loss_weights),
        units=UNITS[settings.units], optimizer=OPTIMISERS[settings.optimizer], lr=settings.lr,
        iterations=settings.iterations, start=start, colour=colour, scales=settings.scales,
        content_labels=content_labels, orphan_labels=settings.orphan_labels, capture=settings.capture,
        stop=None if settings.stop_tolerance is None else StopRule(settings.stop_tolerance))


def load_encoder(weights: str | None, weights_format: str, layers: tuple[str, ...], pooling: str,
                 device: torch.device, quiet: bool = False) -> Encoder:
    """Resolve, read and load the weights; return a frozen Encoder on ``device``."""
    required_convs(layers)  # validate layer names before any download
    path = resolve_weights_path(weights, quiet=quiet)
    checkpoint = read_checkpoint(path)
    convention = detect_format(path, checkpoint, weights_format)
    features = load_features(checkpoint, layers, pooling, str(path))
    return Encoder(convention, features).to(device)


def make_stylizer(settings: EngineSettings, styles: Sequence[np.ndarray], *,
                  style_weights: Sequence[float] | None = None, reference: np.ndarray | None = None,
                  encoder: Encoder | None = None) -> Stylizer:
    """The one constructor of a Stylizer from resolved settings and one or more style images (blended by
    ``settings.style_weights``, or by ``style_weights``). ``reference``: the image the style colours are
    matched to (default: the first frame stylized). ``encoder``: a network loaded once with
    ``load_settings_encoder`` and shared by several stylizers (live mode's styles)."""
    return Stylizer(assemble(settings, styles, style_weights, reference, encoder),
                    temporal_slot=settings.temporal_slot)


def load_settings_encoder(settings: EngineSettings) -> Encoder:
    """The frozen network ``settings`` name, on their device (what ``make_stylizer`` loads when given none)."""
    return load_encoder(settings.weights, settings.weights_format, settings.layers, settings.pooling,
                        settings.device, quiet=settings.quiet)
