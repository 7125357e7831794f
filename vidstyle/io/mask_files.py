"""Semantic mask files (Luan et al. 2017): colour-coded label images read from disk into label maps, the
content masks of a frame sequence, and the masks' identity for a work directory. The region Grams computed from
them are in vidstyle/model/region_grams.py; matching content labels to style labels is vidstyle/engine/regions.py.

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

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import VidstyleError
from .frames import list_frames
from .images import read_image

DEFAULT_TOLERANCE = 24
DEFAULT_MIN_FRACTION = 0.001


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
        """Raise VidstyleError when the mask's aspect ratio differs from the image's by more than 2 % plus what
        rounding the image to whole pixels at its processing size can do (a pixel on its short side)."""
        h, w = image_shape[:2]
        mh, mw = self.shape
        if abs((mw / mh) / (w / h) - 1) > 0.02 + 1 / min(h, w):
            raise VidstyleError(f"{what} mask is {mw}x{mh} but its image is processed at {w}x{h}; they must have "
                                "the same aspect ratio")



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


def mask_identity(style_mask: str | None, content_mask: str | None) -> dict[str, str] | None:
    """What identifies the mask files' contents (for a video work directory's fingerprint); None without masks."""
    if not content_mask or not style_mask:
        return None
    paths = {"style": Path(style_mask), "content": Path(content_mask)}
    ident = {}
    for name, path in paths.items():
        files = list_frames(path) if path.is_dir() else [path]
        h = hashlib.sha256()
        for f in files:  # by content: an edited mask (same size, any mtime) never resumes old frames
            if f.is_file():
                h.update(f.name.encode(errors="surrogateescape") + b"\0")
                with open(f, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        h.update(block)
        ident[name] = h.hexdigest()[:16]
    return ident


class MaskSequence:
    """Content masks for a sequence of frames: one file for every frame, or a folder with one file per frame.

    Folder files are taken in natural order like frame folders (frame_2.png before frame_10.png): input
    frame i uses file i. ``frames``: how many input frames will be asked for (checked up front when known, else 0).
    """

    def __init__(self, path: str | os.PathLike, frames: int = 0) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            self.files = list_frames(self.path)
            if frames > len(self.files):
                raise VidstyleError(f"mask folder {self.path} has {len(self.files)} masks for {frames} frames")
            self._single: LabelMap | None = None
        elif self.path.is_file():
            self.files = [self.path]
            self._single = read_label_mask(self.path)
        else:
            raise VidstyleError(f"content mask not found: {self.path}")

    def __len__(self) -> int:
        return len(self.files)

    def for_frame(self, index: int) -> LabelMap:
        """The labels of frame ``index`` (0-based)."""
        if self._single is not None:
            return self._single
        if index >= len(self.files):
            raise VidstyleError(f"mask folder {self.path} has {len(self.files)} masks but the input has more frames")
        return read_label_mask(self.files[index])
