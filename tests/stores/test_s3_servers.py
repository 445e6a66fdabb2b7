"""Several gunicorn app servers sharing one S3 bucket and nothing else: no shared disk (each
has its own instance folder), no sticky sessions; one SECRET_KEY, so the session cookie a
client got from one server is good on all of them. Chunks go to any server.

The servers serve tests/support/s3_gunicorn_app.py; each upload view call appends JSON lines to
a log folder (``start`` before it reads the body, ``saved`` with what ``save()`` returned),
so that a test knows when a server is reading a request, and counts the calls handed a file.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from flask_dropzone._rules import zonerules

from support.chunking import BOUNDARY, CONTENT_TYPE, body, chunk_requests
from support.html import zone_config
from support.s3server import _set_parent_death_signal, make_client

MIB = 1024 * 1024
CHUNK = 5 * MIB
TESTS = Path(__file__).resolve().parent.parent
TIMEOUT = 120.0  #: seconds a request or an awaited event may take, at most
PREFIX = "uploads/"
OWN = PREFIX + "_dropzone/"
MARKERS = OWN + "pending/"  #: each client's uploads: a chunked one's marker says how it ended
ENDED = (b"complete", b"expired", b"refused")  #: what an ended upload's marker says
STAMP = OWN + "last-clean"  #: when a server last swept the bucket (a store object, not an upload's)


# Servers ---------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    instance: Path
    process: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the master and its workers at once: their process group is the master's."""
        os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(TIMEOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master stops its workers, then exits
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Cluster:
    """App servers started for one test, all on one bucket with one SECRET_KEY."""

    tmp: Path
    env: dict[str, str]
    log: Path
    spawn: Callable[..., tuple[subprocess.Popen, int]]
    servers: list[Server] = field(default_factory=list)

    def start(self, count: int) -> list[Server]:
        started = []
        for _ in range(count):
            name = f"server{len(self.servers)}"
            instance = self.tmp / f"{name}-instance"
            instance.mkdir()  # its own, empty: it must stay so
            env = dict(self.env, DROPZONE_TEST_INSTANCE=str(instance), DROPZONE_TEST_SERVER=name)
            # Started from this (the main) thread: the parent-death signal follows the thread.
            process, port = self.spawn(
                "support.s3_gunicorn_app:create_app()",
                env,
                workers=2,
                threads=2,
                graceful_timeout=10,
                preexec_fn=_set_parent_death_signal,
            )
            server = Server(name, port, instance, process)
            self.servers.append(server)
            started.append(server)
        for server in started:
            wait_ready(server)
        return started

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def events(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.log.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.endswith("}"):  # a line being written is not read half
                    found.append(json.loads(line))
        return found

    def await_events(
        self, predicate: Callable[[dict[str, Any]], bool], count: int = 1
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` logged events match ``predicate``."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            found = [event for event in self.events() if predicate(event)]
            if len(found) >= count:
                return found
            for server in self.servers:
                assert (
                    server.process.poll() is None or server.process.returncode == -signal.SIGKILL
                ), server
            assert time.monotonic() < deadline, f"awaited {count} events, saw {found}"
            time.sleep(0.02)

    def await_start(self, *tags: str) -> None:
        """Wait until the upload view runs (and reads the body) for each of ``tags``."""
        for tag in tags:
            self.await_events(lambda e, tag=tag: e["event"] == "start" and e["tag"] == tag)

    def handed(self) -> list[tuple[str, list]]:
        """(server, saved) of every view call whose save() returned files."""
        return [
            (e["server"], e["saved"]) for e in self.events() if e["event"] == "saved" and e["saved"]
        ]


def wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn {server.name} exited with {server.process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn {server.name} did not start")
        time.sleep(0.1)


@pytest.fixture
def bucket(s3_server, s3_bucket):
    client = make_client(s3_server)

    class Bucket:
        name = s3_bucket

        @staticmethod
        def get(key: str) -> bytes:
            return client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()

        @staticmethod
        def metadata(key: str) -> dict[str, str]:
            return client.head_object(Bucket=s3_bucket, Key=key)["Metadata"]

        @staticmethod
        def all_keys() -> list[str]:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket)
            return sorted(entry["Key"] for page in pages for entry in page.get("Contents", ()))

        @staticmethod
        def open_uploads() -> list[dict[str, Any]]:
            pages = client.get_paginator("list_multipart_uploads").paginate(Bucket=s3_bucket)
            return [upload for page in pages for upload in page.get("Uploads", ())]

    return Bucket


@pytest.fixture
def cluster(tmp_path, s3_server, s3_bucket, spawn_gunicorn):
    log = tmp_path / "log"
    log.mkdir()
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID=s3_server.access_key,
        AWS_SECRET_ACCESS_KEY=s3_server.secret_key,
        AWS_DEFAULT_REGION="us-east-1",
        DROPZONE_TEST_SECRET="one secret for every server",
        DROPZONE_TEST_BUCKET=s3_bucket,
        DROPZONE_TEST_ENDPOINT=s3_server.endpoint_url,
        DROPZONE_TEST_LOG=str(log),
    )
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        env.pop(name, None)
    cluster = Cluster(tmp_path, env, log, spawn_gunicorn)
    try:
        yield cluster
    finally:
        cluster.stop()


# Requests --------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    payload: bytes
    set_cookie: Optional[str]

    @property
    def saved(self) -> list:
        assert self.status == 200, (self.status, self.payload[:500])
        return json.loads(self.payload)["saved"]


def headers(cookie: str, tag: str) -> dict[str, str]:
    return {"Content-Type": CONTENT_TYPE, "Cookie": cookie, "X-Test-Tag": tag}


def post(
    server: Server, request_body: bytes, cookie: str = "", path: str = "/upload", tag: str = ""
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.request("POST", path, body=request_body, headers=headers(cookie, tag))
        response = connection.getresponse()
        return Answer(response.status, response.read(), response.getheader("Set-Cookie"))
    finally:
        connection.close()


class Pending:
    """A request whose body is sent but for its last ``held`` bytes (or from ``held`` on,
    when it is bytes): ``finish()`` sends the rest, ``cut()`` resets the connection."""

    def __init__(
        self,
        server: Server,
        request_body: bytes,
        cookie: str,
        tag: str,
        path: str = "/upload",
        split: Optional[int] = None,
    ) -> None:
        self.tag = tag
        split = len(request_body) - 100 if split is None else split
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        self.connection.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in headers(cookie, tag).items():
            self.connection.putheader(name, value)
        self.connection.putheader("Content-Length", str(len(request_body)))
        self.connection.endheaders()
        self.connection.send(request_body[:split])
        self.rest = request_body[split:]

    def finish(self) -> Answer:
        try:
            self.connection.send(self.rest)
            response = self.connection.getresponse()
            return Answer(response.status, response.read(), response.getheader("Set-Cookie"))
        finally:
            self.connection.close()

    def cut(self) -> None:
        sock = self.connection.sock
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset
        self.connection.close()


def session_cookie(server: Server) -> str:
    """The cookie a browser gets with the page; it then sends it to every server."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    connection.request("GET", "/")
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 200
    cookie = response.getheader("Set-Cookie")
    assert cookie and cookie.startswith("session="), cookie
    return cookie.split(";")[0]


def file_part_start(request_body: bytes) -> int:
    """Where the file part of a chunk request begins (after the chunk fields)."""
    return request_body.index(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"'.encode()
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_base(client_uuid: str, file_id: str) -> str:
    return f"{OWN}chunks/{client_uuid}/{file_id}/"


def local_entries(servers: list[Server]) -> list[str]:
    return [
        str(path) for server in servers for path in server.instance.rglob("*") if path.is_file()
    ]


def leftovers(bucket: Any, keys: list[str]) -> list[str]:
    """The store's own objects other than the records of ended uploads (its record, and its
    marker saying how it ended) and the sweep's stamp."""
    own = [key for key in keys if key.startswith(OWN) and key != STAMP]
    return [key for key in own if not is_record(bucket, key)]


def is_record(bucket: Any, key: str) -> bool:
    if key.endswith("/manifest"):
        return True
    return key.startswith(MARKERS) and bucket.get(key).startswith(ENDED)


# Tests -----------------------------------------------------------------------------------


def test_four_files_in_parallel_chunks_across_three_servers_without_shared_disk(cluster, bucket):
    servers = cluster.start(3)
    cookie = session_cookie(servers[0])
    size = 40 * MIB
    files = {f"file{number}.bin": os.urandom(size) for number in range(4)}
    bodies = {name: chunk_requests(data, name, CHUNK) for name, data in files.items()}
    count = len(bodies["file0.bin"])
    assert count == 8

    # Round-robin over the servers, the files' chunks interleaved.
    cut, duplicated = ("file1.bin", 5), ("file0.bin", 3)
    jobs: list[tuple[str, str, int, Server]] = []
    for index in range(count):
        for name in files:
            kind = {cut: "cut", duplicated: "twice"}.get((name, index), "send")
            jobs.append((kind, name, index, servers[len(jobs) % 3]))
            if kind == "twice":  # the same chunk again, to the next server
                jobs.append((kind, name, index, servers[len(jobs) % 3]))
    answered = {name: threading.Event() for name in files}
    lock = threading.Lock()
    others = {"left": count - 1, "done": threading.Event()}  # file0's chunks but the duplicated one
    both = threading.Barrier(2, timeout=TIMEOUT)

    def run(job: tuple[str, str, int, Server]) -> list[tuple[str, int, str, Answer]]:
        try:
            return send(*job)
        except BaseException:
            both.abort()  # a failure fails the test now, not after the others' timeouts
            others["done"].set()
            raise

    def send(
        kind: str, name: str, index: int, server: Server
    ) -> list[tuple[str, int, str, Answer]]:
        request_body = bodies[name][index]
        tag = f"{name}-{index}-{server.name}"
        if kind == "cut":
            # Dropped mid-body once the upload is under way (it is not the chunk that started
            # it), while the server reads it; the browser sends it again, to another server.
            assert answered[name].wait(TIMEOUT)
            pending = Pending(
                server, request_body, cookie, "cut-" + tag, split=len(request_body) // 2
            )
            cluster.await_start("cut-" + tag)
            pending.cut()
            server = servers[(servers.index(server) + 1) % 3]
            tag = f"{name}-{index}-{server.name}"
        if kind == "twice":
            # The duplicated chunk is its file's last: both copies, on two servers at once,
            # find the file whole; one request is handed it.
            assert others["done"].wait(TIMEOUT)
            pending = Pending(server, request_body, cookie, tag)
            cluster.await_start(tag)
            both.wait()
            answer = pending.finish()
        else:
            answer = post(server, request_body, cookie, tag=tag)
        if answer.status == 200:
            answered[name].set()
            if name == duplicated[0] and kind != "twice":
                with lock:
                    others["left"] -= 1
                    if not others["left"]:
                        others["done"].set()
        return [(name, index, server.name, answer)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = [result for batch in pool.map(run, jobs) for result in batch]

    assert len(results) == 4 * count + 1
    assert [(n, i, s, a.status, a.payload[:300]) for n, i, s, a in results if a.status != 200] == []
    # One session for all servers: none of them started another (a foreign key would have).
    assert [a.set_cookie for *_, a in results if a.set_cookie] == []
    for name, data in files.items():
        entry = [name, PREFIX + name, size]
        handed = [(index, server) for n, index, server, a in results if n == name and a.saved]
        assert len(handed) == 1, (name, handed)
        assert [a.saved for n, *_, a in results if n == name and a.saved] == [[entry]]
        assert sha(bucket.get(PREFIX + name)) == sha(data), name
    # The view-call log agrees: one call per file was handed it; every server served chunks.
    assert sorted(saved for _, saved in cluster.handed()) == sorted(
        [[name, PREFIX + name, size]] for name in files
    )
    started = cluster.events()
    assert {e["server"] for e in started if e["event"] == "start"} == {s.name for s in servers}
    assert not [e for e in started if e["tag"].startswith("cut-") and e["event"] == "saved"]

    keys = bucket.all_keys()
    assert [key for key in keys if not key.startswith(OWN)] == sorted(
        PREFIX + name for name in files
    )
    assert leftovers(bucket, keys) == []
    assert bucket.open_uploads() == []
    assert local_entries(servers) == []


def test_chunk_zero_racing_on_two_servers_starts_one_multipart_upload(cluster, bucket):
    servers = cluster.start(2)
    cookie = session_cookie(servers[0])
    data = os.urandom(12 * MIB + 7)
    file_id = str(uuid.uuid4())
    bodies = chunk_requests(data, "race.bin", CHUNK, file_id=file_id)
    assert len(bodies) == 3
    # Both servers hold the chunk's fields and wait for its file part, which opens the upload.
    racers = [
        Pending(server, bodies[0], cookie, f"race-{number}", split=file_part_start(bodies[0]))
        for number, server in enumerate(servers)
    ]
    cluster.await_start("race-0", "race-1")
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def race(pending: Pending) -> Answer:
        barrier.wait()
        return pending.finish()

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(race, racers))
    assert [(a.status, a.saved) for a in answers] == [(200, []), (200, [])]
    (client,) = {key.split("/")[3] for key in bucket.all_keys() if key.startswith(OWN + "chunks/")}
    base = upload_base(client, file_id)
    opened = bucket.open_uploads()
    manifest = json.loads(bucket.get(base + "manifest"))
    key = manifest.get("key", base + "data")  # where the upload is assembled
    assert [(u["Key"], u["UploadId"]) for u in opened] == [(key, manifest["upload_id"])]

    assert post(servers[1], bodies[1], cookie).saved == []
    assert post(servers[0], bodies[2], cookie).saved == [
        ["race.bin", PREFIX + "race.bin", len(data)]
    ]
    assert sha(bucket.get(PREFIX + "race.bin")) == sha(data)
    assert len(cluster.handed()) == 1
    assert bucket.open_uploads() == []
    assert leftovers(bucket, bucket.all_keys()) == []
    assert local_entries(servers) == []


def test_a_server_killed_mid_chunk_is_recovered_by_the_retry_on_another(cluster, bucket):
    survivor, victim = cluster.start(2)
    cookie = session_cookie(survivor)
    data = os.urandom(17 * MIB + 3)
    bodies = chunk_requests(data, "killed.bin", CHUNK)
    assert len(bodies) == 4
    for index, request_body in enumerate(bodies[:-1]):
        assert post((survivor, victim)[index % 2], request_body, cookie).saved == []
    # The last chunk is all but sent to the victim, which is reading it, when it dies.
    pending = Pending(victim, bodies[-1], cookie, "victim")
    cluster.await_start("victim")
    victim.kill()
    pending.cut()
    with pytest.raises(OSError):
        post(victim, bodies[-1], cookie)  # nobody listens there now
    # Dropzone sends the failed chunk again: another server takes it.
    answer = post(survivor, bodies[-1], cookie, tag="retry")
    assert answer.saved == [["killed.bin", PREFIX + "killed.bin", len(data)]]
    assert sha(bucket.get(PREFIX + "killed.bin")) == sha(data)
    assert [server for server, _ in cluster.handed()] == [survivor.name]
    assert bucket.open_uploads() == []
    assert leftovers(bucket, bucket.all_keys()) == []
    assert local_entries([survivor, victim]) == []


def test_a_type_refused_on_chunk_zero_refuses_the_later_chunks_and_leaves_only_records(
    cluster, bucket
):
    servers = cluster.start(2)
    cookie = session_cookie(servers[0])
    data = b"<html><body>" + os.urandom(12 * MIB)
    file_id = str(uuid.uuid4())
    bodies = chunk_requests(data, "photo.png", CHUNK, file_id=file_id)
    assert len(bodies) == 3
    first = post(servers[0], bodies[0], cookie, path="/typed")
    assert first.status == 415, first
    later = [
        post(servers[(index + 1) % 2], b, cookie, path="/typed")
        for index, b in enumerate(bodies[1:])
    ]
    assert [(a.status, a.payload) for a in later] == [(415, first.payload)] * 2
    # Sent again, chunk 0 is refused too, on either server.
    assert [post(s, bodies[0], cookie, path="/typed").status for s in servers] == [415, 415]

    # Chunk 0 was refused before the upload was recorded: its marker is all that is left.
    (marker,) = [key for key in bucket.all_keys() if key != STAMP]
    assert marker.startswith(MARKERS) and marker.rpartition("/")[2].startswith(file_id + ".")
    assert bucket.get(marker) == b"refused 415"
    assert bucket.open_uploads() == []
    assert cluster.handed() == []
    assert local_entries(servers) == []


def test_two_servers_storing_one_name_at_once_take_two_names(cluster, bucket):
    servers = cluster.start(2)
    contents = [os.urandom(9 * MIB), os.urandom(9 * MIB)]
    racers = [
        Pending(server, body({}, "file", "x.bin", content), "", f"same-{number}")
        for number, (server, content) in enumerate(zip(servers, contents))
    ]
    cluster.await_start("same-0", "same-1")
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def race(pending: Pending) -> Answer:
        barrier.wait()
        return pending.finish()

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(race, racers))
    saved = [a.saved for a in answers]
    assert sorted(entry[1] for (entry,) in saved) == [PREFIX + "x (1).bin", PREFIX + "x.bin"], saved
    for ((name, location, size),), content in zip(saved, contents):
        assert size == len(content) and location == PREFIX + name
        assert sha(bucket.get(location)) == sha(content), location
    assert [key for key in bucket.all_keys() if key != STAMP] == [
        PREFIX + "x (1).bin",
        PREFIX + "x.bin",
    ]
    assert bucket.open_uploads() == []
    assert local_entries(servers) == []


def test_an_expired_upload_is_cleaned_and_its_later_chunks_answer_410(cluster, bucket, s3_server):
    from flask_dropzone._stores.s3.files import S3Files
    from flask_dropzone._stores.s3.partials import S3Partials

    servers = cluster.start(2)
    cookie = session_cookie(servers[0])
    data = os.urandom(12 * MIB)
    bodies = chunk_requests(data, "stale.bin", CHUNK)
    assert post(servers[0], bodies[0], cookie).saved == []
    assert len(bucket.open_uploads()) == 1

    # The maintenance command, run as an operator would, with the servers' configuration:
    # the upload is kept for the CHUNK_EXPIRES it started with, whatever --expires says.
    instance = cluster.tmp / "cli-instance"
    instance.mkdir()
    env = dict(cluster.env, DROPZONE_TEST_INSTANCE=str(instance), DROPZONE_TEST_SERVER="cli")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "support.s3_gunicorn_app:create_app",
            "dropzone",
            "clean",
            "--expires",
            "-1",
        ],
        cwd=TESTS,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Removed 0 partial uploads" in done.stdout, done.stdout
    # The sweep, a day and more later.
    client = make_client(s3_server)
    partials = S3Partials(S3Files(lambda: client, bucket.name, PREFIX))
    assert partials.clean(86400, now=time.time() + 86400 + 60).partial_uploads == 1
    assert bucket.open_uploads() == []

    # Its later chunks, on another server and on the one that started it (a worker of which
    # may still know the upload).
    answers = [post(servers[1], bodies[1], cookie), post(servers[0], bodies[2], cookie)]
    assert [a.status for a in answers] == [410, 410], answers
    assert post(servers[1], bodies[0], cookie).status == 410
    assert [key for key in bucket.all_keys() if not key.startswith(OWN)] == []
    assert leftovers(bucket, bucket.all_keys()) == []
    assert bucket.open_uploads() == []
    assert local_entries(servers) + [str(p) for p in instance.rglob("*") if p.is_file()] == []


def page_rules(server: Server, cookie: str) -> dict:
    """The signed rules of the page's zone, as its uploads carry them."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.request("GET", "/", headers={"Cookie": cookie})
        html = connection.getresponse().read().decode()
    finally:
        connection.close()
    headers = zone_config(html)["options"]["headers"]
    return {zonerules.HEADER: headers[zonerules.HEADER]}


def call(
    server: Server,
    method: str,
    path: str,
    cookie: str,
    payload: Optional[dict] = None,
    headers: Optional[dict] = None,
) -> tuple[int, Any]:
    """A JSON request to ``server`` with the client's cookie: the status and the JSON answer
    (or the plain-text refusal)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        data = None if payload is None else json.dumps(payload).encode()
        sent = {"Cookie": cookie, "Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    is_json = (response.getheader("Content-Type") or "").startswith("application/json")
    return response.status, json.loads(answer) if is_json else answer.decode()


def put_part(url: str, data: bytes) -> int:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        connection.request("PUT", f"{parts.path}?{parts.query}", body=data)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_a_direct_upload_started_on_one_server_is_completed_once_on_any(cluster, bucket):
    """No server keeps anything of a direct upload: its token and the bucket say it all."""
    cluster.env["DROPZONE_TEST_DIRECT"] = "1"
    servers = cluster.start(2)
    cookie = session_cookie(servers[0])
    rules = page_rules(servers[0], cookie)
    data = os.urandom(2 * CHUNK + MIB)
    status, started = call(
        servers[0],
        "POST",
        "/dropzone/direct/start",
        cookie,
        {"name": "far.bin", "size": len(data), "type": ""},
        rules,
    )
    assert status == 200, started
    for number, url in enumerate(started["urls"]):
        assert put_part(url, data[number * CHUNK : (number + 1) * CHUNK]) == 200
    token = started["upload"]
    status, held = call(
        servers[1],
        "GET",
        f"/dropzone/direct/status?upload={urllib.parse.quote(token)}",
        cookie,
        headers=rules,
    )
    assert (status, held["held"]) == (200, [1, 2, 3])
    with ThreadPoolExecutor(4) as pool:  # two requests on each server at once
        answers = list(
            pool.map(
                lambda server: call(
                    server, "POST", "/dropzone/direct/complete", cookie, {"upload": token}, rules
                ),
                servers * 2,
            )
        )
    assert sorted(status for status, _ in answers) == [200, 404, 404, 404], answers
    assert [answer for status, answer in answers if status == 200] == [
        {"stored": [{"filename": "far.bin", "stored_name": "far.bin"}]}
    ]
    assert bucket.get(PREFIX + "far.bin") == data and bucket.open_uploads() == []
    direct = [key for key in bucket.all_keys() if "/.dropzone-direct/" in key]
    assert len(direct) == 1 and direct[0].endswith(
        ".claim"
    )  # its body a nonce, its word in metadata
    assert bucket.metadata(direct[0]) == {"fdz-state": "ended"}
    assert leftovers(bucket, bucket.all_keys()) == [] and local_entries(servers) == []


def test_a_form_fields_pending_file_kept_by_one_server_is_claimed_once_on_any(cluster, bucket):
    """A file uploaded into a form field on one server, the form submitted to every server
    at once: one claim stores it, one copy; nothing of it is on any server's disk."""
    servers = cluster.start(2)
    cookie = session_cookie(servers[0])
    connection = http.client.HTTPConnection("127.0.0.1", servers[0].port, timeout=TIMEOUT)
    connection.request("GET", "/form", headers={"Cookie": cookie})
    config = zone_config(connection.getresponse().read().decode())
    connection.close()
    data = os.urandom(MIB)
    file_body = body({}, "file", "kept.bin", data)
    upload_headers = {
        **headers(cookie, ""),
        **{k: v for k, v in config["options"]["headers"].items() if k != "X-CSRF-Token"},
    }
    connection = http.client.HTTPConnection("127.0.0.1", servers[0].port, timeout=TIMEOUT)
    connection.request("POST", "/dropzone/pending", body=file_body, headers=upload_headers)
    answer = connection.getresponse()
    kept = json.loads(answer.read())
    connection.close()
    assert answer.status == 200, kept
    form = urllib.parse.urlencode({"photos": kept["files"][0]["reference"]}).encode()

    def submit(server):
        each = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        try:
            each.request(
                "POST",
                "/form",
                body=form,
                headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
            )
            response = each.getresponse()
            text = response.read().decode()
            statuses.append(response.status)
            return (
                json.loads(text)["claimed"]
                if response.status == 200 and text.startswith("{")
                else None
            )
        finally:
            each.close()

    statuses: list[int] = []
    with ThreadPoolExecutor(4) as pool:
        claims = list(pool.map(submit, servers * 2))
    # one stores it; the others find it claimed: as they judge the form (the form again, 200), or
    # as they claim (409, AlreadyClaimed): never a 500
    assert sorted(len(claim or []) for claim in claims) == [0, 0, 0, 1], claims
    assert set(statuses) <= {200, 409}, statuses
    assert bucket.get(PREFIX + "kept.bin") == data
    assert [key for key in bucket.all_keys() if not key.startswith(OWN)] == [PREFIX + "kept.bin"]
    assert local_entries(servers) == []
