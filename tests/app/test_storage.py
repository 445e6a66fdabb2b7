"""Storing files: whole or not at all, under a free name, within the limits of the process."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from flask import Flask, request

from flask_dropzone import Dropzone
from flask_dropzone._stores import names
from flask_dropzone._stores.disk import files as storage

from support.chunking import CHUNK, chunk_requests, send

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
TESTS = Path(__file__).resolve().parent.parent


def storage_app(instance: str) -> Flask:
    """Its own factory: a fresh interpreter (run_limited) builds it too, where no fixture is."""
    app = Flask(__name__, instance_path=instance)
    app.config.update(
        SECRET_KEY="storage tests",
        DROPZONE_CHUNKING=True,
        DROPZONE_CHUNK_SIZE=CHUNK,
        DROPZONE_MAX_FILE_SIZE=64,
    )
    dropzone = Dropzone(app)

    @app.post("/save")
    def save():
        return {"saved": [[s.stored_name, s.size] for s in dropzone.save(**request.args)]}

    @app.post("/parsed-first")
    def parsed_first():
        request.form  # noqa: B018  (as Flask-WTF's CSRFProtect does)
        return {"saved": [[s.stored_name, s.size] for s in dropzone.save(**request.args)]}

    return app


@pytest.fixture
def app(tmp_path):
    return storage_app(str(tmp_path / "instance"))


def uploads(app) -> Path:
    return Path(app.instance_path) / "uploads"


def post(client, url, *files, **fields):
    data = dict(fields)
    for index, (name, content) in enumerate(files):
        data[f"file[{index}]" if len(files) > 1 else "file"] = (io.BytesIO(content), name)
    return client.post(url, data=data, content_type="multipart/form-data")


def test_a_crowded_name_is_stored_after_a_bounded_number_of_tries(app, monkeypatch):
    folder = uploads(app)
    folder.mkdir(parents=True)
    for number in range(names.NUMBERED_NAMES):
        (folder / names.numbered("same.txt", number)).write_bytes(b"old")
    tries = []
    link = os.link

    def counted(*args, **kwargs):
        tries.append(args[1])
        return link(*args, **kwargs)

    monkeypatch.setattr(os, "link", counted)
    for content in (b"x" * 600_000, b"small"):  # a linked large file, a small one written at once
        response = post(app.test_client(), "/save", ("same.txt", content))
        assert response.status_code == 200
        (stored,) = response.json["saved"]
        assert stored[0].startswith("same (") and len(stored[0]) == len("same (12345678).txt")
        assert (folder / stored[0]).read_bytes() == content
    assert len(tries) <= names.NUMBERED_NAMES + 2


def test_a_name_free_at_once_is_used_at_once(app):
    assert post(app.test_client(), "/save", ("a.txt", b"a")).json["saved"] == [["a.txt", 1]]


def run_limited(code: str, tmp_path: Path, **limits: int) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter under resource limits (``RLIMIT_<NAME>=soft``)."""
    prelude = "import resource\n" + "".join(
        f"resource.setrlimit(resource.RLIMIT_{name}, ({value}, resource.getrlimit(resource.RLIMIT_{name})[1]))\n"
        for name, value in limits.items()
    )
    script = tmp_path / "limited.py"
    script.write_text(prelude + textwrap.dedent(code))
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    )
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


SHORT_WRITES = """
    import json, os, sys
    from support.chunking import body, chunk_requests, send
    from app.test_storage import storage_app

    app = storage_app(sys.argv[0] + ".instance")
    client = app.test_client()
    results = {}
    for label, size in [("large", 3 << 20), ("small", 300_000)]:
        results[label] = send(client, body({}, "file", label + ".bin", os.urandom(size))).get_data(as_text=True)
    statuses = [send(client, chunk, "/save?chunk_size=1048576").status_code
                for chunk in chunk_requests(os.urandom(3 << 20), "c.bin", 1 << 20)]
    results["chunked"] = statuses
    folder = os.path.join(app.instance_path, "uploads")
    results["stored"] = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    print(json.dumps(results))
"""


@pytest.mark.parametrize("limit", [(1 << 20) + 12345, 200_000])
def test_short_writes_never_store_a_truncated_file(tmp_path, limit):
    """Past a file-size limit write(2) stores fewer bytes than asked and reports no error."""
    import json

    result = run_limited(SHORT_WRITES, tmp_path, FSIZE=limit)
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout.splitlines()[-1])
    too_large = "The file is larger than the server can store."
    assert results["large"] == too_large
    assert results["small"] == (
        too_large if limit < 300_000 else '{"saved":[["small.bin",300000]]}\n'
    )
    assert 413 in results["chunked"] and results["chunked"][-1] != 200
    assert results["stored"] == ([] if limit < 300_000 else ["small.bin"])


@pytest.mark.parametrize("url", ["/save", "/parsed-first"])
@pytest.mark.parametrize("size", [300_000, 3 << 20])
def test_every_path_continues_short_writes(app, monkeypatch, url, size):
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(memoryview(data)[:4096])))
    content = os.urandom(size)
    assert post(app.test_client(), url, ("f.bin", content)).json["saved"] == [["f.bin", size]]
    assert (uploads(app) / "f.bin").read_bytes() == content


def test_a_request_of_many_files_holds_few_open_files(tmp_path):
    result = run_limited(
        """
        import io, os, sys
        from app.test_storage import storage_app

        app = storage_app(sys.argv[0] + ".instance")
        parts = {f"file[{i}]": (io.BytesIO(os.urandom(600_000)), f"{i}.bin") for i in range(150)}
        response = app.test_client().post("/save", data=parts, content_type="multipart/form-data")
        print(response.status_code, len(response.json["saved"]))
        """,
        tmp_path,
        NOFILE=64,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "150"]


@pytest.fixture
def no_tmpfile(monkeypatch):
    """A file system without O_TMPFILE (NFS, FUSE): temporary files have hidden names."""
    monkeypatch.setattr(storage, "_O_TMPFILE", 0)


def test_without_o_tmpfile_a_large_upload_into_a_new_folder_works(app, no_tmpfile):
    content = os.urandom(800_000)
    assert post(app.test_client(), "/save", ("big.bin", content)).json["saved"] == [
        ["big.bin", len(content)]
    ]
    assert os.listdir(uploads(app)) == ["big.bin"]  # the hidden temporary name is gone
    assert (uploads(app) / "big.bin").read_bytes() == content


@pytest.mark.parametrize("tmpfile", [True, False], ids=["O_TMPFILE", "hidden name"])
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_files_and_folders_follow_the_umask(app, monkeypatch, tmpfile, umask):
    if not tmpfile:
        monkeypatch.setattr(storage, "_O_TMPFILE", 0)
    old = os.umask(umask)
    try:
        client = app.test_client()
        post(client, "/save", ("large.bin", os.urandom(800_000)))
        post(client, "/save", ("small.bin", b"small"))
        for body in chunk_requests(os.urandom(3 * CHUNK), "chunked.bin", CHUNK):
            send(client, body)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(uploads(app)).st_mode) == 0o777 & ~umask
    for name in ("large.bin", "small.bin", "chunked.bin"):
        assert stat.S_IMODE(os.stat(uploads(app) / name).st_mode) == 0o666 & ~umask, name


def test_temporary_files_of_dead_processes_are_removed_and_live_ones_kept(app, no_tmpfile):
    folder = uploads(app)
    folder.mkdir(parents=True)
    dead = folder / ".dropzone-0123456789abcdef.part"
    live = folder / ".dropzone-fedcba9876543210.part"
    lookalike = folder / ".dropzone-notours.part"
    for path in (dead, live, lookalike):
        path.write_bytes(b"x" * 5000)
    old = time.time() - 2 * 86400
    os.utime(dead, (old, old))
    os.utime(lookalike, (old, old))
    result = app.test_cli_runner().invoke(args=["dropzone", "clean"])
    assert result.output.startswith("Removed 0 partial uploads and 1 temporary file, freed ")
    assert not dead.exists() and live.exists() and lookalike.exists()


def test_the_sweep_after_a_request_without_o_tmpfile_removes_dead_temporaries(app, no_tmpfile):
    folder = uploads(app)
    folder.mkdir(parents=True)
    dead = folder / ".dropzone-0123456789abcdef.part"
    dead.write_bytes(b"x")
    old = time.time() - 2 * 86400
    os.utime(dead, (old, old))
    response = post(app.test_client(), "/save", ("big.bin", os.urandom(800_000)))
    response.close()  # the sweep runs once the response is sent
    assert not dead.exists()


def test_write_all_continues_short_writes_and_a_write_of_nothing_is_a_full_disk(
    monkeypatch, tmp_path
):
    import errno

    fd = os.open(tmp_path / "f", os.O_CREAT | os.O_WRONLY)
    written = []
    real = os.write

    def short(fd, data):
        written.append(len(data))
        return real(fd, bytes(data[:3]))

    monkeypatch.setattr(os, "write", short)
    storage.write_all(fd, b"0123456789")
    assert (tmp_path / "f").read_bytes() == b"0123456789" and written == [10, 7, 4, 1]
    monkeypatch.setattr(os, "write", lambda fd, data: 0)
    with pytest.raises(OSError) as error:
        storage.write_all(fd, b"more")
    assert error.value.errno == errno.ENOSPC
    os.close(fd)
