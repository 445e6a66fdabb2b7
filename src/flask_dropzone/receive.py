"""The current request's uploads: parsed once, streamed to disk, checked, stored."""

from __future__ import annotations

import errno
import io
import os
from typing import Optional

from flask import Flask, current_app, g, request
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import multipart, validation
from .errors import BadUpload, FileTooLarge, InsufficientStorage, UploadRefused, plain_text
from .settings import Options
from .uploads import MEMORY_LIMIT, FileSink, SavedFile, Upload, field_index, in_order

#: After refusing an upload, read at most this much of the rest of its body so
#: that the browser receives the refusal instead of a reset connection.
DRAIN_LIMIT = 32 * 1024 * 1024
#: Room for multipart boundaries, part headers and form fields in a request.
OVERHEAD = 1024 * 1024


def uploads(options: Options, folder: Optional[str] = None) -> list[Upload]:
    """This request's files under ``options.input_name``, checked against ``options``.

    The body is parsed on the first call; ``folder`` is where files are
    expected to end up, so that storing them there is a rename, not a copy.
    """
    if request.mimetype != "multipart/form-data":
        return []
    received = g.get("_dropzone_uploads")
    if received is None:
        received = g._dropzone_uploads = _receive(options, folder)
    mine = [upload for upload in in_order(received, options.input_name) if upload.filename]
    validation.check_count(len(mine), options)
    for upload in mine:
        validation.check_size(upload.size, options)
        upload.detected_type = validation.check_type(upload.filename or "", upload.head, options)
    return mine


def store(files: list[Upload], folder: str) -> list[SavedFile]:
    try:
        return [upload.publish(folder) for upload in files]
    except OSError as error:
        raise _disk_error(error) from error


def _disk_error(error: OSError) -> Exception:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientStorage("The server has no room for this file.")
    return error


def _receive(options: Options, folder: Optional[str]) -> list[Upload]:
    if "form" in request.__dict__ or "_cached_data" in request.__dict__:
        # Something (Flask-WTF's CSRFProtect, say) parsed the body already.
        return [Upload.wrap(file) for _, file in request.files.items(multi=True)]
    boundary = request.mimetype_params.get("boundary", "").encode("latin-1", "replace")
    if not boundary:
        raise BadUpload("The upload is not valid multipart/form-data: it has no boundary.")
    _check_length(options)
    if folder is None and (request.content_length or MEMORY_LIMIT + 1) > MEMORY_LIMIT:
        folder = options.upload_folder or os.path.join(current_app.instance_path, "uploads")

    sinks: list[FileSink] = []
    count = 0

    def open_file(name: str, filename: str, headers: Headers, fields: MultiDict) -> FileSink:
        nonlocal count
        mine = filename != "" and field_index(name, options.input_name) is not None
        if mine:
            count += 1
            validation.check_count(count, options)
        sink = FileSink(name, filename, headers, folder, options if mine else None)
        sinks.append(sink)
        return sink

    body = _Body()
    try:
        fields = multipart.parse(
            body.read,
            boundary,
            open_file,
            max_form_memory_size=getattr(request, "max_form_memory_size", None),
            max_form_parts=getattr(request, "max_form_parts", None),
        )
    except BaseException as error:
        for sink in sinks:
            sink.discard()
        refusal = _refusal(error, body)
        if refusal is error:
            raise
        raise refusal from error
    received = [sink.upload for sink in sinks if sink.upload is not None]
    request.__dict__.update(
        form=fields,
        files=MultiDict([(upload.name, upload) for upload in received]),
        stream=io.BytesIO(),
    )
    return received


def _check_length(options: Options) -> None:
    """Refuse from the headers alone a body that cannot fit the limits."""
    limit = validation.size_limit(options)
    length = request.content_length
    if length is not None and limit is not None and options.max_files is not None:
        if length > options.max_files * limit + OVERHEAD:
            raise validation.too_large(length, options)


class _Body:
    """The request body, read on demand, counting what was read."""

    def __init__(self) -> None:
        self.stream: Optional[io.RawIOBase] = None
        self.consumed = 0

    def read(self, size: int) -> bytes:
        if self.stream is None:
            self.stream = request.stream  # raises RequestEntityTooLarge past MAX_CONTENT_LENGTH
        data = self.stream.read(size)
        self.consumed += len(data)
        return data

    def drain(self) -> None:
        length = request.content_length
        if self.stream is None or length is None or length - self.consumed > DRAIN_LIMIT:
            return
        try:
            while self.read(multipart.READ_SIZE):
                pass
        except (OSError, HTTPException, ValueError):
            pass


def _refusal(error: BaseException, body: _Body) -> BaseException:
    """The refusal to answer with for ``error``, after draining what is left of the body."""
    if isinstance(error, RequestEntityTooLarge):
        error = FileTooLarge("The upload is larger than the server accepts.")
    elif isinstance(error, ValueError):
        error = BadUpload(f"The upload is not valid multipart/form-data: {error}")
    elif isinstance(error, OSError):
        error = _disk_error(error)
    if isinstance(error, UploadRefused):
        body.drain()
    return error


def plain_csrf_errors(app: Flask) -> None:
    """Show Flask-WTF's CSRF errors as plain text under Dropzone's thumbnails,
    unless the app handles CSRFError itself."""
    try:
        from flask_wtf.csrf import CSRFError
    except ImportError:
        return
    if CSRFError in app.error_handler_spec[None][400]:
        return

    def csrf_error(error: HTTPException) -> HTTPException:
        is_upload = request.headers.get("X-Requested-With") == "XMLHttpRequest" and request.files
        return plain_text(error) if is_upload else error

    app.register_error_handler(CSRFError, csrf_error)

