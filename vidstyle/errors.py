"""User-facing errors: the CLI prints them as one line and exits with code 2."""


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
