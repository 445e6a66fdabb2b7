"""The S3 file store: files in a bucket of S3 or of any S3-compatible server.

A file is received into a staging object under the store's own prefix, streamed
there as it arrives (a multipart upload once it passes one part; memory stays
about two parts a file), and published by a server-side copy to its name. A copy
is made only with ``If-None-Match: *``, so an existing object is never replaced,
also when several app servers store the same name at the same instant: the
loser takes the next free name. Nothing touches the local disk.

Every object the store publishes carries an id of its own in its user metadata
(``fdz-id``, its version); a name held for a file still on its way is an empty
placeholder whose metadata names the upload holding it (``fdz-held``), which no
listing, read or delete takes for a stored file.
"""

from __future__ import annotations

import bisect
import errno
import io
import itertools
import logging
import os
import secrets
import time
from typing import IO, Any, Callable, Iterable, Iterator, Optional, Union

from ..base import (
    Bytes,
    Claim,
    FileStore,
    HandOver,
    NameLost,
    Staged,
    Stored,
    StoreLimit,
    StoreUnavailable,
)
from ..names import candidates
from .marks import HELD, ID, PLACEHOLDER_SIZES, held_by, made_for, new_id, placeholder

log = logging.getLogger("flask_dropzone")

#: Bytes of a part while a file streams in (S3 takes 5 MiB to 5 GiB, but the last).
PART_SIZE = 8 * 1024 * 1024
#: The largest object one CopyObject makes.
COPY_LIMIT = 5 * 1024**3
#: The folder-like prefix of the store's own objects, inside the app's prefix.
OWN = "_dropzone/"
#: The folder-like prefix of the files browsers send straight to the bucket (DROPZONE_S3_DIRECT).
DIRECT = ".dropzone-direct/"
#: Inside the store's own prefix: the variants of stored files (thumbnails), one folder per file.
VARIANTS = "variants/"
#: Inside the store's own prefix: pending files, one folder per client, and a claim's suffix.
PENDING, CLAIM = "pending-files/", ".claim"
#: Statuses of a conditional write that found the name taken (409: a write in progress).
_TAKEN = ("PreconditionFailed", "ConditionalRequestConflict")
#: What a missing object answers.
_MISSING = ("404", "NoSuchKey", "NotFound")
#: What the store's own code reads from an answer (a name taken, an object or upload missing,
#: a range past the end, parts refused, a part too small): every other refusal is a failure.
_ANSWERS = (
    *_TAKEN,
    *_MISSING,
    "InvalidRange",
    "NoSuchUpload",
    "InvalidPart",
    "InvalidPartOrder",
    "EntityTooSmall",
)
#: What an unusable bucket or credentials answer.
_UNAVAILABLE = (
    "NoSuchBucket",
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidBucketName",
    "AllAccessDisabled",
    "ExpiredToken",
    "InvalidToken",
)


def error_code(error: BaseException) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _status(error: BaseException) -> int:
    response = getattr(error, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class S3Errors:
    """Turns boto3's errors into the store's: a bucket or credentials that cannot be
    used (or a server that cannot be reached) is :class:`StoreUnavailable`."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Optional[BaseException], traceback: Any) -> None:
        if error is None:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(error, ClientError):
            code = error_code(error)
            if code == "EntityTooLarge":
                raise StoreLimit(f"S3 refused the object as too large ({code})") from error
            if code not in _UNAVAILABLE and (
                code in _ANSWERS or _status(error) in (404, 409, 412, 416)
            ):
                return  # an answer the store reads (taken, missing, ...), not a failure
            # credentials, a bucket, a server error, or a refusal the store has no meaning for
            raise StoreUnavailable(
                f"bucket {self.bucket!r}: {code or _status(error)}: {error}"
            ) from error
        elif isinstance(error, BotoCoreError):  # no connection, no credentials, a timeout
            raise StoreUnavailable(f"bucket {self.bucket!r}: {error}") from error


class ObjectReader:
    """An object's bytes as a file to read; ``seek(0)`` starts it again. A first small read
    (a file's head, to sniff) asks for those bytes only, not for the whole object."""

    def __init__(self, files: "S3Files", key: str) -> None:
        self.files, self.key = files, key
        self._body: Any = None
        self._position = 0
        self.closed = False

    def _get(self, byte_range: str) -> Any:
        from botocore.exceptions import ClientError

        try:
            with self.files.errors:
                answer = self.files.client.get_object(
                    Bucket=self.files.bucket, Key=self.key, Range=byte_range
                )
        except ClientError as error:
            if error_code(error) == "InvalidRange":  # at the end (of an empty object, say)
                head = self.files.head(self.key)
                if head is None or placeholder(head):
                    raise FileNotFoundError(errno.ENOENT, "no stored file", self.key) from error
                return io.BytesIO()
            if error_code(error) in _MISSING:
                raise FileNotFoundError(errno.ENOENT, "no such object", self.key) from error
            raise
        if placeholder(answer):  # a name held for an upload (its body, the upload's nonce)
            answer["Body"].close()
            raise FileNotFoundError(errno.ENOENT, "no stored file", self.key)
        return answer["Body"]

    def read(self, size: int = -1) -> bytes:
        if self._body is None and 0 <= size <= 64 * 1024:
            data: bytes = self._get(
                f"bytes={self._position}-{self._position + max(size, 1) - 1}"
            ).read()
            data = data[:size]
        else:
            if self._body is None:
                self._body = self._get(f"bytes={self._position}-")
            data = self._body.read(None if size is None or size < 0 else size)
        self._position += len(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = 0) -> int:
        if (offset, whence) != (0, 0):
            raise OSError("an object is read from its start")
        self.close()
        self.closed = False
        self._position = 0
        return 0

    def __iter__(self) -> Iterator[bytes]:
        return iter(lambda: self.read(1024 * 1024), b"")

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
        self.closed = True

    def __enter__(self) -> "ObjectReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Blocks(io.RawIOBase):
    """Bytes kept as the blocks they arrived in, read as one seekable file: a part is sent
    (and its checksum computed, and sent again on a retry) without being joined into a copy."""

    def __init__(self, blocks: list[bytes]) -> None:
        self.blocks = blocks
        self.starts = list(itertools.accumulate((len(block) for block in blocks), initial=0))
        self.size = self.starts[-1]
        self.position = 0

    def __len__(self) -> int:
        return self.size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        written = 0
        while written < len(view) and self.position < self.size:
            index = bisect.bisect_right(self.starts, self.position) - 1
            offset = self.position - self.starts[index]
            piece = self.blocks[index][offset : offset + len(view) - written]
            view[written : written + len(piece)] = piece
            written += len(piece)
            self.position += len(piece)
        return written


class S3Staged(Staged):
    """A file streaming into a staging object: in memory until it fills a part, then
    a multipart upload, one part at a time."""

    leaves_traces = True  # an abandoned multipart upload or staging object

    def __init__(self, files: "S3Files") -> None:
        self.files = files
        self.key = f"{files.own}staging/{secrets.token_hex(16)}"
        self.size = 0
        self._blocks: list[bytes] = []  # of the part being filled
        self._filled = 0
        self._upload_id: Optional[str] = None
        self._parts: list[dict[str, Any]] = []
        self.finished = False

    def write(self, data: Bytes) -> None:
        data = bytes(data)
        self.size += len(data)
        while self._filled + len(data) >= PART_SIZE:
            room = PART_SIZE - self._filled
            self._blocks.append(data[:room])
            data = data[room:]
            self._upload_part(Blocks(self._blocks))
            self._blocks, self._filled = [], 0
        if data:
            self._blocks.append(data)
            self._filled += len(data)

    def _upload_part(self, part: Blocks) -> None:
        files = self.files
        with files.errors:
            if self._upload_id is None:
                created = files.client.create_multipart_upload(Bucket=files.bucket, Key=self.key)
                self._upload_id = created["UploadId"]
            number = len(self._parts) + 1
            answer = files.client.upload_part(
                Bucket=files.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=part,
            )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def finish(self) -> None:
        if self.finished:
            return
        files = self.files
        with files.errors:
            if self._upload_id is None:
                files.client.put_object(
                    Bucket=files.bucket, Key=self.key, Body=Blocks(self._blocks)
                )
            else:
                if self._filled:
                    self._upload_part(Blocks(self._blocks))
                files.client.complete_multipart_upload(
                    Bucket=files.bucket,
                    Key=self.key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
                self._upload_id = None
        self._blocks, self._filled = [], 0
        self.finished = True

    def open(self) -> IO[bytes]:
        self.finish()
        return ObjectReader(self.files, self.key)  # type: ignore[return-value]

    def close(self) -> None:
        """Remove the staging object (or abandon its multipart upload): published copies stay."""
        files = self.files
        try:
            with files.errors:
                if self._upload_id is not None:
                    files.client.abort_multipart_upload(
                        Bucket=files.bucket, Key=self.key, UploadId=self._upload_id
                    )
                    self._upload_id = None
                elif self.finished:
                    files.client.delete_object(Bucket=files.bucket, Key=self.key)
        except StoreUnavailable as error:  # left for `flask dropzone clean`
            log.warning("could not remove staging object %s: %s", self.key, error)
        self._blocks, self._filled = [], 0


def _version(head: dict[str, Any]) -> str:
    """A stored object's version: its id; for one stored before objects had ids, its ETag
    and the second it was stored."""
    own = (head.get("Metadata") or {}).get(ID)
    return (
        str(own) if own else str(head["ETag"]).strip('"') + f":{head['LastModified'].timestamp()}"
    )


def client_maker(endpoint_url: Optional[str]) -> Callable[[], Any]:
    """Makes the S3 client of a process, once (a client made before a fork is not the child's):
    credentials and region from boto3's own configuration."""
    made: dict[int, Any] = {}

    def client() -> Any:
        pid = os.getpid()
        if pid not in made:
            import boto3
            from botocore.config import Config

            config = Config(
                signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"}
            )
            made.clear()
            made[pid] = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, config=config
            )
        return made[pid]

    return client


class S3Claim(Claim):
    """A claim in a bucket: its claim object (``tag``: its ETag) and the copy it made."""

    def __init__(self, files: "S3Files", key: str, etag: str, tag: str, stored: Stored) -> None:
        self.files, self.key, self.etag, self.tag, self.stored = files, key, etag, tag, stored

    def finish(self) -> None:
        """The pending object goes; the claim object stays, so that a claim sent again finds
        it taken, until the sweep."""
        self.files.delete_matching(self.key, self.etag)

    def undo(self) -> None:
        head = self.files.head(self.stored.location)
        if head is not None:  # the name it took: nobody else's
            self.files.delete_matching(self.stored.location, head["ETag"])
        self.files.delete_matching(self.key + CLAIM, self.tag)


class S3Files(FileStore):
    """Files in ``bucket`` under ``prefix``; the store's own objects under ``prefix + OWN``."""

    def __init__(self, client: Callable[[], Any], bucket: str, prefix: str = "") -> None:
        self._client, self.bucket, self.prefix = client, bucket, prefix
        self.own = prefix + OWN
        self.errors = S3Errors(bucket)

    @property
    def client(self) -> Any:
        return self._client()

    def folder(self, folder: Optional[str], default: str) -> str:
        """The key prefix of ``folder``, a relative folder: the store's prefix, then the
        folder's own path (``default``, a disk path, means nothing in a bucket); an absolute
        path is no folder here."""
        path = (folder or "").replace("\\", "/")
        if path.startswith("/"):
            raise ValueError(f"folder {folder!r} is an absolute path; a bucket's are key prefixes")
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise ValueError(f"folder {folder!r} must stay inside DROPZONE_S3_PREFIX")
        inner = "/".join(parts)
        if any(inner + "/" == own or inner.startswith(own) for own in (OWN, DIRECT)):
            raise ValueError(f"folder {folder!r} is the store's own")
        return self.prefix + (inner + "/" if inner else "")

    def stage(self, folder: str) -> S3Staged:
        return S3Staged(self)

    def publish(
        self, source: Union[Bytes, Staged, HandOver], folder: str, name: str, size: int
    ) -> Stored:
        if isinstance(source, (bytes, bytearray, memoryview)):
            body = bytes(source)
            return self._first_free(folder, name, lambda key: self._put_new(key, body))
        reserved = getattr(source, "reserved", None)
        if reserved == (folder, name) and not getattr(source, "in_place", True):
            # assembled under the name held for it
            source.in_place = True  # type: ignore[union-attr]
            key = self._source_key(source)
            return Stored(key[len(folder) :], location=key)
        source_key = self._source_key(source)
        return self._first_free(folder, name, lambda key: self._copy_new(source_key, key, size))

    def publish_key(self, key: str, folder: str, name: str, size: int) -> Stored:
        """Store the object ``key`` of the bucket (``size`` bytes) in ``folder`` under ``name``
        or the first free variant of it, by a create-only copy; ``key`` stays. S3 only: the
        bytes of a direct upload are in the bucket already."""
        return self._first_free(folder, name, lambda target: self._copy_new(key, target, size))

    def _source_key(self, source: Union[Staged, HandOver]) -> str:
        if isinstance(source, S3Staged):
            source.finish()
            return source.key
        key = getattr(source, "key", None)
        if not isinstance(key, str):
            raise TypeError(f"S3Files cannot publish a {type(source).__name__}")
        return key

    def _first_free(self, folder: str, name: str, create: Any) -> Stored:
        for candidate in candidates(name):
            key = folder + candidate
            if create(key):
                return Stored(candidate, location=key)
        raise StoreUnavailable(f"no free name for {name!r} under {folder!r}")

    def _put_new(
        self, key: str, body: bytes, metadata: Optional[dict[str, str]] = None
    ) -> Optional[str]:
        """Create ``key`` (a published object, with an id of its own, unless ``metadata``
        says otherwise) unless it exists: the ETag of the object created, or None."""
        from botocore.exceptions import ClientError

        metadata = {ID: new_id()} if metadata is None else metadata
        try:
            with self.errors:
                answer = self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*", Metadata=metadata
                )
        except ClientError as error:
            if error_code(error) in _TAKEN:
                return None
            raise
        return str(answer["ETag"])

    def _put_new_tag(self, key: str, body: bytes) -> Optional[str]:
        """Create the bookkeeping object ``key`` unless it exists; its ETag, or None."""
        from botocore.exceptions import ClientError

        try:
            with self.errors:
                answer = self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*", Metadata={}
                )
        except ClientError as error:
            if error_code(error) in _TAKEN:
                return None
            raise
        return str(answer["ETag"])

    def _copy_new(self, source: str, key: str, size: int) -> bool:
        """Copy ``source`` to ``key`` unless it exists; whether it was copied."""
        from botocore.exceptions import ClientError

        if size > COPY_LIMIT:
            return self._copy_in_parts(source, key, size)
        try:
            with self.errors:
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=key,
                    CopySource={"Bucket": self.bucket, "Key": source},
                    IfNoneMatch="*",
                    MetadataDirective="REPLACE",
                    Metadata={ID: new_id()},
                )
        except ClientError as error:
            if error_code(error) in _TAKEN:
                return False
            raise
        return True

    def _copy_in_parts(self, source: str, key: str, size: int) -> bool:
        """Over 5 GiB, a copy is a multipart upload of ranges. The name is held first by a
        placeholder, which the completed copy replaces: completing with ``If-None-Match`` is
        not atomic on every S3 server (SeaweedFS lets racers through)."""
        nonce = new_id()
        if not self.hold(key, nonce):
            return False
        with self.errors:
            upload = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, Metadata={ID: nonce}
            )["UploadId"]
        try:
            parts = []
            for number, start in enumerate(range(0, size, COPY_LIMIT), 1):
                end = min(start + COPY_LIMIT, size) - 1
                with self.errors:
                    answer = self.client.upload_part_copy(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload,
                        PartNumber=number,
                        CopySource={"Bucket": self.bucket, "Key": source},
                        CopySourceRange=f"bytes={start}-{end}",
                    )
                parts.append({"PartNumber": number, "ETag": answer["CopyPartResult"]["ETag"]})
            self.complete_held(key, nonce, upload, parts)
        except BaseException as error:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
            self.drop_held(key, nonce)  # the name it took, never a file stored there since
            if isinstance(error, NameLost):
                return False  # the next free name
            raise
        return True

    # Names held for files on their way ---------------------------------------------------

    def head(self, key: str) -> Optional[dict[str, Any]]:
        """What HEAD answers for ``key``; None when there is no such object."""
        from botocore.exceptions import ClientError

        try:
            with self.errors:
                head: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=key)
                return head
        except ClientError as error:
            if error_code(error) in _MISSING:
                return None
            raise

    def hold(self, key: str, nonce: str, own_etag: bool = False) -> Optional[str]:
        """Hold the name ``key``, if it is free, for the upload ``nonce``: its placeholder's
        ETag, or None. With ``own_etag`` its body is the nonce, so that its ETag is its own
        (an empty placeholder's is every empty object's): a write conditional on it needs
        no HEAD to know the name is still this placeholder."""
        return self._put_new(key, nonce.encode() if own_etag else b"", {HELD: nonce})

    def complete_held(
        self,
        key: str,
        nonce: str,
        upload_id: str,
        parts: list[dict[str, Any]],
        etag: Optional[str] = None,
    ) -> None:
        """Complete the multipart upload at the name ``key`` held for it (by the upload
        ``nonce``) only while that name is still its placeholder: If-Match on the
        placeholder's own ``etag`` (else a HEAD first, and its ETag); else NameLost, and
        what is there stays."""
        from botocore.exceptions import ClientError

        if etag is None:
            head = self.head(key)
            if head is None or not held_by(head, nonce):
                raise NameLost(key)
            etag = head["ETag"]
        try:
            with self.errors:
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                    IfMatch=etag,
                )
        except ClientError as error:
            if error_code(error) in _TAKEN + _MISSING:
                raise NameLost(key) from error
            raise

    def drop_held(
        self, key: str, nonce: str, own: bool = False, etag: Optional[str] = None
    ) -> bool:
        """Remove ``key`` if it is still the placeholder of the upload ``nonce`` (with
        ``own``, or the file that upload completed there, refused or copied elsewhere), by a
        delete conditional on the ETag read (or on the placeholder's own ``etag``, without
        reading): never another's file. Whether it went."""
        if etag is not None and not own:
            return self.delete_matching(key, etag)
        head = self.head(key)
        if head is None or not (held_by(head, nonce) or (own and made_for(head, nonce))):
            return False
        return self.delete_matching(key, head["ETag"])

    def delete_matching(self, key: str, etag: str) -> bool:
        """Delete ``key`` if its ETag is still ``etag``; whether it was deleted."""
        from botocore.exceptions import ClientError

        try:
            with self.errors:
                self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=etag)
        except ClientError as error:
            if error_code(error) in _TAKEN + _MISSING:
                return False
            raise
        return True

    def unpublish(self, source: HandOver, stored: list[Stored]) -> None:
        """Remove copies made of a hand-over given back (the file held at its own name stays
        for the chunk that hands it over again)."""
        copies = [each.location for each in stored if each.location != getattr(source, "key", None)]
        with self.errors:
            for key in copies:
                self.client.delete_object(Bucket=self.bucket, Key=key)
        if getattr(source, "in_place", False):
            source.in_place = False  # type: ignore[attr-defined]

    def open(self, folder: str, name: str) -> IO[bytes]:
        return ObjectReader(self, folder + name)  # type: ignore[return-value]

    def url(
        self, folder: str, name: str, expires_in: int, content_type: str, disposition: str
    ) -> Optional[str]:
        """A presigned GET of the object (signed locally: no request), whose answer carries
        ``content_type`` and ``disposition`` (S3's ``response-content-type`` and
        ``response-content-disposition``, covered by the signature)."""
        params = {
            "Bucket": self.bucket,
            "Key": folder + name,
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
        }
        with self.errors:
            return str(
                self.client.generate_presigned_url(
                    "get_object", Params=params, ExpiresIn=expires_in
                )
            )

    def delete(
        self, folder: str, name: str, version: Optional[str] = None, *, variants: bool = True
    ) -> bool:
        """Delete the stored file (the object HEAD saw, not one stored after, and with
        ``version`` only that version); a name held for an upload is none."""
        head = self.head(folder + name)
        if head is None or placeholder(head) or (version is not None and _version(head) != version):
            return False
        if not self.delete_matching(folder + name, head["ETag"]):
            return False
        if not variants:
            return True
        try:
            self.delete_variants(folder, name)
        except StoreUnavailable as error:  # the file went: its variants are never shown again
            log.warning("could not remove the variants of %s: %s", folder + name, error)
        return True

    def variant_folder(self, folder: str, name: str) -> str:
        """Under the store's own prefix (``_dropzone/variants/<folder>/<name>/``), which no
        folder of stored files can be and no listing of one shows."""
        inner = folder[len(self.prefix) :] if folder.startswith(self.prefix) else folder
        return f"{self.own}{VARIANTS}{inner}{name}/"

    def put_variant(self, folder: str, name: str, data: Bytes) -> None:
        """One create-only PUT: an object appears whole, and the first one made stays."""
        self._put_new(folder + name, bytes(data))

    def kept_variants(self, folders: Iterable[str]) -> Iterator[tuple[str, str, str, int]]:
        root = f"{self.own}{VARIANTS}"
        with self.errors:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=root
            )
            for entry in (entry for page in pages for entry in page.get("Contents", ())):
                place, _, variant = entry["Key"][len(root) :].rpartition("/")
                inner, _, name = place.rpartition("/")
                folder = self.prefix + (inner + "/" if inner else "")
                yield folder, name, variant, int(entry.get("Size", 0))

    def remove_variant(self, folder: str, name: str, variant: str) -> None:
        with self.errors:
            self.client.delete_object(
                Bucket=self.bucket, Key=self.variant_folder(folder, name) + variant
            )

    def delete_variants(self, folder: str, name: str) -> int:
        prefix = self.variant_folder(folder, name)
        removed = 0
        with self.errors:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for key in [entry["Key"] for page in pages for entry in page.get("Contents", ())]:
                self.client.delete_object(Bucket=self.bucket, Key=key)
                removed += 1
        return removed

    def locate(self, location: str) -> tuple[str, str]:
        folder, slash, name = location.rpartition("/")
        return folder + slash, name

    def place(self, folder: str, name: str) -> Stored:
        return Stored(name, location=folder + name)

    def version(self, folder: str, name: str) -> Optional[str]:
        """The object's id; for one stored before objects had ids, its ETag and the second
        it was stored."""
        head = self.head(folder + name)
        return None if head is None or placeholder(head) else _version(head)

    def label(self, folder: str, root: str) -> str:
        """The folder's key prefix inside ``DROPZONE_S3_PREFIX`` (``avatars/``, "" for the
        prefix itself): no server path, and never outside the prefix."""
        if not folder.startswith(self.prefix):
            raise ValueError(f"folder {folder!r} is not inside DROPZONE_S3_PREFIX")
        return folder[len(self.prefix) :]

    def unlabel(self, label: str, root: str) -> str:
        return self.folder(label or None, root)

    def listing(self, folder: str) -> list[tuple[str, int]]:
        with self.errors:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder, Delimiter="/"
            )
            found = [
                (entry["Key"][len(folder) :], int(entry.get("Size", 0)))
                for page in pages
                for entry in page.get("Contents", ())
                if entry["Key"] != folder  # the folder itself, which some servers list once emptied
            ]
        return sorted((name, size) for name, size in found if self._stored(folder + name, size))

    def _stored(self, key: str, size: int) -> bool:
        """Whether the object ``key`` of a listing (which has no metadata) is a stored file,
        not a name held for an upload (nor deleted since): read only when it has a
        placeholder's size (empty, or its nonce)."""
        if size not in PLACEHOLDER_SIZES:
            return True
        head = self.head(key)
        return head is not None and not placeholder(head)

    def pending_folder(self, root: str, client: str) -> str:
        return f"{self.own}{PENDING}{client}/"

    def claim(
        self, folder: str, name: str, target: str, target_name: str, size: int
    ) -> Optional[Claim]:
        """A create-only claim object with a body of its own decides which claim it is (one
        server wins), then one create-only copy stores the file under a free name. A copy
        that fails gives the claim back (deleted only while it is still this claim's)."""
        from botocore.exceptions import ClientError

        key = folder + name
        claim_tag = self._put_new_tag(key + CLAIM, new_id().encode())
        if claim_tag is None:
            return None
        try:
            head = self.head(key)
            if head is None:
                raise FileNotFoundError(key)  # swept as the claim began
            stored = self._first_free(
                target, target_name, lambda copy: self._copy_new(key, copy, size)
            )
        except BaseException as error:
            self._give_back(key + CLAIM, claim_tag)
            if isinstance(error, FileNotFoundError) or (
                isinstance(error, ClientError) and error_code(error) in _MISSING
            ):
                return None  # expired and swept as the claim began: the sweep won
            raise
        return S3Claim(self, key, head["ETag"], claim_tag, stored)

    def _give_back(self, claim_key: str, tag: str) -> None:
        """Remove a claim object if it is still the one written (its body is its own)."""
        try:
            self.delete_matching(claim_key, tag)
        except Exception as error:  # the claim's own error is the one to raise
            log.error("could not give back the claim %s: %s", claim_key, error)

    def is_pending(self, folder: str, name: str) -> bool:
        """The pending object is there, and no claim object beside it (a claim that died
        midway holds the file until the sweep: it is no file to take)."""
        return self.head(folder + name) is not None and self.head(folder + name + CLAIM) is None

    def pending_files(self, folder: str) -> list[tuple[str, int, float]]:
        with self.errors:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=folder
            )
            entries = [entry for page in pages for entry in page.get("Contents", ())]
        claimed = {entry["Key"][: -len(CLAIM)] for entry in entries if entry["Key"].endswith(CLAIM)}
        return [
            (
                entry["Key"][len(folder) :],
                int(entry.get("Size", 0)),
                entry["LastModified"].timestamp(),
            )
            for entry in entries
            if not entry["Key"].endswith(CLAIM)
            and entry["Key"] not in claimed
            and "/" not in entry["Key"][len(folder) :]
        ]

    def clean_pending(
        self, root: str, expires: float, now: Optional[float] = None
    ) -> tuple[int, int]:
        """Pending objects older than ``expires`` go, but not one a claim began on since (its
        claim is judged by its own age: a claim never loses its file to the sweep midway)."""
        cutoff = (time.time() if now is None else now) - expires
        removed = freed = 0
        with self.errors:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.own + PENDING
            )
            for page in pages:
                for entry in page.get("Contents", ()):
                    key = entry["Key"]
                    if entry["LastModified"].timestamp() >= cutoff:
                        continue
                    if not key.endswith(CLAIM):
                        claim = self.head(key + CLAIM)
                        if claim is not None and claim["LastModified"].timestamp() >= cutoff:
                            continue  # being claimed
                    self.client.delete_object(Bucket=self.bucket, Key=key)
                    if not key.endswith(CLAIM):
                        removed, freed = removed + 1, freed + int(entry.get("Size", 0))
        return removed, freed

    def clean(self, folders: tuple[str, ...], expires: float) -> tuple[int, int]:
        """Remove staging objects and abandon staging multipart uploads older than ``expires``."""
        cutoff = time.time() - expires
        staging = self.own + "staging/"
        removed = freed = 0
        with self.errors:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=staging
            )
            for page in pages:
                for entry in page.get("Contents", ()):
                    if entry["LastModified"].timestamp() < cutoff:
                        self.client.delete_object(Bucket=self.bucket, Key=entry["Key"])
                        removed, freed = removed + 1, freed + entry.get("Size", 0)
            uploads = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=staging
            )
            for page in uploads:
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"].timestamp() < cutoff:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        removed += 1
        return removed, freed
