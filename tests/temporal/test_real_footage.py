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
    """Frames 30-42 at 128 px, 8 passes a frame (40 for the first): the style and content of the shot's first
    frame kept (mean of the last 10 frames >= 0.85, every frame >= 0.8, the style's >= 0.78) with at most twice
    the input's own warping error. Measured (OpenCV 4.14): style 0.92 mean / 0.88 worst, content 0.94 / 0.93,
    0.57x the input's error; before the painted init and the pass budget the style was 0.82 / 0.75 (1.07x)."""
    if not BIKES.is_file():
        pytest.skip(f"{BIKES} is not there")
    config = Config(preset="fast", weights=str(weights_path), size=128, iterations=8, first_iterations=40,
                    quiet=True, seed=0, device="cpu", start=START, max_frames=FRAMES, audio=False)
    out = tmp_path / "bikes.mp4"
    report = stylize_video(BIKES, starry_night, out, config)
    assert len(report["frames"]) == FRAMES and not any(f.get("shot_change") for f in report["frames"])
    meter = LookMeter(read_image(starry_night), weights=str(weights_path))
    err, look = measure_clip(iter_video_frames(out), iter_video_frames(BIKES, start=START, max_frames=FRAMES),
                             meter, quality="fine")
    (shot,) = look.shots()
    assert err.mean <= 2 * err.reference_mean
    # measured over OpenCV 4.14 / 5.1, 1 / 2 threads and torch + OpenCV without AVX/AVX2 (ATEN_CPU_CAPABILITY=
    # default, OPENCV_CPU_DISABLE): style 0.913-0.922 mean / 0.856-0.890 worst, content 0.939-0.946 / 0.926-0.931.
    # The style bounds sit between that and what the clip measured without the painted init and the pass
    # budget (0.82 / 0.75), which must still fail: the worst frame's 0.78 leaves room for other CPUs
    assert shot.style_mean >= 0.85 and shot.content_mean >= 0.85, (shot.style_mean, shot.content_mean)
    assert shot.style_worst >= 0.78 and shot.content_worst >= 0.8, (shot.style_worst, shot.content_worst)
    passes = [f["iterations"] for f in report["frames"][1:]]
    assert min(passes) >= 8 and max(passes) <= 12  # the budget's cap: 1.5 x --iterations


@pytest.mark.slow
def test_bunny_keeps_its_content_under_a_slowly_moving_camera(tmp_path: Path, starry_night: Path,
                                                             weights_path: Path) -> None:
    """bigbuckbunny.mp4 frames 0-59 at 96 px, 8 passes a frame (40 for the first): a slowly moving camera and
    a character walking toward it keep the first frame's style and content (>= 0.85 mean of the last 10
    frames, every frame >= 0.8; the content's 0.83 and 0.78) at most at the input's own warping error x 2.
    Measured with OpenCV 5.1: style 1.05 / 0.97, content 0.88 / 0.86, 0.69x; with still regions (pixels under
    0.3 px of flow copied and held) the content was 0.80 / 0.79 (0.83x)."""
    if not BUNNY.is_file():
        pytest.skip(f"{BUNNY} is not there")
    frames = 60
    config = Config(preset="fast", weights=str(weights_path), size=96, iterations=8, first_iterations=40,
                    quiet=True, seed=0, device="cpu", max_frames=frames, audio=False)
    out = tmp_path / "bunny.mp4"
    stylize_video(BUNNY, starry_night, out, config)
    meter = LookMeter(read_image(starry_night), weights=str(weights_path))
    err, look = measure_clip(iter_video_frames(out), iter_video_frames(BUNNY, max_frames=frames), meter,
                             quality="fine")
    (shot,) = look.shots()
    assert err.mean <= 2 * err.reference_mean
    # content measured 0.869-0.878 mean / 0.852-0.862 worst over OpenCV 4.14 / 5.1, 1 / 2 threads and torch +
    # OpenCV without AVX/AVX2 (style 1.04-1.06 / 0.96-0.98); 0.85 sat 2 % under the lowest. With still regions the
    # content measured 0.80 / 0.79: the mean's 0.83 still fails that and leaves room for other CPUs
    assert shot.style_mean >= 0.85 and shot.content_mean >= 0.83, (shot.style_mean, shot.content_mean)
    assert shot.style_worst >= 0.8 and shot.content_worst >= 0.78, (shot.style_worst, shot.content_worst)
