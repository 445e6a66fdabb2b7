"""Chunked uploads end to end through Flask: any order, duplicates, concurrency, refusals."""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
import uuid as uuids
from pathlib import Path

import pytest
from flask import request
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_dropzone import SettingError
from flask_dropzone._stores import TOMBSTONE
from flask_dropzone._stores.disk.partials import DiskPartials

from support.chunking import (
    CHUNK,
    CONTENT_TYPE,
    PNG,
    age,
    body,
    chunk_app,
    chunk_dir,
    chunk_fields,
    chunk_requests,
    client_of,
    send,
    stray_files,
    upload_dirs,
    uploads_dir,
)
from support.properties import examples


@pytest.fixture
def app(tmp_path):
    return chunk_app(str(tmp_path / "instance"))


@pytest.mark.fuzz
@settings(max_examples=examples(60, 2000))
@given(
    size=st.one_of(st.integers(0, 12 * CHUNK), st.integers(0, 12).map(lambda n: n * CHUNK)),
    data=st.data(),
)
def test_any_order_with_duplicates_gives_the_file_once(tmp_path_factory, size, data):
    app = chunk_app(str(tmp_path_factory.mktemp("instance")))
    client = app.test_client()
    content = random.Random(size).randbytes(size)
    count = max(1, -(-size // CHUNK))
    order = data.draw(st.permutations(range(count)))
    extra = data.draw(st.lists(st.integers(0, count - 1), max_size=4))
    positions = [data.draw(st.integers(0, len(order) + i)) for i in range(len(extra))]
    sequence = list(order)
    for index, position in zip(extra, positions):
        sequence.insert(position, index)
    bodies = chunk_requests(content, "file.bin", CHUNK)
    completions = []
    for index in sequence:
        response = send(client, bodies[index])
        assert response.status_code == 200, response.get_data(as_text=True)
        completions += response.json["saved"]
    assert completions == [["file.bin", size]]
    assert (uploads_dir(app) / "file.bin").read_bytes() == content
    assert sorted(os.listdir(uploads_dir(app))) == ["file.bin"]
    # What is left of the upload is its record, not its bytes.
    assert sorted(Path(name).name for name in stray_files(app)) == ["complete", "manifest.json"]


def test_files_returns_nothing_until_the_file_is_whole(app):
    client = app.test_client()
    bodies = chunk_requests(PNG, "pic.png", CHUNK)
    answers = [send(client, chunk, "/files").json["files"] for chunk in bodies]
    assert answers[:-1] == [[]] * (len(bodies) - 1)
    assert answers[-1] == [["pic.png", len(PNG), "image/png", len(PNG)]]


@pytest.mark.parametrize("url", ["/answer", "/parsed-first-answer"])
def test_the_chunk_that_completes_the_file_answers_what_was_stored_and_says_so(app, url):
    client = app.test_client()
    bodies = chunk_requests(PNG, "pic.png", CHUNK)
    assert len(bodies) == 3
    answers = [send(client, bodies[index], url) for index in (2, 0, 1)]  # chunk 1 completes it
    stored = {"filename": "pic.png", "stored_name": "pic.png"}
    assert [answer.json for answer in answers] == [{"stored": []}] * 2 + [{"stored": [stored]}]
    assert [answer.headers.get("X-Dropzone-Complete") for answer in answers] == [None, None, "1"]
    late = send(client, bodies[2], url)  # a copy of a chunk of the finished file
    assert late.json == {"stored": []} and "X-Dropzone-Complete" not in late.headers


def test_the_finished_file_is_linked_into_place_not_copied(app, monkeypatch):
    from flask_dropzone._stores.disk import files as storage

    copies = []
    monkeypatch.setattr(storage.DiskFiles, "copy_into", lambda *a: copies.append(a))
    client = app.test_client()
    for chunk in chunk_requests(os.urandom(3500), "a.bin", CHUNK):
        send(client, chunk)
    assert copies == [] and os.listdir(uploads_dir(app)) == ["a.bin"]


def test_chunks_parsed_by_someone_else_first_still_assemble(app):
    client = app.test_client()
    content = os.urandom(4200)
    saved = [
        send(client, chunk, "/parsed-first").json["saved"]
        for chunk in chunk_requests(content, "p.bin", CHUNK)
    ]
    assert saved[-1] == [["p.bin", 4200]]
    assert (uploads_dir(app) / "p.bin").read_bytes() == content


def test_concurrent_threads_complete_the_file_exactly_once(app):
    content = os.urandom(40 * CHUNK + 123)
    bodies = chunk_requests(content, "t.bin", CHUNK)
    cookie_client = app.test_client()
    send(cookie_client, bodies[0])  # the session every thread shares
    cookie = cookie_client.get_cookie("session").value
    completions, errors = [], []
    barrier = threading.Barrier(8)

    def worker(seed):
        client = app.test_client()
        client.set_cookie("session", cookie)
        order = list(range(len(bodies)))
        random.Random(seed).shuffle(order)
        barrier.wait()
        for index in order:
            response = send(client, bodies[index])
            if response.status_code != 200:
                errors.append(response.get_data(as_text=True))
            else:
                completions.extend(response.json["saved"])

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert completions == [["t.bin", len(content)]]
    assert (uploads_dir(app) / "t.bin").read_bytes() == content


def _process_sender(instance, cookie, bodies, seed, results):
    app = chunk_app(instance)
    client = app.test_client()
    client.set_cookie("session", cookie)
    order = list(range(len(bodies)))
    random.Random(seed).shuffle(order)
    saved = []
    for index in order:
        response = send(client, bodies[index])
        assert response.status_code == 200
        saved += response.json["saved"]
    results.put(saved)


def test_concurrent_processes_complete_the_file_exactly_once(app):
    content = os.urandom(60 * CHUNK + 7)
    bodies = chunk_requests(content, "p.bin", CHUNK)
    client = app.test_client()
    client.get("/files")  # no-op request: make sure the app is set up
    send(client, bodies[0])
    cookie = client.get_cookie("session").value
    results = multiprocessing.Queue()
    senders = [
        multiprocessing.Process(
            target=_process_sender, args=(app.instance_path, cookie, bodies, seed, results)
        )
        for seed in range(4)
    ]
    for sender in senders:
        sender.start()
    saved = [item for _ in senders for item in results.get(timeout=60)]
    for sender in senders:
        sender.join(30)
        assert sender.exitcode == 0
    assert saved == [["p.bin", len(content)]]
    assert (uploads_dir(app) / "p.bin").read_bytes() == content


def test_a_chunk_cut_short_is_completed_by_its_retry(app):
    client = app.test_client()
    content = os.urandom(3 * CHUNK)
    bodies = chunk_requests(content, "r.bin", CHUNK)
    send(client, bodies[0])
    send(client, bodies[1])
    # The last chunk's connection drops half-way (a killed worker, a lost network).
    cut = bodies[2][: len(bodies[2]) // 2]
    import io

    response = client.post(
        "/save",
        input_stream=io.BytesIO(cut),
        content_type=CONTENT_TYPE,
        environ_overrides={"CONTENT_LENGTH": str(len(bodies[2]))},
    )
    assert response.status_code == 400
    assert not (uploads_dir(app) / "r.bin").exists()
    assert send(client, bodies[2]).json["saved"] == [["r.bin", 3 * CHUNK]]
    assert (uploads_dir(app) / "r.bin").read_bytes() == content


def test_another_client_cannot_write_into_or_complete_an_upload(app):
    alice, mallory = app.test_client(), app.test_client()
    file_id = str(uuids.uuid4())
    content = os.urandom(3 * CHUNK)
    bodies = chunk_requests(content, "a.bin", CHUNK, file_id=file_id)
    evil = chunk_requests(os.urandom(3 * CHUNK), "a.bin", CHUNK, file_id=file_id)
    send(alice, bodies[0])
    send(alice, bodies[1])
    # Mallory knows the dzuuid and sends the last chunk, then all the others.
    assert send(mallory, evil[2]).json["saved"] == []
    assert send(mallory, evil[0]).json["saved"] == []
    assert send(mallory, evil[1]).json["saved"] == [["a.bin", 3 * CHUNK]]  # her own file, apart
    assert send(alice, bodies[2]).json["saved"] == [["a (1).bin", 3 * CHUNK]]
    assert (uploads_dir(app) / "a (1).bin").read_bytes() == content


def hostile(field_changes=None, content=b"x" * CHUNK, filename="h.bin", total=2 * CHUNK):
    fields = chunk_fields(str(uuids.uuid4()), 0, total, CHUNK)
    fields.update(field_changes or {})
    return body({k: v for k, v in fields.items() if v is not None}, "file", filename, content)


@pytest.mark.parametrize(
    "request_body, status",
    [
        (hostile({"dzchunkindex": "-1"}), 400),
        (hostile({"dzchunkindex": "99999999999"}), 400),
        (hostile({"dztotalchunkcount": "7"}), 400),
        (hostile({"dzchunkbyteoffset": "5"}), 400),
        (hostile({"dzuuid": "../../../tmp/x"}), 400),
        (hostile({"dzuuid": "a/b"}), 400),
        (hostile({"dzchunksize": "1"}), 400),
        (hostile({"dztotalfilesize": None}), 400),
        (hostile(content=b"x" * (CHUNK + 1)), 400),  # longer than declared
        (hostile(content=b"x" * (CHUNK - 1)), 400),  # shorter than declared
        (hostile(total=10 * 1024 * 1024), 413),  # declared total over the 1 MiB limit
    ],
)
def test_hostile_chunks_are_refused_and_leave_nothing(app, request_body, status):
    response = send(app.test_client(), request_body)
    assert response.status_code == status
    assert response.mimetype == "text/plain"
    assert stray_files(app) == []
    assert not uploads_dir(app).exists() or os.listdir(uploads_dir(app)) == []


def test_oversized_file_is_refused_before_any_byte_is_stored(tmp_path):
    app = chunk_app(str(tmp_path))
    fields = chunk_fields(
        str(uuids.uuid4()), 5, 10 * 1024**3, CHUNK
    )  # a 10 GiB file, chunk 5 first
    response = send(app.test_client(), body(fields, "file", "huge.bin", b"x" * CHUNK))
    assert response.status_code == 413
    assert not chunk_dir(app).exists() or stray_files(app) == []


def test_type_rules_apply_by_name_at_once_and_by_content_at_chunk_zero(tmp_path):
    app = chunk_app(str(tmp_path), allowed_file_type="image")
    client = app.test_client()
    text = chunk_requests(b"t" * 3 * CHUNK, "notes.txt", CHUNK, order=[2])
    assert send(client, text[0]).status_code == 415  # refused by its name, before storing
    fake = chunk_requests(b"<html>" + b"x" * 3000, "fake.png", CHUNK, order=[1, 0, 2])
    assert send(client, fake[0]).status_code == 200  # chunk 1: its bytes say nothing yet
    assert send(client, fake[1]).status_code == 415  # chunk 0 is not a PNG: the upload is refused
    assert send(client, fake[2]).status_code == 415  # and so is whatever else comes of it
    assert sorted(Path(name).name for name in stray_files(app)) == ["manifest.json", "refused"]
    assert (
        app.extensions["dropzone"]
        and DiskPartials(str(chunk_dir(app))).unfinished_bytes(client_of(client)) == 0
    )
    good = chunk_requests(PNG, "real.png", CHUNK)
    assert [send(client, chunk).json["saved"] for chunk in good][-1] == [["real.png", len(PNG)]]


def test_client_quota_bounds_unfinished_uploads(tmp_path):
    app = chunk_app(str(tmp_path), chunk_quota=0.005, max_file_size=0.005)  # about 5 KB
    client = app.test_client()
    first = chunk_requests(os.urandom(4 * CHUNK), "a.bin", CHUNK)
    second = chunk_requests(os.urandom(4 * CHUNK), "b.bin", CHUNK)
    assert send(client, first[0]).status_code == 200
    response = send(client, second[0])
    assert response.status_code == 400 and "unfinished" in response.get_data(as_text=True)
    for chunk in first[1:]:
        send(client, chunk)
    assert send(client, second[0]).status_code == 200  # the first is done: room again


def test_clean_removes_idle_partial_uploads(app):
    client = app.test_client()
    send(client, chunk_requests(os.urandom(3 * CHUNK), "idle.bin", CHUNK)[0])
    fresh = chunk_requests(os.urandom(3 * CHUNK), "fresh.bin", CHUNK)
    send(client, fresh[0])
    store = DiskPartials(str(chunk_dir(app)))
    (idle,) = [p for p in upload_dirs(app) if b"idle" in (p / "manifest.json").read_bytes()]
    age(idle, 2 * 86400)
    report = store.clean(86400)
    assert (report.partial_uploads, report.records) == (1, 0) and report.freed >= CHUNK
    # Its bytes are gone; its record stays, so that a late chunk is told it expired.
    assert sorted(os.listdir(idle)) == ["expired", "manifest.json"]
    for chunk in fresh[1:]:
        send(client, chunk)
    assert (uploads_dir(app) / "fresh.bin").exists()


def test_clean_command_reports_what_it_freed(app):
    client = app.test_client()
    send(client, chunk_requests(os.urandom(3 * CHUNK), "idle.bin", CHUNK)[0])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["dropzone", "clean"])
    assert result.output == "Removed 0 partial uploads, freed 0 bytes.\n"
    age(chunk_dir(app), 86400 + 60)  # idle for longer than the CHUNK_EXPIRES it started with
    result = runner.invoke(args=["dropzone", "clean"])
    assert result.exit_code == 0
    removed, freed = (
        result.output.split(" partial")[0],
        int(result.output.split("freed ")[1].split()[0]),
    )
    assert removed == "Removed 1" and freed >= CHUNK
    assert [sorted(os.listdir(path)) for path in upload_dirs(app)] == [["expired", "manifest.json"]]
    age(chunk_dir(app), TOMBSTONE + 60)  # the record of an expired upload goes after a week
    result = runner.invoke(args=["dropzone", "clean"])
    assert result.output.startswith("Removed 0 partial uploads")
    assert upload_dirs(app) == [] and [p.name for p in chunk_dir(app).iterdir()] == [".last-clean"]


def test_cleanup_runs_on_its_own_after_chunk_requests(tmp_path):
    app = chunk_app(str(tmp_path), chunk_expires=60)
    client = app.test_client()
    send(client, chunk_requests(os.urandom(3 * CHUNK), "old.bin", CHUNK)[0])
    age(chunk_dir(app), 3600)  # both the upload and the last cleaning are an hour old
    send(client, chunk_requests(os.urandom(3 * CHUNK), "new.bin", CHUNK)[0])
    state = {
        (p / "manifest.json").read_bytes().split(b'"')[3]: sorted(os.listdir(p))
        for p in upload_dirs(app)
    }
    assert state == {
        b"old.bin": ["expired", "manifest.json"],
        b"new.bin": ["data", "manifest.json", "received"],
    }


def test_chunking_and_upload_multiple_cannot_both_be_on(make_app):
    with pytest.raises(SettingError, match="cannot both be on"):
        make_app(DROPZONE_CHUNKING=True, DROPZONE_UPLOAD_MULTIPLE=True)


def test_config_emits_chunk_options_and_starts_the_session(app):
    from support.html import zone_config

    with app.test_request_context():
        from flask import session

        html = app.extensions["dropzone"].config(chunking=True, parallel_chunk_uploads=True)
        assert session["_dropzone_client"]
    options = zone_config(html)["options"]
    assert (options["chunking"], options["chunkSize"], options["parallelChunkUploads"]) == (
        True,
        CHUNK,
        True,
    )
    assert (options["retryChunks"], options["retryChunksLimit"]) == (True, 3)


def test_a_late_chunk_cannot_change_a_finished_file(app):
    client = app.test_client()
    file_id = str(uuids.uuid4())
    content = os.urandom(3 * CHUNK)
    for chunk in chunk_requests(content, "f.bin", CHUNK, file_id=file_id):
        send(client, chunk)
    forged = chunk_requests(b"\x00" * 3 * CHUNK, "f.bin", CHUNK, file_id=file_id)[1]
    assert send(client, forged).json["saved"] == []
    assert (uploads_dir(app) / "f.bin").read_bytes() == content
    assert sorted(Path(name).name for name in stray_files(app)) == ["complete", "manifest.json"]


# Nothing is lost silently --------------------------------------------------------------


def test_chunks_of_an_expired_upload_are_refused_in_any_order(app):
    client = app.test_client()
    bodies = chunk_requests(os.urandom(5 * CHUNK), "late.bin", CHUNK)
    for index in (0, 3):
        assert send(client, bodies[index]).status_code == 200
    age(chunk_dir(app), 2 * 86400)
    assert DiskPartials(str(chunk_dir(app))).clean(86400).partial_uploads == 1
    for index in (4, 1, 0, 2, 3):
        response = send(client, bodies[index])
        assert response.status_code == 410, index
        assert response.get_data(as_text=True) == "This upload has expired; add the file again."
    assert not uploads_dir(app).exists() and [sorted(os.listdir(p)) for p in upload_dirs(app)] == [
        ["expired", "manifest.json"]
    ]


def test_the_quota_holds_under_concurrent_first_chunks(tmp_path):
    for trial in range(20):
        statuses = _eight_first_chunks_at_once(
            chunk_app(str(tmp_path / f"t{trial}"), chunk_quota=4, max_file_size=4)
        )
        assert sorted(statuses) == [200] + [400] * 7, (trial, statuses)


def _eight_first_chunks_at_once(app) -> list[int]:
    """The statuses of eight first chunks of 3 MiB files, sent by one client at once."""
    cookie_client = app.test_client()
    cookie_client.get("/files")
    with cookie_client.session_transaction() as session:
        session["_dropzone_client"] = "ab" * 16
    cookie = cookie_client.get_cookie("session").value
    firsts = [
        chunk_requests(os.urandom(3 * 1024 * 1024), f"{n}.bin", CHUNK, order=[0])[0]
        for n in range(8)
    ]
    barrier, statuses = threading.Barrier(8), []

    def first_chunk(request_body):
        client = app.test_client()
        client.set_cookie("session", cookie)
        barrier.wait()
        statuses.append(send(client, request_body).status_code)

    threads = [threading.Thread(target=first_chunk, args=(b,)) for b in firsts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return statuses


def test_a_completed_upload_leaves_nothing_but_its_record_whoever_read_the_form(app):
    client = app.test_client()
    for url in ("/save", "/parsed-first", "/files"):
        content = os.urandom(4 * CHUNK + 10)
        for chunk in chunk_requests(content, f"{url[1:]}.bin", CHUNK):
            assert send(client, chunk, url).status_code == 200
    assert (
        sorted(Path(name).name for name in stray_files(app))
        == ["complete"] * 3 + ["manifest.json"] * 3
    )
    assert not any(path.name.startswith("data") for path in chunk_dir(app).rglob("*"))


def test_the_sweep_reports_only_what_it_removed_and_freed(app):
    client = app.test_client()
    for name in ("done1.bin", "done2.bin"):
        for chunk in chunk_requests(os.urandom(20 * CHUNK), name, CHUNK):
            send(client, chunk)
    unfinished = chunk_requests(os.urandom(20 * CHUNK), "partial.bin", CHUNK)
    for chunk in unfinished[:10]:
        send(client, chunk)
    age(chunk_dir(app), 2 * 86400)
    result = app.test_cli_runner().invoke(args=["dropzone", "clean"])
    freed = int(result.output.split("freed ")[1].split()[0])
    assert result.output.startswith("Removed 1 partial upload, freed ")
    # The partial upload's 10,000 bytes (in whole blocks) and its small files; nothing of the
    # finished files, which live on in the upload folder.
    assert 10 * CHUNK <= freed < 10 * CHUNK + 64 * 1024
    assert sorted(os.listdir(uploads_dir(app))) == ["done1.bin", "done2.bin"]


def _failing_app(tmp_path, fail):
    """An app whose view stores the file and then fails as ``fail`` says."""
    app = chunk_app(str(tmp_path / "instance"))
    dropzone = app.extensions["dropzone"]

    @app.post("/then-fail")
    def then_fail():
        saved = dropzone.save()
        if saved and fail["times"] > 0:
            fail["times"] -= 1
            raise RuntimeError("the database is down")
        return {"saved": [[s.stored_name, s.size] for s in saved]}

    return app


def test_a_failed_hand_over_is_given_back_and_a_resent_chunk_hands_it_over_again(tmp_path):
    fail = {"times": 2}
    app = _failing_app(tmp_path, fail)
    client = app.test_client()
    content = os.urandom(3 * CHUNK + 1)
    bodies = chunk_requests(content, "retry.bin", CHUNK)
    for chunk in bodies[:-1]:
        assert send(client, chunk, "/then-fail").json["saved"] == []
    failed = send(client, bodies[-1], "/then-fail")
    assert failed.status_code == 500  # the view failed after save()
    assert "X-Dropzone-Complete" not in failed.headers  # it did not complete the file
    assert (
        not uploads_dir(app).exists() or os.listdir(uploads_dir(app)) == []
    )  # its stored copy is removed
    assert (
        send(client, bodies[1], "/then-fail").status_code == 500
    )  # Dropzone resends a chunk: again
    response = send(client, bodies[0], "/then-fail")
    assert response.json["saved"] == [["retry.bin", len(content)]]
    assert response.headers["X-Dropzone-Complete"] == "1"
    assert os.listdir(uploads_dir(app)) == ["retry.bin"]
    assert (uploads_dir(app) / "retry.bin").read_bytes() == content
    assert send(client, bodies[2], "/then-fail").json["saved"] == []  # a late copy: done already


def test_a_full_disk_at_the_hand_over_is_507_then_retried(app, monkeypatch):
    import errno

    from flask_dropzone._stores.disk import files as storage

    client = app.test_client()
    content = os.urandom(2 * CHUNK)
    bodies = chunk_requests(content, "full.bin", CHUNK)
    send(client, bodies[0])
    real = storage.DiskFiles.link_checked

    def disk_full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.DiskFiles, "link_checked", disk_full)
    response = send(client, bodies[1])
    assert response.status_code == 507 and response.mimetype == "text/plain"
    monkeypatch.setattr(storage.DiskFiles, "link_checked", real)
    assert send(client, bodies[1]).json["saved"] == [["full.bin", len(content)]]
    assert (uploads_dir(app) / "full.bin").read_bytes() == content


def test_a_file_refused_at_the_hand_over_is_refused_for_good(app):
    @app.post("/pictures")  # the view applies stricter rules to the finished file than chunk 0 met
    def pictures():
        return {"saved": len(app.extensions["dropzone"].save(allowed_file_type="image"))}

    client = app.test_client()
    bodies = chunk_requests(b"not a picture!" * 100 + b"x" * 600, "fake.png", CHUNK)  # two chunks
    send(client, bodies[0])  # to a view without rules
    response = send(client, bodies[1], "/pictures")  # completes the file: its content is checked
    assert response.status_code == 415
    assert send(client, bodies[1]).status_code == 415  # refused for good, even by the lenient view
    assert sorted(Path(name).name for name in stray_files(app)) == ["manifest.json", "refused"]
    assert not uploads_dir(app).exists() or os.listdir(uploads_dir(app)) == []


@pytest.mark.parametrize(
    "field, value", [("dzuuid", "{uuid}\n"), ("dzchunkindex", "0\n"), ("dztotalfilesize", "2000\n")]
)
def test_protocol_fields_must_match_in_full(app, field, value):
    file_id = str(uuids.uuid4())
    fields = chunk_fields(file_id, 0, 2 * CHUNK, CHUNK)
    fields[field] = value.format(uuid=file_id)
    response = send(app.test_client(), body(fields, "file", "n.bin", b"x" * CHUNK))
    assert response.status_code == 400 and stray_files(app) == []


def test_an_offset_past_the_largest_file_is_413_not_500(tmp_path):
    app = chunk_app(str(tmp_path / "instance"), max_file_size=None, chunk_quota=None)
    total = 2**52  # far past any file system's largest file (ext4: 16 TiB)
    fields = chunk_fields(str(uuids.uuid4()), total // CHUNK - 1, total, CHUNK)
    response = send(app.test_client(), body(fields, "file", "huge.bin", b"x" * CHUNK))
    assert response.status_code == 413 and response.mimetype == "text/plain"


def test_the_sweep_running_while_a_chunk_is_written_costs_nothing(app, monkeypatch):
    from flask_dropzone._stores.disk import partials as chunkstore

    store = DiskPartials(str(chunk_dir(app)))
    write = chunkstore.DiskPartial.write

    def write_while_sweeping(self, data, offset):
        store.clean(0)  # every upload looks abandoned, but this one is being written
        write(self, data, offset)

    monkeypatch.setattr(chunkstore.DiskPartial, "write", write_while_sweeping)
    client = app.test_client()
    content = os.urandom(3 * CHUNK)
    statuses = [
        send(client, chunk).status_code for chunk in chunk_requests(content, "race.bin", CHUNK)
    ]
    assert statuses == [200, 200, 200]
    assert (uploads_dir(app) / "race.bin").read_bytes() == content


def test_a_request_that_started_an_upload_and_failed_spares_a_parallel_chunk(app):
    from flask_dropzone._rules.chunks import parse as parse_chunk

    from support.chunking import chunk_fields as fields_of

    store = DiskPartials(str(chunk_dir(app)))
    file_id, client = str(uuids.uuid4()), "cd" * 16
    first = parse_chunk(fields_of(file_id, 0, 2 * CHUNK, CHUNK), "p.bin", CHUNK)
    second = parse_chunk(fields_of(file_id, 1, 2 * CHUNK, CHUNK), "p.bin", CHUNK)
    starter, parallel = store.open(client, first), store.open(client, second)
    assert (starter.created, parallel.created) == (True, False)
    starter.release()  # its chunk turned out bad: it would discard the upload it started
    starter.discard_if_unused()  # but the parallel chunk holds its lock: left alone
    parallel.write(b"y" * CHUNK, CHUNK)
    parallel.mark_received(1)
    parallel.release()
    starter.discard_if_unused()  # a chunk was received: left alone
    assert parallel.held() == [1]
    for partial in (starter, parallel):
        partial.close()


def test_a_sweep_racing_chunks_never_makes_a_500(app):
    """Chunks arrive while the sweep removes everything it may (every upload looks abandoned)."""
    store = DiskPartials(str(chunk_dir(app)))
    stop = threading.Event()

    def sweep():
        while not stop.is_set():
            store.clean(0, now=time.time() + 10 * 86400)

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    statuses, contents = [], {}
    try:
        client = app.test_client()
        for number in range(40):
            contents[f"{number}.bin"] = content = os.urandom(3 * CHUNK)
            for chunk in chunk_requests(content, f"{number}.bin", CHUNK, order=[2, 0, 1, 0]):
                statuses.append(send(client, chunk).status_code)
    finally:
        stop.set()
        sweeper.join(30)
    # Done; or told it expired; or, when the sweep removed its upload at every try, told to
    # send the chunk again (Dropzone does): never a 500, never a file lost without a word.
    assert set(statuses) <= {200, 410, 503}, sorted(set(statuses))
    stored = os.listdir(uploads_dir(app)) if uploads_dir(app).exists() else []
    assert all((uploads_dir(app) / name).read_bytes() == contents[name] for name in stored)


PROTOCOL_FIELDS = (
    "dzuuid",
    "dzchunkindex",
    "dztotalfilesize",
    "dzchunksize",
    "dztotalchunkcount",
    "dzchunkbyteoffset",
)
ODD_VALUES = st.one_of(
    st.sampled_from(
        ["", "0", "-1", "1e3", " 1", "1\n", "99999999999999999", "00", "0x10", "NaN", "١"]
    ),
    st.integers(-2, 5 * CHUNK).map(str),
    st.text(max_size=12),
)


@pytest.mark.fuzz
@settings(max_examples=examples(60, 2000))
@given(
    mutations=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.sampled_from(PROTOCOL_FIELDS),
            ODD_VALUES,
            st.integers(0, CHUNK + 5),
        ),
        max_size=8,
    ),
    order=st.permutations(range(4)),
)
def test_hostile_chunks_among_good_ones_never_make_a_500_nor_break_the_file(
    tmp_path_factory, mutations, order
):
    """Forged copies of an upload's chunks (odd fields, wrong lengths) come in among its real
    chunks: none is a 500, and whatever is stored is stored once and holds the real bytes."""
    app = chunk_app(str(tmp_path_factory.mktemp("instance")))
    client = app.test_client()
    file_id = str(uuids.uuid4())
    content = random.Random(len(mutations)).randbytes(4 * CHUNK - 7)
    real = chunk_requests(content, "real.bin", CHUNK, file_id=file_id)
    saved = []
    for index in order:
        for _, field, value, length in (m for m in mutations if m[0] == index):
            fields = chunk_fields(file_id, index, len(content), CHUNK)
            fields[field] = value
            forged = body(
                fields, "file", "real.bin", content[index * CHUNK : index * CHUNK + length]
            )
            response = send(client, forged)
            assert response.status_code in (200, 400, 413), response.get_data(as_text=True)
            if response.status_code == 200:
                saved += response.json["saved"]
        response = send(client, real[index])
        assert response.status_code in (200, 400), response.get_data(as_text=True)
        saved += response.json["saved"] if response.status_code == 200 else []
    assert len(saved) <= 1
    if saved:  # a forged chunk that declares the same file is a valid chunk of it
        stored = (uploads_dir(app) / saved[0][0]).read_bytes()
        assert len(stored) == saved[0][1]
        assert stored == content[: len(stored)] or len(stored) != len(content)
    if not any(m[1] != "dzuuid" for m in mutations):  # nothing could change the declared file
        assert saved == [["real.bin", len(content)]]


# One file per chunk request ---------------------------------------------------------------


def two_file_chunk(file_id: str, content: bytes, index: int, name: str = "two.bin") -> bytes:
    """Chunk ``index`` of ``content`` with its file part sent twice."""
    fields = chunk_fields(file_id, index, len(content), CHUNK)
    return body(fields, "file", name, content[index * CHUNK : (index + 1) * CHUNK], copies=2)


@pytest.mark.timeout(30)  # the second part once waited for ever on the first's hand-over
@pytest.mark.parametrize("url", ["/save", "/parsed-first"])
def test_a_completing_chunk_with_two_file_parts_is_refused_and_waits_for_nothing(app, url):
    client = app.test_client()
    file_id, content = str(uuids.uuid4()), os.urandom(3 * CHUNK)
    bodies = chunk_requests(content, "two.bin", CHUNK, file_id=file_id)
    for chunk in bodies[:-1]:
        assert send(client, chunk, url).json["saved"] == []
    response = send(client, two_file_chunk(file_id, content, 2), url)
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "A chunk request carries one file."
    assert not uploads_dir(app).exists()
    assert send(client, bodies[-1], url).json["saved"] == [
        ["two.bin", 3 * CHUNK]
    ]  # the upload is intact
    assert (uploads_dir(app) / "two.bin").read_bytes() == content


def test_a_first_chunk_with_two_file_parts_read_before_the_view_opens_no_upload(app):
    content = os.urandom(3 * CHUNK)
    response = send(
        app.test_client(), two_file_chunk(str(uuids.uuid4()), content, 0), "/parsed-first"
    )
    assert (
        response.status_code == 400
        and response.get_data(as_text=True) == "A chunk request carries one file."
    )
    assert upload_dirs(app) == []


@pytest.mark.timeout(30)
def test_under_csrfprotect_a_completing_chunk_with_two_file_parts_is_refused(tmp_path):
    """CSRFProtect reads the form before the view: the parts are received first, and the
    chunk protocol applied to them when the view asks for its files."""
    from flask import render_template_string
    from flask_wtf.csrf import CSRFProtect

    app = chunk_app(str(tmp_path / "instance"))
    CSRFProtect(app)
    app.add_url_rule("/token", "token", lambda: render_template_string("{{ csrf_token() }}"))
    client = app.test_client()
    headers = {"X-CSRFToken": client.get("/token").get_data(as_text=True)}
    file_id, content = str(uuids.uuid4()), os.urandom(2 * CHUNK)
    first, last = chunk_requests(content, "csrf.bin", CHUNK, file_id=file_id)

    def post(request_body):
        return client.post("/save", data=request_body, content_type=CONTENT_TYPE, headers=headers)

    assert post(first).json["saved"] == []
    response = post(two_file_chunk(file_id, content, 1, "csrf.bin"))
    assert (
        response.status_code == 400
        and response.get_data(as_text=True) == "A chunk request carries one file."
    )
    assert post(last).json["saved"] == [["csrf.bin", 2 * CHUNK]]


# A full disk is 507 wherever the chunk store writes -----------------------------------------


def fail_on(monkeypatch, function: str, code: int, matches) -> None:
    """Make ``os.<function>`` fail with ``code`` for the calls ``matches`` picks."""
    import re

    real = getattr(os, function)
    names = re.compile(matches)

    def failing(*args, **kwargs):
        if names.fullmatch(str(args[0]) if function != "link" else str(args[1])):
            if function != "open" or args[1] & os.O_CREAT:
                raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    monkeypatch.setattr(os, function, failing)


STARTING_WRITES = {
    "the chunk folder": ("mkdir", r".*dropzone-chunks"),
    "the client's folder": ("mkdir", r"[0-9a-f]{32}"),
    "the upload's folder": ("mkdir", r"[0-9a-f-]{36}"),
    "the client's lock": ("open", r"lock"),
    "the manifest's staging file": ("open", r"\.dropzone-[0-9a-f]{16}\.part"),
    "the manifest's name": ("link", r"manifest\.json"),
}


@pytest.mark.parametrize("code, status", [("ENOSPC", 507), ("EDQUOT", 507), ("EFBIG", 413)])
@pytest.mark.parametrize("where", sorted(STARTING_WRITES))
def test_the_first_chunk_on_a_full_disk_is_refused_as_every_write_is(
    app, monkeypatch, where, code, status
):
    import errno

    function, matches = STARTING_WRITES[where]
    client = app.test_client()
    first = chunk_requests(os.urandom(2 * CHUNK), "full.bin", CHUNK)[0]
    with monkeypatch.context() as patch:
        fail_on(patch, function, getattr(errno, code), matches)
        response = send(client, first)
    assert response.status_code == status and response.mimetype == "text/plain"
    assert stray_files(app) == []
    assert send(client, first).status_code == 200  # room again: the upload starts


def test_a_first_chunk_read_before_the_view_on_a_full_disk_is_507(app, monkeypatch):
    import errno

    with monkeypatch.context() as patch:
        fail_on(patch, "link", errno.ENOSPC, r"manifest\.json")
        response = send(
            app.test_client(),
            chunk_requests(os.urandom(2 * CHUNK), "f.bin", CHUNK)[0],
            "/parsed-first",
        )
    assert response.status_code == 507 and response.mimetype == "text/plain"
    assert stray_files(app) == []


def test_a_full_disk_when_a_finished_upload_is_marked_complete_keeps_its_answer_and_one_file(
    app, monkeypatch
):
    import errno

    client = app.test_client()
    bodies = chunk_requests(os.urandom(2 * CHUNK), "done.bin", CHUNK)
    send(client, bodies[0])
    with monkeypatch.context() as patch:
        fail_on(patch, "open", errno.ENOSPC, r"complete")
        assert send(client, bodies[1]).json["saved"] == [["done.bin", 2 * CHUNK]]
    assert send(client, bodies[1]).json["saved"] == []  # a copy sent again: no second file
    assert os.listdir(uploads_dir(app)) == ["done.bin"]


def test_cancelling_on_a_full_disk_is_507_and_the_upload_stays(app, monkeypatch):
    import errno

    client = app.test_client()
    file_id = str(uuids.uuid4())
    bodies = chunk_requests(os.urandom(2 * CHUNK), "c.bin", CHUNK, file_id=file_id)
    send(client, bodies[0])
    with monkeypatch.context() as patch:
        fail_on(patch, "open", errno.ENOSPC, r"expired")
        response = client.post("/dropzone/cancel", data={"dzuuid": file_id})
    assert response.status_code == 507 and response.mimetype == "text/plain"
    assert send(client, bodies[1]).json["saved"] == [["c.bin", 2 * CHUNK]]


def test_the_sweep_on_a_full_disk_says_so_and_leaves_the_upload_as_it_was(app, monkeypatch):
    import errno

    client = app.test_client()
    bodies = chunk_requests(os.urandom(2 * CHUNK), "s.bin", CHUNK)
    send(client, bodies[0])
    age(chunk_dir(app), 2 * 86400)
    with monkeypatch.context() as patch:
        fail_on(patch, "open", errno.ENOSPC, r"expired")
        result = app.test_cli_runner().invoke(args=["dropzone", "clean"])
    assert result.exit_code == 1 and "Cleaning up failed: " in result.output
    assert send(client, bodies[1]).json["saved"] == [["s.bin", 2 * CHUNK]]


@pytest.mark.parametrize("url", ["/save", "/parsed-first", "/files"])
def test_a_chunk_to_a_zone_without_chunking_is_refused_before_anything_is_opened(tmp_path, url):
    app = chunk_app(str(tmp_path / "instance"), chunking=False, max_file_size=None)

    @app.post("/as-in-2.0")  # a view that reads request.files itself, as 2.0.0's examples do
    def as_in_2_0():
        return {"got": [f.filename for f in request.files.getlist("file")]}

    client = app.test_client()
    first = chunk_requests(os.urandom(3 * CHUNK), "c.bin", CHUNK)[0]
    response = send(client, first, url)
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "This zone does not take chunked uploads."
    assert not chunk_dir(app).exists()  # no upload opened, no sweep run
    assert send(client, first, "/as-in-2.0").json == {"got": ["c.bin"]}


# Each upload expires by its own expiry; the server's refusals outlive it ------------------


def test_a_zone_with_a_short_expiry_expires_its_own_uploads_only(app):
    """A request to a zone with a short CHUNK_EXPIRES once swept everyone's uploads (and the
    upload folder's temporary files) by it."""
    dropzone = app.extensions["dropzone"]
    app.add_url_rule(
        "/short", "short", lambda: {"saved": len(dropzone.save(chunk_expires=60))}, methods=["POST"]
    )
    alice, bob = app.test_client(), app.test_client()
    hers = chunk_requests(os.urandom(3 * CHUNK), "hers.bin", CHUNK)
    his = chunk_requests(os.urandom(3 * CHUNK), "his.bin", CHUNK)
    assert send(alice, hers[0]).json["saved"] == []
    uploads_dir(app).mkdir()
    temporary = uploads_dir(app) / ".dropzone-0123456789abcdef.part"  # a live process's, on NFS
    temporary.write_bytes(b"x")
    age(chunk_dir(app), 3600)
    age(temporary, 3600)
    assert send(bob, his[0], "/short").status_code == 200  # the sweep runs after it
    assert send(alice, hers[1]).json["saved"] == []  # an hour idle: kept for its day
    assert temporary.exists()
    age(chunk_dir(app), 120)
    assert send(alice, hers[2]).json["saved"] == [["hers.bin", 3 * CHUNK]]
    assert (
        send(bob, chunk_requests(b"x" * CHUNK, "more.bin", CHUNK)[0], "/short").status_code == 200
    )
    assert send(bob, his[1], "/short").status_code == 410  # two minutes idle: past its 60 s


def test_chunks_of_an_upload_the_server_expired_get_410_for_as_long_as_they_come(app):
    """Later sweeps once forgot the expired upload, and its next chunk started a new one:
    200, and a file never stored."""
    client = app.test_client()
    store = DiskPartials(str(chunk_dir(app)))
    bodies = chunk_requests(os.urandom(5 * CHUNK), "late.bin", CHUNK)
    for chunk in bodies[:2]:
        assert send(client, chunk).status_code == 200
    age(chunk_dir(app), 2 * 86400)
    assert store.clean(86400).partial_uploads == 1
    age(chunk_dir(app), 3 * 86400)  # sweeps past another CHUNK_EXPIRES keep its record
    assert store.clean(86400).records == 0
    assert send(client, bodies[2]).status_code == 410
    age(chunk_dir(app), TOMBSTONE + 86400)  # a week and more: the chunk that comes keeps it
    assert send(client, bodies[3]).status_code == 410
    assert store.clean(86400).records == 0
    assert send(client, bodies[4]).status_code == 410
    age(chunk_dir(app), TOMBSTONE + 86400)  # no chunk for a week and more: forgotten
    assert store.clean(86400).records == 1 and upload_dirs(app) == []
    assert not uploads_dir(app).exists()


# How many unfinished uploads a client may have ----------------------------------------------


def test_a_client_has_at_most_unfinished_uploads_at_once(tmp_path):
    app = chunk_app(str(tmp_path / "instance"))
    client = app.test_client()
    firsts = [chunk_requests(b"x" * 2 * CHUNK, f"{n}.bin", CHUNK)[0] for n in range(101)]
    assert [send(client, chunk).status_code for chunk in firsts[:100]] == [
        200
    ] * 100  # the default: 100
    response = send(client, firsts[100])
    assert response.status_code == 400
    assert (
        response.get_data(as_text=True)
        == "Too many unfinished uploads; finish or cancel some first."
    )
    assert send(app.test_client(), firsts[100]).status_code == 200  # another client's count
    with client.session_transaction() as session:
        client_id = session["_dropzone_client"]
    assert len(list((chunk_dir(app) / client_id).iterdir())) == 101  # its 100, and its lock


def test_the_zones_signed_rules_bound_unfinished_uploads_whoever_reads_the_form(tmp_path):
    from flask import render_template_string

    from support.html import zone_config

    app = chunk_app(str(tmp_path / "instance"))
    app.add_url_rule(
        "/page",
        "page",
        lambda: render_template_string("{{ dropzone.config(unfinished_uploads=1) }}"),
    )
    client = app.test_client()
    headers = zone_config(client.get("/page").get_data(as_text=True))["options"]["headers"]
    first, second = (chunk_requests(b"x" * 2 * CHUNK, f"{n}.bin", CHUNK) for n in range(2))

    def post(request_body):
        return client.post(
            "/parsed-first", data=request_body, content_type=CONTENT_TYPE, headers=headers
        )

    assert post(first[0]).status_code == 200
    assert post(second[0]).status_code == 400  # one unfinished upload at most
    assert post(first[1]).json["saved"] == [["0.bin", 2 * CHUNK]]
    assert post(second[0]).status_code == 200  # the first is done: room again
