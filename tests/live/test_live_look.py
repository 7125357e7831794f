"""Live mode on real footage (bikes.mp4's people-and-bicycles shot, 96 px): what the display shows keeps the
camera's structure while the scene moves, and the first frame shown is already painted."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers import MEDIA

from vidstyle import Config, build_stylizer
from vidstyle.io.camera import Frame
from vidstyle.io.encode import VideoWriter
from vidstyle.io.images import read_image, resize_long_side
from vidstyle.io.video_files import iter_video_frames
from vidstyle.live import run_live
from vidstyle.live.config import LiveConfig, live_engine_config
from vidstyle.live.display import compose
from vidstyle.live.worker import Stylized
from vidstyle.metrics.look import LookMeter
from vidstyle.temporal.flow import FlowEstimator

pytestmark = pytest.mark.slow  # the painted frame and the look meter's forwards take a few seconds

SIZE = 96  # 96x40 frames of the 640x272 clip
SHOT = (30, 56)  # bikes.mp4's second shot (its cut is at frame 30): people and bicycles crossing


@pytest.fixture(scope="module")
def shot() -> list[np.ndarray]:
    """The shot's frames as a camera delivers them (RGB, long side SIZE, even sides)."""
    cap, frames = cv2.VideoCapture(str(MEDIA / "bikes.mp4")), []
    for index in range(SHOT[1]):
        ok, bgr = cap.read()
        assert ok
        if index >= SHOT[0]:
            frames.append(resize_long_side(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), SIZE, even=True))
    return frames


@pytest.fixture(scope="module")
def meter(weights_path: Path, starry_night: Path) -> LookMeter:
    return LookMeter(read_image(starry_night), weights=str(weights_path))


@pytest.fixture(scope="module")
def painted(shot: list[np.ndarray], weights_path: Path, starry_night: Path) -> np.ndarray:
    """The shot's first frame painted as an offline run paints it (L-BFGS, 30 passes)."""
    config = Config(preset="fast", weights=str(weights_path), size=SIZE, iterations=30, optimizer="lbfgs",
                    quiet=True, device="cpu", fixed_budget=True)
    return build_stylizer(config, read_image(starry_night), reference=shot[0]).stylize(shot[0]).image


def test_the_display_carries_the_cameras_structure_into_the_painting_while_the_scene_moves(
        shot: list[np.ndarray], painted: np.ndarray, meter: LookMeter) -> None:
    # a result made for frame 0 shown on frame 10 (0.4 s later, people have crossed): moving the painting
    # along the flow alone kept 0.39 of its content fidelity (warped patches, smears); carrying the camera's
    # change since the painting was made, bicubically and without the old strokes where the flow fails, keeps
    # 0.70 (measured)
    result = Stylized(painted, Frame(0, shot[0], 0.0), 0, 0.0, 0.0)
    own = meter.measure(painted, shot[0])
    shown = compose(Frame(10, shot[10], 0.0), result, FlowEstimator("fast"))
    look = meter.measure(shown, shot[10])
    assert look.content_fidelity >= 0.55 * own.content_fidelity
    assert look.style_strength >= 3  # still a painting, not the camera picture (1)


def test_the_first_frame_shown_is_painted(shot: list[np.ndarray], painted: np.ndarray, meter: LookMeter,
                                          weights_path: Path, starry_night: Path, tmp_path: Path) -> None:
    clip = tmp_path / "shot.mp4"
    with VideoWriter(clip, Fraction(25), crf=0) as writer:
        for frame in shot[:6]:
            writer.write(frame)
    record = tmp_path / "live.mp4"
    engine = live_engine_config(size=SIZE, weights=str(weights_path), quiet=True, device="cpu")
    run_live([str(starry_night)], LiveConfig(engine=engine, camera=str(clip), window=False, record=str(record),
                                             max_frames=1, first_iterations=30))
    first = next(iter_video_frames(record))
    # the old warm-up (the live update's 2 Adam passes) reached 0.12 of the offline first frame's strength
    assert meter.measure(first, shot[0]).style_strength >= 0.5 * meter.measure(painted, shot[0]).style_strength
