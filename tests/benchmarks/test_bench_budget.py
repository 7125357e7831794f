"""benchmarks/bench_budget.py runs at a small size: the rule's rows and the fixed budget's, images and a clip."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_budget_compares_the_rule_with_fixed_budgets(tmp_path: Path) -> None:
    out = tmp_path / "budget.json"
    cmd = [sys.executable, str(REPO / "benchmarks" / "bench_budget.py"), "--threads", "1", "--sizes", "32",
           "--styles", "starry_night", "--optimizers", "lbfgs", "--iterations", "150", "--clips", "bunny",
           "--video", "64:70:70", "--frames", "3", "--json", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-2000:]
    rows = json.loads(out.read_text())
    (image,) = [r for r in rows if r["kind"] == "image"]
    assert image["fixed_passes"] == 150 and image["passes"] < 150 and image["stopped"] == "converged"
    videos = {r["budget"]: r for r in rows if r["kind"] == "video"}
    assert set(videos) == {"fixed", "rule"}
    assert videos["fixed"]["passes_per_frame"] == 70 and videos["rule"]["passes_per_frame"] < 70
    assert "tolerance 0.02 over 50 passes" in done.stdout
