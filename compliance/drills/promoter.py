"""The lab promoter: the failover handler's ``Promoter`` backed by PostgreSQL.

Stands in for: ``RdsPromoter`` in ``lambda/failover/handler.py``, i.e.
``describe_global_clusters`` (is the target the writer, is a failover under
way) and ``failover_global_cluster(AllowDataLoss=True)``; and, for the
planned drill, ``switchover_global_cluster``. Cluster ARNs map to the
region's PostgreSQL node; promotion is ``pg_promote()`` on the standby.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from compliance.drills.function_host import load_handler_module
from compliance.drills.postgres_lab import PostgresNode
from compliance.environment import temporary_environment
from compliance.synth import REPO_ROOT

FAILOVER_HANDLER = REPO_ROOT / "lambda" / "failover" / "handler.py"
HEALTH_HANDLER = REPO_ROOT / "lambda" / "health_check" / "handler.py"
_ENV_LOCK = threading.Lock()


def failover_module(path: Path = FAILOVER_HANDLER) -> ModuleType:
    """The project's real failover handler, imported by path."""
    return load_handler_module(path, "drill_failover_handler")


@contextmanager
def lambda_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """The function's environment variables for one invocation (the handler reads os.environ)."""
    with _ENV_LOCK, temporary_environment(variables):
        yield


class LabPromoter:
    """Promotes the PostgreSQL standby that stands for the target Aurora cluster."""

    def __init__(self, module: ModuleType, members: Mapping[str, PostgresNode]) -> None:
        self.module = module
        self.members = dict(members)
        self.promoting = False
        self.promoted: list[tuple[str, float]] = []

    def state(self, target: str) -> Any:
        node = self.members[target]
        try:
            writer = node.is_writer()
        except Exception:  # an unreachable member is not the writer
            writer = False
        return self.module.ClusterState(writer, failover_in_progress=self.promoting)

    def promote(self, target: str) -> None:
        self.promoting = True
        try:
            self.members[target].promote()
            self.promoted.append((target, time.monotonic()))
        finally:
            self.promoting = False


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
