"""Matting Laplacian and photorealism regulariser (vidstyle.model.matting)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from tests.helpers import smooth_image

from vidstyle.errors import VidstyleError
from vidstyle.io.images import read_image, resize_long_side
from vidstyle.model.matting import (
    laplacian_quadratic,
    matting_laplacian,
)


def dense_reference(img: np.ndarray, eps: float = 1e-7) -> np.ndarray:
    """Levin et al.'s definition evaluated window by window (slow, dense; tiny images only)."""
    rgb = img.astype(np.float64) / 255.0
    h, w = rgb.shape[:2]
    flat = rgb.reshape(-1, 3)
    out = np.zeros((h * w, h * w))
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            idx = [(y + dy) * w + (x + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
            dev = flat[idx] - flat[idx].mean(0)
            inv = np.linalg.inv(dev.T @ dev / 9 + eps / 9 * np.eye(3))
            out[np.ix_(idx, idx)] += np.eye(9) - (1 + dev @ inv @ dev.T) / 9
    return out


def as_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img).permute(2, 0, 1)[None]


@pytest.mark.parametrize("hw", [(7, 9), (6, 4), (3, 3)])
def test_matches_window_by_window_definition(hw: tuple[int, int]) -> None:
    img = smooth_image(*hw, seed=3)
    lap = matting_laplacian(img, dtype=torch.float64)
    assert lap.layout == torch.sparse_csr
    np.testing.assert_allclose(lap.to_dense().numpy(), dense_reference(img), atol=1e-9)


def test_symmetric_zero_row_sums_and_constant_null_space() -> None:
    img = smooth_image(12, 10, seed=1)
    lap = matting_laplacian(img, dtype=torch.float64)
    dense = lap.to_dense()
    assert torch.allclose(dense, dense.T, atol=1e-12)
    assert dense.sum(1).abs().max() < 1e-10
    assert laplacian_quadratic(lap, torch.full((1, 3, 12, 10), 0.37, dtype=torch.float64)).abs() < 1e-10
    assert torch.linalg.eigvalsh(dense).min() > -1e-9  # positive semi-definite
    assert lap._nnz() <= 25 * 12 * 10  # a 5x5 neighbourhood per pixel, never N^2


def test_tensor_input_gives_same_matrix() -> None:
    img = smooth_image(8, 11)
    a = matting_laplacian(img).to_dense()
    b = matting_laplacian(as_tensor(img)).to_dense()
    assert torch.allclose(a, b, atol=1e-5)


def test_affine_colour_transform_is_free_shift_and_blur_are_not(tubingen) -> None:
    img = resize_long_side(read_image(tubingen), 64)
    rgb = img.astype(np.float32) / 255.0
    lap = matting_laplacian(img)
    mix = np.array([[0.6, 0.3, 0.1], [0.1, 0.5, 0.3], [0.0, 0.2, 0.9]], np.float32)
    affine = rgb @ mix.T + np.array([0.1, -0.05, 0.02], np.float32)
    shifted = np.roll(rgb, 2, axis=1)
    blurred = cv2.GaussianBlur(rgb, (0, 0), 1.5)
    cost = {name: laplacian_quadratic(lap, as_tensor(o)).item()
            for name, o in [("affine", affine), ("shifted", shifted), ("blurred", blurred)]}
    assert abs(cost["affine"]) < 1e-2
    assert cost["shifted"] > 1.0 and cost["blurred"] > 1.0
    assert cost["blurred"] > 1000 * abs(cost["affine"])


def test_gradient_matches_finite_differences() -> None:
    img = smooth_image(8, 8, seed=5)
    lap = matting_laplacian(img, dtype=torch.float64)
    def loss(x: torch.Tensor) -> torch.Tensor:  # the photorealism term of Luan et al. with lambda = 3
        return 3.0 * laplacian_quadratic(lap, x)

    x = torch.rand(1, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(loss, (x,), eps=1e-6, atol=1e-6)
    loss(x).backward()
    v = x.detach()[0].reshape(3, -1).t()
    expected = 2 * 3.0 * (lap.to_dense() @ v)  # 2 lambda M V_c
    assert torch.allclose(x.grad[0].reshape(3, -1).t(), expected, atol=1e-10)


def test_float32_path_agrees_with_float64() -> None:
    img = smooth_image(16, 16)
    x = torch.rand(1, 3, 16, 16)
    single = laplacian_quadratic(matting_laplacian(img), x)
    double = laplacian_quadratic(matting_laplacian(img, dtype=torch.float64), x.double())
    assert single.dtype == torch.float32 and single.item() > 0
    assert torch.isclose(single.double(), double, rtol=1e-4)


def test_size_checks() -> None:
    with pytest.raises(VidstyleError, match="too small"):
        matting_laplacian(np.zeros((2, 9, 3), np.uint8))
    lap = matting_laplacian(smooth_image(8, 8))
    with pytest.raises(ValueError, match="pixels"):
        laplacian_quadratic(lap, torch.rand(1, 3, 8, 9))
