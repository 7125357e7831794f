"""Colour preservation helpers: histogram matching, YCrCb conversions, luminance-only recombination."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from tests.helpers import MEDIA, smooth_image

from vidstyle.color import (
    color_stats,
    luminance,
    luminance_image,
    match_color_histogram,
    match_luminance,
    recombine_luminance,
    rgb_to_ycrcb,
    ycrcb_to_rgb,
)
from vidstyle.io.images import read_image, resize_long_side


@pytest.fixture(scope="module")
def photo(tubingen) -> np.ndarray:
    return resize_long_side(read_image(tubingen), 64)


@pytest.fixture(scope="module")
def painting(starry_night) -> np.ndarray:
    return resize_long_side(read_image(starry_night), 64)


def _cov_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize("method", ["eigen", "cholesky"])
@pytest.mark.parametrize("style", ["starry_night.jpg", "the_scream.jpg"])
def test_histogram_matching_matches_mean_and_covariance(photo, style, method):
    painting = resize_long_side(read_image(MEDIA / style), 64)
    mu_t, cov_t = color_stats(photo)
    mu_s, cov_s = color_stats(painting)
    # the two images really differ, so a pass below is not for free
    assert np.abs(mu_s - mu_t).max() > 15 and _cov_error(cov_s, cov_t) > 0.3

    out = match_color_histogram(painting, photo, method=method)
    assert out.dtype == np.uint8 and out.shape == painting.shape
    mu_o, cov_o = color_stats(out)
    assert np.abs(mu_o - mu_t).max() < 2.0  # levels of 255 (rounding and clipping only)
    assert _cov_error(cov_o, cov_t) < 0.05


def test_histogram_methods_differ_but_keep_structure(painting, photo):
    eig = match_color_histogram(painting, photo, method="eigen").astype(np.float64)
    chol = match_color_histogram(painting, photo, method="cholesky").astype(np.float64)
    assert np.abs(eig - chol).mean() > 1.0  # two different valid transforms
    # the source's luminance pattern survives (an affine colour map, no spatial change)
    src_l = luminance(painting).ravel()
    for out in (eig, chol):
        assert np.corrcoef(src_l, luminance(out).ravel())[0, 1] > 0.7


def test_histogram_matching_grey_and_flat_sources_are_safe(photo):
    grey = np.repeat(smooth_image(32, 32)[..., :1], 3, axis=2)
    out = match_color_histogram(grey, photo)
    assert np.isfinite(out).all() and np.abs(color_stats(out)[0] - color_stats(photo)[0]).max() < 3
    flat = np.full((16, 16, 3), 90, np.uint8)
    out = match_color_histogram(flat, photo)
    assert np.abs(out.astype(int) - np.rint(color_stats(photo)[0]).astype(int)).max() <= 1
    with pytest.raises(ValueError):
        match_color_histogram(photo, photo, method="nope")


def test_ycrcb_round_trip_is_exact_and_agrees_with_opencv():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    ycc = rgb_to_ycrcb(rgb)
    assert ycc.dtype == np.float32 and ycc.min() >= -0.01 and ycc.max() <= 255.01
    np.testing.assert_allclose(ycrcb_to_rgb(ycc), rgb, atol=1e-3)
    # same convention as OpenCV's (uint8, rounded) YCrCb
    assert np.abs(ycc - cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)).max() <= 1.0
    np.testing.assert_allclose(luminance(rgb), ycc[..., 0], atol=1e-3)


def test_luminance_image_is_grey_and_matches_content_statistics(painting, photo):
    grey = luminance_image(painting)
    assert grey.dtype == np.uint8 and grey.shape == painting.shape
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    matched = luminance_image(painting, match_to=photo)[..., 0].astype(np.float64)
    target = luminance(photo)
    assert abs(matched.mean() - target.mean()) < 1.0 and abs(matched.std() - target.std()) < 1.0
    assert abs(grey[..., 0].mean() - target.mean()) > 5  # it did move
    lum = match_luminance(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0]))
    np.testing.assert_allclose([lum.mean(), lum.std()], [20.0, 10.0], atol=1e-5)


def test_recombination_keeps_content_chroma_and_stylized_luminance(painting, photo):
    h, w = min(painting.shape[0], photo.shape[0]), min(painting.shape[1], photo.shape[1])
    content, stylized = photo[:h, :w], luminance_image(painting[:h, :w], match_to=photo[:h, :w])
    out = recombine_luminance(stylized, content)
    out_ycc, con_ycc = rgb_to_ycrcb(out), rgb_to_ycrcb(content)
    chroma_diff = np.abs(out_ycc[..., 1:] - con_ycc[..., 1:]).mean()
    assert chroma_diff < 1.5  # rounding, plus clipping of the few out-of-gamut pixels
    assert np.abs(out_ycc[..., 0] - luminance(stylized)).mean() < 1.5
    # without recombination the grey stylized image has lost the content's chroma entirely
    assert np.abs(rgb_to_ycrcb(stylized)[..., 1:] - con_ycc[..., 1:]).mean() > 4 * chroma_diff
    with pytest.raises(ValueError):
        recombine_luminance(stylized[:-1], content)
