"""Chromium (one per pytest process), pages that record errors and policy violations, and apps
served on 127.0.0.1 from a thread of the test process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from support.browser import CHROMIUM, CHROMIUM_ARGS
from support.servers import LiveServer

# Records Content-Security-Policy violations before any page script runs.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def serve() -> Iterator:
    servers: list[LiveServer] = []

    def start(app) -> LiveServer:
        servers.append(LiveServer(app))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def demo_app(tmp_path):
    from demo.app import create_app

    app = create_app({"SECRET_KEY": "browser tests"})
    app.instance_path = str(tmp_path / "instance")
    return app


@pytest.fixture
def demo(demo_app, serve):
    return serve(demo_app)


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.add_init_script(RECORD_VIOLATIONS)
    page.js_errors = []  # type: ignore[attr-defined]
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            page.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    yield page
    assert page.js_errors == [], "uncaught errors in the page"
    context.close()
