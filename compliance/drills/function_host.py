"""HTTP to Lambda Function URL adapter: serves a deployed function's handler on loopback.

Stands in for: AWS Lambda behind a Function URL (auth type NONE), one per
region. Each HTTP request becomes a Function URL event, payload format 2.0,
and the handler's answer becomes the HTTP response by the Function URL
rules (a dict with ``statusCode`` is used as is; anything else is a 200 with
a JSON body). Run as its own process per region, so region loss can kill it:

    python -m compliance.drills.function_host --fd N --code DIR --handler handler.handler

``--code`` is the function's asset as the synthesized output ships it,
unpacked (``functions.extract``), and ``--handler`` its handler setting: the
folder goes first on ``sys.path``, as ``LAMBDA_TASK_ROOT`` does in Lambda.
The listening socket is inherited (``--fd``) from the harness, which bound
it on the region's 127.0.0.x address: no race for the port. The handler
reads its configuration from the environment, as in Lambda.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Handler = Callable[[Mapping[str, Any], Any], Any]
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def import_handler(code: Path, handler: str) -> Handler:
    """``module.function`` from the unpacked asset ``code`` (first on ``sys.path``)."""
    module_name, _, name = handler.rpartition(".")
    sys.path.insert(0, str(code))
    module = importlib.import_module(module_name)
    entry = getattr(module, name)
    if not callable(entry):
        raise TypeError(f"{handler} is not callable")
    return entry


class LambdaContext:
    """The attributes of Lambda's context object that handlers commonly read."""

    def __init__(self, function_name: str, timeout_seconds: float, region: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:000000000000:function:{function_name}"
        self.memory_limit_in_mb = 256
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "lab"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def function_url_event(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    source_ip: str,
    url_id: str,
    region: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The Lambda event a Function URL delivers for one request (payload format 2.0)."""
    now = now or datetime.now(UTC)
    split = urlsplit(target)
    lowered: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers.items():
        key = name.lower()
        if key == "cookie":
            cookies += [part.strip() for part in value.split(";") if part.strip()]
            continue
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    domain = f"{url_id}.lambda-url.{region}.on.aws"
    lowered.setdefault("host", domain)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": split.path or "/",
        "rawQueryString": split.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": domain,
            "domainPrefix": url_id,
            "http": {
                "method": method,
                "path": split.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if split.query:
        parameters: dict[str, str] = {}
        for key, value in parse_qsl(split.query, keep_blank_values=True):
            parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
        event["queryStringParameters"] = parameters
    if body:
        content_type = lowered.get("content-type", "")
        if content_type.startswith(_TEXT_TYPES):
            event["body"] = body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def http_response(result: Any) -> tuple[int, dict[str, str], bytes]:
    """Map a handler's return value to status, headers and body (Function URL rules)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, {"content-type": "application/json"}, json.dumps(result).encode()
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    body = result.get("body") or ""
    if isinstance(body, str):
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    else:
        raw = json.dumps(body).encode()
        headers.setdefault("content-type", "application/json")
    for cookie in result.get("cookies") or []:
        headers.setdefault("set-cookie", cookie)
    return int(result["statusCode"]), headers, raw


class FunctionUrlServer(ThreadingHTTPServer):
    """A threading HTTP server that invokes one Lambda handler per request."""

    daemon_threads = True

    def __init__(
        self,
        sock: socket.socket,
        handler: Handler,
        *,
        function_name: str,
        region: str,
        timeout_seconds: float,
    ) -> None:
        super().__init__(sock.getsockname()[:2], _RequestHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()[:2]
        self.handler = handler
        self.function_name = function_name
        self.region = region
        self.timeout_seconds = timeout_seconds
        self.url_id = uuid.uuid5(uuid.NAMESPACE_DNS, f"{function_name}.{region}").hex


class _RequestHandler(BaseHTTPRequestHandler):
    server: FunctionUrlServer
    protocol_version = "HTTP/1.1"

    def _invoke(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        event = function_url_event(
            self.command,
            self.path,
            dict(self.headers.items()),
            body,
            source_ip=self.client_address[0],
            url_id=self.server.url_id,
            region=self.server.region,
        )
        context = LambdaContext(
            self.server.function_name, self.server.timeout_seconds, self.server.region
        )
        try:
            status, headers, raw = http_response(self.server.handler(event, context))
        except Exception as error:  # Lambda answers 502 when the function raises
            print(json.dumps({"error": type(error).__name__}), file=sys.stderr, flush=True)
            status, headers, raw = 502, {"content-type": "application/json"}, b'{"Message":null}'
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(raw)))
        self.send_header("connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)
        self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _invoke

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fd", type=int, required=True, help="inherited listening socket")
    parser.add_argument("--code", type=Path, required=True, help="the unpacked asset")
    parser.add_argument("--handler", required=True, help="the handler setting, module.function")
    parser.add_argument("--function-name", default="health-check")
    parser.add_argument("--region", default="lab-1")
    parser.add_argument("--timeout", type=float, default=5.0, help="the function's timeout")
    args = parser.parse_args(argv)
    handler = import_handler(args.code, args.handler)
    sock = socket.socket(fileno=args.fd)
    server = FunctionUrlServer(
        sock,
        handler,
        function_name=args.function_name,
        region=args.region,
        timeout_seconds=args.timeout,
    )

    def _stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    print(f"serving {args.handler} of {args.code} on {server.server_address}", flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a child process
    sys.exit(main())
