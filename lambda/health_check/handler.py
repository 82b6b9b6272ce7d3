"""Regional health endpoint for Route 53: healthy only where the writer is.

Route 53 fails DNS over when this returns non-200, so it must say 200 only
when this region's database accepts writes, answer fast (short timeouts) and
never echo configuration or driver errors to an unauthenticated caller.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

HEALTH_PATH = "/health"
ALLOWED_METHODS = frozenset({"GET", "HEAD"})
JSON_HEADERS = {"content-type": "application/json"}

Connect = Callable[[], Any]
"""Opens a DB-API connection; injected so tests and the local lab need no AWS."""


class ConfigError(ValueError):
    """The function's environment is incomplete or invalid."""


@dataclass(frozen=True)
class Settings:
    """Connection settings; ``password`` only exists for the local lab."""

    host: str
    user: str
    region: str
    port: int = 5432
    database: str = "postgres"
    timeout_seconds: float = 2.0
    auth: str = "iam"
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read ``DB_*`` variables; raise ConfigError naming what is wrong (never values)."""
        missing = [name for name in ("DB_HOST", "DB_USER", "DB_REGION") if not env.get(name)]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")
        auth = env.get("DB_AUTH", "iam")
        if auth not in ("iam", "password"):
            raise ConfigError("DB_AUTH must be 'iam' or 'password'")
        try:
            port = int(env.get("DB_PORT", "5432"))
            timeout = float(env.get("DB_TIMEOUT_SECONDS", "2"))
        except ValueError as exc:
            raise ConfigError("DB_PORT and DB_TIMEOUT_SECONDS must be numbers") from exc
        if timeout <= 0:
            raise ConfigError("DB_TIMEOUT_SECONDS must be positive")
        return cls(
            host=env["DB_HOST"],
            user=env["DB_USER"],
            region=env["DB_REGION"],
            port=port,
            database=env.get("DB_NAME") or "postgres",
            timeout_seconds=timeout,
            auth=auth,
            password=env.get("DB_PASSWORD") if auth == "password" else None,
            ca_file=env.get("DB_SSL_CA_FILE") or None,
        )


@dataclass(frozen=True)
class Verdict:
    """Outcome of one check; ``reason`` is a fixed category, safe to publish."""

    healthy: bool
    reason: str


def _rds_client(region: str) -> Any:
    """Create the RDS client; token signing is local, so no network call."""
    import boto3  # lazy: only the AWS path needs it

    return boto3.client("rds", region_name=region)


def make_connector(settings: Settings) -> Connect:
    """Build the default pg8000 connector for ``settings``.

    AWS uses IAM database auth: a short-lived token as the password, over TLS
    verified against the system trust store or ``DB_SSL_CA_FILE`` (the RDS CA
    bundle). ``DB_AUTH=password`` exists only for the local failover lab, a
    PostgreSQL stand-in for AWS, where TLS is not required.
    """

    def connect() -> Any:
        import pg8000  # lazy: pure parts and tests need no driver

        if settings.auth == "iam":
            password: str | None = _rds_client(settings.region).generate_db_auth_token(
                DBHostname=settings.host,
                Port=settings.port,
                DBUsername=settings.user,
                Region=settings.region,
            )
            tls: ssl.SSLContext | None = ssl.create_default_context(cafile=settings.ca_file)
        else:
            password, tls = settings.password, None
        return pg8000.connect(
            user=settings.user,
            host=settings.host,
            port=settings.port,
            database=settings.database,
            password=password,
            ssl_context=tls,
            timeout=settings.timeout_seconds,
            startup_params={"statement_timeout": str(int(settings.timeout_seconds * 1000))},
        )

    return connect


def check_writer(connect: Connect) -> Verdict:
    """Healthy only if a connection opens and ``pg_is_in_recovery()`` is false."""
    try:
        connection = connect()
    except Exception as exc:  # any failure means "not reachable"
        logger.warning(json.dumps({"check": "connect", "error": type(exc).__name__}))
        return Verdict(False, "unreachable")
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT pg_is_in_recovery()")
        row = cursor.fetchone()
    except Exception as exc:
        logger.warning(json.dumps({"check": "query", "error": type(exc).__name__}))
        return Verdict(False, "error")
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection may fail
            pass
    if not row or not isinstance(row[0], bool):
        return Verdict(False, "error")
    return Verdict(False, "read-only") if row[0] else Verdict(True, "writer")


def respond(verdict: Verdict, region: str, *, body: bool = True) -> dict[str, Any]:
    """Render a Function URL response: 200 for the writer, 503 otherwise."""
    if verdict.healthy:
        payload = {"status": "healthy", "region": region, "role": "writer"}
    else:
        payload = {"status": "unhealthy", "region": region, "reason": verdict.reason}
    return {
        "statusCode": 200 if verdict.healthy else 503,
        "headers": dict(JSON_HEADERS),
        "body": json.dumps(payload) if body else "",
    }


def _error(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": dict(JSON_HEADERS),
        "body": json.dumps({"error": message}),
    }


def handler(event: Mapping[str, Any], context: Any, *, connect: Connect | None = None) -> dict:
    """Lambda entry point (Function URL, payload 2.0); ``connect`` is for tests and the lab."""
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    if event.get("rawPath") != HEALTH_PATH:
        return _error(404, "not found")
    if method not in ALLOWED_METHODS:
        return _error(405, "method not allowed")
    region = os.environ.get("DB_REGION") or os.environ.get("AWS_REGION", "unknown")
    if connect is None:
        try:
            connect = make_connector(Settings.from_env(os.environ))
        except ConfigError as exc:
            logger.error(json.dumps({"check": "config", "error": str(exc)}))
            verdict = Verdict(False, "misconfigured")
            return respond(verdict, region, body=method == "GET")
    verdict = check_writer(connect)
    logger.info(json.dumps({"check": "writer", "reason": verdict.reason}))
    return respond(verdict, region, body=method == "GET")
