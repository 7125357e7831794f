"""Small runs through the public API with Adam's persistent pass, and the same runs with a reference: torch's
own ``torch.optim.Adam`` over the eager terms (the reference maths), with the same projection into 0..1, the
same best-image tracking and the same start.

Both are computed in the same test on the same machine, so the comparison holds on any CPU, thread count and
OpenCV version: images saved on one machine did not (DIS flow, resizing and float sums round differently
elsewhere: 22 levels apart on a flow video on an AVX-512 machine).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

import vidstyle.engine.optimizers as optimizers
from tests.helpers import MEDIA, WEIGHTS, smooth_image
from vidstyle import Config, stylize_image, stylize_video
from vidstyle.io.frames import iter_frame_dir
from vidstyle.io.images import write_image


def reference_adam(x: torch.Tensor, objective: optimizers.Objective, lr: float) -> None:
    """torch.optim.Adam over the eager objective, pass for pass what ``step.adam_pass`` does: each pass
    measures the projected image (best kept), projects the gradient and takes one step; the image the last
    step made is measured too."""
    adam = torch.optim.Adam([x], lr=lr)
    while objective.done < objective.budget:
        objective()  # clamps x into 0..1, forward, backward, projected gradient, best image
        adam.step()
    objective.consider_current()
    objective.finish()


def _cfg(**kw: object) -> Config:
    base: dict[str, object] = dict(preset="fast", weights=str(WEIGHTS), device="cpu", size=48, iterations=12,
                                   seed=0, quiet=True)
    return Config(**{**base, **kw})  # type: ignore[arg-type]


def image_adam(optimizer: str) -> list[np.ndarray]:
    return [stylize_image(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", _cfg(optimizer=optimizer))]


def image_luminance_scales(optimizer: str) -> list[np.ndarray]:
    cfg = _cfg(preserve_colors="luminance", scales=2, init="noise", tv_weight=1.0, size=64, optimizer=optimizer)
    return [stylize_image(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg)]


def video_flow(optimizer: str) -> list[np.ndarray]:
    big = smooth_image(32, 36, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i in range(4):
            write_image(src / f"f{i + 1}.png", np.ascontiguousarray(big[:, i:i + 32]))
        out = Path(tmp) / "out"
        stylize_video(src, MEDIA / "starry_night.jpg", out,
                      _cfg(size=32, iterations=6, first_iterations=8, temporal="flow", optimizer=optimizer))
        return list(iter_frame_dir(out))


CASES: dict[str, Callable[[str], list[np.ndarray]]] = {
    "image_adam": image_adam, "image_luminance_scales": image_luminance_scales, "video_flow": video_flow}


def persistent_and_reference(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[np.ndarray, np.ndarray]:
    """The case's images from the persistent pass and from the reference (run as the eager optimiser in
    the place of L-BFGS, so the engine takes its eager path with Adam's default step)."""
    persistent = np.stack(CASES[name]("adam"))
    monkeypatch.setitem(optimizers.OPTIMISERS, "lbfgs", optimizers.Optimiser("lbfgs", reference_adam))
    reference = np.stack(CASES[name]("lbfgs"))
    return persistent, reference
