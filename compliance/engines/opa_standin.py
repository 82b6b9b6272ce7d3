"""A local stand-in for ``opa run --server``, backed by the real OPA library.

No OPA binary or server package installs on these machines (see the field
notes), yet the remote engine must be exercised over real HTTP. This module
serves, on 127.0.0.1 and an ephemeral port, the SUBSET of OPA's REST API that
``opa-python-client`` and ``RemoteOpaEngine`` use:

    GET    /health
    GET    /v1/policies                  {"result": [{"id", "raw"}]}  (no "ast")
    GET    /v1/policies/{id}
    PUT    /v1/policies/{id}             compiles every stored module, as OPA does
    DELETE /v1/policies/{id}             recompiles what is left
    GET    /v1/data[/{path}]             evaluates data.<path> without input
    POST   /v1/data[/{path}]             {"input": ...} -> {"result": ...}
    PUT    /v1/data[/{path}]             replaces the document at path
    PATCH  /v1/data[/{path}]             JSON Patch: add, remove, replace
    DELETE /v1/data/{path}
    POST   /v1/query                     {"query", "input"} -> {"result": [bindings]}

Query parameter ``provenance=true`` adds ``{"provenance": {"version": ...}}``.
Errors use OPA's body: ``{"code", "message", "errors": [{"code", "message",
"location": {"file", "row", "col"}}]}``; ``col`` is 0 when the library's
message has no caret line. Rego is parsed, compiled and evaluated by
``opa_bindings.OpaEngine`` (OPA's Go library), never re-implemented here.

Not served: bundles, authentication, /v1/compile, /v1/config, /v1/status,
metrics, explain, decision logs, and path-conflict checks between data and
rules.

``opa_server()`` prefers a real ``opa`` binary on PATH (it starts
``opa run --server --addr 127.0.0.1:<port>``) and falls back to this stand-in.
Run ``python -m compliance.engines.opa_standin`` to serve one by hand.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from compliance.engines.opa_local import _DISTRIBUTION, _OPA_RELEASE

_LOCATED = re.compile(r"(?P<file>[^\s:]+):(?P<row>\d+): (?P<code>[a-z_]+): (?P<message>[^\n]*)")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MSG_COMPILE = "error(s) occurred while compiling module(s)"
MSG_EVALUATION = "error(s) occurred while evaluating query"
MSG_PARSE_QUERY = "error(s) occurred while parsing query"


class _Refused(Exception):
    """An answer other than success: HTTP status and OPA's error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body


def opa_errors(message: str) -> list[dict[str, Any]]:
    """OPA's structured errors out of the library's text (``file:row: code: message``)."""
    lines = message.splitlines()
    errors = []
    for index, line in enumerate(lines):
        for match in _LOCATED.finditer(line):
            col = 0
            caret = lines[index + 2] if index + 2 < len(lines) else ""
            if caret.startswith("\t") and caret.strip() == "^":
                col = caret[1:].index("^") + 1
            errors.append(
                {
                    "code": match.group("code"),
                    "message": match.group("message").strip(),
                    "location": {
                        "file": match.group("file"),
                        "row": int(match.group("row")),
                        "col": col,
                    },
                }
            )
    return errors


def _refused(status: int, code: str, message: str, library_message: str = "") -> _Refused:
    body: dict[str, Any] = {"code": code, "message": message}
    errors = opa_errors(library_message)
    if errors:
        body["errors"] = errors
    elif library_message:
        body["message"] = f"{message}: {' '.join(library_message.split())}"
    return _Refused(status, body)


def _provenance() -> dict[str, Any]:
    try:
        bindings = f"{_DISTRIBUTION} {version(_DISTRIBUTION)}"
    except PackageNotFoundError:  # pragma: no cover - the stand-in needs the bindings
        bindings = _DISTRIBUTION
    return {
        "version": f"{_OPA_RELEASE} (stand-in for opa run --server; {bindings})",
        "build_commit": "",
        "build_timestamp": "",
        "build_hostname": "",
    }


class _Store:
    """Policies and data, and one compiled engine over them (rebuilt on change)."""

    def __init__(self) -> None:
        self.modules: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self._engine: Any = None
        self.lock = threading.RLock()

    @staticmethod
    def compile(modules: dict[str, str], data: dict[str, Any]) -> Any:
        """A fresh engine with everything compiled now, as OPA compiles on PUT."""
        from opa_bindings import OpaEngine
        from opa_bindings.engine import OpaError

        engine = OpaEngine()
        try:
            for policy_id, source in modules.items():
                engine.add_policy(policy_id, source)
            if data:
                engine.add_data(data)
            # The library compiles lazily; a trivial query makes it compile
            # every module, so type and safety errors surface at PUT time.
            engine.eval_query("true")
        except OpaError as error:
            engine.close()
            raise _refused(400, "invalid_parameter", MSG_COMPILE, error.message) from None
        return engine

    def engine(self) -> Any:
        if self._engine is None:
            self._engine = self.compile(self.modules, self.data)
        return self._engine

    def replace_engine(self, engine: Any) -> None:
        if self._engine is not None:
            self._engine.close()
        self._engine = engine

    def close(self) -> None:
        self.replace_engine(None)


class StandInOpaServer:
    """The stand-in on 127.0.0.1; ``eval_delay_seconds`` slows POST /v1/data (timeout tests)."""

    def __init__(self, *, port: int = 0, eval_delay_seconds: float = 0.0) -> None:
        self.eval_delay_seconds = eval_delay_seconds
        self.store = _Store()
        self._stopping = threading.Event()
        self.connections: set[socket.socket] = set()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_class(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandInOpaServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="opa-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes requests sleeping in eval_delay_seconds
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()
        for connection in list(self.connections):  # kept-alive clients see a closed server
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self.store.lock:
            self.store.close()

    def __enter__(self) -> StandInOpaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the API ------------------------------------------------------------

    def handle(self, method: str, target: str, body: bytes) -> tuple[int, Any]:
        """One request: (status, JSON body or None for 204)."""
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        path = parts.path
        if path == "/health" and method == "GET":
            return 200, {}
        if path == "/v1/policies" and method == "GET":
            return self._list_policies()
        if path.startswith("/v1/policies/"):
            return self._policy(method, unquote(path.removeprefix("/v1/policies/")), body)
        if path == "/v1/data" or path.startswith("/v1/data/"):
            segments = [unquote(s) for s in path.removeprefix("/v1/data").split("/") if s]
            return self._data(method, segments, body, query)
        if path == "/v1/query" and method == "POST":
            return self._query(body)
        known = path.startswith("/v1/") or path == "/health"
        if known:
            return 405, None
        raise _Refused(404, {"code": "resource_not_found", "message": f"no route {path}"})

    def _list_policies(self) -> tuple[int, Any]:
        with self.store.lock:
            listed = [{"id": pid, "raw": raw} for pid, raw in self.store.modules.items()]
        return 200, {"result": listed}

    def _policy(self, method: str, policy_id: str, body: bytes) -> tuple[int, Any]:
        with self.store.lock:
            modules = self.store.modules
            if method == "GET":
                if policy_id not in modules:
                    raise _not_found(f'policy id "{policy_id}"')
                return 200, {"result": {"id": policy_id, "raw": modules[policy_id]}}
            if method == "PUT":
                source = body.decode("utf-8")
                if modules.get(policy_id) == source:
                    return 200, {}
                candidate = {**modules, policy_id: source}
                self.store.replace_engine(self.store.compile(candidate, self.store.data))
                modules[policy_id] = source
                return 200, {}
            if method == "DELETE":
                if policy_id not in modules:
                    raise _not_found(f'policy id "{policy_id}"')
                rest = {pid: raw for pid, raw in modules.items() if pid != policy_id}
                try:
                    engine = self.store.compile(rest, self.store.data)
                except _Refused as refused:
                    refused.body["code"] = "invalid_operation"
                    raise
                self.store.replace_engine(engine)
                del modules[policy_id]
                return 200, {}
        return 405, None

    def _data(
        self, method: str, segments: list[str], body: bytes, query: dict[str, list[str]]
    ) -> tuple[int, Any]:
        if method in ("GET", "POST"):
            return self._read_data(method, segments, body, query)
        with self.store.lock:
            data = copy.deepcopy(self.store.data)
            if method == "PUT":
                data = _put(data, segments, _json(body))
            elif method == "PATCH":
                data = _patch(data, segments, _json(body))
            elif method == "DELETE":
                data = _remove(data, segments)
            else:
                return 405, None
            if not isinstance(data, dict):
                raise _refused(400, "invalid_parameter", "the data root must be an object")
            self.store.data = data
            self.store.replace_engine(None)  # rebuilt, with the new data, at the next query
        return 204, None

    def _read_data(
        self, method: str, segments: list[str], body: bytes, query: dict[str, list[str]]
    ) -> tuple[int, Any]:
        from opa_bindings.engine import OpaError, OpaUndefinedError

        request = _json(body) if method == "POST" and body.strip() else {}
        if not isinstance(request, dict):
            raise _refused(400, "invalid_parameter", "body must be an object with 'input'")
        if method == "POST" and self.eval_delay_seconds:
            self._stopping.wait(self.eval_delay_seconds)
        answer: dict[str, Any] = {}
        if method == "POST" and "input" not in request:
            answer["warning"] = {
                "code": "api_usage_warning",
                "message": "'input' key missing from the request",
            }
        with self.store.lock:
            engine = self.store.engine()
            try:
                if all(_IDENTIFIER.match(s) for s in segments):
                    answer["result"] = engine.eval_document(
                        ".".join(segments), request.get("input")
                    )
                else:
                    ref = "data" + "".join(f"[{json.dumps(s)}]" for s in segments)
                    rows = engine.eval_query(f"__standin_value := {ref}", request.get("input"))
                    if rows:
                        answer["result"] = rows[0]["__standin_value"]
            except OpaUndefinedError:
                pass
            except OpaError as error:
                raise _refused(500, "internal_error", MSG_EVALUATION, error.message) from None
        if "true" in [value.lower() or "true" for value in query.get("provenance", [])]:
            answer["provenance"] = _provenance()
        return 200, answer

    def _query(self, body: bytes) -> tuple[int, Any]:
        from opa_bindings.engine import OpaError

        request = _json(body)
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            raise _refused(400, "invalid_parameter", "body must be an object with 'query'")
        with self.store.lock:
            engine = self.store.engine()
            try:
                rows = engine.eval_query(request["query"], request.get("input"))
            except OpaError as error:
                located = opa_errors(error.message)
                if located and all(e["code"].startswith("rego_") for e in located):
                    raise _refused(
                        400, "invalid_parameter", MSG_PARSE_QUERY, error.message
                    ) from None
                raise _refused(500, "internal_error", MSG_EVALUATION, error.message) from None
        # OPA drops wildcard bindings (``_``) from its answer.
        rows = [{k: v for k, v in row.items() if not k.startswith("$")} for row in rows]
        return 200, {"result": rows} if rows else {}


def _not_found(what: str) -> _Refused:
    return _Refused(
        404, {"code": "resource_not_found", "message": f"storage_not_found_error: {what}"}
    )


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _refused(400, "invalid_parameter", f"invalid JSON: {error}") from None


def _put(data: Any, segments: list[str], value: Any) -> Any:
    if not segments:
        return value
    node = data
    for segment in segments[:-1]:
        if not isinstance(node, dict):
            raise _refused(400, "invalid_parameter", f"bad path: {'/'.join(segments)}")
        node = node.setdefault(segment, {})
    if not isinstance(node, dict):
        raise _refused(400, "invalid_parameter", f"bad path: {'/'.join(segments)}")
    node[segments[-1]] = value
    return data


def _remove(data: Any, segments: list[str]) -> Any:
    if not segments:
        return {}
    node = data
    for segment in segments[:-1]:
        node = node.get(segment) if isinstance(node, dict) else None
    if not isinstance(node, dict) or segments[-1] not in node:
        raise _not_found(f"/{'/'.join(segments)}: document does not exist")
    del node[segments[-1]]
    return data


def _patch(data: Any, root: list[str], operations: Any) -> Any:
    if not isinstance(operations, list):
        raise _refused(400, "invalid_parameter", "a JSON Patch must be a list of operations")
    for operation in operations:
        if not isinstance(operation, dict):
            raise _refused(400, "invalid_parameter", "bad patch operation")
        op = operation.get("op")
        pointer = [unquote(s) for s in str(operation.get("path", "")).split("/") if s]
        path = root + [s.replace("~1", "/").replace("~0", "~") for s in pointer]
        if op in ("add", "replace"):
            data = _put(data, path, operation.get("value"))
        elif op == "remove":
            data = _remove(data, path)
        else:
            raise _refused(400, "invalid_parameter", f"bad patch operation: {op}")
    return data


def _handler_class(server: StandInOpaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as requests' session expects

        def setup(self) -> None:
            super().setup()
            server.connections.add(self.connection)

        def finish(self) -> None:
            server.connections.discard(self.connection)
            super().finish()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                status, answer = server.handle(self.command, self.path, body)
            except _Refused as refused:
                status, answer = refused.status, refused.body
            payload = b"" if answer is None else (json.dumps(answer) + "\n").encode("utf-8")
            try:
                self.send_response(status)
                if payload:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                self.close_connection = True

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a test run must not print a line per request."""

    return Handler


# -- a real binary when there is one, else the stand-in ---------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"opa exited with {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"opa did not become healthy at {url} within {seconds:g} s")


@contextmanager
def _real_opa(binary: str) -> Iterator[str]:  # pragma: no cover - no opa binary on these machines
    url = f"http://127.0.0.1:{_free_port()}"
    address = url.removeprefix("http://")
    process = subprocess.Popen(
        [binary, "run", "--server", "--addr", address, "--log-level", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(url, process, 15)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def opa_server(*, prefer_binary: bool = True) -> Iterator[str]:
    """An OPA server's URL: ``opa run --server`` if on PATH, else the stand-in."""
    binary = shutil.which("opa") if prefer_binary else None
    if binary:  # pragma: no cover - no opa binary on these machines
        with _real_opa(binary) as url:
            yield url
        return
    with StandInOpaServer() as server:
        yield server.url


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - interactive
    parser = argparse.ArgumentParser(description="serve the OPA stand-in on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8181)
    args = parser.parse_args(argv)
    with StandInOpaServer(port=args.port) as server:
        print(f"OPA stand-in at {server.url} (Ctrl-C stops it); export OPA_URL={server.url}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":  # pragma: no cover
    main()
