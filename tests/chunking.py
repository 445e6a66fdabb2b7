"""Sending files in chunks the way Dropzone does, for tests and benchmarks."""

from __future__ import annotations

import math
import uuid as uuids
from typing import Iterable, Optional

BOUNDARY = "----dropzonechunkboundary7MA4YWxkTrZu0gW"


def chunk_fields(file_id: str, index: int, total: int, chunk_size: int) -> dict[str, str]:
    count = max(1, math.ceil(total / chunk_size))
    return {
        "dzuuid": file_id,
        "dzchunkindex": str(index),
        "dztotalfilesize": str(total),
        "dzchunksize": str(chunk_size),
        "dztotalchunkcount": str(count),
        "dzchunkbyteoffset": str(index * chunk_size),
    }


def body(fields: dict[str, str], name: str, filename: str, content: bytes, field: str = "file") -> bytes:
    """A multipart body with the fields first, then the file part, as Dropzone sends it."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def chunk_requests(
    data: bytes, filename: str, chunk_size: int, order: Optional[Iterable[int]] = None, file_id: Optional[str] = None
) -> list[bytes]:
    """The bodies of every chunk request for ``data``, in ``order`` (default: ascending)."""
    file_id = file_id or str(uuids.uuid4())
    count = max(1, math.ceil(len(data) / chunk_size))
    indexes = list(range(count)) if order is None else list(order)
    return [
        body(
            chunk_fields(file_id, index, len(data), chunk_size),
            "file",
            filename,
            data[index * chunk_size : (index + 1) * chunk_size],
        )
        for index in indexes
    ]
