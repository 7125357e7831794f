"""Live mode's carry: a painting made for an older camera frame, shown on (or started from) a newer one.

``carried`` is ``follow.painted_init`` on the host for 8-bit images, made for footage the flow explains only in
part: the painting moved bicubically along the backward flow, plus the camera's change since it was drawn;
where the flow does not explain the camera's picture (fast motion, zoom, something new held up to the camera),
the camera's picture in the painting's colours, with the painting's own fine strokes on it, until the
optimiser paints it. Where the picture holds no structure to follow (a white wall), the camera's own motion
(``steadied``) moves the strokes, not the motion the flow drags into it from a moving object. docs/live.md has
the measurements and the variants that lost.
"""
from __future__ import annotations

import cv2
import numpy as np

from .flow import warp

# the camera's change since the painting was drawn, in levels (mean over RGB, over 5 x 5 pixels), from which the
# moved strokes fade into the recoloured camera picture (fully new at the upper end)
UNEXPLAINED_LEVELS = (20.0, 50.0)
# how much worse (levels, as above) the camera's global motion may explain a pixel than the flow and still move
# it: ties (textureless regions, where every motion explains the picture) go to the camera's motion
STEADY_LEVELS = 5.0
# flow vectors within MOTION_TOLERANCE px of the camera's motion are its inliers; RANSAC draws at most
# MOTION_DRAWS samples (where few vectors follow the camera, a homography's 2000 default draws took up to 140 ms)
MOTION_TOLERANCE, MOTION_DRAWS = 2.0, 100
STROKE_SIGMA = 1.0  # px: the painting's strokes, what a Gaussian of this size removes from it
_MEAN = np.full((1, 3), 1 / 3, np.float32)  # cv2.transform's mean over RGB (numpy's mean over an axis is slow)


def carried(painted: np.ndarray, drawn: np.ndarray, current: np.ndarray, flow: np.ndarray,
            palette: np.ndarray | None = None, strokes: np.ndarray | None = None) -> np.ndarray:
    """``painted`` (stylized for camera picture ``drawn``) on camera picture ``current``; ``flow`` is the
    backward flow from ``current`` to ``drawn``. All images H x W x 3 uint8; returns the same.

    Bicubic: a bilinear move of a painting blurs its strokes, about a quarter of its style strength per move.
    Where the flow fails, moved strokes plus the camera's change leave ghosts of the old scene that two passes
    an update never clear: there the camera's picture is recoloured (``colour_map``) and given the painting's
    strokes from elsewhere in it (``stroke_texture``): new content looks painted, not flat, before the
    optimiser reaches it. ``palette`` and ``strokes``: ``colour_map(drawn, painted)`` and
    ``stroke_texture(painted)`` when the caller keeps them (one per result, not per frame)."""
    flow = steadied(drawn, current, flow)
    now = current.astype(np.float32)
    moved = warp(painted, flow, cubic=True).astype(np.float32)
    change = now - warp(drawn, flow, cubic=True)
    lo, hi = UNEXPLAINED_LEVELS
    unexplained = cv2.blur(cv2.transform(np.abs(change), _MEAN), (5, 5))
    new = np.clip((unexplained - lo) / (hi - lo), 0, 1)[..., None]
    if palette is None:
        palette = colour_map(drawn, painted)
    if strokes is None:
        strokes = stroke_texture(painted)
    fill = cv2.transform(now, palette) + strokes
    picture = (1 - new) * (moved + change) + new * fill
    return np.clip(np.rint(picture), 0, 255).astype(np.uint8)


def colour_map(photo: np.ndarray, painting: np.ndarray) -> np.ndarray:
    """The affine colour map (3 x 4: a 3 x 3 matrix and an offset, for ``cv2.transform``) that takes
    ``photo``'s pixels closest to ``painting``'s, least squares over every other pixel and row: the painting's
    palette, for the camera's new content."""
    source = photo[::2, ::2].reshape(-1, 3).astype(np.float32)
    rows = np.hstack([source, np.ones((len(source), 1), np.float32)])
    mapping, *_ = np.linalg.lstsq(rows, painting[::2, ::2].reshape(-1, 3).astype(np.float32), rcond=None)
    return np.ascontiguousarray(mapping.T)


def stroke_texture(painting: np.ndarray) -> np.ndarray:
    """The painting's fine strokes (it minus its ``STROKE_SIGMA`` blur, float32 levels around 0), shifted by
    half the picture each way: texture for new content that is not aligned with what the painting showed."""
    levels = painting.astype(np.float32)
    detail = levels - cv2.GaussianBlur(levels, (0, 0), STROKE_SIGMA)
    h, w = detail.shape[:2]
    return np.roll(detail, (h // 2, w // 2), axis=(0, 1))


def camera_motion(flow: np.ndarray) -> np.ndarray | None:
    """The camera's own motion in ``flow`` (H x W x 2): the affine map RANSAC fits to it on an 8-pixel grid, as
    a flow field; None where none fits. (A homography kept about as much style in the replay of real clips
    and took 10-40x the time, a frame's display budget on a busy CPU.)"""
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[4:h:8, 4:w:8]
    if ys.size < 3:
        return None
    src = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
    affine, _ = cv2.estimateAffine2D(src, src + flow[ys.ravel(), xs.ravel()], method=cv2.RANSAC,
                                     ransacReprojThreshold=MOTION_TOLERANCE, maxIters=MOTION_DRAWS)
    if affine is None:
        return None
    (a, b, c), (d, e, f) = affine.astype(np.float32)
    x, y = np.arange(w, dtype=np.float32)[None, :], np.arange(h, dtype=np.float32)[:, None]
    return np.dstack([(a - 1) * x + b * y + c, d * x + (e - 1) * y + f])


def steadied(drawn: np.ndarray, current: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``flow`` with the camera's motion (``camera_motion``) wherever that explains ``current`` from ``drawn``
    within STEADY_LEVELS of the flow: on a white wall any motion explains the picture, and the flow there is
    what its smoothing dragged in from a moving object in front, which smeared the painting's strokes.
    Judged on grey levels, warped bilinearly: a choice between two motions, not the picture."""
    steady = camera_motion(flow)
    if steady is None:
        return flow
    before, now = cv2.cvtColor(drawn, cv2.COLOR_RGB2GRAY), cv2.cvtColor(current, cv2.COLOR_RGB2GRAY)

    def error(motion: np.ndarray) -> np.ndarray:
        return cv2.blur(cv2.absdiff(now, warp(before, motion)), (5, 5)).astype(np.int16)

    take = cv2.blur((error(steady) <= error(flow) + STEADY_LEVELS).astype(np.float32), (5, 5))[..., None]
    return (take * steady + (1 - take) * flow).astype(np.float32)
