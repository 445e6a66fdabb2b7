from __future__ import annotations

import json
import os
from html.parser import HTMLParser

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings

from flask_dropzone import Dropzone

from s3_fixtures import s3_bucket, s3_server, s3_settings  # noqa: F401  (fixtures: a real S3 server)

# `make test`: the same examples on every run and no example database, so that a checkout
# never replays a failure found elsewhere. `make fuzz` (scripts/fuzz.py): random, many more.
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
settings.register_profile(
    "test", derandomize=True, database=None, deadline=None, suppress_health_check=_QUIET
)
settings.register_profile(
    "fuzz", derandomize=False, deadline=None, suppress_health_check=_QUIET, print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "test"))
FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"


def examples(test: int, fuzz: int) -> int:
    """How many examples a property test tries: in `make test`, and in each `make fuzz` round."""
    return fuzz if FUZZING else test


class Elements(HTMLParser):
    """Every element of a fragment as (tag, attrs, text)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict, str]] = []
        self._open: list[int] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), ""))
        if tag not in ("link", "input", "meta", "br", "img"):
            self._open.append(len(self.elements) - 1)

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            tag, attrs, text = self.elements[self._open[-1]]
            self.elements[self._open[-1]] = (tag, attrs, text + data)


def parse(html) -> list[tuple[str, dict, str]]:
    return Elements(str(html)).elements


def zone_configs(html) -> list[dict]:
    """The JSON configuration blocks config() emitted, decoded."""
    return [
        json.loads(text)
        for tag, attrs, text in parse(html)
        if tag == "script"
        and attrs.get("type") == "application/json"
        and "data-dropzone-config" in attrs
    ]


def zone_config(html) -> dict:
    (config,) = zone_configs(html)
    return config


@pytest.fixture
def app(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="test", TESTING=True)
    Dropzone(app)

    @app.route("/upload", methods=["POST"])
    def upload():
        return ""

    @app.route("/albums/<int:album>/upload", methods=["POST"])
    def album_upload(album):
        return ""

    @app.route("/done")
    def done():
        return "done"

    return app


@pytest.fixture
def ctx(app):
    with app.test_request_context("/page?x=1"):
        yield app
