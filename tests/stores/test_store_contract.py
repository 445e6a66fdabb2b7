"""What every store promises, tested against each: the disk and a real S3 server (SeaweedFS)."""

from __future__ import annotations

import os
import threading
import time
import uuid as uuids
from dataclasses import dataclass
from typing import Any

import pytest

from flask_dropzone._rules.chunks import BadChunk, Chunk, Manifest
from flask_dropzone._stores import (
    COMPLETE,
    EXPIRED,
    REFUSED,
    TOMBSTONE,
    FileStore,
    PartialStore,
    QuotaExceeded,
    StoreBusy,
)

from support.apps import STORES

MiB = 1024 * 1024
CHUNK = 5 * MiB  # S3's smallest part
CLIENT = "c" * 32


@dataclass
class Backend:
    files: FileStore
    partials: PartialStore
    folder: str
    listing: Any  # () -> every name (path or key) the store holds
    root: Any = ""  # the chunk folder (disk), where pending files live


@pytest.fixture(params=STORES)
def backend(request, tmp_path):
    if request.param == "disk":
        from flask_dropzone._stores.disk.files import DiskFiles
        from flask_dropzone._stores.disk.partials import DiskPartials

        folder = str(tmp_path / "uploads")

        def listing():  # a client's lock file is coordination, not something kept
            names = (str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
            return sorted(name for name in names if not name.endswith(("/lock", ".last-clean")))

        return Backend(
            DiskFiles(),
            DiskPartials(str(tmp_path / "chunks")),
            folder,
            listing,
            tmp_path / "chunks",
        )
    from flask_dropzone._stores.s3.files import S3Files
    from flask_dropzone._stores.s3.partials import S3Partials

    from support.s3server import make_client

    server, bucket = request.getfixturevalue("s3_server"), request.getfixturevalue("s3_bucket")
    client = make_client(server)
    files = S3Files(lambda: client, bucket, "app/")

    def listing():
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        keys = [entry["Key"] for page in pages for entry in page.get("Contents", ())]
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return sorted(keys + [f"(open upload) {u['Key']}" for u in uploads])

    return Backend(files, S3Partials(files), files.folder(None, ""), listing)


def staged(backend: Backend, data: bytes):
    stage = backend.files.stage(backend.folder)
    for start in range(0, len(data), 1 << 20):
        stage.write(data[start : start + (1 << 20)])
    stage.finish()
    return stage


def read(backend: Backend, name: str) -> bytes:
    with backend.files.open(backend.folder, name) as stream:
        return stream.read()


# Files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1000, 9 * MiB + 7])
def test_a_staged_file_is_published_whole_under_its_name(backend, size):
    data = os.urandom(size)
    stage = staged(backend, data)
    stored = backend.files.publish(stage, backend.folder, "a.bin", size)
    stage.close()
    assert stored.name == "a.bin" and read(backend, "a.bin") == data
    assert stored.location.endswith("a.bin")


def test_publishing_never_replaces_a_file(backend):
    first = backend.files.publish(b"first", backend.folder, "same.txt", 5)
    second = backend.files.publish(b"second", backend.folder, "same.txt", 6)
    assert (first.name, second.name) == ("same.txt", "same (1).txt")
    assert read(backend, "same.txt") == b"first" and read(backend, "same (1).txt") == b"second"


def test_one_staged_file_published_twice_gives_two_whole_files(backend):
    data = os.urandom(300_000)
    stage = staged(backend, data)
    names = [
        backend.files.publish(stage, backend.folder, "twice.bin", len(data)).name for _ in range(2)
    ]
    stage.close()
    assert names == ["twice.bin", "twice (1).bin"]
    assert read(backend, "twice.bin") == data and read(backend, "twice (1).bin") == data


def test_servers_storing_one_name_at_once_each_get_their_own(backend):
    results: dict[int, str] = {}

    def store(worker: int) -> None:
        results[worker] = backend.files.publish(
            f"{worker}".encode() * 100, backend.folder, "race.txt", 100
        ).name

    threads = [threading.Thread(target=store, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results.values())) == 8
    for worker, name in results.items():
        assert read(backend, name) == f"{worker}".encode() * 100


def test_a_staged_file_closed_unpublished_leaves_nothing(backend):
    before = backend.listing()
    stage = staged(backend, os.urandom(9 * MiB))
    stage.close()
    small = backend.files.stage(backend.folder)
    small.write(b"never finished")
    small.close()
    assert backend.listing() == before


def test_delete_removes_a_file_once(backend):
    backend.files.publish(b"x", backend.folder, "gone.txt", 1)
    assert backend.files.delete(backend.folder, "gone.txt") is True
    assert backend.files.delete(backend.folder, "gone.txt") is False


def test_a_missing_file_is_not_found(backend):
    with pytest.raises(FileNotFoundError):
        read(backend, "missing.txt")
    with pytest.raises(FileNotFoundError):
        backend.files.open(backend.folder + "no-such-folder/", "missing.txt").read(10)


@pytest.mark.parametrize(
    "backend", ["disk"], indirect=True
)  # a bucket has no symlinks, folders or FIFOs
def test_only_regular_files_are_opened_never_through_a_symlink(backend, tmp_path):
    backend.files.publish(b"real", backend.folder, "real.txt", 4)
    (tmp_path / "outside.txt").write_bytes(b"outside")
    os.symlink(tmp_path / "outside.txt", os.path.join(backend.folder, "outside.txt"))
    os.symlink(os.path.join(backend.folder, "real.txt"), os.path.join(backend.folder, "inside.txt"))
    os.mkdir(os.path.join(backend.folder, "sub"))
    os.mkfifo(os.path.join(backend.folder, "pipe"))  # opening it must not wait for a writer
    for name in ("outside.txt", "inside.txt", "sub", "pipe", "real.txt/x"):
        with pytest.raises(FileNotFoundError):
            read(backend, name)
    assert read(backend, "real.txt") == b"real"


def test_a_url_where_the_store_has_one_sends_the_file_with_the_headers_asked(backend):
    import urllib.request

    backend.files.publish(b"<svg><script>x</script></svg>", backend.folder, "a.svg", 29)
    disposition = "attachment; filename=a.svg"
    url = backend.files.url(backend.folder, "a.svg", 60, "application/octet-stream", disposition)
    if backend.files.local:
        assert url is None  # the app sends the file itself
        return
    assert url is not None
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.read() == b"<svg><script>x</script></svg>"
        assert answer.headers["Content-Type"] == "application/octet-stream"
        assert answer.headers["Content-Disposition"] == disposition


def test_a_listing_shows_stored_files_and_nothing_of_the_stores_own(backend):
    backend.files.publish(b"abc", backend.folder, "b.txt", 3)
    backend.files.publish(b"", backend.folder, "a.txt", 0)
    backend.files.stage(backend.folder).write(b"arriving")  # a file being received
    backend.partials.open(CLIENT, chunk_of(str(uuids.uuid4()), os.urandom(CHUNK + 1), 0)).close()
    assert backend.files.listing(backend.folder) == [("a.txt", 0), ("b.txt", 3)]


def test_a_variant_is_kept_whole_the_first_one_stays_and_it_goes_with_its_file(backend):
    files = backend.files
    files.publish(b"photo", backend.folder, "photo.jpg", 5)
    place = files.variant_folder(backend.folder, "photo.jpg")
    files.put_variant(place, "thumbnail-1", b"first")
    files.put_variant(place, "thumbnail-1", b"second")  # another server, later: the first stays
    files.put_variant(place, "small-1", b"small")
    with files.open(place, "thumbnail-1") as stream:
        assert stream.read() == b"first"
    assert files.listing(backend.folder) == [("photo.jpg", 5)]  # no variant is a stored file
    assert not any(
        name.startswith(("thumbnail", "small")) for name, _ in files.listing(backend.folder)
    )
    assert files.delete(backend.folder, "photo.jpg") is True
    assert not [name for name in backend.listing() if "thumbnail-1" in name or "small-1" in name]
    with pytest.raises(FileNotFoundError):
        files.open(place, "thumbnail-1").read(1)


def test_a_files_variants_are_its_own(backend):
    files = backend.files
    one, two = (files.variant_folder(backend.folder, name) for name in ("a.jpg", "b.jpg"))
    assert one != two
    files.put_variant(one, "thumbnail-1", b"a")
    files.put_variant(two, "thumbnail-1", b"b")
    assert files.delete_variants(backend.folder, "a.jpg") == 1
    with files.open(two, "thumbnail-1") as stream:
        assert stream.read() == b"b"


def test_the_variants_kept_are_listed_by_their_file_and_removed_one_by_one(backend):
    files = backend.files
    files.publish(b"photo", backend.folder, "photo.jpg", 5)
    place = files.variant_folder(backend.folder, "photo.jpg")
    files.put_variant(place, "thumbnail-1", b"first")
    files.put_variant(place, "small-1", b"sm")
    kept = sorted(
        (name, variant, size)
        for folder, name, variant, size in files.kept_variants([backend.folder])
        if folder == backend.folder
    )
    assert kept == [("photo.jpg", "small-1", 2), ("photo.jpg", "thumbnail-1", 5)]
    files.remove_variant(backend.folder, "photo.jpg", "small-1")
    files.remove_variant(backend.folder, "photo.jpg", "small-1")  # gone already: nothing
    left = [(n, v) for _, n, v, _ in files.kept_variants([backend.folder])]
    assert left == [("photo.jpg", "thumbnail-1")]
    assert files.listing(backend.folder) == [("photo.jpg", 5)]


def test_clean_removes_what_a_dead_process_left(backend):
    stage = staged(
        backend, os.urandom(2000)
    )  # finished, never published nor closed: its process died
    if backend.files.local:
        stage.rest()  # on disk only a named temporary file outlives its process
    assert stage.leaves_traces
    removed, _ = backend.files.clean((backend.folder,), expires=-1)
    assert removed >= 1
    assert backend.listing() == []


# Partial uploads -----------------------------------------------------------------------


def chunk_of(upload: str, data: bytes, index: int, name="big.bin") -> Chunk:
    count = max(1, -(-len(data) // CHUNK))
    return Chunk(upload, index, index * CHUNK, Manifest(name, len(data), CHUNK, count))


def send_chunk(backend: Backend, upload: str, data: bytes, index: int, quota=None, expires=None):
    """One chunk request: keep the chunk, then try the hand-over (None if not whole)."""
    chunk = chunk_of(upload, data, index)
    partial = backend.partials.open(CLIENT, chunk, quota, expires=expires)
    if partial.state is not None:
        partial.close()
        return partial, None
    partial.write(data[chunk.offset : chunk.offset + chunk.length], chunk.offset)
    partial.mark_received(index)
    partial.release()
    handover = partial.hand_over() if partial.state is None else None
    partial.close()
    return partial, handover


def test_chunks_in_any_order_are_handed_over_once_whole(backend):
    data = os.urandom(2 * CHUNK + 12345)
    upload = str(uuids.uuid4())
    assert send_chunk(backend, upload, data, 2)[1] is None
    assert send_chunk(backend, upload, data, 0)[1] is None
    _, handover = send_chunk(backend, upload, data, 1)
    assert handover is not None and handover.size == len(data)
    assert handover.open().read() == data
    stored = backend.files.publish(handover, backend.folder, "big.bin", len(data))
    handover.commit()
    assert read(backend, stored.name) == data
    late, again = send_chunk(backend, upload, data, 1)  # a copy of a chunk, sent late
    assert again is None and late.state in (None, COMPLETE)


def test_a_hand_over_given_back_is_handed_over_again(backend):
    data = os.urandom(CHUNK + 10)
    upload = str(uuids.uuid4())
    send_chunk(backend, upload, data, 0)
    _, handover = send_chunk(backend, upload, data, 1)
    assert handover is not None
    handover.give_back()  # the view failed
    _, resent = send_chunk(backend, upload, data, 1)
    assert resent is not None and resent.open().read() == data
    resent.commit()


@pytest.mark.timeout(60)  # disk: it waited for ever; S3: 20 s, then took the claim over
def test_the_thread_handing_an_upload_over_neither_waits_for_it_nor_takes_it_over(backend):
    """A second chunk of the upload in the thread that holds its hand-over (a request with two
    file parts) gets no file: the store says it is busy, or that another request has it."""
    data = os.urandom(CHUNK + 1)
    upload = str(uuids.uuid4())
    send_chunk(backend, upload, data, 0)
    _, handover = send_chunk(backend, upload, data, 1)
    assert handover is not None
    try:
        again = send_chunk(backend, upload, data, 1)[1]
    except StoreBusy:
        again = None
    assert again is None
    handover.give_back()
    _, resent = send_chunk(backend, upload, data, 1)  # given back: this thread hands it over again
    assert resent is not None and resent.open().read() == data
    resent.commit()


def test_only_one_of_two_last_chunks_racing_gets_the_file(backend):
    data = os.urandom(2 * CHUNK)
    upload = str(uuids.uuid4())
    send_chunk(backend, upload, data, 0)
    results = []
    barrier = threading.Barrier(2)

    def last_chunk():  # one request: the winner's view stores the file, then its answer commits
        barrier.wait()
        try:
            handover = send_chunk(backend, upload, data, 1)[1]
        except StoreBusy:  # S3: the loser came while the winner committed; a 503, then COMPLETE
            handover = None
        results.append(handover)
        if handover is not None:
            handover.commit()

    threads = [threading.Thread(target=last_chunk) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert len([h for h in results if h is not None]) == 1


def test_a_refused_upload_refuses_its_later_chunks_and_keeps_nothing(backend):
    data = os.urandom(2 * CHUNK)
    upload = str(uuids.uuid4())
    partial, _ = send_chunk(backend, upload, data, 0)
    reopened = backend.partials.open(CLIENT, chunk_of(upload, data, 1))
    reopened.release()
    reopened.refuse(415)
    reopened.close()
    late, handover = send_chunk(backend, upload, data, 1)
    assert handover is None and (late.state, late.refusal) == (REFUSED, 415)
    assert not [
        name for name in backend.listing() if name.endswith("data") or "open upload" in name
    ]


def test_a_chunk_that_does_not_match_its_upload_is_refused(backend):
    data = os.urandom(CHUNK + 1)
    upload = str(uuids.uuid4())
    send_chunk(backend, upload, data, 0)
    wrong = Chunk(upload, 1, CHUNK, Manifest("other.bin", len(data), CHUNK, 2))
    with pytest.raises(BadChunk):
        backend.partials.open(CLIENT, wrong)


def test_the_quota_counts_unfinished_uploads_only(backend):
    data = os.urandom(CHUNK + 1)
    first = str(uuids.uuid4())
    send_chunk(backend, first, data, 0, quota=3 * CHUNK, expires=86400)  # recorded beside the size
    assert backend.partials.unfinished_bytes(CLIENT) == len(data)
    with pytest.raises(QuotaExceeded):
        send_chunk(backend, str(uuids.uuid4()), os.urandom(2 * CHUNK + 1), 0, quota=3 * CHUNK)
    _, handover = send_chunk(backend, first, data, 1)
    handover.commit()
    assert backend.partials.unfinished_bytes(CLIENT) == 0


def test_a_client_has_at_most_unfinished_uploads_whatever_their_size(backend):
    empty_enough = os.urandom(CHUNK + 1)
    uploads = [str(uuids.uuid4()) for _ in range(3)]
    for upload in uploads[:2]:
        backend.partials.open(CLIENT, chunk_of(upload, empty_enough, 0), unfinished=2).close()
    with pytest.raises(QuotaExceeded):
        backend.partials.open(CLIENT, chunk_of(uploads[2], empty_enough, 0), unfinished=2)
    assert (
        backend.partials.cancel(CLIENT, uploads[0]) is True
    )  # an upload that ended counts no more
    backend.partials.open(CLIENT, chunk_of(uploads[2], empty_enough, 0), unfinished=2).close()


def test_an_unused_upload_is_discarded(backend):
    data = os.urandom(CHUNK + 1)
    before = backend.listing()
    partial = backend.partials.open(CLIENT, chunk_of(str(uuids.uuid4()), data, 0))
    assert partial.created
    partial.release()
    partial.discard_if_unused()
    partial.close()
    assert backend.listing() == before and backend.partials.unfinished_bytes(CLIENT) == 0


def test_an_idle_upload_expires_and_its_late_chunks_say_so(backend):
    data = os.urandom(CHUNK + 1)
    upload = str(uuids.uuid4())
    send_chunk(backend, upload, data, 0)
    report = backend.partials.clean(expires=-1)
    assert report.partial_uploads == 1
    late, handover = send_chunk(backend, upload, data, 1)
    assert handover is None and late.state == EXPIRED
    assert backend.partials.unfinished_bytes(CLIENT) == 0
    backend.partials.clean(
        expires=-1, now=time.time() + TOMBSTONE + 60
    )  # its record goes after a week
    assert [name for name in backend.listing() if "last-clean" not in name] == []


def test_the_sweep_counts_the_bytes_an_expired_upload_held(backend):
    data = os.urandom(2 * CHUNK + 1)
    upload = str(uuids.uuid4())
    send_chunk(backend, upload, data, 0)
    send_chunk(backend, upload, data, 2)
    report = backend.partials.clean(expires=-1)
    assert report.partial_uploads == 1 and report.freed >= CHUNK + 1  # on S3: the parts it aborted


def test_each_upload_expires_by_the_expiry_it_started_with(backend):
    """The sweep's own expiry is only for uploads that recorded none."""
    data = os.urandom(CHUNK + 1)
    short, long, unsaid = (str(uuids.uuid4()) for _ in range(3))
    send_chunk(backend, short, data, 0, expires=60)
    send_chunk(backend, long, data, 0, expires=86400)
    send_chunk(backend, unsaid, data, 0)
    assert (
        backend.partials.clean(expires=86400, now=time.time() + 600).partial_uploads == 1
    )  # short
    assert backend.partials.clean(expires=2, now=time.time() + 600).partial_uploads == 1  # unsaid
    assert send_chunk(backend, short, data, 1)[0].state == EXPIRED
    assert send_chunk(backend, unsaid, data, 1)[0].state == EXPIRED
    _, handover = send_chunk(backend, long, data, 1)
    assert handover is not None
    handover.commit()


def test_the_record_of_an_upload_that_ended_unfinished_outlives_its_expiry(backend):
    data = os.urandom(CHUNK + 1)
    expired, refused, complete = (str(uuids.uuid4()) for _ in range(3))
    for upload in (expired, refused, complete):
        send_chunk(backend, upload, data, 0, expires=60)
    partial = backend.partials.open(CLIENT, chunk_of(refused, data, 1), expires=60)
    partial.release()
    partial.refuse(415)
    partial.close()
    send_chunk(backend, complete, data, 1, expires=60)[1].commit()
    report = backend.partials.clean(expires=60, now=time.time() + 120)
    assert (report.partial_uploads, report.records) == (
        1,
        1,
    )  # the complete one's record goes at once
    report = backend.partials.clean(
        expires=60, now=time.time() + 2 * 86400
    )  # well past their expiry
    assert report.records == 0  # the others' late chunks are refused for a week
    assert send_chunk(backend, expired, data, 1, expires=60)[0].state == EXPIRED
    assert send_chunk(backend, refused, data, 1, expires=60)[0].state == REFUSED
    assert backend.partials.clean(expires=60, now=time.time() + TOMBSTONE + 60).records == 2


@pytest.mark.parametrize("backend", STORES[1:], indirect=True)  # on disk: test_chunked_uploads.py
def test_a_late_chunk_of_an_ended_upload_keeps_its_record_in_the_bucket(backend):
    data = os.urandom(CHUNK + 1)
    upload = str(uuids.uuid4())
    send_chunk(backend, upload, data, 0, expires=60)
    assert backend.partials.clean(expires=60, now=time.time() + 120).partial_uploads == 1
    # Its marker says how it ended.
    marker = f"{backend.partials.unfinished_root}{CLIENT}/{upload}.{len(data)}.60000"
    before = backend.partials.head(marker)["LastModified"]
    time.sleep(1.1)  # S3 times objects to the second
    assert send_chunk(backend, upload, data, 1)[0].state == EXPIRED
    assert backend.partials.head(marker)["LastModified"] > before  # the sweep measures from here


def send_chunk_to(backend: Backend, upload: str, data: bytes, index: int, name: str):
    """A chunk request of a view that stores into ``backend.folder`` under ``name``."""
    chunk = chunk_of(upload, data, index)
    partial = backend.partials.open(CLIENT, chunk, None, (backend.folder, name))
    partial.write(data[chunk.offset : chunk.offset + chunk.length], chunk.offset)
    partial.mark_received(index)
    partial.release()
    handover = partial.hand_over()
    partial.close()
    return handover


def test_a_file_in_chunks_and_one_stored_meanwhile_under_its_name_both_keep_theirs(backend):
    data = os.urandom(CHUNK + 99)
    upload = str(uuids.uuid4())
    assert send_chunk_to(backend, upload, data, 0, "photo.jpg") is None
    other = backend.files.publish(b"stored meanwhile", backend.folder, "photo.jpg", 16)
    handover = send_chunk_to(backend, upload, data, 1, "photo.jpg")
    stored = backend.files.publish(handover, backend.folder, "photo.jpg", len(data))
    handover.commit()
    assert {other.name, stored.name} == {"photo.jpg", "photo (1).jpg"}
    assert read(backend, other.name) == b"stored meanwhile" and read(backend, stored.name) == data
    assert backend.files.listing(backend.folder) == sorted(
        [(other.name, 16), (stored.name, len(data))]
    )


def test_a_file_in_chunks_stored_where_it_was_assembled_is_not_copied(backend, monkeypatch):
    copies = []
    if not backend.files.local:
        real = type(backend.files)._copy_new
        monkeypatch.setattr(
            type(backend.files), "_copy_new", lambda *a: copies.append(a) or real(*a)
        )
    data = os.urandom(CHUNK + 5)
    upload = str(uuids.uuid4())
    send_chunk_to(backend, upload, data, 0, "here.bin")
    handover = send_chunk_to(backend, upload, data, 1, "here.bin")
    stored = backend.files.publish(handover, backend.folder, "here.bin", len(data))
    handover.commit()
    assert stored.name == "here.bin" and read(backend, "here.bin") == data and copies == []
    assert backend.files.listing(backend.folder) == [("here.bin", len(data))]


def test_a_refused_or_expired_file_in_chunks_frees_its_name(backend):
    data = os.urandom(CHUNK + 5)
    refused, expired = str(uuids.uuid4()), str(uuids.uuid4())
    send_chunk_to(backend, refused, data, 0, "r.bin")
    send_chunk_to(backend, expired, data, 0, "e.bin")
    partial = backend.partials.open(
        CLIENT, chunk_of(refused, data, 1), None, (backend.folder, "r.bin")
    )
    partial.release()
    partial.refuse(415)
    partial.close()
    backend.partials.clean(expires=-1)
    assert backend.files.listing(backend.folder) == []


def test_a_file_stored_again_under_the_same_name_has_another_version(backend):
    backend.files.publish(b"first", backend.folder, "v.txt", 5)
    first = backend.files.version(backend.folder, "v.txt")
    backend.files.delete(backend.folder, "v.txt")
    assert backend.files.version(backend.folder, "v.txt") is None
    time.sleep(0.01)
    backend.files.publish(b"second", backend.folder, "v.txt", 6)
    assert first is not None and backend.files.version(backend.folder, "v.txt") not in (None, first)


def test_a_client_cancels_its_own_unfinished_upload_only(backend):
    data = os.urandom(CHUNK + 5)
    upload = str(uuids.uuid4())
    send_chunk(backend, upload, data, 0)
    assert backend.partials.cancel("d" * 32, upload) is False  # another client
    assert backend.partials.cancel(CLIENT, str(uuids.uuid4())) is False  # no such upload
    assert backend.partials.cancel(CLIENT, "../" + upload) is False
    assert backend.partials.cancel(CLIENT, upload) is True
    assert backend.partials.unfinished_bytes(CLIENT) == 0
    late, handover = send_chunk(backend, upload, data, 1)
    assert handover is None and late.state == EXPIRED
    assert backend.partials.cancel(CLIENT, upload) is False  # ended already
    assert not [
        name for name in backend.listing() if name.endswith("data") or "open upload" in name
    ]


def test_the_chunks_an_unfinished_upload_holds_are_told_to_its_client_only(backend):
    data = os.urandom(2 * CHUNK + 5)
    upload = str(uuids.uuid4())
    send_chunk(backend, upload, data, 2)
    send_chunk(backend, upload, data, 0)
    manifest, held = backend.partials.held_chunks(CLIENT, upload)
    assert held == [0, 2] and (manifest.total_size, manifest.count) == (len(data), 3)
    assert backend.partials.held_chunks("d" * 32, upload) is None
    assert backend.partials.held_chunks(CLIENT, str(uuids.uuid4())) is None
    assert backend.partials.held_chunks(CLIENT, "../x") is None
    _, handover = send_chunk(backend, upload, data, 1)
    handover.commit()
    assert backend.partials.held_chunks(CLIENT, upload) is None  # finished: a new upload starts


# Pending files ---------------------------------------------------------------------------


def pending_file(backend: Backend, data: bytes, name: str = "0123abcd") -> str:
    """A pending file of the client, published in its pending folder; the folder."""
    folder = backend.files.pending_folder(str(backend.root), CLIENT)
    backend.files.publish(staged(backend, data), folder, name, len(data))
    return folder


def test_a_pending_file_is_claimed_exactly_once_under_a_free_name(backend):
    data = os.urandom(2 * MiB + 3)
    folder = pending_file(backend, data)
    backend.files.publish(b"there first", backend.folder, "photo.png", 11)
    claimed = backend.files.claim(folder, "0123abcd", backend.folder, "photo.png", len(data))
    assert claimed is not None and claimed.stored.name == "photo (1).png"
    assert not backend.files.is_pending(folder, "0123abcd")  # taken, before it is finished
    assert backend.files.claim(folder, "0123abcd", backend.folder, "photo.png", len(data)) is None
    claimed.finish()
    assert read(backend, "photo (1).png") == data and read(backend, "photo.png") == b"there first"
    assert backend.files.claim(folder, "0123abcd", backend.folder, "photo.png", len(data)) is None
    assert [name for name, _ in backend.files.listing(backend.folder)] == [
        "photo (1).png",
        "photo.png",
    ]
    assert backend.files.pending_files(folder) == []


def test_an_undone_claim_leaves_the_file_pending_and_nothing_stored(backend):
    data = os.urandom(5000)
    folder = pending_file(backend, data)
    assert backend.files.is_pending(folder, "0123abcd")
    ((name, size, kept),) = backend.files.pending_files(folder)
    assert (name, size) == ("0123abcd", len(data)) and abs(kept - time.time()) < 60
    claimed = backend.files.claim(folder, "0123abcd", backend.folder, "a.bin", len(data))
    claimed.undo()
    assert backend.files.listing(backend.folder) == [] and backend.files.is_pending(
        folder, "0123abcd"
    )
    again = backend.files.claim(folder, "0123abcd", backend.folder, "a.bin", len(data))
    again.finish()
    assert again.stored.name == "a.bin" and read(backend, "a.bin") == data


def test_claims_at_the_same_time_store_the_file_once(backend):
    data = os.urandom(1000)
    folder = pending_file(backend, data)
    barrier, results = threading.Barrier(6), []

    def claim():
        barrier.wait()
        results.append(backend.files.claim(folder, "0123abcd", backend.folder, "a.bin", len(data)))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len([found for found in results if found is not None]) == 1 and len(results) == 6
    for found in results:
        if found is not None:
            found.finish()
    assert [name for name, _ in backend.files.listing(backend.folder)] == ["a.bin"]


def test_old_pending_files_are_removed_and_fresh_ones_kept(backend):
    folder = pending_file(backend, b"old", "00000001")
    assert backend.files.clean_pending(str(backend.root), 3600) == (0, 0)
    removed, _ = backend.files.clean_pending(str(backend.root), 3600, now=time.time() + 7200)
    assert removed == 1
    assert backend.files.claim(folder, "00000001", backend.folder, "a.bin", 3) is None


def test_the_sweep_never_takes_a_file_from_a_claim_midway(backend, monkeypatch):
    """A file expiring as it is claimed: the sweep that runs while the claim copies or links
    it leaves it, and the claim stores it whole."""
    data = os.urandom(3000)
    folder = pending_file(backend, data)
    on_s3 = not backend.root
    if on_s3:
        time.sleep(3)  # S3's clock dates the object: two seconds of age, at one-second resolution
    else:
        past = time.time() - 10
        os.utime(os.path.join(folder, "0123abcd"), (past, past))
    swept = []

    def sweep_first(original):
        def run(*args, **kwargs):
            swept.append(backend.files.clean_pending(str(backend.root), 2))
            return original(*args, **kwargs)

        return run

    if on_s3:
        monkeypatch.setattr(backend.files, "_first_free", sweep_first(backend.files._first_free))
    else:
        from flask_dropzone._stores.disk import files as disk

        monkeypatch.setattr(disk, "free_name", sweep_first(disk.free_name))
    claimed = backend.files.claim(folder, "0123abcd", backend.folder, "a.bin", len(data))
    assert swept == [(0, 0)] and claimed is not None and read(backend, "a.bin") == data


def test_a_file_removed_under_its_claim_is_no_file_stored_and_no_error(backend, monkeypatch):
    folder = pending_file(backend, b"gone soon")

    def remove_first(original):
        def run(*args, **kwargs):
            if backend.root:
                for entry in os.scandir(folder):
                    os.unlink(entry.path)
            else:
                backend.files.client.delete_object(
                    Bucket=backend.files.bucket, Key=folder + "0123abcd"
                )
            return original(*args, **kwargs)

        return run

    if backend.root:
        from flask_dropzone._stores.disk import files as disk

        monkeypatch.setattr(disk, "free_name", remove_first(disk.free_name))
    else:
        monkeypatch.setattr(backend.files, "_first_free", remove_first(backend.files._first_free))
    assert backend.files.claim(folder, "0123abcd", backend.folder, "a.bin", 9) is None
    assert [name for name, _ in backend.files.listing(backend.folder)] == []
