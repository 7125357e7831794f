"""User-facing errors: the CLI prints them as one line and exits with code 2."""


def one_line(text: str) -> str:
    """A message as one line even when a file name in it holds a line break or another control character."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


class VidstyleError(Exception):
    """Bad input or usage that the user can fix (missing file, bad option, missing weights...)."""


class SignalStop(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread so that a run stops as cleanly as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__()
        self.signum = signum

    @property
    def name(self) -> str:
        import signal

        return signal.Signals(self.signum).name
