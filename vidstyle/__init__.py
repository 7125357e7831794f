"""vidstyle: the neural algorithm of artistic style (Gatys, Ecker & Bethge) for images, videos and webcams."""
from .api import run_live, stylize_frame, stylize_image, stylize_video
from .config import PRESETS, Config
from .engine import Stylizer, StylizeResult, build_stylizer
from .errors import VidstyleError
from .video import FrameUpdate, VideoInterrupted

__all__ = ["Config", "FrameUpdate", "PRESETS", "Stylizer", "StylizeResult", "VideoInterrupted", "VidstyleError",
           "build_stylizer", "run_live", "stylize_frame", "stylize_image", "stylize_video"]
__version__ = "0.1.0"
