"""The first uploads of a new deployment: folders and state created by many requests at once."""

from __future__ import annotations

import io
import os
import threading

import pytest
from flask import Flask

from support.chunking import CHUNK, chunk_requests, send

TRIALS = 40
AT_ONCE = 4


@pytest.fixture
def fresh_app(make_app):
    """A new deployment: not even its instance folder exists."""

    def make(instance: str) -> Flask:
        app = make_app(instance=instance, DROPZONE_CHUNKING=True, DROPZONE_CHUNK_SIZE=CHUNK)
        dropzone = app.extensions["dropzone"]

        @app.post("/save")
        def save():
            return {"saved": [s.stored_name for s in dropzone.save()]}

        return app

    return make


def at_once(requests) -> list[int]:
    """Run the callables at the same instant, one thread each; their statuses."""
    barrier, statuses = threading.Barrier(len(requests)), []

    def run(request):
        barrier.wait()
        statuses.append(request())

    threads = [threading.Thread(target=run, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.mark.parametrize(
    "size", [100, 800_000], ids=["written at once", "linked from a temporary file"]
)
def test_simultaneous_first_uploads_all_arrive(size, fresh_app):
    for trial in range(TRIALS):
        app = fresh_app(f"t{trial}")

        def upload(number, app=app):
            data = {"file": (io.BytesIO(os.urandom(size)), f"{number}.bin")}
            return lambda: (
                app.test_client()
                .post("/save", data=data, content_type="multipart/form-data")
                .status_code
            )

        assert at_once([upload(n) for n in range(AT_ONCE)]) == [200] * AT_ONCE, trial
        assert len(os.listdir(os.path.join(app.instance_path, "uploads"))) == AT_ONCE


@pytest.mark.parametrize("same_client", [True, False], ids=["one client", "several clients"])
def test_simultaneous_first_chunks_all_arrive(same_client, fresh_app):
    for trial in range(TRIALS):
        app = fresh_app(f"t{trial}")
        clients = [app.test_client() for _ in range(AT_ONCE)]
        if same_client:
            for client in clients:
                with client.session_transaction() as session:
                    session["_dropzone_client"] = "12" * 16
        firsts = [
            chunk_requests(os.urandom(3 * CHUNK), f"{n}.bin", CHUNK)[0] for n in range(AT_ONCE)
        ]
        statuses = at_once(
            [lambda c=c, b=b: send(c, b).status_code for c, b in zip(clients, firsts)]
        )
        assert statuses == [200] * AT_ONCE, trial
