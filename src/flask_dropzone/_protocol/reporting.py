"""Telling the app and its log about refusals and store failures, and the plain-text
refusal each store failure is answered with."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator, Optional

from flask import request

from .. import errors, signals
from .._stores import StoreFull, StoreLimit, StoreUnavailable
from ..errors import FileTooLarge, InsufficientStorage, SomeFilesRefused, UploadRefused
from .context import the_app

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
    app = the_app()
    log.info(
        "upload refused, %s: %s (file %s, client %s)",
        refused.code,
        refused.description,
        "-"
        if refused.filename is None
        else repr(refused.filename),  # repr: a name cannot forge a line
        request.remote_addr,
    )
    signals.upload_refused.send(
        app, filename=refused.filename, status=refused.code, reason=refused.description, zone=zone
    )


STORE_ERRORS = (StoreFull, StoreLimit, StoreUnavailable)


@contextmanager
def store_refusals(filename: Optional[str] = None, reading: bool = False) -> Iterator[None]:
    """A store failure in the block becomes the refusal it is answered with (:func:`store_error`,
    logged), naming ``filename``: one way for every path to say the store failed."""
    try:
        yield
    except STORE_ERRORS as error:
        refusal = store_error(error, reading)
        if filename is not None:
            refusal.about(filename)
        raise refusal from error


@contextmanager
def reading_refusals() -> Iterator[None]:
    """Reading a stored file: a missing one is the plain 404 of :class:`NotStored`, and a
    store or disk that fails is the refusal it is answered with."""
    try:
        yield
    except FileNotFoundError:
        raise errors.NotStored() from None
    except STORE_ERRORS as error:
        raise store_error(error, reading=True) from error
    except OSError as error:  # an unreadable file or disk
        raise store_error(StoreUnavailable(str(error)), reading=True) from error


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
