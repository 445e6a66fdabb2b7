"""Chromium uploads a big file in parallel chunks through a round-robin proxy in front of
two app servers storing into S3: no shared disk, no sticky sessions."""

from __future__ import annotations

import hashlib
import os
import threading

from werkzeug.serving import make_server

from support.browser import statuses, wait_settled_long
from support.servers import RoundRobin

MIB = 1024 * 1024


def test_a_64_mib_file_in_parallel_chunks_over_two_servers_lands_whole_in_the_bucket(
    page, serve, tmp_path, s3_server, s3_bucket, s3_settings
):
    from demo.app import create_app
    from support.s3server import make_client

    settings = {"SECRET_KEY": "one key for every server", **s3_settings}
    servers = []
    for name in ("one", "two"):
        app = create_app(settings)
        app.instance_path = str(tmp_path / name)  # each server's own disk, never written
        servers.append(serve(app))
    proxy = RoundRobin([server.server.server_port for server in servers])
    front = make_server("127.0.0.1", 0, proxy, threaded=True)
    thread = threading.Thread(target=front.serve_forever, daemon=True)
    thread.start()
    try:
        source = tmp_path / "big.bin"
        source.write_bytes(os.urandom(64 * MIB))
        page.goto(f"http://127.0.0.1:{front.server_port}/chunked")
        handle = page.evaluate_handle(
            "document.getElementById('myDropzone').dropzone.hiddenFileInput"
        )
        handle.as_element().set_input_files(str(source))
        page.wait_for_function("document.getElementById('myDropzone').dropzone.files.length === 1")
        wait_settled_long(page)
        assert statuses(page, "myDropzone") == ["success"]
    finally:
        front.shutdown()
        front.server_close()
        thread.join(10)
    client = make_client(s3_server)
    stored = client.get_object(Bucket=s3_bucket, Key="uploads/big.bin")["Body"].read()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert len(proxy.posts) == 2 and min(proxy.posts.values()) >= 5  # 13 chunks, spread over both
    assert not any(
        path.is_file() for name in ("one", "two") for path in (tmp_path / name).rglob("*")
    )
