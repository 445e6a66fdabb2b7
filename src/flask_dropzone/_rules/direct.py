"""Direct uploads (``DROPZONE_S3_DIRECT``), the plain logic: what an upload's token
carries and whether the parts a bucket lists make the file declared (how a file is cut
into parts is :mod:`.parts`). The endpoints are in :mod:`flask_dropzone._endpoints.direct`, their
steps in :mod:`flask_dropzone._protocol.direct_uploads`, the S3 calls in
:mod:`flask_dropzone._stores.s3.direct`.

The browser sends each part of a file straight to the bucket through a presigned URL
whose signature covers the part's exact ``Content-Length``: the first part as an object
of its own, the others as parts 2 and on of one S3 multipart upload at the name held
for the file. The server never receives the bytes; it decides before (name, declared
size, quota) and after (every part there with its size, then the content's first
bytes, from its own copy of the first part) as it does for any upload, and only then
completes the multipart upload, with that copy as its part 1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from flask import Flask

from ..errors import BadUpload, UploadRefused
from . import signing
from .parts import latest_parts, part_count, part_length
from .zonerules import Zone

#: Seconds a presigned part URL is valid at most (fresh ones come from ``/dropzone/direct/urls``).
URL_EXPIRES = 15 * 60
#: Longest file name a client may declare (the stored name is bounded further).
MAX_NAME = 1024
#: Longest MIME type a client may declare.
MAX_TYPE = 255
PURPOSE = "direct-upload"


class PartsProblem(UploadRefused):
    """The parts in the bucket do not make the file declared (one missing, one of the
    wrong size): 409, and the upload stays open for the part to be sent again."""

    code = 409


class ZoneChanged(UploadRefused):
    """The zone's settings of today would not take the upload it started (the zone was
    removed, tightened, or its folder moved): 409, and the upload ends."""

    code = 409


@dataclass(frozen=True)
class Ticket:
    """What an upload's token carries: everything the later requests need, decided by the
    server when the upload started, signed so that no client can change it."""

    base: str  #: ``<prefix>.dropzone-direct/<client>/<32 hex>``: the first part, the claim
    key: str  #: the multipart upload's key: the name held for the file, else ``<base>.file``
    name: str  #: the name held for the file in ``folder`` ("" when a function names it)
    upload_id: str  #: S3's UploadId
    client: str  #: the id in the session of the client that started it
    filename: str  #: the client's name for the file
    safe_name: str  #: the name it is judged and (by default) stored under
    size: int  #: the declared size in bytes
    part_size: int  #: bytes of each part but the last
    folder: str  #: where it is stored: a key prefix, as the store names folders
    zone: Zone  #: the zone it was started in, judged by its settings of the day

    @property
    def parts(self) -> int:
        return part_count(self.size, self.part_size)

    def payload(self) -> dict[str, Any]:
        return {
            "b": self.base,
            "k": self.key,
            "h": self.name,
            "u": self.upload_id,
            "c": self.client,
            "n": self.filename,
            "sn": self.safe_name,
            "s": self.size,
            "p": self.part_size,
            "f": self.folder,
            "z": self.zone.payload(),
        }

    @classmethod
    def from_payload(cls, payload: Any) -> "Ticket":
        """The ticket of a decoded token; ValueError when it is not one."""
        if not isinstance(payload, dict):
            raise ValueError("not a ticket")
        texts: list[Any] = [payload.get(name) for name in ("b", "k", "h", "u", "c", "n", "sn", "f")]
        size: Any = payload.get("s")
        part_size: Any = payload.get("p")
        if not all(isinstance(text, str) for text in texts):
            raise ValueError("not a ticket")
        if not _whole(size) or not _whole(part_size) or not part_size:
            raise ValueError("not a ticket")
        base, key, name, upload_id, client, filename, safe_name, folder = texts
        return cls(
            base,
            key,
            name,
            upload_id,
            client,
            filename,
            safe_name,
            size,
            part_size,
            folder,
            Zone.from_payload(payload.get("z")),
        )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def make_token(app: Flask, ticket: Ticket) -> str:
    """The upload's token, signed for its purpose and app (:mod:`.signing`); it carries the
    time it was made."""
    return signing.dumps(app, PURPOSE, ticket.payload())


def read_token(app: Flask, token: Any, max_age: float) -> Optional[tuple[Ticket, float]]:
    """The ticket of a token this app made less than ``max_age`` seconds ago, and when it
    was made (seconds since the epoch); None for anything else."""
    read = signing.loads(app, PURPOSE, token, max_age)
    if read is None:
        return None
    try:
        return Ticket.from_payload(read[0]), read[1]
    except (ValueError, TypeError, KeyError):
        return None


def url_expiry(made: float, max_age: float, now: Optional[float] = None) -> int:
    """Seconds fresh part URLs are valid: :data:`URL_EXPIRES`, but never past the token's
    own end (``max_age`` after it was ``made``); 0 once that has come."""
    left = made + max_age - (time.time() if now is None else now)
    return max(0, min(URL_EXPIRES, int(left)))


# Parts ---------------------------------------------------------------------------------


def held_parts(listed: Iterable[Mapping[str, Any]], size: int, part_size: int) -> list[int]:
    """The numbers of the parts the bucket holds with their exact length, for a browser
    resuming the upload (it sends the others)."""
    latest = latest_parts(listed, size, part_size)
    return [
        number
        for number in range(1, part_count(size, part_size) + 1)
        if number in latest and latest[number].get("Size") == part_length(number, size, part_size)
    ]


def check_parts(
    listed: Iterable[Mapping[str, Any]], size: int, part_size: int
) -> list[dict[str, Any]]:
    """The parts to complete the upload with (number and ETag, in order), when every part
    of the file is there with its exact length; else :class:`PartsProblem`. Parts beyond
    the file's are left out (S3 drops them)."""
    latest = latest_parts(listed, size, part_size)
    parts = []
    for number in range(1, part_count(size, part_size) + 1):
        part = latest.get(number)
        if part is None:
            raise PartsProblem(f"Part {number} is missing.")
        expected = part_length(number, size, part_size)
        if part.get("Size") != expected:
            raise PartsProblem(f"Part {number} has {part.get('Size')} bytes instead of {expected}.")
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
    return parts


# Requests ------------------------------------------------------------------------------


def parse_start(body: Mapping[str, Any]) -> tuple[str, int, str]:
    """The file a start request declares: its name, size and the browser's type for it."""
    name, size, kind = body.get("name"), body.get("size"), body.get("type", "")
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise BadUpload(f"The upload needs the file's name (at most {MAX_NAME} characters).")
    if not isinstance(size, int) or not _whole(size):
        raise BadUpload("The file's size must be a whole number of bytes.")
    if not isinstance(kind, str) or len(kind) > MAX_TYPE:
        raise BadUpload("The file's type must be text.")
    return name, size, kind


def parse_token(body: Mapping[str, Any]) -> str:
    token = body.get("upload")
    if not isinstance(token, str) or not token:
        raise BadUpload("The request names no upload.")
    return token
