"""The drilled design, read from the synthesized stacks, and its time scaling.

Everything the lab runs with comes from the synthesized output or the
settings, never from this repository's code:

- the Route 53 failover record pair: the record name, the PRIMARY record's
  TTL, and each record's health check (``request_interval``,
  ``failure_threshold``, ``resource_path``);
- the Lambda functions behind the health checks (one per region, found
  through the health check's Function URL) and the failover function (the
  one an EventBridge schedule starts, or the one the primary health alarm's
  SNS topic invokes), with their assets, handlers and environments;
- the CloudWatch alarms: the primary health alarm (``HealthCheckStatus``) and
  the Aurora replication-lag alarm, with period, evaluation periods,
  datapoints to alarm, statistic, comparison and missing-data treatment;
- the settings: targets and the allowances AWS does not expose
  (``promotion_allowance_seconds``, ``alarm_action_allowance_seconds``,
  ``invocation_allowance_seconds``).

Scaling multiplies every duration (never a count such as a failure
threshold) so a CI run keeps the design's proportions. Only the DNS TTL is
rounded (a TTL is whole seconds on the wire), minimum 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from compliance.drills.budget import Budget
from compliance.errors import InputError
from compliance.model import Model, Resource
from compliance.model.expressions import parse_template, split_template
from compliance.model.loader import inside
from compliance.model.references import Resolver, key_of

_RATE = re.compile(r"^rate\(\s*([0-9]+)\s+([a-z]+)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400}
_UNIT_SECONDS["days"] = 86400
# CloudWatch: AWS namespaces publish at one-minute standard resolution (as DR-RTO-01 counts).
AWS_METRIC_INTERVAL = 60.0
# What a reference in a function's environment stands for in the lab, by target and attribute.
_LAB_VALUES = {
    ("aws_rds_cluster", "endpoint"): "database_address",
    ("aws_rds_cluster", "reader_endpoint"): "database_address",
    ("aws_rds_cluster", "port"): "database_port",
    ("aws_rds_cluster", "arn"): "cluster_arn",
    ("aws_rds_cluster", "id"): "cluster_id",
    ("aws_rds_cluster", "cluster_identifier"): "cluster_id",
    ("aws_rds_global_cluster", "id"): "global_cluster_id",
    ("aws_rds_global_cluster", "global_cluster_identifier"): "global_cluster_id",
    ("aws_rds_global_cluster", "arn"): "global_cluster_arn",
    ("aws_lambda_function_url", "function_url"): "function_url",
}


@dataclass(frozen=True)
class LabValue:
    """A part of a variable that the lab fills in: ``kind`` in ``region`` (None: global)."""

    kind: str
    region: str | None
    reference: str


@dataclass(frozen=True)
class Unresolved:
    """A part of a variable the lab cannot stand in for; the variable is left unset."""

    reference: str
    reason: str


Part = str | LabValue | Unresolved


@dataclass(frozen=True)
class Function:
    """One ``aws_lambda_function`` as synthesized: what the lab needs to run it."""

    subject: str  # "stack/address", for messages
    name: str
    region: str
    runtime: str
    handler: str
    asset: Path | None  # the synthesized zip, inside the stack's folder
    timeout: float
    variables: tuple[tuple[str, tuple[Part, ...]], ...] = ()
    problem: str | None = None  # why it cannot be run locally, if it cannot


@dataclass(frozen=True)
class HealthCheck:
    """A Route 53 health check (Route 53 defaults: 30 s, 3 failures)."""

    subject: str
    interval: float
    threshold: int
    path: str

    def scaled(self, factor: float) -> HealthCheck:
        return replace(self, interval=round(self.interval * factor, 3))


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch metric alarm, as its synthesized attributes say it evaluates."""

    name: str
    subject: str
    namespace: str
    metric: str
    statistic: str
    comparison: str
    threshold: float
    period: float
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str
    metric_interval: float  # one datapoint every this many seconds (scaled with the rest)

    @property
    def datapoint_seconds(self) -> float:
        """How long one datapoint spans: the period, never less than the metric's interval."""
        return max(self.period, self.metric_interval)

    def scaled(self, factor: float, *, duration_threshold: bool = False) -> Alarm:
        return replace(
            self,
            period=round(self.period * factor, 3),
            metric_interval=round(self.metric_interval * factor, 3),
            threshold=round(self.threshold * factor, 6) if duration_threshold else self.threshold,
        )


@dataclass(frozen=True)
class Schedule:
    """An EventBridge rule that starts the failover function on a rate."""

    subject: str
    expression: str
    rate: float
    arn: str


@dataclass(frozen=True)
class Knobs:
    """The timings a drill ran with, seconds (counts are counts), as recorded in drills.json."""

    interval: float  # PRIMARY record's health check
    threshold: int
    ttl: float
    promotion_allowance: float
    secondary_interval: float | None = None
    secondary_threshold: int | None = None
    schedule_rate: float | None = None
    watchdog_interval: float | None = None
    watchdog_threshold: int | None = None
    alarm_period: float | None = None
    alarm_evaluation_periods: int | None = None
    alarm_datapoints_to_alarm: int | None = None
    alarm_action_allowance: float | None = None
    invocation_allowance: float | None = None
    lag_alarm_threshold_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class Design:
    """What the drills need to know about the synthesized DR design (see the module doc)."""

    knobs: Knobs
    rto_target: float
    rpo_target: float
    lag_alarm: Alarm
    record_name: str
    primary_region: str
    secondary_region: str
    primary_check: HealthCheck
    secondary_check: HealthCheck
    global_cluster_id: str
    cluster_ids: dict[str, str]  # region -> cluster identifier
    health_functions: dict[str, Function]  # region -> the function behind its health check
    failover_function: Function | None
    schedule: Schedule | None
    health_alarm: Alarm | None
    alarm_invokes_failover: bool
    settings: dict[str, Any] = field(default_factory=dict)
    budget: Budget | None = None
    environment_overrides: dict[str, str] = field(default_factory=dict)
    rto_waiver: str | None = None  # the waivers accepting DR-RTO-01's budget over the target
    scale: float = 1.0

    # -- names other modules have always read ------------------------------------------

    @property
    def health_path(self) -> str:
        return self.primary_check.path

    @property
    def lag_alarm_threshold_ms(self) -> float:
        return self.lag_alarm.threshold

    @property
    def lag_alarm_name(self) -> str:
        return self.lag_alarm.name

    @property
    def primary_alarm_name(self) -> str:
        return self.health_alarm.name if self.health_alarm else "primary-health"

    @property
    def promotion_allowance(self) -> float:
        return self.knobs.promotion_allowance

    @property
    def alarm_action_allowance(self) -> float:
        return float(self.knobs.alarm_action_allowance or 0.0)

    def cluster_arn(self, region: str) -> str:
        return f"arn:aws:rds:{region}:000000000000:cluster:{self.cluster_ids[region]}"

    def with_budget(self, budget: Budget | None) -> Design:
        return replace(self, budget=budget)

    def scaled(self, factor: float) -> Design:
        """Every duration times ``factor``; the TTL in whole seconds (at least 1)."""
        if factor == 1:
            return self
        knobs = self.knobs

        def times(value: float | None) -> float | None:
            return None if value is None else round(value * factor, 3)

        return replace(
            self,
            knobs=replace(
                knobs,
                interval=round(knobs.interval * factor, 3),
                ttl=scaled_ttl(knobs.ttl, factor),
                promotion_allowance=round(knobs.promotion_allowance * factor, 3),
                secondary_interval=times(knobs.secondary_interval),
                schedule_rate=times(knobs.schedule_rate),
                watchdog_interval=times(knobs.watchdog_interval),
                alarm_period=times(knobs.alarm_period),
                alarm_action_allowance=times(knobs.alarm_action_allowance),
                invocation_allowance=times(knobs.invocation_allowance),
                lag_alarm_threshold_ms=times(knobs.lag_alarm_threshold_ms),
            ),
            rto_target=round(self.rto_target * factor, 3),
            rpo_target=round(self.rpo_target * factor, 3),
            lag_alarm=self.lag_alarm.scaled(factor, duration_threshold=True),
            primary_check=self.primary_check.scaled(factor),
            secondary_check=self.secondary_check.scaled(factor),
            schedule=replace(self.schedule, rate=round(self.schedule.rate * factor, 3))
            if self.schedule
            else None,
            health_alarm=self.health_alarm.scaled(factor) if self.health_alarm else None,
            budget=self.budget.scaled(factor, ttl=scaled_ttl(knobs.ttl, factor))
            if self.budget
            else None,
            scale=self.scale * factor,
        )


def scaled_ttl(ttl: float, factor: float) -> float:
    return float(max(1, round(ttl * factor))) if factor != 1 else ttl


# --- reading the model ---------------------------------------------------------------------


class _Reader:
    def __init__(self, model: Model) -> None:
        self.model = model
        self.resolver = Resolver(model)
        self.blocks = {key_of(r.stack, r.address): r for r in model.resources()}
        self.refs = {key: self.resolver.refs_of(block) for key, block in self.blocks.items()}

    def targets(self, block: Resource, *names: str) -> list[tuple[Resource, tuple[Any, ...]]]:
        """What ``block``'s attribute ``names`` (list positions ignored) refers to."""
        found = []
        for ref in self.refs[key_of(block.stack, block.address)]:
            path = tuple(part for part in ref.path if isinstance(part, str))
            if path == names and ref.target in self.blocks:
                found.append((self.blocks[ref.target], ref.attribute))
        return found

    def referrers(self, block: Resource, *names: str) -> list[Resource]:
        key = key_of(block.stack, block.address)
        return [
            self.blocks[source]
            for source, refs in self.refs.items()
            for ref in refs
            if ref.target == key and tuple(p for p in ref.path if isinstance(p, str)) == names
        ]

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.model.resources() if r.type == type_]


def _subject(block: Resource) -> str:
    return f"{block.stack}/{block.address}"


def _one(resources: list[Resource], what: str, source: Any) -> Resource:
    if not resources:
        raise InputError(source, f"the synthesized stacks have no {what}")
    return resources[0]


def _number(value: Any, default: float) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def _alarm(block: Resource) -> Alarm:
    values = block.values
    namespace = str(values.get("namespace", ""))
    period = _number(values.get("period"), 60.0)
    evaluation = int(_number(values.get("evaluation_periods"), 1))
    if namespace.startswith("AWS/") or period >= AWS_METRIC_INTERVAL:
        interval = AWS_METRIC_INTERVAL
    else:  # a custom high-resolution metric
        interval = period
    return Alarm(
        name=str(values.get("alarm_name", block.name)),
        subject=_subject(block),
        namespace=namespace,
        metric=str(values.get("metric_name", "")),
        statistic=str(values.get("statistic", "Average")),
        comparison=str(values.get("comparison_operator", "GreaterThanThreshold")),
        threshold=_number(values.get("threshold"), 0.0),
        period=period,
        evaluation_periods=evaluation,
        datapoints_to_alarm=int(_number(values.get("datapoints_to_alarm"), evaluation)),
        treat_missing_data=str(values.get("treat_missing_data", "missing")),
        metric_interval=interval,
    )


def _health_check(block: Resource) -> HealthCheck:
    values = block.values
    return HealthCheck(
        subject=_subject(block),
        interval=_number(values.get("request_interval"), 30.0),
        threshold=int(_number(values.get("failure_threshold"), 3)),
        path=str(values.get("resource_path") or "/"),
    )


def _rate(expression: str) -> float:
    match = _RATE.match(expression)
    if match and match[2] in _UNIT_SECONDS:
        return float(match[1]) * _UNIT_SECONDS[match[2]]
    return 60.0  # a cron expression: at most once a minute, as DR-RTO-01 counts it


def _variables(reader: _Reader, block: Resource) -> tuple[tuple[str, tuple[Part, ...]], ...]:
    """Each environment variable as literal text and the lab values its references stand for."""
    environment = block.values.get("environment") or {}
    if isinstance(environment, list):
        environment = environment[0] if environment else {}
    variables = environment.get("variables") if isinstance(environment, dict) else None
    out = []
    for name, value in sorted((variables or {}).items()):
        text = value if isinstance(value, str) else str(value)
        parts: list[Part] = []
        for chunk, is_expression in split_template(text):
            if not is_expression:
                parts.append(chunk)
                continue
            parts.append(_lab_value(reader, block, name, chunk))
        out.append((str(name), tuple(parts)))
    return tuple(out)


def _lab_value(reader: _Reader, block: Resource, name: str, expression: str) -> Part:
    source = key_of(block.stack, block.address)
    path = ("environment", "variables", name)
    refs = reader.resolver.refs_in(block.stack, source, path, parse_template(f"${{{expression}}}"))
    text = f"${{{expression}}}"
    if len(refs) != 1 or refs[0].target is None:
        reason = refs[0].reason if refs and refs[0].reason else "not a reference to one resource"
        return Unresolved(text, reason or "unresolvable")
    ref = refs[0]
    if ref.functions:
        return Unresolved(text, f"an expression ({', '.join(ref.functions)}) the lab cannot run")
    target = reader.blocks[ref.target]
    attribute = str(ref.attribute[0]) if ref.attribute else ""
    kind = _LAB_VALUES.get((target.type, attribute))
    if kind is None:
        return Unresolved(text, f"{target.type}.{attribute} has no stand-in in the lab")
    return LabValue(kind, None if kind.startswith("global") else target.region, text)


def _function(reader: _Reader, block: Resource) -> Function:
    values = block.values
    stack = reader.model.stack(block.stack)
    filename = values.get("filename")
    asset: Path | None = None
    problem = None
    if isinstance(filename, str) and "${" not in filename:
        try:
            asset = inside(stack.file.parent, filename, stack.file)
        except InputError as error:
            problem = str(error)
        else:
            if not asset.is_file():
                problem = f"its asset {filename} is not in the synthesized output"
                asset = None
    else:
        source = (
            "image_uri"
            if values.get("image_uri")
            else "s3_bucket"
            if values.get("s3_bucket")
            else None
        )
        problem = (
            f"its code is a container image or an S3 object ({source}), not a local asset"
            if source
            else "it names no local asset (filename)"
        )
    runtime = str(values.get("runtime", ""))
    if problem is None and not runtime.startswith("python3"):
        problem = (
            f"its runtime {runtime or '(none)'} is not Python; the lab runs Python functions only"
        )
    return Function(
        subject=_subject(block),
        name=str(values.get("function_name", block.name)),
        region=str(block.region),
        runtime=runtime,
        handler=str(values.get("handler", "")),
        asset=asset,
        timeout=_number(values.get("timeout"), 3.0),
        variables=_variables(reader, block),
        problem=problem,
    )


def _function_behind(reader: _Reader, check: Resource) -> Resource | None:
    """The Lambda function whose Function URL a Route 53 health check probes."""
    for target, _ in reader.targets(check, "fqdn"):
        if target.type == "aws_lambda_function_url":
            for function, _ in reader.targets(target, "function_name"):
                if function.type == "aws_lambda_function":
                    return function
    return None


def _refers_to_database(function: Resource, reader: _Reader) -> bool:
    """Whether the function's environment names an Aurora cluster (a failover function does)."""
    return any(
        reader.blocks[ref.target].type in ("aws_rds_cluster", "aws_rds_global_cluster")
        for ref in reader.refs[key_of(function.stack, function.address)]
        if ref.path[:2] == ("environment", "variables") and ref.target in reader.blocks
    )


def read_design(
    model: Model,
    settings: Any,
    *,
    budget: Budget | None = None,
    environment_overrides: dict[str, str] | None = None,
    rto_waiver: str | None = None,
) -> Design:
    """The design from the synthesized failover records, health checks, alarms and functions.

    ``settings``: the harness settings as a mapping, or the loaded settings
    object (its ``as_data()`` is that mapping). ``budget``: DR-RTO-01's
    per-stage budget for this output, when it was evaluated.
    """
    if hasattr(settings, "as_data"):
        settings = settings.as_data()
    reader = _Reader(model)
    records = reader.of_type("aws_route53_record")

    def failover(kind: str) -> Resource:
        return _one(
            [
                r
                for r in records
                if (r.values.get("failover_routing_policy") or {}).get("type") == kind
            ],
            f"{kind} failover record",
            model.source,
        )

    primary_record, secondary_record = failover("PRIMARY"), failover("SECONDARY")
    checks = {}
    for kind, record in (("PRIMARY", primary_record), ("SECONDARY", secondary_record)):
        found = [t for t, _ in reader.targets(record, "health_check_id")]
        if not found or found[0].type != "aws_route53_health_check":
            raise InputError(model.source, f"the {kind} failover record names no health check")
        checks[kind] = found[0]
    alarms = reader.of_type("aws_cloudwatch_metric_alarm")
    health_alarms = [
        a
        for a in alarms
        if a.values.get("metric_name") == "HealthCheckStatus"
        and checks["PRIMARY"] in [t for t, _ in reader.targets(a, "dimensions", "HealthCheckId")]
    ]
    global_clusters = reader.of_type("aws_rds_global_cluster")
    global_id = (
        str(global_clusters[0].values.get("global_cluster_identifier", "global"))
        if global_clusters
        else "global"
    )
    health_functions: dict[str, Function] = {}
    regions = []
    for kind in ("PRIMARY", "SECONDARY"):
        function = _function_behind(reader, checks[kind])
        if function is None:
            raise InputError(
                model.source,
                f"the {kind} record's health check probes no Lambda Function URL: the local "
                "lab can only run a health endpoint that is a Lambda function",
            )
        health_functions[str(function.region)] = _function(reader, function)
        regions.append(str(function.region))
    primary_region, secondary_region = regions
    lag_alarm = _one(
        [a for a in alarms if a.values.get("metric_name") == "AuroraGlobalDBReplicationLag"],
        "AuroraGlobalDBReplicationLag alarm",
        model.source,
    )
    if primary_region == secondary_region:
        raise InputError(model.source, "both failover records probe functions in one region")
    clusters = {
        str(c.region): str(c.values.get("cluster_identifier", c.name))
        for c in reader.of_type("aws_rds_cluster")
    }
    for region in (primary_region, secondary_region):
        clusters.setdefault(region, f"{global_id}-{region}")

    schedule, failover_block = None, None
    for rule in reader.of_type("aws_cloudwatch_event_rule"):
        expression = rule.values.get("schedule_expression")
        if not isinstance(expression, str) or "${" in expression:
            continue
        for target in reader.referrers(rule, "rule"):
            if target.type != "aws_cloudwatch_event_target":
                continue
            for function, _ in reader.targets(target, "arn"):
                if function.type == "aws_lambda_function" and _refers_to_database(function, reader):
                    name = str(rule.values.get("name", rule.name))
                    arn = f"arn:aws:events:{rule.region}:000000000000:rule/{name}"
                    schedule = Schedule(_subject(rule), expression, _rate(expression), arn)
                    failover_block = function
    alarm_invokes = False
    health_alarm = health_alarms[0] if health_alarms else None
    if health_alarm is not None:
        for action, _ in reader.targets(health_alarm, "alarm_actions"):
            candidates = [action] if action.type == "aws_lambda_function" else []
            if action.type == "aws_sns_topic":
                for subscription in reader.referrers(action, "topic_arn"):
                    if subscription.values.get("protocol") == "lambda":
                        candidates += [
                            f
                            for f, _ in reader.targets(subscription, "endpoint")
                            if f.type == "aws_lambda_function"
                        ]
            for function in candidates:
                if failover_block is None or function is failover_block:
                    failover_block, alarm_invokes = function, True
    failover_function = _function(reader, failover_block) if failover_block else None
    alarm = _alarm(health_alarm) if health_alarm is not None else None
    lag = _alarm(lag_alarm)
    watchdog_interval = watchdog_threshold = None
    if failover_function is not None and schedule is not None:
        raw = {
            name: "".join(p for p in parts if isinstance(p, str))
            for name, parts in failover_function.variables
        }
        interval_var = str(settings.get("watchdog_interval_variable", "PROBE_INTERVAL_SECONDS"))
        threshold_var = str(settings.get("watchdog_threshold_variable", "FAILURE_THRESHOLD"))
        try:
            watchdog_interval = float(raw[interval_var])
            watchdog_threshold = int(raw[threshold_var])
        except (KeyError, ValueError):
            watchdog_interval = watchdog_threshold = None
    primary, secondary = _health_check(checks["PRIMARY"]), _health_check(checks["SECONDARY"])
    knobs = Knobs(
        interval=primary.interval,
        threshold=primary.threshold,
        ttl=_number(primary_record.values.get("ttl"), 60.0),
        promotion_allowance=float(settings["promotion_allowance_seconds"]),
        secondary_interval=secondary.interval,
        secondary_threshold=secondary.threshold,
        schedule_rate=schedule.rate if schedule else None,
        watchdog_interval=watchdog_interval,
        watchdog_threshold=watchdog_threshold,
        alarm_period=alarm.period if alarm else None,
        alarm_evaluation_periods=alarm.evaluation_periods if alarm else None,
        alarm_datapoints_to_alarm=alarm.datapoints_to_alarm if alarm else None,
        alarm_action_allowance=float(settings.get("alarm_action_allowance_seconds", 60)),
        invocation_allowance=float(settings.get("invocation_allowance_seconds", 5)),
        lag_alarm_threshold_ms=lag.threshold,
    )
    return Design(
        knobs=knobs,
        rto_target=float(settings["rto_seconds"]),
        rpo_target=float(settings["rpo_seconds"]),
        lag_alarm=lag,
        record_name=str(primary_record.values.get("name")),
        primary_region=primary_region,
        secondary_region=secondary_region,
        primary_check=primary,
        secondary_check=secondary,
        global_cluster_id=global_id,
        cluster_ids={r: clusters[r] for r in (primary_region, secondary_region)},
        health_functions=health_functions,
        failover_function=failover_function,
        schedule=schedule,
        health_alarm=alarm,
        alarm_invokes_failover=alarm_invokes,
        settings=dict(settings),
        budget=budget,
        environment_overrides=dict(environment_overrides or {}),
        rto_waiver=rto_waiver,
    )
