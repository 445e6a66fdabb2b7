"""Chunked uploads under gunicorn with several worker processes and threads."""

from __future__ import annotations

import hashlib
import http.client
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from support.chunking import BOUNDARY, CONTENT_TYPE, chunk_fields, chunk_requests
from support.chunking import body as chunk_body

MIB = 1024 * 1024


@pytest.fixture
def gunicorn(gunicorn_pid):
    port, instance, _ = gunicorn_pid
    return port, instance


@pytest.fixture
def gunicorn_pid(tmp_path, spawn_gunicorn):
    env = dict(os.environ, DROPZONE_TEST_INSTANCE=str(tmp_path / "instance"))
    process, port = spawn_gunicorn(
        "support.gunicorn_app:create_app()", env, workers=4, threads=2, graceful_timeout=5
    )
    # The socket listens from the start: a page answered says a worker serves it.
    deadline = time.time() + 30
    while True:
        try:
            session_cookie(port)
            break
        except (OSError, http.client.HTTPException):
            if time.time() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.1)
    return port, tmp_path / "instance", process.pid


def session_cookie(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/")
    response = connection.getresponse()
    response.read()
    return response.getheader("Set-Cookie").split(";")[0]


def post(port: int, cookie: str, body: bytes, timeout: float = 60) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request(
        "POST", "/upload", body=body, headers={"Content-Type": CONTENT_TYPE, "Cookie": cookie}
    )
    response = connection.getresponse()
    return response.status, response.read()


def post_chunk(port: int, cookie: str, body: bytes) -> list:
    status, payload = post(port, cookie, body)
    assert status == 200, payload
    import json

    return json.loads(payload)["saved"]


def test_eight_files_in_parallel_chunks_across_four_workers(gunicorn):
    port, instance = gunicorn
    files = {f"file{index}.bin": os.urandom(20 * MIB) for index in range(8)}
    jobs = []
    for name, content in files.items():
        cookie = session_cookie(port)  # one browser per file
        jobs += [(cookie, body) for body in chunk_requests(content, name, MIB)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        saved = [
            item for result in pool.map(lambda job: post_chunk(port, *job), jobs) for item in result
        ]
    assert sorted(saved) == sorted([name, 20 * MIB] for name in files)
    for name, content in files.items():
        stored = (instance / "uploads" / name).read_bytes()
        assert hashlib.sha256(stored).digest() == hashlib.sha256(content).digest(), name


def workers(master: int) -> list[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in path.read_text().split()]


def test_a_worker_killed_mid_chunk_is_recovered_by_the_retry(gunicorn_pid):
    port, instance, master = gunicorn_pid
    content = os.urandom(4 * MIB)
    bodies = chunk_requests(content, "killed.bin", MIB)
    cookie = session_cookie(port)
    for body in bodies[:-1]:
        assert post_chunk(port, cookie, body) == []
    # The last chunk is all but sent, most of it already written, when every worker is killed.
    half = socket.create_connection(("127.0.0.1", port))
    half.sendall(
        f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {CONTENT_TYPE}\r\n"
        f"Cookie: {cookie}\r\nContent-Length: {len(bodies[-1])}\r\n\r\n".encode()
        + bodies[-1][:-100]
    )
    time.sleep(0.5)
    killed = workers(master)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    half.close()
    deadline = time.time() + 30
    while not (set(workers(master)) - set(killed)) and time.time() < deadline:
        time.sleep(0.1)
    # Dropzone sends the failed chunk again.
    for _ in range(50):
        try:
            saved = post_chunk(port, cookie, bodies[-1])
            break
        except (ConnectionError, http.client.HTTPException, AssertionError):
            time.sleep(0.2)
    assert saved == [["killed.bin", len(content)]]
    assert (instance / "uploads" / "killed.bin").read_bytes() == content


def test_a_chunked_encoding_body_refused_for_its_size_is_drained_for_the_client_to_read_the_answer(
    gunicorn,
):
    """A body without Content-Length over MAX_CONTENT_LENGTH (4 MiB here) is read to its end
    (it is under DRAIN_LIMIT), so that a client sending it all before reading gets the 413,
    not a broken pipe."""
    port, _ = gunicorn
    content = b"x" * (28 * MIB)  # more than socket buffers hold past the limit
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'.encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        connection.sendall(
            f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {CONTENT_TYPE}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        for start in range(0, len(body), MIB):
            piece = body[start : start + MIB]
            connection.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        connection.sendall(b"0\r\n\r\n")
        response = http.client.HTTPResponse(connection)
        response.begin()
        assert response.status == 413
        assert response.getheader("Content-Type").startswith("text/plain")
        assert response.read() == b"The upload is larger than the server accepts."


@pytest.mark.timeout(120)
def test_completing_chunks_with_two_file_parts_are_answered_and_hold_no_thread(gunicorn):
    """Each once held its thread for ever (its second part waited for the first part's
    hand-over): eight of them took the threads of four workers with two each."""
    port, instance = gunicorn
    cookie = session_cookie(port)
    file_id, content = "0f8fad5b-d9cb-469f-a165-70867728950e", os.urandom(2 * MIB)
    first, last = chunk_requests(content, "two.bin", MIB, file_id=file_id)
    assert post_chunk(port, cookie, first) == []
    doubled = chunk_body(
        chunk_fields(file_id, 1, 2 * MIB, MIB), "file", "two.bin", content[MIB:], copies=2
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: post(port, cookie, doubled, timeout=30), range(8)))
    assert answers == [(400, b"A chunk request carries one file.")] * 8
    assert post_chunk(port, cookie, last) == [["two.bin", 2 * MIB]]
    assert (instance / "uploads" / "two.bin").read_bytes() == content
