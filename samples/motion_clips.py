"""Synthetic clips with known motion (pan, zoom, moving object, a cut) for temporal tests and benchmarks."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from vidstyle.io.images import read_image

CLIP_KINDS = ("pan", "zoom", "object")
PAN_STEP = (2.5, 0.75)  # camera motion per frame in pixels (content moves the other way)
ZOOM_STEP = 0.98  # image pixels per output pixel shrink by this factor each frame (2% closer)


def _disc(t: int, width: int, height: int) -> tuple[int, int, int]:
    """(x, y) of the moving disc's bounding-box corner at frame t, and its radius."""
    r = max(4, width // 8)
    x, y = round(0.08 * width) + round(3 * t), round(0.2 * height) + round(1.5 * t)
    if x + 2 * r > width or y + 2 * r > height:
        raise ValueError(f"the disc leaves a {width}x{height} frame at frame {t}; use fewer frames")
    return x, y, r


def _view(image: np.ndarray, cx: float, cy: float, scale: float, w: int, h: int) -> np.ndarray:
    """The w x h window of ``image`` centred at (cx, cy) showing ``scale`` image pixels per output pixel."""
    m = np.array([[scale, 0, cx - scale * w / 2], [0, scale, cy - scale * h / 2]], np.float32)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def motion_frames(kind: str, scene: np.ndarray, *, frames: int = 8, width: int = 128, height: int = 96,
                  sprite: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """RGB uint8 frames of ``scene`` (a photograph larger than the frame) under a known motion.

    pan: the camera moves 2.5 px right and 0.75 px down per frame; zoom: 2% closer per frame;
    object: a static view with a disc (a quarter of the width across) cut from ``sprite`` crossing it at
    (3, 1.5) px per frame.
    """
    base = max(width / scene.shape[1], height / scene.shape[0]) * 1.6
    img = cv2.resize(scene, None, fx=base, fy=base, interpolation=cv2.INTER_AREA)
    cx, cy = img.shape[1] / 2, img.shape[0] / 2
    if kind == "object":
        r = _disc(0, width, height)[2]
        src = sprite if sprite is not None else np.ascontiguousarray(scene[::-1, ::-1])
        disc = cv2.resize(src, (2 * r, 2 * r), interpolation=cv2.INTER_AREA)
        yy, xx = np.mgrid[0:2 * r, 0:2 * r]
        alpha = np.clip(r - np.hypot(xx - r + 0.5, yy - r + 0.5), 0, 1)[..., None]
    for t in range(frames):
        if kind == "pan":
            yield _view(img, cx - 10 + PAN_STEP[0] * t, cy - 3 + PAN_STEP[1] * t, 1.0, width, height)
        elif kind == "zoom":
            yield _view(img, cx, cy, 1.2 * ZOOM_STEP ** t, width, height)
        elif kind == "object":
            frame = _view(img, cx, cy, 1.0, width, height).astype(np.float32)
            x0, y0, _ = _disc(t, width, height)
            patch = frame[y0:y0 + 2 * r, x0:x0 + 2 * r]
            frame[y0:y0 + 2 * r, x0:x0 + 2 * r] = alpha * disc + (1 - alpha) * patch
            yield np.clip(frame + 0.5, 0, 255).astype(np.uint8)
        else:
            raise ValueError(f"unknown clip kind {kind!r}")


def true_flows(kind: str, t: int, *, width: int = 128, height: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """The exact (forward t-1 -> t, backward t -> t-1) flows of ``motion_frames(kind)`` at frame t >= 1."""
    fwd, bwd = np.zeros((height, width, 2), np.float32), np.zeros((height, width, 2), np.float32)
    if kind == "pan":
        bwd[...] = PAN_STEP
        fwd[...] = (-PAN_STEP[0], -PAN_STEP[1])
    elif kind == "zoom":
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        centred = np.stack([xx - width / 2, yy - height / 2], -1)
        bwd[...] = (ZOOM_STEP - 1) * centred
        fwd[...] = (1 / ZOOM_STEP - 1) * centred
    elif kind == "object":
        (x1, y1, r), (x0, y0, _) = _disc(t, width, height), _disc(t - 1, width, height)
        d = 2 * r
        yy, xx = np.mgrid[0:d, 0:d]
        inside = np.hypot(xx - r + 0.5, yy - r + 0.5) < r
        bwd[y1:y1 + d, x1:x1 + d][inside] = (x0 - x1, y0 - y1)
        fwd[y0:y0 + d, x0:x0 + d][inside] = (x1 - x0, y1 - y0)
    else:
        raise ValueError(f"unknown clip kind {kind!r}")
    return fwd, bwd


def write_frames(directory: Path, frames: Iterator[np.ndarray] | list[np.ndarray]) -> Path:
    """Write frames as lossless PNGs frame_0000.png ... into ``directory`` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(directory / f"frame_{i:04d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return directory


def read_frames(directory: Path) -> list[np.ndarray]:
    """The PNG frames of ``directory`` in name order."""
    return [read_image(p) for p in sorted(directory.glob("*.png"))]


def two_shot_frames(scene_a: np.ndarray, scene_b: np.ndarray, *, first: int = 3, second: int = 3,
                    width: int = 128, height: int = 96) -> list[np.ndarray]:
    """A pan over ``scene_a`` for ``first`` frames, then a cut to a pan over ``scene_b``."""
    return [*motion_frames("pan", scene_a, frames=first, width=width, height=height),
            *motion_frames("pan", scene_b, frames=second, width=width, height=height)]
