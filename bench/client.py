"""The one client program every contender is measured with: HTTP/1.1 over loopback,
file bodies sent from disk with sendfile, so that the client stays cheap."""

from __future__ import annotations

import http.client
import json
import math
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, Optional

BOUNDARY = "----benchboundaryQ2x7GfT0aZ"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _head(filename: str, fields: Optional[dict[str, str]] = None) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in (fields or {}).items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return "".join(parts).encode()


TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


class Client:
    """One keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.cookie: Optional[str] = None
        self.headers: dict[str, str] = {}

    def upload(
        self,
        path: str,
        filename: str,
        source: BinaryIO,
        offset: int,
        count: int,
        fields: Optional[dict[str, str]] = None,
    ) -> dict:
        """POST one multipart file part holding ``count`` bytes of ``source`` from ``offset``."""
        head = _head(filename, fields)
        connection = self.connection
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", CONTENT_TYPE)
        connection.putheader("Content-Length", str(len(head) + count + len(TAIL)))
        if self.cookie:
            connection.putheader("Cookie", self.cookie)
        for name, value in self.headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.sock.sendall(head)
        if count:
            connection.sock.sendfile(source, offset, count)
        connection.sock.sendall(TAIL)
        return json.loads(self._answer(path))

    def request(
        self, method: str, path: str, body: bytes = b"", headers: Optional[dict[str, str]] = None
    ) -> bytes:
        """Any other request, with the client's cookie and headers; the answer's body."""
        sent = {**self.headers, **(headers or {})}
        if self.cookie:
            sent["Cookie"] = self.cookie
        self.connection.request(method, path, body=body or None, headers=sent)
        return self._answer(path)

    def _answer(self, path: str) -> bytes:
        """The answer's body (an error unless 200), keeping the session cookie it sets."""
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";")[0]
        return body

    def close(self) -> None:
        self.connection.close()


def session_cookie(client: Client) -> str:
    """The session cookie, as the page with a chunking zone sets it."""
    client.connection.request("GET", "/session")
    response = client.connection.getresponse()
    response.read()
    return response.getheader("Set-Cookie").split(";")[0]


def csrf_token(client: Client) -> None:
    """Give the client a session and its CSRF token header, as a page with a CSRF zone does."""
    client.connection.request("GET", "/csrf-token")
    response = client.connection.getresponse()
    token = json.loads(response.read())["token"]
    client.cookie = response.getheader("Set-Cookie").split(";")[0]
    client.headers = {"X-CSRFToken": token, "X-Requested-With": "XMLHttpRequest"}


def single(port: int, path: str, source_path: str, filename: str) -> float:
    """One file in one request; returns seconds."""
    size = os.path.getsize(source_path)
    client = Client(port)
    if "csrf" in path:
        csrf_token(client)
    with open(source_path, "rb") as source:
        start = time.perf_counter()
        client.upload(path, filename, source, 0, size)
        elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def chunk_fields(file_id: str, index: int, size: int, chunk_size: int) -> dict[str, str]:
    """The fields Dropzone sends before chunk ``index`` of a file of ``size`` bytes."""
    return {
        "dzuuid": file_id,
        "dzchunkindex": str(index),
        "dztotalfilesize": str(size),
        "dzchunksize": str(chunk_size),
        "dztotalchunkcount": str(max(1, math.ceil(size / chunk_size))),
        "dzchunkbyteoffset": str(index * chunk_size),
    }


def chunked(
    port: int, path: str, source_path: str, filename: str, chunk_size: int, in_flight: int
) -> float:
    """One file in Dropzone's chunk requests, ``in_flight`` at a time; returns seconds."""
    size = os.path.getsize(source_path)
    count = max(1, math.ceil(size / chunk_size))
    file_id = str(uuid.uuid4())
    clients = [Client(port) for _ in range(in_flight)]
    cookie = session_cookie(clients[0])
    for client in clients:
        client.cookie = cookie
    local = threading.local()
    pool_clients = iter(clients)
    lock = threading.Lock()

    def send(index: int) -> None:
        if not hasattr(local, "client"):
            with lock:
                local.client = next(pool_clients)
                local.source = open(source_path, "rb")
        offset = index * chunk_size
        fields = chunk_fields(file_id, index, size, chunk_size)
        local.client.upload(
            path, filename, local.source, offset, min(chunk_size, size - offset), fields
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(send, range(count)))
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    return elapsed


def many_small(port: int, path: str, files: list[tuple[str, str]], clients: int) -> float:
    """Each (filename, source path) in its own request, from ``clients`` connections at once."""
    batches = [files[index::clients] for index in range(clients)]

    def run(batch: list[tuple[str, str]]) -> None:
        client = Client(port)
        for filename, source_path in batch:
            with open(source_path, "rb") as source:
                client.upload(path, filename, source, 0, os.path.getsize(source_path))
        client.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(run, batches))
    return time.perf_counter() - start
