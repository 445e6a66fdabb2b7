"""The S3 partial store: the chunks of an upload are the parts of one multipart upload,
and S3's conditional writes coordinate every app server, with no shared disk, no
lock server and no sticky sessions.

Objects of one upload, under ``<prefix>_dropzone/chunks/<client>/<dzuuid>/``::

    manifest   what the upload declared and its multipart upload's id; created once
               (``If-None-Match: *``): a server that loses the race aborts its own upload
    got/<i>    chunk i is kept (written after its part)
    status     absent while open; ``waiting`` once a check found chunks missing;
               ``complete``, ``refused <status>`` or ``expired`` once it ended
    claim      the hand-over, created once; a claim older than its lease (its server
               died) is taken over by an overwrite conditional on its ETag (each claim's
               body is a nonce, so that two cannot both take one over)
    data       the assembled file, from completing the multipart upload

and ``<prefix>_dropzone/pending/<client>/<dzuuid>.<size>.<expiry in ms>`` while it
is open, for the client's quota and for the sweep, which finds each open upload's
expiry in one listing.

With a name held for the file (its placeholder names the upload's nonce, kept in the
record), the multipart upload is made and completed there, only while the name is
still its placeholder; nothing that ends an upload removes a file completed there but
the request that completed it.

A chunk costs its ``UploadPart``, the ``got`` marker and one read of ``status``;
only the last chunks list the markers. A chunk that arrives out of order after
those checks finds ``waiting`` (written before the checker lists again) and
checks itself, so the chunk that completes a file always notices.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from typing import IO, Any, Optional

from ..chunks import BadChunk, Chunk, Manifest, check_same_upload
from ..storage_settings import S3_MAX_PARTS as MAX_PARTS
from .base import (
    CLIENT_NAME,
    COMPLETE,
    EXPIRED,
    REFUSED,
    TOMBSTONE,
    UPLOAD_NAME,
    CleanReport,
    HandOver,
    NameLost,
    Partial,
    PartialStore,
    StoreBusy,
    check_room,
    record_lifetime,
)
from .names import candidates
from .s3 import Blocks, ObjectReader, S3Files, error_code
from .s3_marks import ID, made_for, new_id
from .s3_parts import latest_parts

#: The last chunks of a file check whether it is whole (and any chunk once one found it not).
TAIL = 16
#: Seconds a hand-over is held before another server may take it over (its server died).
LEASE = 120.0
#: Seconds a resent chunk waits for the request it replaces to end the upload.
RESENT_WAIT = 20.0
#: Seconds a client's start lock is held at most.
START_LEASE = 30.0
_MISSING = ("404", "NoSuchKey", "NotFound")
_TAKEN = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
#: The uploads this thread is handing over (their claims held until the response): a second
#: chunk of one in the same request must neither wait for the claim nor take it over.
_local = threading.local()


def _handing_over() -> set[str]:
    held: Optional[set[str]] = getattr(_local, "bases", None)
    if held is None:
        held = _local.bases = set()
    return held


@dataclass(frozen=True)
class Record:
    """What an upload's first chunk recorded: the declared file, its multipart upload, the
    key it is assembled at, the folder and name held for it there, if any, its nonce (the
    mark on that name, the assembled file's id; "" in a record made before) and its expiry."""

    manifest: Manifest
    upload_id: str
    key: str
    folder: Optional[str] = None
    name: Optional[str] = None
    nonce: str = ""
    expires: Optional[float] = None

    def to_json(self) -> bytes:
        record = {"manifest": json.loads(self.manifest.to_json()), "upload_id": self.upload_id, "key": self.key}
        if self.name is not None:
            record.update(folder=self.folder, name=self.name)
        record.update(nonce=self.nonce)
        if self.expires is not None:
            record.update(expires=self.expires)
        return json.dumps(record).encode()

    @classmethod
    def from_json(cls, text: str) -> "Record":
        record = json.loads(text)
        return cls(Manifest(**record["manifest"]), record["upload_id"], record["key"], record.get("folder"),
                   record.get("name"), str(record.get("nonce", "")), record.get("expires"))


def _code(error: BaseException) -> str:
    return error_code(error) or str(getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


class S3Partial(Partial):
    """One chunk request's view of its upload."""

    def __init__(self, store: "S3Partials", base: str, record: Record, created: bool) -> None:
        self.store, self.base, self.record = store, base, record
        self.manifest, self.upload_id = record.manifest, record.upload_id
        self.created = created
        self.state: Optional[str] = None
        self.refusal: Optional[int] = None
        self._blocks: list[bytes] = []  # the chunk, as it arrived
        self._closed = False
        self._index: Optional[int] = None  #: the chunk this request kept
        self._assembled = False  #: the file was assembled already (a hand-over given back)

    def read_status(self) -> None:
        status = self.store.get_text(self.base + "status")
        if status is None or status == "waiting":
            self.state, self.refusal = None, None
            return
        word, _, detail = status.partition(" ")
        self.state = word if word in (COMPLETE, REFUSED, EXPIRED) else None
        self.refusal = int(detail) if word == REFUSED and detail.isdigit() else None
        if self.state in (REFUSED, EXPIRED):  # a late chunk: the record is kept while they come
            self.store.put(self.base + "status", status.encode())

    def write(self, data: bytes, offset: int) -> None:
        self._blocks.append(bytes(data))  # one chunk, sent as one part once it is whole

    def mark_received(self, index: int) -> None:
        files = self.store.files
        from botocore.exceptions import ClientError

        try:
            with files.errors:
                files.client.upload_part(
                    Bucket=files.bucket,
                    Key=self.record.key,
                    UploadId=self.upload_id,
                    PartNumber=index + 1,
                    Body=Blocks(self._blocks),
                )
        except ClientError as error:
            if _code(error) != "NoSuchUpload":
                raise
            self._blocks = []
            self.read_status()  # it ended, or its file was assembled, meanwhile
            if self.state is None:
                if not self.store.assembled(self.record):
                    # Its record was removed (its first chunk failed): what this process
                    # remembers of it is stale, and the chunk sent again starts afresh.
                    self.store.forget_record(self.base)
                    raise StoreBusy() from error
                self._index, self._assembled = index, True
            return
        self._blocks = []
        self.store.put(self.base + f"got/{index}", b"")
        self._index = index

    def held(self) -> list[int]:
        prefix = self.base + "got/"
        return sorted(int(key[len(prefix):]) for key in self.store.keys(prefix))

    def release(self) -> None:
        self._blocks = []

    def _whole(self) -> bool:
        """Whether every chunk is kept; the last chunks (or any, once a check found chunks
        missing) look, writing ``waiting`` before looking again when some are missing."""
        count = self.manifest.count
        tail = self._index is not None and self._index >= count - TAIL
        if not tail and self.store.get_text(self.base + "status") != "waiting":
            return False
        if len(self.held()) == count:
            return True
        self.store.put(self.base + "status", b"waiting", create_only=True)
        return len(self.held()) == count

    def hand_over(self) -> Optional["S3HandOver"]:
        store = self.store
        if self._index is None or self.state is not None or self.base in _handing_over():
            return None
        if not self._assembled and not self._whole():
            return None
        claim = store.claim(self.base, self.manifest.total_size, self._index)
        if claim is None:
            return None  # another request hands it over
        self.read_status()
        if self.state is not None:
            store.unclaim(self.base, claim)
            return None
        try:
            store.assemble(self.record)
        except NameLost:  # what took the name stays; the upload ends
            store.end(self.base, EXPIRED, self.record)
            raise
        return S3HandOver(store, self.base, self.record, claim)

    def refuse(self, status: int = 415) -> None:
        self.store.end(self.base, f"{REFUSED} {status}", self.record)

    def discard_if_unused(self) -> None:
        if not self.created or self.held():
            return
        self.read_status()
        if self.state is None:  # a refused upload keeps its record, for its later chunks
            self.store.forget(self.base, self.record)

    def close(self) -> None:
        self._blocks = []
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed


class S3HandOver(HandOver):
    """The assembled file of a chunked upload, lent to the request that completed it."""

    def __init__(self, store: "S3Partials", base: str, record: Record, claim: str) -> None:
        self.store, self.base, self.record, self.size = store, base, record, record.manifest.total_size
        self.claim = claim  # the ETag of the hand-over's claim
        self.key = record.key  # what the file store publishes from
        #: The folder and name held for the file, where it was assembled: published there, it
        #: is not copied.
        self.reserved = (record.folder, record.name) if record.name is not None else None
        self.in_place = False  # published where it was assembled
        self._reader: Optional[ObjectReader] = None
        self._ended = False
        _handing_over().add(base)

    def open(self) -> IO[bytes]:
        if self._reader is None:
            self._reader = ObjectReader(self.store.files, self.key)
        self._reader.seek(0)
        return self._reader  # type: ignore[return-value]

    def commit(self) -> None:
        if not self._ended:
            self._ended = True
            _handing_over().discard(self.base)
            self.store.end(self.base, COMPLETE, self.record, own_file=not self.in_place)

    def refuse(self, status: int) -> None:
        if not self._ended:
            self._ended = True
            _handing_over().discard(self.base)
            self.store.end(self.base, f"{REFUSED} {status}", self.record, own_file=True)

    def give_back(self) -> None:
        if not self._ended:
            self._ended = True
            _handing_over().discard(self.base)
            self.store.unclaim(self.base, self.claim)  # the data stays: a resent chunk hands it over


class S3Partials(PartialStore):
    """Partial uploads in the bucket of ``files``."""

    def __init__(self, files: S3Files) -> None:
        self.files = files
        self.root = files.own + "chunks/"
        self.pending_root = files.own + "pending/"
        self._manifests: dict[str, Record] = {}  # recent uploads: records never change
        self._next_look = 0.0  # when this process next asks whether a sweep is due

    # Small object operations ----------------------------------------------------------

    @property
    def client(self) -> Any:
        return self.files.client

    def get_text(self, key: str) -> Optional[str]:
        from botocore.exceptions import ClientError

        try:
            with self.files.errors:
                body = self.client.get_object(Bucket=self.files.bucket, Key=key)["Body"]
                return body.read().decode("utf-8", "replace")  # type: ignore[no-any-return]
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def head(self, key: str) -> Optional[dict[str, Any]]:
        return self.files.head(key)

    def put(
        self, key: str, body: bytes, create_only: bool = False, if_match: Optional[str] = None,
        metadata: Optional[dict[str, str]] = None,
    ) -> bool:
        """Write ``key`` (with user ``metadata``: an empty object that says something needs
        no data write); with ``create_only`` or ``if_match``, whether the condition held."""
        return self.write(key, body, create_only, if_match, metadata) is not None

    def write(
        self, key: str, body: bytes, create_only: bool = False, if_match: Optional[str] = None,
        metadata: Optional[dict[str, str]] = None,
    ) -> Optional[str]:
        """:meth:`put`, answering the ETag written (None: the condition did not hold)."""
        from botocore.exceptions import ClientError

        conditions: dict[str, Any] = {}
        if create_only:
            conditions["IfNoneMatch"] = "*"
        if if_match is not None:
            conditions["IfMatch"] = if_match
        if metadata:
            conditions["Metadata"] = metadata
        try:
            with self.files.errors:
                answer = self.client.put_object(Bucket=self.files.bucket, Key=key, Body=body, **conditions)
        except ClientError as error:
            if (create_only or if_match is not None) and _code(error) in _TAKEN + _MISSING:
                return None
            raise
        return str(answer["ETag"])

    def keys(self, prefix: str) -> list[str]:
        with self.files.errors:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.files.bucket, Prefix=prefix)
            return [entry["Key"] for page in pages for entry in page.get("Contents", ())]

    def delete_keys(self, keys: list[str]) -> None:
        with self.files.errors:
            for start in range(0, len(keys), 1000):
                batch = [{"Key": key} for key in keys[start : start + 1000]]
                if batch:
                    self.client.delete_objects(Bucket=self.files.bucket, Delete={"Objects": batch, "Quiet": True})

    def abort(self, key: str, upload_id: Optional[str]) -> None:
        from botocore.exceptions import ClientError

        if upload_id is None:
            return
        try:
            with self.files.errors:
                self.client.abort_multipart_upload(Bucket=self.files.bucket, Key=key, UploadId=upload_id)
        except ClientError as error:
            if _code(error) not in ("NoSuchUpload",) + _MISSING:
                raise

    def claim(self, base: str, size: int, index: int) -> Optional[str]:
        """Take the upload's hand-over, for exactly one request: the ETag of its claim, or
        None (``index`` -1: a cancel, which takes it only where no hand-over holds it).

        The chunk whose request holds it may be sent again when that request's server
        died: the resent chunk waits for the holder to end the upload (then it is late),
        and takes the hand-over over if it does not; so does any chunk once the lease ran
        out. Another chunk leaves it to the holder."""
        key = base + "claim"
        body = json.dumps({"index": index, "at": time.time(), "nonce": new_id()}).encode()
        lease = LEASE + size / (50 * 1024 * 1024)  # time to publish the file, too
        deadline = time.monotonic() + min(lease, RESENT_WAIT)
        while True:
            etag = self.write(key, body, create_only=True)
            if etag is not None:
                return etag
            held = self._read_claim(key)
            if held is None:
                continue  # given back meanwhile: try again
            holder, etag, age = held
            if age >= lease or (holder == index >= 0 and time.monotonic() >= deadline):
                return self.write(key, body, if_match=etag)
            if holder != index or index < 0 or self.get_text(base + "status") not in (None, "waiting"):
                return None
            time.sleep(0.25)

    def unclaim(self, base: str, claim: str) -> None:
        """Give the hand-over back, unless another request took it over meanwhile."""
        self.files.delete_matching(base + "claim", claim)

    def _read_claim(self, key: str) -> Optional[tuple[int, str, float]]:
        from botocore.exceptions import ClientError

        try:
            with self.files.errors:
                answer = self.client.get_object(Bucket=self.files.bucket, Key=key)
                record = json.loads(answer["Body"].read())
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise
        return int(record.get("index", -1)), answer["ETag"], time.time() - answer["LastModified"].timestamp()

    # The upload's life ----------------------------------------------------------------

    def _base(self, client: str, chunk: Chunk) -> str:
        return f"{self.root}{client}/{chunk.uuid}/"

    def open(
        self,
        client: str,
        chunk: Chunk,
        quota: Optional[int] = None,
        destination: Optional[tuple[str, str]] = None,
        expires: Optional[float] = None,
        unfinished: Optional[int] = None,
    ) -> Partial:
        """``destination``, the folder and name the file will likely be stored under, lets
        the first chunk hold that name (an empty object, created only if the name is free)
        and assemble the file there: published under it, it is not copied."""
        if chunk.manifest.count > MAX_PARTS:
            raise BadChunk(f"A file is at most {MAX_PARTS} chunks here; send larger chunks.")
        base = self._base(client, chunk)
        record = self._manifests.get(base)
        created = False
        if record is None:
            record, created = self._start(client, chunk, base, quota, unfinished, destination, expires)
            if len(self._manifests) > 1024:
                self._manifests.clear()
            self._manifests[base] = record
        check_same_upload(record.manifest, chunk)
        partial = S3Partial(self, base, record, created)
        if not created and chunk.index == 0:
            partial.read_status()  # chunk 0 is judged again: a refused upload says so at once
        return partial

    def _read_record(self, base: str) -> Optional[Record]:
        text = self.get_text(base + "manifest")
        return None if text is None else Record.from_json(text)

    def _start(
        self, client: str, chunk: Chunk, base: str, quota: Optional[int], unfinished: Optional[int],
        destination: Optional[tuple[str, str]], expires: Optional[float],
    ) -> tuple[Record, bool]:
        found = self._read_record(base)
        if found is not None:
            return found, False
        lock = f"{self.pending_root}{client}/.lock"
        for _ in range(200):  # the client's start lock: quota checks of one client in turn
            held = self.claim_start(lock)
            if held:
                break
            time.sleep(0.05)
        else:
            raise StoreBusy()
        try:
            found = self._read_record(base)
            if found is not None:
                return found, False
            if quota is not None or unfinished is not None:
                check_room(*self.pending(client), chunk.manifest.total_size, quota, unfinished)
            record = self._create(chunk, base, destination, expires)
            if not self.put(base + "manifest", record.to_json(), create_only=True):
                self._drop(record)  # another server started it first
                found = self._read_record(base)
                if found is None:
                    raise StoreBusy()
                return found, False
            self.put(self._marker(client, chunk, expires), b"")
            return record, True
        finally:
            self.unlock(lock, held)

    def _marker(self, client: str, chunk: Chunk, expires: Optional[float]) -> str:
        """The open upload's pending marker: its size for the quota, its expiry for the sweep."""
        name = f"{chunk.uuid}.{chunk.manifest.total_size}"
        if expires is not None:
            name += f".{math.ceil(expires * 1000)}"
        return f"{self.pending_root}{client}/{name}"

    def _create(
        self, chunk: Chunk, base: str, destination: Optional[tuple[str, str]], expires: Optional[float]
    ) -> Record:
        """The multipart upload, at a free name held for it in ``destination``, else in ``base``."""
        key, folder, name, nonce = base + "data", None, None, new_id()
        files = self.files
        if destination is not None:
            for candidate in candidates(destination[1]):
                if files.hold(destination[0] + candidate, nonce):
                    key, folder, name = destination[0] + candidate, destination[0], destination[1]
                    break
        with files.errors:
            made = files.client.create_multipart_upload(Bucket=files.bucket, Key=key, Metadata={ID: nonce})
        return Record(chunk.manifest, made["UploadId"], key, folder, name, nonce, expires)

    def _drop(self, record: Record) -> None:
        """Abort the record's multipart upload and free the name held for it (only while it
        is the upload's placeholder)."""
        self.abort(record.key, record.upload_id)
        if record.name is not None:
            self.files.drop_held(record.key, record.nonce)

    def claim_start(self, lock: str) -> Optional[str]:
        """Take the client's start lock: the ETag of the lock written, or None."""
        etag = self.write(lock, new_id().encode(), create_only=True)
        if etag is not None:
            return etag
        held = self.head(lock)
        if held is not None and time.time() - held["LastModified"].timestamp() > START_LEASE:
            return self.write(lock, new_id().encode(), if_match=held["ETag"])  # its holder died
        return None

    def unlock(self, lock: str, held: str) -> None:
        """Give the start lock back, unless it was taken over meanwhile."""
        self.files.delete_matching(lock, held)

    def assembled(self, record: Record) -> bool:
        """Whether this upload's file was assembled at its key (not only its name held)."""
        head = self.head(record.key)
        return head is not None and made_for(head, record.nonce)

    def assemble(self, record: Record) -> None:
        """Complete the multipart upload at its key (once: a second time finds it done)."""
        from botocore.exceptions import ClientError

        files = self.files
        try:
            with files.errors:
                pages = files.client.get_paginator("list_parts").paginate(
                    Bucket=files.bucket, Key=record.key, UploadId=record.upload_id
                )
                # A part sent again may be listed twice: the newest one counts.
                latest = latest_parts(part for page in pages for part in page.get("Parts", ()))
                parts = [{"PartNumber": n, "ETag": latest[n]["ETag"]} for n in sorted(latest)]
                if len(parts) != record.manifest.count:
                    raise StoreBusy()
                if record.name is None:
                    files.client.complete_multipart_upload(
                        Bucket=files.bucket, Key=record.key, UploadId=record.upload_id, MultipartUpload={"Parts": parts}
                    )
            if record.name is not None:
                files.complete_held(record.key, record.nonce, record.upload_id, parts)
        except ClientError as error:
            if _code(error) == "NoSuchUpload" and self.assembled(record):
                return  # assembled before: a hand-over given back, or a server that died after
            raise

    def end(self, base: str, status: str, record: Record, own_file: bool = False) -> None:
        """End the upload with ``status``: its bytes and markers go, the name held for it
        too while it is only held; its record stays for late chunks. ``own_file``: the hand-
        over's holder also removes the file it assembled there (refused, or stored elsewhere)."""
        self.put(base + "status", status.encode())
        if status != COMPLETE:
            self.abort(record.key, record.upload_id)
        if record.name is not None and (status != COMPLETE or own_file):
            self.files.drop_held(record.key, record.nonce, own=own_file)
        keys = [key for key in self.keys(base) if not key.endswith(("/manifest", "/status"))]
        self.delete_keys(keys + self._pending_keys(base))

    def forget_record(self, base: str) -> None:
        self._manifests.pop(base, None)

    def forget(self, base: str, record: Record) -> None:
        """Remove an upload nobody sent a chunk of."""
        self._drop(record)
        self.delete_keys(self.keys(base) + self._pending_keys(base))
        self._manifests.pop(base, None)

    def _pending_keys(self, base: str) -> list[str]:
        client, uuid = base[len(self.root) :].strip("/").split("/")
        return [key for key in self.keys(f"{self.pending_root}{client}/{uuid}.")]

    def held_chunks(self, client: str, upload: str) -> Optional[tuple[Manifest, list[int]]]:
        if not (CLIENT_NAME.fullmatch(client) and UPLOAD_NAME.fullmatch(upload)):
            return None
        base = f"{self.root}{client}/{upload}/"
        record = self._read_record(base)
        if record is None or self.get_text(base + "status") not in (None, "waiting"):
            return None
        prefix = base + "got/"
        return record.manifest, sorted(int(key[len(prefix) :]) for key in self.keys(prefix))

    def cancel(self, client: str, upload: str) -> bool:
        if not (CLIENT_NAME.fullmatch(client) and UPLOAD_NAME.fullmatch(upload)):
            return False
        base = f"{self.root}{client}/{upload}/"
        record = self._read_record(base)
        if record is None or self.get_text(base + "status") not in (None, "waiting"):
            return False
        # A hand-over under way is left to end the upload: the file may be published there.
        claim = self.claim(base, record.manifest.total_size, -1)
        if claim is None:
            return False
        if self.get_text(base + "status") not in (None, "waiting"):
            self.unclaim(base, claim)
            return False
        self.end(base, EXPIRED, record)
        self._manifests.pop(base, None)
        return True

    def pending(self, client: str) -> tuple[int, int]:
        """The declared bytes and the number of the client's unfinished uploads, chunked and
        direct, from their markers (``<id>.<size>[.<expiry>]``)."""
        total = count = 0
        for key in self.keys(f"{self.pending_root}{client}/"):
            parts = key.rsplit("/", 1)[-1].split(".")
            if len(parts) >= 2 and parts[1].isdigit():
                total, count = total + int(parts[1]), count + 1
        return total, count

    # The sweep ------------------------------------------------------------------------

    def clean(self, expires: float, now: Optional[float] = None) -> CleanReport:
        """Expire each open upload by the expiry its pending marker names (else ``expires``);
        forget an ended one's record once idle for its lifetime, and never before ``expires``
        (reading the record only then)."""
        now = time.time() if now is None else now
        report = CleanReport()
        with self.files.errors:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.files.bucket, Prefix=self.root)
            uploads: dict[str, list[dict[str, Any]]] = {}
            for page in pages:
                for entry in page.get("Contents", ()):
                    rest = entry["Key"][len(self.root) :].split("/")
                    if len(rest) >= 3:
                        uploads.setdefault(f"{self.root}{rest[0]}/{rest[1]}/", []).append(entry)
        open_for = self._open_expiries(expires)
        for base, entries in uploads.items():
            idle = now - max(entry["LastModified"].timestamp() for entry in entries)
            if idle <= open_for.get(base, expires):
                continue
            keys = {entry["Key"][len(base) :]: entry for entry in entries}
            status = self.get_text(base + "status") if "status" in keys else None
            if status is not None and status != "waiting":  # an ended upload's record
                if not self._outlived(base, status, idle, expires):
                    continue
                self.delete_keys([entry["Key"] for entry in entries])
                report.records += 1
                continue
            found = self._read_record(base) if "manifest" in keys else None
            report.freed += sum(entry.get("Size", 0) for name, entry in keys.items() if name == "data")
            if found is not None:
                report.freed += self.part_bytes(found.key, found.upload_id)
                self.end(base, EXPIRED, found)
            else:  # a start cut short: nothing else of it exists
                self.delete_keys([entry["Key"] for entry in entries])
            self._manifests.pop(base, None)
            report.partial_uploads += 1
        return report

    def part_bytes(self, key: str, upload_id: str) -> int:
        """The bytes an open multipart upload holds in its parts (0 once it is not open): what
        aborting it gives back."""
        from botocore.exceptions import ClientError

        try:
            with self.files.errors:
                pages = self.client.get_paginator("list_parts").paginate(
                    Bucket=self.files.bucket, Key=key, UploadId=upload_id
                )
                return sum(int(part.get("Size", 0)) for page in pages for part in page.get("Parts", ()))
        except ClientError as error:
            if _code(error) in ("NoSuchUpload",) + _MISSING:
                return 0
            raise

    def _open_expiries(self, default: float) -> dict[str, float]:
        """The seconds each open chunked upload is kept once idle, by its base, from the
        names of the pending markers (one listing)."""
        found = {}
        for key in self.keys(self.pending_root):
            client, _, name = key[len(self.pending_root) :].rpartition("/")
            upload, _, expiry = (name.split(".") + ["", ""])[:3]
            if UPLOAD_NAME.fullmatch(upload):
                found[f"{self.root}{client}/{upload}/"] = int(expiry) / 1000 if expiry.isdigit() else default
        return found

    def _outlived(self, base: str, status: str, idle: float, default: float) -> bool:
        """Whether the record of an upload that ended with ``status`` was idle for longer than
        its lifetime (read only when that may be so: the record of one not complete is kept
        for a week at least)."""
        state = status.partition(" ")[0]
        if state != COMPLETE and idle <= TOMBSTONE:
            return False
        record = self._read_record(base)
        recorded = record.expires if record is not None else None
        return idle > record_lifetime(state, default if recorded is None else recorded)

    def clean_due(self, interval: float) -> bool:
        if time.monotonic() < self._next_look:
            return False  # this process looked a moment ago: no request to S3 after every chunk
        self._next_look = time.monotonic() + min(interval, 60)
        stamp = self.files.own + "last-clean"
        held = self.head(stamp)
        if held is None:
            return self.put(stamp, new_id().encode(), create_only=True)
        if time.time() - held["LastModified"].timestamp() < interval:
            return False
        return self.put(stamp, new_id().encode(), if_match=held["ETag"])
