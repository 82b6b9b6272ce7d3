"""Own every process, folder and port a drill starts, and release all of them.

A drill starts database servers, a DNS server and function hosts. Each child
gets its own session (so its process group can be killed whole, backends
and all, and a terminal's Ctrl-C reaches only the harness, which then tears
down in order). ``Supervisor`` registers every child and removes them, the
temporary folder and leftover System V shared memory on exit: normal,
exception, Ctrl-C and SIGTERM (both raised as ``DrillInterrupted``, see
``interrupts``). Its release holds further signals, is idempotent and is
retried until nothing is left. Ports are bound by the children only, so
they are free once the children are gone. The lab folder's owner file
(``ownership``) lets a later drill reclaim what a SIGKILLed one left.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from compliance.drills import interrupts, shared_memory
from compliance.drills.interrupts import DrillInterrupted
from compliance.drills.ownership import RUN_VARIABLE, OwnerRecord, Started, write_owner
from compliance.drills.ownership import start_time as _start_time

__all__ = ["DrillInterrupted", "Supervisor", "CleanupIncomplete", "release_all"]


class ChildFailed(RuntimeError):
    """A child process exited or timed out where the drill needed it."""


class CleanupIncomplete(RuntimeError):
    """The release was retried until its deadline and something is still there."""

    def __init__(self, root: Path, leftovers: list[str]) -> None:
        self.root, self.leftovers = root, leftovers
        super().__init__(f"lab {root} not fully released: {'; '.join(leftovers)}")


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


def kill_snapshot(
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


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()[0]


def freeze_trees(roots: Iterable[int], timeout: float = 5.0) -> dict[int, int | None]:
    """SIGSTOP ``roots`` and all their descendants, until looking again finds no new one.

    A snapshot taken while the tree runs misses a child forked right after
    it (a backend for a new connection), which then outlives the kill. A
    stopped process cannot fork, so once every process seen is stopped, one
    more look is complete. Returns them all (pid → start time) for
    ``kill_snapshot``.
    """
    roots = list(roots)
    frozen: dict[int, int | None] = {}
    deadline = time.monotonic() + timeout
    while True:
        seen: dict[int, int | None] = {}
        for root in roots:
            seen.update(tree_snapshot(root))
        new = {pid: started for pid, started in seen.items() if pid not in frozen and started}
        if not new:
            return frozen
        kill_snapshot(new, signal.SIGSTOP)
        frozen.update(new)
        while time.monotonic() < deadline and any(
            _state(pid) not in (None, "T", "t", "Z", "X") for pid in new
        ):  # stopping takes effect on the way back to user space; a fork may finish first
            time.sleep(0.005)


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


def lab_base_dirs() -> list[Path]:
    """Every place a lab may live (``lab_base_dir`` depends on free space at the time)."""
    explicit = os.environ.get("DR_LAB_DIR")
    if explicit:
        return [Path(explicit)]
    return [Path(folder) for folder in dict.fromkeys(["/dev/shm", tempfile.gettempdir()])]


_OPEN: set[Supervisor] = set()  # strong references: forgotten only once released
_OPEN_LOCK = threading.Lock()


def release_all() -> list[str]:
    """Close every supervisor still open; what could not be released (empty: everything was).

    The drill command calls this when interrupted, so a release that an
    interruption cut short is finished before it says everything is gone.
    """
    with _OPEN_LOCK:
        open_now = list(_OPEN)
    for supervisor in open_now:
        try:
            supervisor.close()
        except (KeyboardInterrupt, Exception):  # noqa: BLE001 - judged by what is left below
            pass
    with _OPEN_LOCK:
        still_open = list(_OPEN)
    return [f"{s.root}: {'; '.join(s.leftovers()) or 'release unfinished'}" for s in still_open]


@atexit.register
def _close_all() -> None:  # pragma: no cover - last resort when a caller forgot close()
    release_all()


class Supervisor:
    """Registry of one drill's children and its temporary folder.

    Use as a context manager; ``close()`` is idempotent, retried until
    nothing is left, and is also run at interpreter exit for any supervisor
    still open.
    """

    def __init__(
        self,
        prefix: str = "dr-drill-",
        grace_seconds: float = 3.0,
        release_timeout: float = 60.0,
    ) -> None:
        self.grace_seconds = grace_seconds
        self.release_timeout = release_timeout
        self.children: list[Child] = []
        self.closed = False  # no child starts from here on
        self.released = False  # every process, segment and the folder are gone
        self.errors: list[BaseException] = []  # what went wrong on the way (kept, retried)
        self._lock = threading.Lock()
        self._release_lock = threading.RLock()
        self._creators: set[int] = set()
        self._seen: dict[int, int | None] = {}  # every process of the lab seen while releasing
        self._stop_sent = False
        self._signals: contextlib.AbstractContextManager[None] | None = None
        self.owner = OwnerRecord.for_this_process()
        with interrupts.held():  # never a folder nobody tracks
            self.root = Path(tempfile.mkdtemp(prefix=prefix, dir=lab_base_dir()))
            self.root.chmod(0o755)  # service accounts (postgres, pdns) must traverse it
            write_owner(self.root, self.owner)
            with _OPEN_LOCK:
                _OPEN.add(self)

    @property
    def run_id(self) -> str:
        return self.owner.run_id

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
        """Start ``argv`` in its own session, logging to ``<root>/logs/<name>.log``.

        Recorded in the owner file before anything can interrupt us, and
        marked with the run id in its environment for the instant before.
        """
        if self.closed:
            raise ChildFailed(f"supervisor closed; not starting {name}")
        if interrupts.masked_here():
            raise ChildFailed(f"{name}: started from a thread that blocks SIGINT/SIGTERM")
        logs = self.folder("logs")
        log = logs / f"{name}.log"
        environment = {**(os.environ if env is None else env), RUN_VARIABLE: self.run_id}
        with interrupts.held():
            handle = open(log, "ab")  # noqa: SIM115 - the child owns the descriptor from here
            try:
                popen = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=handle if stdout is None else stdout,
                    stderr=handle,
                    env=environment,
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
                self.owner.processes.append(Started(name, child.pid, _start_time(child.pid)))
                write_owner(self.root, self.owner)
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
        kill_snapshot(snapshot, sig)
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
        """Stop every child, free shared memory, remove the folder; until nothing is left.

        Idempotent. Each pass is whole (any step may be repeated); a pass
        that leaves something is followed by another until
        ``release_timeout``. SIGINT/SIGTERM arriving meanwhile are held and
        raised once everything is released; one that landed before the hold
        began is kept and raised after the release as well. If something
        cannot be released, ``CleanupIncomplete`` names it.
        """
        self.closed = True
        interruption: KeyboardInterrupt | None = None
        deadline = time.monotonic() + self.release_timeout
        while not self.released:
            try:
                with interrupts.held():
                    self._release_pass()
                    if not self.released:  # what is left may need a moment (a dying process)
                        time.sleep(0.1)
            except KeyboardInterrupt as error:
                interruption = interruption or error
            except Exception as error:  # noqa: BLE001 - a pass that failed is retried
                self.errors.append(error)
            if not self.released and time.monotonic() >= deadline:
                break
        if interruption is not None:
            raise interruption
        if not self.released:
            raise CleanupIncomplete(self.root, self.leftovers())

    def _release_pass(self) -> None:
        with self._release_lock:
            if self.released:
                return
            with self._lock:
                children = list(reversed(self.children))
            for child in children:  # backends live in sessions of their own: remember them
                if child.alive():
                    self._seen.update(tree_snapshot(child.pid))
            if not self._stop_sent:  # orderly first (all at once), only on the first pass
                self._stop_sent = True
                self._stop_all(children)
            for child in children:  # what ignored its stop signal, and stragglers of each group
                try:
                    self.kill(child)
                except Exception as error:  # noqa: BLE001 - keep releasing the rest
                    self.errors.append(error)
            kill_snapshot(self._seen)  # orphans an orderly stop left (own sessions, stopped)
            self._sweep()
            shared_memory.remove_orphans(self._creators, since=self.owner.created_at - 1)
            shutil.rmtree(self.root, ignore_errors=True)
            if not self.leftovers():
                self.released = True
                with _OPEN_LOCK:
                    _OPEN.discard(self)

    def _stop_all(self, children: list[Child]) -> None:
        for child in children:
            self._signal_leader(child)
        deadline = time.monotonic() + self.grace_seconds
        for child in children:
            try:
                child.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass

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

    def leftovers(self) -> list[str]:
        """What of this lab still exists: checked on the system, not assumed."""
        found = []
        running = [child.name for child in self.children if child.alive()]
        if running:
            found.append(f"running children: {', '.join(running)}")
        pids = {pid for child in self.children for pid in group_members(child.pgid)}
        pids |= {
            pid
            for pid, started in self._seen.items()
            if started is not None and _start_time(pid) == started
        }
        pids |= set(processes_in(self.root))
        pids.discard(os.getpid())
        if pids:
            found.append(f"processes {sorted(pids)}")
        segments = shared_memory.created_by(self._creators, since=self.owner.created_at - 1)
        if segments:
            found.append(f"shared memory segments {[s.shmid for s in segments]}")
        if self.root.exists():
            found.append(f"folder {self.root}")
        return found

    def __enter__(self) -> Supervisor:
        self._signals = interrupts.handled(interrupts.default_signals())
        self._signals.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.close()
        finally:
            if self._signals is not None:
                self._signals.__exit__(None, None, None)
                self._signals = None


@contextlib.contextmanager
def supervised(prefix: str = "dr-drill-") -> Iterator[Supervisor]:
    with Supervisor(prefix) as supervisor:
        yield supervisor
