"""The video pipeline: videos and frame directories in, videos, frame directories or an image out."""
from .pipeline import (
    VideoInterrupted,
    input_kind,
    output_kind,
    stylize_video,
)
from ..progress.frame_bar import FrameUpdate

__all__ = ["FrameUpdate", "VideoInterrupted", "input_kind", "output_kind", "stylize_video"]
