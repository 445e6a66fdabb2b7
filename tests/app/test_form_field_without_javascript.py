"""A form field in a browser without JavaScript: the files go with the form, are judged by the
field's settings while they arrive (its ticket is in the form, before the file input), and are
kept pending only once the form's CSRF check passed."""

from __future__ import annotations

import io

import pytest
from flask import Flask, redirect, render_template_string
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import StringField
from wtforms.validators import DataRequired

from flask_dropzone import _stores as stores
from flask_dropzone._rules import pending
from flask_dropzone.forms import DropzoneField

from support.forms import PAGE, PNG, pending_count, stored
from support.html import parse

MiB = 1024 * 1024


class PostForm(FlaskForm):
    title = StringField(validators=[DataRequired()])
    photos = DropzoneField("Photos", allowed_file_type="image", max_files=2, max_file_size=1)


@pytest.fixture
def app_without_script(make_app):
    """An app whose form checks its own CSRF token (``protect``: CSRFProtect checks every POST)."""

    def make(protect: bool = False) -> Flask:
        app = make_app()
        if protect:
            CSRFProtect(app)
        app.claimed = []  # type: ignore[attr-defined]

        @app.route("/post", methods=["GET", "POST"])
        def post():
            form = PostForm()
            if form.validate_on_submit():
                app.claimed.append(form.photos.claim())  # type: ignore[attr-defined]
                return redirect("/done")
            return render_template_string(PAGE, form=form)

        return app

    return make


def form_values(client) -> dict[str, str]:
    """The hidden values of the form page, as a browser sends them back: CSRF token, ticket."""
    html = client.get("/post").get_data(as_text=True)
    return {
        attrs["name"]: attrs["value"]
        for tag, attrs, _ in parse(html)
        if tag == "input" and attrs.get("type") == "hidden"
    }


def test_the_ticket_comes_before_the_file_input_of_the_field(app_without_script):
    html = app_without_script().test_client().get("/post").get_data(as_text=True)
    names = [attrs.get("name") for tag, attrs, _ in parse(html) if tag == "input"]
    assert names.index(pending.TICKET_INPUT) < names.index("photos")


def test_posted_files_are_kept_only_once_the_forms_own_csrf_token_holds(app_without_script):
    app = app_without_script()
    client = app.test_client()
    values = form_values(client)
    planted = {
        **values,
        "csrf_token": "forged",
        "title": "Buy now",
        "photos": (io.BytesIO(PNG), "ad.png"),
    }
    answer = client.post("/post", data=planted)
    assert answer.status_code == 200 and "The CSRF token is invalid." in answer.get_data(
        as_text=True
    )
    assert pending_count(app) == 0  # nothing planted in the person's form
    mine = {**values, "title": "", "photos": (io.BytesIO(PNG), "mine.png")}
    assert client.post("/post", data=mine).status_code == 200 and pending_count(app) == 1


def test_under_csrfprotect_a_cross_site_post_keeps_nothing(app_without_script):
    app = app_without_script(protect=True)
    client = app.test_client()
    values = form_values(client)
    del values["csrf_token"]
    answer = client.post(
        "/post", data={**values, "title": "Buy now", "photos": (io.BytesIO(PNG), "ad.png")}
    )
    assert answer.status_code == 400 and pending_count(app) == 0


def test_a_file_past_the_fields_limit_is_written_no_further_and_the_form_comes_back(
    app_without_script,
):
    app = app_without_script()
    client = app.test_client()
    values = form_values(client)
    files = stores.of(app).files
    written = []
    original = files.stage

    def counting(folder):
        staged = original(folder)
        write = staged.write

        def counted(data):
            written.append(len(data))
            write(data)

        staged.write = counted
        return staged

    files.stage = counting
    big = PNG + bytes(64 * MiB)
    answer = client.post(
        "/post", data={**values, "title": "My trip", "photos": (io.BytesIO(big), "big.png")}
    )
    html = answer.get_data(as_text=True)
    assert (
        answer.status_code == 200
        and 'value="My trip"' in html
        and "big.png: File is too big" in html
    )
    assert sum(written) <= 2 * MiB and pending_count(app) == 0 and stored(app) == []


def test_files_past_max_files_are_not_written(app_without_script):
    app = app_without_script()
    client = app.test_client()
    values = form_values(client)
    photos = [(io.BytesIO(PNG), f"{index}.png") for index in range(5)]
    answer = client.post("/post", data={**values, "title": "Five", "photos": photos})
    assert answer.status_code == 200 and "You can&#39;t upload any more files" in answer.get_data(
        as_text=True
    )
    assert pending_count(app) == 2  # the first two; the others were read past, never kept
