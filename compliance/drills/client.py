"""The application client: resolves the service name (honouring the TTL) and writes.

Stands in for: the application's clients and their resolver. A tiny DNS
stub (stdlib ``socket`` + ``struct``, RFC 1035) asks the zone's server for
the failover record; the answer is kept for its TTL, as a caching resolver
does, so a client keeps writing to the old region until the TTL runs out.
The writer inserts sequenced, timestamped rows through whatever address the
name resolves to (the region's database on the shared service port) and
logs every acknowledged write: the log is what RPO is measured against.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compliance.drills.interrupts import route_to_main_thread

TYPE_A, TYPE_CNAME, TYPE_SOA = 1, 5, 6
CLASS_IN = 1
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


class DnsError(Exception):
    """No usable answer: timeout, malformed packet, or an error rcode."""


@dataclass(frozen=True)
class DnsAnswer:
    rcode: int
    addresses: list[str]
    ttl: int
    cnames: list[str] = field(default_factory=list)


def encode_name(name: str) -> bytes:
    labels = [label for label in name.rstrip(".").split(".") if label]
    out = b""
    for label in labels:
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise DnsError(f"bad label {label!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def build_query(name: str, qtype: int = TYPE_A, qid: int | None = None) -> tuple[int, bytes]:
    """A standard query without recursion desired (we ask the authoritative server)."""
    qid = random.randrange(65536) if qid is None else qid
    header = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    return qid, header + encode_name(name) + struct.pack("!HH", qtype, CLASS_IN)


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    """A possibly compressed name at ``offset``; returns it and the offset after it."""
    labels: list[str] = []
    end: int | None = None
    for _ in range(128):  # bounds pointer loops
        if offset >= len(data):
            raise DnsError("truncated name")
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(data):
                raise DnsError("truncated pointer")
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            continue
        if length == 0:
            return ".".join(labels), (end if end is not None else offset + 1)
        labels.append(data[offset + 1 : offset + 1 + length].decode("ascii", errors="replace"))
        offset += 1 + length
    raise DnsError("name compression loop")


def parse_response(data: bytes, qid: int) -> DnsAnswer:
    """A, CNAME records and the smallest TTL of the answer section."""
    if len(data) < 12:
        raise DnsError("short packet")
    rid, flags, qdcount, ancount, _, _ = struct.unpack("!HHHHHH", data[:12])
    if rid != qid:
        raise DnsError("mismatched query id")
    if not flags & 0x8000:
        raise DnsError("not a response")
    offset = 12
    for _ in range(qdcount):
        _, offset = _read_name(data, offset)
        offset += 4
    addresses: list[str] = []
    cnames: list[str] = []
    ttls: list[int] = []
    for _ in range(ancount):
        _, offset = _read_name(data, offset)
        if offset + 10 > len(data):
            raise DnsError("truncated record")
        rtype, _, ttl, rdlength = struct.unpack("!HHIH", data[offset : offset + 10])
        offset += 10
        rdata = data[offset : offset + rdlength]
        if len(rdata) != rdlength:
            raise DnsError("truncated rdata")
        if rtype == TYPE_A and rdlength == 4:
            addresses.append(socket.inet_ntoa(rdata))
            ttls.append(ttl)
        elif rtype == TYPE_CNAME:
            cnames.append(_read_name(data, offset)[0])
            ttls.append(ttl)
        offset += rdlength
    return DnsAnswer(flags & 0xF, addresses, min(ttls) if ttls else 0, cnames)


def query(
    server: str, port: int, name: str, qtype: int = TYPE_A, timeout: float = 1.0
) -> DnsAnswer:
    """One UDP query; raises ``DnsError`` on timeout or an error rcode."""
    qid, packet = build_query(name, qtype)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(packet, (server, port))
            while True:
                data, _ = sock.recvfrom(4096)
                try:
                    answer = parse_response(data, qid)
                    break
                except DnsError as error:
                    if "mismatched" not in str(error):
                        raise
        except TimeoutError:
            raise DnsError(f"no answer from {server}:{port} in {timeout} s") from None
        except OSError as error:
            raise DnsError(f"{server}:{port}: {error.strerror or error}") from None
    if answer.rcode != 0:
        raise DnsError(f"{name}: {RCODES.get(answer.rcode, answer.rcode)}")
    return answer


class CachingResolver:
    """Keeps an answer for its TTL, as the client's caching resolver would.

    ``first_hold`` (a fraction of the TTL) shortens the first answer's stay:
    a client that began caching at some earlier moment, so its refreshes are
    not in step with the DNS server's own timers (PowerDNS starts its health
    polls when it is first asked, just before the client starts).
    """

    def __init__(
        self,
        server: str,
        port: int,
        clock: Callable[[], float] = time.monotonic,
        lookup: Callable[..., DnsAnswer] = query,
        first_hold: float = 1.0,
    ) -> None:
        self.server, self.port, self.clock, self.lookup = server, port, clock, lookup
        self.first_hold = first_hold
        self._cached: tuple[str, float] | None = None
        self.queries = 0

    def resolve(self, name: str) -> str:
        now = self.clock()
        if self._cached is not None and now < self._cached[1]:
            return self._cached[0]
        self.queries += 1
        answer = self.lookup(self.server, self.port, name, timeout=1.0)
        if not answer.addresses:
            raise DnsError(f"{name}: no A record")
        hold = answer.ttl * (self.first_hold if self.queries == 1 else 1.0)
        self._cached = (answer.addresses[0], now + hold)
        return answer.addresses[0]


@dataclass(frozen=True)
class Write:
    """One acknowledged write: sequence number, when it was sent and acknowledged, where."""

    seq: int
    sent_at: float
    acked_at: float
    address: str


class SequencedWriter(threading.Thread):
    """Writes row ``seq`` every ``period`` seconds through the DNS name until stopped."""

    def __init__(
        self,
        resolver: CachingResolver,
        name: str,
        port: int,
        *,
        period: float = 0.01,
        timeout: float = 1.0,
        table: str = "drill_writes",
    ) -> None:
        super().__init__(name="sequenced-writer", daemon=True)
        self.resolver, self.fqdn, self.port = resolver, name, port
        self.period, self.timeout, self.table = period, timeout, table
        self.acked: list[Write] = []
        self.errors: list[tuple[float, str]] = []
        self.stop_event = threading.Event()
        self.paused = threading.Event()
        self._lock = threading.Lock()
        self._seq = 0
        self._connection: Any = None
        self._address: str | None = None

    def _connect(self, address: str) -> Any:
        import pg8000

        connection = pg8000.connect(
            user="postgres",
            host=address,
            port=self.port,
            database="postgres",
            timeout=self.timeout,
        )
        connection.autocommit = True
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # a dead server's connection may not close cleanly
                pass
        self._connection, self._address = None, None

    def write_once(self) -> Write | None:
        """Resolve, (re)connect if the answer changed, insert the next row."""
        self._seq += 1
        seq = self._seq
        sent = time.monotonic()
        try:
            address = self.resolver.resolve(self.fqdn)
            if address != self._address:
                self._drop()
                self._connection = self._connect(address)
                self._address = address
            cursor = self._connection.cursor()
            cursor.execute(
                f"INSERT INTO {self.table} (seq, written_at, via) VALUES (%s, now(), %s)",
                (seq, address),
            )
        except Exception as error:
            self._drop()
            with self._lock:
                self.errors.append((sent, type(error).__name__))
            return None
        write = Write(seq, sent, time.monotonic(), address)
        with self._lock:
            self.acked.append(write)
        return write

    def run(self) -> None:
        route_to_main_thread()
        while not self.stop_event.is_set():
            started = time.monotonic()
            if not self.paused.is_set():
                self.write_once()
            self.stop_event.wait(max(0.0, self.period - (time.monotonic() - started)))
        self._drop()

    def acked_after(self, moment: float, address: str | None = None) -> Write | None:
        """The first write sent at or after ``moment`` (and served by ``address``, if given)."""
        with self._lock:
            return next(
                (
                    w
                    for w in self.acked
                    if w.sent_at >= moment and (address is None or w.address == address)
                ),
                None,
            )

    def acked_before(self, moment: float) -> list[Write]:
        with self._lock:
            return [w for w in self.acked if w.acked_at <= moment]

    def stop(self) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=5)


def lost_window(acked: list[Write], surviving: set[int]) -> tuple[float, list[Write]]:
    """RPO: the span of acknowledged writes missing from the new primary.

    Measured from the last acknowledged write that survived before the first
    lost one to the last lost write's acknowledgement; 0 when nothing is lost.
    """
    lost = [write for write in acked if write.seq not in surviving]
    if not lost:
        return 0.0, []
    first = lost[0]
    kept = [w for w in acked if w.seq in surviving and w.acked_at <= first.sent_at]
    start = kept[-1].acked_at if kept else first.sent_at
    return max(0.0, lost[-1].acked_at - start), lost
