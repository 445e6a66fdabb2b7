"""Accessibility: axe-core on every demo page, in each state its zones go through (issue 12 §2).

Each (page, state) is its own test: the page is brought to the state the way a person would
(dropping files, pressing the page's buttons, submitting its form), waited for by the DOM
classes Dropzone sets (``dz-processing``, ``dz-success``, ``dz-error``), never by sleeping;
then axe-core runs on the whole page and the test fails on any violation of impact "serious"
or "critical", listing each with its nodes so it can be fixed.

States:

empty       the page just loaded, its zones set up;
narrow      the same, 320 CSS pixels wide (reflow: what scrolls must be reachable);
queued      a picture added to a zone that waits for a button or the form's submission;
uploading   a picture on its way: its upload request is held (``page.route``) until axe has
            run, so the preview stays ``dz-processing``; in a form whose files travel with the
            form's native submission, the page once submitted (see ``STOP_SUBMISSION``);
succeeded   a picture stored, its preview ``dz-success`` (or the page the demo goes on to);
refused     a file the browser or the server refuses, its preview ``dz-error`` with the message;

and a few of one page only (see ``SPECS``).

``AXE_REPORT=path`` appends what axe found, of any impact, to ``path``, one JSON a line: every
violation and every "incomplete" result (what axe could not decide, for a person to review).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from support.browser import drop_files, png

SERIOUS = ("serious", "critical")
AXE = Axe()
MAX_FILE_SIZE = 5 * 1024 * 1024  # DROPZONE_MAX_FILE_SIZE of the demo
PICTURE = ("picture.png", png(seed=12))
FAKE_PNG = ("fake.png", b"<html><script>alert(1)</script></html>")
UPLOADING = ".dz-preview.dz-processing:not(.dz-complete)"
NARROW = {"width": 320, "height": 640}  # WCAG 1.4.10 reflow: 320 CSS pixels wide

# A file made in the page (big files would be slow to pass through base64), dropped on a zone.
DROP_SIZED = """
([id, name, size, type]) => {
  const zone = document.getElementById(id);
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array(size)], name, { type }));
  for (const kind of ["dragenter", "dragover", "drop"]) {
    const event = new DragEvent(kind, { dataTransfer: transfer, bubbles: true, cancelable: true });
    zone.dispatchEvent(event);
  }
}
"""

# The end state of every animation and transition that ends (Dropzone's marks pass through
# in 3 s, its progress bar fades): axe then sees what a person sees once the page is still.
# The endless pulse of a queued file's progress bar is left as it is.
SETTLE = """
() => {
  for (const animation of document.getAnimations()) {
    const timing = animation.effect && animation.effect.getComputedTiming();
    if (timing && timing.endTime !== Infinity) animation.finish();
  }
}
"""

ZONES_READY = """
() => Array.from(document.querySelectorAll("[data-flask-dropzone]")).every(zone => zone.dropzone)
"""


# ---------------------------------------------------------------- what each page is


class Visit:
    """A page of the demo under test: the Playwright page, the app, and a held upload if any."""

    def __init__(self, page, app, url: str) -> None:
        self.page = page
        self.app = app
        self.url = url
        self.hold: Optional[Hold] = None


@dataclass(frozen=True)
class Spec:
    """One demo page: its zone under test, and how its files start and end."""

    path: str
    zone: str = ""  # the zone put through the states ("": the page has none)
    upload: str = ""  # the path (and query) the zone posts its files to
    start: Optional[str] = None  # the button that sends the queue; None: files go on drop
    in_form: bool = False  # the files travel with the form's native submission
    succeeded_at: Optional[str] = None  # the page the demo goes on to once files are stored
    # Puts a refused file in the page (a picture: once its thumbnail is drawn); returns its zone.
    refuse: Callable[[Visit, Spec], str] = lambda visit, spec: ""
    extra: tuple[str, ...] = ()  # states of this page only

    @property
    def states(self) -> tuple[str, ...]:
        if not self.zone:
            return ("empty", "narrow") + self.extra
        queued = ("queued",) if self.start else ()
        return ("empty", "narrow") + queued + ("uploading", "succeeded", "refused") + self.extra


def too_big(visit: Visit, spec: Spec) -> str:
    """A file over the demo's 5 MiB: the browser refuses it."""
    size = MAX_FILE_SIZE + 1
    visit.page.evaluate(DROP_SIZED, [spec.zone, "big.bin", size, "application/octet-stream"])
    return spec.zone


def not_a_picture(visit: Visit, spec: Spec) -> str:
    """A text file on a zone for pictures: the browser refuses it."""
    drop_files(visit.page, spec.zone, [("notes.txt", b"not a picture\n")])
    return spec.zone


def without_token(visit: Visit, spec: Spec) -> str:
    """A picture on the zone that sends no CSRF token: the server refuses it."""
    drop_files(visit.page, "without-token", [PICTURE])
    wait_thumbnail(visit.page, "without-token")
    return "without-token"


def not_a_document(visit: Visit, spec: Spec) -> str:
    """A picture on the documents zone: the browser refuses it."""
    drop_files(visit.page, "documents-zone", [PICTURE])
    wait_thumbnail(visit.page, "documents-zone")
    return "documents-zone"


def server_refuses(visit: Visit, spec: Spec) -> str:
    """With the browser's checks off, a text file on the picture zone: the server refuses it.

    (Not HTML named .png: Dropzone's own "Failed to load the image" for its thumbnail races the
    server's refusal for the same message element.)"""
    visit.page.goto(visit.url + spec.path + "?browser_checks=off")
    wait_ready(visit.page)
    drop_files(visit.page, spec.zone, [("notes.txt", b"not a picture\n")])
    return spec.zone


def server_fails(visit: Visit, spec: Spec) -> str:
    """The demo's switch to fail upload requests (DEMO_CHUNK_FAILURE_RATE): a 500 answer."""
    visit.app.config["DEMO_CHUNK_FAILURE_RATE"] = 1
    drop_files(visit.page, spec.zone, [PICTURE])
    wait_thumbnail(visit.page, spec.zone)
    return spec.zone


SPECS: dict[str, Spec] = {
    "basic": Spec("/basic", "myDropzone", "/basic", refuse=too_big),
    "parallel": Spec("/parallel", "myDropzone", "/parallel", refuse=too_big),
    "click_upload": Spec(
        "/click-upload", "photos", "/click-upload", start="#upload-photos", refuse=too_big
    ),
    "in_form": Spec(
        "/in-form",
        "album",
        "/in-form",
        start="#submit",
        in_form=True,
        succeeded_at="/album",
        refuse=not_a_picture,
        extra=("server-refused",),
    ),
    "new_post": Spec(
        "/post", "photos", "/dropzone/pending", refuse=not_a_picture, extra=("form-error",)
    ),
    "csrf_page": Spec("/csrf", "with-token", "/csrf", refuse=without_token),
    "strict_csp": Spec("/strict-csp", "myDropzone", "/strict-csp", refuse=too_big),
    "nonce_csp": Spec("/nonce-csp", "myDropzone", "/nonce-csp", refuse=too_big),
    "several": Spec("/several", "avatar-zone", "/several/avatar", refuse=not_a_document),
    "custom": Spec("/custom", "myDropzone", "/custom", start="#start", refuse=too_big),
    "redirect_page": Spec(
        "/redirect", "myDropzone", "/redirect", succeeded_at="/redirect/done", refuse=not_a_picture
    ),
    "validation": Spec("/validation", "avatar", "/validation?zone=avatar", refuse=server_refuses),
    "chunked": Spec("/chunked", "myDropzone", "/chunked", refuse=server_fails),
    "remove": Spec("/remove", "myDropzone", "/remove", refuse=too_big, extra=("existing",)),
    "stored": Spec("/stored", extra=("listed",)),
}

CASES = [
    pytest.param(name, state, id=f"{name}-{state}")
    for name, spec in SPECS.items()
    for state in spec.states
]


# ---------------------------------------------------------------- bringing a page to a state


def wait_ready(page) -> None:
    page.wait_for_function(ZONES_READY)


def in_zone(zone: str, selector: str) -> str:
    return f"#{zone} {selector}"


def wait_thumbnail(page, zone: str) -> None:
    thumbnail = '.dz-preview img[data-dz-thumbnail][src^="data:image/"]'
    page.wait_for_selector(in_zone(zone, thumbnail), state="attached")


def wait_queued(page, spec: Spec, thumbnail: bool = True) -> None:
    page.wait_for_function(
        "id => document.getElementById(id).dropzone.getQueuedFiles().length === 1", arg=spec.zone
    )
    if thumbnail:
        wait_thumbnail(page, spec.zone)


class Hold:
    """Holds the zone's upload requests until released (aborted, once axe ran)."""

    def __init__(self, page, spec: Spec) -> None:
        self.held: list[Any] = []
        wanted = urlsplit(spec.upload)

        def matches(url: str) -> bool:
            parts = urlsplit(url)
            return parts.path == wanted.path and (not wanted.query or parts.query == wanted.query)

        def handle(route) -> None:
            if route.request.method == "POST":
                self.held.append(route)
            else:
                route.fallback()

        self.matches = matches
        page.route(matches, handle)

    def is_upload(self, request) -> bool:
        return request.method == "POST" and self.matches(request.url)

    def release(self) -> None:
        for route in self.held:
            route.abort()
        self.held.clear()


# Stops the form's native submission once every submit listener of the page has run (this one
# is the window's, the last the event bubbles to): the document stays as a person sees it while
# the form is on its way. (The navigation cannot be held instead, by page.route: while it is
# pending, evaluating anything in the page, through Playwright or CDP, waits for it to end.)
STOP_SUBMISSION = """
() => window.addEventListener("submit", event => {
  event.preventDefault();
  window.__submitted = true;
}, { once: true })
"""


def store_before(visit: Visit, name: str) -> None:
    """A file the demo stored before the page is shown (in its upload folder)."""
    folder = Path(visit.app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"stored before\n")
    visit.page.reload()
    wait_ready(visit.page)


def add_picture(page, spec: Spec) -> None:
    if spec.in_form:
        page.fill("#title", "Holiday")
    drop_files(page, spec.zone, [PICTURE])
    if spec.start:
        wait_queued(page, spec)


def to_queued(visit: Visit, spec: Spec) -> None:
    add_picture(visit.page, spec)


def to_uploading(visit: Visit, spec: Spec) -> None:
    page = visit.page
    if spec.in_form:
        add_picture(page, spec)
        page.evaluate(STOP_SUBMISSION)
        page.click(str(spec.start))
        page.wait_for_function("window.__submitted === true")
        page.wait_for_selector("form input[data-dropzone-files]", state="attached")
        return
    hold = visit.hold = Hold(page, spec)
    with page.expect_request(hold.is_upload):
        add_picture(page, spec)
        if spec.start:
            page.click(spec.start)
    page.wait_for_selector(in_zone(spec.zone, UPLOADING))
    wait_thumbnail(page, spec.zone)


def to_succeeded(visit: Visit, spec: Spec) -> None:
    page = visit.page
    if spec.succeeded_at:  # the demo moves on to another page
        with page.expect_navigation(url=f"**{spec.succeeded_at}*"):
            add_picture(page, spec)
            if spec.start:
                page.click(spec.start)
        wait_ready(page)
        return
    add_picture(page, spec)
    if spec.start:
        page.click(spec.start)
    page.wait_for_selector(in_zone(spec.zone, ".dz-preview.dz-success.dz-complete"))
    wait_thumbnail(page, spec.zone)


def to_refused(visit: Visit, spec: Spec) -> None:
    zone = spec.refuse(visit, spec)
    visit.page.wait_for_selector(in_zone(zone, ".dz-preview.dz-error"))
    # Nothing on its way any more (a file the server refuses has its answer), and every refused
    # preview says why.
    visit.page.wait_for_function(
        """id => {
          const dz = document.getElementById(id).dropzone;
          return dz.getActiveFiles().length === 0
            && Array.from(dz.element.querySelectorAll(".dz-preview.dz-error"))
                 .every(preview => preview.querySelector("[data-dz-errormessage]").textContent);
        }""",
        arg=zone,
    )


def to_server_refused(visit: Visit, spec: Spec) -> None:
    """in_form: no title and HTML named .png; the view shows the form again with its messages."""
    page = visit.page
    drop_files(page, spec.zone, [FAKE_PNG])
    wait_queued(page, spec, thumbnail=False)
    with page.expect_navigation():
        page.click(str(spec.start))
    page.wait_for_selector("#files-error")
    page.wait_for_selector("#title-error")
    wait_ready(page)


def to_form_error(visit: Visit, spec: Spec) -> None:
    """new_post: a photo uploaded, the form sent without a title; it comes back with its error
    and the photo shown as uploaded."""
    page = visit.page
    drop_files(page, spec.zone, [PICTURE])
    page.wait_for_selector(in_zone(spec.zone, ".dz-preview.dz-success"))
    with page.expect_navigation():
        page.click("#submit")
    page.wait_for_selector("#title-error")
    wait_ready(page)
    page.wait_for_selector(in_zone(spec.zone, ".dz-preview.dz-success"))


def to_existing(visit: Visit, spec: Spec) -> None:
    """remove: a file stored earlier, shown as uploaded with its remove link."""
    store_before(visit, "earlier.txt")
    visit.page.wait_for_selector(in_zone(spec.zone, ".dz-preview.dz-success"))


def to_listed(visit: Visit, spec: Spec) -> None:
    """stored: the table lists a file."""
    store_before(visit, "listed.txt")
    visit.page.wait_for_selector("#stored td >> text=listed.txt")


STATES: dict[str, Callable[[Visit, Spec], None]] = {
    "queued": to_queued,
    "uploading": to_uploading,
    "succeeded": to_succeeded,
    "refused": to_refused,
    "server-refused": to_server_refused,
    "form-error": to_form_error,
    "existing": to_existing,
    "listed": to_listed,
}


def bring(visit: Visit, spec: Spec, state: str) -> None:
    if state == "narrow":
        visit.page.set_viewport_size(NARROW)
    visit.page.goto(visit.url + spec.path)
    wait_ready(visit.page)
    if state not in ("empty", "narrow"):
        STATES[state](visit, spec)


# ---------------------------------------------------------------- axe


def serious(results: dict) -> list[dict]:
    return [violation for violation in results["violations"] if violation["impact"] in SERIOUS]


def short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The file whose preview holds the element axe names, if any.
PREVIEW_OF = """
selector => {
  const element = document.querySelector(selector);
  const preview = element && element.closest(".dz-preview");
  const name = preview && preview.querySelector("[data-dz-name]");
  return name ? name.textContent : null;
}
"""


def describe(page, violations: list[dict], where: str) -> str:
    lines = [f"{len(violations)} serious or critical accessibility violation(s) on {where}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} [{violation['impact']}] {violation['help']}")
        lines.append(f"    {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = " >>> ".join(
                " ".join(part) if isinstance(part, list) else str(part) for part in node["target"]
            )
            preview = page.evaluate(PREVIEW_OF, target) if len(node["target"]) == 1 else None
            lines.append(f"    at {target}" + (f" (the preview of {preview})" if preview else ""))
            lines.append(f"       {short(node['html'])}")
            if node.get("failureSummary"):
                lines.append(f"       {short(node['failureSummary'], 240)}")
    return "\n".join(lines)


def record(results: dict, name: str, state: str, url: str) -> None:
    report = os.environ.get("AXE_REPORT")
    if not report:
        return
    with open(report, "a", encoding="utf-8") as out:
        for kind in ("violations", "incomplete"):  # incomplete: axe could not decide, to review
            for violation in results[kind]:
                for node in violation["nodes"]:
                    entry = {
                        "kind": kind,
                        "page": name,
                        "state": state,
                        "url": url,
                        "id": violation["id"],
                        "impact": node.get("impact") or violation["impact"],
                        "help": violation["help"],
                        "target": node["target"],
                        "html": node["html"],
                        "summary": node.get("failureSummary"),
                    }
                    out.write(json.dumps(entry) + "\n")


# ---------------------------------------------------------------- the tests


@pytest.fixture
def visit(page, demo_app, demo) -> Iterator[Visit]:
    visit = Visit(page, demo_app, demo.url)
    yield visit
    if visit.hold:
        visit.hold.release()


@pytest.mark.parametrize("name, state", CASES)
def test_no_serious_accessibility_violations(visit, name, state):
    spec = SPECS[name]
    bring(visit, spec, state)
    page = visit.page
    page.evaluate(SETTLE)
    results = AXE.run(page).response
    if visit.hold:  # what axe saw was an upload on its way
        assert visit.hold.held and page.locator(in_zone(spec.zone, UPLOADING)).count() == 1
    parts = urlsplit(page.url)
    where = f"{parts.path}{'?' + parts.query if parts.query else ''} ({name}, {state})"
    record(results, name, state, where)
    found = serious(results)
    assert not [violation["id"] for violation in found], describe(page, found, where)


def test_every_demo_page_is_covered(demo_app):
    from flask import url_for

    from demo.app import PAGES

    with demo_app.test_request_context():
        paths = {endpoint: url_for(endpoint) for endpoint, _ in PAGES}
    assert paths == {name: spec.path for name, spec in SPECS.items()}
