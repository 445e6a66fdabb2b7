"""DROPZONE_ZONES: a zone's settings named once, used by the page and by the view."""

from __future__ import annotations

import io

import pytest
from flask import Flask, render_template_string

from flask_dropzone import SettingError

from support.html import zone_config

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
AVATAR = {"allowed_file_type": "image", "max_file_size": 1, "max_files": 1}


@pytest.fixture
def zones_app(make_app):
    return lambda **config: with_zone_views(
        make_app(**{"DROPZONE_ZONES": {"avatar": AVATAR}, **config})
    )


def with_zone_views(app: Flask) -> Flask:
    dropzone = app.extensions["dropzone"]

    @app.get("/")
    def page():
        return render_template_string(
            "{{ dropzone.create(action='upload', id='avatar') }}{{ dropzone.config(id='avatar') }}"
        )

    @app.post("/upload")
    def upload():
        return {"stored": [saved.stored_name for saved in dropzone.save(zone="avatar")]}

    @app.post("/bigger")
    def bigger():
        return {"names": [f.filename for f in dropzone.files(zone="avatar", max_files=2)]}

    return app


def post(client, url, files):
    data = {name: (io.BytesIO(content), filename) for name, filename, content in files}
    return client.post(url, data=data, content_type="multipart/form-data")


def test_a_named_zone_is_the_same_in_the_page_and_in_the_view(zones_app):
    app = zones_app()
    client = app.test_client()
    options = zone_config(client.get("/").get_data(as_text=True))["options"]
    assert (options["maxFiles"], options["maxFilesize"]) == (1, 1) and "image/png" in options[
        "acceptedFiles"
    ]
    assert post(client, "/upload", [("file", "a.txt", b"text")]).status_code == 415
    assert (
        post(client, "/upload", [("file[0]", "a.png", PNG), ("file[1]", "b.png", PNG)]).status_code
        == 400
    )
    assert post(client, "/upload", [("file", "a.png", PNG)]).json == {"stored": ["a.png"]}


def test_keywords_given_as_well_apply_over_the_zone(zones_app):
    app = zones_app()
    response = post(
        app.test_client(), "/bigger", [("file[0]", "a.png", PNG), ("file[1]", "b.png", PNG)]
    )
    assert response.json == {"names": ["a.png", "b.png"]}


def test_an_unknown_zone_is_an_error_that_names_the_known_ones(zones_app):
    app = zones_app()
    with (
        app.test_request_context(method="POST"),
        pytest.raises(SettingError, match="no zone 'avtar'.*'avatar'"),
    ):
        app.extensions["dropzone"].save(zone="avtar")


@pytest.mark.parametrize(
    ("zones", "named"),
    [
        ({"avatar": {"max_file_size": -1}}, "max_file_size"),
        ({"avatar": {"max_file_sise": 1}}, "DROPZONE_ZONES\\['avatar'\\].*max_file_size"),
        ({"avatar": "image"}, "DROPZONE_ZONES\\['avatar'\\]"),
        (["avatar"], "DROPZONE_ZONES"),
    ],
)
def test_a_zone_that_cannot_work_fails_at_start_up(zones, named, make_app):
    with pytest.raises(SettingError, match=named):
        make_app(DROPZONE_ZONES=zones)


def test_the_zone_is_never_taken_from_the_request(zones_app):
    app = zones_app()
    client = app.test_client()
    response = client.post(
        "/upload?zone=other",
        data={"zone": "other", "file": (io.BytesIO(b"text"), "a.txt")},
        content_type="multipart/form-data",
        headers={"X-Dropzone-Zone-Name": "other"},
    )
    assert response.status_code == 415  # still the avatar zone's rules
