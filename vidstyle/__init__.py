"""vidstyle: the neural algorithm of artistic style (Gatys, Ecker & Bethge) for images, videos and webcams."""
from .api import stylize_image
from .config import PRESETS, Config
from .errors import VidstyleError
from .optimize import Stylizer, StylizeResult
from .video import FrameUpdate, VideoInterrupted, stylize_video

__all__ = ["Config", "FrameUpdate", "PRESETS", "Stylizer", "StylizeResult", "VideoInterrupted", "VidstyleError",
           "stylize_image", "stylize_video"]
__version__ = "0.1.0"
