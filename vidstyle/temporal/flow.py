"""Optical flow (OpenCV DIS), backward warping and Ruder et al.'s occlusion / motion-boundary mask.

Conventions. ``FlowEstimator(quality)(a, b)`` returns ``w`` with ``a(x) ~ b(x + w(x))``: the flow is defined
on the grid of ``a`` and points into ``b``. The *backward* flow of frame t is therefore ``estimator(frame_t,
frame_{t-1})`` and ``warp(frame_{t-1}, backward)`` ~ ``frame_t``. Flows are HxWx2 float32 (dx, dy) in pixels.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..errors import VidstyleError

# fast/medium/fine -> (DIS preset, finest pyramid scale or None = the preset's own). Chosen by measurement:
# mean end-point error against exact ground truth for sub-pixel pans and 2% zooms of tubingen.jpg at 128,
# 256 and 512 px, and milliseconds per flow at 512 px on a busy 2-core CPU:
#   DIS preset, finest scale      end-point error   ms    quality
#   ULTRAFAST (own: 2)            0.2-0.7 px         1    -  (0.8 px off on a plain 128 px pan)
#   ULTRAFAST, 1                  0.15-0.2 px        7    fast
#   FAST (own: 2)                 0.2-0.6 px         3    -  (no better than ULTRAFAST)
#   MEDIUM (own: 1)               0.1 px            19    medium
#   MEDIUM, 0                     0.01-0.03 px      84    fine (patches matched at full resolution)
# The presets' own finest scales (1/4, 1/2 resolution) are what limit accuracy at vidstyle's small
# processing sizes; even "fine" costs far less than one VGG iteration at the same size.
FLOW_PRESETS: dict[str, tuple[int, int | None]] = {
    "fast": (cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, 1),
    "medium": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, None),
    "fine": (cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, 0),
}


# DIS refuses smaller images (OpenCV asserts): a short side under 8 or a long side under 12 pixels.
FLOW_MIN_SHORT_SIDE, FLOW_MIN_LONG_SIDE = 8, 12


def check_flow_size(height: int, width: int, remedy: str = "") -> None:
    """VidstyleError unless frames of ``height`` x ``width`` are large enough for optical flow; ``remedy`` ends
    the message (what the user can change)."""
    if min(height, width) < FLOW_MIN_SHORT_SIDE or max(height, width) < FLOW_MIN_LONG_SIDE:
        raise VidstyleError(f"frames of {width}x{height} pixels are too small for optical flow (it needs at least "
                            f"{FLOW_MIN_SHORT_SIDE} pixels on the short side and {FLOW_MIN_LONG_SIDE} on the long "
                            "side)" + (f": {remedy}" if remedy else ""))


def to_gray(frame: np.ndarray) -> np.ndarray:
    """An RGB (HxWx3) or gray (HxW) frame as contiguous uint8 grayscale, the input DIS needs."""
    if frame.ndim == 3:
        if frame.dtype != np.uint8:
            frame = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
        return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if frame.ndim == 2:
        gray = frame if frame.dtype == np.uint8 else np.clip(np.rint(frame), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(gray)
    raise VidstyleError(f"expected an HxW or HxWx3 frame, got shape {frame.shape}")


class FlowEstimator:
    """A reusable DIS optical-flow instance for one quality level (creating DIS per call is wasteful)."""

    def __init__(self, quality: str = "medium") -> None:
        self.quality = quality
        preset, finest_scale = FLOW_PRESETS[quality]
        self._dis = cv2.DISOpticalFlow_create(preset)
        if finest_scale is not None:
            self._dis.setFinestScale(finest_scale)

    def __call__(self, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        """Flow from ``frame_a`` to ``frame_b`` (HxWx2 float32, a(x) ~ b(x + w(x)))."""
        a, b = to_gray(frame_a), to_gray(frame_b)
        if a.shape != b.shape:
            raise VidstyleError(f"flow needs frames of one size, got {a.shape} and {b.shape}")
        check_flow_size(*a.shape)
        return self._dis.calc(a, b, None).astype(np.float32, copy=False)

    def pair(self, prev: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(forward flow prev->cur on prev's grid, backward flow cur->prev on cur's grid)."""
        return self(prev, cur), self(cur, prev)


def _sample_maps(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = flow.shape[:2]
    xs = np.arange(w, dtype=np.float32)[None, :] + flow[..., 0]
    ys = np.arange(h, dtype=np.float32)[:, None] + flow[..., 1]
    return xs, ys


def warp(image: np.ndarray, flow: np.ndarray, *, cubic: bool = False) -> np.ndarray:
    """Backward warp: ``out(x) = image(x + flow(x))``, bilinear (``cubic``: bicubic, which keeps a painting's
    strokes sharper), border replicated; keeps the dtype (uint8 saturates).

    With ``flow = estimator(frame_t, frame_{t-1})``, ``warp(frame_{t-1}, flow)`` ~ ``frame_t``.
    """
    if image.shape[:2] != flow.shape[:2]:
        raise VidstyleError(f"image {image.shape[:2]} and flow {flow.shape[:2]} sizes differ")
    xs, ys = _sample_maps(flow)
    src = np.ascontiguousarray(image)
    out = cv2.remap(src, xs, ys, interpolation=cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(image.shape)


def in_frame_mask(flow: np.ndarray) -> np.ndarray:
    """1 where ``x + flow(x)`` lands inside the image (so the warp has real data), else 0."""
    h, w = flow.shape[:2]
    xs, ys = _sample_maps(flow)
    return ((xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)).astype(np.float32)


def occlusion_mask(flow_fwd: np.ndarray, flow_bwd: np.ndarray) -> np.ndarray:
    """Ruder et al. (2016) reliability mask on frame t's grid: 1 = reliable, 0 = occluded/disoccluded.

    ``flow_fwd``: flow t-1 -> t (on t-1's grid); ``flow_bwd``: flow t -> t-1 (on t's grid). A pixel is
    unreliable where the forward flow warped to frame t (w~) does not cancel the backward flow (w^):
    |w~ + w^|^2 > 0.01 (|w~|^2 + |w^|^2) + 0.5; on motion boundaries: |grad u^|^2 + |grad v^|^2 >
    0.01 |w^|^2 + 0.002; and where w^ points out of the frame.
    """
    if flow_fwd.shape != flow_bwd.shape or flow_fwd.ndim != 3 or flow_fwd.shape[2] != 2:
        raise VidstyleError(f"occlusion_mask needs two HxWx2 flows of one size, got {flow_fwd.shape}, {flow_bwd.shape}")
    fwd_at_t = warp(flow_fwd, flow_bwd)  # w~
    sum_sq = np.sum((fwd_at_t + flow_bwd) ** 2, axis=2)
    bwd_sq = np.sum(flow_bwd ** 2, axis=2)
    inconsistent = sum_sq > 0.01 * (np.sum(fwd_at_t ** 2, axis=2) + bwd_sq) + 0.5
    du_dy, du_dx = np.gradient(flow_bwd[..., 0])
    dv_dy, dv_dx = np.gradient(flow_bwd[..., 1])
    grad_sq = du_dx ** 2 + du_dy ** 2 + dv_dx ** 2 + dv_dy ** 2
    boundary = grad_sq > 0.01 * bwd_sq + 0.002
    return (~inconsistent & ~boundary).astype(np.float32) * in_frame_mask(flow_bwd)


def warp_tensor(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``warp`` on the engine's device: ``out(x) = image(x + flow(x))`` for a B x C x H x W float tensor and an
    H x W x 2 flow tensor, bilinear, border replicated, no rounding.

    ``align_corners=True`` maps -1 and 1 to the centres of the first and last pixels, cv2.remap's convention
    (pixel i at coordinate i); the two differ only by cv2's 1/32 px weight quantisation (under one 8-bit level).
    """
    h, w = flow.shape[:2]
    xs = torch.arange(w, device=flow.device, dtype=torch.float32)[None, :] + flow[..., 0]
    ys = torch.arange(h, device=flow.device, dtype=torch.float32)[:, None] + flow[..., 1]
    grid = torch.stack((xs * (2.0 / max(w - 1, 1)) - 1, ys * (2.0 / max(h - 1, 1)) - 1), dim=-1)
    grid = grid[None].expand(image.shape[0], h, w, 2)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)
