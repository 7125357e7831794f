"""benchmarks/bench_encoding.py runs end to end at a tiny size (it once broke silently when bench_stability changed)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_encoding_prints_the_frames_and_each_encoding_per_shot() -> None:
    cmd = [sys.executable, str(REPO / "benchmarks" / "bench_encoding.py"), "--threads", "1", "--clips", "bikes",
           "--settings", "32:1:2", "--frames", "3", "--encodings", "crf 18 tune grain (default),crf 12 tune grain"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| bikes |")]
    assert [r.split(" | ")[2] for r in rows] == ["PNG frames (no encoder)", "crf 18 tune grain (default)",
                                                 "crf 12 tune grain"]
    nbytes = [int(r.rstrip(" |").rsplit("| ", 1)[1]) for r in rows[1:]]
    assert nbytes[1] > nbytes[0] > 0  # a finer crf writes more bytes
