"""A blog's post form with a DropzoneField, and reading what its page and its uploads hold."""

from __future__ import annotations

import io
import os

import pytest
from flask import Flask, redirect, render_template_string
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed
from wtforms import StringField
from wtforms.validators import DataRequired

from flask_dropzone.forms import DropzoneField

from support.html import zone_configs

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 200
PAGE = """<form method=post enctype=multipart/form-data>{{ form.csrf_token }}{{ form.title() if form.title }}
{{ form.photos() }}</form>{% for name, errors in form.errors.items() %}<p>{{ name }}: {{ errors|join(" | ") }}</p>{% endfor %}"""


class PostForm(FlaskForm):
    title = StringField(validators=[DataRequired()])
    photos = DropzoneField(
        "Photos",
        validators=[FileAllowed(["png", "jpg"])],
        allowed_file_type="image",
        max_files=3,
        max_file_size=1,
    )


class OtherForm(FlaskForm):
    photos = DropzoneField("Photos", allowed_file_type="image")


class TwoFields(FlaskForm):
    photos = DropzoneField(allowed_file_type="image")
    scans = DropzoneField(allowed_file_type="image")


@pytest.fixture
def form_app(make_app):
    """``form_app(form=PostForm, storage="disk", instance="instance", **config)``: a blog's
    new-post page (/post) with a ``form`` (CSRF off: the field's own checks are tested); what
    each valid post claimed is in ``app.claimed``."""

    def make(form=PostForm, storage="disk", instance="instance", **config) -> Flask:
        app = make_app(storage, instance=instance, WTF_CSRF_ENABLED=False, **config)
        app.claimed = []  # type: ignore[attr-defined]

        @app.route("/post", methods=["GET", "POST"])
        def post():
            found = form()
            if found.validate_on_submit():
                app.claimed.append(found.photos.claim())  # type: ignore[attr-defined]
                return redirect("/done")
            return render_template_string(PAGE, form=found)

        @app.get("/done")
        def done():
            return "done"

        @app.get("/two")
        def two():
            return render_template_string("{{ form.photos() }}{{ form.scans() }}", form=TwoFields())

        return app

    return make


def field_config(client, url="/post") -> dict:
    (config,) = zone_configs(client.get(url).get_data(as_text=True))
    return config


def upload(client, config, name="a.png", data=PNG):
    headers = {
        key: value for key, value in config["options"]["headers"].items() if key != "X-CSRF-Token"
    }
    return client.post(config["url"], data={"file": (io.BytesIO(data), name)}, headers=headers)


def reference(client, config, name="a.png", data=PNG) -> str:
    answer = upload(client, config, name, data)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    (entry,) = answer.json["files"]
    return entry["reference"]


def stored(app) -> list[str]:
    folder = os.path.join(app.instance_path, "uploads")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def pending_count(app) -> int:
    folder = os.path.join(app.instance_path, "dropzone-chunks", "pending")
    return sum(len(files) for _, _, files in os.walk(folder))
