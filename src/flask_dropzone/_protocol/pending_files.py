"""A client's pending files, the I/O beside :mod:`~flask_dropzone._rules.pending`: a file
kept pending (from the pending endpoint, or posted with a form by a browser without
JavaScript), opened again as the field's data, claimed into its folder, counted against the
client's quota."""

from __future__ import annotations

import io
import secrets
import time
from typing import IO, Any, Optional

from flask import Flask, current_app
from werkzeug.datastructures import FileStorage, Headers

from .. import _stores as stores
from .._rules import pending, validation
from .._rules.filenames import safe_filename
from .._rules.settings import Options, resolve
from .._rules.sniffing import HEAD_SIZE
from .._stores import FileStore
from ..errors import FileTooLarge, UploadRefused
from .context import the_app
from .folders import chunk_store, pending_folder
from .reporting import store_refusals
from .uploads import Upload

#: The refusal of a file past the client's quota of unfinished and pending files.
NO_ROOM = "Too many unfinished uploads; finish or cancel some first."


def folder_of(app: Flask, client: str) -> str:
    """Where ``client``'s pending files live: the app's chunk folder (or prefix), never a zone's."""
    return pending_folder(resolve(app.config), client)


def check_room(options: Options, client: str, received: list[Upload]) -> None:
    """A client's pending files count with its unfinished uploads against ``CHUNK_QUOTA`` and
    ``UNFINISHED_UPLOADS``: 413, and nothing kept, past either. A pending file past
    ``DROPZONE_PENDING_EXPIRES`` is no file of the client's any more: it never counts."""
    app = the_app()
    since = time.time() - pending.expires(app.config)
    with store_refusals():
        listed = [
            size
            for name, size, kept in stores.of(app).files.pending_files(folder_of(app, client))
            if pending.PENDING_ID.fullmatch(name) and kept >= since
        ]
        unfinished, count = chunk_store(options).unfinished(client)
    for upload in received:
        if upload.chunked:  # its own partial upload, ending now, is counted there
            unfinished, count = unfinished - upload.size, count - 1
    held = sum(listed) + max(0, unfinished) + sum(upload.size for upload in received)
    most, quota = options.unfinished_uploads, options.chunk_quota
    if (quota is not None and held > quota * validation.MIB) or (
        most is not None and len(listed) + max(0, count) + len(received) > most
    ):
        raise FileTooLarge(NO_ROOM)


def keep(app: Flask, client: str, binding: str, upload: Upload) -> tuple[pending.Reference, str]:
    """Keep ``upload`` pending under an id of its own: its reference, and the reference signed."""
    name = secrets.token_hex(16)
    with store_refusals(upload.filename or ""):
        saved = upload.publish(folder_of(app, client), name)
    found = pending.Reference(
        client, binding, name, upload.filename or "", saved.size, upload.detected_type
    )
    return found, pending.sign_reference(app, found)


def judge(upload: FileStorage, options: Options) -> Upload:
    """A file a browser without JavaScript posted with the form, judged by the field's
    settings as the pending endpoint judges one (the extension's parser received it)."""
    files = stores.of(current_app).files
    found = upload if isinstance(upload, Upload) else Upload.wrap(upload, files)
    validation.check_count(1, options)
    validation.check_size(found.size, options)
    found.detected_type = validation.check_type(found.safe_name, found.head, options)
    found.strip = options.strip_metadata
    return found


class StoredStream(io.RawIOBase):
    """A pending file's bytes, opened when first read; seekable (its size is known), as
    Flask-WTF's ``FileSize`` needs."""

    def __init__(self, files: FileStore, folder: str, name: str, size: int) -> None:
        self.files, self.folder, self.name, self.size = files, folder, name, size
        self._position = 0
        self._reader: Optional[IO[bytes]] = None
        self._at = 0  # where the reader is

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self._reader is None or self._at > self._position:
            self._close_reader()
            self._reader, self._at = self.files.open(self.folder, self.name), 0
        while (
            self._at < self._position
        ):  # forward to the position (a bucket's object reads from its start)
            skipped = self._reader.read(min(1024 * 1024, self._position - self._at))
            if not skipped:
                break
            self._at += len(skipped)
        data = self._reader.read(len(buffer))
        buffer[: len(data)] = data
        self._at += len(data)
        self._position = self._at
        return len(data)

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def close(self) -> None:
        self._close_reader()
        super().close()


class PendingFile(Upload):
    """A pending file of a field: a Werkzeug ``FileStorage`` (an :class:`~.uploads.Upload`)
    whose ``filename``, ``content_type``, ``size`` and bytes are the server's own record of
    it, opened when first read; ``reference`` is what the form carries for it."""

    def __init__(self, app: Flask, found: pending.Reference, token: str, field_name: str) -> None:
        files = stores.of(app).files
        self.folder = folder_of(app, found.client)
        stream = io.BufferedReader(StoredStream(files, self.folder, found.id, found.size))
        headers = Headers({"Content-Type": found.mimetype})
        super().__init__(stream, found.filename, field_name, headers, found.size, b"", store=files)
        self.found, self.reference = found, token
        self.detected_type = found.mimetype

    @property
    def content_type(self) -> str:  # type: ignore[override]
        return self.found.mimetype

    def read_head(self) -> bytes:
        """Its first bytes (to judge it by), read from the store."""
        self.stream.seek(0)
        self.head = self.stream.read(HEAD_SIZE)
        self.stream.seek(0)
        return self.head

    @property
    def there(self) -> bool:
        """Whether it is still pending (not claimed, discarded nor swept, nor held by a claim
        that died midway)."""
        return self._store.is_pending(self.folder, self.found.id)

    def discard(self) -> bool:
        return self._store.delete(self.folder, self.found.id, variants=False)


def open_reference(
    app: Flask, token: Any, client: Any, binding: str, field_name: str
) -> Optional[PendingFile]:
    """The pending file a reference of this field names, if it is still pending."""
    found = pending.read_reference(app, token, client, binding)
    if found is None:
        return None
    opened = PendingFile(app, found, token, field_name)
    return opened if opened.there else None


def refusal_of(filename: str, refused: UploadRefused) -> str:
    """A refusal as a form field shows it: the file's name, then why."""
    return f"{safe_filename(filename) or filename}: {refused.description}"
