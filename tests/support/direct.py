"""Apps storing into the test bucket, through themselves (``s3_app``) and direct
(``direct_app``), and the requests of an upload to each."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
from flask import Flask, render_template_string, request

from flask_dropzone._rules import direct, zonerules

from support.chunking import CONTENT_TYPE, body
from support.html import zone_config

MiB = 1024 * 1024

START, URLS, COMPLETE, ABORT, STATUS = (
    f"/dropzone/direct/{name}" for name in ("start", "urls", "complete", "abort", "status")
)


class Counted:
    """WSGI middleware: the body size of every request the app receives."""

    def __init__(self, app):
        self.app, self.sizes = app, []

    def __call__(self, environ, start_response):
        self.sizes.append(int(environ.get("CONTENT_LENGTH") or 0))
        return self.app(environ, start_response)


@pytest.fixture
def direct_app(make_app, s3_settings):
    """``direct_app(instance="instance", **config)``: an app on S3 whose zones go direct; its
    ``/page`` renders a zone with the JSON body's keywords; ``app.wsgi_app.sizes`` are the
    body sizes it received."""

    def make(instance: str = "instance", **config) -> Flask:
        settings = {
            "SECRET_KEY": "direct tests",
            "DROPZONE_S3_DIRECT": True,
            "DROPZONE_CHUNK_SIZE": 5 * MiB,
            "DROPZONE_MAX_FILE_SIZE": 64,
            **s3_settings,
            **config,
        }
        app = make_app(instance=instance, **settings)

        @app.post("/page")
        def page():
            return render_template_string("{{ dropzone.config(**zone) }}", zone=request.get_json())

        app.wsgi_app = Counted(app.wsgi_app)  # type: ignore[method-assign]
        return app

    return make


RULES_ENVIRON = "HTTP_" + zonerules.HEADER.upper().replace("-", "_")


def zone_header(client, **zone) -> dict:
    """The X-Dropzone-Zone header of a zone rendered with ``zone`` (its config() keywords);
    the client's later requests carry it, as a page's do."""
    config = zone_config(client.post("/page", json=zone).get_data(as_text=True))
    token = config["options"]["headers"][zonerules.HEADER]
    client.environ_base[RULES_ENVIRON] = token
    return {zonerules.HEADER: token}


@pytest.fixture
def s3_app(make_app, s3_settings):
    """``s3_app(instance="instance", **config)``: an app on S3 taking chunked uploads through
    itself; ``/save`` stores, ``/typed`` stores images only."""

    def make(instance: str = "instance", **config) -> Flask:
        app = make_app(
            instance=instance,
            **{
                "SECRET_KEY": "s3 tests",
                "DROPZONE_MAX_FILE_SIZE": 64,
                "DROPZONE_CHUNKING": True,
                "DROPZONE_CHUNK_SIZE": 5 * MiB,
                **s3_settings,
                **config,
            },
        )
        dropzone = app.extensions["dropzone"]

        @app.post("/save")
        def save():
            saved = dropzone.save()
            return {"saved": [[s.stored_name, s.location, s.path, s.size] for s in saved]}

        @app.post("/typed")
        def typed():
            return {"saved": [s.location for s in dropzone.save(allowed_file_type="image")]}

        return app

    return make


def post(client, url, filename, data):
    return client.post(url, data=body({}, "file", filename, data), content_type=CONTENT_TYPE)


def put(url: str, data: bytes, length=None) -> int:
    """PUT ``data`` to a presigned URL as a browser does (its Content-Length); the status."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("PUT", f"{parts.path}?{parts.query}", skip_accept_encoding=True)
        connection.putheader("Content-Length", str(len(data) if length is None else length))
        connection.endheaders()
        connection.send(data)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def start(client, name: str, size: int, headers=None, kind: str = ""):
    """Start an upload from the client's page (the app's default zone if it showed none)."""
    if headers is None and RULES_ENVIRON not in client.environ_base:
        zone_header(client)
    return client.post(
        START, json={"name": name, "size": size, "type": kind}, headers=headers or {}
    )


def upload_parts(answer: dict, data: bytes, order=None) -> None:
    size = answer["partSize"]
    numbers = list(range(1, answer["parts"] + 1)) if order is None else order
    for number in numbers:
        piece = data[(number - 1) * size : number * size]
        assert put(answer["urls"][number - 1], piece) == 200, number


def send(client, name: str, data: bytes, headers=None):
    """A whole direct upload: start, every part, complete; the complete answer."""
    started = start(client, name, len(data), headers)
    assert started.status_code == 200, started.get_data(as_text=True)
    upload_parts(started.json, data)
    return client.post(COMPLETE, json={"upload": started.json["upload"]}, headers=headers or {})


def ticket(app, token: str) -> direct.Ticket:
    found = direct.read_token(app, token, 3600)
    assert found is not None
    return found[0]
