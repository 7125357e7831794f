"""Keys of live mode and the injectable key source (tests and scripts drive a session without a window).

The session asks every key source once per loop turn: ``poll(status)`` returns a key code (``ord('q')``) or
None. In window mode the window's own keyboard is one source; ``run_live(keys=...)`` adds another.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

ESC = 27
QUIT_KEYS = frozenset({ord("q"), ord("Q"), ESC})
PAUSE = ord(" ")
SNAPSHOT = ord("s")
NEXT_STYLE = ord("n")
PREV_STYLE = ord("p")
WEIGHT_UP = frozenset({ord("+"), ord("=")})  # = is + without shift on most layouts
WEIGHT_DOWN = frozenset({ord("-"), ord("_")})
ORIGINAL = ord("o")
OVERLAY = ord("h")
WEIGHT_STEP = 2.0  # + multiplies the style weight (beta) by this, - divides

HELP = ("keys: q/Esc quit, space pause, s snapshot, n/p next/previous style, +/- style weight, "
        "o original side by side, h overlay")


@dataclass(frozen=True)
class LiveStatus:
    """What a key source (or the overlay) can see of the running session."""

    frames_shown: int
    updates: int  # stylization updates finished
    updates_by_style: tuple[int, ...]  # per STYLE, in order
    style_index: int
    style_name: str
    weight_scale: float  # style weight relative to the configured one (+/- keys)
    paused: bool
    side_by_side: bool
    overlay: bool
    display_fps: float  # over the last ~2 s
    updates_per_second: float  # over the last ~5 s
    latency_ms: float  # of the newest update
    snapshots: tuple[str, ...]
    elapsed: float  # seconds since the first frame was shown


class KeySource(Protocol):
    """Anything with ``poll(status) -> key code | None``."""

    def poll(self, status: LiveStatus) -> int | None: ...


Step = tuple[Callable[[LiveStatus], bool] | int, str | int]


class ScriptedKeys:
    """Presses keys in order, each once its condition holds.

    A step is ``(when, key)``: ``when`` is a frame count (press once that many frames were shown) or a
    predicate on LiveStatus; ``key`` is a one-character string or a key code. ``pressed`` lists what was
    pressed, with the frame count at that moment.
    """

    def __init__(self, steps: Iterable[Step]) -> None:
        self._steps: list[Step] = list(steps)
        self.pressed: list[tuple[int, int]] = []

    def poll(self, status: LiveStatus) -> int | None:
        if not self._steps:
            return None
        when, key = self._steps[0]
        ready = status.frames_shown >= when if isinstance(when, int) else when(status)
        if not ready:
            return None
        self._steps.pop(0)
        code = ord(key) if isinstance(key, str) else key
        self.pressed.append((status.frames_shown, code))
        return code

    @property
    def done(self) -> bool:
        return not self._steps


def key_name(code: int) -> str:
    """Printable name of a key code, for messages."""
    return "Esc" if code == ESC else "space" if code == PAUSE else chr(code) if 32 < code < 127 else str(code)


def poll_all(sources: Sequence[KeySource], status: LiveStatus) -> list[int]:
    """Every key the sources have for this turn, in source order."""
    keys = []
    for source in sources:
        key = source.poll(status)
        if key is not None and key >= 0:
            keys.append(key)
    return keys
