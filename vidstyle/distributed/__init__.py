"""Distributed video runs on a Ray cluster: the frame range in chunks, one Ray task each, seams cross-faded.

Ray is optional (``pip install vidstyle[ray]``); it is imported only when a distributed run starts.
``stylize_video(input, style, output, config, runner=RayRunner(RayOptions(...)))`` runs one.
"""
from ..metrics.seams import seam_figures
from .chunks import Chunk, plan_chunks
from .driver import RayRunner
from .ray_options import RayOptions, require_ray

__all__ = ["Chunk", "RayOptions", "RayRunner", "plan_chunks", "require_ray", "seam_figures"]
