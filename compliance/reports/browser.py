"""Open a local HTML report in headless Chromium and record what the page does.

Chromium is the Debian package ``chromium`` driven by the PyPI package
``playwright`` through ``executable_path``: ``playwright install`` downloads a
browser from the internet, which cannot work on these machines. Every request
is recorded; anything that is not ``file:`` or ``data:`` counts as a network
request and is aborted, so a report that tries to fetch is caught without ever
reaching the network.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Error, Request, Route, WebSocketRoute

DEBIAN_PACKAGE = "chromium"
PYPI_PACKAGE = "playwright"
ENV_CHROMIUM = "DR_CHROMIUM"
LOCAL_SCHEMES = ("file:", "data:")
# Measured on these machines (FIELD_NOTES.md): no sandbox inside containers, no GPU, and no
# background fetches (updates, safe browsing) that would otherwise leave the machine.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
# A fixed viewport keeps screenshots comparable from run to run.
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOT_MS = 120_000


class BrowserUnavailable(RuntimeError):
    """Playwright or Chromium is missing; the message names what to install."""


@dataclass
class PageCheck:
    title: str
    requests: list[str]
    network_requests: list[str]
    console_errors: list[str]
    page_errors: list[str]
    screenshot: Path | None = None

    @property
    def problems(self) -> list[str]:
        """One line per console error, page error and network request."""
        return (
            [f"console error: {text}" for text in self.console_errors]
            + [f"page error: {text}" for text in self.page_errors]
            + [f"network request: {url}" for url in self.network_requests]
        )


def _executable(path: str | None) -> bool:
    return bool(path) and os.path.isfile(str(path)) and os.access(str(path), os.X_OK)


def find_chromium() -> str | None:
    """The Chromium binary: ``DR_CHROMIUM`` when set (even if wrong), else the usual places."""
    forced = os.environ.get(ENV_CHROMIUM)
    if forced:
        # An explicit choice that is broken must not silently fall back to another browser.
        return forced if _executable(forced) else None
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and _executable(candidate):
            return candidate
    return None


def _is_local(url: str) -> bool:
    return url.startswith(LOCAL_SCHEMES)


@dataclass
class _Recorder:
    """Collects the page's events as Playwright delivers them."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location or {}
        url = where.get("url")
        suffix = f" ({url}:{where.get('lineNumber', 0) + 1})" if url else ""
        self.console_errors.append(f"{message.text}{suffix}")

    def on_page_error(self, error: Error) -> None:
        # The message alone ("x is not defined") names the culprit; the stack is too long.
        name = error.name or "Error"
        self.page_errors.append(f"{name}: {error.message}")

    def on_websocket_route(self, socket: WebSocketRoute) -> None:
        # Never connected to a server: recording it is enough, then it is closed.
        self.requests.append(socket.url)
        socket.close(code=1008, reason="network blocked by the report check")


def _route(route: Route) -> None:
    if _is_local(route.request.url):
        route.continue_()
    else:
        route.abort("blockedbyclient")


def _load_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise BrowserUnavailable(
            f"the PyPI package `{PYPI_PACKAGE}` is not installed "
            f"(pip install {PYPI_PACKAGE}; its browser comes from the Debian package "
            f"`{DEBIAN_PACKAGE}`, never from `playwright install`)"
        ) from error
    return sync_playwright


def check_page(html: Path, screenshot: Path | None = None, timeout_s: float = 30) -> PageCheck:
    """Load ``html`` in headless Chromium; record requests and errors; screenshot it if asked."""
    sync_playwright = _load_playwright()
    chromium = find_chromium()
    if chromium is None:
        forced = os.environ.get(ENV_CHROMIUM)
        hint = f" ({ENV_CHROMIUM}={forced!r} is not an executable file)" if forced else ""
        raise BrowserUnavailable(
            f"no Chromium binary{hint}: install the Debian package `{DEBIAN_PACKAGE}` "
            f"(apt-get install {DEBIAN_PACKAGE}) or set {ENV_CHROMIUM}"
        )
    url = html.resolve().as_uri()
    timeout_ms = timeout_s * 1000
    recorder = _Recorder()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=LAUNCH_ARGS, timeout=timeout_ms
        )
        try:
            # Service workers could fetch outside the page's routes: keep them out.
            context = browser.new_context(viewport=VIEWPORT, service_workers="block")
            context.set_default_timeout(timeout_ms)
            context.route("**/*", _route)
            context.route_web_socket("**/*", recorder.on_websocket_route)
            page = context.new_page()
            page.on("request", recorder.on_request)
            page.on("console", recorder.on_console)
            page.on("pageerror", recorder.on_page_error)
            page.goto(url, wait_until="load")
            title = page.title()
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                # A full page of every requirement's evidence is tall: measured 15-25 s on
                # two shared cores for about 45,000 px, so it gets its own, longer limit.
                page.screenshot(
                    path=str(screenshot), full_page=True, timeout=max(timeout_ms, SCREENSHOT_MS)
                )
        finally:
            # Closing the browser ends every Chromium process it started, even on failure.
            browser.close()
    return PageCheck(
        title=title,
        requests=recorder.requests,
        network_requests=[r for r in recorder.requests if not _is_local(r)],
        console_errors=recorder.console_errors,
        page_errors=recorder.page_errors,
        screenshot=screenshot,
    )
