"""Flask-Dropzone demo: one page per feature. Run it with ``make demo``."""

from __future__ import annotations

import base64
import os
import random
from typing import Any, Optional

from flask import Flask, abort, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from flask_wtf.file import FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired

from flask_dropzone import Dropzone, UploadRefused
from flask_dropzone.forms import DropzoneField

dropzone = Dropzone()
csrf = CSRFProtect()

#: Per-zone rules, passed by the same keywords to config() (the browser) and save() (the server).
AVATAR = {"allowed_file_type": "image", "max_file_size": 1}
ONE_AVATAR = {**AVATAR, "max_files": 1, "default_message": "Drop one picture (1 MiB at most)"}
DOCUMENTS = {"allowed_file_custom": True, "allowed_file_type": ".pdf,.txt,.csv", "max_file_size": 2}
PARALLEL = {"upload_multiple": True, "parallel_uploads": 3}
REMOVABLE = {"delete_on_remove": True}
ALBUM = {"in_form": True, "allowed_file_type": "image", "max_files": 10}
BIG_FILES = {
    "chunking": True,
    "chunk_size": 1024 * 1024,
    "parallel_chunk_uploads": True,
    "parallel_uploads": 4,
    "retry_chunks_limit": 5,
    "max_file_size": 2048,
    "chunk_quota": 4096,
}


def big_files(app: Flask) -> dict[str, Any]:
    """BIG_FILES, with chunks S3 takes as parts (5 MiB at least) when the demo stores on S3."""
    if app.config["DROPZONE_STORAGE"] == "s3":
        return {**BIG_FILES, "chunk_size": 5 * 1024 * 1024}
    return BIG_FILES


class PostForm(FlaskForm):
    """A post with a title and photos: the photos upload as they are dropped and survive a
    form that comes back with errors; the view stores them (claim) once the form is valid."""

    title = StringField("Title", validators=[DataRequired("Give the post a title.")])
    photos = DropzoneField(
        "Photos",
        validators=[FileRequired("Add at least one photo.")],
        allowed_file_type="web_image",
        max_files=6,
        max_file_size=5,
    )


class EditPostForm(PostForm):
    """Editing a post: its stored photos are shown in the zone, and may all be kept."""

    photos = DropzoneField("Photos", allowed_file_type="web_image", max_files=6, max_file_size=5)


def posts() -> dict[int, dict[str, Any]]:
    """The demo's posts, kept in memory: {number: {"title", "photos": [SavedFile, ...]}}."""
    return current_app.extensions.setdefault("demo_posts", {})  # type: ignore[no-any-return]


# The browser-side checks off, to see the server's own refusals.
NO_BROWSER_CHECKS = "acceptedFiles: null, maxFilesize: null, maxFiles: null,"
STRICT_CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'"

PAGES = [
    ("basic", "Basic"),
    ("parallel", "Parallel uploads"),
    ("click_upload", "Click to upload"),
    ("in_form", "In a form"),
    ("new_post", "A form field"),
    ("csrf_page", "CSRF"),
    ("strict_csp", "Strict CSP"),
    ("nonce_csp", "CSP with a nonce"),
    ("several", "Several zones"),
    ("custom", "Custom options"),
    ("redirect_page", "Redirect"),
    ("validation", "Validation"),
    ("chunked", "Big files in chunks"),
    ("remove", "Delete from the remove link"),
    ("stored", "Stored files"),
]


def create_app(test_config: Optional[dict[str, Any]] = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY", "demo only: set SECRET_KEY in production"),
        DROPZONE_ENABLE_CSRF=True,
        DROPZONE_MAX_FILE_SIZE=5,
        DROPZONE_TIMEOUT=5 * 60 * 1000,
        # Named zones: the page (config/create by id) and the view (save(zone=...)) share them.
        DROPZONE_ZONES={
            "avatar-zone": ONE_AVATAR,
            "documents-zone": {**DOCUMENTS, "default_message": "Drop PDF, text or CSV files"},
        },
    )
    if test_config:
        app.config.update(test_config)
    dropzone.init_app(app)
    csrf.init_app(app)
    register(app)
    return app


def _upload_view(**rules: Any):
    if request.method == "POST":
        return dropzone.answer(dropzone.save(**rules))
    return None


def register(app: Flask) -> None:
    @app.context_processor
    def pages() -> dict[str, Any]:
        return {"pages": PAGES}

    @app.route("/")
    def index():
        return redirect(url_for("basic"))

    @app.route("/basic", methods=["GET", "POST"])
    def basic():
        return _upload_view() or render_template("basic.html")

    @app.route("/parallel", methods=["GET", "POST"])
    def parallel():
        return _upload_view() or render_template("parallel.html", rules=PARALLEL)

    @app.route("/click-upload", methods=["GET", "POST"])
    def click_upload():
        return _upload_view() or render_template("click_upload.html")

    @app.route("/in-form", methods=["GET", "POST"])
    def in_form():
        errors = {}
        if request.method == "POST":
            title = request.form.get("title", "").strip()
            if not title:
                errors["title"] = "Give the album a title."
            try:
                if not dropzone.files(**ALBUM):
                    errors["files"] = "Add at least one picture."
            except UploadRefused as refused:  # shown in the form rather than as a bare page
                errors["files"] = refused.description
            if not errors:
                stored = [file.stored_name for file in dropzone.save(**ALBUM)]
                return redirect(url_for("album", title=title, files=",".join(stored)))
        return render_template("in_form.html", rules=ALBUM, errors=errors), 400 if errors else 200

    @app.route("/album")
    def album():
        files = [name for name in request.args.get("files", "").split(",") if name]
        return render_template("album.html", title=request.args.get("title", ""), files=files)

    @app.route("/post", methods=["GET", "POST"])
    def new_post():
        form = PostForm()
        if form.validate_on_submit():
            number = max(posts(), default=0) + 1
            posts()[number] = {"title": form.title.data, "photos": form.photos.claim()}
            return redirect(url_for("show_post", number=number))
        return render_template("post.html", form=form), 400 if form.errors else 200

    @app.route("/posts/<int:number>")
    def show_post(number: int):
        if number not in posts():
            abort(404)
        return render_template("post_shown.html", number=number, post=posts()[number])

    @app.route("/posts/<int:number>/edit", methods=["GET", "POST"])
    def edit_post(number: int):
        post = posts().get(number) or abort(404)
        form = EditPostForm(data=post)  # its photos shown in the zone, each with its remove link
        if form.validate_on_submit():
            added = form.photos.claim()  # first: if it fails, nothing is deleted
            removed = form.photos.removed
            kept = [photo for photo in post["photos"] if photo not in removed]
            post.update(title=form.title.data, photos=kept + added)
            for gone in removed:  # removed by the person: the view deletes them
                dropzone.delete_stored(gone)
            return redirect(url_for("show_post", number=number))
        return render_template("post.html", form=form, number=number), 400 if form.errors else 200

    @app.route("/csrf", methods=["GET", "POST"])
    def csrf_page():
        return _upload_view() or render_template("csrf.html")

    @app.route("/strict-csp", methods=["GET", "POST"])
    def strict_csp():
        result = _upload_view()
        if result:
            return result
        page = render_template("strict_csp.html", policy=STRICT_CSP)
        return page, 200, {"Content-Security-Policy": STRICT_CSP}

    @app.route("/nonce-csp", methods=["GET", "POST"])
    def nonce_csp():
        result = _upload_view()
        if result:
            return result
        nonce = base64.b64encode(os.urandom(18)).decode()
        policy = (
            f"{STRICT_CSP}; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'"
        )
        return (
            render_template("nonce_csp.html", nonce=nonce),
            200,
            {"Content-Security-Policy": policy},
        )

    @app.route("/several", methods=["GET"])
    def several():
        return render_template("several.html")

    # One view per zone: the zone is the view's, never a value of the request.
    @app.post("/several/avatar")
    def avatar_upload():
        return dropzone.answer(dropzone.save(zone="avatar-zone"))

    @app.post("/several/documents")
    def documents_upload():
        return dropzone.answer(dropzone.save(zone="documents-zone"))

    @app.route("/custom", methods=["GET", "POST"])
    def custom():
        return _upload_view() or render_template("custom.html")

    @app.route("/redirect", methods=["GET", "POST"])
    def redirect_page():
        return _upload_view(**AVATAR) or render_template("redirect.html", rules=AVATAR)

    @app.route("/redirect/done")
    def redirect_done():
        return render_template("done.html")

    @app.route("/validation", methods=["GET", "POST"])
    def validation():
        if request.method == "POST":
            rules = AVATAR if request.args.get("zone") == "avatar" else DOCUMENTS
            return dropzone.answer(dropzone.save(**rules))
        browser_checks = request.args.get("browser_checks") != "off"
        return render_template(
            "validation.html",
            avatar=AVATAR,
            documents=DOCUMENTS,
            custom_options="" if browser_checks else NO_BROWSER_CHECKS,
            browser_checks=browser_checks,
        )

    @app.route("/chunked", methods=["GET", "POST"])
    def chunked():
        if request.method == "POST":
            # Test-only switch: fail some chunk requests to exercise Dropzone's retries.
            if random.random() < app.config.get("DEMO_CHUNK_FAILURE_RATE", 0):
                request.get_data()
                abort(500)
            return dropzone.answer(dropzone.save(**big_files(app)))
        return render_template("chunked.html", rules=big_files(app))

    @app.route("/remove", methods=["GET", "POST"])
    def remove():
        # The files already stored are shown too (a demo: anyone may delete them here).
        return _upload_view(**REMOVABLE) or render_template(
            "remove.html", rules=REMOVABLE, existing=dropzone.stored_files()
        )

    @app.route("/stored")
    def stored():
        # the instance folder, or the bucket with `make demo-s3`
        files = [(saved.stored_name, saved.size) for saved in dropzone.stored_files()]
        return render_template("stored.html", files=files)

    @app.route("/stored/<path:name>")
    def stored_file(name: str):
        return dropzone.send_stored(name)  # a download, or inline for a raster image

    @app.post("/stored/delete")
    def delete_stored_file():
        name = request.form.get("name", "")
        listed = {saved.stored_name: saved for saved in dropzone.stored_files()}
        if name not in listed:  # only a file the page listed (a demo: anyone may delete here)
            abort(404)
        dropzone.delete_stored(listed[name])
        return redirect(url_for("stored"))

    @app.template_filter("human_size")
    def human_size(size: int) -> str:
        """Sizes in the binary units the zone uses: "12.1 KiB"."""
        if size < 1024:
            return f"{size} bytes"
        value, unit = size / 1024, "KiB"
        for larger in ("MiB", "GiB"):
            if value < 1024:
                break
            value, unit = value / 1024, larger
        return f"{value:.1f} {unit}"


app = create_app()
