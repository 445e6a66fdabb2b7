"""The demo's views apply the same settings as their zones."""

from __future__ import annotations

import io

from demo.app import ONE_AVATAR, create_app

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def test_the_one_picture_zone_takes_one_picture_on_the_server_too(tmp_path):
    app = create_app({"SECRET_KEY": "demo test", "WTF_CSRF_ENABLED": False})
    app.instance_path = str(tmp_path)
    files = {f"file[{i}]": (io.BytesIO(PNG), f"{i}.png") for i in range(3)}
    response = app.test_client().post(
        "/several/avatar", data=files, content_type="multipart/form-data"
    )
    assert ONE_AVATAR["max_files"] == 1
    assert (
        response.status_code == 400
        and response.get_data(as_text=True) == "You can't upload any more files (at most 1)."
    )


def test_make_demo_s3_serves_the_demo_storing_into_a_bucket(s3_server, tmp_path):
    """``make demo-s3``: SeaweedFS on loopback, the demo storing into it, both stopped on exit."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from support import ROOT as root
    from support.s3server import free_port_pairs

    port = free_port_pairs(1)[0]
    process = subprocess.Popen(
        [
            sys.executable,
            str(root / "scripts" / "demo_s3.py"),
            "--port",
            str(port),
            "--data",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = urllib.request.urlopen(base + "/basic", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, (
                    process.stdout.read().decode()
                )
                time.sleep(0.2)
        cookie = page.headers["Set-Cookie"].split(";")[0]
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', page.read().decode()).group(1)
        boundary = "demo-s3-boundary"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="in-the-bucket.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\nstored in S3\r\n--{boundary}--\r\n"
        ).encode()
        upload = urllib.request.Request(
            base + "/basic",
            data=body,
            method="POST",
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Cookie": cookie,
                "X-CSRF-Token": token,
            },
        )
        stored = urllib.request.urlopen(upload, timeout=10).read().decode()
        assert "in-the-bucket" in stored
        assert (
            "in-the-bucket" in urllib.request.urlopen(base + "/stored", timeout=10).read().decode()
        )
        assert not any((root / "demo" / "instance").glob("uploads/in-the-bucket*"))
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    assert s3_server.running  # the fixture's own server is not the demo's: it stopped alone
