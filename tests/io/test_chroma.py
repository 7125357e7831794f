"""Decoded 4:2:0 colour is interpolated as a player does, not repeated over 2x2 blocks (vidstyle.io.chroma)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import MEDIA
from tests.helpers.clips import opencv_frames
from vidstyle.io.chroma import ChromaUpsampler, codec_layout
from vidstyle.io.encode import VideoWriter
from vidstyle.io.images import read_image
from vidstyle.io.video_files import iter_video_frames

TO_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32)


def repeated_chroma(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as OpenCV decodes its 4:2:0 encoding: each 2x2 block's mean colour repeated, brightness kept."""
    h, w = rgb.shape[:2]
    ycc = rgb.astype(np.float32) @ TO_YCC.T
    pad = np.pad(ycc, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    block = pad[..., 1:].reshape(pad.shape[0] // 2, 2, pad.shape[1] // 2, 2, 2).mean((1, 3))
    ycc[..., 1:] = block.repeat(2, 0).repeat(2, 1)[:h, :w]
    return np.clip(np.rint(ycc @ np.linalg.inv(TO_YCC).T), 0, 255).astype(np.uint8)


def smooth_colours(h: int, w: int, amplitude: float = 1.0) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = 128 + amplitude * np.stack([90 * np.sin(xx / 3.0), 90 * np.cos(yy / 2.5), 60 * np.sin((xx + yy) / 4)], -1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ TO_YCC[0]


def off(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference."""
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


@pytest.mark.parametrize("shape", [(48, 64), (47, 63)])
def test_repeated_colour_is_interpolated_and_brightness_kept(shape: tuple[int, int]) -> None:
    truth = smooth_colours(*shape)
    decoded = repeated_chroma(truth)
    up = ChromaUpsampler((2, 2))
    assert up.repeats(decoded) is True and up.repeats(truth) is False
    fixed = up(decoded)
    assert fixed.shape == truth.shape and fixed.dtype == np.uint8
    assert off(fixed, truth) < 0.6 * off(decoded, truth)
    assert np.abs(luma(fixed) - luma(decoded)).max() <= 1.5  # only the colour moves


def test_saturated_colours_with_clipped_channels() -> None:
    truth = smooth_colours(48, 64, amplitude=1.8)  # a third of the pixels have a channel at 0 or 255
    decoded = repeated_chroma(truth)
    assert ((decoded == 0) | (decoded == 255)).any(-1).mean() > 0.3
    fixed = ChromaUpsampler((2, 2))(decoded)
    assert off(fixed, truth) < 0.8 * off(decoded, truth)
    assert off(luma(fixed), luma(truth)) < 0.7 * off(luma(decoded), luma(truth))  # from the unclipped channels


def test_layouts_from_opencv_fourcc() -> None:
    def fourcc(code: bytes) -> float:
        return float(int.from_bytes(code, "little"))

    assert codec_layout(fourcc(b"I420")) == (2, 2)
    assert codec_layout(fourcc(b"Y42B")) == (2, 1)
    assert codec_layout(fourcc(b"444P")) is None and codec_layout(0.0) is None and codec_layout(-1.0) is None


def shifted_clip(path: Path) -> list[np.ndarray]:
    """A colourful painting sliding 1 px a frame, written by vidstyle's own writer (yuv420p), nearly lossless."""
    painting = cv2.resize(read_image(MEDIA / "starry_night.jpg"), (120, 80), interpolation=cv2.INTER_AREA)
    frames = [np.ascontiguousarray(np.roll(painting, t, axis=1)[:, 10:106]) for t in range(4)]
    with VideoWriter(path, Fraction(10), crf=0) as writer:
        for f in frames:
            writer.write(f)
    return frames


def test_decoded_moving_colour_does_not_crawl(tmp_path: Path) -> None:
    """Frame t equals frame t-1 moved by one pixel; OpenCV's repeated blocks break that, interpolation much less."""
    clip = tmp_path / "slide.mp4"
    shifted_clip(clip)
    raw = opencv_frames(clip)
    ours = list(iter_video_frames(clip))
    assert len(ours) == len(raw) == 4

    def crawl(frames: list[np.ndarray]) -> float:
        f = [x.astype(np.float32) for x in frames]
        return float(np.mean([np.mean((f[t][:, 4:-4] - f[t - 1][:, 3:-5]) ** 2) for t in range(1, len(f))]))

    assert crawl(ours) < 0.5 * crawl(raw)


def test_a_fade_in_does_not_decide_for_the_stream() -> None:
    """Black or flat first frames cannot tell repeated colour from interpolated; the first telling one does."""
    up = ChromaUpsampler((2, 2))
    black, grey = np.zeros((32, 48, 3), np.uint8), np.full((32, 48, 3), 90, np.uint8)
    assert up.repeats(black) is None and up.repeats(grey) is None
    assert np.array_equal(up.apply(black), black) and up.repeated is None
    decoded = repeated_chroma(smooth_colours(32, 48))
    assert not np.array_equal(up.apply(decoded), decoded) and up.repeated is True
