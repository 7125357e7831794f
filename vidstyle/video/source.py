"""The frames a video run stylizes, as the frame loop, the pipeline and the Ray driver see them."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np


@dataclass
class Source:
    """Frames to stylize: a re-startable stream plus what the output needs to know."""

    kind: str
    fps: Fraction
    first: int  # index in the input of the first frame used (for the audio offset)
    total: int | None  # expected frames (a container's estimate for videos)
    stream: Callable[[], Iterator[np.ndarray]]
    audio: Path | None  # video to take the audio from
    identity: dict[str, Any]  # what identifies the input for the work-directory fingerprint
    # whether ``total`` is exact: always for frame folders; for a video when --max-frames or --end stops it
    # before the container's estimate of its end (an estimate can be off, a requested stop is not)
    exact: bool = True
    audio_tracks: int = 0  # audio streams of a video input (``audio`` muxes the first)
