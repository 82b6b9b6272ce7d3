"""Own every process, folder and port a drill starts, and release all of them.

A drill starts database servers, a DNS server and function hosts. Each child
gets its own session (so its process group can be killed whole, backends
and all, and a terminal's Ctrl-C reaches only the harness, which then tears
down in order). ``Supervisor`` registers every child and removes them, the
temporary folder and leftover System V shared memory on exit: normal,
exception, Ctrl-C (KeyboardInterrupt) and SIGTERM (turned into
``DrillInterrupted``). Ports are bound by the children only, so they are
free once the children are gone.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

IPC_RMID = 0


class DrillInterrupted(KeyboardInterrupt):
    """SIGTERM arrived: unwind like Ctrl-C so every ``finally`` runs."""


class ChildFailed(RuntimeError):
    """A child process exited or timed out where the drill needed it."""


@dataclass
class Child:
    """One started process; ``pgid`` is its session and process group."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM
    pgid: int = field(init=False)

    def __post_init__(self) -> None:
        self.pgid = self.popen.pid

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, size: int = 1500) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""


def group_members(pgid: int) -> list[int]:
    """Live processes (not zombies) whose process group is ``pgid``, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _group_exists(pgid: int) -> bool:
    """Any process (zombies included) still in group ``pgid``: signal 0 tells."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a foreign group reused the id
        return False
    return True


def _start_time(pid: int) -> int | None:
    """Start time of a live ``pid`` (tells a process from a later one reusing its id)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] == "Z" else int(fields[19])  # a zombie has already died


def _kill_snapshot(
    snapshot: dict[int, int | None], sig: int = signal.SIGKILL, wait: float = 5.0
) -> None:
    """Signal every process of a snapshot that is still the same process; await SIGKILLs."""

    def same(pid: int, started: int | None) -> bool:
        return started is not None and _start_time(pid) == started

    for pid, started in snapshot.items():
        if same(pid, started):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + wait
    while sig == signal.SIGKILL and time.monotonic() < deadline:
        if not any(same(pid, started) for pid, started in snapshot.items()):
            return
        time.sleep(0.01)


def tree_snapshot(root: int) -> dict[int, int | None]:
    """``root`` and its live descendants, with start times.

    PostgreSQL gives every backend a session of its own (``setsid``), so
    killing the postmaster's process group does not reach them; a backend
    that cannot notice its postmaster died (a SIGSTOPped walsender) would
    live on. Taken before a kill, this finds them all.
    """
    pids = [root, *descendants(root)]
    return {pid: _start_time(pid) for pid in pids}


def processes_in(folder: Path) -> list[int]:
    """Live processes whose working folder is inside ``folder`` (deleted or not)."""
    prefix = str(folder).rstrip("/") + "/"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if (cwd + "/").startswith(prefix):
            found.append(int(entry.name))
    return found


def descendants(root: int) -> list[int]:
    """Live descendants of ``root`` (any session), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _remove_orphaned_shm(creators: set[int]) -> int:
    """Remove System V segments a killed PostgreSQL left behind (creator gone, unattached).

    PostgreSQL removes its small interlock segment on any orderly exit; a
    SIGKILL (the region-loss drill) leaves it, so the supervisor does.
    """
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    removed = 0
    for line in lines:
        fields = line.split()
        shmid, cpid, nattch = int(fields[1]), int(fields[4]), int(fields[6])
        if cpid in creators and nattch == 0 and libc.shmctl(shmid, IPC_RMID, None) == 0:
            removed += 1
    return removed


def reserve_port(addresses: Sequence[str], attempts: int = 50) -> int:
    """A TCP port free on every address now (regions share one service port)."""
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as first:
            first.bind((addresses[0], 0))
            port = int(first.getsockname()[1])
            if all(_port_free(address, port) for address in addresses[1:]) and all(
                _port_free(address, port, socket.SOCK_DGRAM) for address in addresses
            ):
                return port
    raise ChildFailed(f"no port free on all of {', '.join(addresses)}")


def _port_free(address: str, port: int, kind: int = socket.SOCK_STREAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def listening_socket(address: str, port: int) -> socket.socket:
    """A bound, listening socket a child inherits (no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def service_account(name: str) -> pwd.struct_passwd | None:
    """The OS account a server must run as when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def lab_base_dir(minimum_free: int = 1 << 30) -> str | None:
    """Where labs live: ``$DR_LAB_DIR``, else memory-backed /dev/shm, else the temp folder.

    Databases in tmpfs start faster and are removed in a blink; on a disk
    mounted with ``discard`` removing a lab's ~2,000 files took seconds.
    """
    explicit = os.environ.get("DR_LAB_DIR")
    if explicit:
        return explicit
    shm = "/dev/shm"
    try:
        stats = os.statvfs(shm)
    except OSError:
        return None
    roomy = stats.f_bavail * stats.f_frsize >= minimum_free
    return shm if roomy and os.access(shm, os.W_OK | os.X_OK) else None


_LIVE: weakref.WeakSet[Supervisor] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:  # pragma: no cover - last resort when a caller forgot close()
    for supervisor in list(_LIVE):
        supervisor.close()


class Supervisor:
    """Registry of one drill's children and its temporary folder.

    Use as a context manager; ``close()`` is idempotent and is also run at
    interpreter exit for any supervisor still open.
    """

    def __init__(self, prefix: str = "dr-drill-", grace_seconds: float = 3.0) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=prefix, dir=lab_base_dir()))
        self.root.chmod(0o755)  # service accounts (postgres, pdns) must traverse it
        self.grace_seconds = grace_seconds
        self.children: list[Child] = []
        self.closed = False
        self._lock = threading.Lock()
        self._creators: set[int] = set()
        self._previous_sigterm: Any = None
        _LIVE.add(self)

    # -- folders -----------------------------------------------------------

    def folder(self, name: str, owner: pwd.struct_passwd | None = None) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        if owner is not None:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        return path

    # -- processes ---------------------------------------------------------

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        account: pwd.struct_passwd | None = None,
        env: Mapping[str, str] | None = None,
        pass_fds: Sequence[int] = (),
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
        stdout: int | IO[bytes] | None = None,
    ) -> Child:
        """Start ``argv`` in its own session, logging to ``<root>/logs/<name>.log``."""
        if self.closed:
            raise ChildFailed(f"supervisor closed; not starting {name}")
        logs = self.folder("logs")
        log = logs / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115 - the child owns the descriptor from here
        try:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=handle if stdout is None else stdout,
                stderr=handle,
                env=dict(env) if env is not None else None,
                cwd=cwd or self.root,
                pass_fds=tuple(pass_fds),
                start_new_session=True,
                user=account.pw_uid if account else None,
                group=account.pw_gid if account else None,
                extra_groups=[] if account else None,
            )
        finally:
            handle.close()
        child = Child(name, popen, log, stop_signal)
        with self._lock:
            self.children.append(child)
            self._creators.add(child.pid)
        return child

    def run(
        self,
        name: str,
        argv: Sequence[str],
        *,
        account: pwd.struct_passwd | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> Child:
        """Run a short command to completion (registered while it runs); raise on failure."""
        child = self.spawn(name, argv, account=account, env=env)
        try:
            code = child.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(child)
            raise ChildFailed(
                f"{name} timed out after {timeout:.0f} s: {child.log_tail()}"
            ) from None
        if code != 0:
            raise ChildFailed(f"{name} failed with exit code {code}: {child.log_tail()}")
        return child

    def kill(self, child: Child, sig: int = signal.SIGKILL) -> None:
        """Signal the child, its process group and every descendant (a crash for SIGKILL)."""
        snapshot = tree_snapshot(child.pid) if child.alive() else {}
        if _group_exists(child.pgid):
            try:
                os.killpg(child.pgid, sig)
            except ProcessLookupError:
                pass
        _kill_snapshot(snapshot, sig)
        if sig == signal.SIGKILL:
            self._reap(child, 5.0)

    def stop(self, child: Child, timeout: float | None = None) -> None:
        """Orderly stop: the child's stop signal, then SIGKILL after the grace period."""
        self._signal_leader(child)
        try:
            child.popen.wait(timeout=self.grace_seconds if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill(child)

    @staticmethod
    def _signal_leader(child: Child) -> None:
        if child.alive():
            try:
                child.popen.send_signal(child.stop_signal)
            except ProcessLookupError:
                pass

    def _reap(self, child: Child, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        try:
            child.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
            pass
        while _group_exists(child.pgid) and time.monotonic() < deadline:
            time.sleep(0.01)

    # -- teardown ----------------------------------------------------------

    def close(self) -> None:
        """Stop every child (all at once), free shared memory, remove the folder."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            children = list(reversed(self.children))
        errors: list[BaseException] = []
        masked = _block_interrupts()  # a second Ctrl-C waits until everything is released
        try:
            self._release(children, errors)
        finally:
            if masked:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _INTERRUPTS)
        if errors:
            raise errors[0]

    def _release(self, children: list[Child], errors: list[BaseException]) -> None:
        snapshots = [tree_snapshot(child.pid) for child in children if child.alive()]
        for child in children:
            self._signal_leader(child)
        deadline = time.monotonic() + self.grace_seconds
        for child in children:
            try:
                child.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for child in children:  # what ignored its stop signal, and stragglers of each group
            try:
                self.kill(child)
            except BaseException as error:  # keep releasing the rest, report after
                errors.append(error)
        for snapshot in snapshots:  # orphans an orderly stop left (own sessions, stopped)
            _kill_snapshot(snapshot)
        self._sweep()
        _remove_orphaned_shm(self._creators)
        shutil.rmtree(self.root, ignore_errors=True)
        _LIVE.discard(self)

    def _sweep(self, timeout: float = 5.0) -> None:
        """Last resort: SIGKILL whatever still works inside the lab's folder."""
        deadline = time.monotonic() + timeout
        while (stragglers := processes_in(self.root)) and time.monotonic() < deadline:
            for pid in stragglers:
                self._creators.add(pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def __enter__(self) -> Supervisor:
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _raise_interrupted)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.close()
        finally:
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)


_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


def _block_interrupts() -> bool:
    """Hold SIGINT/SIGTERM pending (main thread only: where Python runs handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    return True


def _raise_interrupted(signum: int, frame: object) -> None:
    raise DrillInterrupted(f"signal {signum}")


@contextmanager
def supervised(prefix: str = "dr-drill-") -> Iterator[Supervisor]:
    with Supervisor(prefix) as supervisor:
        yield supervisor
