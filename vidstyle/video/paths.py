"""What an image, video or frame-folder run reads and writes, registered and checked before any work
(the rules: vidstyle/io/path_registry.py, docs/safety.md), and the content identity of its file inputs for resuming."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VidstyleError
from ..io.atomic import named
from ..io.mask_files import mask_identity
from ..io.path_registry import Target, check_run_paths
from ..io.checkpoint_files import local_weights_path
from ..settings import RunFiles
from .workdir import file_digest


def work_path(output: Path, config: RunFiles) -> Path:
    """The run's work directory: --work-dir, else OUTPUT.work beside OUTPUT (beside the folder an OUTPUT '.'
    names, never inside it)."""
    if config.work_dir:
        return Path(config.work_dir)
    folder = named(output)
    if not folder.name:
        raise VidstyleError(f"OUTPUT {output} is the root folder; give a folder inside it")
    return folder.with_name(folder.name + ".work")


def file_inputs(input_path: Path, style: Any, config: RunFiles) -> list[tuple[str, Path]]:
    """(option, path) of every file the run reads: INPUT, STYLE, --init, masks, weights."""
    styles = style if isinstance(style, (list, tuple)) else [style]
    reads = [("INPUT", input_path)] + [("STYLE", Path(s)) for s in styles if not isinstance(s, np.ndarray)]
    if config.init is not None:
        reads.append(("--init", Path(config.init)))
    for option, value in (("--content-mask", config.content_mask), ("--style-mask", config.style_mask)):
        if value:
            reads.append((option, Path(value)))
    weights = local_weights_path(config.weights)
    if weights is not None:
        reads.append(("--weights", weights))
    return reads


def check_video_paths(input_path: Path, style: Any, output: Path, out_kind: str, config: RunFiles,
                      in_kind: str) -> Path | None:
    """Register every path of the run and refuse any overlap (VidstyleError); returns the work directory
    (None for a single image)."""
    work = work_path(output, config) if in_kind != "image" else None
    writes = [Target("OUTPUT", output, folder=out_kind == "frames")]
    if config.report:
        writes.append(Target("--report", Path(config.report)))
    if work is not None:
        writes.append(Target("--work-dir", work, folder=True))
    check_run_paths(file_inputs(input_path, style, config), writes)
    return work


def input_file_identity(config: RunFiles, init_mode: str) -> dict[str, Any]:
    """Content hashes of --init and the masks: a resumed run never mixes frames made from other files.
    ``init_mode``: --init as given (content | noise | a path)."""
    init = init_mode
    if config.init is not None and os.path.isfile(config.init):
        init = "sha256:" + file_digest(config.init)
    return {"init": init,
            "masks": mask_identity(config.style_mask, config.content_mask)}

