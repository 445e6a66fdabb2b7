"""A person's click on a stored file's remove link deletes it from the server; nothing else does."""

from __future__ import annotations

import os

import pytest

from support.browser import drop_files, statuses, wait_settled

PAGE = """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
{{ dropzone.create(action='upload') }}{{ dropzone.load_js() }}{{ dropzone.config() }}</body></html>"""


@pytest.fixture
def delete_app(page_app):
    return lambda **config: page_app(PAGE, {"DROPZONE_DELETE_ON_REMOVE": True, **config})


def on_disk(app) -> list[str]:
    folder = os.path.join(app.instance_path, "uploads")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def upload_two(page, server) -> None:
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("a.txt", b"first"), ("b.txt", b"second")])
    wait_settled(page, "myDropzone", 2)
    assert statuses(page, "myDropzone") == ["success", "success"]


def click_remove(page, index: int) -> None:
    """Click the remove link of the zone's file ``index``; return once the server deleted it."""
    page.evaluate(
        """i => new Promise(resolve => {
             const zone = document.getElementById('myDropzone');
             zone.addEventListener('dropzone:deleted', () => resolve(), { once: true });
             zone.querySelectorAll('[data-dz-remove]')[i].click();
           })""",
        index,
    )


def test_the_remove_link_deletes_the_stored_file(page, serve, delete_app):
    app = delete_app()
    server = serve(app)
    upload_two(page, server)
    assert on_disk(app) == ["a.txt", "b.txt"]
    click_remove(page, 0)
    assert on_disk(app) == ["b.txt"]
    assert page.locator(".dz-preview").count() == 1


def test_what_the_zone_knows_of_a_file_is_not_put_on_dropzones_file(page, serve, delete_app):
    """A file's delete token, and that its person removed it, are kept beside Dropzone's file
    object, which the app's own scripts and listeners see as Dropzone made it."""
    app = delete_app()
    server = serve(app)
    upload_two(page, server)
    zone = "document.getElementById('myDropzone').dropzone"
    page.evaluate(f"window.first = {zone}.files[0]")
    ours = "f => Object.keys(f).filter(key => /^flaskDropzone/i.test(key))"
    assert page.evaluate(f"{zone}.files.map({ours})") == [[], []]
    click_remove(page, 0)  # deleted by the token the zone kept for it
    assert on_disk(app) == ["b.txt"]
    assert page.evaluate(f"({ours})(window.first)") == []


@pytest.mark.parametrize("how", ["removeAllFiles(true)", "destroy()"])
def test_removing_files_from_script_deletes_nothing(page, serve, how, delete_app):
    app = delete_app()
    server = serve(app)
    upload_two(page, server)
    posts = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    page.evaluate(f"document.getElementById('myDropzone').dropzone.{how}")
    page.wait_for_timeout(300)  # a delete request, if one were sent, would have left by now
    assert posts == [] and on_disk(app) == ["a.txt", "b.txt"]


def test_the_remove_link_deletes_from_s3(
    page, serve, s3_server, s3_bucket, s3_settings, delete_app
):
    from support.s3server import make_client

    app = delete_app(**s3_settings)
    server = serve(app)
    upload_two(page, server)
    client = make_client(s3_server)

    def keys():
        return sorted(
            e["Key"] for e in client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])
        )

    assert keys() == ["uploads/a.txt", "uploads/b.txt"]
    click_remove(page, 1)
    assert keys() == ["uploads/a.txt"]


def test_cancelling_a_chunked_upload_leaves_no_partial_upload(page, serve, delete_app):
    import threading

    app = delete_app(
        DROPZONE_CHUNKING=True, DROPZONE_CHUNK_SIZE=256 * 1024, DROPZONE_MAX_FILE_SIZE=64
    )
    arrived = threading.Event()
    release = threading.Event()

    @app.before_request
    def slow_second_chunk():  # holds chunk 1 until the person has cancelled
        from flask import request

        if request.path == "/upload" and request.form.get("dzchunkindex") == "1":
            arrived.set()
            release.wait(30)

    server = serve(app)
    page.goto(server.url + "/")
    page.on("dialog", lambda dialog: dialog.accept())  # "Cancel the upload of this file?"
    drop_files(page, "myDropzone", [("big.bin", os.urandom(1024 * 1024))])
    assert arrived.wait(30)
    page.evaluate(
        """() => new Promise(resolve => {
             const zone = document.getElementById('myDropzone');
             zone.addEventListener('dropzone:cancelled', () => resolve(), { once: true });
             zone.querySelector('[data-dz-remove]').click();
           })"""
    )
    release.set()
    chunks = os.path.join(app.instance_path, "dropzone-chunks")
    page.wait_for_timeout(200)  # the held chunk answers (410: its upload ended)
    assert not [f for _, _, files in os.walk(chunks) for f in files if f in ("data", "received")]
    assert on_disk(app) == []


EXISTING_PAGE = """<!doctype html><html><head>{{ dropzone.load_css() }}</head><body>
{{ dropzone.create(action='upload') }}{{ dropzone.create(action='upload', id='shown') }}{{ dropzone.load_js() }}
{{ dropzone.config(existing=existing, max_files=3) }}
{{ dropzone.config(id='shown', existing=shown, delete_on_remove=False) }}</body></html>"""


def test_files_already_stored_are_shown_counted_and_deletable(page, serve, tmp_path, delete_app):
    app = delete_app()
    folder = tmp_path / "instance" / "uploads"
    folder.mkdir(parents=True)
    (folder / "report.pdf").write_bytes(b"%PDF- twelve")
    entities = "&lt;img src=x&gt;.txt"  # a stored name that reads as markup if written as HTML
    (folder / entities).write_bytes(b"hi")
    hostile = (
        '<img src=x onerror="window.hit=1">.txt'  # no stored name: shown only, no delete token
    )

    @app.get("/edit")
    def edit():
        from flask import render_template_string

        existing = [
            {"name": "report.pdf", "size": 12, "url": "/files/report.pdf"},
            {"name": entities, "size": 2, "url": "javascript:alert(1)"},
        ]
        return render_template_string(
            EXISTING_PAGE, existing=existing, shown=[{"name": hostile, "size": 2}]
        )

    server = serve(app)
    page.goto(server.url + "/edit")
    names = page.locator("#myDropzone .dz-preview [data-dz-name]").all_text_contents()
    assert names == ["report.pdf", entities]  # shown as text, never as markup
    assert page.locator("#shown .dz-preview [data-dz-name]").all_text_contents() == [hostile]
    assert page.evaluate("window.hit") is None
    assert page.get_attribute(".dz-preview [data-dz-name] a", "href").endswith("/files/report.pdf")
    assert page.locator(".dz-preview [data-dz-name] a").count() == 1  # no javascript: link
    drop_files(
        page, "myDropzone", [("a.txt", b"1"), ("b.txt", b"2")]
    )  # two more, with room for one
    page.wait_for_function("document.getElementById('myDropzone').dropzone.files.length === 4")
    assert (
        page.evaluate("document.getElementById('myDropzone').dropzone.getRejectedFiles().length")
        == 1
    )
    click_remove(page, 0)
    assert not (folder / "report.pdf").exists() and (folder / entities).exists()


def test_files_shown_again_show_the_persons_names_and_scaled_thumbnails(page, serve, delete_app):
    from flask import render_template_string, send_file

    from support.browser import png

    app = delete_app(DROPZONE_STORED_NAME="random")
    saved = []

    def upload():
        saved.extend(app.extensions["dropzone"].save())
        return ""

    app.view_functions["upload"] = upload

    @app.get("/edit")
    def edit():
        return render_template_string(
            EXISTING_PAGE,
            shown=[],
            existing=[
                *saved,
                {"name": saved[0].stored_name, "filename": "as typed.png", "thumbnail": "/thumb"},
            ],
        )

    @app.get("/thumb")
    def thumb():
        import io

        return send_file(io.BytesIO(png(400, 200, seed=3)), mimetype="image/png")

    server = serve(app)
    page.goto(server.url + "/")
    drop_files(page, "myDropzone", [("holiday.png", png(seed=4))])
    wait_settled(page, "myDropzone", 1)
    assert saved[0].stored_name != "holiday.png"  # random: 32 hex characters
    page.goto(server.url + "/edit")
    names = page.locator("#myDropzone .dz-preview [data-dz-name]").all_text_contents()
    assert names == ["holiday.png", "as typed.png"]
    page.wait_for_function("document.querySelectorAll('#myDropzone .dz-image img')[1].complete")
    box = page.evaluate("""() => {
      const img = document.querySelectorAll('#myDropzone .dz-image img')[1];
      const r = img.getBoundingClientRect(), frame = img.parentElement.getBoundingClientRect();
      return [Math.round(r.width), Math.round(r.height), Math.round(frame.width), getComputedStyle(img).objectFit];
    }""")
    assert box == [
        120,
        120,
        120,
        "cover",
    ]  # the whole picture scaled into the square, not its corner
