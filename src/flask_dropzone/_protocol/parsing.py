"""The app's multipart parser: a request's body read once, each file part streamed into its
sink (memory, the store's staging, a chunk's upload) and judged while it arrives, whoever
reads the form first."""

from __future__ import annotations

import io
import re
from typing import IO, Any, Optional, Sequence, Union

from flask import Flask, Request, after_this_request, current_app, g, session
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from .. import _stores as stores
from .._rules import chunks, formdata, pending, validation, zonerules
from .._rules.settings import Options, resolve
from .._rules.zonerules import Zone, ZoneGone
from ..errors import BadUpload, FileTooLarge, UploadRefused
from .clients import CLIENT_KEY, client_id
from .context import the_app
from .folders import chunk_store, pending_folder, upload_folder
from .reporting import STORE_ERRORS, log, report, store_error
from .sinks import ChunkSink, FileSink, field_index
from .sweep import clean_later
from .uploads import Upload

Sink = Union[FileSink, ChunkSink]
#: After refusing an upload, read at most this much of the rest of its body so
#: that the browser receives the refusal instead of a reset connection.
DRAIN_LIMIT = 32 * 1024 * 1024
#: Room for multipart boundaries, part headers and form fields in a request.
OVERHEAD = 1024 * 1024
#: The longest boundary RFC 2046 allows; and the one longer boundary read, Werkzeug's test
#: client's (``-`` * 15, ``WerkzeugFormPart_``, the time and a random float: up to 75).
MAX_BOUNDARY = 70
TEST_CLIENT_BOUNDARY = re.compile(r"-{15}WerkzeugFormPart_[0-9.e-]{1,43}")
#: The refusal of a chunk request with several file parts (each would open the upload).
ONE_FILE = "A chunk request carries one file."
#: The refusal of a chunk sent to a zone without ``CHUNKING``.
NOT_CHUNKED = "This zone does not take chunked uploads."
#: The form field tickets a form's body is looked through for (a form has a few fields).
MAX_FIELD_TICKETS = 16
#: On the answer to the chunk request that completed its file.
COMPLETE_HEADER = "X-Dropzone-Complete"


Part = Union[Upload, UploadRefused]


class UploadFormParser(FormDataParser):
    """The app's form body parser (Werkzeug's ``form_data_parser_class``): a multipart
    body is read by ours, each file written once, into the upload folder, whoever reads
    the form first. Read by ``files()`` or ``save()``, its files are checked while bytes
    arrive against their settings; read before the view (CSRFProtect), against the
    zone's signed rules (:mod:`~flask_dropzone._rules.zonerules`) if the request carries
    valid ones, else received unchecked, and ``files()`` and ``save()`` judge again by
    their own settings where these differ."""

    request: Optional[Request] = None

    def parse(
        self, stream: IO[bytes], mimetype: str, content_length: Optional[int], options: Any = None
    ) -> Any:
        if mimetype != "multipart/form-data" or self.request is None:
            return super().parse(stream, mimetype, content_length, options)
        app = the_app()
        zone = g.get("_dropzone_zone")  # the view's own settings, reading the body now
        signed = None
        if zone is None:  # else the zone's own settings, signed: whoever reads the form
            signed, zone = signed_zone(app, self.request)
        if zone is not None:
            settings, folder, checked = zone[0], zone[1], True
        else:
            settings = resolve(app.config)
            folder, checked = upload_folder(settings), False
        receiver = Receiver(self.request, settings, folder, checked=checked)
        try:
            fields = receiver.parse(stream, (options or {}).get("boundary", ""))
        except UploadRefused as refused:
            g._dropzone_refusal = refused
            if signed is not None:  # refused before any view (CSRFProtect's read): told here
                report(refused, signed.name)
            if checked or not isinstance(refused, BadUpload) or not self.silent:
                raise
            return io.BytesIO(), self.cls(), self.cls()  # Werkzeug's way with a malformed body
        g._dropzone_parts, g._dropzone_checked = receiver.parts(), checked
        g._dropzone_chunks = [sink for sink in receiver.sinks if isinstance(sink, ChunkSink)]
        files = self.cls(
            [(name, item) for name, item in g._dropzone_parts if isinstance(item, Upload)]
        )
        return io.BytesIO(), fields, files


def signed_zone(app: Flask, req: Request) -> tuple[Optional[Zone], Optional[tuple[Options, str]]]:
    """The zone a request's signed value names, with its settings of today and its folder, for
    whoever reads the form before the endpoint: a form field's upload names its field's by its
    ticket, for the pending endpoint only (:mod:`~flask_dropzone._rules.pending`); any other,
    by its zone's rules signed for a view (:mod:`~flask_dropzone._rules.zonerules`), never a
    direct zone's."""
    client = session.get(CLIENT_KEY)
    folder: Optional[str] = None
    if req.endpoint == pending.ENDPOINT:
        ticket = pending.read_ticket(app, req.headers.get(pending.HEADER), client)
        zone = None if ticket is None else ticket.zone
        if ticket is not None:  # received where it is kept: its client's pending files
            folder = pending_folder(resolve(app.config), ticket.client)
    else:
        zone = zonerules.load(app, req.headers.get(zonerules.HEADER), client, zonerules.VIEW)
    if zone is None:
        return None, None
    try:
        options = zone.options(app.config)
    except ZoneGone:
        return None, None
    return zone, (options, folder or upload_folder(options))


class UploadRequest(Request):
    """The request class whose multipart parser is the extension's: ``init_app()`` makes the
    app's request class a subclass of this one and of the app's own."""

    form_data_parser_class = UploadFormParser

    def make_form_data_parser(self) -> FormDataParser:
        parser = super().make_form_data_parser()
        if isinstance(parser, UploadFormParser):
            parser.request = self
        return parser


def install(app: Flask) -> None:
    """Give the app a request class whose form parser is ours (a subclass of its own)."""
    if not issubclass(app.request_class, UploadRequest):
        base = app.request_class
        made = type(base.__name__, (UploadRequest, base), {})
        app.request_class = made  # type: ignore[assignment]


def settle_after_response(received: list[Upload]) -> None:
    """Commit or give back the request's hand-overs once its status is known. An answer
    that commits one says so (``X-Dropzone-Complete``): with parallel chunks the page takes
    it as the file's answer, whichever chunk's answer reaches it last."""
    received = [upload for upload in received if upload._handover is not None]
    if not received:
        return

    @after_this_request
    def settle(response):
        for upload in received:
            try:
                upload.settle(response.status_code)
            except STORE_ERRORS as error:  # its end not recorded (a full disk): the answer stands
                log.error("ending a chunked upload failed: %s", error)
        if response.status_code < 400:
            response.headers[COMPLETE_HEADER] = "1"
        return response


def discard(sinks: Sequence[Sink]) -> None:
    """Give back what the sinks of a refused request hold; a clean-up that fails (a planted
    entry) is logged, and the request's own refusal answered."""
    for sink in sinks:
        try:
            sink.discard()
        except Exception as error:
            log.error("cleaning up a refused upload failed: %s", error)


class Receiver:
    """Reads one request's body, each file part into its sink as it arrives: checked
    against ``options`` (``checked``), or received as it is, to be judged later."""

    def __init__(self, req: Request, options: Options, folder: str, checked: bool = True) -> None:
        self.req, self.options, self.folder, self.checked = req, options, folder, checked
        self.files = stores.of(current_app).files
        self.sinks: list[Sink] = []
        self.count = 0
        #: Files of a zone sending several per request are refused one by one, not all at once.
        self.per_file = checked and options.upload_multiple and not options.in_form
        self.opening: Optional[str] = None  #: the file whose sink is being made
        self.memory = 0  #: bytes of file parts held in memory
        self.open_files = 0  #: temporary files of finished parts kept open
        self.boundary = ""
        self.field_files: dict[str, int] = {}  #: a form field's files posted with the form, by name

    def size_of_only_file(self, sink: FileSink) -> int:
        """The size of a file refused while it arrives, for its message: the body's length
        less the framing around one file part, as a zone sends it (at least what came)."""
        length = self.req.content_length
        if (
            length is None
            or self.options.upload_multiple
            or self.options.in_form
            or len(self.sinks) > 1
        ):
            return sink.size
        headers = sum(len(key) + len(value) + 4 for key, value in sink.headers.items())
        framing = 2 * len(self.boundary) + headers + 14  # --B CRLF, headers, CRLF, CRLF --B-- CRLF
        return max(sink.size, length - framing)

    @property
    def current(self) -> Optional[str]:
        """The client's name of the file being received, if one is."""
        if self.opening is not None:
            return self.opening
        sink = self.sinks[-1] if self.sinks else None
        return sink.filename if sink is not None and not sink.finished else None

    def parts(self) -> list[tuple[str, Part]]:
        """The file parts received, as (field, file) pairs; a file refused on its own
        (one outcome per file) is its refusal."""
        parts: list[tuple[str, Part]] = []
        for sink in self.sinks:
            if sink.upload is not None:
                parts.append((sink.name, sink.upload))
            elif isinstance(sink, FileSink) and sink.refusal is not None:
                parts.append((sink.name, sink.refusal))
        return parts

    def parse(self, stream: IO[bytes], boundary: str) -> "MultiDict[str, str]":
        """Read the body; return its fields. A refusal names its file, and leaves nothing."""
        try:
            fields = self._parse(stream, boundary)
        except BaseException as error:
            if isinstance(error, UploadRefused) and self.current is not None:
                error.about(self.current)
            discard(self.sinks)
            raise
        received = [sink.upload for sink in self.sinks if sink.upload is not None]
        settle_after_response(received)
        if any(
            isinstance(sink, FileSink) and sink.staged is not None and sink.staged.leaves_traces
            for sink in self.sinks
        ):
            clean_later(
                self.options
            )  # no O_TMPFILE here: a dead process would leave its file behind
        return fields

    def open_sink(
        self, name: str, filename: str, headers: Headers, fields: "MultiDict[str, str]"
    ) -> Sink:
        self.opening = filename or None
        sink = self._open_sink(name, filename, headers, fields)
        self.opening = None
        return sink

    def _open_sink(
        self, name: str, filename: str, headers: Headers, fields: "MultiDict[str, str]"
    ) -> Sink:
        options = self.options
        mine = self.checked and filename != "" and field_index(name, options.input_name) is not None
        if (
            self.checked
            and filename
            and chunks.is_chunk(fields)
            and any(sink.filename for sink in self.sinks)
        ):
            raise chunks.BadChunk(ONE_FILE)  # before a second chunk waits on the first's hand-over
        if mine:
            self.count += 1
            validation.check_count(self.count, options)
        sink: Sink
        if mine and chunks.is_chunk(fields):
            if not options.chunking:
                raise chunks.BadChunk(NOT_CHUNKED)
            sink = self._chunk_sink(name, filename, headers, fields)
        elif not mine and filename and pending.TICKET_INPUT in fields:
            sink = self._field_sink(name, filename, headers, fields)
        else:
            sink = FileSink(self, name, filename, headers, self.folder, options if mine else None)
        self.sinks.append(sink)
        return sink

    def _field_sink(
        self, name: str, filename: str, headers: Headers, fields: "MultiDict[str, str]"
    ) -> FileSink:
        """A form field's file posted with its form (no JavaScript): judged by the field's
        settings (its ticket, signed into the form before the file input) while it arrives,
        refused on its own, so the form comes back with the field's error, and written no
        further than the field's limits."""
        app = the_app()
        client = session.get(CLIENT_KEY)
        for token in fields.getlist(pending.TICKET_INPUT)[:MAX_FIELD_TICKETS]:
            ticket = pending.read_ticket(app, token, client)
            if ticket is None or ticket.name != name:
                continue
            try:
                options = ticket.zone.options(app.config)
            except zonerules.ZoneGone:
                break
            folder = pending_folder(resolve(app.config), ticket.client)
            sink = FileSink(self, name, filename, headers, folder, options, True)
            self.field_files[name] = count = self.field_files.get(name, 0) + 1
            try:
                validation.check_count(count, options)
            except UploadRefused as refused:
                sink.refuse(refused)
            return sink
        return FileSink(self, name, filename, headers, self.folder, None)

    def _chunk_sink(
        self, name: str, filename: str, headers: Headers, fields: "MultiDict[str, str]"
    ) -> ChunkSink:
        options = self.options
        chunk = chunks.parse(fields, filename, options.chunk_size)
        store = chunk_store(options)
        sink = ChunkSink(name, headers, chunk, options, store, self.files, client_id(), self.folder)
        clean_later(options)
        return sink

    def _parse(self, stream: IO[bytes], boundary: str) -> "MultiDict[str, str]":
        req, options = self.req, self.options
        self.boundary = boundary
        if not boundary:
            raise BadUpload("The upload is not valid multipart/form-data: it has no boundary.")
        if len(boundary) > MAX_BOUNDARY and not TEST_CLIENT_BOUNDARY.fullmatch(boundary):
            raise BadUpload(
                "The upload is not valid multipart/form-data: its boundary is over 70 characters."
            )
        limit = validation.size_limit(options)
        length = req.content_length
        if (
            self.checked
            and length is not None
            and limit is not None
            and options.max_files is not None
        ):
            if length > options.max_files * limit + OVERHEAD:
                raise validation.too_large(length, options)  # refused from the headers alone
        environ = req.environ
        body = _Body(
            stream,
            length,
            environ.get("wsgi.input") if environ.get("wsgi.input_terminated") else None,
        )
        try:
            fields = formdata.parse(
                body.read,
                boundary.encode("latin-1", "replace"),
                self.open_sink,
                max_form_memory_size=req.max_form_memory_size,
                max_form_parts=req.max_form_parts,
            )
            if chunks.is_chunk(fields) and any(
                isinstance(s, FileSink) and s.options for s in self.sinks
            ):
                raise chunks.BadChunk("The chunk fields must come before the file.")
        except BaseException as error:
            refusal = answer_for(error, body)
            if refusal is error:
                raise
            raise refusal from error
        return fields


class _Body:
    """The request body, read on demand, counting what was read. ``raw`` is the server's
    own stream of a body without a length (chunked), which the server ends itself."""

    def __init__(
        self, stream: IO[bytes], length: Optional[int], raw: Optional[IO[bytes]] = None
    ) -> None:
        self.stream, self.length, self.raw = stream, length, raw
        self.consumed = 0

    def read(self, size: int) -> bytes:
        data = self.stream.read(size)  # past MAX_CONTENT_LENGTH: RequestEntityTooLarge
        self.consumed += len(data)
        return data

    def drain(self) -> None:
        """Read what is left, when little is (at most DRAIN_LIMIT of a body without a
        length, past ``MAX_CONTENT_LENGTH`` too), so that the client receives the refusal
        instead of a reset connection."""
        if self.length is None:
            stream, left = self.raw, DRAIN_LIMIT
        else:
            stream, left = self.stream, self.length - self.consumed
        if stream is None or left > DRAIN_LIMIT:
            return
        try:
            while left > 0:
                block = stream.read(min(left, formdata.READ_SIZE))
                if not block:
                    break
                left -= len(block)
        except (OSError, HTTPException, ValueError):
            pass


def answer_for(error: BaseException, body: Optional[_Body]) -> BaseException:
    """The refusal to answer with for ``error``, after draining what is left of the body."""
    if isinstance(error, RequestEntityTooLarge):
        error = FileTooLarge("The upload is larger than the server accepts.")
    elif isinstance(error, formdata.Malformed):
        error = BadUpload(f"The upload is not valid multipart/form-data: {error}")
    elif isinstance(error, STORE_ERRORS):
        error = store_error(error)
    if isinstance(error, UploadRefused) and body is not None:
        body.drain()
    return error
