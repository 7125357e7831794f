"""Live webcam mode: capture thread, stylization worker, flow-warped display at camera rate."""
from .config import LiveConfig, live_engine_config
from .keys import ScriptedKeys
from .session import run_live

__all__ = ["LiveConfig", "ScriptedKeys", "live_engine_config", "run_live"]
