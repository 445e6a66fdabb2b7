"""Multipart bodies built to waste a parser's time or memory, for tests and ``bench/parsers.py``."""

from __future__ import annotations

import os
from typing import Callable

BOUNDARY = b"B"


def part(name: str, filename: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return b"--B\r\nContent-Disposition: " + disposition.encode() + b"\r\n\r\n"


_FILE = part("file", "j.bin")

#: Each family makes a body (boundary ``B``) of about ``size`` bytes.
JUNK_FAMILIES: dict[str, Callable[[int], bytes]] = {
    "blanks after a delimiter": lambda size: _FILE + b"x\r\n--B" + b" " * size + b"Z\r\n--B--\r\n",
    "blanks in a field": lambda size: part("f") + b"x\r\n--B" + b"\t" * size + b"\r\n--B--\r\n",
    "blanks in an empty part": lambda size: part("f") + b"--B" + b" " * size + b"\r\n--B--\r\n",
    "CRLF runs": lambda size: _FILE + b"\r\n" * (size // 2) + b"\r\n--B--\r\n",
    "LF runs": lambda size: _FILE + b"\n" * size + b"\r\n--B--\r\n",
    "CR runs": lambda size: _FILE + b"\r" * size + b"\r\n--B--\r\n",
    "- runs": lambda size: _FILE + b"-" * size + b"\r\n--B--\r\n",
    "CRLF-- runs": lambda size: _FILE + b"\r\n--" * (size // 4) + b"\r\n--B--\r\n",
    "near-delimiters": lambda size: _FILE + b"\r\n--C" * (size // 5) + b"\r\n--B--\r\n",
    "header ends before delimiters": lambda size: (
        _FILE + b"\r\n\r\n--C" * (size // 7) + b"\r\n--B--\r\n"
    ),
    # The test client's empty-part layout, its "next part" holding the junk: read by a second parser.
    "a delimiter line opening a body": lambda size: (
        part("a") + _FILE + b"\r\n" * (size // 2) + b"\r\n--B--\r\n"
    ),
    "preamble junk": lambda size: b"\r\n-" * (size // 3) + b"\r\n" + part("a") + b"v\r\n--B--\r\n",
    "many tiny parts": lambda size: (part("a") + b"v\r\n") * (size // 40) + b"--B--\r\n",
    "endless header": lambda size: b"--B\r\n" + b"X" * size,
    "random bytes": lambda size: _FILE + os.urandom(size) + b"\r\n--B--\r\n",
}


def reads(body: bytes) -> Callable[[int], bytes]:
    """``read(size)`` over ``body``, returning copies as a server's stream does."""
    view, position = memoryview(body), 0

    def read(size: int) -> bytes:
        nonlocal position
        data = bytes(view[position : position + size])
        position += len(data)
        return data

    return read
