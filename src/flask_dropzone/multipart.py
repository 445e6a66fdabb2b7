"""Reading ``multipart/form-data`` from a stream, each file part straight into its sink.

Werkzeug's sans-IO ``MultipartDecoder`` does the parsing; this module only
moves bytes: form fields are collected in memory (bounded like Werkzeug's own
parser), and for each file part ``open_file`` picks where its bytes go,
knowing the fields that came before it (Dropzone's chunk fields do).
"""

from __future__ import annotations

from typing import Callable, Optional, Protocol

from werkzeug.datastructures import Headers, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

#: Bytes read from the request per call: the decoder is fastest with buffers this size.
READ_SIZE = 64 * 1024


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...

    def finish(self) -> None:
        """The part is complete."""


OpenFile = Callable[[str, str, Headers, "MultiDict[str, str]"], Sink]


def _text(data: bytes, headers: Headers) -> str:
    charset = parse_options_header(headers.get("content-type", ""))[1].get("charset", "utf-8")
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def parse(
    read: Callable[[int], bytes],
    boundary: bytes,
    open_file: OpenFile,
    *,
    max_form_memory_size: Optional[int] = None,
    max_form_parts: Optional[int] = None,
) -> "MultiDict[str, str]":
    """Parse the body ``read`` returns; return its fields. Files go to their sinks.

    Raises ValueError for malformed input and RequestEntityTooLarge past the limits.
    """
    decoder = MultipartDecoder(
        boundary, max_form_memory_size=max_form_memory_size, max_parts=max_form_parts
    )
    fields: MultiDict[str, str] = MultiDict()
    field: Optional[Field] = None
    value: list[bytes] = []
    value_size = 0
    sink: Optional[Sink] = None
    done = False
    while not done:
        chunk = read(READ_SIZE)
        decoder.receive_data(chunk or None)
        while True:
            event = decoder.next_event()
            if isinstance(event, NeedData):
                if not chunk:
                    raise ValueError("the body ends inside a part")
                break
            if isinstance(event, Epilogue):
                done = True
                break
            if isinstance(event, File):
                field, sink = None, open_file(event.name, event.filename, event.headers, fields)
            elif isinstance(event, Field):
                field, sink, value, value_size = event, None, [], 0
            elif isinstance(event, Data):
                if sink is not None:
                    sink.write(event.data)
                    if not event.more_data:
                        sink.finish()
                elif field is not None:
                    value_size += len(event.data)
                    if max_form_memory_size is not None and value_size > max_form_memory_size:
                        raise RequestEntityTooLarge()
                    value.append(event.data)
                    if not event.more_data:
                        fields.add(field.name, _text(b"".join(value), field.headers))
    return fields
