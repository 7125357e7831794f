"""Entry point of the `vidstyle` command: dispatch, one-line errors, exit codes."""
from __future__ import annotations

import sys
from typing import Callable

from ..errors import VidstyleError
from . import live, metrics, stylize

# Subcommands by first word; anything else is the default CONTENT STYLE OUTPUT command.
SUBCOMMANDS: dict[str, Callable[[list[str]], int]] = {"live": live.run, "metrics": metrics.run}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns 0 on success, 2 on bad input or usage, 130 when interrupted."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = SUBCOMMANDS.get(argv[0]) if argv else None
    try:
        return command(argv[1:]) if command else stylize.run(argv)
    except VidstyleError as exc:
        sys.stderr.write(f"vidstyle: error: {exc}\n")
        return 2
    except KeyboardInterrupt as exc:
        sys.stderr.write(f"vidstyle: interrupted{': ' + str(exc) if str(exc) else ''}\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
