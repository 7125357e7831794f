"""vidstyle: the neural algorithm of artistic style (Gatys, Ecker & Bethge) for images, videos and webcams."""
from .api import stylize_image
from .config import PRESETS, Config
from .errors import VidstyleError
from .optimize import Stylizer, StylizeResult

__all__ = ["Config", "PRESETS", "Stylizer", "StylizeResult", "VidstyleError", "stylize_image"]
__version__ = "0.1.0"
