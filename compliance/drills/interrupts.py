"""SIGINT and SIGTERM during a drill: one interruption unwinds it, none breaks its cleanup.

Python runs signal handlers in the main thread only, between bytecodes. So
the rules are kept at that level rather than with signal masks (masking the
main thread leaves other threads to receive the signal, and unmasking runs
any pending handler at once):

- ``handled()`` installs one handler for SIGINT and SIGTERM, whatever the
  process inherited (a job started in the background by a non-interactive
  shell inherits SIGINT *ignored*), and restores the previous ones after.
- The first signal raises ``DrillInterrupted`` in the main thread, so every
  ``finally`` runs. Later ones are noted and dropped: the drill is already
  unwinding and a second Ctrl-C must not cut its cleanup short.
- Inside ``held()`` (a release under way, in any thread) a signal is kept
  and raised once the outermost hold ends.
- ``route_to_main_thread()``, called first in a worker thread, blocks both
  signals there, so the kernel delivers them to the main thread, whose
  blocking calls then return early instead of finishing their timeout.
"""

from __future__ import annotations

import _thread
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


class DrillInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: unwind like Ctrl-C so every ``finally`` runs."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = int(signum)
        super().__init__(f"signal {self.signum} ({signal.Signals(self.signum).name})")

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 Ctrl-C, 143 SIGTERM)."""
        return 128 + self.signum


@dataclass
class _State:
    installed: int = 0  # depth of handled() in the main thread
    holds: int = 0  # releases under way, any thread
    unwinding: bool = False  # an interruption has been raised; drop the rest
    pending: int | None = None  # the first signal that arrived during a hold
    seen: list[int] = field(default_factory=list)  # every signal the handler received
    lock: threading.Lock = field(default_factory=threading.Lock)


_STATE = _State()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """Runs in the main thread; takes no lock (the main thread may hold it)."""
    _STATE.seen.append(signum)
    if _STATE.unwinding:
        return
    if _STATE.holds:
        if _STATE.pending is None:
            _STATE.pending = signum
        return
    _STATE.unwinding = True
    raise DrillInterrupted(signum)


def _is_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def handled(signals: Sequence[int] = INTERRUPTS) -> Iterator[None]:
    """Our handler for ``signals`` (main thread only; elsewhere a no-op) until the block ends."""
    if not _is_main_thread():
        yield
        return
    previous: dict[int, signal.Handlers | object] = {}
    if _STATE.installed == 0:
        _STATE.unwinding, _STATE.pending = False, None
        _STATE.seen.clear()
    _STATE.installed += 1
    try:
        for signum in signals:
            previous[signum] = signal.signal(signum, _on_signal)
        yield
    finally:
        _STATE.installed -= 1
        for signum, handler in previous.items():
            # None: a handler installed outside Python, which cannot be put back; default.
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)  # type: ignore[arg-type]


def default_signals() -> list[int]:
    """What a library user (not the drill command) gets: SIGTERM, and SIGINT unless ignored.

    A process that chose to ignore Ctrl-C keeps ignoring it; the drill
    command, which owns its process, handles both whatever was inherited.
    """
    chosen = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        chosen.append(signal.SIGINT)
    return chosen


@contextmanager
def held() -> Iterator[None]:
    """Keep SIGINT/SIGTERM from interrupting the block; the first one is raised after it."""
    with _STATE.lock:
        _STATE.holds += 1
    try:
        yield
    finally:
        with _STATE.lock:
            _STATE.holds -= 1
            last = _STATE.holds == 0
            signum = _STATE.pending if last else None
            if signum is not None:
                _STATE.pending = None
        if signum is not None:
            _deliver(signum)


def _deliver(signum: int) -> None:
    """Raise a held signal where Python would have: in the main thread."""
    if not _is_main_thread():
        _thread.interrupt_main(signum)  # the main thread's handler runs it
    elif not _STATE.unwinding:
        _STATE.unwinding = True
        raise DrillInterrupted(signum)


def route_to_main_thread() -> None:
    """Block SIGINT/SIGTERM in the calling worker thread (its children would inherit that).

    A thread that calls this must not start processes: the mask survives
    ``fork`` and ``exec``, and the child would ignore its stop signal.
    """
    if not _is_main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)


def masked_here() -> bool:
    """Whether the calling thread blocks either signal (a child started here would too)."""
    return bool(set(INTERRUPTS) & signal.pthread_sigmask(signal.SIG_BLOCK, []))


def signals_seen() -> list[int]:
    """Every SIGINT/SIGTERM received since the outermost ``handled()`` began."""
    return list(_STATE.seen)
