"""The failover drills' parts, one by one: DNS stub, adapter, knobs, results."""

from __future__ import annotations

import copy
import json
import socket
import struct
import threading
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from compliance.drills import client, engines, function_host, knobs, results, timeline
from compliance.drills.alarm import Change, alarm_event
from compliance.drills.client import (
    CachingResolver,
    DnsAnswer,
    DnsError,
    Write,
    build_query,
    lost_window,
    parse_response,
)
from compliance.drills.dns_lab import failover_record_lua, zone_text
from compliance.drills.health_check import probe
from compliance.drills.processes import reserve_port
from compliance.errors import InputError
from compliance.model import Model, load_model
from compliance.settings import load_settings

# --- DNS stub ------------------------------------------------------------------------


def _answer_packet(qid: int, name: str, records: list[tuple[int, int, bytes]], rcode: int = 0):
    """A response with the question and ``(type, ttl, rdata)`` answers named by pointer."""
    _, question = build_query(name, qid=qid)
    header = struct.pack("!HHHHHH", qid, 0x8400 | rcode, 1, len(records), 0, 0)
    body = question[12:]
    for rtype, ttl, rdata in records:
        body += b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata
    return header + body


def test_query_encoding_is_rfc1035() -> None:
    qid, packet = build_query("api.dr.example.com", qid=0x1234)
    assert qid == 0x1234
    assert packet[:12] == struct.pack("!HHHHHH", 0x1234, 0, 1, 0, 0, 0)
    assert packet[12:] == b"\x03api\x02dr\x07example\x03com\x00\x00\x01\x00\x01"
    with pytest.raises(DnsError, match="bad label"):
        client.encode_name("a" * 64 + ".example.com")


def test_parse_a_cname_compression_and_smallest_ttl() -> None:
    cname_rdata = b"\x05other\xc0\x10"  # "other" + pointer to "dr.example.com"
    packet = _answer_packet(
        7,
        "api.dr.example.com",
        [
            (client.TYPE_CNAME, 60, cname_rdata),
            (client.TYPE_A, 5, socket.inet_aton("127.0.0.11")),
            (client.TYPE_A, 9, socket.inet_aton("127.0.0.12")),
        ],
    )
    answer = parse_response(packet, 7)
    assert answer == DnsAnswer(0, ["127.0.0.11", "127.0.0.12"], 5, ["other.dr.example.com"])


@pytest.mark.parametrize(
    ("packet", "qid", "message"),
    [
        (b"\x00" * 5, 1, "short packet"),
        (_answer_packet(2, "a.b", []), 1, "mismatched"),
        (struct.pack("!HHHHHH", 1, 0, 0, 0, 0, 0), 1, "not a response"),
        (_answer_packet(1, "a.b", [(1, 5, b"\x7f\x00\x00\x01")])[:-3], 1, "truncated"),
        (struct.pack("!HHHHHH", 1, 0x8000, 1, 0, 0, 0) + b"\xc0\x0c", 1, "loop"),
    ],
)
def test_malformed_answers_are_errors(packet: bytes, qid: int, message: str) -> None:
    with pytest.raises(DnsError, match=message):
        parse_response(packet, qid)


class _OneShotDns(threading.Thread):
    """A UDP server answering each query with a fixed rcode and one A record."""

    def __init__(self, rcode: int = 0, silent: bool = False) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.rcode, self.silent = rcode, silent

    def run(self) -> None:
        data, peer = self.sock.recvfrom(512)
        if self.silent:
            return
        qid = struct.unpack("!H", data[:2])[0]
        self.sock.sendto(_answer_packet(qid ^ 1, "x.y", []), peer)  # a stray answer first
        rdata = socket.inet_aton("127.0.0.42") if self.rcode == 0 else b""
        records = [(client.TYPE_A, 3, rdata)] if rdata else []
        self.sock.sendto(_answer_packet(qid, "x.y", records, self.rcode), peer)


def test_query_over_udp_ignores_strays_and_reports_errors() -> None:
    server = _OneShotDns()
    server.start()
    assert client.query("127.0.0.1", server.port, "x.y").addresses == ["127.0.0.42"]
    failing = _OneShotDns(rcode=2)
    failing.start()
    with pytest.raises(DnsError, match="SERVFAIL"):
        client.query("127.0.0.1", failing.port, "x.y")
    silent = _OneShotDns(silent=True)
    silent.start()
    with pytest.raises(DnsError, match="no answer"):
        client.query("127.0.0.1", silent.port, "x.y", timeout=0.2)


def test_resolver_keeps_the_answer_for_its_ttl() -> None:
    now = [100.0]
    answers = iter([DnsAnswer(0, ["10.0.0.1"], 5), DnsAnswer(0, ["10.0.0.2"], 5)])
    resolver = CachingResolver(
        "127.0.0.1", 53, clock=lambda: now[0], lookup=lambda *a, **k: next(answers)
    )
    assert resolver.resolve("api") == "10.0.0.1"
    now[0] = 104.9
    assert resolver.resolve("api") == "10.0.0.1"  # still cached: the TTL has not run out
    now[0] = 105.0
    assert resolver.resolve("api") == "10.0.0.2"
    assert resolver.queries == 2
    empty = CachingResolver("127.0.0.1", 53, lookup=lambda *a, **k: DnsAnswer(0, [], 5))
    with pytest.raises(DnsError, match="no A record"):
        empty.resolve("api")


def test_loss_window_is_the_span_of_lost_acknowledged_writes() -> None:
    writes = [Write(seq, seq * 0.1, seq * 0.1 + 0.01, "a") for seq in range(1, 11)]
    assert lost_window(writes, {w.seq for w in writes}) == (0.0, [])
    window, lost = lost_window(writes, {1, 2, 3, 4, 5, 6})
    assert [w.seq for w in lost] == [7, 8, 9, 10]
    assert window == pytest.approx(1.01 - 0.61)  # from the last kept ack to the last lost ack
    everything, _ = lost_window(writes[:3], set())
    assert everything == pytest.approx(0.31 - 0.1)


def test_failover_record_keeps_route53_all_down_rule() -> None:
    lua = failover_record_lua("http://health.lab:8080/health", "127.0.0.11", "127.0.0.12")
    assert "ifurlup('http://health.lab:8080/health', {{'127.0.0.11'},{'127.0.0.12'}}" in lua
    assert "backupSelector='all'" in lua and "if #r > 1 then return '127.0.0.11' end" in lua
    assert '"' not in lua  # it lives inside a zone-file string
    zone = zone_text("dr.example.com", "api", 1, lua, "127.0.0.53")
    assert f'api 1 IN LUA A "{lua}"' in zone and "$TTL 1" in zone


# --- the Function URL adapter -------------------------------------------------------------


def test_function_url_event_is_payload_format_2() -> None:
    event = function_host.function_url_event(
        "POST",
        "/health?a=1&a=2&b=",
        {
            "Host": "x",
            "Cookie": "c1=1; c2=2",
            "X-Multi": "1",
            "x-multi": "2",
            "Content-Type": "application/octet-stream",
            "User-Agent": "probe",
        },
        b"\x00\x01",
        source_ip="127.0.0.9",
        url_id="abc",
        region="eu-west-1",
    )
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert (event["rawPath"], event["rawQueryString"]) == ("/health", "a=1&a=2&b=")
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert event["headers"]["x-multi"] == "1,2" and "cookie" not in event["headers"]
    http = event["requestContext"]["http"]
    assert http == {
        "method": "POST",
        "path": "/health",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.9",
        "userAgent": "probe",
    }
    assert event["requestContext"]["domainName"] == "abc.lambda-url.eu-west-1.on.aws"
    assert event["isBase64Encoded"] is True and event["body"] == "AAE="
    text = function_host.function_url_event(
        "GET",
        "/",
        {"content-type": "application/json"},
        b"{}",
        source_ip="1",
        url_id="u",
        region="r",
    )
    assert text["body"] == "{}" and text["isBase64Encoded"] is False
    assert "queryStringParameters" not in text and "cookies" not in text


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"statusCode": 503, "headers": {"X-A": "1"}, "body": "no"}, (503, {"x-a": "1"}, b"no")),
        ({"statusCode": 200, "body": "aGk=", "isBase64Encoded": True}, (200, {}, b"hi")),
        (
            {"statusCode": 201, "body": {"k": 1}, "cookies": ["s=1"]},
            (201, {"content-type": "application/json", "set-cookie": "s=1"}, b'{"k": 1}'),
        ),
        ({"plain": True}, (200, {"content-type": "application/json"}, b'{"plain": true}')),
    ],
)
def test_handler_results_become_http_responses(result: Any, expected: tuple) -> None:
    assert function_host.http_response(result) == expected


class _FakeConnection:
    def __init__(self, in_recovery: bool) -> None:
        self.row = (in_recovery,)

    def cursor(self) -> _FakeConnection:
        return self

    def execute(self, sql: str) -> None:
        assert sql == "SELECT pg_is_in_recovery()"

    def fetchone(self) -> tuple:
        return self.row

    def close(self) -> None:
        pass


def test_adapter_serves_the_real_health_handler(health_check_module: ModuleType) -> None:
    state = {"recovery": False}

    def handler(event: dict, context: Any) -> dict:
        assert context.get_remaining_time_in_millis() > 0
        if event["rawPath"] == "/boom":
            raise RuntimeError("handler crashed")
        return health_check_module.handler(
            event, context, connect=lambda: _FakeConnection(state["recovery"])
        )

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    server = function_host.FunctionUrlServer(
        sock, handler, function_name="hc", region="lab-1", timeout_seconds=5
    )
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
            assert response.status == 200
            assert json.loads(response.read())["status"] == "healthy"
        state["recovery"] = True
        assert probe(f"{base}/health", 5) == (False, "503")
        for path, method, status in (
            ("/health", "HEAD", 503),
            ("/nope", "GET", 404),
            ("/health", "POST", 405),
            ("/boom", "GET", 502),
        ):
            request = urllib.request.Request(f"{base}{path}", method=method, data=None)
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(request, timeout=5)
            assert error.value.code == status
    finally:
        server.shutdown()
        server.server_close()


# --- the alarm's event ------------------------------------------------------------------


def test_alarm_event_is_what_the_failover_handler_expects(
    failover_module: ModuleType, model: Model
) -> None:
    design = knobs.read_design(model, load_settings())
    assert design.health_alarm is not None
    change = Change(1.0, "OK", "ALARM", (0.0,))
    event = alarm_event(design.health_alarm, change, "us-east-1", "datapoints breached")
    message = failover_module.parse_message(event)
    settings = failover_module.Settings("g", "arn", design.health_alarm.name)
    assert failover_module.decide(message, settings).act
    assert message["Trigger"]["Period"] == design.health_alarm.period
    assert event["Records"][0]["EventSource"] == "aws:sns"
    assert probe("not a url", 1) == (False, "ValueError")


# --- knobs from the synthesized stacks ---------------------------------------------------


def test_knobs_come_from_the_synthesized_route53_resources(model: Model) -> None:
    design = knobs.read_design(model, load_settings())
    check = next(
        r
        for r in model.resources()
        if r.type == "aws_route53_health_check" and r.name.startswith("primary")
    )
    record = next(
        r
        for r in model.resources()
        if r.type == "aws_route53_record"
        and r.values["failover_routing_policy"]["type"] == "PRIMARY"
    )
    assert design.knobs.interval == check.values["request_interval"]
    assert design.knobs.threshold == check.values["failure_threshold"]
    assert design.knobs.ttl == record.values["ttl"]
    assert (
        design.knobs.promotion_allowance == load_settings().as_data()["promotion_allowance_seconds"]
    )
    assert design.record_name == record.values["name"]
    assert design.primary_region != design.secondary_region
    assert design.lag_alarm_threshold_ms > 0 and design.primary_alarm_name.endswith("-health")
    scaled = design.scaled(0.2)
    assert scaled.knobs.threshold == design.knobs.threshold
    assert scaled.knobs.interval == pytest.approx(design.knobs.interval * 0.2)  # not rounded
    assert scaled.knobs.ttl == max(1, round(design.knobs.ttl * 0.2))  # whole seconds on the wire
    assert scaled.rto_target == pytest.approx(design.rto_target * 0.2)
    assert scaled.lag_alarm_threshold_ms == pytest.approx(design.lag_alarm_threshold_ms * 0.2)
    assert scaled.health_alarm is not None and design.health_alarm is not None
    assert scaled.health_alarm.period == pytest.approx(design.health_alarm.period * 0.2)
    assert scaled.health_alarm.threshold == design.health_alarm.threshold  # a status, not time
    assert design.scaled(1.0) == design


def test_the_watchdog_schedule_and_its_function_come_from_the_stacks(model: Model) -> None:
    design = knobs.read_design(model, load_settings())
    rule = next(r for r in model.resources() if r.type == "aws_cloudwatch_event_rule")
    assert (
        design.schedule is not None
        and design.schedule.expression == rule.values["schedule_expression"]
    )
    assert design.schedule.rate == 60
    function = design.failover_function
    assert function is not None and function.asset is not None and function.problem is None
    variables = dict(function.variables)
    assert design.knobs.watchdog_interval == float(variables["PROBE_INTERVAL_SECONDS"][0])
    assert design.knobs.watchdog_threshold == int(variables["FAILURE_THRESHOLD"][0])
    url = variables["PRIMARY_HEALTH_URL"]  # a cross-stack reference, then literal text
    assert isinstance(url[0], knobs.LabValue) and url[0].kind == "function_url"
    assert url[0].region == design.primary_region and url[1] == "health"
    assert design.alarm_invokes_failover  # the backstop: alarm -> SNS -> the same function
    for region, health in design.health_functions.items():
        assert health.region == region and health.handler and health.asset is not None


def test_missing_failover_resources_are_named(tmp_path: Path, synth_dir: Path) -> None:
    document = json.loads((synth_dir / "stacks" / "global" / "cdk.tf.json").read_text())
    without = copy.deepcopy(document)
    without["resource"].pop("aws_route53_record")
    (tmp_path / "global.tf.json").write_text(json.dumps(without))
    with pytest.raises(InputError, match="PRIMARY failover record"):
        knobs.read_design(load_model(tmp_path / "global.tf.json"), load_settings())
    no_check = copy.deepcopy(document)
    for record in no_check["resource"]["aws_route53_record"].values():
        record.pop("health_check_id", None)
    (tmp_path / "global.tf.json").write_text(json.dumps(no_check))
    with pytest.raises(InputError, match="names no health check"):
        knobs.read_design(load_model(tmp_path / "global.tf.json"), load_settings())
    # the global stack alone: its health checks probe Function URLs of stacks it lacks
    (tmp_path / "global.tf.json").write_text(json.dumps(document))
    with pytest.raises(InputError, match="probes no Lambda Function URL"):
        knobs.read_design(load_model(tmp_path / "global.tf.json"), load_settings())


# --- timeline and results ------------------------------------------------------------------


def test_timeline_is_relative_to_the_failure() -> None:
    line = timeline.Timeline()
    line.mark("lag injected", at=8.0)
    line.mark(timeline.FAILURE_INJECTED, at=10.0)
    line.mark(timeline.FIRST_WRITE, at=15.25)
    assert line.to_list() == [
        {"event": "lag injected", "at_seconds": -2.0},
        {"event": "failure injected", "at_seconds": 0.0},
        {"event": "first write served", "at_seconds": 5.25},
    ]
    assert line.since_failure(timeline.FIRST_WRITE) == 5.25
    assert line.since_failure("never") is None


SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "drills_sample.json"


def sample_drill() -> dict[str, Any]:
    """The first drill of a real ``drills.json`` (kept as a fixture, also for the reports)."""
    return json.loads(SAMPLE.read_text(encoding="utf-8"))[0]


def test_schema_accepts_the_agreed_shape_and_rejects_others(tmp_path: Path) -> None:
    results.validate(sample_drill())
    broken = [
        ({k: v for k, v in sample_drill().items() if k != "timeline"}, "timeline"),
        ({**sample_drill(), "timeline": [{"name": "x", "at_seconds": 1}]}, "timeline/0"),
        ({**sample_drill(), "knobs": {"interval": 2}}, "knobs"),
        ({**sample_drill(), "id": "DR-ENC-01"}, "id"),
        ({**sample_drill(), "surprise": 1}, "(top)"),
    ]
    for drill, where in broken:
        with pytest.raises(
            results.InvalidDrill, match=where.replace("(", r"\(").replace(")", r"\)")
        ):
            results.validate(drill)
    path = results.write_drills(tmp_path / "reports" / "drills.json", [sample_drill()])
    assert results.read_drills(path) == [sample_drill()]
    assert not list(path.parent.glob(".*.tmp"))
    path.write_text("{}")
    with pytest.raises(results.InvalidDrill, match="list"):
        results.read_drills(path)
    with pytest.raises(results.InvalidDrill):
        results.write_drills(path, [{"id": "DR-DEP-01"}])


# --- engines and ports ---------------------------------------------------------------------


def test_missing_engines_name_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DR_PG_BIN", str(tmp_path))
    with pytest.raises(engines.EngineMissing, match=r"`postgresql` \(apt-get install postgresql\)"):
        engines.locate()
    monkeypatch.delenv("DR_PG_BIN")
    monkeypatch.setenv("DR_PDNS_SERVER", str(tmp_path / "pdns_server"))
    with pytest.raises(engines.EngineMissing, match="`pdns-server`, `pdns-backend-bind`"):
        engines.pdns_server()
    assert engines._version([str(tmp_path / "absent")], "x").startswith("unknown")


def test_ports_are_free_on_every_region_address() -> None:
    addresses = ["127.0.0.21", "127.0.0.22"]
    port = reserve_port(addresses)
    for address in addresses:
        with socket.socket() as sock:
            sock.bind((address, port))


def test_the_first_answer_may_be_kept_for_part_of_its_ttl() -> None:
    now = [0.0]
    answers = iter([DnsAnswer(0, ["10.0.0.1"], 4), DnsAnswer(0, ["10.0.0.2"], 4)])
    resolver = CachingResolver(
        "127.0.0.1", 53, clock=lambda: now[0], lookup=lambda *a, **k: next(answers), first_hold=0.25
    )
    assert resolver.resolve("api") == "10.0.0.1"
    now[0] = 0.99
    assert resolver.resolve("api") == "10.0.0.1"
    now[0] = 1.0  # a quarter of the TTL: the client's refreshes start out of step
    assert resolver.resolve("api") == "10.0.0.2"
    now[0] = 4.99  # later answers are kept for the whole TTL
    assert resolver.resolve("api") == "10.0.0.2" and resolver.queries == 2
