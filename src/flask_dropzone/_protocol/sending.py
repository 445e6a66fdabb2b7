"""Sending a stored file back, the I/O of :mod:`~flask_dropzone._rules.delivery`'s rules:
streamed from disk with its validators and ranges, or a redirect to a presigned URL; every
answer keeps its safety headers whatever another extension sets after the view."""

from __future__ import annotations

import hashlib
import os
from typing import IO, Any, BinaryIO, Mapping, Optional, cast

from flask import Response, current_app, request, send_file
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from .. import _stores as stores
from .._rules import delivery
from ..errors import NotStored
from .reporting import reading_refusals


def send_stored(
    folder: str, name: str, expires_in: int, shown_as: Optional[str] = None, typed: bool = False
) -> Response:
    """The stored file ``name`` of ``folder``: streamed (disk), or a redirect to a presigned
    URL (S3), typed and named as ``shown_as`` (default ``name``; with ``typed``, the extension
    of the type its content has added: a variant's); a name that cannot be a stored file, or
    is none, is 404."""
    if not delivery.servable(name):
        raise NotStored()
    files = stores.of(current_app).files
    stream: Optional[IO[bytes]] = None
    try:
        with reading_refusals():
            stream = files.open(folder, name)
            head = stream.read(delivery.HEAD_SIZE)
            shown = (shown_as or name) + (delivery.extension(head) if typed else "")
            sent = delivery.decide(shown, head)
            url = files.url(folder, name, expires_in, sent.content_type, sent.disposition)
            if url is None:
                stream.seek(0)
                response, stream = _stream(stream, sent), None  # the response closes it
                return response
    finally:
        if stream is not None:
            stream.close()
    response = current_app.response_class(
        status=302, headers={"Location": url, **delivery.SAFETY_HEADERS}
    )
    response.cache_control.no_store = True  # the URL expires: no cache keeps it
    return _guarded(response, delivery.SAFETY_HEADERS)


#: The attribute of a response that sends a stored file: the headers it must keep.
_GUARD = "_dropzone_safety_headers"


def _guarded(response: Response, headers: Mapping[str, str]) -> Response:
    """Mark ``response`` as a stored file's, whose safety headers no other extension may change."""
    setattr(response, _GUARD, dict(headers))
    return response


def keep_safety_headers(response: Response) -> Response:
    """The app's last ``after_request``: a stored file's sandboxing policy and ``nosniff`` win
    over what another extension set for every page (Flask-Talisman's Content-Security-Policy)."""
    headers = getattr(response, _GUARD, None)
    if headers:
        response.headers.update(headers)
    return response


def _stream(stream: IO[bytes], sent: delivery.Delivery) -> Response:
    """A response streaming the open file ``stream`` with the headers of ``sent``: its length
    and validators from the open file itself, conditional and range requests answered."""
    try:
        info: Optional[os.stat_result] = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        info = None
    etag: Any = False
    if info is not None:
        facts = f"{info.st_dev}:{info.st_ino}:{info.st_mtime_ns}:{info.st_size}"
        etag = hashlib.blake2b(facts.encode(), digest_size=12).hexdigest()  # no inode numbers shown
    response = send_file(
        cast(BinaryIO, stream),  # Flask 2.3 declares BinaryIO, later releases IO[bytes]
        mimetype=sent.content_type,
        conditional=False,
        etag=etag,
        last_modified=info.st_mtime if info is not None else None,
    )
    safety = delivery.headers(sent)
    response.headers.update(safety)  # the exact type: no charset added to text
    _guarded(response, safety)
    response.cache_control.private = True
    if info is None:
        return response
    response.content_length = info.st_size
    try:
        response.make_conditional(
            request, accept_ranges=True, complete_length=info.st_size
        )  # in place
    except RequestedRangeNotSatisfiable:
        response.close()
        raise
    return response
