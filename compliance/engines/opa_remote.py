"""A remote OPA server (``opa run --server``) over its REST API, through ``opa-python-client``.

Chosen when ``OPA_URL`` is set (e.g. ``http://127.0.0.1:8181``). ``load`` uploads
each Rego module (``PUT /v1/policies/<module name>``) and each top-level data
document (``PUT /v1/data/settings``, ``/v1/data/facts``); ``evaluate`` posts the
input to ``/v1/data/<path>``; ``close`` deletes what ``load`` uploaded.

Every request must answer within ``OPA_TIMEOUT_SECONDS`` (default 30 s; the
client library's own default of 1.5 s is too short for a large input).
Failures become one-line ``InputError``s: Rego errors name ``file.rego:LINE``
exactly as the in-process engine does; transport errors name the URL.

The policy IDs are the module names, so OPA's error locations are the files.
A shared server holds one harness run at a time: the packages (``dr.*``) and
data paths (``data.settings``, ``data.facts``) are fixed by the policies.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from compliance.errors import InputError

if TYPE_CHECKING:
    import requests

_DISTRIBUTION = "opa-python-client"

TIMEOUT_VARIABLE = "OPA_TIMEOUT_SECONDS"
URL_VARIABLE = "OPA_URL"
DEFAULT_TIMEOUT_SECONDS = 30.0
_IMPORT = re.compile(r"^import\s+data\.([\w.]+)", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")
# Any path that no policy defines: GET on it evaluates nothing and returns
# only the provenance block (OPA's version), which is all version() needs.
_VERSION_PROBE = "dr_compliance_version_probe"


def timeout_from_environment() -> float:
    """Seconds each request may take: ``OPA_TIMEOUT_SECONDS``, else 30."""
    raw = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise InputError(TIMEOUT_VARIABLE, f"must be a positive number of seconds, got {raw!r}")
    return seconds


class RemoteOpaEngine:
    """Policies, data and queries sent to an OPA server; nothing evaluated in process."""

    name = "opa-remote"

    def __init__(self, url: str | None = None, *, timeout: float | None = None) -> None:
        try:
            from opa_client import OpaClient
        except ImportError as error:
            raise InputError(
                _DISTRIBUTION, f"not installed: pip install {_DISTRIBUTION}==3.0.0 ({error})"
            ) from None

        self.url = (url or os.environ.get(URL_VARIABLE, "")).strip().rstrip("/")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                URL_VARIABLE, f"expected http(s)://host[:port] of an OPA server, got {self.url!r}"
            )
        if parts.path not in ("", "/") or parts.query:
            # OpaClient builds every URL as scheme://host:port/v1/...: no prefix.
            raise InputError(URL_VARIABLE, f"a path or query is not supported: {self.url!r}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise InputError(URL_VARIABLE, f"bad port in {self.url!r}") from None
        self.timeout = timeout if timeout is not None else timeout_from_environment()
        # retries=0: a request gets exactly `timeout` seconds, once. The client
        # would otherwise retry PUT/GET/DELETE on a read timeout, so a slow
        # server would cost up to three times the configured timeout.
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # IPv6
        self._client = OpaClient(
            host=host,
            port=port,
            ssl=parts.scheme == "https",
            timeout=self.timeout,
            retries=0,
        )
        self._policies: list[str] = []
        self._data: list[str] = []
        self._version: str | None = None

    # -- PolicyEngine -------------------------------------------------------

    def version(self) -> str:
        if self._version is None:
            # OpaClient.get_data raises when the document is undefined and
            # drops the provenance block, so ask through its session.
            def probe() -> Any:
                response = self._client._session.get(
                    f"{self._client.root_url}/data/{_VERSION_PROBE}",
                    params={"provenance": "true"},
                    timeout=self.timeout,
                )
                response.raise_for_status()
                return response.json()

            self._remember_version(self._call("GET", probe, "provenance"))
        if self._version:
            return f"OPA {self._version} at {self.url}"
        return f"OPA server at {self.url}"

    def load(self, modules: dict[str, str], data: dict[str, Any]) -> None:
        for key, value in data.items():
            self._put_data(key, value)
        self._upload(modules)

    def evaluate(self, path: str, input_document: dict[str, Any]) -> Any:
        body = self._call(
            "POST",
            lambda: self._client.query_rule(
                input_document, path, query_params={"provenance": "true"}
            ),
            path,
        )
        self._remember_version(body)
        if "result" not in body:  # undefined document, as the local engine sees it
            return {}
        return body["result"]

    def close(self) -> None:
        """Delete the uploaded policies (dependents first), then the data."""
        failures: list[str] = []
        for policy_id in reversed(self._policies):
            try:
                self._call("DELETE", lambda p=policy_id: self._client.delete_policy(p), policy_id)
            except InputError as error:
                failures.append(str(error))
        for key in reversed(self._data):
            try:
                self._call("DELETE", lambda k=key: self._client.delete_data(k), key)
            except InputError as error:
                failures.append(str(error))
        self._policies, self._data = [], []
        self._client.close_connection()
        if failures:
            # close() runs in `finally`: raising would hide the run's own error.
            warnings.warn(
                f"could not clean up the OPA server: {failures[0]}", RuntimeWarning, stacklevel=2
            )

    # -- uploads ------------------------------------------------------------

    def _put_data(self, key: str, value: Any) -> None:
        def upload() -> None:
            if isinstance(value, dict):
                self._client.update_or_create_data(value, key)
                return
            # The client's PUT takes objects only; OPA itself takes any JSON value.
            response = self._client._session.put(
                f"{self._client.root_url}/data/{key}", json=value, timeout=self.timeout
            )
            response.raise_for_status()

        self._call("PUT", upload, f"data.{key}")
        self._data.append(key)

    def _upload(self, modules: dict[str, str]) -> None:
        """PUT each module; OPA compiles all stored modules on every PUT.

        A rule module that calls ``lib.finding`` does not compile before
        ``dr.lib`` is there, so imported packages go first (a topological
        order); anything else that fails is retried while some other module
        still gets in, and the first module that never compiles is reported.
        """
        pending = _upload_order(modules)
        while pending:
            failed: list[tuple[str, InputError]] = []
            for policy_id in pending:
                try:
                    self._call(
                        "PUT",
                        lambda p=policy_id: self._client.update_policy_from_string(
                            modules[p], p, rego_compat=False
                        ),
                        policy_id,
                    )
                except _CompileError as error:
                    failed.append((policy_id, error))
                    continue
                self._policies.append(policy_id)
            if len(failed) == len(pending):
                raise failed[0][1]
            pending = [policy_id for policy_id, _ in failed]

    # -- transport and errors -----------------------------------------------

    def _call(self, method: str, send: Callable[[], Any], subject: str) -> Any:
        """Run one client call; turn whatever goes wrong into a one-line InputError."""
        import requests
        from opa_client.errors import (
            DeleteDataError,
            DeletePolicyError,
            PolicyNotFoundError,
            RegoParseError,
        )

        try:
            return send()
        except requests.Timeout:
            raise InputError(
                self.url,
                f"OPA server did not answer {method} {subject} within {self.timeout:g} s "
                f"(set {TIMEOUT_VARIABLE} to allow more)",
            ) from None
        except requests.ConnectionError as error:
            raise InputError(self.url, f"cannot reach the OPA server: {_reason(error)}") from None
        except requests.HTTPError as error:
            raise _server_error(error.response, subject, self.url) from None
        except RegoParseError as error:  # PUT /v1/policies and PUT /v1/data report this way
            raise _located(
                {"code": error.expression, "message": error.message, "errors": error.errors},
                subject,
                self.url,
            ) from None
        except (DeletePolicyError, DeleteDataError, PolicyNotFoundError) as error:
            raise InputError(
                self.url, f"{method} {subject}: {error.expression}: {error.message}"
            ) from None
        except ValueError as error:  # a body that is not JSON: not an OPA server
            raise InputError(self.url, f"{method} {subject}: not an OPA answer ({error})") from None

    def _remember_version(self, body: Any) -> None:
        provenance = body.get("provenance") if isinstance(body, dict) else None
        if isinstance(provenance, dict) and provenance.get("version"):
            self._version = str(provenance["version"])


class _CompileError(InputError):
    """A module OPA refused to compile (may succeed once its imports are there)."""


def _server_error(response: requests.Response | None, subject: str, url: str) -> InputError:
    if response is None:
        return InputError(url, f"{subject}: no response")
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())[:200]
        return InputError(url, f"{subject}: HTTP {response.status_code} {text}")
    return _located(body if isinstance(body, dict) else {}, subject, url, response.status_code)


def _located(body: dict[str, Any], subject: str, url: str, status: int | None = None) -> InputError:
    """OPA's error body as ``file.rego:ROW`` plus ``code: message`` of its first error."""
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        location = error.get("location") or {}
        where = location.get("file") or subject
        if location.get("row"):
            where = f"{where}:{location['row']}"
        what = f"{error.get('code', 'error')}: {error.get('message', '')}"
        cls = _CompileError if str(error.get("code", "")).startswith("rego_") else InputError
        return cls(where, what)
    message = body.get("message") or "no error message"
    answer = f"HTTP {status}" if status else "refused"
    return InputError(url, f"{subject}: {answer}: {body.get('code', 'error')}: {message}")


def _reason(error: BaseException) -> str:
    """``Connection refused`` out of requests' nested urllib3 message."""
    match = _ERRNO.search(str(error))
    if match:
        return match.group(1).strip()
    text = " ".join(str(error).split())
    return text[:200] or type(error).__name__


def _upload_order(modules: dict[str, str]) -> list[str]:
    """Module IDs, each after the modules whose package it imports (then by ID).

    Import cycles, or references without an ``import``, are left to the
    retry loop of ``_upload``.
    """
    packages: dict[str, str] = {}
    for policy_id, source in modules.items():
        match = _PACKAGE.search(source)
        packages[policy_id] = match.group(1) if match else ""

    def provides(policy_id: str, name: str) -> bool:
        package = packages[policy_id]
        return bool(package) and (name == package or name.startswith(package + "."))

    needs = {
        policy_id: {
            other
            for name in _IMPORT.findall(source)
            for other in modules
            if other != policy_id and provides(other, name)
        }
        for policy_id, source in modules.items()
    }
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(modules):
        ready = sorted(p for p in modules if p not in placed and needs[p] <= placed)
        if not ready:  # a cycle: the rest in ID order
            ready = sorted(p for p in modules if p not in placed)
        for policy_id in ready:
            ordered.append(policy_id)
            placed.add(policy_id)
    return ordered
