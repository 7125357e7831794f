"""Colour-coded label masks for the semantic-mask tests."""
from __future__ import annotations

import numpy as np

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def two_region_mask(h: int = 40, w: int = 60, split: int = 25, left=RED, right=BLUE) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :split] = left
    img[:, split:] = right
    return img
