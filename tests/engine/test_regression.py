"""The images of small Adam runs (image, luminance + coarse to fine, flow video) are those the engine gave
before its step was rebuilt around persistent buffers (tests/engine/regression_cases.py), within float
tolerance: a reordered float sum may move a rounded 8-bit value by one level, nothing more."""
import numpy as np
import pytest

from tests.engine.regression_cases import CASES, DATA


@pytest.mark.parametrize("name", sorted(CASES))
def test_images_unchanged_by_the_persistent_step(name: str) -> None:
    saved = np.load(DATA)[name].astype(np.int16)
    now = np.stack(CASES[name]()).astype(np.int16)
    assert now.shape == saved.shape
    diff = np.abs(now - saved)
    assert diff.max() <= 2, f"{name}: {int(diff.max())} levels apart"
    assert diff.mean() < 0.05, f"{name}: mean {diff.mean():.3f} levels apart"
