"""Read, resize and write still images as RGB uint8 arrays."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..config import check_path_option
from ..errors import VidstyleError
from ..progress.notes import data_note
from .atomic import atomic_path
from .environment import check_environment

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def is_image_path(path: str | os.PathLike) -> bool:
    """True when the path's extension is one of the supported still-image formats."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


@contextlib.contextmanager
def quiet_opencv(silent: bool = False) -> Iterator[None]:
    """Silence OpenCV's own warnings (``silent``: errors too) while opening/reading; vidstyle reports
    problems itself, as one line."""
    logging = cv2.utils.logging
    old = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT if silent else logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(old)


_ALPHA_NOTED: set[Path] = set()


def _has_alpha(data: np.ndarray) -> bool:
    """True for a PNG with an alpha channel (colour type 4 or 6) or a WebP whose VP8X header flags alpha."""
    head = data[:32].tobytes()
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) > 25:
        return head[25] in (4, 6)
    return head[:4] == b"RIFF" and head[8:16] == b"WEBPVP8X" and len(head) > 20 and bool(head[20] & 0x10)


_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk: length 0, type, CRC


def _truncated(data: np.ndarray) -> bool:
    """True for a PNG without its end chunk or a JPEG whose last scan has no end marker after it: decoders
    return a partly grey picture (JPEG) or print their own errors (PNG) for such a cut file."""
    raw = data.tobytes()
    if raw[:8] == b"\x89PNG\r\n\x1a\n":
        return _PNG_END not in raw
    if raw[:2] == b"\xff\xd8":  # in a scan 0xFF is always followed by 0x00 or a restart marker, never D9
        return raw.rfind(b"\xff\xd9") < raw.rfind(b"\xff\xda")
    return False


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as an HxWx3 RGB uint8 array; raise VidstyleError if missing or unreadable.

    Every still image vidstyle reads comes through here: OpenCV's own warnings are kept off the terminal
    and its errors (e.g. its pixel-count limit) become one-line VidstyleErrors. An alpha channel is
    dropped, which is said once per folder.
    """
    p = Path(path)
    check_environment()  # OpenCV aborts the process on a pixel limit it cannot parse
    if not p.is_file():
        raise VidstyleError(f"{p} is a folder, not an image" if p.is_dir() else f"image not found: {p}")
    try:
        data = np.fromfile(str(p), dtype=np.uint8)
    except OSError as exc:
        raise VidstyleError(f"cannot read image {p}: {exc.strerror or exc}") from None
    if _truncated(data):
        raise VidstyleError(f"cannot decode image {p}: the file is cut short (an incomplete copy or download?)")
    try:
        with quiet_opencv(silent=True):
            bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error as exc:
        if "CV_IO_MAX_IMAGE_PIXELS" in str(exc):
            limit = os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", "2^30")
            raise VidstyleError(f"cannot decode image {p}: more pixels than OpenCV's limit of {limit} "
                                "(set OPENCV_IO_MAX_IMAGE_PIXELS to raise it)") from None
        raise VidstyleError(f"cannot decode image {p} (corrupt or unsupported format)") from None
    if bgr is None:
        raise VidstyleError(f"cannot decode image {p} (corrupt or unsupported format)")
    if p.parent not in _ALPHA_NOTED and _has_alpha(data):
        _ALPHA_NOTED.add(p.parent)
        data_note(f"{p.name} has an alpha channel; transparency is ignored (the colour values under it are used)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def fitted_size(height: int, width: int, size: int, *, even: bool = False) -> tuple[int, int]:
    """(height, width) with the longer side scaled to ``size`` pixels, aspect kept.

    ``even``: both sides even, as 4:2:0 video needs (ffmpeg's ``scale=-2``): the long side is ``size`` rounded
    down to even, the short side the nearest even number to the aspect-kept one. A video's frames are then
    processed at the size they are written at, instead of being padded by a repeated row or column after the
    fact (which also put the output's picture off by up to a pixel from the input scaled to the video's size)."""
    if not even:
        scale = size / max(height, width)
        return max(1, round(height * scale)), max(1, round(width * scale))
    scale = max(2, size - size % 2) / max(height, width)
    return max(2, 2 * round(height * scale / 2)), max(2, 2 * round(width * scale / 2))


def resize_long_side(image: np.ndarray, size: int | None, *, even: bool = False) -> np.ndarray:
    """Scale so the longer side is ``size`` pixels (aspect kept; ``even``: see ``fitted_size``); None keeps
    the image as is."""
    if size is None:
        return image
    h, w = image.shape[:2]
    new_h, new_w = fitted_size(h, w, size, even=even)
    if (new_h, new_w) == (h, w):
        return image
    interp = cv2.INTER_AREA if new_h <= h and new_w <= w else cv2.INTER_CUBIC
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


ImageLike = str | os.PathLike | np.ndarray


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def value_kind(value: object) -> str:
    """What ``value`` is, for a message: 'None', 'a list', 'an int', 'bytes', 'an array of shape (2, 3)'."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"{_a(str(value.dtype))} array of shape {value.shape}"
    name = type(value).__name__
    return name if name == "bytes" else _a(name)


def check_frame(image: object, name: str) -> np.ndarray:
    """The one rule for an image given as an array, at every entry that takes one (the Python API's content,
    style, init and batch frames, read by the engine as they are): H x W x 3 RGB uint8 with both sides at least
    one pixel, else a VidstyleError naming the argument. Other forms are refused rather than converted: a float
    image may mean 0..1 or 0..255, a uint16 one 0..65535 or 0..4095, and guessing gave black or white frames;
    uint8 also rules out NaN and infinity. The message says how to convert the common ones."""
    if not isinstance(image, np.ndarray):
        raise VidstyleError(f"{name} must be an H x W x 3 RGB uint8 array, got {value_kind(image)}")
    if image.dtype != np.uint8:
        hint = (" (0..1 floats: (x * 255).round().astype(np.uint8))" if image.dtype.kind == "f" else
                " (scale it to 0..255 first)" if image.dtype.kind in "iu" else "")
        raise VidstyleError(f"{name} must be an H x W x 3 RGB uint8 array, got {_a(str(image.dtype))} array{hint}")
    if image.ndim != 3 or image.shape[2] != 3:
        hint = (" (a grey image: np.stack([x] * 3, axis=-1))" if image.ndim == 2 else
                " (RGBA: drop the alpha with x[..., :3])" if image.ndim == 3 and image.shape[2] == 4 else "")
        got = f"{image.shape[2]} channels" if image.ndim == 3 else f"shape {image.shape}"
        raise VidstyleError(f"{name} must be an H x W x 3 RGB uint8 array, got {got}{hint}")
    if 0 in image.shape[:2]:
        raise VidstyleError(f"{name} is an empty image ({image.shape[1]}x{image.shape[0]} pixels)")
    return image


def path_argument(value: object, name: str, what: str = "a file path") -> str:
    """A path given to the Python API as text (``str`` or ``os.PathLike``), checked before pathlib sees it (a
    pathlib TypeError names no argument); anything else is a VidstyleError naming ``name``."""
    path = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if not isinstance(path, str):  # bytes: Path() and OpenCV take text; os.fsdecode gives it
        hint = "; decode a bytes path with os.fsdecode" if isinstance(value, bytes) or path is not None else ""
        raise VidstyleError(f"{name} must be {what}, got {value_kind(value)}{hint}")
    check_path_option(name, path)  # '' would read as the current folder
    return path


def load_rgb(image: object, name: str = "image") -> np.ndarray:
    """An image given to the Python API as a path (read from disk) or an array (checked by ``check_frame``);
    anything else is a VidstyleError naming the argument (``name``)."""
    if isinstance(image, np.ndarray):
        return check_frame(image, name)
    return read_image(path_argument(image, name, "an image file path or an H x W x 3 RGB uint8 array"))


def style_items(style: object, name: str = "style") -> list[tuple[str, object]]:
    """One style image or a list (tuple) of them as (name for messages, item), each item's type checked
    (a path's text, an array's frame rule) without reading a file; the items of a list are ``style[i]``."""
    items = [(name, style)] if not isinstance(style, (list, tuple)) else \
        [(f"{name}[{i}]", item) for i, item in enumerate(style)]
    if not items:
        raise VidstyleError(f"{name} names no image; give one image or a list of several")
    for label, item in items:
        if isinstance(item, np.ndarray):
            check_frame(item, label)
        else:
            path_argument(item, label, "an image file path or an H x W x 3 RGB uint8 array")
    return items


def load_styles(style: object, name: str = "style") -> list[np.ndarray]:
    """One style image or a list (tuple) of them, each a path or an array, as ``load_rgb`` takes them; the
    items of a list are named ``style[i]``."""
    return [load_rgb(item, label) for label, item in style_items(style, name)]
