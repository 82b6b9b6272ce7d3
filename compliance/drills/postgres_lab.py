"""PostgreSQL 15 primary and streaming hot standby: the Aurora Global Database stand-in.

Stands in for: the Aurora PostgreSQL global cluster's primary (writer) and
secondary (read-only, storage-level replication) clusters. Here the
secondary is a streaming hot standby made with ``pg_basebackup -R``;
asynchronous like Aurora's cross-region replication, so an unplanned
failover may lose the last acknowledged writes. Promotion is real
(``pg_promote()``). Each node listens on its region's loopback address and
the shared service port, as Aurora's cluster endpoints do on 5432.

``fsync=off``: drills crash processes, not the operating system, so written
WAL survives; it only makes the lab faster.
"""

from __future__ import annotations

import os
import pwd
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.drills.engines import PG_PACKAGE, EngineMissing
from compliance.drills.processes import Child, ChildFailed, Supervisor, service_account

WRITES_TABLE = "drill_writes"
_SETTINGS = {
    "fsync": "off",
    "dynamic_shared_memory_type": "mmap",  # files in the data folder, gone with it
    "shared_buffers": "16MB",
    "max_connections": "30",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "hot_standby": "on",
    "wal_receiver_status_interval": "1s",
    "logging_collector": "off",
}


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class PostgresNode:
    """One PostgreSQL server of one region."""

    region: str
    address: str
    port: int
    bin_dir: Path
    supervisor: Supervisor
    account: pwd.struct_passwd | None = None
    child: Child | None = None
    base: Path = field(init=False)

    def __post_init__(self) -> None:
        self.base = self.supervisor.folder(f"pg-{self.region}", self.account)
        self.socket_dir = self.supervisor.folder(f"pg-{self.region}/sock", self.account)

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    # -- lifecycle -----------------------------------------------------------

    def initdb(self) -> None:
        self.supervisor.run(
            f"initdb-{self.region}",
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "--no-instructions",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            account=self.account,
            timeout=120,
        )
        with open(self.data_dir / "pg_hba.conf", "a", encoding="utf-8") as hba:
            hba.write("host all all 127.0.0.0/8 trust\nhost replication all 127.0.0.0/8 trust\n")
        self._configure()

    def _configure(self) -> None:
        """Address, port and lab settings, in ``postgresql.conf`` so restarts keep them."""
        lines = {
            **_SETTINGS,
            "listen_addresses": _quote(self.address),
            "port": str(self.port),
            "unix_socket_directories": _quote(str(self.socket_dir)),
        }
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# drill lab\n")
            conf.writelines(f"{key} = {value}\n" for key, value in lines.items())

    def start(self, timeout: float = 30.0) -> None:
        """Start the postmaster in its own process group and wait until it accepts queries."""
        self.child = self.supervisor.spawn(
            f"postgres-{self.region}",
            [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)],
            account=self.account,
            stop_signal=signal.SIGQUIT,  # immediate shutdown: orderly exit, frees shared memory
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.connect(timeout=1.0).close()
                return
            except Exception as error:
                if not self.child.alive() or time.monotonic() > deadline:
                    raise ChildFailed(
                        f"PostgreSQL ({self.region}) did not start: {type(error).__name__}: "
                        f"{self.child.log_tail()}"
                    ) from None
                time.sleep(0.03)

    def kill(self) -> None:
        """Crash the whole server (postmaster, backends, walsender): region loss."""
        if self.child is not None:
            self.supervisor.kill(self.child)

    def stop_clean(self, timeout: float = 30.0) -> None:
        """Fast shutdown: ends sessions, writes a shutdown checkpoint, ships it to standbys."""
        if self.child is None:
            return
        self.child.popen.send_signal(signal.SIGINT)
        try:
            self.child.popen.wait(timeout=timeout)
        finally:
            self.supervisor.kill(self.child)

    # -- queries -------------------------------------------------------------

    def connect(self, timeout: float = 2.0) -> Any:
        import pg8000

        connection = pg8000.connect(
            user="postgres",
            host=self.address,
            port=self.port,
            database="postgres",
            timeout=timeout,
        )
        connection.autocommit = True
        return connection

    def sql(self, statement: str, params: Sequence[Any] = (), timeout: float = 5.0) -> list[Any]:
        connection = self.connect(timeout=timeout)
        try:
            cursor = connection.cursor()
            cursor.execute(statement, tuple(params))
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            connection.close()

    def is_writer(self) -> bool:
        return self.sql("SELECT NOT pg_is_in_recovery()")[0][0] is True

    def promote(self, wait_seconds: int = 30) -> None:
        """``pg_promote()``: end recovery, start a new timeline, accept writes."""
        done = self.sql("SELECT pg_promote(true, %s)", (wait_seconds,), timeout=wait_seconds + 5)
        if not done or done[0][0] is not True:
            raise ChildFailed(f"pg_promote() on {self.region} did not finish in {wait_seconds} s")

    def create_writes_table(self) -> None:
        self.sql(
            f"CREATE TABLE IF NOT EXISTS {WRITES_TABLE} ("
            "seq bigint PRIMARY KEY, written_at timestamptz NOT NULL, via text NOT NULL)"
        )

    def written_seqs(self) -> set[int]:
        return {row[0] for row in self.sql(f"SELECT seq FROM {WRITES_TABLE}")}

    def walsender_pids(self) -> list[int]:
        rows = self.sql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender'")
        return [row[0] for row in rows]

    def streaming_to(self) -> list[str]:
        """``state`` of every replication connection this node serves."""
        return [row[0] for row in self.sql("SELECT state FROM pg_stat_replication")]

    def current_lsn(self) -> str:
        return self.sql("SELECT pg_current_wal_lsn()::text")[0][0]

    def replayed_up_to(self, lsn: str) -> bool:
        rows = self.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))
        return rows[0][0] is True

    def replay_lag_seconds(self) -> float | None:
        """Standby side: age of the last replayed transaction (Aurora's replication lag)."""
        rows = self.sql(
            "SELECT EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
        )
        value = rows[0][0]
        return None if value is None else float(value)

    # -- replication ---------------------------------------------------------

    def clone_standby(self, region: str, address: str) -> PostgresNode:
        """``pg_basebackup -R``: a streaming hot standby of this node in ``region``."""
        standby = PostgresNode(
            region, address, self.port, self.bin_dir, self.supervisor, self.account
        )
        self.supervisor.run(
            f"basebackup-{region}",
            [
                str(self.bin_dir / "pg_basebackup"),
                "-h",
                self.address,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-D",
                str(standby.data_dir),
                "-R",
                "-C",
                "-S",
                f"standby_{region.replace('-', '_')}",
                "--checkpoint=fast",
                "--no-sync",
                "-X",
                "stream",
            ],
            account=self.account,
            timeout=120,
        )
        standby._configure()  # its own address; later lines win over the copied ones
        return standby

    def follow(self, primary: PostgresNode) -> None:
        """Restart this (cleanly stopped) former primary as a standby of ``primary``."""
        auto = self.data_dir / "postgresql.auto.conf"
        kept = [
            line
            for line in auto.read_text(encoding="utf-8").splitlines()
            if not line.startswith(("default_transaction_read_only", "primary_conninfo"))
        ]
        conninfo = f"host={primary.address} port={primary.port} user=postgres"
        kept += [
            f"primary_conninfo = {_quote(conninfo)}",
            "recovery_target_timeline = 'latest'",
        ]
        auto.write_text("\n".join(kept) + "\n", encoding="utf-8")
        signal_file = self.data_dir / "standby.signal"
        signal_file.touch()
        if self.account is not None:
            os.chown(signal_file, self.account.pw_uid, self.account.pw_gid)
        self.start()


def start_pair(
    supervisor: Supervisor,
    bin_dir: Path,
    regions: tuple[str, str],
    addresses: tuple[str, str],
    port: int,
) -> tuple[PostgresNode, PostgresNode]:
    """A primary in ``regions[0]`` streaming to a hot standby in ``regions[1]``."""
    account = service_account("postgres")
    if os.geteuid() == 0 and account is None:
        raise EngineMissing("running as root and there is no `postgres` OS user", (PG_PACKAGE,))
    primary = PostgresNode(regions[0], addresses[0], port, bin_dir, supervisor, account)
    primary.initdb()
    primary.start()
    primary.create_writes_table()
    standby = primary.clone_standby(regions[1], addresses[1])
    standby.start()
    deadline = time.monotonic() + 30
    while primary.streaming_to() != ["streaming"]:
        if time.monotonic() > deadline:
            raise ChildFailed("the standby did not start streaming within 30 s")
        time.sleep(0.03)
    return primary, standby
