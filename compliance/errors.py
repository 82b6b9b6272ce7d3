"""Errors that end a run with exit code 2 and a one-line reason."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: the run cannot decide anything, so it must not pass.

    The message is one line and names the file, so a CI log says exactly
    what to fix.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = " ".join(reason.split())
        super().__init__(f"{self.path}: {self.reason}")
