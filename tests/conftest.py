"""Shared fixtures: paths to ../shared (weights, media) and small generated inputs."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIDSTYLE_SHARED", REPO.parent / "shared"))
WEIGHTS = SHARED / "weights" / "vgg19-caffe-conv1_1-conv3_4.pth"
MEDIA = SHARED / "media"


@pytest.fixture(scope="session")
def weights_path() -> Path:
    if not WEIGHTS.is_file():
        pytest.fail(f"shared weights missing at {WEIGHTS} (set VIDSTYLE_SHARED)")
    return WEIGHTS


@pytest.fixture(scope="session")
def tubingen() -> Path:
    return MEDIA / "tubingen.jpg"


@pytest.fixture(scope="session")
def starry_night() -> Path:
    return MEDIA / "starry_night.jpg"


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """The suite uses tiny frames, where one intra-op thread beats two (no spinning workers on 2 cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _no_weight_download(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch the network or the user's torch hub cache."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path_factory.getbasetemp() / "torch_home"))
    monkeypatch.delenv("VIDSTYLE_WEIGHTS", raising=False)


def smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth, textured RGB uint8 test image (no shared media needed)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([np.sin(xx / 7 + c) * np.cos(yy / 9 - c) for c in range(3)], -1)
    img += 0.2 * rng.standard_normal((h, w, 3)).astype(np.float32)
    return np.clip((img * 0.4 + 0.5) * 255, 0, 255).astype(np.uint8)
