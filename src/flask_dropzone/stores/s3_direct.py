"""Direct uploads' S3 calls (``DROPZONE_S3_DIRECT``): the multipart upload a browser
sends parts into through presigned URLs, and what the server does with it.

Objects, under the app's ``DROPZONE_S3_PREFIX``::

    .dropzone-direct/<client>/<32 hex>          the multipart upload, then the file it makes
    .dropzone-direct/<client>/<32 hex>.claim    the completion, created once: a request that
                                                finds it taken answers 404
    _dropzone/pending/<client>/<32 hex>.<size>  while it is open, for the client's quota
                                                (shared with chunked uploads)

The file is judged and copied to its name by the one request that claims it; its key,
marker and claim go once it is stored or refused.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any, Optional
from urllib.parse import parse_qs, urlsplit

from .base import QuotaExceeded, StoreBusy, Stored, StoreUnavailable
from .s3 import DIRECT, S3Files, error_code
from .s3_chunks import S3Partials

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
#: S3's refusals of the parts a completion names.
_BAD_PARTS = ("InvalidPart", "InvalidPartOrder", "EntityTooSmall")


class UploadGone(Exception):
    """The multipart upload (or the file it made) is not there: completed, aborted, expired."""


class PartsRejected(Exception):
    """S3 would not complete the upload from the parts named."""


class _Errors:
    """The store's errors (:class:`~.s3.S3Errors`: an unusable bucket is StoreUnavailable),
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


class S3Direct:
    """Direct uploads into the bucket of ``files``; ``partials`` keeps each client's quota."""

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

    def new_key(self, client: str) -> str:
        return f"{self.root}{client}/{secrets.token_hex(16)}"

    def _marker(self, key: str, client: str, size: int) -> str:
        return f"{self.partials.pending_root}{client}/{key.rsplit('/', 1)[1]}.{size}"

    # The upload's life ----------------------------------------------------------------

    def start(self, key: str, client: str, size: int, quota: Optional[int]) -> str:
        """Create the multipart upload at ``key``; its UploadId. Under the client's start
        lock (the one chunked uploads take), so that simultaneous starts cannot pass the
        ``quota`` together: QuotaExceeded, or StoreBusy when the lock stays taken."""
        partials = self.partials
        lock = f"{partials.pending_root}{client}/.lock"
        for _ in range(200):
            if partials.claim_start(lock):
                break
            time.sleep(0.05)
        else:
            raise StoreBusy()
        try:
            if quota is not None and partials.pending_bytes(client) + size > quota:
                raise QuotaExceeded()
            with self.errors:
                upload_id = str(self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"])
            try:
                partials.put(self._marker(key, client, size), b"")
            except BaseException:
                self.abort(key, upload_id)
                raise
            return upload_id
        finally:
            partials.delete_keys([lock])

    def presign(self, key: str, upload_id: str, number: int, length: int, expires: int) -> str:
        """A URL that lets its holder PUT part ``number`` of exactly ``length`` bytes for
        ``expires`` seconds (SigV4 query signing: no request is made). Its signed headers
        must include ``content-length``, else a holder could send a part of any size: a
        signer that leaves it out is refused (StoreUnavailable)."""
        params = {"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": number,
                  "ContentLength": length}
        with self.errors:
            url = str(self.client.generate_presigned_url("upload_part", Params=params, ExpiresIn=expires))
        signed = parse_qs(urlsplit(url).query).get("X-Amz-SignedHeaders", [""])[0].split(";")
        if "content-length" not in signed:
            raise StoreUnavailable("presigned part URLs do not sign Content-Length (is the client SigV4?)")
        return url

    def list_parts(self, key: str, upload_id: str) -> list[dict[str, Any]]:
        """Every part listed, all pages; UploadGone when the upload is not open."""
        with self.errors:
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PaginationConfig={"PageSize": LIST_PAGE}
            )
            return [dict(part) for page in pages for part in page.get("Parts", ())]

    def complete(self, key: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
        with self.errors:
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )

    def abort(self, key: str, upload_id: str) -> None:
        """Abort the multipart upload (its parts go); nothing to do when it is not open."""
        try:
            with self.errors:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except UploadGone:
            pass

    def size(self, key: str) -> Optional[int]:
        """The size of the object ``key`` (a completed upload's file), None if there is none."""
        try:
            with self.errors:
                return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except UploadGone:
            return None

    def read_head(self, key: str, size: int, length: int) -> tuple[bytes, int]:
        """The first ``length`` bytes of the object ``key``, and its whole size (one ranged
        GET; a HEAD for an object declared empty, whose range would not be satisfiable)."""
        if size == 0:
            found = self.size(key)
            if found is None:
                raise UploadGone(key)
            return b"", found
        with self.errors:
            answer = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")
            head = bytes(answer["Body"].read())
        whole = str(answer.get("ContentRange") or "").rpartition("/")[2]
        return head, int(whole) if whole.isdigit() else int(answer.get("ContentLength", len(head)))

    def claim(self, key: str, size: int) -> bool:
        """Take the completion of the upload at ``key`` (``size`` bytes), for exactly one
        request at a time: a create-only object. A claim older than its lease (its request
        died) is taken over, by an overwrite conditional on its ETag."""
        partials = self.partials
        if partials.put(key + ".claim", b"", create_only=True):
            return True
        held = partials.head(key + ".claim")
        if held is None:
            return partials.put(key + ".claim", b"", create_only=True)  # released meanwhile
        lease = CLAIM_LEASE + size / COPY_RATE
        if time.time() - held["LastModified"].timestamp() < lease:
            return False
        return partials.put(key + ".claim", b"", if_match=held["ETag"])

    def release(self, key: str) -> None:
        """Give the completion back (the request failed; a retry may take it)."""
        self.partials.delete_keys([key + ".claim"])

    def drop(self, key: str, client: str, size: int) -> None:
        """Remove what is left of the upload: its file, its quota marker, then its claim (last,
        so that a failure part-way leaves the claim and no second request completes it)."""
        partials = self.partials
        partials.delete_keys([key])
        partials.delete_keys([self._marker(key, client, size)])
        partials.delete_keys([key + ".claim"])

    def publish(self, key: str, folder: str, name: str, size: int) -> Stored:
        """Copy the file at ``key`` to ``name`` (or the first free variant) in ``folder``."""
        with self.errors:
            return self.files.publish_key(key, folder, name, size)

    # The sweep ------------------------------------------------------------------------

    def clean(self, expires: float, now: Optional[float] = None) -> tuple[int, int]:
        """Abort direct uploads started more than ``expires`` seconds ago, and remove the
        files, claims and quota markers left of such uploads; (uploads aborted, bytes freed)."""
        cutoff = (time.time() if now is None else now) - expires
        aborted = freed = 0
        with self.errors:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.root)
            for page in pages:
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"].timestamp() < cutoff:
                        self.abort(upload["Key"], upload["UploadId"])
                        aborted += 1
            old = []
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.root)
            for page in pages:
                for entry in page.get("Contents", ()):
                    if entry["LastModified"].timestamp() < cutoff:
                        old.append(entry["Key"])
                        freed += int(entry.get("Size", 0))
            pending = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.partials.pending_root
            )
            for page in pending:
                for entry in page.get("Contents", ()):
                    name = entry["Key"].rsplit("/", 1)[-1]
                    direct = len(name.partition(".")[0]) == 32 and "-" not in name  # not a chunked upload's
                    if direct and entry["LastModified"].timestamp() < cutoff:
                        old.append(entry["Key"])
        self.partials.delete_keys(old)
        return aborted, freed

    # The bucket's CORS ----------------------------------------------------------------

    def put_cors(self, rule: dict[str, Any]) -> None:
        """Make ``rule`` the bucket's CORS configuration (it replaces any other rules)."""
        with self.errors:
            self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [rule]})
