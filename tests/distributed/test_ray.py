"""Distributed runs on a local Ray (2 CPU workers): frames in order, seams, a killed worker, resume, CLI."""
from __future__ import annotations

import json
import os
import re
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.helpers import MEDIA
from samples.motion_clips import motion_frames

from vidstyle import Config, VideoInterrupted, stylize_video
from vidstyle.cli.main import main
from vidstyle.io.frames import iter_frame_dir
from vidstyle.io.images import read_image, write_image

ray = pytest.importorskip("ray", reason="Ray is the optional extra vidstyle[ray]")
from vidstyle.distributed import Chunk, RayOptions, RayRunner, plan_chunks  # noqa: E402
from vidstyle.distributed.chunks import blend_pair, blend_weight, cross_fade  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    """One small local Ray for the tests that run chunks (the runner joins it and leaves it running); the
    command-line checks need none, so the fast subset starts no cluster."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def pan_clip(path: Path, frames: int, width: int = 32) -> Path:
    """A camera pan over Tubingen, ``width`` x 3/4 of it px, as a frame folder."""
    path.mkdir()
    for i, f in enumerate(motion_frames("pan", read_image(MEDIA / "tubingen.jpg"), frames=frames, width=width,
                                        height=width * 3 // 4)):
        write_image(path / f"f{i:03d}.png", f)
    return path


@pytest.fixture(scope="module")
def clip48(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 40 px: at 32 px the frames around 12-20 and 28-36 of this pan are 1.4x the interior even in a one-chain
    # run (no seams at all), so the seam bound would measure the clip; at 40 px a one-chain run gives 1.12.
    return pan_clip(tmp_path_factory.mktemp("ray") / "clip48", 48, width=40)


@pytest.fixture(scope="module")
def clip24(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pan_clip(tmp_path_factory.mktemp("ray") / "clip24", 24)


def cfg(weights: Path, **kw: object) -> Config:
    base: dict[str, object] = dict(preset="fast", weights=str(weights), size=32, iterations=4, first_iterations=12,
                                   quiet=True, seed=0, fps="24")
    base.update(kw)
    return Config(**base)  # type: ignore[arg-type]


class Streamed:
    """Every frame the chunk tasks streamed back, by (chunk, frame in chunk), for comparison with the output."""

    def __init__(self) -> None:
        self.frames: dict[tuple[int, int], np.ndarray] = {}

    def __call__(self, chunk: int, index: int, image: np.ndarray, record: dict) -> None:
        assert (chunk, index) not in self.frames, "a frame was computed twice"
        self.frames[(chunk, index)] = image

    def expected(self, plan: list[Chunk]) -> list[np.ndarray]:
        """The output the driver must write: each chunk's own frames in order, the frames around a border (the
        later chunk's lead-in, the earlier one's run-on) cross-faded."""
        out = []
        for c in plan:
            for f in range(c.start, c.stop):
                image = self.frames[(c.index, f - c.begin)]
                pair = blend_pair(plan, f)
                if pair is not None:
                    a, b = pair
                    image = cross_fade(self.frames[(a.index, f - a.begin)], self.frames[(b.index, f - b.begin)],
                                       blend_weight(a, b, f))
                out.append(image)
        return out


def assert_output_is(output: Path, expected: list[np.ndarray]) -> None:
    frames = list(iter_frame_dir(output))
    assert len(frames) == len(expected)
    assert all(np.array_equal(a, b) for a, b in zip(frames, expected))


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_48_frames_in_order_with_bounded_seams(clip48: Path, weights_path: Path, tmp_path: Path) -> None:
    out, report, streamed = tmp_path / "out", tmp_path / "report.json", Streamed()
    stylize_video(clip48, MEDIA / "starry_night.jpg", out, cfg(weights_path, size=40, report=str(report)),
                  runner=RayRunner(RayOptions(chunk_frames=16, overlap=4), on_frame=streamed))
    assert_output_is(out, streamed.expected(plan_chunks(48, 16, 4)))
    data = json.loads(report.read_text())
    dist = data["distributed"]
    assert [(c["begin"], c["start"], c["stop"]) for c in dist["chunks"]] == [(0, 0, 16), (12, 16, 32), (28, 32, 48)]
    assert [c["end"] for c in dist["chunks"]] == [20, 36, 48]
    assert data["totals"]["computed_this_run"] == 64  # 48 frames + 2 seams of 4 + 4, each computed once
    assert data["totals"]["resumed"] == 0  # a fresh run (frames - computed said -16)
    assert len({w["pid"] for w in dist["workers"]}) == 2  # both workers took chunks
    assert [f["chunk"] for f in data["frames"]] == [0] * 16 + [1] * 16 + [2] * 16
    weights = [f["blend"]["weight"] for f in data["frames"] if "blend" in f]
    assert weights == pytest.approx([m / 9 for m in range(1, 9)] * 2, abs=1e-4)
    seams = dist["seams"]
    print("seam figures", {k: v for k, v in seams.items() if k != "per_seam"})
    # Seams average at most 1.45x the interior and no seam frame exceeds 5x its median. Measured (issue 33,
    # docs/distributed.md): 1.28 with OpenCV 4.14 and 1.18 with 5.1 (whose warpAffine also changes this clip
    # where the pan reaches the mirrored border); the same code on the same pan started 1-3 frames later gives
    # 1.10-1.32 under either OpenCV, and commits back to 96890ba 0.96-1.43: which frames fall in the 8-frame
    # seam windows moves the figure by up to ~0.15, so the 1.3 this replaced failed on small numeric changes
    # (1.35 with OpenCV 5.1 from 1e17f4e to 3554902). What the bound must catch is far above: the lead-in-only
    # cross-fade gave 2.0x (32 px clip), a cut inside the overlap instead of the cross-fade 1.7-2.8x (worst
    # frame 6.8-19x the median). The worst frame today:
    # 1.87x the median (3.9x at 96890ba), so 5x stays.
    assert seams["seams"] == 2 and seams["max_to_median"] <= 5.0
    assert seams["mean_ratio"] <= 1.45


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_a_killed_worker_is_retried_and_no_frame_is_lost_or_computed_twice(clip24: Path, weights_path: Path,
                                                                           tmp_path: Path) -> None:
    killed: list[int] = []
    streamed = Streamed()

    def kill_once(chunk: int, index: int, image: np.ndarray, record: dict) -> None:
        streamed(chunk, index, image, record)
        if chunk == 1 and index == 3 and not killed:  # mid-chunk: 4 of its 10 frames stored
            killed.append(record["worker"]["pid"])
            os.kill(record["worker"]["pid"], signal.SIGKILL)

    out = tmp_path / "out"
    report = stylize_video(clip24, MEDIA / "starry_night.jpg", out, cfg(weights_path, iterations=2, first_iterations=4),
                           runner=RayRunner(RayOptions(chunk_frames=8, overlap=2), on_frame=kill_once))
    assert killed
    chunks = report["distributed"]["chunks"]
    assert [c["attempts"] for c in chunks] == [1, 2, 1]
    assert [c["frames_computed"] for c in chunks] == [10, 12, 10]  # the retry resumed after the 4 stored frames
    assert report["totals"]["computed_this_run"] == 32 == len(streamed.frames)
    assert_output_is(out, streamed.expected(plan_chunks(24, 8, 2)))
    pids = {f["worker"]["pid"] for f in report["frames"][8:16]}
    assert killed[0] in pids and len(pids) == 2  # chunk 1's frames came from the dead worker and its successor


@pytest.mark.slow
@pytest.mark.usefixtures("local_ray")
def test_interrupt_keeps_finished_frames_and_a_rerun_skips_them(clip24: Path, weights_path: Path,
                                                                 tmp_path: Path) -> None:
    streamed = Streamed()

    def stop_after_ten(chunk: int, index: int, image: np.ndarray, record: dict) -> None:
        streamed(chunk, index, image, record)
        if len(streamed.frames) == 10:
            raise KeyboardInterrupt

    out, config = tmp_path / "out", cfg(weights_path, iterations=2, first_iterations=4)
    options = RayOptions(chunk_frames=8, overlap=2)
    with pytest.raises(VideoInterrupted, match="resume") as stopped:
        stylize_video(clip24, MEDIA / "starry_night.jpg", out, config, runner=RayRunner(options, on_frame=stop_after_ten))
    assert not out.exists() and (tmp_path / "out.work").is_dir()
    said = int(re.search(r"stopped after (\d+) finished frames", str(stopped.value))[1])
    report = stylize_video(clip24, MEDIA / "starry_night.jpg", out, config,
                           runner=RayRunner(options, on_frame=streamed))  # Streamed refuses a frame computed twice
    assert report["totals"]["computed_this_run"] == 32 - 10
    assert 0 <= report["totals"]["resumed"] <= 10  # output frames committed before the interrupt
    assert said == report["totals"]["resumed"]  # the stop line counts what the rerun resumes
    assert_output_is(out, streamed.expected(plan_chunks(24, 8, 2)))
    assert not (tmp_path / "out.work").exists()


def test_cli_ray_errors_are_one_line(clip24: Path, weights_path: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    base = [str(clip24), str(MEDIA / "starry_night.jpg"), str(tmp_path / "o.mp4"), "--weights", str(weights_path)]
    assert main(base + ["--chunk-frames", "8"]) == 2
    assert "need --ray" in capsys.readouterr().err
    assert main(base + ["--ray", "--chunk-frames", "8", "--overlap", "8"]) == 2
    assert "--overlap" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    assert main(base + ["--ray"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "vidstyle[ray]" in err
    assert not (tmp_path / "o.mp4").exists()
