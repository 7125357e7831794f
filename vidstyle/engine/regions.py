"""Semantic masks in the engine: which style region each content region takes, and the region-wise style
targets of one content frame (the maths is in vidstyle/model/region_grams.py, the
files are read by vidstyle/io/mask_files.py)."""
from __future__ import annotations

import numpy as np
import torch

from ..errors import VidstyleError
from ..io.mask_files import DEFAULT_TOLERANCE, LabelMap, color_name
from ..model.region_grams import RegionStyleTarget, downsample_mask


def match_labels(content: LabelMap, style: LabelMap, orphan: str = "error", *,
                 tolerance: int = DEFAULT_TOLERANCE) -> list[int | None]:
    """For each content label, the index of the style label of the same colour (None = use the whole style).

    A content label with no style counterpart raises VidstyleError naming it, unless ``orphan`` is 'whole'.
    """
    style_cols = np.array(style.colors, dtype=np.int64).reshape(-1, 3)
    matches: list[int | None] = []
    missing: list[str] = []
    for colour in content.colors:
        diff = np.abs(style_cols - np.array(colour)).max(1)
        best = int(diff.argmin()) if diff.size else -1
        if best >= 0 and diff[best] <= tolerance:
            matches.append(best)
        else:
            matches.append(None)
            missing.append(color_name(colour))
    if missing and orphan == "error":
        raise VidstyleError(f"content mask label(s) {', '.join(missing)} not found in the style mask "
                            f"(style labels: {', '.join(style.names())}); fix the masks or pass --orphan-labels whole")
    return matches


def region_style_targets(features: dict[str, torch.Tensor], content_masks: torch.Tensor,
                         matches: list[int | None], style_grams: dict[str, tuple[torch.Tensor, torch.Tensor]],
                         whole_grams: dict[str, torch.Tensor]) -> dict[str, RegionStyleTarget]:
    """Per-layer RegionStyleTargets for one content frame.

    ``features``: the content frame's activations (only their sizes are used); ``content_masks``: K x H x W
    one-hot masks of the frame; ``matches``: style label per content label (None = whole style, see
    ``match_labels``); ``style_grams``: layer -> (style region Grams, masses) from ``region_grams``;
    ``whole_grams``: layer -> normalised Gram of the whole style. A style region that vanishes at a layer
    (too small for it) also falls back to the whole-style Gram there.
    """
    targets: dict[str, RegionStyleTarget] = {}
    for layer, whole in whole_grams.items():
        feats = features[layer]
        small = downsample_mask(content_masks.to(feats.device), tuple(feats.shape[-2:]))
        grams, masses = style_grams[layer]
        chosen = [grams[s] if s is not None and masses[s] > 0 else whole for s in matches]
        fractions = small.flatten(1).sum(1) / (small.shape[-1] * small.shape[-2])
        keep = fractions > 0
        targets[layer] = RegionStyleTarget(small[keep], torch.stack(chosen)[keep], fractions[keep])
    return targets
