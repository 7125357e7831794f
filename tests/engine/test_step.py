"""The persistent, capturable Adam pass (vidstyle/engine/step.py), proven on the CPU by counts, not times.

Counts are taken through the public API (``stylize_image`` / ``stylize_video``, Adam, fast preset) with the
progress callback the command line passes; a steady-state pass = (run with 20 passes - run with 10) / 10. A
kernel op is an aten op whose output does not alias an input (tests/helpers/ops.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tests.helpers import MEDIA, WEIGHTS, smooth_image
from tests.helpers.ops import OpCounter

import vidstyle.engine.problems as problems_module
from vidstyle import Config, Stylizer, build_stylizer, stylize_image, stylize_video
from vidstyle.engine.build import load_encoder
from vidstyle.engine.step import persistent_pass
from vidstyle.engine.terms import temporal_term
from vidstyle.io.images import read_image, resize_long_side, write_image
from vidstyle.progress.bars import iteration_progress

SIZE = 32


def cfg(**kw: object) -> Config:
    base: dict[str, object] = dict(preset="fast", weights=str(WEIGHTS), device="cpu", size=SIZE, iterations=10,
                                   seed=0, quiet=True, optimizer="adam")
    return Config(**{**base, **kw})  # type: ignore[arg-type]


def moving_frames(folder: Path, n: int = 3) -> Path:
    big = smooth_image(SIZE, SIZE + n, seed=3)
    folder.mkdir()
    for i in range(n):
        write_image(folder / f"f{i + 1}.png", np.ascontiguousarray(big[:, i:i + SIZE]))
    return folder


def image_run(passes: int, optimizer: str = "adam") -> OpCounter:
    counter = OpCounter()
    with iteration_progress(passes, True) as callback, counter:  # the command line's callback
        stylize_image(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg(iterations=passes, optimizer=optimizer),
                      progress=callback)
    return counter


def video_run(passes: int, folder: Path, optimizer: str = "adam") -> OpCounter:
    counter = OpCounter()
    with counter:  # quiet=False: the frame bar's per-pass callback is passed, as on the command line
        stylize_video(moving_frames(folder / "in"), MEDIA / "starry_night.jpg", folder / "out",
                      cfg(iterations=passes, first_iterations=passes, quiet=False, temporal="flow",
                          optimizer=optimizer))
    return counter


def bare_kernels() -> int:
    """Kernel ops of the cut network's forward + backward alone (the loss layers summed)."""
    encoder = load_encoder(str(WEIGHTS), "auto", ("relu3_2", "relu1_1", "relu2_1", "relu3_1"), "avg",
                           torch.device("cpu"))
    x = torch.rand(1, 3, 24, SIZE, requires_grad=True)

    def once() -> None:
        sum(a.sum() for a in encoder.vgg(x).values()).backward()

    once()
    counter = OpCounter()
    with counter:
        once()
    return counter.totals()["kernels"]


def per_pass(ten: OpCounter, twenty: OpCounter, frames: int) -> dict[str, float]:
    a, b = ten.totals(), twenty.totals()
    return {k: (b[k] - a[k]) / (10 * frames) for k in a}


# kernels of a steady pass against the bare network's 40: Adam 72 (image) and 75 (flow video); L-BFGS 162 and
# 168: its compact-form direction over the 50-pair ring is a constant number of products and solves, whatever
# the history length
KERNELS = {"adam": 2.0, "lbfgs": 5.5}


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_steady_pass_has_no_host_sync_no_upload_and_bounded_kernels(tmp_path: Path, optimizer: str) -> None:
    bare = bare_kernels()
    image = per_pass(image_run(10, optimizer), image_run(20, optimizer), 1)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    video = per_pass(video_run(10, tmp_path / "a", optimizer), video_run(20, tmp_path / "b", optimizer), 3)
    for path, counts in (("image", image), ("flow video", video)):
        assert counts["syncs"] == 0, (path, counts)  # aten._local_scalar_dense
        assert counts["uploads"] == 0, (path, counts)  # aten.lift_fresh
        assert counts["kernels"] <= KERNELS[optimizer] * bare, (path, counts, bare)


def test_the_callback_runs_every_pass_with_losses_read_every_ten() -> None:
    seen: list[tuple[int, dict[str, float]]] = []
    stylize_image(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg(iterations=12),
                  progress=lambda i, losses: seen.append((i, dict(losses))))
    assert [i for i, _ in seen] == list(range(1, 13))
    totals = [losses["total"] for _, losses in seen]
    assert len(set(totals[:9])) == 1 and totals[9] == totals[11] < totals[0]  # read at passes 1 and 10


def _buffers(stylizer: Stylizer) -> dict[str, int]:
    (problem,) = stylizer.problems.all()
    named = {"x": problem.x, "grad": problem.grad, "best_x": problem.best_x, "best_value": problem.best_value,
             "scale": problem.scale, "weights": problem.weights}
    named.update({f"method.{k}": v for k, v in vars(problem.method).items() if isinstance(v, torch.Tensor)})
    for i, slot in enumerate(problem.slots):
        for name, value in vars(slot).items():
            tensors = value.values() if isinstance(value, dict) else [value]
            for j, t in enumerate(tensors):
                if isinstance(t, torch.Tensor):
                    named[f"slot{i}.{name}.{j}"] = t
    return {name: t.data_ptr() for name, t in named.items()}


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_buffers_stay_at_one_address_across_passes_and_frames(optimizer: str) -> None:
    frames = [np.ascontiguousarray(smooth_image(SIZE, SIZE + 3, seed=3)[:, i:i + SIZE]) for i in range(3)]
    stylizer = build_stylizer(cfg(iterations=4, optimizer=optimizer), read_image(MEDIA / "starry_night.jpg"),
                              video=True)
    seen: list[dict[str, int]] = []
    previous = None
    for frame in frames:
        terms = [] if previous is None else [temporal_term(previous, np.ones(frame.shape[:2], np.float32), 0.5,
                                                           "cpu")]
        previous = stylizer.stylize(frame, terms=terms, init=previous,
                                    callback=lambda i, losses: seen.append(_buffers(stylizer))).image
    assert len(seen) == 12 and len(seen[0]) > 12
    assert all(s == seen[0] for s in seen)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_one_pass_is_one_graph_reused_by_three_flow_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           optimizer: str) -> None:
    compiles = []

    def backend(graph: torch.fx.GraphModule, inputs: list) -> object:
        compiles.append(graph)
        return graph.forward

    torch._dynamo.reset()
    compiled = torch.compile(persistent_pass, fullgraph=True, backend=backend)  # a graph break would raise
    monkeypatch.setattr(problems_module, "persistent_pass", compiled)
    stylize_video(moving_frames(tmp_path / "in"), MEDIA / "starry_night.jpg", tmp_path / "out",
                  cfg(iterations=3, first_iterations=3, temporal="flow", optimizer=optimizer))
    torch._dynamo.reset()
    assert len(compiles) == 1
    nodes = [n for n in compiles[0].graph.nodes if n.op in ("call_function", "call_method")]
    names = " ".join(str(n.target) for n in nodes)
    # forward and terms, backward, projected gradient, best tracking, the update, projection into 0..1
    update = {"adam": ("lerp_", "sqrt"), "lbfgs": ("index_copy_", "index_select", "remainder")}[optimizer]
    for part in ("conv2d", "mse_loss", "_autograd_grad", "sign", "where", "maximum", *update, "clamp_"):
        assert part in names, part


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_batch_of_three_frames_is_three_separate_runs(optimizer: str) -> None:
    style = read_image(MEDIA / "starry_night.jpg")
    photo = resize_long_side(read_image(MEDIA / "tubingen.jpg"), SIZE)
    frames = [photo, np.ascontiguousarray(photo[::-1]), np.ascontiguousarray(photo[:, ::-1])]
    config = cfg(iterations=8, tv_weight=1.0, optimizer=optimizer)
    batch = build_stylizer(config, style, reference=photo).stylize_batch(frames)
    for frame, together in zip(frames, batch):
        alone = build_stylizer(config, style, reference=photo).stylize(frame)
        diff = np.abs(alone.image.astype(int) - together.image.astype(int))
        assert diff.max() <= 1 and diff.mean() < 0.02
        assert together.losses == pytest.approx(alone.losses, rel=1e-4)
    assert not np.array_equal(batch[0].image, batch[1].image)


@pytest.mark.parametrize("quiet", [True, False])
def test_quiet_passes_no_callback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiet: bool) -> None:
    from vidstyle.still import stylize_still

    callbacks = []
    real = Stylizer.stylize

    def spy(self: Stylizer, content: np.ndarray, **kw: object):  # noqa: ANN202
        callbacks.append(kw.get("callback"))
        return real(self, content, **kw)

    monkeypatch.setattr(Stylizer, "stylize", spy)
    style = read_image(MEDIA / "starry_night.jpg")
    stylize_still(MEDIA / "tubingen.jpg", [style], tmp_path / "out.png", cfg(iterations=1, quiet=quiet))
    stylize_video(moving_frames(tmp_path / "in", 2), MEDIA / "starry_night.jpg", tmp_path / "out",
                  cfg(iterations=1, first_iterations=1, quiet=quiet))
    # the image and two frames (a top-up of the second frame's budget, when its look lags the first's, is a
    # continuation of that frame's bar and passes none)
    assert len(callbacks) >= 3 and all((c is None) == quiet for c in callbacks[:3])


def test_no_capture_flag_reaches_the_engine() -> None:
    from vidstyle.cli.options import config_from_args
    from vidstyle.cli.stylize import build_parser

    for argv, expected in (([], True), (["--no-capture"], False)):
        args = build_parser().parse_args(["in.png", "style.png", "out.png", *argv])
        config = config_from_args(args)
        assert config.capture is expected
        assert build_stylizer(config.replace(weights=str(WEIGHTS), preset="fast", device="cpu"),
                              read_image(MEDIA / "starry_night.jpg")).parts.capture is expected
