"""S3: the writes that arbitrate between requests and servers (claims, locks, the sweep's
stamp) are compare-and-swaps, a name held for a file is only ever completed or removed while
it is still that upload's placeholder, and nothing that ends an upload removes a file
completed under its name. Against a real S3 server (SeaweedFS); interleavings are forced by
hooks."""

from __future__ import annotations

import os
import threading
import time
import types
import uuid as uuids

import pytest
from flask import render_template_string

from chunking import CONTENT_TYPE, chunk_requests
from flask_dropzone import file_stored, stores
from flask_dropzone.chunks import Chunk, Manifest
from flask_dropzone.stores import s3_chunks, s3_direct
from flask_dropzone.stores.s3 import S3Files
from flask_dropzone.stores.s3_chunks import S3Partials
from test_direct import ABORT, COMPLETE, MiB, direct_app, send, start, ticket, upload_parts
from test_s3_storage import post, s3_app

CHUNK = 5 * MiB
CLIENT = "c" * 32
TAKEN = "The name this file was to have was taken meanwhile; add the file again."


@pytest.fixture
def bucket(s3_server, s3_bucket):
    from s3server import make_client

    client = make_client(s3_server)

    class Bucket:
        raw, name, server = client, s3_bucket, s3_server

        @staticmethod
        def get(key: str) -> bytes:
            return client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()

        @staticmethod
        def exists(key: str) -> bool:
            return any(entry["Key"] == key for entry in client.list_objects_v2(Bucket=s3_bucket, Prefix=key).get("Contents", ()))

        @staticmethod
        def open_uploads() -> list[str]:
            return [u["Key"] for u in client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])]

        @staticmethod
        def store() -> tuple[S3Files, S3Partials]:
            files = S3Files(lambda: client, s3_bucket, "app/")
            return files, S3Partials(files)

    return Bucket


def stale_reads(monkeypatch, cls, method: str, suffix: str) -> None:
    """Every call of ``cls.method`` for a key ending in ``suffix`` answers what the first one
    read: as if every caller read it before any wrote."""
    real, first = getattr(cls, method), []

    def replayed(self, key, *args):
        if not key.endswith(suffix):
            return real(self, key, *args)
        if not first:
            first.append(real(self, key, *args))
        return first[0]

    monkeypatch.setattr(cls, method, replayed)


def leases_run_out(monkeypatch) -> None:
    """Every completion claim is past its lease at once (no waiting in the tests)."""
    monkeypatch.setattr(s3_direct, "CLAIM_LEASE", 0.0)
    monkeypatch.setattr(s3_direct, "COPY_RATE", 1e18)


def same_client(app, owner):
    other = app.test_client()
    cookie = owner.get_cookie("session")
    other.set_cookie(cookie.key, cookie.value)
    return other


def run(name: str, target) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


# Claims, locks and the sweep's stamp are compare-and-swaps ------------------------------


def test_two_servers_taking_over_a_dead_start_lock_do_not_both_get_it(bucket, monkeypatch):
    files, partials = bucket.store()
    lock = partials.pending_root + CLIENT + "/.lock"
    bucket.raw.put_object(Bucket=bucket.name, Key=lock, Body=b"")  # its holder died
    monkeypatch.setattr(s3_chunks, "START_LEASE", -1.0)
    stale_reads(monkeypatch, S3Partials, "head", "/.lock")
    assert [bool(partials.claim_start(lock)), bool(S3Partials(files).claim_start(lock))] == [True, False]


def test_two_servers_taking_over_a_dead_hand_over_in_the_same_instant_do_not_both_get_it(bucket, monkeypatch):
    _, partials = bucket.store()
    base = f"{partials.root}{CLIENT}/{uuids.uuid4()}/"
    frozen = time.time() + 1000  # one instant: every claim made now is past its lease
    monkeypatch.setattr(s3_chunks, "time", types.SimpleNamespace(time=lambda: frozen, monotonic=time.monotonic,
                                                                   sleep=time.sleep))
    assert partials.claim(base, 0, 1)  # the server that died
    stale_reads(monkeypatch, S3Partials, "_read_claim", "/claim")
    assert [bool(partials.claim(base, 0, 1)), bool(partials.claim(base, 0, 1))] == [True, False]


def test_two_servers_seeing_a_stale_sweep_stamp_do_not_both_sweep(bucket, monkeypatch):
    files, _ = bucket.store()
    bucket.raw.put_object(Bucket=bucket.name, Key=files.own + "last-clean", Body=b"")
    stale_reads(monkeypatch, S3Partials, "head", "/last-clean")
    assert [S3Partials(files).clean_due(-1), S3Partials(files).clean_due(-1)] == [True, False]


# A name held for a file is completed only while it is still the upload's placeholder ----


def test_a_chunked_upload_whose_held_name_was_taken_meanwhile_is_refused_and_the_file_there_kept(
    tmp_path, bucket, monkeypatch
):
    app = s3_app(tmp_path, bucket.server, bucket.name, monkeypatch)
    client, victim = app.test_client(), app.test_client()
    data = os.urandom(CHUNK + 5)
    first, last = chunk_requests(data, "f.bin", CHUNK)
    assert client.post("/save", data=first, content_type=CONTENT_TYPE).status_code == 200
    bucket.raw.delete_object(Bucket=bucket.name, Key="uploads/f.bin")
    assert post(victim, "/save", "f.bin", b"mine").json["saved"][0][:2] == ["f.bin", "uploads/f.bin"]
    response = client.post("/save", data=last, content_type=CONTENT_TYPE)
    assert (response.status_code, response.mimetype, response.get_data(as_text=True)) == (409, "text/plain", TAKEN)
    assert bucket.get("uploads/f.bin") == b"mine" and bucket.open_uploads() == []
    assert client.post("/save", data=last, content_type=CONTENT_TYPE).status_code == 410


@pytest.mark.parametrize("how", ["put", "copy"])
def test_the_same_bytes_stored_again_under_a_freed_name_have_another_version(bucket, how):
    files, _ = bucket.store()
    folder = files.folder(None, "")

    def store():
        if how == "put":
            return files.publish(b"same bytes", folder, "v.txt", 10)
        staged = files.stage(folder)
        staged.write(b"same bytes")
        try:
            return files.publish(staged, folder, "v.txt", 10)
        finally:
            staged.close()

    def stored_at():
        return bucket.raw.head_object(Bucket=bucket.name, Key=folder + "v.txt")["LastModified"]

    for _ in range(10):  # until both land in one second, as S3 tells time
        store()
        first, when = files.version(folder, "v.txt"), stored_at()
        files.delete(folder, "v.txt")
        store()
        assert files.version(folder, "v.txt") not in (None, first)
        same_second = stored_at() == when
        files.delete(folder, "v.txt")
        if same_second:
            return
    pytest.fail("never stored twice within one second")


# Nothing that ends an upload removes a file completed under its name ---------------------


def chunked_to_the_name(partials: S3Partials, folder: str, upload: str, data: bytes, index: int):
    """A chunk request of a view storing ``data`` in ``folder`` as ``f.bin``: its hand-over, if any."""
    count = max(1, -(-len(data) // CHUNK))
    chunk = Chunk(upload, index, index * CHUNK, Manifest("f.bin", len(data), CHUNK, count))
    partial = partials.open(CLIENT, chunk, None, (folder, "f.bin"))
    partial.write(data[chunk.offset : chunk.offset + chunk.length], chunk.offset)
    partial.mark_received(index)
    partial.release()
    try:
        return partial.hand_over()
    finally:
        partial.close()


def test_a_cancel_during_a_hand_over_leaves_the_file_being_published(bucket):
    files, partials = bucket.store()
    folder, data, upload = files.folder(None, ""), os.urandom(CHUNK + 5), str(uuids.uuid4())
    chunked_to_the_name(partials, folder, upload, data, 0)
    handover = chunked_to_the_name(partials, folder, upload, data, 1)  # assembled at the name held
    assert partials.cancel(CLIENT, upload) is False  # the hand-over ends it
    stored = files.publish(handover, folder, "f.bin", len(data))
    handover.commit()
    assert stored.location == folder + "f.bin" and bucket.get(folder + "f.bin") == data


@pytest.mark.parametrize("how", ["cancel", "sweep"])
def test_a_cancel_or_the_sweep_after_a_hand_over_keeps_what_was_assembled(bucket, how):
    """A hand-over whose request failed after the file was published (and reported) under
    its name: what ends the upload then leaves that file."""
    files, partials = bucket.store()
    folder, data, upload = files.folder(None, ""), os.urandom(CHUNK + 5), str(uuids.uuid4())
    chunked_to_the_name(partials, folder, upload, data, 0)
    handover = chunked_to_the_name(partials, folder, upload, data, 1)
    stored = files.publish(handover, folder, "f.bin", len(data))
    if how == "cancel":  # its view failed: given back, for a resent chunk
        files.unpublish(handover, [stored])
        handover.give_back()
        assert partials.cancel(CLIENT, upload) is True
    else:  # its server died before the commit
        partials.clean(expires=-1)
    assert bucket.get(stored.location) == data and bucket.open_uploads() == []

