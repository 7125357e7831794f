"""User-facing errors: the CLI prints them as one line and exits with code 2."""


class VidstyleError(Exception):
    """Bad input or usage that the user can fix (missing file, bad option, missing weights...)."""
