"""``make screenshots``: the pictures of a zone's states that the site and the README show, taken
from the demo in Chromium.

Serves the demo on loopback with a fresh instance folder, and saves ``docs/zone-empty.png``,
``docs/zone-uploading.png`` (a file in chunks, half of them kept waiting),
``docs/zone-done.png`` (stored and refused files side by side), ``docs/stored-files.png`` and
``docs/form-kept-files.png`` (a form sent without its title: its photos still there).
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from support.browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    drop_files,
    payload,
    png,
    wait_settled,
)

DOCS = ROOT / "docs"
EVIL = b"<!doctype html><html><script>alert(1)</script></html>"


def photo(seed: int) -> bytes:
    return png(96, 96, seed)


def zone_shot(page, name: str) -> None:
    page.locator("#avatar").screenshot(path=str(DOCS / name))


def form_kept_files(page, url: str) -> None:
    """A form field's form sent without its title: the error, and the photos kept pending."""
    page.goto(url + "/post")
    drop_files(page, "photos", [("beach.png", photo(3)), ("harbour.png", photo(4))])
    wait_settled(page, "photos", 2)
    with page.expect_navigation():
        page.click("#submit")
    wait_settled(page, "photos", 2)
    page.mouse.move(0, 0)
    page.locator("form").screenshot(path=str(DOCS / "form-kept-files.png"))


def main() -> None:
    from demo.app import create_app

    DOCS.mkdir(exist_ok=True)
    app = create_app({"SECRET_KEY": "screenshots"})
    app.instance_path = tempfile.mkdtemp()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 900, "height": 800})
            page.goto(url + "/validation?browser_checks=off")
            zone_shot(page, "zone-empty.png")
            # Uploading: a file in chunks whose last two chunks are kept waiting, half-way for real.
            page.goto(url + "/chunked")
            held = []

            def hold_late_chunks(route) -> None:
                body = route.request.post_data_buffer or b""
                late = any(b'name="dzchunkindex"\r\n\r\n%d\r\n' % index in body for index in (2, 3))
                held.append(route) if late else route.continue_()

            page.route("**/chunked", hold_late_chunks)
            drop_files(page, "myDropzone", [("holiday-video.mp4", payload(4 << 20, 1))])
            page.wait_for_function(
                "Number(document.querySelector('#myDropzone .dz-progress').getAttribute('aria-valuenow')) >= 50"
            )
            page.locator("#myDropzone").screenshot(path=str(DOCS / "zone-uploading.png"))
            for route in held:
                route.abort()
            page.unroute("**/chunked")
            page.goto(url + "/validation?browser_checks=off")
            drop_files(page, "avatar", [("holiday.png", photo(1))])
            drop_files(
                page, "avatar", [("page.png", EVIL), ("big.png", photo(2) + payload(2 << 20, 2))]
            )
            wait_settled(page, "avatar", 3)
            page.mouse.move(0, 0)
            zone_shot(page, "zone-done.png")
            page.goto(url + "/stored")
            page.locator("main").screenshot(path=str(DOCS / "stored-files.png"))
            form_kept_files(page, url)
            browser.close()
    finally:
        server.shutdown()
        thread.join(10)
    print("saved", ", ".join(sorted(path.name for path in DOCS.glob("*.png"))))


if __name__ == "__main__":
    main()
