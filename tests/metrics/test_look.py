"""The look over time: style strength and content fidelity under the fixed fast-preset VGG layers."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vidstyle import Config, stylize_image
from vidstyle.io.images import read_image, resize_long_side
from vidstyle.metrics.look import LookMeter, LookOverTime

W, H = 64, 48


@pytest.fixture(scope="module")
def photo(tubingen: Path) -> np.ndarray:
    return cv2.resize(read_image(tubingen), (W, H), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def painting(starry_night: Path) -> np.ndarray:
    return resize_long_side(read_image(starry_night), 256)


@pytest.fixture(scope="module")
def meter(painting: np.ndarray, weights_path: Path) -> LookMeter:
    return LookMeter(painting, weights=str(weights_path))


def blend(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return np.clip((1 - t) * a.astype(np.float32) + t * b.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)


def test_yardsticks_are_one(meter: LookMeter, photo: np.ndarray, painting: np.ndarray) -> None:
    """The photo itself has style strength 1; the painting resized to the frame has content fidelity 1."""
    assert meter.measure(photo, photo).style_strength == pytest.approx(1.0)
    assert meter.measure(photo, photo).content_fidelity == float("inf")
    resized = cv2.resize(painting, (W, H), interpolation=cv2.INTER_AREA)
    assert meter.measure(resized, photo).content_fidelity == pytest.approx(1.0)
    assert meter.measure(resized, photo).style_strength > 5


@pytest.mark.slow
def test_stylized_frame_is_strong_and_faithful(meter: LookMeter, photo: np.ndarray, starry_night: Path,
                                               weights_path: Path) -> None:
    """A real (short) stylization: far closer to the painting's statistics than the photo, and far closer to
    the photo's structure than the painting; its look does not depend on the run's own loss settings."""
    config = Config(preset="fast", weights=str(weights_path), size=None, iterations=30, quiet=True, seed=0,
                    device="cpu")
    out = stylize_image(photo, read_image(starry_night), config)
    look = meter.measure(out, photo)
    assert look.style_strength > 3 and look.content_fidelity > 1.5
    louder = stylize_image(photo, read_image(starry_night), config.replace(style_weight=1e5))
    assert meter.measure(louder, photo).style_strength > look.style_strength


def test_drift_follows_a_fading_clip(meter: LookMeter, photo: np.ndarray, painting: np.ndarray) -> None:
    """Frames that fade from the painting's look back to the photo keep less and less of frame 0's strength."""
    target = cv2.resize(painting, (W, H), interpolation=cv2.INTER_AREA)
    frames = [blend(photo, target, t) for t in (0.8, 0.6, 0.4)]
    look = LookOverTime([meter.measure(f, photo) for f in frames])
    kept = look.drift()
    assert kept[0] == (1.0, 1.0)
    assert 1 > kept[1][0] > kept[2][0]  # style fades
    assert 1 < kept[1][1] < kept[2][1]  # the photo comes back
    data = look.as_dict()
    assert data["per_frame"][2]["style_kept"] == pytest.approx(kept[2][0])
    assert LookOverTime().drift() == []


def test_a_cut_starts_a_new_reference(meter: LookMeter, photo: np.ndarray, painting: np.ndarray) -> None:
    """After a shot change "kept" is relative to the new shot's first frame, and each shot gets a summary:
    the mean over its last frames and its worst frame."""
    target = cv2.resize(painting, (W, H), interpolation=cv2.INTER_AREA)
    frames = [blend(photo, target, t) for t in (0.8, 0.5, 0.3, 0.3, 0.6)]
    looks = [meter.measure(f, photo) for f in frames]
    one = LookOverTime(looks)
    cut = LookOverTime(looks, shot_changes=[3])
    assert one.kept(3)[0] < 0.9 and cut.kept(3) == (1.0, 1.0)  # frame 3 would look faded against frame 0
    assert cut.kept(4)[0] > 1 and cut.kept(2) == one.kept(2)
    first, second = cut.shots(tail=2)
    assert (first.start, first.stop, second.start, second.stop, first.tail) == (0, 3, 3, 5, 2)
    assert first.style_worst == pytest.approx(cut.kept(2)[0])
    assert first.style_mean == pytest.approx((cut.kept(1)[0] + cut.kept(2)[0]) / 2)
    assert second.style_worst == 1.0 and second.content_worst == pytest.approx(cut.kept(4)[1])
    assert cut.as_dict()["shots"][1]["start"] == 3
