"""Notes on stderr. Two kinds, kept apart so that ``--quiet`` can never hide a loss:

* ``data_note``: something happened to the user's data (frames that could not be decoded, pictures fitted
  into another size, transparency dropped): printed always, ``--quiet`` or not;
* ``info_note``: how the run goes about its work (an average frame rate used): silenced by ``--quiet``,
  like the progress bars.

Both print one line above a live progress bar (rich's console), never through it.
"""
from __future__ import annotations

from ..errors import one_line
from .bars import STDERR


def data_note(text: str) -> None:
    """A note about the data, printed whatever ``--quiet`` says."""
    STDERR.print(f"vidstyle: note: {one_line(text)}", markup=False, highlight=False, soft_wrap=True)


def info_note(text: str, quiet: bool) -> None:
    """A note about the run's way of working; nothing under ``--quiet``."""
    if not quiet:
        STDERR.print(f"note: {one_line(text)}", markup=False, highlight=False, soft_wrap=True)
