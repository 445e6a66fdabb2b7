"""A zone's signed rules: files refused while they arrive whoever reads the form first."""

from __future__ import annotations

import base64
import json
import os
import uuid

import pytest
from flask import Flask, render_template_string, request
from flask_wtf.csrf import CSRFProtect

from flask_dropzone._rules import signing, zonerules
from flask_dropzone._rules.zonerules import Zone
from flask_dropzone._stores.disk import files as storage
from flask_dropzone._stores.disk import partials as chunkstore

from support.chunking import CONTENT_TYPE, body, chunk_fields, chunk_requests
from support.html import zone_config, zone_configs

MiB = 1024 * 1024
PAGE = "{{ dropzone.config(max_file_size=1, allowed_file_type='image') }}"
CLIENT = "c" * 32


@pytest.fixture
def rules_app(make_app):
    """``rules_app(csrf=True, page=PAGE, **rules)``: a zone's page at / (``page``), and a view
    at /upload storing with ``rules``."""

    def make(csrf=True, page=PAGE, **rules) -> Flask:
        app = make_app(
            SECRET_KEY="zone rules", DROPZONE_ENABLE_CSRF=csrf, DROPZONE_MAX_FILE_SIZE=64
        )
        if csrf:
            CSRFProtect(app)
        return with_rules_views(app, page, rules)

    return make


def with_rules_views(app: Flask, page: str, rules: dict) -> Flask:
    dropzone = app.extensions["dropzone"]

    @app.get("/")
    def index():
        return render_template_string(page)

    @app.post("/upload")
    def upload():
        return {"stored": [saved.stored_name for saved in dropzone.save(**rules)]}

    @app.post("/as-in-2.0")
    def as_in_2_0():
        return {"got": [f.filename for f in request.files.getlist("file")]}

    return app


def zone_headers(client) -> dict:
    return zone_config(client.get("/").get_data(as_text=True))["options"].get("headers", {})


def post(client, url, data: bytes, headers: dict, filename="photo.png"):
    return client.post(
        url, data=body({}, "file", filename, data), content_type=CONTENT_TYPE, headers=headers
    )


@pytest.fixture
def written(monkeypatch) -> list[int]:
    """The sizes of every write of file bytes to disk."""
    sizes: list[int] = []
    write = storage.write_all

    def counted(fd, data, *args):
        sizes.append(len(data))
        return write(fd, data, *args)

    monkeypatch.setattr(storage, "write_all", counted)
    monkeypatch.setattr(chunkstore, "write_all", counted)
    return sizes


def png(size: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(size - 16)


def stored(app) -> list[str]:
    folder = os.path.join(app.instance_path, "uploads")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_under_csrfprotect_a_file_over_the_zones_limit_is_refused_while_it_arrives(
    written, rules_app
):
    app = rules_app()
    client = app.test_client()
    response = post(client, "/upload", png(16 * MiB), zone_headers(client))
    assert response.status_code == 413 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "File is too big (16 MiB). Max filesize: 1 MiB."
    assert sum(written) <= 2 * MiB  # refused at the limit, not after receiving 16 MiB
    assert stored(app) == []


def test_under_csrfprotect_content_of_another_type_is_refused_from_its_first_bytes(
    written, rules_app
):
    app = rules_app()
    client = app.test_client()
    zip_bytes = b"PK\x03\x04" + os.urandom(MiB // 2)
    response = post(client, "/upload", zip_bytes, zone_headers(client))
    assert response.status_code == 415 and response.mimetype == "text/plain"
    assert sum(written) == 0  # judged by its first bytes, before any reached the disk
    assert stored(app) == []


def test_under_csrfprotect_without_the_rules_the_view_refuses_after_the_body(written, rules_app):
    """What the signed rules buy: without them the view's settings come after the body."""
    app = rules_app(page="{{ dropzone.config() }}", max_file_size=1)
    client = app.test_client()
    headers = zone_headers(client)
    headers.pop(zonerules.HEADER)
    response = post(client, "/upload", png(8 * MiB), headers)
    assert response.status_code == 413 and sum(written) == 8 * MiB
    assert stored(app) == []


def test_a_file_within_the_rules_is_stored_once(monkeypatch, written, rules_app):
    copies = []
    monkeypatch.setattr(storage.DiskFiles, "copy_into", lambda *a, **k: copies.append(1))
    app = rules_app(max_file_size=1, allowed_file_type="image")
    client = app.test_client()
    data = png(MiB // 2)
    response = post(client, "/upload", data, zone_headers(client))
    assert response.json == {"stored": ["photo.png"]}
    assert copies == [] and sum(written) == len(data)


def test_chunks_under_csrfprotect_are_written_once_into_their_upload(tmp_path, written, rules_app):
    page = "{{ dropzone.config(chunking=True, chunk_size=65536, max_file_size=1) }}"
    app = rules_app(page=page, chunking=True, chunk_size=65536, max_file_size=1)
    client = app.test_client()
    headers = zone_headers(client)
    data = png(200_000)
    for request_body in chunk_requests(data, "big.png", 65536):
        response = client.post(
            "/upload", data=request_body, content_type=CONTENT_TYPE, headers=headers
        )
        assert response.status_code == 200, response.get_data(as_text=True)
    assert (tmp_path / "instance" / "uploads" / "big.png").read_bytes() == data
    assert sum(written) < 1.01 * len(data)  # the chunks, their bitmap and manifest: no copy


@pytest.mark.parametrize(("page_limit", "view_limit"), [(1, 8), (8, 1)])
def test_under_csrfprotect_the_stricter_of_the_zones_rules_and_the_views_holds(
    page_limit, view_limit, rules_app
):
    app = rules_app(
        page=f"{{{{ dropzone.config(max_file_size={page_limit}) }}}}",
        max_file_size=view_limit,
    )
    client = app.test_client()
    response = post(client, "/upload", png(2 * MiB), zone_headers(client))
    assert response.status_code == 413 and stored(app) == []


@pytest.mark.parametrize(("page_limit", "view_limit", "status"), [(1, 8, 200), (8, 1, 413)])
def test_a_view_reading_the_body_itself_judges_by_its_own_settings(
    page_limit, view_limit, status, rules_app
):
    """The rules only stand in for the view's settings before they are known: a client can
    leave the header out, so it can neither loosen nor tighten what the view decides."""
    app = rules_app(
        csrf=False,
        page=f"{{{{ dropzone.config(max_file_size={page_limit}) }}}}",
        max_file_size=view_limit,
    )
    client = app.test_client()
    response = post(client, "/upload", png(2 * MiB), zone_headers(client))
    assert response.status_code == status


def test_a_view_reading_request_files_as_in_2_0_gets_only_files_the_zone_accepts(rules_app):
    app = rules_app(csrf=False)
    client = app.test_client()
    headers = zone_headers(client)
    response = post(client, "/as-in-2.0", png(1000), headers)
    assert response.json == {"got": ["photo.png"]}
    response = post(client, "/as-in-2.0", b"PK\x03\x04" + bytes(1000), headers)
    assert response.status_code == 415


def test_forged_or_foreign_rules_are_ignored(rules_app):
    """Under CSRFProtect (the form read before the view), rules the app did not sign for this
    client judge nothing: the file is received and judged by the view (64 MiB here)."""
    app = rules_app(max_file_size=64)
    client = app.test_client()
    headers = zone_headers(client)
    token = headers[zonerules.HEADER]
    forged = (
        base64.urlsafe_b64encode(json.dumps({"k": {"max_file_size": 0.001}}).encode())
        .decode()
        .rstrip("=")
    )
    other = Flask(__name__)
    other.secret_key = "another app"
    foreign = zonerules.sign(other, Zone(), CLIENT, zonerules.VIEW)
    for value in (f"{forged}.{token.rsplit('.', 1)[1]}", token[:-2] + "xx", foreign, "", "garbage"):
        response = post(client, "/upload", png(1000), {**headers, zonerules.HEADER: value})
        assert response.status_code == 200, value
    assert len(stored(app)) == 5


def test_the_rules_hold_only_settings_that_judge_files(rules_app):
    app = rules_app(csrf=False)
    keywords = {"max_file_size": 2, "upload_folder": "/srv/secret", "default_message": "Hi"}
    zone = zonerules.signed(None, keywords, zonerules.VIEW)
    token = zonerules.sign(app, zone, CLIENT, zonerules.VIEW)
    loaded = signing.serializer(app, zonerules.SALTS[zonerules.VIEW]).loads(token)
    assert loaded == {"z": None, "k": {"max_file_size": 2}, "c": CLIENT}
    assert zonerules.options(app, token, CLIENT).max_file_size == 2


def test_rules_signed_before_a_key_rotation_still_hold(rules_app):
    app = rules_app(csrf=False)
    token = zonerules.sign(app, Zone(None, {"max_file_size": 2}), CLIENT, zonerules.VIEW)
    app.config.update(SECRET_KEY="rotated", SECRET_KEY_FALLBACKS=["zone rules"])
    assert zonerules.options(app, token, CLIENT).max_file_size == 2
    fresh = zonerules.sign(app, Zone(None, {"max_file_size": 3}), CLIENT, zonerules.VIEW)
    assert zonerules.options(app, fresh, CLIENT).max_file_size == 3


def test_without_a_secret_key_no_rules_are_sent(rules_app):
    app = rules_app(csrf=False)
    app.config["SECRET_KEY"] = None
    assert zonerules.HEADER not in zone_headers(app.test_client())


# Bound to the client, the app and the time; named zones resolved today -------------------------


def test_a_named_zone_tightened_since_the_page_applies_while_bytes_arrive(written, rules_app):
    app = rules_app(page="{{ dropzone.config(id='avatar') }}")
    app.config["DROPZONE_ZONES"] = {"avatar": {"max_file_size": 20}}
    app.view_functions["upload"] = lambda: {
        "stored": [s.stored_name for s in app.extensions["dropzone"].save()]
    }
    client = app.test_client()
    headers = zone_headers(client)
    app.config["DROPZONE_ZONES"]["avatar"] = {
        "max_file_size": 1
    }  # tightened after the page was sent
    response = post(client, "/upload", png(8 * MiB), headers)
    assert (
        response.status_code == 413 and sum(written) <= 2 * MiB
    )  # refused at today's limit, as it arrived
    assert stored(app) == []


def test_rules_judge_only_for_the_session_they_were_rendered_for(written, rules_app):
    app = rules_app()
    foreign = zone_headers(app.test_client())[zonerules.HEADER]  # another person's page
    client = app.test_client()
    headers = {
        **zone_headers(client),
        zonerules.HEADER: foreign,
    }  # this client's session and CSRF token
    response = post(client, "/upload", png(2 * MiB), headers)
    assert (
        sum(written) == 2 * MiB
    )  # not judged by the foreign rules while arriving: by the view, after
    assert response.status_code == 200


def test_rules_expire_with_chunk_expires(monkeypatch, rules_app):
    import itsdangerous.timed

    app = rules_app(csrf=False)
    app.config["DROPZONE_CHUNK_EXPIRES"] = 600
    token = zonerules.sign(app, Zone(None, {"max_file_size": 2}), CLIENT, zonerules.VIEW)
    assert zonerules.options(app, token, CLIENT) is not None
    assert zonerules.options(app, token, "d" * 32) is None  # another client's
    now = itsdangerous.timed.time.time()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: now + 601)
    assert zonerules.options(app, token, CLIENT) is None


def test_another_zones_header_cannot_open_partial_uploads_a_stricter_view_would_not(
    tmp_path, rules_app
):
    """Under CSRFProtect the chunk goes into its upload by the header's rules before the view
    runs; the view's own settings then judge it too, and an upload they would not have
    opened is refused at once, its bytes gone."""
    big = "{{ dropzone.config(chunking=True, chunk_size=65536, max_file_size=4096, chunk_quota=4096) }}"
    app = rules_app(page=big, chunking=True, chunk_size=65536, max_file_size=2, chunk_quota=2)
    client = app.test_client()
    headers = zone_headers(client)
    declared = 3 * 1024 * MiB
    chunk = body(
        chunk_fields(str(uuid.uuid4()), 0, declared, 65536), "file", "huge.bin", os.urandom(65536)
    )
    response = client.post("/upload", data=chunk, content_type=CONTENT_TYPE, headers=headers)
    assert response.status_code == 413
    chunks = tmp_path / "instance" / "dropzone-chunks"
    assert not [path for path in chunks.rglob("data")]  # no partial upload kept
    again = client.post("/upload", data=chunk, content_type=CONTENT_TYPE, headers=headers)
    assert again.status_code == 413  # the upload stays refused


def test_under_csrfprotect_a_chunk_at_a_view_that_takes_no_chunks_is_refused(tmp_path, rules_app):
    page = "{{ dropzone.config(chunking=True, chunk_size=65536) }}"
    app = rules_app(page=page)  # the view: no chunking
    client = app.test_client()
    headers = zone_headers(client)
    first = chunk_requests(png(200_000), "a.png", 65536)[0]
    response = client.post("/upload", data=first, content_type=CONTENT_TYPE, headers=headers)
    assert (response.status_code, response.get_data(as_text=True)) == (
        400,
        "This zone does not take chunked uploads.",
    )
    assert not list((tmp_path / "instance").rglob("data"))


def test_under_csrfprotect_a_chunked_upload_keeps_its_zones_expiry(tmp_path, rules_app):
    zone = {"chunking": True, "chunk_size": 65536, "chunk_expires": 5}
    app = rules_app(
        page="{{ dropzone.config(chunking=True, chunk_size=65536, chunk_expires=5) }}",
        **zone,
    )
    client = app.test_client()
    first = chunk_requests(png(200_000), "a.png", 65536)[0]
    assert (
        client.post(
            "/upload", data=first, content_type=CONTENT_TYPE, headers=zone_headers(client)
        ).status_code
        == 200
    )
    (manifest,) = (tmp_path / "instance" / "dropzone-chunks").rglob("manifest.json")
    assert json.loads(manifest.read_text())["expires"] == 5


def test_another_zones_header_cannot_open_more_partial_uploads_than_the_view_allows(
    tmp_path, rules_app
):
    big = "{{ dropzone.config(chunking=True, chunk_size=65536, max_file_size=4, unfinished_uploads=50) }}"
    app = rules_app(
        page=big, chunking=True, chunk_size=65536, max_file_size=4, unfinished_uploads=2
    )
    client = app.test_client()
    headers = zone_headers(client)
    statuses = []
    for _ in range(4):
        first = body(
            chunk_fields(str(uuid.uuid4()), 0, 300_000, 65536), "file", "a.bin", os.urandom(65536)
        )
        statuses.append(
            client.post(
                "/upload", data=first, content_type=CONTENT_TYPE, headers=headers
            ).status_code
        )
    assert statuses == [200, 200, 400, 400]
    assert len(list((tmp_path / "instance" / "dropzone-chunks").rglob("data"))) == 2


# A form field's uploads: its ticket is its rules ----------------------------------------------


@pytest.fixture
def field_app(rules_app):
    return lambda **field: with_field(rules_app(), field)


def with_field(app: Flask, field: dict) -> Flask:
    """An app under CSRFProtect showing a form whose DropzoneField has ``field``'s settings at
    ``/form``, and a zone of its own at ``/`` (``PAGE``)."""
    from flask_wtf import FlaskForm

    from flask_dropzone.forms import DropzoneField

    class PostForm(FlaskForm):
        photos = DropzoneField("Photos", **field)

    @app.get("/form")
    def form():
        return render_template_string("<form>{{ form.photos() }}</form>", form=PostForm())

    return app


def field_upload(client, headers: dict, data: bytes):
    return post(client, "/dropzone/pending", data, headers)


def test_under_csrfprotect_a_form_fields_file_is_judged_by_its_ticket_while_it_arrives(
    written, field_app
):
    app = field_app(max_file_size=1, file_too_big="Too big for this form.")
    client = app.test_client()
    (config,) = zone_configs(client.get("/form").get_data(as_text=True))
    headers = config["options"]["headers"]
    assert zonerules.HEADER not in headers  # no rules that a view or a direct upload could take
    response = field_upload(client, headers, png(16 * MiB))
    assert (response.status_code, response.get_data(as_text=True)) == (
        413,
        "Too big for this form.",
    )
    assert sum(written) <= 2 * MiB  # refused at the limit, not after receiving 16 MiB


def test_a_views_rules_judge_nothing_at_a_form_fields_endpoint(written, field_app):
    """The pending endpoint judges by the field's ticket; a view zone's rules sent there (a
    1 MiB zone's, here) are nothing to it."""
    app = field_app(max_file_size=8)
    client = app.test_client()
    (config,) = zone_configs(client.get("/form").get_data(as_text=True))
    view_rules = zone_headers(client)[zonerules.HEADER]
    headers = {**config["options"]["headers"], zonerules.HEADER: view_rules}
    response = field_upload(client, headers, png(2 * MiB))
    assert response.status_code == 200
    assert [entry["filename"] for entry in response.json["files"]] == ["photo.png"]
