"""Removing location and device data from images as their bytes pass (``DROPZONE_STRIP_METADATA``).

A :class:`Stripper` is fed a file's bytes in pieces of any size and gives back the bytes to
store; it reads the image's structure only (marker segments, chunks), never decodes it, and
holds at most one segment header or one metadata segment (a JPEG segment is at most 64 KiB):

- JPEG: Exif goes (a new one carrying only the Orientation takes its place), and so do XMP,
  IPTC (APP13), comments, MPF and every other APPn but JFIF (APP0), the ICC profile (APP2) and
  Adobe's colour transform (APP14); tables, frames and scans are copied byte for byte, and what
  follows the end of the image (a phone's second image and its own Exif) is dropped.
- PNG: ``eXIf``, ``tEXt``, ``iTXt``, ``zTXt`` and ``tIME`` go; every other chunk stays as it was.
- WebP: an ``EXIF`` or ``XMP `` chunk keeps its length but becomes ``JUNK`` of zeros (the RIFF
  size at the file's start stays true without holding the file back), and the extended header
  no longer announces it.
"""

from __future__ import annotations

import re
import struct
from typing import Iterable, Iterator, Optional

#: Types stripped as they are stored.
STRIPPED = frozenset({"image/jpeg", "image/png", "image/apng", "image/webp"})

#: Image types that carry Exif or XMP where they cannot be removed without rewriting the file:
#: refused while stripping is on.
UNSTRIPPABLE = frozenset(
    {
        "image/tiff",
        "image/heic",
        "image/heif",
        "image/avif",
        "image/jxl",
        "image/jpx",
        "image/jp2",
        "image/vnd.ms-photo",
        "image/vnd.adobe.photoshop",
        "image/x-canon-cr2",
        "image/x-xcf",
    }
)

#: Names of those types, which browsers may give no type: a group's acceptedFiles loses them
#: while stripping is on, so that the browser refuses what the server would.
UNSTRIPPABLE_NAMES = frozenset(
    {".tif", ".tiff", ".heic", ".heif", ".avif", ".jxl", ".jpx", ".jp2", ".jxr", ".psd", ".cr2"}
)


def strippable(accepted: str) -> str:
    """An ``acceptedFiles`` list without the types whose metadata cannot be removed."""
    rules = [rule.strip() for rule in accepted.split(",")]
    kept = [r for r in rules if r.lower() not in UNSTRIPPABLE | UNSTRIPPABLE_NAMES]
    return ",".join(kept)


#: Said of a file refused for its type while stripping is on.
UNSTRIPPABLE_MESSAGE = (
    "This server removes location and device data from images and cannot do so from this "
    "type; send a JPEG, PNG or WebP instead."
)
#: Said of an image too damaged to strip.
DAMAGED_MESSAGE = "This image is damaged ({reason}); it was not stored."


class Damaged(ValueError):
    """The image's structure is broken (truncated, a bad length): it cannot be stripped."""


class Stripper:
    """Bytes in, bytes to store out. Subclasses read headers of ``_need()`` bytes into
    ``_held`` and ``_step`` on them, setting how many bytes that follow are copied, dropped
    or zeroed as they come."""

    def __init__(self) -> None:
        self._held = bytearray()
        self._copy = 0  # bytes that follow, passed through
        self._skip = 0  # bytes that follow, dropped
        self._zero = 0  # bytes that follow, stored as zeros
        self._ended = False  # past the image's end: the rest is dropped

    def feed(self, data: bytes) -> bytes:
        """The bytes to store for ``data``, the next piece of the file."""
        out: list[bytes] = []
        view = memoryview(data)
        while view:
            view = self._pass(view, out)
        return b"".join(out)

    def _pass(self, view: memoryview, out: list[bytes]) -> memoryview:
        """Consume the start of ``view`` (at least a byte): the rest of it."""
        if self._copy:
            n = min(self._copy, len(view))
            out.append(bytes(view[:n]))
            self._copy -= n
            return view[n:]
        if self._skip or self._zero:
            n = min(self._skip or self._zero, len(view))
            if self._skip:
                self._skip -= n
            else:
                out.append(bytes(n))
                self._zero -= n
            return view[n:]
        if self._ended or self._complete():
            self._ended = True
            return view[:0]
        need = self._need() - len(self._held)
        self._held += view[:need]
        if len(self._held) == self._need():
            self._step(out)
        return view[need:]

    def end(self) -> bytes:
        """The file has ended: the last bytes to store; Damaged if the image had not."""
        if self._copy or self._skip or self._zero or not (self._ended or self._complete()):
            raise Damaged("it ends early")
        return b""

    def _complete(self) -> bool:
        """Whether the image ended once what is being copied, dropped or zeroed has passed."""
        return False

    def _need(self) -> int:
        raise NotImplementedError

    def _step(self, out: list[bytes]) -> None:
        raise NotImplementedError


def stripper(head: bytes) -> Optional[Stripper]:
    """A stripper for the image ``head`` starts, or None for a file stored as it is."""
    if head.startswith(b"\xff\xd8\xff"):
        return JpegStripper()
    if head.startswith(_PNG):
        return PngStripper()
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WebpStripper()
    return None


def refuses(mimetype: str) -> bool:
    """Whether a file of this (detected) type is refused while stripping is on."""
    return mimetype in UNSTRIPPABLE


def strip(pieces: Iterable[bytes], head: bytes) -> Iterator[bytes]:
    """The stored form of the file made of ``pieces`` (that start with ``head``)."""
    found = stripper(head)
    for piece in pieces:
        yield found.feed(piece) if found else piece
    if found:
        yield found.end()


# JPEG ------------------------------------------------------------------------------------

_SOS, _EOI, _COM, _APP0, _APP1, _APP2, _APP14 = 0xDA, 0xD9, 0xFE, 0xE0, 0xE1, 0xE2, 0xEE
#: Markers with no length: RSTn and TEM.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
#: Where a scan's entropy-coded data ends: 0xFF then a marker (not stuffing, a restart or a fill).
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_ORIENTATION = 0x0112


class JpegStripper(Stripper):
    def __init__(self) -> None:
        super().__init__()
        self._state = "start"  # start, marker, length, segment, scan
        self._orientation_written = False

    def _need(self) -> int:
        if self._state == "segment":
            return 2 + struct.unpack_from(">H", self._held, 2)[0]
        return 4 if self._state == "length" else 2

    def feed(self, data: bytes) -> bytes:
        if (  # most of a photo: scan data with no marker, kept as it came (no copy)
            self._state == "scan"
            and not (self._held or self._copy)
            and data[-1:] not in (b"\xff", b"")
            and _SCAN_END.search(data) is None
        ):
            return data if type(data) is bytes else bytes(data)
        return super().feed(data)

    def _pass(self, view: memoryview, out: list[bytes]) -> memoryview:
        if self._state != "scan" or self._copy:
            return super()._pass(view, out)
        if self._held:  # a 0xFF that ended the last piece
            if view[0] == 0xFF or view[0] == 0 or 0xD0 <= view[0] <= 0xD7:
                out.append(b"\xff")
                self._held.clear()
                if view[0] == 0xFF:
                    return view  # a fill byte: the next one is looked at again
                out.append(bytes(view[:1]))
                return view[1:]
            self._state = "marker"
            return super()._pass(view, out)
        found = _SCAN_END.search(view)
        if found is not None:
            out.append(bytes(view[: found.start()]))
            self._state = "marker"
            return view[found.start() :]
        whole = len(view) - (view[-1] == 0xFF)
        out.append(bytes(view[:whole]))
        self._held += view[whole:]
        return view[len(view) :]

    def _step(self, out: list[bytes]) -> None:
        held = self._held
        if self._state == "start":
            if held != b"\xff\xd8":
                raise Damaged("it does not start as a JPEG does")
            out.append(bytes(held))
            self._next("marker")
        elif self._state == "marker":
            self._marker(out)
        elif self._state == "length":
            self._segment_start(out)
        else:
            self._segment(out)

    def _next(self, state: str) -> None:
        self._held.clear()
        self._state = state

    def _marker(self, out: list[bytes]) -> None:
        held = self._held
        if held[0] != 0xFF:
            raise Damaged("a segment does not start where its length says")
        marker = held[1]
        if marker == 0xFF:  # a fill byte before a marker
            del held[0]
        elif marker == _EOI:
            out.append(bytes(held))
            self._ended = True
            self._next("marker")
        elif marker in _STANDALONE:
            out.append(bytes(held))
            self._next("marker")
        elif marker in (0x00, 0xD8):
            raise Damaged("a marker stands where none can")
        else:
            self._state = "length"

    def _segment_start(self, out: list[bytes]) -> None:
        held = self._held
        marker, length = held[1], struct.unpack_from(">H", held, 2)[0]
        if length < 2:
            raise Damaged("a segment has a length below 2")
        if _APP0 <= marker <= 0xEF or marker == _COM:
            self._state = "segment"  # read whole (at most 64 KiB) to judge it
            if length == 2:
                self._segment(out)
            return
        out.append(bytes(held))
        self._copy = length - 2
        self._next("scan" if marker == _SOS else "marker")

    def _segment(self, out: list[bytes]) -> None:
        held = self._held
        marker, body = held[1], bytes(held[4:])
        if _kept_segment(marker, body):
            out.append(bytes(held))
        elif marker == _APP1 and body.startswith(b"Exif\x00\x00"):
            orientation = _orientation(body[6:])
            if orientation is not None and not self._orientation_written:
                out.append(_exif_orientation(orientation))
                self._orientation_written = True
        self._next("marker")


def _kept_segment(marker: int, body: bytes) -> bool:
    """Whether an APPn or COM segment carries no location or device data: JFIF, an ICC
    profile's part, Adobe's colour transform."""
    return (
        marker == _APP0
        or (marker == _APP2 and body.startswith(b"ICC_PROFILE\x00"))
        or (marker == _APP14 and body.startswith(b"Adobe"))
    )


def _orientation(tiff: bytes) -> Optional[int]:
    """The Orientation (1 to 8) in the first IFD of an Exif block's TIFF structure, if any."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return None
    magic, offset = struct.unpack_from(order + "HI", tiff, 2)
    if magic != 42 or offset + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    for at in range(offset + 2, min(offset + 2 + 12 * count, len(tiff) - 11), 12):
        tag, kind, number = struct.unpack_from(order + "HHI", tiff, at)
        if tag == _ORIENTATION and kind == 3 and number == 1:
            (value,) = struct.unpack_from(order + "H", tiff, at + 8)
            return value if 1 <= value <= 8 else None
    return None


def _exif_orientation(value: int) -> bytes:
    """An APP1 Exif segment whose only entry is the Orientation ``value``."""
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(
        ">HHHIHHI", 1, _ORIENTATION, 3, 1, value, 0, 0
    )
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", 2 + len(body)) + body


# PNG -------------------------------------------------------------------------------------

_PNG = b"\x89PNG\r\n\x1a\n"
#: Chunks that carry text, Exif or a time: dropped.
PNG_DROPPED = frozenset({b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"})
_CHUNK_TYPE = re.compile(rb"[A-Za-z]{4}")


class PngStripper(Stripper):
    def __init__(self) -> None:
        super().__init__()
        self._started = False
        self._last = False  # IEND's header was read

    def _need(self) -> int:
        return 8

    def _complete(self) -> bool:
        return self._last

    def _step(self, out: list[bytes]) -> None:
        held = bytes(self._held)
        self._held.clear()
        if not self._started:
            if held != _PNG:
                raise Damaged("it does not start as a PNG does")
            self._started = True
            out.append(held)
            return
        (length,) = struct.unpack_from(">I", held)
        kind = held[4:]
        if length >= 2**31 or not _CHUNK_TYPE.fullmatch(kind):
            raise Damaged("a chunk has a bad length or type")
        if kind in PNG_DROPPED:
            self._skip = length + 4  # its data and CRC
            return
        out.append(held)
        self._copy = length + 4
        self._last = kind == b"IEND"


# WebP ------------------------------------------------------------------------------------

#: Chunks that carry Exif or XMP, and the extended header's flags announcing them.
WEBP_DROPPED = {b"EXIF": 0x08, b"XMP ": 0x04}


class WebpStripper(Stripper):
    def __init__(self) -> None:
        super().__init__()
        self._size: Optional[int] = None  # the file's length, as its RIFF header says
        self._next = 12  # where the next chunk starts

    def _need(self) -> int:
        if self._size is None:
            return 12
        return 18 if self._held[:4] == b"VP8X" else 8  # the extended header is read whole

    def _complete(self) -> bool:
        return self._next == self._size

    def _step(self, out: list[bytes]) -> None:
        held = bytes(self._held)
        self._held.clear()
        if self._size is None:
            (size,) = struct.unpack_from("<I", held, 4)
            if held[:4] != b"RIFF" or held[8:] != b"WEBP" or size < 4 or size % 2:
                raise Damaged("its RIFF header is wrong")
            self._size = size + 8
            out.append(held)
            return
        kind, size = held[:4], struct.unpack_from("<I", held, 4)[0]
        padded = size + (size & 1)
        self._next += 8 + padded
        if self._next > self._size or (kind == b"VP8X" and size != 10):
            raise Damaged("a chunk has a bad length")
        if kind == b"VP8X":
            flags = held[8] & ~(WEBP_DROPPED[b"EXIF"] | WEBP_DROPPED[b"XMP "])
            out.append(held[:8] + bytes([flags]) + held[9:])
        elif kind in WEBP_DROPPED:
            out.append(b"JUNK" + held[4:])
            self._zero = padded
        else:
            out.append(held)
            self._copy = padded
