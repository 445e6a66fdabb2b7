"""CSRF errors on uploads are plain text, unless the app handles CSRFError itself."""

from __future__ import annotations

import io

from flask import Flask, render_template_string
from flask_wtf.csrf import CSRFError, CSRFProtect

from conftest import zone_config
from flask_dropzone import Dropzone

XHR = {"X-Requested-With": "XMLHttpRequest"}


def make_app(handler_first: bool = False, handler_after: bool = False) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", DROPZONE_ENABLE_CSRF=True)

    def own_handler(error):
        return "handled by the app", 418

    if handler_first:
        app.register_error_handler(CSRFError, own_handler)
    Dropzone(app)
    CSRFProtect(app)
    if handler_after:
        app.register_error_handler(CSRFError, own_handler)

    @app.route("/", methods=["GET", "POST"])
    def index():
        return render_template_string("{{ dropzone.config() }}")

    return app


def upload(client, headers):
    data = {"file": (io.BytesIO(b"x"), "a.txt")}
    return client.post("/", data=data, content_type="multipart/form-data", headers=headers)


def test_missing_token_on_an_upload_is_plain_text():
    response = upload(make_app().test_client(), XHR)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "The CSRF token is missing."


def test_bad_token_is_plain_text():
    client = make_app().test_client()
    client.get("/")  # a session, with its CSRF secret
    response = upload(client, {**XHR, "X-CSRF-Token": "forged"})
    assert response.get_data(as_text=True) == "The CSRF token is invalid."


def test_the_token_config_sends_is_accepted():
    client = make_app().test_client()
    token = zone_config(client.get("/").get_data(as_text=True))["options"]["headers"]["X-CSRF-Token"]
    assert upload(client, {**XHR, "X-CSRF-Token": token}).status_code == 200


def test_other_requests_keep_flasks_error_page():
    response = make_app().test_client().post("/", data={"name": "x"})
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_the_apps_own_handler_wins_whenever_it_is_registered():
    for app in (make_app(handler_first=True), make_app(handler_after=True)):
        response = upload(app.test_client(), XHR)
        assert (response.status_code, response.get_data(as_text=True)) == (418, "handled by the app")
