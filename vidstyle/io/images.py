"""Read, resize and write still images as RGB uint8 arrays."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ..errors import VidstyleError
from .atomic import atomic_path

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def is_image_path(path: str | os.PathLike) -> bool:
    """True when the path's extension is one of the supported still-image formats."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as an HxWx3 RGB uint8 array; raise VidstyleError if missing or unreadable."""
    p = Path(path)
    if not p.is_file():
        raise VidstyleError(f"image not found: {p}")
    data = np.fromfile(str(p), dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise VidstyleError(f"cannot decode image {p} (corrupt or unsupported format)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def resize_long_side(image: np.ndarray, size: int | None) -> np.ndarray:
    """Scale so the longer side is ``size`` pixels (aspect kept); None keeps the image as is."""
    if size is None:
        return image
    h, w = image.shape[:2]
    scale = size / max(h, w)
    if scale == 1.0:
        return image
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, (new_w, new_h), interpolation=interp)


def encode_image(image: np.ndarray, ext: str) -> bytes:
    """Encode an RGB uint8 array to the bytes of an image file of type ``ext`` ('.png', '.jpg', ...)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext.lower() in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(ext, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise VidstyleError(f"cannot encode image as {ext}")
    return buf.tobytes()


def write_image(path: str | os.PathLike, image: np.ndarray, *, replace: bool = True) -> None:
    """Write an RGB uint8 array atomically (temporary file, then rename); ``replace=False`` keeps a file
    that appeared at ``path`` meanwhile (VidstyleError)."""
    p = Path(path)
    if not is_image_path(p):
        raise VidstyleError(f"unsupported image format {p.suffix!r}; use one of {', '.join(IMAGE_EXTENSIONS)}")
    data = encode_image(image, p.suffix)
    try:
        with atomic_path(p, replace=replace) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise VidstyleError(f"cannot write {p}: {exc.strerror or exc}") from None
