"""Shared fixtures: paths to ../shared (weights, media) and small generated inputs."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers import MEDIA, WEIGHTS


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



def pytest_configure(config: pytest.Config) -> None:
    """The fast subset, ``python -m pytest -q -m "not slow"``, leaves out the tests marked slow (over ~1 s here)."""
    config.addinivalue_line("markers", "slow: takes more than ~1 s on a 2-core CPU; left out by -m 'not slow'")
