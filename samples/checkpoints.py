"""Checkpoints derived from a VGG-19 state dict, for checking that the loss units cancel activation scale."""
from __future__ import annotations

from pathlib import Path

import torch


def scaled_checkpoint(weights: Path, directory: Path, factor: float) -> Path:
    """``weights`` with every activation multiplied by ``factor`` (conv1_1's weights and every bias), saved in
    ``directory``; ReLU and average pooling are positively homogeneous, so each layer's output scales too."""
    state = torch.load(weights, map_location="cpu", weights_only=True)
    out = {k: (v * factor if k.endswith("bias") or k == "features.0.weight" else v) for k, v in state.items()}
    path = Path(directory) / f"vgg19-caffe-x{factor:g}.pth"
    torch.save(out, path)
    return path
