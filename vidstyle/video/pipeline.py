"""The video pipeline: videos and frame directories in, videos / frame directories (or one image) out.

Frames stream from the decoder through one Stylizer (network and style Grams built once per run) into a
resumable work directory of lossless PNGs; once every frame is done, OUTPUT is encoded from there and
appears in one rename. ``--temporal warm`` starts frame t from stylized frame t-1; ``none`` from --init;
``flow`` from stylized frame t-1 warped along the optical flow, with a temporal loss (vidstyle/temporal).
"""
from __future__ import annotations

import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from ..compose import fingerprint_settings, on_this_machine, resolve_files, resolve_run
from ..config import Config, checked_config
from ..errors import VidstyleError
from ..scopes import check_applies
from ..io.atomic import check_output_path, clean_stale_temps
from ..io.encode import VideoWriter
from ..io.frames import (
    FrameDirWriter,
    check_frame_sizes,
    check_output_dir,
    iter_frame_dir,
    list_frames,
)
from ..io.images import IMAGE_EXTENSIONS, ImageLike, is_image_path, load_styles, path_argument, style_items
from ..io.mask_files import MaskSequence
from ..io.report_files import staged_report
from ..io.video_files import (
    VIDEO_INPUT_EXTENSIONS,
    VIDEO_OUTPUT_EXTENSIONS,
    frame_range,
    is_video_path,
    iter_video_frames,
    probe_video,
)
from ..io.checkpoint_files import resolve_weights_path, weights_digest
from ..progress.bars import STDERR
from ..progress.notes import data_note, info_note
from ..still import stylize_still
from ..engine import make_stylizer
from ..settings import InputSettings, OutputSettings, RunSettings
from .loop import ProgressCallback, check_flow_frames, run_frames, watch_frames
from .source import Source
from ..progress.video_report import build_report
from .paths import check_video_paths, input_file_identity
from .workdir import WorkDir, file_digest

class VideoInterrupted(KeyboardInterrupt):
    """Ctrl-C during a video run; ``str()`` says how to resume. Still a KeyboardInterrupt (exit 130)."""


def input_kind(path: str | os.PathLike) -> str:
    """'image', 'video' or 'frames' (a directory), from the path; VidstyleError if missing or unsupported."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise VidstyleError(f"input not found: {p}") from None
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise VidstyleError(f"INPUT {p.name[:40]!r}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        return "frames"
    if is_image_path(p):
        return "image"
    if is_video_path(p):
        return "video"
    raise VidstyleError(f"unsupported input {p.name!r}: give an image ({', '.join(IMAGE_EXTENSIONS)}), a video "
                        f"({', '.join(VIDEO_INPUT_EXTENSIONS)}) or a directory of frames")


def output_kind(path: str | os.PathLike) -> str:
    """'video' (.mp4 .mov .mkv .webm), 'image', or 'frames' (a directory: no extension or an existing folder)."""
    p = Path(path)
    if os.path.isdir(p) or not p.suffix or str(path).endswith(("/", os.sep)):  # os.path: no OSError
        return "frames"
    if p.suffix.lower() in VIDEO_OUTPUT_EXTENSIONS:
        return "video"
    if is_image_path(p):
        return "image"
    raise VidstyleError(f"unsupported output {p.name!r}: give a video ({', '.join(VIDEO_OUTPUT_EXTENSIONS)}), "
                        f"an image ({', '.join(IMAGE_EXTENSIONS)}) or a directory for PNG frames")


def open_source(path: Path, kind: str, config: InputSettings) -> Source:
    """Validate the input (VidstyleError for corrupt, empty, mixed sizes...) and describe its frames.

    Frames resized to --size get even sides (io/images.fitted_size): they are stylized at the size the
    4:2:0 video is written at, whatever the output, so a video's and a frame folder's frames are the same."""
    stat = path.stat()
    if kind == "video":
        info = probe_video(path)
        if info.variable_rate is not None:  # said once, before the work
            seconds, declared = info.variable_rate
            info_note(f"{path.name} has a variable frame rate ({info.frame_count} frames over {seconds:.2f} s, "
                      f"declared {float(declared):.3g} fps); the output uses the average rate "
                      f"{float(info.fps):.4g} fps, keeping its duration and whole audio", config.quiet)
        fit = (info.width, info.height) if info.size_changes else None
        if fit is not None:
            seconds, w, h = info.size_changes[0]
            more = f" and {len(info.size_changes) - 1} more time(s)" if len(info.size_changes) > 1 else ""
            data_note(f"{path.name} changes its picture size at {seconds:.2f} s ({info.width}x{info.height} to "
                      f"{w}x{h}){more}; every frame is fitted into {info.width}x{info.height} with its aspect kept "
                      "and black bars, not stretched")
        first, stop = frame_range(info.fps, config.start, config.end, config.max_frames)
        known = info.frame_count
        if known is not None and first >= known:
            raise VidstyleError(f"video {path} has {known} frames ({float(known / info.fps):.2f} s); "
                                f"--start {config.start:g} is past its end")
        total = None if known is None and stop is None else min(x for x in (known, stop) if x is not None) - first
        return Source("video", info.fps, first, total if total is None else max(total, 0),
                      lambda: iter_video_frames(path, start=config.start, end=config.end,
                                                max_frames=config.max_frames, size=config.size, fps=info.fps,
                                                even=True, fit=fit),
                      path if info.has_audio and config.audio else None,
                      {"path": str(path.resolve()), "bytes": stat.st_size, "mtime": stat.st_mtime_ns},
                      exact=stop is not None and known is not None and stop < known, audio_tracks=info.audio_tracks)
    files = list_frames(path)
    check_frame_sizes(files)
    fps = config.fps
    first, stop = frame_range(fps, config.start, config.end, config.max_frames)
    stop = len(files) if stop is None else min(stop, len(files))
    if first >= stop:
        raise VidstyleError(f"directory {path} has no frames in the requested range")
    names = hashlib.sha256("\n".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                                     for f in files).encode()).hexdigest()[:16]
    return Source("frames", fps, first, stop - first,
                  lambda: iter_frame_dir(path, start=first, max_frames=stop - first, size=config.size, even=True),
                  None, {"path": str(path.resolve()), "files": names})


def _styles(style: ImageLike | Sequence[ImageLike]) -> tuple[list[np.ndarray], list[str]]:
    """The style images (checked and named as stylize_image names them) and an identity of each for the
    work directory's fingerprint."""
    images = load_styles(style)
    items = list(style) if isinstance(style, (list, tuple)) else [style]
    ids = [file_digest(s) if not isinstance(s, np.ndarray) else hashlib.sha256(s.tobytes()).hexdigest()[:16]
           for s in items]
    return images, ids


def _check_paths(input_path: Path, style: Any, output: Path, in_kind: str, out_kind: str,
                 config: Config) -> Path | None:
    """Refuse nonsensical kind combinations, overlapping paths (the path registry, video/paths.py) and
    unwritable or clobbering outputs before any work; returns the work directory (None for an image)."""
    overwrite, report = config.overwrite, config.report
    if in_kind == "image" and out_kind != "image":
        raise VidstyleError("INPUT is a single image, so OUTPUT must be an image file too")
    if in_kind != "image" and out_kind == "image":
        raise VidstyleError(f"INPUT is a {'video' if in_kind == 'video' else 'frame folder'} but OUTPUT "
                            f"{output.name!r} is an image; give a video file ({', '.join(VIDEO_OUTPUT_EXTENSIONS)}) "
                            "or a directory")
    work = check_video_paths(input_path, style, output, out_kind, resolve_files(config), in_kind)
    if out_kind == "frames":
        check_output_dir(output, overwrite)
    else:
        check_output_path(output, overwrite)
    if report:
        check_output_path(report, overwrite)
    for path in (output, report):  # temporary files left by killed runs on the same OUTPUT
        if path:
            clean_stale_temps(Path(path).parent, Path(path).name)
    return work


@dataclass
class RunOutcome:
    """What a frame runner reports once every frame is in the work directory."""

    frames: int  # frames in total
    computed: int  # frames computed by this run
    device: str
    report: dict[str, Any] = field(default_factory=dict)  # extra sections for the run report
    # output frames already finished before this run; None = frames - computed (true when every computed
    # frame is an output frame; a distributed run computes overlap frames twice)
    resumed: int | None = None


class FrameRunner(Protocol):
    """Fills the work directory with every stylized frame: on this machine, or on a cluster."""

    def settings(self) -> dict[str, Any]:
        """Settings of the runner that change the frames (they join the work directory's fingerprint)."""

    def run(self, source: Source, styles: list[np.ndarray], work: WorkDir, run: RunSettings,
            progress: ProgressCallback | None) -> RunOutcome:
        """Compute every unfinished frame into ``work``."""


def source_masks(source: Source, config: InputSettings) -> MaskSequence | None:
    """Content masks of a photo-mode run (the count is checked up front wherever the frames to be asked for
    are known exactly: frame folders, and videos cut short by --max-frames or --end)."""
    known = source.first + source.total if source.exact and source.total else 0
    return MaskSequence(config.content_mask, known) if config.content_mask else None


class LocalRunner:
    """The frame loop in this process, one frame after another."""

    def settings(self) -> dict[str, Any]:
        return {}

    def run(self, source: Source, styles: list[np.ndarray], work: WorkDir, run: RunSettings,
            progress: ProgressCallback | None) -> RunOutcome:
        masks = source_masks(source, run.input)
        # colour statistics from frame 0, also when resuming (one extra decode of the first frame)
        stylizer = make_stylizer(on_this_machine(run.engine), styles, reference=next(source.stream(), None))
        with watch_frames(source, work, run.quiet, progress) as events:
            frames, computed = run_frames(source, stylizer, work, run.temporal, events, masks)
        return RunOutcome(frames, computed, str(stylizer.device))


def stylize_video(input: str | os.PathLike, style: ImageLike | Sequence[ImageLike], output: str | os.PathLike,
                  config: Config | None = None, progress: ProgressCallback | None = None,
                  runner: FrameRunner | None = None) -> dict[str, Any]:
    """Stylize a video, a frame directory or an image into OUTPUT (video, PNG directory or image).

    Returns the run's report (also written to ``config.report`` when set). ``progress`` is called with a
    FrameUpdate after each computed frame. ``runner``: who computes the frames (default: this process; see
    vidstyle.distributed for a Ray cluster). Ctrl-C raises VideoInterrupted; the same call resumes.
    """
    config = Config() if config is None else checked_config(config)
    input_text = path_argument(input, "input", "a video, frame folder or image path")
    output_text = path_argument(output, "output", "a video, frame folder or image path")
    input_path, output = Path(input_text), Path(output_text)
    in_kind, out_kind = input_kind(input_path), output_kind(output_text)  # the text: a trailing slash is a folder
    check_applies(config, in_kind, out_kind)  # options that mean nothing for this run are refused, not ignored
    style_items(style)  # each style's type checked (and named) before the path registry takes them as paths
    work_path = _check_paths(input_path, style, output, in_kind, out_kind, config)
    styles, style_ids = _styles(style)
    if in_kind == "image":
        if runner is not None:
            raise VidstyleError("a distributed run needs a video or a frame folder, not a single image")
        return stylize_still(input_path, styles, output, config)
    run = resolve_run(config, here=runner is None)  # every setting below comes from here, resolved once
    source = open_source(input_path, in_kind, run.input)
    check_flow_frames(source, run.temporal)  # before any work, not after the first frame
    if out_kind == "video" and source.audio is not None and source.audio_tracks > 1:
        data_note(f"{input_path.name} has {source.audio_tracks} audio tracks; the output keeps the first only")
    runner = runner or LocalRunner()
    settings = {"input": source.identity, "style": style_ids,
                **input_file_identity(resolve_files(config), config.init),
                "weights": weights_digest(resolve_weights_path(config.weights, quiet=True)),
                "config": fingerprint_settings(run.record),
                **runner.settings()}
    assert work_path is not None
    work = WorkDir(work_path, settings, overwrite=run.output.overwrite)
    started = time.perf_counter()
    try:
        outcome = runner.run(source, styles, work, run, progress)
        frames, computed = outcome.frames, outcome.computed
    except KeyboardInterrupt:
        # finished: the output frames a rerun resumes; kept adds a distributed run's staged chunk frames
        done, kept = work.finished(), work.kept_frames()
        work.clear() if kept == 0 else work.release()
        if kept == 0:
            raise VideoInterrupted("stopped before the first frame was finished") from None
        raise VideoInterrupted(f"stopped after {done} finished frames, kept in {work.path}; run the same command "
                               "again to resume from there") from None
    except BaseException:
        work.clear() if work.kept_frames() == 0 else work.release()
        raise
    if source.kind == "video" and source.total and frames < 0.98 * source.total - 1:  # a loss: --quiet or not
        data_note(f"{input_path.name} declares {source.total} frames in this range but only {frames} could be "
                  "decoded; the file may be cut short")
    report = build_report(settings=run.record, device=outcome.device, input_path=str(input_path),
                          style=[str(s) if not isinstance(s, np.ndarray) else "<array>" for s in
                                 (style if isinstance(style, (list, tuple)) else [style])],
                          output=str(output), kinds={"input": in_kind, "output": out_kind},
                          video={"fps": str(source.fps), "width": None, "height": None, "first_frame": source.first,
                                 "audio": source.audio is not None and out_kind == "video"},
                          records=work.records, frames=frames, computed=computed, resumed=outcome.resumed,
                          wall_seconds=time.perf_counter() - started)
    report.update(outcome.report)
    h, w = work.load(frames - 1).shape[:2]
    if out_kind == "video":  # yuv420p: an odd side was padded by one pixel
        h, w = h + h % 2, w + w % 2
    report["video"].update(width=w, height=h)
    if run.output.keep_frames:
        report["work_dir"] = str(work.path)
    try:
        with staged_report(run.output.report, report, replace=run.output.overwrite):
            _write_output(source, work, frames, output, out_kind, run.output)
    except KeyboardInterrupt:
        work.release()
        raise VideoInterrupted(f"stopped while writing {output}; its {frames} frames are kept in {work.path}; "
                               "run the same command again to finish") from None
    except BaseException:
        work.release()
        raise
    if run.output.keep_frames:
        work.release()
    else:
        work.clear()
    if not run.quiet:
        STDERR.print(f"wrote {output} ({w}x{h}, {frames} frames at {float(source.fps):.3f} fps, "
                     f"{report['totals']['seconds_per_frame']:.2f} s/frame on {outcome.device})")
    return report


def _write_output(source: Source, work: WorkDir, frames: int, output: Path, kind: str,
                  config: OutputSettings) -> None:
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
