import base64
import hashlib
from pathlib import Path

from flask import Flask, render_template_string, url_for

import flask_dropzone
from flask_dropzone import Dropzone, _vendor, get_url, random_filename
from flask_dropzone.utils import get_url as utils_get_url
from flask_dropzone.utils import random_filename as utils_random_filename

STATIC = Path(flask_dropzone.__file__).parent / "static"


def test_init_app_twice_and_several_apps(make_app):
    dropzone = Dropzone()
    first = make_app(dropzone=False, instance="first")
    second = make_app(dropzone=False, instance="second")
    for app in (first, second, first):
        dropzone.init_app(app)
    for app in (first, second):
        assert app.extensions["dropzone"] is dropzone
        assert app.test_client().get("/dropzone/static/flask-dropzone.js").status_code == 200


def test_application_factory(make_app):
    dropzone = Dropzone()

    def create_app():
        app = make_app(dropzone=False, DROPZONE_MAX_FILE_SIZE=9)
        dropzone.init_app(app)
        return app

    app = create_app()
    with app.test_request_context():
        assert '"maxFilesize": 9' in render_template_string("{{ dropzone.config() }}")


def test_dropzone_in_every_template_including_imported_macros(app):
    app.jinja_env.loader = None
    macros = app.jinja_env.from_string(
        "{% macro zone() %}{{ dropzone.create('upload') }}{% endmacro %}"
    )
    with app.test_request_context():
        assert "dropzone" in str(macros.module.zone())


def test_vendored_dropzone_matches_its_pinned_integrity():
    for name, integrity in _vendor.INTEGRITY.items():
        data = (STATIC / "dropzone" / name).read_bytes()
        assert integrity == "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    assert (STATIC / "dropzone" / "LICENSE").read_text().count("MIT License") >= 1
    assert f"var e=`{_vendor.VERSION}`" in (STATIC / "dropzone" / "dropzone-min.js").read_text()


def test_static_files_are_served_also_under_2_0_names(app):
    client = app.test_client()
    js, css = (
        (STATIC / "dropzone" / "dropzone-min.js").read_bytes(),
        (STATIC / "dropzone" / "dropzone.css").read_bytes(),
    )
    assert client.get("/dropzone/static/dropzone/dropzone-min.js").data == js
    assert client.get("/dropzone/static/dropzone/dropzone.css").data == css
    with app.test_request_context():  # the names 2.0.0's templates link directly
        js_url = url_for("dropzone.static", filename="dropzone.min.js")
        css_url = url_for("dropzone.static", filename="dropzone.min.css")
    assert (client.get(js_url).data, client.get(css_url).data) == (js, css)
    assert client.get("/dropzone/static/flask-dropzone.js").status_code == 200
    assert client.get("/dropzone/static/nothing.min.js").status_code == 404


def test_2_0_private_names_stay_importable():
    from flask_dropzone import Dropzone as Extension
    from flask_dropzone import _Dropzone, allowed_file_extensions, get_url

    assert _Dropzone is Extension and callable(get_url) and "image" in allowed_file_extensions


def test_static_url_follows_the_app_static_url_path(tmp_path):
    # Its own app: make_app takes no arguments of Flask's.
    app = Flask(__name__, static_url_path="/assets", instance_path=str(tmp_path))
    Dropzone(app)
    with app.test_request_context():
        assert "/dropzone/assets/dropzone.min.js" in app.extensions["dropzone"].load_js()


def test_get_url(app):
    with app.test_request_context():
        assert get_url("upload") == "/upload"
        assert get_url("album_upload", album=2) == "/albums/2/upload"
        assert get_url("/x") == "/x"
        assert get_url("https://example.com/u") == "https://example.com/u"
        assert get_url("") is None
    assert utils_get_url is get_url


def test_random_filename_keeps_a_safe_extension():
    name = random_filename("holiday.JPG")
    assert len(name) == 36 and name.endswith(".JPG")
    assert random_filename("../../x.sh/../a") != random_filename("../../x.sh/../a")
    assert "/" not in random_filename("a/../../etc/passwd")
    assert random_filename("noext").isalnum()
    assert utils_random_filename is random_filename
