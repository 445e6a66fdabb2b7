"""Reading ``multipart/form-data`` as it arrives, each file part straight into its sink.

The parsing itself is the ``multipart`` library's sans-IO ``PushMultipartParser``,
chosen by measurement (docs: Performance, "Parsing"): as fast as a hand-written reader on
large files, linear in the body whatever its bytes, its buffer bounded by the
read size and the header limit. This module adds what the receiving code
needs around it: file parts handed to sinks as they arrive, fields decoded
with an allow-list of charsets, Werkzeug's form limits, one error type for a
malformed body, and one allowance for Werkzeug's test client (below).
"""

from __future__ import annotations

import re
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
#: Characters no part header holds (RFC 7230 field values): a part with them is malformed,
#: as Werkzeug's ``Headers`` would refuse its CR and LF anyway.
_FORBIDDEN = re.compile(r"[\r\n\0]")


class Malformed(ValueError):
    """The body is not valid multipart/form-data."""


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
    """What the parse produces: the fields, the sinks, the limits, shared by its levels."""

    def __init__(
        self,
        boundary: bytes,
        open_file: OpenFile,
        max_memory: Optional[int],
        max_parts: Optional[int],
    ):
        self.boundary, self.open_file = boundary, open_file
        self.max_memory, self.max_parts = max_memory, max_parts
        self.delimiter_line = b"--" + boundary
        self.fields: MultiDict[str, str] = MultiDict()
        self.parts = 0

    def parser(self) -> PushMultipartParser:
        return PushMultipartParser(
            self.boundary, max_header_size=MAX_HEADER_SIZE, max_header_count=MAX_HEADER_COUNT
        )


class _Level:
    """One parser's events turned into fields and sinks.

    Werkzeug's test client (``client.post(data=...)``) writes an empty part
    without the blank line that ends its headers: the delimiter that follows
    supplies it, so the part's body seems to start with a delimiter line.
    Werkzeug's parser reads such a part as empty, and so must we, or it would
    swallow the part after it. Such a body (only a client that writes an empty
    part this way sends one: it cannot hold a delimiter) is read by a parser
    of its own, as a multipart body of its own; browsers' bodies never take
    this path, so they are scanned once.
    """

    def __init__(self, form: _Form) -> None:
        self.form = form
        self.parser = form.parser()
        self.segment: Optional[MultipartSegment] = None
        self.sink: Optional[Sink] = None
        self.value: list[bytes] = []
        self.size = 0
        self.start: Optional[bytes] = None  # a body's first bytes, until they tell
        self.inner: Optional[_Level] = None

    def feed(self, data: bytes) -> None:
        for event in self.parser.parse(data):
            if isinstance(event, MultipartSegment):
                self._start_part(event)
            elif event is None:
                if self.start is not None:
                    self._body(self.start, ended=True)
                if self.inner is not None:
                    self.inner.feed(b"\r\n" + self.form.delimiter_line + b"--\r\n")
                    self.inner.finish()
                    self.inner = None
                else:
                    self._end_part()
            elif self.start is not None:
                self._body(self.start + event, ended=False)
            else:
                self._data(event)

    def finish(self) -> None:
        """The end of the input: the parser checks the body was complete."""
        if self.inner is not None:
            self.inner.finish()  # this level's own parser was left inside a part
        else:
            self.feed(b"")

    def _body(self, start: bytes, ended: bool) -> None:
        """Decide from a body's first bytes whether it is a delimiter line (see above)."""
        line = self.form.delimiter_line
        if len(start) < len(line) + 2 and not ended:
            self.start = start
            return
        self.start = None
        if start.startswith(line) and start[len(line) : len(line) + 2] in (b"\r\n", b"--"):
            self._end_part()  # an empty part, as Werkzeug's test client writes it
            self.inner = _Level(self.form)
            self.inner.feed(start)
        elif start:
            self._data(start)

    def _data(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.feed(data)
        elif self.sink is not None:
            self.sink.write(data)
        else:
            self.size += len(data)
            if self.form.max_memory is not None and self.size > self.form.max_memory:
                raise RequestEntityTooLarge()
            self.value.append(data)

    def _start_part(self, segment: MultipartSegment) -> None:
        form = self.form
        form.parts += 1
        if form.max_parts is not None and form.parts > form.max_parts:
            raise RequestEntityTooLarge()
        if not segment.name:
            raise Malformed("a part has no name")
        if any(
            _FORBIDDEN.search(name) or _FORBIDDEN.search(value)
            for name, value in segment.headerlist
        ):
            raise Malformed("a part header holds a line break or NUL")
        self.segment, self.value, self.size, self.start = segment, [], 0, b""
        if segment.filename is not None:
            try:
                headers = Headers(segment.headerlist)
            except (TypeError, ValueError) as error:  # whatever else Werkzeug refuses in a header
                raise Malformed(f"a part header is not valid: {error}") from None
            self.sink = form.open_file(segment.name, segment.filename, headers, form.fields)

    def _end_part(self) -> None:
        if self.sink is not None:
            self.sink.finish()
            self.sink = None
        elif self.segment is not None:
            self.form.fields.add(
                self.segment.name, decode_field(b"".join(self.value), self.segment.charset)
            )
        self.segment = None


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

    Raises Malformed (a ValueError) for a malformed body and RequestEntityTooLarge past the limits
    (Werkzeug's ``MAX_FORM_MEMORY_SIZE`` per field and ``MAX_FORM_PARTS``).
    """
    try:
        form = _Form(boundary, open_file, max_form_memory_size, max_form_parts)
        level = _Level(form)
        while True:
            block = read(READ_SIZE)
            if not block:
                level.finish()
                return form.fields
            level.feed(block)
    except ParserLimitReached:
        raise RequestEntityTooLarge() from None
    except MultipartError as error:
        raise Malformed(str(error)) from None
