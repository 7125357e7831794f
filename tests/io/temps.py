"""Leftovers as a killed run leaves them: temporaries made by vidstyle itself in a process that is gone (a name
alone is not one of vidstyle's temporaries any more; the clean-up keeps files that only look like one)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_MAKE = ("import sys; from pathlib import Path; from vidstyle.io.atomic import temp_path; "
         "print(temp_path(Path(sys.argv[1]), sys.argv[2], directory=sys.argv[3] == 'dir'))")


def dead_pid() -> int:
    """The process id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def stale_temp(target: Path, tag: str = "part", *, directory: bool = False, data: bytes = b"half written") -> Path:
    """A temporary file (or folder, holding one frame) of ``target`` made by vidstyle in a process that has ended."""
    made = subprocess.run([sys.executable, "-c", _MAKE, str(target), tag, "dir" if directory else "file"],
                          capture_output=True, text=True, check=True).stdout.strip()
    path = Path(made)
    if directory:
        (path / "frame_000001.png").write_bytes(data)
    else:
        path.write_bytes(data)
    return path
