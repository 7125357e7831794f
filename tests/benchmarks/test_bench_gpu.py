"""benchmarks/bench_gpu.py runs on the CPU with small sizes, so it is known to work before a GPU runs it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_gpu_runs_on_the_cpu_and_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    cmd = [sys.executable, str(REPO / "benchmarks" / "bench_gpu.py"), "--device", "cpu", "--threads", "1",
           "--presets", "fast", "--sizes", "32", "--passes", "2", "--video-size", "32", "--video-frames", "2",
           "--image-size", "32", "--image-passes", "2", "--live-size", "32", "--live-updates", "1",
           "--json", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(out.read_text())["rows"]
    assert {r["kind"] for r in rows} == {"pass", "video", "image", "live"}
    (pass_row,) = [r for r in rows if r["kind"] == "pass"]
    assert pass_row["pass_ms"] > 0 and pass_row["bare_ms"] > 0
    assert "ms/pass" in done.stdout and "updates/s" in done.stdout


@pytest.mark.slow
def test_no_capture_happens_inside_the_timed_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the CUDA branch on the CPU (stand-ins): the warm-up frame captures the pass, the timed frames only
    replay it. Before, a 40-pass warm-up sized the Adam step table to 64 rows and the timed 80-pass frame
    grew it to 128, capturing again inside the timed window."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from benchmarks.bench_gpu import engine_pass_ms
    from tests.helpers import MEDIA, WEIGHTS
    from tests.helpers.capture import install
    from vidstyle import Config, Stylizer, build_stylizer
    from vidstyle.io.images import read_image, resize_long_side

    stats = install(monkeypatch)
    captures: list[int] = []
    real = Stylizer.stylize

    def spy(self: Stylizer, content, **kw):  # noqa: ANN001, ANN202
        before = stats.captures
        out = real(self, content, **kw)
        captures.append(stats.captures - before)
        return out

    monkeypatch.setattr(Stylizer, "stylize", spy)
    cfg = Config(preset="fast", weights=str(WEIGHTS), device="cpu", size=24, seed=0, quiet=True, optimizer="adam")
    stylizer = build_stylizer(cfg, read_image(MEDIA / "starry_night.jpg"))
    engine_pass_ms(stylizer, resize_long_side(read_image(MEDIA / "tubingen.jpg"), 24), 40, repeats=1)
    assert captures[0] == 1 and captures[1:] == [0, 0], captures


@pytest.mark.slow
def test_the_bare_baseline_is_captured_as_the_engines_pass_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bare forward + backward is a graph replay on a device that captures (before, it was eager while the
    engine's pass was a replay, so the ratio compared two different things); the capture rules hold for it,
    and it is captured once, before its timed replays."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from benchmarks.bench_gpu import bare_ms
    from tests.helpers import WEIGHTS
    from tests.helpers.capture import install
    from vidstyle import Config

    stats = install(monkeypatch)
    cfg = Config(preset="fast", weights=str(WEIGHTS), device="cpu", size=24, seed=0, quiet=True, optimizer="adam")
    import numpy as np
    import torch

    assert bare_ms(cfg, np.zeros((24, 24, 3), np.uint8), torch.device("cpu"), 5) > 0
    assert stats.captures == 1 and stats.replays == 1 + 5 and stats.streams == 1, stats
    eager = Config(preset="fast", weights=str(WEIGHTS), device="cpu", size=24, quiet=True, capture=False)
    bare_ms(eager, np.zeros((24, 24, 3), np.uint8), torch.device("cpu"), 2)
    assert stats.captures == 1  # --no-capture: the comparison is eager on both sides
