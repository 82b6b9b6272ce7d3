"""PowerDNS authoritative server with a LUA failover record: the Route 53 stand-in.

Stands in for: the Route 53 hosted zone with the PRIMARY/SECONDARY failover
record pair. ``ifurlup`` fetches a status URL on each region's address every
``lua-health-checks-interval`` seconds (1, its minimum) and answers with the
first healthy region; the record's TTL is the synthesized ``ttl``, scaled.
What PowerDNS fetches is not the region's function but the status of the
region's Route 53 health check stand-in (``health_check.StatusServer``):
PowerDNS has no failure threshold (one failed check flips the answer), and
the health checks apply the synthesized ``failure_threshold`` both ways. With
every target down PowerDNS answers a random one; Route 53 answers the
primary. The record's Lua keeps Route 53's rule: ``selector='all'`` and
``backupSelector='all'`` make "all down" recognisable (every address comes
back), and the record then answers the primary.
"""

from __future__ import annotations

import re
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from compliance.drills.client import DnsError, query
from compliance.drills.processes import Child, ChildFailed, Supervisor, service_account

_DECLARING = re.compile(r"declaring (\S+) (UP|DOWN) for URL")


def failover_record_lua(health_url: str, primary: str, secondary: str) -> str:
    """Lua for the failover A record: first healthy of (primary, secondary), else primary."""
    match = "string.char(34)..'healthy'..string.char(34)"  # '"healthy"' without zone escapes
    return (
        f";local r = ifurlup('{health_url}', {{{{'{primary}'}},{{'{secondary}'}}}}, "
        f"{{stringmatch={match}, selector='all', backupSelector='all'}}) "
        f"if #r > 1 then return '{primary}' end return r"
    )


def zone_text(zone: str, record: str, ttl: int, lua: str, ns_address: str) -> str:
    """A bind zone file holding the failover record as a LUA A record."""
    return (
        f"$TTL {ttl}\n"
        f"@ IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 {ttl}\n"
        f"@ IN NS ns.{zone}.\n"
        f"ns IN A {ns_address}\n"
        f'{record} {ttl} IN LUA A "{lua}"\n'
    )


@dataclass
class PowerDns:
    """A running ``pdns_server`` answering for ``dr.example.com``."""

    address: str
    port: int
    fqdn: str
    child: Child
    log: Path
    primary: str
    secondary: str
    verdicts: dict[str, str] = field(default_factory=dict)

    def answer(self, timeout: float = 1.0) -> list[str]:
        return query(self.address, self.port, self.fqdn, timeout=timeout).addresses

    def check_verdicts(self) -> dict[str, str]:
        """The last UP/DOWN PowerDNS declared for each address (from its log)."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return {}
        for address, state in _DECLARING.findall(text):
            self.verdicts[address] = state
        return dict(self.verdicts)

    def warm_up(self, timeout: float = 30.0) -> None:
        """Wait until PowerDNS has checked both regions and answers the primary.

        The first query registers the health checks and is answered as if
        every target were down; only after a check round is the answer real.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = self.answer()
            except DnsError:
                answer = []
            verdicts = self.check_verdicts()
            if (
                answer == [self.primary]
                and verdicts.get(self.primary) == "UP"
                and self.secondary in verdicts
            ):
                return
            if not self.child.alive() or time.monotonic() > deadline:
                raise ChildFailed(
                    f"PowerDNS did not warm up (answer {answer}, checks {verdicts}): "
                    f"{self.child.log_tail()}"
                )
            time.sleep(0.05)


def start_powerdns(
    supervisor: Supervisor,
    server: Path,
    *,
    address: str,
    port: int,
    fqdn: str,
    ttl: int,
    interval: int,
    health_url: str,
    primary: str,
    secondary: str,
) -> PowerDns:
    """Run ``pdns_server`` (bind backend, LUA records) on ``address:port``."""
    record, zone = fqdn.rstrip(".").split(".", 1)
    account = service_account("pdns")  # when root: drop to the package's own user
    folder = supervisor.folder("pdns", account)
    sockets = supervisor.folder("pdns/sock", account)
    zone_file = folder / "zone"
    zone_file.write_text(
        zone_text(zone, record, ttl, failover_record_lua(health_url, primary, secondary), address),
        encoding="utf-8",
    )
    named = folder / "named.conf"
    named.write_text(f'zone "{zone}" {{ type master; file "{zone_file}"; }};\n', encoding="utf-8")
    (folder / "pdns.conf").write_text("", encoding="utf-8")
    argv = [
        str(server),
        f"--config-dir={folder}",
        f"--socket-dir={sockets}",
        f"--local-address={address}",
        f"--local-port={port}",
        "--launch=bind",
        f"--bind-config={named}",
        "--enable-lua-records=yes",
        f"--lua-health-checks-interval={max(1, int(interval))}",
        "--security-poll-suffix=",
        "--daemon=no",
        "--guardian=no",
        "--disable-syslog=yes",
        "--log-timestamp=no",
        "--loglevel=6",
        "--cache-ttl=0",
        "--negquery-cache-ttl=0",
        "--query-cache-ttl=0",
        "--zone-cache-refresh-interval=0",
        "--distributor-threads=1",
        "--receiver-threads=1",
    ]
    if account is not None:
        argv += [f"--setuid={account.pw_name}", f"--setgid={account.pw_gid}"]
    child = supervisor.spawn("pdns", argv, stop_signal=signal.SIGTERM)
    dns = PowerDns(address, port, fqdn.rstrip("."), child, child.log, primary, secondary)
    deadline = time.monotonic() + 20
    while True:
        try:
            query(address, port, zone, qtype=6, timeout=0.3)
            return dns
        except DnsError:
            if not child.alive() or time.monotonic() > deadline:
                raise ChildFailed(f"PowerDNS did not start: {child.log_tail()}") from None
            time.sleep(0.03)
