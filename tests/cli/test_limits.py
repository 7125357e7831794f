"""The command under the machine's limits: too few file descriptors, too little address space, a deleted
current folder, a missing dependency. Each is one ``vidstyle: error:`` line and exit code 2, never a
traceback, a segmentation fault or a foreign library's fatal message."""
from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from vidstyle.cli.main import resource_failure
from tests.helpers import REPO


def _vidstyle(argv: list[str], limits: dict[int, int] | None = None, gone: Path | None = None,
              cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m vidstyle ARGV`` in a child whose limits are set (and, with ``gone``, whose current folder is
    deleted) before it starts; SIGINT reset to its default there as in every child of the suite."""

    def before_exec() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for which, value in (limits or {}).items():
            resource.setrlimit(which, (value, resource.getrlimit(which)[1]))
        if gone is not None:
            os.chdir(gone)
            os.rmdir(gone)

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "vidstyle", *argv], capture_output=True, text=True, env=env,
                          cwd=cwd or REPO, preexec_fn=before_exec, timeout=120)


def _one_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("vidstyle: error: "), proc.stderr[-2000:]
    return lines[0]


def _job(tmp_path: Path, weights_path: Path, content: str, output: str) -> list[str]:
    return [str(REPO / "samples" / content), str(REPO / "samples" / "strokes.png"), str(tmp_path / output),
            "--preset", "fast", "--weights", str(weights_path), "--device", "cpu", "--quiet", "--size", "32",
            "--iterations", "1"]


@pytest.mark.slow
def test_too_few_file_descriptors_is_one_line(tmp_path, weights_path):
    """ulimit -n 8: the ffmpeg probe of the video could not open its pipe (OSError traceback, exit 1)."""
    proc = _vidstyle([*_job(tmp_path, weights_path, "pan.mp4", "o.mp4"), "--max-frames", "2"],
                     limits={resource.RLIMIT_NOFILE: 8})
    line = _one_line(proc)
    assert "too many open files" in line and "ulimit -n is 8" in line
    assert not (tmp_path / "o.mp4").exists()


def test_too_little_address_space_is_refused_before_torch_loads(tmp_path, weights_path):
    """ulimit -v 450 MB: loading OpenCV crashed (SIGSEGV) or torch raised an ImportError traceback."""
    proc = _vidstyle(_job(tmp_path, weights_path, "street.png", "o.png"), limits={resource.RLIMIT_AS: 450 << 20})
    line = _one_line(proc)
    assert "ulimit -v" in line and "450 MB" in line
    assert list(tmp_path.iterdir()) == []


def test_a_deleted_current_folder_is_one_line(tmp_path, weights_path):
    """A shell left in a folder another program deleted: oneMKL aborted with "Cannot load libtorch_cpu.so"."""
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = _vidstyle(_job(tmp_path, weights_path, "street.png", "o.png"), gone=gone)
    assert "current folder no longer exists" in _one_line(proc)
    assert list(tmp_path.iterdir()) == []


def test_resource_failures_are_named_and_bugs_are_not():
    """The mapping behind those lines: the machine's limits and a broken install get a line, a bug does not."""
    assert "not enough memory to load libtorch_cpu.so" in resource_failure(
        ImportError("libtorch_cpu.so: failed to map segment from shared object"))
    assert "pip install opencv-python" in resource_failure(ModuleNotFoundError("No module named 'cv2'", name="cv2"))
    assert "too many open files" in resource_failure(OSError(errno.EMFILE, "Too many open files"))
    assert "out of memory" in resource_failure(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert resource_failure(ModuleNotFoundError("No module named 'vidstyle.nope'", name="vidstyle.nope")) is None
    assert resource_failure(ImportError("cannot import name 'x' from 'vidstyle'")) is None
    assert resource_failure(OSError(errno.EACCES, "Permission denied")) is None
    assert resource_failure(ValueError("a bug")) is None
