"""Colour preservation helpers (Gatys, Bethge, Hertzmann & Shechtman 2016, "Preserving colour in neural
artistic style transfer").

Two methods from that paper:

* **Colour histogram matching** -- before the transfer, the style image's colours are transformed by an affine
  map ``x' = A x + b`` so that their mean and covariance equal the content image's (``match_color_histogram``).
* **Luminance-only transfer** -- the transfer runs on luminance images only (replicated to three channels for
  VGG; ``luminance_image``), the style luminance optionally matched to the content luminance's mean and standard
  deviation (``match_luminance``); the result's luminance is then recombined with the content's chroma
  (``recombine_luminance``).

Colour space: **YCrCb** (ITU-R BT.601, full range, the JPEG/OpenCV variant), computed in floating point here
(not with ``cv2.cvtColor``'s uint8 rounding) so that the round trip is exact. The paper used YIQ; its Y is the
very same BT.601 luma ``0.299 R + 0.587 G + 0.114 B``, and Cr/Cb span the same chroma plane as I/Q (a linear
change of basis), so luminance-only transfer gives identical results in either space. YCrCb is used because it is
the space the project measures chroma in (tests, benchmarks), it has 0..255 ranges for every channel that are
easy to reason about in uint8 terms, and OpenCV speaks it, so results can be cross-checked.

All arrays are HxWx3 RGB; uint8 inputs are in 0..255, float inputs are taken to be in 0..255 too.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "rgb_to_ycrcb", "ycrcb_to_rgb", "luminance", "luminance_image", "match_luminance", "recombine_luminance",
    "color_stats", "match_color_histogram",
]

# BT.601 full-range (JPEG) RGB -> YCrCb; Cr and Cb are offset by 128 so every channel lies in 0..255.
_RGB2YCC = np.array([[0.299, 0.587, 0.114],
                     [0.5, -0.418688, -0.081312],
                     [-0.168736, -0.331264, 0.5]])
_YCC2RGB = np.linalg.inv(_RGB2YCC)
_CHROMA_OFFSET = np.array([0.0, 128.0, 128.0])


def _as_rgb(image: np.ndarray, name: str = "image") -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"{name} must be an HxWx3 RGB array, got shape {arr.shape}")
    return arr.astype(np.float64)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def rgb_to_ycrcb(rgb: np.ndarray) -> np.ndarray:
    """RGB (uint8 or float, 0..255) -> float32 YCrCb (BT.601 full range; Y, Cr, Cb each in 0..255)."""
    ycc = _as_rgb(rgb, "rgb") @ _RGB2YCC.T + _CHROMA_OFFSET
    return ycc.astype(np.float32)


def ycrcb_to_rgb(ycrcb: np.ndarray) -> np.ndarray:
    """Float YCrCb -> float32 RGB in 0..255 units, not clipped (exact inverse of ``rgb_to_ycrcb``)."""
    rgb = (_as_rgb(ycrcb, "ycrcb") - _CHROMA_OFFSET) @ _YCC2RGB.T
    return rgb.astype(np.float32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """The BT.601 luma Y of an RGB image as an HxW float32 array in 0..255."""
    return (_as_rgb(rgb, "rgb") @ _RGB2YCC[0]).astype(np.float32)


def match_luminance(source_lum: np.ndarray, target_lum: np.ndarray) -> np.ndarray:
    """Shift and scale ``source_lum`` so its mean and standard deviation equal ``target_lum``'s.

    ``L' = sigma_t / sigma_s * (L - mu_s) + mu_t`` -- the paper's luminance matching of the style to the content,
    which keeps the style's luminance *pattern* while using the content's brightness and contrast. Float32 result,
    not clipped. A flat source is only shifted.
    """
    src = np.asarray(source_lum, dtype=np.float64)
    tgt = np.asarray(target_lum, dtype=np.float64)
    mu_s, sd_s = src.mean(), src.std()
    mu_t, sd_t = tgt.mean(), tgt.std()
    scale = sd_t / sd_s if sd_s > 1e-6 else 1.0
    return (scale * (src - mu_s) + mu_t).astype(np.float32)


def luminance_image(rgb: np.ndarray, match_to: np.ndarray | None = None) -> np.ndarray:
    """A grey HxWx3 uint8 image holding ``rgb``'s luminance in all three channels (what VGG is fed).

    With ``match_to`` (another RGB image, e.g. the content), the luminance is first matched to that image's
    luminance mean and standard deviation (``match_luminance``).
    """
    lum = luminance(rgb)
    if match_to is not None:
        lum = match_luminance(lum, luminance(match_to))
    return np.repeat(_to_uint8(lum)[..., None], 3, axis=2)


def recombine_luminance(stylized_rgb: np.ndarray, content_rgb: np.ndarray) -> np.ndarray:
    """Uint8 RGB with ``stylized_rgb``'s luminance and ``content_rgb``'s chroma (Cr, Cb).

    The stylized image is normally a luminance-only result (grey or nearly so); only its Y is used. Both images
    must have the same height and width. Pixels whose combination falls outside the RGB cube are clipped, which
    is the only way the output's chroma can differ from the content's.
    """
    sty, con = _as_rgb(stylized_rgb, "stylized_rgb"), _as_rgb(content_rgb, "content_rgb")
    if sty.shape != con.shape:
        raise ValueError(f"stylized image {sty.shape[:2]} and content {con.shape[:2]} differ in size")
    ycc = rgb_to_ycrcb(con).astype(np.float64)
    ycc[..., 0] = sty @ _RGB2YCC[0]
    return _to_uint8(ycrcb_to_rgb(ycc))


def color_stats(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (3,) and covariance (3, 3) of an image's RGB pixel values, float64, 0..255 units."""
    pixels = _as_rgb(rgb, "rgb").reshape(-1, 3)
    mean = pixels.mean(axis=0)
    centred = pixels - mean
    return mean, centred.T @ centred / max(len(pixels), 1)


def _sqrt_psd(cov: np.ndarray, inverse: bool = False) -> np.ndarray:
    vals, vecs = np.linalg.eigh(cov)
    vals = np.clip(vals, 0, None)
    roots = np.sqrt(vals)
    if inverse:
        roots = np.where(roots > 1e-8, 1.0 / np.maximum(roots, 1e-8), 0.0)
    return (vecs * roots) @ vecs.T


def match_color_histogram(source_rgb: np.ndarray, target_rgb: np.ndarray, *, method: str = "eigen",
                          eps: float = 1e-2) -> np.ndarray:
    """Transform ``source_rgb``'s colours so their mean and covariance match ``target_rgb``'s; uint8 RGB out.

    Affine map ``x' = A (x - mu_s) + mu_t`` with ``A Sigma_s A^T = Sigma_t`` (the paper's colour histogram
    matching; for style transfer the source is the style image and the target the content). ``method``:

    * ``"eigen"`` (default) -- the "image analogies" transform ``A = Sigma_t^(1/2) Sigma_s^(-1/2)`` using
      symmetric square roots from eigen-decompositions; of all valid ``A`` it rotates colours the least.
    * ``"cholesky"`` -- ``A = L_t L_s^-1`` with ``Sigma = L L^T`` the Cholesky factors.

    ``eps`` (in squared 0..255 units) is added to both covariances' diagonals so that grey or flat images do not
    blow the transform up. The result is rounded and clipped to 0..255, so statistics are matched up to that.
    """
    src, tgt = _as_rgb(source_rgb, "source_rgb"), _as_rgb(target_rgb, "target_rgb")
    mu_s, cov_s = color_stats(src)
    mu_t, cov_t = color_stats(tgt)
    reg = eps * np.eye(3)
    cov_s, cov_t = cov_s + reg, cov_t + reg
    if method == "eigen":
        a = _sqrt_psd(cov_t) @ _sqrt_psd(cov_s, inverse=True)
    elif method == "cholesky":
        a = np.linalg.cholesky(cov_t) @ np.linalg.inv(np.linalg.cholesky(cov_s))
    else:
        raise ValueError(f"unknown histogram matching method {method!r}; use 'eigen' or 'cholesky'")
    out = (src.reshape(-1, 3) - mu_s) @ a.T + mu_t
    return _to_uint8(out.reshape(src.shape))
