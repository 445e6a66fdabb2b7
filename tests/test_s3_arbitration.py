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


# A name held for a file is completed only while it is still the upload's placeholder ----


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

