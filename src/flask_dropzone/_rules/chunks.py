"""Dropzone's chunk protocol, checked: what a chunk request declares and whether it holds together.

Dropzone sends each chunk as an ordinary upload with six fields before the
file part: ``dzuuid``, ``dzchunkindex``, ``dztotalfilesize``, ``dzchunksize``,
``dztotalchunkcount`` and ``dzchunkbyteoffset``. It never announces the end of
a file: chunks may come in any order, in parallel and more than once, so a
file is complete when every index has been received.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from typing import Mapping, Optional

from ..errors import BadUpload

FIELDS = (
    "dzuuid",
    "dzchunkindex",
    "dztotalfilesize",
    "dzchunksize",
    "dztotalchunkcount",
    "dzchunkbyteoffset",
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_INTEGER = re.compile(r"[0-9]{1,16}")  # no sign, no spaces; below 2**53 like a JS number


class BadChunk(BadUpload):
    """A chunk whose fields are missing, malformed or inconsistent: 400."""


def is_chunk(fields: Mapping[str, str]) -> bool:
    return "dzuuid" in fields


@dataclass(frozen=True)
class Manifest:
    """What every chunk of one upload must agree on; the first chunk to arrive records it."""

    filename: str
    total_size: int
    chunk_size: int
    count: int

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "Manifest":
        """The manifest in ``data``; other keys a store records beside it are not part of it."""
        record = json.loads(data)
        return cls(
            **{key: value for key, value in record.items() if key in cls.__dataclass_fields__}
        )


@dataclass(frozen=True)
class Chunk:
    uuid: str
    index: int
    offset: int
    manifest: Manifest

    @property
    def length(self) -> int:
        """The bytes this chunk must carry: the chunk size, or the remainder for the last."""
        return min(self.manifest.chunk_size, self.manifest.total_size - self.offset)


def _integer(fields: Mapping[str, str], name: str) -> int:
    value = fields.get(name)
    if value is None:
        raise BadChunk(f"The chunk has no {name} field.")
    if not _INTEGER.fullmatch(value):
        raise BadChunk(f"The chunk's {name} is not a whole number: {value[:40]!r}.")
    return int(value)


def parse(fields: Mapping[str, str], filename: str, chunk_size: int) -> Chunk:
    """The chunk a request declares, if its fields hold together and use ``chunk_size``."""
    uuid = fields.get("dzuuid", "")
    if not _UUID.fullmatch(uuid):
        raise BadChunk("The chunk's dzuuid is not a UUID.")
    index, total, size, count, offset = (_integer(fields, name) for name in FIELDS[1:])
    if size != chunk_size:
        raise BadChunk(f"The chunk size must be {chunk_size} bytes, not {size}.")
    if count != max(1, math.ceil(total / size)):
        raise BadChunk("The chunk count does not match the file size and chunk size.")
    if index >= count:
        raise BadChunk("The chunk index is beyond the chunk count.")
    if offset != index * size:
        raise BadChunk("The chunk's byte offset does not match its index.")
    if not filename:
        raise BadChunk("The chunk has no file name.")
    return Chunk(uuid, index, offset, Manifest(filename, total, size, count))


def check_same_upload(recorded: Manifest, chunk: Chunk) -> None:
    if recorded != chunk.manifest:
        raise BadChunk("The chunk does not match the earlier chunks of its upload.")


def check_length(chunk: Chunk, received: int, finished: bool) -> Optional[str]:
    """Why ``received`` bytes are wrong for the chunk (so far, or in all), or None."""
    if received > chunk.length:
        return f"The chunk is longer than the {chunk.length} bytes it declares."
    if finished and received != chunk.length:
        return f"The chunk has {received} bytes instead of {chunk.length}."
    return None
