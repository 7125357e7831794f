"""Every path a user can reach, run through the engine's CUDA branch on the CPU (tests/helpers/capture.py):
each pass is captured once and replayed under the rules of a real CUDA-graph capture, or it is refused
capture with a reason the result carries (``StylizeResult.capture``: what --report records and the progress
line shows once). Nothing falls back silently. docs/persistent-step.md has the table of paths."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import vidstyle.engine.colour_modes as colour_modes
from tests.helpers import MEDIA, WEIGHTS, smooth_image
from tests.helpers.capture import CaptureViolation, StandInCuda, Stats, install
from vidstyle import Config, Stylizer, VidstyleError, build_stylizer, stylize_frame, stylize_video
from vidstyle.io.images import read_image, write_image

SIZE = 32


def cfg(**kw: object) -> Config:
    base: dict[str, object] = dict(preset="fast", weights=str(WEIGHTS), device="cpu", size=SIZE, iterations=8,
                                   seed=0, quiet=True, optimizer="adam")
    return Config(**{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture
def cuda(monkeypatch: pytest.MonkeyPatch) -> Stats:
    return install(monkeypatch)


def _old_grey(x: torch.Tensor) -> torch.Tensor:
    """The luma before it was written with scalar weights: a tensor made from Python data on every pass."""
    w = x.new_tensor((0.299, 0.587, 0.114)).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True).expand_as(x)


def test_the_check_fails_on_the_old_luminance_code(cuda: Stats, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a GPU, --optimizer adam --preserve-colors luminance died at its first capture (PyTorch refuses a
    copy from pageable host memory inside stream capture); the check finds it on the CPU."""
    monkeypatch.setattr(colour_modes, "grey_tensor", _old_grey)
    with pytest.raises(CaptureViolation, match="lift_fresh"):
        stylize_frame(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg(preserve_colors="luminance"))


def test_a_replay_that_reads_a_replaced_buffer_fails(cuda: Stats) -> None:
    accelerator = StandInCuda(torch.device("cpu"), cuda)
    state = {"table": torch.ones(4)}
    out = torch.zeros(4)
    replay = accelerator.capture(lambda: out.add_(state["table"]))
    assert out.sum() == 0  # a capture runs nothing: what the pass wrote is put back
    replay()
    assert out.sum() == 4
    state["table"] = torch.full((4,), 2.0)  # a new buffer: the real graph would still read the old one
    with pytest.raises(CaptureViolation, match="did not see"):
        replay()


@pytest.mark.parametrize("op", [lambda x: x.sum().item(), lambda x: x.new_tensor([1.0, 2.0]),
                                lambda x: x.nonzero(), lambda x: torch.rand_like(x)],
                         ids=["host read", "python data", "data-dependent shape", "random numbers"])
def test_each_forbidden_op_fails_inside_a_capture(cuda: Stats, op) -> None:  # noqa: ANN001
    accelerator = StandInCuda(torch.device("cpu"), cuda)
    x = torch.ones(3)
    with pytest.raises(CaptureViolation):
        accelerator.capture(lambda: op(x))


IMAGE_PATHS = {
    "colour none": {}, "colour luminance": {"preserve_colors": "luminance"},
    "colour histogram": {"preserve_colors": "histogram"}, "init noise": {"init": "noise"},
    "init file": {"init": str(MEDIA / "the_scream.jpg")}, "tv": {"tv_weight": 1.0},
    "paper units": {"loss_units": "paper"}, "scales 2": {"scales": 2, "size": 48}, "bf16": {"precision": "bf16"},
}


@pytest.mark.slow
@pytest.mark.parametrize("path", IMAGE_PATHS)
def test_image_paths_are_captured_and_replayed_under_the_rules(cuda: Stats, path: str) -> None:
    result = stylize_frame(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg(**IMAGE_PATHS[path]))
    assert result.capture == "captured", result.capture
    assert cuda.captures >= 1 and cuda.replays >= 1
    assert result.image.std() > 5


@pytest.mark.slow
def test_the_captured_pass_gives_the_eager_images(cuda: Stats, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in capture runs no kernel (what it wrote is put back), so the budget is spent exactly: the
    images are those of the eager pass."""
    captured = stylize_frame(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg(iterations=12)).image
    monkeypatch.undo()
    eager = stylize_frame(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg(iterations=12)).image
    assert np.abs(captured.astype(int) - eager).max() <= 1


def _frames_with_a_cut(folder: Path, frames: int = 5) -> Path:
    """A pan of three frames, then (from the fourth) a different picture: a cut."""
    folder.mkdir()
    pan = smooth_image(SIZE, SIZE + 3, seed=3)
    other = smooth_image(SIZE, SIZE, seed=11)[::-1].copy()
    for i in range(frames):
        frame = np.ascontiguousarray(pan[:, i:i + SIZE]) if i < 3 else other
        write_image(folder / f"f{i + 1}.png", frame)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("temporal", ["flow", "warm", "none"])
def test_video_paths_with_a_shot_cut_are_captured(cuda: Stats, tmp_path: Path, temporal: str) -> None:
    report = tmp_path / "run.json"
    stylize_video(_frames_with_a_cut(tmp_path / "in"), MEDIA / "starry_night.jpg", tmp_path / "out",
                  cfg(iterations=4, first_iterations=6, temporal=temporal, report=str(report)))
    import json

    frames = json.loads(report.read_text())["frames"]
    assert [f["capture"] for f in frames] == ["captured"] * 5
    assert cuda.captures >= 1 and cuda.replays >= 5


def test_a_batch_is_captured(cuda: Stats) -> None:
    style = read_image(MEDIA / "starry_night.jpg")
    frames = [smooth_image(24, SIZE, seed=s) for s in range(3)]
    results = build_stylizer(cfg(), style).stylize_batch(frames)
    assert {r.capture for r in results} == {"captured"}


@pytest.mark.slow
def test_masks_and_photo_are_refused_capture_by_name_and_lbfgs_is_captured(cuda: Stats, tmp_path: Path) -> None:
    """Region-wise style and the photorealism term are plain autograd functions of the frame: each runs
    eagerly and says why. L-BFGS is the persistent pass too (before, torch's L-BFGS ran eagerly, its line
    search reading the host)."""
    photo, painting = (read_image(MEDIA / name) for name in ("tubingen.jpg", "starry_night.jpg"))
    for name, image in (("content.png", photo), ("style.png", painting)):
        mask = np.zeros_like(image)
        mask[: image.shape[0] // 2] = (255, 0, 0)
        write_image(tmp_path / name, mask)
    masked = stylize_frame(photo, painting, cfg(content_mask=str(tmp_path / "content.png"),
                                                style_mask=str(tmp_path / "style.png")))
    assert masked.capture is not None and masked.capture.startswith("eager: region-wise style"), masked.capture
    photo = stylize_frame(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg(photo_weight=1.0))
    assert photo.capture is not None and photo.capture.startswith("eager: the photorealism term"), photo.capture
    lbfgs = stylize_frame(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg(optimizer="lbfgs"))
    assert lbfgs.capture == "captured", lbfgs.capture
    off = stylize_frame(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg(capture=False))
    assert off.capture == "eager: --no-capture"


def test_fp16_is_refused_in_one_line() -> None:
    with pytest.raises(VidstyleError, match="fp16 would flush the network's gradients to zero"):
        stylize_frame(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg(precision="fp16"))


def test_the_cli_says_once_why_a_pass_is_not_captured(cuda: Stats, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from vidstyle.cli.main import main

    report = tmp_path / "r.json"
    argv = [str(MEDIA / "tubingen.jpg"), str(MEDIA / "starry_night.jpg"), str(tmp_path / "o.png"), "--preset",
            "fast", "--weights", str(WEIGHTS), "--device", "cpu", "--size", str(SIZE), "--iterations", "3",
            "--photo-weight", "1", "--optimizer", "adam", "--report", str(report)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("the optimiser's pass ran eager: the photorealism term") == 1, err
    assert json.loads(report.read_text())["frames"][0]["capture"].startswith("eager: the photorealism term")


@pytest.mark.slow
def test_per_flow_frame_one_blocking_read_and_only_the_frames_own_uploads(cuda: Stats, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A flow video's frame on the captured path: one blocking read (the delivered image with its losses and
    the finite check), uploads only of the frame's own data (its pixels, the flow field, the mask, its
    levels), and a budget top-up adds none."""
    from tests.helpers.capture import counting
    from tests.helpers.ops import UPLOAD, OpCounter

    folder = _frames_with_a_cut(tmp_path / "in")
    resumed: list[int] = []
    real = Stylizer.resume

    def spy(self: Stylizer, passes: int, callback=None):  # noqa: ANN001, ANN202
        resumed.append(passes)
        return real(self, passes, callback)

    monkeypatch.setattr(Stylizer, "resume", spy)
    counter = OpCounter()
    with counting(cuda) as seen, counter:
        stylize_video(folder, MEDIA / "starry_night.jpg", tmp_path / "out",
                      cfg(iterations=4, first_iterations=6, temporal="flow"))
    assert resumed, "no budget top-up happened: the case checks nothing about them"
    # one read per frame, and one per top-up (its decision needs the frame's losses on the host)
    assert seen.reads == 5 + len(resumed), seen
    # uploads: the style once; each frame's pixels; from the second frame of a shot on, its 8-bit levels (and
    # the frame before's after a cut), the flow and the mask. All of them the frame's own data, at its size,
    # and nothing for a top-up
    shapes = cuda.shapes[-seen.uploads:]
    assert seen.uploads <= 1 + 5 * 5, seen
    assert sum(1 for s in shapes if s[:2] != (SIZE, SIZE)) == 1  # the style image, at its own size
    # every other tensor made from host data is built once per run (the network, the problem), not per frame
    setup = counter.count(UPLOAD) - seen.uploads
    counter = OpCounter()
    with counting(cuda) as three, counter:
        stylize_video(_frames_with_a_cut(tmp_path / "three", frames=3), MEDIA / "starry_night.jpg",
                      tmp_path / "out3", cfg(iterations=4, first_iterations=6, temporal="flow"))
    assert counter.count(UPLOAD) - three.uploads == setup
    # the same run without top-ups uploads as much: a top-up adds none
    monkeypatch.setattr(Stylizer, "resume", lambda self, passes, callback=None: pytest.fail("no top-up here"))
    from vidstyle.temporal import budget

    monkeypatch.setattr(budget.PassBudget, "more", lambda self, losses, spent: 0)
    with counting(cuda) as plain:
        stylize_video(folder, MEDIA / "starry_night.jpg", tmp_path / "out2",
                      cfg(iterations=4, first_iterations=6, temporal="flow"))
    assert plain.uploads == seen.uploads and plain.reads == 5


@pytest.mark.slow
def test_live_with_a_style_switch_the_weight_keys_and_pause_is_captured(cuda: Stats, tmp_path: Path) -> None:
    """Live mode's worker on the CUDA branch: the first frame's painting and each style's pass are captured
    once and replayed; the +/- keys change the weight in place (no new capture), pause and resume replay the
    same graph. A capture violation in the worker thread ends the session with that error."""
    from tests.helpers.clips import make_clip
    from vidstyle.live import run_live
    from vidstyle.live.config import LiveConfig, live_engine_config
    from vidstyle.live.keys import ScriptedKeys

    clip = make_clip(tmp_path / "camera.mp4", size="64x48", rate="30", frames=240)
    styles = [read_image(MEDIA / "starry_night.jpg"), read_image(MEDIA / "the_scream.jpg")]
    seen: dict[str, int] = {}
    polls = {"paused": 0}

    def after(key: str, style: int, more: int = 1):  # noqa: ANN202 - a ScriptedKeys condition
        def ready(st) -> bool:  # noqa: ANN001
            base = seen.setdefault(key, st.updates_by_style[style])
            return st.updates_by_style[style] >= base + more
        return ready

    def paused_a_while(st) -> bool:  # noqa: ANN001
        polls["paused"] += 1
        return polls["paused"] > 20

    def mark(st) -> bool:  # noqa: ANN001 - once style 1 has run again (its pass captured by then)
        ready = after("+", 0, 2)(st)
        if ready:
            seen["captures at +"] = cuda.captures
        return ready

    keys = ScriptedKeys([(after("n", 0), "n"), (after("p", 1, 2), "p"), (mark, "+"), (after("-", 0), "-"),
                         (after("pause", 0), " "), (paused_a_while, " "), (after("q", 0, 2), "q")])
    engine = live_engine_config(size=SIZE + 16, iterations=2, weights=str(WEIGHTS), quiet=True, device="cpu")
    summary = run_live(styles, LiveConfig(engine=engine, window=False, camera=str(clip)), keys=[keys])
    assert keys.done and summary.stop_reason == "q pressed", summary
    assert summary.updates_by_style["style1"] >= 3 and summary.updates_by_style["style2"] >= 2
    # one for the first frame's L-BFGS painting and one per style (each past its warm-up passes), none for
    # the weight keys or the pause
    assert cuda.captures == 3, cuda
    assert seen["captures at +"] == 3
    assert cuda.replays >= 2 * summary.updates


@pytest.mark.slow
def test_a_ray_task_is_captured(cuda: Stats, tmp_path: Path) -> None:
    """The distributed worker's chunk (distributed/tasks.run_chunk, what the Ray task runs) takes the same
    captured pass as a local run, with the shot cut inside the chunk."""
    from vidstyle.compose import resolve_run
    from vidstyle.distributed.chunks import Chunk
    from vidstyle.distributed.tasks import ChunkJob, run_chunk
    from vidstyle.video.pipeline import open_source

    folder = _frames_with_a_cut(tmp_path / "in")
    run = resolve_run(cfg(iterations=4, first_iterations=6, temporal="flow"), here=False)  # as the driver does
    source = open_source(folder, "frames", run.input)
    job = ChunkJob(input=str(folder), kind="frames", identity=source.identity,
                   styles=[read_image(MEDIA / "starry_night.jpg")], run=run, reference=None,
                   chunk=Chunk(index=0, begin=0, start=0, stop=5))
    records = [record for _, _, record in run_chunk(job)]
    assert [r["capture"] for r in records] == ["captured"] * 5
    assert cuda.captures >= 1 and cuda.replays >= 4 * 4
