"""The Content-Security-Policy the site gives for each storage (docs: Security, Content Security
Policy), read from its table and tried in Chromium: on S3 the pictures come from the bucket
(``send_stored()`` and a form's pending thumbnails redirect there), so its origin
(``dropzone.storage_origin()``) is in ``img-src``; without it they are blocked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, redirect, render_template_string
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from flask_dropzone.forms import DropzoneField

from support.apps import STORES
from support.browser import drop_files, png, violations, wait_settled

PAGE = """<!doctype html><html lang="en"><head><title>Post</title>{{ dropzone.load_css() }}</head><body>
<main><form method="post" action="/post" enctype="multipart/form-data" novalidate>{{ form.csrf_token }}
<label>Title {{ form.title() }}</label>{{ form.photos.label }} {{ form.photos() }}
<button id="send">Post</button></form></main>{{ dropzone.load_js() }}</body></html>"""
SHOWN = """<!doctype html><html lang="en"><head><title>Shown</title></head><body><main>
{% for name in names %}<img alt="{{ name }}" src="{{ url_for('stored', name=name) }}">{% endfor %}</main></body></html>"""


SECURITY_PAGE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "security.md"


def documented_policies() -> dict[str, str]:
    """The page's table of policies by storage: ``{"disk": ..., "S3": ...}``."""
    rows = re.findall(r"^\| (disk|S3)\b[^|]*\| `([^`]+)` \|$", SECURITY_PAGE.read_text(), re.M)
    assert {storage for storage, _ in rows} == {"disk", "S3"}, "the policy table has moved"
    return dict(rows)


class PostForm(FlaskForm):
    title = StringField(validators=[DataRequired()])
    photos = DropzoneField("Photos", allowed_file_type="web_image", max_files=2)


@pytest.fixture
def blog(make_app):
    """``blog(storage, bucket_in_policy)``: a post form under a strict policy that names the
    bucket's origin or not."""
    return lambda storage, bucket_in_policy: with_blog_views(make_app(storage), bucket_in_policy)


def with_blog_views(app: Flask, bucket_in_policy: bool) -> Flask:
    dropzone = app.extensions["dropzone"]
    app.stored = []  # type: ignore[attr-defined]
    with app.app_context():
        origin = dropzone.storage_origin()
    policies = documented_policies()
    if bucket_in_policy and origin:
        policy = policies["S3"].replace("ORIGIN", origin)
    else:  # the disk's policy, which names no bucket
        policy = policies["disk"]

    @app.route("/post", methods=["GET", "POST"])
    def post():
        form = PostForm()
        if form.validate_on_submit():
            app.stored.extend(saved.stored_name for saved in form.photos.claim())  # type: ignore[attr-defined]
            return redirect("/shown")
        return render_template_string(PAGE, form=form)

    @app.get("/shown")
    def shown():
        return render_template_string(SHOWN, names=app.stored)  # type: ignore[attr-defined]

    @app.get("/files/<name>")
    def stored(name):
        return dropzone.send_stored(name)

    @app.after_request
    def strict(response):
        response.headers["Content-Security-Policy"] = policy
        return response

    return app


def pictures_drawn(page, selector: str) -> list[bool]:
    return page.evaluate(
        f"Array.from(document.querySelectorAll({selector!r}), i => i.complete && i.naturalWidth > 0)"
    )


def post_two_photos(page, server) -> None:
    page.goto(server.url + "/post")
    drop_files(page, "photos", [("a.png", png(40, 30, seed=1)), ("b.png", png(seed=2))])
    wait_settled(page, "photos", 2)
    with page.expect_navigation():
        page.click("#send")  # no title: the form comes back, its thumbnails from the store
    page.wait_for_function("document.getElementById('photos')?.dropzone?.files.length === 2")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#photos .dz-image img')).every(i => i.complete)"
    )


@pytest.mark.parametrize("storage", STORES)
def test_the_policy_the_docs_give_shows_every_picture_of_each_storage(page, serve, storage, blog):
    server = serve(blog(storage, bucket_in_policy=True))
    post_two_photos(page, server)
    assert pictures_drawn(page, "#photos .dz-image img") == [True, True]
    page.fill("input[name=title]", "Two")
    with page.expect_navigation():
        page.click("#send")
    page.wait_for_function(
        "Array.from(document.images).length === 2 && Array.from(document.images).every(i => i.complete)"
    )
    assert pictures_drawn(page, "main img") == [True, True]
    assert violations(page) == []


def test_on_s3_a_policy_without_the_buckets_origin_blocks_its_pictures(
    page, serve, s3_settings, blog
):
    server = serve(blog("s3", bucket_in_policy=False))
    post_two_photos(page, server)
    assert pictures_drawn(page, "#photos .dz-image img") == [False, False]
    assert any("img-src" in violation for violation in violations(page))
