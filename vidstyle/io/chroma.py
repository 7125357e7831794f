"""Chroma upsampling for decoded video: OpenCV repeats each 4:2:0 colour sample over its 2x2 block.

Most video stores colour at half the resolution (yuv420p). OpenCV's FFmpeg backend converts such frames to
RGB by repeating every chroma sample over the block of pixels it covers (swscale's fast path), so a moving
colourful texture crawls in 2-pixel steps; players interpolate the colour instead. The warping error of a
stylized clip with a moving subject was 4.3x the input's with the repeated colour and 1.0x with interpolated
colour, the same file (README, "Temporal coherence"). ``ChromaUpsampler`` undoes the repetition: it recovers
each block's colour sample and every pixel's brightness from the RGB frame, interpolates the colour bilinearly
and converts back. It only acts when the stream's pixel format is subsampled *and* its first telling frame
shows the repeated blocks, so a decoder that already interpolates is left alone.
"""
from __future__ import annotations

import cv2
import numpy as np

# OpenCV's CAP_PROP_CODEC_PIXEL_FORMAT fourcc -> (columns, rows) each chroma sample covers
SUBSAMPLED = {b"I420": (2, 2), b"YV12": (2, 2), b"NV12": (2, 2), b"NV21": (2, 2), b"Y3\x0b\n": (2, 2),
              b"Y42B": (2, 1), b"422P": (2, 1)}
REPEATED_STD = 0.75  # mean within-block spread (8-bit chroma levels) below which the blocks are repeats
DECIDES_STD = 2.0  # colour must vary this much (std, levels) between blocks for a frame to tell

# RGB <-> (Y, Cb - 128, Cr - 128), BT.601 full range: the luma weights every 8-bit BT.601 decode uses, and
# offsets/scales of limited range are affine, so block-constant chroma stays block-constant here.
_TO_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32)
_FROM_YCC = np.linalg.inv(_TO_YCC).astype(np.float32)


def codec_layout(fourcc: float) -> tuple[int, int] | None:
    """(columns, rows) per chroma sample for OpenCV's CAP_PROP_CODEC_PIXEL_FORMAT value, None if not subsampled."""
    try:
        code = int(fourcc).to_bytes(4, "little")
    except (OverflowError, ValueError):
        return None
    return SUBSAMPLED.get(code)


class ChromaUpsampler:
    """Interpolates the chroma of frames whose decoder repeated it over ``layout`` blocks (see module doc).

    The blocks' colour is taken as sited at their centres, where ffmpeg's own RGB -> yuv420p conversion puts
    it (its chroma is the 2x2 mean; measured); a camera's left-sited chroma is then off by a quarter sample.
    """

    def __init__(self, layout: tuple[int, int]) -> None:
        self.bx, self.by = layout
        self.repeated: bool | None = None  # the stream's verdict, once a frame could tell

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        """``rgb`` interpolated if this stream's decoder repeats its chroma; the first frames that can tell
        (not black, not flat: a fade-in cannot) decide for the rest of the stream."""
        if self.repeated is None:
            self.repeated = self.repeats(rgb)
        return self(rgb) if self.repeated else rgb

    def repeats(self, rgb: np.ndarray) -> bool | None:
        """True when ``rgb``'s chroma is constant over the layout's blocks (the decoder repeated it), None when
        the frame cannot tell (under a tenth of its pixels unclipped, or hardly any colour between blocks)."""
        x, valid = self._prepare(rgb)
        chroma = cv2.transform(x, _TO_YCC[1:])
        block = self._block_chroma(chroma, valid)
        if valid.mean() < 0.1 or float(block.std(axis=(0, 1)).max()) < DECIDES_STD:
            return None
        spread = np.abs(chroma - self._repeat(block, chroma.shape)).mean(-1)
        return float(spread[valid].mean()) < REPEATED_STD

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """``rgb`` (HxWx3 uint8) with its repeated chroma interpolated bilinearly; brightness kept per pixel."""
        h, w = rgb.shape[:2]
        x, valid = self._prepare(rgb)
        luma = cv2.transform(x, _TO_YCC[:1])
        block = self._block_chroma(cv2.transform(x, _TO_YCC[1:]), valid)
        clipped = np.nonzero(~valid)
        if clipped[0].size:
            # A clipped channel hides part of a pixel's colour: its brightness comes from its other channels,
            # given the block's colour (for unclipped pixels every channel gives the same brightness).
            xs = x[clipped]
            luma_each = xs - block[clipped[0] // self.by, clipped[1] // self.bx] @ _FROM_YCC[:, 1:].T
            ok = (xs > 0) & (xs < 255)
            luma[clipped] = np.where(ok.any(-1), (luma_each * ok).sum(-1) / np.maximum(ok.sum(-1), 1), luma[clipped])
        colour = cv2.resize(block, (x.shape[1], x.shape[0]), interpolation=cv2.INTER_LINEAR)
        out = cv2.transform(colour, _FROM_YCC[:, 1:]) + luma[..., None]  # every RGB row has Y weight 1
        return cv2.convertScaleAbs(cv2.max(out[:h, :w], 0.0))  # rounds and saturates at 255

    # --- internals ------------------------------------------------------------------------------------
    def _prepare(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The frame as float32 padded to whole blocks (repeating the last row/column: an odd size's last
        sample covers it) and its pixels with no channel clipped at 0 or 255."""
        ph, pw = -rgb.shape[0] % self.by, -rgb.shape[1] % self.bx
        if ph or pw:
            rgb = cv2.copyMakeBorder(rgb, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
        return rgb.astype(np.float32), cv2.inRange(rgb, (1, 1, 1), (254, 254, 254)) > 0

    def _block_chroma(self, chroma: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Each block's colour: the mean over its unclipped pixels (over all of them if none is)."""
        size = (chroma.shape[1] // self.bx, chroma.shape[0] // self.by)
        plain = cv2.resize(chroma, size, interpolation=cv2.INTER_AREA)
        if valid.all():
            return plain
        weight = valid.astype(np.float32)
        n = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)[..., None]
        mean = cv2.resize(chroma * weight[..., None], size, interpolation=cv2.INTER_AREA)
        return np.where(n > 0, mean / np.maximum(n, 1e-6), plain)

    def _repeat(self, block: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return cv2.resize(block, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
