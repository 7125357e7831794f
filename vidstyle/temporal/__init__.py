"""Temporal coherence for video (Ruder, Dosovitskiy & Brox 2016): flow, warping, occlusion, shot changes
(the warping error that measures it is vidstyle.metrics.warping).
The temporal loss term itself is vidstyle.engine.temporal_term."""
from .flow import (
           FLOW_PRESETS,
           FlowEstimator,
           in_frame_mask,
           occlusion_mask,
           to_gray,
           warp,
)
from .shots import (
           PHOTOMETRIC_TOLERANCE,
           SHOT_THRESHOLD,
           Motion,
           analyze_motion,
           matched_fraction,
)

__all__ = ["FLOW_PRESETS", "FlowEstimator", "in_frame_mask", "occlusion_mask", "to_gray", "warp",
           "PHOTOMETRIC_TOLERANCE", "SHOT_THRESHOLD", "Motion", "analyze_motion",
           "matched_fraction"]
