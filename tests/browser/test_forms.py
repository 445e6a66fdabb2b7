"""DropzoneField in Chromium: a person drops files into a form, submits it with an error, sees
the files still there, fixes the form and submits it: one upload per file, and the files
stored once the view claims them; under a strict Content-Security-Policy."""

from __future__ import annotations

import os
import threading

import pytest
from flask import Flask, redirect, render_template_string
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import StringField
from wtforms.validators import DataRequired

from flask_dropzone.forms import DropzoneField

from support.browser import (
    IMAGES_REFUSED,
    drop_files,
    error_messages,
    png,
    statuses,
    violations,
    wait_settled,
)

POLICY = "default-src 'self'; img-src 'self' data:"
PAGE = """<!doctype html><html lang="en"><head><title>Post</title>{{ dropzone.load_css() }}</head><body>
<main><form method="post" action="/post" enctype="multipart/form-data" novalidate>{{ form.csrf_token }}
<label>Title {{ form.title() }}</label>
{% for error in form.title.errors %}<p class="error">{{ error }}</p>{% endfor %}
{{ form.photos.label }} {{ form.photos() }}
{% for error in form.photos.errors %}<p class="error">{{ error }}</p>{% endfor %}
<button id="send">Post</button></form></main>{{ dropzone.load_js() }}</body></html>"""


class PostForm(FlaskForm):
    title = StringField(validators=[DataRequired()])
    photos = DropzoneField("Photos", allowed_file_type="image", max_files=3, max_file_size=2)


@pytest.fixture
def post_app(make_app):
    """A post form under CSRFProtect and a strict policy; what it claimed is ``app.claimed``."""
    return lambda: with_post_views(make_app())


def with_post_views(app: Flask) -> Flask:
    CSRFProtect(app)
    app.claimed = []  # type: ignore[attr-defined]
    app.uploads = []  # type: ignore[attr-defined]

    @app.route("/post", methods=["GET", "POST"])
    def post():
        form = PostForm()
        if form.validate_on_submit():
            app.claimed.extend(s.stored_name for s in form.photos.claim())  # type: ignore[attr-defined]
            return redirect("/done")
        return render_template_string(PAGE, form=form)

    @app.get("/done")
    def done():
        return "<!doctype html><title>Done</title><p id=done>Posted.</p>"

    @app.before_request
    def count():
        from flask import request

        if request.path == "/dropzone/pending":
            app.uploads.append(request.path)  # type: ignore[attr-defined]

    @app.after_request
    def strict(response):
        response.headers["Content-Security-Policy"] = POLICY
        return response

    return app


def stored(app) -> dict[str, bytes]:
    folder = os.path.join(app.instance_path, "uploads")
    if not os.path.isdir(folder):
        return {}
    paths = (os.path.join(folder, name) for name in sorted(os.listdir(folder)))
    return {  # files: the folder of their thumbnails (.dropzone-variants) is none
        os.path.basename(path): open(path, "rb").read() for path in paths if os.path.isfile(path)
    }


def references(page, name="photos") -> list[str]:
    """What the form sends for the field: the zone's hidden inputs, or (without JavaScript)
    the boxes of the files kept."""
    return page.evaluate(
        """(name) => Array.from(document.querySelectorAll(
        `input[type=hidden][name=${name}], input[type=checkbox][name=${name}]:checked`), i => i.value)""",
        name,
    )


def test_files_dropped_into_a_form_survive_its_error_and_are_stored_once_it_is_sent(
    page, serve, post_app
):
    app = post_app()
    server = serve(app)
    page.goto(server.url + "/post")
    assert (
        page.locator("input[type=file][name=photos]").count() == 0
    )  # the fallback left: no file twice
    photos = [("a.png", png(40, 30, seed=1)), ("b.png", png(seed=2))]
    held = []  # a.png's upload ends after b.png's: the form keeps the order they were dropped in
    page.route(
        "**/dropzone/pending",
        lambda route: (
            held.append(route)
            if b'filename="a.png"' in (route.request.post_data_buffer or b"")
            else route.continue_()
        ),
    )
    drop_files(page, "photos", photos)
    page.wait_for_function(
        "() => document.getElementById('photos').dropzone.files.some(f => f.name === 'b.png' && f.status === 'success')"
    )
    held.pop().continue_()
    wait_settled(page, "photos", 2)
    page.unroute("**/dropzone/pending")
    assert statuses(page, "photos") == ["success", "success"] and len(references(page)) == 2
    with page.expect_navigation():
        page.click("#send")  # no title: the form comes back
    assert page.locator(".error").all_text_contents() == ["This field is required."]
    page.wait_for_function("document.getElementById('photos')?.dropzone?.files.length === 2")
    assert page.locator("#photos [data-dz-name]").all_text_contents() == ["a.png", "b.png"]
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#photos .dz-image img')).every(i => i.complete && i.naturalWidth)"
    )
    assert len(references(page)) == 2 and stored(app) == {}
    page.fill("input[name=title]", "Holiday")
    with page.expect_navigation():
        page.click("#send")
    assert page.text_content("#done") == "Posted."
    assert stored(app) == dict(photos) and sorted(app.claimed) == ["a.png", "b.png"]
    assert len(app.uploads) == 2  # one upload per file, in all
    assert violations(page) == []


def test_the_fields_label_opens_the_file_picker_and_names_the_zone(page, serve, post_app):
    app = post_app()
    server = serve(app)
    page.goto(server.url + "/post")
    assert page.get_by_role("group", name="Photos").count() == 1
    with page.expect_file_chooser() as chooser:
        page.click("label[for=photos]")
    chooser.value.set_files(
        [{"name": "picked.png", "mimeType": "image/png", "buffer": png(seed=7)}]
    )
    wait_settled(page, "photos", 1)
    assert statuses(page, "photos") == ["success"] and len(references(page)) == 1


def test_a_refused_file_never_becomes_pending_and_a_removed_one_is_discarded(page, serve, post_app):
    app = post_app()
    server = serve(app)
    page.goto(server.url + "/post")
    page.evaluate(
        "() => { document.getElementById('photos').dropzone.options.acceptedFiles = null; }"
    )  # the server judges
    drop_files(
        page,
        "photos",
        [("notes.txt", b"text"), ("keep.png", png(seed=3)), ("drop.png", png(seed=4))],
    )
    wait_settled(page, "photos", 3)
    assert statuses(page, "photos") == ["error", "success", "success"]
    assert error_messages(page, "photos")[0] == IMAGES_REFUSED and len(references(page)) == 2
    with page.expect_response("**/dropzone/pending/discard") as discarded:
        page.click("#photos .dz-preview:has-text('drop.png') [data-dz-remove]")
    assert discarded.value.ok and len(references(page)) == 1
    page.fill("input[name=title]", "One")
    with page.expect_navigation():
        page.click("#send")
    assert list(stored(app)) == ["keep.png"]
    pending = os.path.join(app.instance_path, "dropzone-chunks", "pending")
    assert sum(len(files) for _, _, files in os.walk(pending)) == 0


def test_submitting_while_a_file_uploads_sends_the_form_once_it_arrived(page, serve, post_app):
    app = post_app()
    arrived, release = threading.Event(), threading.Event()

    @app.before_request
    def hold():
        from flask import request

        if request.path == "/dropzone/pending":
            arrived.set()
            release.wait(30)
        elif request.method == "POST":
            sent.append(request.path)

    sent: list[str] = []
    server = serve(app)
    page.goto(server.url + "/post")
    page.fill("input[name=title]", "Soon")
    drop_files(page, "photos", [("late.png", png(seed=5))])
    assert arrived.wait(30)
    page.click("#send")
    waiting = page.locator(".fdz-waiting")
    waiting.wait_for()
    assert (
        waiting.is_visible()
        and waiting.text_content() == "The form is sent as soon as its files have arrived."
    )
    assert page.locator("#send").is_disabled()  # it cannot be pressed twice meanwhile
    page.locator("#send").click(force=True)
    page.wait_for_timeout(300)
    assert page.url.endswith("/post")  # not sent yet: the file is on its way
    with page.expect_navigation():
        release.set()
    assert page.text_content("#done") == "Posted." and list(stored(app)) == ["late.png"]
    assert sent == ["/post"]  # the form went once


def test_without_javascript_the_files_go_with_the_form_and_survive_its_error(
    browser, serve, post_app
):
    app = post_app()
    server = serve(app)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server.url + "/post")
        page.set_input_files(
            "input[type=file][name=photos]",
            [{"name": "plain.png", "mimeType": "image/png", "buffer": png(seed=6)}],
        )
        with page.expect_navigation():
            page.click("#send")  # no title
        assert page.locator(".error").all_text_contents() == ["This field is required."]
        assert len(references(page)) == 1 and stored(app) == {}
        page.fill("input[name=title]", "Plain")
        with page.expect_navigation():
            page.click("#send")  # the file input is empty now: the reference carries the file
        assert page.text_content("#done") == "Posted." and list(stored(app)) == ["plain.png"]
    finally:
        context.close()


class BigForm(FlaskForm):
    title = StringField(validators=[DataRequired()])
    video = DropzoneField("Video", chunking=True, chunk_size=4 * 1024 * 1024, max_file_size=64)


BIG_PAGE = """<!doctype html><html lang="en"><head><title>Video</title>{{ dropzone.load_css() }}</head><body>
<form method="post" action="/video" enctype="multipart/form-data" novalidate>{{ form.csrf_token }}
<label>Title {{ form.title() }}</label>{{ form.video() }}<button id="send">Send</button></form>
{{ dropzone.load_js() }}</body></html>"""


def test_a_chunked_field_resumes_after_a_reload_and_its_file_is_claimed_whole(
    page, serve, tmp_path, make_app
):
    import hashlib

    from support.browser import remembered, wait_settled_long

    app = make_app()
    state = {"fail_after": None, "posts": 0, "indices": []}

    @app.before_request
    def failing():  # from the fifth chunk on, the server fails (before CSRFProtect reads it)
        from flask import request

        if request.method == "POST" and request.path == "/dropzone/pending":
            state["posts"] += 1
            if state["fail_after"] is not None and state["posts"] > state["fail_after"]:
                return "down for a moment", 500
            state["indices"].append(int(request.form["dzchunkindex"]))
        return None

    CSRFProtect(app)

    @app.route("/video", methods=["GET", "POST"])
    def video():
        form = BigForm()
        if form.validate_on_submit():
            (saved,) = form.video.claim()
            return redirect(f"/done?name={saved.stored_name}")
        return render_template_string(BIG_PAGE, form=form)

    @app.get("/done")
    def done():
        return "<!doctype html><title>Done</title><p id=done>Posted.</p>"

    @app.after_request
    def strict(response):
        response.headers["Content-Security-Policy"] = POLICY
        return response

    server = serve(app)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(30 * 1024 * 1024))

    def add() -> None:
        handle = page.evaluate_handle("document.getElementById('video').dropzone.hiddenFileInput")
        handle.as_element().set_input_files(str(source))
        page.wait_for_function("document.getElementById('video').dropzone.files.length === 1")
        wait_settled_long(page, "video")

    state["fail_after"] = 4
    page.goto(server.url + "/video")
    add()
    assert statuses(page, "video") == ["error"] and state["indices"] == [0, 1, 2, 3]
    assert len(remembered(page)) == 1 and references(page, "video") == []
    state["fail_after"], state["indices"] = None, []
    page.reload()
    add()
    assert statuses(page, "video") == ["success"]
    assert state["indices"] == [4, 5, 6, 7]  # only the chunks the server lacked
    assert len(references(page, "video")) == 1 and remembered(page) == []
    page.fill("input[name=title]", "Film")
    with page.expect_navigation():
        page.click("#send")
    assert page.text_content("#done") == "Posted." and page.url.endswith("name=big.bin")
    kept = tmp_path / "instance" / "uploads" / "big.bin"
    assert (
        hashlib.sha256(kept.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    )
    assert violations(page) == []


class EditForm(FlaskForm):
    title = StringField(validators=[DataRequired()])
    photos = DropzoneField("Photos", allowed_file_type="image", max_files=4, max_file_size=2)


@pytest.fixture
def edit_app(make_app):
    """A post of three photos, stored; its edit page keeps the post's photos as SavedFiles."""
    return lambda: with_edit_views(make_app())


def with_edit_views(app: Flask) -> Flask:
    dropzone = app.extensions["dropzone"]
    csrf = CSRFProtect(app)
    app.blog = {"title": "Colours", "photos": []}  # type: ignore[attr-defined]
    app.removed = []  # type: ignore[attr-defined]

    @app.post("/seed")
    def seed():
        app.blog["photos"] = dropzone.save(upload_multiple=True)  # type: ignore[attr-defined]
        return "seeded"

    @app.route("/edit", methods=["GET", "POST"])
    def edit():
        post = app.blog  # type: ignore[attr-defined]
        form = EditForm(data=post)
        if form.validate_on_submit():
            removed = form.photos.removed
            app.removed.append([photo.filename for photo in removed])  # type: ignore[attr-defined]
            for photo in removed:
                dropzone.delete_stored(photo)
            post["title"] = form.title.data
            post["photos"] = [p for p in post["photos"] if p not in removed] + form.photos.claim()
            return redirect("/done")
        return render_template_string(PAGE.replace("/post", "/edit"), form=form)

    @app.get("/done")
    def done():
        return "<!doctype html><title>Done</title><p id=done>Posted.</p>"

    @app.after_request
    def strict(response):
        response.headers["Content-Security-Policy"] = POLICY
        return response

    csrf.exempt(seed)
    colours = [("red.png", png(seed=11)), ("green.png", png(seed=12)), ("blue.png", png(seed=13))]
    with app.test_client() as client:
        import io

        files = [(io.BytesIO(data), name) for name, data in colours]
        assert client.post("/seed", data={"file": files}).status_code == 200
    return app


def test_a_removal_on_an_edit_form_stays_through_a_form_error(page, serve, edit_app):
    app = edit_app()
    server = serve(app)
    page.goto(server.url + "/edit")
    wait_settled(page, "photos", 3)
    with page.expect_navigation():  # nothing changed yet: a form error keeps all three
        page.fill("input[name=title]", "")
        page.click("#send")
    wait_settled(page, "photos", 3)
    page.click("#photos .dz-preview:has-text('green.png') [data-dz-remove]")
    drop_files(page, "photos", [("yellow.png", png(seed=14))])
    wait_settled(page, "photos", 3)
    with page.expect_navigation():
        page.click("#send")  # no title: the form comes back
    assert page.locator(".error").all_text_contents() == ["This field is required."]
    wait_settled(page, "photos", 3)
    assert page.locator("#photos [data-dz-name]").all_text_contents() == [
        "red.png",
        "blue.png",
        "yellow.png",
    ]
    page.fill("input[name=title]", "Warm")
    with page.expect_navigation():
        page.click("#send")
    assert page.text_content("#done") == "Posted."
    assert app.removed == [["green.png"]]  # type: ignore[attr-defined]
    assert [p.filename for p in app.blog["photos"]] == ["red.png", "blue.png", "yellow.png"]  # type: ignore[attr-defined]
    assert sorted(stored(app)) == ["blue.png", "red.png", "yellow.png"]
    assert violations(page) == []


def test_without_javascript_a_removal_and_an_added_file_stay_through_a_form_error(
    browser, serve, edit_app
):
    app = edit_app()
    server = serve(app)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server.url + "/edit")
        assert page.locator("input[type=checkbox][name=photos]:checked").count() == 3
        page.get_by_label("green.png").uncheck()
        page.set_input_files(
            "input[type=file][name=photos]",
            [{"name": "yellow.png", "mimeType": "image/png", "buffer": png(seed=14)}],
        )
        page.fill("input[name=title]", "")
        with page.expect_navigation():
            page.click("#send")  # no title
        assert page.locator(".error").all_text_contents() == ["This field is required."]
        kept = page.locator("input[type=checkbox][name=photos]:checked")
        assert [
            label.strip() for label in page.locator(".dz-fallback-files label").all_text_contents()
        ] == ["yellow.png", "red.png", "blue.png"]
        assert kept.count() == 3 and stored(app).keys() == {"red.png", "green.png", "blue.png"}
        page.fill("input[name=title]", "Warm")
        with page.expect_navigation():
            page.click("#send")
        assert page.text_content("#done") == "Posted." and app.removed == [["green.png"]]  # type: ignore[attr-defined]
        assert sorted(stored(app)) == ["blue.png", "red.png", "yellow.png"]
    finally:
        context.close()


class ParallelForm(FlaskForm):
    title = StringField(validators=[DataRequired()])
    video = DropzoneField("Video", chunking=True, chunk_size=1024, parallel_chunk_uploads=True)


def test_a_fields_file_in_parallel_chunks_gets_its_reference_whichever_chunk_completes_it(
    page, serve, tmp_path, make_app
):
    """Chunk 0 reaches the server last, so it completes the file and its answer carries the
    reference; it reaches the page before chunk 1's answer, which carries none."""
    from support.browser import CHUNK_ANSWERED, held_requests

    app = make_app()
    CSRFProtect(app)

    @app.route("/video", methods=["GET", "POST"])
    def video():
        form = ParallelForm()
        if form.validate_on_submit():
            (saved,) = form.video.claim()
            return redirect(f"/done?name={saved.stored_name}")
        return render_template_string(BIG_PAGE, form=form)

    @app.get("/done")
    def done():
        return "<!doctype html><title>Done</title><p id=done>Posted.</p>"

    server = serve(app)
    held: list = []
    page.route("**/dropzone/pending", lambda route: held.append(route))
    page.goto(server.url + "/video")
    content = os.urandom(2000)
    drop_files(page, "video", [("clip.bin", content)])
    chunks = held_requests(page, held, 2)
    first = chunks[1].fetch()
    completing = chunks[0].fetch()
    chunks[0].fulfill(response=completing)
    page.wait_for_function(CHUNK_ANSWERED, arg=["video", 0])
    chunks[1].fulfill(response=first)
    wait_settled(page, "video", 1)
    assert statuses(page, "video") == ["success"] and len(references(page, "video")) == 1
    page.fill("input[name=title]", "Film")
    with page.expect_navigation():
        page.click("#send")
    assert page.text_content("#done") == "Posted." and page.url.endswith("name=clip.bin")
    assert (tmp_path / "instance" / "uploads" / "clip.bin").read_bytes() == content


def test_a_form_pressed_twice_is_sent_once(page, serve, post_app):
    app = post_app()
    sent, release = [], threading.Event()

    @app.before_request
    def slow():
        from flask import request

        if request.method == "POST" and request.path == "/post":
            sent.append(request.path)
            release.wait(30)  # a slow server: the person presses again

    server = serve(app)
    page.goto(server.url + "/post")
    page.fill("input[name=title]", "Twice")
    drop_files(page, "photos", [("once.png", png(seed=8))])
    wait_settled(page, "photos", 1)
    # pressed, then again while the first is on its way (as a person does, 150 ms apart)
    page.evaluate(
        "() => { const b = document.getElementById('send'); b.click(); setTimeout(() => b.click(), 150); }"
    )
    page.wait_for_timeout(600)
    with page.expect_navigation():
        release.set()
    assert page.text_content("#done") == "Posted." and sent == ["/post"]
    assert list(stored(app)) == ["once.png"]
