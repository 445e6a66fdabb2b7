"""Refused uploads, as HTTP errors whose body is the plain-text message Dropzone shows."""

from __future__ import annotations

import json
from typing import Any, Optional

from werkzeug.exceptions import HTTPException, NotFound


class SettingError(ValueError):
    """A setting or keyword has a value the extension cannot use."""


class UploadRefused(HTTPException):
    """An upload the server will not take. Its response is ``text/plain``, shown by
    Dropzone under the file's thumbnail; catch it in a view to word it differently."""

    code = 400
    #: The client's name of the file refused, where one file is concerned.
    filename: Optional[str] = None

    def __init__(self, description: str) -> None:
        super().__init__(description)

    def about(self, filename: str) -> "UploadRefused":
        """Name the file this refusal concerns, unless it is named already."""
        if self.filename is None:
            self.filename = filename
        return self

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        return self.description or ""

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return [("Content-Type", "text/plain; charset=utf-8")]


class BadUpload(UploadRefused):
    """Malformed request, bad chunk or too many files: 400."""

    code = 400


class UploadForbidden(UploadRefused):
    """The app does not let this client upload here (its ``direct_folder`` said no): 403."""

    code = 403


class FileTooLarge(UploadRefused):
    """Over ``DROPZONE_MAX_FILE_SIZE`` or Flask's ``MAX_CONTENT_LENGTH``: 413."""

    code = 413


class FileTypeRefused(UploadRefused):
    """Not one of the allowed types, or its content does not match its name: 415."""

    code = 415


class InsufficientStorage(UploadRefused):
    """The store is full: 507."""

    code = 507


class StoreUnavailable(UploadRefused):
    """The store cannot be used right now (a bucket unreachable, a disk unreadable; its cause
    is in the log): 503. ``save()``, ``DropzoneField.claim()`` and ``delete_stored()`` raise
    it; a view may catch it to show the form again, else it is answered in plain text."""

    code = 503


class UploadExpired(BadUpload):
    """A chunk of an upload that was removed after ``DROPZONE_CHUNK_EXPIRES``: 410."""

    code = 410


class NameTaken(UploadRefused):
    """The name held for the file was taken meanwhile (removed while the file was on its
    way, then given to another): 409, and nothing of the upload is kept."""

    code = 409

    def __init__(
        self,
        description: str = (
            "The name this file was to have was taken meanwhile; add the file again."
        ),
    ) -> None:
        super().__init__(description)


class AlreadyClaimed(UploadRefused):
    """A form field's files were claimed by another request (the form sent twice, most
    often), or removed since the form was checked: this claim stored none of them: 409."""

    code = 409

    def __init__(
        self,
        description: str = (
            "This form's files were stored by another request (was it sent twice?); "
            "nothing was stored."
        ),
    ) -> None:
        super().__init__(description)


class UploadBusy(UploadRefused):
    """The upload kept changing under the request; the chunk may be sent again: 503."""

    code = 503


class SomeFilesRefused(UploadRefused):
    """Some files of a request that carried several were refused; the others were
    accepted (and, by ``save()``, stored). Its response is JSON, so that each of the
    zone's previews shows its own outcome: ``{"error": message, "files": [...]}``, one
    entry per file in the order sent (``filename`` and ``stored_name``, or ``filename``,
    ``status`` and ``error``), with the refusals' status (400 if they differ)."""

    def __init__(
        self, entries: list[dict[str, Any]], refusals: list[UploadRefused], accepted: list[Any]
    ) -> None:
        messages = {refused.description for refused in refusals}
        if len(messages) == 1:
            message = messages.pop() or ""
        else:
            message = f"{len(refusals)} of {len(entries)} files were refused."
        super().__init__(message)
        codes = {refused.code for refused in refusals}
        self.code = codes.pop() if len(codes) == 1 else 400
        self.entries = entries
        #: The refusals, each naming its file (``filename``).
        self.refusals = refusals
        #: What was accepted: the ``Upload`` objects (``files()``) or ``SavedFile`` objects
        #: (``save()``).
        self.accepted = accepted

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        return json.dumps({"error": self.description, "files": self.entries})

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return [("Content-Type", "application/json")]


class NotStored(NotFound):
    """``send_stored()`` found no stored file by that name, or the name cannot be one: 404
    in plain text. A ``NotFound``: the app's own 404 handler, if any, answers it."""

    description = "There is no such file."

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        return self.description or ""

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        return [("Content-Type", "text/plain; charset=utf-8")]


def plain_text(error: HTTPException, description: Optional[str] = None) -> UploadRefused:
    """The same error as ``error`` (same status) with a plain-text body."""
    refused = UploadRefused(description or error.description or "")
    refused.code = error.code or 400
    return refused
