"""Reading ``multipart/form-data`` as it arrives, each file part straight into its sink.

The parsing itself is the ``multipart`` library's sans-IO ``PushMultipartParser``,
chosen by measurement (README, "Parsing"): as fast as a hand-written reader on
large files, linear in the body whatever its bytes, its buffer bounded by the
read size and the header limit. This module adds what the receiving code
needs around it: file parts handed to sinks as they arrive, fields decoded
with an allow-list of charsets, Werkzeug's form limits, one error type for a
malformed body, and one allowance for Werkzeug's test client (below).
"""

from __future__ import annotations

from typing import Callable, Optional, Protocol

from multipart import MultipartError, MultipartSegment, ParserLimitReached, PushMultipartParser
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

#: Bytes asked of the request stream at once: servers (gunicorn) copy less with large reads.
READ_SIZE = 1024 * 1024
#: Longest header line of a part; a file name of 255 characters takes at most 1 KiB.
MAX_HEADER_SIZE = 8 * 1024
#: Most header lines of a part (browsers send two).
MAX_HEADER_COUNT = 8
#: Charsets a text field may name, as Werkzeug allows; any other decodes as UTF-8.
#: Decoders such as punycode take quadratic time: a part must not choose one.
CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"})


class Sink(Protocol):
    def write(self, data: bytes) -> None:
        """Bytes of the part, in order."""

    def finish(self) -> None:
        """The part is complete."""


OpenFile = Callable[[str, str, Headers, "MultiDict[str, str]"], Sink]


def decode_field(data: bytes, charset: Optional[str]) -> str:
    """A text field's value, in its charset if that is one of :data:`CHARSETS`."""
    charset = (charset or "utf-8").strip().lower()
    return data.decode(charset if charset in CHARSETS else "utf-8", "replace")


class _Form:
    """The parser's events turned into fields and sinks.

    Werkzeug's test client (``client.post(data=...)``) writes an empty part
    without the blank line that ends its headers: the delimiter that follows
    supplies it. Werkzeug's parser reads such a part as empty, and so must we,
    or the part would swallow the next one. Where a header block ends right
    before a delimiter, the body is fed so that a piece ends there; if the next
    piece starts with the delimiter, the part is empty and a new parser takes
    over at the delimiter line.
    """

    def __init__(self, boundary: bytes, open_file: OpenFile, max_memory: Optional[int], max_parts: Optional[int]):
        self.boundary, self.open_file = boundary, open_file
        self.max_memory, self.max_parts = max_memory, max_parts
        self.delimiter_line = b"--" + boundary
        self.parser = self._parser()
        self.fields: MultiDict[str, str] = MultiDict()
        self.parts = 0
        self.segment: Optional[MultipartSegment] = None
        self.sink: Optional[Sink] = None
        self.value: list[bytes] = []
        self.size = 0
        self.at_body_start = False

    def _parser(self) -> PushMultipartParser:
        return PushMultipartParser(
            self.boundary, max_header_size=MAX_HEADER_SIZE, max_header_count=MAX_HEADER_COUNT
        )

    def feed(self, piece: bytes) -> None:
        if self.at_body_start and self._starts_with_delimiter(piece):
            self._end_part()  # an empty part, as Werkzeug's test client writes it
            self.parser = self._parser()
        self.at_body_start = False
        for event in self.parser.parse(piece):
            self.at_body_start = False
            if isinstance(event, MultipartSegment):
                self._start_part(event)
                self.at_body_start = True
            elif event is None:
                self._end_part()
            elif self.sink is not None:
                self.sink.write(event)
            else:
                self.size += len(event)
                if self.max_memory is not None and self.size > self.max_memory:
                    raise RequestEntityTooLarge()
                self.value.append(event)

    def _starts_with_delimiter(self, piece: bytes) -> bool:
        after = piece[len(self.delimiter_line) : len(self.delimiter_line) + 2]
        return piece.startswith(self.delimiter_line) and after in (b"\r\n", b"--")

    def _start_part(self, segment: MultipartSegment) -> None:
        self.parts += 1
        if self.max_parts is not None and self.parts > self.max_parts:
            raise RequestEntityTooLarge()
        if not segment.name:
            raise ValueError("a part has no name")
        self.segment, self.value, self.size = segment, [], 0
        if segment.filename is not None:
            self.sink = self.open_file(segment.name, segment.filename, Headers(segment.headerlist), self.fields)

    def _end_part(self) -> None:
        if self.sink is not None:
            self.sink.finish()
            self.sink = None
        elif self.segment is not None:
            self.fields.add(self.segment.name, decode_field(b"".join(self.value), self.segment.charset))
        self.segment = None


def _split_points(data: bytes, marker: bytes, final: bool) -> tuple[list[int], int]:
    """Where to cut ``data`` so that a piece ends right after each ``\\r\\n\\r\\n`` of
    ``marker`` (a header block's end followed by a delimiter), and how much of it
    to feed now: the rest could be the start of a marker cut short by the read."""
    points, start = [], 0
    keep = len(data)
    while True:
        index = data.find(marker, start)
        if index < 0:
            break
        if index + len(marker) + 2 > len(data) and not final:
            keep = index  # the bytes after the delimiter are still to come
            break
        points.append(index + 4)
        start = index + len(marker) + 2  # the delimiter line's start stays in one piece
    if not final and keep == len(data):
        index = data.find(b"\r", max(start, len(data) - len(marker) + 1))
        while index >= 0:  # the first candidate is the longest
            if marker.startswith(data[index:]):
                keep = index
                break
            index = data.find(b"\r", index + 1)
    return points, keep


def parse(
    read: Callable[[int], bytes],
    boundary: bytes,
    open_file: OpenFile,
    *,
    max_form_memory_size: Optional[int] = None,
    max_form_parts: Optional[int] = None,
) -> "MultiDict[str, str]":
    """Parse the body ``read`` returns and return its fields; each file part goes to
    the sink ``open_file`` gives for it, knowing the fields before it.

    Raises ValueError for a malformed body and RequestEntityTooLarge past the limits
    (Werkzeug's ``MAX_FORM_MEMORY_SIZE`` per field and ``MAX_FORM_PARTS``).
    """
    try:
        form = _Form(boundary, open_file, max_form_memory_size, max_form_parts)
        marker = b"\r\n\r\n--" + boundary
        held = b""
        while True:
            block = read(READ_SIZE)
            data = held + block if held else block
            points, keep = _split_points(data, marker, final=not block)
            start = 0
            for point in points:
                form.feed(data[start:point])
                start = point
            if keep > start:
                form.feed(data[start:keep] if start or keep < len(data) else data)
            held = data[keep:]
            if not block:
                form.feed(b"")  # the end: the parser checks the body was complete
                return form.fields
    except ParserLimitReached:
        raise RequestEntityTooLarge() from None
    except MultipartError as error:
        raise ValueError(str(error)) from None
