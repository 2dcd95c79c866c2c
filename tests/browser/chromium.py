# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Debian's Chromium, headless, driven over the DevTools protocol (CDP) with a small client on websocket-client.

The browser is started once per test session with the flags that work on a root, sandbox-less machine, a fresh
profile, every host name mapped to a local server (``--host-resolver-rules``) and certificate errors ignored (the
local servers make their certificates on the fly). Each check opens a page in a browser context of its own, so no
HTTP cache or CORS preflight cache carries over from one check to the next.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import websocket

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--ignore-certificate-errors",
)
# How long the browser may take to write its DevTools port at start-up; a start-up, not a timing limit of a test.
START_SECONDS = 120
# A check's page script never waits forever: a hung request answers "timeout" instead of hanging the suite.
CALL_SECONDS = 120


class BrowserError(RuntimeError):
    """Chromium did not start, or a DevTools call answered an error."""


@dataclass
class Browser:
    """A running Chromium and its browser-level DevTools websocket."""

    process: subprocess.Popen
    profile: Path
    socket: websocket.WebSocket
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    # Events that arrived while waiting for an answer, by session ID (None: the browser's own).
    events: dict = field(default_factory=dict)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one DevTools command (to a page when session is given) and return its result."""
        message_id = next(self.ids)
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + CALL_SECONDS
        while time.monotonic() < deadline:
            answer = json.loads(self.socket.recv())
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise BrowserError("%s: %s" % (method, answer["error"]))
                return answer.get("result") or {}
            if "method" in answer:
                self.events.setdefault(answer.get("sessionId"), []).append(answer)
        raise BrowserError("%s: no answer from Chromium" % method)

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:  # pylint: disable=broad-exception-caught
            pass
        try:
            self.socket.close()
        finally:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)


def start_browser(resolver_rules: list) -> Browser:
    """Start Chromium with a fresh profile and the given MAP rules; DevTools on a port Chromium picks itself."""
    profile = Path(tempfile.mkdtemp(prefix="segments-chromium-"))
    command = [
        CHROMIUM,
        *CHROMIUM_FLAGS,
        "--user-data-dir=%s" % profile,
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "--host-resolver-rules=%s" % ", ".join(resolver_rules),
        "about:blank",
    ]
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(profile / "chromium.log", "wb")
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_SECONDS
    while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log = (profile / "chromium.log").read_text(errors="replace")[-3000:]
            shutil.rmtree(profile, ignore_errors=True)
            raise BrowserError("Chromium did not start (%s):\n%s" % (" ".join(command), log))
        time.sleep(0.2)
    port, path = port_file.read_text().splitlines()[:2]
    socket = websocket.create_connection(
        "ws://127.0.0.1:%s%s" % (port, path), timeout=CALL_SECONDS, suppress_origin=True
    )
    return Browser(process=process, profile=profile, socket=socket)


class Page:
    """One tab in a browser context of its own, at an origin's page, with the Network domain recording requests."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.browser = browser
        self.context = browser.call("Target.createBrowserContext", {"disposeOnDetach": True})["browserContextId"]
        self.target = browser.call("Target.createTarget", {"url": "about:blank", "browserContextId": self.context})[
            "targetId"
        ]
        self.session = browser.call("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        self.call("Network.enable")
        self.call("Page.enable")
        navigation = self.call("Page.navigate", {"url": url})
        if navigation.get("errorText"):
            raise BrowserError("could not open %s: %s" % (url, navigation["errorText"]))
        loaded = "new Promise(done => document.readyState === 'complete' ? done(1) : addEventListener('load', done))"
        self.evaluate(loaded + ".then(() => 1)")
        origin = self.evaluate("location.origin")
        if origin + "/" != url and origin != url.rstrip("/"):
            raise BrowserError("the page opened at origin %s, not %s" % (origin, url))
        self.origin = origin

    def call(self, method: str, params: dict | None = None) -> dict:
        return self.browser.call(method, params, session=self.session)

    def evaluate(self, expression: str):
        """Run a script in the page, wait for its promise, and return its value (JSON-able values only)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError("script failed: %s" % json.dumps(result["exceptionDetails"])[:2000])
        return result["result"].get("value")

    def requests(self) -> list:
        """(method, url) of every request the page sent so far, preflights included, in order."""
        self.evaluate("1")  # flush: events that arrived before this answer are now recorded
        sent = []
        for event in self.browser.events.get(self.session, []):
            if event["method"] == "Network.requestWillBeSent":
                sent.append((event["params"]["request"]["method"], event["params"]["request"]["url"]))
        return sent

    def cors_errors(self) -> list:
        """The CORS errors (DevTools' corsErrorStatus.corsError, e.g. MissingAllowOriginHeader) of failed requests."""
        self.evaluate("1")
        return [
            event["params"]["corsErrorStatus"]["corsError"]
            for event in self.browser.events.get(self.session, [])
            if event["method"] == "Network.loadingFailed" and event["params"].get("corsErrorStatus")
        ]

    def close(self) -> None:
        try:
            self.browser.call("Target.closeTarget", {"targetId": self.target})
            self.browser.call("Target.disposeBrowserContext", {"browserContextId": self.context})
        except BrowserError:
            pass
        self.browser.events.pop(self.session, None)
