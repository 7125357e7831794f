"""The video pipeline: videos and frame directories in, videos / frame directories (or one image) out.

Frames stream from the decoder through one Stylizer (network and style Grams built once per run) into a
resumable work directory of lossless PNGs; once every frame is done, OUTPUT is encoded from there and
appears in one rename. ``--temporal warm`` starts frame t from stylized frame t-1; ``none`` from --init;
``flow`` from stylized frame t-1 warped along the optical flow, with a temporal loss (vidstyle/temporal).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from ..config import Config
from ..errors import VidstyleError
from ..io.atomic import check_distinct, check_output_path, clean_stale_temps
from ..io.encode import VideoWriter
from ..io.frames import (
    FrameDirWriter,
    check_frame_sizes,
    check_output_dir,
    iter_frame_dir,
    list_frames,
)
from ..io.images import IMAGE_EXTENSIONS, ImageLike, is_image_path, load_rgb
from ..io.masks import MaskSequence, mask_identity
from ..io.reports import staged_report
from ..io.video import (
    VIDEO_INPUT_EXTENSIONS,
    VIDEO_OUTPUT_EXTENSIONS,
    frame_range,
    is_video_path,
    iter_video_frames,
    probe_video,
)
from ..io.weights import resolve_weights_path, weights_digest
from ..progress import STDERR
from ..still import stylize_still
from .loop import ProgressCallback, build_engine, run_frames
from .source import Source
from .progress import build_report
from .workdir import WorkDir, file_digest

# Settings that do not change the stylized frames: a work directory stays valid when only these differ.
# The weights enter by content (weights_digest), not by the path string.
NOT_FINGERPRINTED = {"quiet", "overwrite", "report", "keep_frames", "work_dir", "crf", "audio", "device",
                     "end", "max_frames", "weights"}


class VideoInterrupted(KeyboardInterrupt):
    """Ctrl-C during a video run; ``str()`` says how to resume. Still a KeyboardInterrupt (exit 130)."""


def input_kind(path: str | os.PathLike) -> str:
    """'image', 'video' or 'frames' (a directory), from the path; VidstyleError if missing or unsupported."""
    p = Path(path)
    if p.is_dir():
        return "frames"
    if not p.exists():
        raise VidstyleError(f"input not found: {p}")
    if is_image_path(p):
        return "image"
    if is_video_path(p):
        return "video"
    raise VidstyleError(f"unsupported input {p.name!r}: give an image ({', '.join(IMAGE_EXTENSIONS)}), a video "
                        f"({', '.join(VIDEO_INPUT_EXTENSIONS)}) or a directory of frames")


def output_kind(path: str | os.PathLike) -> str:
    """'video' (.mp4 .mov .mkv .webm), 'image', or 'frames' (a directory: no extension or an existing folder)."""
    p = Path(path)
    if p.is_dir() or not p.suffix or str(path).endswith(("/", os.sep)):
        return "frames"
    if p.suffix.lower() in VIDEO_OUTPUT_EXTENSIONS:
        return "video"
    if is_image_path(p):
        return "image"
    raise VidstyleError(f"unsupported output {p.name!r}: give a video ({', '.join(VIDEO_OUTPUT_EXTENSIONS)}), "
                        f"an image ({', '.join(IMAGE_EXTENSIONS)}) or a directory for PNG frames")


def open_source(path: Path, kind: str, config: Config) -> Source:
    """Validate the input (VidstyleError for corrupt, empty, mixed sizes...) and describe its frames."""
    stat = path.stat()
    if kind == "video":
        info = probe_video(path)
        first, stop = frame_range(info.fps, config.start, config.end, config.max_frames)
        known = info.frame_count
        if known is not None and first >= known:
            raise VidstyleError(f"video {path} has {known} frames ({float(known / info.fps):.2f} s); "
                                f"--start {config.start:g} is past its end")
        total = None if known is None and stop is None else min(x for x in (known, stop) if x is not None) - first
        return Source("video", info.fps, first, total if total is None else max(total, 0),
                      lambda: iter_video_frames(path, start=config.start, end=config.end,
                                                max_frames=config.max_frames, size=config.size, fps=info.fps),
                      path if info.has_audio and config.audio else None,
                      {"path": str(path.resolve()), "bytes": stat.st_size, "mtime": stat.st_mtime_ns})
    files = list_frames(path)
    check_frame_sizes(files)
    fps = config.frame_rate()
    first, stop = frame_range(fps, config.start, config.end, config.max_frames)
    stop = len(files) if stop is None else min(stop, len(files))
    if first >= stop:
        raise VidstyleError(f"directory {path} has no frames in the requested range")
    names = hashlib.sha256("\n".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                                     for f in files).encode()).hexdigest()[:16]
    return Source("frames", fps, first, stop - first,
                  lambda: iter_frame_dir(path, start=first, max_frames=stop - first, size=config.size),
                  None, {"path": str(path.resolve()), "files": names})


def _styles(style: ImageLike | Sequence[ImageLike]) -> tuple[list[np.ndarray], list[str]]:
    items = list(style) if isinstance(style, (list, tuple)) else [style]
    images = [load_rgb(s) for s in items]
    ids = [file_digest(s) if not isinstance(s, np.ndarray) else hashlib.sha256(s.tobytes()).hexdigest()[:16]
           for s in items]
    return images, ids


def _check_paths(input_path: Path, style: Any, output: Path, in_kind: str, out_kind: str, overwrite: bool,
                 report: str | None) -> None:
    """Refuse nonsensical kind combinations and unwritable or clobbering outputs before any work."""
    if in_kind == "image" and out_kind != "image":
        raise VidstyleError("INPUT is a single image, so OUTPUT must be an image file too")
    if in_kind != "image" and out_kind == "image":
        raise VidstyleError(f"INPUT has many frames but OUTPUT {output.name!r} is an image; give a video file "
                            f"({', '.join(VIDEO_OUTPUT_EXTENSIONS)}) or a directory")
    styles = style if isinstance(style, (list, tuple)) else [style]
    others = [input_path] + [Path(s) for s in styles if not isinstance(s, np.ndarray)]
    check_distinct({"OUTPUT": output, "--report": report}, others)
    if out_kind == "frames":
        check_output_dir(output, overwrite)
    else:
        check_output_path(output, overwrite)
    if report:
        check_output_path(report, overwrite)
    for path in (output, report):  # temporary files left by killed runs on the same OUTPUT
        if path:
            clean_stale_temps(Path(path).parent, Path(path).name)


@dataclass
class RunOutcome:
    """What a frame runner reports once every frame is in the work directory."""

    frames: int  # frames in total
    computed: int  # frames computed by this run
    device: str
    report: dict[str, Any] = field(default_factory=dict)  # extra sections for the run report


class FrameRunner(Protocol):
    """Fills the work directory with every stylized frame: on this machine, or on a cluster."""

    def settings(self) -> dict[str, Any]:
        """Settings of the runner that change the frames (they join the work directory's fingerprint)."""

    def run(self, source: Source, styles: list[np.ndarray], work: WorkDir, config: Config,
            progress: ProgressCallback | None) -> RunOutcome:
        """Compute every unfinished frame into ``work``."""


def source_masks(source: Source, config: Config) -> MaskSequence | None:
    """Content masks of a photo-mode run (the count is checked up front for frame folders)."""
    known = source.first + source.total if source.kind == "frames" and source.total else 0  # exact for folders
    return MaskSequence(config.content_mask, known) if config.content_mask else None


class LocalRunner:
    """The frame loop in this process, one frame after another."""

    def settings(self) -> dict[str, Any]:
        return {}

    def run(self, source: Source, styles: list[np.ndarray], work: WorkDir, config: Config,
            progress: ProgressCallback | None) -> RunOutcome:
        masks = source_masks(source, config)
        # colour statistics from frame 0, also when resuming (one extra decode of the first frame)
        stylizer = build_engine(config, styles, reference=next(source.stream(), None))
        frames, computed = run_frames(source, stylizer, work, config, progress, masks)
        return RunOutcome(frames, computed, str(stylizer.device))


def stylize_video(input: str | os.PathLike, style: ImageLike | Sequence[ImageLike], output: str | os.PathLike,
                  config: Config | None = None, progress: ProgressCallback | None = None,
                  runner: FrameRunner | None = None) -> dict[str, Any]:
    """Stylize a video, a frame directory or an image into OUTPUT (video, PNG directory or image).

    Returns the run's report (also written to ``config.report`` when set). ``progress`` is called with a
    FrameUpdate after each computed frame. ``runner``: who computes the frames (default: this process; see
    vidstyle.distributed for a Ray cluster). Ctrl-C raises VideoInterrupted; the same call resumes.
    """
    config = config or Config()
    input_path, output = Path(input), Path(output)
    in_kind, out_kind = input_kind(input_path), output_kind(output)
    _check_paths(input_path, style, output, in_kind, out_kind, config.overwrite, config.report)
    styles, style_ids = _styles(style)
    if in_kind == "image":
        if runner is not None:
            raise VidstyleError("a distributed run needs a video or a frame folder, not a single image")
        _refuse_frame_options(config)
        return stylize_still(input_path, styles, output, config)
    source = open_source(input_path, in_kind, config)
    runner = runner or LocalRunner()
    settings = {"input": source.identity, "style": style_ids,
                "masks": mask_identity(config.style_mask, config.content_mask),
                "weights": weights_digest(resolve_weights_path(config.weights, quiet=True)),
                "config": {k: v for k, v in dataclasses.asdict(config).items() if k not in NOT_FINGERPRINTED},
                **runner.settings()}
    work_path = Path(config.work_dir) if config.work_dir else output.with_name(output.name + ".work")
    inside = out_kind == "frames" and output.resolve() in work_path.resolve().parents
    if inside or work_path.resolve() in (output.resolve(), input_path.resolve()):
        raise VidstyleError("--work-dir must differ from INPUT and OUTPUT and not lie inside OUTPUT")
    work = WorkDir(work_path, settings, overwrite=config.overwrite)
    started = time.perf_counter()
    try:
        outcome = runner.run(source, styles, work, config, progress)
        frames, computed = outcome.frames, outcome.computed
    except KeyboardInterrupt:
        done = work.kept_frames()
        work.clear() if done == 0 else work.release()
        if done == 0:
            raise VideoInterrupted("stopped before the first frame was finished") from None
        raise VideoInterrupted(f"stopped after {done} finished frames, kept in {work.path}; run the same command "
                               "again to resume from there") from None
    except BaseException:
        work.clear() if work.kept_frames() == 0 else work.release()
        raise
    report = build_report(config=config, device=outcome.device, input_path=str(input_path),
                          style=[str(s) if not isinstance(s, np.ndarray) else "<array>" for s in
                                 (style if isinstance(style, (list, tuple)) else [style])],
                          output=str(output), kinds={"input": in_kind, "output": out_kind},
                          video={"fps": str(source.fps), "width": None, "height": None, "first_frame": source.first,
                                 "audio": source.audio is not None and out_kind == "video"},
                          records=work.records, frames=frames, computed=computed,
                          wall_seconds=time.perf_counter() - started)
    report.update(outcome.report)
    h, w = work.load(frames - 1).shape[:2]
    if out_kind == "video":  # yuv420p: an odd side was padded by one pixel
        h, w = h + h % 2, w + w % 2
    report["video"].update(width=w, height=h)
    if config.keep_frames:
        report["work_dir"] = str(work.path)
    try:
        with staged_report(config.report, report, replace=config.overwrite):
            _write_output(source, work, frames, output, out_kind, config)
    except KeyboardInterrupt:
        work.release()
        raise VideoInterrupted(f"stopped while writing {output}; its {frames} frames are kept in {work.path}; "
                               "run the same command again to finish") from None
    except BaseException:
        work.release()
        raise
    if config.keep_frames:
        work.release()
    else:
        work.clear()
    if not config.quiet:
        STDERR.print(f"wrote {output} ({w}x{h}, {frames} frames at {float(source.fps):.3f} fps, "
                     f"{report['totals']['seconds_per_frame']:.2f} s/frame on {outcome.device})")
    return report


def _write_output(source: Source, work: WorkDir, frames: int, output: Path, kind: str, config: Config) -> None:
    """Encode OUTPUT from the finished PNG frames (it appears only when complete)."""
    if kind == "frames":
        with FrameDirWriter(output, replace=config.overwrite) as writer:
            for i in range(frames):
                writer.write(work.load(i))
        return
    with VideoWriter(output, source.fps, crf=config.crf, audio_source=source.audio,
                     audio_start=float(source.first / source.fps), replace=config.overwrite) as writer:
        for i in range(frames):
            writer.write(work.load(i))


def _refuse_frame_options(config: Config) -> None:
    """Options about frames mean nothing for a single image: say so instead of ignoring them."""
    given = [f"--{name.replace('_', '-')}" for name in ("start", "end", "max_frames", "fps", "work_dir")
             if getattr(config, name) is not None] + (["--keep-frames"] if config.keep_frames else [])
    if given:
        raise VidstyleError(f"{', '.join(given)} apply to videos and frame folders, not to a single image")
