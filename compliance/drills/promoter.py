"""The lab promoter: Aurora's global-cluster API as the failover function sees it, on PostgreSQL.

Stands in for ``describe_global_clusters`` (is the target the writer, is a
failover under way) and ``failover_global_cluster(AllowDataLoss=True)``,
which in AWS returns at once while Aurora promotes in the background. Here
too ``promote`` returns at once; the promotion then waits the promotion
allowance (scaled setting ``promotion_allowance_seconds``: AWS documents
promoting a secondary region "in under a minute"), a stand-in for Aurora's
own time that the lab cannot measure, and then runs ``pg_promote()`` on the
standby, which it does measure. Meanwhile ``state`` reports the failover as
under way, as ``FailoverState`` does. A second ``promote`` during it fails,
as the API does.

A failover function is drilled through its handler's ``promoter`` keyword:
an object with ``state(target)`` (returning ``target_is_writer`` and
``failover_in_progress``) and ``promote(target)``. For the planned drill,
``switchover`` stands in for ``switchover_global_cluster``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from compliance.drills.interrupts import route_to_main_thread
from compliance.drills.postgres_lab import PostgresNode

_TRIGGER = threading.local()


@contextmanager
def triggered_by(name: str) -> Iterator[None]:
    """Calls made by this thread in the block are attributed to trigger ``name``."""
    previous = getattr(_TRIGGER, "name", None)
    _TRIGGER.name = name
    try:
        yield
    finally:
        _TRIGGER.name = previous


def current_trigger() -> str:
    return getattr(_TRIGGER, "name", None) or "unknown"


@dataclass(frozen=True)
class ClusterState:
    """What ``describe_global_clusters`` tells the failover function."""

    target_is_writer: bool
    failover_in_progress: bool


class FailoverInProgress(RuntimeError):
    """``InvalidGlobalClusterStateFault``: a failover or switchover is already under way."""


@dataclass(frozen=True)
class Call:
    trigger: str
    target: str
    at: float


@dataclass
class Promotion:
    """One promotion: requested, the stand-in wait, ``pg_promote()``; times are monotonic."""

    call: Call
    waited: float = 0.0
    started: float | None = None  # pg_promote() called
    done: float | None = None


@dataclass
class LabPromoter:
    """Promotes the PostgreSQL standby that stands for the target Aurora cluster."""

    members: Mapping[str, PostgresNode]
    allowance: float
    stop: threading.Event
    states: list[Call] = field(default_factory=list)
    promotions: list[Promotion] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    on_done: Callable[[Promotion], None] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = False
        self.finished = threading.Event()

    def state(self, target: str) -> ClusterState:
        with self._lock:
            self.states.append(Call(current_trigger(), target, time.monotonic()))
            busy = self._busy
        try:
            writer = self.members[target].is_writer()
        except Exception:  # an unreachable member is not the writer
            writer = False
        return ClusterState(target_is_writer=writer, failover_in_progress=busy)

    def promote(self, target: str) -> None:
        """Accept the request and return, as the API does; the promotion runs behind it."""
        node = self.members[target]
        with self._lock:
            if self._busy:
                raise FailoverInProgress("a failover or switchover is already under way")
            self._busy = True
            promotion = Promotion(Call(current_trigger(), target, time.monotonic()))
            self.promotions.append(promotion)
        threading.Thread(
            target=self._promote, args=(node, promotion), name="promotion", daemon=True
        ).start()

    def _promote(self, node: PostgresNode, promotion: Promotion) -> None:
        route_to_main_thread()
        try:
            if self.stop.wait(self.allowance):  # the drill ended first
                return
            promotion.waited = self.allowance
            promotion.started = time.monotonic()
            node.promote()
            promotion.done = time.monotonic()
            if self.on_done is not None:
                self.on_done(promotion)
            self.finished.set()
        except BaseException as error:  # surfaced by the drill, never lost in the thread
            self.errors.append(error)
        finally:
            with self._lock:
                self._busy = False

    @contextmanager
    def switching(self) -> Iterator[None]:
        """A planned switchover under way: ``state`` says so to every trigger meanwhile."""
        with self._lock:
            self._busy = True
        try:
            yield
        finally:
            with self._lock:
                self._busy = False

    def first(self, trigger: str | None = None, after: float = float("-inf")) -> Call | None:
        """The first ``state`` call (by ``trigger``) after ``after``: a trigger deciding to act."""
        with self._lock:
            return next(
                (
                    c
                    for c in self.states
                    if c.at >= after and (trigger is None or c.trigger == trigger)
                ),
                None,
            )


def switchover(
    old: PostgresNode,
    new: PostgresNode,
    mark: Callable[[str], None],
    timeout: float = 30.0,
) -> None:
    """Planned switchover with no data loss (stands in for ``switchover_global_cluster``).

    Quiesce the old primary (new transactions are read-only), wait until the
    standby has replayed its last WAL position, stop it cleanly (the shutdown
    checkpoint reaches the standby), promote the standby, and restart the
    old primary as a standby of the new one.
    """
    old.sql("ALTER SYSTEM SET default_transaction_read_only = on")
    old.sql("SELECT pg_reload_conf()")
    old.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    mark("writes quiesced")
    target = old.current_lsn()
    deadline = time.monotonic() + timeout
    while not new.replayed_up_to(target):
        if time.monotonic() > deadline:
            raise TimeoutError(f"standby did not replay up to {target} in {timeout} s")
        time.sleep(0.01)
    mark("replica caught up")
    old.stop_clean()
    mark("old primary stopped")
    new.promote()
    mark("promotion done")
    old.follow(new)
    mark("old primary restarted as replica")
