"""Scale-free loss units: the same look with any checkpoint convention and at any size (shared weights)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from samples.checkpoints import scaled_checkpoint
from tests.helpers import MEDIA, WEIGHTS
from vidstyle import Config, build_stylizer
from vidstyle.io.images import read_image, resize_long_side
from vidstyle.metrics.look import LookMeter

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TV_MEAN, TV_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def torchvision_convention_checkpoint(tmp_path: Path, activation_scale: float) -> Path:
    """The shared caffe weights rewritten for torchvision's input convention (RGB, 0..1, mean/std), with all
    activations scaled by ``activation_scale`` as a differently trained checkpoint's would be."""
    state = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
    w, b = state["features.0.weight"], state["features.0.bias"]
    rgb_from_bgr = [2, 1, 0]
    w_rgb = w[:, rgb_from_bgr]  # caffe's input channel order is BGR
    std = torch.tensor(TV_STD).view(1, 3, 1, 1)
    shift = torch.tensor([255 * m - CAFFE_MEAN_BGR[2 - c] for c, m in enumerate(TV_MEAN)]).view(1, 3, 1, 1)
    out = {k: v * activation_scale if k.endswith("bias") else v for k, v in state.items()}
    out["features.0.weight"] = w_rgb * 255 * std * activation_scale
    out["features.0.bias"] = (b + (w_rgb * shift).sum((1, 2, 3))) * activation_scale
    out["input_convention"] = "torchvision"
    path = tmp_path / "vgg19-torchvision-convention.pth"
    torch.save(out, path)
    return path


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    return resize_long_side(read_image(MEDIA / "tubingen.jpg"), 48), read_image(MEDIA / "starry_night.jpg")


def cfg(weights: Path, **kw: object) -> Config:
    return Config(**{**dict(preset="fast", weights=str(weights), device="cpu", size=None, iterations=20, seed=0,
                            quiet=True), **kw})


@pytest.mark.slow
def test_a_checkpoint_with_10x_activations_gives_the_same_image(tmp_path, pair):
    """In the paper's units the 10x checkpoint changed the result by 22 of 255 grey levels on average."""
    content, style = pair
    ten = scaled_checkpoint(WEIGHTS, tmp_path, 10.0)
    images = {units: [build_stylizer(cfg(w, loss_units=units, iterations=40), style).stylize(content).image.astype(float)
                      for w in (WEIGHTS, ten)] for units in ("scaled", "paper")}
    assert np.abs(images["scaled"][0] - images["scaled"][1]).mean() <= 3.0
    assert np.abs(images["paper"][0] - images["paper"][1]).mean() > 3.0  # what the units are for


@pytest.mark.slow
def test_torchvision_convention_losses_are_in_the_caffe_range(tmp_path, pair):
    content, style = pair
    tv = torchvision_convention_checkpoint(tmp_path, activation_scale=1 / 57)
    image = build_stylizer(cfg(WEIGHTS, iterations=5), style).stylize(content).image
    for units, close in (("scaled", True), ("paper", False)):
        caffe_losses = build_stylizer(cfg(WEIGHTS, loss_units=units), style).evaluate(image, content)
        tv_losses = build_stylizer(cfg(tv, loss_units=units), style).evaluate(image, content)
        for term in ("content", "style"):
            ratio = tv_losses[term] / caffe_losses[term]
            assert (0.8 < ratio < 1.25) == close, (units, term, ratio)


@pytest.mark.slow
def test_the_default_look_is_the_same_at_64_and_128_px():
    """In the paper's units the content fidelity rose 1.8x from 64 to 128 px (and from 96 to 192 px the style
    strength fell 2.9x and the fidelity rose 1.9x over 100 passes)."""
    photo, style = read_image(MEDIA / "tubingen.jpg"), read_image(MEDIA / "starry_night.jpg")
    judge = LookMeter(style, weights=str(WEIGHTS), weights_format="caffe")
    looks = {}
    for size in (64, 128):
        content = resize_long_side(photo, size)
        image = build_stylizer(cfg(WEIGHTS, iterations=50), style).stylize(content).image
        looks[size] = judge.measure(image, content)
    strength = [looks[s].style_strength for s in (64, 128)]
    fidelity = [looks[s].content_fidelity for s in (64, 128)]
    # measured over 50 L-BFGS passes: 1.27x in strength and 1.04x in fidelity (14.2 / 11.2, 6.5 / 6.3; the same
    # with OpenCV 4.14 and 5.1, 1 or 2 threads; at 96 and 192 px over 100 passes 1.26x and 1.03x): 1.5 leaves room
    # for other CPUs' float rounding, and the paper's units still fail (fidelity 1.8x, 1.75 / 3.2; their
    # strength, 93 / 87, changes little between these two sizes)
    assert max(strength) / min(strength) <= 1.5 and max(fidelity) / min(fidelity) <= 1.5, (strength, fidelity)
    # strength is relative to the photo's own (1.0): 8 sits 29 % under the 11.2 measured at 64 px; the paper's
    # units' fidelity (1.75 at 64 px) fails the floor of 3 too
    assert min(strength) >= 8 and min(fidelity) >= 3, (strength, fidelity)
