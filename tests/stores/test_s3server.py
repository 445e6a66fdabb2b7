"""The S3 test server (SeaweedFS ``weed mini``) answers, checks signatures, and stops."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import pytest

from support.s3 import require_weed
from support.s3server import S3Server, make_client


def test_an_object_put_is_read_back(s3_server, s3_bucket):
    client = make_client(s3_server)
    body = os.urandom(70_000) + b"\x00\r\n"
    put = client.put_object(
        Bucket=s3_bucket, Key="dir/file.bin", Body=body, ContentType="application/x-test"
    )
    got = client.get_object(Bucket=s3_bucket, Key="dir/file.bin")
    assert got["Body"].read() == body
    assert got["ETag"] == put["ETag"]
    assert got["ContentType"] == "application/x-test"
    listed = client.list_objects_v2(Bucket=s3_bucket)
    listing = [(item["Key"], item["Size"]) for item in listed["Contents"]]
    assert listing == [("dir/file.bin", len(body))]


def test_each_test_gets_an_empty_bucket_of_its_own(s3_server, s3_bucket):
    client = make_client(s3_server)
    assert client.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 0
    assert s3_bucket in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]


def test_a_wrong_secret_key_is_refused(s3_server, s3_bucket):
    from botocore.exceptions import ClientError

    make_client(s3_server).put_object(Bucket=s3_bucket, Key="k", Body=b"secret")
    forger = make_client(s3_server, secret_key=s3_server.secret_key + "x")
    for call in (
        lambda: forger.get_object(Bucket=s3_bucket, Key="k"),
        lambda: forger.put_object(Bucket=s3_bucket, Key="k", Body=b"overwritten"),
        lambda: forger.list_buckets(),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert make_client(s3_server).get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"secret"


def test_an_unknown_key_and_an_unsigned_request_are_refused(s3_server, s3_bucket):
    from botocore.exceptions import ClientError

    make_client(s3_server).put_object(Bucket=s3_bucket, Key="k", Body=b"secret")
    stranger = make_client(s3_server, access_key="AKNOBODY0000", secret_key="x" * 40)
    with pytest.raises(ClientError) as refused:
        stranger.get_object(Bucket=s3_bucket, Key="k")
    assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{s3_server.endpoint_url}/{s3_bucket}/k", timeout=10)
    assert anonymous.value.code == 403


def test_a_server_of_its_own_starts_on_loopback_and_stops(tmp_path):
    with S3Server(require_weed()).start(tmp_path) as server:
        pid = server.pid
        assert server.endpoint_url.startswith("http://127.0.0.1:")
        assert "-ip.bind=127.0.0.1" in server.command
        assert "-master.telemetry=false" in server.command
        assert make_client(server).list_buckets()["Buckets"] == []
    assert not server.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
