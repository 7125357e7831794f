"""Semantic masks (Luan et al. 2017): colour-coded label images, per-layer masks and masked Gram matrices.

A mask is an RGB image in which every region is painted in one flat colour; the colour *is* the label, and a
content region is matched with the style region of the same colour. Masks saved as JPEG carry compression
noise and blended colours along region borders, so labels are found by clustering:

* only "flat" pixels vote for label colours: pixels whose 3x3 neighbourhood varies by at most ``tolerance``
  (max over R, G, B, in 0..255 units), which leaves out the blended colours along region borders;
* their distinct colours are visited from the most to the least frequent; a colour starts a new label when it
  is farther than ``tolerance`` from every label found so far and covers at least ``min_fraction`` of the
  image;
* every pixel is then snapped to the nearest label colour.

Exact (PNG) masks therefore keep every colour whose region is at least 3 pixels wide somewhere and covers
at least ``min_fraction`` of the image (default 0.1 %); smaller specks and thin lines join the nearest label.
Content and style labels match when their colours are within ``tolerance`` of each other.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..errors import VidstyleError
from ..io.images import read_image

DEFAULT_TOLERANCE = 24
DEFAULT_MIN_FRACTION = 0.001
ORPHAN_POLICIES = ("error", "whole")


@dataclass(frozen=True)
class LabelMap:
    """A parsed mask: ``labels`` (HxW int64, index into ``colors``) and one RGB colour per label."""

    labels: np.ndarray
    colors: tuple[tuple[int, int, int], ...]

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape[0], self.labels.shape[1]

    def names(self) -> list[str]:
        """Labels as '#rrggbb' strings, in label order."""
        return [color_name(c) for c in self.colors]

    def resized(self, height: int, width: int) -> LabelMap:
        """The same labels at another size (nearest neighbour, so no new labels appear)."""
        if (height, width) == self.shape:
            return self
        lab = cv2.resize(self.labels.astype(np.int32), (width, height), interpolation=cv2.INTER_NEAREST)
        return LabelMap(lab.astype(np.int64), self.colors)

    def check_fits(self, image_shape: tuple[int, ...], what: str) -> None:
        """Raise VidstyleError when the mask's aspect ratio differs from the image's (more than 2 %)."""
        h, w = image_shape[:2]
        mh, mw = self.shape
        if abs((mw / mh) / (w / h) - 1) > 0.02:
            raise VidstyleError(f"{what} mask is {mw}x{mh} but its image is {w}x{h}; they must have the same shape")

    def one_hot(self, device: torch.device | str | None = None) -> torch.Tensor:
        """K x H x W float32 tensor, 1 where the pixel has label k."""
        lab = torch.from_numpy(self.labels).to(device)
        return F.one_hot(lab, len(self.colors)).permute(2, 0, 1).float()


def color_name(color: tuple[int, int, int]) -> str:
    """'#rrggbb' for an RGB triple."""
    return "#{:02x}{:02x}{:02x}".format(*color)


def parse_labels(image: np.ndarray, *, tolerance: int = DEFAULT_TOLERANCE,
                 min_fraction: float = DEFAULT_MIN_FRACTION) -> LabelMap:
    """Find the flat-colour regions of an HxWx3 uint8 label image (see the module docstring for the rules)."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {image.shape}")
    flat = image.reshape(-1, 3).astype(np.int64)
    codes = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    uniq, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    colours = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], 1)
    kernel = np.ones((3, 3), np.uint8)
    spread = (cv2.dilate(image, kernel) - cv2.erode(image, kernel)).max(-1)  # per-pixel 3x3 colour range
    voters = (spread <= tolerance).reshape(-1)
    votes = np.bincount(inverse.reshape(-1)[voters], minlength=len(uniq)) if voters.any() else counts
    min_count = max(1, int(np.ceil(min_fraction * flat.shape[0])))
    centres: list[np.ndarray] = []
    for idx in np.argsort(-votes, kind="stable"):
        if votes[idx] < min_count:
            break
        if all(np.abs(colours[idx] - c).max() > tolerance for c in centres):
            centres.append(colours[idx])
    if not centres:  # nothing large enough: fall back to the most frequent colour
        centres.append(colours[int(np.argmax(counts))])
    centre_arr = np.stack(centres)
    # Nearest label (Euclidean in RGB) for every distinct colour, then for every pixel.
    dist = ((colours[:, None, :] - centre_arr[None, :, :]) ** 2).sum(-1)
    nearest = dist.argmin(1)
    labels = nearest[inverse.reshape(-1)].reshape(image.shape[:2])
    return LabelMap(labels.astype(np.int64), tuple(tuple(int(v) for v in c) for c in centre_arr))


def read_label_mask(path: str | os.PathLike, size: tuple[int, int] | None = None, *,
                    tolerance: int = DEFAULT_TOLERANCE) -> LabelMap:
    """Read a colour-coded mask file; ``size`` = (height, width) resizes it (nearest neighbour) after parsing."""
    if not os.path.isfile(path):
        raise VidstyleError(f"mask not found: {path}")
    labels = parse_labels(read_image(path), tolerance=tolerance)
    return labels.resized(*size) if size is not None else labels


def match_labels(content: LabelMap, style: LabelMap, orphan: str = "error", *,
                 tolerance: int = DEFAULT_TOLERANCE) -> list[int | None]:
    """For each content label, the index of the style label of the same colour (None = use the whole style).

    A content label with no style counterpart raises VidstyleError naming it, unless ``orphan`` is 'whole'.
    """
    if orphan not in ORPHAN_POLICIES:
        raise VidstyleError(f"unsupported orphan-labels {orphan!r}; choose from {', '.join(ORPHAN_POLICIES)}")
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


def downsample_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Shrink K x H x W (or H x W) masks to a feature map's (h, w) the way VGG's 2x2 pooling shrinks the image.

    Repeated 2x2 average pooling (floor sizes, as in the network) when ``size`` is reached that way, else area
    interpolation. The result is a soft mask in 0..1 (region fractions at boundaries).
    """
    squeeze = mask.dim() == 2
    m = mask[None, None] if squeeze else mask[None]
    m = m if m.is_floating_point() else m.float()
    h, w = size
    cur_h, cur_w, steps = m.shape[-2], m.shape[-1], 0
    while (cur_h, cur_w) != (h, w) and cur_h // 2 >= h and cur_w // 2 >= w:
        cur_h, cur_w, steps = cur_h // 2, cur_w // 2, steps + 1
    if (cur_h, cur_w) == (h, w):
        for _ in range(steps):
            m = F.avg_pool2d(m, 2)
    else:
        m = F.interpolate(m, size=(h, w), mode="area")
    return m[0, 0] if squeeze else m[0]


def masked_gram(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Region Gram matrix sum_k m_k F_ik F_jk / sum_k m_k for features C x H x W (or 1 x C x H x W).

    ``mask`` (H x W, values in 0..1) must already have the feature map's size. With an all-ones mask this is
    the plain Gram matrix F F^T divided by the number of positions. An empty region gives a zero matrix.
    """
    f = features[0] if features.dim() == 4 else features
    c = f.shape[0]
    if tuple(mask.shape) != tuple(f.shape[1:]):
        raise ValueError(f"mask of shape {tuple(mask.shape)} does not match features {tuple(f.shape[1:])}")
    flat = f.reshape(c, -1)
    m = mask.reshape(1, -1).to(flat.dtype)
    size = m.sum().clamp_min(1e-8)
    return (flat * m) @ flat.t() / size


def region_grams(features: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Masked Grams of every region for one layer: (K x N x N Grams, K region masses in feature positions).

    ``masks``: K x H x W region masks at image size; they are shrunk to the feature map here.
    """
    small = downsample_mask(masks.to(features.device), tuple(features.shape[-2:]))
    grams = torch.stack([masked_gram(features.float(), m) for m in small])
    return grams, small.flatten(1).sum(1)


@dataclass
class RegionStyleTarget:
    """Style target of one layer under semantic masks: one target Gram per region of the output.

    The loss is sum_k a_k / (4 N^2) * sum_ij (G_k - A_k)_ij^2, where G_k is the output's Gram over region k
    (normalised by the region's size, see ``masked_gram``), A_k the target Gram of the matching style region
    (or of the whole style for an orphan label) and a_k the fraction of the frame region k covers, so a single
    region covering everything gives exactly eq. 4 with normalised Grams, and beta keeps its meaning.
    """

    masks: torch.Tensor  # K x h x w soft masks of the output's regions at this layer's size
    grams: torch.Tensor  # K x N x N target Grams
    weights: torch.Tensor  # K region fractions a_k

    def loss(self, features: torch.Tensor) -> torch.Tensor:
        """The region-wise style loss of this layer for activations ``features`` (1 x N x h x w)."""
        n = features.shape[-3]
        total = features.new_zeros((), dtype=torch.float32)
        for mask, target, weight in zip(self.masks, self.grams, self.weights):
            total = total + weight * (masked_gram(features.float(), mask) - target).pow(2).sum()
        return total / (4 * n * n)


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
