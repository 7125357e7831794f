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
