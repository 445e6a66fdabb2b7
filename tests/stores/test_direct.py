"""DROPZONE_S3_DIRECT: browsers PUT parts straight to the bucket through presigned URLs; the
app starts, judges and completes each upload without receiving a file byte. Against a real
S3 server (SeaweedFS)."""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import random
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, render_template_string

from flask_dropzone import Dropzone, SettingError, file_stored, upload_refused
from flask_dropzone import _stores as stores
from flask_dropzone._protocol import deletion
from flask_dropzone._rules import direct, metadata, parts, zonerules

from support import photos
from support.chunking import chunk_requests
from support.chunking import send as send_chunk
from support.direct import (
    ABORT,
    COMPLETE,
    RULES_ENVIRON,
    START,
    STATUS,
    URLS,
    MiB,
    post,
    put,
    send,
    start,
    ticket,
    upload_parts,
    zone_header,
)
from support.html import zone_config, zone_configs

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.fixture
def s3(s3_server, s3_bucket):
    from support.s3server import make_client

    client = make_client(s3_server)

    class S3:
        raw = client
        bucket = s3_bucket

        @staticmethod
        def get(key: str) -> bytes:
            return client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()

        @staticmethod
        def keys() -> list[str]:
            """Every object but the sweep's stamp and the claims of uploads that ended (each
            stays until the sweep, so that a request sent again finds its upload ended)."""
            return sorted(
                key
                for key in S3.all_keys()
                if not key.endswith("_dropzone/last-clean") and key not in S3.ended()
            )

        @staticmethod
        def all_keys() -> list[str]:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket)
            return [entry["Key"] for page in pages for entry in page.get("Contents", ())]

        @staticmethod
        def ended() -> list[str]:
            claims = [
                key
                for key in S3.all_keys()
                if "/.dropzone-direct/" in key and key.endswith(".claim")
            ]
            return sorted(
                key for key in claims if S3.head(key)["Metadata"].get("fdz-state") == "ended"
            )

        @staticmethod
        def head(key: str) -> dict:
            return client.head_object(Bucket=s3_bucket, Key=key)

        @staticmethod
        def open_uploads() -> list[str]:
            return [
                u["Key"] for u in client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
            ]

    return S3


def decoded(payload: str) -> dict:
    """The JSON an itsdangerous payload carries (compressed when it starts with a dot)."""
    import zlib

    data = base64.urlsafe_b64decode(payload.lstrip(".") + "=" * (-len(payload.lstrip(".")) % 4))
    return json.loads(zlib.decompress(data) if payload.startswith(".") else data)


def encoded(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def png(size: int) -> bytes:
    return PNG + os.urandom(size - len(PNG))


# Settings ------------------------------------------------------------------------------


ON_S3 = {"DROPZONE_STORAGE": "s3", "DROPZONE_S3_BUCKET": "b1b"}


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"DROPZONE_S3_DIRECT": True}, "DROPZONE_S3_DIRECT"),
        (
            {
                "DROPZONE_S3_DIRECT": "sometimes",
                "DROPZONE_STORAGE": "s3",
                "DROPZONE_S3_BUCKET": "b1b",
            },
            "DROPZONE_S3_DIRECT",
        ),
        (
            {
                "DROPZONE_S3_DIRECT": True,
                "DROPZONE_STORAGE": "s3",
                "DROPZONE_S3_BUCKET": "b1b",
                "DROPZONE_CHUNK_SIZE": MiB,
            },
            "DROPZONE_CHUNK_SIZE",
        ),
        (
            {
                "DROPZONE_S3_DIRECT": True,
                "DROPZONE_STORAGE": "s3",
                "DROPZONE_S3_BUCKET": "b1b",
                "DROPZONE_CHUNK_SIZE": 6 * 1024**3,
            },
            "DROPZONE_CHUNK_SIZE",
        ),
        (
            {
                "DROPZONE_S3_DIRECT": True,
                "DROPZONE_STORAGE": "s3",
                "DROPZONE_S3_BUCKET": "b1b",
                "DROPZONE_CHUNK_SIZE": 5 * MiB,
                "DROPZONE_ZONES": {"tiny": {"chunk_size": MiB}},
            },
            r"DROPZONE_ZONES\['tiny'\]",
        ),
        # a zone's own s3_direct: what it needs, the error naming the zone
        (
            {"DROPZONE_ZONES": {"up": {"s3_direct": True}}},
            r"DROPZONE_ZONES\['up'\] s3_direct = True needs DROPZONE_STORAGE = 's3'",
        ),
        (
            {**ON_S3, "DROPZONE_ZONES": {"up": {"s3_direct": True, "chunk_size": MiB}}},
            r"DROPZONE_ZONES\['up'\] chunk_size is 1048576 bytes",
        ),
        (
            {**ON_S3, "DROPZONE_ZONES": {"up": {"s3_direct": True, "in_form": True}}},
            r"DROPZONE_ZONES\['up'\]: s3_direct=True cannot go with in_form",
        ),
    ],
)
def test_direct_settings_that_cannot_work_fail_at_start_up_naming_the_setting(
    config, named, make_app
):
    with pytest.raises(SettingError, match=named):
        make_app(**config)


def test_the_direct_endpoints_exist_on_s3_and_a_zone_goes_direct_by_its_setting(
    s3_settings, direct_app, make_app
):
    names = ("start", "urls", "complete", "abort", "status")
    disk = make_app(instance="disk")
    assert stores.of(disk).direct is None
    assert disk.test_client().post(START, json={"name": "a", "size": 1}).status_code == 404
    app = direct_app(DROPZONE_S3_DIRECT=False)
    assert stores.of(app).direct is not None  # any zone may go direct: s3_direct is a zone's too
    client = app.test_client()
    assert page_config(client)["direct"] is None
    config = page_config(client, s3_direct=True)
    assert config["direct"] == {name: f"/dropzone/direct/{name}" for name in names}
    refused = client.post(START, json={"name": "a", "size": 1})  # no direct zone's rules
    assert (refused.status_code, refused.get_data(as_text=True)) == (400, zonerules.EXPIRED)


def test_a_zones_folder_must_be_one_the_bucket_can_have(s3_settings, direct_app):
    with pytest.raises(SettingError, match=r"DROPZONE_ZONES\['bad'\] upload_folder"):
        direct_app(DROPZONE_ZONES={"bad": {"upload_folder": "../up"}})
    app = direct_app()
    with app.test_request_context(), pytest.raises(SettingError, match="config"):
        app.extensions["dropzone"].config(upload_folder="_dropzone/x")
    with pytest.raises(ValueError, match="store's own"):
        stores.of(app).files.folder(".dropzone-direct/abc", "")


def test_direct_uploads_need_a_secret_key(s3_settings, direct_app):
    app = direct_app(SECRET_KEY=None, TESTING=True)
    with pytest.raises(SettingError, match="DROPZONE_S3_DIRECT needs Flask's SECRET_KEY"):
        app.test_client().post(START, json={"name": "a", "size": 1})
    zoned = direct_app(
        SECRET_KEY=None,
        TESTING=True,
        DROPZONE_S3_DIRECT=False,
        DROPZONE_ZONES={"up": {"s3_direct": True}},
    )
    with pytest.raises(
        SettingError, match=r"DROPZONE_S3_DIRECT \(zone 'up'\) needs Flask's SECRET"
    ):
        zoned.test_client().post(START, json={"name": "a", "size": 1})
    del zoned.config["DROPZONE_ZONES"]["up"]
    with pytest.raises(SettingError, match=r"DROPZONE_S3_DIRECT \(or s3_direct=True\) needs"):
        zoned.test_client().post("/page", json={"s3_direct": True})


def test_only_a_zone_that_goes_direct_needs_chunks_that_are_parts(s3_settings, direct_app):
    zones = {"small": {"chunk_size": MiB}, "album": {"in_form": True, "chunk_size": MiB}}
    app = direct_app(DROPZONE_S3_DIRECT=False, DROPZONE_ZONES=zones, TESTING=True)
    client = app.test_client()
    with pytest.raises(SettingError, match=r"config\(\) chunk_size is 1048576 bytes"):
        client.post("/page", json={"s3_direct": True, "chunk_size": MiB})
    direct_app(DROPZONE_ZONES={"album": zones["album"]})  # never direct


def test_a_zone_in_a_form_or_a_form_field_is_never_direct(s3_settings, direct_app):
    from flask_dropzone.forms import DropzoneField

    app = direct_app(TESTING=True)
    client = app.test_client()
    assert page_config(client, in_form=True)["direct"] is None
    with pytest.raises(SettingError, match=r"config\(\): s3_direct=True cannot go with in_form"):
        client.post("/page", json={"in_form": True, "s3_direct": True})
    with pytest.raises(SettingError, match=r"DropzoneField\(\): s3_direct=True: a form field's"):
        DropzoneField("Photos", s3_direct=True)


# The happy path --------------------------------------------------------------------------


def test_a_file_sent_in_parts_straight_to_the_bucket_is_stored_byte_for_byte(
    s3_settings, s3, direct_app
):
    app = direct_app()
    heard = []
    file_stored.connect(lambda sender, saved: heard.append(saved), app, weak=False)
    client = app.test_client()
    data = os.urandom(15 * MiB + MiB)  # three parts of 5 MiB and a tail of 1 MiB
    started = start(client, "big.bin", len(data), kind="application/octet-stream")
    assert started.status_code == 200 and started.headers["Cache-Control"] == "no-store"
    answer = started.json
    assert (answer["partSize"], answer["parts"], answer["expires"]) == (
        5 * MiB,
        4,
        direct.URL_EXPIRES,
    )
    assert len(answer["urls"]) == 4
    for url in answer["urls"]:
        assert "content-length" in parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(
            ";"
        )
    made = ticket(app, answer["upload"])
    assert made.base.startswith("uploads/.dropzone-direct/") and (made.key, made.name) == (
        "uploads/big.bin",
        "big.bin",
    )
    assert (
        s3.open_uploads() == [made.key] and s3.get(made.key) == b""
    )  # the name is held while it is sent

    order = [3, 1, 4, 2]
    random.Random(7).shuffle(order)
    upload_parts(answer, data, order)
    held = client.get(STATUS, query_string={"upload": answer["upload"]})
    assert held.json == {"held": [1, 2, 3, 4], "parts": 4, "partSize": 5 * MiB, "size": len(data)}

    done = client.post(COMPLETE, json={"upload": answer["upload"]})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.json == {"stored": [{"filename": "big.bin", "stored_name": "big.bin"}]}
    assert s3.get("uploads/big.bin") == data
    assert s3.keys() == ["uploads/big.bin"]  # no first part, copy of it or quota marker left
    assert s3.ended() == [made.base + ".claim"] and s3.open_uploads() == []
    assert [(s.filename, s.stored_name, s.path, s.size, s.mimetype, s.location) for s in heard] == [
        ("big.bin", "big.bin", None, len(data), "application/octet-stream", "uploads/big.bin")
    ]
    assert (
        max(app.wsgi_app.sizes) < 4096 and sum(app.wsgi_app.sizes) < 16384
    )  # no file byte came to the app


def test_complete_answers_as_a_view_answers_with_dropzone_answer(s3_settings, s3, direct_app):
    app = direct_app()
    heard = []
    file_stored.connect(lambda sender, saved: heard.append(saved), app, weak=False)
    client = app.test_client()
    send(client, "a b.txt", b"first")
    done = send(client, "../a b.txt", b"second")  # stored under another name than the client's
    assert done.json == {"stored": [{"filename": "../a b.txt", "stored_name": "a b (1).txt"}]}
    assert done.json == app.extensions["dropzone"].answer(heard[1:])


def test_names_already_taken_get_a_free_variant_and_an_empty_file_is_one_empty_part(
    s3_settings, s3, direct_app
):
    app = direct_app()
    client = app.test_client()
    assert send(client, "a.txt", b"first").json["stored"][0]["stored_name"] == "a.txt"
    assert send(client, "a.txt", b"second").json["stored"][0]["stored_name"] == "a (1).txt"
    empty = start(client, "empty.txt", 0).json
    assert (empty["parts"], len(empty["urls"])) == (1, 1)
    upload_parts(empty, b"")
    assert client.post(COMPLETE, json={"upload": empty["upload"]}).status_code == 200
    assert s3.get("uploads/a.txt") == b"first" and s3.get("uploads/a (1).txt") == b"second"
    assert s3.get("uploads/empty.txt") == b""
    assert s3.keys() == ["uploads/a (1).txt", "uploads/a.txt", "uploads/empty.txt"]


def test_parts_are_listed_page_by_page(s3_settings, s3, monkeypatch, direct_app):
    from flask_dropzone._stores.s3 import direct as s3_direct

    requests = []
    monkeypatch.setattr(s3_direct, "LIST_PAGE", 2)
    app = direct_app()
    stores.of(app).files.client.meta.events.register(
        "before-call.s3.ListParts",
        lambda params, **kwargs: requests.append(params),
        unique_id="count-list-parts",
    )
    client = app.test_client()
    data = os.urandom(26 * MiB)
    answer = start(client, "pages.bin", len(data)).json
    upload_parts(answer, data, [5, 3, 6, 1, 4, 2])
    held = client.get(STATUS, query_string={"upload": answer["upload"]}).json["held"]
    assert held == [1, 2, 3, 4, 5, 6] and len(requests) == 3  # parts 2 to 6: the first is an object
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 200
    assert s3.get("uploads/pages.bin") == data


def test_simultaneous_completes_store_the_file_once(s3_settings, s3, direct_app):
    import threading

    app = direct_app()
    heard = []
    file_stored.connect(lambda sender, saved: heard.append(saved), app, weak=False)
    owner = app.test_client()
    data = os.urandom(6 * MiB)
    answer = start(owner, "race.bin", len(data)).json
    upload_parts(answer, data)
    cookie = owner.get_cookie("session")
    clients = []
    for _ in range(4):
        each = app.test_client()
        each.set_cookie(cookie.key, cookie.value)
        each.environ_base.update(owner.environ_base)  # the same page
        clients.append(each)
    statuses = []
    gate = threading.Barrier(len(clients))

    def complete(each):
        gate.wait()
        statuses.append(each.post(COMPLETE, json={"upload": answer["upload"]}).status_code)

    threads = [threading.Thread(target=complete, args=(each,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200, 404, 404, 404]
    assert (
        s3.keys() == ["uploads/race.bin"] and len(heard) == 1 and s3.get("uploads/race.bin") == data
    )


def test_a_completion_whose_request_died_is_taken_over_after_its_lease(
    s3_settings, s3, monkeypatch, direct_app
):
    from flask_dropzone._stores.s3 import direct as s3_direct

    app = direct_app()
    client = app.test_client()
    data = os.urandom(MiB)
    answer = start(client, "dead.bin", len(data)).json
    upload_parts(answer, data)
    s3.raw.put_object(
        Bucket=s3.bucket, Key=ticket(app, answer["upload"]).base + ".claim", Body=b""
    )  # a dead request's
    assert (
        client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 404
    )  # held, within its lease
    monkeypatch.setattr(s3_direct, "CLAIM_LEASE", 0.0)
    time.sleep(1.1)
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 200
    assert s3.keys() == ["uploads/dead.bin"] and s3.get("uploads/dead.bin") == data


def test_fresh_urls_and_the_status_let_a_browser_resume(s3_settings, s3, direct_app):
    app = direct_app()
    client = app.test_client()
    data = os.urandom(11 * MiB)
    answer = start(client, "r.bin", len(data)).json
    upload_parts(answer, data, [2])
    status = client.get(STATUS, query_string={"upload": answer["upload"]}).json
    assert (status["held"], status["parts"]) == ([2], 3)
    fresh = client.post(URLS, json={"upload": answer["upload"]})
    assert fresh.status_code == 200 and 0 < fresh.json["expires"] <= direct.URL_EXPIRES
    upload_parts({**answer, "urls": fresh.json["urls"]}, data, [1, 3])
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 200
    assert s3.get("uploads/r.bin") == data


def test_delete_on_remove_sends_a_token_that_deletes_the_stored_file(s3_settings, s3, direct_app):
    app = direct_app()
    client = app.test_client()
    done = send(client, "d.txt", b"hello", zone_header(client, delete_on_remove=True))
    (entry,) = json.loads(done.headers[deletion.HEADER])
    assert entry["filename"] == "d.txt" and s3.keys() == ["uploads/d.txt"]
    assert client.post("/dropzone/delete", data={"token": entry["token"]}).status_code == 200
    assert s3.keys() == []
    assert (
        deletion.HEADER not in send(client, "e.txt", b"x", zone_header(client)).headers
    )  # the app's setting: off


def test_a_naming_function_gets_the_file_as_save_gives_it(s3_settings, s3, direct_app):
    seen = []

    def name(file):
        seen.append((file.filename, file.size, file.detected_type, file.stream.read(8)))
        return "named.png"

    app = direct_app(DROPZONE_STORED_NAME=name)
    data = png(6 * MiB)
    assert send(app.test_client(), "x.png", data).json["stored"][0]["stored_name"] == "named.png"
    assert seen == [("x.png", len(data), "image/png", data[:8])]
    assert s3.get("uploads/named.png") == data


# Refused before anything is created -----------------------------------------------------


def test_a_file_over_the_zones_limit_is_refused_before_anything_is_created(
    s3_settings, s3, direct_app
):
    app = direct_app()
    refused = []
    upload_refused.connect(lambda sender, **info: refused.append(info), app, weak=False)
    client = app.test_client()
    response = start(client, "big.bin", 11 * MiB, zone_header(client, max_file_size=10))
    assert (response.status_code, response.mimetype) == (413, "text/plain")
    assert response.get_data(as_text=True) == "File is too big (11 MiB). Max filesize: 10 MiB."
    assert refused == [
        {
            "filename": "big.bin",
            "status": 413,
            "reason": response.get_data(as_text=True),
            "zone": None,
        }
    ]
    assert start(client, "big.bin", 65 * MiB).status_code == 413  # without rules: the app's 64 MiB
    assert s3.keys() == [] and s3.open_uploads() == []


def test_a_name_the_zone_does_not_allow_is_refused_before_anything_is_created(
    s3_settings, s3, direct_app
):
    app = direct_app()
    client = app.test_client()
    headers = zone_header(client, allowed_file_type="image", invalid_file_type="Pictures only.")
    response = start(
        client, "notes.txt", 100, headers, kind="image/png"
    )  # the browser's type counts for nothing
    assert (response.status_code, response.mimetype) == (415, "text/plain")
    assert response.get_data(as_text=True) == "Pictures only."
    assert s3.keys() == [] and s3.open_uploads() == []


def test_a_file_of_more_than_10000_parts_is_refused(s3_settings, s3, direct_app):
    app = direct_app()
    client = app.test_client()
    headers = zone_header(client, max_file_size=None, chunk_quota=None)
    response = start(client, "huge.bin", 10_000 * 5 * MiB + 1, headers)
    assert (response.status_code, response.get_data(as_text=True)) == (
        413,
        (
            "The file is too large to upload here: it would take more than 10,000 parts of 5 MiB (at most 50,000 MiB)."
        ),
    )
    fits = start(client, "fits.bin", 10_000 * 5 * MiB, headers)
    assert (
        fits.status_code == 200
        and fits.json["parts"] == 10_000
        and len(fits.json["urls"]) == 10_000
    )
    assert client.post(ABORT, json={"upload": fits.json["upload"]}).status_code == 204
    assert s3.keys() == [] and s3.open_uploads() == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", "application/json"),
        (b'{"name": "a", "size": 1}', "text/plain"),
        (b"[1, 2]", "application/json"),
        (b'{"size": 1}', "application/json"),
        (b'{"name": "", "size": 1}', "application/json"),
        (b'{"name": "a"}', "application/json"),
        (b'{"name": "a", "size": -1}', "application/json"),
        (b'{"name": "a", "size": "5"}', "application/json"),
        (b'{"name": "a", "size": 1.5}', "application/json"),
        (b'{"name": "a", "size": true}', "application/json"),
        (b'{"name": "a", "size": 1, "type": 7}', "application/json"),
        (b'{"name": 7, "size": 1}', "application/json"),
    ],
)
def test_a_malformed_start_is_400_in_plain_text(s3_settings, s3, body, content_type, direct_app):
    app = direct_app()
    response = app.test_client().post(START, data=body, content_type=content_type)
    assert (response.status_code, response.mimetype) == (400, "text/plain")
    assert s3.keys() == [] and s3.open_uploads() == []


@pytest.mark.parametrize("endpoint", [URLS, COMPLETE, ABORT])
def test_a_request_naming_no_upload_is_400(s3_settings, s3, endpoint, direct_app):
    app = direct_app()
    for body in ({}, {"upload": 7}, {"upload": ""}):
        assert app.test_client().post(endpoint, json=body).status_code == 400


def test_unfinished_uploads_count_against_the_clients_quota(s3_settings, s3, direct_app):
    app = direct_app(DROPZONE_CHUNK_QUOTA=15)
    client = app.test_client()
    first = start(client, "a.bin", 10 * MiB)
    assert first.status_code == 200
    second = start(client, "b.bin", 10 * MiB)
    assert (second.status_code, second.get_data(as_text=True)) == (
        413,
        "Too many unfinished uploads; finish or cancel some first.",
    )
    assert start(app.test_client(), "b.bin", 10 * MiB).status_code == 200  # another client's quota
    assert client.post(ABORT, json={"upload": first.json["upload"]}).status_code == 204
    assert start(client, "b.bin", 10 * MiB).status_code == 200  # an aborted upload counts no more


def test_a_client_has_at_most_unfinished_uploads_even_of_nothing(s3_settings, s3, direct_app):
    """Declaring size 0 costs no quota; each upload still holds a name and a multipart upload."""
    app = direct_app(DROPZONE_UNFINISHED_UPLOADS=3)
    client = app.test_client()
    answers = [start(client, "report.pdf", 0) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 413]
    assert (
        answers[3].get_data(as_text=True)
        == "Too many unfinished uploads; finish or cancel some first."
    )
    assert len(s3.open_uploads()) == 3
    assert client.post(ABORT, json={"upload": answers[0].json["upload"]}).status_code == 204
    assert start(client, "report.pdf", 0).status_code == 200  # an aborted upload counts no more


# Refused after the parts arrived -------------------------------------------------------


def test_content_that_contradicts_its_name_is_refused_and_removed(s3_settings, s3, direct_app):
    app = direct_app()
    refused = []
    upload_refused.connect(lambda sender, **info: refused.append(info), app, weak=False)
    heard = []
    file_stored.connect(lambda sender, saved: heard.append(saved), app, weak=False)
    client = app.test_client()
    headers = zone_header(
        client,
        allowed_file_type="image",
        content_mismatch="Pictures only, not {{type}} look-alikes.",
    )
    data = b"<!DOCTYPE html><html><script>alert(1)</script></html>" + b" " * (6 * MiB)
    started = start(client, "x.png", len(data), headers)
    assert started.status_code == 200
    upload_parts(started.json, data)
    response = client.post(COMPLETE, json={"upload": started.json["upload"]})
    assert (response.status_code, response.mimetype, response.get_data(as_text=True)) == (
        415,
        "text/plain",
        "Pictures only, not PNG look-alikes.",
    )
    assert refused == [
        {
            "filename": "x.png",
            "status": 415,
            "reason": "Pictures only, not PNG look-alikes.",
            "zone": None,
        }
    ]
    assert heard == [] and s3.keys() == [] and s3.open_uploads() == []
    again = client.post(COMPLETE, json={"upload": started.json["upload"]})
    assert again.status_code == 404 and s3.keys() == []


def test_a_refused_file_is_never_completed_so_never_under_a_name(s3_settings, s3, direct_app):
    app = direct_app()
    completions = []
    stores.of(app).files.client.meta.events.register(
        "before-call.s3.CompleteMultipartUpload",
        lambda params, **kwargs: completions.append(params),
        unique_id="count-completions",
    )
    client = app.test_client()
    headers = zone_header(client, allowed_file_type="image")
    data = b"<html><script>alert(1)</script></html>" + b" " * (6 * MiB)
    assert send(client, "x.png", data, headers).status_code == 415
    assert completions == [] and s3.keys() == [] and s3.open_uploads() == []
    assert send(client, "y.png", png(6 * MiB), headers).status_code == 200 and len(completions) == 1


def test_the_first_part_judged_is_the_one_stored_whatever_the_browser_sends_after(
    s3_settings, s3, monkeypatch, direct_app
):
    from flask_dropzone._stores.s3.direct import S3Direct

    app = direct_app()
    client = app.test_client()
    headers = zone_header(client, allowed_file_type="image")
    data = png(7 * MiB)
    answer = start(client, "swap.png", len(data), headers).json
    upload_parts(answer, data)
    copy_first = S3Direct._copy_first
    html = b"<html><script>alert(1)</script></html>".ljust(5 * MiB)

    def then_swapped(store, base):
        copy_first(store, base)
        assert (
            put(answer["urls"][0], html) == 200
        )  # its URL still holds: the first part is HTML now

    monkeypatch.setattr(S3Direct, "_copy_first", then_swapped)
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 200
    assert s3.get("uploads/swap.png") == data and s3.keys() == ["uploads/swap.png"]


# Hostile clients -----------------------------------------------------------------------


def test_a_part_longer_or_shorter_than_signed_is_refused_by_s3(s3_settings, s3, direct_app):
    app = direct_app()
    client = app.test_client()
    answer = start(client, "p.bin", 6 * MiB).json
    url = answer["urls"][0]
    assert put(url, os.urandom(5 * MiB + 1)) == 403
    assert put(url, os.urandom(5 * MiB - 1)) == 403
    assert client.get(STATUS, query_string={"upload": answer["upload"]}).json["held"] == []
    assert put(url, os.urandom(5 * MiB)) == 200


def test_a_url_tampered_with_or_expired_is_refused_by_s3(s3_settings, s3, direct_app):
    app = direct_app()
    client = app.test_client()
    answer = start(client, "t.bin", 11 * MiB).json
    first, second = answer["urls"][:2]
    assert put(second.replace("partNumber=2", "partNumber=3"), os.urandom(5 * MiB)) == 403
    assert (
        put(second.replace("partNumber=2", "partNumber=1"), os.urandom(5 * MiB)) == 403
    )  # part 1 is the server's
    for url, key in ((first, "/.dropzone-direct/"), (second, "/t.bin")):
        other = url.replace(key, key.replace("/", "/x", 1) if key[1] == "." else "/x.bin")
        assert other != url and put(other, os.urandom(5 * MiB)) == 403
    held = ticket(app, answer["upload"])
    with app.app_context():
        direct_store = stores.of(app).direct
        short = direct_store.part_urls(held, 1)[:2]
    time.sleep(2.2)
    assert [put(url, os.urandom(5 * MiB)) for url in short] == [403, 403]
    assert client.get(STATUS, query_string={"upload": answer["upload"]}).json["held"] == []


def test_another_session_cannot_use_an_upload(s3_settings, s3, direct_app):
    app = direct_app()
    owner, stranger = app.test_client(), app.test_client()
    zone_header(stranger)  # a page of the same zone, in another session
    data = os.urandom(MiB)
    answer = start(owner, "mine.bin", len(data)).json
    upload_parts(answer, data)
    token = {"upload": answer["upload"]}
    for endpoint in (COMPLETE, URLS, ABORT):
        response = stranger.post(endpoint, json=token)
        assert (response.status_code, response.mimetype, response.get_data(as_text=True)) == (
            404,
            "text/plain",
            "There is no such upload.",
        ), endpoint
    assert stranger.get(STATUS, query_string=token).status_code == 404
    assert s3.open_uploads() == [ticket(app, answer["upload"]).key]  # nothing was aborted
    assert owner.post(COMPLETE, json=token).status_code == 200
    assert s3.get("uploads/mine.bin") == data


def test_a_forged_or_foreign_token_is_404(s3_settings, s3, direct_app):
    app = direct_app()
    client = app.test_client()
    answer = start(client, "f.bin", 100).json
    token = answer["upload"]
    payload, stamp, signature = token.rsplit(".", 2)
    claims = decoded(payload)
    claims["s"], claims["f"] = 5, "uploads/elsewhere/"
    forged = encoded(claims)
    other = Flask(__name__)
    other.config.update(SECRET_KEY="another app")
    foreign = direct.make_token(other, ticket(app, token))
    for bad in (f"{forged}.{stamp}.{signature}", token[:-2] + "xx", foreign, "garbage"):
        assert client.post(COMPLETE, json={"upload": bad}).status_code == 404, bad
        assert client.get(STATUS, query_string={"upload": bad}).status_code == 404, bad
    assert s3.open_uploads() == [ticket(app, token).key]


def test_a_missing_part_is_409_and_the_upload_stays_open(s3_settings, s3, direct_app):
    app = direct_app()
    client = app.test_client()
    data = os.urandom(12 * MiB)
    answer = start(client, "m.bin", len(data)).json
    upload_parts(answer, data, [1, 3])
    response = client.post(COMPLETE, json={"upload": answer["upload"]})
    assert (response.status_code, response.mimetype, response.get_data(as_text=True)) == (
        409,
        "text/plain",
        "Part 2 is missing.",
    )
    assert (
        s3.open_uploads() == ["uploads/m.bin"] and s3.get("uploads/m.bin") == b""
    )  # open, its name held
    upload_parts(answer, data, [2])
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 200
    assert s3.get("uploads/m.bin") == data


def test_a_part_of_the_wrong_size_is_409(s3_settings, s3, direct_app):
    """A presigned URL takes only its exact length: the wrong size comes out of band."""
    app = direct_app()
    client = app.test_client()
    data = os.urandom(7 * MiB)
    answer = start(client, "w.bin", len(data)).json
    held = ticket(app, answer["upload"])
    upload_parts(answer, data, [1])
    s3.raw.upload_part(
        Bucket=s3.bucket, Key=held.key, UploadId=held.upload_id, PartNumber=2, Body=b"x" * 100
    )
    response = client.post(COMPLETE, json={"upload": answer["upload"]})
    assert (response.status_code, response.get_data(as_text=True)) == (
        409,
        f"Part 2 has 100 bytes instead of {2 * MiB}.",
    )
    assert client.get(STATUS, query_string={"upload": answer["upload"]}).json["held"] == [1]
    upload_parts(answer, data, [2])  # sent again, it replaces the wrong one
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 200
    assert s3.get("uploads/w.bin") == data


def test_parts_joined_into_another_size_than_declared_leave_nothing_under_the_name(
    s3_settings, s3, monkeypatch, direct_app
):
    from flask_dropzone._stores.s3.direct import S3Direct

    app = direct_app()
    client = app.test_client()
    data = os.urandom(11 * MiB)
    answer = start(client, "short.bin", len(data)).json
    upload_parts(answer, data)
    join = S3Direct.join
    monkeypatch.setattr(
        S3Direct, "join", lambda store, held, parts: join(store, held, parts[:-1])
    )  # a server that leaves the last part out
    response = client.post(COMPLETE, json={"upload": answer["upload"]})
    assert (response.status_code, response.get_data(as_text=True)) == (
        409,
        "The parts did not make the file declared; add the file again.",
    )
    assert s3.keys() == [] and s3.open_uploads() == []
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 404


def test_a_replayed_complete_stores_nothing_more(s3_settings, s3, direct_app):
    app = direct_app()
    heard = []
    file_stored.connect(lambda sender, saved: heard.append(saved), app, weak=False)
    client = app.test_client()
    data = os.urandom(6 * MiB)
    started = start(client, "once.bin", len(data)).json
    upload_parts(started, data)
    assert client.post(COMPLETE, json={"upload": started["upload"]}).status_code == 200
    again = client.post(COMPLETE, json={"upload": started["upload"]})
    assert (again.status_code, again.get_data(as_text=True)) == (404, "There is no such upload.")
    assert s3.keys() == ["uploads/once.bin"] and len(heard) == 1
    assert client.get(STATUS, query_string={"upload": started["upload"]}).status_code == 404
    assert (
        client.post(ABORT, json={"upload": started["upload"]}).status_code == 204
    )  # ended: nothing to abort
    assert s3.get("uploads/once.bin") == data and len(heard) == 1
    assert (
        client.post(URLS, json={"upload": started["upload"]}).status_code == 404
    )  # no URL for an ended upload


def test_a_complete_that_failed_after_joining_the_parts_can_be_sent_again(
    s3_settings, s3, monkeypatch, direct_app
):
    from flask_dropzone._stores import StoreUnavailable
    from flask_dropzone._stores.s3.direct import S3Direct

    app = direct_app()
    client = app.test_client()
    data = os.urandom(6 * MiB)
    started = start(client, "retry.bin", len(data)).json
    upload_parts(started, data)
    join = S3Direct.join

    def then_unavailable(*args, **kwargs):
        join(*args, **kwargs)
        raise StoreUnavailable("the bucket went away")

    monkeypatch.setattr(S3Direct, "join", then_unavailable)  # right after the parts were joined
    failed = client.post(COMPLETE, json={"upload": started["upload"]})
    assert (failed.status_code, failed.mimetype) == (503, "text/plain") and s3.open_uploads() == []
    monkeypatch.setattr(S3Direct, "join", join)
    assert client.post(COMPLETE, json={"upload": started["upload"]}).status_code == 200
    assert s3.get("uploads/retry.bin") == data and s3.keys() == ["uploads/retry.bin"]


def test_a_client_aborts_its_upload(s3_settings, s3, direct_app):
    app = direct_app()
    client = app.test_client()
    data = os.urandom(6 * MiB)
    answer = start(client, "gone.bin", len(data)).json
    upload_parts(answer, data, [1])
    response = client.post(ABORT, json={"upload": answer["upload"]})
    assert response.status_code == 204
    assert s3.keys() == [] and s3.open_uploads() == []
    assert put(answer["urls"][1], data[5 * MiB :]) == 404  # S3: NoSuchUpload
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 404
    assert client.get(STATUS, query_string={"upload": answer["upload"]}).status_code == 404
    assert client.post(URLS, json={"upload": answer["upload"]}).status_code == 404


# Zones -----------------------------------------------------------------------------------


def test_a_named_zones_rules_and_folder_apply_through_its_signed_header(
    s3_settings, s3, direct_app
):
    zones = {
        "avatar": {
            "allowed_file_type": "image",
            "max_file_size": 8,
            "upload_folder": "avatars",
            "file_too_big": "Too big for an avatar.",
        }
    }
    app = direct_app(DROPZONE_ZONES=zones)

    @app.get("/avatar")
    def avatar():
        return render_template_string('{{ dropzone.config(id="avatar") }}')

    client = app.test_client()
    config = zone_config(client.get("/avatar").get_data(as_text=True))
    headers = {zonerules.HEADER: config["options"]["headers"][zonerules.HEADER]}
    too_big = start(client, "me.png", 9 * MiB, headers)
    assert (too_big.status_code, too_big.get_data(as_text=True)) == (413, "Too big for an avatar.")
    assert start(client, "me.txt", 100, headers).status_code == 415
    data = png(6 * MiB)
    done = send(client, "me.png", data, headers)
    assert done.status_code == 200 and s3.keys() == ["uploads/avatars/me.png"]
    assert s3.get("uploads/avatars/me.png") == data
    # A named zone travels by name: the page carries no folder, and a header changed by the
    # client is no zone's at all: nothing is taken without valid rules.
    payload, stamp, signature = headers[zonerules.HEADER].rsplit(".", 2)
    rules = decoded(payload)
    assert (rules["z"], rules["k"]) == ("avatar", {})
    rules["k"] = {
        "upload_folder": "elsewhere",
        "allowed_file_custom": True,
        "allowed_file_type": ".txt",
    }
    moved = start(client, "me.txt", 5, {zonerules.HEADER: f"{encoded(rules)}.{stamp}.{signature}"})
    assert (moved.status_code, moved.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    assert s3.keys() == ["uploads/avatars/me.png"]


def test_a_zones_folder_is_the_same_key_prefix_for_save_and_send_stored(
    s3_settings, s3, direct_app
):
    """A relative folder is one key prefix in the bucket for direct uploads, save() and
    send_stored(), whether it is a zone's upload_folder or the app's DROPZONE_UPLOAD_FOLDER."""
    zones = {"avatar": {"upload_folder": "avatars"}}
    app = direct_app(DROPZONE_ZONES=zones, DROPZONE_UPLOAD_FOLDER="shared")
    dropzone = app.extensions["dropzone"]

    named = {"avatar": "avatar", "-": None}

    @app.post("/upload/<zone>")
    def upload(zone):
        return {"stored": [saved.location for saved in dropzone.save(zone=named[zone])]}

    @app.get("/file/<zone>/<name>")
    def stored(zone, name):
        return dropzone.send_stored(name, zone=named[zone])

    client = app.test_client()
    for headers in (zone_header(client, upload_folder="avatars"), zone_header(client)):
        assert send(client, "direct.png", png(100), headers).status_code == 200
    posted = client.post("/upload/avatar", data={"file": (io.BytesIO(png(100)), "form.png")})
    assert posted.json == {"stored": ["uploads/avatars/form.png"]}
    posted = client.post("/upload/-", data={"file": (io.BytesIO(png(100)), "form.png")})
    assert posted.json == {"stored": ["uploads/shared/form.png"]}
    for zone, folder in (("avatar", "avatars"), ("-", "shared")):
        for name in ("direct.png", "form.png"):
            found = client.get(f"/file/{zone}/{name}")
            assert found.status_code == 302, name
            assert f"/uploads/{folder}/{name}" in found.headers["Location"], name
    assert s3.keys() == [
        "uploads/avatars/direct.png",
        "uploads/avatars/form.png",
        "uploads/shared/direct.png",
        "uploads/shared/form.png",
    ]


def test_rules_of_the_old_untimed_kind_are_refused(s3_settings, s3, direct_app):
    """Before rules named their client and time, they were a permanent capability: such a
    header no longer starts anything (the page is loaded again)."""
    from itsdangerous import URLSafeSerializer

    app = direct_app()
    old = URLSafeSerializer("direct tests", salt="flask-dropzone.zone-rules").dumps(
        {"max_file_size": 60}
    )
    response = start(app.test_client(), "a.bin", 2 * MiB, {zonerules.HEADER: old})
    assert (response.status_code, response.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    assert s3.keys() == [] and s3.open_uploads() == []


def test_the_folder_is_signed_only_for_direct_uploads():
    keywords = {
        "max_file_size": 2,
        "upload_folder": "pics",
        "stored_name": lambda f: "x",
        "file_too_big": "Big.",
        "s3_direct": True,
    }
    signed = {
        purpose: zonerules.signed(None, keywords, purpose).keywords
        for purpose in (zonerules.DIRECT, zonerules.VIEW, zonerules.FIELD)
    }
    assert signed[zonerules.DIRECT] == {
        "max_file_size": 2,
        "upload_folder": "pics",
        "file_too_big": "Big.",
        "s3_direct": True,
    }
    assert signed[zonerules.VIEW] == {"max_file_size": 2}  # the view says the rest
    # a form field's ticket: its refusals' words, no folder (on disk a path, which no page shows)
    assert signed[zonerules.FIELD] == {"max_file_size": 2, "file_too_big": "Big."}


# Errors of the store, CSRF, the CLI ---------------------------------------------------------


def test_an_unusable_bucket_is_a_503_in_plain_text(s3_settings, s3, s3_server, caplog, direct_app):
    from support.s3server import make_client

    app = direct_app()
    client = app.test_client()
    answer = start(client, "a.bin", 100).json
    upload_parts(answer, b"x" * 100)
    wrong = make_client(s3_server, secret_key="not the secret")
    stores.of(app).files._client = lambda: wrong
    for response in (
        start(client, "b.bin", 100),
        client.post(COMPLETE, json={"upload": answer["upload"]}),
        client.get(STATUS, query_string={"upload": answer["upload"]}),
        client.post(ABORT, json={"upload": answer["upload"]}),
    ):
        assert (response.status_code, response.mimetype) == (503, "text/plain")
        assert (
            response.get_data(as_text=True)
            == "The server cannot store files right now; try again later."
        )
    assert "SignatureDoesNotMatch" in caplog.text


def s3_answering(s3_server, code: str, status: int):
    """An S3 client whose every call S3 answers with the error ``code``."""
    from botocore.awsrequest import AWSResponse

    from support.s3server import make_client

    def refused(**kwargs):
        error = {"Code": code, "Message": "stubbed"}
        metadata = {"HTTPStatusCode": status}
        return AWSResponse("", status, {}, None), {"Error": error, "ResponseMetadata": metadata}

    client = make_client(s3_server)
    client.meta.events.register("before-call.s3", refused)
    return client


@pytest.mark.parametrize("failure", ["unreachable", "no such bucket", "an unknown refusal"])
def test_s3_failing_is_a_plain_503_at_every_direct_endpoint_and_loses_nothing(
    s3_settings, s3, s3_server, failure, direct_app
):
    """SeaweedFS makes a missing bucket on a write, as AWS does not: AWS's answer is stubbed."""
    from support.s3 import dead_endpoint

    app = direct_app()
    client = app.test_client()
    data = os.urandom(6 * MiB)
    answer = start(client, "kept.bin", len(data)).json
    upload_parts(answer, data)
    token = {"upload": answer["upload"]}
    live = stores.of(app).files._client
    if failure == "unreachable":
        dead_endpoint(app)
    else:
        code = "NoSuchBucket" if failure == "no such bucket" else "InvalidArgument"
        failing = s3_answering(s3_server, code, 404 if code == "NoSuchBucket" else 400)
        stores.of(app).files._client = lambda: failing
    for endpoint, response in (
        ("start", start(client, "other.bin", 100)),
        ("urls", client.post(URLS, json=token)),
        ("status", client.get(STATUS, query_string=token)),
        ("complete", client.post(COMPLETE, json=token)),
        ("abort", client.post(ABORT, json=token)),
    ):
        assert (response.status_code, response.mimetype, response.get_data(as_text=True)) == (
            503,
            "text/plain",
            "The server cannot store files right now; try again later.",
        ), endpoint
    stores.of(app).files._client = live
    assert client.post(COMPLETE, json=token).status_code == 200
    assert s3.get("uploads/kept.bin") == data


def test_a_signer_that_leaves_the_length_out_is_refused(s3_settings, s3, monkeypatch, direct_app):
    app = direct_app()
    client = stores.of(app).files.client
    real = client.generate_presigned_url

    def unsigned_length(operation, Params, ExpiresIn):
        return real(
            operation,
            Params={k: v for k, v in Params.items() if k != "ContentLength"},
            ExpiresIn=ExpiresIn,
        )

    monkeypatch.setattr(client, "generate_presigned_url", unsigned_length)
    response = start(app.test_client(), "a.bin", 100)
    assert response.status_code == 503
    assert s3.keys() == [] and s3.open_uploads() == []  # the upload it had made was aborted


def test_with_csrfprotect_the_endpoints_need_the_csrf_token(s3_settings, s3, direct_app):
    from flask_wtf.csrf import CSRFProtect

    app = direct_app(DROPZONE_ENABLE_CSRF=True)
    CSRFProtect(app).exempt(app.view_functions["page"])  # the test's page, rendered by a POST
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    page = zone_config(client.post("/page", json={}).get_data(as_text=True))
    app.config["WTF_CSRF_ENABLED"] = True
    client.environ_base[RULES_ENVIRON] = page["options"]["headers"][zonerules.HEADER]
    refused = start(client, "a.txt", 5)
    assert (refused.status_code, refused.mimetype) == (400, "text/plain")
    answer = start(client, "a.txt", 5, {"X-CSRFToken": page["csrf"]["token"]})
    assert answer.status_code == 200
    assert s3.open_uploads() == [ticket(app, answer.json["upload"]).key]


def test_clean_aborts_direct_uploads_older_than_chunk_expires(s3_settings, s3, direct_app):
    app = direct_app()
    client = app.test_client()
    answer = start(client, "old.bin", 6 * MiB).json
    upload_parts(answer, os.urandom(6 * MiB), [2])
    runner = app.test_cli_runner()
    kept = runner.invoke(args=["dropzone", "clean"])
    assert kept.exit_code == 0 and len(s3.open_uploads()) == 1
    time.sleep(1.5)
    result = runner.invoke(args=["dropzone", "clean", "--expires", "1"])
    assert result.exit_code == 0, result.output
    assert (
        result.output == "Removed 1 partial upload, freed 1048576 bytes.\n"
    )  # its part 2, in the bucket
    assert s3.open_uploads() == [] and s3.keys() == []
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 404


def test_a_zone_with_a_short_expiry_leaves_direct_uploads_to_the_apps_expiry(
    s3_settings, s3, direct_app
):
    """A chunk sent to a zone with a tiny CHUNK_EXPIRES once swept direct uploads by it."""
    from support.chunking import CONTENT_TYPE, chunk_requests

    app = direct_app()
    dropzone = app.extensions["dropzone"]

    @app.post("/short")
    def short():
        return {"saved": len(dropzone.save(chunking=True, chunk_expires=0.001))}

    client = app.test_client()
    data = os.urandom(6 * MiB)
    answer = start(client, "direct.bin", len(data)).json
    upload_parts(answer, data)
    chunk = chunk_requests(os.urandom(6 * MiB), "chunked.bin", 5 * MiB)[0]
    response = client.post("/short", data=chunk, content_type=CONTENT_TYPE)
    assert response.status_code == 200
    response.close()  # the sweep runs once the response is sent
    completed = client.post(COMPLETE, json={"upload": answer["upload"]})
    assert (
        completed.status_code == 200 and completed.json["stored"][0]["stored_name"] == "direct.bin"
    )
    assert s3.get("uploads/direct.bin") == data


def test_s3_cors_lets_the_apps_pages_put_parts(s3_settings, s3, direct_app):
    app = direct_app()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "dropzone",
            "s3-cors",
            "--origin",
            "https://app.example",
            "--origin",
            "http://127.0.0.1:5000",
        ]
    )
    assert result.exit_code == 0, result.output
    rule = json.loads(result.output.split("\n", 1)[1])
    (stored,) = s3.raw.get_bucket_cors(Bucket=s3.bucket)["CORSRules"]
    assert (
        stored["AllowedOrigins"]
        == rule["AllowedOrigins"]
        == ["https://app.example", "http://127.0.0.1:5000"]
    )
    assert stored["AllowedMethods"] == ["PUT"] and stored["ExposeHeaders"] == ["ETag"]
    assert stored["MaxAgeSeconds"] == 3600 and "content-type" in stored["AllowedHeaders"]

    url = start(app.test_client(), "c.bin", 10).json["urls"][0]
    parts = urlsplit(url)

    def preflight(origin: str):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request(
            "OPTIONS",
            f"{parts.path}?{parts.query}",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "content-type,x-requested-with",
            },
        )
        response = connection.getresponse()
        response.read()
        connection.close()
        return response.status, response.getheader("Access-Control-Allow-Origin")

    assert preflight("https://app.example") == (200, "https://app.example")
    assert preflight("https://evil.example")[1] is None
    bad = runner.invoke(args=["dropzone", "s3-cors", "--origin", "app.example/path"])
    assert bad.exit_code == 2 and "not an origin" in bad.output


# The plain logic (direct.py) ----------------------------------------------------------------


def test_a_file_is_cut_into_parts_of_the_part_size_and_a_tail():
    assert parts.part_lengths(16 * MiB, 5 * MiB) == [5 * MiB, 5 * MiB, 5 * MiB, MiB]
    assert parts.part_lengths(10 * MiB, 5 * MiB) == [5 * MiB, 5 * MiB]
    assert parts.part_lengths(0, 5 * MiB) == [0]
    assert parts.part_count(10_000 * 5 * MiB + 1, 5 * MiB) == 10_001


def part(number, size, etag, second=0):
    import datetime

    return {
        "PartNumber": number,
        "Size": size,
        "ETag": etag,
        "LastModified": datetime.datetime(2030, 1, 1, 0, 0, second, tzinfo=datetime.timezone.utc),
    }


def test_parts_are_checked_missing_and_of_the_wrong_size():
    size, each = 12, 5
    whole = [part(3, 2, "c"), part(1, 5, "a"), part(2, 5, "b"), part(4, 1, "extra")]
    assert direct.check_parts(whole, size, each) == [
        {"PartNumber": 1, "ETag": "a"},
        {"PartNumber": 2, "ETag": "b"},
        {"PartNumber": 3, "ETag": "c"},
    ]
    with pytest.raises(direct.PartsProblem, match="Part 2 is missing."):
        direct.check_parts([part(1, 5, "a"), part(3, 2, "c")], size, each)
    with pytest.raises(direct.PartsProblem, match="Part 3 has 5 bytes instead of 2."):
        direct.check_parts([part(1, 5, "a"), part(2, 5, "b"), part(3, 5, "c")], size, each)
    assert direct.held_parts([part(1, 5, "a"), part(3, 5, "c")], size, each) == [1]


def test_a_part_listed_twice_counts_once_the_newest_or_else_the_exact_one():
    newer = [part(1, 5, "old", 1), part(1, 4, "new", 2)]
    assert direct.latest_parts(newer)[1]["ETag"] == "new"
    assert direct.latest_parts(list(reversed(newer)))[1]["ETag"] == "new"
    same_second = [part(1, 5, "exact", 1), part(1, 4, "short", 1)]
    assert direct.latest_parts(same_second, 5, 5)[1]["ETag"] == "exact"
    assert direct.latest_parts(list(reversed(same_second)), 5, 5)[1]["ETag"] == "exact"
    assert (
        direct.latest_parts([part(1, 5, "first", 1), part(1, 5, "last", 1)], 5, 5)[1]["ETag"]
        == "last"
    )


def test_the_token_carries_the_ticket_signed_and_timed():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k")
    made = direct.Ticket(
        "p/.dropzone-direct/c/k",
        "p/a b.png",
        "a b.png",
        "id",
        "c" * 32,
        "a b.png",
        "a b.png",
        7,
        5 * MiB,
        "p/",
        zonerules.Zone("avatar", {"max_file_size": 1}),
    )
    token = direct.make_token(app, made)
    found = direct.read_token(app, token, 60)
    assert found is not None and found[0] == made and abs(found[1] - time.time()) < 5
    app.config.update(SECRET_KEY="rotated", SECRET_KEY_FALLBACKS=["k"])
    assert direct.read_token(app, token, 60) is not None
    assert direct.read_token(app, token + "x", 60) is None and direct.read_token(app, 7, 60) is None
    assert direct.url_expiry(made=1000.0, max_age=86400, now=1000.0) == direct.URL_EXPIRES
    assert direct.url_expiry(made=1000.0, max_age=600, now=1100.0) == 500
    assert direct.url_expiry(made=1000.0, max_age=600, now=1700.0) == 0


# What the page carries grants no more than the server decides now --------------------------


@pytest.fixture
def named_app(direct_app):
    """``named_app(zones, **config)``: a direct app with DROPZONE_ZONES, each zone's page at
    /zone/<name>."""

    def make(zones, **config) -> Flask:
        app = direct_app(DROPZONE_ZONES=zones, **config)

        @app.get("/zone/<name>")
        def named(name):
            return render_template_string("{{ dropzone.config(id=name) }}", name=name)

        return app

    return make


def named_header(client, name: str) -> dict:
    config = zone_config(client.get(f"/zone/{name}").get_data(as_text=True))
    client.environ_base[RULES_ENVIRON] = config["options"]["headers"][zonerules.HEADER]
    return {zonerules.HEADER: client.environ_base[RULES_ENVIRON]}


def test_a_zone_tightened_after_the_page_was_rendered_applies_at_once(s3_settings, s3, named_app):
    app = named_app({"avatar": {"max_file_size": 20, "upload_folder": "avatars"}})
    client = app.test_client()
    saved = named_header(client, "avatar")  # a header kept from before the change
    app.config["DROPZONE_ZONES"]["avatar"] = {"max_file_size": 1, "upload_folder": "small"}
    assert start(client, "big.bin", 2 * MiB, saved).status_code == 413
    assert send(client, "ok.bin", b"x" * 1000, saved).status_code == 200
    assert s3.keys() == ["uploads/small/ok.bin"]


def test_a_removed_zone_takes_nothing(s3_settings, s3, named_app):
    app = named_app({"avatar": {"upload_folder": "avatars"}})
    client = app.test_client()
    saved = named_header(client, "avatar")
    del app.config["DROPZONE_ZONES"]["avatar"]
    response = start(client, "a.txt", 5, saved)
    assert (response.status_code, response.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    assert s3.keys() == [] and s3.open_uploads() == []


def test_without_valid_rules_a_direct_upload_is_refused(s3_settings, s3, named_app):
    """No view runs: the app-wide defaults are no zone of the page's, and never a looser one."""
    app = named_app({"avatar": {"allowed_file_type": "image", "max_file_size": 1}})
    stored = []
    file_stored.connect(lambda sender, saved: stored.append(saved), app, weak=False)
    client = app.test_client()
    for headers in ({}, {zonerules.HEADER: ""}, {zonerules.HEADER: "garbage"}):
        response = client.post(
            START, json={"name": "evil.html", "size": 2 * MiB, "type": "text/html"}, headers=headers
        )
        assert (response.status_code, response.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    assert s3.keys() == [] and s3.open_uploads() == [] and stored == []


def test_another_apps_rules_are_refused_though_it_shares_the_secret_key(
    tmp_path, s3_settings, s3, direct_app
):
    public = direct_app(instance="public", DROPZONE_MAX_FILE_SIZE=1)
    # Its own app: another import name, so another app (make_app names apps after the module).
    admin = Flask("admin_tool", instance_path=str(tmp_path / "admin"))
    admin.config.update(public.config)
    Dropzone(admin)

    @admin.get("/")
    def admin_page():
        return render_template_string(
            "{{ dropzone.config(max_file_size=60, upload_folder='internal') }}"
        )

    with admin.test_client() as staff:
        rules = zone_config(staff.get("/").get_data(as_text=True))["options"]["headers"]
        cookie = staff.get_cookie("session")
    client = public.test_client()
    client.set_cookie(cookie.key, cookie.value)  # the same key: the admin's session works here too
    response = start(client, "tool.bin", 30 * MiB, rules)
    assert (response.status_code, response.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    assert s3.keys() == [] and s3.open_uploads() == []


def test_a_pages_rules_work_only_in_the_session_that_was_shown_the_page(
    s3_settings, s3, direct_app
):
    app = direct_app()
    owner, stranger = app.test_client(), app.test_client()
    mine = zone_header(owner, upload_folder="users/42")
    zone_header(stranger)  # the stranger has a page and a session of its own
    response = start(stranger, "planted.txt", 5, mine)  # the owner's page source, shared
    assert (response.status_code, response.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    assert send(owner, "mine.txt", b"hello", mine).status_code == 200
    assert s3.keys() == ["uploads/users/42/mine.txt"]


def test_an_upload_is_resumed_and_completed_only_in_the_zone_it_started_in(
    s3_settings, s3, direct_app
):
    app = direct_app()
    client = app.test_client()
    public = zone_header(client, upload_folder="public")
    private = zone_header(client, upload_folder="private")
    data = os.urandom(6 * MiB)
    answer = start(client, "doc.bin", len(data), public).json
    upload_parts(answer, data)
    token = {"upload": answer["upload"]}
    assert client.get(STATUS, query_string=token, headers=private).status_code == 404
    assert client.post(URLS, json=token, headers=private).status_code == 404
    assert client.post(COMPLETE, json=token, headers=private).status_code == 404
    assert client.get(STATUS, query_string=token, headers=public).json["held"] == [1, 2]
    assert client.post(COMPLETE, json=token, headers=public).status_code == 200
    assert s3.keys() == ["uploads/public/doc.bin"]


def test_a_zone_tightened_while_a_file_uploads_refuses_it_at_completion(s3_settings, s3, named_app):
    app = named_app({"docs": {"max_file_size": 20, "upload_folder": "docs"}})
    client = app.test_client()
    headers = named_header(client, "docs")
    data = os.urandom(6 * MiB)
    answer = start(client, "doc.bin", len(data), headers).json
    upload_parts(answer, data)
    app.config["DROPZONE_ZONES"]["docs"] = {"max_file_size": 1, "upload_folder": "docs"}
    response = client.post(COMPLETE, json={"upload": answer["upload"]}, headers=headers)
    assert response.status_code == 409 and "File is too big" in response.get_data(as_text=True)
    assert s3.keys() == [] and s3.open_uploads() == []


def test_the_app_chooses_a_direct_uploads_folder_when_it_starts_and_completes(
    s3_settings, s3, direct_app
):
    app = direct_app()
    users = {"user": "42"}

    @app.extensions["dropzone"].direct_folder
    def per_user(zone, filename):
        return False if users["user"] is None else f"users/{users['user']}"

    client = app.test_client()
    assert (
        send(client, "a.txt", b"hello", zone_header(client, upload_folder="ignored")).status_code
        == 200
    )
    assert s3.keys() == ["uploads/users/42/a.txt"]
    answer = start(client, "b.txt", 5).json
    upload_parts(answer, b"world")
    users["user"] = "43"  # another person now, in this session: the upload is not theirs to finish
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 409
    users["user"] = None  # logged out
    refused = start(client, "c.txt", 5)
    assert (refused.status_code, refused.get_data(as_text=True)) == (
        403,
        "You cannot upload files here.",
    )
    assert s3.keys() == ["uploads/users/42/a.txt"] and s3.open_uploads() == []


def test_a_page_renews_its_rules_while_they_hold(s3_settings, s3, named_app):
    app = named_app({"avatar": {"upload_folder": "avatars"}})
    client = app.test_client()
    old = named_header(client, "avatar")
    renewed = client.get("/dropzone/rules", headers=old)
    assert renewed.status_code == 200 and renewed.headers["Cache-Control"] == "no-store"
    assert renewed.json["expires"] == 86400 and renewed.json["rules"]
    fresh = {zonerules.HEADER: renewed.json["rules"]}
    assert send(client, "a.txt", b"hi", fresh).status_code == 200
    stranger = app.test_client()
    zone_header(stranger)
    assert (
        stranger.get("/dropzone/rules", headers=old).status_code == 400
    )  # not the stranger's page
    del app.config["DROPZONE_ZONES"]["avatar"]
    gone = client.get("/dropzone/rules", headers=fresh)
    assert (gone.status_code, gone.get_data(as_text=True)) == (400, zonerules.EXPIRED)


# Rules name what the zone is for ----------------------------------------------------------


def form_page(app, **field) -> str:
    """A page showing a form whose DropzoneField has ``field``'s settings (kept pending, claimed
    by the form's view), at ``/form``."""
    from flask_wtf import FlaskForm

    from flask_dropzone.forms import DropzoneField

    class PostForm(FlaskForm):
        photos = DropzoneField("Photos", **field)

    @app.get("/form")
    def form():
        return render_template_string("<form>{{ form.photos() }}</form>", form=PostForm())

    return "/form"


def signed_values(config: dict) -> list[str]:
    """Every value a zone's page sends back in a header (rules, a field's ticket; not the CSRF
    token)."""
    headers = config["options"].get("headers", {})
    return [value for name, value in headers.items() if name != "X-CSRF-Token"]


def page_config(client, **zone) -> dict:
    """The configuration of a zone rendered with ``zone`` (its config() keywords)."""
    return zone_config(client.post("/page", json=zone).get_data(as_text=True))


def test_a_form_fields_page_starts_no_direct_upload(s3_settings, s3, direct_app):
    """With S3_DIRECT the field's page carried rules that /dropzone/direct/start took: anyone
    shown the form stored files straight into the field's folder, past the form, its validators,
    its view and claim(). No value of its page starts anything."""
    app = direct_app(WTF_CSRF_ENABLED=False)
    url = form_page(app, upload_folder="photos", max_file_size=64)
    client = app.test_client()
    (config,) = zone_configs(client.get(url).get_data(as_text=True))
    assert config["direct"] is None and signed_values(config)
    for value in signed_values(config):
        refused = start(client, "a.png", 100, {zonerules.HEADER: value})
        assert (refused.status_code, refused.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    assert s3.keys() == [] and s3.open_uploads() == []


def test_an_in_form_zones_rules_start_no_direct_upload(s3_settings, s3, direct_app):
    """An in-form zone sends its files with its form, to its view: its rules are a view's."""
    app = direct_app()
    client = app.test_client()
    headers = zone_header(client, in_form=True, upload_folder="album")
    refused = start(client, "a.png", 100, headers)
    assert (refused.status_code, refused.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    assert s3.keys() == [] and s3.open_uploads() == []


@pytest.fixture
def csrf_app(direct_app) -> Flask:
    """A direct app under CSRFProtect (the form read before the view) whose view ``/upload``
    saves files of up to 64 MiB, through the app."""
    from flask_wtf.csrf import CSRFProtect

    app = direct_app(DROPZONE_ENABLE_CSRF=True)
    CSRFProtect(app).exempt(app.view_functions["page"])  # the test's page, rendered by a POST
    dropzone = app.extensions["dropzone"]

    @app.post("/upload")
    def upload():
        return {"stored": [saved.location for saved in dropzone.save(max_file_size=64)]}

    return app


def test_a_direct_zones_rules_judge_no_views_files(s3_settings, s3, csrf_app):
    """A view's receiving takes a view's rules only: a direct zone's, sent to a view, judge
    nothing there (the view does); a view zone's own judge while the bytes arrive."""
    app = csrf_app
    client = app.test_client()

    def posted(**zone):
        config = page_config(client, max_file_size=1, **zone)
        data = {"file": (io.BytesIO(png(2 * MiB)), "a.png")}
        return client.post("/upload", data=data, headers=config["options"]["headers"])

    through_the_app = posted(s3_direct=False)
    assert (through_the_app.status_code, through_the_app.mimetype) == (413, "text/plain")
    direct_zone = posted()
    assert direct_zone.status_code == 200 and direct_zone.json == {"stored": ["uploads/a.png"]}


def test_renewed_rules_keep_their_purpose(s3_settings, s3, csrf_app):
    app = csrf_app
    client = app.test_client()
    renewed = {}
    for direct_zone in (True, False):
        headers = page_config(client, s3_direct=direct_zone, max_file_size=1)["options"]["headers"]
        answer = client.get("/dropzone/rules", headers=headers)
        assert answer.status_code == 200
        renewed[direct_zone] = {**headers, zonerules.HEADER: answer.json["rules"]}
    assert start(client, "a.png", 100, renewed[True]).status_code == 200
    refused = start(client, "a.png", 100, renewed[False])
    assert (refused.status_code, refused.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    for direct_zone, status in ((True, 200), (False, 413)):  # a view's rules judge a view's files
        data = {"file": (io.BytesIO(png(2 * MiB)), "b.png")}
        assert client.post("/upload", data=data, headers=renewed[direct_zone]).status_code == status


def test_a_zone_no_longer_direct_starts_nothing_from_a_page_shown_before(
    s3_settings, s3, named_app
):
    zones = {"docs": {"s3_direct": True}}
    app = named_app(zones, DROPZONE_S3_DIRECT=False)
    client = app.test_client()
    headers = named_header(client, "docs")
    assert start(client, "a.txt", 5, headers).status_code == 200
    app.config["DROPZONE_ZONES"]["docs"] = {"s3_direct": False}  # its files go through its view now
    refused = start(client, "b.txt", 5, headers)
    assert (refused.status_code, refused.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    assert client.get("/dropzone/rules", headers=headers).status_code == 400  # the page reloads


# A zone's own s3_direct: direct zones and zones through the app, in one app ----------------


@pytest.mark.parametrize("app_default", [False, True])
def test_one_app_has_a_direct_zone_and_a_zone_through_the_app(
    s3_settings, s3, app_default, named_app
):
    """S3_DIRECT is the app's default, and each zone's own setting."""
    zones = {
        "direct": {"s3_direct": True, "upload_folder": "direct"},
        "posted": {"s3_direct": False, "upload_folder": "posted"},
    }
    app = named_app(zones, DROPZONE_S3_DIRECT=app_default)
    dropzone = app.extensions["dropzone"]

    @app.post("/upload")
    def upload():
        return {"stored": [saved.location for saved in dropzone.save(zone="posted")]}

    client = app.test_client()
    configs = {
        name: zone_config(client.get(f"/zone/{name}").get_data(as_text=True)) for name in zones
    }
    assert configs["direct"]["direct"] is not None and configs["posted"]["direct"] is None
    headers = {name: config["options"]["headers"] for name, config in configs.items()}
    data = png(6 * MiB)
    assert send(client, "a.png", data, headers["direct"]).status_code == 200
    posted = client.post(
        "/upload", data={"file": (io.BytesIO(png(100)), "b.png")}, headers=headers["posted"]
    )
    assert posted.json == {"stored": ["uploads/posted/b.png"]}
    refused = start(client, "c.png", 100, headers["posted"])  # through the app: nothing direct
    assert (refused.status_code, refused.get_data(as_text=True)) == (400, zonerules.EXPIRED)
    assert s3.keys() == ["uploads/direct/a.png", "uploads/posted/b.png"]
    assert s3.get("uploads/direct/a.png") == data


def test_s3_cors_works_when_only_a_zone_is_direct(s3_settings, s3, direct_app, make_app):
    zones = {"up": {"s3_direct": True}}
    app = direct_app(DROPZONE_S3_DIRECT=False, DROPZONE_ZONES=zones)
    command = ["dropzone", "s3-cors", "--origin", "https://app.example"]
    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 0, result.output
    (rule,) = s3.raw.get_bucket_cors(Bucket=s3.bucket)["CORSRules"]
    assert rule["AllowedOrigins"] == ["https://app.example"]
    disk = make_app(instance="disk")
    refused = disk.test_cli_runner().invoke(args=command)
    assert refused.exit_code == 2 and "needs DROPZONE_STORAGE = 's3'" in refused.output


# DROPZONE_STRIP_METADATA: through the app and direct, the stored object has no metadata ------


@pytest.fixture(scope="module")
def big_photo():
    """A photo of more than two parts (5 MiB each) and of a rewrite's part (8 MiB)."""
    return photos.jpeg(progressive=True, size=(4200, 3000))


def assert_stripped(stored: bytes, original: bytes) -> None:
    assert all(secret not in stored for secret in photos.SECRETS)
    assert photos.scan_data(stored) == photos.scan_data(original)
    assert b"ICC_PROFILE" in stored and len(stored) < len(original)


def test_through_the_app_a_photo_is_stored_stripped_whole_or_chunked(s3, s3_app, big_photo):
    app = s3_app(DROPZONE_STRIP_METADATA=True)
    client = app.test_client()
    assert len(big_photo) > 8 * MiB
    whole = post(client, "/save", "whole.jpg", big_photo)
    assert whole.status_code == 200, whole.get_data(as_text=True)
    for body in chunk_requests(big_photo, "chunked.jpg", 5 * MiB):
        chunked = send_chunk(client, body)
    assert chunked.status_code == 200, chunked.get_data(as_text=True)
    for answer in (whole, chunked):
        ((_, location, _, size),) = answer.json["saved"]
        stored = s3.get(location)
        assert_stripped(stored, big_photo)
        assert size == len(stored)


def test_a_direct_photo_is_rewritten_stripped_once_completed(s3, direct_app, big_photo):
    app = direct_app(DROPZONE_STRIP_METADATA=True)
    heard = []
    file_stored.connect(lambda sender, saved: heard.append(saved), app, weak=False)
    client = app.test_client()
    done = send(client, "photo.jpg", big_photo)
    assert done.status_code == 200, done.get_data(as_text=True)
    stored = s3.get("uploads/photo.jpg")
    assert_stripped(stored, big_photo)
    assert [saved.size for saved in heard] == [len(stored)]
    assert s3.keys() == ["uploads/photo.jpg"] and s3.open_uploads() == []


def test_a_direct_photo_keeps_its_metadata_unless_stripping_is_on(s3, direct_app):
    photo = photos.jpeg()
    app = direct_app()
    assert send(app.test_client(), "photo.jpg", photo).status_code == 200
    assert s3.get("uploads/photo.jpg") == photo


def test_a_damaged_direct_photo_is_refused_and_nothing_is_left(s3, direct_app):
    app = direct_app(DROPZONE_STRIP_METADATA=True)
    client = app.test_client()
    photo = photos.jpeg(size=(1000, 700))
    done = send(client, "photo.jpg", photo[: len(photo) - 1000])
    assert done.status_code == 415
    assert done.get_data(as_text=True) == metadata.DAMAGED_MESSAGE.format(reason="it ends early")
    assert s3.keys() == [] and s3.open_uploads() == []
    tiff = send(client, "scan.tif", b"II*\x00\x08\x00\x00\x00" + b"\x00" * 64)
    assert (tiff.status_code, tiff.get_data(as_text=True)) == (415, metadata.UNSTRIPPABLE_MESSAGE)
    assert s3.keys() == []


def test_a_direct_photo_replaced_while_it_is_rewritten_is_not_overwritten(s3, direct_app):
    """The rewrite completes only while the key is still the file it read (If-Match): a file
    put there meanwhile stays, and the upload is told its name was taken."""
    app = direct_app(DROPZONE_STRIP_METADATA=True)
    completions, replaced = [], []

    def replace_at_the_rewrite(params, **_):
        completions.append(params["Key"])
        if len(completions) == 2:  # the upload's, then the rewrite's: another writer first
            replaced.append(params["Key"])
            s3.raw.put_object(Bucket=s3.bucket, Key=params["Key"], Body=b"someone else's")

    event = "before-parameter-build.s3.CompleteMultipartUpload"
    client = stores.of(app).files.client
    client.meta.events.register(event, replace_at_the_rewrite)
    done = send(app.test_client(), "photo.jpg", photos.jpeg(size=(1000, 700)))
    client.meta.events.unregister(event, replace_at_the_rewrite)
    assert replaced == ["uploads/photo.jpg"], completions
    assert done.status_code == 409, done.get_data(as_text=True)
    assert s3.get(replaced[0]) == b"someone else's"
    assert s3.open_uploads() == []


def test_a_completion_sent_again_after_the_rewrite_stores_the_stripped_photo_once(
    s3, direct_app, monkeypatch
):
    """The rewrite done, a later step fails (the store, a moment): the completion sent again
    finds its file (rewritten, smaller than declared), does not rewrite it, and stores it."""
    app = direct_app(DROPZONE_STRIP_METADATA=True)
    direct_store = stores.of(app).direct
    publish, failed, rewrites = direct_store.publish, [], []

    def publish_failing_once(*args, **kwargs):
        if not failed:
            failed.append(True)
            raise stores.StoreUnavailable("a moment")
        return publish(*args, **kwargs)

    rewrite = direct_store.rewrite
    monkeypatch.setattr(direct_store, "publish", publish_failing_once)
    monkeypatch.setattr(direct_store, "rewrite", lambda *a: rewrites.append(1) or rewrite(*a))
    client = app.test_client()
    photo = photos.jpeg(size=(1000, 700))
    started = start(client, "photo.jpg", len(photo))
    upload_parts(started.json, photo)
    first = client.post(COMPLETE, json={"upload": started.json["upload"]})
    assert first.status_code == 503, first.get_data(as_text=True)
    created = []
    event = "before-parameter-build.s3.CreateMultipartUpload"
    stores.of(app).files.client.meta.events.register(event, lambda **_: created.append(1))
    again = client.post(COMPLETE, json={"upload": started.json["upload"]})
    assert again.status_code == 200, again.get_data(as_text=True)
    stored = s3.get("uploads/photo.jpg")
    assert_stripped(stored, photo)
    assert len(rewrites) == 2 and created == []  # asked again, written once
    assert s3.keys() == ["uploads/photo.jpg"] and s3.open_uploads() == []
