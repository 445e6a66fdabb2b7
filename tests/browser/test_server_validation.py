"""The server's own checks, seen in the browser with the browser's checks switched off."""

from __future__ import annotations

from pathlib import Path

from flask import render_template_string

from support.browser import (
    IMAGES_REFUSED,
    NOT_A_PNG,
    drop_files,
    error_messages,
    payload,
    png,
    responses,
    statuses,
    wait_settled,
)


def stored(app) -> dict[str, bytes]:
    folder = Path(app.instance_path) / "uploads"
    return {path.name: path.read_bytes() for path in folder.iterdir()} if folder.exists() else {}


def test_server_refusals_show_under_the_thumbnails(page, demo, demo_app):
    page.goto(demo.url + "/validation?browser_checks=off")
    drop_files(
        page,
        "avatar",
        [
            ("page.png", b"<!doctype html><script>alert(1)</script>"),  # HTML named .png
            ("script.png", b"#!/bin/sh\necho hi\n"),
            ("big.png", png(seed=1) + payload(2 * 1024 * 1024, 1)),
            ("x.png.html", b"<html></html>"),
            ("fine.png", png(seed=2)),
        ],
    )
    wait_settled(page, "avatar", 5)
    assert responses(page, "avatar")[:4] == [
        [415, NOT_A_PNG],  # an allowed name on other content
        [415, NOT_A_PNG],
        [413, "File is too big (2 MiB). Max filesize: 1 MiB."],
        [415, IMAGES_REFUSED],  # a name the zone does not take
    ]
    # the server's own messages, never Dropzone's "Failed to load the image" for the fake pictures
    assert error_messages(page, "avatar") == [
        NOT_A_PNG,
        NOT_A_PNG,
        "File is too big (2 MiB). Max filesize: 1 MiB.",
        IMAGES_REFUSED,
        "",
    ]
    assert statuses(page, "avatar") == ["error", "error", "error", "error", "success"]
    drop_files(
        page,
        "documents",
        [("table.csv", b"a,b\n"), ("fake.pdf", b"not a pdf"), ("notes.TXT", b"ok")],
    )
    wait_settled(page, "documents", 3)
    assert error_messages(page, "documents") == [
        "",
        "Its name says PDF, but its content is not.",
        "",
    ]
    assert stored(demo_app) == {"fine.png": png(seed=2), "table.csv": b"a,b\n", "notes.TXT": b"ok"}


def test_browser_checks_are_on_by_default(page, demo, demo_app):
    page.goto(demo.url + "/validation")
    requests = []
    page.on(
        "request", lambda request: requests.append(request) if request.method == "POST" else None
    )
    drop_files(page, "avatar", [("notes.txt", b"text")])
    wait_settled(page, "avatar", 1)
    assert error_messages(page, "avatar") == [IMAGES_REFUSED]
    assert requests == []  # refused by the browser, never sent


ORDER_PAGE = """<!doctype html><html><body>
{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}
{{ dropzone.config(upload_multiple=True, parallel_uploads=12) }}</body></html>"""


def test_twelve_files_in_one_request_arrive_complete_and_in_order(page, serve, make_app):
    app = make_app()
    dropzone = app.extensions["dropzone"]
    seen = []

    @app.route("/")
    def index():
        return render_template_string(ORDER_PAGE)

    @app.route("/upload", methods=["POST"])
    def upload():
        files = dropzone.files()
        seen.append([(file.name, file.filename) for file in files])
        return {"stored": [saved.stored_name for saved in dropzone.save()]}

    server = serve(app)
    files = [(f"f{index:02d}.bin", payload(1000 + index, index)) for index in range(12)]
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", files)
    wait_settled(page, "myDropzone", 12)
    assert statuses(page, "myDropzone") == ["success"] * 12
    assert seen == [[(f"file[{index}]", name) for index, (name, _) in enumerate(files)]]
    assert stored(app) == dict(files)


SVG = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(document.domain)</script></svg>"


def test_an_image_zone_takes_raster_images_only_on_both_sides(page, demo, demo_app):
    page.goto(demo.url + "/validation")
    accept = page.evaluate(
        "() => document.getElementById('avatar').dropzone.hiddenFileInput.accept"
    )
    assert "image/png" in accept and "image/*" not in accept and "svg" not in accept
    requests = []
    page.on(
        "request", lambda request: requests.append(request) if request.method == "POST" else None
    )
    drop_files(page, "avatar", [("logo.svg", SVG)])
    wait_settled(page, "avatar", 1)
    assert error_messages(page, "avatar") == [IMAGES_REFUSED] and requests == []
    # With the browser's checks off, the server refuses it too.
    page.goto(demo.url + "/validation?browser_checks=off")
    drop_files(page, "avatar", [("logo.svg", SVG), ("photo.png", png(seed=3))])
    wait_settled(page, "avatar", 2)
    assert responses(page, "avatar")[0] == [415, IMAGES_REFUSED]
    assert stored(demo_app) == {"photo.png": png(seed=3)}
