"""Matting Laplacian (Levin, Lischinski & Weiss 2008) and the photorealism regulariser of Luan et al. 2017.

For a content image I (RGB in 0..1) and every (2r+1)x(2r+1) window w_k lying fully inside the image,

    M_ij = sum_{k : i,j in w_k} ( delta_ij - (1 + (I_i - mu_k)^T (Sigma_k + eps/|w_k| I_3)^-1 (I_j - mu_k)) / |w_k| )

with mu_k / Sigma_k the window's mean colour and (biased) 3x3 colour covariance. M is symmetric, positive
semi-definite and its rows sum to zero. The photorealism term of Luan et al. is

    L_m(O) = lambda * sum_c V_c(O)^T M V_c(O),    dL_m/dV_c = 2 lambda M V_c(O),

which is ~0 when the output O is a (locally) affine colour transform of I and grows when edges move or blur.

The matrix is built without any dense N x N array: per-window statistics are computed with array slicing, and
each window's (|w_k| x |w_k|) block is accumulated into a band of (4r+1)^2 diagonals (every pixel pair that can
share a window is at most 2r apart in each direction), which is then read out as a CSR matrix.
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from ..errors import VidstyleError

DEFAULT_EPS = 1e-7


def _image_tensor(image: np.ndarray | torch.Tensor, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """HxWx3 image (uint8 0..255 or float 0..1, or a 3xHxW / 1x3xHxW tensor in 0..1) -> HxWx3 tensor in 0..1."""
    if isinstance(image, np.ndarray):
        arr = image.astype(np.float64) / 255.0 if image.dtype == np.uint8 else image.astype(np.float64)
        t = torch.from_numpy(np.ascontiguousarray(arr))
    else:
        t = image.detach()
        if t.dim() == 4:
            t = t[0]
        if t.dim() != 3 or t.shape[0] != 3:
            raise ValueError(f"expected a 3xHxW or 1x3xHxW tensor, got shape {tuple(image.shape)}")
        t = t.permute(1, 2, 0)
        if t.dtype == torch.uint8:
            t = t.double() / 255.0
    if t.dim() != 3 or t.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {tuple(t.shape)}")
    return t.to(device=device, dtype=dtype).contiguous()


def _work_dtype(device: torch.device) -> torch.dtype:
    """float64 for the 3x3 inverses where the device has it (near-singular covariances), else float32."""
    return torch.float32 if device.type == "mps" else torch.float64


def matting_laplacian(image: np.ndarray | torch.Tensor, *, eps: float = DEFAULT_EPS, radius: int = 1,
                      device: torch.device | str | None = None,
                      dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The N x N matting Laplacian of an RGB image (N = H*W, row-major pixel order) as a sparse CSR tensor.

    ``image``: HxWx3 uint8 (0..255) or float (0..1) array, or a 3xHxW / 1x3xHxW tensor in 0..1.
    ``device``: where to build and keep it (default: the tensor's device, or CPU for arrays).
    ``dtype``: dtype of the stored values (the statistics are computed in float64 where the device allows).
    """
    if radius < 1:
        raise ValueError("radius must be >= 1")
    if device is None:
        device = image.device if isinstance(image, torch.Tensor) else torch.device("cpu")
    device = torch.device(device)
    work = _work_dtype(device)
    img = _image_tensor(image, device, work)
    h, w = img.shape[:2]
    side = 2 * radius + 1
    if h < side or w < side:
        raise VidstyleError(f"image of {w}x{h} pixels is too small for the matting Laplacian (needs {side}x{side})")
    n_win = side * side
    hw, ww = h - 2 * radius, w - 2 * radius  # window centres: pixels at least `radius` from the border

    # Colour of pixel a of every window: (n_win, hw, ww, 3), a = (ay, ax) in row-major window order.
    offsets = [(ay, ax) for ay in range(-radius, radius + 1) for ax in range(-radius, radius + 1)]
    patches = torch.stack([img[radius + ay:radius + ay + hw, radius + ax:radius + ax + ww] for ay, ax in offsets])
    mean = patches.mean(0)
    d = patches - mean  # deviations from the window mean
    cov = torch.einsum("ahwi,ahwj->hwij", d, d) / n_win
    cov = cov + (eps / n_win) * torch.eye(3, dtype=work, device=device)
    inv = torch.linalg.inv(cov)
    ad = torch.einsum("hwij,ahwj->ahwi", inv, d)  # (Sigma + eps/|w| I)^-1 (I_a - mu)

    # band[o, y, x]: entry between pixel (y, x) and pixel (y + oy, x + ox), o indexing (oy, ox) in [-2r, 2r]^2.
    span = 4 * radius + 1
    band = torch.zeros(span * span, h, w, dtype=work, device=device)
    for a, (ay, ax) in enumerate(offsets):
        block = torch.einsum("hwi,bhwi->bhw", ad[a], d)  # (I_a - mu)^T A (I_b - mu) for every b
        block = -(1.0 + block) / n_win
        block[a] += 1.0  # delta_ab
        rows = slice(radius + ay, radius + ay + hw)
        cols = slice(radius + ax, radius + ax + ww)
        for b, (by, bx) in enumerate(offsets):
            o = (by - ay + 2 * radius) * span + (bx - ax + 2 * radius)
            band[o, rows, cols] += block[b]
    return _band_to_csr(band.permute(1, 2, 0), h, w, radius, dtype)


def _band_to_csr(band: torch.Tensor, h: int, w: int, radius: int, dtype: torch.dtype) -> torch.Tensor:
    """Turn the (H, W, (4r+1)^2) band of a pixel-neighbourhood matrix into an N x N CSR tensor."""
    device = band.device
    reach = 2 * radius
    oy, ox = torch.meshgrid(torch.arange(-reach, reach + 1, device=device),
                            torch.arange(-reach, reach + 1, device=device), indexing="ij")
    oy, ox = oy.reshape(-1), ox.reshape(-1)
    yy, xx = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    ty = yy[..., None] + oy  # (H, W, span^2) target row / column of every band entry
    tx = xx[..., None] + ox
    valid = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)  # every in-image pair shares at least one window
    cols = (ty * w + tx)[valid]
    values = band[valid].to(dtype)
    counts = valid.reshape(h * w, -1).sum(1)
    crow = torch.zeros(h * w + 1, dtype=torch.int64, device=device)
    crow[1:] = torch.cumsum(counts, 0)
    if w <= 2 * reach:  # narrow image: (oy, ox) order is not column order within a row
        rows = torch.repeat_interleave(torch.arange(h * w, device=device), counts)
        order = torch.argsort(rows * (h * w) + cols)
        cols, values = cols[order], values[order]
    n = h * w
    with warnings.catch_warnings():  # "sparse CSR support is in beta" is not actionable for users
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(crow, cols, values, size=(n, n), dtype=dtype, device=device,
                                       check_invariants=False)


class _QuadraticForm(torch.autograd.Function):
    """sum_c V_c^T M V_c for a symmetric sparse M and V (N x 3); gradient 2 M V (one sparse product in all)."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, laplacian: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        mv = torch.sparse.mm(laplacian, v)
        ctx.save_for_backward(mv)
        return (v * mv).sum()

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        (mv,) = ctx.saved_tensors
        return 2.0 * grad_out * mv, None


def laplacian_quadratic(laplacian: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sum_c V_c(x)^T M V_c(x) for x of shape 1x3xHxW (or 3xHxW) with H*W equal to M's size; differentiable."""
    img = x[0] if x.dim() == 4 else x
    c, h, w = img.shape
    if laplacian.shape[0] != h * w:
        raise ValueError(f"Laplacian is for {laplacian.shape[0]} pixels, image has {h * w}")
    v = img.reshape(c, h * w).t().to(laplacian.dtype)
    return _QuadraticForm.apply(v, laplacian).to(x.dtype)
