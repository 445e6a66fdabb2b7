"""S3: the writes that arbitrate between requests and servers (claims, locks, the sweep's
stamp) are compare-and-swaps, a name held for a file is only ever completed or removed while
it is still that upload's placeholder, and nothing that ends an upload removes a file
completed under its name. Against a real S3 server (SeaweedFS); interleavings are forced by
hooks."""

from __future__ import annotations

import os
import threading
import time
import types
import uuid as uuids

import pytest
from flask import render_template_string

from flask_dropzone import _stores as stores
from flask_dropzone import file_stored
from flask_dropzone._rules.chunks import Chunk, Manifest
from flask_dropzone._stores import StoreBusy
from flask_dropzone._stores.s3 import direct as s3_direct
from flask_dropzone._stores.s3 import partials as s3_chunks
from flask_dropzone._stores.s3.files import S3Files
from flask_dropzone._stores.s3.partials import S3Partials

from support.chunking import CONTENT_TYPE, chunk_requests
from support.direct import ABORT, COMPLETE, MiB, post, send, start, ticket, upload_parts

CHUNK = 5 * MiB
CLIENT = "c" * 32
TAKEN = "The name this file was to have was taken meanwhile; add the file again."


@pytest.fixture
def bucket(s3_server, s3_bucket):
    from support.s3server import make_client

    client = make_client(s3_server)

    class Bucket:
        raw, name, server = client, s3_bucket, s3_server

        @staticmethod
        def get(key: str) -> bytes:
            return client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()

        @staticmethod
        def exists(key: str) -> bool:
            return any(
                entry["Key"] == key
                for entry in client.list_objects_v2(Bucket=s3_bucket, Prefix=key).get(
                    "Contents", ()
                )
            )

        @staticmethod
        def open_uploads() -> list[str]:
            return [
                u["Key"] for u in client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
            ]

        @staticmethod
        def store() -> tuple[S3Files, S3Partials]:
            files = S3Files(lambda: client, s3_bucket, "app/")
            return files, S3Partials(files)

    return Bucket


def stale_reads(monkeypatch, cls, method: str, suffix: str) -> None:
    """Every call of ``cls.method`` for a key ending in ``suffix`` answers what the first one
    read: as if every caller read it before any wrote."""
    real, first = getattr(cls, method), []

    def replayed(self, key, *args):
        if not key.endswith(suffix):
            return real(self, key, *args)
        if not first:
            first.append(real(self, key, *args))
        return first[0]

    monkeypatch.setattr(cls, method, replayed)


def leases_run_out(monkeypatch) -> None:
    """Every completion claim is past its lease at once (no waiting in the tests)."""
    monkeypatch.setattr(s3_direct, "CLAIM_LEASE", 0.0)
    monkeypatch.setattr(s3_direct, "COPY_RATE", 1e18)


def same_client(app, owner):
    other = app.test_client()
    cookie = owner.get_cookie("session")
    other.set_cookie(cookie.key, cookie.value)
    other.environ_base.update(owner.environ_base)  # the same page: its zone's rules
    return other


def run(name: str, target) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


# Claims, locks and the sweep's stamp are compare-and-swaps ------------------------------


def test_two_take_overs_of_one_stale_completion_claim_store_the_file_once(
    s3_settings, bucket, monkeypatch, direct_app
):
    app = direct_app()
    heard = []
    file_stored.connect(lambda sender, saved: heard.append(saved), app, weak=False)
    owner = app.test_client()
    data = os.urandom(6 * MiB)
    answer = start(owner, "race.bin", len(data)).json
    upload_parts(answer, data)
    base = ticket(app, answer["upload"]).base
    bucket.raw.put_object(Bucket=bucket.name, Key=base + ".claim", Body=b"")  # a dead request's
    leases_run_out(monkeypatch)
    real_head, read, first_done = S3Partials.head, threading.Event(), threading.Event()

    def reads_then_waits(self, key):
        found = real_head(self, key)
        if (
            threading.current_thread().name == "second"
            and key.endswith(".claim")
            and not read.is_set()
        ):
            read.set()
            assert first_done.wait(60)  # the other take-over stores the file meanwhile
        return found

    monkeypatch.setattr(S3Partials, "head", reads_then_waits)
    statuses = []
    second = same_client(app, owner)
    late = run(
        "second",
        lambda: statuses.append(
            second.post(COMPLETE, json={"upload": answer["upload"]}).status_code
        ),
    )
    assert read.wait(60)  # it read the dead claim; now the first takes it over
    statuses.append(owner.post(COMPLETE, json={"upload": answer["upload"]}).status_code)
    first_done.set()
    late.join(60)
    assert sorted(statuses) == [200, 404] and len(heard) == 1
    assert bucket.get("uploads/race.bin") == data


def test_an_abort_that_read_the_claim_before_a_slow_complete_ended_leaves_the_file(
    s3_settings, bucket, monkeypatch, direct_app
):
    app = direct_app()
    heard = []
    file_stored.connect(lambda sender, saved: heard.append(saved), app, weak=False)
    owner = app.test_client()
    data = os.urandom(6 * MiB)
    answer = start(owner, "slow.bin", len(data)).json
    upload_parts(answer, data)
    leases_run_out(monkeypatch)  # the abort finds the complete's claim past its lease
    at_end, abort_read, ended = threading.Event(), threading.Event(), threading.Event()
    real_finish, real_head = s3_direct.S3Direct.finish, S3Partials.head

    def slow_end(self, *args, **kwargs):
        if threading.current_thread().name != "complete":
            return real_finish(self, *args, **kwargs)
        at_end.set()
        assert abort_read.wait(30)
        try:
            return real_finish(self, *args, **kwargs)
        finally:
            ended.set()

    def abort_reads_then_waits(self, key):
        found = real_head(self, key)
        if (
            threading.current_thread().name == "abort"
            and key.endswith(".claim")
            and not abort_read.is_set()
        ):
            abort_read.set()
            assert ended.wait(30)  # the complete ends the upload meanwhile
        return found

    monkeypatch.setattr(s3_direct.S3Direct, "finish", slow_end)
    monkeypatch.setattr(S3Partials, "head", abort_reads_then_waits)
    answers = {}
    completing = run(
        "complete",
        lambda: answers.update(complete=owner.post(COMPLETE, json={"upload": answer["upload"]})),
    )
    assert at_end.wait(60)
    aborter = same_client(app, owner)
    aborting = run(
        "abort",
        lambda: answers.update(abort=aborter.post(ABORT, json={"upload": answer["upload"]})),
    )
    completing.join(60)
    aborting.join(60)
    assert (answers["complete"].status_code, answers["abort"].status_code) == (200, 204)
    assert len(heard) == 1 and bucket.get("uploads/slow.bin") == data
    assert stores.of(app).direct.ended(ticket(app, answer["upload"]))


def test_two_servers_taking_over_a_dead_start_lock_do_not_both_get_it(bucket, monkeypatch):
    files, partials = bucket.store()
    lock = partials.unfinished_root + CLIENT + "/.lock"
    bucket.raw.put_object(Bucket=bucket.name, Key=lock, Body=b"")  # its holder died
    monkeypatch.setattr(s3_chunks, "START_LEASE", -1.0)
    stale_reads(monkeypatch, S3Partials, "head", "/.lock")
    assert [bool(partials.claim_start(lock)), bool(S3Partials(files).claim_start(lock))] == [
        True,
        False,
    ]


def test_two_servers_taking_over_a_dead_hand_over_in_the_same_instant_do_not_both_get_it(
    bucket, monkeypatch
):
    files, partials = bucket.store()
    upload, data = str(uuids.uuid4()), os.urandom(CHUNK + 1)
    chunked_to_the_name(partials, files.folder(None, ""), upload, data, 0)
    base = f"{partials.root}{CLIENT}/{upload}/"
    record = partials._read_record(base)
    frozen = time.time() + 1000  # one instant: every claim made now is past its lease
    monkeypatch.setattr(
        s3_chunks,
        "time",
        types.SimpleNamespace(time=lambda: frozen, monotonic=time.monotonic, sleep=time.sleep),
    )
    assert partials.claim(base, record, 1)  # the server that died
    stale_reads(monkeypatch, S3Partials, "read", partials.marker_of(base, record))
    takers = [partials.claim(base, record, 1), partials.claim(base, record, 1)]
    assert [bool(taker) for taker in takers] == [True, False]


def test_two_servers_seeing_a_stale_sweep_stamp_do_not_both_sweep(bucket, monkeypatch):
    files, _ = bucket.store()
    bucket.raw.put_object(Bucket=bucket.name, Key=files.own + "last-clean", Body=b"")
    stale_reads(monkeypatch, S3Partials, "head", "/last-clean")
    assert [S3Partials(files).clean_due(-1), S3Partials(files).clean_due(-1)] == [True, False]


# A start whose server died is removed by a chunk waiting for it; one alive says so ------


def first_chunk_arriving(partials: S3Partials, folder: str, upload: str, data: bytes):
    """Chunk 0 of ``data`` starting its upload (holding ``f.bin``), its bytes not all in yet."""
    chunk = Chunk(upload, 0, 0, Manifest("f.bin", len(data), CHUNK, 2))
    return partials.open(CLIENT, chunk, None, (folder, "f.bin"))


def test_a_start_whose_server_died_is_removed_by_a_chunk_waiting_for_it_and_nothing_of_it_stays(
    bucket, monkeypatch
):
    files, dead = bucket.store()
    folder, data, upload = files.folder(None, ""), os.urandom(CHUNK + 5), str(uuids.uuid4())
    first_chunk_arriving(dead, folder, upload, data).write(data[:CHUNK], 0)  # its server dies now
    assert bucket.open_uploads() == [folder + "f.bin"] and bucket.exists(folder + "f.bin")  # held
    monkeypatch.setattr(s3_chunks, "STALE", -1.0)  # its marker is older than a live start's at once
    monkeypatch.setattr(s3_chunks, "WAIT", 5.0)
    survivor = S3Partials(files)
    with pytest.raises(StoreBusy):  # "send the chunk again"
        chunked_to_the_name(survivor, folder, upload, data, 1)
    assert bucket.open_uploads() == [] and not bucket.exists(folder + "f.bin")
    assert files.listing(folder) == [] and survivor.unfinished(CLIENT) == (0, 0)
    monkeypatch.setattr(s3_chunks, "STALE", 30.0)
    assert chunked_to_the_name(survivor, folder, upload, data, 0) is None  # sent again: a new start
    handover = chunked_to_the_name(survivor, folder, upload, data, 1)
    assert files.publish(handover, folder, "f.bin", len(data)).name == "f.bin"
    handover.commit()
    assert bucket.get(folder + "f.bin") == data


def test_a_start_whose_chunk_arrives_slowly_says_it_is_alive_and_the_chunks_waiting_join_it(
    bucket, monkeypatch
):
    """It rewrites its marker every BEAT seconds while its chunk arrives: a chunk of the upload
    on another server, waiting for it, takes it for dead only once that stops."""
    monkeypatch.setattr(s3_chunks, "BEAT", 0.5)
    monkeypatch.setattr(s3_chunks, "STALE", 4.0)
    files, first_server = bucket.store()
    folder, data, upload = files.folder(None, ""), os.urandom(CHUNK + 5), str(uuids.uuid4())
    starting = first_chunk_arriving(first_server, folder, upload, data)
    answers = []
    other = S3Partials(files)  # another server

    def second_chunk():
        answers.append(chunked_to_the_name(other, folder, upload, data, 1))

    waiting = run("waiting", second_chunk)
    pieces = 16
    for number in range(pieces):  # 8 s: twice the age of a dead start
        step = CHUNK // pieces
        starting.write(data[number * step : (number + 1) * step], number * step)
        time.sleep(0.5)
    starting.mark_received(0)
    starting.release()
    assert starting.hand_over() is None  # the first chunk in is never the last
    starting.close()
    waiting.join(60)
    (handover,) = answers
    assert handover is not None and handover.open().read() == data
    handover.commit()
    assert bucket.open_uploads() == []


# A name held for a file is completed only while it is still the upload's placeholder ----


def test_a_direct_upload_whose_held_name_was_taken_meanwhile_is_refused_and_the_file_there_kept(
    s3_settings, bucket, direct_app
):
    app = direct_app()
    heard = []
    file_stored.connect(lambda sender, saved: heard.append(saved.location), app, weak=False)
    attacker, victim = app.test_client(), app.test_client()
    data = os.urandom(6 * MiB)
    answer = start(attacker, "contract.bin", len(data)).json
    upload_parts(answer, data)
    bucket.raw.delete_object(
        Bucket=bucket.name, Key="uploads/contract.bin"
    )  # the held name removed
    mine = b"the victim's contract"
    assert send(victim, "contract.bin", mine).json["stored"][0]["stored_name"] == "contract.bin"
    response = attacker.post(COMPLETE, json={"upload": answer["upload"]})
    assert (response.status_code, response.mimetype, response.get_data(as_text=True)) == (
        409,
        "text/plain",
        TAKEN,
    )
    assert bucket.get("uploads/contract.bin") == mine and heard == ["uploads/contract.bin"]
    assert bucket.open_uploads() == []
    assert attacker.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 404


def test_a_file_stored_between_the_check_and_the_completion_is_kept_by_if_match(
    s3_settings, bucket, direct_app
):
    """SeaweedFS honours If-Match on CompleteMultipartUpload: the HEAD before it cannot be
    raced."""
    app = direct_app()
    client = app.test_client()
    data = os.urandom(6 * MiB)
    answer = start(client, "late.bin", len(data)).json
    upload_parts(answer, data)
    mine = b"stored at the last moment"

    def meanwhile(params, **kwargs):
        if not bucket.exists("uploads/late.bin") or bucket.get("uploads/late.bin") != mine:
            bucket.raw.delete_object(Bucket=bucket.name, Key="uploads/late.bin")
            bucket.raw.put_object(Bucket=bucket.name, Key="uploads/late.bin", Body=mine)

    stores.of(app).files.client.meta.events.register(
        "before-call.s3.CompleteMultipartUpload", meanwhile, unique_id="store-meanwhile"
    )
    response = client.post(COMPLETE, json={"upload": answer["upload"]})
    assert (response.status_code, response.get_data(as_text=True)) == (409, TAKEN)
    assert bucket.get("uploads/late.bin") == mine and bucket.open_uploads() == []


def test_a_chunked_upload_whose_held_name_was_taken_meanwhile_is_refused_and_the_file_there_kept(
    bucket, monkeypatch, s3_app
):
    app = s3_app()
    client, victim = app.test_client(), app.test_client()
    data = os.urandom(CHUNK + 5)
    first, last = chunk_requests(data, "f.bin", CHUNK)
    assert client.post("/save", data=first, content_type=CONTENT_TYPE).status_code == 200
    bucket.raw.delete_object(Bucket=bucket.name, Key="uploads/f.bin")
    assert post(victim, "/save", "f.bin", b"mine").json["saved"][0][:2] == [
        "f.bin",
        "uploads/f.bin",
    ]
    response = client.post("/save", data=last, content_type=CONTENT_TYPE)
    assert (response.status_code, response.mimetype, response.get_data(as_text=True)) == (
        409,
        "text/plain",
        TAKEN,
    )
    assert bucket.get("uploads/f.bin") == b"mine" and bucket.open_uploads() == []
    assert client.post("/save", data=last, content_type=CONTENT_TYPE).status_code == 410


def test_a_held_name_is_no_stored_file(s3_settings, bucket, direct_app):
    app = direct_app()
    dropzone = app.extensions["dropzone"]

    @app.get("/file/<name>")
    def stored(name):
        return dropzone.send_stored(name)

    @app.post("/existing")
    def existing():
        return render_template_string(
            "{{ dropzone.config(existing=[{'name': 'held.txt'}], delete_on_remove=True) }}"
        )

    client = app.test_client()
    assert send(client, "empty.txt", b"").status_code == 200
    answer = start(client, "held.txt", 5).json
    files = stores.of(app).files
    assert files.listing("uploads/") == [("empty.txt", 0)]
    assert (
        files.version("uploads/", "held.txt") is None
        and files.version("uploads/", "empty.txt") is not None
    )
    assert (
        client.get("/file/held.txt").status_code == 404
        and client.get("/file/empty.txt").status_code == 302
    )
    with pytest.raises(FileNotFoundError):
        files.open("uploads/", "held.txt").read(10)
    assert files.delete("uploads/", "held.txt") is False and bucket.exists("uploads/held.txt")
    upload_parts(answer, b"hello")
    assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 200
    assert bucket.get("uploads/held.txt") == b"hello"
    assert files.listing("uploads/") == [("empty.txt", 0), ("held.txt", 5)]


@pytest.mark.parametrize("how", ["put", "copy"])
def test_the_same_bytes_stored_again_under_a_freed_name_have_another_version(bucket, how):
    files, _ = bucket.store()
    folder = files.folder(None, "")

    def store():
        if how == "put":
            return files.publish(b"same bytes", folder, "v.txt", 10)
        staged = files.stage(folder)
        staged.write(b"same bytes")
        try:
            return files.publish(staged, folder, "v.txt", 10)
        finally:
            staged.close()

    def stored_at():
        return bucket.raw.head_object(Bucket=bucket.name, Key=folder + "v.txt")["LastModified"]

    for _ in range(10):  # until both land in one second, as S3 tells time
        store()
        first, when = files.version(folder, "v.txt"), stored_at()
        files.delete(folder, "v.txt")
        store()
        assert files.version(folder, "v.txt") not in (None, first)
        same_second = stored_at() == when
        files.delete(folder, "v.txt")
        if same_second:
            return
    pytest.fail("never stored twice within one second")


# Nothing that ends an upload removes a file completed under its name ---------------------


def chunked_to_the_name(partials: S3Partials, folder: str, upload: str, data: bytes, index: int):
    """A chunk request of a view storing ``data`` in ``folder`` as ``f.bin``: its hand-over, if any."""
    count = max(1, -(-len(data) // CHUNK))
    chunk = Chunk(upload, index, index * CHUNK, Manifest("f.bin", len(data), CHUNK, count))
    partial = partials.open(CLIENT, chunk, None, (folder, "f.bin"))
    partial.write(data[chunk.offset : chunk.offset + chunk.length], chunk.offset)
    partial.mark_received(index)
    partial.release()
    try:
        return partial.hand_over()
    finally:
        partial.close()


def test_a_cancel_during_a_hand_over_leaves_the_file_being_published(bucket):
    files, partials = bucket.store()
    folder, data, upload = files.folder(None, ""), os.urandom(CHUNK + 5), str(uuids.uuid4())
    chunked_to_the_name(partials, folder, upload, data, 0)
    handover = chunked_to_the_name(partials, folder, upload, data, 1)  # assembled at the name held
    assert partials.cancel(CLIENT, upload) is False  # the hand-over ends it
    stored = files.publish(handover, folder, "f.bin", len(data))
    handover.commit()
    assert stored.location == folder + "f.bin" and bucket.get(folder + "f.bin") == data


@pytest.mark.parametrize("how", ["cancel", "sweep"])
def test_a_cancel_or_the_sweep_after_a_hand_over_keeps_what_was_assembled(bucket, how):
    """A hand-over whose request failed after the file was published (and reported) under
    its name: what ends the upload then leaves that file."""
    files, partials = bucket.store()
    folder, data, upload = files.folder(None, ""), os.urandom(CHUNK + 5), str(uuids.uuid4())
    chunked_to_the_name(partials, folder, upload, data, 0)
    handover = chunked_to_the_name(partials, folder, upload, data, 1)
    stored = files.publish(handover, folder, "f.bin", len(data))
    if how == "cancel":  # its view failed: given back, for a resent chunk
        files.unpublish(handover, [stored])
        handover.give_back()
        assert partials.cancel(CLIENT, upload) is True
    else:  # its server died before the commit
        partials.clean(expires=-1)
    assert bucket.get(stored.location) == data and bucket.open_uploads() == []


@pytest.mark.parametrize("how", ["abort", "sweep"])
def test_neither_an_abort_nor_the_sweep_removes_a_file_completed_under_the_name(
    s3_settings, bucket, monkeypatch, how, direct_app
):
    app = direct_app()
    client = app.test_client()
    data = os.urandom(6 * MiB)
    answer = start(client, "kept.bin", len(data)).json
    upload_parts(answer, data)

    def dies(*args, **kwargs):  # after completing the file, before ending the upload
        raise RuntimeError("the server died")

    with monkeypatch.context() as dying:
        dying.setattr(s3_direct.S3Direct, "finish", dies)
        assert client.post(COMPLETE, json={"upload": answer["upload"]}).status_code == 500
    assert bucket.get("uploads/kept.bin") == data
    leases_run_out(monkeypatch)
    if how == "abort":
        assert client.post(ABORT, json={"upload": answer["upload"]}).status_code == 204
    else:
        stores.of(app).direct.clean(0, now=time.time() + 5)
    assert bucket.get("uploads/kept.bin") == data


def test_the_sweep_leaves_a_completion_within_the_lease_of_its_size(
    s3_settings, bucket, monkeypatch, direct_app
):
    app = direct_app()
    client = app.test_client()
    data = os.urandom(6 * MiB)
    answer = start(client, "big.bin", len(data)).json
    upload_parts(answer, data)
    direct_store = stores.of(app).direct
    monkeypatch.setattr(s3_direct, "CLAIM_LEASE", 0.0)
    monkeypatch.setattr(s3_direct, "COPY_RATE", MiB)  # 6 s to complete this file
    assert direct_store.claim(ticket(app, answer["upload"]))  # a complete under way
    direct_store.clean(0, now=time.time() + 5)  # the upload is older than CHUNK_EXPIRES
    assert bucket.open_uploads() == ["uploads/big.bin"] and bucket.get("uploads/big.bin") == b""
