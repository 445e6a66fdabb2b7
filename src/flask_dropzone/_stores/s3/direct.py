"""Direct uploads' S3 calls (``DROPZONE_S3_DIRECT``): the multipart upload a browser
sends parts into through presigned URLs, and what the server does with it.

Objects of one upload, under the app's ``DROPZONE_S3_PREFIX`` (``<base>`` is
``.dropzone-direct/<client>/<32 hex>``)::

    <folder><name>                 the name held for the file (a placeholder naming the
                                   upload's nonce, the 32 hex of its base, as chunked
                                   uploads hold theirs), and the multipart upload that
                                   becomes the file there, only while the name is still
                                   its placeholder; ``<base>.file`` instead when the name
                                   is a function of the whole file
    <base>                         the file's first part, which the browser PUTs as an
                                   object of its own, so that it can be judged before
                                   the file exists
    <base>.first                   the server's copy of it, judged and then copied into
                                   the multipart upload as its part 1: what the browser
                                   sends after that changes nothing
    <base>.claim                   the completion, created once: a request that finds it
                                   taken answers 404; it says ``ended`` once its holder
                                   ended the upload (stored, refused, aborted), until the
                                   sweep. Each claim's body is a nonce: a take-over (an
                                   overwrite conditional on the ETag read) and the end
                                   (conditional on the holder's own claim) are
                                   compare-and-swaps
    _dropzone/pending/<client>/<32 hex>.<size>
                                   while it is open, for the client's quota (shared with
                                   chunked uploads); it names the multipart upload's key,
                                   for the sweep

The other small objects are empty and say what they say in their metadata. Nothing
that ends an upload removes a file completed at its name but the request that
completed it (a file whose parts made another size than declared).

So the file is judged (every part there with its exact size, then its first bytes)
before the multipart upload is completed, and completed where it is stored: no copy
of the whole file, and no refused file ever under a name.
"""

from __future__ import annotations

import logging
import secrets
import time
from functools import wraps
from typing import IO, Any, Callable, Iterable, Optional, TypeVar, cast
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ..._rules.direct import Ticket
from ..._rules.parts import part_length, part_lengths
from ..base import (
    DirectStore,
    PartsRejected,
    Stored,
    StoreUnavailable,
    UploadGone,
    check_room,
)
from ..names import candidates
from .files import DIRECT, PART_SIZE, ObjectReader, S3Files, error_code
from .marks import ID, STRIPPED, held_by, made_for, new_id
from .partials import S3Partials

log = logging.getLogger("flask_dropzone")

#: What a multipart upload that was completed, aborted or never made answers.
_GONE = ("NoSuchUpload",)
#: What a missing object answers.
_MISSING = ("404", "NoSuchKey", "NotFound")
#: Seconds a completion is held before another request may take it over (its request died),
#: and the bytes per second a server-side copy is expected to make at least.
CLAIM_LEASE = 120.0
COPY_RATE = 50 * 1024 * 1024
#: Parts asked for per ListParts request (S3's most is 1,000).
LIST_PAGE = 1000
#: The metadata of a claim whose upload ended, and of a quota marker, the upload's key.
_STATE, _ENDED, _KEY = "fdz-state", "ended", "fdz-key"
#: S3's refusals of the parts a completion names.
_BAD_PARTS = ("InvalidPart", "InvalidPartOrder", "EntityTooSmall")

_Method = TypeVar("_Method", bound=Callable[..., Any])


class _Errors:
    """The store's errors (:class:`~.files.S3Errors`: an unusable bucket is StoreUnavailable),
    then the answers a direct upload expects; any other error of S3 is StoreUnavailable
    too, so that a request never fails with a 500 for what S3 said."""

    def __init__(self, files: S3Files) -> None:
        self.files = files

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Optional[BaseException], traceback: Any) -> None:
        if error is None:
            return
        self.files.errors.__exit__(kind, error, traceback)  # raises the store's own errors
        from botocore.exceptions import ClientError

        if isinstance(error, ClientError):
            code = error_code(error)
            if code in _GONE or code in _MISSING:
                raise UploadGone(code) from error
            if code in _BAD_PARTS:
                raise PartsRejected(code) from error
            raise StoreUnavailable(f"bucket {self.files.bucket!r}: {code}: {error}") from error


def _translated(method: _Method) -> _Method:
    """A method of the interface: every S3 call under it reaches the caller as the
    interface's errors (:class:`_Errors`), never as botocore's."""

    @wraps(method)
    def translated(self: "S3Direct", *args: Any, **kwargs: Any) -> Any:
        with self.errors:
            return method(self, *args, **kwargs)

    return cast(_Method, translated)


class _Reader(ObjectReader):
    """A completed file's bytes, what S3 answers translated as for every other call."""

    def __init__(self, direct: "S3Direct", key: str) -> None:
        super().__init__(direct.files, key)
        self.errors = direct.errors

    def _get(self, byte_range: str) -> Any:
        with self.errors:
            return super()._get(byte_range)


class S3Direct(DirectStore):
    """Direct uploads into the bucket of ``files``; ``partials`` keeps each client's quota."""

    files: S3Files

    def __init__(self, files: S3Files, partials: S3Partials) -> None:
        self.files, self.partials = files, partials
        self.root = files.prefix + DIRECT
        self.errors = _Errors(files)

    @property
    def client(self) -> Any:
        return self.files.client

    @property
    def bucket(self) -> str:
        return self.files.bucket

    def _marker(self, base: str, client: str, size: int) -> str:
        return f"{self.partials.unfinished_root}{client}/{base.rsplit('/', 1)[1]}.{size}"

    # The upload's life ----------------------------------------------------------------

    @_translated
    def start(
        self,
        client: str,
        size: int,
        quota: Optional[int],
        place: Optional[tuple[str, str]],
        unfinished: Optional[int] = None,
    ) -> tuple[str, str, Optional[str], str]:
        """Create the multipart upload: at the first free variant of ``place`` (folder,
        name), held for it by an empty object, or at ``<base>.file`` without one. Under the
        client's start lock (the one chunked uploads take), so that simultaneous starts
        cannot pass the ``quota`` or the ``unfinished`` uploads together: QuotaExceeded, or
        StoreBusy when the lock stays taken."""
        partials = self.partials
        base = f"{self.root}{client}/{secrets.token_hex(16)}"
        lock = partials.start_lock_key(client)
        held = partials.take_start_lock(lock)
        try:
            check_room(*partials.unfinished(client), size, quota, unfinished)
            key, name = base + ".file", None
            if place is not None:
                key, name = self._hold(base, *place)
            marker = self._marker(base, client, size)
            try:
                partials.put(
                    marker, b"", metadata={_KEY: quote(key)}
                )  # first: the sweep finds it all
                made = self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=key, Metadata={ID: _nonce(base)}
                )
            except BaseException:
                if name is not None:
                    self.files.drop_held(key, _nonce(base))
                partials.delete_keys([marker])
                raise
            return base, key, name, str(made["UploadId"])
        finally:
            partials.unlock(lock, held)

    def _hold(self, base: str, folder: str, name: str) -> tuple[str, str]:
        for candidate in candidates(name):
            if self.files.hold(folder + candidate, _nonce(base)):
                return folder + candidate, candidate
        raise StoreUnavailable(f"no free name for {name!r} under {folder!r}")

    @_translated
    def part_urls(self, ticket: Ticket, expires: int) -> list[str]:
        """The first part PUT at ``<base>``, an object of its own (judged before the file
        exists), the others as parts 2 and on of the multipart upload (SigV4 query
        signing: no request is made)."""
        first, *others = part_lengths(ticket.size, ticket.part_size)
        bucket = self.bucket
        params: dict[str, Any] = {"Bucket": bucket, "Key": ticket.base, "ContentLength": first}
        urls = [self._presign("put_object", params, expires)]
        for number, length in enumerate(others, 2):
            params = {
                "Bucket": bucket,
                "Key": ticket.key,
                "UploadId": ticket.upload_id,
                "PartNumber": number,
                "ContentLength": length,
            }
            urls.append(self._presign("upload_part", params, expires))
        return urls

    def _presign(self, operation: str, params: dict[str, Any], expires: int) -> str:
        """Its signed headers must include ``content-length``, else a holder could send a
        part of any size: a signer that leaves it out is refused (StoreUnavailable)."""
        url = str(self.client.generate_presigned_url(operation, Params=params, ExpiresIn=expires))
        signed = parse_qs(urlsplit(url).query).get("X-Amz-SignedHeaders", [""])[0].split(";")
        if "content-length" not in signed:
            raise StoreUnavailable(
                "presigned part URLs do not sign Content-Length (is the client SigV4?)"
            )
        return url

    @_translated
    def parts(self, ticket: Ticket) -> list[dict[str, Any]]:
        """Every part listed, all pages, and the first part (the object at ``base``) as
        part 1."""
        pages = self.client.get_paginator("list_parts").paginate(
            Bucket=self.bucket,
            Key=ticket.key,
            UploadId=ticket.upload_id,
            PaginationConfig={"PageSize": LIST_PAGE},
        )
        every = (dict(part) for page in pages for part in page.get("Parts", ()))
        listed = [part for part in every if part.get("PartNumber") != 1]
        first = self.partials.head(ticket.base)
        if first is not None:
            listed.append(
                {"PartNumber": 1, "Size": int(first["ContentLength"]), "ETag": first["ETag"]}
            )
        return listed

    @_translated
    def take_first_part(self, ticket: Ticket, length: int) -> tuple[bytes, int]:
        """The copy is ``<base>.first``, which :meth:`join` makes part 1."""
        self._copy_first(ticket.base)
        declared = part_length(1, ticket.size, ticket.part_size)
        return self._read_head(ticket.base + ".first", declared, length)

    def _copy_first(self, base: str) -> None:
        self.client.copy_object(
            Bucket=self.bucket, Key=base + ".first", CopySource={"Bucket": self.bucket, "Key": base}
        )

    @_translated
    def completed_head(self, ticket: Ticket, length: int) -> tuple[bytes, int]:
        """The file at the upload's key, if the upload completed it (its id is the upload's
        nonce), not another stored there since."""
        head = self.partials.head(ticket.key)
        if head is None or not made_for(head, _nonce(ticket.base)):
            raise UploadGone(ticket.key)
        first, size = self._read_head(ticket.key, ticket.size, length)
        completed = (head.get("Metadata") or {}).get(STRIPPED)  # rewritten since: as completed
        return first, int(completed) if completed and completed.isdigit() else size

    @_translated
    def join(self, ticket: Ticket, parts: list[dict[str, Any]]) -> int:
        """Copy ``<base>.first`` in as part 1, then complete the upload: at a name held for
        it only while that is still its placeholder (else NameLost)."""
        base, key, upload_id = ticket.base, ticket.key, ticket.upload_id
        copied = self.client.upload_part_copy(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=1,
            CopySource={"Bucket": self.bucket, "Key": base + ".first"},
        )
        every = [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}, *parts]
        if key == base + ".file":
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": every}
            )
        else:
            self.files.complete_held(key, _nonce(base), upload_id, every)
        return self._size(key) or 0

    def _abort(self, key: str, upload_id: str) -> None:
        """Abort the multipart upload (its parts go); nothing to do when it is not open."""
        try:
            with self.errors:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except UploadGone:
            pass

    @_translated
    def reader(self, ticket: Ticket) -> IO[bytes]:
        return _Reader(self, ticket.key)  # type: ignore[return-value]

    def _size(self, key: str) -> Optional[int]:
        """The size of the object ``key``, None if there is none."""
        head = self.partials.head(key)
        return None if head is None else int(head["ContentLength"])

    def _read_head(self, key: str, size: int, length: int) -> tuple[bytes, int]:
        """The first ``length`` bytes of the object ``key``, and its whole size (one ranged
        GET; a HEAD for an object declared empty, whose range would not be satisfiable)."""
        if size == 0:
            found = self._size(key)
            if found is None:
                raise UploadGone(key)
            return b"", found
        answer = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")
        head = bytes(answer["Body"].read())
        whole = str(answer.get("ContentRange") or "").rpartition("/")[2]
        return head, int(whole) if whole.isdigit() else int(answer.get("ContentLength", len(head)))

    @_translated
    def claim(self, ticket: Ticket) -> Optional[str]:
        return self._claim(ticket.base, ticket.size)

    def _claim(self, base: str, size: int) -> Optional[str]:
        """Take the completion of the upload at ``base`` (``size`` bytes), for exactly one
        request at a time: the ETag of its claim (a create-only object), or None. A claim
        older than its lease (its request died) is taken over, by an overwrite conditional
        on its ETag; one that says the upload ended never is."""
        partials, key = self.partials, base + ".claim"
        etag = partials.write(key, new_id().encode(), create_only=True)
        if etag is not None:
            return etag
        held = partials.head(key)
        if held is None:
            return partials.write(key, new_id().encode(), create_only=True)  # released meanwhile
        lease = CLAIM_LEASE + size / COPY_RATE
        if _says_ended(held) or time.time() - held["LastModified"].timestamp() < lease:
            return None
        return partials.write(key, new_id().encode(), if_match=held["ETag"])

    @_translated
    def ended(self, ticket: Ticket) -> bool:
        return self._ended(ticket.base)

    def _ended(self, base: str) -> bool:
        held = self.partials.head(base + ".claim")
        return held is not None and _says_ended(held)

    @_translated
    def release(self, ticket: Ticket, claim: str) -> None:
        """Deleted only while it is still ``claim``: never a claim that took it over."""
        self.files.delete_matching(ticket.base + ".claim", claim)

    @_translated
    def finish(self, ticket: Ticket, claim: str) -> bool:
        """What stays is the file: the name held, else the copy :meth:`publish` made (the
        upload's own key goes)."""
        discard = None if ticket.name else ticket.key
        return self._end(ticket.base, ticket.client, ticket.size, discard=discard, claim=claim)

    @_translated
    def discard(self, ticket: Ticket, claim: Optional[str] = None, own_file: bool = False) -> None:
        self._abort(ticket.key, ticket.upload_id)
        base, key = ticket.base, ticket.key
        self._end(base, ticket.client, ticket.size, discard=key, claim=claim, own_file=own_file)

    def _end(
        self,
        base: str,
        client: str,
        size: int,
        discard: Optional[str] = None,
        claim: Optional[str] = None,
        own_file: bool = False,
    ) -> bool:
        """Mark the upload ended, if ``claim`` (the ETag of the caller's claim; None: no
        claim was made yet) is still its claim: whether it was. The ended claim stays, so
        that a request sent again finds it; then what is left of the upload goes: the key
        ``discard`` (the name held for a file not stored, only while it is the upload's
        placeholder or, with ``own_file``, the file it completed there; or the file a
        function named), the first part, its copy, the quota marker."""
        partials = self.partials
        condition: dict[str, Any] = {"create_only": True} if claim is None else {"if_match": claim}
        if not partials.put(
            base + ".claim", new_id().encode(), metadata={_STATE: _ENDED}, **condition
        ):
            return False  # taken over: the request that holds it ends it
        if discard == base + ".file":
            partials.delete_keys([discard])
        elif discard:
            self.files.drop_held(discard, _nonce(base), own=own_file)
        partials.delete_keys([base, base + ".first"])
        partials.delete_keys([self._marker(base, client, size)])
        return True

    @_translated
    def rewrite(self, ticket: Ticket, pieces: Iterable[bytes]) -> int:
        """A multipart upload at the file's key, fed part by part as ``pieces`` come (the
        file is read while it is written: the new one exists only once completed), with the
        file's metadata (its upload's nonce), completed only while the key is still that
        file (If-Match on its ETag). A file rewritten already (its completion sent again) is
        left as it is: its size."""
        key = ticket.key
        head = self.partials.head(key)
        if head is None:
            raise UploadGone(key)
        metadata = {**(head.get("Metadata") or {})}
        if STRIPPED in metadata:
            return int(head["ContentLength"])
        metadata[STRIPPED] = str(ticket.size)
        upload_id = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, Metadata=metadata
        )["UploadId"]
        try:
            size, parts = self._rewrite_parts(key, upload_id, pieces)
            # only while the key is still the file read (If-Match on its ETag), else NameLost
            self.files.complete_held(key, _nonce(ticket.base), upload_id, parts, head["ETag"])
        except BaseException:
            self._abort(key, upload_id)
            raise
        return size

    def _rewrite_parts(
        self, key: str, upload_id: str, pieces: Iterable[bytes]
    ) -> tuple[int, list[dict[str, Any]]]:
        """Upload ``pieces`` as parts of ``PART_SIZE`` (the last one shorter): their size and
        the parts."""
        parts: list[dict[str, Any]] = []
        block, size = bytearray(), 0

        def send(body: bytes) -> None:
            number = len(parts) + 1
            answer = self.client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})

        for piece in pieces:
            block += piece
            size += len(piece)
            while len(block) >= PART_SIZE:
                send(bytes(block[:PART_SIZE]))
                del block[:PART_SIZE]
        send(bytes(block))
        return size, parts

    @_translated
    def publish(self, ticket: Ticket, name: Optional[str] = None) -> Stored:
        """A copy is create-only: it never replaces a file."""
        if name is None:  # completed at the name held for it
            return Stored(ticket.name, location=ticket.key)
        return self.files.publish_key(ticket.key, ticket.folder, name, ticket.size)

    # The sweep ------------------------------------------------------------------------

    @_translated
    def clean(self, expires: float, now: Optional[float] = None) -> tuple[int, int]:
        """Abort direct uploads started more than ``expires`` seconds ago, free the names
        held for them, and remove what is left of them; (uploads aborted, bytes freed)."""
        cutoff = (time.time() if now is None else now) - expires
        aborted = freed = 0
        partials = self.partials
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=partials.unfinished_root
        )
        markers = [
            entry
            for page in pages
            for entry in page.get("Contents", ())
            if _direct_marker(entry["Key"]) and entry["LastModified"].timestamp() < cutoff
        ]
        for entry in markers:
            ended, freeing = self._clean_upload(entry["Key"])
            aborted, freed = aborted + ended, freed + freeing
        old = []
        listing = self.client.get_paginator("list_objects_v2")
        pages = listing.paginate(Bucket=self.bucket, Prefix=self.root)
        for page in pages:
            for entry in page.get("Contents", ()):
                if entry["LastModified"].timestamp() < cutoff:
                    old.append(entry["Key"])
                    freed += int(entry.get("Size", 0))
        partials.delete_keys(old)
        return aborted, freed

    def _clean_upload(self, marker: str) -> tuple[int, int]:
        """End the expired upload of a quota marker unless a completion holds it; (multipart
        uploads aborted, bytes freed)."""
        partials = self.partials
        client, _, name = marker[len(partials.unfinished_root) :].rpartition("/")
        nonce, _, declared = name.partition(".")
        base, size = f"{self.root}{client}/{nonce}", int(declared or 0)
        claim = self._claim(base, size)  # within the lease of a completion of that size
        if claim is None:  # being completed (its request ends it), or ended
            if self._ended(base):
                partials.delete_keys([marker])
            return 0, 0
        aborted = freed = 0
        key = self._held_key(marker)
        if key is not None and self._only_its_own(key, base):
            listed = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=key)
            for upload in listed.get("Uploads", ()):
                if upload["Key"] == key:
                    freed += partials.part_bytes(key, upload["UploadId"])
                    self._abort(key, upload["UploadId"])
                    aborted += 1
        freed += (self._size(base) or 0) + (self._size(base + ".first") or 0)  # part 1, its copy
        self._end(base, client, size, discard=key, claim=claim)
        return aborted, freed

    def _only_its_own(self, key: str, base: str) -> bool:
        """Whether every multipart upload at ``key`` is the upload at ``base``'s: its private
        key, or a name still its placeholder (else another may be held there since, and
        the upload's own, if still open, can never complete there)."""
        if key == base + ".file":
            return True
        head = self.partials.head(key)
        return head is not None and held_by(head, _nonce(base))

    def _held_key(self, marker: str) -> Optional[str]:
        held = self.partials.head(marker)
        key = unquote((held or {}).get("Metadata", {}).get(_KEY, ""))
        return key if key.startswith(self.files.prefix) and key != self.files.prefix else None

    # The bucket's CORS ----------------------------------------------------------------

    @_translated
    def put_cors(self, rule: dict[str, Any]) -> None:
        """Make ``rule`` the bucket's CORS configuration (it replaces any other rules)."""
        self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [rule]})


def _nonce(base: str) -> str:
    """The upload's nonce: the 32 random hex of its base, signed into its token."""
    return base.rsplit("/", 1)[1]


def _says_ended(head: dict[str, Any]) -> bool:
    return bool(head.get("Metadata", {}).get(_STATE) == _ENDED)


def _direct_marker(key: str) -> bool:
    """Whether a quota marker is a direct upload's (``<32 hex>.<size>``; a chunked upload's
    is named by its Dropzone uuid, with dashes)."""
    name = key.rsplit("/", 1)[-1]
    return len(name.partition(".")[0]) == 32 and "-" not in name
