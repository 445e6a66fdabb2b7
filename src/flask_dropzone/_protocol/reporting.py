"""Telling the app and its log about refusals and store failures, and the plain-text
refusal each store failure is answered with."""

from __future__ import annotations

import logging
from typing import Optional

from flask import current_app, request

from .. import errors, signals
from .._stores import StoreFull, StoreLimit, StoreUnavailable
from ..errors import FileTooLarge, InsufficientStorage, SomeFilesRefused, UploadRefused

log = logging.getLogger("flask_dropzone")


def report(refused: UploadRefused, zone: Optional[str] = None) -> None:
    """Tell the app (``upload_refused``, with the named ``zone`` if any) and the log (one
    INFO line) about each refusal."""
    if getattr(refused, "_dropzone_reported", False):
        return  # once, whoever met it first (the form parser, a view)
    refused._dropzone_reported = True  # type: ignore[attr-defined]
    if isinstance(refused, SomeFilesRefused):
        for each in refused.refusals:
            report(each, zone)
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    log.info(
        "upload refused, %s: %s (file %s, client %s)",
        refused.code,
        refused.description,
        "-" if refused.filename is None else repr(refused.filename),  # repr: a name cannot forge a line
        request.remote_addr,
    )
    signals.upload_refused.send(
        app, filename=refused.filename, status=refused.code, reason=refused.description, zone=zone
    )


STORE_ERRORS = (StoreFull, StoreLimit, StoreUnavailable)


def store_error(error: Exception, reading: bool = False) -> UploadRefused:
    """The refusal for a store that is full, cannot hold so large a file, or cannot be
    used (``reading``: to send a stored file). Each is logged: an operator wants to know
    the disk is full."""
    log.error("%s failed: %s", "reading a stored file" if reading else "storing an upload", error)
    if isinstance(error, StoreFull):
        return InsufficientStorage("The server has no room for this file.")
    if isinstance(error, StoreLimit):
        return FileTooLarge("The file is larger than the server can store.")
    doing = "send" if reading else "store"
    return errors.StoreUnavailable(f"The server cannot {doing} files right now; try again later.")
