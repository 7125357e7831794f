"""Temporal coherence for video (Ruder, Dosovitskiy & Brox 2016): flow, warping, occlusion, shot changes, metric.
The temporal loss term itself is vidstyle.engine.temporal_term."""
from .flow import (
           FLOW_PRESETS,
           FlowEstimator,
           in_frame_mask,
           occlusion_mask,
           to_gray,
           warp,
)
from .metrics import WarpingError, frame_warping_error, warping_error
from .shots import (
           PHOTOMETRIC_TOLERANCE,
           SHOT_THRESHOLD,
           Motion,
           analyze_motion,
           matched_fraction,
)

__all__ = ["FLOW_PRESETS", "FlowEstimator", "in_frame_mask", "occlusion_mask", "to_gray", "warp",
           "WarpingError", "frame_warping_error", "warping_error",
           "PHOTOMETRIC_TOLERANCE", "SHOT_THRESHOLD", "Motion", "analyze_motion",
           "matched_fraction"]
