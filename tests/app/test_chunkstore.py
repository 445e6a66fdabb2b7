"""The chunk folder: nothing in it is followed out of it, and the sweep removes only its own."""

from __future__ import annotations

import os
import time
import uuid as uuids
from pathlib import Path

import pytest

from flask_dropzone import SettingError
from flask_dropzone._rules.chunks import parse as parse_chunk
from flask_dropzone._stores import TOMBSTONE, StoreBusy
from flask_dropzone._stores.disk.partials import DiskPartials

from support.chunking import (
    CHUNK,
    age,
    chunk_app,
    chunk_dir,
    chunk_fields,
    chunk_requests,
    client_of,
    send,
    upload_dirs,
    uploads_dir,
)


@pytest.fixture
def app(tmp_path):
    return chunk_app(str(tmp_path / "instance"))


@pytest.fixture
def outside(tmp_path):
    """A folder outside the chunk folder, with a file that must not change."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious.txt").write_bytes(b"keep me")
    return folder


def untouched(outside: Path) -> bool:
    return (
        sorted(os.listdir(outside)) == ["precious.txt"]
        and (outside / "precious.txt").read_bytes() == b"keep me"
    )


def refused_as_unusable(response) -> bool:
    """A plain-text 503, as for any store that cannot be used: never a 500 and a traceback."""
    unusable = "The server cannot store files right now; try again later."
    return response.status_code == 503 and response.get_data(as_text=True) == unusable


def started(app, client, name="s.bin", chunks=(0,)):
    """Start an upload of three chunks; return its chunk bodies and its folder."""
    bodies = chunk_requests(os.urandom(3 * CHUNK), name, CHUNK)
    for index in chunks:
        assert send(client, bodies[index]).status_code == 200
    (folder,) = [
        path for path in upload_dirs(app) if name.encode() in (path / "manifest.json").read_bytes()
    ]
    return bodies, folder


def test_a_symlinked_client_folder_is_neither_written_into_nor_cleaned(app, outside):
    client = app.test_client()
    started(app, client)  # the session now has a client id
    client_folder = chunk_dir(app) / client_of(client)
    os.rename(client_folder, outside.parent / "moved")
    client_folder.symlink_to(outside)
    response = send(client, chunk_requests(os.urandom(2 * CHUNK), "new.bin", CHUNK)[0])
    assert refused_as_unusable(response)  # a planted link is the server's problem, not followed
    age(outside, 3 * 86400)
    result = app.test_cli_runner().invoke(args=["dropzone", "clean", "--expires", "0"])
    assert result.output == "Removed 0 partial uploads, freed 0 bytes.\n"
    assert untouched(outside) and client_folder.is_symlink()


def test_a_planted_data_link_is_not_written_through_nor_stored(app, outside):
    client = app.test_client()
    bodies, folder = started(app, client)
    (folder / "data").unlink()
    (folder / "data").symlink_to(outside / "precious.txt")
    for body in bodies[1:]:
        assert refused_as_unusable(send(client, body))
    assert untouched(outside)
    assert not uploads_dir(app).exists() or not any(
        p.is_symlink() for p in uploads_dir(app).iterdir()
    )


def test_a_symlinked_upload_folder_is_not_followed(app, outside):
    client = app.test_client()
    bodies, folder = started(app, client)
    os.rename(folder, outside.parent / "moved-upload")
    folder.symlink_to(outside)
    assert refused_as_unusable(send(client, bodies[1]))
    assert untouched(outside)


@pytest.mark.parametrize("name", ["manifest.json", "received"])
def test_planted_links_for_the_other_files_are_not_followed(app, outside, name):
    client = app.test_client()
    bodies, folder = started(app, client)
    (folder / name).unlink()
    (folder / name).symlink_to(outside / "precious.txt")
    for body in bodies[1:]:
        send(client, body)
    assert untouched(outside)


def test_a_planted_fifo_does_not_hang_a_request(app):
    client = app.test_client()
    bodies, folder = started(app, client)
    (folder / "data").unlink()
    os.mkfifo(folder / "data")
    start = time.monotonic()
    assert refused_as_unusable(send(client, bodies[1]))
    assert time.monotonic() - start < 5


def test_the_clean_stamp_is_not_followed(app, outside):
    client = app.test_client()
    started(app, client)
    stamp = chunk_dir(app) / ".last-clean"
    if stamp.exists():
        stamp.unlink()
    stamp.symlink_to(outside / "precious.txt")
    age(chunk_dir(app), 86400)
    os.utime(outside / "precious.txt", (1, 1))
    send(
        client, chunk_requests(os.urandom(2 * CHUNK), "more.bin", CHUNK)[0]
    )  # the sweep would be due
    assert untouched(outside) and os.stat(outside / "precious.txt").st_mtime == 1


def test_the_sweep_removes_only_what_has_the_stores_layout(tmp_path):
    instance = tmp_path / "instance"
    app = chunk_app(str(instance))
    client = app.test_client()
    started(app, client)
    root = chunk_dir(app)
    foreign = {
        root / "alice" / "holiday.jpg": b"a",  # a user's folder, two levels down
        root / client_of(client) / "notes" / "n.txt": b"n",  # a folder that is not an upload
        root / client_of(client) / "readme.txt": b"r",
        root / ("ab" * 16) / "not-a-uuid" / "data": b"d",
    }
    for path, content in foreign.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    age(root, 3 * 86400)
    report = DiskPartials(str(root)).clean(86400)
    assert report.partial_uploads == 1
    assert all(path.read_bytes() == content for path, content in foreign.items())
    (upload,) = [path for path in upload_dirs(app) if (path / "manifest.json").exists()]
    report = DiskPartials(str(root)).clean(0, now=time.time() + TOMBSTONE + 60)  # the record's turn
    assert report.records == 1 and not upload.exists()
    assert all(path.read_bytes() == content for path, content in foreign.items())


@pytest.mark.parametrize(
    "chunk_folder, upload_folder",
    [
        ("{instance}", None),  # the chunk folder holds the default upload folder
        ("{instance}/files/chunks", "{instance}/files"),  # inside the upload folder
        ("{instance}/same", "{instance}/same"),
    ],
)
def test_a_chunk_folder_that_holds_or_sits_in_the_upload_folder_is_refused(
    tmp_path, chunk_folder, upload_folder, make_app
):
    instance = tmp_path / "instance"
    folders = {"DROPZONE_CHUNK_FOLDER": chunk_folder.format(instance=instance)}
    if upload_folder:
        folders["DROPZONE_UPLOAD_FOLDER"] = upload_folder.format(instance=instance)
    with pytest.raises(SettingError, match="DROPZONE_CHUNK_FOLDER.*DROPZONE_UPLOAD_FOLDER"):
        make_app(**folders)


def test_a_chunk_saved_to_a_folder_inside_the_chunk_folder_is_refused(app):
    @app.post("/inside")
    def inside():
        return {"saved": len(app.extensions["dropzone"].save(str(chunk_dir(app) / "uploads")))}

    app.testing = True  # the error reaches the test
    with pytest.raises(SettingError, match="DROPZONE_CHUNK_FOLDER"):
        send(app.test_client(), chunk_requests(b"x" * CHUNK, "a.bin", CHUNK)[0], "/inside")


def test_opening_an_upload_gives_the_locks_back(app):
    """Every descriptor a chunk request opens is closed when it ends."""
    client = app.test_client()
    for body in chunk_requests(os.urandom(2 * CHUNK), "warm.bin", CHUNK):
        send(client, body)  # a process opens /proc/self/fd once, to name finished files
    before = len(os.listdir("/proc/self/fd"))
    for body in chunk_requests(os.urandom(5 * CHUNK), "fds.bin", CHUNK):
        send(client, body)
    send(client, chunk_requests(b"<html>", "bad.png", CHUNK)[0], "/save")
    assert len(os.listdir("/proc/self/fd")) <= before


def test_pending_bytes_leave_out_ended_uploads(app):
    store = DiskPartials(str(chunk_dir(app)))
    client = "ef" * 16
    fields = chunk_fields(str(uuids.uuid4()), 0, 3 * CHUNK, CHUNK)
    partial = store.open(client, parse_chunk(fields, "a.bin", CHUNK))
    assert store.unfinished_bytes(client) == 3 * CHUNK
    partial.release()
    partial.refuse()
    partial.close()
    assert store.unfinished_bytes(client) == 0


def test_locks_hold_between_threads_of_one_process_and_survive_closing_other_descriptors(tmp_path):
    """Open-file-description locks: not the per-process POSIX locks NFS turns flock into,
    under which a process never conflicts with itself and closing any descriptor unlocks."""
    from flask_dropzone._stores.disk.partials import _lock

    path = tmp_path / "manifest.json"
    path.write_bytes(b"{}")
    holder = os.open(path, os.O_RDWR)
    other = os.open(path, os.O_RDWR)
    _lock(holder, exclusive=True)
    assert _lock(other, exclusive=True, wait=False) is False
    assert _lock(other, exclusive=False, wait=False) is False
    os.close(os.open(path, os.O_RDONLY))  # another descriptor of the file opened and closed
    assert _lock(other, exclusive=True, wait=False) is False
    os.close(holder)
    assert _lock(other, exclusive=True, wait=False) is True
    os.close(other)


@pytest.mark.timeout(30)  # each of these once waited for ever
def test_the_thread_that_holds_a_hand_over_never_waits_for_its_lock(app):
    store = DiskPartials(str(chunk_dir(app)))
    client, upload = "ab" * 16, str(uuids.uuid4())
    chunk = parse_chunk(chunk_fields(upload, 0, CHUNK, CHUNK), "h.bin", CHUNK)
    partial = store.open(client, chunk)
    partial.write(b"x" * CHUNK, 0)
    partial.mark_received(0)
    partial.release()
    handover = partial.hand_over()
    partial.close()
    assert handover is not None
    with pytest.raises(StoreBusy):
        store.open(client, chunk)
    assert store.cancel(client, upload) is False
    assert store.clean(0, now=time.time() + 10 * 86400).partial_uploads == 0
    handover.give_back()
    assert store.cancel(client, upload) is True


@pytest.mark.parametrize("planted", ["upload folder", "client folder", "manifest.json", "received"])
def test_a_planted_entry_makes_status_and_cancel_a_plain_503_logged(app, outside, planted, caplog):
    client = app.test_client()
    bodies, folder = started(app, client)
    upload = parse_chunk_id(bodies[0])
    if planted.endswith("folder"):
        moved = folder if planted == "upload folder" else folder.parent
        os.rename(moved, outside.parent / "moved")
        moved.symlink_to(outside)
    else:
        (folder / planted).unlink()
        (folder / planted).symlink_to(outside / "precious.txt")
    with caplog.at_level("ERROR", logger="flask_dropzone"):
        assert refused_as_unusable(client.get(f"/dropzone/status?dzuuid={upload}"))
        cancelled = client.post("/dropzone/cancel", data={"dzuuid": upload})
    if planted == "received":  # cancelling never reads it: the link is removed, not followed
        assert cancelled.status_code == 200 and not (folder / "received").exists()
    else:
        assert refused_as_unusable(cancelled)
    assert len([r for r in caplog.records if r.levelname == "ERROR"]) == (
        1 if planted == "received" else 2
    )
    assert untouched(outside)


def parse_chunk_id(request_body: bytes) -> str:
    return request_body.split(b'name="dzuuid"\r\n\r\n')[1].split(b"\r\n")[0].decode()


def test_the_sweep_logs_what_it_leaves_alone(app, outside, caplog):
    client = app.test_client()
    _, folder = started(app, client)
    (folder / "manifest.json").unlink()
    (folder / "manifest.json").symlink_to(outside / "precious.txt")
    age(chunk_dir(app), 3 * 86400)
    with caplog.at_level("ERROR", logger="flask_dropzone"):
        result = app.test_cli_runner().invoke(args=["dropzone", "clean"])
    assert result.exit_code == 0 and "Removed 0 partial uploads" in result.output
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        f"the sweep leaves upload {folder.name} alone: [Errno 40] not a file of the chunk store: 'manifest.json'"
    ]
    assert untouched(outside)


def test_a_chunk_failing_on_a_planted_entry_whose_clean_up_fails_too_leaks_no_descriptor(
    app, outside
):
    """The first chunk of an upload whose folder was planted with a ``received`` link: its write
    fails, and so does the clean-up of the upload it started."""
    client = app.test_client()
    started(app, client, "warm.bin")  # a process opens /proc/self/fd once, to name finished files
    before = len(os.listdir("/proc/self/fd"))
    answers = []
    for _ in range(3):
        upload = str(uuids.uuid4())
        folder = chunk_dir(app) / client_of(client) / upload
        folder.mkdir()
        (folder / "received").symlink_to(outside / "precious.txt")
        answers.append(
            send(client, chunk_requests(os.urandom(3 * CHUNK), "s.bin", CHUNK, file_id=upload)[0])
        )
    assert len(os.listdir("/proc/self/fd")) == before
    assert all(refused_as_unusable(answer) for answer in answers) and untouched(outside)


def test_a_client_folder_the_sweep_removes_as_it_is_made_is_made_again(tmp_path, monkeypatch):
    """The sweep removes a client's empty folder; a request that made it (or found it) just
    before opens it after: the folder is made again, never a FileNotFoundError (a 500)."""
    root = tmp_path / "chunks"
    store = DiskPartials(str(root))
    client = "ab" * 16
    real_open, swept = os.open, []

    def open_after_the_sweep(path, flags, *args, dir_fd=None, **kwargs):
        if path == client and dir_fd is not None and not swept:
            swept.append(path)
            os.rmdir(path, dir_fd=dir_fd)  # the sweep, between mkdir and open
        return real_open(path, flags, *args, dir_fd=dir_fd, **kwargs)

    monkeypatch.setattr(os, "open", open_after_the_sweep)
    assert store.unfinished(client) == (0, 0)
    assert swept == [client] and (root / client).is_dir()


def test_a_folder_the_sweep_removes_as_a_file_is_staged_in_it_is_made_again(tmp_path, monkeypatch):
    """A pending client's folder (or a variant's) is removed by the sweep once emptied; a
    file staged there as it goes is staged all the same, never a FileNotFoundError."""
    from flask_dropzone._stores.disk import files as disk_files

    folder = tmp_path / "pending" / ("cd" * 16)
    real_make, swept = disk_files.make_folder, []

    def made_then_swept(path):
        real_make(path)
        if not swept:
            swept.append(path)
            os.rmdir(path)  # the sweep, between the making and the staging

    monkeypatch.setattr(disk_files, "make_folder", made_then_swept)
    store = disk_files.DiskFiles()
    staged = store.stage(str(folder))
    staged.write(b"kept")
    staged.finish()
    name = store.publish(staged, str(folder), "a.txt", 4).name
    staged.close()
    assert swept and (folder / name).read_bytes() == b"kept"
