"""Camera-like test clips: sensor noise, a still camera with a moving subject, hand-held shake, a slow pan,
each through the H.264 compression a phone applies (libx264, yuv420p). Generated on the fly, never downloaded.

The synthetic clips of ``motion_clips`` move a clean photo exactly; real footage has noise that changes every
frame, compression that smears it in blocks, and small irregular camera motion. These clips add exactly that
on top of the shared photos, so temporal tests and ``benchmarks/bench_stability.py`` see it too.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from vidstyle.io.video_files import ffmpeg_exe

REALISTIC_KINDS = ("still", "handheld", "pan")


@dataclass(frozen=True)
class Capture:
    """How the 'phone' records: sensor noise (in 0..255 gray levels) and its H.264 settings.

    Noise variance = read^2 + shot * signal (photon noise grows with brightness); chroma noise is blotchy
    (low-pass filtered), as after a phone's demosaicing. crf 26, a 1 s GOP and B-frames resemble a phone's
    default 720p recording at a few Mbit/s.
    """

    read_noise: float = 2.0
    shot_noise: float = 0.06
    chroma_noise: float = 2.5
    crf: int = 26
    preset: str = "medium"
    gop: int = 30
    fps: int = 30


def _camera_path(kind: str, t: int, width: int, rng_walk: np.ndarray) -> tuple[float, float, float]:
    """(dx, dy, degrees) of the camera at frame t, in output pixels relative to the first frame's view."""
    if kind == "still":
        return 0.0, 0.0, 0.0
    if kind == "handheld":  # a smooth random drift of ~0.5% of the width, plus a faster small tremor
        dx, dy, rot = rng_walk[t]
        return float(dx * width), float(dy * width), float(rot)
    if kind == "pan":  # 0.25% of the width per frame to the right, a slight tremor on top
        dx, dy, _ = rng_walk[t]
        return 0.0025 * width * t + 0.1 * float(dx * width), 0.1 * float(dy * width), 0.0
    raise ValueError(f"unknown realistic clip kind {kind!r}; choose from {', '.join(REALISTIC_KINDS)}")


def _shake(frames: int, rng: np.random.Generator) -> np.ndarray:
    """frames x (dx, dy, degrees): low-pass filtered random walk (drift) + white tremor, as fractions of width."""
    steps = rng.standard_normal((frames, 3)) * (0.0012, 0.0009, 0.04)
    drift = np.cumsum(steps, axis=0)
    kernel = np.ones(5) / 5
    smooth = np.stack([np.convolve(np.pad(drift[:, i], 2, mode="edge"), kernel, "valid") for i in range(3)], 1)
    tremor = rng.standard_normal((frames, 3)) * (0.0004, 0.0004, 0.01)
    path = smooth + tremor
    return path - path[0]


def _subject(t: int, width: int, height: int) -> tuple[float, float]:
    """Centre of the moving subject at frame t: walks across at 1.2% of the width per frame and back, bobbing."""
    span = 0.6 * width
    travel = (0.012 * width * t) % (2 * span)
    x = 0.2 * width + (travel if travel <= span else 2 * span - travel)
    y = 0.55 * height + 0.03 * height * np.sin(t * 0.7)
    return float(x), float(y)


def _sensor_noise(frame: np.ndarray, capture: Capture, rng: np.random.Generator) -> np.ndarray:
    """``frame`` (float32 0..255) with signal-dependent luma noise and blotchy chroma noise added."""
    h, w = frame.shape[:2]
    luma = frame.mean(axis=2, keepdims=True)
    sigma = np.sqrt(capture.read_noise ** 2 + capture.shot_noise * np.clip(luma, 0, 255))
    noisy = frame + sigma * rng.standard_normal((h, w, 1)).astype(np.float32)
    small = rng.standard_normal((max(1, h // 2), max(1, w // 2), 3)).astype(np.float32)
    chroma = cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), (0, 0), 0.8)
    chroma -= chroma.mean(axis=2, keepdims=True)  # colour only: the luma noise is above
    return noisy + capture.chroma_noise * 2.0 * chroma


def realistic_frames(kind: str, scene: np.ndarray, *, frames: int = 40, width: int = 1280, height: int = 720,
                     sprite: np.ndarray | None = None, capture: Capture | None = None,
                     seed: int = 0) -> Iterator[np.ndarray]:
    """RGB uint8 frames as a sensor delivers them (noise included, before compression).

    still: a fixed camera on ``scene`` with an elliptical subject cut from ``sprite`` crossing it; handheld:
    ``scene`` through a shaking hand (drift ~0.5% of the width, tremor, +-0.1 degree roll); pan: a slow pan
    of 0.25% of the width per frame. The noise differs in every frame (seeded by ``seed``).
    """
    if kind not in REALISTIC_KINDS:
        raise ValueError(f"unknown realistic clip kind {kind!r}; choose from {', '.join(REALISTIC_KINDS)}")
    capture = capture or Capture()
    rng = np.random.default_rng(seed)
    walk = _shake(frames, rng)
    # The scene covers the frame with a margin for the shake and the pan (the pan travels 0.25% x frames).
    margin = 1.15 + (0.0025 * frames if kind == "pan" else 0.0)
    base = max(width * margin / scene.shape[1], height * 1.15 / scene.shape[0])
    img = cv2.resize(scene, None, fx=base, fy=base, interpolation=cv2.INTER_AREA if base < 1 else cv2.INTER_CUBIC)
    x0 = (img.shape[1] - width) / 2 - (0.00125 * frames * width if kind == "pan" else 0.0)
    y0 = (img.shape[0] - height) / 2
    if kind == "still":
        rx, ry = round(0.11 * height), round(0.16 * height)
        src = sprite if sprite is not None else np.ascontiguousarray(scene[::-1])
        body = cv2.resize(src, (2 * rx, 2 * ry), interpolation=cv2.INTER_AREA).astype(np.float32)
        yy, xx = np.mgrid[0:2 * ry, 0:2 * rx].astype(np.float32)
        dist = np.hypot((xx - rx + 0.5) / rx, (yy - ry + 0.5) / ry)
        alpha = np.clip((1 - dist) * min(rx, ry) / 1.5, 0, 1)[..., None]  # ~1.5 px soft edge
    for t in range(frames):
        dx, dy, rot = _camera_path(kind, t, width, walk)
        m = cv2.getRotationMatrix2D((width / 2, height / 2), rot, 1.0)
        m[:, 2] += (x0 + dx, y0 + dy)
        frame = cv2.warpAffine(img, m, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT).astype(np.float32)
        if kind == "still":
            cx, cy = _subject(t, width, height)
            # Sub-pixel placement: shift the cut-out by its fractional offset before pasting it.
            left, top = int(np.floor(cx - rx)), int(np.floor(cy - ry))
            shift = np.float32([[1, 0, cx - rx - left], [0, 1, cy - ry - top]])
            b = cv2.warpAffine(body, shift, (2 * rx, 2 * ry), borderMode=cv2.BORDER_REPLICATE)
            a = cv2.warpAffine(alpha, shift, (2 * rx, 2 * ry))[..., None]
            ys, xs = slice(max(top, 0), min(top + 2 * ry, height)), slice(max(left, 0), min(left + 2 * rx, width))
            sub = (slice(ys.start - top, ys.stop - top), slice(xs.start - left, xs.stop - left))
            frame[ys, xs] = a[sub] * b[sub] + (1 - a[sub]) * frame[ys, xs]
        yield np.clip(_sensor_noise(frame, capture, rng) + 0.5, 0, 255).astype(np.uint8)


def encode_phone_clip(frames: Iterator[np.ndarray] | list[np.ndarray], path: Path,
                      capture: Capture | None = None) -> Path:
    """Encode RGB uint8 frames to ``path`` (.mp4) with libx264 at the capture's phone-like settings."""
    capture = capture or Capture()
    it = iter(frames)
    first = next(it)
    h, w = first.shape[:2]
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(capture.fps), "-i", "-",
           "-c:v", "libx264", "-preset", capture.preset, "-crf", str(capture.crf), "-profile:v", "high",
           "-g", str(capture.gop), "-bf", "2", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for frame in (first, *it):
            proc.stdin.write(np.ascontiguousarray(frame).tobytes())
    finally:
        proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed to encode {path}: {err.strip()}")
    return path


def make_realistic_clip(kind: str, path: Path, scene: np.ndarray, *, frames: int = 40, width: int = 1280,
                        height: int = 720, sprite: np.ndarray | None = None, capture: Capture | None = None,
                        seed: int = 0) -> Path:
    """Generate clip ``kind`` and write it as a phone-compressed .mp4 at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return encode_phone_clip(realistic_frames(kind, scene, frames=frames, width=width, height=height,
                                              sprite=sprite, capture=capture, seed=seed), path, capture)
