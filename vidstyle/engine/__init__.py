"""The frame optimiser: style targets, named loss terms, optimisers and coarse to fine, composed once from the
Config by ``build.assemble`` (see README "How it works")."""
from .optimizers import Objective
from .parts import EngineParts
from .pyramid import scale_plan
from .build import build_stylizer
from .stylizer import StylizeResult, Stylizer
from .targets import StyleTargets
from .terms import Term, compose, temporal_term

__all__ = ["EngineParts", "Objective", "StyleTargets", "StylizeResult", "Stylizer", "Term",
           "build_stylizer", "compose", "scale_plan", "temporal_term"]
