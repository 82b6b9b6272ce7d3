"""The health endpoint says 200 only for a reachable writer and never leaks secrets."""

from __future__ import annotations

import json
import logging
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SECRET = "s3cr3t-Hunter2-do-not-leak"
SECRET_HOST = "prod-writer.cluster-abc123.eu-west-1.rds.amazonaws.com"
ENV = {
    "DB_HOST": SECRET_HOST,
    "DB_PORT": "5432",
    "DB_NAME": "app",
    "DB_USER": "health_check",
    "DB_REGION": "eu-west-1",
}


def url_event(path: str = "/health", method: str = "GET") -> dict[str, Any]:
    """A minimal Function URL (payload 2.0) event."""
    return {"version": "2.0", "rawPath": path, "requestContext": {"http": {"method": method}}}


class FakeCursor:
    def __init__(self, row: Any, error: Exception | None) -> None:
        self.row, self.error, self.executed = row, error, []

    def execute(self, sql: str) -> None:
        self.executed.append(sql)
        if self.error:
            raise self.error

    def fetchone(self) -> Any:
        return self.row


class FakeConnection:
    def __init__(self, row: Any = (False,), error: Exception | None = None) -> None:
        self.cursor_ = FakeCursor(row, error)
        self.closed = False

    def cursor(self) -> FakeCursor:
        return self.cursor_

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("DB_AUTH", "DB_PASSWORD", "DB_TIMEOUT_SECONDS", "DB_SSL_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return dict(ENV)


def body(response: dict[str, Any]) -> dict[str, Any]:
    assert response["headers"] == {"content-type": "application/json"}
    return json.loads(response["body"])


def test_writer_is_healthy(health_check_module: ModuleType, aws_env: dict[str, str]) -> None:
    connection = FakeConnection(row=(False,))
    response = health_check_module.handler(url_event(), None, connect=lambda: connection)
    assert response["statusCode"] == 200
    assert body(response) == {"status": "healthy", "region": "eu-west-1", "role": "writer"}
    assert connection.cursor_.executed == ["SELECT pg_is_in_recovery()"]
    assert connection.closed


def test_standby_is_read_only(health_check_module: ModuleType, aws_env: dict[str, str]) -> None:
    connection = FakeConnection(row=(True,))
    response = health_check_module.handler(url_event(), None, connect=lambda: connection)
    assert response["statusCode"] == 503
    assert body(response) == {"status": "unhealthy", "region": "eu-west-1", "reason": "read-only"}
    assert connection.closed


@pytest.mark.parametrize(
    ("connection", "reason"),
    [
        (FakeConnection(error=TimeoutError("statement timeout")), "error"),
        (FakeConnection(row=None), "error"),
        (FakeConnection(row=("f",)), "error"),
    ],
)
def test_query_failures_are_unhealthy(
    health_check_module: ModuleType, connection: FakeConnection, reason: str
) -> None:
    verdict = health_check_module.check_writer(lambda: connection)
    assert verdict == health_check_module.Verdict(False, reason)
    assert connection.closed


def test_unreachable_leaks_nothing(
    health_check_module: ModuleType,
    aws_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("DB_PASSWORD", SECRET)

    def refuse() -> Any:
        raise ConnectionRefusedError(f"host={SECRET_HOST} password={SECRET}")

    with caplog.at_level(logging.INFO):
        response = health_check_module.handler(url_event(), None, connect=refuse)
    assert response["statusCode"] == 503
    assert body(response) == {
        "status": "unhealthy",
        "region": "eu-west-1",
        "reason": "unreachable",
    }
    for leaked in (SECRET, SECRET_HOST, "password", "ConnectionRefusedError"):
        assert leaked not in response["body"]
        assert leaked not in json.dumps(response)
    assert "ConnectionRefusedError" in caplog.text
    assert SECRET not in caplog.text and SECRET_HOST not in caplog.text


def test_default_connector_failure_leaks_nothing(
    health_check_module: ModuleType,
    aws_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """pg8000's own errors name host and port; none of it may reach the body or logs."""
    import pg8000

    monkeypatch.setenv("DB_AUTH", "password")
    monkeypatch.setenv("DB_PASSWORD", SECRET)

    def fail(**kwargs: Any) -> Any:
        raise pg8000.InterfaceError(f"Can't connect to {kwargs['host']} with {kwargs['password']}")

    monkeypatch.setattr(pg8000, "connect", fail)
    with caplog.at_level(logging.INFO):
        response = health_check_module.handler(url_event(), None)
    assert response["statusCode"] == 503
    assert body(response)["reason"] == "unreachable"
    assert SECRET not in response["body"] and SECRET_HOST not in response["body"]
    assert SECRET not in caplog.text and SECRET_HOST not in caplog.text
    assert "InterfaceError" in caplog.text


def test_missing_configuration_is_unhealthy(
    health_check_module: ModuleType, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DB_HOST")
    response = health_check_module.handler(url_event(), None)
    assert response["statusCode"] == 503
    assert body(response)["reason"] == "misconfigured"


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [("/", "GET", 404), ("/health/extra", "GET", 404), ("/health", "POST", 405)],
)
def test_routing(health_check_module: ModuleType, path: str, method: str, status: int) -> None:
    def must_not_connect() -> Any:
        raise AssertionError("routing errors must not touch the database")

    response = health_check_module.handler(url_event(path, method), None, connect=must_not_connect)
    assert response["statusCode"] == status


def test_head_has_status_but_no_body(
    health_check_module: ModuleType, aws_env: dict[str, str]
) -> None:
    response = health_check_module.handler(
        url_event(method="HEAD"), None, connect=lambda: FakeConnection()
    )
    assert (response["statusCode"], response["body"]) == (200, "")


def test_settings_from_env(health_check_module: ModuleType) -> None:
    settings = health_check_module.Settings.from_env(
        {**ENV, "DB_PORT": "6543", "DB_TIMEOUT_SECONDS": "1.5", "DB_PASSWORD": SECRET}
    )
    assert (settings.host, settings.port, settings.database) == (SECRET_HOST, 6543, "app")
    assert (settings.user, settings.region) == ("health_check", "eu-west-1")
    assert (settings.timeout_seconds, settings.auth) == (1.5, "iam")
    assert settings.password is None  # the password is ignored outside the lab mode
    lab_env = {**ENV, "DB_AUTH": "password", "DB_PASSWORD": SECRET}
    lab = health_check_module.Settings.from_env(lab_env)
    assert (lab.auth, lab.password, lab.timeout_seconds) == ("password", SECRET, 2.0)
    assert SECRET not in repr(lab)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"DB_HOST": ""}, "DB_HOST"),
        ({"DB_AUTH": "kerberos"}, "DB_AUTH"),
        ({"DB_PORT": "fivefour"}, "DB_PORT"),
        ({"DB_TIMEOUT_SECONDS": "0"}, "positive"),
    ],
)
def test_settings_reject_bad_env(
    health_check_module: ModuleType, override: dict[str, str], message: str
) -> None:
    with pytest.raises(health_check_module.ConfigError, match=message):
        health_check_module.Settings.from_env({**ENV, **override})


def test_iam_connector_uses_token_and_verified_tls(
    health_check_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pg8000
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    captured: dict[str, Any] = {}
    monkeypatch.setattr(pg8000, "connect", lambda **kwargs: captured.update(kwargs) or "conn")
    settings = health_check_module.Settings.from_env(ENV)
    with mock_aws():
        assert health_check_module.make_connector(settings)() == "conn"
    token = captured.pop("password")
    assert token.startswith(f"{SECRET_HOST}:5432/?")
    assert "Action=connect" in token and "DBUser=health_check" in token
    assert "X-Amz-Signature=" in token and "eu-west-1%2Frds-db" in token
    tls = captured.pop("ssl_context")
    assert isinstance(tls, ssl.SSLContext)
    assert tls.verify_mode == ssl.CERT_REQUIRED and tls.check_hostname
    assert captured == {
        "user": "health_check",
        "host": SECRET_HOST,
        "port": 5432,
        "database": "app",
        "timeout": 2.0,
        "startup_params": {"statement_timeout": "2000"},
    }


def test_password_connector_skips_iam(
    health_check_module: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pg8000

    def no_aws(region: str) -> Any:
        raise AssertionError("the lab mode must not call AWS")

    monkeypatch.setattr(health_check_module, "_rds_client", no_aws)
    captured: dict[str, Any] = {}
    monkeypatch.setattr(pg8000, "connect", lambda **kwargs: captured.update(kwargs))
    settings = health_check_module.Settings.from_env(
        {**ENV, "DB_AUTH": "password", "DB_PASSWORD": SECRET, "DB_TIMEOUT_SECONDS": "3"}
    )
    health_check_module.make_connector(settings)()
    assert captured["password"] == SECRET and captured["ssl_context"] is None
    assert captured["timeout"] == 3.0
    assert captured["startup_params"] == {"statement_timeout": "3000"}


def test_pure_parts_import_without_drivers() -> None:
    """The module must load and check with pg8000 and boto3 absent (lazy imports)."""
    handler = Path(__file__).resolve().parents[2] / "lambda" / "health_check" / "handler.py"
    script = textwrap.dedent(
        f"""
        import importlib.util, sys
        sys.modules["pg8000"] = None
        sys.modules["boto3"] = None
        spec = importlib.util.spec_from_file_location("hc", {str(handler)!r})
        module = importlib.util.module_from_spec(spec)
        sys.modules["hc"] = module
        spec.loader.exec_module(module)
        def refuse():
            raise OSError("refused")
        verdict = module.check_writer(refuse)
        print(module.respond(verdict, "r")["statusCode"])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "503"


def test_real_postgres_writer_then_down(
    health_check_module: ModuleType, start_postgres: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_postgres()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    response = health_check_module.handler(url_event(), None)
    assert response["statusCode"] == 200, response
    assert body(response) == {"status": "healthy", "region": "lab-1", "role": "writer"}
    server.stop()
    response = health_check_module.handler(url_event(), None)
    assert response["statusCode"] == 503
    assert body(response)["reason"] == "unreachable"


def test_real_postgres_standby_and_timeouts(
    health_check_module: ModuleType, start_postgres: Any
) -> None:
    server = start_postgres(standby=True)
    settings = health_check_module.Settings.from_env(server.env())
    connect = health_check_module.make_connector(settings)
    assert health_check_module.check_writer(connect) == health_check_module.Verdict(
        False, "read-only"
    )
    connection = connect()
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "2s"
    finally:
        connection.close()
