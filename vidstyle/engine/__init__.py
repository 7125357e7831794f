"""The frame optimiser: style targets, named loss terms, optimisers and coarse to fine, built by
``build.make_stylizer`` from the settings vidstyle/compose.py resolves from a Config (docs/architecture.md)."""
from .parts import EngineParts
from .pyramid import scale_plan
from .build import load_settings_encoder, make_stylizer
from .stylizer import StylizeResult, Stylizer
from .targets import StyleTargets
from .terms import Term, compose, temporal_term

__all__ = ["EngineParts", "StyleTargets", "StylizeResult", "Stylizer", "Term",
           "compose", "load_settings_encoder", "make_stylizer", "scale_plan", "temporal_term"]
