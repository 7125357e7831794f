"""The one rule for options that do not apply to a run: every option listed in OPTION_SCOPES, given where its
scope does not hold (the input or output kind, the --temporal mode, another setting it needs), is refused
with one line naming it, never silently ignored. The CLI passes the options the user typed; the Python API,
the fields that differ from their default. Besides the file kinds a run may write, the output kind 'array' is
a Python call that returns its images and writes no file (stylize_image, stylize_frame, build_stylizer)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .errors import VidstyleError

if TYPE_CHECKING:
    from .config import Config


@dataclass(frozen=True)
class Scope:
    """Where an option means something: the INPUT and OUTPUT kinds ('image', 'video', 'frames'; outputs also
    'array', images returned by a Python call), the --temporal modes it needs (None: any) and another setting
    it needs (``requires``: a Config field and the values that give the option a meaning; None: any)."""

    what: str  # for the message: "videos and frame folders", ...
    inputs: tuple[str, ...] = ("video", "frames")
    outputs: tuple[str, ...] = ("video", "frames", "image", "array")
    temporal: tuple[str, ...] | None = None
    requires: tuple[str, Callable[[object], bool]] | None = None


_MANY = "videos and frame folders"
_ANY = ("image", "video", "frames")
_FILES = ("video", "frames", "image")  # every output kind but 'array': the run writes a file
# Options not listed apply everywhere. The temporal options apply to a Python call that returns a video's frames
# (build_stylizer(..., video=True), whose Config its caller also gives the frame loop); the options about the
# files a run writes do not.
OPTION_SCOPES: dict[str, Scope] = {
    **{name: Scope(_MANY) for name in ("temporal", "first_iterations", "start", "end", "max_frames")},
    **{name: Scope(f"{_MANY} written to files", outputs=_FILES) for name in ("work_dir", "keep_frames")},
    "temporal_weight": Scope(f"--temporal flow on {_MANY}", temporal=("flow",)),
    "flow_quality": Scope(f"--temporal flow on {_MANY}", temporal=("flow",)),
    "fps": Scope("a frame-folder INPUT (a video keeps its own rate)", inputs=("frames",)),
    "crf": Scope("a video OUTPUT", outputs=("video",)),
    "audio": Scope("a video INPUT written to a video OUTPUT", inputs=("video",), outputs=("video",)),
    **{name: Scope("a run that writes files (the command line, stylize_video)", inputs=_ANY,
                   outputs=_FILES) for name in ("report", "overwrite")},
    "lr": Scope("--optimizer adam (L-BFGS scales its steps from its curvature pairs)", inputs=_ANY,
                requires=("optimizer", lambda value: value == "adam")),
    "stop_tolerance": Scope("the stopping rule, which --fixed-budget turns off", inputs=_ANY,
                            requires=("fixed_budget", lambda value: not value)),
    "orphan_labels": Scope("semantic masks (--content-mask and --style-mask)", inputs=_ANY,
                           requires=("content_mask", lambda value: value is not None)),
}
_OPTION_NAMES = {"audio": "--no-audio"}
_KIND_NAMES = {"image": "an image", "video": "a video", "frames": "a frame folder"}


def _run_words(in_kind: str, out_kind: str) -> str:
    """What the run does, for the message: 'this run reads a video and writes an image', or for a Python call
    that returns its images, 'this call takes an image and returns it as an array (no file)'."""
    if out_kind == "array":
        taken = "an image and returns it as an array" if in_kind == "image" else "a video's frames and returns arrays"
        return f"this call takes {taken} (no file)"
    return f"this run reads {_KIND_NAMES[in_kind]} and writes {_KIND_NAMES[out_kind]}"


def option_name(field_name: str) -> str:
    """The command-line spelling of a Config field ('work_dir' -> '--work-dir', 'audio' -> '--no-audio')."""
    return _OPTION_NAMES.get(field_name, "--" + field_name.replace("_", "-"))


def given_fields(config: "Config") -> set[str]:
    """Fields set to something other than their default (what a Python caller asked for)."""
    return {f.name for f in dataclasses.fields(config)
            if getattr(config, f.name) != (f.default if f.default is not dataclasses.MISSING else f.default_factory())}


def _scopes_of(given: set[str]) -> list[tuple[str, Scope]]:
    """The scoped options among ``given``, in OPTION_SCOPES order (the first one refused is named)."""
    return [(name, scope) for name, scope in OPTION_SCOPES.items() if name in given]


def check_applies(config: "Config", in_kind: str, out_kind: str, given: set[str] | None = None) -> None:
    """Refuse (VidstyleError naming it) an option given for a run it does not apply to.

    ``given``: the options the user set (the CLI knows); default: the fields that differ from their default.
    ``out_kind`` 'array': a Python call that returns the images (``in_kind`` 'image', or 'video' for a stylizer
    of a video's frames)."""
    given = given_fields(config) if given is None else given
    for name, scope in _scopes_of(given):
        if in_kind not in scope.inputs or out_kind not in scope.outputs:
            raise VidstyleError(f"{option_name(name)} applies only to {scope.what}; "
                                f"{_run_words(in_kind, out_kind)}")
        if scope.temporal is not None and config.temporal not in scope.temporal:
            raise VidstyleError(f"{option_name(name)} applies only to {scope.what}; this run has "
                                f"--temporal {config.temporal}")
    check_requirements(config, given)


def check_requirements(config: "Config", given: set[str]) -> None:
    """Refuse an option given without the other setting it needs (``Scope.requires``), whatever the run reads
    and writes (the live preview has no input or output kinds but the same engine options)."""
    for name, scope in _scopes_of(given):
        if scope.requires is not None and not scope.requires[1](getattr(config, scope.requires[0])):
            raise VidstyleError(f"{option_name(name)} applies only to {scope.what}")
