"""Progress of long work (synth, the features run): rich on a terminal, plain lines in CI.

When the stream is a terminal, rich draws a spinner or a bar that rewrites
itself in place; anywhere else (a CI log, a file, a pipe) each step is one
plain line, and a step silent for :data:`HEARTBEAT_SECONDS` says it is still
running, so a log never looks hung. rich is imported only for a terminal:
a CI run never pays for it.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from types import TracebackType
from typing import IO, Any

# A plain-lines step silent for this long prints that it is still running.
HEARTBEAT_SECONDS = 10.0


def is_terminal(stream: Any) -> bool:
    """A terminal rich can draw on (without rich installed, plain lines everywhere)."""
    try:
        if not stream.isatty():
            return False
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    return importlib.util.find_spec("rich") is not None


def _console(stream: IO[str]) -> Any:
    from rich.console import Console

    return Console(file=stream, force_terminal=True, highlight=False)


class Step:
    """One long step with no count (a synth): a spinner on a terminal, start and end lines else.

    ``update(text)`` changes what the step says it is doing; ``done(text)``
    ends it with a last line (a step left without ``done`` says nothing more).
    """

    def __init__(
        self,
        label: str,
        stream: IO[str] | None = None,
        *,
        doing: str = "",
        live: bool | None = None,
        heartbeat: float = HEARTBEAT_SECONDS,
        tick: float = 1.0,
    ) -> None:
        self.label = label
        self.tick = tick  # how often the spinner's time and the heartbeat are looked at
        self.stream = stream if stream is not None else sys.stderr
        self.live = is_terminal(self.stream) if live is None else live
        self.heartbeat = heartbeat
        self.started = time.monotonic()
        self._doing = doing  # shown by the spinner; a plain line only comes with update()
        self._last = self.started
        self._status: Any = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Step:
        if self.live:
            self._status = _console(self.stream).status(f"{self.label}: {self._doing}")
            self._status.start()
        self._ticker = threading.Thread(target=self._tick, name=f"{self.label} progress")
        self._ticker.daemon = True
        self._ticker.start()
        return self

    def update(self, doing: str) -> None:
        with self._lock:
            self._doing = doing
            self._last = time.monotonic()
            if self._status is None:
                self._line(f"{self.label}: {doing}")
            else:
                self._status.update(f"{self.label}: {doing} ({self.elapsed:.0f} s)")

    def done(self, text: str) -> None:
        with self._lock:
            self._close_status()
            self._line(f"{self.label}: {text}")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def _tick(self) -> None:
        while not self._stop.wait(self.tick):
            with self._lock:
                if self._status is not None:
                    self._status.update(f"{self.label}: {self._doing} ({self.elapsed:.0f} s)")
                elif time.monotonic() - self._last >= self.heartbeat:
                    doing = self._doing or "running"
                    self._line(f"{self.label}: still {doing} ({self.elapsed:.0f} s)")
                    self._last = time.monotonic()

    def _close_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        with self._lock:
            self._close_status()


class Tally:
    """Items counted towards a known total (scenarios): a bar on a terminal, lines else.

    ``advance(name, outcome)`` counts one item; ``group_done(name, text)``
    prints a line for a finished group (a feature file) in plain mode, and
    ``note(text)`` prints a line above the bar (a failure) in either mode.
    """

    def __init__(
        self, label: str, total: int, stream: IO[str] | None = None, *, live: bool | None = None
    ) -> None:
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.live = is_terminal(self.stream) if live is None else live
        self.count = 0
        self.started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Tally:
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn(f"{self.label}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=_console(self.stream),
                redirect_stdout=False,
                redirect_stderr=False,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("", total=self.total)
        return self

    def advance(self, name: str) -> None:
        self.count += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=name[:40])

    def group_done(self, text: str) -> None:
        if self._bar is None:
            self._line(f"{self.label}: [{self.count}/{self.total}] {text}")

    def note(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            self._line(text)

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
