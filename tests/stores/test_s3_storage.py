"""DROPZONE_STORAGE = "s3": settings checked at start-up, uploads stored in a real S3 server."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from flask_dropzone import SettingError
from flask_dropzone import _stores as stores

from support.apps import STORES
from support.chunking import CONTENT_TYPE, chunk_requests
from support.direct import post

MiB = 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 3000


@pytest.fixture
def s3(s3_server, s3_bucket):
    from support.s3server import make_client

    client = make_client(s3_server)

    class S3:
        server, bucket = s3_server, s3_bucket

        @staticmethod
        def get(key: str) -> bytes:
            return client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()

        @staticmethod
        def keys() -> list[str]:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket)
            return sorted(entry["Key"] for page in pages for entry in page.get("Contents", ()))

        @staticmethod
        def open_uploads() -> list[str]:
            return [
                u["Key"] for u in client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
            ]

    return S3


def local_files(tmp_path) -> list[str]:
    return [str(p) for p in tmp_path.rglob("*") if p.is_file()]


# Settings ------------------------------------------------------------------------------


ON_S3 = {"DROPZONE_STORAGE": "s3", "DROPZONE_S3_BUCKET": "b1b"}


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"DROPZONE_STORAGE": "nfs"}, "DROPZONE_STORAGE"),
        ({"DROPZONE_STORAGE": "s3"}, "DROPZONE_S3_BUCKET"),
        ({"DROPZONE_STORAGE": "s3", "DROPZONE_S3_BUCKET": "Not_A_Bucket"}, "DROPZONE_S3_BUCKET"),
        (
            {"DROPZONE_STORAGE": "s3", "DROPZONE_S3_BUCKET": "b1b", "DROPZONE_S3_PREFIX": "/abs"},
            "DROPZONE_S3_PREFIX",
        ),
        (
            {
                "DROPZONE_STORAGE": "s3",
                "DROPZONE_S3_BUCKET": "b1b",
                "DROPZONE_S3_ENDPOINT_URL": "localhost",
            },
            "DROPZONE_S3_ENDPOINT_URL",
        ),
        (
            {
                "DROPZONE_STORAGE": "s3",
                "DROPZONE_S3_BUCKET": "b1b",
                "DROPZONE_CHUNKING": True,
                "DROPZONE_CHUNK_SIZE": MiB,
            },
            "DROPZONE_CHUNK_SIZE",
        ),
        # a path of the disk means nothing in a bucket, the app's setting and a zone's alike
        (
            {**ON_S3, "DROPZONE_UPLOAD_FOLDER": "/srv/uploads"},
            "DROPZONE_UPLOAD_FOLDER: folder '/srv/uploads' is an absolute path",
        ),
        (
            {**ON_S3, "DROPZONE_UPLOAD_FOLDER": "../up"},
            "DROPZONE_UPLOAD_FOLDER: folder '../up' must stay inside DROPZONE_S3_PREFIX",
        ),
        (
            {**ON_S3, "DROPZONE_ZONES": {"a": {"upload_folder": "/srv/a"}}},
            r"DROPZONE_ZONES\['a'\] upload_folder: folder '/srv/a' is an absolute path",
        ),
    ],
)
def test_storage_settings_that_cannot_work_fail_at_start_up_naming_the_setting(
    config, named, make_app
):
    with pytest.raises(SettingError, match=named):
        make_app(**config)


def test_s3_without_boto3_says_how_to_install_it(monkeypatch, make_app):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real(name, *a)
    )
    with pytest.raises(
        SettingError, match=r"needs boto3 \(the s3 extra\): pip install .boto3>=1.41."
    ):
        make_app(DROPZONE_STORAGE="s3", DROPZONE_S3_BUCKET="uploads")


def test_a_zones_chunk_size_too_small_for_s3_is_an_error_where_it_is_given(s3, monkeypatch, s3_app):
    app = s3_app()
    with app.test_request_context():
        with pytest.raises(SettingError, match="chunk_size"):
            app.extensions["dropzone"].config(chunking=True, chunk_size=MiB)


def test_an_absolute_folder_given_to_a_zone_in_a_bucket_is_an_error_where_it_is_given(make_app):
    app = make_app(**ON_S3)
    dropzone = app.extensions["dropzone"]
    with app.test_request_context():
        with pytest.raises(SettingError, match=r"config\(\) upload_folder: folder '/srv/x' is an"):
            dropzone.config(upload_folder="/srv/x")
        with pytest.raises(ValueError, match="'/srv/x' is an absolute path"):
            dropzone.send_stored("a.txt", folder="/srv/x")


@pytest.mark.parametrize("storage", STORES)
def test_a_relative_folder_means_one_place_on_either_store(request, storage, make_app):
    """The app's DROPZONE_UPLOAD_FOLDER, a zone's upload_folder, a keyword's and save()'s folder:
    on disk a folder in the instance folder, in a bucket a key prefix inside DROPZONE_S3_PREFIX."""
    zones = {"avatar": {"upload_folder": "avatars"}}
    config = {"DROPZONE_UPLOAD_FOLDER": "media", "DROPZONE_ZONES": zones}
    if storage == "s3":
        app = request.getfixturevalue("s3_app")(**config)
        root = "uploads/"
    else:
        app = make_app(**config)
        root = app.instance_path + os.sep
    dropzone = app.extensions["dropzone"]
    saves = {
        "/a": {},
        "/b": {"zone": "avatar"},
        "/c": {"upload_folder": "docs"},
        "/d": {"folder": "x/y"},
    }

    def view(keywords):
        return lambda: {"at": [saved.location for saved in dropzone.save(**keywords)]}

    for url, keywords in saves.items():
        app.add_url_rule(url, url, view(keywords), methods=["POST"])
    client = app.test_client()
    found = [
        client.post(url, data={"file": (io.BytesIO(b"x"), f"{url[1]}.txt")}).json["at"][0]
        for url in saves
    ]
    assert [where.removeprefix(root).replace(os.sep, "/") for where in found] == [
        "media/a.txt",
        "avatars/b.txt",
        "docs/c.txt",
        "x/y/d.txt",
    ]


def test_storage_settings_are_not_keywords(s3, monkeypatch, s3_app):
    app = s3_app()
    with app.test_request_context(), pytest.raises(TypeError, match="storage"):
        app.extensions["dropzone"].save(storage="disk")


# Uploads -------------------------------------------------------------------------------


def test_a_large_upload_streams_into_the_bucket_without_touching_the_disk(
    tmp_path, s3, monkeypatch, s3_app
):
    app = s3_app()
    data = os.urandom(20 * MiB + 3)
    response = post(app.test_client(), "/save", "big.bin", data)
    assert response.json == {"saved": [["big.bin", "uploads/big.bin", None, len(data)]]}
    assert hashlib.sha256(s3.get("uploads/big.bin")).digest() == hashlib.sha256(data).digest()
    assert local_files(tmp_path) == []
    assert s3.keys() == ["uploads/big.bin"] and s3.open_uploads() == []


def test_small_files_and_taken_names(s3, monkeypatch, s3_app):
    app = s3_app()
    client = app.test_client()
    first = post(client, "/save", "a.txt", b"first").json["saved"][0]
    second = post(client, "/save", "a.txt", b"second").json["saved"][0]
    assert (first[1], second[1]) == ("uploads/a.txt", "uploads/a (1).txt")
    assert s3.get("uploads/a.txt") == b"first" and s3.get("uploads/a (1).txt") == b"second"


def test_a_refused_file_leaves_nothing_in_the_bucket(s3, monkeypatch, s3_app):
    app = s3_app()
    client = app.test_client()
    assert post(client, "/typed", "evil.png", b"<html>" + os.urandom(9 * MiB)).status_code == 415
    assert post(client, "/save", "huge.bin", os.urandom(65 * MiB)).status_code == 413
    assert s3.keys() == [] and s3.open_uploads() == []


def test_a_view_saving_to_a_path_as_in_2_0_reads_from_the_bucket(tmp_path, s3, monkeypatch, s3_app):
    app = s3_app()
    target = tmp_path / "copy.bin"

    @app.post("/seed")
    def seed():
        app.extensions["dropzone"].files()[0].save(str(target))
        return ""

    data = os.urandom(9 * MiB)
    assert post(app.test_client(), "/seed", "x.bin", data).status_code == 200
    assert target.read_bytes() == data


def test_a_chunked_upload_is_assembled_in_the_bucket(tmp_path, s3, monkeypatch, s3_app):
    app = s3_app()
    client = app.test_client()
    data = os.urandom(12 * MiB + 5)
    answers = [
        client.post("/save", data=b, content_type=CONTENT_TYPE)
        for b in chunk_requests(data, "c.bin", 5 * MiB)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[-1].json["saved"] == [["c.bin", "uploads/c.bin", None, len(data)]]
    assert s3.get("uploads/c.bin") == data
    assert s3.open_uploads() == []
    # The upload's small records stay: its record, and its marker, which says how it ended.
    records = [key for key in s3.keys() if key.endswith("/manifest") or "/pending/" in key]
    assert sorted(set(s3.keys()) - set(records)) == ["uploads/c.bin"]
    assert [s3.get(key) for key in records if "/pending/" in key] == [b"complete"]
    assert local_files(tmp_path) == []


@pytest.mark.parametrize("parallel", [False, True], ids=["in-order", "in-parallel"])
@pytest.mark.parametrize("count", [1, 8, 24])
def test_a_file_in_n_chunks_costs_at_most_2n_plus_8_s3_requests(
    s3, monkeypatch, count, parallel, s3_app
):
    """A chunk costs its UploadPart and one ListParts; starting the upload, handing the file
    over and reading its head, 8 in all (docs: Storage on S3). Counted while the app handles
    the chunk requests, 4 at a time in parallel as Dropzone sends them; the sweep's look after a
    response (once a minute in a process, whatever it uploads) is not the file's."""
    app = s3_app(DROPZONE_MAX_FILE_SIZE=128)
    owner = app.test_client()
    with owner.session_transaction() as session:
        session["_dropzone_client"] = "cd" * 16  # as the page with the zone does
    cookie = owner.get_cookie("session").value
    counting, lock, counted = threading.local(), threading.Lock(), Counter()

    def tally(event_name, **_):
        if getattr(counting, "on", False):
            with lock:
                counted[event_name.rpartition(".")[2]] += 1

    stores.of(app).files.client.meta.events.register("before-call.s3", tally)

    def send(request_body):
        client = app.test_client()
        client.set_cookie("session", cookie)
        counting.on = True
        try:
            response = client.post("/save", data=request_body, content_type=CONTENT_TYPE)
        finally:
            counting.on = False
        response.close()  # as a WSGI server does once it is sent: the sweep's look
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json["saved"]

    data = os.urandom(count * 5 * MiB - 3)
    bodies = chunk_requests(data, "n.bin", 5 * MiB)
    if parallel:
        with ThreadPoolExecutor(4) as pool:
            saved = list(pool.map(send, bodies))
    else:
        saved = [send(request_body) for request_body in bodies]
    assert [each for each in saved if each] == [[["n.bin", "uploads/n.bin", None, len(data)]]]
    assert s3.get("uploads/n.bin") == data and s3.open_uploads() == []
    assert sum(counted.values()) <= 2 * count + 8, dict(counted)


def test_of_first_chunks_at_once_that_would_each_fit_the_quota_alone_one_passes(
    s3, monkeypatch, s3_app
):
    """Counted without a lock, then under the client's lock when a listing puts a start over
    the limit: never two pass together, and of starts that each fit alone one passes."""
    limits = {"DROPZONE_CHUNK_QUOTA": 15, "DROPZONE_MAX_FILE_SIZE": 12}  # one 10 MiB file fits
    app = s3_app(**limits)
    for trial in range(3):
        client_id = f"{trial:02x}" * 16  # a client of its own each time: an empty quota
        owner = app.test_client()
        with owner.session_transaction() as session:
            session["_dropzone_client"] = client_id
        cookie = owner.get_cookie("session").value
        files = [(os.urandom(10 * MiB), f"{trial}-{n}.bin") for n in range(8)]
        firsts = [chunk_requests(data, name, 5 * MiB, order=[0])[0] for data, name in files]
        barrier = threading.Barrier(8)

        def first_chunk(request_body, cookie=cookie, barrier=barrier):
            client = app.test_client()
            client.set_cookie("session", cookie)
            barrier.wait()
            return client.post("/save", data=request_body, content_type=CONTENT_TYPE).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(first_chunk, firsts))
        assert sorted(statuses) == [200] + [400] * 7, (trial, statuses)
        assert stores.of(app).partials("").unfinished(client_id) == (10 * MiB, 1), trial


def test_a_bucket_that_does_not_exist_is_a_503_with_its_cause_in_the_log(
    s3, monkeypatch, caplog, s3_app
):
    """SeaweedFS creates a missing bucket on a write, as AWS does not: AWS's answer is stubbed."""
    import boto3
    from botocore.stub import Stubber

    from flask_dropzone import _stores as stores

    app = s3_app()
    client = boto3.session.Session().client("s3", endpoint_url=s3.server.endpoint_url)
    stubber = Stubber(client)
    stubber.add_client_error("put_object", service_error_code="NoSuchBucket", http_status_code=404)
    stubber.activate()
    monkeypatch.setattr(stores.of(app).files, "_client", lambda: client)
    caplog.set_level(logging.ERROR, logger="flask_dropzone")
    response = post(app.test_client(), "/save", "a.txt", b"x" * 1000)
    assert response.status_code == 503 and response.mimetype == "text/plain"
    assert (
        response.get_data(as_text=True)
        == "The server cannot store files right now; try again later."
    )
    assert any("NoSuchBucket" in record.getMessage() for record in caplog.records)
    stubber.assert_no_pending_responses()


def test_credentials_that_are_refused_are_a_503(s3, monkeypatch, s3_app):
    app = s3_app()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    response = post(app.test_client(), "/save", "a.txt", b"tiny")
    assert response.status_code == 503 and s3.keys() == []


def test_clean_expires_partial_uploads_in_the_bucket(s3, monkeypatch, s3_app):
    app = s3_app()
    client = app.test_client()
    data = os.urandom(12 * MiB)
    first = chunk_requests(data, "p.bin", 5 * MiB)[0]
    assert client.post("/save", data=first, content_type=CONTENT_TYPE).status_code == 200
    assert s3.open_uploads() != []
    result = app.test_cli_runner().invoke(args=["dropzone", "clean", "--expires", "-1"])
    assert "Removed 0 partial uploads" in result.output, result.output  # kept by its own expiry
    report = stores.of(app).partials("").clean(-1, now=time.time() + 86400 + 60)  # a day idle
    assert report.partial_uploads == 1
    assert s3.open_uploads() == []


class HeldBody(io.RawIOBase):
    """A request body read up to its middle, then held until released (or cut there)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.position, self.middle = data, 0, len(data) // 2
        self.reached, self.released, self.cut = threading.Event(), threading.Event(), False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = (
            offset
            if whence == 0
            else (len(self.data) + offset if whence == 2 else self.position + offset)
        )
        return self.position

    def readinto(self, buffer) -> int:
        if self.position >= self.middle and not self.released.is_set():
            self.reached.set()
            self.released.wait(60)
        if self.cut and self.position >= self.middle:
            return 0
        end = len(self.data) if self.released.is_set() else self.middle
        count = min(len(buffer), end - self.position)
        buffer[:count] = self.data[self.position : self.position + count]
        self.position += count
        return count


def test_a_chunk_whose_upload_vanished_under_it_is_answered_503_and_its_resend_joins(
    s3, monkeypatch, s3_app
):
    """Server A's first chunk fails after server B read the upload's record: A removes the
    upload it started; B answers "send it again", and forgets the stale record."""
    servers = [s3_app(instance=name) for name in "ab"]
    a, b = (server.test_client() for server in servers)
    with a.session_transaction() as session:
        session["_dropzone_client"] = "ab" * 16  # as the page with the zone does
    b.set_cookie("session", a.get_cookie("session").value)  # one client, two servers
    data = os.urandom(12 * MiB)
    bodies = chunk_requests(data, "f.bin", 5 * MiB)
    answers = {}

    def send(name, client, request_body):
        held = HeldBody(request_body)

        def run():
            answer = client.post(
                "/save",
                input_stream=held,
                content_type=CONTENT_TYPE,
                content_length=len(request_body),
            )
            answers[name] = answer.status_code

        thread = threading.Thread(target=run)
        thread.start()
        assert held.reached.wait(60)
        return held, thread

    first, first_thread = send("a0", a, bodies[0])  # starts the upload
    second, second_thread = send("b1", b, bodies[1])  # B reads its record
    first.cut = True
    first.released.set()
    first_thread.join()
    second.released.set()
    second_thread.join()
    assert answers == {"a0": 400, "b1": 503}
    assert a.post("/save", data=bodies[0], content_type=CONTENT_TYPE).status_code == 200
    assert b.post("/save", data=bodies[1], content_type=CONTENT_TYPE).status_code == 200
    last = b.post("/save", data=bodies[2], content_type=CONTENT_TYPE)
    assert last.json["saved"] == [["f.bin", "uploads/f.bin", None, len(data)]]
    assert s3.get("uploads/f.bin") == data


def test_a_hand_over_whose_server_died_is_taken_over_by_its_resent_chunk(s3, monkeypatch, s3_app):
    from flask_dropzone._stores.s3 import partials as s3_chunks

    app = s3_app()
    client = app.test_client()
    data = os.urandom(5 * MiB + 5)
    first, last = chunk_requests(data, "d.bin", 5 * MiB)
    assert client.post("/save", data=first, content_type=CONTENT_TYPE).status_code == 200
    real = s3_chunks.S3Partials.assemble

    def dies(self, *args):  # the server that won the hand-over, dying before it is done
        raise RuntimeError("the server died")

    monkeypatch.setattr(s3_chunks.S3Partials, "assemble", dies)
    assert client.post("/save", data=last, content_type=CONTENT_TYPE).status_code == 500
    monkeypatch.setattr(s3_chunks.S3Partials, "assemble", real)
    monkeypatch.setattr(s3_chunks, "RESENT_WAIT", 0.5)
    other = client.post(
        "/save", data=first, content_type=CONTENT_TYPE
    )  # another chunk leaves it to its holder
    assert other.json["saved"] == []
    resent = client.post("/save", data=last, content_type=CONTENT_TYPE)
    assert resent.json["saved"] == [["d.bin", "uploads/d.bin", None, len(data)]]
    assert s3.get("uploads/d.bin") == data and s3.open_uploads() == []
