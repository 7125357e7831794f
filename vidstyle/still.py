"""The still-image pipeline: one content image in, one stylized image (and optionally a report) out."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .config import Config, checked_config
from .compose import resolve_engine
from .settings import EngineSettings
from .engine import StylizeResult, make_stylizer
from .errors import VidstyleError
from .io.images import ImageLike, load_rgb, load_styles, read_image, resize_long_side, write_image
from .progress.bars import STDERR, iteration_progress
from .progress.notes import info_note
from .io.report_files import staged_report
from .scopes import check_applies
from .vocab import CONVERGED


def stylize_frame(content: ImageLike, style: ImageLike | Sequence[ImageLike], config: Config | None = None,
                  progress: Callable[[int, dict[str, float]], None] | None = None) -> StylizeResult:
    """Stylize one image (resized to ``config.size``) and return the result with its losses.

    ``content`` and each style: an image path or an H x W x 3 RGB uint8 array. ``style`` may be one image or
    several, blended by ``config.style_weights`` (default: equally); every other control of ``config``
    applies too, and a field that means nothing for one image returned as an array (``crf``, ``temporal``,
    ``report``, ...; vidstyle/scopes.py) is refused. ``progress`` is called after every pass with the pass
    number and the current losses.
    """
    config = Config() if config is None else checked_config(config)
    check_applies(config, "image", "array")
    return _stylize(load_rgb(content, "content"), load_styles(style), config, progress)


def _stylize(content: np.ndarray, styles: list[np.ndarray], config: Config,
             progress: Callable[[int, dict[str, float]], None] | None,
             engine: EngineSettings | None = None) -> StylizeResult:
    """One image, its arguments checked (by stylize_frame, or by the command line for stylize_still);
    ``engine``: its settings when already resolved."""
    if config.content_mask_is_folder():
        raise VidstyleError("--content-mask must be an image file for an image input (folders are for videos)")
    frame = resize_long_side(content, config.size)
    return make_stylizer(engine or resolve_engine(config), styles, reference=frame).stylize(frame, callback=progress)


def stylize_still(input_path: Path, styles: list[np.ndarray], output: Path, config: Config) -> dict[str, Any]:
    """Image in, image out, with a progress bar over the passes; the report (if any) is staged before OUTPUT
    is committed, so a report that cannot be written leaves no OUTPUT behind."""
    engine = resolve_engine(config)  # the device chosen (or refused) before the bar opens
    with iteration_progress(config.iterations, config.quiet) as callback:  # --quiet: no callback at all
        # not stylize_frame: the options were checked for this image-to-file run (it has --report, --overwrite)
        result = _stylize(read_image(input_path), styles, config, None if config.quiet else callback, engine)
        callback.finished(result.iterations, result.stopped)
    record = {"iterations": result.iterations, "stopped": result.stopped, "losses": result.losses,
              "seconds": result.seconds,
              **({"capture": result.capture} if result.capture is not None else {})}
    if result.capture is not None and result.capture != "captured":
        info_note(f"the optimiser's pass ran {result.capture}", config.quiet)
    report = {"input": str(input_path), "output": str(output), "kinds": {"input": "image", "output": "image"},
              "settings": dataclasses.asdict(config), "frames": [{"index": 0, **record}]}
    with staged_report(config.report, report, replace=config.overwrite):
        write_image(output, result.image, replace=config.overwrite)
    if not config.quiet:
        STDERR.print(f"wrote {output} ({result.image.shape[1]}x{result.image.shape[0]}, "
                     f"{result.iterations} iterations{', converged' if result.stopped == CONVERGED else ''}, "
                     f"{result.seconds:.1f} s)")
    return report
