"""Real footage keeps its painting: short stretches of ../shared/media/bikes.mp4 and bigbuckbunny.mp4 through the real pipeline,
judged on the written .mp4 as `vidstyle metrics --style` judges it (docs/real-footage.md has the full clips)."""
from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import MEDIA

from vidstyle import Config, stylize_video
from vidstyle.io.images import read_image
from vidstyle.io.video_files import iter_video_frames
from vidstyle.metrics.look import LookMeter, measure_clip

BIKES = MEDIA / "bikes.mp4"
BUNNY = MEDIA / "bigbuckbunny.mp4"
START, FRAMES = 1.2, 13  # frames 30-42: the second shot, a hand-held camera following people on a street


@pytest.mark.slow
def test_second_shot_of_bikes_keeps_its_look_and_stays_steady(tmp_path: Path, starry_night: Path,
                                                              weights_path: Path) -> None:
    """Frames 30-42 at 96 px, 4 passes a frame (40 for the first): the style and content of the shot's first
    frame kept (mean of the last 10 frames >= 0.88 for the style, 0.85 for the content; every frame >= 0.8,
    the style's >= 0.78) with at most twice the input's own warping error. Measured (OpenCV 4.14): style 0.95
    mean / 0.84 worst, content 0.92 / 0.90, 0.54x the input's error; with the init of before the painted init
    (the photo where Ruder's mask rejects the warp) and no pass budget the style was 0.81 / 0.72 (0.87x)."""
    if not BIKES.is_file():
        pytest.skip(f"{BIKES} is not there")
    config = Config(preset="fast", weights=str(weights_path), size=96, iterations=4, first_iterations=40,
                    quiet=True, seed=0, device="cpu", start=START, max_frames=FRAMES, audio=False)
    out = tmp_path / "bikes.mp4"
    report = stylize_video(BIKES, starry_night, out, config)
    assert len(report["frames"]) == FRAMES and not any(f.get("shot_change") for f in report["frames"])
    meter = LookMeter(read_image(starry_night), weights=str(weights_path))
    err, look = measure_clip(iter_video_frames(out), iter_video_frames(BIKES, start=START, max_frames=FRAMES),
                             meter, quality="fine")
    (shot,) = look.shots()
    assert err.mean <= 2 * err.reference_mean
    # measured over OpenCV 4.14 / 5.1 and 1 / 2 threads: style 0.948-0.967 mean / 0.836-0.841 worst, content
    # 0.912-0.915 / 0.889-0.901; the budget gave 4-6 passes. The style bounds sit between that and what the clip
    # measured with the old init and no pass budget (0.808-0.810 / 0.717-0.718), which must still fail: 0.88
    # and 0.78 leave 7 % under the lowest passing figures for other CPUs and sit 8 % over the old init's.
    # (At 128 px and 8 passes the budget never acted and the old init kept 0.91 / 0.87 of the style.)
    assert shot.style_mean >= 0.88 and shot.content_mean >= 0.85, (shot.style_mean, shot.content_mean)
    assert shot.style_worst >= 0.78 and shot.content_worst >= 0.8, (shot.style_worst, shot.content_worst)
    passes = [f["iterations"] for f in report["frames"][1:]]
    assert min(passes) >= 4 and max(passes) <= 6  # the budget's cap: 1.5 x --iterations


@pytest.mark.slow
def test_bunny_keeps_its_content_under_a_slowly_moving_camera(tmp_path: Path, starry_night: Path,
                                                             weights_path: Path) -> None:
    """bigbuckbunny.mp4 frames 0-59 at 80 px, 4 passes a frame (40 for the first): a slowly moving camera and
    a character walking toward it keep the first frame's style and content (>= 0.85 mean of the last 10
    frames, every frame >= 0.8; the content's 0.86 and 0.83) at most at the input's own warping error x 2.
    Measured with OpenCV 5.1: style 1.09 / 0.98, content 0.90 / 0.88, 0.58x; with still regions (pixels under
    0.3 px of flow copied and held) the content was 0.82 / 0.81 (0.70x). The drift takes the whole 60 frames
    to show: over frames 0-29 at 96 px, 8 passes, the still regions kept 0.90 of the content against 0.93."""
    if not BUNNY.is_file():
        pytest.skip(f"{BUNNY} is not there")
    frames = 60
    config = Config(preset="fast", weights=str(weights_path), size=80, iterations=4, first_iterations=40,
                    quiet=True, seed=0, device="cpu", max_frames=frames, audio=False)
    out = tmp_path / "bunny.mp4"
    stylize_video(BUNNY, starry_night, out, config)
    meter = LookMeter(read_image(starry_night), weights=str(weights_path))
    err, look = measure_clip(iter_video_frames(out), iter_video_frames(BUNNY, max_frames=frames), meter,
                             quality="fine")
    (shot,) = look.shots()
    assert err.mean <= 2 * err.reference_mean
    # content measured 0.899-0.904 mean / 0.876-0.881 worst over OpenCV 4.14 / 5.1 and 1 / 2 threads (style
    # 1.078-1.094 / 0.978-0.984). With still regions (the follower vidstyle had before) the content measured
    # 0.821-0.822 / 0.810-0.814: the mean's 0.86 sits 4 % under the lowest passing figure and 4.5 % over that,
    # which must still fail; the worst frame's 0.83 leaves 5 % room and fails it too
    assert shot.style_mean >= 0.85 and shot.content_mean >= 0.86, (shot.style_mean, shot.content_mean)
    assert shot.style_worst >= 0.8 and shot.content_worst >= 0.83, (shot.style_worst, shot.content_worst)
