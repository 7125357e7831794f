"""Small runs through the public API whose outputs were saved before the engine's step was rebuilt around
persistent buffers (tests/engine/data/regression_adam.npz): the rebuilt engine must give the same images.

Regenerate (only when a change of the images is intended):
``PYTHONPATH=. python -m tests.engine.regression_cases --write``.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from tests.helpers import MEDIA, WEIGHTS, smooth_image
from vidstyle import Config, stylize_image, stylize_video
from vidstyle.io.frames import iter_frame_dir
from vidstyle.io.images import write_image

DATA = Path(__file__).parent / "data" / "regression_adam.npz"


def _cfg(**kw: object) -> Config:
    base: dict[str, object] = dict(preset="fast", weights=str(WEIGHTS), device="cpu", size=48, iterations=12,
                                   seed=0, quiet=True, optimizer="adam")
    return Config(**{**base, **kw})  # type: ignore[arg-type]


def image_adam() -> list[np.ndarray]:
    return [stylize_image(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", _cfg())]


def image_luminance_scales() -> list[np.ndarray]:
    cfg = _cfg(preserve_colors="luminance", scales=2, init="noise", tv_weight=1.0, size=64)
    return [stylize_image(MEDIA / "tubingen.jpg", MEDIA / "starry_night.jpg", cfg)]


def video_flow() -> list[np.ndarray]:
    big = smooth_image(32, 36, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i in range(4):
            write_image(src / f"f{i + 1}.png", np.ascontiguousarray(big[:, i:i + 32]))
        out = Path(tmp) / "out"
        stylize_video(src, MEDIA / "starry_night.jpg", out,
                      _cfg(size=32, iterations=6, first_iterations=8, temporal="flow"))
        return list(iter_frame_dir(out))


CASES: dict[str, Callable[[], list[np.ndarray]]] = {
    "image_adam": image_adam, "image_luminance_scales": image_luminance_scales, "video_flow": video_flow}


def run_all() -> dict[str, np.ndarray]:
    torch.set_num_threads(1)
    return {name: np.stack(case()) for name, case in CASES.items()}


if __name__ == "__main__":
    if "--write" in sys.argv:
        DATA.parent.mkdir(exist_ok=True)
        np.savez_compressed(DATA, **run_all())
        print(f"wrote {DATA}")
