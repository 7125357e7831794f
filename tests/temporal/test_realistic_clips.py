"""Camera-like clips (sensor noise, H.264): the generator itself, and --temporal flow measured on one."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.helpers import MEDIA
from tests.helpers.clips import count_frames_ffmpeg
from samples.realistic_clips import REALISTIC_KINDS, make_realistic_clip, realistic_frames

from vidstyle import Config, stylize_video
from vidstyle.io.images import read_image
from vidstyle.io.video_files import iter_video_frames
from vidstyle.metrics.warping import warping_error
from vidstyle.temporal import FlowEstimator
from vidstyle.metrics.look import LookMeter, LookOverTime

W, H, N = 128, 72, 6


@pytest.fixture(scope="module")
def scene(tubingen: Path) -> np.ndarray:
    return read_image(tubingen)


@pytest.fixture(scope="module")
def still_clip(tmp_path_factory: pytest.TempPathFactory, scene: np.ndarray) -> Path:
    return make_realistic_clip("still", tmp_path_factory.mktemp("real") / "still.mp4", scene, frames=N,
                               width=W, height=H)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2)))


def test_still_clip_is_noisy_compressed_and_only_the_subject_moves(still_clip: Path, scene: np.ndarray) -> None:
    raw = list(realistic_frames("still", scene, frames=N, width=W, height=H))
    decoded = list(iter_video_frames(still_clip))
    assert count_frames_ffmpeg(still_clip) == N and decoded[0].shape == (H, W, 3)
    # lossy, as a phone's H.264 is: measured 29.46 (OpenCV 4.14) and 29.48 (5.1) dB, 1 or 2 threads; x264 and
    # the decoder differ by build, so 25 dB leaves room for others (a lossless write measures over 48)
    assert 25 < psnr(decoded[0], raw[0]) < 48
    diff = np.abs(raw[-1].astype(np.float32) - raw[0].astype(np.float32)).mean(axis=2)
    background, subject = diff[:, int(0.75 * W):], diff[int(0.35 * H):int(0.75 * H), :int(0.45 * W)]
    assert 1.0 < background.mean() < 8.0  # sensor noise, fresh in every frame, on a still background
    # the subject moves: measured 3.22x the background's change (OpenCV 4.14 and 5.1, 1 or 2 threads); a subject
    # standing still changes with the noise only, about 1x
    assert subject.mean() > 2 * background.mean()
    flow = FlowEstimator("fine")(decoded[0], decoded[1])
    assert np.median(np.abs(flow[:, int(0.75 * W):])) < 0.3  # the camera stands still


@pytest.mark.parametrize("kind", [k for k in REALISTIC_KINDS if k != "still"])
def test_camera_moves_a_little(kind: str, scene: np.ndarray) -> None:
    frames = list(realistic_frames(kind, scene, frames=N, width=W, height=H, seed=1))
    est = FlowEstimator("fine")
    shifts = [float(np.median(np.hypot(*est(frames[t], frames[t - 1]).transpose(2, 0, 1)))) for t in range(1, N)]
    assert 0.1 < max(shifts) < 3  # sub-pixel to a few pixels per frame, like a hand or a slow pan
    assert frames[0].shape == (H, W, 3)


@pytest.mark.slow
def test_flow_beats_cold_starts_on_noisy_footage(still_clip: Path, tmp_path: Path, starry_night: Path,
                                                 weights_path: Path) -> None:
    """On a noisy, compressed still-camera clip --temporal flow keeps the written frames far steadier than
    restarting every frame (measured on the decoded output videos, as `vidstyle metrics` does)."""
    base = Config(preset="fast", weights=str(weights_path), size=64, iterations=4, first_iterations=8,
                  quiet=True, seed=0, device="cpu")
    errors = {}
    for mode in ("none", "flow"):
        out = tmp_path / f"{mode}.mp4"
        stylize_video(still_clip, starry_night, out, base.replace(temporal=mode))
        frames = list(iter_video_frames(out))
        errors[mode] = warping_error(frames, iter_video_frames(still_clip, size=64), quality="fine").mean
    assert errors["flow"] < 0.5 * errors["none"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", REALISTIC_KINDS)
def test_written_video_is_as_steady_as_the_footage_and_keeps_its_look(
        kind: str, tmp_path: Path, scene: np.ndarray, starry_night: Path, weights_path: Path) -> None:
    """The camera-footage targets, on the .mp4 actually written and decoded as `vidstyle metrics` does: warping
    error at most 2x the input's own, and the last frame keeps >= 0.8 of frame 0's style strength and content
    fidelity. On the still clip the written colour crawls when the decoder repeats 4:2:0 chroma over 2x2
    blocks (OpenCV's default) instead of interpolating it (vidstyle.io.chroma).

    10 frames at 128 px, 4 passes a frame (16 for the first), measured over OpenCV 4.14 / 5.1 (still: and 1 / 2
    threads): still 1.40-1.59x the input's error (2.62-2.94x with the chroma repeated, which the 2x must still
    fail), handheld 1.09-1.12x, pan 0.49x; the last frame keeps 0.97-1.03 of the style and 1.01-1.05 of the
    content. At 96 px the still clip measured 2.56x even with the chroma interpolated (12 frames, 8 passes):
    there the 2x2 blocks are too coarse for the bound, so the size stays."""
    frames = 10
    clip = make_realistic_clip(kind, tmp_path / f"{kind}.mp4", scene, frames=frames, width=320, height=180,
                               sprite=read_image(MEDIA / "shipwreck.jpg"))
    cfg = Config(preset="fast", weights=str(weights_path), size=128, iterations=4, first_iterations=16,
                 quiet=True, seed=0, device="cpu", temporal="flow")
    stylize_video(clip, starry_night, tmp_path / "out.mp4", cfg)
    meter, look = LookMeter(read_image(starry_night), weights=str(weights_path)), LookOverTime()
    err = warping_error(iter_video_frames(tmp_path / "out.mp4"), iter_video_frames(clip, size=128), quality="fine",
                        on_frame=lambda out, ref: look.frames.append(meter.measure(out, ref)))
    style_kept, content_kept = look.kept(frames - 1)
    assert err.mean <= 2 * err.reference_mean, err.mean / err.reference_mean
    assert style_kept >= 0.8 and content_kept >= 0.8, (style_kept, content_kept)
