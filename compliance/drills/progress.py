"""What a drill run shows while it works: a pinned line per drill on a terminal, plain lines in CI.

Plain lines (``[  12.3s] DR-DEP-01 killing region us-east-1``) always go to
the output stream; during long silences a "still running" line follows, so a
CI log never looks hung. When stderr is a terminal, rich pins one line per
drill at the bottom of it (spinner, current phase, elapsed time) and the
plain lines scroll above them.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from typing import IO, Any

from compliance.drills import interrupts

_DRILL = re.compile(r"^(DR-[A-Z]+-\d+) (.*)$")


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Prints ``[  12.3s] phase`` lines; pinned per-drill lines when stderr is a terminal."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        heartbeat: float = 10.0,
        live: bool | None = None,
        terminal: IO[str] | None = None,
    ) -> None:
        self.stream = stream or sys.stdout
        self.heartbeat = heartbeat
        self.started = time.monotonic()
        self.last_message = "starting"
        self.last_at = self.started
        self.terminal = terminal or sys.stderr  # where the pinned lines go
        self.live = _is_terminal(self.terminal) if live is None else live
        self._bars: Any = None
        self._tasks: dict[str, Any] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)

    def __call__(self, message: str) -> None:
        with self._lock:
            now = time.monotonic()
            self.last_message, self.last_at = message, now
            line = f"[{now - self.started:7.1f}s] {message}"
            if self._bars is not None and _is_terminal(self.stream):
                self._bars.console.print(line, markup=False, highlight=False)
            else:
                print(line, file=self.stream, flush=True)
            if self._bars is not None:
                self._pin(message)

    def _pin(self, message: str) -> None:
        match = _DRILL.match(message)
        if match is None:
            return
        drill, phase = match[1], match[2]
        task = self._tasks.get(drill)
        if task is None:
            task = self._bars.add_task(phase, total=None, drill=drill)
            self._tasks[drill] = task
        done = phase == "cleaned up"
        self._bars.update(task, description="done" if done else phase[:70])
        if done:
            self._bars.update(task, total=1, completed=1)

    def _tick(self) -> None:
        interrupts.route_to_main_thread()
        while not self._stop.wait(1.0):
            with self._lock:
                silent = time.monotonic() - self.last_at
                if silent >= self.heartbeat and self._bars is None:
                    print(
                        f"[{time.monotonic() - self.started:7.1f}s]   ... still running "
                        f"({silent:.0f} s since: {self.last_message})",
                        file=self.stream,
                        flush=True,
                    )
                    self.last_at = time.monotonic()

    def __enter__(self) -> Progress:
        if self.live:
            from rich.console import Console
            from rich.progress import Progress as Bars
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            self._bars = Bars(
                SpinnerColumn(finished_text="✓"),
                TextColumn("{task.fields[drill]}", style="bold"),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(file=self.terminal, force_terminal=True),
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._bars.start()
        self._ticker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._ticker.join(timeout=2)
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
