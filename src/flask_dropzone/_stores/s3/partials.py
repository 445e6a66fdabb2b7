"""The S3 partial store: the chunks of an upload are the parts of one multipart upload,
and S3's conditional writes coordinate every app server, with no shared disk, no
lock server and no sticky sessions.

Objects of one upload::

    <prefix>_dropzone/pending/<client>/<dzuuid>.<size>[.<expiry in ms>]
                 the marker: created once (``If-None-Match: *``) by the request that
                 starts the upload; it says whether the upload is open, handed over
                 or ended (see :mod:`.states`), each change a compare-and-swap on
                 its ETag, and the listing of a client's markers is its quota
    <prefix>_dropzone/chunks/<client>/<dzuuid>/manifest
                 the record: what the upload declared, its multipart upload's key and
                 id, the name held for it and the ETags of its placeholder and of its
                 open marker; created once, never changed, so every server keeps it
    <folder><name>
                 the name held for the file (a placeholder whose body is the upload's
                 nonce, so its ETag is its own), where the multipart upload is made and
                 completed, only while the name is still that placeholder; without a
                 name to hold, ``.../chunks/<client>/<dzuuid>/data``

What a file of N chunks costs in requests, on the server that receives them all:

- the request that starts the upload creates the marker, lists the client's markers
  (its quota), holds the name and creates the multipart upload; it sends its own
  chunk as a part *before* it records the upload, so that no other part can be in
  before it: its chunk is never the last, and it does not look whether the file is
  whole. Then it creates the record: 5 requests beside its part;
- every other chunk is its ``UploadPart`` and one ``ListParts`` of the block of 1,000
  parts its own is in (S3 answers at most 1,000 a time), which tells whether the file
  is whole: whichever chunk's part is the last to be in sees every part, so the chunk
  that completes a file always notices, in any order, in parallel, sent more than once;
- the chunk that finds the file whole takes the hand-over (the marker from open to
  handed over), completes the multipart upload (``If-Match`` the placeholder's ETag)
  with the parts it listed, the view reads the file's head, and the request's answer
  ends the upload (the marker says ``complete``): 4 requests.

So 2N + 8 in all (N = 1: 10). A server that has not seen the upload yet reads its
record once (after its marker turned out to exist: 2 requests); a file of more than
1,000 chunks lists one more block for each block of 1,000 completed, and for the
chunk that completes it.

A chunk that comes while another request is starting its upload receives its bytes,
then waits for the record: for that request, if it is of this process; else one request
of this process reads the record now and then, and the others wait for it. The starting
request rewrites its marker while its chunk arrives (every :data:`BEAT` seconds): a
start whose marker is older than :data:`STALE` died with its server, and a waiting
chunk removes it (a delete conditional on the marker's ETag) and what it held; the
chunk is then sent again.

Of two chunks of one process that find the file whole at once, the second leaves it to
the first without asking S3; on two servers, the one that does not get the hand-over
pays a write and a read.

The quota is counted without a lock: a start creates its marker, then lists the
client's markers, counting its own. Of two starts that cannot both pass, the one that
lists second sees both. Only a start the listing puts over a limit (or that finds the
client's start lock taken, as a direct upload's start takes it) counts again under the
lock, so that of starts that would each fit alone one passes.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, replace
from typing import IO, Any, Optional

from ..._rules.chunks import BadChunk, Chunk, Manifest, check_same_upload
from ..._rules.parts import BLOCK, blocks_from, latest_parts, missing
from ..._rules.storage_settings import S3_MAX_PARTS as MAX_PARTS
from ..base import (
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
    QuotaExceeded,
    StoreBusy,
    check_room,
    record_lifetime,
)
from ..names import candidates, numbered
from .files import Blocks, ObjectReader, S3Files, error_code
from .marks import ID, PLACEHOLDER_SIZES, held_by, made_for, new_id
from .states import (
    Said,
    ended_body,
    hand_over_body,
    listed_open,
    listed_state,
    open_body,
    said,
    started,
)

#: Seconds a hand-over is held before another server may take it over (its server died).
LEASE = 120.0
#: Seconds a resent chunk waits for the request it replaces to end the upload.
RESENT_WAIT = 20.0
#: Seconds a client's start lock is held at most.
START_LEASE = 30.0
#: Seconds between the rewrites of its marker by a request starting an upload, while its chunk
#: arrives; a start whose marker is :data:`STALE` seconds old died with its server.
BEAT = 10.0
STALE = 3 * BEAT
#: Seconds a chunk waits at most for the request starting its upload to record it.
WAIT = 600.0
_MISSING = ("404", "NoSuchKey", "NotFound")
_TAKEN = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
_BAD_PARTS = ("InvalidPart", "InvalidPartOrder")


@dataclass(frozen=True)
class Record:
    """What an upload's first chunk recorded: the declared file, its multipart upload, the
    key it is assembled at, the folder and name held for it there, if any, its nonce (the
    mark on that name, the assembled file's id; "" in a record made before), its expiry,
    the ETag of its placeholder, and the body and ETag of its marker while open."""

    manifest: Manifest
    upload_id: str
    key: str
    folder: Optional[str] = None
    name: Optional[str] = None
    nonce: str = ""
    expires: Optional[float] = None
    held: Optional[str] = None
    marker: str = ""
    marker_etag: Optional[str] = None

    def to_json(self) -> bytes:
        manifest = json.loads(self.manifest.to_json())
        record = {"manifest": manifest, "upload_id": self.upload_id, "key": self.key}
        if self.name is not None:
            record.update(folder=self.folder, name=self.name)
        record.update(nonce=self.nonce)
        for field in ("expires", "held", "marker_etag"):
            if getattr(self, field) is not None:
                record[field] = getattr(self, field)
        if self.marker:
            record.update(marker=self.marker)
        return json.dumps(record).encode()

    @classmethod
    def from_json(cls, text: str) -> "Record":
        record = json.loads(text)
        return cls(
            Manifest(**record["manifest"]),
            record["upload_id"],
            record["key"],
            record.get("folder"),
            record.get("name"),
            str(record.get("nonce", "")),
            record.get("expires"),
            record.get("held"),
            str(record.get("marker", "")),
            record.get("marker_etag"),
        )


def _code(error: BaseException) -> str:
    metadata = getattr(error, "response", {}).get("ResponseMetadata", {})
    return error_code(error) or str(metadata.get("HTTPStatusCode", ""))


class _Start:
    """A start under way in this process: the thread making it, and what it sets once it
    recorded the upload or gave the start up."""

    def __init__(self) -> None:
        self.thread = threading.current_thread()
        self.done = threading.Event()


class S3Partial(Partial):
    """One chunk request's view of its upload. ``record`` is None while another request
    starts the upload (the chunk waits for it once received); ``created``, this request
    starts it, and its chunk goes in before the record does. ``start`` is the start in this
    process that this request makes or waits for (``starting``: makes it, or finds out for
    this process how the start of another server ends)."""

    def __init__(
        self,
        store: "S3Partials",
        base: str,
        chunk: Chunk,
        marker: str,
        record: Optional[Record] = None,
        created: bool = False,
        start: Optional[_Start] = None,
        starting: bool = False,
    ) -> None:
        self.store, self.base, self.chunk, self.marker = store, base, chunk, marker
        self.record = record
        self.manifest = chunk.manifest if record is None else record.manifest
        self.created = created
        self.state: Optional[str] = None
        self.refusal: Optional[int] = None
        self._start = start
        self._starting = created or starting
        self._unrecorded = created  # its record is not written yet
        self._next_beat = time.monotonic() + BEAT
        self._blocks: list[bytes] = []  # the chunk, as it arrived
        self._closed = False
        self._index: Optional[int] = None  #: the chunk this request kept
        self._etag = ""  #: its part's ETag
        self._assembled = False  #: the file was assembled already (a hand-over given back)

    def read_state(self) -> None:
        said_now = self.store.state_of(self.base, self.marker)
        self.state, self.refusal = said_now.state, said_now.refusal

    def write(self, data: bytes, offset: int) -> None:
        self._blocks.append(bytes(data))  # one chunk, sent as one part once it is whole
        if self._unrecorded and time.monotonic() >= self._next_beat:
            self._next_beat = time.monotonic() + BEAT
            self.store.beat(self)

    def mark_received(self, index: int) -> None:
        store = self.store
        if self.record is None:
            store.await_record(self)
            if self.record is None:  # it ended before it was recorded
                self._blocks = []
                return
        while True:
            etag = store.upload_part(self.record, index, self._blocks)
            if etag is None:
                self._gone(index)
                return
            if not self._unrecorded or store.record(self):
                break  # else another request recorded the upload first: the part goes into that one
        self._blocks = []
        self._index, self._etag = index, etag

    def _gone(self, index: int) -> None:
        """The multipart upload is not open: it ended, or its file was assembled, meanwhile."""
        assert self.record is not None
        self._blocks = []
        self.read_state()
        if self.state is not None:
            return
        if not self._unrecorded and self.store.assembled(self.record):
            self._index, self._assembled = index, True
            return
        # Its start was given up or taken for dead, or its record removed (its first chunk
        # failed): what this process remembers of it is stale; the chunk sent again starts afresh.
        if self._unrecorded:
            self.store.give_up(self)
        self.store.forget_record(self.base)
        raise StoreBusy()

    def held(self) -> list[int]:
        if self.record is None:
            return []
        parts = self.store.list_parts(self.record, 0, self.record.manifest.count)
        return sorted(number - 1 for number in latest_parts(parts or ()))

    def release(self) -> None:
        self._blocks = []

    def hand_over(self) -> Optional["S3HandOver"]:
        store, record = self.store, self.record
        if record is None or self._index is None or self.state is not None:
            return None
        if self.created and record.manifest.count > 1 and not self._assembled:
            return None  # its part was in before any other: another chunk's is the last
        parts: Optional[list[dict[str, Any]]] = None
        if not self._assembled:
            if self.created:  # the file's one chunk
                parts = [{"PartNumber": self._index + 1, "ETag": self._etag}]
            else:
                parts = store.whole(record, self._index)
                if parts is None:
                    return None
        if not store.handing(self.base):
            return None  # a request of this process hands it over (this very one, maybe)
        try:
            claim = store.claim(self.base, record, self._index)
            if claim is None:  # a request of another server hands it over, or it ended
                store.handed(self.base)
                return None
            self._assemble(parts, claim)
        except BaseException:  # a claim held stays, as if its server died: a resent chunk takes it
            store.handed(self.base)
            raise
        return S3HandOver(store, self.base, record, claim)

    def _assemble(self, parts: Optional[list[dict[str, Any]]], claim: str) -> None:
        """Complete the file from ``parts`` (none: it was assembled before), holding ``claim``."""
        assert self.record is not None
        try:
            if parts is not None:
                self.store.assemble(self.record, parts)
        except NameLost:  # what took the name stays; the upload ends
            self.store.end(self.base, self.record, EXPIRED, expect=claim)
            raise

    def refuse(self, status: int = 415) -> None:
        if self.record is None:
            self.store.await_record(self)
        if self.record is not None and self.state is None:
            self.store.end(self.base, self.record, REFUSED, status)
            self._unrecorded = False  # refused: nothing of it to give up
            self._finish_start()

    def discard_if_unused(self) -> None:
        if self.created and self._unrecorded and self.record is not None:
            self.store.give_up(self)  # no other chunk can be in: nobody else has its record
        self._finish_start()

    def _finish_start(self) -> None:
        """This request no longer starts the upload: the chunks waiting for it look again."""
        if self._starting and self._start is not None:
            self._starting = False
            self.store.started(self.base, self._start)

    def close(self) -> None:
        self._blocks = []
        self._closed = True
        self._finish_start()

    @property
    def closed(self) -> bool:
        return self._closed


class S3HandOver(HandOver):
    """The assembled file of a chunked upload, lent to the request that completed it."""

    def __init__(self, store: "S3Partials", base: str, record: Record, claim: str) -> None:
        self.store, self.base, self.record = store, base, record
        self.size = record.manifest.total_size
        self.claim = claim  # the ETag of the marker saying this request holds the hand-over
        self.key = record.key  # what the file store publishes from
        #: The folder and name held for the file, where it was assembled: published there, it
        #: is not copied.
        self.reserved = (record.folder, record.name) if record.name is not None else None
        self.in_place = False  # published where it was assembled
        self._reader: Optional[ObjectReader] = None
        self._ended = False

    def open(self) -> IO[bytes]:
        if self._reader is None:
            self._reader = ObjectReader(self.store.files, self.key)
        self._reader.seek(0)
        return self._reader  # type: ignore[return-value]

    def _end(self) -> bool:
        if self._ended:
            return False
        self._ended = True
        self.store.handed(self.base)
        return True

    def commit(self) -> None:
        if self._end():
            own_file = not self.in_place  # stored elsewhere: what was assembled goes
            self.store.end(self.base, self.record, COMPLETE, expect=self.claim, own_file=own_file)

    def refuse(self, status: int) -> None:
        if self._end():
            self.store.end(self.base, self.record, REFUSED, status, self.claim, own_file=True)

    def give_back(self) -> None:
        if self._end():
            # The file stays where it was assembled: a resent chunk hands it over.
            self.store.unclaim(self.base, self.record, self.claim)


class S3Partials(PartialStore):
    """Partial uploads in the bucket of ``files``."""

    def __init__(self, files: S3Files) -> None:
        self.files = files
        self.root = files.own + "chunks/"
        self.unfinished_root = files.own + "pending/"
        self._records: dict[str, Record] = {}  # recent uploads: records never change
        self._starts: dict[str, _Start] = {}  # uploads a thread of this process is starting
        #: Uploads a request of this process hands over (its claim held until its answer): a
        #: chunk that finds one of them whole leaves it to that request, with no request to S3,
        #: and the thread that holds it never waits for its own claim.
        self._handing: set[str] = set()
        self._lock = threading.Lock()
        self._next_look = 0.0  # when this process next asks whether a sweep is due

    # Small object operations ----------------------------------------------------------

    @property
    def client(self) -> Any:
        return self.files.client

    def read(self, key: str) -> Optional[tuple[bytes, str, float]]:
        """The body of ``key``, its ETag and its age in seconds; None if there is none."""
        from botocore.exceptions import ClientError

        try:
            with self.files.errors:
                answer = self.client.get_object(Bucket=self.files.bucket, Key=key)
                body = answer["Body"].read()
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise
        return bytes(body), str(answer["ETag"]), time.time() - answer["LastModified"].timestamp()

    def get_text(self, key: str) -> Optional[str]:
        found = self.read(key)
        return None if found is None else found[0].decode("utf-8", "replace")

    def head(self, key: str) -> Optional[dict[str, Any]]:
        return self.files.head(key)

    def put(
        self,
        key: str,
        body: bytes,
        create_only: bool = False,
        if_match: Optional[str] = None,
        metadata: Optional[dict[str, str]] = None,
    ) -> bool:
        """Write ``key`` (with user ``metadata``: an empty object that says something needs
        no data write); with ``create_only`` or ``if_match``, whether the condition held."""
        return self.write(key, body, create_only, if_match, metadata) is not None

    def write(
        self,
        key: str,
        body: bytes,
        create_only: bool = False,
        if_match: Optional[str] = None,
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
                answer = self.client.put_object(
                    Bucket=self.files.bucket, Key=key, Body=body, **conditions
                )
        except ClientError as error:
            if (create_only or if_match is not None) and _code(error) in _TAKEN + _MISSING:
                return None
            raise
        return str(answer["ETag"])

    def listed(self, prefix: str) -> list[dict[str, Any]]:
        """The objects under ``prefix``, as the listing gives them (key, size, time, ETag)."""
        with self.files.errors:
            listing = self.client.get_paginator("list_objects_v2")
            pages = listing.paginate(Bucket=self.files.bucket, Prefix=prefix)
            return [entry for page in pages for entry in page.get("Contents", ())]

    def keys(self, prefix: str) -> list[str]:
        return [entry["Key"] for entry in self.listed(prefix)]

    def delete_keys(self, keys: list[str]) -> None:
        with self.files.errors:
            for start in range(0, len(keys), 1000):
                batch = [{"Key": key} for key in keys[start : start + 1000]]
                if batch:
                    self.client.delete_objects(
                        Bucket=self.files.bucket, Delete={"Objects": batch, "Quiet": True}
                    )

    def abort(self, key: str, upload_id: Optional[str]) -> None:
        from botocore.exceptions import ClientError

        if upload_id is None:
            return
        try:
            with self.files.errors:
                self.client.abort_multipart_upload(
                    Bucket=self.files.bucket, Key=key, UploadId=upload_id
                )
        except ClientError as error:
            if _code(error) not in ("NoSuchUpload",) + _MISSING:
                raise

    # Parts ------------------------------------------------------------------------------

    def upload_part(self, record: Record, index: int, blocks: list[bytes]) -> Optional[str]:
        """Send chunk ``index`` as its part: its ETag, or None when the upload is not open."""
        from botocore.exceptions import ClientError

        files = self.files
        try:
            with files.errors:
                answer = files.client.upload_part(
                    Bucket=files.bucket,
                    Key=record.key,
                    UploadId=record.upload_id,
                    PartNumber=index + 1,
                    Body=Blocks(blocks),
                )
        except ClientError as error:
            if _code(error) != "NoSuchUpload":
                raise
            return None
        return str(answer["ETag"])

    def list_parts(self, record: Record, after: int, last: int) -> Optional[list[dict[str, Any]]]:
        """The parts listed from number ``after + 1`` until ``last`` is covered (or the
        listing ends), a page of :data:`BLOCK` at a time; None when the upload is not open."""
        from botocore.exceptions import ClientError

        listed: list[dict[str, Any]] = []
        try:
            with self.files.errors:
                while True:
                    page = self.client.list_parts(
                        Bucket=self.files.bucket,
                        Key=record.key,
                        UploadId=record.upload_id,
                        MaxParts=BLOCK,
                        PartNumberMarker=after,
                    )
                    found = page.get("Parts", ())
                    listed.extend(found)
                    after = int(page.get("NextPartNumberMarker") or 0)
                    if not page.get("IsTruncated") or not found or after >= last:
                        return listed
        except ClientError as error:
            if _code(error) in ("NoSuchUpload",) + _MISSING:
                return None
            raise

    def whole(self, record: Record, index: int) -> Optional[list[dict[str, Any]]]:
        """Every part of the file, if the bucket holds them all (the block of chunk
        ``index`` looked at first); else None."""
        manifest = record.manifest
        latest: dict[int, Any] = {}
        for first, last in blocks_from(index + 1, manifest.count):
            listed = self.list_parts(record, first - 1, last)
            block = latest_parts(listed or (), manifest.total_size, manifest.chunk_size)
            if listed is None or missing(block, first, last):
                return None
            latest.update(block)
        numbers = range(1, manifest.count + 1)
        return [{"PartNumber": number, "ETag": latest[number]["ETag"]} for number in numbers]

    def assembled(self, record: Record) -> bool:
        """Whether this upload's file was assembled at its key (not only its name held)."""
        head = self.head(record.key)
        return head is not None and made_for(head, record.nonce)

    def assemble(self, record: Record, parts: list[dict[str, Any]]) -> None:
        """Complete the multipart upload at its key from ``parts``; at the name held for it,
        only while that is its placeholder (else NameLost). A part listed before a copy of
        it was sent again may be refused: then the parts are listed again, once."""
        from botocore.exceptions import ClientError

        files = self.files
        for attempt in range(2):
            try:
                with files.errors:
                    if record.name is None:
                        files.client.complete_multipart_upload(
                            Bucket=files.bucket,
                            Key=record.key,
                            UploadId=record.upload_id,
                            MultipartUpload={"Parts": parts},
                        )
                    else:
                        files.complete_held(
                            record.key, record.nonce, record.upload_id, parts, record.held
                        )
                return
            except ClientError as error:
                if _code(error) == "NoSuchUpload" and self.assembled(record):
                    return  # assembled before: a hand-over given back, or a server that died after
                if _code(error) not in _BAD_PARTS or attempt:
                    raise
                parts = self.whole(record, 0) or parts

    # The marker: open, handed over, ended ---------------------------------------------

    def _marker(self, client: str, upload: str, size: int, expires: Optional[float]) -> str:
        """The open upload's marker: its size for the quota, its expiry for the sweep."""
        name = f"{upload}.{size}"
        if expires is not None:
            name += f".{math.ceil(expires * 1000)}"
        return f"{self.unfinished_root}{client}/{name}"

    def marker_of(self, base: str, record: Record) -> str:
        client, upload = base[len(self.root) :].strip("/").split("/")
        return self._marker(client, upload, record.manifest.total_size, record.expires)

    def state_of(self, base: str, marker: str) -> Said:
        """What the upload's marker says (a late chunk of an upload that ended other than
        complete rewrites it: its record is kept while they come); an upload that has no
        marker ended before markers said so, or is forgotten."""
        found = self.read(marker)
        if found is None:
            legacy = self.get_text(base + "status")  # an upload ended before markers said so
            return said((legacy or "").encode())
        body, etag, _ = found
        now = said(body)
        if now.state in (REFUSED, EXPIRED):
            self.write(marker, body, if_match=etag)
        return now

    def _from_open(self, marker: str, record: Record, body: bytes) -> Optional[str]:
        """Write ``body`` to the marker if the upload is open: the ETag written, or None.
        Conditional on the open marker's ETag as recorded, else as read (a give-back, or a
        server that encrypts with keys of its own, may have written another)."""
        expect = record.marker_etag
        for _ in range(3):
            if expect is None:
                found = self.read(marker)
                if found is None or said(found[0]).state is not None or said(found[0]).handed_over:
                    return None
                expect = found[1]
            etag = self.write(marker, body, if_match=expect)
            if etag is not None:
                return etag
            expect = None
        return None

    def claim(self, base: str, record: Record, index: int) -> Optional[str]:
        """Take the upload's hand-over, for exactly one request: the ETag of the marker
        saying it holds it, or None.

        The chunk whose request holds it may be sent again when that request's server
        died: the resent chunk waits for the holder to end the upload (then it is late),
        and takes the hand-over over if it does not; so does any chunk once the lease ran
        out. Another chunk leaves it to the holder."""
        marker = self.marker_of(base, record)
        body = hand_over_body(new_id(), index, time.time())
        lease = _lease(record)
        deadline = time.monotonic() + min(lease, RESENT_WAIT)
        expect, opened = record.marker_etag, 0  # the open marker's ETag, as recorded
        while True:
            if expect is not None:
                taken = self.write(marker, body, if_match=expect)
                if taken is not None or opened > 2:
                    return taken
            found = self.read(marker)
            if found is None:
                return None
            text, etag, age = found
            now = said(text)
            if now.state is not None:
                return None
            if not now.handed_over:  # open: given back, or rewritten since it was recorded
                expect, opened = etag, opened + 1
                continue
            if age >= lease or (now.holder == index and time.monotonic() >= deadline):
                return self.write(marker, body, if_match=etag)
            if now.holder != index:
                return None
            expect = None
            time.sleep(0.25)

    def handing(self, base: str) -> bool:
        """Whether this request may try to hand ``base`` over: no other of this process does."""
        with self._lock:
            if base in self._handing:
                return False
            self._handing.add(base)
            return True

    def handed(self, base: str) -> None:
        with self._lock:
            self._handing.discard(base)

    def unclaim(self, base: str, record: Record, claim: str) -> None:
        """Give the hand-over back, unless another request took it over meanwhile."""
        self.write(self.marker_of(base, record), record.marker.encode(), if_match=claim)

    def end(
        self,
        base: str,
        record: Record,
        state: str,
        refusal: Optional[int] = None,
        expect: Optional[str] = None,
        own_file: bool = False,
    ) -> bool:
        """End the upload with ``state``, from the hand-over whose marker's ETag is
        ``expect``, else while it is open: its bytes go, and the name held for it while it
        is only held (with ``own_file``, the file assembled there too); its record stays
        for late chunks. Whether it was this call that ended it."""
        marker, body = self.marker_of(base, record), ended_body(state, refusal)
        if expect is not None:
            ended = self.write(marker, body, if_match=expect) is not None
        else:
            ended = self._from_open(marker, record, body) is not None
        if ended:
            self._let_go(base, record, state, own_file)
        return ended

    def _let_go(self, base: str, record: Record, state: str, own_file: bool) -> None:
        """What an ended upload holds goes: its parts unless complete, the name held for it
        while it is only held (with ``own_file``, the file assembled there)."""
        if state != COMPLETE:
            self.abort(record.key, record.upload_id)
        if state == COMPLETE and not own_file:
            return
        if record.name is not None:
            etag = None if own_file else record.held  # a placeholder's own ETag: no HEAD first
            self.files.drop_held(record.key, record.nonce, own=own_file, etag=etag)
        else:
            self.delete_keys([record.key])

    # Starting an upload ---------------------------------------------------------------

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
        the first chunk hold that name (an object created only if the name is free) and
        assemble the file there: published under it, it is not copied."""
        if chunk.manifest.count > MAX_PARTS:
            raise BadChunk(f"A file is at most {MAX_PARTS} chunks here; send larger chunks.")
        base = self._base(client, chunk)
        marker = self._marker(client, chunk.uuid, chunk.manifest.total_size, expires)
        with self._lock:
            record, start = self._records.get(base), self._starts.get(base)
            starting = record is None and start is None
            if starting:
                start = self._starts[base] = _Start()
        if record is not None:
            return self._joined(base, chunk, record)
        assert start is not None
        if not starting:
            if start.thread is threading.current_thread():
                raise StoreBusy()  # this very request starts it (a second part of one request)
            return S3Partial(self, base, chunk, marker, start=start)
        partial = None
        try:
            limits = (quota, unfinished)
            partial = self._begin(client, chunk, base, marker, limits, destination, expires, start)
            return partial
        finally:
            if partial is None or not partial._starting:
                self.started(base, start)

    def _joined(self, base: str, chunk: Chunk, record: Record) -> S3Partial:
        check_same_upload(record.manifest, chunk)
        partial = S3Partial(self, base, chunk, self.marker_of(base, record), record)
        if chunk.index == 0:
            partial.read_state()  # chunk 0 is judged again: a refused upload says so at once
        return partial

    def _begin(
        self,
        client: str,
        chunk: Chunk,
        base: str,
        marker: str,
        limits: tuple[Optional[int], Optional[int]],
        destination: Optional[tuple[str, str]],
        expires: Optional[float],
        start: _Start,
    ) -> S3Partial:
        """Start the upload (its marker, the quota, the name held, the multipart upload), or
        find it started: by its record, or, while the request starting it has not recorded
        it, as a chunk that waits for the record once it is received."""
        nonce = new_id()
        body = open_body(nonce, chunk.index, time.time(), *(destination or (None, None)))
        etag = self.write(marker, body, create_only=True)
        if etag is None:
            record = self._read_record(base)
            if record is None:  # another server starts it: this request finds out for this one
                return S3Partial(self, base, chunk, marker, start=start, starting=True)
            self._remember(base, record)
            return self._joined(base, chunk, record)
        self._check_room(client, (marker, etag), chunk.manifest.total_size, *limits)
        try:
            record = self._create(chunk, base, destination, expires, nonce)
        except BaseException:
            self.files.delete_matching(marker, etag)
            raise
        record = replace(record, marker=body.decode(), marker_etag=etag)
        return S3Partial(self, base, chunk, marker, record, created=True, start=start)

    def _check_room(
        self,
        client: str,
        marker: tuple[str, str],
        size: int,
        quota: Optional[int],
        unfinished: Optional[int],
    ) -> None:
        """QuotaExceeded if the client's other unfinished uploads leave no room for this one
        (see the module's docstring), its ``marker`` (key, ETag) removed: counted from the
        listing made after the marker was written, and again under the client's start lock
        if that puts it over a limit."""
        if quota is None and unfinished is None:
            return
        try:
            held, count, locked = self._others(client, marker[0])
            if not locked:
                try:
                    check_room(held, count, size, quota, unfinished)
                    return
                except QuotaExceeded:
                    pass
            lock = self.start_lock_key(client)
            taken = self.take_start_lock(lock)
        except BaseException:
            self.files.delete_matching(*marker)
            raise
        try:
            held, count, _ = self._others(client, marker[0])
            check_room(held, count, size, quota, unfinished)
        except BaseException:
            self.files.delete_matching(*marker)  # before the lock goes: no start counts it after
            raise
        finally:
            self.unlock(lock, taken)

    def _others(self, client: str, own: str) -> tuple[int, int, bool]:
        """The declared bytes and the number of the client's unfinished uploads but ``own``
        (a marker), and whether its start lock is taken."""
        entries = self.listed(f"{self.unfinished_root}{client}/")
        held, count = _tally(entry for entry in entries if entry["Key"] != own)
        return held, count, any(entry["Key"].endswith("/.lock") for entry in entries)

    def start_lock_key(self, client: str) -> str:
        """The client's start lock, which chunked and direct uploads take alike."""
        return f"{self.unfinished_root}{client}/.lock"

    def take_start_lock(self, lock: str) -> str:
        """The client's start lock taken (its ETag), waiting for it a while; else StoreBusy."""
        for _ in range(200):  # the client's start lock: quota checks of one client in turn
            held = self.claim_start(lock)
            if held:
                return held
            time.sleep(0.05)
        raise StoreBusy()

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

    def _create(
        self,
        chunk: Chunk,
        base: str,
        destination: Optional[tuple[str, str]],
        expires: Optional[float],
        nonce: str,
    ) -> Record:
        """The multipart upload, at a free name held for it in ``destination``, else in ``base``."""
        key, folder, name, held = base + "data", None, None, None
        files = self.files
        if destination is not None:
            for candidate in candidates(destination[1]):
                held = files.hold(destination[0] + candidate, nonce, own_etag=True)
                if held is not None:
                    key, folder, name = destination[0] + candidate, destination[0], destination[1]
                    break
        try:
            with files.errors:
                made = files.client.create_multipart_upload(
                    Bucket=files.bucket, Key=key, Metadata={ID: nonce}
                )
        except BaseException:
            if held is not None:
                files.delete_matching(key, held)
            raise
        return Record(chunk.manifest, made["UploadId"], key, folder, name, nonce, expires, held)

    def beat(self, partial: S3Partial) -> None:
        """Rewrite the marker of the start ``partial`` makes, to say it is alive."""
        record = partial.record
        if record is None:
            return
        start = started(record.marker.encode())
        at = time.time()
        body = open_body(start["nonce"], start["index"], at, start.get("folder"), start.get("name"))
        etag = self.write(partial.marker, body, if_match=record.marker_etag)
        if etag is not None:
            partial.record = replace(record, marker=body.decode(), marker_etag=etag)

    def record(self, partial: S3Partial) -> bool:
        """Record the upload ``partial`` started, now that its chunk is in; False when another
        request recorded it first (it took this start for dead): ``partial`` joins that one,
        and what this start held goes."""
        record, base = partial.record, partial.base
        assert record is not None
        won = self.write(base + "manifest", record.to_json(), create_only=True) is not None
        if not won:
            self._let_go(base, record, EXPIRED, own_file=False)
            found = self._read_record(base)
            if found is None:
                raise StoreBusy()
            own_marker = partial.marker
            self._adopt(partial, found)
            if partial.marker != own_marker and record.marker_etag is not None:
                # It started with another expiry: its marker is not the upload's.
                self.files.delete_matching(own_marker, record.marker_etag)
            partial.created, record = False, found
        self._remember(base, record)
        partial._unrecorded = False
        partial._finish_start()
        return won

    def give_up(self, partial: S3Partial) -> None:
        """Remove the start ``partial`` made, its chunk never kept."""
        record = partial.record
        assert record is not None
        self._let_go(partial.base, record, EXPIRED, own_file=False)
        if record.marker_etag is not None:
            self.files.delete_matching(partial.marker, record.marker_etag)

    def started(self, base: str, start: _Start) -> None:
        with self._lock:
            if self._starts.get(base) is start:
                del self._starts[base]
        start.done.set()

    def await_record(self, partial: S3Partial) -> None:
        """Wait for the record of the upload another request is starting, or learn that the
        upload ended before it was recorded (``partial.state``). StoreBusy when the start
        was given up or died (the chunk sent again starts it)."""
        start, base = partial._start, partial.base
        if start is not None and not partial._starting:  # another thread of this process has it
            until = time.monotonic() + WAIT
            while not start.done.wait(1.0) and start.thread.is_alive() and time.monotonic() < until:
                pass
            record = self._records.get(base)
            if record is not None:
                self._adopt(partial, record)
                return
        try:
            self._poll_record(partial)
        finally:
            partial._finish_start()  # the threads of this process waiting with it look now

    def _poll_record(self, partial: S3Partial) -> None:
        base, pause, until = partial.base, 0.1, time.monotonic() + WAIT
        # The marker tells a start given up, ended, or dead: read at once when the start this
        # request waited for in this process ended without a record, else after a second.
        waited = partial._start is not None and not partial._starting
        look = time.monotonic() + (0.0 if waited else 1.0)
        while True:
            record = self._read_record(base)
            if record is not None:
                self._remember(base, record)
                self._adopt(partial, record)
                return
            if time.monotonic() >= look:  # the marker: given up, ended, or dead?
                look = time.monotonic() + 2.0
                found = self.read(partial.marker)
                if found is None:
                    raise StoreBusy()
                now = said(found[0])
                if now.state is not None:
                    partial.state, partial.refusal = now.state, now.refusal
                    return
                if found[2] > STALE:
                    self._drop_start(base, partial.marker, found[0], found[1])
                    raise StoreBusy()
            if time.monotonic() >= until:
                raise StoreBusy()
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _adopt(self, partial: S3Partial, record: Record) -> None:
        check_same_upload(record.manifest, partial.chunk)
        partial.record, partial.manifest = record, record.manifest
        partial.marker = self.marker_of(partial.base, record)

    def _drop_start(self, base: str, marker: str, body: bytes, etag: str) -> bool:
        """Remove a start that was never recorded (its request died, or was cancelled) and
        what it held: its marker (conditional on ``etag``), the name it held (found by its
        nonce) and its multipart upload. Whether it was this call that removed it."""
        if not self.files.delete_matching(marker, etag):
            return False
        start = started(body)
        key = self._held_by_start(start) if start.get("name") else base + "data"
        if key is not None:
            self._abort_all(key)
            if start.get("name"):
                self.files.drop_held(key, str(start.get("nonce", "")))
        return True

    def _held_by_start(self, start: dict[str, Any]) -> Optional[str]:
        """The name a start held (the first free variant of its name when it started), found
        among the placeholders of its folder by its nonce."""
        folder, name = str(start.get("folder") or ""), str(start["name"])
        nonce = str(start.get("nonce", ""))
        stem = numbered(name, 0).rpartition(".")[0] or name
        for entry in self.listed(folder + stem):
            if int(entry.get("Size", -1)) in PLACEHOLDER_SIZES:
                head = self.head(entry["Key"])
                if head is not None and held_by(head, nonce):
                    return str(entry["Key"])
        return None

    def _abort_all(self, key: str) -> None:
        with self.files.errors:
            found = self.client.list_multipart_uploads(Bucket=self.files.bucket, Prefix=key)
            uploads = found.get("Uploads", ())
        for upload in uploads:
            if upload["Key"] == key:
                self.abort(key, upload["UploadId"])

    # Records --------------------------------------------------------------------------

    def _read_record(self, base: str) -> Optional[Record]:
        text = self.get_text(base + "manifest")
        return None if text is None else Record.from_json(text)

    def _remember(self, base: str, record: Record) -> None:
        with self._lock:
            if len(self._records) > 1024:
                self._records.clear()
            self._records[base] = record

    def _known(self, base: str) -> Optional[Record]:
        record = self._records.get(base) or self._read_record(base)
        if record is not None:
            self._remember(base, record)
        return record

    def forget_record(self, base: str) -> None:
        self._records.pop(base, None)

    # What the endpoints ask -----------------------------------------------------------

    def held_chunks(self, client: str, upload: str) -> Optional[tuple[Manifest, list[int]]]:
        if not (CLIENT_NAME.fullmatch(client) and UPLOAD_NAME.fullmatch(upload)):
            return None
        record = self._known(f"{self.root}{client}/{upload}/")
        if record is None:
            return None
        parts = self.list_parts(record, 0, record.manifest.count)
        if parts is None:  # complete, refused or expired
            return None
        return record.manifest, sorted(number - 1 for number in latest_parts(parts))

    def cancel(self, client: str, upload: str) -> bool:
        if not (CLIENT_NAME.fullmatch(client) and UPLOAD_NAME.fullmatch(upload)):
            return False
        base = f"{self.root}{client}/{upload}/"
        record = self._known(base)
        if record is None:  # not recorded (yet): a start whose request was left, or is under way
            return self._cancel_start(client, upload, base)
        # A hand-over under way is left to end the upload: the file may be published there.
        ended = self.end(base, record, EXPIRED)
        self.forget_record(base)
        return ended

    def _cancel_start(self, client: str, upload: str, base: str) -> bool:
        for entry in self.listed(f"{self.unfinished_root}{client}/{upload}."):
            found = self.read(entry["Key"])
            now = said(found[0]) if found is not None else None
            if found is not None and now is not None and now.state is None and not now.handed_over:
                if self._drop_start(base, entry["Key"], found[0], found[1]):
                    # Its late chunks are answered 410.
                    self.write(entry["Key"], ended_body(EXPIRED), create_only=True)
                    return True
        return False

    def unfinished(self, client: str) -> tuple[int, int]:
        """The declared bytes and the number of the client's unfinished uploads, chunked and
        direct, from their markers (``<id>.<size>[.<expiry>]``)."""
        return _tally(self.listed(f"{self.unfinished_root}{client}/"))

    # The sweep ------------------------------------------------------------------------

    def clean(self, expires: float, now: Optional[float] = None) -> CleanReport:
        """Expire each open upload idle for longer than the expiry its marker names (else
        ``expires``), and forget an ended one's marker and record once idle for its lifetime."""
        now = time.time() if now is None else now
        report = CleanReport()
        uploads: dict[str, list[dict[str, Any]]] = {}  # records (and what older versions left)
        for entry in self.listed(self.root):
            rest = entry["Key"][len(self.root) :].split("/")
            if len(rest) >= 3:
                uploads.setdefault(f"{self.root}{rest[0]}/{rest[1]}/", []).append(entry)
        gone: list[str] = []
        for entry in self.listed(self.unfinished_root):
            client, _, name = entry["Key"][len(self.unfinished_root) :].rpartition("/")
            upload, _, rest = name.partition(".")
            size, _, expiry = rest.partition(".")
            if not (UPLOAD_NAME.fullmatch(upload) and size.isdigit()):
                continue  # a direct upload's marker, or the start lock
            base = f"{self.root}{client}/{upload}/"
            kept = int(expiry) / 1000 if expiry.isdigit() else expires
            idle = now - entry["LastModified"].timestamp()
            state = listed_state(int(entry.get("Size", 0)))
            if state is None:
                uploads.pop(base, None)
                if idle > kept:
                    self._expire(base, entry, kept, now, report)
            elif idle > record_lifetime(state, kept):
                if state != COMPLETE:  # what a start cancelled as it began may still hold
                    self._let_go_of(base)
                gone += [entry["Key"], *(each["Key"] for each in uploads.pop(base, []))]
                report.records += 1
            else:
                uploads.pop(base, None)
        for base, entries in uploads.items():  # no marker: ended before markers said so
            last = max(each["LastModified"].timestamp() for each in entries)
            if now - last > max(expires, TOMBSTONE):
                self._let_go_of(base)
                gone += [each["Key"] for each in entries]
                report.records += 1
        self.delete_keys(gone)
        for base in {key[: key.rindex("/") + 1] for key in gone if key.startswith(self.root)}:
            self.forget_record(base)
        return report

    def _let_go_of(self, base: str) -> None:
        record = self._read_record(base)
        if record is not None:
            self._let_go(base, record, EXPIRED, own_file=False)

    def _expire(
        self, base: str, entry: dict[str, Any], kept: float, now: float, report: CleanReport
    ) -> None:
        """Expire the open upload of the marker ``entry`` if idle for longer than ``kept``
        seconds (its last part, or its marker, counts), unless a hand-over holds it."""
        marker = entry["Key"]
        record = self._known(base)
        if record is None:  # a start never recorded: its request died
            found = self.read(marker)
            if found is not None and found[2] > STALE:
                report.partial_uploads += self._drop_start(base, marker, found[0], found[1])
            return
        if marker != self.marker_of(base, record):  # a start with another expiry, that joined it
            self.files.delete_matching(marker, entry["ETag"])
            return
        parts = latest_parts(self.list_parts(record, 0, record.manifest.count) or ())
        times = [part["LastModified"].timestamp() for part in parts.values()]
        if now - max(times + [entry["LastModified"].timestamp()]) <= kept:
            return
        found = self.read(marker)
        if found is None or said(found[0]).state is not None:
            return
        if said(found[0]).handed_over and found[2] < _lease(record):
            return  # its request publishes the file, and ends the upload
        if self.end(base, record, EXPIRED, expect=found[1]):
            report.partial_uploads += 1
            report.freed += sum(int(part.get("Size", 0)) for part in parts.values())
            self.forget_record(base)

    def part_bytes(self, key: str, upload_id: str) -> int:
        """The bytes an open multipart upload holds in its parts (0 once it is not open): what
        aborting it gives back."""
        from botocore.exceptions import ClientError

        try:
            with self.files.errors:
                pages = self.client.get_paginator("list_parts").paginate(
                    Bucket=self.files.bucket, Key=key, UploadId=upload_id
                )
                parts = (part for page in pages for part in page.get("Parts", ()))
                return sum(int(part.get("Size", 0)) for part in parts)
        except ClientError as error:
            if _code(error) in ("NoSuchUpload",) + _MISSING:
                return 0
            raise

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


def _lease(record: Record) -> float:
    """Seconds a hand-over of this upload is held before another request may take it over:
    time to publish the file, too."""
    return LEASE + record.manifest.total_size / (50 * 1024 * 1024)


def _tally(entries: Any) -> tuple[int, int]:
    """The declared bytes and the number of the unfinished uploads whose markers are among
    the listed ``entries`` (an ended chunked upload's marker is a short word)."""
    total = count = 0
    for entry in entries:
        parts = entry["Key"].rsplit("/", 1)[-1].split(".")
        if len(parts) < 2 or not parts[1].isdigit():
            continue
        if UPLOAD_NAME.fullmatch(parts[0]) and not listed_open(int(entry.get("Size", 0))):
            continue
        total, count = total + int(parts[1]), count + 1
    return total, count
